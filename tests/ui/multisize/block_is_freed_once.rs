//! A raw block's handle is consumed by `dealloc`: it cannot be freed
//! twice (nor copied to be).
use managed::prelude::*;
use std::alloc::Layout;

fn main() {
    let mut pool = MultisizePool::new();
    let block = pool.alloc_layout(Layout::new::<u64>());
    pool.dealloc(block);
    pool.dealloc(block);
}
