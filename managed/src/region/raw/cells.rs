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
    /// Per cell, the granules right after its object that the object may
    /// grow into (a shared slice's room): dead in the bitmap, no other
    /// object's. Invariant: as long as `slots`; 0 for every cell but those
    /// of shared slices given room since the last compaction, which zeroes
    /// them all (it reclaims the dead granules).
    rooms: UnsafeCell<Vec<u32>>,
    /// Index + 1 of the first free cell, or 0.
    free_head: Cell<u32>,
}

impl CellTable {
    /// An empty table.
    pub(crate) fn new() -> Self {
        CellTable {
            slots: UnsafeCell::new(Vec::new()),
            drops: UnsafeCell::new(Vec::new()),
            rooms: UnsafeCell::new(Vec::new()),
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
        let (slots, drops, rooms) = unsafe {
            (
                &mut *self.slots.get(),
                &mut *self.drops.get(),
                &mut *self.rooms.get(),
            )
        };
        let i = u32::try_from(slots.len())
            .ok()
            .filter(|&i| i < u32::MAX)
            .expect("too many forwarding cells");
        slots.push(Cell::new(1 << 32 | u64::from(place)));
        drops.push(None);
        rooms.push(0);
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

    /// Points the cell at `index` (in use) at `place`: its object moved
    /// there (a shared slice grown into fresh space).
    #[inline]
    pub(crate) fn set_place(&self, index: u32, place: u32) {
        let slot = self.slot(index);
        let word = slot.get();
        // Redundant: the caller found the cell through a `Forward` whose
        // generation matched, so it is in use.
        debug_assert!(generation(word) % 2 == 1);
        slot.set(word & !0xffff_ffff | u64::from(place));
    }

    /// The room (granules) of the object of the cell at `index`.
    #[inline]
    pub(crate) fn room(&self, index: u32) -> u32 {
        // SAFETY: no reference into `rooms` is live (see `slot`); callers
        // pass indices of cells in use, below its length (as `slots`').
        unsafe { *(&*self.rooms.get()).get_unchecked(index as usize) }
    }

    /// Sets the room (granules) of the object of the cell at `index`: the
    /// dead granules right after it that are its own.
    #[inline]
    pub(crate) fn set_room(&self, index: u32, room: u32) {
        // SAFETY: as in `room`.
        unsafe { *(&mut *self.rooms.get()).get_unchecked_mut(index as usize) = room };
    }

    /// Exchanges the objects (places and rooms) of two cells in use.
    pub(crate) fn swap_objects(&self, a: u32, b: u32) {
        let (pa, pb) = (self.place_of(a), self.place_of(b));
        let (ra, rb) = (self.room(a), self.room(b));
        self.set_place(a, pb);
        self.set_place(b, pa);
        self.set_room(a, rb);
        self.set_room(b, ra);
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
        self.set_room(index, 0);
        if gen_ == u32::MAX {
            // Retired: generation 0 matches no `Forward` (theirs are odd),
            // and the cell is not listed as free.
            slot.set(0);
        } else {
            slot.set(u64::from(gen_ + 1) << 32 | u64::from(self.free_head.get()));
            self.free_head.set(index + 1);
        }
    }

    /// Rewrites the place of every cell in use (except [`NOWHERE`]), and
    /// forgets every room: the compaction that calls this reclaims the
    /// dead granules they were made of.
    #[inline]
    pub(crate) fn map_places(&self, mut f: impl FnMut(u32) -> u32) {
        // SAFETY: no reference into `rooms` is live (see `slot`).
        unsafe { (*self.rooms.get()).fill(0) };
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
/// Acquiring an entry is a bump inside a *run* of free entries
/// (`next..end`), and releasing one writes [`FREE`] into it and touches
/// nothing else. Neither keeps a list or a count: either is a
/// read-modify-write of one word per token, a chain through memory on
/// which each token of a tokenize or redeem loop waits for the one before
/// (popping a list whose next link is in the entry just taken bounded the
/// whole tokenize loop, and keeping a count bounded the redeem loop).
///
/// When the run is used up, the next one comes from `runs`; when none is
/// left, [`refill`](Self::refill) scans the table, collects its free
/// entries (those released since the last scan among them) into runs in
/// index order, and doubles the table when fewer than half of its entries
/// are free. So a scan is paid by at least half the table's length of
/// acquires, the table holds fewer than four times the most entries in use
/// at once (or [`MIN_ENTRIES`]), and the common cycle (tokenize the
/// survivors, compact, redeem them all) hands out entries in index order:
/// once the table is as long as a round needs, each round's first acquire
/// scans, finds every entry free and starts one run over the whole table.
pub(crate) struct TokenTable {
    /// The entries: in use, the granule index (below [`FREE`]) of the
    /// object of the outstanding token that holds the index; free, `FREE`.
    ///
    /// Invariants: 1. the vector never shrinks; it may reallocate (in
    /// `refill`), so no reference into it is held across a call that can
    /// acquire. 2. An entry in use is the place of a live object of the
    /// region (so the compactor may map it). 3. The length is at most the
    /// `limit` passed to every [`acquire`](Self::acquire) (checked when it
    /// grows), and at most `FREE`.
    places: UnsafeCell<Vec<Cell<u32>>>,
    /// The next entry of the current run.
    ///
    /// Invariant: `next <= end`, and every entry in `next..end` is free and
    /// in no run of `runs`.
    next: Cell<u32>,
    /// The end of the current run (exclusive). Invariant: at most the
    /// length of `places`.
    end: Cell<u32>,
    /// Further runs of free entries, `(start, end)`, the lowest last (the
    /// next one popped).
    ///
    /// Invariant: the runs are disjoint, non-empty, inside the table, and
    /// hold free entries only; an entry released after the scan that made
    /// them is in none (the next scan finds it).
    runs: UnsafeCell<Vec<(u32, u32)>>,
    /// The scans made so far (for the tests of the amortization).
    #[cfg(test)]
    scans: Cell<usize>,
}

/// The length of a token table after its first growth (when the limit
/// allows).
const MIN_ENTRIES: usize = 64;

/// Entries a scan checks together: a chunk whose entries are all free, or
/// all in use, takes a flag fold the compiler vectorizes, with no branch
/// per entry.
const SCAN_CHUNK: usize = 64;

impl TokenTable {
    /// An empty table.
    pub(crate) fn new() -> Self {
        TokenTable {
            places: UnsafeCell::new(Vec::new()),
            next: Cell::new(0),
            end: Cell::new(0),
            runs: UnsafeCell::new(Vec::new()),
            #[cfg(test)]
            scans: Cell::new(0),
        }
    }

    /// Every entry.
    #[inline]
    fn entries(&self) -> &[Cell<u32>] {
        // SAFETY: the vector is only mutated in `refill` (a resize), which
        // holds no reference across user code, so this shared access does
        // not overlap a mutation.
        unsafe { &*self.places.get() }
    }

    /// The entry at `index`.
    #[inline]
    fn entry(&self, index: u32) -> &Cell<u32> {
        // SAFETY: as in `entries`; callers pass an index inside the table:
        // one of the current run (below `end`, itself at most the length),
        // or one a token holds (handed out from a run, and the table never
        // shrinks).
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
    #[track_caller]
    pub(crate) fn acquire(&self, place: u32, limit: usize) -> u32 {
        debug_assert!(place < FREE);
        let mut i = self.next.get();
        if i >= self.end.get() {
            i = self.next_run(limit);
        }
        self.entry(i).set(place);
        self.next.set(i + 1);
        i
    }

    /// The slow path of [`acquire`](Self::acquire): makes the next run
    /// current (scanning for runs first if none is left) and returns its
    /// start.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn next_run(&self, limit: usize) -> u32 {
        // SAFETY: no reference into the runs is held elsewhere (only this
        // function and `refill` touch them, neither reentrantly).
        let empty = unsafe { (*self.runs.get()).is_empty() };
        if empty {
            self.refill(limit);
        }
        // SAFETY: as above.
        let run = unsafe { (*self.runs.get()).pop() };
        // `refill` leaves a run or panics.
        let (start, end) = run.expect("refill found or made a free entry");
        self.end.set(end);
        start
    }

    /// Scans the table for runs of free entries, in index order, and
    /// doubles it (a run of new entries) when fewer than half of its
    /// entries are free.
    ///
    /// # Panics
    ///
    /// If no entry is free and the table has `limit` entries already
    /// (before changing anything).
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn refill(&self, limit: usize) {
        #[cfg(test)]
        self.scans.set(self.scans.get() + 1);
        // SAFETY: no reference into either vector is live (see `entries`
        // and `next_run`).
        let (places, runs) = unsafe { (&mut *self.places.get(), &mut *self.runs.get()) };
        debug_assert!(runs.is_empty());
        let len = places.len();
        let mut free = 0;
        // The start of the run being collected.
        let mut open: Option<usize> = None;
        let mut close = |open: &mut Option<usize>, at: usize| {
            if let Some(start) = open.take() {
                // Indices are below the length, itself at most `FREE`.
                runs.push((start as u32, at as u32));
            }
        };
        for (c, chunk) in places.chunks(SCAN_CHUNK).enumerate() {
            let base = c * SCAN_CHUNK;
            if chunk.iter().fold(FREE, |f, e| f & e.get()) != 0 {
                // Every entry free.
                open.get_or_insert(base);
                free += chunk.len();
            } else if chunk.iter().fold(0, |f, e| f | e.get()) & FREE == 0 {
                // Every entry in use.
                close(&mut open, base);
            } else {
                for (k, e) in chunk.iter().enumerate() {
                    if e.get() & FREE != 0 {
                        open.get_or_insert(base + k);
                        free += 1;
                    } else {
                        close(&mut open, base + k);
                    }
                }
            }
        }
        if free == 0 || free < len / 2 {
            let grown = (len * 2).max(MIN_ENTRIES).min(limit).min(FREE as usize);
            if grown > len {
                open.get_or_insert(len);
                places.resize(grown, Cell::new(FREE));
                close(&mut open, grown);
            }
        }
        close(&mut open, places.len());
        assert!(!runs.is_empty(), "too many outstanding single-item tokens");
        runs.reverse();
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
        entry.set(FREE);

        place
    }

    /// The number of entries in use (a scan: for the arena's drop).
    pub(crate) fn in_use(&self) -> usize {
        self.entries()
            .iter()
            .filter(|e| e.get() & FREE == 0)
            .count()
    }

    /// Rewrites the place of every entry in use.
    #[inline]
    pub(crate) fn map_places(&self, mut f: impl FnMut(u32) -> u32) {
        // `f` is crate code that does not acquire entries.
        for entry in self.entries() {
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

    /// Maps the token table's places by `f`, returning the places it saw
    /// (the entries in use, in index order).
    fn mapped(t: &TokenTable, f: impl Fn(u32) -> u32) -> Vec<u32> {
        let mut seen = Vec::new();
        t.map_places(|p| {
            seen.push(p);
            f(p)
        });
        seen
    }

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
    fn token_entries_are_handed_out_in_runs_mapped_and_bounded() {
        let t = TokenTable::new();
        let a = t.acquire(5, 4);
        let b = t.acquire(7, 4);
        assert_eq!((a, b), (0, 1));
        assert_eq!(t.entries().len(), 4, "the first growth stops at the limit");
        assert_eq!(t.take(a), 5);
        let seen = mapped(&t, |p| p - 1);
        assert_eq!(seen, [7], "free entries are not mapped");
        assert_eq!(
            (t.acquire(9, 4), t.acquire(10, 4)),
            (2, 3),
            "the run goes on; a released entry waits for the next scan"
        );
        assert_eq!(t.scans.get(), 1);
        assert_eq!(t.acquire(11, 4), a, "the scan finds the released entry");
        assert_eq!(t.scans.get(), 2);
        let full = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| t.acquire(12, 4)));
        assert!(full.is_err(), "no index at or above the limit");
        assert_eq!(t.entries().len(), 4);
        assert_eq!(t.take(3), 10, "the table is unchanged by the refusal");
        assert_eq!(t.acquire(13, 4), 3);
        assert_eq!(t.in_use(), 4);
        assert_eq!(t.take(b), 6);
        assert_eq!(
            t.in_use(),
            3,
            "counts the entries in use, not the free ones"
        );
        let seen = mapped(&t, |p| p + 100);
        assert_eq!(seen, [11, 9, 13]);
        let taken: Vec<u32> = [3, 0, 2].iter().map(|&e| t.take(e)).collect();
        assert_eq!(taken, [113, 111, 109]);
        assert_eq!(t.in_use(), 0);
    }

    #[test]
    fn a_table_with_no_entry_in_use_hands_entries_out_from_the_first() {
        let t = TokenTable::new();
        let firsts: Vec<u32> = (0..MIN_ENTRIES as u32)
            .map(|p| t.acquire(p, 1 << 20))
            .collect();
        assert!(firsts.iter().copied().eq(0..MIN_ENTRIES as u32));
        assert_eq!(t.entries().len(), MIN_ENTRIES);
        // Released in index order, as a redeem loop does; the last release
        // leaves no entry in use.
        for (i, &e) in firsts.iter().enumerate() {
            assert_eq!(t.take(e), i as u32);
        }
        assert_eq!(t.in_use(), 0);
        let again: Vec<u32> = (0..3).map(|p| t.acquire(20 + p, 1 << 20)).collect();
        assert_eq!(again, [0, 1, 2], "in index order, one run over the table");
        assert_eq!(
            t.entries().len(),
            MIN_ENTRIES,
            "every entry was free: no growth"
        );
        assert_eq!(t.scans.get(), 2);
        let seen = mapped(&t, |p| p);
        assert_eq!(seen, [20, 21, 22], "only the entries in use are mapped");
    }

    #[test]
    fn a_scan_finds_the_free_runs_between_entries_in_use() {
        let t = TokenTable::new();
        let all: Vec<u32> = (0..MIN_ENTRIES as u32)
            .map(|p| t.acquire(p, 1 << 20))
            .collect();
        // Free every entry but 5, 6 and 40: the runs are 0..5, 7..40 and
        // 41..64, 61 entries, more than half the table.
        for &e in &all {
            if ![5, 6, 40].contains(&e) {
                t.take(e);
            }
        }
        let next: Vec<u32> = (0..61).map(|p| t.acquire(100 + p, 1 << 20)).collect();
        let expected: Vec<u32> = (0..5).chain(7..40).chain(41..64).collect();
        assert_eq!(next, expected, "the runs in index order");
        assert_eq!(t.entries().len(), MIN_ENTRIES);
        // Every entry is in use now: the next scan doubles the table.
        assert_eq!(t.acquire(0, 1 << 20), MIN_ENTRIES as u32);
        assert_eq!(t.entries().len(), 2 * MIN_ENTRIES);
        assert_eq!(t.scans.get(), 3);
    }

    /// Random acquires and releases against a model of the entries held:
    /// every index handed out is free, every place comes back, the map
    /// visits exactly the entries in use, the table stays within four
    /// times the most entries in use at once, and the scans are paid for.
    #[test]
    fn random_acquires_and_releases_match_a_model() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let steps = if cfg!(miri) { 300 } else { 100_000 };
        let (phase, check_every) = (steps / 10, steps / 50);
        let t = TokenTable::new();
        let mut held: Vec<(u32, u32)> = Vec::new();
        // Whether each entry index is held (the model of the table).
        let mut is_held: Vec<bool> = Vec::new();
        let (mut acquires, mut most) = (0usize, 0usize);
        // The scans seen, and the acquire count and table length at the
        // last one.
        let (mut last_scan_count, mut last_scan) = (0usize, (0usize, 0usize));
        for step in 0..steps {
            // Phases that grow the set held, and phases that shrink it.
            let grow = (step / phase) % 2 == 0;
            let r = next();
            if held.is_empty() || (r % 8 < if grow { 6 } else { 2 }) {
                let place = (r >> 8) as u32 & (FREE - 1);
                let i = t.acquire(place, 1 << 20);
                if is_held.len() <= i as usize {
                    is_held.resize(i as usize + 1, false);
                }
                assert!(!is_held[i as usize], "entry {i} handed out twice");
                is_held[i as usize] = true;
                held.push((i, place));
                acquires += 1;
                most = most.max(held.len());
                if t.scans.get() != last_scan_count {
                    // The scan before this one made runs of at least half
                    // the table's length then: as many acquires since.
                    if last_scan_count > 0 {
                        assert!(
                            acquires - last_scan.0 >= last_scan.1 / 2,
                            "a scan after {} acquires, with {} entries",
                            acquires - last_scan.0,
                            last_scan.1
                        );
                    }
                    last_scan_count = t.scans.get();
                    last_scan = (acquires, t.entries().len());
                }
            } else {
                let (i, place) = held.swap_remove((r >> 8) as usize % held.len());
                is_held[i as usize] = false;
                assert_eq!(t.take(i), place);
            }
            if step % check_every == 0 {
                assert_eq!(t.in_use(), held.len());
                let mut seen = mapped(&t, |p| p);
                let mut model: Vec<u32> = held.iter().map(|&(_, p)| p).collect();
                seen.sort_unstable();
                model.sort_unstable();
                assert_eq!(seen, model);
            }
            let len = t.entries().len();
            assert!(
                len <= (4 * most).max(MIN_ENTRIES),
                "{len} entries for {most} in use"
            );
        }
    }
}
