//! `GcDyn<'gc, T>` hands out `&mut T` and is `Copy`, so it is invariant in
//! `T`, the trait object's lifetime bound included: a copy whose bound was
//! shortened could store a short-lived object's borrow through a method
//! that the original copy's object then reads after the borrow ends.
use managed::prelude::*;

fn shorten<'gc, 'short>(
    g: GcDyn<'gc, dyn AsMut<&'static str>>,
) -> GcDyn<'gc, dyn AsMut<&'short str>> {
    g
}

fn shorten_bound<'gc, 'short: 'gc>(
    g: GcDyn<'gc, dyn std::fmt::Debug + 'static>,
) -> GcDyn<'gc, dyn std::fmt::Debug + 'short> {
    g
}

fn main() {}
