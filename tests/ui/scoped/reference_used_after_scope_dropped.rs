// Dropping the scope ends every borrow of it.
use managed::prelude::*;

fn main() {
    let mut arena = MemoryArena::new(1);
    let alloc = arena.allocator();
    let x = alloc.alloc(5u32);
    drop(alloc);
    assert_eq!(*x, 5);
}
