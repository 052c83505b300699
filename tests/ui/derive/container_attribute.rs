use managed::prelude::*;

#[derive(Managed)]
#[managed(skip)]
struct S {
    a: u32,
}

fn main() {}
