//! The heap cannot collect while a mutation runs: references and handles
//! held by the mutation would see objects move.
use managed::prelude::*;

fn main() {
    let mut heap: Heap<Vec<Gc<'static, u32>>> = Heap::new(|_| Vec::new());
    heap.mutate(|mc, root| {
        root.push(Gc::new(mc, 1u32));
        heap.collect();
    });
}
