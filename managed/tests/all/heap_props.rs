//! Property tests of the managed heap: random programs of allocate, link,
//! unlink, mutate, re-root, hold from outside the heap (strongly and
//! weakly, as nodes and as trait objects), release, link weakly, view nodes
//! as trait objects (strongly and weakly), upgrade and collect, against a
//! model graph. After every collection exactly the objects reachable in the
//! model (from the root and the held handles, not through weak edges or
//! weakly held handles) survive, with their values and edges, exactly the
//! others were dropped, once, and exactly the weak edges and weakly held
//! handles to dropped objects upgrade to `None`.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};

use managed::prelude::*;
use proptest::prelude::*;

use crate::common::hash_of;

thread_local! {
    /// Ids of the nodes dropped on this thread.
    static DROPPED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
    /// Whether nodes asked to panic when dropped do.
    static ARMED: Cell<bool> = const { Cell::new(true) };
}

/// Keeps the expected panics of [`Id`] out of the test output (other
/// panics still reach the default hook).
fn quiet_expected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Not while another test has put its own hook in front.
        let _turn = crate::common::panic_hook_turn();
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let expected = info
                .payload()
                .downcast_ref::<String>()
                .is_some_and(|m| m.ends_with("panics when dropped"));
            if !expected {
                default(info);
            }
        }));
    });
}

/// Records the node's id when dropped; then panics if asked to (and armed).
struct Id(u64, bool);

impl Drop for Id {
    fn drop(&mut self) {
        DROPPED.with(|d| d.borrow_mut().push(self.0));
        if self.1 && ARMED.get() {
            panic!("node {} panics when dropped", self.0);
        }
    }
}

/// A node of the graph; `pad` varies the object sizes (so several chunks
/// and over-half-live and under-half-live chunks occur).
#[derive(Managed)]
struct Node<'gc> {
    #[managed(skip)]
    id: Id,
    value: u64,
    pad: Vec<u8>,
    edges: Vec<Gc<'gc, Node<'gc>>>,
    weak: Vec<GcWeak<'gc, Node<'gc>>>,
    /// Strong edges kept in a set: found by address, so filed again
    /// whenever a collection moves their targets.
    set: HashSet<Gc<'gc, Node<'gc>>>,
}

/// What a node is seen as through a trait-object handle.
trait Viewed<'gc> {
    /// The node behind the view.
    fn node(&self) -> &Node<'gc>;
    fn bump(&mut self);
}

impl<'gc> Viewed<'gc> for Node<'gc> {
    fn node(&self) -> &Node<'gc> {
        self
    }
    fn bump(&mut self) {
        self.value = self.value.wrapping_add(97);
    }
}

/// Names the trait-object type of [`Viewed`] at every brand, for the
/// handles that hold views from outside the heap.
type AnyViewed = dyn_rootable!(for<'gc> dyn Viewed<'gc> + 'gc);

/// The root: a few slots holding nodes.
#[derive(Managed)]
struct Slots<'gc> {
    slots: Vec<Option<Gc<'gc, Node<'gc>>>>,
    /// A side table keyed by nodes (which it keeps alive).
    tags: HashMap<Gc<'gc, Node<'gc>>, u64>,
    /// A side table keyed weakly: keeps no node alive, and a collection
    /// that drops a node drops its entry.
    weak_tags: HashMap<GcWeak<'gc, Node<'gc>>, u64>,
    /// Nodes by the value of their last weak tag, held weakly: a
    /// collection that drops a node drops its entries.
    named: HashMap<u64, GcWeak<'gc, Node<'gc>>>,
    /// Nodes attached to nodes, keyed weakly: an entry's value lives while
    /// its key's node is reachable otherwise (an ephemeron table), and
    /// the entry goes with that node.
    attached: HashMap<GcWeak<'gc, Node<'gc>>, Gc<'gc, Node<'gc>>>,
    /// Nodes seen as trait objects (which keeps them alive).
    views: Vec<GcDyn<'gc, dyn Viewed<'gc>>>,
    /// Nodes seen as weak trait objects.
    weak_views: Vec<GcDynWeak<'gc, dyn Viewed<'gc>>>,
}

const SLOTS: usize = 6;

/// A node reached from a slot by following edge indices (each taken modulo
/// the node's edge count; the walk stops at a node without edges).
#[derive(Debug, Clone)]
struct Addr {
    slot: usize,
    path: Vec<usize>,
}

#[derive(Debug, Clone)]
enum Op {
    /// A new node, put in a slot (its previous occupant is unrooted).
    Alloc { slot: usize, value: u64 },
    /// A new node no one points at: garbage from birth (whose destructor
    /// may panic).
    Garbage { pad: u8, panics: bool },
    /// An edge from one node to another (a cycle or self-link too).
    Link { from: Addr, to: Addr },
    /// Removes one edge.
    Unlink { from: Addr, edge: usize },
    /// Keeps a node as a trait object in the root, strongly or weakly.
    View { at: Addr, weak: bool },
    /// Drops one trait-object view from the root.
    Unview { index: usize },
    /// Writes a node through one of the views (`&mut mc[view]`).
    Bump { index: usize },
    /// Changes a node's value.
    Set { at: Addr, value: u64 },
    /// Adds to a node's value the values of its edges' targets, read
    /// through `split_mut`'s `Others` while the node is written (a
    /// self-edge reads as `None` there and adds nothing).
    Gather { at: Addr },
    /// Adds a node's value to each of its edges' targets, written through
    /// `split_mut`'s `Others` while the node's edge list is walked (a
    /// self-edge is refused there and adds nothing; a target named twice
    /// gets it twice).
    Scatter { at: Addr },
    /// Splits a node off and swaps the values of its first two edges'
    /// targets through `Others::get_disjoint_mut` with a tuple, refused
    /// when they are one node or the node split off.
    SwapEdges { at: Addr },
    /// Points a slot at a node, or empties it.
    Root { slot: usize, to: Option<Addr> },
    /// Holds a node from outside the heap (a `Held` handle).
    Hold { at: Addr },
    /// Drops one held handle.
    Release { index: usize },
    /// Holds a node weakly from outside the heap (a `HeldWeak`), made by
    /// `hold_weak` or by downgrading a held handle.
    HoldWeak { at: Addr, from_held: Option<usize> },
    /// Drops one weakly held handle.
    ReleaseWeak { index: usize },
    /// Upgrades a weakly held handle and puts its node, if still there,
    /// in a slot, or holds it again (`upgrade_held`).
    UpgradeWeak {
        index: usize,
        slot: usize,
        to_held: bool,
    },
    /// Puts a held node in a slot.
    Fetch { index: usize, slot: usize },
    /// Holds a node as a trait object from outside the heap: a `HeldDyn`,
    /// or a `HeldDynWeak` when `weak`.
    HoldDyn { at: Addr, weak: bool },
    /// Drops one trait-object handle held from outside (a weak one when
    /// `weak`).
    ReleaseDyn { index: usize, weak: bool },
    /// Writes a node through a held trait-object handle (`&mut mc[&held]`).
    BumpHeld { index: usize },
    /// A weak trait-object handle downgraded from a held one (sharing its
    /// cell).
    DowngradeDyn { index: usize },
    /// Upgrades a weakly held trait object and views its node, if still
    /// there, from the root (`upgrade_dyn`), or holds it again
    /// (`upgrade_held_dyn`).
    UpgradeDyn { index: usize, to_held: bool },
    /// A weak edge from one node to another.
    WeakLink { from: Addr, to: Addr },
    /// Upgrades one weak edge and puts its node, if still there, in a slot.
    Upgrade { at: Addr, edge: usize, slot: usize },
    /// Adds an edge to a node's set of edges.
    SetLink { from: Addr, to: Addr },
    /// Removes an edge from a node's set (the one to the `to` node, if any).
    SetUnlink { from: Addr, to: Addr },
    /// Tags a node in the root's side table (or retags it), or in the
    /// weakly keyed one.
    Tag { at: Addr, value: u64, weak: bool },
    /// Removes a node's tag (from the weakly keyed table: `weak`).
    Untag { at: Addr, weak: bool },
    /// Attaches a node to another in the ephemeron table (or replaces
    /// what was attached to it).
    Attach { key: Addr, value: Addr },
    /// Removes what is attached to a node.
    Detach { key: Addr },
    /// A full collection, then a check against the model; `dense` packs
    /// the survivors into as few chunks as they fit (`Heap::compact`).
    Collect { dense: bool },
}

fn addr() -> impl Strategy<Value = Addr> {
    (0..SLOTS, prop::collection::vec(any::<usize>(), 0..4))
        .prop_map(|(slot, path)| Addr { slot, path })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..SLOTS, any::<u64>()).prop_map(|(slot, value)| Op::Alloc { slot, value }),
        2 => (any::<u8>(), prop::bool::weighted(0.1)).prop_map(|(pad, panics)| Op::Garbage { pad, panics }),
        5 => (addr(), addr()).prop_map(|(from, to)| Op::Link { from, to }),
        2 => (addr(), any::<usize>()).prop_map(|(from, edge)| Op::Unlink { from, edge }),
        2 => (addr(), any::<bool>()).prop_map(|(at, weak)| Op::View { at, weak }),
        1 => any::<usize>().prop_map(|index| Op::Unview { index }),
        1 => any::<usize>().prop_map(|index| Op::Bump { index }),
        2 => (addr(), any::<u64>()).prop_map(|(at, value)| Op::Set { at, value }),
        1 => addr().prop_map(|at| Op::Gather { at }),
        1 => addr().prop_map(|at| Op::Scatter { at }),
        1 => addr().prop_map(|at| Op::SwapEdges { at }),
        2 => (0..SLOTS, prop::option::of(addr())).prop_map(|(slot, to)| Op::Root { slot, to }),
        2 => addr().prop_map(|at| Op::Hold { at }),
        1 => any::<usize>().prop_map(|index| Op::Release { index }),
        2 => (addr(), prop::option::weighted(0.3, any::<usize>())).prop_map(|(at, from_held)| Op::HoldWeak { at, from_held }),
        1 => any::<usize>().prop_map(|index| Op::ReleaseWeak { index }),
        1 => (any::<usize>(), 0..SLOTS, prop::bool::weighted(0.3)).prop_map(|(index, slot, to_held)| Op::UpgradeWeak { index, slot, to_held }),
        1 => (any::<usize>(), 0..SLOTS).prop_map(|(index, slot)| Op::Fetch { index, slot }),
        2 => (addr(), any::<bool>()).prop_map(|(at, weak)| Op::HoldDyn { at, weak }),
        1 => (any::<usize>(), any::<bool>()).prop_map(|(index, weak)| Op::ReleaseDyn { index, weak }),
        1 => any::<usize>().prop_map(|index| Op::BumpHeld { index }),
        1 => any::<usize>().prop_map(|index| Op::DowngradeDyn { index }),
        1 => (any::<usize>(), prop::bool::weighted(0.3)).prop_map(|(index, to_held)| Op::UpgradeDyn { index, to_held }),
        3 => (addr(), addr()).prop_map(|(from, to)| Op::WeakLink { from, to }),
        1 => (addr(), any::<usize>(), 0..SLOTS).prop_map(|(at, edge, slot)| Op::Upgrade { at, edge, slot }),
        2 => (addr(), addr()).prop_map(|(from, to)| Op::SetLink { from, to }),
        1 => (addr(), addr()).prop_map(|(from, to)| Op::SetUnlink { from, to }),
        3 => (addr(), any::<u64>(), any::<bool>()).prop_map(|(at, value, weak)| Op::Tag { at, value, weak }),
        1 => (addr(), any::<bool>()).prop_map(|(at, weak)| Op::Untag { at, weak }),
        3 => (addr(), addr()).prop_map(|(key, value)| Op::Attach { key, value }),
        1 => addr().prop_map(|key| Op::Detach { key }),
        1 => any::<bool>().prop_map(|dense| Op::Collect { dense }),
    ]
}

/// The model: nodes by id, with values and edges by id.
#[derive(Default)]
struct Model {
    nodes: HashMap<u64, (u64, Vec<u64>)>,
    slots: [Option<u64>; SLOTS],
    /// The nodes held from outside the heap, as the handles are.
    held: Vec<u64>,
    /// The nodes held weakly from outside the heap, or `None` once a
    /// collection dropped them.
    held_weak: Vec<Option<u64>>,
    /// The node each weakly held handle was made for, dropped or not: its
    /// identity (handles to one node are equal, also once it is dropped).
    weak_of: Vec<u64>,
    /// The nodes held as trait objects from outside the heap.
    held_dyn: Vec<u64>,
    /// The nodes held weakly as trait objects from outside the heap (`None`
    /// once dropped).
    held_dyn_weak: Vec<Option<u64>>,
    /// The node each of those was made for (their identity).
    dyn_weak_of: Vec<u64>,
    /// Each node's weak edges: the target's id, or `None` once a
    /// collection dropped it.
    weak: HashMap<u64, Vec<Option<u64>>>,
    /// Each node's set of edges.
    sets: HashMap<u64, BTreeSet<u64>>,
    /// The root's side table.
    tags: BTreeMap<u64, u64>,
    /// The root's weakly keyed side table.
    weak_tags: BTreeMap<u64, u64>,
    /// The root's table with weak values: node by tag value.
    named: BTreeMap<u64, u64>,
    /// The ephemeron table: the node attached to each node.
    attached: BTreeMap<u64, u64>,
    /// The nodes the root's trait objects view.
    views: Vec<u64>,
    /// The nodes the root's weak trait objects view, or `None` once
    /// dropped.
    weak_views: Vec<Option<u64>>,
    next_id: u64,
}

impl Model {
    fn resolve(&self, a: &Addr) -> Option<u64> {
        let mut at = self.slots[a.slot]?;
        for &i in &a.path {
            let edges = &self.nodes[&at].1;
            if edges.is_empty() {
                break;
            }
            at = edges[i % edges.len()];
        }
        Some(at)
    }

    fn reachable(&self) -> HashSet<u64> {
        let mut seen = HashSet::new();
        let mut stack: Vec<u64> = self.slots.iter().flatten().copied().collect();
        stack.extend(&self.held);
        stack.extend(&self.held_dyn);
        stack.extend(self.tags.keys());
        stack.extend(&self.views);
        loop {
            while let Some(id) = stack.pop() {
                if seen.insert(id) {
                    stack.extend(&self.nodes[&id].1);
                    stack.extend(&self.sets[&id]);
                }
            }
            // What is attached to a reachable node is reachable too.
            stack.extend(
                self.attached
                    .iter()
                    .filter(|(key, value)| seen.contains(key) && !seen.contains(value))
                    .map(|(_, &value)| value),
            );
            if stack.is_empty() {
                break seen;
            }
        }
    }
}

fn resolve<'gc>(mc: &Mutation<'gc>, slots: &Slots<'gc>, a: &Addr) -> Option<Gc<'gc, Node<'gc>>> {
    let mut at = slots.slots[a.slot]?;
    for &i in &a.path {
        let edges = &mc[at].edges;
        if edges.is_empty() {
            break;
        }
        at = edges[i % edges.len()];
    }
    Some(at)
}

/// The handles kept outside the heap, in the order of the model's lists.
#[derive(Default)]
struct Outside {
    held: Vec<Held<Node<'static>>>,
    held_weak: Vec<HeldWeak<Node<'static>>>,
    held_dyn: Vec<HeldDyn<AnyViewed>>,
    held_dyn_weak: Vec<HeldDynWeak<AnyViewed>>,
}

/// Walks the heap's graph from the slots and the held handles and compares
/// it with the model.
fn check(heap: &mut Heap<Slots<'static>>, outside: &Outside, model: &Model) {
    let Outside {
        held,
        held_weak,
        held_dyn,
        held_dyn_weak,
    } = outside;
    heap.mutate(|mc, root| {
        // Identity: two handles kept outside the heap are equal exactly
        // when they hold one node, and holding a node again (or upgrading
        // a weak handle to it) gives a handle equal to those, hashing
        // alike: after any number of collections, the heap finds the cell
        // a node already has.
        for (a, &id) in held.iter().zip(&model.held) {
            for (b, &other) in held.iter().zip(&model.held) {
                assert_eq!(a == b, id == other, "equal exactly when one node");
            }
            let again = mc.hold(mc.fetch(a));
            assert!(again == *a && hash_of(&again) == hash_of(a));
            assert_eq!(
                mc.held(mc.fetch(a)).as_ref(),
                Some(a),
                "found without holding"
            );
        }
        for (a, &id) in held_dyn.iter().zip(&model.held_dyn) {
            for (b, &other) in held_dyn.iter().zip(&model.held_dyn) {
                assert_eq!(a == b, id == other, "equal exactly when one node");
            }
            let again = mc.hold_dyn(mc.fetch_dyn(a));
            assert!(again == *a && hash_of(&again) == hash_of(a));
        }
        // Weak handles too, also once their nodes are dropped.
        for (a, &id) in held_weak.iter().zip(&model.weak_of) {
            for (b, &other) in held_weak.iter().zip(&model.weak_of) {
                assert_eq!(a == b, id == other, "equal exactly when one node");
                assert!(a != b || hash_of(a) == hash_of(b));
            }
        }
        for (a, &id) in held_dyn_weak.iter().zip(&model.dyn_weak_of) {
            for (b, &other) in held_dyn_weak.iter().zip(&model.dyn_weak_of) {
                assert_eq!(a == b, id == other, "equal exactly when one node");
                assert!(a != b || hash_of(a) == hash_of(b));
            }
        }
        for (w, id) in held_weak.iter().zip(&model.held_weak) {
            if let (Some(h), Some(id)) = (mc.upgrade_held(w), id) {
                let mut same = held.iter().zip(&model.held).filter(|(_, n)| *n == id);
                assert!(same.all(|(a, _)| *a == h && hash_of(a) == hash_of(&h)));
            }
        }
        // The trait objects held from outside: the nodes the model says,
        // strongly and weakly (with `is_dropped` agreeing).
        let dyn_ids: Vec<u64> = held_dyn.iter().map(|h| mc[h].node().id.0).collect();
        assert_eq!(dyn_ids, model.held_dyn);
        for h in held_dyn {
            let fetched = mc.fetch_dyn(h);
            assert!(GcDyn::ptr_eq(fetched, mc.try_fetch_dyn(h).unwrap()));
        }
        let dyn_weak_ids: Vec<Option<u64>> = held_dyn_weak
            .iter()
            .map(|w| mc.upgrade_dyn(w).map(|v| mc[v].node().id.0))
            .collect();
        assert_eq!(dyn_weak_ids, model.held_dyn_weak);
        let dropped: Vec<bool> = held_dyn_weak.iter().map(HeldDynWeak::is_dropped).collect();
        let expected: Vec<bool> = model.held_dyn_weak.iter().map(Option::is_none).collect();
        assert_eq!(dropped, expected);
        let weak_ids: Vec<Option<u64>> = held_weak
            .iter()
            .map(|w| mc.upgrade(w).map(|n| mc[n].id.0))
            .collect();
        assert_eq!(weak_ids, model.held_weak);
        let dropped: Vec<bool> = held_weak.iter().map(HeldWeak::is_dropped).collect();
        let expected: Vec<bool> = model.held_weak.iter().map(Option::is_none).collect();
        assert_eq!(dropped, expected);
        let mut seen = HashSet::new();
        let mut stack: Vec<Gc<'_, Node<'_>>> = root.slots.iter().flatten().copied().collect();
        let held: Vec<Gc<'_, Node<'_>>> = held.iter().map(|h| mc.fetch(h)).collect();
        let held_ids: Vec<u64> = held.iter().map(|&n| mc[n].id.0).collect();
        assert_eq!(held_ids, model.held);
        stack.extend(held);
        for (slot, model_slot) in root.slots.iter().zip(&model.slots) {
            assert_eq!(slot.map(|n| mc[n].id.0), *model_slot);
        }
        // The side table holds the model's tags, and finds each of them.
        let tags: BTreeMap<u64, u64> = root.tags.iter().map(|(&n, &v)| (mc[n].id.0, v)).collect();
        assert_eq!(tags, model.tags);
        for (n, v) in &root.tags {
            assert_eq!(
                root.tags.get(n),
                Some(v),
                "a key is filed under its address"
            );
        }
        stack.extend(root.tags.keys());
        // The weakly keyed table holds the model's entries, each with a
        // live key (the entries of dropped nodes left with them), found by
        // a handle made anew.
        let weak_tags: BTreeMap<u64, u64> = root
            .weak_tags
            .iter()
            .map(|(w, &v)| (mc[w.upgrade(mc).expect("no dead key")].id.0, v))
            .collect();
        assert_eq!(weak_tags, model.weak_tags);
        let named: BTreeMap<u64, u64> = root
            .named
            .iter()
            .map(|(&v, w)| (v, mc[w.upgrade(mc).expect("no dead value")].id.0))
            .collect();
        assert_eq!(named, model.named);
        let attached: BTreeMap<u64, u64> = root
            .attached
            .iter()
            .map(|(w, &v)| (mc[w.upgrade(mc).expect("no dead key")].id.0, mc[v].id.0))
            .collect();
        assert_eq!(attached, model.attached);
        for (w, v) in &root.attached {
            let again = w.upgrade(mc).unwrap().downgrade();
            assert!(Gc::ptr_eq(root.attached[&again], *v));
        }
        for (w, v) in &root.weak_tags {
            let again = w.upgrade(mc).unwrap().downgrade();
            assert_eq!(root.weak_tags.get(&again), Some(v));
        }
        let mut nodes: Vec<&Node<'_>> = held_dyn.iter().map(|h| mc[h].node()).collect();
        // The views: the nodes the model says, found again as the same
        // objects as the graph's handles (identity by address).
        let view_ids: Vec<u64> = root.views.iter().map(|&v| mc[v].node().id.0).collect();
        assert_eq!(view_ids, model.views);
        let weak_ids: Vec<Option<u64>> = root
            .weak_views
            .iter()
            .map(|w| w.upgrade(mc).map(|v| mc[v].node().id.0))
            .collect();
        assert_eq!(weak_ids, model.weak_views);
        nodes.extend(root.views.iter().map(|&v| mc[v].node()));
        loop {
            let node = match nodes.pop() {
                Some(node) => node,
                None => match stack.pop() {
                    Some(n) => &mc[n],
                    None => {
                        // What is attached to a node found is found too.
                        stack.extend(
                            root.attached
                                .iter()
                                .filter(|(w, v)| {
                                    let key = mc[w.upgrade(mc).unwrap()].id.0;
                                    seen.contains(&key) && !seen.contains(&mc[**v].id.0)
                                })
                                .map(|(_, &v)| v),
                        );
                        match stack.pop() {
                            Some(n) => &mc[n],
                            None => break,
                        }
                    }
                },
            };
            if !seen.insert(node.id.0) {
                continue;
            }
            let (value, edges) = &model.nodes[&node.id.0];
            assert_eq!(node.value, *value);
            assert_eq!(node.pad.len(), (*value % 97) as usize);
            let ids: Vec<u64> = node.edges.iter().map(|&e| mc[e].id.0).collect();
            assert_eq!(&ids, edges);
            let weak: Vec<Option<u64>> = node
                .weak
                .iter()
                .map(|w| w.upgrade(mc).map(|t| mc[t].id.0))
                .collect();
            assert_eq!(weak, model.weak[&node.id.0]);
            let set: BTreeSet<u64> = node.set.iter().map(|&e| mc[e].id.0).collect();
            assert_eq!(set, model.sets[&node.id.0]);
            assert!(
                node.set.iter().all(|e| node.set.contains(e)),
                "set members are found"
            );
            stack.extend(&node.edges);
            stack.extend(&node.set);
        }
        assert_eq!(seen, model.reachable());
    });
}

/// Allocates a node with the next id, in the heap and the model.
fn new_node<'gc>(
    mc: &Mutation<'gc>,
    model: &mut Model,
    value: u64,
    panics: bool,
) -> Gc<'gc, Node<'gc>> {
    let id = model.next_id;
    model.next_id += 1;
    model.nodes.insert(id, (value, Vec::new()));
    model.weak.insert(id, Vec::new());
    model.sets.insert(id, BTreeSet::new());
    Gc::new(
        mc,
        Node {
            id: Id(id, panics),
            value,
            pad: vec![0; (value % 97) as usize],
            edges: Vec::new(),
            weak: Vec::new(),
            set: HashSet::new(),
        },
    )
}

fn take_dropped() -> Vec<u64> {
    let mut dropped = DROPPED.with(|d| std::mem::take(&mut *d.borrow_mut()));
    dropped.sort_unstable();
    dropped
}

fn run(ops: &[Op], chunk_size: usize) {
    take_dropped();
    let mut model = Model::default();
    let mut all_dropped = Vec::new();
    let mut heap: Heap<Slots<'static>> = Heap::with_chunk_size(chunk_size, |_| Slots {
        slots: vec![None; SLOTS],
        tags: HashMap::new(),
        weak_tags: HashMap::new(),
        named: HashMap::new(),
        attached: HashMap::new(),
        views: Vec::new(),
        weak_views: Vec::new(),
    });
    // Declared after the heap, so dropped before it (as the model's held
    // nodes are released before the heap drops); either order is sound.
    let mut out = Outside::default();
    /// Disarms the panicking destructors before the heap drops (also when a
    /// failed assertion unwinds: a second panic would abort the run).
    struct Disarm;
    impl Drop for Disarm {
        fn drop(&mut self) {
            ARMED.set(false);
        }
    }
    quiet_expected_panics();
    ARMED.set(true);
    let disarm = Disarm;
    for op in ops {
        if let Op::Collect { dense } = *op {
            let reachable = model.reachable();
            // Whether the collection completes or a destructor's panic cuts
            // it short, weak edges to unreachable nodes are gone after it.
            model.weak_tags.retain(|id, _| reachable.contains(id));
            model.named.retain(|_, id| reachable.contains(id));
            model.attached.retain(|id, _| reachable.contains(id));
            for edges in model.weak.values_mut().chain([
                &mut model.weak_views,
                &mut model.held_weak,
                &mut model.held_dyn_weak,
            ]) {
                for edge in edges.iter_mut() {
                    if edge.is_some_and(|t| !reachable.contains(&t)) {
                        *edge = None;
                    }
                }
            }
            let result = catch_unwind(AssertUnwindSafe(|| {
                if dense {
                    heap.compact()
                } else {
                    heap.collect()
                }
            }));
            let dropped = take_dropped();
            assert!(
                dropped
                    .iter()
                    .all(|id| model.nodes.contains_key(id) && !reachable.contains(id)),
                "only unreachable nodes are dropped, once"
            );
            all_dropped.extend(dropped.iter().copied());
            match result {
                Ok(stats) => {
                    assert_eq!(stats.live_objects, reachable.len());
                    assert_eq!(stats.dropped, dropped.len());
                    assert_eq!(
                        dropped.len() + reachable.len(),
                        model.nodes.len(),
                        "every unreachable node is dropped"
                    );
                    model.nodes.retain(|id, _| reachable.contains(id));
                    model.sets.retain(|id, _| reachable.contains(id));
                    check(&mut heap, &out, &model);
                    assert_eq!(heap.detailed_stats().used_bytes, stats.live_bytes);
                    // The collection unlisted every dropped handle, and
                    // every weak one to a dropped node: what is left is
                    // one cell per node that a handle outside the heap
                    // holds, strongly or weakly, typed or as a trait
                    // object (all handles to a node share its cell).
                    let cells: HashSet<u64> = model
                        .held
                        .iter()
                        .chain(&model.held_dyn)
                        .copied()
                        .chain(model.held_weak.iter().flatten().copied())
                        .chain(model.held_dyn_weak.iter().flatten().copied())
                        .collect();
                    assert_eq!(heap.detailed_stats().held, cells.len());
                }
                Err(_) => {
                    // A destructor panicked: the ones swept are gone, the
                    // others wait for the next collection; the graph is intact.
                    model.nodes.retain(|id, _| {
                        reachable.contains(id) || dropped.binary_search(id).is_err()
                    });
                    check(&mut heap, &out, &model);
                }
            }
            continue;
        }
        if let Op::Release { index } = op {
            if !out.held.is_empty() {
                let i = index % out.held.len();
                out.held.remove(i);
                model.held.remove(i);
            }
            continue;
        }
        if let Op::ReleaseWeak { index } = op {
            if !out.held_weak.is_empty() {
                let i = index % out.held_weak.len();
                out.held_weak.remove(i);
                model.held_weak.remove(i);
                model.weak_of.remove(i);
            }
            continue;
        }
        if let Op::ReleaseDyn { index, weak } = op {
            if *weak && !out.held_dyn_weak.is_empty() {
                let i = index % out.held_dyn_weak.len();
                out.held_dyn_weak.remove(i);
                model.held_dyn_weak.remove(i);
                model.dyn_weak_of.remove(i);
            } else if !*weak && !out.held_dyn.is_empty() {
                let i = index % out.held_dyn.len();
                out.held_dyn.remove(i);
                model.held_dyn.remove(i);
            }
            continue;
        }
        if let Op::DowngradeDyn { index } = op {
            // Downgrading takes no mutation.
            if !out.held_dyn.is_empty() {
                let i = index % out.held_dyn.len();
                let weak = out.held_dyn[i].downgrade();
                assert!(!weak.is_dropped());
                out.held_dyn_weak.push(weak);
                model.held_dyn_weak.push(Some(model.held_dyn[i]));
                model.dyn_weak_of.push(model.held_dyn[i]);
            }
            continue;
        }
        if let Op::HoldWeak {
            from_held: Some(index),
            ..
        } = op
        {
            // Downgrading takes no mutation.
            if !out.held.is_empty() {
                let i = index % out.held.len();
                out.held_weak.push(out.held[i].downgrade());
                model.held_weak.push(Some(model.held[i]));
                model.weak_of.push(model.held[i]);
            }
            continue;
        }
        heap.mutate(|mc, root| match op {
            Op::Alloc { slot, value } => {
                let n = new_node(mc, &mut model, *value, false);
                root.slots[*slot] = Some(n);
                model.slots[*slot] = Some(mc[n].id.0);
            }
            Op::Garbage { pad, panics } => {
                new_node(mc, &mut model, u64::from(*pad), *panics);
            }
            Op::Link { from, to } => {
                let (f, t) = (resolve(mc, root, from), resolve(mc, root, to));
                assert_eq!(
                    (f.map(|f| mc[f].id.0), t.map(|t| mc[t].id.0)),
                    (model.resolve(from), model.resolve(to))
                );
                if let (Some(f), Some(t)) = (f, t) {
                    let (fid, tid) = (mc[f].id.0, mc[t].id.0);
                    mc[f].edges.push(t);
                    model.nodes.get_mut(&fid).unwrap().1.push(tid);
                }
            }
            Op::Unlink { from, edge } => {
                if let Some(f) = resolve(mc, root, from) {
                    let fid = mc[f].id.0;
                    let edges = &mut mc[f].edges;
                    if !edges.is_empty() {
                        let i = edge % edges.len();
                        edges.remove(i);
                        model.nodes.get_mut(&fid).unwrap().1.remove(i);
                    }
                }
            }
            Op::View { at, weak } => {
                if let Some(n) = resolve(mc, root, at) {
                    let id = mc[n].id.0;
                    let view = unsize!(n => dyn Viewed<'_>);
                    if *weak {
                        root.weak_views.push(view.downgrade());
                        model.weak_views.push(Some(id));
                    } else {
                        root.views.push(view);
                        model.views.push(id);
                    }
                }
            }
            Op::Unview { index } => {
                if !root.views.is_empty() {
                    let i = index % root.views.len();
                    root.views.remove(i);
                    model.views.remove(i);
                }
            }
            Op::Bump { index } => {
                if !root.views.is_empty() {
                    let view = root.views[index % root.views.len()];
                    mc[view].bump();
                    let id = mc[view].node().id.0;
                    let value = &mut model.nodes.get_mut(&id).unwrap().0;
                    *value = value.wrapping_add(97);
                }
            }
            Op::Gather { at } => {
                if let Some(n) = resolve(mc, root, at) {
                    let (node, others) = mc.split_mut(n);
                    assert!(others.get(n).is_none());
                    let id = node.id.0;
                    let gathered = node
                        .edges
                        .iter()
                        .filter_map(|&e| others.get(e))
                        .fold(node.value, |sum, e| sum.wrapping_add(e.value));
                    node.value = gathered;
                    node.pad = vec![1; (gathered % 97) as usize];
                    let (value, edges) = &model.nodes[&id];
                    let expected = edges
                        .iter()
                        .filter(|&&e| e != id)
                        .fold(*value, |sum, e| sum.wrapping_add(model.nodes[e].0));
                    assert_eq!(gathered, expected);
                    model.nodes.get_mut(&id).unwrap().0 = expected;
                }
            }
            Op::Scatter { at } => {
                if let Some(n) = resolve(mc, root, at) {
                    let (node, mut others) = mc.split_mut(n);
                    for &e in &node.edges {
                        if let Some(target) = others.get_mut(e) {
                            target.value = target.value.wrapping_add(node.value);
                            target.pad = vec![2; (target.value % 97) as usize];
                        }
                    }
                    let id = node.id.0;
                    let (value, edges) = model.nodes[&id].clone();
                    for e in edges.into_iter().filter(|&e| e != id) {
                        let target = &mut model.nodes.get_mut(&e).unwrap().0;
                        *target = target.wrapping_add(value);
                    }
                }
            }
            Op::SwapEdges { at } => {
                if let Some(n) = resolve(mc, root, at) {
                    let (node, mut others) = mc.split_mut(n);
                    if let [e0, e1, ..] = node.edges[..] {
                        let id = node.id.0;
                        let (_, edges) = model.nodes[&id].clone();
                        let (a, b) = (edges[0], edges[1]);
                        let lendable = a != b && a != id && b != id;
                        match others.get_disjoint_mut((e0, e1)) {
                            Some((x, y)) => {
                                assert!(lendable, "lent {a} and {b} beside {id}");
                                assert_eq!((x.id.0, y.id.0), (a, b));
                                std::mem::swap(&mut x.value, &mut y.value);
                                std::mem::swap(&mut x.pad, &mut y.pad);
                                let va = model.nodes[&a].0;
                                let vb = model.nodes[&b].0;
                                model.nodes.get_mut(&a).unwrap().0 = vb;
                                model.nodes.get_mut(&b).unwrap().0 = va;
                            }
                            None => assert!(!lendable, "refused {a} and {b} beside {id}"),
                        }
                    }
                }
            }
            Op::Set { at, value } => {
                if let Some(n) = resolve(mc, root, at) {
                    let id = mc[n].id.0;
                    let node = &mut mc[n];
                    node.value = *value;
                    node.pad = vec![1; (*value % 97) as usize];
                    model.nodes.get_mut(&id).unwrap().0 = *value;
                }
            }
            Op::Root { slot, to } => {
                let n = to.as_ref().and_then(|a| resolve(mc, root, a));
                model.slots[*slot] = n.map(|n| mc[n].id.0);
                root.slots[*slot] = n;
            }
            Op::Hold { at } => {
                if let Some(n) = resolve(mc, root, at) {
                    model.held.push(mc[n].id.0);
                    out.held.push(mc.hold(n));
                }
            }
            Op::HoldWeak {
                at,
                from_held: None,
            } => {
                if let Some(n) = resolve(mc, root, at) {
                    model.held_weak.push(Some(mc[n].id.0));
                    model.weak_of.push(mc[n].id.0);
                    out.held_weak.push(mc.hold_weak(n));
                }
            }
            Op::UpgradeWeak {
                index,
                slot,
                to_held,
            } => {
                if !out.held_weak.is_empty() {
                    let i = index % out.held_weak.len();
                    let expected = model.held_weak[i];
                    if *to_held {
                        let h = mc.upgrade_held(&out.held_weak[i]);
                        assert_eq!(h.as_ref().map(|h| mc[h].id.0), expected);
                        if let Some(h) = h {
                            out.held.push(h);
                            model.held.extend(expected);
                        }
                    } else {
                        let n = mc.upgrade(&out.held_weak[i]);
                        assert_eq!(n.map(|n| mc[n].id.0), expected);
                        if let Some(n) = n {
                            root.slots[*slot] = Some(n);
                            model.slots[*slot] = expected;
                        }
                    }
                }
            }
            Op::Fetch { index, slot } => {
                if !out.held.is_empty() {
                    let h = &out.held[index % out.held.len()];
                    let n = mc.fetch(h);
                    assert!(Held::ptr_eq(h, &mc.hold(n)));
                    root.slots[*slot] = Some(n);
                    model.slots[*slot] = Some(mc[n].id.0);
                }
            }
            Op::HoldDyn { at, weak } => {
                if let Some(n) = resolve(mc, root, at) {
                    let id = mc[n].id.0;
                    let view = unsize!(n => dyn Viewed<'_>);
                    if *weak {
                        out.held_dyn_weak.push(mc.hold_dyn_weak(view));
                        model.held_dyn_weak.push(Some(id));
                        model.dyn_weak_of.push(id);
                    } else {
                        out.held_dyn.push(mc.hold_dyn(view));
                        model.held_dyn.push(id);
                    }
                }
            }
            Op::BumpHeld { index } => {
                if !out.held_dyn.is_empty() {
                    let h = &out.held_dyn[index % out.held_dyn.len()];
                    mc[h].bump();
                    let id = mc[h].node().id.0;
                    let value = &mut model.nodes.get_mut(&id).unwrap().0;
                    *value = value.wrapping_add(97);
                }
            }
            Op::UpgradeDyn { index, to_held } => {
                if !out.held_dyn_weak.is_empty() {
                    let i = index % out.held_dyn_weak.len();
                    let expected = model.held_dyn_weak[i];
                    let weak = &out.held_dyn_weak[i];
                    if *to_held {
                        let h = mc.upgrade_held_dyn(weak);
                        assert_eq!(h.as_ref().map(|h| mc[h].node().id.0), expected);
                        if let Some(h) = h {
                            assert!(HeldDynWeak::ptr_eq(&h.downgrade(), weak));
                            out.held_dyn.push(h);
                            model.held_dyn.extend(expected);
                        }
                    } else {
                        let view = mc.upgrade_dyn(weak);
                        assert_eq!(view.map(|v| mc[v].node().id.0), expected);
                        if let Some(view) = view {
                            root.views.push(view);
                            model.views.extend(expected);
                        }
                    }
                }
            }
            Op::WeakLink { from, to } => {
                let (f, t) = (resolve(mc, root, from), resolve(mc, root, to));
                if let (Some(f), Some(t)) = (f, t) {
                    let (fid, tid) = (mc[f].id.0, mc[t].id.0);
                    mc[f].weak.push(t.downgrade());
                    model.weak.get_mut(&fid).unwrap().push(Some(tid));
                }
            }
            Op::Upgrade { at, edge, slot } => {
                if let Some(n) = resolve(mc, root, at) {
                    let id = mc[n].id.0;
                    let weak = &mc[n].weak;
                    if !weak.is_empty() {
                        let i = edge % weak.len();
                        let target = weak[i].upgrade(mc);
                        let expected = model.weak[&id][i];
                        assert_eq!(target.map(|t| mc[t].id.0), expected);
                        if let Some(t) = target {
                            root.slots[*slot] = Some(t);
                            model.slots[*slot] = expected;
                        }
                    }
                }
            }
            Op::SetLink { from, to } => {
                let (f, t) = (resolve(mc, root, from), resolve(mc, root, to));
                if let (Some(f), Some(t)) = (f, t) {
                    let (fid, tid) = (mc[f].id.0, mc[t].id.0);
                    let added = mc[f].set.insert(t);
                    assert_eq!(added, model.sets.get_mut(&fid).unwrap().insert(tid));
                }
            }
            Op::SetUnlink { from, to } => {
                let (f, t) = (resolve(mc, root, from), resolve(mc, root, to));
                if let (Some(f), Some(t)) = (f, t) {
                    let (fid, tid) = (mc[f].id.0, mc[t].id.0);
                    let removed = mc[f].set.remove(&t);
                    assert_eq!(removed, model.sets.get_mut(&fid).unwrap().remove(&tid));
                }
            }
            Op::Tag { at, value, weak } => {
                if let Some(n) = resolve(mc, root, at) {
                    let id = mc[n].id.0;
                    if *weak {
                        let old = root.weak_tags.insert(n.downgrade(), *value);
                        assert_eq!(old, model.weak_tags.insert(id, *value));
                        let old = root.named.insert(*value, n.downgrade());
                        let old = old.map(|w| mc[w.upgrade(mc).expect("no dead value")].id.0);
                        assert_eq!(old, model.named.insert(*value, id));
                    } else {
                        assert_eq!(root.tags.insert(n, *value), model.tags.insert(id, *value));
                    }
                }
            }
            Op::Untag { at, weak } => {
                if let Some(n) = resolve(mc, root, at) {
                    let id = mc[n].id.0;
                    if *weak {
                        let old = root.weak_tags.remove(&n.downgrade());
                        assert_eq!(old, model.weak_tags.remove(&id));
                    } else {
                        assert_eq!(root.tags.remove(&n), model.tags.remove(&id));
                    }
                }
            }
            Op::Attach { key, value } => {
                let (k, v) = (resolve(mc, root, key), resolve(mc, root, value));
                if let (Some(k), Some(v)) = (k, v) {
                    let (kid, vid) = (mc[k].id.0, mc[v].id.0);
                    let old = root.attached.insert(k.downgrade(), v).map(|o| mc[o].id.0);
                    assert_eq!(old, model.attached.insert(kid, vid));
                }
            }
            Op::Detach { key } => {
                if let Some(k) = resolve(mc, root, key) {
                    let old = root.attached.remove(&k.downgrade()).map(|o| mc[o].id.0);
                    assert_eq!(old, model.attached.remove(&mc[k].id.0));
                }
            }
            Op::Collect { .. }
            | Op::Release { .. }
            | Op::ReleaseWeak { .. }
            | Op::ReleaseDyn { .. }
            | Op::DowngradeDyn { .. }
            | Op::HoldWeak {
                from_held: Some(_), ..
            } => unreachable!("handled above"),
        });
    }
    assert!(
        take_dropped().is_empty(),
        "nothing is dropped outside a collection"
    );
    drop(disarm);
    drop(out.held);
    drop(out.held_dyn);
    drop(heap);
    // The weak handles outlived their heap: their objects are gone.
    assert!(out.held_weak.iter().all(HeldWeak::is_dropped));
    assert!(out.held_dyn_weak.iter().all(HeldDynWeak::is_dropped));
    drop(out.held_weak);
    drop(out.held_dyn_weak);
    all_dropped.extend(take_dropped());
    all_dropped.sort_unstable();
    assert_eq!(
        all_dropped,
        (0..model.next_id).collect::<Vec<_>>(),
        "every node is dropped exactly once"
    );
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 2 } else { 600 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_programs_match_the_model(ops in prop::collection::vec(op(), 0..if cfg!(miri) { 30 } else { 300 })) {
        run(&ops, 4096);
    }

    #[test]
    fn random_programs_match_the_model_in_larger_chunks(ops in prop::collection::vec(op(), 0..if cfg!(miri) { 20 } else { 300 })) {
        run(&ops, 64 << 10);
    }
}
