//! The non-generic bookkeeping of a [`ContiguousUniformPool`]: the slot
//! table that keys and proxies go through, and the removals deferred while
//! the pool is borrowed.
//!
//! Kept free of `T` so it is compiled once, whatever the pools' types.
//!
//! A *slot* is 16 bytes on a slot page: the current address of its object
//! (rewritten by the pool whenever the object moves, the stable forwarding
//! cell the object's back-pointer names), a generation, and one more word.
//! A key is a slot index and the generation the slot had when its object
//! was inserted; the generation is odd exactly while the slot's object is
//! live, and it changes when the object is removed, so a key of a removed
//! object never matches again (not even once the slot is reused).
//!
//! Slot pages come from a [`PageList`] and are aligned to their size, so
//! masking a slot's address gives its page's header, which points at the
//! pool's core and holds the page's number: an 8-byte proxy (a slot
//! pointer) finds its object (one load), its pool (a mask and one load of
//! a cache-resident header) and its key from its own value. A key's index
//! is `page << 8 | n`, where slot `n` (1 to 255) lies `16 * n` bytes from
//! the page base (the header takes the place of slot 0), so a lookup by key
//! is a bounds check, one load from the page table, and the slot.
//!
//! [`ContiguousUniformPool`]: super::ContiguousUniformPool

use core::alloc::Layout;
use core::ptr::{self, NonNull};

use crate::page::{PageList, PageSize};

/// One slot.
///
/// States (the generation's parity and `extra` tell them apart):
///
/// | state    | generation | `addr`             | `extra`               |
/// |----------|------------|--------------------|-----------------------|
/// | live     | odd        | the object         | `HELD` or 0           |
/// | pending  | even       | the object         | `HELD` or 0           |
/// | detached | even       | null               | `HELD`                |
/// | vacant   | even       | null               | `VACANT \| next free` |
/// | retired  | even       | null               | `RETIRED`             |
///
/// *Live*: the object is stored and keys with this generation reach it.
/// *Pending*: its removal began while the pool was borrowed; the object is
/// still stored (and moved like any other) until the borrow ends, and is
/// listed once in [`Table::pending`]. *Detached*: the object was removed
/// by key while a proxy holds the slot; the slot waits for the proxy to
/// drop. *Vacant*: on the free list. `HELD` means a live proxy points at
/// the slot (its `cell` field).
#[repr(C)]
pub(crate) struct Slot {
    /// The object's address (with its page's provenance), or null.
    pub(crate) addr: *mut u8,
    /// Odd exactly while live.
    pub(crate) generation: u32,
    /// `HELD`, or `VACANT` and the next free index (see the table above).
    pub(crate) extra: u32,
}

/// A pointer to a slot on a live slot page.
pub(crate) type SlotPtr = NonNull<Slot>;

/// `Slot::extra` of a slot a live proxy points at.
pub(crate) const HELD: u32 = 1;
/// `Slot::extra` bit of a vacant slot; the other bits are the next free
/// index, or [`NO_SLOT`].
const VACANT: u32 = 1 << 31;
/// "No slot": the end of the free list. No slot has this index (indexes
/// stay below `0x7fff_ff00`).
const NO_SLOT: u32 = VACANT - 2;
/// `Slot::extra` of a retired slot: vacant, on no list, never reused.
const RETIRED: u32 = u32::MAX;
/// Index bits of the slot number within a page.
const SLOT_BITS: u32 = 8;
/// Slots per page: numbers `1..=255` (slot 0's place holds the header).
const PER_PAGE: u32 = (1 << SLOT_BITS) - 1;
/// Pages at most, so every index stays below `0x7fff_ff00` (below
/// [`NO_SLOT`]): almost 2^23 pages of 255 slots, two billion objects.
const MAX_PAGES: usize = (1 << (31 - SLOT_BITS)) - 1;
/// The last generation a slot may be vacant with and still be reused: one
/// more life would take its generation to `u32::MAX`, then wrap, so a slot
/// that reaches it is retired instead (16 bytes lost every two billion
/// reuses of one slot) and no key can ever match a later object.
const LAST_GENERATION: u32 = u32::MAX - 1;

/// The size, and alignment, of a slot page: 255 slots after a 16-byte
/// header, so a million objects need about four thousand page headers and
/// a 31 KiB page table (both cache-resident), while a small pool reserves
/// only 4 KiB of slots.
const SLOT_PAGE: PageSize = PageSize::DEFAULT;

/// The header at the base of every slot page.
#[repr(C)]
struct SlotPage {
    /// The heap-allocated core of the pool owning the page (type-erased),
    /// which never moves while the pool lives.
    core: NonNull<u8>,
    /// The page's number: its slots' indexes are `number << 8 | n`.
    number: u32,
}

const _: () = {
    assert!(size_of::<Slot>() == 16 && align_of::<Slot>() == 8);
    assert!(size_of::<SlotPage>() == size_of::<Slot>());
    assert!(SLOT_PAGE.get() == (1 << SLOT_BITS) * size_of::<Slot>());
};

/// The pool's core, found from a slot by masking its address.
///
/// # Safety
///
/// `slot` must be a slot of a [`Table`] that is still alive.
#[inline(always)]
pub(crate) unsafe fn core_of(slot: SlotPtr) -> NonNull<u8> {
    let base = slot.as_ptr().map_addr(|addr| addr & !SLOT_PAGE.mask());
    // SAFETY: `slot` lies in a live page of the table (caller contract),
    // derived from the page's own pointer, so masking it yields the page
    // base with the page's provenance, where `PageList` keeps an
    // initialized `SlotPage` that nothing mutates after creation.
    unsafe { (*base.cast::<SlotPage>()).core }
}

/// The index of a slot, from its address.
///
/// # Safety
///
/// As for [`core_of`].
#[inline]
pub(crate) unsafe fn index_of(slot: SlotPtr) -> u32 {
    let addr = slot.as_ptr().addr();
    let base = slot.as_ptr().map_addr(|addr| addr & !SLOT_PAGE.mask());
    // SAFETY: as in `core_of`.
    let number = unsafe { (*base.cast::<SlotPage>()).number };
    let n = (addr - base.addr()) / size_of::<Slot>();
    number << SLOT_BITS | n as u32
}

/// The slot table of one pool, and its deferred removals.
pub(crate) struct Table {
    /// The slot pages, page `k` holding indexes `k << 8 | 1..=255`.
    ///
    /// Invariant: page `k`'s header names this table's pool core and has
    /// number `k`; its slots `1..fresh_end` (all of them but on the last
    /// page) are initialized `Slot`s.
    pages: PageList<SlotPage>,
    /// The base of every page, by number (a copy of `pages`' own pointers,
    /// kept here so a lookup by key is one load): `bases[k] ==
    /// pages.page_ptr(k)`.
    bases: Vec<NonNull<u8>>,
    /// The first never-used index: slots from it to the end of the last
    /// page are uninitialized. Equal to `bases.len() << 8` when the last
    /// page is full (or there is none).
    fresh: u32,
    /// The most recently freed vacant slot, or [`NO_SLOT`]. Every vacant
    /// slot is on this list exactly once; retired slots are on no list.
    free: u32,
    /// The generation new slots start with (even): above every generation
    /// a slot freed by [`shrink_to_fit`](Self::shrink_to_fit) had, so keys
    /// of those slots never match the slots that later reuse the indexes.
    floor: u32,
    /// Slots whose removal was deferred while the pool was borrowed. Each
    /// is a distinct pending slot; the pool's `PENDING` state bit is set
    /// exactly when this is not empty.
    pub(crate) pending: Vec<u32>,
    /// Slots in use (live, pending or detached).
    used: usize,
}

impl Table {
    /// No slots, no pages.
    pub(crate) fn new() -> Self {
        let (pages, geometry) = PageList::for_elements(SLOT_PAGE, Layout::new::<Slot>());
        debug_assert_eq!(
            (geometry.page_size, geometry.data_offset, geometry.capacity),
            (SLOT_PAGE, size_of::<Slot>(), PER_PAGE as usize)
        );
        Self {
            pages,
            bases: Vec::new(),
            fresh: 0,
            free: NO_SLOT,
            floor: 0,
            pending: Vec::new(),
            used: 0,
        }
    }

    /// The slot at `index`, if the table has one there (initialized: live,
    /// pending, detached or vacant). Any `u32` is a valid question.
    #[inline(always)]
    pub(crate) fn get(&self, index: u32) -> Option<SlotPtr> {
        let n = index & PER_PAGE;
        let base = *self.bases.get((index >> SLOT_BITS) as usize)?;
        if n == 0 || index >= self.fresh {
            return None;
        }
        // SAFETY: `n` is in `1..=255`, so the slot lies inside the page.
        Some(unsafe { base.add(n as usize * size_of::<Slot>()) }.cast())
    }

    /// The address of the live object that `index` and `generation` name,
    /// if there is one. Any pair is a valid question.
    #[inline(always)]
    pub(crate) fn lookup(&self, index: u32, generation: u32) -> Option<(SlotPtr, *mut u8)> {
        let slot = self.get(index)?;
        // SAFETY: an initialized slot of a live page; no reference to it
        // is live (slots are only accessed through raw pointers).
        let (addr, current) = unsafe { ((*slot.as_ptr()).addr, (*slot.as_ptr()).generation) };
        // An odd generation is a live slot, whose address is its object.
        (current == generation && generation & 1 == 1).then_some((slot, addr))
    }

    /// The slot at an index the table handed out and that is still in use.
    ///
    /// # Safety
    ///
    /// `index` names a slot in use (live, pending or detached).
    #[inline(always)]
    pub(crate) unsafe fn slot(&self, index: u32) -> SlotPtr {
        let n = index & PER_PAGE;
        debug_assert!(n != 0 && index < self.fresh);
        // SAFETY: a used slot lies on a live page (caller contract).
        unsafe {
            self.bases
                .get_unchecked((index >> SLOT_BITS) as usize)
                .add(n as usize * size_of::<Slot>())
                .cast()
        }
    }

    /// A vacant slot, taken off the free list (or never used before), on a
    /// page naming `core`; its generation is even, its address null.
    /// Nothing else changes, so the caller may still drop it on failure by
    /// [`release`](Self::release).
    ///
    /// # Panics
    ///
    /// When the pool would need more than two billion slots.
    #[inline]
    pub(crate) fn acquire(&mut self, core: NonNull<u8>) -> (u32, SlotPtr) {
        let index = if self.free != NO_SLOT {
            let index = self.free;
            // SAFETY: a listed slot is vacant, hence initialized.
            let slot = unsafe { self.slot(index) };
            // SAFETY: as above; the list continues at its `extra`.
            self.free = unsafe { (*slot.as_ptr()).extra } & !VACANT;
            index
        } else {
            if self.fresh & PER_PAGE == 0 {
                self.new_page(core);
            }
            // `fresh` is below the end of the last page (a full page's
            // `fresh` is the next page's slot 0, whose place is a header:
            // `new_page` moves it to slot 1).
            let index = self.fresh;
            self.fresh += 1;
            // SAFETY: the slot lies in the last page, past every
            // initialized slot; it is initialized here.
            unsafe {
                self.slot(index).write(Slot {
                    addr: ptr::null_mut(),
                    generation: self.floor,
                    extra: 0,
                });
            }
            index
        };
        self.used += 1;
        // SAFETY: initialized above or vacant before.
        let slot = unsafe { self.slot(index) };
        // SAFETY: as above.
        unsafe { (*slot.as_ptr()).extra = 0 };
        (index, slot)
    }

    /// Adds a page for slots `fresh..` (`fresh` is at a page boundary).
    #[cold]
    #[inline(never)]
    fn new_page(&mut self, core: NonNull<u8>) {
        let number = self.bases.len();
        assert!(
            number < MAX_PAGES,
            "ContiguousUniformPool: more than two billion objects"
        );
        self.bases.reserve(1);
        self.pages.push_back(SlotPage {
            core,
            number: number as u32,
        });
        let base = self.pages.page_ptr(number).expect("the page just added");
        self.bases.push(base);
        // Slot 0's place is the header.
        self.fresh = (number as u32) << SLOT_BITS | 1;
    }

    /// Puts a slot back on the free list (or retires it).
    ///
    /// # Safety
    ///
    /// `index` names a slot in use whose generation is even, which nothing
    /// (no proxy, no pending list, no position) refers to any more.
    #[inline]
    pub(crate) unsafe fn release(&mut self, index: u32) {
        // SAFETY: a used slot (caller contract).
        let slot = unsafe { self.slot(index).as_ptr() };
        // SAFETY: as above.
        unsafe {
            debug_assert!((*slot).generation & 1 == 0);
            (*slot).addr = ptr::null_mut();
            self.used -= 1;
            if (*slot).generation >= LAST_GENERATION {
                // Retired: never reused, so no key can match it again.
                (*slot).extra = RETIRED;
                return;
            }
            (*slot).extra = VACANT | self.free;
        }
        self.free = index;
    }

    /// Forgets every object: every slot in use that `in_use` lists becomes
    /// vacant (live ones get a new generation first); the pending list is
    /// emptied. Slots not listed (held by proxies that were leaked) stay as
    /// they are, never reused.
    ///
    /// # Safety
    ///
    /// `in_use` yields distinct slots in use, and nothing refers to them
    /// any more.
    pub(crate) unsafe fn vacate(&mut self, in_use: impl Iterator<Item = u32>) {
        self.pending.clear();
        for index in in_use {
            // SAFETY: a used slot (caller contract).
            unsafe {
                let slot = self.slot(index).as_ptr();
                (*slot).generation += (*slot).generation & 1;
                self.release(index);
            }
        }
    }

    /// Returns the pages at the end whose slots are all vacant (or never
    /// used) to the allocator, and unused capacity of the lists. Keys of
    /// the freed slots stay stale: slots made later start above their
    /// generations.
    pub(crate) fn shrink_to_fit(&mut self) {
        let mut keep = self.bases.len();
        let mut floor = self.floor;
        while keep > 0 && self.page_is_vacant(keep - 1) {
            let above = self
                .initialized(keep - 1)
                // SAFETY: an initialized slot of a live page.
                .map(|index| unsafe { (*self.slot(index).as_ptr()).generation })
                .fold(floor, |floor, generation| floor.max((generation + 1) & !1));
            if above > LAST_GENERATION - 2 {
                // Slots born there could not live once: keep the page.
                break;
            }
            floor = above;
            keep -= 1;
        }
        if keep < self.bases.len() {
            self.floor = floor;
            // The free list without the freed pages, lowest index first.
            let mut free = NO_SLOT;
            for page in (0..keep).rev() {
                for index in self.initialized(page).rev() {
                    // SAFETY: an initialized slot of a live page.
                    let slot = unsafe { self.slot(index).as_ptr() };
                    // SAFETY: as above.
                    unsafe {
                        if (*slot).extra & VACANT != 0 && (*slot).extra != RETIRED {
                            (*slot).extra = VACANT | free;
                            free = index;
                        }
                    }
                }
            }
            self.free = free;
            while self.bases.len() > keep {
                self.bases.pop();
                self.pages.pop_back();
            }
            self.fresh = (keep as u32) << SLOT_BITS;
        }
        self.pages.shrink_to_fit();
        self.bases.shrink_to_fit();
        self.pending.shrink_to_fit();
    }

    /// The initialized slot indexes of page `page`.
    fn initialized(&self, page: usize) -> impl DoubleEndedIterator<Item = u32> + use<> {
        let first = (page as u32) << SLOT_BITS | 1;
        let end = ((page as u32 + 1) << SLOT_BITS).min(self.fresh.max(first));
        first..end
    }

    /// Whether every initialized slot of page `page` is vacant or retired.
    fn page_is_vacant(&self, page: usize) -> bool {
        self.initialized(page).all(|index| {
            // SAFETY: an initialized slot of a live page.
            unsafe { (*self.slot(index).as_ptr()).extra & VACANT != 0 }
        })
    }

    /// Slots in use.
    pub(crate) fn used(&self) -> usize {
        self.used
    }

    /// Slots the pages hold.
    pub(crate) fn capacity(&self) -> usize {
        self.bases.len() * PER_PAGE as usize
    }

    /// Bytes of slot pages and lists reserved.
    pub(crate) fn reserved_bytes(&self) -> usize {
        self.pages.stats().reserved_bytes
            + self.bases.capacity() * size_of::<NonNull<u8>>()
            + self.pending.capacity() * size_of::<u32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Makes `index` live with the next generation and `addr`, as a push
    /// does; returns the generation.
    fn make_live(table: &Table, index: u32, addr: usize) -> u32 {
        // SAFETY: a slot just acquired from `table`.
        unsafe {
            let slot = table.slot(index).as_ptr();
            (*slot).addr = ptr::without_provenance_mut(addr);
            (*slot).generation += 1;
            (*slot).generation
        }
    }

    /// Begins and finishes the removal of a live slot, as `finish` does.
    fn remove(table: &mut Table, index: u32) {
        // SAFETY: a live slot of `table`, referred to by nothing else.
        unsafe {
            (*table.slot(index).as_ptr()).generation += 1;
            table.release(index);
        }
    }

    #[test]
    fn every_slot_finds_its_pool_core_and_index_across_pages() {
        let mut core_a = 0u64;
        let mut core_b = 0u64;
        let (a, b) = (
            NonNull::from(&mut core_a).cast(),
            NonNull::from(&mut core_b).cast(),
        );
        let mut table_a = Table::new();
        let mut table_b = Table::new();
        let n = 2 * PER_PAGE as usize + 3;
        let mine: Vec<(u32, SlotPtr)> = (0..n).map(|_| table_a.acquire(a)).collect();
        let (_, theirs) = table_b.acquire(b);
        for (i, &(index, slot)) in mine.iter().enumerate() {
            let generation = make_live(&table_a, index, 8 * (i + 1));
            // SAFETY: slots of a live table.
            unsafe {
                assert_eq!(core_of(slot), a);
                assert_eq!(index_of(slot), index);
            }
            assert_eq!(table_a.get(index), Some(slot));
            let found = table_a.lookup(index, generation).map(|(_, p)| p.addr());
            assert_eq!(found, Some(8 * (i + 1)));
        }
        // SAFETY: as above.
        assert_eq!(unsafe { core_of(theirs) }, b);
        // Indexes skip slot 0 of each page (the header's place).
        assert_eq!(mine[0].0, 1);
        assert_eq!(mine[PER_PAGE as usize].0, 1 << SLOT_BITS | 1);
        assert_eq!(table_a.used(), n);
        // Three pages, carved in chunks of 1, 1 and 2 pages.
        assert_eq!(table_a.capacity(), 3 * PER_PAGE as usize);
        assert_eq!(table_a.pages.stats().reserved_bytes, 4 * SLOT_PAGE.get());
    }

    #[test]
    fn lookups_reject_every_index_and_generation_they_should() {
        let mut core = 0u64;
        let core = NonNull::from(&mut core).cast();
        let mut table = Table::new();
        let (index, _) = table.acquire(core);
        let generation = make_live(&table, index, 64);
        assert!(table.lookup(index, generation).is_some());
        for (i, g) in [
            (index, generation + 2), // another life
            (index, generation - 1), // an even generation never matches
            (0, 0),                  // slot 0 is a header
            (index + 1, 0),          // past the last slot used
            (1 << SLOT_BITS | 1, 1), // a page that does not exist
            (u32::MAX, 1),           // a null key
        ] {
            assert!(table.lookup(i, g).is_none(), "{i} {g}");
        }
        remove(&mut table, index);
        assert!(table.lookup(index, generation).is_none(), "stale");
        // Reused, with a new generation: the old key still finds nothing.
        let (again, _) = table.acquire(core);
        assert_eq!(again, index);
        let next = make_live(&table, again, 128);
        assert_eq!(next, generation + 2);
        assert!(table.lookup(index, generation).is_none());
        assert!(table.lookup(index, next).is_some());
    }

    #[test]
    fn released_slots_are_reused_last_in_first_out_and_retired_at_the_end() {
        let mut core = 0u64;
        let core = NonNull::from(&mut core).cast();
        let mut table = Table::new();
        let (first, _) = table.acquire(core);
        let (second, _) = table.acquire(core);
        make_live(&table, first, 8);
        make_live(&table, second, 16);
        remove(&mut table, first);
        remove(&mut table, second);
        assert_eq!(table.acquire(core).0, second);
        assert_eq!(table.acquire(core).0, first);
        let (fresh, _) = table.acquire(core);
        assert!(fresh != first && fresh != second);
        // A slot at its last generation retires instead of wrapping.
        // SAFETY: a vacant slot just acquired.
        unsafe { (*table.slot(fresh).as_ptr()).generation = LAST_GENERATION - 2 };
        let generation = make_live(&table, fresh, 24);
        assert_eq!(generation, u32::MAX - 2);
        remove(&mut table, fresh);
        let (next, _) = table.acquire(core);
        assert_ne!(next, fresh, "a retired slot is never reused");
        assert!(table.lookup(fresh, generation).is_none());
    }

    #[test]
    fn shrinking_frees_vacant_pages_and_keeps_stale_keys_stale() {
        let mut core = 0u64;
        let core = NonNull::from(&mut core).cast();
        let mut table = Table::new();
        let n = 3 * PER_PAGE as usize;
        let keys: Vec<(u32, u32)> = (0..n)
            .map(|i| {
                let (index, _) = table.acquire(core);
                (index, make_live(&table, index, 8 * (i + 1)))
            })
            .collect();
        // Free everything but the first page's first slot.
        for &(index, _) in &keys[1..] {
            remove(&mut table, index);
        }
        table.shrink_to_fit();
        assert_eq!(table.capacity(), PER_PAGE as usize);
        assert!(table.lookup(keys[0].0, keys[0].1).is_some());
        // New slots reuse the freed indexes, above the old generations.
        let again: Vec<(u32, u32)> = (1..n)
            .map(|i| {
                let (index, _) = table.acquire(core);
                (index, make_live(&table, index, 8 * (i + 1)))
            })
            .collect();
        assert!(again[PER_PAGE as usize].0 == keys[PER_PAGE as usize + 1].0);
        for &(index, generation) in &keys[1..] {
            assert!(table.lookup(index, generation).is_none(), "{index}");
        }
        for &(index, generation) in &again {
            assert!(table.lookup(index, generation).is_some(), "{index}");
        }
        // Everything vacant: every page goes.
        remove(&mut table, keys[0].0);
        for &(index, _) in &again {
            remove(&mut table, index);
        }
        table.shrink_to_fit();
        assert_eq!(table.reserved_bytes(), 0);
        assert!(table.lookup(keys[0].0, keys[0].1).is_none());
        // Usable again.
        let (index, slot) = table.acquire(core);
        // SAFETY: a slot of the table as it is now.
        assert_eq!(unsafe { core_of(slot) }, core);
        assert_eq!(index, 1);
    }
}
