//! [`Proxy`]'s safe trait impls: the closure access the derive-generated
//! accessors are written against, the dereference to the field view, and
//! `Debug`. The type itself, and everything that touches the pool's
//! memory, is in the raw layer ([`super::raw::proxy`]).

use core::fmt;
use core::ops::Deref;

use slotmap::Key;

use super::access::{Access, Fields};
use super::raw::access;
use super::raw::proxy::Proxy;

impl<T, K> Access for Proxy<'_, T, K> {
    type Target = T;
    #[inline]
    #[track_caller]
    fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        Proxy::with(self, f)
    }
    #[inline]
    #[track_caller]
    fn with_mut<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        Proxy::with_mut(self, f)
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

impl<T: Fields, K> Deref for Proxy<'_, T, K> {
    type Target = T::View<Self>;
    /// The derive-generated field accessors and forwarded methods of `T`.
    #[inline]
    fn deref(&self) -> &Self::Target {
        access::view(self)
    }
}

impl<T: fmt::Debug, K: Key> fmt::Debug for Proxy<'_, T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (exclusive, live) = (self.pool_is_exclusive(), self.is_live());
        if exclusive || !live {
            return f
                .debug_struct("Proxy")
                .field("key", &Self::key(self))
                .field("removed", &!live)
                .finish_non_exhaustive();
        }
        self.with(|value| f.debug_tuple("Proxy").field(value).finish())
    }
}
