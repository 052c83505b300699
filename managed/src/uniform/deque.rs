//! [`UniformPageDeque`]: a double-ended queue of `T`s on size-aligned pages.
//! The type and its pointer work live in [`raw::deque`](super::raw::deque);
//! this module holds the trait impls and the owning iterator built on its
//! safe API.

use core::fmt;
use core::iter::FusedIterator;
use core::ops::{Index, IndexMut};

#[cfg(test)]
use crate::page::PageSize;

pub use super::raw::deque::{Iter, IterMut, UniformPageDeque};

impl<T, H: Default> Default for UniformPageDeque<T, H> {
    fn default() -> Self {
        Self::with_page_size(Self::DEFAULT_PAGE_SIZE)
    }
}

impl<T, H> Index<usize> for UniformPageDeque<T, H> {
    type Output = T;
    #[track_caller]
    fn index(&self, index: usize) -> &T {
        match self.get(index) {
            Some(value) => value,
            None => out_of_bounds(index, self.len()),
        }
    }
}

impl<T, H> IndexMut<usize> for UniformPageDeque<T, H> {
    #[track_caller]
    fn index_mut(&mut self, index: usize) -> &mut T {
        let len = self.len();
        match self.get_mut(index) {
            Some(value) => value,
            None => out_of_bounds(index, len),
        }
    }
}

/// The panic of an index past the end, out of line: formatted in place, the
/// message took the addresses of `index` and `len`, and every lookup stored
/// both to the stack.
#[cold]
#[inline(never)]
#[track_caller]
fn out_of_bounds(index: usize, len: usize) -> ! {
    panic!("index {index} out of bounds for a deque of length {len}")
}

impl<T: fmt::Debug, H> fmt::Debug for UniformPageDeque<T, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: PartialEq, H> PartialEq for UniformPageDeque<T, H> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: Eq, H> Eq for UniformPageDeque<T, H> {}

/// A deque of clones of the values, in the same order and with the same
/// page size. The values are laid out afresh from the first page on, so the
/// copy's pages do not match the original's one for one: each gets a
/// default header (`H: Default`), not a copy of an original page's.
impl<T: Clone, H: Default> Clone for UniformPageDeque<T, H> {
    fn clone(&self) -> Self {
        let mut copy = Self::with_page_size(self.page_size());
        copy.extend(self.iter().cloned());
        copy
    }
}

impl<T, H: Default> Extend<T> for UniformPageDeque<T, H> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for value in iter {
            self.push_back(value);
        }
    }
}

impl<T, H: Default> FromIterator<T> for UniformPageDeque<T, H> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut deque = Self::default();
        deque.extend(iter);
        deque
    }
}

// ----- iterators -----

/// Owning iterator, front to back; see [`UniformPageDeque::into_iter`].
pub struct IntoIter<T, H = ()> {
    deque: UniformPageDeque<T, H>,
}

impl<T: fmt::Debug, H> fmt::Debug for IntoIter<T, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IntoIter").field(&self.deque).finish()
    }
}

impl<T, H> Iterator for IntoIter<T, H> {
    type Item = T;
    #[inline]
    fn next(&mut self) -> Option<T> {
        self.deque.pop_front()
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.deque.len(), Some(self.deque.len()))
    }
}

impl<T, H> DoubleEndedIterator for IntoIter<T, H> {
    #[inline]
    fn next_back(&mut self) -> Option<T> {
        self.deque.pop_back()
    }
}

impl<T, H> ExactSizeIterator for IntoIter<T, H> {}
impl<T, H> FusedIterator for IntoIter<T, H> {}

impl<T, H> IntoIterator for UniformPageDeque<T, H> {
    type Item = T;
    type IntoIter = IntoIter<T, H>;
    fn into_iter(self) -> IntoIter<T, H> {
        IntoIter { deque: self }
    }
}

impl<'a, T, H> IntoIterator for &'a UniformPageDeque<T, H> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T, H>;
    fn into_iter(self) -> Iter<'a, T, H> {
        self.iter()
    }
}

impl<'a, T, H> IntoIterator for &'a mut UniformPageDeque<T, H> {
    type Item = &'a mut T;
    type IntoIter = IterMut<'a, T, H>;
    fn into_iter(self) -> IterMut<'a, T, H> {
        self.iter_mut()
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::uniform::test_support::{Counted, DropLog};

    #[test]
    fn with_capacity_reserves_pages_for_pushes() {
        let empty: UniformPageDeque<u64> = UniformPageDeque::with_capacity(0);
        assert_eq!(empty.stats().reserved_bytes, 0);
        let zst: UniformPageDeque<()> = UniformPageDeque::with_capacity(usize::MAX / 2);
        assert_eq!(zst.stats().reserved_bytes, 0);
        // Under Miri, four pages (three full, one begun) stand in for many.
        let sizes: &[usize] = if cfg!(miri) {
            &[1, 2047, 2048, 2049, 6145]
        } else {
            &[1, 2047, 2048, 2049, 10_000]
        };
        for &n in sizes {
            let mut back = UniformPageDeque::with_capacity(n);
            let reserved = back.stats().reserved_bytes;
            let pages = n.div_ceil(back.page_capacity());
            assert_eq!(reserved, pages * back.page_size().get());
            back.extend(0..n as u64);
            assert_eq!(
                back.stats().reserved_bytes,
                reserved,
                "{n} pushed at the back"
            );
            let mut front = UniformPageDeque::with_capacity(n);
            for i in 0..n as u64 {
                front.push_front(i);
            }
            assert_eq!(
                front.stats().reserved_bytes,
                reserved,
                "{n} pushed at the front"
            );
            assert!(front.iter().rev().copied().eq(0..n as u64));
        }
    }

    fn small<T>() -> UniformPageDeque<T> {
        UniformPageDeque::with_page_size(PageSize::new(64).unwrap())
    }

    #[test]
    fn pushes_and_pops_across_pages() {
        let mut d = small::<u64>();
        assert_eq!(d.page_capacity(), 8);
        for i in 0..20 {
            d.push_back(i);
        }
        for i in 1..=20 {
            d.push_front(-(i as i64) as u64);
        }
        assert_eq!(d.len(), 40);
        assert_eq!(d[0], -20i64 as u64);
        assert_eq!(d[39], 19);
        let forward: Vec<_> = d.iter().copied().collect();
        let mut backward: Vec<_> = d.iter().rev().copied().collect();
        backward.reverse();
        assert_eq!(forward, backward);
        assert_eq!(d.pop_back(), Some(19));
        assert_eq!(d.pop_front(), Some(-20i64 as u64));
        while d.pop_front().is_some() {}
        assert!(d.is_empty());
        assert_eq!(d.stats().live_bytes, 0);
    }

    #[test]
    #[allow(clippy::unnecessary_fold)] // exercising `fold` itself is the point
    fn iterators_meet_in_the_middle() {
        let mut d = small::<u32>();
        d.extend(0..37);
        let mut it = d.iter();
        let mut seen = Vec::new();
        loop {
            match (it.next(), it.next_back()) {
                (Some(a), Some(b)) => seen.extend([*a, *b]),
                (Some(a), None) => seen.push(*a),
                _ => break,
            }
            assert_eq!(it.len(), 37 - seen.len());
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..37).collect::<Vec<_>>());
        for x in d.iter_mut().rev().take(3) {
            *x += 100;
        }
        assert_eq!(d.back(), Some(&136));
        // `fold` walks page slices; it must agree with `next` from any
        // partially consumed state.
        let mut it = d.iter();
        it.next();
        it.next_back();
        assert_eq!(it.clone().fold(0, |a, v| a + v), it.copied().sum::<u32>());
        assert_eq!(d.iter().fold(0, |a, v| a + v), (0..37).sum::<u32>() + 300);
        d.iter_mut().for_each(|v| *v += 1);
        assert_eq!(d[0], 1);
        assert_eq!(d.into_iter().rev().take(2).collect::<Vec<_>>(), [137, 136]);
    }

    #[test]
    fn header_for_answers_only_for_own_pages() {
        let mut d: UniformPageDeque<u64, u32> =
            UniformPageDeque::with_page_size(PageSize::new(128).unwrap());
        d.extend(0..40);
        let mut pages = Vec::new();
        for i in 0..40 {
            let p: *const u64 = &d[i];
            pages.push(p.addr() & !127);
            *d.header_for_mut(p).unwrap() += 1;
        }
        let distinct: std::collections::BTreeSet<_> = pages.iter().collect();
        assert!(distinct.len() >= 3);
        assert_eq!(d.headers().map(|h| *h as usize).sum::<usize>(), 40);
        let other = 5u64;
        assert!(d.header_for(&other).is_none());
        let first: *const u64 = &d[0];
        while d.len() > 20 {
            d.pop_front();
        }
        assert!(d.header_for(first).is_none(), "its page was freed");
    }

    #[test]
    fn zero_sized_elements_use_no_pages() {
        let mut d = UniformPageDeque::new();
        for _ in 0..1000 {
            d.push_back(());
            d.push_front(());
        }
        assert_eq!(d.len(), 2000);
        assert_eq!(d.iter().count(), 2000);
        assert_eq!(d.iter().rev().count(), 2000);
        assert_eq!(d.stats().reserved_bytes, 0);
        assert_eq!(d.pop_back(), Some(()));
        assert_eq!(d.into_iter().count(), 1999);
    }

    #[test]
    fn over_aligned_and_larger_than_a_page() {
        #[repr(align(64))]
        #[derive(Debug, PartialEq, Clone, Copy)]
        struct Line(u8);
        let mut d = UniformPageDeque::new();
        for i in 0..200 {
            d.push_back(Line(i));
        }
        for x in &d {
            assert_eq!(core::ptr::from_ref(x).addr() % 64, 0);
        }
        assert_eq!(d[199], Line(199));

        // 4 KiB pages, so a 5000-byte element takes the large-element path.
        let mut big: UniformPageDeque<[u8; 5000]> =
            UniformPageDeque::with_page_size(PageSize::DEFAULT);
        for i in 0..5u8 {
            big.push_front([i; 5000]);
        }
        assert_eq!(big.page_size().get(), 8192);
        assert_eq!(big[0][4999], 4);
        assert_eq!(big.pop_back().unwrap()[0], 0);
    }

    #[test]
    fn shrink_to_fit_returns_pages() {
        let mut d = small::<u64>();
        d.extend(0..100);
        let full = d.stats().reserved_bytes;
        d.clear();
        // Emptied pages are kept as capacity (up to a chunk's worth) ...
        assert_eq!(d.stats().reserved_bytes, full);
        // ... until `shrink_to_fit`.
        d.shrink_to_fit();
        assert_eq!(d.stats().reserved_bytes, 0);
        d.push_front(1);
        assert_eq!(d.front(), Some(&1));
    }

    #[test]
    fn every_element_dropped_once() {
        let log = DropLog::default();
        let mut d = small::<Counted>();
        for i in 0..50 {
            d.push_back(log.make(i));
            d.push_front(log.make(1000 + i));
        }
        drop(d.pop_back());
        drop(d.pop_front());
        assert_eq!(log.dropped(), 2);
        let it = d.into_iter();
        drop(it);
        log.assert_all_dropped_once(100);
    }

    #[test]
    fn panicking_destructor_still_drops_the_rest() {
        let log = DropLog::default();
        let mut d = small::<Counted>();
        for i in 0..30 {
            d.push_back(if i == 7 {
                log.make_panicking(i)
            } else {
                log.make(i)
            });
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(d)));
        assert!(result.is_err());
        log.assert_all_dropped_once(30);
    }
}
