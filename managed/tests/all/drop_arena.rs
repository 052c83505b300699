//! Integration tests of `DropArena` / `DropBox`: the basic operations, the
//! drop-check shape of a self-referential list, drop accounting
//! (also under panicking destructors), and property tests against a model.

use std::cell::Cell;
use std::collections::HashMap;
use std::mem::size_of;
use std::num::Wrapping;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use managed::prelude::*;
use proptest::prelude::*;

use crate::common::{Ledger, SplitMix, Tracked};

// ---------------------------------------------------------------------------
// A linked list: `List<'d, T>` holds `&'d DropArena<'d, Node<'d, T>>`,
// nodes hold `Option<DropBox<'d, Node<'d, T>>>`, and `List` implements `Drop`.
// That this compiles at all is the drop-check test.
// ---------------------------------------------------------------------------

struct Node<'arena, T> {
    item: T,
    rest: Ptr<'arena, T>,
}

type Ptr<'arena, T> = Option<DropBox<'arena, Node<'arena, T>>>;

struct List<'arena, T> {
    arena: &'arena DropArena<'arena, Node<'arena, T>>,
    ptr: Ptr<'arena, T>,
}

impl<T> Drop for List<'_, T> {
    fn drop(&mut self) {
        while let Some(mut nxt) = self.ptr.take() {
            self.ptr = nxt.rest.take();
            self.arena.drop_box(nxt);
        }
    }
}

impl<'d, T> List<'d, T> {
    fn new(arena: &'d DropArena<'d, Node<'d, T>>) -> Self {
        Self { arena, ptr: None }
    }

    fn push(&mut self, val: T) {
        self.ptr = Some(self.arena.alloc(Node {
            item: val,
            rest: self.ptr.take(),
        }));
    }

    fn pop(&mut self) -> Option<T> {
        let first = self.ptr.take()?;
        let node = self.arena.box_to_inner(first);
        self.ptr = node.rest;
        Some(node.item)
    }

    fn into_vec(mut self) -> Vec<T> {
        let mut vec = vec![];
        while let Some(t) = self.pop() {
            vec.push(t);
        }
        vec
    }
}

#[test]
fn linked_list() {
    let v1 = {
        let arena = &DropArena::new();
        let mut list = List::new(arena);
        for i in 0..100 {
            list.push(i);
        }
        list.into_vec()
    };
    assert_eq!(v1, (0..100).rev().collect::<Vec<_>>());

    let arena = &DropArena::new();
    let mut list = List::new(arena);
    for i in 0..100 {
        list.push(i);
    }
    assert_eq!((arena.len(), arena.max_len()), (100, 100));
    for i in (50..100).rev() {
        assert_eq!(list.pop(), Some(i));
        assert_eq!((arena.len(), arena.max_len()), (i, 100));
    }
    for i in 50..100 {
        list.push(i);
        assert_eq!((arena.len(), arena.max_len()), (i + 1, 100));
    }
    drop(list);
    assert_eq!((arena.len(), arena.max_len()), (0, 100));
}

/// The list of the drop-check shape, with a payload that has drop glue and
/// a list that is never emptied by hand: the arena outlives the list only by
/// its storage.
#[test]
fn list_of_strings_dropped_with_the_arena_scope() {
    let arena = &DropArena::new();
    let mut list = List::new(arena);
    for i in 0..40 {
        list.push(i.to_string());
    }
    assert_eq!(list.pop().as_deref(), Some("39"));
    assert_eq!(arena.len(), 39);
}

#[test]
fn simple() {
    let arena = &DropArena::new();
    let b = arena.alloc(5);
    arena.drop_box(b);
    let b2 = arena.alloc(6);
    assert_eq!(*b2, 6);
    assert_eq!((arena.len(), arena.max_len()), (1, 1));
}

#[test]
fn box_functions() {
    let arena = &DropArena::new();
    let b = arena.alloc(5);
    let r = b.leak();
    *r += 1;
    let b2 = arena.alloc(10);
    *r += b2.into_inner();
    assert_eq!(*r, 16);
    assert_eq!(arena.len(), 2);
}

#[test]
fn nested() {
    let result = {
        let arena = &DropArena::new();
        let mut b1 = arena.alloc(5);
        let r = {
            let arena1 = arena;
            let arena2 = &DropArena::new();
            let b2 = arena2.alloc(6);
            *b1 += 100;
            assert_eq!(arena1.box_to_inner(b1), 105);
            // `arena1.drop_box(b2)` does not compile (tests/ui/drop_arena).
            let r = arena2.box_to_inner(b2);
            assert_eq!(arena2.len(), 0);
            r
        };
        assert_eq!(arena.len(), 0);
        r
    };
    assert_eq!(result, 6);
}

#[test]
fn same_lifetime_overlap() {
    let arena1 = &DropArena::new();
    let arena2 = &DropArena::new();
    let b1 = arena1.alloc(String::from("hello"));
    let b2 = arena2.alloc(String::from("goodbye"));
    arena1.drop_box(b2);
    arena2.drop_box(b1);
    // Each free list now holds the other arena's slot; both are reused.
    let c1 = arena1.alloc(String::from("again 1"));
    let c2 = arena2.alloc(String::from("again 2"));
    assert_eq!((c1.as_str(), c2.as_str()), ("again 1", "again 2"));
    assert_eq!((arena1.max_len(), arena2.max_len()), (1, 1));
    arena1.drop_box(c2);
    arena1.drop_box(c1);
    // Arena 1 carved one slot and holds two free ones: `len` saturates.
    assert_eq!((arena1.len(), arena2.len()), (0, 1));
}

#[test]
fn shorter_arena_lends_to_longer_one_inside_a_scope() {
    // `len_after_lending_to_shorter_arena` (tests/ui) without the line that
    // must not compile.
    let arena1 = &DropArena::new();
    {
        let arena2 = &DropArena::new();
        let b = arena2.alloc(1);
        arena1.drop_box(b);
    }
}

#[test]
fn random_churn_stays_within_its_peak() {
    let (min_len, max_len) = if cfg!(miri) { (10, 30) } else { (100, 300) };
    let start = (min_len + max_len) / 2;
    let mut rng = SplitMix(7);
    let arena: &DropArena<[Wrapping<u64>; 3]> = &DropArena::new();
    let mut vec = Vec::with_capacity(max_len);
    let mut sum = Wrapping(0u64);
    let mut expected = Wrapping(0u64);
    let value = |rng: &mut SplitMix| {
        [
            Wrapping(rng.next()),
            Wrapping(rng.next()),
            Wrapping(rng.next()),
        ]
    };
    for _ in 0..start {
        let v = value(&mut rng);
        expected += v.iter().sum::<Wrapping<u64>>();
        vec.push(arena.alloc(v));
    }
    for _ in 0..3 * start {
        let l = vec.len();
        if l == max_len || (l != min_len && rng.next() & 1 == 0) {
            let i = rng.below(l);
            let b = vec.swap_remove(i);
            sum += arena.box_to_inner(b).iter().sum::<Wrapping<u64>>();
        } else {
            let v = value(&mut rng);
            expected += v.iter().sum::<Wrapping<u64>>();
            vec.push(arena.alloc(v));
        }
        assert_eq!(arena.len(), vec.len());
    }
    for b in vec.drain(..) {
        sum += arena.box_to_inner(b).iter().sum::<Wrapping<u64>>();
    }
    assert_eq!(sum, expected);
    assert!(arena.max_len() <= max_len);
    assert!(arena.max_len() >= start);
    assert_eq!(arena.len(), 0);
}

#[test]
fn panicking_destructor_under_drop_box_and_drop() {
    thread_local!(static DROPS: Cell<usize> = const { Cell::new(0) });
    struct Dropping;
    impl Drop for Dropping {
        fn drop(&mut self) {
            DROPS.with(|d| d.set(d.get() + 1));
            panic!("panic in Dropping::drop");
        }
    }

    let arena = &DropArena::new();
    let b = arena.alloc(Dropping);
    catch_unwind(AssertUnwindSafe(|| arena.drop_box(b))).unwrap_err();
    assert_eq!(DROPS.with(Cell::get), 1);
    assert_eq!(arena.len(), 0); // reclaimed although the destructor panicked
    let b = arena.alloc(Dropping);
    assert_eq!(arena.max_len(), 1); // the reclaimed slot was reused
    catch_unwind(AssertUnwindSafe(|| drop(b))).unwrap_err();
    assert_eq!(DROPS.with(Cell::get), 2);
    assert_eq!(arena.len(), 1); // plain drop keeps the slot
}

#[test]
fn a_panicking_field_still_drops_the_other_fields() {
    struct Panics;
    impl Drop for Panics {
        fn drop(&mut self) {
            panic!("first field panics");
        }
    }
    let witness = Rc::new(());
    let arena = &DropArena::new();
    let b = arena.alloc((Panics, Rc::clone(&witness)));
    assert_eq!(Rc::strong_count(&witness), 2);
    catch_unwind(AssertUnwindSafe(|| arena.drop_box(b))).unwrap_err();
    assert_eq!(Rc::strong_count(&witness), 1);
    assert_eq!(arena.len(), 0);
    let again = arena.alloc((Panics, Rc::clone(&witness)));
    assert_eq!(arena.max_len(), 1); // the slot was reused
    catch_unwind(AssertUnwindSafe(|| drop(again))).unwrap_err();
    assert_eq!(Rc::strong_count(&witness), 1);
}

#[test]
fn drop_box_is_the_size_of_a_pointer_and_of_its_option() {
    assert_eq!(size_of::<DropBox<'_, i32>>(), size_of::<&mut i32>());
    assert_eq!(size_of::<Option<DropBox<'_, i32>>>(), size_of::<&mut i32>());
    assert_eq!(size_of::<Option<DropBox<'_, ()>>>(), size_of::<&mut ()>());
    assert_eq!(
        size_of::<Option<DropBox<'_, [u8; 100]>>>(),
        size_of::<&mut u8>()
    );
}

// ---------------------------------------------------------------------------
// Drop accounting
// ---------------------------------------------------------------------------

#[test]
fn every_way_out_drops_exactly_once_and_the_arena_drops_nothing() {
    let ledger = Ledger::default();
    let leaked_id;
    {
        let arena = &DropArena::new();
        let a = arena.alloc(ledger.track(1));
        let b = arena.alloc(ledger.track(2));
        let c = arena.alloc(ledger.track(3));
        let d = arena.alloc(ledger.track(4));
        let e = arena.alloc(ledger.track(5));
        let _kept = arena.alloc(ledger.track(6)); // dropped at scope end

        arena.drop_box(a);
        assert_eq!(ledger.drops(1), 1);
        let inner = arena.box_to_inner(b);
        assert_eq!(ledger.drops(2), 0);
        drop(inner);
        assert_eq!(ledger.drops(2), 1);
        drop(c);
        assert_eq!(ledger.drops(3), 1);
        let inner = d.into_inner();
        assert_eq!(ledger.drops(4), 0);
        drop(inner);
        assert_eq!(ledger.drops(4), 1);
        let leaked = e.leak();
        leaked_id = leaked.id;
        assert_eq!(arena.len(), 4); // a and b gave their slots back
        // Reuse both free slots and drop them with the arena scope.
        let _r1 = arena.alloc(ledger.track(7));
        let _r2 = arena.alloc(ledger.track(8));
        assert_eq!(arena.max_len(), 6);
    }
    for id in [1, 2, 3, 4, 6, 7, 8] {
        assert_eq!(ledger.drops(id), 1, "value {id}");
    }
    assert_eq!(ledger.drops(leaked_id), 0); // leaked values are never dropped
    assert_eq!(ledger.total(), 7);
}

/// A tree node owning its children through boxes of the same arena.
struct TreeNode<'d> {
    /// Counts the node's drop (read by its destructor only).
    _tracked: Tracked,
    children: Vec<DropBox<'d, TreeNode<'d>>>,
}

/// A complete tree of `fanout` children per node, `depth` levels below the
/// root, ids in allocation order from `*next`.
fn tree<'d>(
    arena: &'d DropArena<'d, TreeNode<'d>>,
    ledger: Ledger,
    next: &mut u32,
    fanout: usize,
    depth: u32,
) -> DropBox<'d, TreeNode<'d>> {
    let children = if depth == 0 {
        Vec::new()
    } else {
        (0..fanout)
            .map(|_| tree(arena, ledger, next, fanout, depth - 1))
            .collect()
    };
    *next += 1;
    arena.alloc(TreeNode {
        _tracked: ledger.track(*next),
        children,
    })
}

#[test]
fn drop_tree_gives_every_slot_back_and_drops_every_value_once() {
    let ledger = Ledger::default();
    let arena = &DropArena::new();
    let mut next = 0;
    let root = tree(arena, ledger, &mut next, 3, 4); // 121 nodes
    assert_eq!(arena.len(), 121);
    arena.drop_tree(root, |n| std::mem::take(&mut n.children));
    assert_eq!(arena.len(), 0, "every slot is free again");
    assert!((1..=121).all(|id| ledger.drops(id) == 1));
    let again = tree(arena, ledger, &mut next, 3, 4);
    assert_eq!(arena.max_len(), 121, "the second tree reused the slots");
    arena.drop_tree(again, |n| std::mem::take(&mut n.children));
    assert_eq!(ledger.total(), 242);

    // A long list is walked without recursion.
    let list_arena = &DropArena::new();
    let len = if cfg!(miri) { 500 } else { 100_000 };
    let mut head = None;
    for id in 0..len {
        head = Some(list_arena.alloc(TreeNode {
            _tracked: ledger.track(1000 + id),
            children: head.into_iter().collect(),
        }));
    }
    list_arena.drop_tree(head.unwrap(), |n| std::mem::take(&mut n.children));
    assert_eq!((list_arena.len(), ledger.total()), (0, 242 + len as usize));
}

#[test]
fn drop_tree_with_a_panicking_closure_drops_the_rest_once() {
    let ledger = Ledger::default();
    let arena = &DropArena::new();
    let mut next = 0;
    let root = tree(arena, ledger, &mut next, 2, 3); // 15 nodes
    let mut calls = 0;
    let result = catch_unwind(AssertUnwindSafe(|| {
        arena.drop_tree(root, |n| {
            calls += 1;
            assert!(calls < 4, "the walk stops here");
            std::mem::take(&mut n.children)
        });
    }));
    assert!(result.is_err());
    assert!(
        (1..=15).all(|id| ledger.drops(id) == 1),
        "each value dropped once"
    );
    // The boxes the walk had not given back keep their slots.
    assert!(!arena.is_empty() && arena.len() < 15);
}

#[test]
fn destructors_may_reenter_the_arena() {
    // A tree whose nodes give their children back to the arena from `Drop`.
    struct TreeNode<'a> {
        arena: &'a DropArena<'a, TreeNode<'a>>,
        children: Vec<DropBox<'a, TreeNode<'a>>>,
        _payload: Tracked,
    }
    impl Drop for TreeNode<'_> {
        fn drop(&mut self) {
            for child in self.children.drain(..) {
                self.arena.drop_box(child);
            }
            // Allocating from a destructor works too (and reuses a slot).
            let scratch = self.arena.alloc(TreeNode {
                arena: self.arena,
                children: Vec::new(),
                _payload: Ledger::default().track(u32::MAX),
            });
            self.arena.free_without_dropping(scratch);
        }
    }

    let ledger = Ledger::default();
    let arena = &DropArena::new();
    let mut id = 0;
    let mut leaf = || {
        id += 1;
        arena.alloc(TreeNode {
            arena,
            children: Vec::new(),
            _payload: ledger.track(id),
        })
    };
    let mut mid1 = leaf();
    mid1.children = vec![leaf(), leaf()];
    let mut mid2 = leaf();
    mid2.children = vec![leaf()];
    let mut root = leaf();
    root.children = vec![mid1, mid2];
    assert_eq!(arena.len(), 6);
    arena.drop_box(root);
    assert_eq!(ledger.total(), 6);
    assert!((1..=6).all(|id| ledger.drops(id) == 1));
    assert_eq!(arena.len(), 0);
}

#[test]
fn over_aligned_values_are_aligned() {
    #[repr(align(256))]
    struct Big(u8);
    let arena = &DropArena::new();
    let boxes: Vec<_> = (0..5u8).map(|i| arena.alloc(Big(i))).collect();
    for (i, b) in boxes.iter().enumerate() {
        assert_eq!((&raw const **b).addr() % 256, 0);
        assert_eq!(usize::from(b.0), i);
    }
    for b in boxes {
        arena.drop_box(b);
    }
    #[repr(align(512))]
    struct Zst;
    let zarena = &DropArena::new();
    let z = zarena.alloc(Zst);
    assert_eq!((&raw const *z).addr() % 512, 0);
    assert_eq!(zarena.stats().reserved_bytes, 0);
}

#[test]
fn boxes_forward_traits_to_the_value() {
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};

    let arena = &DropArena::new();
    let mut a = arena.alloc(String::from("a"));
    let b = arena.alloc(String::from("b"));
    assert!(a < b && a != b && a.cmp(&b) == std::cmp::Ordering::Less);
    assert_eq!(format!("{a:?} {b}"), "\"a\" b");
    let hash = |v: &dyn Fn(&mut DefaultHasher)| {
        let mut h = DefaultHasher::new();
        v(&mut h);
        h.finish()
    };
    assert_eq!(hash(&|h| a.hash(h)), hash(&|h| "a".to_string().hash(h)));
    let r: &String = std::borrow::Borrow::borrow(&a);
    assert_eq!(r, "a");
    AsMut::<String>::as_mut(&mut a).push('!');
    std::borrow::BorrowMut::<String>::borrow_mut(&mut a).push('?');
    assert_eq!(AsRef::<String>::as_ref(&a), "a!?");
    // Boxes work as keys of a std set through Borrow<T>.
    let set: std::collections::HashSet<DropBox<'_, String>> = [a, b].into_iter().collect();
    assert!(set.contains(&String::from("b")));
}

#[test]
fn boxes_can_be_dropped_on_another_thread() {
    let arena = &DropArena::new();
    let boxes: Vec<_> = (0..4).map(|i| arena.alloc(vec![i; 3])).collect();
    let total = std::thread::scope(|s| {
        s.spawn(move || {
            boxes
                .into_iter()
                .map(|b| b.iter().sum::<i32>())
                .sum::<i32>()
        })
        .join()
        .unwrap()
    });
    assert_eq!(total, 18);
    assert_eq!(arena.len(), 4);
}

#[test]
fn stats_track_live_and_reserved_bytes() {
    let arena = &DropArena::new();
    assert_eq!(arena.stats(), SpaceStats::new(0, 0));
    let a = arena.alloc([0u64; 4]);
    let b = arena.alloc([1u64; 4]);
    assert_eq!(arena.stats(), SpaceStats::new(64, 1024));
    arena.drop_box(a);
    assert_eq!(arena.stats().live_bytes, 32);
    drop(b); // slot still in use
    assert_eq!(arena.stats().live_bytes, 32);
    assert!(format!("{arena:?}").contains("len: 1"));
}

// ---------------------------------------------------------------------------
// Property tests against a model
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    Alloc(u32),
    DropBox(usize),
    ToInner(usize),
    Drop(usize),
    IntoInner(usize),
    Leak(usize),
    FreeWithoutDropping(usize),
    Mutate(usize, u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => any::<u32>().prop_map(Op::Alloc),
        2 => any::<usize>().prop_map(Op::DropBox),
        2 => any::<usize>().prop_map(Op::ToInner),
        1 => any::<usize>().prop_map(Op::Drop),
        1 => any::<usize>().prop_map(Op::IntoInner),
        1 => any::<usize>().prop_map(Op::Leak),
        1 => any::<usize>().prop_map(Op::FreeWithoutDropping),
        2 => (any::<usize>(), any::<u32>()).prop_map(|(i, v)| Op::Mutate(i, v)),
    ]
}

/// A value carrying a payload and an id for the drop ledger.
#[derive(Debug)]
struct Val {
    value: u32,
    _t: Tracked,
}

/// Runs `ops` on an arena and on a model: a `Vec` of live boxes next to a
/// `Vec` of expected values, a stack of freed addresses (the free list is
/// LIFO), and counters for `len`/`max_len`; checks values, addresses, counts
/// and that each value is dropped exactly once unless leaked or forgotten.
fn run_model(ops: &[Op]) {
    let ledger = Ledger::default();
    let mut expect_dropped: HashMap<u32, u32> = HashMap::new();
    {
        let arena = &DropArena::new();
        let mut live: Vec<(DropBox<'_, Val>, u32, u32)> = Vec::new(); // box, value, id
        let mut free_addrs: Vec<usize> = Vec::new();
        let mut in_use = 0usize;
        let mut peak = 0usize;
        let mut next_id = 0u32;
        for op in ops {
            match *op {
                Op::Alloc(v) => {
                    next_id += 1;
                    let b = arena.alloc(Val {
                        value: v,
                        _t: ledger.track(next_id),
                    });
                    let addr = (&raw const *b).addr();
                    if let Some(expected) = free_addrs.pop() {
                        assert_eq!(addr, expected, "the most recently freed slot is reused");
                    }
                    in_use += 1;
                    peak = peak.max(in_use);
                    live.push((b, v, next_id));
                }
                Op::Mutate(i, v) if !live.is_empty() => {
                    let i = i % live.len();
                    live[i].0.value = v;
                    live[i].1 = v;
                }
                Op::DropBox(i) | Op::ToInner(i) | Op::Drop(i) if !live.is_empty() => {
                    let (b, v, id) = live.swap_remove(i % live.len());
                    assert_eq!(b.value, v);
                    let addr = (&raw const *b).addr();
                    match *op {
                        Op::DropBox(_) => {
                            arena.drop_box(b);
                            free_addrs.push(addr);
                            in_use -= 1;
                        }
                        Op::ToInner(_) => {
                            let val = arena.box_to_inner(b);
                            assert_eq!(val.value, v);
                            assert_eq!(ledger.drops(id), 0);
                            free_addrs.push(addr);
                            in_use -= 1;
                        }
                        _ => drop(b),
                    }
                    assert_eq!(ledger.drops(id), 1);
                    expect_dropped.insert(id, 1);
                }
                Op::IntoInner(i) if !live.is_empty() => {
                    let (b, v, id) = live.swap_remove(i % live.len());
                    let val = b.into_inner();
                    assert_eq!((val.value, ledger.drops(id)), (v, 0));
                    drop(val);
                    expect_dropped.insert(id, 1);
                }
                Op::Leak(i) if !live.is_empty() => {
                    let (b, v, id) = live.swap_remove(i % live.len());
                    let r = b.leak();
                    assert_eq!(r.value, v);
                    r.value = v.wrapping_add(1);
                    expect_dropped.insert(id, 0);
                }
                Op::FreeWithoutDropping(i) if !live.is_empty() => {
                    let (b, _, id) = live.swap_remove(i % live.len());
                    free_addrs.push((&raw const *b).addr());
                    arena.free_without_dropping(b);
                    in_use -= 1;
                    expect_dropped.insert(id, 0);
                }
                _ => {}
            }
            assert_eq!(arena.len(), in_use);
            assert_eq!(arena.max_len(), peak);
            for (b, v, _) in &live {
                assert_eq!(b.value, *v);
            }
        }
        for (_, _, id) in &live {
            expect_dropped.insert(*id, 1);
        }
    }
    for (id, n) in expect_dropped {
        assert_eq!(ledger.drops(id), n, "value {id}");
    }
}

/// The same program on a zero-sized type: only the counters exist.
fn run_zst_model(ops: &[Op]) {
    let arena = &DropArena::new();
    let mut live = Vec::new();
    let (mut in_use, mut peak) = (0usize, 0usize);
    for op in ops {
        match *op {
            Op::Alloc(_) => {
                live.push(arena.alloc(()));
                in_use += 1;
                peak = peak.max(in_use);
            }
            Op::DropBox(i) | Op::ToInner(i) | Op::FreeWithoutDropping(i) if !live.is_empty() => {
                let b = live.swap_remove(i % live.len());
                arena.drop_box(b);
                in_use -= 1;
            }
            Op::Drop(i) | Op::IntoInner(i) | Op::Leak(i) if !live.is_empty() => {
                drop(live.swap_remove(i % live.len()));
            }
            _ => {}
        }
        assert_eq!((arena.len(), arena.max_len()), (in_use, peak));
        assert_eq!(arena.stats().reserved_bytes, 0);
    }
}

/// Operations per generated program (Miri runs fewer, shorter programs).
const MAX_OPS: usize = if cfg!(miri) { 32 } else { 200 };

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 3 } else { 2000 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arena_matches_model(ops in prop::collection::vec(op(), 0..MAX_OPS)) {
        run_model(&ops);
    }

    #[test]
    fn zst_arena_matches_model(ops in prop::collection::vec(op(), 0..MAX_OPS)) {
        run_zst_model(&ops);
    }
}
