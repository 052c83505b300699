//! [`Forward`]: a copyable reference that survives compaction.
//!
//! The type, its cell lookup and the references read through it live in
//! `raw::forward`; here are its value-like impls.

use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};

pub use super::raw::forward::{Forward, Shared};

impl<T: ?Sized> Clone for Forward<'_, T> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for Forward<'_, T> {}

impl<T: ?Sized> PartialEq for Forward<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.index() == other.index() && self.generation() == other.generation()
    }
}

impl<T: ?Sized> Eq for Forward<'_, T> {}

/// Hashes the cell and generation, which compaction never changes: a
/// `Forward` is a stable key for a map or set of shared objects (a cache per
/// line, a set of marked objects) that survives every compaction.
impl<T: ?Sized> Hash for Forward<'_, T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.index(), self.generation()).hash(state);
    }
}

/// Orders by cell, then generation: a stable order (for a `BTreeMap` key or
/// a sort) that compaction never changes, but not the objects' order in
/// the region.
impl<T: ?Sized> PartialOrd for Forward<'_, T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T: ?Sized> Ord for Forward<'_, T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.index(), self.generation()).cmp(&(other.index(), other.generation()))
    }
}

impl<T: ?Sized> fmt::Debug for Forward<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Forward")
            .field("cell", &self.index())
            .field("generation", &self.generation())
            .finish()
    }
}
