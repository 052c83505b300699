//! [`Arena`], its allocation [`State`] and compaction phase [`Compacting`].

use core::fmt;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use generativity::{Guard, Id};

use crate::error::AllocError;
use crate::stats::SpaceStats;
use crate::visit::Managed;

use super::cells::CellTable;
use super::forward::Forward;
use super::item::Item;
use super::raw::{HEADER, Header, Meta, MetaOf, RawRegion, SHARED, Step};
use super::token::{Census, ItemToken, Rebrand, Token, Tokenizer};

/// A compacting region of `N` bytes on the heap, branded with the unique
/// lifetime `'id` of a [`make_guard!`](crate::make_guard) guard.
///
/// Values of any `Sized` type (and slices of `Copy` elements) are allocated
/// in address order behind a 16-byte header; dropping their [`Item`]
/// leaves a hole. [`compact`](Self::compact) slides every live object down
/// in one address-ordered pass, so that all the free space is one block at
/// the end. See the [module docs](super) for the two-phase protocol that
/// makes this safe.
///
/// `N` is the capacity of [`new`](Self::new); [`with_capacity`](Self::with_capacity)
/// picks the capacity at run time instead (any `N`, conventionally 0).
pub struct Arena<'id, const N: usize> {
    /// The region memory. Invariant: every block before its `top` has a
    /// valid header, and every `cell` index in a header is a cell of `cells`
    /// tracking that header's value.
    raw: RawRegion,
    /// The forwarding cells, shared with the outstanding tokens.
    cells: NonNull<CellTable>,
    /// The brand; also makes the arena neither `Send` nor `Sync`.
    _brand: PhantomData<(Id<'id>, *mut ())>,
}

/// The allocation state of an [`Arena`]: allocating needs a borrow of it,
/// and [`Arena::compact`] consumes it, so every [`Item`] it allocated is
/// dead (dropped or tokenized) before objects move.
pub struct State<'id> {
    _brand: PhantomData<Id<'id>>,
}

/// The compaction phase of an [`Arena`], between [`Arena::compact`] and
/// [`Arena::finish`]; branded with the compaction guard's lifetime `'g` so
/// that `finish` must consume that same guard.
pub struct Compacting<'id, 'g> {
    _brand: PhantomData<(Id<'id>, Id<'g>)>,
}

/// Detailed space figures of an [`Arena`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RegionStats {
    /// Bytes of the region.
    pub capacity: usize,
    /// Live objects.
    pub live_objects: usize,
    /// Bytes of live values (their sizes; a slice's payload).
    pub live_bytes: usize,
    /// Bytes of live blocks: headers, values and padding (what compaction
    /// moves).
    pub live_block_bytes: usize,
    /// Bytes of dropped objects before the end of the last block (reclaimed
    /// by compaction).
    pub hole_bytes: usize,
    /// Bytes of alignment padding before over-aligned values (compaction
    /// keeps only what alignment requires).
    pub padding_bytes: usize,
    /// Free bytes after the last block, available to allocation.
    pub tail_bytes: usize,
}

impl RegionStats {
    /// All free bytes (holes and tail).
    pub fn free_bytes(&self) -> usize {
        self.hole_bytes + self.tail_bytes
    }

    /// The fraction of free space that is not in the tail block, in
    /// `0.0..=1.0` (0 right after compaction).
    pub fn fragmentation(&self) -> f64 {
        let free = self.free_bytes();
        if free == 0 {
            0.0
        } else {
            self.hole_bytes as f64 / free as f64
        }
    }
}

impl fmt::Display for RegionStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} objects, {} live bytes ({} with headers), {} in holes, {} of padding, \
             {} free at the end ({:.1}% fragmented)",
            self.live_objects,
            self.live_bytes,
            self.live_block_bytes,
            self.hole_bytes,
            self.padding_bytes,
            self.tail_bytes,
            self.fragmentation() * 100.0
        )
    }
}

impl<'id, const N: usize> Arena<'id, N> {
    /// A new arena of `N` bytes (rounded down to a multiple of 8) on the
    /// heap, and its allocation state.
    ///
    /// Aborts through [`std::alloc::handle_alloc_error`] if the memory cannot
    /// be obtained; see [`try_with_capacity`](Self::try_with_capacity).
    pub fn new(guard: Guard<'id>) -> (Self, State<'id>) {
        Self::with_capacity(guard, N)
    }

    /// A new arena of `bytes` bytes (rounded down to a multiple of 8).
    pub fn with_capacity(guard: Guard<'id>, bytes: usize) -> (Self, State<'id>) {
        match Self::try_with_capacity(guard, bytes) {
            Ok(pair) => pair,
            Err(AllocError::OutOfMemory { layout }) => std::alloc::handle_alloc_error(layout),
            Err(e) => panic!("cannot create a region of {bytes} bytes: {e}"),
        }
    }

    /// A new arena of `bytes` bytes, or the reason it cannot be made.
    pub fn try_with_capacity(
        guard: Guard<'id>,
        bytes: usize,
    ) -> Result<(Self, State<'id>), AllocError> {
        let _ = guard;
        let raw = RawRegion::new(bytes)?;
        let arena = Arena {
            raw,
            cells: CellTable::create(),
            _brand: PhantomData,
        };
        Ok((
            arena,
            State {
                _brand: PhantomData,
            },
        ))
    }

    /// The arena's cell table.
    #[inline]
    pub(crate) fn cells(&self) -> &CellTable {
        // SAFETY: the table lives at least as long as the arena.
        unsafe { self.cells.as_ref() }
    }

    /// The arena's cell table pointer.
    #[inline]
    pub(crate) fn cells_ptr(&self) -> NonNull<CellTable> {
        self.cells
    }

    /// Reserves and initializes a block for `value`.
    fn put<T>(&self, meta: &'static Meta, value: T) -> Result<NonNull<T>, (AllocError, T)> {
        match self.raw.reserve(size_of::<T>(), align_of::<T>(), meta) {
            Ok(p) => {
                let p = p.cast::<T>();
                // SAFETY: a fresh block for a `T`, aligned and in bounds.
                unsafe { p.write(value) };
                Ok(p)
            }
            Err(e) => Err((e, value)),
        }
    }

    /// Allocates `T::default()`.
    ///
    /// # Errors
    ///
    /// [`AllocError::Full`] when it does not fit in the free space at the
    /// end of the region (compact to reclaim holes), or
    /// [`AllocError::CapacityOverflow`] for a value of 4 GiB or more.
    pub fn allocate<'a, T: Managed + Default>(
        &'a self,
        state: &'a State<'id>,
    ) -> Result<Item<'a, T>, AllocError> {
        self.allocate_value(state, T::default()).map_err(|(e, _)| e)
    }

    /// Allocates `value`; gives it back with the error when it does not fit.
    ///
    /// # Errors
    ///
    /// As [`allocate`](Self::allocate), with the value.
    pub fn allocate_value<'a, T: Managed>(
        &'a self,
        state: &'a State<'id>,
        value: T,
    ) -> Result<Item<'a, T>, (AllocError, T)> {
        let _ = state;
        let p = self.put(&MetaOf::<T>::META, value)?;
        // SAFETY: a fresh object owned by nothing else; it lives until
        // compaction, which needs `state`, borrowed for `'a`.
        Ok(unsafe { Item::from_raw(p) })
    }

    /// Allocates the value `f` returns; `f` runs only once space is
    /// reserved, so nothing is built when it does not fit.
    ///
    /// If `f` panics, the reserved block is left free.
    ///
    /// # Errors
    ///
    /// As [`allocate`](Self::allocate).
    pub fn allocate_with<'a, T: Managed>(
        &'a self,
        state: &'a State<'id>,
        f: impl FnOnce() -> T,
    ) -> Result<Item<'a, T>, AllocError> {
        let _ = state;
        let p = self
            .raw
            .reserve(size_of::<T>(), align_of::<T>(), &MetaOf::<T>::META)?;
        // SAFETY: the block is ours; until the value is written it is
        // marked free, so a panic in `f` (or a walk from a reentrant call)
        // never sees an uninitialized value as live.
        let header = unsafe { Header::of(p) };
        header.set_free();
        let value = f();
        // SAFETY: the reserved block fits a `T` at `p`.
        unsafe { p.cast::<T>().write(value) };
        header
            .size_flags
            .set(header.size_flags.get() & !super::raw::FREE);
        // SAFETY: as in `allocate_value`.
        Ok(unsafe { Item::from_raw(p.cast()) })
    }

    /// Allocates a copy of `src`.
    ///
    /// # Errors
    ///
    /// As [`allocate`](Self::allocate).
    pub fn allocate_slice<'a, T: Copy>(
        &'a self,
        state: &'a State<'id>,
        src: &[T],
    ) -> Result<Item<'a, [T]>, AllocError> {
        let _ = state;
        let bytes = size_of_val(src);
        let p = self
            .raw
            .reserve(bytes, align_of::<T>(), &MetaOf::<[T]>::SLICE)?;
        // SAFETY: 1. the fresh block holds `bytes` bytes aligned for `T`;
        // 2. `Copy` elements are duplicated bitwise.
        unsafe {
            core::ptr::copy_nonoverlapping(src.as_ptr(), p.as_ptr().cast::<T>(), src.len());
            Ok(Item::from_raw(NonNull::slice_from_raw_parts(
                p.cast::<T>(),
                src.len(),
            )))
        }
    }

    /// Allocates a slice of `len` copies of `value`, built in place.
    ///
    /// # Errors
    ///
    /// As [`allocate`](Self::allocate); `CapacityOverflow` if the byte size
    /// overflows.
    pub fn allocate_slice_fill<'a, T: Copy>(
        &'a self,
        state: &'a State<'id>,
        len: usize,
        value: T,
    ) -> Result<Item<'a, [T]>, AllocError> {
        let _ = state;
        let bytes = size_of::<T>()
            .checked_mul(len)
            .ok_or(AllocError::CapacityOverflow)?;
        let p = self
            .raw
            .reserve(bytes, align_of::<T>(), &MetaOf::<[T]>::SLICE)?;
        let first = p.cast::<T>();
        for i in 0..len {
            // SAFETY: `i < len` elements fit in the fresh block.
            unsafe { first.add(i).write(value) };
        }
        // SAFETY: `len` initialized elements owned by nothing else.
        Ok(unsafe { Item::from_raw(NonNull::slice_from_raw_parts(first, len)) })
    }

    /// Allocates `value` as an object the arena owns, reached through the
    /// returned [`Forward`].
    ///
    /// `T: 'id` because the arena drops shared objects when it is dropped.
    ///
    /// # Errors
    ///
    /// As [`allocate_value`](Self::allocate_value).
    pub fn allocate_shared<T: Managed + 'id>(
        &self,
        state: &State<'id>,
        value: T,
    ) -> Result<Forward<'id, T>, (AllocError, T)> {
        let item = self.allocate_value(state, value)?;
        Ok(self.share(item))
    }

    /// Panics unless `p` is a value address in this region.
    fn check_owned(&self, p: NonNull<u8>) {
        assert!(self.raw.contains(p), "this Item belongs to another region");
    }

    /// Hands an item's object over to the arena, to be reached through
    /// [`Forward`]s (copyable references that survive compaction).
    ///
    /// # Panics
    ///
    /// If the item belongs to another arena.
    pub fn share<T: 'id>(&self, item: Item<'_, T>) -> Forward<'id, T> {
        self.check_owned(NonNull::from(&*item).cast());
        let p = item.into_raw().cast::<u8>();
        // SAFETY: the item owned a live object of this region, which now
        // belongs to the arena (flag `SHARED`) and gets a cell.
        unsafe {
            let header = Header::of(p);
            header.size_flags.set(header.size_flags.get() | SHARED);
            let index = self.cells().acquire(p);
            header.cell.set(index + 1);
            let slot = self.cells().slot(index);
            Forward::new(NonNull::from(slot), slot.generation.get())
        }
    }

    /// Removes a shared object, returning its value, or `None` if it was
    /// already freed (through another copy of the `Forward`).
    pub fn free<T>(&mut self, forward: Forward<'id, T>) -> Option<T> {
        let p = forward.live_slot()?;
        // SAFETY: 1. the cell tracks a live shared `T` of this arena (the
        // brand and generation match); 2. `&mut self` rules out any
        // reference to it; 3. the value is read out once, then the block is
        // marked free and the cell released, so no `Forward` reads it again.
        unsafe {
            let header = Header::of(p);
            let value = p.cast::<T>().read();
            header.set_free();
            self.cells().release(header.cell.get() - 1);
            header.cell.set(0);
            Some(value)
        }
    }

    /// Turns an item into a token, to be redeemed (by calling it with the
    /// arena) after [`compact`](Self::compact) moved its object.
    ///
    /// The token borrows the compaction guard, so it cannot outlive
    /// [`finish`](Self::finish); it does not borrow the arena, and may even
    /// be dropped after it (the arena then leaves its memory to its
    /// outstanding tokens). Dropping it drops the value; forgetting it keeps
    /// the object alive and never redeemed (its value is never dropped, and
    /// the region memory is leaked if the arena is dropped after).
    ///
    /// To tokenize a whole value holding items (`Vec<Item<..>>`, a struct),
    /// use [`tokenize_all`](Self::tokenize_all).
    ///
    /// # Panics
    ///
    /// If the item belongs to another arena.
    pub fn tokenize<'c, 'g, T: ?Sized>(
        &self,
        guard: &'c Guard<'g>,
        item: Item<'_, T>,
    ) -> impl for<'b> FnOnce(&'b Arena<'id, N>) -> Item<'b, T> + use<'c, 'g, 'id, N, T> {
        let _ = guard;
        self.check_owned(NonNull::from(&*item).cast());
        let ptr = item.into_raw();
        let p = ptr.cast::<u8>();
        let cells = self.cells();
        let index = cells.acquire(p);
        // SAFETY: a live object of this region, owned by the item (so it
        // has no cell yet); the cell now tracks it for the token.
        unsafe { Header::of(p) }.cell.set(index + 1);
        cells.token_created();
        let token = ItemToken::<'c, 'id, T> {
            ptr,
            index,
            cells: self.cells,
            _marker: PhantomData,
        };
        redeemer(move |arena: &Arena<'id, N>| token.redeem(arena))
    }

    /// Turns every item held in `value` (fields, elements, map values,
    /// nested structs) into a forwarding cell, in place: one token for the
    /// whole value, redeemed with [`Token::redeem`] after compaction.
    ///
    /// A `Vec<Item<..>>` keeps its buffer: each element is rewritten in
    /// place (an item and its tokenized form have the same layout).
    ///
    /// # Panics
    ///
    /// If `value` holds an item of another arena (before changing anything).
    pub fn tokenize_all<'c, 'g, S: Rebrand>(
        &self,
        guard: &'c Guard<'g>,
        value: S,
    ) -> Token<'c, 'id, S::Branded<'static>> {
        let _ = guard;
        let mut value = value;
        let mut census = Census {
            owns: |p| self.raw.contains(p),
            count: 0,
            foreign: false,
        };
        value.visit_refs(&mut census);
        assert!(
            !census.foreign,
            "tokenize_all: the value holds an Item of another region"
        );
        // Nothing below may leave `value` half tokenized and then drop it:
        // on a panic inside `visit_refs`, the value is leaked instead.
        let mut value = ManuallyDrop::new(value);
        value.visit_refs(&mut Tokenizer {
            cells: self.cells(),
        });
        self.cells().token_created();
        let value = ManuallyDrop::into_inner(value);
        let value = ManuallyDrop::new(value);
        // SAFETY: 1. `S` and `S::Branded<'static>` differ only in the region
        // lifetime (`Rebrand`), and the value is read out once; 2. every
        // item reference was replaced by a cell of this arena, counted.
        unsafe {
            debug_assert_eq!(size_of::<S>(), size_of::<S::Branded<'static>>());
            let erased = (&*value as *const S).cast::<S::Branded<'static>>().read();
            Token::new(erased, self.cells)
        }
    }

    /// Starts compacting: consumes the allocation state (so every item is
    /// dead or a token) and slides every live object down in address order,
    /// each moving at most once, so that all free space forms one block at
    /// the end. Tokens and `Forward`s follow their objects.
    ///
    /// # Panics
    ///
    /// Before moving anything, if an object in the region holds an `Item`
    /// of another region.
    pub fn compact<'g>(&mut self, guard: &Guard<'g>, state: State<'id>) -> Compacting<'id, 'g> {
        let _ = (guard, state);
        // SAFETY: 1. `&mut self` means no item, redeemed item or reference
        // read through a `Forward` is live; 2. `cells` is this region's table.
        unsafe { self.raw.compact(self.cells.as_ref()) };
        Compacting {
            _brand: PhantomData,
        }
    }

    /// Ends compaction: consumes the compaction guard, so every token made
    /// with it is redeemed or dropped, and gives the allocation state back.
    pub fn finish<'g>(&self, guard: Guard<'g>, compacting: Compacting<'id, 'g>) -> State<'id> {
        let _ = (guard, compacting);
        State {
            _brand: PhantomData,
        }
    }

    /// Space statistics: live value bytes and the region's capacity.
    pub fn stats(&self) -> SpaceStats {
        let s = self.region_stats();
        SpaceStats::new(s.live_bytes, s.capacity)
    }

    /// Detailed space figures (walks the region: O(objects)).
    pub fn region_stats(&self) -> RegionStats {
        let mut s = RegionStats {
            capacity: self.raw.capacity(),
            tail_bytes: self.raw.capacity() - self.raw.top(),
            ..RegionStats::default()
        };
        self.raw.for_each_block(|h| {
            if h.is_free() {
                s.hole_bytes += h.size();
            } else {
                s.live_objects += 1;
                s.live_bytes += h.value_size();
                s.live_block_bytes += h.size();
            }
        });
        s.padding_bytes = self.raw.top() - s.live_block_bytes - s.hole_bytes;
        s
    }

    /// Bytes of the region.
    pub fn capacity(&self) -> usize {
        self.raw.capacity()
    }

    /// Bytes free at the end of the region, where allocation happens.
    pub fn available(&self) -> usize {
        self.raw.capacity() - self.raw.top()
    }

    /// Drops the shared objects from block offset `pos` on.
    fn drop_shared_from(&mut self, mut pos: usize) {
        /// Continues the walk if a destructor panics.
        struct Resume<'r, 'id, const N: usize> {
            arena: &'r mut Arena<'id, N>,
            pos: usize,
        }
        impl<const N: usize> Drop for Resume<'_, '_, N> {
            fn drop(&mut self) {
                let pos = self.pos;
                self.arena.drop_shared_from(pos);
            }
        }
        while pos < self.raw.top() {
            // SAFETY: `pos` walks the blocks from a block start.
            let header = match unsafe { self.raw.step(pos) } {
                Step::Padding(len) => {
                    pos += len;
                    continue;
                }
                Step::Block(h) => h,
            };
            let next = pos + header.size();
            if !header.is_free() && header.size_flags.get() & SHARED != 0 {
                header.set_free();
                let drop_fn = header.meta.get().drop;
                let value = self.raw.value_at(pos);
                let resume = Resume {
                    arena: self,
                    pos: next,
                };
                // SAFETY: a live shared object owned by the arena, marked
                // free first so it is dropped once even if this panics.
                unsafe { drop_fn(value.as_ptr()) };
                core::mem::forget(resume);
            }
            pos = next;
        }
    }
}

/// Pins down the higher-ranked signature of a redeeming closure.
#[inline]
fn redeemer<'id, const N: usize, T: ?Sized, F>(f: F) -> F
where
    F: for<'b> FnOnce(&'b Arena<'id, N>) -> Item<'b, T>,
{
    f
}

impl<const N: usize> Drop for Arena<'_, N> {
    fn drop(&mut self) {
        /// Releases the cell table (and hands it the region if tokens are
        /// outstanding) even if a destructor panics.
        struct Release<'r, 'id, const N: usize>(&'r mut Arena<'id, N>);
        impl<const N: usize> Drop for Release<'_, '_, N> {
            fn drop(&mut self) {
                let empty = RawRegion::new(0).expect("an empty region needs no memory");
                let region = core::mem::replace(&mut self.0.raw, empty);
                // SAFETY: the arena's table and region; the arena is gone
                // after this.
                unsafe { CellTable::arena_gone(self.0.cells, region) };
            }
        }
        let release = Release(self);
        release.0.drop_shared_from(0);
    }
}

impl<const N: usize> fmt::Debug for Arena<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Arena")
            .field("capacity", &self.raw.capacity())
            .field("used", &self.raw.top())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for State<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("State")
    }
}

impl fmt::Debug for Compacting<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Compacting")
    }
}

#[allow(dead_code)]
const _: () = assert!(HEADER == 16);
