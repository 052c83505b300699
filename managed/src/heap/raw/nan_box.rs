//! [`NanBox`]: an `f64`, a small tagged value or a heap handle in one
//! NaN-tagged word, and its `Managed` impl (the handle's address taken out
//! of the word, visited with its object's kind, and put back).

use core::fmt;
use core::hash::{Hash, Hasher};
use core::marker::PhantomData;
use core::ptr::{self, NonNull};

use super::GcKind;
use crate::heap::Gc;
use crate::heap::rootable::Rootable;
use crate::visit::{Managed, Visitor};

/// The top 16 bits of a word holding a handle: a negative quiet NaN with
/// bit 50 set, which [`NanBox::from_f64`] never stores (it stores every NaN
/// as the canonical positive one).
const HANDLE: u64 = 0xfffc << 48;
/// The top 16 bits of a word holding an immediate (a tag and a payload).
const IMMEDIATE: u64 = 0xfffd << 48;
/// The top 16 bits.
const TOP: u64 = 0xffff << 48;
/// The one NaN a `NanBox` stores: `f64::NAN`'s usual bits, positive.
const CANONICAL_NAN: u64 = 0x7ff8 << 48;

/// One 8-byte word that holds an `f64`, a [`Gc`] handle to a `T`, or an
/// *immediate* (a 16-bit tag and a 32-bit payload: `nil`, booleans, small
/// integers, interned-symbol numbers), told apart by NaN tagging: handles
/// and immediates sit in the NaN space no arithmetic result occupies. It is
/// the value type of a dynamic language's VM on the heap: the collector
/// traces the handles inside `NanBox`es wherever they are stored (objects,
/// the root, `Vec`s, map keys and values) and rewrites them when their
/// objects move, as it does for plain `Gc`s.
///
/// Every `f64` goes in and comes back out unchanged, except that NaNs come
/// back as the canonical `f64::NAN` (their payload and sign are not
/// kept: they share the space of the tagged words). The handle's objects
/// are of one type `T`: a VM's objects are then an enum (strings, tables,
/// closures) or a struct with a kind field, as in most VMs.
///
/// Equality and hashing compare the words (identity for handles, bits for
/// numbers: `0.0` and `-0.0` differ, a NaN equals itself), as a VM's raw
/// equality does; numeric equality is the caller's.
///
/// ```
/// use managed::prelude::*;
///
/// #[derive(Managed)]
/// enum Obj<'gc> {
///     Str(String),
///     Pair(NanBox<'gc, Obj<'gc>>, NanBox<'gc, Obj<'gc>>),
/// }
///
/// type Val<'gc> = NanBox<'gc, Obj<'gc>>;
///
/// /// `nil`, at any brand (a `const` would be at one brand only: the
/// /// type is invariant in `'gc`).
/// fn nil<'gc>() -> Val<'gc> {
///     NanBox::immediate(0, 0)
/// }
///
/// let mut heap: Heap<Vec<NanBox<'static, Obj<'static>>>> = Heap::new(|_| Vec::new());
/// heap.mutate(|mc, stack| {
///     let name = NanBox::from_gc(Gc::new(mc, Obj::Str("pi".into())));
///     let pair = Gc::new(mc, Obj::Pair(name, NanBox::from_f64(3.14)));
///     Gc::new(mc, Obj::Str("garbage".into()));
///     stack.push(NanBox::from_gc(pair));
///     stack.push(nil());
///     assert_eq!(size_of::<Val<'_>>(), 8);
/// });
/// assert_eq!(heap.collect().live_objects, 2); // the pair and its string moved
/// heap.mutate(|mc, stack| {
///     let Obj::Pair(name, value) = &mc[stack[0].as_gc().unwrap()] else { panic!() };
///     assert!(matches!(&mc[name.as_gc().unwrap()], Obj::Str(s) if s == "pi"));
///     assert_eq!(value.as_f64(), Some(3.14));
///     assert_eq!(stack[1].as_immediate(), Some((0, 0)));
///     assert!(stack[1].as_f64().is_none() && stack[1].as_gc().is_none());
/// });
/// ```
pub struct NanBox<'gc, T> {
    /// The word. Invariant: one of
    /// - an `f64`'s bits whose top 16 bits are neither [`HANDLE`] nor
    ///   [`IMMEDIATE`] (every non-NaN, and [`CANONICAL_NAN`]);
    /// - `HANDLE | address`, the address (below 2^48, its provenance
    ///   exposed) the start of a live `T` of the heap whose mutation `'gc`
    ///   brands, as a [`Gc`]'s (the collector rewrites it when the object
    ///   moves);
    /// - `IMMEDIATE | tag << 32 | payload`.
    bits: u64,
    /// As a `Gc<'gc, T>`: branded with the mutation (invariant), invariant
    /// in `T`, neither `Send` nor `Sync`.
    _marker: PhantomData<Gc<'gc, T>>,
}

impl<'gc, T> NanBox<'gc, T> {
    /// The number `x` (a NaN is stored as the canonical NaN).
    #[inline]
    #[must_use]
    pub const fn from_f64(x: f64) -> Self {
        let bits = if x.is_nan() {
            CANONICAL_NAN
        } else {
            x.to_bits()
        };
        NanBox {
            bits,
            _marker: PhantomData,
        }
    }

    /// The immediate `(tag, payload)`: a value with no object behind it.
    #[inline]
    #[must_use]
    pub const fn immediate(tag: u16, payload: u32) -> Self {
        NanBox {
            bits: IMMEDIATE | (tag as u64) << 32 | payload as u64,
            _marker: PhantomData,
        }
    }

    /// The handle `gc`.
    ///
    /// # Panics
    ///
    /// If the object's address does not fit in 48 bits (no 64-bit platform
    /// Rust supports gives a program such addresses by default).
    #[inline]
    #[track_caller]
    #[must_use]
    pub fn from_gc(gc: Gc<'gc, T>) -> Self {
        NanBox {
            bits: HANDLE | address_bits(gc.ptr().cast()),
            _marker: PhantomData,
        }
    }

    /// The number, if the word holds one.
    #[inline]
    #[must_use]
    pub const fn as_f64(self) -> Option<f64> {
        match self.bits & TOP {
            HANDLE | IMMEDIATE => None,
            _ => Some(f64::from_bits(self.bits)),
        }
    }

    /// The immediate `(tag, payload)`, if the word holds one.
    #[inline]
    #[must_use]
    pub const fn as_immediate(self) -> Option<(u16, u32)> {
        if self.bits & TOP == IMMEDIATE {
            Some(((self.bits >> 32) as u16, self.bits as u32))
        } else {
            None
        }
    }

    /// The handle, if the word holds one.
    #[inline]
    #[must_use]
    pub fn as_gc(self) -> Option<Gc<'gc, T>> {
        if self.bits & TOP != HANDLE {
            return None;
        }
        // SAFETY: a handle word holds the start of a live `T` of the heap
        // branded `'gc`, with its provenance exposed (field invariant).
        Some(unsafe { Gc::from_ptr(from_address_bits(self.bits).cast()) })
    }

    /// Whether the word holds a handle.
    #[inline]
    #[must_use]
    pub const fn is_gc(self) -> bool {
        self.bits & TOP == HANDLE
    }

    /// The word itself (its encoding: an `f64`'s bits, `0xfffc` in the top
    /// 16 bits and an address for a handle, `0xfffd` and `tag << 32 |
    /// payload` for an immediate). A handle's bits change when a collection
    /// moves its object.
    #[inline]
    #[must_use]
    pub const fn to_bits(self) -> u64 {
        self.bits
    }
}

/// The address bits of `ptr`, its provenance exposed.
#[inline]
#[track_caller]
fn address_bits(ptr: NonNull<u8>) -> u64 {
    let address = ptr.as_ptr().expose_provenance() as u64;
    assert!(
        address & TOP == 0,
        "NanBox: the object address {address:#x} does not fit in 48 bits"
    );
    address
}

/// The address of a handle word, with the provenance `address_bits`
/// exposed.
#[inline]
fn from_address_bits(bits: u64) -> NonNull<u8> {
    let address = (bits & !TOP) as usize;
    // An object's address is never 0 (it was a `NonNull` when exposed); a
    // word made otherwise is not a handle word.
    NonNull::new(ptr::with_exposed_provenance_mut::<u8>(address))
        .expect("NanBox: a handle word with a null address")
}

// SAFETY: the one reference a handle word holds is visited with its
// object's kind, on a copy of its address; the address the visitor leaves
// (the object's new place, with its provenance) is written back into the
// word before the call returns, so the word reads what the visitor wrote,
// as if visited in place, and no place is kept. Numbers and immediates hold
// no reference. A visitor that writes nothing leaves the word as it was.
unsafe impl<T: Managed> Managed for NanBox<'_, T> {
    const HAS_REFS: bool = true;

    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        if self.bits & TOP != HANDLE {
            return;
        }
        let mut place = from_address_bits(self.bits);
        let before = place;
        visitor.visit_gc(&mut place, GcKind::of::<T>());
        if place != before {
            self.bits = HANDLE | address_bits(place);
        }
    }
}

impl<T: Rootable> Rootable for NanBox<'_, T> {
    type Root<'gc> = NanBox<'gc, T::Root<'gc>>;
}

impl<T> Clone for NanBox<'_, T> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for NanBox<'_, T> {}

impl<T> PartialEq for NanBox<'_, T> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.bits == other.bits
    }
}

impl<T> Eq for NanBox<'_, T> {}

/// Hashes the word; a handle's changes when a collection moves its object,
/// and the std maps and sets holding `NanBox`es in their keys file their
/// entries again, as for [`Gc`].
impl<T> Hash for NanBox<'_, T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bits.hash(state);
    }
}

impl<T> fmt::Debug for NanBox<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.as_f64(), self.as_immediate()) {
            (Some(x), _) => write!(f, "NanBox({x:?})"),
            (_, Some((tag, payload))) => write!(f, "NanBox(#{tag}:{payload})"),
            _ => write!(f, "NanBox(Gc({:#x}))", self.bits & !TOP),
        }
    }
}
