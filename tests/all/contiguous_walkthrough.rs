//! The contiguous pool walk-through, in the call shapes users write: an
//! owning proxy with closure access and generated accessors, `map` over
//! the pool, removal by dropping proxies (also inside a walk), copyable
//! keys with removal during a keyed walk, and a standalone `SimpleProxy`.

use managed::prelude::*;

#[derive(Managed)]
struct MyStruct {
    a: i32,
}

#[test]
fn pool_and_proxies_walkthrough() {
    let pool = ContiguousUniformPool::new();
    let p = pool.alloc(MyStruct { a: 76 }); // an owning proxy; dropping it removes the object
    assert_eq!(p.with(|s| s.a), 76); // closure access, shared
    p.with_mut(|s| s.a += 1); // closure access, exclusive
    assert_eq!(p.a(), 77); // derive-generated read of a field (a copy of it)
    assert_eq!(p.with_a(|a| *a + 1), 78); // derive-generated lending read

    let others: Vec<_> = (0..4).map(|a| pool.alloc(MyStruct { a })).collect();
    let mut seen = Vec::new();
    pool.map(|instance: &mut MyStruct| {
        seen.push(instance.a);
    });
    assert_eq!(seen, [77, 0, 1, 2, 3]);
    assert_eq!(pool.len(), 5);

    // Dropping a proxy removes its object; the last object fills the hole
    // and its proxy follows it.
    drop(p);
    assert_eq!(pool.len(), 4);
    let mut seen = Vec::new();
    pool.map(|instance: &mut MyStruct| seen.push(instance.a));
    assert_eq!(seen, [3, 0, 1, 2]);
    assert_eq!(
        others.iter().map(|p| p.a()).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );

    // Dropping proxies from inside a `map` closure is safe: the removal
    // waits for the walk to end.
    let mut others = others;
    let mut visited = 0;
    pool.map(|instance: &mut MyStruct| {
        visited += 1;
        instance.a += 100;
        others.pop();
    });
    assert_eq!(visited, 4);
    assert_eq!(pool.len(), 0);
    assert!(pool.is_empty());
    assert!(pool.stats().reserved_bytes >= pool.stats().live_bytes);
}

#[test]
fn keys_walkthrough() {
    let pool = ContiguousUniformPool::new();
    // Keys are copyable and outlive nothing: store them anywhere.
    let keys: Vec<DefaultKey> = (0..6).map(|a| pool.insert(MyStruct { a })).collect();
    let evens: Vec<DefaultKey> = keys.iter().copied().step_by(2).collect();
    assert_eq!(pool.get(keys[3]).map(|s| s.a), Some(3));

    // A walk hands out each object's key; deleting one inside the walk
    // removes it when the walk ends.
    pool.map_with_key(|key, instance| {
        if evens.contains(&key) {
            pool.remove_deferred(key);
        } else {
            instance.a *= 10;
        }
    });
    assert_eq!(pool.len(), 3);
    assert!(evens.iter().all(|&key| pool.get(key).is_none()));
    assert_eq!(pool.get(keys[5]).map(|s| s.a), Some(50));

    // `retain` removes as it walks.
    pool.retain(|_, instance| instance.a > 10);
    assert_eq!(pool.len(), 2);
    assert_eq!(pool.remove(keys[3]).map(|s| s.a), Some(30));
    assert_eq!(pool.remove(keys[3]).map(|s| s.a), None);
}

#[test]
fn simple_proxy_walkthrough() {
    // A standalone object that owns its storage.
    let a = SimpleProxy::new(MyStruct { a: 76 });
    a.with_mut(|s| s.a += 1);
    assert_eq!(a.a(), 77);
    a.set_a(1);
    assert_eq!(a.with(|s| s.a), 1);
}
