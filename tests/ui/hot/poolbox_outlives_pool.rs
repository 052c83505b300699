//! A PoolBox borrows its pool: it cannot outlive it.
use managed::prelude::*;

fn main() {
    let b: PoolBox<'_, u32> = {
        let pool: Pool<u32> = Pool::new();
        pool.alloc_box(1)
    };
    println!("{b}");
}
