use managed::prelude::*;

#[derive(Managed)]
struct S {
    #[managed(rename = "two words")]
    a: u32,
    #[managed(rename = "fn")]
    b: u32,
    #[managed(rename = "")]
    c: u32,
}

fn main() {}
