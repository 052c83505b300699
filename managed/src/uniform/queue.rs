//! [`UniformPageQueue`]: a [`UniformPageDeque`] used first in, first out.

use core::fmt;

use super::UniformPageDeque;
use crate::SpaceStats;
use crate::page::PageSize;

one_discipline! {
    /// A queue on pages: first in, first out. Elements never move while stored.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut q = UniformPageQueue::new();
    /// q.push(1); q.push(2); assert_eq!(q.pop(), Some(1));
    /// assert_eq!(q.len(), 1);
    /// ```
    UniformPageQueue, "queue",
    pop: pop_front, peek: front, peek_mut: front_mut,
    iter: |deque| deque.iter(), order: "from the front (oldest) to the back"
}

// Memory maps (`crate::memory_map`).
impl<T, H> UniformPageQueue<T, H> {
    /// A map of the queue's memory, as [`UniformPageDeque::memory_map`]
    /// draws it.
    #[must_use]
    pub fn memory_map(&self) -> crate::memory_map::MemoryMap {
        self.as_deque().memory_map_titled("UniformPageQueue")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_is_equal_and_apart() {
        let mut q: UniformPageQueue<String> = (0..300).map(|i| i.to_string()).collect();
        q.pop();
        let mut copy = q.clone();
        assert!(copy == q && copy.iter().eq(q.iter()));
        copy.push("end".into());
        assert!(copy != q);
        assert_eq!(copy.pop().as_deref(), Some("1"));
        assert_eq!(q.len(), 299);
        let stack: crate::uniform::UniformPageStack<u8> = (0..9).collect();
        let mut other = stack.clone();
        assert!(other == stack);
        assert_eq!(other.pop(), Some(8));
        assert!(other != stack);
    }

    #[test]
    fn with_capacity_reserves_like_the_deque() {
        let mut q = UniformPageQueue::with_capacity(3000);
        let reserved = q.stats().reserved_bytes;
        assert!(reserved >= 3000 * 8);
        q.extend(0..3000u64);
        assert_eq!(q.stats().reserved_bytes, reserved);
        assert_eq!(q.pop(), Some(0));
    }

    #[test]
    fn follows_its_order_across_pages() {
        let mut q: UniformPageQueue<u64> =
            UniformPageQueue::with_page_size(PageSize::new(64).unwrap());
        for v in 0..100u64 {
            q.push(v);
        }
        let expected: Vec<u64> = q.iter().copied().collect();
        let mut popped = Vec::new();
        while let Some(v) = q.pop() {
            popped.push(v);
        }
        assert_eq!(popped, expected);
        assert_eq!(popped, (0..100).collect::<Vec<_>>());
        assert_eq!(popped.len(), 100);
        assert!(q.is_empty());
        assert_eq!(q.peek(), None);
    }
}
