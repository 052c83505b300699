use std::cell::Cell;

use managed::prelude::*;
use rayon::prelude::*;

// `par_iter` shares elements between threads: `T` must be `Sync`.
fn main() {
    let deque: UniformPageDeque<Cell<u32>> = (0..10).map(Cell::new).collect();
    deque.par_iter().for_each(|c| c.set(c.get() + 1));
}
