use managed::prelude::*;

// A reference read through `pool.get(key)` lives no longer than the guard,
// which holds the borrow that keeps the object in place.
fn main() {
    let pool = ContiguousUniformPool::new();
    let key = pool.insert(String::from("a"));
    let name: &String;
    {
        let guard = pool.get(key).unwrap();
        name = &guard;
    }
    drop(pool.remove(key));
    println!("{name}");
}
