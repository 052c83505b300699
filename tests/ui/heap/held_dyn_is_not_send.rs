//! A held trait-object handle is not `Send`, as a `Held` is not: it shares
//! its cell with a heap, which is not shared between threads.
use managed::prelude::*;

trait Shape<'gc> {
    fn area(&self) -> u64;
}

#[derive(Managed)]
struct Square(u64);

impl<'gc> Shape<'gc> for Square {
    fn area(&self) -> u64 {
        self.0 * self.0
    }
}

type AnyShape = dyn_rootable!(for<'gc> dyn Shape<'gc> + 'gc);

fn assert_send<T: Send>(_: T) {}

fn main() {
    let mut heap: Heap<()> = Heap::new(|_| ());
    let held: HeldDyn<AnyShape> =
        heap.mutate(|mc, ()| mc.hold_dyn(unsize!(Gc::new(mc, Square(2)) => dyn Shape<'_>)));
    assert_send(held.downgrade());
    assert_send(held);
}
