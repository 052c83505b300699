//! Helpers shared by the test modules: a drop-counting value ([`Ledger`]
//! and its [`Tracked`] values; [`Token`] where the value must be
//! zero-sized), a small deterministic generator
//! ([`SplitMix`]), and [`panic_message`] / [`panic_location`] for the tests
//! that check what a panic says and where it points.
//!
//! Every test module of the binary runs in parallel with the others, so
//! nothing here is shared between tests unless a test shares it: each
//! ledger has its own range of the drop table, and the panic hook that
//! [`panic_location`] installs records only its own thread's panics.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use managed::prelude::*;

// ------------------------------------------------------------ drop accounting

/// The ids dropped so far, in drop order, under the number of the ledger
/// that recorded them.
///
/// A static, so that values the tests leak on purpose (`leak`, `forget`,
/// `free_without_dropping`) own no heap memory and Miri's leak checker only
/// reports real leaks; and so that values may be dropped on any thread.
static DROPS: Mutex<BTreeMap<u64, Vec<u32>>> = Mutex::new(BTreeMap::new());

/// The number of the next ledger.
static NEXT_LEDGER: AtomicU64 = AtomicU64::new(1);

/// Locks the drop table (a test that panicked holding it poisons nothing).
fn drops_table() -> MutexGuard<'static, BTreeMap<u64, Vec<u32>>> {
    DROPS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Records the drops of the [`Tracked`] values it makes, by id and in
/// order: one per test (or per case), so tests running in parallel never
/// see each other's drops. `Copy`, `Send` and `Sync`, and owns no memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ledger {
    number: u64,
}

impl Default for Ledger {
    fn default() -> Self {
        Self::new()
    }
}

impl Ledger {
    /// A fresh ledger, with no drop recorded.
    pub(crate) fn new() -> Self {
        Self {
            number: NEXT_LEDGER.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// A value with the given id whose drops this ledger records.
    pub(crate) fn track(self, id: u32) -> Tracked {
        Tracked {
            id,
            ledger: self,
            loud: false,
        }
    }

    /// A value like [`track`](Self::track)'s that panics in its destructor
    /// (after recording the drop).
    pub(crate) fn track_loud(self, id: u32) -> Tracked {
        Tracked {
            id,
            ledger: self,
            loud: true,
        }
    }

    /// Records one drop of `id` (for test types with a destructor of their
    /// own, built on this ledger).
    pub(crate) fn record(self, id: u32) {
        drops_table().entry(self.number).or_default().push(id);
    }

    /// How often `id` has been dropped.
    pub(crate) fn drops(self, id: u32) -> u32 {
        drops_table()
            .get(&self.number)
            .map_or(0, |log| log.iter().filter(|&&d| d == id).count()) as u32
    }

    /// How often each of the ids `0..n` has been dropped.
    pub(crate) fn counts(self, n: u32) -> Vec<u32> {
        let mut counts = vec![0; n as usize];
        for id in self.dropped() {
            if let Some(count) = counts.get_mut(id as usize) {
                *count += 1;
            }
        }
        counts
    }

    /// How many drops were recorded, of every id.
    pub(crate) fn total(self) -> usize {
        drops_table().get(&self.number).map_or(0, Vec::len)
    }

    /// The ids dropped so far, in drop order.
    pub(crate) fn dropped(self) -> Vec<u32> {
        drops_table().get(&self.number).cloned().unwrap_or_default()
    }

    /// Forgets the drops recorded so far.
    pub(crate) fn clear(self) {
        drops_table().remove(&self.number);
    }

    /// The ids dropped so far, sorted.
    pub(crate) fn sorted(self) -> Vec<u32> {
        let mut log = self.dropped();
        log.sort_unstable();
        log
    }
}

/// A value whose drops its [`Ledger`] records; a loud one panics in its
/// destructor (with a message containing "destructor panic") after the
/// drop is recorded. A clone records under `id + 1000` and is quiet. Owns
/// no heap memory; holds no reference, so it may live in a region.
#[derive(Debug)]
pub(crate) struct Tracked {
    /// Which value this is.
    pub(crate) id: u32,
    /// Where its drops are recorded.
    pub(crate) ledger: Ledger,
    /// Whether its destructor panics.
    pub(crate) loud: bool,
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        self.ledger.track(self.id + 1000)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.ledger.record(self.id);
        if self.loud {
            panic!("destructor panic: value {} panics when dropped", self.id);
        }
    }
}

thread_local! {
    /// [`Token`]s alive right now on this thread.
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

/// How many [`Token`]s are alive on this thread (each test runs on its own
/// thread, or, under Miri, one after the other on the main thread: a test
/// that passes leaves none).
pub(crate) fn live() -> isize {
    LIVE.with(Cell::get)
}

/// Counts one live value: the zero-sized drop counter that test types of
/// every size hold (a value with a [`Tracked`] field would not be
/// zero-sized), so that [`live`] tells whether a container dropped each
/// value exactly once.
pub(crate) struct Token;

impl Token {
    /// One more live value.
    pub(crate) fn new() -> Self {
        LIVE.with(|l| l.set(l.get() + 1));
        Token
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        LIVE.with(|l| l.set(l.get() - 1));
    }
}

// SAFETY: a `Tracked` holds no references.
unsafe impl Managed for Tracked {
    const HAS_REFS: bool = false;
    fn visit_refs<V: Visitor + ?Sized>(&mut self, _: &mut V) {}
}

// SAFETY: a `Tracked` has no lifetime.
#[cfg(target_pointer_width = "64")]
unsafe impl Rebrand for Tracked {
    type Branded<'b> = Tracked;
}

// ------------------------------------------------------------ random numbers

/// A small deterministic generator (SplitMix64), so that tests need no
/// `rand` and replay identically, under Miri too.
#[derive(Clone, Debug)]
pub(crate) struct SplitMix(pub u64);

impl SplitMix {
    /// The next number.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

// ------------------------------------------------------------ panics

/// The message of the panic `result` caught (`String` and `&str` payloads;
/// empty for others). Panics if `result` is not a caught panic.
pub(crate) fn panic_message<T>(result: std::thread::Result<T>) -> String {
    let Err(payload) = result else {
        panic!("expected a panic")
    };
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

/// Serializes the tests that replace the process-wide panic hook, so that
/// each puts back the hook it found.
static HOOK: Mutex<()> = Mutex::new(());

/// Waits for this test's turn to replace the process-wide panic hook; the
/// turn lasts as long as the guard.
pub(crate) fn panic_hook_turn() -> MutexGuard<'static, ()> {
    HOOK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Installs `hook` as the panic hook in front of the current one (which
/// `hook` receives, to forward to) while `f` runs, then puts the current
/// one back. The tests that replace the hook take turns.
pub(crate) fn with_panic_hook<R>(
    hook: impl Fn(&PanicHookInfo<'_>, &(dyn Fn(&PanicHookInfo<'_>) + Send + Sync))
    + Send
    + Sync
    + 'static,
    f: impl FnOnce() -> R,
) -> R {
    let _turn = panic_hook_turn();
    let previous = Arc::new(panic::take_hook());
    let forward = Arc::clone(&previous);
    panic::set_hook(Box::new(move |info| hook(info, &**forward)));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    drop(panic::take_hook());
    let previous = Arc::into_inner(previous).expect("the hook was dropped");
    panic::set_hook(previous);
    result.unwrap_or_else(|payload| panic::resume_unwind(payload))
}

/// Runs `f`, which must panic, and returns the file and line the panic
/// points at. Panics of other threads (other tests) still reach the hook
/// that was installed.
pub(crate) fn panic_location(f: impl FnOnce()) -> (String, u32) {
    let me = std::thread::current().id();
    let seen = Arc::new(Mutex::new(None));
    let hook_seen = Arc::clone(&seen);
    with_panic_hook(
        move |info, forward| {
            if std::thread::current().id() == me {
                *hook_seen.lock().unwrap_or_else(PoisonError::into_inner) =
                    info.location().map(|l| (l.file().to_owned(), l.line()));
            } else {
                forward(info);
            }
        },
        || {
            let result = panic::catch_unwind(AssertUnwindSafe(f));
            assert!(result.is_err(), "the call did not panic");
        },
    );
    let seen = seen.lock().unwrap_or_else(PoisonError::into_inner).take();
    seen.expect("the hook saw the panic")
}

/// A value's hash by the standard library's hasher with fixed keys: equal
/// values hash alike across calls (a handle's identity, checked over
/// collections).
pub(crate) fn hash_of<T: std::hash::Hash + ?Sized>(value: &T) -> u64 {
    use std::hash::Hasher;
    let mut hasher = std::hash::DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}
