//! A held handle names its object's type: one holding a `u32` cannot be
//! made from, or redeemed as, a handle to anything else.
use managed::prelude::*;

fn main() {
    let mut heap: Heap<()> = Heap::new(|_| ());
    let held: Held<u64> = heap.mutate(|mc, ()| mc.hold(Gc::new(mc, 1u32)));
    heap.mutate(|mc, ()| {
        let _: Gc<'_, u32> = mc.fetch(&held);
    });
}
