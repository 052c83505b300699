//! `MemoryArena` scopes: raw blocks of random sizes and alignments (up to
//! 4 KiB) filled with patterns, copied slices, strings, uninitialized
//! slices, over-aligned values, and values with destructors (one at a time,
//! built in place, and slices built element by element), where building
//! may panic part-way. Every allocation is aligned, overlaps no other live
//! allocation and keeps its contents until its scope ends; then the values
//! that need dropping are dropped exactly once, most recent first, also
//! when one of their destructors panics; the next scope reuses the blocks
//! (`reset` and `shrink_to_fit` between scopes too).

#![no_main]

use std::alloc::Layout;
use std::cell::RefCell;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use managed::prelude::*;
use managed_fuzz::{Intended, Tracked, catch, drops, install_panic_hook};

const MAX_OPS: usize = 192;

thread_local! {
    /// Ids in the order their values were dropped.
    static ORDER: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
}

/// A tracked value that also logs the order of drops.
struct Ordered(Tracked);

impl Ordered {
    fn new(value: u64, bomb: bool) -> Self {
        Ordered(Tracked::with_bomb(value, bomb))
    }
}

impl Drop for Ordered {
    fn drop(&mut self) {
        ORDER.with(|o| o.borrow_mut().push(self.0.id()));
    }
}

#[repr(align(128))]
#[derive(Debug, PartialEq)]
struct Wide(u64);

#[derive(Arbitrary, Debug)]
enum Op {
    Raw {
        size: u16,
        align_log2: u8,
    },
    Copy(u8),
    Str(u8),
    Uninit(u8),
    Aligned(u64),
    Value(u8, bool),
    ValueWith {
        value: u8,
        panics: bool,
    },
    Slice {
        len: u8,
        bomb_at: Option<u8>,
        panic_at: Option<u8>,
    },
    Mutate(u8, u8),
    /// Ends the scope; then 1 resets the arena, 2 frees every block.
    NewScope(u8),
}

#[derive(Arbitrary, Debug)]
struct Program {
    block_log2: u8,
    ops: Vec<Op>,
}

fn byte(salt: usize, i: usize) -> u8 {
    (salt.wrapping_mul(31).wrapping_add(i)) as u8
}

/// One live allocation: its byte range and a check of its contents.
struct Live<'s> {
    range: (usize, usize),
    check: Box<dyn Fn() -> bool + 's>,
}

fn run(program: &Program) {
    let mut arena = MemoryArena::with_block_size(1 << (6 + program.block_log2 % 8));
    let mut ops = program.ops.iter().take(MAX_OPS).enumerate().peekable();
    while ops.peek().is_some() {
        let blocks = arena.block_count();
        let scope = arena.allocator();
        let mut live: Vec<Live<'_>> = Vec::new();
        // Ids registered for dropping, in registration order (a slice's
        // elements in index order).
        let mut registered: Vec<Vec<u32>> = Vec::new();
        let mut values: Vec<&mut Ordered> = Vec::new();
        let mut after = 0;
        for (salt, op) in ops.by_ref() {
            let before = live.len();
            match *op {
                Op::NewScope(then) => {
                    after = then % 3;
                    break;
                }
                Op::Raw { size, align_log2 } => {
                    let (size, align) = (usize::from(size % 1200), 1usize << (align_log2 % 13));
                    let layout = Layout::from_size_align(size, align).unwrap();
                    let p = scope.alloc_layout(layout).as_ptr();
                    assert_eq!(p.addr() % align, 0);
                    // SAFETY: `p` is `size` fresh bytes for this scope.
                    let bytes = unsafe { std::slice::from_raw_parts_mut(p, size) };
                    for (i, b) in bytes.iter_mut().enumerate() {
                        *b = byte(salt, i);
                    }
                    let bytes = &*bytes;
                    live.push(Live {
                        range: (p.addr(), p.addr() + size),
                        check: Box::new(move || {
                            bytes.iter().enumerate().all(|(i, &b)| b == byte(salt, i))
                        }),
                    });
                }
                Op::Copy(len) => {
                    let src: Vec<u32> = (0..len)
                        .map(|i| (salt * 1000) as u32 + u32::from(i))
                        .collect();
                    let s = &*scope.alloc_slice_copy(&src);
                    assert_eq!(s.as_ptr().addr() % 4, 0);
                    live.push(Live {
                        range: (s.as_ptr().addr(), s.as_ptr().addr() + 4 * s.len()),
                        check: Box::new(move || s == src.as_slice()),
                    });
                }
                Op::Str(len) => {
                    let text: String = (0..len).map(|i| char::from(b'a' + i % 26)).collect();
                    let s = &*scope.alloc_str(&text);
                    live.push(Live {
                        range: (s.as_ptr().addr(), s.as_ptr().addr() + s.len()),
                        check: Box::new(move || s == text),
                    });
                }
                Op::Uninit(len) => {
                    let s = scope.alloc_uninit_slice::<u64>(len.into());
                    assert_eq!(s.len(), usize::from(len));
                    for (i, x) in s.iter_mut().enumerate() {
                        x.write(salt as u64 * 7 + i as u64);
                    }
                    // SAFETY: every element was just written.
                    let s = &*unsafe { &mut *(s as *mut [_] as *mut [u64]) };
                    live.push(Live {
                        range: (s.as_ptr().addr(), s.as_ptr().addr() + 8 * s.len()),
                        check: Box::new(move || {
                            s.iter()
                                .enumerate()
                                .all(|(i, &x)| x == salt as u64 * 7 + i as u64)
                        }),
                    });
                }
                Op::Aligned(v) => {
                    let w = &*scope.alloc(Wide(v));
                    let at = (w as *const Wide).addr();
                    assert_eq!(at % 128, 0);
                    live.push(Live {
                        range: (at, at + 128),
                        check: Box::new(move || *w == Wide(v)),
                    });
                }
                Op::Value(v, bomb) => {
                    let r = scope.alloc(Ordered::new(v.into(), bomb));
                    registered.push(vec![r.0.id()]);
                    let at = (r as *const Ordered).addr();
                    live.push(Live {
                        range: (at, at + size_of::<Ordered>()),
                        check: Box::new(|| true),
                    });
                    values.push(r);
                }
                Op::ValueWith { value, panics } => {
                    let ids = drops::ids();
                    let result = catch(|| {
                        scope.alloc_with(|| {
                            if panics {
                                std::panic::panic_any(Intended);
                            }
                            Ordered::new(value.into(), false)
                        })
                    });
                    match result {
                        Some(r) => {
                            registered.push(vec![r.0.id()]);
                            let at = (r as *const Ordered).addr();
                            live.push(Live {
                                range: (at, at + size_of::<Ordered>()),
                                check: Box::new(|| true),
                            });
                            values.push(r);
                        }
                        None => assert_eq!(drops::ids(), ids, "nothing built"),
                    }
                }
                Op::Slice {
                    len,
                    bomb_at,
                    panic_at,
                } => {
                    let len = usize::from(len % 24);
                    let first = drops::ids();
                    let result = catch(|| {
                        scope.alloc_slice_fill_with(len, |i| {
                            if panic_at.is_some_and(|p| usize::from(p) == i) {
                                std::panic::panic_any(Intended);
                            }
                            Ordered::new(i as u64, bomb_at.is_some_and(|b| usize::from(b) == i))
                        })
                    });
                    match result {
                        Some(s) => {
                            assert_eq!(s.len(), len);
                            if len > 0 {
                                registered.push(s.iter().map(|o| o.0.id()).collect());
                            }
                            let at = s.as_ptr().addr();
                            live.push(Live {
                                range: (at, at + len * size_of::<Ordered>()),
                                check: Box::new(move || {
                                    s.iter().enumerate().all(|(i, o)| o.0.value() == i as u64)
                                }),
                            });
                        }
                        None => {
                            // The prefix built was dropped at once (a bomb
                            // in it stays quiet while unwinding).
                            for id in first..drops::ids() {
                                assert_eq!(drops::count(id), 1, "prefix dropped");
                            }
                        }
                    }
                }
                Op::Mutate(i, v) => {
                    if !values.is_empty() {
                        let n = values.len();
                        values[usize::from(i) % n].0.set(v.into());
                    }
                }
            }
            // The new allocation overlaps no other.
            if live.len() > before {
                let (a, b) = live[live.len() - 1].range;
                if a != b {
                    for l in &live[..live.len() - 1] {
                        assert!(
                            l.range.1 <= a || b <= l.range.0 || l.range.0 == l.range.1,
                            "overlap"
                        );
                    }
                }
            }
        }
        assert!(live.iter().all(|l| (l.check)()), "contents intact");
        let payload: usize = live.iter().map(|l| l.range.1 - l.range.0).sum();
        assert!(scope.stats().live_bytes >= payload);
        drop(live);
        drop(values);
        let ids: Vec<u32> = registered.iter().flatten().copied().collect();
        assert!(ids.iter().all(|&id| drops::count(id) == 0), "dropped early");
        ORDER.with(|o| o.borrow_mut().clear());
        // A bomb's panic comes out of the scope's drop after every other
        // value was dropped.
        let _ = catch(move || drop(scope));
        assert!(ids.iter().all(|&id| drops::count(id) == 1), "dropped once");
        // Most recent first; a slice's elements in index order.
        let want: Vec<u32> = registered.iter().rev().flatten().copied().collect();
        ORDER.with(|o| assert_eq!(*o.borrow(), want, "drop order"));
        // Blocks are kept: a scope never gives any back.
        assert!(arena.block_count() >= blocks);
        match after {
            1 => {
                arena.reset();
                assert!(arena.block_count() <= 1);
            }
            2 => {
                arena.shrink_to_fit();
                assert_eq!((arena.block_count(), arena.stats().reserved_bytes), (0, 0));
            }
            _ => {}
        }
    }
}

fuzz_target!(|program: Program| {
    install_panic_hook();
    drops::reset();
    run(&program);
    drops::assert_each_once();
});
