// A scope is invariant in the arena borrow: it cannot be passed where a
// shorter one is expected, which would let it store values that die before
// it drops them.
use managed::prelude::*;

fn store<'short>(scope: &ArenaScope<'short>, text: &'short String) {
    struct Printer<'s>(&'s String);
    impl Drop for Printer<'_> {
        fn drop(&mut self) {
            println!("{}", self.0);
        }
    }
    scope.alloc(Printer(text));
}

fn main() {
    let mut arena = MemoryArena::new(1);
    let alloc = arena.allocator();
    {
        let text = String::from("short-lived");
        store(&alloc, &text);
    }
}
