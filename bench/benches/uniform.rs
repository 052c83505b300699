//! Benchmarks: the uniform containers against `slab` and `VecDeque`, in the
//! same run (see BENCHMARKS.md).

use std::collections::VecDeque;
use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use managed::prelude::*;

/// A small deterministic generator (xorshift) so every peer sees the same
/// sequence.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const LIVE: usize = 10_000;
const CHURN: usize = 10_000;

fn pool_churn(c: &mut Criterion) {
    let mut g = c.benchmark_group("pool_churn_10k_live");
    g.bench_function("UniformPool", |b| {
        let mut pool = UniformPool::new();
        let mut keys: Vec<PoolKey> = (0..LIVE as u64).map(|i| pool.insert(i)).collect();
        let mut rng = Rng(42);
        b.iter(|| {
            for _ in 0..CHURN {
                let at = (rng.next() % LIVE as u64) as usize;
                let v = pool.remove(keys[at]).unwrap();
                keys[at] = pool.insert(black_box(v + 1));
            }
        });
    });
    g.bench_function("slab", |b| {
        let mut slab = slab::Slab::new();
        let mut keys: Vec<usize> = (0..LIVE as u64).map(|i| slab.insert(i)).collect();
        let mut rng = Rng(42);
        b.iter(|| {
            for _ in 0..CHURN {
                let at = (rng.next() % LIVE as u64) as usize;
                let v = slab.remove(keys[at]);
                keys[at] = slab.insert(black_box(v + 1));
            }
        });
    });
    g.finish();
}

fn pool_iter_half(c: &mut Criterion) {
    let mut g = c.benchmark_group("pool_iter_half_removed");
    let mut rng = Rng(7);
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
        b.iter(|| pool.values().fold(0u64, |a, v| a.wrapping_add(*v)))
    });
    g.bench_function("slab", |b| {
        b.iter(|| slab.iter().fold(0u64, |a, (_, v)| a.wrapping_add(*v)))
    });
    g.finish();
}

fn deque_fifo(c: &mut Criterion) {
    let mut g = c.benchmark_group("deque_push_back_pop_front");
    const N: u64 = 100_000;
    g.bench_function("UniformPageDeque", |b| {
        let mut d = UniformPageDeque::new();
        d.extend(0..1000u64);
        b.iter(|| {
            for i in 0..N {
                d.push_back(black_box(i));
                black_box(d.pop_front());
            }
        });
    });
    g.bench_function("VecDeque", |b| {
        let mut d = VecDeque::new();
        d.extend(0..1000u64);
        b.iter(|| {
            for i in 0..N {
                d.push_back(black_box(i));
                black_box(d.pop_front());
            }
        });
    });
    g.finish();

    let mut g = c.benchmark_group("deque_fill_then_drain_100k");
    g.bench_function("UniformPageDeque", |b| {
        b.iter_batched(
            UniformPageDeque::new,
            |mut d| {
                for i in 0..N {
                    d.push_back(i);
                }
                while let Some(v) = d.pop_front() {
                    black_box(v);
                }
                d
            },
            BatchSize::SmallInput,
        );
    });
    g.bench_function("VecDeque", |b| {
        b.iter_batched(
            VecDeque::new,
            |mut d| {
                for i in 0..N {
                    d.push_back(i);
                }
                while let Some(v) = d.pop_front() {
                    black_box(v);
                }
                d
            },
            BatchSize::SmallInput,
        );
    });
    g.finish();

    let mut g = c.benchmark_group("deque_iter_100k");
    let ours: UniformPageDeque<u64> = (0..N).collect();
    let theirs: VecDeque<u64> = (0..N).collect();
    g.bench_function("UniformPageDeque", |b| {
        b.iter(|| ours.iter().fold(0u64, |a, v| a.wrapping_add(*v)))
    });
    g.bench_function("VecDeque", |b| {
        b.iter(|| theirs.iter().fold(0u64, |a, v| a.wrapping_add(*v)))
    });
    g.finish();
}

criterion_group! {
    name = group;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = pool_churn, pool_iter_half, deque_fifo
}
criterion_main!(group);
