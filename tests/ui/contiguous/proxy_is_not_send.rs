use managed::prelude::*;

fn main() {
    let pool = ContiguousUniformPool::new();
    let proxy = pool.alloc(1_u32);
    std::thread::scope(|s| {
        s.spawn(move || drop(proxy));
    });
}
