//! Between `compact` and `finish` the arena has no allocation state, so
//! `compact_in_place` cannot run while redeemed items are alive.
use managed::prelude::*;

fn main() {
    make_guard!(guard);
    let (mut arena, mut state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let a = arena.allocate::<u8>(&state).unwrap();
    make_guard!(compact);
    let token = arena.tokenize(&compact, a);
    let compacting = arena.compact(&compact, state);
    let a = token(&arena);
    arena.compact_in_place(&mut state);
    println!("{}", *a);
    let _ = arena.finish(compact, compacting);
}
