//! A redeemed item borrows the arena: it cannot live across the next
//! compaction either.
use managed::prelude::*;

fn main() {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let a = arena.allocate::<u8>(&state).unwrap();
    make_guard!(c1);
    let tok_a = arena.tokenize(&c1, a);
    let state = arena.compact(&c1, state);
    let a = tok_a(&arena);
    let state = arena.finish(c1, state);
    make_guard!(c2);
    let state = arena.compact(&c2, state);
    println!("{}", *a);
    let _ = arena.finish(c2, state);
}
