//! A pool of `&'static str` cannot be used as a pool of shorter references
//! (it would then hold dangling `&'static str`s).
use managed::prelude::*;

fn shorten<'a>(p: &'a Pool<&'static str>) -> &'a Pool<&'a str> {
    p
}

fn main() {
    let pool: Pool<&'static str> = Pool::new();
    let _ = shorten(&pool);
}
