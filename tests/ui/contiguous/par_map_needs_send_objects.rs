use std::rc::Rc;

use managed::prelude::*;

// Objects reach other threads as `&mut T`: `T` must be `Send`.
fn main() {
    let pool = ContiguousUniformPool::new();
    pool.insert(Rc::new(1_u32));
    pool.par_map(|rc| drop(rc.clone()));
}
