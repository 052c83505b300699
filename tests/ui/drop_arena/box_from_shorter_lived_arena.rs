//! A box from an arena that dies sooner cannot be given to a longer-lived
//! arena's `drop_box`: the longer-lived arena would keep a slot of freed
//! memory on its free list.
use managed::prelude::*;

fn main() {
    let outer = &DropArena::new();
    let kept = outer.alloc(1);
    {
        let inner = &DropArena::new();
        let b = inner.alloc(2);
        outer.drop_box(b);
    }
    outer.drop_box(kept);
}
