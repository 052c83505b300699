//! `PoolRc<'pool, T>`: shared, reference-counted ownership of one pool
//! entry. The count lives in the entry's state word.

use core::borrow::Borrow;
use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::mem::ManuallyDrop;
use core::ops::Deref;
use core::ptr::NonNull;

use super::entry::HotEntry;
use crate::hot::raw::{self, SHARE_ONE};
use crate::hot::{Pool, Slot};

/// A shared value in a [`Pool`]: cloning adds an owner, the value is
/// dropped and its entry freed when the last owner drops. It borrows the
/// pool, so it cannot outlive it. Like `Rc`, it is neither `Send` nor
/// `Sync`, and it only gives shared access: there is no `DerefMut` (use a
/// `Cell`/`RefCell` inside for mutation).
///
/// The count is kept in the entry's state word (`count << 3 | INIT`), so the
/// handle is one pointer plus the pool reference and needs no extra
/// allocation. A shared entry refuses `get_mut`, `pin`, `take` and `forget`
/// through any stray slot copy, like a pinned or uninitialized one would.
///
/// ```
/// use managed::prelude::*;
///
/// let pool: Pool<String> = Pool::new();
/// let a: PoolRc<'_, String> = pool.alloc_rc("shared".to_string());
/// let b = a.clone();
/// assert_eq!(PoolRc::strong_count(&a), 2);
/// assert!(PoolRc::ptr_eq(&a, &b));
/// drop(a);
/// assert_eq!(*b, "shared");
/// assert_eq!(pool.len(), 1);
/// drop(b);
/// assert!(pool.is_empty());
/// ```
pub struct PoolRc<'pool, T> {
    /// A live entry of `pool` in the shared state: its state word is
    /// `count << 3 | INIT` with `count` the number of `PoolRc`s pointing
    /// here (at least 1), and its value initialized.
    entry: NonNull<HotEntry<T>>,
    /// The pool the entry is given back to.
    pool: &'pool Pool<T>,
}

impl<'pool, T> PoolRc<'pool, T> {
    /// Turns an initialized slot into the first owner of a shared value.
    ///
    /// # Safety
    /// `slot` was allocated from `pool` (checked in debug builds only), and
    /// copies of it (made with [`Slot::copy`] or the `u64` forms) are not
    /// used to form references that conflict with sharing, nor to free the
    /// entry (the state checks refuse `get_mut`, `pin`, `take`, `forget`
    /// and `free` on a shared entry).
    ///
    /// # Panics
    /// When the slot is uninitialized, pinned (a shared value could then be
    /// moved out by [`PoolRc::try_unwrap`]), already shared or free, or
    /// from another pool (debug builds only).
    #[inline]
    #[track_caller]
    pub unsafe fn from_slot(pool: &'pool Pool<T>, slot: Slot<T>) -> Self {
        if cfg!(debug_assertions) {
            assert!(
                pool.contains(&slot),
                "hot::PoolRc::from_slot: the slot does not belong to this pool"
            );
        }
        let entry = slot.entry();
        // SAFETY: the slot's entry is live and its block allocated.
        let state = unsafe { HotEntry::state(entry) };
        assert!(
            state == raw::INIT || state == raw::MUTABLE,
            "hot::PoolRc::from_slot: the slot must be initialized and neither pinned nor shared"
        );
        // SAFETY: the slot owned the entry and is consumed here; one owner.
        unsafe { HotEntry::set_state(entry, SHARE_ONE | raw::INIT) };
        Self { entry, pool }
    }

    /// Allocates `value` in `pool`; the same as [`Pool::alloc_rc`].
    #[inline]
    pub fn new_in(value: T, pool: &'pool Pool<T>) -> Self {
        pool.alloc_rc(value)
    }

    /// The state word.
    #[inline]
    fn word(&self) -> usize {
        // SAFETY: the entry is live while a `PoolRc` points to it.
        unsafe { HotEntry::state(self.entry) }
    }

    /// Number of `PoolRc`s sharing this value.
    #[inline]
    #[must_use]
    pub fn strong_count(this: &Self) -> usize {
        this.word() / SHARE_ONE
    }

    /// Whether both handles share one value.
    #[inline]
    #[must_use]
    pub fn ptr_eq(this: &Self, other: &Self) -> bool {
        this.entry == other.entry
    }

    /// The pool this value lives in.
    #[inline]
    #[must_use]
    pub fn pool(this: &Self) -> &'pool Pool<T> {
        this.pool
    }

    /// Moves the value out if this is the only owner, otherwise gives the
    /// handle back.
    ///
    /// # Errors
    /// `Err(this)` when other owners exist.
    pub fn try_unwrap(this: Self) -> Result<T, Self> {
        if Self::strong_count(&this) != 1 {
            return Err(this);
        }
        let this = ManuallyDrop::new(this);
        // SAFETY: 1. the only owner: back to a plain initialized entry, and
        // `this` is never dropped; 2. the slot is then the only handle, from
        // `this.pool`, with no reference alive (all borrowed `this`).
        unsafe {
            HotEntry::set_state(this.entry, raw::INIT);
            Ok(this.pool.take(Slot::from_entry(this.entry)))
        }
    }
}

impl<T> Clone for PoolRc<'_, T> {
    #[inline]
    fn clone(&self) -> Self {
        let word = self.word();
        let Some(new) = word.checked_add(SHARE_ONE) else {
            // Like `Rc`: only reachable by leaking 2^61 handles.
            crate::platform::abort()
        };
        // SAFETY: the entry is live and owned by the `PoolRc`s, which are
        // `!Send` and `!Sync`, so no other thread touches the word.
        unsafe { HotEntry::set_state(self.entry, new) };
        Self {
            entry: self.entry,
            pool: self.pool,
        }
    }
}

impl<T> Drop for PoolRc<'_, T> {
    #[inline]
    fn drop(&mut self) {
        let word = self.word();
        if word / SHARE_ONE > 1 {
            // SAFETY: as in `clone`.
            unsafe { HotEntry::set_state(self.entry, word - SHARE_ONE) };
            return;
        }
        // SAFETY: 1. the last owner: the entry becomes a plain initialized
        // entry owned by the slot; 2. the slot is from `self.pool` and no
        // reference from `Deref` is alive (they borrowed a handle, and this is
        // the last one, being dropped).
        unsafe {
            HotEntry::set_state(self.entry, raw::INIT);
            self.pool.free(Slot::from_entry(self.entry));
        }
    }
}

impl<T> Deref for PoolRc<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: initialized while shared; only shared references are ever
        // formed to a shared value.
        unsafe { HotEntry::value_ptr(self.entry).as_ref() }
    }
}

impl<T> AsRef<T> for PoolRc<'_, T> {
    fn as_ref(&self) -> &T {
        self
    }
}

impl<T> Borrow<T> for PoolRc<'_, T> {
    fn borrow(&self) -> &T {
        self
    }
}

impl<T: fmt::Debug> fmt::Debug for PoolRc<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for PoolRc<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T> fmt::Pointer for PoolRc<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&core::ptr::from_ref::<T>(self), f)
    }
}

impl<T: PartialEq> PartialEq for PoolRc<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Eq> Eq for PoolRc<'_, T> {}

impl<T: PartialOrd> PartialOrd for PoolRc<'_, T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (**self).partial_cmp(&**other)
    }
}

impl<T: Ord> Ord for PoolRc<'_, T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (**self).cmp(&**other)
    }
}

impl<T: Hash> Hash for PoolRc<'_, T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}
