//! A reference into an object cannot leave the mutation: objects move when
//! the heap collects.
use managed::prelude::*;

fn main() {
    let mut heap: Heap<Vec<Gc<'static, u32>>> = Heap::new(|mc| vec![Gc::new(mc, 1u32)]);
    let mut outside: Option<&u32> = None;
    heap.mutate(|mc, root| outside = Some(root[0].get(mc)));
    heap.collect();
    println!("{outside:?}");
}
