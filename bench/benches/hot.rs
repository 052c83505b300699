//! Benchmarks: hot (see BENCHMARKS.md).
//!
//! - `hot_churn`: 10k live `u64` slots; each iteration replaces 1000 slots
//!   picked at random (allocate the new value, free the old one): ours vs
//!   `Box::new`/drop vs the `onsen` crate's pool.
//! - `hot_box`: 1000 create/drop pairs of a `PoolBox<u64>` vs `Box<u64>`.
//! - `hot_rc`: 1000 times create, clone, drop both of a `PoolRc<u64>` vs
//!   `Rc<u64>`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use managed::prelude::*;
use onsen::PoolApi as _;

mod support;
use support::{XorShift, cpu_iters};

/// Live slots during the churn.
const LIVE: usize = 10_000;
/// Replacements per iteration.
const OPS: usize = 1000;

/// Deterministic pseudo-random indices below `LIVE` (xorshift64).
fn indices() -> Vec<usize> {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    (0..OPS).map(|_| rng.below(LIVE as u64) as usize).collect()
}

fn churn(c: &mut Criterion) {
    let idx = indices();
    let mut g = c.benchmark_group("hot_churn");

    g.bench_function("managed::hot::Pool", |b| {
        let pool: Pool<u64> = Pool::new();
        let mut slots: Vec<Slot<u64>> = (0..LIVE as u64).map(|i| pool.alloc(i)).collect();
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                for &i in &idx {
                    let old = std::mem::replace(&mut slots[i], pool.alloc(black_box(i as u64)));
                    // SAFETY: from `pool`, no reference alive.
                    unsafe { pool.free(old) };
                }
            })
        });
        for s in slots {
            // SAFETY: from `pool`, no reference alive.
            unsafe { pool.free(s) };
        }
    });

    g.bench_function("Box", |b| {
        let mut boxes: Vec<Box<u64>> = (0..LIVE as u64).map(Box::new).collect();
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                for &i in &idx {
                    let old = std::mem::replace(&mut boxes[i], Box::new(black_box(i as u64)));
                    drop(old);
                }
            })
        });
    });

    g.bench_function("onsen::Pool", |b| {
        let pool: onsen::Pool<u64> = onsen::Pool::new();
        let mut slots: Vec<_> = (0..LIVE as u64).map(|i| pool.alloc(i)).collect();
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                for &i in &idx {
                    let old = std::mem::replace(&mut slots[i], pool.alloc(black_box(i as u64)));
                    // SAFETY: from `pool`, no reference alive.
                    unsafe { pool.free(old) };
                }
            })
        });
        for s in slots {
            // SAFETY: from `pool`, no reference alive.
            unsafe { pool.free(s) };
        }
    });
    g.finish();
}

fn boxes(c: &mut Criterion) {
    let mut g = c.benchmark_group("hot_box");
    g.bench_function("PoolBox", |b| {
        let pool: Pool<u64> = Pool::new();
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                for i in 0..OPS as u64 {
                    let bx = pool.alloc_box(black_box(i));
                    black_box(&*bx);
                }
            })
        });
    });
    g.bench_function("Box", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                for i in 0..OPS as u64 {
                    let bx = Box::new(black_box(i));
                    black_box(&*bx);
                }
            })
        });
    });
    g.finish();
}

fn shared(c: &mut Criterion) {
    let mut g = c.benchmark_group("hot_rc");
    g.bench_function("PoolRc", |b| {
        let pool: Pool<u64> = Pool::new();
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                for i in 0..OPS as u64 {
                    let a = pool.alloc_rc(black_box(i));
                    let a2 = a.clone();
                    black_box((&*a, &*a2));
                }
            })
        });
    });
    g.bench_function("Rc", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                for i in 0..OPS as u64 {
                    let a = std::rc::Rc::new(black_box(i));
                    let a2 = a.clone();
                    black_box((&*a, &*a2));
                }
            })
        });
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
}

criterion_group!(name = group; config = config(); targets = churn, boxes, shared);
criterion_main!(group);
