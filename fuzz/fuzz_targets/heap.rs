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
//! after the collections move it, and whose values are dropped once each.

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

#[derive(Managed)]
struct Roots<'gc> {
    slots: Vec<Option<Gc<'gc, Node<'gc>>>>,
    bigs: Vec<Gc<'gc, [u64; 200]>>,
    tags: HashMap<Gc<'gc, Node<'gc>>, Tracked>,
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
    Tag {
        slot: u8,
        path: Vec<u8>,
        value: u16,
    },
    Untag {
        slot: u8,
        path: Vec<u8>,
    },
    Collect,
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
}

impl Model {
    fn reachable(&self) -> HashSet<u32> {
        let mut seen = HashSet::new();
        let mut stack: Vec<u32> = self.slots.iter().flatten().copied().collect();
        stack.extend(&self.held);
        stack.extend(self.tags.keys());
        while let Some(id) = stack.pop() {
            if seen.insert(id) {
                stack.extend(&self.nodes[&id].1);
            }
        }
        seen
    }
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

/// The heap's graph, from the slots and the held handles, equals the
/// model's.
fn check(heap: &Heap<Roots<'static>>, held: &[Held<Node<'static>>], model: &Model) {
    heap.read(|mc, roots| {
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
        while let Some(n) = stack.pop() {
            let node = &mc[n];
            if !seen.insert(node.t.id()) {
                continue;
            }
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
            stack.extend(&node.edges);
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
    });
    let mut held: Vec<Held<Node<'static>>> = Vec::new();
    for op in program.ops.iter().take(MAX_OPS) {
        if let Op::Release { k } = op {
            if let Some(k) = pick(*k, held.len()) {
                held.remove(k);
                model.held.remove(k);
            }
            continue;
        }
        if let Op::Collect = op {
            let reachable = model.reachable();
            // Completed or cut short by a panic, a collection leaves no
            // weak edge to a node it found unreachable.
            for edges in model.weak.values_mut() {
                for edge in edges.iter_mut() {
                    if edge.is_some_and(|t| !reachable.contains(&t)) {
                        *edge = None;
                    }
                }
            }
            let before: HashSet<u32> = (0..drops::ids())
                .filter(|&id| drops::count(id) == 0)
                .collect();
            let stats = catch(|| heap.collect());
            let dropped: HashSet<u32> = before
                .iter()
                .copied()
                .filter(|&id| drops::count(id) == 1)
                .collect();
            assert!(
                dropped
                    .iter()
                    .all(|id| model.nodes.contains_key(id) && !reachable.contains(id))
            );
            model.nodes.retain(|id, _| !dropped.contains(id));
            if let Some(stats) = stats {
                assert_eq!(model.nodes.len(), reachable.len(), "all garbage dropped");
                assert_eq!(stats.dropped, dropped.len());
                assert_eq!(heap.detailed_stats().used_bytes, stats.live_bytes);
                assert_eq!(heap.detailed_stats().held, held.len());
            }
            check(&heap, &held, &model);
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
                    held.push(mc.hold(n));
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
            Op::Tag { slot, path, value } => {
                if let Some(n) = walk(mc, roots, *slot, path) {
                    let v = u64::from(*value);
                    roots.tags.insert(n, Tracked::new(v));
                    model.tags.insert(mc[n].t.id(), v);
                }
            }
            Op::Untag { slot, path } => {
                if let Some(n) = walk(mc, roots, *slot, path) {
                    let removed = roots.tags.remove(&n).map(|t| t.value());
                    assert_eq!(removed, model.tags.remove(&mc[n].t.id()));
                }
            }
            Op::Collect | Op::Release { .. } => unreachable!("handled above"),
        });
    }
    // Disarm the remaining bombs, then drop: every value once in all.
    heap.mutate(|mc, roots| {
        let mut stack: Vec<Gc<'_, Node<'_>>> = roots.slots.iter().flatten().copied().collect();
        stack.extend(held.iter().map(|h| mc.fetch(h)));
        stack.extend(roots.tags.keys());
        let mut seen = HashSet::new();
        while let Some(n) = stack.pop() {
            if seen.insert(n) {
                mc[n].t.defuse();
                stack.extend(mc[n].edges.clone());
            }
        }
    });
    drop(held);
    let leftover_bombs = catch(|| drop(heap)).is_none();
    let _ = leftover_bombs;
    drops::assert_each_once();
});
