//! A node-graph editor, like the shader nodes of a 3D package. The nodes
//! live on the garbage-collected heap, linked both ways (inputs and
//! consumers: cycles); a node's kind is a trait object whose evaluation
//! takes `&mut self` (a clamp counts what it clamped) and reads the inputs
//! through [`Others`]. The editor's state lives outside the heap: a
//! selection, undo and redo stacks whose commands hold the nodes they
//! touched (`Held`), a clipboard, and a properties panel whose `HeldWeak`
//! does not keep a deleted node alive. Once no command refers to a deleted
//! node, the collection after the next frame drops it.
//!
//! Run with `cargo run --example node_editor`.

use std::collections::{HashMap, VecDeque};

use managed::heap::CollectStats;
use managed::prelude::*;

type NodeRef<'gc> = Gc<'gc, Node<'gc>>;
type KindRef<'gc> = GcDyn<'gc, dyn NodeKind<'gc>>;
/// A node held by the editor, outside the heap.
type NodeHandle = Held<Node<'static>>;
/// Copied nodes and their copies.
type Remap<'gc> = HashMap<NodeRef<'gc>, NodeRef<'gc>>;

/// What a node computes. `Downcast` lets the editor find the clamps.
trait NodeKind<'gc>: Downcast<'gc> {
    /// The kind's name and its number of input ports.
    fn shape(&self) -> (&'static str, usize);
    /// The output of `node` (this kind's), from its inputs read in `others`.
    fn evaluate(&mut self, node: &Node<'gc>, others: &Others<'_, 'gc>) -> f64;
    /// A fresh copy of the kind, for a copy of its node.
    fn duplicate(&self, mc: &Mutation<'gc>, remap: &Remap<'gc>) -> KindRef<'gc>;
}

fn kind<'gc, K: NodeKind<'gc> + Managed + 'gc>(mc: &Mutation<'gc>, k: K) -> KindRef<'gc> {
    unsize!(Gc::new(mc, k) => dyn NodeKind<'gc>)
}

/// The kinds without state.
#[derive(Managed, Clone, Copy)]
enum Pure {
    Const(f64),
    Add,
    Mul,
    Output,
}

/// Clamps its input into `range`; counts the evaluations that clamped.
#[derive(Managed, Clone, Copy)]
struct Clamp {
    range: (f64, f64),
    clamped: u32,
}

/// Reads a node's output without a link (a feedback tap): it has no inputs,
/// so it runs first and sees the previous frame's value. A weak handle: it
/// does not keep its target alive.
#[derive(Managed)]
struct Probe<'gc>(GcWeak<'gc, Node<'gc>>);

impl<'gc> NodeKind<'gc> for Pure {
    fn shape(&self) -> (&'static str, usize) {
        match self {
            Pure::Const(_) => ("const", 0),
            Pure::Add => ("add", 2),
            Pure::Mul => ("mul", 2),
            Pure::Output => ("output", 1),
        }
    }
    fn evaluate(&mut self, node: &Node<'gc>, others: &Others<'_, 'gc>) -> f64 {
        let input = |port| node.input(port, others);
        match *self {
            Pure::Const(x) => x,
            Pure::Add => input(0) + input(1),
            Pure::Mul => input(0) * input(1),
            Pure::Output => input(0),
        }
    }
    fn duplicate(&self, mc: &Mutation<'gc>, _: &Remap<'gc>) -> KindRef<'gc> {
        kind(mc, *self)
    }
}

impl<'gc> NodeKind<'gc> for Clamp {
    fn shape(&self) -> (&'static str, usize) {
        ("clamp", 1)
    }
    fn evaluate(&mut self, node: &Node<'gc>, others: &Others<'_, 'gc>) -> f64 {
        let (x, (lo, hi)) = (node.input(0, others), self.range);
        self.clamped += u32::from(x < lo || x > hi);
        x.clamp(lo, hi)
    }
    fn duplicate(&self, mc: &Mutation<'gc>, _: &Remap<'gc>) -> KindRef<'gc> {
        let range = self.range;
        kind(mc, Clamp { range, clamped: 0 })
    }
}

impl<'gc> NodeKind<'gc> for Probe<'gc> {
    fn shape(&self) -> (&'static str, usize) {
        ("probe", 0)
    }
    fn evaluate(&mut self, _: &Node<'gc>, others: &Others<'_, 'gc>) -> f64 {
        let target = others.upgrade(self.0);
        target.map_or(0.0, |target| others[target].value)
    }
    /// A copy probes the copy of its target, if that was copied too.
    fn duplicate(&self, mc: &Mutation<'gc>, remap: &Remap<'gc>) -> KindRef<'gc> {
        let copy = self.0.upgrade(mc).and_then(|target| remap.get(&target));
        kind(mc, Probe(copy.map_or(self.0, |c| c.downgrade())))
    }
}

/// The editor's palette: what the user adds nodes of.
enum New<'a> {
    Pure(Pure),
    Clamp((f64, f64)),
    Probe(&'a NodeHandle),
}

#[derive(Managed)]
struct Node<'gc> {
    kind: KindRef<'gc>,
    /// One slot per input port: the node whose output feeds it.
    inputs: Vec<Option<NodeRef<'gc>>>,
    /// Back-links: the input ports that read this node's output.
    consumers: Vec<(NodeRef<'gc>, usize)>,
    /// The output of the last evaluation.
    value: f64,
}

impl<'gc> Node<'gc> {
    fn new(mc: &Mutation<'gc>, kind: KindRef<'gc>) -> NodeRef<'gc> {
        let inputs = vec![None; mc[kind].shape().1];
        let consumers = Vec::new();
        Gc::new(
            mc,
            Node {
                kind,
                inputs,
                consumers,
                value: 0.0,
            },
        )
    }

    /// The value on input `port`; 0 if nothing is connected.
    fn input(&self, port: usize, others: &Others<'_, 'gc>) -> f64 {
        self.inputs[port].map_or(0.0, |from| others[from].value)
    }
}

/// The heap's root: the nodes of the graph.
#[derive(Managed)]
struct Graph<'gc> {
    nodes: Vec<NodeRef<'gc>>,
}

/// Feeds `from` (or nothing) into `to`'s input `port`.
fn link<'gc>(mc: &mut Mutation<'gc>, from: Option<NodeRef<'gc>>, to: NodeRef<'gc>, port: usize) {
    if let Some(old) = std::mem::replace(&mut mc[to].inputs[port], from) {
        unlink_back(mc, old, (to, port));
    }
    if let Some(from) = from {
        mc[from].consumers.push((to, port));
    }
}

fn unlink_back<'gc>(mc: &mut Mutation<'gc>, from: NodeRef<'gc>, to: (NodeRef<'gc>, usize)) {
    let consumers = &mut mc[from].consumers;
    let i = consumers.iter().position(|&c| c == to);
    consumers.swap_remove(i.expect("a back-link"));
}

/// Puts `node` into the graph, with the back-links of its inputs.
fn insert<'gc>(mc: &mut Mutation<'gc>, g: &mut Graph<'gc>, node: NodeRef<'gc>) {
    g.nodes.push(node);
    for port in 0..mc[node].inputs.len() {
        if let Some(from) = mc[node].inputs[port] {
            mc[from].consumers.push((node, port));
        }
    }
}

/// Takes `node` out of the graph. It keeps its inputs (for undo), without
/// their back-links; its readers' ports are cleared.
fn remove<'gc>(mc: &mut Mutation<'gc>, g: &mut Graph<'gc>, node: NodeRef<'gc>) {
    g.nodes.retain(|&n| n != node);
    for port in 0..mc[node].inputs.len() {
        if let Some(from) = mc[node].inputs[port] {
            unlink_back(mc, from, (node, port));
        }
    }
    while let Some(&(reader, port)) = mc[node].consumers.last() {
        link(mc, None, reader, port);
    }
}

/// Copies the nodes of `held` with the links among them (links from other
/// nodes are dropped). The copies are in no graph yet.
fn duplicate<'gc>(mc: &mut Mutation<'gc>, held: &[NodeHandle]) -> Vec<NodeHandle> {
    // The copies first, with their originals' kinds for now: a probe's copy
    // targets the copy of its target.
    let mut remap = Remap::new();
    for n in held.iter().map(|h| mc.fetch(h)) {
        remap.insert(n, Node::new(mc, mc[n].kind));
    }
    for (&n, &copy) in &remap {
        let kind = mc[mc[n].kind].duplicate(mc, &remap);
        let inputs = mc[n].inputs.iter().map(|i| remap.get(&(*i)?).copied());
        (mc[copy].kind, mc[copy].inputs) = (kind, inputs.collect());
    }
    held.iter().map(|h| mc.hold(remap[&mc.fetch(h)])).collect()
}

/// One evaluation in topological order (Kahn's); returns the nodes run.
fn evaluate<'gc>(mc: &mut Mutation<'gc>, g: &mut Graph<'gc>) -> usize {
    let mut pending: HashMap<NodeRef<'gc>, usize> = HashMap::new();
    let mut ready = VecDeque::new();
    for &n in &g.nodes {
        let inputs = mc[n].inputs.iter().flatten().count();
        pending.insert(n, inputs);
        if inputs == 0 {
            ready.push_back(n);
        }
    }
    let mut run = 0;
    while let Some(n) = ready.pop_front() {
        // The kind written; the node and its inputs read.
        let (kind, others) = mc.split_mut(mc[n].kind);
        let value = kind.evaluate(&others[n], &others);
        mc[n].value = value;
        run += 1;
        for (c, _) in &mc[n].consumers {
            let left = pending.get_mut(c).expect("a reader in the graph");
            *left -= 1;
            if *left == 0 {
                ready.push_back(*c);
            }
        }
    }
    run
}

fn clamp_of<'gc>(mc: &Mutation<'gc>, node: NodeRef<'gc>) -> Option<Gc<'gc, Clamp>> {
    mc[node].kind.downcast::<Clamp>(mc)
}

/// An edit, as the undo and redo stacks keep it.
enum Command {
    Add(Vec<NodeHandle>),
    /// The node, and the input ports it fed.
    Delete(NodeHandle, Vec<(NodeHandle, usize)>),
    /// An input port, and what fed it before and after.
    Connect(NodeHandle, usize, [Option<NodeHandle>; 2]),
}

impl Command {
    fn apply<'gc>(&self, mc: &mut Mutation<'gc>, g: &mut Graph<'gc>, forwards: bool) {
        match self {
            Command::Add(nodes) if forwards => {
                nodes.iter().for_each(|n| insert(mc, g, mc.fetch(n)))
            }
            Command::Add(nodes) => nodes.iter().for_each(|n| remove(mc, g, mc.fetch(n))),
            Command::Delete(node, _) if forwards => remove(mc, g, mc.fetch(node)),
            Command::Delete(node, readers) => {
                insert(mc, g, mc.fetch(node));
                for (reader, port) in readers {
                    link(mc, Some(mc.fetch(node)), mc.fetch(reader), *port);
                }
            }
            Command::Connect(to, port, links) => {
                let from = links[usize::from(forwards)].as_ref().map(|h| mc.fetch(h));
                link(mc, from, mc.fetch(to), *port);
            }
        }
    }
}

struct Editor {
    heap: Heap<Graph<'static>>,
    selection: Vec<NodeHandle>,
    /// The undo stack, then the redo stack.
    history: [Vec<Command>; 2],
    clipboard: Vec<NodeHandle>,
    /// The node the properties panel shows, if it still exists.
    inspected: Option<HeldWeak<Node<'static>>>,
}

impl Editor {
    fn perform(&mut self, cmd: Command) {
        self.heap.mutate(|mc, g| cmd.apply(mc, g, true));
        self.history[0].push(cmd);
        self.history[1].clear();
    }

    /// Undoes (`forwards == false`) or redoes one command.
    fn step(&mut self, forwards: bool) {
        let cmd = self.history[usize::from(forwards)].pop().unwrap();
        self.heap.mutate(|mc, g| cmd.apply(mc, g, forwards));
        self.history[usize::from(!forwards)].push(cmd);
    }

    /// Keeps the last `n` undo steps and no redo steps.
    fn trim_history(&mut self, n: usize) {
        let [undo, redo] = &mut self.history;
        undo.drain(..undo.len().saturating_sub(n));
        redo.clear();
    }

    fn add(&mut self, new: New<'_>) -> NodeHandle {
        let node: NodeHandle = self.heap.mutate(|mc, _| {
            let kind = match new {
                New::Pure(pure) => kind(mc, pure),
                New::Clamp(range) => kind(mc, Clamp { range, clamped: 0 }),
                New::Probe(target) => kind(mc, Probe(mc.fetch(target).downgrade())),
            };
            mc.hold(Node::new(mc, kind))
        });
        self.perform(Command::Add(vec![node.clone()]));
        node
    }

    fn connect(&mut self, from: Option<&NodeHandle>, to: &NodeHandle, port: usize) {
        let old = self
            .heap
            .read(|mc, _| mc[to].inputs[port].map(|o| mc.hold(o)));
        self.perform(Command::Connect(to.clone(), port, [old, from.cloned()]));
    }

    fn delete(&mut self, node: &NodeHandle) {
        let readers = self.heap.read(|mc, _| {
            let readers = mc[node].consumers.iter();
            readers
                .map(|&(reader, port)| (mc.hold(reader), port))
                .collect()
        });
        self.selection.retain(|s| !Held::ptr_eq(s, node));
        self.perform(Command::Delete(node.clone(), readers));
    }

    /// Copies the selection, with the links among it, to the clipboard.
    fn copy(&mut self) {
        self.clipboard = self.heap.mutate(|mc, _| duplicate(mc, &self.selection));
    }

    /// Pastes (a copy of) the clipboard, and selects it.
    fn paste(&mut self) -> Vec<NodeHandle> {
        self.selection = self.heap.mutate(|mc, _| duplicate(mc, &self.clipboard));
        self.perform(Command::Add(self.selection.clone()));
        self.selection.clone()
    }

    /// One frame: evaluates the graph, then collects.
    fn frame(&mut self) -> (usize, CollectStats) {
        (self.heap.mutate(evaluate), self.heap.collect())
    }

    fn value(&self, node: &NodeHandle) -> f64 {
        self.heap.read(|mc, _| mc[node].value)
    }

    fn clamped(&self, node: &NodeHandle) -> Option<u32> {
        let clamp = |mc: &Mutation<'_>| clamp_of(mc, mc.fetch(node)).map(|c| mc[c].clamped);
        self.heap.read(|mc, _| clamp(mc))
    }

    /// The properties panel.
    fn panel(&self) -> String {
        self.heap.read(|mc, _| {
            let Some(node) = self.inspected.as_ref().and_then(|w| mc.upgrade(w)) else {
                return "nothing".into();
            };
            let (name, value) = (mc[mc[node].kind].shape().0, mc[node].value);
            match clamp_of(mc, node) {
                Some(clamp) => format!("{name} = {value}, clamped {}x", mc[clamp].clamped),
                None => format!("{name} = {value}"),
            }
        })
    }
}

pub(crate) fn main() {
    let heap = Heap::new(|_| Graph { nodes: Vec::new() });
    let (selection, history, clipboard, inspected) = Default::default();
    let mut ed = Editor {
        heap,
        selection,
        history,
        clipboard,
        inspected,
    };

    // (2 + 3) * 4, clamped to [0, 15], into the output; a probe taps the product.
    let [a, b, c] = [2.0, 3.0, 4.0].map(|x| ed.add(New::Pure(Pure::Const(x))));
    let sum = ed.add(New::Pure(Pure::Add));
    let prod = ed.add(New::Pure(Pure::Mul));
    let clamp = ed.add(New::Clamp((0.0, 15.0)));
    let out = ed.add(New::Pure(Pure::Output));
    let tap = ed.add(New::Probe(&prod));
    ed.connect(Some(&a), &sum, 0);
    ed.connect(Some(&b), &sum, 1);
    ed.connect(Some(&sum), &prod, 0);
    ed.connect(Some(&c), &prod, 1);
    ed.connect(Some(&prod), &clamp, 0);
    ed.connect(Some(&clamp), &out, 0);
    assert_eq!(ed.frame().0, 8);
    assert_eq!([&prod, &out, &tap].map(|n| ed.value(n)), [20.0, 15.0, 0.0]);
    ed.frame();
    assert_eq!(ed.value(&tap), 20.0, "the probe sees the previous frame");
    assert_eq!((ed.clamped(&clamp), ed.clamped(&prod)), (Some(2), None));

    // Bypass the clamp; undo, redo, undo.
    ed.connect(Some(&prod), &out, 0);
    for (step, expect) in [(None, 20.0), (Some(false), 15.0), (Some(true), 20.0)] {
        if let Some(forwards) = step {
            ed.step(forwards);
        }
        ed.frame();
        assert_eq!(ed.value(&out), expect);
    }
    ed.step(false);
    assert_eq!(ed.clamped(&clamp), Some(5));

    // Copy (a, b, a + b) and paste it twice; chain the copies: (2 + 3) + 3.
    ed.selection = vec![a.clone(), b.clone(), sum.clone()];
    ed.copy();
    let p1 = ed.paste();
    let p2 = ed.paste();
    ed.connect(Some(&p1[2]), &p2[2], 0);
    assert_eq!(ed.frame().0, 14);
    assert_eq!((ed.value(&p1[2]), ed.value(&p2[2])), (5.0, 8.0));

    // Inspect the product and delete it: the clamp loses its input. Undo, redo.
    ed.inspected = Some(prod.downgrade());
    assert_eq!(ed.panel(), "mul = 20");
    ed.delete(&prod);
    assert_eq!((ed.frame().0, ed.value(&out)), (13, 0.0));
    ed.step(false);
    ed.frame();
    assert_eq!(ed.value(&out), 15.0);
    ed.step(true);
    drop(prod);

    // The deleted node lives while a command refers to it (the probe and the
    // panel do not keep it); trimming the history frees it and its kind.
    let (_, kept) = ed.frame();
    assert_eq!((kept.dropped, kept.freed_bytes), (0, 0));
    assert_eq!(ed.panel(), "mul = 20");
    ed.trim_history(0);
    let (_, trimmed) = ed.frame();
    // The node has a destructor (its `Vec`s), its kind has none.
    let bytes = size_of::<Node>().next_multiple_of(8) + size_of::<Pure>().next_multiple_of(8);
    assert_eq!((trimmed.dropped, trimmed.freed_bytes), (1, bytes));
    assert_eq!(ed.panel(), "nothing");
    ed.frame();
    assert_eq!(ed.value(&tap), 0.0, "the probe's target is gone");
    ed.inspected = Some(clamp.downgrade());
    assert_eq!(ed.panel(), "clamp = 0, clamped 7x");

    let nodes = ed.heap.read(|_, g| g.nodes.len());
    let (before, after) = (kept.live_objects, trimmed.live_objects);
    println!(
        "{nodes} nodes; history trimmed: {before} -> {after} live objects, {bytes} bytes freed"
    );
    println!("panel: {}", ed.panel());
}
