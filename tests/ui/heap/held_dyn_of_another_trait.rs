//! A `HeldDyn` names the trait-object type it holds: a handle to an object
//! seen through another trait is refused, and so is redeeming it as one.
use std::fmt::Debug;

use managed::prelude::*;

trait Shape<'gc> {
    fn area(&self) -> u64;
}

#[derive(Managed, Debug)]
struct Square(u64);

impl<'gc> Shape<'gc> for Square {
    fn area(&self) -> u64 {
        self.0 * self.0
    }
}

type AnyShape = dyn_rootable!(for<'gc> dyn Shape<'gc> + 'gc);

fn main() {
    let mut heap: Heap<()> = Heap::new(|_| ());
    let _: HeldDyn<AnyShape> =
        heap.mutate(|mc, ()| mc.hold_dyn(unsize!(Gc::new(mc, Square(2)) => dyn Debug)));
}
