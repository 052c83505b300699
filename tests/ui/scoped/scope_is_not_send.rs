// A scope holds values of any type (an `Rc`, say): it cannot move to another
// thread.
use managed::prelude::*;

fn main() {
    let mut arena = MemoryArena::new(1);
    let alloc = arena.allocator();
    alloc.alloc(std::rc::Rc::new(1));
    std::thread::scope(|s| {
        s.spawn(move || drop(alloc));
    });
}
