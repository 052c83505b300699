//! The arena's brand `'id` (and the compaction guard's `'g`) are invariant:
//! an arena, its allocation state or its compaction guard can never be
//! taken for those of another arena, in either direction.
use managed::prelude::*;

fn arena_narrow<'a: 'b, 'b>(a: Arena<'a, 64>) -> Arena<'b, 64> {
    a
}

fn arena_widen<'a: 'b, 'b>(a: Arena<'b, 64>) -> Arena<'a, 64> {
    a
}

fn state_narrow<'a: 'b, 'b>(s: State<'a>) -> State<'b> {
    s
}

fn compacting_narrow<'a: 'b, 'b, 'g>(c: Compacting<'a, 'g>) -> Compacting<'b, 'g> {
    c
}

fn compacting_guard_narrow<'id, 'g: 'h, 'h>(c: Compacting<'id, 'g>) -> Compacting<'id, 'h> {
    c
}

fn main() {}
