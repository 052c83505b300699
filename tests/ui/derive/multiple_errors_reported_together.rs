use managed::prelude::*;

#[derive(Managed)]
#[managed(rename = "x")]
struct S {
    #[managed(unknown)]
    a: u32,
    #[managed(skip, skip)]
    b: u32,
    #[managed(accessors = false, rename = "d")]
    c: u32,
}

fn main() {}
