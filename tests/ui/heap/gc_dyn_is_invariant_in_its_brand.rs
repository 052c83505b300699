//! `GcDyn<'gc, T>` is invariant in its brand, as `Gc` is: handles of two
//! mutations never unify.
use managed::prelude::*;

fn rebrand<'long: 'short, 'short>(
    g: GcDyn<'long, dyn std::fmt::Debug>,
) -> GcDyn<'short, dyn std::fmt::Debug> {
    g
}

fn main() {}
