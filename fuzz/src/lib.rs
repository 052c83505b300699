//! Shared pieces of the fuzz targets: drop accounting, a tracked value
//! type whose destructor can panic on request, and the panic hook that
//! lets a target catch the panics it provokes on purpose while every other
//! panic still aborts the run as a crash.
//!
//! A target is one file in `fuzz_targets/`: it decodes an operation program
//! with `arbitrary`, runs it against a container and a std model, and ends
//! with [`drops::assert_each_once`] (or the finer checks below).

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};
use std::sync::Once;

/// The payload of every panic a target provokes on purpose.
#[derive(Debug)]
pub struct Intended;

thread_local! {
    /// A message substring that a container's own panic may carry while
    /// [`expect_panic_with`] runs (a documented misuse panic).
    static ALLOWED: Cell<Option<&'static str>> = const { Cell::new(None) };
}

fn payload_text(payload: &dyn Any) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

fn is_expected(payload: &dyn Any) -> bool {
    if payload.is::<Intended>() {
        return true;
    }
    match (ALLOWED.with(Cell::get), payload_text(payload)) {
        (Some(allowed), Some(text)) => text.contains(allowed),
        _ => false,
    }
}

/// Installs, once, a panic hook that stays silent for expected panics and
/// hands every other one to the hook installed before it (libFuzzer's,
/// which aborts: a crash with a stack trace).
///
/// Call it at the start of every target body; it must run after libFuzzer
/// installed its hook, which happens before the first input.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info: &PanicHookInfo<'_>| {
            if !is_expected(info.payload()) {
                previous(info);
            }
        }));
    });
}

/// Runs `f`, catching an [`Intended`] panic: `None` when it panicked.
/// Any other panic has already aborted the run through the hook.
pub fn catch<R>(f: impl FnOnce() -> R) -> Option<R> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Some(r),
        Err(payload) => {
            assert!(is_expected(&*payload), "an unexpected panic was caught");
            None
        }
    }
}

/// Runs `f`, which must panic with a message containing `message` (a
/// documented misuse panic of the container) or with [`Intended`].
pub fn expect_panic_with<R>(message: &'static str, f: impl FnOnce() -> R) {
    let before = ALLOWED.with(|a| a.replace(Some(message)));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    ALLOWED.with(|a| a.set(before));
    match result {
        Ok(_) => panic!("expected a panic with {message:?}"),
        Err(payload) => assert!(
            payload.is::<Intended>()
                || payload_text(&*payload).is_some_and(|t| t.contains(message)),
            "a panic other than {message:?} was caught"
        ),
    }
}

/// Drop accounting: how many times each value id was dropped, per thread.
pub mod drops {
    use super::*;

    thread_local! {
        static LOG: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
    }

    /// Starts a run: forgets every id.
    pub fn reset() {
        LOG.with(|l| l.borrow_mut().clear());
    }

    /// A fresh id, dropped 0 times so far.
    pub fn new_id() -> u32 {
        LOG.with(|l| {
            let mut l = l.borrow_mut();
            l.push(0);
            u32::try_from(l.len() - 1).expect("fewer than 2^32 values per run")
        })
    }

    /// Records one drop of `id`.
    pub fn record(id: u32) {
        LOG.with(|l| l.borrow_mut()[id as usize] += 1);
    }

    /// How many times `id` was dropped.
    pub fn count(id: u32) -> u32 {
        LOG.with(|l| l.borrow()[id as usize])
    }

    /// Ids handed out so far.
    pub fn ids() -> u32 {
        LOG.with(|l| l.borrow().len() as u32)
    }

    /// Every id handed out was dropped exactly once.
    #[track_caller]
    pub fn assert_each_once() {
        LOG.with(|l| {
            for (id, &n) in l.borrow().iter().enumerate() {
                assert_eq!(n, 1, "value {id} dropped {n} times");
            }
        });
    }

    /// Every id was dropped exactly once, except those `leaked` says, which
    /// were never dropped.
    #[track_caller]
    pub fn assert_each_once_except(leaked: impl Fn(u32) -> bool) {
        LOG.with(|l| {
            for (id, &n) in l.borrow().iter().enumerate() {
                let want = u32::from(!leaked(id as u32));
                assert_eq!(n, want, "value {id} dropped {n} times, want {want}");
            }
        });
    }

    /// Number of ids not dropped yet (the live values), with no id dropped
    /// twice.
    #[track_caller]
    pub fn live() -> usize {
        LOG.with(|l| {
            let l = l.borrow();
            assert!(l.iter().all(|&n| n <= 1), "a value was dropped twice");
            l.iter().filter(|&&n| n == 0).count()
        })
    }
}

/// Mixes an id and a value into a check word, so that a value torn or
/// mixed up by a move shows.
#[inline]
pub fn check_word(id: u32, value: u64) -> u64 {
    (value ^ 0x9e37_79b9_7f4a_7c15).rotate_left(id % 64) ^ u64::from(id)
}

/// A value that records its drop and, when armed, panics in its destructor
/// (with [`Intended`], unless the thread is already unwinding).
#[derive(Debug)]
pub struct Tracked {
    id: u32,
    bomb: bool,
    value: u64,
    check: u64,
}

impl Tracked {
    /// A new value with a fresh id.
    pub fn new(value: u64) -> Self {
        Self::with_bomb(value, false)
    }

    /// A new value whose destructor panics if `bomb`.
    pub fn with_bomb(value: u64, bomb: bool) -> Self {
        let id = drops::new_id();
        Tracked {
            id,
            bomb,
            value,
            check: check_word(id, value),
        }
    }

    /// The id.
    pub fn id(&self) -> u32 {
        self.assert_intact();
        self.id
    }

    /// The value.
    pub fn value(&self) -> u64 {
        self.assert_intact();
        self.value
    }

    /// Whether the destructor will panic.
    pub fn is_bomb(&self) -> bool {
        self.bomb
    }

    /// Replaces the value.
    pub fn set(&mut self, value: u64) {
        self.assert_intact();
        self.value = value;
        self.check = check_word(self.id, value);
    }

    /// The value and its check word agree (a torn or misplaced move shows).
    #[track_caller]
    pub fn assert_intact(&self) {
        assert_eq!(
            self.check,
            check_word(self.id, self.value),
            "value {} is torn",
            self.id
        );
    }

    /// Disarms the destructor.
    pub fn defuse(&mut self) {
        self.bomb = false;
    }
}

/// A copy of the value and its bomb under a fresh id, so that the copy's
/// drop is accounted for apart from the original's.
impl Clone for Tracked {
    fn clone(&self) -> Self {
        Tracked::with_bomb(self.value(), self.bomb)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.assert_intact();
        drops::record(self.id);
        if self.bomb && !std::thread::panicking() {
            panic::panic_any(Intended);
        }
    }
}

/// `i` reduced to an index below `len`, or `None` for an empty collection.
#[inline]
pub fn pick(i: impl Into<usize>, len: usize) -> Option<usize> {
    (len != 0).then(|| i.into() % len)
}

// SAFETY: a `Tracked` holds no managed reference, so visiting nothing
// visits all of them and `HAS_REFS = false` is truthful.
unsafe impl managed::Managed for Tracked {
    const HAS_REFS: bool = false;
    fn visit_refs<V: managed::Visitor + ?Sized>(&mut self, _: &mut V) {}
}

// SAFETY: `Tracked` has no lifetime: `Branded` is `Self`.
unsafe impl managed::region::Rebrand for Tracked {
    type Branded<'b> = Tracked;
}
