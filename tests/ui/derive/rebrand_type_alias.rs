//! A type alias fed the region lifetime is checked as the type it stands
//! for: a borrow of something outside the region has no `Rebrand`.
use managed::prelude::*;

type Text<'x> = &'x str;

#[derive(Rebrand)]
struct Holder<'a> {
    item: Item<'a, u32>,
    name: Text<'a>,
}

// SAFETY: visits the one item.
unsafe impl Managed for Holder<'_> {
    const HAS_REFS: bool = true;
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        self.item.visit_refs(visitor);
    }
}

fn main() {}
