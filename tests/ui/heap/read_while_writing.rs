//! A reference read through a handle cannot be held while any object is
//! written: the written object may be the same one.
use managed::prelude::*;

fn main() {
    let mut heap: Heap<Vec<Gc<'static, u32>>> = Heap::new(|mc| vec![Gc::new(mc, 1u32)]);
    heap.mutate(|mc, root| {
        let alias = root[0];
        let read = &mc[root[0]];
        mc[alias] = 5;
        println!("{read}");
    });
}
