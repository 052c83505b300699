// The arena cannot free its blocks while a scope is allocating from them.
use managed::prelude::*;

fn main() {
    let mut arena = MemoryArena::new(1);
    let alloc = arena.allocator();
    let x = alloc.alloc(1u64);
    arena.shrink_to_fit();
    assert_eq!(*x, 1);
}
