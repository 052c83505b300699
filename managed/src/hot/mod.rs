//! The hot pool: [`Pool`], [`Slot`] with NaN tagging, and the safe
//! [`PoolBox`] and [`PoolRc`].
//!
//! A [`Pool<T>`] hands out entries from blocks that double in size; a
//! [`Slot<T>`] is a bare pointer to one entry, small enough to be NaN-tagged
//! into a `u64` next to `f64` values, as dynamic-language VMs do. Because a
//! slot does not borrow its pool, giving it back is `unsafe`; everything
//! else the pool promises is checked at run time through a state word kept
//! in each entry:
//!
//! | # | contract | enforcement |
//! |---|---|---|
//! | 1 | slots go back to their own pool | panics in debug builds |
//! | 2 | slots do not outlive their pool | a pool dropped with live slots leaks its blocks (slots stay valid), and panics in debug builds |
//! | 3 | a slot is freed once | always panics, while the entry was not reused |
//! | 4 | references do not outlive the free | `free`/`forget`/`take` are `unsafe` |
//! | 5 | no reference into an uninitialized slot | always panics |
//! | 6 | `&mut T` and `Pin<&mut T>` are exclusive | always panics |
//! | 7 | `get_uninit`'s borrow ends before `assume_init` | borrow checker for one slot; `unsafe` for copies |
//! | 8, 9 | the same for `u64` forms; copies are the caller's | checks live in the entry, so they hold for every copy |
//!
//! [`PoolBox`] wraps a slot with a borrow of its pool: fully safe, freed on
//! drop. [`PoolRc`] is its shared, reference-counted sibling (count kept in
//! the entry's state word, `Deref` only).
//!
//! ```
//! use managed::prelude::*;
//!
//! let pool: Pool<[f64; 2]> = Pool::new();
//! let s = pool.alloc([1.0, 2.0]);
//! // NaN-tag the slot: 0x7ffc in the top 16 bits, 0b101 in the low 3.
//! let tagged = s.into_u64() | 0x7ffc_0000_0000_0000 | 0b101;
//! assert!(f64::from_bits(tagged).is_nan());
//! // SAFETY: `tagged` came from a live slot of `pool`, not freed since.
//! let s: Slot<[f64; 2]> = unsafe { Slot::from_u64_masked(tagged) };
//! assert_eq!(s.get()[1], 2.0);
//! // SAFETY: `s` is the only handle and no reference is alive.
//! unsafe { pool.free(s) };
//!
//! let b = pool.alloc_box([3.0, 4.0]);
//! assert_eq!(b[0], 3.0);
//! let shared = pool.alloc_rc([5.0, 6.0]);
//! assert_eq!(shared.clone()[1], 6.0);
//! ```

mod pool;
mod raw;

pub use pool::Pool;
pub use raw::boxed::PoolBox;
pub use raw::rc::PoolRc;
pub use raw::slot::{Slot, SlotState};

/// Bits of [`Slot::into_u64`]'s result that are always zero and free for
/// tags: the top 16 and the low 3.
pub const TAG_MASK: u64 = 0xffff_0000_0000_0007;

/// Bits of [`Slot::into_u64`]'s result that hold the entry address.
pub const ADDRESS_MASK: u64 = !TAG_MASK;

/// Total bytes of blocks leaked so far in this process by pools dropped
/// with live slots or by [`Pool::leak`]. They stay reachable (from a static)
/// and valid forever.
#[must_use]
pub fn leaked_bytes() -> usize {
    raw::leaked_bytes()
}
