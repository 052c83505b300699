//! [`UniformPageStack`]: a [`UniformPageDeque`] used last in, first out.

use core::fmt;

use super::UniformPageDeque;
use crate::SpaceStats;
use crate::page::PageSize;

/// A stack on pages: last in, first out. Elements never move while stored.
///
/// ```
/// use managed::prelude::*;
///
/// let mut q = UniformPageStack::new();
/// q.push(1); q.push(2); assert_eq!(q.pop(), Some(2));
/// assert_eq!(q.len(), 1);
/// ```
pub struct UniformPageStack<T, H = ()> {
    deque: UniformPageDeque<T, H>,
}

impl<T> UniformPageStack<T> {
    /// An empty stack with the deque's default page size
    /// ([`UniformPageDeque::DEFAULT_PAGE_SIZE`]). Allocates nothing.
    #[must_use]
    pub fn new() -> Self {
        Self {
            deque: UniformPageDeque::new(),
        }
    }
}

impl<T, H> UniformPageStack<T, H> {
    /// An empty stack with pages of at least `size` bytes.
    #[must_use]
    pub fn with_page_size(size: PageSize) -> Self {
        Self {
            deque: UniformPageDeque::with_page_size(size),
        }
    }

    /// Removes and returns the next element.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        self.deque.pop_back()
    }

    /// The next element [`pop`](Self::pop) would return.
    #[must_use]
    pub fn peek(&self) -> Option<&T> {
        self.deque.back()
    }

    /// The next element, mutably.
    #[must_use]
    pub fn peek_mut(&mut self) -> Option<&mut T> {
        self.deque.back_mut()
    }

    /// Number of elements.
    #[must_use]
    pub fn len(&self) -> usize {
        self.deque.len()
    }

    /// Whether the stack is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.deque.is_empty()
    }

    /// The elements, from the top (newest) to the bottom.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator + '_ {
        self.deque.iter().rev()
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
    /// a page of this stack.
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

impl<T, H: Default> UniformPageStack<T, H> {
    /// Adds an element.
    #[inline]
    pub fn push(&mut self, value: T) {
        self.deque.push_back(value);
    }
}

impl<T, H: Default> Default for UniformPageStack<T, H> {
    fn default() -> Self {
        Self {
            deque: UniformPageDeque::default(),
        }
    }
}

impl<T: fmt::Debug, H> fmt::Debug for UniformPageStack<T, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T, H: Default> Extend<T> for UniformPageStack<T, H> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for value in iter {
            self.push(value);
        }
    }
}

impl<T, H: Default> FromIterator<T> for UniformPageStack<T, H> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut this = Self::default();
        this.extend(iter);
        this
    }
}

impl<T, H> From<UniformPageDeque<T, H>> for UniformPageStack<T, H> {
    fn from(deque: UniformPageDeque<T, H>) -> Self {
        Self { deque }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_its_order_across_pages() {
        let mut q: UniformPageStack<u64> =
            UniformPageStack::with_page_size(PageSize::new(64).unwrap());
        for v in 0..100u64 {
            q.push(v);
        }
        let expected: Vec<u64> = q.iter().copied().collect();
        let mut popped = Vec::new();
        while let Some(v) = q.pop() {
            popped.push(v);
        }
        assert_eq!(popped, expected);
        assert_eq!(popped, (0..100).rev().collect::<Vec<_>>());
        assert_eq!(popped.len(), 100);
        assert!(q.is_empty());
        assert_eq!(q.peek(), None);
    }
}
