use managed::prelude::*;

fn main() {
    let proxy;
    {
        let pool = ContiguousUniformPool::new();
        proxy = pool.alloc(76_i32);
    }
    proxy.with(|a| println!("{a}"));
}
