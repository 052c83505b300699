//! The managed heap against the crates a user would pick instead.
//!
//! - `heap/gcbench`: a long-lived binary tree of depth 16 (`i64` payloads),
//!   then 200 rounds, each allocating a temporary tree of depth 10 and
//!   linking one random node of it into a random leaf of the long-lived
//!   tree (the previous round's link is cut, so it becomes garbage), with a
//!   full collection every 20 rounds; against gc-arena 0.7 (`finish_cycle`).
//!   Timed whole (`total`) and collections alone (`collections`); the bytes
//!   each holds from the global allocator after the last collection are
//!   printed (`heap bytes`).
//! - `heap/binary_trees/{16,18}`: the Benchmarks Game binary-trees program,
//!   single-threaded, written as an expert would with each: the long-lived
//!   tree in its own heap (bumpalo: its own `Bump`), temporary trees in a
//!   second heap collected when due (`collect_if_due`; bumpalo: `reset`
//!   after each tree), and `Box`.
//! - `heap/collect_1m`: a collection of a heap holding 1M live 16-byte
//!   objects interleaved with as many dead ones, against one `memcpy` of
//!   the live bytes.
//! - `heap/identity_map`: an editor's per-object side table. 100k live
//!   16-byte nodes (a payload and a link to the previous live node) held by
//!   the root, each allocated before a dead one, and a `HashMap<Gc, u64>`
//!   in the root with an entry per live node; one collection is timed
//!   (setup untimed). The collection slides every survivor, so it rewrites
//!   every key and files the map's entries again under their new hashes.
//!   Against the same heap with the side table as a `Vec<(Gc, u64)>` (no
//!   rehash: the reference row, under the `baseline/` qualifier so that it
//!   pairs with nothing) and gc-arena 0.7 with the same map (its objects
//!   never move; one full `finish_cycle`). gc-arena's `Gc` hashes and
//!   compares the object's value, so its key is a wrapper that hashes and
//!   compares the address, as a gc-arena user would key a map by identity.
//!   The `young/` rows: the same map over 100k nodes that a first
//!   collection left dense, plus 1,000 young nodes (each before a dead
//!   one) added to it before each timed collection, which moves only those:
//!   the map files again the 1% of its entries whose keys changed.
//! - `heap/held_map`: a program's side table outside the heap, keyed by
//!   its objects: 10k live 16-byte nodes (each allocated before a dead
//!   one), each held from outside and filed in a `HashMap` with a value;
//!   a collection then moves every node (untimed), and each node is looked
//!   up (timed) with a handle made anew, as a UI finds its state for what
//!   it draws: ours `HashMap<Held, u64>` and `mc.hold(item)` (the first
//!   hold after the collection reindexes the held objects); gc-arena 0.7's
//!   handles outside the arena (`DynamicRoot`, stashed in a
//!   `DynamicRootSet`) do not hash, and its objects never move, so its
//!   table is keyed by the object's address (`Gc::as_ptr`), with the
//!   handle kept beside the value.
//! - `heap/weak_table`: a registry of objects by number that keeps none
//!   of them alive: 100k 16-byte objects (each allocated before a dead
//!   one), every other one kept by the root, all of them in a
//!   `HashMap<u64, GcWeak>` in the root; one collection is timed (setup
//!   untimed), after which the table holds the 50k survivors' entries
//!   only. Ours drops the dead objects' entries in the collection itself;
//!   gc-arena 0.7 leaves them, so its row times the cycle and its user's
//!   `retain` on `GcWeak::is_dropped` (the dead objects' allocations stay
//!   until its next cycle, since weak handles pointed at them). The
//!   `baseline/` row is ours with the table left empty (the collection
//!   alone).
//! - `heap/ephemeron_table`: a side table whose values point back at
//!   their keys: 100k 16-byte objects (each allocated before a dead one),
//!   every other one kept by the root, each with an "outline" (a 16-byte
//!   object whose link is its key, strong) in a `HashMap<GcWeak, Gc>` in
//!   the root, declared before the list of kept objects, so marking meets
//!   every entry before its key is marked (each value waits, and the
//!   survivors' are traced in one more round). One collection is timed
//!   (setup untimed), after which the table holds the 50k survivors'
//!   entries, and the other 50k outlines are gone with their keys. In
//!   gc-arena 0.7 an outline that held its key strongly would keep it
//!   alive forever, so its user holds the key weakly in the outline and
//!   prunes the table by its keys (`retain` on `GcWeak::is_dropped`),
//!   which is timed with the cycle (the pruned outlines stay until its
//!   next cycle). The `baseline/` row is ours with the table left empty.
//! - `heap/dyn_objects`: 100k live objects of three types (16, 24 and 40
//!   bytes, in rotation) seen through one trait `Shape`, held by the root
//!   as a `Vec` of trait-object handles: ours `GcDyn<dyn Shape>` (made by
//!   `unsize!`), gc-arena 0.7 `Gc<RefLock<dyn Shape>>` (its way to a
//!   trait object that `grow(&mut self)` can be called on). `dispatch/`:
//!   one pass calling `area()` through every handle, summed. `collect/`:
//!   one collection (setup untimed) of the same objects, each allocated
//!   before a dead one of its type, so ours moves every survivor and
//!   rewrites every handle through its type's record; against gc-arena's
//!   full `finish_cycle`. (Where a chunk ends, an object that does not
//!   fit leaves room unused, so each chunk is a little under half live:
//!   its survivors are copied out to a fresh chunk rather than slid.) The
//!   `baseline/collect/` row is ours with 100k `Circle`s (and as many dead
//!   ones) in a `Vec<Gc<Circle>>`: one type, one-word handles; its chunks
//!   are exactly half live, so slid.
//!
//! Every figure is thread CPU time (see `support`).

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use managed::heap::Pacing;
use managed::prelude::*;

mod support;
use support::{Counting, XorShift, allocated, cpu_iters, cpu_now, cpu_time};

#[global_allocator]
static GLOBAL: Counting = Counting;

// ---------------------------------------------------------------- gcbench

const LONG_DEPTH: u32 = 16;
const TEMP_DEPTH: u32 = 10;
const ROUNDS: u32 = 200;
const COLLECT_EVERY: u32 = 20;

/// A tree node on the managed heap.
#[derive(Managed)]
struct Node<'gc> {
    left: Option<Gc<'gc, Node<'gc>>>,
    right: Option<Gc<'gc, Node<'gc>>>,
    value: i64,
}

#[derive(Managed)]
struct Root<'gc> {
    tree: Gc<'gc, Node<'gc>>,
    /// The leaf that holds this round's link.
    linked: Option<Gc<'gc, Node<'gc>>>,
}

fn tree<'gc>(mc: &Mutation<'gc>, depth: u32, value: &mut i64) -> Gc<'gc, Node<'gc>> {
    *value += 1;
    let v = *value;
    if depth == 0 {
        Gc::new(
            mc,
            Node {
                left: None,
                right: None,
                value: v,
            },
        )
    } else {
        let left = Some(tree(mc, depth - 1, value));
        let right = Some(tree(mc, depth - 1, value));
        Gc::new(
            mc,
            Node {
                left,
                right,
                value: v,
            },
        )
    }
}

/// A random node `steps` levels down from `n` (or the leaf above).
fn walk<'gc>(
    mc: &Mutation<'gc>,
    mut n: Gc<'gc, Node<'gc>>,
    steps: u32,
    rng: &mut XorShift,
) -> Gc<'gc, Node<'gc>> {
    for _ in 0..steps {
        let node = &mc[n];
        let next = if rng.next() & 1 == 0 {
            node.left
        } else {
            node.right
        };
        match next {
            Some(next) => n = next,
            None => break,
        }
    }
    n
}

/// GCBench on the managed heap; returns (total, collections) CPU time and
/// the bytes held after the last collection.
fn gcbench_managed() -> (Duration, Duration, usize) {
    let base = allocated();
    let ((mut heap, collecting), total) = cpu_time(|| {
        let mut value = 0;
        let mut heap: Heap<Root<'static>> = Heap::new(|mc| Root {
            tree: tree(mc, LONG_DEPTH, &mut value),
            linked: None,
        });
        let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
        let mut collecting = Duration::ZERO;
        for round in 1..=ROUNDS {
            heap.mutate(|mc, root| {
                let temp = tree(mc, TEMP_DEPTH, &mut value);
                let link = walk(
                    mc,
                    temp,
                    rng.below(u64::from(TEMP_DEPTH) + 1) as u32,
                    &mut rng,
                );
                let leaf = walk(mc, root.tree, LONG_DEPTH, &mut rng);
                if let Some(old) = root.linked.replace(leaf) {
                    mc[old].left = None;
                }
                mc[leaf].left = Some(link);
            });
            if round % COLLECT_EVERY == 0 {
                let c = cpu_now();
                black_box(heap.collect());
                collecting += cpu_now() - c;
            }
        }
        (heap, collecting)
    });
    let bytes = allocated() - base;
    let sum = heap.mutate(|mc, root| checksum(mc, root.tree));
    black_box(sum);
    (total, collecting, bytes)
}

fn checksum<'gc>(mc: &Mutation<'gc>, root: Gc<'gc, Node<'gc>>) -> i64 {
    let mut sum = 0;
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        let node = &mc[n];
        sum += node.value;
        stack.extend(node.left);
        stack.extend(node.right);
    }
    sum
}

mod peer {
    //! GCBench on gc-arena 0.7, as its documentation writes mutation: the
    //! links are `Lock`s, written through `Gc::write` + `unlock!`.

    use gc_arena::barrier::unlock;
    use gc_arena::lock::Lock;
    use gc_arena::{Arena, Collect, Gc, Mutation, Rootable};

    use super::support::{XorShift, allocated, cpu_now, cpu_time};
    use super::{COLLECT_EVERY, LONG_DEPTH, ROUNDS, TEMP_DEPTH};
    use std::hint::black_box;
    use std::time::Duration;

    #[derive(Collect)]
    #[collect(no_drop)]
    struct Node<'gc> {
        left: Lock<Option<Gc<'gc, Node<'gc>>>>,
        right: Lock<Option<Gc<'gc, Node<'gc>>>>,
        value: i64,
    }

    #[derive(Collect)]
    #[collect(no_drop)]
    struct Root<'gc> {
        tree: Gc<'gc, Node<'gc>>,
        linked: Option<Gc<'gc, Node<'gc>>>,
    }

    fn tree<'gc>(mc: &Mutation<'gc>, depth: u32, value: &mut i64) -> Gc<'gc, Node<'gc>> {
        *value += 1;
        let v = *value;
        if depth == 0 {
            Gc::new(
                mc,
                Node {
                    left: Lock::new(None),
                    right: Lock::new(None),
                    value: v,
                },
            )
        } else {
            let left = Lock::new(Some(tree(mc, depth - 1, value)));
            let right = Lock::new(Some(tree(mc, depth - 1, value)));
            Gc::new(
                mc,
                Node {
                    left,
                    right,
                    value: v,
                },
            )
        }
    }

    fn walk<'gc>(mut n: Gc<'gc, Node<'gc>>, steps: u32, rng: &mut XorShift) -> Gc<'gc, Node<'gc>> {
        for _ in 0..steps {
            let next = if rng.next() & 1 == 0 {
                n.left.get()
            } else {
                n.right.get()
            };
            match next {
                Some(next) => n = next,
                None => break,
            }
        }
        n
    }

    fn checksum<'gc>(root: Gc<'gc, Node<'gc>>) -> i64 {
        let mut sum = 0;
        let mut stack = vec![root];
        while let Some(n) = stack.pop() {
            sum += n.value;
            stack.extend(n.left.get());
            stack.extend(n.right.get());
        }
        sum
    }

    pub(super) fn gcbench() -> (Duration, Duration, usize) {
        let base = allocated();
        let ((arena, collecting), total) = cpu_time(|| {
            let mut value = 0;
            let mut arena = Arena::<Rootable![Root<'_>]>::new(|mc| Root {
                tree: tree(mc, LONG_DEPTH, &mut value),
                linked: None,
            });
            let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
            let mut collecting = Duration::ZERO;
            for round in 1..=ROUNDS {
                arena.mutate_root(|mc, root| {
                    let temp = tree(mc, TEMP_DEPTH, &mut value);
                    let link = walk(temp, rng.below(u64::from(TEMP_DEPTH) + 1) as u32, &mut rng);
                    let leaf = walk(root.tree, LONG_DEPTH, &mut rng);
                    if let Some(old) = root.linked.replace(leaf) {
                        unlock!(Gc::write(mc, old), Node, left).set(None);
                    }
                    unlock!(Gc::write(mc, leaf), Node, left).set(Some(link));
                });
                if round % COLLECT_EVERY == 0 {
                    let c = cpu_now();
                    arena.finish_cycle();
                    collecting += cpu_now() - c;
                }
            }
            (arena, collecting)
        });
        let bytes = allocated() - base;
        black_box(arena.mutate(|_, root| checksum(root.tree)));
        (total, collecting, bytes)
    }
}

fn gcbench(c: &mut Criterion) {
    // The bytes each holds after the last collection (deterministic).
    let (_, _, ours) = gcbench_managed();
    let (_, _, theirs) = peer::gcbench();
    eprintln!(
        "heap/gcbench heap bytes after the last collection: managed::heap {ours}, gc-arena {theirs}, ratio {:.2}",
        ours as f64 / theirs as f64
    );
    let mut g = c.benchmark_group("heap/gcbench");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g.bench_function("total/managed::heap", |b| {
        b.iter_custom(|n| (0..n).map(|_| gcbench_managed().0).sum())
    });
    g.bench_function("total/gc-arena", |b| {
        b.iter_custom(|n| (0..n).map(|_| peer::gcbench().0).sum())
    });
    g.bench_function("collections/managed::heap", |b| {
        b.iter_custom(|n| (0..n).map(|_| gcbench_managed().1).sum())
    });
    g.bench_function("collections/gc-arena", |b| {
        b.iter_custom(|n| (0..n).map(|_| peer::gcbench().1).sum())
    });
    g.finish();
}

// ----------------------------------------------------------- binary-trees

/// A binary-trees node on the managed heap.
#[derive(Managed)]
struct Tree<'gc> {
    left: Option<Gc<'gc, Tree<'gc>>>,
    right: Option<Gc<'gc, Tree<'gc>>>,
}

fn bottom_up<'gc>(mc: &Mutation<'gc>, depth: u32) -> Gc<'gc, Tree<'gc>> {
    if depth == 0 {
        Gc::new(
            mc,
            Tree {
                left: None,
                right: None,
            },
        )
    } else {
        let left = Some(bottom_up(mc, depth - 1));
        let right = Some(bottom_up(mc, depth - 1));
        Gc::new(mc, Tree { left, right })
    }
}

fn check<'gc>(mc: &Mutation<'gc>, t: Gc<'gc, Tree<'gc>>) -> u32 {
    let node = &mc[t];
    1 + node.left.map_or(0, |l| check(mc, l)) + node.right.map_or(0, |r| check(mc, r))
}

/// binary-trees with two managed heaps: the long-lived tree in one, the
/// temporary trees in another, collected when due.
fn binary_trees_managed(max: u32) -> u64 {
    let mut sum = 0u64;
    let mut temp: Heap<()> = Heap::new(|_| ());
    temp.set_pacing(Pacing {
        min_bytes: 128 << 10,
        growth: 1.0,
    });
    sum += u64::from(temp.mutate(|mc, _| check(mc, bottom_up(mc, max + 1))));
    temp.collect();
    let mut long: Heap<Option<Gc<'static, Tree<'static>>>> =
        Heap::new(|mc| Some(bottom_up(mc, max)));
    for d in (4..=max).step_by(2) {
        let iterations = 1u32 << (max - d + 4);
        for _ in 0..iterations {
            sum += u64::from(temp.mutate(|mc, _| check(mc, bottom_up(mc, d))));
            temp.collect_if_due();
        }
    }
    sum += u64::from(long.mutate(|mc, root| check(mc, root.unwrap())));
    sum
}

/// A binary-trees node in a bump arena.
struct BumpTree<'a> {
    left: Option<&'a BumpTree<'a>>,
    right: Option<&'a BumpTree<'a>>,
}

fn bump_bottom_up(bump: &bumpalo::Bump, depth: u32) -> &BumpTree<'_> {
    if depth == 0 {
        bump.alloc(BumpTree {
            left: None,
            right: None,
        })
    } else {
        let left = Some(bump_bottom_up(bump, depth - 1));
        let right = Some(bump_bottom_up(bump, depth - 1));
        bump.alloc(BumpTree { left, right })
    }
}

fn bump_check(t: &BumpTree<'_>) -> u32 {
    1 + t.left.map_or(0, bump_check) + t.right.map_or(0, bump_check)
}

/// binary-trees with bumpalo: the long-lived tree in its own arena, each
/// temporary tree in a second one, reset after it.
fn binary_trees_bumpalo(max: u32) -> u64 {
    let mut sum = 0u64;
    let mut temp = bumpalo::Bump::new();
    sum += u64::from(bump_check(bump_bottom_up(&temp, max + 1)));
    temp.reset();
    let long = bumpalo::Bump::new();
    let long_tree = bump_bottom_up(&long, max);
    for d in (4..=max).step_by(2) {
        let iterations = 1u32 << (max - d + 4);
        for _ in 0..iterations {
            sum += u64::from(bump_check(bump_bottom_up(&temp, d)));
            temp.reset();
        }
    }
    sum += u64::from(bump_check(long_tree));
    sum
}

/// A binary-trees node in boxes.
struct BoxTree {
    left: Option<Box<BoxTree>>,
    right: Option<Box<BoxTree>>,
}

fn box_bottom_up(depth: u32) -> Box<BoxTree> {
    if depth == 0 {
        Box::new(BoxTree {
            left: None,
            right: None,
        })
    } else {
        Box::new(BoxTree {
            left: Some(box_bottom_up(depth - 1)),
            right: Some(box_bottom_up(depth - 1)),
        })
    }
}

fn box_check(t: &BoxTree) -> u32 {
    1 + t.left.as_deref().map_or(0, box_check) + t.right.as_deref().map_or(0, box_check)
}

fn binary_trees_box(max: u32) -> u64 {
    let mut sum = u64::from(box_check(&box_bottom_up(max + 1)));
    let long = box_bottom_up(max);
    for d in (4..=max).step_by(2) {
        let iterations = 1u32 << (max - d + 4);
        for _ in 0..iterations {
            sum += u64::from(box_check(&box_bottom_up(d)));
        }
    }
    sum += u64::from(box_check(&long));
    sum
}

fn binary_trees(c: &mut Criterion) {
    for max in [16, 18] {
        let expected = binary_trees_box(max);
        assert_eq!(binary_trees_managed(max), expected);
        assert_eq!(binary_trees_bumpalo(max), expected);
        let mut g = c.benchmark_group(format!("heap/binary_trees/{max}"));
        g.sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(if max > 16 { 8 } else { 4 }));
        g.bench_function("managed::heap", |b| {
            b.iter_custom(|n| {
                cpu_iters(n, || {
                    black_box(binary_trees_managed(black_box(max)));
                })
            })
        });
        g.bench_function("bumpalo", |b| {
            b.iter_custom(|n| {
                cpu_iters(n, || {
                    black_box(binary_trees_bumpalo(black_box(max)));
                })
            })
        });
        g.bench_function("Box", |b| {
            b.iter_custom(|n| {
                cpu_iters(n, || {
                    black_box(binary_trees_box(black_box(max)));
                })
            })
        });
        g.finish();
    }
}

// ------------------------------------------------------------- collect_1m

/// A small object: 16 bytes, no references.
#[derive(Managed)]
struct Small {
    a: u64,
    b: u64,
}

fn collect_1m(c: &mut Criterion) {
    const LIVE: usize = 1 << 20;
    let mut g = c.benchmark_group("heap/collect_1m");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    let mut heap: Heap<Vec<Gc<'static, Small>>> = Heap::new(|_| Vec::with_capacity(LIVE));
    g.bench_function("managed::heap::collect", |b| {
        b.iter_custom(|n| {
            let mut total = Duration::ZERO;
            for _ in 0..n {
                // Untimed: empty the heap, so that the collection finds
                // exactly 1M live objects and 1M dead ones.
                heap.mutate(|_, live| live.clear());
                heap.collect();
                heap.mutate(|mc, live| {
                    for i in 0..LIVE as u64 {
                        live.push(Gc::new(mc, Small { a: i, b: !i }));
                        Gc::new(mc, Small { a: 0, b: 0 });
                    }
                });
                let (stats, time) = cpu_time(|| heap.collect());
                total += time;
                assert_eq!(stats.live_objects, LIVE);
            }
            total
        })
    });
    let src = vec![1u8; LIVE * 16];
    let mut dst = vec![0u8; LIVE * 16];
    g.bench_function("memcpy_live_bytes", |b| {
        b.iter_custom(|n| {
            cpu_iters(n, || {
                dst.copy_from_slice(black_box(&src));
                black_box(&dst);
            })
        })
    });
    g.finish();
    heap.mutate(|mc, live| {
        for (i, &s) in live.iter().enumerate() {
            assert_eq!((mc[s].a, mc[s].b), (i as u64, !(i as u64)));
        }
    });
}

// ----------------------------------------------------------- identity_map

/// Live nodes of the identity-map workload (as many dead ones are
/// interleaved with them).
const ID_LIVE: usize = 100_000;

/// A node of the identity-map workload: 16 bytes, a payload and a link
/// to the previous live node.
#[derive(Managed)]
struct Item<'gc> {
    value: u64,
    prev: Option<Gc<'gc, Item<'gc>>>,
}

const _: () = assert!(size_of::<Item<'static>>() == 16);

/// The root with the side table as a map keyed by the nodes.
#[derive(Managed)]
struct MapRoot<'gc> {
    items: Vec<Gc<'gc, Item<'gc>>>,
    table: HashMap<Gc<'gc, Item<'gc>>, u64>,
}

/// The root with the side table as a list of pairs (nothing to rehash).
#[derive(Managed)]
struct PairsRoot<'gc> {
    items: Vec<Gc<'gc, Item<'gc>>>,
    table: Vec<(Gc<'gc, Item<'gc>>, u64)>,
}

/// Allocates the live nodes, each followed by a dead one if `garbage`,
/// and hands each live node and its payload to `keep`.
fn identity_items<'gc>(
    mc: &Mutation<'gc>,
    garbage: bool,
    mut keep: impl FnMut(Gc<'gc, Item<'gc>>, u64),
) {
    let mut prev = None;
    for i in 0..ID_LIVE as u64 {
        let item = Gc::new(mc, Item { value: i, prev });
        keep(item, i);
        if garbage {
            Gc::new(
                mc,
                Item {
                    value: !i,
                    prev: None,
                },
            );
        }
        prev = Some(item);
    }
}

/// One round with the map: untimed setup, then one collection timed.
fn identity_map_round(heap: &mut Heap<MapRoot<'static>>) -> Duration {
    // Untimed: empty the heap (the map keeps its capacity), then fill it.
    heap.mutate(|_, root| {
        root.items.clear();
        root.table.clear();
    });
    heap.collect();
    heap.mutate(|mc, root| {
        identity_items(mc, true, |item, i| {
            root.items.push(item);
            root.table.insert(item, i);
        });
    });
    let (stats, time) = cpu_time(|| heap.collect());
    // Only the nodes are heap objects (the map's table is not).
    assert_eq!(stats.live_objects, ID_LIVE);
    time
}

/// One round with the list of pairs, as [`identity_map_round`].
fn identity_pairs_round(heap: &mut Heap<PairsRoot<'static>>) -> Duration {
    heap.mutate(|_, root| {
        root.items.clear();
        root.table.clear();
    });
    heap.collect();
    heap.mutate(|mc, root| {
        identity_items(mc, true, |item, i| {
            root.items.push(item);
            root.table.push((item, i));
        });
    });
    let (stats, time) = cpu_time(|| heap.collect());
    assert_eq!(stats.live_objects, ID_LIVE);
    time
}

/// Checks the nodes and their links after a round.
fn identity_check_items<'gc>(mc: &Mutation<'gc>, items: &[Gc<'gc, Item<'gc>>]) {
    assert_eq!(items.len(), ID_LIVE);
    for (i, &item) in items.iter().enumerate() {
        assert_eq!(mc[item].value, i as u64);
        assert_eq!(mc[item].prev, i.checked_sub(1).map(|p| items[p]));
    }
}

/// Checks that every live node is found in the map, with its payload.
fn identity_map_check(heap: &Heap<MapRoot<'static>>) {
    heap.read(|mc, root| {
        identity_check_items(mc, &root.items);
        assert_eq!(root.table.len(), ID_LIVE);
        for (i, item) in root.items.iter().enumerate() {
            assert_eq!(root.table.get(item), Some(&(i as u64)));
        }
    });
}

/// Checks that the list of pairs holds every live node, with its payload.
fn identity_pairs_check(heap: &Heap<PairsRoot<'static>>) {
    heap.read(|mc, root| {
        identity_check_items(mc, &root.items);
        assert_eq!(root.table.len(), ID_LIVE);
        for (i, (item, &pair)) in root.items.iter().zip(&root.table).enumerate() {
            assert_eq!(pair, (*item, i as u64));
        }
    });
}

mod identity_peer {
    //! The identity map on gc-arena 0.7. Its `Gc` hashes and compares the
    //! object's value (`T: Hash + Eq`), so a map keyed by identity wraps
    //! the handle in a key that hashes and compares its address
    //! (`Gc::as_ptr`, `Gc::ptr_eq`). Its objects never move: the map is
    //! traced, never rehashed.

    use std::collections::HashMap;
    use std::hash::{Hash, Hasher};
    use std::time::Duration;

    use gc_arena::{Arena, Collect, Gc, Mutation, Rootable};

    use super::support::cpu_time;
    use super::{ID_LIVE, ID_YOUNG};

    #[derive(Collect)]
    #[collect(no_drop)]
    pub(super) struct Item<'gc> {
        value: u64,
        prev: Option<Gc<'gc, Item<'gc>>>,
    }

    /// A node with payload `i` and no link, followed by a dead one.
    pub(super) fn unlinked_before_garbage<'gc>(mc: &Mutation<'gc>, i: u64) -> Gc<'gc, Item<'gc>> {
        let item = Gc::new(
            mc,
            Item {
                value: i,
                prev: None,
            },
        );
        Gc::new(
            mc,
            Item {
                value: !i,
                prev: None,
            },
        );
        item
    }

    /// A node handle as a key: hashed and compared by address.
    #[derive(Clone, Copy, Collect)]
    #[collect(no_drop)]
    struct ById<'gc>(Gc<'gc, Item<'gc>>);

    impl PartialEq for ById<'_> {
        fn eq(&self, other: &Self) -> bool {
            Gc::ptr_eq(self.0, other.0)
        }
    }

    impl Eq for ById<'_> {}

    impl Hash for ById<'_> {
        fn hash<H: Hasher>(&self, state: &mut H) {
            Gc::as_ptr(self.0).hash(state);
        }
    }

    #[derive(Collect)]
    #[collect(no_drop)]
    struct Root<'gc> {
        items: Vec<Gc<'gc, Item<'gc>>>,
        table: HashMap<ById<'gc>, u64>,
    }

    /// Allocates the live nodes into the root's list and map, each
    /// followed by a dead one if `garbage` (as `identity_items`).
    fn fill<'gc>(mc: &Mutation<'gc>, root: &mut Root<'gc>, garbage: bool) {
        let mut prev = None;
        for i in 0..ID_LIVE as u64 {
            let item = Gc::new(mc, Item { value: i, prev });
            root.items.push(item);
            root.table.insert(ById(item), i);
            if garbage {
                Gc::new(
                    mc,
                    Item {
                        value: !i,
                        prev: None,
                    },
                );
            }
            prev = Some(item);
        }
    }

    /// The arena of the identity-map workload.
    pub(super) struct MapArena(Arena<Rootable![Root<'_>]>);

    fn arena() -> Arena<Rootable![Root<'_>]> {
        Arena::new(|_| Root {
            items: Vec::with_capacity(ID_LIVE),
            table: HashMap::with_capacity(ID_LIVE),
        })
    }

    impl MapArena {
        pub(super) fn new() -> Self {
            MapArena(arena())
        }

        /// One round: untimed setup, then one full cycle timed.
        ///
        /// Each round fills a fresh arena (the last one is dropped first),
        /// as GCBench makes one per run, so that its objects lie in
        /// allocation order, as the managed heap's do. Refilling one arena
        /// round after round made its cycle 3 to 10 times slower from the
        /// third round on, by an amount that changed from round to round:
        /// the allocator hands the freed objects' blocks out again
        /// last-freed first, so the next round's objects, and the walks
        /// over them, are scattered.
        pub(super) fn round(&mut self) -> Duration {
            self.0 = arena();
            self.0.mutate_root(|mc, root| fill(mc, root, true));
            let ((), time) = cpu_time(|| self.0.finish_cycle());
            // Only the nodes are `Gc` allocations (the map's table is not).
            assert_eq!(self.0.metrics().total_gc_count(), ID_LIVE);
            time
        }

        /// Checks that every live node is found in the map, with its
        /// payload.
        pub(super) fn check(&self) {
            check(&self.0);
        }
    }

    /// The arena of the `young/` rows: `ID_LIVE` old nodes in the map,
    /// young ones added and taken out again around each timed cycle.
    pub(super) struct YoungArena(Arena<Rootable![Root<'_>]>);

    impl YoungArena {
        pub(super) fn new() -> Self {
            let mut arena = Arena::<Rootable![Root<'_>]>::new(|_| Root {
                items: Vec::with_capacity(ID_LIVE + ID_YOUNG),
                table: HashMap::with_capacity(ID_LIVE + ID_YOUNG),
            });
            arena.mutate_root(|mc, root| fill(mc, root, false));
            arena.finish_cycle();
            YoungArena(arena)
        }

        /// One round: young nodes added (each before a dead one), one full
        /// cycle timed, the young nodes taken out again.
        pub(super) fn round(&mut self) -> Duration {
            self.0.mutate_root(|mc, root| {
                for i in 0..ID_YOUNG as u64 {
                    let item = unlinked_before_garbage(mc, i);
                    root.items.push(item);
                    root.table.insert(ById(item), i);
                }
            });
            let ((), time) = cpu_time(|| self.0.finish_cycle());
            assert_eq!(self.0.metrics().total_gc_count(), ID_LIVE + ID_YOUNG);
            self.0.mutate_root(|_, root| {
                for item in root.items.drain(ID_LIVE..) {
                    root.table.remove(&ById(item));
                }
            });
            time
        }

        /// As [`MapArena::check`].
        pub(super) fn check(&self) {
            check(&self.0);
        }
    }

    /// Checks that every live node is found in the map, with its payload.
    fn check(arena: &Arena<Rootable![Root<'_>]>) {
        arena.mutate(|_, root| {
            assert_eq!((root.items.len(), root.table.len()), (ID_LIVE, ID_LIVE));
            for (i, &item) in root.items.iter().enumerate() {
                assert_eq!(item.value, i as u64);
                let prev = item.prev.map(Gc::as_ptr);
                assert_eq!(prev, i.checked_sub(1).map(|p| Gc::as_ptr(root.items[p])));
                assert_eq!(root.table.get(&ById(item)), Some(&(i as u64)));
            }
        });
    }
}

/// Young nodes added to the map before each `young/` round.
const ID_YOUNG: usize = 1_000;

/// A node with payload `i` and no link, followed by a dead one: the
/// collection moves it down over the dead one.
fn unlinked_before_garbage<'gc>(mc: &Mutation<'gc>, i: u64) -> Gc<'gc, Item<'gc>> {
    let item = Gc::new(
        mc,
        Item {
            value: i,
            prev: None,
        },
    );
    Gc::new(
        mc,
        Item {
            value: !i,
            prev: None,
        },
    );
    item
}

/// One `young/` round: adds the young nodes (each before a dead one) to a
/// map whose old nodes are dense, collects (timed), then takes the young
/// ones out again.
fn identity_young_round(heap: &mut Heap<MapRoot<'static>>) -> Duration {
    heap.mutate(|mc, root| {
        for i in 0..ID_YOUNG as u64 {
            let item = unlinked_before_garbage(mc, i);
            root.items.push(item);
            root.table.insert(item, i);
        }
    });
    let (stats, time) = cpu_time(|| heap.collect());
    assert_eq!(stats.live_objects, ID_LIVE + ID_YOUNG);
    heap.mutate(|_, root| {
        for item in root.items.drain(ID_LIVE..) {
            root.table.remove(&item);
        }
    });
    time
}

/// A map heap whose `ID_LIVE` nodes are dense (collected once, no garbage
/// between them), for the `young/` rows.
fn identity_young_heap() -> Heap<MapRoot<'static>> {
    let mut heap: Heap<MapRoot<'static>> = Heap::new(|_| MapRoot {
        items: Vec::with_capacity(ID_LIVE + ID_YOUNG),
        table: HashMap::with_capacity(ID_LIVE + ID_YOUNG),
    });
    heap.mutate(|mc, root| {
        identity_items(mc, false, |item, i| {
            root.items.push(item);
            root.table.insert(item, i);
        });
    });
    heap.collect();
    heap
}

/// The `heap/identity_map` group, with its sampling settings.
fn identity_group(c: &mut Criterion) -> BenchmarkGroup<'_, WallTime> {
    let mut g = c.benchmark_group("heap/identity_map");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    g
}

fn identity_map(c: &mut Criterion) {
    let mut map: Heap<MapRoot<'static>> = Heap::new(|_| MapRoot {
        items: Vec::with_capacity(ID_LIVE),
        table: HashMap::with_capacity(ID_LIVE),
    });
    let mut pairs: Heap<PairsRoot<'static>> = Heap::new(|_| PairsRoot {
        items: Vec::with_capacity(ID_LIVE),
        table: Vec::with_capacity(ID_LIVE),
    });
    let mut peer = identity_peer::MapArena::new();
    // One untimed round each, checked, whichever rows the filter runs.
    identity_map_round(&mut map);
    identity_map_check(&map);
    identity_pairs_round(&mut pairs);
    identity_pairs_check(&pairs);
    peer.round();
    peer.check();
    let mut g = identity_group(c);
    // gc-arena runs first: its cycle walks objects that the global
    // allocator placed, so its figure depends on what the process
    // allocated and freed before. Run after the rows below, it took
    // 3.1-5.4 ms (five runs); run first, 2.8-3.7 (six runs); alone,
    // 2.9-3.0. The managed heap's objects live in its own chunks.
    g.bench_function("gc-arena (HashMap<Gc, u64> in root)", |b| {
        b.iter_custom(|n| (0..n).map(|_| peer.round()).sum())
    });
    g.bench_function("managed::heap (HashMap<Gc, u64> in root)", |b| {
        b.iter_custom(|n| (0..n).map(|_| identity_map_round(&mut map)).sum())
    });
    // The `baseline/` qualifier keeps this row out of the pairing with
    // gc-arena: the report shows it alone, as the reference for the row
    // above (same collection, no rehash).
    g.bench_function("baseline/managed::heap (Vec<(Gc, u64)> in root)", |b| {
        b.iter_custom(|n| (0..n).map(|_| identity_pairs_round(&mut pairs)).sum())
    });
    g.finish();
    // The state the last timed collection left.
    identity_map_check(&map);
    identity_pairs_check(&pairs);
    peer.check();

    let mut young = identity_young_heap();
    identity_young_round(&mut young);
    identity_map_check(&young);
    let mut young_peer = identity_peer::YoungArena::new();
    young_peer.round();
    young_peer.check();
    let mut g = identity_group(c);
    g.bench_function("young/gc-arena (HashMap<Gc, u64> in root)", |b| {
        b.iter_custom(|n| (0..n).map(|_| young_peer.round()).sum())
    });
    g.bench_function("young/managed::heap (HashMap<Gc, u64> in root)", |b| {
        b.iter_custom(|n| (0..n).map(|_| identity_young_round(&mut young)).sum())
    });
    g.finish();
    identity_map_check(&young);
    young_peer.check();
}

// ------------------------------------------------------------ dyn_objects

/// Live objects of the trait-object workload (as many dead ones are
/// interleaved with them in the `collect/` rows).
const DYN_LIVE: usize = 100_000;

/// What the objects of the trait-object workload are seen as.
trait Shape {
    /// The shape's area.
    fn area(&self) -> f64;
    /// Makes the shape larger.
    fn grow(&mut self);
}

/// A circle: 16 bytes. The shapes carry no reference, and are the same
/// types on both sides (`Managed` for ours, `Collect` for gc-arena).
#[derive(Managed, gc_arena::Collect)]
#[collect(require_static)]
struct Circle {
    r: f64,
    scale: f64,
}

/// A rectangle: 24 bytes.
#[derive(Managed, gc_arena::Collect)]
#[collect(require_static)]
struct Rect {
    w: f64,
    h: f64,
    scale: f64,
}

/// A triangle with a corner at the origin: 40 bytes.
#[derive(Managed, gc_arena::Collect)]
#[collect(require_static)]
struct Triangle {
    b: [f64; 2],
    c: [f64; 2],
    scale: f64,
}

const _: () = assert!(size_of::<Circle>() == 16);
const _: () = assert!(size_of::<Rect>() == 24);
const _: () = assert!(size_of::<Triangle>() == 40);

impl Shape for Circle {
    fn area(&self) -> f64 {
        std::f64::consts::PI * self.r * self.r * self.scale * self.scale
    }

    fn grow(&mut self) {
        self.scale *= 1.25;
    }
}

impl Shape for Rect {
    fn area(&self) -> f64 {
        self.w * self.h * self.scale * self.scale
    }

    fn grow(&mut self) {
        self.scale *= 1.25;
    }
}

impl Shape for Triangle {
    fn area(&self) -> f64 {
        let [b, c] = [self.b, self.c];
        0.5 * (b[0] * c[1] - b[1] * c[0]).abs() * self.scale * self.scale
    }

    fn grow(&mut self) {
        self.scale *= 1.25;
    }
}

/// The `i`th object of the workload, of one of the three types in
/// rotation.
enum AnyShape {
    Circle(Circle),
    Rect(Rect),
    Triangle(Triangle),
}

/// The `i`th circle of the `baseline/` row (and of the rotation).
fn circle_at(i: usize) -> Circle {
    Circle {
        r: (i % 1000) as f64 + 1.0,
        scale: 1.0,
    }
}

fn shape_at(i: usize) -> AnyShape {
    let v = (i % 1000) as f64 + 1.0;
    match i % 3 {
        0 => AnyShape::Circle(circle_at(i)),
        1 => AnyShape::Rect(Rect {
            w: v,
            h: 2.0,
            scale: 1.0,
        }),
        _ => AnyShape::Triangle(Triangle {
            b: [v, 0.5],
            c: [1.0, 3.0],
            scale: 1.0,
        }),
    }
}

/// The objects' areas, each grown once if `grown`, computed on plain
/// values (what both sides must find).
fn dyn_areas(grown: bool) -> impl Iterator<Item = f64> {
    (0..DYN_LIVE).map(move |i| {
        let mut shape = shape_at(i);
        let s: &mut dyn Shape = match &mut shape {
            AnyShape::Circle(s) => s,
            AnyShape::Rect(s) => s,
            AnyShape::Triangle(s) => s,
        };
        if grown {
            s.grow();
        }
        s.area()
    })
}

/// The sum of the areas (checked after each collection).
fn dyn_expected(grown: bool) -> f64 {
    dyn_areas(grown).sum()
}

/// What the `dispatch/` passes compute: the wrapping sum of the areas'
/// bits. A running `f64` sum would go to the stack and back around every
/// indirect call (every `xmm` register is caller-saved), a store-to-load
/// forward in the loop's dependency chain, and the compiler spills it
/// differently in the two sides' loops (twice in ours, once in
/// gc-arena's: 590 against 339 µs); an integer sum stays in a register,
/// so the rows measure the calls.
fn dyn_expected_bits(grown: bool) -> u64 {
    dyn_areas(grown).fold(0, |acc, a| acc.wrapping_add(a.to_bits()))
}

/// The root of the trait-object workload.
#[derive(Managed)]
struct DynRoot<'gc> {
    shapes: Vec<GcDyn<'gc, dyn Shape>>,
}

/// Allocates the `i`th object, seen as a `dyn Shape`.
fn dyn_alloc<'gc>(mc: &Mutation<'gc>, i: usize) -> GcDyn<'gc, dyn Shape> {
    match shape_at(i) {
        AnyShape::Circle(s) => unsize!(Gc::new(mc, s) => dyn Shape),
        AnyShape::Rect(s) => unsize!(Gc::new(mc, s) => dyn Shape),
        AnyShape::Triangle(s) => unsize!(Gc::new(mc, s) => dyn Shape),
    }
}

/// Allocates the live objects into `shapes`, each followed by a dead one
/// of its type if `garbage`.
fn dyn_fill<'gc>(mc: &Mutation<'gc>, shapes: &mut Vec<GcDyn<'gc, dyn Shape>>, garbage: bool) {
    for i in 0..DYN_LIVE {
        shapes.push(dyn_alloc(mc, i));
        if garbage {
            dyn_alloc(mc, i);
        }
    }
}

/// The sum of the objects' areas.
fn dyn_sum(heap: &Heap<DynRoot<'static>>) -> f64 {
    heap.read(|mc, root| root.shapes.iter().map(|&s| mc[s].area()).sum())
}

/// One pass calling `area` through every handle: the timed part of the
/// `dispatch/` row (see [`dyn_expected_bits`]).
fn dyn_bits(heap: &Heap<DynRoot<'static>>) -> u64 {
    heap.read(|mc, root| {
        root.shapes
            .iter()
            .fold(0, |acc: u64, &s| acc.wrapping_add(mc[s].area().to_bits()))
    })
}

/// The heap of the `dispatch/` row: the live objects alone, each grown
/// once through its handle (`&mut mc[h]`).
fn dyn_dispatch_heap() -> Heap<DynRoot<'static>> {
    let mut heap: Heap<DynRoot<'static>> = Heap::new(|_| DynRoot {
        shapes: Vec::with_capacity(DYN_LIVE),
    });
    heap.mutate(|mc, root| {
        dyn_fill(mc, &mut root.shapes, false);
        for &s in root.shapes.iter() {
            mc[s].grow();
        }
    });
    heap
}

/// One `collect/` round: untimed setup, then one collection timed.
fn dyn_collect_round(heap: &mut Heap<DynRoot<'static>>) -> Duration {
    // Untimed: empty the heap (the root keeps its capacity), then fill it.
    heap.mutate(|_, root| root.shapes.clear());
    heap.collect();
    heap.mutate(|mc, root| dyn_fill(mc, &mut root.shapes, true));
    let (stats, time) = cpu_time(|| heap.collect());
    assert_eq!(stats.live_objects, DYN_LIVE);
    time
}

/// One `baseline/collect/` round: as [`dyn_collect_round`], with circles
/// only, in a `Vec<Gc<Circle>>`.
fn dyn_sized_round(heap: &mut Heap<Vec<Gc<'static, Circle>>>) -> Duration {
    heap.mutate(|_, circles| circles.clear());
    heap.collect();
    heap.mutate(|mc, circles| {
        for i in 0..DYN_LIVE {
            circles.push(Gc::new(mc, circle_at(i)));
            Gc::new(mc, circle_at(i));
        }
    });
    let (stats, time) = cpu_time(|| heap.collect());
    assert_eq!(stats.live_objects, DYN_LIVE);
    time
}

/// Checks the circles after a `baseline/collect/` round.
fn dyn_sized_check(heap: &Heap<Vec<Gc<'static, Circle>>>) {
    heap.read(|mc, circles| {
        assert_eq!(circles.len(), DYN_LIVE);
        for (i, &c) in circles.iter().enumerate() {
            assert_eq!(mc[c].r, circle_at(i).r);
        }
    });
}

mod dyn_peer {
    //! The trait objects on gc-arena 0.7. Its `Gc<dyn Shape>` (made by its
    //! `unsize!`) reads only; a trait object whose `&mut self` methods are
    //! called is a `Gc<RefLock<dyn Shape>>` (`unsize!` of a
    //! `Gc<RefLock<C>>`), read through `borrow` and written through
    //! `borrow_mut` (a write barrier, then `RefCell`'s check). Its objects
    //! never move: a cycle traces them and frees the dead ones.

    use std::time::Duration;

    use gc_arena::lock::RefLock;
    use gc_arena::{Arena, Gc, Mutation, Rootable, unsize};

    use super::support::cpu_time;
    use super::{AnyShape, DYN_LIVE, Shape, shape_at};

    type Shapes<'gc> = Vec<Gc<'gc, RefLock<dyn Shape>>>;

    /// Allocates the `i`th object, as `shape_at` gives it to ours.
    fn alloc<'gc>(mc: &Mutation<'gc>, i: usize) -> Gc<'gc, RefLock<dyn Shape>> {
        match shape_at(i) {
            AnyShape::Circle(s) => unsize!(Gc::new(mc, RefLock::new(s)) => RefLock<dyn Shape>),
            AnyShape::Rect(s) => unsize!(Gc::new(mc, RefLock::new(s)) => RefLock<dyn Shape>),
            AnyShape::Triangle(s) => {
                unsize!(Gc::new(mc, RefLock::new(s)) => RefLock<dyn Shape>)
            }
        }
    }

    /// A fresh arena holding the live objects, each followed by a dead one
    /// of its type if `garbage` (as `dyn_fill`).
    fn arena(garbage: bool) -> Arena<Rootable![Shapes<'_>]> {
        let mut arena = Arena::<Rootable![Shapes<'_>]>::new(|_| Vec::with_capacity(DYN_LIVE));
        arena.mutate_root(|mc, shapes| {
            for i in 0..DYN_LIVE {
                shapes.push(alloc(mc, i));
                if garbage {
                    alloc(mc, i);
                }
            }
        });
        arena
    }

    /// The sum of the objects' areas.
    fn sum(arena: &Arena<Rootable![Shapes<'_>]>) -> f64 {
        arena.mutate(|_, shapes| shapes.iter().map(|s| s.borrow().area()).sum())
    }

    /// The wrapping sum of the areas' bits (`dyn_expected_bits`).
    fn bits(arena: &Arena<Rootable![Shapes<'_>]>) -> u64 {
        arena.mutate(|_, shapes| {
            shapes.iter().fold(0, |acc: u64, s| {
                acc.wrapping_add(s.borrow().area().to_bits())
            })
        })
    }

    /// The arena of the `dispatch/` row: the live objects alone, each
    /// grown once.
    pub(super) struct DispatchArena(Arena<Rootable![Shapes<'_>]>);

    impl DispatchArena {
        pub(super) fn new() -> Self {
            let arena = arena(false);
            arena.mutate(|mc, shapes| {
                for &s in shapes {
                    s.borrow_mut(mc).grow();
                }
            });
            DispatchArena(arena)
        }

        /// One pass calling `area` through every handle (the timed part).
        pub(super) fn bits(&self) -> u64 {
            bits(&self.0)
        }
    }

    /// The arena of the `collect/` row.
    pub(super) struct CollectArena(Arena<Rootable![Shapes<'_>]>);

    impl CollectArena {
        pub(super) fn new() -> Self {
            CollectArena(arena(false))
        }

        /// One round: untimed setup, then one full cycle timed. Each round
        /// fills a fresh arena, as `identity_peer::MapArena::round` does
        /// (and for its reason: objects in allocation order), once the
        /// last round's arena is dropped. Filled while the last one was
        /// still alive, it got the blocks that the last cycle had freed
        /// (the dead objects), scattered, and its cycle took 2.3 ms in the
        /// first round, 4-6 ms from the third on, 7-16 ms in the timed
        /// rounds; dropped first, 1.7-1.8 ms in every round.
        pub(super) fn round(&mut self) -> Duration {
            self.0 = Arena::new(|_| Vec::new());
            self.0 = arena(true);
            let ((), time) = cpu_time(|| self.0.finish_cycle());
            assert_eq!(self.0.metrics().total_gc_count(), DYN_LIVE);
            time
        }

        /// The sum of the survivors' areas.
        pub(super) fn sum(&self) -> f64 {
            sum(&self.0)
        }
    }
}

/// The `heap/dyn_objects` group, with its sampling settings.
fn dyn_group(c: &mut Criterion) -> BenchmarkGroup<'_, WallTime> {
    let mut g = c.benchmark_group("heap/dyn_objects");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    g
}

fn dyn_objects(c: &mut Criterion) {
    let grown = dyn_expected_bits(true);
    let fresh = dyn_expected(false);
    let dispatch = dyn_dispatch_heap();
    let dispatch_peer = dyn_peer::DispatchArena::new();
    assert_eq!(dyn_bits(&dispatch), grown);
    assert_eq!(dispatch_peer.bits(), grown);
    let mut g = dyn_group(c);
    g.bench_function("dispatch/gc-arena (Vec<Gc<RefLock<dyn Shape>>>)", |b| {
        b.iter_custom(|n| {
            cpu_iters(n, || {
                black_box(dispatch_peer.bits());
            })
        })
    });
    g.bench_function("dispatch/managed::heap (Vec<GcDyn<dyn Shape>>)", |b| {
        b.iter_custom(|n| {
            cpu_iters(n, || {
                black_box(dyn_bits(&dispatch));
            })
        })
    });
    g.finish();

    let mut heap: Heap<DynRoot<'static>> = Heap::new(|_| DynRoot {
        shapes: Vec::with_capacity(DYN_LIVE),
    });
    let mut sized: Heap<Vec<Gc<'static, Circle>>> = Heap::new(|_| Vec::with_capacity(DYN_LIVE));
    let mut peer = dyn_peer::CollectArena::new();
    // One untimed round each, checked, whichever rows the filter runs.
    dyn_collect_round(&mut heap);
    assert_eq!(dyn_sum(&heap), fresh);
    dyn_sized_round(&mut sized);
    dyn_sized_check(&sized);
    peer.round();
    assert_eq!(peer.sum(), fresh);
    let mut g = dyn_group(c);
    // gc-arena runs first, as in `identity_map` (its figure depends on
    // what the process allocated and freed before).
    g.bench_function("collect/gc-arena (Vec<Gc<RefLock<dyn Shape>>>)", |b| {
        b.iter_custom(|n| (0..n).map(|_| peer.round()).sum())
    });
    g.bench_function("collect/managed::heap (Vec<GcDyn<dyn Shape>>)", |b| {
        b.iter_custom(|n| (0..n).map(|_| dyn_collect_round(&mut heap)).sum())
    });
    // `baseline/` keeps this row out of the pairing with gc-arena: the
    // reference for the row above (one type, one-word handles).
    g.bench_function("baseline/collect/managed::heap (Vec<Gc<Circle>>)", |b| {
        b.iter_custom(|n| (0..n).map(|_| dyn_sized_round(&mut sized)).sum())
    });
    g.finish();
    // The state the last timed collection left.
    assert_eq!(dyn_sum(&heap), fresh);
    dyn_sized_check(&sized);
    assert_eq!(peer.sum(), fresh);
}

// ---------------------------------------------------------------- held_map

/// Nodes held from outside the heap in the `held_map` workload.
const HELD_LIVE: usize = 10_000;

/// The root of the `held_map` workload: the nodes, in order.
#[derive(Managed)]
struct HeldRoot<'gc> {
    items: Vec<Gc<'gc, Item<'gc>>>,
}

/// The program's side table outside the heap, keyed by held handles.
type HeldTable = HashMap<Held<Item<'static>>, u64>;

/// One `held_map` round: untimed, the nodes are made again (each before a
/// dead one), held into `table`, and moved by a collection; timed, each
/// is looked up in `table` with a handle held anew (the first `hold`
/// after the collection reindexes the heap's held objects).
fn held_map_round(heap: &mut Heap<HeldRoot<'static>>, table: &mut HeldTable) -> Duration {
    table.clear();
    heap.mutate(|_, root| root.items.clear());
    heap.collect();
    heap.mutate(|mc, root| {
        for i in 0..HELD_LIVE as u64 {
            let item = unlinked_before_garbage(mc, i);
            root.items.push(item);
            table.insert(mc.hold(item), i);
        }
    });
    let stats = heap.collect();
    assert_eq!(stats.live_objects, HELD_LIVE);
    let (sum, time) = cpu_time(|| {
        heap.read(|mc, root| {
            let items = black_box(&root.items);
            items.iter().map(|&item| table[&mc.hold(item)]).sum::<u64>()
        })
    });
    assert_eq!(sum, (HELD_LIVE * (HELD_LIVE - 1) / 2) as u64);
    time
}

mod held_peer {
    //! The `held_map` workload on gc-arena 0.7: handles kept outside the
    //! arena are `DynamicRoot`s stashed in a `DynamicRootSet` (the root).
    //! They neither hash nor compare, and the arena never moves its
    //! objects, so a gc-arena user keys the side table by the object's
    //! address and keeps the handle beside the value.

    use std::collections::HashMap;
    use std::hint::black_box;
    use std::time::Duration;

    use gc_arena::{Arena, Collect, DynamicRoot, DynamicRootSet, Gc, Rootable};

    use super::HELD_LIVE;
    use super::identity_peer::{Item, unlinked_before_garbage};
    use super::support::cpu_time;

    #[derive(Collect)]
    #[collect(no_drop)]
    struct Root<'gc> {
        items: Vec<Gc<'gc, Item<'gc>>>,
        held: DynamicRootSet<'gc>,
    }

    pub(super) type Table = HashMap<usize, (DynamicRoot<Rootable![Item<'_>]>, u64)>;

    /// One round, as `held_map_round`: untimed, a fresh arena is filled
    /// (each node before a dead one), its nodes stashed into the table,
    /// and a full cycle run; timed, each node is looked up by address.
    pub(super) fn round(table: &mut Table) -> Duration {
        table.clear();
        let mut arena = Arena::<Rootable![Root<'_>]>::new(|mc| Root {
            items: Vec::with_capacity(HELD_LIVE),
            held: DynamicRootSet::new(mc),
        });
        arena.mutate_root(|mc, root| {
            for i in 0..HELD_LIVE as u64 {
                let item = unlinked_before_garbage(mc, i);
                root.items.push(item);
                let stashed = root.held.stash::<Rootable![Item<'_>]>(mc, item);
                table.insert(Gc::as_ptr(item) as usize, (stashed, i));
            }
        });
        arena.finish_cycle();
        let (sum, time) = cpu_time(|| {
            arena.mutate(|_, root| {
                let items = black_box(&root.items);
                items
                    .iter()
                    .map(|&item| table[&(Gc::as_ptr(item) as usize)].1)
                    .sum::<u64>()
            })
        });
        assert_eq!(sum, (HELD_LIVE * (HELD_LIVE - 1) / 2) as u64);
        table.clear();
        time
    }

    pub(super) fn table() -> Table {
        HashMap::with_capacity(HELD_LIVE)
    }
}

fn held_map(c: &mut Criterion) {
    let mut heap: Heap<HeldRoot<'static>> = Heap::new(|_| HeldRoot {
        items: Vec::with_capacity(HELD_LIVE),
    });
    let mut table: HeldTable = HashMap::with_capacity(HELD_LIVE);
    let mut peer = held_peer::table();
    let mut g = c.benchmark_group("heap/held_map");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    g.bench_function("gc-arena (HashMap<address, (DynamicRoot, u64)>)", |b| {
        b.iter_custom(|n| (0..n).map(|_| held_peer::round(&mut peer)).sum())
    });
    g.bench_function("managed::heap (HashMap<Held, u64>)", |b| {
        b.iter_custom(|n| (0..n).map(|_| held_map_round(&mut heap, &mut table)).sum())
    });
    g.finish();
}

// ------------------------------------------------------------- weak_table

/// Objects of the weak-table workload (each allocated before a dead one);
/// the root keeps every other one.
const WEAK_OBJECTS: usize = 100_000;

/// The root of the weak-table workload: a registry of objects by number
/// that keeps none of them alive.
#[derive(Managed)]
struct WeakRoot<'gc> {
    items: Vec<Gc<'gc, Item<'gc>>>,
    table: HashMap<u64, GcWeak<'gc, Item<'gc>>>,
}

/// One round: untimed, the heap is emptied and filled again (every
/// object in the table if `with_table`, every other one in the root);
/// timed, one collection, which leaves the table with the survivors'
/// entries only.
fn weak_table_round(heap: &mut Heap<WeakRoot<'static>>, with_table: bool) -> Duration {
    heap.mutate(|_, root| {
        root.items.clear();
        root.table.clear();
    });
    heap.collect();
    heap.mutate(|mc, root| {
        for i in 0..WEAK_OBJECTS as u64 {
            let item = unlinked_before_garbage(mc, i);
            if i % 2 == 0 {
                root.items.push(item);
            }
            if with_table {
                root.table.insert(i, item.downgrade());
            }
        }
    });
    let (stats, time) = cpu_time(|| heap.collect());
    assert_eq!(stats.live_objects, WEAK_OBJECTS / 2);
    time
}

/// Checks that the table holds exactly the survivors, each found.
fn weak_table_check(heap: &Heap<WeakRoot<'static>>) {
    heap.read(|mc, root| {
        assert_eq!(root.table.len(), WEAK_OBJECTS / 2);
        for (j, &item) in root.items.iter().enumerate() {
            let i = 2 * j as u64;
            assert_eq!(mc[item].value, i);
            assert!(
                root.table[&i]
                    .upgrade(mc)
                    .is_some_and(|gc| Gc::ptr_eq(gc, item))
            );
        }
    });
}

mod weak_peer {
    //! The weak-table workload on gc-arena 0.7: the same registry, a
    //! `HashMap<u64, GcWeak>` in the root. Its collector leaves the
    //! entries of dropped objects in place, so its user prunes the table
    //! after each cycle (`retain` on `GcWeak::is_dropped`), which is timed
    //! with the cycle.

    use std::collections::HashMap;
    use std::time::Duration;

    use gc_arena::{Arena, Collect, Gc, GcWeak, Rootable};

    use super::WEAK_OBJECTS;
    use super::identity_peer::{Item, unlinked_before_garbage};
    use super::support::cpu_time;

    #[derive(Collect)]
    #[collect(no_drop)]
    struct Root<'gc> {
        items: Vec<Gc<'gc, Item<'gc>>>,
        table: HashMap<u64, GcWeak<'gc, Item<'gc>>>,
    }

    pub(super) struct WeakArena(Arena<Rootable![Root<'_>]>);

    fn arena() -> Arena<Rootable![Root<'_>]> {
        Arena::new(|_| Root {
            items: Vec::with_capacity(WEAK_OBJECTS / 2),
            table: HashMap::with_capacity(WEAK_OBJECTS),
        })
    }

    impl WeakArena {
        pub(super) fn new() -> Self {
            WeakArena(arena())
        }

        /// One round, as `weak_table_round`, in a fresh arena (see
        /// `identity_peer::MapArena::round`): timed, a full cycle and
        /// the table's pruning.
        pub(super) fn round(&mut self) -> Duration {
            self.0 = arena();
            self.0.mutate_root(|mc, root| {
                for i in 0..WEAK_OBJECTS as u64 {
                    let item = unlinked_before_garbage(mc, i);
                    if i % 2 == 0 {
                        root.items.push(item);
                    }
                    root.table.insert(i, Gc::downgrade(item));
                }
            });
            let ((), time) = cpu_time(|| {
                self.0.finish_cycle();
                self.0
                    .mutate_root(|_, root| root.table.retain(|_, weak| !weak.is_dropped()));
            });
            // The dead objects are dropped, but their allocations stay
            // until the next cycle: the table's weak handles pointed at
            // them when this one swept.
            assert_eq!(self.0.metrics().total_gc_count(), WEAK_OBJECTS);
            time
        }

        /// Checks that the table holds exactly the survivors, each found.
        pub(super) fn check(&self) {
            self.0.mutate(|mc, root| {
                assert_eq!(root.table.len(), WEAK_OBJECTS / 2);
                for (j, &item) in root.items.iter().enumerate() {
                    let weak = root.table[&(2 * j as u64)];
                    assert!(weak.upgrade(mc).is_some_and(|gc| Gc::ptr_eq(gc, item)));
                }
            });
        }
    }
}

fn weak_table(c: &mut Criterion) {
    let new_heap = || -> Heap<WeakRoot<'static>> {
        Heap::new(|_| WeakRoot {
            items: Vec::with_capacity(WEAK_OBJECTS / 2),
            table: HashMap::with_capacity(WEAK_OBJECTS),
        })
    };
    let (mut heap, mut bare) = (new_heap(), new_heap());
    let mut peer = weak_peer::WeakArena::new();
    // One untimed round each, checked, whichever rows the filter runs.
    weak_table_round(&mut heap, true);
    weak_table_check(&heap);
    peer.round();
    peer.check();
    let mut g = c.benchmark_group("heap/weak_table");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    // gc-arena first, as in `identity_map`.
    g.bench_function("gc-arena (HashMap<u64, GcWeak>, cycle + retain)", |b| {
        b.iter_custom(|n| (0..n).map(|_| peer.round()).sum())
    });
    g.bench_function("managed::heap (HashMap<u64, GcWeak>, collection)", |b| {
        b.iter_custom(|n| (0..n).map(|_| weak_table_round(&mut heap, true)).sum())
    });
    // Out of the pairing (see `identity_map`): the same collection with
    // an empty table, the reference for the row above.
    g.bench_function("baseline/managed::heap (no table)", |b| {
        b.iter_custom(|n| (0..n).map(|_| weak_table_round(&mut bare, false)).sum())
    });
    g.finish();
    weak_table_check(&heap);
    peer.check();
}

// --------------------------------------------------------- ephemeron_table

/// The root of the ephemeron-table workload: the table first, so marking
/// meets every entry before the list marks its key.
#[derive(Managed)]
struct EphemeronRoot<'gc> {
    outlines: HashMap<GcWeak<'gc, Item<'gc>>, Gc<'gc, Item<'gc>>>,
    items: Vec<Gc<'gc, Item<'gc>>>,
}

/// One round: untimed, the heap is emptied and filled again (every
/// object with an outline in the table if `with_table`, every other one
/// in the root); timed, one collection, which leaves the table with the
/// survivors' entries only.
fn ephemeron_round(heap: &mut Heap<EphemeronRoot<'static>>, with_table: bool) -> Duration {
    heap.mutate(|_, root| {
        root.items.clear();
        root.outlines.clear();
    });
    heap.collect();
    heap.mutate(|mc, root| {
        for i in 0..WEAK_OBJECTS as u64 {
            let item = unlinked_before_garbage(mc, i);
            if i % 2 == 0 {
                root.items.push(item);
            }
            if with_table {
                let outline = Gc::new(
                    mc,
                    Item {
                        value: i + 1_000_000,
                        prev: Some(item),
                    },
                );
                root.outlines.insert(item.downgrade(), outline);
            }
        }
    });
    let (stats, time) = cpu_time(|| heap.collect());
    let survivors = WEAK_OBJECTS / 2 * if with_table { 2 } else { 1 };
    assert_eq!(stats.live_objects, survivors);
    time
}

/// Checks that the table holds exactly the survivors' outlines, each
/// found by its key and leading back to it.
fn ephemeron_check(heap: &Heap<EphemeronRoot<'static>>) {
    heap.read(|mc, root| {
        assert_eq!(root.outlines.len(), WEAK_OBJECTS / 2);
        for (j, &item) in root.items.iter().enumerate() {
            let outline = root.outlines[&item.downgrade()];
            assert_eq!(mc[outline].value, 2 * j as u64 + 1_000_000);
            assert!(mc[outline].prev.is_some_and(|key| Gc::ptr_eq(key, item)));
        }
    });
}

mod ephemeron_peer {
    //! The ephemeron-table workload on gc-arena 0.7: its collector traces
    //! a map's values like any others, so an outline holding its key
    //! strongly would keep the key alive; its user holds the key weakly
    //! in the outline (`Outline`, 16 bytes as ours) and prunes the table
    //! by its keys after each cycle, timed with the cycle.

    use std::collections::HashMap;
    use std::hash::{Hash, Hasher};
    use std::time::Duration;

    use gc_arena::{Arena, Collect, Gc, GcWeak, Rootable};

    use super::WEAK_OBJECTS;
    use super::identity_peer::{Item, unlinked_before_garbage};
    use super::support::cpu_time;

    /// A weak handle that hashes and compares its object's address.
    #[derive(Collect, Clone, Copy)]
    #[collect(no_drop)]
    struct ById<'gc>(GcWeak<'gc, Item<'gc>>);

    impl PartialEq for ById<'_> {
        fn eq(&self, other: &Self) -> bool {
            GcWeak::ptr_eq(self.0, other.0)
        }
    }

    impl Eq for ById<'_> {}

    impl Hash for ById<'_> {
        fn hash<H: Hasher>(&self, state: &mut H) {
            self.0.as_ptr().hash(state);
        }
    }

    #[derive(Collect)]
    #[collect(no_drop)]
    struct Outline<'gc> {
        value: u64,
        of: GcWeak<'gc, Item<'gc>>,
    }

    #[derive(Collect)]
    #[collect(no_drop)]
    struct Root<'gc> {
        outlines: HashMap<ById<'gc>, Gc<'gc, Outline<'gc>>>,
        items: Vec<Gc<'gc, Item<'gc>>>,
    }

    pub(super) struct EphemeronArena(Arena<Rootable![Root<'_>]>);

    fn arena() -> Arena<Rootable![Root<'_>]> {
        Arena::new(|_| Root {
            outlines: HashMap::with_capacity(WEAK_OBJECTS),
            items: Vec::with_capacity(WEAK_OBJECTS / 2),
        })
    }

    impl EphemeronArena {
        pub(super) fn new() -> Self {
            EphemeronArena(arena())
        }

        /// One round, as `ephemeron_round`, in a fresh arena (see
        /// `identity_peer::MapArena::round`): timed, a full cycle and the
        /// table's pruning.
        pub(super) fn round(&mut self) -> Duration {
            self.0 = arena();
            self.0.mutate_root(|mc, root| {
                for i in 0..WEAK_OBJECTS as u64 {
                    let item = unlinked_before_garbage(mc, i);
                    if i % 2 == 0 {
                        root.items.push(item);
                    }
                    let weak = Gc::downgrade(item);
                    let outline = Gc::new(
                        mc,
                        Outline {
                            value: i + 1_000_000,
                            of: weak,
                        },
                    );
                    root.outlines.insert(ById(weak), outline);
                }
            });
            let ((), time) = cpu_time(|| {
                self.0.finish_cycle();
                self.0
                    .mutate_root(|_, root| root.outlines.retain(|key, _| !key.0.is_dropped()));
            });
            time
        }

        /// Checks that the table holds exactly the survivors' outlines.
        pub(super) fn check(&self) {
            self.0.mutate(|mc, root| {
                assert_eq!(root.outlines.len(), WEAK_OBJECTS / 2);
                for (j, &item) in root.items.iter().enumerate() {
                    let outline = root.outlines[&ById(Gc::downgrade(item))];
                    assert_eq!(outline.value, 2 * j as u64 + 1_000_000);
                    assert!(
                        outline
                            .of
                            .upgrade(mc)
                            .is_some_and(|key| Gc::ptr_eq(key, item))
                    );
                }
            });
        }
    }
}

fn ephemeron_table(c: &mut Criterion) {
    let new_heap = || -> Heap<EphemeronRoot<'static>> {
        Heap::new(|_| EphemeronRoot {
            outlines: HashMap::with_capacity(WEAK_OBJECTS),
            items: Vec::with_capacity(WEAK_OBJECTS / 2),
        })
    };
    let (mut heap, mut bare) = (new_heap(), new_heap());
    let mut peer = ephemeron_peer::EphemeronArena::new();
    // One untimed round each, checked, whichever rows the filter runs.
    ephemeron_round(&mut heap, true);
    ephemeron_check(&heap);
    peer.round();
    peer.check();
    let mut g = c.benchmark_group("heap/ephemeron_table");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    // gc-arena first, as in `identity_map`.
    g.bench_function(
        "gc-arena (HashMap<GcWeak, Gc>, weak back-links, cycle + retain)",
        |b| b.iter_custom(|n| (0..n).map(|_| peer.round()).sum()),
    );
    g.bench_function("managed::heap (HashMap<GcWeak, Gc>, collection)", |b| {
        b.iter_custom(|n| (0..n).map(|_| ephemeron_round(&mut heap, true)).sum())
    });
    // Out of the pairing (see `identity_map`): the same collection with
    // an empty table, the reference for the row above.
    g.bench_function("baseline/managed::heap (no table)", |b| {
        b.iter_custom(|n| (0..n).map(|_| ephemeron_round(&mut bare, false)).sum())
    });
    g.finish();
    ephemeron_check(&heap);
    peer.check();
}

criterion_group!(
    group,
    gcbench,
    binary_trees,
    collect_1m,
    identity_map,
    held_map,
    weak_table,
    ephemeron_table,
    dyn_objects
);
criterion_main!(group);
