// One scope at a time: a second would reuse the first one's memory.
use managed::prelude::*;

fn main() {
    let mut arena = MemoryArena::new(1);
    let first = arena.allocator();
    let second = arena.allocator();
    let a = first.alloc(1u8);
    let b = second.alloc(2u8);
    assert_ne!(*a, *b);
}
