use managed::prelude::*;

// A proxy hands out `&mut T` through `&self` (`with_mut`), so it must be
// invariant in `T`: a covariant proxy could write a short borrow into an
// object that another path reads as `'static`.
fn shorten<'p, 'a>(proxy: Proxy<'p, &'static str>) -> Proxy<'p, &'a str> {
    proxy
}

fn main() {
    let pool = ContiguousUniformPool::new();
    let _ = shorten(pool.alloc("x"));
}
