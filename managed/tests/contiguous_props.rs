//! Property tests of `ContiguousUniformPool` against a `HashMap` model:
//! random sequences of alloc, drop-proxy, `with`, `with_mut` and `map`,
//! including removals inside `map` and `with` closures and panics inside
//! `map`. After every step each proxy must read its own object, the pool
//! must hold exactly the model's objects, densely, and every removed value
//! must have been dropped exactly once.

use std::cell::RefCell;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use managed::prelude::*;
use proptest::prelude::*;

/// How many times each id has been dropped.
type DropLog = Rc<RefCell<HashMap<u32, u32>>>;

/// About 800 bytes, so that 19 fit in a page: even the short operation
/// sequences run under Miri spread objects over several pages, and removals
/// move objects across page boundaries.
struct Obj {
    id: u32,
    value: i64,
    drops: DropLog,
    /// `id` repeated, checked when dropped: a torn or misplaced move shows.
    pad: [u32; 200],
}

impl Drop for Obj {
    fn drop(&mut self) {
        assert!(self.pad.iter().all(|&p| p == self.id), "object intact");
        *self.drops.borrow_mut().entry(self.id).or_default() += 1;
    }
}

#[derive(Debug, Clone)]
enum Op {
    Alloc(i64),
    Drop(usize),
    With(usize),
    WithMut(usize, i64),
    Map(i64),
    /// During `map`, at the `at`-th object, drop these proxies.
    DropInsideMap {
        at: usize,
        victims: Vec<usize>,
    },
    /// Inside `with` on `holder`, drop `victim` (another proxy).
    DropInsideWith {
        holder: usize,
        victim: usize,
    },
    /// Inside `with_mut` on `holder`, drop `victim` and change the holder.
    DropInsideWithMut {
        holder: usize,
        victim: usize,
        delta: i64,
    },
    /// `map` adds `delta`, drops `victim` at the start, panics at `at`.
    PanicInsideMap {
        at: usize,
        victim: Option<usize>,
        delta: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (-100i64..100).prop_map(Op::Alloc),
        3 => any::<usize>().prop_map(Op::Drop),
        2 => any::<usize>().prop_map(Op::With),
        2 => (any::<usize>(), -5i64..5).prop_map(|(i, d)| Op::WithMut(i, d)),
        1 => (-5i64..5).prop_map(Op::Map),
        1 => (0usize..16, prop::collection::vec(any::<usize>(), 0..4))
            .prop_map(|(at, victims)| Op::DropInsideMap { at, victims }),
        1 => (any::<usize>(), any::<usize>())
            .prop_map(|(holder, victim)| Op::DropInsideWith { holder, victim }),
        1 => (any::<usize>(), any::<usize>(), -5i64..5)
            .prop_map(|(holder, victim, delta)| Op::DropInsideWithMut { holder, victim, delta }),
        1 => (0usize..16, prop::option::of(any::<usize>()), -5i64..5)
            .prop_map(|(at, victim, delta)| Op::PanicInsideMap { at, victim, delta }),
    ]
}

/// Runs `ops` against a pool and a model, checking after every step.
fn run(ops: &[Op]) {
    let drops: DropLog = Rc::default();
    let pool = ContiguousUniformPool::new();
    let mut proxies: Vec<(u32, Proxy<'_, Obj>)> = Vec::new();
    let mut model: HashMap<u32, i64> = HashMap::new();
    let mut next_id = 0u32;

    for op in ops {
        match op.clone() {
            Op::Alloc(value) => {
                let proxy = pool.alloc(Obj {
                    id: next_id,
                    value,
                    drops: drops.clone(),
                    pad: [next_id; 200],
                });
                proxies.push((next_id, proxy));
                model.insert(next_id, value);
                next_id += 1;
            }
            Op::Drop(i) if !proxies.is_empty() => {
                let (id, proxy) = proxies.swap_remove(i % proxies.len());
                drop(proxy);
                model.remove(&id);
            }
            Op::With(i) if !proxies.is_empty() => {
                let (id, proxy) = &proxies[i % proxies.len()];
                let (seen_id, value) = proxy.with(|o| (o.id, o.value));
                assert_eq!((seen_id, value), (*id, model[id]));
            }
            Op::WithMut(i, delta) if !proxies.is_empty() => {
                let (id, proxy) = &proxies[i % proxies.len()];
                proxy.with_mut(|o| o.value += delta);
                *model.get_mut(id).unwrap() += delta;
            }
            Op::Map(delta) => {
                let mut visited = 0;
                pool.map(|o| {
                    o.value += delta;
                    visited += 1;
                });
                assert_eq!(visited, model.len());
                model.values_mut().for_each(|v| *v += delta);
            }
            Op::DropInsideMap { at, victims } => {
                let before = model.len();
                let mut visited = 0;
                let mut removed = Vec::new();
                pool.map(|_| {
                    if visited == at {
                        for &victim in &victims {
                            if !proxies.is_empty() {
                                let (id, proxy) = proxies.swap_remove(victim % proxies.len());
                                drop(proxy);
                                assert_eq!(drops.borrow().get(&id), None, "dropped during map");
                                removed.push(id);
                            }
                        }
                    }
                    visited += 1;
                });
                assert_eq!(
                    visited, before,
                    "the walk covers the objects it started with"
                );
                for id in removed {
                    model.remove(&id);
                }
            }
            Op::DropInsideWith { holder, victim } if proxies.len() >= 2 => {
                let holder = holder % proxies.len();
                let mut victim = victim % proxies.len();
                if victim == holder {
                    victim = (victim + 1) % proxies.len();
                }
                let victim_proxy = {
                    // Take the victim out of the list without disturbing the holder's index.
                    let (id, proxy) = proxies.remove(victim);
                    (id, Some(proxy))
                };
                let holder = if victim < holder { holder - 1 } else { holder };
                let (holder_id, holder_proxy) = &proxies[holder];
                let (victim_id, mut victim_proxy) = victim_proxy;
                let seen = holder_proxy.with(|o| {
                    drop(victim_proxy.take());
                    assert_eq!(drops.borrow().get(&victim_id), None, "dropped during with");
                    o.id
                });
                assert_eq!(seen, *holder_id);
                model.remove(&victim_id);
            }
            Op::DropInsideWithMut {
                holder,
                victim,
                delta,
            } if proxies.len() >= 2 => {
                let holder = holder % proxies.len();
                let mut victim = victim % proxies.len();
                if victim == holder {
                    victim = (victim + 1) % proxies.len();
                }
                let (victim_id, victim_proxy) = proxies.remove(victim);
                let holder = if victim < holder { holder - 1 } else { holder };
                let (holder_id, holder_proxy) = &proxies[holder];
                let mut victim_proxy = Some(victim_proxy);
                holder_proxy.with_mut(|o| {
                    drop(victim_proxy.take());
                    o.value += delta;
                });
                *model.get_mut(holder_id).unwrap() += delta;
                model.remove(&victim_id);
            }
            Op::PanicInsideMap { at, victim, delta } => {
                let mut visited_ids = Vec::new();
                let mut victim_id = None;
                let result = catch_unwind(AssertUnwindSafe(|| {
                    pool.map(|o| {
                        if visited_ids.is_empty()
                            && let Some(victim) = victim
                            && !proxies.is_empty()
                        {
                            let (id, proxy) = proxies.swap_remove(victim % proxies.len());
                            drop(proxy);
                            victim_id = Some(id);
                        }
                        assert!(visited_ids.len() != at, "map closure panic");
                        o.value += delta;
                        visited_ids.push(o.id);
                    });
                }));
                assert_eq!(result.is_err(), at < model.len());
                for id in &visited_ids {
                    *model.get_mut(id).unwrap() += delta;
                }
                if let Some(id) = victim_id {
                    model.remove(&id);
                    if result.is_err() {
                        // Kept pending through the unwinding ...
                        assert_eq!(drops.borrow().get(&id), None);
                        // ... and carried out when the next borrow ends.
                        pool.map(|_| ());
                    }
                }
            }
            _ => {}
        }
        check(&pool, &proxies, &model, &drops, next_id);
    }
    drop(proxies);
    assert!(pool.is_empty());
    let log = drops.borrow();
    assert!((0..next_id).all(|id| log.get(&id) == Some(&1)));
}

/// The pool agrees with the model, every proxy reads its own object, and
/// drops happened exactly once for exactly the removed ids.
fn check(
    pool: &ContiguousUniformPool<Obj>,
    proxies: &[(u32, Proxy<'_, Obj>)],
    model: &HashMap<u32, i64>,
    drops: &DropLog,
    allocated: u32,
) {
    assert_eq!(pool.len(), model.len());
    assert_eq!(proxies.len(), model.len());
    for (id, proxy) in proxies {
        assert_eq!(proxy.with(|o| (o.id, o.value)), (*id, model[id]));
    }
    let stored = pool.borrow();
    assert_eq!(stored.len(), model.len(), "storage is dense");
    let in_pool: HashMap<u32, i64> = stored.values().map(|o| (o.id, o.value)).collect();
    assert_eq!(&in_pool, model);
    let log = drops.borrow();
    for id in 0..allocated {
        let expected = u32::from(!model.contains_key(&id));
        assert_eq!(
            log.get(&id).copied().unwrap_or(0),
            expected,
            "drops of {id}"
        );
    }
    assert_eq!(pool.stats().live_bytes, model.len() * size_of::<Obj>());
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 6 } else { 2000 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn pool_matches_a_hashmap_model(ops in prop::collection::vec(op(), 0..if cfg!(miri) { 24 } else { 80 })) {
        run(&ops);
    }
}

#[test]
fn a_long_churn_keeps_every_proxy_on_its_object() {
    let rounds = if cfg!(miri) { 60 } else { 5_000 };
    let ops: Vec<Op> = (0..rounds)
        .map(|i| match i % 7 {
            0..=2 => Op::Alloc(i as i64),
            3 => Op::Drop(i * 31),
            4 => Op::DropInsideMap {
                at: i % 5,
                victims: vec![i * 7],
            },
            5 => Op::WithMut(i * 13, 1),
            _ => Op::Map(-1),
        })
        .collect();
    run(&ops);
}
