//! A handle is not `Send`: the heap is not shared between threads.
use managed::prelude::*;

fn assert_send<T: Send>(_: T) {}

fn main() {
    let mut heap: Heap<Vec<Gc<'static, u32>>> = Heap::new(|mc| vec![Gc::new(mc, 1u32)]);
    heap.mutate(|_, root| assert_send(root[0]));
}
