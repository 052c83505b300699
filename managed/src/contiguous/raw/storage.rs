//! The object storage of a [`ContiguousUniformPool`]: objects at positions
//! `0..len`, densely, on size-aligned pages allocated in contiguous chunks,
//! and a back-pointer (the object's key, naming its slot) per position.
//!
//! ```text
//! chunk (one allocation, aligned to the page size):
//! [ object 0 | object 1 | ... ][ object per | ... ][ ...
//!  ^ page 0                    ^ page 1
//! ```
//!
//! Position `p` lives on page `p / per_page` at index `p % per_page` (a
//! division by a compile-time constant), found through the page table.
//! Slots hold positions, so nothing needs an object's position from its
//! address. Objects never move when the pool grows: new pages come in new
//! chunks.
//!
//! Why chunks, and why the back-pointers are not on the pages: a walk over
//! the objects must be one unbroken stream of memory. Measured on the 1M-
//! object `map` benchmark, separately allocated 16 KiB pages (the system
//! allocator spaces them 32 KiB apart) or pages with a few KiB of other
//! data after their objects made the walk 3-4x slower than a `Vec`'s: the
//! hardware prefetcher runs on into each gap and must retrain after it, and
//! the lines it pulls from the gaps push the objects out of the last-level
//! cache. Pages of one chunk are adjacent and hold nothing but objects, and
//! chunks grow geometrically, so a walk crosses only a logarithmic number
//! of gaps.
//!
//! Not generic over the object type (the geometry is passed in, a constant
//! at every call site), so this code is compiled once.
//!
//! [`ContiguousUniformPool`]: crate::contiguous::ContiguousUniformPool

use alloc::vec::Vec;
use core::alloc::Layout;
use core::ptr::NonNull;

use slotmap::KeyData;

use crate::page::PageSize;
use crate::page::raw::{allocate, deallocate};

/// Pages are at least this large.
const MIN_PAGE: usize = 16 << 10;
/// Pages hold at least this many objects.
const MIN_PER_PAGE: usize = 16;
/// A growing pool allocates chunks of up to this many pages (1 MiB of
/// 16 KiB pages); `with_capacity` and `reserve` take one chunk of any size.
const MAX_CHUNK_PAGES: usize = 64;

/// Where objects sit in a page, for one object layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ObjectGeometry {
    /// Distance between objects: the size, or the alignment for a
    /// zero-sized type (so that every position has its own address).
    pub(crate) stride: usize,
    /// Offset of the first object from the page base: 0 (pages are aligned
    /// to their size, which is at least the object's alignment; a 32-byte
    /// object never straddles two cache lines).
    pub(crate) first: usize,
    /// Objects per page, at least [`MIN_PER_PAGE`]; `first + per_page *
    /// stride` is at most `page`.
    pub(crate) per_page: usize,
    /// The page size and alignment: a power of two, at least the object's
    /// alignment and [`MIN_PAGE`].
    pub(crate) page: usize,
}

impl ObjectGeometry {
    /// The geometry for objects of `layout`.
    ///
    /// # Panics
    ///
    /// When sixteen objects cannot fit in any page (an object of more than
    /// about `isize::MAX / 64` bytes), with a message (a compile-time error
    /// where evaluated in a constant).
    pub(crate) const fn of(layout: Layout) -> Self {
        let stride = if layout.size() == 0 {
            layout.align()
        } else {
            layout.size()
        };
        let first = 0;
        let need = match stride.checked_mul(MIN_PER_PAGE) {
            Some(need) if need <= PageSize::MAX.get() - first => need + first,
            _ => panic!("ContiguousUniformPool: the object type is too large for any page"),
        };
        let mut page = MIN_PAGE;
        while page < need || page < layout.align() {
            page *= 2;
        }
        Self {
            stride,
            first,
            per_page: (page - first) / stride,
            page,
        }
    }
}

/// A run of adjacent pages from one allocation.
struct ObjectChunk {
    /// Invariant: allocated with [`ObjectChunk::layout`] of `pages`.
    base: NonNull<u8>,
    pages: usize,
}

impl ObjectChunk {
    /// The layout of a chunk of `pages` pages of `page` bytes.
    ///
    /// # Panics
    ///
    /// When the chunk would exceed `isize::MAX` bytes.
    fn layout(page: usize, pages: usize) -> Layout {
        pages
            .checked_mul(page)
            .and_then(|size| Layout::from_size_align(size, page).ok())
            .expect("ContiguousUniformPool: capacity overflow")
    }
}

/// The object pages and back-pointers of a pool.
pub(crate) struct ObjectStorage {
    /// The page size of the geometry this storage was made for.
    page: usize,
    /// The allocations, in position order.
    chunks: Vec<ObjectChunk>,
    /// One more than the first position of the second-to-last chunk (0
    /// with fewer than two chunks): when `len` is below this, the last two
    /// chunks hold no object and the last one can go back.
    idle_below: usize,
    /// Every page of every chunk, in position order: page `k` holds
    /// positions `k * per_page..(k + 1) * per_page`.
    ///
    /// Invariant: page `k` lies in a chunk of `chunks`, aligned to the page
    /// size, derived from its chunk's pointer; `pages.len() * per_page >=
    /// len` (pages past the last object are capacity, given back by
    /// `release_idle` and `shrink_to_fit`).
    pages: Vec<NonNull<u8>>,
    /// The key of the object at each position (its back-pointer: the key
    /// names the object's slot in the table). Its length is the number of
    /// objects stored.
    ///
    /// Invariant (kept by the typed pool): positions `0..back.len()` hold
    /// initialized objects; the slots past it hold nothing.
    back: Vec<KeyData>,
    /// Positions below which a push allocates nothing: the smaller of the
    /// pages' capacity and the back-pointers' capacity, so that one
    /// comparison decides a push's fast path.
    ///
    /// Invariant: `room <= pages.len() * per_page` and `room <=
    /// back.capacity()`; recomputed by [`set_room`](Self::set_room) after
    /// every change to either capacity.
    room: usize,
}

impl ObjectStorage {
    /// No pages; they will have `geometry`'s size.
    pub(crate) const fn new(geometry: ObjectGeometry) -> Self {
        Self {
            page: geometry.page,
            chunks: Vec::new(),
            idle_below: 0,
            pages: Vec::new(),
            back: Vec::new(),
            room: 0,
        }
    }

    /// Objects stored.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.back.len()
    }

    /// Recomputes [`room`](Self::room) from the two capacities.
    fn set_room(&mut self, per_page: usize) {
        self.room = (self.pages.len() * per_page).min(self.back.capacity());
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
        self.back.truncate(len);
    }

    /// Objects the allocated pages hold.
    #[inline]
    pub(crate) fn capacity(&self, geometry: ObjectGeometry) -> usize {
        self.pages.len() * geometry.per_page
    }

    /// The pages in position order (see the field invariant).
    #[inline(always)]
    pub(crate) fn pages(&self) -> &[NonNull<u8>] {
        &self.pages
    }

    /// The address of position `pos`.
    ///
    /// # Safety
    ///
    /// `pos` must be below the capacity.
    #[inline(always)]
    pub(crate) unsafe fn slot(&self, geometry: ObjectGeometry, pos: usize) -> NonNull<u8> {
        let (page, index) = (pos / geometry.per_page, pos % geometry.per_page);
        // The caller's contract, redundant at every call site: positions
        // come from below the length (at most the capacity), or are the
        // length itself right after `reserve_one` made room.
        debug_assert!(page < self.pages.len());
        // SAFETY: 1. `page` is an allocated page (caller contract); 2. the
        // index is below `per_page`, so the object lies inside the page.
        unsafe {
            self.pages
                .get_unchecked(page)
                .add(geometry.first + index * geometry.stride)
        }
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

    /// Sets the key of the object at position `pos`.
    ///
    /// # Safety
    ///
    /// `pos` must be below the length.
    #[inline(always)]
    pub(crate) unsafe fn set_back(&mut self, pos: usize, key: KeyData) {
        // The caller's contract, redundant at its one call site (`take_at`,
        // given a stored position).
        debug_assert!(pos < self.back.len());
        // SAFETY: `pos` is below the length (caller contract).
        unsafe { *self.back.get_unchecked_mut(pos) = key };
    }

    /// The keys of the objects, in position order.
    #[inline(always)]
    pub(crate) fn keys(&self) -> &[KeyData] {
        &self.back
    }

    /// Makes room for one more object and returns the address of position
    /// `len`. Allocates (and may panic) only here; [`push`](Self::push)
    /// then cannot fail.
    #[inline(always)]
    pub(crate) fn reserve_one(&mut self, geometry: ObjectGeometry) -> NonNull<u8> {
        let len = self.back.len();
        if len >= self.room {
            self.grow(geometry.per_page);
        }
        // SAFETY: `len` is below `room` now, so below the pages' capacity
        // (invariant on `room`).
        unsafe { self.slot(geometry, len) }
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
        // The caller's contract: `reserve_one` left `len` below `room`, so
        // below the back-pointers' capacity.
        debug_assert!(len < self.room);
        // SAFETY: 1. `len` is below the capacity (caller contract), so the
        // write stays in the buffer, and nothing between writing the object
        // and counting it can fail; 2. the new length covers only
        // initialized keys.
        unsafe {
            self.back.as_mut_ptr().add(len).write(key);
            self.back.set_len(len + 1);
        }
    }

    /// Room for one more object and its back-pointer: a new chunk as
    /// large as the pages so far (up to [`MAX_CHUNK_PAGES`]) when the pages
    /// are full, the back-pointers grown like a `Vec`.
    ///
    /// Takes the geometry's `per_page` alone: a whole geometry would be
    /// passed through memory, and the fast paths would write it out on
    /// every push only for this rarely taken call.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, per_page: usize) {
        self.back.reserve(1);
        if self.len() == self.pages.len() * per_page {
            let pages = self.pages.len().clamp(1, MAX_CHUNK_PAGES);
            self.add_chunk(per_page, pages);
        }
        self.set_room(per_page);
    }

    /// Allocates a chunk of `count` pages (of `self.page` bytes, holding
    /// `per_page` objects each) after the others.
    fn add_chunk(&mut self, per_page: usize, count: usize) {
        let layout = ObjectChunk::layout(self.page, count);
        // Grow the tables first, so a failure leaks no chunk.
        self.chunks.reserve(1);
        self.pages.reserve(count);
        // A non-zero size (`count >= 1` pages); aborts if the allocator
        // fails.
        let base = allocate(layout);
        for i in 0..count {
            // SAFETY: page `i` lies inside the chunk, aligned to the page size
            // (the chunk is, and pages are a multiple of it apart).
            self.pages.push(unsafe { base.add(i * self.page) });
        }
        self.chunks.push(ObjectChunk { base, pages: count });
        self.set_idle_below(per_page);
        self.set_room(per_page);
    }

    /// Recomputes [`idle_below`](Self::idle_below) from the chunks.
    fn set_idle_below(&mut self, per_page: usize) {
        self.idle_below = match self.chunks.len() {
            0 | 1 => 0,
            n => {
                let last = self.chunks[n - 1].pages;
                let second = self.chunks[n - 2].pages;
                (self.pages.len() - last - second) * per_page + 1
            }
        };
    }

    /// Whether [`release_idle`](Self::release_idle) has work: the last two
    /// chunks hold no object. One comparison, for the removal paths.
    #[inline(always)]
    pub(crate) fn has_idle(&self) -> bool {
        self.len() < self.idle_below
    }

    /// Frees the last chunk while it and the one before it hold no object,
    /// so one empty chunk is always kept: a pool that oscillates across a
    /// chunk boundary reuses it instead of allocating and freeing a chunk
    /// each time. The back-pointers' capacity shrinks with the pages.
    ///
    /// Only frees pages past every object; nothing that points at an
    /// object changes. Takes `per_page` alone, as [`grow`](Self::grow)
    /// does.
    #[cold]
    #[inline(never)]
    pub(crate) fn release_idle(&mut self, per_page: usize) {
        while self.has_idle() {
            let chunk = self
                .chunks
                .pop()
                .expect("two chunks when idle_below is set");
            self.pages.truncate(self.pages.len() - chunk.pages);
            // SAFETY: the chunk was allocated with this layout and holds
            // no object (it lies past the chunk before it, which starts at
            // or after `len`); its pages left the table.
            unsafe { deallocate(chunk.base, ObjectChunk::layout(self.page, chunk.pages)) };
            self.set_idle_below(per_page);
        }
        let capacity = self.pages.len() * per_page;
        if self.back.capacity() > capacity.max(self.back.len()) {
            self.back.shrink_to(capacity);
        }
        self.set_room(per_page);
    }

    /// Allocates pages (in one chunk) until `capacity` objects fit.
    pub(crate) fn reserve(&mut self, geometry: ObjectGeometry, capacity: usize) {
        // Redundant: a storage is only ever used with the geometry it was
        // made with (`Inner::<T>::GEOMETRY`, a constant of the pool's `T`).
        debug_assert_eq!(geometry.page, self.page);
        self.back.reserve(capacity.saturating_sub(self.len()));
        let pages = capacity.div_ceil(geometry.per_page);
        if pages > self.pages.len() {
            self.add_chunk(geometry.per_page, pages - self.pages.len());
        }
        self.set_room(geometry.per_page);
    }

    /// Frees the chunks past the page of the last object, and unused
    /// back-pointer capacity.
    pub(crate) fn shrink_to_fit(&mut self, geometry: ObjectGeometry) {
        let keep = self.len().div_ceil(geometry.per_page);
        while let Some(chunk) = self.chunks.last() {
            let first = self.pages.len() - chunk.pages;
            if first < keep {
                break;
            }
            let chunk = self.chunks.pop().expect("a last chunk");
            self.pages.truncate(first);
            // SAFETY: the chunk was allocated with this layout and, past the
            // last object, holds nothing; its pages left the table.
            unsafe { deallocate(chunk.base, ObjectChunk::layout(self.page, chunk.pages)) };
        }
        self.set_idle_below(geometry.per_page);
        self.chunks.shrink_to_fit();
        self.pages.shrink_to_fit();
        self.back.shrink_to_fit();
        self.set_room(geometry.per_page);
    }

    /// Bytes of pages and of the tables.
    pub(crate) fn reserved_bytes(&self) -> usize {
        self.pages.len() * self.page
            + self.pages.capacity() * size_of::<NonNull<u8>>()
            + self.chunks.capacity() * size_of::<ObjectChunk>()
            + self.back.capacity() * size_of::<KeyData>()
    }
}

impl Drop for ObjectStorage {
    /// Frees the chunks; the typed pool has dropped the objects (or leaks
    /// them, never reading them again).
    fn drop(&mut self) {
        for chunk in self.chunks.drain(..) {
            // SAFETY: allocated with this layout; nothing reaches the chunk
            // any more.
            unsafe { deallocate(chunk.base, ObjectChunk::layout(self.page, chunk.pages)) };
        }
    }
}

// Memory maps (`crate::memory_map`).
impl ObjectStorage {
    /// Adds to `map` a block per chunk (each page: the objects, live below
    /// the length and free past it, `size` bytes of each stride live and
    /// the rest padding, then the page's unused end as padding), then the
    /// page table, the chunk list and the back-pointers, as metadata up to
    /// their lengths and free past them.
    pub(crate) fn map_into(
        &self,
        geometry: ObjectGeometry,
        size: usize,
        map: &mut crate::memory_map::MemoryMap,
    ) {
        use crate::memory_map::{Block, SpanKind};
        let mut page = 0;
        for (i, chunk) in self.chunks.iter().enumerate() {
            let pages = chunk.pages;
            let label = alloc::format!(
                "chunk {i}, {pages} page{}",
                if pages == 1 { "" } else { "s" }
            );
            let mut block = Block::new(label, chunk.base.addr().get());
            for _ in 0..chunk.pages {
                let start = block.len();
                block.push(SpanKind::Padding, geometry.first);
                let first = page * geometry.per_page;
                let live = self.len().saturating_sub(first).min(geometry.per_page);
                for _ in 0..live {
                    block
                        .push(SpanKind::Live, size)
                        .push(SpanKind::Padding, geometry.stride - size);
                }
                block
                    .push(SpanKind::Free, (geometry.per_page - live) * geometry.stride)
                    .push_to(SpanKind::Padding, start + self.page);
                page += 1;
            }
            map.push(block);
        }
        let tables = [
            (
                "page table",
                self.pages.as_ptr().addr(),
                self.pages.len() * size_of::<NonNull<u8>>(),
                self.pages.capacity() * size_of::<NonNull<u8>>(),
            ),
            (
                "chunk list",
                self.chunks.as_ptr().addr(),
                self.chunks.len() * size_of::<ObjectChunk>(),
                self.chunks.capacity() * size_of::<ObjectChunk>(),
            ),
            (
                "back-pointers",
                self.back.as_ptr().addr(),
                self.back.len() * size_of::<KeyData>(),
                self.back.capacity() * size_of::<KeyData>(),
            ),
        ];
        for (label, address, used, capacity) in tables {
            let mut block = Block::new(label, address);
            block
                .push(SpanKind::Metadata, used)
                .push_to(SpanKind::Free, capacity);
            map.push(block);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_fills_pages_from_their_base() {
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
            assert!(g.page.is_power_of_two() && g.page >= MIN_PAGE && g.page >= align);
            assert!(g.per_page >= MIN_PER_PAGE, "{layout:?}: {g:?}");
            assert_eq!(g.stride % align, 0);
            assert_eq!(g.first % align, 0);
            assert_eq!(g.first, 0);
            assert!(g.first + g.per_page * g.stride <= g.page);
            // The page is used well: one more object would not fit.
            assert!(
                g.first + (g.per_page + 1) * g.stride > g.page,
                "{layout:?}: {g:?}"
            );
        }
        // A 32-byte object: 512 per 16 KiB page, each in one cache line.
        let g = ObjectGeometry::of(Layout::new::<[u64; 4]>());
        assert_eq!((g.page, g.first, g.per_page), (16 << 10, 0, 512));
        // A 24-byte one: 682 per page.
        let g = ObjectGeometry::of(Layout::new::<[u64; 3]>());
        assert_eq!((g.first, g.per_page), (0, 682));
    }

    #[test]
    fn positions_map_to_aligned_addresses_on_adjacent_pages() {
        let g = ObjectGeometry::of(Layout::new::<[u64; 3]>());
        let mut storage = ObjectStorage::new(g);
        storage.reserve(g, 2 * g.per_page + 5);
        assert_eq!(storage.pages().len(), 3);
        assert_eq!(storage.capacity(g), 3 * g.per_page);
        // One chunk: the pages are adjacent.
        let pages = storage.pages().to_vec();
        assert!(
            pages
                .windows(2)
                .all(|w| w[1].addr().get() - w[0].addr().get() == g.page)
        );
        // Growing adds a chunk as large as the pages so far.
        let key = KeyData::from_ffi(1);
        storage.back.resize(3 * g.per_page, key);
        storage.grow(g.per_page);
        assert_eq!(storage.pages().len(), 6);
        for pos in [
            0,
            1,
            g.per_page - 1,
            g.per_page,
            2 * g.per_page + 4,
            5 * g.per_page + 7,
        ] {
            // SAFETY: positions below the capacity.
            let slot = unsafe { storage.slot(g, pos) };
            assert_eq!(slot.addr().get() % align_of::<[u64; 3]>(), 0);
            let page = storage.pages()[pos / g.per_page];
            assert_eq!(
                slot.addr().get() - page.addr().get(),
                (pos % g.per_page) * g.stride
            );
        }
        storage.back.truncate(g.per_page + 1);
        storage.shrink_to_fit(g);
        assert_eq!(storage.pages().len(), 3, "the first chunk holds objects");
        storage.back.clear();
        storage.shrink_to_fit(g);
        assert_eq!(storage.pages().len(), 0);
        assert_eq!(storage.reserved_bytes(), 0);
    }

    #[test]
    fn pushes_allocate_only_past_the_room_of_both_capacities() {
        let g = ObjectGeometry::of(Layout::new::<[u64; 4]>());
        let mut storage = ObjectStorage::new(g);
        assert_eq!(storage.room, 0);
        let key = KeyData::from_ffi(7);
        let mut places = Vec::new();
        for i in 0..2 * g.per_page + 3 {
            let place = storage.reserve_one(g);
            // SAFETY: `reserve_one` made room; the storage never reads an
            // object (the test writes none: it only counts positions).
            unsafe { storage.push(key) };
            assert_eq!(storage.len(), i + 1);
            assert!(storage.room <= storage.capacity(g));
            assert!(storage.room <= storage.back.capacity());
            assert!(storage.len() <= storage.room);
            places.push(place.addr().get());
        }
        // Every position got its own place, a stride apart within a page.
        places.sort_unstable();
        places.dedup();
        assert_eq!(places.len(), storage.len());
        // SAFETY: positions below the length.
        assert_eq!(unsafe { storage.back(storage.len() - 1) }, key);
        // A capacity cut by `shrink_to_fit` cuts the room with it.
        storage.shrink_to_fit(g);
        assert_eq!(
            storage.room,
            storage.capacity(g).min(storage.back.capacity())
        );
        assert!(storage.room >= storage.len());
        // SAFETY: the storage holds no object to forget.
        unsafe { storage.truncate(0) };
        storage.shrink_to_fit(g);
        assert_eq!((storage.room, storage.capacity(g)), (0, 0));
    }
}
