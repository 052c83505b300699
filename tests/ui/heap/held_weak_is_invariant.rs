//! `HeldWeak<T>` upgrades to handles through which its object is written,
//! so it is invariant in `T`, as `Held` is: a handle narrowed to a shorter
//! lifetime could be redeemed at a type that stores a short borrow where
//! the original handle's type promises a long one.
use std::marker::PhantomData;

use managed::prelude::*;

/// A root type with a lifetime of its own (covariant in it).
struct Tagged<'a>(PhantomData<&'a ()>);

impl<'a> Rootable for Tagged<'a> {
    type Root<'gc> = u32;
}

fn narrow<'short>(h: HeldWeak<Tagged<'static>>) -> HeldWeak<Tagged<'short>> {
    h
}

fn main() {}
