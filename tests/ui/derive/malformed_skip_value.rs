use managed::prelude::*;

#[derive(Managed)]
struct S {
    #[managed(skip = true)]
    a: u32,
}

fn main() {}
