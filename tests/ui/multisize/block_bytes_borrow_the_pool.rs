//! The bytes of a raw block are borrowed with the pool: freeing the block
//! (or anything else needing the pool mutably) ends them.
use managed::prelude::*;
use std::alloc::Layout;

fn main() {
    let mut pool = MultisizePool::new();
    let block = pool.alloc_layout(Layout::new::<[u8; 32]>());
    let other = pool.alloc_layout(Layout::new::<[u8; 32]>());
    let bytes = pool.bytes(&block).unwrap();
    pool.dealloc(other);
    let _ = bytes[0];
}
