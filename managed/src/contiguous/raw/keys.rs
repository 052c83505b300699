//! Keys: the copyable, generation-checked handles of a
//! [`ContiguousUniformPool`], in `slotmap`'s key types.
//!
//! A pool's key type is any [`slotmap::Key`]: [`DefaultKey`], or one
//! declared with [`new_key_type!`](slotmap::new_key_type) so that keys of
//! different pools do not mix. A key is a slot index and the version the
//! slot had when the object was inserted (slotmap's [`KeyData`], 8 bytes),
//! so it is plain `'static` data: structs, maps, region and heap objects
//! hold it with nothing to visit, and it stays safe after its object (or
//! its pool) is gone: lookups then return `None`.
//!
//! [`ContiguousUniformPool`]: crate::contiguous::ContiguousUniformPool

use slotmap::{DefaultKey, KeyData};

#[cfg(target_pointer_width = "64")]
use crate::region::Rebrand;
use crate::{Managed, Visitor};

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

#[cfg(target_pointer_width = "64")]
// SAFETY: no lifetime at all: `Branded` is `Self`.
unsafe impl Rebrand for DefaultKey {
    type Branded<'b> = DefaultKey;
}

#[cfg(target_pointer_width = "64")]
// SAFETY: no lifetime at all: `Branded` is `Self`.
unsafe impl Rebrand for KeyData {
    type Branded<'b> = KeyData;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_plain_data_to_the_visitors() {
        const {
            assert!(!<DefaultKey as Managed>::HAS_REFS);
            assert!(!<KeyData as Managed>::HAS_REFS);
        }
        let mut key = DefaultKey::default();
        key.visit_refs(&mut NoVisits);
    }

    /// Fails the test if called.
    struct NoVisits;

    // SAFETY: never writes or keeps the place.
    unsafe impl Visitor for NoVisits {
        fn visit(&mut self, _target: &mut core::ptr::NonNull<u8>) {
            panic!("a key has no reference to visit");
        }
    }
}
