//! The [`Managed`] trait: how a container that moves objects finds, and
//! fixes, every reference to them.
//!
//! A *direct managed reference* is a handle that stores the address of an
//! object inside a moving container (a region `Item`, a token, a heap
//! [`Gc`](crate::heap::Gc)): when the object moves, the handle must be
//! rewritten. Indirect handles (proxies, `Forward`) point at a stable cell
//! that the container itself updates, so they have nothing to rewrite.
//! [`Managed::visit_refs`] walks a value and hands each direct reference to
//! a [`Visitor`], which may rewrite it: region references through
//! [`Visitor::visit`], heap handles through [`Visitor::visit_gc`], which
//! also says what type of object the handle points at (so the heap's
//! collector can trace objects that carry no header), and weak heap
//! handles through [`Visitor::visit_weak`].
//!
//! `#[derive(Managed)]` writes `visit_refs` for structs and enums by visiting
//! every field that is not `#[managed(skip)]`; the impls in `raw` cover the std
//! types a value usually keeps references in (`Option`, `Box`, `Vec`,
//! `VecDeque`, arrays, tuples, `Cell`, `RefCell`) and declare the reference-free leaf types
//! (numbers, `bool`, `char`, `String`, `PathBuf`, `()`, ...); those in
//! `raw::keyed` cover `HashMap`, `HashSet`, `BTreeMap` and `BTreeSet`, whose
//! keys may hold references too (a map keyed by heap objects is filed
//! again under its keys' new addresses when a collection moves them).
//! [`Static`] makes any `'static` type without references `Managed`, for
//! a type of another crate used where the trait is required (a map key).

use core::borrow::{Borrow, BorrowMut};
use core::ops::{Deref, DerefMut};
use core::ptr::NonNull;

use crate::heap::GcKind;

mod raw;

/// Receives the direct managed references of a value, one at a time.
///
/// # Safety
///
/// [`Managed::visit_refs`] is a safe method that anyone can call, and it
/// hands the visitor the address a live reference (a region `Item`, a
/// token, a heap `Gc`) will dereference next. So the trait is `unsafe` to
/// implement: a safe visitor could otherwise write any address into an
/// `Item` and make safe code read through it. An implementation must
/// uphold, for [`visit`](Self::visit) and [`visit_gc`](Self::visit_gc)
/// alike:
///
/// 1. it either leaves `*target` unchanged, or replaces it with the
///    address at which the *same* object (same type, same value, same
///    ownership) now lives, with the provenance of that object's memory.
///    Only the container that moved the object can know that address.
///    (For [`visit_weak`](Self::visit_weak) alone, the heap that owns the
///    object may instead write its "dead" marker's address, once the
///    object is gone.)
/// 2. it does not keep the place `target` (or a pointer derived from it)
///    beyond the call.
/// 3. if [`writes`](Self::writes) returns `false`, it never writes
///    `target` (containers then skip the bookkeeping rewriting needs).
///
/// A visitor that only observes (counts, checks ownership) satisfies both
/// trivially.
pub unsafe trait Visitor {
    /// Whether this visitor may write addresses (`true`, the default), or
    /// only observes them (`false`: it never writes `target`).
    ///
    /// The maps and sets, which cannot rewrite a key in place, record what
    /// a writing visitor leaves in their keys so as to file them again; an
    /// observer's visits need no record.
    #[inline]
    fn writes(&self) -> bool {
        true
    }

    /// Called once for each direct reference into a compacting region (an
    /// `Item` or a token).
    ///
    /// `target` holds the address of the referenced object. A visitor that
    /// moved that object writes the object's new address back; a visitor that
    /// only observes leaves it unchanged. Visitors of one container ignore
    /// addresses they do not own (a reference into another arena).
    fn visit(&mut self, target: &mut NonNull<u8>);

    /// Called once for each heap handle ([`Gc`](crate::heap::Gc)), with the
    /// type of the object it points at.
    ///
    /// The same rules as [`visit`](Self::visit) apply to `target`. The
    /// default ignores the handle: only the heap that owns the object moves
    /// it, and every other container's visitor has nothing to do with it.
    #[inline]
    fn visit_gc(&mut self, target: &mut NonNull<u8>, kind: &'static GcKind) {
        let _ = (target, kind);
    }

    /// Called once for each weak heap handle
    /// ([`GcWeak`](crate::heap::GcWeak)).
    ///
    /// The same rules as [`visit`](Self::visit) apply to `target`, and one
    /// more: the heap that owns the object may also write the address of
    /// its "dead" marker there once the object is gone. The default
    /// ignores the handle, as [`visit_gc`](Self::visit_gc) does.
    #[inline]
    fn visit_weak(&mut self, target: &mut NonNull<u8>) {
        let _ = target;
    }

    /// The heap collector's record of weakly keyed map entries, through
    /// which a map learns whether an entry's value is reachable yet (its
    /// key's weakly held objects are); `None` for every other visitor.
    ///
    /// Not part of the interface: the type cannot be named outside this
    /// crate, so no other visitor can return anything but `None`. A
    /// visitor that wraps another and does not forward this makes the maps
    /// treat every value as reachable, consistently, which is how they
    /// treat values for every visitor but the collector's.
    #[doc(hidden)]
    #[inline]
    fn ephemerons(&mut self) -> Option<&mut crate::heap::Ephemerons> {
        None
    }
}

/// A value whose direct managed references can be enumerated and rewritten.
///
/// Derive it with `#[derive(Managed)]`; implement it by hand only for a
/// type the derive cannot describe.
///
/// # Safety
///
/// Containers that move objects rely on this trait to find every reference
/// they must rewrite; a reference they miss would point at the object's old
/// address after a move, which is a use-after-move. So an implementation
/// must uphold:
///
/// 1. `visit_refs` calls `visitor.visit` exactly once for every direct
///    managed reference reachable from `self` without going through another
///    container's storage (fields, elements, variants' payloads), and
///    either passes the place where that reference stores its address, or
///    passes a place holding the same address and afterwards stores into
///    the reference what the visitor left there (as the maps and sets do
///    for their keys): either way, what the visitor writes is what the
///    reference reads afterwards.
/// 2. `visit_refs` does not create, drop, duplicate or move references, and
///    reaches the same references every time it is called on an unchanged
///    value; when the visitor writes nothing, it leaves the value exactly
///    as it was (so an observing visitor may walk a bitwise copy of a
///    value that is then forgotten). One exception: once the references in
///    a map's or set's keys are rewritten, it may file its entries again
///    (moving them in its storage), merge keys that became equal, dropping
///    one of them, and drop the entries whose keys hold a weak handle that
///    the visitor made dead (its object was dropped); once a visitor made
///    a weak handle in one of a map's values dead, the map may drop the
///    entries whose values hold dead weak handles only. And for the heap
///    collector's visitors alone (the only ones with the hidden
///    `ephemerons` record), a map leaves unvisited, while marking, the
///    values of the entries whose keys hold weak handles to objects not
///    marked yet, and hands the collector each such value's address
///    instead, which it traces (in place, before marking ends) if the
///    key's objects get marked; after marking it leaves unvisited the
///    values of the entries whose keys' objects were not marked, and drops
///    those entries when their weak handles are made dead. So a map's
///    values are walked where the map stores them, never in a copy.
/// 3. If `HAS_REFS` is `false`, no value of the type can hold a direct
///    managed reference (so containers may skip the walk entirely).
///
/// Leaving a field out of the walk (the derive's `#[managed(skip)]`) is
/// therefore only sound when that field cannot hold a direct reference; the
/// derive enforces this by requiring skipped fields to be `'static`, which
/// no branded reference is.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `Managed`, so its region or heap references cannot be visited",
    label = "`{Self}` is not `Managed`",
    note = "add `#[derive(Managed)]` to the definition of `{Self}`; or, for a field of a type deriving `Managed` whose type is `'static` and holds no region or heap reference, mark the field `#[managed(skip)]`",
    note = "a `'static` type of another crate that holds no reference (a map key, a tuple element) can be wrapped in `managed::Static<T>`",
    note = "if `{Self}` is a trait object of a trait of yours, a heap handle to it is a `GcDyn<'gc, {Self}>`, made from a `Gc` by `unsize!(gc => {Self})`; a closure cannot be visited: a callback is a `for<'a> fn(&mut Mutation<'a>, ..)` pointer (`'static`, plain) beside the handles it acts on"
)]
pub unsafe trait Managed {
    /// `false` when no value of this type can hold a direct managed
    /// reference. A container may then skip [`visit_refs`](Self::visit_refs).
    const HAS_REFS: bool;

    /// Calls `visitor` on every direct managed reference in `self`.
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V);
}

/// A `'static` value that holds no managed reference, as a [`Managed`]
/// type: for a type of another crate where the trait is required (a map
/// key, a tuple element next to a handle), or for a type parameter.
///
/// `Static<T>` is `Managed` (with nothing to visit), a heap's
/// [`Rootable`](crate::heap::Rootable) and a region's `Rebrand` type for
/// every `T: 'static`, which no branded reference is. It dereferences to
/// the value, and compares, orders and hashes as the value does; it
/// borrows as `T`, so a `HashMap<Static<K>, V>` is looked up with a `&K`.
///
/// ```
/// use std::collections::HashMap;
///
/// use managed::Static;
/// use managed::prelude::*;
///
/// /// A key type of another crate (here: a stand-in).
/// #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
/// struct Uuid(u128);
///
/// #[derive(Managed)]
/// struct Registry<'gc> {
///     by_id: HashMap<Static<Uuid>, Gc<'gc, String>>,
///     recent: Vec<(Static<Uuid>, Gc<'gc, String>)>,
/// }
///
/// let mut heap: Heap<Registry<'static>> =
///     Heap::new(|_| Registry { by_id: HashMap::new(), recent: Vec::new() });
/// heap.mutate(|mc, reg| {
///     let name = Gc::new(mc, String::from("printer"));
///     reg.by_id.insert(Static(Uuid(7)), name);
///     reg.recent.push((Static(Uuid(7)), name));
/// });
/// heap.collect();
/// heap.read(|mc, reg| assert_eq!(mc[reg.by_id[&Uuid(7)]], "printer"));
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[repr(transparent)]
pub struct Static<T>(pub T);

impl<T> Static<T> {
    /// The value.
    #[inline]
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> From<T> for Static<T> {
    #[inline]
    fn from(value: T) -> Self {
        Static(value)
    }
}

impl<T> Deref for Static<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Static<T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> Borrow<T> for Static<T> {
    #[inline]
    fn borrow(&self) -> &T {
        &self.0
    }
}

impl<T> BorrowMut<T> for Static<T> {
    #[inline]
    fn borrow_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// Calls macro `$m` with every reference-free leaf type the crate knows:
/// the one list behind both the `Managed` leaf impls here and the region's
/// `Rebrand` impls, so the two sets cannot drift apart.
macro_rules! leaf_types {
    ($m:ident) => {
        $m!(
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
            alloc::string::String,
            &'static str,
            core::num::NonZeroU8,
            core::num::NonZeroU16,
            core::num::NonZeroU32,
            core::num::NonZeroU64,
            core::num::NonZeroUsize,
            core::time::Duration,
            core::any::TypeId,
            core::cmp::Ordering,
            core::net::IpAddr,
            core::net::Ipv4Addr,
            core::net::Ipv6Addr,
            core::net::SocketAddr,
            alloc::ffi::CString,
        );
        #[cfg(feature = "std")]
        $m!(
            std::path::PathBuf,
            std::ffi::OsString,
            std::time::Instant,
            std::time::SystemTime,
        );
    };
}
pub(crate) use leaf_types;
