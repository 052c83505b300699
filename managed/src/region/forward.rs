//! [`Forward`]: a copyable reference that survives compaction.
//!
//! The type, its cell lookup and the references read through it live in
//! `raw::forward`; here are its value-like impls.

use core::fmt;

pub use super::raw::forward::Forward;

impl<T> Clone for Forward<'_, T> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Forward<'_, T> {}

impl<T> PartialEq for Forward<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.index() == other.index() && self.generation() == other.generation()
    }
}

impl<T> Eq for Forward<'_, T> {}

impl<T> fmt::Debug for Forward<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Forward")
            .field("cell", &self.index())
            .field("generation", &self.generation())
            .finish()
    }
}
