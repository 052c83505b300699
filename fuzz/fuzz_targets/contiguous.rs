//! `ContiguousUniformPool` against a model of its live objects: alloc, drop
//! proxies in random order (also from inside `map`, `with` and `with_mut`
//! closures, and during a `map` that panics), `with`/`with_mut`, nested
//! shared borrows, `map`, guard batches (`borrow().get`,
//! `borrow_mut().get_mut`, proxies dropped while a guard looks keys up,
//! objects removed by key while a guard reads them through proxies),
//! `into_inner`, and the misuses the pool rejects at run time (alloc
//! during a borrow, a proxy of another pool given to a guard). A program is a list of epochs: proxies live for one epoch, at
//! whose end some are dropped and the rest forgotten (their objects stay),
//! then an exclusive operation runs (`clear`, `drain`, `shrink_to_fit`,
//! `iter_mut`). Some destructors panic; every value must still be dropped
//! exactly once, and the pool must stay dense and consistent.

#![no_main]

use std::collections::HashMap;

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
}

#[derive(Arbitrary, Debug)]
enum Exclusive {
    Nothing,
    Clear,
    Drain(u8),
    Shrink,
    IterMut(u8),
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
        Op::Foreign => {
            let q = other.alloc(Obj::new(0, false));
            expect_panic_with("another pool", || pool.borrow().by_proxy(&q).seen());
            drop(q);
        }
    }
}

/// The pool holds exactly the model's objects, densely; every proxy reads
/// its own object; ids out of the model were dropped once, the others not.
fn check(pool: &ContiguousUniformPool<Obj>, proxies: &[(u32, Proxy<'_, Obj>)], model: &Model) {
    assert_eq!(pool.len(), model.len());
    for (id, p) in proxies {
        assert_eq!(p.with(Obj::seen), (*id, model[id]));
    }
    let stored = pool.borrow();
    assert_eq!(stored.len(), model.len(), "storage is dense");
    let in_pool: Model = stored.values().map(Obj::seen).collect();
    assert_eq!(&in_pool, model);
    drop(stored);
    for id in 0..drops::ids() {
        let want = u32::from(!model.contains_key(&id));
        assert_eq!(drops::count(id), want, "drops of {id}");
    }
    assert_eq!(pool.stats().live_bytes, model.len() * size_of::<Obj>());
}

fn run_exclusive(pool: &mut ContiguousUniformPool<Obj>, model: &mut Model, then: &Exclusive) {
    match *then {
        Exclusive::Nothing => {}
        Exclusive::Clear => {
            let _ = catch(|| pool.clear());
            assert!(pool.is_empty());
            model.clear();
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
    }
}

fuzz_target!(|epochs: Vec<Epoch>| {
    install_panic_hook();
    drops::reset();
    let mut pool: ContiguousUniformPool<Obj> = ContiguousUniformPool::new();
    let other: ContiguousUniformPool<Obj> = ContiguousUniformPool::new();
    let mut model = Model::new();
    for epoch in epochs.iter().take(MAX_EPOCHS) {
        {
            let mut proxies: Proxies<'_> = Vec::new();
            // Objects whose proxies were forgotten in earlier epochs stay,
            // unreachable but counted.
            for op in epoch.ops.iter().take(MAX_OPS) {
                run_op(&pool, &other, &mut proxies, &mut model, op);
                settle(&pool);
                check(&pool, &proxies, &model);
            }
            for (i, (id, p)) in proxies.into_iter().enumerate() {
                if epoch.forget >> (i % 64) & 1 == 1 {
                    std::mem::forget(p);
                } else {
                    drop_proxy(p);
                    model.remove(&id);
                }
            }
            settle(&pool);
            check(&pool, &[], &model);
        }
        run_exclusive(&mut pool, &mut model, &epoch.then);
        check(&pool, &[], &model);
    }
    // The pool's drop drops the objects of forgotten proxies too.
    let _ = catch(move || drop(pool));
    drop(other);
    drops::assert_each_once();
});
