use managed::prelude::*;

// `clear` needs `&mut self`, which no guard or proxy allows.
fn main() {
    let mut pool = ContiguousUniformPool::new();
    let key = pool.insert(1u32);
    let object = pool.get(key);
    pool.clear();
    drop(object);
}
