//! A raw block's handle is consumed by `deallocate`: it cannot be freed
//! twice (nor copied to be).
use managed::prelude::*;
use std::alloc::Layout;

fn main() {
    let mut pool = MultisizePool::new();
    let block = pool.allocate(Layout::new::<u64>());
    pool.deallocate(block);
    pool.deallocate(block);
}
