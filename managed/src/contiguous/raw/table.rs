//! The key table of a [`ContiguousUniformPool`]: a generational slot array
//! from each object's key to its current position in the storage, and the
//! removals deferred while the pool is borrowed.
//!
//! Kept free of `T` (and of the user's key type: keys go in and out as
//! slotmap's [`KeyData`]) so it is compiled once, whatever the pools' types.
//!
//! A slot is the stable forwarding cell of one object: the object's
//! back-pointer (its key, stored beside it) names the slot, and the pool
//! rewrites the slot's position whenever it moves the object. A slot is 8
//! bytes, a 4-byte version and a 4-byte position, the layout of a
//! `slotmap::SlotMap<_, u32>`'s or a `DenseSlotMap`'s slots, so a million
//! keys take 8 MB next to the objects.
//!
//! Each slot is in one of four states:
//!
//! | state | `version` | `value` | listed in |
//! |---|---|---|---|
//! | live | odd | the object's position | |
//! | pending removal | even | the object's position | [`pending`] |
//! | vacant | even | the next vacant slot, or [`NONE`] | the free list |
//! | reserved | even, one below its key's | the ticket of its queued insertion | |
//!
//! A **reserved** slot belongs to an insertion queued while the pool is
//! borrowed ([`reserve`](SlotTable::reserve)): its key is handed out at
//! once, but the slot array cannot change in place or length then (borrow
//! guards copy it), so the key's slot is taken off the free list with its
//! version left even (lookups do not match it), or, with the free list
//! empty, is a *fresh* number past the array's end (lookups are out of
//! bounds), added when the queue is moved in ([`fill`](SlotTable::fill)).
//!
//! A key carries the odd version its slot had when the object was inserted
//! (slotmap's keys always carry an odd version). A lookup is a bounds check
//! and one version compare: only a live slot can match, so the pending
//! mark costs lookups nothing. Beginning a deferred removal bumps the
//! version to even (the object stays stored, and is moved like any other,
//! its position kept current, until the borrow ends); finishing it turns
//! the slot vacant with the same version; reusing it bumps the version to
//! odd again. A key of a removed object so never matches again, until the
//! version wraps after two billion reuses of one slot, as with slotmap.
//!
//! Hand-written rather than a `slotmap::SlotMap` for one reason: a borrow
//! guard copies a [`TableView`] (the slot array's address and length,
//! fixed while the pool is borrowed) into itself, so a loop of lookups
//! through a guard keeps both in registers. Through a `SlotMap` the
//! compiler reloads the array's address from the pool for every lookup,
//! and a `SlotMap` gives no way to reach its slots otherwise. Keys are
//! still slotmap's: [`KeyData`] (and every `slotmap::Key` type) goes
//! through [`KeyData::as_ffi`] / [`KeyData::from_ffi`], whose encoding a
//! test pins.
//!
//! [`ContiguousUniformPool`]: crate::contiguous::ContiguousUniformPool
//! [`pending`]: SlotTable::pending

use alloc::vec::Vec;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, Ordering};
use slotmap::KeyData;

// A slot's version is read and written as an `AtomicU32` while views of
// the table may be read on other threads (`TableView::position_shared`,
// `SlotTable::defer`): that needs the field aligned for one.
const _: () = assert!(align_of::<u32>() == align_of::<AtomicU32>());

/// Objects a pool holds at most: two billion. Slots are only added when
/// every slot is in use, so there are never more slots than stored objects
/// at a time, and every slot number is below [`NONE`].
pub(crate) const MAX_OBJECTS: usize = 1 << 31;

/// The end of the free list: no slot has this number.
const NONE: u32 = u32::MAX;

/// One slot (see the module docs for its states).
#[derive(Clone, Copy)]
#[repr(C)]
struct Slot {
    /// Odd while live; even while pending removal or vacant.
    version: u32,
    /// The object's position while live or pending; the next vacant slot
    /// (or [`NONE`]) while vacant.
    value: u32,
}

/// A key's slot number and version.
#[inline(always)]
fn split(key: KeyData) -> (usize, u32) {
    let ffi = key.as_ffi();
    ((ffi & 0xffff_ffff) as usize, (ffi >> 32) as u32)
}

/// The key of slot `index` at (odd) `version`.
#[inline(always)]
fn join(index: usize, version: u32) -> KeyData {
    debug_assert!(version % 2 == 1 && index < NONE as usize);
    KeyData::from_ffi((u64::from(version) << 32) | index as u64)
}

/// The key table of one pool.
pub(crate) struct SlotTable {
    /// The slots, by number.
    ///
    /// Invariant (kept by the typed pool): the live and pending slots are
    /// exactly those of the stored objects, each holding its object's
    /// position below the storage's length; the pending ones are exactly
    /// those in `pending`; the vacant ones exactly those on the free list.
    /// Elements are read and written through raw pointers from
    /// `as_ptr`/`as_mut_ptr`, never through references into the buffer,
    /// so that a [`TableView`] taken while the pool is borrowed stays
    /// valid across deferred removals.
    slots: Vec<Slot>,
    /// The first vacant slot, or [`NONE`]; each vacant slot's `value` links
    /// to the next.
    free_head: u32,
    /// Live and pending slots.
    len: usize,
    /// Slot numbers whose removal was deferred while the pool was
    /// borrowed, each once; the pool's `PENDING` state bit is set exactly
    /// when this or the pool's insertion queue is not empty.
    pub(crate) pending: Vec<u32>,
    /// The tickets (positions in the pool's insertion queue) of the fresh
    /// slots reserved while the pool is borrowed: slot `fresh_base + i`
    /// belongs to ticket `fresh[i]`.
    ///
    /// Invariant: empty whenever the pool's insertion queue is; while not
    /// empty, no slot is added except by [`fill`](Self::fill) and
    /// [`cancel`](Self::cancel) in ticket order (the pool moves its queue
    /// in before any other insertion), so fresh numbers stay unused.
    fresh: Vec<u32>,
    /// The first fresh slot number: the array's length when the first
    /// fresh slot was reserved (it cannot change until the queue is moved
    /// in). Meaningless while `fresh` is empty.
    fresh_base: usize,
}

/// The slot array of a table, by value: what a lookup reads.
///
/// Valid while the table's slot array is neither reallocated nor
/// shortened: from the start of a borrow of the pool to its end, during
/// which no key is inserted and no slot added (only deferred removals,
/// which write versions through the same pointer, and moves, which write
/// positions).
#[derive(Clone, Copy)]
pub(crate) struct TableView {
    /// `slots.as_ptr()` of the table.
    slots: NonNull<Slot>,
    /// `slots.len()` of the table.
    len: usize,
}

impl TableView {
    /// The position of the live object of `key`, if there is one. Any key
    /// is a valid question.
    ///
    /// # Safety
    ///
    /// The view is valid (see the type's docs): the table it was taken
    /// from is alive and its slot array unchanged in place and length.
    #[inline(always)]
    pub(crate) unsafe fn position(self, key: KeyData) -> Option<usize> {
        let (index, version) = split(key);
        if index >= self.len {
            return None;
        }
        // SAFETY: `index` is below the length of the slot array, which is
        // where the view points (caller contract); elements are only
        // written through raw pointers, so a read here aliases no `&mut`.
        let slot = unsafe { self.slots.add(index).read() };
        (slot.version == version).then_some(slot.value as usize)
    }

    /// [`position`](Self::position) for a reader on another thread than
    /// the pool's (a `PoolLookup`), which may run while the pool's thread
    /// begins deferred removals: the slot's version is read atomically,
    /// as [`SlotTable::defer`] writes it, and its position only once the
    /// version matched `key`'s.
    ///
    /// # Safety
    ///
    /// As for [`position`](Self::position), and the pool is borrowed for
    /// as long as any such reader runs: then the only writes to the slot
    /// array are `defer`'s version bumps (atomic) and
    /// [`reserve`](SlotTable::reserve)'s writes to the `value` of vacant
    /// slots, whose versions are even and so never match a key's.
    #[inline(always)]
    pub(crate) unsafe fn position_shared(self, key: KeyData) -> Option<usize> {
        let (index, version) = split(key);
        if index >= self.len {
            return None;
        }
        // SAFETY: below the length of the slot array the view points at
        // (caller contract); no reference to the slot is made.
        let slot = unsafe { self.slots.as_ptr().add(index) };
        // SAFETY: 1. the version field of a slot in the array, aligned for
        // an `AtomicU32` (the assertion above), valid while the view is
        // (caller contract). 2. While the pool is borrowed, every write to
        // a version is `defer`'s atomic store, and other accesses from
        // other threads are atomic loads like this one, so no access races
        // non-atomically.
        let current =
            unsafe { AtomicU32::from_ptr(&raw mut (*slot).version) }.load(Ordering::Relaxed);
        if current != version {
            return None;
        }
        // SAFETY: the version matched a key's (odd), so the slot is live
        // or pending removal, and its position is written only when an
        // object moves, which nothing does while the pool is borrowed
        // (caller contract): this read races with no write.
        Some(unsafe { (&raw const (*slot).value).read() } as usize)
    }
}

impl SlotTable {
    /// No keys, and room for `capacity` slots (at most [`MAX_OBJECTS`]
    /// are ever needed).
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self {
            slots: Vec::with_capacity(capacity.min(MAX_OBJECTS)),
            free_head: NONE,
            len: 0,
            pending: Vec::new(),
            fresh: Vec::new(),
            fresh_base: 0,
        }
    }

    /// A copy of a table with no deferred work (no pending removal, no
    /// reserved slot): the same slots, versions and free list, so the copy
    /// makes the same keys for the same insertions.
    pub(crate) fn clone_settled(&self) -> Self {
        debug_assert!(self.pending.is_empty() && self.fresh.is_empty());
        let len = self.slots.len();
        let mut slots = Vec::with_capacity(len);
        // SAFETY: `len` slots are initialized in `self.slots` and fit in the
        // new buffer; copied through the raw pointers (no reference to the
        // elements, see `slots`), then counted.
        unsafe {
            core::ptr::copy_nonoverlapping(self.slots.as_ptr(), slots.as_mut_ptr(), len);
            slots.set_len(len);
        }
        Self {
            slots,
            free_head: self.free_head,
            len: self.len,
            pending: Vec::new(),
            fresh: Vec::new(),
            fresh_base: 0,
        }
    }

    /// The slot array by value, for lookups while the pool is borrowed.
    #[inline(always)]
    pub(crate) fn view(&self) -> TableView {
        TableView {
            // `Vec::as_ptr` materializes no reference to the elements, so
            // the pointer stays valid across the writes made through
            // `as_mut_ptr` below.
            slots: NonNull::new(self.slots.as_ptr().cast_mut()).unwrap_or(NonNull::dangling()),
            len: self.slots.len(),
        }
    }

    /// Slot `index`.
    ///
    /// # Safety
    ///
    /// `index` is below the number of slots.
    #[inline(always)]
    unsafe fn slot(&self, index: usize) -> Slot {
        debug_assert!(index < self.slots.len());
        // SAFETY: in bounds (caller contract).
        unsafe { self.slots.as_ptr().add(index).read() }
    }

    /// Slot `index`, for writing through a raw pointer.
    ///
    /// # Safety
    ///
    /// `index` is below the number of slots.
    #[inline(always)]
    unsafe fn slot_mut(&mut self, index: usize) -> *mut Slot {
        debug_assert!(index < self.slots.len());
        // SAFETY: in bounds (caller contract).
        unsafe { self.slots.as_mut_ptr().add(index) }
    }

    /// A new key, for an object at `position`.
    ///
    /// The caller (the pool's `push`) has asserted that the storage holds
    /// fewer than [`MAX_OBJECTS`] objects, so a new slot number stays below
    /// [`NONE`].
    #[inline]
    pub(crate) fn insert(&mut self, position: usize) -> KeyData {
        // Redundant: the pool's `push` asserts it (unconditionally) before
        // calling this.
        debug_assert!(position < MAX_OBJECTS);
        let index = self.free_head;
        let key = if index == NONE {
            let index = self.slots.len();
            debug_assert!(index < MAX_OBJECTS, "more slots than objects");
            self.slots.push(Slot {
                version: 1,
                value: position as u32,
            });
            join(index, 1)
        } else {
            // SAFETY: the free list holds slot numbers (invariant on
            // `slots`); the slot is vacant, so writing it aliases nothing.
            unsafe {
                let slot = self.slot_mut(index as usize);
                self.free_head = (*slot).value;
                let version = (*slot).version.wrapping_add(1);
                *slot = Slot {
                    version,
                    value: position as u32,
                };
                join(index as usize, version)
            }
        };
        self.len += 1;
        key
    }

    /// The position of the live object of `key`, if there is one (not once
    /// its removal began). Any key is a valid question.
    #[inline(always)]
    pub(crate) fn position(&self, key: KeyData) -> Option<usize> {
        // SAFETY: a view of this table, used at once.
        unsafe { self.view().position(key) }
    }

    /// The position of the stored object of `key`, pending or not.
    #[cfg(test)]
    fn stored(&self, key: KeyData) -> Option<usize> {
        let (index, version) = split(key);
        if index >= self.slots.len() {
            return None;
        }
        // SAFETY: in bounds.
        let slot = unsafe { self.slot(index) };
        let pending =
            slot.version == version.wrapping_add(1) && self.pending.contains(&(index as u32));
        (slot.version == version || pending).then_some(slot.value as usize)
    }

    /// Records that the object of `key` now lives at `position`.
    ///
    /// # Safety
    ///
    /// `key` must be the key of a stored object, live or pending (its
    /// back-pointer), whose slot the table holds by its invariant. The
    /// slot is then found without a version check.
    #[inline(always)]
    pub(crate) unsafe fn moved(&mut self, key: KeyData, position: usize) {
        let (index, _version) = split(key);
        // SAFETY: the slot of a stored object (caller contract), so in
        // bounds and not vacant.
        unsafe {
            debug_assert!({
                let slot = self.slot(index);
                slot.version == _version || slot.version == _version.wrapping_add(1)
            });
            (*self.slot_mut(index)).value = position as u32;
        }
    }

    /// Begins the deferred removal of the live object of `key`: lookups
    /// stop finding it, and it is listed for the end of the borrow.
    /// `false` if the key names no live object.
    #[inline]
    pub(crate) fn defer(&mut self, key: KeyData) -> bool {
        self.pending.reserve(1);
        if self.position(key).is_none() {
            return false;
        }
        let (index, _) = split(key);
        // SAFETY: 1. a live slot (just found), so in bounds; written
        // through the raw pointer, as the invariant on `slots` requires.
        // 2. The pool is borrowed: `PoolLookup`s may read the version on
        // other threads (`TableView::position_shared`), so it is stored
        // atomically, through a field aligned for an `AtomicU32` (the
        // assertion at the top of this module); this thread's plain read
        // before it races with no write.
        unsafe {
            let slot = self.slot_mut(index);
            let bumped = (*slot).version.wrapping_add(1);
            AtomicU32::from_ptr(&raw mut (*slot).version).store(bumped, Ordering::Relaxed);
        }
        self.pending.push(index as u32);
        true
    }

    /// Finishes the deferred removal of slot `index` (just taken off
    /// `pending`): the slot turns vacant. Returns its object's position.
    ///
    /// # Safety
    ///
    /// `index` was listed in `pending` (so the slot is pending removal) and
    /// has just been taken off it.
    #[inline]
    pub(crate) unsafe fn finish(&mut self, index: u32) -> usize {
        // SAFETY: a pending slot (caller contract), so in bounds.
        let position = unsafe { self.slot(index as usize) }.value as usize;
        // SAFETY: as above; the version is already even.
        unsafe { self.vacate(index) };
        position
    }

    /// Turns slot `index` vacant (its version even already) and lists it.
    ///
    /// # Safety
    ///
    /// `index` is a slot number, of a slot that is not vacant.
    #[inline(always)]
    unsafe fn vacate(&mut self, index: u32) {
        let head = self.free_head;
        // SAFETY: in bounds (caller contract).
        unsafe {
            let slot = self.slot_mut(index as usize);
            debug_assert!((*slot).version.is_multiple_of(2));
            (*slot).value = head;
        }
        self.free_head = index;
        self.len -= 1;
    }

    /// Removes the live `key` (not a pending one), returning its object's
    /// position.
    #[inline]
    pub(crate) fn remove_live(&mut self, key: KeyData) -> Option<usize> {
        let position = self.position(key)?;
        let (index, _) = split(key);
        // SAFETY: a live slot (just found), so in bounds; its version turns
        // even before it is vacated.
        unsafe {
            let slot = self.slot_mut(index);
            (*slot).version = (*slot).version.wrapping_add(1);
            self.vacate(index as u32);
        }
        Some(position)
    }

    /// A key for an insertion queued while the pool is borrowed, whose
    /// queue position is `ticket`: a vacant slot turns reserved, or, with
    /// none, a fresh number past the array is reserved. The slot array is
    /// not written but for a vacant slot's `value`, so views taken under
    /// the borrow stay valid, and no lookup finds the key until
    /// [`fill`](Self::fill).
    ///
    /// The caller has asserted that stored and queued objects together
    /// are fewer than [`MAX_OBJECTS`]; a failed allocation changes nothing.
    pub(crate) fn reserve(&mut self, ticket: u32) -> KeyData {
        let index = self.free_head;
        if index == NONE {
            self.fresh.reserve(1);
            if self.fresh.is_empty() {
                self.fresh_base = self.slots.len();
            }
            // Slots are added only when none is vacant, so the slots and
            // the fresh numbers are never more than the stored and queued
            // objects, fewer than `MAX_OBJECTS` (caller): below `NONE`.
            let index = self.fresh_base + self.fresh.len();
            debug_assert!(index < MAX_OBJECTS);
            self.fresh.push(ticket);
            return join(index, 1);
        }
        // SAFETY: the free list holds slot numbers (invariant on `slots`);
        // the slot is vacant, written through the raw pointer as the
        // invariant on `slots` requires. Its version stays even.
        unsafe {
            let slot = self.slot_mut(index as usize);
            self.free_head = (*slot).value;
            (*slot).value = ticket;
            join(index as usize, (*slot).version.wrapping_add(1))
        }
    }

    /// The ticket of `key` if it may be a reserved key (the caller checks
    /// its queue's entry against `key`: any key is a valid question, and a
    /// vacant slot's `value` is no ticket).
    #[inline]
    pub(crate) fn ticket(&self, key: KeyData) -> Option<u32> {
        let (index, version) = split(key);
        if index < self.slots.len() {
            // SAFETY: in bounds.
            let slot = unsafe { self.slot(index) };
            return (slot.version.wrapping_add(1) == version).then_some(slot.value);
        }
        let fresh = self.fresh.get(index.checked_sub(self.fresh_base)?)?;
        (version == 1).then_some(*fresh)
    }

    /// Makes room for the fresh slots that [`fill`](Self::fill) and
    /// [`cancel`](Self::cancel) will add, so that they cannot fail.
    pub(crate) fn reserve_fresh(&mut self) {
        self.slots.reserve(self.fresh.len());
    }

    /// Ends the moving in of the queue: every reserved key was filled or
    /// cancelled, so the fresh numbers are all in the array now.
    pub(crate) fn end_fill(&mut self) {
        debug_assert!(
            self.fresh.is_empty() || self.slots.len() == self.fresh_base + self.fresh.len()
        );
        self.fresh.clear();
    }

    /// The reserved `key`'s object is now stored at `position`: its slot
    /// turns live. Called for the queued insertions in ticket order, after
    /// [`reserve_fresh`](Self::reserve_fresh).
    ///
    /// # Panics
    ///
    /// If `key` is not reserved, or a fresh one out of order (a broken
    /// invariant of the pool: keys would find other objects' slots).
    pub(crate) fn fill(&mut self, key: KeyData, position: usize) {
        let index = self.take_reserved(key);
        let slot = Slot {
            version: split(key).1,
            value: position as u32,
        };
        if index == self.slots.len() {
            self.slots.push(slot);
        } else {
            // SAFETY: in bounds (`take_reserved`); a reserved slot is
            // written through the raw pointer, as the invariant on `slots`
            // requires.
            unsafe { *self.slot_mut(index) = slot };
        }
        self.len += 1;
    }

    /// The reserved `key`'s insertion was cancelled: its slot turns vacant
    /// with a version the key does not match. Called as
    /// [`fill`](Self::fill) is, in ticket order.
    ///
    /// # Panics
    ///
    /// As [`fill`](Self::fill).
    pub(crate) fn cancel(&mut self, key: KeyData) {
        let index = self.take_reserved(key);
        let slot = Slot {
            version: split(key).1.wrapping_add(1),
            value: self.free_head,
        };
        if index == self.slots.len() {
            self.slots.push(slot);
        } else {
            // SAFETY: as in `fill`.
            unsafe { *self.slot_mut(index) = slot };
        }
        self.free_head = index as u32;
    }

    /// The slot number of the reserved `key`, checked: a slot below the
    /// array's end whose version is one below the key's (so neither live
    /// nor pending), or the next fresh number (then counted as added).
    #[track_caller]
    fn take_reserved(&mut self, key: KeyData) -> usize {
        let (index, version) = split(key);
        let reserved = if index < self.slots.len() {
            // SAFETY: in bounds.
            unsafe { self.slot(index) }.version.wrapping_add(1) == version
        } else {
            index == self.slots.len()
                && index >= self.fresh_base
                && index < self.fresh_base + self.fresh.len()
        };
        assert!(
            reserved,
            "ContiguousUniformPool: a queued insertion's slot was taken (broken invariant)"
        );
        index
    }

    /// Forgets every key (all become stale) and the pending list; the
    /// slots' memory is kept.
    pub(crate) fn clear(&mut self) {
        // The pool moves its queued insertions in before clearing.
        debug_assert!(self.fresh.is_empty());
        self.pending.clear();
        let mut next = NONE;
        for index in (0..self.slots.len()).rev() {
            // SAFETY: in bounds.
            unsafe {
                let slot = self.slot_mut(index);
                // Live slots turn even, so their keys stop matching;
                // pending and vacant ones are even already.
                (*slot).version = (*slot).version.wrapping_add(1) & !1;
                (*slot).value = next;
            }
            next = index as u32;
        }
        self.free_head = next;
        self.len = 0;
    }

    /// Live and pending slots: one per stored object.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Slots the table holds without growing.
    pub(crate) fn capacity(&self) -> usize {
        self.slots.capacity()
    }

    /// Returns unused capacity of the pending list. (The table keeps its
    /// slots: a slot's version must outlive its objects, so that stale
    /// keys stay stale.)
    pub(crate) fn shrink_to_fit(&mut self) {
        self.pending.shrink_to_fit();
    }

    /// Bytes of the slots (8 each) and of the pending list.
    pub(crate) fn reserved_bytes(&self) -> usize {
        self.slots.capacity() * size_of::<Slot>() + self.pending.capacity() * size_of::<u32>()
    }
}

// Memory maps (`crate::memory_map`).
impl SlotTable {
    /// Adds to `map` the key table and the pending list, as metadata up to
    /// their lengths and free past them.
    pub(crate) fn map_into(&self, map: &mut crate::memory_map::MemoryMap) {
        use crate::memory_map::{Block, SpanKind};
        let mut keys = Block::new("key table", self.slots.as_ptr().addr());
        keys.push(SpanKind::Metadata, self.slots.len() * size_of::<Slot>())
            .push_to(SpanKind::Free, self.slots.capacity() * size_of::<Slot>());
        map.push(keys);
        let mut pending = Block::new("pending removals", self.pending.as_ptr().addr());
        pending
            .push(SpanKind::Metadata, self.pending.len() * size_of::<u32>())
            .push_to(SpanKind::Free, self.pending.capacity() * size_of::<u32>());
        map.push(pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_slotmaps_ffi_encoding() {
        // The table reads a key's slot number and version out of
        // `as_ffi` and makes keys with `from_ffi`: if slotmap ever changed
        // that encoding, this fails rather than keys finding wrong slots.
        for (index, version) in [
            (0, 1),
            (7, 3),
            (12345, 0xffff_fffd),
            (0x7fff_ffff, u32::MAX),
        ] {
            let key = join(index, version);
            assert_eq!(split(key), (index, version));
        }
        let null = KeyData::default();
        assert!(split(null).0 >= NONE as usize, "the null key names no slot");
    }

    #[test]
    fn positions_follow_moves_and_pending_keys_are_gone_for_lookups() {
        let mut table = SlotTable::with_capacity(0);
        let a = table.insert(0);
        let b = table.insert(1);
        assert_eq!((table.position(a), table.position(b)), (Some(0), Some(1)));
        let view = table.view();
        assert!(table.defer(b));
        assert!(!table.defer(b), "deferred once");
        assert_eq!(table.position(b), None);
        // SAFETY: the slot array did not change since the view was taken.
        assert_eq!(unsafe { view.position(b) }, None, "a view sees deferrals");
        assert_eq!(table.stored(b), Some(1));
        // SAFETY: `b` is a stored (pending) object's key.
        unsafe { table.moved(b, 0) };
        assert_eq!(table.stored(b), Some(0), "pending positions follow moves");
        // SAFETY: `a` is a live object's key.
        unsafe { table.moved(a, 1) };
        // SAFETY: as above.
        assert_eq!(unsafe { view.position(a) }, Some(1), "a view sees moves");
        assert!(table.remove_live(b).is_none(), "a pending key is not live");
        assert_eq!(table.pending, [1]);
        let index = table.pending.pop().unwrap();
        // SAFETY: just taken off the pending list.
        assert_eq!(unsafe { table.finish(index) }, 0);
        assert_eq!(table.stored(b), None);
        assert_eq!(table.len(), 1);
        // A stale key stays stale once its slot is reused.
        let c = table.insert(0);
        assert_eq!(split(c).0, split(b).0, "the vacant slot is reused");
        assert_ne!(c, b);
        assert_eq!(table.position(b), None);
        assert_eq!(table.position(c), Some(0));
        assert_eq!(table.remove_live(a), Some(1));
        assert_eq!((table.position(a), table.len()), (None, 1));
        table.clear();
        assert_eq!((table.position(a), table.position(c)), (None, None));
        assert_eq!(table.len(), 0);
        // Cleared slots are reused, with versions no old key matches.
        let keys: Vec<KeyData> = (0..3).map(|p| table.insert(p)).collect();
        assert!(keys.iter().all(|k| ![a, b, c].contains(k)));
        assert_eq!(
            keys.iter().map(|&k| table.position(k)).collect::<Vec<_>>(),
            [Some(0), Some(1), Some(2)]
        );
        assert!(table.reserved_bytes() >= 3 * 8);
    }

    #[test]
    fn foreign_and_null_keys_find_nothing() {
        let mut table = SlotTable::with_capacity(0);
        let a = table.insert(0);
        assert_eq!(table.position(KeyData::default()), None);
        assert_eq!(table.position(join(5, 1)), None, "out of bounds");
        assert_eq!(table.position(join(split(a).0, 3)), None, "other version");
        let empty = SlotTable::with_capacity(0);
        // SAFETY: a view of a live, unchanged table.
        let found = unsafe { empty.view().position(a) };
        assert_eq!(found, None);
    }

    #[test]
    fn versions_wrap_without_matching_old_keys() {
        let mut table = SlotTable::with_capacity(0);
        let first = table.insert(0);
        // SAFETY: slot 0 exists; test setup of a version near the wrap.
        unsafe { (*table.slot_mut(0)).version = u32::MAX - 2 };
        let old = join(0, u32::MAX - 2);
        assert_eq!(table.position(old), Some(0));
        assert_eq!(table.remove_live(old), Some(0));
        let wrapped = table.insert(0);
        assert_eq!(split(wrapped), (0, u32::MAX));
        assert_eq!(table.remove_live(wrapped), Some(0));
        let again = table.insert(0);
        assert_eq!(split(again), (0, 1), "u32::MAX + 1 wraps to an even 0");
        assert_eq!(table.position(wrapped), None);
        // The very first key matches again after a full wrap, as with
        // slotmap (two billion reuses of one slot).
        assert_eq!(table.position(first), Some(0));
    }
}
