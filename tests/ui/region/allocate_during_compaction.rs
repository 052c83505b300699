//! Allocating needs the allocation state, which `compact` consumed.
use managed::prelude::*;

fn main() {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    make_guard!(compact);
    let compacting = arena.compact(&compact, state);
    let _b = arena.allocate::<u8>(&state);
    let _ = arena.finish(compact, compacting);
}
