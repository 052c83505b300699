//! A nested scope borrows the scope it is nested in.
use managed::prelude::*;

fn main() {
    let mut arena = MemoryArena::new(1);
    let nested = {
        let outer = arena.allocator();
        outer.nested()
    };
    nested.alloc(1u32);
}
