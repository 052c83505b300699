//! A whole-value closure token borrows the compaction guard, which
//! `finish` consumes: it cannot be called afterwards.
use managed::prelude::*;

fn main() {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let v = vec![arena.allocate::<u32>(&state).unwrap()];
    make_guard!(compact);
    let token = arena.tokenize_boxed(&compact, v);
    let state = arena.compact(&compact, state);
    let _state = arena.finish(compact, state);
    let _v = token(&arena);
}
