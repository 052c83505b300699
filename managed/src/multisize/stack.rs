//! [`MultisizePageStack`]: values of any type and size, pushed and popped
//! at the top.

use core::fmt;

use super::list::{End, Iter, IterMut, RecordList};
use super::{Coercion, PageInfo};
use crate::SpaceStats;
use crate::page::PageSize;

/// A last-in first-out stack of values of different types and sizes,
/// viewed as `D` (usually a trait object), stored in pages.
///
/// The stack grows backwards in memory, as the seed asks: each push places
/// its record below the previous one, so the top record, and its metadata
/// (sizes, then the value's pointer-with-metadata, the "vptr"), is at the
/// lowest address in use; popping reads it at the page's `begin` and steps
/// up by its size. Layout and large-value path as in
/// [`MultisizePageDeque`](super::MultisizePageDeque).
///
/// ```
/// use managed::prelude::*;
/// use std::fmt::Display;
///
/// let mut stack: MultisizePageStack<dyn Display> = MultisizePageStack::new();
/// stack.push(1, coercion!());
/// stack.push("two", coercion!());
/// stack.push(3.5, coercion!());
/// let top_down: Vec<String> = stack.iter().map(|v| v.to_string()).collect();
/// assert_eq!(top_down, ["3.5", "two", "1"]);
/// assert_eq!(stack.pop::<f64>(), Some(3.5));
/// assert_eq!(stack.pop_boxed().unwrap().to_string(), "two");
/// assert_eq!(stack.top().unwrap().to_string(), "1");
/// ```
pub struct MultisizePageStack<D: ?Sized + 'static> {
    /// The top of the stack is the list's front.
    list: RecordList<D>,
}

impl<D: ?Sized + 'static> MultisizePageStack<D> {
    /// An empty stack with 4 KiB pages. Allocates nothing.
    #[must_use]
    pub fn new() -> Self {
        Self::with_page_size(PageSize::DEFAULT)
    }

    /// An empty stack with pages of at least `size` bytes. Allocates
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

    /// Values on the stack.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether the stack holds no value.
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

    /// Pushes `value` on top, recorded as a `D` through `how`
    /// (write [`coercion!()`](crate::coercion)).
    #[inline]
    pub fn push<T: 'static>(&mut self, value: T, how: Coercion<T, D>) {
        self.list.push(End::Front, value, how);
    }

    /// The value on top.
    #[inline]
    #[must_use]
    pub fn top(&self) -> Option<&D> {
        self.list.peek(End::Front)
    }

    /// The value on top, mutably.
    #[inline]
    pub fn top_mut(&mut self) -> Option<&mut D> {
        self.list.peek_mut(End::Front)
    }

    /// Whether the value on top is a `T`.
    #[must_use]
    pub fn top_is<T: 'static>(&self) -> bool {
        self.list.is::<T>(End::Front)
    }

    /// Moves the top value out if it is a `T`; `None` (the stack unchanged)
    /// when the stack is empty or the top is not a `T`.
    #[inline]
    pub fn pop<T: 'static>(&mut self) -> Option<T> {
        self.list.pop_typed(End::Front)
    }

    /// Moves the top value, whatever its type, into a `Box<D>`.
    pub fn pop_boxed(&mut self) -> Option<Box<D>> {
        self.list.pop_boxed(End::Front)
    }

    /// Drops the top value in place; false when the stack is empty. The
    /// value is removed even if its destructor panics.
    #[inline]
    pub fn drop_top(&mut self) -> bool {
        self.list.drop_end(End::Front)
    }

    /// Drops every value, top first. If a destructor panics the others are
    /// still dropped and the panic then resumes.
    pub fn clear(&mut self) {
        self.list.clear();
    }

    /// What the page holding `ptr` contains, or `None` when the stack owns
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

    /// The values, top first.
    pub fn iter(&self) -> Iter<'_, D> {
        self.list.iter()
    }

    /// The values, top first, mutably.
    pub fn iter_mut(&mut self) -> IterMut<'_, D> {
        self.list.iter_mut()
    }
}

impl<D: ?Sized + 'static> Default for MultisizePageStack<D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<D: ?Sized + fmt::Debug + 'static> fmt::Debug for MultisizePageStack<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, D: ?Sized + 'static> IntoIterator for &'a MultisizePageStack<D> {
    type Item = &'a D;
    type IntoIter = Iter<'a, D>;
    fn into_iter(self) -> Iter<'a, D> {
        self.iter()
    }
}

impl<'a, D: ?Sized + 'static> IntoIterator for &'a mut MultisizePageStack<D> {
    type Item = &'a mut D;
    type IntoIter = IterMut<'a, D>;
    fn into_iter(self) -> IterMut<'a, D> {
        self.iter_mut()
    }
}
