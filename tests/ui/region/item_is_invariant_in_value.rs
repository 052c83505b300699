//! An `Item` is invariant in its value type (like `&mut T`): the region
//! substitutes the lifetime of the items inside a value independently of
//! the item's own lifetime, so the value type must stay what it was.
use managed::prelude::*;

fn narrow<'r, 'short>(i: Item<'r, &'static str>) -> Item<'r, &'short str> {
    i
}

fn main() {}
