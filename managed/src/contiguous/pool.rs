//! [`ContiguousUniformPool`]: objects of one type stored densely, reached
//! through owning [`Proxy`] handles that survive the pool's shuffling.

use core::cell::{Cell, UnsafeCell};
use core::fmt;
use core::marker::PhantomData;
use core::ops::Deref;
use core::ptr::NonNull;

use super::access::{self, Access, Fields};
use super::cells::{self, CellPtr, MAX_OBJECTS, Table};
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
/// always fill `0..len` of one buffer and [`map`](Self::map) runs at the
/// speed of iterating a slice.
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
///   while the pool is borrowed, because growing the buffer would move the
///   borrowed objects.
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
    /// user code only holds references into the `values` heap buffer, and
    /// only while `state` is borrowed.
    inner: UnsafeCell<Inner<T>>,
}

/// The storage of a pool.
///
/// Invariants: for a sized `T`, `table.back.len() == values.len()` and the
/// cell `table.back[i]` holds the address of `values[i]`; every used cell
/// (held by a live proxy or listed in `table.pending`) holds the address of
/// its object in `values`.
struct Inner<T> {
    /// The objects, densely: live ones and those pending removal.
    values: Vec<T>,
    /// Slot cells, back-pointers and deferred removals.
    table: Table,
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

/// A shared borrow of all objects of a pool, as a slice in storage order.
///
/// Returned by [`ContiguousUniformPool::borrow`]; while it lives, nothing
/// moves, [`Proxy::with`] works and [`Proxy::with_mut`] panics.
pub struct PoolRef<'a, T> {
    /// The borrowed pool (its state counts this guard).
    pool: &'a ContiguousUniformPool<T>,
    /// The objects; valid while the shared borrow is held.
    objects: NonNull<[T]>,
}

/// An exclusive borrow of all objects of a pool.
///
/// Returned by [`ContiguousUniformPool::borrow_mut`]; while it lives,
/// nothing moves and every [`Proxy::with`] / [`Proxy::with_mut`] panics.
pub struct PoolRefMut<'a, T> {
    /// The borrowed pool (its state is exclusive because of this guard).
    pool: &'a ContiguousUniformPool<T>,
    /// The objects; valid and unaliased while the exclusive borrow is held.
    objects: NonNull<[T]>,
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

    /// An empty pool with room for `capacity` objects.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        let core = Box::new(Core {
            state: Cell::new(0),
            inner: UnsafeCell::new(Inner {
                values: Vec::with_capacity(capacity),
                table: Table::with_capacity(capacity),
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
    /// [`with`](Proxy::with) closure or while a [`PoolRef`] lives), since
    /// growing the storage would move borrowed objects; and when the
    /// storage would exceed `isize::MAX` bytes.
    #[inline]
    pub fn alloc(&self, value: T) -> Proxy<'_, T> {
        if is_borrowed(self.state().get()) {
            borrowed_panic("alloc");
        }
        // SAFETY: the pool is unborrowed, so no reference into `inner`
        // exists, and none is created while this one lives (no user code
        // runs: only `Vec` and `Table` operations).
        let inner = unsafe { &mut *self.inner() };
        let cell = inner.push(value, self.core.cast());
        Proxy {
            cell,
            _pool: PhantomData,
        }
    }

    /// Runs `f` on every live object, in storage order (the order of the
    /// dense buffer), with exclusive access.
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
            // SAFETY: the borrow just taken gives this guard the objects.
            objects: unsafe { self.objects() },
            _marker: PhantomData,
        }
    }

    /// Borrows every object shared, as a guard that derefs to a slice in
    /// storage order.
    ///
    /// # Panics
    ///
    /// When the pool is exclusively borrowed.
    #[inline]
    pub fn borrow(&self) -> PoolRef<'_, T> {
        acquire_shared(self.state(), "borrow");
        PoolRef {
            pool: self,
            // SAFETY: the shared borrow just taken keeps the objects in place.
            objects: unsafe { self.objects() },
        }
    }

    /// Number of live objects (objects whose proxies are alive).
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        // SAFETY: a short read of the `Vec` headers; no `&mut` to `Inner`
        // is live while user code can call this.
        let inner = unsafe { &*self.inner() };
        inner.values.len() - inner.table.pending.len()
    }

    /// `true` when the pool holds no live object.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Objects the storage holds without reallocating.
    #[must_use]
    pub fn capacity(&self) -> usize {
        // SAFETY: a short read of the `Vec` header, as in `len`.
        unsafe { (*self.inner()).values.capacity() }
    }

    /// Space used by live objects against space reserved (object storage
    /// plus bookkeeping: the cell pages, 8 bytes per slot, and an 8-byte
    /// back-pointer per object).
    #[must_use]
    pub fn stats(&self) -> SpaceStats {
        // SAFETY: short reads, as in `len`.
        let inner = unsafe { &*self.inner() };
        let object = size_of::<T>();
        let reserved_objects = if object == 0 {
            0
        } else {
            inner.values.capacity() * object
        };
        SpaceStats::new(
            self.len() * object,
            reserved_objects + inner.table.reserved_bytes(),
        )
    }

    /// Iterates every object exclusively, in storage order. Needs `&mut
    /// self`, so no proxy can be alive (a proxy borrows the pool).
    pub fn iter_mut(&mut self) -> core::slice::IterMut<'_, T> {
        self.settle().values.iter_mut()
    }

    /// Drops every object. Needs `&mut self`, so no proxy can be alive
    /// (proxies that were leaked with `mem::forget` are simply forgotten).
    ///
    /// If a destructor panics, the remaining objects are still dropped and
    /// the pool is empty.
    pub fn clear(&mut self) {
        let inner = self.settle();
        inner.table.clear();
        inner.values.clear();
    }

    /// Removes every object, yielding them by value in storage order.
    /// Objects not consumed are dropped with the iterator.
    pub fn drain(&mut self) -> std::vec::Drain<'_, T> {
        let inner = self.settle();
        inner.table.clear();
        inner.values.drain(..)
    }

    /// Gives back unused capacity of the storage and of the bookkeeping.
    ///
    /// Since no proxy can be alive, the remaining objects get fresh,
    /// compactly allocated cells, so cell pages freed by removals are
    /// returned too.
    pub fn shrink_to_fit(&mut self) {
        let core = self.core.cast();
        let inner = self.settle();
        inner.values.shrink_to_fit();
        inner.table.clear();
        inner.table.cells.shrink_to_fit();
        for position in 0..inner.values.len() {
            let cell = inner.table.cells.acquire(core);
            // SAFETY: a fresh cell of a live page; positions fit in `u32`
            // (the pool never holds more than `MAX_OBJECTS`).
            unsafe { cell.write(position as u32) };
            inner.table.back.push(cell);
        }
        inner.table.back.shrink_to_fit();
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
    type IntoIter = std::vec::IntoIter<T>;

    /// Yields the live objects by value, in storage order.
    fn into_iter(mut self) -> Self::IntoIter {
        let inner = self.settle();
        inner.table.clear();
        core::mem::take(&mut inner.values).into_iter()
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
        // SAFETY: 1. the cell is used and holds the position of this proxy's
        // object in the pool's storage (field invariant). 2. The shared
        // borrow taken above keeps the object in place and forbids `&mut` to
        // it until the guard drops, after `f` returns; `R` cannot borrow
        // from the reference.
        f(unsafe { &*self.object(Core::base(core)) })
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
        // SAFETY: 1. the cell holds the position of this proxy's object
        // (field invariant). 2. The exclusive borrow taken above makes this
        // the only reference into the objects until the guard drops, after
        // `f` returns.
        f(unsafe { &mut *self.object(Core::base(core)) })
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

    /// The address of this proxy's object, given the start of its pool's
    /// storage (valid while the storage does not move).
    #[inline(always)]
    fn object(&self, base: *mut T) -> *mut T {
        // SAFETY: the cell lies in a live page of the pool (field invariant).
        let position = unsafe { self.cell.read() } as usize;
        // SAFETY: a used cell holds an in-bounds position of the storage
        // starting at `base`.
        unsafe { base.add(position) }
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
        // into the objects' heap buffer, never into `Inner` itself, and no
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
        // SAFETY: 1. `proxy`'s cell holds the position of its object, in
        // this pool (its field invariant, and the check above), whose
        // storage starts at `objects` while the borrow lasts. 2. The shared
        // borrow held by this guard keeps the object in place and free of
        // `&mut` while the returned reference, which borrows the guard,
        // lives.
        unsafe { &*proxy.object(self.objects.cast().as_ptr()) }
    }
}

impl<T> Deref for PoolRef<'_, T> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        // SAFETY: the shared borrow held by this guard keeps the objects in
        // place and free of `&mut` while the guard lives.
        unsafe { self.objects.as_ref() }
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
    type IntoIter = core::slice::Iter<'b, T>;
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
        // SAFETY: 1. `proxy`'s cell holds the position of its object, in
        // this pool, whose storage starts at `objects`. 2. The exclusive
        // borrow held by this guard, and the `&mut self` receiver, make the
        // returned reference the only one to the object.
        unsafe { &mut *proxy.object(self.objects.cast().as_ptr()) }
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
        unsafe { &*proxy.object(self.objects.cast().as_ptr()) }
    }

    /// Iterates the objects exclusively, in storage order.
    #[inline]
    pub fn iter_mut(&mut self) -> core::slice::IterMut<'_, T> {
        // SAFETY: the exclusive borrow held by this guard makes the objects
        // reachable only through it, and the `&mut self` receiver makes the
        // returned iterator the only path while it lives.
        unsafe { self.objects.as_mut() }.iter_mut()
    }
}

impl<T> Deref for PoolRefMut<'_, T> {
    type Target = [T];
    #[inline]
    fn deref(&self) -> &[T] {
        // SAFETY: as in `iter_mut`, shared this time.
        unsafe { self.objects.as_ref() }
    }
}

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
    type IntoIter = core::slice::IterMut<'b, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
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

    /// The objects as a raw slice.
    ///
    /// # Safety
    ///
    /// The caller holds a borrow (so the slice stays valid) and derives
    /// only references that borrow allows.
    #[inline]
    unsafe fn objects(&self) -> NonNull<[T]> {
        // SAFETY: a short-lived `&mut` to the `Vec` header: no other
        // reference to the header exists while a pool method runs, and
        // `as_mut_ptr` does not assert anything about the elements.
        let values = unsafe { &mut (*self.inner()).values };
        let ptr = core::ptr::slice_from_raw_parts_mut(values.as_mut_ptr(), values.len());
        // SAFETY: a `Vec`'s buffer pointer is never null.
        unsafe { NonNull::new_unchecked(ptr) }
    }
}

impl<T> Core<T> {
    /// The start of the storage of a live core (valid until it moves).
    #[inline(always)]
    fn base(core: NonNull<Self>) -> *mut T {
        // SAFETY: a short shared read of the `Vec` header of a live core:
        // user code never holds a reference into `Inner`, and no `&mut` to
        // it is live while a proxy or guard method runs this.
        unsafe { (*(*core.as_ptr()).inner.get()).values.as_mut_ptr() }
    }
}

impl<T> Inner<T> {
    /// Appends `value` and gives it a fresh cell on a page naming `core`.
    ///
    /// # Panics
    ///
    /// When the pool already holds [`MAX_OBJECTS`] objects.
    #[inline]
    fn push(&mut self, value: T, core: NonNull<u8>) -> CellPtr {
        // Everything that can fail (allocate, panic) happens first, so a
        // failure leaves the pool as it was and `value` is dropped by the
        // unwinding caller.
        let position = self.values.len();
        if position == self.values.capacity()
            || position == self.table.back.capacity()
            || position == MAX_OBJECTS
        {
            self.grow();
        }
        let cell = self.table.cells.acquire(core);
        self.values.push(value);
        self.table.back.push(cell);
        // SAFETY: a fresh cell of a live page; `position < MAX_OBJECTS`
        // (`grow` panics otherwise), so it fits.
        unsafe { cell.write(position as u32) };
        cell
    }

    /// Makes room for at least one more object.
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        assert!(
            self.values.len() < MAX_OBJECTS,
            "ContiguousUniformPool: capacity overflow (at most {MAX_OBJECTS} objects)"
        );
        self.values.reserve(1);
        self.table.back.reserve(1);
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
        // The only allocation, first, so nothing is left half done.
        self.table.cells.reserve_release();
        // SAFETY: the cell lies in a live page and holds the position of its
        // object (caller contract, `Inner` invariant).
        let position = unsafe { cell.read() } as usize;
        debug_assert!(position < self.values.len() && self.table.back[position] == cell);
        let value = self.values.swap_remove(position);
        self.table.back.swap_remove(position);
        if let Some(&moved) = self.table.back.get(position) {
            // SAFETY: a used cell in a live page; the object that was last
            // now sits at `position`, which fits in `u32`.
            unsafe { moved.write(position as u32) };
        }
        // SAFETY: the cell belongs to this table and is no longer used.
        unsafe { self.table.cells.release(cell) };
        value
    }
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
