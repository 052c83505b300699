//! The object storage of a [`ContiguousUniformPool`]: objects at positions
//! `0..len`, densely, in one buffer, and a back-pointer (the object's key,
//! naming its slot) per position.
//!
//! ```text
//! buffer (one allocation, aligned to a cache line at least):
//! [ object 0 | object 1 | ... | object len-1 | free ... ]
//!  ^ base                                     ^ base + len * stride
//! ```
//!
//! Position `p` lives at `base + p * stride` (a multiply by a compile-time
//! constant): a key resolves to its object with the slot as the only
//! dependent load, as a `DenseSlotMap`'s does. Slots hold positions, so
//! nothing needs an object's position from its address.
//!
//! The buffer moves when it grows or shrinks, like a `Vec`'s. That is
//! sound because it only ever changes while the pool is unborrowed: pushes
//! panic while the pool is borrowed, and shrinking happens in removals,
//! which run unborrowed or inside the walk that holds the exclusive borrow
//! and keeps positions, not addresses. Every address handed out lives
//! within a borrow.
//!
//! Why one buffer: a walk over the objects is one unbroken stream of
//! memory, which the hardware prefetcher follows from start to end (gaps
//! in the stream made walks 3-4x slower when objects lived on separately
//! allocated pages); and a lookup needs no page table, whose load sat
//! between the slot's cache miss and the object's.
//!
//! Not generic over the object type (the geometry is passed in, a constant
//! at every call site), so this code is compiled once.
//!
//! [`ContiguousUniformPool`]: crate::contiguous::ContiguousUniformPool

use alloc::alloc::{handle_alloc_error, realloc};
use alloc::vec::Vec;
use core::alloc::Layout;
use core::cell::Cell;
use core::ptr::NonNull;

use slotmap::KeyData;

use crate::page::raw::{allocate, deallocate};

/// The buffer is aligned to at least a cache line, so an object whose
/// stride divides 64 never straddles two lines.
const CACHE_LINE: usize = 64;
/// A growing pool's first buffer takes about this many bytes...
const MIN_BYTES: usize = 16 << 10;
/// ...and holds at least this many objects.
const MIN_OBJECTS: usize = 4;

/// Where objects sit in the buffer, for one object layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ObjectGeometry {
    /// Distance between objects: the size, or the alignment for a
    /// zero-sized type (so that every position has its own address).
    pub(crate) stride: usize,
    /// The buffer's alignment: the object's, at least [`CACHE_LINE`]; a
    /// power of two.
    pub(crate) align: usize,
    /// Objects in a growing pool's first buffer: about [`MIN_BYTES`],
    /// at least [`MIN_OBJECTS`].
    pub(crate) first_capacity: usize,
}

impl ObjectGeometry {
    /// The geometry for objects of `layout`.
    pub(crate) const fn of(layout: Layout) -> Self {
        let stride = if layout.size() == 0 {
            layout.align()
        } else {
            layout.size()
        };
        let align = if layout.align() > CACHE_LINE {
            layout.align()
        } else {
            CACHE_LINE
        };
        let fit = MIN_BYTES / stride;
        Self {
            stride,
            align,
            first_capacity: if fit > MIN_OBJECTS { fit } else { MIN_OBJECTS },
        }
    }

    /// The base of a storage with no buffer: no address of an allocation,
    /// but aligned for the objects, as an empty slice of them must be.
    const fn dangling(self) -> NonNull<u8> {
        // SAFETY: the alignment is a power of two, so not zero.
        unsafe { NonNull::new_unchecked(core::ptr::without_provenance_mut(self.align)) }
    }

    /// The layout of a buffer of `capacity` objects.
    ///
    /// # Panics
    ///
    /// When the buffer would exceed `isize::MAX` bytes.
    fn layout(self, capacity: usize) -> Layout {
        capacity
            .checked_mul(self.stride)
            .and_then(|size| Layout::from_size_align(size, self.align).ok())
            .expect("ContiguousUniformPool: capacity overflow")
    }
}

/// The object buffer and back-pointers of a pool.
pub(crate) struct ObjectStorage {
    /// The geometry this storage was made for (the pool's `T`'s): the
    /// cold paths read it here, the hot ones take the constant.
    geometry: ObjectGeometry,
    /// The object buffer: position `p` at `base + p * stride`.
    ///
    /// Invariant: while `capacity > 0`, allocated from the global allocator
    /// with `geometry.layout(capacity)`; `geometry.dangling()` while it is
    /// 0 (only ever the base of an empty slice).
    base: NonNull<u8>,
    /// Objects the buffer holds: a push below it allocates nothing, so one
    /// comparison decides a push's fast path.
    ///
    /// Invariant: `back.capacity() >= capacity` (the back-pointers have
    /// room for every object the buffer does): [`set_capacity`] reserves
    /// them before it changes the buffer and never shrinks them below it,
    /// and nothing else changes either capacity.
    ///
    /// [`set_capacity`]: Self::set_capacity
    capacity: usize,
    /// The capacity asked for by [`reserve`](Self::reserve), which
    /// [`release_idle`](Self::release_idle) never shrinks below.
    floor: usize,
    /// While the length is below this, the buffer is four times larger than
    /// needed and [`release_idle`](Self::release_idle) halves it.
    ///
    /// Invariant: `capacity / 4`, or 0 when halving would take the
    /// capacity below `floor` or the first buffer's size; recomputed by
    /// [`set_limits`](Self::set_limits) with every capacity change.
    idle_below: usize,
    /// The key of the object at each position (its back-pointer: the key
    /// names the object's slot in the table). Its length is the number of
    /// objects stored.
    ///
    /// Invariant (kept by the typed pool): positions `0..back.len()` hold
    /// initialized objects; the places past it hold nothing.
    back: Vec<KeyData>,
    /// The positions' epoch: a proxy that found its object at position `p`
    /// in this epoch finds it there still, without the key table.
    ///
    /// Invariant: between two operations of the pool, it has changed
    /// whenever the length decreased ([`truncate`](Self::truncate)), a
    /// position was given another object ([`set_back`](Self::set_back),
    /// whose caller truncates in the same operation, and that change
    /// covers both) or an object's removal began
    /// ([`invalidate`](Self::invalidate)); pushing does not change it (no
    /// stored object moves). It stops at [`SPENT_EPOCH`], which no proxy
    /// records, instead of wrapping. While it is unchanged, a position
    /// found below the length in it stays below the length and holds the
    /// same object, still live.
    epoch: u32,
    /// Accesses in the current epoch that found their object through its
    /// back-pointer instead of a current record (see [`settled`]); reset
    /// when the epoch changes. Affects speed only.
    ///
    /// [`settled`]: Self::settled
    uses_in_epoch: Cell<u32>,
}

/// The epoch a storage keeps once four billion changes have used up the
/// others: a proxy never records it, so from then on every proxy finds its
/// object through the key table.
pub(crate) const SPENT_EPOCH: u32 = u32::MAX;

impl ObjectStorage {
    /// No buffer yet; it will hold objects of `geometry`.
    pub(crate) const fn new(geometry: ObjectGeometry) -> Self {
        Self {
            geometry,
            base: geometry.dangling(),
            capacity: 0,
            floor: 0,
            idle_below: 0,
            back: Vec::new(),
            epoch: 0,
            uses_in_epoch: Cell::new(0),
        }
    }

    /// Objects stored.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.back.len()
    }

    /// Sets the number of objects stored, no more than now (the
    /// back-pointers of the positions given up are dropped too).
    ///
    /// # Safety
    ///
    /// Positions `0..len` must hold initialized objects; objects past `len`
    /// are forgotten, not dropped.
    #[inline(always)]
    pub(crate) unsafe fn truncate(&mut self, len: usize) {
        // The caller's contract, redundant at every call site: `take_at`
        // passes `len - 1`, the pool's `truncate` returns early unless
        // `from < len`, and `Remaining::take_all` passes 0.
        debug_assert!(len <= self.len());
        self.invalidate();
        self.back.truncate(len);
    }

    /// Objects the buffer holds.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The address of position `pos`.
    ///
    /// # Safety
    ///
    /// `pos` must be below the capacity.
    #[inline(always)]
    pub(crate) unsafe fn slot(&self, geometry: ObjectGeometry, pos: usize) -> NonNull<u8> {
        // The caller's contract, redundant at every call site: positions
        // come from below the length (at most the capacity), or are the
        // length itself right after `reserve_one` made room.
        debug_assert!(pos < self.capacity);
        // SAFETY: `pos` is below the capacity (caller contract), so the
        // place lies inside the buffer.
        unsafe { self.base.add(pos * geometry.stride) }
    }

    /// The places of the stored objects, positions `0..len`, as one slice
    /// of `T`s (the pool's object type; what the pointer may be used for
    /// is the caller's to decide).
    #[inline(always)]
    pub(crate) fn objects<T>(&self) -> NonNull<[T]> {
        NonNull::slice_from_raw_parts(self.base.cast::<T>(), self.len())
    }

    /// The key of the object at position `pos`.
    ///
    /// # Safety
    ///
    /// `pos` must be below the length.
    #[inline(always)]
    pub(crate) unsafe fn back(&self, pos: usize) -> KeyData {
        // The caller's contract, redundant at every call site: `retain`
        // compares with the length first, `take_at` is given a stored
        // position.
        debug_assert!(pos < self.back.len());
        // SAFETY: `pos` is below the length (caller contract).
        unsafe { *self.back.get_unchecked(pos) }
    }

    /// Gives position `pos` the key of the object the caller moved there
    /// from the last position, the first half of a swap-remove. The epoch
    /// is left to the second half: the caller truncates the storage to
    /// drop the last position before the operation ends, and that one
    /// epoch change covers both.
    ///
    /// # Safety
    ///
    /// `pos` must be below the length, and the caller must call
    /// [`truncate`](Self::truncate) before any proxy reads the epoch again
    /// (within the same `&mut` operation: no user code runs in between).
    #[inline(always)]
    pub(crate) unsafe fn set_back(&mut self, pos: usize, key: KeyData) {
        // The caller's contract, redundant at its one call site (`take_at`,
        // given a stored position, truncates right after).
        debug_assert!(pos < self.back.len());
        // SAFETY: `pos` is below the length (caller contract).
        unsafe { *self.back.get_unchecked_mut(pos) = key };
    }

    /// The current epoch of the positions (see the field).
    #[inline(always)]
    pub(crate) fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Begins a new epoch: positions found before it are no longer
    /// trusted. Called for every change that can make one wrong, and by the
    /// pool when an object's removal begins.
    #[inline(always)]
    pub(crate) fn invalidate(&mut self) {
        self.epoch = self.epoch.saturating_add(1);
        self.uses_in_epoch.set(0);
    }

    /// Counts one access that found its object through its back-pointer,
    /// and says whether the epoch has lasted long enough for proxies to
    /// record positions in it again: more such accesses than objects
    /// stored (a whole pass over the proxies, in a loop that visits them
    /// all).
    #[inline(always)]
    pub(crate) fn settled(&self) -> bool {
        let uses = self.uses_in_epoch.get().saturating_add(1);
        self.uses_in_epoch.set(uses);
        uses as usize > self.len()
    }

    /// Sets the epoch, for tests of what happens when it is spent.
    #[cfg(test)]
    pub(crate) fn set_epoch(&mut self, epoch: u32) {
        self.epoch = epoch;
    }

    /// The keys of the objects, in position order.
    #[inline(always)]
    pub(crate) fn keys(&self) -> &[KeyData] {
        &self.back
    }

    /// Makes room for one more object and returns the address of position
    /// `len`. Allocates (and may panic) only here; [`push`](Self::push)
    /// then cannot fail. May move the buffer: the pool must be unborrowed.
    #[inline(always)]
    pub(crate) fn reserve_one(&mut self, geometry: ObjectGeometry) -> NonNull<u8> {
        let len = self.back.len();
        if len >= self.capacity {
            self.grow();
        }
        // SAFETY: `len` is below the capacity now.
        unsafe { self.slot(geometry, len) }
    }

    /// Makes room for `additional` more objects, doubling the buffer as
    /// pushes would (so that several pushes in a row cannot fail). May
    /// move the buffer: the pool must be unborrowed.
    pub(crate) fn reserve_more(&mut self, additional: usize) {
        let needed = self
            .back
            .len()
            .checked_add(additional)
            .expect("ContiguousUniformPool: capacity overflow");
        while self.capacity < needed {
            self.grow();
        }
    }

    /// Counts the object just written at position `len`, whose key is
    /// `key`.
    ///
    /// # Safety
    ///
    /// [`reserve_one`](Self::reserve_one) was called since the last push,
    /// and the object at position `len` is initialized.
    #[inline(always)]
    pub(crate) unsafe fn push(&mut self, key: KeyData) {
        let len = self.back.len();
        // The caller's contract: `reserve_one` left `len` below the
        // capacity.
        debug_assert!(len < self.capacity);
        // SAFETY: 1. `len` is below the capacity (caller contract), so below
        // the back-pointers' capacity (invariant on `capacity`): the write
        // stays in their buffer, and nothing between writing the object
        // and counting it can fail; 2. the new length covers only
        // initialized keys.
        unsafe {
            self.back.as_mut_ptr().add(len).write(key);
            self.back.set_len(len + 1);
        }
    }

    /// Room for one more object and its back-pointer: the buffer doubles
    /// (the first one holds `first_capacity` objects), as a `Vec`'s does.
    ///
    /// Takes no geometry: a geometry argument would be passed through
    /// memory, and the fast paths would write it out on every push only
    /// for this rarely taken call.
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let capacity = self
            .capacity
            .checked_mul(2)
            .expect("ContiguousUniformPool: capacity overflow")
            .max(self.geometry.first_capacity);
        self.set_capacity(capacity);
    }

    /// Moves the objects into a buffer of `capacity` objects (none: frees
    /// the buffer), and gives the back-pointers the same capacity.
    ///
    /// Objects move: the pool must be unborrowed, or inside the walk that
    /// holds its exclusive borrow with no reference into the objects.
    fn set_capacity(&mut self, capacity: usize) {
        let len = self.len();
        // Redundant: every caller keeps the objects (`grow` doubles,
        // `release_idle` halves only below a quarter, `shrink_to_fit` and
        // `reserve` never go below the length).
        debug_assert!(capacity >= len);
        let g = self.geometry;
        let new = g.layout(capacity);
        // The back-pointers first, so a failure (a panic on capacity
        // overflow) leaves everything as it was.
        if capacity > self.back.capacity() {
            self.back.reserve_exact(capacity - len);
        }
        self.base = if capacity == self.capacity {
            self.base
        } else if self.capacity == 0 {
            // Nothing to keep; a non-zero size, or no buffer at all.
            if new.size() == 0 {
                g.dangling()
            } else {
                allocate(new)
            }
        } else {
            let old = g.layout(self.capacity);
            if new.size() == 0 {
                // SAFETY: allocated with `old` (field invariant); the
                // objects were moved out or never there (`len` is 0).
                unsafe { deallocate(self.base, old) };
                g.dangling()
            } else {
                // SAFETY: 1. allocated with `old` by the global allocator
                // (field invariant); 2. the new size is not zero and, by
                // `layout`, below `isize::MAX` rounded to the alignment;
                // 3. the first `len` objects are kept (`capacity >= len`)
                // and moved by plain copy, which is how Rust moves a `T`.
                let moved = unsafe { realloc(self.base.as_ptr(), old, new.size()) };
                NonNull::new(moved).unwrap_or_else(|| handle_alloc_error(new))
            }
        };
        self.capacity = capacity;
        if self.back.capacity() > capacity.max(len) {
            self.back.shrink_to(capacity);
        }
        self.set_limits();
    }

    /// Recomputes [`idle_below`](Self::idle_below) from the capacity and
    /// the floor.
    fn set_limits(&mut self) {
        let half = self.capacity / 2;
        self.idle_below = if half >= self.floor.max(self.geometry.first_capacity) {
            self.capacity / 4
        } else {
            0
        };
        // The invariant on `capacity`, redundant after every caller (cheap:
        // capacity changes are rare).
        debug_assert!(self.back.capacity() >= self.capacity);
    }

    /// Whether [`release_idle`](Self::release_idle) has work: fewer objects
    /// than a quarter of the capacity. One comparison, for the removal
    /// paths.
    #[inline(always)]
    pub(crate) fn has_idle(&self) -> bool {
        self.len() < self.idle_below
    }

    /// Halves the buffer while it holds fewer objects than a quarter of
    /// its capacity (never below the capacity `reserve` asked for, or the
    /// first buffer's): a pool that oscillates across a boundary does not
    /// reallocate each time, since after halving it is still half empty,
    /// and after doubling, half full.
    ///
    /// Moves the objects: the pool must be unborrowed, or inside the walk
    /// that holds its exclusive borrow with no reference into the objects.
    #[cold]
    #[inline(never)]
    pub(crate) fn release_idle(&mut self) {
        while self.has_idle() {
            self.set_capacity(self.capacity / 2);
        }
    }

    /// Grows the buffer (never shrinks it) until `capacity` objects fit,
    /// and keeps that much from then on (but for
    /// [`shrink_to_fit`](Self::shrink_to_fit)).
    pub(crate) fn reserve(&mut self, capacity: usize) {
        self.floor = self.floor.max(capacity);
        if capacity > self.capacity {
            self.set_capacity(capacity);
        } else {
            self.set_limits();
        }
    }

    /// An empty storage with this one's geometry, capacity and floor, for
    /// a copy that fills it at once: one allocation, no reallocation, and
    /// the same growing and halving from then on.
    pub(crate) fn empty_like(&self) -> Self {
        let mut copy = Self::new(self.geometry);
        copy.floor = self.floor;
        copy.set_capacity(self.capacity);
        copy
    }

    /// Shrinks the buffer and the back-pointers to the length.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.floor = 0;
        self.set_capacity(self.len());
    }

    /// Bytes of the buffer and the back-pointers.
    pub(crate) fn reserved_bytes(&self) -> usize {
        self.capacity * self.geometry.stride + self.back.capacity() * size_of::<KeyData>()
    }
}

impl Drop for ObjectStorage {
    /// Frees the buffer; the typed pool has dropped the objects (or leaks
    /// them, never reading them again).
    fn drop(&mut self) {
        let layout = self.geometry.layout(self.capacity);
        if layout.size() != 0 {
            // SAFETY: allocated with this layout (field invariant); nothing
            // reaches the buffer any more.
            unsafe { deallocate(self.base, layout) };
        }
    }
}

// Memory maps (`crate::memory_map`).
impl ObjectStorage {
    /// Adds to `map` the buffer (the objects, live below the length and
    /// free past it, `size` bytes of each stride live and the rest
    /// padding), then the back-pointers, as metadata up to their length and
    /// free past it.
    pub(crate) fn map_into(&self, size: usize, map: &mut crate::memory_map::MemoryMap) {
        use crate::memory_map::{Block, SpanKind};
        let stride = self.geometry.stride;
        if self.capacity * stride != 0 {
            let mut block = Block::new("objects", self.base.addr().get());
            for _ in 0..self.len() {
                block
                    .push(SpanKind::Live, size)
                    .push(SpanKind::Padding, stride - size);
            }
            block.push(SpanKind::Free, (self.capacity - self.len()) * stride);
            map.push(block);
        }
        let mut block = Block::new("back-pointers", self.back.as_ptr().addr());
        block
            .push(SpanKind::Metadata, self.back.len() * size_of::<KeyData>())
            .push_to(SpanKind::Free, self.back.capacity() * size_of::<KeyData>());
        map.push(block);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_aligns_the_buffer_to_a_cache_line_at_least() {
        for (size, align) in [
            (0, 1),
            (0, 64),
            (1, 1),
            (24, 8),
            (32, 8),
            (40, 8),
            (64, 64),
            (4096, 4096),
            (5000, 8),
        ] {
            let layout = Layout::from_size_align(size, align).unwrap();
            let g = ObjectGeometry::of(layout);
            assert!(g.align.is_power_of_two() && g.align >= CACHE_LINE && g.align >= align);
            assert_eq!(g.stride % align, 0);
            assert_eq!(g.stride, size.max(align), "{layout:?}: {g:?}");
            assert!(g.first_capacity >= MIN_OBJECTS);
            assert!(g.first_capacity == MIN_OBJECTS || g.first_capacity * g.stride <= MIN_BYTES);
        }
        // A 32-byte object: 512 in the first 16 KiB, each in one cache line.
        let g = ObjectGeometry::of(Layout::new::<[u64; 4]>());
        assert_eq!((g.stride, g.align, g.first_capacity), (32, 64, 512));
        // A 24-byte one: 682.
        let g = ObjectGeometry::of(Layout::new::<[u64; 3]>());
        assert_eq!(g.first_capacity, 682);
    }

    /// Pushes `n` objects' worth of positions (no objects: the storage
    /// never reads them) and returns their places.
    fn push_positions(storage: &mut ObjectStorage, g: ObjectGeometry, n: usize) -> Vec<usize> {
        let key = KeyData::from_ffi(7);
        (0..n)
            .map(|_| {
                let place = storage.reserve_one(g).addr().get();
                // SAFETY: `reserve_one` made room; the storage never reads
                // an object (the test writes none: it only counts
                // positions).
                unsafe { storage.push(key) };
                place - storage.base.addr().get()
            })
            .collect()
    }

    #[test]
    fn positions_map_to_aligned_places_a_stride_apart() {
        let g = ObjectGeometry::of(Layout::new::<[u64; 3]>());
        let mut storage = ObjectStorage::new(g);
        storage.reserve(2 * g.first_capacity + 5);
        assert_eq!(storage.capacity(), 2 * g.first_capacity + 5);
        assert_eq!(storage.base.addr().get() % CACHE_LINE, 0);
        let offsets = push_positions(&mut storage, g, 3 * g.first_capacity);
        // Growing doubled the buffer once; every position sits at its
        // stride from the (moved) base.
        assert_eq!(storage.capacity(), 2 * (2 * g.first_capacity + 5));
        assert_eq!(storage.base.addr().get() % CACHE_LINE, 0);
        for (pos, offset) in offsets.iter().enumerate() {
            assert_eq!(*offset, pos * g.stride);
            // SAFETY: positions below the capacity.
            let slot = unsafe { storage.slot(g, pos) };
            assert_eq!(
                slot.addr().get() - storage.base.addr().get(),
                pos * g.stride
            );
        }
        // SAFETY: the storage holds no object to forget.
        unsafe { storage.truncate(g.first_capacity + 1) };
        storage.shrink_to_fit();
        assert_eq!(storage.capacity(), g.first_capacity + 1);
        // SAFETY: as above.
        unsafe { storage.truncate(0) };
        storage.shrink_to_fit();
        assert_eq!(storage.capacity(), 0);
        assert_eq!(storage.reserved_bytes(), 0);
    }

    #[test]
    fn the_back_pointers_always_have_room_for_the_buffer() {
        let g = ObjectGeometry::of(Layout::new::<[u64; 4]>());
        let mut storage = ObjectStorage::new(g);
        assert_eq!(storage.capacity(), 0);
        for i in 0..2 * g.first_capacity + 3 {
            push_positions(&mut storage, g, 1);
            assert_eq!(storage.len(), i + 1);
            assert!(storage.back.capacity() >= storage.capacity());
            assert!(storage.len() <= storage.capacity());
        }
        // Doubling from the first buffer: 512, 1024, 2048.
        assert_eq!(storage.capacity(), 4 * g.first_capacity);
        // SAFETY: a position below the length.
        let last = unsafe { storage.back(storage.len() - 1) };
        assert_eq!(last, KeyData::from_ffi(7));
        // `shrink_to_fit` cuts both capacities, the back-pointers' no
        // lower than the buffer's.
        storage.shrink_to_fit();
        assert_eq!(storage.capacity(), storage.len());
        assert!(storage.back.capacity() >= storage.capacity());
        // SAFETY: the storage holds no object to forget.
        unsafe { storage.truncate(0) };
        storage.shrink_to_fit();
        assert_eq!((storage.capacity(), storage.back.capacity()), (0, 0));
    }

    #[test]
    fn the_buffer_halves_below_a_quarter_and_never_below_the_floor() {
        let g = ObjectGeometry::of(Layout::new::<[u64; 4]>());
        let first = g.first_capacity;
        let mut storage = ObjectStorage::new(g);
        push_positions(&mut storage, g, 8 * first);
        assert_eq!(storage.capacity(), 8 * first);
        // Down to a quarter: nothing idle yet.
        // SAFETY: the storage holds no object to forget.
        unsafe { storage.truncate(2 * first) };
        assert!(!storage.has_idle());
        // One fewer: halved, and then half full, so not idle again.
        // SAFETY: as above.
        unsafe { storage.truncate(2 * first - 1) };
        assert!(storage.has_idle());
        storage.release_idle();
        assert_eq!(storage.capacity(), 4 * first);
        assert!(storage.back.capacity() >= storage.capacity());
        assert!(!storage.has_idle());
        // Oscillating at that boundary reallocates nothing: growing again
        // needs twice as many objects.
        let base = storage.base;
        push_positions(&mut storage, g, 1);
        // SAFETY: as above.
        unsafe { storage.truncate(2 * first - 1) };
        assert!(!storage.has_idle());
        assert_eq!((storage.base, storage.capacity()), (base, 4 * first));
        // Emptied: halved down to the first buffer's size, kept.
        // SAFETY: as above.
        unsafe { storage.truncate(0) };
        storage.release_idle();
        assert_eq!(storage.capacity(), first);
        // A reserved capacity is a floor.
        storage.reserve(8 * first);
        assert!(!storage.has_idle());
        assert_eq!(storage.capacity(), 8 * first);
        storage.shrink_to_fit();
        assert_eq!(storage.capacity(), 0);
    }
}
