use managed::prelude::*;
use rayon::prelude::*;

// A parallel walk borrows the pool exclusively, like `iter_mut`: no `&T`
// from the pool may be alive meanwhile.
fn main() {
    let mut pool = UniformPool::new();
    let key = pool.insert(1_u32);
    let first = &pool[key];
    pool.par_iter_mut().for_each(|(_, x)| *x += 1);
    println!("{first}");
}
