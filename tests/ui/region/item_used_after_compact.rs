//! An item cannot be used once `compact` has consumed the allocation state:
//! its object may have moved.
use managed::prelude::*;

fn main() {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let a = arena.allocate::<u8>(&state).unwrap();
    make_guard!(compact);
    let state = arena.compact(&compact, state);
    println!("{}", *a);
    let _ = arena.finish(compact, state);
}
