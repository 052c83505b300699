//! `GcDynWeak<'gc, T>` upgrades to a `GcDyn`, so it is invariant in its
//! brand and in `T` (the trait object's lifetime bound included), as
//! `GcDyn` is.
use managed::prelude::*;

fn shorten_bound<'gc, 'short: 'gc>(
    w: GcDynWeak<'gc, dyn std::fmt::Debug + 'static>,
) -> GcDynWeak<'gc, dyn std::fmt::Debug + 'short> {
    w
}

fn rebrand<'long: 'short, 'short>(
    w: GcDynWeak<'long, dyn std::fmt::Debug>,
) -> GcDynWeak<'short, dyn std::fmt::Debug> {
    w
}

fn main() {}
