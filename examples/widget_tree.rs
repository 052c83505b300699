//! The core of a retained-mode GUI toolkit: panels, labels and buttons on
//! the garbage-collected heap behind one trait (`GcDyn<'gc, dyn
//! Widget<'gc>>`, downcast where a concrete type is needed), in a tree
//! whose parents hold their children and whose parent links are weak. A
//! button's click handler is a higher-ranked `fn` pointer beside the handle
//! it acts on.
//!
//! The application's state lives outside the heap: the focused widget (a
//! `HeldDyn`, which keeps it alive), the hovered one (a `HeldDynWeak`,
//! which does not) and an undo stack of `HeldDyn` entries, so a deleted
//! subtree survives collections while an entry can bring it back.
//!
//! Thousands of synthetic events from a fixed seed (hover, click, drag and
//! drop, delete, undo) each run hit-testing and a layout pass, with a
//! collection every few events; a std-only model checks what was hit, the
//! tree, which widgets exist, and that the hover handle lets go of exactly
//! the widgets that became unreachable.
//!
//! Run with `cargo run --example widget_tree`.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use managed::prelude::*;

type WidgetRef<'gc> = GcDyn<'gc, dyn Widget<'gc>>;
/// Any widget, at every brand: what the handles outside the heap hold.
type AnyWidget = dyn_rootable!(for<'gc> dyn Widget<'gc> + 'gc);
/// A click handler: adds a widget to `target` and returns it.
type OnClick = for<'a> fn(&mut Mutation<'a>, &mut Ui<'a>, WidgetRef<'a>) -> WidgetRef<'a>;
type Point = (i32, i32);
/// The window's frame (its panels, lists and buttons: ids 1 to 7) can be
/// neither dragged nor deleted.
const FRAME: u32 = 7;

/// What every widget has: its place in the tree and its laid-out box.
#[derive(Managed, Default)]
struct Node<'gc> {
    id: u32,
    /// Weak: a child that an undo entry keeps does not keep its old parent.
    parent: Option<GcDynWeak<'gc, dyn Widget<'gc>>>,
    children: Vec<WidgetRef<'gc>>,
    pos: Point,
    size: Point,
}

trait Widget<'gc>: Downcast<'gc> {
    fn node(&self) -> &Node<'gc>;
    fn node_mut(&mut self) -> &mut Node<'gc>;
    /// A container's axis (`true`: a row), or a leaf's own size.
    fn shape(&self) -> Result<bool, Point>;
}

#[derive(Managed)]
struct Panel<'gc> {
    node: Node<'gc>,
    row: bool,
}

#[derive(Managed)]
struct Label<'gc> {
    node: Node<'gc>,
    text: String,
}

#[derive(Managed)]
struct Button<'gc> {
    node: Node<'gc>,
    /// The handler's argument in a field of its own: a `fn` pointer captures
    /// nothing, so the collector sees every handle the handler will use.
    target: WidgetRef<'gc>,
    on_click: OnClick,
}

macro_rules! widget {
    ($ty:ident, |$w:ident| $shape:expr) => {
        impl<'gc> Widget<'gc> for $ty<'gc> {
            fn node(&self) -> &Node<'gc> {
                &self.node
            }
            fn node_mut(&mut self) -> &mut Node<'gc> {
                &mut self.node
            }
            fn shape(&self) -> Result<bool, Point> {
                let $w = self;
                $shape
            }
        }
    };
}
widget!(Panel, |w| Ok(w.row));
widget!(Label, |w| Err(text_size(&w.text)));
widget!(Button, |_w| Err((40, 20)));

/// The heap's root.
#[derive(Managed)]
struct Ui<'gc> {
    window: WidgetRef<'gc>,
    next_id: u32,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Panel {
        row: bool,
    },
    Label,
    /// Adds a label to the widget of this id.
    Button(u32),
}

/// The starting window, parents first: (parent, kind, text); the widget at
/// index `i` has the id `i + 1`.
const WINDOW: &[(u32, Kind, &str)] = &[
    (0, Kind::Panel { row: false }, ""),
    (1, Kind::Panel { row: true }, ""),  // 2: toolbar
    (1, Kind::Panel { row: true }, ""),  // 3: body
    (3, Kind::Panel { row: false }, ""), // 4: list A
    (3, Kind::Panel { row: false }, ""), // 5: list B
    (2, Kind::Button(4), ""),
    (2, Kind::Button(5), ""),
    (3, Kind::Panel { row: true }, ""), // 8: a group
    (4, Kind::Label, "alpha"),
    (5, Kind::Label, "beta"),
    (8, Kind::Label, "gamma"),
    (8, Kind::Label, "delta"),
];

fn text_size(text: &str) -> Point {
    (8 * text.len() as i32, 16)
}

/// A container's size around children of `sizes` in a row or a column,
/// and each child's offset from the container's corner.
fn stack(row: bool, sizes: impl IntoIterator<Item = Point>) -> (Point, Vec<Point>) {
    const PAD: i32 = 2;
    let (mut along, mut across, mut offsets) = (PAD, 0, Vec::new());
    for (w, h) in sizes {
        let (a, b) = if row { (w, h) } else { (h, w) };
        offsets.push(if row { (along, PAD) } else { (PAD, along) });
        (along, across) = (along + a + 1, across.max(b));
    }
    let (a, b) = (along + PAD, across + 2 * PAD);
    (if row { (a, b) } else { (b, a) }, offsets)
}

fn contains(pos: Point, size: Point, p: Point) -> bool {
    p.0 >= pos.0 && p.1 >= pos.1 && p.0 < pos.0 + size.0 && p.1 < pos.1 + size.1
}

/// A new widget; a button's target is found among the widgets `made`.
fn new_widget<'gc>(
    mc: &Mutation<'gc>,
    id: u32,
    kind: Kind,
    text: &str,
    made: &[WidgetRef<'gc>],
) -> WidgetRef<'gc> {
    let node = Node {
        id,
        ..Node::default()
    };
    match kind {
        Kind::Panel { row } => unsize!(Gc::new(mc, Panel { node, row }) => dyn Widget<'gc>),
        Kind::Label => unsize!(Gc::new(mc, Label { node, text: text.into() }) => dyn Widget<'gc>),
        Kind::Button(target) => {
            let (target, on_click) = (made[target as usize - 1], add_item as OnClick);
            unsize!(Gc::new(mc, Button { node, target, on_click }) => dyn Widget<'gc>)
        }
    }
}

fn add_item<'a>(mc: &mut Mutation<'a>, ui: &mut Ui<'a>, list: WidgetRef<'a>) -> WidgetRef<'a> {
    ui.next_id += 1;
    let item = new_widget(
        mc,
        ui.next_id,
        Kind::Label,
        &format!("item{}", ui.next_id),
        &[],
    );
    attach(mc, list, item, usize::MAX);
    item
}

fn attach<'gc>(mc: &mut Mutation<'gc>, parent: WidgetRef<'gc>, child: WidgetRef<'gc>, at: usize) {
    let children = &mut mc[parent].node_mut().children;
    children.insert(at.min(children.len()), child);
    mc[child].node_mut().parent = Some(parent.downgrade());
}

/// Takes `child` out of its parent's list: the parent and the place.
fn detach<'gc>(mc: &mut Mutation<'gc>, child: WidgetRef<'gc>) -> Option<(WidgetRef<'gc>, usize)> {
    // `None` too once a collection dropped the parent.
    let parent = mc[child].node_mut().parent.take()?.upgrade(mc)?;
    let children = &mut mc[parent].node_mut().children;
    let index = children.iter().position(|&c| c == child)?;
    children.remove(index);
    Some((parent, index))
}

fn is_within<'gc>(mc: &Mutation<'gc>, ancestor: WidgetRef<'gc>, widget: WidgetRef<'gc>) -> bool {
    let parent = mc[widget].node().parent.and_then(|p| p.upgrade(mc));
    widget == ancestor || parent.is_some_and(|p| is_within(mc, ancestor, p))
}

/// Sizes bottom-up, then positions top-down.
fn layout<'gc>(mc: &mut Mutation<'gc>, widget: WidgetRef<'gc>, pos: Option<Point>) {
    // A copy of the handles: the recursion needs the token exclusively.
    let children = mc[widget].node().children.clone();
    let sizes = |mc: &Mutation<'gc>| {
        children
            .iter()
            .map(|&c| mc[c].node().size)
            .collect::<Vec<_>>()
    };
    match (pos, mc[widget].shape()) {
        (None, Err(size)) => mc[widget].node_mut().size = size,
        (None, Ok(row)) => {
            children.iter().for_each(|&c| layout(mc, c, None));
            mc[widget].node_mut().size = stack(row, sizes(mc)).0;
        }
        (Some(pos), shape) => {
            mc[widget].node_mut().pos = pos;
            let offsets = shape.map_or(Vec::new(), |row| stack(row, sizes(mc)).1);
            for (&c, (dx, dy)) in children.iter().zip(offsets) {
                layout(mc, c, Some((pos.0 + dx, pos.1 + dy)));
            }
        }
    }
}

/// The topmost widget at `p`: the last child is drawn on top.
fn hit<'gc>(mc: &Mutation<'gc>, widget: WidgetRef<'gc>, p: Point) -> Option<WidgetRef<'gc>> {
    let node = mc[widget].node();
    let under = || node.children.iter().rev().find_map(|&c| hit(mc, c, p));
    contains(node.pos, node.size, p).then(|| under().unwrap_or(widget))
}

/// (id, depth, position, size) of every widget in the window, depth first.
type Shown = Vec<(u32, usize, Point, Point)>;

fn shown<'gc>(mc: &Mutation<'gc>, widget: WidgetRef<'gc>, depth: usize, out: &mut Shown) {
    let node = mc[widget].node();
    out.push((node.id, depth, node.pos, node.size));
    node.children
        .iter()
        .for_each(|&c| shown(mc, c, depth + 1, out));
}

#[derive(Clone, Copy, Debug)]
enum Event {
    Hover(Point),
    /// Presses the hovered button, or focuses the hovered widget.
    Click,
    Drag(Point, Point),
    /// Deletes the focused widget and its subtree.
    Delete,
    Undo,
}

/// An undoable edit, of held widgets (`HeldDyn`) or of the model's ids.
enum Edit<H> {
    Added(H),
    /// A widget taken from its parent at an index (moved or deleted).
    Detached(H, H, usize),
}

fn record<H>(undo: &mut Vec<Edit<H>>, edit: Option<Edit<H>>) {
    undo.extend(edit);
    if undo.len() > 6 {
        undo.remove(0); // and with it, what only this entry kept alive
    }
}

/// The application: the heap of widgets, and the state that points into it.
struct App {
    heap: Heap<Ui<'static>>,
    focus: Option<HeldDyn<AnyWidget>>,
    hover: Option<HeldDynWeak<AnyWidget>>,
    undo: Vec<Edit<HeldDyn<AnyWidget>>>,
}

impl App {
    fn new() -> App {
        let heap = Heap::new(|mc| {
            let mut made = Vec::new();
            for (i, &(parent, kind, text)) in WINDOW.iter().enumerate() {
                let widget = new_widget(mc, i as u32 + 1, kind, text, &made);
                if parent > 0 {
                    attach(mc, made[parent as usize - 1], widget, usize::MAX);
                }
                made.push(widget);
            }
            layout(mc, made[0], None);
            layout(mc, made[0], Some((0, 0)));
            Ui {
                window: made[0],
                next_id: WINDOW.len() as u32,
            }
        });
        App {
            heap,
            focus: None,
            hover: None,
            undo: Vec::new(),
        }
    }

    /// Runs one event and lays the window out again; the id of the widget
    /// the event acted on.
    fn apply(&mut self, event: Event) -> Option<u32> {
        let App {
            heap,
            focus,
            hover,
            undo,
        } = self;
        heap.mutate(|mc, ui| {
            let window = ui.window;
            let (acted_on, edit) = match event {
                Event::Hover(p) => {
                    let widget = hit(mc, window, p);
                    *hover = widget.map(|w| mc.hold_dyn_weak(w));
                    (widget, None)
                }
                Event::Click => {
                    // The hovered widget may have left the window (a collection
                    // has not dropped it yet): then the click does nothing.
                    let widget = hover.as_ref().and_then(|h| mc.upgrade_dyn(h));
                    match widget.filter(|&w| is_within(mc, window, w)) {
                        Some(w) => match w.downcast::<Button<'static>>(mc) {
                            Some(button) => {
                                // Copy the handler and its argument out, then call.
                                let (on_click, target) = (mc[button].on_click, mc[button].target);
                                let item = on_click(mc, ui, target);
                                (widget, Some(Edit::Added(mc.hold_dyn(item))))
                            }
                            // A strong handle from the weak one: the focus keeps it.
                            None => {
                                *focus = hover.as_ref().and_then(|h| mc.upgrade_held_dyn(h));
                                (widget, None)
                            }
                        },
                        None => (None, None),
                    }
                }
                Event::Drag(from, to) => match (hit(mc, window, from), hit(mc, window, to)) {
                    (Some(w), Some(onto))
                        if mc[w].node().id > FRAME
                            && onto.is::<Panel<'static>>(mc)
                            && !is_within(mc, w, onto) =>
                    {
                        let (parent, index) =
                            detach(mc, w).expect("a widget in the window has a parent");
                        attach(mc, onto, w, usize::MAX);
                        let edit = Edit::Detached(mc.hold_dyn(w), mc.hold_dyn(parent), index);
                        (Some(w), Some(edit))
                    }
                    _ => (None, None),
                },
                Event::Delete => {
                    let widget = focus
                        .as_ref()
                        .map(|f| mc.fetch_dyn(f))
                        .filter(|&w| mc[w].node().id > FRAME);
                    match widget.and_then(|w| detach(mc, w)) {
                        // The focus hands its handle over: from now on the
                        // entry alone keeps the subtree.
                        Some((parent, index)) => {
                            let held = focus.take().expect("the focus was the widget");
                            (
                                widget,
                                Some(Edit::Detached(held, mc.hold_dyn(parent), index)),
                            )
                        }
                        None => (None, None),
                    }
                }
                Event::Undo => {
                    match undo.pop() {
                        Some(Edit::Added(item)) => drop(detach(mc, mc.fetch_dyn(&item))),
                        Some(Edit::Detached(widget, parent, index)) => {
                            let (widget, parent) = (mc.fetch_dyn(&widget), mc.fetch_dyn(&parent));
                            detach(mc, widget);
                            attach(mc, parent, widget, index);
                        }
                        None => {}
                    }
                    (None, None)
                }
            };
            record(undo, edit);
            layout(mc, window, None);
            layout(mc, window, Some((0, 0)));
            acted_on.map(|w| mc[w].node().id)
        })
    }

    fn shown(&self) -> Shown {
        let mut out = Shown::new();
        self.heap.read(|mc, ui| shown(mc, ui.window, 0, &mut out));
        out
    }
}

/// One widget of the model.
struct Entry {
    kind: Kind,
    text: String,
    parent: Option<u32>,
    children: Vec<u32>,
}

/// The toolkit again on ids in a `HashMap`, with reachability computed by
/// hand where the heap collects, and geometry computed afresh.
#[derive(Default)]
struct Model {
    widgets: HashMap<u32, Entry>,
    focus: Option<u32>,
    hover: Option<u32>,
    undo: Vec<Edit<u32>>,
    next_id: u32,
}

impl Model {
    fn new() -> Model {
        let mut model = Model::default();
        for &(parent, kind, text) in WINDOW {
            model.add(parent, kind, text.into());
        }
        model
    }

    fn add(&mut self, parent: u32, kind: Kind, text: String) -> u32 {
        self.next_id += 1;
        self.widgets.insert(
            self.next_id,
            Entry {
                kind,
                text,
                parent: None,
                children: Vec::new(),
            },
        );
        if parent > 0 {
            self.attach(parent, self.next_id, usize::MAX);
        }
        self.next_id
    }

    fn attach(&mut self, parent: u32, child: u32, at: usize) {
        let children = &mut self
            .widgets
            .get_mut(&parent)
            .expect("a live parent")
            .children;
        children.insert(at.min(children.len()), child);
        self.widgets.get_mut(&child).expect("a live child").parent = Some(parent);
    }

    /// A forgotten (collected) parent is no parent, as for a weak link.
    fn detach(&mut self, child: u32) -> Option<(u32, usize)> {
        let parent = self.widgets.get_mut(&child)?.parent.take()?;
        let children = &mut self.widgets.get_mut(&parent)?.children;
        let index = children.iter().position(|&c| c == child)?;
        children.remove(index);
        Some((parent, index))
    }

    fn is_within(&self, ancestor: u32, widget: u32) -> bool {
        let parent = self.widgets[&widget]
            .parent
            .filter(|p| self.widgets.contains_key(p));
        widget == ancestor || parent.is_some_and(|p| self.is_within(ancestor, p))
    }

    fn size(&self, id: u32) -> Point {
        let entry = &self.widgets[&id];
        match entry.kind {
            Kind::Panel { row } => stack(row, entry.children.iter().map(|&c| self.size(c))).0,
            Kind::Label => text_size(&entry.text),
            Kind::Button(_) => (40, 20),
        }
    }

    /// (id, depth, position, size) of `id` at `pos` and everything under it.
    fn shown(&self, id: u32, depth: usize, pos: Point, out: &mut Shown) {
        let entry = &self.widgets[&id];
        out.push((id, depth, pos, self.size(id)));
        if let Kind::Panel { row } = entry.kind {
            let (_, offsets) = stack(row, entry.children.iter().map(|&c| self.size(c)));
            for (&c, (dx, dy)) in entry.children.iter().zip(offsets) {
                self.shown(c, depth + 1, (pos.0 + dx, pos.1 + dy), out);
            }
        }
    }

    fn window(&self) -> Shown {
        let mut out = Shown::new();
        self.shown(1, 0, (0, 0), &mut out);
        out
    }

    /// The deepest widget whose box holds `p`.
    fn hit(&self, p: Point) -> Option<u32> {
        let window = self.window();
        let under = window
            .into_iter()
            .filter(|&(_, _, pos, size)| contains(pos, size, p));
        under.max_by_key(|&(_, depth, ..)| depth).map(|(id, ..)| id)
    }

    fn apply(&mut self, event: Event) -> Option<u32> {
        let (acted_on, edit) = match event {
            Event::Hover(p) => {
                self.hover = self.hit(p);
                (self.hover, None)
            }
            Event::Click => {
                let hovered = self
                    .hover
                    .filter(|h| self.widgets.contains_key(h) && self.is_within(1, *h));
                match hovered.map(|h| self.widgets[&h].kind) {
                    Some(Kind::Button(list)) => {
                        let item = self.add(list, Kind::Label, format!("item{}", self.next_id + 1));
                        (hovered, Some(Edit::Added(item)))
                    }
                    Some(_) => {
                        self.focus = hovered;
                        (hovered, None)
                    }
                    None => (None, None),
                }
            }
            Event::Drag(from, to) => match (self.hit(from), self.hit(to)) {
                (Some(w), Some(onto))
                    if w > FRAME
                        && matches!(self.widgets[&onto].kind, Kind::Panel { .. })
                        && !self.is_within(w, onto) =>
                {
                    let (parent, index) =
                        self.detach(w).expect("a widget in the window has a parent");
                    self.attach(onto, w, usize::MAX);
                    (Some(w), Some(Edit::Detached(w, parent, index)))
                }
                _ => (None, None),
            },
            Event::Delete => {
                let widget = self.focus.filter(|&w| w > FRAME);
                match widget.and_then(|w| self.detach(w)) {
                    Some((parent, index)) => {
                        let widget = self.focus.take().expect("the focus was the widget");
                        (Some(widget), Some(Edit::Detached(widget, parent, index)))
                    }
                    None => (None, None),
                }
            }
            Event::Undo => {
                match self.undo.pop() {
                    Some(Edit::Added(item)) => drop(self.detach(item)),
                    Some(Edit::Detached(widget, parent, index)) => {
                        self.detach(widget);
                        self.attach(parent, widget, index);
                    }
                    None => {}
                }
                (None, None)
            }
        };
        record(&mut self.undo, edit);
        acted_on
    }

    /// What a collection does: forgets every widget that the window, the
    /// focus and the undo entries do not reach (children and button targets
    /// are strong; parent links and the hover are weak); how many it forgot.
    fn collect(&mut self) -> usize {
        let mut stack: Vec<u32> = [1].into_iter().chain(self.focus).collect();
        for edit in &self.undo {
            match *edit {
                Edit::Added(item) => stack.push(item),
                Edit::Detached(widget, parent, _) => stack.extend([widget, parent]),
            }
        }
        let mut reached = HashSet::new();
        while let Some(id) = stack.pop() {
            if reached.insert(id) {
                stack.extend(&self.widgets[&id].children);
                if let Kind::Button(list) = self.widgets[&id].kind {
                    stack.push(list);
                }
            }
        }
        let before = self.widgets.len();
        self.widgets.retain(|id, _| reached.contains(id));
        before - self.widgets.len()
    }
}

/// A fixed-seed xorshift generator of events, aimed with the model's help.
struct Script(u64);

impl Script {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    /// The middle of a widget in the window (often the newest), or a corner.
    fn point(&mut self, model: &Model) -> Point {
        let window = model.window();
        let newest = window
            .iter()
            .max_by_key(|&&(id, ..)| id)
            .expect("the window is shown");
        let (_, _, pos, size) = [window[self.below(window.len())], *newest][self.below(2)];
        [(pos.0 + size.0 / 2, pos.1 + size.1 / 2), pos][usize::from(self.below(5) == 0)]
    }

    fn event(&mut self, model: &Model) -> Event {
        match self.below(100) {
            0..30 => Event::Hover(self.point(model)),
            30..60 => Event::Click,
            60..80 => Event::Drag(self.point(model), self.point(model)),
            80..90 => Event::Delete,
            _ => Event::Undo,
        }
    }
}

pub(crate) fn main() {
    let started = Instant::now();
    let (mut app, mut model) = (App::new(), Model::new());
    let mut script = Script(0x2545_f491_4f6c_dd1d);

    // Delete the group (nothing else points at it): the undo entry keeps it
    // through a collection, and undo puts it back.
    let (group, _, corner, _) = model.window()[9];
    assert_eq!(group, 8);
    for event in [Event::Hover(corner), Event::Click, Event::Delete] {
        assert_eq!(app.apply(event), model.apply(event), "{event:?}");
    }
    assert_eq!(
        app.heap.collect().dropped,
        0,
        "the undo entry holds the deleted subtree"
    );
    app.apply(Event::Undo);
    model.apply(Event::Undo);
    assert_eq!(app.shown(), model.window(), "the group is back");

    let (mut acted, mut collections, mut dropped, mut hover_lost) = (0, 0, 0, 0);
    for step in 0..4000 {
        let event = script.event(&model);
        let expected = model.apply(event);
        assert_eq!(app.apply(event), expected, "step {step}: {event:?}");
        acted += usize::from(expected.is_some());
        if step % 50 == 0 {
            assert_eq!(app.shown(), model.window(), "the tree at step {step}");
        }
        if step % 10 == 9 {
            let (stats, forgotten) = (app.heap.collect(), model.collect());
            assert_eq!(
                (stats.dropped, stats.live_objects),
                (forgotten, model.widgets.len()),
                "step {step}"
            );
            // The weak hover handle is empty exactly when its widget became
            // unreachable and a collection dropped it.
            let gone = model.hover.is_some_and(|h| !model.widgets.contains_key(&h));
            let hover = app.hover.as_ref().map(|h| {
                app.heap
                    .read(|mc, _| mc.upgrade_dyn(h).map(|w| mc[w].node().id))
            });
            assert_eq!(
                hover,
                model.hover.map(|h| Some(h).filter(|_| !gone)),
                "step {step}"
            );
            (collections, dropped, hover_lost) = (
                collections + 1,
                dropped + stats.dropped,
                hover_lost + usize::from(gone),
            );
        }
    }
    assert_eq!(app.shown(), model.window(), "the tree at the end");
    let shown = model.window().len();
    println!(
        "4000 events, {acted} acted on a widget; {shown} widgets in the window, {} alive",
        model.widgets.len()
    );
    println!(
        "{collections} collections dropped {dropped} widgets; the hover handle was empty after {hover_lost} of them"
    );
    println!(
        "undo stack: {} entries; checked against the model in {:.2?}",
        app.undo.len(),
        started.elapsed()
    );
}
