//! `unsize!` converts only to a type the object coerces to: a trait it
//! implements, or a slice of its array type. Anything else would give the
//! handle a vtable or a length that does not describe the object.
use managed::prelude::*;

#[derive(Managed)]
struct Opaque;

fn main() {
    let mut heap: Heap<Vec<Gc<'static, u32>>> = Heap::new(|_| Vec::new());
    heap.mutate(|mc, _| {
        let _ = unsize!(Gc::new(mc, Opaque) => dyn std::fmt::Display);
        let _ = unsize!(Gc::new(mc, [1u32, 2]) => [u64]);
    });
}
