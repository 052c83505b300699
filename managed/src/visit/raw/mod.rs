//! Every `unsafe impl` of [`Managed`] and [`Visitor`] for the std types:
//! the forwarding `&mut V` visitor, the reference-free leaf types, and the
//! containers a value keeps references in (`Option`, `Box`, slices, `Vec`,
//! `VecDeque`, arrays, tuples, `Static`; the maps and sets are in
//! `keyed`). Each impl upholds the trait's `# Safety` contract on its own:
//! it visits every reference the type can hold exactly once, in place (the
//! maps' keys through a copy, as `keyed` says), and `HAS_REFS` is `false`
//! only when it can hold none.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::ptr::NonNull;

use super::{Managed, Static, Visitor, leaf_types};
use crate::heap::GcKind;

mod keyed;

// SAFETY: forwards every call to `V`, which upholds the contract.
unsafe impl<V: Visitor + ?Sized> Visitor for &mut V {
    #[inline]
    fn writes(&self) -> bool {
        (**self).writes()
    }

    #[inline]
    fn visit(&mut self, target: &mut NonNull<u8>) {
        (**self).visit(target);
    }

    #[inline]
    fn visit_gc(&mut self, target: &mut NonNull<u8>, kind: &'static GcKind) {
        (**self).visit_gc(target, kind);
    }

    #[inline]
    fn visit_weak(&mut self, target: &mut NonNull<u8>) {
        (**self).visit_weak(target);
    }

    #[inline]
    fn ephemerons(&mut self) -> Option<&mut crate::heap::Ephemerons> {
        (**self).ephemerons()
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

// SAFETY: `T: 'static`, and every direct managed reference is branded with
// a lifetime that is never `'static` in safe code (a region's or a
// mutation's), so a `Static` holds none: visiting nothing visits all of
// them, and `HAS_REFS = false` is truthful.
unsafe impl<T: 'static> Managed for Static<T> {
    const HAS_REFS: bool = false;
    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, _visitor: &mut V) {}
}

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

// SAFETY: a cell owns exactly one value, visited through the exclusive
// reference that `visit_refs` holds (so no borrow of the cell is live, and
// its borrow flag is neither read nor changed).
unsafe impl<T: Managed + ?Sized> Managed for core::cell::RefCell<T> {
    const HAS_REFS: bool = T::HAS_REFS;
    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        self.get_mut().visit_refs(visitor);
    }
}

// SAFETY: as for `RefCell`: the one value, through the exclusive reference.
unsafe impl<T: Managed + ?Sized> Managed for core::cell::Cell<T> {
    const HAS_REFS: bool = T::HAS_REFS;
    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        self.get_mut().visit_refs(visitor);
    }
}

// SAFETY: visits every element of the slice once (the chunks and the
// remainder partition it).
unsafe impl<T: Managed> Managed for [T] {
    const HAS_REFS: bool = T::HAS_REFS;
    // Always inlined: the compactor's `popcnt` build of a root's visit
    // only gets `popcnt` code for what is inlined into it.
    #[inline(always)]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        if T::HAS_REFS {
            // One prefetch per cache line of elements, not per element.
            let mut lines = self.chunks_exact_mut(per_line::<T>());
            for line in &mut lines {
                prefetch_ahead(line.as_ptr());
                for value in line {
                    value.visit_refs(visitor);
                }
            }
            for value in lines.into_remainder() {
                value.visit_refs(visitor);
            }
        }
    }
}

/// Elements of a slice of `T` per 64-byte cache line (1 for larger ones).
#[inline(always)]
const fn per_line<T>() -> usize {
    let size = size_of::<T>();
    if size == 0 || size >= 64 {
        1
    } else {
        64 / size
    }
}

/// How far ahead of a slice walk [`prefetch_ahead`] asks for memory.
#[cfg(all(target_arch = "x86_64", not(miri)))]
const PREFETCH_AHEAD: usize = 2048;

/// Asks the CPU to fetch the memory `PREFETCH_AHEAD` (2 KiB) bytes after
/// `at` (a hint, nothing else, and harmless past the slice's end: a
/// prefetch never faults): a long slice of handles (the usual root, a
/// `Vec` of them) is otherwise walked faster than the hardware prefetcher
/// follows, each visit waiting on the address it read.
#[inline(always)]
fn prefetch_ahead<T>(at: *const T) {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    if size_of::<T>() <= 64 {
        // SAFETY: a hint only; the address is computed without claiming
        // it is in bounds (`wrapping_byte_add`) and never dereferenced.
        unsafe {
            core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
                at.wrapping_byte_add(PREFETCH_AHEAD).cast(),
            );
        }
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    let _ = at;
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
    #[inline(always)]
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
    use alloc::collections::BTreeMap;
    use core::num::NonZeroUsize;
    use std::collections::HashMap;

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

    /// Records the addresses it visits, in order.
    struct Log(Vec<usize>);
    // SAFETY: observes only.
    unsafe impl Visitor for Log {
        fn writes(&self) -> bool {
            false
        }
        fn visit(&mut self, target: &mut NonNull<u8>) {
            self.0.push(target.addr().get());
        }
    }

    /// A reference followed by `N` words of padding: elements of 8 bytes
    /// (`N = 0`, eight per cache line), 24, 64 (one per line) and 72.
    struct Padded<const N: usize>(Ref, [u64; N]);
    // SAFETY: visits the one reference, in place.
    unsafe impl<const N: usize> Managed for Padded<N> {
        const HAS_REFS: bool = true;
        fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
            self.0.visit_refs(visitor);
        }
    }

    fn slice_walk_visits_each_once_in_order<const N: usize>() {
        // Lengths around the walk's cache-line chunks (8 elements of 8
        // bytes): empty, partial chunk, whole chunks, chunks + remainder.
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 64, 100] {
            let mut slice: Vec<Padded<N>> = (1..=len)
                .map(|i| {
                    Padded(
                        Ref(NonNull::dangling().with_addr(NonZeroUsize::new(i * 8).unwrap())),
                        [0; N],
                    )
                })
                .collect();
            let mut log = Log(Vec::new());
            slice.visit_refs(&mut log);
            let expected: Vec<usize> = (1..=len).map(|i| i * 8).collect();
            assert_eq!(
                log.0,
                expected,
                "len {len}, element of {} bytes",
                size_of::<Padded<N>>()
            );
        }
    }

    #[test]
    fn slices_visit_every_element_once_in_order() {
        slice_walk_visits_each_once_in_order::<0>();
        slice_walk_visits_each_once_in_order::<2>();
        slice_walk_visits_each_once_in_order::<7>();
        slice_walk_visits_each_once_in_order::<8>();
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
