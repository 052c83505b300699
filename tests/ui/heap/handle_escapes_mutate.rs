//! A handle cannot leave the mutation that made it: after a collection it
//! would point at an object that moved or was freed.
use managed::prelude::*;

fn main() {
    let mut heap: Heap<Vec<Gc<'static, u32>>> = Heap::new(|_| Vec::new());
    let escaped = heap.mutate(|mc, _| Gc::new(mc, 1u32));
    heap.collect();
    let _ = escaped;
}
