//! The untyped core of the managed heap: chunks, bump allocation, the mark
//! bitmap and the collector. All pointer arithmetic of the heap lives here;
//! nothing is generic over the stored types (per-type operations arrive as
//! a [`GcKind`], a table of type-erased functions). Every `unsafe` block
//! and impl of the heap lives here and in the children `gc` (the handle)
//! and `arena` (the root's brand, the mutation token); the safe files
//! above hold docs and safe code.
//!
//! # Chunks
//!
//! The heap is a list of *chunks*, each aligned to the heap's chunk size
//! `C` (a power of two), so the chunk of an object is found by masking the
//! object's address: `addr & !(C - 1)`. A chunk starts with its [`HeapChunk`]
//! header. A *normal* chunk (exactly `C` bytes) then holds its mark bitmap
//! (one bit per 8-byte granule of its area), its prefix table (one `u32` per
//! bitmap word, plus the total) and its object area; every object in it has
//! the same *alignment class* (`8 << class` bytes), so sliding objects
//! together keeps each aligned (every size is a multiple of its alignment).
//! A *large* chunk holds one object too big for a normal chunk (more than a
//! quarter of its area) or too aligned for one; it is aligned to `C` and its
//! object starts within its first `C` bytes, so masking finds it too. Large
//! objects never move.
//!
//! # Collection
//!
//! 1. Clear the marks. 2. Mark from the root and the held handles
//!    (`held`; the weakly held ones are weak handles): a handle's
//!    [`GcKind`] says how
//!    many granules its object spans and how to trace it; a newly marked
//!    object that holds handles is appended to a work queue, which is
//!    drained in order (no recursion: a million-long list is fine). 3. Run
//!    the destructors of the unmarked objects that have one (a side list:
//!    objects carry no header). 4. Per chunk, a prefix table over the
//!    bitmap: `new(g) = prefix[g / 64] + popcount(bitmap[g / 64] &
//!    below(g % 64))`. 5. Rewrite every handle (in the root, in every queued
//!    object, in the destructor list) through that formula, in place. A
//!    queued object is skipped when its chunk's handles reach only chunks
//!    older than every chunk that moves: each chunk has a serial (higher for
//!    every chunk taken later), and marking records on each chunk the
//!    highest serial its objects' handles point into (`HeapChunk::reach`), so
//!    a long-lived structure that points only at itself is not read again
//!    while young chunks compact. When every chunk that moves was taken
//!    since the last collection, only the objects marking listed as
//!    reaching such a chunk are visited at all. Weak handles do not mark;
//!    marking records their chunks in `reach` too, and (when any was
//!    seen) chunks that emptied and dead large objects count as moving, so
//!    each weak handle whose object moves or dies is rewritten, to the
//!    object's new address or to the dead marker. 6. Slide each chunk's live
//!    granules down in one ascending pass, from its first dead granule. 7.
//!    Give empty chunks back (keeping some as spare capacity).

use alloc::vec::Vec;
use core::alloc::Layout;
use core::cell::{Cell, UnsafeCell};
use core::mem::MaybeUninit;
use core::ptr::NonNull;

use scopeguard::{ScopeGuard, guard};

use crate::page::raw::{allocate, deallocate};
use crate::visit::{Managed, Visitor};

use super::arena::Pacing;

mod arena;
pub(super) mod disjoint;
pub(super) mod downcast;
pub(super) mod ephemeron;
pub(super) mod gc;
pub(super) mod held;
pub(super) mod nan_box;

use ephemeron::Ephemerons;
use held::HeldTable;

/// Bytes per granule: the unit of allocation, marking and movement.
pub(crate) const GRANULE: usize = 8;
/// Alignment classes of normal chunks: class `c` holds objects aligned to
/// `8 << c` bytes (8 B to 32 KiB).
const CLASSES: usize = 13;
/// The default chunk size.
pub(crate) const DEFAULT_CHUNK: usize = 64 << 10;
/// The smallest chunk size.
pub(crate) const MIN_CHUNK: usize = 4 << 10;
/// The largest chunk size (granule indices of a chunk fit a prefix entry).
pub(crate) const MAX_CHUNK: usize = 1 << 30;
/// Offset of a normal chunk's bitmap, and the smallest offset of any
/// chunk's area, from the chunk start.
const BITMAP_OFFSET: usize = size_of::<HeapChunk>().next_multiple_of(64);

/// Type-erased operations on one object type, made by `GcKind::of`.
///
/// Every heap handle passes its object's kind to
/// [`Visitor::visit_gc`](crate::Visitor::visit_gc): objects carry no header,
/// so the handle is where the collector learns how large the object it
/// points at is and how to trace it. Only the heap's own visitors read it.
pub struct GcKind {
    /// Granules the object spans: its size rounded up, at least one.
    granules: usize,
    /// Whether the type can hold handles (`Managed::HAS_REFS`).
    has_refs: bool,
    /// Traces the object with the marking visitor.
    mark: unsafe fn(NonNull<u8>, &mut Marker),
    /// Rewrites the object's handles, baseline code.
    fix: unsafe fn(NonNull<u8>, &mut Fixer),
    /// Rewrites the object's handles with `popcnt`; call only where
    /// [`has_popcnt`] says so.
    fix_fast: unsafe fn(NonNull<u8>, &mut Fixer),
    /// Makes the object's weak handles to unmarked objects dead (when a
    /// destructor's panic cuts a collection short).
    forget: unsafe fn(NonNull<u8>, &mut Forgetter),
}

impl core::fmt::Debug for GcKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GcKind")
            .field("granules", &self.granules)
            .field("has_refs", &self.has_refs)
            .finish_non_exhaustive()
    }
}

/// Gives each `Managed` type its static [`GcKind`].
trait KindOf {
    /// The kind of `Self`.
    const KIND: GcKind;
}

impl<T: Managed> KindOf for T {
    const KIND: GcKind = GcKind {
        granules: granules_of::<T>(),
        has_refs: T::HAS_REFS,
        mark: mark_erased::<T>,
        fix: fix_erased::<T>,
        #[cfg(target_arch = "x86_64")]
        fix_fast: fix_erased_popcnt::<T>,
        #[cfg(not(target_arch = "x86_64"))]
        fix_fast: fix_erased::<T>,
        forget: forget_erased::<T>,
    };
}

impl GcKind {
    /// The kind of `T` (a constant: usable in other constants).
    #[inline(always)]
    pub(crate) const fn of<T: Managed>() -> &'static GcKind {
        &<T as KindOf>::KIND
    }

    /// Bytes the object occupies in a chunk.
    #[inline(always)]
    pub(crate) fn bytes(&self) -> usize {
        self.granules * GRANULE
    }
}

/// Granules a `T` spans in the heap (a zero-sized value takes one, so that
/// every object has a mark bit of its own).
const fn granules_of<T>() -> usize {
    let size = size_of::<T>();
    if size == 0 { 1 } else { size.div_ceil(GRANULE) }
}

/// Traces the `T` at `p` with the marking visitor.
///
/// # Safety
///
/// `p` points to a live `T` to which no reference is live.
unsafe fn mark_erased<T: Managed>(p: NonNull<u8>, marker: &mut Marker) {
    // SAFETY: the caller guarantees a live, unaliased `T`.
    unsafe { p.cast::<T>().as_mut().visit_refs(marker) }
}

/// Rewrites the handles of the `T` at `p`.
///
/// # Safety
///
/// As [`mark_erased`].
unsafe fn fix_erased<T: Managed>(p: NonNull<u8>, fixer: &mut Fixer) {
    // SAFETY: the caller guarantees a live, unaliased `T`.
    unsafe { p.cast::<T>().as_mut().visit_refs(fixer) }
}

/// Makes the weak handles of the `T` at `p` to unmarked objects dead.
///
/// # Safety
///
/// As [`mark_erased`].
unsafe fn forget_erased<T: Managed>(p: NonNull<u8>, forgetter: &mut Forgetter) {
    // SAFETY: the caller guarantees a live, unaliased `T`.
    unsafe { p.cast::<T>().as_mut().visit_refs(forgetter) }
}

/// [`fix_erased`] compiled with `popcnt` (the visitor inlines into it).
///
/// # Safety
///
/// As [`mark_erased`], and the CPU has `popcnt` ([`has_popcnt`]).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
unsafe fn fix_erased_popcnt<T: Managed>(p: NonNull<u8>, fixer: &mut Fixer) {
    // SAFETY: the caller guarantees a live, unaliased `T`.
    unsafe { p.cast::<T>().as_mut().visit_refs(fixer) }
}

/// Whether this CPU has `popcnt` (never under Miri, and without `std`,
/// which detection needs).
fn has_popcnt() -> bool {
    #[cfg(all(target_arch = "x86_64", not(miri), feature = "std"))]
    {
        std::arch::is_x86_feature_detected!("popcnt")
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri), feature = "std")))]
    {
        false
    }
}

/// Runs the destructor of the `T` at `p`.
///
/// # Safety
///
/// `p` points to a live `T` that is never used again.
unsafe fn drop_erased<T>(p: NonNull<u8>) {
    // SAFETY: forwarded from the caller.
    unsafe { core::ptr::drop_in_place(p.cast::<T>().as_ptr()) }
}

/// The header at the start of every chunk.
///
/// Accessed only through raw pointers (the chunk's own, or one masked from
/// an object address, which carries the chunk's provenance), never through
/// a reference kept across another access.
#[repr(C)]
struct HeapChunk {
    /// Start of the object area, derived from the chunk pointer.
    /// Invariant: `area - chunk < chunk size`, and `area` is aligned to the
    /// chunk's alignment class (normal) or its object (large).
    area: NonNull<u8>,
    /// The prefix table of a normal chunk (`words + 1` entries after the
    /// bitmap); dangling for a large chunk.
    prefix: NonNull<u32>,
    /// Bytes of the object area. Invariant: a multiple of 8, and for a
    /// normal chunk at most `64 * 8 * words` (the bitmap covers it).
    capacity: usize,
    /// Bytes in use from the start of the area. Objects lie in `0..top`,
    /// each granule of it live or dead (no object straddles `top`); the
    /// bitmap is clear at and above `top` after the mark phase's clearing.
    /// Stale (too low) for the chunk a bump cursor is in, until
    /// [`RawHeap::flush`].
    top: usize,
    /// The top after the compaction being computed (collection only).
    new_top: usize,
    /// Bitmap words of a normal chunk.
    words: usize,
    /// The chunk's memory, to free it.
    layout: Layout,
    /// [`NORMAL`], [`LARGE`] (one object, never moved) or, during a
    /// collection, [`EVACUATED`] (a normal chunk under half live whose
    /// objects were copied out to fresh chunks: each of its live granules
    /// then holds the address of its copy). One byte, so the hot paths test
    /// one field for the common case.
    state: u8,
    /// The mark of a large chunk's object.
    marked: bool,
    /// When the chunk was taken: higher than the serial of every chunk
    /// taken before it (normal chunks get a new one each time they are
    /// reused). Fixed while the chunk is in use.
    serial: u64,
    /// Collection only: the highest serial of a chunk that a handle held
    /// by an object of this chunk pointed into, as marking traced them
    /// (0 before; reset by each collection's first phase). Invariant,
    /// after marking: every handle in every traced object of this chunk
    /// points into a chunk whose serial is at most `reach`, which is what
    /// lets the rewriting phase skip the chunk's objects when no chunk that
    /// serial or newer moves.
    reach: u64,
    /// [`Packing::Dense`] collections only: where each live object of this
    /// normal chunk starts, one bit per granule (`words` words), so that
    /// evacuation may cut a run of adjacent live objects between two of
    /// them. Null otherwise.
    ///
    /// Invariant: null, or `words` words that the collection running now
    /// owns and frees (resetting this to null) before it returns; a bit is
    /// set only at the first granule of an object reachable this
    /// collection.
    starts: *mut u64,
}

/// [`HeapChunk::state`] of a normal chunk.
const NORMAL: u8 = 0;
/// [`HeapChunk::state`] of a large chunk.
const LARGE: u8 = 1;
/// [`HeapChunk::state`] of an evacuated normal chunk.
const EVACUATED: u8 = 2;

/// The layout of a normal chunk of `chunk_size` bytes for alignment class
/// `class`: its bitmap words, the offsets of its prefix table and of its
/// area, and the area's capacity in bytes.
fn normal_layout(chunk_size: usize, class: usize) -> (usize, usize, usize, usize) {
    let align = (GRANULE << class).max(64);
    // Sized for the whole chunk: an upper bound of the area's granules.
    let words = (chunk_size / GRANULE).div_ceil(64);
    let prefix_offset = BITMAP_OFFSET + words * 8;
    let area_offset = (prefix_offset + (words + 1) * 4).next_multiple_of(align);
    debug_assert!(area_offset < chunk_size / 2);
    let capacity = (chunk_size - area_offset) & !(align - 1) & !(GRANULE - 1);
    (words, prefix_offset, area_offset, capacity)
}

/// Writes a normal chunk's header for alignment class `class`.
///
/// # Safety
///
/// `chunk` is a `chunk_size`-byte block aligned to `chunk_size`, which the
/// caller owns, and `class` is a normal class for that size (as
/// [`RawHeap::normal_class`] returns it). `serial` is above every serial
/// the heap gave before ([`RawHeap::next_serial`]).
unsafe fn init_normal(chunk: NonNull<HeapChunk>, chunk_size: usize, class: usize, serial: u64) {
    let (words, prefix_offset, area_offset, capacity) = normal_layout(chunk_size, class);
    // SAFETY: every offset lies inside the chunk, which the caller owns.
    unsafe {
        let base = chunk.cast::<u8>();
        chunk.write(HeapChunk {
            area: base.add(area_offset),
            prefix: base.add(prefix_offset).cast(),
            capacity,
            top: 0,
            new_top: 0,
            words,
            layout: Layout::from_size_align_unchecked(chunk_size, chunk_size),
            state: NORMAL,
            marked: false,
            serial,
            reach: 0,
            starts: core::ptr::null_mut(),
        });
    }
}

/// The bitmap of a normal chunk.
///
/// # Safety
///
/// `chunk` is a live normal chunk.
#[inline(always)]
unsafe fn bitmap(chunk: *mut HeapChunk) -> *mut u64 {
    // SAFETY: the bitmap follows the header inside the chunk.
    unsafe { chunk.cast::<u8>().add(BITMAP_OFFSET).cast() }
}

/// The highest bit set in `lo..=hi` of `bitmap`, if any.
///
/// # Safety
///
/// Bits `lo..=hi` lie inside the bitmap, which nothing writes meanwhile.
unsafe fn last_set(bitmap: *const u64, lo: usize, hi: usize) -> Option<usize> {
    debug_assert!(lo <= hi);
    let mut w = hi / 64;
    // The bits of word `w` at or below `hi`.
    // SAFETY: word `hi / 64` is inside the bitmap (caller).
    let mut bits = unsafe { *bitmap.add(w) } & (u64::MAX >> (63 - hi % 64));
    loop {
        if w == lo / 64 {
            bits &= u64::MAX << (lo % 64);
        }
        if bits != 0 {
            return Some(w * 64 + 63 - bits.leading_zeros() as usize);
        }
        if w == lo / 64 {
            return None;
        }
        w -= 1;
        // SAFETY: a word between `lo / 64` and `hi / 64` (caller).
        bits = unsafe { *bitmap.add(w) };
    }
}

/// Sets `n` bits from bit `g` of `bitmap`.
///
/// # Safety
///
/// Bits `g..g + n` lie inside the bitmap, which nothing else accesses now.
#[inline(always)]
unsafe fn set_bits(bitmap: *mut u64, mut g: usize, mut n: usize) {
    while n > 0 {
        let (w, b) = (g / 64, g % 64);
        let take = n.min(64 - b);
        let mask = if take == 64 {
            !0
        } else {
            ((1u64 << take) - 1) << b
        };
        // SAFETY: word `w` holds bit `g`, inside the bitmap (caller).
        unsafe { *bitmap.add(w) |= mask };
        g += take;
        n -= take;
    }
}

/// The chunk holding the object at `p`.
#[inline(always)]
fn chunk_of(p: NonNull<u8>, mask: usize) -> *mut HeapChunk {
    p.as_ptr().map_addr(|a| a & mask).cast()
}

/// Whether the object at `p` is marked.
///
/// # Safety
///
/// `p` is the start of an object of a live chunk of a heap with `mask`.
#[inline(always)]
unsafe fn is_marked(p: NonNull<u8>, mask: usize) -> bool {
    let chunk = chunk_of(p, mask);
    // SAFETY: `p` lies in a live chunk, whose header starts at the masked
    // address (module docs) and carries `p`'s provenance.
    unsafe {
        if (*chunk).state == LARGE {
            return (*chunk).marked;
        }
        let g = (p.addr().get() - (*chunk).area.addr().get()) / GRANULE;
        *bitmap(chunk).add(g / 64) & (1 << (g % 64)) != 0
    }
}

/// Where the marked object at `p` lands in this collection's compaction.
///
/// # Safety
///
/// `p` is the start of a marked object of a live chunk of a heap with
/// `mask`, whose prefix table is computed and whose bitmap is unchanged
/// since, or which was evacuated (its granules hold their copies'
/// addresses).
#[inline(always)]
unsafe fn forward(p: NonNull<u8>, mask: usize) -> NonNull<u8> {
    let chunk = chunk_of(p, mask);
    // SAFETY: as in `is_marked`; the prefix entry of the object's word is
    // computed (caller).
    unsafe {
        match (*chunk).state {
            NORMAL => {}
            LARGE => return p,
            _ => return p.cast::<NonNull<u8>>().read(),
        }
        let area = (*chunk).area;
        let g = (p.addr().get() - area.addr().get()) / GRANULE;
        let (w, b) = (g / 64, g % 64);
        let below = *bitmap(chunk).add(w) & ((1u64 << b) - 1);
        let new = *(*chunk).prefix.as_ptr().add(w) as usize + below.count_ones() as usize;
        debug_assert!(new <= g);
        area.add(new * GRANULE)
    }
}

/// Where the bytes of the marked object at `p` are during the rewriting
/// phase: still at `p`, or at its copy if its chunk was evacuated.
///
/// # Safety
///
/// As [`forward`].
#[inline(always)]
unsafe fn current(p: NonNull<u8>, mask: usize) -> NonNull<u8> {
    let chunk = chunk_of(p, mask);
    // SAFETY: as in `forward`.
    unsafe {
        if (*chunk).state == EVACUATED {
            p.cast::<NonNull<u8>>().read()
        } else {
            p
        }
    }
}

/// What a weak handle whose object was dropped points at: the address of
/// a static, never read through, that no object can have.
static DEAD: u64 = 0;

/// The address of the "dead" marker of weak handles ([`DEAD`]).
#[inline(always)]
pub(crate) fn dead() -> NonNull<u8> {
    NonNull::from(&DEAD).cast()
}

/// How many work-list entries ahead the collector prefetches objects.
const PREFETCH_AHEAD: usize = 8;

/// Asks the CPU to fetch the line at `p` (a hint, nothing else).
#[inline(always)]
fn prefetch(p: NonNull<u8>) {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    // SAFETY: a hint only; any address may be prefetched.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.as_ptr().cast());
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    let _ = p;
}

/// An object with a destructor, which the heap runs when the object dies.
#[derive(Clone, Copy)]
struct DropEntry {
    /// The object's address (rewritten when it moves).
    ptr: NonNull<u8>,
    /// Its type's destructor.
    drop: unsafe fn(NonNull<u8>),
}

/// The bump cursor of one alignment class.
struct HeapCursor {
    /// The next free byte of the current chunk (null before the first).
    ptr: Cell<*mut u8>,
    /// The end of the current chunk's area (null before the first).
    end: Cell<*mut u8>,
    /// Index of the current chunk in the class's list (meaningless while
    /// `ptr` is null).
    index: Cell<usize>,
}

impl HeapCursor {
    /// A cursor in no chunk: every allocation takes the slow path.
    const fn empty() -> Self {
        HeapCursor {
            ptr: Cell::new(core::ptr::null_mut()),
            end: Cell::new(core::ptr::null_mut()),
            index: Cell::new(0),
        }
    }
}

/// What a collection found and did.
///
/// `freed_bytes` says how much was reclaimed; `dropped` counts the
/// destructors run, which is the number of objects freed only when every
/// type has a destructor (objects carry no header, so a collection counts
/// the objects it keeps, not the ones it frees):
///
/// ```
/// use managed::prelude::*;
///
/// let mut heap: Heap<Vec<Gc<'static, u64>>> = Heap::new(|_| Vec::new());
/// heap.mutate(|mc, kept| {
///     kept.push(Gc::new(mc, 1u64));
///     Gc::new(mc, 2u64); // garbage without a destructor
///     Gc::new(mc, String::from("garbage with one"));
/// });
/// let stats = heap.collect();
/// assert_eq!(stats.live_objects, 1);
/// assert_eq!(stats.freed_bytes, 8 + 24); // the `u64` and the `String`
/// assert_eq!(stats.dropped, 1); // the `String`'s destructor
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct CollectStats {
    /// Objects reachable from the root (they survived).
    pub live_objects: usize,
    /// Bytes of the surviving objects (each rounded up to 8 bytes).
    pub live_bytes: usize,
    /// Bytes of objects found unreachable and reclaimed (each rounded up
    /// to 8 bytes, as for `live_bytes`).
    pub freed_bytes: usize,
    /// Destructors run: the unreachable objects whose type has one (not
    /// the number of objects freed, when some types have none).
    pub dropped: usize,
    /// Chunks whose objects were copied out to fresh chunks (the others
    /// slid their objects together in place): chunks under half live for
    /// [`Heap::collect`](crate::heap::Heap::collect), the least live ones
    /// for [`Heap::compact`](crate::heap::Heap::compact).
    pub chunks_evacuated: usize,
    /// Chunks given back to the global allocator.
    pub chunks_released: usize,
}

/// The whole heap below the typed layer: owned by a `Heap`, reached by a
/// `Mutation` during a mutation.
pub(crate) struct RawHeap {
    /// The chunk size: a power of two in `MIN_CHUNK..=MAX_CHUNK`.
    chunk_size: usize,
    /// `!(chunk_size - 1)`: masks an object address to its chunk.
    mask: usize,
    /// One bump cursor per alignment class.
    cursors: [HeapCursor; CLASSES],
    /// Per alignment class, its normal chunks; a cursor that is not null is
    /// in `lists[class][cursor.index]`. Mutated only by allocation (which
    /// runs no user code) and by collection (`&mut self`).
    lists: UnsafeCell<[Vec<NonNull<HeapChunk>>; CLASSES]>,
    /// Large chunks, one object each.
    large: UnsafeCell<Vec<NonNull<HeapChunk>>>,
    /// Empty normal chunks kept as capacity.
    spare: UnsafeCell<Vec<NonNull<HeapChunk>>>,
    /// The objects that have a destructor (each exactly once).
    drops: UnsafeCell<Vec<DropEntry>>,
    /// Bytes allocated since the last collection, not counting the current
    /// chunks' bytes above their (stale) `top`.
    since: Cell<usize>,
    /// Bytes that survived the last collection.
    live_after: usize,
    /// Collections run.
    collections: u64,
    /// The collector's work list (empty between collections).
    queue: WorkQueue,
    /// The serial the next chunk taken gets (see [`HeapChunk::serial`]).
    serials: Cell<u64>,
    /// Chunks with a serial at least this were taken since the last
    /// collection ended (every chunk, before the first).
    young_from: u64,
    /// Whether the CPU has `popcnt` (picked once).
    fast: bool,
    /// When a collection is due, and the spare room a collection keeps.
    pacing: Pacing,
    /// The heap's id and the objects held from outside it: roots, next to
    /// the root value.
    pub(in crate::heap) held: HeldTable,
}

impl RawHeap {
    /// An empty heap with chunks of `chunk_size` bytes.
    ///
    /// # Panics
    ///
    /// Unless `chunk_size` is a power of two in `MIN_CHUNK..=MAX_CHUNK`.
    #[track_caller]
    pub(crate) fn new(chunk_size: usize) -> Self {
        assert!(
            chunk_size.is_power_of_two() && (MIN_CHUNK..=MAX_CHUNK).contains(&chunk_size),
            "a heap's chunk size must be a power of two from {MIN_CHUNK} to {MAX_CHUNK} bytes, \
             not {chunk_size}"
        );
        RawHeap {
            chunk_size,
            mask: !(chunk_size - 1),
            cursors: [const { HeapCursor::empty() }; CLASSES],
            lists: UnsafeCell::new([const { Vec::new() }; CLASSES]),
            large: UnsafeCell::new(Vec::new()),
            spare: UnsafeCell::new(Vec::new()),
            drops: UnsafeCell::new(Vec::new()),
            since: Cell::new(0),
            live_after: 0,
            collections: 0,
            queue: WorkQueue::new(),
            serials: Cell::new(1),
            young_from: 0,
            fast: has_popcnt(),
            pacing: Pacing::default(),
            held: HeldTable::new(),
        }
    }

    /// A serial above every one given before, for a chunk being taken.
    fn next_serial(&self) -> u64 {
        let serial = self.serials.get();
        self.serials.set(serial + 1);
        serial
    }

    /// The chunk size.
    pub(crate) fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    /// The bytes of objects a normal chunk of the first alignment class
    /// (objects aligned to at most 64 bytes) holds.
    pub(crate) fn chunk_area(&self) -> usize {
        normal_layout(self.chunk_size, 0).3
    }

    /// The alignment class of `align`, if normal chunks of this heap can
    /// hold it (an area start aligned to it stays well inside the chunk).
    #[inline(always)]
    fn normal_class(&self, align: usize) -> Option<usize> {
        let class = (align.max(GRANULE).trailing_zeros() - GRANULE.trailing_zeros()) as usize;
        (class < CLASSES && align <= self.chunk_size / 8).then_some(class)
    }

    /// Moves `value` into the heap; returns its address.
    #[inline(always)]
    pub(crate) fn alloc<T: Managed>(&self, value: T) -> NonNull<T> {
        let kind = GcKind::of::<T>();
        let p = match self.normal_class(align_of::<T>()) {
            Some(class) => self.bump(kind.bytes(), class),
            None => self.alloc_large(kind.bytes(), align_of::<T>()),
        }
        .cast::<T>();
        // SAFETY: fresh space for `kind.bytes() >= size_of::<T>()` bytes,
        // aligned for `T`, owned by nothing else.
        unsafe { p.write(value) };
        if core::mem::needs_drop::<T>() {
            // SAFETY: no reference into the list is live (allocation runs
            // no user code while it holds one).
            unsafe { &mut *self.drops.get() }.push(DropEntry {
                ptr: p.cast(),
                drop: drop_erased::<T>,
            });
        }
        p
    }

    /// `bytes` (a multiple of 8) in a normal chunk of class `class`.
    #[inline(always)]
    fn bump(&self, bytes: usize, class: usize) -> NonNull<u8> {
        let cursor = &self.cursors[class];
        let p = cursor.ptr.get();
        if bytes <= cursor.end.get().addr().wrapping_sub(p.addr()) {
            // SAFETY: `bytes` fit between the cursor and the end of the
            // current chunk's area, so `p` is not null and `p + bytes` is
            // in bounds.
            unsafe {
                cursor.ptr.set(p.add(bytes));
                NonNull::new_unchecked(p)
            }
        } else {
            self.bump_slow(bytes, class)
        }
    }

    /// [`bump`](Self::bump) when the current chunk is full (or there is
    /// none): the next chunk of the class with room, a spare chunk, a new
    /// chunk, or a large chunk for an object above a quarter of a chunk.
    #[cold]
    #[inline(never)]
    fn bump_slow(&self, bytes: usize, class: usize) -> NonNull<u8> {
        let cursor = &self.cursors[class];
        let mut next = 0;
        if !cursor.ptr.get().is_null() {
            // SAFETY: the cursor is in a live chunk of this class's list;
            // the area ends `capacity` bytes after its start.
            let capacity = cursor.end.get().addr() - unsafe { self.area_of_cursor(class) }.addr();
            if bytes > capacity / 4 {
                // Large: keep the current chunk's tail for small objects.
                return self.alloc_large(bytes, GRANULE << class);
            }
            self.flush_class(class);
            next = cursor.index.get() + 1;
        }
        // SAFETY: no other reference into this list is live (allocation
        // runs no user code, and the calls below touch other cells).
        let list = unsafe { &mut (*self.lists.get())[class] };
        for (i, chunk) in list.iter().enumerate().skip(next) {
            let chunk = chunk.as_ptr();
            // SAFETY: a live chunk of this heap, off every cursor.
            let (room, top, area, capacity) = unsafe {
                (
                    (*chunk).capacity - (*chunk).top,
                    (*chunk).top,
                    (*chunk).area,
                    (*chunk).capacity,
                )
            };
            if bytes <= room {
                // SAFETY: `top` and `capacity` are inside the area.
                unsafe {
                    cursor.ptr.set(area.as_ptr().add(top + bytes));
                    cursor.end.set(area.as_ptr().add(capacity));
                    cursor.index.set(i);
                    return area.add(top);
                }
            }
        }
        let chunk = self.take_chunk(class);
        // SAFETY: a fresh chunk, initialized for `class`.
        let (area, capacity) = unsafe { ((*chunk.as_ptr()).area, (*chunk.as_ptr()).capacity) };
        if bytes > capacity / 4 {
            // SAFETY: no reference into the spare list is live.
            unsafe { &mut *self.spare.get() }.push(chunk);
            return self.alloc_large(bytes, GRANULE << class);
        }
        list.push(chunk);
        // SAFETY: `bytes <= capacity / 4` fit in the empty area.
        unsafe {
            cursor.ptr.set(area.as_ptr().add(bytes));
            cursor.end.set(area.as_ptr().add(capacity));
            cursor.index.set(list.len() - 1);
        }
        area
    }

    /// Writes the current chunk's `top` of class `class` back from its
    /// cursor, counting the bytes allocated since the last flush.
    fn flush_class(&self, class: usize) {
        let cursor = &self.cursors[class];
        let p = cursor.ptr.get();
        if p.is_null() {
            return;
        }
        // SAFETY: the cursor is in a live chunk of this class's list, and no
        // reference into the lists is live.
        unsafe {
            let chunk = self.cursor_chunk(class);
            let top = p.addr() - (*chunk).area.addr().get();
            self.since.set(self.since.get() + (top - (*chunk).top));
            (*chunk).top = top;
        }
    }

    /// The chunk the cursor of class `class` is in.
    ///
    /// # Safety
    ///
    /// The cursor is not null, and no reference into the lists is live.
    #[inline]
    unsafe fn cursor_chunk(&self, class: usize) -> *mut HeapChunk {
        // SAFETY: a short shared access to one list (caller); the index of a
        // cursor that is not null is in bounds.
        unsafe {
            let list = &(*self.lists.get())[class];
            list[self.cursors[class].index.get()].as_ptr()
        }
    }

    /// The area start of the chunk the cursor of class `class` is in.
    ///
    /// # Safety
    ///
    /// As [`cursor_chunk`](Self::cursor_chunk).
    #[inline]
    unsafe fn area_of_cursor(&self, class: usize) -> *mut u8 {
        // SAFETY: forwarded; a live chunk.
        unsafe { (*self.cursor_chunk(class)).area.as_ptr() }
    }

    /// An empty normal chunk for class `class`: a spare one or a new one.
    fn take_chunk(&self, class: usize) -> NonNull<HeapChunk> {
        // SAFETY: no reference into the spare list is live.
        let chunk = match unsafe { &mut *self.spare.get() }.pop() {
            Some(chunk) => chunk,
            None => {
                let layout = Layout::from_size_align(self.chunk_size, self.chunk_size)
                    .expect("a power of two up to 1 GiB is a valid layout");
                // The layout has a non-zero size (at least `MIN_CHUNK`).
                allocate(layout).cast()
            }
        };
        // SAFETY: a chunk-sized, chunk-aligned block owned by the heap, and
        // `class` is normal (only normal classes bump).
        unsafe { init_normal(chunk, self.chunk_size, class, self.next_serial()) };
        chunk
    }

    /// A large chunk holding one object of `bytes` bytes aligned to
    /// `align`; returns the object's address.
    #[cold]
    fn alloc_large(&self, bytes: usize, align: usize) -> NonNull<u8> {
        assert!(
            align <= self.chunk_size / 2,
            "a heap object may be aligned to at most half the heap's chunk size \
             ({} bytes), not {align}",
            self.chunk_size / 2
        );
        let area_offset = BITMAP_OFFSET.next_multiple_of(align);
        let layout = area_offset
            .checked_add(bytes)
            .and_then(|size| Layout::from_size_align(size, self.chunk_size.max(align)).ok())
            .expect("a heap object's size overflows isize::MAX");
        // The layout has a non-zero size (at least the chunk header).
        let chunk = allocate(layout);
        // SAFETY: the block is `area_offset + bytes` long, and
        // `area_offset < chunk_size` (as `align <= chunk_size / 2`), so the
        // object starts within the chunk-size-aligned block's first chunk.
        unsafe {
            let area = chunk.add(area_offset);
            chunk.cast::<HeapChunk>().write(HeapChunk {
                area,
                prefix: NonNull::dangling(),
                capacity: bytes,
                top: bytes,
                new_top: bytes,
                words: 0,
                layout,
                state: LARGE,
                marked: false,
                serial: self.next_serial(),
                reach: 0,
                starts: core::ptr::null_mut(),
            });
            (*self.large.get()).push(chunk.cast());
            self.since.set(self.since.get() + bytes);
            area
        }
    }

    /// Flushes every cursor (before reading tops).
    fn flush(&self) {
        for class in 0..CLASSES {
            self.flush_class(class);
        }
    }

    /// Bytes allocated since the last collection.
    pub(crate) fn allocated_since(&self) -> usize {
        self.flush();
        self.since.get()
    }

    /// Bytes that survived the last collection.
    pub(crate) fn live_after(&self) -> usize {
        self.live_after
    }

    /// The pacing.
    pub(crate) fn pacing(&self) -> Pacing {
        self.pacing
    }

    /// Sets the pacing.
    pub(crate) fn set_pacing(&mut self, pacing: Pacing) {
        self.pacing = pacing;
    }

    /// The bytes to allocate after a collection that left `live` bytes
    /// before the next one is due.
    fn budget(&self, live: usize) -> usize {
        ((live as f64 * self.pacing.growth) as usize).max(self.pacing.min_bytes)
    }

    /// Whether a collection is due.
    pub(crate) fn due(&self) -> bool {
        self.allocated_since() >= self.budget(self.live_after)
    }

    /// Collections run so far.
    pub(crate) fn collections(&self) -> u64 {
        self.collections
    }

    /// Figures of the heap's memory: `(reserved, used, chunks)`.
    pub(crate) fn usage(&self) -> (usize, usize, usize) {
        self.flush();
        // SAFETY: no reference into the lists is live (short accesses).
        let (lists, large, spare, drops) = unsafe {
            (
                &*self.lists.get(),
                &*self.large.get(),
                &*self.spare.get(),
                &*self.drops.get(),
            )
        };
        let mut reserved =
            drops.capacity() * size_of::<DropEntry>() + self.queue.bytes() + self.held.bytes();
        let mut used = 0;
        let mut chunks = 0;
        for &chunk in lists.iter().flatten().chain(large).chain(spare) {
            // SAFETY: a live chunk.
            unsafe {
                reserved += (*chunk.as_ptr()).layout.size();
                used += (*chunk.as_ptr()).top;
            }
            chunks += 1;
        }
        (reserved, used, chunks)
    }

    /// Objects with a destructor that the heap holds.
    pub(crate) fn with_destructors(&self) -> usize {
        // SAFETY: a short shared access, no mutation meanwhile.
        unsafe { (*self.drops.get()).len() }
    }

    /// Runs a full collection: marks from `root` and the held handles,
    /// drops every unmarked object that has a destructor, slides the
    /// survivors of each chunk together and rewrites every handle (a weak
    /// one to an unmarked object becomes dead).
    ///
    /// If a destructor panics, the panic propagates after the destructor
    /// list is left consistent (the panicking object counts as dropped);
    /// the objects not yet swept are dropped by the next collection, which
    /// also does the compaction this one did not reach. The map entries
    /// the rewriting drops (keys made dead, values left holding only dead
    /// weak handles) are dropped last, once every handle is rewritten: a
    /// destructor's panic among them propagates once the rest are dropped.
    /// A panic while handles are being rewritten aborts the process (a
    /// handle-visiting `Managed` impl that panics breaks the trait's
    /// contract).
    ///
    /// # Safety
    ///
    /// 1. No reference to any object of this heap is live, and nothing
    ///    holds a handle to an object of this heap except `root` (the
    ///    root value, traced with `root_kind`), the cells of `self.held`
    ///    and the objects reachable from either: those are the handles
    ///    that are rewritten.
    /// 2. Every handle reachable from the root points to the start of a live
    ///    object of this heap, of the type its kind describes (the held
    ///    cells' addresses do, by their invariant).
    pub(crate) unsafe fn collect(
        &mut self,
        root: NonNull<u8>,
        root_kind: &'static GcKind,
        packing: Packing,
    ) -> CollectStats {
        self.flush();
        let mask = self.mask;
        let lists = self.lists.get_mut();
        let large = self.large.get_mut();

        // 1. Clear the marks below every top.
        for &chunk in lists.iter().flatten() {
            let chunk = chunk.as_ptr();
            // SAFETY: a live normal chunk; its used words are in the bitmap.
            unsafe {
                let used = (*chunk).top.div_ceil(GRANULE).div_ceil(64);
                bitmap(chunk).write_bytes(0, used);
                (*chunk).reach = 0;
            }
        }
        for &chunk in large.iter() {
            // SAFETY: a live large chunk.
            unsafe {
                (*chunk.as_ptr()).marked = false;
                (*chunk.as_ptr()).reach = 0;
            }
        }

        // 2. Mark from the root, then drain the queue in order. The list
        // starts empty: one left by a collection that a destructor's panic
        // interrupted holds addresses of that collection.
        self.queue.reset();
        let mut marker = Marker {
            mask,
            queue: WorkQueue::new(),
            objects: 0,
            reach: 0,
            young_from: self.young_from,
            young: Vec::new(),
            weak: false,
            ephemerons: Ephemerons::marking(mask),
        };
        // SAFETY: the root is a live value to which no reference is live
        // (caller), of the type `root_kind` describes.
        unsafe { (root_kind.mark)(root, &mut marker) };
        // The held handles are roots too (the weak ones are weak
        // handles); those whose last handle was dropped are unlisted
        // first, so their objects can be reclaimed.
        self.held.prune();
        self.held.visit(&mut marker);
        // (The root's and the held handles are rewritten whatever they
        // reach.)
        let mut i = 0;
        loop {
            while let Some((p, kind)) = marker.queue.get(i) {
                // The objects are traced in marking (breadth-first) order,
                // far from where they were allocated: fetch a few ahead.
                if let Some((ahead, _)) = marker.queue.get(i + PREFETCH_AHEAD) {
                    prefetch(ahead);
                }
                marker.reach = 0;
                marker.ephemerons.holder = i;
                // SAFETY: a marked, live object of this heap (caller, 2.), of
                // the type `kind` describes, to which no reference is live.
                unsafe { (kind.mark)(p, &mut marker) };
                // SAFETY: the queue's entry `i`, just traced.
                unsafe { marker.note_reach(i, p) };
                i += 1;
            }
            // The queue is drained: the values of weakly keyed entries
            // whose keys' objects were marked since they were deferred
            // (`ephemeron`), and what they reach, until none is ready.
            // SAFETY: the queue is drained, in this marking.
            if !unsafe { marker.trace_ready() } {
                break;
            }
        }
        marker.finish_ephemerons();
        let Marker {
            queue,
            objects,
            young,
            weak,
            ..
        } = marker;
        self.queue = queue;

        // 3. Run the destructors of the unmarked objects. If one panics,
        // the rewriting below does not run, so weak handles to the objects
        // unmarked (some of them dropped now) are made dead first: every
        // object holding one is queued (it was marked and holds handles),
        // the weak held cells are in the table, and the marks stay as they
        // are until the next collection.
        let forget = guard((&self.queue, &self.held), |(queue, held)| {
            if weak {
                let mut forgetter = Forgetter {
                    mask,
                    record_starts: false,
                    ephemerons: Ephemerons::settled(mask, false),
                };
                held.forget(&mut forgetter);
                // SAFETY: the root and the queued objects are live (caller)
                // and unaliased, of the types their kinds describe, and the
                // marks are complete.
                unsafe {
                    (root_kind.forget)(root, &mut forgetter);
                    queue.for_each_ahead(None, |p, kind, _| (kind.forget)(p, &mut forgetter));
                }
            }
        });
        // SAFETY: the marks are complete; no reference to any object is
        // live (caller).
        let dropped = unsafe { sweep(self.drops.get_mut(), mask) };
        ScopeGuard::into_inner(forget);
        let drops = self.drops.get_mut();
        if drops.len() < drops.capacity() / 4 && drops.capacity() > 1024 {
            // A collection that freed most objects with destructors gives
            // half the list's room back (half full after, so a heap that
            // oscillates does not reallocate each time).
            drops.shrink_to(drops.capacity() / 2);
        }

        // From here on, a panic would leave handles half rewritten.
        let abort = crate::platform::abort_on_unwind();

        // 4. The prefix tables, and the new tops.
        let lists = self.lists.get_mut();
        let (mut used, mut live_bytes) = (0, 0);
        for &chunk in lists.iter().flatten() {
            let chunk = chunk.as_ptr();
            // SAFETY: a live normal chunk; `used` words are inside its
            // bitmap and prefix table.
            unsafe {
                used += (*chunk).top;
                let words = (*chunk).top.div_ceil(GRANULE).div_ceil(64);
                let live = prefix_pass(bitmap(chunk), (*chunk).prefix.as_ptr(), words, self.fast);
                (*chunk).new_top = live * GRANULE;
                live_bytes += live * GRANULE;
            }
        }
        for &chunk in self.large.get_mut().iter() {
            // SAFETY: a live large chunk.
            unsafe {
                used += (*chunk.as_ptr()).top;
                if (*chunk.as_ptr()).marked {
                    live_bytes += (*chunk.as_ptr()).top;
                }
            }
        }

        // 4b. Copy the live objects of some chunks out to fresh chunks, so
        // that sparse survivors do not pin whole chunks (see `Packing` for
        // which).
        let mut fresh: [Vec<NonNull<HeapChunk>>; CLASSES] = [const { Vec::new() }; CLASSES];
        let mut evacuated = 0;
        // A dense packing cuts runs of live objects between two objects,
        // so it first records where each live object starts: every one is
        // the target of a handle in the root, a held cell or a traced
        // object (the queue).
        let mut starts: Vec<u64> = Vec::new();
        if packing == Packing::Dense {
            let lists = self.lists.get_mut();
            // SAFETY: live normal chunks.
            let words: usize = lists
                .iter()
                .flatten()
                .map(|&c| unsafe { (*c.as_ptr()).words })
                .sum();
            starts.resize(words, 0);
            let mut at = starts.as_mut_ptr();
            for &chunk in lists.iter().flatten() {
                // SAFETY: 1. a live normal chunk; 2. `words` words of
                // `starts` from `at` are its own (the sum above), which
                // lives until the collection returns, after the chunks'
                // pointers are reset below.
                unsafe {
                    (*chunk.as_ptr()).starts = at;
                    at = at.add((*chunk.as_ptr()).words);
                }
            }
            let mut recorder = Forgetter {
                mask,
                record_starts: true,
                ephemerons: Ephemerons::settled(mask, false),
            };
            self.held.visit(&mut recorder);
            // SAFETY: the root and the queued objects are live and
            // unaliased, of the types their kinds describe (caller, and
            // marking); every normal chunk has its bitmap (above).
            unsafe {
                (root_kind.forget)(root, &mut recorder);
                self.queue
                    .for_each_ahead(None, |p, kind, _| (kind.forget)(p, &mut recorder));
            }
        }
        for (class, fresh) in fresh.iter_mut().enumerate() {
            // SAFETY: live normal chunks, their new tops computed.
            let sparse = unsafe { evacuees(&self.lists.get_mut()[class], packing) };
            evacuated += sparse.len();
            if !sparse.is_empty() {
                // SAFETY: marked, prefix-computed chunks of this class,
                // whose objects no reference points into (caller).
                *fresh = unsafe { self.evacuate(class, &sparse) };
            }
        }
        if packing == Packing::Dense {
            for &chunk in self.lists.get_mut().iter().flatten() {
                // SAFETY: a live normal chunk; its starts are not read
                // again (the invariant on `starts`: null from here on).
                unsafe { (*chunk.as_ptr()).starts = core::ptr::null_mut() };
            }
            drop(starts);
        }

        // 5. Rewrite every handle: in the root, in every object holding
        // handles (each is in the queue once), and in the destructor list.
        // An object whose chunk's handles reach only chunks older than
        // every chunk whose objects move (by `HeapChunk::reach`) keeps its
        // handles as they are: it is not read at all.
        let mut moving = u64::MAX;
        for &chunk in self.lists.get_mut().iter().flatten() {
            // SAFETY: a live normal chunk, its new top computed.
            unsafe {
                let chunk = chunk.as_ptr();
                // Conservative: a chunk that lost anything may move its
                // objects, an evacuated one moved them all; one that lost
                // everything holds nothing a handle points at, but weak
                // handles may point at its dead objects, which they must
                // forget.
                let moves = (*chunk).state == EVACUATED
                    || ((*chunk).new_top < (*chunk).top && ((*chunk).new_top > 0 || weak));
                if moves {
                    moving = moving.min((*chunk).serial);
                }
            }
        }
        if weak {
            // A large object that dies: its weak handles forget it.
            for &chunk in self.large.get_mut().iter() {
                // SAFETY: a live large chunk.
                unsafe {
                    if !(*chunk.as_ptr()).marked {
                        moving = moving.min((*chunk.as_ptr()).serial);
                    }
                }
            }
        }
        let mut fixer = Fixer {
            mask,
            ephemerons: Ephemerons::settled(mask, true),
        };
        // The objects to visit: when every chunk that moves was taken since
        // the last collection, only those listed in `young` can hold a
        // handle into one (the others' handles all point into older
        // chunks); otherwise every queued object whose chunk reaches a
        // chunk that moves.
        let listed = (moving >= self.young_from).then_some(&young[..]);
        let queue = &self.queue;
        // Each kind's rewriting function, compiled with `popcnt` where the
        // CPU has it.
        let fast = self.fast;
        let fix_of = |kind: &GcKind| if fast { kind.fix_fast } else { kind.fix };
        // The held handles first, like the root's, whatever they reach
        // (a weak one gets its object's new address or the dead marker).
        self.held.visit(&mut fixer);
        // SAFETY: (all) the objects are live and unaliased (caller, 1.), the
        // prefix tables are computed, and `fix_fast` only runs where the
        // CPU has `popcnt` (`fast`).
        unsafe {
            (fix_of(root_kind))(root, &mut fixer);
            // In marking order, as the objects were traced: fetch a few
            // ahead here too.
            queue.for_each_ahead(listed, |p, kind, ahead| {
                if (*chunk_of(ahead, mask)).reach >= moving {
                    prefetch(current(ahead, mask));
                }
                if (*chunk_of(p, mask)).reach >= moving {
                    (fix_of(kind))(current(p, mask), &mut fixer);
                }
            });
            for entry in self.drops.get_mut().iter_mut() {
                entry.ptr = forward(entry.ptr, mask);
            }
        }

        // 6. Slide each normal chunk's live granules down.
        for &chunk in self.lists.get_mut().iter().flatten() {
            let chunk = chunk.as_ptr();
            // SAFETY: a live normal chunk whose prefix table was computed
            // from its unchanged bitmap.
            unsafe {
                let words = (*chunk).top.div_ceil(GRANULE).div_ceil(64);
                slide(
                    (*chunk).area,
                    bitmap(chunk),
                    (*chunk).prefix.as_ptr(),
                    words,
                );
                (*chunk).top = (*chunk).new_top;
            }
        }
        for (list, fresh) in self.lists.get_mut().iter_mut().zip(fresh) {
            list.extend(fresh);
        }
        scopeguard::ScopeGuard::into_inner(abort);

        // 7. Give the work list's memory back, and empty chunks; reset the
        // cursors. Unlist the weak held cells found dead.
        self.queue.reset();
        self.held.prune();
        let released = self.recycle(live_bytes);
        self.live_after = live_bytes;
        self.young_from = self.serials.get();
        self.since.set(0);
        self.collections += 1;

        // 8. Drop the map entries the rewriting took out (keys that died,
        // values left holding only dead weak handles), now that every
        // handle is rewritten: a destructor's panic propagates from here,
        // once the others ran, and the heap is consistent.
        ephemeron::drop_graveyard(core::mem::take(&mut fixer.ephemerons.graveyard));
        CollectStats {
            live_objects: objects,
            live_bytes,
            freed_bytes: used - live_bytes,
            dropped,
            chunks_evacuated: evacuated,
            chunks_released: released,
        }
    }

    /// Copies the live objects of `sparse` (normal chunks of class `class`)
    /// into fresh chunks, a run of adjacent live granules at a time (so no
    /// object is split), and writes the address of each granule's copy
    /// into the granule; marks the chunks evacuated and empty. Returns the
    /// fresh chunks, filled.
    ///
    /// A run that does not fit in the fresh chunk being filled goes to the
    /// next one whole, unless its chunk records where its objects start
    /// ([`HeapChunk::starts`]): then as many of its first objects as fit
    /// fill the room, and the rest goes on.
    ///
    /// # Safety
    ///
    /// The chunks are marked and their new tops computed; no reference to
    /// their objects is live; nothing reads their old contents afterwards
    /// except through [`forward`] and [`current`]. A chunk's `starts`, if
    /// not null, has a bit set at the first granule of each of its live
    /// objects.
    unsafe fn evacuate(
        &self,
        class: usize,
        sparse: &[NonNull<HeapChunk>],
    ) -> Vec<NonNull<HeapChunk>> {
        let mut fresh: Vec<NonNull<HeapChunk>> = Vec::new();
        // The fresh chunk being filled: its area, capacity and fill.
        let mut dest: Option<(NonNull<u8>, usize, usize)> = None;
        for &chunk in sparse {
            let chunk = chunk.as_ptr();
            // SAFETY: a live normal chunk (caller).
            let (area, words, bitmap) = unsafe {
                (
                    (*chunk).area,
                    (*chunk).top.div_ceil(GRANULE).div_ceil(64),
                    bitmap(chunk),
                )
            };
            // SAFETY: a live normal chunk (caller).
            let starts = unsafe { (*chunk).starts };
            let mut copy_run = |mut start: usize, mut len: usize| {
                while len > 0 {
                    // How much of the run goes into the chunk being filled:
                    // all of it, or (knowing where objects start) its
                    // objects up to the last start within the room.
                    let room =
                        dest.map_or(0, |(_, capacity, filled)| (capacity - filled) / GRANULE);
                    let take = if len <= room {
                        len
                    } else if starts.is_null() || room == 0 {
                        0
                    } else {
                        // SAFETY: bits `start + 1..=start + room` lie inside
                        // the run, so inside the chunk's `starts` (caller).
                        unsafe { last_set(starts, start + 1, start + room) }
                            .map_or(0, |b| b - start)
                    };
                    if take == 0 {
                        if let (Some((_, _, filled)), Some(&last)) = (dest, fresh.last()) {
                            // SAFETY: the previous fresh chunk, filled so far.
                            unsafe { (*last.as_ptr()).top = filled };
                        }
                        let chunk = self.take_chunk(class);
                        fresh.push(chunk);
                        // SAFETY: a fresh chunk of this class.
                        let (to, capacity) =
                            unsafe { ((*chunk.as_ptr()).area, (*chunk.as_ptr()).capacity) };
                        // A run lies in one chunk of this class, so it fits
                        // in an empty one.
                        debug_assert!(len * GRANULE <= capacity);
                        dest = Some((to, capacity, 0));
                        continue;
                    }
                    let Some((to, capacity, filled)) = dest else {
                        unreachable!("`take` is 0 without a chunk being filled")
                    };
                    debug_assert!(take * GRANULE <= capacity - filled);
                    // SAFETY: 1. `take` live granules from `start` in the
                    // source area, whole objects (the run's end, or the
                    // start of an object at `start + take`), and `take`
                    // free granules at `filled` in the fresh one (a
                    // different chunk); copied as `MaybeUninit` granules so
                    // padding and provenance are preserved; 2. each source
                    // granule then holds the address of its copy (a
                    // pointer, so `forward` reads it back with the fresh
                    // chunk's provenance); the source is never read as an
                    // object again.
                    unsafe {
                        type G = MaybeUninit<u64>;
                        let src = area.cast::<G>().as_ptr().add(start);
                        let dst = to.cast::<G>().as_ptr().add(filled / GRANULE);
                        core::ptr::copy_nonoverlapping(src, dst, take);
                        for i in 0..take {
                            src.add(i).cast::<*mut G>().write(dst.add(i));
                        }
                    }
                    dest = Some((to, capacity, filled + take * GRANULE));
                    start += take;
                    len -= take;
                }
            };
            let mut run: Option<(usize, usize)> = None;
            for w in 0..words {
                // SAFETY: `w` is a used word of the bitmap.
                let mut live = unsafe { *bitmap.add(w) };
                while live != 0 {
                    let b = live.trailing_zeros() as usize;
                    let len = (!(live >> b)).trailing_zeros() as usize;
                    let start = w * 64 + b;
                    run = match run {
                        Some((s, l)) if s + l == start => Some((s, l + len)),
                        Some((s, l)) => {
                            copy_run(s, l);
                            Some((start, len))
                        }
                        None => Some((start, len)),
                    };
                    live &= if b + len >= 64 { 0 } else { !0 << (b + len) };
                }
            }
            if let Some((s, l)) = run {
                copy_run(s, l);
            }
            // SAFETY: a live normal chunk; it keeps its bitmap (for nothing)
            // and is empty once the collection ends.
            unsafe {
                (*chunk).state = EVACUATED;
                (*chunk).top = 0;
                (*chunk).new_top = 0;
            }
        }
        if let (Some((_, _, filled)), Some(&last)) = (dest, fresh.last()) {
            // SAFETY: the last fresh chunk, filled so far.
            unsafe { (*last.as_ptr()).top = filled };
        }
        fresh
    }

    /// After a compaction: moves empty normal chunks to the spare list
    /// (keeping as much spare room as the last cycle allocated, up to the
    /// pacing budget, and freeing the rest), frees dead large
    /// chunks, and resets every cursor to its class's first chunk. Returns
    /// the chunks freed.
    fn recycle(&mut self, live_bytes: usize) -> usize {
        // Room for what the next cycle allocates: as much as this one did,
        // up to the pacing budget (so a steady program neither frees nor
        // allocates chunks every cycle).
        let keep_bytes = self.since.get().min(self.budget(live_bytes));
        let mut released = 0;
        let spare = self.spare.get_mut();
        for list in self.lists.get_mut().iter_mut() {
            list.retain(|&chunk| {
                // SAFETY: a live normal chunk.
                let empty = unsafe { (*chunk.as_ptr()).top == 0 };
                if empty {
                    spare.push(chunk);
                }
                !empty
            });
        }
        self.large.get_mut().retain(|&chunk| {
            // SAFETY: a live large chunk; an unmarked one is dead (its
            // destructor, if any, ran in the sweep) and freed once here.
            unsafe {
                if (*chunk.as_ptr()).marked {
                    true
                } else {
                    free_chunk(chunk);
                    released += 1;
                    false
                }
            }
        });
        let keep = keep_bytes.div_ceil(self.chunk_size);
        while spare.len() > keep {
            let chunk = spare.pop().expect("longer than `keep`");
            // SAFETY: an empty spare chunk, in no list any more.
            unsafe { free_chunk(chunk) };
            released += 1;
        }
        for (class, list) in self.lists.get_mut().iter().enumerate() {
            let cursor = &self.cursors[class];
            match list.first() {
                Some(&chunk) => {
                    // SAFETY: a live normal chunk; `top <= capacity`.
                    unsafe {
                        let c = chunk.as_ptr();
                        cursor.ptr.set((*c).area.as_ptr().add((*c).top));
                        cursor.end.set((*c).area.as_ptr().add((*c).capacity));
                    }
                    cursor.index.set(0);
                }
                None => {
                    cursor.ptr.set(core::ptr::null_mut());
                    cursor.end.set(core::ptr::null_mut());
                }
            }
        }
        released
    }

    /// Frees every spare chunk; returns how many.
    pub(crate) fn release_spare(&mut self) -> usize {
        let spare = self.spare.get_mut();
        let n = spare.len();
        for chunk in spare.drain(..) {
            // SAFETY: an empty spare chunk, in no other list.
            unsafe { free_chunk(chunk) };
        }
        self.queue = WorkQueue::new();
        // The destructor list keeps its peak length's room otherwise: a
        // million objects with destructors, once collected, would keep
        // 16 MB for the heap's life.
        self.drops.get_mut().shrink_to_fit();
        n
    }
}

/// Frees a chunk.
///
/// # Safety
///
/// `chunk` is a live chunk of a heap, in no list afterwards, whose objects
/// are dead or dropped.
unsafe fn free_chunk(chunk: NonNull<HeapChunk>) {
    // SAFETY: the chunk was allocated with the layout its header records.
    unsafe {
        let layout = (*chunk.as_ptr()).layout;
        deallocate(chunk.cast(), layout);
    }
}

/// Which chunks a collection copies out to fresh chunks (the others slide
/// their survivors together in place).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Packing {
    /// [`Heap::collect`](crate::heap::Heap::collect): the chunks under half
    /// live, in a class whose survivors would fit in fewer chunks than hold
    /// them now. Copies little; a chunk more than half live stays where it
    /// is.
    Sparse,
    /// [`Heap::compact`](crate::heap::Heap::compact): the least live
    /// chunks, as many as leave each class in the fewest chunks that hold
    /// its survivors (whatever their density).
    Dense,
}

/// The chunks of `list` (one class's) whose survivors a collection with
/// `packing` copies out, least live first for [`Packing::Dense`].
///
/// # Safety
///
/// Every chunk of `list` is a live normal chunk whose new top this
/// collection computed.
unsafe fn evacuees(list: &[NonNull<HeapChunk>], packing: Packing) -> Vec<NonNull<HeapChunk>> {
    // Survivors' bytes of each chunk holding any, and the class's capacity.
    let mut holding: Vec<(usize, NonNull<HeapChunk>)> = Vec::new();
    let mut capacity = 1;
    for &chunk in list {
        // SAFETY: a live normal chunk, its new top computed (caller).
        let (live, cap) = unsafe { ((*chunk.as_ptr()).new_top, (*chunk.as_ptr()).capacity) };
        if live > 0 {
            holding.push((live, chunk));
        }
        capacity = cap;
    }
    let live: usize = holding.iter().map(|&(l, _)| l).sum();
    if live.div_ceil(capacity) >= holding.len() {
        // Already in as few chunks as the survivors fit: nothing to gain.
        return Vec::new();
    }
    match packing {
        Packing::Sparse => holding
            .into_iter()
            .filter(|&(live, chunk)| {
                // SAFETY: as above.
                live * 2 < unsafe { (*chunk.as_ptr()).top }
            })
            .map(|(_, chunk)| chunk)
            .collect(),
        Packing::Dense => {
            // Copying the `k` least live chunks out leaves `n - k` chunks in
            // place and fills `ceil(copied / capacity)` fresh ones: take the
            // `k` that leaves the fewest (the smallest such `k`, which
            // copies least).
            holding.sort_unstable_by_key(|&(live, _)| live);
            let n = holding.len();
            let (mut best, mut best_k, mut copied) = (n, 0, 0);
            for (k, &(live, _)) in holding.iter().enumerate() {
                copied += live;
                let chunks = n - (k + 1) + copied.div_ceil(capacity);
                if chunks < best {
                    (best, best_k) = (chunks, k + 1);
                }
            }
            holding.truncate(best_k);
            holding.into_iter().map(|(_, chunk)| chunk).collect()
        }
    }
}

/// Runs the destructor of every unmarked object in `drops`, removing its
/// entry first (so a panicking destructor still counts as run, and no
/// object is dropped twice); keeps the marked ones in order. Returns the
/// destructors run. If one panics, the unswept entries are kept and the
/// panic propagates.
///
/// # Safety
///
/// The marks of this collection are complete, every entry is a live object
/// of the heap with `mask`, and no reference to any object is live.
unsafe fn sweep(drops: &mut Vec<DropEntry>, mask: usize) -> usize {
    /// Where a sweep is in the list: entries before `write` are kept,
    /// entries from `read` on are unswept.
    struct Sweep<'v> {
        drops: &'v mut Vec<DropEntry>,
        read: usize,
        write: usize,
        len: usize,
    }
    let len = drops.len();
    // Closes the gap left by the swept entries, also during a panic.
    let mut c = guard(
        Sweep {
            drops,
            read: 0,
            write: 0,
            len,
        },
        |c| {
            let rest = c.len - c.read;
            // SAFETY: entries `read..len` are initialized and unswept;
            // `write <= read`, so the copy stays in bounds; `DropEntry` is
            // `Copy`.
            unsafe {
                let p = c.drops.as_mut_ptr();
                core::ptr::copy(p.add(c.read), p.add(c.write), rest);
                c.drops.set_len(c.write + rest);
            }
        },
    );
    let mut dropped = 0;
    while c.read < c.len {
        // SAFETY: `read < len` entries are initialized.
        let entry = unsafe { *c.drops.as_ptr().add(c.read) };
        c.read += 1;
        // SAFETY: a live object of this heap (caller).
        if unsafe { is_marked(entry.ptr, mask) } {
            // SAFETY: `write < read <= len`.
            unsafe { *c.drops.as_mut_ptr().add(c.write) = entry };
            c.write += 1;
        } else {
            dropped += 1;
            // SAFETY: an unreachable object (unmarked: no handle in the
            // root's graph points to it, and none exists elsewhere), live,
            // dropped once (its entry is gone already).
            unsafe { (entry.drop)(entry.ptr) };
        }
    }
    dropped
}

/// Writes the prefix table of `words` bitmap words; returns the live
/// granules.
///
/// # Safety
///
/// `bitmap` has `words` readable words and `prefix` `words + 1` writable
/// entries; `fast` only where the CPU has `popcnt`.
#[inline(always)]
unsafe fn prefix_pass(bitmap: *const u64, prefix: *mut u32, words: usize, fast: bool) -> usize {
    /// The pass itself.
    ///
    /// # Safety
    ///
    /// As [`prefix_pass`].
    #[inline(always)]
    unsafe fn pass(bitmap: *const u64, prefix: *mut u32, words: usize) -> usize {
        let mut pos = 0usize;
        for w in 0..words {
            // SAFETY: `w < words` (caller).
            unsafe {
                *prefix.add(w) = pos as u32;
                pos += (*bitmap.add(w)).count_ones() as usize;
            }
        }
        // SAFETY: entry `words` exists (caller).
        unsafe { *prefix.add(words) = pos as u32 };
        pos
    }
    /// [`pass`] with `popcnt`.
    ///
    /// # Safety
    ///
    /// As [`prefix_pass`], and the CPU has `popcnt`.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt")]
    unsafe fn pass_popcnt(bitmap: *const u64, prefix: *mut u32, words: usize) -> usize {
        // SAFETY: forwarded.
        unsafe { pass(bitmap, prefix, words) }
    }
    #[cfg(target_arch = "x86_64")]
    if fast {
        // SAFETY: forwarded; `fast` says the CPU has `popcnt`.
        return unsafe { pass_popcnt(bitmap, prefix, words) };
    }
    let _ = fast;
    // SAFETY: forwarded.
    unsafe { pass(bitmap, prefix, words) }
}

/// Moves every live granule of a chunk to its new place, in ascending
/// order, a run of adjacent live granules at a time.
///
/// # Safety
///
/// `area` is a chunk's area with `words` used bitmap words at `bitmap` and
/// their prefix table at `prefix`, computed from the same bitmap; nothing
/// else accesses the area.
unsafe fn slide(area: NonNull<u8>, bitmap: *const u64, prefix: *const u32, words: usize) {
    type G = MaybeUninit<u64>;
    let area = area.cast::<G>().as_ptr();
    // The words before the first one with a dead granule stay where they
    // are: start there (a chunk that lost nothing is not read at all).
    // SAFETY: `w < words`.
    let Some(first) = (0..words).find(|&w| unsafe { *bitmap.add(w) } != !0) else {
        return;
    };
    for w in first..words {
        // SAFETY: `w < words`.
        let (mut live, e) = unsafe { (*bitmap.add(w), *prefix.add(w) as usize) };
        #[cfg(all(target_arch = "x86_64", not(miri)))]
        if w + 2 < words {
            // A hint only: the granules of the word after next (512 bytes,
            // eight lines), which the slide reads in two words' time.
            for line in 0..8 {
                // SAFETY: a hint only (any address may be prefetched;
                // `wrapping_add` computes it without an in-bounds claim).
                unsafe {
                    core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
                        area.wrapping_add((w + 2) * 64 + line * 8).cast(),
                    );
                }
            }
        }
        if live == 0 {
            continue;
        }
        let src = w * 64;
        let mut dst = e;
        if live == !0 {
            if dst != src {
                // SAFETY: 64 live granules from `src` in the area; `dst <
                // src`; `copy` allows the overlap.
                unsafe { core::ptr::copy(area.add(src), area.add(dst), 64) };
            }
            continue;
        }
        // One granule at a time: a `tzcnt`, a load, a store and a `blsr`
        // each, with no branch on the run lengths.
        while live != 0 {
            let b = live.trailing_zeros() as usize;
            // SAFETY: granule `src + b` is live and in the area; its
            // destination `dst <= src + b` is below it and after every
            // granule copied so far, so nothing still to be read is
            // overwritten; copied as `MaybeUninit` so padding and pointer
            // provenance are preserved.
            unsafe { area.add(dst).write(area.add(src + b).read()) };
            dst += 1;
            live &= live - 1;
        }
    }
}

/// A marked object that holds handles, and its kind.
type Work = (NonNull<u8>, &'static GcKind);

/// The collector's work list: the marked objects that hold handles, in
/// marking order, in segments of [`WorkQueue::SEGMENT`] entries, so that
/// growing never copies; its memory is given back after each collection.
struct WorkQueue {
    /// Full segments, then the one being filled.
    segments: Vec<Vec<Work>>,
}

impl WorkQueue {
    /// Entries per segment (64 KiB).
    const SEGMENT: usize = 4096;

    /// An empty list.
    const fn new() -> Self {
        WorkQueue {
            segments: Vec::new(),
        }
    }

    /// Appends an entry.
    #[inline(always)]
    fn push(&mut self, work: Work) {
        match self.segments.last_mut() {
            Some(last) if last.len() < Self::SEGMENT => last.push(work),
            _ => self.grow(work),
        }
    }

    /// [`push`](Self::push) into a new segment.
    #[cold]
    fn grow(&mut self, work: Work) {
        let mut segment = Vec::with_capacity(Self::SEGMENT);
        segment.push(work);
        self.segments.push(segment);
    }

    /// Entry `i`, if pushed.
    #[inline(always)]
    fn get(&self, i: usize) -> Option<Work> {
        self.segments
            .get(i / Self::SEGMENT)?
            .get(i % Self::SEGMENT)
            .copied()
    }

    /// Calls `f(p, kind, ahead)` for every entry in order (or only for
    /// the entries at the indices `listed`, in their order), with `ahead`
    /// the object [`PREFETCH_AHEAD`] entries later (or `p` itself near the
    /// end), so that `f` can ask for it early.
    #[inline(always)]
    fn for_each_ahead(
        &self,
        listed: Option<&[usize]>,
        mut f: impl FnMut(NonNull<u8>, &'static GcKind, NonNull<u8>),
    ) {
        match listed {
            None => {
                let mut i = 0;
                while let Some((p, kind)) = self.get(i) {
                    let ahead = self.get(i + PREFETCH_AHEAD).map_or(p, |(ahead, _)| ahead);
                    f(p, kind, ahead);
                    i += 1;
                }
            }
            Some(listed) => {
                for (n, &i) in listed.iter().enumerate() {
                    let ahead = listed.get(n + PREFETCH_AHEAD).and_then(|&a| self.get(a));
                    if let Some((p, kind)) = self.get(i) {
                        f(p, kind, ahead.map_or(p, |(ahead, _)| ahead));
                    }
                }
            }
        }
    }

    /// Empties the list and gives its memory back.
    fn reset(&mut self) {
        self.segments = Vec::new();
    }

    /// Bytes held.
    fn bytes(&self) -> usize {
        self.segments.len() * Self::SEGMENT * size_of::<Work>()
    }
}

/// The marking visitor: marks each object a handle points at, and queues
/// the newly marked ones that hold handles.
pub(crate) struct Marker {
    /// The heap's chunk mask.
    mask: usize,
    /// Marked objects that hold handles, in marking order.
    queue: WorkQueue,
    /// Objects marked.
    objects: usize,
    /// The highest serial of a chunk that a handle of the object being
    /// traced points into (0 before its first handle).
    reach: u64,
    /// [`RawHeap::young_from`].
    young_from: u64,
    /// Indices in `queue` of the traced objects whose `reach` is at least
    /// `young_from`.
    young: Vec<usize>,
    /// Whether a weak handle to a live object was visited.
    weak: bool,
    /// The values of weakly keyed entries whose keys wait for objects to
    /// be marked.
    ephemerons: Ephemerons,
}

impl Marker {
    /// Notes what the handles just traced for the queue's object `i` (at
    /// `p`) reach: on its chunk's header, and in the list of objects that
    /// reach chunks taken since the last collection.
    ///
    /// # Safety
    ///
    /// `p` is the object of the queue's entry `i`, of a live chunk.
    #[inline(always)]
    unsafe fn note_reach(&mut self, i: usize, p: NonNull<u8>) {
        // SAFETY: `p` is an object of a live chunk, whose header starts at
        // the masked address (caller).
        unsafe {
            let chunk = chunk_of(p, self.mask);
            if self.reach > (*chunk).reach {
                (*chunk).reach = self.reach;
            }
        }
        if self.reach >= self.young_from {
            self.young.push(i);
        }
    }

    /// Records that a handle of the object being traced points into
    /// `chunk` (see [`Marker::reach`]).
    ///
    /// # Safety
    ///
    /// `chunk` is the header of a live chunk of this heap.
    #[inline(always)]
    unsafe fn record_reach(&mut self, chunk: *mut HeapChunk) {
        // SAFETY: a live chunk header (caller).
        let serial = unsafe { (*chunk).serial };
        if serial > self.reach {
            self.reach = serial;
        }
    }
}

// SAFETY: observes only: marks the target object and never writes
// `target`; keeps the object's address (not the place) in its queue.
unsafe impl Visitor for Marker {
    #[inline]
    fn ephemerons(&mut self) -> Option<&mut Ephemerons> {
        Some(&mut self.ephemerons)
    }

    #[inline]
    fn writes(&self) -> bool {
        false
    }

    /// A region reference: not a heap object.
    #[inline]
    fn visit(&mut self, _target: &mut NonNull<u8>) {}

    #[inline(always)]
    fn visit_gc(&mut self, target: &mut NonNull<u8>, kind: &'static GcKind) {
        let p = *target;
        let chunk = chunk_of(p, self.mask);
        // SAFETY: every handle reachable from the root points to the start
        // of a live object of this heap (the collection's contract), whose
        // chunk header starts at the masked address; its granules are
        // inside the chunk's bitmap.
        unsafe {
            // Recorded before anything else: a handle to an object marked
            // already counts as much as one to a new object.
            self.record_reach(chunk);
            if (*chunk).state == LARGE {
                if (*chunk).marked {
                    return;
                }
                (*chunk).marked = true;
            } else {
                let g = (p.addr().get() - (*chunk).area.addr().get()) / GRANULE;
                let bitmap = bitmap(chunk);
                let word = bitmap.add(g / 64);
                let b = g % 64;
                if *word & (1 << b) != 0 {
                    return;
                }
                if b + kind.granules <= 64 {
                    *word |= (u64::MAX >> (64 - kind.granules)) << b;
                } else {
                    set_bits(bitmap, g, kind.granules);
                }
            }
        }
        self.objects += 1;
        if kind.has_refs {
            self.queue.push((p, kind));
        }
    }

    /// A weak handle: does not mark its object, but records its chunk in
    /// `reach` as a handle does, so that the rewriting phase visits the
    /// handle's holder whenever the object moves or dies.
    #[inline]
    fn visit_weak(&mut self, target: &mut NonNull<u8>) {
        let p = *target;
        if p == dead() {
            return;
        }
        let chunk = chunk_of(p, self.mask);
        // SAFETY: a weak handle reachable from the root that is not dead
        // points to the start of a live object of this heap (invariant on
        // `GcWeak::ptr`; a weak held cell's address too, by the one on
        // `HeldCell::ptr`), whose chunk header starts at the masked address.
        unsafe { self.record_reach(chunk) };
        self.weak = true;
    }
}

/// The rewriting visitor: replaces each handle by its object's address
/// after this collection's compaction.
pub(crate) struct Fixer {
    /// The heap's chunk mask.
    mask: usize,
    /// Tells the maps which weakly keyed entries died (their values are
    /// not rewritten: the rebuild drops them).
    ephemerons: Ephemerons,
}

// SAFETY: 1. it is used only by the collection that moves the heap's
// objects by the same formula (`forward`), so the address it writes is
// where the same object lands, derived from the chunk's area pointer
// (provenance of the chunk); 2. it keeps no place.
unsafe impl Visitor for Fixer {
    #[inline]
    fn ephemerons(&mut self) -> Option<&mut Ephemerons> {
        Some(&mut self.ephemerons)
    }

    /// A region reference: not a heap object.
    #[inline]
    fn visit(&mut self, _target: &mut NonNull<u8>) {}

    #[inline(always)]
    fn visit_gc(&mut self, target: &mut NonNull<u8>, _kind: &'static GcKind) {
        // SAFETY: the handle is reachable from the root, so its object was
        // marked, and the prefix tables are computed (the collection's
        // order).
        let new = unsafe { forward(*target, self.mask) };
        // Most objects stay where they are: a line that is only read is
        // not written back to memory.
        if new != *target {
            *target = new;
        }
    }

    /// A weak handle: the object's new address if it was marked, else the
    /// dead marker.
    #[inline]
    fn visit_weak(&mut self, target: &mut NonNull<u8>) {
        let p = *target;
        if p == dead() {
            return;
        }
        // SAFETY: not dead, so the start of an object of a live chunk that
        // was live when the collection began (invariant on `GcWeak::ptr`,
        // and on `HeldCell::ptr` for a held cell);
        // the marks are complete and the prefix tables computed (the
        // collection's order), and a marked object is forwarded as a
        // handle's is.
        let new = unsafe {
            if is_marked(p, self.mask) {
                forward(p, self.mask)
            } else {
                dead()
            }
        };
        if new != p {
            *target = new;
        }
    }
}

/// The visitor of the passes that follow marking without moving anything:
/// it makes weak handles to unmarked objects dead (step 3 of
/// `RawHeap::collect`), or records where each object a handle points at
/// starts (step 4b of a [`Packing::Dense`] collection), and leaves
/// everything else as it is. One visitor for both, so that each object
/// kind carries one function for them.
pub(crate) struct Forgetter {
    /// The heap's chunk mask.
    mask: usize,
    /// Whether this pass records starts (into each normal chunk's
    /// [`HeapChunk::starts`]) rather than forgetting weak handles.
    ///
    /// Invariant: when set, every normal chunk's `starts` is a bitmap this
    /// collection owns.
    record_starts: bool,
    /// Tells the maps which weakly keyed entries died (their values are
    /// not visited).
    ephemerons: Ephemerons,
}

// SAFETY: 1. it writes only the dead marker, into weak handles, and only
// for objects this collection found unreachable (whose memory nothing
// reads through them any more); 2. it keeps no place.
unsafe impl Visitor for Forgetter {
    #[inline]
    fn ephemerons(&mut self) -> Option<&mut Ephemerons> {
        Some(&mut self.ephemerons)
    }

    #[inline]
    fn visit(&mut self, _target: &mut NonNull<u8>) {}

    #[inline]
    fn visit_gc(&mut self, target: &mut NonNull<u8>, _kind: &'static GcKind) {
        if !self.record_starts {
            return;
        }
        let p = *target;
        let chunk = chunk_of(p, self.mask);
        // SAFETY: 1. a handle reachable from the root points to the start
        // of a live object of this heap, whose chunk header starts at the
        // masked address; 2. a normal chunk's `starts` is a bitmap of its
        // `words` words (the invariant on `record_starts`), which covers
        // the granule.
        unsafe {
            if (*chunk).state != LARGE {
                let g = (p.addr().get() - (*chunk).area.addr().get()) / GRANULE;
                *(*chunk).starts.add(g / 64) |= 1 << (g % 64);
            }
        }
    }

    #[inline]
    fn visit_weak(&mut self, target: &mut NonNull<u8>) {
        if self.record_starts {
            return;
        }
        let p = *target;
        // SAFETY: not dead, so the start of an object of a live chunk that
        // was live when the collection began (invariant on `GcWeak::ptr`,
        // and on `HeldCell::ptr` for a held cell);
        // the marks are complete.
        if p != dead() && !unsafe { is_marked(p, self.mask) } {
            *target = dead();
        }
    }
}

impl Drop for RawHeap {
    fn drop(&mut self) {
        // Frees every chunk, also if a destructor panics.
        let mut heap = guard(self, |heap| {
            let chunks = heap
                .lists
                .get_mut()
                .iter_mut()
                .flat_map(|list| list.drain(..))
                .chain(heap.large.get_mut().drain(..))
                .chain(heap.spare.get_mut().drain(..));
            for chunk in chunks {
                // SAFETY: every chunk of the heap, each freed once; its
                // objects were dropped (or are being abandoned by a second
                // panic, which aborts).
                unsafe { free_chunk(chunk) };
            }
        });
        // SAFETY: the heap is being dropped: no handle can be dereferenced
        // any more (they need a mutation of this heap), so every object is
        // dropped exactly once here.
        unsafe { drop_all(heap.drops.get_mut(), 0) };
    }
}

/// Drops the objects of `drops[from..]` in order, continuing with the next
/// ones if a destructor panics; empties the list.
///
/// # Safety
///
/// Every entry from `from` is a live object never used again.
unsafe fn drop_all(drops: &mut Vec<DropEntry>, from: usize) {
    // Drops the rest if a destructor panics (disarmed once all ran).
    let mut rest = guard((drops, from), |(drops, from)| {
        // SAFETY: forwarded from `drop_all`'s caller; the panicking entry
        // is before `from`.
        unsafe { drop_all(drops, from) };
    });
    while let Some(&entry) = rest.0.get(rest.1) {
        rest.1 += 1;
        // SAFETY: a live object, dropped once (the guard resumes after it).
        unsafe { (entry.drop)(entry.ptr) };
    }
    let (drops, _) = ScopeGuard::into_inner(rest);
    drops.clear();
}

// Memory maps (`crate::memory_map`).
impl RawHeap {
    /// Adds to `map` a block per chunk (normal chunks by alignment class,
    /// then large and spare ones: the chunk header, the mark bitmap and
    /// prefix table as metadata, padding up to the area, the objects below
    /// the top, the free room above it, the area's unused end as padding),
    /// then the destructor list and the collector's work queue.
    ///
    /// Between collections the heap does not know which objects are
    /// garbage (a trace decides that): every object below a chunk's top is
    /// drawn live, as `stats` counts it.
    pub(crate) fn map_into(&self, map: &mut crate::memory_map::MemoryMap) {
        use crate::memory_map::{Block, SpanKind, human};
        self.flush();
        // SAFETY: short shared accesses, as in `usage`: no reference into
        // the lists is live, and nothing mutates them meanwhile.
        let (lists, large, spare, drops) = unsafe {
            (
                &*self.lists.get(),
                &*self.large.get(),
                &*self.spare.get(),
                &*self.drops.get(),
            )
        };
        let classes = lists
            .iter()
            .enumerate()
            .flat_map(|(class, list)| list.iter().map(move |&c| (Some(class), c)));
        let others = large.iter().chain(spare).map(|&c| (None, c));
        for (class, chunk) in classes.chain(others) {
            let c = chunk.as_ptr();
            // SAFETY: a live chunk, whose header is initialized; fields are
            // read through the chunk's raw pointer, no reference is made.
            let (area, capacity, top, words, size, state) = unsafe {
                (
                    (*c).area.addr().get() - chunk.addr().get(),
                    (*c).capacity,
                    (*c).top,
                    (*c).words,
                    (*c).layout.size(),
                    (*c).state,
                )
            };
            let label = match (class, state) {
                (_, LARGE) => "large chunk".into(),
                (Some(class), _) => alloc::format!("{} chunk", human(GRANULE << class)),
                (None, _) => "spare chunk".into(),
            };
            let mut block = Block::new(label, chunk.addr().get());
            block.push(SpanKind::Header, size_of::<HeapChunk>());
            if state != LARGE {
                block
                    .push_to(SpanKind::Padding, BITMAP_OFFSET)
                    .push(SpanKind::Metadata, words * 8 + (words + 1) * 4);
            }
            block
                .push_to(SpanKind::Padding, area)
                .push(SpanKind::Live, top)
                .push_to(SpanKind::Free, area + capacity)
                .push_to(SpanKind::Padding, size);
            map.push(block);
        }
        let mut list = Block::new("destructor list", drops.as_ptr().addr());
        list.push(SpanKind::Metadata, drops.len() * size_of::<DropEntry>())
            .push_to(SpanKind::Free, drops.capacity() * size_of::<DropEntry>());
        map.push(list);
        map.push_uniform("work queue", 0, SpanKind::Free, self.queue.bytes());
        let (held, held_bytes) = (self.held.len(), self.held.bytes());
        let mut table = Block::new("held handles", 0);
        table
            .push(SpanKind::Metadata, held * size_of::<usize>())
            .push_to(SpanKind::Free, held_bytes);
        map.push(table);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computes the prefix table of `bitmap` over `area` (64 granules per
    /// word) and slides the live granules down; returns the live count.
    fn prefix_and_slide(area: &mut [u64], bitmap: &[u64]) -> usize {
        assert!(area.len() >= bitmap.len() * 64);
        let mut prefix = vec![0u32; bitmap.len() + 1];
        // SAFETY: `bitmap.len()` words, one more prefix entry, and the area
        // holds every granule the bitmap covers.
        unsafe {
            let live = prefix_pass(bitmap.as_ptr(), prefix.as_mut_ptr(), bitmap.len(), false);
            slide(
                NonNull::from(area).cast(),
                bitmap.as_ptr(),
                prefix.as_ptr(),
                bitmap.len(),
            );
            live
        }
    }

    #[test]
    fn set_bits_and_prefix_pass_agree() {
        let mut words = [0u64; 3];
        let p = words.as_mut_ptr();
        // SAFETY: bits 60..140 lie in the three words.
        unsafe { set_bits(p, 60, 80) };
        assert_eq!(words, [0xf << 60, !0, (1 << 12) - 1]);
        let mut prefix = [0u32; 4];
        // SAFETY: three words, four entries.
        let live = unsafe { prefix_pass(words.as_ptr(), prefix.as_mut_ptr(), 3, has_popcnt()) };
        assert_eq!(live, 80);
        assert_eq!(prefix, [0, 4, 68, 80]);
    }

    #[test]
    fn slide_moves_runs_down_in_order() {
        let mut area = [0u64; 128];
        for (i, g) in area.iter_mut().enumerate() {
            *g = i as u64;
        }
        // Live: granules 3..6, 10, 63..66 (across the word boundary), 127.
        let mut bitmap = [0u64; 2];
        // SAFETY: in bounds.
        unsafe {
            set_bits(bitmap.as_mut_ptr(), 3, 3);
            set_bits(bitmap.as_mut_ptr(), 10, 1);
            set_bits(bitmap.as_mut_ptr(), 63, 3);
            set_bits(bitmap.as_mut_ptr(), 127, 1);
        }
        assert_eq!(prefix_and_slide(&mut area, &bitmap), 8);
        assert_eq!(&area[..8], &[3, 4, 5, 10, 63, 64, 65, 127]);
    }

    #[test]
    fn slide_leaves_full_leading_words_and_moves_what_follows_a_hole() {
        let mut area = [0u64; 192];
        for (i, g) in area.iter_mut().enumerate() {
            *g = i as u64;
        }
        // Live: granules 0..64 (a full word, which stays), 64..100 and
        // 101..192 (one dead granule, 100, after which everything moves).
        let mut bitmap = [0u64; 3];
        // SAFETY: in bounds.
        unsafe {
            set_bits(bitmap.as_mut_ptr(), 0, 100);
            set_bits(bitmap.as_mut_ptr(), 101, 91);
        }
        assert_eq!(prefix_and_slide(&mut area, &bitmap), 191);
        let expected: Vec<u64> = (0..100).chain(101..192).collect();
        assert_eq!(&area[..191], &expected[..]);

        // A fully live area stays as it is.
        let mut full = [7u64; 128];
        full[127] = 9;
        assert_eq!(prefix_and_slide(&mut full, &[!0u64; 2]), 128);
        assert_eq!(full[126..], [7, 9]);
    }
}
