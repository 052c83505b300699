//! [`Pool`]: the hot pool's public type. It is defined with its
//! allocation and freeing paths in [`raw::pool`](super::raw::pool); this
//! module adds what is built from its safe methods alone.

use core::fmt;

pub use super::raw::pool::Pool;

impl<T> Pool<T> {
    /// Whether no slot is live.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for Pool<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish()
    }
}
