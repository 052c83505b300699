//! `Pool<T>`: the typed layer over [`RawPool`]: the pool type, its
//! allocation and freeing paths (which write, drop and read values in
//! entries) and its space figures. `Default`, `Debug` and `is_empty` are in
//! the safe [`crate::hot::pool`] module.

use core::marker::PhantomData;
use core::mem::size_of;
use core::ptr::NonNull;

use super::entry::HotEntry;
use crate::hot::raw::{self, RawPool};
use crate::hot::{PoolBox, PoolRc, Slot};
use crate::{AllocError, SpaceStats};

/// A single-threaded pool of `T` values with stable addresses, handing out
/// [`Slot`] handles.
///
/// The first block holds at least 64 entries (or what
/// [`with_first_block`](Pool::with_first_block) or [`set_min_entries`] ask),
/// rounded up to a power-of-two byte size of at least one cache line; each
/// further block has twice the bytes of the previous one, so blocks cover
/// whole cache lines, then pages, then huge pages (and are aligned to them).
/// Creating a pool allocates nothing. Blocks are returned to the system only
/// when the pool drops with no live slot.
///
/// All methods take `&self`; the pool is `Send` when `T` is, never `Sync`.
/// Freeing is `unsafe` (see [`free`](Pool::free)); for a safe owner use
/// [`alloc_box`](Pool::alloc_box).
///
/// ```
/// use managed::prelude::*;
///
/// let pool: Pool<String> = Pool::new();
/// let mut s: Slot<String> = pool.alloc("hot".to_string());
/// s.get_mut().push_str(" pool");
/// assert_eq!(s.get(), "hot pool");
/// assert_eq!(pool.len(), 1);
/// // SAFETY: `s` came from `pool` and no reference into it is alive.
/// unsafe { pool.free(s) };
/// assert!(pool.is_empty());
/// ```
///
/// [`set_min_entries`]: Pool::set_min_entries
pub struct Pool<T> {
    /// The untyped core; every entry in it is an `HotEntry<T>`.
    raw: RawPool,
    /// Invariant in `T` (a shortened `Pool<&'static str>` could otherwise
    /// store short-lived references). It does not own `T` for the drop
    /// checker: dropping a pool never drops a value (live values are leaked
    /// with the blocks), so values may borrow the pool itself. `*mut ()`
    /// opts out of the auto traits; `Send` is implemented below.
    _marker: PhantomData<Invariant<T>>,
}

/// Invariant in `T`, owns no `T`, neither `Send` nor `Sync`.
type Invariant<T> = (fn(T) -> T, *mut ());

// SAFETY: the pool owns the values in its entries like a `Vec<T>` does;
// moving it to another thread moves them, which `T: Send` allows. It stays
// `!Sync` (its bookkeeping lives in `Cell`s).
unsafe impl<T: Send> Send for Pool<T> {}

impl<T> Pool<T> {
    /// Creates an empty pool; allocates nothing.
    #[must_use]
    pub const fn new() -> Self {
        Self::with_first_block(raw::DEFAULT_MIN_ENTRIES)
    }

    /// Creates an empty pool whose first block will hold at least
    /// `min_entries` entries (rounded up to a power-of-two byte size);
    /// allocates nothing. The same as [`new`](Pool::new) followed by
    /// [`set_min_entries`](Pool::set_min_entries).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let pool: Pool<u64> = Pool::with_first_block(1000);
    /// assert_eq!(pool.capacity(), 0);
    /// let b = pool.alloc_box(1);
    /// assert_eq!(pool.capacity(), 1024); // 16 KiB: four pages
    /// # drop(b);
    /// ```
    #[must_use]
    pub const fn with_first_block(min_entries: usize) -> Self {
        Self {
            raw: RawPool::with_min_entries(min_entries),
            _marker: PhantomData,
        }
    }

    /// Allocates an entry holding `value`.
    ///
    /// The slot must eventually be given back with [`free`](Pool::free),
    /// [`forget`](Pool::forget) or [`take`](Pool::take); dropping it leaks
    /// the entry (and then the pool's memory when the pool drops).
    ///
    /// # Panics
    /// When the next block's size overflows `isize::MAX`; aborts through
    /// [`handle_alloc_error`](alloc::alloc::handle_alloc_error) when the
    /// global allocator fails.
    #[inline]
    #[track_caller]
    #[must_use = "dropping a Slot leaks its entry; give it back with Pool::free"]
    pub fn alloc(&self, value: T) -> Slot<T> {
        let entry = self.entry_or_panic();
        // SAFETY: a fresh entry of ours, exclusively owned: its payload is
        // dead, so writing it and then its state word is fine.
        unsafe {
            HotEntry::value_ptr(entry).write(value);
            HotEntry::set_state(entry, raw::INIT);
            Slot::from_entry(entry)
        }
    }

    /// Allocates an entry without initializing it. No reference can be
    /// taken from the slot until it is initialized through
    /// [`Slot::get_uninit`] and marked with [`Slot::assume_init`].
    ///
    /// # Panics
    /// As [`alloc`](Pool::alloc).
    #[inline]
    #[track_caller]
    #[must_use = "dropping a Slot leaks its entry; give it back with Pool::free"]
    pub fn alloc_uninit(&self) -> Slot<T> {
        let entry = self.entry_or_panic();
        // SAFETY: a fresh entry of ours, exclusively owned.
        unsafe {
            HotEntry::set_state(entry, raw::UNINIT);
            Slot::from_entry(entry)
        }
    }

    /// Like [`alloc_uninit`](Pool::alloc_uninit), but reports a failed block
    /// allocation as an error instead of panicking or aborting; the pool is
    /// unchanged then.
    ///
    /// # Errors
    /// [`AllocError::CapacityOverflow`] when the next block's size overflows,
    /// [`AllocError::OutOfMemory`] when the global allocator fails.
    #[inline]
    pub fn try_alloc_uninit(&self) -> Result<Slot<T>, AllocError> {
        let entry = self.raw.alloc(HotEntry::<T>::LAYOUT)?.cast::<HotEntry<T>>();
        // SAFETY: a fresh entry of ours, exclusively owned.
        unsafe {
            HotEntry::set_state(entry, raw::UNINIT);
            Ok(Slot::from_entry(entry))
        }
    }

    /// Allocates `value` in a [`PoolBox`], which frees it when dropped and
    /// cannot outlive the pool.
    ///
    /// # Panics
    /// As [`alloc`](Pool::alloc).
    #[inline]
    #[track_caller]
    #[must_use = "dropping the PoolBox frees the value at once"]
    pub fn alloc_box(&self, value: T) -> PoolBox<'_, T> {
        let slot = self.alloc(value);
        // SAFETY: `slot` was just allocated from `self` and is initialized.
        unsafe { PoolBox::from_raw_parts(self, slot) }
    }

    /// Allocates `value` in a [`PoolRc`]: shared ownership, freed when the
    /// last handle drops, cannot outlive the pool.
    ///
    /// # Panics
    /// As [`alloc`](Pool::alloc).
    #[inline]
    #[track_caller]
    #[must_use = "dropping the only PoolRc frees the value at once"]
    pub fn alloc_rc(&self, value: T) -> PoolRc<'_, T> {
        let slot = self.alloc(value);
        // SAFETY: `slot` was just allocated from `self`, is initialized and
        // is the only handle.
        unsafe { PoolRc::from_slot(self, slot) }
    }

    /// Drops the slot's value (if initialized) and puts its entry back on
    /// the free list.
    ///
    /// If the destructor panics the entry is still freed and the panic
    /// propagates.
    ///
    /// # Safety
    /// - `slot` was allocated from this pool (checked in debug builds only).
    /// - No reference obtained from this slot or a copy of it (through
    ///   [`Slot::copy`] or [`Slot::from_u64`]) is still alive, and no copy is
    ///   used afterwards: the pool cannot see references, so this is why
    ///   freeing is `unsafe`. (A second free of a copy is caught, see below,
    ///   as long as the entry was not allocated again.)
    ///
    /// # Panics
    /// - The entry is already free (always checked).
    /// - The entry is shared by [`PoolRc`] handles (always checked).
    /// - The slot belongs to another pool (debug builds only).
    #[inline]
    #[track_caller]
    pub unsafe fn free(&self, slot: Slot<T>) {
        self.check_owner(&slot);
        let entry = slot.entry();
        // SAFETY: the slot points to an entry of this pool (caller contract),
        // whose state word is initialized and memory allocated.
        let state = unsafe { HotEntry::state(entry) };
        if state == raw::FREE || state > raw::PINNED {
            refuse_free(state);
        }
        // SAFETY: we own the entry (caller contract).
        unsafe { HotEntry::set_state(entry, raw::FREE) };
        // Links the entry into the free list when dropped, so a panicking
        // destructor still frees the entry.
        let release = scopeguard::guard(entry, |entry| {
            // SAFETY: the state was set to FREE above and this runs after
            // the payload's destructor returned or unwound, so it is dead.
            unsafe { self.raw.release(entry.cast(), HotEntry::<T>::LAYOUT) };
        });
        if state != raw::UNINIT {
            // SAFETY: the value is initialized, nothing references it (caller
            // contract) and the state word already says FREE, so a panic in
            // the destructor cannot lead to a second drop; `release` links
            // the entry on the free list even then. Pinned values are
            // dropped in place, as `Pin` requires.
            unsafe { HotEntry::value_ptr(entry).drop_in_place() };
        }
        drop(release);
    }

    /// Puts the slot's entry back on the free list without running the
    /// value's destructor (its resources leak).
    ///
    /// # Safety
    /// As for [`free`](Pool::free).
    ///
    /// # Panics
    /// - The entry is already free (always checked).
    /// - The value is pinned: `Pin` promises it is dropped before its memory
    ///   is reused (always checked).
    /// - The slot belongs to another pool (debug builds only).
    #[inline]
    #[track_caller]
    pub unsafe fn forget(&self, slot: Slot<T>) {
        self.check_owner(&slot);
        let entry = slot.entry();
        // SAFETY: as in `free`.
        let state = unsafe { HotEntry::state(entry) };
        match state {
            raw::FREE => double_free(),
            raw::PINNED => pinned_misuse("forgotten"),
            s if s > raw::PINNED => shared_misuse(),
            _ => {}
        }
        // SAFETY: we own the entry, its payload is given up (caller contract).
        unsafe {
            HotEntry::set_state(entry, raw::FREE);
            self.raw.release(entry.cast(), HotEntry::<T>::LAYOUT);
        }
    }

    /// Moves the value out of the slot and puts its entry back on the free
    /// list.
    ///
    /// # Safety
    /// As for [`free`](Pool::free).
    ///
    /// # Panics
    /// - The entry is already free (always checked).
    /// - The slot is uninitialized (always checked).
    /// - The value is pinned: it must never move (always checked).
    /// - The slot belongs to another pool (debug builds only).
    #[inline]
    #[track_caller]
    pub unsafe fn take(&self, slot: Slot<T>) -> T {
        self.check_owner(&slot);
        let entry = slot.entry();
        // SAFETY: as in `free`.
        let state = unsafe { HotEntry::state(entry) };
        match state {
            raw::FREE => double_free(),
            raw::PINNED => pinned_misuse("moved out"),
            raw::UNINIT => panic!("hot::Pool::take: the slot is uninitialized"),
            s if s > raw::PINNED => shared_misuse(),
            _ => {}
        }
        // SAFETY: initialized and unreferenced (caller contract); the entry
        // is freed right after, so the value is moved out exactly once.
        unsafe {
            let value = HotEntry::value_ptr(entry).read();
            HotEntry::set_state(entry, raw::FREE);
            self.raw.release(entry.cast(), HotEntry::<T>::LAYOUT);
            value
        }
    }

    /// Whether `slot` points at an entry of this pool (live or freed).
    /// Walks the block list, `O(log n)` blocks.
    #[must_use]
    pub fn contains(&self, slot: &Slot<T>) -> bool {
        self.raw
            .contains(slot.entry().as_ptr().addr(), HotEntry::<T>::LAYOUT)
    }

    /// Number of live slots.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Number of entries in all blocks (live, free and never used).
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.raw.capacity()
    }

    /// Space statistics: `size_of::<T>()` per live slot against the bytes of
    /// all blocks.
    #[must_use]
    pub fn stats(&self) -> SpaceStats {
        SpaceStats::new(self.len() * size_of::<T>(), self.raw.reserved_bytes())
    }

    /// Makes the first block hold at least `min_entries` entries (default
    /// 64), rounded up to a power-of-two byte size. A good value is about a
    /// quarter of the number of live slots expected.
    ///
    /// # Panics
    /// When the pool has already allocated its first block.
    #[track_caller]
    pub fn set_min_entries(&self, min_entries: usize) {
        self.raw.set_min_entries(min_entries);
    }

    /// Drops the pool but leaks its blocks, so every outstanding slot stays
    /// valid for the rest of the program. The values in live slots are not
    /// dropped. The fast way out when slots are never given back.
    ///
    /// Leaked blocks stay reachable from a static (see
    /// [`leaked_bytes`](crate::hot::leaked_bytes)), so leak checkers report them
    /// as still reachable, not lost.
    pub fn leak(self) {
        self.raw.leak();
    }

    /// Gets an entry or fails loudly.
    #[inline]
    #[track_caller]
    fn entry_or_panic(&self) -> NonNull<HotEntry<T>> {
        match self.raw.alloc(HotEntry::<T>::LAYOUT) {
            Ok(e) => e.cast(),
            Err(e) => alloc_failed(e),
        }
    }

    /// Contract 1, checked in debug builds only (it walks the block list).
    #[inline]
    #[track_caller]
    fn check_owner(&self, slot: &Slot<T>) {
        if cfg!(debug_assertions) {
            assert!(
                self.contains(slot),
                "hot::Pool: slot given back to a pool it does not belong to"
            );
        }
    }
}

/// `free` of a free or shared entry.
#[cold]
#[inline(never)]
#[track_caller]
fn refuse_free(state: usize) -> ! {
    if state == raw::FREE {
        double_free()
    } else {
        shared_misuse()
    }
}

/// Contract 3.
#[cold]
#[inline(never)]
#[track_caller]
fn double_free() -> ! {
    panic!("hot::Pool: slot freed twice (the entry is already free)")
}

/// Pinned values are never moved or forgotten.
#[cold]
#[inline(never)]
#[track_caller]
fn pinned_misuse(what: &str) -> ! {
    panic!("hot::Pool: a pinned value cannot be {what}")
}

/// Entries shared by `PoolRc`s are given back by the last handle only.
#[cold]
#[inline(never)]
#[track_caller]
fn shared_misuse() -> ! {
    panic!("hot::Pool: the entry is shared by PoolRc handles; the last one frees it")
}

/// Turns a failed block allocation into a panic or an abort.
#[cold]
#[inline(never)]
#[track_caller]
fn alloc_failed(e: AllocError) -> ! {
    match e {
        AllocError::OutOfMemory { layout } => crate::page::raw::out_of_memory(layout),
        e => panic!("hot::Pool: {e}"),
    }
}

// Memory maps (`crate::memory_map`).
impl<T> Pool<T> {
    /// A map of the pool's memory: one block per block of entries, each
    /// entry its state word (metadata) and its value, live while a slot
    /// holds the entry (as [`len`](Self::len) counts it) and free on the
    /// free list or never handed out. Live bytes are [`stats`](Self::stats)'
    /// live bytes, and the blocks add up to its reserved bytes. Nothing is
    /// read from entries in use (their slots may be on other threads).
    ///
    /// ```
    /// use managed::memory_map::SpanKind;
    /// use managed::prelude::*;
    ///
    /// let pool: Pool<u64> = Pool::new();
    /// let a = pool.alloc_box(1);
    /// let b = pool.alloc_box(2);
    /// drop(a);
    /// let map = pool.memory_map();
    /// assert_eq!(map.bytes(SpanKind::Live), 8);
    /// assert_eq!(map.reserved_bytes(), pool.stats().reserved_bytes);
    /// # drop(b);
    /// ```
    #[must_use]
    pub fn memory_map(&self) -> crate::memory_map::MemoryMap {
        use crate::memory_map::{MemoryMap, type_name};
        let mut map = MemoryMap::new(alloc::format!("hot Pool<{}>", type_name::<T>()));
        self.raw
            .map_into(HotEntry::<T>::LAYOUT, size_of::<T>(), &mut map);
        map
    }
}
