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
//!
//! All of them report [`SpaceStats`](crate::SpaceStats), give empty pages
//! back (`shrink_to_fit`), and may carry a header `H` on every page, found
//! from an element's address with `header_for`.

/// The queue and the stack: a [`UniformPageDeque`] restricted to one
/// discipline. They differ only in the end they pop and peek at and in
/// their iteration order, so one macro writes both, one file each.
macro_rules! one_discipline {
    (
        $(#[$attr:meta])*
        $name:ident, $noun:literal,
        pop: $pop:ident, peek: $peek:ident, peek_mut: $peek_mut:ident,
        iter: |$deque:ident| $iter:expr, order: $order:literal
    ) => {
        $(#[$attr])*
        pub struct $name<T, H = ()> {
            deque: UniformPageDeque<T, H>,
        }

        impl<T> $name<T> {
            #[doc = concat!("An empty ", $noun, " with the deque's default page size")]
            /// ([`UniformPageDeque::DEFAULT_PAGE_SIZE`]). Allocates nothing.
            #[must_use]
            pub fn new() -> Self {
                Self {
                    deque: UniformPageDeque::new(),
                }
            }
        }

        impl<T, H> $name<T, H> {
            #[doc = concat!("An empty ", $noun, " with pages of at least `size` bytes.")]
            #[must_use]
            pub fn with_page_size(size: PageSize) -> Self {
                Self {
                    deque: UniformPageDeque::with_page_size(size),
                }
            }

            /// Removes and returns the next element.
            #[inline]
            pub fn pop(&mut self) -> Option<T> {
                self.deque.$pop()
            }

            /// The next element [`pop`](Self::pop) would return.
            #[must_use]
            pub fn peek(&self) -> Option<&T> {
                self.deque.$peek()
            }

            /// The next element, mutably.
            #[must_use]
            pub fn peek_mut(&mut self) -> Option<&mut T> {
                self.deque.$peek_mut()
            }

            /// Number of elements.
            #[must_use]
            pub fn len(&self) -> usize {
                self.deque.len()
            }

            #[doc = concat!("Whether the ", $noun, " is empty.")]
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.deque.is_empty()
            }

            #[doc = concat!("The elements, ", $order, ".")]
            pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator + '_ {
                let $deque = &self.deque;
                $iter
            }

            /// Removes every element.
            pub fn clear(&mut self) {
                self.deque.clear();
            }

            /// Returns every page not holding elements to the allocator.
            pub fn shrink_to_fit(&mut self) {
                self.deque.shrink_to_fit();
            }

            /// Space statistics.
            #[must_use]
            pub fn stats(&self) -> SpaceStats {
                self.deque.stats()
            }

            /// The header of the page holding `elem`, or `None` when it is not on
            #[doc = concat!("a page of this ", $noun, ".")]
            #[must_use]
            pub fn header_for(&self, elem: *const T) -> Option<&H> {
                self.deque.header_for(elem)
            }

            /// The deque underneath.
            #[must_use]
            pub fn as_deque(&self) -> &UniformPageDeque<T, H> {
                &self.deque
            }
        }

        impl<T, H: Default> $name<T, H> {
            /// Adds an element.
            #[inline]
            pub fn push(&mut self, value: T) {
                self.deque.push_back(value);
            }
        }

        impl<T, H: Default> Default for $name<T, H> {
            fn default() -> Self {
                Self {
                    deque: UniformPageDeque::default(),
                }
            }
        }

        impl<T: fmt::Debug, H> fmt::Debug for $name<T, H> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list().entries(self.iter()).finish()
            }
        }

        impl<T, H: Default> Extend<T> for $name<T, H> {
            fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
                for value in iter {
                    self.push(value);
                }
            }
        }

        impl<T, H: Default> FromIterator<T> for $name<T, H> {
            fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
                let mut this = Self::default();
                this.extend(iter);
                this
            }
        }

        impl<T, H> From<UniformPageDeque<T, H>> for $name<T, H> {
            fn from(deque: UniformPageDeque<T, H>) -> Self {
                Self { deque }
            }
        }
    };
}

mod deque;
#[cfg(feature = "rayon")]
mod par;
mod pool;
mod queue;
mod stack;

pub use deque::{IntoIter, Iter, IterMut, UniformPageDeque};
pub use pool::{PoolKey, UniformPool};
pub use queue::UniformPageQueue;
pub use stack::UniformPageStack;

/// Pool iterators.
pub mod pool_iter {
    pub use super::pool::{Iter, IterMut, Values, ValuesMut};
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

    impl Drop for Counted {
        fn drop(&mut self) {
            *self.log.borrow_mut().entry(self.id).or_default() += 1;
            if self.panics {
                panic!("Counted({}) panics on drop", self.id);
            }
        }
    }
}
