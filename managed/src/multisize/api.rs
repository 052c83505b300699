//! The API the three multisize page containers share, written once.
//!
//! [`common_api!`] generates, for each of [`MultisizePageDeque`],
//! [`MultisizePageQueue`] and [`MultisizePageStack`] (each a thin wrapper
//! over a `RecordList` in a field named `list`), in two parts so that each
//! container file lists its methods in the crate's table order:
//!
//! - `common_api!(@constructors Type, "noun")`: `new`, the constant
//!   `DEFAULT_PAGE_SIZE`, `with_page_size`, and `Default`. Invoked first.
//! - `common_api!(@common Type, "noun", "order", "clear order", push:
//!   "push method")`: `len`, `is_empty`, `clear`, `iter`, `iter_mut`,
//!   `stats`, `shrink_to_fit`, `page_size`, `header_for`, `memory_map`
//!   and the family's own `pages`, plus `Debug` and `IntoIterator` for
//!   `&Type` and `&mut Type`. Invoked after the container's own add,
//!   remove and get methods (push, pop, front/back/top), before the
//!   family's own (typed checks, boxed pops, drops).
//!
//! Every generated method carries its doc comment, specialised with the
//! container's noun and order.
//!
//! [`MultisizePageDeque`]: super::MultisizePageDeque
//! [`MultisizePageQueue`]: super::MultisizePageQueue
//! [`MultisizePageStack`]: super::MultisizePageStack

/// Generates the methods the three multisize page containers
/// (`MultisizePageDeque`, `MultisizePageQueue`, `MultisizePageStack`, each a
/// wrapper over a `RecordList` field named `list`) share, each with its doc
/// comment:
///
/// - `@constructors`: `new`, `DEFAULT_PAGE_SIZE`, `with_page_size`, and
///   `Default`;
/// - `@common`: `len`, `is_empty`, `clear`, `iter`, `iter_mut`, `stats`,
///   `shrink_to_fit`, `page_size`, `header_for`, `memory_map`, `pages`, and
///   `Debug` and `IntoIterator` for `&Type` and `&mut Type`.
macro_rules! common_api {
    (@constructors $ty:ident, $noun:literal) => {
        impl<D: ?Sized + 'static> $ty<D> {
            #[doc = concat!("An empty ", $noun, " with pages of [`DEFAULT_PAGE_SIZE`](Self::DEFAULT_PAGE_SIZE).")]
            /// Allocates nothing.
            #[must_use]
            pub fn new() -> Self {
                Self::with_page_size(Self::DEFAULT_PAGE_SIZE)
            }

            /// The page size of [`new`](Self::new) and `default`: 16 KiB,
            /// as for the uniform deques. A page switch (opening or
            /// retiring a page, a few dozen instructions) then comes every
            /// few hundred records of typical sizes rather than every few
            /// dozen, and values up to about 4 KiB sit inline. Use
            /// [`with_page_size`](Self::with_page_size) for smaller pages
            /// when many small containers matter more.
            pub const DEFAULT_PAGE_SIZE: $crate::page::PageSize =
                match $crate::page::PageSize::new(16 * 1024) {
                    Some(size) => size,
                    None => panic!("16 KiB is a valid page size"),
                };

            #[doc = concat!("An empty ", $noun, " with pages of at least `size` bytes (grown so")]
            /// that a page holds at least eight record headers). Allocates
            /// nothing.
            #[must_use]
            pub fn with_page_size(size: $crate::page::PageSize) -> Self {
                Self {
                    list: $crate::multisize::raw::list::RecordList::new(size),
                }
            }
        }

        impl<D: ?Sized + 'static> Default for $ty<D> {
            fn default() -> Self {
                Self::new()
            }
        }
    };
    (@common $ty:ident, $noun:literal, $order:literal, $clear_order:literal, push: $push:literal) => {
        impl<D: ?Sized + 'static> $ty<D> {
            #[doc = concat!("Values in the ", $noun, ".")]
            #[inline]
            #[must_use]
            pub fn len(&self) -> usize {
                self.list.len()
            }

            #[doc = concat!("Whether the ", $noun, " holds no value.")]
            #[inline]
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.list.len() == 0
            }

            #[doc = concat!("Drops every value, ", $clear_order, ". If a destructor panics the")]
            /// others are still dropped and the panic then resumes.
            pub fn clear(&mut self) {
                self.list.clear();
            }

            #[doc = concat!("The values, ", $order, " (double-ended).")]
            pub fn iter(&self) -> $crate::multisize::Iter<'_, D> {
                self.list.iter()
            }

            #[doc = concat!("The values, ", $order, ", mutably (double-ended).")]
            pub fn iter_mut(&mut self) -> $crate::multisize::IterMut<'_, D> {
                self.list.iter_mut()
            }

            /// Space statistics: value bytes live, pages and large-value
            /// blocks reserved.
            #[must_use]
            pub fn stats(&self) -> $crate::SpaceStats {
                self.list.stats()
            }

            /// Compacts: repacks the values densely into as few pages as
            /// they need when that frees pages, and returns the reserve and
            /// spare pages to the allocator.
            pub fn shrink_to_fit(&mut self) {
                self.list.shrink_to_fit();
            }

            /// The page size in use.
            #[must_use]
            pub fn page_size(&self) -> $crate::page::PageSize {
                self.list.page_size()
            }

            #[doc = concat!("What the page holding `ptr` contains, or `None` when the ", $noun)]
            /// owns no page there (a foreign, heap-placed or zero-sized
            /// value, or a stale pointer). Only the address is used.
            #[must_use]
            pub fn header_for<P: ?Sized>(
                &self,
                ptr: *const P,
            ) -> Option<$crate::multisize::PageInfo> {
                self.list.info_for(ptr)
            }

            #[doc = concat!("A map of the ", $noun, "'s memory: one block per page (the page")]
            /// header, then each record: its sizes and metadata, the value
            /// where it sits in the record, padding around it; free room
            /// before the first record and after the last), the idle pages,
            /// and a block per value too large for a page. Live bytes are
            /// [`stats`](Self::stats)' live bytes, and the blocks add up to
            /// its reserved bytes.
            ///
            /// ```
            /// use managed::memory_map::SpanKind;
            /// use managed::prelude::*;
            ///
            #[doc = concat!("let mut list: ", stringify!($ty), "<dyn core::fmt::Debug> = ", stringify!($ty), "::new();")]
            #[doc = concat!("list.", $push, "(1u8, coercion!());")]
            #[doc = concat!("list.", $push, "([2u64; 3], coercion!());")]
            #[doc = concat!("list.", $push, "([0u8; 20_000], coercion!()); // a block of its own")]
            /// let map = list.memory_map();
            /// assert_eq!(map.bytes(SpanKind::Live), 1 + 24 + 20_000);
            /// assert_eq!(map.reserved_bytes(), list.stats().reserved_bytes);
            /// ```
            #[must_use]
            pub fn memory_map(&self) -> $crate::memory_map::MemoryMap {
                self.list.memory_map(stringify!($ty))
            }

            /// Pages holding values (reserve pages kept for reuse not
            /// counted).
            #[must_use]
            pub fn pages(&self) -> usize {
                self.list.pages()
            }
        }

        impl<D: ?Sized + core::fmt::Debug + 'static> core::fmt::Debug for $ty<D> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_list().entries(self.iter()).finish()
            }
        }

        impl<'a, D: ?Sized + 'static> IntoIterator for &'a $ty<D> {
            type Item = &'a D;
            type IntoIter = $crate::multisize::Iter<'a, D>;
            fn into_iter(self) -> Self::IntoIter {
                self.iter()
            }
        }

        impl<'a, D: ?Sized + 'static> IntoIterator for &'a mut $ty<D> {
            type Item = &'a mut D;
            type IntoIter = $crate::multisize::IterMut<'a, D>;
            fn into_iter(self) -> Self::IntoIter {
                self.iter_mut()
            }
        }
    };
}
pub(crate) use common_api;
