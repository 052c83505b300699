use managed::prelude::*;

// `alloc(&self, T)` stores a `T` through a shared reference, so the pool
// must be invariant in `T`: were it covariant, a pool of `&'static str`
// seen as a pool of `&'a str` would store a short borrow that the original
// later reads as `'static`.
fn shorten<'r, 'a>(
    pool: &'r ContiguousUniformPool<&'static str>,
) -> &'r ContiguousUniformPool<&'a str> {
    pool
}

fn main() {
    let pool = ContiguousUniformPool::new();
    let _ = shorten(&pool);
}
