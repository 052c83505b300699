//! The intrusive drop list of an open scope.
//!
//! A value that needs dropping is stored right after a [`DropHeader`] in the
//! arena ([`ValueEntry`]); a slice that needs dropping gets a separate
//! [`SliceEntry`] record. The headers form a singly linked stack whose head
//! lives in the scope, so registering a value is two stores and the list
//! costs no memory outside the arena. Values that do not need dropping never
//! get a header.

use core::cell::Cell;
use core::ptr::{self, NonNull};

/// The part of a drop record the list walks.
#[repr(C)]
pub(crate) struct DropHeader {
    /// The record registered before this one.
    next: Option<NonNull<DropHeader>>,
    /// Drops the value(s) the record describes. Its argument is the record's
    /// own header; the function knows the record's full type.
    drop_fn: unsafe fn(NonNull<DropHeader>),
}

/// A single value with its header in front.
///
/// `repr(C)` puts the header at offset 0, so a pointer to the header is a
/// pointer to the entry.
#[repr(C)]
pub(crate) struct ValueEntry<T> {
    header: DropHeader,
    value: T,
}

/// The record of a slice stored elsewhere in the arena.
#[repr(C)]
pub(crate) struct SliceEntry {
    header: DropHeader,
    /// First element of the slice (a `*mut T` for the `T` of `drop_fn`).
    data: *mut u8,
    /// Number of initialized elements.
    len: usize,
}

/// Drops the value of a `ValueEntry<T>`.
///
/// # Safety
/// `header` is the header of a live `ValueEntry<T>` whose value is
/// initialized and not used again.
unsafe fn drop_value<T>(header: NonNull<DropHeader>) {
    let entry = header.cast::<ValueEntry<T>>().as_ptr();
    // SAFETY: per the contract the entry is live and its value initialized
    // and never used again.
    unsafe { ptr::drop_in_place(&raw mut (*entry).value) }
}

/// Drops the elements a `SliceEntry` describes, as `T`s.
///
/// # Safety
/// `header` is the header of a live `SliceEntry` describing `len`
/// initialized `T`s at `data` that are not used again.
unsafe fn drop_slice<T>(header: NonNull<DropHeader>) {
    let entry = header.cast::<SliceEntry>().as_ptr();
    // SAFETY: per the contract the entry is live and describes initialized
    // `T`s that are never used again.
    unsafe {
        let slice = ptr::slice_from_raw_parts_mut((*entry).data.cast::<T>(), (*entry).len);
        ptr::drop_in_place(slice);
    }
}

impl<T> ValueEntry<T> {
    /// Pointer to the value slot of the entry at `entry`.
    ///
    /// # Safety
    /// `entry` points to memory valid for a `ValueEntry<T>`.
    #[inline(always)]
    pub(crate) unsafe fn value_ptr(entry: NonNull<ValueEntry<T>>) -> *mut T {
        // SAFETY: in bounds of the entry per the contract.
        unsafe { &raw mut (*entry.as_ptr()).value }
    }
}

/// The head of a scope's drop list.
pub(crate) struct DropList {
    /// The most recently registered record, or `None`. Every record reachable
    /// from here is live, describes initialized values, and is reachable once.
    head: Cell<Option<NonNull<DropHeader>>>,
}

impl DropList {
    /// An empty list.
    pub(crate) const fn new() -> DropList {
        DropList {
            head: Cell::new(None),
        }
    }

    /// Registers the initialized value of the entry at `entry`.
    ///
    /// # Safety
    /// `entry` is valid for a `ValueEntry<T>` until [`Self::drop_all`] runs,
    /// its value is initialized, and the value may be dropped by
    /// `drop_all` (nothing else drops it, and every lifetime in `T` is alive
    /// whenever `drop_all` runs).
    #[inline(always)]
    pub(crate) unsafe fn push_value<T>(&self, entry: NonNull<ValueEntry<T>>) {
        let header = DropHeader {
            next: self.head.get(),
            drop_fn: drop_value::<T>,
        };
        // SAFETY: the entry is valid for writes per the contract.
        unsafe { (&raw mut (*entry.as_ptr()).header).write(header) };
        self.head.set(Some(entry.cast()));
    }

    /// Registers `len` initialized `T`s at `data`, using the record memory
    /// at `record`.
    ///
    /// # Safety
    /// `record` is valid for a `SliceEntry` and `data` for `len` initialized
    /// `T`s until [`Self::drop_all`] runs, and those values may be dropped by
    /// `drop_all` as for [`Self::push_value`].
    #[inline]
    pub(crate) unsafe fn push_slice<T>(
        &self,
        record: NonNull<SliceEntry>,
        data: *mut T,
        len: usize,
    ) {
        let entry = SliceEntry {
            header: DropHeader {
                next: self.head.get(),
                drop_fn: drop_slice::<T>,
            },
            data: data.cast(),
            len,
        };
        // SAFETY: the record is valid for writes per the contract.
        unsafe { record.as_ptr().write(entry) };
        self.head.set(Some(record.cast()));
    }

    /// Drops every registered value, most recent first, and empties the
    /// list. If a destructor panics, the remaining values are still dropped
    /// (a second panic while unwinding aborts, as for a `Vec`), then the
    /// panic continues.
    ///
    /// # Safety
    /// Every record still registered is live (its memory not reused).
    #[inline]
    pub(crate) unsafe fn drop_all(&self) {
        if self.head.get().is_none() {
            return;
        }
        // Goes on with the rest while unwinding; disarmed on the normal path.
        let guard = scopeguard::guard(self, |list| {
            // SAFETY: only reached while unwinding out of `drain`, whose
            // caller guaranteed the records live; `drain` unlinks a record
            // before dropping it, so none is dropped twice.
            unsafe { list.drain() }
        });
        // SAFETY: forwarded from the caller.
        unsafe { guard.drain() };
        scopeguard::ScopeGuard::into_inner(guard);
    }

    /// # Safety
    /// As for [`Self::drop_all`].
    unsafe fn drain(&self) {
        while let Some(header) = self.head.get() {
            // SAFETY: the record is live per the contract. It is unlinked
            // before its values are dropped, so a panicking destructor never
            // sees it dropped twice.
            unsafe {
                let h = header.as_ptr();
                self.head.set((*h).next);
                ((*h).drop_fn)(header);
            }
        }
    }
}
