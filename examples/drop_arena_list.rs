//! A singly linked list whose nodes live in a `DropArena`.
//!
//! Popped nodes give their slots back to the arena, so a list that churns
//! (push some, pop some, forever) needs no more memory than its peak length:
//! `max_len()` shows it. The list borrows the arena and implements `Drop`,
//! the drop-check shape the arena is designed to accept.
//!
//! Run with `cargo run --example drop_arena_list`.

use managed::prelude::*;

/// One node: an item and the rest of the list.
struct Node<'a, T> {
    item: T,
    next: Link<'a, T>,
}

type Link<'a, T> = Option<DropBox<'a, Node<'a, T>>>;

/// A stack-ordered singly linked list allocating its nodes in `arena`.
struct List<'a, T> {
    arena: &'a DropArena<'a, Node<'a, T>>,
    head: Link<'a, T>,
    len: usize,
}

impl<'a, T> List<'a, T> {
    fn new(arena: &'a DropArena<'a, Node<'a, T>>) -> Self {
        Self {
            arena,
            head: None,
            len: 0,
        }
    }

    fn push(&mut self, item: T) {
        let next = self.head.take();
        self.head = Some(self.arena.alloc(Node { item, next }));
        self.len += 1;
    }

    fn pop(&mut self) -> Option<T> {
        let node = self.arena.box_to_inner(self.head.take()?);
        self.head = node.next;
        self.len -= 1;
        Some(node.item)
    }

    fn peek(&self) -> Option<&T> {
        self.head.as_ref().map(|node| &node.item)
    }

    /// Reverses the list in place, relinking the boxes (no allocation).
    fn reverse(&mut self) {
        let mut reversed: Link<'a, T> = None;
        while let Some(mut node) = self.head.take() {
            self.head = node.next.take();
            node.next = reversed;
            reversed = Some(node);
        }
        self.head = reversed;
    }

    fn iter(&self) -> impl Iterator<Item = &T> {
        std::iter::successors(self.head.as_deref(), |node| node.next.as_deref())
            .map(|node| &node.item)
    }
}

impl<T> Drop for List<'_, T> {
    fn drop(&mut self) {
        // Iteratively, returning every slot: a recursive drop of a long list
        // could overflow the stack.
        while let Some(mut node) = self.head.take() {
            self.head = node.next.take();
            self.arena.drop_box(node);
        }
    }
}

pub(crate) fn main() {
    let arena = &DropArena::new();
    let mut list = List::new(arena);
    for word in ["arena", "drop", "a", "from", "nodes"] {
        list.push(word.to_string());
    }
    let words: Vec<&str> = list.iter().map(String::as_str).collect();
    println!("list: {words:?} (len {})", list.len);
    list.reverse();
    println!("reversed, head is {:?}", list.peek());
    assert_eq!(list.peek().map(String::as_str), Some("arena"));

    // Churn: a thousand rounds of push three, pop three. The arena reuses the
    // popped nodes' slots, so it never holds more than the peak of 8 nodes.
    for round in 0..1000 {
        for i in 0..3 {
            list.push(format!("round {round} item {i}"));
        }
        for _ in 0..3 {
            list.pop();
        }
    }
    println!(
        "after 3000 pushes and pops: len {}, arena len {}, max_len {}, {}",
        list.len,
        arena.len(),
        arena.max_len(),
        arena.stats()
    );
    assert_eq!((arena.len(), arena.max_len()), (5, 8));

    drop(list);
    println!("list dropped: arena len {}", arena.len());
    assert_eq!(arena.len(), 0);
}
