use managed::prelude::*;

#[derive(Managed)]
enum E {
    A(#[managed(accessors = false)] u32),
}

fn main() {}
