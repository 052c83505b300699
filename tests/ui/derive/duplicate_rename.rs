use managed::prelude::*;

#[derive(Managed)]
struct S {
    #[managed(rename = "b")]
    #[managed(rename = "c")]
    a: u32,
}

fn main() {}
