//! [`Arena`], its allocation [`State`] and compaction phase [`Compacting`].

use alloc::boxed::Box;
use core::fmt;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use generativity::{Guard, Id};

use crate::error::{AllocError, AllocValueError};
use crate::stats::SpaceStats;
use crate::visit::Managed;

use super::cells::NOWHERE;
use super::forward::Forward;
use super::item::Item;
use super::raw::{GRANULE, RawRegion, Visits, release};
use super::token::{Census, ItemToken, Rebrand, Token};

/// A compacting region of `N` bytes on the heap, branded with the unique
/// lifetime `'id` of a [`make_guard!`](crate::make_guard) guard.
///
/// Values of any `Sized` type (and slices of `Copy` elements) are bump
/// allocated in address order, without headers, in 8-byte granules;
/// dropping their [`Item`] marks its granules dead in a side bitmap. [`compact`](Self::compact) slides every live object down
/// in one address-ordered pass, so that all the free space is one block at
/// the end. See the [module docs](super) for the two-phase protocol that
/// makes this safe.
///
/// `N` is the capacity of [`new`](Self::new); [`with_capacity`](Self::with_capacity)
/// picks the capacity at run time instead (any `N`, conventionally 0).
pub struct Arena<'id, const N: usize> {
    /// The region memory, its bitmap, cells and side tables.
    raw: RawRegion,
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
    /// Live objects of non-zero size (zero-sized values take no space).
    pub live_objects: usize,
    /// Bytes of live objects, each rounded up to the 8-byte granule.
    pub live_bytes: usize,
    /// Bytes compaction moves: the same as `live_bytes` (objects carry no
    /// header; kept for the figures' continuity).
    pub live_block_bytes: usize,
    /// Bytes of dropped objects below the top (reclaimed by compaction).
    pub hole_bytes: usize,
    /// Bytes of alignment padding before over-aligned values (compaction
    /// keeps only what alignment requires).
    pub padding_bytes: usize,
    /// Free bytes after the last object, available to allocation.
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
            "{} objects, {} live bytes, {} in holes, {} of padding, \
             {} free at the end ({:.1}% fragmented)",
            self.live_objects,
            self.live_bytes,
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
    /// Aborts through [`alloc::alloc::handle_alloc_error`] if the memory cannot
    /// be obtained; see [`try_with_capacity`](Self::try_with_capacity).
    #[track_caller]
    pub fn new(guard: Guard<'id>) -> (Self, State<'id>) {
        Self::with_capacity(guard, N)
    }

    /// A new arena of `bytes` bytes (rounded down to a multiple of 8).
    #[track_caller]
    pub fn with_capacity(guard: Guard<'id>, bytes: usize) -> (Self, State<'id>) {
        match Self::try_with_capacity(guard, bytes) {
            Ok(pair) => pair,
            Err(AllocError::OutOfMemory { layout }) => alloc::alloc::handle_alloc_error(layout),
            Err(e) => panic!("cannot create a region of {bytes} bytes: {e}"),
        }
    }

    /// A new arena of `bytes` bytes, or the reason it cannot be made
    /// (`CapacityOverflow` above 16 GiB).
    pub fn try_with_capacity(
        guard: Guard<'id>,
        bytes: usize,
    ) -> Result<(Self, State<'id>), AllocError> {
        let _ = guard;
        let arena = Arena {
            raw: RawRegion::new(bytes)?,
            _brand: PhantomData,
        };
        Ok((
            arena,
            State {
                _brand: PhantomData,
            },
        ))
    }

    /// The region.
    #[inline]
    pub(crate) fn raw(&self) -> &RawRegion {
        &self.raw
    }

    /// Reserves space for a `T` and counts it (a dangling address for a
    /// zero-sized `T`, which takes no space); returns the untagged address.
    #[inline(always)]
    fn reserve<T: Managed>(&self) -> Result<NonNull<T>, AllocError> {
        if size_of::<T>() == 0 {
            return Ok(NonNull::dangling());
        }
        let p = self.raw.reserve(size_of::<T>(), align_of::<T>())?;
        if T::HAS_REFS {
            self.raw.add_refs(p, Visits::of::<T>());
        }
        Ok(p.cast())
    }

    /// Tags a fresh object's address into an item.
    ///
    /// # Safety
    ///
    /// `p` is an initialized, fresh `T` of this region (or a dangling
    /// zero-sized one) owned by nothing else, valid until the next
    /// compaction, which `'a` excludes.
    #[inline(always)]
    unsafe fn item<'a, T: ?Sized>(&'a self, p: NonNull<T>) -> Item<'a, T> {
        // SAFETY: forwarded from the caller; a zero-sized value's dangling
        // address stays untagged.
        unsafe {
            if size_of_val(p.as_ref()) == 0 {
                Item::from_raw(p)
            } else {
                Item::from_raw(self.raw.tag(p))
            }
        }
    }

    /// Allocates `T::default()`.
    ///
    /// # Errors
    ///
    /// [`AllocError::Full`] when it does not fit in the free space at the
    /// end of the region (compact to reclaim holes), or
    /// [`AllocError::CapacityOverflow`] for a value larger than any region.
    #[inline]
    pub fn allocate<'a, T: Managed + Default>(
        &'a self,
        state: &'a State<'id>,
    ) -> Result<Item<'a, T>, AllocError> {
        self.allocate_value(state, T::default())
            .map_err(AllocError::from)
    }

    /// Allocates `value`; gives it back with the error when it does not fit.
    ///
    /// # Errors
    ///
    /// As [`allocate`](Self::allocate), with the value
    /// ([`AllocValueError::into_value`]); `?` turns it into the
    /// [`AllocError`] alone.
    #[inline]
    pub fn allocate_value<'a, T: Managed>(
        &'a self,
        state: &'a State<'id>,
        value: T,
    ) -> Result<Item<'a, T>, AllocValueError<T>> {
        let _ = state;
        match self.reserve::<T>() {
            Ok(p) => {
                // SAFETY: 1. fresh space for a `T`, aligned and in bounds;
                // 2. the object lives until compaction, which needs
                // `state`, borrowed for `'a`.
                unsafe {
                    p.write(value);
                    Ok(self.item(p))
                }
            }
            Err(e) => Err(AllocValueError::new(e, value)),
        }
    }

    /// Allocates the value `f` returns; `f` runs only once space is
    /// reserved, so nothing is built when it does not fit.
    ///
    /// If `f` panics, the reserved space is left dead.
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
        let p = self.reserve::<T>()?;
        let size = size_of::<T>();
        if size != 0 {
            // Until the value is written, its space is dead and uncounted,
            // so a panic in `f` (or a compaction list entry, or stats from
            // a reentrant call) never treats it as a live value.
            self.raw.count_object(false);
            // SAFETY: `p` was just reserved for `size` bytes.
            unsafe { self.raw.mark(p.cast(), size, true) };
        }
        let value = f();
        // SAFETY: the reserved space fits a `T` at `p`.
        unsafe { p.write(value) };
        if size != 0 {
            // SAFETY: as above; `f` cannot compact (the state is borrowed).
            unsafe { self.raw.mark(p.cast(), size, false) };
            self.raw.count_object(true);
        }
        // SAFETY: as in `allocate_value`.
        Ok(unsafe { self.item(p) })
    }

    /// Reserves space for `len` elements of `T` (a slice of `Copy`
    /// elements: nothing to drop, no references).
    fn reserve_slice<T: Copy>(&self, len: usize) -> Result<NonNull<T>, AllocError> {
        let bytes = size_of::<T>()
            .checked_mul(len)
            .ok_or(AllocError::CapacityOverflow)?;
        if bytes == 0 {
            return Ok(NonNull::dangling());
        }
        Ok(self.raw.reserve(bytes, align_of::<T>())?.cast())
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
        let p = self.reserve_slice::<T>(src.len())?;
        // SAFETY: 1. the fresh space holds `len` elements aligned for `T`
        // (nothing to copy for a zero-sized slice); 2. `Copy` elements are
        // duplicated bitwise.
        unsafe {
            core::ptr::copy_nonoverlapping(src.as_ptr(), p.as_ptr(), src.len());
            Ok(self.item(NonNull::slice_from_raw_parts(p, src.len())))
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
        let first = self.reserve_slice::<T>(len)?;
        if size_of::<T>() != 0 {
            for i in 0..len {
                // SAFETY: `i < len` elements fit in the fresh space.
                unsafe { first.add(i).write(value) };
            }
        }
        // SAFETY: `len` initialized elements owned by nothing else.
        Ok(unsafe { self.item(NonNull::slice_from_raw_parts(first, len)) })
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
    ) -> Result<Forward<'id, T>, AllocValueError<T>> {
        let item = self.allocate_value(state, value)?;
        Ok(self.share(item))
    }

    /// Panics unless the item's value is in this region (a zero-sized
    /// value belongs to no region, and to every one).
    #[track_caller]
    fn check_owned<T: ?Sized>(&self, item: &Item<'_, T>) {
        assert!(
            size_of_val(&**item) == 0 || self.raw.contains(item.as_ptr().addr()),
            "this Item belongs to another region"
        );
    }

    /// Hands an item's object over to the arena, to be reached through
    /// [`Forward`]s (copyable references that survive compaction).
    ///
    /// # Panics
    ///
    /// If the item belongs to another arena.
    #[track_caller]
    #[must_use = "the shared object lives until the arena drops or `free` removes it: \
                  without its Forward it cannot be reached"]
    pub fn share<T: 'id>(&self, item: Item<'_, T>) -> Forward<'id, T> {
        self.check_owned(&item);
        let p = item.untagged();
        core::mem::forget(item);
        /// Drops a shared `T`.
        ///
        /// # Safety
        ///
        /// `p` is a live shared `T` never used again (any address for a
        /// zero-sized `T`).
        unsafe fn drop_shared<T>(p: *mut u8) {
            let p = if size_of::<T>() == 0 {
                NonNull::<T>::dangling().as_ptr()
            } else {
                p.cast::<T>()
            };
            // SAFETY: the caller hands over a valid `T`.
            unsafe { core::ptr::drop_in_place(p) }
        }
        let place = self.raw.place(p.cast(), size_of::<T>());
        let (index, generation) = self.raw.core().cells.acquire(place, Some(drop_shared::<T>));
        // SAFETY: the cell tracks the item's live `T`, now owned by the
        // arena (dropped through the cell's glue, or by `free`).
        unsafe { Forward::new(index, generation) }
    }

    /// Removes a shared object, returning its value, or `None` if it was
    /// already freed (through another copy of the `Forward`).
    pub fn free<T>(&mut self, forward: Forward<'id, T>) -> Option<T> {
        let p = forward.live_addr(self)?;
        // SAFETY: 1. the cell tracks a live shared `T` of this arena (the
        // brand and generation match); 2. `&mut self` rules out any
        // reference to it; 3. the value is read out once, then its space is
        // marked dead and the cell released, so no `Forward` reads it again.
        unsafe {
            let value = p.read();
            if size_of::<T>() != 0 {
                release(p.cast(), self.raw.tag(p).addr().get(), size_of::<T>());
            }
            self.raw.core().cells.release(forward.index());
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
    #[track_caller]
    #[must_use = "a token not redeemed leaves its object in the region, unreachable"]
    pub fn tokenize<'c, 'g, T: ?Sized>(
        &self,
        guard: &'c Guard<'g>,
        item: Item<'_, T>,
    ) -> impl for<'b> FnOnce(&'b Arena<'id, N>) -> Item<'b, T> + use<'c, 'g, 'id, N, T> {
        let _ = guard;
        self.check_owned(&item);
        let untagged = item.untagged();
        let ptr = item.into_raw();
        let core = self.raw.core();
        // SAFETY: a live value (the item's).
        let size = size_of_val(unsafe { untagged.as_ref() });
        let (index, _) = core
            .cells
            .acquire(self.raw.place(untagged.cast(), size), None);
        core.token_created();
        let token = ItemToken::<'c, 'id, T> {
            ptr,
            index,
            core: self.raw.block(),
            _marker: PhantomData,
        };
        redeemer(move |arena: &Arena<'id, N>| token.redeem(arena))
    }

    /// Turns a whole value holding items (fields, elements, map values,
    /// nested structs) into one token, redeemed with [`Token::redeem`] after
    /// compaction as the same value, every item forwarded.
    ///
    /// The items stay in place: a `Vec<Item<..>>` keeps its buffer, whose
    /// elements the compactor rewrites (only the value itself, e.g. the
    /// `Vec`'s three words, is moved into a small box the compactor can
    /// reach).
    ///
    /// # Panics
    ///
    /// If `value` holds an item of another arena (before changing anything).
    #[track_caller]
    #[must_use = "a token not redeemed leaves its objects in the region, unreachable"]
    pub fn tokenize_all<'c, 'g, S: Rebrand>(
        &self,
        guard: &'c Guard<'g>,
        value: S,
    ) -> Token<'c, 'id, S::Branded<'static>> {
        let _ = guard;
        let mut value = value;
        let mut census = Census {
            owns: |p| self.raw.contains_tagged(p),
            foreign: false,
        };
        value.visit_refs(&mut census);
        assert!(
            !census.foreign,
            "tokenize_all: the value holds an Item of another region"
        );
        let value = ManuallyDrop::new(value);
        // SAFETY: 1. `S` and `S::Branded<'static>` differ only in the region
        // lifetime (`Rebrand`), and the value is read out once; 2. every
        // item in it belongs to this region (checked above).
        unsafe {
            // Lifetimes never change a layout, so this holds for every
            // correct `Rebrand` impl; checked in every build (two constants,
            // folded away) since the read below relies on it.
            assert_eq!(size_of::<S>(), size_of::<S::Branded<'static>>());
            let erased = (&*value as *const S).cast::<S::Branded<'static>>().read();
            Token::new(erased, &self.raw)
        }
    }

    /// [`tokenize_all`](Self::tokenize_all) with the single-item call shape:
    /// the token is a (boxed) closure, redeemed by calling it with the
    /// arena, `token(&arena)`.
    ///
    /// It costs one more small allocation than `tokenize_all`. (`tokenize`
    /// itself cannot take whole values: see `docs/notes/region.md`.)
    ///
    /// # Panics
    ///
    /// As [`tokenize_all`](Self::tokenize_all).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// make_guard!(guard);
    /// let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    /// let garbage = arena.allocate::<u64>(&state).unwrap();
    /// let list = vec![arena.allocate_value(&state, 7u32).unwrap()];
    /// make_guard!(compact);
    /// let token = arena.tokenize_boxed(&compact, list);
    /// drop(garbage);
    /// let state = arena.compact(&compact, state);
    /// let list = token(&arena);
    /// let _state = arena.finish(compact, state);
    /// assert_eq!(*list[0], 7);
    /// ```
    #[allow(clippy::type_complexity)]
    #[track_caller]
    #[must_use = "a token not redeemed leaves its objects in the region, unreachable"]
    pub fn tokenize_boxed<'c, 'g, S: Rebrand>(
        &self,
        guard: &'c Guard<'g>,
        value: S,
    ) -> Box<
        dyn for<'b> FnOnce(&'b Arena<'id, N>) -> <S::Branded<'static> as Rebrand>::Branded<'b> + 'c,
    >
    where
        'id: 'c,
        S::Branded<'static>: 'c,
    {
        let token = self.tokenize_all(guard, value);
        Box::new(move |arena: &Arena<'id, N>| token.redeem(arena))
    }

    /// Starts compacting: consumes the allocation state (so every item is
    /// dead or a token) and slides every live object down in address order,
    /// each moving at most once, so that all free space forms one block at
    /// the end. Tokens and `Forward`s follow their objects.
    ///
    /// # Panics
    ///
    /// Before moving anything, if an object in the region holds an `Item`
    /// of another region. (A `visit_refs` that panics once the rewriting
    /// has started aborts the process: the region could not be left
    /// half-moved.)
    #[track_caller]
    #[must_use = "the compaction lasts until `finish` takes this back with the guard"]
    pub fn compact<'g>(&mut self, guard: &Guard<'g>, state: State<'id>) -> Compacting<'id, 'g> {
        let _ = (guard, state);
        // SAFETY: `&mut self` means no item, redeemed item or reference
        // read through a `Forward` is live.
        unsafe { self.raw.compact() };
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

    /// Space statistics: live bytes (in granules) and the region's capacity.
    pub fn stats(&self) -> SpaceStats {
        let s = self.region_stats();
        SpaceStats::new(s.live_bytes, s.capacity)
    }

    /// Detailed space figures (counts the dead bitmap: O(capacity / 512)).
    pub fn region_stats(&self) -> RegionStats {
        let top = self.raw.top();
        let dead = self.raw.dead_granules();
        let padding = self.raw.core().padding.get();
        let live = top - dead * GRANULE;
        RegionStats {
            capacity: self.raw.capacity(),
            live_objects: self.raw.live_objects(),
            live_bytes: live,
            live_block_bytes: live,
            hole_bytes: (dead - padding) * GRANULE,
            padding_bytes: padding * GRANULE,
            tail_bytes: self.raw.capacity() - top,
        }
    }

    /// Bytes of the region.
    pub fn capacity(&self) -> usize {
        self.raw.capacity()
    }

    /// Bytes free at the end of the region, where allocation happens.
    pub fn available(&self) -> usize {
        self.raw.capacity() - self.raw.top()
    }

    /// Drops the shared objects from cell `from` on.
    fn drop_shared_from(&mut self, from: usize) {
        /// Continues with the next cells if a destructor panics.
        struct Resume<'r, 'id, const N: usize> {
            arena: &'r mut Arena<'id, N>,
            from: usize,
        }
        impl<const N: usize> Drop for Resume<'_, '_, N> {
            fn drop(&mut self) {
                let from = self.from;
                self.arena.drop_shared_from(from);
            }
        }
        let mut from = from;
        while let Some((next, drop_fn, place)) = self.raw.core().cells.take_shared(from) {
            let addr = if place == NOWHERE {
                // A zero-sized value: its glue ignores the address.
                NonNull::<u64>::dangling().as_ptr().cast()
            } else {
                self.raw.at(place).as_ptr()
            };
            let resume = Resume {
                arena: self,
                from: next,
            };
            // SAFETY: a live shared object owned by the arena, its cell
            // released first so it is dropped once even if this panics.
            unsafe { drop_fn(addr) };
            core::mem::forget(resume);
            from = next;
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
        /// Releases the block (or leaves it to the outstanding tokens) even
        /// if a destructor panics.
        struct Release(NonNull<super::raw::Core>);
        impl Drop for Release {
            fn drop(&mut self) {
                // SAFETY: the arena's block; the arena is gone after this.
                unsafe { super::raw::Core::arena_gone(self.0) };
            }
        }
        let _release = Release(self.raw.block());
        self.drop_shared_from(0);
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

// Memory maps (`crate::memory_map`).
impl<const N: usize> Arena<'_, N> {
    /// A map of the region's memory: one block, with the region's
    /// bookkeeping as its header, the dead bitmap as metadata, then the
    /// object area granule by granule: live objects, dead ones (free: the
    /// holes [`compact`](Self::compact) reclaims, alignment padding among
    /// them) and the free room at the end. Live bytes are
    /// [`stats`](Self::stats)' live bytes; live and free bytes add up to
    /// the capacity.
    ///
    /// ```
    /// use managed::memory_map::SpanKind;
    /// use managed::prelude::*;
    ///
    /// make_guard!(guard);
    /// let (arena, state): (Arena<'_, 4096>, _) = Arena::new(guard);
    /// let items: Vec<_> = (0..64).map(|_| arena.allocate::<u64>(&state).unwrap()).collect();
    /// let kept: Vec<_> = items.into_iter().step_by(4).collect();
    /// let map = arena.memory_map();
    /// assert_eq!(map.bytes(SpanKind::Live), kept.len() * 8);
    /// assert_eq!(map.bytes(SpanKind::Live) + map.bytes(SpanKind::Free), arena.capacity());
    /// drop(kept);
    /// ```
    #[must_use]
    pub fn memory_map(&self) -> crate::memory_map::MemoryMap {
        let mut map = crate::memory_map::MemoryMap::new(alloc::format!(
            "region Arena ({} bytes)",
            self.capacity()
        ));
        self.raw.map_into(&mut map);
        map
    }
}
