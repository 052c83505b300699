//! `Others` lends objects mutably, so it is neither `Copy` nor `Clone`: a
//! copy would lend the same object twice.
use managed::prelude::*;

fn main() {
    let mut heap: Heap<Vec<Gc<'static, u32>>> =
        Heap::new(|mc| vec![Gc::new(mc, 1u32), Gc::new(mc, 2u32)]);
    heap.mutate(|mc, items| {
        let (_, mut others) = mc.split_mut(items[0]);
        let mut copy = others;
        let a = others.get_mut(items[1]).unwrap();
        let b = copy.get_mut(items[1]).unwrap();
        *a += *b;
    });
}
