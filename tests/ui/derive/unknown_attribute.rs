use managed::prelude::*;

#[derive(Managed)]
struct S {
    #[managed(inline)]
    a: u32,
}

fn main() {}
