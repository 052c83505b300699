use managed::prelude::*;

fn main() {
    let mut pool = ContiguousUniformPool::new();
    let proxy = pool.alloc(1_u32);
    pool.clear();
    proxy.with(|a| println!("{a}"));
}
