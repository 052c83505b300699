//! A read's token is shared: objects are written only in a mutation.
use managed::prelude::*;

fn main() {
    let heap: Heap<Vec<Gc<'static, u32>>> = Heap::new(|mc| vec![Gc::new(mc, 1u32)]);
    heap.read(|mc, root| {
        *root[0].get_mut(mc) += 1;
    });
}
