//! A shared handle never gives `&mut T`.
use managed::prelude::*;

fn main() {
    let pool: Pool<u32> = Pool::new();
    let a = pool.alloc_rc(1);
    let b = a.clone();
    *a = 2;
    println!("{b}");
}
