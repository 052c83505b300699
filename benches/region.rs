//! The compacting region arena with two-phase, compile-time-checked compaction (seed 000).
//! Benchmarks: region (see BENCHMARKS.md).
//!
//! - `compact_64mib`: tokenize + compact + redeem of a 64 MiB region of
//!   `u64` values, every other one garbage, against one `memcpy` of the
//!   surviving bytes (payload only, and whole blocks with their headers).
//! - `allocate_u64`: allocation throughput against `bumpalo::Bump::alloc`.
//! - `forward_deref`: random-access reads through `Forward` against plain
//!   references.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use managed::prelude::*;

const REGION: usize = 64 << 20;

/// Fills a region with `u64`s, drops every other one, and times `work` on
/// the survivors.
fn time_compaction(iters: u64, whole: bool) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        make_guard!(guard);
        let (mut arena, state): (Arena<'_, REGION>, _) = Arena::new(guard);
        let mut survivors = Vec::new();
        let mut i = 0u64;
        while let Ok(item) = arena.allocate_value(&state, i) {
            if i % 2 == 0 {
                survivors.push(item);
            }
            i += 1;
        }
        let live = survivors.len();
        make_guard!(compact);
        let start = Instant::now();
        if whole {
            let token = arena.tokenize_all(&compact, survivors);
            let c = arena.compact(&compact, state);
            let survivors = token.redeem(&arena);
            total += start.elapsed();
            assert_eq!(survivors.len(), live);
            black_box(&survivors);
            drop(survivors);
            let _ = arena.finish(compact, c);
        } else {
            let tokens: Vec<_> = survivors
                .into_iter()
                .map(|s| arena.tokenize(&compact, s))
                .collect();
            let c = arena.compact(&compact, state);
            let survivors: Vec<_> = tokens.into_iter().map(|t| t(&arena)).collect();
            total += start.elapsed();
            assert_eq!(survivors.len(), live);
            black_box(&survivors);
            drop(survivors);
            let _ = arena.finish(compact, c);
        }
    }
    total
}

fn compaction(c: &mut Criterion) {
    let mut g = c.benchmark_group("region/compact_64mib");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    // 64 MiB of 24-byte blocks, half of them live.
    let live = REGION / 24 / 2;
    g.bench_function("tokenize_all+compact+redeem", |b| {
        b.iter_custom(|n| time_compaction(n, true))
    });
    g.bench_function("tokenize_each+compact+redeem", |b| {
        b.iter_custom(|n| time_compaction(n, false))
    });
    for (name, bytes) in [
        ("memcpy_live_payload", live * 8),
        ("memcpy_live_blocks", live * 24),
    ] {
        let src = vec![1u8; bytes];
        let mut dst = vec![0u8; bytes];
        g.bench_function(name, |b| {
            b.iter(|| {
                dst.copy_from_slice(black_box(&src));
                black_box(&dst);
            })
        });
    }
    g.finish();
}

fn allocation(c: &mut Criterion) {
    const COUNT: usize = 10_000;
    let mut g = c.benchmark_group("region/allocate_u64");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(COUNT as u64));
    g.bench_function("managed::region::Arena", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                make_guard!(guard);
                let (arena, state) = Arena::<'_, 0>::with_capacity(guard, COUNT * 24);
                let start = Instant::now();
                for i in 0..COUNT as u64 {
                    let item = arena.allocate_value(&state, black_box(i));
                    std::mem::forget(black_box(item));
                }
                total += start.elapsed();
            }
            total
        })
    });
    g.bench_function("bumpalo::Bump", |b| {
        b.iter_batched_ref(
            || bumpalo::Bump::with_capacity(COUNT * 8),
            |bump| {
                for i in 0..COUNT as u64 {
                    black_box(bump.alloc(black_box(i)));
                }
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn forward_deref(c: &mut Criterion) {
    const COUNT: usize = 100_000;
    const READS: usize = 100_000;
    let mut g = c.benchmark_group("region/forward_deref");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(READS as u64));
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let order: Vec<usize> = (0..READS)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % COUNT as u64) as usize
        })
        .collect();
    {
        make_guard!(guard);
        let (arena, state) = Arena::<'_, 0>::with_capacity(guard, COUNT * 24);
        let forwards: Vec<Forward<'_, u64>> = (0..COUNT as u64)
            .map(|i| arena.allocate_shared(&state, i).map_err(|e| e.0).unwrap())
            .collect();
        g.bench_function("Forward::get", |b| {
            b.iter(|| {
                let mut sum = 0u64;
                for &i in &order {
                    sum = sum.wrapping_add(*forwards[i].get(&arena).unwrap());
                }
                black_box(sum)
            })
        });
    }
    let bump = bumpalo::Bump::new();
    let refs: Vec<&u64> = (0..COUNT as u64).map(|i| &*bump.alloc(i)).collect();
    g.bench_function("&u64 (bumpalo)", |b| {
        b.iter(|| {
            let mut sum = 0u64;
            for &i in &order {
                sum = sum.wrapping_add(*refs[i]);
            }
            black_box(sum)
        })
    });
    g.finish();
}

criterion_group!(group, compaction, allocation, forward_deref);
criterion_main!(group);
