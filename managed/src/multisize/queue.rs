//! [`MultisizePageQueue`]: values of any type and size, pushed at the back
//! and popped from the front.

use super::Coercion;
use super::api::common_api;
use super::raw::list::{End, RecordList};
use alloc::boxed::Box;

/// A first-in first-out queue of values of different types and sizes,
/// viewed as `D` (usually a trait object), stored back to back in pages.
///
/// Each record holds, before its value, the value's pointer-with-metadata
/// (its "vptr") and its type operations, after the pair of sizes
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
/// jobs.push(Add(2, 3), coercion!());
/// jobs.push(Count { n: 0 }, coercion!());
/// let results: Vec<u32> = jobs.iter_mut().map(|job| job.run()).collect();
/// assert_eq!(results, [5, 1]);
/// let mut first = jobs.pop_boxed().unwrap();
/// assert_eq!(first.run(), 5);
/// assert_eq!(jobs.pop::<Count>().map(|c| c.n), Some(1));
/// ```
pub struct MultisizePageQueue<D: ?Sized + 'static> {
    list: RecordList<D>,
}

common_api!(@constructors MultisizePageQueue, "queue");

impl<D: ?Sized + 'static> MultisizePageQueue<D> {
    /// Appends `value`, recorded as a `D` through `how`
    /// (write [`coercion!()`](crate::coercion)).
    #[inline]
    pub fn push<T: 'static>(&mut self, value: T, how: Coercion<T, D>) {
        self.list.push(End::Back, value, how);
    }

    /// Moves the front value out if it is a `T`; `None` (the queue
    /// unchanged) when the queue is empty or the front is not a `T`.
    #[inline]
    pub fn pop<T: 'static>(&mut self) -> Option<T> {
        self.list.pop_typed(End::Front)
    }

    /// The value at the front, next to be popped.
    #[inline]
    #[must_use]
    pub fn peek(&self) -> Option<&D> {
        self.list.peek(End::Front)
    }

    /// The value at the front, mutably.
    #[inline]
    pub fn peek_mut(&mut self) -> Option<&mut D> {
        self.list.peek_mut(End::Front)
    }
}

common_api!(
    @common MultisizePageQueue,
    "queue",
    "front (oldest) first",
    "front to back",
    push: "push"
);

impl<D: ?Sized + 'static> MultisizePageQueue<D> {
    /// Whether the front value is a `T`.
    #[must_use]
    pub fn front_is<T: 'static>(&self) -> bool {
        self.list.is::<T>(End::Front)
    }

    /// Moves the front value, whatever its type, into a `Box<D>`.
    pub fn pop_boxed(&mut self) -> Option<Box<D>> {
        self.list.pop_boxed(End::Front)
    }

    /// Drops the front value in place; false when the queue is empty. The
    /// value is removed even if its destructor panics.
    #[inline]
    pub fn drop_front(&mut self) -> bool {
        self.list.drop_end(End::Front)
    }

    /// Pops the front value into `f`, in place, whatever its type: `f`
    /// gets it as a `&mut D`, then it is dropped. Nothing is moved or
    /// boxed. `None` when the queue is empty.
    ///
    /// The value is dropped even if `f` panics, so it is never handed out
    /// twice.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// trait Event { fn apply(&mut self, total: &mut u64); }
    /// struct Grow(u64);
    /// struct Reset;
    /// impl Event for Grow { fn apply(&mut self, total: &mut u64) { *total += self.0 } }
    /// impl Event for Reset { fn apply(&mut self, total: &mut u64) { *total = 0 } }
    ///
    /// let mut events: MultisizePageQueue<dyn Event> = MultisizePageQueue::new();
    /// events.push(Grow(5), coercion!());
    /// events.push(Reset, coercion!());
    /// events.push(Grow(2), coercion!());
    /// let mut total = 10;
    /// assert_eq!(events.pop_with(|e| e.apply(&mut total)), Some(()));
    /// assert_eq!(total, 15);
    /// events.drain_with(|e| e.apply(&mut total)); // the rest, in order
    /// assert_eq!((total, events.len()), (2, 0));
    /// assert_eq!(events.pop_with(|e| e.apply(&mut total)), None);
    /// ```
    #[inline]
    pub fn pop_with<R>(&mut self, f: impl FnOnce(&mut D) -> R) -> Option<R> {
        self.list.pop_with(End::Front, f)
    }

    /// Pops every value, front to back, into `f` in place
    /// ([`pop_with`](Self::pop_with) until the queue is empty): draining
    /// a queue of events without boxing them. If `f` panics, the value it
    /// was given is dropped and the rest stay queued.
    pub fn drain_with(&mut self, mut f: impl FnMut(&mut D)) {
        while self.list.pop_with(End::Front, &mut f).is_some() {}
    }
}
