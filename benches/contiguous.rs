//! Benchmarks: contiguous (see BENCHMARKS.md).
//!
//! `ContiguousUniformPool` side by side with `Vec` and
//! `slotmap::DenseSlotMap`, the crate a user would otherwise pick for
//! dense storage behind stable keys:
//!
//! - `map`: walk 1M 32-byte objects after a third were removed at random;
//! - `random_access`: read one field through every handle in random order;
//! - `churn`: remove a random object and insert a new one, repeatedly.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use managed::prelude::*;
use slotmap::{DefaultKey, DenseSlotMap};

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

/// A small deterministic generator (xorshift64*), so every run removes the
/// same objects.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

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
fn remove_third<H>(handles: &mut Vec<H>, rng: &mut Rng, mut remove: impl FnMut(H)) {
    for _ in 0..OBJECTS / 3 {
        let i = rng.below(handles.len());
        remove(handles.swap_remove(i));
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
    let mut proxies: Vec<_> = (0..OBJECTS).map(|i| pool.alloc(obj(i))).collect();
    remove_third(&mut proxies, &mut Rng(7), drop);
    let live = pool.len();
    group.bench_function("ContiguousUniformPool::map", |b| {
        b.iter(|| pool.map(touch));
    });
    group.bench_function("ContiguousUniformPool::borrow_mut().values_mut()", |b| {
        b.iter(|| pool.borrow_mut().values_mut().for_each(touch));
    });

    let mut vec: Vec<Obj> = (0..live).map(obj).collect();
    group.bench_function("Vec::iter_mut", |b| {
        b.iter(|| black_box(&mut vec).iter_mut().for_each(touch));
    });

    let mut slots = DenseSlotMap::with_capacity(OBJECTS);
    let mut keys: Vec<DefaultKey> = (0..OBJECTS).map(|i| slots.insert(obj(i))).collect();
    remove_third(&mut keys, &mut Rng(7), |k| {
        slots.remove(k);
    });
    assert_eq!(slots.len(), live);
    group.bench_function("DenseSlotMap::values_mut", |b| {
        b.iter(|| black_box(&mut slots).values_mut().for_each(touch));
    });
    group.finish();
    drop(proxies);
}

fn random_access(c: &mut Criterion) {
    let mut group = c.benchmark_group("contiguous/random_access_1M_minus_third");

    let pool = ContiguousUniformPool::with_capacity(OBJECTS);
    let mut proxies: Vec<_> = (0..OBJECTS).map(|i| pool.alloc(obj(i))).collect();
    remove_third(&mut proxies, &mut Rng(7), drop);
    // Visit the handles in a random order.
    let mut rng = Rng(11);
    for i in (1..proxies.len()).rev() {
        proxies.swap(i, rng.below(i + 1));
    }
    group.bench_function("Proxy::with", |b| {
        b.iter(|| {
            proxies
                .iter()
                .map(|p| p.with(|o| o.a))
                .fold(0u64, u64::wrapping_add)
        });
    });

    group.bench_function("PoolRef::by_proxy (one borrow for all accesses)", |b| {
        b.iter(|| {
            let objects = pool.borrow();
            proxies
                .iter()
                .map(|p| objects.by_proxy(p).a)
                .fold(0u64, u64::wrapping_add)
        });
    });

    let mut slots = DenseSlotMap::with_capacity(OBJECTS);
    let mut keys: Vec<DefaultKey> = (0..OBJECTS).map(|i| slots.insert(obj(i))).collect();
    remove_third(&mut keys, &mut Rng(7), |k| {
        slots.remove(k);
    });
    let mut rng = Rng(11);
    for i in (1..keys.len()).rev() {
        keys.swap(i, rng.below(i + 1));
    }
    group.bench_function("DenseSlotMap::get", |b| {
        b.iter(|| {
            keys.iter()
                .map(|&k| slots.get(k).map_or(0, |o| o.a))
                .fold(0u64, u64::wrapping_add)
        });
    });
    group.finish();
}

/// Objects kept alive during the churn.
const CHURN_LIVE: usize = 100_000;
/// Remove + insert pairs per measured iteration.
const CHURN_OPS: usize = 10_000;

fn churn(c: &mut Criterion) {
    let mut group = c.benchmark_group("contiguous/churn_100k_live_10k_remove_insert");

    let pool = ContiguousUniformPool::with_capacity(CHURN_LIVE);
    let mut proxies: Vec<_> = (0..CHURN_LIVE).map(|i| pool.alloc(obj(i))).collect();
    let mut rng = Rng(3);
    group.bench_function("ContiguousUniformPool alloc + drop(Proxy)", |b| {
        b.iter_batched(
            || {
                (0..CHURN_OPS)
                    .map(|_| rng.below(CHURN_LIVE))
                    .collect::<Vec<_>>()
            },
            |victims| {
                for (n, i) in victims.into_iter().enumerate() {
                    drop(proxies.swap_remove(i));
                    proxies.push(pool.alloc(obj(n)));
                }
            },
            BatchSize::SmallInput,
        );
    });

    let mut slots = DenseSlotMap::with_capacity(CHURN_LIVE);
    let mut keys: Vec<DefaultKey> = (0..CHURN_LIVE).map(|i| slots.insert(obj(i))).collect();
    let mut rng = Rng(3);
    group.bench_function("DenseSlotMap insert + remove", |b| {
        b.iter_batched(
            || {
                (0..CHURN_OPS)
                    .map(|_| rng.below(CHURN_LIVE))
                    .collect::<Vec<_>>()
            },
            |victims| {
                for (n, i) in victims.into_iter().enumerate() {
                    black_box(slots.remove(keys.swap_remove(i)));
                    keys.push(slots.insert(obj(n)));
                }
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
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
    targets = map, random_access, churn
}
criterion_main!(group);
