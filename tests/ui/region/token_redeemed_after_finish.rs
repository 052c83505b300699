//! A token cannot be redeemed after `finish` consumed the compaction guard.
use managed::prelude::*;

fn main() {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let a = arena.allocate::<u8>(&state).unwrap();
    make_guard!(compact);
    let tok_a = arena.tokenize(&compact, a);
    let state = arena.compact(&compact, state);
    let _state = arena.finish(compact, state);
    let _a = tok_a(&arena);
}
