use managed::prelude::*;

fn main() {
    let pool = ContiguousUniformPool::new();
    let _proxy = pool.alloc(1_u32);
    let mut kept: Vec<&mut u32> = Vec::new();
    pool.map(|value| kept.push(value));
}
