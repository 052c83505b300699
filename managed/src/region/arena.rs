//! [`Arena`], its allocation [`State`] and compaction phase [`Compacting`].

use alloc::boxed::Box;
use core::fmt;
use core::marker::PhantomData;
use core::ops::{Index, IndexMut};

use generativity::{Guard, Id};

use crate::error::{AllocError, AllocValueError};
use crate::stats::SpaceStats;
use crate::visit::Managed;

use super::forward::{Forward, Shared};
use super::item::Item;
use super::raw::{GRANULE, RawRegion};
use super::token::{Rebrand, Token};

/// A compacting region of `N` bytes on the heap, branded with the unique
/// lifetime `'id` of a [`make_guard!`](crate::make_guard) guard.
///
/// Values of any `Sized` type (and slices of `Copy` elements) are bump
/// allocated in address order, without headers, in 8-byte granules;
/// dropping their [`Item`] marks its granules dead in a side bitmap.
/// [`compact`](Self::compact) slides every live object down in one
/// address-ordered pass, so that all the free space is one block at the
/// end. See the [module docs](super) for the two-phase protocol that
/// makes this safe.
///
/// `N` is the capacity of [`new`](Self::new); [`with_capacity`](Self::with_capacity)
/// picks the capacity at run time instead (any `N`, conventionally 0).
pub struct Arena<'id, const N: usize> {
    /// The region memory, its bitmap, cells and side tables (its pointer
    /// machinery is `raw::arena`'s).
    pub(in crate::region) raw: RawRegion,
    /// Compactions run so far (for [`RegionStats::compactions`]).
    pub(in crate::region) compactions: u64,
    /// The brand; also makes the arena neither `Send` nor `Sync`.
    _brand: PhantomData<(Id<'id>, *mut ())>,
}

/// The allocation state of an [`Arena`]: allocating needs a borrow of it,
/// and [`Arena::compact`] consumes it, so every [`Item`] it allocated is
/// dead (dropped or tokenized) before objects move.
pub struct State<'id> {
    _brand: PhantomData<Id<'id>>,
}

/// The compaction phase of an [`Arena`], between [`Arena::compact`] and
/// [`Arena::finish`]; branded with the compaction guard's lifetime `'g` so
/// that `finish` must consume that same guard.
pub struct Compacting<'id, 'g> {
    _brand: PhantomData<(Id<'id>, Id<'g>)>,
}

/// Detailed space figures of an [`Arena`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RegionStats {
    /// Bytes of the region.
    pub capacity: usize,
    /// Live objects of non-zero size (zero-sized values take no space).
    pub live_objects: usize,
    /// Bytes of live objects, each rounded up to the 8-byte granule.
    pub live_bytes: usize,
    /// Bytes compaction moves: the same as `live_bytes` (objects carry no
    /// header; kept for the figures' continuity).
    pub live_block_bytes: usize,
    /// Bytes of dropped objects below the top (reclaimed by compaction).
    pub hole_bytes: usize,
    /// Bytes of alignment padding before over-aligned values (compaction
    /// keeps only what alignment requires).
    pub padding_bytes: usize,
    /// Free bytes after the last object, available to allocation.
    pub tail_bytes: usize,
    /// Compactions run so far (by [`Arena::compact`],
    /// [`Arena::compact_in_place`] or [`Arena::or_compact`]'s methods).
    pub compactions: u64,
}

impl RegionStats {
    /// All free bytes (holes and tail).
    pub fn free_bytes(&self) -> usize {
        self.hole_bytes + self.tail_bytes
    }

    /// The fraction of free space that is not in the tail block, in
    /// `0.0..=1.0` (0 right after compaction).
    ///
    /// It says how the free space is split, not how much of the region is
    /// wasted: with a large tail it stays low however many holes there
    /// are. To decide when to compact, compare the holes with what the
    /// program needs: compact when an allocation fails with
    /// [`AllocError`] (then retry), or when `hole_bytes` passes a share of
    /// the capacity the program can afford to leave idle (say a quarter),
    /// which bounds the copying to a fixed share of what was freed.
    pub fn fragmentation(&self) -> f64 {
        let free = self.free_bytes();
        if free == 0 {
            0.0
        } else {
            self.hole_bytes as f64 / free as f64
        }
    }
}

impl fmt::Display for RegionStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} objects, {} live bytes, {} in holes, {} of padding, \
             {} free at the end ({:.1}% of the free bytes in holes)",
            self.live_objects,
            self.live_bytes,
            self.hole_bytes,
            self.padding_bytes,
            self.tail_bytes,
            self.fragmentation() * 100.0
        )
    }
}

impl<'id, const N: usize> Arena<'id, N> {
    /// A new arena of `N` bytes (rounded down to a multiple of 8) on the
    /// heap, and its allocation state.
    ///
    /// Aborts through [`alloc::alloc::handle_alloc_error`] if the memory cannot
    /// be obtained; see [`try_with_capacity`](Self::try_with_capacity).
    #[track_caller]
    pub fn new(guard: Guard<'id>) -> (Self, State<'id>) {
        Self::with_capacity(guard, N)
    }

    /// A new arena of `bytes` bytes (rounded down to a multiple of 8).
    #[track_caller]
    pub fn with_capacity(guard: Guard<'id>, bytes: usize) -> (Self, State<'id>) {
        match RawRegion::new(bytes, true) {
            Ok(raw) => Self::from_raw(guard, raw),
            Err(e) => panic!("cannot create a region of {bytes} bytes: {e}"),
        }
    }

    /// A new arena of `bytes` bytes, or the reason it cannot be made
    /// (`CapacityOverflow` above 16 GiB).
    pub fn try_with_capacity(
        guard: Guard<'id>,
        bytes: usize,
    ) -> Result<(Self, State<'id>), AllocError> {
        Ok(Self::from_raw(guard, RawRegion::new(bytes, false)?))
    }

    /// Allocates `T::default()`.
    ///
    /// # Errors
    ///
    /// [`AllocError::Full`] when it does not fit in the free space at the
    /// end of the region (compact to reclaim holes), or
    /// [`AllocError::CapacityOverflow`] for a value larger than any region.
    #[inline]
    pub fn allocate<'a, T: Managed + Default>(
        &'a self,
        state: &'a State<'id>,
    ) -> Result<Item<'a, T>, AllocError> {
        self.alloc(state, T::default()).map_err(AllocError::from)
    }

    /// Allocates `value`; gives it back with the error when it does not fit.
    ///
    /// # Errors
    ///
    /// As [`allocate`](Self::allocate), with the value
    /// ([`AllocValueError::into_value`]); `?` turns it into the
    /// [`AllocError`] alone.
    #[inline]
    pub fn alloc<'a, T: Managed>(
        &'a self,
        state: &'a State<'id>,
        value: T,
    ) -> Result<Item<'a, T>, AllocValueError<T>> {
        self.emplace(state, value)
    }

    /// Allocates the value `f` returns; `f` runs only once space is
    /// reserved, so nothing is built when it does not fit.
    ///
    /// If `f` panics, the reserved space is left dead.
    ///
    /// # Errors
    ///
    /// As [`allocate`](Self::allocate).
    #[inline]
    pub fn alloc_with<'a, T: Managed>(
        &'a self,
        state: &'a State<'id>,
        f: impl FnOnce() -> T,
    ) -> Result<Item<'a, T>, AllocError> {
        self.emplace_with(state, f)
    }

    /// Allocates a copy of `src`.
    ///
    /// # Errors
    ///
    /// As [`allocate`](Self::allocate).
    #[inline]
    pub fn alloc_slice<'a, T: Copy>(
        &'a self,
        state: &'a State<'id>,
        src: &[T],
    ) -> Result<Item<'a, [T]>, AllocError> {
        self.copy_slice(state, src)
    }

    /// Allocates a slice of `len` copies of `value`, built in place.
    ///
    /// # Errors
    ///
    /// As [`allocate`](Self::allocate); `CapacityOverflow` if the byte size
    /// overflows.
    #[inline]
    pub fn alloc_slice_fill<'a, T: Copy>(
        &'a self,
        state: &'a State<'id>,
        len: usize,
        value: T,
    ) -> Result<Item<'a, [T]>, AllocError> {
        self.fill_slice(state, len, value)
    }

    /// Allocates `value` as an object the arena owns, reached through the
    /// returned [`Forward`].
    ///
    /// `T: 'id` because the arena drops shared objects when it is dropped.
    /// So a shared object holds no [`Item`] (an item borrows the arena for
    /// less than `'id`): objects that shared objects point at are shared
    /// too, reached through `Forward`s. Storing an item in one is refused
    /// with "\`arena\` does not live long enough" at the item's allocation.
    ///
    /// # Errors
    ///
    /// As [`alloc`](Self::alloc).
    pub fn alloc_shared<T: Managed + 'id>(
        &self,
        state: &State<'id>,
        value: T,
    ) -> Result<Forward<'id, T>, AllocValueError<T>> {
        let item = self.alloc(state, value)?;
        Ok(self.share(item))
    }

    /// Hands an item's object over to the arena, to be reached through
    /// [`Forward`]s (copyable references that survive compaction).
    ///
    /// # Panics
    ///
    /// If the item belongs to another arena.
    #[inline]
    #[track_caller]
    #[must_use = "the shared object lives until the arena drops or `remove` removes it: \
                  without its Forward it cannot be reached"]
    pub fn share<T: 'id>(&self, item: Item<'_, T>) -> Forward<'id, T> {
        self.share_item(item)
    }

    /// Copies `src` into a shared slice that the arena owns, reached
    /// through the returned [`Forward`], and that can grow and shrink
    /// ([`resize_shared`](Self::resize_shared)) while every copy of the
    /// `Forward` keeps reaching it: a line of text in an editor, a list of
    /// a node's neighbours. The length and the room it holds are stored
    /// with the elements (two words before them), so the `Forward` stays 8
    /// bytes.
    ///
    /// The elements are `Copy` (nothing to drop), aligned to at most 8
    /// bytes (checked at compile time).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// make_guard!(guard);
    /// let (mut arena, mut state) = Arena::<0>::with_capacity(guard, 4096);
    /// let line = arena.alloc_shared_slice(&state, b"hello")?;
    /// let other = arena.alloc_shared_slice(&state, b"another line")?;
    /// let cursor = line; // a copy, held elsewhere
    ///
    /// // Grown past its space: it moves, and every copy follows.
    /// arena.resize_shared(&state, line, 12, b'!')?;
    /// arena[line][5..].copy_from_slice(b", world");
    /// assert_eq!(&arena[cursor], b"hello, world");
    /// arena.resize_shared(&state, line, 5, 0)?; // shrunk in place
    /// assert_eq!(&arena[cursor], b"hello");
    ///
    /// assert!(arena.remove_slice(other));
    /// arena.compact_in_place(&mut state);
    /// assert_eq!(arena.detailed_stats().hole_bytes, 0);
    /// assert_eq!(arena.get(cursor), Some(&b"hello"[..]));
    /// assert!(!arena.contains(other));
    /// # Ok::<(), AllocError>(())
    /// ```
    ///
    /// Elements aligned to more than 8 bytes stop the build:
    ///
    /// ```compile_fail
    /// use managed::prelude::*;
    ///
    /// #[derive(Clone, Copy)]
    /// #[repr(align(16))]
    /// struct Wide(u64);
    ///
    /// make_guard!(guard);
    /// let (arena, state) = Arena::<0>::with_capacity(guard, 1024);
    /// let _ = arena.alloc_shared_slice(&state, &[Wide(1)]);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`alloc`](Self::alloc).
    pub fn alloc_shared_slice<T: Copy + 'id>(
        &self,
        state: &State<'id>,
        src: &[T],
    ) -> Result<Forward<'id, [T]>, AllocError> {
        let _ = state;
        self.share_slice(src)
    }

    /// Changes the length of the shared slice `forward` refers to, filling
    /// new elements with `value`, as a `Vec` would: appending one element
    /// at a time takes amortized constant time and room.
    ///
    /// It grows in place into its *room* (granules right after it that it
    /// keeps to grow into), or, when its room ends at the top of the
    /// region, by taking the granules above it; otherwise it moves to
    /// fresh space at the top with room to double into (while that leaves
    /// a quarter of the region free), leaving its old space to the next
    /// compaction, so a run of pushes moves it a logarithmic number of
    /// times. It shrinks in place, and the space it gives up becomes its
    /// room. Room is free space to the region's figures (counted in
    /// [`RegionStats::hole_bytes`]) and the next compaction reclaims it,
    /// all of it. Every `Forward` to the slice follows it.
    ///
    /// # Errors
    ///
    /// As [`alloc`](Self::alloc), when it must move and the region has no
    /// room: then nothing changed.
    ///
    /// # Panics
    ///
    /// If the slice was removed (at the caller's line).
    #[track_caller]
    pub fn resize_shared<T: Copy>(
        &mut self,
        state: &State<'id>,
        forward: Forward<'id, [T]>,
        new_len: usize,
        value: T,
    ) -> Result<(), AllocError> {
        let _ = state;
        match self.resize_slice(forward, new_len, value) {
            Some(result) => result,
            None => removed(forward),
        }
    }

    /// Replaces the elements `range` of the shared slice `forward` refers
    /// to with `replacement`, shifting the rest: inserting text into a
    /// line (an empty range), deleting it (an empty replacement), or
    /// both. The slice grows or shrinks as
    /// [`resize_shared`](Self::resize_shared) does, moving when it
    /// outgrows its space; every `Forward` to it follows.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// make_guard!(guard);
    /// let (mut arena, state) = Arena::<0>::with_capacity(guard, 4096);
    /// let line = arena.alloc_shared_slice(&state, b"hello world")?;
    /// arena.splice_shared(&state, line, 5..5, b",")?; // insert
    /// arena.splice_shared(&state, line, 7..12, b"there, friend")?; // replace
    /// arena.splice_shared(&state, line, 12..20, b"")?; // delete
    /// assert_eq!(&arena[line], b"hello, there");
    /// # Ok::<(), AllocError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`resize_shared`](Self::resize_shared): when the slice must move
    /// and the region has no room, nothing changed.
    ///
    /// # Panics
    ///
    /// If the slice was removed, or `range` is out of its bounds (at the
    /// caller's line).
    #[track_caller]
    pub fn splice_shared<T: Copy>(
        &mut self,
        state: &State<'id>,
        forward: Forward<'id, [T]>,
        range: core::ops::Range<usize>,
        replacement: &[T],
    ) -> Result<(), AllocError> {
        let len = self[forward].len();
        assert!(
            range.start <= range.end && range.end <= len,
            "splice_shared: range {range:?} out of bounds of a slice of {len}"
        );
        let new_len = len - range.len() + replacement.len();
        if new_len > len {
            // Growing: the replacement is longer than the range, so it has
            // a first element to fill the new space with until the shift.
            self.resize_shared(state, forward, new_len, replacement[0])?;
        }
        let slice = &mut self[forward];
        slice.copy_within(range.end..len, range.start + replacement.len());
        slice[range.start..range.start + replacement.len()].copy_from_slice(replacement);
        self.truncate_shared(forward, new_len);
        Ok(())
    }

    /// Appends `value` to the shared slice `forward` refers to (as
    /// [`resize_shared`](Self::resize_shared) by one element: in place
    /// while its granules have room, else moved to the top with every
    /// `Forward` following).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// make_guard!(guard);
    /// let (mut arena, state) = Arena::<0>::with_capacity(guard, 4096);
    /// let squad = arena.alloc_shared_slice(&state, &[1u32, 2])?;
    /// arena.push_shared(&state, squad, 3)?;
    /// arena.retain_shared(squad, |&member| member != 2);
    /// assert_eq!(&arena[squad], &[1, 3]);
    /// # Ok::<(), AllocError>(())
    /// ```
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
        state: &State<'id>,
        forward: Forward<'id, [T]>,
        value: T,
    ) -> Result<(), AllocError> {
        let len = self[forward].len();
        self.resize_shared(state, forward, len + 1, value)
    }

    /// A new shared slice holding a copy of the elements `range` of the
    /// shared slice `forward` refers to: splitting a line (its tail copied
    /// to a new line), keeping a line's text for undo.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// make_guard!(guard);
    /// let (arena, state) = Arena::<0>::with_capacity(guard, 4096);
    /// let line = arena.alloc_shared_slice(&state, b"hello world")?;
    /// let tail = arena.copy_shared(&state, line, 6..11)?;
    /// assert_eq!(&arena[tail], b"world");
    /// # Ok::<(), AllocError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`alloc_shared_slice`](Self::alloc_shared_slice).
    ///
    /// # Panics
    ///
    /// If the slice was removed, or `range` is out of its bounds (at the
    /// caller's line).
    #[track_caller]
    pub fn copy_shared<T: Copy + 'id>(
        &self,
        state: &State<'id>,
        forward: Forward<'id, [T]>,
        range: core::ops::Range<usize>,
    ) -> Result<Forward<'id, [T]>, AllocError> {
        let src = &self[forward];
        let Some(part) = src.get(range.clone()) else {
            panic!(
                "copy_shared: range {range:?} out of bounds of a slice of {}",
                src.len()
            );
        };
        self.alloc_shared_slice(state, part)
    }

    /// The shared object of `forward`, exclusively, beside a view of every
    /// other shared object ([`Others`](super::Others)), readable and
    /// writable one at a time: walking a list while writing the objects it
    /// names, updating a node from its neighbours. (To name the view's
    /// type, import `managed::region::Others`: the prelude's `Others` is
    /// the heap's.)
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// #[derive(Managed)]
    /// struct Node<'id> {
    ///     value: i64,
    ///     neighbours: Vec<Forward<'id, Node<'id>>>,
    /// }
    ///
    /// make_guard!(guard);
    /// let (mut arena, state) = Arena::<0>::with_capacity(guard, 4096);
    /// let a = arena.alloc_shared(&state, Node { value: 2, neighbours: vec![] }).unwrap();
    /// let b = arena.alloc_shared(&state, Node { value: 3, neighbours: vec![] }).unwrap();
    /// let hub = arena.alloc_shared(&state, Node { value: 0, neighbours: vec![a, b] }).unwrap();
    /// // The hub sums its neighbours while it is written.
    /// let (node, others) = arena.split_mut(hub);
    /// node.value = node.neighbours.iter().map(|&n| others[n].value).sum();
    /// assert_eq!(arena[hub].value, 5);
    /// ```
    ///
    /// # Panics
    ///
    /// If the object was removed (at the caller's line).
    #[track_caller]
    pub fn split_mut<T: ?Sized + Shared>(
        &mut self,
        forward: Forward<'id, T>,
    ) -> (&mut T, super::Others<'_, 'id, N>) {
        match self.split_cell(forward) {
            Some(split) => split,
            None => removed(forward),
        }
    }

    /// Exchanges the objects `a` and `b` refer to: from now on every copy
    /// of `a` reaches what `b` reached, and the other way round. Nothing
    /// is copied: the two forwarding cells trade places. Restoring a
    /// line's text from its undo snapshot, double buffering.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// make_guard!(guard);
    /// let (mut arena, state) = Arena::<0>::with_capacity(guard, 4096);
    /// let line = arena.alloc_shared_slice(&state, b"hello")?;
    /// let cursor = line; // a copy, held elsewhere
    /// let snapshot = arena.copy_shared(&state, line, 0..5)?;
    /// arena.splice_shared(&state, line, 0..5, b"goodbye")?;
    /// // Undo: the line takes the snapshot's text back, the snapshot goes.
    /// arena.swap_shared(line, snapshot);
    /// arena.remove_slice(snapshot);
    /// assert_eq!(&arena[cursor], b"hello");
    /// # Ok::<(), AllocError>(())
    /// ```
    ///
    /// # Panics
    ///
    /// If either object was removed (at the caller's line).
    #[track_caller]
    pub fn swap_shared<T: ?Sized + Shared>(&mut self, a: Forward<'id, T>, b: Forward<'id, T>) {
        if !self.swap_cells(a, b) {
            removed(if self.contains(a) { b } else { a });
        }
    }

    /// Appends a copy of the elements of the shared slice `src` to the
    /// shared slice `dst` (`src` may be `dst`: it is doubled): joining
    /// two lines, merging a block's instructions into its predecessor's.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// make_guard!(guard);
    /// let (mut arena, state) = Arena::<0>::with_capacity(guard, 4096);
    /// let line = arena.alloc_shared_slice(&state, b"hello")?;
    /// let next = arena.alloc_shared_slice(&state, b", world")?;
    /// arena.append_shared(&state, line, next)?;
    /// assert_eq!(&arena[line], b"hello, world");
    /// # Ok::<(), AllocError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`resize_shared`](Self::resize_shared): when `dst` must move and
    /// the region has no room, nothing changed.
    ///
    /// # Panics
    ///
    /// If either slice was removed (at the caller's line).
    #[track_caller]
    pub fn append_shared<T: Copy>(
        &mut self,
        state: &State<'id>,
        dst: Forward<'id, [T]>,
        src: Forward<'id, [T]>,
    ) -> Result<(), AllocError> {
        let (len, more) = (self[dst].len(), self[src].len());
        let Some(&fill) = self[src].first() else {
            return Ok(());
        };
        self.resize_shared(state, dst, len + more, fill)?;
        match self.get_disjoint_mut([dst, src]) {
            Some([to, from]) => to[len..].copy_from_slice(from),
            // The same slice: its first half, doubled.
            None => self[dst].copy_within(0..len, len),
        }
        Ok(())
    }

    /// Shortens the shared slice `forward` refers to to `len` elements (no
    /// change if it is not longer), in place: no room is needed.
    ///
    /// # Panics
    ///
    /// If the slice was removed (at the caller's line).
    #[track_caller]
    pub fn truncate_shared<T: Copy>(&mut self, forward: Forward<'id, [T]>, len: usize) {
        let slice = &self[forward];
        if len < slice.len() {
            let fill = slice[0];
            // Shrinking needs no room and so cannot fail.
            let shrunk = self.resize_slice(forward, len, fill);
            debug_assert!(matches!(shrunk, Some(Ok(()))));
        }
    }

    /// Removes the last element of the shared slice `forward` refers to
    /// and returns it; `None` if the slice is empty.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// make_guard!(guard);
    /// let (mut arena, state) = Arena::<0>::with_capacity(guard, 4096);
    /// let stack = arena.alloc_shared_slice(&state, &[1u32, 2, 3])?;
    /// assert_eq!(arena.pop_shared(stack), Some(3));
    /// arena.truncate_shared(stack, 1);
    /// assert_eq!(&arena[stack], &[1]);
    /// # Ok::<(), AllocError>(())
    /// ```
    ///
    /// # Panics
    ///
    /// If the slice was removed (at the caller's line).
    #[track_caller]
    pub fn pop_shared<T: Copy>(&mut self, forward: Forward<'id, [T]>) -> Option<T> {
        let last = *self[forward].last()?;
        let len = self[forward].len();
        self.truncate_shared(forward, len - 1);
        Some(last)
    }

    /// Keeps only the elements of the shared slice `forward` refers to
    /// for which `keep` returns `true`, in order; the slice shrinks in
    /// place (no room is needed). Returns how many were removed.
    ///
    /// # Panics
    ///
    /// If the slice was removed (at the caller's line).
    #[track_caller]
    pub fn retain_shared<T: Copy>(
        &mut self,
        forward: Forward<'id, [T]>,
        mut keep: impl FnMut(&T) -> bool,
    ) -> usize {
        let slice = &mut self[forward];
        let mut kept = 0;
        for i in 0..slice.len() {
            if keep(&slice[i]) {
                slice[kept] = slice[i];
                kept += 1;
            }
        }
        let removed = slice.len() - kept;
        self.truncate_shared(forward, kept);
        removed
    }

    /// The shared objects of `forwards`, each exclusively (copying one
    /// line's text into another, swapping two nodes' fields); `None` if
    /// one of them was removed or two name the same object.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// make_guard!(guard);
    /// let (mut arena, state) = Arena::<0>::with_capacity(guard, 4096);
    /// let first = arena.alloc_shared_slice(&state, b"join ")?;
    /// let second = arena.alloc_shared_slice(&state, b"me")?;
    /// arena.resize_shared(&state, first, 7, 0)?;
    /// let [to, from] = arena.get_disjoint_mut([first, second]).unwrap();
    /// to[5..].copy_from_slice(from);
    /// assert_eq!(&arena[first], b"join me");
    /// assert!(arena.get_disjoint_mut([first, first]).is_none());
    /// # Ok::<(), AllocError>(())
    /// ```
    #[inline]
    pub fn get_disjoint_mut<T: ?Sized + Shared, const M: usize>(
        &mut self,
        forwards: [Forward<'id, T>; M],
    ) -> Option<[&mut T; M]> {
        self.shared_disjoint_mut(forwards)
    }

    /// Removes a shared slice; false if it was already removed (through
    /// another copy of the `Forward`).
    #[inline]
    pub fn remove_slice<T: Copy>(&mut self, forward: Forward<'id, [T]>) -> bool {
        self.take_slice(forward)
    }

    /// Removes a shared object, returning its value, or `None` if it was
    /// already removed (through another copy of the `Forward`).
    ///
    /// A sized object comes back as itself (`T::Owned` is `T`); a shared
    /// slice as a `Vec` of its elements. To drop a slice without copying
    /// it out, use [`remove_slice`](Self::remove_slice).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// make_guard!(guard);
    /// let (mut arena, state) = Arena::<0>::with_capacity(guard, 4096);
    /// let point = arena.alloc_shared(&state, (3u32, 4u32))?;
    /// let path = arena.alloc_shared_slice(&state, &[1u32, 2, 3])?;
    /// let copy = point;
    /// assert_eq!(arena.remove(point), Some((3, 4)));
    /// assert_eq!(arena.remove(path), Some(vec![1, 2, 3]));
    /// assert_eq!(arena.remove(copy), None, "removed already");
    /// # Ok::<(), AllocError>(())
    /// ```
    #[inline]
    pub fn remove<T: ?Sized + Shared>(&mut self, forward: Forward<'id, T>) -> Option<T::Owned> {
        T::__remove(self, forward)
    }

    /// Whether the shared object `forward` refers to is still alive (not
    /// removed).
    #[inline]
    pub fn contains<T: ?Sized + Shared>(&self, forward: Forward<'id, T>) -> bool {
        forward.live_addr(self).is_some()
    }

    /// The shared object `forward` refers to, or `None` if it was removed
    /// (the same as [`Forward::get`]).
    #[inline]
    pub fn get<T: ?Sized + Shared>(&self, forward: Forward<'id, T>) -> Option<&T> {
        forward.get(self)
    }

    /// The shared object `forward` refers to, mutably, or `None` if it was
    /// removed (the same as [`Forward::get_mut`]).
    #[inline]
    pub fn get_mut<T: ?Sized + Shared>(&mut self, forward: Forward<'id, T>) -> Option<&mut T> {
        forward.get_mut(self)
    }

    /// Bytes of the region.
    pub fn capacity(&self) -> usize {
        self.raw.capacity()
    }

    /// Bytes free at the end of the region, where allocation happens.
    pub fn available(&self) -> usize {
        self.raw.capacity() - self.raw.top()
    }

    /// Space statistics: live bytes (in granules) and the region's capacity.
    pub fn stats(&self) -> SpaceStats {
        let s = self.detailed_stats();
        SpaceStats::new(s.live_bytes, s.capacity)
    }

    /// Detailed space figures, in constant time (the holes and padding are
    /// counted as they are made), so a program may check them after every
    /// change to decide when to compact.
    pub fn detailed_stats(&self) -> RegionStats {
        let top = self.raw.top();
        let padding = self.raw.core().padding.get();
        let dead = self.raw.holes() + padding;
        let live = top - dead * GRANULE;
        RegionStats {
            capacity: self.raw.capacity(),
            live_objects: self.raw.live_objects(),
            live_bytes: live,
            live_block_bytes: live,
            hole_bytes: (dead - padding) * GRANULE,
            padding_bytes: padding * GRANULE,
            tail_bytes: self.raw.capacity() - top,
            compactions: self.compactions,
        }
    }

    /// A map of the region's memory: one block, with the region's
    /// bookkeeping as its header, the dead bitmap as metadata, then the
    /// object area granule by granule: live objects, dead ones (free: the
    /// holes [`compact`](Self::compact) reclaims, alignment padding among
    /// them) and the free room at the end. Live bytes are
    /// [`stats`](Self::stats)' live bytes; live and free bytes add up to
    /// the capacity.
    ///
    /// ```
    /// use managed::memory_map::SpanKind;
    /// use managed::prelude::*;
    ///
    /// make_guard!(guard);
    /// let (arena, state): (Arena<'_, 4096>, _) = Arena::new(guard);
    /// let items: Vec<_> = (0..64).map(|_| arena.allocate::<u64>(&state).unwrap()).collect();
    /// let kept: Vec<_> = items.into_iter().step_by(4).collect();
    /// let map = arena.memory_map();
    /// assert_eq!(map.bytes(SpanKind::Live), kept.len() * 8);
    /// assert_eq!(map.bytes(SpanKind::Live) + map.bytes(SpanKind::Free), arena.capacity());
    /// drop(kept);
    /// ```
    #[must_use]
    pub fn memory_map(&self) -> crate::memory_map::MemoryMap {
        let mut map = crate::memory_map::MemoryMap::new(alloc::format!(
            "region Arena ({} bytes)",
            self.capacity()
        ));
        self.raw.map_into(&mut map);
        map
    }

    /// Turns an item into a token, to be redeemed (by calling it with the
    /// arena) after [`compact`](Self::compact) moved its object.
    ///
    /// The token borrows the compaction guard, so it cannot outlive
    /// [`finish`](Self::finish); it does not borrow the arena, and may even
    /// be dropped after it (the arena then leaves its memory to its
    /// outstanding tokens). Dropping it drops the value; forgetting it keeps
    /// the object alive and never redeemed (its value is never dropped, and
    /// the region memory is leaked if the arena is dropped after).
    ///
    /// To tokenize a whole value holding items (`Vec<Item<..>>`, a struct),
    /// use [`tokenize_all`](Self::tokenize_all).
    ///
    /// # Panics
    ///
    /// If the item belongs to another arena.
    #[inline]
    #[track_caller]
    #[must_use = "a token not redeemed leaves its object in the region, unreachable"]
    pub fn tokenize<'c, 'g, T: ?Sized>(
        &self,
        guard: &'c Guard<'g>,
        item: Item<'_, T>,
    ) -> impl for<'b> FnOnce(&'b Arena<'id, N>) -> Item<'b, T> + use<'c, 'g, 'id, N, T> {
        let token = self.item_token(guard, item);
        redeemer(move |arena: &Arena<'id, N>| token.redeem(arena))
    }

    /// Turns a whole value holding items (fields, elements, map values,
    /// nested structs) into one token, redeemed with [`Token::redeem`] after
    /// compaction as the same value, every item forwarded.
    ///
    /// The items stay in place: a `Vec<Item<..>>` keeps its buffer, whose
    /// elements the compactor rewrites (only the value itself, e.g. the
    /// `Vec`'s three words, is moved into a small box the compactor can
    /// reach).
    ///
    /// # Panics
    ///
    /// If `value` holds an item of another arena (before changing anything).
    #[inline]
    #[track_caller]
    #[must_use = "a token not redeemed leaves its objects in the region, unreachable"]
    pub fn tokenize_all<'c, 'g, S: Rebrand>(
        &self,
        guard: &'c Guard<'g>,
        value: S,
    ) -> Token<'c, 'id, S::Branded<'static>> {
        self.whole_token(guard, value)
    }

    /// [`tokenize_all`](Self::tokenize_all) with the single-item call shape:
    /// the token is a (boxed) closure, redeemed by calling it with the
    /// arena, `token(&arena)`.
    ///
    /// It costs one more small allocation than `tokenize_all`. (`tokenize`
    /// itself cannot take whole values: see `docs/notes/region.md`.)
    ///
    /// # Panics
    ///
    /// As [`tokenize_all`](Self::tokenize_all).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// make_guard!(guard);
    /// let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    /// let garbage = arena.allocate::<u64>(&state).unwrap();
    /// let list = vec![arena.alloc(&state, 7u32).unwrap()];
    /// make_guard!(compact);
    /// let token = arena.tokenize_boxed(&compact, list);
    /// drop(garbage);
    /// let state = arena.compact(&compact, state);
    /// let list = token(&arena);
    /// let _state = arena.finish(compact, state);
    /// assert_eq!(*list[0], 7);
    /// ```
    #[allow(clippy::type_complexity)]
    #[track_caller]
    #[must_use = "a token not redeemed leaves its objects in the region, unreachable"]
    pub fn tokenize_boxed<'c, 'g, S: Rebrand>(
        &self,
        guard: &'c Guard<'g>,
        value: S,
    ) -> Box<
        dyn for<'b> FnOnce(&'b Arena<'id, N>) -> <S::Branded<'static> as Rebrand>::Branded<'b> + 'c,
    >
    where
        'id: 'c,
        S::Branded<'static>: 'c,
    {
        let token = self.tokenize_all(guard, value);
        Box::new(move |arena: &Arena<'id, N>| token.redeem(arena))
    }

    /// Starts compacting: consumes the allocation state (so every item is
    /// dead or a token) and slides every live object down in address order,
    /// each moving at most once, so that all free space forms one block at
    /// the end. Tokens and `Forward`s follow their objects.
    ///
    /// # Panics
    ///
    /// Before moving anything, if an object in the region holds an `Item`
    /// of another region. (A `visit_refs` that panics once the rewriting
    /// has started aborts the process: the region could not be left
    /// half-moved.)
    #[inline]
    #[track_caller]
    #[must_use = "the compaction lasts until `finish` takes this back with the guard"]
    pub fn compact<'g>(&mut self, guard: &Guard<'g>, state: State<'id>) -> Compacting<'id, 'g> {
        let _ = guard;
        self.compact_objects(state);
        Compacting {
            _brand: PhantomData,
        }
    }

    /// Compacts in one call, keeping the allocation state: for a program
    /// whose objects outlive the compaction as [`Forward`]s (or tokens
    /// made earlier), with no item to carry over. The same as
    /// `compact` with a fresh guard followed at once by `finish`, without
    /// the guard, the [`Compacting`] value, or a `State` to take out of
    /// a struct and put back.
    ///
    /// `&mut self` means no [`Item`] is alive (every item borrows the
    /// arena); `&mut State` means the arena is not between `compact` and
    /// `finish`.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// /// A document that owns its region: its lines are shared objects.
    /// struct Doc<'id> {
    ///     arena: Arena<'id, 0>,
    ///     state: State<'id>,
    ///     lines: Vec<Forward<'id, String>>,
    /// }
    ///
    /// impl<'id> Doc<'id> {
    ///     fn new(guard: Guard<'id>) -> Self {
    ///         let (arena, state) = Arena::with_capacity(guard, 4096);
    ///         Doc { arena, state, lines: Vec::new() }
    ///     }
    ///
    ///     fn push(&mut self, text: &str) {
    ///         let line = self.arena.alloc_shared(&self.state, String::from(text));
    ///         self.lines.push(line.expect("room for a line"));
    ///     }
    ///
    ///     fn delete(&mut self, at: usize) {
    ///         let line = self.lines.remove(at);
    ///         self.arena.remove(line);
    ///     }
    ///
    ///     fn compact(&mut self) {
    ///         self.arena.compact_in_place(&mut self.state);
    ///     }
    /// }
    ///
    /// make_guard!(guard);
    /// let mut doc = Doc::new(guard);
    /// for text in ["one", "two", "three"] {
    ///     doc.push(text);
    /// }
    /// doc.delete(1);
    /// assert!(doc.arena.detailed_stats().hole_bytes > 0);
    /// doc.compact();
    /// assert_eq!(doc.arena.detailed_stats().hole_bytes, 0);
    /// assert_eq!(doc.arena[doc.lines[1]], "three");
    /// ```
    ///
    /// # Panics
    ///
    /// As [`compact`](Self::compact).
    #[inline]
    #[track_caller]
    pub fn compact_in_place(&mut self, state: &mut State<'id>) {
        self.compact_objects_in_place(state);
    }

    /// Ends compaction: consumes the compaction guard, so every token made
    /// with it is redeemed or dropped, and gives the allocation state back.
    pub fn finish<'g>(&self, guard: Guard<'g>, compacting: Compacting<'id, 'g>) -> State<'id> {
        let _ = (guard, compacting);
        State {
            _brand: PhantomData,
        }
    }

    /// The arena of a fresh region, branded with `guard`.
    fn from_raw(guard: Guard<'id>, raw: RawRegion) -> (Self, State<'id>) {
        let _ = guard;
        let arena = Arena {
            raw,
            compactions: 0,
            _brand: PhantomData,
        };
        (
            arena,
            State {
                _brand: PhantomData,
            },
        )
    }

    /// The region.
    #[inline]
    pub(crate) fn raw(&self) -> &RawRegion {
        &self.raw
    }
}

/// Pins down the higher-ranked signature of a redeeming closure.
#[inline]
fn redeemer<'id, const N: usize, T: ?Sized, F>(f: F) -> F
where
    F: for<'b> FnOnce(&'b Arena<'id, N>) -> Item<'b, T>,
{
    f
}

/// `arena[forward]`: the shared object, as [`get`](Arena::get).
///
/// # Panics
///
/// If the object was removed (at the caller's line); `get` returns `None`
/// instead.
impl<'id, T: ?Sized + Shared, const N: usize> Index<Forward<'id, T>> for Arena<'id, N> {
    type Output = T;

    #[inline]
    #[track_caller]
    fn index(&self, forward: Forward<'id, T>) -> &T {
        match forward.get(self) {
            Some(value) => value,
            None => removed(forward),
        }
    }
}

/// `&mut arena[forward]`: the shared object, mutably, as
/// [`get_mut`](Arena::get_mut).
///
/// # Panics
///
/// If the object was removed (at the caller's line).
impl<'id, T: ?Sized + Shared, const N: usize> IndexMut<Forward<'id, T>> for Arena<'id, N> {
    #[inline]
    #[track_caller]
    fn index_mut(&mut self, forward: Forward<'id, T>) -> &mut T {
        match forward.get_mut(self) {
            Some(value) => value,
            None => removed(forward),
        }
    }
}

/// The panic of indexing with a `Forward` to a removed object.
#[cold]
#[inline(never)]
#[track_caller]
fn removed<T: ?Sized>(forward: Forward<'_, T>) -> ! {
    panic!(
        "the shared object of this `Forward<{}>` was removed from the arena ({forward:?})",
        core::any::type_name::<T>()
    )
}

impl<const N: usize> fmt::Debug for Arena<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Arena")
            .field("capacity", &self.raw.capacity())
            .field("used", &self.raw.top())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for State<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("State")
    }
}

impl fmt::Debug for Compacting<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Compacting")
    }
}
