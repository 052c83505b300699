//! The token machinery: every `unsafe impl` of [`Rebrand`] (the leaf
//! types, `Item`, `Forward`'s sits with it in `forward`, the std
//! containers), the ownership [`Census`] visitor, and the two kinds of
//! tokens: [`ItemToken`] (an entry of the token table tracks its object)
//! and [`Token`] (a boxed value registered in the region's whole-value
//! list, whose items the compactor rewrites in place). Invariant: a token
//! holds the region block while it lives, so the block outlives it even
//! when the arena is dropped first: a whole-value token counts itself in
//! the region's token count; a single-item token's entry in use stands for
//! it, counted in when the arena goes (see `RegionCore::tokens`); a
//! single-item token of a zero-sized value holds nothing of the region.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;
#[cfg(feature = "std")]
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;
use core::num::NonZeroUsize;
use core::ptr::NonNull;
#[cfg(feature = "std")]
use std::collections::{HashMap, HashSet};

use generativity::Id;
use scopeguard::{ScopeGuard, guard};

use crate::region::{Arena, Item, Rebrand};
use crate::visit::{Managed, Visitor};

use super::{ADDR_MASK, RawRegion, RegionCore, TAG_SHIFT, Visits, untag};

/// Implements `Rebrand` for types without region lifetimes.
macro_rules! same {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: the type has no lifetime: `Branded` is `Self`.
        unsafe impl Rebrand for $t {
            type Branded<'b> = $t;
        }
    )*};
}

crate::visit::leaf_types!(same);

// SAFETY: substitutes the region lifetime of the item and of its value.
unsafe impl<'a, T: Rebrand> Rebrand for Item<'a, T> {
    type Branded<'b> = Item<'b, T::Branded<'b>>;
}

// SAFETY: a slice of `Copy` elements holds no region reference; only the
// item's own lifetime changes.
unsafe impl<'a, T: Copy + 'static> Rebrand for Item<'a, [T]>
where
    [T]: Managed,
{
    type Branded<'b> = Item<'b, [T]>;
}

// SAFETY: a `PhantomData` holds nothing; its parameter is substituted.
unsafe impl<T: Rebrand> Rebrand for PhantomData<T> {
    type Branded<'b> = PhantomData<T::Branded<'b>>;
}

// SAFETY: the payload's region lifetime is substituted.
unsafe impl<T: Rebrand> Rebrand for Option<T> {
    type Branded<'b> = Option<T::Branded<'b>>;
}

// SAFETY: both payloads' region lifetimes are substituted.
unsafe impl<T: Rebrand, E: Rebrand> Rebrand for Result<T, E> {
    type Branded<'b> = Result<T::Branded<'b>, E::Branded<'b>>;
}

// SAFETY: the boxed value's region lifetime is substituted.
unsafe impl<T: Rebrand> Rebrand for Box<T> {
    type Branded<'b> = Box<T::Branded<'b>>;
}

// SAFETY: the elements' region lifetime is substituted.
unsafe impl<T: Rebrand> Rebrand for Vec<T> {
    type Branded<'b> = Vec<T::Branded<'b>>;
}

// SAFETY: the elements' region lifetime is substituted.
unsafe impl<T: Rebrand> Rebrand for VecDeque<T> {
    type Branded<'b> = VecDeque<T::Branded<'b>>;
}

// SAFETY: the elements' region lifetime is substituted.
unsafe impl<T: Rebrand, const N: usize> Rebrand for [T; N] {
    type Branded<'b> = [T::Branded<'b>; N];
}

#[cfg(feature = "std")]
// SAFETY: keys and hasher are `'static` (no region lifetime); the values'
// region lifetime is substituted. (Region items have no `Hash` or `Ord`,
// so they are never keys.)
unsafe impl<K, T, S> Rebrand for HashMap<K, T, S>
where
    K: Managed + Eq + Hash + 'static,
    T: Rebrand,
    S: BuildHasher + 'static,
{
    type Branded<'b> = HashMap<K, T::Branded<'b>, S>;
}

#[cfg(feature = "std")]
// SAFETY: `'static` keys and hasher: `Branded` is `Self`.
unsafe impl<K, S> Rebrand for HashSet<K, S>
where
    K: Managed + Eq + Hash + 'static,
    S: BuildHasher + 'static,
{
    type Branded<'b> = HashSet<K, S>;
}

// SAFETY: as for `HashMap`.
unsafe impl<K, T> Rebrand for BTreeMap<K, T>
where
    K: Managed + Ord + 'static,
    T: Rebrand,
{
    type Branded<'b> = BTreeMap<K, T::Branded<'b>>;
}

// SAFETY: as for `HashSet`.
unsafe impl<K> Rebrand for BTreeSet<K>
where
    K: Managed + Ord + 'static,
{
    type Branded<'b> = BTreeSet<K>;
}

// SAFETY: `T: 'static` has no region lifetime: `Branded` is `Self`.
unsafe impl<T: 'static> Rebrand for crate::Static<T> {
    type Branded<'b> = crate::Static<T>;
}

macro_rules! tuple {
    ($($name:ident)+) => {
        // SAFETY: every element's region lifetime is substituted.
        unsafe impl<$($name: Rebrand),+> Rebrand for ($($name,)+) {
            type Branded<'b> = ($($name::Branded<'b>,)+);
        }
    };
}

tuple!(A);
tuple!(A B);
tuple!(A B C);
tuple!(A B C D);
tuple!(A B C D E);
tuple!(A B C D E F);
tuple!(A B C D E F G);
tuple!(A B C D E F G H);

/// Observes that every visited reference belongs to one region.
pub(crate) struct Census<F> {
    pub(crate) owns: F,
    pub(crate) foreign: bool,
}

// SAFETY: observes only: never writes `target`, never keeps it.
unsafe impl<F: Fn(usize) -> bool> Visitor for Census<F> {
    #[inline]
    fn writes(&self) -> bool {
        false
    }

    #[inline]
    fn visit(&mut self, target: &mut NonNull<u8>) {
        if !(self.owns)(target.addr().get()) {
            self.foreign = true;
        }
    }
}

/// Stops the process: a single-item token redeemed with another arena
/// than its own.
///
/// Safe code cannot get here: a token's brand `'id` is unique to its
/// arena, and `redeem` takes only that arena. The check stays in every
/// build all the same, and this function makes it abort rather than
/// unwind: it is `extern "C"`, which cannot unwind, so its panic prints
/// the message and aborts. A call that could unwind would make a loop of
/// redeems (`tokens.into_iter().map(|t| t(&arena)).collect()`) keep the
/// collecting iterator's state in memory for the unwinding, three stores
/// per token besides the two a redeem makes.
#[cold]
#[inline(never)]
extern "C" fn foreign() -> ! {
    panic!("a token redeemed with another arena")
}

/// A guard that lets go of a token's hold on the region block when
/// dropped (also when a destructor panics).
///
/// # Safety
///
/// `core` is the live block of a token that is counted (in the region's
/// token count), and is done with the block once the guard drops.
unsafe fn gone(
    core: NonNull<RegionCore>,
) -> ScopeGuard<NonNull<RegionCore>, impl FnOnce(NonNull<RegionCore>)> {
    guard(core, |core| {
        // SAFETY: the caller's contract.
        unsafe { RegionCore::token_gone(core) }
    })
}

/// The single-item token inside the closure [`Arena::tokenize`] returns:
/// one word for a sized `T` (the closures of a `Vec` of tokens take no more
/// room than the items they were made from).
pub(crate) struct ItemToken<'c, 'id, T: ?Sized> {
    /// The item's pointer (for its metadata and provenance), its address
    /// replaced:
    ///
    /// - for a value of non-zero size, by the item's tagged address with
    ///   its low `k` bits (`k` being the tag: the block is aligned to
    ///   `1 << k`, see the module docs of `raw`) replaced by the index of
    ///   the token-table entry tracking the object: `tag | block | index`;
    /// - for a zero-sized value, by its untagged address (tag bits 0; no
    ///   region memory, no entry, not counted).
    ///
    /// Invariant: while a token of the first kind lives, it owns its entry
    /// (in use, tracking its live object), which holds the block: the
    /// arena counts the entries in use into the region's token count when
    /// it goes, so the block stays allocated.
    word: NonNull<T>,
    /// Borrows the compaction guard for `'c`, is branded with the arena's
    /// `'id`, owns a `T`, and is neither `Send` nor `Sync`.
    _marker: PhantomData<(&'c (), Id<'id>, *mut T)>,
}

/// The low bits of a tagged address that address within its block (below
/// the block's alignment), for a tag that is not 0.
#[inline(always)]
fn in_block(tagged: usize) -> usize {
    (1 << (tagged >> TAG_SHIFT)) - 1
}

impl<'c, 'id, T: ?Sized> ItemToken<'c, 'id, T> {
    /// The token of a zero-sized value at the untagged address `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` is an item's untagged address of a zero-sized value, owned by
    /// the token from now on.
    #[inline]
    pub(super) unsafe fn zero_sized(ptr: NonNull<T>) -> Self {
        // Part of the encoding (a zero-sized value's address is dangling,
        // far below the tag bits): checked, off the hot path.
        assert_eq!(ptr.addr().get() >> TAG_SHIFT, 0);
        ItemToken {
            word: ptr,
            _marker: PhantomData,
        }
    }

    /// The token of the item at the tagged address `tagged`, whose value
    /// has a non-zero size and whose place entry `index` of its region's
    /// token table holds.
    ///
    /// # Safety
    ///
    /// `tagged` is an item's tagged address (provenance of the region's
    /// block), of a region whose arena lives and whose
    /// `RawRegion::tagged_block` is `tagged_block`; the entry is in use,
    /// tracking that live object, now owned by the token; and `index` is
    /// below the block's alignment.
    #[inline]
    pub(super) unsafe fn new(tagged: NonNull<T>, tagged_block: usize, index: u32) -> Self {
        // Redundant (the caller's contract, checked by the table).
        debug_assert!((index as usize) <= in_block(tagged_block));
        debug_assert_eq!(tagged.addr().get() & !in_block(tagged_block), tagged_block);
        // SAFETY: the tag bits of a region address are not 0.
        let word =
            tagged.with_addr(unsafe { NonZeroUsize::new_unchecked(tagged_block | index as usize) });
        ItemToken {
            word,
            _marker: PhantomData,
        }
    }

    /// The region block and entry index of a token of a value of non-zero
    /// size, or `None` for a zero-sized value.
    #[inline(always)]
    fn entry(&self) -> Option<(NonNull<RegionCore>, u32)> {
        let w = self.word.addr().get();
        if w >> TAG_SHIFT == 0 {
            return None;
        }
        let low = in_block(w);
        // SAFETY: the block start is not null (it is allocated).
        let block = unsafe { NonZeroUsize::new_unchecked(untag(w) & !low) };
        // The entry index is below the block's alignment (`new`'s
        // contract), so it fits a `u32` (`index`'s own width).
        Some((self.word.cast().with_addr(block), (w & low) as u32))
    }

    /// Releases the token's entry and returns the object's current
    /// (tagged) pointer.
    ///
    /// # Safety
    ///
    /// `core` and `index` are [`entry`](Self::entry)'s, the block is
    /// allocated, and the token is not used again but to let go of it.
    #[inline(always)]
    unsafe fn take(&self, core: NonNull<RegionCore>, index: u32) -> NonNull<T> {
        // SAFETY: 1. the block is allocated (caller); 2. the token owns
        // entry `index`, whose place is its live object's; 3. an address in
        // the block is not null.
        unsafe {
            let place = core.as_ref().token_places.take(index);
            let addr = RegionCore::at(core, place).addr().get();
            let tag = self.word.addr().get() & !ADDR_MASK;
            self.word
                .map_addr(|_| NonZeroUsize::new_unchecked(addr | tag))
        }
    }

    /// Redeems the token: the item, at the object's current address.
    #[inline]
    pub(crate) fn redeem<'b, const N: usize>(self, arena: &'b Arena<'id, N>) -> Item<'b, T> {
        let this = core::mem::ManuallyDrop::new(self);
        let raw = arena.raw();
        let word = this.word.addr().get();
        // Above the entry index, the word of a token of a value of non-zero
        // size of this region is the arena's tagged block. A zero-sized
        // value's word (no tag) never is, nor is the word of another
        // region's token (another block of the same alignment, or another
        // tag). Redundant with the brand (`'id` is invariant and unique to
        // one arena), and one compare per token: checked in every build.
        if word & !raw.in_block() != raw.tagged_block() {
            return Self::redeem_unsized_or_foreign(this, arena);
        }
        let index = (word & raw.in_block()) as u32;
        // SAFETY: 1. the arena is alive, so the block is allocated, and
        // the token, not counted while it lives (see `word`), has nothing
        // to uncount; 2. the token owns entry `index` of this region's
        // table (its word is this region's), and `this` is never dropped,
        // so it is taken once; 3. the entry tracked the live object this
        // token owns, in the arena borrowed for `'b` (the brand `'id` is
        // unique to it), which no compaction can move while `arena` is
        // borrowed; its tagged address keeps the word's provenance, the
        // block's.
        unsafe {
            let place = raw.core().token_places.take(index);
            Item::from_raw(this.word.with_addr(raw.tagged_at(place)))
        }
    }

    /// [`redeem`](Self::redeem) of a token whose word is not one of the
    /// arena's region: a zero-sized value's, or an abort (see
    /// [`foreign`]).
    #[inline(always)]
    fn redeem_unsized_or_foreign<'b, const N: usize>(
        this: core::mem::ManuallyDrop<Self>,
        arena: &'b Arena<'id, N>,
    ) -> Item<'b, T> {
        // `arena` only bounds the item's lifetime, as in `redeem`.
        let _ = arena;
        if this.entry().is_some() {
            foreign();
        }
        // SAFETY: a zero-sized value owned by the token (and `this` is
        // never dropped), at its untagged address: no region memory is
        // involved, so no compaction can move it.
        unsafe { Item::from_raw(this.word) }
    }
}

impl<T: ?Sized> Drop for ItemToken<'_, '_, T> {
    fn drop(&mut self) {
        let Some((core, index)) = self.entry() else {
            // SAFETY: a zero-sized value owned by the token (no region
            // memory); dropping the item drops the value, once.
            let item = unsafe { Item::from_raw(self.word) };
            drop(item);
            return;
        };
        // Once the entry is released, the token holds the block by the
        // count: if the arena is gone, it counted the token in already;
        // otherwise it must be counted now, since the value's destructor
        // may drop the arena. A guard lets go of the block once the value
        // is dropped (also if its destructor panics).
        // SAFETY: 1. the entry in use holds the block (see `word`), so it
        // is allocated; 2. the token owns its entry, taken once here; 3. the
        // token is counted, and done with the block once the value is
        // dropped; 4. the token owns the object, live in the block.
        unsafe {
            let counted = core.as_ref().arena_gone.get();
            let ptr = self.take(core, index);
            if !counted {
                core.as_ref().token_created();
            }
            let _gone = gone(core);
            drop(Item::from_raw(ptr));
        }
    }
}

/// A whole value whose items the compactor keeps current, made by
/// [`Arena::tokenize_all`]; [`redeem`](Token::redeem) gives the value back,
/// holding items at their objects' current addresses.
///
/// The value is moved into a small box registered with the region, so the
/// compactor can rewrite its items in place, whatever the number of
/// compactions before it is redeemed; the buffers it owns (a `Vec`'s
/// elements) stay where they are.
///
/// `E` is the value's type with its region lifetime set to `'static`
/// (`Scene<'static>` for a `Scene<'a>`); it is never used at that lifetime.
/// The token borrows the compaction guard for `'c`, so it cannot outlive
/// [`Arena::finish`]. Dropping it drops the value (and the objects its
/// items own), also after the arena is dropped; forgetting it leaves those
/// objects in the region, never dropped (like forgetting a `Box`).
pub struct Token<'c, 'id, E: Rebrand> {
    /// The boxed value (from `Box::into_raw`).
    value: NonNull<E>,
    /// Its entry in the region's whole-value list.
    entry: usize,
    /// The region block, kept alive by the token count.
    core: NonNull<RegionCore>,
    /// See the type docs; owns an `E`; not `Send` nor `Sync`.
    ///
    /// Invariant in `E`: `redeem` reinterprets the value as
    /// `E::Branded<'b>`, a type computed from `E`, and `E` itself states a
    /// `'static` region lifetime that is never true; no subtype or
    /// supertype of it is ever what was stored. Pinned by
    /// `tests/ui/region/token_is_invariant.rs`.
    _marker: PhantomData<TokenMarker<'c, 'id, E>>,
}

/// Guard borrow, brand, `!Send + !Sync`, and an owned, invariant `E` of a
/// [`Token`].
type TokenMarker<'c, 'id, E> = (&'c (), Id<'id>, *mut (), E, fn(E) -> E);

impl<'c, 'id, E: Rebrand> Token<'c, 'id, E> {
    /// Boxes and registers a tokenized value.
    ///
    /// # Safety
    ///
    /// Every item in `value` is an item of `raw`'s region, and `E` is the
    /// value's type with only its region lifetime changed.
    pub(crate) unsafe fn new(value: E, raw: &RawRegion) -> Self {
        let value = NonNull::from(Box::leak(Box::new(value)));
        let entry = raw.add_whole(value.as_ptr().cast(), Visits::of::<E>());
        raw.core().token_created();
        Token {
            value,
            entry,
            core: raw.block(),
            _marker: PhantomData,
        }
    }

    /// Gives the value back, its items pointing to their objects' current
    /// addresses and living as long as the borrow of `arena`.
    #[track_caller]
    pub fn redeem<'b, const N: usize>(self, arena: &'b Arena<'id, N>) -> E::Branded<'b> {
        // As for single items: redundant with the brand, checked anyway.
        assert_eq!(
            self.core,
            arena.raw().block(),
            "a token redeemed with another arena"
        );
        // As in `tokenize_all`: folded away, checked in every build.
        assert_eq!(size_of::<E>(), size_of::<E::Branded<'b>>());
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: 1. the entry is unregistered before the box is taken back
        // (once: `this` is never dropped); 2. `E` and `E::Branded<'b>`
        // differ only in the region lifetime (`Rebrand` contract), so the
        // bits are a valid `E::Branded<'b>`; 3. every item points to its
        // live object (the compactor rewrote them) in the arena borrowed for
        // `'b`; 4. the arena is alive, so the count does not free the block.
        unsafe {
            let core = this.core.as_ref();
            core.remove_whole(this.entry);
            let value = *Box::from_raw(this.value.as_ptr());
            RegionCore::token_gone(this.core);
            let value = core::mem::ManuallyDrop::new(value);
            (&*value as *const E).cast::<E::Branded<'b>>().read()
        }
    }
}

impl<E: Rebrand> Drop for Token<'_, '_, E> {
    fn drop(&mut self) {
        // SAFETY: the token counted itself, so the block is allocated.
        unsafe { self.core.as_ref() }.remove_whole(self.entry);
        // SAFETY: 1. the token counted itself; the guard lets go of the
        // block once the value is dropped, also if a destructor panics;
        // 2. the box is taken back once; its items point to their live
        // objects (its `'static` region lifetime is never observed: dropping
        // only runs destructors).
        unsafe {
            let _gone = gone(self.core);
            drop(Box::from_raw(self.value.as_ptr()));
        }
    }
}
