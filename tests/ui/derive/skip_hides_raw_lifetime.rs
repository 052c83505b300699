//! A skipped field spelled with a raw lifetime (`'r#a`) still makes the
//! impl require `'a: 'static`: a skipped field can never hide a region item.
use managed::prelude::*;

#[derive(Managed)]
struct Hiding<'a> {
    #[managed(skip)]
    hidden: Item<'r#a, u32>,
    n: u32,
}

fn needs_managed<T: Managed>(_: &T) {}

fn check<'a>(value: &Hiding<'a>) {
    needs_managed(value);
}

fn main() {}
