//! A `MultisizeKey` is invariant in its type. Both function pointer types
//! below are `'static` and share a size class; a covariant key would let a
//! function that needs `'static` arguments, stored through one key, be
//! called with a short borrow through the other.
use managed::prelude::*;

fn keep(s: &'static str) {
    println!("{s}");
}

fn ignore(_: &str) {}

fn forget_higher_rank(
    k: MultisizeKey<for<'x> fn(&'x str)>,
) -> MultisizeKey<fn(&'static str)> {
    k
}

fn main() {
    let mut pool = MultisizePool::new();
    let general: MultisizeKey<for<'x> fn(&'x str)> = pool.insert(ignore as fn(&str));
    let needs_static = forget_higher_rank(general);
    *pool.get_mut(needs_static).unwrap() = keep;
    let short = String::from("short");
    (pool.get(general).unwrap())(&short);
}
