//! Forwarding cells: dense 8-byte slots holding an object's current place
//! (its granule index in the area) and a generation, so that `Forward`s and
//! single-item tokens survive compaction (the compactor maps every cell in
//! use through its forwarding formula).
//!
//! The table lives in the region's `RegionCore`, which outlives the arena while
//! tokens are outstanding (a token may be dropped after its arena).

use alloc::vec::Vec;
use core::cell::{Cell, UnsafeCell};

/// The drop glue of a shared object (given its address, or any address for
/// a zero-sized value, which it ignores).
pub(crate) type DropFn = unsafe fn(*mut u8);

/// The granule index of a cell tracking a zero-sized value (which has no
/// place in the area).
pub(crate) const NOWHERE: u32 = u32::MAX;

/// The generation half of a cell word.
#[inline]
fn generation(word: u64) -> u32 {
    (word >> 32) as u32
}

/// The cells of one region.
///
/// Each cell is one word: `generation << 32 | place`. An odd generation
/// means in use, `place` then being the object's granule index (or
/// [`NOWHERE`]); an even one means free, `place` then being the index + 1
/// of the next free cell (0 ends the list). Acquiring and releasing each
/// bump the generation, so a `Forward` (which remembers the odd generation
/// it was made in) matches only while its object lives. A cell released at
/// generation `u32::MAX` is retired (generation 0, never reused).
pub(crate) struct CellTable {
    /// The cells. Invariant: indices handed out are below the length, and
    /// the vector never shrinks. It may reallocate (in `acquire`), so no
    /// reference into it is held across a call that can acquire.
    slots: UnsafeCell<Vec<Cell<u64>>>,
    /// Per cell, the drop glue of the shared object it tracks (the arena
    /// drops those), or `None` (a token's cell, or free). Invariant: as
    /// long as `slots`, and `None` for every free cell (so acquiring a
    /// token's cell need not write it).
    drops: UnsafeCell<Vec<Option<DropFn>>>,
    /// Index + 1 of the first free cell, or 0.
    free_head: Cell<u32>,
}

impl CellTable {
    /// An empty table.
    pub(crate) fn new() -> Self {
        CellTable {
            slots: UnsafeCell::new(Vec::new()),
            drops: UnsafeCell::new(Vec::new()),
            free_head: Cell::new(0),
        }
    }

    /// The cell at `index`.
    #[inline]
    fn slot(&self, index: u32) -> &Cell<u64> {
        // SAFETY: the vector is only mutated in `grow` (a push), which
        // holds no reference across user code, so this shared access does
        // not overlap a mutation; callers pass indices handed out by
        // `acquire`, below the length.
        unsafe {
            let slots = &*self.slots.get();
            // Redundant (see above: indices come from `acquire` of this
            // table, through the arena's brand, and cells are never
            // removed); a debug cross-check only, on the `Forward` path.
            debug_assert!((index as usize) < slots.len());
            slots.get_unchecked(index as usize)
        }
    }

    /// The place (granule index or [`NOWHERE`]) of the object the cell at
    /// `index` tracks, if its generation is still `generation`.
    #[inline]
    pub(crate) fn place(&self, index: u32, generation_: u32) -> Option<u32> {
        let word = self.slot(index).get();
        (generation(word) == generation_).then_some(word as u32)
    }

    /// Takes a free cell, sets it to `place` (and the drop glue of a shared
    /// object), and returns its index and (odd) generation.
    #[inline]
    pub(crate) fn acquire(&self, place: u32, drop: Option<DropFn>) -> (u32, u32) {
        let (index, gen_) = match self.free_head.get().checked_sub(1) {
            Some(i) => {
                let slot = self.slot(i);
                let word = slot.get();
                self.free_head.set(word as u32);
                let gen_ = generation(word) + 1;
                slot.set(u64::from(gen_) << 32 | u64::from(place));
                (i, gen_)
            }
            None => (self.grow(place), 1),
        };
        if let Some(drop) = drop {
            // SAFETY: no reference into `drops` is live (see `slot`); the
            // index is below its length (the vectors grow together).
            unsafe { *(&mut *self.drops.get()).get_unchecked_mut(index as usize) = Some(drop) };
        }
        (index, gen_)
    }

    /// The slow path of [`acquire`](Self::acquire): a new cell at the end,
    /// in use at generation 1 at `place`, its drop glue `None`.
    #[cold]
    #[inline(never)]
    fn grow(&self, place: u32) -> u32 {
        // SAFETY: no reference into either vector is live (see `slot`).
        let (slots, drops) = unsafe { (&mut *self.slots.get(), &mut *self.drops.get()) };
        let i = u32::try_from(slots.len())
            .ok()
            .filter(|&i| i < u32::MAX)
            .expect("too many forwarding cells");
        slots.push(Cell::new(1 << 32 | u64::from(place)));
        drops.push(None);
        i
    }

    /// The place of the cell at `index`, in use.
    #[inline]
    pub(crate) fn place_of(&self, index: u32) -> u32 {
        let word = self.slot(index).get();
        // Redundant: only a token asks, and a token owns its cell (in use,
        // odd) until `release`, which it calls once.
        debug_assert!(generation(word) % 2 == 1);
        word as u32
    }

    /// Returns the cell at `index` (in use) to the free list, invalidating
    /// the `Forward`s made from it.
    #[inline]
    pub(crate) fn release(&self, index: u32) {
        let slot = self.slot(index);
        let gen_ = generation(slot.get());
        // Redundant: as in `place_of`, the caller owns the cell in use.
        debug_assert!(gen_ % 2 == 1);
        // SAFETY: no reference into `drops` is live; the index is below its
        // length (as long as `slots`).
        let drop = unsafe { (&mut *self.drops.get()).get_unchecked_mut(index as usize) };
        if drop.is_some() {
            *drop = None;
        }
        if gen_ == u32::MAX {
            // Retired: generation 0 matches no `Forward` (theirs are odd),
            // and the cell is not listed as free.
            slot.set(0);
        } else {
            slot.set(u64::from(gen_ + 1) << 32 | u64::from(self.free_head.get()));
            self.free_head.set(index + 1);
        }
    }

    /// Rewrites the place of every cell in use (except [`NOWHERE`]).
    pub(crate) fn map_places(&self, mut f: impl FnMut(u32) -> u32) {
        // SAFETY: `f` is crate code that does not acquire cells.
        for slot in unsafe { &*self.slots.get() } {
            let word = slot.get();
            if generation(word) % 2 == 1 && word as u32 != NOWHERE {
                slot.set(word & !0xffff_ffff | u64::from(f(word as u32)));
            }
        }
    }

    /// Takes the drop glue and place of the shared object of the first
    /// cell at or after `from` that has one, releasing the cell; returns
    /// them with the index to resume from.
    pub(crate) fn take_shared(&self, from: usize) -> Option<(usize, DropFn, u32)> {
        // SAFETY: short accesses, no reference kept across user code.
        let len = unsafe { (*self.drops.get()).len() };
        for i in from..len {
            // SAFETY: as above; `i < len`.
            let drop = unsafe { (&*self.drops.get())[i] };
            if let Some(drop) = drop {
                let place = self.place_of(i as u32);
                self.release(i as u32);
                return Some((i + 1, drop, place));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_invalidate_and_cells_are_reused() {
        let t = CellTable::new();
        let (a, ga) = t.acquire(5, None);
        assert_eq!((a, ga % 2), (0, 1));
        assert_eq!(t.place(a, ga), Some(5));
        t.release(a);
        assert_eq!(t.place(a, ga), None, "a released cell matches no Forward");
        let (b, gb) = t.acquire(9, None);
        assert_eq!((b, gb), (a, ga + 2), "reused, at the next odd generation");
        assert_eq!((t.place(b, ga), t.place(b, gb)), (None, Some(9)));
        let (c, _) = t.acquire(NOWHERE, None);
        assert_eq!(c, 1);
        let mut seen = Vec::new();
        t.map_places(|p| {
            seen.push(p);
            p + 1
        });
        assert_eq!(seen, [9], "free cells and NOWHERE are not mapped");
        assert_eq!(t.place_of(b), 10);
    }

    #[test]
    fn a_cell_at_the_last_generation_is_retired() {
        let t = CellTable::new();
        let (a, _) = t.acquire(1, None);
        t.slot(a).set(u64::from(u32::MAX) << 32 | 1);
        assert_eq!(t.place(a, u32::MAX), Some(1));
        t.release(a);
        assert_eq!(t.place(a, u32::MAX), None);
        let (b, gb) = t.acquire(2, None);
        assert_ne!(b, a, "a retired cell is never handed out again");
        assert_eq!(gb, 1);
    }

    #[test]
    fn shared_cells_hand_back_their_glue_once() {
        /// Does nothing.
        unsafe fn glue(_: *mut u8) {}
        let t = CellTable::new();
        t.acquire(3, None);
        let (s, g) = t.acquire(4, Some(glue));
        let (next, _, place) = t.take_shared(0).expect("one shared cell");
        assert_eq!((next, place), (s as usize + 1, 4));
        assert_eq!(t.place(s, g), None, "released");
        assert!(t.take_shared(0).is_none());
    }

    #[test]
    fn a_reused_cell_has_no_stale_glue() {
        /// Does nothing.
        unsafe fn glue(_: *mut u8) {}
        let t = CellTable::new();
        let (s, _) = t.acquire(3, Some(glue));
        t.release(s);
        let (u, _) = t.acquire(4, None);
        assert_eq!(u, s, "reused");
        assert!(
            t.take_shared(0).is_none(),
            "a free cell's glue is None, so a token's cell reusing it has none"
        );
        t.release(u);
        let (v, _) = t.acquire(5, Some(glue));
        assert_eq!(t.take_shared(0).map(|(_, _, p)| p), Some(5));
        assert_eq!(v, u);
    }
}
