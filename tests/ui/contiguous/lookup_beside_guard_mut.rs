use managed::prelude::*;

// A lookup borrows the exclusive guard it came from, shared: while the
// lookup (or a reference read through it) lives, the guard cannot lend an
// object exclusively, so a `&T` read through the view never aliases a
// `&mut T`.
fn main() {
    let pool = ContiguousUniformPool::new();
    let key = pool.insert(1_u32);
    let mut objects = pool.borrow_mut();
    let lookup = objects.lookup();
    let read = lookup.get(key).unwrap();
    *objects.get_mut(key).unwrap() += 1;
    println!("{read}");
}
