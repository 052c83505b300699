//! A PoolRc borrows its pool: no clone of it can outlive the pool.
use managed::prelude::*;

fn main() {
    let rc: PoolRc<'_, u32> = {
        let pool: Pool<u32> = Pool::new();
        let a = pool.alloc_rc(1);
        a.clone()
    };
    println!("{rc}");
}
