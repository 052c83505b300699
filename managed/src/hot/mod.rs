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

mod boxed;
mod entry;
mod pool;
mod raw;
mod rc;
mod slot;

pub use boxed::PoolBox;
pub use pool::Pool;
pub use rc::PoolRc;
pub use slot::{Slot, SlotState};

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

#[cfg(test)]
mod tests {
    use super::entry::HotEntry;
    use super::*;

    /// Boxes and shared handles are covariant in the pool borrow `'pool`
    /// (a shorter borrow of the same pool is still that pool), though
    /// invariant in `T` (`tests/ui/hot/slot_and_handles_are_invariant.rs`).
    #[test]
    fn handles_are_covariant_in_the_pool_borrow() {
        fn shorter_box<'long: 'short, 'short>(b: PoolBox<'long, u32>) -> PoolBox<'short, u32> {
            b
        }
        fn shorter_rc<'long: 'short, 'short>(r: PoolRc<'long, u32>) -> PoolRc<'short, u32> {
            r
        }
        let pool: Pool<u32> = Pool::new();
        let b = shorter_box(pool.alloc_box(1));
        let r = shorter_rc(pool.alloc_rc(2));
        assert_eq!(*b + *r, 3);
        assert_eq!(pool.len(), 2);
        drop((b, r));
        assert!(pool.is_empty());
    }

    #[test]
    fn entry_layout_is_tag_friendly() {
        assert_eq!(HotEntry::<u8>::LAYOUT.size, 16);
        assert_eq!(HotEntry::<u64>::LAYOUT.size, 16);
        assert_eq!(HotEntry::<()>::LAYOUT.size, 16);
        assert_eq!(HotEntry::<[u64; 3]>::LAYOUT.size, 32);
        assert_eq!(HotEntry::<u64>::LAYOUT.link, 8);
        #[repr(align(64))]
        struct Wide(#[allow(dead_code)] u8);
        assert_eq!(HotEntry::<Wide>::LAYOUT.align, 64);
        assert_eq!(HotEntry::<Wide>::LAYOUT.link, 64);
        assert_eq!(HotEntry::<Wide>::LAYOUT.size, 128);
    }

    #[test]
    fn creating_a_pool_allocates_nothing() {
        let pool: Pool<u64> = Pool::new();
        assert_eq!(pool.capacity(), 0);
        assert_eq!(pool.stats(), crate::SpaceStats::new(0, 0));
    }

    #[test]
    fn blocks_are_powers_of_two_and_double() {
        let pool: Pool<u64> = Pool::new();
        let mut slots = Vec::new();
        let mut sizes = Vec::new();
        for _ in 0..64 + 128 + 1 {
            slots.push(pool.alloc(1));
            let r = pool.stats().reserved_bytes;
            if sizes.last() != Some(&r) {
                sizes.push(r);
            }
        }
        // 64 entries of 16 bytes, then 2 KiB more, then 4 KiB more.
        assert_eq!(sizes, [1024, 1024 + 2048, 1024 + 2048 + 4096]);
        assert_eq!(pool.capacity(), 64 + 128 + 256);
        for s in slots {
            // SAFETY: from `pool`, no reference alive.
            unsafe { pool.free(s) };
        }
    }

    #[test]
    fn min_entries_rounds_up_to_power_of_two_bytes() {
        let pool: Pool<[u8; 24]> = Pool::new(); // 32-byte entries
        pool.set_min_entries(100);
        let s = pool.alloc([0; 24]);
        assert_eq!(pool.stats().reserved_bytes, 4096);
        assert_eq!(pool.capacity(), 128);
        // SAFETY: from `pool`, no reference alive.
        unsafe { pool.free(s) };
    }

    #[test]
    fn odd_entry_sizes_waste_less_than_one_entry_per_block() {
        let pool: Pool<[u8; 40]> = Pool::new(); // 48-byte entries
        let s = pool.alloc([0; 40]);
        // 64 * 48 = 3072 -> 4096 bytes -> 85 entries.
        assert_eq!(pool.capacity(), 85);
        assert!(pool.stats().reserved_bytes - 85 * 48 < 48);
        // SAFETY: from `pool`, no reference alive.
        unsafe { pool.free(s) };
    }

    #[test]
    #[should_panic(expected = "before the first allocation")]
    fn min_entries_after_first_block_panics() {
        let pool: Pool<u8> = Pool::new();
        let _first = pool.alloc_box(1);
        pool.set_min_entries(10);
    }

    #[test]
    fn free_list_is_lifo() {
        let pool: Pool<u32> = Pool::new();
        let a = pool.alloc(1);
        let b = pool.alloc(2);
        let addr_a = core::ptr::from_ref(a.get()).addr();
        // SAFETY: from `pool`, no reference alive.
        unsafe { pool.free(a) };
        let c = pool.alloc(3);
        assert_eq!(core::ptr::from_ref(c.get()).addr(), addr_a);
        // SAFETY: from `pool`, no reference alive.
        unsafe {
            pool.free(b);
            pool.free(c);
        }
    }
}
