//! The raw page layer: size-aligned pages from the global allocator and the
//! address index that says which pages a list owns.
//!
//! Everything here is `pub(crate)`; the safe facades ([`super::PageList`]
//! and the uniform containers) keep the invariants documented on each item.

use core::alloc::Layout;
use core::ptr::NonNull;
use std::alloc::{alloc, dealloc, handle_alloc_error};

use super::PageSize;

/// The pages one owner holds, indexed by address, plus at most one spare
/// page kept back from the allocator to stop alloc/free thrashing at a page
/// boundary.
///
/// This type is not generic, so its code is compiled once for every
/// container (the hashbrown "non-generic inner" idea).
pub(crate) struct RawPages {
    /// The size and alignment of every page.
    size: PageSize,
    /// Base addresses of the pages in use, strictly ascending.
    ///
    /// Invariant: every entry was returned by `alloc_page` of this value and
    /// not yet given to `free_page`; the spare page is not in here, so an
    /// ownership query never answers yes for it.
    sorted: Vec<NonNull<u8>>,
    /// A page taken out of use but not yet returned to the allocator.
    ///
    /// Invariant: allocated with `self.size`'s layout, not in `sorted`.
    spare: Option<NonNull<u8>>,
}

impl RawPages {
    pub(crate) const fn new(size: PageSize) -> Self {
        Self {
            size,
            sorted: Vec::new(),
            spare: None,
        }
    }

    #[inline]
    pub(crate) const fn page_size(&self) -> PageSize {
        self.size
    }

    /// Bytes held from the allocator, the spare page included.
    #[inline]
    pub(crate) fn reserved_bytes(&self) -> usize {
        (self.sorted.len() + usize::from(self.spare.is_some())) * self.size.get()
    }

    #[inline]
    fn layout(&self) -> Layout {
        // `PageSize` is a power of two no larger than `isize::MAX / 2`, so
        // it is a valid size-and-alignment pair.
        Layout::from_size_align(self.size.get(), self.size.get())
            .expect("a page size is a valid layout")
    }

    /// Takes a page into use: the spare one if there is one, else a fresh
    /// page from the global allocator. Its contents are uninitialized.
    pub(crate) fn alloc_page(&mut self) -> NonNull<u8> {
        let page = match self.spare.take() {
            Some(page) => page,
            None => {
                let layout = self.layout();
                // SAFETY: the layout has a non-zero size (a page size is at
                // least `PageSize::MIN`).
                let ptr = unsafe { alloc(layout) };
                NonNull::new(ptr).unwrap_or_else(|| handle_alloc_error(layout))
            }
        };
        debug_assert_eq!(page.addr().get() & self.size.mask(), 0);
        let at = self
            .sorted
            .binary_search(&page)
            .expect_err("a fresh page cannot already be in use");
        self.sorted.insert(at, page);
        page
    }

    /// Takes `page` out of use. It becomes the spare page if there is none,
    /// else it goes back to the allocator.
    ///
    /// # Safety
    ///
    /// `page` must be in use by this value (returned by `alloc_page` and not
    /// freed since), and nothing may access it afterwards.
    pub(crate) unsafe fn free_page(&mut self, page: NonNull<u8>) {
        let at = self.sorted.binary_search(&page);
        debug_assert!(at.is_ok(), "freeing a page this list does not own");
        if let Ok(at) = at {
            self.sorted.remove(at);
        }
        if self.spare.is_none() {
            self.spare = Some(page);
        } else {
            // SAFETY: by the caller's contract the page was allocated by
            // `alloc_page` with this layout and is no longer used.
            unsafe { dealloc(page.as_ptr(), self.layout()) };
        }
    }

    /// Returns the spare page, if any, to the allocator.
    pub(crate) fn release_spare(&mut self) {
        if let Some(page) = self.spare.take() {
            // SAFETY: the spare page was allocated with this layout and is
            // not in use (invariant of `spare`).
            unsafe { dealloc(page.as_ptr(), self.layout()) };
        }
    }

    /// The page in use that contains `addr`, found by masking the address
    /// and looking the base up in the index. Never dereferences anything,
    /// so any address, foreign or stale, is a valid question.
    #[inline]
    pub(crate) fn page_of(&self, addr: usize) -> Option<NonNull<u8>> {
        let base = addr & !self.size.mask();
        // Fast path: most lookups are for the most recently added page.
        if let Some(&last) = self.sorted.last() {
            if last.addr().get() == base {
                return Some(last);
            }
        }
        self.sorted
            .binary_search_by(|page| page.addr().get().cmp(&base))
            .ok()
            .map(|at| self.sorted[at])
    }

    /// Frees every page, spare included. The owner must have dropped what
    /// the pages held.
    pub(crate) fn free_all(&mut self) {
        let layout = self.layout();
        for page in self.sorted.drain(..) {
            // SAFETY: every page in `sorted` was allocated with this layout,
            // and the caller no longer uses any of them.
            unsafe { dealloc(page.as_ptr(), layout) };
        }
        self.release_spare();
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
pub(crate) struct Geometry {
    /// The page size to use: the requested one, grown (to a power of two)
    /// until one element fits after the header and the element's alignment
    /// divides it.
    pub(crate) page_size: PageSize,
    /// Offset of the first element from the page base.
    pub(crate) data_offset: usize,
    /// Elements per page (`usize::MAX` for zero-sized elements).
    pub(crate) capacity: usize,
}

impl Geometry {
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
        debug_assert!(capacity >= 1);
        Self {
            page_size,
            data_offset,
            capacity,
        }
    }
}
