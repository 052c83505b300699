//! Handles held outside the heap: the table of [`HeldCell`]s that a
//! collection treats as roots, next to the root value.
//!
//! A [`Held`] handle owns a reference-counted cell with
//! its object's address; the heap lists the same cell in its
//! [`HeldTable`]. Each collection first unlists the cells that only the
//! table still refers to (their last handle was dropped), then marks from
//! every listed cell and rewrites its address when the object moves, as it
//! does for the handles in the root. A handle is redeemed by a mutation of
//! the heap whose id its cell carries, and of no other: heap ids are never
//! reused, so a handle that outlived its heap matches no heap at all.

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::marker::PhantomData;
use core::ptr::NonNull;

use crate::heap::{Gc, Mutation, Rootable};
use crate::platform::IdCounter;
use crate::visit::Visitor;

use super::GcKind;

/// Heap ids, never reused.
static NEXT_HEAP_ID: IdCounter = IdCounter::new();

/// One object held from outside its heap: shared by the
/// [`Held`] handles to it and the heap's table.
pub(crate) struct HeldCell {
    /// The id of the heap that made the cell ([`HeldTable::id`]).
    heap: u64,
    /// The object's address.
    ///
    /// Invariant: while the table of heap `heap` lists the cell, the start
    /// of a live object of that heap, of the type `kind` describes. Every
    /// collection of that heap marks the object and writes its new address
    /// here; the table lists the cell as long as a handle refers to it
    /// (see [`HeldTable::prune`]).
    ptr: Cell<NonNull<u8>>,
    /// The type of the object (how to trace it).
    kind: &'static GcKind,
}

impl HeldCell {
    /// Whether `a` and `b` hold the same object of the same heap.
    pub(crate) fn same_object(a: &HeldCell, b: &HeldCell) -> bool {
        a.heap == b.heap && a.ptr.get() == b.ptr.get()
    }
}

/// The cells held from outside a heap, with the heap's id.
pub(crate) struct HeldTable {
    /// This heap's id, unique among every heap ever made.
    id: u64,
    /// Every cell made by this heap's `hold` that a handle may still refer
    /// to (a cell is unlisted only once its strong count says the table
    /// holds the last reference). Borrowed only inside this module's
    /// methods, none of which runs user code while it is borrowed.
    cells: RefCell<Vec<Rc<HeldCell>>>,
}

impl HeldTable {
    /// An empty table with a fresh heap id.
    pub(crate) fn new() -> Self {
        HeldTable {
            id: NEXT_HEAP_ID.next(),
            cells: RefCell::new(Vec::new()),
        }
    }

    /// Lists a new cell holding the object at `ptr`, of the type `kind`
    /// describes, and returns it.
    ///
    /// # Safety
    ///
    /// `ptr` must be the start of a live object of the heap that owns this
    /// table, of the type `kind` describes.
    pub(crate) unsafe fn hold(&self, ptr: NonNull<u8>, kind: &'static GcKind) -> Rc<HeldCell> {
        let cell = Rc::new(HeldCell {
            heap: self.id,
            ptr: Cell::new(ptr),
            kind,
        });
        let mut cells = self.cells.borrow_mut();
        // Unlists dropped handles before the table would grow, so that a
        // program that holds and drops handles between collections keeps
        // the table at about twice its live handles.
        if cells.len() == cells.capacity() {
            cells.retain(|cell| Rc::strong_count(cell) > 1);
        }
        cells.push(Rc::clone(&cell));
        cell
    }

    /// The address of the object `cell` holds, if the cell is this heap's.
    pub(crate) fn fetch(&self, cell: &HeldCell) -> Option<NonNull<u8>> {
        // A cell carrying this heap's id was made by this table's `hold`,
        // and is still listed: the caller's handle refers to it, so its
        // strong count is above one and `prune` kept it. Its address is
        // then current (invariant on `HeldCell::ptr`).
        (cell.heap == self.id).then(|| cell.ptr.get())
    }

    /// Unlists the cells whose every handle was dropped.
    pub(crate) fn prune(&mut self) {
        self.cells
            .get_mut()
            .retain(|cell| Rc::strong_count(cell) > 1);
    }

    /// Hands every listed cell's address to `visitor` as a heap handle of
    /// its kind, and keeps the address the visitor writes back.
    pub(crate) fn visit<V: Visitor>(&mut self, visitor: &mut V) {
        for cell in self.cells.get_mut().iter() {
            let mut ptr = cell.ptr.get();
            visitor.visit_gc(&mut ptr, cell.kind);
            cell.ptr.set(ptr);
        }
    }

    /// Cells listed (some of them may be unlisted by the next collection).
    pub(crate) fn len(&self) -> usize {
        self.cells.borrow().len()
    }

    /// Bytes of the table's vector (the cells are shared with the handles
    /// and counted with them, not here).
    pub(crate) fn bytes(&self) -> usize {
        self.cells.borrow().capacity() * size_of::<Rc<HeldCell>>()
    }
}

/// A handle to a heap object that lives outside the heap: in a struct of
/// the program's, a UI widget, an undo command, a callback, a channel's
/// message. It keeps its object alive, follows it when a collection moves
/// it, and is redeemed for a [`Gc`] inside any later mutation of the same
/// heap ([`Mutation::fetch`], `mc[&held]`).
///
/// `T` names the object's type at the placeholder brand `'static`, as a
/// heap's root type does (see [`Rootable`]): a `Held<Node<'static>>` holds
/// a `Node<'gc>` and is redeemed for a `Gc<'gc, Node<'gc>>`. It is made
/// by [`Mutation::hold`]; clones hold the same object; the object is
/// released for collection once every clone is dropped.
///
/// A `Held` is one pointer. Holding costs an allocation (the cell that the
/// handle and the heap share); redeeming is a compare of the heap's id and
/// a load. Each collection visits every held object as a root.
///
/// Like an `Rc` cycle, a `Held` stored inside an object of its own heap
/// keeps that object (and what it reaches) alive for as long as the heap
/// lives: inside the heap, point at objects with `Gc` handles.
pub struct Held<T: Rootable> {
    /// The cell shared with the heap's table (see [`HeldCell`]): while this
    /// handle exists the cell's strong count is above one, so the table of
    /// the heap that made it (if that heap still exists) lists it and keeps
    /// its address current.
    cell: Rc<HeldCell>,
    /// The object is a `T::Root<'_>` (invariant in `T`: it hands out a
    /// `Gc`, through which the object is written); not `Send` nor `Sync`
    /// (the `Rc`).
    _type: PhantomData<fn(T) -> T>,
}

impl<T: Rootable> Held<T> {
    /// The cell (for the safe methods in `heap::held`).
    pub(in crate::heap) fn cell(&self) -> &HeldCell {
        &self.cell
    }
}

// SAFETY: a `Held` holds no direct reference: its cell is the heap's to
// rewrite (the heap's table lists it), so a value holding a `Held` has
// nothing to visit for it, whatever container moves that value.
unsafe impl<T: Rootable> crate::visit::Managed for Held<T> {
    const HAS_REFS: bool = false;

    #[inline(always)]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, _visitor: &mut V) {}
}

impl<T: Rootable> Clone for Held<T> {
    fn clone(&self) -> Self {
        Held {
            cell: Rc::clone(&self.cell),
            _type: PhantomData,
        }
    }
}

impl<'gc> Mutation<'gc> {
    /// A [`Held`] handle to `gc`'s object ([`Mutation::hold`]).
    pub(in crate::heap) fn hold_gc<T: Rootable>(&self, gc: Gc<'gc, T::Root<'gc>>) -> Held<T> {
        let kind = GcKind::of::<T::Root<'static>>();
        // SAFETY: a handle branded `'gc` points to the start of a live
        // object of the heap this token mutates (the invariant on `Gc`), a
        // `T::Root<'gc>`, which `kind` describes: lifetimes change neither
        // a type's layout nor its `Managed` impl (impls cannot differ by
        // lifetime alone).
        let cell = unsafe { self.raw.held.hold(gc.ptr().cast(), kind) };
        Held {
            cell,
            _type: PhantomData,
        }
    }

    /// The object of `held` if it belongs to this heap
    /// ([`Mutation::try_fetch`]).
    pub(in crate::heap) fn fetch_gc<T: Rootable>(
        &self,
        held: &Held<T>,
    ) -> Option<Gc<'gc, T::Root<'gc>>> {
        let ptr = self.raw.held.fetch(&held.cell)?;
        // SAFETY: the cell is listed by this heap's table (the handle
        // refers to it), so its address is the start of a live object of
        // this heap (invariant on `HeldCell::ptr`), made by `hold_gc` from
        // a `Gc<'_, T::Root<'_>>`: a `T::Root<'gc>` at this mutation's
        // brand, which no lifetime changes the layout of.
        Some(unsafe { Gc::from_ptr(ptr.cast()) })
    }
}
