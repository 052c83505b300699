//! Parallel iteration over a [`UniformPageDeque`] on rayon's threads
//! (feature `rayon`).
//!
//! The deque's elements never move and its pages are natural pieces of
//! work: a parallel walk collects one slice per page (the same runs the
//! sequential `fold` walks) and hands them to rayon. The slices come from
//! `&self` / `&mut self`, so the borrow checker keeps the deque unchanged
//! for the walk's lifetime; they lie on different pages (or different
//! parts of one page), so the `&mut T`s different threads get never
//! overlap; elements cross threads as `&T` (`T: Sync`) or `&mut T`
//! (`T: Send`) only.

use rayon::prelude::*;

use super::UniformPageDeque;

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
