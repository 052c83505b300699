//! A whole-value token cannot be redeemed after `finish` either.
use managed::prelude::*;

fn main() {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let v = vec![arena.allocate::<u8>(&state).unwrap()];
    make_guard!(compact);
    let tok = arena.tokenize_all(&compact, v);
    let state = arena.compact(&compact, state);
    let _state = arena.finish(compact, state);
    let _v = tok.redeem(&arena);
}
