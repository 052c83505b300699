//! Multisize page containers and [`MultisizePool`]: values of
//! different types and sizes side by side on one list of pages.
//!
//! - [`MultisizePageDeque`]: push and pop at both ends, walk from either
//!   end. Every record starts with a pair of `u32`s: the size of
//!   the record before it and the size of the record itself (the distance
//!   to the one after it).
//! - [`MultisizePageQueue`]: push at the back, pop and walk from the front.
//! - [`MultisizePageStack`]: push, pop and walk at the top; it grows
//!   backwards in memory so the top record's metadata is at the lowest
//!   address in use.
//! - [`MultisizePool`]: allocate and free values of any type anywhere,
//!   from free lists of power-of-two size classes; values never move.
//!   Raw memory of any `Layout` comes from the same classes:
//!   [`MultisizePool::allocate`] returns an owning [`MultisizeBlock`],
//!   checked by its pool's id, handed back with `deallocate`.
//!
//! The three page containers hold heterogeneous values behind one unsized
//! type `D`, usually a trait object: a `MultisizePageQueue<dyn Shape>` holds
//! circles and squares and hands out `&dyn Shape`. Each record keeps the
//! value's (fat) pointer, its "vptr", recorded at push time from a
//! [`Coercion`] that the [`coercion!`](crate::coercion) macro writes: an
//! unsizing coercion checked by the compiler, so no record can ever carry
//! metadata that does not belong to its value.
//!
//! ```
//! use managed::prelude::*;
//!
//! trait Shape {
//!     fn area(&self) -> f64;
//! }
//! struct Square(f64);
//! struct Circle(f64);
//! impl Shape for Square {
//!     fn area(&self) -> f64 { self.0 * self.0 }
//! }
//! impl Shape for Circle {
//!     fn area(&self) -> f64 { 3.0 * self.0 * self.0 }
//! }
//!
//! let mut queue: MultisizePageQueue<dyn Shape> = MultisizePageQueue::new();
//! queue.push_back(Square(2.0), coercion!());
//! queue.push_back(Circle(1.0), coercion!());
//! assert_eq!(queue.iter().map(|s| s.area()).sum::<f64>(), 7.0);
//!
//! // Typed pops are checked: the front is a `Square`, not a `Circle`.
//! assert!(queue.pop_front::<Circle>().is_none());
//! assert_eq!(queue.pop_front::<Square>().map(|s| s.0), Some(2.0));
//! // Untyped pops hand the value over in a `Box<dyn Shape>`.
//! let circle: Box<dyn Shape> = queue.pop_front_boxed().unwrap();
//! assert_eq!(circle.area(), 3.0);
//! assert!(queue.is_empty());
//! ```
//!
//! Zero-sized values take no page space; values too large or too aligned
//! to sit in a page (see [`MultisizePageDeque`]) get their own block from
//! the global allocator and only their record sits in the page.
//!
//! The pool takes typed values behind checked `Copy` keys, and raw memory
//! of any layout behind owning handles:
//!
//! ```
//! use core::alloc::Layout;
//! use core::mem::MaybeUninit;
//! use managed::prelude::*;
//!
//! let mut pool = MultisizePool::new();
//! let key = pool.insert(String::from("typed"));
//! let block = pool.allocate(Layout::array::<u32>(10).unwrap()); // 40 bytes
//! let bytes = pool.bytes_mut(&block).unwrap();
//! bytes.fill(MaybeUninit::new(0));
//! bytes[0] = MaybeUninit::new(42);
//! // SAFETY: the block is live, 4-aligned and its bytes are initialized.
//! let first = unsafe { block.as_ptr().cast::<u32>().read() };
//! assert_eq!(first, 42);
//! assert_eq!(pool.len(), 2);
//! assert!(pool.deallocate(block)); // consumed: it cannot be freed twice
//! assert_eq!(pool.get(key).map(String::as_str), Some("typed"));
//! ```

use alloc::boxed::Box;
use core::alloc::Layout;
use core::any::TypeId;
use core::marker::PhantomData;
use core::ptr::NonNull;

mod deque;
mod list;
mod pool;
mod queue;
mod records;
mod stack;
mod values;

pub use deque::MultisizePageDeque;
pub use list::{Iter, IterMut};
pub use pool::{MultisizeBlock, MultisizeKey, MultisizePool};
pub use queue::MultisizePageQueue;
pub use records::PageInfo;
pub use stack::MultisizePageStack;
pub use values::{AnyValues, Holds, SendValues, ValueSet};

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
/// type: `queue.push_back(value, coercion!())`.
///
/// It expands to a constant holding the coercion `|p| p` from `*mut T` to
/// `*mut D`, which the compiler accepts only when `T` unsizes to `D` (or is
/// `D`); so a record's metadata always matches its value.
///
/// ```compile_fail
/// use managed::prelude::*;
/// let mut q: MultisizePageQueue<u32> = MultisizePageQueue::new();
/// q.push_back(5u64, coercion!()); // a u64 is not a u32
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
}

/// What a record holds after its two sizes: the value's pointer (with its
/// metadata, the "vptr") and its type operations.
#[repr(C)]
pub(crate) struct Meta<D: ?Sized + 'static> {
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
        // SAFETY: the layout has a non-zero size.
        let raw = unsafe { alloc::alloc::alloc(layout) };
        let block = NonNull::new(raw).unwrap_or_else(|| alloc::alloc::handle_alloc_error(layout));
        // SAFETY: both regions are `layout.size()` bytes, valid, and
        // distinct (the block is fresh).
        unsafe { core::ptr::copy_nonoverlapping(value.as_ptr(), block.as_ptr(), layout.size()) };
        block
    };
    // SAFETY: 1. the block holds the value of `ops`' type (moved bitwise),
    // allocated by the global allocator with `Layout::new::<T>()`, which is
    // `Layout::for_value` of the coerced pointer, as `Box` requires;
    // 2. the caller gave the original up, so the value is owned once.
    unsafe { Box::from_raw(ops.coerce(block).as_ptr()) }
}
