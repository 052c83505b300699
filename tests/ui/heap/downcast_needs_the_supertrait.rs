//! A trait object downcasts only if its trait has the supertrait
//! `Downcast<'gc>`; the error says to add it.
use managed::prelude::*;

trait Shape {
    fn area(&self) -> f64;
}

#[derive(Managed)]
struct Square(f64);

impl Shape for Square {
    fn area(&self) -> f64 {
        self.0 * self.0
    }
}

#[derive(Managed)]
struct Shapes<'gc> {
    all: Vec<GcDyn<'gc, dyn Shape + 'gc>>,
}

fn main() {
    let mut heap: Heap<Shapes<'static>> = Heap::new(|mc| Shapes {
        all: vec![unsize!(Gc::new(mc, Square(2.0)) => dyn Shape)],
    });
    heap.mutate(|mc, shapes| {
        let _ = shapes.all[0].downcast::<Square>(mc);
    });
}
