//! The raw layer of [`DropArena`](super::DropArena): the chunks (memory
//! from [`crate::page::raw`], returned when the arena drops), the slots
//! carved from them, the intrusive free list of given-back slots, and
//! [`DropBox`], the owning pointer to one slot. Every `unsafe` block of the
//! family is here.
//!
//! Invariants (on the fields they constrain): every slot on the free list
//! is free, belongs to a live chunk of an arena of the same `'arena`, and
//! appears once; `next..end` is the unused part of the newest chunk; a box
//! owns the initialized `T` at the start of its slot. The
//! [`RawDropArena`] methods used by the safe layer keep them, so all of
//! them are safe to call.

use ::alloc::vec::Vec;
use core::alloc::Layout;
use core::cell::{Cell, UnsafeCell};
use core::fmt;
use core::marker::PhantomData;
use core::mem::{self, ManuallyDrop};
use core::ops::{Deref, DerefMut};
use core::ptr::{self, NonNull};

use super::DropArena;
use crate::AllocError;
use crate::page::raw::{allocate, deallocate, try_allocate};

/// Bytes of the first chunk an arena carves when it was not given a
/// capacity; later chunks double.
const FIRST_CHUNK_BYTES: usize = 1024;

/// A type invariant in `'arena` that owns nothing, needs no drop and is
/// `Send + Sync`: the brand shared by an arena and its boxes.
type ArenaBrand<'arena> = fn(&'arena ()) -> &'arena ();

/// One slot of an arena's storage.
///
/// A slot is *occupied* (a box owns the `T` at its start), *on a free list*
/// (`next` links to the next free slot), or *abandoned* (its box was dropped,
/// unwrapped or leaked: nobody uses it again until the arena frees the
/// chunk). Both fields start at offset 0, so a slot's address is its `T`'s.
#[repr(C)]
pub(super) union ArenaSlot<T> {
    /// The value, while the slot is occupied. Never read through this field
    /// (boxes cast the slot pointer); it gives the slot `T`'s size and
    /// alignment.
    _value: ManuallyDrop<T>,
    /// The next free slot, while the slot is on a free list.
    next: Option<NonNull<ArenaSlot<T>>>,
}

/// The chunks of one arena: memory from the page layer's allocator,
/// returned when the arena drops.
///
/// Not generic over `T`, so the chunk bookkeeping is compiled once, and its
/// [`Drop`] impl puts no drop-check requirement on `T` (see the module's
/// drop-check argument in `docs/notes/drop_arena.md`).
struct ArenaChunks {
    /// Every chunk, with the layout it was allocated with.
    ///
    /// Invariant: each `(ptr, layout)` was returned by
    /// `page::raw::{allocate, try_allocate}(layout)` with
    /// `layout.size() > 0`, and is deallocated exactly once, in `Drop`.
    list: Vec<(NonNull<u8>, Layout)>,
    /// Sum of the chunk sizes in bytes.
    reserved_bytes: usize,
    /// Slots in the newest chunk (0 before the first), the count to double.
    last_slots: usize,
    /// Slots in all chunks together.
    total_slots: usize,
}

/// What to do when the global allocator fails for a new chunk.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum OnOom {
    /// Abort through `handle_alloc_error` (`page::raw::allocate`).
    Abort,
    /// Return [`AllocError::OutOfMemory`].
    Fail,
}

/// The arena's state: the free list, the bump range of the newest chunk,
/// the zero-sized counters and the chunks. [`DropArena`](super::DropArena)
/// is a thin safe wrapper over it.
pub(super) struct RawDropArena<'arena, T> {
    /// Head of the free list (`None`: empty).
    ///
    /// Invariant: every slot on the list is in the *free* state (its `next`
    /// field is initialized), is owned by no box, belongs to a live chunk of
    /// this arena or of another arena of the same `'arena` (which outlives
    /// every use of this one), appears once (the list is acyclic), and its
    /// pointer has provenance over the whole slot. Always `None` for a
    /// zero-sized `T`.
    free: Cell<Option<NonNull<ArenaSlot<T>>>>,
    /// Next never-used slot of the newest chunk.
    ///
    /// Invariant: `next` and `end` are both null (no chunk yet, or `T` is
    /// zero-sized), or `next <= end` point into / one past the end of the
    /// newest chunk, with that chunk's provenance.
    next: Cell<*mut ArenaSlot<T>>,
    /// One past the last slot of the newest chunk (see `next`).
    end: Cell<*mut ArenaSlot<T>>,
    /// For a zero-sized `T` only: virtual free slots (boxes given back and
    /// not yet reused); otherwise 0 (the free list is counted by walking it
    /// in [`DropArena::len`](super::DropArena::len), to keep allocation and
    /// give-back short).
    zst_free: Cell<usize>,
    /// For a zero-sized `T` only: virtual slots ever created (otherwise 0:
    /// the slots carved from chunks are computed from the bump pointer, to
    /// keep the allocation path short). Never decreases.
    zst_carved: Cell<usize>,
    /// The storage. Only [`RawDropArena::new_chunk`] mutates it, without
    /// running user code, so no two references to it ever overlap.
    chunks: UnsafeCell<ArenaChunks>,
    /// Makes the arena invariant in `'arena` (the brand).
    _brand: PhantomData<ArenaBrand<'arena>>,
}

// SAFETY: an arena can be moved only while no box or other `&'arena`
// borrow of it is alive (they borrow it), so at that point it owns nothing
// but empty storage and counters; any `T` it later stores are moved to it by
// the thread that uses it (`T: Send`). It stays `!Sync` (`Cell`). The impl
// is on the public type, whose only field is a `RawDropArena` (not `Send`
// by itself: raw pointers), so that diagnostics name the public type.
unsafe impl<T: Send> Send for DropArena<'_, T> {}

/// An owning pointer to a `T` in a [`DropArena<'arena, T>`](super::DropArena).
///
/// It derefs to `T` like a `Box<T>`, and forwards `Debug`, `Display`,
/// comparisons and `Hash` to the `T`. Dropping it drops the `T` but keeps
/// the slot until the arena drops; give it to
/// [`DropArena::drop_box`](super::DropArena::drop_box) or
/// [`DropArena::box_to_inner`](super::DropArena::box_to_inner) to reuse the
/// slot.
///
/// [`into_inner`](Self::into_inner) and [`leak`](Self::leak) are methods,
/// so they take precedence over methods of the same name on `T`: call those
/// as `(*b).leak()`.
///
/// It is a `#[repr(transparent)]` non-null pointer with the semantics of a
/// `&'arena mut T`, so it is as large as a `&mut T`, and so is
/// `Option<DropBox<T>>`:
///
/// ```
/// use managed::prelude::*;
/// use std::mem::size_of;
///
/// assert_eq!(size_of::<DropBox<'_, u64>>(), size_of::<&mut u64>());
/// assert_eq!(size_of::<Option<DropBox<'_, u64>>>(), size_of::<&mut u64>());
/// ```
///
/// A box is accepted back only by an arena of its own lifetime:
///
/// ```compile_fail
/// use managed::prelude::*;
///
/// let outer = &DropArena::new();
/// {
///     let inner = &DropArena::new();
///     let b = inner.alloc(1);
///     outer.drop_box(b); // `inner` does not live long enough
/// }
/// outer.len();
/// ```
#[repr(transparent)]
pub struct DropBox<'arena, T> {
    /// The value.
    ///
    /// Invariant: points to an initialized `T` owned by this box alone. For
    /// a non-zero-sized `T` it is the start of a slot of a
    /// `DropArena<'arena, T>` (alive for `'arena`), with provenance over the
    /// whole slot; for a zero-sized `T` it is `NonNull::dangling()`.
    ptr: NonNull<T>,
    /// Owns a `T` exclusively for `'arena` like a `&'arena mut T` (variance,
    /// auto traits), and is invariant in `'arena` (the brand).
    _marker: PhantomData<(&'arena mut T, ArenaBrand<'arena>)>,
}

// SAFETY: a `DropBox` is an exclusive owner of a `T`, like `&mut T` or
// `Box<T>`: sending it sends the `T` (`T: Send`). It never touches the arena
// except through `DropArena` methods, which need `&DropArena` on the arena's
// own thread (`DropArena` is not `Sync`).
unsafe impl<T: Send> Send for DropBox<'_, T> {}

// SAFETY: `&DropBox<T>` only gives out `&T` (`T: Sync`), like `&Box<T>`.
unsafe impl<T: Sync> Sync for DropBox<'_, T> {}

// ---------------------------------------------------------------------------
// ArenaChunks (non-generic core)
// ---------------------------------------------------------------------------

impl ArenaChunks {
    const fn new() -> Self {
        Self {
            list: Vec::new(),
            reserved_bytes: 0,
            last_slots: 0,
            total_slots: 0,
        }
    }

    /// How many slots the next chunk gets by default: about
    /// [`FIRST_CHUNK_BYTES`] for the first, then twice the previous one
    /// (at least 1, at most what fits in `isize::MAX` bytes).
    fn next_slots(&self, slot: Layout) -> usize {
        let max_slots = isize::MAX as usize / slot.size();
        let wanted = if self.last_slots == 0 {
            FIRST_CHUNK_BYTES / slot.size()
        } else {
            self.last_slots.saturating_mul(2)
        };
        wanted.clamp(1, max_slots.max(1))
    }

    /// Allocates a new chunk of exactly `slots` slots of layout `slot` and
    /// returns its start; an allocator failure aborts or is returned as
    /// `on_oom` says.
    ///
    /// `slot.size()` must be a non-zero multiple of `slot.align()`.
    #[track_caller]
    fn grow(
        &mut self,
        slot: Layout,
        slots: usize,
        on_oom: OnOom,
    ) -> Result<NonNull<u8>, AllocError> {
        // Allocating zero bytes is undefined behaviour: checked in every
        // build (once per chunk).
        assert!(
            slot.size() > 0 && slot.size().is_multiple_of(slot.align()),
            "a slot has a non-zero size, a multiple of its alignment"
        );
        let size = slot
            .size()
            .checked_mul(slots)
            .ok_or(AllocError::CapacityOverflow)?;
        let layout = Layout::from_size_align(size, slot.align())
            .map_err(|_| AllocError::CapacityOverflow)?;
        if size == 0 {
            return Err(AllocError::CapacityOverflow);
        }
        self.list.reserve(1);
        let ptr = match on_oom {
            OnOom::Abort => allocate(layout),
            OnOom::Fail => try_allocate(layout).ok_or(AllocError::OutOfMemory { layout })?,
        };
        self.list.push((ptr, layout));
        self.reserved_bytes += size;
        self.last_slots = slots;
        self.total_slots += slots;
        Ok(ptr)
    }
}

impl Drop for ArenaChunks {
    fn drop(&mut self) {
        for &(ptr, layout) in &self.list {
            // SAFETY: `list` invariant: allocated by the page layer with
            // `layout`, freed only here, once.
            unsafe { deallocate(ptr, layout) };
        }
    }
}

// ---------------------------------------------------------------------------
// RawDropArena
// ---------------------------------------------------------------------------

impl<'arena, T> RawDropArena<'arena, T> {
    pub(super) const IS_ZST: bool = mem::size_of::<T>() == 0;

    /// An empty arena; allocates nothing.
    pub(super) const fn new() -> Self {
        Self {
            free: Cell::new(None),
            next: Cell::new(ptr::null_mut()),
            end: Cell::new(ptr::null_mut()),
            zst_free: Cell::new(0),
            zst_carved: Cell::new(0),
            chunks: UnsafeCell::new(ArenaChunks::new()),
            _brand: PhantomData,
        }
    }

    /// An arena whose first chunk holds exactly `n` slots (nothing is
    /// allocated for `n == 0` or a zero-sized `T`).
    #[track_caller]
    pub(super) fn with_capacity(n: usize, on_oom: OnOom) -> Result<Self, AllocError> {
        let arena = Self::new();
        if n > 0 && !Self::IS_ZST {
            let (start, slots) = arena.new_chunk(Some(n), on_oom)?;
            arena.next.set(start.as_ptr());
            // SAFETY: `start` begins a chunk of `slots` slots; one past its
            // end is in bounds of the allocation.
            arena.end.set(unsafe { start.as_ptr().add(slots) });
        }
        Ok(arena)
    }

    /// Moves `value` into a slot and returns its box.
    #[inline]
    #[track_caller]
    pub(super) fn alloc(&'arena self, value: T) -> DropBox<'arena, T> {
        let ptr = self.take_slot();
        // SAFETY: `take_slot` returns a slot no one owns, valid for writes of
        // a `T` (or a dangling pointer, valid for a zero-sized write).
        unsafe { ptr.as_ptr().write(value) };
        // The box invariant holds: an initialized `T`, owned by this box only.
        DropBox {
            ptr,
            _marker: PhantomData,
        }
    }

    /// Drops the box's value and puts its slot back on the free list, also
    /// when `T::drop` panics.
    #[inline]
    pub(super) fn drop_box(&'arena self, b: DropBox<'arena, T>) {
        let ptr = b.into_raw();
        if mem::needs_drop::<T>() {
            // Gives the slot back when dropped: after `T::drop` returns, or
            // while unwinding from it.
            let guard = scopeguard::guard(ptr, |ptr| {
                // SAFETY: the value was dropped (or its drop panicked, which
                // also ends it); the slot is owned by no one and came from a
                // box of an arena of this arena's lifetime.
                unsafe { self.give_back(ptr) };
            });
            // SAFETY: `ptr` holds an initialized `T` that the consumed box
            // owned; it is dropped once, here, and never used again as a `T`.
            unsafe { ptr::drop_in_place(ptr.as_ptr()) };
            drop(guard);
        } else {
            // SAFETY: as in the guard above; `T` has no drop glue.
            unsafe { self.give_back(ptr) };
        }
    }

    /// Moves the box's value out and puts its slot back on the free list.
    #[inline]
    pub(super) fn box_to_inner(&'arena self, b: DropBox<'arena, T>) -> T {
        let ptr = b.into_raw();
        // SAFETY: `ptr` holds an initialized `T` owned by the consumed box;
        // it is read once and the slot is not used as a `T` again.
        let value = unsafe { ptr.as_ptr().read() };
        // SAFETY: the slot's value was moved out; no one owns the slot.
        unsafe { self.give_back(ptr) };
        value
    }

    /// Puts the box's slot back on the free list without dropping its
    /// value.
    #[inline]
    pub(super) fn free_without_dropping(&'arena self, b: DropBox<'arena, T>) {
        let ptr = b.into_raw();
        // SAFETY: the value is forgotten, never used again; no one owns the
        // slot.
        unsafe { self.give_back(ptr) };
    }

    /// Every slot this arena has carved.
    #[inline]
    pub(super) fn max_len(&self) -> usize {
        if Self::IS_ZST {
            return self.zst_carved.get();
        }
        // Every chunk but the newest is fully carved (a chunk is added only
        // when the newest one is exhausted, or as the first one).
        let unused =
            (self.end.get().addr() - self.next.get().addr()) / mem::size_of::<ArenaSlot<T>>();
        // SAFETY: as in `reserved_bytes`: no mutable reference to `chunks`
        // is alive.
        let total = unsafe { (*self.chunks.get()).total_slots };
        debug_assert!(unused <= total);
        total - unused
    }

    /// The bytes of every chunk.
    pub(super) fn reserved_bytes(&self) -> usize {
        // SAFETY: `chunks` is only mutated inside `grow`, which runs no user
        // code and is not running now (the arena is not `Sync`), so this
        // shared read overlaps no mutable reference.
        unsafe { (*self.chunks.get()).reserved_bytes }
    }

    /// Takes a slot no one owns: from the free list, the bump pointer, or a
    /// new chunk. For a zero-sized `T`, returns a dangling pointer.
    #[inline]
    #[track_caller]
    fn take_slot(&self) -> NonNull<T> {
        if Self::IS_ZST {
            if self.zst_free.get() > 0 {
                self.zst_free.set(self.zst_free.get() - 1);
            } else {
                let carved = self.zst_carved.get().checked_add(1);
                self.zst_carved
                    .set(carved.expect("DropArena: more than usize::MAX boxes"));
            }
            return NonNull::dangling();
        }
        if let Some(head) = self.free.get() {
            // SAFETY: `free` invariant: `head` is a live slot in the free
            // state, so its `next` field is initialized.
            let next = unsafe { (*head.as_ptr()).next };
            self.free.set(next);
            return head.cast();
        }
        let next = self.next.get();
        if next != self.end.get() {
            // SAFETY: `next < end` in the newest chunk (invariant), so
            // `next + 1 <= end` stays in bounds.
            self.next.set(unsafe { next.add(1) });
            // SAFETY: a pointer into a chunk is not null.
            return unsafe { NonNull::new_unchecked(next) }.cast();
        }
        self.grow_and_take()
    }

    /// The slow path of [`take_slot`](Self::take_slot): a new chunk.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn grow_and_take(&self) -> NonNull<T> {
        debug_assert!(self.free.get().is_none() && self.next.get() == self.end.get());
        let (start, slots) = match self.new_chunk(None, OnOom::Abort) {
            Ok(chunk) => chunk,
            Err(e) => fail(e),
        };
        // SAFETY: `start` begins a chunk of `slots >= 1` slots.
        let (second, end) = unsafe { (start.as_ptr().add(1), start.as_ptr().add(slots)) };
        self.next.set(second);
        self.end.set(end);
        start.cast()
    }

    /// Allocates a new chunk of `slots` slots (the default doubling count
    /// if `None`), and returns its start and slot count.
    #[track_caller]
    fn new_chunk(
        &self,
        slots: Option<usize>,
        on_oom: OnOom,
    ) -> Result<(NonNull<ArenaSlot<T>>, usize), AllocError> {
        debug_assert!(!Self::IS_ZST);
        // SAFETY: the only other accesses to `chunks` are short reads in
        // `reserved_bytes`, `max_len` and `chunk_spans`; none is alive here
        // (the arena is not `Sync`), and no user code runs while this
        // reference lives.
        let chunks = unsafe { &mut *self.chunks.get() };
        let slot = Layout::new::<ArenaSlot<T>>();
        let slots = slots.unwrap_or_else(|| chunks.next_slots(slot));
        let start = chunks.grow(slot, slots, on_oom)?;
        Ok((start.cast(), slots))
    }

    /// Puts a slot on the free list.
    ///
    /// # Safety
    ///
    /// `ptr` came from a box of a `DropArena<'arena, T>` (this one or one of
    /// the same lifetime) and no one owns it any more: its value was dropped
    /// or moved out (or is to be forgotten), and it is not used as a `T`
    /// again.
    #[inline]
    unsafe fn give_back(&self, ptr: NonNull<T>) {
        if !Self::IS_ZST {
            let slot = ptr.cast::<ArenaSlot<T>>();
            // SAFETY: `ptr` is the start of a slot of a live arena (the box
            // invariant), with provenance over the whole slot; no one else
            // uses the slot (caller), so it may become a free-list node.
            unsafe { (&raw mut (*slot.as_ptr()).next).write(self.free.get()) };
            self.free.set(Some(slot));
        } else {
            self.zst_free.set(self.zst_free.get() + 1);
        }
    }

    /// The slots on the free list, in list order (empty for a zero-sized
    /// `T`). Private: it must be consumed before the arena takes a slot.
    fn free_list(&self) -> impl Iterator<Item = NonNull<ArenaSlot<T>>> + '_ {
        let mut cursor = self.free.get();
        core::iter::from_fn(move || {
            let slot = cursor?;
            // SAFETY: `free` invariant: every slot on the list is free (its
            // `next` is initialized) and alive, since the arenas whose slots
            // it holds outlive every use of this one; the list is acyclic.
            // The list does not change during the walk: the callers (in this
            // module) consume the iterator at once, without taking a slot.
            cursor = unsafe { (*slot.as_ptr()).next };
            Some(slot)
        })
    }

    /// Slots on the free list (virtual ones for a zero-sized `T`).
    pub(super) fn free_slots(&self) -> usize {
        if Self::IS_ZST {
            return self.zst_free.get();
        }
        self.free_list().count()
    }

    /// The addresses of the slots on the free list, sorted (for memory
    /// maps).
    pub(super) fn free_slot_addrs(&self) -> Vec<usize> {
        let mut free: Vec<usize> = self.free_list().map(|slot| slot.addr().get()).collect();
        free.sort_unstable();
        free
    }

    /// The never-used range `next..end` of the newest chunk, as addresses.
    pub(super) fn unused_range(&self) -> (usize, usize) {
        (self.next.get().addr(), self.end.get().addr())
    }

    /// Every chunk's start address and size in bytes, oldest first.
    pub(super) fn chunk_spans(&self) -> Vec<(usize, usize)> {
        // SAFETY: as in `reserved_bytes`: `chunks` is only mutated inside
        // `grow`, which is not running now, so this shared read overlaps no
        // mutable reference; it ends before this function returns.
        let chunks = unsafe { &*self.chunks.get() };
        chunks
            .list
            .iter()
            .map(|&(ptr, layout)| (ptr.addr().get(), layout.size()))
            .collect()
    }
}

/// Panics with a clear message for a capacity overflow (allocator failures
/// abort in the page layer's `allocate`, or are returned).
#[cold]
#[inline(never)]
#[track_caller]
pub(super) fn fail(e: AllocError) -> ! {
    panic!("DropArena: {e}")
}

// ---------------------------------------------------------------------------
// DropBox
// ---------------------------------------------------------------------------

impl<'arena, T> DropBox<'arena, T> {
    /// Moves the value out. The slot is *not* reused before the arena drops;
    /// use [`DropArena::box_to_inner`](super::DropArena::box_to_inner) to
    /// reuse it.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let arena = &DropArena::new();
    /// let mut b = arena.alloc(100);
    /// *b += 1;
    /// assert_eq!(b.into_inner(), 101);
    /// assert_eq!(arena.len(), 1); // the slot stays in use
    /// ```
    #[inline]
    pub fn into_inner(self) -> T {
        let ptr = self.into_raw();
        // SAFETY: the consumed box owned the initialized `T`; it is read once
        // and the abandoned slot is never used as a `T` again.
        unsafe { ptr.as_ptr().read() }
    }

    /// Leaks the box: the value is never dropped and its slot never reused,
    /// but the memory is still returned when the arena drops.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let arena = &DropArena::new();
    /// let r: &mut i32 = arena.alloc(5).leak();
    /// *r += 1;
    /// assert_eq!(*r, 6);
    /// ```
    #[inline]
    pub fn leak(self) -> &'arena mut T {
        let ptr = self.into_raw();
        // SAFETY: the consumed box owned the initialized `T` exclusively for
        // `'arena` (its slot stays allocated while the arena lives, and no
        // one reuses an abandoned slot).
        unsafe { &mut *ptr.as_ptr() }
    }

    /// Consumes the box without dropping the value, returning its pointer.
    #[inline]
    fn into_raw(self) -> NonNull<T> {
        ManuallyDrop::new(self).ptr
    }
}

impl<T> Drop for DropBox<'_, T> {
    /// Drops the value; the slot stays in use until the arena drops.
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the box owns an initialized `T` (invariant), dropped once,
        // here; the box is never used again.
        unsafe { ptr::drop_in_place(self.ptr.as_ptr()) }
    }
}

impl<T> Deref for DropBox<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the box owns an initialized `T` exclusively (invariant);
        // while the box is borrowed shared, no one can mutate the `T`.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> DerefMut for DropBox<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the box owns an initialized `T` exclusively (invariant);
        // the exclusive borrow of the box makes the result unique.
        unsafe { self.ptr.as_mut() }
    }
}

impl<T> fmt::Pointer for DropBox<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&self.ptr, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_layout_fits_a_value_and_a_link() {
        assert_eq!(mem::size_of::<ArenaSlot<u8>>(), mem::size_of::<usize>());
        assert_eq!(mem::size_of::<ArenaSlot<[u64; 3]>>(), 24);
        assert!(!mem::needs_drop::<ArenaSlot<String>>());
    }

    #[test]
    fn with_capacity_is_exact_then_doubles() {
        let arena = &DropArena::<u32>::with_capacity(3);
        // u32 slots are pointer-sized.
        assert_eq!(
            arena.stats().reserved_bytes,
            3 * mem::size_of::<ArenaSlot<u32>>()
        );
        for i in 0..4 {
            arena.alloc(i).leak();
        }
        assert_eq!(
            arena.stats().reserved_bytes,
            9 * mem::size_of::<ArenaSlot<u32>>()
        );
    }

    #[test]
    fn zero_sized_types_allocate_nothing() {
        #[derive(Debug, PartialEq)]
        struct Unit;
        let arena = &DropArena::with_capacity(1000);
        let boxes: Vec<_> = (0..10).map(|_| arena.alloc(Unit)).collect();
        assert_eq!((arena.len(), arena.max_len()), (10, 10));
        assert_eq!(arena.stats(), crate::SpaceStats::new(0, 0));
        for b in boxes {
            assert_eq!(*b, Unit);
            arena.drop_box(b);
        }
        let again: Vec<_> = (0..5).map(|_| arena.alloc(Unit)).collect();
        assert_eq!((arena.len(), arena.max_len()), (5, 10));
        drop(again);
        assert!(arena.raw.free.get().is_none());
        assert!(arena.raw.next.get().is_null());
        assert!(arena.raw.chunk_spans().is_empty());
    }

    #[test]
    fn free_list_is_lifo_and_counted() {
        let arena = &DropArena::new();
        let a = arena.alloc(1u64);
        let b = arena.alloc(2u64);
        let (pa, pb) = (a.ptr, b.ptr);
        arena.drop_box(a);
        arena.drop_box(b);
        assert_eq!(arena.raw.free_slots(), 2);
        let c = arena.alloc(3);
        let d = arena.alloc(4);
        assert_eq!((c.ptr, d.ptr), (pb, pa));
        assert_eq!(arena.raw.free_slots(), 0);
        assert_eq!(arena.max_len(), 2);
    }
}
