//! `split_mut` borrows the token exclusively for as long as the object it
//! hands out or its `Others` live: neither the token nor another split
//! reaches the heap meanwhile.
use managed::prelude::*;

fn main() {
    let mut heap: Heap<Vec<Gc<'static, u32>>> =
        Heap::new(|mc| vec![Gc::new(mc, 1u32), Gc::new(mc, 2u32)]);
    heap.mutate(|mc, items| {
        let (a, others) = mc.split_mut(items[0]);
        let again = &mut mc[items[0]];
        *a += others[items[1]];
        *again += 1;
    });
}
