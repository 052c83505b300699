//! The token is invariant in its brand: it cannot be used as the token of
//! another mutation.
use managed::prelude::*;

fn rebrand<'a, 'long: 'a, 'short>(mc: &'a Mutation<'long>) -> &'a Mutation<'short> {
    mc
}

fn main() {}
