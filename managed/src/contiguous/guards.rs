//! The borrow guards' safe conveniences: `Debug`, `IntoIterator` for
//! references, [`PoolRef::to_vec`]. The guards themselves (they hold the
//! pool's borrow and hand out references into its buffer) are in the raw
//! layer ([`super::raw::guards`]).

use alloc::vec::Vec;
use core::fmt;

use slotmap::Key;

use super::raw::guards::{ObjectMut, ObjectRef, PoolLookup, PoolRef, PoolRefMut};
use super::raw::iter::{Iter, IterMut};

impl<T, K> PoolRef<'_, T, K> {
    /// Clones the objects into a `Vec`, in storage order.
    #[must_use]
    pub fn to_vec(&self) -> Vec<T>
    where
        T: Clone,
    {
        let mut out = Vec::with_capacity(self.len());
        out.extend(self.values().cloned());
        out
    }
}

impl<T: fmt::Debug, K: Key> fmt::Debug for PoolRef<'_, T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'b, T, K: Key> IntoIterator for &'b PoolRef<'_, T, K> {
    type Item = (K, &'b T);
    type IntoIter = Iter<'b, T, K>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: fmt::Debug, K: Key> fmt::Debug for PoolRefMut<'_, T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'b, T, K: Key> IntoIterator for &'b mut PoolRefMut<'_, T, K> {
    type Item = (K, &'b mut T);
    type IntoIter = IterMut<'b, T, K>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl<T, K> fmt::Debug for PoolLookup<'_, T, K> {
    /// The view holds no list of its objects: it prints its name alone
    /// (the guard it came from prints them).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolLookup").finish_non_exhaustive()
    }
}

impl<T: fmt::Debug, K> fmt::Debug for ObjectRef<'_, T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: fmt::Debug, K> fmt::Debug for ObjectMut<'_, T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}
