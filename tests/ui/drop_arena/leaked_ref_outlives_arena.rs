//! `leak` gives `&'arena mut T`, which cannot outlive the arena either.
use managed::prelude::*;

fn main() {
    let r: &mut u32;
    {
        let arena = DropArena::new();
        r = arena.alloc(5).leak();
    }
    *r += 1;
}
