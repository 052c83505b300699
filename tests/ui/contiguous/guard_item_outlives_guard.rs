use managed::prelude::*;

fn main() {
    let pool = ContiguousUniformPool::new();
    let proxy = pool.alloc(1_u32);
    let first: &u32 = pool.borrow().values().next().unwrap();
    drop(proxy);
    println!("{first}");
}
