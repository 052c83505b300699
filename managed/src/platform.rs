//! What the crate needs from the platform, with and without `std`.

use core::sync::atomic::Ordering;

/// Ends the process at once, for a broken invariant that must not turn
/// into undefined behaviour, or a counter that would otherwise overflow.
///
/// With `std` this is [`std::process::abort`]. Without it, a panic raised
/// while a panic is unwinding: the runtime aborts on that (and with
/// `panic = "abort"`, the usual setting without `std`, the first panic
/// already does).
#[cold]
#[inline(never)]
pub(crate) fn abort() -> ! {
    #[cfg(feature = "std")]
    {
        std::process::abort()
    }
    #[cfg(not(feature = "std"))]
    {
        /// Panics again while the first panic unwinds through it.
        struct PanicAgain;
        impl Drop for PanicAgain {
            fn drop(&mut self) {
                panic!("aborting: a broken invariant");
            }
        }
        let _again = PanicAgain;
        panic!("aborting: a broken invariant");
    }
}

/// Whether the current thread is unwinding from a panic. Without `std`
/// this cannot be known and is taken as `false`: a destructor that would
/// have been skipped during unwinding then runs, and a second panic from
/// it aborts, which loses nothing that the first panic had not.
#[inline]
pub(crate) fn panicking() -> bool {
    #[cfg(feature = "std")]
    {
        std::thread::panicking()
    }
    #[cfg(not(feature = "std"))]
    {
        false
    }
}

/// A process-wide counter handing out distinct, never-reused `u64` ids
/// (the ids of pools, which their keys carry).
///
/// Where the target has 64-bit atomics it is one; elsewhere (32-bit
/// microcontrollers) it counts in a pointer-sized atomic and panics rather
/// than wrap, after 2^32 - 1 ids.
pub(crate) struct IdCounter {
    /// The next id to hand out.
    #[cfg(target_has_atomic = "64")]
    next: core::sync::atomic::AtomicU64,
    /// The next id to hand out.
    #[cfg(not(target_has_atomic = "64"))]
    next: core::sync::atomic::AtomicUsize,
}

impl IdCounter {
    /// A counter whose first id is 1.
    pub(crate) const fn new() -> IdCounter {
        IdCounter {
            #[cfg(target_has_atomic = "64")]
            next: core::sync::atomic::AtomicU64::new(1),
            #[cfg(not(target_has_atomic = "64"))]
            next: core::sync::atomic::AtomicUsize::new(1),
        }
    }

    /// A fresh id, never handed out before.
    ///
    /// # Panics
    /// Where the target has no 64-bit atomics, once 2^32 - 1 ids (on a
    /// 32-bit target) have been handed out. With them, never: at one id a
    /// nanosecond the counter would take 584 years to wrap.
    #[inline]
    #[track_caller]
    pub(crate) fn next(&self) -> u64 {
        #[cfg(target_has_atomic = "64")]
        {
            self.next.fetch_add(1, Ordering::Relaxed)
        }
        #[cfg(not(target_has_atomic = "64"))]
        {
            match self
                .next
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_add(1))
            {
                Ok(id) => id as u64,
                Err(_) => panic!("more pools created than this target can number"),
            }
        }
    }
}

/// A guard that aborts the process if dropped, armed before a section that
/// must not unwind halfway (a compactor rewriting references: a panic would
/// leave some of them pointing at old addresses); disarm it with
/// [`ScopeGuard::into_inner`](scopeguard::ScopeGuard::into_inner) once the
/// section is done. The one definition the region and the heap share.
#[inline]
pub(crate) fn abort_on_unwind() -> scopeguard::ScopeGuard<(), impl FnOnce(())> {
    scopeguard::guard((), |()| abort())
}
