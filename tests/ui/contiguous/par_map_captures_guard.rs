use managed::prelude::*;

// A guard of another pool cannot be shared with a parallel walk's threads
// (its pool counts borrows in a `Cell`, and removals begun beside it
// rewrite the key table it reads); its lookup() view and its slice can.
fn main() {
    let field = ContiguousUniformPool::new();
    let cell = field.insert(2.0_f32);
    let particles = ContiguousUniformPool::new();
    particles.insert(1.0_f32);
    let forces = field.borrow();
    particles.par_map(|v| *v += forces.get(cell).copied().unwrap_or(0.0));
}
