//! Panics for misuse and for requests too large point at the caller's
//! line, not at a line inside the crate.
//!
//! The hook that records the locations ([`panic_location`]) records only
//! this test's thread, so the other tests of the binary may panic at the
//! same time.

use managed::prelude::*;

use crate::common::panic_location;

#[test]
fn panics_point_at_the_callers_line() {
    let here = file!().to_owned();

    let mut pool = UniformPool::new();
    let key = pool.insert(1u8);
    pool.remove(key);
    let (file, line) = panic_location(|| {
        let _ = pool[key]; // a stale key
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));

    let (file, line) = panic_location(|| {
        pool[key] += 1; // a stale key, mutably
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));

    let mut map = managed::uniform::SecondaryMap::new(&pool);
    let (file, line) = panic_location(|| {
        let _ = map[key]; // nothing attached
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));
    let (file, line) = panic_location(|| {
        map[key] += 1; // nothing attached, mutably
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));
    let foreign = UniformPool::new().insert(2u8);
    let (file, line) = panic_location(|| {
        let _ = map.entry(foreign); // a key of another pool
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));
    map.insert(pool.insert(3), 4u8);

    let mut deque = UniformPageDeque::new();
    deque.push_back(1u8);
    let (file, line) = panic_location(|| {
        deque[1] += 1; // out of bounds
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));

    let (file, line) = panic_location(|| {
        let _ = MemoryArena::new(usize::MAX); // overflows usize
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));

    let mut arena = MemoryArena::with_block_size(64);
    let (file, line) = panic_location(|| {
        let scope = arena.allocator();
        scope.alloc_slice_fill_copy(usize::MAX / 2, 0u64); // overflows isize
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));

    let mut arena = MemoryArena::with_block_size(64);
    let (file, line) = panic_location(|| {
        let scope = arena.allocator();
        scope.alloc_slice_fill_iter(Claims2([1u8].into_iter())); // yields too few
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));

    let (file, line) = panic_location(|| {
        let _ = DropArena::<u64>::with_capacity(usize::MAX); // overflows isize
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));

    let pool = ContiguousUniformPool::new();
    let key = pool.insert(1u8);
    let (file, line) = panic_location(|| {
        pool.map(|_| drop(pool.get(key))); // `get` inside a walk
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));
    let (file, line) = panic_location(|| {
        pool.map(|_| _ = pool.insert(2)); // `insert` inside a walk
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));
    let (file, line) = panic_location(|| {
        let _objects = pool.borrow();
        pool.map_with_key(|_, _| ()); // a walk beside a guard
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));

    #[cfg(target_pointer_width = "64")]
    {
        make_guard!(g1);
        make_guard!(g2);
        let (one, state) = Arena::<'_, 256>::new(g1);
        let (two, _two_state) = Arena::<'_, 256>::new(g2);
        let item = one.alloc(&state, 5u64).unwrap();
        let (file, line) = panic_location(|| {
            let _ = two.share(item); // an item of another arena
        });
        assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));

        let (file, line) = panic_location(|| {
            make_guard!(g3);
            let _ = Arena::<'_, 0>::with_capacity(g3, usize::MAX); // too large
        });
        assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));

        let mut two = two;
        let gone = two.alloc_shared(&_two_state, 1u32).unwrap();
        two.remove(gone);
        let (file, line) = panic_location(|| {
            two[gone] += 1; // a removed shared object
        });
        assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));
    }
}

/// An iterator whose `len` says 2 whatever it yields.
struct Claims2<I>(I);

impl<I: Iterator> Iterator for Claims2<I> {
    type Item = I::Item;
    fn next(&mut self) -> Option<I::Item> {
        self.0.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (2, Some(2))
    }
}

impl<I: Iterator> ExactSizeIterator for Claims2<I> {}

#[test]
#[cfg(target_pointer_width = "64")]
fn or_compact_panics_point_at_the_callers_line() {
    let here = file!().to_owned();
    make_guard!(guard);
    let (mut arena, mut state) = Arena::<'_, 0>::with_capacity(guard, 4096);
    let gone = arena.alloc_shared_slice(&state, &[1u32, 2]).unwrap();
    assert!(arena.remove_slice(gone));
    let (file, line) = panic_location(|| {
        let _ = arena.or_compact(&mut state).resize_shared(gone, 3, 0); // removed
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));
    let (file, line) = panic_location(|| {
        let _ = arena.or_compact(&mut state).copy_shared(gone, 0..1); // removed
    });
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));
}
