use managed::prelude::*;

fn main() {
    let pool = ContiguousUniformPool::<u32>::new();
    std::thread::scope(|s| {
        s.spawn(|| pool.len());
    });
}
