//! Property tests: random allocation programs run in a sequence of scopes.
//! Every allocation keeps its contents, is aligned, overlaps no other live
//! allocation, and every value that needs dropping is dropped exactly once
//! when its scope ends. Running the same program again allocates no new
//! blocks (steady state).

use managed::prelude::*;
use proptest::prelude::*;
use std::alloc::Layout;
use std::cell::RefCell;
use std::rc::Rc;

#[derive(Debug, Clone)]
enum Op {
    /// Raw bytes of a size and alignment, filled with a pattern.
    Raw { size: usize, align_log2: u32 },
    /// A slice of `u32` copied from a pattern.
    Copy { len: usize },
    /// A slice of droppable values built with `alloc_slice_fill_with`.
    Droppy { len: usize },
    /// One over-aligned value.
    Aligned,
    /// A string.
    Str { len: usize },
    /// Ends the current scope and opens the next one.
    NewScope,
}

/// Largest raw request; small under Miri, which fills and checks it byte by
/// byte.
const MAX_RAW: usize = if cfg!(miri) { 96 } else { 600 };

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..MAX_RAW, 0u32..10).prop_map(|(size, align_log2)| Op::Raw { size, align_log2 }),
        3 => (0usize..MAX_RAW / 3).prop_map(|len| Op::Copy { len }),
        3 => (0usize..20).prop_map(|len| Op::Droppy { len }),
        1 => Just(Op::Aligned),
        2 => (0usize..50).prop_map(|len| Op::Str { len }),
        1 => Just(Op::NewScope),
    ]
}

#[repr(align(128))]
#[derive(Debug, PartialEq)]
struct Wide(u64);

/// A value that reports its drop into a shared counter table.
struct Droppy {
    id: usize,
    drops: Rc<RefCell<Vec<u32>>>,
}

impl Drop for Droppy {
    fn drop(&mut self) {
        self.drops.borrow_mut()[self.id] += 1;
    }
}

/// One allocation to check: its bytes and what they should hold.
struct Live<'s> {
    range: (usize, usize),
    check: Box<dyn Fn() -> bool + 's>,
}

fn byte(salt: usize, i: usize) -> u8 {
    (salt.wrapping_mul(31).wrapping_add(i)) as u8
}

/// Runs `ops` in `arena`; returns the number of drop records made.
fn run(arena: &mut MemoryArena, ops: &[Op], drops: &Rc<RefCell<Vec<u32>>>) -> usize {
    let mut made = 0;
    let mut ops = ops.iter().enumerate().peekable();
    while ops.peek().is_some() {
        let scope = arena.allocator();
        let mut live: Vec<Live<'_>> = Vec::new();
        let first_id = made;
        for (salt, op) in ops.by_ref() {
            match *op {
                Op::NewScope => break,
                Op::Raw { size, align_log2 } => {
                    let align = 1usize << align_log2;
                    let layout = Layout::from_size_align(size, align).unwrap();
                    let p = scope.alloc_layout(layout).as_ptr();
                    assert_eq!(p as usize % align, 0);
                    // SAFETY: `p` holds `size` fresh bytes for this scope.
                    let bytes = unsafe { std::slice::from_raw_parts_mut(p, size) };
                    for (i, b) in bytes.iter_mut().enumerate() {
                        *b = byte(salt, i);
                    }
                    let bytes = &*bytes;
                    live.push(Live {
                        range: (p as usize, p as usize + size),
                        check: Box::new(move || {
                            bytes.iter().enumerate().all(|(i, &b)| b == byte(salt, i))
                        }),
                    });
                }
                Op::Copy { len } => {
                    let src: Vec<u32> = (0..len).map(|i| (salt * 1000 + i) as u32).collect();
                    let s = &*scope.alloc_slice_copy(&src);
                    assert_eq!(s.as_ptr() as usize % 4, 0);
                    live.push(Live {
                        range: (s.as_ptr() as usize, s.as_ptr() as usize + 4 * len),
                        check: Box::new(move || s == src.as_slice()),
                    });
                }
                Op::Droppy { len } => {
                    drops.borrow_mut().resize(made + len, 0);
                    let base = made;
                    let s = &*scope.alloc_slice_fill_with(len, |i| Droppy {
                        id: base + i,
                        drops: Rc::clone(drops),
                    });
                    made += len;
                    let size = len * std::mem::size_of::<Droppy>();
                    live.push(Live {
                        range: (s.as_ptr() as usize, s.as_ptr() as usize + size),
                        check: Box::new(move || {
                            s.iter().enumerate().all(|(i, d)| d.id == base + i)
                        }),
                    });
                }
                Op::Aligned => {
                    let w = &*scope.alloc(Wide(salt as u64));
                    let at = w as *const Wide as usize;
                    assert_eq!(at % 128, 0);
                    live.push(Live {
                        range: (at, at + 128),
                        check: Box::new(move || *w == Wide(salt as u64)),
                    });
                }
                Op::Str { len } => {
                    let text: String = (0..len)
                        .map(|i| char::from(b'a' + (i % 26) as u8))
                        .collect();
                    let s = &*scope.alloc_str(&text);
                    live.push(Live {
                        range: (s.as_ptr() as usize, s.as_ptr() as usize + len),
                        check: Box::new(move || s == text),
                    });
                }
            }
        }
        // Contents intact, ranges disjoint.
        assert!(live.iter().all(|l| (l.check)()));
        let mut ranges: Vec<(usize, usize)> = live
            .iter()
            .map(|l| l.range)
            .filter(|r| r.0 != r.1)
            .collect();
        ranges.sort_unstable();
        for w in ranges.windows(2) {
            assert!(w[0].1 <= w[1].0, "overlap: {w:?}");
        }
        let live_bytes = scope.stats().live_bytes;
        let payload: usize = ranges.iter().map(|r| r.1 - r.0).sum();
        assert!(live_bytes >= payload, "{live_bytes} < {payload}");
        assert!(drops.borrow()[first_id..made].iter().all(|&d| d == 0));
        drop(live);
        drop(scope);
        assert!(drops.borrow()[first_id..made].iter().all(|&d| d == 1));
    }
    made
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 1000 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn allocation_programs(
        ops in prop::collection::vec(op(), 0..if cfg!(miri) { 20 } else { 120 }),
        block_log2 in 6u32..14,
    ) {
        let mut arena = MemoryArena::with_block_size(1 << block_log2);
        let drops = Rc::new(RefCell::new(Vec::new()));
        let made = run(&mut arena, &ops, &drops);
        prop_assert!(drops.borrow().iter().all(|&d| d == 1));
        prop_assert_eq!(drops.borrow().len(), made);

        // Steady state: the same program again needs no new block.
        let blocks = arena.block_count();
        let reserved = arena.stats().reserved_bytes;
        let drops = Rc::new(RefCell::new(Vec::new()));
        run(&mut arena, &ops, &drops);
        prop_assert_eq!(arena.block_count(), blocks);
        prop_assert_eq!(arena.stats().reserved_bytes, reserved);
        prop_assert!(drops.borrow().iter().all(|&d| d == 1));
    }
}

#[derive(Debug, Clone)]
enum VecOp {
    Push(u32),
    Pop,
    Truncate(usize),
    ShrinkToFit,
    Reserve(usize),
    /// Another allocation in the scope, so the vector is not always the
    /// most recent allocation (growth must then copy).
    Interleave(usize),
}

fn vec_op() -> impl Strategy<Value = VecOp> {
    prop_oneof![
        6 => any::<u32>().prop_map(VecOp::Push),
        2 => Just(VecOp::Pop),
        1 => (0usize..40).prop_map(VecOp::Truncate),
        1 => Just(VecOp::ShrinkToFit),
        1 => (0usize..64).prop_map(VecOp::Reserve),
        2 => (0usize..48).prop_map(VecOp::Interleave),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 1000 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Two `allocator_api2` vectors in one scope (growing, shrinking and
    /// freeing through the `Allocator` impl) behave like std vectors.
    #[test]
    fn vectors_in_a_scope_match_std(
        ops in prop::collection::vec((any::<bool>(), vec_op()), 0..if cfg!(miri) { 24 } else { 300 }),
    ) {
        let mut arena = MemoryArena::with_block_size(512);
        let scope = arena.allocator();
        let mut ours = [
            allocator_api2::vec::Vec::new_in(&scope),
            allocator_api2::vec::Vec::new_in(&scope),
        ];
        let mut model: [Vec<u32>; 2] = [Vec::new(), Vec::new()];
        let mut others: Vec<&[u8]> = Vec::new();
        for (which, op) in ops {
            let (v, m) = (&mut ours[which as usize], &mut model[which as usize]);
            match op {
                VecOp::Push(x) => {
                    v.push(x);
                    m.push(x);
                }
                VecOp::Pop => prop_assert_eq!(v.pop(), m.pop()),
                VecOp::Truncate(n) => {
                    v.truncate(n);
                    m.truncate(n);
                }
                VecOp::ShrinkToFit => v.shrink_to_fit(),
                VecOp::Reserve(n) => v.reserve(n),
                VecOp::Interleave(n) => {
                    others.push(scope.alloc_slice_fill_copy(n, n as u8));
                }
            }
            prop_assert_eq!(v.as_slice(), m.as_slice());
            prop_assert!(v.capacity() >= v.len());
        }
        for (i, o) in others.iter().enumerate() {
            prop_assert!(o.iter().all(|&b| b as usize == o.len()), "other {}", i);
        }
    }
}

#[derive(Debug, Clone)]
enum NestOp {
    /// Opens a scope nested in the current one.
    Open,
    /// Ends the current nested scope (nothing at the outermost level).
    Close,
    /// A slice of droppable values (written with their ids).
    Droppy { len: usize },
    /// Bytes, possibly bigger than a block.
    Bytes { len: usize },
}

fn nest_op() -> impl Strategy<Value = NestOp> {
    prop_oneof![
        2 => Just(NestOp::Open),
        2 => Just(NestOp::Close),
        3 => (0usize..12).prop_map(|len| NestOp::Droppy { len }),
        3 => (0usize..if cfg!(miri) { 200 } else { 3000 }).prop_map(|len| NestOp::Bytes { len }),
    ]
}

/// Runs `ops` at one nesting level of `scope` until a `Close` (or the
/// end), opening nested levels recursively. Checks at every level that the
/// enclosing levels' values are intact after a nested level ends, that the
/// nested level's values were dropped exactly once, and that the memory it
/// used is handed out again (its live bytes are back where they were).
fn run_nested(
    scope: &ArenaScope<'_>,
    ops: &mut std::slice::Iter<'_, NestOp>,
    drops: &Rc<RefCell<Vec<u32>>>,
    outer: &[&dyn Fn() -> bool],
    depth: usize,
) {
    let mut mine: Vec<Box<dyn Fn() -> bool + '_>> = Vec::new();
    while let Some(op) = ops.next() {
        match *op {
            NestOp::Close if depth > 0 => break,
            NestOp::Close => {}
            NestOp::Open => {
                let before = scope.stats().live_bytes;
                let first = drops.borrow().len();
                let all: Vec<&dyn Fn() -> bool> = outer
                    .iter()
                    .copied()
                    .chain(mine.iter().map(|check| &**check))
                    .collect();
                {
                    let nested = scope.nested();
                    assert_eq!(nested.stats().live_bytes, before);
                    run_nested(&nested, ops, drops, &all, depth + 1);
                    // Deeper levels have ended (dropped once), this one not.
                    assert!(drops.borrow()[first..].iter().all(|&d| d <= 1));
                }
                assert!(drops.borrow()[first..].iter().all(|&d| d == 1));
                assert_eq!(scope.stats().live_bytes, before, "the nested scope rewound");
                assert!(all.iter().all(|check| check()), "enclosing values intact");
            }
            NestOp::Droppy { len } => {
                let base = drops.borrow().len();
                drops.borrow_mut().resize(base + len, 0);
                let s = &*scope.alloc_slice_fill_with(len, |i| Droppy {
                    id: base + i,
                    drops: Rc::clone(drops),
                });
                mine.push(Box::new(move || {
                    s.iter().enumerate().all(|(i, d)| d.id == base + i)
                }));
            }
            NestOp::Bytes { len } => {
                let tag = (len % 251) as u8;
                let s = &*scope.alloc_slice_fill_copy(len, tag);
                mine.push(Box::new(move || s.iter().all(|&b| b == tag)));
            }
        }
    }
    assert!(mine.iter().all(|check| check()));
    assert!(outer.iter().all(|check| check()));
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 4 } else { 500 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Random programs of nested scopes: every nested scope drops its values
    /// once and rewinds, the enclosing scopes' values stay intact, and
    /// running the program again allocates no new block.
    #[test]
    fn nested_scope_programs(
        ops in prop::collection::vec(nest_op(), 0..if cfg!(miri) { 24 } else { 150 }),
        block_log2 in 8u32..13,
    ) {
        let mut arena = MemoryArena::with_block_size(1 << block_log2);
        let mut blocks = None;
        for _ in 0..2 {
            let drops = Rc::new(RefCell::new(Vec::new()));
            {
                let scope = arena.allocator();
                run_nested(&scope, &mut ops.iter(), &drops, &[], 0);
            }
            prop_assert!(drops.borrow().iter().all(|&d| d == 1));
            if let Some(blocks) = blocks {
                prop_assert_eq!(arena.block_count(), blocks, "no new block the second time");
            }
            blocks = Some(arena.block_count());
        }
    }
}
