//! Handles held outside the heap: the table of [`HeldCell`]s that a
//! collection treats as roots (or, for weak handles, as weak references),
//! next to the root value.
//!
//! A [`Held`] handle owns a reference-counted cell with its object's
//! address; the heap lists the same cell in its [`HeldTable`], which keeps
//! one cell per object: holding an object that already has a listed cell
//! shares that cell, so a handle's identity is its cell's (what the
//! handles' `Eq` and `Hash` compare, strong and weak). A [`HeldWeak`]
//! handle refers to a cell through a `rc::Weak`: a cell is *strong* while
//! a `Held` refers to it (its strong count is above the table's one) and
//! *weak* otherwise. Each collection first unlists the cells that no
//! handle refers to any more, and the weak cells whose object died, then
//! marks from every strong cell as from the root, visits every weak cell
//! as a weak handle, and rewrites their addresses when the objects move (a
//! weak cell's becomes the dead marker when its object dies, and the
//! collection unlists it at its end). A handle is redeemed by a mutation
//! of the heap whose id its cell carries, and of no other: heap ids are
//! never reused, so a handle that outlived its heap matches no heap at all
//! (and the heap's table, when dropped, makes the cells it lists dead).

use alloc::rc::{self, Rc};
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::marker::PhantomData;
use core::ptr::NonNull;

use hashbrown::HashMap;

use crate::heap::{DynRootable, Gc, GcDyn, Mutation, Rootable};
use crate::platform::IdCounter;
use crate::visit::Visitor;

use super::gc::DynKind;
use super::{GcKind, dead};

/// Heap ids, never reused.
static NEXT_HEAP_ID: IdCounter = IdCounter::new();

/// One object held from outside its heap: shared by the
/// [`Held`] handles to it and the heap's table.
pub(crate) struct HeldCell {
    /// The id of the heap that made the cell ([`HeldTable::id`]).
    heap: u64,
    /// The object's address, or the [`dead`] marker's.
    ///
    /// Invariant: while the table of heap `heap` lists the cell, either
    /// the start of a live object of that heap, of the type `kind`
    /// describes, or (only while no [`Held`] refers to the cell: a strong
    /// cell's object is never dropped) `dead()`. Every collection of that
    /// heap marks the object of each strong cell, and writes each cell's
    /// object's new address here, or `dead()` for a weak cell whose object
    /// it found unmarked (also on the path of a destructor's panic, see
    /// [`HeldTable::forget`]); the table lists the cell as long as a
    /// handle refers to it and it is not dead (see [`HeldTable::prune`]).
    /// Once the table is dropped (with its heap), `dead()`.
    ptr: Cell<NonNull<u8>>,
    /// The type of the object (how to trace it).
    kind: &'static GcKind,
}

impl HeldCell {
    /// Feeds the cell's identity (its address) to `state`: the hash of
    /// every strong handle sharing it, consistent with [`strong_eq`](Self::strong_eq).
    #[inline]
    pub(crate) fn hash_identity<S: core::hash::Hasher>(&self, state: &mut S) {
        core::ptr::hash(self, state);
    }

    /// Whether the cell's object was dropped (a collection found it
    /// unreachable, or its heap was dropped).
    #[inline]
    pub(crate) fn is_dead(&self) -> bool {
        self.ptr.get() == dead()
    }

    /// Whether two strong handles hold the same object: whether they share
    /// their cell, since a heap's table keeps one cell per object (see
    /// [`HeldTable::hold`]). Stays as it is for the handles' lifetime,
    /// their heap's included, so it agrees with a hash of the cell's
    /// address.
    #[inline]
    pub(crate) fn strong_eq(a: &HeldCell, b: &HeldCell) -> bool {
        core::ptr::eq(a, b)
    }

    /// Whether a weak handle's cell (`None` once it is gone) names a
    /// dropped object.
    pub(crate) fn weak_is_dropped(cell: Option<&HeldCell>) -> bool {
        cell.is_none_or(HeldCell::is_dead)
    }
}

/// A strong reference to a cell: an `Rc<HeldCell>` kept as the pointer
/// `Rc::into_raw` gives, so that a handle holding one does not look like a
/// key with interior mutability to lints that look into `Rc`s (clippy's
/// `mutable_key_type`): a handle hashes and compares by the cell's
/// address, which its `Cell` field never changes.
///
/// Neither `Send` nor `Sync` (the pointer's auto traits), as the `Rc`.
pub(crate) struct CellRef {
    /// Invariant: from `Rc::into_raw`, and owns one strong count of it.
    ptr: NonNull<HeldCell>,
}

impl CellRef {
    /// Takes over `rc`'s count.
    #[inline]
    pub(crate) fn new(rc: Rc<HeldCell>) -> Self {
        CellRef {
            // SAFETY: `Rc::into_raw` never gives a null pointer.
            ptr: unsafe { NonNull::new_unchecked(Rc::into_raw(rc).cast_mut()) },
        }
    }

    /// A weak reference to the cell.
    #[inline]
    pub(crate) fn downgrade(&self) -> WeakRef {
        // SAFETY: the pointer came from `Rc::into_raw` and its count is
        // still owned (the invariant), so an `Rc` may be made from it; it
        // is not dropped, so the count stays this handle's.
        let rc = core::mem::ManuallyDrop::new(unsafe { Rc::from_raw(self.ptr.as_ptr()) });
        WeakRef::new(Rc::downgrade(&rc))
    }
}

impl core::ops::Deref for CellRef {
    type Target = HeldCell;

    #[inline]
    fn deref(&self) -> &HeldCell {
        // SAFETY: the count this owns keeps the cell alive; cells are only
        // ever shared (their mutable field is a `Cell`).
        unsafe { self.ptr.as_ref() }
    }
}

impl Clone for CellRef {
    #[inline]
    fn clone(&self) -> Self {
        // SAFETY: from `Rc::into_raw`, with a count owned by `self`, so the
        // cell is alive; the new count is the clone's.
        unsafe { Rc::increment_strong_count(self.ptr.as_ptr()) };
        CellRef { ptr: self.ptr }
    }
}

impl Drop for CellRef {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: from `Rc::into_raw`, giving back the count this owns.
        unsafe { Rc::decrement_strong_count(self.ptr.as_ptr()) };
    }
}

/// A weak reference to a cell: an `rc::Weak<HeldCell>` kept as the pointer
/// `Weak::into_raw` gives, for the same reason as [`CellRef`]. Its
/// address stays the cell's (the allocation outlives every weak
/// reference), so it is the weak handle's identity too.
///
/// Neither `Send` nor `Sync` (the pointer's auto traits), as the `Weak`.
pub(crate) struct WeakRef {
    /// Invariant: from `rc::Weak::into_raw` of a weak reference made from
    /// an `Rc` (never `Weak::new`), and owns one weak count of it.
    ptr: NonNull<HeldCell>,
}

impl WeakRef {
    /// Takes over `weak`'s count; `weak` was made from an `Rc`.
    #[inline]
    pub(crate) fn new(weak: rc::Weak<HeldCell>) -> Self {
        let ptr = rc::Weak::into_raw(weak).cast_mut();
        WeakRef {
            // A weak reference made from an `Rc` points at its allocation.
            ptr: NonNull::new(ptr).expect("a weak reference made from an `Rc`"),
        }
    }

    /// The weak reference, borrowed.
    #[inline]
    fn weak(&self) -> core::mem::ManuallyDrop<rc::Weak<HeldCell>> {
        // SAFETY: from `Weak::into_raw`, with a count owned by `self` (the
        // invariant); not dropped, so the count stays this handle's.
        core::mem::ManuallyDrop::new(unsafe { rc::Weak::from_raw(self.ptr.as_ptr()) })
    }

    /// The cell, if a strong reference (the table's or a `Held`'s) keeps
    /// it.
    #[inline]
    pub(crate) fn upgrade(&self) -> Option<Rc<HeldCell>> {
        self.weak().upgrade()
    }

    /// Feeds the cell's address to `state`, as [`HeldCell::hash_identity`]
    /// does (without reading the cell, which may be gone).
    #[inline]
    pub(crate) fn hash_identity<S: core::hash::Hasher>(&self, state: &mut S) {
        core::ptr::hash(self.ptr.as_ptr(), state);
    }

    /// Whether both refer to one cell.
    #[inline]
    pub(crate) fn ptr_eq(a: &Self, b: &Self) -> bool {
        a.ptr == b.ptr
    }
}

impl Clone for WeakRef {
    #[inline]
    fn clone(&self) -> Self {
        WeakRef::new(rc::Weak::clone(&self.weak()))
    }
}

impl Drop for WeakRef {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: from `Weak::into_raw`, giving back the count this owns.
        drop(unsafe { rc::Weak::from_raw(self.ptr.as_ptr()) });
    }
}

/// Whether the table must keep listing `cell`: a [`Held`] refers to it,
/// or a [`HeldWeak`] does and its object was not dropped.
fn in_use(cell: &Rc<HeldCell>) -> bool {
    Rc::strong_count(cell) > 1 || (Rc::weak_count(cell) > 0 && !cell.is_dead())
}

/// Whether `cell` is strong: a [`Held`] refers to it (the table holds
/// the only other strong reference).
fn is_strong(cell: &Rc<HeldCell>) -> bool {
    Rc::strong_count(cell) > 1
}

/// The cells held from outside a heap, with the heap's id.
pub(crate) struct HeldTable {
    /// This heap's id, unique among every heap ever made.
    id: u64,
    /// Every cell made by this heap's `hold` and `hold_weak` that a handle
    /// may still refer to (a cell is unlisted only once no handle refers to
    /// it, or only weak handles do and it is dead: [`in_use`]). Borrowed
    /// only inside this module's methods, none of which runs user code
    /// while it is borrowed (dropping a cell runs none either).
    ///
    /// Invariant: no two cells that are not dead hold the same address
    /// (`hold` shares the cell an object has; a collection moves distinct
    /// objects to distinct places and makes a cell dead only when its
    /// object is dropped).
    cells: RefCell<Vec<Rc<HeldCell>>>,
    /// The position in `cells` of every listed cell that is not dead, by
    /// its object's address: how `hold` finds the cell an object already
    /// has. Borrowed as `cells` is.
    ///
    /// Invariant: unless `stale` is set, it maps exactly the addresses of
    /// the listed cells that are not dead, each to its cell's position.
    /// Whatever changes addresses or positions (a collection's visits,
    /// `forget`, `prune`, the unlisting in `hold`) sets `stale`, and `hold`
    /// rebuilds the index before using it. Even so, `hold` checks the
    /// address of the cell it finds before sharing it: that check is what
    /// keeps a handle from reaching an object of another type.
    index: RefCell<HashMap<NonNull<u8>, usize>>,
    /// Whether `index` must be rebuilt before its next use.
    stale: Cell<bool>,
}

impl HeldTable {
    /// An empty table with a fresh heap id.
    pub(crate) fn new() -> Self {
        HeldTable {
            id: NEXT_HEAP_ID.next(),
            cells: RefCell::new(Vec::new()),
            index: RefCell::new(HashMap::new()),
            stale: Cell::new(false),
        }
    }

    /// The cell holding the object at `ptr`, of the type `kind` describes:
    /// the one the table lists for it if there is one (so that every
    /// handle to an object shares one cell, and compares and hashes by
    /// it), or a new cell, listed.
    ///
    /// # Safety
    ///
    /// `ptr` must be the start of a live object of the heap that owns this
    /// table, of the type `kind` describes.
    pub(crate) unsafe fn hold(&self, ptr: NonNull<u8>, kind: &'static GcKind) -> Rc<HeldCell> {
        if let Some(cell) = self.listed_cell(ptr) {
            // The cell holds the object at `ptr`, whose type `kind` and the
            // cell's `kind` both describe.
            return cell;
        }
        let mut cells = self.cells.borrow_mut();
        let mut index = self.index.borrow_mut();
        let cell = Rc::new(HeldCell {
            heap: self.id,
            ptr: Cell::new(ptr),
            kind,
        });
        // Unlists dropped handles before the table would grow, so that a
        // program that holds and drops handles between collections keeps
        // the table at about twice its live handles.
        if cells.len() == cells.capacity() {
            cells.retain(in_use);
            reindex(&cells, &mut index);
        }
        index.insert(ptr, cells.len());
        cells.push(Rc::clone(&cell));
        cell
    }

    /// The listed cell holding the object at `ptr`, if there is one (a
    /// handle made for the object may still refer to it); allocates
    /// nothing. A cell it returns holds that very object: its address is
    /// checked, and a live object's address is its own (no other live
    /// object starts there).
    pub(crate) fn listed_cell(&self, ptr: NonNull<u8>) -> Option<Rc<HeldCell>> {
        let cells = self.cells.borrow();
        let mut index = self.index.borrow_mut();
        if self.stale.replace(false) {
            reindex(&cells, &mut index);
        }
        let cell = cells.get(*index.get(&ptr)?)?;
        (cell.ptr.get() == ptr).then(|| Rc::clone(cell))
    }

    /// The address of the object `cell` holds, if the cell is this heap's.
    ///
    /// For a cell a [`Held`] refers to (the caller's).
    pub(crate) fn fetch(&self, cell: &HeldCell) -> Option<NonNull<u8>> {
        // A cell carrying this heap's id was made by this table's `hold`,
        // and is still listed: the caller's handle refers to it, so its
        // strong count is above one and `prune` kept it. Its address is
        // then current and not dead (invariant on `HeldCell::ptr`).
        (cell.heap == self.id).then(|| cell.ptr.get())
    }

    /// What the weak handle to `cell` finds in a mutation of this heap.
    pub(crate) fn find(&self, cell: &HeldCell) -> Found {
        if cell.is_dead() {
            Found::Dropped
        } else if cell.heap != self.id {
            Found::OtherHeap
        } else {
            // A live cell carrying this heap's id was made by this
            // table's `hold` or `hold_weak` and is still listed (the
            // caller's handle refers to it and it is not dead, so `prune`
            // kept it): its address is the start of a live object
            // (invariant on `HeldCell::ptr`).
            Found::Object(cell.ptr.get())
        }
    }

    /// Unlists the cells whose every handle was dropped, and those only
    /// weak handles refer to whose object was dropped (those handles find
    /// their cell gone, which says the same).
    pub(crate) fn prune(&mut self) {
        self.cells.get_mut().retain(in_use);
        self.stale.set(true);
    }

    /// Hands every listed cell's address to `visitor`: a strong cell's as
    /// a heap handle of its kind, a weak cell's as a weak handle; keeps
    /// the address the visitor writes back.
    ///
    /// A cell may turn from strong to weak between two visits of one
    /// collection (a destructor that the sweep runs drops the last `Held`
    /// to it), never the other way (making a `Held` from a weak handle
    /// takes a mutation, which a collection excludes); its object was
    /// marked either way, so the rewriting visitor forwards it as a weak
    /// handle's marked object.
    pub(crate) fn visit<V: Visitor>(&mut self, visitor: &mut V) {
        self.stale.set(true);
        for cell in self.cells.get_mut().iter() {
            let mut ptr = cell.ptr.get();
            if is_strong(cell) {
                visitor.visit_gc(&mut ptr, cell.kind);
            } else {
                visitor.visit_weak(&mut ptr);
            }
            cell.ptr.set(ptr);
        }
    }

    /// Hands every weak cell's address to `visitor` as a weak handle, and
    /// keeps the address it writes back: the pass that makes the weak
    /// handles to unmarked objects dead when a destructor's panic cuts a
    /// collection short (`RawHeap::collect`, step 3).
    pub(crate) fn forget<V: Visitor>(&self, visitor: &mut V) {
        self.stale.set(true);
        // Not borrowed: a destructor (the sweep's) reaches no table.
        for cell in self.cells.borrow().iter() {
            if !is_strong(cell) {
                let mut ptr = cell.ptr.get();
                visitor.visit_weak(&mut ptr);
                cell.ptr.set(ptr);
            }
        }
    }

    /// Cells listed (some of them may be unlisted by the next collection).
    pub(crate) fn len(&self) -> usize {
        self.cells.borrow().len()
    }

    /// Bytes of the table's vector and index (the cells are shared with
    /// the handles and counted with them, not here).
    pub(crate) fn bytes(&self) -> usize {
        self.cells.borrow().capacity() * size_of::<Rc<HeldCell>>()
            + self.index.borrow().allocation_size()
    }
}

/// Rebuilds `index` from `cells` (see [`HeldTable::index`]).
fn reindex(cells: &[Rc<HeldCell>], index: &mut HashMap<NonNull<u8>, usize>) {
    index.clear();
    for (at, cell) in cells.iter().enumerate() {
        if !cell.is_dead() {
            let earlier = index.insert(cell.ptr.get(), at);
            debug_assert!(earlier.is_none(), "one listed cell per object");
        }
    }
}

/// The heap is gone: the objects of the cells it lists are dropped (or
/// about to be, by the heap's own drop), so every weak handle to them
/// finds them dropped from now on, in any heap.
impl Drop for HeldTable {
    fn drop(&mut self) {
        for cell in self.cells.get_mut().iter() {
            cell.ptr.set(dead());
        }
    }
}

/// What a weak handle finds in a mutation ([`HeldTable::find`]): the
/// object's address, or a handle to it (`O`).
pub(crate) enum Found<O = NonNull<u8>> {
    /// The object, in this heap.
    Object(O),
    /// The object was dropped: by a collection, or with its heap.
    Dropped,
    /// The object lives in another heap.
    OtherHeap,
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
/// A `Held` is one pointer. Holding costs an allocation the first time an
/// object is held (the cell that every handle to it and the heap share)
/// and a lookup by address after that; redeeming is a compare of the
/// heap's id and a load. Handles compare and hash by that cell, which no
/// collection changes. Each collection visits every held object as a root.
///
/// Like an `Rc` cycle, a `Held` stored inside an object of its own heap
/// keeps that object (and what it reaches) alive for as long as the heap
/// lives: inside the heap, point at objects with `Gc` handles.
///
/// A handle that must not keep its object alive is a [`HeldWeak`], made
/// by [`downgrade`](Held::downgrade) (or by [`Mutation::hold_weak`]) and
/// turned back into a `Held` by [`Mutation::upgrade_held`] while the
/// object exists.
pub struct Held<T: Rootable> {
    /// The cell shared with the heap's table (see [`HeldCell`]): while this
    /// handle exists the cell's strong count is above one, so the table of
    /// the heap that made it (if that heap still exists) lists it and keeps
    /// its address current.
    cell: CellRef,
    /// The object is a `T::Root<'_>` (invariant in `T`: it hands out a
    /// `Gc`, through which the object is written); not `Send` nor `Sync`
    /// (the cell's count is an `Rc`'s).
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
            cell: self.cell.clone(),
            _type: PhantomData,
        }
    }
}

impl<T: Rootable> Held<T> {
    /// A weak handle to the same object, sharing this handle's cell
    /// ([`Held::downgrade`]).
    pub(in crate::heap) fn downgrade_cell(&self) -> HeldWeak<T> {
        HeldWeak {
            cell: self.cell.downgrade(),
            _type: PhantomData,
        }
    }
}

/// A weak handle to a heap object that lives outside the heap: a
/// [`Held`] that does not keep its object alive. The properties panel of
/// an editor points at the node it shows with one, a cache outside the
/// heap at the objects it caches: they must not keep the objects alive,
/// and a `GcWeak` cannot leave a mutation.
///
/// Made by [`Mutation::hold_weak`] or [`Held::downgrade`]; redeemed in a
/// later mutation of the same heap by [`Mutation::upgrade`] (a `Gc`) or
/// [`Mutation::upgrade_held`] (a `Held`), which give `None` once a
/// collection found the object unreachable and dropped it, or once its
/// heap was dropped. Each collection follows the object when it moves.
/// Clones refer to the same object. Weak handles compare and hash by the
/// object's cell, also once the object is dropped, so they key maps kept
/// outside the heap (per-object state that must not keep its objects
/// alive).
///
/// `T` names the object's type at the placeholder brand `'static`, as for
/// [`Held`]. A `HeldWeak` is one pointer; holding weakly costs an
/// allocation the first time an object is held (the cell every handle to
/// it shares with the heap: [`Held::downgrade`] allocates nothing).
///
/// ```
/// use managed::prelude::*;
///
/// #[derive(Managed)]
/// struct Node {
///     name: String,
/// }
///
/// /// A properties panel, outside the heap: it shows a node while the
/// /// document has it, and must not keep it.
/// struct Panel {
///     inspected: HeldWeak<Node>,
/// }
///
/// let mut heap: Heap<Vec<Gc<'static, Node>>> = Heap::new(|_| Vec::new());
/// let panel = heap.mutate(|mc, doc| {
///     doc.push(Gc::new(mc, Node { name: "camera".into() }));
///     doc.push(Gc::new(mc, Node { name: "light".into() }));
///     Panel { inspected: mc.hold_weak(doc[1]) }
/// });
/// heap.mutate(|_, doc| drop(doc.remove(0))); // the light slides down
/// heap.collect();
/// heap.mutate(|mc, _| {
///     let node = mc.upgrade(&panel.inspected).expect("the document holds it");
///     assert_eq!(mc[node].name, "light");
/// });
/// heap.mutate(|_, doc| doc.clear()); // the light is deleted
/// heap.collect();
/// assert!(panel.inspected.is_dropped());
/// heap.mutate(|mc, _| assert!(mc.upgrade(&panel.inspected).is_none()));
/// ```
pub struct HeldWeak<T: Rootable> {
    /// The cell shared with the heap's table, and with the [`Held`]
    /// handles to it: while the table lists it (a `Held` refers to it, or
    /// it is not dead), its address is current or dead (invariant on
    /// [`HeldCell::ptr`]); once unlisted and without a `Held`, it is gone
    /// and the handle finds nothing.
    cell: WeakRef,
    /// As for [`Held`]: invariant in `T`, neither `Send` nor `Sync` (the
    /// `rc::Weak`).
    _type: PhantomData<fn(T) -> T>,
}

impl<T: Rootable> HeldWeak<T> {
    /// The cell, if it is still there (for the safe methods in
    /// `heap::held`); `None` means the object was dropped.
    pub(in crate::heap) fn cell(&self) -> Option<Rc<HeldCell>> {
        self.cell.upgrade()
    }

    /// The reference to the cell, whose address is the handle's identity.
    pub(in crate::heap) fn cell_ref(&self) -> &WeakRef {
        &self.cell
    }
}

// SAFETY: as for `Held`: the cell is the heap's to rewrite, so a value
// holding a `HeldWeak` has nothing to visit for it.
unsafe impl<T: Rootable> crate::visit::Managed for HeldWeak<T> {
    const HAS_REFS: bool = false;

    #[inline(always)]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, _visitor: &mut V) {}
}

impl<T: Rootable> Clone for HeldWeak<T> {
    fn clone(&self) -> Self {
        HeldWeak {
            cell: self.cell.clone(),
            _type: PhantomData,
        }
    }
}

impl<'gc> Mutation<'gc> {
    /// A [`HeldWeak`] handle to `gc`'s object ([`Mutation::hold_weak`]).
    pub(in crate::heap) fn hold_weak_gc<T: Rootable>(
        &self,
        gc: Gc<'gc, T::Root<'gc>>,
    ) -> HeldWeak<T> {
        let kind = GcKind::of::<T::Root<'static>>();
        // SAFETY: as in `hold_gc`.
        let cell = unsafe { self.raw.held.hold(gc.ptr().cast(), kind) };
        HeldWeak {
            cell: WeakRef::new(Rc::downgrade(&cell)),
            _type: PhantomData,
        }
    }

    /// What `weak` finds in this mutation ([`Mutation::try_upgrade`]).
    pub(in crate::heap) fn upgrade_gc<T: Rootable>(
        &self,
        weak: &HeldWeak<T>,
    ) -> Found<Gc<'gc, T::Root<'gc>>> {
        let Some(cell) = weak.cell() else {
            return Found::Dropped;
        };
        match self.raw.held.find(&cell) {
            // SAFETY: a live object of this heap (`find`), made by
            // `hold_gc` or `hold_weak_gc` from a `Gc<'_, T::Root<'_>>`
            // (every handle to the cell carries its `T`): a
            // `T::Root<'gc>` at this mutation's brand, as in `fetch_gc`.
            Found::Object(ptr) => Found::Object(unsafe { Gc::from_ptr(ptr.cast()) }),
            Found::Dropped => Found::Dropped,
            Found::OtherHeap => Found::OtherHeap,
        }
    }

    /// A [`Held`] handle to the object of `weak`, sharing its cell, if it
    /// is in this heap ([`Mutation::upgrade_held`]).
    pub(in crate::heap) fn upgrade_held_cell<T: Rootable>(
        &self,
        weak: &HeldWeak<T>,
    ) -> Found<Held<T>> {
        let Some(cell) = weak.cell() else {
            return Found::Dropped;
        };
        match self.raw.held.find(&cell) {
            // The cell turns strong: its object is live (`find`), and no
            // collection is running (this takes a mutation), so the next
            // one marks it as a root (see `HeldTable::visit`).
            Found::Object(_) => Found::Object(Held {
                cell: CellRef::new(cell),
                _type: PhantomData,
            }),
            Found::Dropped => Found::Dropped,
            Found::OtherHeap => Found::OtherHeap,
        }
    }

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
            cell: CellRef::new(cell),
            _type: PhantomData,
        }
    }

    /// The handle to `gc`'s object if one exists ([`Mutation::held`]).
    pub(in crate::heap) fn held_gc<T: Rootable>(
        &self,
        gc: Gc<'gc, T::Root<'gc>>,
    ) -> Option<Held<T>> {
        // The cell holds `gc`'s object (`listed_cell` checks the address),
        // a `T::Root<'gc>`, as `hold_gc`'s does.
        let cell = self.raw.held.listed_cell(gc.ptr().cast())?;
        Some(Held {
            cell: CellRef::new(cell),
            _type: PhantomData,
        })
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

/// A handle to a heap object kept outside the heap as a trait object: a
/// [`Held`] for a [`GcDyn`]. The focus of a UI, a hovered widget or an
/// undo entry points at "any widget" with one.
///
/// `R` names the trait-object type at every brand (see [`DynRootable`]):
/// a `HeldDyn<dyn_rootable!(for<'gc> dyn Widget<'gc> + 'gc)>` holds a
/// widget and is redeemed for a `GcDyn<'gc, dyn Widget<'gc>>` by
/// [`Mutation::fetch_dyn`] (or `mc[&held]`). Made by
/// [`Mutation::hold_dyn`]; clones hold the same object; it keeps its
/// object alive and follows it when a collection moves it, as a `Held`
/// does; [`downgrade`](HeldDyn::downgrade) gives a [`HeldDynWeak`].
///
/// It is two words: the cell it shares with the heap, and the record of
/// the object's type and vtable that rebuilds the `GcDyn`.
///
/// ```
/// use managed::prelude::*;
///
/// trait Widget<'gc> {
///     fn label(&self) -> String;
/// }
///
/// #[derive(Managed)]
/// struct Button {
///     text: String,
/// }
///
/// impl<'gc> Widget<'gc> for Button {
///     fn label(&self) -> String {
///         format!("[{}]", self.text)
///     }
/// }
///
/// type AnyWidget = dyn_rootable!(for<'gc> dyn Widget<'gc> + 'gc);
///
/// /// Kept outside the heap: the widget that has the focus.
/// struct App {
///     heap: Heap<()>,
///     focus: Option<HeldDyn<AnyWidget>>,
/// }
///
/// let mut app = App { heap: Heap::new(|_| ()), focus: None };
/// app.focus = Some(app.heap.mutate(|mc, _| {
///     let ok = unsize!(Gc::new(mc, Button { text: "OK".into() }) => dyn Widget<'_>);
///     mc.hold_dyn(ok)
/// }));
/// app.heap.collect(); // the focused widget survives (and may move)
/// let App { heap, focus } = &mut app;
/// heap.mutate(|mc, _| {
///     let widget = mc.fetch_dyn(focus.as_ref().unwrap());
///     assert_eq!(mc[widget].label(), "[OK]");
/// });
/// ```
pub struct HeldDyn<R: ?Sized + for<'gc> DynRootable<'gc>> {
    /// The cell shared with the heap's table, as for [`Held`]: the
    /// object's address (thin), current while this handle exists.
    cell: CellRef,
    /// The object's type and coercion, from the `GcDyn` it was made from.
    ///
    /// Invariant: made for a `GcDyn<'_, <R as DynRootable<'_>>::Root>` (at
    /// some brand), of the type of the cell's object (`cell.kind` is its
    /// kind).
    dyn_kind: &'static DynKind,
    /// Invariant in `R` (it hands out a `GcDyn`, through which the object
    /// is written); not `Send` nor `Sync` (the cell's count is an `Rc`'s).
    _type: PhantomData<fn(PhantomData<R>) -> PhantomData<R>>,
}

/// A weak handle to a heap object kept outside the heap as a trait
/// object: a [`HeldWeak`] for a [`GcDyn`]. A hovered widget that must not
/// keep the widget alive is one. Made by [`Mutation::hold_dyn_weak`] or
/// [`HeldDyn::downgrade`], redeemed by [`Mutation::upgrade_dyn`], which
/// gives `None` once a collection dropped the object.
pub struct HeldDynWeak<R: ?Sized + for<'gc> DynRootable<'gc>> {
    /// As for [`HeldWeak`].
    cell: WeakRef,
    /// As for [`HeldDyn`] (same invariant).
    dyn_kind: &'static DynKind,
    /// As for [`HeldDyn`].
    _type: PhantomData<fn(PhantomData<R>) -> PhantomData<R>>,
}

// SAFETY: as for `Held`: the cell is the heap's to rewrite, so a value
// holding a `HeldDyn` has nothing to visit for it.
unsafe impl<R: ?Sized + for<'gc> DynRootable<'gc>> crate::visit::Managed for HeldDyn<R> {
    const HAS_REFS: bool = false;

    #[inline(always)]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, _visitor: &mut V) {}
}

// SAFETY: as for `HeldWeak`.
unsafe impl<R: ?Sized + for<'gc> DynRootable<'gc>> crate::visit::Managed for HeldDynWeak<R> {
    const HAS_REFS: bool = false;

    #[inline(always)]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, _visitor: &mut V) {}
}

impl<R: ?Sized + for<'gc> DynRootable<'gc>> Clone for HeldDyn<R> {
    fn clone(&self) -> Self {
        HeldDyn {
            cell: self.cell.clone(),
            dyn_kind: self.dyn_kind,
            _type: PhantomData,
        }
    }
}

impl<R: ?Sized + for<'gc> DynRootable<'gc>> Clone for HeldDynWeak<R> {
    fn clone(&self) -> Self {
        HeldDynWeak {
            cell: self.cell.clone(),
            dyn_kind: self.dyn_kind,
            _type: PhantomData,
        }
    }
}

impl<R: ?Sized + for<'gc> DynRootable<'gc>> HeldDyn<R> {
    /// The cell (for the safe methods in `heap::held`).
    pub(in crate::heap) fn cell(&self) -> &HeldCell {
        &self.cell
    }

    /// A weak handle sharing this handle's cell ([`HeldDyn::downgrade`]).
    pub(in crate::heap) fn downgrade_cell(&self) -> HeldDynWeak<R> {
        HeldDynWeak {
            cell: self.cell.downgrade(),
            dyn_kind: self.dyn_kind,
            _type: PhantomData,
        }
    }
}

impl<R: ?Sized + for<'gc> DynRootable<'gc>> HeldDynWeak<R> {
    /// The cell, if it is still there; `None` means the object was
    /// dropped.
    pub(in crate::heap) fn cell(&self) -> Option<Rc<HeldCell>> {
        self.cell.upgrade()
    }

    /// The reference to the cell, whose address is the handle's identity.
    pub(in crate::heap) fn cell_ref(&self) -> &WeakRef {
        &self.cell
    }
}

impl<'gc> Mutation<'gc> {
    /// A [`HeldDyn`] handle to `gc`'s object ([`Mutation::hold_dyn`]).
    pub(in crate::heap) fn hold_dyn_gc<R: ?Sized + for<'a> DynRootable<'a>>(
        &self,
        gc: GcDyn<'gc, <R as DynRootable<'gc>>::Root>,
    ) -> HeldDyn<R> {
        let (ptr, dyn_kind) = gc.into_parts();
        // SAFETY: a handle branded `'gc` points to the start of a live
        // object of the heap this token mutates (the invariant on
        // `GcDyn`), of the type its record was made for, whose kind is
        // `dyn_kind.kind()`.
        let cell = unsafe { self.raw.held.hold(ptr, dyn_kind.kind()) };
        HeldDyn {
            cell: CellRef::new(cell),
            dyn_kind,
            _type: PhantomData,
        }
    }

    /// A [`HeldDynWeak`] handle to `gc`'s object
    /// ([`Mutation::hold_dyn_weak`]).
    pub(in crate::heap) fn hold_dyn_weak_gc<R: ?Sized + for<'a> DynRootable<'a>>(
        &self,
        gc: GcDyn<'gc, <R as DynRootable<'gc>>::Root>,
    ) -> HeldDynWeak<R> {
        let (ptr, dyn_kind) = gc.into_parts();
        // SAFETY: as in `hold_dyn_gc`.
        let cell = unsafe { self.raw.held.hold(ptr, dyn_kind.kind()) };
        HeldDynWeak {
            cell: WeakRef::new(Rc::downgrade(&cell)),
            dyn_kind,
            _type: PhantomData,
        }
    }

    /// The object of `held` if it belongs to this heap
    /// ([`Mutation::try_fetch_dyn`]).
    pub(in crate::heap) fn fetch_dyn_gc<R: ?Sized + for<'a> DynRootable<'a>>(
        &self,
        held: &HeldDyn<R>,
    ) -> Option<GcDyn<'gc, <R as DynRootable<'gc>>::Root>> {
        let ptr = self.raw.held.fetch(&held.cell)?;
        // SAFETY: 1. the cell is listed by this heap's table (the handle
        // refers to it), so its address is the start of a live object of
        // this heap (invariant on `HeldCell::ptr`), of the type the
        // handle's record was made for (invariant on `HeldDyn::dyn_kind`);
        // 2. that record was made for `<R as DynRootable<'_>>::Root` at
        // another brand, which is this one's up to lifetimes (one impl of
        // `DynRootable` covers every brand).
        Some(unsafe { GcDyn::from_parts(ptr, held.dyn_kind) })
    }

    /// What `weak` finds in this mutation ([`Mutation::upgrade_dyn`]).
    pub(in crate::heap) fn upgrade_dyn_gc<R: ?Sized + for<'a> DynRootable<'a>>(
        &self,
        weak: &HeldDynWeak<R>,
    ) -> Found<GcDyn<'gc, <R as DynRootable<'gc>>::Root>> {
        let Some(cell) = weak.cell() else {
            return Found::Dropped;
        };
        match self.raw.held.find(&cell) {
            // SAFETY: as in `fetch_dyn_gc`: a live object of this heap
            // (`find`), of the type the handle's record was made for.
            Found::Object(ptr) => Found::Object(unsafe { GcDyn::from_parts(ptr, weak.dyn_kind) }),
            Found::Dropped => Found::Dropped,
            Found::OtherHeap => Found::OtherHeap,
        }
    }

    /// A [`HeldDyn`] sharing `weak`'s cell, if its object is in this heap
    /// ([`Mutation::upgrade_held_dyn`]).
    pub(in crate::heap) fn upgrade_held_dyn_cell<R: ?Sized + for<'a> DynRootable<'a>>(
        &self,
        weak: &HeldDynWeak<R>,
    ) -> Found<HeldDyn<R>> {
        let Some(cell) = weak.cell() else {
            return Found::Dropped;
        };
        match self.raw.held.find(&cell) {
            // The cell turns strong, as in `upgrade_held_cell`.
            Found::Object(_) => Found::Object(HeldDyn {
                cell: CellRef::new(cell),
                dyn_kind: weak.dyn_kind,
                _type: PhantomData,
            }),
            Found::Dropped => Found::Dropped,
            Found::OtherHeap => Found::OtherHeap,
        }
    }
}
