//! A handle cannot leave a read either: after a collection it would point
//! at an object that moved or was freed.
use managed::prelude::*;

fn main() {
    let mut heap: Heap<Vec<Gc<'static, u32>>> = Heap::new(|mc| vec![Gc::new(mc, 1u32)]);
    let escaped = heap.read(|_, root| root[0]);
    heap.collect();
    let _ = escaped;
}
