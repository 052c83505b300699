//! [`MultisizePool`]: values of any layout allocated and freed anywhere,
//! from free lists of power-of-two size classes.
//!
//! The pool's size classes, free lists and large table, and its handles
//! [`MultisizeKey`] and [`MultisizeBlock`], are in the raw layer
//! (`multisize/raw/pool.rs`, with the invariants); this is the safe
//! facade: every method checks its key or block and calls only safe
//! functions of [`RawMultisizePool`].

use core::alloc::Layout;
use core::fmt;
use core::mem::MaybeUninit;

use super::raw::pool::{MultisizeBlock, MultisizeKey, RawMultisizePool};
use super::raw::records::PageInfo;
use super::values::{AnyValues, Holds, ValueSet};
use crate::SpaceStats;

/// A free-list allocator for values of any type, size and alignment:
/// insert anywhere, remove anywhere, values never move.
///
/// Values go to slots of power-of-two size classes (16 bytes to 2 KiB; a
/// value takes the smallest class at least as large as its size and
/// alignment), each class a list of size-aligned pages of equal slots. A
/// value larger or more aligned than 2 KiB takes the large path: its own
/// block from the global allocator. Zero-sized values take no memory.
///
/// `V` is the set of value types the pool accepts: [`AnyValues`] (the
/// default: anything, and the pool stays on its thread) or
/// [`SendValues`](super::SendValues) (only `Send` values, and the pool is
/// `Send`).
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
///
/// Raw memory of any [`Layout`] comes from the same classes:
/// [`alloc_layout`](Self::alloc_layout) returns a [`MultisizeBlock`], an owning
/// handle (not `Copy`, consumed by [`dealloc`](Self::dealloc)) with
/// the block's pointer. Its bytes are reachable safely through the checked
/// [`bytes`](Self::bytes) / [`bytes_mut`](Self::bytes_mut), or through the
/// raw pointer with `unsafe` code of the caller's own. The pool never
/// drops anything in a raw block.
///
/// ```
/// use core::alloc::Layout;
/// use core::mem::MaybeUninit;
/// use managed::prelude::*;
///
/// let mut pool = MultisizePool::new();
/// let block = pool.alloc_layout(Layout::from_size_align(24, 8).unwrap());
/// assert_eq!(block.as_ptr().as_ptr().addr() % 8, 0);
/// pool.bytes_mut(&block).unwrap().fill(MaybeUninit::new(7));
/// // SAFETY: the block is live and its 24 bytes were just written.
/// let first = unsafe { block.as_ptr().read() };
/// assert_eq!(first, 7);
/// assert_eq!(pool.len(), 1);
///
/// let other = pool.alloc_layout(Layout::new::<[u64; 1024]>()); // the large path
/// pool.clear(); // frees every block: their handles are stale
/// assert!(pool.bytes(&other).is_none());
/// assert!(!pool.dealloc(block), "nothing freed twice");
/// ```
pub struct MultisizePool<V: ValueSet = AnyValues> {
    /// The classes, the large table and the pool id (invariants there).
    /// The pool is `Send` for [`SendValues`](super::SendValues) only (the
    /// `unsafe impl` and its argument are in the raw module), never `Sync`.
    pub(super) raw: RawMultisizePool<V>,
}

impl MultisizePool {
    /// An empty pool of values of any type. Allocates nothing.
    ///
    /// The pool is not `Send`; a `MultisizePool<SendValues>`
    /// (`MultisizePool::default()`) accepts only `Send` values and is.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl<V: ValueSet> Default for MultisizePool<V> {
    fn default() -> Self {
        Self {
            raw: RawMultisizePool::empty(),
        }
    }
}

impl<V: ValueSet> MultisizePool<V> {
    /// Stores `value`; it stays at the same address until removed.
    ///
    /// # Panics
    ///
    /// When a size class would need more than `2^32` slots, or the large
    /// table more than `u32::MAX` entries.
    #[inline]
    #[track_caller]
    pub fn insert<T: 'static>(&mut self, value: T) -> MultisizeKey<T>
    where
        V: Holds<T>,
    {
        self.raw.insert(value)
    }

    /// Allocates memory for `layout`, uninitialized, from the class of
    /// `max(size, align)` (the large path beyond 2 KiB; zero-sized layouts
    /// take no memory and get an aligned dangling pointer). The block
    /// stays put until [`dealloc`](Self::dealloc)d; see
    /// [`MultisizeBlock`] for how to use it.
    ///
    /// # Panics
    ///
    /// As [`insert`](Self::insert). Calls
    /// [`handle_alloc_error`](alloc::alloc::handle_alloc_error) when the
    /// global allocator fails.
    #[inline]
    #[track_caller]
    #[must_use = "dropping the handle leaves the block allocated until the pool is cleared; \
                  give it back with MultisizePool::dealloc"]
    pub fn alloc_layout(&mut self, layout: Layout) -> MultisizeBlock {
        self.raw.alloc_layout(layout)
    }

    /// Moves the value of `key` out; `None` for a stale or foreign key.
    #[inline]
    pub fn remove<T: 'static>(&mut self, key: MultisizeKey<T>) -> Option<T> {
        self.raw.remove(key)
    }

    /// Frees `block`; its contents are not dropped. False (and nothing
    /// freed) for a block of another pool or one already freed by
    /// [`clear`](Self::clear).
    #[inline]
    pub fn dealloc(&mut self, block: MultisizeBlock) -> bool {
        self.raw.dealloc(block)
    }

    /// Whether `key` names a value of this pool.
    #[inline]
    #[must_use]
    pub fn contains<T: 'static>(&self, key: MultisizeKey<T>) -> bool {
        self.raw.contains(key)
    }

    /// The value of `key`; `None` for a stale key or a key of another pool.
    #[inline]
    #[must_use]
    pub fn get<T: 'static>(&self, key: MultisizeKey<T>) -> Option<&T> {
        self.raw.get(key)
    }

    /// The value of `key`, mutably; `None` as for [`get`](Self::get).
    #[inline]
    #[must_use]
    pub fn get_mut<T: 'static>(&mut self, key: MultisizeKey<T>) -> Option<&mut T> {
        self.raw.get_mut(key)
    }

    /// The bytes of `block`; `None` for a block of another pool or one
    /// freed by [`clear`](Self::clear).
    #[inline]
    #[must_use]
    pub fn bytes(&self, block: &MultisizeBlock) -> Option<&[MaybeUninit<u8>]> {
        self.raw.bytes(block)
    }

    /// The bytes of `block`, mutably; `None` as for [`bytes`](Self::bytes).
    #[inline]
    #[must_use]
    pub fn bytes_mut(&mut self, block: &MultisizeBlock) -> Option<&mut [MaybeUninit<u8>]> {
        self.raw.bytes_mut(block)
    }

    /// Values and raw blocks in the pool.
    #[inline]
    #[must_use]
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether the pool holds no value and no raw block.
    #[inline]
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Drops every value and frees every raw block (their handles are
    /// stale from then on). If a destructor panics the others are still
    /// dropped and the panic then resumes.
    pub fn clear(&mut self) {
        self.raw.clear();
    }

    /// Space statistics: value and raw block bytes live (the exact sizes
    /// asked for); class pages (free slots and
    /// spare pages included) and large blocks reserved. The per-slot
    /// tables are not counted.
    #[must_use]
    pub fn stats(&self) -> SpaceStats {
        self.raw.stats()
    }

    /// Returns every class page without an occupied slot (and the spare
    /// pages) to the allocator. Values never move.
    pub fn shrink_to_fit(&mut self) {
        self.raw.shrink_to_fit();
    }

    /// The occupancy of the class page holding `ptr`, or `None` when no
    /// class page of this pool is there (a foreign pointer, a large or
    /// zero-sized value, or a released page). Only the address is used.
    #[must_use]
    pub fn header_for<P: ?Sized>(&self, ptr: *const P) -> Option<PageInfo> {
        self.raw.header_for(ptr)
    }
}

impl<V: ValueSet> fmt::Debug for MultisizePool<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultisizePool")
            .field("len", &self.len())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

// Memory maps (`crate::memory_map`).
impl MultisizePool {
    /// A map of the pool's memory: one block per page of each size class
    /// (its slots, occupied or free), the idle pages, then one block per
    /// value on the large path.
    ///
    /// A class slot does not record the exact size of what it holds, so an
    /// occupied slot is drawn live as a whole: the map's live bytes are at
    /// least [`stats`](Self::stats)' (which counts exact sizes), by at most
    /// the rounding up to the classes. Large values are drawn at their
    /// exact size. The blocks add up to the reserved bytes.
    ///
    /// ```
    /// use managed::memory_map::SpanKind;
    /// use managed::prelude::*;
    ///
    /// let mut pool = MultisizePool::new();
    /// let small = pool.insert(7u8); // a 16-byte slot
    /// let _large = pool.insert([0u64; 512]); // 4 KiB, a block of its own
    /// let map = pool.memory_map();
    /// assert_eq!(map.bytes(SpanKind::Live), 16 + 4096);
    /// assert_eq!(map.reserved_bytes(), pool.stats().reserved_bytes);
    /// # let _ = small;
    /// ```
    #[must_use]
    pub fn memory_map(&self) -> crate::memory_map::MemoryMap {
        self.raw.memory_map()
    }
}

#[cfg(test)]
mod tests {
    /// The multisize containers are covariant in `D`, like
    /// `Vec<Box<D>>`: they own their values and hand out `&mut D` only
    /// through `&mut self`. (Their keys are not: see
    /// `tests/ui/multisize/key_is_invariant.rs`.)
    #[test]
    fn containers_are_covariant() {
        use crate::multisize::{MultisizePageDeque, MultisizePageQueue, MultisizePageStack};
        type General = dyn for<'x> Fn(&'x str) -> usize;
        type Narrow = dyn Fn(&'static str) -> usize;
        fn deque(d: MultisizePageDeque<General>) -> MultisizePageDeque<Narrow> {
            d
        }
        fn queue(q: MultisizePageQueue<General>) -> MultisizePageQueue<Narrow> {
            q
        }
        fn stack(s: MultisizePageStack<General>) -> MultisizePageStack<Narrow> {
            s
        }
        let mut d = deque(MultisizePageDeque::new());
        d.push_back(|s: &'static str| s.len(), crate::coercion!());
        let mut q = queue(MultisizePageQueue::new());
        q.push(|s: &'static str| s.len() + 1, crate::coercion!());
        let mut s = stack(MultisizePageStack::new());
        s.push(|s: &'static str| s.len() + 2, crate::coercion!());
        assert_eq!(d.iter().map(|f| f("abc")).sum::<usize>(), 3);
        assert_eq!(q.iter().map(|f| f("abc")).sum::<usize>(), 4);
        assert_eq!(s.iter().map(|f| f("abc")).sum::<usize>(), 5);
    }
}
