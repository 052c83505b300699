//! One pool entry: a state word followed by the payload, which doubles as
//! the free-list link while the entry is free.

use core::mem::{ManuallyDrop, align_of, offset_of, size_of};
use core::ptr::NonNull;

use crate::hot::raw::{self, EntryLayout};

/// One entry of a [`Pool`](crate::hot::Pool).
///
/// `align(8)` keeps the low three bits of every entry address zero for NaN
/// tagging, whatever `T` is. `repr(C)` puts the state word at offset 0, which
/// the untyped [`RawPool`](raw::RawPool) relies on.
#[repr(C, align(8))]
pub(crate) struct HotEntry<T> {
    /// One of `raw::{FREE, UNINIT, INIT, MUTABLE, PINNED}`, or a `PoolRc`
    /// count (`n * raw::SHARE_ONE | raw::INIT`); it decides what
    /// `payload` holds. Written only by the pool (alloc, free) and by the
    /// one slot that owns the entry (through `&mut Slot`).
    state: usize,
    /// A `T` (initialized unless `state == UNINIT`) while the entry is live,
    /// the next free entry while `state == FREE`.
    payload: Payload<T>,
}

/// What an entry holds: the user's value or the free-list link.
#[repr(C)]
union Payload<T> {
    /// The value of a live entry.
    _value: ManuallyDrop<T>,
    /// The next free entry (or null) of a free entry.
    _link: *mut u8,
}

impl<T> HotEntry<T> {
    /// The shape the untyped pool works with.
    pub(crate) const LAYOUT: EntryLayout = {
        let layout = EntryLayout {
            size: size_of::<Self>(),
            align: align_of::<Self>(),
            link: offset_of!(Self, payload),
        };
        assert!(layout.align >= 8 && layout.size.is_multiple_of(layout.align));
        assert!(layout.link.is_multiple_of(align_of::<*mut u8>()));
        layout
    };

    /// Reads the state word.
    ///
    /// # Safety
    /// `this` points to an entry of a pool's block that was handed out at
    /// least once (so its state word is initialized), and the block is still
    /// allocated (pool alive, or leaked).
    #[inline(always)]
    pub(crate) unsafe fn state(this: NonNull<Self>) -> usize {
        // SAFETY: per the contract; the state word is at offset 0.
        unsafe { this.cast::<usize>().read() }
    }

    /// Writes the state word.
    ///
    /// # Safety
    /// As for [`HotEntry::state`], and the caller owns the entry (holds its slot
    /// mutably or is the pool allocating or freeing it).
    #[inline(always)]
    pub(crate) unsafe fn set_state(this: NonNull<Self>, state: usize) {
        // Redundant: callers write the state constants or a share count
        // built from `SHARE_ONE | INIT`; a debug cross-check of the encoding.
        debug_assert!(state <= raw::PINNED || state % raw::SHARE_ONE == raw::INIT);
        // SAFETY: per the contract.
        unsafe { this.cast::<usize>().write(state) }
    }

    /// The payload as a `T` pointer (no reference is formed).
    #[inline(always)]
    pub(crate) fn value_ptr(this: NonNull<Self>) -> NonNull<T> {
        let ptr = this
            .as_ptr()
            .cast::<u8>()
            .wrapping_add(Self::LAYOUT.link)
            .cast::<T>();
        // SAFETY: a non-null entry address plus a small offset that keeps it
        // inside the entry cannot wrap to null.
        unsafe { NonNull::new_unchecked(ptr) }
    }
}
