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
//! collector can trace objects that carry no header).
//!
//! `#[derive(Managed)]` writes `visit_refs` for structs and enums by visiting
//! every field that is not `#[managed(skip)]`; the impls below cover the std
//! types a value usually keeps references in (`Option`, `Box`, `Vec`,
//! `VecDeque`, arrays, tuples, the values of `HashMap` and `BTreeMap`) and
//! declare the reference-free leaf types (numbers, `bool`, `char`, `String`,
//! `()`, ...).

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::ptr::NonNull;
#[cfg(feature = "std")]
use std::collections::HashMap;

use crate::heap::GcKind;

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
/// 2. it does not keep the place `target` (or a pointer derived from it)
///    beyond the call.
///
/// A visitor that only observes (counts, checks ownership) satisfies both
/// trivially.
pub unsafe trait Visitor {
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
}

// SAFETY: forwards every call to `V`, which upholds the contract.
unsafe impl<V: Visitor + ?Sized> Visitor for &mut V {
    #[inline]
    fn visit(&mut self, target: &mut NonNull<u8>) {
        (**self).visit(target);
    }

    #[inline]
    fn visit_gc(&mut self, target: &mut NonNull<u8>, kind: &'static GcKind) {
        (**self).visit_gc(target, kind);
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
///    container's storage (fields, elements, variants' payloads), and passes
///    the place where that reference stores its address, so that a write
///    through it is what the reference reads afterwards.
/// 2. `visit_refs` does not create, drop, duplicate or move references, and
///    reaches the same references every time it is called on an unchanged
///    value.
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
    note = "add `#[derive(Managed)]` to the definition of `{Self}`; or, for a field of a type deriving `Managed` whose type is `'static` and holds no region or heap reference, mark the field `#[managed(skip)]`"
)]
pub unsafe trait Managed {
    /// `false` when no value of this type can hold a direct managed
    /// reference. A container may then skip [`visit_refs`](Self::visit_refs).
    const HAS_REFS: bool;

    /// Calls `visitor` on every direct managed reference in `self`.
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V);
}

/// Implements `Managed` for types that never hold a managed reference.
macro_rules! leaf {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: the type holds no managed reference, so visiting nothing
        // visits all of them, and `HAS_REFS = false` is truthful.
        unsafe impl Managed for $t {
            const HAS_REFS: bool = false;
            #[inline]
            fn visit_refs<V: Visitor + ?Sized>(&mut self, _visitor: &mut V) {}
        }
    )*};
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
        );
    };
}
pub(crate) use leaf_types;

leaf_types!(leaf);

// SAFETY: a `PhantomData` holds nothing.
unsafe impl<T: ?Sized> Managed for core::marker::PhantomData<T> {
    const HAS_REFS: bool = false;
    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, _visitor: &mut V) {}
}

// SAFETY: visits the payload when there is one, which is every reference an
// `Option` can hold.
unsafe impl<T: Managed> Managed for Option<T> {
    const HAS_REFS: bool = T::HAS_REFS;
    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        if let Some(value) = self {
            value.visit_refs(visitor);
        }
    }
}

// SAFETY: visits both payloads; exactly one is present.
unsafe impl<T: Managed, E: Managed> Managed for Result<T, E> {
    const HAS_REFS: bool = T::HAS_REFS || E::HAS_REFS;
    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        match self {
            Ok(value) => value.visit_refs(visitor),
            Err(error) => error.visit_refs(visitor),
        }
    }
}

// SAFETY: a box owns exactly one value, which is visited.
unsafe impl<T: Managed + ?Sized> Managed for Box<T> {
    const HAS_REFS: bool = T::HAS_REFS;
    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        (**self).visit_refs(visitor);
    }
}

// SAFETY: visits every element of the slice once.
unsafe impl<T: Managed> Managed for [T] {
    const HAS_REFS: bool = T::HAS_REFS;
    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        if T::HAS_REFS {
            let (len, base) = (self.len(), self.as_ptr());
            for (i, value) in self.iter_mut().enumerate() {
                prefetch_ahead(base, len, i);
                value.visit_refs(visitor);
            }
        }
    }
}

/// Asks the CPU to fetch the element 512 bytes after `base[i]` of a slice
/// of `len` small elements (a hint, nothing else): a long slice of handles
/// (the usual root, a `Vec` of them) is otherwise walked faster than the
/// hardware prefetcher follows, each visit waiting on the address it read.
#[inline(always)]
fn prefetch_ahead<T>(base: *const T, len: usize, i: usize) {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    if size_of::<T>() <= 64 {
        let ahead = 512 / size_of::<T>().max(1);
        if i + ahead < len {
            // SAFETY: a hint only, for an address inside the slice.
            unsafe {
                core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
                    base.add(i + ahead).cast(),
                );
            }
        }
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    let _ = (base, len, i);
}

// SAFETY: visits every element once.
unsafe impl<T: Managed, const N: usize> Managed for [T; N] {
    const HAS_REFS: bool = T::HAS_REFS;
    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        self.as_mut_slice().visit_refs(visitor);
    }
}

// SAFETY: visits every element once.
unsafe impl<T: Managed> Managed for Vec<T> {
    const HAS_REFS: bool = T::HAS_REFS;
    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        self.as_mut_slice().visit_refs(visitor);
    }
}

// SAFETY: visits every element once.
unsafe impl<T: Managed> Managed for VecDeque<T> {
    const HAS_REFS: bool = T::HAS_REFS;
    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        if T::HAS_REFS {
            for value in self {
                value.visit_refs(visitor);
            }
        }
    }
}

#[cfg(feature = "std")]
// SAFETY: map keys cannot be mutated in place, so references may only be
// held in values (the `'static` bound on keys rules out branded references
// there); every value is visited once.
unsafe impl<K: 'static, T: Managed, S> Managed for HashMap<K, T, S> {
    const HAS_REFS: bool = T::HAS_REFS;
    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        if T::HAS_REFS {
            for value in self.values_mut() {
                value.visit_refs(visitor);
            }
        }
    }
}

// SAFETY: as for `HashMap`: `'static` keys, every value visited once.
unsafe impl<K: 'static, T: Managed> Managed for BTreeMap<K, T> {
    const HAS_REFS: bool = T::HAS_REFS;
    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        if T::HAS_REFS {
            for value in self.values_mut() {
                value.visit_refs(visitor);
            }
        }
    }
}

macro_rules! tuple {
    ($($name:ident)+) => {
        // SAFETY: visits every element of the tuple once.
        unsafe impl<$($name: Managed),+> Managed for ($($name,)+) {
            const HAS_REFS: bool = $($name::HAS_REFS)||+;
            #[inline]
            #[allow(non_snake_case)]
            fn visit_refs<Vis: Visitor + ?Sized>(&mut self, visitor: &mut Vis) {
                let ($($name,)+) = self;
                $($name.visit_refs(visitor);)+
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-written direct reference, as a region `Item` is.
    struct Ref(NonNull<u8>);

    // SAFETY: the one reference is visited, in place.
    unsafe impl Managed for Ref {
        const HAS_REFS: bool = true;
        fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
            visitor.visit(&mut self.0);
        }
    }

    /// Moves everything one byte up, as a compactor would with a table.
    struct Shift(usize);
    // SAFETY: only ever visits the test's `Ref`s, which hold dangling
    // addresses that are never dereferenced; rewriting them is harmless.
    unsafe impl Visitor for Shift {
        fn visit(&mut self, target: &mut NonNull<u8>) {
            self.0 += 1;
            *target = target.map_addr(|a| a.checked_add(1).unwrap());
        }
    }

    #[test]
    fn std_containers_visit_every_reference_once() {
        let base = NonNull::<u8>::dangling();
        let r = || Ref(base);
        let mut value = (
            Some(r()),
            vec![r(), r()],
            [r(), r(), r()],
            Box::new(r()),
            HashMap::from([(1, r())]),
            BTreeMap::from([(1, r())]),
            VecDeque::from([r()]),
        );
        let mut shift = Shift(0);
        value.visit_refs(&mut shift);
        assert_eq!(shift.0, 10);
        assert_eq!(value.1[1].0.addr().get(), base.addr().get() + 1);
        assert_eq!(value.4[&1].0.addr().get(), base.addr().get() + 1);
        let mut none: (Option<Ref>, u32) = (None, 7);
        none.visit_refs(&mut shift);
        assert_eq!(shift.0, 10);
    }

    #[test]
    fn leaves_have_no_refs() {
        const {
            assert!(!<(u8, String, Vec<Option<f64>>) as Managed>::HAS_REFS);
            assert!(<Vec<Ref> as Managed>::HAS_REFS);
            assert!(<(u8, Option<Ref>) as Managed>::HAS_REFS);
        }
    }
}
