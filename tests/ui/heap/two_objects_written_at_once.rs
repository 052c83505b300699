//! Writing borrows the token exclusively: two objects (which may be the same
//! object through two handles) are written at once only by `get_disjoint_mut`.
use managed::prelude::*;

fn main() {
    let mut heap: Heap<Vec<Gc<'static, u32>>> =
        Heap::new(|mc| vec![Gc::new(mc, 1u32), Gc::new(mc, 2u32)]);
    heap.mutate(|mc, root| {
        let (x, y) = (root[0], root[1]);
        let a = x.get_mut(mc);
        let b = y.get_mut(mc);
        *a += *b;
    });
}
