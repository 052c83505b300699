//! The references `get_disjoint_mut` gives borrow the token exclusively, as
//! `mc[gc]` does: while they live, no other object can be read or written,
//! so one of them cannot be reached a second time through another handle.
use managed::prelude::*;

#[derive(Managed)]
struct Node {
    value: u32,
}

fn main() {
    let mut heap: Heap<Vec<Gc<'static, Node>>> =
        Heap::new(|mc| vec![Gc::new(mc, Node { value: 1 }), Gc::new(mc, Node { value: 2 })]);
    heap.mutate(|mc, nodes| {
        let [a, b] = mc.get_disjoint_mut([nodes[0], nodes[1]]);
        let again = &mc[nodes[0]];
        a.value += b.value;
        assert_eq!(again.value, 3);
    });
}
