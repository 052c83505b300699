//! A box is invariant in its arena lifetime: it cannot be shortened to fit a
//! shorter-lived arena of the same type.
use managed::prelude::*;

fn shorten<'long: 'short, 'short>(b: DropBox<'long, u8>) -> DropBox<'short, u8> {
    b
}

fn main() {
    let arena = &DropArena::new();
    let b = shorten(arena.alloc(1));
    drop(b);
}
