// A reference into a scope cannot be used after the scope ends: the memory
// is reused by the next scope.
use managed::prelude::*;

fn main() {
    let mut arena = MemoryArena::new(1);
    let r = {
        let alloc = arena.allocator();
        alloc.alloc([0usize; 16])
    };
    r[0] = 1;
}
