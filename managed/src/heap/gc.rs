//! [`Gc`]: the copyable handle to a heap object.
//!
//! The type, the references read through it and its `Managed` impl live in
//! `raw::gc`; here are its constructor and value-like impls.

use core::fmt;
use core::hash::{Hash, Hasher};

use crate::visit::Managed;

use super::arena::Mutation;
use super::rootable::Rootable;

pub use super::raw::gc::{Gc, GcWeak};

impl<'gc, T> Gc<'gc, T> {
    /// Moves `value` into the heap and returns a handle to it.
    ///
    /// The same as [`Mutation::alloc`]. The heap grows by a chunk when the
    /// current ones are full; nothing moves until the next
    /// [`collect`](super::Heap::collect).
    ///
    /// `T: 'gc` keeps borrowed data out of the heap: objects outlive the
    /// mutation that made them, and may be dropped by a later collection.
    #[inline(always)]
    pub fn new(mc: &Mutation<'gc>, value: T) -> Self
    where
        T: Managed + 'gc,
    {
        mc.alloc(value)
    }

    /// Whether two handles point at the same object.
    #[inline]
    pub fn ptr_eq(this: Self, other: Self) -> bool {
        this.ptr() == other.ptr()
    }

    /// The object's current address (it changes when a collection moves
    /// the object).
    #[inline]
    pub fn as_ptr(self) -> *const T {
        self.ptr().as_ptr()
    }
}

impl<T> Clone for Gc<'_, T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Gc<'_, T> {}

impl<T> PartialEq for Gc<'_, T> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.ptr() == other.ptr()
    }
}

impl<T> Eq for Gc<'_, T> {}

/// Hashes the object's current address. A collection that moves the
/// object changes it, and the std maps and sets holding the handle in a
/// key (`HashMap`, `HashSet`, `BTreeMap`, `BTreeSet`) file their entries
/// again under the new address as part of the collection (see their
/// `Managed` impls), so lookups keep finding the object.
impl<T> Hash for Gc<'_, T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.ptr().hash(state);
    }
}

impl<T> fmt::Debug for Gc<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gc({:p})", self.ptr())
    }
}

impl<T> fmt::Pointer for Gc<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&self.ptr(), f)
    }
}

impl<T: Rootable> Rootable for Gc<'_, T> {
    type Root<'gc> = Gc<'gc, T::Root<'gc>>;
}

impl<T> GcWeak<'_, T> {
    /// Whether two weak handles point at the same object (two handles
    /// whose objects were dropped are equal too).
    #[inline]
    pub fn ptr_eq(this: Self, other: Self) -> bool {
        this.ptr() == other.ptr()
    }
}

impl<T> Clone for GcWeak<'_, T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for GcWeak<'_, T> {}

impl<T> fmt::Debug for GcWeak<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_dropped() {
            f.write_str("GcWeak(dropped)")
        } else {
            write!(f, "GcWeak({:p})", self.ptr())
        }
    }
}

impl<T: Rootable> Rootable for GcWeak<'_, T> {
    type Root<'gc> = GcWeak<'gc, T::Root<'gc>>;
}
