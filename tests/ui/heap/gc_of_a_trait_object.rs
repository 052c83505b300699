//! `Gc<'gc, dyn Trait>` does not exist (a `Gc` is one word: its type says
//! how to trace the object); the error points at `GcDyn` and `unsize!`.
use managed::prelude::*;

trait Shape {
    fn area(&self) -> f64;
}

#[derive(Managed)]
struct Scene<'gc> {
    shapes: Vec<Gc<'gc, dyn Shape>>,
}

fn main() {}
