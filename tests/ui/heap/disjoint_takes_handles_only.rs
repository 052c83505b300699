//! `get_disjoint_mut` takes heap handles, in an array or a tuple; the
//! error for anything else says so.
use managed::prelude::*;

fn main() {
    let mut heap: Heap<Vec<Gc<'static, u32>>> = Heap::new(|mc| vec![Gc::new(mc, 1u32)]);
    heap.mutate(|mc, items| {
        let first = items[0];
        let _ = mc.get_disjoint_mut((first, 7u32));
    });
}
