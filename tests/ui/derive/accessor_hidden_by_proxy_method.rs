use managed::prelude::*;

#[derive(Managed)]
struct S {
    with: u32,
    #[managed(rename = "with_mut")]
    b: u32,
}

fn main() {}
