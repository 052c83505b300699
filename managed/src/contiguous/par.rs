//! Parallel walks over a pool's objects, on rayon's threads (feature
//! `rayon`).
//!
//! A walk takes the pool's borrow on the calling thread exactly as its
//! sequential counterpart does ([`ContiguousUniformPool::map`] takes the
//! exclusive borrow, [`PoolRef`] / [`PoolRefMut`] hold theirs), and
//! hands the objects, which are one slice, to rayon's slice iterators,
//! which split it among the threads. Why that is sound:
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
//!    closure (which must be `Send + Sync`) can capture none of them. On
//!    the calling thread, code that runs while it waits (rayon may run
//!    other jobs there) meets the borrow like any other code does: a
//!    conflicting borrow panics.
//! 4. Objects cross threads only as `&mut T` (needing `T: Send`) or `&T`
//!    (needing `T: Sync`).

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
    /// To read *another* pool's objects in `f`, borrow that pool and
    /// capture its objects' slice ([`PoolRef::as_slice`], `&[T]`, shared
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
        self.borrow_mut().par_values_mut().for_each(f);
    }
}

impl<T: Send, K> PoolRefMut<'_, T, K> {
    /// The objects, exclusively, as a rayon parallel iterator over their
    /// slice (rayon splits it into pieces, each walked in storage order).
    ///
    /// ```
    /// use managed::prelude::*;
    /// use rayon::prelude::*;
    ///
    /// let pool = ContiguousUniformPool::new();
    /// for i in 0..5_000u64 {
    ///     pool.insert(i);
    /// }
    /// let mut objects = pool.borrow_mut();
    /// objects.par_values_mut().for_each(|x| *x += 1);
    /// let sum: u64 = objects.par_values_mut().map(|x| *x).sum();
    /// assert_eq!(sum, (1..=5_000).sum());
    /// ```
    pub fn par_values_mut(&mut self) -> impl ParallelIterator<Item = &mut T> + '_ {
        // The guard's exclusive borrow keeps the objects in place for the
        // iterator's lifetime, which borrows the guard mutably.
        self.values_mut().into_slice().par_iter_mut()
    }
}

impl<T: Sync, K> PoolRef<'_, T, K> {
    /// The objects, shared, as a rayon parallel iterator over their slice
    /// (rayon splits it into pieces, each walked in storage order).
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
    /// ```
    pub fn par_values(&self) -> impl ParallelIterator<Item = &T> + '_ {
        self.values().into_slice().par_iter()
    }
}
