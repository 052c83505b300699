//! A shared iterator hands out `&T` on whichever thread it is sent to, so
//! it is `Send` only when `T` is `Sync` (as `VecDeque`'s and `slab`'s are).
use std::cell::Cell;

use managed::prelude::*;

fn needs_send<T: Send>(_: T) {}

fn main() {
    let mut deque = UniformPageDeque::new();
    deque.push_back(Cell::new(1u32));
    needs_send(deque.iter());

    let mut pool = UniformPool::new();
    pool.insert(Cell::new(1u32));
    needs_send(pool.iter());
}
