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

impl<'gc> Mutation<'gc> {
    /// Several objects at once, each exclusively, for as long as the token
    /// is borrowed; `None` if two of the handles point at the same object.
    ///
    /// `mc[gc]` writes one object at a time; this is for an edit that
    /// needs two or more (swapping two nodes' children, an impulse applied
    /// to both bodies of a contact), as `<[T]>::get_disjoint_mut` is for a
    /// slice. The handles are compared pairwise (`N²/2` compares).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// #[derive(Managed)]
    /// struct Body {
    ///     velocity: f32,
    ///     mass: f32,
    /// }
    ///
    /// let mut heap: Heap<Vec<Gc<'static, Body>>> = Heap::new(|mc| {
    ///     vec![Gc::new(mc, Body { velocity: 2.0, mass: 1.0 }), Gc::new(mc, Body { velocity: -1.0, mass: 2.0 })]
    /// });
    /// heap.mutate(|mc, bodies| {
    ///     let [a, b] = mc.try_get_disjoint_mut([bodies[0], bodies[1]]).unwrap();
    ///     // A perfectly inelastic collision: both move together.
    ///     let v = (a.velocity * a.mass + b.velocity * b.mass) / (a.mass + b.mass);
    ///     (a.velocity, b.velocity) = (v, v);
    ///     assert!(mc.try_get_disjoint_mut([bodies[0], bodies[0]]).is_none());
    ///     assert_eq!(mc[bodies[1]].velocity, 0.0);
    /// });
    /// ```
    #[inline]
    pub fn try_get_disjoint_mut<'b, T, const N: usize>(
        &'b mut self,
        handles: [Gc<'gc, T>; N],
    ) -> Option<[&'b mut T; N]> {
        for (i, a) in handles.iter().enumerate() {
            if handles[..i].iter().any(|b| b.ptr == a.ptr) {
                return None;
            }
        }
        // SAFETY: 1. each object is live and stays in place while `'gc`
        // lasts (field invariant); 2. the handles point at pairwise
        // different addresses, so at different objects, which do not
        // overlap (objects of the same type at different addresses); 3. as
        // in `get_mut`, the token is borrowed exclusively for `'b`, so no
        // other reference to any of them is live.
        Some(handles.map(|gc| unsafe { &mut *gc.ptr.as_ptr() }))
    }

    /// Several objects at once, each exclusively, as
    /// [`try_get_disjoint_mut`](Self::try_get_disjoint_mut).
    ///
    /// # Panics
    ///
    /// If two of the handles point at the same object (at the caller's
    /// line).
    #[inline]
    #[track_caller]
    pub fn get_disjoint_mut<'b, T, const N: usize>(
        &'b mut self,
        handles: [Gc<'gc, T>; N],
    ) -> [&'b mut T; N] {
        match self.try_get_disjoint_mut(handles) {
            Some(objects) => objects,
            None => panic!("get_disjoint_mut: two handles point at the same object"),
        }
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
