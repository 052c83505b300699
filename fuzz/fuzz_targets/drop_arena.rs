//! `DropArena` against a model of its slots: values are given back in
//! every way the arena offers (`drop_box`, `box_to_inner`,
//! `free_without_dropping`, which reuse the slot, and a plain drop,
//! `into_inner` and `leak`, which abandon it), and boxes own boxes of the
//! same arena (chains whose inner boxes are dropped as values). `len` and
//! `max_len` must follow the model (a new slot is carved only when the free
//! list is empty), every value must be dropped exactly once (never, for a
//! leaked or forgotten value), also when a destructor panics inside
//! `drop_box`. A zero-sized type's arena counts the same way.

#![no_main]

use std::cell::Cell;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use managed::prelude::*;
use managed_fuzz::{Tracked, catch, drops, install_panic_hook, pick};

const MAX_OPS: usize = 256;

/// The chains and counts are compared with the model every this many steps
/// (and at the end).
const CHECK_EVERY: usize = 4;

/// A value that may own the next box of its chain.
struct Elem<'a> {
    t: Tracked,
    next: Option<DropBox<'a, Elem<'a>>>,
}

thread_local! {
    static ZST_DROPS: Cell<usize> = const { Cell::new(0) };
}

struct Zst;

impl Drop for Zst {
    fn drop(&mut self) {
        ZST_DROPS.with(|d| d.set(d.get() + 1));
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    Alloc(u8, bool),
    DropBox(u8),
    BoxToInner(u8),
    FreeWithoutDropping(u8),
    Drop(u8),
    IntoInner(u8),
    Leak(u8, u8),
    Set(u8, u8),
    /// Appends chain `b` to the end of chain `a`.
    Append {
        a: u8,
        b: u8,
    },
    /// Splits the first box off chain `a`: its successor becomes a chain.
    Split(u8),
    AllocZst,
    DropBoxZst(u8),
    DropZst(u8),
}

#[derive(Arbitrary, Debug)]
struct Program {
    capacity: Option<u8>,
    ops: Vec<Op>,
}

/// The model of one chain: `(id, value)` from the box held to the last.
type Chain = Vec<(u32, u64)>;

fn chain_of(b: &DropBox<'_, Elem<'_>>) -> Chain {
    let mut out = vec![(b.t.id(), b.t.value())];
    let mut at = &b.next;
    while let Some(n) = at {
        out.push((n.t.id(), n.t.value()));
        at = &n.next;
    }
    out
}

struct Model {
    chains: Vec<Chain>,
    /// Slots in use: live boxes and abandoned slots.
    in_use: usize,
    /// Slots ever carved.
    carved: usize,
    /// Ids whose values were never to be dropped.
    leaked: Vec<u32>,
}

impl Model {
    fn alloc(&mut self) {
        self.in_use += 1;
        self.carved = self.carved.max(self.in_use);
    }
}

fn run(program: &Program) {
    let arena = &match program.capacity {
        Some(n) => DropArena::with_capacity(usize::from(n)),
        None => DropArena::new(),
    };
    let zst_arena: &DropArena<'_, Zst> = &DropArena::new();
    let mut boxes: Vec<DropBox<'_, Elem<'_>>> = Vec::new();
    let mut m = Model {
        chains: Vec::new(),
        in_use: 0,
        carved: 0,
        leaked: Vec::new(),
    };
    let mut zsts: Vec<DropBox<'_, Zst>> = Vec::new();
    let (mut zst_in_use, mut zst_carved, mut zst_made) = (0usize, 0usize, 0usize);

    let ops = &program.ops[..program.ops.len().min(MAX_OPS)];
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Alloc(v, bomb) => {
                let b = arena.alloc(Elem {
                    t: Tracked::with_bomb(v.into(), bomb),
                    next: None,
                });
                m.alloc();
                m.chains.push(chain_of(&b));
                boxes.push(b);
            }
            Op::DropBox(i) => {
                if let Some(i) = pick(i, boxes.len()) {
                    // The slot is reclaimed even when a destructor in the
                    // chain panics; the inner boxes are dropped as values.
                    let b = boxes.swap_remove(i);
                    let _ = catch(|| arena.drop_box(b));
                    m.chains.swap_remove(i);
                    m.in_use -= 1;
                }
            }
            Op::BoxToInner(i) => {
                if let Some(i) = pick(i, boxes.len()) {
                    let e = arena.box_to_inner(boxes.swap_remove(i));
                    assert_eq!((e.t.id(), e.t.value()), m.chains.swap_remove(i)[0]);
                    m.in_use -= 1;
                    let _ = catch(move || drop(e));
                }
            }
            Op::FreeWithoutDropping(i) => {
                if let Some(i) = pick(i, boxes.len()) {
                    arena.free_without_dropping(boxes.swap_remove(i));
                    // Nothing in the chain is dropped; the inner boxes'
                    // slots stay in use, abandoned.
                    m.leaked.extend(m.chains.swap_remove(i).iter().map(|e| e.0));
                    m.in_use -= 1;
                }
            }
            Op::Drop(i) => {
                if let Some(i) = pick(i, boxes.len()) {
                    let b = boxes.swap_remove(i);
                    let _ = catch(move || drop(b));
                    m.chains.swap_remove(i);
                }
            }
            Op::IntoInner(i) => {
                if let Some(i) = pick(i, boxes.len()) {
                    let e = boxes.swap_remove(i).into_inner();
                    assert_eq!((e.t.id(), e.t.value()), m.chains.swap_remove(i)[0]);
                    let _ = catch(move || drop(e));
                }
            }
            Op::Leak(i, v) => {
                if let Some(i) = pick(i, boxes.len()) {
                    let r: &mut Elem<'_> = boxes.swap_remove(i).leak();
                    r.t.set(v.into());
                    assert_eq!(r.t.id(), m.chains[i][0].0);
                    m.leaked.extend(m.chains.swap_remove(i).iter().map(|e| e.0));
                }
            }
            Op::Set(i, v) => {
                if let Some(i) = pick(i, boxes.len()) {
                    boxes[i].t.set(v.into());
                    m.chains[i][0].1 = v.into();
                }
            }
            Op::Append { a, b } => {
                if boxes.len() >= 2 {
                    let a = usize::from(a) % boxes.len();
                    let mut b = usize::from(b) % boxes.len();
                    if a == b {
                        b = (b + 1) % boxes.len();
                    }
                    let tail = boxes.swap_remove(b);
                    let tail_model = m.chains.swap_remove(b);
                    // `swap_remove` moved the last chain into `b`.
                    let a = if a == boxes.len() { b } else { a };
                    let mut at = &mut boxes[a].next;
                    while let Some(n) = at {
                        at = &mut n.next;
                    }
                    *at = Some(tail);
                    m.chains[a].extend(tail_model);
                }
            }
            Op::Split(i) => {
                if let Some(i) = pick(i, boxes.len())
                    && let Some(rest) = boxes[i].next.take()
                {
                    let tail = m.chains[i].split_off(1);
                    assert_eq!(chain_of(&rest), tail);
                    boxes.push(rest);
                    m.chains.push(tail);
                }
            }
            Op::AllocZst => {
                zsts.push(zst_arena.alloc(Zst));
                zst_made += 1;
                zst_in_use += 1;
                zst_carved = zst_carved.max(zst_in_use);
            }
            Op::DropBoxZst(i) => {
                if let Some(i) = pick(i, zsts.len()) {
                    zst_arena.drop_box(zsts.swap_remove(i));
                    zst_in_use -= 1;
                }
            }
            Op::DropZst(i) => {
                if let Some(i) = pick(i, zsts.len()) {
                    drop(zsts.swap_remove(i));
                }
            }
        }
        if step % CHECK_EVERY != CHECK_EVERY - 1 && step + 1 != ops.len() {
            continue;
        }
        assert!(boxes.iter().map(chain_of).eq(m.chains.iter().cloned()));
        assert_eq!(arena.len(), m.in_use);
        assert_eq!(arena.max_len(), m.carved);
        assert_eq!(arena.is_empty(), m.in_use == 0);
        assert_eq!(arena.stats().live_bytes, m.in_use * size_of::<Elem<'_>>());
        assert!(arena.stats().live_bytes <= arena.stats().reserved_bytes);
        let live: usize = m.chains.iter().map(Vec::len).sum();
        assert_eq!(drops::live(), live + m.leaked.len());
        assert_eq!(
            (zst_arena.len(), zst_arena.max_len()),
            (zst_in_use, zst_carved)
        );
        assert_eq!(zst_arena.stats().reserved_bytes, 0);
        assert_eq!(ZST_DROPS.with(Cell::get), zst_made - zsts.len());
    }
    for b in boxes {
        let _ = catch(move || drop(b));
    }
    drop(zsts);
    assert_eq!(ZST_DROPS.with(Cell::get), zst_made);
    drops::assert_each_once_except(|id| m.leaked.contains(&id));
}

fuzz_target!(|program: Program| {
    install_panic_hook();
    drops::reset();
    ZST_DROPS.with(|d| d.set(0));
    run(&program);
});
