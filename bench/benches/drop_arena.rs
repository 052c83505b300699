//! Benchmarks: drop_arena (see BENCHMARKS.md).
//!
//! - `churn-300`: random add/drop churn around 300 live
//!   `[u64; 3]` values: start with 300, then 3000 steps that each either
//!   give a random box back (moving the value out) or allocate a new one, at
//!   random, keeping between 200 and 400 alive. Ours against the
//!   `drop_arena` crate (`box_into_inner`) and `Box` (`*box` + free).
//! - `alloc-only`: 500 allocations into a fresh arena, nothing given back.
//!   Ours against `typed-arena` (and the `drop_arena` crate for reference).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use managed::prelude::*;

mod support;
use support::{XorShift, cpu_iters};

const LIVE: usize = 300;
const MIN_LIVE: usize = 200;
const MAX_LIVE: usize = 400;
const STEPS: usize = 3000;
const ALLOCS: u64 = 500;

/// The workload's choices, from support's xorshift: cheap, deterministic,
/// identical for every contender.
struct Rng(XorShift);

impl Rng {
    #[inline]
    fn next(&mut self) -> u64 {
        self.0.next()
    }

    #[inline]
    fn value(&mut self) -> [u64; 3] {
        let x = self.next();
        [x, x >> 7, x >> 13]
    }

    /// Whether the next step removes a box: always at `MAX_LIVE`, never at
    /// `MIN_LIVE`, else a coin flip.
    #[inline]
    fn remove(&mut self, live: usize) -> bool {
        live == MAX_LIVE || (live != MIN_LIVE && self.next() >> 63 == 0)
    }

    #[inline]
    fn below(&mut self, n: usize) -> usize {
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }
}

fn churn(c: &mut Criterion) {
    let mut group = c.benchmark_group("drop_arena/churn-300");

    group.bench_function("managed::DropArena", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                let mut rng = Rng(XorShift(0x9E37_79B9_7F4A_7C15));
                let arena = &DropArena::new();
                let mut live: Vec<_> = Vec::with_capacity(MAX_LIVE);
                live.extend((0..LIVE).map(|_| arena.alloc(rng.value())));
                let mut sum = 0u64;
                for _ in 0..STEPS {
                    if rng.remove(live.len()) {
                        let i = rng.below(live.len());
                        let v = arena.box_to_inner(live.swap_remove(i));
                        sum = sum.wrapping_add(v[0] ^ v[1] ^ v[2]);
                    } else {
                        live.push(arena.alloc(rng.value()));
                    }
                }
                black_box(&live);
                black_box(sum);
            })
        });
    });

    group.bench_function("drop_arena crate", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                let mut rng = Rng(XorShift(0x9E37_79B9_7F4A_7C15));
                let arena = &drop_arena::DropArena::new();
                let mut live: Vec<_> = Vec::with_capacity(MAX_LIVE);
                live.extend((0..LIVE).map(|_| arena.alloc(rng.value())));
                let mut sum = 0u64;
                for _ in 0..STEPS {
                    if rng.remove(live.len()) {
                        let i = rng.below(live.len());
                        let v = arena.box_into_inner(live.swap_remove(i));
                        sum = sum.wrapping_add(v[0] ^ v[1] ^ v[2]);
                    } else {
                        live.push(arena.alloc(rng.value()));
                    }
                }
                black_box(&live);
                black_box(sum);
            })
        });
    });

    group.bench_function("Box", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                let mut rng = Rng(XorShift(0x9E37_79B9_7F4A_7C15));
                let mut live: Vec<_> = Vec::with_capacity(MAX_LIVE);
                live.extend((0..LIVE).map(|_| Box::new(rng.value())));
                let mut sum = 0u64;
                for _ in 0..STEPS {
                    if rng.remove(live.len()) {
                        let i = rng.below(live.len());
                        let v = *live.swap_remove(i);
                        sum = sum.wrapping_add(v[0] ^ v[1] ^ v[2]);
                    } else {
                        live.push(Box::new(rng.value()));
                    }
                }
                black_box(&live);
                black_box(sum);
            })
        });
    });

    group.finish();
}

fn alloc_only(c: &mut Criterion) {
    let mut group = c.benchmark_group("drop_arena/alloc-only-500");

    group.bench_function("managed::DropArena", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                let arena = &DropArena::new();
                for i in 0..ALLOCS {
                    black_box(arena.alloc(i).leak());
                }
            })
        });
    });

    group.bench_function("typed-arena", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                let arena = typed_arena::Arena::new();
                for i in 0..ALLOCS {
                    black_box(arena.alloc(i));
                }
            })
        });
    });

    group.bench_function("drop_arena crate", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                let arena = &drop_arena::DropArena::new();
                for i in 0..ALLOCS {
                    black_box(arena.alloc(i).leak());
                }
            })
        });
    });

    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! {
    name = group;
    config = config();
    targets = churn, alloc_only
}
criterion_main!(group);
