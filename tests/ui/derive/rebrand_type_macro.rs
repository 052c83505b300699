//! A type macro that expands to a type with the region lifetime, with no
//! lifetime in its own tokens, cannot hide it: the field is required to be
//! unchanged by the substitution, which the compiler checks on the expanded
//! type.
use managed::prelude::*;

macro_rules! text {
    () => {
        &'a str
    };
}

#[derive(Rebrand)]
struct Holder<'a> {
    item: Item<'a, u32>,
    name: text!(),
}

// SAFETY: visits the one item.
unsafe impl Managed for Holder<'_> {
    const HAS_REFS: bool = true;
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        self.item.visit_refs(visitor);
    }
}

fn main() {}
