//! [`UniformPageStack`]: a [`UniformPageDeque`] used last in, first out.

use core::fmt;

use super::UniformPageDeque;
use crate::SpaceStats;
use crate::page::PageSize;

one_discipline! {
    /// A stack on pages: last in, first out. Elements never move while stored.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut q = UniformPageStack::new();
    /// q.push(1); q.push(2); assert_eq!(q.pop(), Some(2));
    /// assert_eq!(q.len(), 1);
    /// ```
    UniformPageStack, "stack",
    pop: pop_back, peek: back, peek_mut: back_mut,
    iter: |deque| deque.iter().rev(), order: "from the top (newest) to the bottom"
}

// Memory maps (`crate::memory_map`).
impl<T, H> UniformPageStack<T, H> {
    /// A map of the stack's memory, as [`UniformPageDeque::memory_map`]
    /// draws it.
    #[must_use]
    pub fn memory_map(&self) -> crate::memory_map::MemoryMap {
        self.as_deque().memory_map_titled("UniformPageStack")
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
