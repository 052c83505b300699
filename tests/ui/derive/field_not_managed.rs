use managed::prelude::*;

struct NotManaged;

#[derive(Managed)]
struct S {
    a: u32,
    b: NotManaged,
}

fn main() {}
