//! Pages and page lists: the substrate every page container stands on.
//!
//! A page is a block of [`PageSize`] bytes aligned to its own size, taken
//! from the global allocator. Because of that alignment, masking the low
//! bits of any address inside a page yields the page's base, where a
//! [`PageList<H>`] keeps a user header `H`: finding an object's header is a
//! bitwise-and and a load (two instructions), after a lookup in
//! the list's address index that proves the list owns that page, so a
//! foreign or stale pointer is answered with `None`, never with a read of
//! memory the list does not own.
//!
//! ```
//! use managed::prelude::*;
//!
//! #[derive(Default)]
//! struct Meta { dirty: bool }
//!
//! let mut pages: PageList<Meta> = PageList::new();
//! pages.push_back(Meta::default());
//! pages.push_back(Meta::default());
//! let payload = pages.payload_mut(1).unwrap();
//! payload[0].write(7u8);
//! let inside: *const u8 = payload[0].as_ptr();
//!
//! // Headers are mutable.
//! pages.header_for_mut(inside).unwrap().dirty = true;
//! assert!(pages.header(1).unwrap().dirty);
//! assert!(!pages.header(0).unwrap().dirty);
//!
//! // A pointer the list does not own has no header.
//! let elsewhere = 5u8;
//! assert!(pages.header_for(&elsewhere).is_none());
//! ```
//!
//! Objects larger than a page: [`PageList`] itself hands out fixed-size
//! payloads; the containers built on it pick a page size (a power of two,
//! at least the requested one) large enough for one element, so a type
//! larger than 4 KiB simply gets larger pages. That is the documented
//! large-object path.

pub(crate) mod raw;

use alloc::vec::Vec;
use core::alloc::Layout;
use core::fmt;
use core::num::NonZeroUsize;

pub use raw::PageList;

/// The size, and alignment, of a page: a power of two between
/// [`PageSize::MIN`] and [`PageSize::MAX`]. The default is 4 KiB.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PageSize(NonZeroUsize);

impl PageSize {
    /// The smallest page size, 64 bytes (a cache line).
    pub const MIN: PageSize = PageSize(NonZeroUsize::new(64).unwrap());
    /// The largest page size: 1 GiB on 64-bit targets, 256 MiB on others.
    pub const MAX: PageSize =
        PageSize(NonZeroUsize::new(if usize::BITS >= 64 { 1 << 30 } else { 1 << 28 }).unwrap());
    /// The default page size, 4 KiB (the usual size of a virtual-memory
    /// page).
    pub const DEFAULT: PageSize = PageSize(NonZeroUsize::new(4096).unwrap());

    /// A page size of `bytes`, or `None` unless it is a power of two within
    /// `MIN..=MAX`.
    #[must_use]
    pub const fn new(bytes: usize) -> Option<Self> {
        if bytes.is_power_of_two() && bytes >= Self::MIN.get() && bytes <= Self::MAX.get() {
            match NonZeroUsize::new(bytes) {
                Some(n) => Some(PageSize(n)),
                None => None,
            }
        } else {
            None
        }
    }

    /// The size in bytes.
    #[inline]
    #[must_use]
    pub const fn get(self) -> usize {
        self.0.get()
    }

    /// The mask of the in-page offset bits (`size - 1`).
    #[inline]
    #[must_use]
    pub const fn mask(self) -> usize {
        self.0.get() - 1
    }
}

impl Default for PageSize {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Debug for PageSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PageSize({})", self.get())
    }
}

impl<H> PageList<H> {
    /// An empty list with 4 KiB pages. Allocates nothing.
    #[must_use]
    pub fn new() -> Self {
        Self::with_page_size(PageSize::DEFAULT)
    }

    /// An empty list with pages of `size` bytes, grown to a power of two
    /// that fits the header if `H` does not fit in `size`. Allocates
    /// nothing.
    #[must_use]
    pub fn with_page_size(size: PageSize) -> Self {
        let payload = Layout::from_size_align(1, 16).expect("a valid layout");
        Self::for_elements(size, payload).0
    }

    /// Whether the list has no pages.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of payload per page.
    #[inline]
    #[must_use]
    pub fn payload_len(&self) -> usize {
        self.page_size().get().saturating_sub(self.payload_offset())
    }

    /// Removes every page, dropping the headers. The pages' memory is kept
    /// for reuse (up to one chunk's worth, like a `Vec`'s capacity);
    /// [`shrink_to_fit`](Self::shrink_to_fit) returns it.
    pub fn clear(&mut self) {
        while self.pop_back().is_some() {}
    }
}

impl<H> Default for PageList<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H> Drop for PageList<H> {
    fn drop(&mut self) {
        if core::mem::needs_drop::<H>() {
            // Drop every header even if one destructor panics: the guard
            // keeps going with the rest while unwinding (and finds nothing
            // left on the normal path).
            let mut rest = scopeguard::guard(self, |list| while list.pop_back().is_some() {});
            while rest.pop_back().is_some() {}
        }
        // The pages themselves are freed by `RawPages`' own drop.
    }
}

impl<H: fmt::Debug> fmt::Debug for PageList<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageList")
            .field("page_size", &self.page_size())
            .field("headers", &self.iter().collect::<Vec<_>>())
            .finish()
    }
}

// Memory maps (`crate::memory_map`).
impl<H> PageList<H> {
    /// A map of the list's memory: one block per page in list order (the
    /// header `H`, padding up to the payload, the payload as one opaque
    /// span: the list does not know what its user keeps there), then the
    /// idle pages kept for reuse. Header bytes are what
    /// [`stats`](Self::stats) counts as live.
    ///
    /// ```
    /// use managed::memory_map::SpanKind;
    /// use managed::prelude::*;
    ///
    /// let mut pages: PageList<u64> = PageList::new();
    /// pages.push_back(1);
    /// pages.push_back(2);
    /// let map = pages.memory_map();
    /// assert_eq!(map.blocks().len(), 2);
    /// assert_eq!(map.bytes(SpanKind::Header), pages.stats().live_bytes);
    /// assert_eq!(map.reserved_bytes(), pages.stats().reserved_bytes);
    /// ```
    #[must_use]
    pub fn memory_map(&self) -> crate::memory_map::MemoryMap {
        use crate::memory_map::{MemoryMap, SpanKind, type_name};
        let mut map = MemoryMap::new(alloc::format!("PageList<{}>", type_name::<H>()));
        let payload = self.payload_len();
        self.map_pages(&mut map, |_, _, block| {
            block.push(SpanKind::Opaque, payload);
        });
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::MaybeUninit;
    use core::ptr::NonNull;
    use std::cell::Cell;
    use std::rc::Rc;

    /// A page list is covariant in its header type, like `Vec<H>`: it owns
    /// the headers and hands out `&mut H` only through `&mut self`.
    #[test]
    fn page_list_is_covariant() {
        fn shorter<'a>(l: PageList<&'static str>) -> PageList<&'a str> {
            l
        }
        let local = String::from("local");
        let mut list = shorter(PageList::new());
        list.push_back(&local);
        let payload: *const MaybeUninit<u8> = &list.payload(0).unwrap()[0];
        assert_eq!(list.header_for(payload).copied(), Some("local"));
    }

    #[test]
    fn page_sizes_are_validated() {
        assert_eq!(PageSize::default().get(), 4096);
        assert!(PageSize::new(4096).is_some());
        assert!(PageSize::new(4095).is_none());
        assert!(PageSize::new(32).is_none());
        assert!(PageSize::new(0).is_none());
        assert_eq!(PageSize::new(1 << 16).unwrap().mask(), 0xffff);
    }

    #[test]
    fn header_for_finds_headers_on_several_pages() {
        let mut list: PageList<u32> = PageList::with_page_size(PageSize::new(256).unwrap());
        for i in 0..8 {
            list.push_back(i);
        }
        for i in 0..8 {
            let payload = list.payload(i).unwrap();
            let first: *const MaybeUninit<u8> = &payload[0];
            let last: *const MaybeUninit<u8> = &payload[payload.len() - 1];
            assert_eq!(list.header_for(first), Some(&(i as u32)));
            assert_eq!(list.header_for(last), Some(&(i as u32)));
            // The header's own address is inside the page too.
            let header: *const u32 = list.header(i).unwrap();
            assert_eq!(list.header_for(header), Some(&(i as u32)));
        }
    }

    #[test]
    fn header_for_rejects_foreign_and_freed_pointers() {
        let mut a: PageList<u8> = PageList::new();
        let mut b: PageList<u8> = PageList::new();
        a.push_back(1);
        b.push_back(2);
        let in_b: *const MaybeUninit<u8> = &b.payload(0).unwrap()[10];
        assert!(a.header_for(in_b).is_none());
        let on_stack = 0u64;
        assert!(a.header_for(&on_stack).is_none());
        let boxed = Box::new([0u8; 64]);
        assert!(a.header_for(&*boxed).is_none());

        // A pointer into a page that was freed.
        a.push_back(3);
        let in_second: *const MaybeUninit<u8> = &a.payload(1).unwrap()[0];
        assert_eq!(a.header_for(in_second), Some(&3));
        assert_eq!(a.pop_back(), Some(3));
        assert!(a.header_for(in_second).is_none());
        assert_eq!(a.header_for(a.header(0).unwrap() as *const u8), Some(&1));
        // Null and dangling pointers are just addresses.
        assert!(a.header_for(core::ptr::null::<u8>()).is_none());
        assert!(a.header_for(NonNull::<u64>::dangling().as_ptr()).is_none());
    }

    #[test]
    fn headers_are_mutable_and_ordered() {
        let mut list: PageList<String> = PageList::new();
        list.push_back("b".into());
        list.push_front("a".into());
        list.push_back("c".into());
        let inside: *const MaybeUninit<u8> = &list.payload(2).unwrap()[100];
        list.header_for_mut(inside).unwrap().push('!');
        assert_eq!(
            list.iter().map(String::as_str).collect::<Vec<_>>(),
            ["a", "b", "c!"]
        );
        for h in list.iter_mut() {
            h.make_ascii_uppercase();
        }
        assert_eq!(list.pop_front().as_deref(), Some("A"));
        assert_eq!(list.pop_back().as_deref(), Some("C!"));
        assert_eq!(list.len(), 1);
        // Three pages came in chunks of 1, 1 and 2 pages; idle pages are
        // kept (up to a chunk's worth) until `shrink_to_fit`.
        assert_eq!(list.stats().reserved_bytes, 4 * 4096, "idle chunks kept");
        list.shrink_to_fit();
        assert_eq!(list.stats().reserved_bytes, 4096);
        list.clear();
        list.shrink_to_fit();
        assert_eq!(list.stats().reserved_bytes, 0);
        assert_eq!(list.stats().space_ratio(), 1.0);
    }

    #[test]
    fn payload_is_writable_and_aligned() {
        let mut list: PageList<[u8; 3]> = PageList::new();
        list.push_back([1, 2, 3]);
        assert_eq!(list.payload_offset(), 16);
        let payload = list.payload_mut(0).unwrap();
        assert_eq!(payload.len(), 4096 - 16);
        assert_eq!(payload.as_ptr().addr() % 16, 0);
        for (i, byte) in payload.iter_mut().enumerate() {
            byte.write(i as u8);
        }
        assert_eq!(list.header(0), Some(&[1, 2, 3]));
    }

    #[test]
    fn headers_larger_than_a_page_grow_the_page() {
        let mut list: PageList<[u64; 100]> = PageList::with_page_size(PageSize::MIN);
        assert_eq!(list.page_size().get(), 1024);
        list.push_back([7; 100]);
        assert_eq!(list.header(0).unwrap()[99], 7);
    }

    #[test]
    fn every_header_dropped_once_even_when_one_panics() {
        struct Loud(Rc<Cell<u32>>, bool);
        impl Drop for Loud {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
                if self.1 {
                    panic!("header destructor panics");
                }
            }
        }
        let drops = Rc::new(Cell::new(0));
        let mut list = PageList::new();
        for i in 0..5 {
            list.push_back(Loud(drops.clone(), i == 2));
        }
        drop(list.pop_front());
        assert_eq!(drops.get(), 1);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(list)));
        assert!(result.is_err());
        assert_eq!(drops.get(), 5);
    }
}
