//! The raw page layer: the crate's one door to the global allocator
//! ([`allocate`], [`try_allocate`], [`deallocate`]), size-aligned pages
//! carved from it, and the address index that says which pages a list
//! owns.
//!
//! [`PageList`] is defined here too, with every pointer it makes into its
//! pages (headers, payloads, page retirement), and re-exported by
//! [`crate::page`], which adds the methods built from its safe ones.
//! Everything else here is `pub(crate)`, safe to call, and keeps the
//! invariants documented on each item.
//! No other module calls the global allocator for the memory it manages:
//! pages, chunks, blocks and out-of-line values all come from here, so
//! there is one place to instrument, replace or audit allocation.

use alloc::alloc::{alloc, dealloc, handle_alloc_error};
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::alloc::Layout;
use core::marker::PhantomData;
use core::mem::{MaybeUninit, size_of};
use core::ptr::NonNull;

use super::PageSize;
use crate::SpaceStats;

/// Allocates a block of `layout` from the global allocator, or aborts
/// through [`handle_alloc_error`] when the allocator fails.
///
/// # Panics
///
/// If `layout` has size zero (the global allocator's contract forbids it).
#[track_caller]
#[inline]
pub(crate) fn allocate(layout: Layout) -> NonNull<u8> {
    try_allocate(layout).unwrap_or_else(|| handle_alloc_error(layout))
}

/// Reports a failed allocation of `layout` through [`handle_alloc_error`]
/// (which aborts by default): for callers that tried [`try_allocate`] and
/// cannot go on without the memory.
#[cold]
#[inline(never)]
pub(crate) fn out_of_memory(layout: Layout) -> ! {
    handle_alloc_error(layout)
}

/// Allocates a block of `layout` from the global allocator; `None` when
/// the allocator fails.
///
/// # Panics
///
/// If `layout` has size zero (the global allocator's contract forbids it).
#[track_caller]
#[inline]
pub(crate) fn try_allocate(layout: Layout) -> Option<NonNull<u8>> {
    // Checked in every build: `alloc` with a zero size is undefined
    // behaviour, and every caller's size comes from a computation.
    assert!(layout.size() != 0, "allocating a zero-sized block");
    // SAFETY: the size is non-zero (checked above).
    NonNull::new(unsafe { alloc(layout) })
}

/// Returns a block to the global allocator.
///
/// # Safety
///
/// `block` was returned by [`allocate`] or [`try_allocate`] with this
/// `layout`, has not been deallocated since, and nothing accesses it
/// afterwards.
#[inline]
pub(crate) unsafe fn deallocate(block: NonNull<u8>, layout: Layout) {
    // SAFETY: the caller's contract: allocated by the global allocator
    // with `layout` (through `try_allocate`), not freed since.
    unsafe { dealloc(block.as_ptr(), layout) }
}

/// Most bytes a chunk of pages may take (see [`RawPages::chunked`]).
const MAX_CHUNK_BYTES: usize = 1 << 20;

/// The largest chunk [`RawPages::reserve_adjacent`] allocates.
const ADJACENT_MAX_BYTES: usize = 64 << 20;

/// The fewest pages of a chunk that [`RawPages::reserve_adjacent`] aligns
/// by hand (with a page of slack); smaller chunks are allocated aligned.
const BY_HAND_MIN_PAGES: usize = 32;

/// One allocation from the global allocator: `pages` adjacent pages.
struct PageChunk {
    /// Aligned to the page size; allocated with `pages` pages' layout, or
    /// inside `block`.
    base: NonNull<u8>,
    pages: usize,
    /// Pages of the chunk not in use (listed in `RawPages::idle`).
    idle: usize,
    /// For a chunk of [`RawPages::reserve_adjacent`]: the block allocated
    /// with [`RawPages::block_layout`] of `pages` and aligned by hand, in
    /// which the pages start at `base`.
    block: Option<NonNull<u8>>,
}

/// The pages one owner holds, indexed by address, allocated alone or in
/// chunks of adjacent pages, plus idle pages kept back from the allocator.
///
/// A chunked owner ([`RawPages::chunked`]) gets its pages in runs of
/// adjacent pages that grow with it (as many as it uses, up to 1 MiB), so
/// that consecutive pages of a list that grows at one end are adjacent in
/// memory: a walk over them is one stream for the hardware prefetcher,
/// where separately allocated pages (which the system allocator spaces
/// apart) stop it at every page end. Idle pages are reused lowest address
/// first, so a list refilled after draining gets its pages back in the
/// same order. A chunk goes back to the allocator once none of its pages
/// is in use and the idle pages exceed both the pages in use and one
/// chunk's worth (so a list that drains and refills reuses its memory,
/// like a `Vec`'s capacity), or at [`release_spare`](Self::release_spare).
/// Chunking suits owners that free pages at their ends (lists, deques); an
/// owner that frees pages anywhere uses [`new`](Self::new), whose chunks
/// are single pages, so every page it frees can go back (one idle page is
/// kept to stop alloc/free thrashing at a page boundary).
///
/// This type is not generic, so its code is compiled once for every
/// container (the hashbrown "non-generic inner" idea).
pub(crate) struct RawPages {
    /// The size and alignment of every page.
    size: PageSize,
    /// Pages per chunk at most (1 for an unchunked owner).
    max_chunk: usize,
    /// Base addresses of the pages in use, strictly ascending.
    ///
    /// Invariant: every entry lies in a chunk of `chunks` and is not in
    /// `idle`; so an ownership query never answers yes for an idle page.
    sorted: Vec<NonNull<u8>>,
    /// The allocations, ascending by base.
    ///
    /// Invariant: each was allocated with `Self::chunk_layout(pages)`, or
    /// lies in its `block`, allocated with `Self::block_layout(pages)`; its
    /// `idle` counts its pages listed in `idle`.
    chunks: Vec<PageChunk>,
    /// Pages of the chunks not in use, in descending address order, so
    /// that the lowest is taken first.
    ///
    /// Invariant: each lies in a chunk, appears once, is not in `sorted`.
    idle: Vec<NonNull<u8>>,
    /// Pages in all chunks.
    reserved: usize,
}

impl RawPages {
    /// An owner whose pages are allocated one by one.
    pub(crate) const fn new(size: PageSize) -> Self {
        Self {
            size,
            max_chunk: 1,
            sorted: Vec::new(),
            chunks: Vec::new(),
            idle: Vec::new(),
            reserved: 0,
        }
    }

    /// An owner whose pages are allocated in chunks of adjacent pages
    /// (see the type's documentation).
    pub(crate) const fn chunked(size: PageSize) -> Self {
        let max_chunk = MAX_CHUNK_BYTES / size.get();
        let mut pages = Self::new(size);
        pages.max_chunk = if max_chunk > 1 { max_chunk } else { 1 };
        pages
    }

    #[inline]
    pub(crate) const fn page_size(&self) -> PageSize {
        self.size
    }

    /// Bytes held from the allocator, idle pages included.
    #[inline]
    pub(crate) fn reserved_bytes(&self) -> usize {
        self.reserved * self.size.get()
    }

    /// The layout of a chunk of `pages` pages.
    ///
    /// `PageSize` is a power of two no larger than `isize::MAX / 2`, and
    /// chunks hold at most `MAX_CHUNK_BYTES` (or one page), so it is a
    /// valid size-and-alignment pair.
    fn chunk_layout(&self, pages: usize) -> Layout {
        Layout::from_size_align(pages * self.size.get(), self.size.get())
            .expect("a chunk of pages is a valid layout")
    }

    /// The index in `chunks` of the chunk holding `page`.
    fn chunk_of(&self, page: NonNull<u8>) -> usize {
        let at = self.chunks.partition_point(|chunk| chunk.base <= page);
        debug_assert!(at > 0, "a page of no chunk");
        at - 1
    }

    /// Takes a page into use: an idle one if there is one, else the first
    /// page of a fresh chunk. Its contents are uninitialized.
    pub(crate) fn alloc_page(&mut self) -> NonNull<u8> {
        let page = match self.idle.pop() {
            Some(page) => {
                let at = self.chunk_of(page);
                self.chunks[at].idle -= 1;
                page
            }
            None => self.carve(),
        };
        // Redundant: chunks are allocated with `align == size` and carved in
        // whole pages, so every page is size-aligned.
        debug_assert_eq!(page.addr().get() & self.size.mask(), 0);
        let at = self
            .sorted
            .binary_search(&page)
            .expect_err("a fresh page cannot already be in use");
        self.sorted.insert(at, page);
        page
    }

    /// Allocates a chunk (as many pages as are in use, at least one, at
    /// most `max_chunk`), lists all its pages but the first as idle and
    /// returns the first.
    #[cold]
    fn carve(&mut self) -> NonNull<u8> {
        let pages = self.sorted.len().clamp(1, self.max_chunk);
        let layout = self.chunk_layout(pages);
        // Grow the tables first, so a failure leaks nothing.
        self.chunks.reserve(1);
        self.idle.reserve(pages - 1);
        // The layout has a non-zero size: at least one page, and a page
        // size is at least `PageSize::MIN`.
        let base = allocate(layout);
        for i in 1..pages {
            // SAFETY: page `i` lies inside the chunk.
            self.list_idle(unsafe { base.add(i * self.size.get()) });
        }
        let at = self.chunks.partition_point(|chunk| chunk.base < base);
        self.chunks.insert(
            at,
            PageChunk {
                base,
                pages,
                idle: pages - 1,
                block: None,
            },
        );
        self.reserved += pages;
        base
    }

    /// Makes sure at least `additional` pages are idle, allocating chunks
    /// of idle pages (each at most `max_chunk` pages) for the missing ones,
    /// so the next `additional` calls of [`alloc_page`](Self::alloc_page)
    /// allocate nothing.
    #[cold]
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.reserve_in_chunks(additional, self.max_chunk, false);
    }

    /// As [`reserve`](Self::reserve), in chunks of up to 64 MiB whatever
    /// the owner's chunk size: for an owner about to fill `additional`
    /// pages at once (a copy of another container), which then takes its
    /// pages from few allocations, as a `Vec` would, rather than from one
    /// allocation per page. Such a chunk goes back to the allocator once
    /// none of its pages is in use.
    ///
    /// Each chunk of 32 pages or more is a block with the allocator's
    /// plain alignment, aligned to the page here: glibc serves a
    /// page-aligned block above its mmap threshold from `mmap` every time
    /// (its threshold, raised by a freed block, never covers the aligned
    /// request that follows), so a copy made and dropped in a loop took a
    /// page fault per page each time, where a plain block of the same size
    /// comes from the heap after the first, as a `Vec`'s does.
    #[cold]
    pub(crate) fn reserve_adjacent(&mut self, additional: usize) {
        let most = (ADJACENT_MAX_BYTES / self.size.get()).max(1);
        self.reserve_in_chunks(additional, most, true);
    }

    /// The layout of a block holding a chunk of `pages` pages aligned by
    /// hand: one page more, with the alignment of a `u128` (a plain
    /// allocation; a page is at least 64 bytes). The extra page is slack,
    /// not counted in [`reserved_bytes`](Self::reserved_bytes).
    fn block_layout(&self, pages: usize) -> Layout {
        Layout::from_size_align((pages + 1) * self.size.get(), align_of::<u128>())
            .expect("a chunk of pages is a valid layout")
    }

    /// Gives a chunk's memory back to the allocator.
    ///
    /// # Safety
    ///
    /// No page of the chunk is in use or accessed afterwards, and it is in
    /// no table any more.
    unsafe fn free_chunk(&self, chunk: &PageChunk) {
        // SAFETY: allocated with this layout (by `carve` or
        // `reserve_in_chunks`), not freed since (caller contract).
        unsafe {
            match chunk.block {
                Some(block) => deallocate(block, self.block_layout(chunk.pages)),
                None => deallocate(chunk.base, self.chunk_layout(chunk.pages)),
            }
        }
    }

    /// [`reserve`](Self::reserve) with chunks of at most `most` pages;
    /// `by_hand`: each allocated as a block with the allocator's plain
    /// alignment and aligned here (see [`block_layout`](Self::block_layout)).
    fn reserve_in_chunks(&mut self, additional: usize, most: usize, by_hand: bool) {
        while self.idle.len() < additional {
            let pages = (additional - self.idle.len()).min(most);
            // Grow the tables first, so a failure leaks nothing.
            self.chunks.reserve(1);
            self.idle.reserve(pages);
            // A block of fewer pages comes from the heap either way, and
            // its slack page would weigh more than a 32nd.
            let (base, block) = if by_hand && pages >= BY_HAND_MIN_PAGES {
                // The layout has a non-zero size: at least one page.
                let block = allocate(self.block_layout(pages));
                let offset = block.addr().get().wrapping_neg() & self.size.mask();
                // SAFETY: the block holds `pages + 1` pages' bytes, so the
                // first page boundary in it (less than a page in) leaves
                // `pages` pages inside it.
                (unsafe { block.add(offset) }, Some(block))
            } else {
                // The layout has a non-zero size: at least one page.
                (allocate(self.chunk_layout(pages)), None)
            };
            // Listed at once, then put in (descending) order.
            // SAFETY: page `i` lies inside the chunk.
            self.idle
                .extend((0..pages).map(|i| unsafe { base.add(i * self.size.get()) }));
            self.idle.sort_unstable_by(|a, b| b.cmp(a));
            let at = self.chunks.partition_point(|chunk| chunk.base < base);
            self.chunks.insert(
                at,
                PageChunk {
                    base,
                    pages,
                    idle: pages,
                    block,
                },
            );
            self.reserved += pages;
        }
    }

    /// Takes `page` out of use. It becomes idle; its chunk goes back to the
    /// allocator if none of its pages is in use and other idle pages remain.
    ///
    /// # Safety
    ///
    /// `page` must be in use by this value (returned by `alloc_page` and not
    /// freed since), and nothing may access it afterwards.
    pub(crate) unsafe fn free_page(&mut self, page: NonNull<u8>) {
        let at = self.sorted.binary_search(&page);
        debug_assert!(at.is_ok(), "freeing a page this list does not own");
        let Ok(at) = at else { return };
        self.sorted.remove(at);
        self.list_idle(page);
        let chunk = self.chunk_of(page);
        self.chunks[chunk].idle += 1;
        let PageChunk { pages, idle, .. } = self.chunks[chunk];
        // Idle memory kept: one page when unchunked; else as many pages as
        // are in use, at least one chunk's worth.
        let keep = if self.max_chunk == 1 {
            1
        } else {
            self.sorted.len().max(self.max_chunk)
        };
        if idle == pages && self.idle.len() > pages && self.idle.len() > keep {
            // SAFETY: none of the chunk's pages is in use, and by the
            // caller's contract nothing accesses `page` any more.
            unsafe { self.release_chunk(chunk) };
        }
    }

    /// Makes every page in use idle, keeping every chunk: for an owner
    /// that has dropped what its pages held and fills pages again at once
    /// (a container overwritten with a copy of another), so that it reuses
    /// its memory instead of going back to the allocator.
    pub(crate) fn idle_all(&mut self) {
        self.idle.append(&mut self.sorted);
        self.idle.sort_unstable_by(|a, b| b.cmp(a));
        for chunk in &mut self.chunks {
            chunk.idle = chunk.pages;
        }
    }

    /// Lists `page` as idle, in address order.
    fn list_idle(&mut self, page: NonNull<u8>) {
        let at = self.idle.partition_point(|&idle| idle > page);
        self.idle.insert(at, page);
    }

    /// Returns chunk `at`, none of whose pages is in use, to the allocator.
    ///
    /// # Safety
    ///
    /// No page of the chunk is in use or accessed afterwards.
    unsafe fn release_chunk(&mut self, at: usize) {
        let chunk = self.chunks.remove(at);
        // The caller's contract, checked in every build: a rare path, and
        // freeing a page in use would leave its users dangling.
        assert_eq!(
            chunk.idle, chunk.pages,
            "returning a chunk with pages in use"
        );
        let end = chunk.base.addr().get() + chunk.pages * self.size.get();
        self.idle
            .retain(|page| !(chunk.base.addr().get()..end).contains(&page.addr().get()));
        self.reserved -= chunk.pages;
        // SAFETY: no page of it is in use (caller contract) and it left
        // every table.
        unsafe { self.free_chunk(&chunk) };
    }

    /// Returns every chunk with no page in use to the allocator.
    pub(crate) fn release_spare(&mut self) {
        let mut at = 0;
        while at < self.chunks.len() {
            if self.chunks[at].idle == self.chunks[at].pages {
                // SAFETY: no page of the chunk is in use.
                unsafe { self.release_chunk(at) };
            } else {
                at += 1;
            }
        }
    }

    /// The page in use that contains `addr`, found by masking the address
    /// and looking the base up in the index. Never dereferences anything,
    /// so any address, foreign or stale, is a valid question.
    #[inline]
    pub(crate) fn page_of(&self, addr: usize) -> Option<NonNull<u8>> {
        let base = addr & !self.size.mask();
        // Fast path: most lookups are for the most recently added page.
        if let Some(&last) = self.sorted.last()
            && last.addr().get() == base
        {
            return Some(last);
        }
        self.sorted
            .binary_search_by(|page| page.addr().get().cmp(&base))
            .ok()
            .map(|at| self.sorted[at])
    }

    /// Frees every page, idle ones included. The owner must have dropped
    /// what the pages held.
    pub(crate) fn free_all(&mut self) {
        self.sorted.clear();
        self.idle.clear();
        for chunk in core::mem::take(&mut self.chunks) {
            // SAFETY: the caller no longer uses any of its pages, and it
            // left the table.
            unsafe { self.free_chunk(&chunk) };
        }
        self.reserved = 0;
    }
}

impl Drop for RawPages {
    fn drop(&mut self) {
        self.free_all();
    }
}

/// Where a page's payload starts and how many `T`s it holds, for a page
/// that begins with a header of layout `header`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageGeometry {
    /// The page size to use: the requested one, grown (to a power of two)
    /// until one element fits after the header and the element's alignment
    /// divides it.
    pub(crate) page_size: PageSize,
    /// Offset of the first element from the page base.
    pub(crate) data_offset: usize,
    /// Elements per page (`usize::MAX` for zero-sized elements).
    pub(crate) capacity: usize,
}

impl PageGeometry {
    /// Computes the geometry of pages holding `elem`s after a `header`.
    ///
    /// # Panics
    ///
    /// When the element cannot fit in any page size (larger than
    /// `isize::MAX / 4`), with a message.
    pub(crate) fn new(requested: PageSize, header: Layout, elem: Layout) -> Self {
        let align = elem.align().max(header.align());
        let data_offset = header.size().next_multiple_of(elem.align());
        let needed = data_offset
            .checked_add(elem.size().max(1))
            .and_then(usize::checked_next_power_of_two)
            .filter(|&n| n <= PageSize::MAX.get())
            .unwrap_or_else(|| {
                panic!("an element of {} bytes cannot fit in any page", elem.size())
            });
        let page_size = PageSize::new(requested.get().max(align).max(needed))
            .expect("a power of two within bounds");
        let capacity = if elem.size() == 0 {
            usize::MAX
        } else {
            (page_size.get() - data_offset) / elem.size()
        };
        // The page was grown until one element fits: checked in every build
        // (once per container), since every element write relies on it.
        assert!(capacity >= 1, "a page holds at least one element");
        Self {
            page_size,
            data_offset,
            capacity,
        }
    }
}

// Memory maps (`crate::memory_map`).
impl RawPages {
    /// Adds a block of free bytes for every idle page (kept for reuse), in
    /// address order.
    pub(crate) fn map_idle(&self, map: &mut crate::memory_map::MemoryMap) {
        for &page in self.idle.iter().rev() {
            map.push_uniform(
                "idle page",
                page.addr().get(),
                crate::memory_map::SpanKind::Free,
                self.size.get(),
            );
        }
    }
}

/// A list of size-aligned pages, each starting with a header `H`.
///
/// The payload of a page (what follows the header) is raw bytes for the
/// user to fill; the page containers of this crate are built on the same
/// layer. Headers are found from any address inside a page with
/// [`header_for`](Self::header_for), which checks ownership first.
pub struct PageList<H> {
    /// Page allocation and the ownership index.
    raw: RawPages,
    /// The pages in list order.
    ///
    /// Invariant: the same set of pages as `raw`'s in-use index, and the
    /// first `size_of::<H>()` bytes of each hold an initialized `H` that
    /// this list owns.
    order: VecDeque<NonNull<u8>>,
    /// Offset of the payload from the page base.
    ///
    /// Invariant: at least `size_of::<H>()`, a multiple of the payload's
    /// alignment, and smaller than the page size.
    data_offset: usize,
    /// The list owns `H`s.
    _headers: PhantomData<H>,
}

// SAFETY: the list owns its headers and pages exclusively (no sharing of
// the raw pointers), so it can move to another thread when `H` can.
unsafe impl<H: Send> Send for PageList<H> {}
// SAFETY: `&PageList` only hands out `&H` and `&[MaybeUninit<u8>]`.
unsafe impl<H: Sync> Sync for PageList<H> {}

impl<H> PageList<H> {
    /// An empty list whose pages hold elements of layout `elem` after the
    /// header, and the geometry of those pages.
    pub(crate) fn for_elements(size: PageSize, elem: Layout) -> (Self, PageGeometry) {
        let geometry = PageGeometry::new(size, Layout::new::<H>(), elem);
        let list = Self {
            // Lists grow and shrink at their ends: adjacent pages in chunks.
            raw: RawPages::chunked(geometry.page_size),
            order: VecDeque::new(),
            data_offset: geometry.data_offset,
            _headers: PhantomData,
        };
        (list, geometry)
    }

    /// Appends a page with `header`.
    pub fn push_back(&mut self, header: H) {
        let page = self.new_page(header);
        self.order.push_back(page);
    }

    /// Prepends a page with `header`.
    pub fn push_front(&mut self, header: H) {
        let page = self.new_page(header);
        self.order.push_front(page);
    }

    /// Removes the last page, returning its header.
    pub fn pop_back(&mut self) -> Option<H> {
        let page = self.order.pop_back()?;
        // SAFETY: `page` came out of `order`, so it is in use and holds a
        // header; it is no longer in `order`, so nothing reaches it again.
        Some(unsafe { self.retire_page(page) })
    }

    /// Removes the first page, returning its header.
    pub fn pop_front(&mut self) -> Option<H> {
        let page = self.order.pop_front()?;
        // SAFETY: as in `pop_back`.
        Some(unsafe { self.retire_page(page) })
    }

    /// The header of page `index`.
    #[must_use]
    pub fn header(&self, index: usize) -> Option<&H> {
        let page = *self.order.get(index)?;
        // SAFETY: a page in `order` starts with an initialized header, and
        // `&self` forbids mutation for the returned lifetime.
        Some(unsafe { page.cast::<H>().as_ref() })
    }

    /// The header of page `index`, mutably.
    #[must_use]
    pub fn header_mut(&mut self, index: usize) -> Option<&mut H> {
        let page = *self.order.get(index)?;
        // SAFETY: as in `header`, with `&mut self` making it exclusive.
        Some(unsafe { page.cast::<H>().as_mut() })
    }

    /// The payload bytes of page `index`.
    #[must_use]
    pub fn payload(&self, index: usize) -> Option<&[MaybeUninit<u8>]> {
        let page = *self.order.get(index)?;
        // SAFETY: the payload lies inside the page after the header, is
        // owned by this list, and any byte is a valid `MaybeUninit<u8>`.
        Some(unsafe {
            core::slice::from_raw_parts(
                page.add(self.payload_offset()).cast().as_ptr(),
                self.payload_len(),
            )
        })
    }

    /// The payload bytes of page `index`, mutably.
    #[must_use]
    pub fn payload_mut(&mut self, index: usize) -> Option<&mut [MaybeUninit<u8>]> {
        let page = *self.order.get(index)?;
        // SAFETY: as in `payload`, with `&mut self` making it exclusive.
        Some(unsafe {
            core::slice::from_raw_parts_mut(
                page.add(self.payload_offset()).cast().as_ptr(),
                self.payload_len(),
            )
        })
    }

    /// Pages in the list.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// The size of every page of this list.
    #[inline]
    #[must_use]
    pub fn page_size(&self) -> PageSize {
        self.raw.page_size()
    }

    /// Offset of the payload from the page base: the header's size rounded
    /// up to 16 bytes.
    #[inline]
    #[must_use]
    pub fn payload_offset(&self) -> usize {
        self.data_offset
    }

    /// Makes room for `additional` more pages without allocating (idle
    /// pages, like a `Vec`'s capacity).
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.raw.reserve(additional);
    }

    /// The headers, in list order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &H> + ExactSizeIterator + '_ {
        // SAFETY: every page in `order` starts with an initialized header.
        self.order
            .iter()
            .map(|page| unsafe { page.cast::<H>().as_ref() })
    }

    /// The headers, in list order, mutably.
    pub fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut H> + ExactSizeIterator + '_ {
        // SAFETY: every page in `order` starts with an initialized header,
        // and distinct pages never overlap, so the borrows are disjoint.
        self.order
            .iter_mut()
            .map(|page| unsafe { page.cast::<H>().as_mut() })
    }

    /// Space statistics: headers count as live bytes (the payload is the
    /// user's, and its use is unknown to the list).
    #[must_use]
    pub fn stats(&self) -> SpaceStats {
        SpaceStats::new(self.len() * size_of::<H>(), self.raw.reserved_bytes())
    }

    /// Returns memory held for reuse to the allocator.
    pub fn shrink_to_fit(&mut self) {
        self.raw.release_spare();
    }

    /// The header of the page containing `obj`, or `None` when this list
    /// owns no page containing that address (a foreign object, or a pointer
    /// into a page that was freed). Only the address of `obj` is used; it is
    /// never dereferenced.
    #[inline]
    #[must_use]
    pub fn header_for<T: ?Sized>(&self, obj: *const T) -> Option<&H> {
        let page = self.raw.page_of(obj.cast::<u8>().addr())?;
        // SAFETY: `page_of` only returns pages in use, each of which starts
        // with an initialized header; `&self` forbids mutation meanwhile.
        Some(unsafe { page.cast::<H>().as_ref() })
    }

    /// The header of the page containing `obj`, mutably; `None` as for
    /// [`header_for`](Self::header_for).
    #[inline]
    #[must_use]
    pub fn header_for_mut<T: ?Sized>(&mut self, obj: *const T) -> Option<&mut H> {
        let page = self.raw.page_of(obj.cast::<u8>().addr())?;
        // SAFETY: as in `header_for`, with `&mut self` making it exclusive.
        Some(unsafe { page.cast::<H>().as_mut() })
    }

    /// The first payload byte of page `index`.
    #[inline]
    pub(crate) fn data(&self, index: usize) -> NonNull<u8> {
        // SAFETY: `data_offset` is smaller than the page size, so the result
        // stays inside the page's allocation.
        unsafe { self.order[index].add(self.data_offset) }
    }

    fn new_page(&mut self, header: H) -> NonNull<u8> {
        let page = self.raw.alloc_page();
        // SAFETY: the page is fresh, at least as large as `H` (the geometry
        // guarantees it) and aligned to its own size, which is at least the
        // alignment of `H`.
        unsafe { page.cast::<H>().write(header) };
        page
    }

    /// # Safety
    ///
    /// `page` must be in use by this list, removed from `order`, and its
    /// payload no longer hold anything that needs dropping.
    unsafe fn retire_page(&mut self, page: NonNull<u8>) -> H {
        // SAFETY: 1. the page holds an initialized header (invariant of
        // pages in use); 2. it is read out exactly once, just before the
        // page is freed, so it is never dropped twice.
        let header = unsafe { page.cast::<H>().read() };
        // SAFETY: the page is in use and, by the caller's contract, nothing
        // reaches it any more.
        unsafe { self.raw.free_page(page) };
        header
    }
}

// Raw access for the multisize containers (`crate::multisize`), which keep
// typed records in the payload and must reach pages through the list's own
// raw pointers (a `&mut [u8]` over a payload would invalidate the pointers
// they hold into it).
impl<H> PageList<H> {
    /// The base address of page `index` (where its header lives), carrying
    /// the provenance of the whole page.
    #[inline]
    pub(crate) fn page_ptr(&self, index: usize) -> Option<NonNull<u8>> {
        self.order.get(index).copied()
    }

    /// The base address of the page in use containing `addr`, carrying
    /// the provenance of the whole page; `None` as for
    /// [`header_for`](Self::header_for).
    #[inline]
    pub(crate) fn page_base_for(&self, addr: *const u8) -> Option<NonNull<u8>> {
        self.raw.page_of(addr.addr())
    }

    /// Moves the first page to the back of the list (header and payload
    /// untouched), so an emptied page is reused without reallocation.
    pub(crate) fn rotate_front_to_back(&mut self) {
        self.order.rotate_left(self.order.len().min(1));
    }

    /// Moves the last page to the front of the list.
    pub(crate) fn rotate_back_to_front(&mut self) {
        self.order.rotate_right(self.order.len().min(1));
    }
}

// Memory maps (`crate::memory_map`).
impl<H> PageList<H> {
    /// Adds to `map` a block per page in list order, labelled `page i`,
    /// with the header and the padding up to the payload; `payload(i, data,
    /// block)` then maps the payload of page `i`, which starts at `data`
    /// (offsets in `block` count from the page base), and the rest of the
    /// page is padding. The idle pages follow as free blocks.
    pub(crate) fn map_pages(
        &self,
        map: &mut crate::memory_map::MemoryMap,
        mut payload: impl FnMut(usize, NonNull<u8>, &mut crate::memory_map::Block),
    ) {
        use crate::memory_map::{Block, SpanKind};
        let page_size = self.page_size().get();
        for (i, &page) in self.order.iter().enumerate() {
            let mut block = Block::new(alloc::format!("page {i}"), page.addr().get());
            block
                .push(SpanKind::Header, size_of::<H>())
                .push_to(SpanKind::Padding, self.data_offset);
            payload(i, self.data(i), &mut block);
            block.push_to(SpanKind::Padding, page_size);
            map.push(block);
        }
        self.raw.map_idle(map);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_size() -> PageSize {
        PageSize::new(4096).unwrap()
    }

    #[test]
    fn chunked_pages_are_adjacent_and_chunks_go_back_when_idle() {
        // 512 KiB pages: chunks of at most two pages (1 MiB).
        let size = PageSize::new(512 << 10).unwrap();
        let page = size.get();
        let mut raw = RawPages::chunked(size);
        let p: Vec<NonNull<u8>> = (0..6).map(|_| raw.alloc_page()).collect();
        // Chunks of 1, 1, 2 and 2 pages: within a chunk, in address order.
        assert_eq!(raw.reserved_bytes(), 6 * page);
        assert_eq!(p[3].addr().get() - p[2].addr().get(), page);
        assert_eq!(p[5].addr().get() - p[4].addr().get(), page);
        // Every page in use is owned; an idle one is not.
        assert!(
            p.iter()
                .all(|&q| raw.page_of(q.addr().get() + 100) == Some(q))
        );
        // SAFETY: in use, never touched again.
        unsafe { raw.free_page(p[5]) };
        // SAFETY: in use, never touched again.
        unsafe { raw.free_page(p[4]) };
        assert_eq!(raw.page_of(p[5].addr().get()), None);
        assert_eq!(
            raw.reserved_bytes(),
            6 * page,
            "idle memory within the limit"
        );
        // Idle pages are reused lowest address first.
        assert_eq!((raw.alloc_page(), raw.alloc_page()), (p[4], p[5]));
        // SAFETY: in use, never touched again.
        unsafe { raw.free_page(p[4]) };
        // SAFETY: in use, never touched again.
        unsafe { raw.free_page(p[5]) };
        // SAFETY: in use, never touched again.
        unsafe { raw.free_page(p[2]) };
        assert_eq!(raw.reserved_bytes(), 6 * page);
        // Four idle pages, two in use: the idle chunk goes back.
        // SAFETY: in use, never touched again.
        unsafe { raw.free_page(p[3]) };
        assert_eq!(raw.reserved_bytes(), 4 * page);
        // SAFETY: in use, never touched again.
        unsafe { raw.free_page(p[0]) };
        assert_eq!(raw.reserved_bytes(), 3 * page);
        raw.release_spare();
        assert_eq!(raw.reserved_bytes(), page, "only the page in use is left");
        raw.free_all();
        assert_eq!(raw.reserved_bytes(), 0);
    }

    #[test]
    fn unchunked_pages_go_back_one_by_one_keeping_one_idle() {
        let mut raw = RawPages::new(page_size());
        let pages: Vec<NonNull<u8>> = (0..4).map(|_| raw.alloc_page()).collect();
        assert_eq!(raw.reserved_bytes(), 4 * 4096);
        for (freed, &p) in pages.iter().enumerate() {
            // SAFETY: in use, never touched again.
            unsafe { raw.free_page(p) };
            // In use, plus one idle page.
            assert_eq!(raw.reserved_bytes(), (4 - freed) * 4096);
        }
        // One idle page is kept back, the others went back at once.
        assert_eq!(raw.reserved_bytes(), 4096);
        raw.release_spare();
        assert_eq!(raw.reserved_bytes(), 0);
    }
}
