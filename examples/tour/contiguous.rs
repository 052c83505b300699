//! ContiguousUniformPool: dense storage behind copyable keys and stable
//! proxies. Tour section: contiguous.

use managed::prelude::*;

/// A managed struct: proxies get its field accessors.
#[derive(Managed)]
struct MyStruct {
    a: i32,
}

pub(crate) fn run() {
    println!("== contiguous: ContiguousUniformPool and proxies");

    // A standalone object owning its storage.
    let simple = SimpleProxy::new(MyStruct { a: 76 });
    println!("SimpleProxy: a = {}", simple.a());

    let pool = ContiguousUniformPool::new();
    let p = pool.alloc(MyStruct { a: 76 });
    p.with_mut(|s| s.a += 1);
    println!(
        "alloc(76), with_mut(+1): p.a() = {}, p.with(|s| s.a) = {}",
        p.a(),
        p.with(|s| s.a)
    );

    let mut others: Vec<_> = (0..5).map(|a| pool.alloc(MyStruct { a })).collect();
    let order = || {
        let mut seen = Vec::new();
        pool.map(|instance: &mut MyStruct| seen.push(instance.a));
        seen
    };
    println!("5 more objects; storage order: {:?}", order());

    // Dropping a proxy removes its object; the last object moves into the
    // hole and its proxy follows.
    drop(p);
    println!("dropped p: storage order {:?}, len {}", order(), pool.len());
    println!(
        "every proxy still reads its own object: {:?}",
        others.iter().map(|o| o.a()).collect::<Vec<_>>()
    );

    // Dropping proxies inside `map` is safe: removals wait for the walk.
    let mut walked = 0;
    pool.map(|instance: &mut MyStruct| {
        walked += 1;
        instance.a *= 10;
        if instance.a == 20 {
            others.truncate(2);
        }
    });
    println!(
        "map dropped 3 proxies mid-walk: walked {walked}, now {:?}, len {}",
        order(),
        pool.len()
    );
    println!("stats: {}", pool.stats());
    drop(others);

    // Copyable keys: stored anywhere, `None` once the object is gone;
    // a keyed walk can delete objects, which go when the walk ends.
    let keys: Vec<_> = (0..6).map(|a| pool.insert(MyStruct { a })).collect();
    pool.map_with_key(|key, instance| {
        if instance.a % 2 == 0 {
            pool.remove_deferred(key);
        }
    });
    println!(
        "6 objects by key, the even ones deleted mid-walk: {:?}",
        keys.iter()
            .map(|&k| pool.get(k).map(|s| s.a))
            .collect::<Vec<_>>()
    );
    pool.retain(|_, instance| instance.a > 1);
    println!(
        "retain(a > 1): len {}, {}",
        pool.len(),
        pool.detailed_stats()
    );
    keys.iter().for_each(|&k| {
        pool.remove(k);
    });
    println!(
        "all proxies dropped: len {}, stats: {}",
        pool.len(),
        pool.stats()
    );
}
