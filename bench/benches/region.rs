//! The compacting region arena with two-phase, compile-time-checked compaction.
//! Benchmarks: region (see BENCHMARKS.md).
//!
//! - `compact_64mib`: tokenize + compact + redeem of a 64 MiB region of
//!   `u64` values, every other one garbage, against one `memcpy` of the
//!   surviving bytes (objects carry no header: the payload is all that
//!   moves).
//! - `allocate_u64`: allocation throughput against `bumpalo::Bump::alloc`.
//! - `forward_deref`: random-access reads through `Forward` against plain
//!   references.
//!
//! Every benchmark here (ours and peers alike) reports the *CPU time of the
//! benchmark thread* (`CLOCK_THREAD_CPUTIME_ID`) through `iter_custom`: the
//! machine is shared, and wall time would charge a long benchmark for the
//! time slices other processes take, while a short one fits in a slice.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use managed::prelude::*;

mod support;
use support::{XorShift, cpu_iters, cpu_time, sweep_sizes};

const REGION: usize = 64 << 20;

/// Fills a region with `u64`s, drops every other one, and times
/// tokenize + compact + redeem of the survivors (whole vector at once, or
/// one token per item). The arena is reused across iterations (emptied by
/// an untimed compaction), so its forwarding cells are warm, as in a
/// program that compacts periodically.
fn time_compaction(iters: u64, whole: bool) -> Duration {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, REGION>, _) = Arena::new(guard);
    let mut state = Some(state);
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let st = state.take().expect("put back each iteration");
        let mut survivors = Vec::new();
        let mut i = 0u64;
        while let Ok(item) = arena.alloc(&st, i) {
            if i.is_multiple_of(2) {
                survivors.push(item);
            }
            i += 1;
        }
        let live = survivors.len();
        make_guard!(compact);
        // Timed in three sections (a closure cannot take the survivors,
        // which borrow the arena, and the arena mutably at once): tokenize,
        // compact, redeem.
        let (c, survivors) = if whole {
            let (token, tokenizing) = cpu_time(|| arena.tokenize_all(&compact, survivors));
            let (c, compacting) = cpu_time(|| arena.compact(&compact, st));
            let (survivors, redeeming) = cpu_time(|| token.redeem(&arena));
            total += tokenizing + compacting + redeeming;
            (c, survivors)
        } else {
            let (tokens, tokenizing) = cpu_time(|| {
                survivors
                    .into_iter()
                    .map(|s| arena.tokenize(&compact, s))
                    .collect::<Vec<_>>()
            });
            let (c, compacting) = cpu_time(|| arena.compact(&compact, st));
            let (survivors, redeeming) =
                cpu_time(|| tokens.into_iter().map(|t| t(&arena)).collect::<Vec<_>>());
            total += tokenizing + compacting + redeeming;
            (c, survivors)
        };
        assert_eq!(survivors.len(), live);
        assert_eq!(arena.detailed_stats().hole_bytes, 0);
        black_box(&survivors);
        drop(survivors);
        let st = arena.finish(compact, c);
        make_guard!(empty);
        let c = arena.compact(&empty, st);
        state = Some(arena.finish(empty, c));
    }
    total
}

fn compaction(c: &mut Criterion) {
    let mut g = c.benchmark_group("region/compact_64mib");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    // 64 MiB of 8-byte objects, half of them live.
    let live = REGION / 8 / 2;
    g.bench_function("tokenize_all+compact+redeem", |b| {
        b.iter_custom(|n| time_compaction(n, true))
    });
    g.bench_function("tokenize_each+compact+redeem", |b| {
        b.iter_custom(|n| time_compaction(n, false))
    });
    // The data movement of this workload for any compactor that keeps its
    // handles outside the region, as three plain loops over plain memory:
    // check that each of the survivors' handles points into the area (so
    // that a foreign one is refused before anything changes), rewrite each
    // to its object's new address, and slide every other word of the area
    // down. A floor, not a peer: no formula, no bitmap, vectorizable.
    let mut area: Vec<u64> = (0..(REGION / 8) as u64).collect();
    let base = area.as_ptr().addr();
    let mut handles: Vec<usize> = vec![0; live];
    g.bench_function(
        "plain loops: check + rewrite the handles, slide the area",
        |b| {
            b.iter_custom(|n| {
                let mut total = Duration::ZERO;
                for _ in 0..n {
                    for (i, h) in handles.iter_mut().enumerate() {
                        *h = base + 16 * i;
                    }
                    total += cpu_time(|| {
                        let from = black_box(base);
                        let foreign = handles.iter().any(|&h| h.wrapping_sub(from) >= REGION);
                        assert!(!foreign);
                        for h in &mut handles {
                            *h = from + (*h - from) / 16 * 8;
                        }
                        for d in 0..live {
                            area[d] = area[2 * d];
                        }
                    })
                    .1;
                    black_box((&handles, &area));
                }
                total
            })
        },
    );
    let src = vec![1u8; live * 8];
    let mut dst = vec![0u8; live * 8];
    g.bench_function("memcpy_live_payload", |b| {
        b.iter_custom(|n| {
            cpu_iters(n, || {
                dst.copy_from_slice(black_box(&src));
                black_box(&dst);
            })
        })
    });
    g.finish();
}

fn allocation(c: &mut Criterion) {
    const COUNT: usize = 10_000;
    let mut g = c.benchmark_group("region/allocate_u64");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(COUNT as u64));
    // Both sides allocate into warm memory and keep their handles in a
    // reserved vector; emptying the arena (drop + compact) and resetting
    // the bump are not timed.
    g.bench_function("managed::region::Arena", |b| {
        make_guard!(guard);
        let (mut arena, state) = Arena::<'_, 0>::with_capacity(guard, COUNT * 8);
        let mut state = Some(state);
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let st = state.take().expect("put back each iteration");
                let mut items = Vec::with_capacity(COUNT);
                total += cpu_time(|| {
                    for i in 0..COUNT as u64 {
                        match arena.alloc(&st, black_box(i)) {
                            Ok(item) => items.push(item),
                            Err(_) => unreachable!("sized for COUNT"),
                        }
                    }
                })
                .1;
                black_box(&items);
                drop(items);
                make_guard!(compact);
                let c = arena.compact(&compact, st);
                state = Some(arena.finish(compact, c));
            }
            total
        })
    });
    g.bench_function("bumpalo::Bump", |b| {
        let mut bump = bumpalo::Bump::with_capacity(COUNT * 8);
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut refs: Vec<*mut u64> = Vec::with_capacity(COUNT);
                total += cpu_time(|| {
                    for i in 0..COUNT as u64 {
                        refs.push(bump.alloc(black_box(i)));
                    }
                })
                .1;
                black_box(&refs);
                drop(refs);
                bump.reset();
            }
            total
        })
    });
    g.finish();
}

fn shared_slice_push(c: &mut Criterion) {
    const PUSHES: usize = 16_000;
    let mut g = c.benchmark_group("region/shared_slice_push");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(PUSHES as u64));
    // Appending `PUSHES` u64s one by one to a shared slice that another
    // object keeps off the region's top after every push (so it must move
    // to grow), against `Vec::push` (which reallocates as it doubles). The
    // region is made afresh each iteration, outside the timing.
    g.bench_function("Arena::push_shared (off the top)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                make_guard!(guard);
                let (mut arena, state) = Arena::<'_, 0>::with_capacity(guard, PUSHES * 64);
                let list = arena.alloc_shared_slice(&state, &[0u64; 0]).unwrap();
                total += cpu_time(|| {
                    for i in 0..PUSHES as u64 {
                        arena.push_shared(&state, list, black_box(i)).unwrap();
                        let _ = arena.alloc_shared(&state, i).unwrap();
                    }
                })
                .1;
                black_box(arena[list].len());
            }
            total
        })
    });
    g.bench_function("Vec::push (with a Box per push)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut list = Vec::new();
                let mut others = Vec::with_capacity(PUSHES);
                total += cpu_time(|| {
                    for i in 0..PUSHES as u64 {
                        list.push(black_box(i));
                        others.push(Box::new(i));
                    }
                })
                .1;
                black_box((list.len(), others.len()));
            }
            total
        })
    });
    g.finish();
}

fn forward_deref(c: &mut Criterion) {
    const READS: usize = 100_000;
    let mut g = c.benchmark_group("region/forward_deref");
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(READS as u64));
    // 10k objects stay in cache; 100k do not (the `Forward` side touches
    // 8-byte handles, 16-byte cells and 8-byte objects: twice the bytes of
    // the `&u64` side's references and values).
    for count in [10_000usize, 100_000] {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let order: Vec<usize> = (0..READS)
            .map(|_| rng.below(count as u64) as usize)
            .collect();
        {
            make_guard!(guard);
            let (arena, state) = Arena::<'_, 0>::with_capacity(guard, count * 8);
            let forwards: Vec<Forward<'_, u64>> = (0..count as u64)
                .map(|i| arena.alloc_shared(&state, i).unwrap())
                .collect();
            g.bench_function(format!("Forward::get/{count}"), |b| {
                b.iter_custom(|n| {
                    cpu_iters(n, || {
                        let mut sum = 0u64;
                        for &i in &order {
                            sum = sum.wrapping_add(*forwards[i].get(&arena).unwrap());
                        }
                        black_box(sum);
                    })
                })
            });
        }
        let bump = bumpalo::Bump::new();
        let refs: Vec<&u64> = (0..count as u64).map(|i| &*bump.alloc(i)).collect();
        g.bench_function(format!("&u64 (bumpalo)/{count}"), |b| {
            b.iter_custom(|n| {
                cpu_iters(n, || {
                    let mut sum = 0u64;
                    for &i in &order {
                        sum = sum.wrapping_add(*refs[i]);
                    }
                    black_box(sum);
                })
            })
        });
    }
    g.finish();
}

/// `tokenize_all` + compact + redeem of `live` surviving `u64`s in a region
/// of `2 * live` (every other one garbage), timed in thread CPU time; the
/// region is made for each iteration, outside the timing.
fn time_compaction_of(iters: u64, live: usize) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        make_guard!(guard);
        let (mut arena, st) = Arena::<'_, 0>::with_capacity(guard, live * 16);
        let mut survivors = Vec::with_capacity(live);
        for i in 0..2 * live as u64 {
            let item = arena.alloc(&st, i).unwrap();
            if i % 2 == 0 {
                survivors.push(item);
            }
        }
        make_guard!(compact);
        // Three timed sections, as in `time_compaction`.
        let (token, tokenizing) = cpu_time(|| arena.tokenize_all(&compact, survivors));
        let (c, compacting) = cpu_time(|| arena.compact(&compact, st));
        let (survivors, redeeming) = cpu_time(|| token.redeem(&arena));
        total += tokenizing + compacting + redeeming;
        assert_eq!(survivors.len(), live);
        black_box(&survivors);
        drop(survivors);
        let _ = arena.finish(compact, c);
    }
    total
}

/// The compaction at live counts from 10^3 to 10^7, against a `memcpy` of
/// the surviving payload.
fn compaction_sweep(c: &mut Criterion) {
    let mut g = c.benchmark_group("region/compact/sweep");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(2));
    for &n in sweep_sizes() {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(
            BenchmarkId::new("tokenize_all+compact+redeem", n),
            &n,
            |b, &n| b.iter_custom(|iters| time_compaction_of(iters, n)),
        );
        let src = vec![1u8; n * 8];
        let mut dst = vec![0u8; n * 8];
        g.bench_with_input(BenchmarkId::new("memcpy_live_payload", n), &n, |b, _| {
            b.iter_custom(|iters| {
                cpu_iters(iters, || {
                    dst.copy_from_slice(black_box(&src));
                    black_box(&dst);
                })
            })
        });
    }
    g.finish();
}

criterion_group!(
    group,
    compaction,
    allocation,
    shared_slice_push,
    forward_deref,
    compaction_sweep
);
criterion_main!(group);
