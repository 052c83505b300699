//! Property tests of `ContiguousUniformPool` against a `HashMap` model:
//! random programs of insert (a key), alloc (a proxy), copying a proxy's
//! key, dropping proxies, removing and deleting by key, `retain`, walks
//! that remove (by dropping proxies and deleting keys) and panic, `with`,
//! `with_mut`, `map`, a guard's `get_disjoint_mut` and `as_mut_slice`,
//! walks beside a view of the other objects (the guard's
//! `for_each_with_others`, the pool's `map_with_others`), and
//! `insert_deferred` and `insert_with_key_deferred` inside walks, `with`
//! closures and guards (some of the queued objects removed again before
//! the borrow ends, some keyed closures panicking).
//! After every step each live handle must read its own object and each
//! stale one nothing, the pool must hold exactly the model's objects
//! (densely, in a slice that `keys()` pairs with), and every removed value
//! must have been dropped exactly once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use managed::contiguous::DefaultKey;
use managed::prelude::*;
use proptest::prelude::*;

/// How many times each id has been dropped.
type DropLog = Rc<RefCell<HashMap<u32, u32>>>;

/// An object's id and key.
type Handle = (u32, DefaultKey);

/// About 800 bytes, so that 20 fill the first buffer: even the short
/// operation sequences run under Miri grow and halve the buffer, moving
/// every object.
struct Obj {
    id: u32,
    value: i64,
    drops: DropLog,
    /// `id` repeated, checked when dropped: a torn or misplaced move shows.
    pad: [u32; 200],
}

/// A copy under the same id and value, whose drops go to a log of its own
/// (the pool's log counts the originals).
impl Clone for Obj {
    fn clone(&self) -> Self {
        Obj {
            id: self.id,
            value: self.value,
            drops: DropLog::default(),
            pad: self.pad,
        }
    }
}

impl Drop for Obj {
    fn drop(&mut self) {
        assert!(self.pad.iter().all(|&p| p == self.id), "object intact");
        *self.drops.borrow_mut().entry(self.id).or_default() += 1;
    }
}

#[derive(Debug, Clone)]
enum Op {
    Insert(i64),
    Alloc(i64),
    /// Keep a copy of a proxy's key (the object is then reachable both
    /// ways, and removal by key detaches the proxy).
    CopyKey(usize),
    DropProxy(usize),
    Remove(usize),
    Delete(usize),
    With(usize),
    WithMut(usize, i64),
    Map(i64),
    /// Keeps the objects whose value is not a multiple of `modulus`.
    Retain(i64),
    /// During `map_with_key`, at the `at`-th object, drop these proxies
    /// and delete these keys.
    WalkWithRemoval {
        at: usize,
        proxies: Vec<usize>,
        keys: Vec<usize>,
    },
    /// Inside `with` on a proxy, delete a key and drop another proxy.
    RemoveInsideWith {
        holder: usize,
        key: usize,
        proxy: usize,
    },
    /// `map` adds `delta`, deletes `victim` and queues `spawn` at the
    /// start, panics at `at`.
    PanicInsideMap {
        at: usize,
        victim: Option<usize>,
        delta: i64,
        spawn: Option<i64>,
    },
    /// In one `borrow_mut` guard: delete `victim`'s key (its removal is
    /// then pending), then `get_disjoint_mut` on three picked keys (often
    /// repeated, stale or the victim's), rotating their values when it
    /// lends them.
    GetDisjoint {
        picks: [usize; 3],
        victim: Option<usize>,
    },
    /// In one `borrow_mut` guard: delete `victim`'s key (its removal is
    /// then pending), then `for_each_with_others`: each object adds the
    /// value of a partner picked by its id and `pick` (often stale, itself
    /// or the victim), read through the view, which refuses those.
    WalkWithOthers {
        pick: usize,
        victim: Option<usize>,
    },
    /// `map_with_others`: at the first object, delete `victim`'s key (its
    /// object is still walked, but no longer found through the view), then
    /// as `WalkWithOthers`.
    MapWithOthers {
        pick: usize,
        victim: Option<usize>,
    },
    /// Adds `delta` to every object through `borrow_mut().as_mut_slice()`.
    SliceMut(i64),
    /// Clones the pool (inside a `with` closure when asked): the clone
    /// holds the model's objects under the same keys, in the same order,
    /// and makes the same key for the next insertion.
    Clone(bool),
    /// `insert_deferred` with the pool unborrowed: an insertion.
    InsertDeferred(i64),
    /// `insert_with_key`; the closure also queues a second object, or
    /// panics (then neither goes in).
    InsertWithKey(i64, bool, bool),
    /// `insert_with_key_deferred` of `value` (`within`: 0 in a
    /// `map_with_key` walk, at its `at`-th object; 1 in a proxy's `with`;
    /// 2 beside a `borrow_mut` guard; 3 unborrowed). The closure queues a
    /// second object with `insert_deferred` if `second`, then panics if
    /// `panics` (its own object is then never inserted); the returned key
    /// is removed again before the borrow ends if `cancel`.
    InsertWithKeyDeferred {
        within: u8,
        at: usize,
        value: i64,
        second: bool,
        panics: bool,
        cancel: bool,
    },
    /// Under a borrow (`within`: 0 a `map_with_key` walk, at its `at`-th
    /// object; 1 a proxy's `with`; 2 a `borrow_mut` guard), queue
    /// `values` with `insert_deferred`, then `remove_deferred` the queued
    /// ones picked by `cancel` (cancelling them) and the keys picked by
    /// `delete`.
    Spawn {
        within: u8,
        at: usize,
        values: Vec<i64>,
        cancel: Vec<usize>,
        delete: Vec<usize>,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (-100i64..100).prop_map(Op::Insert),
        3 => (-100i64..100).prop_map(Op::Alloc),
        1 => any::<usize>().prop_map(Op::CopyKey),
        2 => any::<usize>().prop_map(Op::DropProxy),
        2 => any::<usize>().prop_map(Op::Remove),
        2 => any::<usize>().prop_map(Op::Delete),
        1 => any::<usize>().prop_map(Op::With),
        1 => (any::<usize>(), -5i64..5).prop_map(|(i, d)| Op::WithMut(i, d)),
        1 => (-5i64..5).prop_map(Op::Map),
        1 => (2i64..5).prop_map(Op::Retain),
        1 => (
            0usize..16,
            prop::collection::vec(any::<usize>(), 0..3),
            prop::collection::vec(any::<usize>(), 0..3),
        )
            .prop_map(|(at, proxies, keys)| Op::WalkWithRemoval { at, proxies, keys }),
        1 => (any::<usize>(), any::<usize>(), any::<usize>())
            .prop_map(|(holder, key, proxy)| Op::RemoveInsideWith { holder, key, proxy }),
        1 => (0usize..16, prop::option::of(any::<usize>()), -5i64..5, prop::option::of(-100i64..100))
            .prop_map(|(at, victim, delta, spawn)| Op::PanicInsideMap { at, victim, delta, spawn }),
        2 => (any::<[usize; 3]>(), prop::option::of(any::<usize>()))
            .prop_map(|(picks, victim)| Op::GetDisjoint { picks, victim }),
        1 => (-5i64..5).prop_map(Op::SliceMut),
        1 => any::<bool>().prop_map(Op::Clone),
        2 => (any::<usize>(), prop::option::of(any::<usize>()))
            .prop_map(|(pick, victim)| Op::WalkWithOthers { pick, victim }),
        2 => (any::<usize>(), prop::option::of(any::<usize>()))
            .prop_map(|(pick, victim)| Op::MapWithOthers { pick, victim }),
        1 => (-100i64..100).prop_map(Op::InsertDeferred),
        2 => (-100i64..100, any::<bool>(), prop::bool::weighted(0.2))
            .prop_map(|(v, second, panics)| Op::InsertWithKey(v, second, panics)),
        3 => (
            0u8..4,
            0usize..16,
            -100i64..100,
            any::<bool>(),
            prop::bool::weighted(0.2),
            prop::bool::weighted(0.2),
        )
            .prop_map(|(within, at, value, second, panics, cancel)| {
                Op::InsertWithKeyDeferred { within, at, value, second, panics, cancel }
            }),
        3 => (
            0u8..3,
            0usize..16,
            prop::collection::vec(-100i64..100, 0..5),
            prop::collection::vec(any::<usize>(), 0..3),
            prop::collection::vec(any::<usize>(), 0..2),
        )
            .prop_map(|(within, at, values, cancel, delete)| Op::Spawn {
                within,
                at,
                values,
                cancel,
                delete,
            }),
    ]
}

/// The handles a program holds, and the model of the live objects.
struct State<'p> {
    pool: &'p ContiguousUniformPool<Obj>,
    drops: DropLog,
    /// Live objects by id, with their values.
    model: HashMap<u32, i64>,
    /// Every key handed out (stale ones stay, and must find nothing).
    keys: Vec<(u32, DefaultKey)>,
    /// Live proxies, possibly detached (their object removed by key).
    proxies: Vec<(u32, Proxy<'p, Obj>)>,
    next_id: u32,
}

impl<'p> State<'p> {
    fn object(&mut self, value: i64) -> Obj {
        let id = self.next_id;
        self.next_id += 1;
        self.model.insert(id, value);
        Obj {
            id,
            value,
            drops: self.drops.clone(),
            pad: [id; 200],
        }
    }

    fn key(&self, i: usize) -> Option<(u32, DefaultKey)> {
        (!self.keys.is_empty()).then(|| self.keys[i % self.keys.len()])
    }

    /// Index of a proxy whose object is live, near `i`.
    fn live_proxy(&self, i: usize) -> Option<usize> {
        let n = self.proxies.len();
        (0..n)
            .map(|k| (i + k) % n)
            .find(|&k| self.model.contains_key(&self.proxies[k].0))
    }

    fn step(&mut self, op: Op) {
        let pool = self.pool;
        match op {
            Op::Insert(value) => {
                let object = self.object(value);
                let id = object.id;
                let key = pool.insert(object);
                self.keys.push((id, key));
            }
            Op::Alloc(value) => {
                let object = self.object(value);
                let id = object.id;
                self.proxies.push((id, pool.alloc(object)));
            }
            Op::CopyKey(i) if !self.proxies.is_empty() => {
                let (id, proxy) = &self.proxies[i % self.proxies.len()];
                self.keys.push((*id, Proxy::key(proxy)));
            }
            Op::DropProxy(i) if !self.proxies.is_empty() => {
                let (id, proxy) = self.proxies.swap_remove(i % self.proxies.len());
                drop(proxy);
                self.model.remove(&id);
            }
            Op::Remove(i) => {
                if let Some((id, key)) = self.key(i) {
                    let removed = pool.remove(key);
                    assert_eq!(removed.is_some(), self.model.contains_key(&id));
                    if let Some(object) = removed {
                        assert_eq!((object.id, object.value), (id, self.model[&id]));
                        self.model.remove(&id);
                    }
                }
            }
            Op::Delete(i) => {
                if let Some((id, key)) = self.key(i) {
                    assert_eq!(pool.remove_deferred(key), self.model.remove(&id).is_some());
                }
            }
            Op::With(i) => {
                if let Some(k) = self.live_proxy(i) {
                    let (id, proxy) = &self.proxies[k];
                    assert_eq!(proxy.with(|o| (o.id, o.value)), (*id, self.model[id]));
                }
            }
            Op::WithMut(i, delta) => {
                if let Some(k) = self.live_proxy(i) {
                    let (id, proxy) = &self.proxies[k];
                    proxy.with_mut(|o| o.value += delta);
                    *self.model.get_mut(id).unwrap() += delta;
                }
            }
            Op::Map(delta) => {
                let mut visited = 0;
                pool.map(|o| {
                    o.value += delta;
                    visited += 1;
                });
                assert_eq!(visited, self.model.len());
                self.model.values_mut().for_each(|v| *v += delta);
            }
            Op::Retain(modulus) => {
                let mut visited = 0;
                pool.retain(|key, o| {
                    visited += 1;
                    assert!(self.keys.contains(&(o.id, key)) || self.proxy_of(o.id));
                    o.value % modulus != 0
                });
                assert_eq!(visited, self.model.len());
                self.model.retain(|_, v| *v % modulus != 0);
            }
            Op::WalkWithRemoval { at, proxies, keys } => {
                let before = self.model.len();
                let mut visited = 0;
                let mut removed = Vec::new();
                let drops = self.drops.clone();
                pool.map_with_key(|key, o| {
                    assert!(
                        self.keys.contains(&(o.id, key))
                            || self.proxy_of(o.id)
                            || removed.contains(&o.id)
                    );
                    if visited == at {
                        for &victim in &proxies {
                            if !self.proxies.is_empty() {
                                let n = self.proxies.len();
                                let (id, proxy) = self.proxies.swap_remove(victim % n);
                                drop(proxy);
                                if self.model.contains_key(&id) && !removed.contains(&id) {
                                    removed.push(id);
                                }
                            }
                        }
                        for &victim in &keys {
                            if let Some((id, key)) = self.key(victim) {
                                let live = self.model.contains_key(&id) && !removed.contains(&id);
                                assert_eq!(pool.remove_deferred(key), live);
                                if live {
                                    removed.push(id);
                                }
                            }
                        }
                        for id in &removed {
                            assert_eq!(drops.borrow().get(id), None, "dropped during the walk");
                        }
                    }
                    visited += 1;
                });
                assert_eq!(
                    visited, before,
                    "the walk covers the objects it started with"
                );
                for id in removed {
                    self.model.remove(&id);
                }
            }
            Op::RemoveInsideWith { holder, key, proxy } => {
                let Some(k) = self.live_proxy(holder) else {
                    return;
                };
                let (holder_id, holder_proxy) = self.proxies.swap_remove(k);
                let mut removed = Vec::new();
                holder_proxy.with(|o| {
                    assert_eq!(o.id, holder_id);
                    if let Some((id, key)) = self.key(key)
                        && id != holder_id
                    {
                        let live = self.model.contains_key(&id);
                        assert_eq!(pool.remove_deferred(key), live);
                        if live {
                            removed.push(id);
                            // Its proxy, if any, reaches nothing from now on.
                            for (_, detached) in self.proxies.iter().filter(|p| p.0 == id) {
                                let read =
                                    catch_unwind(AssertUnwindSafe(|| detached.with(|o| o.id)));
                                assert!(read.is_err(), "proxy of {id} read {read:?} once deferred");
                            }
                        }
                    }
                    if !self.proxies.is_empty() {
                        let n = self.proxies.len();
                        let (id, victim) = self.proxies.swap_remove(proxy % n);
                        drop(victim);
                        if self.model.contains_key(&id) && !removed.contains(&id) {
                            removed.push(id);
                        }
                    }
                    for id in &removed {
                        assert_eq!(self.drops.borrow().get(id), None, "dropped during with");
                    }
                });
                self.proxies.push((holder_id, holder_proxy));
                for id in removed {
                    self.model.remove(&id);
                }
            }
            Op::PanicInsideMap {
                at,
                victim,
                delta,
                spawn,
            } => {
                let mut visited_ids = Vec::new();
                let mut victim_id = None;
                let mut spawned = None;
                let result = catch_unwind(AssertUnwindSafe(|| {
                    pool.map(|o| {
                        if visited_ids.is_empty()
                            && let Some(victim) = victim
                            && let Some((id, key)) = self.key(victim)
                            && pool.remove_deferred(key)
                        {
                            victim_id = Some(id);
                        }
                        if visited_ids.is_empty()
                            && spawned.is_none()
                            && let Some(value) = spawn
                        {
                            let object = self.object(value);
                            let id = object.id;
                            spawned = Some((id, pool.insert_deferred(object)));
                        }
                        assert!(visited_ids.len() != at, "map closure panic");
                        o.value += delta;
                        visited_ids.push(o.id);
                    });
                }));
                let walked = self.model.len() - usize::from(spawned.is_some());
                assert_eq!(result.is_err(), at < walked);
                // Moved in when the walk ended, unwinding or not (without
                // a borrow, which would finish the pending removal).
                if let Some((id, key)) = spawned {
                    assert!(pool.contains(key), "spawned before a panic");
                    self.keys.push((id, key));
                }
                for id in &visited_ids {
                    *self.model.get_mut(id).unwrap() += delta;
                }
                if let Some(id) = victim_id {
                    self.model.remove(&id);
                    if result.is_err() {
                        // Kept pending through the unwinding ...
                        assert_eq!(self.drops.borrow().get(&id), None);
                        assert!(!pool.contains(self.keys.iter().find(|k| k.0 == id).unwrap().1));
                        // ... and carried out when the next borrow ends.
                        pool.map(|_| ());
                    }
                }
            }
            Op::GetDisjoint { picks, victim } => {
                if self.keys.is_empty() {
                    return;
                }
                let mut objects = pool.borrow_mut();
                if let Some((id, key)) = victim.and_then(|v| self.key(v)) {
                    assert_eq!(pool.remove_deferred(key), self.model.remove(&id).is_some());
                    assert!(!objects.contains(key), "pending: stale at once");
                }
                let picked = picks.map(|i| self.key(i).unwrap());
                let [(ia, ka), (ib, kb), (ic, kc)] = picked;
                let lendable = ia != ib
                    && ib != ic
                    && ia != ic
                    && [ia, ib, ic].iter().all(|id| self.model.contains_key(id));
                match objects.get_disjoint_mut([ka, kb, kc]) {
                    Some([a, b, c]) => {
                        assert!(lendable, "{picked:?} lent");
                        assert_eq!([a.id, b.id, c.id], [ia, ib, ic]);
                        (a.value, b.value, c.value) = (b.value, c.value, a.value);
                        let (va, vb, vc) = (self.model[&ia], self.model[&ib], self.model[&ic]);
                        self.model.insert(ia, vb);
                        self.model.insert(ib, vc);
                        self.model.insert(ic, va);
                    }
                    None => assert!(!lendable, "{picked:?} refused"),
                }
            }
            Op::WalkWithOthers { pick, victim } => {
                if self.keys.is_empty() {
                    return;
                }
                let mut objects = pool.borrow_mut();
                if let Some((id, key)) = victim.and_then(|v| self.key(v)) {
                    assert_eq!(pool.remove_deferred(key), self.model.remove(&id).is_some());
                }
                let (keys, model) = (&self.keys, &mut self.model);
                let mut walked = 0;
                objects.for_each_with_others(|key, me, others| {
                    walked += 1;
                    visit_beside_others(keys, model, pick, false, key, me, others);
                });
                assert_eq!(walked, objects.len());
            }
            Op::MapWithOthers { pick, victim } => {
                if self.keys.is_empty() {
                    return;
                }
                let stored = pool.borrow().len();
                let victim = victim.and_then(|v| self.key(v));
                let (keys, model) = (&self.keys, &mut self.model);
                let mut walked = 0;
                pool.map_with_others(|key, me, others| {
                    walked += 1;
                    if walked == 1
                        && let Some((id, victim_key)) = victim
                    {
                        assert_eq!(
                            pool.remove_deferred(victim_key),
                            model.remove(&id).is_some()
                        );
                        assert!(!others.contains(victim_key), "hidden from the view at once");
                    }
                    visit_beside_others(keys, model, pick, true, key, me, others);
                });
                assert_eq!(walked, stored, "every stored object once");
            }
            Op::InsertDeferred(value) => {
                let object = self.object(value);
                let id = object.id;
                let key = pool.insert_deferred(object);
                assert_eq!(
                    pool.get_key_id(key),
                    Some(id),
                    "unborrowed: inserted at once"
                );
                self.keys.push((id, key));
            }
            Op::InsertWithKey(value, second, panics) => {
                let object = self.object(value);
                let id = object.id;
                let mut queued = None;
                let made = catch_unwind(AssertUnwindSafe(|| {
                    pool.insert_with_key(|key| {
                        assert!(!pool.contains(key), "not in yet");
                        if second {
                            let other = self.object(value + 1);
                            queued = Some((other.id, pool.insert_deferred(other)));
                        }
                        assert!(!panics, "closure panic");
                        object
                    })
                }));
                match made {
                    Ok(key) => {
                        assert_eq!(pool.get_key_id(key), Some(id));
                        self.keys.push((id, key));
                        if let Some((other, key)) = queued {
                            assert_eq!(pool.get_key_id(key), Some(other));
                            self.keys.push((other, key));
                        }
                    }
                    Err(_) => {
                        // The closure's own object was dropped with it; the
                        // one it queued went in.
                        self.model.remove(&id);
                        if let Some((other, key)) = queued {
                            assert_eq!(pool.get_key_id(key), Some(other));
                            self.keys.push((other, key));
                        }
                    }
                }
            }
            Op::InsertWithKeyDeferred {
                within,
                at,
                value,
                second,
                panics,
                cancel,
            } => {
                let before = self.model.len();
                // What the call made: the object's id, its key (`None` if
                // the closure panicked) and the second object's, if any.
                let mut made: Option<(u32, Option<DefaultKey>, Option<Handle>)> = None;
                let borrowed = within != 3;
                let mut call = |state: &mut Self| {
                    let object = state.object(value);
                    let id = object.id;
                    let mut seen = None;
                    let mut queued = None;
                    let result = catch_unwind(AssertUnwindSafe(|| {
                        pool.insert_with_key_deferred(|key| {
                            seen = Some(key);
                            assert!(!pool.contains(key), "not in yet");
                            assert!(!pool.remove_deferred(key), "no object yet to remove");
                            if second {
                                let other = state.object(value + 1);
                                queued = Some((other.id, pool.insert_deferred(other)));
                            }
                            assert!(!panics, "closure panic");
                            object
                        })
                    }));
                    let key = match result {
                        Ok(key) => {
                            assert_eq!(seen, Some(key), "the closure's key is returned");
                            assert_eq!(pool.contains(key), !borrowed, "queued while borrowed");
                            Some(key)
                        }
                        Err(_) => {
                            // The closure's object was dropped with it.
                            state.model.remove(&id);
                            let lost = seen.unwrap();
                            assert!(!pool.contains(lost));
                            assert!(!pool.remove_deferred(lost), "nothing to cancel");
                            None
                        }
                    };
                    if cancel && let Some(key) = key {
                        assert!(pool.remove_deferred(key));
                        if borrowed {
                            assert_eq!(state.drops.borrow().get(&id), Some(&1), "dropped at once");
                        }
                        state.model.remove(&id);
                    }
                    made = Some((id, key, queued));
                };
                match within {
                    0 => {
                        let mut visited = 0;
                        pool.map_with_key(|_, _| {
                            if visited == at.min(before.saturating_sub(1)) {
                                call(self);
                            }
                            visited += 1;
                        });
                        assert_eq!(visited, before, "a walk does not visit what it spawns");
                    }
                    1 => {
                        let Some(k) = self.live_proxy(at) else {
                            return;
                        };
                        let (id, holder) = self.proxies.swap_remove(k);
                        holder.with(|_| call(self));
                        self.proxies.push((id, holder));
                    }
                    2 => {
                        let guard = pool.borrow_mut();
                        call(self);
                        assert_eq!(guard.len(), before, "not seen by the guard");
                        drop(guard);
                    }
                    _ => call(self),
                }
                let Some((id, key, queued)) = made else {
                    return;
                };
                if let Some(key) = key {
                    let expected = (!cancel).then_some(id);
                    assert_eq!(pool.get_key_id(key), expected, "moved in at the end");
                    self.keys.push((id, key));
                }
                if let Some((other, key)) = queued {
                    assert_eq!(pool.get_key_id(key), Some(other), "moved in at the end");
                    self.keys.push((other, key));
                }
            }
            Op::Spawn {
                within,
                at,
                values,
                cancel,
                delete,
            } => {
                let before = self.model.len();
                let mut spawned: Vec<(u32, DefaultKey)> = Vec::new();
                let mut removed = Vec::new();
                let mut spawn = |state: &mut Self| {
                    for &value in &values {
                        let object = state.object(value);
                        let id = object.id;
                        let key = pool.insert_deferred(object);
                        assert!(!pool.contains(key), "queued: not found yet");
                        spawned.push((id, key));
                    }
                    for &pick in &cancel {
                        if spawned.is_empty() {
                            break;
                        }
                        let (id, key) = spawned.swap_remove(pick % spawned.len());
                        assert!(pool.remove_deferred(key), "a queued insertion cancels");
                        assert!(!pool.remove_deferred(key), "cancelled once");
                        assert_eq!(state.drops.borrow().get(&id), Some(&1), "dropped at once");
                        state.model.remove(&id);
                    }
                    for &pick in &delete {
                        if let Some((id, key)) = state.key(pick) {
                            let live = state.model.contains_key(&id) && !removed.contains(&id);
                            assert_eq!(pool.remove_deferred(key), live);
                            if live {
                                removed.push(id);
                            }
                        }
                    }
                    let stats = pool.detailed_stats();
                    assert_eq!(stats.queued, spawned.len());
                };
                let mut visited = 0;
                match within {
                    0 => {
                        let mut fired = false;
                        pool.map_with_key(|_, _| {
                            if visited == at.min(before.saturating_sub(1)) && !fired {
                                fired = true;
                                spawn(self);
                            }
                            visited += 1;
                        });
                        assert_eq!(visited, before, "a walk does not visit what it spawns");
                        if before == 0 {
                            return;
                        }
                    }
                    1 => {
                        let Some(k) = self.live_proxy(at) else {
                            return;
                        };
                        let (id, holder) = self.proxies.swap_remove(k);
                        holder.with(|_| spawn(self));
                        self.proxies.push((id, holder));
                    }
                    _ => {
                        let guard = pool.borrow_mut();
                        spawn(self);
                        assert_eq!(guard.len(), before, "not seen by the guard");
                        drop(guard);
                    }
                }
                for id in removed {
                    self.model.remove(&id);
                }
                for (id, key) in spawned {
                    assert_eq!(pool.get_key_id(key), Some(id), "moved in at the end");
                    self.keys.push((id, key));
                }
            }
            Op::SliceMut(delta) => {
                let mut objects = pool.borrow_mut();
                let slice = objects.as_mut_slice();
                assert_eq!(slice.len(), self.model.len());
                slice.iter_mut().for_each(|o| o.value += delta);
                self.model.values_mut().for_each(|v| *v += delta);
            }
            Op::Clone(inside_with) => {
                let copy = match self.live_proxy(0) {
                    Some(k) if inside_with => self.proxies[k].1.with(|_| pool.clone()),
                    _ => pool.clone(),
                };
                assert_eq!(copy.len(), self.model.len());
                for &(id, key) in &self.keys {
                    let found = copy.get(key).map(|o| (o.id, o.value));
                    assert_eq!(found, self.model.get(&id).map(|&v| (id, v)), "copy of {id}");
                }
                let order = |p: &ContiguousUniformPool<Obj>| {
                    let objects = p.borrow();
                    objects.iter().map(|(k, o)| (k, o.id)).collect::<Vec<_>>()
                };
                assert_eq!(order(&copy), order(pool), "the same storage order");
                let object = self.object(0);
                let id = object.id;
                let key = pool.insert(object);
                assert_eq!(
                    copy.insert(pool.get(key).unwrap().clone()),
                    key,
                    "the same next key"
                );
                self.keys.push((id, key));
            }
            _ => {}
        }
    }

    fn proxy_of(&self, id: u32) -> bool {
        self.proxies.iter().any(|(p, _)| *p == id)
    }

    /// The pool agrees with the model, every handle reads its own object
    /// or (stale) nothing, and drops happened exactly once for exactly the
    /// removed ids.
    fn check(&self) {
        let pool = self.pool;
        assert_eq!(pool.len(), self.model.len());
        for &(id, key) in &self.keys {
            let found = pool.get(key).map(|o| (o.id, o.value));
            assert_eq!(found, self.model.get(&id).map(|&v| (id, v)), "key of {id}");
        }
        for (id, proxy) in &self.proxies {
            let live = pool.contains(Proxy::key(proxy));
            assert_eq!(live, self.model.contains_key(id), "proxy of {id}");
            if live {
                assert_eq!(proxy.with(|o| (o.id, o.value)), (*id, self.model[id]));
            } else {
                // Removed by key: the proxy reaches nothing, however
                // recently it found its object.
                let read = catch_unwind(AssertUnwindSafe(|| proxy.with(|o| o.id)));
                assert!(read.is_err(), "detached proxy of {id} read {read:?}");
            }
        }
        let stored = pool.borrow();
        // The guard's proxy path agrees (it trusts the positions proxies
        // recorded just above, or their back-pointers, or its table).
        for (id, proxy) in &self.proxies {
            if let Some(&value) = self.model.get(id) {
                let object = stored.by_proxy(proxy);
                assert_eq!((object.id, object.value), (*id, value), "by_proxy of {id}");
            } else {
                let read = catch_unwind(AssertUnwindSafe(|| stored.by_proxy(proxy).id));
                assert!(
                    read.is_err(),
                    "detached proxy of {id} read {read:?} by_proxy"
                );
            }
        }
        assert_eq!(stored.len(), self.model.len(), "storage is dense");
        let in_pool: HashMap<u32, i64> = stored.values().map(|o| (o.id, o.value)).collect();
        assert_eq!(in_pool, self.model);
        for (key, object) in stored.iter() {
            assert_eq!(pool.get_key_id(key), Some(object.id));
        }
        // The slice is the objects in storage order, which `keys()` pairs.
        let slice = stored.as_slice();
        assert!(slice.iter().map(|o| o.id).eq(stored.values().map(|o| o.id)));
        assert!(
            stored
                .keys()
                .zip(slice)
                .map(|(k, o)| (k, o.id))
                .eq(stored.iter().map(|(k, o)| (k, o.id)))
        );
        let log = self.drops.borrow();
        for id in 0..self.next_id {
            let expected = u32::from(!self.model.contains_key(&id));
            assert_eq!(
                log.get(&id).copied().unwrap_or(0),
                expected,
                "drops of {id}"
            );
        }
        let stats = pool.detailed_stats();
        assert_eq!(stats.space.live_bytes, self.model.len() * size_of::<Obj>());
        // One key per stored object; proxies of removed objects hold none.
        assert_eq!(stats.slots, self.model.len());
    }
}

/// One visit of a walk beside the other objects (the guard's
/// `for_each_with_others`, the pool's `map_with_others`), checked against
/// and applied to the model: the walk's key is `me`'s, and `me` holds the
/// model's value (a pending removal is still walked, but has no model
/// entry: nothing more happens to it). A partner is picked by `me`'s id
/// and `pick`; when the view finds it (it must refuse `me` and removed
/// objects, and find every other live one), it must hold the model's
/// value, and `me` adds that value. With `write_partner`, the partner is
/// reached through `get_mut` and first loses 1.
fn visit_beside_others(
    keys: &[Handle],
    model: &mut HashMap<u32, i64>,
    pick: usize,
    write_partner: bool,
    key: DefaultKey,
    me: &mut Obj,
    others: &mut PoolOthers<'_, Obj>,
) {
    if let Some(&(id, _)) = keys.iter().find(|&&(_, k)| k == key) {
        assert_eq!(id, me.id, "the walk's key is the object's");
    }
    let Some(&mine) = model.get(&me.id) else {
        return;
    };
    assert_eq!(me.value, mine);
    let (pid, partner) = keys[(me.id as usize).wrapping_add(pick) % keys.len()];
    // The partner the view found, as the model has it.
    let check = |p: &Obj, model: &HashMap<u32, i64>| {
        assert_ne!(pid, me.id, "the lent object is refused");
        assert_eq!((p.id, Some(&p.value)), (pid, model.get(&pid)));
    };
    let found = if write_partner {
        others.get_mut(partner).map(|p| {
            check(p, model);
            p.value = p.value.wrapping_sub(1);
            model.insert(pid, p.value);
            p.value
        })
    } else {
        others.get(partner).map(|p| {
            check(p, model);
            p.value
        })
    };
    match found {
        Some(value) => {
            me.value = me.value.wrapping_add(value);
            model.insert(me.id, me.value);
        }
        None => assert!(pid == me.id || !model.contains_key(&pid), "{pid} refused"),
    }
}

/// Reads an object's id through its key, inside a shared borrow (the
/// guard's `get`, not the pool's, which would need its own borrow).
trait KeyId {
    fn get_key_id(&self, key: DefaultKey) -> Option<u32>;
}

impl KeyId for ContiguousUniformPool<Obj> {
    fn get_key_id(&self, key: DefaultKey) -> Option<u32> {
        self.borrow().get(key).map(|o| o.id)
    }
}

/// Runs `ops` against a pool and the model, checking after every step.
fn run(ops: &[Op]) {
    let drops: DropLog = Rc::default();
    let pool = ContiguousUniformPool::new();
    let mut state = State {
        pool: &pool,
        drops: drops.clone(),
        model: HashMap::new(),
        keys: Vec::new(),
        proxies: Vec::new(),
        next_id: 0,
    };
    for op in ops {
        state.step(op.clone());
        state.check();
    }
    let allocated = state.next_id;
    drop(state);
    drop(pool);
    let log = drops.borrow();
    assert!((0..allocated).all(|id| log.get(&id) == Some(&1)));
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 3 } else { 2000 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn pool_matches_a_hashmap_model(ops in prop::collection::vec(op(), 0..if cfg!(miri) { 24 } else { 80 })) {
        run(&ops);
    }
}

#[test]
fn a_long_churn_keeps_every_handle_on_its_object() {
    let rounds = if cfg!(miri) { 60 } else { 5_000 };
    let ops: Vec<Op> = (0..rounds)
        .map(|i| match i % 9 {
            0 | 1 => Op::Insert(i as i64),
            2 => Op::Alloc(i as i64),
            3 => Op::Remove(i * 31),
            4 => Op::WalkWithRemoval {
                at: i % 5,
                proxies: vec![i * 7],
                keys: vec![i * 11],
            },
            5 => Op::CopyKey(i * 3),
            6 => Op::WithMut(i * 13, 1),
            7 => Op::Retain(7),
            _ => Op::Map(-1),
        })
        .collect();
    run(&ops);
}
