use managed::prelude::*;

// The dependency is `managed` here: a path naming something else does not
// resolve, and the error points at the string.
#[derive(Managed)]
#[managed(crate = "memory")]
struct Particle {
    mass: f32,
}

fn main() {}
