use managed::prelude::*;

#[derive(Managed)]
struct S {
    a: u32,
}

#[managed::forward]
impl Clone for S {
    fn clone(&self) -> Self {
        S { a: self.a }
    }
}

fn main() {}
