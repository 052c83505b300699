//! The seed-002 walk-through, with exactly the call shapes of COMPAT.md.

use managed::prelude::*;

#[derive(Managed)]
struct MyStruct {
    a: i32,
}

#[test]
fn seed_002_walkthrough() {
    let pool = ContiguousUniformPool::new();
    let p = pool.alloc(MyStruct { a: 76 }); // an owning proxy; dropping it removes the object
    assert_eq!(p.with(|s| s.a), 76); // closure access, shared
    p.with_mut(|s| s.a += 1); // closure access, exclusive
    assert_eq!(p.a(), 77); // derive-generated read of a field (a clone of it)

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
fn seed_002_simple_proxy() {
    // `Proxy:MyStruct(76)`: a standalone object that owns its storage.
    let a = SimpleProxy::new(MyStruct { a: 76 });
    a.with_mut(|s| s.a += 1);
    assert_eq!(a.a(), 77);
    a.set_a(1);
    assert_eq!(a.with(|s| s.a), 1);
}
