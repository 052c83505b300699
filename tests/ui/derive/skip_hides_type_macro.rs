//! A skipped field whose type comes from a macro with no lifetime in its
//! tokens still makes the impl require `'a: 'static`.
use managed::prelude::*;

macro_rules! hidden_item {
    () => {
        Item<'a, u32>
    };
}

#[derive(Managed)]
struct Hiding<'a> {
    #[managed(skip)]
    hidden: hidden_item!(),
    n: u32,
}

fn needs_managed<T: Managed>(_: &T) {}

fn check<'a>(value: &Hiding<'a>) {
    needs_managed(value);
}

fn main() {}
