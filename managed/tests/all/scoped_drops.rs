//! Drop accounting for ArenaScope: every value that needs dropping is dropped
//! exactly once, when its scope ends, in reverse order; panics in destructors
//! and in user closures leave the arena usable and lose nothing.

use managed::prelude::*;
use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::common::{Ledger, Tracked};

#[test]
fn values_are_dropped_once_when_the_scope_ends_in_reverse_order() {
    let log = Ledger::new();
    let mut arena = MemoryArena::with_block_size(256);
    {
        let scope = arena.allocator();
        scope.alloc(log.track(1));
        scope.alloc_with(|| log.track(2));
        scope.alloc_slice_fill_with(2, |i| log.track(3 + i as u32));
        // Enough to spill into more blocks.
        for i in 0..20 {
            scope.alloc(log.track(10 + i));
        }
        assert!(
            log.dropped().is_empty(),
            "nothing dropped while the scope is open"
        );
    }
    let mut expected: Vec<u32> = (10..30).rev().collect();
    // A slice drops front to back, after everything allocated later.
    expected.extend([3, 4, 2, 1]);
    assert_eq!(log.dropped(), expected);
    assert!(arena.block_count() > 1);
}

#[test]
fn copy_values_get_no_drop_record() {
    let mut arena = MemoryArena::with_block_size(256);
    let scope = arena.allocator();
    scope.alloc(7u64);
    scope.alloc_slice_fill_with(4, |i| i as u32);
    assert_eq!(scope.stats().live_bytes, 8 + 16);
    // A value that needs dropping costs a two-word header (on 64-bit
    // targets no padding comes before it).
    scope.alloc(String::new());
    if cfg!(target_pointer_width = "64") {
        assert_eq!(
            scope.stats().live_bytes,
            8 + 16 + std::mem::size_of::<String>() + 2 * std::mem::size_of::<usize>()
        );
    }
}

#[test]
fn panicking_destructor_still_drops_the_rest_and_the_arena_stays_usable() {
    let log = Ledger::new();
    let mut arena = MemoryArena::with_block_size(256);
    let result = catch_unwind(AssertUnwindSafe(|| {
        let scope = arena.allocator();
        scope.alloc(log.track(1));
        scope.alloc(log.track_loud(2));
        scope.alloc(log.track(3));
    }));
    assert!(result.is_err());
    assert_eq!(log.dropped(), [3, 2, 1]);

    // A panicking element of a slice: the other elements are dropped too.
    log.clear();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let scope = arena.allocator();
        scope.alloc(log.track(10));
        scope.alloc_slice_fill_with(3, |i| {
            if i == 1 {
                log.track_loud(11)
            } else {
                log.track(11 + i as u32)
            }
        });
    }));
    assert!(result.is_err());
    assert_eq!(log.dropped(), [11, 11, 13, 10]);

    log.clear();
    {
        let scope = arena.allocator();
        assert_eq!(scope.stats().live_bytes, 0);
        scope.alloc(log.track(20));
        assert_eq!(scope.alloc_str("usable"), "usable");
    }
    assert_eq!(log.dropped(), [20]);
}

#[test]
fn panicking_alloc_with_stores_nothing() {
    let log = Ledger::new();
    let mut arena = MemoryArena::with_block_size(256);
    {
        let scope = arena.allocator();
        scope.alloc(log.track(1));
        let result = catch_unwind(AssertUnwindSafe(|| {
            scope.alloc_with(|| -> Tracked {
                // Nested allocations made before the panic stay registered.
                scope.alloc(log.track(2));
                panic!("constructor fails")
            });
        }));
        assert!(result.is_err());
        assert!(log.dropped().is_empty());
        scope.alloc(log.track(3));
    }
    assert_eq!(log.dropped(), [3, 2, 1]);
}

#[test]
fn panicking_fill_drops_the_built_prefix_at_once_and_only_once() {
    let log = Ledger::new();
    let mut arena = MemoryArena::with_block_size(256);
    {
        let scope = arena.allocator();
        scope.alloc(log.track(1));
        let result = catch_unwind(AssertUnwindSafe(|| {
            scope.alloc_slice_fill_with(5, |i| {
                if i == 3 {
                    panic!("element 3 fails");
                }
                log.track(10 + i as u32)
            });
        }));
        assert!(result.is_err());
        assert_eq!(log.dropped(), [10, 11, 12], "prefix dropped immediately");
        let src = [log.track(20), log.track_loud(21)];
        // Cloning `src[1]` does not panic; make the clone itself panic.
        struct Bomb;
        impl Clone for Bomb {
            fn clone(&self) -> Bomb {
                panic!("clone fails")
            }
        }
        let result = catch_unwind(AssertUnwindSafe(|| {
            scope.alloc_slice_clone(&[Bomb]);
        }));
        assert!(result.is_err());
        let clones = scope.alloc_slice_clone(&src[..1]);
        assert_eq!(clones[0].id, 1020);
        let [a, mut b] = src;
        b.loud = false;
        drop((a, b));
    }
    assert_eq!(log.dropped(), [10, 11, 12, 20, 21, 1020, 1]);
}

#[test]
fn reentrant_allocation_inside_closures_is_kept() {
    let log = Ledger::new();
    let mut arena = MemoryArena::with_block_size(128);
    {
        let scope = arena.allocator();
        let outer = scope.alloc_with(|| {
            let inner = scope.alloc(log.track(1));
            log.track(inner.id + 1)
        });
        assert_eq!(outer.id, 2);
        let row = scope.alloc_slice_fill_with(4, |i| {
            scope.alloc(log.track(10 + i as u32));
            log.track(20 + i as u32)
        });
        assert_eq!(row[3].id, 23);
    }
    assert_eq!(log.sorted(), [1, 2, 10, 11, 12, 13, 20, 21, 22, 23]);
    // Most recent record first: the row (registered after its elements'
    // helpers), then helpers in reverse, then outer, then inner.
    assert_eq!(log.dropped(), [20, 21, 22, 23, 13, 12, 11, 10, 2, 1]);
}

#[test]
fn zero_sized_values_that_need_drop_are_dropped() {
    thread_local!(static DROPS: Cell<usize> = const { Cell::new(0) });
    struct Zst;
    impl Drop for Zst {
        fn drop(&mut self) {
            DROPS.with(|d| d.set(d.get() + 1));
        }
    }
    let mut arena = MemoryArena::with_block_size(128);
    {
        let scope = arena.allocator();
        scope.alloc(Zst);
        scope.alloc_slice_fill_with(1000, |_| Zst);
        scope.alloc_with(|| Zst);
    }
    assert_eq!(DROPS.with(Cell::get), 1002);
}

#[test]
fn values_in_a_collection_in_the_scope_are_dropped_by_the_collection() {
    let log = Ledger::new();
    let mut arena = MemoryArena::with_block_size(1024);
    {
        let scope = arena.allocator();
        let mut v = allocator_api2::vec::Vec::new_in(&scope);
        for i in 0..5 {
            v.push(log.track(i));
        }
        v.remove(2);
        assert_eq!(log.dropped(), [2]);
    }
    assert_eq!(log.sorted(), [0, 1, 2, 3, 4]);
}

#[test]
fn scope_moved_into_another_scope_is_dropped_with_it() {
    let log = Ledger::new();
    let mut a = MemoryArena::with_block_size(256);
    let mut b = MemoryArena::with_block_size(256);
    {
        let outer = b.allocator();
        let inner = a.allocator();
        inner.alloc(log.track(1));
        outer.alloc(inner);
        outer.alloc(log.track(2));
        assert!(log.dropped().is_empty());
    }
    assert_eq!(log.dropped(), [2, 1]);
}

// ----- nested scopes --------------------------------------------------------

#[test]
fn a_nested_scope_drops_its_values_and_rewinds() {
    let log = Ledger::new();
    let mut arena = MemoryArena::with_block_size(256);
    let outer = arena.allocator();
    let kept = outer.alloc(log.track(1));
    let mut starts = Vec::new();
    for round in 0..3 {
        let nested = outer.nested();
        let a = nested.alloc(log.track(10 + round));
        // Bigger than a block: a dedicated block, given back and reused.
        let big = nested.alloc_slice_fill_copy(1000, round as u8);
        starts.push((core::ptr::from_ref(a).addr(), big.as_ptr().addr()));
        assert_eq!(big[999], round as u8);
        drop(nested);
        assert_eq!(
            log.dropped().last(),
            Some(&(10 + round)),
            "dropped with its scope"
        );
    }
    assert!(
        starts.windows(2).all(|w| w[0] == w[1]),
        "the same memory every round"
    );
    assert_eq!(kept.id, 1);
    // The outer scope goes on where it was.
    let next = outer.alloc(log.track(2));
    assert_eq!(core::ptr::from_ref(next).addr(), starts[0].0);
    drop(outer);
    assert_eq!(log.dropped(), [10, 11, 12, 2, 1]);
    assert_eq!(arena.block_count(), 2, "one standard block, one dedicated");
}

#[test]
fn a_destructor_panicking_in_a_nested_scope_still_rewinds() {
    let log = Ledger::new();
    let mut arena = MemoryArena::with_block_size(256);
    let outer = arena.allocator();
    let before = outer.stats().live_bytes;
    let result = catch_unwind(AssertUnwindSafe(|| {
        let nested = outer.nested();
        nested.alloc(log.track(1));
        nested.alloc(log.track_loud(2));
        nested.alloc(log.track(3));
    }));
    assert!(result.is_err());
    assert_eq!(log.sorted(), [1, 2, 3], "every value dropped once");
    assert_eq!(outer.stats().live_bytes, before);
    outer.alloc(log.track(4)); // the outer scope allocates again
    drop(outer);
    assert_eq!(log.sorted(), [1, 2, 3, 4]);
}

#[test]
fn the_enclosing_scope_cannot_allocate_while_a_nested_one_is_open() {
    let log = Ledger::new();
    let mut arena = MemoryArena::with_block_size(256);
    let outer = arena.allocator();
    let before = outer.alloc(log.track(1));
    let nested = outer.nested();
    let in_nested = nested.alloc(7u64);
    let refused = catch_unwind(AssertUnwindSafe(|| {
        outer.alloc(log.track(2));
    }));
    let message = refused.unwrap_err();
    assert!(
        message
            .downcast_ref::<&str>()
            .is_some_and(|m| m.contains("allocate through the nested scope")),
    );
    let refused = catch_unwind(AssertUnwindSafe(|| outer.try_alloc_str("no")));
    assert!(refused.is_err(), "the fallible methods refuse too");
    let second = catch_unwind(AssertUnwindSafe(|| {
        let _ = outer.nested();
    }));
    assert!(second.is_err(), "one nested scope at a time");
    // The refused value was dropped by the unwinding (it was never stored).
    assert_eq!(log.dropped(), [2]);
    assert_eq!((*in_nested, before.id), (7, 1));
    drop(nested);
    outer.alloc(log.track(3));
    drop(outer);
    assert_eq!(log.dropped(), [2, 3, 1]);
}

#[test]
fn a_leaked_nested_scope_stops_the_enclosing_one_safely() {
    let (outer_drops, leaked_drops) = (Ledger::new(), Ledger::new());
    let mut arena = MemoryArena::with_block_size(256);
    {
        let outer = arena.allocator();
        outer.alloc(outer_drops.track(0));
        let nested = outer.nested();
        nested.alloc(leaked_drops.track(0));
        core::mem::forget(nested);
        assert!(catch_unwind(AssertUnwindSafe(|| outer.alloc(0u8))).is_err());
    }
    // The leaked value is never dropped, the outer one once.
    assert_eq!((outer_drops.total(), leaked_drops.total()), (1, 0));
    let scope = arena.allocator();
    scope.alloc(outer_drops.track(0));
    drop(scope);
    assert_eq!((outer_drops.total(), leaked_drops.total()), (2, 0));
}

#[test]
fn values_with_destructors_may_point_into_the_enclosing_scope() {
    /// A destructor that reads what it points at.
    struct Label<'o> {
        name: &'o str,
        log: &'o RefCell<Vec<String>>,
    }
    impl Drop for Label<'_> {
        fn drop(&mut self) {
            self.log.borrow_mut().push(self.name.to_owned());
        }
    }
    let log = RefCell::new(Vec::new());
    let mut arena = MemoryArena::with_block_size(256);
    let outer = arena.allocator();
    let names: Vec<&str> = (0..3)
        .map(|i| &*outer.alloc_str(&format!("n{i}")))
        .collect();
    for name in &names {
        let nested = outer.nested();
        nested.alloc(Label { name, log: &log });
    }
    assert_eq!(*log.borrow(), ["n0", "n1", "n2"]);
}

#[test]
fn alloc_no_drop_never_drops() {
    let drops = Ledger::new();
    let mut arena = MemoryArena::with_block_size(256);
    let scope = arena.allocator();
    let counted = scope.alloc_no_drop(drops.track(0));
    assert_eq!(counted.ledger.total(), 0);
    // A node pointing at a node of the same scope.
    struct Node<'s> {
        next: Option<&'s Node<'s>>,
        value: u32,
    }
    let first = scope.alloc_no_drop(Node {
        next: None,
        value: 1,
    });
    let second = scope.alloc_no_drop(Node {
        next: Some(first),
        value: 2,
    });
    assert_eq!(second.value + second.next.map_or(0, |n| n.value), 3);
    drop(scope);
    assert_eq!(drops.total(), 0, "never dropped (leaked, as documented)");
}

/// An iterator that claims more items than it yields.
struct Liar<I> {
    items: I,
    claimed: usize,
}

impl<I: Iterator> Iterator for Liar<I> {
    type Item = I::Item;
    fn next(&mut self) -> Option<I::Item> {
        self.items.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.claimed, Some(self.claimed))
    }
}

impl<I: Iterator> ExactSizeIterator for Liar<I> {}

/// `alloc_slice_fill_iter` stores the items in order and drops them once
/// with the scope; an iterator that ends before its `len` panics at the
/// caller, and the items it did yield are dropped at once, once; the arena
/// stays usable.
#[test]
fn slices_filled_from_iterators_drop_once() {
    let log = Ledger::new();
    let mut arena = MemoryArena::with_block_size(256);
    {
        let scope = arena.allocator();
        let slice = scope.alloc_slice_fill_iter((0..5).map(|i| log.track(i)));
        assert_eq!(
            slice.iter().map(|t| t.id).collect::<Vec<_>>(),
            [0, 1, 2, 3, 4]
        );
        let short = Liar {
            items: (10..13).map(|i| log.track(i)),
            claimed: 6,
        };
        let caught = catch_unwind(AssertUnwindSafe(|| scope.alloc_slice_fill_iter(short)));
        let message = *caught.unwrap_err().downcast::<&str>().unwrap();
        assert!(message.contains("fewer items"), "{message}");
        assert_eq!(log.dropped(), [10, 11, 12], "the partial slice, at once");
        let after = scope.alloc_slice_fill_iter(vec![log.track(20)]);
        assert_eq!(after[0].id, 20);
    }
    let mut counts = log.counts(21);
    counts.retain(|&c| c > 0);
    assert_eq!(counts, [1; 9], "every value dropped exactly once");
}
