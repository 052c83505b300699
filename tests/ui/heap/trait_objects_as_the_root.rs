//! A bare list of trait objects is not a heap's root: its `dyn Trait`
//! would be `dyn Trait + 'static` there and `dyn Trait + 'gc` in the
//! program's functions. The error says to put it in a root struct.
use managed::prelude::*;

trait Shape {
    fn area(&self) -> f64;
}

fn main() {
    let _heap: Heap<Vec<GcDyn<'static, dyn Shape>>> = Heap::new(|_| Vec::new());
}
