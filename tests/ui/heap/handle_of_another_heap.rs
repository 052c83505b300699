//! Each mutation has its own brand: a handle of one heap cannot be stored
//! in another heap's root.
use managed::prelude::*;

fn main() {
    let mut a: Heap<Vec<Gc<'static, u32>>> = Heap::new(|_| Vec::new());
    let mut b: Heap<Vec<Gc<'static, u32>>> = Heap::new(|_| Vec::new());
    a.mutate(|_, root_a| {
        b.mutate(|mc_b, _| {
            root_a.push(Gc::new(mc_b, 2u32));
        });
    });
}
