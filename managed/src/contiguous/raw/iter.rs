//! The iterators of a [`ContiguousUniformPool`]: slice walkers over the
//! objects ([`Values`], [`ValuesMut`]), the same with each object's key
//! ([`Iter`], [`IterMut`]), the keys alone ([`Keys`]), and the by-value
//! [`Drain`] and [`IntoIter`].
//!
//! Invariant: for an iterator's lifetime the objects it walks stay in
//! place (its constructor's caller holds a borrow of the pool or `&mut`);
//! the by-value iterators own the objects the storage no longer counts.
//!
//! [`ContiguousUniformPool`]: crate::contiguous::ContiguousUniformPool

use core::fmt;
use core::iter::FusedIterator;
use core::marker::PhantomData;

use slotmap::{DefaultKey, Key, KeyData};

use super::core::{Inner, drop_positions};
use super::storage::ObjectStorage;
use crate::contiguous::ContiguousUniformPool;

/// An iterator over the objects of a pool, in storage order: from
/// [`PoolRef::values`](crate::contiguous::PoolRef::values) and
/// [`PoolRefMut::values`](crate::contiguous::PoolRefMut::values).
pub struct Values<'a, T> {
    /// The objects not yet yielded: the objects are one slice.
    run: core::slice::Iter<'a, T>,
}

/// An iterator over the objects of a pool, exclusively, in storage order:
/// from [`PoolRefMut::values_mut`](crate::contiguous::PoolRefMut::values_mut) and
/// [`ContiguousUniformPool::values_mut`].
pub struct ValuesMut<'a, T> {
    /// As in [`Values`].
    run: core::slice::IterMut<'a, T>,
}

/// The slice-walking iterator code, once for [`Values`] and [`ValuesMut`].
macro_rules! slice_iter {
    ($name:ident, $item:ty, $slice:ty, $from_raw:path, $into_slice:ident) => {
        impl<'a, T> $name<'a, T> {
            /// Iterates the objects of `storage`.
            ///
            /// # Safety
            ///
            /// `storage` holds `T`s; for `'a`, the objects stay in place,
            /// initialized, and free of references the item type does not
            /// allow beside its own.
            #[inline]
            pub(crate) unsafe fn new(storage: &'a ObjectStorage) -> Self {
                let objects = storage.objects::<T>();
                // SAFETY: the stored objects are `len` initialized `T`s,
                // adjacent and aligned from the buffer's base (stride is
                // the size for a sized `T`), valid for `'a` as the caller
                // promised.
                let objects = unsafe { $from_raw(objects.cast::<T>().as_ptr(), objects.len()) };
                Self {
                    run: objects.into_iter(),
                }
            }

            /// The objects not yet yielded, as one slice (what a parallel
            /// walk hands to rayon, and the guards' `as_slice`).
            #[inline]
            pub(crate) fn into_slice(self) -> $slice {
                self.run.$into_slice()
            }
        }

        impl<'a, T> Iterator for $name<'a, T> {
            type Item = $item;

            #[inline]
            fn next(&mut self) -> Option<$item> {
                self.run.next()
            }

            #[inline]
            fn size_hint(&self) -> (usize, Option<usize>) {
                self.run.size_hint()
            }

            /// Walks the slice (what [`map`](ContiguousUniformPool::map)
            /// runs on).
            #[inline]
            fn fold<B, F>(self, init: B, f: F) -> B
            where
                F: FnMut(B, $item) -> B,
            {
                self.run.fold(init, f)
            }
        }

        impl<T> ExactSizeIterator for $name<'_, T> {}
        impl<T> FusedIterator for $name<'_, T> {}
    };
}

slice_iter!(
    Values,
    &'a T,
    &'a [T],
    core::slice::from_raw_parts,
    as_slice
);
slice_iter!(
    ValuesMut,
    &'a mut T,
    &'a mut [T],
    core::slice::from_raw_parts_mut,
    into_slice
);

impl<T> Clone for Values<'_, T> {
    fn clone(&self) -> Self {
        Self {
            run: self.run.clone(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Values<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<T> fmt::Debug for ValuesMut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValuesMut")
            .field("remaining", &self.len())
            .finish()
    }
}

/// An iterator over the keys of a pool's objects, in storage order: from
/// [`PoolRef::keys`](crate::contiguous::PoolRef::keys).
pub struct Keys<'a, K = DefaultKey> {
    /// The stored keys not yet yielded.
    keys: core::slice::Iter<'a, KeyData>,
    /// Yields `K`s by value, each made from a `KeyData`; it stores no `K`
    /// and lends none, so it stays covariant in `K` (as `vec::IntoIter`).
    _keys: PhantomData<fn() -> K>,
}

impl<'a, K> Keys<'a, K> {
    /// The keys of `storage`, which must not change for `'a`.
    #[inline]
    pub(crate) fn new(storage: &'a ObjectStorage) -> Self {
        Self {
            keys: storage.keys().iter(),
            _keys: PhantomData,
        }
    }
}

impl<'a, K> Keys<'a, K> {
    /// The keys not yet yielded, as one slice (what a keyed parallel walk
    /// hands to rayon beside the objects' slice).
    #[cfg(feature = "rayon")]
    #[inline]
    pub(crate) fn into_slice(self) -> &'a [KeyData] {
        self.keys.as_slice()
    }
}

impl<K: Key> Iterator for Keys<'_, K> {
    type Item = K;
    #[inline]
    fn next(&mut self) -> Option<K> {
        self.keys.next().map(|&key| K::from(key))
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.keys.size_hint()
    }
}

impl<K: Key> ExactSizeIterator for Keys<'_, K> {}
impl<K: Key> FusedIterator for Keys<'_, K> {}

impl<K> Clone for Keys<'_, K> {
    fn clone(&self) -> Self {
        Self {
            keys: self.keys.clone(),
            _keys: PhantomData,
        }
    }
}

impl<K: Key> fmt::Debug for Keys<'_, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// An iterator over `(key, &object)` pairs of a pool, in storage order:
/// from [`PoolRef::iter`](crate::contiguous::PoolRef::iter) and
/// [`PoolRefMut::iter`](crate::contiguous::PoolRefMut::iter).
///
/// The objects whose removal is pending (a proxy dropped or a key deleted
/// during the borrow) are still stored, so they are yielded too, with
/// their (already stale) keys.
pub struct Iter<'a, T, K = DefaultKey> {
    /// The keys, one per object.
    keys: Keys<'a, K>,
    /// The objects.
    values: Values<'a, T>,
}

/// An iterator over `(key, &mut object)` pairs of a pool, in storage
/// order: from [`PoolRefMut::iter_mut`](crate::contiguous::PoolRefMut::iter_mut) and
/// [`ContiguousUniformPool::iter_mut`]. Pending objects are yielded, as by
/// [`Iter`].
pub struct IterMut<'a, T, K = DefaultKey> {
    /// The keys, one per object.
    keys: Keys<'a, K>,
    /// The objects.
    values: ValuesMut<'a, T>,
}

/// The keyed iterator code, once for [`Iter`] and [`IterMut`].
macro_rules! keyed_iter {
    ($name:ident, $values:ident, $item:ty, $slice:ty) => {
        impl<'a, T, K> $name<'a, T, K> {
            /// Iterates the keys and objects of `storage`.
            ///
            /// # Safety
            ///
            /// As for the values iterator's `new`; the keys do not change
            /// for `'a` either.
            #[inline]
            pub(crate) unsafe fn new(storage: &'a ObjectStorage) -> Self {
                Self {
                    keys: Keys::new(storage),
                    // SAFETY: the caller's contract.
                    values: unsafe { $values::new(storage) },
                }
            }
        }

        impl<'a, T, K: Key> Iterator for $name<'a, T, K> {
            type Item = (K, $item);

            #[inline]
            fn next(&mut self) -> Option<Self::Item> {
                // One key per stored object, in the same order.
                let value = self.values.next()?;
                Some((self.keys.next()?, value))
            }

            #[inline]
            fn size_hint(&self) -> (usize, Option<usize>) {
                self.values.size_hint()
            }

            /// Walks the slice, as the values iterator does.
            #[inline]
            fn fold<B, F>(self, init: B, mut f: F) -> B
            where
                F: FnMut(B, Self::Item) -> B,
            {
                let mut keys = self.keys.keys;
                self.values.fold(init, |acc, value| match keys.next() {
                    Some(&key) => f(acc, (K::from(key), value)),
                    None => acc,
                })
            }
        }

        impl<T, K: Key> ExactSizeIterator for $name<'_, T, K> {}
        impl<T, K: Key> FusedIterator for $name<'_, T, K> {}

        impl<'a, T, K> $name<'a, T, K> {
            /// The keys and objects not yet yielded, as two slices of one
            /// length, the `i`th key that of the `i`th object (what a keyed
            /// parallel walk zips).
            #[cfg(feature = "rayon")]
            #[inline]
            pub(crate) fn into_slices(self) -> (&'a [KeyData], $slice) {
                (self.keys.into_slice(), self.values.into_slice())
            }
        }
    };
}

keyed_iter!(Iter, Values, &'a T, &'a [T]);
keyed_iter!(IterMut, ValuesMut, &'a mut T, &'a mut [T]);

impl<T, K> Clone for Iter<'_, T, K> {
    fn clone(&self) -> Self {
        Self {
            keys: self.keys.clone(),
            values: self.values.clone(),
        }
    }
}

impl<T: fmt::Debug, K: Key> fmt::Debug for Iter<'_, T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.clone()).finish()
    }
}

impl<T, K: Key> fmt::Debug for IterMut<'_, T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IterMut")
            .field("remaining", &self.len())
            .finish()
    }
}

/// The objects a by-value iterator still owns: positions `next..end` of a
/// storage that no longer counts them (its length was cut to 0).
pub(crate) struct Remaining<T> {
    /// Invariant: positions `next..end` hold initialized `T`s owned here.
    next: usize,
    end: usize,
    _values: PhantomData<T>,
}

impl<T> Remaining<T> {
    /// Takes every object of `storage` out of its count (the buffer is
    /// kept).
    /// If the result is leaked, the objects are leaked, nothing else.
    pub(crate) fn take_all(storage: &mut ObjectStorage) -> Self {
        let end = storage.len();
        // SAFETY: length 0 claims nothing; the objects now belong to the
        // returned value.
        unsafe { storage.truncate(0) };
        Self {
            next: 0,
            end,
            _values: PhantomData,
        }
    }

    /// The next object, moved out.
    ///
    /// # Safety
    ///
    /// `storage` is the one this came from, and nothing was stored in it
    /// since.
    #[inline]
    unsafe fn next(&mut self, storage: &ObjectStorage) -> Option<T> {
        if self.next == self.end {
            return None;
        }
        let position = self.next;
        self.next += 1;
        // SAFETY: an initialized `T` owned here (field invariant), read out
        // once: `next` moved past it.
        Some(unsafe {
            storage
                .slot(Inner::<T>::GEOMETRY, position)
                .cast::<T>()
                .read()
        })
    }

    /// Drops the objects not taken.
    ///
    /// # Safety
    ///
    /// As for [`next`](Self::next).
    unsafe fn finish(&mut self, storage: &ObjectStorage) {
        let (from, end) = (self.next, self.end);
        self.next = end;
        // SAFETY: positions `from..end` hold initialized `T`s owned here,
        // given up now.
        unsafe { drop_positions::<T>(storage, from, end) };
    }

    /// Objects not yet taken.
    fn len(&self) -> usize {
        self.end - self.next
    }
}

/// A draining iterator over the objects of a pool, by value, in storage
/// order: from [`ContiguousUniformPool::drain`]. Objects not taken are
/// dropped with it.
pub struct Drain<'a, T> {
    /// The objects still to yield.
    rest: Remaining<T>,
    /// The drained pool's storage (its length is 0 meanwhile).
    inner: &'a mut Inner<T>,
}

impl<'a, T> Drain<'a, T> {
    /// Drains `rest` out of `inner`.
    ///
    /// # Safety
    ///
    /// `rest` was taken from `inner`'s storage, unchanged since.
    pub(crate) unsafe fn new(rest: Remaining<T>, inner: &'a mut Inner<T>) -> Self {
        Self { rest, inner }
    }
}

/// An owning iterator over the objects of a pool, by value, in storage
/// order: from [`ContiguousUniformPool::into_iter`](IntoIterator::into_iter).
pub struct IntoIter<T, K = DefaultKey> {
    /// The objects still to yield.
    rest: Remaining<T>,
    /// The pool, emptied (its length is 0), freed after the iterator.
    pool: ContiguousUniformPool<T, K>,
}

impl<T, K> IntoIter<T, K> {
    /// Yields the live objects of `pool`, after carrying out its deferred
    /// removals; every key becomes stale.
    pub(crate) fn new(mut pool: ContiguousUniformPool<T, K>) -> Self {
        let inner = pool.raw.settle();
        inner.table.clear();
        let rest = Remaining::take_all(&mut inner.storage);
        // `rest` was taken from the storage of `pool`, which the iterator
        // owns from now on and never changes.
        Self { rest, pool }
    }
}

impl<T> Iterator for Drain<'_, T> {
    type Item = T;
    #[inline]
    fn next(&mut self) -> Option<T> {
        // SAFETY: the storage `rest` came from, unchanged since (it is
        // borrowed exclusively by this iterator).
        unsafe { self.rest.next(&self.inner.storage) }
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = self.rest.len();
        (len, Some(len))
    }
}

impl<T> ExactSizeIterator for Drain<'_, T> {}
impl<T> FusedIterator for Drain<'_, T> {}

impl<T> Drop for Drain<'_, T> {
    fn drop(&mut self) {
        // SAFETY: as in `next`.
        unsafe { self.rest.finish(&self.inner.storage) };
    }
}

impl<T> fmt::Debug for Drain<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Drain")
            .field("remaining", &self.rest.len())
            .finish()
    }
}

impl<T, K> Iterator for IntoIter<T, K> {
    type Item = T;
    #[inline]
    fn next(&mut self) -> Option<T> {
        // SAFETY: the storage `rest` came from, unchanged since (the pool is
        // owned by this iterator).
        unsafe { self.rest.next(self.pool.raw.storage()) }
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = self.rest.len();
        (len, Some(len))
    }
}

impl<T, K> ExactSizeIterator for IntoIter<T, K> {}
impl<T, K> FusedIterator for IntoIter<T, K> {}

impl<T, K> Drop for IntoIter<T, K> {
    fn drop(&mut self) {
        // SAFETY: as in `next`.
        unsafe { self.rest.finish(self.pool.raw.storage()) };
    }
}

impl<T, K> fmt::Debug for IntoIter<T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter")
            .field("remaining", &self.rest.len())
            .finish()
    }
}
