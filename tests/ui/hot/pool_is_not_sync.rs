//! The pool keeps its bookkeeping in cells: it cannot be shared between
//! threads.
use managed::prelude::*;

fn main() {
    let pool: Pool<u32> = Pool::new();
    std::thread::scope(|s| {
        s.spawn(|| pool.alloc_box(1).to_string());
    });
}
