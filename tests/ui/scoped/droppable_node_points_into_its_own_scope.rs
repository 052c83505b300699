//! A value that needs dropping is dropped when its scope ends, after values
//! it may point at: `alloc` refuses a node with a destructor that points
//! into its own scope (`alloc_no_drop` takes it and never drops it; a
//! nested scope's values may point into the enclosing scope).
use managed::prelude::*;

struct Node<'s> {
    name: String,
    parent: Option<&'s Node<'s>>,
}

fn main() {
    let mut arena = MemoryArena::new(1);
    let scope = arena.allocator();
    let root = scope.alloc(Node { name: "root".into(), parent: None });
    let leaf = scope.alloc(Node { name: "leaf".into(), parent: Some(root) });
    assert_eq!(leaf.parent.map(|p| p.name.as_str()), Some("root"));
}
