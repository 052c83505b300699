//! A `NanBox` is not `Send`, as a `Gc` is not: the heap is not shared
//! between threads.
use managed::prelude::*;

fn assert_send<T: Send>(_: T) {}

fn main() {
    let mut heap: Heap<Vec<NanBox<'static, u32>>> =
        Heap::new(|mc| vec![NanBox::from_gc(Gc::new(mc, 1u32))]);
    heap.mutate(|_, root| assert_send(root[0]));
}
