//! [`DropArena`] and [`DropBox`]: a typed arena whose boxes can be given back
//! one at a time, so that their slots are reused.
//!
//! A [`DropArena<'arena, T>`](DropArena) allocates values of one type `T`
//! and hands out [`DropBox<'arena, T>`](DropBox)es: owning pointers that
//! behave like a `Box<T>` tied to the arena (a [`DropBox`] is a
//! `#[repr(transparent)]` pointer, as small as a `&mut T`, and so is an
//! `Option<DropBox<T>>`). A slot is taken from the arena's free list when
//! there is one, otherwise carved from the current chunk; both paths are a
//! handful of instructions.
//!
//! There are several ways to get rid of a box:
//!
//! | call | runs `T::drop` | slot reused before the arena drops |
//! |---|---|---|
//! | [`arena.drop_box(b)`](DropArena::drop_box) | yes | yes (also when `T::drop` panics) |
//! | [`arena.box_to_inner(b)`](DropArena::box_to_inner) | no, returns the `T` | yes |
//! | [`drop(b)`](DropBox#impl-Drop-for-DropBox<'arena,+T>) | yes | no |
//! | [`b.into_inner()`](DropBox::into_inner) | no, returns the `T` | no |
//! | [`b.leak()`](DropBox::leak) | never | no |
//!
//! Every slot's memory goes back to the global allocator when the arena
//! drops. The arena never drops a value itself: values belong to their boxes.
//!
//! # Lifetime branding
//!
//! The arena's methods take `&'arena self`, and both types are *invariant* in
//! `'arena`: a box is accepted back only by an arena of exactly the same
//! lifetime, so an arena can never put a slot of an arena that dies sooner on
//! its free list. Two arenas of the same lifetime may exchange boxes (their
//! free lists then cross over); that is safe, but gains nothing.
//!
//! ```
//! use managed::prelude::*;
//!
//! let arena = &DropArena::new();
//! let mut b = arena.alloc(String::from("hello"));
//! b.push_str(", world");
//! assert_eq!(arena.len(), 1);
//! let s: String = arena.box_to_inner(b); // the slot is free again
//! assert_eq!(s, "hello, world");
//! assert_eq!((arena.len(), arena.max_len()), (0, 1));
//! let again = arena.alloc(String::from("reused"));
//! assert_eq!(arena.max_len(), 1); // the freed slot was reused
//! arena.drop_box(again);
//! ```
//!
//! # Recursive owning structures
//!
//! Nodes can own boxes of the same arena; a structure that holds the arena by
//! reference may implement [`Drop`] (the arena's own drop never touches a
//! `T`, so the drop check accepts the arena outliving its borrowers by
//! nothing but its storage):
//!
//! ```
//! use managed::prelude::*;
//!
//! struct Node<'d, T> {
//!     item: T,
//!     rest: Option<DropBox<'d, Node<'d, T>>>,
//! }
//!
//! struct Stack<'d, T> {
//!     arena: &'d DropArena<'d, Node<'d, T>>,
//!     head: Option<DropBox<'d, Node<'d, T>>>,
//! }
//!
//! impl<T> Drop for Stack<'_, T> {
//!     fn drop(&mut self) {
//!         // Iteratively, so that a long list cannot overflow the stack.
//!         while let Some(mut node) = self.head.take() {
//!             self.head = node.rest.take();
//!             self.arena.drop_box(node);
//!         }
//!     }
//! }
//!
//! let arena = &DropArena::new();
//! let mut stack = Stack { arena, head: None };
//! for i in 0..10 {
//!     let rest = stack.head.take();
//!     stack.head = Some(arena.alloc(Node { item: i, rest }));
//! }
//! assert_eq!(stack.head.as_ref().map(|n| n.item), Some(9));
//! drop(stack);
//! assert_eq!((arena.len(), arena.max_len()), (0, 10));
//! ```
//!
//! # Zero-sized types
//!
//! A `DropArena` of a zero-sized type allocates nothing at all: no chunk and
//! no free list, only the two counters behind [`DropArena::len`] and
//! [`DropArena::max_len`].

use ::alloc::alloc;
use ::alloc::vec::Vec;
use core::alloc::Layout;
use core::borrow::{Borrow, BorrowMut};
use core::cell::{Cell, UnsafeCell};
use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::marker::PhantomData;
use core::mem::{self, ManuallyDrop};
use core::ops::{Deref, DerefMut};
use core::ptr::{self, NonNull};

use crate::{AllocError, SpaceStats};

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------

/// Bytes of the first chunk an arena carves when it was not given a
/// capacity; later chunks double.
const FIRST_CHUNK_BYTES: usize = 1024;

/// A type invariant in `'arena` that owns nothing, needs no drop and is
/// `Send + Sync`: the brand shared by an arena and its boxes.
type Brand<'arena> = fn(&'arena ()) -> &'arena ();

/// One slot of an arena's storage.
///
/// A slot is *occupied* (a box owns the `T` at its start), *on a free list*
/// (`next` links to the next free slot), or *abandoned* (its box was dropped,
/// unwrapped or leaked: nobody uses it again until the arena frees the
/// chunk). Both fields start at offset 0, so a slot's address is its `T`'s.
#[repr(C)]
union Slot<T> {
    /// The value, while the slot is occupied. Never read through this field
    /// (boxes cast the slot pointer); it gives the slot `T`'s size and
    /// alignment.
    _value: ManuallyDrop<T>,
    /// The next free slot, while the slot is on a free list.
    next: Option<NonNull<Slot<T>>>,
}

/// The chunks of one arena: memory from the global allocator, returned when
/// the arena drops.
///
/// Not generic over `T`, so the chunk bookkeeping is compiled once, and its
/// [`Drop`] impl puts no drop-check requirement on `T` (see the module's
/// drop-check argument in `docs/notes/drop_arena.md`).
struct Chunks {
    /// Every chunk, with the layout it was allocated with.
    ///
    /// Invariant: each `(ptr, layout)` was returned by
    /// `alloc::alloc(layout)` with `layout.size() > 0`, and is deallocated
    /// exactly once, in `Drop`.
    list: Vec<(NonNull<u8>, Layout)>,
    /// Sum of the chunk sizes in bytes.
    reserved_bytes: usize,
    /// Slots in the newest chunk (0 before the first), the count to double.
    last_slots: usize,
    /// Slots in all chunks together.
    total_slots: usize,
}

/// A typed arena that hands out [`DropBox`]es and takes their slots back
/// into a free list in O(1).
///
/// `'arena` is the lifetime for which the arena is borrowed by its boxes:
/// every method that creates or takes back a box takes `&'arena self`, so the
/// usual way to make one is `let arena = &DropArena::new();`. The arena is
/// invariant in `'arena` and in `T`, and is not `Sync`.
///
/// See the [module documentation](self) for an overview.
pub struct DropArena<'arena, T> {
    /// Head of the free list (`None`: empty).
    ///
    /// Invariant: every slot on the list is in the *free* state (its `next`
    /// field is initialized), is owned by no box, belongs to a live chunk of
    /// this arena or of another arena of the same `'arena` (which outlives
    /// every use of this one), appears once (the list is acyclic), and its
    /// pointer has provenance over the whole slot. Always `None` for a
    /// zero-sized `T`.
    free: Cell<Option<NonNull<Slot<T>>>>,
    /// Next never-used slot of the newest chunk.
    ///
    /// Invariant: `next` and `end` are both null (no chunk yet, or `T` is
    /// zero-sized), or `next <= end` point into / one past the end of the
    /// newest chunk, with that chunk's provenance.
    next: Cell<*mut Slot<T>>,
    /// One past the last slot of the newest chunk (see `next`).
    end: Cell<*mut Slot<T>>,
    /// For a zero-sized `T` only: virtual free slots (boxes given back and
    /// not yet reused); otherwise 0 (the free list is counted by walking it
    /// in [`len`](Self::len), to keep allocation and give-back short).
    zst_free: Cell<usize>,
    /// For a zero-sized `T` only: virtual slots ever created (otherwise 0:
    /// the slots carved from chunks are computed from the bump pointer, to
    /// keep the allocation path short). Never decreases.
    zst_carved: Cell<usize>,
    /// The storage. Only [`DropArena::new_chunk`] mutates it, without running
    /// user code, so no two references to it ever overlap.
    chunks: UnsafeCell<Chunks>,
    /// Makes the arena invariant in `'arena` (the brand).
    _brand: PhantomData<Brand<'arena>>,
}

/// An owning pointer to a `T` in a [`DropArena<'arena, T>`](DropArena).
///
/// It derefs to `T` like a `Box<T>`, and forwards `Debug`, `Display`,
/// comparisons and `Hash` to the `T`. Dropping it drops the `T` but keeps
/// the slot until the arena drops; give it to
/// [`DropArena::drop_box`] or [`DropArena::box_to_inner`] to reuse the slot.
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
    _marker: PhantomData<(&'arena mut T, Brand<'arena>)>,
}

// SAFETY: a `DropBox` is an exclusive owner of a `T`, like `&mut T` or
// `Box<T>`: sending it sends the `T` (`T: Send`). It never touches the arena
// except through `DropArena` methods, which need `&DropArena` on the arena's
// own thread (`DropArena` is not `Sync`).
unsafe impl<T: Send> Send for DropBox<'_, T> {}

// SAFETY: `&DropBox<T>` only gives out `&T` (`T: Sync`), like `&Box<T>`.
unsafe impl<T: Sync> Sync for DropBox<'_, T> {}

// SAFETY: an arena can be moved only while no box or other `&'arena`
// borrow of it is alive (they borrow it), so at that point it owns nothing
// but empty storage and counters; any `T` it later stores are moved to it by
// the thread that uses it (`T: Send`). It stays `!Sync` (`Cell`).
unsafe impl<T: Send> Send for DropArena<'_, T> {}

// ---------------------------------------------------------------------------
// Chunks (non-generic core)
// ---------------------------------------------------------------------------

impl Chunks {
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
    /// returns its start.
    ///
    /// `slot.size()` must be a non-zero multiple of `slot.align()`.
    fn grow(&mut self, slot: Layout, slots: usize) -> Result<NonNull<u8>, AllocError> {
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
        // SAFETY: `layout` has a non-zero size (checked above).
        let ptr = unsafe { alloc::alloc(layout) };
        let ptr = NonNull::new(ptr).ok_or(AllocError::OutOfMemory { layout })?;
        self.list.push((ptr, layout));
        self.reserved_bytes += size;
        self.last_slots = slots;
        self.total_slots += slots;
        Ok(ptr)
    }
}

impl Drop for Chunks {
    fn drop(&mut self) {
        for &(ptr, layout) in &self.list {
            // SAFETY: `list` invariant: allocated by `alloc::alloc(layout)`,
            // freed only here, once.
            unsafe { alloc::dealloc(ptr.as_ptr(), layout) };
        }
    }
}

// ---------------------------------------------------------------------------
// Safe API: DropArena
// ---------------------------------------------------------------------------

impl<'arena, T> DropArena<'arena, T> {
    const IS_ZST: bool = mem::size_of::<T>() == 0;

    /// Creates an empty arena. It allocates nothing until the first
    /// [`alloc`](Self::alloc); its first chunk holds about 1 KiB of slots,
    /// and each later chunk twice as many as the one before.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let arena = &DropArena::new();
    /// let b = arena.alloc(5);
    /// assert_eq!(*b, 5);
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        Self {
            free: Cell::new(None),
            next: Cell::new(ptr::null_mut()),
            end: Cell::new(ptr::null_mut()),
            zst_free: Cell::new(0),
            zst_carved: Cell::new(0),
            chunks: UnsafeCell::new(Chunks::new()),
            _brand: PhantomData,
        }
    }

    /// Creates an arena whose first chunk holds exactly `n` slots
    /// (nothing is allocated for `n == 0` or a zero-sized `T`).
    ///
    /// # Panics
    ///
    /// If `n` slots of `T` exceed `isize::MAX` bytes; aborts through
    /// [`handle_alloc_error`](::alloc::alloc::handle_alloc_error) if the global allocator fails. See
    /// [`try_with_capacity`](Self::try_with_capacity) for the fallible form.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let arena = &DropArena::with_capacity(100);
    /// let reserved = arena.stats().reserved_bytes;
    /// for i in 0..100 {
    ///     arena.alloc(i).leak();
    /// }
    /// assert_eq!(arena.stats().reserved_bytes, reserved); // no new chunk
    /// ```
    #[must_use]
    #[track_caller]
    pub fn with_capacity(n: usize) -> Self {
        match Self::try_with_capacity(n) {
            Ok(arena) => arena,
            Err(e) => fail(e),
        }
    }

    /// Like [`with_capacity`](Self::with_capacity), but returns an error
    /// instead of panicking or aborting.
    ///
    /// # Errors
    ///
    /// [`AllocError::CapacityOverflow`] if `n` slots exceed `isize::MAX`
    /// bytes, [`AllocError::OutOfMemory`] if the global allocator fails.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let err = DropArena::<u64>::try_with_capacity(usize::MAX).unwrap_err();
    /// assert_eq!(err, AllocError::CapacityOverflow);
    /// ```
    pub fn try_with_capacity(n: usize) -> Result<Self, AllocError> {
        let arena = Self::new();
        if n > 0 && !Self::IS_ZST {
            let (start, slots) = arena.new_chunk(Some(n))?;
            arena.next.set(start.as_ptr());
            // SAFETY: `start` begins a chunk of `slots` slots; one past its
            // end is in bounds of the allocation.
            arena.end.set(unsafe { start.as_ptr().add(slots) });
        }
        Ok(arena)
    }

    /// Moves `value` into a slot of the arena and returns its box.
    ///
    /// Reuses the most recently freed slot if there is one, else carves the
    /// next slot of the current chunk, else allocates a new chunk.
    ///
    /// # Panics
    ///
    /// If a new chunk would exceed `isize::MAX` bytes; aborts through
    /// [`handle_alloc_error`](::alloc::alloc::handle_alloc_error) if the global allocator fails.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let arena = &DropArena::new();
    /// let mut b = arena.alloc(vec![1, 2]);
    /// b.push(3);
    /// assert_eq!(*b, [1, 2, 3]);
    /// ```
    #[inline]
    #[track_caller]
    #[must_use = "dropping the DropBox drops the value, and its slot is not reused; \
                  give it back with DropArena::drop_box"]
    pub fn alloc(&'arena self, value: T) -> DropBox<'arena, T> {
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

    /// Drops the box's value and puts its slot back on the free list.
    ///
    /// The slot is reclaimed even if `T::drop` panics (the panic then
    /// propagates). `T::drop` may use this arena (allocate, give boxes back).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let arena = &DropArena::new();
    /// let b = arena.alloc(String::from("gone"));
    /// arena.drop_box(b);
    /// assert_eq!(arena.len(), 0);
    /// ```
    #[inline]
    pub fn drop_box(&'arena self, b: DropBox<'arena, T>) {
        /// Gives the slot back when dropped: after `T::drop` returns, or
        /// while unwinding from it.
        struct GiveBack<'s, 'arena, T> {
            arena: &'s DropArena<'arena, T>,
            ptr: NonNull<T>,
        }
        impl<T> Drop for GiveBack<'_, '_, T> {
            #[inline]
            fn drop(&mut self) {
                // SAFETY: the value was dropped (or its drop panicked, which
                // also ends it); the slot is owned by no one and came from a
                // box of an arena of this arena's lifetime.
                unsafe { self.arena.give_back(self.ptr) };
            }
        }

        let ptr = b.into_raw();
        if mem::needs_drop::<T>() {
            let guard = GiveBack { arena: self, ptr };
            // SAFETY: `ptr` holds an initialized `T` that the consumed box
            // owned; it is dropped once, here, and never used again as a `T`.
            unsafe { ptr::drop_in_place(ptr.as_ptr()) };
            drop(guard);
        } else {
            // SAFETY: as in `GiveBack::drop`; `T` has no drop glue.
            unsafe { self.give_back(ptr) };
        }
    }

    /// Gives back a whole structure of boxes: drops `root`'s value and
    /// every value it owns through boxes of this arena, and puts all their
    /// slots back on the free list.
    ///
    /// `children` takes the boxes out of one value (its children, which
    /// [`drop(b)`](DropBox#impl-Drop-for-DropBox<'arena,+T>) would drop
    /// without reusing their slots); they are given back the same way, and
    /// then the value itself is dropped with [`drop_box`](Self::drop_box).
    /// The walk keeps its own stack, so a deep structure (a long list) cannot
    /// overflow the thread's stack.
    ///
    /// If `children` or a destructor panics, the boxes not yet given back
    /// are dropped as boxes (their values dropped, their slots not reused)
    /// and the panic continues.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// struct Tree<'d> {
    ///     left: Option<DropBox<'d, Tree<'d>>>,
    ///     right: Option<DropBox<'d, Tree<'d>>>,
    /// }
    ///
    /// fn build<'d>(arena: &'d DropArena<'d, Tree<'d>>, depth: u32) -> DropBox<'d, Tree<'d>> {
    ///     let child = || (depth > 0).then(|| build(arena, depth - 1));
    ///     arena.alloc(Tree { left: child(), right: child() })
    /// }
    ///
    /// let arena = &DropArena::new();
    /// for _ in 0..3 {
    ///     let tree = build(arena, 8);
    ///     assert_eq!(arena.len(), 511);
    ///     arena.drop_tree(tree, |t| t.left.take().into_iter().chain(t.right.take()));
    ///     assert_eq!(arena.len(), 0);
    /// }
    /// assert_eq!(arena.max_len(), 511); // every tree reused the first one's slots
    /// ```
    pub fn drop_tree<I, F>(&'arena self, root: DropBox<'arena, T>, mut children: F)
    where
        F: FnMut(&mut T) -> I,
        I: IntoIterator<Item = DropBox<'arena, T>>,
    {
        let mut pending = ::alloc::vec![root];
        while let Some(mut b) = pending.pop() {
            pending.extend(children(&mut b));
            self.drop_box(b);
        }
    }

    /// Moves the box's value out and puts its slot back on the free list.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let arena = &DropArena::new();
    /// let b = arena.alloc(String::from("hello"));
    /// let s: String = arena.box_to_inner(b);
    /// assert_eq!((s.as_str(), arena.len()), ("hello", 0));
    /// ```
    #[inline]
    pub fn box_to_inner(&'arena self, b: DropBox<'arena, T>) -> T {
        let ptr = b.into_raw();
        // SAFETY: `ptr` holds an initialized `T` owned by the consumed box;
        // it is read once and the slot is not used as a `T` again.
        let value = unsafe { ptr.as_ptr().read() };
        // SAFETY: the slot's value was moved out; no one owns the slot.
        unsafe { self.give_back(ptr) };
        value
    }

    /// Another name for [`box_to_inner`](Self::box_to_inner), matching
    /// [`DropBox::into_inner`].
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let arena = &DropArena::new();
    /// assert_eq!(arena.box_into_inner(arena.alloc(7)), 7);
    /// ```
    #[inline]
    pub fn box_into_inner(&'arena self, b: DropBox<'arena, T>) -> T {
        self.box_to_inner(b)
    }

    /// Puts the box's slot back on the free list *without* dropping its
    /// value (the opposite of [`DropBox::leak`]): whatever the value owned
    /// is leaked, as with [`mem::forget`].
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let arena = &DropArena::new();
    /// arena.free_without_dropping(arena.alloc([1u8; 16]));
    /// assert_eq!(arena.len(), 0);
    /// ```
    #[inline]
    pub fn free_without_dropping(&'arena self, b: DropBox<'arena, T>) {
        let ptr = b.into_raw();
        // SAFETY: the value is forgotten, never used again; no one owns the
        // slot.
        unsafe { self.give_back(ptr) };
    }

    /// Slots in use: slots carved from this arena's chunks minus slots on its
    /// free list. This counts the live boxes plus the slots whose boxes were
    /// dropped, unwrapped or leaked without being given back.
    ///
    /// If boxes are exchanged between two arenas of the same lifetime, each
    /// arena counts the slots it carved minus the slots on its own free list,
    /// saturating at 0.
    ///
    /// This walks the free list: O(free slots). (Keeping a count would cost
    /// every `alloc` and give-back two more memory operations; `len` is
    /// meant for statistics and tests.) [`max_len`](Self::max_len) is O(1).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let arena = &DropArena::new();
    /// let a = arena.alloc(1);
    /// let b = arena.alloc(2);
    /// drop(a); // value dropped, slot not given back
    /// arena.drop_box(b);
    /// assert_eq!(arena.len(), 1);
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.max_len().saturating_sub(self.free_slots())
    }

    /// Whether no slot is in use (`len() == 0`).
    #[must_use]
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most slots ever in use at once: every slot this arena has carved,
    /// since a new slot is carved only when the free list is empty.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let arena = &DropArena::new();
    /// let boxes: Vec<_> = (0..10).map(|i| arena.alloc(i)).collect();
    /// for b in boxes {
    ///     arena.drop_box(b);
    /// }
    /// assert_eq!((arena.len(), arena.max_len()), (0, 10));
    /// ```
    #[must_use]
    #[inline]
    pub fn max_len(&self) -> usize {
        if Self::IS_ZST {
            return self.zst_carved.get();
        }
        // Every chunk but the newest is fully carved (a chunk is added only
        // when the newest one is exhausted, or as the first one).
        let unused = (self.end.get().addr() - self.next.get().addr()) / mem::size_of::<Slot<T>>();
        // SAFETY: as in `stats`: no mutable reference to `chunks` is alive.
        let total = unsafe { (*self.chunks.get()).total_slots };
        debug_assert!(unused <= total);
        total - unused
    }

    /// Space statistics: `live_bytes` is `len() * size_of::<T>()`,
    /// `reserved_bytes` the bytes of every chunk (0 for a zero-sized `T`).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let arena = &DropArena::with_capacity(4);
    /// let _b = arena.alloc(1u64);
    /// let stats = arena.stats();
    /// assert_eq!((stats.live_bytes, stats.reserved_bytes), (8, 32));
    /// ```
    #[must_use]
    pub fn stats(&self) -> SpaceStats {
        // SAFETY: `chunks` is only mutated inside `grow`, which runs no user
        // code and is not running now (the arena is not `Sync`), so this
        // shared read overlaps no mutable reference.
        let reserved = unsafe { (*self.chunks.get()).reserved_bytes };
        SpaceStats::new(self.len() * mem::size_of::<T>(), reserved)
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
        let (start, slots) = match self.new_chunk(None) {
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
    fn new_chunk(&self, slots: Option<usize>) -> Result<(NonNull<Slot<T>>, usize), AllocError> {
        debug_assert!(!Self::IS_ZST);
        // SAFETY: the only other accesses to `chunks` are short reads in
        // `stats`; none is alive here (the arena is not `Sync`), and no user
        // code runs while this reference lives.
        let chunks = unsafe { &mut *self.chunks.get() };
        let slot = Layout::new::<Slot<T>>();
        let slots = slots.unwrap_or_else(|| chunks.next_slots(slot));
        let start = chunks.grow(slot, slots)?;
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
            let slot = ptr.cast::<Slot<T>>();
            // SAFETY: `ptr` is the start of a slot of a live arena (the box
            // invariant), with provenance over the whole slot; no one else
            // uses the slot (caller), so it may become a free-list node.
            unsafe { (&raw mut (*slot.as_ptr()).next).write(self.free.get()) };
            self.free.set(Some(slot));
        } else {
            self.zst_free.set(self.zst_free.get() + 1);
        }
    }

    /// Slots on the free list (virtual ones for a zero-sized `T`).
    fn free_slots(&self) -> usize {
        if Self::IS_ZST {
            return self.zst_free.get();
        }
        let mut count = 0;
        let mut cursor = self.free.get();
        while let Some(slot) = cursor {
            count += 1;
            // SAFETY: `free` invariant: every slot on the list is free (its
            // `next` is initialized) and alive, since the arenas whose slots
            // it holds outlive every use of this one; the list is acyclic.
            cursor = unsafe { (*slot.as_ptr()).next };
        }
        count
    }
}

impl<T> Default for DropArena<'_, T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for DropArena<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DropArena")
            .field("len", &self.len())
            .field("max_len", &self.max_len())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Panics with a clear message for a capacity overflow, aborts through
/// [`alloc::handle_alloc_error`] for an allocator failure.
#[cold]
#[inline(never)]
#[track_caller]
fn fail(e: AllocError) -> ! {
    match e {
        AllocError::OutOfMemory { layout } => alloc::handle_alloc_error(layout),
        e => panic!("DropArena: {e}"),
    }
}

// ---------------------------------------------------------------------------
// Safe API: DropBox
// ---------------------------------------------------------------------------

impl<'arena, T> DropBox<'arena, T> {
    /// Moves the value out. The slot is *not* reused before the arena drops;
    /// use [`DropArena::box_to_inner`] to reuse it.
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

impl<T> Borrow<T> for DropBox<'_, T> {
    #[inline]
    fn borrow(&self) -> &T {
        self
    }
}

impl<T> BorrowMut<T> for DropBox<'_, T> {
    #[inline]
    fn borrow_mut(&mut self) -> &mut T {
        self
    }
}

impl<T> AsRef<T> for DropBox<'_, T> {
    #[inline]
    fn as_ref(&self) -> &T {
        self
    }
}

impl<T> AsMut<T> for DropBox<'_, T> {
    #[inline]
    fn as_mut(&mut self) -> &mut T {
        self
    }
}

impl<T: fmt::Debug> fmt::Debug for DropBox<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: fmt::Display> fmt::Display for DropBox<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T> fmt::Pointer for DropBox<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&self.ptr, f)
    }
}

impl<T: PartialEq> PartialEq for DropBox<'_, T> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Eq> Eq for DropBox<'_, T> {}

impl<T: PartialOrd> PartialOrd for DropBox<'_, T> {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (**self).partial_cmp(&**other)
    }
}

impl<T: Ord> Ord for DropBox<'_, T> {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        (**self).cmp(&**other)
    }
}

impl<T: Hash> Hash for DropBox<'_, T> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

// Memory maps (`crate::memory_map`).
impl<'arena, T> DropArena<'arena, T> {
    /// A map of the arena's memory: one block per chunk, slot by slot:
    /// slots on the free list are free, slots never handed out (the end of
    /// the newest chunk) are free, and every other slot is live (its box
    /// owns it, or it was given up without being handed back, which
    /// [`len`](Self::len) counts too), with the slot's padding after the
    /// value. Live bytes are [`stats`](Self::stats)' live bytes (unless
    /// boxes crossed over between two arenas of one lifetime), and the
    /// blocks add up to its reserved bytes. No value is read.
    ///
    /// ```
    /// use managed::memory_map::SpanKind;
    /// use managed::prelude::*;
    ///
    /// let arena = &DropArena::with_capacity(8);
    /// let boxes: Vec<_> = (0..5u64).map(|i| arena.alloc(i)).collect();
    /// let mut boxes = boxes.into_iter();
    /// arena.drop_box(boxes.next().unwrap());
    /// let map = arena.memory_map();
    /// assert_eq!(map.bytes(SpanKind::Live), 4 * 8);
    /// assert_eq!(map.bytes(SpanKind::Free), 4 * 8);
    /// assert_eq!(map.reserved_bytes(), arena.stats().reserved_bytes);
    /// ```
    #[must_use]
    pub fn memory_map(&self) -> crate::memory_map::MemoryMap {
        use crate::memory_map::{Block, MemoryMap, SpanKind, type_name};
        let mut map = MemoryMap::new(::alloc::format!("DropArena<{}>", type_name::<T>()));
        if Self::IS_ZST {
            return map;
        }
        let mut free = Vec::new();
        let mut cursor = self.free.get();
        while let Some(slot) = cursor {
            free.push(slot.addr().get());
            // SAFETY: `free` invariant: every slot on the list is free (its
            // `next` is initialized) and alive; the list is acyclic. A raw
            // read of the link, as in `free_slots`.
            cursor = unsafe { (*slot.as_ptr()).next };
        }
        free.sort_unstable();
        let slot = mem::size_of::<Slot<T>>();
        let (next, end) = (self.next.get().addr(), self.end.get().addr());
        // SAFETY: as in `stats`: `chunks` is only mutated inside `grow`,
        // which is not running now, so this shared read overlaps no
        // mutable reference.
        let chunks = unsafe { &*self.chunks.get() };
        for (i, &(ptr, layout)) in chunks.list.iter().enumerate() {
            let start = ptr.addr().get();
            let slots = layout.size() / slot;
            // Slots past `next` in the newest chunk were never handed out.
            let carved = if start <= next && next <= end && end <= start + slots * slot {
                (next - start) / slot
            } else {
                slots
            };
            let mut block = Block::new(::alloc::format!("chunk {i}"), start);
            for s in 0..carved {
                if free.binary_search(&(start + s * slot)).is_ok() {
                    block.push(SpanKind::Free, slot);
                } else {
                    block
                        .push(SpanKind::Live, mem::size_of::<T>())
                        .push(SpanKind::Padding, slot - mem::size_of::<T>());
                }
            }
            block
                .push(SpanKind::Free, (slots - carved) * slot)
                .push_to(SpanKind::Padding, layout.size());
            map.push(block);
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_layout_fits_a_value_and_a_link() {
        assert_eq!(mem::size_of::<Slot<u8>>(), mem::size_of::<usize>());
        assert_eq!(mem::size_of::<Slot<[u64; 3]>>(), 24);
        assert!(!mem::needs_drop::<Slot<String>>());
    }

    #[test]
    fn chunks_double_from_one_kib() {
        let arena = &DropArena::<u64>::new();
        assert_eq!(arena.stats().reserved_bytes, 0);
        let _a = arena.alloc(1);
        assert_eq!(arena.stats().reserved_bytes, 1024);
        for i in 0..128 {
            arena.alloc(i).leak();
        }
        // 129 slots: the first chunk (128) and a second of 256.
        assert_eq!(arena.stats().reserved_bytes, 1024 + 2048);
    }

    #[test]
    fn with_capacity_is_exact_then_doubles() {
        let arena = &DropArena::<u32>::with_capacity(3);
        // u32 slots are pointer-sized.
        assert_eq!(
            arena.stats().reserved_bytes,
            3 * mem::size_of::<Slot<u32>>()
        );
        for i in 0..4 {
            arena.alloc(i).leak();
        }
        assert_eq!(
            arena.stats().reserved_bytes,
            9 * mem::size_of::<Slot<u32>>()
        );
    }

    #[test]
    fn capacity_overflow_is_an_error() {
        assert_eq!(
            DropArena::<[u8; 16]>::try_with_capacity(usize::MAX / 8).unwrap_err(),
            AllocError::CapacityOverflow
        );
        assert!(DropArena::<()>::try_with_capacity(usize::MAX).is_ok());
    }

    #[test]
    fn zero_sized_types_allocate_nothing() {
        #[derive(Debug, PartialEq)]
        struct Unit;
        let arena = &DropArena::with_capacity(1000);
        let boxes: Vec<_> = (0..10).map(|_| arena.alloc(Unit)).collect();
        assert_eq!((arena.len(), arena.max_len()), (10, 10));
        assert_eq!(arena.stats(), SpaceStats::new(0, 0));
        for b in boxes {
            assert_eq!(*b, Unit);
            arena.drop_box(b);
        }
        let again: Vec<_> = (0..5).map(|_| arena.alloc(Unit)).collect();
        assert_eq!((arena.len(), arena.max_len()), (5, 10));
        drop(again);
        assert!(arena.free.get().is_none());
        assert!(arena.next.get().is_null());
        // SAFETY: test-only read, no grow running.
        assert!(unsafe { (*arena.chunks.get()).list.is_empty() });
    }

    #[test]
    fn free_list_is_lifo_and_counted() {
        let arena = &DropArena::new();
        let a = arena.alloc(1u64);
        let b = arena.alloc(2u64);
        let (pa, pb) = (a.ptr, b.ptr);
        arena.drop_box(a);
        arena.drop_box(b);
        assert_eq!(arena.free_slots(), 2);
        let c = arena.alloc(3);
        let d = arena.alloc(4);
        assert_eq!((c.ptr, d.ptr), (pb, pa));
        assert_eq!(arena.free_slots(), 0);
        assert_eq!(arena.max_len(), 2);
    }
}
