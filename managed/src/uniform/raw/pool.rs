//! The raw core of [`UniformPool`]: the pool type with its page table,
//! entries (a `u32` generation, odd while occupied, and a union of the value
//! and the next vacant entry), free list and the cursor its iterators share.
//! Every pointer into a page is made and dereferenced here; the invariants
//! are written on the pool's fields. The safe trait impls, the value
//! iterators and the tests are in [`crate::uniform::pool`](super::super::pool).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::alloc::Layout;
use core::fmt;
use core::iter::FusedIterator;
use core::marker::PhantomData;
use core::mem::{ManuallyDrop, size_of};
use core::ptr::NonNull;

use crate::SpaceStats;
use crate::page::PageSize;
use crate::page::raw::{PageGeometry, RawPages};
use crate::platform::IdCounter;
use scopeguard::ScopeGuard;

/// A key into a [`UniformPool`]: `Copy`, 16 bytes, and checked on every use.
///
/// A key stops working when its value is removed (the slot's generation
/// moves on), and a key from another pool never works (keys carry their
/// pool's identity), so neither can read some other value. The one
/// exception is a pool's [clone](UniformPool#cloning), which is meant to
/// answer to the pool's keys: the two share an identity.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PoolKey {
    /// `page * span + slot`, with the pool's `span` (a multiple of
    /// [`GROUP`]): its high bits number a group of `GROUP` entries, its low
    /// [`GROUP_SHIFT`] bits the entry within the group.
    index: u32,
    /// The slot's generation when the value was inserted; always odd.
    generation: u32,
    /// The id of the pool that made the key (never reused: see
    /// `NEXT_POOL_ID`), which its clones share.
    ///
    /// Invariant: only the pool that took this id and the pools cloned from
    /// it (whose values have the same type and whose pages have the same
    /// geometry) make keys with it (the fields are private, and no key is
    /// ever deserialized), and only for entries of pages they added. So
    /// the index of a key whose id is a pool's own names an entry below
    /// the capacity of its page (the geometry is the same in every pool of
    /// the id), and once the lookup has checked it against the pool's
    /// index limit ([`UniformPool::index_limit`]: a clone may have added
    /// pages that this pool has not), its group is in the pool's table.
    pool: u64,
}

impl PoolKey {
    /// The key's index, generation and pool id, for the uniform module's
    /// side tables ([`SecondaryMap`](crate::uniform::SecondaryMap)).
    #[inline]
    pub(in crate::uniform) fn parts(self) -> (u32, u32, u64) {
        (self.index, self.generation, self.pool)
    }

    /// A key from [`parts`](Self::parts) of a key that a pool made: the
    /// same key again (the invariant on `pool` holds for it, as for the
    /// key it was taken from).
    #[inline]
    pub(in crate::uniform) fn from_parts(index: u32, generation: u32, pool: u64) -> Self {
        PoolKey {
            index,
            generation,
            pool,
        }
    }
}

impl fmt::Debug for PoolKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PoolKey({}v{}@{})",
            self.index, self.generation, self.pool
        )
    }
}

/// A pool entry: the generation (odd while occupied, even while vacant)
/// and either the value or the next vacant entry.
#[repr(C)]
struct UniformEntry<T> {
    generation: u32,
    slot: Slot<T>,
}

/// The payload of an entry; which field is live follows the generation's
/// parity.
union Slot<T> {
    value: ManuallyDrop<T>,
    next: u32,
}

/// Per-page bookkeeping of a [`UniformPool`].
struct PageSlot<T> {
    /// The page's first entry (`data_offset` bytes past the page base), or
    /// `None` after `shrink_to_fit` returned the page. Held instead of the
    /// base so that a key resolves with one load from this table.
    entries: Option<NonNull<UniformEntry<T>>>,
    /// The generation every entry of this page starts at when the page is
    /// (re)created: higher than any generation a key to the page holds.
    floor: u32,
}

/// Key indices per group: a key resolves through the group table (one load)
/// and the entry's place in its group (the index's low bits). A constant,
/// so that splitting an index takes no per-pool shift or mask.
const GROUP_SHIFT: u32 = 8;
/// Entries per group (see [`GROUP_SHIFT`]).
const GROUP: u32 = 1 << GROUP_SHIFT;

/// The pages of a [`UniformPool`] and their table: everything that only
/// adding, returning and walking pages touches.
///
/// It lives in an allocation of its own, so that the call that adds a page
/// is handed this and nothing of the pool. The compiler then knows that an
/// insert which may add a page leaves the pool's own fields (length, free
/// list head, cached entry, id, geometry) alone, and a loop of removals and
/// inserts keeps them in registers instead of reloading them around that
/// call at every step.
struct PageTable<T> {
    /// Page allocation and the ownership index behind `header_for`.
    raw: RawPages,
    /// Pages by page number (the high bits of a key's index).
    ///
    /// Invariant: every `Some(entries)` lies `data_offset` bytes into a page
    /// in use by `raw` whose first bytes hold an initialized `H` and whose
    /// `capacity` entries, from `entries`, all have an initialized
    /// generation; an entry with an odd generation holds an initialized
    /// value. Page numbers are never taken back: the table only grows, so
    /// every page number a key holds stays below its length.
    slots: Vec<PageSlot<T>>,
    /// The first entry of every group of [`GROUP`] key indices: page `p`
    /// owns groups `p * per_page..(p + 1) * per_page` (`per_page` =
    /// `span / GROUP`), and its group `g` starts at its entry `g * GROUP`.
    ///
    /// Invariant: `groups.len() == slots.len() * per_page`; a group is
    /// `Some` exactly while its page's `entries` is, and then points at
    /// that page's entry `g * GROUP`, which is below the capacity (`per_page`
    /// is the capacity divided by `GROUP`, rounded up).
    groups: Vec<Option<NonNull<UniformEntry<T>>>>,
    /// Page numbers whose base is `None`, to be reused first.
    free: Vec<u32>,
}

/// A vacant entry off the free list, and its key index (see
/// [`UniformPool::spare`]).
struct Spare<T> {
    entry: NonNull<UniformEntry<T>>,
    index: u32,
}

impl<T> Clone for Spare<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Spare<T> {}

/// No vacant entry.
const NONE: u32 = u32::MAX;
/// The generation of an entry that may never be reused: one more insert
/// would leave no odd generation to give it.
const RETIRED: u32 = u32::MAX - 1;

/// The next pool id. Ids are never reused (the counter never wraps), so
/// that no key of one pool, live or dropped, can ever be taken for a key of
/// another.
static NEXT_POOL_ID: IdCounter = IdCounter::new();

/// A pool of `T`s: insert anywhere, remove anywhere by key, values never
/// move, and iteration walks memory page by page, skipping holes.
///
/// Removal pushes the entry on a free list that the next insert reuses
/// (LIFO); [`shrink_to_fit`](Self::shrink_to_fit) returns pages that hold
/// nothing and rebuilds the free list in address order, so that inserts
/// fill the lowest pages first. Keys stay valid through it.
///
/// ```
/// use managed::prelude::*;
///
/// let mut pool = UniformPool::new();
/// let a = pool.insert("a");
/// let b = pool.insert("b");
/// assert_eq!(pool.remove(a), Some("a"));
/// assert_eq!(pool.remove(a), None, "a stale key is caught");
/// assert_eq!(pool.get(b), Some(&"b"));
/// let c = pool.insert("c"); // reuses a's entry, with a new generation
/// assert_eq!(pool.get(a), None);
/// assert_eq!(pool.iter().map(|(_, v)| *v).collect::<Vec<_>>(), ["c", "b"]);
/// # let _ = c;
/// ```
///
/// # Cloning
///
/// A clone (when `T` and `H` are `Clone`) is a snapshot that answers to
/// the pool's keys: every key of the pool names the clone's copy of its
/// value, a stale key is stale in both, the two iterate in the same order
/// (that of the key indices), and they hand out the same keys for the same
/// sequence of inserts and removals, since the clone also copies the order
/// in which vacant entries are reused. So a program that keeps keys inside
/// its values or beside the pool (in a struct that derives `Clone`, and
/// `PartialEq` to compare states) can snapshot the whole state and go back
/// to it, and a deterministic program run again from the snapshot makes
/// the same keys: the rollback of a lockstep game, an editor's undo by
/// snapshot, a simulation forked to try two inputs. A
/// [`SecondaryMap`](crate::uniform::SecondaryMap) of the pool's keys works
/// with the clone too, and clones with it.
///
/// A clone takes the pages it fills in one allocation (a pool adds its own
/// one by one), which goes back to the allocator once none of its pages
/// holds a value: [`shrink_to_fit`](Self::shrink_to_fit) on a clone returns
/// those pages together. [`clone_from`](Clone::clone_from) reuses the
/// target's pages: a program that snapshots every frame and keeps its
/// snapshots refills them in place, with no allocation.
///
/// The pool and its clone share the identity that refuses foreign keys:
/// after they diverge, a key one of them made names whatever value, if
/// any, the other holds at that place with that generation (as in a
/// `slotmap::SlotMap` and its clone). So a key made after a snapshot
/// (a unit spawned in a timeline that a rollback undoes) may name another
/// value once the state goes back to the snapshot and goes on differently:
/// keep such keys with the state they were made in. Keys of every other
/// pool are refused by both, and pools built apart never share keys, even
/// from the same inserts: peers that run one simulation in separate
/// processes name its values by numbers of their own (keys are not
/// serializable).
///
/// ```
/// use managed::prelude::*;
///
/// #[derive(Clone)]
/// struct World {
///     units: UniformPool<(&'static str, u32)>,
///     selected: PoolKey,
/// }
///
/// let mut units = UniformPool::new();
/// let scout = units.insert(("scout", 10));
/// let mut world = World { units, selected: scout };
/// let saved = world.clone();
///
/// world.units[world.selected].1 -= 4;
/// world.units.remove(scout);
/// let tank = world.units.insert(("tank", 30));
///
/// world = saved.clone(); // roll back: the keys work as before
/// assert_eq!(world.units[world.selected], ("scout", 10));
/// world.units.remove(scout);
/// assert_eq!(world.units.insert(("tank", 30)), tank, "the same key again");
/// ```
pub struct UniformPool<T, H = ()> {
    /// The pages and their table; `None` until the first page is added.
    ///
    /// Invariant: once `Some`, it stays `Some` (nothing takes the table
    /// out before the pool drops), so it is `Some` whenever
    /// `free_head != NONE` or a key of this pool exists: both need a page.
    table: Option<Box<PageTable<T>>>,
    /// The table's `groups`, read by every key lookup without going
    /// through `table` (dangling until the first page is added).
    ///
    /// Invariant: while `table` is `Some`, this is `table.groups`'
    /// buffer, taken again after every change to `groups` (only adding
    /// and returning pages change it), so every group a key of this pool
    /// numbers can be read through it. Lookups only read through it.
    groups: NonNull<Option<NonNull<UniformEntry<T>>>>,
    /// The key indices whose groups are in the table: `GROUP` times the
    /// length of `groups` (0 until the first page is added). A key of this
    /// pool's id is refused at or above it: its page was added by a clone
    /// of this pool (or by the pool this one was cloned from) after the
    /// clone. Below `2^32`, since the page numbers are (see `add_page`).
    ///
    /// Invariant: `index_limit == table.groups.len() * GROUP`, updated
    /// together with `groups`.
    index_limit: u32,
    /// The first vacant entry on the free list (`NONE` if there is none).
    ///
    /// Invariant: the list runs through vacant, non-retired entries of
    /// live pages only, each once; `spare` is not on it.
    free_head: u32,
    /// The entry the last removal vacated, kept off the free list for the
    /// next insert, which takes it first: an insert right after a removal
    /// (the churn of a pool of live objects) then reads and writes neither
    /// the list's head nor a link. A removal that finds the spare taken
    /// pushes the old spare on the list first.
    ///
    /// Invariant: `Some(spare)` names a vacant, non-retired entry of a
    /// live page (`spare.entry` is the entry `spare.index` names) that is
    /// not on the free list.
    spare: Option<Spare<T>>,
    /// Occupied entries.
    len: usize,
    /// Entries per page, payload offset and page size.
    geometry: PageGeometry,
    /// Key indices per page: the capacity rounded up to a multiple of
    /// [`GROUP`]. Page `p`'s entry `s` has the index `p * span + s`.
    span: u32,
    /// This pool's identity, carried by its keys; unique in the process.
    id: u64,
    /// The pool owns `T`s and `H`s.
    _owns: PhantomData<(T, H)>,
}

// SAFETY: the pool owns its values and headers; moving it moves them.
unsafe impl<T: Send, H: Send> Send for UniformPool<T, H> {}
// SAFETY: `&UniformPool` only hands out `&T` and `&H`.
unsafe impl<T: Sync, H: Sync> Sync for UniformPool<T, H> {}

impl<T> UniformPool<T> {
    /// An empty pool with 4 KiB pages. Allocates nothing.
    #[must_use]
    pub fn new() -> Self {
        Self::with_page_size(PageSize::DEFAULT)
    }

    /// An empty pool with 4 KiB pages and room for `capacity` values: the
    /// pages they need (by the geometry of
    /// [`with_page_size`](Self::with_page_size)) are added up front, so
    /// [`capacity`](Self::capacity) is at least `capacity` and the first
    /// `capacity` inserts allocate nothing.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut pool = UniformPool::with_capacity(1000);
    /// let capacity = pool.capacity();
    /// assert!(capacity >= 1000);
    /// for i in 0..1000u64 {
    ///     pool.insert(i);
    /// }
    /// assert_eq!(pool.capacity(), capacity);
    /// ```
    ///
    /// # Panics
    /// When `capacity` needs more pages than a key can number.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        let mut pool = Self::new();
        let pages = capacity.div_ceil(pool.geometry.capacity);
        if pages > 0 {
            let per_page = (pool.span / GROUP) as usize;
            let table = pool.table_mut();
            table.slots.reserve(pages);
            table.groups.reserve(pages.saturating_mul(per_page));
        }
        for _ in 0..pages {
            pool.add_page();
        }
        pool
    }
}

impl<T, H> UniformPool<T, H> {
    /// An empty pool with pages of at least `size` bytes. Allocates nothing.
    #[must_use]
    pub fn with_page_size(size: PageSize) -> Self {
        let geometry =
            PageGeometry::new(size, Layout::new::<H>(), Layout::new::<UniformEntry<T>>());
        // At most 2^28 entries (of 4 bytes at least) in a page of 1 GiB, so
        // the span fits too.
        let capacity = u32::try_from(geometry.capacity).expect("entries per page fit in u32");
        let span = capacity.next_multiple_of(GROUP);
        Self::empty(geometry, span, NEXT_POOL_ID.next())
    }

    /// A pool with no page, of `geometry` and `span`, whose keys carry `id`
    /// (a fresh one, or a pool's that this one is a clone of).
    fn empty(geometry: PageGeometry, span: u32, id: u64) -> Self {
        Self {
            table: None,
            groups: NonNull::dangling(),
            index_limit: 0,
            free_head: NONE,
            spare: None,
            len: 0,
            geometry,
            span,
            id,
            _owns: PhantomData,
        }
    }
}

impl<T, H: Default> UniformPool<T, H> {
    /// Inserts `value`, returning its key. Reuses the most recently vacated
    /// entry, or adds a page.
    ///
    /// # Panics
    ///
    /// When the pool would exceed the key space, with a message: 2^32
    /// indices, of which each page takes its capacity rounded up to a
    /// multiple of 256. That is about four billion entries when a page
    /// holds 256 or more, and 2^24 pages when it holds fewer (the default
    /// 4 KiB page holds 256 values of 12 bytes or less).
    #[inline]
    #[track_caller]
    pub fn insert(&mut self, value: T) -> PoolKey {
        let Spare { entry, index } = match self.spare.take() {
            Some(spare) => spare,
            None => self.pop_free(),
        };
        let entry = entry.as_ptr();
        // Redundant by the invariants on `spare` and `free_head`.
        debug_assert!(self.entry_of_index(index) == entry);
        // SAFETY: 1. the entry is the spare or was the free list's head
        // (their invariants), so it is vacant and no value is overwritten;
        // 2. the generation becomes odd together with the value's write.
        let generation = unsafe {
            let generation = (*entry).generation + 1;
            debug_assert!(generation % 2 == 1);
            (*entry).slot.value = ManuallyDrop::new(value);
            (*entry).generation = generation;
            generation
        };
        self.len += 1;
        PoolKey {
            index,
            generation,
            pool: self.id,
        }
    }

    /// Inserts the value `f` makes from its own key, and returns the key:
    /// for a value that must know its key (a session that names itself to
    /// the rows that point back at it). `f` runs before anything changes,
    /// except that a page is added if the pool is full.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// struct Session {
    ///     id: PoolKey,
    ///     user: String,
    /// }
    ///
    /// let mut sessions = UniformPool::new();
    /// let key = sessions.insert_with_key(|id| Session { id, user: "ada".into() });
    /// assert_eq!(sessions[key].id, key);
    /// assert_eq!(sessions[key].user, "ada");
    /// ```
    ///
    /// # Panics
    ///
    /// As [`insert`](Self::insert); if `f` panics, nothing was inserted.
    #[inline]
    #[track_caller]
    pub fn insert_with_key(&mut self, f: impl FnOnce(PoolKey) -> T) -> PoolKey {
        if self.spare.is_none() && self.free_head == NONE {
            self.add_page();
        }
        let (entry, index) = match &self.spare {
            Some(spare) => (spare.entry, spare.index),
            // SAFETY: as in `pop_free`: the list is not empty (a page was
            // just added if it was), so its head names an entry of a live
            // page this pool added.
            None => (
                unsafe { self.group_entry(self.free_head).unwrap_unchecked() },
                self.free_head,
            ),
        };
        // SAFETY: the entry of a live page (the spare's or the free list
        // head's); its generation is readable whatever the entry holds.
        let generation = unsafe { (*entry.as_ptr()).generation } + 1;
        let key = PoolKey {
            index,
            generation,
            pool: self.id,
        };
        let value = f(key);
        // `f` could not touch the pool (it is borrowed here), so the insert
        // takes the same entry: the spare, or the same list head.
        let inserted = self.insert(value);
        debug_assert_eq!(inserted, key);
        inserted
    }

    /// Takes the free list's head off the list, adding a page first if the
    /// list is empty; for an insert that does not follow a removal.
    #[inline]
    fn pop_free(&mut self) -> Spare<T> {
        if self.free_head == NONE {
            self.add_page();
        }
        let index = self.free_head;
        // Redundant by the invariant on `free_head` (live pages only).
        debug_assert!(self.slots()[(index / self.span) as usize].entries.is_some());
        // SAFETY: 1. the free list is not empty, so there is a table (its
        // invariant), the index was made for an entry of a page this pool
        // added, and that page is live (the list holds entries of live
        // pages only); 2. the entry is vacant, so `next` is its live field.
        unsafe {
            let entry = self.group_entry(index).unwrap_unchecked();
            self.free_head = (*entry.as_ptr()).slot.next;
            Spare { entry, index }
        }
    }

    /// The entry a vacant index names (for debug checks).
    fn entry_of_index(&self, index: u32) -> *mut UniformEntry<T> {
        let page = self.slots()[(index / self.span) as usize]
            .entries
            .expect("vacant entries lie on live pages");
        self.entry(page, (index % self.span) as usize).as_ptr()
    }

    /// Adds a page, its entries pushed on the free list.
    #[inline(always)]
    #[track_caller]
    fn add_page(&mut self) {
        let (geometry, span, head) = (self.geometry, self.span, self.free_head);
        let table = self.table_mut();
        let head = table.add_page::<H>(geometry, span, head);
        let (groups, index_limit) = (table.groups_ptr(), table.index_limit());
        (self.free_head, self.groups, self.index_limit) = (head, groups, index_limit);
    }
}

impl<T> PageTable<T> {
    /// An empty table for pages of `size` bytes.
    #[cold]
    fn boxed(size: PageSize) -> Box<Self> {
        Box::new(PageTable {
            raw: RawPages::new(size),
            slots: Vec::new(),
            groups: Vec::new(),
            free: Vec::new(),
        })
    }

    /// Adds a page of `geometry` with a default header `H`, and pushes its
    /// entries on the free list whose head is `free_head`; returns the new
    /// head. Touches nothing but the table (see the type's documentation).
    #[cold]
    #[inline(never)]
    #[track_caller]
    fn add_page<H: Default>(&mut self, geometry: PageGeometry, span: u32, free_head: u32) -> u32 {
        let per_page = (span / GROUP) as usize;
        // Everything that may panic comes first: the page limit, the header,
        // the page and room in both tables. Nothing after it panics, so
        // `groups`' buffer moves only on the way to a normal return, where
        // the pool takes it again (the invariant on `UniformPool::groups`).
        let page = match self.free.last() {
            Some(&page) => page as usize,
            None => {
                let page = self.slots.len();
                let max_pages = max_pages(span);
                // The last index of the page must stay below `NONE`.
                if page as u64 >= max_pages - 1 {
                    panic!("a UniformPool cannot hold more than {max_pages} pages of entries");
                }
                page
            }
        };
        let header = H::default();
        let base = self.raw.alloc_page();
        let fresh = page == self.slots.len();
        if fresh {
            self.slots.reserve(1);
            self.groups.reserve(per_page);
        }
        if fresh {
            self.slots.push(PageSlot {
                entries: None,
                floor: 0,
            });
            let capacity = self.groups.capacity();
            self.groups.resize(self.slots.len() * per_page, None);
            debug_assert_eq!(capacity, self.groups.capacity(), "reserved above");
        } else {
            self.free.pop();
        }
        // SAFETY: the page is fresh and starts with room for `H`, aligned.
        unsafe { base.cast::<H>().write(header) };
        // SAFETY: the geometry places the entries `data_offset` bytes into
        // the page.
        let entries = unsafe { base.add(geometry.data_offset).cast::<UniformEntry<T>>() };
        let floor = self.slots[page].floor;
        debug_assert!(floor.is_multiple_of(2) && floor < RETIRED);
        let mut head = free_head;
        for slot in (0..geometry.capacity).rev() {
            let entry = entry_at(entries, slot, &geometry).as_ptr();
            // SAFETY: the entry lies in the fresh page; writing its fields
            // initializes it as vacant.
            unsafe {
                (*entry).generation = floor;
                (*entry).slot.next = head;
            }
            head = page as u32 * span + slot as u32;
        }
        self.slots[page].entries = Some(entries);
        for (group, first) in self.groups[page * per_page..][..per_page]
            .iter_mut()
            .enumerate()
        {
            // `group * GROUP` is below the capacity (the invariant of
            // `groups`).
            *first = Some(entry_at(entries, group * GROUP as usize, &geometry));
        }
        head
    }

    /// The buffer of `groups`, for [`UniformPool::groups`].
    fn groups_ptr(&mut self) -> NonNull<Option<NonNull<UniformEntry<T>>>> {
        // SAFETY: a `Vec`'s buffer pointer is never null.
        unsafe { NonNull::new_unchecked(self.groups.as_mut_ptr()) }
    }

    /// The key indices whose groups `groups` holds, for
    /// [`UniformPool::index_limit`].
    fn index_limit(&self) -> u32 {
        // Below `2^32`: page numbers stay below `max_pages - 1`, so the
        // table holds fewer than `2^32 / GROUP` groups.
        u32::try_from(self.groups.len() * GROUP as usize).expect("key indices fit in u32")
    }
}

impl<T, H> UniformPool<T, H> {
    /// Removes and returns the value `key` names; `None` (and nothing
    /// changes) for a stale or foreign key.
    #[inline]
    pub fn remove(&mut self, key: PoolKey) -> Option<T> {
        let entry = self.occupied(key)?;
        // SAFETY: 1. the entry is occupied (generation matched), so the
        // value is initialized; 2. the generation becomes even right below,
        // so the value is never read or dropped again.
        let value = unsafe { ManuallyDrop::take(&mut (*entry.as_ptr()).slot.value) };
        let generation = key.generation + 1;
        // SAFETY: the entry lies in a live page; writing a plain field.
        unsafe { (*entry.as_ptr()).generation = generation };
        if generation != RETIRED {
            let vacated = Spare {
                entry,
                index: key.index,
            };
            if let Some(old) = self.spare.replace(vacated) {
                // SAFETY: the old spare is vacant and on a live page (the
                // invariant on `spare`), so its `next` may be written; it
                // goes on the list, which it was not on.
                unsafe { (*old.entry.as_ptr()).slot.next = self.free_head };
                self.free_head = old.index;
            }
        }
        self.len -= 1;
        Some(value)
    }

    /// Whether this pool made `key`: `true` for its live and its stale
    /// keys (and those of the pool it was [cloned](Self#cloning) from or
    /// into, which share its identity), `false` for another pool's. With
    /// [`contains`](Self::contains),
    /// it tells an expired key (`issued` but not `contains`: "log in
    /// again") from a forged or misrouted one (not `issued`).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut sessions = UniformPool::new();
    /// let mut other = UniformPool::new();
    /// let expired = sessions.insert(1u32);
    /// sessions.remove(expired);
    /// let foreign = other.insert(2u32);
    /// assert!(sessions.issued(expired) && !sessions.contains(expired));
    /// assert!(!sessions.issued(foreign));
    /// ```
    #[inline]
    #[must_use]
    pub fn issued(&self, key: PoolKey) -> bool {
        key.pool == self.id
    }

    /// Whether `key` names a value of this pool.
    #[must_use]
    pub fn contains(&self, key: PoolKey) -> bool {
        self.occupied(key).is_some()
    }

    /// The value `key` names, or `None` for a stale or foreign key.
    #[inline]
    #[must_use]
    pub fn get(&self, key: PoolKey) -> Option<&T> {
        let entry = self.occupied(key)?;
        // SAFETY: the generation matched an odd (key) generation, so the
        // entry is occupied and holds an initialized value; `&self` keeps
        // it alive and shared.
        Some(unsafe { &(*entry.as_ptr()).slot.value })
    }

    /// The value `key` names, mutably.
    #[inline]
    #[must_use]
    pub fn get_mut(&mut self, key: PoolKey) -> Option<&mut T> {
        let entry = self.occupied(key)?;
        // SAFETY: as in `get`, with `&mut self` making it exclusive.
        Some(unsafe { &mut (*entry.as_ptr()).slot.value })
    }

    /// The values of `N` keys at once, each mutably, as slotmap's
    /// `get_disjoint_mut`: `None` if any key is stale or of another pool,
    /// or if two keys name the same value (so no value is lent twice).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut particles = UniformPool::new();
    /// let a = particles.insert([0.0f32, 1.0]);
    /// let b = particles.insert([2.0f32, 3.0]);
    /// if let Some([pa, pb]) = particles.get_disjoint_mut([a, b]) {
    ///     core::mem::swap(pa, pb);
    /// }
    /// assert_eq!((particles[a], particles[b]), ([2.0, 3.0], [0.0, 1.0]));
    /// assert!(particles.get_disjoint_mut([a, a]).is_none(), "the same value twice");
    /// particles.remove(b);
    /// assert!(particles.get_disjoint_mut([a, b]).is_none(), "a stale key");
    /// ```
    #[must_use]
    pub fn get_disjoint_mut<const N: usize>(&mut self, keys: [PoolKey; N]) -> Option<[&mut T; N]> {
        let mut values = [core::ptr::null_mut::<T>(); N];
        for (i, key) in keys.into_iter().enumerate() {
            let entry = self.occupied(key)?.as_ptr();
            // SAFETY: projecting to the value field of an occupied entry
            // (no reference is created here).
            let value = unsafe { (&raw mut (*entry).slot.value).cast::<T>() };
            // An entry holds one value and every key index names one entry,
            // so equal addresses are exactly equal keys of this pool. For a
            // zero-sized `T` the address still differs per entry: the
            // entry's generation is not zero-sized.
            if values[..i].contains(&value) {
                return None;
            }
            values[i] = value;
        }
        // SAFETY: 1. each pointer is the value of an occupied entry of this
        // pool (its generation matched), so initialized; 2. the pointers are
        // pairwise distinct (checked above) and each is a whole value, so the
        // `&mut T`s do not overlap; 3. `&mut self` keeps every other path to
        // the pool away for their lifetime, which is the borrow's.
        Some(values.map(|value| unsafe { &mut *value }))
    }

    /// Number of values.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// The pool's id, key indices per page and entries per page: what a
    /// side table needs to turn this pool's keys into dense positions.
    pub(in crate::uniform) fn key_space(&self) -> (u64, u32, u32) {
        // The capacity fits a `u32` (checked in `with_page_size`).
        (self.id, self.span, self.geometry.capacity as u32)
    }

    /// Whether the pool holds no value.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entries in live pages: how many values fit before a page is added.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.live_pages() * self.geometry.capacity
    }

    /// Removes every value (dropping them; a panicking destructor does not
    /// stop the others from being dropped). Every key becomes stale.
    pub fn clear(&mut self) {
        // The emptied entries go back on the free list also when a
        // destructor panics, so that no entry is lost to inserts.
        let mut pool = scopeguard::guard(self, |pool| pool.rebuild_free_list());
        pool.drop_values();
    }

    /// Keeps only the values for which `f(key, &mut value)` returns
    /// `true`, visiting each once, page by page in memory order (the order
    /// of [`iter`](Self::iter)); the others are removed as the walk passes
    /// them, their keys becoming stale, as with [`remove`](Self::remove).
    /// Values never move, so the keys of those kept stay valid.
    ///
    /// If `f` or a destructor panics, the walk stops there: the values
    /// already removed are gone, the others are kept, and every value is
    /// still dropped exactly once.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut pool = UniformPool::new();
    /// let keys: Vec<_> = (0..10u32).map(|i| pool.insert(i)).collect();
    /// pool.retain(|_key, value| {
    ///     *value *= 10;
    ///     *value % 20 == 0
    /// });
    /// assert_eq!(pool.len(), 5);
    /// assert_eq!((pool.get(keys[2]), pool.get(keys[3])), (Some(&20), None));
    /// ```
    pub fn retain<F: FnMut(PoolKey, &mut T) -> bool>(&mut self, mut f: F) {
        let mut remaining = self.len;
        let mut page = 0;
        while remaining > 0 && page < self.slots().len() {
            let Some(entries) = self.slots()[page].entries else {
                page += 1;
                continue;
            };
            for slot in 0..self.geometry.capacity {
                let entry = self.entry(entries, slot).as_ptr();
                // SAFETY: the entry lies in a live page (`slot` is below the
                // capacity), with its generation initialized; the page stays
                // live for the whole walk, since removals never return pages.
                let generation = unsafe { (*entry).generation };
                if generation % 2 == 0 {
                    continue;
                }
                let key = PoolKey {
                    index: page as u32 * self.span + slot as u32,
                    generation,
                    pool: self.id,
                };
                // SAFETY: 1. an odd generation: the value is initialized;
                // 2. `&mut self` makes this the only path to it, and the
                // reference ends when `f` returns, before the removal below.
                let keep = f(key, unsafe {
                    &mut *(&raw mut (*entry).slot.value).cast::<T>()
                });
                if !keep {
                    // `remove` leaves the pool consistent before the value's
                    // destructor runs here.
                    drop(self.remove(key));
                }
                remaining -= 1;
                if remaining == 0 {
                    break;
                }
            }
            page += 1;
        }
    }

    /// The key of the first value at or after entry `slot` of page `page`
    /// (page by page in memory order, the order of [`iter`](Self::iter)),
    /// with the cursor moved past it; `None` when no value is left there.
    /// The cursor of [`drain`](Self::drain) and of the pool's owning
    /// iterator, which remove each value as they pass it.
    pub(in crate::uniform) fn next_key(
        &self,
        page: &mut usize,
        slot: &mut usize,
    ) -> Option<PoolKey> {
        if self.len == 0 {
            return None;
        }
        while *page < self.slots().len() {
            if let Some(entries) = self.slots()[*page].entries {
                while *slot < self.geometry.capacity {
                    let at = *slot;
                    *slot += 1;
                    let entry = self.entry(entries, at).as_ptr();
                    // SAFETY: the entry lies in a live page (`at` is below
                    // the capacity), whose entries have initialized
                    // generations.
                    let generation = unsafe { (*entry).generation };
                    if generation % 2 == 1 {
                        return Some(PoolKey {
                            index: *page as u32 * self.span + at as u32,
                            generation,
                            pool: self.id,
                        });
                    }
                }
            }
            *slot = 0;
            *page += 1;
        }
        None
    }

    /// `(key, &value)` pairs, page by page in memory order, skipping holes.
    #[must_use]
    pub fn iter(&self) -> Iter<'_, T, H> {
        Iter {
            raw: PoolRawIter::new(self),
            _pool: PhantomData,
        }
    }

    /// `(key, &mut value)` pairs, page by page, skipping holes.
    #[must_use]
    pub fn iter_mut(&mut self) -> IterMut<'_, T, H> {
        IterMut {
            raw: PoolRawIter::new(self),
            _pool: PhantomData,
        }
    }

    /// Space statistics: `size_of::<T>()` per value against every page held.
    #[must_use]
    pub fn stats(&self) -> SpaceStats {
        let reserved = self.table.as_ref().map_or(0, |t| t.raw.reserved_bytes());
        SpaceStats::new(self.len() * size_of::<T>(), reserved)
    }

    /// Returns every page holding no value to the allocator, and rebuilds
    /// the free list in address order. Keys stay valid: a page created
    /// again later starts its generations above any key to it.
    pub fn shrink_to_fit(&mut self) {
        // The free list runs through the pages returned here: it is rebuilt
        // when done, also when a header's destructor panics; the group
        // buffer is taken again after the groups were written.
        let mut pool = scopeguard::guard(self, |pool| {
            pool.rebuild_free_list();
            if let Some(table) = pool.table.as_deref_mut() {
                table.raw.release_spare();
                pool.groups = table.groups_ptr();
            }
        });
        let (geometry, per_page) = (pool.geometry, (pool.span / GROUP) as usize);
        let Some(table) = pool.table.as_deref_mut() else {
            return;
        };
        for page in 0..table.slots.len() {
            let Some(entries) = table.slots[page].entries else {
                continue;
            };
            let mut highest = 0;
            let mut empty = true;
            for slot in 0..geometry.capacity {
                let entry = entry_at(entries, slot, &geometry).as_ptr();
                // SAFETY: entries of live pages have initialized generations.
                let generation = unsafe { (*entry).generation };
                empty &= generation % 2 == 0;
                highest = highest.max(generation);
            }
            if !empty || highest >= RETIRED {
                continue;
            }
            table.slots[page] = PageSlot {
                entries: None,
                floor: highest,
            };
            table.groups[page * per_page..][..per_page].fill(None);
            table.free.push(page as u32);
            let base = page_base(entries, &geometry);
            // SAFETY: 1. the page was live and its header initialized; it is
            // read out once; 2. no entry of it holds a value and it is no
            // longer reachable from the table, so freeing it is safe; the
            // header is dropped after, so a panic in its destructor leaves
            // the table consistent.
            unsafe {
                let header = base.cast::<H>().read();
                table.raw.free_page(base);
                drop(header);
            }
        }
    }

    /// The header of the page holding `value`, or `None` when it is not on
    /// a page of this pool. Only the address is used.
    #[must_use]
    pub fn header_for(&self, value: *const T) -> Option<&H> {
        let page = self.table.as_ref()?.raw.page_of(value.addr())?;
        // SAFETY: pages in use by `raw` are live pages of this pool, which
        // start with an initialized header; `&self` keeps it shared.
        Some(unsafe { page.cast::<H>().as_ref() })
    }

    /// The header of the page holding `value`, mutably.
    #[must_use]
    pub fn header_for_mut(&mut self, value: *const T) -> Option<&mut H> {
        let page = self.table.as_ref()?.raw.page_of(value.addr())?;
        // SAFETY: as in `header_for`, with `&mut self` making it exclusive.
        Some(unsafe { page.cast::<H>().as_mut() })
    }

    fn live_pages(&self) -> usize {
        self.table
            .as_ref()
            .map_or(0, |t| t.slots.len() - t.free.len())
    }

    /// The page table's slots (none before the first page).
    #[inline]
    fn slots(&self) -> &[PageSlot<T>] {
        self.table.as_deref().map_or(&[], |t| &t.slots)
    }

    /// The page table, made on first use. Always inlined: it is on the
    /// path that adds a page, which must not hand the pool to a call (see
    /// [`PageTable`]).
    #[inline(always)]
    fn table_mut(&mut self) -> &mut PageTable<T> {
        if self.table.is_none() {
            self.table = Some(PageTable::boxed(self.geometry.page_size));
        }
        match self.table.as_deref_mut() {
            Some(table) => table,
            None => unreachable!("the table was just made"),
        }
    }

    /// The entry `slot` of a page whose first entry is `entries`.
    #[inline]
    fn entry(&self, entries: NonNull<UniformEntry<T>>, slot: usize) -> NonNull<UniformEntry<T>> {
        entry_at(entries, slot, &self.geometry)
    }

    /// The entry a key names, if the key is this pool's and its page
    /// exists; the generation is not checked here.
    #[inline]
    fn entry_of(&self, key: PoolKey) -> Option<NonNull<UniformEntry<T>>> {
        if key.pool != self.id || key.index >= self.index_limit {
            return None;
        }
        // SAFETY: the key is of this pool's id (ids are unique, and only
        // this pool and its clones make keys with it, see `PoolKey`), so it
        // was made for an entry below a page's capacity, and its group is
        // in this pool's table (checked against the limit just above).
        unsafe { self.group_entry(key.index) }
    }

    /// The entry `index` names, or `None` when its page was returned: one
    /// load from the group table.
    ///
    /// # Safety
    ///
    /// `index` is below [`index_limit`](Self::index_limit) and names an
    /// entry below its page's capacity: an index that this pool or a pool
    /// of its id made for an entry of a page it added (a key of this
    /// pool's id checked against the limit, or an index on the free list).
    #[inline]
    unsafe fn group_entry(&self, index: u32) -> Option<NonNull<UniformEntry<T>>> {
        let group = (index >> GROUP_SHIFT) as usize;
        let at = (index & (GROUP - 1)) as usize;
        // Redundant by the caller's contract (see below).
        debug_assert!(index < self.index_limit);
        debug_assert!(group < self.table.as_ref().map_or(0, |t| t.groups.len()));
        debug_assert!(((index % self.span) as usize) < self.geometry.capacity);
        // SAFETY: the index is below the limit, so a page was added, there
        // is a table and `groups` is its group buffer (the invariants on
        // `groups` and `index_limit`), and the group number is below its
        // length.
        let first = unsafe { *self.groups.as_ptr().add(group) }?;
        // SAFETY: a live group's first entry is the page's entry
        // `g * GROUP`, and the index names an entry of the page, so `at`
        // entries on lie below the capacity, inside the page.
        Some(unsafe { first.add(at) })
    }

    /// The occupied entry `key` names, or `None` when the key is stale or
    /// foreign.
    #[inline]
    fn occupied(&self, key: PoolKey) -> Option<NonNull<UniformEntry<T>>> {
        let entry = self.entry_of(key)?;
        // SAFETY: entries of live pages have an initialized generation.
        let generation = unsafe { (*entry.as_ptr()).generation };
        (generation == key.generation).then_some(entry)
    }

    /// Relinks every vacant, non-retired entry of live pages, lowest page
    /// and entry first.
    fn rebuild_free_list(&mut self) {
        self.free_head = NONE;
        self.spare = None;
        for page in (0..self.slots().len()).rev() {
            let Some(entries) = self.slots()[page].entries else {
                continue;
            };
            for slot in (0..self.geometry.capacity).rev() {
                let entry = self.entry(entries, slot).as_ptr();
                // SAFETY: the entry lies in a live page; its generation is
                // initialized, and a vacant entry's `next` may be written.
                unsafe {
                    let generation = (*entry).generation;
                    if generation.is_multiple_of(2) && generation != RETIRED {
                        (*entry).slot.next = self.free_head;
                        self.free_head = page as u32 * self.span + slot as u32;
                    }
                }
            }
        }
    }

    /// Drops every value, marking each entry vacant before its destructor
    /// runs, and keeps going (while unwinding) if one panics.
    fn drop_values(&mut self) {
        /// Drops the values from `(page, slot)` on, advancing the cursor
        /// past each entry before dropping its value.
        fn run<T, H>(pool: &mut UniformPool<T, H>, page: &mut usize, slot: &mut usize) {
            while *page < pool.slots().len() {
                let Some(entries) = pool.slots()[*page].entries else {
                    *page += 1;
                    continue;
                };
                while *slot < pool.geometry.capacity {
                    let entry = pool.entry(entries, *slot).as_ptr();
                    *slot += 1;
                    // SAFETY: 1. the entry lies in a live page with an
                    // initialized generation; 2. an odd generation means
                    // the value is initialized; it is marked vacant
                    // before being dropped, so it is dropped only once
                    // even if its destructor panics.
                    unsafe {
                        if (*entry).generation % 2 == 1 {
                            (*entry).generation += 1;
                            pool.len -= 1;
                            ManuallyDrop::drop(&mut (*entry).slot.value);
                        }
                    }
                }
                *slot = 0;
                *page += 1;
            }
        }
        if self.is_empty() {
            return;
        }
        // If a destructor panics, the guard goes on from the next entry
        // while unwinding; on the normal path it finds nothing left.
        let mut cursor = scopeguard::guard((self, 0, 0), |(pool, mut page, mut slot)| {
            run(pool, &mut page, &mut slot);
        });
        let (pool, page, slot) = &mut *cursor;
        run(pool, page, slot);
    }
}

/// A copy of the pool that answers to the same keys: the clone shares the
/// pool's id, and every entry, generation, page and page header is copied
/// to the same place in the clone's own pages, so every key of the pool
/// names the clone's copy of its value, stale keys stay stale, and the
/// clone's next inserts hand out the keys the pool's own would (the free
/// list and the spare entry are copied too). See the type's documentation
/// ("Cloning") for what keys made after the clone do.
impl<T: Clone, H: Clone> Clone for UniformPool<T, H> {
    /// Copies the pool (see the impl's documentation). If a value's or a
    /// header's `clone` panics, the values and headers cloned so far are
    /// dropped (each once) and the panic propagates; the pool is untouched.
    fn clone(&self) -> Self {
        self.clone_onto(None)
    }

    /// Makes this pool a copy of `source`, as `*self = source.clone()`
    /// would, reusing this pool's pages (when both have the same page
    /// size): restoring a snapshot into the state it replaces, or keeping a
    /// snapshot up to date, allocates nothing once the pages are there.
    ///
    /// This pool's values and headers are dropped first. If a destructor
    /// panics, the others are still dropped, this pool is left empty and
    /// the panic propagates; if a `clone` panics, this pool is left empty
    /// (its pages freed) and the panic propagates.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut world = UniformPool::new();
    /// let unit = world.insert([0i32; 2]);
    /// let mut saved = world.clone();
    /// for frame in 0..3 {
    ///     saved.clone_from(&world); // snapshot, in place
    ///     world[unit][0] += 1;
    ///     world.clone_from(&saved); // roll back, in place
    ///     assert_eq!(world[unit], [0, 0], "frame {frame}");
    /// }
    /// ```
    fn clone_from(&mut self, source: &Self) {
        let pages = if self.geometry == source.geometry {
            self.take_pages()
        } else {
            None
        };
        *self = source.clone_onto(pages);
    }
}

impl<T, H> UniformPool<T, H> {
    /// Empties the pool, dropping its values and headers, and takes its
    /// page table with every page idle (for [`clone_from`](Clone::clone_from));
    /// the pool is left with no pages. `None` if it never had any.
    ///
    /// If a destructor panics, the others are still dropped, the pool is
    /// left empty and the panic propagates.
    fn take_pages(&mut self) -> Option<Box<PageTable<T>>> {
        if core::mem::needs_drop::<T>() && !self.is_empty() {
            // On a panic, the vacated entries go back on the free list
            // (the values left were dropped while unwinding).
            let mut pool = scopeguard::guard(&mut *self, |pool| pool.rebuild_free_list());
            pool.drop_values();
            ScopeGuard::into_inner(pool);
        }
        let mut table = self.table.take()?;
        (self.groups, self.index_limit) = (NonNull::dangling(), 0);
        (self.free_head, self.spare, self.len) = (NONE, None, 0);
        // The pool holds no page any more; a panic here drops the table,
        // which frees them.
        drop_headers::<T, H>(&mut table.slots, &self.geometry);
        table.raw.idle_all();
        table.slots.clear();
        table.groups.clear();
        table.free.clear();
        Some(table)
    }
}

impl<T: Clone, H: Clone> UniformPool<T, H> {
    /// A clone of the pool (see `Clone`) whose pages come from `pages`'
    /// idle ones first: a table with no page in use and empty tables, of
    /// this pool's page size.
    fn clone_onto(&self, pages: Option<Box<PageTable<T>>>) -> Self {
        let mut clone = UniformPool::empty(self.geometry, self.span, self.id);
        let Some(source) = self.table.as_deref() else {
            return clone;
        };
        let geometry = self.geometry;
        let per_page = (self.span / GROUP) as usize;
        let table = pages.unwrap_or_else(|| {
            // The live pages in few allocations (a pool adds its pages one
            // by one): a snapshot made and dropped in a loop then reuses
            // the allocator's memory, as a `Vec` does, where hundreds of
            // pages allocated and freed one by one went back to the system
            // at every drop and faulted in again at the next copy.
            let mut table = PageTable::boxed(geometry.page_size);
            table
                .raw
                .reserve_adjacent(source.slots.len() - source.free.len());
            table
        });
        debug_assert!(table.slots.is_empty() && table.groups.is_empty() && table.free.is_empty());
        // Borrows the `table` field alone, so that `len` can be counted up
        // beside it.
        let table = &mut **clone.table.insert(table);
        table.slots.reserve_exact(source.slots.len());
        table.groups.reserve_exact(source.groups.len());
        table.free.clone_from(&source.free);
        // Page by page: the header, then the page joins the table, then its
        // entries are copied in one pass: a vacant entry byte for byte (its
        // generation, and its link when it is on the free list), an
        // occupied one by cloning its value, the generation written after
        // the value. If a `clone` panics, the guard marks the entries from
        // the panicking one on vacant (their generations written, no value
        // behind them), so that `Drop` finds live pages with a header and
        // initialized generations, and values exactly where the
        // generations are odd.
        for page in &source.slots {
            let Some(from) = page.entries else {
                table.slots.push(PageSlot {
                    entries: None,
                    floor: page.floor,
                });
                table.groups.extend(core::iter::repeat_n(None, per_page));
                continue;
            };
            // SAFETY: a live page starts with an initialized header (the
            // invariant of `slots`), shared through `&self`.
            let header = unsafe { page_base(from, &geometry).cast::<H>().as_ref() }.clone();
            let base = table.raw.alloc_page();
            // SAFETY: 1. the page is fresh and starts with room for `H`,
            // aligned; 2. the geometry places the entries `data_offset`
            // bytes into it.
            let entries = unsafe {
                base.cast::<H>().write(header);
                base.add(geometry.data_offset).cast::<UniformEntry<T>>()
            };
            table.slots.push(PageSlot {
                entries: Some(entries),
                floor: page.floor,
            });
            table.groups.extend(
                (0..per_page)
                    .map(|group| Some(entry_at(entries, group * GROUP as usize, &geometry))),
            );
            let mut next = scopeguard::guard(0, |at| {
                for slot in at..geometry.capacity {
                    let to = entry_at(entries, slot, &geometry).as_ptr();
                    // SAFETY: the entry lies in the clone's live page; no
                    // value was written to it (the one at `at` panicked
                    // before its write), so marking it vacant loses none.
                    unsafe { (*to).generation = 0 };
                }
            });
            while *next < geometry.capacity {
                let slot = *next;
                let (from, to) = (
                    entry_at(from, slot, &geometry).as_ptr(),
                    entry_at(entries, slot, &geometry).as_ptr(),
                );
                // SAFETY: 1. both entries lie in live pages (`slot` is below
                // the capacity), the source's generation is initialized,
                // and an odd one means an initialized value, read shared
                // through `&self`; 2. the clone's entry holds nothing yet,
                // so writing overwrites nothing; a vacant entry's bytes
                // (the generation, and a link or leftover bytes) are copied
                // untyped, as `copy_nonoverlapping` does, and the occupied
                // entry's generation becomes odd only once its value is
                // there.
                unsafe {
                    let generation = (*from).generation;
                    if generation % 2 == 1 {
                        let value = T::clone(&(*from).slot.value);
                        (&raw mut (*to).slot.value).write(ManuallyDrop::new(value));
                        (*to).generation = generation;
                        clone.len += 1;
                    } else {
                        core::ptr::copy_nonoverlapping(from, to, 1);
                    }
                }
                *next = slot + 1;
            }
            ScopeGuard::into_inner(next);
        }
        // Pages of a reused table that the copy did not need.
        table.raw.release_spare();
        debug_assert_eq!(clone.len, self.len);
        let (groups, index_limit) = (table.groups_ptr(), table.index_limit());
        (clone.groups, clone.index_limit) = (groups, index_limit);
        // The free list's links were copied with the vacant entries: the
        // same list, from the same head, and the same spare, so the clone's
        // inserts take the entries the source's would, in the same order.
        clone.free_head = self.free_head;
        clone.spare = self.spare.map(|Spare { index, .. }| Spare {
            // SAFETY: the spare names a vacant entry of a live page of the
            // source (its invariant), which the clone has live too.
            entry: unsafe { clone.group_entry(index).unwrap_unchecked() },
            index,
        });
        clone
    }
}

impl<T, H> Drop for UniformPool<T, H> {
    fn drop(&mut self) {
        // Headers are dropped (and pages freed by `raw`) even if a value's
        // destructor panics.
        let mut pool = scopeguard::guard(self, |pool| {
            let geometry = pool.geometry;
            if let Some(table) = pool.table.as_deref_mut() {
                drop_headers::<T, H>(&mut table.slots, &geometry);
            }
        });
        // Values without drop glue are left as they are: the pages go
        // back whole.
        if core::mem::needs_drop::<T>() {
            pool.drop_values();
        }
    }
}

/// Drops the header of every live page of `slots`, each once, marking the
/// page gone first; goes on with the others (while unwinding) if one's
/// destructor panics.
fn drop_headers<T, H>(slots: &mut [PageSlot<T>], geometry: &PageGeometry) {
    let mut rest = slots;
    while let Some((first, tail)) = rest.split_first_mut() {
        rest = tail;
        let Some(entries) = first.entries.take() else {
            continue;
        };
        let base = page_base(entries, geometry);
        let rest = scopeguard::guard(&mut *rest, |rest| drop_headers::<T, H>(rest, geometry));
        // SAFETY: a live page holds an initialized header, dropped once here
        // (the page is marked gone first).
        unsafe { base.cast::<H>().drop_in_place() };
        // Not unwinding: the loop goes on with the rest.
        ScopeGuard::into_inner(rest);
    }
}

// ----- iterators -----

/// The cursor shared by the pool iterators.
struct PoolRawIter<T, H> {
    pool: NonNull<UniformPool<T, H>>,
    page: usize,
    slot: usize,
    /// Occupied entries not yet yielded.
    remaining: usize,
}

impl<T, H> PoolRawIter<T, H> {
    fn new(pool: &UniformPool<T, H>) -> Self {
        Self {
            pool: NonNull::from(pool),
            page: 0,
            slot: 0,
            remaining: pool.len(),
        }
    }

    #[inline]
    fn next(&mut self) -> Option<(PoolKey, *mut T)> {
        if self.remaining == 0 {
            return None;
        }
        // SAFETY: the wrapper borrows the pool for the iterator's lifetime.
        let pool = unsafe { self.pool.as_ref() };
        loop {
            // `remaining > 0` guarantees an occupied entry lies ahead, so
            // the page index stays in bounds.
            let Some(entries) = pool.slots()[self.page].entries else {
                self.page += 1;
                continue;
            };
            let entry = pool.entry(entries, self.slot).as_ptr();
            let index = self.page as u32 * pool.span + self.slot as u32;
            self.slot += 1;
            if self.slot == pool.geometry.capacity {
                self.slot = 0;
                self.page += 1;
            }
            // SAFETY: the entry lies in a live page, with its generation
            // initialized.
            let generation = unsafe { (*entry).generation };
            if generation % 2 == 1 {
                self.remaining -= 1;
                let key = PoolKey {
                    index,
                    generation,
                    pool: pool.id,
                };
                // SAFETY: projecting to the value field of an occupied entry
                // (no reference is created here).
                let value = unsafe { (&raw mut (*entry).slot.value).cast::<T>() };
                return Some((key, value));
            }
        }
    }
}

impl<T, H> PoolRawIter<T, H> {
    /// Folds over every remaining occupied entry, page by page: the inner
    /// loop is a linear scan of one page's entries.
    #[inline]
    fn fold_entries<B>(self, init: B, mut f: impl FnMut(B, PoolKey, *mut T) -> B) -> B {
        let mut acc = init;
        let mut remaining = self.remaining;
        if remaining == 0 {
            return acc;
        }
        // SAFETY: the wrapper borrows the pool for the iterator's lifetime.
        let pool = unsafe { self.pool.as_ref() };
        let mut first_slot = self.slot;
        for (page, page_slot) in pool.slots().iter().enumerate().skip(self.page) {
            let Some(entries) = page_slot.entries else {
                first_slot = 0;
                continue;
            };
            let entries = entries.as_ptr();
            for slot in first_slot..pool.geometry.capacity {
                // SAFETY: `slot < capacity`: the entry lies in a live page
                // with an initialized generation.
                let entry = unsafe { entries.add(slot) };
                // SAFETY: as above.
                let generation = unsafe { (*entry).generation };
                if generation % 2 == 1 {
                    let key = PoolKey {
                        index: page as u32 * pool.span + slot as u32,
                        generation,
                        pool: pool.id,
                    };
                    // SAFETY: projecting to the value of an occupied entry.
                    let value = unsafe { (&raw mut (*entry).slot.value).cast::<T>() };
                    acc = f(acc, key, value);
                    remaining -= 1;
                    if remaining == 0 {
                        return acc;
                    }
                }
            }
            first_slot = 0;
        }
        acc
    }
}

/// Iterator over `(PoolKey, &T)`; see [`UniformPool::iter`].
pub struct Iter<'a, T, H = ()> {
    raw: PoolRawIter<T, H>,
    _pool: PhantomData<&'a UniformPool<T, H>>,
}

impl<'a, T, H> Iterator for Iter<'a, T, H> {
    type Item = (PoolKey, &'a T);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        // SAFETY: the cursor yields occupied entries of the pool, which is
        // borrowed shared for `'a`.
        self.raw.next().map(|(k, v)| (k, unsafe { &*v }))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.raw.remaining, Some(self.raw.remaining))
    }
    #[inline]
    fn fold<B, F: FnMut(B, Self::Item) -> B>(self, init: B, mut f: F) -> B {
        // SAFETY: occupied entries of the pool, borrowed shared for `'a`.
        self.raw
            .fold_entries(init, |acc, k, v| f(acc, (k, unsafe { &*v })))
    }
}

impl<T, H> ExactSizeIterator for Iter<'_, T, H> {}
impl<T, H> FusedIterator for Iter<'_, T, H> {}

// SAFETY: an `Iter` only reads the pool it borrows shared, like a
// `&UniformPool`, which is `Send` and `Sync` when `T` and `H` are `Sync`.
unsafe impl<T: Sync, H: Sync> Send for Iter<'_, T, H> {}
// SAFETY: as for `Send`: `&Iter` reads no more than `Iter` does.
unsafe impl<T: Sync, H: Sync> Sync for Iter<'_, T, H> {}

impl<T, H> fmt::Debug for Iter<'_, T, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("remaining", &self.raw.remaining)
            .finish_non_exhaustive()
    }
}

/// Iterator over `(PoolKey, &mut T)`; see [`UniformPool::iter_mut`].
pub struct IterMut<'a, T, H = ()> {
    raw: PoolRawIter<T, H>,
    _pool: PhantomData<&'a mut UniformPool<T, H>>,
}

impl<'a, T, H> Iterator for IterMut<'a, T, H> {
    type Item = (PoolKey, &'a mut T);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        // SAFETY: the pool is borrowed exclusively for `'a` and the cursor
        // yields each occupied entry once, so the borrows are disjoint.
        self.raw.next().map(|(k, v)| (k, unsafe { &mut *v }))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.raw.remaining, Some(self.raw.remaining))
    }
    #[inline]
    fn fold<B, F: FnMut(B, Self::Item) -> B>(self, init: B, mut f: F) -> B {
        // SAFETY: each occupied entry once, the pool borrowed exclusively
        // for `'a`.
        self.raw
            .fold_entries(init, |acc, k, v| f(acc, (k, unsafe { &mut *v })))
    }
}

impl<T, H> ExactSizeIterator for IterMut<'_, T, H> {}
impl<T, H> FusedIterator for IterMut<'_, T, H> {}

// SAFETY: an `IterMut` borrows the pool exclusively: it reads the page
// table (`H: Sync`, as for a shared borrow) and hands out each value once as
// `&mut T`, which moves to another thread when `T: Send` (as `slab`'s and
// `Vec`'s `IterMut`).
unsafe impl<T: Send, H: Sync> Send for IterMut<'_, T, H> {}
// SAFETY: `&IterMut` gives access to nothing (every method takes
// `&mut self`), so sharing it needs no more than `&T` would.
unsafe impl<T: Sync, H: Sync> Sync for IterMut<'_, T, H> {}

impl<T, H> fmt::Debug for IterMut<'_, T, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IterMut")
            .field("remaining", &self.raw.remaining)
            .finish_non_exhaustive()
    }
}

// ----- parallel walks (feature `rayon`) -----

/// The cursor of one page's walk in a parallel walk ([`PageRun`],
/// [`PageRunMut`]): the entries of that page from `slot` on. It reads
/// nothing of the pool but the page itself (the entries' generations, and
/// hands out their values), so every page can be walked on a thread of
/// its own while the pool stays on the calling thread.
#[cfg(feature = "rayon")]
struct PageCursor<T> {
    /// The page's first entry.
    ///
    /// Invariant: a live page of the pool the run borrows (its `capacity`
    /// entries have initialized generations, odd ones hold initialized
    /// values), which stays live and unchanged while the run exists: the
    /// pool is borrowed for the run's lifetime.
    entries: NonNull<UniformEntry<T>>,
    /// The next entry to read.
    slot: usize,
    /// Entries per page (the pool's geometry).
    capacity: usize,
    /// The key index of the page's entry 0: `page * span`.
    first: u32,
    /// The pool's id, for the keys.
    pool: u64,
}

#[cfg(feature = "rayon")]
impl<T> PageCursor<T> {
    /// The key and value of the next occupied entry of the page.
    #[inline]
    fn next(&mut self) -> Option<(PoolKey, *mut T)> {
        while self.slot < self.capacity {
            let slot = self.slot;
            self.slot += 1;
            // SAFETY: `slot < capacity`, so the entry lies in the page (the
            // invariant on `entries`).
            let entry = unsafe { self.entries.as_ptr().add(slot) };
            // SAFETY: 1. an entry of a live page has an initialized
            // generation; 2. nothing writes it while the pool is borrowed;
            // 3. a raw read of the field: no reference to the entry, so
            // none overlaps a value handed out before.
            let generation = unsafe { (*entry).generation };
            if generation % 2 == 1 {
                let key = PoolKey {
                    // No overflow: `first + slot` is the key index of an
                    // entry of the page, below `(page + 1) * span`, which
                    // the page limit (`max_pages`) keeps within `u32`.
                    index: self.first + slot as u32,
                    generation,
                    pool: self.pool,
                };
                // SAFETY: projecting to the value of an occupied entry (no
                // reference is created here).
                let value = unsafe { (&raw mut (*entry).slot.value).cast::<T>() };
                return Some((key, value));
            }
        }
        None
    }
}

/// The occupied entries of one page, shared, as `(key, &value)` pairs in
/// entry order: a piece of work of [`UniformPool::par_iter`].
#[cfg(feature = "rayon")]
pub(in crate::uniform) struct PageRun<'a, T> {
    cursor: PageCursor<T>,
    _pool: PhantomData<&'a T>,
}

#[cfg(feature = "rayon")]
impl<'a, T> Iterator for PageRun<'a, T> {
    type Item = (PoolKey, &'a T);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        // SAFETY: the cursor yields occupied entries of a pool borrowed
        // shared for `'a` (`Iter::into_runs`).
        self.cursor.next().map(|(k, v)| (k, unsafe { &*v }))
    }
}

// SAFETY: a `PageRun` reads its page's generations, which nothing writes
// while the pool is borrowed, and hands out `&T`s of the page: moving it
// to another thread shares the values with that thread, as sending a
// `&T` does, which needs `T: Sync`.
#[cfg(feature = "rayon")]
unsafe impl<T: Sync> Send for PageRun<'_, T> {}

/// The occupied entries of one page, exclusively, as `(key, &mut value)`
/// pairs in entry order: a piece of work of
/// [`UniformPool::par_iter_mut`].
#[cfg(feature = "rayon")]
pub(in crate::uniform) struct PageRunMut<'a, T> {
    cursor: PageCursor<T>,
    _pool: PhantomData<&'a mut T>,
}

#[cfg(feature = "rayon")]
impl<'a, T> Iterator for PageRunMut<'a, T> {
    type Item = (PoolKey, &'a mut T);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        // SAFETY: 1. the cursor yields occupied entries of a pool borrowed
        // exclusively for `'a` (`IterMut::into_runs`), each once; 2. no
        // other run walks this page (one run per page), so no other
        // `&mut T` or `&T` to the value exists.
        self.cursor.next().map(|(k, v)| (k, unsafe { &mut *v }))
    }
}

// SAFETY: a `PageRunMut` reads its page's generations, which nothing
// writes while the pool is borrowed, and hands out each value of its page
// once, as `&mut T`, on whichever thread holds it: moving it moves those
// `&mut T`s, which needs `T: Send`. No other run reaches its page.
#[cfg(feature = "rayon")]
unsafe impl<T: Send> Send for PageRunMut<'_, T> {}

#[cfg(feature = "rayon")]
impl<T, H> PoolRawIter<T, H> {
    /// One cursor per live page not yet walked, the first from the
    /// cursor's place in its page: together they read exactly the entries
    /// `next` would have read, so they yield the `remaining` values.
    fn into_page_cursors(self) -> Vec<PageCursor<T>> {
        if self.remaining == 0 {
            return Vec::new();
        }
        // SAFETY: the wrapper borrows the pool for the iterator's lifetime.
        let pool = unsafe { self.pool.as_ref() };
        let mut cursors = Vec::with_capacity(pool.live_pages());
        let mut first_slot = self.slot;
        for (page, page_slot) in pool.slots().iter().enumerate().skip(self.page) {
            if let Some(entries) = page_slot.entries {
                cursors.push(PageCursor {
                    entries,
                    slot: first_slot,
                    capacity: pool.geometry.capacity,
                    first: page as u32 * pool.span,
                    pool: pool.id,
                });
            }
            first_slot = 0;
        }
        cursors
    }
}

#[cfg(feature = "rayon")]
impl<'a, T, H> Iter<'a, T, H> {
    /// The values not yet yielded, as one run per page (the pieces a
    /// parallel walk hands to its threads), in the order of `next`.
    pub(in crate::uniform) fn into_runs(self) -> Vec<PageRun<'a, T>> {
        let cursors = self.raw.into_page_cursors();
        cursors
            .into_iter()
            .map(|cursor| PageRun {
                cursor,
                _pool: PhantomData,
            })
            .collect()
    }
}

#[cfg(feature = "rayon")]
impl<'a, T, H> IterMut<'a, T, H> {
    /// The values not yet yielded, as one run per page, each over pages
    /// no other run reads (the pieces a parallel walk hands to its
    /// threads), in the order of `next`.
    pub(in crate::uniform) fn into_runs(self) -> Vec<PageRunMut<'a, T>> {
        let cursors = self.raw.into_page_cursors();
        cursors
            .into_iter()
            .map(|cursor| PageRunMut {
                cursor,
                _pool: PhantomData,
            })
            .collect()
    }
}

// Memory maps (`crate::memory_map`).
impl<T, H> UniformPool<T, H> {
    /// A map of the pool's memory: one block per page, by page number (the
    /// header `H`, padding up to the first entry, then each entry: its
    /// generation as metadata, and the value, live, or the vacant slot,
    /// free, with the entry's own padding), then the idle page kept for
    /// reuse. Live bytes are [`stats`](Self::stats)' live bytes, and the
    /// blocks add up to its reserved bytes.
    ///
    /// ```
    /// use managed::memory_map::SpanKind;
    /// use managed::prelude::*;
    ///
    /// let mut pool = UniformPool::new();
    /// let keys: Vec<_> = (0..600u64).map(|i| pool.insert(i)).collect();
    /// keys.iter().step_by(2).for_each(|&k| drop(pool.remove(k)));
    /// let before = pool.memory_map();
    /// keys.iter().skip(1).step_by(2).take(290).for_each(|&k| drop(pool.remove(k)));
    /// pool.shrink_to_fit();
    /// let after = pool.memory_map();
    /// assert_eq!(after.bytes(SpanKind::Live), 10 * 8);
    /// assert!(after.reserved_bytes() < before.reserved_bytes());
    /// ```
    #[must_use]
    pub fn memory_map(&self) -> crate::memory_map::MemoryMap {
        use crate::memory_map::{Block, MemoryMap, SpanKind, type_name};
        let mut map = MemoryMap::new(alloc::format!("UniformPool<{}>", type_name::<T>()));
        let entry = size_of::<UniformEntry<T>>();
        let value_at = core::mem::offset_of!(UniformEntry<T>, slot);
        let generation = size_of::<u32>();
        for (number, page) in self.slots().iter().enumerate() {
            let Some(entries) = page.entries else {
                continue;
            };
            let base = entries.addr().get() - self.geometry.data_offset;
            let mut block = Block::new(alloc::format!("page {number}"), base);
            block
                .push(SpanKind::Header, size_of::<H>())
                .push_to(SpanKind::Padding, self.geometry.data_offset);
            for slot in 0..self.geometry.capacity {
                // SAFETY: entries of live pages have initialized generations
                // (invariant of `pages`); a raw read of the field, so no
                // reference to the value is made.
                let occupied = unsafe { (*self.entry(entries, slot).as_ptr()).generation } % 2 == 1;
                let start = block.len();
                block
                    .push(SpanKind::Metadata, generation)
                    .push_to(SpanKind::Padding, start + value_at);
                if occupied {
                    block
                        .push(SpanKind::Live, size_of::<T>())
                        .push_to(SpanKind::Padding, start + entry);
                } else {
                    block.push_to(SpanKind::Free, start + entry);
                }
            }
            block.push_to(SpanKind::Padding, self.geometry.page_size.get());
            map.push(block);
        }
        if let Some(table) = &self.table {
            table.raw.map_idle(&mut map);
        }
        map
    }
}

/// The entry `slot` of a page whose first entry is `entries`, in a pool of
/// `geometry`. Every caller's `slot` is below the capacity: the loops run
/// below it, and a key that passed the id compare holds one (the invariant
/// on `PoolKey::pool`).
#[inline]
fn entry_at<T>(
    entries: NonNull<UniformEntry<T>>,
    slot: usize,
    geometry: &PageGeometry,
) -> NonNull<UniformEntry<T>> {
    // Redundant by the callers (above).
    debug_assert!(slot < geometry.capacity);
    // SAFETY: `slot < capacity`, so the entry lies inside the page (the
    // geometry sized `capacity` to fit after `data_offset`).
    unsafe { entries.add(slot) }
}

/// The base of the page whose first entry is `entries`, in a pool of
/// `geometry`.
#[inline]
fn page_base<T>(entries: NonNull<UniformEntry<T>>, geometry: &PageGeometry) -> NonNull<u8> {
    // SAFETY: the entries of a page lie `data_offset` bytes into it (the
    // invariant of `PageTable::slots`), so the base is in the same
    // allocation.
    unsafe { entries.cast::<u8>().sub(geometry.data_offset) }
}

/// The most pages a pool with `span` key indices per page can number: key
/// indices are `u32`s, so `2^32 / span`. In `u64`: `usize` may have 32
/// bits.
const fn max_pages(span: u32) -> u64 {
    (1 << 32) / span as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::uniform::test_support::{Counted, DropLog};
    use core::cell::{Cell, RefCell};
    use std::rc::Rc;

    fn small<T>() -> UniformPool<T> {
        UniformPool::with_page_size(PageSize::new(128).unwrap())
    }

    #[test]
    fn with_capacity_adds_the_pages_up_front() {
        let empty: UniformPool<u64> = UniformPool::with_capacity(0);
        assert_eq!(empty.capacity(), 0);
        assert_eq!(empty.stats().reserved_bytes, 0);
        let mut pool = UniformPool::with_capacity(1000);
        let per_page = pool.geometry.capacity;
        assert_eq!(pool.capacity(), 1000usize.div_ceil(per_page) * per_page);
        let reserved = pool.stats().reserved_bytes;
        let keys: Vec<_> = (0..1000u64).map(|i| pool.insert(i)).collect();
        assert_eq!(pool.stats().reserved_bytes, reserved, "no page added");
        assert!(keys.iter().enumerate().all(|(i, &k)| pool[k] == i as u64));
    }

    /// The uniform containers are covariant in `T` and `H`, like `Vec<T>`:
    /// they own their values and hand out `&mut T` / `&mut H` only through
    /// `&mut self`, so a container of `&'static str` may be used as one of
    /// shorter borrows.
    #[test]
    fn containers_are_covariant() {
        use crate::uniform::{UniformPageDeque, UniformPageQueue, UniformPageStack};
        fn pool<'a>(p: UniformPool<&'static str, &'static str>) -> UniformPool<&'a str, &'a str> {
            p
        }
        fn deque<'a>(
            d: UniformPageDeque<&'static str, &'static str>,
        ) -> UniformPageDeque<&'a str, &'a str> {
            d
        }
        fn queue<'a>(q: UniformPageQueue<&'static str>) -> UniformPageQueue<&'a str> {
            q
        }
        fn stack<'a>(s: UniformPageStack<&'static str>) -> UniformPageStack<&'a str> {
            s
        }
        fn secondary<'a>(
            m: crate::uniform::SecondaryMap<&'static str>,
        ) -> crate::uniform::SecondaryMap<&'a str> {
            m
        }
        let local = String::from("local");
        let mut p = pool(UniformPool::with_page_size(PageSize::DEFAULT));
        let k = p.insert(&local);
        assert_eq!(p.get(k), Some(&"local"));
        let mut names = secondary(crate::uniform::SecondaryMap::new(&p));
        names.insert(k, &local);
        assert_eq!(names.get(k), Some(&"local"));
        let mut d = deque(UniformPageDeque::with_page_size(PageSize::DEFAULT));
        d.push_back(&local);
        assert_eq!(d.pop_front(), Some("local"));
        let mut q = queue(UniformPageQueue::new());
        q.push(&local);
        assert_eq!(q.pop(), Some("local"));
        let mut s = stack(UniformPageStack::new());
        s.push(&local);
        assert_eq!(s.pop(), Some("local"));
    }

    #[test]
    fn stale_and_foreign_keys_are_caught() {
        let mut a = small::<u32>();
        let mut b = small::<u32>();
        let ka = a.insert(1);
        let kb = b.insert(2);
        assert_eq!(a.get(kb), None, "foreign key");
        assert_eq!(b.remove(ka), None);
        assert_eq!(a.remove(ka), Some(1));
        assert_eq!(a.get(ka), None, "stale key");
        let ka2 = a.insert(3);
        assert_eq!(ka2.index, ka.index, "entry reused");
        assert_eq!(a.get(ka), None, "stale key after reuse");
        assert_eq!(a[ka2], 3);
        let message = std::panic::catch_unwind(|| a[ka]).expect_err("a stale key");
        let expected = format!("{ka:?} is stale or from another pool");
        assert_eq!(message.downcast_ref::<String>(), Some(&expected));
    }

    #[test]
    fn inserts_reuse_vacated_entries_last_in_first_out() {
        let mut pool = small::<u64>();
        let keys: Vec<_> = (0..40).map(|i| pool.insert(i)).collect();
        // The first insert takes the cached entry of the last removal, the
        // second looks its entry up from the free list's next link.
        pool.remove(keys[3]);
        pool.remove(keys[30]);
        let a = pool.insert(100);
        let b = pool.insert(101);
        assert_eq!((a.index, b.index), (keys[30].index, keys[3].index));
        assert_eq!((pool[a], pool[b]), (100, 101));
        // Removal, then a rebuild of the free list, then inserts: the
        // cached entry must not outlive the rebuild.
        pool.remove(keys[35]);
        pool.shrink_to_fit();
        let c = pool.insert(102);
        assert_eq!(pool.get(keys[35]), None);
        assert_eq!(pool[c], 102);
        pool.remove(c);
        pool.clear();
        let d = pool.insert(103);
        assert_eq!(pool.len(), 1);
        assert_eq!(pool.values().copied().collect::<Vec<_>>(), [103]);
        assert_eq!(pool[d], 103);
    }

    #[test]
    fn iteration_skips_holes_in_page_order() {
        let mut pool = small::<u64>();
        let keys: Vec<_> = (0..100).map(|i| pool.insert(i)).collect();
        for k in keys.iter().step_by(2) {
            pool.remove(*k);
        }
        let values: Vec<_> = pool.values().copied().collect();
        // `fold` scans pages; it must agree with `next`, also midway.
        let mut it = pool.iter();
        let first = it.next().unwrap();
        assert_eq!(first.1, &1);
        assert_eq!(it.fold(0, |n, _| n + 1), 49);
        let by_next: Vec<_> = pool.values().skip(1).copied().collect();
        let mut by_fold = Vec::new();
        let mut it = pool.values();
        it.next();
        it.for_each(|v| by_fold.push(*v));
        assert_eq!(by_next, by_fold);
        assert_eq!(values, (0..100).filter(|i| i % 2 == 1).collect::<Vec<_>>());
        for (k, v) in pool.iter_mut() {
            *v += 1000;
            let _ = k;
        }
        for (k, v) in &pool {
            assert_eq!(pool.get(k), Some(v));
        }
        // Page order: each page is visited once, as one run of ascending
        // addresses.
        let addrs: Vec<usize> = pool
            .values()
            .map(|v| core::ptr::from_ref(v).addr())
            .collect();
        assert_eq!(addrs.len(), 50);
        let mut pages_seen = Vec::new();
        for pair in addrs.windows(2) {
            let (page_a, page_b) = (pair[0] & !127, pair[1] & !127);
            if page_a == page_b {
                assert!(pair[0] < pair[1], "ascending within a page");
            } else {
                pages_seen.push(page_a);
            }
        }
        pages_seen.push(*addrs.last().unwrap() & !127);
        let distinct: std::collections::HashSet<_> = pages_seen.iter().collect();
        assert_eq!(distinct.len(), pages_seen.len(), "no page visited twice");
    }

    #[test]
    fn shrink_returns_empty_pages_and_keeps_keys_valid() {
        let mut pool = small::<u64>();
        assert!(pool.geometry.capacity > 1);
        let keys: Vec<_> = (0..200).map(|i| pool.insert(i)).collect();
        let before = pool.stats().reserved_bytes;
        // Empty every page but the last.
        for k in &keys[..keys.len() - 1] {
            pool.remove(*k);
        }
        pool.shrink_to_fit();
        assert_eq!(pool.stats().reserved_bytes, pool.geometry.page_size.get());
        assert!(pool.stats().reserved_bytes < before);
        assert_eq!(pool[keys[199]], 199);
        // Old keys stay stale even when their pages come back.
        let fresh: Vec<_> = (0..200).map(|i| pool.insert(i + 1000)).collect();
        for k in &keys[..199] {
            assert_eq!(pool.get(*k), None);
        }
        for (i, k) in fresh.iter().enumerate() {
            assert_eq!(pool[*k], i as u64 + 1000);
        }
    }

    #[test]
    fn header_for_and_stats() {
        let mut pool: UniformPool<u64, u32> =
            UniformPool::with_page_size(PageSize::new(256).unwrap());
        let keys: Vec<_> = (0..50).map(|i| pool.insert(i)).collect();
        for k in &keys {
            let p: *const u64 = &pool[*k];
            *pool.header_for_mut(p).unwrap() += 1;
        }
        let total: u32 = pool
            .slots()
            .iter()
            .filter_map(|slot| slot.entries.map(|e| page_base(e, &pool.geometry)))
            .map(|b| {
                // SAFETY: live pages hold a header.
                unsafe { *b.cast::<u32>().as_ref() }
            })
            .sum();
        assert_eq!(total, 50);
        let outside = 0u64;
        assert!(pool.header_for(&outside).is_none());
        let stats = pool.stats();
        assert_eq!(stats.live_bytes, 50 * 8);
        assert!(stats.space_ratio() > 0.3 && stats.space_ratio() <= 1.0);
    }

    #[test]
    fn keys_resolve_through_the_groups_of_pages_of_several_groups() {
        use std::collections::HashMap;
        // 8-byte entries: a 4 KiB page holds 512, two groups of indices.
        let mut pool: UniformPool<u32> = UniformPool::with_page_size(PageSize::new(4096).unwrap());
        let per_page = pool.geometry.capacity;
        assert!(per_page > GROUP as usize, "pages of several groups");
        let keys: Vec<_> = (0..3 * per_page as u32).map(|i| pool.insert(i)).collect();
        assert_eq!(keys[per_page + 3].index, pool.span + 3, "page 1, entry 3");
        // Each key finds the entry that iteration walks to.
        let walked: HashMap<PoolKey, *const u32> = pool
            .iter()
            .map(|(k, v)| (k, core::ptr::from_ref(v)))
            .collect();
        assert_eq!(walked.len(), keys.len());
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(core::ptr::from_ref(&pool[*k]), walked[k]);
            assert_eq!(pool[*k], i as u32);
        }
        // The middle page, emptied and returned: its keys fail (its groups
        // are gone), the others still work.
        for k in &keys[per_page..2 * per_page] {
            pool.remove(*k);
        }
        pool.shrink_to_fit();
        assert_eq!(pool.capacity(), 2 * per_page);
        let lives = |i: usize| !(per_page..2 * per_page).contains(&i);
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(pool.get(*k).copied(), lives(i).then_some(i as u32));
        }
        // The page number comes back with generations above the old keys'.
        let again: Vec<_> = (0..per_page as u32)
            .map(|i| pool.insert(i + 10_000))
            .collect();
        assert!(again.iter().all(|k| k.index / pool.span == 1));
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(pool.get(*k).copied(), lives(i).then_some(i as u32));
        }
        for (i, k) in again.iter().enumerate() {
            assert_eq!(pool.remove(*k), Some(i as u32 + 10_000));
        }
    }

    #[test]
    fn removals_in_a_row_keep_every_vacated_entry() {
        let mut pool = small::<u64>();
        let keys: Vec<_> = (0..30).map(|i| pool.insert(i)).collect();
        // The first removal's entry is the spare; each later removal pushes
        // the spare before it on the free list.
        for k in &keys[10..20] {
            pool.remove(*k);
        }
        let capacity = pool.capacity();
        let reused: Vec<_> = (0..10).map(|i| pool.insert(100 + i)).collect();
        assert_eq!(pool.capacity(), capacity, "no page added");
        let mut indices: Vec<_> = reused.iter().map(|k| k.index).collect();
        indices.reverse();
        assert_eq!(
            indices,
            keys[10..20].iter().map(|k| k.index).collect::<Vec<_>>(),
            "last in, first out"
        );
        for (i, k) in reused.iter().enumerate() {
            assert_eq!(pool[*k], 100 + i as u64);
        }
    }

    #[test]
    fn the_page_limit_fits_every_span_on_every_target() {
        assert_eq!(max_pages(GROUP), 1 << 24, "a group per page");
        assert_eq!(max_pages(GROUP << 3), 1 << 21);
        assert_eq!(max_pages(1 << 28), 16, "4-byte entries in 1 GiB pages");
    }

    #[test]
    fn zero_sized_over_aligned_and_large_values() {
        let mut units = UniformPool::new();
        let k = units.insert(());
        assert_eq!(units.remove(k), Some(()));

        #[repr(align(64))]
        struct Line(u8);
        let mut lines = UniformPool::new();
        let ks: Vec<_> = (0..100).map(|i| lines.insert(Line(i))).collect();
        for (i, k) in ks.iter().enumerate() {
            assert_eq!(core::ptr::from_ref(&lines[*k]).addr() % 64, 0);
            assert_eq!(lines[*k].0, i as u8);
        }

        let mut big = UniformPool::new();
        let kb = big.insert([9u8; 10_000]);
        assert_eq!(big[kb][9_999], 9);
        assert_eq!(big.geometry.page_size.get(), 16384);
    }

    #[test]
    fn get_disjoint_mut_refuses_stale_foreign_and_repeated_keys() {
        let mut pool = small::<u64>();
        let mut other = small::<u64>();
        let keys: Vec<_> = (0..20).map(|i| pool.insert(i)).collect();
        let foreign = other.insert(99);
        // Keys on different pages, and the same page.
        let [a, b, c] = pool.get_disjoint_mut([keys[0], keys[19], keys[1]]).unwrap();
        (*a, *b, *c) = (*b, *c, *a);
        assert_eq!((pool[keys[0]], pool[keys[19]], pool[keys[1]]), (19, 1, 0));
        assert!(pool.get_disjoint_mut([keys[3], keys[3]]).is_none());
        assert!(pool.get_disjoint_mut([keys[3], keys[4], keys[3]]).is_none());
        assert!(pool.get_disjoint_mut([keys[3], foreign]).is_none());
        pool.remove(keys[4]);
        let reused = pool.insert(4);
        assert_eq!(reused.index, keys[4].index);
        assert!(pool.get_disjoint_mut([keys[3], keys[4]]).is_none(), "stale");
        let [x, y] = pool.get_disjoint_mut([keys[3], reused]).unwrap();
        assert_eq!((*x, *y), (3, 4));
        let none: [&mut u64; 0] = pool.get_disjoint_mut([]).unwrap();
        assert!(none.is_empty());
        // Zero-sized values live in distinct entries.
        let mut units = small::<()>();
        let (u, v) = (units.insert(()), units.insert(()));
        assert!(units.get_disjoint_mut([u, v]).is_some());
        assert!(units.get_disjoint_mut([u, u]).is_none());
    }

    #[test]
    fn retain_visits_each_value_once_and_skips_returned_pages() {
        let mut pool = small::<u64>();
        let per_page = pool.geometry.capacity;
        let keys: Vec<_> = (0..5 * per_page as u64).map(|i| pool.insert(i)).collect();
        // The second page returned: its table slot is `None`.
        for k in &keys[per_page..2 * per_page] {
            pool.remove(*k);
        }
        pool.shrink_to_fit();
        let mut seen = Vec::new();
        pool.retain(|key, value| {
            seen.push((key, *value));
            *value += 1000;
            *value % 2 == 0
        });
        let expected: Vec<_> = pool_order(&keys, per_page);
        assert_eq!(seen, expected, "each value once, in `iter` order");
        for (i, k) in keys.iter().enumerate() {
            let live = !(per_page..2 * per_page).contains(&i) && i % 2 == 0;
            assert_eq!(pool.get(*k).copied(), live.then_some(i as u64 + 1000));
        }
        assert_eq!(pool.len(), pool.values().count());
        // The emptied entries are reused before a page is added.
        let capacity = pool.capacity();
        for i in 0..(capacity - pool.len()) as u64 {
            pool.insert(i);
        }
        assert_eq!(pool.capacity(), capacity);
    }

    /// The `(key, value)` pairs `iter` yields for `keys` (values `0..`)
    /// with the second page emptied.
    fn pool_order(keys: &[PoolKey], per_page: usize) -> Vec<(PoolKey, u64)> {
        keys.iter()
            .enumerate()
            .filter(|(i, _)| !(per_page..2 * per_page).contains(i))
            .map(|(i, k)| (*k, i as u64))
            .collect()
    }

    #[test]
    fn retain_drops_each_value_once_when_a_destructor_or_the_predicate_panics() {
        let log = DropLog::default();
        let mut pool = with_a_panicking_value(&log);
        // Removing every value meets the panicking destructor of value 13.
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.retain(|_, _| false);
        }));
        assert!(caught.is_err());
        assert_eq!(pool.len(), 40 - 14, "the walk stopped after value 13");
        assert_eq!(log.dropped(), 14);
        // A predicate that panics keeps the rest.
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.retain(|_, value| {
                assert!(value.id != 30, "the predicate panics");
                value.id % 2 == 0
            });
        }));
        assert!(caught.is_err());
        let ids: Vec<_> = pool.values().map(|v| v.id).collect();
        let expected: Vec<_> = (14..40).filter(|&i| i >= 30 || i % 2 == 0).collect();
        assert_eq!(ids, expected);
        drop(pool);
        log.assert_all_dropped_once(40);
    }

    #[test]
    fn every_value_dropped_once() {
        let log = DropLog::default();
        let mut pool = small::<Counted>();
        let keys: Vec<_> = (0..60).map(|i| pool.insert(log.make(i))).collect();
        for k in keys.iter().take(20) {
            drop(pool.remove(*k));
        }
        assert_eq!(log.dropped(), 20);
        pool.clear();
        assert_eq!(log.dropped(), 60);
        assert!(pool.is_empty());
        for i in 60..90 {
            pool.insert(log.make(i));
        }
        drop(pool);
        log.assert_all_dropped_once(90);
    }

    /// A pool of 40 logged values on small pages, the 14th of which
    /// panics when dropped.
    fn with_a_panicking_value(log: &DropLog) -> UniformPool<Counted> {
        let mut pool = small::<Counted>();
        for i in 0..40 {
            pool.insert(if i == 13 {
                log.make_panicking(i)
            } else {
                log.make(i)
            });
        }
        pool
    }

    #[test]
    fn a_clear_that_meets_a_panicking_destructor_keeps_every_entry() {
        let log = DropLog::default();
        let mut pool = with_a_panicking_value(&log);
        let capacity = pool.capacity();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pool.clear()));
        assert!(caught.is_err());
        log.assert_all_dropped_once(40);
        assert!(pool.is_empty());
        // Every emptied entry is reused before a page is added.
        for i in 0..capacity as u64 {
            pool.insert(log.make(100 + i));
        }
        assert_eq!(pool.capacity(), capacity, "no page added");
    }

    #[test]
    fn panicking_destructor_still_drops_the_rest() {
        let log = DropLog::default();
        let pool = with_a_panicking_value(&log);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(pool)));
        assert!(result.is_err());
        log.assert_all_dropped_once(40);
    }

    #[test]
    fn drain_yields_every_value_in_order_and_leaves_the_pages() {
        let log = DropLog::default();
        let mut pool = small::<Counted>();
        let keys: Vec<_> = (0..60).map(|i| pool.insert(log.make(i))).collect();
        for k in keys.iter().step_by(3) {
            drop(pool.remove(*k));
        }
        let capacity = pool.capacity();
        let order: Vec<_> = pool.iter().map(|(k, v)| (k, v.id)).collect();
        let mut drain = pool.drain();
        assert_eq!(drain.len(), 40);
        // Five taken, the rest dropped with the iterator.
        let taken: Vec<_> = drain.by_ref().take(5).map(|(k, v)| (k, v.id)).collect();
        assert_eq!(taken, order[..5]);
        assert_eq!(drain.len(), 35);
        assert_eq!(
            log.dropped(),
            20 + 5,
            "the five yielded were dropped by the caller"
        );
        drop(drain);
        assert_eq!(log.dropped(), 60);
        assert!(pool.is_empty());
        assert!(
            keys.iter().all(|&k| pool.get(k).is_none()),
            "every key is stale"
        );
        // The pages stay, their entries all reused before a page is added.
        assert_eq!(pool.capacity(), capacity);
        for i in 0..capacity as u64 {
            pool.insert(log.make(100 + i));
        }
        assert_eq!(pool.capacity(), capacity, "no page added");
        // Drained to the end, then again on an empty pool.
        let all: Vec<_> = pool.drain().map(|(_, v)| v.id).collect();
        assert_eq!(all, (100..100 + capacity as u64).collect::<Vec<_>>());
        assert_eq!(pool.drain().next().map(|(_, v)| v.id), None);
        drop(pool);
        log.assert_all_dropped_once(60 + capacity);
    }

    #[test]
    fn a_leaked_drain_leaves_the_values_it_did_not_yield() {
        let mut pool = small::<u32>();
        let keys: Vec<_> = (0..20).map(|i| pool.insert(i)).collect();
        let mut drain = pool.drain();
        assert_eq!(drain.next(), Some((keys[0], 0)));
        core::mem::forget(drain);
        assert_eq!(pool.len(), 19);
        assert_eq!(pool.get(keys[0]), None);
        assert_eq!(pool.get(keys[19]), Some(&19));
        // The pool is consistent: its free entry is reused.
        let k = pool.insert(7);
        assert_eq!(pool.get(k), Some(&7));
        assert_eq!(pool.len(), 20);
    }

    #[test]
    fn a_drain_dropped_over_a_panicking_destructor_drops_the_rest_once() {
        let log = DropLog::default();
        let mut pool = with_a_panicking_value(&log);
        let capacity = pool.capacity();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut drain = pool.drain();
            let (_, first) = drain.next().expect("40 values");
            assert_eq!(first.id, 0);
        }));
        assert!(caught.is_err(), "value 13's destructor panicked");
        log.assert_all_dropped_once(40);
        assert!(pool.is_empty());
        for i in 0..capacity as u64 {
            pool.insert(log.make(100 + i));
        }
        assert_eq!(pool.capacity(), capacity, "every emptied entry is reused");
    }

    #[test]
    fn into_iter_yields_pairs_and_drops_the_rest_once() {
        let log = DropLog::default();
        let mut pool = with_a_panicking_value(&log);
        let order: Vec<_> = pool.iter().map(|(k, v)| (k, v.id)).collect();
        let k = order[7].0;
        drop(pool.remove(k));
        let mut values = pool.into_iter();
        assert_eq!(values.len(), 39);
        let firsts: Vec<_> = values.by_ref().take(10).map(|(k, v)| (k, v.id)).collect();
        let expected: Vec<_> = order
            .iter()
            .copied()
            .filter(|&(key, _)| key != k)
            .take(10)
            .collect();
        assert_eq!(firsts, expected);
        assert_eq!(values.len(), 29);
        // Value 13, among the 29 left, panics when the iterator drops them.
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(values)));
        assert!(caught.is_err());
        log.assert_all_dropped_once(40);
    }

    #[test]
    fn generations_retire_instead_of_wrapping() {
        let mut pool = small::<u8>();
        let k = pool.insert(1);
        // Age the entry to the last usable generation.
        let entry = pool.entry_of(k).unwrap();
        // SAFETY: test-only: set an occupied entry's generation to the
        // highest odd one, as ~2^31 reuses would.
        unsafe { (*entry.as_ptr()).generation = RETIRED - 1 };
        let old = PoolKey {
            generation: RETIRED - 1,
            ..k
        };
        assert_eq!(pool.remove(old), Some(1));
        let next = pool.insert(2);
        assert_ne!(next.index, k.index, "a retired entry is never reused");
        pool.shrink_to_fit();
        let again = pool.insert(3);
        assert_ne!(again.index, k.index);
    }

    #[test]
    fn pool_ids_do_not_wrap_at_32_bits() {
        let mut a = small::<u8>();
        let ka = a.insert(1);
        // A pool made 2^32 pools later: the low 32 bits of its id are
        // those of `a`'s, as a wrapping 32-bit id would have made them.
        let mut b = small::<u8>();
        b.id = a.id + (1 << 32);
        let kb = b.insert(2);
        assert_eq!((ka.index, ka.generation), (kb.index, kb.generation));
        assert_eq!(b.get(ka), None, "a key of another pool never works");
        assert_eq!(a.get(kb), None);
        assert_eq!(b.remove(ka), None);
        assert_eq!(b[kb], 2);
        assert_eq!(size_of::<PoolKey>(), 16);
    }

    /// A page header that counts its drops in `HEADERS_DROPPED`, and whose
    /// destructor panics (once) while `ARMED` is set.
    #[derive(Default)]
    struct Bomb;

    std::thread_local! {
        static ARMED: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
        static HEADERS_DROPPED: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
    }

    impl Drop for Bomb {
        fn drop(&mut self) {
            HEADERS_DROPPED.with(|n| n.set(n.get() + 1));
            if ARMED.with(|a| a.replace(false)) {
                panic!("a page header panics on drop");
            }
        }
    }

    /// A page header whose `default` panics (once) while `FAIL_DEFAULT` is
    /// set.
    struct Refusing;

    std::thread_local! {
        static FAIL_DEFAULT: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
    }

    impl Default for Refusing {
        fn default() -> Self {
            if FAIL_DEFAULT.with(|f| f.replace(false)) {
                panic!("a page header refuses to be made");
            }
            Refusing
        }
    }

    #[test]
    fn a_header_that_panics_while_a_page_is_added_leaves_the_pool_usable() {
        let mut pool: UniformPool<u64, Refusing> =
            UniformPool::with_page_size(PageSize::new(128).unwrap());
        let per_page = pool.geometry.capacity as u64;
        // Four pages: the group table's buffer is full, so the fifth page
        // would move it.
        let keys: Vec<_> = (0..4 * per_page).map(|i| pool.insert(i)).collect();
        FAIL_DEFAULT.with(|f| f.set(true));
        let caught =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pool.insert(u64::MAX)));
        assert!(caught.is_err(), "the header's default panicked");
        // Every lookup still reads the group table the pool points at.
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(pool[*k], i as u64);
        }
        let more: Vec<_> = (0..2 * per_page).map(|i| pool.insert(100 + i)).collect();
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(pool.remove(*k), Some(i as u64));
        }
        for (i, k) in more.iter().enumerate() {
            assert_eq!(pool[*k], 100 + i as u64);
        }
        assert_eq!(pool.len(), more.len());
    }

    #[test]
    fn shrink_stays_consistent_when_a_header_destructor_panics() {
        let mut pool: UniformPool<u64, Bomb> =
            UniformPool::with_page_size(PageSize::new(128).unwrap());
        let per_page = pool.geometry.capacity;
        let keys: Vec<_> = (0..3 * per_page as u64).map(|i| pool.insert(i)).collect();
        // Empty the second and third pages; the free list and the cached
        // entry now lie on them.
        for k in &keys[per_page..] {
            pool.remove(*k);
        }
        ARMED.with(|a| a.set(true));
        let caught =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pool.shrink_to_fit()));
        assert!(caught.is_err(), "the header's destructor panicked");
        // The page whose header panicked is gone; the free list must not
        // lead into it.
        assert_eq!(pool.len(), per_page);
        let fresh: Vec<_> = (0..2 * per_page as u64)
            .map(|i| pool.insert(100 + i))
            .collect();
        for (i, k) in fresh.iter().enumerate() {
            assert_eq!(pool[*k], 100 + i as u64);
        }
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(pool.get(*k).copied(), (i < per_page).then_some(i as u64));
        }
        assert_eq!(pool.len(), 3 * per_page);
        assert_eq!(pool.values().count(), 3 * per_page);
    }

    #[test]
    fn every_header_is_dropped_once_when_one_destructor_panics() {
        let log = DropLog::default();
        let mut pool: UniformPool<Counted, Bomb> =
            UniformPool::with_page_size(PageSize::new(128).unwrap());
        let per_page = pool.geometry.capacity;
        for i in 0..4 * per_page as u64 {
            pool.insert(log.make(i));
        }
        HEADERS_DROPPED.with(|n| n.set(0));
        ARMED.with(|a| a.set(true));
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(pool)));
        assert!(caught.is_err(), "the first header's destructor panicked");
        assert_eq!(
            HEADERS_DROPPED.with(|n| n.get()),
            4,
            "every page's header, once"
        );
        log.assert_all_dropped_once(4 * per_page);
    }

    /// The pool's observable state: its values by key, in iteration order,
    /// with its length and capacity.
    fn snapshot<T: Clone, H>(pool: &UniformPool<T, H>) -> (Vec<(PoolKey, T)>, usize, usize) {
        let values = pool.iter().map(|(k, v)| (k, v.clone())).collect();
        (values, pool.len(), pool.capacity())
    }

    #[test]
    fn a_clone_answers_to_the_pools_keys_and_hands_out_the_same_ones() {
        // 4-byte values: a page of 8 KiB holds several groups of indices.
        for page in [128, 8192] {
            let mut pool: UniformPool<u32, u16> =
                UniformPool::with_page_size(PageSize::new(page).unwrap());
            let per_page = pool.geometry.capacity;
            let keys: Vec<_> = (0..5 * per_page as u32).map(|i| pool.insert(i)).collect();
            // A page emptied and returned (its floor carried), holes in the
            // others, a retired entry, a spare and a free list.
            for k in &keys[per_page..2 * per_page] {
                pool.remove(*k);
            }
            pool.shrink_to_fit();
            for k in keys.iter().skip(2 * per_page).step_by(3) {
                pool.remove(*k);
            }
            let retired = keys[4 * per_page + 1];
            let entry = pool.entry_of(retired).unwrap();
            // SAFETY: test-only: age an occupied entry to the last usable
            // generation, as ~2^31 reuses would.
            unsafe { (*entry.as_ptr()).generation = RETIRED - 1 };
            let retired = PoolKey {
                generation: RETIRED - 1,
                ..retired
            };
            assert!(pool.remove(retired).is_some());
            pool.remove(keys[3]);
            *pool.header_for_mut(&pool[keys[0]]).unwrap() = 7;

            let mut clone = pool.clone();
            assert_eq!(snapshot(&clone), snapshot(&pool));
            for k in &keys {
                assert_eq!(clone.get(*k), pool.get(*k), "{k:?}");
                assert!(clone.issued(*k));
            }
            assert_eq!(clone.get(retired), None);
            assert_eq!(clone.header_for(&clone[keys[0]]), Some(&7));
            assert_eq!(
                clone.header_for(&pool[keys[0]]),
                None,
                "the pool's pages are its own"
            );
            assert_ne!(&raw const clone[keys[0]], &raw const pool[keys[0]]);

            // The same program on both hands out the same keys.
            let mut rng = 0x9E37_79B9_7F4A_7C15u64;
            let mut live: Vec<_> = keys.iter().copied().filter(|k| pool.contains(*k)).collect();
            for step in 0..6 * per_page as u32 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                if rng.is_multiple_of(3) && !live.is_empty() {
                    let k = live.swap_remove(rng as usize / 3 % live.len());
                    assert_eq!(pool.remove(k), clone.remove(k));
                } else {
                    let k = pool.insert(step);
                    assert_eq!(clone.insert(step), k);
                    live.push(k);
                }
            }
            pool.shrink_to_fit();
            clone.shrink_to_fit();
            assert_eq!(snapshot(&clone), snapshot(&pool));
        }
    }

    #[test]
    fn a_clone_and_its_pool_refuse_the_keys_of_pages_only_the_other_has() {
        let mut pool = small::<u64>();
        let first = pool.insert(1);
        let mut clone = pool.clone();
        assert!(clone.index_limit == pool.index_limit && pool.index_limit > 0);
        // Each grows by pages the other never adds; the keys of those pages
        // lie past the other's limit and find nothing there (without the
        // limit, the lookup would read past the other's group table).
        let grown: Vec<_> = (0..100).map(|i| clone.insert(i)).collect();
        assert!(clone.index_limit > pool.index_limit);
        for k in &grown {
            assert_eq!(pool.get(*k), None);
            assert_eq!(pool.remove(*k), None);
            assert!(pool.issued(*k), "the same identity");
        }
        let mut other = pool.clone();
        let theirs: Vec<_> = (0..300).map(|i| other.insert(i)).collect();
        assert!(theirs.iter().filter(|k| clone.get(**k).is_none()).count() > 100);
        // Keys of the shared pages name what each holds there.
        assert_eq!((pool[first], clone[first]), (1, 1));
        clone[first] = 2;
        assert_eq!((pool[first], clone[first]), (1, 2));
        // Another pool's keys are refused by every clone.
        let mut stranger = small::<u64>();
        let foreign = stranger.insert(1);
        assert!(!pool.issued(foreign) && !clone.issued(foreign));
        assert_eq!(clone.get(foreign), None);
    }

    #[test]
    fn a_clones_pages_are_one_allocation_given_back_once_all_are_empty() {
        let mut pool = small::<u64>();
        let per_page = pool.geometry.capacity;
        let keys: Vec<_> = (0..40 * per_page as u64).map(|i| pool.insert(i)).collect();
        let page = pool.geometry.page_size.get();
        // 40 pages: one block, aligned by hand (32 pages or more).
        let mut clone = pool.clone();
        assert_eq!(clone.stats().reserved_bytes, 40 * page);
        let bases = pages_of(&clone);
        assert_eq!(bases.len(), 40);
        let (first, last) = (bases.first().unwrap(), bases.last().unwrap());
        assert_eq!(last - first, 39 * page, "adjacent pages");
        // Half of them emptied: the allocation stays whole.
        for k in &keys[..20 * per_page] {
            clone.remove(*k);
        }
        clone.shrink_to_fit();
        assert_eq!(clone.stats().reserved_bytes, 40 * page);
        assert!(clone.iter().eq(pool.iter().skip(20 * per_page)));
        // All of them: given back.
        clone.clear();
        clone.shrink_to_fit();
        assert_eq!(clone.stats().reserved_bytes, 0);
        // The pool's own pages are given back one by one, as ever.
        for k in &keys[..20 * per_page] {
            pool.remove(*k);
        }
        pool.shrink_to_fit();
        assert_eq!(pool.stats().reserved_bytes, 20 * page);
    }

    #[test]
    fn an_empty_pool_clones_to_an_empty_pool_of_the_same_keys() {
        let mut pool = small::<String>();
        let clone = pool.clone();
        assert!(clone.is_empty() && clone.table.is_none());
        let k = pool.insert("a".into());
        let mut clone = clone;
        assert_eq!(clone.get(k), None, "no page in the clone");
        assert_eq!(clone.insert("b".into()), k, "the same first key");
        let emptied = {
            pool.remove(k);
            pool.clone()
        };
        assert!(emptied.is_empty() && emptied.capacity() == pool.capacity());
    }

    /// A value whose clones draw on a shared budget and panic once it is
    /// spent; every value (originals and clones) records its drops.
    struct Fragile {
        id: u64,
        budget: Rc<Cell<u32>>,
        drops: Rc<RefCell<std::collections::HashMap<u64, u32>>>,
    }

    impl Clone for Fragile {
        fn clone(&self) -> Self {
            let left = self.budget.get();
            assert!(left > 0, "clone budget spent at {}", self.id);
            self.budget.set(left - 1);
            Fragile {
                id: self.id + 1_000_000,
                budget: self.budget.clone(),
                drops: self.drops.clone(),
            }
        }
    }

    impl Drop for Fragile {
        fn drop(&mut self) {
            *self.drops.borrow_mut().entry(self.id).or_default() += 1;
        }
    }

    #[test]
    fn a_panicking_clone_drops_what_it_cloned_once_and_leaves_the_pool_alone() {
        let budget = Rc::new(Cell::new(0));
        let drops = Rc::new(RefCell::new(std::collections::HashMap::new()));
        let mut pool = small::<Fragile>();
        let per_page = pool.geometry.capacity as u64;
        let keys: Vec<_> = (0..4 * per_page)
            .map(|id| {
                pool.insert(Fragile {
                    id,
                    budget: budget.clone(),
                    drops: drops.clone(),
                })
            })
            .collect();
        pool.remove(keys[1]);
        drops.borrow_mut().clear();
        // Panics at the first value, within a page, at a page's end.
        for allowed in [0, 1, per_page as u32 + 2, 2 * per_page as u32 - 1] {
            budget.set(allowed);
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pool.clone()));
            assert!(caught.is_err());
            let log = core::mem::take(&mut *drops.borrow_mut());
            assert_eq!(log.len(), allowed as usize, "every clone made is dropped");
            assert!(
                log.iter().all(|(&id, &n)| id >= 1_000_000 && n == 1),
                "{log:?}"
            );
        }
        assert_eq!(pool.len(), 4 * per_page as usize - 1);
        assert!(keys.iter().skip(2).all(|&k| pool[k].id < 1_000_000));
        budget.set(u32::MAX);
        let clone = pool.clone();
        assert_eq!(clone.len(), pool.len());
        drop(clone);
        assert_eq!(drops.borrow().len(), pool.len());
    }

    /// The pages holding a pool's values, by address.
    fn pages_of<T, H>(pool: &UniformPool<T, H>) -> std::collections::BTreeSet<usize> {
        let mask = pool.geometry.page_size.get() - 1;
        pool.values()
            .map(|v| core::ptr::from_ref(v).addr() & !mask)
            .collect()
    }

    #[test]
    fn clone_from_copies_into_the_pages_it_replaces() {
        let log = DropLog::default();
        let mut source = small::<u64>();
        let per_page = source.geometry.capacity;
        let keys: Vec<_> = (0..3 * per_page as u64).map(|i| source.insert(i)).collect();
        source.remove(keys[4]);
        let mut target: UniformPool<u64> = small();
        for i in 0..5 * per_page as u64 {
            target.insert(i * 10);
        }
        let held = pages_of(&target);
        target.clone_from(&source);
        assert!(target == source && target.iter().eq(source.iter()));
        assert!(pages_of(&target).is_subset(&held), "the target's own pages");
        assert_eq!(
            target.stats().reserved_bytes,
            source.stats().reserved_bytes,
            "spares freed"
        );
        assert_eq!(target.get(keys[4]), None);
        assert_eq!(target.insert(7), source.insert(7), "the same next key");

        // Values with destructors: the target's dropped once, each.
        let mut with_drops: UniformPool<Counted> = small();
        for i in 0..2 * per_page as u64 {
            with_drops.insert(log.make(i));
        }
        let mut other: UniformPool<Counted> = small();
        for i in 0..per_page as u64 {
            other.insert(log.make(100 + i));
        }
        other.clone_from(&UniformPool::with_page_size(PageSize::new(128).unwrap()));
        assert!(other.is_empty() && other.capacity() == 0);
        log.assert_all_dropped_once(per_page);
        // A pool of another page size is cloned afresh.
        let mut big: UniformPool<u64> = UniformPool::new();
        big.insert(1);
        big.clone_from(&source);
        assert!(big == source);
        assert_eq!(big.geometry, source.geometry);
        drop(with_drops);
    }

    #[test]
    fn clone_from_leaves_an_empty_pool_when_a_destructor_or_a_clone_panics() {
        // A destructor of the replaced values.
        let log = DropLog::default();
        let mut target = with_a_panicking_value(&log);
        let count = target.len();
        let source = small::<Counted>();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            target.clone_from(&source);
        }));
        assert!(caught.is_err());
        log.assert_all_dropped_once(count);
        assert!(target.is_empty());
        let k = target.insert(log.make(1000));
        assert_eq!(target[k].id, 1000, "usable");
        drop(target);

        // A clone of the source's values.
        let budget = Rc::new(Cell::new(3));
        let drops = Rc::new(RefCell::new(std::collections::HashMap::new()));
        let fragile = |id| Fragile {
            id,
            budget: budget.clone(),
            drops: drops.clone(),
        };
        let mut source = small::<Fragile>();
        let mut target = small::<Fragile>();
        for id in 0..20 {
            source.insert(fragile(id));
            target.insert(fragile(100 + id));
        }
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            target.clone_from(&source);
        }));
        assert!(caught.is_err());
        assert!(target.is_empty() && target.table.is_none());
        let log = drops.borrow();
        assert_eq!(
            log.len(),
            20 + 3,
            "the target's values and the three clones"
        );
        assert!(log.values().all(|&n| n == 1), "{log:?}");
    }
}
