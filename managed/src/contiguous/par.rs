//! Parallel walks over a pool's objects, on rayon's threads (feature
//! `rayon`).
//!
//! A walk takes the pool's borrow on the calling thread exactly as its
//! sequential counterpart does ([`ContiguousUniformPool::map`] takes the
//! exclusive borrow, [`PoolRef`] / [`PoolRefMut`] hold theirs), and
//! hands the objects, which are one slice, to rayon's slice iterators,
//! which split it among the threads (indexed iterators, as a slice's
//! are); the keyed walks zip it with the slice of the objects' keys, which
//! the pool stores beside them in the same order. Why that is sound:
//!
//! 1. While the borrow is held nothing moves, is dropped or is added (the
//!    pool's `RefCell` rule), so every slice stays valid until the walk
//!    returns, and rayon returns only after every task has finished (also
//!    when one panics: the panic is carried to the caller after the others
//!    are done, and the guard then ends the borrow).
//! 2. Rayon splits the slice into disjoint parts, so the `&mut T`s handed
//!    to different threads never overlap.
//! 3. Nothing on another thread can reach the pool: the pool is not
//!    `Sync` and proxies and guards are neither `Send` nor `Sync`, so the
//!    closure (which must be `Send + Sync`) can capture none of them (a
//!    [`PoolLookup`](super::PoolLookup) of another pool crosses, but
//!    only reads that pool, whose objects its guard keeps in place). On
//!    the calling thread, code that runs while it waits (rayon may run
//!    other jobs there) meets the borrow like any other code does: a
//!    conflicting borrow panics.
//! 4. Objects cross threads only as `&mut T` (needing `T: Send`) or `&T`
//!    (needing `T: Sync`). The keys' slice is only read, and nothing
//!    writes it while the pool is borrowed (only adding an object, refused
//!    then, and moving one, which waits for the borrow to end, change the
//!    stored keys); keys cross as `K` values (needing `K: Send`).

use rayon::prelude::*;
use slotmap::Key;

use super::{ContiguousUniformPool, PoolRef, PoolRefMut};

impl<T: Send, K: Key> ContiguousUniformPool<T, K> {
    /// [`map`](Self::map) on rayon's threads: runs `f` on every object,
    /// with exclusive access, the objects' slice split among the threads
    /// as rayon's `par_iter_mut` splits a slice.
    ///
    /// The pool is exclusively borrowed for the whole walk, so `f` sees
    /// the objects present when it starts; `f` cannot reach the pool or
    /// its proxies at all (they cannot be shared between threads). If `f`
    /// panics, the walk stops as soon as rayon can stop it, and the panic
    /// reaches the caller once the other threads are done, with the pool
    /// consistent.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let pool = ContiguousUniformPool::new();
    /// let keys: Vec<_> = (0..10_000u64).map(|i| pool.insert(i)).collect();
    /// pool.par_map(|x| *x = *x * *x);
    /// assert_eq!(pool.get(keys[300]).map(|x| *x), Some(90_000));
    /// ```
    ///
    /// To find *another* pool's objects by key in `f`, borrow that pool
    /// and capture the guard's [`lookup`](PoolRef::lookup) view (shared
    /// across threads when `T: Sync`). To read them in order, capture its
    /// objects' slice ([`PoolRef::as_slice`], `&[T]`, shared
    /// across threads when `T: Sync`): the guard itself is not `Sync`
    /// (its pool's borrow count is a `Cell`), so a closure that captures
    /// it does not compile. The slice is in storage order, which is not
    /// key order: to find an object in it, take its index on the calling
    /// thread first (the position of its key in [`PoolRef::keys`]), or
    /// keep what `f` needs in one order of your own.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// struct Particle { x: f32, v: f32, cell: usize }
    ///
    /// let field = ContiguousUniformPool::new();
    /// for i in 0..8 {
    ///     field.insert(i as f32 * 0.5); // the force in cell `i`
    /// }
    /// let particles = ContiguousUniformPool::new();
    /// for i in 0..1_000 {
    ///     particles.insert(Particle { x: 0.0, v: 0.0, cell: i % 8 });
    /// }
    /// let forces = field.borrow();
    /// let forces: &[f32] = forces.as_slice();
    /// particles.par_map(|p| {
    ///     p.v += forces[p.cell];
    ///     p.x += p.v;
    /// });
    /// assert!(particles.borrow().values().all(|p| p.x == forces[p.cell]));
    /// ```
    ///
    /// # Panics
    ///
    /// When the pool is already borrowed.
    #[track_caller]
    pub fn par_map<F: Fn(&mut T) + Sync + Send>(&self, f: F) {
        PoolRefMut::acquire(self, "par_map")
            .par_values_mut()
            .for_each(f);
    }
}

impl<T: Send, K: Key + Send> ContiguousUniformPool<T, K> {
    /// Keeps only the objects for which `f(key, object)` returns `true`,
    /// deciding on rayon's threads: the sequential
    /// [`retain`](Self::retain) for a sweep whose test is expensive (an
    /// expiry check, a simulation's death rule). `f` runs on every object
    /// in parallel under the pool's exclusive borrow; the objects it
    /// refuses are then removed as [`remove_deferred`](Self::remove_deferred)
    /// removes them, when the borrow ends (the last objects move into
    /// their places). Returns how many objects it removed (the result may
    /// be ignored).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let pool = ContiguousUniformPool::new();
    /// let keys: Vec<_> = (0..10_000u64).map(|i| pool.insert(i)).collect();
    /// let removed = pool.par_retain(|_key, x| {
    ///     *x += 1; // the test may change the object
    ///     *x % 3 != 0
    /// });
    /// assert_eq!((removed, pool.len()), (3_333, 6_667));
    /// assert!(pool.get(keys[2]).is_none()); // 2 + 1 is a multiple of 3
    /// assert_eq!(*pool.get(keys[3]).unwrap(), 4);
    /// ```
    ///
    /// # Panics
    ///
    /// When the pool is already borrowed, as [`map`](Self::map); if `f`
    /// panics (after the other tasks finish; nothing is removed then).
    #[track_caller]
    pub fn par_retain<F: Fn(K, &mut T) -> bool + Sync + Send>(&self, f: F) -> usize {
        let mut objects = PoolRefMut::acquire(self, "par_retain");
        let refused = objects.par_keys_where(|key, object| !f(key, object));
        // Under the guard's borrow: each removal begins now and is carried
        // out when the guard drops, below. An object whose removal had
        // begun before (left pending by a panicking destructor) is not
        // counted again.
        let removed = refused
            .into_iter()
            .filter(|&key| self.remove_deferred(key))
            .count();
        drop(objects);
        removed
    }

    /// Takes out the objects for which `f(key, object)` returns `true`,
    /// deciding on rayon's threads, and returns them with their keys, in
    /// storage order: [`par_retain`](Self::par_retain) for a program that
    /// needs what it removes (to forget the objects in its own indexes, to
    /// report them, to recycle them). `f` runs on every object in parallel
    /// under the pool's exclusive borrow and may change it; the objects it
    /// picks are then removed as [`remove`](Self::remove) removes them
    /// (the last objects move into their places), and their keys stop
    /// working.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use managed::prelude::*;
    ///
    /// struct Agent { name: String, energy: i32 }
    ///
    /// let agents = ContiguousUniformPool::new();
    /// let mut by_name = HashMap::new();
    /// for i in 0..1_000 {
    ///     let name = format!("agent {i}");
    ///     let key = agents.insert(Agent { name: name.clone(), energy: i % 10 });
    ///     by_name.insert(name, key);
    /// }
    /// // Every agent spends energy; the starved leave, and their names too.
    /// let starved = agents.par_extract_if(|_key, agent| {
    ///     agent.energy -= 3;
    ///     agent.energy < 0
    /// });
    /// for (key, agent) in &starved {
    ///     assert_eq!(by_name.remove(&agent.name), Some(*key));
    ///     assert!(!agents.contains(*key));
    /// }
    /// assert_eq!((starved.len(), agents.len(), by_name.len()), (300, 700, 700));
    /// ```
    /// # Panics
    /// When the pool is already borrowed, as [`map`](Self::map); if `f`
    /// panics (after the other tasks finish; nothing is removed then).
    #[track_caller]
    pub fn par_extract_if<F: Fn(K, &mut T) -> bool + Sync + Send>(
        &self,
        f: F,
    ) -> alloc::vec::Vec<(K, T)> {
        let mut objects = PoolRefMut::acquire(self, "par_extract_if");
        let picked = objects.par_keys_where(f);
        drop(objects);
        // Under no borrow now, and this thread is the only one that can
        // reach the pool (it is not `Sync`). An object whose removal had
        // begun before (left pending by a panicking destructor) has a
        // stale key, which `remove` refuses.
        picked
            .into_iter()
            .filter_map(|key| self.remove(key).map(|object| (key, object)))
            .collect()
    }
}

impl<T: Send, K> PoolRefMut<'_, T, K> {
    /// The objects, exclusively, as a rayon parallel iterator over their
    /// slice (rayon splits it into pieces, each walked in storage order).
    ///
    /// It is indexed, as a slice's `par_iter_mut` is: it `zip`s,
    /// `enumerate`s (positions in storage order, as in
    /// [`as_mut_slice`](Self::as_mut_slice)), takes `with_min_len`, and
    /// `collect`s in order.
    ///
    /// ```
    /// use managed::prelude::*;
    /// use rayon::prelude::*;
    ///
    /// let pool = ContiguousUniformPool::new();
    /// let velocities = ContiguousUniformPool::new();
    /// for i in 0..5_000u64 {
    ///     pool.insert(i);
    ///     velocities.insert(2 * i);
    /// }
    /// let mut objects = pool.borrow_mut();
    /// objects.par_values_mut().for_each(|x| *x += 1);
    /// let sum: u64 = objects.par_values_mut().map(|x| *x).sum();
    /// assert_eq!(sum, (1..=5_000).sum());
    /// // Two pools filled in step: the same storage order.
    /// let v = velocities.borrow();
    /// objects
    ///     .par_values_mut()
    ///     .zip(v.par_values())
    ///     .with_min_len(256)
    ///     .for_each(|(x, v)| *x += v);
    /// assert_eq!(objects.values().last(), Some(&(5_000 + 9_998)));
    /// ```
    pub fn par_values_mut(&mut self) -> impl IndexedParallelIterator<Item = &mut T> + '_ {
        // The guard's exclusive borrow keeps the objects in place for the
        // iterator's lifetime, which borrows the guard mutably.
        self.values_mut().into_slice().par_iter_mut()
    }
}

impl<T: Send, K: Key + Send> PoolRefMut<'_, T, K> {
    /// `(key, object)` pairs, the objects exclusively, as a rayon indexed
    /// parallel iterator: the objects' slice zipped with the slice of
    /// their keys, which the pool stores beside them in the same order
    /// (the order of [`iter_mut`](Self::iter_mut)). Objects whose removal
    /// was deferred during this borrow are yielded too, with their (stale)
    /// keys, as by `iter_mut`.
    ///
    /// ```
    /// use managed::prelude::*;
    /// use rayon::prelude::*;
    ///
    /// let pool = ContiguousUniformPool::new();
    /// let keys: Vec<_> = (0..5_000u64).map(|i| pool.insert(i)).collect();
    /// let mut objects = pool.borrow_mut();
    /// let found: Vec<_> = objects
    ///     .par_iter_mut()
    ///     .map(|(key, x)| {
    ///         *x *= 2;
    ///         key
    ///     })
    ///     .collect();
    /// assert_eq!(found, objects.keys().collect::<Vec<_>>(), "in storage order");
    /// assert_eq!(objects.get(keys[7]), Some(&14));
    /// ```
    pub fn par_iter_mut(&mut self) -> impl IndexedParallelIterator<Item = (K, &mut T)> + '_ {
        let (keys, objects) = self.iter_mut().into_slices();
        keys.par_iter()
            .zip(objects.par_iter_mut())
            .map(|(&key, object)| (K::from(key), object))
    }
}

impl<T: Send, K: Key + Send> PoolRefMut<'_, T, K> {
    /// The keys of the objects for which `f(key, object)` returns `true`,
    /// in storage order, deciding on rayon's threads (`f` may change the
    /// objects): what [`ContiguousUniformPool::par_retain`] and
    /// [`par_extract_if`](ContiguousUniformPool::par_extract_if) remove.
    fn par_keys_where(
        &mut self,
        f: impl Fn(K, &mut T) -> bool + Sync + Send,
    ) -> alloc::vec::Vec<K> {
        self.par_iter_mut()
            .filter_map(|(key, object)| f(key, object).then_some(key))
            .collect()
    }
}

impl<T: Sync, K> PoolRef<'_, T, K> {
    /// The objects, shared, as a rayon parallel iterator over their slice
    /// (rayon splits it into pieces, each walked in storage order);
    /// indexed, as [`PoolRefMut::par_values_mut`] is.
    ///
    /// ```
    /// use managed::prelude::*;
    /// use rayon::prelude::*;
    ///
    /// let pool = ContiguousUniformPool::new();
    /// for i in 0..5_000u64 {
    ///     pool.insert(i);
    /// }
    /// let total: u64 = pool.borrow().par_values().sum();
    /// assert_eq!(total, (0..5_000).sum());
    /// let firsts: Vec<u64> = pool.borrow().par_values().step_by(1_000).copied().collect();
    /// assert_eq!(firsts, [0, 1_000, 2_000, 3_000, 4_000]);
    /// ```
    pub fn par_values(&self) -> impl IndexedParallelIterator<Item = &T> + '_ {
        self.values().into_slice().par_iter()
    }
}

impl<T: Sync, K: Key + Send> PoolRef<'_, T, K> {
    /// `(key, object)` pairs, shared, as a rayon indexed parallel
    /// iterator, in the order of [`iter`](Self::iter) (see
    /// [`PoolRefMut::par_iter_mut`]).
    ///
    /// ```
    /// use managed::prelude::*;
    /// use rayon::prelude::*;
    ///
    /// let pool = ContiguousUniformPool::new();
    /// let keys: Vec<_> = (0..1_000u64).map(|i| pool.insert(i)).collect();
    /// let objects = pool.borrow();
    /// let big = objects.par_iter().find_any(|(_, x)| **x == 999).map(|(key, _)| key);
    /// assert_eq!(big, Some(keys[999]));
    /// ```
    pub fn par_iter(&self) -> impl IndexedParallelIterator<Item = (K, &T)> + '_ {
        let (keys, objects) = self.iter().into_slices();
        keys.par_iter()
            .zip(objects.par_iter())
            .map(|(&key, object)| (K::from(key), object))
    }
}
