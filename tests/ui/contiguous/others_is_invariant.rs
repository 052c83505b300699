//! `contiguous::Others` hands out `&mut T`, so it is invariant in `T`, as
//! the guards are: a view narrowed to a shorter lifetime could store a
//! short borrow where the pool's type promises a long one.
use managed::contiguous::Others;
use managed::prelude::*;

fn narrow<'b, 'short>(o: Others<'b, &'static str, DefaultKey>) -> Others<'b, &'short str, DefaultKey> {
    o
}

fn main() {}
