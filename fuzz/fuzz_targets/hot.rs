//! The hot `Pool` against a model of its entries: `PoolBox` (deref, mutate,
//! `into_inner`, `into_slot`, drop), `PoolRc` (clone, `strong_count`,
//! `ptr_eq`, `try_unwrap`, drop of the last handle), and bare slots through
//! the paths a caller can use soundly: `alloc`/`alloc_uninit` +
//! `get_uninit`/`assume_init`, `get`/`get_mut`/`pin` with the state checks
//! that refuse mixing them (and reading an uninitialized slot), NaN-tagged
//! `u64` round trips, and giving each slot back once with `free`, `take`
//! or `forget`. The first block is small, so programs span several blocks.
//! Values record their drops; some destructors panic inside `free`, a box's
//! drop or the last `PoolRc`'s drop, which must still free the entry.

#![no_main]

use std::mem::MaybeUninit;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use managed::hot::TAG_MASK;
use managed::prelude::*;
use managed_fuzz::{Tracked, catch, drops, expect_panic_with, install_panic_hook, pick};

const MAX_OPS: usize = 256;

/// Every handle is read and the counts compared every this many steps (and
/// at the end).
const CHECK_EVERY: usize = 8;

#[derive(Arbitrary, Debug)]
enum Op {
    Alloc(u8, bool),
    AllocUninit,
    TryAllocUninit,
    Init(u8, u8),
    Get(u8),
    GetMut(u8, u8),
    Pin(u8),
    Tag(u8, u64),
    Free(u8),
    Take(u8),
    Forget(u8),
    Boxed(u8, bool),
    SetBox(u8, u8),
    BoxIntoInner(u8),
    BoxIntoSlot(u8),
    DropBox(u8),
    Rc(u8, bool),
    CloneRc(u8),
    DropRc(u8),
    TryUnwrap(u8),
}

#[derive(Arbitrary, Debug)]
struct Program {
    first_block: u8,
    ops: Vec<Op>,
}

/// What the model knows of a bare slot.
#[derive(Clone, Copy, Debug, PartialEq)]
enum State {
    Uninit,
    Init,
    Mutated,
    Pinned,
}

struct Bare {
    slot: Slot<Tracked>,
    state: State,
    /// `(id, value)` once initialized.
    seen: Option<(u32, u64)>,
}

fn seen(t: &Tracked) -> (u32, u64) {
    (t.id(), t.value())
}

fn run(program: &Program) {
    let pool: Pool<Tracked> = Pool::with_first_block(1 + usize::from(program.first_block % 8));
    let other: Pool<Tracked> = Pool::new();
    let mut bare: Vec<Bare> = Vec::new();
    let mut boxes: Vec<(PoolBox<'_, Tracked>, (u32, u64))> = Vec::new();
    // Handles of shared values: `(handle, id)`.
    let mut rcs: Vec<(PoolRc<'_, Tracked>, u32)> = Vec::new();
    let mut leaked: Vec<u32> = Vec::new();

    let ops = &program.ops[..program.ops.len().min(MAX_OPS)];
    for (step, op) in ops.iter().enumerate() {
        match *op {
            Op::Alloc(v, bomb) => {
                let slot = pool.alloc(Tracked::with_bomb(v.into(), bomb));
                assert!(pool.contains(&slot) && !other.contains(&slot));
                assert_eq!(slot.state(), SlotState::Init);
                let s = seen(slot.get());
                bare.push(Bare {
                    slot,
                    state: State::Init,
                    seen: Some(s),
                });
            }
            Op::AllocUninit => {
                let slot = pool.alloc_uninit();
                assert!(!slot.is_initialized());
                bare.push(Bare {
                    slot,
                    state: State::Uninit,
                    seen: None,
                });
            }
            Op::TryAllocUninit => {
                let slot = pool.try_alloc_uninit().expect("small blocks fit");
                bare.push(Bare {
                    slot,
                    state: State::Uninit,
                    seen: None,
                });
            }
            Op::Init(i, v) => {
                if let Some(i) = pick(i, bare.len()) {
                    let b = &mut bare[i];
                    if b.state == State::Uninit {
                        let t = Tracked::new(v.into());
                        b.seen = Some(seen(&t));
                        // SAFETY: the only handle of an uninitialized slot;
                        // the reference ends before `assume_init`, after
                        // the value was written whole.
                        unsafe {
                            b.slot.get_uninit().write(t);
                            b.slot.assume_init();
                        }
                        b.state = State::Init;
                    } else {
                        // SAFETY: refused before anything is touched.
                        expect_panic_with("hot::Slot::get_uninit", || unsafe {
                            let _: &mut MaybeUninit<Tracked> = b.slot.get_uninit();
                        });
                    }
                }
            }
            Op::Get(i) => {
                if let Some(i) = pick(i, bare.len()) {
                    let b = &bare[i];
                    match b.seen {
                        Some(s) => assert_eq!(seen(b.slot.get()), s),
                        None => expect_panic_with("uninitialized", || seen(b.slot.get())),
                    }
                }
            }
            Op::GetMut(i, v) => {
                if let Some(i) = pick(i, bare.len()) {
                    let b = &mut bare[i];
                    match b.state {
                        State::Init | State::Mutated => {
                            b.slot.get_mut().set(v.into());
                            b.seen.as_mut().unwrap().1 = v.into();
                            b.state = State::Mutated;
                            assert!(b.slot.is_mutated());
                        }
                        State::Pinned => expect_panic_with("pinned", || {
                            b.slot.get_mut().set(0);
                        }),
                        State::Uninit => expect_panic_with("uninitialized", || {
                            b.slot.get_mut().set(0);
                        }),
                    }
                }
            }
            Op::Pin(i) => {
                if let Some(i) = pick(i, bare.len()) {
                    let b = &mut bare[i];
                    match b.state {
                        State::Init | State::Pinned => {
                            assert_eq!(seen(&b.slot.pin()), b.seen.unwrap());
                            b.state = State::Pinned;
                            assert!(b.slot.is_pinned());
                        }
                        State::Mutated => expect_panic_with("get_mut was called", || {
                            let _ = b.slot.pin();
                        }),
                        State::Uninit => expect_panic_with("uninitialized", || {
                            let _ = b.slot.pin();
                        }),
                    }
                }
            }
            Op::Tag(i, tags) => {
                if let Some(i) = pick(i, bare.len()) {
                    let b = bare.swap_remove(i);
                    let bits = b.slot.into_u64();
                    assert_eq!(bits & TAG_MASK, 0);
                    // SAFETY: the bits of a live slot, its only handle, with
                    // tags in the free bits only.
                    let slot = unsafe { Slot::from_u64_masked(bits | (tags & TAG_MASK)) };
                    assert!(pool.contains(&slot));
                    if let Some(s) = b.seen {
                        assert_eq!(seen(slot.get()), s);
                    }
                    bare.push(Bare { slot, ..b });
                }
            }
            Op::Free(i) => {
                if let Some(i) = pick(i, bare.len()) {
                    let b = bare.swap_remove(i);
                    // SAFETY: from `pool`, its only handle, no reference
                    // alive. A panicking destructor still frees the entry.
                    let _ = catch(|| unsafe { pool.free(b.slot) });
                }
            }
            Op::Take(i) => {
                if let Some(i) = pick(i, bare.len())
                    && matches!(bare[i].state, State::Init | State::Mutated)
                {
                    let b = bare.swap_remove(i);
                    // SAFETY: as for `free`; initialized and not pinned.
                    let t = unsafe { pool.take(b.slot) };
                    assert_eq!(Some(seen(&t)), b.seen);
                    let _ = catch(move || drop(t));
                }
            }
            Op::Forget(i) => {
                if let Some(i) = pick(i, bare.len())
                    && bare[i].state != State::Pinned
                {
                    let b = bare.swap_remove(i);
                    // SAFETY: as for `free`; not pinned. The value is never
                    // dropped.
                    unsafe { pool.forget(b.slot) };
                    leaked.extend(b.seen.map(|s| s.0));
                }
            }
            Op::Boxed(v, bomb) => {
                let b = pool.alloc_box(Tracked::with_bomb(v.into(), bomb));
                assert!(std::ptr::eq(PoolBox::pool(&b), &pool));
                let s = seen(&b);
                boxes.push((b, s));
            }
            Op::SetBox(i, v) => {
                if let Some(i) = pick(i, boxes.len()) {
                    boxes[i].0.set(v.into());
                    boxes[i].1.1 = v.into();
                }
            }
            Op::BoxIntoInner(i) => {
                if let Some(i) = pick(i, boxes.len()) {
                    let (b, s) = boxes.swap_remove(i);
                    let t = PoolBox::into_inner(b);
                    assert_eq!(seen(&t), s);
                    let _ = catch(move || drop(t));
                }
            }
            Op::BoxIntoSlot(i) => {
                if let Some(i) = pick(i, boxes.len()) {
                    let (b, s) = boxes.swap_remove(i);
                    let slot = PoolBox::into_slot(b);
                    assert!(slot.is_initialized() && !slot.is_pinned());
                    // The box may have handed out `&mut`: the slot's state
                    // says whether it can still be pinned.
                    let state = if slot.is_mutated() {
                        State::Mutated
                    } else {
                        State::Init
                    };
                    bare.push(Bare {
                        slot,
                        state,
                        seen: Some(s),
                    });
                }
            }
            Op::DropBox(i) => {
                if let Some(i) = pick(i, boxes.len()) {
                    let (b, _) = boxes.swap_remove(i);
                    let _ = catch(move || drop(b));
                }
            }
            Op::Rc(v, bomb) => {
                let r = pool.alloc_rc(Tracked::with_bomb(v.into(), bomb));
                assert_eq!(PoolRc::strong_count(&r), 1);
                let id = r.id();
                rcs.push((r, id));
            }
            Op::CloneRc(i) => {
                if let Some(i) = pick(i, rcs.len()) {
                    let (r, id) = &rcs[i];
                    let c = r.clone();
                    assert!(PoolRc::ptr_eq(r, &c));
                    let id = *id;
                    rcs.push((c, id));
                }
            }
            Op::DropRc(i) => {
                if let Some(i) = pick(i, rcs.len()) {
                    let (r, _) = rcs.swap_remove(i);
                    let _ = catch(move || drop(r));
                }
            }
            Op::TryUnwrap(i) => {
                if let Some(i) = pick(i, rcs.len()) {
                    let (r, id) = rcs.swap_remove(i);
                    let others = rcs.iter().filter(|(_, o)| *o == id).count();
                    match PoolRc::try_unwrap(r) {
                        Ok(t) => {
                            assert_eq!(others, 0);
                            assert_eq!(t.id(), id);
                            let _ = catch(move || drop(t));
                        }
                        Err(r) => {
                            assert_eq!(PoolRc::strong_count(&r), others + 1);
                            rcs.push((r, id));
                        }
                    }
                }
            }
        }
        if step % CHECK_EVERY != CHECK_EVERY - 1 && step + 1 != ops.len() {
            continue;
        }
        // Every handle reads its value; the counts agree.
        for b in &bare {
            if let Some(s) = b.seen {
                assert_eq!(seen(b.slot.get()), s);
            }
        }
        for (b, s) in &boxes {
            assert_eq!(seen(b), *s);
        }
        let mut groups: Vec<u32> = rcs.iter().map(|r| r.1).collect();
        groups.sort_unstable();
        groups.dedup();
        for (r, id) in &rcs {
            assert_eq!(r.id(), *id);
            let n = rcs.iter().filter(|(_, o)| o == id).count();
            assert_eq!(PoolRc::strong_count(r), n);
        }
        assert_eq!(pool.len(), bare.len() + boxes.len() + groups.len());
        assert!(pool.capacity() >= pool.len());
        let values = bare.iter().filter(|b| b.seen.is_some()).count() + boxes.len() + groups.len();
        assert_eq!(drops::live(), values + leaked.len());
    }
    // Give everything back before the pool goes (a pool dropped with live
    // entries is a misuse).
    for b in bare {
        // SAFETY: from `pool`, the only handle, no reference alive.
        let _ = catch(|| unsafe { pool.free(b.slot) });
    }
    for (b, _) in boxes {
        let _ = catch(move || drop(b));
    }
    for (r, _) in rcs {
        let _ = catch(move || drop(r));
    }
    assert!(pool.is_empty());
    drops::assert_each_once_except(|id| leaked.contains(&id));
}

fuzz_target!(|program: Program| {
    install_panic_hook();
    drops::reset();
    run(&program);
});
