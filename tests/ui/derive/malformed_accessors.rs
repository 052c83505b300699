use managed::prelude::*;

#[derive(Managed)]
struct S {
    #[managed(accessors = "no")]
    a: u32,
    #[managed(accessors)]
    b: u32,
    #[managed(accessors = false, accessors = true)]
    c: u32,
}

fn main() {}
