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

use ::alloc::vec::Vec;
use core::borrow::{Borrow, BorrowMut};
use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::mem;

use crate::{AllocError, SpaceStats};

mod raw;

pub use raw::DropBox;
use raw::{OnOom, RawDropArena, fail};

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
    /// The free list, the chunks and the counters (invariants on its
    /// fields). Invariant in `'arena` and `T`, `!Sync`; the arena is `Send`
    /// when `T` is (the `unsafe impl` and its argument are in `raw`).
    raw: RawDropArena<'arena, T>,
}

impl<'arena, T> DropArena<'arena, T> {
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
            raw: RawDropArena::new(),
        }
    }

    /// Creates an arena whose first chunk holds exactly `n` slots, one per
    /// value (nothing is allocated for `n == 0` or a zero-sized `T`).
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
        match RawDropArena::with_capacity(n, OnOom::Abort) {
            Ok(raw) => Self { raw },
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
        let raw = RawDropArena::with_capacity(n, OnOom::Fail)?;
        Ok(Self { raw })
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
        self.raw.alloc(value)
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
        self.raw.drop_box(b);
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
        self.raw.box_to_inner(b)
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
        self.raw.max_len().saturating_sub(self.raw.free_slots())
    }

    /// Whether no slot is in use (`len() == 0`).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let arena = &DropArena::new();
    /// assert!(arena.is_empty());
    /// let b = arena.alloc(7);
    /// assert!(!arena.is_empty());
    /// assert_eq!(arena.box_to_inner(b), 7); // the slot is given back
    /// assert!(arena.is_empty());
    /// ```
    #[must_use]
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
        SpaceStats::new(self.len() * mem::size_of::<T>(), self.raw.reserved_bytes())
    }

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
        if RawDropArena::<T>::IS_ZST {
            return map;
        }
        let free: Vec<usize> = self.raw.free_slot_addrs();
        let slot = mem::size_of::<raw::ArenaSlot<T>>();
        let (next, end) = self.raw.unused_range();
        for (i, (start, bytes)) in self.raw.chunk_spans().into_iter().enumerate() {
            let slots = bytes / slot;
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
                .push_to(SpanKind::Padding, bytes);
            map.push(block);
        }
        map
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
        self.raw.max_len()
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
        self.raw.free_without_dropping(b);
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

// ---------------------------------------------------------------------------
// DropBox: the safe trait impls (the unsafe ones are in `raw`)
// ---------------------------------------------------------------------------

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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn capacity_overflow_is_an_error() {
        assert_eq!(
            DropArena::<[u8; 16]>::try_with_capacity(usize::MAX / 8).unwrap_err(),
            AllocError::CapacityOverflow
        );
        assert!(DropArena::<()>::try_with_capacity(usize::MAX).is_ok());
    }
}
