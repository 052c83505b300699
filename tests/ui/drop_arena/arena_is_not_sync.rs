//! The arena's free list is unsynchronized: it cannot be shared between
//! threads.
use managed::prelude::*;

fn main() {
    let arena = &DropArena::new();
    std::thread::scope(|s| {
        s.spawn(|| arena.drop_box(arena.alloc(1)));
        arena.drop_box(arena.alloc(2));
    });
}
