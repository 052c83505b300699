//! [`Forward`]'s machinery: a cell index and generation of the arena
//! branded `'id`, resolved to the object's current address through the
//! arena's cell table, and the references read through it. Invariant: a
//! `Forward` is only made (`Forward::new`) for a cell of its arena that
//! tracked a shared `T` at that generation; the generation check then says
//! whether it still does.

use alloc::vec::Vec;
use core::marker::PhantomData;
use core::ptr::NonNull;

use generativity::Id;

use crate::region::{Arena, Rebrand};

use super::cells::NOWHERE;
use crate::visit::{Managed, Visitor};

/// Brand, pointee (invariant) and `!Send + !Sync` of a [`Forward`].
type ForwardMarker<'id, T> = (Id<'id>, *mut T);

/// Bytes before a shared slice's elements: its length, one word (the
/// elements are aligned to at most a granule, 8 bytes).
pub(crate) const SLICE_HEAD: usize = size_of::<usize>();

mod sealed {
    /// Keeps [`Shared`](super::Shared) implemented here only.
    pub trait Sealed {}
}

/// What a [`Forward`] can refer to: any sized type (made by
/// [`Arena::alloc_shared`] or [`Arena::share`]), or a slice of `Copy`
/// elements (made by [`Arena::alloc_shared_slice`], resized in place or
/// moved by [`Arena::resize_shared`]). Sealed.
pub trait Shared: sealed::Sealed {
    /// Whether every value of the type is zero-sized (then its cell has no
    /// place): known at compile time, so a read of a sized value tests
    /// nothing at run time.
    #[doc(hidden)]
    const __ZERO_SIZED: bool;

    /// The object whose first granule is at `head`.
    ///
    /// # Safety
    ///
    /// `head` is the start of a live shared object of this type in a
    /// region (for a slice: its length word, then its elements).
    #[doc(hidden)]
    unsafe fn __at(head: NonNull<u8>) -> NonNull<Self>;

    /// The object of a cell with no place (a zero-sized value).
    #[doc(hidden)]
    fn __nowhere() -> NonNull<Self>;

    /// What [`Arena::remove`] hands back: the value itself for a sized
    /// type, the elements in a `Vec` for a slice.
    type Owned;

    /// Removes the object of `forward` from `arena`: its value, or `None`
    /// if it was removed already.
    #[doc(hidden)]
    fn __remove<'id, const N: usize>(
        arena: &mut Arena<'id, N>,
        forward: Forward<'id, Self>,
    ) -> Option<Self::Owned>;
}

impl<T> sealed::Sealed for T {}

impl<T> Shared for T {
    const __ZERO_SIZED: bool = size_of::<T>() == 0;

    #[inline(always)]
    unsafe fn __at(head: NonNull<u8>) -> NonNull<T> {
        head.cast()
    }

    #[inline(always)]
    fn __nowhere() -> NonNull<T> {
        NonNull::dangling()
    }

    type Owned = T;

    #[inline]
    fn __remove<'id, const N: usize>(
        arena: &mut Arena<'id, N>,
        forward: Forward<'id, T>,
    ) -> Option<T> {
        arena.take_shared(forward)
    }
}

impl<T: Copy> sealed::Sealed for [T] {}

impl<T: Copy> Shared for [T] {
    // A shared slice always holds its length word.
    const __ZERO_SIZED: bool = false;

    #[inline(always)]
    unsafe fn __at(head: NonNull<u8>) -> NonNull<[T]> {
        // SAFETY: a live shared slice starts with its length, a `usize` at
        // a granule (caller), and its elements follow the length word.
        unsafe {
            let len = head.cast::<usize>().read();
            NonNull::slice_from_raw_parts(head.add(SLICE_HEAD).cast(), len)
        }
    }

    #[inline(always)]
    fn __nowhere() -> NonNull<[T]> {
        NonNull::slice_from_raw_parts(NonNull::dangling(), 0)
    }

    type Owned = Vec<T>;

    #[inline]
    fn __remove<'id, const N: usize>(
        arena: &mut Arena<'id, N>,
        forward: Forward<'id, [T]>,
    ) -> Option<Vec<T>> {
        let elements = forward.get(arena)?.to_vec();
        let removed = arena.take_slice(forward);
        debug_assert!(removed, "the slice was live a moment ago");
        Some(elements)
    }
}

/// A stable, copyable reference to a value that the arena owns.
///
/// Made by [`Arena::share`] (from an [`Item`](crate::region::Item)) or
/// [`Arena::alloc_shared`], or for a slice that can grow and shrink, by
/// [`Arena::alloc_shared_slice`] (`Forward<'id, [T]>`). It is 8 bytes: the index of a forwarding
/// cell that the compactor updates when the object moves, and the cell's
/// generation. So it survives compaction without being tokenized; reading
/// through it loads the cell (one word: the object's granule index and the
/// generation), then the value, and needs a borrow of the arena, so no
/// reference obtained through it is live while objects move.
///
/// **Ownership.** The arena owns a shared object: it lives until
/// [`Arena::remove`] removes it (through any copy of a `Forward` to it) or
/// until the arena is dropped, which drops it. Each cell has a generation,
/// bumped when its object is freed; a `Forward` remembers the generation it
/// was made in, so after a free every copy reads `None` (even once the cell
/// is reused), never another object.
pub struct Forward<'id, T: ?Sized> {
    /// The index of the object's forwarding cell in its arena's table.
    index: u32,
    /// The cell's generation when the object was shared.
    generation: u32,
    /// Branded with the arena; refers to a `T`; neither `Send` nor `Sync`.
    ///
    /// Invariant in `T` (like `Cell<T>`): a `Forward` is `Copy` and
    /// [`get_mut`](Forward::get_mut) writes a `T` through any copy, so a
    /// copy at a shorter `T` (`Forward<&'short str>` from a
    /// `Forward<&'static str>`) could store a value that another copy then
    /// reads after it is gone. Pinned by
    /// `tests/ui/region/forward_is_invariant.rs`.
    _marker: PhantomData<ForwardMarker<'id, T>>,
}

impl<'id, T: ?Sized> Forward<'id, T> {
    /// Wraps a cell.
    ///
    /// # Safety
    ///
    /// `index` is a cell of the arena branded `'id`, at `generation`, that
    /// tracks a shared object of type `T`.
    pub(crate) unsafe fn new(index: u32, generation: u32) -> Self {
        Forward {
            index,
            generation,
            _marker: PhantomData,
        }
    }

    /// The cell index.
    #[inline]
    pub(crate) fn index(self) -> u32 {
        self.index
    }

    /// The cell's generation when the object was shared.
    #[inline]
    pub(crate) fn generation(self) -> u32 {
        self.generation
    }
}

impl<'id, T: ?Sized + Shared> Forward<'id, T> {
    /// The object's address, when the cell still tracks it.
    #[inline]
    pub(crate) fn live_addr<const N: usize>(self, arena: &Arena<'id, N>) -> Option<NonNull<T>> {
        // The brand `'id` makes `arena` the arena that made this `Forward`,
        // whose table holds the cell (cells are never removed).
        let raw = arena.raw();
        let place = raw.core().cells.place(self.index, self.generation)?;
        if T::__ZERO_SIZED {
            // A zero-sized value has no place; any aligned address is it.
            Some(T::__nowhere())
        } else {
            // Redundant: a cell has no place exactly when its value is
            // zero-sized (`RawRegion::place`).
            debug_assert_ne!(place, NOWHERE);
            // SAFETY: the generation matches, so the cell is in use and
            // `place` is the first granule of the live shared `T` it tracks
            // (invariant of `Forward`).
            Some(unsafe { T::__at(raw.at(place)) })
        }
    }

    /// The value, or `None` if it was freed.
    #[inline]
    pub fn get<'a, const N: usize>(self, arena: &'a Arena<'id, N>) -> Option<&'a T> {
        // SAFETY: 1. the arena is borrowed for `'a`, during which nothing
        // moves and nothing is freed (`remove` and `compact` need `&mut`);
        // 2. the object is shared, so no `Item` gives `&mut` to it.
        self.live_addr(arena).map(|p| unsafe { p.as_ref() })
    }

    /// The value, mutably, or `None` if it was freed.
    #[inline]
    pub fn get_mut<'a, const N: usize>(self, arena: &'a mut Arena<'id, N>) -> Option<&'a mut T> {
        // SAFETY: as `get`, and the exclusive arena borrow rules out any
        // other reference to the object.
        self.live_addr(arena).map(|mut p| unsafe { p.as_mut() })
    }
}

// SAFETY: a `Forward` is an indirect reference: it points to a cell the
// compactor updates, so it holds no direct reference to visit.
unsafe impl<T: ?Sized> Managed for Forward<'_, T> {
    const HAS_REFS: bool = false;

    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, _visitor: &mut V) {}
}

// SAFETY: a `Forward` has no region lifetime (only the arena brand, which
// stays): `Branded` is `Self`.
unsafe impl<'id, T: ?Sized> Rebrand for Forward<'id, T> {
    type Branded<'b> = Forward<'id, T>;
}
