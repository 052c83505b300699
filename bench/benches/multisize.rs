//! Benchmarks: multisize (see BENCHMARKS.md).
//!
//! - `queue_push_pop`: 1000 mixed-size trait objects pushed then popped,
//!   `MultisizePageQueue<dyn Shape>` vs `VecDeque<Box<dyn Shape>>`.
//! - `queue_iter`: one pass calling a trait method on 10 000 of them
//!   (`queue_iter_aged_heap`: 100 000, the boxes in scattered order).
//! - `queue_push_pop_aged_heap`: `queue_push_pop` after `age_heap()` has
//!   left glibc's heap as a long-running program would.
//! - `pool_churn`: a working set of 512 mixed-size values in a ring of
//!   handles, each step frees the oldest and allocates a new one in its
//!   place, `MultisizePool` typed keys vs `Box` (the global allocator).
//! - `pool_alloc_churn`: the same with raw blocks of the same layouts,
//!   `MultisizePool::alloc_layout`/`dealloc` vs `std::alloc::alloc`/`dealloc`,
//!   and the ring with no allocator at all (the harness's own cost).
//! - `queue_push_pop/sweep`, `pool_alloc_churn/sweep`: the same two
//!   workloads at sizes from 10^3 to 10^7.
//!
//! Every row reports the CPU time of the benchmark thread
//! (`support::cpu_iters`), ours and the peers alike.

use std::alloc::Layout;
use std::collections::VecDeque;
use std::hint::black_box;
use std::ptr::NonNull;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use managed::prelude::*;

mod support;
use support::{XorShift, cpu_iters, sweep_sizes};

trait Shape {
    fn area(&self) -> u64;
}

struct Dot(u64);
struct Rect([u64; 3]);
struct Poly([u64; 8]);
struct Blob([u64; 16]);

impl Shape for Dot {
    fn area(&self) -> u64 {
        self.0
    }
}
impl Shape for Rect {
    fn area(&self) -> u64 {
        self.0[0] * self.0[2]
    }
}
impl Shape for Poly {
    fn area(&self) -> u64 {
        self.0[7] + self.0[1]
    }
}
impl Shape for Blob {
    fn area(&self) -> u64 {
        self.0[15]
    }
}

const AS_DOT: Coercion<Dot, dyn Shape> = coercion!();
const AS_RECT: Coercion<Rect, dyn Shape> = coercion!();
const AS_POLY: Coercion<Poly, dyn Shape> = coercion!();
const AS_BLOB: Coercion<Blob, dyn Shape> = coercion!();

#[inline(always)]
fn push_ours(q: &mut MultisizePageQueue<dyn Shape>, i: u64) {
    match i % 4 {
        0 => q.push(Dot(i), AS_DOT),
        1 => q.push(Rect([i; 3]), AS_RECT),
        2 => q.push(Poly([i; 8]), AS_POLY),
        _ => q.push(Blob([i; 16]), AS_BLOB),
    }
}

#[inline(always)]
fn push_boxed(q: &mut VecDeque<Box<dyn Shape>>, i: u64) {
    match i % 4 {
        0 => q.push_back(Box::new(Dot(i))),
        1 => q.push_back(Box::new(Rect([i; 3]))),
        2 => q.push_back(Box::new(Poly([i; 8]))),
        _ => q.push_back(Box::new(Blob([i; 16]))),
    }
}

/// A group with the settings every group here uses: 20 samples, 1 s of
/// warm-up, 2 s of measurement.
fn configured<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(2));
    group
}

/// A xorshift64 generator from `seed`: the pseudo-random choices of the
/// setups, fixed from run to run.
fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut rng = XorShift(seed);
    move || rng.next()
}

fn queues(c: &mut Criterion) {
    push_pop(c, "multisize/queue_push_pop");

    let mut group = configured(c, "multisize/queue_iter");
    const M: u64 = 10_000;
    let mut ours: MultisizePageQueue<dyn Shape> = MultisizePageQueue::new();
    let mut boxed: VecDeque<Box<dyn Shape>> = VecDeque::new();
    // Interleave the two so the boxes are spread over the heap as they
    // would be in a program that allocates other things too.
    let mut noise = Vec::new();
    for i in 0..M {
        push_ours(&mut ours, i);
        push_boxed(&mut boxed, i);
        noise.push(vec![0u8; (i % 7 * 24) as usize]);
    }
    group.bench_function("MultisizePageQueue", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                black_box(black_box(&ours).iter().map(|s| s.area()).sum::<u64>());
            })
        });
    });
    group.bench_function("VecDeque<Box<dyn>>", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                black_box(black_box(&boxed).iter().map(|s| s.area()).sum::<u64>());
            })
        });
    });
    group.finish();
    drop(noise);

    // An aged heap: the boxes were allocated in an order unrelated to the
    // queue's (as when a long-lived queue is refilled amid other
    // allocations), so consecutive elements are far apart in memory. The
    // page queue is laid out in queue order whatever its history.
    let mut group = configured(c, "multisize/queue_iter_aged_heap");
    const A: u64 = 100_000;
    let mut ours: MultisizePageQueue<dyn Shape> = MultisizePageQueue::new();
    let mut order: Vec<Box<dyn Shape>> = Vec::new();
    for i in 0..A {
        push_ours(&mut ours, i);
        let mut tmp = VecDeque::new();
        push_boxed(&mut tmp, i);
        order.extend(tmp);
    }
    // A fixed pseudo-random permutation (xorshift Fisher-Yates).
    let mut next = xorshift(0x2545_F491_4F6C_DD1D);
    for i in (1..order.len()).rev() {
        order.swap(i, (next() % (i as u64 + 1)) as usize);
    }
    let boxed: VecDeque<Box<dyn Shape>> = order.into_iter().collect();
    group.bench_function("MultisizePageQueue", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                black_box(black_box(&ours).iter().map(|s| s.area()).sum::<u64>());
            })
        });
    });
    group.bench_function("VecDeque<Box<dyn>>", |b| {
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                black_box(black_box(&boxed).iter().map(|s| s.area()).sum::<u64>());
            })
        });
    });
    group.finish();
}

/// `queue_push_pop` on an aged heap: registered last, so that the aging
/// leaves the other groups' heap (and their figures) as they were. Before
/// measuring, glibc's free lists and bins are filled the way a
/// long-running program leaves them (many blocks of the shapes' sizes and
/// others freed in a scattered order, the rest kept alive), as
/// `queue_iter_aged_heap` does for iteration.
fn queues_aged(c: &mut Criterion) {
    let kept = age_heap();
    push_pop(c, "multisize/queue_push_pop_aged_heap");
    drop(kept);
}

/// 1000 mixed shapes pushed, then each peeked (a virtual call) and
/// dropped from the front: ours and `VecDeque<Box<dyn Shape>>`.
fn push_pop(c: &mut Criterion, name: &str) {
    const N: u64 = 1000;
    let mut group = configured(c, name);
    group.bench_function("MultisizePageQueue", |b| {
        let mut q: MultisizePageQueue<dyn Shape> = MultisizePageQueue::new();
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                for i in 0..N {
                    push_ours(&mut q, black_box(i));
                }
                let mut sum = 0;
                while let Some(s) = q.peek() {
                    sum += s.area();
                    q.drop_front();
                }
                black_box(sum);
            })
        });
    });
    group.bench_function("VecDeque<Box<dyn>>", |b| {
        let mut q: VecDeque<Box<dyn Shape>> = VecDeque::new();
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                for i in 0..N {
                    push_boxed(&mut q, black_box(i));
                }
                let mut sum = 0;
                while let Some(s) = q.pop_front() {
                    sum += s.area();
                }
                black_box(sum);
            })
        });
    });
    group.finish();
}

/// Ages the global heap: 200 000 blocks of 8 to 256 bytes allocated,
/// then half of them freed in a pseudo-random order; returns the half
/// kept alive.
fn age_heap() -> Vec<Vec<u8>> {
    let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
    let mut blocks: Vec<Option<Vec<u8>>> = (0..200_000)
        .map(|_| Some(vec![0u8; 8 + (next() % 249) as usize]))
        .collect();
    for _ in 0..100_000 {
        let at = (next() % blocks.len() as u64) as usize;
        blocks[at] = None;
    }
    blocks.into_iter().flatten().collect()
}

enum Key {
    A(MultisizeKey<[u64; 2]>),
    B(MultisizeKey<[u64; 7]>),
    C(MultisizeKey<[u64; 20]>),
    D(MultisizeKey<[u64; 60]>),
}

enum Boxed {
    A(Box<[u64; 2]>),
    B(Box<[u64; 7]>),
    C(Box<[u64; 20]>),
    D(Box<[u64; 60]>),
}

/// A size sequence with no short period.
#[inline(always)]
fn kind(i: u64) -> u64 {
    (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 61) % 4
}

// Both inserts are inlined into the measured loop: a key or box returned
// through the stack from an out-of-line call is written and read back at
// once, and a 16-byte read of two 8-byte stores defeats store-to-load
// forwarding (a stall that would measure the call boundary, not the
// allocator).
#[inline(always)]
fn insert_ours(pool: &mut MultisizePool, i: u64) -> Key {
    match kind(i) {
        0 => Key::A(pool.insert([i; 2])),
        1 => Key::B(pool.insert([i; 7])),
        2 => Key::C(pool.insert([i; 20])),
        _ => Key::D(pool.insert([i; 60])),
    }
}

#[inline(always)]
fn insert_boxed(i: u64) -> Boxed {
    match kind(i) {
        0 => Boxed::A(Box::new([i; 2])),
        1 => Boxed::B(Box::new([i; 7])),
        2 => Boxed::C(Box::new([i; 20])),
        _ => Boxed::D(Box::new([i; 60])),
    }
}

fn pool(c: &mut Criterion) {
    let mut group = configured(c, "multisize/pool_churn");
    group.bench_function("MultisizePool", |b| {
        let mut pool = MultisizePool::new();
        let mut ring: Ring<Key> = ring(|i| insert_ours(&mut pool, i));
        // Like the peer (which reads through the box and frees it in
        // place), read through the key, then remove the value and drop it
        // unread (the arrays have no drop glue, so the read of the moved-out
        // value is dead once `remove` is inlined).
        fn take<T: 'static + AsRef<[u64]>>(pool: &mut MultisizePool, k: MultisizeKey<T>) -> u64 {
            let v = pool.get(k).unwrap().as_ref()[1];
            assert!(pool.remove(k).is_some());
            v
        }
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                let mut sum = 0;
                for i in 0..STEPS {
                    let oldest = &mut ring[i as usize % LIVE];
                    sum += match oldest.take().unwrap() {
                        Key::A(k) => take(&mut pool, k),
                        Key::B(k) => take(&mut pool, k),
                        Key::C(k) => take(&mut pool, k),
                        Key::D(k) => take(&mut pool, k),
                    };
                    *oldest = Some(insert_ours(&mut pool, black_box(i)));
                }
                black_box(sum);
            })
        });
    });
    group.bench_function("Box (global allocator)", |b| {
        let mut ring: Ring<Boxed> = ring(insert_boxed);
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                let mut sum = 0;
                for i in 0..STEPS {
                    let oldest = &mut ring[i as usize % LIVE];
                    sum += match oldest.take().unwrap() {
                        Boxed::A(v) => v[1],
                        Boxed::B(v) => v[1],
                        Boxed::C(v) => v[1],
                        Boxed::D(v) => v[1],
                    };
                    *oldest = Some(insert_boxed(black_box(i)));
                }
                black_box(sum);
            })
        });
    });
    group.finish();

    let mut group = configured(c, "multisize/pool_alloc_churn");
    group.bench_function("MultisizePool", |b| {
        let mut pool = MultisizePool::new();
        let mut ring: Ring<MultisizeBlock> = ring(|i| allocate_ours(&mut pool, i));
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                let mut sum = 0;
                for i in 0..STEPS {
                    let oldest = &mut ring[i as usize % LIVE];
                    let block = oldest.take().unwrap();
                    // SAFETY: the block is live and its first u64 written.
                    sum += unsafe { block.as_ptr().cast::<u64>().read() };
                    assert!(pool.dealloc(block));
                    *oldest = Some(allocate_ours(&mut pool, black_box(i)));
                }
                black_box(sum);
            })
        });
    });
    group.bench_function("std::alloc (global allocator)", |b| {
        let mut ring: Ring<(NonNull<u8>, Layout)> = ring(allocate_global);
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                let mut sum = 0;
                for i in 0..STEPS {
                    let oldest = &mut ring[i as usize % LIVE];
                    let (ptr, layout) = oldest.take().unwrap();
                    // SAFETY: 1. the block is live and its first u64 written;
                    // 2. it was allocated with `layout` and is freed once.
                    unsafe {
                        sum += ptr.cast::<u64>().read();
                        std::alloc::dealloc(ptr.as_ptr(), layout);
                    }
                    *oldest = Some(allocate_global(black_box(i)));
                }
                black_box(sum);
            })
        });
        for (ptr, layout) in ring.iter().flatten() {
            // SAFETY: as above.
            unsafe { std::alloc::dealloc(ptr.as_ptr(), *layout) };
        }
    });
    // The same ring, size sequence and one-`u64` write and read, with
    // 512-byte cells of a fixed buffer standing in for the blocks: what
    // the two rows above spend outside the allocator.
    group.bench_function("harness only (no allocator)", |b| {
        let mut cells = vec![[0u64; 64]; LIVE];
        let base = NonNull::from(&mut cells[..]).cast::<[u64; 64]>();
        let cell = |i: u64| {
            let layout = LAYOUTS[kind(i) as usize];
            // SAFETY: `i % LIVE` is in bounds of `cells`.
            let ptr = unsafe { base.add(i as usize % LIVE) }.cast::<u8>();
            // SAFETY: the cell is 512 bytes, aligned to 8, and unaliased.
            unsafe { ptr.cast::<u64>().write(i) };
            (ptr, layout)
        };
        let mut ring: Ring<(NonNull<u8>, Layout)> = ring(cell);
        b.iter_custom(|iters| {
            cpu_iters(iters, || {
                let mut sum = 0;
                for i in 0..STEPS {
                    let oldest = &mut ring[i as usize % LIVE];
                    let (ptr, layout) = oldest.take().unwrap();
                    // SAFETY: the cell is in `cells` and was written.
                    sum += unsafe { ptr.cast::<u64>().read() } + layout.size() as u64;
                    *oldest = Some(cell(black_box(i)));
                }
                black_box(sum);
            })
        });
    });
    group.finish();
}

/// Live values or blocks in the pool benchmarks.
const LIVE: usize = 512;
/// Steps (one free and one allocation each) per measured iteration.
const STEPS: u64 = 4096;

/// The pool benchmarks' working set: step `i` takes the handle in cell
/// `i % LIVE` (the oldest), frees it and puts a new one there: a fixed
/// array rather than a `VecDeque`, so that as little as possible of the
/// loop is not the allocators (the `harness only` row measures it).
type Ring<T> = Box<[Option<T>; LIVE]>;

/// A ring filled with `make(0..LIVE)`.
fn ring<T>(mut make: impl FnMut(u64) -> T) -> Ring<T> {
    let cells: Vec<Option<T>> = (0..LIVE as u64).map(|i| Some(make(i))).collect();
    cells
        .into_boxed_slice()
        .try_into()
        .ok()
        .expect("LIVE cells")
}

/// The layouts of `pool_churn`'s values: 16, 56, 160 and 480 bytes.
const LAYOUTS: [Layout; 4] = [
    Layout::new::<[u64; 2]>(),
    Layout::new::<[u64; 7]>(),
    Layout::new::<[u64; 20]>(),
    Layout::new::<[u64; 60]>(),
];

#[inline(always)]
fn allocate_ours(pool: &mut MultisizePool, i: u64) -> MultisizeBlock {
    let block = pool.alloc_layout(LAYOUTS[kind(i) as usize]);
    // SAFETY: a fresh block of at least 16 bytes, aligned to 8.
    unsafe { block.as_ptr().cast::<u64>().write(i) };
    block
}

#[inline(always)]
fn allocate_global(i: u64) -> (NonNull<u8>, Layout) {
    let layout = LAYOUTS[kind(i) as usize];
    // SAFETY: a non-zero-sized layout.
    let ptr = unsafe { std::alloc::alloc(layout) };
    let ptr = NonNull::new(ptr).unwrap_or_else(|| std::alloc::handle_alloc_error(layout));
    // SAFETY: a fresh block of at least 16 bytes, aligned to 8.
    unsafe { ptr.cast::<u64>().write(i) };
    (ptr, layout)
}

/// The queue's push/pop and the raw pool's churn at sizes from 10^3 to
/// 10^7: `n` shapes pushed then peeked and dropped from the front, and a
/// working set of `n` raw blocks with 4096 free-oldest + allocate steps.
fn sweeps(c: &mut Criterion) {
    let mut group = c.benchmark_group("multisize/queue_push_pop/sweep");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    for &n in sweep_sizes() {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("MultisizePageQueue", n), &n, |b, &n| {
            let mut q: MultisizePageQueue<dyn Shape> = MultisizePageQueue::new();
            b.iter_custom(|iters| {
                cpu_iters(iters, || {
                    for i in 0..n as u64 {
                        push_ours(&mut q, black_box(i));
                    }
                    let mut sum = 0;
                    while let Some(s) = q.peek() {
                        sum += s.area();
                        q.drop_front();
                    }
                    black_box(sum);
                })
            });
        });
        group.bench_with_input(BenchmarkId::new("VecDeque<Box<dyn>>", n), &n, |b, &n| {
            let mut q: VecDeque<Box<dyn Shape>> = VecDeque::new();
            b.iter_custom(|iters| {
                cpu_iters(iters, || {
                    for i in 0..n as u64 {
                        push_boxed(&mut q, black_box(i));
                    }
                    let mut sum = 0;
                    while let Some(s) = q.pop_front() {
                        sum += s.area();
                    }
                    black_box(sum);
                })
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("multisize/pool_alloc_churn/sweep");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(STEPS));
    for &n in sweep_sizes() {
        group.bench_with_input(BenchmarkId::new("MultisizePool", n), &n, |b, &n| {
            let mut pool = MultisizePool::new();
            let mut ring: Vec<Option<MultisizeBlock>> = (0..n as u64)
                .map(|i| Some(allocate_ours(&mut pool, i)))
                .collect();
            let mut at = 0usize;
            b.iter_custom(|iters| {
                cpu_iters(iters, || {
                    let mut sum = 0;
                    for i in 0..STEPS {
                        let block = ring[at].take().unwrap();
                        // SAFETY: the block is live and its first u64 written.
                        sum += unsafe { block.as_ptr().cast::<u64>().read() };
                        assert!(pool.dealloc(block));
                        ring[at] = Some(allocate_ours(&mut pool, black_box(i)));
                        at = if at + 1 == n { 0 } else { at + 1 };
                    }
                    black_box(sum);
                })
            });
        });
        group.bench_with_input(
            BenchmarkId::new("std::alloc (global allocator)", n),
            &n,
            |b, &n| {
                let mut ring: Vec<Option<(NonNull<u8>, Layout)>> =
                    (0..n as u64).map(|i| Some(allocate_global(i))).collect();
                let mut at = 0usize;
                b.iter_custom(|iters| {
                    cpu_iters(iters, || {
                        let mut sum = 0;
                        for i in 0..STEPS {
                            let (ptr, layout) = ring[at].take().unwrap();
                            // SAFETY: 1. the block is live and its first u64
                            // written; 2. it was allocated with `layout` and
                            // is freed once.
                            unsafe {
                                sum += ptr.cast::<u64>().read();
                                std::alloc::dealloc(ptr.as_ptr(), layout);
                            }
                            ring[at] = Some(allocate_global(black_box(i)));
                            at = if at + 1 == n { 0 } else { at + 1 };
                        }
                        black_box(sum);
                    })
                });
                for (ptr, layout) in ring.iter().flatten() {
                    // SAFETY: as above.
                    unsafe { std::alloc::dealloc(ptr.as_ptr(), *layout) };
                }
            },
        );
    }
    group.finish();
}

criterion_group!(group, queues, pool, sweeps, queues_aged);
criterion_main!(group);
