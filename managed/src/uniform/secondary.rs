//! [`SecondaryMap`]: data of the program's own beside a [`UniformPool`]'s
//! values, by the same keys, in a dense table instead of a hash map.
//! Safe code only: the table is a `Vec` indexed by the key's place in its
//! pool.

use alloc::vec::Vec;
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
/// it with a panic.
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
        let Some(at) = self.position(key) else {
            foreign(key)
        };
        let generation = generation_of(key);
        if at >= self.slots.len() {
            self.slots.resize_with(at + 1, || None);
        }
        let slot = &mut self.slots[at];
        match slot {
            Some(old) if old.generation > generation => None,
            Some(old) if old.generation == generation => {
                Some(core::mem::replace(&mut old.value, value))
            }
            Some(old) => {
                // An older key's value: replaced, and dropped after the
                // map is consistent again.
                let stale = core::mem::replace(old, Slot { generation, value });
                drop(stale);
                None
            }
            None => {
                *slot = Some(Slot { generation, value });
                self.len += 1;
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
        Iter {
            slots: self.slots.iter().enumerate(),
            left: self.len,
            key: self.key_maker(),
        }
    }

    /// `(key, &mut value)` pairs, in the order of [`iter`](Self::iter).
    #[must_use]
    pub fn iter_mut(&mut self) -> IterMut<'_, V> {
        IterMut {
            key: self.key_maker(),
            slots: self.slots.iter_mut().enumerate(),
            left: self.len,
        }
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
        let generation = generation_of(key);
        match self.slots.get(at)? {
            Some(slot) if slot.generation == generation => Some(at),
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

/// The panic of [`SecondaryMap::insert`] with a foreign key.
#[cold]
#[inline(never)]
#[track_caller]
fn foreign(key: PoolKey) -> ! {
    panic!("{key:?} is a key of another pool than this SecondaryMap's")
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
            None => panic!("no value is attached to {key:?}"),
        }
    }
}

impl<V> IndexMut<PoolKey> for SecondaryMap<V> {
    #[track_caller]
    fn index_mut(&mut self, key: PoolKey) -> &mut V {
        match self.get_mut(key) {
            Some(value) => value,
            None => panic!("no value is attached to {key:?}"),
        }
    }
}

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

/// Iterator over a [`SecondaryMap`]'s `(key, &value)` pairs.
pub struct Iter<'a, V> {
    slots: Enumerate<slice::Iter<'a, Option<Slot<V>>>>,
    /// Values not yet yielded.
    left: usize,
    key: KeyMaker,
}

impl<'a, V> Iterator for Iter<'a, V> {
    type Item = (PoolKey, &'a V);
    fn next(&mut self) -> Option<Self::Item> {
        for (at, slot) in self.slots.by_ref() {
            if let Some(slot) = slot {
                self.left -= 1;
                return Some((self.key.key(at, slot.generation.get()), &slot.value));
            }
        }
        None
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<V> ExactSizeIterator for Iter<'_, V> {}
impl<V> FusedIterator for Iter<'_, V> {}

impl<V> fmt::Debug for Iter<'_, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter").field("left", &self.left).finish()
    }
}

/// Iterator over a [`SecondaryMap`]'s `(key, &mut value)` pairs.
pub struct IterMut<'a, V> {
    slots: Enumerate<slice::IterMut<'a, Option<Slot<V>>>>,
    /// Values not yet yielded.
    left: usize,
    key: KeyMaker,
}

impl<'a, V> Iterator for IterMut<'a, V> {
    type Item = (PoolKey, &'a mut V);
    fn next(&mut self) -> Option<Self::Item> {
        for (at, slot) in self.slots.by_ref() {
            if let Some(slot) = slot {
                self.left -= 1;
                return Some((self.key.key(at, slot.generation.get()), &mut slot.value));
            }
        }
        None
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<V> ExactSizeIterator for IterMut<'_, V> {}
impl<V> FusedIterator for IterMut<'_, V> {}

impl<V> fmt::Debug for IterMut<'_, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IterMut").field("left", &self.left).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::PageSize;
    use crate::uniform::test_support::DropLog;

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
    #[should_panic(expected = "is a key of another pool than this SecondaryMap's")]
    fn a_foreign_key_is_refused() {
        let (pool, _) = pool_of_40();
        let mut other = UniformPool::new();
        let mut map = SecondaryMap::new(&pool);
        map.insert(other.insert(1u8), ());
    }
}
