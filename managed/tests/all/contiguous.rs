//! Runtime tests of `ContiguousUniformPool`, `Proxy` and `SimpleProxy`:
//! borrow rules, deferred removal, reentrancy, panics and drop accounting.
//! (Property tests against a model are in `contiguous_props.rs`.)

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;

use managed::prelude::*;

use crate::common::{Ledger, Tracked, panic_message};

fn ids(pool: &ContiguousUniformPool<Tracked>) -> Vec<u32> {
    pool.borrow().values().map(|t| t.id).collect()
}

#[test]
fn removal_moves_the_last_object_into_the_hole() {
    let drops = Ledger::default();
    let pool = ContiguousUniformPool::new();
    let mut proxies: Vec<_> = (0..5).map(|id| Some(pool.alloc(drops.track(id)))).collect();
    proxies[1] = None;
    assert_eq!(ids(&pool), [0, 4, 2, 3]);
    proxies[4] = None; // the object that moved
    assert_eq!(ids(&pool), [0, 3, 2]);
    for (id, proxy) in proxies.iter().enumerate() {
        if let Some(proxy) = proxy {
            assert_eq!(proxy.with(|t| t.id), id as u32);
        }
    }
    assert_eq!(drops.counts(5), [0, 1, 0, 0, 1]);
    drop(proxies);
    assert!(pool.is_empty());
    assert_eq!(drops.counts(5), [1; 5]);
}

#[test]
fn proxies_dropped_inside_map_are_removed_when_the_walk_ends() {
    let drops = Ledger::default();
    let pool = ContiguousUniformPool::new();
    let mut proxies: Vec<_> = (0..6).map(|id| Some(pool.alloc(drops.track(id)))).collect();
    let mut seen = Vec::new();
    pool.map(|t| {
        seen.push(t.id);
        // Drop the proxy of an object not yet visited, and of this one.
        if t.id == 1 {
            proxies[4] = None;
            proxies[1] = None;
            assert_eq!(drops.counts(6), [0; 6], "nothing dropped during the walk");
        }
    });
    // The walk saw every object present when it started.
    assert_eq!(seen, [0, 1, 2, 3, 4, 5]);
    assert_eq!(drops.counts(6), [0, 1, 0, 0, 1, 0]);
    assert_eq!(pool.len(), 4);
    for (id, proxy) in proxies.iter().enumerate() {
        if let Some(proxy) = proxy {
            assert_eq!(proxy.with(|t| t.id), id as u32);
        }
    }
    let mut rest = ids(&pool);
    rest.sort_unstable();
    assert_eq!(rest, [0, 2, 3, 5]);
}

#[test]
fn proxies_dropped_inside_with_wait_for_the_outermost_borrow() {
    let drops = Ledger::default();
    let pool = ContiguousUniformPool::new();
    let a = pool.alloc(drops.track(0));
    let mut b = Some(pool.alloc(drops.track(1)));
    let c = pool.alloc(drops.track(2));
    let id = a.with(|ta| {
        c.with(|tc| {
            b = None;
            assert_eq!(pool.len(), 2, "len counts live objects only");
            assert_eq!(drops.counts(3), [0; 3]);
            ta.id + tc.id
        })
    });
    assert_eq!(id, 2);
    assert_eq!(drops.counts(3), [0, 1, 0]);
    assert_eq!((a.with(|t| t.id), c.with(|t| t.id)), (0, 2));
    assert_eq!(ids(&pool), [0, 2]);

    let mut d = Some(pool.alloc(drops.track(3)));
    a.with_mut(|t| {
        d = None;
        t.id += 10;
    });
    assert_eq!(drops.counts(4), [0, 1, 0, 1]);
    assert_eq!(a.with(|t| t.id), 10);
    a.with_mut(|t| t.id -= 10);
}

#[test]
fn conflicting_borrows_panic_like_refcell() {
    let pool = ContiguousUniformPool::new();
    let a = pool.alloc(1u32);
    let b = pool.alloc(2u32);

    // Shared inside shared is fine.
    assert_eq!(a.with(|x| b.with(|y| x + y)), 3);
    assert_eq!(a.with(|x| *x + pool.borrow().values().sum::<u32>()), 4);

    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| {
        a.with(|_| b.with_mut(|_| ()))
    })));
    assert!(
        msg.contains("`with_mut` called while the pool is already borrowed"),
        "{msg}"
    );
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| {
        a.with_mut(|_| a.with(|_| ()))
    })));
    assert!(msg.contains("`with`"), "{msg}");
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| {
        pool.map(|_| b.with(|_| ()))
    })));
    assert!(msg.contains("`with`"), "{msg}");
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| {
        pool.map(|_| pool.map(|_| ()))
    })));
    assert!(msg.contains("`map` called"), "{msg}");
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| {
        a.with(|_| drop(pool.alloc(3)));
    })));
    assert!(msg.contains("`alloc`"), "{msg}");
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| {
        let _guard: PoolRef<'_, u32> = pool.borrow();
        drop(pool.borrow_mut());
    })));
    assert!(msg.contains("`borrow_mut`"), "{msg}");

    // After all those panics the pool is unborrowed and intact.
    assert_eq!(pool.len(), 2);
    a.with_mut(|x| *x += 10);
    assert_eq!((a.with(|x| *x), b.with(|x| *x)), (11, 2));
    let alloc_after = pool.alloc(5);
    assert_eq!(pool.borrow().to_vec(), [11, 2, 5]);
    drop(alloc_after);
}

/// The message of the panic `f` raises.
fn message_of(f: impl FnOnce()) -> String {
    panic_message(catch_unwind(AssertUnwindSafe(f)))
}

#[test]
fn borrow_panics_name_the_method_called_and_its_deferred_counterpart() {
    let pool = ContiguousUniformPool::new();
    let a = pool.insert(1u32);
    let p = pool.alloc(2u32);
    let called = |name: &str| format!("`{name}` called while the pool is already borrowed");

    // Each entry point, called inside a walk (or beside a guard), names
    // itself, not the borrow it takes internally.
    let msg = message_of(|| pool.map(|_| drop(pool.get(a))));
    assert!(msg.contains(&called("get")), "{msg}");
    let msg = message_of(|| pool.map(|_| drop(pool.get_mut(a))));
    assert!(msg.contains(&called("get_mut")), "{msg}");
    let msg = message_of(|| {
        let _objects = pool.borrow();
        drop(pool.get_mut(a));
    });
    assert!(msg.contains(&called("get_mut")), "{msg}");
    let msg = message_of(|| pool.map(|_| pool.map_with_key(|_, _| ())));
    assert!(msg.contains(&called("map_with_key")), "{msg}");
    let msg = message_of(|| pool.map(|_| pool.map_with_others(|_, _, _| ())));
    assert!(msg.contains(&called("map_with_others")), "{msg}");
    let msg = message_of(|| {
        let _objects = pool.borrow();
        pool.map_with_others(|_, _, _| ());
    });
    assert!(msg.contains(&called("map_with_others")), "{msg}");
    let msg = message_of(|| p.with(|_| pool.map(|_| ())));
    assert!(msg.contains(&called("map")), "{msg}");
    let msg = message_of(|| pool.map(|_| pool.retain(|_, _| true)));
    assert!(msg.contains(&called("retain")), "{msg}");
    let msg = message_of(|| pool.map(|_| drop(pool.borrow())));
    assert!(msg.contains(&called("borrow")), "{msg}");
    let msg = message_of(|| pool.map(|_| drop(pool.borrow_mut())));
    assert!(msg.contains(&called("borrow_mut")), "{msg}");
    let msg = message_of(|| {
        pool.map(|_| {
            let _ = pool.insert_with_key(|_| 0);
        })
    });
    assert!(msg.contains(&called("insert_with_key")), "{msg}");
    assert!(msg.contains("use `insert_with_key_deferred`"), "{msg}");

    // Those with a counterpart that works inside a walk name it.
    let msg = message_of(|| {
        pool.map(|_| {
            let _ = pool.insert(3);
        })
    });
    assert!(msg.contains(&called("insert")), "{msg}");
    assert!(msg.contains("use `insert_deferred`"), "{msg}");
    let msg = message_of(|| pool.map(|_| drop(pool.alloc(3))));
    assert!(msg.contains(&called("alloc")), "{msg}");
    assert!(msg.contains("use `insert_deferred`"), "{msg}");
    let msg = message_of(|| {
        pool.map(|_| {
            let _ = pool.remove(a);
        })
    });
    assert!(msg.contains(&called("remove")), "{msg}");
    assert!(msg.contains("use `remove_deferred`"), "{msg}");
    // ... and the others do not.
    let msg = message_of(|| pool.map(|_| drop(pool.get(a))));
    assert!(!msg.contains("deferred"), "{msg}");

    // Nothing was added or removed by the calls that panicked.
    assert_eq!(
        (pool.len(), *pool.get(a).unwrap(), p.with(|x| *x)),
        (2, 1, 2)
    );
}

/// What `map`'s docs list as working inside a walk does, and what they
/// list as panicking does.
#[test]
fn inside_map_the_documented_calls_work_and_the_others_panic() {
    let pool = ContiguousUniformPool::new();
    let a = pool.insert(1u32);
    let b = pool.insert(2u32);
    let p = pool.alloc(3u32);
    let mut q = Some(pool.alloc(4u32));
    let mut spawned = None;
    let mut keyed = None;
    let mut first = true;
    pool.map(|_| {
        if !std::mem::take(&mut first) {
            return;
        }
        assert!(pool.contains(a) && pool.contains_proxy(&p));
        assert_eq!((pool.len(), pool.is_empty()), (4, false));
        assert!(pool.capacity() >= 4);
        assert_eq!(pool.stats().live_bytes, 16);
        assert_eq!(pool.detailed_stats().len, 4);
        assert!(!format!("{pool:?}").is_empty());
        spawned = Some(pool.insert_deferred(5));
        keyed = Some(pool.insert_with_key_deferred(|_| 6));
        assert!(pool.remove_deferred(b));
        q = None; // dropping a proxy defers its removal
        assert_eq!(pool.len(), 2);
    });
    assert_eq!(pool.len(), 4);
    assert_eq!(pool.get(spawned.unwrap()).map(|x| *x), Some(5));
    assert_eq!(pool.get(keyed.unwrap()).map(|x| *x), Some(6));
    assert!(!pool.contains(b));

    let panics = |what: &str, f: &dyn Fn()| {
        let panicked = catch_unwind(AssertUnwindSafe(|| pool.map(|_| f()))).is_err();
        assert!(panicked, "{what} inside map");
    };
    panics("get", &|| drop(pool.get(a)));
    panics("get_mut", &|| drop(pool.get_mut(a)));
    panics("borrow", &|| drop(pool.borrow()));
    panics("borrow_mut", &|| drop(pool.borrow_mut()));
    panics("map", &|| pool.map(|_| ()));
    panics("map_with_key", &|| pool.map_with_key(|_, _| ()));
    panics("map_with_others", &|| pool.map_with_others(|_, _, _| ()));
    panics("retain", &|| pool.retain(|_, _| true));
    panics("insert", &|| {
        let _ = pool.insert(0);
    });
    panics("alloc", &|| drop(pool.alloc(0)));
    panics("insert_with_key", &|| {
        let _ = pool.insert_with_key(|_| 0);
    });
    panics("remove", &|| {
        let _ = pool.remove(a);
    });
    panics("with", &|| p.with(|_| ()));
    panics("with_mut", &|| p.with_mut(|_| ()));
    assert_eq!((pool.len(), p.with(|x| *x)), (4, 3));
}

/// After `remove_deferred` inside a borrow, the pool's own answers
/// exclude the object at once, while the borrow's view (a guard's length
/// and slice, the walk) still includes it until the borrow ends.
#[test]
fn a_deferred_removal_leaves_the_borrows_view_until_it_ends() {
    let pool = ContiguousUniformPool::new();
    let keys: Vec<_> = (0..4u32).map(|i| pool.insert(i)).collect();
    {
        let objects = pool.borrow();
        assert!(pool.remove_deferred(keys[1]));
        assert_eq!((pool.len(), pool.contains(keys[1])), (3, false));
        assert_eq!((objects.len(), objects.as_slice()), (4, &[0, 1, 2, 3][..]));
        assert_eq!(objects.iter().count(), 4);
        assert!(!objects.contains(keys[1]) && objects.get(keys[1]).is_none());
    }
    assert_eq!(pool.borrow().len(), 3);
    let mut walked = Vec::new();
    pool.map_with_key(|key, x| {
        if key == keys[0] {
            assert!(pool.remove_deferred(keys[3]));
        }
        walked.push(*x);
        assert!(!pool.contains(keys[3]) || walked.len() == 1);
    });
    assert_eq!(
        walked.len(),
        3,
        "the walk still visits the object: {walked:?}"
    );
    assert!(walked.contains(&3));
    assert_eq!(pool.len(), 2);
}

#[test]
fn into_inner_while_borrowed_panics_and_defers_the_removal() {
    let drops = Ledger::default();
    let pool = ContiguousUniformPool::new();
    let a = pool.alloc(drops.track(0));
    let mut b = Some(pool.alloc(drops.track(1)));
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| {
        a.with(|_| {
            let _ = Proxy::into_inner(b.take().unwrap());
        });
    })));
    assert!(msg.contains("`into_inner`"), "{msg}");
    assert!(
        msg.contains("the proxy was dropped instead, so its object is removed"),
        "{msg}"
    );
    // The removal was deferred and, as the panic unwound through the end of
    // the borrow, carried out by the next operation that ends a borrow.
    assert_eq!(pool.len(), 1);
    a.with(|_| ());
    assert_eq!(drops.counts(2), [0, 1]);
    let value = Proxy::into_inner(a);
    assert_eq!((value.id, pool.len()), (0, 0));
    drop(value);
    assert_eq!(drops.counts(2), [1, 1]);
}

#[test]
fn a_panic_inside_map_leaves_the_pool_consistent() {
    let drops = Ledger::default();
    let pool = ContiguousUniformPool::new();
    let mut proxies: Vec<_> = (0..8).map(|id| Some(pool.alloc(drops.track(id)))).collect();
    let result = catch_unwind(AssertUnwindSafe(|| {
        pool.map(|t| {
            if t.id == 2 {
                proxies[6] = None;
            }
            assert!(t.id != 4, "boom");
        });
    }));
    assert!(panic_message(result).contains("boom"));
    // During unwinding the deferred removal is kept; the next borrow that
    // ends carries it out.
    assert_eq!(pool.len(), 7);
    assert_eq!(drops.counts(8), [0; 8]);
    pool.map(|_| ());
    assert_eq!(drops.counts(8), [0, 0, 0, 0, 0, 0, 1, 0]);
    for (id, proxy) in proxies.iter().enumerate() {
        if let Some(proxy) = proxy {
            assert_eq!(proxy.with(|t| t.id), id as u32);
        }
    }
    proxies.clear();
    assert_eq!(drops.counts(8), [1; 8]);
}

#[test]
fn a_panicking_destructor_during_a_deferred_removal_loses_nothing() {
    let drops = Ledger::default();
    let loud = |loud| Tracked {
        id: 0,
        ledger: drops,
        loud,
    };
    let pool = ContiguousUniformPool::new();
    let keep = pool.alloc(loud(false));
    let mut doomed = vec![
        pool.alloc(loud(false)),
        pool.alloc(loud(true)),
        pool.alloc(loud(false)),
    ];
    let result = catch_unwind(AssertUnwindSafe(|| {
        keep.with(|_| doomed.clear());
    }));
    assert!(panic_message(result).contains("destructor panic"));
    // Every removal finished once the pool is used again.
    pool.map(|_| ());
    assert_eq!(drops.total(), 3);
    assert_eq!(pool.len(), 1);
    drop(keep);
    assert_eq!(drops.total(), 4);

    // A panicking destructor on a direct removal leaves the pool consistent.
    let loud_one = pool.alloc(loud(true));
    let other = pool.alloc(loud(false));
    let result = catch_unwind(AssertUnwindSafe(|| drop(loud_one)));
    assert!(panic_message(result).contains("destructor panic"));
    assert_eq!(pool.len(), 1);
    assert_eq!(drops.total(), 5);
    drop(other);
    assert_eq!(drops.total(), 6);
}

#[test]
fn destructors_may_use_the_pool_they_are_removed_from() {
    /// Holds proxies of its own pool and drops them from its destructor.
    struct Node {
        id: u32,
        children: Vec<Proxy<'static, Node>>,
        log: Rc<RefCell<Vec<u32>>>,
    }
    impl Drop for Node {
        fn drop(&mut self) {
            self.log.borrow_mut().push(self.id);
            self.children.clear();
        }
    }
    let log = Rc::new(RefCell::new(Vec::new()));
    let raw = Box::into_raw(Box::new(ContiguousUniformPool::new()));
    // SAFETY: reclaimed below, after every proxy is gone.
    let pool: &'static ContiguousUniformPool<Node> = unsafe { &*raw };
    let node = |id, children| Node {
        id,
        children,
        log: log.clone(),
    };
    let mut left: Vec<_> = (10..14).map(|id| pool.alloc(node(id, vec![]))).collect();
    let right = left.split_off(2);
    let a = pool.alloc(node(1, left));
    let b = pool.alloc(node(2, right));
    let keep = pool.alloc(node(3, vec![]));
    // Deferred: both removals happen when the `with` ends, and their
    // destructors remove the leaves immediately (the pool is unborrowed).
    let mut roots = vec![a, b];
    keep.with(|_| roots.clear());
    let mut order = log.borrow().clone();
    order.sort_unstable();
    assert_eq!(order, [1, 2, 10, 11, 12, 13]);
    assert_eq!(pool.len(), 1);
    assert_eq!(keep.with(|n| n.id), 3);
    drop(keep);
    assert!(pool.is_empty());
    // SAFETY: no proxy of the pool is left; this is the box leaked above.
    drop(unsafe { Box::from_raw(raw) });
}

#[test]
fn mut_self_methods_settle_leaked_guards_and_forgotten_proxies() {
    let drops = Ledger::default();
    let mut pool = ContiguousUniformPool::with_capacity(4);
    assert!(pool.capacity() >= 4);
    {
        let a = pool.alloc(drops.track(0));
        let b = pool.alloc(drops.track(1));
        let c = pool.alloc(drops.track(2));
        core::mem::forget(pool.borrow_mut()); // leaks an exclusive borrow
        drop(b); // deferred until `&mut self` settles the pool
        core::mem::forget(a); // the object stays until the pool drops it
        drop(c);
        assert_eq!(pool.len(), 1);
    }
    assert_eq!(drops.counts(3), [0, 0, 0]);
    pool.shrink_to_fit();
    assert_eq!(drops.counts(3), [0, 1, 1]);
    assert_eq!(pool.values_mut().map(|t| t.id).collect::<Vec<_>>(), [0]);
    let p = pool.alloc(drops.track(3));
    p.with(|t| assert_eq!(t.id, 3));
    core::mem::forget(p);
    pool.clear();
    assert_eq!(drops.counts(4), [1, 1, 1, 1]);
    assert!(pool.is_empty());
}

#[test]
fn drain_into_iter_clear_and_shrink() {
    let drops = Ledger::default();
    let mut pool = ContiguousUniformPool::new();
    for id in 0..6 {
        core::mem::forget(pool.alloc(drops.track(id)));
    }
    let drained: Vec<u32> = pool.drain().take(2).map(|t| t.id).collect();
    assert_eq!(drained, [0, 1]);
    assert_eq!(
        drops.counts(6),
        [1; 6],
        "undrained objects dropped with the iterator"
    );
    assert!(pool.is_empty());
    pool.shrink_to_fit();
    assert_eq!(pool.capacity(), 0, "the object buffer is freed");
    assert!(pool.stats().reserved_bytes <= pool.detailed_stats().slot_capacity * 8 + 8);

    let kept = {
        let a = pool.alloc(drops.track(10));
        let b = pool.alloc(drops.track(11));
        let c = pool.alloc(drops.track(12));
        drop(a);
        drop(b);
        core::mem::forget(c);
        ids(&pool)
    };
    assert_eq!(kept, [12]);
    pool.shrink_to_fit();
    assert_eq!(pool.stats().live_bytes, size_of::<Tracked>());
    let proxy = pool.alloc(drops.track(13));
    assert_eq!(proxy.with(|t| t.id), 13);
    drop(proxy);
    let rest: Vec<u32> = pool.into_iter().map(|t| t.id).collect();
    assert_eq!(rest, [12]);
}

#[test]
fn borrow_guards_iterate_in_storage_order() {
    let pool = ContiguousUniformPool::new();
    let proxies: Vec<_> = (0..5u64).map(|v| pool.alloc(v)).collect();
    {
        let mut all: PoolRefMut<'_, u64> = pool.borrow_mut();
        for (_, v) in &mut all {
            *v *= 2;
        }
        assert_eq!(all.len(), 5);
        assert_eq!(
            format!("{all:?}"),
            "{DefaultKey(0v1): 0, DefaultKey(1v1): 2, DefaultKey(2v1): 4, DefaultKey(3v1): 6, DefaultKey(4v1): 8}"
        );
    }
    let shared = pool.borrow();
    let again = pool.borrow();
    assert_eq!(shared.values().sum::<u64>(), 20);
    assert_eq!((&again).into_iter().count(), 5);
    assert_eq!(proxies[3].with(|v| *v), 6);
    drop((shared, again));
    assert_eq!(
        format!("{pool:?}"),
        "{DefaultKey(0v1): 0, DefaultKey(1v1): 2, DefaultKey(2v1): 4, DefaultKey(3v1): 6, DefaultKey(4v1): 8}"
    );
    assert_eq!(format!("{:?}", proxies[2]), "Proxy(4)");
    pool.map(|_| assert!(format!("{pool:?}").contains("len: 5")));
}

#[test]
fn zero_sized_and_over_aligned_objects() {
    let pool = ContiguousUniformPool::new();
    let units: Vec<_> = (0..100).map(|_| pool.alloc(())).collect();
    assert_eq!(pool.len(), 100);
    assert_eq!(pool.stats().live_bytes, 0);
    let mut count = 0;
    pool.map(|()| count += 1);
    assert_eq!(count, 100);
    drop(units);
    assert!(pool.is_empty());

    #[derive(Debug, Clone, Copy, PartialEq)]
    #[repr(align(128))]
    struct Wide(u8);
    let pool = ContiguousUniformPool::new();
    let proxies: Vec<_> = (0..10).map(|v| pool.alloc(Wide(v))).collect();
    pool.map(|w| assert_eq!(core::ptr::from_mut(w).addr() % 128, 0));
    assert_eq!(proxies[7].with(|w| *w), Wide(7));
    assert_eq!(pool.stats().live_bytes, 10 * 128);
}

#[test]
fn stats_count_live_objects_and_reserved_storage() {
    let pool = ContiguousUniformPool::with_capacity(8);
    let a = pool.alloc([0u64; 4]);
    let b = pool.alloc([1u64; 4]);
    let stats = pool.stats();
    assert_eq!(stats.live_bytes, 64);
    assert!(stats.reserved_bytes >= 8 * 32 + 2 * 8);
    assert!(stats.space_ratio() > 0.0 && stats.space_ratio() <= 1.0);
    drop(a);
    assert_eq!(pool.stats().live_bytes, 32);
    drop(b);
    assert_eq!(pool.stats().live_bytes, 0);
}

#[test]
fn simple_proxy_follows_the_refcell_rule_and_drops_once() {
    let drops = Ledger::default();
    let p = SimpleProxy::new(drops.track(0));
    assert_eq!(p.with(|t| p.with(|u| t.id + u.id)), 0);
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| {
        p.with(|_| p.with_mut(|_| ()))
    })));
    assert!(msg.contains("borrowed"), "{msg}");
    p.with_mut(|t| t.id = 1);
    assert_eq!(format!("{:?}", SimpleProxy::new(5)), "SimpleProxy(5)");
    assert_eq!(SimpleProxy::<u8>::default().with(|v| *v), 0);
    assert_eq!(SimpleProxy::from(3).with(|v| *v), 3);
    let inner = SimpleProxy::into_inner(p);
    assert_eq!(inner.id, 1);
    drop(inner);
    assert_eq!(drops.counts(2), [0, 1]);
    let q = SimpleProxy::new(drops.track(0));
    drop(q);
    assert_eq!(drops.counts(2), [1, 1]);
}

/// An object with field accessors and forwarded methods, shared and
/// exclusive, for the tests of `SimpleProxy`'s accessor panics.
#[derive(Managed)]
struct Gauge {
    level: u32,
    label: String,
}

#[managed::forward]
impl Gauge {
    /// Twice the level (a shared forwarded method).
    fn doubled(&self) -> u32 {
        2 * self.level
    }

    /// Raises the level (an exclusive forwarded method).
    fn raise(&mut self, by: u32) {
        self.level += by;
    }
}

fn simple_gauge() -> SimpleProxy<Gauge> {
    SimpleProxy::new(Gauge {
        level: 3,
        label: "g".to_owned(),
    })
}

#[test]
#[should_panic(
    expected = "SimpleProxy: `set_level` called while the object is already \
                borrowed (inside a `with` closure, accessor or forwarded method of \
                the same proxy)"
)]
fn simple_proxy_setter_inside_with_panics_naming_the_setter() {
    let p = simple_gauge();
    p.with(|_| p.set_level(4));
}

#[test]
#[should_panic(
    expected = "SimpleProxy: `level` called while the object is already mutably \
                borrowed (inside a `with_mut` closure, accessor or forwarded method \
                of the same proxy)"
)]
fn simple_proxy_getter_inside_with_mut_panics_naming_the_getter() {
    let p = simple_gauge();
    p.with_mut(|_| _ = p.level());
}

#[test]
#[should_panic(
    expected = "SimpleProxy: `with_label_mut` called while the object is already \
                mutably borrowed"
)]
fn simple_proxy_lender_inside_a_lender_panics_naming_the_inner_one() {
    let p = simple_gauge();
    p.with_label_mut(|_| p.with_label_mut(|_| ()));
}

#[test]
#[should_panic(
    expected = "SimpleProxy: `with_label` called while the object is already \
                mutably borrowed"
)]
fn simple_proxy_shared_lender_inside_an_exclusive_one_panics_naming_it() {
    let p = simple_gauge();
    p.with_label_mut(|_| p.with_label(|_| ()));
}

#[test]
#[should_panic(
    expected = "SimpleProxy: `raise` called while the object is already borrowed \
                (inside a `with` closure"
)]
fn simple_proxy_exclusive_forwarded_method_inside_a_lender_panics_naming_it() {
    let p = simple_gauge();
    p.with_label(|_| p.raise(1));
}

#[test]
#[should_panic(
    expected = "SimpleProxy: `doubled` called while the object is already mutably \
                borrowed (inside a `with_mut` closure"
)]
fn simple_proxy_shared_forwarded_method_inside_with_mut_panics_naming_it() {
    let p = simple_gauge();
    p.with_mut(|_| _ = p.doubled());
}

#[test]
#[should_panic(
    expected = "SimpleProxy: `with_mut` called while the object is already \
                borrowed (inside a `with` closure"
)]
fn simple_proxy_with_mut_inside_with_panics_naming_with_mut() {
    let p = simple_gauge();
    p.with(|_| p.with_mut(|_| ()));
}

#[test]
#[should_panic(
    expected = "SimpleProxy: `with` called while the object is already mutably \
                borrowed (inside a `with_mut` closure"
)]
fn simple_proxy_with_inside_with_mut_panics_naming_with() {
    let p = simple_gauge();
    p.with_mut(|_| p.with(|_| ()));
}

/// `SimpleProxy`'s access panics point at the caller's line, and leave
/// the object unborrowed and intact; nesting shared accesses is fine.
#[test]
fn simple_proxy_access_panics_point_at_the_callers_line() {
    let p = simple_gauge();
    let here = file!().to_owned();
    assert_eq!(p.with(|_| p.doubled() + p.level()), 9);
    let (file, line) = crate::common::panic_location(|| p.with(|_| p.set_level(4)));
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 1));
    let (file, line) = crate::common::panic_location(|| p.with_mut(|_| _ = p.doubled()));
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 1));
    let (file, line) = crate::common::panic_location(|| p.with_label(|_| p.raise(1)));
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 1));
    let (file, line) = crate::common::panic_location(|| p.with_mut(|_| p.with(|_| ())));
    assert_eq!((file.as_str(), line), (here.as_str(), line!() - 1));
    p.raise(2);
    p.with_label_mut(|l| l.push('!'));
    assert_eq!((p.level(), p.label()), (5, "g!".to_owned()));
}

#[test]
fn proxies_inside_managed_objects_are_not_direct_references() {
    #[derive(Managed)]
    struct Holder<'p> {
        child: Proxy<'p, u32>,
        own: SimpleProxy<u32>,
    }
    let pool = ContiguousUniformPool::new();
    let holders = ContiguousUniformPool::new();
    let h = holders.alloc(Holder {
        child: pool.alloc(5),
        own: SimpleProxy::new(6),
    });
    const { assert!(!<Holder<'static> as Managed>::HAS_REFS) };
    h.with(|h| assert_eq!(h.child.with(|v| *v) + h.own.with(|v| *v), 11));
    drop(h);
    assert!(pool.is_empty());
}

#[test]
fn guards_reach_objects_through_proxies_and_reject_foreign_ones() {
    let pool = ContiguousUniformPool::new();
    let other = ContiguousUniformPool::new();
    let a = pool.alloc(1u32);
    let mut b = Some(pool.alloc(2u32));
    let stranger = other.alloc(3u32);
    {
        let objects = pool.borrow();
        assert_eq!(
            (
                *objects.by_proxy(&a),
                *objects.by_proxy(b.as_ref().unwrap())
            ),
            (1, 2)
        );
        // A proxy dropped while the guard lives: its object stays until the
        // guard ends, so references from the guard stay valid.
        let first = objects.by_proxy(&a);
        b = None;
        assert_eq!((*first, objects.len(), pool.len()), (1, 2, 1));
        let msg = panic_message(catch_unwind(AssertUnwindSafe(|| {
            *objects.by_proxy(&stranger)
        })));
        assert!(msg.contains("another pool"), "{msg}");
    }
    assert_eq!(pool.borrow().to_vec(), [1]);
    let mut objects = pool.borrow_mut();
    *objects.by_proxy_mut(&a) += 10;
    assert_eq!(*objects.by_proxy(&a), 11);
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| {
        *objects.by_proxy_mut(&stranger) = 0;
    })));
    assert!(msg.contains("another pool"), "{msg}");
    drop(objects);
    assert_eq!(
        (a.with(|v| *v), stranger.with(|v| *v), b.is_none()),
        (11, 3, true)
    );
}

#[test]
fn a_proxy_is_a_pointer_and_two_u64s_and_knows_its_pool() {
    // The pool's core, the key, and where the object was last found.
    assert_eq!(size_of::<Proxy<'_, [u64; 4]>>(), size_of::<usize>() + 16);
    assert_eq!(size_of::<Option<Proxy<'_, u8>>>(), size_of::<usize>() + 16);
    // Enough proxies to grow the key table and the object buffer several
    // times: each still reaches its own object and knows its pool.
    let n = if cfg!(miri) { 1100 } else { 5000 };
    let pool = ContiguousUniformPool::new();
    let other = ContiguousUniformPool::new();
    let stranger = other.alloc(0u64);
    let mut proxies: Vec<_> = (0..n).map(|i| pool.alloc(i as u64)).collect();
    assert!(proxies.iter().all(|p| pool.contains_proxy(p)));
    assert!(!pool.contains_proxy(&stranger));
    assert!(other.contains_proxy(&stranger));
    // Remove every third (objects shuffle), then check every survivor.
    let mut i = 0;
    proxies.retain(|_| {
        i += 1;
        i % 3 != 0
    });
    assert_eq!(pool.len(), proxies.len());
    let expected: Vec<u64> = (0..n as u64).filter(|i| (i + 1) % 3 != 0).collect();
    let got: Vec<u64> = proxies.iter().map(|p| p.with(|v| *v)).collect();
    assert_eq!(got, expected);
    // Freed cells are reused by new objects.
    let again: Vec<_> = (0..n / 3)
        .map(|i| pool.alloc(1_000_000 + i as u64))
        .collect();
    assert_eq!(again[5].with(|v| *v), 1_000_005);
    assert_eq!(proxies[7].with(|v| *v), expected[7]);
}

#[test]
fn a_pool_can_move_while_unborrowed_and_be_sent_to_another_thread() {
    fn assert_send<S: Send>(_: &S) {}
    let pool = ContiguousUniformPool::new();
    drop(pool.alloc(String::from("first")));
    core::mem::forget(pool.alloc(String::from("kept")));
    // Move the pool (the proxies name its heap core, which stays).
    let moved = vec![pool];
    let pool = &moved[0];
    let p = pool.alloc(String::from("after the move"));
    assert_eq!(p.with(String::clone), "after the move");
    drop(p);
    let pool = moved.into_iter().next().unwrap();
    assert_send(&pool);
    let pool = std::thread::spawn(move || {
        let q = pool.alloc(String::from("other thread"));
        assert_eq!(q.with(String::len), 12);
        drop(q);
        pool
    })
    .join()
    .unwrap();
    assert_eq!(pool.len(), 1);
    assert_eq!(pool.into_iter().collect::<Vec<_>>(), ["kept"]);
}

/// A 1 KiB object: 16 fill the first buffer, so a hundred make it grow
/// three times.
struct Big {
    id: u32,
    fill: [u64; 127],
    drops: Ledger,
    panic_on_drop: bool,
}

impl Drop for Big {
    fn drop(&mut self) {
        self.drops.record(self.id);
        assert_eq!(self.fill[126], u64::from(self.id), "object intact");
        if self.panic_on_drop {
            panic!("Big {} panics on drop", self.id);
        }
    }
}

fn big(drops: &Ledger, id: u32) -> Big {
    Big {
        id,
        fill: [u64::from(id); 127],
        drops: *drops,
        panic_on_drop: false,
    }
}

#[test]
fn objects_survive_growth_and_moves_intact() {
    let drops = Ledger::default();
    let pool = ContiguousUniformPool::new();
    let mut proxies: Vec<_> = (0..40).map(|id| pool.alloc(big(&drops, id))).collect();
    let capacity = pool.capacity();
    proxies.extend((40..100).map(|id| pool.alloc(big(&drops, id))));
    assert!(pool.capacity() >= 100 && pool.capacity() < 200);
    assert!(
        pool.capacity() > capacity,
        "the buffer grew, moving the objects"
    );
    // Every proxy still reaches its own object, intact.
    for (id, proxy) in proxies.iter().enumerate() {
        assert_eq!(proxy.with(|b| (b.id, b.fill[126])), (id as u32, id as u64));
    }
    assert!(
        drops.counts(100).iter().all(|&c| c == 0),
        "moves drop nothing"
    );

    // Remove every third proxy, from the back and the front alternately,
    // so objects move into the holes and the buffer halves.
    let mut removed = Vec::new();
    let mut i = 0;
    while i < proxies.len() {
        let victim = proxies.remove(i);
        removed.push(victim.with(|b| b.id));
        drop(victim);
        i += 2;
    }
    assert_eq!(pool.len(), proxies.len());
    for proxy in &proxies {
        let id = proxy.with(|b| b.id);
        assert!(!removed.contains(&id));
        assert_eq!(proxy.with(|b| b.fill[0]), u64::from(id));
    }
    // Dense: the walk, `next` one by one, and the slice `fold` agree.
    let stored = pool.borrow();
    let mut by_next = Vec::new();
    let mut iter = stored.values();
    assert_eq!(iter.len(), proxies.len());
    while let Some(b) = iter.next() {
        by_next.push(b.id);
        assert_eq!(iter.size_hint().0, proxies.len() - by_next.len());
    }
    let by_fold: Vec<u32> = stored.values().map(|b| b.id).collect();
    assert_eq!(by_next, by_fold);
    let mut expected: Vec<u32> = proxies.iter().map(|p| p.with(|b| b.id)).collect();
    expected.sort_unstable();
    let mut walked = by_fold.clone();
    walked.sort_unstable();
    assert_eq!(walked, expected);
    drop(stored);
    let mut seen = 0;
    pool.map(|b| {
        b.fill[1] = 7;
        seen += 1;
    });
    assert_eq!(seen, proxies.len());
    assert!(proxies.iter().all(|p| p.with(|b| b.fill[1]) == 7));
    let mut counts = drops.counts(100);
    for id in &removed {
        assert_eq!(counts[*id as usize], 1);
        counts[*id as usize] = 0;
    }
    assert!(counts.iter().all(|&c| c == 0));
    drop(proxies);
    assert_eq!(drops.counts(100), [1; 100]);
}

#[test]
fn a_panicking_destructor_in_drain_clear_or_drop_loses_nothing() {
    for how in 0..3 {
        let drops = Ledger::default();
        let mut pool = ContiguousUniformPool::new();
        for id in 0..80 {
            let mut value = big(&drops, id);
            value.panic_on_drop = id == 45; // a second panic while unwinding would abort
            core::mem::forget(pool.alloc(value));
        }
        let result = catch_unwind(AssertUnwindSafe(|| match how {
            0 => {
                let firsts: Vec<u32> = pool
                    .drain()
                    .take(3)
                    .map(|b| {
                        let id = b.id;
                        drop(b);
                        id
                    })
                    .collect();
                assert_eq!(firsts, [0, 1, 2]);
            }
            1 => pool.clear(),
            _ => drop(core::mem::take(&mut pool)),
        }));
        assert!(panic_message(result).contains("panics on drop"));
        assert_eq!(drops.counts(80), [1; 80], "case {how}");
        assert!(pool.is_empty());
        // The pool is usable afterwards, its buffer reused.
        let p = pool.alloc(big(&drops, 200));
        assert_eq!(p.with(|b| b.fill[9]), 200);
    }
}

#[test]
fn zero_sized_objects_grow_and_shrink_the_buffer_too() {
    let pool = ContiguousUniformPool::new();
    let mut units: Vec<_> = (0..2000).map(|_| pool.alloc(())).collect();
    assert!(pool.capacity() >= 2000);
    units.truncate(500);
    assert_eq!(pool.len(), 500);
    assert_eq!(pool.borrow().values().count(), 500);
    drop(units);
    let mut pool = pool;
    pool.shrink_to_fit();
    assert_eq!(pool.capacity(), 0);
}

#[test]
fn get_disjoint_mut_lends_distinct_live_objects_under_the_borrow_rules() {
    let drops = Ledger::default();
    let mut pool = ContiguousUniformPool::new();
    let keys: Vec<_> = (0..8).map(|i| pool.insert(drops.track(i))).collect();
    // `&mut self`: lent, then the pool is usable again.
    let [a, b, c] = pool.get_disjoint_mut([keys[7], keys[0], keys[3]]).unwrap();
    assert_eq!([a.id, b.id, c.id], [7, 0, 3]);
    core::mem::swap(a, b);
    assert_eq!(pool.get(keys[0]).unwrap().id, 7);
    assert!(pool.get_disjoint_mut([keys[1], keys[1]]).is_none());
    // A stale key, and a key whose slot was reused by another object.
    pool.remove(keys[2]);
    let reused = pool.insert(drops.track(8));
    assert!(pool.get_disjoint_mut([keys[1], keys[2]]).is_none());
    assert_eq!(pool.get_disjoint_mut([reused]).map(|[r]| r.id), Some(8));

    // Through the guard: a removal begun during the borrow makes the key
    // stale at once, while the object stays stored until the guard drops.
    {
        let mut objects = pool.borrow_mut();
        assert!(pool.remove_deferred(keys[4]));
        assert!(objects.get_disjoint_mut([keys[4], keys[5]]).is_none());
        let [x, y] = objects.get_disjoint_mut([keys[5], keys[6]]).unwrap();
        assert_eq!((x.id, y.id), (5, 6));
        assert_eq!(drops.drops(4), 0, "stored until the borrow ends");
        // No other guard can coexist with the exclusive one.
        let msg = panic_message(catch_unwind(AssertUnwindSafe(|| drop(pool.borrow()))));
        assert!(msg.contains("`borrow`"), "{msg}");
    }
    assert_eq!(drops.drops(4), 1);
    // And the exclusive guard, whose `get_disjoint_mut` lends, cannot be
    // taken while another borrow lives.
    let shared = pool.borrow();
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| drop(pool.borrow_mut()))));
    assert!(msg.contains("`borrow_mut`"), "{msg}");
    drop(shared);
    // A proxy borrows the pool: only the guard's method is reachable.
    let p = pool.alloc(drops.track(9));
    let key = Proxy::key(&p);
    if let Some([mine, other]) = pool.borrow_mut().get_disjoint_mut([key, keys[0]]) {
        core::mem::swap(mine, other);
    }
    assert_eq!(p.with(|t| t.id), 7);
    drop(p);
    drop(pool);
    assert_eq!(drops.counts(10), [1; 10]);

    // Zero-sized objects: distinct positions, distinct objects.
    let mut units = ContiguousUniformPool::new();
    let (u, v) = (units.insert(()), units.insert(()));
    assert!(units.get_disjoint_mut([u, v]).is_some());
    assert!(units.get_disjoint_mut([v, v]).is_none());
}

#[test]
fn guard_slices_are_read_on_other_threads_while_removals_begin() {
    let drops = Ledger::default();
    let n = if cfg!(miri) { 16 } else { 1_000 };
    let pool = ContiguousUniformPool::new();
    let keys: Vec<_> = (0..n).map(|i| pool.insert(drops.track(i))).collect();
    let proxy = pool.alloc(drops.track(n));
    {
        let objects = pool.borrow();
        let slice = objects.as_slice();
        let stored: Vec<_> = objects.keys().collect();
        assert_eq!(slice.len(), n as usize + 1);
        std::thread::scope(|s| {
            let readers: Vec<_> = (0..2)
                .map(|_| s.spawn(|| slice.iter().map(|t| u64::from(t.id)).sum::<u64>()))
                .collect();
            // Meanwhile this thread begins removals: they rewrite the key
            // table, never the objects the other threads read.
            assert!(pool.remove_deferred(keys[0]));
            assert!(!objects.contains(keys[0]));
            for reader in readers {
                assert_eq!(reader.join().unwrap(), (0..=u64::from(n)).sum::<u64>());
            }
        });
        // Pending objects stay in the slice, which `keys()` pairs with.
        for (key, object) in stored.iter().zip(slice) {
            assert_eq!(
                objects.get(*key).map(|t| t.id),
                (object.id != 0).then_some(object.id)
            );
        }
        assert_eq!(drops.total(), 0, "nothing dropped while borrowed");
    }
    assert_eq!(drops.dropped(), [0]);
    // The exclusive guard's slice, split across threads.
    {
        let mut objects = pool.borrow_mut();
        let slice = objects.as_mut_slice();
        let (front, back) = slice.split_at_mut(slice.len() / 2);
        std::thread::scope(|s| {
            s.spawn(|| front.iter_mut().for_each(|t| t.id += 10_000));
            back.iter_mut().for_each(|t| t.id += 10_000);
        });
        assert!(objects.values().all(|t| t.id > 10_000));
        objects
            .as_mut_slice()
            .iter_mut()
            .for_each(|t| t.id -= 10_000);
    }
    assert_eq!(proxy.with(|t| t.id), n);
    drop(proxy);
    drop(pool);
    assert_eq!(drops.counts(n + 1), vec![1; n as usize + 1]);
}

#[test]
fn insert_deferred_queues_inside_borrows_and_moves_in_at_the_end() {
    let drops = Ledger::default();
    let pool = ContiguousUniformPool::new();
    let first: Vec<_> = (0..4).map(|id| pool.insert(drops.track(id))).collect();
    // Two vacant slots, so the queue takes those first, then fresh ones.
    assert!(pool.remove(first[1]).is_some());
    assert!(pool.remove(first[2]).is_some());
    let mut spawned = Vec::new();
    let mut visited = Vec::new();
    pool.map_with_key(|_, t| {
        visited.push(t.id);
        let key = pool.insert_deferred(drops.track(10 + t.id));
        assert!(!pool.contains(key), "a queued object is not found yet");
        spawned.push(key);
        if t.id == 0 {
            spawned.push(pool.insert_deferred(drops.track(20)));
            spawned.push(pool.insert_deferred(drops.track(21)));
        }
        assert_eq!(pool.len(), 2, "queued objects are not counted");
    });
    assert_eq!(visited, [0, 3], "the walk does not visit what it spawns");
    // Moved in after the last object, in the order queued.
    assert_eq!(ids(&pool), [0, 3, 10, 20, 21, 13]);
    for (key, id) in spawned.iter().zip([10, 20, 21, 13]) {
        assert_eq!(pool.get(*key).map(|t| t.id), Some(id));
    }
    // The removed keys stay stale, though their slots were reused.
    assert!(pool.get(first[1]).is_none() && pool.get(first[2]).is_none());
    let mut all: Vec<_> = spawned.iter().chain([&first[0], &first[3]]).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 6, "every key distinct");
    let stats = pool.detailed_stats();
    assert_eq!((stats.len, stats.queued, stats.slots), (6, 0, 6));
    // Unborrowed, it is an insertion.
    let now = pool.insert_deferred(drops.track(30));
    assert_eq!(pool.get(now).map(|t| t.id), Some(30));
    drop(pool);
    assert_eq!(drops.total(), 9);
}

#[test]
fn insert_deferred_in_with_closures_and_guards_and_cancelled_by_remove_deferred() {
    let drops = Ledger::default();
    let pool = ContiguousUniformPool::new();
    let holder = pool.alloc(drops.track(0));
    let (kept, cancelled) = holder.with(|_| {
        let kept = pool.insert_deferred(drops.track(1));
        let cancelled = pool.insert_deferred(drops.track(2));
        assert_eq!(pool.detailed_stats().queued, 2);
        assert!(
            pool.remove_deferred(cancelled),
            "a queued insertion cancels"
        );
        assert_eq!(drops.counts(3), [0, 0, 1], "dropped at once");
        assert!(!pool.remove_deferred(cancelled), "once");
        assert_eq!(pool.detailed_stats().queued, 1);
        (kept, cancelled)
    });
    assert_eq!(pool.get(kept).map(|t| t.id), Some(1));
    assert!(pool.get(cancelled).is_none(), "a cancelled key stays stale");
    assert_eq!(pool.len(), 2);
    assert_eq!(
        pool.detailed_stats().slots,
        2,
        "the cancelled slot is vacant"
    );

    let guard = pool.borrow_mut();
    let late = pool.insert_deferred(drops.track(3));
    assert_eq!(guard.len(), 2, "the guard's view is fixed");
    drop(guard);
    assert_eq!(pool.get(late).map(|t| t.id), Some(3));
    // The cancelled key's slot is reused without matching it.
    let reused = pool.insert(drops.track(4));
    assert!(pool.get(cancelled).is_none());
    assert_eq!(pool.get(reused).map(|t| t.id), Some(4));
    drop(holder);
    drop(pool);
    assert_eq!(drops.counts(5), [1, 1, 1, 1, 1]);
}

#[test]
fn queued_objects_survive_panics_leaks_and_panicking_destructors() {
    let drops = Ledger::default();
    let pool = ContiguousUniformPool::new();
    pool.insert(drops.track(0));
    // A panic inside the walk: the queue is moved in while unwinding.
    let mut spawned = None;
    let result = catch_unwind(AssertUnwindSafe(|| {
        pool.map(|_| {
            spawned = Some(pool.insert_deferred(drops.track(1)));
            panic!("walk panic");
        });
    }));
    assert!(panic_message(result).contains("walk panic"));
    assert_eq!(pool.get(spawned.unwrap()).map(|t| t.id), Some(1));

    // A cancelled object whose destructor panics: the panic reaches the
    // caller of `remove_deferred`, and the pool stays consistent.
    let result = catch_unwind(AssertUnwindSafe(|| {
        pool.map(|_| {
            let loud = pool.insert_deferred(drops.track_loud(2));
            let quiet = pool.insert_deferred(drops.track(3));
            let _ = quiet;
            pool.remove_deferred(loud);
        });
    }));
    assert!(panic_message(result).contains("destructor panic"));
    assert_eq!(drops.counts(4), [0, 0, 1, 0]);
    assert_eq!(ids(&pool), [0, 1, 3], "the quiet one moved in");

    // A leaked guard keeps the queue until `&mut self` or the pool's drop.
    let mut pool = pool;
    core::mem::forget(pool.borrow());
    let waiting = pool.insert_deferred(drops.track(4));
    assert!(!pool.contains(waiting));
    pool.shrink_to_fit(); // settles: moves the queue in
    assert!(pool.contains(waiting));
    core::mem::forget(pool.borrow());
    pool.insert_deferred(drops.track(5));
    drop(pool); // drops the queued object too
    assert_eq!(drops.counts(6), [1, 1, 1, 1, 1, 1]);
}

#[test]
fn destructors_run_by_the_flush_may_insert() {
    /// Inserts a successor into its pool when dropped.
    struct Spawner {
        pool: *const ContiguousUniformPool<Spawner>,
        generation: u32,
        log: Rc<RefCell<Vec<u32>>>,
    }
    impl Drop for Spawner {
        fn drop(&mut self) {
            self.log.borrow_mut().push(self.generation);
            if self.generation < 3 {
                // SAFETY: the pool outlives its objects' destructors here
                // (the test drops every object before the pool).
                let pool = unsafe { &*self.pool };
                pool.insert_deferred(Spawner {
                    pool: self.pool,
                    generation: self.generation + 1,
                    log: self.log.clone(),
                });
            }
        }
    }
    let log = Rc::new(RefCell::new(Vec::new()));
    let pool = ContiguousUniformPool::new();
    let first = pool.insert(Spawner {
        pool: &pool,
        generation: 0,
        log: log.clone(),
    });
    // Removed when the walk ends; its destructor runs unborrowed, so its
    // successor goes in at once, and so on.
    pool.map(|_| assert!(pool.remove_deferred(first)));
    assert_eq!(*log.borrow(), [0]);
    assert_eq!(pool.len(), 1);
    for generation in 1..3 {
        pool.map_with_key(|key, _| assert!(pool.remove_deferred(key)));
        assert_eq!(log.borrow().len(), generation + 1);
    }
    assert_eq!(*log.borrow(), [0, 1, 2]);
    assert_eq!(
        pool.borrow()
            .values()
            .map(|s| s.generation)
            .collect::<Vec<_>>(),
        [3]
    );
    // The last one inserts nothing, so the pool may drop it.
    drop(pool);
    assert_eq!(*log.borrow(), [0, 1, 2, 3]);
}

/// `split_mut` lends one object exclusively beside every other one, and
/// `for_each_with_others` does so for each object in turn: the view
/// refuses the lent object, stale keys and keys whose removal began during
/// the walk; a panic inside the walk leaves the pool consistent.
#[test]
fn split_mut_and_for_each_with_others_lend_one_object_beside_the_rest() {
    #[derive(Debug)]
    struct Unit {
        hp: i64,
        target: Option<DefaultKey>,
    }
    let pool = ContiguousUniformPool::new();
    let keys: Vec<DefaultKey> = (0..8)
        .map(|i| {
            pool.insert(Unit {
                hp: 100 + i,
                target: None,
            })
        })
        .collect();
    // Each unit targets the next; the last one itself.
    pool.map_with_key(|key, unit| {
        let i = keys.iter().position(|&k| k == key).unwrap();
        unit.target = Some(keys[(i + 1).min(keys.len() - 1)]);
    });
    let gone = pool.insert(Unit {
        hp: 0,
        target: None,
    });
    assert!(pool.remove(gone).is_some());
    {
        let mut units = pool.borrow_mut();
        let (me, mut others) = units.split_mut(keys[0]).unwrap();
        assert!(others.get(keys[0]).is_none() && !others.contains(keys[0]));
        assert!(others.get_mut(gone).is_none(), "a stale key");
        others.get_mut(keys[1]).unwrap().hp -= 50;
        me.hp += 1;
        assert!(units.split_mut(gone).is_none());
    }
    assert_eq!(
        (pool.get(keys[0]).unwrap().hp, pool.get(keys[1]).unwrap().hp),
        (101, 51)
    );
    // Every unit hits its target, reading and writing it through the view;
    // one removal begun mid-walk hides its object from the view at once.
    let mut model: Vec<i64> = keys.iter().map(|&k| pool.get(k).unwrap().hp).collect();
    let mut seen = Vec::new();
    let mut units = pool.borrow_mut();
    units.for_each_with_others(|key, me, others| {
        let i = keys.iter().position(|&k| k == key).unwrap();
        seen.push(i);
        if i == 3 {
            assert!(pool.remove_deferred(keys[5]));
        }
        let t = me.target.unwrap();
        match others.get_mut(t) {
            Some(target) => {
                target.hp -= 10;
                let j = keys.iter().position(|&k| k == t).unwrap();
                model[j] -= 10;
            }
            // The last unit targets itself (the lent object); unit 4
            // targets the removed unit 5.
            None => assert!(t == key || (i == 4 && t == keys[5]), "unit {i}"),
        }
        assert!(!others.contains(key));
    });
    seen.sort_unstable();
    assert_eq!(seen, (0..8).collect::<Vec<_>>(), "each object once");
    drop(units);
    assert!(!pool.contains(keys[5]));
    for (i, &k) in keys.iter().enumerate() {
        if i != 5 {
            assert_eq!(pool.get(k).unwrap().hp, model[i], "unit {i}");
        }
    }
    // A panic inside the walk ends the borrow; the pool stays usable.
    let before = pool.len();
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        pool.borrow_mut().for_each_with_others(|_, me, _| {
            me.hp += 1;
            if me.hp > 0 {
                panic!("a system fails");
            }
        })
    }));
    assert_eq!(panic_message(panicked), "a system fails");
    assert_eq!(pool.len(), before);
    assert!(pool.borrow_mut().split_mut(keys[0]).is_some());
}

/// An object made from its own key, queued under a borrow.
#[derive(Debug)]
struct Node {
    me: DefaultKey,
    parent: Option<DefaultKey>,
    tracked: Tracked,
}

fn node_ids(pool: &ContiguousUniformPool<Node>) -> Vec<u32> {
    pool.borrow().values().map(|n| n.tracked.id).collect()
}

/// `insert_with_key_deferred` runs its closure at once, under the borrow it
/// is called under (walks, `with` closures, guards), with the key it
/// returns; the object is found only once the outermost borrow ends, after
/// the objects queued before it, and a queued one is cancelled by
/// `remove_deferred`. Unborrowed, it inserts at once.
#[test]
fn insert_with_key_deferred_queues_objects_made_from_their_keys() {
    let drops = Ledger::default();
    let pool = ContiguousUniformPool::new();
    let root = pool.insert_with_key(|me| Node {
        me,
        parent: None,
        tracked: drops.track(0),
    });

    // In a walk: two children, the second of which queues a grandchild
    // (itself keyed) from inside its closure.
    let mut made = Vec::new();
    let mut visited = 0;
    pool.map_with_key(|key, node| {
        visited += 1;
        assert_eq!(key, node.me);
        for id in [1, 2] {
            let mut seen = None;
            let child = pool.insert_with_key_deferred(|me| {
                seen = Some(me);
                assert!(!pool.contains(me), "reserved, not in");
                assert!(!pool.remove_deferred(me), "no object yet to remove");
                if id == 2 {
                    let grandchild = pool.insert_with_key_deferred(|g| Node {
                        me: g,
                        parent: Some(me),
                        tracked: drops.track(3),
                    });
                    made.push((3, grandchild));
                }
                Node {
                    me,
                    parent: Some(key),
                    tracked: drops.track(id),
                }
            });
            assert_eq!(seen, Some(child), "the closure's key is the one returned");
            assert!(!pool.contains(child), "queued: not found yet");
            made.push((id, child));
        }
        assert_eq!(pool.len(), 1, "queued objects are not counted");
        assert_eq!(pool.detailed_stats().queued, 3);
    });
    assert_eq!(visited, 1, "the walk does not visit what it spawns");
    // Moved in after the last object, in the order their keys were taken.
    assert_eq!(node_ids(&pool), [0, 1, 2, 3]);
    for &(id, key) in &made {
        let node = pool.get(key).unwrap();
        assert_eq!((node.me, node.tracked.id), (key, id));
    }
    let grandchild = made[1].1;
    assert_eq!(pool.get(grandchild).unwrap().parent, Some(made[2].1));
    assert_eq!(pool.get(made[0].1).unwrap().parent, Some(root));

    // In a `with` closure (a shared borrow) and beside guards of both kinds.
    let holder = pool.alloc(Node {
        me: DefaultKey::null(),
        parent: None,
        tracked: drops.track(4),
    });
    let in_with = holder.with(|_| {
        pool.insert_with_key_deferred(|me| Node {
            me,
            parent: None,
            tracked: drops.track(5),
        })
    });
    let objects = pool.borrow();
    let beside_ref = pool.insert_with_key_deferred(|me| {
        // The closure may read through the guard of the borrow it runs in.
        assert!(objects.get(root).is_some() && objects.get(me).is_none());
        Node {
            me,
            parent: Some(root),
            tracked: drops.track(6),
        }
    });
    drop(objects);
    let mut objects = pool.borrow_mut();
    let cancelled = pool.insert_with_key_deferred(|me| Node {
        me,
        parent: None,
        tracked: drops.track(7),
    });
    assert!(
        pool.remove_deferred(cancelled),
        "a queued insertion cancels"
    );
    assert_eq!(drops.counts(8)[7], 1, "dropped at once");
    assert!(objects.get_mut(root).is_some());
    drop(objects);
    for (key, id) in [(in_with, 5), (beside_ref, 6)] {
        let node = pool.get(key).unwrap();
        assert_eq!((node.me, node.tracked.id), (key, id));
    }
    assert!(pool.get(cancelled).is_none(), "a cancelled key stays stale");
    assert_eq!(node_ids(&pool), [0, 1, 2, 3, 4, 5, 6]);

    // Unborrowed: an insertion, made under the closure's own borrow.
    let now = pool.insert_with_key_deferred(|me| {
        let nested = catch_unwind(AssertUnwindSafe(|| pool.map(|_| ())));
        assert!(panic_message(nested).contains("`map` called while the pool is already borrowed"));
        Node {
            me,
            parent: None,
            tracked: drops.track(8),
        }
    });
    assert_eq!(pool.get(now).map(|n| (n.me, n.tracked.id)), Some((now, 8)));
    let stats = pool.detailed_stats();
    assert_eq!((stats.len, stats.queued, stats.slots), (8, 0, 8));
    drop(holder);
    drop(pool);
    assert_eq!(drops.counts(9), [1; 9]);
}

/// A closure of `insert_with_key_deferred` that panics inserts nothing: its
/// key stays stale and its slot turns vacant when the borrow ends, while
/// what it and the others queued goes in. Also unborrowed.
#[test]
fn a_panicking_insert_with_key_deferred_closure_inserts_nothing() {
    let drops = Ledger::default();
    let pool = ContiguousUniformPool::new();
    pool.insert((DefaultKey::null(), drops.track(0)));
    let mut lost = None;
    let mut queued = Vec::new();
    pool.map(|_| {
        queued.push(pool.insert_with_key_deferred(|me| (me, drops.track(1))));
        let panicked = catch_unwind(AssertUnwindSafe(|| {
            pool.insert_with_key_deferred(|me| {
                lost = Some(me);
                let _held = drops.track(2); // dropped by the unwinding
                queued.push(pool.insert_deferred((DefaultKey::null(), drops.track(3))));
                panic!("no value");
            })
        }));
        assert_eq!(panic_message(panicked), "no value");
        let lost = lost.unwrap();
        assert!(!pool.contains(lost));
        assert!(!pool.remove_deferred(lost), "nothing to cancel");
        assert_eq!(pool.detailed_stats().queued, 2);
        // Later insertions are unaffected by the empty entry before them.
        queued.push(pool.insert_with_key_deferred(|me| (me, drops.track(4))));
    });
    assert_eq!(drops.counts(5), [0, 0, 1, 0, 0]);
    let ids: Vec<u32> = pool.borrow().values().map(|(_, t)| t.id).collect();
    assert_eq!(ids, [0, 1, 3, 4]);
    for (key, id) in queued.iter().zip([1, 3, 4]) {
        assert_eq!(pool.get(*key).map(|o| o.1.id), Some(id));
    }
    assert_eq!(pool.get(queued[0]).unwrap().0, queued[0]);
    let lost = lost.unwrap();
    assert!(
        pool.get(lost).is_none(),
        "the panicked insertion's key is stale"
    );
    assert_eq!(pool.detailed_stats().slots, 4, "its slot is vacant");
    // The vacant slot is reused without matching the stale key.
    let reused = pool.insert((DefaultKey::null(), drops.track(5)));
    assert_ne!(reused, lost);
    assert!(pool.get(lost).is_none());

    // Unborrowed, a panic leaves the pool unborrowed and unchanged.
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        pool.insert_with_key_deferred(|_| -> (DefaultKey, Tracked) { panic!("unborrowed") })
    }));
    assert_eq!(panic_message(panicked), "unborrowed");
    assert_eq!(pool.len(), 5);
    pool.map(|_| ()); // unborrowed
    drop(pool);
    assert_eq!(drops.counts(6), [1; 6]);
}

/// A closure that ends the borrow it was called under (by dropping the
/// last guard, which it owns) cancels its own insertion: the call panics,
/// the value is dropped, and nothing is inserted, even when the closure
/// queued another object at the same place of a new borrow's queue. While
/// another borrow remains, dropping one guard changes nothing.
#[test]
fn insert_with_key_deferred_whose_closure_ends_the_borrow_inserts_nothing() {
    let drops = Ledger::default();
    let pool = ContiguousUniformPool::new();
    pool.insert((DefaultKey::null(), drops.track(0)));

    let guard = pool.borrow_mut();
    let mut lost = None;
    let msg = message_of(|| {
        let _ = pool.insert_with_key_deferred(|me| {
            lost = Some(me);
            drop(guard);
            (me, drops.track(1))
        });
    });
    assert!(
        msg.contains("the closure of `insert_with_key_deferred` ended the borrow"),
        "{msg}"
    );
    assert_eq!(drops.counts(2), [0, 1], "the value was dropped");
    assert!(!pool.contains(lost.unwrap()));
    assert_eq!(pool.detailed_stats().queued, 0);

    // The closure ends the borrow, then takes a new one (kept past its
    // return) and queues another object, at the same place of the queue.
    let guard = pool.borrow();
    let mut later = None;
    let mut outlasting = None;
    let msg = message_of(|| {
        let _ = pool.insert_with_key_deferred(|me| {
            lost = Some(me);
            drop(guard);
            outlasting = Some(pool.borrow());
            later = Some(pool.insert_deferred((DefaultKey::null(), drops.track(3))));
            (me, drops.track(2))
        });
    });
    assert!(msg.contains("ended the borrow"), "{msg}");
    assert_eq!(drops.counts(4), [0, 1, 1, 0]);
    assert_eq!(
        pool.detailed_stats().queued,
        1,
        "the other object stays queued"
    );
    drop(outlasting);
    assert_eq!(pool.get(later.unwrap()).map(|o| o.1.id), Some(3));
    assert!(!pool.contains(lost.unwrap()));

    // Two shared guards: dropping one inside the closure leaves the pool
    // borrowed, so the insertion is queued as usual.
    let (first, second) = (pool.borrow(), pool.borrow());
    let kept = pool.insert_with_key_deferred(|me| {
        drop(first);
        (me, drops.track(4))
    });
    assert!(!pool.contains(kept));
    drop(second);
    assert_eq!(pool.get(kept).map(|o| (o.0, o.1.id)), Some((kept, 4)));
    assert_eq!(pool.len(), 3);
    drop(pool);
    assert_eq!(drops.counts(5), [1; 5]);
}

/// `map_with_others` walks every object once, in storage order, each
/// exclusively beside a view of the others, as the guard's
/// `for_each_with_others` does; a removal begun during the walk hides its
/// object from the view at once (the walk still visits it), and a panic
/// inside the walk leaves the pool consistent.
#[test]
fn map_with_others_lends_each_object_beside_the_others() {
    struct Unit {
        hp: i64,
        target: Option<DefaultKey>,
    }
    let pool = ContiguousUniformPool::new();
    let keys: Vec<DefaultKey> = (0..6)
        .map(|i| {
            pool.insert_with_key(|me| Unit {
                hp: 100 + i,
                target: Some(me),
            })
        })
        .collect();
    // Each unit targets the next; the last one itself.
    pool.map_with_key(|key, unit| {
        let i = keys.iter().position(|&k| k == key).unwrap();
        unit.target = Some(keys[(i + 1).min(keys.len() - 1)]);
    });
    let order: Vec<DefaultKey> = pool.borrow().keys().collect();
    let mut model: Vec<i64> = keys.iter().map(|&k| pool.get(k).unwrap().hp).collect();
    let mut seen = Vec::new();
    let mut spawned = None;
    pool.map_with_others(|key, me, others| {
        seen.push(key);
        let i = keys.iter().position(|&k| k == key).unwrap();
        assert!(
            others.get(key).is_none() && !others.contains(key),
            "the lent one"
        );
        if i == 1 {
            assert!(pool.remove_deferred(keys[3]));
            assert!(!others.contains(keys[3]), "hidden at once");
            spawned = Some(pool.insert_with_key_deferred(|me| Unit {
                hp: 0,
                target: Some(me),
            }));
        }
        let t = me.target.unwrap();
        match others.get_mut(t) {
            Some(target) => {
                target.hp -= 10;
                me.hp += 1;
                model[keys.iter().position(|&k| k == t).unwrap()] -= 10;
                model[i] += 1;
            }
            // The last unit targets itself; unit 2 targets the removed 3.
            None => assert!(t == key || (i == 2 && t == keys[3]), "unit {i}"),
        }
    });
    assert_eq!(seen, order, "each object once, in storage order");
    assert!(!pool.contains(keys[3]));
    for (i, &k) in keys.iter().enumerate().filter(|&(i, _)| i != 3) {
        assert_eq!(pool.get(k).unwrap().hp, model[i], "unit {i}");
    }
    let spawned = spawned.unwrap();
    assert_eq!(pool.get(spawned).unwrap().target, Some(spawned));
    assert_eq!(pool.len(), 6);

    // A panic inside the walk ends the borrow; the pool stays usable.
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        pool.map_with_others(|key, _, _| {
            if key == keys[4] {
                assert!(pool.remove_deferred(keys[0]));
                panic!("a system fails");
            }
        })
    }));
    assert_eq!(panic_message(panicked), "a system fails");
    assert_eq!(pool.len(), 5, "the removal begun before the panic holds");
    assert!(!pool.contains(keys[0]));
    // No destructor runs while unwinding: the object stays stored (and
    // walked) until the next borrow ends.
    let mut walked = 0;
    pool.map_with_others(|_, _, others| {
        walked += 1;
        assert!(!others.contains(keys[0]));
    });
    assert_eq!(walked, 6);
    let mut walked = 0;
    pool.map_with_others(|_, _, _| walked += 1);
    assert_eq!(walked, 5);
}

/// The prelude's `PoolOthers` is the contiguous pool's `Others` (the
/// prelude's `Others` being the heap's): a helper whose signature names it
/// serves `map_with_others`, `for_each_with_others` and `split_mut`, and
/// takes the view named by its module path.
#[test]
fn the_prelude_exports_the_pools_others_as_pool_others() {
    struct Unit {
        hp: i32,
        target: Option<DefaultKey>,
    }
    /// The hit points of `unit`'s target, read through the view.
    fn target_hp(unit: &Unit, others: &PoolOthers<'_, Unit>) -> Option<i32> {
        others.get(unit.target?).map(|t| t.hp)
    }
    /// Deals `damage` to `unit`'s target, written through the view.
    fn hit(unit: &Unit, others: &mut PoolOthers<'_, Unit>, damage: i32) -> bool {
        match unit.target.and_then(|t| others.get_mut(t)) {
            Some(target) => {
                target.hp -= damage;
                true
            }
            None => false,
        }
    }
    // The module path names the same type.
    fn by_path<'a, 'b>(
        others: &'a managed::contiguous::Others<'b, Unit>,
    ) -> &'a PoolOthers<'b, Unit> {
        others
    }
    // The prelude's `Others` is still the heap's (two lifetimes, no `T`).
    fn heap_view<'a, 'b, 'gc>(others: &'a managed::heap::Others<'b, 'gc>) -> &'a Others<'b, 'gc> {
        others
    }
    let _ = heap_view;

    let pool = ContiguousUniformPool::new();
    let prey = pool.insert(Unit {
        hp: 10,
        target: None,
    });
    let hunter = pool.insert(Unit {
        hp: 5,
        target: Some(prey),
    });
    let mut read = Vec::new();
    pool.map_with_others(|_, unit, others| {
        read.push(target_hp(unit, by_path(others)));
        if hit(unit, others, 3) {
            unit.hp += 1;
        }
    });
    assert_eq!(read, [None, Some(10)]);
    assert_eq!(
        (pool.get(prey).unwrap().hp, pool.get(hunter).unwrap().hp),
        (7, 6)
    );

    let mut units = pool.borrow_mut();
    let mut read = Vec::new();
    units.for_each_with_others(|_, unit, others| read.push(target_hp(unit, others)));
    assert_eq!(read, [None, Some(7)]);
    let (me, mut others) = units.split_mut(hunter).unwrap();
    assert_eq!(target_hp(me, &others), Some(7));
    assert!(hit(me, &mut others, 7));
    assert_eq!(target_hp(me, &others), Some(0));
    // The lent object is not among the others.
    me.target = Some(hunter);
    assert_eq!(target_hp(me, &others), None);
    assert!(!hit(me, &mut others, 1));
    drop(units);
    assert_eq!(
        (pool.get(prey).unwrap().hp, pool.get(hunter).unwrap().hp),
        (0, 6)
    );
}

/// An exclusive guard's `lookup` is read on other threads (it is `Send`
/// and `Sync` for `Sync` objects) while the pool's thread begins removals:
/// it sees what was written through the guard before it, never a queued
/// object, and a removed object vanishes from it without changing; once
/// the view is gone the guard lends objects exclusively again.
#[test]
fn an_exclusive_guards_lookup_reads_on_other_threads_while_removals_begin() {
    let pool = ContiguousUniformPool::new();
    let keys: Vec<DefaultKey> = (0..32u64).map(|i| pool.insert(i)).collect();
    let mut objects = pool.borrow_mut();
    for &key in &keys {
        *objects.get_mut(key).unwrap() *= 2;
    }
    let queued = pool.insert_deferred(1000);
    let lookup = objects.lookup();
    // The guard's shared methods work beside the view.
    assert_eq!((objects.get(keys[1]), objects.len()), (Some(&2), 32));
    let rounds = if cfg!(miri) { 2 } else { 200 };
    let keys = &keys;
    std::thread::scope(|s| {
        let reader = s.spawn(move || {
            for _ in 0..rounds {
                for (i, &key) in keys.iter().enumerate() {
                    if let Some(value) = lookup.get(key) {
                        assert_eq!(*value, 2 * i as u64);
                    }
                }
                assert!(!lookup.contains(queued), "queued: not found");
            }
        });
        for &key in keys.iter().step_by(2) {
            assert!(pool.remove_deferred(key));
        }
        reader.join().unwrap();
    });
    for (i, &key) in keys.iter().enumerate() {
        assert_eq!(lookup.contains(key), i % 2 == 1, "key {i}");
    }
    let read = lookup.get(keys[1]).unwrap();
    assert_eq!(*read, 2);
    *objects.get_mut(keys[1]).unwrap() += 1;
    drop(objects);
    assert_eq!(pool.len(), 17);
    assert_eq!(pool.get(keys[1]).map(|v| *v), Some(3));
    assert_eq!(pool.get(queued).map(|v| *v), Some(1000));
}

#[test]
fn a_clone_answers_to_the_pools_keys_and_makes_the_same_ones() {
    let drops = Ledger::default();
    let pool = ContiguousUniformPool::new();
    let keys: Vec<_> = (0..20).map(|id| pool.insert(drops.track(id))).collect();
    for &key in keys.iter().step_by(3) {
        drop(pool.remove(key));
    }
    let owned = pool.alloc(drops.track(50));
    let snapshot = pool.clone();
    assert_eq!(snapshot.len(), pool.len());
    for &key in &keys {
        let copy = snapshot.get(key).map(|t| t.id);
        assert_eq!(
            copy.map(|id| id - 1000),
            pool.get(key).map(|t| t.id),
            "{key:?}"
        );
    }
    assert_eq!(
        snapshot.get(Proxy::key(&owned)).map(|t| t.id),
        Some(1050),
        "a proxy's object"
    );
    let order: Vec<u32> = snapshot.borrow().values().map(|t| t.id - 1000).collect();
    assert_eq!(order, ids(&pool), "the same storage order");

    // The same operations on both make the same keys.
    let mut rng = crate::common::SplitMix(5);
    for step in 0..200 {
        let key = keys[rng.below(keys.len())];
        if rng.below(2) == 0 {
            assert_eq!(pool.remove(key).is_some(), snapshot.remove(key).is_some());
        } else {
            let id = 100 + step;
            assert_eq!(
                pool.insert(drops.track(id)),
                snapshot.insert(drops.track(id))
            );
        }
    }
    // The clone's copy of the proxy's object stays when the proxy goes.
    drop(owned);
    assert_eq!(snapshot.len(), pool.len() + 1);
    drop((pool, snapshot));
    let counts = drops.counts(2000);
    assert!(
        counts.iter().all(|&n| n <= 2),
        "ids made twice are dropped twice, at most"
    );
    for id in 0..20 {
        // Each original once; each copy once, of those the snapshot had.
        let copied = u32::from(id % 3 != 0);
        assert_eq!((counts[id], counts[1000 + id]), (1, copied), "value {id}");
    }
    assert_eq!((counts[50], counts[1050]), (1, 1));
}

#[test]
fn a_clone_needs_a_pool_with_no_deferred_work() {
    let drops = Ledger::default();
    let pool = ContiguousUniformPool::new();
    let keys: Vec<_> = (0..4).map(|id| pool.insert(drops.track(id))).collect();
    // Inside a shared borrow: fine.
    let proxy = pool.alloc(drops.track(9));
    let copy = proxy.with(|_| pool.clone());
    assert_eq!(copy.len(), 5);
    // Inside `map` (exclusive) or with a removal waiting: refused.
    let inside_map = catch_unwind(AssertUnwindSafe(|| pool.map(|_| drop(pool.clone()))));
    assert!(panic_message(inside_map).contains("`clone` called while the pool is exclusively"));
    let shared = pool.borrow();
    assert!(pool.remove_deferred(keys[0]));
    let waiting = catch_unwind(AssertUnwindSafe(|| pool.clone()));
    assert!(panic_message(waiting).contains("wait for its borrow to end"));
    drop(shared);
    assert_eq!(pool.clone().len(), 4, "the removal carried out");
    drop((copy, proxy));
}

/// A value whose `clone` panics once a thread-local budget is spent.
#[derive(Debug)]
struct Brittle(Tracked);

thread_local! {
    static CLONES_LEFT: std::cell::Cell<u32> = const { std::cell::Cell::new(u32::MAX) };
}

impl Clone for Brittle {
    fn clone(&self) -> Self {
        let left = CLONES_LEFT.with(|c| c.replace(c.get().saturating_sub(1)));
        assert!(left > 0, "clone budget spent");
        Brittle(self.0.clone())
    }
}

#[test]
fn a_panicking_clone_drops_the_copies_it_made_and_leaves_the_pool_alone() {
    let drops = Ledger::default();
    let pool = ContiguousUniformPool::new();
    for id in 0..10 {
        pool.insert(Brittle(drops.track(id)));
    }
    CLONES_LEFT.with(|c| c.set(6));
    let result = catch_unwind(AssertUnwindSafe(|| pool.clone()));
    CLONES_LEFT.with(|c| c.set(u32::MAX));
    assert!(panic_message(result).contains("clone budget spent"));
    assert_eq!(
        drops.sorted(),
        (1000..1006).collect::<Vec<_>>(),
        "six copies, once each"
    );
    assert_eq!(pool.len(), 10);
    assert_eq!(pool.clone().len(), 10, "usable, and borrowed no more");
}

#[test]
fn pools_are_equal_with_equal_objects_under_the_same_keys() {
    let pool = ContiguousUniformPool::new();
    let keys: Vec<_> = (0..6u32).map(|i| pool.insert(i)).collect();
    let copy = pool.clone();
    assert!(copy == pool);
    pool.remove(keys[1]); // the last object moves into the hole
    copy.remove(keys[1]);
    assert!(copy == pool);
    // Removed and inserted again on both: the same keys.
    let (a, b) = (copy.remove(keys[2]).unwrap(), copy.remove(keys[3]).unwrap());
    let reordered = [copy.insert(b), copy.insert(a)];
    assert!(copy != pool, "keys reissued with new versions");
    pool.remove(keys[2]);
    pool.remove(keys[3]);
    assert_eq!([pool.insert(b), pool.insert(a)], reordered);
    assert!(copy == pool);
    *copy.get_mut(keys[0]).unwrap() += 1;
    assert!(copy != pool);
    // A removal waiting for a borrow to end leaves its object out.
    let (copy, shared) = (pool.clone(), pool.borrow());
    pool.remove_deferred(keys[4]);
    assert!(copy != pool);
    copy.remove(keys[4]);
    assert!(copy == pool);
    drop(shared);
}

/// An object whose `clone` removes another object of its own pool (which
/// it reaches through a weak handle): the removal begins during the copy
/// and is carried out when the copy's borrow ends.
struct Reentrant {
    id: u32,
    pool: std::rc::Weak<ContiguousUniformPool<Reentrant>>,
    victim: std::cell::Cell<Option<managed::contiguous::DefaultKey>>,
}

impl Clone for Reentrant {
    fn clone(&self) -> Self {
        if let (Some(pool), Some(victim)) = (self.pool.upgrade(), self.victim.take()) {
            assert!(pool.remove_deferred(victim), "deferred during the copy");
            assert!(pool.get(victim).is_none());
        }
        Reentrant {
            id: self.id,
            pool: self.pool.clone(),
            victim: std::cell::Cell::new(None),
        }
    }
}

#[test]
fn an_objects_clone_may_remove_from_the_pool_being_copied() {
    let pool = Rc::new(ContiguousUniformPool::new());
    let keys: Vec<_> = (0..8)
        .map(|id| {
            pool.insert(Reentrant {
                id,
                pool: Rc::downgrade(&pool),
                victim: std::cell::Cell::new(None),
            })
        })
        .collect();
    pool.get(keys[2]).unwrap().victim.set(Some(keys[6]));
    let copy = ContiguousUniformPool::clone(&pool);
    assert_eq!(copy.len(), 8, "the copy was taken before the removal");
    assert!(copy.get(keys[6]).is_some_and(|o| o.id == 6));
    assert_eq!(pool.len(), 7, "carried out when the copy ended");
    assert!(pool.get(keys[6]).is_none());
    let ids: Vec<u32> = copy.borrow().values().map(|o| o.id).collect();
    assert_eq!(ids, (0..8).collect::<Vec<_>>());
}
