//! Random access through proxies and keys against
//! `slotmap::DenseSlotMap::get`, timed as the minimum of many passes in
//! thread CPU time (a companion to `bench/benches/contiguous.rs`, whose criterion
//! medians move with the load of a shared machine; the minimum shows what
//! the code costs when nothing else competes for the caches).
//!
//! One million 32-byte objects, a random third removed (so the pool has
//! shuffled objects into holes), then one field read through every handle
//! in random order: `Proxy::with` (a borrow per access),
//! `PoolRef::by_proxy` and `PoolRef::get` with keys (one borrow for the
//! whole pass), `ContiguousUniformPool::get` (a guard per lookup) and
//! `DenseSlotMap::get`.
//!
//! Run with `cargo run --release -p managed-bench --example contiguous_random_access`.

use std::hint::black_box;
use std::time::Duration;

use managed::prelude::*;
use slotmap::DenseSlotMap;

/// A 32-byte object.
#[derive(Clone, Copy)]
struct Obj {
    a: u64,
    b: u64,
    c: u64,
    d: u64,
}

const OBJECTS: usize = 1_000_000;
const PASSES: usize = 25;

/// xorshift64*, so every run removes and visits the same objects.
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

/// Removes a random third of `handles`, then shuffles the rest.
fn thin_and_shuffle<H>(handles: &mut Vec<H>, mut remove: impl FnMut(H)) {
    let mut rng = Rng(7);
    for _ in 0..OBJECTS / 3 {
        let i = rng.below(handles.len());
        remove(handles.swap_remove(i));
    }
    let mut rng = Rng(11);
    for i in (1..handles.len()).rev() {
        handles.swap(i, rng.below(i + 1));
    }
}

/// CPU time consumed by this thread so far.
fn cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; the clock id is supported on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The fastest of `PASSES` runs of `pass`, in milliseconds of thread CPU
/// time.
fn best(mut pass: impl FnMut() -> u64) -> f64 {
    (0..PASSES)
        .map(|_| {
            let start = cpu_now();
            black_box(pass());
            (cpu_now() - start).as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let pool = ContiguousUniformPool::with_capacity(OBJECTS);
    let mut proxies: Vec<_> = (0..OBJECTS).map(|i| pool.alloc(obj(i))).collect();
    thin_and_shuffle(&mut proxies, drop);

    let key_pool = ContiguousUniformPool::with_capacity(OBJECTS);
    let mut keys: Vec<DefaultKey> = (0..OBJECTS).map(|i| key_pool.insert(obj(i))).collect();
    thin_and_shuffle(&mut keys, |k| {
        key_pool.remove(k);
    });

    let mut slots = DenseSlotMap::with_capacity(OBJECTS);
    let mut slot_keys: Vec<slotmap::DefaultKey> =
        (0..OBJECTS).map(|i| slots.insert(obj(i))).collect();
    thin_and_shuffle(&mut slot_keys, |k| {
        slots.remove(k);
    });
    assert_eq!(pool.len(), slots.len());
    assert_eq!(key_pool.len(), slots.len());

    let with = best(|| {
        proxies
            .iter()
            .map(|p| p.with(|o| o.a))
            .fold(0, u64::wrapping_add)
    });
    let by_proxy = best(|| {
        let objects = pool.borrow();
        proxies
            .iter()
            .map(|p| objects.by_proxy(p).a)
            .fold(0, u64::wrapping_add)
    });
    let by_key = best(|| {
        let objects = key_pool.borrow();
        keys.iter()
            .map(|&k| objects.get(k).map_or(0, |o| o.a))
            .fold(0, u64::wrapping_add)
    });
    let guard_per_key = best(|| {
        keys.iter()
            .map(|&k| key_pool.get(k).map_or(0, |o| o.a))
            .fold(0, u64::wrapping_add)
    });
    let slot = best(|| {
        slot_keys
            .iter()
            .map(|&k| slots.get(k).map_or(0, |o| o.a))
            .fold(0, u64::wrapping_add)
    });
    let (b, c, d) = pool
        .borrow()
        .values()
        .fold((0, 0, 0), |(b, c, d), o| (b ^ o.b, c ^ o.c, d + o.d));
    black_box((b, c, d));
    println!(
        "{} live objects, best of {PASSES} passes (thread CPU time):",
        pool.len()
    );
    for (name, time) in [
        ("Proxy::with", with),
        ("PoolRef::by_proxy", by_proxy),
        ("PoolRef::get (key)", by_key),
        ("pool.get (key)", guard_per_key),
    ] {
        println!(
            "  {name:<20} {time:7.2} ms  ({:.2}x DenseSlotMap::get)",
            time / slot
        );
    }
    println!("  {:<20} {slot:7.2} ms", "DenseSlotMap::get");
}
