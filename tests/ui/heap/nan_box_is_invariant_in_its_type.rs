//! `NanBox<'gc, T>` gives out `Gc<'gc, T>`s, which hand out `&mut T`, so it
//! is invariant in `T` as `Gc` is.
use managed::prelude::*;

fn narrow<'gc, 'short>(v: NanBox<'gc, &'static str>) -> NanBox<'gc, &'short str> {
    v
}

fn main() {}
