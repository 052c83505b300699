use std::cell::Cell;

use managed::prelude::*;

// A lookup hands out `&T` on the threads that share it, so it is `Sync`
// (and `Send`) only when `T` is.
fn main() {
    let pool = ContiguousUniformPool::new();
    let key = pool.insert(Cell::new(1_u32));
    let guard = pool.borrow();
    let lookup = guard.lookup();
    std::thread::scope(|s| {
        s.spawn(|| lookup.get(key).map(Cell::get));
    });
}
