use managed::prelude::*;

#[derive(Managed)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
