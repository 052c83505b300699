//! A nested scope's memory is handed out again when it ends: a reference
//! into it cannot outlive it.
use managed::prelude::*;

fn main() {
    let mut arena = MemoryArena::new(1);
    let outer = arena.allocator();
    let r = {
        let nested = outer.nested();
        nested.alloc(1u32)
    };
    outer.alloc(2u32);
    assert_eq!(*r, 1);
}
