use managed::prelude::*;

fn main() {
    let pool = ContiguousUniformPool::new();
    let proxy = pool.alloc(String::from("a"));
    let leaked: &String = proxy.with(|s| s);
    drop(proxy);
    println!("{leaked}");
}
