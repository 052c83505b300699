//! A trait-object handle is not `Send`, even to a `Send` trait object: the
//! heap is not shared between threads.
use managed::prelude::*;

fn assert_send<T: Send>(_: T) {}

#[derive(Managed)]
struct Items<'gc> {
    all: Vec<GcDyn<'gc, dyn std::fmt::Debug + Send>>,
}

fn main() {
    let mut heap: Heap<Items<'static>> = Heap::new(|mc| Items {
        all: vec![unsize!(Gc::new(mc, 1u32) => dyn std::fmt::Debug + Send)],
    });
    heap.mutate(|_, items| assert_send(items.all[0]));
}
