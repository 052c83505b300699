//! Hot pool: the basic allocate / access / free cycle, one test per contract, NaN tagging,
//! property tests against a `HashMap` model, and drop accounting.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use managed::hot::{ADDRESS_MASK, TAG_MASK, leaked_bytes};
use managed::prelude::*;
use proptest::prelude::*;

use crate::common::{Ledger, Tracked};

// ---------------------------------------------------------------- basics

#[test]
fn alloc_then_free() {
    let pool: Pool<&str> = Pool::new();
    let memory = pool.alloc("Hello Memory");
    assert_eq!(pool.len(), 1);
    // SAFETY: from `pool`, no reference alive.
    unsafe { pool.free(memory) };
    assert_eq!(pool.len(), 0);
}

#[test]
fn pool_leak() {
    let before = leaked_bytes();
    let pool: Pool<&str> = Pool::new();
    let memory = pool.alloc("Hello Memory");
    pool.leak();
    // The slot stays valid after the pool is gone.
    assert_eq!(*memory.get(), "Hello Memory");
    assert!(leaked_bytes() >= before + 64);
}

#[test]
fn alloc_and_access() {
    let pool: Pool<&str> = Pool::new();
    let mut memory = pool.alloc("Hello Memory");
    assert_eq!(memory.get(), &"Hello Memory");
    assert_eq!(memory.get_mut(), &"Hello Memory");
    *memory.get_mut() = "changed";
    assert_eq!(memory.get(), &"changed");
    // SAFETY: from `pool`, no reference alive.
    unsafe { pool.free(memory) };
}

#[test]
fn alloc_more() {
    let pool: Pool<String> = Pool::new();
    let n = if cfg!(miri) { 200 } else { 1000 };
    let mut slots: Vec<Slot<String>> = (0..n).map(|i| pool.alloc(i.to_string())).collect();
    assert_eq!(pool.len(), n);
    assert!(pool.capacity() >= n);
    for (i, s) in slots.iter().enumerate() {
        assert_eq!(*s.get(), i.to_string());
    }
    // Distinct, stable addresses.
    let mut addrs: Vec<usize> = slots
        .iter()
        .map(|s| std::ptr::from_ref(s.get()).addr())
        .collect();
    addrs.sort_unstable();
    addrs.dedup();
    assert_eq!(addrs.len(), n);
    for s in slots.drain(..) {
        // SAFETY: from `pool`, no reference alive.
        unsafe { pool.free(s) };
    }
    assert!(pool.is_empty());
}

#[test]
fn alloc_uninit_then_init() {
    let pool: Pool<&str> = Pool::new();
    let mut memory = pool.alloc_uninit();
    assert_eq!(memory.state(), SlotState::Uninit);
    // SAFETY: written before `assume_init`, borrow ended.
    unsafe {
        memory.get_uninit().write("Hello Init");
        memory.assume_init();
    }
    assert_eq!(memory.state(), SlotState::Init);
    assert_eq!(memory.get(), &"Hello Init");
    // SAFETY: from `pool`, no reference alive.
    unsafe { pool.free(memory) };
}

#[test]
fn pin_check() {
    let pool: Pool<String> = Pool::new();
    let mut s = pool.alloc("pinned".to_string());
    s.pin().as_mut().push('!');
    assert!(s.is_pinned());
    assert_eq!(s.get(), "pinned!");
    // SAFETY: from `pool`, no reference alive.
    unsafe { pool.free(s) };
}

#[test]
fn documented_call_shapes() {
    let pool: Pool<u64> = Pool::new();
    let mut s: Slot<u64> = pool.alloc(5);
    let _: &u64 = s.get();
    let _: &mut u64 = s.get_mut();
    // SAFETY: from `pool`, no reference alive.
    unsafe { pool.free(s) };
    let mut u = pool.alloc_uninit();
    // SAFETY: written, borrow ended.
    unsafe {
        u.get_uninit().write(6);
        u.assume_init();
    }
    let bits: u64 = u.into_u64();
    assert_eq!(bits & TAG_MASK, 0);
    // SAFETY: `bits` is a live slot of `pool`.
    let s: Slot<u64> = unsafe { Slot::from_u64(bits) };
    // SAFETY: same.
    let s2: Slot<u64> = unsafe { Slot::from_u64_masked(bits | TAG_MASK) };
    // SAFETY: the duplicate is only read, then forgotten without freeing.
    let dup = unsafe { s.copy() };
    assert_eq!((*s.get(), *s2.get(), *dup.get()), (6, 6, 6));
    let b: PoolBox<'_, u64> = pool.alloc_box(7);
    assert_eq!(*b, 7);
    drop(b);
    // SAFETY: one free for the three handles, none used afterwards.
    unsafe { pool.free(s) };
    pool.leak();
}

// ------------------------------------------------------------------ contracts

/// Contract 1: a slot given back to another pool panics (debug builds).
#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "does not belong")]
fn contract1_foreign_slot_panics_in_debug() {
    let a: Pool<u32> = Pool::new();
    let b: Pool<u32> = Pool::new();
    let _keep_b_nonempty = b.alloc_box(0);
    let s = a.alloc(1);
    // SAFETY: deliberately wrong pool: caught before anything is touched.
    unsafe { b.free(s) };
}

/// Contract 1: ownership is what the debug check tests.
#[test]
fn contract1_contains() {
    let a: Pool<u32> = Pool::new();
    let b: Pool<u32> = Pool::new();
    let s = a.alloc(1);
    let t = b.alloc(2);
    assert!(a.contains(&s) && !a.contains(&t) && b.contains(&t) && !b.contains(&s));
    // SAFETY: each to its own pool.
    unsafe {
        a.free(s);
        b.free(t);
    }
}

/// Contract 2: a pool dropped with live slots panics (debug builds).
#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "dropped with 1 live slot")]
fn contract2_drop_with_live_slots_panics_in_debug() {
    let pool: Pool<u32> = Pool::new();
    let s = pool.alloc(1);
    drop(pool);
    unreachable!("{}", s.get());
}

/// Contract 2: even in debug builds the memory is leaked before the panic,
/// so the slot stays readable once the panic is caught.
#[test]
#[cfg(debug_assertions)]
fn contract2_slot_stays_valid_after_the_debug_panic() {
    let pool: Pool<String> = Pool::new();
    let s = pool.alloc("still here".to_string());
    let before = leaked_bytes();
    let r = catch_unwind(AssertUnwindSafe(move || drop(pool)));
    assert!(r.is_err());
    assert!(leaked_bytes() > before);
    assert_eq!(s.get(), "still here");
}

/// Contract 2: in release builds the pool leaks silently, the slot stays valid.
#[test]
#[cfg(not(debug_assertions))]
fn contract2_drop_with_live_slots_leaks_in_release() {
    let pool: Pool<String> = Pool::new();
    let mut s = pool.alloc("still here".to_string());
    let before = leaked_bytes();
    drop(pool);
    assert!(leaked_bytes() > before);
    s.get_mut().push('!');
    assert_eq!(s.get(), "still here!");
}

/// Contract 2: a pool dropped empty returns its memory and does not panic.
#[test]
fn contract2_empty_pool_drops_quietly() {
    let pool: Pool<u32> = Pool::new();
    let s = pool.alloc(1);
    // SAFETY: from `pool`, no reference alive.
    unsafe { pool.free(s) };
    drop(pool);
}

/// Contract 3: double free panics in every build.
#[test]
#[should_panic(expected = "freed twice")]
fn contract3_double_free_panics() {
    let pool: Pool<u32> = Pool::new();
    let s = pool.alloc(1);
    // SAFETY: the copy is freed second, which the pool catches.
    let dup = unsafe { s.copy() };
    // SAFETY: from `pool`, no reference alive.
    unsafe { pool.free(s) };
    // SAFETY: deliberate double free (caught).
    unsafe { pool.free(dup) };
}

/// Contract 3 also covers `forget` and `take`.
#[test]
fn contract3_double_forget_and_take_panic() {
    let pool: Pool<u32> = Pool::new();
    let s = pool.alloc(1);
    // SAFETY: only used for a caught double free.
    let (d1, d2) = unsafe { (s.copy(), s.copy()) };
    // SAFETY: from `pool`, no reference alive.
    unsafe { pool.forget(s) };
    assert!(d1.is_free());
    // SAFETY: deliberate double free (caught).
    let r = catch_unwind(AssertUnwindSafe(|| unsafe { pool.forget(d1) }));
    assert!(r.is_err());
    // SAFETY: deliberate double free (caught).
    let r = catch_unwind(AssertUnwindSafe(|| unsafe { pool.take(d2) }));
    assert!(r.is_err());
    assert_eq!(pool.len(), 0);
}

/// Contract 4: freeing is `unsafe` (compile-fail test
/// `tests/ui/hot/free_requires_unsafe.rs`); safe code frees through
/// `PoolBox`, whose borrow keeps references from outliving the free.
#[test]
fn contract4_safe_freeing_goes_through_poolbox() {
    let pool: Pool<String> = Pool::new();
    let b = pool.alloc_box("boxed".to_string());
    assert_eq!(pool.len(), 1);
    drop(b);
    assert_eq!(pool.len(), 0);
}

/// Contract 5: no reference from an uninitialized slot, in every build.
#[test]
#[should_panic(expected = "uninitialized")]
fn contract5_get_on_uninit_panics() {
    let pool: Pool<u32> = Pool::new();
    let s = pool.alloc_uninit();
    let _ = s.get();
}

/// Contract 5 for every accessor.
#[test]
fn contract5_all_accessors_refuse_uninit() {
    let pool: Pool<u32> = Pool::new();
    let mut s = pool.alloc_uninit();
    assert!(
        catch_unwind(AssertUnwindSafe(|| {
            let _ = s.get_mut();
        }))
        .is_err()
    );
    assert!(
        catch_unwind(AssertUnwindSafe(|| {
            let _ = s.pin();
        }))
        .is_err()
    );
    assert!(!s.is_initialized());
    // SAFETY: deliberate take of an uninitialized slot (caught, nothing read).
    let dup = unsafe { s.copy() };
    // SAFETY: caught before anything is read.
    assert!(catch_unwind(AssertUnwindSafe(|| unsafe { pool.take(dup) })).is_err());
    // An uninitialized slot is freed without running a destructor.
    // SAFETY: from `pool`, no reference alive.
    unsafe { pool.free(s) };
}

/// Contract 6: `get_mut` after `pin` panics in every build.
#[test]
#[should_panic(expected = "pinned")]
fn contract6_get_mut_after_pin_panics() {
    let pool: Pool<u32> = Pool::new();
    let mut s = pool.alloc(1);
    let _ = s.pin();
    let _ = s.get_mut();
}

/// Contract 6: `pin` after `get_mut` panics in every build.
#[test]
#[should_panic(expected = "exclusive")]
fn contract6_pin_after_get_mut_panics() {
    let pool: Pool<u32> = Pool::new();
    let mut s = pool.alloc(1);
    let _ = s.get_mut();
    let _ = s.pin();
}

/// Contract 6: a pinned value is never moved out nor forgotten.
#[test]
fn contract6_pinned_values_do_not_move() {
    let pool: Pool<u32> = Pool::new();
    let mut s = pool.alloc(1);
    let _ = s.pin();
    // SAFETY: copies used only for caught misuse.
    let (d1, d2) = unsafe { (s.copy(), s.copy()) };
    // SAFETY: caught before anything happens.
    assert!(catch_unwind(AssertUnwindSafe(|| unsafe { pool.take(d1) })).is_err());
    // SAFETY: caught before anything happens.
    assert!(catch_unwind(AssertUnwindSafe(|| unsafe { pool.forget(d2) })).is_err());
    assert_eq!(pool.len(), 1);
    // SAFETY: from `pool`, no reference alive; drops in place.
    unsafe { pool.free(s) };
}

/// Contract 7: `assume_init` while the `get_uninit` borrow is alive does not
/// compile for one slot (`tests/ui/hot/uninit_borrow_across_assume_init.rs`);
/// `get_uninit` and `assume_init` refuse initialized slots.
#[test]
fn contract7_uninit_access_only_while_uninit() {
    let pool: Pool<u32> = Pool::new();
    let mut s = pool.alloc(1);
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: caught before a reference is formed.
        let _ = unsafe { s.get_uninit() };
    }));
    assert!(r.is_err());
    // SAFETY: caught before the state changes.
    assert!(catch_unwind(AssertUnwindSafe(|| unsafe { s.assume_init() })).is_err());
    let _ = s.pin();
    // A pinned value can never be overwritten through `get_uninit`.
    let r = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: caught before a reference is formed.
        let _ = unsafe { s.get_uninit() };
    }));
    assert!(r.is_err());
    // SAFETY: from `pool`, no reference alive.
    unsafe { pool.free(s) };
}

/// Contract 8: the u64 forms obey the same checks (uninitialized here).
#[test]
#[should_panic(expected = "uninitialized")]
fn contract8_u64_round_trip_keeps_the_state() {
    let pool: Pool<u32> = Pool::new();
    let s = pool.alloc_uninit();
    // SAFETY: the bits come from a live slot; the original was consumed.
    let s: Slot<u32> = unsafe { Slot::from_u64(s.into_u64()) };
    let _ = s.get();
}

/// Contract 8: a tagged value passed to `from_u64` (not `_masked`) panics.
#[test]
#[should_panic(expected = "tag bits set")]
fn contract8_from_u64_refuses_tag_bits() {
    let pool: Pool<u32> = Pool::new();
    let bits = pool.alloc(1).into_u64();
    // SAFETY: refused before any use.
    let _ = unsafe { Slot::<u32>::from_u64(bits | 1) };
}

/// Contract 9: duplicates made through u64 still share one state word, so
/// mixing `get_mut` and `pin` across them panics.
#[test]
#[should_panic(expected = "exclusive")]
fn contract9_duplicates_share_the_pin_state() {
    let pool: Pool<u32> = Pool::new();
    let mut a = pool.alloc(1);
    // SAFETY: a duplicate; no reference conflicts (each is dropped at once).
    let mut b: Slot<u32> = unsafe { Slot::from_u64(a.copy().into_u64()) };
    let _ = a.pin();
    assert!(b.is_pinned());
    let _ = b.get_mut();
}

/// Contract 9: freeing both a slot and its u64 duplicate is caught.
#[test]
#[should_panic(expected = "freed twice")]
fn contract9_double_free_through_u64_panics() {
    let pool: Pool<u32> = Pool::new();
    let a = pool.alloc(1);
    // SAFETY: the duplicate is freed second (caught).
    let b: Slot<u32> = unsafe { Slot::from_u64_masked(a.copy().into_u64() | TAG_MASK) };
    // SAFETY: from `pool`, no reference alive.
    unsafe { pool.free(a) };
    // SAFETY: deliberate double free (caught).
    unsafe { pool.free(b) };
}

// ---------------------------------------------------------------- NaN tagging

#[test]
fn nan_tags_round_trip_every_pattern() {
    let pool: Pool<u64> = Pool::new();
    let slots: Vec<Slot<u64>> = (0..2).map(|i| pool.alloc(i)).collect();
    let bits: Vec<u64> = slots.into_iter().map(Slot::into_u64).collect();
    for &b in &bits {
        assert_eq!(b & TAG_MASK, 0);
        assert_eq!(b % 8, 0);
    }
    // All 2^16 top patterns times all 2^3 low patterns (a sample under Miri).
    let step = if cfg!(miri) { 4099 } else { 1 };
    for (i, &b) in bits.iter().enumerate() {
        for high in (0..=0xffff_u64).step_by(step) {
            for low in 0..8 {
                let tagged = b | (high << 48) | low;
                assert_eq!(tagged & ADDRESS_MASK, b);
                // SAFETY: `b` is a live slot of `pool`; the copy is only read.
                let s = unsafe { Slot::<u64>::from_u64_masked(tagged) };
                if high % 4099 == 0 {
                    assert_eq!(*s.get(), i as u64);
                }
                assert_eq!(s.into_u64(), b);
            }
        }
    }
    for b in bits {
        // SAFETY: each slot freed once, no reference alive.
        unsafe { pool.free(Slot::<u64>::from_u64(b)) };
    }
    assert!(pool.is_empty());
}

#[test]
fn nan_boxed_slots_are_nans() {
    let pool: Pool<f64> = Pool::new();
    let bits = pool.alloc(0.5).into_u64();
    let boxed = bits | 0xfff8_0000_0000_0000 | 0b011;
    assert!(f64::from_bits(boxed).is_nan());
    // SAFETY: a live slot of `pool`, freed once.
    let s = unsafe { Slot::<f64>::from_u64_masked(boxed) };
    assert_eq!(*s.get(), 0.5);
    // SAFETY: from `pool`, no reference alive.
    unsafe { pool.free(s) };
}

#[test]
fn zst_and_overaligned_entries_are_tag_friendly() {
    #[derive(Debug, PartialEq)]
    #[repr(align(256))]
    struct Wide(u8);
    let pool: Pool<Wide> = Pool::new();
    let slots: Vec<Slot<Wide>> = (0..10).map(|i| pool.alloc(Wide(i))).collect();
    for (i, s) in slots.iter().enumerate() {
        assert_eq!(std::ptr::from_ref(s.get()).addr() % 256, 0);
        assert_eq!(s.get().0 as usize, i);
    }
    for s in slots {
        // SAFETY: from `pool`, no reference alive.
        unsafe { pool.free(Slot::from_u64(s.into_u64())) };
    }
    let zst: Pool<()> = Pool::new();
    let a = zst.alloc(());
    let b = zst.alloc(());
    assert_ne!(a.into_u64() & ADDRESS_MASK, 0);
    assert_eq!(zst.len(), 2);
    zst.leak();
    assert_eq!(b.state(), SlotState::Init);
}

// ------------------------------------------------------------ drop accounting

#[test]
fn drops_exactly_once_on_free_take_forget_and_box() {
    let drops = Ledger::new();
    let pool: Pool<Tracked> = Pool::new();
    let a = pool.alloc(drops.track(1));
    let b = pool.alloc(drops.track(2));
    let c = pool.alloc(drops.track(3));
    // SAFETY: from `pool`, no reference alive.
    unsafe { pool.free(a) };
    assert_eq!(drops.total(), 1);
    // SAFETY: from `pool`, no reference alive.
    let v = unsafe { pool.take(b) };
    assert_eq!((drops.total(), v.id), (1, 2));
    drop(v);
    assert_eq!(drops.total(), 2);
    // SAFETY: from `pool`, no reference alive; `forget` leaks the value.
    let c_dup = unsafe { c.copy() };
    // SAFETY: as above.
    unsafe { pool.forget(c) };
    assert_eq!(drops.total(), 2);
    assert!(c_dup.is_free());
    let bx = pool.alloc_box(drops.track(4));
    drop(bx);
    assert_eq!(drops.total(), 3);
    let bx = pool.alloc_box(drops.track(5));
    let v = PoolBox::into_inner(bx);
    assert_eq!(drops.total(), 3);
    drop(v);
    assert_eq!(drops.total(), 4);
    assert!(pool.is_empty());
    drop(pool);
    assert_eq!(drops.total(), 4);
}

#[test]
fn leaked_pools_do_not_drop_values() {
    let drops = Ledger::new();
    let pool: Pool<Tracked> = Pool::new();
    let s = pool.alloc(drops.track(1));
    pool.leak();
    assert_eq!(drops.total(), 0);
    assert_eq!(s.get().id, 1);
}

#[test]
fn panicking_destructor_still_frees_the_entry() {
    let drops = Ledger::new();
    let pool: Pool<Tracked> = Pool::new();
    let a = pool.alloc(drops.track_loud(1));
    let keep = pool.alloc(drops.track(2));
    let addr = std::ptr::from_ref(a.get()).addr();
    // SAFETY: from `pool`, no reference alive.
    let r = catch_unwind(AssertUnwindSafe(|| unsafe { pool.free(a) }));
    assert!(r.is_err());
    assert_eq!(drops.total(), 1);
    assert_eq!(pool.len(), 1);
    // The entry is reused: it went back on the free list.
    let b = pool.alloc(drops.track(3));
    assert_eq!(std::ptr::from_ref(b.get()).addr(), addr);
    // PoolBox drop with a panicking destructor frees the entry too.
    let bx = pool.alloc_box(drops.track_loud(4));
    assert!(catch_unwind(AssertUnwindSafe(move || drop(bx))).is_err());
    assert_eq!(drops.total(), 2);
    assert_eq!(pool.len(), 2);
    // SAFETY: from `pool`, no reference alive.
    unsafe {
        pool.free(keep);
        pool.free(b);
    }
    assert_eq!(drops.total(), 4);
    assert!(pool.is_empty());
}

/// A value whose destructor allocates and frees in its own pool.
struct Reentrant<'p> {
    pool: &'p Pool<Option<Reentrant<'p>>>,
}

impl Drop for Reentrant<'_> {
    fn drop(&mut self) {
        let s = self.pool.alloc(None);
        assert!(!self.pool.is_empty());
        // SAFETY: from `self.pool`, no reference alive.
        unsafe { self.pool.free(s) };
    }
}

#[test]
fn destructor_may_use_the_pool() {
    let pool: Pool<Option<Reentrant<'_>>> = Pool::new();
    let s = pool.alloc(Some(Reentrant { pool: &pool }));
    // SAFETY: from `pool`, no reference alive.
    unsafe { pool.free(s) };
    assert!(pool.is_empty());
    let b = pool.alloc_box(Some(Reentrant { pool: &pool }));
    drop(b);
    assert!(pool.is_empty());
}

// ------------------------------------------------------------------- PoolBox

#[test]
#[allow(clippy::mutable_key_type)] // the pool's cells are not part of the key
fn poolbox_forwards_traits() {
    use std::collections::{BTreeSet, HashSet};
    let pool: Pool<String> = Pool::new();
    let a = pool.alloc_box("a".to_string());
    let b = PoolBox::new_in("b".to_string(), &pool);
    let a2 = pool.alloc_box("a".to_string());
    assert_eq!(a, a2);
    assert!(a < b);
    assert_eq!(a.cmp(&b), std::cmp::Ordering::Less);
    assert_eq!(format!("{a}/{b:?}"), "a/\"b\"");
    let as_ref: &String = a.as_ref();
    assert_eq!(as_ref, "a");
    let borrowed: &String = std::borrow::Borrow::borrow(&a);
    assert_eq!(borrowed, "a");
    let mut hs = HashSet::new();
    hs.insert(a);
    assert!(hs.contains(&a2));
    let mut bs = BTreeSet::new();
    bs.insert(b);
    bs.insert(a2);
    assert_eq!(
        bs.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(pool.len(), 3);
    drop(hs);
    drop(bs);
    assert!(pool.is_empty());
}

#[test]
fn poolbox_mutation_and_into_slot() {
    let pool: Pool<Vec<u8>> = Pool::new();
    let mut b = pool.alloc_box(vec![1]);
    b.push(2);
    b.as_mut().push(3);
    assert_eq!(*b, [1, 2, 3]);
    let mut s = PoolBox::into_slot(b);
    assert!(s.is_mutated());
    assert!(
        catch_unwind(AssertUnwindSafe(|| {
            let _ = s.pin();
        }))
        .is_err()
    );
    assert_eq!(pool.len(), 1);
    // SAFETY: from `pool`, no reference alive.
    unsafe { pool.free(s) };
    let b = pool.alloc_box(vec![]);
    assert!(std::ptr::eq(PoolBox::pool(&b), &pool));
}

#[test]
fn poolbox_iterator() {
    let pool: Pool<std::ops::Range<u32>> = Pool::new();
    let it = pool.alloc_box(0..4);
    assert_eq!(it.sum::<u32>(), 6);
    assert!(pool.is_empty());
}

#[test]
fn stats_track_live_and_reserved() {
    let pool: Pool<u64> = Pool::new();
    assert_eq!(pool.stats(), SpaceStats::new(0, 0));
    let s = pool.alloc(1);
    assert_eq!(pool.stats(), SpaceStats::new(8, 1024));
    assert!((pool.stats().space_ratio() - 8.0 / 1024.0).abs() < 1e-12);
    // SAFETY: from `pool`, no reference alive.
    unsafe { pool.free(s) };
    assert_eq!(pool.stats(), SpaceStats::new(0, 1024));
    assert_eq!(pool.capacity(), 64);
    let u = pool.try_alloc_uninit().expect("allocates");
    // SAFETY: from `pool`, uninitialized, no reference alive.
    unsafe { pool.free(u) };
}

#[test]
fn slot_debug_shows_state() {
    let pool: Pool<u8> = Pool::new();
    let mut s = pool.alloc(3);
    let _ = s.get_mut();
    let text = format!("{s:?}");
    assert!(
        text.contains("Mutated") && text.contains("value: 3"),
        "{text}"
    );
    let u = pool.alloc_uninit();
    assert!(format!("{u:?}").contains("Uninit"));
    // SAFETY: from `pool`, no reference alive.
    unsafe {
        pool.free(s);
        pool.free(u);
    }
}

// ----------------------------------------------------------- property tests

#[derive(Debug, Clone)]
enum Op {
    Alloc(u32),
    AllocUninitThenInit(u32),
    Free(usize),
    Take(usize),
    Forget(usize),
    Set(usize, u32),
    Pin(usize),
    RoundTrip(usize, u16, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => any::<u32>().prop_map(Op::Alloc),
        1 => any::<u32>().prop_map(Op::AllocUninitThenInit),
        2 => any::<usize>().prop_map(Op::Free),
        1 => any::<usize>().prop_map(Op::Take),
        1 => any::<usize>().prop_map(Op::Forget),
        2 => (any::<usize>(), any::<u32>()).prop_map(|(i, v)| Op::Set(i, v)),
        1 => any::<usize>().prop_map(Op::Pin),
        1 => (any::<usize>(), any::<u16>(), any::<u8>()).prop_map(|(i, h, l)| Op::RoundTrip(i, h, l)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 2 } else { 2000 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Random programs against a `HashMap<key, (value, pinned)>` model; a
    /// slot's key is its allocation number.
    #[test]
    fn matches_a_hashmap_model(ops in proptest::collection::vec(op(), 0..if cfg!(miri) { 24 } else { 150 })) {
        let pool: Pool<(u64, u32)> = Pool::new();
        pool.set_min_entries(4);
        let mut slots: Vec<(u64, Slot<(u64, u32)>)> = Vec::new();
        let mut model: HashMap<u64, (u32, bool)> = HashMap::new();
        let mut next_key = 0u64;
        for op in ops {
            match op {
                Op::Alloc(v) => {
                    slots.push((next_key, pool.alloc((next_key, v))));
                    model.insert(next_key, (v, false));
                    next_key += 1;
                }
                Op::AllocUninitThenInit(v) => {
                    let mut s = pool.alloc_uninit();
                    prop_assert!(!s.is_initialized());
                    // SAFETY: written before `assume_init`, borrow ended.
                    unsafe {
                        s.get_uninit().write((next_key, v));
                        s.assume_init();
                    }
                    slots.push((next_key, s));
                    model.insert(next_key, (v, false));
                    next_key += 1;
                }
                Op::Free(i) if !slots.is_empty() => {
                    let (k, s) = slots.swap_remove(i % slots.len());
                    // SAFETY: from `pool`, no reference alive.
                    unsafe { pool.free(s) };
                    model.remove(&k);
                }
                Op::Take(i) | Op::Forget(i) if !slots.is_empty() => {
                    let idx = i % slots.len();
                    let (k, _) = slots[idx];
                    if model[&k].1 {
                        continue; // pinned values are neither moved nor forgotten
                    }
                    let (k, s) = slots.swap_remove(idx);
                    if matches!(op, Op::Take(_)) {
                        // SAFETY: from `pool`, no reference alive.
                        let (key, v) = unsafe { pool.take(s) };
                        prop_assert_eq!((key, v), (k, model[&k].0));
                    } else {
                        // SAFETY: from `pool`, no reference alive.
                        unsafe { pool.forget(s) };
                    }
                    model.remove(&k);
                }
                Op::Set(i, v) if !slots.is_empty() => {
                    let idx = i % slots.len();
                    let (k, s) = &mut slots[idx];
                    if model[k].1 {
                        let r = catch_unwind(AssertUnwindSafe(|| { let _ = s.get_mut(); }));
                        prop_assert!(r.is_err());
                    } else {
                        s.get_mut().1 = v;
                        model.get_mut(k).expect("live").0 = v;
                    }
                }
                Op::Pin(i) if !slots.is_empty() => {
                    let idx = i % slots.len();
                    let (k, s) = &mut slots[idx];
                    let was_mutated = s.is_mutated();
                    let r = catch_unwind(AssertUnwindSafe(|| {
        let _ = s.pin();
    }));
                    prop_assert_eq!(r.is_ok(), !was_mutated);
                    if r.is_ok() {
                        model.get_mut(k).expect("live").1 = true;
                    }
                }
                Op::RoundTrip(i, high, low) if !slots.is_empty() => {
                    let idx = i % slots.len();
                    let (k, s) = slots.swap_remove(idx);
                    let tagged = s.into_u64() | (u64::from(high) << 48) | u64::from(low & 7);
                    // SAFETY: the original was consumed; this is the only handle.
                    let s = unsafe { Slot::from_u64_masked(tagged) };
                    slots.push((k, s));
                }
                _ => {}
            }
            prop_assert_eq!(pool.len(), model.len());
            prop_assert!(pool.capacity() >= pool.len());
        }
        for (k, s) in &slots {
            let (key, v) = *s.get();
            prop_assert_eq!((key, v), (*k, model[k].0));
            prop_assert_eq!(s.is_pinned(), model[k].1);
            prop_assert!(pool.contains(s));
        }
        for (_, s) in slots {
            // SAFETY: from `pool`, no reference alive.
            unsafe { pool.free(s) };
        }
        prop_assert!(pool.is_empty());
    }

    /// Every value is dropped exactly once, whatever order slots are freed in.
    #[test]
    fn drop_accounting(frees in proptest::collection::vec(any::<usize>(), 0..if cfg!(miri) { 20 } else { 200 })) {
        let drops = Ledger::new();
        let pool: Pool<Tracked> = Pool::new();
        let mut slots: Vec<Slot<Tracked>> = Vec::new();
        let mut made = 0usize;
        for (n, f) in frees.iter().enumerate() {
            if f % 3 == 0 && !slots.is_empty() {
                let s = slots.swap_remove(f % slots.len());
                // SAFETY: from `pool`, no reference alive.
                unsafe { pool.free(s) };
            } else {
                slots.push(pool.alloc(drops.track(n as u32)));
                made += 1;
            }
            prop_assert_eq!(drops.total() + slots.len(), made);
        }
        for s in slots {
            // SAFETY: from `pool`, no reference alive.
            unsafe { pool.free(s) };
        }
        prop_assert_eq!(drops.total(), made);
    }
}

// -------------------------------------------------------------------- PoolRc

#[test]
fn poolrc_shares_and_frees_with_the_last_owner() {
    let drops = Ledger::new();
    let pool: Pool<Tracked> = Pool::new();
    let a = pool.alloc_rc(drops.track(1));
    let clones: Vec<PoolRc<'_, Tracked>> = (0..5).map(|_| a.clone()).collect();
    assert_eq!(PoolRc::strong_count(&a), 6);
    assert!(clones.iter().all(|c| PoolRc::ptr_eq(c, &a) && c.id == 1));
    drop(clones);
    assert_eq!(
        (PoolRc::strong_count(&a), drops.total(), pool.len()),
        (1, 0, 1)
    );
    drop(a);
    assert_eq!((drops.total(), pool.len()), (1, 0));

    let b = PoolRc::new_in(drops.track(2), &pool);
    let b2 = b.clone();
    let b = PoolRc::try_unwrap(b).expect_err("shared");
    drop(b2);
    let v = PoolRc::try_unwrap(b).expect("unique");
    assert_eq!((v.id, drops.total(), pool.len()), (2, 1, 0));
    drop(v);
    assert_eq!(drops.total(), 2);
}

#[test]
fn poolrc_last_drop_with_panicking_destructor_frees_the_entry() {
    let drops = Ledger::new();
    let pool: Pool<Tracked> = Pool::new();
    let a = pool.alloc_rc(drops.track_loud(1));
    let b = a.clone();
    drop(a);
    assert!(catch_unwind(AssertUnwindSafe(move || drop(b))).is_err());
    assert_eq!((drops.total(), pool.len()), (1, 0));
}

/// A shared linked list whose nodes live in the pool they point into.
struct Node<'p> {
    value: u32,
    next: Option<PoolRc<'p, Node<'p>>>,
}

#[test]
fn poolrc_lists_drop_recursively() {
    let pool: Pool<Node<'_>> = Pool::new();
    let mut head: Option<PoolRc<'_, Node<'_>>> = None;
    for value in 0..10 {
        head = Some(pool.alloc_rc(Node { value, next: head }));
    }
    let tail = head
        .as_ref()
        .and_then(|h| h.next.clone())
        .expect("two nodes");
    assert_eq!((head.as_ref().map(|h| h.value), tail.value), (Some(9), 8));
    drop(head);
    assert_eq!(pool.len(), 9); // `tail` keeps nodes 8..0 alive
    let mut sum = 0;
    let mut cur = Some(&tail);
    while let Some(n) = cur {
        sum += n.value;
        cur = n.next.as_ref();
    }
    assert_eq!(sum, (0..9).sum::<u32>());
    drop(tail);
    assert!(pool.is_empty());
}

#[test]
#[allow(clippy::mutable_key_type)] // the pool's cells are not part of the key
fn poolrc_forwards_traits() {
    use std::collections::HashSet;
    let pool: Pool<u32> = Pool::new();
    let a = pool.alloc_rc(1);
    let b = pool.alloc_rc(2);
    assert!(a < b && a != b && a == a.clone());
    assert_eq!(format!("{a} {b:?}"), "1 2");
    let r: &u32 = a.as_ref();
    assert_eq!(*r, 1);
    let set: HashSet<_> = [a.clone(), b.clone(), a.clone()].into_iter().collect();
    assert_eq!(set.len(), 2);
    assert!(std::ptr::eq(PoolRc::pool(&a), &pool));
}

/// A stray slot copy cannot take, forget or mutably borrow a shared entry.
#[test]
fn poolrc_entries_refuse_slot_access() {
    let pool: Pool<u32> = Pool::new();
    let slot = pool.alloc(5);
    // SAFETY: the copy is only used for reads and refused operations.
    let mut stray = unsafe { slot.copy() };
    // SAFETY: from `pool`; the copy is used as described above.
    let rc = unsafe { PoolRc::from_slot(&pool, slot) };
    assert_eq!(stray.state(), SlotState::Shared);
    assert_eq!(*stray.get(), 5);
    assert!(
        catch_unwind(AssertUnwindSafe(|| {
            let _ = stray.get_mut();
        }))
        .is_err()
    );
    // SAFETY: refused before anything changes.
    let (s1, s2, s3) = unsafe { (stray.copy(), stray.copy(), stray.copy()) };
    // SAFETY: refused before anything changes.
    assert!(catch_unwind(AssertUnwindSafe(|| unsafe { pool.free(s1) })).is_err());
    // SAFETY: refused before anything changes.
    assert!(catch_unwind(AssertUnwindSafe(|| unsafe { pool.take(s2) })).is_err());
    // SAFETY: refused before anything changes.
    assert!(catch_unwind(AssertUnwindSafe(|| unsafe { pool.forget(s3) })).is_err());
    assert_eq!((*rc, pool.len()), (5, 1));
    drop(rc);
    assert!(pool.is_empty());
    assert!(stray.is_free());
}

#[test]
#[should_panic(expected = "neither pinned nor shared")]
fn poolrc_from_a_pinned_slot_panics() {
    let pool: Pool<u32> = Pool::new();
    let mut slot = pool.alloc(5);
    let _ = slot.pin();
    // SAFETY: from `pool`, no copies.
    let _rc = unsafe { PoolRc::from_slot(&pool, slot) };
}
