//! Forwarding cells: dense slots holding an object's current place (its
//! granule index in the area), which the compactor maps through its
//! forwarding formula, so that handles survive compaction. Two tables:
//!
//! - [`CellTable`], for `Forward`s: 8-byte cells with a generation (a
//!   `Forward` is a copyable handle, matched against it) and the shared
//!   object's drop glue beside them;
//! - [`TokenTable`], for single-item tokens: one 4-byte place per token of a
//!   value of non-zero size. A token owns its entry and is its only reader,
//!   so there is no generation and no glue, and the table stays small
//!   enough that an entry's index fits in the low bits of a token's tagged
//!   address (see `token::ItemToken`).
//!
//! Both live in the region's `RegionCore`, which outlives the arena while
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
    /// the vector never shrinks. It may reallocate (in `grow`), so no
    /// reference into it is held across a call that can acquire.
    slots: UnsafeCell<Vec<Cell<u64>>>,
    /// Per cell, the drop glue of the shared object it tracks (the arena
    /// drops those). Invariant: as long as `slots`; `Some` exactly for the
    /// cells in use (each tracks a shared object), `None` for free and
    /// retired ones.
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

    /// Takes a free cell, sets it to `place` and the drop glue of the shared
    /// object there, and returns its index and (odd) generation.
    #[inline]
    pub(crate) fn acquire(&self, place: u32, drop: DropFn) -> (u32, u32) {
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
        // SAFETY: no reference into `drops` is live (see `slot`); the index
        // is below its length (the vectors grow together).
        unsafe { *(&mut *self.drops.get()).get_unchecked_mut(index as usize) = Some(drop) };
        (index, gen_)
    }

    /// The slow path of [`acquire`](Self::acquire): a new cell at the end,
    /// in use at generation 1 at `place` (its drop glue set by the caller).
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
        // Redundant: only `take_shared` asks, for a cell with drop glue,
        // which is in use (see `drops`).
        debug_assert!(generation(word) % 2 == 1);
        word as u32
    }

    /// Returns the cell at `index` (in use) to the free list, invalidating
    /// the `Forward`s made from it.
    #[inline]
    pub(crate) fn release(&self, index: u32) {
        let slot = self.slot(index);
        let gen_ = generation(slot.get());
        // Redundant: the callers release a cell in use (one with glue, or
        // the cell of a `Forward` whose generation matched), once.
        debug_assert!(gen_ % 2 == 1);
        // SAFETY: no reference into `drops` is live; the index is below its
        // length (as long as `slots`).
        unsafe { *(&mut *self.drops.get()).get_unchecked_mut(index as usize) = None };
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
    #[inline]
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

/// The flag of a free [`TokenTable`] entry (places are granule indices,
/// below `MAX_CAPACITY / 8 < FREE`).
const FREE: u32 = 1 << 31;

/// The places of the objects that single-item tokens own: one entry per
/// token of a value of non-zero size, its object's granule index, which the
/// compactor keeps current.
///
/// Entries below `fresh` are in use or on the free list; entries from
/// `fresh` on are free and unlisted, handed out in index order. Once every
/// entry is free again (the common cycle: tokenize the survivors, compact,
/// redeem them all), the list is dropped and `fresh` goes back to 0, so the
/// next round hands entries out in index order with no load of a list
/// link: popping a list whose next link is in the entry just taken is one
/// dependent load per token, which bounded the whole tokenize loop.
///
/// Whether every entry is free is found by a scan, not a count: a count
/// kept by every release is a read-modify-write of one word per token, a
/// chain through memory that slowed the redeem loop as much as the list
/// slowed tokenize. The scan runs when an acquire would pop the list and
/// at least `fresh / 2` acquires have been made since the last scan, so
/// its cost is at most two entry reads per acquire.
pub(crate) struct TokenTable {
    /// The entries: in use, the granule index (below [`FREE`]) of the
    /// object of the outstanding token that holds the index; on the free
    /// list, `FREE |` the index + 1 of the next listed entry (0 ends the
    /// list); from `fresh` on, anything (never read).
    ///
    /// Invariants: 1. indices handed out are below the length, and the
    /// vector never shrinks; it may reallocate (in `grow`), so no reference
    /// into it is held across a call that can acquire. 2. An entry in use
    /// is the place of a live object of the region (so the compactor may
    /// map it). 3. The length is below the `limit` passed to every
    /// [`acquire`](Self::acquire) (checked when it grows).
    places: UnsafeCell<Vec<Cell<u32>>>,
    /// Index + 1 of the first free listed entry, or 0.
    ///
    /// Invariant: the list visits each free entry below `fresh` exactly
    /// once, and nothing else.
    free_head: Cell<u32>,
    /// Entries from here to the end are free and not listed.
    ///
    /// Invariant: `fresh <= places.len()`; every entry below it is either
    /// in use or listed.
    fresh: Cell<u32>,
    /// `fresh` when the last scan ran (0 if none has).
    fresh_at_scan: Cell<u32>,
    /// Entries taken off the list since the last scan: with the entries
    /// handed out from `fresh` since then, the acquires the next scan is
    /// paid by.
    pops_since_scan: Cell<u32>,
}

impl TokenTable {
    /// An empty table.
    pub(crate) fn new() -> Self {
        TokenTable {
            places: UnsafeCell::new(Vec::new()),
            free_head: Cell::new(0),
            fresh: Cell::new(0),
            fresh_at_scan: Cell::new(0),
            pops_since_scan: Cell::new(0),
        }
    }

    /// The entries handed out so far: `..fresh`.
    #[inline]
    fn handed_out(&self) -> &[Cell<u32>] {
        // SAFETY: the vector is only mutated in `grow` (a push), which holds
        // no reference across user code, so this shared access does not
        // overlap a mutation.
        let places = unsafe { &*self.places.get() };
        &places[..self.fresh.get() as usize]
    }

    /// The entry at `index`.
    #[inline]
    fn entry(&self, index: u32) -> &Cell<u32> {
        // SAFETY: as in `handed_out`; callers pass an index below `fresh`,
        // itself at most the length (invariant of `fresh`), or, in
        // `acquire`'s bump path, one they checked against the length.
        unsafe {
            let places = &*self.places.get();
            // Redundant (see above); a debug cross-check only.
            debug_assert!((index as usize) < places.len());
            places.get_unchecked(index as usize)
        }
    }

    /// Takes a free entry, sets it to `place` (the granule index of a live
    /// object the caller's token will own), and returns its index, which
    /// is below `limit`.
    ///
    /// # Panics
    ///
    /// If every entry is in use and there are `limit` of them already.
    #[inline]
    pub(crate) fn acquire(&self, place: u32, limit: usize) -> u32 {
        debug_assert!(place < FREE);
        // A listed entry, unless a scan finds every entry free and starts
        // the table over.
        if let Some(i) = self.free_head.get().checked_sub(1)
            && (!self.scan_due() || !self.start_over())
        {
            let entry = self.entry(i);
            self.free_head.set(entry.get() & !FREE);
            entry.set(place);
            self.pops_since_scan.set(self.pops_since_scan.get() + 1);
            return i;
        }
        let i = self.fresh.get();
        // SAFETY: a short shared access to the length (see `handed_out`).
        if (i as usize) < unsafe { (*self.places.get()).len() } {
            self.entry(i).set(place);
        } else {
            self.grow(place, limit);
        }
        self.fresh.set(i + 1);
        i
    }

    /// Whether enough acquires were made since the last scan to pay for
    /// one: at least half of `fresh`.
    #[inline]
    fn scan_due(&self) -> bool {
        let fresh = self.fresh.get();
        let since = self.pops_since_scan.get() as u64 + u64::from(fresh)
            - u64::from(self.fresh_at_scan.get());
        since >= u64::from(fresh / 2)
    }

    /// Scans the entries handed out; if none is in use, drops the list and
    /// makes `fresh` 0 (entries are then handed out from the first).
    /// Returns whether it did.
    #[cold]
    #[inline(never)]
    fn start_over(&self) -> bool {
        // In chunks whose flags are and-ed without a branch (a loop the
        // compiler vectorizes), stopping at the first chunk with an entry
        // in use.
        let all_free = self
            .handed_out()
            .chunks(256)
            .all(|chunk| chunk.iter().fold(FREE, |flags, e| flags & e.get()) != 0);
        if all_free {
            self.free_head.set(0);
            self.fresh.set(0);
        }
        self.fresh_at_scan.set(self.fresh.get());
        self.pops_since_scan.set(0);
        all_free
    }

    /// The slow path of [`acquire`](Self::acquire): a new entry at the end,
    /// which is `fresh`.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn grow(&self, place: u32, limit: usize) {
        // SAFETY: no reference into the vector is live (see `handed_out`).
        let places = unsafe { &mut *self.places.get() };
        let i = places.len();
        // Redundant by the invariant of `fresh` and the caller's test.
        debug_assert_eq!(i, self.fresh.get() as usize);
        // Never fails for the region (each entry in use tracks a distinct
        // live object, at least a granule, so there are fewer than the
        // capacity / 8 the limit exceeds), but the token encoding relies
        // on it: checked (once per growth).
        assert!(
            i < limit && i < FREE as usize,
            "too many outstanding single-item tokens"
        );
        places.push(Cell::new(place));
    }

    /// Releases the entry at `index` (in use, owned by the caller's token)
    /// and returns the place it held.
    #[inline]
    pub(crate) fn take(&self, index: u32) -> u32 {
        let entry = self.entry(index);
        let place = entry.get();
        // Redundant: a token owns its entry (in use) until this call, which
        // it makes once.
        debug_assert!(place & FREE == 0);
        entry.set(FREE | self.free_head.get());
        self.free_head.set(index + 1);
        place
    }

    /// The number of entries in use (a scan: for the arena's drop).
    pub(crate) fn in_use(&self) -> usize {
        self.handed_out()
            .iter()
            .filter(|e| e.get() & FREE == 0)
            .count()
    }

    /// Rewrites the place of every entry in use.
    #[inline]
    pub(crate) fn map_places(&self, mut f: impl FnMut(u32) -> u32) {
        // `f` is crate code that does not acquire entries.
        for entry in self.handed_out() {
            let place = entry.get();
            if place & FREE == 0 {
                entry.set(f(place));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Does nothing.
    unsafe fn glue(_: *mut u8) {}

    #[test]
    fn generations_invalidate_and_cells_are_reused() {
        let t = CellTable::new();
        let (a, ga) = t.acquire(5, glue);
        assert_eq!((a, ga % 2), (0, 1));
        assert_eq!(t.place(a, ga), Some(5));
        t.release(a);
        assert_eq!(t.place(a, ga), None, "a released cell matches no Forward");
        let (b, gb) = t.acquire(9, glue);
        assert_eq!((b, gb), (a, ga + 2), "reused, at the next odd generation");
        assert_eq!((t.place(b, ga), t.place(b, gb)), (None, Some(9)));
        let (c, _) = t.acquire(NOWHERE, glue);
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
        let (a, _) = t.acquire(1, glue);
        t.slot(a).set(u64::from(u32::MAX) << 32 | 1);
        assert_eq!(t.place(a, u32::MAX), Some(1));
        t.release(a);
        assert_eq!(t.place(a, u32::MAX), None);
        let (b, gb) = t.acquire(2, glue);
        assert_ne!(b, a, "a retired cell is never handed out again");
        assert_eq!(gb, 1);
    }

    #[test]
    fn shared_cells_hand_back_their_glue_once() {
        let t = CellTable::new();
        let (r, _) = t.acquire(3, glue);
        t.release(r);
        let (s, g) = t.acquire(4, glue);
        let (u, _) = t.acquire(5, glue);
        t.release(s);
        let (next, _, place) = t.take_shared(0).expect("one shared cell");
        assert_eq!((next, place), (u as usize + 1, 5));
        assert_eq!(t.place(s, g), None, "released");
        assert!(t.take_shared(0).is_none(), "free cells have no glue");
    }

    #[test]
    fn token_entries_are_reused_mapped_and_bounded() {
        let t = TokenTable::new();
        let a = t.acquire(5, 4);
        let b = t.acquire(7, 4);
        assert_eq!((a, b), (0, 1));
        assert_eq!(t.take(a), 5);
        let mut seen = Vec::new();
        t.map_places(|p| {
            seen.push(p);
            p - 1
        });
        assert_eq!(seen, [7], "free entries are not mapped");
        assert_eq!(t.acquire(9, 4), a, "a free entry is reused first");
        assert_eq!(t.take(b), 6);
        assert_eq!(t.take(a), 9);
        assert_eq!((t.acquire(1, 4), t.acquire(2, 4)), (a, b), "LIFO reuse");
        let c = t.acquire(3, 4);
        let d = t.acquire(4, 4);
        assert_eq!((c, d), (2, 3));
        let full = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| t.acquire(5, 4)));
        assert!(full.is_err(), "no index at or above the limit");
        assert_eq!(t.take(d), 4, "the table is unchanged by the refusal");
        assert_eq!(t.acquire(6, 4), d);
        assert_eq!(t.in_use(), 4);
        t.take(b);
        assert_eq!(
            t.in_use(),
            3,
            "counts the entries in use, not the free ones"
        );
    }

    #[test]
    fn a_table_with_entries_in_use_scans_once_per_half_its_size_of_acquires() {
        let t = TokenTable::new();
        let held: Vec<u32> = (0..8).map(|p| t.acquire(p, 64)).collect();
        // Entry 0 stays in use; the others go back and come again, over
        // and over, through the list.
        let mut scans = Vec::new();
        for round in 0..40u32 {
            let e = held[1 + (round as usize % 7)];
            t.take(e);
            let (at_scan, pops) = (t.fresh_at_scan.get(), t.pops_since_scan.get());
            assert_eq!(t.acquire(100 + round, 64), e, "the entry just released");
            if (t.fresh_at_scan.get(), t.pops_since_scan.get()) != (at_scan, pops + 1) {
                // A scan ran: it found entry 0 in use and kept the list.
                assert_eq!((t.fresh_at_scan.get(), t.pops_since_scan.get()), (8, 1));
                scans.push(round);
            }
        }
        // The first scan finds 8 entries handed out since the start, the
        // next ones 4 acquires (half the 8 entries) since the last.
        assert_eq!(scans, (0..40).step_by(4).collect::<Vec<_>>());
        assert_eq!(t.in_use(), 8);
    }

    #[test]
    fn a_table_with_no_entry_in_use_hands_entries_out_from_the_first() {
        let t = TokenTable::new();
        let firsts: Vec<u32> = (0..4).map(|p| t.acquire(10 + p, 8)).collect();
        assert_eq!(firsts, [0, 1, 2, 3]);
        // Released in index order, as a redeem loop does; the last release
        // leaves no entry in use.
        for (i, &e) in firsts.iter().enumerate() {
            assert_eq!(t.take(e), 10 + i as u32);
        }
        assert_eq!(t.in_use(), 0);
        let again: Vec<u32> = (0..3).map(|p| t.acquire(20 + p, 8)).collect();
        assert_eq!(
            again,
            [0, 1, 2],
            "in index order, not the list's LIFO order"
        );
        let mut seen = Vec::new();
        t.map_places(|p| {
            seen.push(p);
            p
        });
        assert_eq!(
            seen,
            [20, 21, 22],
            "entries past the handed-out ones are not mapped"
        );
        // With entries still in use, a released one is listed and reused
        // first; the unlisted entry 3 comes next, then a new one.
        assert_eq!(t.take(1), 21);
        assert_eq!(t.acquire(30, 8), 1);
        assert_eq!((t.acquire(31, 8), t.acquire(32, 8)), (3, 4));
        assert_eq!(t.in_use(), 5);
        let mut seen = Vec::new();
        t.map_places(|p| {
            seen.push(p);
            p + 100
        });
        assert_eq!(seen, [20, 30, 22, 31, 32]);
        let taken: Vec<u32> = [4, 0, 3, 2, 1].iter().map(|&e| t.take(e)).collect();
        assert_eq!(taken, [132, 120, 131, 122, 130]);
        assert_eq!(t.in_use(), 0);
        assert_eq!(t.acquire(40, 8), 0);
    }
}
