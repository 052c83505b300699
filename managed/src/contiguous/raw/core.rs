//! The raw core of a [`ContiguousUniformPool`]: the heap-allocated
//! [`ContiguousCore`] (the borrow word and the [`Inner`] storage and slot
//! table), the [`RawContiguous`] pointer that owns it, swap-fill removal,
//! deferred removals and the borrow tokens.
//!
//! Invariants kept here (the safe layer above calls only safe functions):
//! positions `0..len` of the storage hold initialized `T`s, each with its
//! key in the slot table mapped to its position; while the borrow word says
//! "borrowed", no object moves, is added or is dropped (removals are
//! deferred to the end of the outermost borrow); references to `Inner`
//! never outlive one internal operation and are never held across user
//! code.
//!
//! [`ContiguousUniformPool`]: crate::contiguous::ContiguousUniformPool

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::alloc::Layout;
use core::cell::{Cell, UnsafeCell};
use core::marker::PhantomData;
use core::ptr::NonNull;

use slotmap::KeyData;

use super::iter::{Drain, IterMut, Remaining, ValuesMut};
use super::storage::{ObjectGeometry, ObjectStorage};
use super::table::{MAX_OBJECTS, SlotTable, TableView};
use crate::contiguous::ContiguousUniformPool;
#[cfg(target_pointer_width = "64")]
use crate::region::Rebrand;
use crate::{Managed, Visitor};

// The borrow state of a pool, one `usize`: bit 0 is `PENDING` (some removal
// was deferred), the other bits count shared borrows (in units of
// `SHARED`), all of them set meaning one exclusive borrow. Keeping the
// pending flag in the same word lets the end of a borrow detect "last
// borrow gone and work deferred" with a single comparison.

/// State bit: `SlotTable::pending` is not empty.
pub(crate) const PENDING: usize = 1;
/// State increment of one shared borrow.
pub(crate) const SHARED: usize = 2;
/// State bits of an exclusive borrow ([`map`](ContiguousUniformPool::map),
/// [`with_mut`](crate::contiguous::Proxy::with_mut), a
/// [`PoolRefMut`](crate::contiguous::PoolRefMut)).
pub(crate) const EXCLUSIVE: usize = !PENDING;
/// A shared borrow may be taken only from a state below this (so the count
/// never reaches the exclusive pattern).
pub(crate) const SHARED_LIMIT: usize = EXCLUSIVE - SHARED;

/// Whether a state means "borrowed at all".
#[inline(always)]
pub(crate) const fn is_borrowed(state: usize) -> bool {
    state > PENDING
}

/// Whether a state means "exclusively borrowed".
#[inline(always)]
pub(crate) const fn is_exclusive(state: usize) -> bool {
    state & EXCLUSIVE == EXCLUSIVE
}

/// The key table's slot array and the object buffer's address, copied out
/// of a pool when a borrow of it begins, so that a loop of lookups through
/// a guard keeps them in registers instead of reloading them from the pool
/// for every key.
///
/// Valid until the pool next adds, removes or moves an object; a guard's
/// for as long as the borrow it was taken under: while the pool is
/// borrowed, no object is added or removed (removals are deferred, which
/// only bumps a slot's version), so neither the slot array nor the object
/// buffer is reallocated, and no object moves. [`RawContiguous::find`]
/// takes one and uses it at once.
pub(crate) struct Lookup<T> {
    /// The key table's slots.
    table: TableView,
    /// The object buffer: position `p` at `objects + p` (a `T`'s stride).
    objects: NonNull<T>,
}

impl<T> Clone for Lookup<T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Lookup<T> {}

impl<T> Lookup<T> {
    /// The address of the live object of `key`, if any.
    ///
    /// # Safety
    ///
    /// [`RawContiguous::lookup`]'s contract: the pool has added, removed
    /// and moved no object since this lookup was taken (the borrow it was
    /// taken under is still held).
    #[inline(always)]
    pub(crate) unsafe fn find(&self, key: KeyData) -> Option<NonNull<T>> {
        // SAFETY: as this function's (caller contract).
        let position = unsafe { self.position(key) }?;
        // SAFETY: a live key's slot holds its object's position, below the
        // length (pool invariant); the rest is the caller's contract.
        Some(unsafe { self.at(position) })
    }

    /// [`find`](Self::find) for a `PoolLookup`, read on other threads than
    /// the pool's while the pool's thread may begin deferred removals (see
    /// [`TableView::position_shared`]).
    ///
    /// # Safety
    ///
    /// As for [`find`](Self::find): the borrow this lookup was taken under
    /// is still held, so the pool is borrowed.
    #[inline(always)]
    pub(crate) unsafe fn find_shared(&self, key: KeyData) -> Option<NonNull<T>> {
        // SAFETY: the slot array is as it was and the pool is borrowed
        // (caller contract).
        let position = unsafe { self.table.position_shared(key) }?;
        // SAFETY: a live or pending key's slot holds its object's
        // position, below the length (pool invariant); the rest is the
        // caller's contract.
        Some(unsafe { self.at(position) })
    }

    /// The addresses of the live objects of `keys`, in their order, or
    /// `None` if a key names no live object or two keys name the same one
    /// (so the addresses are pairwise distinct places: no two overlap).
    ///
    /// # Safety
    ///
    /// As for [`find`](Self::find).
    #[inline]
    pub(crate) unsafe fn find_disjoint<const N: usize>(
        &self,
        keys: [KeyData; N],
    ) -> Option<[NonNull<T>; N]> {
        let mut positions = [0; N];
        for (i, key) in keys.into_iter().enumerate() {
            // SAFETY: as this function's (caller contract).
            let position = unsafe { self.position(key) }?;
            // Each stored position has one key (its back-pointer), so equal
            // positions are exactly the same object named twice.
            if positions[..i].contains(&position) {
                return None;
            }
            positions[i] = position;
        }
        // SAFETY: positions of live keys, below the length (pool
        // invariant); the rest is the caller's contract. Distinct positions
        // are distinct places of one `T`'s stride each.
        Some(positions.map(|position| unsafe { self.at(position) }))
    }

    /// The position of the live object of `key`, if any.
    ///
    /// # Safety
    ///
    /// As for [`find`](Self::find).
    #[inline(always)]
    pub(crate) unsafe fn position(&self, key: KeyData) -> Option<usize> {
        // SAFETY: the slot array is as it was (caller contract).
        unsafe { self.table.position(key) }
    }

    /// The address of the object at `position`.
    ///
    /// # Safety
    ///
    /// As for [`find`](Self::find), and `position` is below the storage's
    /// length.
    #[inline(always)]
    pub(crate) unsafe fn at(&self, position: usize) -> NonNull<T> {
        // SAFETY: below the length (caller contract), so inside the buffer,
        // which has not moved since the lookup was taken (caller contract).
        // The stride of `T`s in the buffer is `size_of::<T>()`, or its
        // alignment for a zero-sized `T`.
        unsafe {
            self.objects
                .cast::<u8>()
                .add(position * Inner::<T>::GEOMETRY.stride)
        }
        .cast()
    }
}

/// The owning pointer to a pool's heap-allocated core: what a
/// [`ContiguousUniformPool`] is made of (it adds only the key type).
///
/// One pointer (not `Copy`: it frees the core in `Drop`). The core never moves while
/// the pool lives, even when the pool value itself is moved: proxies point
/// at it. Every pointer to it (here and in proxies) is derived from this
/// one without an intermediate reference.
pub(crate) struct RawContiguous<T> {
    /// From `Box::into_raw` (via `Box::leak`), freed in `Drop`.
    pub(crate) core: NonNull<ContiguousCore<T>>,
    /// Owns a `ContiguousCore<T>` (for the drop check and auto traits; the
    /// `Cell` inside also makes the pool `!Sync`, and the `UnsafeCell`
    /// makes it invariant in `T`, as `alloc(&self, T)` requires).
    _owns: PhantomData<ContiguousCore<T>>,
}

/// The heap-allocated state of a pool.
#[repr(C)]
pub(crate) struct ContiguousCore<T> {
    /// Borrow count and pending flag (see [`PENDING`], [`SHARED`],
    /// [`EXCLUSIVE`]). While borrowed, no object moves and no value is
    /// dropped or added, so references handed out stay valid.
    pub(crate) state: Cell<usize>,
    /// The objects and their bookkeeping. References to `Inner` never
    /// outlive one internal operation and are never held across user code;
    /// user code only holds references into the object buffer, and
    /// only while `state` is borrowed.
    pub(crate) inner: UnsafeCell<Inner<T>>,
}

/// The storage of a pool.
///
/// Invariants: positions `0..storage.len()` hold initialized `T`s (live
/// objects and those pending removal); the slot of the key stored for each
/// position is live or pending and holds that position, and no other slot
/// is; the pending slots are exactly those in `table.pending`; the reserved
/// slots exactly those of the entries of `queue`.
pub(crate) struct Inner<T> {
    /// The objects, densely, and their keys.
    pub(crate) storage: ObjectStorage,
    /// Slots and deferred removals.
    pub(crate) table: SlotTable,
    /// Insertions made while the pool was borrowed, in order, moved in
    /// when the outermost borrow ends: each entry's key is reserved in the
    /// table (its position here is the key's ticket), and its value is
    /// `None` once the insertion was cancelled. No reference to a queued
    /// value is ever handed out.
    pub(crate) queue: Vec<Queued<T>>,
    /// The storage holds `T`s.
    _values: PhantomData<T>,
}

/// An insertion waiting for the end of a borrow (see [`Inner::queue`]).
pub(crate) struct Queued<T> {
    /// The key handed out for it, reserved in the table.
    key: KeyData,
    /// The value to move in; `None` once the insertion was cancelled.
    value: Option<T>,
}

// SAFETY: moving a pool to another thread needs it unborrowed (a proxy or
// guard borrows it), so no proxy, guard or reference of this thread is
// left; the raw pointers (the core, the object buffer) are owned by the
// pool and move with it. The objects move too, hence `T: Send`. (The pool adds
// only its key type, which is plain data and may stay behind.)
unsafe impl<T: Send> Send for RawContiguous<T> {}

impl<T> RawContiguous<T> {
    /// An empty core with a buffer and key slots for `capacity` objects
    /// allocated.
    ///
    /// # Panics
    ///
    /// When the buffer would exceed `isize::MAX` bytes.
    #[track_caller]
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let mut storage = ObjectStorage::new(Inner::<T>::GEOMETRY);
        storage.reserve(capacity);
        let core = Box::new(ContiguousCore {
            state: Cell::new(0),
            inner: UnsafeCell::new(Inner {
                storage,
                table: SlotTable::with_capacity(capacity),
                queue: Vec::new(),
                _values: PhantomData,
            }),
        });
        Self {
            core: NonNull::from(Box::leak(core)),
            _owns: PhantomData,
        }
    }

    /// The borrow state.
    #[inline(always)]
    pub(crate) fn state(&self) -> &Cell<usize> {
        // SAFETY: the core lives as long as the pool; the state is only
        // ever accessed through shared references (it is a `Cell`), except
        // under `&mut self`.
        unsafe { &(*self.core.as_ptr()).state }
    }

    /// Whether the pool is exclusively borrowed.
    #[inline]
    pub(crate) fn is_exclusive(&self) -> bool {
        is_exclusive(self.state().get())
    }

    /// The storage, as a raw pointer (see `ContiguousCore::inner` for the
    /// rules of the references made from it).
    #[inline(always)]
    pub(crate) fn inner(&self) -> *mut Inner<T> {
        // SAFETY: the core lives as long as the pool.
        unsafe { (*self.core.as_ptr()).inner.get() }
    }

    /// The object storage.
    ///
    /// For the borrow guards: the reference must not outlive a borrow of
    /// the pool, during which nothing mutates the storage (no object is
    /// added or removed, the buffer neither grows nor shrinks); proxy drops
    /// and deletions then only touch the table.
    #[inline(always)]
    pub(crate) fn storage(&self) -> &ObjectStorage {
        // SAFETY: the core lives as long as the pool; see above for why the
        // storage is not mutated while the reference lives.
        unsafe { &(*self.inner()).storage }
    }

    /// The slot table, for lookups by key (short reads).
    #[inline(always)]
    pub(crate) fn table(&self) -> &SlotTable {
        // SAFETY: the core lives as long as the pool; table changes never
        // happen while a caller's reference is used (single-threaded, and
        // no user code runs inside a lookup).
        unsafe { &(*self.inner()).table }
    }

    /// The address of the live object of `key`, if any: valid until the
    /// pool next runs user code or moves an object (callers hold a borrow
    /// of the pool, or take one before anything else runs).
    #[inline(always)]
    pub(crate) fn find(&self, key: KeyData) -> Option<NonNull<T>> {
        // SAFETY: the lookup is used at once, before anything can change
        // the table or the buffer.
        unsafe { self.lookup().find(key) }
    }

    /// What lookups by key read, by value, for a borrow guard to keep.
    ///
    /// # Safety
    ///
    /// The result is used only while the key table's slot array and the
    /// object buffer stay as they are: until the pool next adds, removes or
    /// moves an object, so for as long as a borrow of the pool held since
    /// before this call (see [`Lookup`]).
    #[inline(always)]
    pub(crate) unsafe fn lookup(&self) -> Lookup<T> {
        Lookup {
            table: self.table().view(),
            objects: self.storage().objects::<T>().cast(),
        }
    }

    /// Whether `key` names a live object (`false` once its removal began).
    #[inline]
    pub(crate) fn contains(&self, key: KeyData) -> bool {
        self.table().position(key).is_some()
    }

    /// Takes one shared borrow.
    ///
    /// # Panics
    ///
    /// When the pool is exclusively borrowed.
    #[inline(always)]
    #[track_caller]
    pub(crate) fn acquire_shared(&self, operation: &str) {
        acquire_shared(self.state(), operation);
    }

    /// Takes the exclusive borrow.
    ///
    /// # Panics
    ///
    /// When the pool is borrowed at all.
    #[inline(always)]
    #[track_caller]
    pub(crate) fn acquire_exclusive(&self, operation: &str) {
        // SAFETY: the core of this live pool.
        unsafe { acquire_exclusive(self.core, operation) };
    }

    /// Moves `value` in after the last object and returns its key (`alloc`
    /// and `insert`, named by `operation` in the panic message).
    ///
    /// # Panics
    ///
    /// While the pool is borrowed; when the pool is full.
    #[inline(always)]
    #[track_caller]
    pub(crate) fn push(&self, value: T, operation: &str) -> (KeyData, usize) {
        if self.state().get() != 0 {
            self.settle_before(operation);
        }
        // SAFETY: the pool is unborrowed, so no reference into `inner`
        // exists, and none is created while this one lives (no user code
        // runs: only storage and table operations).
        let inner = unsafe { &mut *self.inner() };
        inner.push(value)
    }

    /// Removes the live object of `key` now and returns it.
    ///
    /// # Panics
    ///
    /// While the pool is borrowed (`operation` names the caller).
    #[inline]
    #[track_caller]
    pub(crate) fn remove(&self, key: KeyData, operation: &str) -> Option<T> {
        if self.state().get() != 0 {
            self.settle_before(operation);
        }
        // SAFETY: unborrowed: no reference into `inner` exists, and no user
        // code runs while this one lives.
        let inner = unsafe { &mut *self.inner() };
        inner.remove_now(key)
    }

    /// Drops the live object of `key`, or, while the pool is borrowed,
    /// begins its removal (keys stop finding it at once; it is dropped when
    /// the outermost borrow ends). `false` if `key` names no live object.
    pub(crate) fn remove_deferred(&self, key: KeyData) -> bool {
        let state = self.state();
        let current = state.get();
        if is_borrowed(current) {
            // SAFETY: a short `&mut` to `Inner`: user code may hold
            // references into the object buffer and iterators over the
            // object and key tables' heap buffers, never references into
            // `Inner` itself, and no user code runs while this reference
            // lives.
            let inner = unsafe { &mut *self.inner() };
            if inner.defer(key) {
                state.set(current | PENDING);
                return true;
            }
            if inner.queue.is_empty() {
                return false;
            }
            let Some(value) = inner.cancel_queued(key) else {
                return false;
            };
            // No reference to a queued value exists, so it is dropped at
            // once, after the `&mut` above (unused from here on).
            drop(value);
            return true;
        }
        if current != 0 {
            // Work left behind (a queue, or removals a panicking destructor
            // left pending): done first, so that a queued key is found.
            // SAFETY: the core of this live pool, unborrowed.
            unsafe { flush_slow(self.core) };
        }
        // SAFETY: as above (the flush may have moved the core's buffers,
        // not the core).
        let inner = unsafe { &mut *self.inner() };
        let Some(value) = inner.remove_now(key) else {
            return false;
        };
        drop(value);
        true
    }

    /// Moves `value` in after the last object and returns its key; while
    /// the pool is borrowed, queues it instead, to be moved in when the
    /// outermost borrow ends (see
    /// [`ContiguousUniformPool::insert_deferred`]).
    ///
    /// # Panics
    ///
    /// When the pool would hold more than two billion objects.
    #[track_caller]
    pub(crate) fn insert_deferred(&self, value: T) -> KeyData {
        let state = self.state();
        let current = state.get();
        if !is_borrowed(current) {
            return self.push(value, "insert_deferred").0;
        }
        // SAFETY: a short `&mut` to `Inner`, as in `remove_deferred`: user
        // code holds no reference into `Inner` itself (nor into the queue,
        // whose values are never lent), and none runs while it lives.
        let inner = unsafe { &mut *self.inner() };
        let key = inner.enqueue(Some(value));
        state.set(current | PENDING);
        key
    }

    /// Inserts the value `f` makes from its key (see
    /// [`ContiguousUniformPool::insert_with_key`]): the key is reserved as
    /// for a queued insertion, `f` runs under the exclusive borrow, and
    /// the end of the borrow moves the value in (or, if `f` panicked,
    /// vacates the reserved slot).
    ///
    /// # Panics
    ///
    /// While the pool is borrowed (`operation` names the caller); when it
    /// would hold more than two billion objects; if `f` does.
    #[track_caller]
    pub(crate) fn insert_with_key(&self, f: impl FnOnce(KeyData) -> T, operation: &str) -> KeyData {
        if self.state().get() != 0 {
            self.settle_before(operation);
        }
        // SAFETY: the core of this live pool.
        unsafe { acquire_exclusive(self.core, operation) };
        let _guard = ExclusiveGuard { core: self.core };
        // SAFETY: a short `&mut` to `Inner`: the exclusive borrow was just
        // taken, no user code runs while it lives.
        let inner = unsafe { &mut *self.inner() };
        let ticket = inner.queue.len();
        let key = inner.enqueue(None);
        self.state().set(EXCLUSIVE | PENDING);
        let value = f(key);
        // SAFETY: as above, after `f` returned. The queue only grew
        // meanwhile (`f` may queue insertions, and cancelling this entry
        // found no value), so the entry is still at `ticket`.
        let inner = unsafe { &mut *self.inner() };
        debug_assert!(inner.queue[ticket].key == key);
        inner.queue[ticket].value = Some(value);
        key
    }

    /// Inserts the value `f` makes from its key, also while the pool is
    /// borrowed (see [`ContiguousUniformPool::insert_with_key_deferred`]):
    /// unborrowed, [`insert_with_key`](Self::insert_with_key); borrowed,
    /// the key is reserved as for [`insert_deferred`](Self::insert_deferred),
    /// `f` runs under the borrow already held, and its value is queued in
    /// the reserved entry, to be moved in when the outermost borrow ends.
    /// If `f` panics, the entry stays empty, which the end of the borrow
    /// treats as a cancelled insertion (the reserved slot turns vacant).
    ///
    /// # Panics
    ///
    /// When the pool would hold more than two billion objects; if `f`
    /// does; if `f` ends the borrow held when it was called (it owned the
    /// last guard and dropped it), which cancels the reservation: the value
    /// is dropped and nothing is inserted.
    #[track_caller]
    pub(crate) fn insert_with_key_deferred(&self, f: impl FnOnce(KeyData) -> T) -> KeyData {
        let state = self.state();
        let current = state.get();
        if !is_borrowed(current) {
            return self.insert_with_key(f, "insert_with_key_deferred");
        }
        // SAFETY: a short `&mut` to `Inner`, as in `insert_deferred`.
        let inner = unsafe { &mut *self.inner() };
        let ticket = inner.queue.len();
        let key = inner.enqueue(None);
        state.set(current | PENDING);
        // User code: it may queue and cancel insertions, begin removals,
        // and even end the borrow (if it owns the last guard), whose flush
        // then cancels this empty entry and empties the queue.
        let value = f(key);
        // SAFETY: a short `&mut` to `Inner`, as above, after `f` returned.
        let inner = unsafe { &mut *self.inner() };
        // The queue only grows while the borrow lasts, and its entries keep
        // their places; keys are never reserved twice (a cancelled slot
        // turns vacant with a version the key does not match), so an entry
        // at `ticket` with this key is this reservation, still held.
        let Some(entry) = inner.queue.get_mut(ticket).filter(|e| e.key == key) else {
            // `f` ended the borrow: the reservation is gone, and the key
            // stale. The value, which names that key, goes with the panic
            // (dropped after the `&mut` above, which is not used again).
            drop(value);
            reservation_lost_panic();
        };
        // Always `None` (only this call fills the entry, and cancelling it
        // found no value); replaced, not assigned, so that even then no
        // destructor would run before the `&mut`'s last use.
        let previous = entry.value.replace(value);
        debug_assert!(previous.is_none());
        drop(previous);
        key
    }

    /// The cold part of [`push`](Self::push) and [`remove`](Self::remove):
    /// panics while the pool is borrowed (naming `operation`), and
    /// otherwise carries out the deferred work first, so that queued
    /// insertions take their reserved slots before any other.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn settle_before(&self, operation: &str) {
        if is_borrowed(self.state().get()) {
            borrowed_panic(operation);
        }
        // SAFETY: the core of this live pool, unborrowed.
        unsafe { flush_slow(self.core) };
        // A destructor run by the flush may have leaked a guard.
        if is_borrowed(self.state().get()) {
            borrowed_panic(operation);
        }
    }

    /// Keeps only the objects for which `f(key, object)` returns `true`
    /// (see [`ContiguousUniformPool::retain`]).
    ///
    /// # Panics
    ///
    /// When the pool is already borrowed.
    #[track_caller]
    pub(crate) fn retain<F: FnMut(KeyData, &mut T) -> bool>(&self, mut f: F) {
        let g = Inner::<T>::GEOMETRY;
        // SAFETY: the core of this live pool.
        unsafe { acquire_exclusive(self.core, "retain") };
        let _guard = ExclusiveGuard { core: self.core };
        let mut position = 0;
        loop {
            // SAFETY: 1. short reads; the exclusive borrow keeps every
            // other path away from the objects, and no removal but this
            // walk's own happens until it ends; 2. `position` is below the
            // length (checked right here), as `back` and `slot` require.
            let (key, object) = unsafe {
                let storage = &(*self.inner()).storage;
                if position >= storage.len() {
                    break;
                }
                (storage.back(position), storage.slot(g, position))
            };
            // SAFETY: a stored object, reachable only here: the walk holds
            // the exclusive borrow, and the reference ends before anything
            // moves.
            if f(key, unsafe { object.cast::<T>().as_mut() }) {
                position += 1;
                continue;
            }
            // SAFETY: a short `&mut`: `f` has returned and no user code runs
            // until it ends.
            let inner = unsafe { &mut *self.inner() };
            let Some(stored) = inner.table.remove_live(key) else {
                // Its removal already began: the flush at the end of the
                // walk finishes it.
                position += 1;
                continue;
            };
            // The key stored beside an object maps to its position (pool
            // invariant). Not a safety check: `take_at(position)` is sound
            // for any stored position.
            debug_assert_eq!(stored, position);
            // SAFETY: `position` is stored (the key's, just removed from the
            // table), and the walk's exclusive borrow is held with no
            // reference into the objects.
            let value = unsafe { inner.take_at(position) };
            // The last object now sits at `position`: visit it next.
            drop(value);
        }
    }

    /// Number of live objects (those whose removal has not begun).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        // SAFETY: a short read; no `&mut` to `Inner` is live while user
        // code can call this.
        let inner = unsafe { &*self.inner() };
        inner.storage.len() - inner.table.pending.len()
    }

    /// Objects whose removal waits for the end of the current borrow.
    #[inline]
    pub(crate) fn pending(&self) -> usize {
        self.table().pending.len()
    }

    /// Objects queued for the end of the current borrow (cancelled ones
    /// not counted).
    pub(crate) fn queued(&self) -> usize {
        // SAFETY: a short read; no `&mut` to `Inner` is live while user
        // code can call this.
        let inner = unsafe { &*self.inner() };
        inner.queue.iter().filter(|e| e.value.is_some()).count()
    }

    /// Objects the allocated buffer holds.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.storage().capacity()
    }

    /// Bytes reserved: the object buffer, the back-pointers, the key table.
    pub(crate) fn reserved_bytes(&self) -> usize {
        self.storage().reserved_bytes() + self.table().reserved_bytes()
    }

    /// Adds the pool's blocks to `map` (see
    /// [`ContiguousUniformPool::memory_map`]).
    pub(crate) fn map_into(&self, map: &mut crate::memory_map::MemoryMap) {
        self.storage().map_into(size_of::<T>(), map);
        self.table().map_into(map);
    }

    /// Exclusive access with every deferred removal carried out. Since
    /// `&mut self` proves that no proxy, guard or closure borrows the pool,
    /// a borrow count left by a leaked guard is reset too.
    pub(crate) fn settle(&mut self) -> &mut Inner<T> {
        // SAFETY: `&mut self` makes this the only access to the core.
        let core = unsafe { self.core.as_mut() };
        let inner = core.inner.get_mut();
        let state = core.state.get_mut();
        inner.move_in_queue();
        *state = if inner.table.pending.is_empty() {
            0
        } else {
            PENDING
        };
        while let Some(index) = inner.table.pending.pop() {
            if inner.table.pending.is_empty() {
                *state = 0;
            }
            // SAFETY: just taken off the pending list.
            drop(unsafe { inner.finish_pending(index) });
        }
        inner
    }

    /// Iterates `(key, object)` pairs exclusively, in storage order.
    #[inline]
    pub(crate) fn iter_mut<K>(&mut self) -> IterMut<'_, T, K> {
        let inner = self.settle();
        // SAFETY: `&mut self` makes the objects reachable only through the
        // iterator while it lives; nothing changes the storage meanwhile.
        unsafe { IterMut::new(&inner.storage) }
    }

    /// The live objects of `keys`, each exclusively, or `None` if a key
    /// names no live object or two keys name the same one (see
    /// [`ContiguousUniformPool::get_disjoint_mut`]).
    #[inline]
    pub(crate) fn get_disjoint_mut<const N: usize>(
        &mut self,
        keys: [KeyData; N],
    ) -> Option<[&mut T; N]> {
        self.settle();
        // SAFETY: `&mut self` keeps every proxy and guard away, so nothing
        // adds, removes or moves an object while the lookup is used.
        let objects = unsafe { self.lookup().find_disjoint(keys) }?;
        // SAFETY: 1. live objects, initialized; 2. pairwise distinct places
        // (`find_disjoint`), so the references do not overlap; 3. `&mut
        // self` makes them the only paths to the objects for their
        // lifetime, during which nothing moves (no proxy or guard exists).
        Some(objects.map(|object| unsafe { &mut *object.as_ptr() }))
    }

    /// Iterates the objects exclusively, in storage order.
    #[inline]
    pub(crate) fn values_mut(&mut self) -> ValuesMut<'_, T> {
        let inner = self.settle();
        // SAFETY: as in `iter_mut`.
        unsafe { ValuesMut::new(&inner.storage) }
    }

    /// Drops every object, keeping the buffer; every key becomes stale.
    pub(crate) fn clear(&mut self) {
        let inner = self.settle();
        inner.table.clear();
        inner.truncate(0);
    }

    /// Removes every object, yielding them by value in storage order.
    pub(crate) fn drain(&mut self) -> Drain<'_, T> {
        let inner = self.settle();
        inner.table.clear();
        let rest = Remaining::take_all(&mut inner.storage);
        // SAFETY: the storage `rest` came from, which the iterator borrows.
        unsafe { Drain::new(rest, inner) }
    }

    /// Gives back unused buffer and table capacity.
    pub(crate) fn shrink_to_fit(&mut self) {
        let inner = self.settle();
        inner.storage.shrink_to_fit();
        inner.table.shrink_to_fit();
    }
}

impl<T: Clone> RawContiguous<T> {
    /// A copy of the pool: its objects cloned in position order under the
    /// same keys, and its key table (versions and free list) copied (see
    /// the `Clone` impl of [`ContiguousUniformPool`]).
    ///
    /// # Panics
    ///
    /// While the pool is exclusively borrowed, or borrowed with removals
    /// or insertions waiting for the borrow to end; and if a `clone`
    /// panics (the copies made so far are dropped).
    #[track_caller]
    pub(crate) fn clone_pool(&self) -> Self {
        let g = Inner::<T>::GEOMETRY;
        let state = self.state().get();
        if state == PENDING {
            // Work left by a destructor that panicked at the end of a
            // borrow: carried out first, as the next insertion would.
            self.settle_before("clone");
        } else if state & PENDING != 0 || is_exclusive(state) {
            clone_busy_panic();
        }
        // The objects are read under a shared borrow: a `clone` that
        // reaches the pool can read it, and its removals and insertions
        // wait for the copy to end (the table was copied before).
        self.acquire_shared("clone");
        let _guard = SharedGuard { core: self.core };
        // SAFETY: a short read; the pool has no deferred work (checked
        // above), so its table has no pending or reserved slot.
        let (table, storage) = unsafe {
            let inner = &*self.inner();
            (inner.table.clone_settled(), inner.storage.empty_like())
        };
        let copy = RawContiguous::<T>::with_capacity(0);
        // SAFETY: the copy is not shared yet: nothing else reaches its core.
        let into = unsafe { &mut *copy.inner() };
        (into.table, into.storage) = (table, storage);
        // The objects and their keys, as slices of the storage's buffers:
        // valid for the whole copy, since nothing moves, adds or removes a
        // stored object while the pool is borrowed (a removal that an
        // object's `clone` begins only touches the table and the storage's
        // epoch, not these buffers).
        let source = self.storage();
        let (objects, keys) = (source.objects::<T>().cast::<T>(), source.keys());
        for (position, &key) in keys.iter().enumerate() {
            // SAFETY: 1. `position` is below the length, which cannot change
            // while the pool is borrowed, so the object is initialized;
            // 2. it is read shared, as the shared borrow allows, and the
            // reference ends with `clone`.
            let value = T::clone(unsafe { objects.add(position).as_ref() });
            // If a `clone` panics, the copy's `Drop` drops the objects
            // stored so far (its table is not consulted).
            let place = into.storage.reserve_one(g);
            // SAFETY: `place` is position `len` of the copy, reserved just
            // above; the object is written before the push counts it.
            unsafe {
                place.cast::<T>().write(value);
                into.storage.push(key);
            }
        }
        copy
    }
}

impl<T> Drop for RawContiguous<T> {
    fn drop(&mut self) {
        // SAFETY: the core came from `Box::leak` in `with_capacity` and is
        // freed only here; nothing borrows the pool any more, so no proxy
        // or guard is used again.
        drop(unsafe { Box::from_raw(self.core.as_ptr()) });
    }
}

impl<T> Inner<T> {
    /// The buffer geometry of `T`, a constant.
    pub(crate) const GEOMETRY: ObjectGeometry = ObjectGeometry::of(Layout::new::<T>());

    /// The address of the object at `position`: valid until the pool next
    /// moves an object.
    ///
    /// # Safety
    ///
    /// `position` is below the storage's length.
    #[inline(always)]
    pub(crate) unsafe fn object_at(&self, position: usize) -> *mut T {
        // The caller's contract, redundant at every call site: positions
        // come from a live key's slot or from a record just checked.
        debug_assert!(position < self.storage.len());
        // SAFETY: below the length (caller contract), so below the
        // capacity, as `slot` requires.
        unsafe { self.storage.slot(Self::GEOMETRY, position) }
            .cast()
            .as_ptr()
    }

    /// Appends `value` and returns its new key and its position (a proxy
    /// records it; the caller has it in a register, where reading the
    /// length back would be a load after the object's stores).
    ///
    /// # Panics
    ///
    /// When the pool holds two billion objects already, or its key table
    /// is full (before changing anything).
    #[inline(always)]
    #[track_caller]
    fn push(&mut self, value: T) -> (KeyData, usize) {
        let g = Self::GEOMETRY;
        let position = self.storage.len();
        assert!(
            position < MAX_OBJECTS,
            "ContiguousUniformPool: more than two billion objects"
        );
        // Everything that can fail (allocate, panic) happens first, so a
        // failure leaves the pool as it was (a key made by a failed push is
        // removed again) and `value` is dropped by the unwinding caller.
        let place = self.storage.reserve_one(g);
        let key = self.table.insert(position);
        // SAFETY: 1. `place` is position `len`, below the capacity, free
        // and aligned for a `T`; 2. room for the push was reserved and
        // position `len` is initialized before the length covers it; the
        // new key maps to it.
        unsafe {
            place.cast::<T>().write(value);
            self.storage.push(key);
        }
        (key, position)
    }

    /// Removes the live object of `key` now and returns it; `None` if the
    /// key names no live object. Must only be called when the pool is
    /// unborrowed (no reference into the objects is live, no user code
    /// runs meanwhile).
    #[inline]
    pub(crate) fn remove_now(&mut self, key: KeyData) -> Option<T> {
        let position = self.table.remove_live(key)?;
        // SAFETY: the key mapped to a stored position (invariant), and the
        // caller holds no reference into the objects.
        Some(unsafe { self.take_at(position) })
    }

    /// Queues the insertion of `value` (the pool is borrowed; `None`: a
    /// value to come, which the end of the borrow treats as cancelled if
    /// it has not come) and returns its reserved key.
    ///
    /// # Panics
    ///
    /// When stored and queued objects would be more than two billion
    /// (before changing anything).
    #[track_caller]
    fn enqueue(&mut self, value: Option<T>) -> KeyData {
        let ticket = self.queue.len();
        assert!(
            self.storage.len() + ticket < MAX_OBJECTS,
            "ContiguousUniformPool: more than two billion objects"
        );
        // Everything that can fail (allocate) happens before the key is
        // reserved, so a failure leaves the pool as it was.
        self.queue.reserve(1);
        let key = self.table.reserve(ticket as u32);
        self.queue.push(Queued { key, value });
        key
    }

    /// Cancels the queued insertion of `key` and returns its value, for
    /// the caller to drop once its `&mut` ends; `None` if `key` names no
    /// queued insertion (or one already cancelled).
    fn cancel_queued(&mut self, key: KeyData) -> Option<T> {
        let ticket = self.table.ticket(key)?;
        let entry = self.queue.get_mut(ticket as usize)?;
        if entry.key != key {
            return None;
        }
        entry.value.take()
    }

    /// Moves the queued insertions in, in order (their keys' slots turn
    /// live, those of cancelled ones vacant). Runs no user code: the pool
    /// must only be unborrowed. A failed allocation changes nothing.
    pub(crate) fn move_in_queue(&mut self) {
        if self.queue.is_empty() {
            return;
        }
        let g = Self::GEOMETRY;
        let live = self.queue.iter().filter(|e| e.value.is_some()).count();
        // Room first, so that nothing below can fail.
        self.storage.reserve_more(live);
        self.table.reserve_fresh();
        let mut queue = core::mem::take(&mut self.queue);
        for entry in queue.drain(..) {
            let Some(value) = entry.value else {
                self.table.cancel(entry.key);
                continue;
            };
            let position = self.storage.len();
            let place = self.storage.reserve_one(g);
            self.table.fill(entry.key, position);
            // SAFETY: 1. `place` is position `len`, below the capacity
            // (room was made above), free and aligned for a `T`; 2. it is
            // initialized before the length covers it; the key now maps
            // to it.
            unsafe {
                place.cast::<T>().write(value);
                self.storage.push(entry.key);
            }
        }
        self.table.end_fill();
        // Keep the queue's buffer for the next borrow.
        self.queue = queue;
    }

    /// Begins the deferred removal of the live object of `key` (see
    /// [`SlotTable::defer`]); `false` if the key names no live object.
    /// Proxies stop trusting the positions they found: the object stays
    /// stored, but its proxy must no longer reach it.
    #[inline]
    pub(crate) fn defer(&mut self, key: KeyData) -> bool {
        let deferred = self.table.defer(key);
        if deferred {
            self.storage.invalidate();
        }
        deferred
    }

    /// Finishes the deferred removal of the pending object of slot `index`
    /// and returns it.
    ///
    /// # Safety
    ///
    /// `index` was just taken off `table.pending`, and the pool is
    /// unborrowed (the end of a borrow or `&mut self` calls this).
    #[inline]
    pub(crate) unsafe fn finish_pending(&mut self, index: u32) -> T {
        // SAFETY: just taken off the pending list (caller contract).
        let position = unsafe { self.table.finish(index) };
        // SAFETY: a pending slot holds a stored position (invariant), and
        // the pool is unborrowed (caller contract).
        unsafe { self.take_at(position) }
    }

    /// Moves the object at `position` out, fills the hole with the last
    /// object (whose key and table entry follow it) and returns the object;
    /// halves the buffer when it is three quarters empty, which moves the
    /// objects. The removed object's key must be out of the table already.
    ///
    /// # Safety
    ///
    /// `position` is below the length; no reference or pointer into the
    /// objects is live (or used again: the buffer may move).
    #[inline]
    pub(crate) unsafe fn take_at(&mut self, position: usize) -> T {
        let g = Self::GEOMETRY;
        let last = self.storage.len() - 1;
        // SAFETY: 1. `position` and `last` are stored positions (below the
        // length, as `slot`, `back` and `set_back` require); 2. the object
        // is read out once and its place refilled by the last object (whose
        // key and table entry follow it), or it was the last; the length
        // then drops by one, so no position is read twice or left
        // uninitialized, and the truncation changes the epoch for the
        // moved object too, as `set_back` requires; 3. no reference to
        // either object exists (caller contract); 4. the key stored beside
        // the last object is in the table (invariant on `Inner`), as
        // `moved` requires.
        let value = unsafe {
            let hole = self.storage.slot(g, position);
            let value = hole.cast::<T>().read();
            if position != last {
                let tail = self.storage.slot(g, last);
                tail.cast::<T>().copy_to_nonoverlapping(hole.cast::<T>(), 1);
                let moved = self.storage.back(last);
                self.storage.set_back(position, moved);
                self.table.moved(moved, position);
            }
            self.storage.truncate(last);
            value
        };
        if self.storage.has_idle() {
            self.storage.release_idle();
        }
        value
    }

    /// Drops the objects at positions `from..`, keeping the buffer. The
    /// length is cut first, so the pool stays consistent whatever a
    /// destructor does; a panicking destructor does not stop the others.
    fn truncate(&mut self, from: usize) {
        let end = self.storage.len();
        if from >= end {
            return;
        }
        // SAFETY: positions `0..from` stay initialized; the others are
        // dropped below and no longer counted.
        unsafe { self.storage.truncate(from) };
        // SAFETY: positions `from..end` hold initialized objects that the
        // storage no longer counts, owned only here.
        unsafe { drop_positions::<T>(&self.storage, from, end) };
    }
}

impl<T> Drop for Inner<T> {
    /// Drops the objects still stored (the buffer goes with `storage`).
    fn drop(&mut self) {
        self.truncate(0);
    }
}

/// Drops the objects at positions `from..end`; a panicking destructor
/// does not stop the others (the slice's drop glue drops the rest while
/// unwinding).
///
/// # Safety
///
/// The positions hold initialized `T`s of `storage` that nothing else owns
/// or uses any more (the storage's length no longer covers them).
pub(crate) unsafe fn drop_positions<T>(storage: &ObjectStorage, from: usize, end: usize) {
    if !core::mem::needs_drop::<T>() || from >= end {
        return;
    }
    // SAFETY: positions `from..end` are adjacent places of the buffer
    // holding initialized `T`s owned here (`drop_positions` contract), each
    // dropped once.
    unsafe {
        let first = storage.slot(Inner::<T>::GEOMETRY, from).cast::<T>();
        core::ptr::drop_in_place(core::ptr::slice_from_raw_parts_mut(
            first.as_ptr(),
            end - from,
        ));
    }
}

/// Ends one shared borrow of a pool when dropped (also during unwinding).
///
/// Hand-written rather than a `scopeguard::guard`: it is the borrow token
/// of the hot paths ([`Proxy::with`](crate::contiguous::Proxy::with), the
/// guards' `Drop`), whose fast exit is one subtraction and one comparison
/// inlined at every call site.
pub(crate) struct SharedGuard<T> {
    /// The core of a live pool holding a shared borrow counted for this
    /// guard.
    pub(crate) core: NonNull<ContiguousCore<T>>,
}

/// Ends the exclusive borrow of a pool when dropped (also during
/// unwinding). Hand-written for the reason given on [`SharedGuard`].
pub(crate) struct ExclusiveGuard<T> {
    /// The core of a live pool exclusively borrowed for this guard.
    pub(crate) core: NonNull<ContiguousCore<T>>,
}

impl<T> Drop for SharedGuard<T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the core of a live pool (field invariant).
        let state = unsafe { &(*self.core.as_ptr()).state };
        // The guard's own borrow is counted (field invariant), so the
        // subtraction cannot wrap and the rest is not exclusive.
        let rest = state.get() - SHARED;
        state.set(rest);
        if rest == PENDING {
            // SAFETY: the core of a live pool.
            unsafe { flush_slow(self.core) };
        }
    }
}

impl<T> Drop for ExclusiveGuard<T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the core of a live pool (field invariant).
        let state = unsafe { &(*self.core.as_ptr()).state };
        // The exclusive pattern is set for this guard (field invariant);
        // only the pending flag survives it.
        let rest = state.get() & PENDING;
        state.set(rest);
        if rest == PENDING {
            // SAFETY: the core of a live pool.
            unsafe { flush_slow(self.core) };
        }
    }
}

/// Takes one shared borrow.
#[inline(always)]
#[track_caller]
pub(crate) fn acquire_shared(state: &Cell<usize>, operation: &str) {
    let current = check_shared(state, operation);
    state.set(current + SHARED);
}

/// The borrow state, after checking that one more shared borrow may be
/// taken (the pool is not exclusively borrowed and the count has room).
///
/// # Panics
///
/// When it may not, naming `operation`.
#[inline(always)]
#[track_caller]
pub(crate) fn check_shared(state: &Cell<usize>, operation: &str) -> usize {
    let current = state.get();
    if current >= SHARED_LIMIT {
        borrowed_panic(operation);
    }
    current
}

/// Takes the exclusive borrow.
///
/// # Safety
///
/// `core` is the core of a live pool.
#[inline(always)]
#[track_caller]
pub(crate) unsafe fn acquire_exclusive<T>(core: NonNull<ContiguousCore<T>>, operation: &str) {
    // SAFETY: a live core (caller contract).
    let state = unsafe { &(*core.as_ptr()).state };
    let current = check_exclusive(state, operation);
    state.set(current | EXCLUSIVE);
}

/// The borrow state, after checking that the exclusive borrow may be taken
/// (the pool is not borrowed at all).
///
/// # Panics
///
/// When it may not, naming `operation`.
#[inline(always)]
#[track_caller]
pub(crate) fn check_exclusive(state: &Cell<usize>, operation: &str) -> usize {
    let current = state.get();
    if is_borrowed(current) {
        borrowed_panic(operation);
    }
    current
}

/// Carries out the work deferred while the pool was borrowed: moves the
/// queued insertions in, then finishes the removals; called when the state
/// says "unborrowed, something pending".
///
/// Each removed object is taken out (leaving the pool consistent) before
/// its destructor runs, so a destructor may use the pool. A panicking
/// destructor leaves the rest pending for the next flush; during unwinding
/// no object is dropped here (a second panic would abort), but the queue is
/// still moved in: that runs no user code, and no slot may be added before
/// the reserved ones.
///
/// # Safety
///
/// `core` is the core of a live pool.
#[cold]
#[inline(never)]
pub(crate) unsafe fn flush_slow<T>(core: NonNull<ContiguousCore<T>>) {
    let core = core.as_ptr();
    // SAFETY: a live core (caller contract).
    let state = unsafe { &(*core).state };
    // Stop as soon as a destructor leaves the pool borrowed (a leaked
    // guard); a nested flush may also have finished the work.
    while state.get() == PENDING {
        // SAFETY: unborrowed: no reference into `inner` exists, and no user
        // code runs while this one lives.
        let inner = unsafe { &mut *(*core).inner.get() };
        inner.move_in_queue();
        let Some(index) = inner.table.pending.pop() else {
            state.set(0);
            break;
        };
        if crate::platform::panicking() {
            inner.table.pending.push(index);
            return;
        }
        if inner.table.pending.is_empty() {
            state.set(0);
        }
        // SAFETY: unborrowed; the slot was listed once and just unlisted.
        let value = unsafe { inner.finish_pending(index) };
        drop(value);
    }
    // SAFETY: a short access, as above.
    let pending = unsafe { &mut (*(*core).inner.get()).table.pending };
    if pending.is_empty() && pending.capacity() > 64 {
        // A walk that removed many objects does not keep their list.
        pending.shrink_to(64);
    }
}

/// Panics for an operation attempted while the pool is borrowed.
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn borrowed_panic(operation: &str) -> ! {
    borrowed_panic_with(operation, deferred_hint(operation))
}

/// Panics for an access through a proxy attempted while the pool is
/// borrowed in a conflicting way: `with`, `with_mut`, or a derive-generated
/// accessor or forwarded method, named by `operation`. As
/// [`borrowed_panic`], with no hint: an accessor may be named like a pool
/// method that has one.
#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn access_borrowed_panic(operation: &str) -> ! {
    borrowed_panic_with(operation, "")
}

/// The message of [`borrowed_panic`] and [`access_borrowed_panic`].
#[cold]
#[inline(never)]
#[track_caller]
fn borrowed_panic_with(operation: &str, hint: &str) -> ! {
    panic!(
        "ContiguousUniformPool: `{operation}` called while the pool is already borrowed \
         (inside `map`, `retain`, a `with`/`with_mut` closure, or while a \
         PoolRef/PoolRefMut/ObjectRef/ObjectMut lives){hint}"
    )
}

/// Panics for a `clone` of a pool exclusively borrowed or with deferred
/// work waiting for a borrow to end.
#[cold]
#[inline(never)]
#[track_caller]
fn clone_busy_panic() -> ! {
    panic!(
        "ContiguousUniformPool: `clone` called while the pool is exclusively borrowed, or \
         while removals or insertions wait for its borrow to end (clone it outside `map`, \
         `retain` and `with_mut`, or once the walk that deferred them ended)"
    )
}

/// Panics for an `insert_with_key_deferred` whose closure ended the borrow
/// it was called under.
#[cold]
#[inline(never)]
#[track_caller]
fn reservation_lost_panic() -> ! {
    panic!(
        "ContiguousUniformPool: the closure of `insert_with_key_deferred` ended the borrow \
         it was called under (it dropped the last guard), which cancelled the insertion: \
         nothing was inserted"
    )
}

/// What [`borrowed_panic`] adds for an operation that has a counterpart
/// that works while the pool is borrowed.
fn deferred_hint(operation: &str) -> &'static str {
    match operation {
        "remove" => "; to remove an object inside a walk, use `remove_deferred`",
        "insert" | "alloc" => {
            "; to add an object inside a walk, use `insert_deferred` \
             (it is moved in when the borrow ends)"
        }
        "insert_with_key" => {
            "; to add an object inside a walk, use `insert_with_key_deferred` \
             (it is moved in when the borrow ends)"
        }
        "into_inner" => {
            "; the proxy was dropped instead, so its object is removed when \
             the borrow ends"
        }
        _ => "",
    }
}

// SAFETY: visits every stored object in place (through `&mut self`, so no
// proxy or guard can be alive), those whose removal is pending included:
// they are still owned by the pool and their references are dropped later;
// `HAS_REFS` is `T`'s own. Objects are never added, dropped or moved here.
unsafe impl<T: Managed, K> Managed for ContiguousUniformPool<T, K> {
    const HAS_REFS: bool = T::HAS_REFS;

    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        if !T::HAS_REFS {
            return;
        }
        // SAFETY: `&mut self` makes this the only access to the core.
        let inner = unsafe { self.raw.core.as_mut() }.inner.get_mut();
        // SAFETY: `&mut self` makes the objects reachable only through the
        // iterator while it lives; nothing changes the storage meanwhile.
        for object in unsafe { ValuesMut::<T>::new(&inner.storage) } {
            object.visit_refs(visitor);
        }
        // Queued objects are the pool's too (a visit never runs inside a
        // borrow, but a leaked guard can leave a queue behind).
        for value in inner.queue.iter_mut().filter_map(|e| e.value.as_mut()) {
            value.visit_refs(visitor);
        }
    }
}

#[cfg(target_pointer_width = "64")]
// SAFETY: the pool is a pointer to its core, whose layout depends on `T`
// only through `T`'s layout (the buffer geometry) and `PhantomData`, so
// substituting the objects' region lifetime changes nothing else; the key
// type has no region lifetime to substitute (if it had one, it would stay,
// which is sound). No proxy can be alive while the pool is moved into a
// token.
unsafe impl<T: Rebrand, K> Rebrand for ContiguousUniformPool<T, K> {
    type Branded<'b> = ContiguousUniformPool<T::Branded<'b>, K>;
}
