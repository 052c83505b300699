use managed::prelude::*;

// The objects `get_disjoint_mut` lends borrow the guard: once it is
// dropped (and the pool may move its objects again), they are gone.
fn main() {
    let pool = ContiguousUniformPool::new();
    let a = pool.insert(1_u32);
    let b = pool.insert(2_u32);
    let mut objects = pool.borrow_mut();
    let [x, y] = objects.get_disjoint_mut([a, b]).unwrap();
    drop(objects);
    pool.insert(3_u32); // may grow the buffer, moving the objects
    *x += *y;
}
