//! A token is branded with its arena: redeeming it in another arena does
//! not compile.
use managed::prelude::*;

fn main() {
    make_guard!(g1);
    make_guard!(g2);
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(g1);
    let (other, _other_state): (Arena<'_, 1024>, _) = Arena::new(g2);
    let a = arena.allocate::<u8>(&state).unwrap();
    make_guard!(compact);
    let tok_a = arena.tokenize(&compact, a);
    let state = arena.compact(&compact, state);
    let _a = tok_a(&other);
    let _ = arena.finish(compact, state);
}
