// A value dropped when the scope ends may not borrow anything that dies
// before that: its destructor would read freed memory.
use managed::prelude::*;

struct Printer<'s>(&'s String);

impl Drop for Printer<'_> {
    fn drop(&mut self) {
        println!("{}", self.0);
    }
}

fn main() {
    let mut arena = MemoryArena::new(1);
    let alloc = arena.allocator();
    let text = String::from("dropped before the scope");
    alloc.alloc(Printer(&text));
}
