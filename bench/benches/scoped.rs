//! Benchmarks: scoped (see BENCHMARKS.md).
//!
//! `MemoryArena` / `ArenaScope` side by side with `bumpalo::Bump` (the peer a
//! user would pick for scratch bump allocation) and `Box` (no arena at all):
//!
//! - `alloc_u64`: 10 000 `alloc` of a `u64` in one scope, then the scope
//!   closes (`Bump::reset`; the boxes are freed).
//! - `scope_cycle_1mib`: open a scope, take 1 MiB in 64 requests of 16 KiB,
//!   close it (`Bump::alloc_layout` + `Bump::reset`).

use std::alloc::Layout;
use std::hint::black_box;
use std::time::Duration;

use bumpalo::Bump;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use managed::prelude::*;

mod support;
use support::cpu_iters;

const N: u64 = 10_000;

fn alloc_u64(c: &mut Criterion) {
    let mut g = c.benchmark_group("alloc_u64");
    g.throughput(Throughput::Elements(N));

    let mut arena = MemoryArena::new(1);
    g.bench_function("scoped", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                let scope = arena.allocator();
                for i in 0..N {
                    black_box(scope.alloc(black_box(i)));
                }
            })
        });
    });

    let mut bump = Bump::with_capacity(1 << 20);
    g.bench_function("bumpalo", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                for i in 0..N {
                    black_box(bump.alloc(black_box(i)));
                }
                bump.reset();
            })
        });
    });

    let mut boxes: Vec<Box<u64>> = Vec::with_capacity(N as usize);
    g.bench_function("box", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                for i in 0..N {
                    boxes.push(black_box(Box::new(black_box(i))));
                }
                boxes.clear();
            })
        });
    });
    g.finish();
}

fn scope_cycle(c: &mut Criterion) {
    let mut g = c.benchmark_group("scope_cycle_1mib");
    let chunk = Layout::from_size_align(16 * 1024, 16).unwrap();

    let mut arena = MemoryArena::new(2);
    g.bench_function("scoped", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                let scope = arena.allocator();
                for _ in 0..64 {
                    black_box(scope.alloc_layout(black_box(chunk)));
                }
            })
        });
    });

    let mut bump = Bump::with_capacity(2 << 20);
    g.bench_function("bumpalo", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                for _ in 0..64 {
                    black_box(bump.alloc_layout(black_box(chunk)));
                }
                bump.reset();
            })
        });
    });
    g.finish();
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
    targets = alloc_u64, scope_cycle
}
criterion_main!(group);
