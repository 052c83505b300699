//! The references of a tuple of handles borrow the token exclusively too:
//! while they live, no object can be reached through another handle.
use managed::prelude::*;

fn main() {
    let mut heap: Heap<Vec<Gc<'static, u32>>> =
        Heap::new(|mc| vec![Gc::new(mc, 1u32), Gc::new(mc, 2u32)]);
    heap.mutate(|mc, items| {
        let shown = unsize!(items[1] => dyn std::fmt::Debug);
        let (a, b) = mc.get_disjoint_mut((items[0], shown));
        let again = &mc[items[0]];
        *a += 1;
        let _ = (b, again);
    });
}
