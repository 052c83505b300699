use managed::prelude::*;

#[derive(Managed)]
#[managed(crate = 1)]
struct NotAString {
    a: u32,
}

#[derive(Managed)]
#[managed(crate = "not a path")]
struct NotAPath {
    b: u32,
}

#[derive(Managed)]
#[managed(crate = "managed", crate = "managed")]
struct Twice {
    c: u32,
}

#[derive(Rebrand)]
#[managed(crate)]
struct NoValue<'a> {
    d: Item<'a, u32>,
}

fn main() {}
