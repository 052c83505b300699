//! [`MultisizePageQueue`]: values of any type and size, pushed at the back
//! and popped from the front.

use core::fmt;

use super::list::{End, Iter, IterMut, RecordList};
use super::{Coercion, PageInfo};
use crate::SpaceStats;
use crate::page::PageSize;

/// A first-in first-out queue of values of different types and sizes,
/// viewed as `D` (usually a trait object), stored back to back in pages.
///
/// Each record holds, before its value, the value's pointer-with-metadata
/// (the seed's "vptr") and its type operations, after the pair of sizes
/// that chains the records (see [`MultisizePageDeque`](super::MultisizePageDeque),
/// whose layout and large-value path it shares). A page emptied from the
/// front is kept and reused at the back, like `VecDeque`'s capacity, until
/// [`shrink_to_fit`](Self::shrink_to_fit).
///
/// ```
/// use managed::prelude::*;
///
/// trait Job { fn run(&mut self) -> u32; }
/// struct Add(u32, u32);
/// struct Count { n: u32 }
/// impl Job for Add { fn run(&mut self) -> u32 { self.0 + self.1 } }
/// impl Job for Count { fn run(&mut self) -> u32 { self.n += 1; self.n } }
///
/// let mut jobs: MultisizePageQueue<dyn Job> = MultisizePageQueue::new();
/// jobs.push_back(Add(2, 3), coercion!());
/// jobs.push_back(Count { n: 0 }, coercion!());
/// let results: Vec<u32> = jobs.iter_mut().map(|job| job.run()).collect();
/// assert_eq!(results, [5, 1]);
/// let mut first = jobs.pop_front_boxed().unwrap();
/// assert_eq!(first.run(), 5);
/// assert_eq!(jobs.pop_front::<Count>().map(|c| c.n), Some(1));
/// ```
pub struct MultisizePageQueue<D: ?Sized + 'static> {
    list: RecordList<D>,
}

impl<D: ?Sized + 'static> MultisizePageQueue<D> {
    /// An empty queue with 4 KiB pages. Allocates nothing.
    #[must_use]
    pub fn new() -> Self {
        Self::with_page_size(PageSize::DEFAULT)
    }

    /// An empty queue with pages of at least `size` bytes. Allocates
    /// nothing.
    #[must_use]
    pub fn with_page_size(size: PageSize) -> Self {
        Self {
            list: RecordList::new(size),
        }
    }

    /// The page size in use.
    #[must_use]
    pub fn page_size(&self) -> PageSize {
        self.list.page_size()
    }

    /// Values in the queue.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether the queue holds no value.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.list.len() == 0
    }

    /// Pages in use (the spare page kept for reuse not counted).
    #[must_use]
    pub fn pages(&self) -> usize {
        self.list.pages()
    }

    /// Appends `value`, recorded as a `D` through `how`
    /// (write [`coercion!()`](crate::coercion)).
    #[inline]
    pub fn push_back<T: 'static>(&mut self, value: T, how: Coercion<T, D>) {
        self.list.push(End::Back, value, how);
    }

    /// The value at the front, next to be popped.
    #[inline]
    #[must_use]
    pub fn front(&self) -> Option<&D> {
        self.list.peek(End::Front)
    }

    /// The value at the front, mutably.
    #[inline]
    pub fn front_mut(&mut self) -> Option<&mut D> {
        self.list.peek_mut(End::Front)
    }

    /// Whether the front value is a `T`.
    #[must_use]
    pub fn front_is<T: 'static>(&self) -> bool {
        self.list.is::<T>(End::Front)
    }

    /// Moves the front value out if it is a `T`; `None` (the queue
    /// unchanged) when the queue is empty or the front is not a `T`.
    #[inline]
    pub fn pop_front<T: 'static>(&mut self) -> Option<T> {
        self.list.pop_typed(End::Front)
    }

    /// Moves the front value, whatever its type, into a `Box<D>`.
    pub fn pop_front_boxed(&mut self) -> Option<Box<D>> {
        self.list.pop_boxed(End::Front)
    }

    /// Drops the front value in place; false when the queue is empty. The
    /// value is removed even if its destructor panics.
    #[inline]
    pub fn drop_front(&mut self) -> bool {
        self.list.drop_end(End::Front)
    }

    /// Drops every value, front to back. If a destructor panics the others
    /// are still dropped and the panic then resumes.
    pub fn clear(&mut self) {
        self.list.clear();
    }

    /// What the page holding `ptr` contains, or `None` when the queue owns
    /// no page there. Only the address is used.
    #[must_use]
    pub fn header_for<P: ?Sized>(&self, ptr: *const P) -> Option<PageInfo> {
        self.list.info_for(ptr)
    }

    /// Space statistics: value bytes live, pages and large-value blocks
    /// reserved.
    #[must_use]
    pub fn stats(&self) -> SpaceStats {
        self.list.stats()
    }

    /// Compacts: repacks the values densely when that frees pages, and
    /// returns the spare page to the allocator.
    pub fn shrink_to_fit(&mut self) {
        self.list.shrink_to_fit();
    }

    /// The values, front (oldest) first.
    pub fn iter(&self) -> Iter<'_, D> {
        self.list.iter()
    }

    /// The values, front first, mutably.
    pub fn iter_mut(&mut self) -> IterMut<'_, D> {
        self.list.iter_mut()
    }
}

impl<D: ?Sized + 'static> Default for MultisizePageQueue<D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<D: ?Sized + fmt::Debug + 'static> fmt::Debug for MultisizePageQueue<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, D: ?Sized + 'static> IntoIterator for &'a MultisizePageQueue<D> {
    type Item = &'a D;
    type IntoIter = Iter<'a, D>;
    fn into_iter(self) -> Iter<'a, D> {
        self.iter()
    }
}

impl<'a, D: ?Sized + 'static> IntoIterator for &'a mut MultisizePageQueue<D> {
    type Item = &'a mut D;
    type IntoIter = IterMut<'a, D>;
    fn into_iter(self) -> IterMut<'a, D> {
        self.iter_mut()
    }
}
