//! [`Item`]: the owning, direct reference to a value in the region.

use core::fmt;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;

use crate::visit::{Managed, Visitor};

use super::raw::Header;

/// An owning reference to a value stored in an [`Arena`](super::Arena).
///
/// It derefs (mutably) to the value; dropping it drops the value and marks
/// its space free (reclaimed at the next compaction). It borrows the arena
/// (and, when it comes from an allocation, the allocation
/// [`State`](super::State)) for `'a`, so it cannot be used across a
/// compaction: turn it into a token first (see
/// [`Arena::tokenize`](super::Arena::tokenize)).
///
/// Forgetting an `Item` (`mem::forget`) forgets its value like forgetting a
/// `Box` does: the value is never dropped and its space stays in use until
/// the arena is dropped.
pub struct Item<'a, T: ?Sized> {
    /// The value's address, inside the region (derived from the region's
    /// base pointer). Invariant: points to a live, initialized `T` whose
    /// block is owned by this `Item` alone (no cell, not `SHARED`).
    ptr: NonNull<T>,
    /// Borrows the arena for `'a` (covariant) and owns a `T` (invariant,
    /// like `&mut T`, without implying `T: 'a`, so that a value's region
    /// lifetime can be substituted independently); neither `Send` nor
    /// `Sync`: the region's headers are plain cells.
    _marker: PhantomData<(&'a (), *mut T)>,
}

impl<'a, T: ?Sized> Item<'a, T> {
    /// Wraps a value pointer.
    ///
    /// # Safety
    ///
    /// `ptr` points to a live, initialized `T` in a region that outlives
    /// `'a`, whose block nothing else owns; no compaction happens in `'a`.
    #[inline]
    pub(crate) unsafe fn from_raw(ptr: NonNull<T>) -> Self {
        Item {
            ptr,
            _marker: PhantomData,
        }
    }

    /// Gives up ownership without dropping, returning the value pointer.
    #[inline]
    pub(crate) fn into_raw(self) -> NonNull<T> {
        ManuallyDrop::new(self).ptr
    }

    /// The value's current address (it changes at each compaction).
    #[inline]
    pub fn as_ptr(&self) -> *const T {
        self.ptr.as_ptr()
    }

    /// Moves the value out and frees its space.
    pub fn into_inner(self) -> T
    where
        T: Sized,
    {
        let ptr = self.into_raw();
        // SAFETY: 1. the item owned a live `T`, read out exactly once;
        // 2. its header is then marked free so nothing drops it again.
        unsafe {
            let value = ptr.read();
            Header::of(ptr.cast()).set_free();
            value
        }
    }
}

impl<T: ?Sized> Deref for Item<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: a live value (type invariant), not moved during `'a`.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T: ?Sized> DerefMut for Item<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: a live value owned by this item alone.
        unsafe { self.ptr.as_mut() }
    }
}

impl<T: ?Sized> Drop for Item<'_, T> {
    fn drop(&mut self) {
        let value = self.ptr.cast::<u8>();
        // SAFETY: the item owns a live value; marking the block free first
        // means a panicking destructor still leaves the value dropped (as
        // Rust considers it) and the space reclaimable.
        unsafe {
            let header = Header::of(value);
            header.set_free();
            (header.meta.get().drop)(value.as_ptr());
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Item<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for Item<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

// SAFETY: an `Item` is one direct reference, whose address is visited in
// place: a write through the visited place is what the item reads next
// (the address is rewritten, keeping the pointer's metadata and its
// provenance over the whole region).
unsafe impl<T: ?Sized> Managed for Item<'_, T> {
    const HAS_REFS: bool = true;

    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        let mut addr = self.ptr.cast::<u8>();
        visitor.visit(&mut addr);
        self.ptr = self.ptr.with_addr(addr.addr());
    }
}
