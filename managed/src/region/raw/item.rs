//! [`Item`]'s pointer machinery: the tagged address it owns, `Deref`,
//! `Drop` (marking the value's granules dead, then dropping it), moving
//! the value out, and its `Managed` impl (visited in place, tag kept).
//! Invariant: an `Item`'s untagged address is a live, initialized value
//! owned by the item alone, which does not move while the item lives.

use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;

use crate::visit::{Managed, Visitor};

use super::{release, untag};

/// An owning reference to a value stored in an [`Arena`](crate::region::Arena).
///
/// It derefs (mutably) to the value; dropping it drops the value and marks
/// its space free (reclaimed at the next compaction). It borrows the arena
/// (and, when it comes from an allocation, the allocation
/// [`State`](crate::region::State)) for `'a`, so it cannot be used across a
/// compaction: turn it into a token first (see
/// [`Arena::tokenize`](crate::region::Arena::tokenize)).
///
/// Forgetting an `Item` (`mem::forget`) forgets its value like forgetting a
/// `Box` does: the value is never dropped and its space stays in use until
/// the arena is dropped.
pub struct Item<'a, T: ?Sized> {
    /// The value's address, inside the region (derived from the region's
    /// block pointer), tagged with the block alignment in its top bits
    /// (`RawRegion::tag`); a zero-sized value's address is a dangling,
    /// untagged one. Invariant: once untagged, points to a live,
    /// initialized `T` owned by this `Item` alone (no cell tracks it).
    ptr: NonNull<T>,
    /// Borrows the arena for `'a` (covariant) and owns a `T` (invariant,
    /// like `&mut T`, without implying `T: 'a`, so that a value's region
    /// lifetime can be substituted independently); neither `Send` nor
    /// `Sync`: the region's bitmap and counters are plain cells.
    _marker: PhantomData<(&'a (), *mut T)>,
}

impl<'a, T: ?Sized> Item<'a, T> {
    /// Wraps a value pointer.
    ///
    /// # Safety
    ///
    /// `ptr` is the tagged address (see the field) of a live, initialized
    /// `T` in a region that outlives `'a`, owned by nothing else; no
    /// compaction happens in `'a`.
    #[inline]
    pub(crate) unsafe fn from_raw(ptr: NonNull<T>) -> Self {
        Item {
            ptr,
            _marker: PhantomData,
        }
    }

    /// Gives up ownership without dropping, returning the tagged pointer.
    #[inline]
    pub(crate) fn into_raw(self) -> NonNull<T> {
        ManuallyDrop::new(self).ptr
    }

    /// The value's untagged pointer.
    #[inline]
    pub(crate) fn untagged(&self) -> NonNull<T> {
        // SAFETY: the untagged address of a live value is not null (a
        // region address, or a zero-sized value's dangling address, which
        // carries no tag).
        self.ptr
            .map_addr(|a| unsafe { core::num::NonZeroUsize::new_unchecked(untag(a.get())) })
    }

    /// The value's current address (it changes at each compaction).
    #[inline]
    pub fn as_ptr(&self) -> *const T {
        self.untagged().as_ptr()
    }

    /// Moves the value out and frees its space.
    pub fn into_inner(self) -> T
    where
        T: Sized,
    {
        let tagged = self.ptr.addr().get();
        let ptr = self.untagged();
        core::mem::forget(self);
        // SAFETY: 1. the item owned a live `T`, read out exactly once;
        // 2. its space is then marked dead, so nothing drops it again.
        unsafe {
            let value = ptr.read();
            if size_of::<T>() != 0 {
                release(ptr.cast(), tagged, size_of::<T>());
            }
            value
        }
    }
}

impl<T: ?Sized> Deref for Item<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: a live value (type invariant), not moved during `'a`.
        unsafe { self.untagged().as_ref() }
    }
}

impl<T: ?Sized> DerefMut for Item<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: a live value owned by this item alone.
        unsafe { self.untagged().as_mut() }
    }
}

impl<T: ?Sized> Drop for Item<'_, T> {
    #[inline]
    fn drop(&mut self) {
        let ptr = self.untagged();
        // SAFETY: the item owns a live value. Its space is marked dead
        // first, so a panicking destructor still leaves the value dropped
        // (as Rust considers it) and the space reclaimable; nothing can
        // reuse dead space before the next compaction, which cannot start
        // while this item borrows the arena.
        unsafe {
            let size = size_of_val(ptr.as_ref());
            if size != 0 {
                release(ptr.cast(), self.ptr.addr().get(), size);
            }
            core::ptr::drop_in_place(ptr.as_ptr());
        }
    }
}

// SAFETY: an `Item` is one direct reference, whose stored address is
// visited in place: the address written back is what the item reads next
// (keeping the pointer's metadata and its provenance over the whole
// region). The stored address is *tagged* with the region's block
// alignment (see the `item` field docs): only the region's own visitors
// interpret it, and every other container's visitor ignores it as an
// address it does not own. A zero-sized value occupies no region memory
// and its dangling address never changes: there is nothing to visit.
unsafe impl<T: ?Sized> Managed for Item<'_, T> {
    const HAS_REFS: bool = true;

    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        // SAFETY: a live value (type invariant).
        if size_of_val(unsafe { self.untagged().as_ref() }) == 0 {
            return;
        }
        let mut thin = self.ptr.cast::<u8>();
        visitor.visit(&mut thin);
        self.ptr = self.ptr.with_addr(thin.addr());
    }
}
