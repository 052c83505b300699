use managed::prelude::*;

// The values `get_disjoint_mut` lends borrow the pool exclusively: no
// removal (which drops the value) can happen while they live.
fn main() {
    let mut pool = UniformPool::new();
    let a = pool.insert(String::from("a"));
    let b = pool.insert(String::from("b"));
    let [x, y] = pool.get_disjoint_mut([a, b]).unwrap();
    pool.remove(b);
    x.push_str(y);
}
