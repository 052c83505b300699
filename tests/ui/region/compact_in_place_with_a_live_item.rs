//! `compact_in_place` borrows the arena exclusively: no item may be alive
//! across it, since its object may move.
use managed::prelude::*;

fn main() {
    make_guard!(guard);
    let (mut arena, mut state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let a = arena.allocate::<u8>(&state).unwrap();
    arena.compact_in_place(&mut state);
    println!("{}", *a);
}
