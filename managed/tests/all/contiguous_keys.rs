//! Runtime tests of `ContiguousUniformPool`'s keys and keyed operations:
//! lookups, removal by key (also of an object a proxy owns), deferred
//! deletion inside walks, `retain`, object guards, memory given back
//! without `&mut`, the pool as a `Managed` value, and drop accounting
//! through all of them (also when a closure or destructor panics).

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;

use managed::contiguous::KeyData;
use managed::prelude::*;

use crate::common::{Ledger, panic_message};

#[test]
fn keys_find_their_objects_until_removed_and_never_after() {
    let pool = ContiguousUniformPool::new();
    let keys: Vec<DefaultKey> = (0..10u32).map(|v| pool.insert(v)).collect();
    assert_eq!(pool.len(), 10);
    assert!(keys.iter().all(|&k| pool.contains(k)));
    assert_eq!(pool.get(keys[3]).map(|v| *v), Some(3));
    assert_eq!(pool.remove(keys[3]), Some(3));
    assert_eq!(pool.remove(keys[3]), None, "a removed key finds nothing");
    assert!(pool.get(keys[3]).is_none());
    assert!(!pool.remove_deferred(keys[3]));
    // The slot is reused by the next insert, with another generation.
    let again = pool.insert(30);
    assert_ne!(again, keys[3]);
    assert_eq!(
        again.data().as_ffi() as u32,
        keys[3].data().as_ffi() as u32,
        "same slot"
    );
    assert!(pool.get(keys[3]).is_none());
    assert_eq!(pool.get(again).map(|v| *v), Some(30));
    // Moving objects (the last one fills each hole) never confuses keys.
    for &key in &keys[..5] {
        if key != keys[3] {
            assert!(pool.remove_deferred(key));
        }
    }
    for (i, &key) in keys.iter().enumerate().skip(5) {
        assert_eq!(pool.get(key).map(|v| *v), Some(i as u32));
    }
    // Made-up keys: any value is a valid question.
    for made_up in [
        DefaultKey::null(),
        KeyData::from_ffi(0).into(),
        KeyData::from_ffi(u64::MAX).into(),
        KeyData::from_ffi(1 << 32 | 255).into(),
        KeyData::from_ffi(7 << 32 | 256).into(),
    ] {
        assert!(pool.get(made_up).is_none());
        assert!(!pool.contains(made_up));
        assert_eq!(pool.remove(made_up), None);
    }
    // A key survives its pool as plain data.
    let survivor = keys[9];
    drop(pool);
    let other: ContiguousUniformPool<u32> = ContiguousUniformPool::new();
    assert!(other.get(survivor).is_none());
    assert_eq!(
        survivor.data().as_ffi(),
        KeyData::from_ffi(survivor.data().as_ffi()).as_ffi()
    );
}

#[test]
fn key_types_from_new_key_type_and_ffi_round_trips() {
    new_key_type! {
        struct ParticleKey;
    }
    let pool: ContiguousUniformPool<&str, ParticleKey> = ContiguousUniformPool::with_key();
    let a = pool.insert("a");
    let ffi = a.data().as_ffi();
    let back: ParticleKey = KeyData::from_ffi(ffi).into();
    assert_eq!(back, a);
    assert_eq!(pool.get(back).map(|s| *s), Some("a"));
    let b = pool.alloc("b");
    assert_eq!(pool.get(Proxy::key(&b)).map(|s| *s), Some("b"));
    let sized: ContiguousUniformPool<u8, ParticleKey> =
        ContiguousUniformPool::with_capacity_and_key(100);
    assert!(sized.capacity() >= 100);
    assert_eq!(size_of::<ParticleKey>(), 8);
}

#[test]
fn removal_by_key_of_an_owned_object_leaves_its_proxy_reporting_it_gone() {
    let drops = Ledger::default();
    let pool = ContiguousUniformPool::new();
    let p = pool.alloc(drops.track(0));
    let q = pool.alloc(drops.track(1));
    let key = Proxy::key(&p);
    assert_eq!(pool.get(key).map(|t| t.id), Some(0));
    let value = pool.remove(key).expect("live");
    assert_eq!(value.id, 0);
    drop(value);
    assert_eq!(drops.counts(2), [1, 0]);
    // The proxy is still valid, and says its object is gone.
    assert_eq!(Proxy::key(&p), key, "a detached proxy keeps its key");
    assert!(!pool.contains(Proxy::key(&p)));
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| p.with(|t| t.id))));
    assert!(msg.contains("removed by key"), "{msg}");
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| {
        pool.borrow().by_proxy(&p).id
    })));
    assert!(msg.contains("removed by key"), "{msg}");
    assert!(format!("{p:?}").contains("removed: true"));
    assert_eq!(
        pool.detailed_stats().slots,
        1,
        "only `q`'s object keeps a key"
    );
    // The slot is reused; the detached proxy's key stays stale.
    let reuse = pool.insert(drops.track(5));
    assert_ne!(reuse, key);
    assert!(!pool.contains(Proxy::key(&p)));
    drop(p);
    assert!(
        pool.contains(reuse),
        "dropping a detached proxy removes nothing"
    );
    assert_eq!(drops.counts(2), [1, 0], "nothing dropped twice");
    drop(pool.remove(reuse));
    // `into_inner` of a detached proxy panics and loses nothing.
    let r = pool.alloc(drops.track(2));
    assert!(pool.remove_deferred(Proxy::key(&r)));
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| Proxy::into_inner(r))));
    assert!(msg.contains("removed by key"), "{msg}");
    assert_eq!(drops.counts(3), [1, 0, 1]);
    assert_eq!(pool.detailed_stats().slots, 1);
    assert_eq!(q.with(|t| t.id), 1);
    drop(q);
    assert_eq!(drops.counts(3), [1, 1, 1]);
    assert_eq!(pool.detailed_stats().slots, 0);
}

#[test]
fn deletions_inside_walks_wait_for_the_walk_and_keys_go_stale_at_once() {
    let drops = Ledger::default();
    let pool = ContiguousUniformPool::new();
    let keys: Vec<_> = (0..8).map(|id| pool.insert(drops.track(id))).collect();
    let proxy = pool.alloc(drops.track(8));
    let proxy_key = Proxy::key(&proxy);
    let mut seen = Vec::new();
    let mut proxy = Some(proxy);
    pool.map_with_key(|key, t| {
        seen.push((key, t.id));
        if t.id % 2 == 0 && t.id < 8 {
            // This object (the proxy's, id 8, goes with the proxy).
            assert!(pool.remove_deferred(key));
            assert!(!pool.contains(key), "stale at once");
            assert!(!pool.remove_deferred(key), "deleted once");
        }
        if t.id == 1 {
            assert!(pool.remove_deferred(keys[7]));
            proxy = None; // deferred too
            assert!(!pool.contains(proxy_key));
        }
        assert_eq!(drops.counts(9), [0; 9], "nothing dropped during the walk");
        let msg = panic_message(catch_unwind(AssertUnwindSafe(|| pool.remove(key))));
        assert!(msg.contains("use `remove_deferred`"), "{msg}");
    });
    // The walk saw every object once, with the key it was inserted with.
    assert_eq!(seen.len(), 9);
    for (key, id) in &seen {
        if (*id as usize) < keys.len() {
            assert_eq!(*key, keys[*id as usize]);
        } else {
            assert_eq!(*key, proxy_key);
        }
    }
    assert_eq!(drops.counts(9), [1, 0, 1, 0, 1, 0, 1, 1, 1]);
    let mut left: Vec<u32> = pool.borrow().values().map(|t| t.id).collect();
    left.sort_unstable();
    assert_eq!(left, [1, 3, 5]);
    assert_eq!(pool.len(), 3);
    // A deletion inside `with` of a proxy waits as well.
    let holder = pool.alloc(drops.track(9));
    holder.with(|_| {
        assert!(pool.remove_deferred(keys[1]));
        assert_eq!(pool.len(), 3);
        assert_eq!(drops.counts(10)[1], 0);
    });
    assert_eq!(drops.counts(10)[1], 1);
    drop(holder);
    assert_eq!(pool.len(), 2);
}

#[test]
fn guard_lookups_see_removals_deferred_while_the_guard_lives() {
    // A guard resolves keys from what it copied out of the pool when the
    // borrow began; removals deferred meanwhile must still hide their
    // objects from it, and the objects found must stay where they are.
    let pool = ContiguousUniformPool::new();
    let keys: Vec<_> = (0..16u32).map(|v| pool.insert(v)).collect();
    let proxy = pool.alloc(100);
    let proxy_key = Proxy::key(&proxy);
    {
        let objects = pool.borrow();
        let first: &u32 = objects.get(keys[0]).unwrap();
        assert!(pool.remove_deferred(keys[3]));
        assert_eq!(objects.get(keys[3]), None);
        assert_eq!(objects.by_proxy(&proxy), &100);
        drop(proxy);
        assert_eq!(objects.get(proxy_key), None);
        for (i, &key) in keys.iter().enumerate().filter(|&(i, _)| i != 3) {
            assert_eq!(objects.get(key), Some(&(i as u32)));
        }
        assert_eq!(*first, 0, "a reference from before the deferrals");
        assert_eq!(objects.len(), 17, "pending objects stay stored meanwhile");
    }
    assert_eq!(pool.len(), 15);
    {
        // The flush moved objects into the holes: a new guard finds each
        // at its new place, and the exclusive guard sees its own borrow's
        // deferrals too.
        let mut objects = pool.borrow_mut();
        for &key in keys.iter().filter(|&&k| k != keys[3]) {
            *objects.get_mut(key).unwrap() += 1000;
        }
        assert!(pool.remove_deferred(keys[5]));
        assert_eq!(objects.get_mut(keys[5]), None);
        assert_eq!(objects.get(keys[15]), Some(&1015));
    }
    let objects = pool.borrow();
    let mut found: Vec<u32> = keys
        .iter()
        .filter_map(|&k| objects.get(k).copied())
        .collect();
    found.sort_unstable();
    let expected: Vec<u32> = (0..16)
        .filter(|&v| v != 3 && v != 5)
        .map(|v| v + 1000)
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn retain_removes_as_it_goes_and_visits_each_object_once() {
    let drops = Ledger::default();
    let pool = ContiguousUniformPool::new();
    let n = if cfg!(miri) { 60 } else { 2000 };
    let keys: Vec<_> = (0..n).map(|id| pool.insert(drops.track(id))).collect();
    let mut proxies: Vec<_> = (n..n + 4).map(|id| pool.alloc(drops.track(id))).collect();
    let mut visits = HashMap::new();
    pool.retain(|key, t| {
        *visits.entry(t.id).or_insert(0) += 1;
        if t.id == 5 {
            // Removals from inside: deferred to the end of the walk.
            assert!(pool.remove_deferred(keys[6]));
            proxies.truncate(2);
        }
        if t.id < n {
            assert_eq!(key, keys[t.id as usize]);
        }
        t.id % 3 != 0
    });
    assert_eq!(visits.len(), n as usize + 4);
    assert!(visits.values().all(|&v| v == 1), "each object visited once");
    let counts = drops.counts(n + 4);
    for id in 0..n + 4 {
        let expected = u32::from(id % 3 == 0 || id == 6 || id >= n + 2);
        assert_eq!(counts[id as usize], expected, "id {id}");
    }
    // The kept objects are dense and reachable by key; the removed ones'
    // keys are stale; proxies of removed objects report them gone.
    for (id, &key) in keys.iter().enumerate() {
        let kept = id % 3 != 0 && id != 6;
        assert_eq!(pool.get(key).map(|t| t.id as usize), kept.then_some(id));
    }
    assert_eq!(pool.len(), pool.borrow().len());
    // The two proxies left: the one whose object `retain` removed is
    // detached, the other still reaches its object.
    for (id, proxy) in (n..).zip(&proxies) {
        let live = pool.contains(Proxy::key(proxy));
        assert_eq!(live, id % 3 != 0, "proxy {id}");
        if live {
            assert_eq!(proxy.with(|t| t.id), id);
        }
    }
    drop(proxies);
    drop(pool);
    assert!(drops.counts(n + 4).iter().all(|&c| c == 1));
}

#[test]
fn retain_that_empties_most_of_the_pool_halves_the_buffer_as_it_walks() {
    // 1 KiB objects: 16 fill the first buffer, so removing nine in ten of
    // a few hundred halves the buffer several times during the walk, each
    // time moving every object left.
    struct Big {
        id: u32,
        fill: [u32; 255],
    }
    let pool = ContiguousUniformPool::new();
    let n: u32 = if cfg!(miri) { 120 } else { 1000 };
    let keys: Vec<_> = (0..n)
        .map(|id| {
            pool.insert(Big {
                id,
                fill: [id; 255],
            })
        })
        .collect();
    let full = pool.capacity();
    let mut visits = vec![0u32; n as usize];
    let mut shrinks = 0;
    let mut capacity = full;
    pool.retain(|key, big| {
        visits[big.id as usize] += 1;
        assert_eq!(key, keys[big.id as usize], "the key beside the object");
        assert!(big.fill.iter().all(|&f| f == big.id), "moved intact");
        // Removals made before this visit may have halved the buffer.
        let now = pool.capacity();
        if now < capacity {
            shrinks += 1;
            capacity = now;
        }
        big.id % 10 == 0
    });
    assert!(visits.iter().all(|&v| v == 1), "each object visited once");
    assert!(
        shrinks >= 2,
        "the buffer halved {shrinks} times during the walk"
    );
    assert!(pool.capacity() * 4 <= full, "{} of {full}", pool.capacity());
    for (id, &key) in (0..).zip(&keys) {
        let kept = pool.get(key).map(|b| (b.id, b.fill[254]));
        assert_eq!(kept, (id % 10 == 0).then_some((id, id)), "object {id}");
    }
}

#[test]
fn retain_detaches_the_proxies_of_removed_objects() {
    let pool = ContiguousUniformPool::new();
    let proxies: Vec<_> = (0..6u32).map(|v| pool.alloc(v)).collect();
    pool.retain(|_, v| *v % 2 == 1);
    for (v, proxy) in proxies.iter().enumerate() {
        let live = pool.contains(Proxy::key(proxy));
        assert_eq!(live, v % 2 == 1);
        if live {
            assert_eq!(proxy.with(|x| *x as usize), v);
        }
    }
    assert_eq!(pool.detailed_stats().slots, 3);
    drop(proxies);
    assert_eq!(pool.detailed_stats().slots, 0);
    assert!(pool.is_empty());
}

#[test]
fn a_panic_in_retain_leaves_every_object_kept_or_removed_once() {
    for loud_destructor in [false, true] {
        let drops = Ledger::default();
        let pool = ContiguousUniformPool::new();
        let keys: Vec<_> = (0..10)
            .map(|id| {
                let mut t = drops.track(id);
                t.loud = loud_destructor && id == 4;
                pool.insert(t)
            })
            .collect();
        let result = catch_unwind(AssertUnwindSafe(|| {
            pool.retain(|_, t| {
                assert!(loud_destructor || t.id != 6, "closure panic");
                t.id % 2 == 1
            });
        }));
        assert!(result.is_err());
        // Every object is either still reachable or dropped exactly once.
        let counts = drops.counts(10);
        for (id, &key) in keys.iter().enumerate() {
            let live = pool.contains(key);
            assert_eq!(counts[id], u32::from(!live), "id {id}");
        }
        assert_eq!(
            pool.len(),
            keys.iter().filter(|&&k| pool.contains(k)).count()
        );
        // Usable afterwards; everything goes once.
        pool.retain(|_, _| false);
        assert!(pool.is_empty());
        assert_eq!(drops.counts(10), [1; 10]);
    }
}

#[test]
fn object_guards_follow_the_borrow_rules() {
    let pool = ContiguousUniformPool::new();
    let a = pool.insert(String::from("a"));
    let p = pool.alloc(String::from("p"));
    {
        let first = pool.get(a).unwrap();
        let second = pool.get(Proxy::key(&p)).unwrap();
        assert_eq!((first.as_str(), second.as_str()), ("a", "p"));
        assert_eq!(p.with(String::len), 1, "shared borrows nest");
        let msg = panic_message(catch_unwind(AssertUnwindSafe(|| p.with_mut(|_| ()))));
        assert!(msg.contains("`with_mut`"), "{msg}");
        let msg = panic_message(catch_unwind(AssertUnwindSafe(|| {
            pool.insert(String::new())
        })));
        assert!(msg.contains("`insert`"), "{msg}");
        assert_eq!(format!("{first:?}"), "\"a\"");
    }
    {
        let mut only = pool.get_mut(a).unwrap();
        only.push('!');
        let msg = panic_message(catch_unwind(AssertUnwindSafe(|| pool.get(a).is_some())));
        assert!(msg.contains("`get` called"), "{msg}");
    }
    assert_eq!(pool.get(a).unwrap().as_str(), "a!");
    assert!(pool.get_mut(DefaultKey::null()).is_none());
    // The guards' borrow ended even though no object was found.
    assert!(pool.get_mut(a).is_some());
}

#[test]
fn pending_removals_are_stale_in_guards_and_iterated_until_the_borrow_ends() {
    let pool = ContiguousUniformPool::new();
    let keys: Vec<_> = (0..4u32).map(|v| pool.insert(v)).collect();
    let guard = pool.borrow();
    assert!(pool.remove_deferred(keys[1]));
    assert_eq!(guard.get(keys[1]), None);
    assert!(!guard.contains(keys[1]));
    assert_eq!(guard.len(), 4, "still stored");
    assert_eq!(pool.len(), 3);
    assert_eq!(pool.detailed_stats().pending, 1);
    assert_eq!(guard.keys().collect::<Vec<_>>(), keys);
    assert_eq!(
        guard.iter().map(|(k, v)| (k, *v)).collect::<Vec<_>>(),
        keys.iter().copied().zip(0..4).collect::<Vec<_>>()
    );
    assert!(format!("{pool:?}").starts_with('{'));
    assert!(
        !format!("{pool:?}").contains(": 1,"),
        "the pool shows live objects"
    );
    drop(guard);
    assert_eq!(pool.detailed_stats().pending, 0);
    assert_eq!(pool.borrow().len(), 3);
}

#[test]
fn idle_memory_goes_back_without_mut_and_an_oscillating_pool_keeps_its_room() {
    // 1 KiB objects: 16 fill the first 16 KiB buffer, so it doubles often.
    let pool = ContiguousUniformPool::new();
    let n = if cfg!(miri) { 200 } else { 2000 };
    let keys: Vec<_> = (0..n).map(|i| pool.insert([i as u64; 128])).collect();
    let full = pool.stats().reserved_bytes;
    for &key in &keys[10..] {
        assert!(pool.remove_deferred(key));
    }
    let small = pool.stats().reserved_bytes;
    assert!(small * 3 < full, "{small} of {full} bytes kept");
    // The buffer halved while a quarter of it held nothing: the ten
    // objects left keep room for 32.
    assert_eq!(pool.capacity(), 2 * 16);
    // Proxies dropped one by one never make the pool grow.
    let proxies: Vec<_> = (0..100).map(|i| pool.alloc([i; 128])).collect();
    let before = pool.stats().reserved_bytes;
    drop(proxies);
    assert!(pool.stats().reserved_bytes <= before);
    // Oscillating at the capacity reallocates once: after doubling, the
    // buffer is half empty, and a removal leaves it more than a quarter full.
    let capacity = pool.capacity();
    let fill: Vec<_> = (pool.len()..capacity)
        .map(|_| pool.insert([0; 128]))
        .collect();
    let at_boundary = pool.stats().reserved_bytes;
    for _ in 0..20 {
        let extra = pool.insert([1; 128]);
        assert!(pool.remove_deferred(extra));
    }
    let after = pool.stats().reserved_bytes;
    assert!(after >= at_boundary, "the doubled buffer is kept");
    let extra = pool.insert([2; 128]);
    assert_eq!(pool.stats().reserved_bytes, after, "and reused");
    assert!(pool.remove_deferred(extra));
    // Removals deferred by a walk shrink the buffer when the walk ends.
    let before_walk = pool.stats().reserved_bytes;
    pool.map_with_key(|key, _| {
        pool.remove_deferred(key);
    });
    assert!(pool.is_empty());
    assert!(pool.stats().reserved_bytes < before_walk);
    drop(fill);
    let stats = pool.detailed_stats();
    assert_eq!((stats.len, stats.pending), (0, 0));
    assert!(stats.to_string().contains("0 objects"));
}

#[test]
fn pool_stats_report_density() {
    let pool = ContiguousUniformPool::with_capacity(1000);
    let keys: Vec<_> = (0..500u64).map(|v| pool.insert(v)).collect();
    let stats = pool.detailed_stats();
    assert_eq!(stats.len, 500);
    assert_eq!(stats.slots, 500);
    assert!(stats.capacity >= 1000);
    assert!((stats.density() - 500.0 / stats.capacity as f64).abs() < 1e-9);
    assert!(
        stats.slot_capacity >= 1000,
        "with_capacity reserves the key table too"
    );
    assert_eq!(stats.space, pool.stats());
    assert_eq!(stats.space.live_bytes, 500 * 8);
    for &key in &keys {
        pool.remove_deferred(key);
    }
    assert_eq!(pool.detailed_stats().density(), 0.0);
    let empty: ContiguousUniformPool<u8> = ContiguousUniformPool::new();
    assert_eq!(empty.detailed_stats().density(), 1.0);
}

#[test]
fn mut_self_methods_keep_keys_or_make_them_all_stale() {
    let drops = Ledger::default();
    let mut pool = ContiguousUniformPool::new();
    let keys: Vec<_> = (0..600).map(|id| pool.insert(drops.track(id))).collect();
    for &key in &keys[100..] {
        pool.remove_deferred(key);
    }
    let reserved = pool.stats().reserved_bytes;
    pool.shrink_to_fit();
    assert!(pool.stats().reserved_bytes < reserved);
    // Keys stay valid across `shrink_to_fit`; stale ones stay stale even
    // when their slots are made again.
    assert!(keys[..100].iter().all(|&k| pool.contains(k)));
    let fresh: Vec<_> = (600..1200).map(|id| pool.insert(drops.track(id))).collect();
    assert!(keys[100..].iter().all(|&k| !pool.contains(k)));
    assert!(fresh.iter().all(|&k| pool.contains(k)));
    for (key, t) in pool.iter_mut() {
        assert!(key == keys[t.id as usize % 600] || fresh.contains(&key));
    }
    assert_eq!(pool.values_mut().count(), 700);
    let drained = pool.drain().take(3).count();
    assert_eq!(drained, 3);
    assert!(keys.iter().chain(&fresh).all(|&k| !pool.contains(k)));
    let again = pool.insert(drops.track(2000));
    pool.clear();
    assert!(!pool.contains(again));
    assert!(drops.total() == 1201);
}

/// A hand-written direct reference, as a region `Item` is.
struct Ref(NonNull<u8>);

// SAFETY: the one reference is visited, in place.
unsafe impl Managed for Ref {
    const HAS_REFS: bool = true;
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        visitor.visit(&mut self.0);
    }
}

/// Moves every visited address up by one.
struct Shift(usize);

// SAFETY: used only on this file's `Ref`s, whose addresses are never
// dereferenced.
unsafe impl Visitor for Shift {
    fn visit(&mut self, target: &mut NonNull<u8>) {
        self.0 += 1;
        *target = target.map_addr(|a| a.checked_add(1).unwrap());
    }
}

#[test]
fn a_pool_visits_every_stored_object_in_place() {
    const {
        assert!(<ContiguousUniformPool<Ref> as Managed>::HAS_REFS);
        assert!(!<ContiguousUniformPool<u32> as Managed>::HAS_REFS);
    }
    let mut pool = ContiguousUniformPool::new();
    let keys: Vec<_> = (1..=5)
        .map(|a| pool.insert(Ref(NonNull::new(a as *mut u8).unwrap())))
        .collect();
    // A removal left pending by a leaked guard: the object is still
    // stored, and visited.
    std::mem::forget(pool.borrow());
    assert!(pool.remove_deferred(keys[2]));
    let mut shift = Shift(0);
    pool.visit_refs(&mut shift);
    assert_eq!(shift.0, 5);
    pool.shrink_to_fit(); // settles the pending removal
    let mut addrs: Vec<usize> = pool.values_mut().map(|r| r.0.addr().get()).collect();
    addrs.sort_unstable();
    assert_eq!(addrs, [2, 3, 5, 6]);
    assert!(!pool.contains(keys[2]));
}

/// The particle scenario's shape: a struct owning the pool together with
/// keys into it, with no lifetime.
struct World {
    pool: ContiguousUniformPool<(String, u32)>,
    by_name: HashMap<String, DefaultKey>,
    groups: Vec<Vec<DefaultKey>>,
}

#[test]
fn a_struct_owns_the_pool_and_keys_into_it() {
    fn assert_static<T: 'static>(_: &T) {}
    let mut world = World {
        pool: ContiguousUniformPool::new(),
        by_name: HashMap::new(),
        groups: vec![Vec::new(); 2],
    };
    for i in 0..6u32 {
        let name = format!("p{i}");
        let key = world.pool.insert((name.clone(), i));
        world.by_name.insert(name, key);
        world.groups[(i % 2) as usize].push(key);
    }
    assert_static(&world);
    // The same object, in the name index and in a group.
    let key = world.by_name["p4"];
    assert!(world.groups[0].contains(&key));
    world.pool.get_mut(key).unwrap().1 = 40;
    world.pool.retain(|_, (_, n)| *n != 2);
    for group in &mut world.groups {
        group.retain(|&k| world.pool.contains(k));
    }
    assert_eq!(world.groups[0].len(), 2);
    assert_eq!(world.pool.get(world.by_name["p4"]).map(|o| o.1), Some(40));
    let moved = world; // moving the world moves the pool; keys stay valid
    assert_eq!(moved.pool.get(moved.by_name["p5"]).map(|o| o.1), Some(5));
}
