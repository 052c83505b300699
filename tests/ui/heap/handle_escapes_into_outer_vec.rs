//! A handle cannot be stored outside the heap's root, not even in a
//! variable the mutation closure captures.
use managed::prelude::*;

fn main() {
    let mut heap: Heap<Vec<Gc<'static, u32>>> = Heap::new(|_| Vec::new());
    let mut outside = Vec::new();
    heap.mutate(|mc, _| outside.push(Gc::new(mc, 1u32)));
    heap.collect();
    drop(outside);
}
