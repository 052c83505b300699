//! Borrow guards of a [`ContiguousUniformPool`]: the whole pool
//! ([`PoolRef`], [`PoolRefMut`]) or one object ([`ObjectRef`],
//! [`ObjectMut`]).
//!
//! Invariant: a guard holds one borrow of its pool's borrow word (shared
//! or exclusive) from its construction (`acquire`, `find`) until its drop,
//! so the objects stay in place while the references it hands out live.
//! The borrow itself is a [`SharedBorrow`] or [`ExclusiveBorrow`] token,
//! whose drop ends it; the whole-pool guards add a [`Lookup`] taken under
//! it, so that their lookups by key read no field of the pool.
//!
//! [`ContiguousUniformPool`]: crate::contiguous::ContiguousUniformPool

use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;

use slotmap::{DefaultKey, Key};

use super::core::{ExclusiveGuard, Lookup, SharedGuard};
use super::iter::{Iter, IterMut, Keys, Values, ValuesMut};
use super::proxy::Proxy;
use crate::contiguous::ContiguousUniformPool;

/// A shared borrow of all objects of a pool: iterated in storage order,
/// reached by key or by proxy.
///
/// Returned by [`ContiguousUniformPool::borrow`]; while it lives, nothing
/// moves, [`Proxy::with`] works and [`Proxy::with_mut`] panics.
///
/// The guard stays on the thread that took it: it is neither `Send` nor
/// `Sync`, whatever `T` is. Its pool counts borrows in a plain `Cell`, and
/// the pool, reachable beside the guard on its own thread, may still begin
/// removals (`remove_deferred`, dropping a proxy), which rewrite the key
/// table the guard's lookups read; another thread reading through the
/// guard would race with both. To read the objects on other threads (in
/// the closure of a parallel walk, `par_map` with the `rayon` feature,
/// say), share [`lookup`](Self::lookup), a view that finds objects by key
/// on any thread, or [`as_slice`](Self::as_slice): the objects themselves,
/// which nothing writes, moves or drops while the guard lives.
pub struct PoolRef<'a, T, K = DefaultKey> {
    /// Taken under the borrow `borrow` holds, so valid while it lives.
    lookup: Lookup<T>,
    /// The shared borrow of the pool, ended when the guard drops.
    borrow: SharedBorrow<'a, T, K>,
}

/// An exclusive borrow of all objects of a pool.
///
/// Returned by [`ContiguousUniformPool::borrow_mut`]; while it lives,
/// nothing moves and every [`Proxy::with`] / [`Proxy::with_mut`] panics.
pub struct PoolRefMut<'a, T, K = DefaultKey> {
    /// Taken under the borrow `borrow` holds, so valid while it lives.
    lookup: Lookup<T>,
    /// The exclusive borrow of the pool, ended when the guard drops.
    borrow: ExclusiveBorrow<'a, T, K>,
}

/// A read-only view of a borrowed pool's objects by key, shared across
/// threads: [`get`](Self::get) and [`contains`](Self::contains) as a
/// [`PoolRef`]'s, from [`PoolRef::lookup`] or [`PoolRefMut::lookup`].
///
/// It borrows the guard it came from, shared: the guard's borrow of the
/// pool keeps every object in place, unwritten and undropped while the
/// view lives (an exclusive guard writes objects only through `&mut
/// self`, which the view's borrow rules out), so the references it hands
/// out live as long as that borrow of the guard. It is `Copy`, and `Send` and `Sync` when `T` is `Sync` (it
/// hands out `&T` only): a parallel walk of one pool (`par_map` with the
/// `rayon` feature) finds another pool's objects by key through it, which
/// the guard itself, neither `Send` nor `Sync`, cannot do.
///
/// The pool's own thread may still begin removals while the view is read
/// elsewhere ([`remove_deferred`](ContiguousUniformPool::remove_deferred),
/// dropping a proxy): from then on the view does not find the object,
/// though a thread that looked it up just before keeps a valid reference
/// (the object is dropped only when the borrow ends). Objects queued by
/// [`insert_deferred`](ContiguousUniformPool::insert_deferred) are not
/// found until the borrow ends, as through the guard.
///
/// ```compile_fail
/// use managed::prelude::*;
///
/// let pool = ContiguousUniformPool::new();
/// let key = pool.insert(1u32);
/// let lookup = pool.borrow().lookup(); // the guard is dropped at once
/// assert_eq!(lookup.get(key), Some(&1));
/// ```
pub struct PoolLookup<'g, T, K = DefaultKey> {
    /// Taken under the borrow of the pool that the guard this view
    /// borrows holds (shared, or exclusive with the guard itself borrowed
    /// shared by the view), so valid while the view lives.
    lookup: Lookup<T>,
    /// Borrows the guard for `'g` and hands out `&'g T`: covariant in
    /// `'g` and in `T`, as `&'g [T]` is. Covariance in `T` is sound
    /// because nothing is written through the view: an object of type
    /// `&'long str` read as a `&'short str` is what reading a
    /// `&[&'long str]` as a `&[&'short str]` does. (The pool and the
    /// guards, through which a `T` can be written, are invariant.)
    _guard: PhantomData<&'g T>,
    /// Takes keys of type `K` (invariant; `Send` and `Sync` whatever `K`
    /// is: keys are only taken from the caller).
    _keys: PhantomData<fn(K) -> K>,
}

impl<T, K> PoolLookup<'_, T, K> {
    /// The view of a guard's `lookup` (see the guards' `lookup` methods for
    /// why its reads are sound).
    #[inline(always)]
    fn of(lookup: Lookup<T>) -> Self {
        PoolLookup {
            lookup,
            _guard: PhantomData,
            _keys: PhantomData,
        }
    }
}

/// The objects of an exclusively borrowed pool other than one, which is
/// lent out beside this view ([`PoolRefMut::split_mut`],
/// [`PoolRefMut::for_each_with_others`]): read with [`get`](Self::get),
/// written with [`get_mut`](Self::get_mut), one at a time. Every lookup
/// refuses the lent object.
///
/// The [prelude](crate::prelude) exports it as `PoolOthers` (its `Others`
/// is the heap's [`heap::Others`](crate::heap::Others)).
pub struct Others<'b, T, K = DefaultKey> {
    /// Taken under the exclusive borrow of the guard this view borrows, so
    /// valid while it lives.
    lookup: Lookup<T>,
    /// The lent object's position. Invariant: no reference to the object
    /// there is made through this view.
    lent: usize,
    /// Borrows the guard exclusively for `'b` and hands out `&mut T`:
    /// invariant in `T`, as the guard is.
    _guard: PhantomData<&'b mut T>,
    /// Takes keys of type `K`.
    _keys: PhantomData<fn(K) -> K>,
}

impl<T, K> Others<'_, T, K> {
    /// The view of every object but the one at `lent`.
    ///
    /// # Safety
    ///
    /// `lookup` is the lookup of a guard holding an exclusive borrow of
    /// the pool for the view's lifetime, which makes no reference to any
    /// object but the one at `lent` (which may be lent out) while the view
    /// lives.
    unsafe fn new(lookup: Lookup<T>, lent: usize) -> Self {
        Others {
            lookup,
            lent,
            _guard: PhantomData,
            _keys: PhantomData,
        }
    }
}

impl<T, K: Key> Others<'_, T, K> {
    /// The position of `key`'s object unless it is the lent one.
    #[inline]
    fn position(&self, key: K) -> Option<usize> {
        // SAFETY: the lookup was taken under the borrow the guard holds.
        unsafe { self.lookup.position(key.data()) }.filter(|&position| position != self.lent)
    }

    /// Whether `key` names an object of the pool other than the lent one.
    #[inline]
    #[must_use]
    pub fn contains(&self, key: K) -> bool {
        self.position(key).is_some()
    }

    /// The object of `key`; `None` if the key is stale, names no object of
    /// this pool, or names the lent object.
    #[inline]
    #[must_use]
    pub fn get(&self, key: K) -> Option<&T> {
        let position = self.position(key)?;
        // SAFETY: 1. a live key's position, below the length, not the lent
        // one; 2. references made through the view are shared while it is
        // borrowed shared (`get_mut` takes `&mut self`).
        Some(unsafe { &*self.lookup.at(position).as_ptr() })
    }

    /// The object of `key`, exclusively; `None` as for [`get`](Self::get).
    #[inline]
    #[must_use]
    pub fn get_mut(&mut self, key: K) -> Option<&mut T> {
        let position = self.position(key)?;
        // SAFETY: as in `get`; `&mut self` makes this the only reference
        // made through the view while it lives.
        Some(unsafe { &mut *self.lookup.at(position).as_ptr() })
    }
}

impl<T, K> core::fmt::Debug for Others<'_, T, K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Others")
            .field("lent_position", &self.lent)
            .finish_non_exhaustive()
    }
}

impl<T, K> Clone for PoolLookup<'_, T, K> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, K> Copy for PoolLookup<'_, T, K> {}

// SAFETY: a view reached from several threads (through `&PoolLookup`, or
// by copies of it: so `Send` too) only reads:
// 1. its own fields (the table view and the buffer's address, by value);
// 2. the slot array, through `Lookup::find_shared`. While the view lives
//    the guard it borrows holds a borrow of the pool (shared for a
//    `PoolRef`, exclusive for a `PoolRefMut`), so the only writes to the
//    slot array, all on the pool's own thread (the pool is not `Sync`),
//    are deferred removals' version bumps, which are atomic stores racing
//    only with the views' atomic loads, and queued insertions' writes to
//    vacant slots' positions, which a view never reads (their versions
//    never match a key's);
// 3. the objects, as `&T`, which the same borrow keeps in place and
//    undropped (deferred removals wait for the borrow's end), with no
//    `&mut T` to them: under a shared borrow, exclusive borrows panic;
//    under a `PoolRefMut`'s exclusive borrow, every other access panics
//    and the guard hands out `&mut T` only through `&mut self`, which the
//    view's shared borrow of the guard rules out while the view (and
//    every `&T` it handed out) lives. `T: Sync` makes the `&T`s safe to
//    share between threads.
unsafe impl<T: Sync, K> Sync for PoolLookup<'_, T, K> {}
// SAFETY: as for `Sync` above: a view moved to another thread is one more
// reader of the same kind.
unsafe impl<T: Sync, K> Send for PoolLookup<'_, T, K> {}

impl<'g, T, K: Key> PoolLookup<'g, T, K> {
    /// Whether `key` names a live object (`false` once its removal
    /// began, also on the pool's thread while this view is read).
    #[inline]
    #[must_use]
    pub fn contains(&self, key: K) -> bool {
        // SAFETY: the lookup was taken under the borrow of the guard this
        // view borrows, still held.
        unsafe { self.lookup.find_shared(key.data()) }.is_some()
    }

    /// The object of `key`, for as long as the view's borrow of its guard
    /// lives, or `None` if the key is stale.
    #[inline]
    #[must_use]
    pub fn get(&self, key: K) -> Option<&'g T> {
        // SAFETY: 1. the lookup was taken under the borrow of the guard
        // this view borrows for `'g`; 2. the object of a live key. 3. That
        // shared borrow keeps the object in place, free of `&mut` and
        // undropped for `'g`.
        Some(unsafe { self.lookup.find_shared(key.data())?.as_ref() })
    }
}

/// One shared borrow of a pool, ended on drop: what every shared guard
/// holds.
pub(crate) struct SharedBorrow<'a, T, K> {
    /// The borrowed pool (its state counts this borrow).
    pool: &'a ContiguousUniformPool<T, K>,
}

/// The exclusive borrow of a pool, ended on drop: what every exclusive
/// guard holds.
pub(crate) struct ExclusiveBorrow<'a, T, K> {
    /// The borrowed pool (its state is exclusive because of this borrow).
    pool: &'a ContiguousUniformPool<T, K>,
    /// Acts like `&'a mut [T]` for variance and auto traits.
    _marker: PhantomData<&'a mut [T]>,
}

impl<'a, T, K> SharedBorrow<'a, T, K> {
    /// Takes a shared borrow of `pool`.
    ///
    /// # Panics
    ///
    /// When the pool is exclusively borrowed (`operation` names the
    /// caller in the message).
    #[inline]
    #[track_caller]
    fn acquire(pool: &'a ContiguousUniformPool<T, K>, operation: &str) -> Self {
        pool.raw.acquire_shared(operation);
        Self { pool }
    }
}

impl<'a, T, K> ExclusiveBorrow<'a, T, K> {
    /// Takes the exclusive borrow of `pool`.
    ///
    /// # Panics
    ///
    /// When the pool is already borrowed (`operation` names the caller in
    /// the message).
    #[inline]
    #[track_caller]
    fn acquire(pool: &'a ContiguousUniformPool<T, K>, operation: &str) -> Self {
        pool.raw.acquire_exclusive(operation);
        Self {
            pool,
            _marker: PhantomData,
        }
    }
}

impl<T, K> Drop for SharedBorrow<'_, T, K> {
    #[inline]
    fn drop(&mut self) {
        drop(SharedGuard {
            core: self.pool.raw.core,
        });
    }
}

impl<T, K> Drop for ExclusiveBorrow<'_, T, K> {
    #[inline]
    fn drop(&mut self) {
        drop(ExclusiveGuard {
            core: self.pool.raw.core,
        });
    }
}

impl<'a, T, K> PoolRef<'a, T, K> {
    /// Takes a shared borrow of `pool` for a new guard, which ends it.
    ///
    /// # Panics
    ///
    /// When the pool is exclusively borrowed (`operation` names the
    /// caller in the message).
    #[inline]
    #[track_caller]
    pub(crate) fn acquire(pool: &'a ContiguousUniformPool<T, K>, operation: &str) -> Self {
        let borrow = SharedBorrow::acquire(pool, operation);
        Self {
            // SAFETY: the pool is borrowed (by `borrow`), for as long as
            // the lookup lives beside it.
            lookup: unsafe { pool.raw.lookup() },
            borrow,
        }
    }
}

impl<'a, T, K> PoolRefMut<'a, T, K> {
    /// Takes the exclusive borrow of `pool` for a new guard, which ends
    /// it.
    ///
    /// # Panics
    ///
    /// When the pool is already borrowed (`operation` names the caller in
    /// the message).
    #[inline]
    #[track_caller]
    pub(crate) fn acquire(pool: &'a ContiguousUniformPool<T, K>, operation: &str) -> Self {
        let borrow = ExclusiveBorrow::acquire(pool, operation);
        Self {
            // SAFETY: as in `PoolRef::acquire`.
            lookup: unsafe { pool.raw.lookup() },
            borrow,
        }
    }
}

impl<T, K: Key> PoolRef<'_, T, K> {
    /// Whether `key` names a live object.
    #[inline]
    #[must_use]
    pub fn contains(&self, key: K) -> bool {
        // SAFETY: the lookup was taken under the borrow this guard holds.
        unsafe { self.lookup.find(key.data()) }.is_some()
    }

    /// The object of `key`, for as long as this borrow lives, or `None` if
    /// the key is stale.
    ///
    /// The bulk path for lookups: the borrow is taken once for the guard.
    #[inline]
    #[must_use]
    pub fn get(&self, key: K) -> Option<&T> {
        // SAFETY: 1. the lookup was taken under the borrow this guard
        // holds; 2. the object of a live key. 3. That shared borrow keeps
        // the object in place and free of `&mut` while the returned
        // reference, which borrows the guard, lives.
        Some(unsafe { self.lookup.find(key.data())?.as_ref() })
    }
}

impl<T, K> PoolRef<'_, T, K> {
    /// A read-only view of the objects by key that, unlike the guard,
    /// crosses threads when `T: Sync`: for looking objects up inside a
    /// parallel walk of another pool. It borrows the guard, so the pool
    /// keeps its objects in place while the view lives.
    #[cfg_attr(
        feature = "rayon",
        doc = r##"
```
use managed::prelude::*;

struct Cell { force: f32 }
struct Particle { cell: DefaultKey, v: f32 }

let cells = ContiguousUniformPool::new();
let hot = cells.insert(Cell { force: 2.0 });
let cold = cells.insert(Cell { force: 0.5 });
let particles = ContiguousUniformPool::new();
for i in 0..1_000 {
    particles.insert(Particle { cell: if i % 2 == 0 { hot } else { cold }, v: 0.0 });
}
let guard = cells.borrow();
let lookup = guard.lookup();
// On rayon's threads: each particle finds its cell by key.
particles.par_map(|p| {
    if let Some(cell) = lookup.get(p.cell) {
        p.v += cell.force;
    }
});
assert!(particles.borrow().values().all(|p| p.v == if p.cell == hot { 2.0 } else { 0.5 }));
```
"##
    )]
    #[inline]
    #[must_use]
    pub fn lookup(&self) -> PoolLookup<'_, T, K> {
        PoolLookup::of(self.lookup)
    }

    /// The object of `proxy`, for as long as this borrow lives.
    ///
    /// The bulk path for proxies: the borrow is taken once for the guard
    /// instead of once per access as [`Proxy::with`] does. Like `with`, it
    /// reads the object where the proxy last found it while that position
    /// is still right, and goes through the key table only for an object
    /// that moved (recording where it found it).
    ///
    /// # Panics
    ///
    /// When `proxy` belongs to another pool, or its object was removed by
    /// key.
    #[inline]
    #[must_use]
    #[track_caller]
    pub fn by_proxy(&self, proxy: &Proxy<'_, T, K>) -> &T {
        // SAFETY: the guard's lookup, taken under the borrow it holds.
        let object = unsafe { proxy.object_in(self.borrow.pool, &self.lookup, "by_proxy") };
        // SAFETY: 1. the object of a live slot of this pool (checked by
        // `object_in`). 2. As in `get`.
        unsafe { &*object }
    }
}

impl<T, K: Key> PoolRefMut<'_, T, K> {
    /// Whether `key` names a live object.
    #[inline]
    #[must_use]
    pub fn contains(&self, key: K) -> bool {
        // SAFETY: the lookup was taken under the borrow this guard holds.
        unsafe { self.lookup.find(key.data()) }.is_some()
    }

    /// The object of `key`, shared, for as long as this borrow of the
    /// guard lives, or `None` if the key is stale.
    #[inline]
    #[must_use]
    pub fn get(&self, key: K) -> Option<&T> {
        // SAFETY: as in `PoolRef::get`, shared through `&self`.
        Some(unsafe { self.lookup.find(key.data())?.as_ref() })
    }

    /// The object of `key`, exclusively, for as long as this borrow of the
    /// guard lives, or `None` if the key is stale.
    #[inline]
    pub fn get_mut(&mut self, key: K) -> Option<&mut T> {
        // SAFETY: 1. the lookup was taken under the borrow this guard
        // holds; 2. the object of a live key. 3. That exclusive borrow,
        // and the `&mut self` receiver, make the returned reference the
        // only one to the object.
        Some(unsafe { self.lookup.find(key.data())?.as_mut() })
    }

    /// The objects of `N` keys at once, each exclusively, for as long as
    /// this borrow of the guard lives, as slotmap's `get_disjoint_mut`:
    /// `None` if any key is stale (its removal began, also during this
    /// borrow) or names no object of this pool, or if two keys name the
    /// same object.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let pool = ContiguousUniformPool::new();
    /// let a = pool.insert([0.0f32; 2]);
    /// let b = pool.insert([1.0f32; 2]);
    /// let mut objects = pool.borrow_mut();
    /// if let Some([pa, pb]) = objects.get_disjoint_mut([a, b]) {
    ///     pa[0] += pb[0];
    ///     pb[1] -= pa[1];
    /// }
    /// assert!(objects.get_disjoint_mut([a, a]).is_none(), "the same object twice");
    /// drop(objects);
    /// assert_eq!((*pool.get(a).unwrap(), *pool.get(b).unwrap()), ([1.0, 0.0], [1.0, 1.0]));
    /// ```
    #[inline]
    pub fn get_disjoint_mut<const N: usize>(&mut self, keys: [K; N]) -> Option<[&mut T; N]> {
        // SAFETY: the lookup was taken under the borrow this guard holds.
        let objects = unsafe { self.lookup.find_disjoint(keys.map(|key| key.data())) }?;
        // SAFETY: 1. live objects of this pool, pairwise distinct places
        // (`find_disjoint`), so the references do not overlap; 2. the
        // exclusive borrow this guard holds, and the `&mut self` receiver,
        // make them the only references to the objects while they live.
        Some(objects.map(|object| unsafe { &mut *object.as_ptr() }))
    }

    /// The object of `key`, exclusively, beside a view of every other
    /// object of the pool ([`Others`]): a predator written while its prey
    /// is read. `None` if the key is stale or names no object of this pool.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// struct Unit { hp: i32, target: Option<DefaultKey> }
    ///
    /// let pool = ContiguousUniformPool::new();
    /// let prey = pool.insert(Unit { hp: 10, target: None });
    /// let hunter = pool.insert(Unit { hp: 5, target: Some(prey) });
    /// let mut units = pool.borrow_mut();
    /// let (me, mut others) = units.split_mut(hunter).unwrap();
    /// if let Some(target) = me.target.and_then(|t| others.get_mut(t)) {
    ///     target.hp -= 3;
    ///     me.hp += 1;
    /// }
    /// assert!(others.get(hunter).is_none(), "the lent object");
    /// drop(units);
    /// assert_eq!((pool.get(prey).unwrap().hp, pool.get(hunter).unwrap().hp), (7, 6));
    /// ```
    #[inline]
    pub fn split_mut(&mut self, key: K) -> Option<(&mut T, Others<'_, T, K>)> {
        // SAFETY: the lookup was taken under the borrow this guard holds.
        let position = unsafe { self.lookup.position(key.data()) }?;
        // SAFETY: 1. a live key's position, below the length; 2. the
        // exclusive borrow this guard holds, and the `&mut self` receiver,
        // make this the only reference to the object: the `Others` view,
        // which borrows the guard as long, refuses its position.
        let me = unsafe { &mut *self.lookup.at(position).as_ptr() };
        // SAFETY: the lookup is this guard's; no reference to the object at
        // `position` is made through the view.
        Some((me, unsafe { Others::new(self.lookup, position) }))
    }

    /// Calls `f` on every `(key, object)` in storage order, each object
    /// exclusively beside a view of all the others ([`Others`]), as
    /// [`split_mut`](Self::split_mut) for each object in turn: a system
    /// that reads an object's target while it writes the object, without
    /// collecting the keys first.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// struct Boid { x: f32, leader: Option<DefaultKey> }
    ///
    /// let pool = ContiguousUniformPool::new();
    /// let lead = pool.insert(Boid { x: 10.0, leader: None });
    /// for x in [0.0, 4.0] {
    ///     pool.insert(Boid { x, leader: Some(lead) });
    /// }
    /// // Each follower moves halfway to its leader.
    /// pool.borrow_mut().for_each_with_others(|_, boid, others| {
    ///     if let Some(leader) = boid.leader.and_then(|k| others.get(k)) {
    ///         boid.x += (leader.x - boid.x) / 2.0;
    ///     }
    /// });
    /// let mut xs: Vec<f32> = pool.borrow().values().map(|b| b.x).collect();
    /// xs.sort_by(f32::total_cmp);
    /// assert_eq!(xs, [5.0, 7.0, 10.0]);
    /// ```
    pub fn for_each_with_others(&mut self, mut f: impl FnMut(K, &mut T, &mut Others<'_, T, K>))
    where
        K: Key,
    {
        let lookup = self.lookup;
        let keys: Keys<'_, K> = Keys::new(self.borrow.pool.raw.storage());
        for (position, key) in keys.enumerate() {
            // SAFETY: 1. a stored position (one key per stored object, in
            // storage order), below the length; 2. the exclusive borrow
            // this guard holds, and the `&mut self` receiver, make this the
            // only reference to the object while `f` runs: the view handed
            // beside it refuses its position, and no reference to an object
            // outlives the call (`f` is generic over the view's lifetime).
            // Nothing moves, is added or is dropped while the pool is
            // borrowed, so the keys and positions stay as they were.
            let me = unsafe { &mut *lookup.at(position).as_ptr() };
            // SAFETY: as in `split_mut`.
            let mut others = unsafe { Others::new(lookup, position) };
            f(key, me, &mut others);
        }
    }

    /// Iterates `(key, object)` pairs exclusively, in storage order.
    #[inline]
    pub fn iter_mut(&mut self) -> IterMut<'_, T, K> {
        // SAFETY: the exclusive borrow held by this guard makes the objects
        // reachable only through it, and the `&mut self` receiver makes the
        // returned iterator the only path while it lives.
        unsafe { IterMut::new(self.borrow.pool.raw.storage()) }
    }
}

impl<T, K> PoolRefMut<'_, T, K> {
    /// A read-only view of the objects by key that, unlike the guard,
    /// crosses threads when `T: Sync`, as [`PoolRef::lookup`]'s. It
    /// borrows the guard shared, so while the view lives the guard lends
    /// no object exclusively ([`get_mut`](Self::get_mut),
    /// [`values_mut`](Self::values_mut), [`split_mut`](Self::split_mut)
    /// and the rest take `&mut self`); its shared methods still work.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let pool = ContiguousUniformPool::new();
    /// let keys: Vec<DefaultKey> = (0..4u64).map(|i| pool.insert(i * 10)).collect();
    /// let mut objects = pool.borrow_mut();
    /// *objects.get_mut(keys[0]).unwrap() += 1;
    /// let lookup = objects.lookup();
    /// let sum = std::thread::scope(|s| {
    ///     s.spawn(|| keys.iter().filter_map(|&k| lookup.get(k)).sum::<u64>()).join()
    /// });
    /// assert_eq!(sum.unwrap(), 61);
    /// // Once the view is gone, the guard lends objects exclusively again.
    /// *objects.get_mut(keys[1]).unwrap() += 1;
    /// ```
    #[inline]
    #[must_use]
    pub fn lookup(&self) -> PoolLookup<'_, T, K> {
        // SAFETY: no `unsafe` block here, but the view's reads (through
        // `find_shared`, on any thread) rest on this: the lookup was taken under
        // the exclusive borrow this guard holds until it drops, which the
        // view's borrow of the guard outlasts, so the slot array and the
        // object buffer stay as they are while the view reads them. The
        // view borrows the guard shared for its lifetime `'_`, and this
        // guard makes `&mut T` only through `&mut self` (`get_mut`,
        // `iter_mut`, `values_mut`, `as_mut_slice`, `get_disjoint_mut`,
        // `split_mut`, `for_each_with_others`, `by_proxy_mut`), so none
        // exists while the view or a `&T` from it lives: references made
        // earlier through `&mut self` have ended, and every other path to
        // the objects (proxies, walks, other guards) panics while the pool
        // is exclusively borrowed. The objects are thus only read for
        // `'_`, as under a `PoolRef`'s shared borrow, which is what the
        // view's `Send` and `Sync` impls require.
        PoolLookup::of(self.lookup)
    }

    /// The object of `proxy`, exclusively, for as long as this borrow of
    /// the guard lives.
    ///
    /// # Panics
    ///
    /// When `proxy` belongs to another pool, or its object was removed by
    /// key.
    #[inline]
    #[track_caller]
    pub fn by_proxy_mut(&mut self, proxy: &Proxy<'_, T, K>) -> &mut T {
        // SAFETY: the guard's lookup, taken under the borrow it holds.
        let object = unsafe { proxy.object_in(self.borrow.pool, &self.lookup, "by_proxy_mut") };
        // SAFETY: 1. the object of a live slot of this pool. 2. As in
        // `get_mut`.
        unsafe { &mut *object }
    }

    /// The object of `proxy`, shared, for as long as this borrow of the
    /// guard lives.
    ///
    /// # Panics
    ///
    /// As [`by_proxy_mut`](Self::by_proxy_mut).
    #[inline]
    #[must_use]
    #[track_caller]
    pub fn by_proxy(&self, proxy: &Proxy<'_, T, K>) -> &T {
        // SAFETY: the guard's lookup, taken under the borrow it holds.
        let object = unsafe { proxy.object_in(self.borrow.pool, &self.lookup, "by_proxy") };
        // SAFETY: as in `by_proxy_mut`, shared through `&self`.
        unsafe { &*object }
    }

    /// Iterates the objects exclusively, in storage order, as fast as a
    /// slice.
    #[inline]
    pub fn values_mut(&mut self) -> ValuesMut<'_, T> {
        // SAFETY: as in `iter_mut`.
        unsafe { ValuesMut::new(self.borrow.pool.raw.storage()) }
    }

    /// The objects as one mutable slice, in storage order (see
    /// [`as_slice`](Self::as_slice) for what the order is); `&mut [T]`
    /// moves to other threads when `T: Send`, and splits with the slice
    /// methods (`split_at_mut`, `chunks_mut`).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let pool = ContiguousUniformPool::new();
    /// for i in 0..100u64 {
    ///     pool.insert(i);
    /// }
    /// let mut objects = pool.borrow_mut();
    /// let (front, back) = objects.as_mut_slice().split_at_mut(50);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| front.iter_mut().for_each(|x| *x += 1));
    ///     back.iter_mut().for_each(|x| *x += 1);
    /// });
    /// assert_eq!(objects.values().sum::<u64>(), (1..=100).sum());
    /// ```
    #[inline]
    #[must_use]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        self.values_mut().into_slice()
    }
}

/// What both whole-pool guards offer: shared iteration and the length.
macro_rules! guard_common {
    ($guard:ident) => {
        impl<T, K> $guard<'_, T, K> {
            /// Iterates the objects in storage order, as fast as a slice.
            #[inline]
            pub fn values(&self) -> Values<'_, T> {
                // SAFETY: the borrow held by this guard (shared or
                // exclusive) keeps the objects in place, and the `&self`
                // receiver keeps `&mut` to them away while the iterator,
                // which borrows the guard, lives.
                unsafe { Values::new(self.borrow.pool.raw.storage()) }
            }

            /// Iterates `(key, object)` pairs in storage order. Objects
            /// whose removal is deferred until the borrow ends are still
            /// yielded, with their (stale) keys.
            #[inline]
            pub fn iter(&self) -> Iter<'_, T, K> {
                // SAFETY: as in `values`; the keys do not change while the
                // pool is borrowed.
                unsafe { Iter::new(self.borrow.pool.raw.storage()) }
            }

            /// Iterates the keys in storage order (those of pending
            /// removals included).
            #[inline]
            pub fn keys(&self) -> Keys<'_, K> {
                Keys::new(self.borrow.pool.raw.storage())
            }

            /// The objects as one slice, in storage order: the order of
            /// [`values`](Self::values), and of [`keys`](Self::keys), so
            /// `keys().zip(as_slice())` pairs each object with its key.
            /// That order is unspecified otherwise: it is not insertion
            /// or key order, and removals change it (the last object
            /// moves into each hole). Objects whose removal was deferred
            /// during this borrow are still in it (until the borrow ends).
            ///
            /// `&[T]` crosses threads when `T: Sync`, while the guard
            /// itself cannot: this is how a parallel walk of one pool
            /// reads another's objects.
            ///
            /// ```
            /// use managed::prelude::*;
            ///
            /// let pool = ContiguousUniformPool::new();
            /// for i in 0..100u64 {
            ///     pool.insert(i);
            /// }
            /// let objects = pool.borrow();
            /// let slice = objects.as_slice();
            /// let sum = std::thread::scope(|s| s.spawn(|| slice.iter().sum::<u64>()).join());
            /// assert_eq!(sum.unwrap(), (0..100).sum());
            /// ```
            #[inline]
            #[must_use]
            pub fn as_slice(&self) -> &[T] {
                self.values().into_slice()
            }

            /// Objects in the pool, those whose removal is deferred until
            /// the borrow ends included (they are still iterated).
            #[inline]
            #[must_use]
            pub fn len(&self) -> usize {
                self.borrow.pool.raw.storage().len()
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

/// One object of a pool, shared, from [`ContiguousUniformPool::get`]: it
/// holds a shared borrow of the pool (as a [`PoolRef`] does) and
/// dereferences to the object.
pub struct ObjectRef<'a, T, K = DefaultKey> {
    /// The object: live when the guard was made, in place while it lives.
    object: NonNull<T>,
    /// The shared borrow that keeps it there.
    _borrow: SharedBorrow<'a, T, K>,
}

/// One object of a pool, exclusively, from
/// [`ContiguousUniformPool::get_mut`]: it holds the pool's exclusive
/// borrow (as a [`PoolRefMut`] does) and dereferences mutably to the
/// object.
pub struct ObjectMut<'a, T, K = DefaultKey> {
    /// The object: live when the guard was made, in place and reachable
    /// only through this guard while it lives.
    object: NonNull<T>,
    /// The exclusive borrow that keeps it so (and makes the guard
    /// invariant in `T`).
    _borrow: ExclusiveBorrow<'a, T, K>,
}

impl<'a, T, K: Key> ObjectRef<'a, T, K> {
    /// The object of `key` in `pool`, behind a new shared borrow of the
    /// pool; `None` if the key is stale.
    ///
    /// # Panics
    ///
    /// When the pool is exclusively borrowed.
    #[inline]
    #[track_caller]
    pub(crate) fn find(pool: &'a ContiguousUniformPool<T, K>, key: K) -> Option<Self> {
        // Looked up first (no user code runs before the borrow is taken,
        // so nothing moves), which lets the lookup's loads start earlier.
        let object = pool.raw.find(key.data());
        let borrow = SharedBorrow::acquire(pool, "get");
        // The object of a live key, which the shared borrow the guard takes
        // over keeps in place and free of `&mut` (the field invariant).
        Some(Self {
            object: object?,
            _borrow: borrow,
        })
    }
}

impl<'a, T, K: Key> ObjectMut<'a, T, K> {
    /// The object of `key` in `pool`, behind the pool's exclusive borrow,
    /// taken now; `None` if the key is stale.
    ///
    /// # Panics
    ///
    /// When the pool is already borrowed.
    #[inline]
    #[track_caller]
    pub(crate) fn find(pool: &'a ContiguousUniformPool<T, K>, key: K) -> Option<Self> {
        // Looked up first, as in `ObjectRef::find`.
        let object = pool.raw.find(key.data());
        let borrow = ExclusiveBorrow::acquire(pool, "get_mut");
        // The object of a live key, which the exclusive borrow the guard
        // takes over keeps in place and free of any other reference (the
        // field invariant).
        Some(Self {
            object: object?,
            _borrow: borrow,
        })
    }
}

impl<T, K> Deref for ObjectRef<'_, T, K> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the shared borrow this guard holds keeps the object in
        // place and free of `&mut` (field invariants).
        unsafe { self.object.as_ref() }
    }
}

impl<T, K> Deref for ObjectMut<'_, T, K> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the exclusive borrow this guard holds makes it the only
        // path to the object; `&self` shares it.
        unsafe { self.object.as_ref() }
    }
}

impl<T, K> DerefMut for ObjectMut<'_, T, K> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, exclusively through `&mut self`.
        unsafe { self.object.as_mut() }
    }
}
