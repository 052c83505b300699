// A visitor may rewrite the address a region `Item` dereferences next, so
// implementing one is `unsafe`: a safe impl must not compile.
use core::ptr::NonNull;
use managed::prelude::*;

struct Scribble;

impl Visitor for Scribble {
    fn visit(&mut self, target: &mut NonNull<u8>) {
        *target = NonNull::dangling();
    }
}

fn main() {}
