use managed::prelude::*;

#[derive(Managed)]
enum E {
    #[managed(skip)]
    A(u32),
    B,
}

fn main() {}
