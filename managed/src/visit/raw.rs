//! Every `unsafe impl` of [`Managed`] and [`Visitor`] for the std types:
//! the forwarding `&mut V` visitor, the reference-free leaf types, and the
//! containers a value keeps references in (`Option`, `Box`, slices, `Vec`,
//! `VecDeque`, arrays, tuples, map values). Each impl upholds the trait's
//! `# Safety` contract on its own: it visits every reference the type can
//! hold exactly once, in place, and `HAS_REFS` is `false` only when it can
//! hold none.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::ptr::NonNull;
#[cfg(feature = "std")]
use std::collections::HashMap;

use super::{Managed, Visitor, leaf_types};
use crate::heap::GcKind;

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
