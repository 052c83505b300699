//! Drop accounting for ArenaScope: every value that needs dropping is dropped
//! exactly once, when its scope ends, in reverse order; panics in destructors
//! and in user closures leave the arena usable and lose nothing.

use managed::prelude::*;
use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

/// Records its id in a shared log when dropped; panics on drop if told to.
struct Tracked {
    id: u32,
    log: Rc<RefCell<Vec<u32>>>,
    panic_on_drop: bool,
}

impl Tracked {
    fn new(id: u32, log: &Rc<RefCell<Vec<u32>>>) -> Tracked {
        Tracked {
            id,
            log: Rc::clone(log),
            panic_on_drop: false,
        }
    }
    fn panicky(id: u32, log: &Rc<RefCell<Vec<u32>>>) -> Tracked {
        let mut t = Tracked::new(id, log);
        t.panic_on_drop = true;
        t
    }
}

impl Clone for Tracked {
    fn clone(&self) -> Tracked {
        Tracked::new(self.id + 1000, &self.log)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.log.borrow_mut().push(self.id);
        if self.panic_on_drop {
            panic!("destructor of {} panics", self.id);
        }
    }
}

fn log() -> Rc<RefCell<Vec<u32>>> {
    Rc::new(RefCell::new(Vec::new()))
}

fn sorted(log: &Rc<RefCell<Vec<u32>>>) -> Vec<u32> {
    let mut v = log.borrow().clone();
    v.sort_unstable();
    v
}

#[test]
fn values_are_dropped_once_when_the_scope_ends_in_reverse_order() {
    let log = log();
    let mut arena = MemoryArena::with_block_size(256);
    {
        let scope = arena.allocator();
        scope.alloc(Tracked::new(1, &log));
        scope.alloc_with(|| Tracked::new(2, &log));
        scope.alloc_slice_fill_with(2, |i| Tracked::new(3 + i as u32, &log));
        // Enough to spill into more blocks.
        for i in 0..20 {
            scope.alloc(Tracked::new(10 + i, &log));
        }
        assert!(
            log.borrow().is_empty(),
            "nothing dropped while the scope is open"
        );
    }
    let mut expected: Vec<u32> = (10..30).rev().collect();
    // A slice drops front to back, after everything allocated later.
    expected.extend([3, 4, 2, 1]);
    assert_eq!(*log.borrow(), expected);
    assert!(arena.block_count() > 1);
}

#[test]
fn copy_values_get_no_drop_record() {
    let mut arena = MemoryArena::with_block_size(256);
    let scope = arena.allocator();
    scope.alloc(7u64);
    scope.alloc_slice_fill_with(4, |i| i as u32);
    assert_eq!(scope.stats().live_bytes, 8 + 16);
    // A value that needs dropping costs a two-word header.
    scope.alloc(String::new());
    assert_eq!(
        scope.stats().live_bytes,
        8 + 16 + std::mem::size_of::<String>() + 2 * std::mem::size_of::<usize>()
    );
}

#[test]
fn panicking_destructor_still_drops_the_rest_and_the_arena_stays_usable() {
    let log = log();
    let mut arena = MemoryArena::with_block_size(256);
    let result = catch_unwind(AssertUnwindSafe(|| {
        let scope = arena.allocator();
        scope.alloc(Tracked::new(1, &log));
        scope.alloc(Tracked::panicky(2, &log));
        scope.alloc(Tracked::new(3, &log));
    }));
    assert!(result.is_err());
    assert_eq!(*log.borrow(), [3, 2, 1]);

    // A panicking element of a slice: the other elements are dropped too.
    log.borrow_mut().clear();
    let result = catch_unwind(AssertUnwindSafe(|| {
        let scope = arena.allocator();
        scope.alloc(Tracked::new(10, &log));
        scope.alloc_slice_fill_with(3, |i| {
            if i == 1 {
                Tracked::panicky(11, &log)
            } else {
                Tracked::new(11 + i as u32, &log)
            }
        });
    }));
    assert!(result.is_err());
    assert_eq!(*log.borrow(), [11, 11, 13, 10]);

    log.borrow_mut().clear();
    {
        let scope = arena.allocator();
        assert_eq!(scope.stats().live_bytes, 0);
        scope.alloc(Tracked::new(20, &log));
        assert_eq!(scope.alloc_str("usable"), "usable");
    }
    assert_eq!(*log.borrow(), [20]);
}

#[test]
fn panicking_alloc_with_stores_nothing() {
    let log = log();
    let mut arena = MemoryArena::with_block_size(256);
    {
        let scope = arena.allocator();
        scope.alloc(Tracked::new(1, &log));
        let result = catch_unwind(AssertUnwindSafe(|| {
            scope.alloc_with(|| -> Tracked {
                // Nested allocations made before the panic stay registered.
                scope.alloc(Tracked::new(2, &log));
                panic!("constructor fails")
            });
        }));
        assert!(result.is_err());
        assert!(log.borrow().is_empty());
        scope.alloc(Tracked::new(3, &log));
    }
    assert_eq!(*log.borrow(), [3, 2, 1]);
}

#[test]
fn panicking_fill_drops_the_built_prefix_at_once_and_only_once() {
    let log = log();
    let mut arena = MemoryArena::with_block_size(256);
    {
        let scope = arena.allocator();
        scope.alloc(Tracked::new(1, &log));
        let result = catch_unwind(AssertUnwindSafe(|| {
            scope.alloc_slice_fill_with(5, |i| {
                if i == 3 {
                    panic!("element 3 fails");
                }
                Tracked::new(10 + i as u32, &log)
            });
        }));
        assert!(result.is_err());
        assert_eq!(*log.borrow(), [10, 11, 12], "prefix dropped immediately");
        let src = [Tracked::new(20, &log), Tracked::panicky(21, &log)];
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
        b.panic_on_drop = false;
        drop((a, b));
    }
    assert_eq!(*log.borrow(), [10, 11, 12, 20, 21, 1020, 1]);
}

#[test]
fn reentrant_allocation_inside_closures_is_kept() {
    let log = log();
    let mut arena = MemoryArena::with_block_size(128);
    {
        let scope = arena.allocator();
        let outer = scope.alloc_with(|| {
            let inner = scope.alloc(Tracked::new(1, &log));
            Tracked::new(inner.id + 1, &log)
        });
        assert_eq!(outer.id, 2);
        let row = scope.alloc_slice_fill_with(4, |i| {
            scope.alloc(Tracked::new(10 + i as u32, &log));
            Tracked::new(20 + i as u32, &log)
        });
        assert_eq!(row[3].id, 23);
    }
    assert_eq!(sorted(&log), [1, 2, 10, 11, 12, 13, 20, 21, 22, 23]);
    // Most recent record first: the row (registered after its elements'
    // helpers), then helpers in reverse, then outer, then inner.
    assert_eq!(*log.borrow(), [20, 21, 22, 23, 13, 12, 11, 10, 2, 1]);
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
    let log = log();
    let mut arena = MemoryArena::with_block_size(1024);
    {
        let scope = arena.allocator();
        let mut v = allocator_api2::vec::Vec::new_in(&scope);
        for i in 0..5 {
            v.push(Tracked::new(i, &log));
        }
        v.remove(2);
        assert_eq!(*log.borrow(), [2]);
    }
    assert_eq!(sorted(&log), [0, 1, 2, 3, 4]);
}

#[test]
fn scope_moved_into_another_scope_is_dropped_with_it() {
    let log = log();
    let mut a = MemoryArena::with_block_size(256);
    let mut b = MemoryArena::with_block_size(256);
    {
        let outer = b.allocator();
        let inner = a.allocator();
        inner.alloc(Tracked::new(1, &log));
        outer.alloc(inner);
        outer.alloc(Tracked::new(2, &log));
        assert!(log.borrow().is_empty());
    }
    assert_eq!(*log.borrow(), [2, 1]);
}
