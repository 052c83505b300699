//! [`MultisizePool`]: values of any layout allocated and freed anywhere,
//! from free lists of power-of-two size classes.

use core::alloc::Layout;
use core::any::TypeId;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, Ordering};

use super::PageInfo;
use crate::SpaceStats;
use crate::page::PageSize;
use crate::page::raw::RawPages;

/// Size classes: 16, 32, ..., 2048 bytes.
const MIN_CLASS_SHIFT: u32 = 4;
const CLASSES: usize = 8;
/// The largest class; anything larger (or more aligned) takes the large
/// path: its own block from the global allocator.
const MAX_CLASS: usize = 1 << (MIN_CLASS_SHIFT as usize + CLASSES - 1);

/// No slot: the end of the free-slot list.
const NONE: u32 = u32::MAX;

/// What the pool knows about a value's type: one constant per type.
struct SlotOps {
    /// Drops a `T` in place (`ptr` points to a live `T`).
    drop: unsafe fn(*mut u8),
    type_id: fn() -> TypeId,
    layout: Layout,
    /// `Storage::of(layout)`, computed at compile time.
    storage: Storage,
}

/// # Safety
///
/// `ptr` must point to a live `T` that is not used afterwards.
unsafe fn drop_as<T>(ptr: *mut u8) {
    // SAFETY: forwarded caller contract.
    unsafe { core::ptr::drop_in_place(ptr.cast::<T>()) }
}

/// Where a value of some layout is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Storage {
    /// In a slot of size class `0..CLASSES`.
    Class(usize),
    /// In its own block from the global allocator.
    Large,
    /// Nowhere (zero-sized).
    Zst,
}

impl Storage {
    const fn of(layout: Layout) -> Self {
        if layout.size() == 0 {
            return Storage::Zst;
        }
        let need = if layout.size() > layout.align() {
            layout.size()
        } else {
            layout.align()
        };
        if need > MAX_CLASS {
            return Storage::Large;
        }
        let class = need.next_power_of_two();
        if class.trailing_zeros() < MIN_CLASS_SHIFT {
            Storage::Class(0)
        } else {
            Storage::Class((class.trailing_zeros() - MIN_CLASS_SHIFT) as usize)
        }
    }
}

/// An entry of the handle table.
struct Slot {
    /// The value, when the slot is occupied.
    ///
    /// Invariant: `Some` iff occupied; then it points to a live value of
    /// `ops`' type, stored as `Storage::of(ops.layout)` says.
    value: Option<NonNull<u8>>,
    /// Bumped on every removal; keys carry the generation they were made
    /// in. Invariant: never wraps (a slot whose generation reaches
    /// `u32::MAX` is retired instead of reused).
    generation: u32,
    /// Next free slot when this one is free.
    next_free: u32,
    ops: &'static SlotOps,
}

/// The header at the base of every page of a size class.
#[repr(C)]
struct ClassPage {
    /// Occupied slots in the page.
    live: u32,
}

/// One size class: pages of equal slots, a free list and a bump region.
struct Class {
    /// Slot size, a power of two; slots are aligned to it.
    size: usize,
    /// Invariant: every page starts with a `ClassPage`; its slots are at
    /// offsets `size, 2 * size, ..` below the page size.
    raw: RawPages,
    /// The pages in use, in allocation order.
    pages: Vec<NonNull<u8>>,
    /// Free slots, linked through their first word.
    ///
    /// Invariant: each is a free slot of a page in use, linked once.
    free: Option<NonNull<u8>>,
    /// Never-used slots of the newest page: `bump..bump_end`.
    bump: usize,
    bump_end: usize,
    /// The page `bump` points into (valid when `bump < bump_end`).
    bump_page: Option<NonNull<u8>>,
}

impl Class {
    fn new(size: usize) -> Self {
        let page = PageSize::new((16 * size).max(PageSize::DEFAULT.get())).expect("a valid size");
        Self {
            size,
            raw: RawPages::new(page),
            pages: Vec::new(),
            free: None,
            bump: 0,
            bump_end: 0,
            bump_page: None,
        }
    }

    #[inline]
    fn header(&self, block: NonNull<u8>) -> NonNull<ClassPage> {
        let mask = self.raw.page_size().mask();
        // The block's provenance covers its whole page, header included.
        let base = block.as_ptr().map_addr(|a| a & !mask);
        // SAFETY: a page base is non-null.
        unsafe { NonNull::new_unchecked(base) }.cast()
    }

    /// A free slot, taken out of the free list or bump region.
    #[inline]
    fn alloc(&mut self) -> NonNull<u8> {
        let block = if let Some(block) = self.free {
            // SAFETY: a free slot holds the next link in its first word.
            self.free = unsafe { block.cast::<Option<NonNull<u8>>>().read() };
            block
        } else {
            if self.bump >= self.bump_end {
                let page = self.raw.alloc_page();
                // SAFETY: a fresh page, aligned to its size (at least 4 KiB).
                unsafe { page.cast::<ClassPage>().write(ClassPage { live: 0 }) };
                self.pages.push(page);
                self.bump_page = Some(page);
                self.bump = self.size;
                self.bump_end = self.raw.page_size().get();
            }
            let page = self.bump_page.expect("a bump page");
            // SAFETY: `bump < bump_end <= page size`, inside the page.
            let block = unsafe { page.add(self.bump) };
            self.bump += self.size;
            block
        };
        // SAFETY: the header of a page in use.
        unsafe { (*self.header(block).as_ptr()).live += 1 };
        block
    }

    /// Returns a slot.
    ///
    /// # Safety
    ///
    /// `block` must be a slot of this class, taken by `alloc`, whose value
    /// is gone.
    #[inline]
    unsafe fn free(&mut self, block: NonNull<u8>) {
        // SAFETY: 1. the page header is live; 2. the slot is at least 16
        // bytes, aligned, and unused, so it can hold the link.
        unsafe {
            (*self.header(block).as_ptr()).live -= 1;
            block.cast::<Option<NonNull<u8>>>().write(self.free);
        }
        self.free = Some(block);
    }

    /// Frees the pages with no occupied slot.
    fn release_empty(&mut self) {
        // SAFETY: every page in `pages` holds a header.
        let empty = |page: &NonNull<u8>| unsafe { page.cast::<ClassPage>().read().live == 0 };
        if !self.pages.iter().any(empty) {
            self.raw.release_spare();
            return;
        }
        let mask = self.raw.page_size().mask();
        let mut dead: Vec<usize> = self
            .pages
            .iter()
            .filter(|p| empty(p))
            .map(|p| p.addr().get())
            .collect();
        dead.sort_unstable();
        // Unlink the free slots of dying pages.
        let mut kept: Option<NonNull<u8>> = None;
        let mut cursor = self.free.take();
        while let Some(block) = cursor {
            // SAFETY: a free slot holds the next link.
            cursor = unsafe { block.cast::<Option<NonNull<u8>>>().read() };
            if dead.binary_search(&(block.addr().get() & !mask)).is_err() {
                // SAFETY: as in `free`.
                unsafe { block.cast::<Option<NonNull<u8>>>().write(kept) };
                kept = Some(block);
            }
        }
        self.free = kept;
        if let Some(page) = self.bump_page {
            if dead.binary_search(&page.addr().get()).is_ok() {
                self.bump_page = None;
                self.bump = 0;
                self.bump_end = 0;
            }
        }
        let raw = &mut self.raw;
        self.pages.retain(|&page| {
            if dead.binary_search(&page.addr().get()).is_ok() {
                // SAFETY: the page is in use, holds no value, and no free
                // list or bump region points into it any more.
                unsafe { raw.free_page(page) };
                false
            } else {
                true
            }
        });
        self.raw.release_spare();
    }
}

static NEXT_POOL_ID: AtomicU64 = AtomicU64::new(1);

/// A free-list allocator for values of any type, size and alignment:
/// insert anywhere, remove anywhere, values never move.
///
/// Values go to slots of power-of-two size classes (16 bytes to 2 KiB; a
/// value takes the smallest class at least as large as its size and
/// alignment), each class a list of pages with a per-page header counting
/// its occupied slots, found from any slot by masking its address. A value
/// larger or more aligned than 2 KiB takes the large path: its own block
/// from the global allocator. Zero-sized values take no memory.
///
/// Handles are typed keys, [`MultisizeKey<T>`]: `Copy`, checked on every
/// use (a key from another pool or of a removed value gets `None`; a slot's
/// generation never wraps, so a stale key can never name a newer value).
///
/// ```
/// use managed::prelude::*;
///
/// let mut pool = MultisizePool::new();
/// let a = pool.insert(7u8);
/// let b = pool.insert(String::from("hi"));
/// let c = pool.insert([1u64; 512]); // 4 KiB: the large path
/// pool.get_mut(b).unwrap().push('!');
/// assert_eq!(pool.get(b).map(String::as_str), Some("hi!"));
/// assert_eq!(pool.remove(a), Some(7));
/// assert_eq!(pool.get(a), None, "a removed value's key is stale");
/// assert_eq!(pool.get(c).map(|v| v[511]), Some(1));
/// assert_eq!(pool.len(), 2);
/// ```
pub struct MultisizePool {
    /// Tells this pool's keys from other pools'.
    id: u64,
    classes: [Class; CLASSES],
    /// The handle table. Invariant: `len` entries are occupied.
    slots: Vec<Slot>,
    /// Head of the free-slot list (`NONE` when empty).
    free_slot: u32,
    len: usize,
    /// Bytes of the live values.
    live: usize,
    /// Bytes in large blocks.
    large: usize,
    /// The pool owns values of any type, `Send` or not.
    _not_send: PhantomData<*mut ()>,
}

/// A key to a `T` in a [`MultisizePool`]: `Copy`, and checked on use.
pub struct MultisizeKey<T> {
    pool: u64,
    index: u32,
    generation: u32,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for MultisizeKey<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for MultisizeKey<T> {}
impl<T> PartialEq for MultisizeKey<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.pool, self.index, self.generation) == (other.pool, other.index, other.generation)
    }
}
impl<T> Eq for MultisizeKey<T> {}
impl<T> Hash for MultisizeKey<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.pool, self.index, self.generation).hash(state);
    }
}
impl<T> fmt::Debug for MultisizeKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MultisizeKey<{}>({}v{} in pool {})",
            core::any::type_name::<T>(),
            self.index,
            self.generation,
            self.pool
        )
    }
}

impl MultisizePool {
    /// An empty pool. Allocates nothing.
    #[must_use]
    pub fn new() -> Self {
        Self {
            id: NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed),
            classes: core::array::from_fn(|i| Class::new(1 << (MIN_CLASS_SHIFT as usize + i))),
            slots: Vec::new(),
            free_slot: NONE,
            len: 0,
            live: 0,
            large: 0,
            _not_send: PhantomData,
        }
    }

    /// Values in the pool.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the pool holds no value.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Stores `value`; it stays at the same address until removed.
    ///
    /// # Panics
    ///
    /// When the pool holds `u32::MAX - 1` handles.
    #[inline]
    pub fn insert<T: 'static>(&mut self, value: T) -> MultisizeKey<T> {
        let ops: &'static SlotOps = const {
            &SlotOps {
                drop: drop_as::<T>,
                type_id: TypeId::of::<T>,
                layout: Layout::new::<T>(),
                storage: Storage::of(Layout::new::<T>()),
            }
        };
        let index = if self.free_slot == NONE {
            let index = u32::try_from(self.slots.len())
                .ok()
                .filter(|&i| i != NONE)
                .expect("a MultisizePool holds fewer than u32::MAX handles");
            self.slots.push(Slot {
                value: None,
                generation: 0,
                next_free: NONE,
                ops,
            });
            index
        } else {
            let index = self.free_slot;
            self.free_slot = self.slots[index as usize].next_free;
            index
        };
        let block = match ops.storage {
            Storage::Class(class) => self.classes[class].alloc(),
            Storage::Large => {
                // SAFETY: large layouts have a non-zero size.
                let raw = unsafe { std::alloc::alloc(ops.layout) };
                self.large += ops.layout.size();
                NonNull::new(raw).unwrap_or_else(|| std::alloc::handle_alloc_error(ops.layout))
            }
            Storage::Zst => NonNull::<T>::dangling().cast(),
        };
        // SAFETY: the block is free and valid for a `T`: a slot of a class
        // at least as large and as aligned as `T`, a block of `T`'s layout,
        // or an aligned dangling pointer for a zero-sized `T`.
        unsafe { block.cast::<T>().write(value) };
        let slot = &mut self.slots[index as usize];
        slot.value = Some(block);
        slot.ops = ops;
        self.len += 1;
        self.live += ops.layout.size();
        MultisizeKey {
            pool: self.id,
            index,
            generation: slot.generation,
            _type: PhantomData,
        }
    }

    /// The value of `key`'s slot, if `key` is live and from this pool.
    #[inline]
    fn find<T: 'static>(&self, key: MultisizeKey<T>) -> Option<NonNull<u8>> {
        if key.pool != self.id {
            return None;
        }
        let slot = self.slots.get(key.index as usize)?;
        if slot.generation != key.generation {
            return None;
        }
        let value = slot.value?;
        // The generation proves the slot still holds the value `key` was
        // made for, which is a `T`.
        debug_assert_eq!((slot.ops.type_id)(), TypeId::of::<T>());
        Some(value)
    }

    /// Whether `key` names a value of this pool.
    #[must_use]
    pub fn contains<T: 'static>(&self, key: MultisizeKey<T>) -> bool {
        self.find(key).is_some()
    }

    /// The value of `key`; `None` for a stale key or a key of another pool.
    #[inline]
    #[must_use]
    pub fn get<T: 'static>(&self, key: MultisizeKey<T>) -> Option<&T> {
        let value = self.find(key)?;
        // SAFETY: `find` checked the key names a live `T` of this pool,
        // borrowed shared with `self`.
        Some(unsafe { value.cast::<T>().as_ref() })
    }

    /// The value of `key`, mutably; `None` as for [`get`](Self::get).
    #[inline]
    #[must_use]
    pub fn get_mut<T: 'static>(&mut self, key: MultisizeKey<T>) -> Option<&mut T> {
        let value = self.find(key)?;
        // SAFETY: as in `get`, borrowed exclusively with `self`.
        Some(unsafe { value.cast::<T>().as_mut() })
    }

    /// Takes the slot at `index` out of use (its value still in place) and
    /// returns the value's pointer and type.
    #[inline]
    fn vacate(&mut self, index: u32) -> (NonNull<u8>, &'static SlotOps) {
        let slot = &mut self.slots[index as usize];
        let value = slot.value.take().expect("an occupied slot");
        let ops = slot.ops;
        if slot.generation < u32::MAX - 1 {
            slot.generation += 1;
            slot.next_free = self.free_slot;
            self.free_slot = index;
        } else {
            // Retired: its keys stay stale forever.
            slot.generation = u32::MAX;
        }
        self.len -= 1;
        self.live -= ops.layout.size();
        (value, ops)
    }

    /// Returns the storage of a value that is gone.
    ///
    /// # Safety
    ///
    /// `value` must be the storage of a vacated slot with type `ops`, its
    /// value moved out or dropped.
    #[inline]
    unsafe fn release(&mut self, value: NonNull<u8>, ops: &SlotOps) {
        match ops.storage {
            // SAFETY: the slot was taken from this class by `insert`.
            Storage::Class(class) => unsafe { self.classes[class].free(value) },
            Storage::Large => {
                self.large -= ops.layout.size();
                // SAFETY: allocated by `insert` with this layout.
                unsafe { std::alloc::dealloc(value.as_ptr(), ops.layout) };
            }
            Storage::Zst => {}
        }
    }

    /// Moves the value of `key` out; `None` for a stale or foreign key.
    #[inline]
    pub fn remove<T: 'static>(&mut self, key: MultisizeKey<T>) -> Option<T> {
        self.find(key)?;
        let (value, ops) = self.vacate(key.index);
        // SAFETY: 1. the slot held a live `T` (checked by `find`); it is
        // read out once and the slot is vacated, so never read again;
        // 2. its storage is then returned.
        unsafe {
            let out = value.cast::<T>().read();
            self.release(value, ops);
            Some(out)
        }
    }

    /// Drops the value of `key` in place; false for a stale or foreign
    /// key. The slot is freed even if the destructor panics.
    pub fn delete<T: 'static>(&mut self, key: MultisizeKey<T>) -> bool {
        if self.find(key).is_none() {
            return false;
        }
        self.drop_slot(key.index);
        true
    }

    /// Vacates an occupied slot and drops its value, releasing the storage
    /// even when the destructor panics.
    fn drop_slot(&mut self, index: u32) {
        let (value, ops) = self.vacate(index);
        struct Release<'a> {
            pool: &'a mut MultisizePool,
            value: NonNull<u8>,
            ops: &'static SlotOps,
        }
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                // SAFETY: the value was dropped (or its destructor unwound).
                unsafe { self.pool.release(self.value, self.ops) };
            }
        }
        let guard = Release {
            pool: self,
            value,
            ops,
        };
        // SAFETY: the vacated slot held a live value of `ops`' type, now
        // owned only here; the guard returns its storage afterwards.
        unsafe { (ops.drop)(guard.value.as_ptr()) };
        drop(guard);
    }

    /// Drops every value. If a destructor panics the others are still
    /// dropped and the panic then resumes.
    pub fn clear(&mut self) {
        struct Rest<'a>(&'a mut MultisizePool, usize);
        impl Rest<'_> {
            fn run(&mut self) {
                while self.1 < self.0.slots.len() {
                    let index = self.1;
                    self.1 += 1;
                    if self.0.slots[index].value.is_some() {
                        self.0.drop_slot(index as u32);
                    }
                }
            }
        }
        impl Drop for Rest<'_> {
            fn drop(&mut self) {
                self.run();
            }
        }
        Rest(self, 0).run();
    }

    /// The occupancy of the class page holding `ptr`, or `None` when no
    /// class page of this pool is there (a foreign pointer, a large or
    /// zero-sized value, or a released page). Only the address is used.
    #[must_use]
    pub fn header_for<P: ?Sized>(&self, ptr: *const P) -> Option<PageInfo> {
        let addr = ptr.cast::<u8>().addr();
        self.classes.iter().find_map(|class| {
            let page = class.raw.page_of(addr)?;
            // SAFETY: pages in use hold a header.
            let live = unsafe { page.cast::<ClassPage>().read().live } as usize;
            Some(PageInfo {
                records: live,
                used_bytes: live * class.size,
                page_bytes: class.raw.page_size().get(),
            })
        })
    }

    /// Space statistics: value bytes live; class pages (free slots and
    /// spare pages included) and large blocks reserved. The handle table
    /// is not counted.
    #[must_use]
    pub fn stats(&self) -> SpaceStats {
        let pages: usize = self.classes.iter().map(|c| c.raw.reserved_bytes()).sum();
        SpaceStats::new(self.live, pages + self.large)
    }

    /// Returns every class page without an occupied slot (and the spare
    /// pages) to the allocator. Values never move.
    pub fn shrink_to_fit(&mut self) {
        for class in &mut self.classes {
            class.release_empty();
        }
    }
}

impl Default for MultisizePool {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for MultisizePool {
    fn drop(&mut self) {
        // Class pages are freed by their `RawPages`; large blocks by `clear`.
        self.clear();
    }
}

impl fmt::Debug for MultisizePool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultisizePool")
            .field("len", &self.len)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes_cover_size_and_alignment() {
        assert_eq!(Storage::of(Layout::new::<()>()), Storage::Zst);
        assert_eq!(Storage::of(Layout::new::<u8>()), Storage::Class(0));
        assert_eq!(Storage::of(Layout::new::<[u8; 17]>()), Storage::Class(1));
        #[repr(align(64))]
        struct Al64(#[allow(dead_code)] u8);
        assert_eq!(Storage::of(Layout::new::<Al64>()), Storage::Class(2));
        assert_eq!(Storage::of(Layout::new::<[u8; 2048]>()), Storage::Class(7));
        assert_eq!(Storage::of(Layout::new::<[u8; 2049]>()), Storage::Large);
        #[repr(align(4096))]
        struct Al4k(#[allow(dead_code)] u8);
        assert_eq!(Storage::of(Layout::new::<Al4k>()), Storage::Large);
    }

    #[test]
    fn a_slot_is_retired_before_its_generation_wraps() {
        let mut pool = MultisizePool::new();
        let first = pool.insert(1u32);
        pool.slots[0].generation = u32::MAX - 3;
        let key = MultisizeKey::<u32> {
            generation: u32::MAX - 3,
            ..first
        };
        assert_eq!(pool.remove(key), Some(1));
        let mut stale = Vec::new();
        while pool.free_slot == 0 {
            let k = pool.insert(2u32);
            assert_eq!(k.index, 0);
            stale.push(k);
            assert_eq!(pool.remove(k), Some(2));
        }
        // Slot 0 is retired; none of its keys works, the next insert gets
        // a new slot.
        assert_eq!(pool.slots[0].generation, u32::MAX);
        let fresh = pool.insert(3u32);
        assert_eq!(fresh.index, 1);
        for k in stale {
            assert!(pool.get(k).is_none());
        }
        assert_eq!(pool.get(fresh), Some(&3));
    }
}
