use managed::prelude::*;

#[derive(Managed)]
struct S {
    #[managed]
    a: u32,
    #[managed = "skip"]
    b: u32,
}

fn main() {}
