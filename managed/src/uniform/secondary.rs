//! [`SecondaryMap`]: data of the program's own beside a [`UniformPool`]'s
//! values, by the same keys, in a dense table instead of a hash map.
//! Safe code only: the table is a `Vec` indexed by the key's place in its
//! pool.

use alloc::vec::{self, Vec};
use core::fmt;
use core::iter::{Enumerate, FusedIterator};
use core::num::NonZeroU32;
use core::ops::{Index, IndexMut};
use core::slice;

use super::pool::{PoolKey, UniformPool};

/// Values of another type attached to the keys of one [`UniformPool`]: a
/// name for some of a pool's entities, a cached bounding box for each, the
/// per-frame state of a system that only some of them take part in.
///
/// It plays the part of slotmap's `SecondaryMap`: lookups are an index into
/// a dense table (the key's page and entry in its pool), not a hash, and
/// each value remembers its key's generation, so that a key whose value
/// the pool removed stops finding the attached value as soon as the pool's
/// entry is used again by a new key inserted here. The map does not see the
/// pool: a value attached to a key whose value the pool removed stays
/// until it is removed, replaced by a newer key of the same entry, or
/// dropped by [`retain`](Self::retain) (`map.retain(|key, _|
/// pool.contains(key))`).
///
/// One value per entry of the pool: data keyed by keys whose values the
/// pool removed, kept as a history (what a removed job was retried as),
/// belongs in a `HashMap<PoolKey, _>`, since the pool reuses the entry
/// and the next key of it replaces the older key's value here.
///
/// The map takes the keys of the pool it was made for, and only those: a
/// key of another pool finds nothing, and [`insert`](Self::insert) refuses
/// it with a panic. A [clone](UniformPool#cloning) of the pool shares its
/// keys, so the map takes the clone's keys too, and a clone of the map
/// (`SecondaryMap` is `Clone` when `V` is) goes with a clone of the pool,
/// as part of a snapshot.
///
/// ```
/// use managed::prelude::*;
/// use managed::uniform::SecondaryMap;
///
/// let mut units = UniformPool::new();
/// let scout = units.insert([0.0f32, 0.0]);
/// let tank = units.insert([5.0f32, 1.0]);
/// let mut names = SecondaryMap::new(&units);
/// names.insert(scout, "scout");
/// assert_eq!(names.get(scout), Some(&"scout"));
/// assert_eq!(names.get(tank), None, "nothing attached");
///
/// units.remove(scout);
/// let medic = units.insert([2.0f32, 2.0]); // may reuse the scout's entry
/// assert_eq!(names.get(medic), None, "a new key is not the old one");
/// names.retain(|unit, _| units.contains(unit));
/// assert!(names.is_empty());
/// ```
#[derive(Clone)]
pub struct SecondaryMap<V> {
    /// The id of the pool whose keys the map takes.
    pool: u64,
    /// Positions per group of 256 key indices: a key's position is
    /// `(index >> 8) * stride + (index & 255)`, a multiply and a shift.
    ///
    /// Invariant: between 1 and 256. A pool whose pages hold at most 256
    /// entries gives each page one group of indices, and the stride is
    /// its entries per page, so positions are dense; a pool with larger
    /// pages gives each page several groups, and the stride is 256, so the
    /// position is the index itself, and only the indices past the last
    /// entry of each page (fewer than 256) go unused.
    stride: u32,
    /// By position: the value attached to a key of that entry, with the
    /// key's generation.
    slots: Vec<Option<Slot<V>>>,
    /// The `Some` slots.
    len: usize,
}

/// A value and the generation of the key it is attached to.
#[derive(Clone)]
struct Slot<V> {
    /// Never zero (a key's generation is odd), which gives `Option<Slot>`
    /// its `None` without a tag: a slot is as large as a generation and a
    /// value.
    generation: NonZeroU32,
    value: V,
}

impl<V> SecondaryMap<V> {
    /// An empty map for the keys of `pool`. Allocates nothing.
    #[must_use]
    pub fn new<T, H>(pool: &UniformPool<T, H>) -> Self {
        let (pool, span, capacity) = pool.key_space();
        debug_assert!(capacity > 0 && capacity <= span && span.is_multiple_of(GROUP));
        SecondaryMap {
            pool,
            stride: if span == GROUP { capacity } else { GROUP },
            slots: Vec::new(),
            len: 0,
        }
    }

    /// Attaches `value` to `key`, returning the value that was attached to
    /// the same key, if any. A value attached to an older key of the same
    /// entry (one whose value the pool removed since) is dropped; if a
    /// newer key of the entry has a value here, `key` is stale: nothing
    /// changes, `value` is dropped and `None` returned.
    ///
    /// # Panics
    ///
    /// If `key` was made by another pool than the map's.
    #[track_caller]
    pub fn insert(&mut self, key: PoolKey, value: V) -> Option<V> {
        match self.entry(key)? {
            Entry::Occupied(mut entry) => Some(entry.insert(value)),
            Entry::Vacant(entry) => {
                entry.insert(value);
                None
            }
        }
    }

    /// Detaches and returns the value attached to `key`.
    pub fn remove(&mut self, key: PoolKey) -> Option<V> {
        let at = self.found(key)?;
        self.len -= 1;
        self.slots[at].take().map(|slot| slot.value)
    }

    /// Whether a value is attached to `key`.
    #[must_use]
    pub fn contains(&self, key: PoolKey) -> bool {
        self.found(key).is_some()
    }

    /// The value attached to `key`.
    #[must_use]
    pub fn get(&self, key: PoolKey) -> Option<&V> {
        let at = self.found(key)?;
        self.slots[at].as_ref().map(|slot| &slot.value)
    }

    /// The value attached to `key`, mutably.
    #[must_use]
    pub fn get_mut(&mut self, key: PoolKey) -> Option<&mut V> {
        let at = self.found(key)?;
        self.slots[at].as_mut().map(|slot| &mut slot.value)
    }

    /// The values attached to `N` keys at once, mutably; `None` if a key has
    /// no value attached or two keys name the same value (as
    /// [`UniformPool::get_disjoint_mut`]).
    ///
    /// ```
    /// use managed::prelude::*;
    /// use managed::uniform::SecondaryMap;
    ///
    /// let mut accounts = UniformPool::new();
    /// let (alice, bob) = (accounts.insert("alice"), accounts.insert("bob"));
    /// let mut balance = SecondaryMap::new(&accounts);
    /// balance.extend([(alice, 100u32), (bob, 20)]);
    /// if let Some([from, to]) = balance.get_disjoint_mut([alice, bob]) {
    ///     *from -= 30;
    ///     *to += 30;
    /// }
    /// assert_eq!((balance[alice], balance[bob]), (70, 50));
    /// assert!(balance.get_disjoint_mut([alice, alice]).is_none(), "the same value twice");
    /// ```
    #[must_use]
    pub fn get_disjoint_mut<const N: usize>(&mut self, keys: [PoolKey; N]) -> Option<[&mut V; N]> {
        let mut at = [0; N];
        for (place, key) in at.iter_mut().zip(keys) {
            *place = self.found(key)?;
        }
        // Equal positions (the same value named twice) make the slice's
        // `get_disjoint_mut` refuse.
        let slots = self.slots.get_disjoint_mut(at).ok()?;
        Some(slots.map(|slot| match slot {
            Some(slot) => &mut slot.value,
            None => unreachable!("`found` saw a value in every slot"),
        }))
    }

    /// The place of `key`'s value in the map, to read, update, insert or
    /// remove it with one lookup; `None` when `key` is stale here: a newer
    /// key of its entry has a value attached (as [`insert`](Self::insert)
    /// refuses it).
    ///
    /// A value attached to an older key of the same entry (one whose value
    /// the pool removed since) makes the entry vacant for `key`: inserting
    /// through it drops that value.
    ///
    /// ```
    /// use managed::prelude::*;
    /// use managed::uniform::SecondaryMap;
    ///
    /// let mut particles = UniformPool::new();
    /// let spark = particles.insert([0.0f32; 3]);
    /// let ember = particles.insert([1.0f32; 3]);
    /// let mut hits = SecondaryMap::new(&particles);
    /// for struck in [spark, ember, spark] {
    ///     if let Some(entry) = hits.entry(struck) {
    ///         *entry.or_insert(0) += 1;
    ///     }
    /// }
    /// assert_eq!((hits[spark], hits[ember]), (2, 1));
    ///
    /// // The pool reuses the entry vacated last: smoke takes spark's, and
    /// // spark's count no longer counts for it.
    /// particles.remove(spark);
    /// let smoke = particles.insert([2.0f32; 3]);
    /// assert_eq!(*hits.entry(smoke).unwrap().or_insert(10), 10);
    /// assert!(hits.entry(spark).is_none(), "a newer key of the entry has a value");
    /// ```
    ///
    /// # Panics
    ///
    /// If `key` was made by another pool than the map's.
    #[track_caller]
    pub fn entry(&mut self, key: PoolKey) -> Option<Entry<'_, V>> {
        let Some(at) = self.position(key) else {
            foreign(key.parts())
        };
        let generation = generation_of(key);
        let place = Place { map: self, at, key };
        match place.map.slots.get(at) {
            Some(Some(slot)) if slot.generation > generation => None,
            Some(Some(slot)) if slot.generation == generation => {
                Some(Entry::Occupied(OccupiedEntry(place)))
            }
            _ => Some(Entry::Vacant(VacantEntry(place))),
        }
    }

    /// Detaches every value, yielding `(key, value)` pairs in the order of
    /// [`iter`](Self::iter); the values the iterator did not yield drop
    /// with it. The map is empty from the call on (also when the iterator
    /// is leaked: its values then leak), and the table keeps its memory.
    pub fn drain(&mut self) -> Drain<'_, V> {
        let key = self.key_maker();
        let left = core::mem::take(&mut self.len);
        Drain(Walk::new(self.slots.drain(..), left, key))
    }

    /// The number of attached values.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no value is attached.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Drops every attached value; the table keeps its memory.
    pub fn clear(&mut self) {
        // A panicking destructor leaves an empty map: `Vec::clear` empties
        // the vector before it drops the values, and drops the others
        // while unwinding.
        self.len = 0;
        self.slots.clear();
    }

    /// Keeps only the values for which `f(key, &mut value)` returns `true`
    /// (in the order of [`iter`](Self::iter)): `map.retain(|key, _|
    /// pool.contains(key))` drops the values of keys the pool removed.
    pub fn retain(&mut self, mut f: impl FnMut(PoolKey, &mut V) -> bool) {
        let key = self.key_maker();
        for (at, slot) in self.slots.iter_mut().enumerate() {
            let Some(s) = slot else { continue };
            if !f(key.key(at, s.generation.get()), &mut s.value) {
                self.len -= 1;
                // Taken out first: a panicking destructor leaves the map
                // consistent.
                drop(slot.take());
            }
        }
    }

    /// `(key, &value)` pairs, in the order of the keys' places in their
    /// pool (page by page, the order of [`UniformPool::iter`]).
    #[must_use]
    pub fn iter(&self) -> Iter<'_, V> {
        Iter(Walk::new(self.slots.iter(), self.len, self.key_maker()))
    }

    /// `(key, &mut value)` pairs, in the order of [`iter`](Self::iter).
    #[must_use]
    pub fn iter_mut(&mut self) -> IterMut<'_, V> {
        let key = self.key_maker();
        IterMut(Walk::new(self.slots.iter_mut(), self.len, key))
    }

    /// The keys with an attached value, in the order of
    /// [`iter`](Self::iter).
    pub fn keys(&self) -> impl ExactSizeIterator<Item = PoolKey> + FusedIterator + '_ {
        self.iter().map(|(key, _)| key)
    }

    /// The attached values, in the order of [`iter`](Self::iter).
    pub fn values(&self) -> impl ExactSizeIterator<Item = &V> + FusedIterator + '_ {
        self.iter().map(|(_, value)| value)
    }

    /// The attached values, mutably, in the order of [`iter`](Self::iter).
    pub fn values_mut(&mut self) -> impl ExactSizeIterator<Item = &mut V> + FusedIterator + '_ {
        self.iter_mut().map(|(_, value)| value)
    }

    /// The position of `key` (see `stride`), or `None` for a key of
    /// another pool.
    #[inline]
    fn position(&self, key: PoolKey) -> Option<usize> {
        let (index, _, pool) = key.parts();
        if pool != self.pool {
            return None;
        }
        let (group, at) = (index >> GROUP_SHIFT, index & (GROUP - 1));
        // A key of the pool names an entry of a page: with one group per
        // page, `at` is below the page's entries, the stride.
        debug_assert!(at < self.stride);
        Some(group as usize * self.stride as usize + at as usize)
    }

    /// The position of the slot holding `key`'s value, if one does.
    #[inline]
    fn found(&self, key: PoolKey) -> Option<usize> {
        let at = self.position(key)?;
        let (_, generation, _) = key.parts();
        match self.slots.get(at)? {
            Some(slot) if slot.generation.get() == generation => Some(at),
            _ => None,
        }
    }

    /// What the iterators need to make keys back from positions.
    fn key_maker(&self) -> KeyMaker {
        KeyMaker {
            pool: self.pool,
            stride: self.stride,
        }
    }
}

/// A key's generation, never zero (odd: the generation of an occupied
/// entry).
#[inline]
fn generation_of(key: PoolKey) -> NonZeroU32 {
    let (_, generation, _) = key.parts();
    debug_assert!(generation % 2 == 1);
    // A `None` is unreachable (keys hold odd generations); it would only
    // make the key find nothing.
    NonZeroU32::new(generation).unwrap_or(NonZeroU32::MAX)
}

/// Key indices per group (the pool's groups): the shift.
const GROUP_SHIFT: u32 = 8;
/// Key indices per group.
const GROUP: u32 = 1 << GROUP_SHIFT;

/// The panic of [`SecondaryMap::insert`] and [`SecondaryMap::entry`] with a
/// foreign key; the key's parts by value, as in [`unattached`].
#[cold]
#[inline(never)]
#[track_caller]
fn foreign((index, generation, pool): (u32, u32, u64)) -> ! {
    let key = PoolKey::from_parts(index, generation, pool);
    panic!("{key:?} is a key of another pool than this SecondaryMap's")
}

/// The panic of indexing with a key that has no value attached; out of
/// line, with the key by value, for the reason given on the pool's
/// (`missing` in `uniform/pool.rs`).
#[cold]
#[inline(never)]
#[track_caller]
fn unattached((index, generation, pool): (u32, u32, u64)) -> ! {
    let key = PoolKey::from_parts(index, generation, pool);
    panic!("no value is attached to {key:?}")
}

/// The parts of a map that turn positions into keys.
#[derive(Clone, Copy, Debug)]
struct KeyMaker {
    pool: u64,
    stride: u32,
}

impl KeyMaker {
    /// The key of the value at position `at`, with its generation: the
    /// inverse of [`SecondaryMap::position`].
    #[inline]
    fn key(self, at: usize, generation: u32) -> PoolKey {
        let stride = self.stride as usize;
        // The position came from a key of the pool, so its group and
        // place in the group make that key's index again.
        let index = (((at / stride) << GROUP_SHIFT) | (at % stride)) as u32;
        PoolKey::from_parts(index, generation, self.pool)
    }
}

/// `# Panics` (for both impls): if no value is attached to the key (at the
/// caller's line).
impl<V> Index<PoolKey> for SecondaryMap<V> {
    type Output = V;
    #[track_caller]
    fn index(&self, key: PoolKey) -> &V {
        match self.get(key) {
            Some(value) => value,
            None => unattached(key.parts()),
        }
    }
}

impl<V> IndexMut<PoolKey> for SecondaryMap<V> {
    #[track_caller]
    fn index_mut(&mut self, key: PoolKey) -> &mut V {
        match self.get_mut(key) {
            Some(value) => value,
            None => unattached(key.parts()),
        }
    }
}

/// Two maps are equal when they attach equal values to the same keys (so
/// both take the keys of the same pool, or of a pool and its clone).
impl<V: PartialEq> PartialEq for SecondaryMap<V> {
    fn eq(&self, other: &Self) -> bool {
        // Both walk their slots in the order of the keys' places, which
        // the keys alone decide for maps of one pool's keys.
        self.pool == other.pool && self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<V: Eq> Eq for SecondaryMap<V> {}

impl<V: fmt::Debug> fmt::Debug for SecondaryMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<V> Extend<(PoolKey, V)> for SecondaryMap<V> {
    /// Inserts each pair, as [`insert`](SecondaryMap::insert).
    #[track_caller]
    fn extend<I: IntoIterator<Item = (PoolKey, V)>>(&mut self, pairs: I) {
        for (key, value) in pairs {
            self.insert(key, value);
        }
    }
}

impl<'a, V> IntoIterator for &'a SecondaryMap<V> {
    type Item = (PoolKey, &'a V);
    type IntoIter = Iter<'a, V>;
    fn into_iter(self) -> Iter<'a, V> {
        self.iter()
    }
}

impl<'a, V> IntoIterator for &'a mut SecondaryMap<V> {
    type Item = (PoolKey, &'a mut V);
    type IntoIter = IterMut<'a, V>;
    fn into_iter(self) -> IterMut<'a, V> {
        self.iter_mut()
    }
}

impl<V> IntoIterator for SecondaryMap<V> {
    type Item = (PoolKey, V);
    type IntoIter = IntoIter<V>;
    /// Every `(key, value)` pair, in the order of
    /// [`iter`](SecondaryMap::iter).
    fn into_iter(self) -> IntoIter<V> {
        let key = self.key_maker();
        IntoIter(Walk::new(self.slots.into_iter(), self.len, key))
    }
}

/// A slot as the iterators see it: its generation and what they yield of
/// its value (the value, a reference or a mutable one).
trait SlotParts {
    type Value;
    fn parts(self) -> (u32, Self::Value);
}

impl<V> SlotParts for Slot<V> {
    type Value = V;
    #[inline]
    fn parts(self) -> (u32, V) {
        (self.generation.get(), self.value)
    }
}

impl<'a, V> SlotParts for &'a Slot<V> {
    type Value = &'a V;
    #[inline]
    fn parts(self) -> (u32, &'a V) {
        (self.generation.get(), &self.value)
    }
}

impl<'a, V> SlotParts for &'a mut Slot<V> {
    type Value = &'a mut V;
    #[inline]
    fn parts(self) -> (u32, &'a mut V) {
        (self.generation.get(), &mut self.value)
    }
}

/// The walk behind every iterator of a [`SecondaryMap`]: the table's
/// positions in order (`I` yields `Option<Slot<V>>`, `&Option<Slot<V>>` or
/// `&mut Option<Slot<V>>`), keys made back from them.
struct Walk<I> {
    slots: Enumerate<I>,
    /// Values not yet yielded.
    ///
    /// Invariant: the number of `Some` slots `slots` has left.
    left: usize,
    key: KeyMaker,
}

/// What a walk over `I` yields of each attached value.
type WalkValue<I> = <<<I as Iterator>::Item as IntoIterator>::Item as SlotParts>::Value;

impl<I> Walk<I>
where
    I: Iterator,
    I::Item: IntoIterator,
    <I::Item as IntoIterator>::Item: SlotParts,
{
    fn new(slots: I, left: usize, key: KeyMaker) -> Self {
        Walk {
            slots: slots.enumerate(),
            left,
            key,
        }
    }

    #[inline]
    fn next(&mut self) -> Option<(PoolKey, WalkValue<I>)> {
        for (at, slot) in self.slots.by_ref() {
            // An `Option`, a reference to one or a mutable one: at most one
            // slot comes out.
            if let Some(slot) = slot.into_iter().next() {
                self.left -= 1;
                let (generation, value) = slot.parts();
                return Some((self.key.key(at, generation), value));
            }
        }
        debug_assert_eq!(self.left, 0);
        None
    }
}

/// The iterators, each a [`Walk`] over its own kind of slots.
macro_rules! iterators {
    ($(
        $(#[$doc:meta])*
        $name:ident<$($lt:lifetime,)? $v:ident>: $slots:ty => $item:ty;
    )*) => {$(
        $(#[$doc])*
        pub struct $name<$($lt,)? $v>(Walk<$slots>);

        impl<$($lt,)? $v> Iterator for $name<$($lt,)? $v> {
            type Item = $item;
            #[inline]
            fn next(&mut self) -> Option<Self::Item> {
                self.0.next()
            }
            fn size_hint(&self) -> (usize, Option<usize>) {
                (self.0.left, Some(self.0.left))
            }
        }

        impl<$($lt,)? $v> ExactSizeIterator for $name<$($lt,)? $v> {}
        impl<$($lt,)? $v> FusedIterator for $name<$($lt,)? $v> {}

        impl<$($lt,)? $v> fmt::Debug for $name<$($lt,)? $v> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).field("left", &self.0.left).finish()
            }
        }
    )*};
}

iterators! {
    /// Iterator over a [`SecondaryMap`]'s `(key, &value)` pairs.
    Iter<'a, V>: slice::Iter<'a, Option<Slot<V>>> => (PoolKey, &'a V);
    /// Iterator over a [`SecondaryMap`]'s `(key, &mut value)` pairs.
    IterMut<'a, V>: slice::IterMut<'a, Option<Slot<V>>> => (PoolKey, &'a mut V);
    /// The `(key, value)` pairs of [`SecondaryMap::drain`]; the map is
    /// empty already, and the values not yielded drop with the iterator.
    Drain<'a, V>: vec::Drain<'a, Option<Slot<V>>> => (PoolKey, V);
    /// The `(key, value)` pairs of a [`SecondaryMap`], by value.
    IntoIter<V>: vec::IntoIter<Option<Slot<V>>> => (PoolKey, V);
}

/// A place in a [`SecondaryMap`] found by [`SecondaryMap::entry`].
pub enum Entry<'a, V> {
    /// A value is attached to the key.
    Occupied(OccupiedEntry<'a, V>),
    /// No value is attached to the key (a value of an older key of the
    /// same entry may be, and goes when a value is inserted here).
    Vacant(VacantEntry<'a, V>),
}

/// A key with a value attached (see [`Entry`]).
pub struct OccupiedEntry<'a, V>(Place<'a, V>);

/// A key with no value attached (see [`Entry`]).
pub struct VacantEntry<'a, V>(Place<'a, V>);

/// What both kinds of entry hold: the map, the key and its position.
///
/// Invariant: `at` is the key's position in the map; in an
/// [`OccupiedEntry`], `map.slots[at]` holds the value of exactly this key
/// (its generation), in a [`VacantEntry`] it is past the table's end,
/// empty, or the value of an older key of the entry.
struct Place<'a, V> {
    map: &'a mut SecondaryMap<V>,
    at: usize,
    key: PoolKey,
}

impl<'a, V> Entry<'a, V> {
    /// The key the entry was looked up with.
    #[must_use]
    pub fn key(&self) -> PoolKey {
        match self {
            Entry::Occupied(entry) => entry.0.key,
            Entry::Vacant(entry) => entry.0.key,
        }
    }

    /// The attached value, after attaching `value` if there was none.
    pub fn or_insert(self, value: V) -> &'a mut V {
        self.or_insert_with(|| value)
    }

    /// The attached value, after attaching `f()` if there was none (`f`
    /// runs only then).
    pub fn or_insert_with(self, f: impl FnOnce() -> V) -> &'a mut V {
        match self {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(f()),
        }
    }

    /// The attached value, after attaching `f(key)` if there was none.
    pub fn or_insert_with_key(self, f: impl FnOnce(PoolKey) -> V) -> &'a mut V {
        let key = self.key();
        self.or_insert_with(|| f(key))
    }

    /// The attached value, after attaching `V::default()` if there was
    /// none.
    pub fn or_default(self) -> &'a mut V
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    /// Runs `f` on the attached value, if there is one; the entry again.
    pub fn and_modify(mut self, f: impl FnOnce(&mut V)) -> Self {
        if let Entry::Occupied(entry) = &mut self {
            f(entry.get_mut());
        }
        self
    }
}

/// Why an occupied entry's slot is `Some`: the entry was made for a slot
/// holding the key's value, and borrows the map until it is used up.
const OCCUPIED: &str = "an occupied entry's slot holds its value";

impl<'a, V> OccupiedEntry<'a, V> {
    /// The key the entry was looked up with.
    #[must_use]
    pub fn key(&self) -> PoolKey {
        self.0.key
    }

    /// The attached value.
    #[must_use]
    pub fn get(&self) -> &V {
        &self.0.map.slots[self.0.at].as_ref().expect(OCCUPIED).value
    }

    /// The attached value, mutably.
    #[must_use]
    pub fn get_mut(&mut self) -> &mut V {
        &mut self.0.map.slots[self.0.at].as_mut().expect(OCCUPIED).value
    }

    /// The attached value, for the map's borrow.
    #[must_use]
    pub fn into_mut(self) -> &'a mut V {
        &mut self.0.map.slots[self.0.at].as_mut().expect(OCCUPIED).value
    }

    /// Attaches `value` instead, returning the value it replaces.
    pub fn insert(&mut self, value: V) -> V {
        core::mem::replace(self.get_mut(), value)
    }

    /// Detaches the value and returns it.
    pub fn remove(self) -> V {
        let Place { map, at, .. } = self.0;
        map.len -= 1;
        map.slots[at].take().expect(OCCUPIED).value
    }
}

impl<'a, V> VacantEntry<'a, V> {
    /// The key the entry was looked up with.
    #[must_use]
    pub fn key(&self) -> PoolKey {
        self.0.key
    }

    /// Attaches `value` to the key; a value of an older key of the same
    /// entry is dropped (after the map is consistent again).
    pub fn insert(self, value: V) -> &'a mut V {
        let Place { map, at, key } = self.0;
        if at >= map.slots.len() {
            map.slots.resize_with(at + 1, || None);
        }
        let fresh = Slot {
            generation: generation_of(key),
            value,
        };
        let stale = match &mut map.slots[at] {
            Some(old) => {
                debug_assert!(old.generation < fresh.generation);
                Some(core::mem::replace(old, fresh))
            }
            empty => {
                *empty = Some(fresh);
                map.len += 1;
                None
            }
        };
        drop(stale);
        match &mut map.slots[at] {
            Some(slot) => &mut slot.value,
            None => unreachable!("just attached"),
        }
    }
}

impl<V: fmt::Debug> fmt::Debug for Entry<'_, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Occupied(entry) => f.debug_tuple("Occupied").field(entry).finish(),
            Entry::Vacant(entry) => f.debug_tuple("Vacant").field(entry).finish(),
        }
    }
}

impl<V: fmt::Debug> fmt::Debug for OccupiedEntry<'_, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OccupiedEntry")
            .field("key", &self.0.key)
            .field("value", self.get())
            .finish()
    }
}

impl<V> fmt::Debug for VacantEntry<'_, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VacantEntry")
            .field("key", &self.0.key)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::PageSize;
    use crate::uniform::test_support::{Counted, DropLog};

    /// A pool of 40 values on small pages (16 entries each: positions and
    /// indices differ from the second page on), and its keys.
    fn pool_of_40() -> (UniformPool<u32>, Vec<PoolKey>) {
        let mut pool = UniformPool::with_page_size(PageSize::new(128).unwrap());
        let keys = (0..40).map(|i| pool.insert(i)).collect();
        (pool, keys)
    }

    #[test]
    fn every_value_dropped_once_across_replacements_and_panics() {
        let log = DropLog::default();
        let (mut pool, keys) = pool_of_40();
        let mut map = SecondaryMap::new(&pool);
        for (i, &k) in keys.iter().enumerate() {
            let value = if i == 13 {
                log.make_panicking(i as u64)
            } else {
                log.make(i as u64)
            };
            assert!(map.insert(k, value).is_none());
        }
        // The same key: the old value comes back.
        let old = map.insert(keys[0], log.make(100)).expect("attached");
        assert_eq!(old.id, 0);
        drop(old);
        // A newer key of the same entry replaces (and drops) the old value.
        pool.remove(keys[1]);
        let newer = pool.insert(1);
        assert!(map.insert(newer, log.make(101)).is_none());
        assert_eq!(log.dropped(), 2);
        // The older key is stale now: refused, its value dropped.
        assert!(map.insert(keys[1], log.make(102)).is_none());
        assert_eq!(
            (map.get(newer).map(|v| v.id), map.get(keys[1]).map(|v| v.id)),
            (Some(101), None)
        );
        assert_eq!(log.dropped(), 3);
        // A retain that meets value 13's panicking destructor stops there,
        // consistent.
        let caught = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| {
            map.retain(|_, v| v.id > 20);
        }));
        assert!(caught.is_err());
        assert_eq!(map.len(), map.iter().count());
        assert!(map.values().all(|v| v.id > 13));
        // Clearing drops the rest.
        map.clear();
        assert!(map.is_empty() && map.iter().next().is_none());
        log.assert_all_dropped_once(43);
    }

    #[test]
    fn a_panicking_destructor_in_clear_still_drops_the_rest() {
        let log = DropLog::default();
        let (pool, keys) = pool_of_40();
        let mut map = SecondaryMap::new(&pool);
        for (i, &k) in keys.iter().enumerate() {
            map.insert(
                k,
                if i == 5 {
                    log.make_panicking(i as u64)
                } else {
                    log.make(i as u64)
                },
            );
        }
        let caught = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| map.clear()));
        assert!(caught.is_err());
        log.assert_all_dropped_once(40);
        assert!(map.is_empty());
        // Usable afterwards.
        map.insert(keys[3], log.make(200));
        assert_eq!(map[keys[3]].id, 200);
    }

    #[test]
    fn keys_come_back_from_positions_on_every_page() {
        let (pool, keys) = pool_of_40();
        let mut map = SecondaryMap::new(&pool);
        for &k in keys.iter().rev() {
            map.insert(k, pool[k]);
        }
        let back: Vec<_> = map.iter().map(|(k, v)| (k, *v)).collect();
        let expected: Vec<_> = pool.iter().map(|(k, v)| (k, *v)).collect();
        assert_eq!(back, expected, "in pool order, keys made back exactly");
        // Three pages of 16: the table is dense (no room for the indices'
        // span of 256 per page).
        assert_eq!(map.stride, 16);
        assert_eq!(map.slots.len(), 40);
    }

    #[test]
    fn entries_insert_update_and_remove_with_one_lookup() {
        let log = DropLog::default();
        let (mut pool, keys) = pool_of_40();
        let mut map = SecondaryMap::new(&pool);
        // Vacant past the table's end: the table grows on insert only.
        let entry = map.entry(keys[39]).expect("not stale");
        assert!(matches!(entry, Entry::Vacant(_)) && entry.key() == keys[39]);
        assert_eq!(map.slots.len(), 0, "looking up allocates nothing");
        assert_eq!(map.entry(keys[39]).unwrap().or_insert(log.make(1)).id, 1);
        assert_eq!(map.slots.len(), 40);
        // Occupied: `or_insert` leaves the value, `and_modify` changes it.
        let value = log.make(2);
        assert_eq!(map.entry(keys[39]).unwrap().or_insert(value).id, 1);
        assert_eq!(log.dropped(), 1, "the unused value was dropped");
        map.entry(keys[39]).unwrap().and_modify(|v| v.id = 3);
        assert_eq!(map[keys[39]].id, 3);
        let Some(Entry::Occupied(mut occupied)) = map.entry(keys[39]) else {
            panic!("occupied")
        };
        assert_eq!(occupied.get().id, 3);
        assert_eq!(occupied.insert(log.make(4)).id, 3);
        assert_eq!(occupied.remove().id, 4);
        assert!(map.is_empty() && map.get(keys[39]).is_none());
        // A value of an older key of the entry: vacant for the newer key,
        // and dropped when the newer key's value goes in.
        map.insert(keys[7], log.make(5));
        pool.remove(keys[7]);
        let newer = pool.insert(7);
        let Some(Entry::Vacant(vacant)) = map.entry(newer) else {
            panic!("vacant for the newer key")
        };
        let dropped = log.dropped();
        assert_eq!(vacant.insert(log.make(6)).id, 6);
        assert_eq!(log.dropped(), dropped + 1, "the older key's value went");
        assert_eq!((map.len(), map[newer].id), (1, 6));
        // Now the older key is stale here: no entry.
        assert!(map.entry(keys[7]).is_none());
        assert_eq!(
            *SecondaryMap::new(&pool)
                .entry(newer)
                .unwrap()
                .or_insert_with_key(|k| k),
            newer
        );
        drop(map);
        // Five values made (the first renamed 3 by `and_modify`), each
        // dropped once.
        log.assert_all_dropped_once(5);
    }

    #[test]
    #[should_panic(expected = "no value is attached to PoolKey(3v1@")]
    fn indexing_without_a_value_names_the_key() {
        let (pool, keys) = pool_of_40();
        let map: SecondaryMap<u8> = SecondaryMap::new(&pool);
        let _ = map[keys[3]];
    }

    #[test]
    #[should_panic(expected = "is a key of another pool than this SecondaryMap's")]
    fn entry_refuses_a_foreign_key() {
        let (pool, _) = pool_of_40();
        let mut other = UniformPool::new();
        let mut map: SecondaryMap<()> = SecondaryMap::new(&pool);
        let _ = map.entry(other.insert(1u8));
    }

    #[test]
    fn drain_and_into_iter_yield_in_order_and_drop_the_rest_once() {
        let log = DropLog::default();
        let (pool, keys) = pool_of_40();
        let fill = |map: &mut SecondaryMap<Counted>, base: u64| {
            for (i, &k) in keys.iter().enumerate().step_by(3) {
                let id = base + i as u64;
                map.insert(
                    k,
                    if i == 9 {
                        log.make_panicking(id)
                    } else {
                        log.make(id)
                    },
                );
            }
        };
        let mut map = SecondaryMap::new(&pool);
        fill(&mut map, 0);
        let expected: Vec<(PoolKey, u64)> = map.iter().map(|(k, v)| (k, v.id)).collect();
        let mut drain = map.drain();
        assert_eq!(drain.len(), 14);
        let first: Vec<_> = drain.by_ref().take(2).map(|(k, v)| (k, v.id)).collect();
        assert_eq!(first, expected[..2]);
        assert_eq!(drain.len(), 12);
        // The rest, with value 9's panicking destructor, drop with it.
        let caught = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| drop(drain)));
        assert!(caught.is_err());
        assert!(map.is_empty() && map.iter().next().is_none());
        log.assert_all_dropped_once(14);
        // A leaked drain leaves the map empty (its values leak: plain
        // numbers here, which own nothing).
        let mut numbers = SecondaryMap::new(&pool);
        numbers.extend(keys.iter().map(|&k| (k, 1u64)));
        core::mem::forget(numbers.drain());
        assert!(numbers.is_empty() && numbers.iter().next().is_none());
        numbers.insert(keys[0], 300);
        assert_eq!(numbers.iter().collect::<Vec<_>>(), [(keys[0], &300)]);
        // The owning iterator: all in order, or the rest dropped with it.
        fill(&mut map, 200);
        let all: Vec<(PoolKey, u64)> = map.iter().map(|(k, v)| (k, v.id)).collect();
        let mut owned = map.into_iter();
        let (k, v) = owned.next().unwrap();
        assert_eq!((k, v.id), all[0]);
        drop(v);
        let caught = std::panic::catch_unwind(core::panic::AssertUnwindSafe(|| drop(owned)));
        assert!(caught.is_err());
        log.assert_all_dropped_once(28);
    }

    #[test]
    #[should_panic(expected = "is a key of another pool than this SecondaryMap's")]
    fn a_foreign_key_is_refused() {
        let (pool, _) = pool_of_40();
        let mut other = UniformPool::new();
        let mut map = SecondaryMap::new(&pool);
        map.insert(other.insert(1u8), ());
    }
}
