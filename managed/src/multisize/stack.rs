//! [`MultisizePageStack`]: values of any type and size, pushed and popped
//! at the top.

use super::Coercion;
use super::api::common_api;
use super::raw::list::{End, RecordList};
use alloc::boxed::Box;

/// A last-in first-out stack of values of different types and sizes,
/// viewed as `D` (usually a trait object), stored in pages.
///
/// The stack grows backwards in memory: each push places
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
/// assert_eq!(stack.peek().unwrap().to_string(), "1");
/// ```
pub struct MultisizePageStack<D: ?Sized + 'static> {
    /// The top of the stack is the list's front.
    list: RecordList<D>,
}

common_api!(@constructors MultisizePageStack, "stack");

impl<D: ?Sized + 'static> MultisizePageStack<D> {
    /// Pushes `value` on top, recorded as a `D` through `how`
    /// (write [`coercion!()`](crate::coercion)).
    #[inline]
    pub fn push<T: 'static>(&mut self, value: T, how: Coercion<T, D>) {
        self.list.push(End::Front, value, how);
    }

    /// Moves the top value out if it is a `T`; `None` (the stack unchanged)
    /// when the stack is empty or the top is not a `T`.
    #[inline]
    pub fn pop<T: 'static>(&mut self) -> Option<T> {
        self.list.pop_typed(End::Front)
    }

    /// The value on top.
    #[inline]
    #[must_use]
    pub fn peek(&self) -> Option<&D> {
        self.list.peek(End::Front)
    }

    /// The value on top, mutably.
    #[inline]
    pub fn peek_mut(&mut self) -> Option<&mut D> {
        self.list.peek_mut(End::Front)
    }
}

common_api!(
    @common MultisizePageStack,
    "stack",
    "top first",
    "top first",
    push: "push"
);

impl<D: ?Sized + 'static> MultisizePageStack<D> {
    /// Whether the value on top is a `T`.
    #[must_use]
    pub fn top_is<T: 'static>(&self) -> bool {
        self.list.is::<T>(End::Front)
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

    /// Pops the top value into `f`, in place, whatever its type: `f` gets
    /// it as a `&mut D`, then it is dropped (also if `f` panics). Nothing
    /// is moved or boxed. `None` when the stack is empty.
    #[inline]
    pub fn pop_with<R>(&mut self, f: impl FnOnce(&mut D) -> R) -> Option<R> {
        self.list.pop_with(End::Front, f)
    }

    /// Pops every value, top first, into `f` in place
    /// ([`pop_with`](Self::pop_with) until the stack is empty).
    pub fn drain_with(&mut self, mut f: impl FnMut(&mut D)) {
        while self.list.pop_with(End::Front, &mut f).is_some() {}
    }
}
