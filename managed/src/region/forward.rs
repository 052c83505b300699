//! [`Forward`]: a copyable reference that survives compaction.

use core::fmt;
use core::marker::PhantomData;
use core::ptr::NonNull;

use generativity::Id;

use crate::visit::{Managed, Visitor};

use super::arena::Arena;
use super::cells::Slot;
use super::token::Rebrand;

/// Brand, pointee and `!Send + !Sync` of a [`Forward`].
type ForwardMarker<'id, T> = (Id<'id>, fn() -> T, *mut ());

/// A stable, copyable reference to a value that the arena owns.
///
/// Made by [`Arena::share`] (from an [`Item`](super::Item)) or
/// [`Arena::allocate_shared`]. It points to a forwarding cell that the
/// compactor updates when the object moves, so it survives compaction
/// without being tokenized; reading through it is two loads (the cell, then
/// the value) and needs a borrow of the arena, so no reference obtained
/// through it is live while objects move.
///
/// **Ownership.** The arena owns a shared object: it lives until
/// [`Arena::free`] removes it (through any copy of a `Forward` to it) or
/// until the arena is dropped, which drops it. Each cell has a generation,
/// bumped when its object is freed; a `Forward` remembers the generation it
/// was made in, so after a free every copy reads `None` (even once the cell
/// is reused), never another object.
pub struct Forward<'id, T> {
    /// The object's forwarding cell (stable for the arena's life).
    slot: NonNull<Slot>,
    /// The cell's generation when the object was shared.
    generation: u64,
    /// Branded with the arena; refers to a `T`; neither `Send` nor `Sync`.
    _marker: PhantomData<ForwardMarker<'id, T>>,
}

impl<'id, T> Forward<'id, T> {
    /// Wraps a cell.
    ///
    /// # Safety
    ///
    /// `slot` is a cell of the arena branded `'id`, at `generation`, that
    /// tracks a shared object of type `T`.
    pub(crate) unsafe fn new(slot: NonNull<Slot>, generation: u64) -> Self {
        Forward {
            slot,
            generation,
            _marker: PhantomData,
        }
    }

    /// The cell, when it still tracks this object.
    #[inline]
    pub(crate) fn live_slot(self) -> Option<NonNull<u8>> {
        // SAFETY: cells live as long as the arena, and a `Forward<'id, _>`
        // is only ever used with a borrow of the arena branded `'id`.
        let slot = unsafe { self.slot.as_ref() };
        if slot.generation.get() == self.generation {
            // SAFETY: a cell in use (its generation matches) holds the
            // non-null address of its object.
            Some(unsafe { NonNull::new_unchecked(slot.addr.get()) })
        } else {
            None
        }
    }

    /// The value, or `None` if it was freed.
    #[inline]
    pub fn get<'a, const N: usize>(self, arena: &'a Arena<'id, N>) -> Option<&'a T> {
        let _ = arena;
        // SAFETY: 1. the arena is alive and borrowed for `'a`, during which
        // nothing moves and nothing is freed (`free` and `compact` need
        // `&mut`); 2. the object is shared, so no `Item` gives `&mut` to it.
        self.live_slot().map(|p| unsafe { p.cast::<T>().as_ref() })
    }

    /// The value, mutably, or `None` if it was freed.
    #[inline]
    pub fn get_mut<'a, const N: usize>(self, arena: &'a mut Arena<'id, N>) -> Option<&'a mut T> {
        let _ = arena;
        // SAFETY: as `get`, and the exclusive arena borrow rules out any
        // other reference to the object.
        self.live_slot().map(|p| unsafe { p.cast::<T>().as_mut() })
    }

    /// Whether the object is still alive (not freed).
    #[inline]
    pub fn is_live<const N: usize>(self, arena: &Arena<'id, N>) -> bool {
        let _ = arena;
        self.live_slot().is_some()
    }
}

impl<T> Clone for Forward<'_, T> {
    #[inline]
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Forward<'_, T> {}

impl<T> PartialEq for Forward<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.slot == other.slot && self.generation == other.generation
    }
}

impl<T> Eq for Forward<'_, T> {}

impl<T> fmt::Debug for Forward<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Forward")
            .field("cell", &self.slot)
            .field("generation", &self.generation)
            .finish()
    }
}

// SAFETY: a `Forward` is an indirect reference: it points to a cell the
// compactor updates, so it holds no direct reference to visit.
unsafe impl<T> Managed for Forward<'_, T> {
    const HAS_REFS: bool = false;

    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, _visitor: &mut V) {}
}

// SAFETY: a `Forward` has no region lifetime (only the arena brand, which
// stays): `Branded` is `Self`.
unsafe impl<'id, T> Rebrand for Forward<'id, T> {
    type Branded<'b> = Forward<'id, T>;
}
