//! Tokens: what an [`Item`] (or a whole value holding items) becomes while
//! the region compacts, and the [`Rebrand`] trait that lets a value change
//! the lifetime of the items it holds.

use core::fmt;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;
use std::collections::{BTreeMap, HashMap, VecDeque};

use generativity::Id;

use crate::visit::{Managed, Visitor};

use super::arena::Arena;
use super::cells::CellTable;
use super::item::Item;
use super::raw::Header;

/// A value whose region references can be given a new lifetime.
///
/// `Self::Branded<'b>` is `Self` with its *region lifetime* (the lifetime
/// of the [`Item`]s it holds) replaced by `'b`, and nothing else changed.
/// [`Arena::tokenize_all`] uses it to turn a value that holds items of
/// lifetime `'a` into a token, and the token back into the same value
/// holding items of the lifetime of the arena borrow it is redeemed with.
///
/// It is implemented for `Item`, `Forward`, the reference-free leaf types,
/// and the std containers of [`Managed`]. Implement it for your own
/// `struct Scene<'a> { .. }` as `type Branded<'b> = Scene<'b>;`.
///
/// # Safety
///
/// 1. `Self::Branded<'b>` is the same type as `Self` except that the region
///    lifetime is `'b` (so the two have the same layout and validity).
/// 2. The region lifetime only bounds how long the region references inside
///    the value may be used: every lifetime substituted is a lifetime of
///    `Item`s, whose references [`Managed::visit_refs`] visits. A type with
///    another lifetime (`&'a str`, a borrow of something outside the
///    region) must keep that lifetime unchanged in `Branded<'b>`, and may
///    not implement `Rebrand` if it cannot.
pub unsafe trait Rebrand: Managed + Sized {
    /// `Self` with its region lifetime replaced by `'b`.
    type Branded<'b>: Rebrand;
}

/// Implements `Rebrand` for types without region lifetimes.
macro_rules! same {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: the type has no lifetime: `Branded` is `Self`.
        unsafe impl Rebrand for $t {
            type Branded<'b> = $t;
        }
    )*};
}

same!(
    (),
    bool,
    char,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    String,
    &'static str,
    core::num::NonZeroU8,
    core::num::NonZeroU16,
    core::num::NonZeroU32,
    core::num::NonZeroU64,
    core::num::NonZeroUsize,
    core::time::Duration,
);

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

/// Encodes a cell index as the address stored in a tokenized reference.
#[inline]
fn encode(index: u32) -> core::num::NonZeroUsize {
    // `index + 1` is never zero (indices are below `u32::MAX`).
    core::num::NonZeroUsize::MIN.saturating_add(index as usize)
}

/// Decodes an address written by [`encode`].
#[inline]
fn decode(addr: NonNull<u8>) -> u32 {
    (addr.addr().get() - 1) as u32
}

/// Turns each visited item reference into a forwarding cell.
pub(crate) struct Tokenizer<'t> {
    pub(crate) cells: &'t CellTable,
}

impl Visitor for Tokenizer<'_> {
    fn visit(&mut self, target: &mut NonNull<u8>) {
        // SAFETY: the caller checked that every reference is an `Item` of
        // this region (a live object owned by that item, without a cell).
        let header = unsafe { Header::of(*target) };
        debug_assert_eq!(header.cell.get(), 0);
        let index = self.cells.acquire(*target);
        header.cell.set(index + 1);
        *target = target.with_addr(encode(index));
    }
}

/// Turns each visited forwarding cell back into the object's address.
pub(crate) struct Redeemer<'t> {
    pub(crate) cells: &'t CellTable,
}

impl Visitor for Redeemer<'_> {
    fn visit(&mut self, target: &mut NonNull<u8>) {
        let index = decode(*target);
        let addr = self.cells.addr(index);
        // SAFETY: the cell tracks a live object of this region.
        unsafe { Header::of(addr) }.cell.set(0);
        self.cells.release(index);
        *target = addr;
    }
}

/// Observes that every visited reference belongs to one region, and counts them.
pub(crate) struct Census<F> {
    pub(crate) owns: F,
    pub(crate) count: usize,
    pub(crate) foreign: bool,
}

impl<F: Fn(NonNull<u8>) -> bool> Visitor for Census<F> {
    fn visit(&mut self, target: &mut NonNull<u8>) {
        self.count += 1;
        if !(self.owns)(*target) {
            self.foreign = true;
        }
    }
}

/// Lets go of a token's hold on the cell table when dropped.
struct Gone(NonNull<CellTable>);

impl Drop for Gone {
    fn drop(&mut self) {
        // SAFETY: made by a token that counted itself and is done with the
        // table (and the region).
        unsafe { CellTable::token_gone(self.0) };
    }
}

/// The single-item token inside the closure [`Arena::tokenize`] returns.
pub(crate) struct ItemToken<'c, 'id, T: ?Sized> {
    /// The item's pointer as it was (for its metadata; the address comes
    /// from the cell).
    pub(crate) ptr: NonNull<T>,
    /// The cell tracking the object.
    pub(crate) index: u32,
    /// The arena's cell table, kept alive by the token count.
    pub(crate) cells: NonNull<CellTable>,
    /// Borrows the compaction guard for `'c`, is branded with the arena's
    /// `'id`, owns a `T`, and is neither `Send` nor `Sync`.
    pub(crate) _marker: PhantomData<(&'c (), Id<'id>, *mut T)>,
}

impl<'id, T: ?Sized> ItemToken<'_, 'id, T> {
    /// Redeems the token: the item, at the object's current address.
    pub(crate) fn redeem<'b, const N: usize>(self, arena: &'b Arena<'id, N>) -> Item<'b, T> {
        let this = ManuallyDrop::new(self);
        debug_assert_eq!(this.cells, arena.cells_ptr());
        let cells = arena.cells();
        let addr = cells.addr(this.index);
        // SAFETY: 1. the cell tracks the live object this token owns, in
        // the arena borrowed for `'b` (the brand `'id` is unique to it);
        // 2. no compaction can happen while `arena` is borrowed.
        unsafe {
            Header::of(addr).cell.set(0);
            cells.release(this.index);
            CellTable::token_gone(this.cells);
            Item::from_raw(this.ptr.with_addr(addr.addr()))
        }
    }
}

impl<T: ?Sized> Drop for ItemToken<'_, '_, T> {
    fn drop(&mut self) {
        // SAFETY: the token counted itself in the table, which therefore
        // is still allocated, and so is the region (kept by the table if
        // the arena is gone).
        let cells = unsafe { self.cells.as_ref() };
        let addr = cells.addr(self.index);
        cells.release(self.index);
        // SAFETY: the region is alive and the token owns the object.
        let item = unsafe { Item::from_raw(self.ptr.with_addr(addr.addr())) };
        // Drops the value and frees its block; a guard then lets go of the
        // table (also if the value's destructor panics).
        let _gone = Gone(self.cells);
        drop(item);
    }
}

/// A whole value whose items were turned into forwarding cells by
/// [`Arena::tokenize_all`]; [`redeem`](Token::redeem) gives the value back,
/// holding items at their objects' current addresses.
///
/// `E` is the value's type with its region lifetime set to `'static`
/// (`Scene<'static>` for a `Scene<'a>`); it is never used at that lifetime.
/// The token borrows the compaction guard for `'c`, so it cannot outlive
/// [`Arena::finish`]. Dropping it drops the value (and the objects its
/// items own), also after the arena is dropped; forgetting it leaves those
/// objects in the region, never dropped (like forgetting a `Box`).
pub struct Token<'c, 'id, E: Rebrand> {
    /// The value, each item reference replaced by its cell index + 1.
    value: ManuallyDrop<E>,
    /// The arena's cell table, kept alive by the token count.
    cells: NonNull<CellTable>,
    /// See the type docs; not `Send` nor `Sync`.
    _marker: PhantomData<(&'c (), Id<'id>, *mut ())>,
}

impl<'c, 'id, E: Rebrand> Token<'c, 'id, E> {
    /// Wraps a tokenized value.
    ///
    /// # Safety
    ///
    /// Every item reference in `value` was replaced by a cell of `cells`
    /// (which counted this token), and `E` is the value's type with only
    /// its region lifetime changed.
    pub(crate) unsafe fn new(value: E, cells: NonNull<CellTable>) -> Self {
        Token {
            value: ManuallyDrop::new(value),
            cells,
            _marker: PhantomData,
        }
    }

    /// Gives the value back, its items pointing to their objects' current
    /// addresses and living as long as the borrow of `arena`.
    pub fn redeem<'b, const N: usize>(self, arena: &'b Arena<'id, N>) -> E::Branded<'b> {
        let mut this = ManuallyDrop::new(self);
        debug_assert_eq!(this.cells, arena.cells_ptr());
        this.value.visit_refs(&mut Redeemer {
            cells: arena.cells(),
        });
        // SAFETY: 1. `value` is read out once and `this` is never dropped;
        // 2. `E` and `E::Branded<'b>` differ only in the region lifetime
        // (`Rebrand` contract), so the bits are a valid `E::Branded<'b>`;
        // 3. every item now points to its live object in the arena borrowed
        // for `'b`; 4. the token was counted in the table.
        unsafe {
            let value = ManuallyDrop::take(&mut this.value);
            CellTable::token_gone(this.cells);
            let value = ManuallyDrop::new(value);
            debug_assert_eq!(size_of::<E>(), size_of::<E::Branded<'b>>());
            (&*value as *const E).cast::<E::Branded<'b>>().read()
        }
    }
}

impl<E: Rebrand> Drop for Token<'_, '_, E> {
    fn drop(&mut self) {
        // SAFETY: the token counted itself, so the table is allocated, and
        // so is the region (kept by the table if the arena is gone).
        let cells = unsafe { self.cells.as_ref() };
        let _gone = Gone(self.cells);
        self.value.visit_refs(&mut Redeemer { cells });
        // SAFETY: the items point to their live objects again; the value is
        // dropped once (its `'static` region lifetime is never observed:
        // dropping only runs destructors). The guard then lets go of the
        // table, also if a destructor panics.
        unsafe { ManuallyDrop::drop(&mut self.value) };
    }
}

impl<E: Rebrand> fmt::Debug for Token<'_, '_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token").finish_non_exhaustive()
    }
}
