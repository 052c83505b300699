//! `Managed` for the std maps and sets (`HashMap`, `HashSet`, `BTreeMap`,
//! `BTreeSet`), whose keys may hold references: a heap object as a key
//! (`HashSet<Gc<'gc, Node<'gc>>>`, `HashMap<Gc<'gc, Node<'gc>>, Style>`)
//! is found by its address, which a collection changes.
//!
//! A map hands out its keys shared only, and a key filed under one hash
//! (or in one place of an order) cannot simply be rewritten where it is.
//! So the references of every key are visited through [`Preview`], on a
//! bitwise copy of the key that is forgotten afterwards: the visitor gets
//! a copy of each address, and `Preview` writes nothing into the key, only
//! records in [`Moves`] each address the visitor changed. A walk that
//! changes nothing (marking, checking, and every collection that moves
//! none of the keys' objects) ends there, and the map is as it was. When
//! some key changed, the map takes out every entry once the walk is over,
//! replays the recorded changes on the keys ([`Replay`], which writes into
//! the keys the addresses the visitor gave) and files each entry again
//! under its new hash or order. The visitor thus sees each reference
//! exactly once, and the references the map holds afterwards are the
//! rewritten ones.
//!
//! Keys that rewriting makes equal are merged, as `insert` merges them:
//! one entry is kept and the other's value (or key) is dropped. Two keys
//! holding handles to two live objects never become equal (two objects
//! never share an address); only a key type whose `Eq` compares weak
//! handles, which all become the same dead marker, can merge.
//!
//! The rebuild calls the keys' `Hash`, `Eq` or `Ord`. If one panics, the
//! entries not yet filed again are dropped (each once) and the panic
//! propagates; a collection or compaction that is rewriting references at
//! that point aborts the process rather than unwind with half its handles
//! rewritten.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::hash::{BuildHasher, Hash};
use core::mem::{self, ManuallyDrop};
use core::ptr::{self, NonNull};
#[cfg(feature = "std")]
use std::collections::{HashMap, HashSet};

use super::{Managed, Visitor};
use crate::heap::GcKind;

/// The addresses a visitor changed while the keys of one map were
/// previewed: `(old, new)`, sorted and without repeats once the walk is
/// over.
///
/// Invariant: each `new` is what the visitor wrote in place of `old`
/// during this walk, so it is the address at which the object that lived
/// at `old` lives now (the visitor's contract), with that memory's
/// provenance; a visitor maps one old address to one new address.
struct Moves {
    pairs: Vec<(usize, NonNull<u8>)>,
}

impl Moves {
    #[inline]
    fn new() -> Self {
        Moves { pairs: Vec::new() }
    }

    /// Visits the references of `key` with `visitor`, on a copy of each
    /// address, and records the addresses the visitor changed. Leaves
    /// `key` as it is.
    #[inline]
    fn preview<K: Managed, V: Visitor + ?Sized>(&mut self, key: &K, visitor: &mut V) {
        // SAFETY: a bitwise copy of a value that stays in the map, so it
        // must never be dropped or change anything it shares with the
        // original: 1. it is in a `ManuallyDrop` and is discarded when this
        // function returns, so nothing it owns is freed through it (also if
        // `visit_refs` panics); 2. `Preview` writes nothing into the places
        // it is handed, and a `visit_refs` whose visitor writes nothing
        // leaves its value as it was (`Managed`'s contract, 2.), so nothing
        // the copy points at (a `Vec`'s buffer, a `Box`'s value) changes
        // either; 3. the original is only borrowed shared meanwhile, and
        // nothing else reads or writes through the copy.
        let mut copy = ManuallyDrop::new(unsafe { ptr::read(key) });
        copy.visit_refs(&mut Preview {
            visitor,
            pairs: &mut self.pairs,
        });
    }

    /// Walks the entries of a map or set: previews each key and visits
    /// each value (maps) in place, with `visitor`. Returns the replaying
    /// visitor if the visitor changed an address in a key, for the
    /// container to file its entries again.
    #[inline]
    fn walk<'e, K, T, V>(
        &mut self,
        entries: impl Iterator<Item = (&'e K, Option<&'e mut T>)>,
        visitor: &mut V,
    ) -> Option<Replay<'_>>
    where
        K: Managed + 'e,
        T: Managed + 'e,
        V: Visitor + ?Sized,
    {
        for (key, value) in entries {
            if K::HAS_REFS {
                self.preview(key, visitor);
            }
            if let Some(value) = value {
                value.visit_refs(visitor);
            }
        }
        self.finish()
    }

    /// The replaying visitor, if the visitor changed any address: the
    /// pairs sorted by old address, for [`Replay`]'s binary search.
    #[inline]
    fn finish(&mut self) -> Option<Replay<'_>> {
        if self.pairs.is_empty() {
            return None;
        }
        self.pairs.sort_unstable_by_key(|&(old, _)| old);
        self.pairs.dedup_by_key(|&mut (old, _)| old);
        Some(Replay { pairs: &self.pairs })
    }
}

/// Hands the wrapped visitor a copy of each address and records, in
/// [`Moves`], the ones it changed; writes nothing into the places it is
/// handed.
struct Preview<'a, V: ?Sized> {
    visitor: &'a mut V,
    pairs: &'a mut Vec<(usize, NonNull<u8>)>,
}

impl<V: ?Sized> Preview<'_, V> {
    #[inline(always)]
    fn record(&mut self, target: &NonNull<u8>, seen: NonNull<u8>) {
        if seen != *target {
            self.pairs.push((target.addr().get(), seen));
        }
    }
}

// SAFETY: 1. it never writes `target` (the wrapped visitor writes into a
// local copy, which is only recorded); 2. it keeps no place: the wrapped
// visitor keeps none (its contract) and the local copy's place ends with
// the call.
unsafe impl<V: Visitor + ?Sized> Visitor for Preview<'_, V> {
    #[inline]
    fn visit(&mut self, target: &mut NonNull<u8>) {
        let mut seen = *target;
        self.visitor.visit(&mut seen);
        self.record(target, seen);
    }

    #[inline]
    fn visit_gc(&mut self, target: &mut NonNull<u8>, kind: &'static GcKind) {
        let mut seen = *target;
        self.visitor.visit_gc(&mut seen, kind);
        self.record(target, seen);
    }

    #[inline]
    fn visit_weak(&mut self, target: &mut NonNull<u8>) {
        let mut seen = *target;
        self.visitor.visit_weak(&mut seen);
        self.record(target, seen);
    }
}

/// Writes into each reference it visits the address the previewed visitor
/// gave for the one it holds, if the visitor changed it.
struct Replay<'a> {
    /// Sorted by old address, without repeats.
    pairs: &'a [(usize, NonNull<u8>)],
}

impl Replay<'_> {
    #[inline]
    fn apply(&self, target: &mut NonNull<u8>) {
        let old = target.addr().get();
        if let Ok(i) = self.pairs.binary_search_by_key(&old, |&(old, _)| old) {
            *target = self.pairs[i].1;
        }
    }
}

// SAFETY: 1. it writes in place of an address only what the previewed
// visitor wrote in place of the same address in this walk, which is where
// that object lives now, with its provenance (invariant on `Moves`); a
// reference to an object the visitor did not move is left as it is; 2. it
// keeps no place.
unsafe impl Visitor for Replay<'_> {
    #[inline]
    fn visit(&mut self, target: &mut NonNull<u8>) {
        self.apply(target);
    }

    #[inline]
    fn visit_gc(&mut self, target: &mut NonNull<u8>, _kind: &'static GcKind) {
        self.apply(target);
    }

    #[inline]
    fn visit_weak(&mut self, target: &mut NonNull<u8>) {
        self.apply(target);
    }
}

#[cfg(feature = "std")]
// SAFETY: every key's references are visited once (previewed, then, if any
// changed, replayed in place on the key taken out of the map) and every
// value's once in place; the entries filed again are the same, so the map
// holds exactly the references it held, rewritten (merged keys aside,
// whose dropped value or key takes its references with it, which a
// container may treat as unreachable from then on). With a visitor that
// writes nothing, nothing is recorded and the map is left as it was.
unsafe impl<K, T, S> Managed for HashMap<K, T, S>
where
    K: Managed + Eq + Hash,
    T: Managed,
    S: BuildHasher,
{
    const HAS_REFS: bool = K::HAS_REFS || T::HAS_REFS;

    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        if !Self::HAS_REFS {
            return;
        }
        let mut moves = Moves::new();
        let entries = self.iter_mut().map(|(key, value)| (key, Some(value)));
        if let Some(mut replay) = moves.walk(entries, visitor) {
            // `drain` keeps the table's capacity: filing the entries again
            // allocates nothing.
            let entries: Vec<(K, T)> = self.drain().collect();
            for (mut key, value) in entries {
                key.visit_refs(&mut replay);
                self.insert(key, value);
            }
        }
    }
}

#[cfg(feature = "std")]
// SAFETY: as for `HashMap`, with keys only.
unsafe impl<K, S> Managed for HashSet<K, S>
where
    K: Managed + Eq + Hash,
    S: BuildHasher,
{
    const HAS_REFS: bool = K::HAS_REFS;

    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        if !Self::HAS_REFS {
            return;
        }
        let mut moves = Moves::new();
        let keys = self.iter().map(|key| (key, None::<&mut ()>));
        if let Some(mut replay) = moves.walk(keys, visitor) {
            let keys: Vec<K> = self.drain().collect();
            for mut key in keys {
                key.visit_refs(&mut replay);
                self.insert(key);
            }
        }
    }
}

// SAFETY: as for `HashMap`; the entries are filed again in the order of
// their rewritten keys.
unsafe impl<K, T> Managed for BTreeMap<K, T>
where
    K: Managed + Ord,
    T: Managed,
{
    const HAS_REFS: bool = K::HAS_REFS || T::HAS_REFS;

    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        if !Self::HAS_REFS {
            return;
        }
        let mut moves = Moves::new();
        let entries = self.iter_mut().map(|(key, value)| (key, Some(value)));
        if let Some(mut replay) = moves.walk(entries, visitor) {
            // Collecting sorts the entries once and builds the tree in
            // bulk, rather than inserting them one by one.
            *self = mem::take(self)
                .into_iter()
                .map(|(mut key, value)| {
                    key.visit_refs(&mut replay);
                    (key, value)
                })
                .collect();
        }
    }
}

// SAFETY: as for `BTreeMap`, with keys only.
unsafe impl<K> Managed for BTreeSet<K>
where
    K: Managed + Ord,
{
    const HAS_REFS: bool = K::HAS_REFS;

    #[inline]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        if !Self::HAS_REFS {
            return;
        }
        let mut moves = Moves::new();
        let keys = self.iter().map(|key| (key, None::<&mut ()>));
        if let Some(mut replay) = moves.walk(keys, visitor) {
            *self = mem::take(self)
                .into_iter()
                .map(|mut key| {
                    key.visit_refs(&mut replay);
                    key
                })
                .collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::boxed::Box;
    use alloc::vec;
    use core::hash::Hasher;
    use core::num::NonZeroUsize;
    use std::collections::{HashMap, HashSet};

    /// A hand-written direct reference that hashes, compares and orders by
    /// its address, as a heap `Gc` does.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
    struct Ref(NonNull<u8>);

    impl Hash for Ref {
        fn hash<H: Hasher>(&self, state: &mut H) {
            self.0.addr().hash(state);
        }
    }

    // SAFETY: the one reference is visited, in place.
    unsafe impl Managed for Ref {
        const HAS_REFS: bool = true;
        fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
            visitor.visit(&mut self.0);
        }
    }

    fn at(addr: usize) -> Ref {
        Ref(NonNull::dangling().with_addr(NonZeroUsize::new(addr).unwrap()))
    }

    /// Moves the objects at even addresses `1000` up, as a compactor would,
    /// counting its calls.
    struct Move(usize);
    // SAFETY: only ever visits the tests' `Ref`s, which hold dangling
    // addresses that are never dereferenced; rewriting them is harmless.
    unsafe impl Visitor for Move {
        fn visit(&mut self, target: &mut NonNull<u8>) {
            self.0 += 1;
            if target.addr().get().is_multiple_of(2) {
                *target = target.map_addr(|a| a.checked_add(1000).unwrap());
            }
        }
    }

    /// Counts its calls and writes nothing.
    struct Count(usize);
    // SAFETY: observes only.
    unsafe impl Visitor for Count {
        fn visit(&mut self, _target: &mut NonNull<u8>) {
            self.0 += 1;
        }
    }

    #[test]
    fn keys_are_visited_once_and_filed_again_under_their_new_addresses() {
        fn visit_all<V: Visitor>(
            map: &mut HashMap<Ref, (usize, Ref)>,
            set: &mut BTreeSet<Ref>,
            paths: &mut HashMap<Vec<Ref>, usize>,
            boxed: &mut HashSet<Box<Ref>>,
            visitor: &mut V,
        ) {
            map.visit_refs(visitor);
            set.visit_refs(visitor);
            paths.visit_refs(visitor);
            boxed.visit_refs(visitor);
        }
        let mut map: HashMap<Ref, (usize, Ref)> = (1..=100).map(|a| (at(a), (a, at(a)))).collect();
        let mut set: BTreeSet<Ref> = (1..=100).map(at).collect();
        // Keys whose references sit behind a pointer: the copy a preview
        // walks shares the buffer with the key in the map.
        let mut paths: HashMap<Vec<Ref>, usize> = (1..=50)
            .map(|a| (vec![at(2 * a - 1), at(2 * a)], a))
            .collect();
        let mut boxed: HashSet<Box<Ref>> = (1..=20).map(|a| Box::new(at(a))).collect();

        let mut count = Count(0);
        visit_all(&mut map, &mut set, &mut paths, &mut boxed, &mut count);
        assert_eq!(count.0, 200 + 100 + 100 + 20);
        assert!(map.iter().all(|(k, v)| k.0.addr().get() == v.0));

        let mut moved = Move(0);
        visit_all(&mut map, &mut set, &mut paths, &mut boxed, &mut moved);
        assert_eq!(moved.0, 200 + 100 + 100 + 20, "every reference once");
        let new = |a: usize| if a.is_multiple_of(2) { a + 1000 } else { a };
        for a in 1..=100 {
            let (old, value) = map[&at(new(a))];
            assert_eq!(old, a);
            assert_eq!(value, at(new(a)), "values are rewritten in place");
            assert!(set.contains(&at(new(a))));
        }
        assert_eq!(map.len(), 100);
        assert!(!map.contains_key(&at(2)));
        let order: Vec<usize> = set.iter().map(|r| r.0.addr().get()).collect();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(
            order, sorted,
            "the set is in the order of the new addresses"
        );
        for a in 1..=50 {
            assert_eq!(paths[&vec![at(2 * a - 1), at(2 * a + 1000)]], a);
        }
        for a in 1..=20 {
            assert!(boxed.contains(&Box::new(at(new(a)))));
        }
    }

    #[test]
    fn an_observing_visitor_leaves_maps_as_they_were() {
        let mut map: HashMap<Ref, u32> = (1..=64).map(|a| (at(a), a as u32)).collect();
        let before: Vec<(Ref, u32)> = map.iter().map(|(k, v)| (*k, *v)).collect();
        let mut count = Count(0);
        map.visit_refs(&mut count);
        assert_eq!(count.0, 64);
        let after: Vec<(Ref, u32)> = map.iter().map(|(k, v)| (*k, *v)).collect();
        assert_eq!(
            before, after,
            "same entries in the same order: not filed again"
        );
    }

    /// A key type that is equal whenever its reference is: two keys whose
    /// references are rewritten to one address merge.
    #[derive(Debug)]
    struct Keyed(Ref, Box<u32>);
    impl PartialEq for Keyed {
        fn eq(&self, other: &Self) -> bool {
            self.0 == other.0
        }
    }
    impl Eq for Keyed {}
    impl Hash for Keyed {
        fn hash<H: Hasher>(&self, state: &mut H) {
            self.0.hash(state);
        }
    }
    // SAFETY: the one reference is visited, in place.
    unsafe impl Managed for Keyed {
        const HAS_REFS: bool = true;
        fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
            self.0.visit_refs(visitor);
        }
    }

    /// Sends every address to one, as a heap sends weak handles to dropped
    /// objects to its dead marker.
    struct Kill;
    // SAFETY: only ever visits the test's `Ref`s (dangling, never read).
    unsafe impl Visitor for Kill {
        fn visit(&mut self, target: &mut NonNull<u8>) {
            *target = at(1).0;
        }
    }

    #[test]
    fn keys_that_become_equal_merge() {
        let mut map: HashMap<Keyed, Box<u32>> = (1..=3)
            .map(|a| (Keyed(at(a), Box::new(a as u32)), Box::new(a as u32)))
            .collect();
        map.visit_refs(&mut Kill);
        assert_eq!(map.len(), 1);
        let (key, value) = map.iter().next().unwrap();
        assert_eq!(key.0, at(1));
        assert!((1..=3).contains(&*key.1) && (1..=3).contains(&**value));
        let mut set: HashSet<Keyed> = (1..=3).map(|a| Keyed(at(a), Box::new(a as u32))).collect();
        set.visit_refs(&mut Kill);
        assert_eq!(set.len(), 1);
    }
}
