//! [`Gc`]: the copyable handle to a heap object.
//!
//! The type, the references read through it and its `Managed` impl live in
//! `raw::gc`; here are its constructor and value-like impls.

use core::fmt;
use core::hash::{Hash, Hasher};

use crate::visit::Managed;

use super::arena::Mutation;
use super::rootable::{Branded, Rootable};

pub use super::raw::gc::{Gc, GcDyn, GcDynWeak, GcWeak};

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

impl<'gc, T: Branded<'gc>> Branded<'gc> for Gc<'gc, T> {
    type Static = Gc<'static, T::Static>;
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

/// Equal when they point at the same object, or both at none (dropped
/// objects, and [`GcWeak::new`]): [`GcWeak::ptr_eq`].
impl<T> PartialEq for GcWeak<'_, T> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.ptr() == other.ptr()
    }
}

impl<T> Eq for GcWeak<'_, T> {}

/// Hashes the object's current address, as for [`Gc`]: the std maps and
/// sets holding weak handles in their keys file their entries again when a
/// collection moves the objects, so a `HashMap<GcWeak<'gc, T>, V>` is an
/// identity map that keeps no object alive.
///
/// The collection that drops a key's object drops its entry too, value
/// included: a weakly keyed map or set never holds a key whose object is
/// gone (the same holds for keys that contain weak handles, such as
/// `(GcWeak<'gc, T>, u32)`, in `HashMap`, `HashSet`, `BTreeMap` and
/// `BTreeSet`). Only a key made dead by [`GcWeak::new`] stays, as any
/// key does. The values are visited as usual, so a value that refers to
/// its own key keeps that object alive.
///
/// ```
/// use std::collections::HashMap;
/// use managed::prelude::*;
///
/// #[derive(Managed)]
/// struct Vm<'gc> {
///     objects: Vec<Gc<'gc, String>>,
///     // Names given to objects, without keeping them alive.
///     names: HashMap<GcWeak<'gc, String>, &'static str>,
/// }
///
/// let mut heap: Heap<Vm<'static>> =
///     Heap::new(|_| Vm { objects: Vec::new(), names: HashMap::new() });
/// heap.mutate(|mc, vm| {
///     for (i, name) in ["a", "b", "c"].into_iter().enumerate() {
///         let object = Gc::new(mc, i.to_string());
///         vm.objects.push(object);
///         vm.names.insert(object.downgrade(), name);
///     }
///     vm.objects.truncate(1); // "b" and "c" are garbage now
/// });
/// heap.collect(); // moves "a", drops the others and their names
/// heap.mutate(|_, vm| {
///     assert_eq!(vm.names.len(), 1);
///     assert_eq!(vm.names[&vm.objects[0].downgrade()], "a");
/// });
/// ```
impl<T> Hash for GcWeak<'_, T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.ptr().hash(state);
    }
}

/// [`GcWeak::new`]: a handle that never upgrades.
impl<T> Default for GcWeak<'_, T> {
    #[inline(always)]
    fn default() -> Self {
        Self::new()
    }
}

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

impl<'gc, T: Branded<'gc>> Branded<'gc> for GcWeak<'gc, T> {
    type Static = GcWeak<'static, T::Static>;
}

impl<T: ?Sized> GcDyn<'_, T> {
    /// Whether two handles point at the same object (whatever metadata
    /// each carries).
    #[inline]
    pub fn ptr_eq(this: Self, other: Self) -> bool {
        this.ptr().cast::<u8>() == other.ptr().cast::<u8>()
    }

    /// The object's current address, with its metadata (the address
    /// changes when a collection moves the object).
    #[inline]
    pub fn as_ptr(self) -> *const T {
        self.ptr().as_ptr()
    }
}

impl<T: ?Sized> Clone for GcDyn<'_, T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for GcDyn<'_, T> {}

/// Compares the objects' addresses only: one object may be seen through
/// different copies of its vtable.
impl<T: ?Sized> PartialEq for GcDyn<'_, T> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        Self::ptr_eq(*self, *other)
    }
}

impl<T: ?Sized> Eq for GcDyn<'_, T> {}

/// Hashes the object's current address, as [`Gc`]'s `Hash` does (maps and
/// sets keyed by handles file their entries again when a collection moves
/// the objects).
impl<T: ?Sized> Hash for GcDyn<'_, T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.ptr().cast::<u8>().hash(state);
    }
}

impl<T: ?Sized> fmt::Debug for GcDyn<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GcDyn({:p})", self.ptr().cast::<u8>())
    }
}

impl<T: ?Sized> fmt::Pointer for GcDyn<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&self.ptr().cast::<u8>(), f)
    }
}

impl<T: ?Sized> GcDynWeak<'_, T> {
    /// Whether two weak handles point at the same object (two handles
    /// whose objects were dropped are equal too).
    #[inline]
    pub fn ptr_eq(this: Self, other: Self) -> bool {
        this.ptr().cast::<u8>() == other.ptr().cast::<u8>()
    }
}

impl<T: ?Sized> Clone for GcDynWeak<'_, T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for GcDynWeak<'_, T> {}

impl<T: ?Sized> fmt::Debug for GcDynWeak<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_dropped() {
            f.write_str("GcDynWeak(dropped)")
        } else {
            write!(f, "GcDynWeak({:p})", self.ptr().cast::<u8>())
        }
    }
}
