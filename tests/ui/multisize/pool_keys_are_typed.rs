//! A key to a `u32` cannot read the pool as another type.
use managed::prelude::*;

fn main() {
    let mut pool = MultisizePool::new();
    let key = pool.insert(1u32);
    let _: Option<&u64> = pool.get(key);
}
