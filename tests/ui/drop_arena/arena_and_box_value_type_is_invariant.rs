//! An arena and its boxes are invariant in the value type: the arena
//! stores `T`s through `&self` (`alloc`), and a box is a `&mut T`.
use managed::prelude::*;

fn arena_narrow<'r, 'a>(a: &'r DropArena<'r, &'static str>) -> &'r DropArena<'r, &'a str> {
    a
}

fn box_narrow<'r, 'a>(b: DropBox<'r, &'static str>) -> DropBox<'r, &'a str> {
    b
}

fn main() {}
