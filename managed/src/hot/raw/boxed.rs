//! `PoolBox<'pool, T>`: the safe owner of one pool entry.

use core::borrow::{Borrow, BorrowMut};
use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};

use super::entry::HotEntry;
use crate::hot::raw;
use crate::hot::{Pool, Slot};

/// A value in a [`Pool`], freed when the box drops; it borrows the pool, so
/// it cannot outlive it. Everything about it is safe.
///
/// ```
/// use managed::prelude::*;
///
/// let pool: Pool<Vec<u8>> = Pool::new();
/// let mut b: PoolBox<'_, Vec<u8>> = pool.alloc_box(vec![1, 2]);
/// b.push(3);
/// assert_eq!(*b, [1, 2, 3]);
/// assert_eq!(pool.len(), 1);
/// drop(b);
/// assert_eq!(pool.len(), 0);
/// ```
///
/// A box cannot outlive its pool:
///
/// ```compile_fail
/// use managed::prelude::*;
///
/// let b = {
///     let pool: Pool<u8> = Pool::new();
///     pool.alloc_box(1)
/// };
/// ```
pub struct PoolBox<'pool, T> {
    /// Initialized, never pinned, allocated from `pool` and owned by this
    /// box alone.
    slot: Slot<T>,
    /// The pool the slot is given back to.
    pool: &'pool Pool<T>,
}

impl<'pool, T> PoolBox<'pool, T> {
    /// Assembles a box.
    ///
    /// # Safety
    /// `slot` is initialized, not pinned, allocated from `pool`, and no
    /// other slot or reference for its entry exists.
    #[inline]
    pub(crate) unsafe fn from_raw_parts(pool: &'pool Pool<T>, slot: Slot<T>) -> Self {
        Self { slot, pool }
    }

    /// Allocates `value` in `pool`; the same as [`Pool::alloc_box`].
    #[inline]
    pub fn new_in(value: T, pool: &'pool Pool<T>) -> Self {
        pool.alloc_box(value)
    }

    /// The pool this box lives in.
    #[inline]
    #[must_use]
    pub fn pool(this: &Self) -> &'pool Pool<T> {
        this.pool
    }

    /// Takes the value out and frees the entry.
    #[inline]
    #[must_use]
    pub fn into_inner(this: Self) -> T {
        let this = ManuallyDrop::new(this);
        // SAFETY: 1. the slot is ours and is read out once, as `this` is not
        // dropped; 2. it is initialized, never pinned, from `this.pool`, and
        // no reference into it outlives `this`.
        unsafe { this.pool.take(core::ptr::read(&this.slot)) }
    }

    /// Gives up the box's ownership: the caller becomes responsible for
    /// freeing the slot into [`PoolBox::pool`].
    #[inline]
    #[must_use = "dropping a Slot leaks its entry; give it back with Pool::free"]
    pub fn into_slot(this: Self) -> Slot<T> {
        let this = ManuallyDrop::new(this);
        // SAFETY: read once; `this` is never dropped.
        unsafe { core::ptr::read(&this.slot) }
    }
}

impl<T> Drop for PoolBox<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: 1. the slot is ours and from `self.pool`, and this is its
        // last use; 2. every reference from `Deref` borrowed `self`, so none
        // is alive now.
        unsafe { self.pool.free(core::ptr::read(&self.slot)) };
    }
}

impl<T> Deref for PoolBox<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the box's slot is initialized (field invariant) and the
        // result borrows `self`.
        unsafe { HotEntry::value_ptr(self.slot.entry()).as_ref() }
    }
}

impl<T> DerefMut for PoolBox<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        let entry = self.slot.entry();
        // SAFETY: 1. the box owns the entry; a box never pins, so recording
        // the mutable borrow keeps the state word truthful (it matters after
        // `into_slot`); 2. initialized, and `&mut self` is exclusive.
        unsafe {
            HotEntry::set_state(entry, raw::MUTABLE);
            HotEntry::value_ptr(entry).as_mut()
        }
    }
}

impl<T> AsRef<T> for PoolBox<'_, T> {
    fn as_ref(&self) -> &T {
        self
    }
}

impl<T> AsMut<T> for PoolBox<'_, T> {
    fn as_mut(&mut self) -> &mut T {
        self
    }
}

impl<T> Borrow<T> for PoolBox<'_, T> {
    fn borrow(&self) -> &T {
        self
    }
}

impl<T> BorrowMut<T> for PoolBox<'_, T> {
    fn borrow_mut(&mut self) -> &mut T {
        self
    }
}

impl<T: fmt::Debug> fmt::Debug for PoolBox<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for PoolBox<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T> fmt::Pointer for PoolBox<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&core::ptr::from_ref::<T>(self), f)
    }
}

impl<T: PartialEq> PartialEq for PoolBox<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Eq> Eq for PoolBox<'_, T> {}

impl<T: PartialOrd> PartialOrd for PoolBox<'_, T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (**self).partial_cmp(&**other)
    }
}

impl<T: Ord> Ord for PoolBox<'_, T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (**self).cmp(&**other)
    }
}

impl<T: Hash> Hash for PoolBox<'_, T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl<T: Iterator> Iterator for PoolBox<'_, T> {
    type Item = T::Item;

    fn next(&mut self) -> Option<T::Item> {
        (**self).next()
    }
}
