//! Parallel iteration over a [`UniformPageDeque`] and a [`UniformPool`] on
//! rayon's threads (feature `rayon`).
//!
//! The containers' elements never move and their pages are natural pieces
//! of work. A deque's parallel walk collects one slice per page (the same
//! runs the sequential `fold` walks) and hands them to rayon. A pool's
//! pages hold holes, so a walk collects one run per live page instead: a
//! cursor over that page's entries that yields the occupied ones with
//! their keys (the keys and order of `iter`, page by page), made from the
//! pool's `iter` / `iter_mut` (`raw::pool`, where its argument is written
//! out). Why both are sound:
//!
//! 1. The slices and runs come from `&self` / `&mut self`, so the borrow
//!    checker keeps the container unchanged for the walk's lifetime, and
//!    rayon returns only after every piece has finished (also when one
//!    panics: the panic reaches the caller after the others are done).
//! 2. They lie on different pages (or different parts of one page), and a
//!    pool's run reads nothing but its own page, so the `&mut T`s
//!    different threads get never overlap.
//! 3. Elements cross threads as `&T` (`T: Sync`) or `&mut T` (`T: Send`)
//!    only; keys are plain `Copy` values. Headers `H` stay on the calling
//!    thread (no walk reads them), so the walks ask nothing of `H`, and
//!    the containers' own `Send` / `Sync` are untouched.

use rayon::prelude::*;

use super::{PoolKey, UniformPageDeque, UniformPool};

impl<T: Sync, H> UniformPageDeque<T, H> {
    /// The elements, shared, as a rayon parallel iterator; each page's
    /// elements are one piece of work, walked front to back.
    ///
    /// ```
    /// use managed::prelude::*;
    /// use rayon::prelude::*;
    ///
    /// let deque: UniformPageDeque<u64> = (0..10_000).collect();
    /// let total: u64 = deque.par_iter().sum();
    /// assert_eq!(total, (0..10_000).sum());
    /// ```
    pub fn par_iter(&self) -> impl ParallelIterator<Item = &T> + '_ {
        self.iter()
            .into_runs()
            .into_par_iter()
            .flat_map_iter(|run| run)
    }
}

impl<T: Send, H> UniformPageDeque<T, H> {
    /// The elements, exclusively, as a rayon parallel iterator; each page's
    /// elements are one piece of work, walked front to back.
    ///
    /// ```
    /// use managed::prelude::*;
    /// use rayon::prelude::*;
    ///
    /// let mut deque: UniformPageDeque<u64> = (0..10_000).collect();
    /// deque.par_iter_mut().for_each(|x| *x *= 2);
    /// assert_eq!(deque.get(4_999), Some(&9_998));
    /// ```
    pub fn par_iter_mut(&mut self) -> impl ParallelIterator<Item = &mut T> + '_ {
        self.iter_mut()
            .into_runs()
            .into_par_iter()
            .flat_map_iter(|run| run)
    }

    /// Runs `f` on every element on rayon's threads, with exclusive
    /// access: `self.par_iter_mut().for_each(f)`, under the same name as
    /// the contiguous pool's
    /// [`par_map`](crate::contiguous::ContiguousUniformPool::par_map).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut deque: UniformPageDeque<u64> = (0..10_000).collect();
    /// deque.par_map(|x| *x += 1);
    /// assert_eq!(deque.front(), Some(&1));
    /// ```
    pub fn par_map<F: Fn(&mut T) + Sync + Send>(&mut self, f: F) {
        self.par_iter_mut().for_each(f);
    }
}

impl<T: Sync, H> UniformPool<T, H> {
    /// `(key, &value)` pairs as a rayon parallel iterator: the pairs of
    /// [`iter`](Self::iter), with the same keys; each live page is one
    /// piece of work, walked in entry order, its holes skipped.
    ///
    /// Not indexed (the pages' holes make the pieces' lengths unknown
    /// until they are walked), but rayon's `collect` keeps the order of
    /// `iter`.
    ///
    /// ```
    /// use managed::prelude::*;
    /// use rayon::prelude::*;
    ///
    /// let mut pool = UniformPool::new();
    /// let keys: Vec<_> = (0..10_000u64).map(|i| pool.insert(i)).collect();
    /// for k in keys.iter().step_by(3) {
    ///     pool.remove(*k);
    /// }
    /// let big = pool.par_iter().find_any(|(_, x)| **x == 9_998).map(|(key, _)| key);
    /// assert_eq!(big, Some(keys[9_998]));
    /// let pairs: Vec<_> = pool.par_iter().collect();
    /// assert_eq!(pairs, pool.iter().collect::<Vec<_>>(), "in the order of `iter`");
    /// ```
    pub fn par_iter(&self) -> impl ParallelIterator<Item = (PoolKey, &T)> + '_ {
        self.iter()
            .into_runs()
            .into_par_iter()
            .flat_map_iter(|run| run)
    }

    /// The values, shared, as a rayon parallel iterator: those of
    /// [`values`](Self::values), one live page per piece of work (see
    /// [`par_iter`](Self::par_iter)).
    ///
    /// ```
    /// use managed::prelude::*;
    /// use rayon::prelude::*;
    ///
    /// let mut pool = UniformPool::new();
    /// let keys: Vec<_> = (0..10_000u64).map(|i| pool.insert(i)).collect();
    /// pool.remove(keys[17]);
    /// let total: u64 = pool.par_values().sum();
    /// assert_eq!(total, (0..10_000).sum::<u64>() - 17);
    /// ```
    pub fn par_values(&self) -> impl ParallelIterator<Item = &T> + '_ {
        self.par_iter().map(|(_, value)| value)
    }
}

impl<T: Send, H> UniformPool<T, H> {
    /// `(key, &mut value)` pairs as a rayon parallel iterator: the pairs
    /// of [`iter_mut`](Self::iter_mut), with the same keys; each live page
    /// is one piece of work, walked in entry order, its holes skipped. No
    /// two threads ever reach the same value.
    ///
    /// ```
    /// use managed::prelude::*;
    /// use rayon::prelude::*;
    ///
    /// let mut pool = UniformPool::new();
    /// let keys: Vec<_> = (0..10_000u64).map(|i| pool.insert(i)).collect();
    /// pool.remove(keys[0]);
    /// let doubled: Vec<PoolKey> = pool
    ///     .par_iter_mut()
    ///     .map(|(key, x)| {
    ///         *x *= 2;
    ///         key
    ///     })
    ///     .collect();
    /// assert_eq!(doubled, pool.keys().collect::<Vec<_>>());
    /// assert_eq!(pool[keys[4_999]], 9_998);
    /// ```
    pub fn par_iter_mut(&mut self) -> impl ParallelIterator<Item = (PoolKey, &mut T)> + '_ {
        self.iter_mut()
            .into_runs()
            .into_par_iter()
            .flat_map_iter(|run| run)
    }

    /// The values, exclusively, as a rayon parallel iterator: those of
    /// [`values_mut`](Self::values_mut), one live page per piece of work
    /// (see [`par_iter_mut`](Self::par_iter_mut)).
    ///
    /// ```
    /// use managed::prelude::*;
    /// use rayon::prelude::*;
    ///
    /// let mut pool = UniformPool::new();
    /// let keys: Vec<_> = (0..10_000u64).map(|i| pool.insert(i)).collect();
    /// pool.par_values_mut().for_each(|x| *x += 1);
    /// assert_eq!(pool[keys[41]], 42);
    /// ```
    pub fn par_values_mut(&mut self) -> impl ParallelIterator<Item = &mut T> + '_ {
        self.par_iter_mut().map(|(_, value)| value)
    }

    /// Runs `f` on every value on rayon's threads, with exclusive access:
    /// `self.par_values_mut().for_each(f)`, under the same name as the
    /// deque's [`par_map`](UniformPageDeque::par_map) and the contiguous
    /// pool's
    /// [`par_map`](crate::contiguous::ContiguousUniformPool::par_map).
    ///
    /// The pool is exclusively borrowed for the whole walk: `f` sees the
    /// values present when it starts, and keys stay valid. If `f` panics,
    /// the panic reaches the caller once the other threads are done, with
    /// every value still in the pool.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut pool = UniformPool::new();
    /// let keys: Vec<_> = (0..10_000u64).map(|i| pool.insert(i)).collect();
    /// pool.remove(keys[2]);
    /// pool.par_map(|x| *x = *x * *x);
    /// assert_eq!(pool[keys[300]], 90_000);
    /// assert_eq!(pool.get(keys[2]), None);
    /// ```
    pub fn par_map<F: Fn(&mut T) + Sync + Send>(&mut self, f: F) {
        self.par_values_mut().for_each(f);
    }
}

#[cfg(test)]
mod tests {
    //! The pool's page runs on plain scoped threads, without rayon: Miri
    //! checks the runs under Stacked Borrows here, which the suite
    //! `tests/all/par.rs` cannot be (rayon's crossbeam-epoch breaks the
    //! Stacked Borrows rules, so that suite runs under Tree Borrows only).
    use crate::page::PageSize;
    use crate::uniform::UniformPool;

    #[test]
    fn pool_page_runs_on_several_threads_meet_each_value_once() {
        let mut pool: UniformPool<(u32, u32)> =
            UniformPool::with_page_size(PageSize::new(128).unwrap());
        let n: u32 = if cfg!(miri) { 60 } else { 2_000 };
        let keys: Vec<_> = (0..n).map(|i| pool.insert((i, 0u32))).collect();
        for k in keys.iter().skip(1).step_by(3) {
            pool.remove(*k);
        }
        let expected: Vec<_> = pool.iter().map(|(k, v)| (k, *v)).collect();
        // Every other run on a second thread, its `&mut`s alive there
        // while this thread's are: the runs' values never overlap.
        let runs = pool.iter_mut().into_runs();
        assert!(runs.len() > 4, "several pages");
        let (mine, theirs): (Vec<_>, Vec<_>) =
            runs.into_iter().enumerate().partition(|(i, _)| i % 2 == 0);
        let (mut held, mut sent) = (Vec::new(), Vec::new());
        std::thread::scope(|s| {
            let other = s.spawn(|| {
                let mut values: Vec<_> = theirs.into_iter().flat_map(|(_, run)| run).collect();
                for (_, (_, visits)) in &mut values {
                    *visits += 1;
                }
                values
            });
            held.extend(mine.into_iter().flat_map(|(_, run)| run));
            for (_, (_, visits)) in &mut held {
                *visits += 1;
            }
            sent = other.join().unwrap();
        });
        let mut walked: Vec<_> = held.into_iter().chain(sent).map(|(k, v)| (k, *v)).collect();
        walked.sort_by_key(|(_, (id, _))| *id);
        let bumped: Vec<_> = expected.iter().map(|&(k, (id, _))| (k, (id, 1))).collect();
        assert_eq!(walked, bumped, "each value once, with its key");
        // Shared runs, read on two threads at once.
        let mut runs = pool.iter().into_runs();
        let second = runs.split_off(runs.len() / 2);
        let total: u32 = std::thread::scope(|s| {
            let other = s.spawn(|| second.into_iter().flatten().map(|(_, v)| v.1).sum::<u32>());
            runs.into_iter().flatten().map(|(_, v)| v.1).sum::<u32>() + other.join().unwrap()
        });
        assert_eq!(total as usize, pool.len());
    }
}
