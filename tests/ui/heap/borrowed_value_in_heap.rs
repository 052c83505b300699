//! Objects outlive the mutation that made them (a later collection drops
//! them), so they cannot hold borrowed data, such as an item of a region
//! that lives only as long as the closure.
use managed::prelude::*;

fn main() {
    let mut heap: Heap<Vec<Gc<'static, u32>>> = Heap::new(|_| Vec::new());
    heap.mutate(|mc, _| {
        make_guard!(guard);
        let (arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
        let item = arena.allocate::<u64>(&state).unwrap();
        let _ = Gc::new(mc, item);
    });
}
