//! [`Heap`]'s and [`Mutation`]'s lifetime machinery: the root stored at
//! the placeholder brand `'static` and shown only at a fresh brand, the
//! mutation token made from the heap (`Mutation` is a transparent
//! `RawHeap`), handles made for the objects the token allocates, and the
//! collection started from the root. Invariant: every handle that exists
//! between mutations is in the root's graph, so a collection visits (and
//! rewrites) all of them.

use core::ptr::NonNull;

use crate::heap::{CollectStats, Gc, GcKind, Heap, Mutation, Rootable};
use crate::visit::Managed;

use super::{Packing, RawHeap};

impl<R: Rootable> Heap<R> {
    /// The heap over `raw`, whose root `init` builds ([`Heap::new`],
    /// [`Heap::with_chunk_size`]).
    pub(in crate::heap) fn build(
        mut raw: RawHeap,
        init: impl for<'gc> FnOnce(&mut Mutation<'gc>) -> R::Root<'gc>,
    ) -> Self {
        let root = init(Mutation::new(&mut raw));
        let root = core::mem::ManuallyDrop::new(root);
        // SAFETY: `R::Root<'a>` and `R::Root<'static>` differ only in a
        // lifetime, which never changes a type's layout; the value is read
        // out once. It is only ever used again at a fresh brand (`mutate`,
        // `collect`) or dropped.
        let root = unsafe { (&raw const *root).cast::<R::Root<'static>>().read() };
        Heap { root, raw }
    }

    /// Runs `f` with the token and the root at a fresh brand
    /// ([`Heap::mutate`]).
    #[inline]
    pub(in crate::heap) fn run_mutation<O>(
        &mut self,
        f: impl for<'gc> FnOnce(&mut Mutation<'gc>, &mut R::Root<'gc>) -> O,
    ) -> O {
        let root = NonNull::from(&mut self.root).cast::<R::Root<'_>>();
        // SAFETY: the root is `R::Root` at another brand (same layout), and
        // `f` can use it at `'gc` only: `for<'gc>` lets it relate `'gc` to
        // no other lifetime, so it can put only `'static` data and handles
        // made by this mutation's token (objects of this heap) into it.
        let root = unsafe { &mut *root.as_ptr() };
        f(Mutation::new(&mut self.raw), root)
    }

    /// Runs `f` with a shared token and the root shared, at a fresh brand
    /// ([`Heap::read`]).
    #[inline]
    pub(in crate::heap) fn run_read<O>(
        &self,
        f: impl for<'gc> FnOnce(&Mutation<'gc>, &R::Root<'gc>) -> O,
    ) -> O {
        let root = NonNull::from(&self.root).cast::<R::Root<'_>>();
        // SAFETY: 1. as in `run_mutation`, the root at another brand, which
        // `f` cannot relate to any other lifetime; 2. shared, for as long as
        // the heap is: nothing writes the root meanwhile (writing it needs
        // `&mut self`).
        let root = unsafe { root.as_ref() };
        f(Mutation::new_shared(&self.raw), root)
    }

    /// Collects from the root ([`Heap::collect`], [`Heap::compact`]).
    pub(in crate::heap) fn collect_from_root(&mut self, packing: Packing) -> CollectStats {
        let root = NonNull::from(&mut self.root).cast::<u8>();
        // SAFETY: 1. `&mut self`: no mutation is running, so no reference
        // to an object is live and every handle is in the root's graph
        // (handles cannot leave a mutation except through the root);
        // 2. every such handle was made by this heap's token and rewritten
        // by every collection since, so it points at a live object of the
        // type its kind describes.
        unsafe {
            self.raw
                .collect(root, GcKind::of::<R::Root<'static>>(), packing)
        }
    }
}

impl<'gc> Mutation<'gc> {
    /// The token of a mutation of `raw`, at a brand the caller (a
    /// `for<'gc>` closure, above) cannot relate to any other lifetime.
    fn new(raw: &mut RawHeap) -> &mut Self {
        // SAFETY: `Mutation` is a transparent wrapper of `RawHeap`; the
        // brand is chosen by the caller, a `for<'gc>` closure.
        unsafe { &mut *(raw as *mut RawHeap).cast::<Self>() }
    }

    /// A shared token of `raw` ([`Heap::read`]), at a brand the caller (a
    /// `for<'gc>` closure) cannot relate to any other lifetime. Through it
    /// objects are read and allocated, never written (that needs `&mut`),
    /// and nothing is collected (that needs the heap exclusively).
    fn new_shared(raw: &RawHeap) -> &Self {
        // SAFETY: `Mutation` is a transparent wrapper of `RawHeap`; the
        // brand is chosen by the caller, a `for<'gc>` closure.
        unsafe { &*(raw as *const RawHeap).cast::<Self>() }
    }

    /// Moves `value` into the heap; a handle to it ([`Mutation::alloc`]).
    #[inline(always)]
    #[track_caller]
    pub(in crate::heap) fn alloc_gc<T: Managed + 'gc>(&self, value: T) -> Gc<'gc, T> {
        let p = self.raw.alloc(value);
        // SAFETY: a live `T` of this heap, whose mutation this token brands.
        unsafe { Gc::from_ptr(p) }
    }
}
