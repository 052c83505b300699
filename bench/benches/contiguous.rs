//! Benchmarks: contiguous (see BENCHMARKS.md).
//!
//! `ContiguousUniformPool` side by side with `Vec` and
//! `slotmap::DenseSlotMap`, the crate a user would otherwise pick for
//! dense storage behind stable keys:
//!
//! - `map`: walk 1M 32-byte objects after a third were removed at random,
//!   with and without each object's key;
//! - `random_access`: read one field through every handle in random order:
//!   proxies (with their recorded positions current, and outdated by a
//!   removal before each pass), keys (through one borrow, or a guard per lookup), and, as the
//!   floor of the pool's lookup, a `slotmap::SlotMap` from keys to the
//!   positions of the same pool objects;
//! - `retain`: keep two objects in three of 100k;
//! - `churn`: remove a random object and insert a new one, repeatedly, by
//!   proxy and by key.
//!
//! Every benchmark here (ours and peers alike) reports the *CPU time of the
//! benchmark thread* (`CLOCK_THREAD_CPUTIME_ID`) through `iter_custom`: the
//! machine is shared, and wall time would charge a benchmark for the time
//! slices other processes take.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use managed::prelude::*;
use slotmap::{DenseSlotMap, Key, SlotMap};

mod support;
use support::{XorShift, cpu_iters, cpu_time, sweep_sizes};

/// A 32-byte object.
#[derive(Clone, Copy, Managed)]
struct Obj {
    a: u64,
    b: u64,
    c: u64,
    d: u64,
}

const _: () = assert!(size_of::<Obj>() == 32);

const OBJECTS: usize = 1_000_000;

fn obj(i: usize) -> Obj {
    let i = i as u64;
    Obj {
        a: i,
        b: i * 3,
        c: i ^ 0x55,
        d: 1,
    }
}

/// Removes a random third of the handles (by swap-remove, in random order).
fn remove_third<H>(handles: &mut Vec<H>, rng: &mut XorShift, mut remove: impl FnMut(H)) {
    for _ in 0..OBJECTS / 3 {
        let i = rng.below(handles.len() as u64) as usize;
        remove(handles.swap_remove(i));
    }
}

/// Shuffles `handles` (Fisher-Yates), so they are visited in random order.
fn shuffle<H>(handles: &mut [H], rng: &mut XorShift) {
    for i in (1..handles.len()).rev() {
        handles.swap(i, rng.below(i as u64 + 1) as usize);
    }
}

/// The per-object work of the walks.
#[inline]
fn touch(o: &mut Obj) {
    o.a = o.a.wrapping_add(o.b ^ o.c);
    o.d = o.d.wrapping_add(1);
}

fn map(c: &mut Criterion) {
    let mut group = c.benchmark_group("contiguous/map_1M_minus_third");

    let pool = ContiguousUniformPool::with_capacity(OBJECTS);
    let mut keys: Vec<DefaultKey> = (0..OBJECTS).map(|i| pool.insert(obj(i))).collect();
    remove_third(&mut keys, &mut XorShift(7), |k| {
        pool.remove(k);
    });
    let live = pool.len();
    group.bench_function("ContiguousUniformPool::map", |b| {
        b.iter_custom(|iters| cpu_iters(iters, || pool.map(touch)));
    });
    group.bench_function("ContiguousUniformPool::map_with_key", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                pool.map_with_key(|k, o| {
                    touch(o);
                    black_box(k);
                });
            })
        });
    });

    let mut vec: Vec<Obj> = (0..live).map(obj).collect();
    group.bench_function("Vec::iter_mut", |b| {
        b.iter_custom(|iters| cpu_iters(iters, || black_box(&mut vec).iter_mut().for_each(touch)));
    });

    let mut slots = DenseSlotMap::with_capacity(OBJECTS);
    let mut slot_keys: Vec<slotmap::DefaultKey> =
        (0..OBJECTS).map(|i| slots.insert(obj(i))).collect();
    remove_third(&mut slot_keys, &mut XorShift(7), |k| {
        slots.remove(k);
    });
    assert_eq!(slots.len(), live);
    group.bench_function("DenseSlotMap::values_mut", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || black_box(&mut slots).values_mut().for_each(touch))
        });
    });
    group.bench_function("DenseSlotMap::iter_mut", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                black_box(&mut slots).iter_mut().for_each(|(k, o)| {
                    touch(o);
                    black_box(k);
                });
            })
        });
    });
    group.finish();
}

fn random_access(c: &mut Criterion) {
    let mut group = c.benchmark_group("contiguous/random_access_1M_minus_third");

    // Proxies.
    let pool = ContiguousUniformPool::with_capacity(OBJECTS);
    let mut proxies: Vec<_> = (0..OBJECTS).map(|i| pool.alloc(obj(i))).collect();
    remove_third(&mut proxies, &mut XorShift(7), drop);
    shuffle(&mut proxies, &mut XorShift(11));
    // The removals above outdated the recorded positions; after two passes
    // the proxies have recorded them again (what a program reading its
    // objects in a loop reaches), so the counts of a short counting run
    // are those of the steady state that the timed runs measure.
    let sum = |proxies: &[Proxy<'_, Obj>]| {
        proxies
            .iter()
            .map(|p| p.with(|o| o.a))
            .fold(0u64, u64::wrapping_add)
    };
    for _ in 0..2 {
        black_box(sum(&proxies));
    }
    group.bench_function("Proxy::with", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                black_box(
                    proxies
                        .iter()
                        .map(|p| p.with(|o| o.a))
                        .fold(0u64, u64::wrapping_add),
                );
            })
        });
    });
    // The same after each pass removes one object (and adds one back), so
    // every proxy's recorded position is out of date and each access goes
    // through the key table, recording the position again.
    let mut spare = pool.insert(obj(0));
    group.bench_function(
        "Proxy::with (positions outdated: one removal per pass)",
        |b| {
            b.iter_custom(|iters| {
                cpu_iters(iters, || {
                    pool.remove(spare);
                    spare = pool.insert(obj(0));
                    black_box(
                        proxies
                            .iter()
                            .map(|p| p.with(|o| o.a))
                            .fold(0u64, u64::wrapping_add),
                    );
                })
            });
        },
    );
    group.bench_function("PoolRef::by_proxy (one borrow for all accesses)", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                let objects = pool.borrow();
                black_box(
                    proxies
                        .iter()
                        .map(|p| objects.by_proxy(p).a)
                        .fold(0u64, u64::wrapping_add),
                );
            })
        });
    });
    drop(proxies);
    drop(pool);

    // Keys, and a slotmap `SlotMap` from the same keys to the same objects.
    let pool = ContiguousUniformPool::with_capacity(OBJECTS);
    let mut keys: Vec<DefaultKey> = (0..OBJECTS).map(|i| pool.insert(obj(i))).collect();
    remove_third(&mut keys, &mut XorShift(7), |k| {
        pool.remove(k);
    });
    shuffle(&mut keys, &mut XorShift(11));
    group.bench_function("PoolRef::get (keys, one borrow for all lookups)", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                let objects = pool.borrow();
                black_box(
                    keys.iter()
                        .map(|&k| objects.get(k).map_or(0, |o| o.a))
                        .fold(0u64, u64::wrapping_add),
                );
            })
        });
    });
    group.bench_function(
        "ContiguousUniformPool::get (keys, a guard per lookup)",
        |b| {
            b.iter_custom(|iters| {
                cpu_iters(iters, || {
                    black_box(
                        keys.iter()
                            .map(|&k| pool.get(k).map_or(0, |o| o.a))
                            .fold(0u64, u64::wrapping_add),
                    );
                })
            });
        },
    );
    {
        // The pool's lookup written by hand, as a floor: a `SlotMap` whose
        // 8-byte slots hold the objects' positions in the same buffer,
        // with the same spread (a slot per key ever inserted, in the
        // pool's slot order, the removed third vacant), looked up in the
        // same random order. (It is how the choice of the key table was
        // measured: the pool's own table was a hand-written paged one
        // then; see BENCHMARKS.md.)
        let objects = pool.borrow();
        let first = core::ptr::from_ref(objects.values().next().unwrap());
        for (position, object) in objects.values().enumerate() {
            // SAFETY: a position below the length, in the objects' buffer.
            let at = unsafe { first.add(position) };
            assert!(core::ptr::eq(at, object));
        }
        let position: std::collections::HashMap<u32, u32> = objects
            .iter()
            .enumerate()
            .map(|(p, (k, _))| (k.data().as_ffi() as u32, p as u32))
            .collect();
        let last = *position.keys().max().unwrap();
        let mut table: SlotMap<slotmap::DefaultKey, u32> = SlotMap::with_capacity(OBJECTS);
        let mut ours_to_table = std::collections::HashMap::new();
        let mut vacant = Vec::new();
        for index in 0..=last {
            match position.get(&index) {
                Some(&p) => drop(ours_to_table.insert(index, table.insert(p))),
                None => vacant.push(table.insert(0)),
            }
        }
        for key in vacant {
            table.remove(key);
        }
        let table_keys: Vec<slotmap::DefaultKey> = keys
            .iter()
            .map(|k| ours_to_table[&(k.data().as_ffi() as u32)])
            .collect();
        drop((position, ours_to_table));
        group.bench_function(
            "slotmap::SlotMap<K, u32> + position by hand (same objects)",
            |b| {
                b.iter_custom(|iters| {
                    cpu_iters(iters, || {
                        black_box(
                            table_keys
                                .iter()
                                .map(|&k| {
                                    table.get(k).map_or(0, |&p| {
                                        let p = p as usize;
                                        // SAFETY: objects kept in place by the
                                        // borrow `objects` holds.
                                        unsafe { (*first.add(p)).a }
                                    })
                                })
                                .fold(0u64, u64::wrapping_add),
                        );
                    })
                });
            },
        );
    }
    drop(keys);
    drop(pool);

    let mut slots = DenseSlotMap::with_capacity(OBJECTS);
    let mut slot_keys: Vec<slotmap::DefaultKey> =
        (0..OBJECTS).map(|i| slots.insert(obj(i))).collect();
    remove_third(&mut slot_keys, &mut XorShift(7), |k| {
        slots.remove(k);
    });
    shuffle(&mut slot_keys, &mut XorShift(11));
    group.bench_function("DenseSlotMap::get", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                black_box(
                    slot_keys
                        .iter()
                        .map(|&k| slots.get(k).map_or(0, |o| o.a))
                        .fold(0u64, u64::wrapping_add),
                );
            })
        });
    });
    group.finish();
}

/// Objects of the `retain` benchmark.
const RETAIN: usize = 100_000;

fn retain(c: &mut Criterion) {
    let mut group = c.benchmark_group("contiguous/retain_100k_keep_two_thirds");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(2));

    group.bench_function("ContiguousUniformPool::retain", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let pool = ContiguousUniformPool::with_capacity(RETAIN);
                for i in 0..RETAIN {
                    pool.insert(obj(i));
                }
                total += cpu_time(|| pool.retain(|_, o| o.a % 3 != 0)).1;
                assert_eq!(pool.len(), RETAIN - RETAIN.div_ceil(3));
            }
            total
        });
    });

    group.bench_function("DenseSlotMap::retain", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut slots = DenseSlotMap::with_capacity(RETAIN);
                for i in 0..RETAIN {
                    slots.insert(obj(i));
                }
                total += cpu_time(|| slots.retain(|_, o| o.a % 3 != 0)).1;
                assert_eq!(slots.len(), RETAIN - RETAIN.div_ceil(3));
            }
            total
        });
    });
    group.finish();
}

/// A snapshot and its release (a rollback or an undo by snapshot makes one
/// per frame or edit): 100k 32-byte objects with a third removed at random,
/// cloned and the clone dropped.
fn clone(c: &mut Criterion) {
    let mut group = c.benchmark_group("contiguous/clone_100k_third_removed");
    let mut rng = XorShift(21);
    let pool = ContiguousUniformPool::new();
    let mut keys: Vec<_> = (0..RETAIN).map(|i| pool.insert(obj(i))).collect();
    let mut slots = DenseSlotMap::new();
    let mut dense: Vec<_> = (0..RETAIN).map(|i| slots.insert(obj(i))).collect();
    for _ in 0..RETAIN / 3 {
        let i = rng.below(keys.len() as u64) as usize;
        pool.remove(keys.swap_remove(i));
        slots.remove(dense.swap_remove(i));
    }
    group.bench_function("ContiguousUniformPool", |b| {
        b.iter_custom(|iters| cpu_iters(iters, || drop(black_box(black_box(&pool).clone()))))
    });
    group.bench_function("DenseSlotMap", |b| {
        b.iter_custom(|iters| cpu_iters(iters, || drop(black_box(black_box(&slots).clone()))))
    });
    group.finish();
}

/// Objects kept alive during the churn.
const CHURN_LIVE: usize = 100_000;
/// Remove + insert pairs per measured iteration.
const CHURN_OPS: usize = 10_000;

fn churn(c: &mut Criterion) {
    let mut group = c.benchmark_group("contiguous/churn_100k_live_10k_remove_insert");
    let victims = |rng: &mut XorShift| -> Vec<usize> {
        (0..CHURN_OPS)
            .map(|_| rng.below(CHURN_LIVE as u64) as usize)
            .collect()
    };

    let pool = ContiguousUniformPool::with_capacity(CHURN_LIVE);
    let mut proxies: Vec<_> = (0..CHURN_LIVE).map(|i| pool.alloc(obj(i))).collect();
    let mut rng = XorShift(3);
    group.bench_function("ContiguousUniformPool alloc + drop(Proxy)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let victims = victims(&mut rng);
                total += cpu_time(|| {
                    for (n, i) in victims.into_iter().enumerate() {
                        drop(proxies.swap_remove(i));
                        proxies.push(pool.alloc(obj(n)));
                    }
                })
                .1;
            }
            total
        });
    });
    drop(proxies);
    drop(pool);

    let pool = ContiguousUniformPool::with_capacity(CHURN_LIVE);
    let mut keys: Vec<DefaultKey> = (0..CHURN_LIVE).map(|i| pool.insert(obj(i))).collect();
    let mut rng = XorShift(3);
    group.bench_function("ContiguousUniformPool insert + remove(key)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let victims = victims(&mut rng);
                total += cpu_time(|| {
                    for (n, i) in victims.into_iter().enumerate() {
                        black_box(pool.remove(keys.swap_remove(i)));
                        keys.push(pool.insert(obj(n)));
                    }
                })
                .1;
            }
            total
        });
    });
    drop(keys);
    drop(pool);

    let mut slots = DenseSlotMap::with_capacity(CHURN_LIVE);
    let mut slot_keys: Vec<slotmap::DefaultKey> =
        (0..CHURN_LIVE).map(|i| slots.insert(obj(i))).collect();
    let mut rng = XorShift(3);
    group.bench_function("DenseSlotMap insert + remove", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let victims = victims(&mut rng);
                total += cpu_time(|| {
                    for (n, i) in victims.into_iter().enumerate() {
                        black_box(slots.remove(slot_keys.swap_remove(i)));
                        slot_keys.push(slots.insert(obj(n)));
                    }
                })
                .1;
            }
            total
        });
    });
    group.finish();
}

/// Compute-bound per-object work for the parallel walks: a chain of
/// multiply-xorshift steps on the object's fields (about 100 cycles), so
/// that a walk is bound by the cores, not by memory.
#[inline]
fn compute(o: &mut Obj) {
    let mut x = o.a ^ o.d;
    for _ in 0..16 {
        x = x.wrapping_mul(0x5851_F42D_4C95_7F2D).wrapping_add(o.b);
        x ^= x >> 29;
    }
    o.c = x;
    o.d = o.d.wrapping_add(1);
}

/// `map` against `par_map` on rayon's global pool (one thread per core),
/// and the same against `Vec::iter_mut` / `par_iter_mut`. Wall time (the
/// default measurement): a parallel walk's work happens on other threads,
/// which the calling thread's CPU time does not see.
fn par_map(c: &mut Criterion) {
    use rayon::prelude::*;
    let mut group = c.benchmark_group("contiguous/par_map_1M_compute");
    group.sample_size(10);
    let pool = ContiguousUniformPool::with_capacity(OBJECTS);
    for i in 0..OBJECTS {
        pool.insert(obj(i));
    }
    group.bench_function("ContiguousUniformPool::map", |b| {
        b.iter(|| pool.map(compute))
    });
    group.bench_function("ContiguousUniformPool::par_map", |b| {
        b.iter(|| pool.par_map(compute))
    });
    let mut vec: Vec<Obj> = (0..OBJECTS).map(obj).collect();
    group.bench_function("Vec::iter_mut", |b| {
        b.iter(|| black_box(&mut vec).iter_mut().for_each(compute))
    });
    group.bench_function("Vec::par_iter_mut", |b| {
        b.iter(|| black_box(&mut vec).par_iter_mut().for_each(compute))
    });
    group.finish();
}

/// `map` against `DenseSlotMap::values_mut`, and key lookups in random
/// order (`PoolRef::get` against `DenseSlotMap::get`), at live counts from
/// 10^3 to 10^7 (no removals: the densest case for both).
fn sweeps(c: &mut Criterion) {
    let mut walk = c.benchmark_group("contiguous/map/sweep");
    walk.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for &n in sweep_sizes() {
        walk.throughput(criterion::Throughput::Elements(n as u64));
        let pool = ContiguousUniformPool::with_capacity(n);
        for i in 0..n {
            pool.insert(obj(i));
        }
        walk.bench_with_input(BenchmarkId::new("ContiguousUniformPool", n), &n, |b, _| {
            b.iter_custom(|iters| cpu_iters(iters, || pool.map(touch)))
        });
        drop(pool);
        let mut slots = DenseSlotMap::with_capacity(n);
        for i in 0..n {
            slots.insert(obj(i));
        }
        walk.bench_with_input(BenchmarkId::new("DenseSlotMap", n), &n, |b, _| {
            b.iter_custom(|iters| {
                cpu_iters(iters, || black_box(&mut slots).values_mut().for_each(touch))
            })
        });
    }
    walk.finish();

    const LOOKUPS: usize = 100_000;
    let mut get = c.benchmark_group("contiguous/get/sweep");
    get.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .throughput(criterion::Throughput::Elements(LOOKUPS as u64));
    for &n in sweep_sizes() {
        let mut rng = XorShift(11);
        let order: Vec<usize> = (0..LOOKUPS).map(|_| rng.below(n as u64) as usize).collect();
        let pool = ContiguousUniformPool::with_capacity(n);
        let keys: Vec<DefaultKey> = (0..n).map(|i| pool.insert(obj(i))).collect();
        let lookups: Vec<DefaultKey> = order.iter().map(|&i| keys[i]).collect();
        drop(keys);
        get.bench_with_input(BenchmarkId::new("ContiguousUniformPool", n), &n, |b, _| {
            b.iter_custom(|iters| {
                cpu_iters(iters, || {
                    let objects = pool.borrow();
                    let mut sum = 0u64;
                    for &k in &lookups {
                        sum = sum.wrapping_add(objects.get(k).map_or(0, |o| o.a));
                    }
                    black_box(sum);
                })
            })
        });
        drop(pool);
        let mut slots = DenseSlotMap::with_capacity(n);
        let keys: Vec<slotmap::DefaultKey> = (0..n).map(|i| slots.insert(obj(i))).collect();
        let lookups: Vec<slotmap::DefaultKey> = order.iter().map(|&i| keys[i]).collect();
        drop(keys);
        get.bench_with_input(BenchmarkId::new("DenseSlotMap", n), &n, |b, _| {
            b.iter_custom(|iters| {
                cpu_iters(iters, || {
                    let mut sum = 0u64;
                    for &k in &lookups {
                        sum = sum.wrapping_add(slots.get(k).map_or(0, |o| o.a));
                    }
                    black_box(sum);
                })
            })
        });
    }
    get.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = group;
    config = config();
    targets = map, random_access, retain, clone, churn, par_map, sweeps
}
criterion_main!(group);
