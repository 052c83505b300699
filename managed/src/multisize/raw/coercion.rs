//! Type-erased value operations: [`Coercion`] (the proof, written by
//! [`coercion!`](crate::coercion), that a `T` can be viewed as a `D`),
//! the [`Ops`] it carries, the [`RecordMeta`] each record stores, and
//! [`rebox`], which moves a value into a `Box<D>`.
//!
//! Invariant: an `Ops<D>` made for `T` coerces only pointers to `T`s, with
//! `T`'s metadata; a `Coercion<T, D>` holds the `Ops` made for its `T`.

use alloc::boxed::Box;
use core::alloc::Layout;
use core::any::TypeId;
use core::marker::PhantomData;
use core::ptr::NonNull;

use super::records::Records;
use crate::page::raw::allocate;

/// What a record knows about its value's type, shared by every value of
/// that type: made once per `(T, D)` pair in a constant by
/// [`coercion!`](crate::coercion).
#[doc(hidden)]
pub struct Ops<D: ?Sized> {
    /// Turns a pointer to a `T` into a pointer to `D` with `T`'s metadata.
    ///
    /// Invariant: it is the `fn(*mut T) -> *mut D` of an unsizing (or
    /// identity) coercion, stored with its argument type erased to `u8`
    /// (thin raw pointers are ABI-compatible whatever they point to).
    coerce: unsafe fn(*mut u8) -> *mut D,
    /// `TypeId::of::<T>`.
    type_id: fn() -> TypeId,
    /// `Layout::new::<T>()`.
    layout: Layout,
    /// `Records::heap_key(layout)`, computed once per type.
    heap_key: usize,
}

/// [`Ops`] tied to the concrete type `T`, so that type inference links the
/// coercion closure to the value pushed.
#[doc(hidden)]
pub struct TypedOps<T, D: ?Sized> {
    ops: Ops<D>,
    _type: PhantomData<fn(T) -> T>,
}

impl<D: ?Sized> core::fmt::Debug for Ops<D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ops")
            .field("layout", &self.layout)
            .field("to", &core::any::type_name::<D>())
            .finish_non_exhaustive()
    }
}

impl<T, D: ?Sized> core::fmt::Debug for TypedOps<T, D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TypedOps")
            .field("from", &core::any::type_name::<T>())
            .field("ops", &self.ops)
            .finish()
    }
}

impl<T: 'static, D: ?Sized> TypedOps<T, D> {
    /// Wraps `coerce`.
    ///
    /// # Safety
    ///
    /// `coerce` must return its argument coerced (unsizing or identity) to
    /// `*mut D`, nothing else. [`coercion!`](crate::coercion) passes
    /// `|p| p`, which the compiler accepts only for such coercions.
    #[doc(hidden)]
    pub const unsafe fn __new(coerce: fn(*mut T) -> *mut D) -> Self {
        Self {
            ops: Ops {
                // SAFETY: `fn(*mut T) -> *mut D` and `unsafe fn(*mut u8) ->
                // *mut D` have ABI-compatible signatures (thin raw pointers
                // are ABI-compatible with each other), so calling the
                // function through the erased type is defined; callers only
                // ever pass pointers to `T`s.
                coerce: unsafe {
                    core::mem::transmute::<fn(*mut T) -> *mut D, unsafe fn(*mut u8) -> *mut D>(
                        coerce,
                    )
                },
                type_id: TypeId::of::<T>,
                layout: Layout::new::<T>(),
                heap_key: Records::heap_key(Layout::new::<T>()),
            },
            _type: PhantomData,
        }
    }
}

/// A proof that a `T` can be viewed as a `D` (`D` is `T` itself, or a
/// trait object, slice or other unsized type `T` coerces to), carrying what
/// a multisize container records about `T`.
///
/// Write it with [`coercion!()`](crate::coercion) where a container's push
/// expects it; it is `Copy`, so it can also be made once and kept:
///
/// ```
/// use managed::prelude::*;
/// use std::fmt::Debug;
///
/// const AS_DEBUG: Coercion<u32, dyn Debug> = coercion!();
/// let mut stack: MultisizePageStack<dyn Debug> = MultisizePageStack::new();
/// stack.push(7u32, AS_DEBUG);
/// stack.push("seven", coercion!());
/// assert_eq!(format!("{:?}", stack.iter().collect::<Vec<_>>()), r#"["seven", 7]"#);
/// ```
pub struct Coercion<T, D: ?Sized + 'static> {
    /// Invariant: made by `TypedOps::__new` for this `T` (the only way to
    /// build one is the unsafe `__new_unchecked`).
    ops: &'static Ops<D>,
    _type: PhantomData<fn(T) -> T>,
}

impl<T, D: ?Sized + 'static> Clone for Coercion<T, D> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, D: ?Sized + 'static> Copy for Coercion<T, D> {}

impl<T, D: ?Sized + 'static> core::fmt::Debug for Coercion<T, D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Coercion")
            .field("from", &core::any::type_name::<T>())
            .field("to", &core::any::type_name::<D>())
            .finish()
    }
}

impl<T: 'static, D: ?Sized + 'static> Coercion<T, D> {
    /// Wraps the type operations made by `TypedOps::__new`.
    ///
    /// # Safety
    ///
    /// As for `TypedOps::__new`: the coercion inside must be `|p| p`.
    #[doc(hidden)]
    pub const unsafe fn __new_unchecked(ops: &'static TypedOps<T, D>) -> Self {
        Self {
            ops: &ops.ops,
            _type: PhantomData,
        }
    }

    #[inline]
    pub(crate) fn ops(self) -> &'static Ops<D> {
        self.ops
    }
}

/// Writes the [`Coercion`] a multisize container needs to record a value's
/// type: `queue.push(value, coercion!())`.
///
/// It expands to a constant holding the coercion `|p| p` from `*mut T` to
/// `*mut D`, which the compiler accepts only when `T` unsizes to `D` (or is
/// `D`); so a record's metadata always matches its value.
///
/// ```compile_fail
/// use managed::prelude::*;
/// let mut q: MultisizePageQueue<u32> = MultisizePageQueue::new();
/// q.push(5u64, coercion!()); // a u64 is not a u32
/// ```
#[macro_export]
macro_rules! coercion {
    () => {
        // SAFETY: the coercion passed is `|p| p`, an unsizing or identity
        // coercion checked by the compiler.
        unsafe {
            $crate::multisize::Coercion::__new_unchecked(
                const { &$crate::multisize::TypedOps::__new(|p| p) },
            )
        }
    };
}

impl<D: ?Sized> Ops<D> {
    /// `ptr` coerced to `D` with the metadata of this record's type.
    ///
    /// # Safety
    ///
    /// `ptr` must point to (or be meant for) a value of the type these
    /// operations were made for.
    #[inline]
    pub(crate) unsafe fn coerce(&self, ptr: NonNull<u8>) -> NonNull<D> {
        // SAFETY: by the invariant of `coerce` and the caller's contract the
        // function is called with a pointer to its real argument type.
        let fat = unsafe { (self.coerce)(ptr.as_ptr()) };
        // SAFETY: a coercion keeps the address, which is non-null.
        unsafe { NonNull::new_unchecked(fat) }
    }

    #[inline]
    pub(crate) fn type_id(&self) -> TypeId {
        (self.type_id)()
    }

    #[inline]
    pub(crate) fn layout(&self) -> Layout {
        self.layout
    }

    #[inline]
    pub(crate) fn heap_key(&self) -> usize {
        self.heap_key
    }
}

/// What a record holds after its two sizes: the value's pointer (with its
/// metadata, the "vptr") and its type operations.
#[repr(C)]
pub(crate) struct RecordMeta<D: ?Sized + 'static> {
    /// The value: inside the record's page, in its own heap block, or
    /// dangling for a zero-sized value.
    ///
    /// Invariant: points to a live value of the type `ops` was made for,
    /// with that type's metadata, and is derived from the page's (or the
    /// block's) own pointer, so it may be written through.
    pub(crate) value: NonNull<D>,
    /// The value type's operations.
    pub(crate) ops: &'static Ops<D>,
}

/// Moves `value` into a heap block that a `Box<D>` can own.
///
/// # Safety
///
/// `value` must point to a live value of `ops`' type that the caller gives
/// up (it must not be used or dropped afterwards).
pub(crate) unsafe fn rebox<D: ?Sized>(value: NonNull<u8>, ops: &Ops<D>) -> Box<D> {
    let layout = ops.layout();
    let block = if layout.size() == 0 {
        // A zero-sized box needs no allocation, only an aligned pointer.
        NonNull::new(core::ptr::without_provenance_mut::<u8>(layout.align()))
            .expect("alignments are non-zero")
    } else {
        // The layout has a non-zero size.
        let block = allocate(layout);
        // SAFETY: both regions are `layout.size()` bytes, valid, and
        // distinct (the block is fresh).
        unsafe { core::ptr::copy_nonoverlapping(value.as_ptr(), block.as_ptr(), layout.size()) };
        block
    };
    // SAFETY: 1. the block holds the value of `ops`' type (moved bitwise),
    // allocated by the global allocator (through `page::raw::allocate`)
    // with `Layout::new::<T>()`, which is
    // `Layout::for_value` of the coerced pointer, as `Box` requires;
    // 2. the caller gave the original up, so the value is owned once.
    unsafe { Box::from_raw(ops.coerce(block).as_ptr()) }
}
