//! [`OrCompact`]: the region's shared allocations that compact the region
//! when it is full, and retry.

use core::ops::Range;

use super::arena::{Arena, State};
use super::forward::Forward;
use crate::error::{AllocError, AllocValueError};
use crate::visit::Managed;

/// The shared allocations of an [`Arena`] that, when the region is full,
/// compact it in place ([`Arena::compact_in_place`]) and try once more:
/// made by [`Arena::or_compact`], which borrows the arena and its
/// [`State`] for as long as this lives (one call, usually).
///
/// The methods have the names and arguments of the arena's own
/// (`alloc_shared`, `alloc_shared_slice`, `copy_shared`, `resize_shared`,
/// `splice_shared`, `push_shared`, `append_shared`), without the `state`; they fail only when the region is full even once
/// compacted (or a request is larger than any region). A compaction moves
/// every object, so it runs only when the request does not fit at the top
/// and the region has holes to reclaim; the objects stay reachable through
/// their `Forward`s (and tokens made earlier), as after any compaction.
///
/// ```
/// use managed::prelude::*;
///
/// /// A log that owns its region and never runs out while its live
/// /// entries fit.
/// struct Log<'id> {
///     arena: Arena<'id, 0>,
///     state: State<'id>,
///     entries: Vec<Forward<'id, [u8]>>,
/// }
///
/// impl<'id> Log<'id> {
///     fn push(&mut self, text: &[u8]) -> Result<(), AllocError> {
///         let entry = self.arena.or_compact(&mut self.state).alloc_shared_slice(text)?;
///         self.entries.push(entry);
///         if self.entries.len() > 8 {
///             let old = self.entries.remove(0);
///             self.arena.remove_slice(old);
///         }
///         Ok(())
///     }
/// }
///
/// make_guard!(guard);
/// let (arena, state) = Arena::with_capacity(guard, 4096);
/// let mut log = Log { arena, state, entries: Vec::new() };
/// // 64 KiB through a 4 KiB region: full many times, compacted each time.
/// for i in 0..512u32 {
///     log.push(format!("entry {i:>100}").as_bytes())?;
/// }
/// assert_eq!(&log.arena[log.entries[7]][..5], b"entry");
/// # Ok::<(), AllocError>(())
/// ```
#[derive(Debug)]
pub struct OrCompact<'a, 'id, const N: usize> {
    arena: &'a mut Arena<'id, N>,
    state: &'a mut State<'id>,
}

impl<'id, const N: usize> Arena<'id, N> {
    /// The shared allocations that compact the region when it is full
    /// ([`OrCompact`]): `arena.or_compact(&mut state).alloc_shared(value)`.
    /// `&mut self` means no [`Item`](super::Item) is alive, so the region
    /// may move every object.
    #[inline]
    pub fn or_compact<'a>(&'a mut self, state: &'a mut State<'id>) -> OrCompact<'a, 'id, N> {
        OrCompact { arena: self, state }
    }
}

/// Runs `$op` (an expression in `$arena` and `$state`, the arena and its
/// state) and, when it failed on a full region with holes, compacts and
/// runs it once more. A macro rather than a method taking a closure, so
/// that the arena methods' `#[track_caller]` panics still name the
/// caller's line.
macro_rules! retrying {
    ($this:ident, |$arena:ident, $state:ident| $op:expr) => {{
        let result = {
            let ($arena, $state) = (&mut *$this.arena, &*$this.state);
            $op
        };
        match result {
            Err(error) if $this.compact_for(error) => {
                let ($arena, $state) = (&mut *$this.arena, &*$this.state);
                $op
            }
            result => result,
        }
    }};
}

impl<'id, const N: usize> OrCompact<'_, 'id, N> {
    /// Whether a request that failed with `error` may succeed after a
    /// compaction (the region is full, not the request too large, and has
    /// holes): then compacts.
    fn compact_for(&mut self, error: AllocError) -> bool {
        let worth =
            matches!(error, AllocError::Full { .. }) && self.arena.detailed_stats().hole_bytes > 0;
        if worth {
            self.arena.compact_in_place(self.state);
        }
        worth
    }

    /// [`Arena::alloc_shared`], compacting the region when it is full.
    ///
    /// # Errors
    ///
    /// When `value` does not fit even in the compacted region, with the
    /// value.
    pub fn alloc_shared<T: Managed + 'id>(
        &mut self,
        value: T,
    ) -> Result<Forward<'id, T>, AllocValueError<T>> {
        match self.arena.alloc_shared(self.state, value) {
            Err(error) if self.compact_for(error.error()) => {
                self.arena.alloc_shared(self.state, error.into_value())
            }
            result => result,
        }
    }

    /// [`Arena::alloc_shared_slice`], compacting the region when it is
    /// full.
    ///
    /// # Errors
    ///
    /// When the slice does not fit even in the compacted region.
    pub fn alloc_shared_slice<T: Copy + 'id>(
        &mut self,
        src: &[T],
    ) -> Result<Forward<'id, [T]>, AllocError> {
        retrying!(self, |arena, state| arena.alloc_shared_slice(state, src))
    }

    /// [`Arena::copy_shared`], compacting the region when it is full (the
    /// copy is taken from where the slice is after the compaction).
    ///
    /// # Errors
    ///
    /// When the copy does not fit even in the compacted region.
    ///
    /// # Panics
    ///
    /// If the slice was removed, or `range` is out of its bounds (at the
    /// caller's line).
    #[track_caller]
    pub fn copy_shared<T: Copy + 'id>(
        &mut self,
        forward: Forward<'id, [T]>,
        range: Range<usize>,
    ) -> Result<Forward<'id, [T]>, AllocError> {
        retrying!(self, |arena, state| arena.copy_shared(
            state,
            forward,
            range.clone()
        ))
    }

    /// [`Arena::resize_shared`], compacting the region when the slice
    /// must move and the region is full.
    ///
    /// # Errors
    ///
    /// When the slice does not fit even in the compacted region: then
    /// nothing changed.
    ///
    /// # Panics
    ///
    /// If the slice was removed (at the caller's line).
    #[track_caller]
    pub fn resize_shared<T: Copy>(
        &mut self,
        forward: Forward<'id, [T]>,
        new_len: usize,
        value: T,
    ) -> Result<(), AllocError> {
        retrying!(self, |arena, state| arena
            .resize_shared(state, forward, new_len, value))
    }

    /// [`Arena::splice_shared`], compacting the region when the slice
    /// must move and the region is full.
    ///
    /// # Errors
    ///
    /// As [`resize_shared`](Self::resize_shared).
    ///
    /// # Panics
    ///
    /// If the slice was removed, or `range` is out of its bounds (at the
    /// caller's line).
    #[track_caller]
    pub fn splice_shared<T: Copy>(
        &mut self,
        forward: Forward<'id, [T]>,
        range: Range<usize>,
        replacement: &[T],
    ) -> Result<(), AllocError> {
        retrying!(self, |arena, state| {
            arena.splice_shared(state, forward, range.clone(), replacement)
        })
    }

    /// [`Arena::append_shared`], compacting the region when `dst` must
    /// move and the region is full.
    ///
    /// # Errors
    ///
    /// As [`resize_shared`](Self::resize_shared).
    ///
    /// # Panics
    ///
    /// If either slice was removed (at the caller's line).
    #[track_caller]
    pub fn append_shared<T: Copy>(
        &mut self,
        dst: Forward<'id, [T]>,
        src: Forward<'id, [T]>,
    ) -> Result<(), AllocError> {
        retrying!(self, |arena, state| arena.append_shared(state, dst, src))
    }

    /// [`Arena::push_shared`], compacting the region when the slice must
    /// move and the region is full.
    ///
    /// # Errors
    ///
    /// As [`resize_shared`](Self::resize_shared).
    ///
    /// # Panics
    ///
    /// If the slice was removed (at the caller's line).
    #[track_caller]
    pub fn push_shared<T: Copy>(
        &mut self,
        forward: Forward<'id, [T]>,
        value: T,
    ) -> Result<(), AllocError> {
        let len = self.arena[forward].len();
        self.resize_shared(forward, len + 1, value)
    }
}
