//! Unit tests of the hot pool's blocks, free list and handles (here
//! because they free slots, which is `unsafe`).

use super::entry::HotEntry;
use crate::hot::*;

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
    // The sizes on 64-bit targets (a link is a pointer: smaller elsewhere).
    #[cfg(target_pointer_width = "64")]
    {
        assert_eq!(HotEntry::<u8>::LAYOUT.size, 16);
        assert_eq!(HotEntry::<u64>::LAYOUT.size, 16);
        assert_eq!(HotEntry::<()>::LAYOUT.size, 16);
        assert_eq!(HotEntry::<[u64; 3]>::LAYOUT.size, 32);
        assert_eq!(HotEntry::<u64>::LAYOUT.link, 8);
    }
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
