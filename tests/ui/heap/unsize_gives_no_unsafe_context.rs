//! `unsize!`'s own `unsafe` block does not cover the expression it is
//! given: an unsafe call in it still needs the caller's `unsafe`.
use managed::prelude::*;

unsafe fn make<'gc>(mc: &Mutation<'gc>) -> Gc<'gc, u32> {
    Gc::new(mc, 1)
}

fn main() {
    let mut heap: Heap<Vec<Gc<'static, u32>>> = Heap::new(|_| Vec::new());
    heap.mutate(|mc, _| {
        let _ = unsize!(make(mc) => dyn std::fmt::Debug);
    });
}
