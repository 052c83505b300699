//! `Gc<'gc, T>` hands out `&mut T` and is `Copy`, so it is invariant in
//! `T`: a copy narrowed to a shorter lifetime could store a short borrow
//! that the original copy reads after it ends.
use managed::prelude::*;

fn narrow<'gc, 'short>(g: Gc<'gc, &'static str>) -> Gc<'gc, &'short str> {
    g
}

fn main() {}
