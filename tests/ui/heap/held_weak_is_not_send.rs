//! A weak held handle is not `Send`: it shares its cell with a heap, which
//! is not shared between threads.
use managed::prelude::*;

fn assert_send<T: Send>(_: T) {}

fn main() {
    let mut heap: Heap<()> = Heap::new(|_| ());
    let weak: HeldWeak<u32> = heap.mutate(|mc, ()| mc.hold_weak(Gc::new(mc, 1u32)));
    assert_send(weak);
}
