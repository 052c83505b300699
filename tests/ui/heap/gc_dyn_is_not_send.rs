//! A trait-object handle is not `Send`, even to a `Send` trait object: the
//! heap is not shared between threads.
use managed::prelude::*;

fn assert_send<T: Send>(_: T) {}

fn main() {
    let mut heap: Heap<Vec<GcDyn<'static, dyn std::fmt::Debug + Send>>> =
        Heap::new(|mc| vec![unsize!(Gc::new(mc, 1u32) => dyn std::fmt::Debug + Send)]);
    heap.mutate(|_, root| assert_send(root[0]));
}
