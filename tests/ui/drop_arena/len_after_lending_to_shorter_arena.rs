//! Once a longer-lived arena took a box of a
//! shorter-lived one, its lifetime is the shorter one; using it after the
//! shorter arena died (here `len()`) does not compile.
use managed::prelude::*;

fn main() {
    let arena1 = &DropArena::new();
    {
        let arena2 = &DropArena::new();
        let b = arena2.alloc(1);
        arena1.drop_box(b);
    }
    let _ = arena1.len();
}
