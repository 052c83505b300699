//! `NanBox<'gc, T>` holds a `Gc<'gc, T>` and is invariant in its brand as
//! `Gc` is: words of two mutations never unify.
use managed::prelude::*;

fn rebrand<'long: 'short, 'short>(v: NanBox<'long, u32>) -> NanBox<'short, u32> {
    v
}

fn main() {}
