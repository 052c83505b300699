//! A value can only be recorded as a `dyn Shape` if it is a `Shape`: the
//! coercion `coercion!()` writes is checked by the compiler.
use managed::prelude::*;

trait Shape {
    fn area(&self) -> f64;
}

struct NotAShape;

fn main() {
    let mut queue: MultisizePageQueue<dyn Shape> = MultisizePageQueue::new();
    queue.push(NotAShape, coercion!());
}
