//! A `Token` is invariant in the value type it holds: `redeem`
//! reinterprets the stored value as a type computed from that parameter,
//! so it must be exactly the type that was tokenized.
use managed::prelude::*;

fn narrow<'c, 'id, 'a>(t: Token<'c, 'id, Item<'static, u32>>) -> Token<'c, 'id, Item<'a, u32>> {
    t
}

fn main() {}
