//! [`Gc`]'s machinery: the object address it holds, the references read
//! through it, and its `Managed` impl (the address visited in place with
//! the object's kind). Invariant: a `Gc<'gc, T>` is only made
//! (`Gc::from_ptr`) for a live `T` of the heap whose mutation `'gc`
//! brands, and the collector rewrites it whenever the object moves.

use core::marker::PhantomData;
use core::ptr::NonNull;

use crate::heap::Mutation;
use crate::visit::{Managed, Visitor};

use super::GcKind;
use crate::heap::arena::Invariant;

/// A copyable handle to an object in a [`Heap`](crate::heap::Heap), branded
/// with the heap's mutation lifetime `'gc`.
///
/// It is one pointer (`Option<Gc<..>>` too): the object's address, which
/// the collector rewrites when it moves the object. Handles can be stored
/// anywhere in the object graph (inside objects, in the root, in `Vec`s
/// and `HashMap` values of either), point at any object, and form cycles.
///
/// Reading and writing go through the [`Mutation`] token of the mutation
/// that the handle belongs to: [`get`](Self::get) borrows it shared (many
/// objects may be read at once, and allocation goes on meanwhile),
/// [`get_mut`](Self::get_mut) borrows it exclusively (one object written at
/// a time), like a `GhostCell`. `mc[gc]` and `&mut mc[gc]` are the same.
///
/// A handle cannot leave the mutation it was made in except through the
/// root (the brand `'gc` is fresh in every [`Heap::mutate`](crate::heap::Heap::mutate)
/// call), so every handle that exists when the heap collects is one the
/// collector visits and rewrites.
///
/// Equality, hashing and `Debug` use the object's identity (its address
/// during the current mutation), as `Rc::ptr_eq` does; values are read
/// through the token.
pub struct Gc<'gc, T> {
    /// The object's address. Invariant: the start of a live `T` of the heap
    /// branded `'gc`, valid until the next collection, which cannot happen
    /// while `'gc` lasts (it needs the heap exclusively, and the mutation
    /// that `'gc` brands borrows it); the collector rewrites it when it
    /// moves the object.
    ptr: NonNull<T>,
    /// Branded with the heap's mutation (invariant), refers to a `T` it
    /// hands out `&mut` to (invariant in `T`), neither `Send` nor `Sync`.
    _marker: PhantomData<(Invariant<'gc>, *mut T)>,
}

impl<'gc, T> Gc<'gc, T> {
    /// Wraps an object address.
    ///
    /// # Safety
    ///
    /// `ptr` is the start of a live `T` of the heap whose mutation is
    /// branded `'gc`.
    #[inline(always)]
    pub(crate) unsafe fn from_ptr(ptr: NonNull<T>) -> Self {
        Gc {
            ptr,
            _marker: PhantomData,
        }
    }

    /// The object's address (it changes when a collection moves the object).
    #[inline(always)]
    pub(in crate::heap) fn ptr(self) -> NonNull<T> {
        self.ptr
    }

    /// The object, shared, for as long as the token is borrowed.
    #[inline(always)]
    pub fn get<'b>(self, mc: &'b Mutation<'gc>) -> &'b T {
        let _ = mc;
        // SAFETY: 1. the object is live and stays in place while `'gc`
        // lasts (field invariant); 2. writing needs `&mut Mutation<'gc>`,
        // which the shared borrow of the token excludes for `'b`.
        unsafe { self.ptr.as_ref() }
    }

    /// The object, exclusively, for as long as the token is borrowed.
    #[inline(always)]
    pub fn get_mut<'b>(self, mc: &'b mut Mutation<'gc>) -> &'b mut T {
        let _ = mc;
        let mut ptr = self.ptr;
        // SAFETY: 1. as in `get`; 2. every reference to a heap object of
        // this mutation borrows its token, which is borrowed exclusively
        // for `'b`: no other reference to this object is live.
        unsafe { ptr.as_mut() }
    }
}

// SAFETY: a `Gc` is one direct reference, visited in place with its
// object's kind: the address written back is what the handle reads next.
unsafe impl<T: Managed> Managed for Gc<'_, T> {
    const HAS_REFS: bool = true;

    #[inline(always)]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        // SAFETY: `NonNull<T>` and `NonNull<u8>` have the same layout (`T`
        // is sized), so the visitor reads and writes the handle's own
        // address in place (a marking visitor then does not write at all).
        let place = unsafe { &mut *(&raw mut self.ptr).cast::<NonNull<u8>>() };
        visitor.visit_gc(place, GcKind::of::<T>());
    }
}

/// A weak handle to a heap object: it does not keep the object alive.
/// [`upgrade`](Self::upgrade) gives a [`Gc`] while the object exists, and
/// `None` once a collection found it unreachable and dropped it. Made by
/// [`Gc::downgrade`].
///
/// Like a `Gc`, it is one pointer, `Copy`, branded with the mutation
/// `'gc`, and lives in the root's graph (objects, the root, containers of
/// either); the collector rewrites it when its object moves, and writes a
/// "dead" marker into it when its object is dropped. An object that is
/// unreachable but not collected yet still upgrades (and becomes
/// reachable again if the upgraded handle is stored).
pub struct GcWeak<'gc, T> {
    /// The object's address, or [`dead`](super::dead)'s. Invariant: unless it is
    /// `dead()`, the start of a live `T` of the heap branded `'gc`; every
    /// collection either rewrites it with the object's new address or, if
    /// the object was not marked, replaces it by `dead()` (the collector
    /// visits every weak handle whose object moves or dies, see
    /// `RawHeap::collect`).
    ptr: NonNull<T>,
    /// As for [`Gc`]: branded (invariant), invariant in `T`, neither `Send`
    /// nor `Sync`.
    _marker: PhantomData<(Invariant<'gc>, *mut T)>,
}

impl<'gc, T> Gc<'gc, T> {
    /// A weak handle to the same object.
    #[inline(always)]
    pub fn downgrade(self) -> GcWeak<'gc, T> {
        GcWeak {
            ptr: self.ptr,
            _marker: PhantomData,
        }
    }
}

impl<'gc, T> GcWeak<'gc, T> {
    /// A handle to the object, unless a collection has dropped it.
    #[inline(always)]
    pub fn upgrade(self, mc: &Mutation<'gc>) -> Option<Gc<'gc, T>> {
        let _ = mc;
        if self.is_dropped() {
            return None;
        }
        // SAFETY: not the dead marker, so the start of a live `T` of the
        // heap branded `'gc` (field invariant).
        Some(unsafe { Gc::from_ptr(self.ptr) })
    }

    /// Whether a collection has dropped the object.
    #[inline(always)]
    pub fn is_dropped(self) -> bool {
        self.ptr.cast::<u8>() == super::dead()
    }

    /// The address kept (the dead marker's once the object is dropped).
    #[inline(always)]
    pub(in crate::heap) fn ptr(self) -> NonNull<T> {
        self.ptr
    }
}

// SAFETY: one weak reference, visited in place: the address written back
// (the object's new one, or the dead marker's) is what the handle reads
// next.
unsafe impl<T> Managed for GcWeak<'_, T> {
    const HAS_REFS: bool = true;

    #[inline(always)]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        // SAFETY: as for `Gc`: `NonNull<T>` and `NonNull<u8>` have the same
        // layout.
        let place = unsafe { &mut *(&raw mut self.ptr).cast::<NonNull<u8>>() };
        visitor.visit_weak(place);
    }
}
