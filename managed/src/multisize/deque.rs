//! [`MultisizePageDeque`]: values of any type and size, pushed and popped
//! at both ends.

use super::Coercion;
use super::api::common_api;
use super::raw::list::{End, RecordList};
use alloc::boxed::Box;

/// A double-ended queue of values of different types and sizes, viewed as
/// `D` (usually a trait object), stored back to back in pages.
///
/// Every record starts with two `u32`s, the size of the record
/// before it and its own size, so the deque is walked from either end;
/// then the value's pointer-with-metadata (its "vptr") and type
/// operations; then the value. Pushing at the back grows a page upwards,
/// pushing at the front grows the first page downwards.
///
/// Zero-sized values take no page space. A value whose size plus alignment
/// exceeds a quarter of a page (4 KiB of the default 16 KiB page) lives in its own
/// block from the global allocator, only its record sits in the page: this
/// is the large-value path, and it covers alignments up to any power of two.
///
/// ```
/// use managed::prelude::*;
/// use std::fmt::Debug;
///
/// let mut deque: MultisizePageDeque<dyn Debug> = MultisizePageDeque::new();
/// deque.push_back(1u8, coercion!());
/// deque.push_back("two", coercion!());
/// deque.push_front([0u64; 3], coercion!());
/// assert_eq!(format!("{:?}", deque.iter().collect::<Vec<_>>()), r#"[[0, 0, 0], 1, "two"]"#);
/// assert_eq!(deque.iter().rev().count(), 3);
///
/// assert_eq!(deque.pop_back::<&str>(), Some("two"));
/// assert_eq!(deque.pop_front::<u8>(), None, "the front is an array");
/// assert!(deque.drop_front());
/// assert_eq!(deque.pop_front::<u8>(), Some(1));
/// assert!(deque.is_empty());
/// ```
pub struct MultisizePageDeque<D: ?Sized + 'static> {
    list: RecordList<D>,
}

common_api!(@constructors MultisizePageDeque, "deque");

impl<D: ?Sized + 'static> MultisizePageDeque<D> {
    /// Appends `value`, recorded as a `D` through `how`
    /// (write [`coercion!()`](crate::coercion)).
    #[inline]
    pub fn push_back<T: 'static>(&mut self, value: T, how: Coercion<T, D>) {
        self.list.push(End::Back, value, how);
    }

    /// Prepends `value`, recorded as a `D` through `how`.
    #[inline]
    pub fn push_front<T: 'static>(&mut self, value: T, how: Coercion<T, D>) {
        self.list.push(End::Front, value, how);
    }

    /// Moves the last value out if it is a `T`, as
    /// [`pop_front`](Self::pop_front).
    #[inline]
    pub fn pop_back<T: 'static>(&mut self) -> Option<T> {
        self.list.pop_typed(End::Back)
    }

    /// Moves the first value out if it is a `T`; `None` (the deque
    /// unchanged) when the deque is empty or the first value is not a `T`.
    #[inline]
    pub fn pop_front<T: 'static>(&mut self) -> Option<T> {
        self.list.pop_typed(End::Front)
    }

    /// The first value.
    #[inline]
    #[must_use]
    pub fn front(&self) -> Option<&D> {
        self.list.peek(End::Front)
    }

    /// The last value.
    #[inline]
    #[must_use]
    pub fn back(&self) -> Option<&D> {
        self.list.peek(End::Back)
    }

    /// The first value, mutably.
    #[inline]
    pub fn front_mut(&mut self) -> Option<&mut D> {
        self.list.peek_mut(End::Front)
    }

    /// The last value, mutably.
    #[inline]
    pub fn back_mut(&mut self) -> Option<&mut D> {
        self.list.peek_mut(End::Back)
    }
}

common_api!(
    @common MultisizePageDeque,
    "deque",
    "front to back",
    "front to back",
    push: "push_back"
);

impl<D: ?Sized + 'static> MultisizePageDeque<D> {
    /// Whether the first value is a `T`.
    #[must_use]
    pub fn front_is<T: 'static>(&self) -> bool {
        self.list.is::<T>(End::Front)
    }

    /// Whether the last value is a `T`.
    #[must_use]
    pub fn back_is<T: 'static>(&self) -> bool {
        self.list.is::<T>(End::Back)
    }

    /// Moves the last value, whatever its type, into a `Box<D>`.
    pub fn pop_back_boxed(&mut self) -> Option<Box<D>> {
        self.list.pop_boxed(End::Back)
    }

    /// Moves the first value, whatever its type, into a `Box<D>`.
    pub fn pop_front_boxed(&mut self) -> Option<Box<D>> {
        self.list.pop_boxed(End::Front)
    }

    /// Drops the last value in place, as [`drop_front`](Self::drop_front).
    #[inline]
    pub fn drop_back(&mut self) -> bool {
        self.list.drop_end(End::Back)
    }

    /// Drops the first value in place; false when the deque is empty. The
    /// value is removed even if its destructor panics.
    #[inline]
    pub fn drop_front(&mut self) -> bool {
        self.list.drop_end(End::Front)
    }

    /// Pops the last value into `f`, in place, as
    /// [`pop_front_with`](Self::pop_front_with).
    #[inline]
    pub fn pop_back_with<R>(&mut self, f: impl FnOnce(&mut D) -> R) -> Option<R> {
        self.list.pop_with(End::Back, f)
    }

    /// Pops the first value into `f`, in place, whatever its type: `f`
    /// gets it as a `&mut D`, then it is dropped (also if `f` panics, so it
    /// is never handed out twice). Nothing is moved or boxed. `None` when
    /// the deque is empty.
    #[inline]
    pub fn pop_front_with<R>(&mut self, f: impl FnOnce(&mut D) -> R) -> Option<R> {
        self.list.pop_with(End::Front, f)
    }
}
