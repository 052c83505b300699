//! The key table of a [`ContiguousUniformPool`]: a `slotmap::SlotMap` from
//! each object's key to its current position in the storage, and the
//! removals deferred while the pool is borrowed.
//!
//! Kept free of `T` (and of the user's key type: keys go in as
//! [`KeyData`]) so it is compiled once, whatever the pools' types.
//!
//! A slot of the map is the stable forwarding cell of one object: the
//! object's back-pointer (its key, stored beside it) names the slot, and
//! the pool rewrites the slot's position whenever it moves the object. A
//! slot is 8 bytes (a 4-byte version, slotmap's generation, and the 4-byte
//! position), as a `DenseSlotMap`'s, so a million keys take 8 MB next to
//! the objects. Versions are slotmap's: odd while occupied, bumped on
//! removal, so a key of a removed object finds nothing (until the version
//! wraps, after two billion reuses of one slot, as slotmap documents).
//!
//! A position with [`PENDING`] set belongs to an object whose removal began
//! while the pool was borrowed: lookups treat it as gone, but the object is
//! still stored (and moved like any other, its position kept current) until
//! the borrow ends, when the pool finishes the removal from [`pending`].
//!
//! [`ContiguousUniformPool`]: crate::contiguous::ContiguousUniformPool
//! [`pending`]: SlotTable::pending

use alloc::vec::Vec;
use slotmap::{DefaultKey, Key, KeyData, SlotMap};

/// Position bit of an object whose removal is pending.
const PENDING: u32 = 1 << 31;
/// Objects a pool holds at most, so every position fits below [`PENDING`]:
/// two billion.
pub(crate) const MAX_OBJECTS: usize = PENDING as usize;

/// The key table of one pool.
pub(crate) struct SlotTable {
    /// Each object's key, mapped to its position (with [`PENDING`] once its
    /// removal began).
    ///
    /// Invariant (kept by the typed pool): the map holds exactly the keys
    /// of the stored objects, each mapped to its object's position below
    /// the storage's length; the keys mapped with `PENDING` are exactly
    /// those in `pending`.
    slots: SlotMap<DefaultKey, u32>,
    /// Keys whose removal was deferred while the pool was borrowed, each
    /// once; the pool's `PENDING` state bit is set exactly when this is not
    /// empty.
    pub(crate) pending: Vec<KeyData>,
}

impl SlotTable {
    /// No keys.
    pub(crate) fn new() -> Self {
        Self {
            slots: SlotMap::new(),
            pending: Vec::new(),
        }
    }

    /// A new key, for an object at `position`.
    ///
    /// # Panics
    ///
    /// When the map is full (about four billion slots).
    #[inline]
    pub(crate) fn insert(&mut self, position: usize) -> KeyData {
        // Redundant: the pool's `push` asserts it (unconditionally) before
        // calling this.
        debug_assert!(position < MAX_OBJECTS);
        self.slots.insert(position as u32).data()
    }

    /// The position of the live object of `key`, if there is one (not once
    /// its removal began). Any key is a valid question.
    #[inline(always)]
    pub(crate) fn position(&self, key: KeyData) -> Option<usize> {
        let &position = self.slots.get(DefaultKey::from(key))?;
        (position & PENDING == 0).then_some(position as usize)
    }

    /// The position of the stored object of `key`, pending or not.
    #[cfg(test)]
    fn stored(&self, key: KeyData) -> Option<usize> {
        let &position = self.slots.get(DefaultKey::from(key))?;
        Some((position & !PENDING) as usize)
    }

    /// Records that the object of `key` now lives at `position`, keeping
    /// its pending mark.
    ///
    /// # Safety
    ///
    /// `key` must be in the map: the key of a stored object (its
    /// back-pointer), which the map holds by its invariant. The slot is
    /// then found without a version check.
    #[inline(always)]
    pub(crate) unsafe fn moved(&mut self, key: KeyData, position: usize) {
        // SAFETY: the key is in the map (caller contract); slotmap checks
        // it again in debug builds.
        let slot = unsafe { self.slots.get_unchecked_mut(DefaultKey::from(key)) };
        *slot = (*slot & PENDING) | position as u32;
    }

    /// Begins the deferred removal of the live object of `key`: lookups
    /// stop finding it, and it is listed for the end of the borrow.
    /// `false` if the key names no live object.
    #[inline]
    pub(crate) fn defer(&mut self, key: KeyData) -> bool {
        self.pending.reserve(1);
        match self.slots.get_mut(DefaultKey::from(key)) {
            Some(slot) if *slot & PENDING == 0 => {
                *slot |= PENDING;
                self.pending.push(key);
                true
            }
            _ => false,
        }
    }

    /// Removes `key`, live or pending, returning its object's position.
    #[inline]
    pub(crate) fn remove(&mut self, key: KeyData) -> Option<usize> {
        let position = self.slots.remove(DefaultKey::from(key))?;
        Some((position & !PENDING) as usize)
    }

    /// Removes the live `key` (not a pending one), returning its object's
    /// position.
    #[inline]
    pub(crate) fn remove_live(&mut self, key: KeyData) -> Option<usize> {
        // With no removal pending, no position has `PENDING` set
        // (invariant on `slots`): one lookup does.
        if !self.pending.is_empty() {
            self.position(key)?;
        }
        self.remove(key)
    }

    /// Forgets every key (all become stale) and the pending list; the map's
    /// memory is kept.
    pub(crate) fn clear(&mut self) {
        self.slots.clear();
        self.pending.clear();
    }

    /// Keys in the map (live and pending objects).
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Keys the map holds without growing.
    pub(crate) fn capacity(&self) -> usize {
        self.slots.capacity()
    }

    /// Returns unused capacity of the pending list. (The map keeps its
    /// slots: a slot's version must outlive its objects, so that stale
    /// keys stay stale.)
    pub(crate) fn shrink_to_fit(&mut self) {
        self.pending.shrink_to_fit();
    }

    /// Bytes of the map's slots (8 each, and slotmap's sentinel) and of the
    /// pending list.
    pub(crate) fn reserved_bytes(&self) -> usize {
        (self.slots.capacity() + 1) * 2 * size_of::<u32>()
            + self.pending.capacity() * size_of::<KeyData>()
    }
}

// Memory maps (`crate::memory_map`).
impl SlotTable {
    /// Adds to `map` the key table (slotmap's slots, 8 bytes each, and its
    /// unused slot 0) and the pending list, as metadata up to their lengths
    /// and free past them. The key table's address is not known: 0.
    pub(crate) fn map_into(&self, map: &mut crate::memory_map::MemoryMap) {
        use crate::memory_map::{Block, SpanKind};
        let slot = 2 * size_of::<u32>();
        let mut keys = Block::new("key table", 0);
        keys.push(SpanKind::Metadata, (self.slots.len() + 1) * slot)
            .push_to(SpanKind::Free, (self.slots.capacity() + 1) * slot);
        map.push(keys);
        let mut pending = Block::new("pending removals", self.pending.as_ptr().addr());
        pending
            .push(
                SpanKind::Metadata,
                self.pending.len() * size_of::<KeyData>(),
            )
            .push_to(
                SpanKind::Free,
                self.pending.capacity() * size_of::<KeyData>(),
            );
        map.push(pending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_follow_moves_and_pending_keys_are_gone_for_lookups() {
        let mut table = SlotTable::new();
        let a = table.insert(0);
        let b = table.insert(1);
        assert_eq!((table.position(a), table.position(b)), (Some(0), Some(1)));
        assert!(table.defer(b));
        assert!(!table.defer(b), "deferred once");
        assert_eq!(table.position(b), None);
        assert_eq!(table.stored(b), Some(1));
        // SAFETY: `b` is in the map (pending, not removed).
        unsafe { table.moved(b, 0) };
        assert_eq!(table.stored(b), Some(0), "pending positions follow moves");
        assert!(table.remove_live(b).is_none());
        assert_eq!(table.pending, [b]);
        assert_eq!(table.remove(b), Some(0));
        assert_eq!(table.stored(b), None);
        assert_eq!(table.len(), 1);
        // A stale key stays stale once its slot is reused.
        let c = table.insert(1);
        assert_ne!(c, b);
        assert_eq!(table.position(b), None);
        assert_eq!(table.position(c), Some(1));
        table.clear();
        assert_eq!((table.position(a), table.position(c)), (None, None));
        assert!(table.reserved_bytes() >= 3 * 8);
    }
}
