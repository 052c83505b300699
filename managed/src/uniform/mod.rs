//! Uniform containers: every element has the same type, so every page holds
//! the same number of them.
//!
//! - [`UniformPageDeque`]: push and pop at both ends, indexing, double-ended
//!   iteration; elements never move.
//! - [`UniformPageQueue`] and [`UniformPageStack`]: the deque restricted to
//!   FIFO and LIFO use.
//! - [`UniformPool`]: insert anywhere, remove anywhere by a `Copy` key that
//!   detects stale and foreign use; iteration walks pages in order and
//!   skips holes, so loops over every value touch memory in address
//!   order.
//! - [`SecondaryMap`]: values of another type attached to a pool's keys, in
//!   a dense table (slotmap's `SecondaryMap` for [`UniformPool`] keys).
//!
//! All of them report [`SpaceStats`](crate::SpaceStats), give empty pages
//! back (`shrink_to_fit`), and may carry a header `H` on every page, found
//! from an element's address with `header_for`.

mod deque;
#[macro_use]
mod discipline;
#[cfg(feature = "rayon")]
mod par;
mod pool;
mod queue;
mod raw;
mod secondary;
mod stack;

pub use deque::{IntoIter, Iter, IterMut, UniformPageDeque};
pub use pool::{PoolKey, UniformPool};
pub use queue::UniformPageQueue;
pub use secondary::SecondaryMap;
pub use stack::UniformPageStack;

/// Pool iterators.
pub mod pool_iter {
    pub use super::pool::{Drain, IntoIter, Iter, IterMut, Keys, Values, ValuesMut};
}

/// [`SecondaryMap`] iterators.
pub mod secondary_iter {
    pub use super::secondary::{Drain, IntoIter, Iter, IterMut};
}

/// [`SecondaryMap::entry`]'s places.
pub mod secondary_entry {
    pub use super::secondary::{Entry, OccupiedEntry, VacantEntry};
}

#[cfg(test)]
pub(crate) mod test_support {
    //! Drop accounting shared by the uniform containers' tests.
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::rc::Rc;

    /// Records how many times each value was dropped.
    #[derive(Default, Clone)]
    pub(crate) struct DropLog(Rc<RefCell<HashMap<u64, u32>>>);

    /// A value that records its drop in a [`DropLog`].
    #[derive(Debug)]
    pub(crate) struct Counted {
        pub(crate) id: u64,
        log: Rc<RefCell<HashMap<u64, u32>>>,
        panics: bool,
    }

    impl DropLog {
        pub(crate) fn make(&self, id: u64) -> Counted {
            Counted {
                id,
                log: self.0.clone(),
                panics: false,
            }
        }
        pub(crate) fn make_panicking(&self, id: u64) -> Counted {
            Counted {
                id,
                log: self.0.clone(),
                panics: true,
            }
        }
        pub(crate) fn dropped(&self) -> usize {
            self.0.borrow().values().map(|&n| n as usize).sum()
        }
        pub(crate) fn assert_all_dropped_once(&self, expected: usize) {
            let log = self.0.borrow();
            assert_eq!(log.len(), expected, "distinct values dropped");
            for (id, &n) in log.iter() {
                assert_eq!(n, 1, "value {id} dropped {n} times");
            }
        }
    }

    /// A copy that records its drops under `id + 1_000_000`, apart from
    /// the original's, and never panics on drop.
    impl Clone for Counted {
        fn clone(&self) -> Self {
            Counted {
                id: self.id + 1_000_000,
                log: self.log.clone(),
                panics: false,
            }
        }
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            *self.log.borrow_mut().entry(self.id).or_default() += 1;
            if self.panics {
                panic!("Counted({}) panics on drop", self.id);
            }
        }
    }
}
