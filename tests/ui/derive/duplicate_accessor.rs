use managed::prelude::*;

#[derive(Managed)]
struct S {
    a: u32,
    #[managed(rename = "a")]
    b: u32,
    set_c: u32,
    c: u32,
    d: u32,
    with_d: u32,
}

fn main() {}
