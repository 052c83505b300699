//! Parallel walks (feature `rayon`): `ContiguousUniformPool::par_map`,
//! `par_retain`, `par_extract_if` and the guards' parallel iterators, `UniformPageDeque::par_iter` /
//! `par_iter_mut` / `par_map`, `UniformPool::par_iter` / `par_iter_mut` /
//! `par_values` / `par_values_mut` / `par_map`: every object visited exactly once, on
//! several threads, under the pool's borrow rules, with panics carried to
//! the caller and every value dropped exactly once afterwards.
//!
//! Every test runs inside a local rayon pool of three threads (built in
//! the test: a pool cannot be shared with another thread, so it is made
//! on the worker that runs the test), so that the work is really split,
//! whatever the machine (and under Miri).

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use managed::page::PageSize;
use managed::prelude::*;
use rayon::prelude::*;

use crate::common::{Ledger, SplitMix, Tracked, panic_message};

/// Enough objects for several pieces of work, scaled down under Miri.
const N: usize = if cfg!(miri) { 150 } else { 20_000 };

/// Runs `test` on a worker of a fresh rayon pool of three threads, whose
/// parallel walks then use that pool.
fn on_three_threads<R: Send>(test: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .expect("a local thread pool")
        .install(test)
}

/// Records the calling thread in `seen`, then holds it until a second
/// thread has joined (the others steal the pieces left while this one
/// waits), so that a walk is shown to run on several threads however fast
/// one thread alone would finish it (not under Miri, whose threads take
/// turns: there it returns at once).
fn join_a_second_thread(seen: &Mutex<HashSet<ThreadId>>) {
    seen.lock().unwrap().insert(std::thread::current().id());
    let start = Instant::now();
    while !cfg!(miri) && seen.lock().unwrap().len() < 2 && start.elapsed() < Duration::from_secs(10)
    {
        std::thread::yield_now();
    }
}

/// 256 bytes, so that `N` objects are many pieces of a parallel walk.
#[derive(Debug, Clone, PartialEq)]
struct Obj {
    id: u64,
    visits: u64,
    pad: [u64; 30],
}

fn obj(id: u64) -> Obj {
    Obj {
        id,
        visits: 0,
        pad: [id; 30],
    }
}

#[test]
fn par_map_visits_every_object_once_on_several_threads() {
    on_three_threads(|| {
        let pool = ContiguousUniformPool::new();
        let keys: Vec<_> = (0..N as u64).map(|i| pool.insert(obj(i))).collect();
        // Holes filled by moves: the walk covers what is stored, not the
        // insertion order.
        for k in keys.iter().step_by(7) {
            pool.remove(*k);
        }
        let seen = Mutex::new(HashSet::<ThreadId>::new());
        pool.par_map(|o| {
            o.visits += 1;
            o.pad[0] = o.id * 2;
            join_a_second_thread(&seen);
        });
        for (i, k) in keys.iter().enumerate() {
            let got = pool.get(*k).map(|o| (o.visits, o.pad[0]));
            if i % 7 == 0 {
                assert_eq!(got, None);
            } else {
                assert_eq!(got, Some((1, 2 * i as u64)), "object {i}");
            }
        }
        assert!(pool.borrow().values().all(|o| o.visits == 1));
        // The pool is usable again: the borrow ended.
        let k = pool.insert(obj(u64::MAX));
        assert!(pool.remove(k).is_some());
        if !cfg!(miri) {
            // Rayon decides where each piece runs; with thousands of objects and
            // three threads, more than one takes part.
            assert!(seen.lock().unwrap().len() > 1, "the walk ran on one thread");
        }
    });
}

#[test]
fn par_map_agrees_with_map() {
    on_three_threads(|| {
        let a = ContiguousUniformPool::new();
        let b = ContiguousUniformPool::new();
        for i in 0..N as u64 {
            a.insert(i);
            b.insert(i);
        }
        let step = |x: &mut u64| *x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
        a.map(step);
        b.par_map(step);
        let seq: Vec<u64> = a.borrow().values().copied().collect();
        let par: Vec<u64> = b.borrow().values().copied().collect();
        assert_eq!(seq, par);
    });
}

#[test]
fn guards_iterate_in_parallel() {
    on_three_threads(|| {
        let pool = ContiguousUniformPool::new();
        for i in 0..N as u64 {
            pool.insert(i);
        }
        {
            let total: u64 = pool.borrow().par_values().sum();
            assert_eq!(total, (0..N as u64).sum::<u64>());
            let mut objects = pool.borrow_mut();
            objects.par_values_mut().for_each(|x| *x += 1);
            assert_eq!(objects.par_values_mut().count(), N);
            drop(objects);
            // Shared borrows nest: a proxy read works beside a parallel read.
            let shared = pool.borrow();
            let max = shared.par_values().copied().max();
            assert_eq!(max, Some(N as u64));
        }
    });
}

#[test]
fn par_map_on_a_borrowed_pool_panics() {
    on_three_threads(|| {
        let pool = ContiguousUniformPool::new();
        let p = pool.alloc(1u32);
        let guard = pool.borrow();
        let msg = panic_message(catch_unwind(AssertUnwindSafe(|| pool.par_map(|x| *x += 1))));
        assert!(
            msg.contains("`par_map` called while the pool is already borrowed"),
            "par_map under a shared borrow: {msg}"
        );
        let msg = panic_message(catch_unwind(AssertUnwindSafe(|| {
            pool.par_retain(|_, _| true);
        })));
        assert!(
            msg.contains("`par_retain` called while the pool is already borrowed"),
            "par_retain under a shared borrow: {msg}"
        );
        drop(guard);
        // Inside `with`, the pool is borrowed shared: `par_map` must panic.
        let nested = p.with(|_| catch_unwind(AssertUnwindSafe(|| pool.par_map(|x| *x += 1))));
        assert!(nested.is_err());
        // And a walk leaves the pool usable.
        pool.par_map(|x| *x += 1);
        assert_eq!(p.with(|x| *x), 2);
    });
}

#[test]
fn a_panic_in_par_map_reaches_the_caller_and_drops_stay_exact() {
    on_three_threads(|| {
        let drops = Ledger::new();
        let pool = ContiguousUniformPool::new();
        let keys: Vec<_> = (0..N as u32).map(|i| pool.insert(drops.track(i))).collect();
        let visited = AtomicUsize::new(0);
        let result = {
            catch_unwind(AssertUnwindSafe(|| {
                pool.par_map(|c| {
                    visited.fetch_add(1, Ordering::SeqCst);
                    if c.id == N as u32 / 2 {
                        panic!("object {} refuses", c.id);
                    }
                })
            }))
        };
        assert!(result.is_err(), "the panic reaches the caller");
        assert!(visited.load(Ordering::SeqCst) >= 1);
        assert_eq!(drops.total(), 0, "a walk drops nothing");
        // The borrow ended: the pool works, every object is still there.
        assert_eq!(pool.len(), N);
        assert!(pool.remove(keys[0]).is_some());
        assert_eq!(drops.total(), 1);
        drop(pool);
        assert_eq!(drops.total(), N, "every value dropped once");
    });
}

#[test]
fn deque_parallel_iteration_covers_partial_end_pages() {
    on_three_threads(|| {
        let mut deque: UniformPageDeque<u64> =
            UniformPageDeque::with_page_size(PageSize::new(256).unwrap());
        deque.extend(0..N as u64);
        // Open partial pages at both ends.
        for _ in 0..5 {
            deque.pop_front();
        }
        for i in 0..3 {
            deque.push_front(1_000_000 + i);
        }
        deque.pop_back();
        let expected: Vec<u64> = deque.iter().copied().collect();
        {
            let total: u64 = deque.par_iter().sum();
            assert_eq!(total, expected.iter().sum::<u64>());
            deque.par_iter_mut().for_each(|x| *x = *x * 3 + 1);
            deque.par_map(|x| *x += 1);
        }
        let got: Vec<u64> = deque.iter().copied().collect();
        let want: Vec<u64> = expected.iter().map(|x| x * 3 + 2).collect();
        assert_eq!(got, want);
        // In order too: rayon's `collect` keeps the order of the pieces.
        let collected: Vec<u64> = deque.par_iter().copied().collect();
        assert_eq!(collected, want);
    });
}

#[test]
fn deque_parallel_iteration_of_empty_and_zero_sized() {
    on_three_threads(|| {
        let mut empty: UniformPageDeque<u64> = UniformPageDeque::new();
        assert_eq!(empty.par_iter().count(), 0);
        empty.par_map(|_| unreachable!("no element"));
        let mut units: UniformPageDeque<()> = UniformPageDeque::new();
        for _ in 0..100 {
            units.push_back(());
        }
        let n = AtomicUsize::new(0);
        {
            units.par_map(|()| {
                n.fetch_add(1, Ordering::SeqCst);
            });
        }
        assert_eq!(n.load(Ordering::SeqCst), 100);
        assert_eq!(units.par_iter().count(), 100);
    });
}

#[test]
fn deque_panic_in_par_map_drops_every_value_once() {
    on_three_threads(|| {
        let drops = Ledger::new();
        let mut deque: UniformPageDeque<Tracked> = UniformPageDeque::new();
        deque.extend((0..N as u32).map(|i| drops.track(i)));
        let result = {
            catch_unwind(AssertUnwindSafe(|| {
                deque.par_map(|c| {
                    if c.id == 3 {
                        panic!("element 3 refuses");
                    }
                })
            }))
        };
        assert!(result.is_err());
        assert_eq!(deque.len(), N);
        assert_eq!(drops.total(), 0, "a walk drops nothing");
        drop(deque);
        assert_eq!(drops.total(), N, "every value dropped once");
    });
}

#[test]
fn par_map_reads_another_pools_objects_through_their_slice() {
    on_three_threads(|| {
        let drops = Ledger::new();
        let field = ContiguousUniformPool::new();
        let cells: Vec<_> = (0..64u32).map(|i| field.insert(drops.track(i))).collect();
        // Storage order is not insertion order once objects moved.
        field.remove(cells[3]);
        let proxy = field.alloc(drops.track(64));
        let particles = ContiguousUniformPool::new();
        for i in 0..N as u64 {
            particles.insert((i, 0u64));
        }
        {
            let guard = field.borrow();
            let ids: &[Tracked] = guard.as_slice();
            assert_eq!(ids.len(), 64);
            // Positions of the keys, found on this thread.
            let keys: Vec<_> = guard.keys().collect();
            let at = keys.iter().position(|&k| k == Proxy::key(&proxy)).unwrap();
            particles.par_map(|(i, sum)| {
                *sum = u64::from(ids[*i as usize % ids.len()].id) + u64::from(ids[at].id);
            });
            // The proxy works beside the shared borrow on this thread.
            assert_eq!(proxy.with(|t| t.id), 64);
            for (i, sum) in particles.borrow().values() {
                assert_eq!(*sum, u64::from(ids[*i as usize % 64].id) + 64);
            }
        }
        drop(proxy);
        assert_eq!(drops.dropped().len(), 2, "cell 3 and the proxy's");
        drop(field);
        assert_eq!(drops.total(), 65, "every value dropped once");
    });
}

#[test]
fn a_lookup_finds_another_pools_objects_by_key_on_several_threads() {
    on_three_threads(|| {
        let drops = Ledger::new();
        let field = ContiguousUniformPool::new();
        let cells: Vec<_> = (0..64u32).map(|i| field.insert(drops.track(i))).collect();
        // Stale keys, and objects moved out of insertion order.
        field.remove(cells[3]);
        field.remove(cells[10]);
        let particles = ContiguousUniformPool::new();
        for i in 0..N {
            particles.insert((cells[i % 64], 0u32));
        }
        {
            let guard = field.borrow();
            let lookup = guard.lookup();
            let threads = Mutex::new(HashSet::<ThreadId>::new());
            particles.par_map(|(cell, found)| {
                join_a_second_thread(&threads);
                *found = match lookup.get(*cell) {
                    Some(t) => {
                        assert!(lookup.contains(*cell));
                        t.id + 1
                    }
                    None => 0,
                };
            });
            if !cfg!(miri) {
                assert!(
                    threads.lock().unwrap().len() > 1,
                    "looked up on several threads"
                );
            }
            for (i, (_, found)) in particles.borrow().values().enumerate() {
                let expected = if i % 64 == 3 || i % 64 == 10 {
                    0
                } else {
                    i as u32 % 64 + 1
                };
                assert_eq!(*found, expected, "particle {i}");
            }
        }
        drop(field);
        assert_eq!(drops.counts(64), vec![1; 64]);
    });
}

/// The pool's own thread begins removals while other threads read the
/// same pool through a lookup: those keys stop being found, the others
/// never do, and every reference handed out stays valid until the borrow
/// ends (Miri checks the reads and the version bumps do not race).
#[test]
fn a_lookup_is_read_while_the_pools_thread_begins_removals() {
    let drops = Ledger::new();
    let pool = ContiguousUniformPool::new();
    let n = if cfg!(miri) { 16 } else { 1_000 };
    let keys: Vec<_> = (0..n).map(|i| pool.insert(drops.track(i))).collect();
    {
        let guard = pool.borrow();
        let lookup = guard.lookup();
        std::thread::scope(|s| {
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    let keys = &keys;
                    s.spawn(move || {
                        let mut held = Vec::new();
                        for _ in 0..3 {
                            for (i, &key) in keys.iter().enumerate() {
                                match lookup.get(key) {
                                    Some(t) => {
                                        assert_eq!(t.id, i as u32);
                                        held.push(t);
                                    }
                                    None => assert!(i % 2 == 0, "only even keys go"),
                                }
                            }
                        }
                        // Still readable: nothing is dropped during the borrow.
                        held.iter().map(|t| t.id).max()
                    })
                })
                .collect();
            for key in keys.iter().step_by(2) {
                assert!(pool.remove_deferred(*key));
            }
            for reader in readers {
                assert_eq!(reader.join().unwrap(), Some(n - 1));
            }
        });
        assert!(keys.iter().step_by(2).all(|&k| !lookup.contains(k)));
        assert!(keys.iter().skip(1).step_by(2).all(|&k| lookup.contains(k)));
        assert_eq!(drops.total(), 0, "nothing dropped while borrowed");
    }
    assert_eq!(pool.len(), n as usize / 2);
    assert_eq!(drops.total(), n as usize / 2);
}

/// A lookup only reads, so it is covariant in `T`, as `&[T]` is (the
/// pool and its guards are invariant: tests/ui/contiguous).
#[allow(dead_code)]
fn lookups_are_covariant<'g, 's>(long: PoolLookup<'g, &'static str>) -> PoolLookup<'g, &'s str> {
    long
}

#[test]
fn guard_parallel_iterators_are_indexed_and_keyed() {
    on_three_threads(|| {
        let drops = Ledger::new();
        let pool = ContiguousUniformPool::new();
        let keys: Vec<_> = (0..N as u32).map(|i| pool.insert(drops.track(i))).collect();
        for k in keys.iter().step_by(5) {
            pool.remove(*k);
        }
        let proxy = pool.alloc(drops.track(N as u32));
        let weights = ContiguousUniformPool::new();
        for i in 0..pool.len() as u64 {
            weights.insert(i);
        }
        {
            let mut objects = pool.borrow_mut();
            // A removal begun during the borrow: still stored, still walked.
            assert!(pool.remove_deferred(keys[1]));
            let len = objects.len();
            let order: Vec<u32> = objects.values().map(|t| t.id).collect();
            // Indexed: `enumerate` numbers storage positions, `zip` pairs
            // with another pool's objects, `with_min_len` and `chunks`
            // split as on a slice, and `collect` keeps the order.
            objects
                .par_values_mut()
                .enumerate()
                .with_min_len(8)
                .for_each(|(i, t)| assert_eq!(t.id, order[i]));
            let w = weights.borrow();
            let sums: Vec<u64> = objects
                .par_values_mut()
                .zip(w.par_values())
                .map(|(t, w)| u64::from(t.id) + w)
                .collect();
            assert_eq!(sums.len(), len);
            assert!(
                sums.iter()
                    .enumerate()
                    .all(|(i, s)| *s == u64::from(order[i]) + i as u64)
            );
            let chunks: Vec<usize> = objects
                .par_values_mut()
                .chunks(100)
                .map(|c| c.len())
                .collect();
            assert_eq!(chunks.iter().sum::<usize>(), len);
            // Keyed: every pair is a stored key and its own object, once.
            let stored: Vec<_> = objects.keys().collect();
            let pairs: Vec<_> = objects
                .par_iter_mut()
                .map(|(key, t)| {
                    t.id += 1_000_000;
                    (key, t.id - 1_000_000)
                })
                .collect();
            assert_eq!(pairs.iter().map(|p| p.0).collect::<Vec<_>>(), stored);
            assert_eq!(pairs.iter().map(|p| p.1).collect::<Vec<_>>(), order);
            for (key, id) in &pairs {
                let live = objects.get(*key).map(|t| t.id - 1_000_000);
                assert_eq!(live, (*id != 1).then_some(*id), "key of {id}");
            }
            objects.par_iter_mut().for_each(|(_, t)| t.id -= 1_000_000);
            assert_eq!(objects.par_iter_mut().len(), len);
        }
        let shared = pool.borrow();
        let sequential: Vec<_> = shared.iter().map(|(k, t)| (k, t.id)).collect();
        let parallel: Vec<_> = shared.par_iter().map(|(k, t)| (k, t.id)).collect();
        assert_eq!(parallel, sequential);
        assert_eq!(shared.par_values().len(), shared.len());
        assert_eq!(shared.by_proxy(&proxy).id, N as u32);
        drop(shared);
        drop(proxy);
        assert_eq!(
            drops.total(),
            N / 5 + 1 + 1,
            "removed, deferred and proxy's"
        );
        drop(pool);
        assert_eq!(drops.total(), N + 1, "every value dropped once");
    });
}

/// A `UniformPool` of `(id, visits)` on small pages (about ten entries
/// each, so `N` values fill many pages), `N` values inserted and about a
/// third of them removed at random; also the keys, with `None` for the
/// removed ones.
fn pool_with_holes(seed: u64) -> (UniformPool<(u64, u64)>, Vec<Option<PoolKey>>) {
    let mut pool = UniformPool::with_page_size(PageSize::new(256).unwrap());
    let mut keys: Vec<_> = (0..N as u64).map(|i| Some(pool.insert((i, 0)))).collect();
    let mut rng = SplitMix(seed);
    for key in &mut keys {
        if rng.below(3) == 0 {
            pool.remove(key.take().unwrap());
        }
    }
    (pool, keys)
}

#[test]
fn pool_par_walks_visit_every_live_value_once_on_several_threads() {
    on_three_threads(|| {
        let (mut pool, keys) = pool_with_holes(1);
        let live = keys.iter().flatten().count();
        assert!(live < N && pool.len() == live);
        let seen = Mutex::new(HashSet::<ThreadId>::new());
        pool.par_map(|(_, visits)| {
            *visits += 1;
            join_a_second_thread(&seen);
        });
        pool.par_values_mut().for_each(|(_, visits)| *visits += 10);
        pool.par_iter_mut()
            .for_each(|(_, (_, visits))| *visits += 100);
        for (i, key) in keys.iter().enumerate() {
            if let Some(key) = key {
                assert_eq!(pool[*key], (i as u64, 111), "value {i}, once per walk");
            }
        }
        // Shared walks meet every value once too.
        let mut ids: Vec<u64> = pool.par_values().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        let want: Vec<u64> = (0..N as u64)
            .filter(|&i| keys[i as usize].is_some())
            .collect();
        assert_eq!(ids, want);
        let visits = AtomicUsize::new(0);
        pool.par_iter().for_each(|(key, (id, _))| {
            assert_eq!(keys[*id as usize], Some(key));
            visits.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(visits.load(Ordering::SeqCst), live);
        if !cfg!(miri) {
            assert!(seen.lock().unwrap().len() > 1, "the walk ran on one thread");
        }
    });
}

#[test]
fn pool_par_keys_agree_with_iter() {
    on_three_threads(|| {
        let (mut pool, keys) = pool_with_holes(2);
        let sequential: Vec<_> = pool.iter().map(|(k, v)| (k, *v)).collect();
        let parallel: Vec<_> = pool.par_iter().map(|(k, v)| (k, *v)).collect();
        assert_eq!(
            parallel, sequential,
            "the same pairs, in the order of `iter`"
        );
        let values: Vec<_> = pool.par_values().copied().collect();
        assert_eq!(values, pool.values().copied().collect::<Vec<_>>());
        let mut_keys: Vec<PoolKey> = pool.par_iter_mut().map(|(k, _)| k).collect();
        assert_eq!(mut_keys, pool.keys().collect::<Vec<_>>());
        for (key, (id, _)) in &sequential {
            assert_eq!(keys[*id as usize], Some(*key));
        }
        let mutated: Vec<u64> = pool.par_values_mut().map(|(id, _)| *id).collect();
        assert_eq!(
            mutated,
            sequential
                .iter()
                .map(|(_, (id, _))| *id)
                .collect::<Vec<_>>()
        );
    });
}

#[test]
fn pool_par_walks_skip_pages_given_back() {
    on_three_threads(|| {
        let mut pool: UniformPool<u64> = UniformPool::with_page_size(PageSize::new(256).unwrap());
        let keys: Vec<_> = (0..N as u64).map(|i| pool.insert(i)).collect();
        // Empty a run of pages in the middle (whole pages whatever the
        // page capacity) and give them back.
        let (from, to) = (N / 3, 2 * N / 3);
        for k in &keys[from..to] {
            pool.remove(*k);
        }
        let before = pool.capacity();
        pool.shrink_to_fit();
        assert!(pool.capacity() < before, "pages were given back");
        let sequential: Vec<_> = pool.iter().map(|(k, v)| (k, *v)).collect();
        let parallel: Vec<_> = pool.par_iter().map(|(k, v)| (k, *v)).collect();
        assert_eq!(parallel, sequential);
        pool.par_map(|x| *x += 1);
        for (i, k) in keys.iter().enumerate() {
            let want = (!(from..to).contains(&i)).then_some(i as u64 + 1);
            assert_eq!(pool.get(*k).copied(), want);
        }
    });
}

#[test]
fn pool_par_map_agrees_with_values_mut() {
    on_three_threads(|| {
        let (mut a, _) = pool_with_holes(3);
        let (mut b, _) = pool_with_holes(3);
        let step = |(x, n): &mut (u64, u64)| {
            *x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
            *n += *x % 7;
        };
        a.values_mut().for_each(step);
        b.par_map(step);
        // The same values in the same entries (the keys differ only in
        // their pool).
        let seq: Vec<_> = a.values().copied().collect();
        let par: Vec<_> = b.values().copied().collect();
        assert_eq!(seq, par);
        assert_eq!(par.len(), b.len());
    });
}

#[test]
fn pool_par_walks_of_empty_and_vacated_pools() {
    on_three_threads(|| {
        let mut empty: UniformPool<u64> = UniformPool::new();
        assert_eq!(empty.par_iter().count(), 0);
        assert_eq!(empty.par_values().count(), 0);
        assert_eq!(empty.par_iter_mut().count(), 0);
        empty.par_map(|_| unreachable!("no value"));
        // Every page vacated (and kept): the walks find nothing.
        let mut vacated: UniformPool<u64> =
            UniformPool::with_page_size(PageSize::new(256).unwrap());
        let keys: Vec<_> = (0..N as u64).map(|i| vacated.insert(i)).collect();
        for k in &keys {
            vacated.remove(*k);
        }
        assert!(vacated.capacity() >= N);
        assert_eq!(vacated.par_iter().count(), 0);
        assert_eq!(vacated.par_values_mut().count(), 0);
        vacated.par_map(|_| unreachable!("no value"));
        // And given back: no page at all.
        vacated.shrink_to_fit();
        assert_eq!(vacated.capacity(), 0);
        assert_eq!(vacated.par_iter().count(), 0);
        vacated.par_map(|_| unreachable!("no value"));
        // Zero-sized values still have entries, and keys.
        let mut units = UniformPool::new();
        let unit_keys: Vec<_> = (0..100).map(|_| units.insert(())).collect();
        units.remove(unit_keys[50]);
        let n = AtomicUsize::new(0);
        units.par_map(|()| {
            n.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(n.load(Ordering::SeqCst), 99);
        let par_keys: Vec<_> = units.par_iter().map(|(k, _)| k).collect();
        assert_eq!(par_keys, units.keys().collect::<Vec<_>>());
    });
}

#[test]
fn pool_panic_in_par_map_drops_every_value_once() {
    on_three_threads(|| {
        let drops = Ledger::new();
        let mut pool = UniformPool::new();
        let keys: Vec<_> = (0..N as u32).map(|i| pool.insert(drops.track(i))).collect();
        pool.remove(keys[1]);
        let result = catch_unwind(AssertUnwindSafe(|| {
            pool.par_map(|c: &mut Tracked| {
                if c.id == N as u32 / 2 {
                    panic!("value {} refuses", c.id);
                }
            })
        }));
        assert!(result.is_err(), "the panic reaches the caller");
        assert_eq!(pool.len(), N - 1);
        assert_eq!(drops.total(), 1, "a walk drops nothing");
        drop(pool);
        assert_eq!(drops.total(), N, "every value dropped once");
    });
}

#[test]
fn par_retain_agrees_with_retain_and_drops_each_refused_object_once() {
    on_three_threads(|| {
        let drops = Ledger::new();
        let pool = ContiguousUniformPool::new();
        let keys: Vec<_> = (0..N as u32).map(|i| pool.insert(drops.track(i))).collect();
        // Holes first, so that the stored order is not the insertion order.
        for key in keys.iter().step_by(7) {
            pool.remove(*key);
        }
        let removed_first = drops.total();
        let deciders = Mutex::new(HashSet::<ThreadId>::new());
        let removed = pool.par_retain(|_, t| {
            join_a_second_thread(&deciders);
            t.id % 5 != 0
        });
        let expected: Vec<u32> = (0..N as u32).filter(|i| i % 7 != 0 && i % 5 != 0).collect();
        let mut kept: Vec<u32> = pool.borrow().values().map(|t| t.id).collect();
        kept.sort_unstable();
        assert_eq!(kept, expected);
        let refused = (0..N as u32).filter(|i| i % 7 != 0 && i % 5 == 0).count();
        assert_eq!(removed, refused, "the count of removed objects");
        assert_eq!(
            drops.total(),
            removed_first + refused,
            "refused ones dropped"
        );
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(
                pool.get(*key).map(|t| t.id),
                expected.binary_search(&(i as u32)).ok().map(|_| i as u32)
            );
        }
        if !cfg!(miri) {
            assert!(
                deciders.lock().unwrap().len() > 1,
                "decided on several threads"
            );
        }
        // A test that keeps everything removes nothing, and says so.
        let before = pool.len();
        assert_eq!(pool.par_retain(|_, _| true), 0);
        assert_eq!(pool.len(), before);
        // A panicking test removes nothing.
        let result = catch_unwind(AssertUnwindSafe(|| {
            pool.par_retain(|_, t| {
                assert!(t.id != expected[0], "refuses to decide");
                false
            })
        }));
        assert!(result.is_err());
        assert_eq!(pool.len(), before);
        drop(pool);
        assert_eq!(drops.counts(N as u32), vec![1; N]);
    });
}

#[test]
fn par_extract_if_hands_back_exactly_the_picked_objects() {
    on_three_threads(|| {
        let drops = Ledger::new();
        let pool = ContiguousUniformPool::new();
        let keys: Vec<_> = (0..N as u32)
            .map(|i| pool.insert((drops.track(i), 0u32)))
            .collect();
        // Holes first, so that the stored order is not the insertion order.
        for key in keys.iter().step_by(7) {
            pool.remove(*key);
        }
        let removed_first = drops.total();
        let deciders = Mutex::new(HashSet::<ThreadId>::new());
        let picked = pool.par_extract_if(|_, (t, visits)| {
            join_a_second_thread(&deciders);
            *visits += 1;
            t.id % 5 == 0
        });
        assert_eq!(drops.total(), removed_first, "nothing dropped: handed back");
        let expected: Vec<u32> = (0..N as u32).filter(|i| i % 7 != 0 && i % 5 == 0).collect();
        let mut ids: Vec<u32> = picked.iter().map(|(_, (t, _))| t.id).collect();
        ids.sort_unstable();
        assert_eq!(ids, expected);
        for (key, (t, visits)) in &picked {
            assert_eq!(*key, keys[t.id as usize], "each with its key");
            assert_eq!(*visits, 1, "changed by the test, once");
            assert!(!pool.contains(*key), "its key stopped working");
        }
        let kept = pool.borrow();
        assert_eq!(
            kept.len(),
            (0..N as u32).filter(|i| i % 7 != 0 && i % 5 != 0).count()
        );
        assert!(
            kept.values()
                .all(|(t, visits)| t.id % 5 != 0 && *visits == 1)
        );
        drop(kept);
        if !cfg!(miri) {
            assert!(
                deciders.lock().unwrap().len() > 1,
                "decided on several threads"
            );
        }
        drop(picked);
        assert_eq!(drops.total(), removed_first + expected.len());
        // Picking nothing takes nothing; a panicking test takes nothing.
        let before = pool.len();
        assert!(pool.par_extract_if(|_, _| false).is_empty());
        let first = pool.borrow().values().next().map(|(t, _)| t.id);
        let result = catch_unwind(AssertUnwindSafe(|| {
            pool.par_extract_if(|_, (t, _)| {
                assert!(Some(t.id) != first, "refuses to decide");
                true
            })
        }));
        assert!(result.is_err());
        assert_eq!(pool.len(), before);
        // Under a borrow, it panics with its name.
        let guard = pool.borrow();
        let msg = panic_message(catch_unwind(AssertUnwindSafe(|| {
            pool.par_extract_if(|_, _| true)
        })));
        assert!(
            msg.contains("`par_extract_if` called while the pool is already borrowed"),
            "{msg}"
        );
        drop(guard);
        drop(pool);
        assert_eq!(drops.counts(N as u32), vec![1; N]);
    });
}
