//! `ContiguousUniformPool` against a model of its live objects: alloc, drop
//! proxies in random order (also from inside `map`, `with` and `with_mut`
//! closures, and during a `map` that panics), `with`/`with_mut`, nested
//! shared borrows, `map`, guard batches (`borrow().get`,
//! `borrow_mut().get_mut`, proxies dropped while a guard looks keys up,
//! objects removed by key while a guard reads them through proxies),
//! `into_inner`, and the misuses the pool rejects at run time (alloc
//! during a borrow, a proxy of another pool given to a guard).
//!
//! Objects owned by keys too (`insert`, `insert_with_key` with a closure
//! that may queue and panic, `remove`), and the deferred operations inside
//! every kind of borrow (`map`, `map_with_key`, both guards, `with`):
//! `insert_deferred` (queued, cancelled by `remove_deferred`) and
//! `remove_deferred` of live, stale and proxy-owned keys, with walks that
//! panic; `retain` with a predicate that panics and removes; the guards'
//! lookups (`PoolRef::lookup`, `get`, `contains`, `keys`), `get_disjoint_mut`
//! (on the pool and on a `PoolRefMut`), `split_mut` and
//! `for_each_with_others` with their `Others` view asked for the lent key,
//! stale keys and keys removed during the borrow.
//!
//! A program is a list of epochs: proxies live for one epoch, at whose end
//! some are dropped and the rest forgotten (their objects stay, reached by
//! key from then on), then an exclusive operation runs (`clear`, `drain`,
//! `shrink_to_fit`, `iter_mut`, `get_disjoint_mut`). Some destructors
//! panic; every value must still be dropped exactly once, and the pool
//! must stay dense and consistent.

#![no_main]

use std::collections::{HashMap, HashSet};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use managed::prelude::*;
use managed_fuzz::{Tracked, catch, drops, expect_panic_with, install_panic_hook, pick};

const MAX_EPOCHS: usize = 8;
const MAX_OPS: usize = 64;

/// Pad words: about 500 bytes an object, so 32 fill the first 16 KiB
/// buffer and a program grows and halves it (moving every object).
const PAD: usize = 60;

struct Obj {
    t: Tracked,
    /// `id` repeated: a torn or misplaced move shows.
    pad: [u64; PAD],
}

impl Obj {
    fn new(value: u8, bomb: bool) -> Self {
        let t = Tracked::with_bomb(value.into(), bomb);
        let id = u64::from(t.id());
        Obj { t, pad: [id; PAD] }
    }

    fn seen(&self) -> (u32, u64) {
        let id = self.t.id();
        assert!(
            self.pad[0] == u64::from(id) && self.pad[PAD - 1] == u64::from(id),
            "object {id} is torn"
        );
        (id, self.t.value())
    }
}

/// A copy under a fresh id (and its bomb), so its drop is counted apart.
impl Clone for Obj {
    fn clone(&self) -> Self {
        let t = self.t.clone();
        let id = u64::from(t.id());
        Obj { t, pad: [id; PAD] }
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    Alloc(u8, bool),
    Drop(u8),
    IntoInner(u8),
    With(u8),
    WithMut(u8, u8),
    NestedWith(u8, u8),
    Map(u8),
    DropInsideMap {
        at: u8,
        victims: [u8; 3],
        count: u8,
    },
    DropInsideWith {
        holder: u8,
        victim: u8,
    },
    DropInsideWithMut {
        holder: u8,
        victim: u8,
        value: u8,
    },
    PanicInsideMap {
        at: u8,
        victim: Option<u8>,
        value: u8,
    },
    AllocInsideMap,
    WithMutInsideWith(u8, u8),
    GuardGet([u8; 4]),
    GuardGetMut([u8; 4], u8),
    DropInsideGuard {
        victims: [u8; 3],
        lookups: [u8; 4],
    },
    RemoveByKeyInsideGuard {
        victim: u8,
        lookups: [u8; 4],
    },
    Foreign,
    /// Clones the pool: the copy holds the same values under the same
    /// keys, in the same order, and makes the same next key; it is then
    /// dropped (its bombs too).
    Clone(u8),
    InsertKey(u8, bool),
    RemoveKey(KeyPick),
    InsertWithKey {
        value: u8,
        bomb: bool,
        spawn: Option<u8>,
        panic: bool,
    },
    Deferred {
        walk: Walk,
        at: u8,
        spawn: [Option<(u8, bool)>; 2],
        victims: [Option<KeyPick>; 2],
        cancel: bool,
        panic: bool,
    },
    Retain {
        keep: u64,
        panic_at: Option<u8>,
        victim: Option<KeyPick>,
        spawn: Option<u8>,
    },
    GuardLookup {
        lookups: [KeyPick; 4],
        victim: Option<KeyPick>,
    },
    DisjointInGuard {
        picks: [KeyPick; 3],
        victim: Option<KeyPick>,
        value: u8,
    },
    SplitMut {
        lent: KeyPick,
        victims: [Option<KeyPick>; 2],
        lookups: [KeyPick; 3],
        value: u8,
    },
    WalkWithOthers {
        lookups: [KeyPick; 2],
        victim_at: u8,
        victim: Option<KeyPick>,
        panic_at: Option<u8>,
        value: u8,
    },
}

/// A key to look up or remove: a live proxy's, a key-owned object's, or a
/// stale one (its object gone).
#[derive(Arbitrary, Debug, Clone, Copy)]
enum KeyPick {
    Proxy(u8),
    Keyed(u8),
    Stale(u8),
}

/// The borrow inside which `Op::Deferred` queues and removes.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Walk {
    Map,
    MapWithKey,
    MapWithOthers,
    Guard,
    GuardMut,
    With(u8),
}

#[derive(Arbitrary, Debug)]
enum Exclusive {
    Nothing,
    Clear,
    Drain(u8),
    Shrink,
    IterMut(u8),
    GetDisjoint([u8; 3], u8),
}

#[derive(Arbitrary, Debug)]
struct Epoch {
    ops: Vec<Op>,
    /// Bit `i % 64` set: the `i`-th remaining proxy is forgotten at the end
    /// of the epoch instead of dropped.
    forget: u64,
    then: Exclusive,
}

type Model = HashMap<u32, u64>;
type Proxies<'p> = Vec<(u32, Proxy<'p, Obj>)>;

/// How many stale keys are kept to look up.
const MAX_STALE: usize = 16;

/// Objects owned by their keys (inserted by key, or whose proxy was
/// forgotten), and keys whose objects are gone.
#[derive(Default)]
struct Keys {
    live: Vec<(u32, DefaultKey)>,
    stale: Vec<DefaultKey>,
}

impl Keys {
    fn retire(&mut self, key: DefaultKey) {
        if self.stale.len() == MAX_STALE {
            self.stale.remove(0);
        }
        self.stale.push(key);
    }

    /// The key `pick` names and its object's id (`None` for a stale key),
    /// or `None` when the list it picks from is empty.
    fn resolve(&self, proxies: &Proxies<'_>, which: KeyPick) -> Option<(DefaultKey, Option<u32>)> {
        match which {
            KeyPick::Proxy(i) => pick(i, proxies.len()).map(|i| {
                let (id, p) = &proxies[i];
                (Proxy::key(p), Some(*id))
            }),
            KeyPick::Keyed(i) => pick(i, self.live.len()).map(|i| {
                let (id, key) = self.live[i];
                (key, Some(id))
            }),
            KeyPick::Stale(i) => pick(i, self.stale.len()).map(|i| (self.stale[i], None)),
        }
    }

    /// The id of every known live key.
    fn ids_by_key(&self, proxies: &Proxies<'_>) -> HashMap<DefaultKey, u32> {
        let by_proxy = proxies.iter().map(|(id, p)| (Proxy::key(p), *id));
        by_proxy
            .chain(self.live.iter().map(|&(id, key)| (key, id)))
            .collect()
    }
}

/// What a lookup of `key` (with object `id`, `None` if stale) must find
/// during a borrow in which the objects of `gone` were removed.
fn expect_at(model: &Model, gone: &[u32], id: Option<u32>) -> Option<(u32, u64)> {
    id.filter(|id| !gone.contains(id))
        .map(|id| (id, model[&id]))
}

/// `remove_deferred` during a borrow: `true` for a live object not
/// removed yet, whose destructor waits for the borrow's end, and keys stop
/// finding it at once.
fn remove_in_borrow(
    pool: &ContiguousUniformPool<Obj>,
    (key, id): (DefaultKey, Option<u32>),
    gone: &mut Vec<u32>,
) {
    let live = id.filter(|id| !gone.contains(id));
    let len = pool.len();
    assert_eq!(pool.remove_deferred(key), live.is_some(), "remove_deferred");
    assert!(!pool.contains(key), "a removed key is found");
    if let Some(id) = live {
        assert_eq!(drops::count(id), 0, "dropped during the borrow");
        assert_eq!(pool.len(), len - 1, "len counts a pending removal");
        gone.push(id);
    } else {
        assert_eq!(pool.len(), len);
    }
}

/// `insert_deferred` during a borrow: the object is queued, not found.
fn spawn_in_borrow(
    pool: &ContiguousUniformPool<Obj>,
    value: u8,
    bomb: bool,
    spawned: &mut Vec<(u32, DefaultKey, u64)>,
) {
    let o = Obj::new(value, bomb);
    let (id, v) = o.seen();
    let len = pool.len();
    // Odd values take the keyed path: the object is made from its key at
    // once, under the borrow, and queued as `insert_deferred` queues it.
    let key = if value % 2 == 1 {
        let mut given = None;
        let key = pool.insert_with_key_deferred(|key| {
            assert!(!pool.contains(key), "a reserved key is found");
            given = Some(key);
            o
        });
        assert_eq!(given, Some(key), "the closure got the key returned");
        key
    } else {
        pool.insert_deferred(o)
    };
    assert!(!pool.contains(key), "a queued object is found");
    assert_eq!(pool.len(), len, "len counts a queued object");
    spawned.push((id, key, v));
}

/// After a borrow (settled): removed objects were dropped once and leave
/// the model, queued ones joined it.
fn end_borrow(
    pool: &ContiguousUniformPool<Obj>,
    model: &mut Model,
    keys: &mut Keys,
    gone: &[u32],
    spawned: &[(u32, DefaultKey, u64)],
) {
    settle(pool);
    for id in gone {
        assert_eq!(drops::count(*id), 1, "dropped when the borrow ended");
        model.remove(id);
    }
    for &(id, key, value) in spawned {
        assert_eq!(drops::count(id), 0, "a queued object was dropped");
        assert!(pool.contains(key), "a queued object was not moved in");
        assert_eq!(pool.get(key).map(|o| o.seen()), Some((id, value)));
        model.insert(id, value);
        keys.live.push((id, key));
    }
}

/// Takes out of the lists the proxies and keys whose objects left the
/// model (removed by key): a proxy reports its object gone, and dropping it
/// removes nothing.
fn reap(proxies: &mut Proxies<'_>, keys: &mut Keys, model: &Model) {
    let mut i = 0;
    while i < proxies.len() {
        if model.contains_key(&proxies[i].0) {
            i += 1;
            continue;
        }
        let (id, p) = proxies.swap_remove(i);
        expect_panic_with("removed by key", || p.with(Obj::seen));
        keys.retire(Proxy::key(&p));
        drop_proxy(p);
        assert_eq!(drops::count(id), 1);
    }
    let (live, dead): (Vec<_>, Vec<_>) =
        keys.live.iter().partition(|(id, _)| model.contains_key(id));
    keys.live = live;
    for (_, key) in dead {
        keys.retire(key);
    }
}

/// Carries out removals left pending by a panicking destructor: every end
/// of a borrow does, one panic at a time.
fn settle(pool: &ContiguousUniformPool<Obj>) {
    while catch(|| pool.map(|_| ())).is_none() {}
}

/// Drops a proxy; a bomb's panic comes out of the drop (the object is
/// removed all the same).
fn drop_proxy(p: Proxy<'_, Obj>) {
    let _ = catch(move || drop(p));
}

/// Takes a proxy other than `holder` out of the list; returns the
/// victim and the holder's new index.
fn take_victim<'p>(
    proxies: &mut Proxies<'p>,
    holder: u8,
    victim: u8,
) -> (usize, (u32, Proxy<'p, Obj>)) {
    let n = proxies.len();
    let holder = usize::from(holder) % n;
    let mut victim = usize::from(victim) % n;
    if victim == holder {
        victim = (victim + 1) % n;
    }
    let taken = proxies.remove(victim);
    (if victim < holder { holder - 1 } else { holder }, taken)
}

fn run_op<'p>(
    pool: &'p ContiguousUniformPool<Obj>,
    other: &ContiguousUniformPool<Obj>,
    proxies: &mut Proxies<'p>,
    keys: &mut Keys,
    model: &mut Model,
    op: &Op,
) {
    match *op {
        Op::Alloc(v, bomb) => {
            let o = Obj::new(v, bomb);
            let (id, value) = o.seen();
            let p = pool.alloc(o);
            assert!(pool.contains_proxy(&p));
            assert!(!other.contains_proxy(&p));
            proxies.push((id, p));
            model.insert(id, value);
        }
        Op::Drop(i) => {
            if let Some(i) = pick(i, proxies.len()) {
                let (id, p) = proxies.swap_remove(i);
                drop_proxy(p);
                model.remove(&id);
                assert_eq!(drops::count(id), 1);
            }
        }
        Op::IntoInner(i) => {
            if let Some(i) = pick(i, proxies.len()) {
                let (id, p) = proxies.swap_remove(i);
                let o = Proxy::into_inner(p);
                assert_eq!(o.seen(), (id, model.remove(&id).unwrap()));
                assert_eq!(drops::count(id), 0);
                let _ = catch(move || drop(o));
            }
        }
        Op::With(i) => {
            if let Some(i) = pick(i, proxies.len()) {
                let (id, p) = &proxies[i];
                assert_eq!(p.with(Obj::seen), (*id, model[id]));
            }
        }
        Op::WithMut(i, v) => {
            if let Some(i) = pick(i, proxies.len()) {
                let (id, p) = &proxies[i];
                p.with_mut(|o| o.t.set(v.into()));
                model.insert(*id, v.into());
            }
        }
        Op::NestedWith(i, j) => {
            if let (Some(i), Some(j)) = (pick(i, proxies.len()), pick(j, proxies.len())) {
                let ((a, pa), (b, pb)) = (&proxies[i], &proxies[j]);
                let (sa, sb) = pa.with(|oa| (oa.seen(), pb.with(Obj::seen)));
                assert_eq!((sa, sb), ((*a, model[a]), (*b, model[b])));
            }
        }
        Op::Map(v) => {
            let mut visited = 0;
            pool.map(|o| {
                let x = o.t.value();
                o.t.set(x.wrapping_add(v.into()));
                visited += 1;
            });
            assert_eq!(visited, model.len());
            model
                .values_mut()
                .for_each(|x| *x = x.wrapping_add(v.into()));
        }
        Op::DropInsideMap { at, victims, count } => {
            let before = model.len();
            let mut visited = 0;
            let mut removed = Vec::new();
            let count = usize::from(count % 4);
            let result = catch(|| {
                pool.map(|_| {
                    if visited == usize::from(at) {
                        for &victim in &victims[..count.min(3)] {
                            if let Some(v) = pick(victim, proxies.len()) {
                                let (id, p) = proxies.swap_remove(v);
                                // Deferred: the object stays for the walk.
                                drop(p);
                                assert_eq!(drops::count(id), 0, "dropped during map");
                                removed.push(id);
                            }
                        }
                    }
                    visited += 1;
                });
            });
            // Only a victim's destructor can panic, when the walk ends.
            if result.is_none() {
                assert!(!removed.is_empty());
            }
            assert_eq!(
                visited, before,
                "the walk covers the objects it started with"
            );
            for id in removed {
                model.remove(&id);
            }
        }
        Op::DropInsideWith { holder, victim } => {
            if proxies.len() >= 2 {
                let (h, (vid, vp)) = take_victim(proxies, holder, victim);
                let (hid, hp) = &proxies[h];
                let mut vp = Some(vp);
                let seen = catch(|| {
                    hp.with(|o| {
                        drop(vp.take());
                        assert_eq!(drops::count(vid), 0, "dropped during with");
                        o.seen()
                    })
                });
                if let Some(seen) = seen {
                    assert_eq!(seen, (*hid, model[hid]));
                }
                model.remove(&vid);
            }
        }
        Op::DropInsideWithMut {
            holder,
            victim,
            value,
        } => {
            if proxies.len() >= 2 {
                let (h, (vid, vp)) = take_victim(proxies, holder, victim);
                let (hid, hp) = &proxies[h];
                let mut vp = Some(vp);
                let _ = catch(|| {
                    hp.with_mut(|o| {
                        drop(vp.take());
                        o.t.set(value.into());
                    })
                });
                // The closure ran to its end before the victim's removal.
                model.insert(*hid, value.into());
                model.remove(&vid);
            }
        }
        Op::PanicInsideMap { at, victim, value } => {
            let mut visited = Vec::new();
            let mut victim_id = None;
            let result = catch(|| {
                pool.map(|o| {
                    if visited.is_empty()
                        && let Some(v) = victim.and_then(|v| pick(v, proxies.len()))
                    {
                        let (id, p) = proxies.swap_remove(v);
                        drop(p);
                        victim_id = Some(id);
                    }
                    if visited.len() == usize::from(at) {
                        std::panic::panic_any(managed_fuzz::Intended);
                    }
                    o.t.set(value.into());
                    visited.push(o.t.id());
                });
            });
            if usize::from(at) < model.len() {
                assert!(result.is_none());
            }
            for id in &visited {
                model.insert(*id, value.into());
            }
            if let Some(id) = victim_id {
                model.remove(&id);
            }
        }
        Op::AllocInsideMap => {
            let mut first = true;
            pool.map(|_| {
                if first {
                    first = false;
                    expect_panic_with("already borrowed", || pool.alloc(Obj::new(0, false)));
                }
            });
        }
        Op::WithMutInsideWith(i, j) => {
            if let (Some(i), Some(j)) = (pick(i, proxies.len()), pick(j, proxies.len())) {
                let (pa, pb) = (&proxies[i].1, &proxies[j].1);
                pa.with(|_| expect_panic_with("already borrowed", || pb.with_mut(|_| ())));
            }
        }
        Op::GuardGet(is) => {
            let guard = pool.borrow();
            assert_eq!(guard.len(), model.len());
            for i in is {
                if let Some(i) = pick(i, proxies.len()) {
                    let (id, p) = &proxies[i];
                    assert_eq!(guard.by_proxy(p).seen(), (*id, model[id]));
                }
            }
        }
        Op::GuardGetMut(is, v) => {
            let mut guard = pool.borrow_mut();
            for i in is {
                if let Some(i) = pick(i, proxies.len()) {
                    let (id, p) = &proxies[i];
                    guard.by_proxy_mut(p).t.set(v.into());
                    model.insert(*id, v.into());
                }
            }
        }
        Op::DropInsideGuard { victims, lookups } => {
            // A guard resolves keys from what it copied when its borrow
            // began: proxies dropped while it lives must vanish from its
            // lookups at once, and the rest must still be found.
            let mut removed = Vec::new();
            let result = catch(|| {
                let guard = pool.borrow();
                for victim in victims {
                    if let Some(v) = pick(victim, proxies.len()) {
                        let (id, p) = proxies.swap_remove(v);
                        let key = Proxy::key(&p);
                        // Deferred: the object stays until the guard drops.
                        drop(p);
                        assert_eq!(drops::count(id), 0, "dropped under a guard");
                        assert!(guard.get(key).is_none(), "a dropped proxy's key");
                        assert!(!guard.contains(key));
                        removed.push(id);
                    }
                }
                for i in lookups {
                    if let Some(i) = pick(i, proxies.len()) {
                        let (id, p) = &proxies[i];
                        let want = (*id, model[id]);
                        assert_eq!(guard.get(Proxy::key(p)).map(Obj::seen), Some(want));
                        assert_eq!(guard.by_proxy(p).seen(), want);
                    }
                }
                assert_eq!(guard.len(), model.len(), "pending objects stay stored");
                // The guard's drop finishes the removals (a bomb may panic).
            });
            if result.is_none() {
                assert!(!removed.is_empty());
            }
            for id in removed {
                model.remove(&id);
            }
        }
        Op::RemoveByKeyInsideGuard { victim, lookups } => {
            // A removal by key under a guard keeps the victim's proxy, and
            // its object stays stored (back-pointer and all) until the
            // guard drops: the proxy must stop reaching it at once, through
            // the guard and through `with`, whatever position it recorded,
            // and every other proxy must still find its own object.
            let Some(v) = pick(victim, proxies.len()) else {
                return;
            };
            let (id, p) = proxies.swap_remove(v);
            let _ = catch(|| {
                let guard = pool.borrow();
                assert_eq!(guard.by_proxy(&p).seen(), (id, model[&id]));
                assert!(pool.remove_deferred(Proxy::key(&p)));
                expect_panic_with("removed by key", || guard.by_proxy(&p).seen());
                expect_panic_with("removed by key", || p.with(Obj::seen));
                for i in lookups {
                    if let Some(i) = pick(i, proxies.len()) {
                        let (id, q) = &proxies[i];
                        assert_eq!(guard.by_proxy(q).seen(), (*id, model[id]));
                        assert_eq!(q.with(Obj::seen), (*id, model[id]));
                    }
                }
                // The guard's drop finishes the removal (a bomb may panic).
            });
            model.remove(&id);
            assert_eq!(drops::count(id), 1, "dropped when the guard ended");
            expect_panic_with("removed by key", || p.with(Obj::seen));
            // Its object is gone already: the drop removes nothing.
            drop_proxy(p);
        }
        Op::Clone(v) => {
            // Work a panicking destructor left is carried out first; a bomb
            // among it goes off here.
            let Some(copy) = catch(|| pool.clone()) else {
                return;
            };
            {
                let (ours, theirs) = (pool.borrow(), copy.borrow());
                assert_eq!(ours.len(), theirs.len());
                for ((k, o), (c, x)) in ours.iter().zip(theirs.iter()) {
                    assert_eq!((k, o.seen().1), (c, x.seen().1), "the same keys, in order");
                    assert_ne!(o.seen().0, x.seen().0, "a copy");
                }
            }
            let o = Obj::new(v, false);
            let (id, value) = o.seen();
            let key = pool.insert(o);
            assert_eq!(copy.insert(Obj::new(v, false)), key, "the same next key");
            keys.live.push((id, key));
            model.insert(id, value);
            let _ = catch(move || drop(copy));
        }
        Op::Foreign => {
            let q = other.alloc(Obj::new(0, false));
            expect_panic_with("another pool", || pool.borrow().by_proxy(&q).seen());
            drop(q);
        }
        Op::InsertKey(v, bomb) => {
            let o = Obj::new(v, bomb);
            let (id, value) = o.seen();
            let key = pool.insert(o);
            assert!(pool.contains(key));
            keys.live.push((id, key));
            model.insert(id, value);
        }
        Op::RemoveKey(which) => {
            let Some((key, id)) = keys.resolve(proxies, which) else {
                return;
            };
            let removed = pool.remove(key);
            assert_eq!(
                removed.as_ref().map(Obj::seen),
                id.map(|id| (id, model[&id]))
            );
            assert!(!pool.contains(key));
            if let Some(o) = removed {
                assert_eq!(drops::count(o.t.id()), 0);
                model.remove(&o.t.id());
                let _ = catch(move || drop(o));
            }
        }
        Op::InsertWithKey {
            value,
            bomb,
            spawn,
            panic,
        } => {
            let mut reserved = None;
            let mut made = None;
            let mut spawned = Vec::new();
            let result = catch(|| {
                pool.insert_with_key(|key| {
                    reserved = Some(key);
                    assert!(!pool.contains(key), "a reserved key is found");
                    expect_panic_with("already borrowed", || pool.get(key).is_some());
                    if let Some(v) = spawn {
                        spawn_in_borrow(pool, v, false, &mut spawned);
                    }
                    if panic {
                        std::panic::panic_any(managed_fuzz::Intended);
                    }
                    let o = Obj::new(value, bomb);
                    made = Some(o.seen());
                    o
                })
            });
            let reserved = reserved.expect("the closure ran");
            assert_eq!(result.is_none(), panic);
            end_borrow(pool, model, keys, &[], &spawned);
            if let Some(key) = result {
                assert_eq!(key, reserved);
                let (id, v) = made.unwrap();
                assert_eq!(pool.get(key).map(|o| o.seen()), Some((id, v)));
                keys.live.push((id, key));
                model.insert(id, v);
            } else {
                assert!(!pool.contains(reserved), "a panicking closure's key");
                keys.retire(reserved);
            }
        }
        Op::Deferred {
            walk,
            at,
            spawn,
            victims,
            cancel,
            panic,
        } => {
            let stored = model.len();
            let ids_by_key = keys.ids_by_key(proxies);
            let mut gone = Vec::new();
            let mut spawned = Vec::new();
            let mut ran = false;
            let mut actions = |pool: &ContiguousUniformPool<Obj>| {
                ran = true;
                for (v, bomb) in spawn.into_iter().flatten() {
                    spawn_in_borrow(pool, v, bomb, &mut spawned);
                }
                for which in victims.into_iter().flatten() {
                    if let Some(key) = keys.resolve(proxies, which) {
                        remove_in_borrow(pool, key, &mut gone);
                    }
                }
                if cancel && let Some((id, key, _)) = spawned.pop() {
                    // A queued object's removal cancels it: dropped at once.
                    let _ = catch(|| assert!(pool.remove_deferred(key)));
                    assert_eq!(drops::count(id), 1, "a cancelled object is dropped");
                    assert!(!pool.contains(key));
                    keys.retire(key);
                }
                let stats = pool.detailed_stats();
                assert_eq!(stats.len, stored - gone.len());
                assert_eq!(stats.pending, gone.len());
                assert_eq!(stats.queued, spawned.len());
                if panic {
                    std::panic::panic_any(managed_fuzz::Intended);
                }
                spawned.iter().map(|&(_, key, _)| key).collect::<Vec<_>>()
            };
            let mut visited = 0;
            let result = catch(|| match walk {
                Walk::Map => pool.map(|o| {
                    o.seen();
                    if visited == usize::from(at) % stored {
                        actions(pool);
                    }
                    visited += 1;
                }),
                Walk::MapWithKey => pool.map_with_key(|key, o| {
                    let (id, _) = o.seen();
                    if let Some(&want) = ids_by_key.get(&key) {
                        assert_eq!(want, id, "map_with_key handed another object's key");
                    }
                    if visited == usize::from(at) % stored {
                        actions(pool);
                    }
                    visited += 1;
                }),
                Walk::MapWithOthers => pool.map_with_others(|key, o, others| {
                    let (id, _) = o.seen();
                    if let Some(&want) = ids_by_key.get(&key) {
                        assert_eq!(want, id, "map_with_others handed another object's key");
                    }
                    assert!(others.get(key).is_none(), "the lent object is refused");
                    if visited == usize::from(at) % stored {
                        actions(pool);
                    }
                    visited += 1;
                }),
                Walk::Guard => {
                    let guard = pool.borrow();
                    let queued = actions(pool);
                    assert_eq!(guard.len(), stored, "pending objects stay stored");
                    for key in queued {
                        assert!(guard.get(key).is_none(), "a queued object is found");
                    }
                    visited = guard.values().count();
                }
                Walk::GuardMut => {
                    let mut guard = pool.borrow_mut();
                    let queued = actions(pool);
                    assert_eq!(guard.len(), stored, "pending objects stay stored");
                    for key in queued {
                        assert!(guard.get_mut(key).is_none(), "a queued object is found");
                    }
                    visited = guard.values_mut().count();
                }
                Walk::With(i) => {
                    if let Some(i) = pick(i, proxies.len()) {
                        let p = &proxies[i].1;
                        p.with(|o| {
                            o.seen();
                            actions(pool);
                        });
                    }
                    visited = stored;
                }
            });
            if ran && panic {
                assert!(result.is_none(), "the walk's panic was lost");
            }
            if result.is_some() {
                assert_eq!(
                    visited, stored,
                    "the walk covers the objects it started with"
                );
            }
            end_borrow(pool, model, keys, &gone, &spawned);
        }
        Op::Retain {
            keep,
            panic_at,
            victim,
            spawn,
        } => {
            let stored = model.len();
            let ids_by_key = keys.ids_by_key(proxies);
            let victim = victim.and_then(|v| keys.resolve(proxies, v));
            let mut visits = 0;
            let mut seen = HashSet::new();
            let mut refused = Vec::new();
            let mut gone = Vec::new();
            let mut spawned = Vec::new();
            let result = catch(|| {
                pool.retain(|key, o| {
                    let (id, value) = o.seen();
                    assert!(seen.insert(id), "retain visited {id} twice");
                    assert_eq!(value, model[&id]);
                    if let Some(&want) = ids_by_key.get(&key) {
                        assert_eq!(want, id, "retain handed another object's key");
                    }
                    if visits == 0 {
                        if let Some(victim) = victim {
                            remove_in_borrow(pool, victim, &mut gone);
                        }
                        if let Some(v) = spawn {
                            spawn_in_borrow(pool, v, false, &mut spawned);
                        }
                    }
                    if panic_at == Some(visits) {
                        std::panic::panic_any(managed_fuzz::Intended);
                    }
                    let kept = keep >> (visits % 64) & 1 == 1;
                    visits += 1;
                    if !kept {
                        refused.push(id);
                    }
                    kept
                });
            });
            if panic_at.is_some_and(|at| usize::from(at) < stored) {
                assert!(result.is_none(), "the predicate's panic was lost");
            }
            if result.is_some() {
                let all: HashSet<u32> = model.keys().copied().collect();
                assert_eq!(seen, all, "retain visits every object once");
            }
            for id in refused {
                if !gone.contains(&id) {
                    gone.push(id);
                }
            }
            end_borrow(pool, model, keys, &gone, &spawned);
        }
        Op::GuardLookup { lookups, victim } => {
            let ids_by_key = keys.ids_by_key(proxies);
            let mut gone = Vec::new();
            let guard = pool.borrow();
            let lookup = guard.lookup();
            for (n, which) in lookups.into_iter().enumerate() {
                if n == 2
                    && let Some(v) = victim.and_then(|v| keys.resolve(proxies, v))
                {
                    remove_in_borrow(pool, v, &mut gone);
                    assert!(lookup.get(v.0).is_none() && !lookup.contains(v.0));
                    assert!(guard.get(v.0).is_none() && !guard.contains(v.0));
                }
                let Some((key, id)) = keys.resolve(proxies, which) else {
                    continue;
                };
                let want = expect_at(model, &gone, id);
                assert_eq!(lookup.get(key).map(Obj::seen), want, "PoolLookup::get");
                assert_eq!(lookup.contains(key), want.is_some());
                assert_eq!(guard.get(key).map(Obj::seen), want, "PoolRef::get");
                assert_eq!(guard.contains(key), want.is_some());
            }
            assert_eq!(guard.len(), model.len(), "pending objects stay stored");
            for (key, o) in guard.keys().zip(guard.as_slice()) {
                if let Some(&id) = ids_by_key.get(&key) {
                    assert_eq!(o.seen().0, id, "keys() and as_slice() disagree");
                }
            }
            // A victim's destructor may panic as the borrow ends.
            let _ = catch(move || drop(guard));
            end_borrow(pool, model, keys, &gone, &[]);
        }
        Op::DisjointInGuard {
            picks,
            victim,
            value,
        } => {
            let mut gone = Vec::new();
            let mut guard = pool.borrow_mut();
            if let Some(v) = victim.and_then(|v| keys.resolve(proxies, v)) {
                remove_in_borrow(pool, v, &mut gone);
            }
            let resolved = picks.map(|which| keys.resolve(proxies, which));
            if resolved.iter().all(Option::is_some) {
                let resolved = resolved.map(Option::unwrap);
                let wants = resolved.map(|(_, id)| expect_at(model, &gone, id));
                let distinct = wants[0].map(|w| w.0) != wants[1].map(|w| w.0)
                    && wants[0].map(|w| w.0) != wants[2].map(|w| w.0)
                    && wants[1].map(|w| w.0) != wants[2].map(|w| w.0);
                let expect_some = wants.iter().all(Option::is_some) && distinct;
                match guard.get_disjoint_mut(resolved.map(|(key, _)| key)) {
                    Some(objects) => {
                        assert!(expect_some, "get_disjoint_mut: stale or repeated keys");
                        for (n, (o, want)) in objects.into_iter().zip(wants).enumerate() {
                            let (id, v) = want.unwrap();
                            assert_eq!(o.seen(), (id, v));
                            let new = u64::from(value) + n as u64;
                            o.t.set(new);
                            model.insert(id, new);
                        }
                    }
                    None => assert!(!expect_some, "get_disjoint_mut refused {wants:?}"),
                }
            }
            // A victim's destructor may panic as the borrow ends.
            let _ = catch(move || drop(guard));
            end_borrow(pool, model, keys, &gone, &[]);
        }
        Op::SplitMut {
            lent,
            victims,
            lookups,
            value,
        } => {
            let Some((lent_key, lent_id)) = keys.resolve(proxies, lent) else {
                return;
            };
            let mut gone = Vec::new();
            let mut guard = pool.borrow_mut();
            if let Some(v) = victims[0].and_then(|v| keys.resolve(proxies, v)) {
                remove_in_borrow(pool, v, &mut gone);
            }
            let want = expect_at(model, &gone, lent_id);
            match guard.split_mut(lent_key) {
                None => assert!(want.is_none(), "split_mut refused a live key"),
                Some((me, mut others)) => {
                    let (id, v) = want.expect("split_mut lent a removed object");
                    assert_eq!(me.seen(), (id, v));
                    assert!(others.get(lent_key).is_none(), "Others lent the lent one");
                    assert!(others.get_mut(lent_key).is_none());
                    assert!(!others.contains(lent_key));
                    me.t.set(value.into());
                    model.insert(id, value.into());
                    for (n, which) in lookups.into_iter().enumerate() {
                        if n == 1
                            && let Some(v) = victims[1].and_then(|v| keys.resolve(proxies, v))
                        {
                            // Removed while the view lives (the lent one too).
                            remove_in_borrow(pool, v, &mut gone);
                            assert!(others.get(v.0).is_none() && !others.contains(v.0));
                        }
                        let Some((key, kid)) = keys.resolve(proxies, which) else {
                            continue;
                        };
                        let want = expect_at(model, &gone, kid).filter(|w| w.0 != id);
                        assert_eq!(others.get(key).map(Obj::seen), want, "Others::get");
                        assert_eq!(others.contains(key), want.is_some());
                        if let Some(o) = others.get_mut(key) {
                            let new = u64::from(value) + 1 + n as u64;
                            o.t.set(new);
                            model.insert(want.unwrap().0, new);
                        }
                    }
                    // The lent object stays writable beside the view.
                    assert_eq!(me.seen(), (id, value.into()));
                }
            }
            // A victim's destructor may panic as the borrow ends.
            let _ = catch(move || drop(guard));
            end_borrow(pool, model, keys, &gone, &[]);
        }
        Op::WalkWithOthers {
            lookups,
            victim_at,
            victim,
            panic_at,
            value,
        } => {
            let stored = model.len();
            let ids_by_key = keys.ids_by_key(proxies);
            let victim = victim.and_then(|v| keys.resolve(proxies, v));
            let lookups = lookups.map(|which| keys.resolve(proxies, which));
            let mut gone = Vec::new();
            let mut seen = HashSet::new();
            let mut visits = 0u8;
            let result = catch(|| {
                pool.borrow_mut().for_each_with_others(|key, me, others| {
                    let (id, v) = me.seen();
                    assert!(seen.insert(id), "for_each_with_others lent {id} twice");
                    assert_eq!(v, model[&id]);
                    if let Some(&want) = ids_by_key.get(&key) {
                        assert_eq!(want, id, "for_each_with_others handed another key");
                    }
                    assert!(others.get(key).is_none() && !others.contains(key));
                    if visits == victim_at
                        && let Some(victim) = victim
                    {
                        remove_in_borrow(pool, victim, &mut gone);
                        assert!(others.get(victim.0).is_none());
                    }
                    if panic_at == Some(visits) {
                        std::panic::panic_any(managed_fuzz::Intended);
                    }
                    for (n, &lookup) in lookups.iter().enumerate() {
                        let Some((k, kid)) = lookup else { continue };
                        let want = expect_at(model, &gone, kid).filter(|w| w.0 != id);
                        assert_eq!(others.get(k).map(Obj::seen), want, "Others::get");
                        assert_eq!(others.contains(k), want.is_some());
                        if n == 0
                            && let Some(o) = others.get_mut(k)
                        {
                            let new = o.t.value().wrapping_add(1);
                            o.t.set(new);
                            model.insert(want.unwrap().0, new);
                        }
                    }
                    let new = u64::from(value) + u64::from(visits);
                    me.t.set(new);
                    model.insert(id, new);
                    visits = visits.wrapping_add(1);
                });
            });
            if panic_at.is_some_and(|at| usize::from(at) < stored) {
                assert!(result.is_none(), "the walk's panic was lost");
            }
            if result.is_some() {
                assert_eq!(seen.len(), stored, "the walk lends every object once");
            }
            end_borrow(pool, model, keys, &gone, &[]);
        }
    }
}

/// The pool holds exactly the model's objects, densely; every proxy and
/// every live key reads its own object, stale keys nothing; ids out of the
/// model were dropped once, the others not.
fn check(
    pool: &ContiguousUniformPool<Obj>,
    proxies: &[(u32, Proxy<'_, Obj>)],
    keys: &Keys,
    model: &Model,
) {
    assert_eq!(pool.len(), model.len());
    for (id, p) in proxies {
        assert_eq!(p.with(Obj::seen), (*id, model[id]));
    }
    let stored = pool.borrow();
    assert_eq!(stored.len(), model.len(), "storage is dense");
    let by_key: HashMap<DefaultKey, (u32, u64)> =
        stored.iter().map(|(key, o)| (key, o.seen())).collect();
    let in_pool: Model = by_key.values().copied().collect();
    assert_eq!(&in_pool, model);
    for (id, p) in proxies {
        assert_eq!(by_key[&Proxy::key(p)].0, *id, "a proxy's key");
    }
    for &(id, key) in &keys.live {
        assert_eq!(by_key.get(&key), Some(&(id, model[&id])), "a live key");
        assert_eq!(stored.get(key).map(Obj::seen), Some((id, model[&id])));
    }
    for &key in &keys.stale {
        assert!(
            !by_key.contains_key(&key) && stored.get(key).is_none(),
            "a stale key"
        );
        assert!(!pool.contains(key));
    }
    drop(stored);
    for id in 0..drops::ids() {
        let want = u32::from(!model.contains_key(&id));
        assert_eq!(drops::count(id), want, "drops of {id}");
    }
    assert_eq!(pool.stats().live_bytes, model.len() * size_of::<Obj>());
}

fn run_exclusive(
    pool: &mut ContiguousUniformPool<Obj>,
    keys: &mut Keys,
    model: &mut Model,
    then: &Exclusive,
) {
    match *then {
        Exclusive::Nothing => {}
        Exclusive::Clear => {
            let _ = catch(|| pool.clear());
            assert!(pool.is_empty());
            model.clear();
            reap(&mut Vec::new(), keys, model);
        }
        Exclusive::Drain(n) => {
            let mut drain = pool.drain();
            for _ in 0..n {
                let Some(o) = drain.next() else { break };
                let (id, value) = o.seen();
                assert_eq!(model.remove(&id), Some(value));
                let _ = catch(move || drop(o));
            }
            // The rest is dropped with the iterator.
            let _ = catch(move || drop(drain));
            assert!(pool.is_empty());
            model.clear();
            reap(&mut Vec::new(), keys, model);
        }
        Exclusive::Shrink => {
            let reserved = pool.stats().reserved_bytes;
            pool.shrink_to_fit();
            assert!(pool.stats().reserved_bytes <= reserved);
        }
        Exclusive::IterMut(v) => {
            let mut n = 0;
            for o in pool.values_mut() {
                o.t.set(v.into());
                n += 1;
            }
            assert_eq!(n, model.len());
            model.values_mut().for_each(|x| *x = v.into());
        }
        Exclusive::GetDisjoint(picks, v) => {
            // Live and stale keys, repeats included.
            let universe: Vec<(DefaultKey, Option<u32>)> = keys
                .live
                .iter()
                .map(|&(id, key)| (key, Some(id)))
                .chain(keys.stale.iter().map(|&key| (key, None)))
                .collect();
            let Some(picked) = picks
                .iter()
                .map(|&i| pick(i, universe.len()).map(|i| universe[i]))
                .collect::<Option<Vec<_>>>()
            else {
                return;
            };
            let ids: Vec<Option<u32>> = picked.iter().map(|&(_, id)| id).collect();
            let distinct = ids[0] != ids[1] && ids[0] != ids[2] && ids[1] != ids[2];
            let expect_some = ids.iter().all(Option::is_some) && distinct;
            let keys3 = [picked[0].0, picked[1].0, picked[2].0];
            match pool.get_disjoint_mut(keys3) {
                Some(objects) => {
                    assert!(expect_some, "get_disjoint_mut: stale or repeated keys");
                    for (n, (o, id)) in objects.into_iter().zip(ids).enumerate() {
                        let id = id.unwrap();
                        assert_eq!(o.seen(), (id, model[&id]));
                        let new = u64::from(v) + n as u64;
                        o.t.set(new);
                        model.insert(id, new);
                    }
                }
                None => assert!(!expect_some, "get_disjoint_mut refused {ids:?}"),
            }
        }
    }
}

fuzz_target!(|epochs: Vec<Epoch>| {
    install_panic_hook();
    drops::reset();
    let mut pool: ContiguousUniformPool<Obj> = ContiguousUniformPool::new();
    let other: ContiguousUniformPool<Obj> = ContiguousUniformPool::new();
    let mut model = Model::new();
    let mut keys = Keys::default();
    for epoch in epochs.iter().take(MAX_EPOCHS) {
        {
            let mut proxies: Proxies<'_> = Vec::new();
            // Objects whose proxies were forgotten in earlier epochs stay,
            // reached by key.
            for op in epoch.ops.iter().take(MAX_OPS) {
                run_op(&pool, &other, &mut proxies, &mut keys, &mut model, op);
                settle(&pool);
                reap(&mut proxies, &mut keys, &model);
                check(&pool, &proxies, &keys, &model);
            }
            for (i, (id, p)) in proxies.into_iter().enumerate() {
                if epoch.forget >> (i % 64) & 1 == 1 {
                    keys.live.push((id, Proxy::key(&p)));
                    std::mem::forget(p);
                } else {
                    keys.retire(Proxy::key(&p));
                    drop_proxy(p);
                    model.remove(&id);
                }
            }
            settle(&pool);
            check(&pool, &[], &keys, &model);
        }
        run_exclusive(&mut pool, &mut keys, &mut model, &epoch.then);
        check(&pool, &[], &keys, &model);
    }
    // The pool's drop drops the objects of forgotten proxies too.
    let _ = catch(move || drop(pool));
    drop(other);
    drops::assert_each_once();
});
