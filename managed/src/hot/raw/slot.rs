//! `Slot<T>`: a plain pointer to a pool entry, with NaN tagging.

use core::fmt;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::pin::Pin;
use core::ptr::{self, NonNull};

use super::entry::HotEntry;
use crate::hot::raw;
use crate::hot::{ADDRESS_MASK, TAG_MASK};

/// Handle to one entry of a [`Pool`](crate::hot::Pool): a single pointer, no
/// reference to the pool, so it converts to and from a `u64` for NaN
/// tagging.
///
/// The entry's state (uninitialized, initialized, mutably borrowed, pinned,
/// free) lives in the entry, so every copy of a slot sees the same state and
/// the checks hold across copies:
///
/// - [`get`](Slot::get), [`get_mut`](Slot::get_mut) and [`pin`](Slot::pin)
///   panic on an uninitialized (or freed) entry;
/// - once [`get_mut`](Slot::get_mut) was called, [`pin`](Slot::pin) panics
///   for the rest of the allocation, and the other way round.
///
/// Slots are neither `Copy` nor `Clone`; dropping one leaks its entry. They
/// stay valid until given back to their pool: if the pool is dropped first,
/// it leaks its memory (and panics in debug builds), so even then reading
/// through the slot is never a use-after-free.
///
/// ```
/// use managed::prelude::*;
///
/// let pool: Pool<u32> = Pool::new();
/// let mut u = pool.alloc_uninit();
/// assert!(!u.is_initialized());
/// // SAFETY: the value is written before `assume_init`, and the `&mut`
/// // from `get_uninit` is gone by then.
/// unsafe {
///     u.get_uninit().write(7);
///     u.assume_init();
/// }
/// assert_eq!(*u.get(), 7);
/// *u.get_mut() += 1;
/// assert!(u.is_mutated());
/// // SAFETY: `u` came from `pool`, no reference into it is alive.
/// assert_eq!(unsafe { pool.take(u) }, 8);
/// ```
pub struct Slot<T> {
    /// An entry of some pool's block, handed out by that pool and not yet
    /// given back (or a copy made through an `unsafe` function, whose caller
    /// vouches for it). The block stays allocated while this is live: the
    /// pool never deallocates a block while an entry of it is live.
    entry: NonNull<HotEntry<T>>,
    /// Invariant in `T` (`get_mut` writes `T`s); `Send`/`Sync` are
    /// implemented below with the bounds of a `Box<T>`.
    _marker: PhantomData<*mut T>,
}

// SAFETY: a slot is the unique owner of its entry's value (copies are made
// only through `unsafe` functions), like a `Box<T>`: sending it sends the
// value. The pool only touches entries it hands out or is given back, so it
// never races with a slot used on another thread.
unsafe impl<T: Send> Send for Slot<T> {}
// SAFETY: `&Slot<T>` only reads the state word and gives `&T`; every write
// needs `&mut Slot<T>`.
unsafe impl<T: Sync> Sync for Slot<T> {}

/// The state of a slot's entry, as reported by [`Slot::state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlotState {
    /// The entry was given back to its pool (seen only through a stale copy).
    Free,
    /// Allocated with `alloc_uninit` and not yet marked initialized.
    Uninit,
    /// Initialized; neither `get_mut` nor `pin` was called.
    Init,
    /// Initialized and `get_mut` was called: it can never be pinned.
    Mutated,
    /// Initialized and pinned: it can never be mutably borrowed, moved out
    /// or forgotten.
    Pinned,
    /// Initialized and owned by [`PoolRc`](crate::hot::PoolRc) handles: only
    /// shared references (seen only through a copy of the slot).
    Shared,
}

impl<T> Slot<T> {
    /// Wraps an entry.
    ///
    /// # Safety
    /// `entry` is a live entry of a pool (state not `FREE`) that no other
    /// slot owns.
    #[inline(always)]
    pub(crate) unsafe fn from_entry(entry: NonNull<HotEntry<T>>) -> Self {
        Self {
            entry,
            _marker: PhantomData,
        }
    }

    /// The entry pointer.
    #[inline(always)]
    pub(crate) fn entry(&self) -> NonNull<HotEntry<T>> {
        self.entry
    }

    /// The raw state word.
    #[inline(always)]
    fn raw_state(&self) -> usize {
        // SAFETY: the field invariant: the entry's block is allocated and its
        // state word initialized.
        unsafe { HotEntry::state(self.entry) }
    }

    /// The state of the entry.
    #[must_use]
    pub fn state(&self) -> SlotState {
        match self.raw_state() {
            raw::FREE => SlotState::Free,
            raw::UNINIT => SlotState::Uninit,
            raw::INIT => SlotState::Init,
            raw::MUTABLE => SlotState::Mutated,
            raw::PINNED => SlotState::Pinned,
            _ => SlotState::Shared,
        }
    }

    /// Whether the slot holds an initialized value.
    #[inline]
    #[must_use]
    pub fn is_initialized(&self) -> bool {
        self.raw_state() >= raw::INIT
    }

    /// Whether the value was pinned (then `get_mut` panics).
    #[inline]
    #[must_use]
    pub fn is_pinned(&self) -> bool {
        self.raw_state() == raw::PINNED
    }

    /// Whether `get_mut` was called (then `pin` panics).
    #[inline]
    #[must_use]
    pub fn is_mutated(&self) -> bool {
        self.raw_state() == raw::MUTABLE
    }

    /// Whether the entry is free: only a stale copy can see this.
    #[inline]
    #[must_use]
    pub fn is_free(&self) -> bool {
        self.raw_state() == raw::FREE
    }

    /// A shared reference to the value.
    ///
    /// # Panics
    /// When the slot is uninitialized (contract 5) or its entry was freed.
    #[inline]
    #[track_caller]
    #[must_use]
    pub fn get(&self) -> &T {
        if self.raw_state() < raw::INIT {
            state_panic("get", self.raw_state());
        }
        // SAFETY: initialized; mutation needs `&mut self`, which the returned
        // borrow of `self` excludes (other copies are the `unsafe` caller's
        // responsibility).
        unsafe { HotEntry::value_ptr(self.entry).as_ref() }
    }

    /// A mutable reference to the value. Marks the slot as mutated: it can
    /// never be pinned afterwards.
    ///
    /// # Panics
    /// When the slot is uninitialized or freed (contract 5), or pinned
    /// (contract 6).
    #[inline]
    #[track_caller]
    #[must_use]
    pub fn get_mut(&mut self) -> &mut T {
        let state = self.raw_state();
        if state != raw::MUTABLE {
            if state != raw::INIT {
                state_panic("get_mut", state);
            }
            // SAFETY: `&mut self` owns the entry.
            unsafe { HotEntry::set_state(self.entry, raw::MUTABLE) };
        }
        // SAFETY: initialized, not pinned, and `&mut self` is exclusive.
        unsafe { HotEntry::value_ptr(self.entry).as_mut() }
    }

    /// A pinned mutable reference to the value. Marks the slot as pinned: it
    /// can never be mutably borrowed unpinned, moved out or forgotten, and
    /// it is dropped in place when freed.
    ///
    /// # Panics
    /// When the slot is uninitialized or freed (contract 5), or `get_mut`
    /// was called on it before (contract 6).
    #[inline]
    #[track_caller]
    pub fn pin(&mut self) -> Pin<&mut T> {
        let state = self.raw_state();
        if state != raw::PINNED {
            if state != raw::INIT {
                state_panic("pin", state);
            }
            // SAFETY: `&mut self` owns the entry.
            unsafe { HotEntry::set_state(self.entry, raw::PINNED) };
        }
        // SAFETY: 1. initialized and `&mut self` is exclusive; 2. pool entries
        // never move, `get_mut`/`take`/`forget` refuse pinned entries from
        // now on, `free` drops the value in place, and a pool dropped with
        // live slots leaks its memory: the value is never moved and its
        // memory never reused before it is dropped.
        unsafe { Pin::new_unchecked(HotEntry::value_ptr(self.entry).as_mut()) }
    }

    /// The uninitialized storage of an uninitialized slot, to be written and
    /// then marked with [`assume_init`](Slot::assume_init).
    ///
    /// # Safety
    /// Any mutable reference obtained from this must be dropped before
    /// calling [`assume_init`](Slot::assume_init) (contract 7): otherwise a
    /// pinned value could be moved through it. With a single slot the borrow
    /// checker enforces this; with copies of the slot it is on the caller.
    ///
    /// # Panics
    /// When the slot is not uninitialized (always checked).
    #[inline]
    #[track_caller]
    pub unsafe fn get_uninit(&mut self) -> &mut MaybeUninit<T> {
        let state = self.raw_state();
        if state != raw::UNINIT {
            state_panic("get_uninit", state);
        }
        // SAFETY: an uninitialized entry exclusively borrowed through
        // `&mut self`; `MaybeUninit<T>` has the layout of `T`.
        unsafe {
            HotEntry::value_ptr(self.entry)
                .cast::<MaybeUninit<T>>()
                .as_mut()
        }
    }

    /// Marks an uninitialized slot as initialized.
    ///
    /// # Safety
    /// The value was fully initialized through
    /// [`get_uninit`](Slot::get_uninit), and no reference obtained from
    /// `get_uninit` (on this slot or a copy) is alive any more (contract 7).
    ///
    /// # Panics
    /// When the slot is not uninitialized (always checked).
    #[inline]
    #[track_caller]
    pub unsafe fn assume_init(&mut self) {
        let state = self.raw_state();
        if state != raw::UNINIT {
            state_panic("assume_init", state);
        }
        // SAFETY: `&mut self` owns the entry; initialized per the contract.
        unsafe { HotEntry::set_state(self.entry, raw::INIT) };
    }

    /// Duplicates the handle.
    ///
    /// # Safety
    /// Only one of the copies may be given back to the pool, and none may be
    /// used afterwards (a second free is caught only while the entry was not
    /// reused). While a reference obtained through one copy is alive, no copy
    /// may be used in a way that conflicts with it (`get_mut` while a `&T`
    /// is alive, and so on): the borrow checker only sees one copy at a time.
    /// The state checks (`get_mut` against `pin`, uninitialized access) still
    /// hold across copies, since the state lives in the entry.
    #[inline]
    #[must_use]
    pub unsafe fn copy(&self) -> Self {
        Self {
            entry: self.entry,
            _marker: PhantomData,
        }
    }

    /// Converts the slot into its address as a `u64` whose top 16 bits and
    /// low 3 bits are zero, free for NaN tags (contract 8). Exposes the
    /// pointer's provenance so that [`from_u64`](Slot::from_u64) can rebuild
    /// it.
    ///
    /// # Panics
    /// When the address does not fit in 48 bits (checked always; entries are
    /// 8-aligned by construction).
    #[inline]
    #[track_caller]
    #[must_use]
    pub fn into_u64(self) -> u64 {
        let bits = self.entry.as_ptr().expose_provenance() as u64;
        assert!(
            bits & TAG_MASK == 0,
            "hot::Slot::into_u64: the entry address {bits:#x} does not fit in 48 bits"
        );
        bits
    }

    /// Rebuilds a slot from [`into_u64`](Slot::into_u64)'s result.
    ///
    /// # Safety
    /// `bits` came from `into_u64` of a slot whose entry was not given back
    /// since, and the result is used under the rules of [`copy`](Slot::copy)
    /// if more than one slot for the entry exists (contract 9). All contracts
    /// of slots apply to the result (contract 8).
    ///
    /// # Panics
    /// When any tag bit is set or `bits` is zero (checked always).
    #[inline]
    #[track_caller]
    #[must_use]
    pub unsafe fn from_u64(bits: u64) -> Self {
        assert!(
            bits & TAG_MASK == 0 && bits != 0,
            "hot::Slot::from_u64: {bits:#x} is not a slot address (tag bits set or zero)"
        );
        let ptr = ptr::with_exposed_provenance_mut::<HotEntry<T>>(bits as usize);
        Self {
            // SAFETY: non-zero checked above.
            entry: unsafe { NonNull::new_unchecked(ptr) },
            _marker: PhantomData,
        }
    }

    /// Rebuilds a slot from `into_u64`'s result with tags in the top 16 and
    /// low 3 bits, which are masked off first.
    ///
    /// # Safety
    /// As for [`from_u64`](Slot::from_u64), for `bits & ADDRESS_MASK`.
    ///
    /// # Panics
    /// When the masked address is zero.
    #[inline]
    #[track_caller]
    #[must_use]
    pub unsafe fn from_u64_masked(bits: u64) -> Self {
        // SAFETY: forwarded contract.
        unsafe { Self::from_u64(bits & ADDRESS_MASK) }
    }
}

/// Reports a state-machine violation.
#[cold]
#[inline(never)]
#[track_caller]
fn state_panic(op: &str, state: usize) -> ! {
    let why = match state {
        raw::FREE => "its entry was freed (stale copy)",
        raw::UNINIT => "it is uninitialized: no reference may be taken from it",
        raw::INIT => "it is already initialized",
        raw::MUTABLE => "get_mut was called on it: &mut T and Pin<&mut T> are exclusive",
        raw::PINNED => "it is pinned: &mut T and Pin<&mut T> are exclusive",
        _ => "it is shared by PoolRc handles: only shared references",
    };
    panic!("hot::Slot::{op}: {why}")
}

impl<T: fmt::Debug> fmt::Debug for Slot<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Slot");
        d.field("entry", &self.entry).field("state", &self.state());
        if self.is_initialized() {
            d.field("value", self.get());
        }
        d.finish()
    }
}
