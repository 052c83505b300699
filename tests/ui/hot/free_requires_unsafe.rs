//! Contract 4: the pool cannot know whether references into a slot are
//! still alive, so freeing is unsafe.
use managed::prelude::*;

fn main() {
    let pool: Pool<u32> = Pool::new();
    let s = pool.alloc(1);
    pool.free(s);
}
