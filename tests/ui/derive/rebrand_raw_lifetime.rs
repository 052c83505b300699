//! A raw lifetime (`'r#a`) is the region lifetime `'a`: the field is
//! checked like any other field written with it, so a borrow of something
//! outside the region cannot be rebranded to the arena borrow.
use managed::prelude::*;

#[derive(Rebrand)]
struct Holder<'a> {
    item: Item<'a, u32>,
    name: &'r#a str,
}

// SAFETY: visits the one item.
unsafe impl Managed for Holder<'_> {
    const HAS_REFS: bool = true;
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        self.item.visit_refs(visitor);
    }
}

fn main() {}
