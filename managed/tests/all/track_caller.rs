//! Panics for misuse and for requests too large point at the caller's
//! line, not at a line inside the crate.
//!
//! One test, so that the panic hook that records locations is not shared
//! with other tests running at the same time.

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use managed::prelude::*;

/// Runs `f`, which must panic, and returns the file and line of the panic.
fn panic_location(seen: &Mutex<Option<(String, u32)>>, f: impl FnOnce()) -> (String, u32) {
    *seen.lock().unwrap() = None;
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    assert!(result.is_err(), "the call did not panic");
    seen.lock().unwrap().take().expect("the hook saw the panic")
}

#[test]
fn panics_point_at_the_callers_line() {
    let seen = Arc::new(Mutex::new(None));
    let hook_seen = Arc::clone(&seen);
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let location = info.location().map(|l| (l.file().to_owned(), l.line()));
        *hook_seen.lock().unwrap() = location;
    }));
    let here = file!().to_owned();

    let mut pool = UniformPool::new();
    let key = pool.insert(1u8);
    pool.remove(key);
    let (file, line) = panic_location(&seen, || {
        let _ = pool[key]; // a stale key
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));

    let mut deque = UniformPageDeque::new();
    deque.push_back(1u8);
    let (file, line) = panic_location(&seen, || {
        deque[1] += 1; // out of bounds
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));

    let (file, line) = panic_location(&seen, || {
        let _ = MemoryArena::new(usize::MAX); // overflows usize
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));

    let mut arena = MemoryArena::with_block_size(64);
    let (file, line) = panic_location(&seen, || {
        let scope = arena.allocator();
        scope.alloc_slice_fill_copy(usize::MAX / 2, 0u64); // overflows isize
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));

    let (file, line) = panic_location(&seen, || {
        let _ = DropArena::<u64>::with_capacity(usize::MAX); // overflows isize
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));

    #[cfg(target_pointer_width = "64")]
    {
        make_guard!(g1);
        make_guard!(g2);
        let (one, state) = Arena::<'_, 256>::new(g1);
        let (two, _two_state) = Arena::<'_, 256>::new(g2);
        let item = one.allocate_value(&state, 5u64).unwrap();
        let (file, line) = panic_location(&seen, || {
            let _ = two.share(item); // an item of another arena
        });
        assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));

        let (file, line) = panic_location(&seen, || {
            make_guard!(g3);
            let _ = Arena::<'_, 0>::with_capacity(g3, usize::MAX); // too large
        });
        assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));
    }

    panic::set_hook(previous);
}
