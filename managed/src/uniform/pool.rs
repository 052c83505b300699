//! [`UniformPool`]: a free-list pool of `T`s on pages, addressed by
//! generational `Copy` keys. The type and its pointer work live in
//! [`raw::pool`](super::raw::pool); this module holds the trait impls and
//! iterator wrappers built on its safe API.

use core::fmt;
use core::iter::FusedIterator;
use core::ops::{Index, IndexMut};

use crate::page::PageSize;

pub use super::raw::pool::{Iter, IterMut, PoolKey, UniformPool};

impl<T, H: Default> Default for UniformPool<T, H> {
    fn default() -> Self {
        Self::with_page_size(PageSize::DEFAULT)
    }
}

impl<T, H> Index<PoolKey> for UniformPool<T, H> {
    type Output = T;
    #[track_caller]
    fn index(&self, key: PoolKey) -> &T {
        match self.get(key) {
            Some(value) => value,
            None => missing(key.parts()),
        }
    }
}

impl<T, H> IndexMut<PoolKey> for UniformPool<T, H> {
    #[track_caller]
    fn index_mut(&mut self, key: PoolKey) -> &mut T {
        match self.get_mut(key) {
            Some(value) => value,
            None => missing(key.parts()),
        }
    }
}

/// The panic of indexing with a stale or foreign key. Out of line, with the
/// key's parts as plain integers (registers): a message formatted in place
/// takes the key's address, and a key passed whole may go by reference, and
/// either way the lookup then copies every key to the stack (one 16-byte
/// store) and reads its fields back from there (smaller loads, which some
/// CPUs forward slowly from a wider store).
#[cold]
#[inline(never)]
#[track_caller]
pub(super) fn missing((index, generation, pool): (u32, u32, u64)) -> ! {
    let key = PoolKey::from_parts(index, generation, pool);
    panic!("{key:?} is stale or from another pool")
}

/// Two pools are equal when they hold equal values under the same keys:
/// a pool and its [clones](UniformPool#cloning) while they hold the same
/// values in the same places (keys carry their pool's identity, so pools
/// built apart are equal only while both are empty). What the values'
/// places do not show is not compared: the page headers, the capacity, and
/// the order in which vacant entries are reused.
///
/// ```
/// use managed::prelude::*;
///
/// let mut pool = UniformPool::new();
/// let a = pool.insert(1u32);
/// let mut clone = pool.clone();
/// assert_eq!(pool, clone);
/// clone[a] = 2;
/// assert_ne!(pool, clone);
/// clone[a] = 1;
/// assert_eq!(pool, clone);
/// let mut apart = UniformPool::new();
/// apart.insert(1u32);
/// assert_ne!(pool, apart, "the same value under another pool's key");
/// ```
impl<T: PartialEq, H> PartialEq for UniformPool<T, H> {
    fn eq(&self, other: &Self) -> bool {
        // `iter` walks the entries in the order of their key indices, so
        // pools that hold the same keys yield them in the same order.
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: Eq, H> Eq for UniformPool<T, H> {}

impl<T: fmt::Debug, H> fmt::Debug for UniformPool<T, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Iterator over the keys; see [`UniformPool::keys`].
pub struct Keys<'a, T, H = ()>(Iter<'a, T, H>);

impl<T, H> Iterator for Keys<'_, T, H> {
    type Item = PoolKey;
    #[inline]
    fn next(&mut self) -> Option<PoolKey> {
        self.0.next().map(|(k, _)| k)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
    #[inline]
    fn fold<B, F: FnMut(B, PoolKey) -> B>(self, init: B, mut f: F) -> B {
        self.0.fold(init, |acc, (k, _)| f(acc, k))
    }
}

impl<T, H> ExactSizeIterator for Keys<'_, T, H> {}
impl<T, H> FusedIterator for Keys<'_, T, H> {}

impl<T, H> fmt::Debug for Keys<'_, T, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Keys").field(&self.0).finish()
    }
}

/// Iterator over `&T`; see [`UniformPool::values`].
pub struct Values<'a, T, H = ()>(Iter<'a, T, H>);

impl<'a, T, H> Iterator for Values<'a, T, H> {
    type Item = &'a T;
    #[inline]
    fn next(&mut self) -> Option<&'a T> {
        self.0.next().map(|(_, v)| v)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
    #[inline]
    fn fold<B, F: FnMut(B, &'a T) -> B>(self, init: B, mut f: F) -> B {
        self.0.fold(init, |acc, (_, v)| f(acc, v))
    }
}

impl<T, H> ExactSizeIterator for Values<'_, T, H> {}
impl<T, H> FusedIterator for Values<'_, T, H> {}

impl<T, H> fmt::Debug for Values<'_, T, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Values").field(&self.0).finish()
    }
}

/// Iterator over `&mut T`; see [`UniformPool::values_mut`].
pub struct ValuesMut<'a, T, H = ()>(IterMut<'a, T, H>);

impl<'a, T, H> Iterator for ValuesMut<'a, T, H> {
    type Item = &'a mut T;
    #[inline]
    fn next(&mut self) -> Option<&'a mut T> {
        self.0.next().map(|(_, v)| v)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
    #[inline]
    fn fold<B, F: FnMut(B, &'a mut T) -> B>(self, init: B, mut f: F) -> B {
        self.0.fold(init, |acc, (_, v)| f(acc, v))
    }
}

impl<T, H> ExactSizeIterator for ValuesMut<'_, T, H> {}
impl<T, H> FusedIterator for ValuesMut<'_, T, H> {}

impl<T, H> fmt::Debug for ValuesMut<'_, T, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ValuesMut").field(&self.0).finish()
    }
}

impl<'a, T, H> IntoIterator for &'a UniformPool<T, H> {
    type Item = (PoolKey, &'a T);
    type IntoIter = Iter<'a, T, H>;
    fn into_iter(self) -> Iter<'a, T, H> {
        self.iter()
    }
}

impl<'a, T, H> IntoIterator for &'a mut UniformPool<T, H> {
    type Item = (PoolKey, &'a mut T);
    type IntoIter = IterMut<'a, T, H>;
    fn into_iter(self) -> IterMut<'a, T, H> {
        self.iter_mut()
    }
}

impl<T, H> IntoIterator for UniformPool<T, H> {
    type Item = (PoolKey, T);
    type IntoIter = IntoIter<T, H>;
    /// `(key, value)` pairs by value, page by page in memory order (the
    /// order of [`iter`](UniformPool::iter)); the values not consumed are
    /// dropped with the iterator.
    fn into_iter(self) -> IntoIter<T, H> {
        IntoIter {
            pool: self,
            cursor: Cursor::default(),
        }
    }
}

/// A place in a pool's walk: the page and the entry within it to look at
/// next.
#[derive(Default, Debug)]
struct Cursor {
    page: usize,
    slot: usize,
}

impl Cursor {
    /// Removes the next value at or after the cursor, with its key.
    #[inline]
    fn take<T, H>(&mut self, pool: &mut UniformPool<T, H>) -> Option<(PoolKey, T)> {
        let key = pool.next_key(&mut self.page, &mut self.slot)?;
        let value = pool.remove(key);
        debug_assert!(value.is_some(), "next_key names an occupied entry");
        value.map(|value| (key, value))
    }
}

/// Owning iterator over a pool's `(key, value)` pairs; see
/// [`UniformPool::into_iter`](IntoIterator::into_iter).
pub struct IntoIter<T, H = ()> {
    pool: UniformPool<T, H>,
    cursor: Cursor,
}

impl<T, H> Iterator for IntoIter<T, H> {
    type Item = (PoolKey, T);
    #[inline]
    fn next(&mut self) -> Option<(PoolKey, T)> {
        self.cursor.take(&mut self.pool)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        // As for `Drain`: the pool holds exactly the values still to yield.
        (self.pool.len(), Some(self.pool.len()))
    }
}

impl<T, H> ExactSizeIterator for IntoIter<T, H> {}
impl<T, H> FusedIterator for IntoIter<T, H> {}

impl<T, H> fmt::Debug for IntoIter<T, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter")
            .field("len", &self.pool.len())
            .finish()
    }
}

/// Draining iterator over a pool's `(key, value)` pairs; see
/// [`UniformPool::drain`].
pub struct Drain<'a, T, H = ()> {
    pool: &'a mut UniformPool<T, H>,
    cursor: Cursor,
}

impl<T, H> Iterator for Drain<'_, T, H> {
    type Item = (PoolKey, T);
    #[inline]
    fn next(&mut self) -> Option<(PoolKey, T)> {
        self.cursor.take(self.pool)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        // The values behind the cursor are gone: the pool holds only those
        // still to yield.
        (self.pool.len(), Some(self.pool.len()))
    }
}

impl<T, H> ExactSizeIterator for Drain<'_, T, H> {}
impl<T, H> FusedIterator for Drain<'_, T, H> {}

impl<T, H> Drop for Drain<'_, T, H> {
    /// Removes and drops the values not consumed, and rebuilds the free
    /// list in address order (as [`UniformPool::clear`] does).
    fn drop(&mut self) {
        self.pool.clear();
    }
}

impl<T, H> fmt::Debug for Drain<'_, T, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Drain")
            .field("len", &self.pool.len())
            .finish()
    }
}

impl<T, H> UniformPool<T, H> {
    /// The keys of the values, page by page in memory order (the order of
    /// [`iter`](Self::iter)), skipping holes.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut pool = UniformPool::new();
    /// let a = pool.insert('a');
    /// let b = pool.insert('b');
    /// pool.remove(a);
    /// assert_eq!(pool.keys().collect::<Vec<_>>(), [b]);
    /// ```
    #[must_use]
    pub fn keys(&self) -> Keys<'_, T, H> {
        Keys(self.iter())
    }

    /// The values, page by page, skipping holes.
    #[must_use]
    pub fn values(&self) -> Values<'_, T, H> {
        Values(self.iter())
    }

    /// The values, mutably, page by page, skipping holes.
    #[must_use]
    pub fn values_mut(&mut self) -> ValuesMut<'_, T, H> {
        ValuesMut(self.iter_mut())
    }

    /// Removes every value, yielding `(key, value)` pairs page by page in
    /// memory order (the order of [`iter`](Self::iter)); every key becomes
    /// stale. The values not consumed are removed and dropped with the
    /// iterator, and the pages are kept for reuse, their free entries
    /// relinked in address order as by [`clear`](Self::clear). (If the
    /// iterator is leaked instead, the pool keeps the values it did not
    /// yield.)
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut jobs = UniformPool::new();
    /// let first = jobs.insert("compile");
    /// jobs.insert("link");
    /// let done: Vec<_> = jobs.drain().collect();
    /// assert_eq!(done[0], (first, "compile"));
    /// assert_eq!(done[1].1, "link");
    /// assert!(jobs.is_empty() && jobs.get(first).is_none());
    /// assert!(jobs.capacity() > 0, "the pages stay");
    /// ```
    pub fn drain(&mut self) -> Drain<'_, T, H> {
        Drain {
            pool: self,
            cursor: Cursor::default(),
        }
    }
}
