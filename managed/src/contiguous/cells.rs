//! The non-generic bookkeeping of a [`ContiguousUniformPool`]: the slot
//! cells proxies point to, and which cell each stored object belongs to.
//!
//! Kept free of `T` so it is compiled once, whatever the pools' types.
//!
//! A *cell* is one pointer on a cell page: while a proxy (or a pending
//! removal) holds it, it contains the current address of its object in the
//! pool's storage, rewritten by the pool whenever the object moves (the
//! `Forward` scheme of seed 000: a stable cell the object's back-pointer
//! names). Cell pages come from a [`PageList`] and are aligned to their
//! size, so masking a cell's address gives its page's header, which points
//! at the pool's core: an 8-byte proxy finds both its object (one load) and
//! its pool (a mask and one load of a cache-resident header) from its own
//! value.
//!
//! [`ContiguousUniformPool`]: super::ContiguousUniformPool

use core::alloc::Layout;
use core::ptr::{self, NonNull};

use crate::page::{PageList, PageSize};

/// A slot cell: holds the address of its object while used.
pub(crate) type CellPtr = NonNull<*mut u8>;

/// The size, and alignment, of a cell page: 510 cells after the header,
/// so a million proxies need about two thousand page headers (which stay
/// cache-resident), while a small pool reserves only 4 KiB of cells.
const CELL_PAGE: PageSize = PageSize::DEFAULT;

/// The header at the base of every cell page.
struct CellPage {
    /// The heap-allocated core of the pool owning the page (type-erased),
    /// which never moves while the pool lives.
    core: NonNull<u8>,
}

/// The pool's core, found from a cell by masking its address.
///
/// # Safety
///
/// `cell` must be a cell handed out by [`Cells::acquire`] of a `Cells`
/// that is still alive and has not been cleared since.
#[inline(always)]
pub(crate) unsafe fn core_of(cell: CellPtr) -> NonNull<u8> {
    let base = cell.as_ptr().map_addr(|addr| addr & !CELL_PAGE.mask());
    // SAFETY: `cell` lies in a live page of the list (caller contract),
    // derived from the page's own pointer, so masking it yields the page
    // base with the page's provenance, where `PageList` keeps an
    // initialized `CellPage` that nothing mutates after creation.
    unsafe { (*base.cast::<CellPage>()).core }
}

/// The cells of one pool.
pub(crate) struct Cells {
    /// The cell pages, each headed by a [`CellPage`] naming the pool.
    pages: PageList<CellPage>,
    /// Cells per page.
    per_page: usize,
    /// Released cells, reused last in, first out. Invariant: each lies in a
    /// live page, appears once, and is held by no one.
    free: Vec<CellPtr>,
    /// Next never-used cell of the last page, or null; `bump..end` are
    /// never-used cells of that page.
    bump: *mut *mut u8,
    /// End of the last page's cells (null when `bump` is).
    end: *mut *mut u8,
}

impl Cells {
    /// No cells, no pages.
    pub(crate) fn new() -> Self {
        let (pages, geometry) = PageList::for_elements(CELL_PAGE, Layout::new::<*mut u8>());
        debug_assert_eq!(geometry.page_size, CELL_PAGE);
        Self {
            pages,
            per_page: geometry.capacity,
            free: Vec::new(),
            bump: ptr::null_mut(),
            end: ptr::null_mut(),
        }
    }

    /// A free cell, on a page naming `core` as its pool's core. Its content
    /// is unspecified until the caller writes the object's address.
    #[inline]
    pub(crate) fn acquire(&mut self, core: NonNull<u8>) -> CellPtr {
        if let Some(cell) = self.free.pop() {
            return cell;
        }
        if self.bump == self.end {
            self.new_page(core);
        }
        let cell = self.bump;
        // SAFETY: `bump < end`, both in the last page, so `bump + 1 <= end`.
        self.bump = unsafe { cell.add(1) };
        // SAFETY: a cell address inside a page is never null.
        unsafe { NonNull::new_unchecked(cell) }
    }

    #[cold]
    #[inline(never)]
    fn new_page(&mut self, core: NonNull<u8>) {
        self.pages.push_back(CellPage { core });
        let first = self
            .pages
            .data(self.pages.len() - 1)
            .cast::<*mut u8>()
            .as_ptr();
        self.bump = first;
        // SAFETY: the page holds `per_page` cells after its header.
        self.end = unsafe { first.add(self.per_page) };
    }

    /// Makes sure one [`release`](Self::release) will not allocate.
    #[inline]
    pub(crate) fn reserve_release(&mut self) {
        self.free.reserve(1);
    }

    /// Puts `cell` back for reuse.
    ///
    /// # Safety
    ///
    /// `cell` was acquired from `self` (and not cleared since) and nothing
    /// uses it any more.
    #[inline]
    pub(crate) unsafe fn release(&mut self, cell: CellPtr) {
        self.free.push(cell);
    }

    /// Forgets every cell. Pages are freed (one is kept for reuse).
    pub(crate) fn clear(&mut self) {
        self.pages.clear();
        self.free.clear();
        self.bump = ptr::null_mut();
        self.end = ptr::null_mut();
    }

    /// Returns memory held for reuse to the allocator.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.pages.shrink_to_fit();
        self.free.shrink_to_fit();
    }

    /// Bytes of cell pages and free-cell list reserved.
    pub(crate) fn reserved_bytes(&self) -> usize {
        self.pages.stats().reserved_bytes + self.free.capacity() * size_of::<CellPtr>()
    }
}

/// The slot cells, and the removals deferred while the pool was borrowed.
pub(crate) struct Table {
    /// The slot cells.
    pub(crate) cells: Cells,
    /// Cells whose proxy was dropped while the pool was borrowed: their
    /// objects stay in place until the borrow ends. Each is a distinct used
    /// cell; the pool's `PENDING` state bit is set exactly when this is not
    /// empty.
    pub(crate) pending: Vec<CellPtr>,
}

impl Table {
    /// No cells.
    pub(crate) fn new() -> Self {
        Self {
            cells: Cells::new(),
            pending: Vec::new(),
        }
    }

    /// Forgets every cell.
    pub(crate) fn clear(&mut self) {
        self.cells.clear();
        self.pending.clear();
    }

    /// Bytes of bookkeeping reserved.
    pub(crate) fn reserved_bytes(&self) -> usize {
        self.cells.reserved_bytes() + self.pending.capacity() * size_of::<CellPtr>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cell_finds_its_pool_core_across_pages() {
        let mut core_a = 0u64;
        let mut core_b = 0u64;
        let (a, b) = (
            NonNull::from(&mut core_a).cast(),
            NonNull::from(&mut core_b).cast(),
        );
        let mut cells_a = Cells::new();
        let mut cells_b = Cells::new();
        let n = 2 * cells_a.per_page + 3;
        let mine: Vec<CellPtr> = (0..n).map(|_| cells_a.acquire(a)).collect();
        let theirs = cells_b.acquire(b);
        let addresses: Vec<*mut u8> = (0..n).map(core::ptr::without_provenance_mut).collect();
        for (cell, &address) in mine.iter().zip(&addresses) {
            // SAFETY: a fresh cell of a live page.
            unsafe { cell.write(address) };
        }
        // SAFETY: cells of live, uncleared `Cells`.
        assert!(mine.iter().all(|&c| unsafe { core_of(c) } == a));
        // SAFETY: as above.
        assert_eq!(unsafe { core_of(theirs) }, b);
        // Distinct cells, each keeping what was written to it.
        for (cell, &address) in mine.iter().zip(&addresses) {
            // SAFETY: a used cell of a live page.
            assert_eq!(unsafe { cell.read() }, address);
        }
        // Three pages in use, carved in chunks of 1, 1 and 2 pages.
        assert_eq!(cells_a.reserved_bytes(), 4 * CELL_PAGE.get());
    }

    #[test]
    fn released_cells_are_reused_last_in_first_out() {
        let mut core = 0u64;
        let core = NonNull::from(&mut core).cast();
        let mut cells = Cells::new();
        let first = cells.acquire(core);
        let second = cells.acquire(core);
        cells.reserve_release();
        // SAFETY: acquired from `cells`, no longer used.
        unsafe { cells.release(first) };
        // SAFETY: as above.
        unsafe { cells.release(second) };
        assert_eq!(cells.acquire(core), second);
        assert_eq!(cells.acquire(core), first);
        let fresh = cells.acquire(core);
        assert!(fresh != first && fresh != second);
        cells.clear();
        cells.shrink_to_fit();
        assert_eq!(cells.reserved_bytes(), 0);
        // Usable again after a clear.
        // SAFETY: a cell of the `Cells` as it is now.
        assert_eq!(unsafe { core_of(cells.acquire(core)) }, core);
    }
}
