use managed::prelude::*;

// A lookup borrows the guard it came from: it cannot outlive it, since
// the guard's borrow is what keeps the objects in place.
fn main() {
    let pool = ContiguousUniformPool::new();
    let key = pool.insert(1_u32);
    let lookup;
    {
        let guard = pool.borrow();
        lookup = guard.lookup();
    }
    println!("{:?}", lookup.get(key));
}
