use managed::prelude::*;

// Nor a proxy of it: reading one on another thread would race with the
// walk's `&mut`.
fn main() {
    let pool = ContiguousUniformPool::new();
    let p = pool.alloc(1_u32);
    pool.par_map(|x| *x += p.with(|v| *v));
}
