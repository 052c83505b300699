use managed::prelude::*;

fn main() {
    let mut pool = ContiguousUniformPool::new();
    let _proxy = pool.alloc(1_u32);
    let pool_ref = &mut pool;
    pool_ref.map(|_| pool_ref.clear());
}
