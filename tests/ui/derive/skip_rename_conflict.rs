use managed::prelude::*;

#[derive(Managed)]
struct S {
    #[managed(skip, rename = "b")]
    a: u32,
}

fn main() {}
