//! Tour section: heap — a moving, garbage-collected heap for object graphs:
//! copyable handles, mutation through a token, collection in one call.

use managed::prelude::*;

/// An interpreter's value: numbers and pairs that point at each other.
#[derive(Managed)]
enum Value<'gc> {
    Num(i64),
    Pair(Gc<'gc, Value<'gc>>, Gc<'gc, Value<'gc>>),
}

/// The interpreter's roots.
#[derive(Managed)]
struct Machine<'gc> {
    globals: Vec<(String, Gc<'gc, Value<'gc>>)>,
}

/// A list of the numbers `from..to`, built from pairs.
fn list<'gc>(mc: &Mutation<'gc>, from: i64, to: i64) -> Gc<'gc, Value<'gc>> {
    let mut tail = Gc::new(mc, Value::Num(0));
    for n in (from..to).rev() {
        let head = Gc::new(mc, Value::Num(n));
        tail = Gc::new(mc, Value::Pair(head, tail));
    }
    tail
}

fn sum<'gc>(mc: &Mutation<'gc>, mut v: Gc<'gc, Value<'gc>>) -> i64 {
    let mut total = 0;
    while let Value::Pair(head, tail) = mc[v] {
        if let Value::Num(n) = mc[head] {
            total += n;
        }
        v = tail;
    }
    total
}

pub(crate) fn run() {
    println!("== heap: a moving, garbage-collected heap for object graphs");
    let mut heap: Heap<Machine<'static>> = Heap::new(|_| Machine {
        globals: Vec::new(),
    });
    heap.mutate(|mc, m| {
        for k in 0..20 {
            let l = list(mc, 0, 10 + k);
            if k % 4 == 0 {
                m.globals.push((format!("list{k}"), l));
            }
        }
        // Share a tail between two globals, and make a cycle.
        let shared = m.globals[0].1;
        let cycle = Gc::new(mc, Value::Pair(shared, shared));
        mc[cycle] = Value::Pair(cycle, shared);
        m.globals.push(("cycle".into(), cycle));
    });
    println!("  before collection: {}", heap.detailed_stats());
    let stats = heap.collect();
    println!("  after collection:  {}", heap.detailed_stats());
    println!(
        "  {} objects survived, {} bytes reclaimed; stats(): {}",
        stats.live_objects,
        stats.freed_bytes,
        heap.stats()
    );
    heap.mutate(|mc, m| {
        let sums: Vec<i64> = m.globals[..5].iter().map(|&(_, l)| sum(mc, l)).collect();
        println!("  sums after the move: {sums:?}");
    });
}
