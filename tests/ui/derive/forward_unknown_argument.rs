use managed::prelude::*;

#[derive(Managed)]
struct Particle {
    mass: f32,
}

#[managed::forward(skip)]
impl Particle {
    fn heavy(&self) -> bool {
        self.mass > 1.0
    }
}

fn main() {}
