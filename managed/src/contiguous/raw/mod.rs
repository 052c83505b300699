//! The raw layer of the contiguous pool: every pointer operation and every
//! `unsafe` block of the family, behind crate-internal functions that are
//! safe to call.
//!
//! - [`storage`]: the object buffer (allocated through
//!   [`crate::page::raw`], moved by `realloc`) and the back-pointers;
//!   positions `0..len` hold initialized objects.
//! - [`table`]: the key table (a generational slot array from key to
//!   position, read by slotmap's keys) and the deferred removals.
//! - [`core`](self::core): the heap-allocated pool core (the borrow word, the storage
//!   and the table), swap-fill removal, deferred removals and the borrow
//!   tokens; the raw pointer that owns it, `RawContiguous`.
//! - [`proxy`], [`guards`], [`iter`]: the handle, borrow guards and
//!   iterators, whose every method is borrow or pointer machinery (defined
//!   here with their docs and re-exported by the safe module).
//! - [`keys`], [`access`]: the key types' and proxies' `unsafe impl`s and
//!   the reinterpretation of a handle as its field view.
//!
//! The invariants the safe layer relies on are documented on the items
//! that keep them: [`Inner`](self::core::Inner) (objects, positions and keys),
//! [`ContiguousCore`](self::core::ContiguousCore) (the borrow word), [`storage::ObjectStorage`]
//! (the buffer).

pub(crate) mod access;
pub(crate) mod core;
pub(crate) mod guards;
pub(crate) mod iter;
mod keys;
pub(crate) mod proxy;
pub(crate) mod storage;
pub(crate) mod table;

use crate::{Managed, Visitor};

// SAFETY: the proxy owns its object as a `Box` does, so the object's
// references are reachable from it and are visited, in place, through
// `get_mut` (no copy).
unsafe impl<T: Managed> Managed for super::SimpleProxy<T> {
    const HAS_REFS: bool = T::HAS_REFS;
    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        self.cell_mut().visit_refs(visitor);
    }
}
