//! The managed heap: object graphs with shared mutable handles,
//! reclamation by reachability, compaction in one call.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};

use managed::heap::{CollectStats, Pacing};
use managed::prelude::*;

use crate::common::{Ledger, Tracked, hash_of, panic_location, panic_message};

thread_local! {
    /// Ids of the `Probe`s dropped on this thread, in order.
    static DROPPED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Takes the ids dropped so far, sorted.
fn take_dropped() -> Vec<u64> {
    let mut v = DROPPED.with(|d| std::mem::take(&mut *d.borrow_mut()));
    v.sort_unstable();
    v
}

/// Records its id when dropped; panics instead if asked to.
#[derive(Debug)]
struct Probe {
    id: u64,
    panic_on_drop: bool,
}

impl Probe {
    fn new(id: u64) -> Self {
        Probe {
            id,
            panic_on_drop: false,
        }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        DROPPED.with(|d| d.borrow_mut().push(self.id));
        if self.panic_on_drop {
            panic!("probe {} panics on drop", self.id);
        }
    }
}

#[derive(Managed)]
struct Node<'gc> {
    name: String,
    #[managed(skip)]
    probe: Probe,
    parent: Option<Gc<'gc, Node<'gc>>>,
    children: Vec<Gc<'gc, Node<'gc>>>,
}

#[derive(Managed)]
struct Scene<'gc> {
    root: Gc<'gc, Node<'gc>>,
    by_name: HashMap<String, Gc<'gc, Node<'gc>>>,
    selection: Option<Gc<'gc, Node<'gc>>>,
}

fn node<'gc>(mc: &Mutation<'gc>, id: u64, name: &str) -> Gc<'gc, Node<'gc>> {
    Gc::new(
        mc,
        Node {
            name: name.to_owned(),
            probe: Probe::new(id),
            parent: None,
            children: Vec::new(),
        },
    )
}

/// Adds a named child under `parent`, indexed by name.
fn add_child<'gc>(
    mc: &mut Mutation<'gc>,
    scene: &mut Scene<'gc>,
    parent: Gc<'gc, Node<'gc>>,
    id: u64,
    name: &str,
) -> Gc<'gc, Node<'gc>> {
    let child = node(mc, id, name);
    mc[child].parent = Some(parent);
    mc[parent].children.push(child);
    scene.by_name.insert(name.to_owned(), child);
    child
}

/// The user's own helper: collecting is one call.
fn compact_scene(heap: &mut Heap<Scene<'static>>) -> CollectStats {
    heap.collect()
}

fn new_scene() -> Heap<Scene<'static>> {
    Heap::with_chunk_size(4096, |mc| Scene {
        root: node(mc, 0, "root"),
        by_name: HashMap::new(),
        selection: None,
    })
}

/// The names on the path from `n` up to the root.
fn path<'gc>(mc: &Mutation<'gc>, mut n: Gc<'gc, Node<'gc>>) -> Vec<String> {
    let mut names = vec![mc[n].name.clone()];
    while let Some(p) = mc[n].parent {
        names.push(mc[p].name.clone());
        n = p;
    }
    names
}

#[test]
fn scene_graph_with_parent_links_index_and_selection() {
    take_dropped();
    let mut heap = new_scene();
    heap.mutate(|mc, scene| {
        let root = scene.root;
        // Garbage between the live objects, so the collection moves them.
        let mut garbage = 1000..1050;
        let mut litter = |mc: &Mutation<'_>| {
            for id in garbage.by_ref().take(10) {
                node(mc, id, "garbage");
            }
        };
        litter(mc);
        let world = add_child(mc, scene, root, 1, "world");
        litter(mc);
        let camera = add_child(mc, scene, world, 2, "camera");
        litter(mc);
        add_child(mc, scene, world, 3, "light");
        litter(mc);
        add_child(mc, scene, camera, 4, "lens");
        litter(mc);
        scene.selection = Some(camera);
    });
    let before = heap.as_ptr_of_selection();
    let stats = compact_scene(&mut heap);
    assert_eq!(stats.live_objects, 5);
    assert_eq!(stats.dropped, 50);
    assert_eq!(take_dropped(), (1000..1050).collect::<Vec<_>>());
    assert_ne!(heap.as_ptr_of_selection(), before, "the selection moved");
    heap.mutate(|mc, scene| {
        let lens = scene.by_name["lens"];
        assert_eq!(path(mc, lens), ["lens", "camera", "world", "root"]);
        let selected = scene.selection.expect("still selected");
        assert_eq!(mc[selected].name, "camera");
        assert!(mc[selected].children.contains(&lens));
        assert_eq!(mc[selected].parent, Some(scene.by_name["world"]));
        let names: Vec<_> = mc[scene.root]
            .children
            .iter()
            .map(|&c| mc[c].name.clone())
            .collect();
        assert_eq!(names, ["world"]);
    });
    drop(heap);
    assert_eq!(take_dropped(), [0, 1, 2, 3, 4]);
}

trait SelectionPtr {
    fn as_ptr_of_selection(&mut self) -> usize;
}

impl SelectionPtr for Heap<Scene<'static>> {
    fn as_ptr_of_selection(&mut self) -> usize {
        self.mutate(|_, scene| scene.selection.map_or(0, |s| s.as_ptr().addr()))
    }
}

#[test]
fn mutation_through_aliased_handles() {
    take_dropped();
    let mut heap = new_scene();
    heap.mutate(|mc, scene| {
        let root = scene.root;
        let a = add_child(mc, scene, root, 1, "a");
        scene.selection = Some(a);
        let alias = scene.by_name["a"];
        mc[alias].name.push_str("-renamed");
        let via_selection = scene.selection.unwrap();
        via_selection.get_mut(mc).name.push('!');
        assert_eq!(mc[a].name, "a-renamed!");
        // Reading two aliases at once is fine: both borrow the token shared.
        let (x, y) = (a.get(mc), alias.get(mc));
        assert!(std::ptr::eq(x, y));
    });
    heap.collect();
    heap.mutate(|mc, scene| assert_eq!(mc[scene.by_name["a"]].name, "a-renamed!"));
}

#[test]
fn unlinking_a_subtree_reclaims_it_with_each_destructor_once() {
    take_dropped();
    let mut heap = new_scene();
    heap.mutate(|mc, scene| {
        let root = scene.root;
        let keep = add_child(mc, scene, root, 1, "keep");
        let cut = add_child(mc, scene, root, 2, "cut");
        let mut parent = cut;
        for i in 0..20 {
            parent = add_child(mc, scene, parent, 10 + i, &format!("deep{i}"));
        }
        add_child(mc, scene, keep, 3, "kept-leaf");
        // The subtree's nodes point up at `root` and at each other (parent
        // links are cycles): unreachability, not reference counts, decides.
    });
    assert_eq!(compact_scene(&mut heap).dropped, 0);
    heap.mutate(|mc, scene| {
        let root = scene.root;
        let cut = scene.by_name["cut"];
        mc[root].children.retain(|&c| c != cut);
        scene
            .by_name
            .retain(|name, _| !name.starts_with("deep") && name != "cut");
    });
    assert!(
        take_dropped().is_empty(),
        "nothing is dropped before a collection"
    );
    let stats = compact_scene(&mut heap);
    assert_eq!(stats.dropped, 21);
    let mut expected: Vec<u64> = (10..30).collect();
    expected.insert(0, 2);
    assert_eq!(take_dropped(), expected);
    assert_eq!(
        compact_scene(&mut heap).dropped,
        0,
        "each destructor runs once"
    );
    assert!(take_dropped().is_empty());
    heap.mutate(|mc, scene| {
        assert_eq!(
            path(mc, scene.by_name["kept-leaf"]),
            ["kept-leaf", "keep", "root"]
        );
    });
}

#[test]
fn cycles_and_self_links_survive_while_rooted_and_die_together() {
    #[derive(Managed)]
    struct Ring<'gc> {
        value: u64,
        #[managed(skip)]
        _probe: Probe,
        next: Option<Gc<'gc, Ring<'gc>>>,
        me: Option<Gc<'gc, Ring<'gc>>>,
    }
    take_dropped();
    let mut heap: Heap<Option<Gc<'static, Ring<'static>>>> = Heap::with_chunk_size(4096, |_| None);
    heap.mutate(|mc, root| {
        let first = Gc::new(
            mc,
            Ring {
                value: 0,
                _probe: Probe::new(0),
                next: None,
                me: None,
            },
        );
        let mut prev = first;
        for i in 1..10 {
            Gc::new(
                mc,
                Ring {
                    value: 999,
                    _probe: Probe::new(100 + i),
                    next: None,
                    me: None,
                },
            );
            let r = Gc::new(
                mc,
                Ring {
                    value: i,
                    _probe: Probe::new(i),
                    next: None,
                    me: None,
                },
            );
            mc[r].me = Some(r);
            mc[prev].next = Some(r);
            prev = r;
        }
        mc[prev].next = Some(first);
        *root = Some(first);
    });
    assert_eq!(heap.collect().dropped, 9);
    assert_eq!(take_dropped(), (101..110).collect::<Vec<_>>());
    heap.mutate(|mc, root| {
        let first = root.unwrap();
        let mut r = first;
        for i in 0..10 {
            assert_eq!(mc[r].value, i);
            if i > 0 {
                assert_eq!(mc[r].me, Some(r));
            }
            r = mc[r].next.unwrap();
        }
        assert_eq!(r, first, "the ring closes");
        *root = None;
    });
    assert_eq!(heap.collect().dropped, 10);
    assert_eq!(take_dropped(), (0..10).collect::<Vec<_>>());
    assert_eq!(heap.stats().live_bytes, 0);
}

#[test]
fn a_long_chain_is_marked_without_recursion() {
    #[derive(Managed)]
    struct Link<'gc> {
        value: u64,
        next: Option<Gc<'gc, Link<'gc>>>,
    }
    let n: u64 = if cfg!(miri) { 2_000 } else { 1_000_000 };
    let mut heap: Heap<Option<Gc<'static, Link<'static>>>> = Heap::new(|_| None);
    heap.mutate(|mc, root| {
        let mut head = None;
        for value in 0..n {
            if value % 3 == 0 {
                Gc::new(mc, Link { value, next: None });
            }
            head = Some(Gc::new(mc, Link { value, next: head }));
        }
        *root = head;
    });
    let stats = heap.collect();
    assert_eq!(stats.live_objects as u64, n);
    assert_eq!(stats.live_bytes as u64, n * 16);
    assert_eq!(stats.freed_bytes as u64, n.div_ceil(3) * 16);
    heap.mutate(|mc, root| {
        let mut at = *root;
        let mut expect = n;
        while let Some(link) = at {
            expect -= 1;
            assert_eq!(mc[link].value, expect);
            at = mc[link].next;
        }
        assert_eq!(expect, 0);
    });
}

#[test]
fn a_panicking_destructor_leaves_the_heap_usable_and_nothing_dropped_twice() {
    take_dropped();
    let mut heap = new_scene();
    heap.mutate(|mc, scene| {
        let root = scene.root;
        add_child(mc, scene, root, 1, "live");
        for id in 10..20 {
            let n = node(mc, id, "garbage");
            mc[n].probe.panic_on_drop = id == 13;
        }
    });
    let result = catch_unwind(AssertUnwindSafe(|| heap.collect()));
    assert!(result.is_err(), "the destructor's panic propagates");
    let first = take_dropped();
    assert_eq!(first, (10..14).collect::<Vec<_>>(), "swept up to the panic");
    // The heap is consistent: the live graph reads back, allocation works.
    heap.mutate(|mc, scene| {
        assert_eq!(path(mc, scene.by_name["live"]), ["live", "root"]);
        let root = scene.root;
        add_child(mc, scene, root, 2, "after");
    });
    let stats = heap.collect();
    assert_eq!(stats.dropped, 6, "the rest of the garbage, once");
    assert_eq!(take_dropped(), (14..20).collect::<Vec<_>>());
    assert_eq!(stats.live_objects, 3);
    heap.mutate(|mc, scene| {
        assert_eq!(path(mc, scene.by_name["after"]), ["after", "root"]);
    });
    drop(heap);
    assert_eq!(take_dropped(), [0, 1, 2]);
}

#[test]
fn a_panicking_destructor_when_the_heap_drops_still_drops_the_rest() {
    take_dropped();
    let mut heap = new_scene();
    heap.mutate(|mc, scene| {
        let root = scene.root;
        for id in 1..6 {
            let n = add_child(mc, scene, root, id, &format!("n{id}"));
            mc[n].probe.panic_on_drop = id == 2;
        }
    });
    assert!(catch_unwind(AssertUnwindSafe(|| drop(heap))).is_err());
    assert_eq!(take_dropped(), [0, 1, 2, 3, 4, 5]);
}

#[test]
fn objects_of_every_alignment_and_size_keep_their_values_across_collections() {
    #[derive(Managed, Clone, Copy, PartialEq, Debug)]
    #[repr(align(16))]
    struct A16(u64, u8);
    #[derive(Managed, Clone, Copy, PartialEq, Debug)]
    #[repr(align(64))]
    struct A64(u32);
    #[derive(Managed, Clone, Copy, PartialEq, Debug)]
    #[repr(align(4096))]
    struct Page(u8);
    #[derive(Managed, Clone, Copy, PartialEq, Debug)]
    struct Unit;
    #[derive(Managed)]
    struct Mixed<'gc> {
        small: Vec<Gc<'gc, u8>>,
        a16: Vec<Gc<'gc, A16>>,
        a64: Vec<Gc<'gc, A64>>,
        pages: Vec<Gc<'gc, Page>>,
        units: Vec<Gc<'gc, Unit>>,
        big: Vec<Gc<'gc, [u64; 300]>>,
    }
    let rounds = if cfg!(miri) { 2 } else { 6 };
    let mut heap: Heap<Mixed<'static>> = Heap::with_chunk_size(8192, |_| Mixed {
        small: Vec::new(),
        a16: Vec::new(),
        a64: Vec::new(),
        pages: Vec::new(),
        units: Vec::new(),
        big: Vec::new(),
    });
    for round in 0..rounds {
        heap.mutate(|mc, m| {
            for i in 0..40u64 {
                let keep = i % 3 == 0;
                let s = Gc::new(mc, (i + round) as u8);
                let a = Gc::new(mc, A16(i * 7, i as u8));
                let b = Gc::new(mc, A64(i as u32 + 1));
                let u = Gc::new(mc, Unit);
                if keep {
                    m.small.push(s);
                    m.a16.push(a);
                    m.a64.push(b);
                    m.units.push(u);
                }
                if i % 10 == 0 {
                    let p = Gc::new(mc, Page(i as u8));
                    let big = Gc::new(mc, [i; 300]);
                    if keep {
                        m.pages.push(p);
                        m.big.push(big);
                    }
                }
            }
        });
        heap.collect();
        heap.mutate(|mc, m| {
            for (k, &a) in m.a16.iter().enumerate() {
                let i = (k % 14) as u64 * 3;
                assert_eq!(mc[a], A16(i * 7, i as u8));
                assert_eq!(a.as_ptr().addr() % 16, 0);
            }
            for &b in &m.a64 {
                assert_eq!(b.as_ptr().addr() % 64, 0);
                assert!(mc[b].0 % 3 == 1);
            }
            for &p in &m.pages {
                assert_eq!(p.as_ptr().addr() % 4096, 0);
                assert_eq!(mc[p].0 % 30, 0);
            }
            for &big in &m.big {
                let v = mc[big];
                assert!(v.iter().all(|&x| x == v[0]) && v[0] % 30 == 0);
            }
            assert_eq!(m.units.len(), m.small.len());
        });
    }
    let live = heap.collect().live_objects;
    assert_eq!(live, rounds as usize * (14 * 4 + 2 * 2));
}

#[test]
fn the_heap_grows_by_chunks_and_gives_empty_ones_back() {
    #[derive(Managed)]
    struct Blob {
        bytes: [u64; 15],
    }
    let mut heap: Heap<Vec<Gc<'static, Blob>>> = Heap::with_chunk_size(4096, |_| Vec::new());
    // Spare room up to half the live size (the default keeps a 256 KiB
    // budget, larger than this whole heap).
    heap.set_pacing(Pacing {
        min_bytes: 0,
        growth: 0.5,
    });
    let n = if cfg!(miri) { 200 } else { 2000 };
    heap.mutate(|mc, keep| {
        for i in 0..n {
            let b = Gc::new(mc, Blob { bytes: [i; 15] });
            if i % 10 == 0 {
                keep.push(b);
            }
        }
    });
    let grown = heap.detailed_stats();
    assert!(grown.chunks > 5, "{grown}");
    assert_eq!(grown.used_bytes, n as usize * 120);
    let stats = heap.collect();
    assert_eq!(stats.live_bytes, n as usize / 10 * 120);
    assert!(
        stats.chunks_evacuated > 5,
        "sparse chunks are emptied: {stats:?}"
    );
    assert!(stats.chunks_released > 0);
    let after = heap.detailed_stats();
    assert!(
        after.reserved_bytes < grown.reserved_bytes / 2,
        "{after} vs {grown}"
    );
    assert_eq!(after.used_bytes, stats.live_bytes);
    heap.shrink_to_fit();
    let shrunk = heap.detailed_stats();
    assert!(shrunk.reserved_bytes <= after.reserved_bytes);
    assert!(
        shrunk.reserved_bytes < stats.live_bytes * 2 + 4096,
        "dense after a collection: {shrunk}"
    );
    heap.mutate(|mc, keep| {
        for (k, &b) in keep.iter().enumerate() {
            assert_eq!(mc[b].bytes, [k as u64 * 10; 15]);
        }
    });
}

/// `compact` packs chunks that are all about two thirds live, which
/// `collect` leaves as they are: objects of two sizes, linked across
/// chunks, some with destructors, held and weakly held from outside; after
/// a first collection slid every chunk's survivors into one run (so the
/// runs must be cut between objects), and without one (the garbage
/// between survivors cuts them already).
#[test]
fn compact_packs_chunks_more_than_half_live() {
    #[derive(Managed)]
    struct Item<'gc> {
        id: u64,
        /// A destructor on every third item.
        name: Option<String>,
        pad: [u64; 3],
        prev: Option<Gc<'gc, Item<'gc>>>,
        weak_prev: Option<GcWeak<'gc, Item<'gc>>>,
    }
    #[derive(Managed)]
    struct Big<'gc> {
        id: u64,
        data: [u64; 9],
        item: Gc<'gc, Item<'gc>>,
    }
    #[derive(Managed)]
    struct Root<'gc> {
        items: Vec<Gc<'gc, Item<'gc>>>,
        bigs: Vec<Gc<'gc, Big<'gc>>>,
    }
    /// Every survivor with its value, links and destructor-owning field.
    fn check<'gc>(mc: &Mutation<'gc>, root: &Root<'gc>, n: u64) {
        let mut expected = 0;
        for (k, &item) in root.items.iter().enumerate() {
            let i = &mc[item];
            assert_eq!(i.id % 20, (k as u64 % 13), "item {k}");
            assert_eq!(i.pad, [i.id; 3]);
            assert_eq!(i.name.as_deref(), i.id.is_multiple_of(3).then_some("named"));
            let prev = k.checked_sub(1).map(|p| root.items[p]);
            assert!(i.prev.zip(prev).is_none_or(|(a, b)| Gc::ptr_eq(a, b)));
            assert_eq!(i.prev.is_some(), prev.is_some());
            let weak = i.weak_prev.and_then(|w| w.upgrade(mc));
            assert_eq!(weak.map(|w| mc[w].id), prev.map(|p| mc[p].id));
            expected += 1;
        }
        assert_eq!(expected, n * 13 / 20);
        for &big in &root.bigs {
            let b = &mc[big];
            assert_eq!(b.data, [b.id; 9]);
            assert_eq!(mc[b.item].id, b.id);
        }
    }
    let n: u64 = if cfg!(miri) { 400 } else { 4000 };
    for collect_first in [true, false] {
        let mut heap: Heap<Root<'static>> = Heap::with_chunk_size(4096, |_| Root {
            items: Vec::new(),
            bigs: Vec::new(),
        });
        let (held, weak): (Held<Item<'static>>, HeldWeak<Item<'static>>) =
            heap.mutate(|mc, root| {
                for i in 0..n {
                    let prev = root.items.last().copied();
                    let item = Gc::new(
                        mc,
                        Item {
                            id: i,
                            name: i.is_multiple_of(3).then(|| "named".to_owned()),
                            pad: [i; 3],
                            prev,
                            weak_prev: prev.map(Gc::downgrade),
                        },
                    );
                    // Survivors and garbage interleaved, 13 of every 20 kept,
                    // and a larger object beside every seventh item.
                    let big = (i % 7 == 0).then(|| {
                        Gc::new(
                            mc,
                            Big {
                                id: i,
                                data: [i; 9],
                                item,
                            },
                        )
                    });
                    if i % 20 < 13 {
                        root.items.push(item);
                        root.bigs.extend(big);
                    } else if let Some(last) = root.items.last().copied() {
                        // Garbage that points at survivors.
                        mc[item].prev = Some(last);
                    }
                }
                let middle = root.items[root.items.len() / 2];
                (mc.hold(middle), mc.hold_weak(root.items[1]))
            });
        let live = heap.read(|mc, root| {
            check(mc, root, n);
            root.items.len() + root.bigs.len()
        });
        if collect_first {
            let stats = heap.collect();
            assert_eq!(stats.live_objects, live);
            assert_eq!(stats.chunks_evacuated, 0, "every chunk is over half live");
            heap.shrink_to_fit();
        }
        let loose = heap.detailed_stats();
        let stats = heap.compact();
        heap.shrink_to_fit();
        let packed = heap.detailed_stats();
        assert!(stats.chunks_evacuated > 0, "{stats:?}");
        assert_eq!(packed.used_bytes, stats.live_bytes);
        // The objects fill the chunks they are in, but for the last one
        // of each of the two classes, and a little room at each chunk's
        // end (less than the largest object).
        let area = packed.chunk_area;
        assert!((3000..4096).contains(&area), "a 4 KiB chunk's area: {area}");
        assert!(
            packed.chunks <= stats.live_bytes.div_ceil(area - 96) + 2,
            "{packed} from {loose}: {stats:?}"
        );
        assert!(packed.chunks < loose.chunks, "{packed} from {loose}");
        heap.read(|mc, root| {
            check(mc, root, n);
            assert_eq!(mc[&held].id, mc[root.items[root.items.len() / 2]].id);
            assert_eq!(
                mc.upgrade(&weak).map(|w| mc[w].id),
                Some(mc[root.items[1]].id)
            );
        });
        // Packed already: a second compaction finds (almost) nothing to
        // gain, and keeps everything.
        heap.compact();
        heap.shrink_to_fit();
        assert!(heap.detailed_stats().chunks <= packed.chunks);
        heap.read(|mc, root| check(mc, root, n));
        drop(held);
        drop(heap);
        assert!(weak.is_dropped());
    }
}

#[test]
fn collect_if_due_follows_the_pacing() {
    let mut heap: Heap<Vec<Gc<'static, u64>>> = Heap::with_chunk_size(4096, |_| Vec::new());
    heap.set_pacing(Pacing {
        min_bytes: 800,
        growth: 1.0,
    });
    heap.mutate(|mc, _| {
        for i in 0..50u64 {
            Gc::new(mc, i);
        }
    });
    assert!(heap.collect_if_due().is_none(), "400 bytes: not due");
    heap.mutate(|mc, keep| {
        for i in 0..50u64 {
            keep.push(Gc::new(mc, i));
        }
    });
    let stats = heap.collect_if_due().expect("800 bytes: due");
    assert_eq!(stats.live_bytes, 400);
    assert_eq!(heap.detailed_stats().allocated_since_collection, 0);
}

/// A long computation kept in the root, so that it can run one step per
/// mutation with collections between steps: each step builds a list of
/// `LIST` cells and keeps the last `KEPT` lists, the older ones becoming
/// garbage.
#[derive(Managed)]
struct Stepper<'gc> {
    step: u64,
    recent: VecDeque<Gc<'gc, Link<'gc>>>,
}

const LIST: u64 = 100;
const KEPT: usize = 4;

/// The pattern the heap's docs give for a long computation: its state in
/// the root, one `mutate` per step, `collect_if_due` between steps. The
/// heap allocates far more over the run than it ever reserves, the lists
/// kept survive every collection intact, and the collections reclaim
/// exactly the lists that fell out of the window.
#[test]
fn a_long_computation_run_in_steps_collects_between_them() {
    // Steps, and bytes allocated between collections.
    let (steps, pace) = if cfg!(miri) {
        (16, 2 << 10)
    } else {
        (2_000, 16 << 10)
    };
    let mut heap: Heap<Stepper<'static>> = Heap::with_chunk_size(4096, |_| Stepper {
        step: 0,
        recent: VecDeque::new(),
    });
    heap.set_pacing(Pacing {
        min_bytes: pace,
        growth: 1.0,
    });
    let (mut collections, mut freed, mut most_reserved) = (0, 0, 0);
    for _ in 0..steps {
        heap.mutate(|mc, m| {
            m.step += 1;
            let mut head = None;
            for k in 0..LIST {
                head = Some(Gc::new(
                    mc,
                    Link {
                        value: m.step * 1000 + k,
                        next: head,
                    },
                ));
            }
            m.recent.push_back(head.expect("LIST > 0"));
            if m.recent.len() > KEPT {
                m.recent.pop_front();
            }
            // Every list kept is intact, whatever moved it.
            for (age, &list) in m.recent.iter().rev().enumerate() {
                let step = m.step - age as u64;
                assert_eq!(
                    chain_values(mc, Some(list)).iter().sum::<u64>(),
                    step * 1000 * LIST + LIST * (LIST - 1) / 2
                );
            }
        });
        if let Some(stats) = heap.collect_if_due() {
            collections += 1;
            freed += stats.freed_bytes;
            assert_eq!(
                stats.live_objects,
                heap.mutate(|_, m| m.recent.len()) * LIST as usize
            );
        }
        most_reserved = most_reserved.max(heap.stats().reserved_bytes);
    }
    assert!(
        collections > 0 && collections >= steps / 20,
        "{collections} collections in {steps} steps"
    );
    // What the heap holds is bounded by the window and the pacing, not by
    // the run's length (2,000 steps allocate 3.2 MB natively).
    let window = (KEPT + 1) * LIST as usize * size_of::<Link<'static>>();
    assert!(
        most_reserved <= 4 * (window + pace),
        "{most_reserved} bytes reserved at most, for a window of {window} bytes"
    );
    let last = heap.collect();
    assert_eq!(
        freed + last.freed_bytes,
        (steps - KEPT) * LIST as usize * size_of::<Link<'static>>(),
        "every list that left the window was reclaimed, and nothing else"
    );
}

#[test]
fn handles_in_a_hashmap_root_and_in_nested_containers_are_rewritten() {
    type Map<'gc> = HashMap<String, (Gc<'gc, u64>, Vec<Option<Gc<'gc, String>>>)>;
    let mut heap: Heap<Map<'static>> = Heap::with_chunk_size(4096, |_| HashMap::new());
    heap.mutate(|mc, map| {
        for i in 0..30u64 {
            Gc::new(mc, String::from("garbage"));
            let v = Gc::new(mc, i);
            let names = vec![Some(Gc::new(mc, format!("name{i}"))), None];
            map.insert(format!("k{i}"), (v, names));
        }
    });
    assert_eq!(heap.collect().dropped, 30);
    heap.mutate(|mc, map| {
        for i in 0..30u64 {
            let (v, names) = &map[&format!("k{i}")];
            assert_eq!(mc[*v], i);
            assert_eq!(mc[names[0].unwrap()], format!("name{i}"));
        }
    });
}

#[test]
fn a_pool_in_the_root_holds_handles_and_heap_objects_hold_pool_keys() {
    use managed::contiguous::DefaultKey;

    /// A heap object that pool objects point at; it names them by key.
    #[derive(Managed)]
    struct Target {
        label: String,
        tracked_by: Vec<DefaultKey>,
    }

    /// A pool object holding a heap handle.
    #[derive(Managed)]
    struct Particle<'gc> {
        x: f32,
        target: Gc<'gc, Target>,
    }

    #[derive(Managed)]
    struct World<'gc> {
        particles: ContiguousUniformPool<Particle<'gc>>,
        by_name: HashMap<String, DefaultKey>,
    }

    let mut heap: Heap<World<'static>> = Heap::with_chunk_size(4096, |_| World {
        particles: ContiguousUniformPool::new(),
        by_name: HashMap::new(),
    });
    heap.mutate(|mc, world| {
        for i in 0..40 {
            // Garbage first, so the targets move at the collection.
            Gc::new(mc, String::from("garbage"));
            let target = Gc::new(
                mc,
                Target {
                    label: format!("t{i}"),
                    tracked_by: Vec::new(),
                },
            );
            for k in 0..2 {
                let key = world.particles.insert(Particle {
                    x: (i * 2 + k) as f32,
                    target,
                });
                mc[target].tracked_by.push(key);
                world.by_name.insert(format!("p{i}.{k}"), key);
            }
        }
        // Particles of odd targets leave the pool: their targets become
        // unreachable.
        world.particles.retain(|_, p| (p.x as i32 / 2) % 2 == 0);
    });
    let stats = heap.collect();
    assert_eq!(
        stats.live_objects, 20,
        "the even targets, reached only through the pool"
    );
    assert_eq!(
        stats.dropped,
        40 + 20,
        "the garbage strings and the odd targets"
    );
    heap.mutate(|mc, world| {
        let mut seen = 0;
        world.particles.map_with_key(|key, p| {
            let target = &mc[p.target];
            assert!(target.tracked_by.contains(&key), "the handle was rewritten");
            assert_eq!(target.label, format!("t{}", p.x as i32 / 2));
            seen += 1;
        });
        assert_eq!(seen, 40);
        let key = world.by_name["p4.1"];
        let target = world
            .particles
            .get(key)
            .expect("even particles stay")
            .target;
        assert_eq!(mc[target].label, "t4");
        assert!(world.particles.get(world.by_name["p5.0"]).is_none());
    });
}

/// A cell of a chain: a value and the next cell, if any.
#[derive(Managed)]
struct Link<'gc> {
    value: u64,
    next: Option<Gc<'gc, Link<'gc>>>,
}

#[derive(Managed)]
struct Chains<'gc> {
    /// Built first: its cells fill the oldest chunks. Cells allocated
    /// later are reachable only through these.
    old: Vec<Gc<'gc, Link<'gc>>>,
}

/// The values of the chain from `first`, in order.
fn chain_values<'gc>(mc: &Mutation<'gc>, mut at: Option<Gc<'gc, Link<'gc>>>) -> Vec<u64> {
    let mut values = Vec::new();
    while let Some(cell) = at {
        values.push(mc[cell].value);
        at = mc[cell].next;
    }
    values
}

/// The collector does not read the objects whose handles can only point
/// into chunks that stay in place: old objects pointing at young objects
/// that move, old objects pointing at old objects behind a hole that
/// moves, and old objects pointing only at old objects that stay, all keep
/// handles that lead to the right values over many collections.
#[test]
fn handles_from_old_chunks_follow_young_and_old_objects_that_move() {
    // Small chunks, so that a few hundred cells span many of them.
    let cells = if cfg!(miri) { 120 } else { 3000 };
    let mut heap: Heap<Chains<'static>> = Heap::with_chunk_size(4096, |mc| {
        let old = (0..cells)
            .map(|i| {
                Gc::new(
                    mc,
                    Link {
                        value: i,
                        next: None,
                    },
                )
            })
            .collect();
        Chains { old }
    });
    for round in 0..6u64 {
        let expected = heap.mutate(|mc, root| {
            // The young cells of this round, by the old cell they hang from.
            let mut young_cells = Vec::new();
            for (i, &cell) in root.old.clone().iter().enumerate() {
                match (i + round as usize) % 4 {
                    // A young cell that survives, hung from an old one.
                    0 => {
                        let young = Gc::new(
                            mc,
                            Link {
                                value: 1_000_000 + round * 10_000 + i as u64,
                                next: None,
                            },
                        );
                        mc[cell].next = Some(young);
                        young_cells.push((i, young));
                    }
                    // Garbage between the young cells: they slide down.
                    1 => {
                        let _ = Gc::new(
                            mc,
                            Link {
                                value: 0,
                                next: None,
                            },
                        );
                    }
                    // An old cell points at a later old cell.
                    2 if i + 7 < root.old.len() => {
                        let target = root.old[i + 7];
                        mc[cell].next = Some(target);
                    }
                    // An old cell points at a young cell that an old cell
                    // in an earlier chunk holds too: marked already when
                    // this one is traced.
                    _ => {
                        if let Some(&(_, young)) =
                            young_cells.iter().rev().find(|&&(at, _)| at + 40 <= i)
                        {
                            mc[cell].next = Some(young);
                        }
                    }
                }
            }
            // Drop every fifth old cell from the root: a hole in an old
            // chunk wherever nothing else points at it, so that the old
            // cells behind it move.
            if round == 2 {
                let mut i = 0;
                root.old.retain(|_| {
                    i += 1;
                    i % 5 != 0
                });
            }
            root.old
                .iter()
                .map(|&c| chain_values(mc, Some(c)))
                .collect::<Vec<_>>()
        });
        heap.collect();
        heap.mutate(|mc, root| {
            for (i, &cell) in root.old.iter().enumerate() {
                assert_eq!(
                    chain_values(mc, Some(cell)),
                    expected[i],
                    "cell {i}, round {round}"
                );
            }
        });
    }
}

/// An object whose only handle into a moving chunk points at an object
/// marked already (through an object traced earlier) still has that
/// handle rewritten.
#[test]
fn a_handle_to_an_object_marked_earlier_is_rewritten_when_it_moves() {
    let per_chunk = 4096 / 16;
    let mut heap: Heap<Chains<'static>> = Heap::with_chunk_size(4096, |mc| {
        // Two runs of old cells, each filling its own chunks.
        let old = (0..4 * per_chunk as u64)
            .map(|i| {
                Gc::new(
                    mc,
                    Link {
                        value: i,
                        next: None,
                    },
                )
            })
            .collect();
        Chains { old }
    });
    heap.collect();
    heap.mutate(|mc, root| {
        // Garbage, then the young cell: it slides down over the garbage.
        for _ in 0..100 {
            let _ = Gc::new(
                mc,
                Link {
                    value: 0,
                    next: None,
                },
            );
        }
        let young = Gc::new(
            mc,
            Link {
                value: 77,
                next: None,
            },
        );
        // Held by a cell of the first run (traced first) and by one of the
        // last run, whose chunk holds no other handle.
        let first = root.old[0];
        let last = root.old[root.old.len() - 1];
        mc[first].next = Some(young);
        mc[last].next = Some(young);
    });
    let stats = heap.collect();
    assert_eq!(stats.freed_bytes, 100 * 16);
    heap.mutate(|mc, root| {
        let last = root.old[root.old.len() - 1];
        let first = root.old[0];
        assert_eq!(chain_values(mc, Some(first)), [0, 77]);
        assert_eq!(chain_values(mc, Some(last)), [4 * per_chunk as u64 - 1, 77]);
        assert!(mc[first].next.unwrap() == mc[last].next.unwrap());
    });
}

/// Handles held outside the heap (in a `Vec` of the program's) keep their
/// objects and what those reach alive across collections that move them,
/// and release them when the last clone is dropped; each object is
/// dropped once.
#[test]
fn held_handles_keep_objects_alive_follow_moves_and_release_them() {
    take_dropped();
    let n = if cfg!(miri) { 24 } else { 600 };
    let mut heap: Heap<()> = Heap::with_chunk_size(4096, |_| ());
    // Every third node is held, each with one child; the others are
    // garbage between them, so that every collection moves the held ones.
    let mut held: Vec<Held<Node<'static>>> = heap.mutate(|mc, ()| {
        let mut held = Vec::new();
        for i in 0..n {
            let parent = node(mc, 2 * i, &format!("n{i}"));
            let child = node(mc, 2 * i + 1, &format!("c{i}"));
            mc[child].parent = Some(parent);
            mc[parent].children.push(child);
            if i % 3 == 0 {
                held.push(mc.hold(parent));
            }
        }
        held
    });
    let kept = held.len() as u64;
    assert_eq!(heap.detailed_stats().held, held.len());
    let addresses = |heap: &mut Heap<()>, held: &[Held<Node<'static>>]| -> Vec<usize> {
        heap.mutate(|mc, ()| held.iter().map(|h| mc.fetch(h).as_ptr().addr()).collect())
    };
    let before = addresses(&mut heap, &held);
    let stats = heap.collect();
    assert_eq!(stats.live_objects as u64, 2 * kept);
    assert_eq!(take_dropped().len() as u64, 2 * (n - kept));
    let after = addresses(&mut heap, &held);
    assert_ne!(before, after, "the held objects moved");
    heap.mutate(|mc, ()| {
        for (k, h) in held.iter().enumerate() {
            let i = 3 * k;
            assert_eq!(mc[h].name, format!("n{i}"));
            let child = mc[h].children[0];
            assert_eq!(mc[child].name, format!("c{i}"));
            assert!(Gc::ptr_eq(mc[child].parent.unwrap(), mc.fetch(h)));
            mc[h].name.push('!');
        }
    });
    // A clone holds the same object; the object stays until both go.
    let clone = held[0].clone();
    assert!(Held::ptr_eq(&clone, &held[0]));
    assert!(!Held::ptr_eq(&held[1], &held[0]));
    held.remove(0);
    heap.collect();
    assert!(take_dropped().is_empty());
    assert_eq!(heap.mutate(|mc, ()| mc[&clone].name.clone()), "n0!");
    drop(clone);
    // Every other handle released: exactly those nodes and children go.
    let released: Vec<u64> = (1..held.len())
        .step_by(2)
        .flat_map(|k| [6 * (k as u64 + 1), 6 * (k as u64 + 1) + 1])
        .collect();
    let mut k = 0;
    held.retain(|_| {
        k += 1;
        k % 2 == 1
    });
    let stats = heap.collect();
    let mut expected = vec![0, 1];
    expected.extend(released);
    expected.sort_unstable();
    assert_eq!(take_dropped(), expected);
    assert_eq!(stats.live_objects, 2 * held.len());
    assert_eq!(heap.detailed_stats().held, held.len());
    heap.mutate(|mc, ()| {
        for h in &held {
            let name = mc[h].name.clone();
            assert!(name.starts_with('n') && name.ends_with('!'), "{name}");
        }
    });
    drop(heap);
    assert_eq!(take_dropped().len(), 2 * held.len());
    // The handles outlive their heap: dropping them touches nothing freed.
    drop(held);
}

/// A handle is redeemed by its own heap only: another heap's mutation
/// refuses it, with a panic at the caller's line or `None`, and so does a
/// heap made after its own was dropped.
#[test]
fn a_held_handle_is_refused_by_another_heap() {
    let mut a: Heap<()> = Heap::new(|_| ());
    let mut b: Heap<()> = Heap::new(|_| ());
    let held: Held<u64> = a.mutate(|mc, ()| mc.hold(Gc::new(mc, 7u64)));
    assert_eq!(a.mutate(|mc, ()| mc[&held]), 7);
    assert!(b.mutate(|mc, ()| mc.try_fetch(&held).is_none()));
    let refused = catch_unwind(AssertUnwindSafe(|| {
        b.mutate(|mc, ()| {
            let _ = mc.fetch(&held);
        })
    }));
    assert_eq!(
        panic_message(refused),
        "a `Held` handle was fetched in a mutation of another heap than its own"
    );
    let here = file!();
    let (file, line) = panic_location(|| {
        b.mutate(|mc, ()| mc[&held] += 1);
    });
    assert_eq!((file.as_str(), line), (here, line!() - 2));
    let (file, line) = panic_location(|| {
        b.mutate(|mc, ()| {
            let _ = mc.fetch(&held);
        });
    });
    assert_eq!((file.as_str(), line), (here, line!() - 3));
    drop(a);
    let mut c: Heap<()> = Heap::new(|_| ());
    assert!(c.mutate(|mc, ()| mc.try_fetch(&held).is_none()));
    assert!(b.mutate(|mc, ()| mc.try_fetch(&held).is_none()));
}

/// Holding and dropping handles without ever collecting keeps the heap's
/// table of held objects at a few entries: a full table first unlists
/// the handles dropped since.
#[test]
fn holding_and_dropping_without_collecting_keeps_the_table_small() {
    let rounds = if cfg!(miri) { 50 } else { 10_000 };
    let mut heap: Heap<Vec<Gc<'static, u64>>> = Heap::new(|mc| vec![Gc::new(mc, 1u64)]);
    let keep: Held<u64> = heap.mutate(|mc, root| mc.hold(root[0]));
    let reserved = heap.stats().reserved_bytes;
    for i in 0..rounds {
        heap.mutate(|mc, root| {
            let h: Held<u64> = mc.hold(root[0]);
            mc[&h] += i;
        });
        assert!(heap.detailed_stats().held <= 4);
    }
    assert_eq!(heap.stats().reserved_bytes, reserved);
    heap.collect();
    assert_eq!(heap.detailed_stats().held, 1);
    assert_eq!(heap.mutate(|mc, _| mc[&keep]), 1 + (0..rounds).sum::<u64>());
}

/// A held handle stored inside an object of its own heap roots that
/// object like an `Rc` cycle: it lives as long as the heap, and is dropped
/// once, with the heap.
#[test]
fn a_handle_held_inside_its_own_heap_lives_as_long_as_the_heap() {
    #[derive(Managed)]
    struct Owner {
        #[managed(skip)]
        _probe: Probe,
        me: Option<Held<Owner>>,
    }
    take_dropped();
    let mut heap: Heap<()> = Heap::new(|_| ());
    heap.mutate(|mc, ()| {
        let owner = Gc::new(
            mc,
            Owner {
                _probe: Probe::new(42),
                me: None,
            },
        );
        let me = mc.hold(owner);
        mc[owner].me = Some(me);
    });
    assert_eq!(heap.collect().live_objects, 1);
    assert!(take_dropped().is_empty());
    drop(heap);
    assert_eq!(take_dropped(), [42]);
}

/// The program's view of a document, read through `&self`.
struct DocumentView {
    heap: Heap<Scene<'static>>,
}

impl DocumentView {
    /// The names under the root, read through a shared borrow.
    fn names(&self) -> Vec<String> {
        self.heap.read(|mc, scene| {
            let root = scene.root;
            mc[root]
                .children
                .iter()
                .map(|&c| mc[c].name.clone())
                .collect()
        })
    }
}

/// `read` borrows the heap shared: reads nest, run from `&self` methods,
/// see what mutations wrote, and may allocate and hold objects (which a
/// later collection keeps only if held).
#[test]
fn reads_borrow_the_heap_shared_and_nest() {
    take_dropped();
    let mut reader = DocumentView { heap: new_scene() };
    reader.heap.mutate(|mc, scene| {
        let root = scene.root;
        add_child(mc, scene, root, 1, "a");
        add_child(mc, scene, root, 2, "b");
    });
    assert_eq!(reader.names(), ["a", "b"]);
    let heap = &reader.heap;
    let (outer, inner, held) = heap.read(|mc, scene| {
        let a = scene.by_name["a"];
        let inner = heap.read(|mc2, scene2| {
            let b = scene2.by_name["b"];
            (mc2[b].name.clone(), heap.stats().live_bytes)
        });
        node(mc, 3, "garbage");
        let kept: Held<Node<'static>> = mc.hold(node(mc, 4, "held"));
        (mc[a].name.clone(), inner, kept)
    });
    assert_eq!((outer.as_str(), inner.0.as_str()), ("a", "b"));
    assert!(inner.1 > 0);
    let stats = reader.heap.collect();
    assert_eq!((stats.live_objects, stats.dropped), (4, 1));
    assert_eq!(take_dropped(), [3]);
    assert_eq!(reader.heap.read(|mc, _| mc[&held].name.clone()), "held");
    drop(held);
    reader.heap.collect();
    assert_eq!(take_dropped(), [4]);
}

/// A cache that must not keep its entries alive: weak handles.
#[derive(Managed)]
struct Cached<'gc> {
    strong: Vec<Gc<'gc, Node<'gc>>>,
    weak: Vec<GcWeak<'gc, Node<'gc>>>,
    big: Vec<GcWeak<'gc, [u64; 2048]>>,
}

/// Weak handles do not keep their objects alive: once a collection drops
/// an object, its weak handles upgrade to `None`; the objects that survive
/// move, and their weak handles follow them. Large objects too.
#[test]
fn weak_handles_forget_dropped_objects_and_follow_moved_ones() {
    take_dropped();
    let n = if cfg!(miri) { 40 } else { 900 };
    let mut heap: Heap<Cached<'static>> = Heap::with_chunk_size(4096, |_| Cached {
        strong: Vec::new(),
        weak: Vec::new(),
        big: Vec::new(),
    });
    heap.mutate(|mc, c| {
        for i in 0..n {
            let object = node(mc, i, &format!("n{i}"));
            c.weak.push(object.downgrade());
            if i % 3 == 0 {
                c.strong.push(object);
            }
        }
        for i in 0..4u64 {
            let big = Gc::new(mc, [i; 2048]);
            c.big.push(big.downgrade());
        }
        // Unreachable but not collected yet: still there.
        assert!(c.weak.iter().all(|w| w.upgrade(mc).is_some()));
    });
    let stats = heap.collect();
    assert_eq!(stats.live_objects as u64, n.div_ceil(3));
    let dropped = take_dropped();
    assert_eq!(dropped, (0..n).filter(|i| i % 3 != 0).collect::<Vec<_>>());
    heap.mutate(|mc, c| {
        for (i, w) in c.weak.iter().enumerate() {
            match w.upgrade(mc) {
                Some(object) => {
                    assert_eq!(i % 3, 0);
                    assert_eq!(mc[object].name, format!("n{i}"));
                    assert!(Gc::ptr_eq(object, c.strong[i / 3]));
                }
                None => {
                    assert_ne!(i % 3, 0);
                    assert!(w.is_dropped());
                }
            }
        }
        assert!(c.big.iter().all(|w| w.upgrade(mc).is_none()));
        // Upgrading an unreachable object revives it if stored.
        let revived = node(mc, 10_000, "revived");
        c.weak.push(revived.downgrade());
        let again = c.weak.last().unwrap().upgrade(mc).unwrap();
        c.strong.push(again);
    });
    heap.collect();
    assert!(take_dropped().is_empty());
    heap.mutate(|mc, c| {
        let last = c.weak.last().unwrap().upgrade(mc).unwrap();
        assert_eq!(mc[last].name, "revived");
        c.strong.clear();
    });
    heap.collect();
    assert_eq!(take_dropped().len() as u64, n.div_ceil(3) + 1);
    heap.mutate(|mc, c| assert!(c.weak.iter().all(|w| w.upgrade(mc).is_none())));
}

/// The collector skips the objects whose handles point only into chunks
/// that stay in place; an object holding weak handles is still visited
/// whenever their objects move or die. Here old holders (in chunks that
/// never move) point weakly at young objects, half of which die while the
/// rest slide, or only at old objects whose whole chunks die and at large
/// objects that die, while the only chunks that move are young.
#[test]
fn weak_handles_in_old_objects_forget_young_and_old_objects_that_die() {
    take_dropped();
    let n = if cfg!(miri) { 60 } else { 600 };
    // Each type in an alignment class of its own, so in chunks of its own:
    // the holders' never move, the old objects' die whole.
    #[derive(Managed)]
    #[repr(align(16))]
    struct Holder<'gc> {
        young: Vec<GcWeak<'gc, Node<'gc>>>,
        old: Vec<GcWeak<'gc, Old>>,
        big: Vec<GcWeak<'gc, [u64; 2048]>>,
    }
    #[derive(Managed)]
    #[repr(align(32))]
    struct Old {
        #[managed(skip)]
        _probe: Probe,
    }
    #[derive(Managed)]
    struct Root<'gc> {
        holders: Vec<Gc<'gc, Holder<'gc>>>,
        old: Vec<Gc<'gc, Old>>,
        big: Vec<Gc<'gc, [u64; 2048]>>,
        young: Vec<Gc<'gc, Node<'gc>>>,
    }
    let mut heap: Heap<Root<'static>> = Heap::with_chunk_size(4096, |mc| Root {
        holders: (0..8)
            .map(|_| {
                let holder = Holder {
                    young: Vec::new(),
                    old: Vec::new(),
                    big: Vec::new(),
                };
                Gc::new(mc, holder)
            })
            .collect(),
        old: (0..n)
            .map(|i| {
                Gc::new(
                    mc,
                    Old {
                        _probe: Probe::new(i),
                    },
                )
            })
            .collect(),
        big: (0..4u64).map(|i| Gc::new(mc, [i; 2048])).collect(),
        young: Vec::new(),
    });
    heap.collect();
    heap.mutate(|mc, r| {
        for i in 0..n {
            let young = node(mc, n + i, "young");
            r.young.push(young);
            let h = r.holders[(i % 4) as usize];
            mc[h].young.push(young.downgrade());
            let old = r.old[i as usize];
            let h = r.holders[4 + (i % 4) as usize];
            mc[h].old.push(old.downgrade());
        }
        for (i, &big) in r.big.iter().enumerate() {
            let h = r.holders[4 + i];
            mc[h].big.push(big.downgrade());
        }
    });
    // Every second young node dies (the survivors slide), and the old
    // objects all die; then the large ones.
    heap.mutate(|_, r| {
        let mut k = 0;
        r.young.retain(|_| {
            k += 1;
            k % 2 == 0
        });
        r.old.clear();
    });
    heap.collect();
    assert_eq!(take_dropped().len() as u64, n + n / 2);
    let young_alive = |heap: &mut Heap<Root<'static>>| {
        heap.read(|mc, r| {
            let mut alive = 0;
            for &h in &r.holders {
                for w in &mc[h].young {
                    if let Some(object) = w.upgrade(mc) {
                        assert_eq!(mc[object].name, "young");
                        assert_eq!(mc[object].probe.id % 2, 1);
                        alive += 1;
                    }
                }
                assert!(mc[h].old.iter().all(|w| w.is_dropped()));
            }
            assert_eq!(alive, r.young.len());
        });
    };
    young_alive(&mut heap);
    heap.read(|mc, r| {
        for &h in &r.holders {
            assert!(mc[h].big.iter().all(|w| w.upgrade(mc).is_some()));
        }
    });
    // Nothing else dies or moves now.
    heap.mutate(|_, r| r.big.clear());
    heap.collect();
    young_alive(&mut heap);
    heap.read(|mc, r| {
        for &h in &r.holders {
            assert!(mc[h].big.iter().all(|w| w.is_dropped()));
        }
    });
}

/// A destructor that panics cuts a collection short (nothing moves); weak
/// handles to the objects it found unreachable are dead all the same, so
/// none upgrades to a dropped object.
#[test]
fn weak_handles_forget_when_a_destructor_panics() {
    take_dropped();
    let mut heap: Heap<Cached<'static>> = Heap::with_chunk_size(4096, |_| Cached {
        strong: Vec::new(),
        weak: Vec::new(),
        big: Vec::new(),
    });
    heap.mutate(|mc, c| {
        for i in 0..10 {
            let object = node(mc, i, "x");
            if i == 4 {
                mc[object].probe.panic_on_drop = true;
            }
            c.weak.push(object.downgrade());
            if i % 2 == 1 {
                c.strong.push(object);
            }
        }
    });
    let result = catch_unwind(AssertUnwindSafe(|| heap.collect()));
    assert_eq!(panic_message(result), "probe 4 panics on drop");
    let dropped = take_dropped();
    assert!(dropped.contains(&4));
    heap.mutate(|mc, c| {
        for (i, w) in c.weak.iter().enumerate() {
            assert_eq!(w.upgrade(mc).is_some(), i % 2 == 1, "{i}");
        }
    });
    heap.collect();
    let mut all = dropped;
    all.extend(take_dropped());
    all.sort_unstable();
    assert_eq!(all, [0, 2, 4, 6, 8]);
}

// ------------------------------------------------------- objects as keys

/// A node ranked for an ordered index: ordered by rank, then by the
/// node's address (which a collection changes).
#[derive(Managed, Clone, Copy, PartialEq, Eq, Hash, Debug)]
struct Ranked<'gc> {
    rank: u32,
    node: Gc<'gc, Node<'gc>>,
}

impl PartialOrd for Ranked<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.rank, self.node.as_ptr()).cmp(&(other.rank, other.node.as_ptr()))
    }
}

/// An editor's state, keyed by the objects themselves.
#[derive(Managed)]
struct Keyed<'gc> {
    /// Every node, in creation order (the ground truth).
    all: Vec<Gc<'gc, Node<'gc>>>,
    selection: HashSet<Gc<'gc, Node<'gc>>>,
    /// Per-node data whose values count their drops (`Probe` is a plain
    /// type without the derive: `Static` makes it `Managed`).
    notes: HashMap<Gc<'gc, Node<'gc>>, Static<Probe>>,
    ranked: BTreeSet<Ranked<'gc>>,
    /// Keys whose handles sit behind a pointer.
    pairs: HashMap<Vec<Gc<'gc, Node<'gc>>>, usize>,
    /// An object that holds a map keyed by other objects.
    index: Gc<'gc, Index<'gc>>,
}

#[derive(Managed)]
struct Index<'gc> {
    by_node: BTreeMap<Ranked<'gc>, Gc<'gc, String>>,
}

#[test]
fn objects_as_keys_are_found_after_every_collection_moves_them() {
    const N: u64 = if cfg!(miri) { 24 } else { 300 };
    let mut heap: Heap<Keyed<'static>> = Heap::with_chunk_size(4096, |mc| Keyed {
        all: Vec::new(),
        selection: HashSet::new(),
        notes: HashMap::new(),
        ranked: BTreeSet::new(),
        pairs: HashMap::new(),
        index: Gc::new(
            mc,
            Index {
                by_node: BTreeMap::new(),
            },
        ),
    });
    heap.mutate(|mc, k| {
        for i in 0..N {
            // Garbage between the nodes: every collection slides them.
            node(mc, 10_000 + i, "garbage");
            let n = node(mc, i, &format!("n{i}"));
            k.all.push(n);
            if i.is_multiple_of(3) {
                k.selection.insert(n);
            }
            k.notes.insert(n, Static(Probe::new(1_000_000 + i)));
            k.ranked.insert(Ranked {
                rank: (i % 5) as u32,
                node: n,
            });
            let label = Gc::new(mc, format!("label{i}"));
            mc[k.index].by_node.insert(
                Ranked {
                    rank: (i % 7) as u32,
                    node: n,
                },
                label,
            );
        }
        for w in k.all.windows(2) {
            k.pairs.insert(w.to_vec(), k.pairs.len());
        }
    });
    let check = |heap: &mut Heap<Keyed<'static>>| {
        heap.read(|mc, k| {
            assert_eq!(k.notes.len(), N as usize);
            for (i, &n) in k.all.iter().enumerate() {
                let i = i as u64;
                assert_eq!(mc[n].name, format!("n{i}"));
                assert_eq!(k.selection.contains(&n), i.is_multiple_of(3), "{i}");
                assert_eq!(k.notes[&n].id, 1_000_000 + i);
                assert!(k.ranked.contains(&Ranked {
                    rank: (i % 5) as u32,
                    node: n
                }));
                let label = mc[k.index].by_node[&Ranked {
                    rank: (i % 7) as u32,
                    node: n,
                }];
                assert_eq!(mc[label], format!("label{i}"));
            }
            for (j, w) in k.all.windows(2).enumerate() {
                assert_eq!(k.pairs[w], j);
            }
            // The ordered containers are in the order of the new addresses.
            assert!(
                k.ranked
                    .iter()
                    .zip(k.ranked.iter().skip(1))
                    .all(|(a, b)| a < b)
            );
            let ranks: Vec<u32> = mc[k.index].by_node.keys().map(|r| r.rank).collect();
            assert!(ranks.is_sorted());
        })
    };
    let before: Vec<usize> = heap.read(|_, k| k.all.iter().map(|n| n.as_ptr().addr()).collect());
    let stats = heap.collect();
    assert_eq!(stats.dropped, N as usize);
    let moved = heap.read(|_, k| {
        k.all
            .iter()
            .zip(&before)
            .filter(|(n, b)| n.as_ptr().addr() != **b)
            .count()
    });
    assert!(
        moved as u64 >= N / 2,
        "the collection moved most keys ({moved} of {N})"
    );
    check(&mut heap);
    assert_eq!(take_dropped(), (10_000..10_000 + N).collect::<Vec<_>>());

    // Unselect and forget every other node: the side tables let go of it,
    // so it dies; the rest move again.
    heap.mutate(|mc, k| {
        let all = std::mem::take(&mut k.all);
        for (i, n) in all.into_iter().enumerate() {
            let rank = Ranked {
                rank: (i % 5) as u32,
                node: n,
            };
            if i.is_multiple_of(2) {
                k.all.push(n);
            } else {
                k.selection.remove(&n);
                drop(k.notes.remove(&n));
                k.ranked.remove(&rank);
                mc[k.index].by_node.remove(&Ranked {
                    rank: (i % 7) as u32,
                    node: n,
                });
            }
        }
        k.pairs
            .retain(|pair, _| k.all.contains(&pair[0]) && k.all.contains(&pair[1]));
    });
    let notes_dropped = take_dropped();
    assert_eq!(
        notes_dropped.len(),
        N as usize / 2,
        "each removed note once"
    );
    let stats = heap.collect();
    // The forgotten nodes and their labels.
    assert_eq!(stats.dropped, N as usize);
    let odd: Vec<u64> = (0..N).filter(|i| i % 2 == 1).collect();
    assert_eq!(take_dropped(), odd);
    heap.read(|mc, k| {
        assert_eq!(k.notes.len(), k.all.len());
        for &n in &k.all {
            let i = mc[n].probe.id;
            assert_eq!(k.notes[&n].id, 1_000_000 + i);
            assert_eq!(k.selection.contains(&n), i.is_multiple_of(3));
            assert!(k.ranked.contains(&Ranked {
                rank: (i % 5) as u32,
                node: n
            }));
        }
        assert!(k.pairs.is_empty());
    });
    drop(heap);
    let mut dropped = take_dropped();
    dropped.retain(|&id| id >= 1_000_000);
    assert_eq!(dropped.len(), N as usize / 2, "each remaining note once");
}

// ------------------------------------------------ several objects at once

#[test]
fn disjoint_handles_give_several_objects_at_once_and_the_same_one_twice_is_refused() {
    let mut heap = new_scene();
    heap.mutate(|mc, scene| {
        let root = scene.root;
        let a = add_child(mc, scene, root, 1, "a");
        let b = add_child(mc, scene, root, 2, "b");
        let c = add_child(mc, scene, root, 3, "c");
        for (i, parent) in [a, b].into_iter().enumerate() {
            let name = format!("child of {}", mc[parent].name);
            add_child(mc, scene, parent, 10 + i as u64, &name);
        }
        // Swap the two subtrees' children, then rotate three names.
        let [na, nb] = mc.get_disjoint_mut([a, b]);
        std::mem::swap(&mut na.children, &mut nb.children);
        let [x, y, z] = mc.get_disjoint_mut([a, b, c]);
        std::mem::swap(&mut x.name, &mut y.name);
        std::mem::swap(&mut y.name, &mut z.name);
        let (ca, cb) = (mc[a].children[0], mc[b].children[0]);
        assert_eq!(mc[ca].name, "child of b");
        assert_eq!(mc[cb].name, "child of a");
        assert_eq!([&mc[a].name, &mc[b].name, &mc[c].name], ["b", "c", "a"]);

        assert!(mc.try_get_disjoint_mut([a, b, a]).is_none());
        assert!(mc.try_get_disjoint_mut([c, c]).is_none());
        let none: [&mut Node<'_>; 0] = mc.get_disjoint_mut::<[Gc<'_, Node<'_>>; 0]>([]);
        assert!(none.is_empty());
        let [only] = mc.get_disjoint_mut([c]);
        only.name.push('!');
        assert_eq!(mc[c].name, "a!");
    });
    let here = file!();
    let (file, line) = panic_location(|| {
        heap.mutate(|mc, scene| {
            let root = scene.root;
            let _ = mc.get_disjoint_mut([root, root]);
        });
    });
    assert_eq!((file.as_str(), line), (here, line!() - 3));
    let refused = catch_unwind(AssertUnwindSafe(|| {
        heap.mutate(|mc, scene| {
            let root = scene.root;
            let _ = mc.get_disjoint_mut([root, root]);
        })
    }));
    assert_eq!(
        panic_message(refused),
        "get_disjoint_mut: two handles point at the same object"
    );
}

#[test]
fn disjoint_handles_of_different_types_come_as_a_tuple() {
    let mut heap = new_scene();
    heap.mutate(|mc, scene| {
        let root = scene.root;
        let a = add_child(mc, scene, root, 1, "a");
        let label = Gc::new(mc, String::from("label"));
        let array = Gc::new(mc, [1u32, 2, 3]);
        let slice = unsize!(array => [u32]);
        let shown = unsize!(label => dyn std::fmt::Display);

        // A node, a string seen as a trait object and a slice, at once.
        let (node, text, numbers) = mc.get_disjoint_mut((a, label, slice));
        node.name = format!("{text}/{}", numbers.len());
        text.push('!');
        numbers.reverse();
        assert_eq!(mc[a].name, "label/3");
        assert_eq!(mc[array], [3, 2, 1]);
        let (only,) = mc.get_disjoint_mut((shown,));
        assert_eq!(only.to_string(), "label!");

        // A handle and a trait-object view of the same object are the same
        // object: refused, whatever the types.
        assert!(mc.try_get_disjoint_mut((label, shown)).is_none());
        assert!(mc.try_get_disjoint_mut((array, a, slice)).is_none());
        assert!(mc.try_get_disjoint_mut([shown, shown]).is_none());
        let (four, zero) = (Gc::new(mc, String::from("four")), Gc::new(mc, 0u8));
        let (x, y, z, w, v, u) = mc.get_disjoint_mut((a, label, array, root, four, zero));
        *u += 1;
        assert_eq!(
            (
                x.name.len(),
                y.len(),
                z.len(),
                w.children.len(),
                v.len(),
                *u
            ),
            (7, 6, 3, 1, 4, 1)
        );
    });
}

/// A scene whose root has one child per `(id, name)` of `children`, in
/// order, and a `Held` of the root; collected once, so that the objects
/// have moved since they were made.
fn scene_with_children(children: &[(u64, &str)]) -> (Heap<Scene<'static>>, Held<Node<'static>>) {
    let mut heap = new_scene();
    let held_root = heap.mutate(|mc, scene| {
        let root = scene.root;
        for &(id, name) in children {
            add_child(mc, scene, root, id, name);
        }
        mc.hold::<Node<'static>>(root)
    });
    heap.collect();
    (heap, held_root)
}

/// The names on the path from `node` up to the root, through any reader:
/// a helper written once for the token and for `Others`.
fn path_of<'gc>(r: &impl Reader<'gc>, node: Gc<'gc, Node<'gc>>) -> Vec<String> {
    let mut names = vec![r.read(node).name.clone()];
    let mut at = r.read(node).parent;
    while let Some(up) = at {
        // Through `Others`, the object split off is not readable: the path
        // stops below it.
        let Some(n) = r.get(up) else { break };
        names.push(n.name.clone());
        at = n.parent;
    }
    names
}

/// `Reader`: one read-only helper serves the token in `read` and in
/// `mutate` and the `Others` of a split, whose `get` refuses the object
/// split off and whose `read` panics for it at the caller's line; the
/// trait-object handles read through it too.
#[test]
fn a_reader_helper_serves_the_token_and_others() {
    let here = file!().to_owned();
    let (mut heap, held_root) = scene_with_children(&[(1, "a"), (2, "bb")]);
    heap.mutate(|mc, scene| {
        let b = scene.by_name["bb"];
        let grandchild = add_child(mc, scene, b, 3, "c");
        scene.selection = Some(grandchild);
    });
    heap.read(|mc, scene| {
        let c = scene.selection.expect("selected");
        assert_eq!(path_of(mc, c), ["c", "bb", "root"]);
        assert_eq!(mc.get(c).map(|n| n.children.len()), Some(0));
        let shown = unsize!(c => dyn Named);
        assert_eq!(mc.read(shown).named(), "c");
    });
    heap.mutate(|mc, scene| {
        let c = scene.selection.expect("selected");
        let b = scene.by_name["bb"];
        let root = mc.fetch(&held_root);
        assert_eq!(
            path_of(mc, c),
            ["c", "bb", "root"],
            "the token in a mutation"
        );
        let (node, others) = mc.split_mut(b);
        node.name.push('!');
        assert_eq!(path_of(&others, c), ["c"], "stops below the split-off node");
        assert_eq!(path_of(&others, root), ["root"]);
        assert!(others.get(b).is_none() && Reader::get(&others, b).is_none());
        let (file, line) = panic_location(|| {
            let _ = others.read(b); // the object split off
        });
        assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));
        assert_eq!(node.name, "bb!", "usable after the refusal");
    });
    heap.read(|mc, scene| {
        let c = scene.selection.expect("selected");
        assert_eq!(path_of(mc, c), ["c", "bb!", "root"]);
    });
}

/// `Others::get_disjoint_mut` takes what the token's does: an array of one
/// handle type, or a tuple of handles of any types (a `Gc` beside a trait
/// object's `GcDyn`); it refuses the object split off wherever it stands
/// in the group, and two handles to one object, also when one is a trait
/// object's view of it.
#[test]
fn others_get_disjoint_mut_takes_arrays_and_tuples() {
    let (mut heap, held_root) = scene_with_children(&[(1, "a"), (2, "bb"), (3, "ccc")]);
    heap.mutate(|mc, scene| {
        let root = mc.fetch(&held_root);
        let [a, b, c] = ["a", "bb", "ccc"].map(|n| scene.by_name[n]);
        let (node, mut others) = mc.split_mut(root);
        // A tuple of a `Gc` and a trait object's `GcDyn`.
        let shown = unsize!(c => dyn Named);
        let (first, named) = others
            .get_disjoint_mut((a, shown))
            .expect("two other objects");
        first.name.push_str(named.named());
        // An array of one type.
        let [x, y] = others.get_disjoint_mut([b, c]).expect("two other objects");
        std::mem::swap(&mut x.name, &mut y.name);
        // Refused: the split-off object, first or last; one object twice,
        // also through its trait-object view.
        assert!(others.get_disjoint_mut((root, a)).is_none());
        assert!(others.get_disjoint_mut([a, b, root]).is_none());
        assert!(
            others
                .get_disjoint_mut((b, unsize!(root => dyn Named)))
                .is_none()
        );
        assert!(others.get_disjoint_mut([a, a]).is_none());
        assert!(others.get_disjoint_mut((shown, c)).is_none());
        node.name.push('*');
    });
    heap.read(|mc, scene| {
        let names: Vec<&str> = mc[scene.root]
            .children
            .iter()
            .map(|&n| mc[n].name.as_str())
            .collect();
        assert_eq!(names, ["accc", "ccc", "bb"]);
        assert_eq!(mc[scene.root].name, "root*");
    });
}

/// `split_mut`: one node written while its children and any other object
/// are read through `Others`, its own child list walked during the reads;
/// a weak handle upgraded, a held handle fetched and an object allocated
/// through it; and every way of reaching the split-off object again (its
/// `Gc`, a trait-object view of it, a `Held` of it, a child's parent link)
/// refused: `get` says `None`, indexing panics at the caller's line, and
/// the split-off reference stays usable after the refusal.
#[test]
fn split_mut_writes_one_object_and_reads_the_others() {
    let here = file!().to_owned();
    let (mut heap, held_root) = scene_with_children(&[(1, "a"), (2, "bb"), (3, "ccc")]);
    heap.mutate(|mc, scene| {
        let root = scene.root;
        let a = scene.by_name["a"];
        let weak = scene.by_name["bb"].downgrade();
        let held_a = mc.hold::<Node<'static>>(a);
        let shown = unsize!(root => dyn Named);
        let (node, others) = mc.split_mut(root);
        let lengths: usize = node.children.iter().map(|&c| others[c].name.len()).sum();
        node.name = format!("root of {lengths}");
        assert_eq!(others.get(a).map(|n| n.name.as_str()), Some("a"));
        assert_eq!(others.upgrade(weak).map(|b| others[b].name.len()), Some(2));
        assert_eq!(others[&held_a].name, "a");
        assert!(Gc::ptr_eq(others.fetch(&held_root), root));
        let extra = others.alloc(node_value(9, "extra"));
        assert_eq!(others[extra].name, "extra");

        // The split-off object, however it is reached.
        assert!(others.get(root).is_none());
        assert!(others.get(shown).is_none());
        let parent = others[a].parent.unwrap();
        assert!(others.get(parent).is_none());
        let (file, line) = panic_location(|| {
            let _ = &others[root]; // the split-off object
        });
        assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));
        let refused = catch_unwind(AssertUnwindSafe(|| others[&held_root].name.len()));
        assert!(panic_message(refused).contains("split_mut"));
        assert!(catch_unwind(AssertUnwindSafe(|| others[shown].named().len())).is_err());

        node.children.push(extra);
        assert_eq!(node.name, "root of 6");
        assert_eq!(mc[root].children.len(), 4);
        assert_eq!(mc[extra].name, "extra");
    });
}

/// `split_mut`'s `Others` writes the other objects: a node's children
/// renamed while its own child list is walked (`get_mut`, `others[c] =`),
/// two of them at once (`get_disjoint_mut`), through a trait-object view
/// and a `Held`; every way of writing the split-off object is refused
/// (`None`, or a panic at the caller's line), and the objects keep what
/// was written across a collection that moves them.
#[test]
fn split_mut_writes_the_others_too() {
    let here = file!().to_owned();
    let (mut heap, held_root) = scene_with_children(&[(1, "a"), (2, "bb"), (3, "ccc")]);
    heap.mutate(|mc, scene| {
        let root = scene.root;
        let (a, bb, ccc) = (
            scene.by_name["a"],
            scene.by_name["bb"],
            scene.by_name["ccc"],
        );
        let held_bb = mc.hold::<Node<'static>>(bb);
        let shown = unsize!(root => dyn Named);
        let view_of_a = unsize!(a => dyn Named);
        let (node, mut others) = mc.split_mut(root);
        for &child in &node.children {
            others.get_mut(child).unwrap().name.push('!');
        }
        others[ccc].name.push('?');
        others[&held_bb].name.push('#');
        let [first, last] = others.get_disjoint_mut([a, ccc]).unwrap();
        std::mem::swap(&mut first.name, &mut last.name);
        assert_eq!(others.get_mut(view_of_a).unwrap().named(), "ccc!?");
        node.name = format!("{} children", node.children.len());

        // Writing the split-off object, however it is reached.
        assert!(others.get_mut(root).is_none());
        assert!(others.get_mut(shown).is_none());
        let parent = others[a].parent.unwrap();
        assert!(others.get_mut(parent).is_none());
        assert!(others.get_disjoint_mut([a, root]).is_none());
        assert!(
            others.get_disjoint_mut([a, a]).is_none(),
            "one object twice"
        );
        let (file, line) = panic_location(|| {
            others[root].name.clear(); // the split-off object
        });
        assert_eq!((file.as_str(), line), (here.as_str(), line!() - 2));
        let refused = catch_unwind(AssertUnwindSafe(|| others[&held_root].name.clear()));
        assert!(panic_message(refused).contains("split_mut"));
        assert_eq!(node.name, "3 children");
    });
    heap.collect();
    heap.read(|mc, scene| {
        let names: Vec<&str> = mc[scene.root]
            .children
            .iter()
            .map(|&c| mc[c].name.as_str())
            .collect();
        assert_eq!(names, ["ccc!?", "bb!#", "a!"]);
        assert_eq!(mc[scene.root].name, "3 children");
    });
}

/// `Others` holds objects as the token does: a `Held` made through it
/// (of the split-off object too) keeps an object that the graph no longer
/// reaches and follows it as a collection moves it; a `HeldWeak` made
/// through it follows a kept object and forgets an unreachable one.
#[test]
fn others_hold_objects_strongly_and_weakly() {
    take_dropped();
    let mut heap = new_scene();
    let (held, kept, gone) = heap.mutate(|mc, scene| {
        for id in 10..40 {
            node(mc, id, "garbage"); // below the others: they slide down
        }
        let root = scene.root;
        for (id, name) in [(1, "a"), (2, "bb"), (3, "ccc")] {
            add_child(mc, scene, root, id, name);
        }
        let (a, bb, ccc) = (
            scene.by_name["a"],
            scene.by_name["bb"],
            scene.by_name["ccc"],
        );
        let (node, others) = mc.split_mut(a);
        node.name.push('!');
        let held = [others.hold(a), others.hold(bb)];
        let (kept, gone) = (others.hold_weak(bb), others.hold_weak(ccc));
        // Only the handles made through `others` point at them now.
        mc[root].children.clear();
        scene.by_name.clear();
        (held, kept, gone)
    });
    let before = heap.read(|mc, _| held.each_ref().map(|h| mc.fetch(h).as_ptr().addr()));
    let stats = heap.collect();
    assert_eq!(stats.live_objects, 3, "the root and the two held nodes");
    assert_eq!(
        take_dropped(),
        [3].into_iter().chain(10..40).collect::<Vec<_>>()
    );
    heap.read(|mc, _| {
        let after = held.each_ref().map(|h| mc.fetch(h).as_ptr().addr());
        assert!(before.iter().zip(after).all(|(b, a)| *b != a), "both moved");
        assert_eq!(
            [mc[&held[0]].name.as_str(), mc[&held[1]].name.as_str()],
            ["a!", "bb"]
        );
        assert!(Gc::ptr_eq(mc.upgrade(&kept).unwrap(), mc.fetch(&held[1])));
        assert!(mc.upgrade(&gone).is_none());
    });
    drop(held);
    heap.collect();
    assert_eq!(take_dropped(), [1, 2]);
    assert!(kept.is_dropped());
}

/// Held handles compare by object: clones, and handles of separate
/// `hold` calls for one object, are equal, also after a collection moved
/// it; handles to different objects are not, unless both are weak and
/// both objects were dropped. Trait-object handles alike.
#[test]
fn held_handles_are_equal_when_they_hold_the_same_object() {
    type AnyNamed = dyn_rootable!(for<'gc> dyn Named + 'gc);
    let mut heap = new_scene();
    let (held, weak, dyns) = heap.mutate(|mc, scene| {
        for id in 10..20 {
            node(mc, id, "garbage"); // below the others: they move
        }
        let root = scene.root;
        let a = add_child(mc, scene, root, 1, "a");
        let b = add_child(mc, scene, root, 2, "b");
        let c = node(mc, 3, "c"); // unreachable
        let held = [mc.hold(a), mc.hold(a), mc.hold(b)];
        let weak = [mc.hold_weak(a), mc.hold_weak(b), mc.hold_weak(c)];
        let dyns: [HeldDyn<AnyNamed>; 3] = [
            mc.hold_dyn(unsize!(a => dyn Named)),
            mc.hold_dyn(unsize!(a => dyn Named)),
            mc.hold_dyn(unsize!(b => dyn Named)),
        ];
        (held, weak, dyns)
    });
    let [a, again, b] = &held;
    let [dyn_a, dyn_again, dyn_b] = &dyns;
    let compare = || {
        assert!(a == again && *a == a.clone() && a != b);
        assert!(weak[0] == a.downgrade() && weak[0] != weak[1] && weak[1] == b.downgrade());
        assert!(dyn_a == dyn_again && *dyn_a == dyn_a.clone() && dyn_a != dyn_b);
        assert!(
            dyn_a.downgrade() == dyn_again.downgrade() && dyn_a.downgrade() != dyn_b.downgrade()
        );
    };
    compare();
    assert!(weak[1] != weak[2]);
    let before = heap.read(|mc, _| mc.fetch(a).as_ptr().addr());
    heap.collect(); // moves "a" and "b", drops "c"
    assert_ne!(heap.read(|mc, _| mc.fetch(a).as_ptr().addr()), before);
    compare();
    assert!(weak[2].is_dropped() && weak[1] != weak[2]);
    // "b" is deleted: its weak handles keep their identity, equal to
    // each other and to no handle of "c".
    let dyn_weak_b = dyn_b.downgrade();
    let dyn_weak_a = dyn_a.downgrade();
    drop((held, dyns));
    heap.mutate(|mc, scene| {
        let root = scene.root;
        let b = scene.by_name.remove("b").unwrap();
        mc[root].children.retain(|&n| n != b);
    });
    heap.collect();
    assert!(weak[1].is_dropped() && weak[1] != weak[2] && weak[0] != weak[1]);
    assert!(weak[1] == weak[1].clone() && hash_of(&weak[1]) == hash_of(&weak[1].clone()));
    assert!(dyn_weak_b.is_dropped() && dyn_weak_b != dyn_weak_a);
    assert!(dyn_weak_b == dyn_weak_b.clone());
}

/// `hold` and `hold_weak` work out the held type from the handle: a
/// derived type's, a leaf type's, a container's and a tuple's, each then
/// redeemed with no annotation; naming it still works.
#[test]
fn hold_works_out_the_held_type() {
    let mut heap = new_scene();
    let kept = heap.mutate(|mc, scene| {
        let root = scene.root;
        let node = mc.hold(root);
        let weak = mc.hold_weak(root);
        let named = mc.hold::<Node<'static>>(root);
        assert!(Gc::ptr_eq(mc.fetch(&named), mc.fetch(&node)));
        assert!(Gc::ptr_eq(mc.upgrade(&weak).unwrap(), root));
        let number = mc.hold(Gc::new(mc, 7u64));
        let list = mc.hold(Gc::new(mc, vec![root, root]));
        let pair = mc.hold(Gc::new(mc, (Some(root), [1u8; 3])));
        let boxed = mc.hold(Gc::new(mc, Box::new(Some(5i32))));
        assert_eq!(mc[&number], 7);
        assert!(Gc::ptr_eq(mc[&list][1], root));
        assert_eq!(mc[&pair].1, [1; 3]);
        assert_eq!(*mc[&boxed], Some(5));
        (node, number, list, pair)
    });
    heap.collect();
    heap.read(|mc, scene| {
        let (node, number, list, pair) = &kept;
        assert!(Gc::ptr_eq(mc.fetch(node), scene.root));
        assert_eq!(mc[number], 7);
        assert!(mc[list].iter().all(|&n| Gc::ptr_eq(n, scene.root)));
        assert!(Gc::ptr_eq(mc[pair].0.unwrap(), scene.root));
    });
}

/// A view of a node as a trait object.
trait Named {
    fn named(&self) -> &str;
}

impl Named for Node<'_> {
    fn named(&self) -> &str {
        &self.name
    }
}

/// A node's fields, for `Others::alloc` (which takes a value, not a token).
fn node_value<'gc>(id: u64, name: &str) -> Node<'gc> {
    Node {
        name: name.to_owned(),
        probe: Probe::new(id),
        parent: None,
        children: Vec::new(),
    }
}

// ------------------------------------------------------------ trait objects

/// A behaviour that objects of several types share; it names the brand,
/// so its objects can hold handles, and can be downcast.
trait Component<'gc>: Downcast<'gc> {
    fn name(&self) -> String;
    /// The sum of the values this component reaches through its handles.
    fn total(&self, mc: &Mutation<'gc>) -> u64;
    fn bump(&mut self);
}

#[derive(Managed)]
struct Counter {
    count: u64,
    #[managed(skip)]
    probe: Probe,
}

/// Holds handles: a sized one and trait objects.
#[derive(Managed)]
struct Group<'gc> {
    label: Gc<'gc, String>,
    parts: Vec<GcDyn<'gc, dyn Component<'gc>>>,
    #[managed(skip)]
    probe: Probe,
}

/// More than a quarter of a 4 KiB chunk: a large object, which never moves.
#[derive(Managed)]
struct Big {
    words: [u64; 160],
    #[managed(skip)]
    probe: Probe,
}

impl<'gc> Component<'gc> for Counter {
    fn name(&self) -> String {
        format!("counter {}", self.probe.id)
    }
    fn total(&self, _: &Mutation<'gc>) -> u64 {
        self.count
    }
    fn bump(&mut self) {
        self.count += 1;
    }
}

impl<'gc> Component<'gc> for Group<'gc> {
    fn name(&self) -> String {
        format!("group {}", self.probe.id)
    }
    fn total(&self, mc: &Mutation<'gc>) -> u64 {
        mc[self.label].len() as u64 + self.parts.iter().map(|&p| mc[p].total(mc)).sum::<u64>()
    }
    fn bump(&mut self) {}
}

impl<'gc> Component<'gc> for Big {
    fn name(&self) -> String {
        format!("big {}", self.probe.id)
    }
    fn total(&self, _: &Mutation<'gc>) -> u64 {
        self.words.iter().sum()
    }
    fn bump(&mut self) {
        self.words[0] += 1;
    }
}

#[derive(Managed)]
struct Components<'gc> {
    all: Vec<GcDyn<'gc, dyn Component<'gc>>>,
    /// Trait-object keys are filed again when their objects move.
    enabled: HashSet<GcDyn<'gc, dyn Component<'gc>>>,
    /// An array seen as a slice.
    table: Option<GcDyn<'gc, [u32]>>,
}

/// A component of each type, keyed by `i`: counters mostly, a group of
/// two counters every fifth, a large object every eleventh.
fn component<'gc>(mc: &Mutation<'gc>, i: u64) -> GcDyn<'gc, dyn Component<'gc>> {
    if i % 11 == 10 {
        let big = Gc::new(
            mc,
            Big {
                words: [i; 160],
                probe: Probe::new(i),
            },
        );
        unsize!(big => dyn Component<'gc>)
    } else if i % 5 == 4 {
        let parts = (0..2)
            .map(|k| {
                let c = Gc::new(
                    mc,
                    Counter {
                        count: i,
                        probe: Probe::new(100_000 + 10 * i + k),
                    },
                );
                unsize!(c => dyn Component<'gc>)
            })
            .collect();
        let group = Gc::new(
            mc,
            Group {
                label: Gc::new(mc, format!("g{i}")),
                parts,
                probe: Probe::new(i),
            },
        );
        unsize!(group => dyn Component<'gc>)
    } else {
        let c = Gc::new(
            mc,
            Counter {
                count: i,
                probe: Probe::new(i),
            },
        );
        unsize!(c => dyn Component<'gc>)
    }
}

/// What `component(i).total()` is after `bumps` bumps.
fn expected_total(i: u64, bumps: u64) -> u64 {
    if i % 11 == 10 {
        i * 160 + bumps
    } else if i % 5 == 4 {
        format!("g{i}").len() as u64 + 2 * i
    } else {
        i + bumps
    }
}

#[test]
fn trait_objects_follow_their_objects_through_slides_and_evacuations() {
    const N: u64 = if cfg!(miri) { 40 } else { 600 };
    let mut heap: Heap<Components<'static>> = Heap::with_chunk_size(4096, |_| Components {
        all: Vec::new(),
        enabled: HashSet::new(),
        table: None,
    });
    heap.set_pacing(Pacing {
        min_bytes: 0,
        growth: 0.5,
    });
    heap.mutate(|mc, c| {
        for i in 0..N {
            // Garbage between the components, twice their size: every
            // collection moves them, and copies sparse chunks out.
            let _ = component(mc, 1_000_000 + i);
            let _ = component(mc, 2_000_000 + i);
            let comp = component(mc, i);
            c.all.push(comp);
            if i.is_multiple_of(3) {
                c.enabled.insert(comp);
            }
        }
        let array = Gc::new(mc, [7u32, 8, 9]);
        c.table = Some(unsize!(array => [u32]));
        for &comp in &c.all {
            mc[comp].bump();
        }
    });
    let before: Vec<usize> = heap.read(|_, c| c.all.iter().map(|h| h.as_ptr().addr()).collect());
    let stats = heap.collect();
    // Every garbage component's objects are dropped: one per component,
    // and two counters and a label more per group.
    let garbage: Vec<u64> = (1_000_000..1_000_000 + N)
        .chain(2_000_000..2_000_000 + N)
        .collect();
    let garbage_groups = garbage
        .iter()
        .filter(|&&i| i % 11 != 10 && i % 5 == 4)
        .count();
    assert_eq!(stats.dropped, 2 * N as usize + 3 * garbage_groups);
    let mut dropped = take_dropped();
    assert_eq!(
        dropped.len(),
        2 * N as usize + 2 * garbage_groups,
        "each probe once"
    );
    dropped.retain(|id| garbage.contains(id));
    assert_eq!(dropped, garbage);
    assert!(
        stats.chunks_evacuated > 0,
        "sparse chunks are copied out: {stats:?}"
    );
    let moved = heap.read(|_, c| {
        c.all
            .iter()
            .zip(&before)
            .filter(|(h, b)| h.as_ptr().addr() != **b)
            .count()
    });
    assert!(
        moved as u64 >= N / 2,
        "most components moved ({moved} of {N})"
    );

    let check = |heap: &mut Heap<Components<'static>>, bumps: u64| {
        heap.read(|mc, c| {
            for (i, &comp) in c.all.iter().enumerate() {
                let i = i as u64;
                assert_eq!(mc[comp].total(mc), expected_total(i, bumps), "{i}");
                let kind = if i % 11 == 10 {
                    "big"
                } else if i % 5 == 4 {
                    "group"
                } else {
                    "counter"
                };
                assert_eq!(mc[comp].name(), format!("{kind} {i}"));
                assert_eq!(c.enabled.contains(&comp), i.is_multiple_of(3), "{i}");
            }
            assert_eq!(mc[c.table.unwrap()], [7, 8, 9]);
        })
    };
    check(&mut heap, 1);

    // Disable and drop every other component; bump the rest and move
    // them again.
    heap.mutate(|mc, c| {
        let all = std::mem::take(&mut c.all);
        for (i, comp) in all.into_iter().enumerate() {
            if i.is_multiple_of(2) {
                mc[comp].bump();
                c.all.push(comp);
            } else {
                c.enabled.remove(&comp);
            }
        }
        // Equality is by object, whatever vtable each handle carries.
        let first = c.all[0];
        assert_eq!(c.all.iter().filter(|&&h| h == first).count(), 1);
    });
    heap.collect();
    let dropped = take_dropped();
    let odd_tops: Vec<u64> = dropped.iter().copied().filter(|&id| id < 100_000).collect();
    assert_eq!(odd_tops, (0..N).filter(|i| i % 2 == 1).collect::<Vec<_>>());
    heap.read(|mc, c| {
        for (k, &comp) in c.all.iter().enumerate() {
            let i = 2 * k as u64;
            assert_eq!(mc[comp].total(mc), expected_total(i, 2), "{i}");
            assert_eq!(c.enabled.contains(&comp), i.is_multiple_of(3));
        }
    });
    drop(heap);
    let rest = take_dropped();
    assert_eq!(
        rest.iter().filter(|&&id| id < 100_000).count(),
        N as usize / 2
    );
}

/// Claims to be a counter at every brand (its `Rootable` maps to
/// `Counter`), but is not `Counter` itself.
struct Impostor;

impl Rootable for Impostor {
    type Root<'gc> = Counter;
}

/// Trait objects downcast to the type they were made from, and to no
/// other, after collections have slid and evacuated them; the handle a
/// downcast gives reads and writes the object itself. A type whose
/// `Rootable` merely maps to `Counter` is not `Counter`.
#[test]
fn trait_objects_downcast_to_their_own_type_only() {
    const N: u64 = if cfg!(miri) { 30 } else { 300 };
    let mut heap: Heap<Components<'static>> = Heap::with_chunk_size(4096, |_| Components {
        all: Vec::new(),
        enabled: HashSet::new(),
        table: None,
    });
    heap.mutate(|mc, c| {
        for i in 0..N {
            let _ = component(mc, 1_000_000 + i);
            c.all.push(component(mc, i));
        }
    });
    let before: Vec<usize> = heap.read(|_, c| c.all.iter().map(|h| h.as_ptr().addr()).collect());
    heap.collect();
    let after: Vec<usize> = heap.read(|_, c| c.all.iter().map(|h| h.as_ptr().addr()).collect());
    assert!(
        before.iter().zip(&after).filter(|(b, a)| b != a).count() > N as usize / 2,
        "moved"
    );
    take_dropped();
    heap.mutate(|mc, c| {
        let mut kinds = [0usize; 3];
        for (i, &comp) in (0u64..).zip(&c.all) {
            let counter = comp.downcast::<Counter>(mc);
            let group = comp.downcast::<Group<'static>>(mc);
            let big = comp.downcast::<Big>(mc);
            assert_eq!(
                [counter.is_some(), group.is_some(), big.is_some()],
                [
                    i % 11 != 10 && i % 5 != 4,
                    i % 11 != 10 && i % 5 == 4,
                    i % 11 == 10
                ],
                "component {i}"
            );
            assert!(comp.downcast::<Impostor>(mc).is_none());
            assert!(!comp.is::<String>(mc));
            if let Some(counter) = counter {
                assert_eq!(mc[counter].probe.id, i);
                let before = mc[comp].total(mc);
                mc[counter].count += 10;
                assert_eq!(mc[comp].total(mc), before + 10);
                kinds[0] += 1;
            }
            if let Some(group) = group {
                assert_eq!(mc[group].probe.id, i);
                assert_eq!(mc[group].parts.len(), 2);
                assert!(mc[group].parts.iter().all(|p| p.is::<Counter>(mc)));
                kinds[1] += 1;
            }
            if let Some(big) = big {
                assert_eq!(mc[big].words[159], i);
                kinds[2] += 1;
            }
        }
        assert!(kinds.iter().all(|&k| k > 0), "{kinds:?}");
    });
}

/// `downcast` through `Others` turns the other objects' trait-object handles back
/// into their types, and refuses the split-off one like any read.
#[test]
fn others_downcast_the_other_objects_only() {
    let mut heap: Heap<Components<'static>> = Heap::new(|mc| Components {
        all: (0..12).map(|i| component(mc, i)).collect(),
        enabled: HashSet::new(),
        table: None,
    });
    heap.mutate(|mc, c| {
        let first = c.all[0];
        let (_, others) = mc.split_mut(first);
        assert!(
            first.downcast::<Counter>(&others).is_none(),
            "the split-off one"
        );
        let counters = c.all[1..]
            .iter()
            .filter(|&&h| h.downcast::<Counter>(&others).is_some());
        assert_eq!(counters.count(), 8, "ids 1, 2, 3, 5, 6, 7, 8, 11");
        let big = c.all[10].downcast::<Big>(&others).unwrap();
        assert_eq!(others[big].words[0], 10);
        assert!(c.all[4].downcast::<Group<'static>>(&others).is_some());
    });
    take_dropped();
}

#[test]
fn a_trait_object_keeps_its_object_and_what_it_reaches_alive() {
    // The object is reached only through the trait object, and reaches
    // others only through its own handles: marking must trace the concrete
    // type behind the vtable.
    #[derive(Managed, Debug)]
    struct Chain<'gc> {
        #[expect(dead_code, reason = "read through `Debug`")]
        value: u32,
        next: Option<Gc<'gc, u32>>,
    }
    /// The objects behind `dyn Debug` hold handles, so the trait object
    /// carries the brand (`dyn Debug + 'gc`, the default inside a struct
    /// with `'gc`).
    #[derive(Managed)]
    struct Root<'gc> {
        items: Vec<GcDyn<'gc, dyn std::fmt::Debug>>,
    }
    let mut heap: Heap<Root<'static>> = Heap::with_chunk_size(4096, |_| Root { items: Vec::new() });
    heap.mutate(|mc, root| {
        for i in 0..20u32 {
            Gc::new(mc, [0u64; 4]);
            let tail = Gc::new(mc, 100 + i);
            let chain = Gc::new(
                mc,
                Chain {
                    value: i,
                    next: Some(tail),
                },
            );
            root.items.push(unsize!(chain => dyn std::fmt::Debug));
        }
    });
    let stats = heap.collect();
    assert_eq!(stats.live_objects, 40);
    heap.read(|mc, root| {
        for (i, &item) in root.items.iter().enumerate() {
            let text = format!("{:?}", &mc[item]);
            assert!(
                text.starts_with(&format!("Chain {{ value: {i}, next: Some(Gc(0x")),
                "{text}"
            );
        }
        let items = &root.items;
        assert!(GcDyn::ptr_eq(items[3], items[3]));
        assert!(!GcDyn::ptr_eq(items[3], items[4]));
        assert_eq!(format!("{items:?}").matches("GcDyn(0x").count(), 20);
    });
}

#[test]
fn handles_inside_cells_follow_their_objects() {
    // The shared-token style: objects changed through `Cell` and `RefCell`
    // fields while other objects are read and new ones allocated.
    #[derive(Managed)]
    struct Slot<'gc> {
        current: std::cell::Cell<Option<Gc<'gc, u64>>>,
        history: RefCell<Vec<Gc<'gc, u64>>>,
    }
    let mut heap: Heap<Vec<Gc<'static, Slot<'static>>>> =
        Heap::with_chunk_size(4096, |_| Vec::new());
    heap.mutate(|mc, slots| {
        for i in 0..8u64 {
            let slot = Gc::new(
                mc,
                Slot {
                    current: std::cell::Cell::new(None),
                    history: RefCell::new(Vec::new()),
                },
            );
            slots.push(slot);
            for k in 0..4 {
                Gc::new(mc, [0u64; 3]); // garbage: the values slide
                let value = Gc::new(mc, 10 * i + k);
                mc[slot].current.set(Some(value));
                mc[slot].history.borrow_mut().push(value);
            }
        }
    });
    let stats = heap.collect();
    assert_eq!(stats.live_objects, 8 + 8 * 4);
    heap.read(|mc, slots| {
        for (i, &slot) in slots.iter().enumerate() {
            let i = i as u64;
            assert_eq!(mc[mc[slot].current.get().unwrap()], 10 * i + 3);
            let history: Vec<u64> = mc[slot].history.borrow().iter().map(|&v| mc[v]).collect();
            assert_eq!(history, (0..4).map(|k| 10 * i + k).collect::<Vec<_>>());
        }
    });
}

#[test]
fn weak_trait_objects_forget_dropped_objects_and_follow_moved_ones() {
    /// Observers that must not be kept alive by the list that notifies them.
    #[derive(Managed)]
    struct Observers<'gc> {
        strong: Vec<GcDyn<'gc, dyn Component<'gc>>>,
        weak: Vec<GcDynWeak<'gc, dyn Component<'gc>>>,
    }
    const N: u64 = if cfg!(miri) { 30 } else { 300 };
    let mut heap: Heap<Observers<'static>> = Heap::with_chunk_size(4096, |_| Observers {
        strong: Vec::new(),
        weak: Vec::new(),
    });
    heap.mutate(|mc, o| {
        for i in 0..N {
            let _ = component(mc, 1_000_000 + i); // garbage: the rest moves
            let comp = component(mc, i);
            o.weak.push(comp.downgrade());
            if i.is_multiple_of(3) {
                o.strong.push(comp);
            }
        }
    });
    let stats = heap.collect();
    assert!(stats.chunks_evacuated > 0, "{stats:?}");
    let dropped = take_dropped();
    assert!(dropped.contains(&1) && !dropped.contains(&0));
    heap.mutate(|mc, o| {
        let mut kept = 0;
        for (i, &w) in o.weak.iter().enumerate() {
            let i = i as u64;
            match w.upgrade(mc) {
                Some(comp) => {
                    assert!(i.is_multiple_of(3), "{i} should be dropped");
                    assert_eq!(mc[comp].total(mc), expected_total(i, 0), "{i}");
                    assert_eq!(o.strong[kept], comp);
                    kept += 1;
                    mc[comp].bump();
                }
                None => assert!(!i.is_multiple_of(3) && w.is_dropped(), "{i}"),
            }
        }
        assert_eq!(kept, o.strong.len());
        assert_eq!(format!("{:?}", o.weak[1]), "GcDynWeak(dropped)");
        assert!(
            GcDynWeak::ptr_eq(o.weak[1], o.weak[2]),
            "dropped ones are equal"
        );
        // Let every other survivor go too.
        o.strong.retain(|_| false);
    });
    heap.collect();
    heap.read(|mc, o| assert!(o.weak.iter().all(|w| w.upgrade(mc).is_none())));
    take_dropped();
}

// ------------------------------------------------------ empty weak handles

/// A field that starts as an empty weak handle (`GcWeak::new`, or
/// `Default`) never upgrades, through collections that slide and drop
/// the objects around it, while the filled ones beside it follow their
/// objects; an empty one filled later works like any other.
#[test]
fn empty_weak_handles_never_upgrade_and_survive_collections() {
    #[derive(Managed, Default)]
    struct Watch<'gc> {
        target: GcWeak<'gc, Node<'gc>>,
        id: u64,
    }
    #[derive(Managed)]
    struct Root<'gc> {
        watches: Vec<Gc<'gc, Watch<'gc>>>,
        strong: Vec<Gc<'gc, Node<'gc>>>,
        empty: GcWeak<'gc, u64>,
    }
    take_dropped();
    let n = if cfg!(miri) { 24 } else { 300 };
    let mut heap: Heap<Root<'static>> = Heap::with_chunk_size(4096, |_| Root {
        watches: Vec::new(),
        strong: Vec::new(),
        empty: GcWeak::new(),
    });
    heap.mutate(|mc, r| {
        for i in 0..n {
            // Garbage between the watches, so that they slide.
            node(mc, 1000 + i, "garbage");
            let mut watch = Watch {
                id: i,
                ..Watch::default()
            };
            if i % 2 == 0 {
                let target = node(mc, i, &format!("n{i}"));
                watch.target = target.downgrade();
                r.strong.push(target);
            }
            r.watches.push(Gc::new(mc, watch));
        }
    });
    let check = |heap: &mut Heap<Root<'static>>| {
        heap.read(|mc, r| {
            assert!(r.empty.upgrade(mc).is_none() && r.empty.is_dropped());
            for &w in &r.watches {
                let watch = &mc[w];
                match watch.target.upgrade(mc) {
                    Some(t) => {
                        assert_eq!(watch.id % 2, 0);
                        assert_eq!(mc[t].name, format!("n{}", watch.id));
                    }
                    None => {
                        assert_eq!(watch.id % 2, 1);
                        assert!(GcWeak::ptr_eq(watch.target, GcWeak::new()));
                        assert_eq!(format!("{:?}", watch.target), "GcWeak(dropped)");
                    }
                }
            }
        });
    };
    check(&mut heap);
    let before = heap.read(|_, r| r.watches[n as usize - 1].as_ptr().addr());
    let stats = heap.collect();
    assert_eq!(stats.dropped as u64, n, "the garbage nodes");
    assert_ne!(
        before,
        heap.read(|_, r| r.watches[n as usize - 1].as_ptr().addr()),
        "the watches moved"
    );
    check(&mut heap);
    // The odd watches get a target; the targets of the even ones die.
    heap.mutate(|mc, r| {
        r.strong.clear();
        for &w in r.watches.iter().skip(1).step_by(2) {
            let id = mc[w].id;
            let target = node(mc, id, &format!("n{id}"));
            mc[w].target = target.downgrade();
            r.strong.push(target);
        }
    });
    heap.collect();
    heap.read(|mc, r| {
        for &w in &r.watches {
            let watch = &mc[w];
            assert_eq!(watch.target.upgrade(mc).is_some(), watch.id % 2 == 1);
        }
    });
}

// ------------------------------------------------- weak handles held outside

/// Weak handles held outside the heap follow their objects through
/// collections that slide and evacuate them, and upgrade to `None` once a
/// collection drops the objects (large ones too); they keep nothing
/// alive, and the heap unlists them once their objects are dropped.
#[test]
fn weakly_held_handles_follow_moves_and_forget_dropped_objects() {
    take_dropped();
    let n = if cfg!(miri) { 150 } else { 600 };
    let mut heap: Heap<Vec<Gc<'static, Node<'static>>>> =
        Heap::with_chunk_size(4096, |_| Vec::new());
    let (weak, big): (Vec<HeldWeak<Node<'static>>>, HeldWeak<[u64; 2048]>) =
        heap.mutate(|mc, kept| {
            let mut weak = Vec::new();
            for i in 0..n {
                let object = node(mc, i, &format!("n{i}"));
                weak.push(mc.hold_weak(object));
                if i % 3 == 0 {
                    kept.push(object);
                }
            }
            (weak, mc.hold_weak(Gc::new(mc, [7u64; 2048])))
        });
    assert_eq!(heap.detailed_stats().held as u64, n + 1);
    let addresses = |heap: &mut Heap<Vec<Gc<'static, Node<'static>>>>| -> Vec<Option<usize>> {
        heap.mutate(|mc, _| {
            weak.iter()
                .map(|w| mc.upgrade(w).map(|o| o.as_ptr().addr()))
                .collect()
        })
    };
    let before = addresses(&mut heap);
    assert!(before.iter().all(Option::is_some), "not collected yet");
    let stats = heap.collect();
    assert_eq!(stats.live_objects as u64, n.div_ceil(3));
    assert_eq!(stats.dropped as u64, n - n.div_ceil(3), "the unkept nodes");
    assert!(stats.chunks_evacuated > 0, "{stats:?}");
    assert_eq!(
        take_dropped(),
        (0..n).filter(|i| i % 3 != 0).collect::<Vec<_>>()
    );
    let after = addresses(&mut heap);
    let moved = (0..n as usize)
        .step_by(3)
        .filter(|&i| before[i] != after[i])
        .count();
    assert!(moved > 0, "the survivors moved");
    heap.mutate(|mc, kept| {
        for (i, w) in weak.iter().enumerate() {
            match mc.upgrade(w) {
                Some(object) => {
                    assert_eq!(i % 3, 0);
                    assert_eq!(mc[object].name, format!("n{i}"));
                    assert!(Gc::ptr_eq(object, kept[i / 3]));
                    assert!(!w.is_dropped());
                }
                None => {
                    assert_ne!(i % 3, 0);
                    assert!(w.is_dropped());
                    assert_eq!(format!("{w:?}"), "HeldWeak { dropped: true, .. }");
                }
            }
        }
        assert!(mc.upgrade(&big).is_none() && big.is_dropped());
    });
    // The dead ones are unlisted (their handles find nothing).
    assert_eq!(heap.detailed_stats().held as u64, n.div_ceil(3));
    // Survivors keep following through more collections, then die.
    heap.mutate(|mc, kept| {
        kept.remove(0);
        mc[kept[0]].name.push('!');
    });
    heap.collect();
    heap.mutate(|mc, _| {
        assert!(mc.upgrade(&weak[0]).is_none());
        assert_eq!(mc[mc.upgrade(&weak[3]).unwrap()].name, "n3!");
    });
    heap.mutate(|_, kept| kept.clear());
    heap.collect();
    assert!(weak.iter().all(HeldWeak::is_dropped));
    assert_eq!(heap.detailed_stats().held, 0);
}

/// `Held` and `HeldWeak` handles key `HashMap`s kept outside the heap:
/// every handle to an object shares its cell, so entries filed before
/// collections that move the objects are found after them with handles
/// made anew (and with weak handles upgraded); a weakly keyed entry keeps
/// nothing alive and reads as dropped once its object is; an object
/// allocated where a dropped one was is another key.
#[test]
fn held_handles_key_maps_across_collections() {
    take_dropped();
    let n = if cfg!(miri) { 6 } else { 100 };
    let mut heap: Heap<Vec<Gc<'static, Node<'static>>>> =
        Heap::with_chunk_size(4096, |_| Vec::new());
    let mut names: HashMap<Held<Node<'static>>, String> = HashMap::new();
    // Keyed weakly: keeps nothing alive.
    let mut seen: HashMap<HeldWeak<Node<'static>>, u64> = HashMap::new();
    let weak: Vec<HeldWeak<Node<'static>>> = heap.mutate(|mc, root| {
        (0..n)
            .map(|i| {
                node(mc, 1000 + i, "garbage"); // so that the nodes move
                let x = node(mc, i, "x");
                root.push(x);
                let held = mc.hold(x);
                names.insert(held.clone(), format!("n{i}"));
                seen.insert(mc.hold_weak(x), i);
                held.downgrade()
            })
            .collect()
    });
    for round in 0..3 {
        // The garbage, then the node the round before unrooted.
        assert_eq!(
            heap.collect().dropped,
            if round == 0 { n as usize } else { 1 }
        );
        // The weakly keyed entry of the node unrooted the round before
        // reads as dropped (and is the only one), and goes.
        let dropped: Vec<u64> = seen
            .iter()
            .filter(|(k, _)| k.is_dropped())
            .map(|(_, &i)| i)
            .collect();
        assert_eq!(dropped, if round == 0 { vec![] } else { vec![n - round] });
        seen.retain(|k, _| !k.is_dropped());
        heap.mutate(|mc, root| {
            for (i, &x) in root.iter().enumerate() {
                assert_eq!(names[&mc.hold(x)], format!("n{i}"));
                let up = mc.upgrade_held(&weak[i]).unwrap();
                assert_eq!(names.get_key_value(&up).unwrap().0, &up);
                assert_eq!(seen[&mc.hold_weak(x)], i as u64);
                assert_eq!(seen[&weak[i]], i as u64);
            }
            // A node the map no longer names is found by none of its handles.
            let last = *root.last().unwrap();
            names.remove(&mc.hold(last));
            assert!(!names.contains_key(&mc.hold(last)));
            root.pop();
        });
    }
    // One cell per node still held, and the unrooted one's (its weak
    // handle) until the next collection.
    assert_eq!(heap.detailed_stats().held, n as usize - 2);
    assert_eq!(seen.len(), n as usize - 2);
    drop((names, seen, weak));
    drop(heap);
    take_dropped();
    // A held node that is dropped (its handles were) leaves its place to
    // the next allocation, which is held as another object.
    let mut heap: Heap<Vec<Gc<'static, Node<'static>>>> = Heap::new(|_| Vec::new());
    let (gone, was, at) = heap.mutate(|mc, root| {
        root.push(node(mc, 1, "kept"));
        let b = node(mc, 2, "dropped");
        (mc.hold_weak(b), mc.hold(b), hash_of(&b))
    });
    drop(was);
    assert_eq!(heap.collect().dropped, 1);
    assert!(gone.is_dropped());
    heap.mutate(|mc, root| {
        let y = node(mc, 3, "new");
        assert_eq!(hash_of(&y), at, "allocated where the dropped node was");
        let held = mc.hold(y);
        assert!(mc.upgrade(&gone).is_none());
        let mut map = HashMap::from([(held, "new")]);
        assert_eq!(map[&mc.hold(y)], "new");
        map.clear();
        root.push(y);
    });
    // Every handle to the new node was dropped: the next collection
    // unlists its cell, as it did the dropped node's.
    heap.collect();
    assert_eq!(heap.detailed_stats().held, 0);
    drop(heap);
    take_dropped();
}

/// `held` finds the handle an object has, strong or weak, across moving
/// collections and through `Others`, without making a cell for an object
/// that has none; once a collection unlists an object's cell (its
/// handles dropped), the object has none again.
#[test]
fn held_finds_an_objects_handle_without_making_one() {
    take_dropped();
    let mut heap: Heap<Vec<Gc<'static, Node<'static>>>> =
        Heap::with_chunk_size(4096, |_| Vec::new());
    let (a, weak_b) = heap.mutate(|mc, root| {
        for i in 0..4 {
            node(mc, 100 + i, "garbage");
            root.push(node(mc, i, "kept"));
        }
        let a: Held<Node<'static>> = mc.hold(root[0]);
        (a, mc.hold_weak(root[1]))
    });
    assert_eq!(heap.detailed_stats().held, 2);
    for round in 0..2 {
        // The first collection drops the garbage and moves the nodes down.
        assert_eq!(heap.collect().dropped, if round == 0 { 4 } else { 0 });
        heap.mutate(|mc, root| {
            assert_eq!(mc.held(root[0]).as_ref(), Some(&a));
            let b = mc.held(root[1]).expect("a weak handle is a handle");
            assert!(b.downgrade() == weak_b);
            assert!(mc.held(root[2]).is_none() && mc.held(root[3]).is_none());
            let (_, others) = mc.split_mut(root[3]);
            assert_eq!(others.held(root[0]).as_ref(), Some(&a));
        });
        // No cell was made for the objects without handles.
        assert_eq!(heap.detailed_stats().held, 2);
    }
    drop((a, weak_b));
    heap.collect();
    heap.mutate(|mc, root| assert!(root.iter().all(|&n| mc.held(n).is_none())));
    assert_eq!(heap.detailed_stats().held, 0);
    drop(heap);
    take_dropped();
}

/// A `Held` and weak handles to one object: the object lives while a
/// `Held` does, however many weak handles there are (made by
/// `hold_weak`, `downgrade` and `clone`); `upgrade_held` makes a `Held`
/// again, which keeps it; once the last `Held` goes, the next collection
/// drops it, and every weak handle sees it.
#[test]
fn many_weak_handles_and_held_handles_to_one_object() {
    take_dropped();
    let k = if cfg!(miri) { 5 } else { 50 };
    let mut heap: Heap<()> = Heap::with_chunk_size(4096, |_| ());
    let (held, mut weak) = heap.mutate(|mc, ()| {
        for i in 0..10 {
            node(mc, 100 + i, "garbage before");
        }
        let object = node(mc, 1, "one");
        let held: Held<Node<'static>> = mc.hold(object);
        let mut weak: Vec<HeldWeak<Node<'static>>> = Vec::new();
        for _ in 0..k {
            weak.push(mc.hold_weak(object));
            weak.push(held.downgrade());
            weak.push(weak.last().unwrap().clone());
        }
        (held, weak)
    });
    // Every handle to the object shares one cell: the `Held`, its
    // downgrades and clones, and those `hold_weak` made.
    assert_eq!(heap.detailed_stats().held, 1);
    heap.collect();
    assert_eq!(take_dropped().len(), 10);
    heap.mutate(|mc, ()| {
        let object = mc.fetch(&held);
        for w in &weak {
            assert!(Gc::ptr_eq(mc.upgrade(w).unwrap(), object));
            assert!(HeldWeak::ptr_eq(w, &weak[0]));
        }
    });
    // A `Held` made back from a weak handle keeps the object when the
    // first one goes.
    let again: Held<Node<'static>> = heap.mutate(|mc, ()| mc.upgrade_held(&weak[4]).unwrap());
    assert!(Held::ptr_eq(&again, &held));
    drop(held);
    heap.collect();
    assert!(take_dropped().is_empty());
    assert_eq!(heap.mutate(|mc, ()| mc[&again].name.clone()), "one");
    // Weak handles dropped meanwhile change nothing; the others still work.
    weak.truncate(3);
    heap.collect();
    assert_eq!(heap.detailed_stats().held, 1);
    drop(again);
    heap.collect();
    assert_eq!(take_dropped(), [1]);
    assert!(weak.iter().all(HeldWeak::is_dropped));
    assert!(
        HeldWeak::ptr_eq(&weak[0], &weak[1]),
        "handles to one object stay equal once it is dropped"
    );
    assert!(heap.mutate(|mc, ()| mc.upgrade_held(&weak[0]).is_none()));
    assert_eq!(heap.detailed_stats().held, 0);
}

/// A weak handle kept inside an object of its own heap keeps nothing
/// alive (a `Held` there would keep its object as long as the heap).
#[test]
fn a_weak_handle_held_inside_its_own_heap_keeps_nothing() {
    #[derive(Managed)]
    struct Owner {
        #[managed(skip)]
        _probe: Probe,
        me: Option<HeldWeak<Owner>>,
    }
    take_dropped();
    let mut heap: Heap<Option<Gc<'static, Owner>>> = Heap::new(|_| None);
    let outside = heap.mutate(|mc, root| {
        let owner = Gc::new(
            mc,
            Owner {
                _probe: Probe::new(42),
                me: None,
            },
        );
        mc[owner].me = Some(mc.hold_weak(owner));
        *root = Some(owner);
        mc[owner].me.clone().unwrap()
    });
    heap.collect();
    heap.mutate(|mc, root| {
        let me = mc[root.unwrap()].me.as_ref().unwrap();
        assert!(Gc::ptr_eq(mc.upgrade(me).unwrap(), root.unwrap()));
        *root = None;
    });
    heap.collect();
    assert_eq!(take_dropped(), [42]);
    assert!(outside.is_dropped());
}

/// A destructor's panic cuts a collection short; the weakly held objects
/// it found unreachable are dead all the same (some of them were
/// dropped), and the others still upgrade.
#[test]
fn weakly_held_handles_forget_when_a_destructor_panics() {
    take_dropped();
    let mut heap: Heap<Vec<Gc<'static, Node<'static>>>> =
        Heap::with_chunk_size(4096, |_| Vec::new());
    let weak: Vec<HeldWeak<Node<'static>>> = heap.mutate(|mc, kept| {
        (0..10)
            .map(|i| {
                let object = node(mc, i, "x");
                if i == 4 {
                    mc[object].probe.panic_on_drop = true;
                }
                if i % 2 == 1 {
                    kept.push(object);
                }
                mc.hold_weak(object)
            })
            .collect()
    });
    let result = catch_unwind(AssertUnwindSafe(|| heap.collect()));
    assert_eq!(panic_message(result), "probe 4 panics on drop");
    let dropped = take_dropped();
    assert!(dropped.contains(&4));
    heap.mutate(|mc, _| {
        for (i, w) in weak.iter().enumerate() {
            assert_eq!(mc.upgrade(w).is_some(), i % 2 == 1, "{i}");
            assert_eq!(w.is_dropped(), i % 2 == 0, "{i}");
        }
    });
    heap.collect();
    let mut all = dropped;
    all.extend(take_dropped());
    all.sort_unstable();
    assert_eq!(all, [0, 2, 4, 6, 8]);
    assert_eq!(heap.detailed_stats().held, 5);
}

/// A weak handle whose object is alive in another heap is refused: with a
/// panic at the caller's line (`upgrade`, `upgrade_held`), or `None`
/// (`try_upgrade`). Once its heap is dropped its object is gone, and it
/// gives `None` everywhere, also with a `Held` to the same cell left.
#[test]
fn a_weakly_held_object_of_another_heap_is_refused_and_one_of_a_dropped_heap_is_gone() {
    let mut a: Heap<()> = Heap::new(|_| ());
    let mut b: Heap<()> = Heap::new(|_| ());
    let (held, weak, alone): (Held<u64>, HeldWeak<u64>, HeldWeak<u64>) = a.mutate(|mc, ()| {
        let held = mc.hold(Gc::new(mc, 7u64));
        let weak = held.downgrade();
        let alone = mc.hold_weak(Gc::new(mc, 8u64));
        (held, weak, alone)
    });
    assert_eq!(a.mutate(|mc, ()| mc.upgrade(&weak).map(|g| mc[g])), Some(7));
    assert!(b.mutate(|mc, ()| mc.try_upgrade(&weak).is_none()));
    let refused = catch_unwind(AssertUnwindSafe(|| {
        b.mutate(|mc, ()| {
            let _ = mc.upgrade(&alone);
        })
    }));
    assert_eq!(
        panic_message(refused),
        "a `HeldWeak` handle was upgraded in a mutation of another heap than its own"
    );
    let here = file!();
    let (file, line) = panic_location(|| {
        b.mutate(|mc, ()| {
            let _ = mc.upgrade(&weak);
        });
    });
    assert_eq!((file.as_str(), line), (here, line!() - 3));
    let (file, line) = panic_location(|| {
        b.mutate(|mc, ()| {
            let _ = mc.upgrade_held(&weak);
        });
    });
    assert_eq!((file.as_str(), line), (here, line!() - 3));
    // The heap goes; its handles stay.
    drop(a);
    for w in [&weak, &alone] {
        assert!(w.is_dropped());
        assert!(b.mutate(|mc, ()| mc.upgrade(w).is_none()));
        assert!(b.mutate(|mc, ()| mc.try_upgrade(w).is_none()));
        assert!(b.mutate(|mc, ()| mc.upgrade_held(w).is_none()));
    }
    let mut c: Heap<()> = Heap::new(|_| ());
    assert!(c.mutate(|mc, ()| mc.upgrade(&weak).is_none()));
    assert!(c.mutate(|mc, ()| mc.try_fetch(&held).is_none()));
    // Handles of the dropped heap are not the same object as each other's
    // unless they share a cell.
    let other: Held<u64> = c.mutate(|mc, ()| mc.hold(Gc::new(mc, 9u64)));
    drop(c);
    assert!(!Held::ptr_eq(&held, &other));
    assert!(Held::ptr_eq(&held, &held.clone()));
    assert!(held.downgrade().is_dropped());
    drop((held, weak, alone, other));
}

#[test]
fn weak_keys_make_an_identity_map_that_keeps_nothing_alive() {
    #[derive(Managed)]
    struct Vm<'gc> {
        objects: Vec<Gc<'gc, Box<u64>>>,
        ids: HashMap<GcWeak<'gc, Box<u64>>, u64>,
    }
    let n: u64 = if cfg!(miri) { 40 } else { 2000 };
    let mut heap: Heap<Vm<'static>> = Heap::new(|_| Vm {
        objects: Vec::new(),
        ids: HashMap::new(),
    });
    heap.mutate(|mc, vm| {
        for i in 0..n {
            let object = Gc::new(mc, Box::new(i));
            // Garbage in between, so that the survivors move.
            Gc::new(mc, Box::new(u64::MAX));
            vm.objects.push(object);
            assert!(vm.ids.insert(object.downgrade(), i).is_none());
        }
        // Keep every third object.
        let mut i = 0;
        vm.objects.retain(|_| {
            i += 1;
            (i - 1) % 3 == 0
        });
    });
    let before: Vec<usize> =
        heap.read(|_, vm| vm.objects.iter().map(|&o| o.as_ptr().addr()).collect());
    heap.collect();
    let after: Vec<usize> =
        heap.read(|_, vm| vm.objects.iter().map(|&o| o.as_ptr().addr()).collect());
    assert_ne!(before, after, "survivors moved");
    heap.mutate(|mc, vm| {
        // The dropped objects' entries are gone with them.
        assert!(!vm.ids.contains_key(&GcWeak::new()));
        assert_eq!(vm.ids.len(), vm.objects.len());
        for &object in &vm.objects {
            assert_eq!(
                vm.ids[&object.downgrade()],
                *mc[object],
                "found after the move"
            );
        }
    });
}

/// A map key that holds a weak handle and orders by a number of its own
/// (handles have no order), for the B-tree maps and sets.
#[derive(Managed)]
struct Numbered<'gc, T = Box<u64>> {
    object: GcWeak<'gc, T>,
    #[managed(skip)]
    number: u64,
}

impl<T> PartialEq for Numbered<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.number == other.number
    }
}

impl<T> Eq for Numbered<'_, T> {}

impl<T> PartialOrd for Numbered<'_, T> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Numbered<'_, T> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.number.cmp(&other.number)
    }
}

#[derive(Managed)]
struct WeakTables<'gc> {
    objects: Vec<Option<Gc<'gc, Box<u64>>>>,
    map: HashMap<GcWeak<'gc, Box<u64>>, Tracked>,
    set: HashSet<GcWeak<'gc, Box<u64>>>,
    pairs: HashMap<(GcWeak<'gc, Box<u64>>, u32), u64>,
    tree: BTreeMap<Numbered<'gc>, Tracked>,
    tree_set: BTreeSet<Numbered<'gc>>,
    strong: HashMap<Gc<'gc, Box<u64>>, u64>,
    /// Weak values: an interning table.
    interned: HashMap<u64, GcWeak<'gc, Box<u64>>>,
    /// Pairs of weak values, one of them to a survivor.
    paired: BTreeMap<u64, [GcWeak<'gc, Box<u64>>; 2]>,
}

/// Fills `WeakTables` with `n` objects, each a key of every table (with
/// garbage between them, so that survivors move), and an entry under the
/// dead handle in the maps that take one.
fn weak_tables(n: u64, ledger: Ledger) -> Heap<WeakTables<'static>> {
    let mut heap: Heap<WeakTables<'static>> = Heap::new(|_| WeakTables {
        objects: Vec::new(),
        map: HashMap::new(),
        set: HashSet::new(),
        pairs: HashMap::new(),
        tree: BTreeMap::new(),
        tree_set: BTreeSet::new(),
        strong: HashMap::new(),
        interned: HashMap::new(),
        paired: BTreeMap::new(),
    });
    heap.mutate(|mc, t| {
        for i in 0..n {
            let object = Gc::new(mc, Box::new(i));
            Gc::new(mc, Box::new(u64::MAX));
            let weak = object.downgrade();
            t.objects.push(Some(object));
            t.map.insert(weak, ledger.track(i as u32));
            t.set.insert(weak);
            t.pairs.insert((weak, i as u32), i);
            t.tree.insert(
                Numbered {
                    object: weak,
                    number: i,
                },
                ledger.track(i as u32 + 10_000),
            );
            t.tree_set.insert(Numbered {
                object: weak,
                number: i,
            });
            t.strong.insert(object, i);
            t.interned.insert(i, weak);
        }
        let first = t.objects[0].unwrap().downgrade();
        for i in 0..n {
            t.paired
                .insert(i, [t.objects[i as usize].unwrap().downgrade(), first]);
        }
        // Keys that were dead from the start are ordinary keys.
        t.map.insert(GcWeak::new(), ledger.track(99_999));
        t.set.insert(GcWeak::new());
    });
    heap
}

/// Drops the objects `gone` names from the root, collects, and checks
/// that every weakly keyed table forgot exactly those objects (their
/// values dropped once), that the others are found by their moved
/// objects, and that the keys dead from the start stayed.
fn check_weak_tables(heap: &mut Heap<WeakTables<'static>>, ledger: Ledger, gone: &[u64]) {
    let n = heap.read(|_, t| t.objects.len());
    heap.mutate(|mc, t| {
        for &i in gone {
            let object = t.objects[i as usize].take().expect("dropped once");
            // The strong map keeps no object it should not.
            t.strong.remove(&object);
            let _ = mc;
        }
    });
    let before: Vec<usize> = heap.read(|_, t| {
        t.objects
            .iter()
            .flatten()
            .map(|o| o.as_ptr().addr())
            .collect()
    });
    ledger.clear();
    heap.collect();
    let after: Vec<usize> = heap.read(|_, t| {
        t.objects
            .iter()
            .flatten()
            .map(|o| o.as_ptr().addr())
            .collect()
    });
    assert_ne!(before, after, "survivors moved");
    let mut dropped = ledger.sorted();
    let mut expected: Vec<u32> = gone.iter().map(|&i| i as u32).collect();
    expected.extend(gone.iter().map(|&i| i as u32 + 10_000));
    expected.sort_unstable();
    dropped.dedup();
    assert_eq!(dropped, expected, "each dropped key's values, once");
    assert_eq!(ledger.total(), expected.len(), "no value dropped twice");
    heap.read(|mc, t| {
        let live = t.objects.iter().flatten().count();
        assert_eq!((t.map.len(), t.set.len()), (live + 1, live + 1));
        assert_eq!(
            (t.pairs.len(), t.tree.len(), t.tree_set.len()),
            (live, live, live)
        );
        assert_eq!(t.strong.len(), live);
        assert_eq!(
            t.interned.len(),
            live,
            "weak values leave with their objects"
        );
        assert_eq!(t.paired.len(), n, "a pair with a live handle stays");
        assert_eq!(
            t.map[&GcWeak::new()].id,
            99_999,
            "a key dead from the start"
        );
        assert!(t.set.contains(&GcWeak::new()));
        for (i, object) in t.objects.iter().enumerate() {
            let Some(object) = *object else { continue };
            let weak = object.downgrade();
            assert_eq!(*mc[object], i as u64);
            assert_eq!(t.map[&weak].id, i as u32, "found after the move");
            assert!(t.set.contains(&weak));
            assert_eq!(t.pairs[&(weak, i as u32)], i as u64);
            assert_eq!(t.strong[&object], i as u64);
            assert_eq!(t.interned[&(i as u64)].upgrade(mc), Some(object));
            let numbered = Numbered {
                object: weak,
                number: i as u64,
            };
            assert_eq!(t.tree[&numbered].id, i as u32 + 10_000);
            assert!(GcWeak::ptr_eq(
                t.tree_set.get(&numbered).unwrap().object,
                weak
            ));
        }
        for (key, _) in t.tree.iter() {
            assert!(!key.object.is_dropped(), "no dead key left in the tree");
        }
    });
}

#[test]
fn weak_keys_and_values_whose_objects_die_leave_their_maps_and_sets() {
    let n: u64 = if cfg!(miri) { 24 } else { 600 };
    let ledger = Ledger::new();
    let mut heap = weak_tables(n, ledger);
    // Few keys die (the tables take out only the keys that change)...
    check_weak_tables(&mut heap, ledger, &[3, 5]);
    // ...then most (the tables take every entry out and file it again).
    let most: Vec<u64> = (0..n)
        .filter(|i| i % 3 != 0 && ![3, 5].contains(i))
        .collect();
    check_weak_tables(&mut heap, ledger, &most);
    // A collection that drops nothing keeps every entry.
    ledger.clear();
    heap.collect();
    assert_eq!(ledger.total(), 0);
    let live = heap.read(|_, t| t.objects.iter().flatten().count());
    assert_eq!(heap.read(|_, t| t.map.len()), live + 1);
    drop(heap);
    // Dropping the heap drops the values left, each once.
    assert_eq!(ledger.total(), 2 * live + 1);
}

/// An object of the ephemeron tests: its destructor is recorded, and it
/// holds a weakly keyed table of its own.
#[derive(Managed)]
struct Eph<'gc> {
    tag: Tracked,
    notes: HashMap<GcWeak<'gc, Eph<'gc>>, Gc<'gc, Eph<'gc>>>,
}

#[derive(Managed)]
struct EphRoot<'gc> {
    held: Vec<Option<Gc<'gc, Eph<'gc>>>>,
    /// Each object's entry names the object itself.
    itself: HashMap<GcWeak<'gc, Eph<'gc>>, Gc<'gc, Eph<'gc>>>,
    /// Each object's entry names a fresh object only it reaches, in a list.
    tree: BTreeMap<Numbered<'gc, Eph<'gc>>, Vec<Gc<'gc, Eph<'gc>>>>,
    /// Keyed by two objects: the value lives while both do.
    pairs: HashMap<(GcWeak<'gc, Eph<'gc>>, GcWeak<'gc, Eph<'gc>>), Gc<'gc, Eph<'gc>>>,
}

fn eph<'gc>(mc: &Mutation<'gc>, ledger: Ledger, id: u32) -> Gc<'gc, Eph<'gc>> {
    // Garbage before each object, so that the survivors move.
    Gc::new(mc, [0u64; 3]);
    Gc::new(
        mc,
        Eph {
            tag: ledger.track(id),
            notes: HashMap::new(),
        },
    )
}

/// An ephemeron test's heap, empty, in small chunks.
fn empty_ephemeron_heap() -> Heap<EphRoot<'static>> {
    Heap::with_chunk_size(4096, |_| EphRoot {
        held: Vec::new(),
        itself: HashMap::new(),
        tree: BTreeMap::new(),
        pairs: HashMap::new(),
    })
}

/// Ids: `i` the held objects, `1000 + i` the tree's, `2000 + i` the
/// pairs'.
fn ephemeron_heap(n: u32, ledger: Ledger) -> Heap<EphRoot<'static>> {
    let mut heap = empty_ephemeron_heap();
    heap.mutate(|mc, root| {
        let objects: Vec<_> = (0..n).map(|i| eph(mc, ledger, i)).collect();
        for (i, &object) in objects.iter().enumerate() {
            let i = i as u32;
            let weak = object.downgrade();
            root.held.push(Some(object));
            root.itself.insert(weak, object);
            let only = eph(mc, ledger, 1000 + i);
            root.tree.insert(
                Numbered {
                    object: weak,
                    number: u64::from(i),
                },
                vec![only],
            );
            let next = objects[(i as usize + 1) % objects.len()].downgrade();
            root.pairs.insert((weak, next), eph(mc, ledger, 2000 + i));
        }
    });
    heap
}

/// Drops the held objects `gone` names, collects with `collect`, and
/// checks that exactly their objects and those only their entries reached
/// were dropped, once, and that the entries of the others lead to their
/// moved objects.
fn check_ephemerons(
    heap: &mut Heap<EphRoot<'static>>,
    ledger: Ledger,
    gone: &[u32],
    collect: fn(&mut Heap<EphRoot<'static>>) -> CollectStats,
) {
    let n = heap.read(|_, root| root.held.len()) as u32;
    // The pairs whose values are still there.
    let paired_before: Vec<u32> = heap.read(|mc, root| {
        root.pairs
            .values()
            .map(|&value| mc[value].tag.id - 2000)
            .collect()
    });
    heap.mutate(|_, root| {
        for &i in gone {
            root.held[i as usize].take().expect("held");
        }
    });
    ledger.clear();
    collect(heap);
    // The held objects and the tree's objects of the dead keys; the
    // pairs' values of the keys that died now (a pair's key may have died
    // in an earlier round).
    let mut expected = Vec::new();
    for &i in gone {
        expected.extend([i, 1000 + i]);
    }
    let pairs_gone = (0..n)
        .filter(|&i| gone.contains(&i) || gone.contains(&((i + 1) % n)))
        .filter(|i| paired_before.contains(i));
    expected.extend(pairs_gone.map(|i| 2000 + i));
    expected.sort_unstable();
    assert_eq!(
        ledger.sorted(),
        expected,
        "the dead keys' objects, each once"
    );
    heap.read(|mc, root| {
        let alive: Vec<u32> = (0..n)
            .filter(|&i| root.held[i as usize].is_some())
            .collect();
        assert_eq!(root.itself.len(), alive.len());
        assert_eq!(root.tree.len(), alive.len());
        let pairs = alive
            .iter()
            .filter(|&&i| root.held[((i + 1) % n) as usize].is_some())
            .count();
        assert_eq!(root.pairs.len(), pairs, "a pair goes with either key");
        for &i in &alive {
            let object = root.held[i as usize].unwrap();
            let weak = object.downgrade();
            assert!(Gc::ptr_eq(root.itself[&weak], object));
            assert_eq!(mc[object].tag.id, i);
            let key = Numbered {
                object: weak,
                number: u64::from(i),
            };
            assert_eq!(mc[root.tree[&key][0]].tag.id, 1000 + i);
            if let Some(next) = root.held[((i + 1) % n) as usize] {
                let value = root.pairs[&(weak, next.downgrade())];
                assert_eq!(mc[value].tag.id, 2000 + i);
            }
        }
    });
}

#[test]
fn weakly_keyed_values_do_not_keep_their_keys_alive() {
    let n: u32 = if cfg!(miri) { 12 } else { 400 };
    let ledger = Ledger::new();
    let mut heap = ephemeron_heap(n, ledger);
    // Nothing dies while every key is held.
    ledger.clear();
    heap.collect();
    assert_eq!(ledger.total(), 0);
    check_ephemerons(&mut heap, ledger, &[2, 3, 7], Heap::collect);
    let most: Vec<u32> = (0..n)
        .filter(|i| i % 4 != 0 && ![2, 3, 7].contains(i))
        .collect();
    check_ephemerons(&mut heap, ledger, &most, Heap::compact);
    check_ephemerons(&mut heap, ledger, &[4], Heap::collect);
    // Dropping the heap drops what is left, each once.
    let left = heap.read(|_, root| root.held.iter().flatten().count());
    ledger.clear();
    drop(heap);
    assert!(ledger.total() >= 2 * left);
    let mut log = ledger.sorted();
    log.dedup();
    assert_eq!(log.len(), ledger.total(), "once each");
}

#[test]
fn a_chain_of_weakly_keyed_entries_lives_while_its_head_does() {
    let n: u32 = if cfg!(miri) { 10 } else { 300 };
    let ledger = Ledger::new();
    let mut heap = empty_ephemeron_heap();
    // Object `i`'s entry (in the root's table, or in object `i - 1`'s own
    // table for odd `i`) names object `i + 1`; only object 0 is held.
    // Marking reaches one more link per round, whatever the order.
    heap.mutate(|mc, root| {
        let objects: Vec<_> = (0..n).map(|i| eph(mc, ledger, i)).collect();
        root.held.push(Some(objects[0]));
        for i in (0..n as usize - 1).rev() {
            let (key, value) = (objects[i].downgrade(), objects[i + 1]);
            if i % 2 == 1 {
                mc[objects[i - 1]].notes.insert(key, value);
            } else {
                root.itself.insert(key, value);
            }
        }
    });
    let walk = |heap: &Heap<EphRoot<'static>>| -> Vec<u32> {
        heap.read(|mc, root| {
            let mut ids = Vec::new();
            let mut at = root.held[0];
            let mut previous: Option<Gc<'_, Eph<'_>>> = None;
            while let Some(object) = at {
                let id = mc[object].tag.id;
                ids.push(id);
                let key = object.downgrade();
                at = if id % 2 == 1 {
                    previous.and_then(|p| mc[p].notes.get(&key).copied())
                } else {
                    root.itself.get(&key).copied()
                };
                previous = Some(object);
            }
            ids
        })
    };
    let whole: Vec<u32> = (0..n).collect();
    assert_eq!(walk(&heap), whole);
    for _ in 0..2 {
        heap.collect();
        assert_eq!(ledger.total(), 0, "the whole chain lives");
        assert_eq!(walk(&heap), whole, "and is found through its moves");
    }
    heap.mutate(|_, root| root.held[0] = None);
    heap.collect();
    assert_eq!(ledger.sorted(), whole, "then dies whole, each once");
    heap.read(|_, root| assert!(root.itself.is_empty()));
}

#[test]
fn weakly_keyed_entries_survive_a_destructor_panic() {
    let n: u32 = if cfg!(miri) { 8 } else { 200 };
    let ledger = Ledger::new();
    let mut heap = ephemeron_heap(n, ledger);
    // A dying object whose destructor panics, beside dying keys.
    heap.mutate(|mc, root| {
        let loud = Gc::new(
            mc,
            Eph {
                tag: ledger.track_loud(9999),
                notes: HashMap::new(),
            },
        );
        let _ = (loud, root);
    });
    heap.mutate(|_, root| {
        for i in [1, 2] {
            root.held[i].take();
        }
    });
    ledger.clear();
    let result = catch_unwind(AssertUnwindSafe(|| heap.collect()));
    assert!(result.is_err(), "the destructor's panic propagates");
    // The entries of the dead keys are gone; the others lead to live
    // objects; the next collection finishes the work.
    heap.read(|mc, root| {
        assert_eq!(root.itself.len(), n as usize - 2);
        for (key, &value) in &root.itself {
            assert!(Gc::ptr_eq(key.upgrade(mc).unwrap(), value));
        }
    });
    heap.collect();
    check_ephemerons(&mut heap, ledger, &[5], Heap::collect);
    let mut log = ledger.sorted();
    log.dedup();
    assert_eq!(log.len(), ledger.total(), "once each");
}

#[test]
fn a_panicking_destructor_in_a_dropped_map_entry_propagates_from_the_collection() {
    // One panicking value in each table in turn (two would abort, as in
    // any `Vec`).
    for loud in [3, 1003, 2003, 3003] {
        dropped_map_entry_panics(loud);
    }
}

fn dropped_map_entry_panics(loud: u32) {
    #[derive(Managed)]
    struct Tables<'gc> {
        objects: Vec<Option<Gc<'gc, Box<u64>>>>,
        by_key: HashMap<GcWeak<'gc, Box<u64>>, Tracked>,
        tree: BTreeMap<Numbered<'gc>, Tracked>,
        by_value: HashMap<u64, (GcWeak<'gc, Box<u64>>, Tracked)>,
        tree_values: BTreeMap<u64, (GcWeak<'gc, Box<u64>>, Tracked)>,
    }
    let n: u64 = if cfg!(miri) { 12 } else { 300 };
    let ledger = Ledger::new();
    let mut heap: Heap<Tables<'static>> = Heap::new(|_| Tables {
        objects: Vec::new(),
        by_key: HashMap::new(),
        tree: BTreeMap::new(),
        by_value: HashMap::new(),
        tree_values: BTreeMap::new(),
    });
    let track = |id: u64| {
        let id = id as u32;
        if id == loud {
            ledger.track_loud(id)
        } else {
            ledger.track(id)
        }
    };
    heap.mutate(|mc, t| {
        for i in 0..n {
            Gc::new(mc, Box::new(u64::MAX));
            let object = Gc::new(mc, Box::new(i));
            let weak = object.downgrade();
            t.objects.push(Some(object));
            t.by_key.insert(weak, track(i));
            t.tree.insert(
                Numbered {
                    object: weak,
                    number: i,
                },
                track(1000 + i),
            );
            t.by_value.insert(i, (weak, track(2000 + i)));
            t.tree_values.insert(i, (weak, track(3000 + i)));
        }
        for object in &mut t.objects[..n as usize / 2] {
            *object = None;
        }
    });
    ledger.clear();
    let result = catch_unwind(AssertUnwindSafe(|| heap.collect()));
    assert!(
        panic_message(result).contains("destructor panic"),
        "the destructors' panic propagates"
    );
    // Every entry of a dropped object left its table, its value dropped
    // once, the panicking ones too.
    let mut expected: Vec<u32> = (0..n / 2)
        .flat_map(|i| [i, 1000 + i, 2000 + i, 3000 + i])
        .map(|id| id as u32)
        .collect();
    expected.sort_unstable();
    assert_eq!(ledger.sorted(), expected);
    // The heap is consistent: every handle was rewritten before the
    // entries were dropped, so the survivors are found after their moves.
    let check = |heap: &Heap<Tables<'static>>| {
        heap.read(|mc, t| {
            let live = n as usize / 2;
            assert_eq!(t.by_key.len(), live);
            assert_eq!(t.tree.len(), live);
            assert_eq!(t.by_value.len(), live);
            assert_eq!(t.tree_values.len(), live);
            for (i, object) in t.objects.iter().enumerate() {
                let Some(object) = *object else { continue };
                let weak = object.downgrade();
                assert_eq!(*mc[object], i as u64);
                assert_eq!(t.by_key[&weak].id, i as u32);
                let key = Numbered {
                    object: weak,
                    number: i as u64,
                };
                assert_eq!(t.tree[&key].id, 1000 + i as u32);
                assert!(GcWeak::ptr_eq(t.by_value[&(i as u64)].0, weak));
                assert!(GcWeak::ptr_eq(t.tree_values[&(i as u64)].0, weak));
            }
        })
    };
    check(&heap);
    ledger.clear();
    heap.collect();
    assert_eq!(ledger.total(), 0, "nothing more to drop");
    check(&heap);
    drop(heap);
    assert_eq!(ledger.total(), 4 * n as usize / 2, "the rest, once each");
}

#[test]
fn shrink_to_fit_gives_back_the_destructor_list() {
    let n = if cfg!(miri) { 300 } else { 100_000 };
    let mut heap: Heap<Vec<Gc<'static, String>>> = Heap::new(|_| Vec::new());
    heap.mutate(|mc, _| {
        for i in 0..n {
            Gc::new(mc, i.to_string());
        }
    });
    let peak = heap.detailed_stats().reserved_bytes;
    heap.collect();
    heap.shrink_to_fit();
    let after = heap.detailed_stats();
    assert_eq!(after.objects_with_destructors, 0);
    // The chunks and the list of 16-byte destructor entries are gone.
    assert!(
        after.reserved_bytes < peak / 8,
        "{} of {peak} bytes still reserved",
        after.reserved_bytes
    );
}

#[test]
fn nan_boxes_keep_every_number_and_immediate() {
    type V = NanBox<'static, u64>;
    let numbers = [
        0.0,
        -0.0,
        1.0,
        -1.5,
        f64::MIN_POSITIVE,
        f64::MIN_POSITIVE / 4.0, // subnormal
        f64::MAX,
        f64::MIN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::EPSILON,
    ];
    for x in numbers {
        let v = V::from_f64(x);
        assert_eq!(v.as_f64().map(f64::to_bits), Some(x.to_bits()), "{x}");
        assert!(v.as_immediate().is_none() && !v.is_gc());
    }
    // Every NaN, whatever its sign and payload (those of the tagged words
    // included), comes back as the canonical NaN, never as a tagged word.
    for bits in [
        f64::NAN.to_bits(),
        0xfff8_0000_0000_0000,
        0xfffc_0000_dead_beef,
        0xfffd_0001_0000_0002,
        0x7ff0_0000_0000_0001,
        u64::MAX,
    ] {
        let v = V::from_f64(f64::from_bits(bits));
        assert!(v.as_f64().is_some_and(f64::is_nan), "{bits:#x}");
        assert_eq!(v, V::from_f64(f64::NAN), "one NaN");
        assert!(v.as_immediate().is_none() && !v.is_gc());
    }
    for (tag, payload) in [(0, 0), (1, 1), (u16::MAX, u32::MAX), (7, 0x8000_0000)] {
        let v = V::immediate(tag, payload);
        assert_eq!(v.as_immediate(), Some((tag, payload)));
        assert!(v.as_f64().is_none() && !v.is_gc());
    }
    assert_ne!(V::from_f64(0.0), V::from_f64(-0.0), "raw equality");
    assert_eq!(size_of::<V>(), 8);
}

#[test]
fn nan_boxed_handles_follow_their_objects_through_collections() {
    /// A cons cell whose fields are NaN-boxed values.
    #[derive(Managed)]
    struct Cell<'gc> {
        head: NanBox<'gc, Cell<'gc>>,
        tail: NanBox<'gc, Cell<'gc>>,
    }
    #[derive(Managed)]
    struct Vm<'gc> {
        stack: Vec<NanBox<'gc, Cell<'gc>>>,
        names: HashMap<NanBox<'gc, Cell<'gc>>, String>,
    }
    const NIL: u16 = 0;
    let n: u32 = if cfg!(miri) { 30 } else { 3000 };
    let mut heap: Heap<Vm<'static>> = Heap::new(|_| Vm {
        stack: Vec::new(),
        names: HashMap::new(),
    });
    // Lists of numbers (with garbage between), each list's head named.
    heap.mutate(|mc, vm| {
        for list in 0..3u32 {
            let mut tail = NanBox::immediate(NIL, 0);
            for i in 0..n {
                Gc::new(
                    mc,
                    Cell {
                        head: NanBox::from_f64(-1.0),
                        tail: NanBox::immediate(NIL, 0),
                    },
                );
                let cell = Gc::new(
                    mc,
                    Cell {
                        head: NanBox::from_f64(f64::from(list * n + i)),
                        tail,
                    },
                );
                tail = NanBox::from_gc(cell);
            }
            vm.stack.push(tail);
            vm.names.insert(tail, format!("list {list}"));
        }
    });
    let sum = |heap: &Heap<Vm<'static>>, list: usize| -> f64 {
        heap.read(|mc, vm| {
            let mut total = 0.0;
            let mut at = vm.stack[list];
            while let Some(cell) = at.as_gc() {
                total += mc[cell].head.as_f64().unwrap();
                at = mc[cell].tail;
            }
            assert_eq!(at.as_immediate(), Some((NIL, 0)));
            total
        })
    };
    let expected = |list: u32| (0..n).map(|i| f64::from(list * n + i)).sum::<f64>();
    for round in 0..3 {
        let before = heap.read(|_, vm| vm.stack[0].to_bits());
        let stats = heap.collect();
        assert_eq!(
            stats.live_objects,
            (3 - round) * n as usize,
            "round {round}"
        );
        if round == 0 {
            assert_ne!(heap.read(|_, vm| vm.stack[0].to_bits()), before, "moved");
        }
        for list in 0..3 - round {
            assert_eq!(sum(&heap, list), expected(list as u32));
        }
        heap.mutate(|_, vm| {
            for (list, value) in vm.stack.iter().enumerate() {
                assert_eq!(vm.names[value], format!("list {list}"), "keys follow");
            }
            let dropped = vm.stack.pop().unwrap();
            vm.names.remove(&dropped);
        });
    }
}

/// A widget trait for the trait-object handles held outside the heap.
trait Widget<'gc> {
    fn label(&self) -> String;
    fn children(&self) -> usize;
    fn rename(&mut self, to: &str);
}

impl<'gc> Widget<'gc> for Node<'gc> {
    fn label(&self) -> String {
        self.name.clone()
    }
    fn children(&self) -> usize {
        self.children.len()
    }
    fn rename(&mut self, to: &str) {
        self.name = to.to_owned();
    }
}

/// A widget with no handles.
#[derive(Managed)]
struct Leaf {
    #[managed(skip)]
    probe: Probe,
}

impl<'gc> Widget<'gc> for Leaf {
    fn label(&self) -> String {
        format!("probe {}", self.probe.id)
    }
    fn children(&self) -> usize {
        0
    }
    fn rename(&mut self, _: &str) {}
}

type AnyWidget = dyn_rootable!(for<'gc> dyn Widget<'gc> + 'gc);

/// Trait-object handles held outside the heap: a `HeldDyn` keeps its
/// object and everything the object reaches alive through collections that
/// move them, redeems to a `GcDyn` with the object's own vtable, writes
/// through `mc[&held]`, and shares its cell with its clones and weak
/// handles; a `HeldDynWeak` follows its object without keeping it; another
/// heap refuses both.
#[test]
fn held_trait_object_handles_keep_follow_and_release_their_objects() {
    let mut heap: Heap<()> = Heap::new(|_| ());
    let (tree, leaf, hover): (
        HeldDyn<AnyWidget>,
        HeldDyn<AnyWidget>,
        HeldDynWeak<AnyWidget>,
    ) = heap.mutate(|mc, ()| {
        // Garbage before and between, so that collections move the
        // survivors.
        let _ = node(mc, 100, "garbage");
        let parent = node(mc, 1, "panel");
        for (i, name) in ["ok", "cancel", "help"].into_iter().enumerate() {
            let _ = node(mc, 101 + i as u64, "garbage");
            let child = node(mc, 2 + i as u64, name);
            mc[child].parent = Some(parent);
            mc[parent].children.push(child);
        }
        let leaf = Gc::new(
            mc,
            Leaf {
                probe: Probe::new(10),
            },
        );
        let hovered = node(mc, 20, "tooltip");
        (
            mc.hold_dyn(unsize!(parent => dyn Widget<'_>)),
            mc.hold_dyn(unsize!(leaf => dyn Widget<'_>)),
            mc.hold_dyn_weak(unsize!(hovered => dyn Widget<'_>)),
        )
    });
    let address = |heap: &mut Heap<()>, held: &HeldDyn<AnyWidget>| {
        heap.mutate(|mc, ()| std::ptr::from_ref(&mc[held]).cast::<u8>().addr())
    };
    let before = address(&mut heap, &tree);
    let stats = heap.collect();
    // The panel, its three children and the leaf; the garbage and the
    // weakly held tooltip are dropped.
    assert_eq!(stats.live_objects, 5);
    assert_eq!(take_dropped(), [20, 100, 101, 102, 103]);
    assert_ne!(address(&mut heap, &tree), before, "the panel moved");
    assert!(hover.is_dropped());
    heap.mutate(|mc, ()| {
        assert!(mc.upgrade_dyn(&hover).is_none());
        assert_eq!(
            (mc[&tree].label(), mc[&tree].children()),
            ("panel".into(), 3)
        );
        assert_eq!(mc[&leaf].label(), "probe 10");
        // Written through the held handle, read back through a fetched one.
        mc[&tree].rename("dialog");
        let panel = mc.fetch_dyn(&tree);
        assert_eq!(mc[panel].label(), "dialog");
    });
    // Clones and weak handles share the cell; a weak one upgrades while a
    // strong one lives, and to a `HeldDyn` again.
    let clone = tree.clone();
    assert!(HeldDyn::ptr_eq(&clone, &tree) && !HeldDyn::ptr_eq(&leaf, &tree));
    let weak = tree.downgrade();
    assert!(HeldDynWeak::ptr_eq(&weak, &clone.downgrade()));
    drop(tree);
    heap.collect();
    assert!(take_dropped().is_empty(), "the clone keeps the panel");
    let again = heap.mutate(|mc, ()| mc.upgrade_held_dyn(&weak)).unwrap();
    drop(clone);
    heap.collect();
    assert!(take_dropped().is_empty(), "the upgraded handle keeps it");
    assert_eq!(heap.mutate(|mc, ()| mc[&again].label()), "dialog");
    // Another heap refuses them, with `None` or a panic naming the handle.
    let mut other: Heap<()> = Heap::new(|_| ());
    assert!(other.mutate(|mc, ()| mc.try_fetch_dyn(&again).is_none()));
    assert!(other.mutate(|mc, ()| mc.try_upgrade_dyn(&weak).is_none()));
    let refused = catch_unwind(AssertUnwindSafe(|| {
        other.mutate(|mc, ()| {
            let _ = mc.fetch_dyn(&again);
        })
    }));
    assert_eq!(
        panic_message(refused),
        "a `HeldDyn` handle was fetched in a mutation of another heap than its own"
    );
    let here = file!();
    let (file, line) = panic_location(|| {
        other.mutate(|mc, ()| mc[&again].rename("x"));
    });
    assert_eq!((file.as_str(), line), (here, line!() - 2));
    // Released: the panel and its children go at the next collection; the
    // weak handle sees it.
    drop(again);
    heap.collect();
    assert_eq!(take_dropped(), [1, 2, 3, 4]);
    assert!(weak.is_dropped());
    assert!(heap.mutate(|mc, ()| mc.upgrade_dyn(&weak).is_none()));
    // Dropping the heap drops the leaf and kills the handles' cells.
    let leaf_weak = leaf.downgrade();
    drop(heap);
    assert_eq!(take_dropped(), [10]);
    assert!(leaf_weak.is_dropped());
    assert!(other.mutate(|mc, ()| mc.try_fetch_dyn(&leaf).is_none()));
}
