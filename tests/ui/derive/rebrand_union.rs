//! `#[derive(Rebrand)]` on a union is an error, not an empty expansion.
use managed::prelude::*;

#[derive(Rebrand)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
