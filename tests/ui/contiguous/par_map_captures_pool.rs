use managed::prelude::*;

// A parallel walk's closure runs on other threads: it cannot reach the
// pool, which is exclusively borrowed for the walk and not `Sync`.
fn main() {
    let pool = ContiguousUniformPool::new();
    pool.insert(1_u32);
    pool.par_map(|x| *x += pool.len() as u32);
}
