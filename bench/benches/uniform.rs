//! Benchmarks: the uniform containers against `slab` and `VecDeque`, in the
//! same run (see BENCHMARKS.md).
//!
//! Every row reports the *CPU time of the benchmark thread* through
//! `iter_custom` (`support::cpu_iters`), ours and the peers alike. The size
//! sweeps (`<family>/<workload>/sweep`) repeat a headline workload at live
//! counts from 10^3 to 10^7, with the live count as the criterion parameter
//! and the operations per iteration as its throughput, so that the cost per
//! operation of ours and the peer can be plotted against the size.

use std::collections::VecDeque;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use managed::prelude::*;

mod support;
use support::{XorShift, cpu_iters, sweep_sizes};

const LIVE: usize = 10_000;
const CHURN: usize = 10_000;

/// `steps` times: remove the value of a random key, insert its successor
/// and keep the new key in the same place. Each side's loop is a function
/// over its container (the shape of user code that works on a pool it is
/// handed), never inlined into the harness, so that both are compiled
/// alike whatever the harness around them.
#[inline(never)]
fn churn_pool(pool: &mut UniformPool<u64>, keys: &mut [PoolKey], rng: &mut XorShift, steps: usize) {
    let live = keys.len() as u64;
    for _ in 0..steps {
        let at = rng.below(live) as usize;
        let v = pool.remove(keys[at]).unwrap();
        keys[at] = pool.insert(black_box(v + 1));
    }
}

/// The same churn on a `slab::Slab`.
#[inline(never)]
fn churn_slab(slab: &mut slab::Slab<u64>, keys: &mut [usize], rng: &mut XorShift, steps: usize) {
    let live = keys.len() as u64;
    for _ in 0..steps {
        let at = rng.below(live) as usize;
        let v = slab.remove(keys[at]);
        keys[at] = slab.insert(black_box(v + 1));
    }
}

/// The `slab` churn plus 32 instructions per step that touch no memory and
/// carry nothing from one step to the next (four independent chains of
/// eight rotate-and-xor instructions on the step number). Not a peer: it
/// shows what a churn step's instruction count alone costs on `slab`'s
/// layout, without any extra load, store, check or cache line. The pool's
/// step ran 32 instructions more than `slab`'s when this row was added (69
/// against 37, counted in the disassembly, `bench/notes/uniform.md`), 28
/// more once its counters stayed in registers (66 against 38, counted by
/// callgrind, COUNTERS.md), and 21 more since a key resolves through
/// groups of 256 indices (59 against 38).
#[inline(never)]
fn churn_slab_plus_32(
    slab: &mut slab::Slab<u64>,
    keys: &mut [usize],
    rng: &mut XorShift,
    steps: usize,
) -> u64 {
    let live = keys.len() as u64;
    let mut acc = 0;
    for step in 0..steps as u64 {
        let at = rng.below(live) as usize;
        let v = slab.remove(keys[at]);
        keys[at] = slab.insert(black_box(v + 1));
        let (mut a, mut b, mut c, mut d) = (step, step + 1, step + 2, step + 3);
        for _ in 0..4 {
            a = a.rotate_left(7) ^ 0x9E37_79B9_7F4A_7C15;
            b = b.rotate_left(9) ^ 0x9E37_79B9_7F4A_7C15;
            c = c.rotate_left(11) ^ 0x9E37_79B9_7F4A_7C15;
            d = d.rotate_left(13) ^ 0x9E37_79B9_7F4A_7C15;
        }
        acc ^= a ^ b ^ c ^ d;
    }
    acc
}

fn bench_churn_slab_plus_32(b: &mut criterion::Bencher<'_>, live: usize) {
    let mut slab = slab::Slab::new();
    let mut keys: Vec<usize> = (0..live as u64).map(|i| slab.insert(i)).collect();
    let mut rng = XorShift(42);
    b.iter_custom(|iters| {
        cpu_iters(iters, || {
            black_box(churn_slab_plus_32(&mut slab, &mut keys, &mut rng, CHURN));
        })
    });
}

/// The same churn on a `slab::Slab` whose keys are built like the pool's:
/// 16 bytes, the slab's index and an owner id checked on every use (a
/// foreign key is refused). Not a peer a user would pick, but the floor of
/// its own kind: it measures what a checked 16-byte key costs on `slab`'s
/// single-array layout, without the pool's page table and generations.
#[inline(never)]
fn churn_slab_checked(
    slab: &mut slab::Slab<u64>,
    keys: &mut [(usize, u64)],
    owner: u64,
    rng: &mut XorShift,
    steps: usize,
) {
    let live = keys.len() as u64;
    for _ in 0..steps {
        let at = rng.below(live) as usize;
        let (index, id) = keys[at];
        assert!(id == owner, "a key of another slab");
        let v = slab.remove(index);
        keys[at] = (slab.insert(black_box(v + 1)), owner);
    }
}

/// The same churn on a `slotmap::SlotMap`: the generational pool a user
/// would pick for stale-key detection (8-byte keys, a version checked on
/// every use, no check against another map's keys).
#[inline(never)]
fn churn_slotmap(
    map: &mut slotmap::SlotMap<slotmap::DefaultKey, u64>,
    keys: &mut [slotmap::DefaultKey],
    rng: &mut XorShift,
    steps: usize,
) {
    let live = keys.len() as u64;
    for _ in 0..steps {
        let at = rng.below(live) as usize;
        let v = map.remove(keys[at]).unwrap();
        keys[at] = map.insert(black_box(v + 1));
    }
}

/// Times the churn on a `SlotMap` of `live` values.
fn bench_churn_slotmap(b: &mut criterion::Bencher<'_>, live: usize) {
    let mut map = slotmap::SlotMap::new();
    let mut keys: Vec<slotmap::DefaultKey> = (0..live as u64).map(|i| map.insert(i)).collect();
    let mut rng = XorShift(42);
    b.iter_custom(|iters| {
        cpu_iters(iters, || {
            churn_slotmap(&mut map, &mut keys, &mut rng, CHURN)
        })
    });
}

/// Times the churn on a pool of `live` values (built once, outside the
/// measurement).
fn bench_churn_pool(b: &mut criterion::Bencher<'_>, live: usize) {
    let mut pool = UniformPool::new();
    let mut keys: Vec<PoolKey> = (0..live as u64).map(|i| pool.insert(i)).collect();
    let mut rng = XorShift(42);
    b.iter_custom(|iters| cpu_iters(iters, || churn_pool(&mut pool, &mut keys, &mut rng, CHURN)));
}

/// Times the churn on a slab of `live` values.
fn bench_churn_slab(b: &mut criterion::Bencher<'_>, live: usize) {
    let mut slab = slab::Slab::new();
    let mut keys: Vec<usize> = (0..live as u64).map(|i| slab.insert(i)).collect();
    let mut rng = XorShift(42);
    b.iter_custom(|iters| cpu_iters(iters, || churn_slab(&mut slab, &mut keys, &mut rng, CHURN)));
}

fn pool_churn(c: &mut Criterion) {
    let mut g = c.benchmark_group("pool_churn_10k_live");
    g.bench_function("UniformPool", |b| bench_churn_pool(b, LIVE));
    g.bench_function("slab", |b| bench_churn_slab(b, LIVE));
    g.bench_function("slotmap::SlotMap", |b| bench_churn_slotmap(b, LIVE));
    g.bench_function("slab (16-byte keys: index + owner id, checked)", |b| {
        let mut slab = slab::Slab::new();
        let owner = 7;
        let mut keys: Vec<(usize, u64)> =
            (0..LIVE as u64).map(|i| (slab.insert(i), owner)).collect();
        let mut rng = XorShift(42);
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                churn_slab_checked(&mut slab, &mut keys, black_box(owner), &mut rng, CHURN)
            })
        });
    });
    g.bench_function("slab + 32 register-only instructions per step", |b| {
        bench_churn_slab_plus_32(b, LIVE)
    });
    g.finish();
}

fn pool_churn_sweep(c: &mut Criterion) {
    let mut g = c.benchmark_group("uniform/pool_churn/sweep");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(CHURN as u64));
    for &n in sweep_sizes() {
        g.bench_with_input(BenchmarkId::new("UniformPool", n), &n, |b, &n| {
            bench_churn_pool(b, n)
        });
        g.bench_with_input(BenchmarkId::new("slab", n), &n, |b, &n| {
            bench_churn_slab(b, n)
        });
        g.bench_with_input(BenchmarkId::new("slotmap::SlotMap", n), &n, |b, &n| {
            bench_churn_slotmap(b, n)
        });
        g.bench_with_input(
            BenchmarkId::new("slab + 32 register-only instructions per step", n),
            &n,
            |b, &n| bench_churn_slab_plus_32(b, n),
        );
    }
    g.finish();
}

fn pool_iter_half(c: &mut Criterion) {
    let mut g = c.benchmark_group("pool_iter_half_removed");
    let mut rng = XorShift(7);
    let remove: Vec<bool> = (0..LIVE).map(|_| rng.next().is_multiple_of(2)).collect();
    let mut pool = UniformPool::new();
    let mut slab = slab::Slab::new();
    for (i, gone) in remove.iter().enumerate() {
        let k = pool.insert(i as u64);
        let s = slab.insert(i as u64);
        if *gone {
            pool.remove(k);
            slab.remove(s);
        }
    }
    g.bench_function("UniformPool", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                black_box(pool.values().fold(0u64, |a, v| a.wrapping_add(*v)));
            })
        })
    });
    g.bench_function("slab", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                black_box(slab.iter().fold(0u64, |a, (_, v)| a.wrapping_add(*v)));
            })
        })
    });
    g.finish();
}

/// A snapshot and its release, as a rollback or an undo by snapshot makes
/// one per frame or edit: 100k values with a third removed at random (so
/// the pools have holes and a free list to copy), cloned and the clone
/// dropped. `u64` values, so that the row measures the containers' own
/// work rather than the values' `clone`.
fn pool_clone(c: &mut Criterion) {
    const N: usize = 100_000;
    let mut g = c.benchmark_group("pool_clone_100k_third_removed");
    let mut rng = XorShift(11);
    let remove: Vec<bool> = (0..N).map(|_| rng.below(3) == 0).collect();
    let mut pool = UniformPool::new();
    let mut slab = slab::Slab::new();
    let mut map = slotmap::SlotMap::new();
    for (i, gone) in remove.iter().enumerate() {
        let (k, s, m) = (
            pool.insert(i as u64),
            slab.insert(i as u64),
            map.insert(i as u64),
        );
        if *gone {
            pool.remove(k);
            slab.remove(s);
            map.remove(m);
        }
    }
    g.bench_function("UniformPool", |b| {
        b.iter_custom(|iters| cpu_iters(iters, || drop(black_box(black_box(&pool).clone()))))
    });
    g.bench_function("slotmap::SlotMap", |b| {
        b.iter_custom(|iters| cpu_iters(iters, || drop(black_box(black_box(&map).clone()))))
    });
    g.bench_function("slab", |b| {
        b.iter_custom(|iters| cpu_iters(iters, || drop(black_box(black_box(&slab).clone()))))
    });
    g.finish();

    // The same snapshot taken in place, over the one it replaces (a ring of
    // snapshots kept up to date, or a state rolled back): no allocation.
    let mut g = c.benchmark_group("pool_clone_from_100k_third_removed");
    let mut into = pool.clone();
    g.bench_function("UniformPool", |b| {
        b.iter_custom(|iters| cpu_iters(iters, || into.clone_from(black_box(&pool))))
    });
    let mut into = map.clone();
    g.bench_function("slotmap::SlotMap", |b| {
        b.iter_custom(|iters| cpu_iters(iters, || into.clone_from(black_box(&map))))
    });
    let mut into = slab.clone();
    g.bench_function("slab", |b| {
        b.iter_custom(|iters| cpu_iters(iters, || into.clone_from(black_box(&slab))))
    });
    g.finish();
}

/// Sums the values attached to `picks`' keys: the lookup of a side table
/// by the keys of the pool it sits beside.
#[inline(never)]
fn secondary_sum(map: &managed::uniform::SecondaryMap<u64>, picks: &[PoolKey]) -> u64 {
    picks.iter().fold(0, |a, &k| a.wrapping_add(map[k]))
}

/// The same lookups in a `HashMap` keyed by the pool's keys (std's
/// hasher): the side table a user writes without a secondary map.
#[inline(never)]
fn hashmap_sum(map: &std::collections::HashMap<PoolKey, u64>, picks: &[PoolKey]) -> u64 {
    picks.iter().fold(0, |a, k| a.wrapping_add(map[k]))
}

/// The same lookups in slotmap's `SecondaryMap` beside a `SlotMap`.
#[inline(never)]
fn slotmap_secondary_sum(
    map: &slotmap::SecondaryMap<slotmap::DefaultKey, u64>,
    picks: &[slotmap::DefaultKey],
) -> u64 {
    picks.iter().fold(0, |a, &k| a.wrapping_add(map[k]))
}

/// Random lookups of values attached to the keys of a pool of 10k values
/// (every key has one), 10k lookups per run.
fn secondary_get(c: &mut Criterion) {
    let mut g = c.benchmark_group("secondary_get_10k");
    let mut rng = XorShift(11);
    let mut pool = UniformPool::new();
    let keys: Vec<PoolKey> = (0..LIVE as u64).map(|i| pool.insert(i)).collect();
    let picks: Vec<PoolKey> = (0..LIVE)
        .map(|_| keys[rng.below(LIVE as u64) as usize])
        .collect();
    let mut ours = managed::uniform::SecondaryMap::new(&pool);
    let mut hashed = std::collections::HashMap::new();
    for (i, &k) in keys.iter().enumerate() {
        ours.insert(k, i as u64);
        hashed.insert(k, i as u64);
    }
    let mut slots = slotmap::SlotMap::new();
    let slot_keys: Vec<_> = (0..LIVE as u64).map(|i| slots.insert(i)).collect();
    let mut theirs = slotmap::SecondaryMap::new();
    for (i, &k) in slot_keys.iter().enumerate() {
        theirs.insert(k, i as u64);
    }
    let mut rng = XorShift(11);
    let slot_picks: Vec<_> = (0..LIVE)
        .map(|_| slot_keys[rng.below(LIVE as u64) as usize])
        .collect();
    g.bench_function("SecondaryMap", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                black_box(secondary_sum(&ours, &picks));
            })
        })
    });
    g.bench_function("HashMap<PoolKey, _>", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                black_box(hashmap_sum(&hashed, &picks));
            })
        })
    });
    g.bench_function("slotmap::SecondaryMap", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                black_box(slotmap_secondary_sum(&theirs, &slot_picks));
            })
        })
    });
    g.finish();
}

/// Sums the elements at `at`, indexing the deque: random access by
/// position, the lookup a ring of particles or an undo history makes.
#[inline(never)]
fn deque_index_sum(d: &UniformPageDeque<u64>, at: &[usize]) -> u64 {
    at.iter().fold(0, |a, &i| a.wrapping_add(d[i]))
}

/// The same lookups in a `VecDeque`.
#[inline(never)]
fn vecdeque_index_sum(d: &VecDeque<u64>, at: &[usize]) -> u64 {
    at.iter().fold(0, |a, &i| a.wrapping_add(d[i]))
}

fn deque_index(c: &mut Criterion) {
    let mut g = c.benchmark_group("deque_index_random_100k");
    const N: usize = 100_000;
    // Both rotated by a third, so that neither starts at its buffer's or
    // first page's beginning.
    let mut ours = UniformPageDeque::new();
    let mut theirs = VecDeque::new();
    for i in 0..N as u64 {
        ours.push_back(i);
        theirs.push_back(i);
    }
    for _ in 0..N / 3 {
        let v = ours.pop_front().expect("full");
        ours.push_back(v);
        let v = theirs.pop_front().expect("full");
        theirs.push_back(v);
    }
    let mut rng = XorShift(5);
    let at: Vec<usize> = (0..N).map(|_| rng.below(N as u64) as usize).collect();
    g.bench_function("UniformPageDeque", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                black_box(deque_index_sum(&ours, &at));
            })
        })
    });
    g.bench_function("VecDeque", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                black_box(vecdeque_index_sum(&theirs, &at));
            })
        })
    });
    g.finish();
}

fn deque_fifo(c: &mut Criterion) {
    let mut g = c.benchmark_group("deque_push_back_pop_front");
    const N: u64 = 100_000;
    g.bench_function("UniformPageDeque", |b| {
        let mut d = UniformPageDeque::new();
        d.extend(0..1000u64);
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                for i in 0..N {
                    d.push_back(black_box(i));
                    black_box(d.pop_front());
                }
            })
        });
    });
    g.bench_function("VecDeque", |b| {
        let mut d = VecDeque::new();
        d.extend(0..1000u64);
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                for i in 0..N {
                    d.push_back(black_box(i));
                    black_box(d.pop_front());
                }
            })
        });
    });
    g.finish();

    // Batched: a fresh deque per iteration, built and dropped outside the
    // measurement (criterion's `iter_batched` times wall clock; the fill
    // and drain are timed here in CPU time, one batch at a time).
    let mut g = c.benchmark_group("deque_fill_then_drain_100k");
    fn fill_drain<D>(
        iters: u64,
        mut make: impl FnMut() -> D,
        mut run: impl FnMut(&mut D),
    ) -> Duration {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let mut d = make();
            total += cpu_iters(1, || run(&mut d));
            drop(black_box(d));
        }
        total
    }
    g.bench_function("UniformPageDeque", |b| {
        b.iter_custom(|iters| {
            fill_drain(iters, UniformPageDeque::new, |d| {
                for i in 0..N {
                    d.push_back(i);
                }
                while let Some(v) = d.pop_front() {
                    black_box(v);
                }
            })
        });
    });
    g.bench_function("VecDeque", |b| {
        b.iter_custom(|iters| {
            fill_drain(iters, VecDeque::new, |d| {
                for i in 0..N {
                    d.push_back(i);
                }
                while let Some(v) = d.pop_front() {
                    black_box(v);
                }
            })
        });
    });
    g.finish();

    let mut g = c.benchmark_group("deque_iter_100k");
    let ours: UniformPageDeque<u64> = (0..N).collect();
    let theirs: VecDeque<u64> = (0..N).collect();
    g.bench_function("UniformPageDeque", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                black_box(ours.iter().fold(0u64, |a, v| a.wrapping_add(*v)));
            })
        })
    });
    g.bench_function("VecDeque", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                black_box(theirs.iter().fold(0u64, |a, v| a.wrapping_add(*v)));
            })
        })
    });
    g.finish();
}

fn deque_iter_sweep(c: &mut Criterion) {
    let mut g = c.benchmark_group("uniform/deque_iter/sweep");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for &n in sweep_sizes() {
        g.throughput(Throughput::Elements(n as u64));
        let ours: UniformPageDeque<u64> = (0..n as u64).collect();
        g.bench_with_input(BenchmarkId::new("UniformPageDeque", n), &n, |b, _| {
            b.iter_custom(|iters| {
                cpu_iters(iters, || {
                    black_box(ours.iter().fold(0u64, |a, v| a.wrapping_add(*v)));
                })
            })
        });
        drop(ours);
        let theirs: VecDeque<u64> = (0..n as u64).collect();
        g.bench_with_input(BenchmarkId::new("VecDeque", n), &n, |b, _| {
            b.iter_custom(|iters| {
                cpu_iters(iters, || {
                    black_box(theirs.iter().fold(0u64, |a, v| a.wrapping_add(*v)));
                })
            })
        });
    }
    g.finish();
}

/// Compute-bound per-element work for the parallel walks (about 100
/// cycles), so that a walk is bound by the cores, not by memory.
#[inline]
fn compute(x: &mut u64) {
    let mut v = *x;
    for _ in 0..16 {
        v = v
            .wrapping_mul(0x5851_F42D_4C95_7F2D)
            .wrapping_add(1442695040888963407);
        v ^= v >> 29;
    }
    *x = v;
}

/// `UniformPageDeque::par_map` against a sequential walk and against
/// `VecDeque::par_iter_mut`, 1M elements, in wall time (the work runs on
/// rayon's threads, which the calling thread's CPU time does not see).
fn deque_par_map(c: &mut Criterion) {
    use rayon::prelude::*;
    const N: u64 = 1_000_000;
    let mut g = c.benchmark_group("uniform/deque_par_map_1M_compute");
    g.sample_size(10);
    let mut ours: UniformPageDeque<u64> = (0..N).collect();
    g.bench_function("UniformPageDeque::iter_mut", |b| {
        b.iter(|| black_box(&mut ours).iter_mut().for_each(compute))
    });
    g.bench_function("UniformPageDeque::par_map", |b| {
        b.iter(|| black_box(&mut ours).par_map(compute))
    });
    let mut theirs: VecDeque<u64> = (0..N).collect();
    g.bench_function("VecDeque::par_iter_mut", |b| {
        b.iter(|| black_box(&mut theirs).par_iter_mut().for_each(compute))
    });
    g.finish();
}

/// `UniformPool::par_map` over 1M inserted values with a third removed
/// at random (about 667k live, holes on every page), against a sequential
/// `values_mut` pass over the same pool and against `Vec::par_iter_mut`
/// over the surviving values, in wall time as `deque_par_map`.
///
/// Read the ratio to the `Vec` with care: LLVM vectorizes `compute` over a
/// contiguous slice (the `Vec`'s, and the deque's pages) with the
/// baseline target's emulated 64-bit multiply, slower here than the
/// scalar loop the pool's walk over its entries gets (a sequential pass
/// over the 667k values took 10.1 ms vectorized against 6.5 ms with
/// `compute` kept out of line, on the 2-core machine of BENCHMARKS.md). With
/// `compute` out of line everywhere, `par_map` took 1.17x the time of
/// `Vec::par_iter_mut` (3.9 against 3.3 ms).
fn pool_par_map(c: &mut Criterion) {
    use rayon::prelude::*;
    const N: u64 = 1_000_000;
    let mut g = c.benchmark_group("uniform/pool_par_map_1M_third_removed_compute");
    g.sample_size(10);
    let mut rng = XorShift(11);
    let mut ours = UniformPool::new();
    for i in 0..N {
        let k = ours.insert(i);
        if rng.next().is_multiple_of(3) {
            ours.remove(k);
        }
    }
    let mut theirs: Vec<u64> = ours.values().copied().collect();
    g.bench_function("UniformPool::values_mut", |b| {
        b.iter(|| black_box(&mut ours).values_mut().for_each(compute))
    });
    g.bench_function("UniformPool::par_map", |b| {
        b.iter(|| black_box(&mut ours).par_map(compute))
    });
    g.bench_function("Vec::par_iter_mut", |b| {
        b.iter(|| black_box(&mut theirs).par_iter_mut().for_each(compute))
    });
    g.finish();
}

criterion_group! {
    name = group;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = pool_churn, pool_clone, pool_iter_half, secondary_get, deque_index, deque_fifo, deque_par_map, pool_par_map, pool_churn_sweep, deque_iter_sweep
}
criterion_main!(group);
