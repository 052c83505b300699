//! The `one_discipline!` macro, which writes [`UniformPageQueue`] and
//! [`UniformPageStack`]: each a struct over a [`UniformPageDeque`] with
//! `new`, `with_capacity`, `with_page_size`, `push`, `pop`, `peek`,
//! `peek_mut`, `len`, `is_empty`, `clear`, `iter`, `stats`,
//! `shrink_to_fit`, `header_for` and `as_deque` (each with its doc
//! comment), and the impls of `Default`, `Clone`, `PartialEq`, `Debug`, `Extend`, `FromIterator`
//! and `From<UniformPageDeque>`. The two differ only in the end they pop
//! and peek at and in their iteration order; each file adds its
//! `memory_map` and tests.
//!
//! [`UniformPageQueue`]: crate::uniform::UniformPageQueue
//! [`UniformPageStack`]: crate::uniform::UniformPageStack
//! [`UniformPageDeque`]: crate::uniform::UniformPageDeque

/// The queue and the stack: a
/// [`UniformPageDeque`](crate::uniform::UniformPageDeque) restricted to
/// one discipline. They differ only in the end they pop and peek at and in
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

            #[doc = concat!("An empty ", $noun, " with room for `capacity` elements, as")]
            /// [`UniformPageDeque::with_capacity`] reserves it: the first
            /// `capacity` pushes allocate nothing.
            #[must_use]
            pub fn with_capacity(capacity: usize) -> Self {
                Self {
                    deque: UniformPageDeque::with_capacity(capacity),
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
        }

        impl<T, H: Default> $name<T, H> {
            /// Adds an element.
            #[inline]
            pub fn push(&mut self, value: T) {
                self.deque.push_back(value);
            }
        }

        impl<T, H> $name<T, H> {

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

            /// Removes every element.
            pub fn clear(&mut self) {
                self.deque.clear();
            }

            #[doc = concat!("The elements, ", $order, ".")]
            pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator + '_ {
                let $deque = &self.deque;
                $iter
            }

            /// Space statistics.
            #[must_use]
            pub fn stats(&self) -> SpaceStats {
                self.deque.stats()
            }

            /// Returns every page not holding elements to the allocator.
            pub fn shrink_to_fit(&mut self) {
                self.deque.shrink_to_fit();
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

        impl<T, H: Default> Default for $name<T, H> {
            fn default() -> Self {
                Self {
                    deque: UniformPageDeque::default(),
                }
            }
        }

        #[doc = concat!("A ", $noun, " of clones of the values, in the same order (as the")]
        /// deque's `Clone`: pages laid out afresh, each with a default
        /// header).
        impl<T: Clone, H: Default> Clone for $name<T, H> {
            fn clone(&self) -> Self {
                Self {
                    deque: self.deque.clone(),
                }
            }
        }

        #[doc = concat!("Two ", $noun, "s are equal when they hold equal values in the same order.")]
        impl<T: PartialEq, H> PartialEq for $name<T, H> {
            fn eq(&self, other: &Self) -> bool {
                self.deque == other.deque
            }
        }

        impl<T: Eq, H> Eq for $name<T, H> {}

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
