//! A `NanBox` holding a handle cannot leave the mutation that made it,
//! any more than the handle can.
use managed::prelude::*;

fn main() {
    let mut heap: Heap<Vec<Gc<'static, u32>>> = Heap::new(|_| Vec::new());
    let escaped = heap.mutate(|mc, _| NanBox::from_gc(Gc::new(mc, 1u32)));
    heap.collect();
    let _ = escaped;
}
