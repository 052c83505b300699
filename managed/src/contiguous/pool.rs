//! [`ContiguousUniformPool`]: objects of one type stored densely, reached
//! through owning [`Proxy`] handles that survive the pool's shuffling.

use core::alloc::Layout;
use core::cell::{Cell, UnsafeCell};
use core::fmt;
use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::ops::Deref;
use core::ptr::NonNull;

use super::access::{self, Access, Fields};
use super::cells::{self, CellPtr, Table};
use super::storage::{Geometry, Storage};
use crate::{Managed, SpaceStats, Visitor};

// The borrow state of a pool, one `usize`: bit 0 is `PENDING` (some removal
// was deferred), the other bits count shared borrows (in units of
// `SHARED`), all of them set meaning one exclusive borrow. Keeping the
// pending flag in the same word lets the end of a borrow detect "last
// borrow gone and work deferred" with a single comparison.

/// State bit: `Table::pending` is not empty.
const PENDING: usize = 1;
/// State increment of one shared borrow.
const SHARED: usize = 2;
/// State bits of an exclusive borrow ([`map`](ContiguousUniformPool::map),
/// [`with_mut`](Proxy::with_mut), a [`PoolRefMut`]).
const EXCLUSIVE: usize = !PENDING;
/// A shared borrow may be taken only from a state below this (so the count
/// never reaches the exclusive pattern).
const SHARED_LIMIT: usize = EXCLUSIVE - SHARED;

/// Whether a state means "borrowed at all".
#[inline(always)]
const fn is_borrowed(state: usize) -> bool {
    state > PENDING
}

/// Whether a state means "exclusively borrowed".
#[inline(always)]
const fn is_exclusive(state: usize) -> bool {
    state & EXCLUSIVE == EXCLUSIVE
}

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------

/// A pool of `T` that keeps every live object contiguous.
///
/// [`alloc`](Self::alloc) moves a value in and returns its owning
/// [`Proxy`]; dropping the proxy removes the object, and the pool moves its
/// last object into the hole (fixing that object's proxy), so the objects
/// always fill positions `0..len` with no gap, on size-aligned pages of a
/// few hundred objects each, and [`map`](Self::map) runs at the speed of
/// iterating a slice. Growing never moves an object: a full last page gets
/// a new page after it.
///
/// All methods that proxies coexist with take `&self`; the pool tracks
/// borrows like a `RefCell`:
///
/// - [`map`](Self::map), [`Proxy::with_mut`] and [`borrow_mut`](Self::borrow_mut)
///   borrow the objects exclusively, [`Proxy::with`] and [`borrow`](Self::borrow)
///   share them. A conflicting borrow panics ("already borrowed").
/// - While any borrow is active, nothing moves: dropping a proxy only marks
///   its object for removal, and the removal (destructor and shuffle)
///   happens when the outermost borrow ends. [`alloc`](Self::alloc) panics
///   while the pool is borrowed, so every borrow sees a fixed set of
///   objects (a live iterator walks the page table, which growing may
///   reallocate).
/// - For many random accesses, [`borrow`](Self::borrow) once and use
///   [`PoolRef::get`] with each proxy: the borrow is paid once instead of
///   once per [`Proxy::with`].
/// - `&mut self` methods ([`clear`](Self::clear), [`drain`](Self::drain),
///   [`shrink_to_fit`](Self::shrink_to_fit), [`iter_mut`](Self::iter_mut))
///   can only be called when no proxy borrows the pool.
///
/// ```
/// use managed::prelude::*;
///
/// let pool = ContiguousUniformPool::new();
/// let a = pool.alloc(1u32);
/// let b = pool.alloc(2u32);
/// let c = pool.alloc(3u32);
/// drop(a); // `c` moves into the hole
/// pool.map(|x| *x *= 10);
/// assert_eq!((b.with(|x| *x), c.with(|x| *x)), (20, 30));
/// assert_eq!(pool.borrow().to_vec(), [30, 20]);
/// ```
///
/// A proxy cannot outlive its pool:
///
/// ```compile_fail
/// use managed::prelude::*;
///
/// let p;
/// {
///     let pool = ContiguousUniformPool::new();
///     p = pool.alloc(1u32);
/// }
/// drop(p);
/// ```
pub struct ContiguousUniformPool<T> {
    /// The pool's state, in its own heap allocation (from `Box::into_raw`,
    /// freed in `Drop`) so that it never moves while the pool lives, even
    /// when the pool value itself is moved: cell page headers point at it.
    /// Every pointer to it (here, in headers, in proxies) is derived from
    /// this one without an intermediate reference.
    core: NonNull<Core<T>>,
    /// The pool owns a `Core<T>` (for the drop check and auto traits; the
    /// `Cell` inside also makes the pool `!Sync`).
    _owns: PhantomData<Core<T>>,
}

/// The heap-allocated state of a pool.
#[repr(C)]
struct Core<T> {
    /// Borrow count and pending flag (see [`PENDING`], [`SHARED`],
    /// [`EXCLUSIVE`]). While borrowed, no object moves and no value is
    /// dropped or added, so references handed out stay valid. The first
    /// field, so a pointer to the core is a pointer to it: cell page
    /// headers hold that pointer.
    state: Cell<usize>,
    /// The objects and their bookkeeping. References to `Inner` never
    /// outlive one internal operation and are never held across user code;
    /// user code only holds references into the object pages, and
    /// only while `state` is borrowed.
    inner: UnsafeCell<Inner<T>>,
}

/// The storage of a pool.
///
/// Invariants: positions `0..storage.len()` hold initialized `T`s (live
/// objects and those pending removal), and the back-pointer of each is a
/// used cell that holds the object's address (derived from its page's
/// pointer); every used cell (held by a live proxy or listed in
/// `table.pending`) is the back-pointer of exactly one position.
struct Inner<T> {
    /// The objects, densely, and their back-pointers.
    storage: Storage,
    /// Slot cells and deferred removals.
    table: Table,
    /// The storage holds `T`s.
    _values: PhantomData<T>,
}

/// The owning handle of an object in a [`ContiguousUniformPool`].
///
/// One pointer wide: it points at a stable slot cell, which the pool
/// rewrites whenever it moves the object, so the proxy always reaches its
/// own object; the cell's page names the pool. Dropping it removes (and
/// drops) the object; use [`into_inner`](Self::into_inner) to take the
/// value back instead.
///
/// Field accessors generated by `#[derive(Managed)]` are available on it by
/// auto-deref: `p.a()` returns a clone of field `a`, `p.set_a(v)` replaces it.
pub struct Proxy<'pool, T> {
    /// A used cell of the pool this proxy borrows, in one of its cell pages
    /// (whose header points at the pool's core); it holds the address of
    /// this proxy's object. No other proxy has it and it is not pending.
    cell: CellPtr,
    /// Borrows the pool (so the proxy cannot outlive it, and the pool can
    /// neither move nor be mutably borrowed meanwhile); `!Send`, `!Sync`.
    _pool: PhantomData<&'pool ContiguousUniformPool<T>>,
}

/// A shared borrow of all objects of a pool, iterated in storage order.
///
/// Returned by [`ContiguousUniformPool::borrow`]; while it lives, nothing
/// moves, [`Proxy::with`] works and [`Proxy::with_mut`] panics.
pub struct PoolRef<'a, T> {
    /// The borrowed pool (its state counts this guard).
    pool: &'a ContiguousUniformPool<T>,
}

/// An exclusive borrow of all objects of a pool.
///
/// Returned by [`ContiguousUniformPool::borrow_mut`]; while it lives,
/// nothing moves and every [`Proxy::with`] / [`Proxy::with_mut`] panics.
pub struct PoolRefMut<'a, T> {
    /// The borrowed pool (its state is exclusive because of this guard).
    pool: &'a ContiguousUniformPool<T>,
    /// Acts like `&'a mut [T]` for variance and auto traits.
    _marker: PhantomData<&'a mut [T]>,
}

/// Ends one shared borrow of a pool when dropped (also during unwinding).
struct SharedGuard<T> {
    /// The core of a live pool holding a shared borrow counted for this
    /// guard.
    core: NonNull<Core<T>>,
}

/// Ends the exclusive borrow of a pool when dropped (also during
/// unwinding).
struct ExclusiveGuard<T> {
    /// The core of a live pool exclusively borrowed for this guard.
    core: NonNull<Core<T>>,
}

// SAFETY: moving a pool to another thread needs it unborrowed (a proxy or
// guard borrows it), so no proxy, guard or reference of this thread is
// left; the raw pointers (core, cell page headers, cells) are owned by the
// pool and move with it. The objects move too, hence `T: Send`.
unsafe impl<T: Send> Send for ContiguousUniformPool<T> {}

// ---------------------------------------------------------------------------
// Safe API
// ---------------------------------------------------------------------------

impl<T> ContiguousUniformPool<T> {
    /// An empty pool. Allocates its small fixed-size state, but no object
    /// storage until the first object arrives.
    #[must_use]
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty pool with pages for `capacity` objects allocated.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        let mut storage = Storage::new(Inner::<T>::GEOMETRY);
        storage.reserve(Inner::<T>::GEOMETRY, capacity);
        let core = Box::new(Core {
            state: Cell::new(0),
            inner: UnsafeCell::new(Inner {
                storage,
                table: Table::new(),
                _values: PhantomData,
            }),
        });
        Self {
            core: NonNull::from(Box::leak(core)),
            _owns: PhantomData,
        }
    }

    /// Moves `value` into the pool, after the last object, and returns its
    /// owning proxy.
    ///
    /// # Panics
    ///
    /// While the pool is borrowed (inside [`map`](Self::map), a
    /// [`with`](Proxy::with) closure or while a [`PoolRef`] lives: the
    /// `RefCell` rule, which keeps every borrow's view of the objects
    /// fixed).
    #[inline]
    pub fn alloc(&self, value: T) -> Proxy<'_, T> {
        if is_borrowed(self.state().get()) {
            borrowed_panic("alloc");
        }
        // SAFETY: the pool is unborrowed, so no reference into `inner`
        // exists, and none is created while this one lives (no user code
        // runs: only storage and `Table` operations).
        let inner = unsafe { &mut *self.inner() };
        let cell = inner.push(value, self.core.cast());
        Proxy {
            cell,
            _pool: PhantomData,
        }
    }

    /// Runs `f` on every live object, in storage order (position order,
    /// page by page), with exclusive access.
    ///
    /// The walk covers the objects present when it starts: proxies dropped
    /// by `f` mark their objects for removal, which happens (destructor and
    /// shuffle) when the walk ends, so `f` may still see those objects later
    /// in the walk. Inside `f`, [`Proxy::with`], [`Proxy::with_mut`],
    /// generated accessors, [`alloc`](Self::alloc) and a nested `map`
    /// panic. If `f` panics the walk stops, deferred removals still happen,
    /// and the pool stays consistent.
    ///
    /// # Panics
    ///
    /// When the pool is already borrowed.
    #[inline]
    pub fn map<F: FnMut(&mut T)>(&self, f: F) {
        self.borrow_mut().iter_mut().for_each(f);
    }

    /// Borrows every object exclusively, as a guard that iterates them in
    /// storage order ([`PoolRefMut::iter_mut`]) as fast as a slice does.
    ///
    /// # Panics
    ///
    /// When the pool is already borrowed.
    #[inline]
    pub fn borrow_mut(&self) -> PoolRefMut<'_, T> {
        // SAFETY: the core of this live pool.
        unsafe { acquire_exclusive(self.core, "borrow_mut") };
        PoolRefMut {
            pool: self,
            _marker: PhantomData,
        }
    }

    /// Borrows every object shared, as a guard that iterates them in
    /// storage order ([`PoolRef::iter`]) and reads them by proxy
    /// ([`PoolRef::get`]).
    ///
    /// # Panics
    ///
    /// When the pool is exclusively borrowed.
    #[inline]
    pub fn borrow(&self) -> PoolRef<'_, T> {
        acquire_shared(self.state(), "borrow");
        PoolRef { pool: self }
    }

    /// Number of live objects (objects whose proxies are alive).
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        // SAFETY: a short read; no `&mut` to `Inner` is live while user
        // code can call this.
        let inner = unsafe { &*self.inner() };
        inner.storage.len() - inner.table.pending.len()
    }

    /// `true` when the pool holds no live object.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Objects the allocated pages hold. Pages are kept when objects are
    /// removed (like a `Vec`'s capacity) until
    /// [`shrink_to_fit`](Self::shrink_to_fit).
    #[must_use]
    pub fn capacity(&self) -> usize {
        // SAFETY: a short read, as in `len`.
        unsafe { (*self.inner()).storage.capacity(Inner::<T>::GEOMETRY) }
    }

    /// Space used by live objects against space reserved (object pages,
    /// which hold an 8-byte back-pointer per object, the page table, and
    /// the cell pages, 8 bytes per proxy).
    #[must_use]
    pub fn stats(&self) -> SpaceStats {
        // SAFETY: short reads, as in `len`.
        let inner = unsafe { &*self.inner() };
        SpaceStats::new(
            self.len() * size_of::<T>(),
            inner.storage.reserved_bytes() + inner.table.reserved_bytes(),
        )
    }

    /// Iterates every object exclusively, in storage order. Needs `&mut
    /// self`, so no proxy can be alive (a proxy borrows the pool).
    pub fn iter_mut(&mut self) -> IterMut<'_, T> {
        let inner = self.settle();
        // SAFETY: `&mut self` makes the objects reachable only through the
        // iterator while it lives; nothing changes the storage meanwhile.
        unsafe { IterMut::new(&inner.storage) }
    }

    /// Drops every object, keeping the pages for reuse. Needs `&mut self`,
    /// so no proxy can be alive (proxies that were leaked with
    /// `mem::forget` are simply forgotten).
    ///
    /// If a destructor panics, the remaining objects are still dropped and
    /// the pool is empty.
    pub fn clear(&mut self) {
        let inner = self.settle();
        inner.table.clear();
        inner.truncate(0);
    }

    /// Removes every object, yielding them by value in storage order.
    /// Objects not consumed are dropped with the iterator; the pages are
    /// kept for reuse.
    pub fn drain(&mut self) -> Drain<'_, T> {
        let inner = self.settle();
        inner.table.clear();
        Drain {
            rest: Rest::take_all(inner),
            inner,
        }
    }

    /// Gives back unused pages of the storage and of the bookkeeping.
    ///
    /// Since no proxy can be alive, the remaining objects get fresh,
    /// compactly allocated cells, so cell pages freed by removals are
    /// returned too.
    pub fn shrink_to_fit(&mut self) {
        let core = self.core.cast();
        let inner = self.settle();
        inner.storage.shrink_to_fit(Inner::<T>::GEOMETRY);
        inner.table.clear();
        inner.table.cells.shrink_to_fit();
        for position in 0..inner.storage.len() {
            let cell = inner.table.cells.acquire(core);
            // SAFETY: 1. a stored position; 2. a fresh cell of a live page
            // takes the object's address.
            unsafe { cell.write(inner.storage.slot(Inner::<T>::GEOMETRY, position).as_ptr()) };
            inner.storage.set_back(position, cell);
        }
        inner.table.pending.shrink_to_fit();
    }

    /// Exclusive access with every deferred removal carried out. Since
    /// `&mut self` proves that no proxy, guard or closure borrows the pool,
    /// a borrow count left by a leaked guard is reset too.
    fn settle(&mut self) -> &mut Inner<T> {
        // SAFETY: `&mut self` makes this the only access to the core.
        let core = unsafe { self.core.as_mut() };
        let inner = core.inner.get_mut();
        let state = core.state.get_mut();
        *state = if inner.table.pending.is_empty() {
            0
        } else {
            PENDING
        };
        while let Some(cell) = inner.table.pending.pop() {
            if inner.table.pending.is_empty() {
                *state = 0;
            }
            // SAFETY: pending cells are used and listed once; it was just
            // popped, so it is no longer listed; the pool is unborrowed.
            drop(unsafe { inner.take(cell) });
        }
        inner
    }
}

impl<T> Drop for ContiguousUniformPool<T> {
    fn drop(&mut self) {
        // SAFETY: the core came from `Box::leak` in `with_capacity` and is
        // freed only here; nothing borrows the pool any more, so no proxy,
        // guard or header is used again (headers go with the core's pages).
        drop(unsafe { Box::from_raw(self.core.as_ptr()) });
    }
}

impl<T> Default for ContiguousUniformPool<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for ContiguousUniformPool<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_exclusive(self.state().get()) {
            return f
                .debug_struct("ContiguousUniformPool")
                .field("len", &self.len())
                .finish_non_exhaustive();
        }
        f.debug_list().entries(self.borrow().iter()).finish()
    }
}

impl<T> IntoIterator for ContiguousUniformPool<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    /// Yields the live objects by value, in storage order.
    fn into_iter(mut self) -> Self::IntoIter {
        let inner = self.settle();
        inner.table.clear();
        IntoIter {
            rest: Rest::take_all(inner),
            pool: self,
        }
    }
}

impl<T> Proxy<'_, T> {
    /// Runs `f` with a shared reference to the object. Other `with` calls
    /// (on any proxy of the pool) may nest inside `f`.
    ///
    /// # Panics
    ///
    /// When the pool is exclusively borrowed: inside [`map`](ContiguousUniformPool::map),
    /// a [`with_mut`](Self::with_mut) closure or while a [`PoolRefMut`] lives.
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        let core = self.core();
        // SAFETY: the core of the live pool this proxy borrows.
        acquire_shared(unsafe { &(*core.as_ptr()).state }, "with");
        let _guard = SharedGuard { core };
        // SAFETY: 1. the cell is used and holds the address of this proxy's
        // object (field invariant). 2. The shared borrow taken above keeps
        // the object in place and forbids `&mut` to it until the guard
        // drops, after `f` returns; `R` cannot borrow from the reference.
        f(unsafe { &*self.object() })
    }

    /// Runs `f` with an exclusive reference to the object.
    ///
    /// # Panics
    ///
    /// When the pool is borrowed at all: inside [`map`](ContiguousUniformPool::map),
    /// inside any `with` / `with_mut` closure of the same pool, or while a
    /// [`PoolRef`] / [`PoolRefMut`] lives. This is the `RefCell` rule,
    /// applied to the whole pool.
    #[inline]
    pub fn with_mut<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let core = self.core();
        // SAFETY: the core of the live pool this proxy borrows.
        unsafe { acquire_exclusive(core, "with_mut") };
        let _guard = ExclusiveGuard { core };
        // SAFETY: 1. the cell holds the address of this proxy's object
        // (field invariant). 2. The exclusive borrow taken above makes this
        // the only reference into the objects until the guard drops, after
        // `f` returns.
        f(unsafe { &mut *self.object() })
    }

    /// Removes the object from the pool and returns it. An associated
    /// function (`Proxy::into_inner(p)`), so that it never hides a
    /// derive-generated accessor.
    ///
    /// # Panics
    ///
    /// When the pool is borrowed, since the object cannot move out then;
    /// the proxy is dropped as usual (its object removed when the borrow
    /// ends).
    pub fn into_inner(this: Self) -> T {
        let this = core::mem::ManuallyDrop::new(this);
        let core = this.core();
        // SAFETY: the core of the live pool this proxy borrows.
        if is_borrowed(unsafe { (*core.as_ptr()).state.get() }) {
            // Let the proxy's drop defer the removal as usual.
            drop(core::mem::ManuallyDrop::into_inner(this));
            borrowed_panic("into_inner");
        }
        // SAFETY: 1. unborrowed, so no reference into `inner` exists and no
        // user code runs while this one lives. 2. The cell is used and not
        // pending (field invariant), and `this` is never dropped, so it is
        // released exactly once.
        unsafe { (*(*core.as_ptr()).inner.get()).take(this.cell) }
    }

    /// Whether this proxy's object lives in `pool` (`Proxy::belongs_to(&p,
    /// &pool)`, an associated function so it never hides an accessor).
    #[must_use]
    pub fn belongs_to(this: &Self, pool: &ContiguousUniformPool<T>) -> bool {
        this.core() == pool.core
    }

    /// The core of this proxy's pool, from the header of the cell's page.
    #[inline(always)]
    fn core(&self) -> NonNull<Core<T>> {
        // SAFETY: the cell was acquired from the live pool this proxy
        // borrows, and a borrowed pool never clears its cells.
        unsafe { cells::core_of(self.cell) }.cast()
    }

    /// The address of this proxy's object (valid until the object moves:
    /// callers hold a borrow of the pool).
    #[inline(always)]
    fn object(&self) -> *mut T {
        // SAFETY: the cell lies in a live page of the pool and holds the
        // address of this proxy's object (field invariant).
        unsafe { self.cell.read() }.cast()
    }
}

impl<T> Drop for Proxy<'_, T> {
    #[inline]
    fn drop(&mut self) {
        let core = self.core().as_ptr();
        // SAFETY: the core of the live pool this proxy borrows.
        let state = unsafe { &(*core).state };
        let current = state.get();
        // SAFETY: a short `&mut` to `Inner`: user code may hold references
        // into the object pages and iterators over the page table's heap
        // buffer, never references into `Inner` itself, and no
        // user code runs while this reference lives.
        let inner = unsafe { &mut *(*core).inner.get() };
        if is_borrowed(current) {
            inner.table.pending.push(self.cell);
            state.set(current | PENDING);
            return;
        }
        // SAFETY: unborrowed; the cell is used and not pending (field
        // invariant), and this proxy never uses it again.
        let value = unsafe { inner.take(self.cell) };
        drop(value);
        // A destructor that panicked during an earlier flush may have left
        // removals behind.
        if state.get() == PENDING {
            // SAFETY: the core of the live pool.
            unsafe { flush_slow(self.core()) };
        }
    }
}

impl<T> Access for Proxy<'_, T> {
    type Target = T;
    #[inline]
    fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        Proxy::with(self, f)
    }
    #[inline]
    fn with_mut<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        Proxy::with_mut(self, f)
    }
}

impl<T: Fields> Deref for Proxy<'_, T> {
    type Target = T::View<Self>;
    /// The derive-generated field accessors of `T`.
    #[inline]
    fn deref(&self) -> &Self::Target {
        access::view(self)
    }
}

// SAFETY: a proxy holds no direct managed reference: it names a cell that
// its pool updates itself when the object moves.
unsafe impl<T> Managed for Proxy<'_, T> {
    const HAS_REFS: bool = false;
    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, _visitor: &mut V) {}
}

impl<T: fmt::Debug> fmt::Debug for Proxy<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: the core of the live pool this proxy borrows.
        if is_exclusive(unsafe { (*self.core().as_ptr()).state.get() }) {
            return f
                .debug_struct("Proxy")
                .field("cell", &self.cell)
                .finish_non_exhaustive();
        }
        self.with(|value| f.debug_tuple("Proxy").field(value).finish())
    }
}
// ---------------------------------------------------------------------------
// Iterators and borrow guards
// ---------------------------------------------------------------------------

impl<T> PoolRef<'_, T> {
    /// The object of `proxy`, for as long as this borrow lives.
    ///
    /// The bulk path for random access: the borrow is taken once for the
    /// guard instead of once per access as [`Proxy::with`] does.
    ///
    /// # Panics
    ///
    /// When `proxy` belongs to another pool.
    #[inline]
    #[must_use]
    pub fn get(&self, proxy: &Proxy<'_, T>) -> &T {
        if !Proxy::belongs_to(proxy, self.pool) {
            foreign_panic();
        }
        // SAFETY: 1. `proxy`'s cell holds the address of its object, in
        // this pool (its field invariant, and the check above). 2. The
        // shared borrow held by this guard keeps the object in place and
        // free of `&mut` while the returned reference, which borrows the
        // guard, lives.
        unsafe { &*proxy.object() }
    }

    /// Clones the objects into a `Vec`, in storage order.
    #[must_use]
    pub fn to_vec(&self) -> Vec<T>
    where
        T: Clone,
    {
        let mut out = Vec::with_capacity(self.len());
        out.extend(self.iter().cloned());
        out
    }
}

impl<T> Drop for PoolRef<'_, T> {
    #[inline]
    fn drop(&mut self) {
        drop(SharedGuard {
            core: self.pool.core,
        });
    }
}

impl<T: fmt::Debug> fmt::Debug for PoolRef<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'b, T> IntoIterator for &'b PoolRef<'_, T> {
    type Item = &'b T;
    type IntoIter = Iter<'b, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T> PoolRefMut<'_, T> {
    /// The object of `proxy`, exclusively, for as long as this borrow of
    /// the guard lives.
    ///
    /// # Panics
    ///
    /// When `proxy` belongs to another pool.
    #[inline]
    pub fn get_mut(&mut self, proxy: &Proxy<'_, T>) -> &mut T {
        if !Proxy::belongs_to(proxy, self.pool) {
            foreign_panic();
        }
        // SAFETY: 1. `proxy`'s cell holds the address of its object, in
        // this pool. 2. The exclusive borrow held by this guard, and the
        // `&mut self` receiver, make the returned reference the only one to
        // the object.
        unsafe { &mut *proxy.object() }
    }

    /// The object of `proxy`, shared, for as long as this borrow of the
    /// guard lives.
    ///
    /// # Panics
    ///
    /// When `proxy` belongs to another pool.
    #[inline]
    #[must_use]
    pub fn get(&self, proxy: &Proxy<'_, T>) -> &T {
        if !Proxy::belongs_to(proxy, self.pool) {
            foreign_panic();
        }
        // SAFETY: as in `get_mut`, shared through `&self`.
        unsafe { &*proxy.object() }
    }

    /// Iterates the objects exclusively, in storage order.
    #[inline]
    pub fn iter_mut(&mut self) -> IterMut<'_, T> {
        // SAFETY: the exclusive borrow held by this guard makes the objects
        // reachable only through it, and the `&mut self` receiver makes the
        // returned iterator the only path while it lives.
        unsafe { IterMut::new(self.pool.storage()) }
    }
}

/// What both borrow guards offer: shared iteration and the length.
macro_rules! guard_common {
    ($guard:ident) => {
        impl<T> $guard<'_, T> {
            /// Iterates the objects in storage order.
            #[inline]
            pub fn iter(&self) -> Iter<'_, T> {
                // SAFETY: the borrow held by this guard (shared or
                // exclusive) keeps the objects in place, and the `&self`
                // receiver keeps `&mut` to them away while the iterator,
                // which borrows the guard, lives.
                unsafe { Iter::new(self.pool.storage()) }
            }

            /// Objects in the pool, those whose removal is deferred until
            /// the borrow ends included (they are still iterated).
            #[inline]
            #[must_use]
            pub fn len(&self) -> usize {
                self.pool.storage().len()
            }

            /// Whether the pool holds no object.
            #[inline]
            #[must_use]
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }
        }
    };
}

guard_common!(PoolRef);
guard_common!(PoolRefMut);

impl<T> Drop for PoolRefMut<'_, T> {
    #[inline]
    fn drop(&mut self) {
        drop(ExclusiveGuard {
            core: self.pool.core,
        });
    }
}

impl<T: fmt::Debug> fmt::Debug for PoolRefMut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'b, T> IntoIterator for &'b mut PoolRefMut<'_, T> {
    type Item = &'b mut T;
    type IntoIter = IterMut<'b, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

/// An iterator over the objects of a pool, in storage order: from
/// [`PoolRef::iter`] and [`PoolRefMut::iter`].
pub struct Iter<'a, T> {
    /// The rest of the current page's objects.
    run: core::slice::Iter<'a, T>,
    /// The pages after the current one.
    pages: core::slice::Iter<'a, NonNull<u8>>,
    /// Objects on `pages` (each page full but the last).
    left: usize,
}

/// An iterator over the objects of a pool, exclusively, in storage order:
/// from [`PoolRefMut::iter_mut`] and [`ContiguousUniformPool::iter_mut`].
pub struct IterMut<'a, T> {
    /// As in [`Iter`].
    run: core::slice::IterMut<'a, T>,
    /// As in [`Iter`].
    pages: core::slice::Iter<'a, NonNull<u8>>,
    /// As in [`Iter`].
    left: usize,
}

/// The page-walking iterator code, once for [`Iter`] and [`IterMut`].
macro_rules! page_iter {
    ($name:ident, $item:ty, $slice:ident, $empty:expr, $from_raw:path) => {
        impl<'a, T> $name<'a, T> {
            /// Iterates the objects of `storage`.
            ///
            /// # Safety
            ///
            /// For `'a`, the objects stay in place, initialized, and free of
            /// references the item type does not allow beside its own.
            #[inline]
            unsafe fn new(storage: &'a Storage) -> Self {
                Self {
                    run: $empty,
                    pages: storage.pages().iter(),
                    left: storage.len(),
                }
            }

            /// The objects of the next page, if any.
            #[inline]
            fn next_run(&mut self) -> Option<core::slice::$slice<'a, T>> {
                if self.left == 0 {
                    return None;
                }
                let page = *self.pages.next()?;
                let count = self.left.min(Inner::<T>::GEOMETRY.per_page);
                self.left -= count;
                // SAFETY: a page's first `count` positions hold initialized
                // `T`s from its first slot on, contiguous and aligned
                // (stride is the size for a sized `T`), valid for `'a` as
                // `new`'s caller promised; each page is visited once.
                let run = unsafe {
                    let first = page.add(Inner::<T>::GEOMETRY.first);
                    $from_raw(first.cast::<T>().as_ptr(), count)
                };
                Some(run.into_iter())
            }
        }

        impl<'a, T> Iterator for $name<'a, T> {
            type Item = $item;

            #[inline]
            fn next(&mut self) -> Option<$item> {
                loop {
                    if let Some(object) = self.run.next() {
                        return Some(object);
                    }
                    self.run = self.next_run()?;
                }
            }

            #[inline]
            fn size_hint(&self) -> (usize, Option<usize>) {
                let len = self.run.len() + self.left;
                (len, Some(len))
            }

            /// Walks page by page, each page as a slice (what
            /// [`map`](ContiguousUniformPool::map) runs on).
            #[inline]
            fn fold<B, F>(mut self, init: B, mut f: F) -> B
            where
                F: FnMut(B, $item) -> B,
            {
                let run = core::mem::replace(&mut self.run, $empty);
                let mut acc = run.fold(init, &mut f);
                while let Some(run) = self.next_run() {
                    acc = run.fold(acc, &mut f);
                }
                acc
            }
        }

        impl<T> ExactSizeIterator for $name<'_, T> {}
        impl<T> FusedIterator for $name<'_, T> {}
    };
}

page_iter!(Iter, &'a T, Iter, [].iter(), core::slice::from_raw_parts);
page_iter!(
    IterMut,
    &'a mut T,
    IterMut,
    [].iter_mut(),
    core::slice::from_raw_parts_mut
);

impl<T> Clone for Iter<'_, T> {
    fn clone(&self) -> Self {
        Self {
            run: self.run.clone(),
            pages: self.pages.clone(),
            left: self.left,
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<T> fmt::Debug for IterMut<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IterMut")
            .field("remaining", &self.len())
            .finish()
    }
}

/// The objects a by-value iterator still owns: positions `next..end` of a
/// storage that no longer counts them (its length was cut to 0).
struct Rest<T> {
    /// Invariant: positions `next..end` hold initialized `T`s owned here.
    next: usize,
    end: usize,
    _values: PhantomData<T>,
}

impl<T> Rest<T> {
    /// Takes every object of `inner` out of its count (pages are kept). If
    /// the result is leaked, the objects are leaked, nothing else.
    fn take_all(inner: &mut Inner<T>) -> Self {
        let end = inner.storage.len();
        // SAFETY: length 0 claims nothing; the objects now belong to the
        // returned value.
        unsafe { inner.storage.truncate(0) };
        Self {
            next: 0,
            end,
            _values: PhantomData,
        }
    }

    /// The next object, moved out.
    ///
    /// # Safety
    ///
    /// `storage` is the one this came from, and nothing was stored in it
    /// since.
    #[inline]
    unsafe fn next(&mut self, storage: &Storage) -> Option<T> {
        if self.next == self.end {
            return None;
        }
        let position = self.next;
        self.next += 1;
        // SAFETY: an initialized `T` owned here (field invariant), read out
        // once: `next` moved past it.
        Some(unsafe {
            storage
                .slot(Inner::<T>::GEOMETRY, position)
                .cast::<T>()
                .read()
        })
    }

    /// Drops the objects not taken.
    ///
    /// # Safety
    ///
    /// As for [`next`](Self::next).
    unsafe fn finish(&mut self, storage: &Storage) {
        let (from, end) = (self.next, self.end);
        self.next = end;
        // SAFETY: positions `from..end` hold initialized `T`s owned here,
        // given up now.
        unsafe { drop_positions::<T>(storage, from, end) };
    }
}

/// A draining iterator over the objects of a pool, by value, in storage
/// order: from [`ContiguousUniformPool::drain`]. Objects not taken are
/// dropped with it.
pub struct Drain<'a, T> {
    /// The objects still to yield.
    rest: Rest<T>,
    /// The drained pool's storage (its length is 0 meanwhile).
    inner: &'a mut Inner<T>,
}

/// An owning iterator over the objects of a pool, by value, in storage
/// order: from [`ContiguousUniformPool::into_iter`](IntoIterator::into_iter).
pub struct IntoIter<T> {
    /// The objects still to yield.
    rest: Rest<T>,
    /// The pool, emptied (its length is 0), freed after the iterator.
    pool: ContiguousUniformPool<T>,
}

impl<T> Iterator for Drain<'_, T> {
    type Item = T;
    #[inline]
    fn next(&mut self) -> Option<T> {
        // SAFETY: the storage `rest` came from, unchanged since (it is
        // borrowed exclusively by this iterator).
        unsafe { self.rest.next(&self.inner.storage) }
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = self.rest.end - self.rest.next;
        (len, Some(len))
    }
}

impl<T> ExactSizeIterator for Drain<'_, T> {}
impl<T> FusedIterator for Drain<'_, T> {}

impl<T> Drop for Drain<'_, T> {
    fn drop(&mut self) {
        // SAFETY: as in `next`.
        unsafe { self.rest.finish(&self.inner.storage) };
    }
}

impl<T> fmt::Debug for Drain<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Drain")
            .field("remaining", &self.len())
            .finish()
    }
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    #[inline]
    fn next(&mut self) -> Option<T> {
        // SAFETY: the storage `rest` came from, unchanged since (the pool is
        // owned by this iterator).
        unsafe { self.rest.next(self.pool.storage()) }
    }
    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let len = self.rest.end - self.rest.next;
        (len, Some(len))
    }
}

impl<T> ExactSizeIterator for IntoIter<T> {}
impl<T> FusedIterator for IntoIter<T> {}

impl<T> Drop for IntoIter<T> {
    fn drop(&mut self) {
        // SAFETY: as in `next`.
        unsafe { self.rest.finish(self.pool.storage()) };
    }
}

impl<T> fmt::Debug for IntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter")
            .field("remaining", &self.len())
            .finish()
    }
}

impl<T> Drop for Inner<T> {
    /// Drops the objects still stored (the pages go with `storage`).
    fn drop(&mut self) {
        self.truncate(0);
    }
}

impl<T> Drop for SharedGuard<T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the core of a live pool (field invariant).
        let state = unsafe { &(*self.core.as_ptr()).state };
        let rest = state.get() - SHARED;
        debug_assert!(!is_exclusive(rest));
        state.set(rest);
        if rest == PENDING {
            // SAFETY: the core of a live pool.
            unsafe { flush_slow(self.core) };
        }
    }
}

impl<T> Drop for ExclusiveGuard<T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the core of a live pool (field invariant).
        let state = unsafe { &(*self.core.as_ptr()).state };
        debug_assert!(is_exclusive(state.get()));
        let rest = state.get() & PENDING;
        state.set(rest);
        if rest == PENDING {
            // SAFETY: the core of a live pool.
            unsafe { flush_slow(self.core) };
        }
    }
}

// ---------------------------------------------------------------------------
// Raw core
// ---------------------------------------------------------------------------

impl<T> ContiguousUniformPool<T> {
    /// The borrow state.
    #[inline(always)]
    fn state(&self) -> &Cell<usize> {
        // SAFETY: the core lives as long as the pool; the state is only
        // ever accessed through shared references (it is a `Cell`), except
        // under `&mut self`.
        unsafe { &(*self.core.as_ptr()).state }
    }

    /// The storage, as a raw pointer (see `Core::inner` for the rules of
    /// the references made from it).
    #[inline(always)]
    fn inner(&self) -> *mut Inner<T> {
        // SAFETY: the core lives as long as the pool.
        unsafe { (*self.core.as_ptr()).inner.get() }
    }

    /// The object storage.
    ///
    /// For the borrow guards: the reference must not outlive a borrow of
    /// the pool, during which nothing mutates the storage (no object is
    /// added or removed, no page allocated or freed); proxy drops then
    /// only touch `Inner::table`.
    #[inline(always)]
    fn storage(&self) -> &Storage {
        // SAFETY: the core lives as long as the pool; see above for why the
        // storage is not mutated while the reference lives.
        unsafe { &(*self.inner()).storage }
    }
}

impl<T> Inner<T> {
    /// The page geometry of `T`, a constant.
    const GEOMETRY: Geometry = Geometry::of(Layout::new::<T>());

    /// Appends `value` and gives it a fresh cell on a page naming `core`.
    #[inline]
    fn push(&mut self, value: T, core: NonNull<u8>) -> CellPtr {
        let g = Self::GEOMETRY;
        // Everything that can fail (allocate, panic) happens first, so a
        // failure leaves the pool as it was and `value` is dropped by the
        // unwinding caller.
        let slot = self.storage.reserve_one(g);
        let cell = self.table.cells.acquire(core);
        // SAFETY: 1. `slot` is position `len`, below the capacity, free and
        // aligned for a `T`; 2. the cell is fresh and takes the object's
        // address; 3. room for the push was reserved and position `len` is
        // initialized before the length covers it.
        unsafe {
            slot.cast::<T>().write(value);
            cell.write(slot.as_ptr());
            self.storage.push(cell);
        }
        cell
    }

    /// Removes the object of `cell` now, moving the last object into its
    /// place (and rewriting that object's cell), frees the cell and returns
    /// the object.
    ///
    /// # Safety
    ///
    /// The pool is unborrowed; `cell` is used and not pending.
    #[inline]
    unsafe fn take(&mut self, cell: CellPtr) -> T {
        let g = Self::GEOMETRY;
        // The only allocation, first, so nothing is left half done.
        self.table.cells.reserve_release();
        let last = self.storage.len() - 1;
        // SAFETY: 1. the cell lies in a live page and holds the address of
        // its object, a stored position (caller contract, `Inner`
        // invariant), whose back-pointer is `cell`; 2. `last` is the last
        // stored position; 3. the object is read out once and its place
        // refilled by the last object (whose cell and back-pointer follow
        // it), or it was the last; the length then drops by one, so no
        // position is read twice or left uninitialized; 4. the pool is
        // unborrowed, so no reference to either object exists.
        unsafe {
            let object = NonNull::new_unchecked(cell.read());
            let position = Storage::position_of(g, object);
            debug_assert_eq!(self.storage.back(position), cell);
            let value = object.cast::<T>().read();
            if position != last {
                let tail = self.storage.slot(g, last);
                tail.cast::<T>()
                    .copy_to_nonoverlapping(object.cast::<T>(), 1);
                let moved = self.storage.back(last);
                self.storage.set_back(position, moved);
                moved.write(object.as_ptr());
            }
            self.storage.truncate(last);
            self.table.cells.release(cell);
            value
        }
    }

    /// Drops the objects at positions `from..`, keeping the pages. The
    /// length is cut first, so the pool stays consistent whatever a
    /// destructor does; a panicking destructor does not stop the others.
    fn truncate(&mut self, from: usize) {
        let end = self.storage.len();
        if from >= end {
            return;
        }
        // SAFETY: positions `0..from` stay initialized; the others are
        // dropped below and no longer counted.
        unsafe { self.storage.truncate(from) };
        // SAFETY: positions `from..end` hold initialized objects that the
        // storage no longer counts, owned only here.
        unsafe { drop_positions::<T>(&self.storage, from, end) };
    }
}

/// Drops the objects at positions `from..end`, page by page; a panicking
/// destructor does not stop the others (the panic resumes afterwards).
///
/// # Safety
///
/// The positions hold initialized `T`s of `storage` that nothing else owns
/// or uses any more (the storage's length no longer covers them).
unsafe fn drop_positions<T>(storage: &Storage, from: usize, end: usize) {
    if !core::mem::needs_drop::<T>() {
        return;
    }
    /// Drops the runs of positions `next..end` of one page at a time,
    /// carrying on from its `Drop` when one of them panics.
    struct Runs<'a, T> {
        storage: &'a Storage,
        next: usize,
        end: usize,
        _values: PhantomData<T>,
    }
    impl<T> Runs<'_, T> {
        fn run(&mut self) {
            let g = Inner::<T>::GEOMETRY;
            while self.next < self.end {
                let start = self.next;
                let stop = (start / g.per_page + 1) * g.per_page;
                let stop = stop.min(self.end);
                self.next = stop;
                // SAFETY: positions `start..stop` lie in one page and hold
                // initialized `T`s owned here (`drop_positions` contract);
                // `next` moved past them first, so a panic never drops them
                // twice (the slice's drop glue finishes the rest of the run).
                unsafe {
                    let first = self.storage.slot(g, start).cast::<T>();
                    core::ptr::drop_in_place(core::ptr::slice_from_raw_parts_mut(
                        first.as_ptr(),
                        stop - start,
                    ));
                }
            }
        }
    }
    impl<T> Drop for Runs<'_, T> {
        fn drop(&mut self) {
            self.run();
        }
    }
    let mut runs = Runs::<T> {
        storage,
        next: from,
        end,
        _values: PhantomData,
    };
    runs.run();
}

/// Takes one shared borrow.
#[inline(always)]
fn acquire_shared(state: &Cell<usize>, operation: &str) {
    let current = state.get();
    if current >= SHARED_LIMIT {
        borrowed_panic(operation);
    }
    state.set(current + SHARED);
}

/// Takes the exclusive borrow.
///
/// # Safety
///
/// `core` is the core of a live pool.
#[inline(always)]
unsafe fn acquire_exclusive<T>(core: NonNull<Core<T>>, operation: &str) {
    // SAFETY: a live core (caller contract).
    let state = unsafe { &(*core.as_ptr()).state };
    let current = state.get();
    if is_borrowed(current) {
        borrowed_panic(operation);
    }
    state.set(current | EXCLUSIVE);
}

/// Carries out the removals deferred while the pool was borrowed; called
/// when the state says "unborrowed, something pending".
///
/// Each object is taken out (leaving the pool consistent) before its
/// destructor runs, so a destructor may use the pool. A panicking
/// destructor leaves the rest pending for the next flush; during unwinding
/// nothing is dropped here (a second panic would abort).
///
/// # Safety
///
/// `core` is the core of a live pool.
#[cold]
#[inline(never)]
unsafe fn flush_slow<T>(core: NonNull<Core<T>>) {
    if std::thread::panicking() {
        return;
    }
    let core = core.as_ptr();
    // SAFETY: a live core (caller contract).
    let state = unsafe { &(*core).state };
    // Stop as soon as a destructor leaves the pool borrowed (a leaked
    // guard); a nested flush may also have finished the work.
    while state.get() == PENDING {
        // SAFETY: unborrowed: no reference into `inner` exists, and no user
        // code runs while this one lives.
        let inner = unsafe { &mut *(*core).inner.get() };
        let Some(cell) = inner.table.pending.pop() else {
            debug_assert!(false, "PENDING set with nothing pending");
            state.set(0);
            break;
        };
        if inner.table.pending.is_empty() {
            state.set(0);
        }
        // SAFETY: unborrowed; pending cells are used, listed once, and this
        // one was just unlisted.
        let value = unsafe { inner.take(cell) };
        drop(value);
    }
}

/// Panics for a proxy used with a guard of another pool.
#[cold]
#[inline(never)]
#[track_caller]
fn foreign_panic() -> ! {
    panic!("ContiguousUniformPool: a proxy of another pool was passed to this pool's guard")
}

/// Panics for an operation attempted while the pool is borrowed.
#[cold]
#[inline(never)]
#[track_caller]
fn borrowed_panic(operation: &str) -> ! {
    panic!(
        "ContiguousUniformPool: `{operation}` called while the pool is already borrowed \
         (inside `map`, a `with`/`with_mut` closure, or while a PoolRef/PoolRefMut lives)"
    )
}
