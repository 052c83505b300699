//! `Gc<'gc, T>` is invariant in its brand, so handles of two mutations
//! never unify.
use managed::prelude::*;

fn rebrand<'long: 'short, 'short>(g: Gc<'long, u8>) -> Gc<'short, u8> {
    g
}

fn main() {}
