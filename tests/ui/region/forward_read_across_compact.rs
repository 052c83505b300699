//! A reference read through a `Forward` borrows the arena, so it cannot
//! live across a compaction.
use managed::prelude::*;

fn main() {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let f = arena.alloc_shared(&state, 5u32).unwrap();
    let r: &u32 = f.get(&arena).unwrap();
    make_guard!(compact);
    let state = arena.compact(&compact, state);
    println!("{r}");
    let _ = arena.finish(compact, state);
}
