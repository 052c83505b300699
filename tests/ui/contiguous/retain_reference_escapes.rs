use managed::prelude::*;

// `retain` lends each object only for one call of the closure.
fn main() {
    let pool = ContiguousUniformPool::new();
    pool.insert(1u32);
    let mut kept = None;
    pool.retain(|_, x| {
        kept = Some(x);
        true
    });
    println!("{kept:?}");
}
