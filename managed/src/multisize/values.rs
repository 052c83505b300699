//! Which values a [`MultisizePool`](super::MultisizePool) may hold, and so
//! whether the pool may move to another thread.

/// The set of value types a [`MultisizePool`](super::MultisizePool)
/// accepts: [`AnyValues`] (the default) or [`SendValues`]. Sealed.
pub trait ValueSet: sealed::Sealed + 'static {}

/// A [`ValueSet`] that accepts `T`.
#[diagnostic::on_unimplemented(
    message = "a `MultisizePool<{Self}>` cannot hold a `{T}`",
    label = "`{T}` is not `Send`",
    note = "a `MultisizePool<SendValues>` is `Send` because it holds only `Send` values; \
            a `MultisizePool` (of `AnyValues`) holds any value but stays on its thread"
)]
pub trait Holds<T>: ValueSet {}

/// Values of any type: the pool accepts everything and is not `Send`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnyValues {}

/// Only `Send` values: the pool is `Send` too.
///
/// ```
/// use managed::prelude::*;
///
/// let mut pool: MultisizePool<SendValues> = MultisizePool::default();
/// let key = pool.insert(String::from("moved"));
/// let pool = std::thread::spawn(move || {
///     pool.get(key).map(|s| s.len())
/// });
/// assert_eq!(pool.join().unwrap(), Some(5));
/// ```
///
/// A value that is not `Send` is refused at compile time:
///
/// ```compile_fail
/// use managed::prelude::*;
///
/// let mut pool: MultisizePool<SendValues> = MultisizePool::default();
/// pool.insert(std::rc::Rc::new(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendValues {}

impl ValueSet for AnyValues {}
impl ValueSet for SendValues {}
impl<T> Holds<T> for AnyValues {}
impl<T: Send> Holds<T> for SendValues {}

mod sealed {
    /// Only this crate's value sets exist: the pool's `Send` impl relies on
    /// what `SendValues` accepts.
    pub trait Sealed {}
    impl Sealed for super::AnyValues {}
    impl Sealed for super::SendValues {}
}
