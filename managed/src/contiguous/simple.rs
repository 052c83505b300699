//! [`SimpleProxy`]: a managed object that owns its own storage.

use alloc::boxed::Box;
use core::cell::RefCell;
use core::fmt;
use core::ops::Deref;

use super::access::{Access, Fields};
use super::raw::access;

/// A standalone managed object behind a proxy.
///
/// The object lives in its own heap allocation, which the proxy owns;
/// dropping the proxy drops the object and frees it. It offers the same
/// surface as a pool [`Proxy`](super::Proxy): [`with`](Self::with),
/// [`with_mut`](Self::with_mut) and the derive-generated accessors, with the
/// same `RefCell` rule (a `with_mut` nested in a `with` or `with_mut` of the
/// same proxy panics).
///
/// ```
/// use managed::prelude::*;
///
/// let p = SimpleProxy::new(76_i32);
/// p.with_mut(|a| *a += 1);
/// assert_eq!(p.with(|a| *a), 77);
/// assert_eq!(SimpleProxy::into_inner(p), 77);
/// ```
pub struct SimpleProxy<T> {
    /// The object, at a stable address for the proxy's whole life.
    cell: Box<RefCell<T>>,
}

impl<T> SimpleProxy<T> {
    /// Moves `value` to its own allocation.
    #[must_use]
    pub fn new(value: T) -> Self {
        Self {
            cell: Box::new(RefCell::new(value)),
        }
    }

    /// Runs `f` with a shared reference to the object.
    ///
    /// # Panics
    ///
    /// Inside a [`with_mut`](Self::with_mut) closure of the same proxy
    /// (or an exclusive accessor's or forwarded method's).
    #[inline]
    #[track_caller]
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        self.with_named(f, "with")
    }

    /// [`with`](Self::with), whose panic names `operation` (the method the
    /// user called: `with`, or a derive-generated accessor or forwarded
    /// method, through [`Access`]).
    #[inline]
    #[track_caller]
    fn with_named<R>(&self, f: impl FnOnce(&T) -> R, operation: &'static str) -> R {
        match self.cell.try_borrow() {
            Ok(object) => f(&object),
            Err(_) => borrowed_panic(operation, true),
        }
    }

    /// Runs `f` with an exclusive reference to the object.
    ///
    /// # Panics
    ///
    /// Inside a `with` or `with_mut` closure of the same proxy (or an
    /// accessor's or forwarded method's).
    #[inline]
    #[track_caller]
    pub fn with_mut<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        self.with_mut_named(f, "with_mut")
    }

    /// [`with_mut`](Self::with_mut), whose panic names `operation`, as
    /// [`with_named`](Self::with_named)'s.
    #[inline]
    #[track_caller]
    fn with_mut_named<R>(&self, f: impl FnOnce(&mut T) -> R, operation: &'static str) -> R {
        match self.cell.try_borrow_mut() {
            Ok(mut object) => f(&mut object),
            // Told apart out of line: a shared borrow leaves room for
            // another shared one, an exclusive borrow does not.
            Err(_) => borrowed_panic(operation, self.cell.try_borrow().is_err()),
        }
    }

    /// The object, exclusively (for the `Managed` impl in the raw module).
    #[inline]
    pub(super) fn cell_mut(&mut self) -> &mut T {
        self.cell.get_mut()
    }

    /// Frees the storage and returns the object (`SimpleProxy::into_inner(p)`,
    /// an associated function so it never hides an accessor).
    pub fn into_inner(this: Self) -> T {
        this.cell.into_inner()
    }
}

impl<T> From<T> for SimpleProxy<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: Default> Default for SimpleProxy<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: fmt::Debug> fmt::Debug for SimpleProxy<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.cell.try_borrow() {
            Ok(value) => f.debug_tuple("SimpleProxy").field(&*value).finish(),
            Err(_) => f.write_str("SimpleProxy(<borrowed>)"),
        }
    }
}

impl<T> Access for SimpleProxy<T> {
    type Target = T;
    #[inline]
    #[track_caller]
    fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        SimpleProxy::with(self, f)
    }
    #[inline]
    #[track_caller]
    fn with_mut<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        SimpleProxy::with_mut(self, f)
    }
    #[inline]
    #[track_caller]
    fn __with_named<R>(&self, name: &'static str, f: impl FnOnce(&T) -> R) -> R {
        self.with_named(f, name)
    }
    #[inline]
    #[track_caller]
    fn __with_mut_named<R>(&self, name: &'static str, f: impl FnOnce(&mut T) -> R) -> R {
        self.with_mut_named(f, name)
    }
}

impl<T: Fields> Deref for SimpleProxy<T> {
    type Target = T::View<Self>;
    /// The derive-generated field accessors and forwarded methods of `T`.
    #[inline]
    fn deref(&self) -> &Self::Target {
        access::view(self)
    }
}

/// Panics for an access through a [`SimpleProxy`] whose object is already
/// borrowed in a conflicting way: `operation` is the method called (`with`,
/// `with_mut`, or a derive-generated accessor or forwarded method), and
/// `exclusively` whether the object is borrowed exclusively (otherwise it
/// is borrowed shared, which only an exclusive access conflicts with).
/// Out of line and cold, so that the accesses carry none of its code.
#[cold]
#[inline(never)]
#[track_caller]
fn borrowed_panic(operation: &str, exclusively: bool) -> ! {
    let (borrow, closure) = if exclusively {
        ("mutably borrowed", "`with_mut`")
    } else {
        ("borrowed", "`with`")
    };
    panic!(
        "SimpleProxy: `{operation}` called while the object is already {borrow} (inside a \
         {closure} closure, accessor or forwarded method of the same proxy)"
    )
}
