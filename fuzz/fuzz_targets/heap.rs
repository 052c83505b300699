//! The managed heap against a model graph: nodes of three shapes (small,
//! over-aligned, and large enough for a chunk of their own), linked into
//! random graphs with cycles and self-links, rooted in a few slots, mutated
//! through aliased handles, held from outside the heap (`Held`), linked
//! weakly (`GcWeak`), and collected; some destructors panic. After every
//! collection exactly the nodes reachable in the model (from the slots and
//! the held handles) survive, with their values and edges, exactly the
//! others were dropped, once, and exactly the weak edges to them upgrade
//! to `None`; a collection interrupted by a panicking destructor leaves
//! the graph intact, its weak edges to garbage gone, and the rest of the
//! garbage to the next one. The root also keeps a side table keyed by
//! nodes (`HashMap<Gc<Node>, Tracked>`), which must find every tagged node
//! after the collections move it, and whose values are dropped once each,
//! and one keyed weakly (`HashMap<GcWeak<Node>, Tracked>`), which keeps no
//! node alive and loses the entry of each node a collection drops (its
//! value dropped by that collection, once), also when a destructor's panic
//! cuts the collection short.
//!
//! Trait objects (`GcDyn<dyn Part>`, made by `unsize!`) of objects of four
//! types share the heap with the nodes: a small tracked leaf, a 32-byte
//! aligned holder of nodes, of other parts and of a table, a slab large
//! enough for a chunk of its own, and a node itself seen as a part. They
//! sit in the root (a list, and a `HashSet` of them as keys, which also
//! roots its parts) and in the holders; they are written through
//! `&mut mc[h]`, and reach nodes that nothing else reaches, so marking must
//! trace the object behind the vtable. After every collection each part
//! answers its trait methods with the model's kind, value and handles, and
//! the set finds it, the fresh view of a node included. Arrays of `u32`,
//! seen as `GcDyn<[u32]>` slices, keep their contents as they move.
//!
//! Handles kept outside the heap besides `Held`: weak ones to nodes
//! (`HeldWeak`, from `hold_weak` or `Held::downgrade`), strong and weak
//! ones to parts (`HeldDyn` from `hold_dyn`, `HeldDynWeak` from
//! `hold_dyn_weak` or `HeldDyn::downgrade`, named by `dyn_rootable!`),
//! fetched (`fetch_dyn`, `mc[&h]`, written through `&mut mc[&h]`) and
//! upgraded (`upgrade`, `upgrade_held`, `upgrade_dyn`, `upgrade_held_dyn`)
//! across collections that move their objects: a strong one roots its
//! object, a weak one upgrades exactly while the model says its object
//! lives, reports `is_dropped` once a collection found it unreachable
//! (and after the heap is dropped), and `ptr_eq` says whether two handles
//! name the same object; the heap's count of held objects agrees.

#![no_main]

use std::collections::{HashMap, HashSet};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use managed::prelude::*;
use managed_fuzz::{Tracked, catch, drops, install_panic_hook, pick};

const MAX_OPS: usize = 256;
const SLOTS: usize = 4;

/// How big a node is.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Shape {
    /// A few words.
    Small,
    /// Aligned to 64 bytes (its own alignment class).
    Aligned,
    /// Bigger than a quarter of a 4 KiB chunk: a chunk of its own.
    Large,
}

#[repr(align(64))]
#[derive(Managed)]
struct Aligned([u64; 3]);

#[derive(Managed)]
struct Node<'gc> {
    #[managed(skip)]
    t: Tracked,
    shape: u8,
    aligned: Option<Gc<'gc, Aligned>>,
    payload: Vec<u64>,
    large: Option<Gc<'gc, [u64; 160]>>,
    edges: Vec<Gc<'gc, Node<'gc>>>,
    weak: Vec<GcWeak<'gc, Node<'gc>>>,
}

/// What a part is.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `Leaf`: a tracked value, three words.
    Leaf,
    /// `Holder`: aligned to 32 bytes, holds nodes, parts and a table.
    Holder,
    /// `Slab`: bigger than a quarter of a 4 KiB chunk.
    Slab,
    /// A node itself, seen as a part.
    View,
}

/// A behaviour objects of several types share; it names the brand, so its
/// objects can hold handles.
trait Part<'gc> {
    fn kind(&self) -> Kind;
    /// The part's tracked value.
    fn tracked(&self) -> &Tracked;
    fn tracked_mut(&mut self) -> &mut Tracked;
    fn id(&self) -> u32 {
        self.tracked().id()
    }
    fn value(&self) -> u64 {
        self.tracked().value()
    }
    fn set(&mut self, value: u64) {
        self.tracked_mut().set(value);
    }
    fn defuse(&mut self) {
        self.tracked_mut().defuse();
    }
    /// Every copy of the value in the object agrees with `value`.
    fn intact(&self) -> bool {
        true
    }
    fn nodes(&self) -> &[Gc<'gc, Node<'gc>>] {
        &[]
    }
    fn inner(&self) -> &[Dyn<'gc>] {
        &[]
    }
    fn table(&self) -> Option<GcDyn<'gc, [u32]>> {
        None
    }
    /// Adds an edge to `node`, if this kind of part holds nodes.
    fn attach(&mut self, node: Gc<'gc, Node<'gc>>) -> bool {
        let _ = node;
        false
    }
    /// The node, if the part is one.
    fn node(&self) -> Option<&Node<'gc>> {
        None
    }
}

type Dyn<'gc> = GcDyn<'gc, dyn Part<'gc>>;

/// A part, at every brand: what `HeldDyn` and `HeldDynWeak` hold.
type AnyPart = dyn_rootable!(for<'gc> dyn Part<'gc> + 'gc);

/// The handles kept outside the heap other than the `Held` ones, in the
/// order of their models in `Model`.
#[derive(Default)]
struct Handles {
    weak: Vec<HeldWeak<Node<'static>>>,
    dyns: Vec<HeldDyn<AnyPart>>,
    weak_dyns: Vec<HeldDynWeak<AnyPart>>,
}

#[derive(Managed)]
struct Leaf {
    t: Tracked,
}

#[repr(align(32))]
#[derive(Managed)]
struct Holder<'gc> {
    t: Tracked,
    nodes: Vec<Gc<'gc, Node<'gc>>>,
    inner: Vec<Dyn<'gc>>,
    table: Option<GcDyn<'gc, [u32]>>,
}

#[derive(Managed)]
struct Slab {
    t: Tracked,
    words: [u64; 140],
}

impl<'gc> Part<'gc> for Leaf {
    fn kind(&self) -> Kind {
        Kind::Leaf
    }
    fn tracked(&self) -> &Tracked {
        &self.t
    }
    fn tracked_mut(&mut self) -> &mut Tracked {
        &mut self.t
    }
}

impl<'gc> Part<'gc> for Holder<'gc> {
    fn kind(&self) -> Kind {
        Kind::Holder
    }
    fn tracked(&self) -> &Tracked {
        &self.t
    }
    fn tracked_mut(&mut self) -> &mut Tracked {
        &mut self.t
    }
    fn nodes(&self) -> &[Gc<'gc, Node<'gc>>] {
        &self.nodes
    }
    fn inner(&self) -> &[Dyn<'gc>] {
        &self.inner
    }
    fn table(&self) -> Option<GcDyn<'gc, [u32]>> {
        self.table
    }
    fn attach(&mut self, node: Gc<'gc, Node<'gc>>) -> bool {
        self.nodes.push(node);
        true
    }
}

impl<'gc> Part<'gc> for Slab {
    fn kind(&self) -> Kind {
        Kind::Slab
    }
    fn tracked(&self) -> &Tracked {
        &self.t
    }
    fn tracked_mut(&mut self) -> &mut Tracked {
        &mut self.t
    }
    fn set(&mut self, value: u64) {
        self.t.set(value);
        self.words.fill(value);
    }
    fn intact(&self) -> bool {
        self.words.iter().all(|&w| w == self.t.value())
    }
}

/// A node as a part: its own value and payload (its aligned and large
/// parts are set through their handles, by `set_node_parts`).
impl<'gc> Part<'gc> for Node<'gc> {
    fn kind(&self) -> Kind {
        Kind::View
    }
    fn tracked(&self) -> &Tracked {
        &self.t
    }
    fn tracked_mut(&mut self) -> &mut Tracked {
        &mut self.t
    }
    fn set(&mut self, value: u64) {
        self.t.set(value);
        self.payload = vec![value; (value % 5) as usize];
    }
    fn node(&self) -> Option<&Node<'gc>> {
        Some(self)
    }
}

/// A node seen as a part.
fn view<'gc>(n: Gc<'gc, Node<'gc>>) -> Dyn<'gc> {
    unsize!(n => dyn Part<'gc>)
}

/// Table lengths: an array in a chunk, and one that is a large object in
/// 4 KiB chunks. Element 0 is the table's id.
const TABLE_LENS: [usize; 2] = [6, 300];

#[derive(Managed)]
struct Roots<'gc> {
    slots: Vec<Option<Gc<'gc, Node<'gc>>>>,
    bigs: Vec<Gc<'gc, [u64; 200]>>,
    tags: HashMap<Gc<'gc, Node<'gc>>, Tracked>,
    weak_tags: HashMap<GcWeak<'gc, Node<'gc>>, Tracked>,
    /// Nodes attached to nodes, keyed weakly (an ephemeron table): an
    /// entry's node lives while its key's node is reachable otherwise.
    attached: HashMap<GcWeak<'gc, Node<'gc>>, Gc<'gc, Node<'gc>>>,
    parts: Vec<Dyn<'gc>>,
    /// Trait objects as keys (they root their objects too).
    enabled: HashSet<Dyn<'gc>>,
    tables: Vec<GcDyn<'gc, [u32]>>,
}

#[derive(Arbitrary, Debug)]
enum Op {
    New {
        slot: u8,
        shape: Shape,
        value: u16,
        bomb: bool,
    },
    Garbage {
        shape: Shape,
        bomb: bool,
    },
    Link {
        from: u8,
        path: Vec<u8>,
        to: u8,
    },
    Unlink {
        from: u8,
        edge: u8,
    },
    Set {
        slot: u8,
        value: u16,
    },
    Copy {
        from: u8,
        to: u8,
    },
    Clear {
        slot: u8,
    },
    Big {
        keep: bool,
    },
    Hold {
        slot: u8,
        path: Vec<u8>,
    },
    Release {
        k: u8,
    },
    Fetch {
        k: u8,
        slot: u8,
    },
    WeakLink {
        from: u8,
        path: Vec<u8>,
        to: u8,
    },
    Upgrade {
        from: u8,
        edge: u8,
        slot: u8,
    },
    /// Tags a node in the side table, or in the weakly keyed one.
    Tag {
        slot: u8,
        path: Vec<u8>,
        value: u16,
        weak: bool,
    },
    Untag {
        slot: u8,
        path: Vec<u8>,
        weak: bool,
    },
    /// Attaches the node at `to`/`to_path` to the one at `slot`/`path` in
    /// the ephemeron table (or removes what is attached, without a `to`).
    Attach {
        slot: u8,
        path: Vec<u8>,
        to: Option<u8>,
        to_path: Vec<u8>,
    },
    /// A collection; `dense` packs the survivors into as few chunks as
    /// they fit (`Heap::compact`).
    Collect {
        dense: bool,
    },
    /// A part (a view of the node at `from`/`path` for `Kind::View`), kept
    /// in the list and/or the set, or garbage. A holder holds that node,
    /// the listed part `nest` and the table `table`.
    NewPart {
        kind: Kind,
        value: u16,
        bomb: bool,
        keep: bool,
        enable: bool,
        from: u8,
        path: Vec<u8>,
        nest: Option<u8>,
        table: Option<u8>,
    },
    DropPart {
        k: u8,
        disable: bool,
    },
    /// Writes a listed part through `&mut mc[h]`.
    SetPart {
        k: u8,
        value: u16,
    },
    /// Adds an edge from a listed part (if a holder) to a node.
    AttachPart {
        k: u8,
        from: u8,
        path: Vec<u8>,
    },
    /// Roots a node a listed part holds in a slot.
    FetchPart {
        k: u8,
        edge: u8,
        slot: u8,
    },
    /// Removes the view of a slot's node from the set.
    Disable {
        slot: u8,
    },
    /// An array unsized to a slice.
    Table {
        long: bool,
        value: u16,
        keep: bool,
    },
    SetTable {
        k: u8,
        index: u16,
        value: u16,
    },
    DropTable {
        k: u8,
    },
    /// A weak handle to a node: made by `hold_weak`, or by downgrading
    /// the `Held` handle `from_held`.
    HoldWeak {
        slot: u8,
        path: Vec<u8>,
        from_held: Option<u8>,
    },
    /// Upgrades a weak handle, into a slot or (`pin`) a `Held` sharing its
    /// cell.
    UpgradeWeak {
        k: u8,
        slot: u8,
        pin: bool,
    },
    DropWeak {
        k: u8,
    },
    /// A `HeldDyn` to a listed part.
    HoldDyn {
        k: u8,
    },
    /// A `HeldDynWeak` to a listed part, or (`from_held`) downgraded from
    /// a `HeldDyn`.
    HoldDynWeak {
        k: u8,
        from_held: bool,
    },
    /// Reads a `HeldDyn`'s part, writes it through `&mut mc[&h]`, lists it.
    FetchDyn {
        k: u8,
        value: Option<u16>,
        list: bool,
    },
    /// Upgrades a `HeldDynWeak`, into the list or (`pin`) a `HeldDyn`.
    UpgradeDyn {
        k: u8,
        list: bool,
        pin: bool,
    },
    ReleaseDyn {
        k: u8,
    },
    DropWeakDyn {
        k: u8,
    },
}

#[derive(Arbitrary, Debug)]
struct Program {
    chunk: u8,
    ops: Vec<Op>,
}

#[derive(Default)]
struct Model {
    /// id -> (value, edges)
    nodes: HashMap<u32, (u64, Vec<u32>)>,
    slots: [Option<u32>; SLOTS],
    bigs: usize,
    /// The nodes the `Held` handles hold, in order.
    held: Vec<u32>,
    /// id -> weak edges (`None` once their node was found unreachable)
    weak: HashMap<u32, Vec<Option<u32>>>,
    /// node id -> tag value (the side table's keys root their nodes)
    tags: HashMap<u32, u64>,
    /// node id -> (the tag's tracked id, its value), in the weakly keyed
    /// table (which roots nothing)
    weak_tags: HashMap<u32, (u32, u64)>,
    /// node id -> the node attached to it (reachable while the key is)
    attached: HashMap<u32, u32>,
    /// part id -> part (a view is its node, in `nodes`)
    parts: HashMap<u32, PartModel>,
    /// The listed parts, by object id (a node's for a view).
    dyns: Vec<u32>,
    /// The parts in the set.
    enabled: HashSet<u32>,
    /// table id -> contents (element 0 is the id), never forgotten.
    tables: Vec<Vec<u32>>,
    /// The listed tables.
    root_tables: Vec<u32>,
    /// The cells of the `Held` handles, in order. A heap keeps one cell
    /// per object, which every handle to it shares (strong or weak, typed
    /// or trait object: a view's is its node's), so a cell is named by
    /// its object's id.
    held_cells: Vec<u32>,
    /// The `HeldWeak` handles: `(cell, node)`, the node `None` once a
    /// collection found it unreachable (the cell, the handle's identity,
    /// stays).
    weak_held: Vec<(u32, Option<u32>)>,
    /// The `HeldDyn` handles: `(cell, part)` (a node's id for a view).
    held_dyn: Vec<(u32, u32)>,
    /// The `HeldDynWeak` handles, as `weak_held`.
    weak_dyn: Vec<(u32, Option<u32>)>,
}

struct PartModel {
    kind: Kind,
    value: u64,
    nodes: Vec<u32>,
    inner: Vec<u32>,
    table: Option<u32>,
}

impl Model {
    /// Whether object `id` was not dropped yet.
    fn alive(&self, id: u32) -> bool {
        self.nodes.contains_key(&id) || self.parts.contains_key(&id)
    }

    /// Cells the heap lists after a collection: those of strong handles,
    /// and those of weak handles whose objects live.
    fn live_cells(&self) -> usize {
        let mut cells: HashSet<u32> = self.held_cells.iter().copied().collect();
        cells.extend(self.held_dyn.iter().map(|&(cell, _)| cell));
        let weak = self.weak_held.iter().chain(&self.weak_dyn);
        cells.extend(weak.filter(|(_, id)| id.is_some()).map(|&(cell, _)| cell));
        cells.len()
    }

    fn reachable(&self) -> HashSet<u32> {
        let mut seen = HashSet::new();
        let mut stack: Vec<u32> = self.slots.iter().flatten().copied().collect();
        stack.extend(&self.held);
        stack.extend(self.tags.keys());
        stack.extend(&self.dyns);
        stack.extend(&self.enabled);
        stack.extend(self.held_dyn.iter().map(|&(_, id)| id));
        loop {
            while let Some(id) = stack.pop() {
                if seen.insert(id) {
                    match self.nodes.get(&id) {
                        Some((_, edges)) => stack.extend(edges),
                        None => {
                            let part = &self.parts[&id];
                            stack.extend(&part.nodes);
                            stack.extend(&part.inner);
                        }
                    }
                }
            }
            // A node attached to a reachable node is reachable.
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

/// Writes `value` into a node's aligned and large parts.
fn set_node_parts<'gc>(
    mc: &mut Mutation<'gc>,
    parts: (Option<Gc<'gc, Aligned>>, Option<Gc<'gc, [u64; 160]>>),
    value: u64,
) {
    if let Some(a) = parts.0 {
        mc[a].0 = [value; 3];
    }
    if let Some(l) = parts.1 {
        mc[l].fill(value);
    }
}

/// Makes the part `NewPart` asks for: its handle and id, or `None` for a
/// view of no node.
fn new_part<'gc>(
    mc: &Mutation<'gc>,
    roots: &Roots<'gc>,
    model: &mut Model,
    op: &Op,
) -> Option<(Dyn<'gc>, u32)> {
    let Op::NewPart {
        kind,
        value,
        bomb,
        from,
        path,
        nest,
        table,
        ..
    } = op
    else {
        unreachable!()
    };
    let value = u64::from(*value);
    let t = || Tracked::with_bomb(value, *bomb);
    let at = walk(mc, roots, *from, path);
    assert_eq!(at.map(|n| mc[n].t.id()), walk_model(model, *from, path));
    let mut m = PartModel {
        kind: *kind,
        value,
        nodes: Vec::new(),
        inner: Vec::new(),
        table: None,
    };
    let part = match kind {
        Kind::Leaf => unsize!(Gc::new(mc, Leaf { t: t() }) => dyn Part<'gc>),
        Kind::Slab => {
            let slab = Gc::new(
                mc,
                Slab {
                    t: t(),
                    words: [value; 140],
                },
            );
            unsize!(slab => dyn Part<'gc>)
        }
        Kind::Holder => {
            let nest = nest.and_then(|k| pick(k, roots.parts.len()));
            let table = table.and_then(|k| pick(k, roots.tables.len()));
            m.nodes.extend(at.map(|n| mc[n].t.id()));
            m.inner.extend(nest.map(|k| model.dyns[k]));
            m.table = table.map(|k| model.root_tables[k]);
            let holder = Gc::new(
                mc,
                Holder {
                    t: t(),
                    nodes: at.into_iter().collect(),
                    inner: nest.map(|k| roots.parts[k]).into_iter().collect(),
                    table: table.map(|k| roots.tables[k]),
                },
            );
            unsize!(holder => dyn Part<'gc>)
        }
        Kind::View => return at.map(|n| (view(n), mc[n].t.id())),
    };
    let id = mc[part].id();
    assert_eq!(mc[part].value(), value);
    model.parts.insert(id, m);
    Some((part, id))
}

fn node<'gc>(mc: &Mutation<'gc>, shape: Shape, value: u64, bomb: bool) -> Gc<'gc, Node<'gc>> {
    let t = Tracked::with_bomb(value, bomb);
    let (shape_id, aligned, large) = match shape {
        Shape::Small => (0, None, None),
        Shape::Aligned => (1, Some(Gc::new(mc, Aligned([value; 3]))), None),
        Shape::Large => (2, None, Some(Gc::new(mc, [value; 160]))),
    };
    Gc::new(
        mc,
        Node {
            t,
            shape: shape_id,
            aligned,
            payload: vec![value; (value % 5) as usize],
            large,
            edges: Vec::new(),
            weak: Vec::new(),
        },
    )
}

/// Walks from a slot along edges.
fn walk<'gc>(
    mc: &Mutation<'gc>,
    roots: &Roots<'gc>,
    slot: u8,
    path: &[u8],
) -> Option<Gc<'gc, Node<'gc>>> {
    let mut at = roots.slots[slot as usize % SLOTS]?;
    for &i in path.iter().take(4) {
        let edges = &mc[at].edges;
        match pick(i, edges.len()) {
            Some(k) => at = edges[k],
            None => break,
        }
    }
    Some(at)
}

fn walk_model(model: &Model, slot: u8, path: &[u8]) -> Option<u32> {
    let mut at = model.slots[slot as usize % SLOTS]?;
    for &i in path.iter().take(4) {
        let edges = &model.nodes[&at].1;
        match pick(i, edges.len()) {
            Some(k) => at = edges[k],
            None => break,
        }
    }
    Some(at)
}

/// A node's value, parts and edges equal the model's.
fn check_node<'gc>(mc: &Mutation<'gc>, node: &Node<'gc>, model: &Model) {
    let (value, edges) = &model.nodes[&node.t.id()];
    assert_eq!(node.t.value(), *value);
    assert_eq!(node.payload, vec![*value; (*value % 5) as usize]);
    match node.shape {
        0 => assert!(node.aligned.is_none() && node.large.is_none()),
        1 => {
            let a = node.aligned.expect("an aligned node has its part");
            assert_eq!(a.as_ptr().addr() % 64, 0);
            assert_eq!(mc[a].0, [*value; 3]);
        }
        _ => assert!(node.large.is_some_and(|l| mc[l].iter().all(|x| x == value))),
    }
    let ids: Vec<u32> = node.edges.iter().map(|&e| mc[e].t.id()).collect();
    assert_eq!(&ids, edges);
    let weak: Vec<Option<u32>> = node
        .weak
        .iter()
        .map(|w| w.upgrade(mc).map(|t| mc[t].t.id()))
        .collect();
    assert_eq!(weak, model.weak[&node.t.id()]);
}

/// A table's contents equal the model's.
fn check_table<'gc>(mc: &Mutation<'gc>, table: GcDyn<'gc, [u32]>, model: &Model) -> u32 {
    let id = mc[table][0];
    let expected = model.tables.get(id as usize);
    assert_eq!(Some(&mc[table]), expected.map(|t| &t[..]), "table {id}");
    id
}

/// The handles kept outside the heap reach (or, weak, upgrade to) the
/// objects the model says, and compare equal exactly when those are the
/// same.
fn check_handles<'gc>(mc: &Mutation<'gc>, handles: &Handles, model: &Model) {
    for (w, &(_, want)) in handles.weak.iter().zip(&model.weak_held) {
        assert_eq!(w.is_dropped(), want.is_none(), "HeldWeak::is_dropped");
        assert_eq!(mc.upgrade(w).map(|n| mc[n].t.id()), want, "upgrade");
    }
    for (w, &(_, want)) in handles.weak_dyns.iter().zip(&model.weak_dyn) {
        assert_eq!(w.is_dropped(), want.is_none(), "HeldDynWeak::is_dropped");
        assert_eq!(mc.upgrade_dyn(w).map(|p| mc[p].id()), want, "upgrade_dyn");
    }
    for (h, &(_, id)) in handles.dyns.iter().zip(&model.held_dyn) {
        assert_eq!(mc[h].id(), id, "HeldDyn");
        assert_eq!(mc[mc.fetch_dyn(h)].id(), id, "fetch_dyn");
    }
    for pair in handles.weak.windows(2).zip(model.weak_held.windows(2)) {
        let same = pair.1[0].0 == pair.1[1].0;
        assert_eq!(
            HeldWeak::ptr_eq(&pair.0[0], &pair.0[1]),
            same,
            "HeldWeak::ptr_eq"
        );
    }
    for pair in handles.weak_dyns.windows(2).zip(model.weak_dyn.windows(2)) {
        let same = pair.1[0].0 == pair.1[1].0;
        assert_eq!(
            HeldDynWeak::ptr_eq(&pair.0[0], &pair.0[1]),
            same,
            "HeldDynWeak::ptr_eq"
        );
    }
    for pair in handles.dyns.windows(2).zip(model.held_dyn.windows(2)) {
        let same = pair.1[0].1 == pair.1[1].1;
        assert_eq!(
            HeldDyn::ptr_eq(&pair.0[0], &pair.0[1]),
            same,
            "HeldDyn::ptr_eq"
        );
    }
}

/// The heap's graph, from the slots, the held handles, the tags and the
/// parts, equals the model's.
fn check(
    heap: &Heap<Roots<'static>>,
    held: &[Held<Node<'static>>],
    handles: &Handles,
    model: &Model,
) {
    heap.read(|mc, roots| {
        check_handles(mc, handles, model);
        assert_eq!(roots.bigs.len(), model.bigs);
        for (k, &b) in roots.bigs.iter().enumerate() {
            assert!(mc[b].iter().all(|&x| x == k as u64));
        }
        for (slot, m) in roots.slots.iter().zip(&model.slots) {
            assert_eq!(slot.map(|n| mc[n].t.id()), *m);
        }
        let mut seen = HashSet::new();
        let mut stack: Vec<Gc<'_, Node<'_>>> = roots.slots.iter().flatten().copied().collect();
        let held_ids: Vec<u32> = held.iter().map(|h| mc[h].t.id()).collect();
        assert_eq!(held_ids, model.held);
        stack.extend(held.iter().map(|h| mc.fetch(h)));
        let tags: HashMap<u32, u64> = roots
            .tags
            .iter()
            .map(|(&n, t)| (mc[n].t.id(), t.value()))
            .collect();
        assert_eq!(tags, model.tags);
        for (n, t) in &roots.tags {
            assert_eq!(roots.tags.get(n).map(Tracked::id), Some(t.id()));
        }
        stack.extend(roots.tags.keys());
        let weak_tags: HashMap<u32, (u32, u64)> = roots
            .weak_tags
            .iter()
            .map(|(w, t)| {
                let n = w.upgrade(mc).expect("no entry of a dropped node");
                (mc[n].t.id(), (t.id(), t.value()))
            })
            .collect();
        assert_eq!(weak_tags, model.weak_tags);
        for (w, t) in &roots.weak_tags {
            let again = w.upgrade(mc).unwrap().downgrade();
            assert_eq!(roots.weak_tags.get(&again).map(Tracked::id), Some(t.id()));
        }
        let attached: HashMap<u32, u32> = roots
            .attached
            .iter()
            .map(|(w, &n)| {
                let key = w.upgrade(mc).expect("no entry of a dropped node");
                (mc[key].t.id(), mc[n].t.id())
            })
            .collect();
        assert_eq!(attached, model.attached);
        let dyns: Vec<u32> = roots.parts.iter().map(|&p| mc[p].id()).collect();
        assert_eq!(dyns, model.dyns);
        let enabled: HashSet<u32> = roots.enabled.iter().map(|&p| mc[p].id()).collect();
        assert_eq!(enabled, model.enabled);
        assert_eq!(roots.enabled.len(), model.enabled.len());
        let tables: Vec<u32> = roots
            .tables
            .iter()
            .map(|&t| check_table(mc, t, model))
            .collect();
        assert_eq!(tables, model.root_tables);
        let mut parts: Vec<Dyn<'_>> = roots.parts.clone();
        parts.extend(roots.enabled.iter());
        parts.extend(handles.dyns.iter().map(|h| mc.fetch_dyn(h)));
        loop {
            if stack.is_empty() && parts.is_empty() {
                // The nodes attached to nodes found are found too.
                stack.extend(
                    roots
                        .attached
                        .iter()
                        .filter(|&(w, &n)| {
                            let key = mc[w.upgrade(mc).unwrap()].t.id();
                            seen.contains(&key) && !seen.contains(&mc[n].t.id())
                        })
                        .map(|(_, &n)| n),
                );
            }
            if let Some(n) = stack.pop() {
                let node = &mc[n];
                let id = node.t.id();
                // A fresh view finds the set's key, filed at the old
                // address before the collection moved the node.
                assert_eq!(
                    roots.enabled.contains(&view(n)),
                    model.enabled.contains(&id)
                );
                if seen.insert(id) {
                    check_node(mc, node, model);
                    stack.extend(&node.edges);
                }
            } else if let Some(p) = parts.pop() {
                let part = &mc[p];
                let id = part.id();
                assert_eq!(roots.enabled.contains(&p), model.enabled.contains(&id));
                if let Some(node) = part.node() {
                    assert_eq!(part.kind(), Kind::View);
                    assert_eq!(part.value(), model.nodes[&id].0);
                    if seen.insert(id) {
                        check_node(mc, node, model);
                        stack.extend(&node.edges);
                    }
                } else if seen.insert(id) {
                    let m = &model.parts[&id];
                    assert_eq!(part.kind(), m.kind);
                    assert_eq!(part.value(), m.value);
                    assert!(part.intact(), "part {id} is torn");
                    if m.kind == Kind::Holder {
                        assert_eq!(p.as_ptr().cast::<u8>().addr() % 32, 0);
                    }
                    let nodes: Vec<u32> = part.nodes().iter().map(|&n| mc[n].t.id()).collect();
                    assert_eq!(nodes, m.nodes);
                    let inner: Vec<u32> = part.inner().iter().map(|&q| mc[q].id()).collect();
                    assert_eq!(inner, m.inner);
                    assert_eq!(part.table().map(|t| check_table(mc, t, model)), m.table);
                    stack.extend(part.nodes());
                    parts.extend(part.inner());
                }
            } else {
                break;
            }
        }
        assert_eq!(seen, model.reachable());
    });
}

fuzz_target!(|program: Program| {
    install_panic_hook();
    drops::reset();
    let chunk = [4096, 8192, 65536][program.chunk as usize % 3];
    let mut model = Model::default();
    let mut heap: Heap<Roots<'static>> = Heap::with_chunk_size(chunk, |_| Roots {
        slots: vec![None; SLOTS],
        bigs: Vec::new(),
        tags: HashMap::new(),
        weak_tags: HashMap::new(),
        attached: HashMap::new(),
        parts: Vec::new(),
        enabled: HashSet::new(),
        tables: Vec::new(),
    });
    let mut held: Vec<Held<Node<'static>>> = Vec::new();
    let mut handles = Handles::default();
    for op in program.ops.iter().take(MAX_OPS) {
        // Handles are dropped outside mutations.
        match *op {
            Op::Release { k } => {
                if let Some(k) = pick(k, held.len()) {
                    held.remove(k);
                    model.held.remove(k);
                    model.held_cells.remove(k);
                }
                continue;
            }
            Op::DropWeak { k } => {
                if let Some(k) = pick(k, handles.weak.len()) {
                    handles.weak.remove(k);
                    model.weak_held.remove(k);
                }
                continue;
            }
            Op::ReleaseDyn { k } => {
                if let Some(k) = pick(k, handles.dyns.len()) {
                    handles.dyns.remove(k);
                    model.held_dyn.remove(k);
                }
                continue;
            }
            Op::DropWeakDyn { k } => {
                if let Some(k) = pick(k, handles.weak_dyns.len()) {
                    handles.weak_dyns.remove(k);
                    model.weak_dyn.remove(k);
                }
                continue;
            }
            _ => {}
        }
        if let &Op::Collect { dense } = op {
            let reachable = model.reachable();
            // The weakly keyed tags of unreachable nodes: the collection
            // drops their values.
            let untagged: HashSet<u32> = model
                .weak_tags
                .iter()
                .filter(|(node, _)| !reachable.contains(node))
                .map(|(_, &(tag, _))| tag)
                .collect();
            model.weak_tags.retain(|node, _| reachable.contains(node));
            model.attached.retain(|node, _| reachable.contains(node));
            // Completed or cut short by a panic, a collection leaves no
            // weak edge to a node it found unreachable.
            for edges in model.weak.values_mut() {
                for edge in edges.iter_mut() {
                    if edge.is_some_and(|t| !reachable.contains(&t)) {
                        *edge = None;
                    }
                }
            }
            // So are the weak handles kept outside.
            let weak_handles = model.weak_held.iter_mut().chain(&mut model.weak_dyn);
            for (_, target) in weak_handles {
                if target.is_some_and(|t| !reachable.contains(&t)) {
                    *target = None;
                }
            }
            let before: HashSet<u32> = (0..drops::ids())
                .filter(|&id| drops::count(id) == 0)
                .collect();
            let stats = catch(|| {
                if dense {
                    heap.compact()
                } else {
                    heap.collect()
                }
            });
            let mut dropped: HashSet<u32> = before
                .iter()
                .copied()
                .filter(|&id| drops::count(id) == 1)
                .collect();
            assert!(
                untagged
                    .iter()
                    .all(|&tag| drops::count(tag) == 1 && dropped.remove(&tag)),
                "the weakly keyed tags of dropped nodes are dropped, once"
            );
            assert!(dropped.iter().all(|id| (model.nodes.contains_key(id)
                || model.parts.contains_key(id))
                && !reachable.contains(id)));
            model.nodes.retain(|id, _| !dropped.contains(id));
            model.parts.retain(|id, _| !dropped.contains(id));
            if let Some(stats) = stats {
                assert_eq!(
                    model.nodes.len() + model.parts.len(),
                    reachable.len(),
                    "all garbage dropped"
                );
                assert_eq!(stats.dropped, dropped.len());
                assert_eq!(heap.detailed_stats().used_bytes, stats.live_bytes);
                assert_eq!(heap.detailed_stats().held, model.live_cells(), "held cells");
            }
            check(&heap, &held, &handles, &model);
            continue;
        }
        heap.mutate(|mc, roots| match op {
            Op::New {
                slot,
                shape,
                value,
                bomb,
            } => {
                let n = node(mc, *shape, u64::from(*value), *bomb);
                let id = mc[n].t.id();
                model.nodes.insert(id, (u64::from(*value), Vec::new()));
                model.weak.insert(id, Vec::new());
                roots.slots[*slot as usize % SLOTS] = Some(n);
                model.slots[*slot as usize % SLOTS] = Some(id);
            }
            Op::Garbage { shape, bomb } => {
                let n = node(mc, *shape, 7, *bomb);
                model.nodes.insert(mc[n].t.id(), (7, Vec::new()));
                model.weak.insert(mc[n].t.id(), Vec::new());
            }
            Op::Link { from, path, to } => {
                let (f, t) = (walk(mc, roots, *from, path), walk(mc, roots, *to, &[]));
                assert_eq!(f.map(|f| mc[f].t.id()), walk_model(&model, *from, path));
                if let (Some(f), Some(t)) = (f, t) {
                    let (fid, tid) = (mc[f].t.id(), mc[t].t.id());
                    mc[f].edges.push(t);
                    model.nodes.get_mut(&fid).unwrap().1.push(tid);
                }
            }
            Op::Unlink { from, edge } => {
                if let Some(f) = walk(mc, roots, *from, &[]) {
                    let fid = mc[f].t.id();
                    let edges = &mut mc[f].edges;
                    if let Some(k) = pick(*edge, edges.len()) {
                        edges.remove(k);
                        model.nodes.get_mut(&fid).unwrap().1.remove(k);
                    }
                }
            }
            Op::Set { slot, value } => {
                if let Some(n) = walk(mc, roots, *slot, &[]) {
                    let id = mc[n].t.id();
                    let v = u64::from(*value);
                    let node = &mut mc[n];
                    node.t.set(v);
                    node.payload = vec![v; (v % 5) as usize];
                    let (large, aligned) = (node.large, node.aligned);
                    if let Some(l) = large {
                        mc[l].fill(v);
                    }
                    if let Some(a) = aligned {
                        mc[a].0 = [v; 3];
                    }
                    model.nodes.get_mut(&id).unwrap().0 = v;
                }
            }
            Op::Copy { from, to } => {
                let n = roots.slots[*from as usize % SLOTS];
                roots.slots[*to as usize % SLOTS] = n;
                model.slots[*to as usize % SLOTS] = model.slots[*from as usize % SLOTS];
            }
            Op::Clear { slot } => {
                roots.slots[*slot as usize % SLOTS] = None;
                model.slots[*slot as usize % SLOTS] = None;
            }
            Op::Big { keep } => {
                let b = Gc::new(mc, [roots.bigs.len() as u64; 200]);
                if *keep {
                    roots.bigs.push(b);
                    model.bigs += 1;
                }
            }
            Op::Hold { slot, path } => {
                if let Some(n) = walk(mc, roots, *slot, path) {
                    model.held.push(mc[n].t.id());
                    model.held_cells.push(mc[n].t.id());
                    held.push(mc.hold(n));
                }
            }
            Op::HoldWeak {
                slot,
                path,
                from_held,
            } => match from_held.and_then(|k| pick(k, held.len())) {
                Some(k) => {
                    handles.weak.push(held[k].downgrade());
                    model
                        .weak_held
                        .push((model.held_cells[k], Some(model.held[k])));
                }
                None => {
                    if let Some(n) = walk(mc, roots, *slot, path) {
                        handles.weak.push(mc.hold_weak(n));
                        let id = mc[n].t.id();
                        model.weak_held.push((id, Some(id)));
                    }
                }
            },
            Op::UpgradeWeak { k, slot, pin } => {
                if let Some(k) = pick(*k, handles.weak.len()) {
                    let (cell, want) = model.weak_held[k];
                    assert_eq!(want.is_some_and(|id| model.alive(id)), want.is_some());
                    if *pin {
                        let h = mc.upgrade_held(&handles.weak[k]);
                        assert_eq!(h.as_ref().map(|h| mc[h].t.id()), want, "upgrade_held");
                        if let Some(h) = h {
                            held.push(h);
                            model.held.push(want.unwrap());
                            model.held_cells.push(cell);
                        }
                    } else {
                        let n = mc.upgrade(&handles.weak[k]);
                        assert_eq!(n.map(|n| mc[n].t.id()), want, "upgrade");
                        if n.is_some() {
                            roots.slots[*slot as usize % SLOTS] = n;
                            model.slots[*slot as usize % SLOTS] = want;
                        }
                    }
                }
            }
            Op::HoldDyn { k } => {
                if let Some(k) = pick(*k, roots.parts.len()) {
                    let h: HeldDyn<AnyPart> = mc.hold_dyn(roots.parts[k]);
                    assert_eq!(mc[&h].id(), model.dyns[k]);
                    handles.dyns.push(h);
                    model.held_dyn.push((model.dyns[k], model.dyns[k]));
                }
            }
            Op::HoldDynWeak { k, from_held } => {
                if *from_held {
                    if let Some(k) = pick(*k, handles.dyns.len()) {
                        handles.weak_dyns.push(handles.dyns[k].downgrade());
                        let (cell, id) = model.held_dyn[k];
                        model.weak_dyn.push((cell, Some(id)));
                    }
                } else if let Some(k) = pick(*k, roots.parts.len()) {
                    handles.weak_dyns.push(mc.hold_dyn_weak(roots.parts[k]));
                    model.weak_dyn.push((model.dyns[k], Some(model.dyns[k])));
                }
            }
            Op::FetchDyn { k, value, list } => {
                if let Some(k) = pick(*k, handles.dyns.len()) {
                    let id = model.held_dyn[k].1;
                    let part = mc.fetch_dyn(&handles.dyns[k]);
                    assert_eq!((mc[part].id(), mc[&handles.dyns[k]].id()), (id, id));
                    if let Some(v) = value.map(u64::from) {
                        mc[&handles.dyns[k]].set(v);
                        match mc[part].node() {
                            Some(node) => {
                                let parts = (node.aligned, node.large);
                                set_node_parts(mc, parts, v);
                                model.nodes.get_mut(&id).unwrap().0 = v;
                            }
                            None => model.parts.get_mut(&id).unwrap().value = v,
                        }
                        assert_eq!(mc[part].value(), v);
                    }
                    if *list {
                        roots.parts.push(part);
                        model.dyns.push(id);
                    }
                }
            }
            Op::UpgradeDyn { k, list, pin } => {
                if let Some(k) = pick(*k, handles.weak_dyns.len()) {
                    let (cell, want) = model.weak_dyn[k];
                    assert_eq!(want.is_some_and(|id| model.alive(id)), want.is_some());
                    let w = &handles.weak_dyns[k];
                    if *pin {
                        let h = mc.upgrade_held_dyn(w);
                        assert_eq!(h.as_ref().map(|h| mc[h].id()), want, "upgrade_held_dyn");
                        if let Some(h) = h {
                            handles.dyns.push(h);
                            model.held_dyn.push((cell, want.unwrap()));
                        }
                    } else {
                        let part = mc.upgrade_dyn(w);
                        assert_eq!(part.map(|p| mc[p].id()), want, "upgrade_dyn");
                        if let Some(part) = part.filter(|_| *list) {
                            roots.parts.push(part);
                            model.dyns.push(want.unwrap());
                        }
                    }
                }
            }
            Op::Fetch { k, slot } => {
                if let Some(k) = pick(*k, held.len()) {
                    let n = mc.fetch(&held[k]);
                    roots.slots[*slot as usize % SLOTS] = Some(n);
                    model.slots[*slot as usize % SLOTS] = Some(model.held[k]);
                }
            }
            Op::WeakLink { from, path, to } => {
                let (f, t) = (walk(mc, roots, *from, path), walk(mc, roots, *to, &[]));
                if let (Some(f), Some(t)) = (f, t) {
                    let (fid, tid) = (mc[f].t.id(), mc[t].t.id());
                    mc[f].weak.push(t.downgrade());
                    model.weak.get_mut(&fid).unwrap().push(Some(tid));
                }
            }
            Op::Upgrade { from, edge, slot } => {
                if let Some(f) = walk(mc, roots, *from, &[]) {
                    let fid = mc[f].t.id();
                    if let Some(k) = pick(*edge, mc[f].weak.len()) {
                        let target = mc[f].weak[k].upgrade(mc);
                        let expected = model.weak[&fid][k];
                        assert_eq!(target.map(|t| mc[t].t.id()), expected);
                        if let Some(t) = target {
                            roots.slots[*slot as usize % SLOTS] = Some(t);
                            model.slots[*slot as usize % SLOTS] = expected;
                        }
                    }
                }
            }
            Op::Tag {
                slot,
                path,
                value,
                weak,
            } => {
                if let Some(n) = walk(mc, roots, *slot, path) {
                    let v = u64::from(*value);
                    let t = Tracked::new(v);
                    if *weak {
                        model.weak_tags.insert(mc[n].t.id(), (t.id(), v));
                        roots.weak_tags.insert(n.downgrade(), t);
                    } else {
                        roots.tags.insert(n, t);
                        model.tags.insert(mc[n].t.id(), v);
                    }
                }
            }
            Op::Attach {
                slot,
                path,
                to,
                to_path,
            } => {
                if let Some(k) = walk(mc, roots, *slot, path) {
                    let key = mc[k].t.id();
                    let (old, model_old) = match to.and_then(|to| walk(mc, roots, to, to_path)) {
                        Some(n) => (
                            roots.attached.insert(k.downgrade(), n),
                            model.attached.insert(key, mc[n].t.id()),
                        ),
                        None => (
                            roots.attached.remove(&k.downgrade()),
                            model.attached.remove(&key),
                        ),
                    };
                    assert_eq!(old.map(|o| mc[o].t.id()), model_old);
                }
            }
            Op::Untag { slot, path, weak } => {
                if let Some(n) = walk(mc, roots, *slot, path) {
                    let id = mc[n].t.id();
                    if *weak {
                        let removed = roots.weak_tags.remove(&n.downgrade());
                        let removed = removed.map(|t| (t.id(), t.value()));
                        assert_eq!(removed, model.weak_tags.remove(&id));
                    } else {
                        let removed = roots.tags.remove(&n).map(|t| t.value());
                        assert_eq!(removed, model.tags.remove(&id));
                    }
                }
            }
            Op::NewPart { keep, enable, .. } => {
                if let Some((part, id)) = new_part(mc, roots, &mut model, op) {
                    if *keep {
                        roots.parts.push(part);
                        model.dyns.push(id);
                    }
                    if *enable {
                        roots.enabled.insert(part);
                        model.enabled.insert(id);
                    }
                }
            }
            Op::DropPart { k, disable } => {
                if let Some(k) = pick(*k, roots.parts.len()) {
                    let part = roots.parts.remove(k);
                    let id = model.dyns.remove(k);
                    assert_eq!(mc[part].id(), id);
                    if *disable {
                        assert_eq!(roots.enabled.remove(&part), model.enabled.remove(&id));
                    }
                }
            }
            Op::SetPart { k, value } => {
                if let Some(k) = pick(*k, roots.parts.len()) {
                    let (part, id, v) = (roots.parts[k], model.dyns[k], u64::from(*value));
                    assert_eq!(mc[part].id(), id);
                    mc[part].set(v);
                    match mc[part].node() {
                        Some(node) => {
                            let parts = (node.aligned, node.large);
                            set_node_parts(mc, parts, v);
                            model.nodes.get_mut(&id).unwrap().0 = v;
                        }
                        None => model.parts.get_mut(&id).unwrap().value = v,
                    }
                    assert_eq!(mc[part].value(), v);
                }
            }
            Op::AttachPart { k, from, path } => {
                let at = walk(mc, roots, *from, path);
                if let (Some(k), Some(n)) = (pick(*k, roots.parts.len()), at) {
                    let (part, id, nid) = (roots.parts[k], model.dyns[k], mc[n].t.id());
                    let attached = mc[part].attach(n);
                    assert_eq!(attached, mc[part].kind() == Kind::Holder);
                    if attached {
                        model.parts.get_mut(&id).unwrap().nodes.push(nid);
                    }
                }
            }
            Op::FetchPart { k, edge, slot } => {
                if let Some(k) = pick(*k, roots.parts.len()) {
                    let (part, id) = (roots.parts[k], model.dyns[k]);
                    let nodes = mc[part].nodes();
                    let expected = model.parts.get(&id).map_or(&[][..], |m| &m.nodes);
                    assert_eq!(nodes.len(), expected.len());
                    if let Some(e) = pick(*edge, nodes.len()) {
                        let n = nodes[e];
                        assert_eq!(mc[n].t.id(), expected[e]);
                        roots.slots[*slot as usize % SLOTS] = Some(n);
                        model.slots[*slot as usize % SLOTS] = Some(expected[e]);
                    }
                }
            }
            Op::Disable { slot } => {
                if let Some(n) = walk(mc, roots, *slot, &[]) {
                    let removed = roots.enabled.remove(&view(n));
                    assert_eq!(removed, model.enabled.remove(&mc[n].t.id()));
                }
            }
            Op::Table { long, value, keep } => {
                let id = model.tables.len() as u32;
                let v = u32::from(*value);
                let table: GcDyn<'_, [u32]> = if *long {
                    let mut array = [v; TABLE_LENS[1]];
                    array[0] = id;
                    unsize!(Gc::new(mc, array) => [u32])
                } else {
                    let mut array = [v; TABLE_LENS[0]];
                    array[0] = id;
                    unsize!(Gc::new(mc, array) => [u32])
                };
                model.tables.push(mc[table].to_vec());
                assert_eq!(mc[table].len(), TABLE_LENS[usize::from(*long)]);
                if *keep {
                    roots.tables.push(table);
                    model.root_tables.push(id);
                }
            }
            Op::SetTable { k, index, value } => {
                if let Some(k) = pick(*k, roots.tables.len()) {
                    let (table, id) = (roots.tables[k], model.root_tables[k]);
                    let len = mc[table].len();
                    let i = 1 + usize::from(*index) % (len - 1);
                    mc[table][i] = u32::from(*value);
                    model.tables[id as usize][i] = u32::from(*value);
                    check_table(mc, table, &model);
                }
            }
            Op::DropTable { k } => {
                if let Some(k) = pick(*k, roots.tables.len()) {
                    roots.tables.remove(k);
                    model.root_tables.remove(k);
                }
            }
            Op::Collect { .. }
            | Op::Release { .. }
            | Op::DropWeak { .. }
            | Op::ReleaseDyn { .. }
            | Op::DropWeakDyn { .. } => unreachable!("handled above"),
        });
    }
    // Disarm the remaining bombs, then drop: every value once in all.
    heap.mutate(|mc, roots| {
        let mut stack: Vec<Gc<'_, Node<'_>>> = roots.slots.iter().flatten().copied().collect();
        stack.extend(held.iter().map(|h| mc.fetch(h)));
        stack.extend(roots.tags.keys());
        let mut parts: Vec<Dyn<'_>> = roots.parts.clone();
        parts.extend(roots.enabled.iter());
        parts.extend(handles.dyns.iter().map(|h| mc.fetch_dyn(h)));
        let mut seen = HashSet::new();
        let mut seen_parts = HashSet::new();
        loop {
            if let Some(n) = stack.pop() {
                if seen.insert(n) {
                    mc[n].t.defuse();
                    stack.extend(mc[n].edges.clone());
                }
            } else if let Some(p) = parts.pop() {
                if seen_parts.insert(p) {
                    mc[p].defuse();
                    stack.extend(mc[p].nodes().to_vec());
                    parts.extend(mc[p].inner().to_vec());
                    if let Some(node) = mc[p].node() {
                        stack.extend(node.edges.clone());
                    }
                }
            } else {
                break;
            }
        }
    });
    drop(held);
    handles.dyns.clear();
    let leftover_bombs = catch(|| drop(heap)).is_none();
    let _ = leftover_bombs;
    // The heap is gone, and every object with it.
    assert!(handles.weak.iter().all(HeldWeak::is_dropped));
    assert!(handles.weak_dyns.iter().all(HeldDynWeak::is_dropped));
    drops::assert_each_once();
});
