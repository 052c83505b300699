//! Helpers shared by the benchmarks: thread CPU time, and a global
//! allocator that counts the bytes currently allocated.
//!
//! Benchmarks report the *CPU time of the benchmark thread*
//! (`CLOCK_THREAD_CPUTIME_ID`) through `iter_custom`, for ours and the peers
//! alike: wall time would charge a long benchmark for the time slices other
//! processes take.

#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

/// CPU time consumed by this thread so far.
pub(crate) fn cpu_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; the clock id is supported on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Times `iters` runs of `f` in thread CPU time, each run through
/// [`measured`].
pub(crate) fn cpu_iters(iters: u64, mut f: impl FnMut()) -> Duration {
    let start = cpu_now();
    for _ in 0..iters {
        measured(&mut f);
    }
    cpu_now() - start
}

/// Times one run of `f` in thread CPU time, through [`measured`]: for a
/// routine that prepares each run outside the measurement.
pub(crate) fn cpu_time<R>(f: impl FnOnce() -> R) -> (R, Duration) {
    let start = cpu_now();
    let out = measured(f);
    (out, cpu_now() - start)
}

/// Runs `f`: every timed run of every benchmark goes through this
/// function, never inlined, so that the counting program
/// (`bench_counters`, which runs a benchmark under callgrind) finds the
/// timed work as this function's calls and their inclusive cost, and
/// nothing of the setup around them. One call per run costs a few
/// instructions against the thousands of operations a run does.
///
/// A run may be timed in several sections (the region compaction times
/// tokenize, compact and redeem apart, as the arena is borrowed
/// differently by each); the counting program's workload list says how
/// many. Calls never nest, or the inner one would be counted twice: a
/// share of a run timed inside it (GCBench's collections) uses `cpu_now`.
#[inline(never)]
pub(crate) fn measured<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// The system allocator, counting the bytes currently allocated through it
/// (requested sizes: the allocator's own per-block overhead is not
/// counted, for ours and the peers alike).
pub(crate) struct Counting;

/// Bytes currently allocated through [`Counting`].
pub(crate) static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to `System`, which upholds the contract.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Relaxed);
        // SAFETY: forwarded.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Relaxed);
        // SAFETY: forwarded.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(layout.size(), Relaxed);
        // SAFETY: forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size, Relaxed);
        ALLOCATED.fetch_sub(layout.size(), Relaxed);
        // SAFETY: forwarded.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Bytes currently allocated through [`Counting`].
pub(crate) fn allocated() -> usize {
    ALLOCATED.load(Relaxed)
}

/// A xorshift64 generator: the same sequence for ours and the peers.
pub(crate) struct XorShift(pub(crate) u64);

impl XorShift {
    /// The next value.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value below `n` (`n > 0`): the high half of the 128-bit product
    /// of a random word and `n`, which maps the words evenly onto `0..n`
    /// (to within one part in `2^64 / n`). Not `next() % n`: a 64-bit
    /// division takes 40-odd cycles on some CPUs (AMD Zen 1), more than a
    /// whole step of the cheaper containers, so a churn loop that drew its
    /// keys by `%` timed the harness's division instead of the containers.
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
}

/// Whether the benchmarks are being timed (`cargo bench` passes `--bench`)
/// rather than run once each as a smoke test (`cargo test --benches`, as
/// CI does: every benchmark must still build and run).
pub(crate) fn timing() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

/// The live counts of the size sweeps: 10^3 to 10^7 when timing, only the
/// two smallest in a smoke run (unoptimized, where building ten million
/// objects would take most of the run).
pub(crate) fn sweep_sizes() -> &'static [usize] {
    const ALL: [usize; 5] = [1_000, 10_000, 100_000, 1_000_000, 10_000_000];
    if timing() { &ALL } else { &ALL[..2] }
}
