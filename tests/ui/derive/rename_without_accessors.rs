use managed::prelude::*;

#[derive(Managed)]
struct S {
    #[managed(accessors = false, rename = "b")]
    a: u32,
}

fn main() {}
