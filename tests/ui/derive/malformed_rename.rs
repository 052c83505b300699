use managed::prelude::*;

#[derive(Managed)]
struct S {
    #[managed(rename)]
    a: u32,
    #[managed(rename = 5)]
    b: u32,
}

fn main() {}
