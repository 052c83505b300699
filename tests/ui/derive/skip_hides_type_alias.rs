//! A skipped field whose type is an alias fed the region lifetime still
//! makes the impl require `'a: 'static`.
use managed::prelude::*;

type Hidden<'x> = Item<'x, u32>;

#[derive(Managed)]
struct Hiding<'a> {
    #[managed(skip)]
    hidden: Hidden<'a>,
    n: u32,
}

fn needs_managed<T: Managed>(_: &T) {}

fn check<'a>(value: &Hiding<'a>) {
    needs_managed(value);
}

fn main() {}
