use managed::prelude::*;

#[derive(Managed)]
enum E {
    A {
        #[managed(rename = "b")]
        a: u32,
    },
}

fn main() {}
