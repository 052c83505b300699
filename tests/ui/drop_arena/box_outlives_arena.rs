//! A box cannot outlive its arena.
use managed::prelude::*;

fn main() {
    let b;
    {
        let arena = DropArena::new();
        b = arena.alloc(String::from("dangling"));
    }
    println!("{b}");
}
