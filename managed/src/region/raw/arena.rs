//! [`Arena`]'s pointer machinery: writing fresh values into reserved space
//! and tagging their items, handing items over to the arena as shared
//! objects (and taking them back), turning items and whole values into
//! tokens, starting the compactor, and dropping the shared objects when
//! the arena goes. The public methods in `region::arena` call these, which
//! are safe to call: each takes the borrows (`&'a State<'id>`, the
//! compaction guard, `&mut self`) its soundness argument rests on, and
//! checks that items belong to this arena.
//!
//! Invariant: an `Item<'a, T>` made here borrows the arena and the
//! allocation state for `'a`, so no compaction moves its object while it
//! lives; compaction needs `&mut self` and the state.

use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use generativity::Guard;
use scopeguard::ScopeGuard;

use crate::error::{AllocError, AllocValueError};
use crate::region::{Arena, Forward, Item, Rebrand, State, Token};
use crate::visit::Managed;

use super::GRANULE;
use super::cells::NOWHERE;
use super::forward::{SLICE_HEAD, Shared};
use super::token::{Census, ItemToken};
use super::{RegionCore, Visits, release};

impl<'id, const N: usize> Arena<'id, N> {
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

    /// Moves `value` into fresh space ([`Arena::alloc`]).
    #[inline]
    pub(in crate::region) fn emplace<'a, T: Managed>(
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

    /// Builds the value `f` returns in fresh space ([`Arena::alloc_with`]).
    pub(in crate::region) fn emplace_with<'a, T: Managed>(
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
        // SAFETY: as in `emplace`.
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

    /// Copies `src` into fresh space ([`Arena::alloc_slice`]).
    pub(in crate::region) fn copy_slice<'a, T: Copy>(
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

    /// Fills fresh space with `len` copies of `value`
    /// ([`Arena::alloc_slice_fill`]).
    pub(in crate::region) fn fill_slice<'a, T: Copy>(
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

    /// Panics unless the item's value is in this region (a zero-sized
    /// value belongs to no region, and to every one).
    #[track_caller]
    fn check_owned<T: ?Sized>(&self, item: &Item<'_, T>) {
        assert!(
            size_of_val(&**item) == 0 || self.raw.contains(item.as_ptr().addr()),
            "this Item belongs to another region"
        );
    }

    /// Hands an item's object over to the arena ([`Arena::share`]).
    ///
    /// # Panics
    ///
    /// If the item belongs to another arena.
    #[track_caller]
    pub(in crate::region) fn share_item<T: 'id>(&self, item: Item<'_, T>) -> Forward<'id, T> {
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
        let (index, generation) = self.raw.core().cells.acquire(place, drop_shared::<T>);
        // SAFETY: the cell tracks the item's live `T`, now owned by the
        // arena (dropped through the cell's glue, or by `take_shared`).
        unsafe { Forward::new(index, generation) }
    }

    /// Takes a shared object's value out of the arena ([`Arena::remove`]).
    pub(in crate::region) fn take_shared<T>(&mut self, forward: Forward<'id, T>) -> Option<T> {
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

    /// Copies `src` into a fresh shared slice ([`Arena::alloc_shared_slice`]):
    /// its length, one word, then its elements, in one object.
    pub(in crate::region) fn share_slice<T: Copy + 'id>(
        &self,
        src: &[T],
    ) -> Result<Forward<'id, [T]>, AllocError> {
        const {
            assert!(
                align_of::<T>() <= GRANULE,
                "shared slices hold elements aligned to at most 8"
            )
        };
        let bytes = slice_bytes::<T>(src.len())?;
        let head = self.raw.reserve(bytes, GRANULE)?;
        // SAFETY: 1. the fresh space holds the length word and `len`
        // elements, aligned for both (at most 8, checked at compile time);
        // 2. `Copy` elements are duplicated bitwise.
        unsafe {
            head.cast::<usize>().write(src.len());
            let elements = head.add(SLICE_HEAD).cast::<T>();
            core::ptr::copy_nonoverlapping(src.as_ptr(), elements.as_ptr(), src.len());
        }
        let place = self.raw.place(head, bytes);
        let (index, generation) = self.raw.core().cells.acquire(place, drop_nothing);
        // SAFETY: the cell tracks a live shared `[T]`, laid out as `Shared`
        // for slices reads it, owned by the arena (nothing to drop).
        Ok(unsafe { Forward::new(index, generation) })
    }

    /// The first granule, the length and the live bytes (whole granules:
    /// the length word and the elements) of a live shared slice.
    fn slice_head<T: Copy>(
        &self,
        forward: Forward<'id, [T]>,
    ) -> Option<(NonNull<u8>, usize, usize)> {
        let elements = forward.live_addr(self)?;
        // SAFETY: a shared slice's elements follow its length word, in the
        // same object (`Shared` for slices).
        let head = unsafe { elements.cast::<u8>().sub(SLICE_HEAD) };
        let len = elements.len();
        let live = (SLICE_HEAD + len * size_of::<T>()).next_multiple_of(GRANULE);
        Some((head, len, live))
    }

    /// Resizes a shared slice to `new_len` ([`Arena::resize_shared`]);
    /// `None` if it was removed.
    ///
    /// A slice's granules are its live ones (its length word and elements)
    /// and, right after them, its *room* (recorded in its cell): granules
    /// it keeps to grow into, dead in the bitmap, so that a compaction
    /// reclaims them (and forgets every room). A slice grows in place into
    /// its room, or at the region's top when its room ends there, and
    /// otherwise moves to the top with room to double into; a shrunk slice
    /// marks its spare granules dead and adds them to its room.
    pub(in crate::region) fn resize_slice<T: Copy>(
        &mut self,
        forward: Forward<'id, [T]>,
        new_len: usize,
        value: T,
    ) -> Option<Result<(), AllocError>> {
        let (head, len, live) = self.slice_head(forward)?;
        let bytes = match slice_bytes::<T>(new_len) {
            Ok(bytes) => bytes,
            Err(e) => return Some(Err(e)),
        };
        let needed = bytes.next_multiple_of(GRANULE);
        let room = self.raw.core().cells.room(forward.index()) as usize * GRANULE;
        let held = live + room;
        // SAFETY: the end of the slice's room, in its block.
        let end = unsafe { head.add(held) };
        let in_place = needed <= held || self.raw.extend_at_top(end, needed - held);
        if in_place {
            // The room's granules it needs now (those added at the top, past
            // the room, are live in the bitmap already).
            let revived = needed.min(held).saturating_sub(live);
            let held = held.max(needed);
            // SAFETY: 1. `&mut self` rules out any reference to the object;
            // 2. its granules `live..held` are its room (dead, no other
            // object's since they were given to it: every compaction
            // forgets the rooms) or were just added at the top (live there
            // already): the dead ones it now needs are marked live again;
            // the live ones it no longer needs are its own, below the top,
            // and are marked dead; 3. the new elements lie in `needed`
            // bytes from the head.
            unsafe {
                if revived > 0 {
                    self.raw.mark(head.add(live), revived, false);
                } else if needed < live {
                    self.raw.mark(head.add(needed), live - needed, true);
                }
                let elements = head.add(SLICE_HEAD).cast::<T>();
                for i in len..new_len {
                    elements.add(i).write(value);
                }
                head.cast::<usize>().write(new_len);
            }
            let room = (held - needed) / GRANULE;
            // Below 2^32: the region's capacity is, in granules.
            self.raw.core().cells.set_room(forward.index(), room as u32);
            return Some(Ok(()));
        }
        // Moving: with room to double into (a run of pushes then moves it
        // a logarithmic number of times) while that leaves a quarter of the
        // region free, else only what it needs (room is dead space until
        // the next compaction: a full region spends none on it).
        let roomy = needed.max(live.saturating_mul(2));
        let capacity = self.raw.capacity();
        let spare = capacity - self.raw.top();
        let room_fits = roomy <= spare && spare - roomy >= capacity / 4;
        let reserved = if room_fits { roomy } else { needed };
        let new = match self.raw.reserve(reserved, GRANULE) {
            Ok(new) => new,
            Err(e) => return Some(Err(e)),
        };
        // SAFETY: 1. `new` is fresh space for the length word and
        // `new_len` elements (and room past them, marked dead at once),
        // disjoint from the old object, both in this region's block; 2.
        // `&mut self` rules out any reference to the old object, whose
        // `len` elements are copied, then its live granules marked dead
        // (its room is dead already) and counted released, and the cell
        // pointed at the new one, so no `Forward` reads the old one again.
        unsafe {
            let from = head.add(SLICE_HEAD).cast::<T>();
            let to = new.add(SLICE_HEAD).cast::<T>();
            core::ptr::copy_nonoverlapping(from.as_ptr(), to.as_ptr(), len);
            for i in len..new_len {
                to.add(i).write(value);
            }
            if reserved > needed {
                self.raw.mark(new.add(needed), reserved - needed, true);
            }
            new.cast::<usize>().write(new_len);
            release(head, self.raw.tag(head).addr().get(), live);
        }
        let place = self.raw.place(new, bytes);
        let cells = &self.raw.core().cells;
        cells.set_place(forward.index(), place);
        cells.set_room(forward.index(), ((reserved - needed) / GRANULE) as u32);
        Some(Ok(()))
    }

    /// The object of `forward`, exclusively, and a view of the others
    /// ([`Arena::split_mut`]); `None` if it was removed.
    pub(in crate::region) fn split_cell<T: ?Sized + Shared>(
        &mut self,
        forward: Forward<'id, T>,
    ) -> Option<(&mut T, super::others::Others<'_, 'id, N>)> {
        let mut lent = forward.live_addr(self)?;
        let this: &Self = self;
        // SAFETY: 1. a live shared object of this arena, which stays in
        // place while `self` is borrowed exclusively (for the results'
        // lifetime); 2. the exclusive borrow rules out every other
        // reference to it but those `Others` could make, and `Others`
        // makes none to the object of this cell (its invariant), while
        // other cells track other objects, which do not overlap this one.
        unsafe {
            Some((
                lent.as_mut(),
                super::others::Others::new(this, forward.index()),
            ))
        }
    }

    /// Exchanges the objects two `Forward`s of one type refer to
    /// ([`Arena::swap_shared`]); false if either was removed.
    pub(in crate::region) fn swap_cells<T: ?Sized + Shared>(
        &mut self,
        a: Forward<'id, T>,
        b: Forward<'id, T>,
    ) -> bool {
        let cells = &self.raw.core().cells;
        if cells.place(a.index(), a.generation()).is_none()
            || cells.place(b.index(), b.generation()).is_none()
        {
            return false;
        }
        // Each cell now tracks the other's object (and its room). Both
        // objects are of type `T` (the `Forward`s' type), so each cell's
        // drop glue, which is `T`'s, fits its new object; the compactor
        // moves objects by the bitmap and rewrites every cell's place,
        // whichever object it names. No reference to either object is live
        // (`&mut self`).
        cells.swap_objects(a.index(), b.index());
        true
    }

    /// The shared objects of `forwards`, each exclusively
    /// ([`Arena::get_disjoint_mut`]); `None` if one was removed or two
    /// name the same object.
    pub(in crate::region) fn shared_disjoint_mut<T: ?Sized + Shared, const M: usize>(
        &mut self,
        forwards: [Forward<'id, T>; M],
    ) -> Option<[&mut T; M]> {
        for (i, f) in forwards.iter().enumerate() {
            // A cell tracks one object, and an object has one cell (made
            // when it was shared): different cells are different objects.
            if forwards[..i].iter().any(|g| g.index() == f.index()) {
                return None;
            }
        }
        let places = forwards.map(|f| f.live_addr(self));
        if places.iter().any(Option::is_none) {
            return None;
        }
        // SAFETY: 1. each object is live (its generation matched) and
        // stays put while `self` is borrowed exclusively; 2. the cells are
        // pairwise different, so the objects are (each object has one
        // cell), and objects do not overlap (a zero-sized one overlaps
        // nothing); 3. `&mut self` rules out any other reference to them;
        // 4. every place is `Some` (just checked).
        Some(places.map(|p| unsafe { p.unwrap_unchecked().as_mut() }))
    }

    /// Frees a shared slice ([`Arena::remove_slice`]); false if it was
    /// already removed.
    pub(in crate::region) fn take_slice<T: Copy>(&mut self, forward: Forward<'id, [T]>) -> bool {
        let Some((head, _, live)) = self.slice_head(forward) else {
            return false;
        };
        // SAFETY: 1. the cell tracks a live shared slice of this arena
        // (brand and generation match) of `live` live bytes (its room is
        // dead already); 2. `&mut self` rules out any reference to it; 3.
        // its live granules are marked dead and the cell released, so no
        // `Forward` reads it again.
        unsafe { release(head, self.raw.tag(head).addr().get(), live) };
        self.raw.core().cells.release(forward.index());
        true
    }

    /// Turns an item into a single-item token ([`Arena::tokenize`]),
    /// borrowing the compaction guard for `'c`.
    ///
    /// # Panics
    ///
    /// If the item belongs to another arena.
    #[inline]
    #[track_caller]
    pub(in crate::region) fn item_token<'c, 'g, T: ?Sized>(
        &self,
        guard: &'c Guard<'g>,
        item: Item<'_, T>,
    ) -> ItemToken<'c, 'id, T> {
        let _ = guard;
        self.check_owned(&item);
        let untagged = item.untagged();
        // SAFETY: a live value (the item's).
        let size = size_of_val(unsafe { untagged.as_ref() });
        if size == 0 {
            core::mem::forget(item);
            // SAFETY: the item's untagged address of a zero-sized value,
            // whose item was given up to the token.
            return unsafe { ItemToken::zero_sized(untagged) };
        }
        let core = self.raw.core();
        // The block's alignment bounds the entry index (the token keeps it
        // in the address bits below it).
        let index = core.token_places.acquire(
            self.raw.place(untagged.cast(), size),
            self.raw.block_align(),
        );
        let tagged = item.into_raw();
        // SAFETY: 1. `tagged` is the item's tagged address, in this region
        // (checked above), whose tagged block this is; 2. the entry tracks
        // its live object, whose item was given up to the token; 3. the
        // index is below the block's alignment (`acquire`'s limit).
        unsafe { ItemToken::new(tagged, self.raw.tagged_block(), index) }
    }

    /// Turns a whole value holding items into a token
    /// ([`Arena::tokenize_all`]), borrowing the compaction guard for `'c`.
    ///
    /// # Panics
    ///
    /// If `value` holds an item of another arena (before changing anything).
    #[track_caller]
    pub(in crate::region) fn whole_token<'c, 'g, S: Rebrand>(
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

    /// Slides every live object down ([`Arena::compact`]).
    ///
    /// # Panics
    ///
    /// As [`Arena::compact`].
    #[track_caller]
    pub(in crate::region) fn compact_objects(&mut self, mut state: State<'id>) {
        // Consuming the state proves at least what borrowing it does.
        self.compact_objects_in_place(&mut state);
    }

    /// [`compact_objects`](Self::compact_objects) keeping the state, for
    /// `Arena::compact_in_place`.
    ///
    /// # Panics
    ///
    /// As [`Arena::compact`].
    #[track_caller]
    pub(in crate::region) fn compact_objects_in_place(&mut self, state: &mut State<'id>) {
        let _ = state;
        // SAFETY: `&mut self` means no item, redeemed item or reference
        // read through a `Forward` is live; the exclusive borrow of the
        // arena's one state means no item borrowing it is either, and that
        // the arena is not between `compact` and `finish` (which hold no
        // state).
        unsafe { self.raw.compact() };
        self.compactions += 1;
    }

    /// Drops the shared objects from cell `from` on.
    fn drop_shared_from(&mut self, from: usize) {
        let mut from = from;
        while let Some((next, drop_fn, place)) = self.raw.core().cells.take_shared(from) {
            let addr = if place == NOWHERE {
                // A zero-sized value: its glue ignores the address.
                NonNull::<u64>::dangling().as_ptr().cast()
            } else {
                self.raw.at(place).as_ptr()
            };
            // Continues with the next cells if a destructor panics.
            let resume = scopeguard::guard(next, |next| self.drop_shared_from(next));
            // SAFETY: a live shared object owned by the arena, its cell
            // released first so it is dropped once even if this panics.
            unsafe { drop_fn(addr) };
            ScopeGuard::into_inner(resume);
            from = next;
        }
    }
}

impl<const N: usize> Drop for Arena<'_, N> {
    fn drop(&mut self) {
        // Releases the block (or leaves it to the outstanding tokens) even
        // if a destructor panics.
        let _release = scopeguard::guard(self.raw.block(), |block| {
            // SAFETY: the arena's block; the arena is gone after this.
            unsafe { RegionCore::arena_gone(block) };
        });
        self.drop_shared_from(0);
    }
}

/// Bytes of a shared slice of `len` elements: its length word and them.
fn slice_bytes<T>(len: usize) -> Result<usize, AllocError> {
    size_of::<T>()
        .checked_mul(len)
        .and_then(|b| b.checked_add(SLICE_HEAD))
        .ok_or(AllocError::CapacityOverflow)
}

/// The drop glue of a shared slice: its elements are `Copy`.
///
/// # Safety
///
/// None needed: it does nothing.
unsafe fn drop_nothing(_: *mut u8) {}
