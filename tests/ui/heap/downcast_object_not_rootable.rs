//! An object of a downcastable trait must be `Rootable` at the brand (as
//! derived types are): a type implemented by hand without it is refused
//! where it implements the trait, with a note saying what to do.
use managed::prelude::*;

trait Shape<'gc>: Downcast<'gc> {
    fn area(&self) -> f64;
}

struct Square(f64);

// SAFETY: no references to visit.
unsafe impl Managed for Square {
    const HAS_REFS: bool = false;
    fn visit_refs<V: Visitor + ?Sized>(&mut self, _: &mut V) {}
}

impl<'gc> Shape<'gc> for Square {
    fn area(&self) -> f64 {
        self.0 * self.0
    }
}

fn main() {}
