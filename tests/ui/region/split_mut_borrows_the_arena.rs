//! `split_mut` borrows the arena exclusively for as long as the lent object
//! or the `Others` view lives: no object can be removed (or the region
//! compacted) under them.
use managed::prelude::*;

fn main() {
    make_guard!(guard);
    let (mut arena, state) = Arena::<0>::with_capacity(guard, 4096);
    let a = arena.alloc_shared(&state, 1u64).unwrap();
    let b = arena.alloc_shared(&state, 2u64).unwrap();
    let (first, others) = arena.split_mut(a);
    arena.remove(b);
    *first += others[b];
}
