use managed::prelude::*;

#[derive(Managed)]
struct S {
    #[managed(skip, skip)]
    a: u32,
}

fn main() {}
