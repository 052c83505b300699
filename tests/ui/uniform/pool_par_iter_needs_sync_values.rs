use std::cell::Cell;

use managed::prelude::*;
use rayon::prelude::*;

// `par_iter` shares values between threads: `T` must be `Sync`.
fn main() {
    let mut pool = UniformPool::new();
    pool.insert(Cell::new(1_u32));
    pool.par_iter().for_each(|(_, c)| c.set(c.get() + 1));
}
