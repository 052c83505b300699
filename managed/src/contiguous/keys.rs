//! Keys: the copyable, generation-checked handles of a
//! [`ContiguousUniformPool`], in `slotmap`'s key types.
//!
//! A pool's key type is any [`slotmap::Key`]: [`DefaultKey`], or one
//! declared with [`new_key_type!`] so that keys of different pools do not
//! mix. A key is a slot index and the generation the slot had when the
//! object was inserted (slotmap's [`KeyData`], 8 bytes), so it is plain
//! `'static` data: structs, maps, region and heap objects hold it with
//! nothing to visit, and it stays safe after its object (or its pool) is
//! gone: lookups then return `None`.
//!
//! [`ContiguousUniformPool`]: super::ContiguousUniformPool

use slotmap::{DefaultKey, Key, KeyData};

use crate::region::Rebrand;
use crate::{Managed, Visitor};

/// A key as the pool stores it: the slot index and the generation of the
/// object's life (odd).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct RawKey {
    /// The slot's index in the pool's table.
    pub(crate) index: u32,
    /// The slot's generation while the object lives.
    pub(crate) generation: u32,
}

impl RawKey {
    /// The index and generation a user's key names (unchecked: any key of
    /// any pool, or a made-up one, is a valid question to the table).
    #[inline(always)]
    pub(crate) fn of<K: Key>(key: K) -> Self {
        let ffi = key.data().as_ffi();
        Self {
            index: ffi as u32,
            generation: (ffi >> 32) as u32,
        }
    }

    /// The user's key type for this key.
    #[inline(always)]
    pub(crate) fn to<K: Key>(self) -> K {
        // `from_ffi` keeps an odd generation as it is, and a live object's
        // generation is odd, so `RawKey::of` gives this key back.
        KeyData::from_ffi(u64::from(self.generation) << 32 | u64::from(self.index)).into()
    }
}

// SAFETY: a key is an index and a generation: it refers to its object
// through the pool's table, never by address, so there is nothing to
// visit or rewrite.
unsafe impl Managed for DefaultKey {
    const HAS_REFS: bool = false;
    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, _visitor: &mut V) {}
}

// SAFETY: as for `DefaultKey`.
unsafe impl Managed for KeyData {
    const HAS_REFS: bool = false;
    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, _visitor: &mut V) {}
}

// SAFETY: no lifetime at all: `Branded` is `Self`.
unsafe impl Rebrand for DefaultKey {
    type Branded<'b> = DefaultKey;
}

// SAFETY: no lifetime at all: `Branded` is `Self`.
unsafe impl Rebrand for KeyData {
    type Branded<'b> = KeyData;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_keys_round_trip_through_slotmap_keys() {
        let raw = RawKey {
            index: 0x1234,
            generation: 7,
        };
        let key: DefaultKey = raw.to();
        assert_eq!(RawKey::of(key), raw);
        assert_eq!(key.data().as_ffi(), 7 << 32 | 0x1234);
        assert!(RawKey::of(DefaultKey::null()).index == u32::MAX);
    }
}
