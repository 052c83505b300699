//! The token machinery: every `unsafe impl` of [`Rebrand`] (the leaf
//! types, `Item`, `Forward`'s sits with it in `forward`, the std
//! containers), the ownership [`Census`] visitor, and the two kinds of
//! tokens: [`ItemToken`] (a cell of the table tracks its object) and
//! [`Token`] (a boxed value registered in the region's whole-value list,
//! whose items the compactor rewrites in place). Invariant: a token counts
//! itself in the region's token count while it lives, so the block outlives
//! it even when the arena is dropped first.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::marker::PhantomData;
use core::ptr::NonNull;
#[cfg(feature = "std")]
use std::collections::HashMap;

use generativity::Id;
use scopeguard::{ScopeGuard, guard};

use crate::region::{Arena, Item, Rebrand};
use crate::visit::{Managed, Visitor};

use super::cells::NOWHERE;
use super::{RawRegion, RegionCore, Visits};

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
// region lifetime is substituted.
unsafe impl<K: 'static, T: Rebrand, S: 'static> Rebrand for HashMap<K, T, S> {
    type Branded<'b> = HashMap<K, T::Branded<'b>, S>;
}

// SAFETY: as for `HashMap`.
unsafe impl<K: 'static, T: Rebrand> Rebrand for BTreeMap<K, T> {
    type Branded<'b> = BTreeMap<K, T::Branded<'b>>;
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
    fn visit(&mut self, target: &mut NonNull<u8>) {
        if !(self.owns)(target.addr().get()) {
            self.foreign = true;
        }
    }
}

/// A guard that lets go of a token's hold on the region block when
/// dropped (also when a destructor panics).
///
/// # Safety
///
/// `core` is the live block of a token that counted itself, and is done
/// with the block once the guard drops.
unsafe fn gone(
    core: NonNull<RegionCore>,
) -> ScopeGuard<NonNull<RegionCore>, impl FnOnce(NonNull<RegionCore>)> {
    guard(core, |core| {
        // SAFETY: the caller's contract.
        unsafe { RegionCore::token_gone(core) }
    })
}

/// The single-item token inside the closure [`Arena::tokenize`] returns.
pub(crate) struct ItemToken<'c, 'id, T: ?Sized> {
    /// The item's tagged pointer as it was (for its metadata and tag; the
    /// address comes from the cell).
    pub(super) ptr: NonNull<T>,
    /// The cell tracking the object (the compactor keeps it current).
    pub(super) index: u32,
    /// The region block, kept alive by the token count.
    pub(super) core: NonNull<RegionCore>,
    /// Borrows the compaction guard for `'c`, is branded with the arena's
    /// `'id`, owns a `T`, and is neither `Send` nor `Sync`.
    pub(super) _marker: PhantomData<(&'c (), Id<'id>, *mut T)>,
}

impl<'id, T: ?Sized> ItemToken<'_, 'id, T> {
    /// Takes the object's current (tagged) pointer out of the cell.
    fn take(&self) -> NonNull<T> {
        // SAFETY: the token counted itself, so the block is allocated.
        let cells = unsafe { &self.core.as_ref().cells };
        let place = cells.place_of(self.index);
        cells.release(self.index);
        if place == NOWHERE {
            // A zero-sized value: its dangling address never changes.
            return self.ptr;
        }
        // SAFETY: the cell tracked the object at `place` of this block.
        let addr = unsafe { RegionCore::at(self.core, place) }.addr().get();
        let tag = self.ptr.addr().get() & !super::untag(usize::MAX);
        // SAFETY: an address in the block is not null.
        self.ptr
            .map_addr(|_| unsafe { core::num::NonZeroUsize::new_unchecked(addr | tag) })
    }

    /// Redeems the token: the item, at the object's current address.
    pub(crate) fn redeem<'b, const N: usize>(self, arena: &'b Arena<'id, N>) -> Item<'b, T> {
        // Redundant with the brand (`'id` is invariant and unique to one
        // arena), and one compare per token: checked in every build.
        assert_eq!(
            self.core,
            arena.raw().block(),
            "a token redeemed with another arena"
        );
        let this = core::mem::ManuallyDrop::new(self);
        let ptr = this.take();
        // SAFETY: 1. the cell tracked the live object this token owns, in
        // the arena borrowed for `'b` (the brand `'id` is unique to it);
        // 2. no compaction can happen while `arena` is borrowed; 3. the
        // arena is alive, so the count does not free the block.
        unsafe {
            RegionCore::token_gone(this.core);
            Item::from_raw(ptr)
        }
    }
}

impl<T: ?Sized> Drop for ItemToken<'_, '_, T> {
    fn drop(&mut self) {
        let ptr = self.take();
        // Drops the value and frees its space; a guard then lets go of the
        // block (also if the value's destructor panics).
        // SAFETY: 1. the token counted itself and is done with the block
        // once the value is dropped; 2. the block is alive (counted) and
        // the token owns the object.
        unsafe {
            let _gone = gone(self.core);
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
