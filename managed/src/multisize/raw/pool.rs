//! The raw core of [`MultisizePool`](crate::multisize::MultisizePool):
//! size classes of equal slots in size-aligned pages, their intrusive free
//! lists, the table of large and zero-sized values, and the two handles,
//! [`MultisizeKey`] and [`MultisizeBlock`], whose fields the soundness of
//! every look-up rests on.
//!
//! A key names its slot by number, not by address: `(pool id, slot number,
//! generation)`. The pool keeps, per size class, a dense side table of one
//! `(generation, type)` entry per slot number, a vector of page bases
//! indexed by page number (`slot >> per_page_shift`) and an intrusive list
//! of free slots (each free slot holds the next one's address and number).
//! Checking a key is a compare of the pool id, one bounds checked load of
//! the slot's generation and one of its page base: no memory the pool does
//! not own is ever read, whatever the key.
//!
//! Raw blocks ([`RawMultisizePool::alloc_layout`], any `Layout`) take the
//! same slots, marked with [`SlotOps::RAW`] (nothing to drop). Their
//! handle, [`MultisizeBlock`], is owning rather than `Copy` and carries what
//! a typed key gets from its type: the class, the exact layout, and the
//! pointer. It cannot go stale while its pool keeps its id (only `dealloc`,
//! which consumes it, frees it; `clear` gives the pool a new id), so it is
//! checked by the pool id alone: no table is read.
//!
//! Every method of [`RawMultisizePool`] that is not an `unsafe fn` is safe
//! to call with any key or block: the safe [`MultisizePool`] is a thin
//! wrapper.
//!
//! [`MultisizePool`]: crate::multisize::MultisizePool

use alloc::vec;
use alloc::vec::Vec;
use core::alloc::Layout;
use core::any::TypeId;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr::NonNull;

use super::records::PageInfo;
use crate::SpaceStats;
use crate::page::PageSize;
use crate::page::raw::{RawPages, allocate, deallocate};
use crate::platform::IdCounter;

use crate::multisize::MultisizePool;
use crate::multisize::values::{Holds, SendValues, ValueSet};

/// Size classes: 16, 32, ..., 2048 bytes; anything larger (or more
/// aligned) takes the large path: its own block from the global allocator.
const MIN_CLASS_SHIFT: u32 = 4;
const CLASSES: usize = 8;

/// Generations: odd while a typed value occupies the slot, even otherwise
/// (a typed insert and its removal each add one; raw blocks leave the
/// slot's entry alone, see [`SlotMeta`]). A slot whose generation
/// reaches `RETIRED` (even, so no key matches it) is never reused, so a
/// generation never wraps and a stale key can never name a newer value.
const RETIRED: u32 = u32::MAX - 1;

/// What the pool knows about the contents of an occupied slot or entry:
/// one constant per type, and [`SlotOps::RAW`] for raw blocks.
struct SlotOps {
    /// Drops the contents in place (`ptr` points to live contents of this
    /// `SlotOps`' kind: a `T`, or a raw block, for which it does nothing).
    drop: unsafe fn(*mut u8),
    /// `TypeId::of::<T>`, or of [`RawBlock`] (checked in debug builds;
    /// `RawMultisizePool::find` says why that check is redundant).
    type_id: fn() -> TypeId,
}

/// The type name of raw blocks' contents in [`SlotOps::RAW`]; never made.
enum RawBlock {}

impl SlotOps {
    /// The operations of `T`, a promoted constant.
    #[inline]
    fn of<T: 'static>() -> &'static SlotOps {
        const {
            &SlotOps {
                drop: drop_as::<T>,
                type_id: TypeId::of::<T>,
            }
        }
    }

    /// The operations of a raw block ([`RawMultisizePool::alloc_layout`]): its
    /// bytes are the user's, nothing to drop.
    const RAW: &'static SlotOps = &SlotOps {
        drop: drop_nothing,
        type_id: TypeId::of::<RawBlock>,
    };
}

/// The drop of a raw block: nothing.
///
/// # Safety
///
/// None needed (it reads nothing); `unsafe` to fit [`SlotOps::drop`].
unsafe fn drop_nothing(_: *mut u8) {}

/// # Safety
///
/// `ptr` must point to a live `T` that is not used afterwards.
unsafe fn drop_as<T>(ptr: *mut u8) {
    // SAFETY: forwarded caller contract.
    unsafe { core::ptr::drop_in_place(ptr.cast::<T>()) }
}

/// Where a value of some layout is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PoolStorage {
    /// In a slot of size class `0..CLASSES`.
    Class(usize),
    /// In its own block from the global allocator.
    Large,
    /// Nowhere (zero-sized).
    Zst,
}

impl PoolStorage {
    /// The storage of `layout`: zero-sized, else the smallest class at
    /// least `max(size, align)` bytes, else large. A few instructions, no
    /// division: the class is the bit length of `need - 1` (at least 4,
    /// for the 16-byte class) minus 4.
    #[inline]
    const fn of(layout: Layout) -> Self {
        if layout.size() == 0 {
            return PoolStorage::Zst;
        }
        // The class holds `need = max(size, align)` bytes. Both are at
        // least 1, and the bit length of `need - 1` is the larger of those
        // of `size - 1` and `align - 1`, so or-ing the two (and 15, for the
        // smallest class) gives `max(4, ceil(log2 need))` with no compare:
        // the `log2` of the smallest class holding `need` bytes.
        let bits = usize::BITS
            - ((layout.size() - 1) | (layout.align() - 1) | ((1 << MIN_CLASS_SHIFT) - 1))
                .leading_zeros();
        let class = (bits - MIN_CLASS_SHIFT) as usize;
        if class < CLASSES {
            PoolStorage::Class(class)
        } else {
            PoolStorage::Large
        }
    }

    /// `PoolStorage::of(Layout::new::<T>())`, computed at compile time.
    #[inline]
    const fn for_type<T>() -> Self {
        const { PoolStorage::of(Layout::new::<T>()) }
    }
}

/// The class of `T`, when it has one (else 0, unused).
const fn class_of<T>() -> usize {
    match PoolStorage::of(Layout::new::<T>()) {
        PoolStorage::Class(class) => class,
        _ => 0,
    }
}

/// What a class keeps per slot number, next to nothing else so that a key
/// check touches one small entry.
///
/// A slot is in one of four states:
///
/// | state | `generation` | `ops` | on the free list |
/// |---|---|---|---|
/// | free | even, not `RETIRED` | `None` | yes |
/// | typed value | odd | `Some` | no |
/// | raw block | even, not `RETIRED` | `None` | no |
/// | retired | `RETIRED` | `None` | no |
///
/// A raw block does not touch its slot's entry at all: allocating and
/// freeing one only moves the slot off and onto the free list (a table
/// write per raw allocation cost a third of its time). What tells a raw
/// block from a free slot is the list, which the rare operations that need
/// to know (`shrink_to_fit`, `header_for`) walk.
#[derive(Clone, Copy)]
struct SlotMeta {
    /// Odd iff a typed value occupies the slot (see [`RETIRED`]).
    generation: u32,
    /// Invariant: `Some` iff a typed value occupies the slot (the
    /// generation odd); then it holds a live value of this type.
    ops: Option<&'static SlotOps>,
}

const VACANT: SlotMeta = SlotMeta {
    generation: 0,
    ops: None,
};

/// What a free slot holds in its first bytes: its own number and the
/// address of the next free slot. The number lives in the slot rather
/// than beside the list's head, so that the head is one word: taking a
/// slot loads the head and the slot's link and stores the head, freeing
/// one stores the link and the head.
#[derive(Clone, Copy)]
struct Link {
    /// The next free slot; `None` ends the list.
    next: Option<NonNull<u8>>,
    /// The number of the slot holding this link.
    slot: u32,
}

// Every slot can hold a link: slots are at least 16 bytes, aligned to 16.
const _: () = assert!(
    size_of::<Link>() <= 1 << MIN_CLASS_SHIFT && align_of::<Link>() <= 1 << MIN_CLASS_SHIFT
);

/// One size class: pages of equal slots, numbered `page << per_page_shift
/// | index in page`.
struct SizeClass {
    /// `log2` of the slot size; slots are aligned to their size.
    size_shift: u32,
    /// `log2` of the slots per page.
    per_page_shift: u32,
    raw: RawPages,
    /// Page bases by page number; `None` for a released page.
    ///
    /// Invariant: every `Some` is a page in use of `raw`; `meta` has
    /// `pages.len() << per_page_shift` entries.
    pages: Vec<Option<NonNull<u8>>>,
    /// Per slot number; kept when a page is released, so generations carry
    /// on when its number is reused.
    meta: Vec<SlotMeta>,
    /// The first free slot, popped last-in first-out: an intrusive list
    /// (like a thread cache of `malloc`), each free slot holding the
    /// [`Link`] to the next, so taking a slot yields its address without
    /// a look-up, and freeing one needs its address, which every caller
    /// has.
    ///
    /// Invariant: the list visits each vacant, unretired slot of the pages
    /// in use exactly once, and nothing else; the link in each listed slot
    /// holds that slot's own number.
    head: Option<NonNull<u8>>,
    /// Numbers of released pages, reused before new numbers.
    holes: Vec<u32>,
    /// Occupied slots: typed values and raw blocks.
    ///
    /// Not kept apart from `live` on purpose: laid out as neighbours (as
    /// the compiler places them now), the two are updated with one 16-byte
    /// vector read-modify-write. Kept apart (`repr(C)`), they took two
    /// scalar ones, four instructions fewer per step, and the raw churn
    /// with a million live blocks ran 30% slower (`docs/notes/multisize.md`).
    occupied: usize,
    /// Bytes of the live values and raw blocks in this class (their exact
    /// sizes). Per class, so consecutive operations on different classes
    /// do not wait on each other's update.
    live: usize,
}

/// `(log2 slot size, log2 slots per page)` of class `class`: slots of
/// `16 << class` bytes in pages of 16 slots, at least 4 KiB.
const fn geometry(class: usize) -> (u32, u32) {
    let size_shift = MIN_CLASS_SHIFT + class as u32;
    let page_shift = if size_shift + 4 > 12 {
        size_shift + 4
    } else {
        12
    };
    (size_shift, page_shift - size_shift)
}

impl SizeClass {
    fn new(class: usize) -> Self {
        let (size_shift, per_page_shift) = geometry(class);
        let page = PageSize::new(1 << (size_shift + per_page_shift)).expect("a valid size");
        Self {
            size_shift,
            per_page_shift,
            raw: RawPages::new(page),
            pages: Vec::new(),
            meta: Vec::new(),
            head: None,
            holes: Vec::new(),
            occupied: 0,
            live: 0,
        }
    }

    #[inline]
    fn size(&self) -> usize {
        1 << self.size_shift
    }

    /// The address of slot `slot`, if its page is in use.
    #[inline]
    fn ptr(&self, slot: u32) -> Option<NonNull<u8>> {
        self.ptr_with(slot, (self.size_shift, self.per_page_shift))
    }

    /// [`ptr`](Self::ptr) with the class geometry passed in, a constant
    /// where the class is known at compile time (typed inserts and keys).
    #[inline]
    fn ptr_with(&self, slot: u32, (size_shift, per_page_shift): (u32, u32)) -> Option<NonNull<u8>> {
        // Redundant: callers pass `geometry(class_of::<T>())` for the class
        // they picked with the same `T`.
        debug_assert_eq!(
            (size_shift, per_page_shift),
            (self.size_shift, self.per_page_shift)
        );
        let base = (*self.pages.get((slot >> per_page_shift) as usize)?)?;
        let index = (slot & ((1 << per_page_shift) - 1)) as usize;
        // SAFETY: `index` is below the slots per page, so the slot lies
        // inside the page.
        Some(unsafe { base.add(index << size_shift) })
    }

    /// Takes a free slot off the list: its number and address.
    #[inline]
    fn pop(&mut self) -> Option<(u32, NonNull<u8>)> {
        let ptr = self.head?;
        // SAFETY: the head is a free slot of a page in use, which holds its
        // link (invariant of `head`).
        let Link { next, slot } = unsafe { ptr.cast::<Link>().read() };
        // Debug cross-check of the invariant on `head` (every listed link
        // names its own slot), which every method keeps.
        debug_assert_eq!(self.ptr(slot), Some(ptr));
        self.head = next;
        Some((slot, ptr))
    }

    /// A free slot: its number and address.
    #[inline]
    #[track_caller]
    fn take(&mut self) -> (u32, NonNull<u8>) {
        match self.pop() {
            Some(free) => free,
            None => self.grow(),
        }
    }

    /// Lists a vacant slot as free.
    ///
    /// # Safety
    ///
    /// `ptr` must be the address of slot `slot`, vacant, not retired, not
    /// listed, its page in use, nothing in it used again until taken.
    #[inline]
    unsafe fn list(&mut self, slot: u32, ptr: NonNull<u8>) {
        // The caller's contract.
        debug_assert_eq!(self.ptr(slot), Some(ptr));
        debug_assert!(self.meta[slot as usize].ops.is_none());
        debug_assert!(self.meta[slot as usize].generation.is_multiple_of(2));
        // SAFETY: the slot is at least as large and aligned as a link
        // (checked at compile time) and unused (caller contract).
        unsafe {
            ptr.cast::<Link>().write(Link {
                next: self.head,
                slot,
            });
        };
        self.head = Some(ptr);
    }

    /// Lists the slots of page `number` (base `page`) that hold no typed
    /// value and are not retired, and for which `free` (given the slot
    /// number) holds, highest number first, so that the lowest address
    /// pops first.
    ///
    /// # Safety
    ///
    /// The page must be in use, at `page`, none of its slots listed, and
    /// `free` must hold for no raw block still in use.
    unsafe fn list_page(&mut self, number: usize, page: NonNull<u8>, free: impl Fn(usize) -> bool) {
        let first = number << self.per_page_shift;
        for index in (0..1usize << self.per_page_shift).rev() {
            let meta = self.meta[first + index];
            if meta.ops.is_none() && meta.generation != RETIRED && free(first + index) {
                // SAFETY: 1. `index` is below the slots per page; 2. the
                // slot holds no typed value, and no raw block (caller
                // contract), so it is vacant, unretired and not listed
                // (caller contract), in a page in use.
                unsafe {
                    let ptr = page.add(index << self.size_shift);
                    self.list((first + index) as u32, ptr);
                }
            }
        }
    }

    /// Takes a page into use and returns one of its slots.
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn grow(&mut self) -> (u32, NonNull<u8>) {
        loop {
            let number = match self.holes.pop() {
                Some(number) => number as usize,
                None => {
                    let number = self.pages.len();
                    let slots = (number + 1) << self.per_page_shift;
                    assert!(
                        slots <= u32::MAX as usize,
                        "a MultisizePool size class holds fewer than 2^32 slots"
                    );
                    self.pages.push(None);
                    self.meta.resize(slots, VACANT);
                    number
                }
            };
            let page = self.raw.alloc_page();
            self.pages[number] = Some(page);
            // SAFETY: the page was just taken into use (a new number, or a
            // released one, whose slots left the list on release), so it
            // holds no raw block.
            unsafe { self.list_page(number, page, |_| true) };
            if let Some(free) = self.pop() {
                return free;
            }
        }
    }

    /// Marks a slot just taken occupied by a typed value of `ops`' kind
    /// and `size` bytes; returns its new (odd) generation.
    #[inline]
    fn occupy(&mut self, slot: u32, ops: &'static SlotOps, size: usize) -> u32 {
        let meta = &mut self.meta[slot as usize];
        // Redundant: `slot` was just taken off the free list, which holds
        // vacant slots only (invariant on `head`).
        debug_assert!(meta.ops.is_none(), "occupying an occupied slot");
        debug_assert_eq!(meta.generation % 2, 0);
        meta.generation += 1;
        meta.ops = Some(ops);
        let generation = meta.generation;
        self.occupied += 1;
        self.live += size;
        generation
    }

    /// Counts a slot just taken off the list as a raw block of `size`
    /// bytes. Its entry in `meta` stays as it was (see [`SlotMeta`]): even,
    /// so no key matches it; the block's owning handle is checked by the
    /// pool id alone.
    #[inline]
    fn occupy_raw(&mut self, slot: u32, size: usize) {
        // Redundant, as in `occupy`.
        debug_assert!(self.meta[slot as usize].ops.is_none());
        debug_assert_eq!(self.meta[slot as usize].generation % 2, 0);
        self.occupied += 1;
        self.live += size;
    }

    /// Marks a slot occupied by a typed value vacant, its `size` bytes no
    /// longer live, its generation the next even one. True when the slot
    /// is to be listed free (not retired).
    #[inline]
    fn vacate(&mut self, slot: u32, size: usize) -> bool {
        let meta = &mut self.meta[slot as usize];
        // Redundant: callers found the slot through a key whose odd
        // generation matched it.
        debug_assert_eq!(meta.generation % 2, 1, "vacating a vacant slot");
        meta.generation += 1;
        meta.ops = None;
        let listed = meta.generation != RETIRED;
        self.occupied -= 1;
        self.live -= size;
        listed
    }

    /// Vacates an occupied slot at `ptr` whose contents are gone, and
    /// lists it free unless retired.
    ///
    /// # Safety
    ///
    /// `ptr` must be the address of slot `slot`, occupied, whose contents
    /// are never used again.
    #[inline]
    unsafe fn free(&mut self, slot: u32, ptr: NonNull<u8>, size: usize) {
        if self.vacate(slot, size) {
            // SAFETY: vacant, unretired and not listed now, its page in
            // use (it was occupied), its contents dead (caller contract).
            unsafe { self.list(slot, ptr) };
        }
    }

    /// Frees the raw block in slot `slot` at `ptr` and lists the slot.
    /// Its entry in `meta` is not touched: a raw block left it even and
    /// unretired (its slot came off the list).
    ///
    /// # Safety
    ///
    /// `ptr` must be the address of slot `slot`, occupied by a raw block
    /// whose bytes are never used again.
    #[inline]
    unsafe fn free_raw(&mut self, slot: u32, ptr: NonNull<u8>, size: usize) {
        self.occupied -= 1;
        self.live -= size;
        // SAFETY: a raw block's slot holds no typed value and is neither
        // retired nor listed, its page in use; the block's bytes are dead
        // (caller contract).
        unsafe { self.list(slot, ptr) };
    }

    /// Frees every raw block, once no typed value is left: relists every
    /// unretired slot of the pages in use.
    fn free_raw_blocks(&mut self) {
        debug_assert!(self.meta.iter().all(|m| m.ops.is_none()));
        self.head = None;
        for number in (0..self.pages.len()).rev() {
            if let Some(page) = self.pages[number] {
                // SAFETY: the page is in use and the list was emptied
                // above; its raw blocks are freed here (the pool took a new
                // id, so their handles no longer match).
                unsafe { self.list_page(number, page, |_| true) };
            }
        }
        self.occupied = 0;
        self.live = 0;
    }

    /// The numbers of the slots on the free list, as a bitmap indexed by
    /// slot number: what tells a raw block from a free slot.
    fn listed(&self) -> Vec<bool> {
        let mut listed = vec![false; self.meta.len()];
        let mut next = self.head;
        while let Some(ptr) = next {
            // SAFETY: a listed slot is free, in a page in use, and holds
            // its link (invariant of `head`).
            let link = unsafe { ptr.cast::<Link>().read() };
            listed[link.slot as usize] = true;
            next = link.next;
        }
        listed
    }

    /// Occupied slots (typed values and raw blocks) of page `number`, the
    /// free list given as [`listed`](Self::listed).
    fn live_in(&self, number: usize, listed: &[bool]) -> usize {
        let first = number << self.per_page_shift;
        (first..first + (1 << self.per_page_shift))
            .filter(|&slot| !listed[slot] && self.meta[slot].generation != RETIRED)
            .count()
    }

    /// Frees the pages with no occupied slot.
    fn release_empty(&mut self) {
        let listed = self.listed();
        let mut released = false;
        for number in 0..self.pages.len() {
            let Some(page) = self.pages[number] else {
                continue;
            };
            if self.live_in(number, &listed) == 0 {
                self.pages[number] = None;
                self.holes.push(number as u32);
                // SAFETY: the page is in use and holds no value; the free
                // list, which runs through its slots, is rebuilt below
                // before anything reads it.
                unsafe { self.raw.free_page(page) };
                released = true;
            }
        }
        if released {
            // Rebuilt from the pages still in use, without reading the old
            // links (some are in freed pages).
            self.head = None;
            for number in (0..self.pages.len()).rev() {
                if let Some(page) = self.pages[number] {
                    // SAFETY: the page is in use and the list is empty of
                    // its slots (it was emptied above); the slots it lists
                    // were listed before, so none is a raw block.
                    unsafe { self.list_page(number, page, |slot| listed[slot]) };
                }
            }
        }
        self.raw.release_spare();
    }
}

/// An entry of the table of large and zero-sized values.
#[derive(Clone, Copy)]
struct LargeEntry {
    /// As in [`SlotMeta`].
    generation: u32,
    /// Invariant: when the generation is odd, the value (or raw block): a
    /// block from the global allocator of `layout`, or dangling (aligned)
    /// when `layout` is zero-sized.
    value: NonNull<u8>,
    /// The exact layout of the value or raw block, while occupied.
    layout: Layout,
    /// Invariant: `Some` iff the generation is odd; then `value` holds a
    /// live value of this type, or is a raw block ([`SlotOps::RAW`]).
    ops: Option<&'static SlotOps>,
}

/// Large and zero-sized values, which have no class slot.
#[derive(Default)]
struct LargeTable {
    entries: Vec<LargeEntry>,
    /// Vacant, unretired entries.
    free: Vec<u32>,
    /// Occupied entries.
    len: usize,
    /// Bytes of the live values and raw blocks (their exact sizes).
    live: usize,
}

/// The next pool id. Ids are never reused (the counter never wraps), so
/// that no key of one pool, live or dropped, can ever be taken for a key of
/// another.
static NEXT_POOL_ID: IdCounter = IdCounter::new();

/// The pool's state: the size classes, the large table and the pool id.
/// [`MultisizePool`](crate::multisize::MultisizePool) is a thin safe
/// wrapper over it.
pub(crate) struct RawMultisizePool<V: ValueSet> {
    /// Tells this pool's keys from other pools' (never reused).
    id: u64,
    classes: [SizeClass; CLASSES],
    /// Large and zero-sized values.
    table: LargeTable,
    /// Bytes in large blocks.
    large: usize,
    /// The pool owns values of any type, `Send` or not (see the `Send`
    /// impl of `MultisizePool<SendValues>` below), of the set `V`.
    _not_send: PhantomData<(*mut (), V)>,
}

// SAFETY: a `MultisizePool<SendValues>` holds only `Send` values: its
// `insert` (which calls `RawMultisizePool::insert`, the one way a value gets
// in) requires `SendValues: Holds<T>`, that is `T: Send`, and a key reaches
// only values of its own pool (checked pool id). Raw blocks are bytes. The
// pool's pages and tables are plain memory it owns alone. It stays `!Sync`:
// `&MultisizePool` hands out `&T` for values that need not be `Sync`. The
// impl is on the public type (whose only field is a `RawMultisizePool`,
// `!Send` by its `_not_send` marker), so that the compiler names it, not
// this core, when a `MultisizePool<AnyValues>` is sent.
unsafe impl Send for MultisizePool<SendValues> {}

/// A key to a `T` in a [`MultisizePool`](crate::multisize::MultisizePool):
/// `Copy`, and checked on use.
pub struct MultisizeKey<T> {
    /// The pool's id.
    pool: u64,
    /// The slot number in `T`'s class, or the entry of the large table.
    slot: u32,
    /// The slot's generation, odd, when the value was inserted.
    generation: u32,
    /// Names a `T` without holding one: `Send` and `Sync` whatever `T`
    /// is.
    ///
    /// Invariant in `T` (like `Cell<T>`): keys are `Copy`, `get_mut`
    /// writes a `T` through any copy, and the pool trusts the key's type
    /// (the stored `TypeId` is compared in debug builds only). A covariant
    /// key would turn a `MultisizeKey<for<'x> fn(&'x str)>` into a
    /// `MultisizeKey<fn(&'static str)>`, both `'static`, and a function
    /// needing `'static` arguments written through one could be called
    /// with a short borrow through the other. Pinned by
    /// `tests/ui/multisize/key_is_invariant.rs`.
    _type: PhantomData<fn(T) -> T>,
}

impl<T> MultisizeKey<T> {
    #[inline]
    fn new(pool: u64, slot: u32, generation: u32) -> Self {
        Self {
            pool,
            slot,
            generation,
            _type: PhantomData,
        }
    }

    #[inline]
    fn slot(&self) -> u32 {
        self.slot
    }

    #[inline]
    fn generation(&self) -> u32 {
        self.generation
    }
}

impl<T> Clone for MultisizeKey<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for MultisizeKey<T> {}
impl<T> PartialEq for MultisizeKey<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.pool, self.slot, self.generation) == (other.pool, other.slot, other.generation)
    }
}
impl<T> Eq for MultisizeKey<T> {}
impl<T> Hash for MultisizeKey<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.pool, self.slot, self.generation).hash(state);
    }
}
impl<T> fmt::Debug for MultisizeKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MultisizeKey<{}>({}v{} in pool {})",
            core::any::type_name::<T>(),
            self.slot(),
            self.generation(),
            self.pool
        )
    }
}

/// A raw block of a [`MultisizePool`], from
/// [`alloc_layout`](MultisizePool::alloc_layout): memory of a given layout,
/// handed back with [`dealloc`](MultisizePool::dealloc).
///
/// The handle owns the block: it is neither `Copy` nor `Clone`, and
/// `dealloc` consumes it, so safe code cannot free a block twice.
/// Dropping the handle does not free the block; it stays allocated (and
/// counted in [`len`](MultisizePool::len)) until the pool is cleared or
/// dropped. A handle is checked by its pool's id alone: a block of another
/// pool, or one freed by `clear` (which gives the pool a new id), is
/// refused by `dealloc`, `bytes` and `bytes_mut`.
///
/// The memory is [`as_ptr`](Self::as_ptr), valid for reads and writes of
/// [`layout`](Self::layout)`.size()` bytes and aligned to its alignment,
/// until the block is deallocated, [`clear`](MultisizePool::clear)ed or
/// its pool dropped, whichever comes first; the pool never reads, writes
/// or drops its contents. Using the pointer is `unsafe` and up to the
/// caller; [`bytes`](MultisizePool::bytes) and
/// [`bytes_mut`](MultisizePool::bytes_mut) are the checked, safe way to
/// reach the bytes.
///
/// [`MultisizePool`]: crate::multisize::MultisizePool
#[must_use = "a block not deallocated stays allocated until the pool is cleared or dropped"]
pub struct MultisizeBlock {
    /// The id of the pool that allocated the block.
    ///
    /// Invariant: while it equals that pool's id, the block is allocated:
    /// the id changes on `clear` (which frees every block), only
    /// `dealloc` frees one otherwise and it consumes the handle, which
    /// is neither `Copy` nor `Clone`.
    pool: u64,
    /// The block, `size` bytes aligned to `1 << align_shift`.
    ptr: NonNull<u8>,
    /// `layout().size()`.
    size: usize,
    /// The slot number in class `storage`, or the large table's entry.
    slot: u32,
    /// `log2 layout().align()`.
    align_shift: u8,
    /// The class index (`< CLASSES`), or `CLASSES` for the large table.
    ///
    /// Invariant: `PoolStorage::of(self.layout())` (`CLASSES` standing for both
    /// `Large` and `Zst`), so that the handle names the slot it was made
    /// for.
    storage: u8,
}

impl MultisizeBlock {
    /// The block's memory: see the [type docs](Self) for how long it is
    /// valid. Zero-sized blocks get an aligned dangling pointer.
    #[inline]
    #[must_use]
    pub fn as_ptr(&self) -> NonNull<u8> {
        self.ptr
    }

    /// The layout the block was allocated for (its slot may be larger).
    #[inline]
    #[must_use]
    pub fn layout(&self) -> Layout {
        // SAFETY: `size` and `align_shift` are those of the `Layout` the
        // block was allocated with, a valid one.
        unsafe { Layout::from_size_align_unchecked(self.size, 1 << self.align_shift) }
    }
}

impl fmt::Debug for MultisizeBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MultisizeBlock({} bytes align {} at {:p}, slot {} in pool {})",
            self.size,
            1usize << self.align_shift,
            self.ptr,
            self.slot,
            self.pool
        )
    }
}

impl<V: ValueSet> RawMultisizePool<V> {
    /// An empty pool. Allocates nothing.
    pub(crate) fn empty() -> Self {
        Self {
            id: NEXT_POOL_ID.next(),
            classes: core::array::from_fn(SizeClass::new),
            table: LargeTable::default(),
            large: 0,
            _not_send: PhantomData,
        }
    }

    /// Values and raw blocks in the pool.
    #[inline]
    #[must_use]
    pub(crate) fn len(&self) -> usize {
        self.classes.iter().map(|c| c.occupied).sum::<usize>() + self.table.len
    }

    /// Whether the pool holds no value and no raw block.
    #[inline]
    #[must_use]
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stores `value`; it stays at the same address until removed.
    #[inline]
    #[track_caller]
    pub(crate) fn insert<T: 'static>(&mut self, value: T) -> MultisizeKey<T>
    where
        V: Holds<T>,
    {
        let ops = SlotOps::of::<T>();
        let (slot, generation, block) = match PoolStorage::for_type::<T>() {
            PoolStorage::Class(class) => {
                let class = &mut self.classes[class];
                let (slot, block) = class.take();
                (slot, class.occupy(slot, ops, size_of::<T>()), block)
            }
            storage => self.insert_entry(storage, Layout::new::<T>(), ops),
        };
        // SAFETY: the block is free and valid for a `T`: a slot of a class
        // at least as large and as aligned as `T` (slots are aligned to
        // their power-of-two size), a block of `T`'s layout, or an aligned
        // dangling pointer for a zero-sized `T`.
        unsafe { block.cast::<T>().write(value) };
        MultisizeKey::new(self.id, slot, generation)
    }

    /// Takes a table entry for a large or zero-sized value of `layout`
    /// and `ops`' kind, and its storage.
    #[inline(never)]
    #[track_caller]
    fn insert_entry(
        &mut self,
        storage: PoolStorage,
        layout: Layout,
        ops: &'static SlotOps,
    ) -> (u32, u32, NonNull<u8>) {
        // Checked in every build (the large and zero-sized path only): the
        // allocation below trusts `storage`.
        assert_eq!(storage, PoolStorage::of(layout));
        let value = if storage == PoolStorage::Large {
            // Large layouts have a non-zero size.
            let block = allocate(layout);
            self.large += layout.size();
            block
        } else {
            NonNull::new(core::ptr::without_provenance_mut(layout.align()))
                .expect("alignments are non-zero")
        };
        let table = &mut self.table;
        let slot = match table.free.pop() {
            Some(slot) => slot,
            None => {
                let slot = u32::try_from(table.entries.len())
                    .expect("a MultisizePool holds fewer than 2^32 large values");
                table.entries.push(LargeEntry {
                    generation: 0,
                    value,
                    layout,
                    ops: None,
                });
                table.free.reserve(1);
                slot
            }
        };
        let entry = &mut table.entries[slot as usize];
        entry.generation += 1;
        entry.value = value;
        entry.layout = layout;
        entry.ops = Some(ops);
        table.len += 1;
        table.live += layout.size();
        (slot, entry.generation, value)
    }

    /// The value of `key`'s slot, if `key` is live and from this pool.
    #[inline]
    fn find<T: 'static>(&self, key: MultisizeKey<T>) -> Option<NonNull<u8>> {
        if key.pool != self.id {
            return None;
        }
        let found = match PoolStorage::for_type::<T>() {
            PoolStorage::Class(class) => {
                let class = &self.classes[class];
                if class.meta.get(key.slot() as usize)?.generation != key.generation() {
                    return None;
                }
                class.ptr_with(key.slot(), const { geometry(class_of::<T>()) })
            }
            _ => {
                let entry = self.table.entries.get(key.slot() as usize)?;
                if entry.generation != key.generation() {
                    return None;
                }
                Some(entry.value)
            }
        };
        // The slot holds a `T`, so the type check below is redundant (it is
        // kept as a debug cross-check only, off the hot path of `get`):
        // 1. a key is only made by `insert::<T>` (its fields are private),
        //    with this pool's id and the slot's new, odd generation;
        // 2. pool ids are never reused (64 bits, and `clear` takes a new
        //    one), so the key was made by this pool since its last `clear`;
        // 3. a slot's generation only grows and never wraps (`RETIRED`), and
        //    raw blocks leave it even, so an equal odd generation means the
        //    same occupancy the key was made for is still in place;
        // 4. `MultisizeKey<T>` is invariant in `T` (see its `_type` field),
        //    so `T` here is exactly the type that `insert` stored: not a
        //    subtype or supertype such as `fn(&'static str)` for
        //    `for<'x> fn(&'x str)`, which share a size class but not a
        //    `TypeId`.
        debug_assert!(found.is_some(), "an occupied slot's page is in use");
        debug_assert!(
            self.ops_of(&key)
                .is_some_and(|ops| (ops.type_id)() == TypeId::of::<T>())
        );
        found
    }

    /// The recorded type of an occupied `key`'s slot (debug checks).
    fn ops_of<T: 'static>(&self, key: &MultisizeKey<T>) -> Option<&'static SlotOps> {
        match PoolStorage::for_type::<T>() {
            PoolStorage::Class(class) => self.classes[class].meta.get(key.slot() as usize)?.ops,
            _ => self.table.entries.get(key.slot() as usize)?.ops,
        }
    }

    /// Whether `key` names a value of this pool.
    #[must_use]
    pub(crate) fn contains<T: 'static>(&self, key: MultisizeKey<T>) -> bool {
        self.find(key).is_some()
    }

    /// The value of `key`; `None` for a stale key or a key of another pool.
    #[inline]
    #[must_use]
    pub(crate) fn get<T: 'static>(&self, key: MultisizeKey<T>) -> Option<&T> {
        let value = self.find(key)?;
        // SAFETY: `find` checked the key names a live `T` of this pool,
        // borrowed shared with `self`.
        Some(unsafe { value.cast::<T>().as_ref() })
    }

    /// The value of `key`, mutably; `None` as for [`get`](Self::get).
    #[inline]
    #[must_use]
    pub(crate) fn get_mut<T: 'static>(&mut self, key: MultisizeKey<T>) -> Option<&mut T> {
        let value = self.find(key)?;
        // SAFETY: as in `get`, borrowed exclusively with `self`.
        Some(unsafe { value.cast::<T>().as_mut() })
    }

    /// Vacates the occupied table entry `slot` (its value still in place)
    /// and returns the value's pointer, layout and kind.
    fn vacate_entry(&mut self, slot: u32) -> (NonNull<u8>, Layout, &'static SlotOps) {
        let table = &mut self.table;
        let entry = &mut table.entries[slot as usize];
        let ops = entry.ops.take().expect("an occupied entry");
        entry.generation += 1;
        if entry.generation != RETIRED {
            table.free.push(slot);
        }
        table.len -= 1;
        table.live -= entry.layout.size();
        (entry.value, entry.layout, ops)
    }

    /// Frees the block of a vacated large entry whose value is gone.
    ///
    /// # Safety
    ///
    /// `value` and `layout` must come from `vacate_entry`, the value moved
    /// out or dropped.
    unsafe fn release_entry(&mut self, value: NonNull<u8>, layout: Layout) {
        if layout.size() != 0 {
            self.large -= layout.size();
            // SAFETY: a large value's block, allocated by `insert_entry`
            // (`page::raw::allocate`) with this layout.
            unsafe { deallocate(value, layout) };
        }
    }

    /// Moves the value of `key` out; `None` for a stale or foreign key.
    #[inline]
    pub(crate) fn remove<T: 'static>(&mut self, key: MultisizeKey<T>) -> Option<T> {
        let value = self.find(key)?;
        match PoolStorage::for_type::<T>() {
            PoolStorage::Class(class) => {
                // SAFETY: 1. the slot held a live `T` (checked by `find`),
                // read out once; 2. the slot is then freed, its contents
                // never read again.
                unsafe {
                    let out = value.cast::<T>().read();
                    self.classes[class].free(key.slot(), value, size_of::<T>());
                    Some(out)
                }
            }
            _ => {
                let (value, layout, _) = self.vacate_entry(key.slot());
                // SAFETY: 1. the entry held a live `T` (checked by `find`),
                // read out once; 2. its block is then freed.
                unsafe {
                    let out = value.cast::<T>().read();
                    self.release_entry(value, layout);
                    Some(out)
                }
            }
        }
    }

    /// Allocates an uninitialized block for `layout` from its class (or the
    /// large table).
    #[inline]
    #[track_caller]
    pub(crate) fn alloc_layout(&mut self, layout: Layout) -> MultisizeBlock {
        let storage = PoolStorage::of(layout);
        let (slot, ptr, index) = match storage {
            PoolStorage::Class(index) => {
                let class = &mut self.classes[index];
                let (slot, ptr) = class.take();
                class.occupy_raw(slot, layout.size());
                (slot, ptr, index)
            }
            _ => {
                let (slot, _, ptr) = self.insert_entry(storage, layout, SlotOps::RAW);
                (slot, ptr, CLASSES)
            }
        };
        MultisizeBlock {
            pool: self.id,
            ptr,
            size: layout.size(),
            slot,
            align_shift: layout.align().trailing_zeros() as u8,
            storage: index as u8,
        }
    }

    /// Whether `block` is a live block of this pool: whether it carries
    /// the pool's current id (see the invariant on `MultisizeBlock::pool`).
    #[inline]
    fn owns(&self, block: &MultisizeBlock) -> bool {
        let live = block.pool == self.id;
        // Redundant by the invariant on `MultisizeBlock::pool` (the id
        // changes on `clear`; `dealloc` consumes the handle, which is
        // neither `Copy` nor `Clone`); a debug cross-check only.
        debug_assert!(
            !live
                || match self.classes.get(block.storage as usize) {
                    // An even generation: not a typed value.
                    Some(class) => class.meta[block.slot as usize].generation % 2 == 0,
                    None => self.table.entries[block.slot as usize]
                        .ops
                        .is_some_and(|ops| (ops.type_id)() == TypeId::of::<RawBlock>()),
                }
        );
        live
    }

    /// The bytes of `block`; `None` for a block of another pool or one freed
    /// by `clear`.
    #[inline]
    #[must_use]
    pub(crate) fn bytes(&self, block: &MultisizeBlock) -> Option<&[MaybeUninit<u8>]> {
        if !self.owns(block) {
            return None;
        }
        // SAFETY: a live block of this pool is `size` bytes at `ptr`
        // (dangling and empty if zero-sized) that nothing else in the pool
        // uses; they are borrowed shared with the pool.
        Some(unsafe { core::slice::from_raw_parts(block.ptr.as_ptr().cast(), block.size) })
    }

    /// The bytes of `block`, mutably; `None` as for [`bytes`](Self::bytes).
    #[inline]
    #[must_use]
    pub(crate) fn bytes_mut(&mut self, block: &MultisizeBlock) -> Option<&mut [MaybeUninit<u8>]> {
        if !self.owns(block) {
            return None;
        }
        // SAFETY: as in `bytes`, borrowed exclusively with the pool.
        Some(unsafe { core::slice::from_raw_parts_mut(block.ptr.as_ptr().cast(), block.size) })
    }

    /// Frees `block` (its contents are not dropped); false for a foreign or
    /// cleared block.
    #[inline]
    pub(crate) fn dealloc(&mut self, block: MultisizeBlock) -> bool {
        if !self.owns(&block) {
            return false;
        }
        match self.classes.get_mut(block.storage as usize) {
            // SAFETY: the block is the live slot `slot` at `ptr` (checked
            // by `owns`); its bytes are the user's, never read by the pool.
            Some(class) => unsafe { class.free_raw(block.slot, block.ptr, block.size) },
            None => self.dealloc_large(block.slot, block.ptr, block.layout()),
        }
        true
    }

    /// Frees the large or zero-sized block in table entry `slot`, which
    /// `owns` has checked to be the handle's (`ptr`, `layout`). Out of
    /// line, so that `dealloc`'s class path stays small enough to inline
    /// into the caller's loop; it takes the handle's fields, not a
    /// reference to it, so that the inlined path can keep the handle in
    /// registers instead of spilling it for the address.
    #[cold]
    #[inline(never)]
    fn dealloc_large(&mut self, slot: u32, block_ptr: NonNull<u8>, block_layout: Layout) {
        let (ptr, layout, _) = self.vacate_entry(slot);
        // Redundant by `owns`, and checked in every build (large blocks
        // only): the block freed is the handle's.
        assert_eq!((ptr, layout), (block_ptr, block_layout));
        // SAFETY: the entry's raw block is vacated and has nothing to drop.
        unsafe { self.release_entry(ptr, layout) };
    }

    /// Vacates an occupied class slot, then drops its value; `size` is
    /// taken off the live bytes.
    ///
    /// # Safety
    ///
    /// `value` must be slot `slot` of class `class`, holding a live value
    /// of `ops`' kind.
    unsafe fn drop_class_slot(
        &mut self,
        class: usize,
        slot: u32,
        value: NonNull<u8>,
        ops: &'static SlotOps,
        size: usize,
    ) {
        let class = &mut self.classes[class];
        let listed = class.vacate(slot, size);
        // Lists the slot free once its value is dropped, even if the
        // destructor panics.
        let guard = scopeguard::guard(class, move |class| {
            if listed {
                // SAFETY: the slot was vacated unretired and its value
                // dropped (or its destructor unwound): nothing uses it.
                unsafe { class.list(slot, value) };
            }
        });
        // SAFETY: the value is live and, its slot vacated, owned only here;
        // the guard lists the slot free afterwards (not before: the link
        // would overwrite the value). Nothing can reuse the slot while the
        // destructor runs: the pool is borrowed exclusively.
        unsafe { (ops.drop)(value.as_ptr()) };
        drop(guard);
    }

    /// Vacates an occupied table entry and drops its value, freeing its
    /// block even when the destructor panics.
    fn drop_entry(&mut self, slot: u32) {
        let (value, layout, ops) = self.vacate_entry(slot);
        // Frees the block once the value is dropped, even if the
        // destructor panics.
        let guard = scopeguard::guard(self, move |pool| {
            // SAFETY: the value was dropped (or its destructor unwound).
            unsafe { pool.release_entry(value, layout) };
        });
        // SAFETY: the vacated entry held a live value of `ops`' type, now
        // owned only here; the guard frees its block afterwards.
        unsafe { (ops.drop)(value.as_ptr()) };
        drop(guard);
    }

    /// Drops the next occupied value at or after `cursor` (class slots
    /// class by class, then the table); false when there is none left.
    fn drop_next(&mut self, cursor: &mut (usize, usize)) -> bool {
        while cursor.0 < CLASSES {
            let class = &self.classes[cursor.0];
            while cursor.1 < class.meta.len() {
                let slot = cursor.1;
                cursor.1 += 1;
                if let Some(ops) = class.meta[slot].ops {
                    let value = class.ptr(slot as u32).expect("an occupied slot's page");
                    // SAFETY: a slot with `ops` holds a live typed value
                    // of that kind. Its size is not known here: `clear`
                    // zeroes the live bytes at the end instead (raw blocks
                    // are freed there too).
                    unsafe { self.drop_class_slot(cursor.0, slot as u32, value, ops, 0) };
                    return true;
                }
            }
            *cursor = (cursor.0 + 1, 0);
        }
        while cursor.1 < self.table.entries.len() {
            let slot = cursor.1;
            cursor.1 += 1;
            if self.table.entries[slot].ops.is_some() {
                self.drop_entry(slot as u32);
                return true;
            }
        }
        false
    }

    /// Drops every value and frees every raw block (their handles are stale
    /// from then on), also past a panicking destructor.
    pub(crate) fn clear(&mut self) {
        // Every raw block is freed below: their handles, which the pool id
        // alone checks, must no longer match.
        self.id = NEXT_POOL_ID.next();
        // Drops the rest and frees the raw blocks, also when a destructor
        // panics.
        let mut rest = scopeguard::guard((self, (0, 0)), |(pool, mut cursor)| {
            while pool.drop_next(&mut cursor) {}
            for class in &mut pool.classes {
                class.free_raw_blocks();
            }
            debug_assert_eq!(pool.len(), 0);
        });
        let (pool, cursor) = &mut *rest;
        while pool.drop_next(cursor) {}
        drop(rest);
    }

    /// The occupancy of the class page holding `ptr`, if any.
    #[must_use]
    pub(crate) fn header_for<P: ?Sized>(&self, ptr: *const P) -> Option<PageInfo> {
        let addr = ptr.cast::<u8>().addr();
        self.classes.iter().find_map(|class| {
            let page = class.raw.page_of(addr)?;
            let number = class.pages.iter().position(|&p| p == Some(page))?;
            let live = class.live_in(number, &class.listed());
            Some(PageInfo {
                records: live,
                used_bytes: live * class.size(),
                page_bytes: class.raw.page_size().get(),
            })
        })
    }

    /// Live bytes (exact sizes) and reserved bytes (class pages and large
    /// blocks).
    #[must_use]
    pub(crate) fn stats(&self) -> SpaceStats {
        let pages: usize = self.classes.iter().map(|c| c.raw.reserved_bytes()).sum();
        let live = self.classes.iter().map(|c| c.live).sum::<usize>() + self.table.live;
        SpaceStats::new(live, pages + self.large)
    }

    /// Returns every class page without an occupied slot (and the spare
    /// pages) to the allocator.
    pub(crate) fn shrink_to_fit(&mut self) {
        for class in &mut self.classes {
            class.release_empty();
        }
    }
}

impl<V: ValueSet> Drop for RawMultisizePool<V> {
    fn drop(&mut self) {
        // SizeClass pages are freed by their `RawPages`; large blocks by `clear`.
        self.clear();
    }
}

// Memory maps (`crate::memory_map`).
impl<V: ValueSet> RawMultisizePool<V> {
    /// The map of
    /// [`MultisizePool::memory_map`](crate::multisize::MultisizePool::memory_map).
    #[must_use]
    pub(crate) fn memory_map(&self) -> crate::memory_map::MemoryMap {
        use crate::memory_map::{Block, MemoryMap, SpanKind, human};
        let mut map = MemoryMap::new("MultisizePool");
        for class in &self.classes {
            let size = class.size();
            let per_page = 1usize << class.per_page_shift;
            // Free slots: those on the list.
            let free = class.listed();
            for (number, page) in class.pages.iter().enumerate() {
                let Some(base) = page else { continue };
                let label = alloc::format!("{} slots {number}", human(size));
                let mut block = Block::new(label, base.addr().get());
                for &is_free in &free[number * per_page..(number + 1) * per_page] {
                    let kind = if is_free {
                        SpanKind::Free
                    } else {
                        SpanKind::Live
                    };
                    block.push(kind, size);
                }
                map.push(block);
            }
            class.raw.map_idle(&mut map);
        }
        for entry in &self.table.entries {
            if entry.ops.is_some() {
                let address = entry.value.addr().get();
                map.push_uniform("large value", address, SpanKind::Live, entry.layout.size());
            }
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::multisize::AnyValues;

    #[test]
    fn size_classes_cover_size_and_alignment() {
        assert_eq!(PoolStorage::of(Layout::new::<()>()), PoolStorage::Zst);
        assert_eq!(PoolStorage::of(Layout::new::<u8>()), PoolStorage::Class(0));
        assert_eq!(
            PoolStorage::of(Layout::new::<[u8; 17]>()),
            PoolStorage::Class(1)
        );
        #[repr(align(64))]
        struct Al64(#[allow(dead_code)] u8);
        assert_eq!(
            PoolStorage::of(Layout::new::<Al64>()),
            PoolStorage::Class(2)
        );
        assert_eq!(
            PoolStorage::of(Layout::new::<[u8; 2048]>()),
            PoolStorage::Class(7)
        );
        assert_eq!(
            PoolStorage::of(Layout::new::<[u8; 2049]>()),
            PoolStorage::Large
        );
        #[repr(align(4096))]
        struct Al4k(#[allow(dead_code)] u8);
        assert_eq!(PoolStorage::of(Layout::new::<Al4k>()), PoolStorage::Large);
    }

    #[test]
    fn class_geometry() {
        let bytes = |c| {
            let (s, p) = geometry(c);
            (1usize << s, 1usize << (s + p))
        };
        assert_eq!(bytes(0), (16, 4096));
        assert_eq!(bytes(4), (256, 4096));
        assert_eq!(bytes(5), (512, 8192));
        assert_eq!(bytes(7), (2048, 32768));
    }

    #[test]
    fn a_slot_is_retired_before_its_generation_wraps() {
        let mut pool = RawMultisizePool::<AnyValues>::empty();
        let first = pool.insert(1u32);
        let slot = first.slot() as usize;
        pool.classes[0].meta[slot].generation = u32::MAX - 4;
        let key = MultisizeKey::<u32>::new(first.pool, first.slot(), u32::MAX - 4);
        assert_eq!(pool.remove(key), Some(1));
        let mut stale = vec![key];
        // One more round trip on the slot, then it is retired.
        let k = pool.insert(2u32);
        assert_eq!(k.slot(), first.slot(), "the freed slot is reused first");
        assert_eq!(k.generation(), u32::MAX - 2);
        assert_eq!(pool.remove(k), Some(2));
        stale.push(k);
        assert_eq!(pool.classes[0].meta[slot].generation, RETIRED);
        assert_eq!(pool.len(), 0, "a retired slot is not occupied");
        // None of its keys works; the next insert gets another slot.
        let fresh = pool.insert(3u32);
        assert_eq!(pool.len(), 1);
        assert_ne!(fresh.slot(), first.slot());
        for k in stale {
            assert!(pool.get(k).is_none());
            assert!(pool.remove(k).is_none());
        }
        assert_eq!(pool.get(fresh), Some(&3));
        // A retired slot stays out of use after its page is released and
        // its page number reused.
        assert_eq!(pool.remove(fresh), Some(3));
        pool.shrink_to_fit();
        assert!(pool.classes[0].pages[0].is_none());
        assert_eq!(pool.len(), 0);
        assert!(pool.classes[0].head.is_none(), "no page, no free slot");
        let again = pool.insert(4u32);
        assert_ne!(again.slot(), first.slot());
        assert_eq!(pool.classes[0].meta[slot].generation, RETIRED);
        assert_eq!(pool.len(), 1);
        // The page holds 256 slots: 254 listed free, one retired, one used.
        let mut listed = 0;
        while pool.classes[0].pop().is_some() {
            listed += 1;
        }
        assert_eq!(listed, 254);
    }

    #[test]
    fn keys_name_slots_by_number() {
        let mut pool = RawMultisizePool::<AnyValues>::empty();
        let a = pool.insert([0u8; 16]);
        let b = pool.insert([1u8; 16]);
        assert_eq!((a.slot(), b.slot()), (0, 1), "lowest addresses first");
        let (pa, pb): (*const [u8; 16], *const [u8; 16]) =
            (pool.get(a).unwrap(), pool.get(b).unwrap());
        assert_eq!(pb.addr() - pa.addr(), 16);
        assert_eq!(pa.addr() % 4096, 0, "slot 0 is the page base");
        assert_eq!(pool.header_for(pa).map(|i| i.records), Some(2));
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn the_run_time_class_matches_the_power_of_two_rule() {
        // The reference: the smallest power of two >= max(size, align, 16).
        let step = if cfg!(miri) { 61 } else { 1 };
        let sizes = (0..=4200usize)
            .step_by(step)
            .chain([15, 16, 17, 2047, 2048, 2049]);
        for size in sizes {
            for align in [1, 2, 8, 16, 64, 256, 2048, 4096] {
                let l = layout(size, align);
                let expected = if size == 0 {
                    PoolStorage::Zst
                } else {
                    let need = size.max(align).max(16).next_power_of_two();
                    let class = (need.trailing_zeros() - MIN_CLASS_SHIFT) as usize;
                    if class < CLASSES {
                        PoolStorage::Class(class)
                    } else {
                        PoolStorage::Large
                    }
                };
                assert_eq!(PoolStorage::of(l), expected, "{l:?}");
            }
        }
        assert_eq!(
            PoolStorage::of(layout(usize::MAX / 2, 1)),
            PoolStorage::Large
        );
        assert_eq!(
            PoolStorage::of(layout(1, 1 << (usize::BITS - 2))),
            PoolStorage::Large
        );
    }

    #[test]
    fn raw_blocks_take_class_slots_and_are_counted() {
        let mut pool = RawMultisizePool::<AnyValues>::empty();
        let key = pool.insert(5u64);
        let a = pool.alloc_layout(layout(24, 8));
        assert_eq!(a.layout(), layout(24, 8));
        assert_eq!(a.storage, 1, "24 bytes: the 32-byte class");
        assert_eq!(a.as_ptr().as_ptr().addr() % 32, 0, "slots are size-aligned");
        let b = pool.alloc_layout(layout(3, 64));
        assert_eq!(b.storage, 2);
        assert_eq!(b.as_ptr().as_ptr().addr() % 64, 0);
        let z = pool.alloc_layout(layout(0, 4096));
        assert_eq!(z.as_ptr().as_ptr().addr(), 4096, "zero-sized: dangling");
        assert_eq!(pool.bytes(&z).map(<[_]>::len), Some(0));
        let big = pool.alloc_layout(layout(5000, 16));
        assert_eq!(usize::from(big.storage), CLASSES);
        assert_eq!(pool.len(), 5);
        assert_eq!(pool.stats().live_bytes, 8 + 24 + 3 + 5000);
        assert!(pool.stats().reserved_bytes >= 2 * 4096 + 5000);
        // A raw block's page is headed like any other.
        let info = pool.header_for(a.as_ptr().as_ptr()).unwrap();
        assert_eq!((info.records, info.page_bytes), (1, 4096));
        assert!(pool.header_for(big.as_ptr().as_ptr()).is_none());

        pool.bytes_mut(&a).unwrap().fill(MaybeUninit::new(0xAB));
        pool.bytes_mut(&big).unwrap()[4999] = MaybeUninit::new(9);
        // SAFETY: byte 4999 of the live block was just written.
        assert_eq!(unsafe { big.as_ptr().add(4999).read() }, 9);
        // SAFETY: all 24 bytes of the live block were written.
        let read = unsafe { a.as_ptr().cast::<[u8; 24]>().read() };
        assert_eq!(read, [0xAB; 24]);

        assert!(pool.dealloc(a));
        assert!(pool.dealloc(big));
        assert_eq!(pool.len(), 3);
        assert_eq!(pool.stats().live_bytes, 8 + 3);
        // The freed slot is reused first; raw blocks leave the generation
        // alone (even: no key matches it).
        let again = pool.alloc_layout(layout(20, 4));
        assert_eq!((again.storage, again.slot), (1, 0));
        assert_eq!(pool.classes[1].meta[0].generation, 0);
        assert_eq!(pool.get(key), Some(&5));
        let id = pool.id;
        pool.clear();
        assert_ne!(pool.id, id, "clear gives the pool a new id");
        assert_eq!((pool.len(), pool.stats().live_bytes), (0, 0));
        for block in [b, z, again] {
            assert!(pool.bytes(&block).is_none());
            assert!(!pool.dealloc(block));
        }
        assert_eq!(pool.get(key), None);
    }

    #[test]
    fn raw_blocks_keep_their_pages_and_slots_through_shrinking() {
        let mut pool = RawMultisizePool::<AnyValues>::empty();
        let keep = pool.alloc_layout(layout(16, 8));
        let gone = pool.alloc_layout(layout(16, 8));
        let key = pool.insert(1u128);
        assert_eq!(pool.remove(key), Some(1));
        assert!(pool.dealloc(gone));
        #[cfg(target_pointer_width = "64")]
        assert_eq!(size_of::<MultisizeBlock>(), 32, "a handle is four words");
        // Only the raw block is left in the page: not released, not listed.
        pool.shrink_to_fit();
        assert!(pool.classes[0].pages[0].is_some());
        let info = pool.header_for(keep.as_ptr().as_ptr()).unwrap();
        assert_eq!(info.records, 1);
        let listed = pool.classes[0].listed();
        assert!(!listed[keep.slot as usize]);
        assert_eq!(listed.iter().filter(|&&l| l).count(), 255);
        pool.bytes_mut(&keep).unwrap().fill(MaybeUninit::new(3));
        let others: Vec<_> = (0..300).map(|_| pool.alloc_layout(layout(16, 8))).collect();
        assert!(others.iter().all(|b| b.as_ptr() != keep.as_ptr()));
        assert!(pool.bytes(&keep).unwrap().iter().all(|b| {
            // SAFETY: written above.
            unsafe { b.assume_init() == 3 }
        }));
        assert_eq!(pool.len(), 301);
        pool.clear();
        assert_eq!(pool.classes[0].listed().iter().filter(|&&l| l).count(), 512);
        assert!(pool.bytes(&keep).is_none());
    }

    #[test]
    fn typed_keys_and_raw_blocks_never_match_each_other() {
        let mut pool = RawMultisizePool::<AnyValues>::empty();
        let key = pool.insert([1u64; 3]); // class 1, slot 0
        assert_eq!(pool.remove(key), Some([1; 3]));
        let block = pool.alloc_layout(layout(32, 8)); // the same slot
        assert_eq!((block.storage, block.slot), (1, key.slot()));
        assert_eq!(pool.get(key), None, "a stale typed key");
        assert!(pool.dealloc(block));
        let key = pool.insert([2u64; 3]);
        assert_eq!(key.slot(), 0);
        assert_eq!(key.generation(), 3, "the raw block left it at 2");
        assert_eq!(pool.get(key), Some(&[2; 3]));
        // A foreign block.
        let mut other = RawMultisizePool::<AnyValues>::empty();
        let foreign = other.alloc_layout(layout(32, 8));
        assert!(pool.bytes(&foreign).is_none());
        assert!(pool.bytes_mut(&foreign).is_none());
        assert!(!pool.dealloc(foreign));
        assert_eq!(other.len(), 1, "a refused block stays allocated");
    }
}
