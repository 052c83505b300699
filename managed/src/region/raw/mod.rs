//! The untyped core of the region: one aligned heap block holding a
//! [`RegionCore`] (counters and side tables), the *dead bitmap* (one bit per
//! 8-byte granule) and the object area; header-less bump allocation; and
//! the Compressor-style compactor (a prefix table over the bitmap, then one
//! ascending slide).
//!
//! Nothing here is generic over the stored types: per-type operations are
//! type-erased function pointers kept in side lists.
//!
//! Every `unsafe` block and impl of the region lives in this module and its
//! children: `cells` (the forwarding cell table), `item`, `forward` and
//! `token` (the handles' pointer machinery and the `Rebrand` impls) and
//! `arena` (writing values, sharing, tokenizing and dropping for
//! `Arena`). Their crate-internal API is safe to call: each function takes
//! the borrows its argument rests on, so the safe files above hold only
//! docs and safe code.
//!
//! # Finding the block from an object address
//!
//! Objects carry no header, yet dropping an `Item` must set dead bits in its
//! region's bitmap. The block is allocated aligned to `1 << k`, a power of
//! two at least its size, so `addr & !((1 << k) - 1)` is the block start for
//! every address inside it; `k` travels in the top bits of the address an
//! `Item` stores (bits `TAG_SHIFT..64`, never set in a real user-space
//! address: `RawRegion::new` checks the block ends below `1 << TAG_SHIFT`).

use alloc::vec::Vec;
use core::alloc::Layout;
use core::cell::{Cell, UnsafeCell};
use core::mem::MaybeUninit;
use core::num::NonZeroUsize;
use core::ptr::NonNull;

use crate::error::AllocError;
use crate::page::raw::{allocate, deallocate, try_allocate};
use crate::visit::{Managed, Visitor};

use cells::{CellTable, TokenTable};

mod arena;
pub(super) mod cells;
pub(super) mod forward;
pub(super) mod item;
pub(super) mod others;
pub(super) mod token;

const _: () = assert!(
    usize::BITS == 64,
    "the region tags item addresses in their top bits: 64-bit targets only"
);

/// Bytes per granule: the unit of allocation, liveness and movement.
pub(crate) const GRANULE: usize = 8;
/// First bit of the block-alignment tag in an item address.
const TAG_SHIFT: u32 = 58;
/// The address bits of a tagged item address.
const ADDR_MASK: usize = (1 << TAG_SHIFT) - 1;
/// Prefix-table flag: the word holds the start of an over-aligned object
/// whose filler the formula must add.
const FLAG: u32 = 1 << 31;
/// Largest capacity: new granule indices fit in a prefix entry below `FLAG`.
pub(crate) const MAX_CAPACITY: usize = (FLAG as usize - 1) * GRANULE;
/// The object area starts at a multiple of this from the block start.
const AREA_ALIGN: usize = 64;
/// The smallest block alignment.
const MIN_BLOCK_ALIGN: usize = 4096;

/// The address part of a (possibly tagged) item address.
#[inline]
pub(crate) fn untag(addr: usize) -> usize {
    addr & ADDR_MASK
}

/// Visits the references of a value with visitor `V`.
pub(crate) type VisitFn<V> = unsafe fn(*mut u8, &mut V);

/// The type-erased `visit_refs` of a type: with the checking visitor, and
/// with the rewriting one compiled twice, for the baseline target and (on
/// x86-64) with the `popcnt` instruction, which the forwarding formula uses
/// once per reference.
#[derive(Clone, Copy)]
pub(crate) struct Visits {
    /// Checks that every reference points into the region.
    check: VisitFn<Check>,
    /// Rewrites, baseline code.
    plain: for<'r> unsafe fn(*mut u8, &mut Fix<'r>),
    /// Rewrites with `popcnt`; call only where [`has_popcnt`] says so.
    fast: for<'r> unsafe fn(*mut u8, &mut Fix<'r>),
}

impl Visits {
    /// The erased `visit_refs` of `T`.
    pub(crate) fn of<T: Managed>() -> Self {
        Visits {
            check: visit_erased::<T, Check>,
            plain: visit_fix::<T>,
            #[cfg(target_arch = "x86_64")]
            fast: visit_fix_popcnt::<T>,
            #[cfg(not(target_arch = "x86_64"))]
            fast: visit_fix::<T>,
        }
    }

    /// The rewriting variant to run on this CPU.
    #[inline]
    fn pick(self, fast: bool) -> for<'r> unsafe fn(*mut u8, &mut Fix<'r>) {
        if fast { self.fast } else { self.plain }
    }
}

/// Visits the references of a `T` stored at `p`.
///
/// # Safety
///
/// `p` points to a valid `T` to which no other reference is live.
unsafe fn visit_erased<T: Managed, V: Visitor>(p: *mut u8, visitor: &mut V) {
    // SAFETY: the caller guarantees a valid, unaliased `T`.
    unsafe { (*p.cast::<T>()).visit_refs(visitor) }
}

/// [`visit_erased`] with the rewriting visitor.
///
/// # Safety
///
/// As [`visit_erased`].
unsafe fn visit_fix<T: Managed>(p: *mut u8, fix: &mut Fix<'_>) {
    // SAFETY: the caller guarantees a valid, unaliased `T`.
    unsafe { (*p.cast::<T>()).visit_refs(fix) }
}

/// [`visit_fix`] compiled with `popcnt` and `bzhi` (the visitor inlines
/// into it).
///
/// # Safety
///
/// As [`visit_erased`], and the CPU supports both ([`has_popcnt`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt,bmi2")]
unsafe fn visit_fix_popcnt<T: Managed>(p: *mut u8, fix: &mut Fix<'_>) {
    // SAFETY: the caller guarantees a valid, unaliased `T`.
    unsafe { (*p.cast::<T>()).visit_refs(fix) }
}

/// Whether this CPU has `popcnt` and the BMI1 and BMI2 instructions (every
/// feature any `#[target_feature]` function of the compactor enables; never
/// under Miri, and without `std`, which detection needs).
fn has_popcnt() -> bool {
    #[cfg(all(target_arch = "x86_64", not(miri), feature = "std"))]
    {
        std::arch::is_x86_feature_detected!("popcnt")
            && std::arch::is_x86_feature_detected!("bmi1")
            && std::arch::is_x86_feature_detected!("bmi2")
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri), feature = "std")))]
    {
        false
    }
}

/// A live object whose type has direct references (`Managed::HAS_REFS`).
pub(crate) struct RefEntry {
    /// Granule index of the object's start.
    g: usize,
    /// Its type's `visit_refs`.
    visit: Visits,
}

/// An object aligned to more than a granule.
pub(crate) struct AlignEntry {
    /// Granule index of the object's start.
    g: usize,
    /// Its alignment in bytes (a power of two above 8).
    align: usize,
    /// During compaction: filler granules inserted before it.
    filler: usize,
    /// During compaction: its new granule index.
    new: usize,
}

/// A whole-value token's value, reachable by the compactor.
pub(crate) struct WholeEntry {
    /// The boxed value, or null when the entry is free.
    pub(crate) value: *mut u8,
    /// Its type's `visit_refs`.
    pub(crate) visit: Visits,
}

/// The per-region state, at the start of the block.
pub(crate) struct RegionCore {
    /// `released << 32 | holes`, in one word so that an item's drop
    /// counts both with one add (as two neighbouring fields, LLVM merged
    /// their updates into a 16-byte vector read-modify-write on which each
    /// drop waited: a million `u64` items took 2.9 ms to drop against 1.7
    /// ms; as two fields kept apart, 1.9 ms).
    ///
    /// - `released`: objects of non-zero size released (dropped, moved out
    ///   or freed) since the last compaction; live objects are
    ///   `RawRegion::allocated - released`.
    /// - `holes`: granules dead in the bitmap that are not padding (what
    ///   compaction reclaims), counted as they are marked so that the
    ///   stats need not read the bitmap.
    ///
    /// Invariant: the dead bits below the top number `holes + padding`
    /// (checked against the bitmap by `RawRegion::holes` in debug builds).
    /// Both halves stay below 2^31: each released object and each hole
    /// is at least one granule below the top, a region holds at most
    /// `MAX_CAPACITY / 8 = 2^31` granules, and compaction resets both.
    dead: Cell<u64>,
    /// Offset of the object area from the block start.
    area_offset: usize,
    /// The block's layout, to free it.
    layout: Layout,
    /// Granules of alignment padding below the top (dead in the bitmap).
    pub(crate) padding: Cell<usize>,
    /// Forwarding cells of `Forward`s.
    pub(crate) cells: CellTable,
    /// The places of single-item tokens' objects.
    pub(crate) token_places: TokenTable,
    /// Live objects with direct references, in allocation order.
    refs: UnsafeCell<Vec<RefEntry>>,
    /// Over-aligned objects, in address (= allocation) order.
    aligned: UnsafeCell<Vec<AlignEntry>>,
    /// Whole-value tokens (a slab: free entries have a null value, listed
    /// in `whole_free`).
    wholes: UnsafeCell<Vec<WholeEntry>>,
    /// Free indices of `wholes`.
    whole_free: UnsafeCell<Vec<usize>>,
    /// The prefix table of the last compaction (kept for its allocation).
    prefix: UnsafeCell<Vec<u32>>,
    /// Holders of the block besides the arena: whole-value tokens created
    /// and neither redeemed nor dropped, single-item tokens in the middle
    /// of dropping their value, and, once the arena is gone, the
    /// single-item tokens whose entries of `token_places` were in use then
    /// (counted in by `arena_gone`: while the arena lives, a single-item
    /// token is not counted, its entry in use standing for it).
    tokens: Cell<usize>,
    /// Whether the arena was dropped (the last token then frees the block).
    pub(crate) arena_gone: Cell<bool>,
}

/// One released object in `RegionCore::dead`.
const RELEASED_ONE: u64 = 1 << 32;
/// The hole granules of `RegionCore::dead`.
const HOLES_MASK: u64 = RELEASED_ONE - 1;

/// Offset of the dead bitmap from the block start.
const BITMAP_OFFSET: usize = size_of::<RegionCore>().next_multiple_of(8);

/// Sets (`dead == true`) or clears `n` bits from bit `g` of `bitmap`.
///
/// # Safety
///
/// Bits `g..g + n` lie inside the bitmap, which nothing else accesses now.
#[inline]
unsafe fn set_bits(bitmap: NonNull<u64>, mut g: usize, mut n: usize, dead: bool) {
    while n > 0 {
        let (w, b) = (g / 64, g % 64);
        let take = n.min(64 - b);
        let mask = if take == 64 {
            !0
        } else {
            ((1u64 << take) - 1) << b
        };
        // SAFETY: word `w` holds bit `g < bitmap bits` (caller).
        unsafe {
            let word = bitmap.add(w).as_ptr();
            *word = if dead { *word | mask } else { *word & !mask };
        }
        g += take;
        n -= take;
    }
}

/// Marks the object of `size > 0` bytes at the tagged address `tagged` dead
/// in its region, and counts it released.
///
/// # Safety
///
/// `tagged` comes from [`RawRegion::tag`] for a live object of `size` bytes
/// of a region whose block is still allocated, and `ptr` has the block's
/// provenance; the object is never used as live again.
#[inline]
pub(crate) unsafe fn release(ptr: NonNull<u8>, tagged: usize, size: usize) {
    // Part of the contract (`size > 0`: both callers test it first).
    debug_assert!(size > 0);
    let k = tagged >> TAG_SHIFT;
    let addr = tagged & ADDR_MASK;
    let block = ptr.with_addr(
        core::num::NonZeroUsize::new(addr & !((1usize << k) - 1)).expect("a block is not at 0"),
    );
    // SAFETY: 1. the block starts at the `1 << k`-aligned address below the
    // object (see the module docs) and begins with its `RegionCore`; 2. the
    // bitmap follows at `BITMAP_OFFSET` and covers every granule of the
    // area, in particular this object's.
    unsafe {
        let core = block.cast::<RegionCore>().as_ref();
        core.dead
            .set(core.dead.get() + (RELEASED_ONE | size.div_ceil(GRANULE) as u64));
        let g = (addr - block.addr().get() - core.area_offset) / GRANULE;
        set_bits(
            block.add(BITMAP_OFFSET).cast(),
            g,
            size.div_ceil(GRANULE),
            true,
        );
    }
}

/// The region memory and its bump pointer (owned by the arena).
pub(crate) struct RawRegion {
    /// Start of the block (aligned to `1 << tag_bits`); every pointer handed
    /// out is derived from it. It begins with an initialized `RegionCore`.
    block: NonNull<u8>,
    /// Start of the object area (8-aligned), derived from `block`.
    area: NonNull<u8>,
    /// Bytes of the object area, a multiple of 8, at most `MAX_CAPACITY`.
    capacity: usize,
    /// Bytes in use from the start of the area: objects and padding lie in
    /// `0..top`, and `top..capacity` is never-used free space. Invariant:
    /// `top % 8 == 0 && top <= capacity`; every granule below `top` is
    /// live (part of an initialized object, or of an object whose owner
    /// was forgotten) or dead in the bitmap, and every bit at or above it
    /// is clear.
    top: Cell<usize>,
    /// `log2(block alignment) << TAG_SHIFT`, or'ed into item addresses.
    tag: usize,
    /// The address bits below the block's alignment: `block alignment - 1`
    /// (kept beside `tag`, whose shift it saves on the token paths).
    in_block: usize,
    /// Objects of non-zero size allocated since the last compaction, and
    /// the ones alive at it (see `RegionCore::dead`).
    allocated: Cell<usize>,
}

impl RawRegion {
    /// Reserves a block for `capacity` bytes (rounded down to a multiple of
    /// 8); when the allocator fails, aborts through `handle_alloc_error` if
    /// `abort`, or returns `OutOfMemory`.
    pub(crate) fn new(capacity: usize, abort: bool) -> Result<Self, AllocError> {
        let capacity = capacity & !(GRANULE - 1);
        if capacity > MAX_CAPACITY {
            return Err(AllocError::CapacityOverflow);
        }
        let words = (capacity / GRANULE).div_ceil(64);
        let area_offset = (BITMAP_OFFSET + words * 8).next_multiple_of(AREA_ALIGN);
        let size = area_offset + capacity;
        let align = size
            .checked_next_power_of_two()
            .ok_or(AllocError::CapacityOverflow)?
            .max(MIN_BLOCK_ALIGN);
        let layout =
            Layout::from_size_align(size, align).map_err(|_| AllocError::CapacityOverflow)?;
        // The layout has a non-zero size (`RegionCore` is not empty).
        let block = if abort {
            allocate(layout)
        } else {
            try_allocate(layout).ok_or(AllocError::OutOfMemory { layout })?
        };
        if block
            .addr()
            .get()
            .checked_add(align)
            .is_none_or(|end| end > ADDR_MASK)
        {
            // SAFETY: allocated just above with this layout.
            unsafe { deallocate(block, layout) };
            return Err(AllocError::OutOfMemory { layout });
        }
        let core = RegionCore {
            dead: Cell::new(0),
            area_offset,
            layout,
            padding: Cell::new(0),
            cells: CellTable::new(),
            token_places: TokenTable::new(),
            refs: UnsafeCell::new(Vec::new()),
            aligned: UnsafeCell::new(Vec::new()),
            wholes: UnsafeCell::new(Vec::new()),
            whole_free: UnsafeCell::new(Vec::new()),
            prefix: UnsafeCell::new(Vec::new()),
            tokens: Cell::new(0),
            arena_gone: Cell::new(false),
        };
        // SAFETY: 1. the block is large enough and aligned (>= 4096) for
        // the core and the bitmap after it; 2. the area lies inside it.
        unsafe {
            block.cast::<RegionCore>().write(core);
            block.add(BITMAP_OFFSET).cast::<u64>().write_bytes(0, words);
            Ok(RawRegion {
                block,
                area: block.add(area_offset),
                capacity,
                top: Cell::new(0),
                tag: (align.trailing_zeros() as usize) << TAG_SHIFT,
                in_block: align - 1,
                allocated: Cell::new(0),
            })
        }
    }

    /// The region's core.
    #[inline]
    pub(crate) fn core(&self) -> &RegionCore {
        // SAFETY: the block starts with a `RegionCore`, alive as long as `self`.
        unsafe { self.block.cast::<RegionCore>().as_ref() }
    }

    /// The block pointer (for tokens, which may outlive the arena).
    #[inline]
    pub(crate) fn block(&self) -> NonNull<RegionCore> {
        self.block.cast()
    }

    /// The block's alignment, `1 << k` (a power of two above its size).
    #[inline]
    pub(crate) fn block_align(&self) -> usize {
        self.in_block + 1
    }

    /// The address bits below the block's alignment, which address within
    /// the block: `block_align() - 1`.
    #[inline]
    pub(crate) fn in_block(&self) -> usize {
        self.in_block
    }

    /// The block's address with the region's tag: what the word of a
    /// single-item token of this region holds above [`in_block`](Self::in_block)
    /// (see `token::ItemToken`).
    #[inline]
    pub(crate) fn tagged_block(&self) -> usize {
        self.block.addr().get() | self.tag
    }

    /// The tagged address (see [`tag`](Self::tag)) of the object at cell
    /// place `place`.
    #[inline]
    pub(crate) fn tagged_at(&self, place: u32) -> NonZeroUsize {
        // Redundant, as in `at`.
        debug_assert!((place as usize) * GRANULE < self.top.get());
        // The tag lies above every address bit, so adding to the tagged
        // area start carries into no tag bit (the area ends below
        // `ADDR_MASK`, checked when the block is allocated).
        let a = (self.area.addr().get() | self.tag) + place as usize * GRANULE;
        // SAFETY: the tag bits are not 0.
        unsafe { NonZeroUsize::new_unchecked(a) }
    }

    /// The dead bitmap.
    #[inline]
    fn bitmap(&self) -> NonNull<u64> {
        // SAFETY: the bitmap is inside the block.
        unsafe { self.block.add(BITMAP_OFFSET).cast() }
    }

    /// Usable bytes of the region.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes from the start of the area to the end of the last object.
    #[inline]
    pub(crate) fn top(&self) -> usize {
        self.top.get()
    }

    /// Live objects of non-zero size.
    #[inline]
    pub(crate) fn live_objects(&self) -> usize {
        self.allocated.get() - (self.core().dead.get() >> 32) as usize
    }

    /// The cell place of an object at the untagged address `p` (its
    /// granule index), or `NOWHERE` for a zero-sized value.
    #[inline]
    pub(crate) fn place(&self, p: NonNull<u8>, size: usize) -> u32 {
        if size == 0 {
            cells::NOWHERE
        } else {
            // Below `MAX_CAPACITY / 8 < u32::MAX`.
            ((p.addr().get() - self.area.addr().get()) / GRANULE) as u32
        }
    }

    /// The address of the object at cell place `place` (not `NOWHERE`).
    #[inline]
    pub(crate) fn at(&self, place: u32) -> NonNull<u8> {
        // Redundant: places come from cells in use, which the compactor
        // keeps at their live objects' granules, all below the top.
        debug_assert!((place as usize) * GRANULE < self.top.get());
        // SAFETY: a place in use is a granule below the top.
        unsafe { self.area.add(place as usize * GRANULE) }
    }

    /// Whether the untagged address `p` lies in the used part of the area.
    #[inline]
    pub(crate) fn contains(&self, p: usize) -> bool {
        p.wrapping_sub(self.area.addr().get()) < self.top.get()
    }

    /// Whether the tagged address `p` (as an `Item` of this region stores
    /// it) lies in the used part of the area.
    #[inline]
    pub(crate) fn contains_tagged(&self, p: usize) -> bool {
        p.wrapping_sub(self.area.addr().get() | self.tag) < self.top.get()
    }

    /// Tags an object address of this region (see the module docs).
    #[inline]
    pub(crate) fn tag<T: ?Sized>(&self, p: NonNull<T>) -> NonNull<T> {
        let tag = self.tag;
        p.map_addr(|a| a | tag)
    }

    /// Reserves `size` bytes aligned to `align` at the top of the area and
    /// counts a new object; returns the (untagged) object address, which
    /// the caller must initialize before anything reads it.
    ///
    /// `size` must be non-zero (zero-sized values take no space). On
    /// failure nothing is written and the region is unchanged.
    #[inline(always)]
    pub(crate) fn reserve(&self, size: usize, align: usize) -> Result<NonNull<u8>, AllocError> {
        // Redundant: callers pass a non-zero `size_of` and a `Layout`'s
        // alignment (and the bounds check below holds regardless).
        debug_assert!(size > 0 && align.is_power_of_two());
        if align > GRANULE {
            return self.reserve_aligned(size, align);
        }
        let top = self.top.get();
        let available = self.capacity - top;
        if size > available {
            return Err(self.too_big(size, available));
        }
        // `size <= available <= capacity`: no overflow.
        let end = top + size.next_multiple_of(GRANULE);
        // The capacity is a multiple of 8, so the rounded end still fits.
        debug_assert!(end <= self.capacity);
        self.top.set(end);
        self.allocated.set(self.allocated.get() + 1);
        // SAFETY: `top < end <= capacity` is inside the area.
        Ok(unsafe { self.area.add(top) })
    }

    /// Extends the object that ends at `end` (an untagged address, a
    /// granule boundary) by `extra` bytes (a multiple of the granule), if
    /// it ends at the top and the region has the room: the object grows in
    /// place. False, and nothing changed, otherwise.
    #[inline]
    pub(crate) fn extend_at_top(&self, end: NonNull<u8>, extra: usize) -> bool {
        debug_assert!(extra.is_multiple_of(GRANULE));
        let top = self.top.get();
        let at_top = end.addr().get() == self.area.addr().get() + top;
        if !at_top || extra > self.capacity - top {
            return false;
        }
        // The granules above the top are live in the bitmap (nothing
        // marks them dead until an object there is released), as for
        // `reserve`.
        self.top.set(top + extra);
        true
    }

    /// The error for a request of `size` bytes when `available` are free.
    #[cold]
    fn too_big(&self, size: usize, available: usize) -> AllocError {
        if size > MAX_CAPACITY {
            AllocError::CapacityOverflow
        } else {
            AllocError::Full {
                requested: size.next_multiple_of(GRANULE),
                available,
            }
        }
    }

    /// [`reserve`](Self::reserve) for an alignment above 8: dead padding
    /// granules before the object, and an entry in the over-aligned list.
    #[cold]
    fn reserve_aligned(&self, size: usize, align: usize) -> Result<NonNull<u8>, AllocError> {
        let top = self.top.get();
        let available = self.capacity - top;
        let area = self.area.addr().get();
        // `area + top` is a real address, so rounding it up to an alignment
        // that a `Layout` accepts cannot overflow past `isize::MAX` bounds
        // unless the request is absurd; check anyway.
        let start = (area + top)
            .checked_next_multiple_of(align)
            .ok_or(AllocError::CapacityOverflow)?
            - area;
        let pad = start - top;
        let needed = size
            .checked_next_multiple_of(GRANULE)
            .and_then(|s| s.checked_add(pad))
            .filter(|&n| n <= MAX_CAPACITY)
            .ok_or(AllocError::CapacityOverflow)?;
        if needed > available {
            return Err(AllocError::Full {
                requested: needed,
                available,
            });
        }
        let core = self.core();
        // SAFETY: the padding granules lie below the new top, in the bitmap.
        unsafe { set_bits(self.bitmap(), top / GRANULE, pad / GRANULE, true) };
        core.padding.set(core.padding.get() + pad / GRANULE);
        // SAFETY: the arena is not compacting (it holds `&self` and the
        // caller a `State`), so nothing else accesses the list.
        unsafe { &mut *core.aligned.get() }.push(AlignEntry {
            g: start / GRANULE,
            align,
            filler: 0,
            new: 0,
        });
        self.top.set(top + needed);
        self.allocated.set(self.allocated.get() + 1);
        // SAFETY: `start + size <= top + needed <= capacity`.
        Ok(unsafe { self.area.add(start) })
    }

    /// Records a live object with direct references at `p` (in the area).
    pub(crate) fn add_refs(&self, p: NonNull<u8>, visit: Visits) {
        let g = (p.addr().get() - self.area.addr().get()) / GRANULE;
        // SAFETY: only compaction (which needs `&mut self`) reads the list
        // otherwise; no reference to it is live.
        unsafe { &mut *self.core().refs.get() }.push(RefEntry { g, visit });
    }

    /// Marks the `size` bytes at the untagged object address `p` dead
    /// (`true`) or live again (`false`), without counting objects; for
    /// `alloc_with`, whose object is dead until built.
    ///
    /// # Safety
    ///
    /// `p .. p + size` lies in the area below the top (an object that
    /// [`reserve`](Self::reserve) returned, for example).
    pub(crate) unsafe fn mark(&self, p: NonNull<u8>, size: usize, dead: bool) {
        let g = (p.addr().get() - self.area.addr().get()) / GRANULE;
        // The caller's contract.
        debug_assert!(g * GRANULE + size <= self.top.get());
        // SAFETY: the granules are below the top (caller), inside the
        // bitmap.
        unsafe { set_bits(self.bitmap(), g, size.div_ceil(GRANULE), dead) };
        // Callers mark live granules dead and dead ones (their own, marked
        // just before) live again, never one twice.
        let counts = &self.core().dead;
        let granules = size.div_ceil(GRANULE) as u64;
        counts.set(if dead {
            counts.get() + granules
        } else {
            counts.get() - granules
        });
    }

    /// Granules dead in the bitmap that are not padding (O(1): counted as
    /// they are marked).
    #[inline]
    pub(crate) fn holes(&self) -> usize {
        let holes = (self.core().dead.get() & HOLES_MASK) as usize;
        // A debug cross-check of the counter against the bitmap (stats
        // only: nothing reads memory through it).
        debug_assert_eq!(
            holes + self.core().padding.get(),
            self.dead_granules(),
            "the hole count follows the bitmap"
        );
        holes
    }

    /// Uncounts (`false`) or counts (`true`) an object: `alloc_with`
    /// counts its object only once it is built.
    pub(crate) fn count_object(&self, counted: bool) {
        let n = self.allocated.get();
        self.allocated.set(if counted { n + 1 } else { n - 1 });
    }

    /// Dead granules below the top.
    pub(crate) fn dead_granules(&self) -> usize {
        let words = (self.top.get() / GRANULE).div_ceil(64);
        (0..words)
            // SAFETY: `w` is a bitmap word below the top.
            .map(|w| unsafe { self.bitmap().add(w).read() }.count_ones() as usize)
            .sum()
    }

    /// Whether granule `g` (below the top) is dead.
    #[inline]
    fn is_dead(&self, g: usize) -> bool {
        // SAFETY: `g` is below the top, inside the bitmap.
        unsafe { self.bitmap().add(g / 64).read() >> (g % 64) & 1 == 1 }
    }

    /// Registers a whole-value token's boxed value; returns its slot.
    pub(crate) fn add_whole(&self, value: *mut u8, visit: Visits) -> usize {
        let core = self.core();
        // SAFETY: no reference to these lists is live outside this crate's
        // short accesses, and compaction needs `&mut self`.
        unsafe {
            let wholes = &mut *core.wholes.get();
            match (*core.whole_free.get()).pop() {
                Some(i) => {
                    wholes[i] = WholeEntry { value, visit };
                    i
                }
                None => {
                    wholes.push(WholeEntry { value, visit });
                    wholes.len() - 1
                }
            }
        }
    }

    /// Slides every live object down in address order so that all free
    /// space is one block at the end: computes the prefix table, rewrites
    /// every reference the region knows of (inside its objects, in its
    /// cells and in whole-value tokens) through the forwarding formula,
    /// moves the objects, and rebuilds the bitmap.
    ///
    /// Panics, before changing anything, if an object in the region holds
    /// a direct reference to an address outside it. Aborts the process if a
    /// `visit_refs` panics once objects have started to be rewritten.
    ///
    /// # Safety
    ///
    /// No reference into the region may be live (the caller holds the arena
    /// exclusively and every `Item` is dead or a token).
    #[track_caller]
    pub(crate) unsafe fn compact(&mut self) {
        if has_popcnt() {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: forwarded from the caller; the CPU has the features.
            unsafe {
                self.compact_fast()
            };
        } else {
            // SAFETY: forwarded from the caller.
            unsafe { self.compact_with(false) };
        }
    }

    /// [`compact_with`](Self::compact_with) compiled with `popcnt` and
    /// BMI1/BMI2 (bit scans and masks of the bitmap words).
    ///
    /// # Safety
    ///
    /// As [`compact`](Self::compact), and the CPU has the features
    /// ([`has_popcnt`]).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt,bmi1,bmi2")]
    #[track_caller]
    unsafe fn compact_fast(&mut self) {
        // SAFETY: forwarded from the caller.
        unsafe { self.compact_with(true) }
    }

    /// The body of [`compact`](Self::compact); `fast` selects the visitor
    /// code compiled with `popcnt` (only when the CPU has it).
    ///
    /// # Safety
    ///
    /// As [`compact`](Self::compact), and `fast` only if [`has_popcnt`].
    #[inline(always)]
    #[track_caller]
    unsafe fn compact_with(&mut self, fast: bool) {
        let core = self.core();
        let top_g = self.top.get() / GRANULE;
        let words = top_g.div_ceil(64);
        let bitmap = self.bitmap();
        // SAFETY: `&mut self` and the caller's contract: nothing else
        // touches the core's lists now.
        let refs = unsafe { &mut *core.refs.get() };
        // SAFETY: as above.
        let aligned = unsafe { &mut *core.aligned.get() };
        refs.retain(|e| !self.is_dead(e.g));
        aligned.retain(|e| !self.is_dead(e.g));

        // 1. Check: every direct reference held in the region points into
        // it (a reference of another region could not be tracked).
        if !refs.is_empty() {
            let mut check = Check {
                start: self.area.addr().get() | self.tag,
                limit: self.top.get(),
                foreign: false,
            };
            for e in refs.iter() {
                // SAFETY: a live object of the type `visit` was made for,
                // not referenced from anywhere else now.
                unsafe { (e.visit.check)(self.area.add(e.g * GRANULE).as_ptr(), &mut check) };
            }
            assert!(
                !check.foreign,
                "an object in this region holds an Item of another region; \
                 objects may only hold Items of their own region"
            );
        }

        // 2. Compute: `prefix[w]` = new granule index of the first live
        // granule of word `w` (live granules and filler before it).
        // SAFETY: as above.
        let prefix = unsafe { &mut *core.prefix.get() };
        prefix.clear();
        prefix.reserve(words + 1);
        let area = self.area.addr().get();
        let mut pos = 0usize;
        let mut ai = 0;
        for w in 0..words {
            let live = self.live_word(w, top_g);
            if ai < aligned.len() && aligned[ai].g / 64 == w {
                prefix.push(pos as u32 | FLAG);
                let mut last = 0;
                while ai < aligned.len() && aligned[ai].g / 64 == w {
                    let e = &mut aligned[ai];
                    let b = e.g % 64;
                    let n = pos + (live & bits(last, b)).count_ones() as usize;
                    let addr = area + n * GRANULE;
                    // `addr` is at most the object's old, aligned address.
                    e.filler = (addr.next_multiple_of(e.align) - addr) / GRANULE;
                    e.new = n + e.filler;
                    // Objects only move down (the move loop relies on it):
                    // checked in every build, once per over-aligned object.
                    assert!(e.new <= e.g, "region compaction moved an object up");
                    pos = e.new;
                    last = b;
                    ai += 1;
                }
                pos += (live & bits(last, 64)).count_ones() as usize;
            } else {
                prefix.push(pos as u32);
                pos += live.count_ones() as usize;
            }
        }
        prefix.push(pos as u32);
        let new_top_g = pos;
        // Checked in every build (once per compaction).
        assert!(new_top_g <= top_g, "region compaction grew the region");

        // From here on, a panic would leave references half rewritten.
        let abort = crate::platform::abort_on_unwind();

        // 3. Rewrite every reference through the formula.
        let map = self.map(prefix, aligned);
        let mut pass = Fix {
            start: self.area.addr().get() | self.tag,
            limit: self.top.get(),
            map,
        };
        for e in refs.iter_mut() {
            // SAFETY: as in the check pass; `pick` checked the CPU.
            unsafe { (e.visit.pick(fast))(self.area.add(e.g * GRANULE).as_ptr(), &mut pass) };
        }
        // SAFETY: nothing else accesses the whole-value list now; each
        // non-null entry is a live boxed value of the type `visit` was made
        // for, owned by an outstanding token that is not being used.
        for e in unsafe { &*core.wholes.get() } {
            if !e.value.is_null() {
                // SAFETY: see above; `pick` checked the CPU.
                unsafe { (e.visit.pick(fast))(e.value, &mut pass) };
            }
        }
        core.cells
            .map_places(|g| map.forward_granule(g as usize) as u32);
        core.token_places
            .map_places(|g| map.forward_granule(g as usize) as u32);
        for e in refs.iter_mut() {
            e.g = map.forward_granule(e.g);
        }

        // 4. Move.
        // SAFETY: the formula maps live granules to ascending, distinct
        // destinations at or below their sources, inside the area.
        unsafe { self.slide(&map, top_g) };

        // 5. Rebuild the bitmap: all live below the new top, except filler.
        // SAFETY: `words` words from the start are inside the bitmap.
        unsafe { bitmap.write_bytes(0, words) };
        let mut padding = 0;
        for e in aligned.iter_mut() {
            e.g = e.new;
            // SAFETY: filler granules lie below the object, below new top.
            unsafe { set_bits(bitmap, e.g - e.filler, e.filler, true) };
            padding += e.filler;
        }
        core.padding.set(padding);
        // The released objects are gone from the area: fold them out of
        // the allocated count, and start both counts again.
        self.allocated
            .set(self.allocated.get() - (core.dead.get() >> 32) as usize);
        core.dead.set(0);
        self.top.set(new_top_g * GRANULE);
        scopeguard::ScopeGuard::into_inner(abort);
    }

    /// The live bits of bitmap word `w` (granules below `top_g`).
    #[inline(always)]
    fn live_word(&self, w: usize, top_g: usize) -> u64 {
        // SAFETY: `w` is below the top's word count, inside the bitmap.
        let dead = unsafe { self.bitmap().add(w).read() };
        let valid = top_g - w * 64;
        let mask = if valid >= 64 { !0 } else { (1u64 << valid) - 1 };
        !dead & mask
    }

    /// The forwarding formula of a compaction whose prefix table and
    /// over-aligned list (with fillers) are `prefix` and `aligned`.
    fn map<'m>(&self, prefix: &'m [u32], aligned: &'m [AlignEntry]) -> Map<'m> {
        Map {
            top_g: self.top.get() / GRANULE,
            bitmap: self.bitmap(),
            prefix,
            aligned,
        }
    }

    /// Moves every live granule to its new place, in ascending order.
    ///
    /// # Safety
    ///
    /// As [`compact`](Self::compact); `map` is this compaction's formula.
    #[inline(always)]
    unsafe fn slide(&self, map: &Map<'_>, top_g: usize) {
        type G = MaybeUninit<u64>;
        let area = self.area.cast::<G>();
        let words = top_g.div_ceil(64);
        for w in 0..words {
            let mut live = self.live_word(w, top_g);
            if live == 0 {
                continue;
            }
            let e = map.prefix[w];
            let src = w * 64;
            if e & FLAG == 0 {
                let mut dst = e as usize;
                if live == !0 {
                    if dst != src {
                        // SAFETY: 64 granules from `src` are live and in
                        // the area; `dst < src`; `copy` allows overlap.
                        unsafe {
                            core::ptr::copy(area.add(src).as_ptr(), area.add(dst).as_ptr(), 64)
                        };
                    }
                    continue;
                }
                while live != 0 {
                    let b = live.trailing_zeros() as usize;
                    // SAFETY: granule `src + b` is live and in the area; its
                    // destination `dst <= src + b` was either read already
                    // (ascending) or is itself; copied as `MaybeUninit` so
                    // padding bytes and pointer provenance are preserved.
                    unsafe { area.add(dst).write(area.add(src + b).read()) };
                    dst += 1;
                    live &= live - 1;
                }
            } else {
                while live != 0 {
                    let b = live.trailing_zeros() as usize;
                    let dst = map.forward_granule(src + b);
                    // SAFETY: as above.
                    unsafe { area.add(dst).write(area.add(src + b).read()) };
                    live &= live - 1;
                }
            }
        }
    }
}

/// Bits `from..to` of a word (`from <= to <= 64`).
#[inline]
fn bits(from: usize, to: usize) -> u64 {
    let upto = if to >= 64 { !0 } else { (1u64 << to) - 1 };
    upto & !((1u64 << from) - 1)
}

/// The forwarding formula of one compaction:
/// `new(g) = prefix[g / 64] + popcount(live[g / 64] & below(g % 64))`,
/// plus the filler of over-aligned objects starting in the same word at or
/// before `g` when the word is flagged.
#[derive(Clone, Copy)]
pub(crate) struct Map<'r> {
    /// Granules below the top before compaction.
    top_g: usize,
    /// The dead bitmap as it was before compaction.
    bitmap: NonNull<u64>,
    /// One entry per bitmap word below the top, and the total.
    prefix: &'r [u32],
    /// The over-aligned objects, with their fillers.
    aligned: &'r [AlignEntry],
}

impl Map<'_> {
    /// The new granule index of the live granule `g`.
    #[inline(always)]
    fn forward_granule(&self, g: usize) -> usize {
        // Redundant, and in the hot loop: `Fix::visit` checks every visited
        // address against the top in every build (`limit`), cell places and
        // list entries are live objects below the top, and the move loop
        // walks live bits below it; `prefix` has an entry for every word
        // below the top, plus one.
        debug_assert!(g < self.top_g);
        let (w, b) = (g / 64, g % 64);
        debug_assert!(w < self.prefix.len());
        // SAFETY: `w` is a word below the top: in the bitmap and the table.
        let (e, dead) = unsafe { (*self.prefix.get_unchecked(w), self.bitmap.add(w).read()) };
        let below = (!dead & ((1u64 << b) - 1)).count_ones() as usize;
        if e & FLAG == 0 {
            e as usize + below
        } else {
            self.forward_flagged(g, (e & !FLAG) as usize + below)
        }
    }

    /// The slow path of [`forward_granule`](Self::forward_granule): adds the
    /// filler of the over-aligned objects of `g`'s word that start at or
    /// before `g`.
    #[cold]
    fn forward_flagged(&self, g: usize, mut n: usize) -> usize {
        let aligned = self.aligned;
        let first = aligned.partition_point(|e| e.g < g / 64 * 64);
        for e in &aligned[first..] {
            if e.g > g {
                break;
            }
            n += e.filler;
        }
        n
    }
}

/// The checking visitor of a compaction: flags references outside the
/// region. Items hand visitors their *tagged* addresses (see `Item`'s
/// `Managed` impl).
pub(crate) struct Check {
    /// The area's address, tagged.
    start: usize,
    /// Bytes below the top.
    limit: usize,
    /// Whether a reference outside the region was seen.
    foreign: bool,
}

// SAFETY: observes only: never writes `target`, never keeps it.
unsafe impl Visitor for Check {
    #[inline]
    fn writes(&self) -> bool {
        false
    }

    #[inline]
    fn visit(&mut self, target: &mut NonNull<u8>) {
        if target.addr().get().wrapping_sub(self.start) >= self.limit {
            self.foreign = true;
        }
    }
}

/// The rewriting visitor of a compaction: maps each (tagged) item address
/// in the region through the formula, keeping the tag.
///
/// Every address it visits is in the region: whole-value tokens were
/// checked when made (and their values are private to them since), and
/// references held in region objects by the check pass just before.
pub(crate) struct Fix<'r> {
    /// The area's address, tagged.
    start: usize,
    /// Bytes below the top.
    limit: usize,
    /// The formula.
    map: Map<'r>,
}

// SAFETY: 1. it is used only by the compaction that moves the region's
// objects by the same formula, so the address it writes is where the same
// object lands (same tag, provenance of the region block); 2. it keeps no
// place.
unsafe impl Visitor for Fix<'_> {
    #[inline]
    fn visit(&mut self, target: &mut NonNull<u8>) {
        let off = target.addr().get().wrapping_sub(self.start);
        // Checked in release builds too, but as a cold abort rather than a
        // branch the hot loop carries: an address outside the region here
        // would be a broken invariant (see the type docs).
        if off >= self.limit {
            outside();
        }
        let new = self.start + self.map.forward_granule(off / GRANULE) * GRANULE;
        // SAFETY: an address in the block (tagged) is not null.
        *target = target.with_addr(unsafe { core::num::NonZeroUsize::new_unchecked(new) });
    }
}

/// A reference outside the region reached the rewriting pass: a broken
/// invariant, which must not turn into an out-of-bounds read.
#[cold]
#[inline(never)]
fn outside() -> ! {
    crate::platform::abort()
}

impl RegionCore {
    /// The address of the object at cell place `place` (not `NOWHERE`) of
    /// the region whose block is `this`.
    ///
    /// # Safety
    ///
    /// `this` is a live block and `place` a cell place in use there.
    #[inline]
    pub(crate) unsafe fn at(this: NonNull<RegionCore>, place: u32) -> NonNull<u8> {
        // SAFETY: the place is a granule of the area, inside the block.
        unsafe {
            let offset = this.as_ref().area_offset;
            this.cast::<u8>().add(offset + place as usize * GRANULE)
        }
    }

    /// Counts one more outstanding token.
    #[inline]
    pub(crate) fn token_created(&self) {
        self.tokens.set(self.tokens.get() + 1);
    }

    /// Unregisters the whole-value token in slot `i`.
    pub(crate) fn remove_whole(&self, i: usize) {
        // SAFETY: no reference to the lists is live (short accesses only).
        unsafe {
            (&mut *self.wholes.get())[i].value = core::ptr::null_mut();
            (*self.whole_free.get()).push(i);
        }
    }

    /// Counts one token fewer; frees the block when it was the last user.
    ///
    /// # Safety
    ///
    /// `this` is a live block that counted this token, and the caller does
    /// not use it afterwards.
    #[inline]
    pub(crate) unsafe fn token_gone(this: NonNull<RegionCore>) {
        // SAFETY: live block (caller).
        let core = unsafe { this.as_ref() };
        let n = core.tokens.get() - 1;
        core.tokens.set(n);
        if n == 0 && core.arena_gone.get() {
            // SAFETY: the arena is gone and this was the last token.
            unsafe { Self::free(this) };
        }
    }

    /// Called by the arena's drop: counts the outstanding single-item
    /// tokens in, then frees the block, or leaves it to the last
    /// outstanding token.
    ///
    /// # Safety
    ///
    /// `this` is the arena's live block; the arena does not use it after.
    pub(crate) unsafe fn arena_gone(this: NonNull<RegionCore>) {
        // SAFETY: live block (caller).
        let core = unsafe { this.as_ref() };
        core.arena_gone.set(true);
        let n = core.tokens.get() + core.token_places.in_use();
        core.tokens.set(n);
        if n == 0 {
            // SAFETY: no token holds the block, and the arena lets go.
            unsafe { Self::free(this) };
        }
    }

    /// Drops the core's tables and frees the block.
    ///
    /// # Safety
    ///
    /// Nobody uses the block afterwards.
    #[cold]
    unsafe fn free(this: NonNull<RegionCore>) {
        // SAFETY: 1. the core was written in `RawRegion::new` and is
        // dropped once; 2. the block was allocated with `layout`.
        unsafe {
            let layout = this.as_ref().layout;
            core::ptr::drop_in_place(this.as_ptr());
            deallocate(this.cast(), layout);
        }
    }
}

// Memory maps (`crate::memory_map`).
impl RawRegion {
    /// Adds the region's block to `map`: the `RegionCore` as its header, the dead
    /// bitmap as metadata, padding up to the object area, then each granule
    /// below the top, live or dead (free: compaction reclaims it), and the
    /// never-used room above the top, free.
    pub(crate) fn map_into(&self, map: &mut crate::memory_map::MemoryMap) {
        use crate::memory_map::{Block, SpanKind};
        let core = self.core();
        let words = (self.capacity / GRANULE).div_ceil(64);
        let mut block = Block::new("region", self.block.addr().get());
        block
            .push(SpanKind::Header, size_of::<RegionCore>())
            .push_to(SpanKind::Padding, BITMAP_OFFSET)
            .push(SpanKind::Metadata, words * 8)
            .push_to(SpanKind::Padding, core.area_offset);
        for g in 0..self.top.get() / GRANULE {
            let kind = if self.is_dead(g) {
                SpanKind::Free
            } else {
                SpanKind::Live
            };
            block.push(kind, GRANULE);
        }
        block
            .push_to(SpanKind::Free, core.area_offset + self.capacity)
            .push_to(SpanKind::Padding, core.layout.size());
        map.push(block);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_and_set_bits_across_words() {
        assert_eq!(bits(0, 64), !0);
        assert_eq!(bits(3, 5), 0b11000);
        assert_eq!(bits(5, 5), 0);
        let mut words = [0u64; 3];
        // A fresh pointer for each write: reading `words` in between
        // freezes any pointer derived before the read (Tree Borrows).
        // SAFETY: bits 60..140 lie in the three words.
        unsafe { set_bits(NonNull::from(&mut words).cast(), 60, 80, true) };
        assert_eq!(words, [0xf << 60, !0, (1 << 12) - 1]);
        // SAFETY: as above.
        unsafe { set_bits(NonNull::from(&mut words).cast(), 62, 68, false) };
        assert_eq!(words, [0x3 << 60, 0, (1 << 12) - 1 - 0b11]);
    }

    #[test]
    fn blocks_are_aligned_to_their_size_and_tags_find_them() {
        for capacity in [0, 8, 1000, 1 << 16] {
            let r = RawRegion::new(capacity, false).expect("small region");
            let align = 1usize << (r.tag >> TAG_SHIFT);
            assert!(align >= r.core().layout.size());
            assert_eq!(r.block.addr().get() % align, 0);
            assert_eq!(r.capacity(), capacity);
            if capacity > 0 {
                let p = r.reserve(8, 8).expect("fits");
                let tagged = r.tag(p).addr().get();
                assert_eq!(untag(tagged), p.addr().get());
                assert_eq!(untag(tagged) & !(align - 1), r.block.addr().get());
            }
            // SAFETY: no token holds the block.
            unsafe { RegionCore::arena_gone(r.block()) };
        }
        assert!(matches!(
            RawRegion::new(MAX_CAPACITY + 8, false),
            Err(AllocError::CapacityOverflow)
        ));
    }
}
