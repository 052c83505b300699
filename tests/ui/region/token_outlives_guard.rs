//! A token borrows its compaction guard and cannot outlive it.
use managed::prelude::*;

fn main() {
    make_guard!(guard);
    let (arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let a = arena.allocate::<u8>(&state).unwrap();
    let tok_a;
    {
        make_guard!(compact);
        tok_a = arena.tokenize(&compact, a);
    }
    let _a = tok_a(&arena);
}
