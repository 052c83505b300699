use managed::prelude::*;

// A field whose type mentions a lifetime of the struct is visited (it may
// hold a branded reference), so its type must implement `Managed`.
struct Borrowed<'a>(&'a u32);

#[derive(Managed)]
struct S<'a> {
    a: u32,
    b: Borrowed<'a>,
}

fn main() {}
