//! `Managed` for the std maps and sets (`HashMap`, `HashSet`, `BTreeMap`,
//! `BTreeSet`), whose keys may hold references: a heap object as a key
//! (`HashSet<Gc<'gc, Node<'gc>>>`, `HashMap<Gc<'gc, Node<'gc>>, Style>`)
//! is found by its address, which a collection changes.
//!
//! A map hands out its keys shared only, and a key filed under one hash
//! (or in one place of an order) cannot simply be rewritten where it is.
//! So the references of every key are visited through [`Preview`], on a
//! bitwise copy of the key that is forgotten afterwards: the visitor gets
//! a copy of each address, and `Preview` writes nothing into the key. For
//! a visitor that writes (a collection's or compaction's rewriting step)
//! it records in [`Moves`] each address and what the visitor left in its
//! place, in the order visited; an observer (marking, checking) is not
//! recorded. A walk that changes nothing ends there, and the map is as it
//! was. When some key changed, the map takes out, once the walk is over,
//! the entries whose keys changed if few did (a quarter of the key
//! references at most: a probe of each key against the record picks them,
//! and taking one out of a hash map hashes nothing), or else every entry;
//! it replays the recorded changes on their keys ([`Replay`]: the entries
//! come back in the order they were walked, so each reference finds its
//! pair with one compare, and any other is looked up by address) and
//! files each again under its new hash or order (the B-trees, which have
//! no `extract_if` at this crate's minimum Rust version, are rebuilt
//! whole, in bulk). The visitor thus sees each reference exactly once, and
//! the references the map holds afterwards are the rewritten ones.
//!
//! A key that rewriting makes dead (one of its references became the
//! heap's dead marker: a weak handle whose object the collection dropped)
//! is not filed again: its entry is dropped, value included, since no
//! handle can find it any more. Keys that rewriting makes equal otherwise
//! are merged, as `insert` merges them: one entry is kept and the other's
//! value (or key) is dropped. Two keys holding handles to two live objects
//! never become equal (two objects never share an address), so that takes
//! a key type whose `Eq` ignores some of its references.
//!
//! Values are visited in place, through [`Detect`], which notes whether
//! the visitor made one of their weak handles dead. If it did, the map
//! drops, after filing its keys again, every entry whose value holds
//! references that are all dead weak handles ([`holds_only_dead_weak`]: a
//! `GcWeak` whose object is gone, a list of them that all died): a weakly
//! valued map (an interning table) forgets its dead entries as a weakly
//! keyed one does. A value made dead before (`GcWeak::new()`) goes with
//! them then.
//!
//! For the heap's collector, a map whose keys hold weak handles is an
//! ephemeron table (`heap::raw::ephemeron`): while marking, an entry's
//! value is traced only once every object its key's weak handles point
//! at is marked (the preview asks the collector about each weak handle,
//! and a value whose key must wait is handed to the collector, which
//! traces it in place if the key's objects get marked later); after
//! marking, the values of the entries whose keys died are not visited at
//! all (their handles may point at objects the collection dropped) and
//! the entries are dropped with their keys. Every other visitor visits
//! every value.
//!
//! The entries a map drops (keys made dead, values left holding only dead
//! weak handles) go to [`bury`]: the heap's rewriting pass keeps them and
//! drops them once every handle is rewritten, so that a panicking
//! destructor among them can propagate; for every other visitor they are
//! dropped at once. (The merged keys and values of keys made equal are
//! dropped at once.)
//!
//! The rebuild calls the keys' `Hash`, `Eq` or `Ord`. If one panics, the
//! entries not yet filed again are dropped (each once) and the panic
//! propagates; a collection or compaction that is rewriting references at
//! that point aborts the process rather than unwind with half its handles
//! rewritten.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
#[cfg(feature = "std")]
use core::hash::{BuildHasher, Hash};
use core::mem::{self, ManuallyDrop};
use core::ptr::{self, NonNull};
#[cfg(feature = "std")]
use std::collections::{HashMap, HashSet};

use crate::heap::{Ephemerons, GcKind, KeyState, dead};
use crate::visit::{Managed, Visitor};

/// The three `Visitor` methods of a visitor that treats every kind of
/// reference alike, through its method `$handle(&mut self, &mut NonNull<u8>)`.
macro_rules! every_kind_alike {
    ($handle:ident) => {
        #[inline]
        fn visit(&mut self, target: &mut NonNull<u8>) {
            self.$handle(target);
        }

        #[inline]
        fn visit_gc(&mut self, target: &mut NonNull<u8>, _kind: &'static GcKind) {
            self.$handle(target);
        }

        #[inline]
        fn visit_weak(&mut self, target: &mut NonNull<u8>) {
            self.$handle(target);
        }
    };
}

/// Walks the references of `key`, which stays filed in its map, with
/// `observer`, a visitor that writes nothing (`Preview`, `Probe`), on a
/// bitwise copy of the key.
#[inline]
fn walk_copy<K: Managed, W: Visitor>(key: &K, observer: &mut W) {
    // Redundant with the callers (this module's own two non-writing
    // visitors): a reminder of the requirement, not its guard.
    debug_assert!(!observer.writes());
    // SAFETY: a bitwise copy of a value that stays in the map, so it must
    // never be dropped or change anything it shares with the original:
    // 1. it is in a `ManuallyDrop` and is discarded when this function
    // returns, so nothing it owns is freed through it (also if `visit_refs`
    // panics); 2. `observer` writes nothing into the places it is handed
    // (`Preview` and `Probe`, the only callers' visitors, by their
    // contracts), and a `visit_refs` whose visitor writes nothing leaves
    // its value as it was (`Managed`'s contract, 2.), so nothing the copy
    // points at (a `Vec`'s buffer, a `Box`'s value) changes either; 3. the
    // original is only borrowed shared meanwhile, and nothing else reads or
    // writes through the copy.
    let mut copy = ManuallyDrop::new(unsafe { ptr::read(key) });
    copy.visit_refs(observer);
}

/// The addresses a writing visitor was handed in the keys of one map, and
/// what it wrote in their place, in the order visited.
///
/// Invariant: in each `(old, new)`, `new` is what the visitor left in place
/// of `old` during this walk, so it is the address at which the object
/// that lived at `old` lives now (the visitor's contract), with that
/// memory's provenance (`new == old` when it did not move). One object has
/// one address now, so two pairs with the same `old` have the same `new`.
struct Moves {
    pairs: Vec<(NonNull<u8>, NonNull<u8>)>,
    /// How many of the pairs have a `new` that differs from their `old`.
    changed: usize,
    /// Whether the visitor made a weak handle in a value dead (its object
    /// was dropped): the map then drops the entries whose values hold
    /// only dead weak handles ([`holds_only_dead_weak`]).
    values_died: bool,
}

impl Moves {
    #[inline]
    fn new() -> Self {
        Moves {
            pairs: Vec::new(),
            changed: 0,
            values_died: false,
        }
    }

    /// Visits the references of `key` with `visitor`, on a copy of each
    /// address, and records what a writing visitor left there. Leaves
    /// `key` as it is. Returns what the collector's record of weakly keyed
    /// entries tells of the key, if `gated` (else `Live`).
    #[inline]
    fn preview<K: Managed, V: Visitor + ?Sized>(
        &mut self,
        key: &K,
        visitor: &mut V,
        gated: bool,
    ) -> KeyState {
        let record = visitor.writes();
        let mut preview = Preview {
            visitor,
            moves: self,
            record,
            gated,
            state: KeyState::Live,
        };
        walk_copy(key, &mut preview);
        preview.state
    }

    /// Walks the entries of a map or set: previews each key and visits
    /// each value (maps) in place, with `visitor`. Returns the replaying
    /// visitor if the visitor changed an address in a key, for the
    /// container to file its entries again, and whether few of the keys'
    /// references changed (a quarter at most): then the container takes
    /// out only the entries whose keys change, else all of them (each key
    /// then finds its pairs in order, with no probing pass first).
    ///
    /// For the heap's collector (a visitor with [`Ephemerons`]), a value
    /// is visited only if its key's weak handles all point at objects
    /// reachable otherwise: while marking, the others are deferred until
    /// they are (or never traced); after marking, they belong to entries
    /// that this collection drops, and are not visited.
    #[inline]
    fn walk<'e, K, T, V>(
        &mut self,
        entries: impl Iterator<Item = (&'e K, Option<&'e mut T>)>,
        visitor: &mut V,
    ) -> Option<(Replay<'_>, bool)>
    where
        K: Managed + 'e,
        T: Managed + 'e,
        V: Visitor + ?Sized,
    {
        let gated = K::HAS_REFS && T::HAS_REFS && visitor.ephemerons().is_some();
        for (key, value) in entries {
            let from = if gated {
                visitor.ephemerons().map_or(0, |e| e.recorded())
            } else {
                0
            };
            let state = if K::HAS_REFS {
                self.preview(key, visitor, gated && value.is_some())
            } else {
                KeyState::Live
            };
            if let Some(value) = value
                && T::HAS_REFS
            {
                match state {
                    KeyState::Live => {
                        let mut detect = Detect {
                            visitor: &mut *visitor,
                            died: false,
                        };
                        value.visit_refs(&mut detect);
                        self.values_died |= detect.died;
                    }
                    KeyState::Pending => {
                        if let Some(ephemerons) = visitor.ephemerons() {
                            // SAFETY: only the collector's marking visitor
                            // finds a key pending, and it walks in place
                            // the objects (and the root) it traces, so
                            // this value is in a map of one; the key's
                            // pending handles were recorded since `from`
                            // (by the preview just above). The borrow of
                            // `value` ends with this walk.
                            unsafe { ephemerons.defer(value, from) };
                        }
                    }
                    KeyState::Dead => {}
                }
            }
        }
        let few = self.changed <= self.pairs.len() / 4;
        (self.changed > 0).then(|| (Replay::new(&self.pairs), few))
    }
}

/// Hands the wrapped visitor a copy of each address and, if it writes,
/// records in [`Moves`] what it left there; writes nothing into the places
/// it is handed.
struct Preview<'a, V: ?Sized> {
    visitor: &'a mut V,
    moves: &'a mut Moves,
    /// Whether the wrapped visitor writes (an observer's visits are not
    /// recorded: nothing will be replayed).
    record: bool,
    /// Whether to ask the visitor's [`Ephemerons`] about each weak handle
    /// (the entry's value holds references, and the visitor is the heap
    /// collector's).
    gated: bool,
    /// What the weak handles visited so far tell of the key.
    state: KeyState,
}

impl<V: ?Sized> Preview<'_, V> {
    #[inline(always)]
    fn record(&mut self, target: &NonNull<u8>, seen: NonNull<u8>) {
        if self.record {
            self.moves.pairs.push((*target, seen));
            self.moves.changed += usize::from(seen != *target);
        } else {
            // An observer that wrote would break its own contract; what it
            // wrote is not recorded, so the key keeps its address.
            assert!(
                seen == *target,
                "a visitor whose `writes` is false changed an address"
            );
        }
    }
}

// SAFETY: 1. it never writes `target` (the wrapped visitor writes into a
// local copy, which is only recorded); 2. it keeps no place: the wrapped
// visitor keeps none (its contract) and the local copy's place ends with
// the call.
unsafe impl<V: Visitor + ?Sized> Visitor for Preview<'_, V> {
    #[inline]
    fn writes(&self) -> bool {
        false
    }

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
        if self.gated
            && let Some(ephemerons) = self.visitor.ephemerons()
        {
            // SAFETY: only the heap collector's visitors have
            // `Ephemerons`, and they walk only values reachable from the
            // root, whose weak handles hold the dead marker or the start
            // of an object live when the collection began (invariant on
            // `GcWeak::ptr`); `target` holds the key's own address still.
            let state = unsafe { ephemerons.weak_key(*target) };
            self.state = self.state.max(state);
        }
        let mut seen = *target;
        self.visitor.visit_weak(&mut seen);
        self.record(target, seen);
    }
}

/// Hands the wrapped visitor each reference of a value, in place, and
/// notes whether it made a weak handle dead (gave it the heap's dead
/// marker, which only weak handles whose objects were dropped get).
struct Detect<'a, V: ?Sized> {
    visitor: &'a mut V,
    died: bool,
}

// SAFETY: it hands the wrapped visitor the very place it was handed and
// writes nothing itself, so it writes exactly what the wrapped visitor
// writes (that visitor's contract), and keeps no place; it writes only if
// the wrapped visitor does.
unsafe impl<V: Visitor + ?Sized> Visitor for Detect<'_, V> {
    #[inline]
    fn writes(&self) -> bool {
        self.visitor.writes()
    }

    #[inline]
    fn visit(&mut self, target: &mut NonNull<u8>) {
        self.visitor.visit(target);
    }

    #[inline]
    fn visit_gc(&mut self, target: &mut NonNull<u8>, kind: &'static GcKind) {
        self.visitor.visit_gc(target, kind);
    }

    #[inline]
    fn visit_weak(&mut self, target: &mut NonNull<u8>) {
        let was = *target;
        self.visitor.visit_weak(target);
        self.died |= *target == dead() && was != dead();
    }

    #[inline]
    fn ephemerons(&mut self) -> Option<&mut Ephemerons> {
        self.visitor.ephemerons()
    }
}

/// Counts a value's references, and its weak handles that are dead.
struct Deadness {
    refs: usize,
    dead: usize,
}

// SAFETY: observes only: never writes `target`, never keeps it.
unsafe impl Visitor for Deadness {
    #[inline]
    fn writes(&self) -> bool {
        false
    }

    #[inline]
    fn visit(&mut self, _target: &mut NonNull<u8>) {
        self.refs += 1;
    }

    #[inline]
    fn visit_gc(&mut self, _target: &mut NonNull<u8>, _kind: &'static GcKind) {
        self.refs += 1;
    }

    #[inline]
    fn visit_weak(&mut self, target: &mut NonNull<u8>) {
        self.refs += 1;
        self.dead += usize::from(*target == dead());
    }
}

/// Whether `value` holds references, all of them dead weak handles: a
/// weak handle whose object is gone (`GcWeak<'gc, T>`), or a value made of
/// such handles only (`Vec<GcWeak<'gc, T>>` whose handles all died,
/// `(GcWeak<'gc, T>, u32)`). Such a value reaches nothing, so a map drops
/// its entry after a collection that made one of its values' handles
/// dead.
fn holds_only_dead_weak<T: Managed>(value: &T) -> bool {
    let mut deadness = Deadness { refs: 0, dead: 0 };
    walk_copy(value, &mut deadness);
    deadness.refs > 0 && deadness.dead == deadness.refs
}

/// Keeps `entry`, which its map dropped, for [`bury`] if dropping it runs
/// code; else drops it (nothing to defer).
#[inline]
fn keep_dead<E>(dead: &mut Vec<E>, entry: E) {
    if mem::needs_drop::<E>() {
        dead.push(entry);
    }
}

/// Hands the entries a map dropped (keys that died, values left holding
/// only dead weak handles) to the heap collector's rewriting pass, which
/// drops them once every handle is rewritten, so that a destructor's panic
/// can propagate; any other visitor's walk drops them now.
fn bury<V: Visitor + ?Sized, E>(visitor: &mut V, entries: Vec<E>) {
    if entries.is_empty() {
        return;
    }
    match visitor.ephemerons() {
        Some(ephemerons) => ephemerons.bury(entries),
        None => drop(entries),
    }
}

/// Writes into each reference it visits the address the previewed visitor
/// left in place of the one it holds.
///
/// The entries come back in the order the preview walked them (a map
/// drains in the order it iterates), so the pair for the next reference is
/// usually the next one recorded: one compare. Any other reference is
/// looked up by its address in a sorted copy of the pairs, made the first
/// time one is needed, so the result never depends on the order.
struct Replay<'a> {
    /// In the order visited (see [`Moves`]).
    pairs: &'a [(NonNull<u8>, NonNull<u8>)],
    /// The pair expected next.
    next: usize,
    /// The pairs sorted by old address, once one was out of order.
    sorted: Option<Vec<(NonNull<u8>, NonNull<u8>)>>,
    /// Whether a reference replayed since [`keeps`](Self::keeps) last
    /// looked became the heap's dead marker: a weak handle whose object
    /// the collection dropped (only a heap writes the marker, and only into
    /// weak handles: the `Visitor` contract).
    died: bool,
}

impl<'a> Replay<'a> {
    #[inline]
    fn new(pairs: &'a [(NonNull<u8>, NonNull<u8>)]) -> Self {
        Replay {
            pairs,
            next: 0,
            sorted: None,
            died: false,
        }
    }

    /// Rewrites the references of `key`, taken out of its map, and tells
    /// whether the key goes back in: not when one of its weak handles lost
    /// its object in this walk. Such a key can never be looked up again
    /// (no handle reaches a dropped object), so the map drops its entry
    /// rather than file it under the dead marker, where the entries of
    /// every other key that died would merge with it.
    #[inline]
    fn keeps<K: Managed>(&mut self, key: &mut K) -> bool {
        self.died = false;
        key.visit_refs(self);
        !self.died
    }

    /// What the address `old` becomes.
    #[inline]
    fn new_address(&mut self, old: NonNull<u8>) -> NonNull<u8> {
        match self.pairs.get(self.next) {
            Some(&(o, n)) if o == old => {
                self.next += 1;
                n
            }
            _ => self.lookup(old),
        }
    }

    #[inline]
    fn apply(&mut self, target: &mut NonNull<u8>) {
        let new = self.new_address(*target);
        if new != *target {
            self.died |= new == dead();
            *target = new;
        }
    }

    #[cfg(feature = "std")]
    /// Whether any reference of `key`, still filed in its map, changes. If
    /// one does, `rewrites` receives a pair for each of the key's
    /// references, in order, for the replay of the keys taken out.
    #[inline]
    fn changes<K: Managed>(
        &mut self,
        key: &K,
        rewrites: &mut Vec<(NonNull<u8>, NonNull<u8>)>,
    ) -> bool {
        let start = rewrites.len();
        let mut probe = Probe {
            replay: self,
            rewrites,
            changed: false,
        };
        walk_copy(key, &mut probe);
        let changed = probe.changed;
        if !changed {
            rewrites.truncate(start);
        }
        changed
    }

    /// The new address for `old` from the sorted pairs (`old` itself if it
    /// was not recorded: no writing visitor was handed it).
    #[cold]
    fn lookup(&mut self, old: NonNull<u8>) -> NonNull<u8> {
        let sorted = self.sorted.get_or_insert_with(|| {
            let mut sorted = self.pairs.to_vec();
            sorted.sort_unstable_by_key(|&(o, _)| o.addr());
            sorted
        });
        match sorted.binary_search_by_key(&old.addr(), |&(o, _)| o.addr()) {
            Ok(i) => sorted[i].1,
            Err(_) => old,
        }
    }
}

/// Finds, for each reference of a key, what [`Replay`] would write, and
/// records it; writes nothing.
#[cfg(feature = "std")]
struct Probe<'r, 'a> {
    replay: &'r mut Replay<'a>,
    rewrites: &'r mut Vec<(NonNull<u8>, NonNull<u8>)>,
    /// Whether some reference changes.
    changed: bool,
}

#[cfg(feature = "std")]
impl Probe<'_, '_> {
    #[inline]
    fn probe(&mut self, target: &mut NonNull<u8>) {
        let new = self.replay.new_address(*target);
        self.rewrites.push((*target, new));
        self.changed |= new != *target;
    }
}

#[cfg(feature = "std")]
// SAFETY: observes only: never writes `target`, never keeps it.
unsafe impl Visitor for Probe<'_, '_> {
    #[inline]
    fn writes(&self) -> bool {
        false
    }

    every_kind_alike!(probe);
}

// SAFETY: 1. it writes in place of an address only what the previewed
// visitor left in place of the same address in this walk, which is where
// that object lives now, with its provenance (invariant on `Moves`); 2. it
// keeps no place.
unsafe impl Visitor for Replay<'_> {
    every_kind_alike!(apply);
}

#[cfg(feature = "std")]
// SAFETY: every key's references are visited once (previewed, then, if any
// changed, replayed in place on the key taken out of the map) and every
// value's once in place (but those the heap collector's visitors defer or
// skip, for weakly keyed entries: the contract's exception, upheld by
// `Moves::walk`); the entries filed again are the same, so the map
// holds exactly the references it held, rewritten (merged keys, keys made
// dead and, after a value's weak handle was made dead, values holding only
// dead weak handles aside, whose dropped entries take their references
// with them, which a container may treat as unreachable from then on: the
// exception the `Managed` contract makes for maps and sets). With a
// visitor that writes nothing, nothing is recorded, no value's handle is
// made dead, and the map is left as it was.
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
        if let Some((mut replay, few)) = moves.walk(entries, visitor) {
            // The entries taken out are filed again; the table keeps its
            // capacity, so that allocates nothing.
            let mut rewrites = Vec::new();
            let moved: Vec<(K, T)> = if few {
                // Only those whose keys change (taking one out hashes
                // nothing); their pairs are collected in order.
                let moved = self.extract_if(|key, _| replay.changes(key, &mut rewrites));
                moved.collect()
            } else {
                self.drain().collect()
            };
            let mut replay = if few { Replay::new(&rewrites) } else { replay };
            let mut dead = Vec::new();
            for (mut key, value) in moved {
                if replay.keeps(&mut key) {
                    self.insert(key, value);
                } else {
                    keep_dead(&mut dead, (key, value));
                }
            }
            bury(visitor, dead);
        }
        if moves.values_died {
            if mem::needs_drop::<(K, T)>() {
                let dead = self.extract_if(|_, value| holds_only_dead_weak(value));
                let dead: Vec<(K, T)> = dead.collect();
                bury(visitor, dead);
            } else {
                self.retain(|_, value| !holds_only_dead_weak(value));
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
        if let Some((mut replay, few)) = moves.walk(keys, visitor) {
            let mut rewrites = Vec::new();
            let moved: Vec<K> = if few {
                let moved = self.extract_if(|key| replay.changes(key, &mut rewrites));
                moved.collect()
            } else {
                self.drain().collect()
            };
            let mut replay = if few { Replay::new(&rewrites) } else { replay };
            let mut dead = Vec::new();
            for mut key in moved {
                if replay.keeps(&mut key) {
                    self.insert(key);
                } else {
                    keep_dead(&mut dead, key);
                }
            }
            bury(visitor, dead);
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
        if let Some((mut replay, _)) = moves.walk(entries, visitor) {
            // Collecting sorts the entries once and builds the tree in
            // bulk, rather than inserting them one by one.
            let mut dead = Vec::new();
            *self = mem::take(self)
                .into_iter()
                .filter_map(|(mut key, value)| {
                    if replay.keeps(&mut key) {
                        Some((key, value))
                    } else {
                        keep_dead(&mut dead, (key, value));
                        None
                    }
                })
                .collect();
            bury(visitor, dead);
        }
        if moves.values_died && !mem::needs_drop::<(K, T)>() {
            self.retain(|_, value| !holds_only_dead_weak(value));
        } else if moves.values_died {
            // (`BTreeMap::extract_if` is newer than this crate's minimum
            // Rust version.)
            let mut dead = Vec::new();
            *self = mem::take(self)
                .into_iter()
                .filter_map(|(key, value)| {
                    if holds_only_dead_weak(&value) {
                        dead.push((key, value));
                        None
                    } else {
                        Some((key, value))
                    }
                })
                .collect();
            bury(visitor, dead);
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
        if let Some((mut replay, _)) = moves.walk(keys, visitor) {
            let mut dead = Vec::new();
            *self = mem::take(self)
                .into_iter()
                .filter_map(|mut key| {
                    if replay.keeps(&mut key) {
                        Some(key)
                    } else {
                        keep_dead(&mut dead, key);
                        None
                    }
                })
                .collect();
            bury(visitor, dead);
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
        fn writes(&self) -> bool {
            false
        }
        fn visit(&mut self, _target: &mut NonNull<u8>) {
            self.0 += 1;
        }
    }

    #[test]
    fn a_replay_finds_references_in_any_order() {
        let pairs = [
            (at(8).0, at(80).0),
            (at(16).0, at(16).0),
            (at(24).0, at(240).0),
        ];
        let mut replay = Replay::new(&pairs);
        // In order: one compare each, no sorted copy.
        let mut refs = [at(8).0, at(16).0];
        for r in &mut refs {
            replay.visit(r);
        }
        assert_eq!(refs, [at(80).0, at(16).0]);
        assert!(replay.sorted.is_none());
        // Out of order, or never recorded: looked up.
        let mut refs = [at(8).0, at(32).0, at(24).0, at(24).0];
        for r in &mut refs {
            replay.visit(r);
        }
        assert_eq!(refs, [at(80).0, at(32).0, at(240).0, at(240).0]);
        assert!(replay.sorted.is_some());
    }

    /// Claims to observe, but writes.
    struct Liar;
    // SAFETY: a broken visitor, only ever handed the test's dangling `Ref`s
    // (never read), to check that the preview refuses it.
    unsafe impl Visitor for Liar {
        fn writes(&self) -> bool {
            false
        }
        fn visit(&mut self, target: &mut NonNull<u8>) {
            *target = at(1).0;
        }
    }

    #[test]
    #[should_panic(expected = "a visitor whose `writes` is false changed an address")]
    fn an_observer_that_writes_is_refused() {
        let mut set: HashSet<Ref> = (2..5).map(at).collect();
        set.visit_refs(&mut Liar);
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

    /// Moves the objects at addresses that are multiples of 10.
    struct MoveTenth;
    // SAFETY: only ever visits the tests' `Ref`s (dangling, never read).
    unsafe impl Visitor for MoveTenth {
        fn visit(&mut self, target: &mut NonNull<u8>) {
            if target.addr().get().is_multiple_of(10) {
                *target = target.map_addr(|a| a.checked_add(5000).unwrap());
            }
        }
    }

    #[test]
    fn when_few_keys_change_only_their_entries_are_filed_again() {
        let mut map: HashMap<Ref, usize> = (1..=200).map(|a| (at(a), a)).collect();
        let mut set: HashSet<(Ref, Ref)> = (1..=200).map(|a| (at(a), at(a + 1))).collect();
        map.visit_refs(&mut MoveTenth);
        set.visit_refs(&mut MoveTenth);
        let new = |a: usize| if a.is_multiple_of(10) { a + 5000 } else { a };
        assert_eq!(map.len(), 200);
        assert_eq!(set.len(), 200);
        for a in 1..=200 {
            assert_eq!(map[&at(new(a))], a);
            assert!(set.contains(&(at(new(a)), at(new(a + 1)))));
        }
        assert!(!map.contains_key(&at(10)));
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

    /// Sends the addresses that are multiples of `self.0` to the heap's
    /// dead marker, as a collection does with weak handles to the objects
    /// it drops, and moves the others up by `self.1`.
    struct Bury(usize, usize);
    // SAFETY: only ever visits the tests' `Ref`s and `Weak`s (dangling,
    // never read) and the dead marker, which it leaves where it is.
    unsafe impl Visitor for Bury {
        fn visit(&mut self, target: &mut NonNull<u8>) {
            if *target == dead() {
                return;
            }
            *target = if target.addr().get().is_multiple_of(self.0) {
                dead()
            } else {
                target.map_addr(|a| a.checked_add(self.1).unwrap())
            };
        }

        fn visit_weak(&mut self, target: &mut NonNull<u8>) {
            self.visit(target);
        }
    }

    /// A hand-written weak handle: visited as one.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct Weak(NonNull<u8>);

    // SAFETY: the one reference is visited, in place.
    unsafe impl Managed for Weak {
        const HAS_REFS: bool = true;
        fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
            visitor.visit_weak(&mut self.0);
        }
    }

    fn weak(addr: usize) -> Weak {
        Weak(at(addr).0)
    }

    #[test]
    fn entries_whose_values_hold_only_dead_weak_handles_are_dropped() {
        let mut map: HashMap<usize, Weak> = (1..=100).map(|a| (a, weak(a))).collect();
        let mut tree: BTreeMap<usize, Weak> = (1..=100).map(|a| (a, weak(a))).collect();
        // Lists of weak handles: dropped once all of them are dead.
        let mut lists: HashMap<usize, Vec<Weak>> =
            (1..=100).map(|a| (a, vec![weak(a), weak(3 * a)])).collect();
        lists.insert(0, Vec::new());
        // A value dead before goes too, and a strong reference keeps its
        // entry.
        map.insert(0, Weak(dead()));
        let mut mixed: HashMap<usize, (Weak, Ref)> =
            (1..=100).map(|a| (a, (weak(a), at(5)))).collect();
        // No value of this map dies: its dead value stays.
        let mut calm: HashMap<usize, Weak> = [(1, weak(7)), (2, Weak(dead()))].into();
        let mut bury = Bury(3, 10_000);
        map.visit_refs(&mut bury);
        tree.visit_refs(&mut bury);
        lists.visit_refs(&mut bury);
        mixed.visit_refs(&mut bury);
        calm.visit_refs(&mut bury);
        let live: Vec<usize> = (1..=100).filter(|a| a % 3 != 0).collect();
        assert_eq!((map.len(), tree.len()), (live.len(), live.len()));
        for &a in &live {
            assert_eq!(map[&a], weak(a + 10_000));
            assert_eq!(tree[&a], weak(a + 10_000));
        }
        assert_eq!(
            lists.len(),
            live.len() + 1,
            "a list with a live handle stays"
        );
        assert_eq!(lists[&0], [], "an empty list holds no dead handle");
        assert_eq!(lists[&1], [weak(10_001), Weak(dead())]);
        assert_eq!(mixed.len(), 100);
        assert_eq!(mixed[&3], (Weak(dead()), at(10_005)));
        assert_eq!(calm.len(), 2);
    }

    #[test]
    fn entries_whose_keys_lose_their_objects_are_dropped() {
        // Every third key dies and the others move (every entry is filed
        // again), or every thirtieth dies and the others stay (only the
        // entries of the dead keys are taken out).
        for (every, shift) in [(3, 10_000), (30, 0)] {
            let mut map: HashMap<Ref, Box<usize>> =
                (1..=200).map(|a| (at(a), Box::new(a))).collect();
            let dead_key = Ref(dead());
            map.insert(dead_key, Box::new(0));
            let mut set: HashSet<(Ref, usize)> = (1..=200).map(|a| (at(a), a)).collect();
            let mut tree: BTreeMap<Ref, Box<usize>> =
                (1..=200).map(|a| (at(a), Box::new(a))).collect();
            let mut tree_set: BTreeSet<Ref> = (1..=200).map(at).collect();
            tree_set.insert(dead_key);
            let mut bury = Bury(every, shift);
            map.visit_refs(&mut bury);
            set.visit_refs(&mut bury);
            tree.visit_refs(&mut bury);
            tree_set.visit_refs(&mut bury);
            let live: Vec<usize> = (1..=200).filter(|a| a % every != 0).collect();
            assert_eq!((map.len(), set.len()), (live.len() + 1, live.len()));
            assert_eq!((tree.len(), tree_set.len()), (live.len(), live.len() + 1));
            for &a in &live {
                assert_eq!(*map[&at(a + shift)], a);
                assert!(set.contains(&(at(a + shift), a)));
                assert_eq!(*tree[&at(a + shift)], a);
                assert!(tree_set.contains(&at(a + shift)));
            }
            assert_eq!(*map[&dead_key], 0, "a key dead before is kept");
            assert!(tree_set.contains(&dead_key));
            assert!(!tree.contains_key(&dead_key), "dead keys do not merge");
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
