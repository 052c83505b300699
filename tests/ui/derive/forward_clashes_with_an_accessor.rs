use managed::prelude::*;

#[derive(Managed)]
struct S {
    energy: f32,
}

#[managed::forward]
impl S {
    // The field's getter is `energy` too.
    fn energy(&self) -> f32 {
        self.energy
    }
}

fn main() {}
