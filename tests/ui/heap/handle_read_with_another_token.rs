//! A handle is read with the token of its own mutation only.
use managed::prelude::*;

fn main() {
    let mut a: Heap<Vec<Gc<'static, u32>>> = Heap::new(|mc| vec![Gc::new(mc, 1u32)]);
    let mut b: Heap<Vec<Gc<'static, u32>>> = Heap::new(|_| Vec::new());
    a.mutate(|_, root_a| {
        let handle = root_a[0];
        b.mutate(|mc_b, _| {
            let _ = *handle.get(mc_b);
        });
    });
}
