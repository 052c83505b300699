//! A moving, garbage-collected heap for object graphs: [`Heap`], the
//! copyable handle [`Gc`], the mutation token [`Mutation`].
//!
//! Objects are ordinary structs with `#[derive(Managed)]` that point at
//! each other through `Gc<'gc, T>` handles: trees with parent links,
//! graphs with cycles, name indexes in `HashMap`s, selections in `Option`s.
//! Everything reachable from the heap's root survives a
//! [`collect`](Heap::collect); everything else is dropped (its destructor
//! runs exactly once) and its space reclaimed by sliding the survivors
//! together, and every handle to a moved object is rewritten.
//!
//! ```
//! use std::collections::HashMap;
//! use managed::prelude::*;
//!
//! #[derive(Managed)]
//! struct Node<'gc> {
//!     name: String,
//!     parent: Option<Gc<'gc, Node<'gc>>>,
//!     children: Vec<Gc<'gc, Node<'gc>>>,
//! }
//!
//! #[derive(Managed)]
//! struct Scene<'gc> {
//!     root: Gc<'gc, Node<'gc>>,
//!     by_name: HashMap<String, Gc<'gc, Node<'gc>>>,
//! }
//!
//! fn add<'gc>(mc: &mut Mutation<'gc>, scene: &mut Scene<'gc>, parent: Gc<'gc, Node<'gc>>, name: &str) {
//!     let node = Gc::new(mc, Node { name: name.into(), parent: Some(parent), children: Vec::new() });
//!     mc[parent].children.push(node);
//!     scene.by_name.insert(name.into(), node);
//! }
//!
//! let mut heap: Heap<Scene<'static>> = Heap::new(|mc| Scene {
//!     root: Gc::new(mc, Node { name: "root".into(), parent: None, children: Vec::new() }),
//!     by_name: HashMap::new(),
//! });
//! heap.mutate(|mc, scene| {
//!     let root = scene.root;
//!     add(mc, scene, root, "camera");
//!     add(mc, scene, root, "light");
//!     // Unlink the light: it becomes garbage.
//!     let light = scene.by_name.remove("light").unwrap();
//!     mc[root].children.retain(|&child| child != light);
//! });
//! let stats = heap.collect();
//! assert_eq!((stats.live_objects, stats.dropped), (2, 1));
//! heap.mutate(|mc, scene| {
//!     let camera = scene.by_name["camera"];
//!     let parent = mc[camera].parent.unwrap();
//!     assert_eq!(mc[parent].name, "root");
//! });
//! ```
//!
//! # Handles outside the heap
//!
//! A `Gc` lives inside a mutation or in the root's graph. A handle that the
//! program keeps elsewhere (in a UI widget, an undo command, a callback, a
//! `Vec` of its own) is a [`Held`]: [`Mutation::hold`] makes one, and any
//! later mutation of the same heap redeems it with
//! [`fetch`](Mutation::fetch) or `mc[&held]`. It keeps its object alive
//! (it is a root) and follows it when a collection moves it; once every
//! clone is dropped, the object is collected like any other.
//!
//! ```
//! use managed::prelude::*;
//!
//! #[derive(Managed)]
//! struct Paragraph {
//!     text: String,
//! }
//!
//! /// The program's own state, outside the heap.
//! struct Window {
//!     title: String,
//!     showing: Held<Paragraph>,
//! }
//!
//! let mut heap: Heap<Vec<Gc<'static, Paragraph>>> = Heap::new(|_| Vec::new());
//! let window = heap.mutate(|mc, doc| {
//!     for text in ["one", "two", "three"] {
//!         doc.push(Gc::new(mc, Paragraph { text: text.into() }));
//!     }
//!     Window { title: "second".into(), showing: mc.hold(doc[1]) }
//! });
//! // The document drops its first two paragraphs; the window still shows one.
//! heap.mutate(|_, doc| doc.drain(..2).for_each(drop));
//! let stats = heap.collect();
//! assert_eq!((stats.live_objects, stats.dropped), (2, 1));
//! heap.mutate(|mc, _| {
//!     mc[&window.showing].text.push_str(" (edited)");
//!     assert_eq!(mc[&window.showing].text, "two (edited)");
//! });
//! assert_eq!(window.title, "second");
//! ```
//!
//! A handle kept outside the heap that must not keep its object alive (a
//! properties panel showing the node selected in a document, a cache) is
//! a [`HeldWeak`]: [`Mutation::hold_weak`] or [`Held::downgrade`] makes
//! one, and a later mutation redeems it with
//! [`upgrade`](Mutation::upgrade), which gives `None` once a collection
//! found the object unreachable and dropped it (or once its heap was
//! dropped), or turns it back into a `Held` with
//! [`upgrade_held`](Mutation::upgrade_held). It follows its object when a
//! collection moves it, as a `Held` does.
//!
//! ```
//! use managed::prelude::*;
//!
//! #[derive(Managed)]
//! struct Node<'gc> {
//!     name: String,
//!     children: Vec<Gc<'gc, Node<'gc>>>,
//! }
//!
//! /// The editor's properties panel, outside the heap.
//! struct Properties {
//!     inspected: Option<HeldWeak<Node<'static>>>,
//! }
//!
//! impl Properties {
//!     fn title(&self, mc: &Mutation<'_>) -> String {
//!         match self.inspected.as_ref().and_then(|node| mc.upgrade(node)) {
//!             Some(node) => format!("{} ({} children)", mc[node].name, mc[node].children.len()),
//!             None => "nothing selected".into(),
//!         }
//!     }
//! }
//!
//! let mut heap: Heap<Gc<'static, Node<'static>>> =
//!     Heap::new(|mc| Gc::new(mc, Node { name: "scene".into(), children: Vec::new() }));
//! let mut panel = Properties { inspected: None };
//! heap.mutate(|mc, scene| {
//!     let lamp = Gc::new(mc, Node { name: "lamp".into(), children: Vec::new() });
//!     mc[*scene].children.push(lamp);
//!     panel.inspected = Some(mc.hold_weak(lamp));
//! });
//! heap.collect();
//! assert_eq!(heap.read(|mc, _| panel.title(mc)), "lamp (0 children)");
//! // The user deletes the lamp: the panel does not keep it.
//! heap.mutate(|mc, scene| mc[*scene].children.clear());
//! heap.collect();
//! assert_eq!(heap.read(|mc, _| panel.title(mc)), "nothing selected");
//! ```
//!
//! # Weak handles
//!
//! A [`GcWeak`] (from [`Gc::downgrade`]) points at an object without
//! keeping it alive: a cache, an observer list or a "recently used" list
//! that must not hold its entries. [`upgrade`](GcWeak::upgrade) gives a
//! `Gc` while the object exists; once a collection finds the object
//! unreachable, it drops it and every weak handle to it upgrades to `None`.
//! [`GcWeak::new`] (also `Default`) is a weak handle to nothing, which
//! never upgrades: a field that starts empty.
//!
//! ```
//! use managed::prelude::*;
//!
//! #[derive(Managed)]
//! struct Doc<'gc> {
//!     open: Vec<Gc<'gc, String>>,
//!     recent: Vec<GcWeak<'gc, String>>,
//! }
//!
//! let mut heap: Heap<Doc<'static>> = Heap::new(|_| Doc { open: Vec::new(), recent: Vec::new() });
//! heap.mutate(|mc, doc| {
//!     for name in ["a.txt", "b.txt"] {
//!         let file = Gc::new(mc, String::from(name));
//!         doc.open.push(file);
//!         doc.recent.push(file.downgrade());
//!     }
//!     doc.open.remove(0); // close a.txt
//! });
//! heap.collect();
//! heap.mutate(|mc, doc| {
//!     let names: Vec<Option<&str>> =
//!         doc.recent.iter().map(|w| w.upgrade(mc).map(|f| mc[f].as_str())).collect();
//!     assert_eq!(names, [None, Some("b.txt")]);
//! });
//! ```
//!
//! # Objects as keys
//!
//! A `Gc` hashes and compares by its object's address, so a set or map
//! keyed by objects is an ordinary std container: a selection as a
//! `HashSet<Gc<'gc, Node<'gc>>>`, per-object data as a
//! `HashMap<Gc<'gc, Node<'gc>>, Style>`, in the root or in other objects.
//! Its keys keep their objects alive, like any handle. When a collection
//! moves the objects, it rewrites the keys and the container files its
//! entries again under the new addresses (`HashMap`, `HashSet`, `BTreeMap`
//! and `BTreeSet` do this in their `Managed` impls), so lookups keep
//! working. The key and value types of such a container are `Managed`:
//! derive it for a plain type of your own, or wrap a type of another crate
//! in [`Static`](crate::Static).
//!
//! ```
//! use std::collections::{HashMap, HashSet};
//! use managed::prelude::*;
//!
//! #[derive(Managed, Clone, Copy, PartialEq, Debug)]
//! struct Style {
//!     bold: bool,
//! }
//!
//! #[derive(Managed)]
//! struct Editor<'gc> {
//!     items: Vec<Gc<'gc, String>>,
//!     selection: HashSet<Gc<'gc, String>>,
//!     styles: HashMap<Gc<'gc, String>, Style>,
//! }
//!
//! let mut heap: Heap<Editor<'static>> = Heap::new(|_| Editor {
//!     items: Vec::new(),
//!     selection: HashSet::new(),
//!     styles: HashMap::new(),
//! });
//! heap.mutate(|mc, ed| {
//!     for text in ["title", "draft", "body"] {
//!         let item = Gc::new(mc, String::from(text));
//!         ed.items.push(item);
//!         ed.styles.insert(item, Style { bold: text == "title" });
//!     }
//!     let draft = ed.items.remove(1);
//!     ed.styles.remove(&draft);
//!     ed.selection.insert(ed.items[1]);
//! });
//! // The draft dies; "body" slides into its place and is filed again.
//! assert_eq!(heap.collect().dropped, 1);
//! heap.read(|mc, ed| {
//!     let body = ed.items[1];
//!     assert_eq!(mc[body], "body");
//!     assert!(ed.selection.contains(&body));
//!     assert_eq!(ed.styles[&body], Style { bold: false });
//!     assert_eq!(ed.styles[&ed.items[0]], Style { bold: true });
//! });
//! ```
//!
//! A map whose keys must not keep their objects alive (names given to
//! objects, an identity table, a per-object cache) is keyed by [`GcWeak`]
//! handles, and one whose values must not (an interning table,
//! `HashMap<String, GcWeak<'gc, Str>>`) holds them as values: the
//! collection that drops an object drops the entries whose keys hold a
//! weak handle to it, and those whose values hold only weak handles, all
//! dead (a `GcWeak`, a list of them that all died), as every std map and
//! set does. The program never prunes them. A weakly keyed map is an
//! *ephemeron* table: an entry's value is reachable only while every object
//! its key's weak handles point at is reachable without it, so a value may
//! hold its own key's object strongly (a cache of what an object computed,
//! an interpreter's `WeakMap` whose values point back at their keys) and
//! the entry still goes when nothing else holds that object. What a value
//! reaches is kept by the value only while the entry stays: a chain of
//! entries, each value leading to the next key, lives while its first key
//! does. (Marking follows such a chain a link or a few per pass over the
//! entries still waiting for their keys, so a long chain costs time
//! quadratic in its length: a collection took 65 ms for a chain of 10,000
//! links in one `HashMap`, 0.58 s for 30,000.)
//! The entries' keys and values are dropped at the end of the
//! collection, once every handle is rewritten, where no token exists: a
//! destructor that panics there does as an object's does, its panic
//! propagating from [`Heap::collect`] once the other entries are dropped,
//! with the heap consistent. (Two keys that a collection makes equal,
//! which takes a key type whose `Eq` ignores some of its references,
//! merge during the rewriting, where a panic aborts the process, as a
//! panicking `Hash` or `Eq` of a key that the collection files again
//! does.)
//!
//! ```
//! use std::collections::HashMap;
//! use managed::prelude::*;
//!
//! #[derive(Managed)]
//! struct Vm<'gc> {
//!     stack: Vec<Gc<'gc, String>>,
//!     /// Interned strings, kept alive by the stack only.
//!     strings: HashMap<String, GcWeak<'gc, String>>,
//! }
//!
//! fn intern<'gc>(mc: &Mutation<'gc>, vm: &mut Vm<'gc>, s: &str) -> Gc<'gc, String> {
//!     if let Some(gc) = vm.strings.get(s).and_then(|weak| weak.upgrade(mc)) {
//!         return gc;
//!     }
//!     let gc = Gc::new(mc, s.to_owned());
//!     vm.strings.insert(s.to_owned(), gc.downgrade());
//!     gc
//! }
//!
//! let mut heap: Heap<Vm<'static>> =
//!     Heap::new(|_| Vm { stack: Vec::new(), strings: HashMap::new() });
//! heap.mutate(|mc, vm| {
//!     for word in ["let", "x", "let", "y"] {
//!         let s = intern(mc, vm, word);
//!         vm.stack.push(s);
//!     }
//!     assert!(Gc::ptr_eq(vm.stack[0], vm.stack[2]), "one object per string");
//!     vm.stack.truncate(1); // "x" and "y" become garbage
//! });
//! heap.collect();
//! heap.read(|_, vm| {
//!     let mut left: Vec<&String> = vm.strings.keys().collect();
//!     left.sort();
//!     assert_eq!(left, ["let"], "the dropped strings' entries are gone");
//! });
//! ```
//!
//! A side table whose values point back at their keys (here, each
//! object's outline, which refers to the object it outlines) keeps no
//! object alive:
//!
//! ```
//! use std::collections::HashMap;
//! use managed::prelude::*;
//!
//! #[derive(Managed)]
//! struct Shape<'gc> {
//!     name: String,
//!     parent: Option<Gc<'gc, Shape<'gc>>>,
//! }
//!
//! #[derive(Managed)]
//! struct Scene<'gc> {
//!     shapes: Vec<Gc<'gc, Shape<'gc>>>,
//!     /// Each shape's outline: a shape of its own, parented to its key.
//!     outlines: HashMap<GcWeak<'gc, Shape<'gc>>, Gc<'gc, Shape<'gc>>>,
//! }
//!
//! let mut heap: Heap<Scene<'static>> =
//!     Heap::new(|_| Scene { shapes: Vec::new(), outlines: HashMap::new() });
//! heap.mutate(|mc, scene| {
//!     for name in ["lamp", "desk"] {
//!         let shape = Gc::new(mc, Shape { name: name.into(), parent: None });
//!         let outline = Gc::new(mc, Shape { name: format!("{name} outline"), parent: Some(shape) });
//!         scene.shapes.push(shape);
//!         scene.outlines.insert(shape.downgrade(), outline);
//!     }
//!     scene.shapes.remove(0); // the lamp: only its outline refers to it now
//! });
//! let stats = heap.collect();
//! assert_eq!(stats.live_objects, 2, "the desk and its outline");
//! heap.read(|mc, scene| {
//!     let desk = scene.shapes[0];
//!     assert_eq!(scene.outlines.len(), 1);
//!     assert_eq!(mc[scene.outlines[&desk.downgrade()]].name, "desk outline");
//! });
//! ```
//!
//! Outside the heap, [`Held`] and [`HeldWeak`] handles are the keys: every
//! handle to an object shares one cell with the heap, and compares and
//! hashes by that cell, which no collection changes. A
//! `HashMap<HeldWeak<Node<'static>>, Widget>` in the program's own state (a
//! UI's widget per node) needs no refiling when objects move, finds an
//! entry with any handle to its object, a clone or one held anew, and
//! keeps no object alive: once a collection drops one, its entry reads as
//! dropped until `map.retain(|k, _| !k.is_dropped())` forgets it. Keys
//! that must keep their objects (an undo command's) are `Held` handles.
//! [`Mutation::held`] finds the handle an object has without making one,
//! for lookups that most objects miss.
//!
//! # Values of a dynamic language
//!
//! A VM's value (a number, `nil`, a boolean, or a string, table or
//! closure object) fits in 8 bytes as a [`NanBox`]: an `f64`, a 16-bit
//! tag with a 32-bit payload, or a handle, told apart by NaN tagging. The
//! collector traces and rewrites the handles inside `NanBox`es as it does
//! plain `Gc`s, in objects, the root, vectors and map keys. Its objects
//! are of one type, which a VM makes an enum of its object kinds. The
//! [hot pool](crate::hot) NaN-tags its slots too, for values whose
//! lifetime the program manages itself; `NanBox` is the collected one.
//!
//! # Trait objects
//!
//! Objects of different types that share a trait sit in one list as
//! [`GcDyn`] handles: [`unsize!`](crate::unsize) turns a `Gc<'gc, Camera>`
//! into a `GcDyn<'gc, dyn Component<'gc>>` (the compiler checks that
//! `Camera` implements the trait), which reads, writes, compares, hashes
//! and follows its object like a `Gc`. A trait that names the brand lets
//! its objects hold handles; inside a struct with `'gc`, `dyn Trait` means
//! `dyn Trait + 'gc`. [`GcDyn::downgrade`] gives a weak one, a
//! [`GcDynWeak`]. A trait with the supertrait [`Downcast<'gc>`](Downcast)
//! lets its handles be turned back into their objects' types:
//! `component.downcast::<Camera<'static>>(mc)` is a `Gc<'gc, Camera<'gc>>`
//! if the object is a camera (the type is named at the placeholder
//! brand, as for a root or a [`Held`]); see [`GcDyn::downcast`].
//!
//! Outside the heap, a handle to "any widget" (the focus, a hovered
//! widget, an undo entry) is a [`HeldDyn`], made by
//! [`Mutation::hold_dyn`] from a `GcDyn` and redeemed for one by
//! [`Mutation::fetch_dyn`] (or `mc[&held]`); a weak one is a
//! [`HeldDynWeak`]. Their type names the trait object at every brand with
//! [`dyn_rootable!`](crate::dyn_rootable), once, in an alias:
//! `type AnyWidget = dyn_rootable!(for<'gc> dyn Widget<'gc> + 'gc);`
//! then `HeldDyn<AnyWidget>`.
//!
//! A method that takes `&mut self` runs with the token borrowed
//! exclusively (`mc[h].update()` on `&mut mc`), so it reaches no other
//! object through the token. Three ways to reach them:
//!
//! - **Read or write any other object while writing this one**:
//!   `let (node, mut others) = mc.split_mut(h); node.update(&others)`,
//!   where the method takes [`Others`], which reads and writes every
//!   object but this one (`others[input]`, `others.get_mut(span)`, checked
//!   by address at each access, as a `RefCell` checks its borrow),
//!   upgrades weak handles, allocates and holds objects (`others.hold(gc)`,
//!   for an undo entry the method returns). The object's own handle lists
//!   can be walked meanwhile (a paragraph restyling each of its spans).
//!   See [`Mutation::split_mut`].
//! - **Write a few known others too**, all at once:
//!   `let (behaviour, entity) = mc.get_disjoint_mut((b, e))` (handles of
//!   any types, checked to be different objects).
//! - **Share the token**: a behaviour takes `&self` and `&Mutation`, so
//!   it can read anything and allocate, and keeps what changes in `Cell`
//!   and `RefCell` fields, which are `Managed` like the values they hold:
//!
//! ```
//! use std::cell::Cell;
//! use managed::prelude::*;
//!
//! trait Component<'gc> {
//!     fn update(&self, mc: &Mutation<'gc>);
//! }
//!
//! #[derive(Managed)]
//! struct Counter {
//!     ticks: Cell<u32>,
//! }
//!
//! #[derive(Managed)]
//! struct Mirror<'gc> {
//!     source: Gc<'gc, Counter>,
//!     seen: Cell<u32>,
//! }
//!
//! impl<'gc> Component<'gc> for Counter {
//!     fn update(&self, _: &Mutation<'gc>) {
//!         self.ticks.set(self.ticks.get() + 1);
//!     }
//! }
//!
//! impl<'gc> Component<'gc> for Mirror<'gc> {
//!     fn update(&self, mc: &Mutation<'gc>) {
//!         self.seen.set(mc[self.source].ticks.get());
//!     }
//! }
//!
//! #[derive(Managed)]
//! struct Scene<'gc> {
//!     components: Vec<GcDyn<'gc, dyn Component<'gc>>>,
//!     mirror: Gc<'gc, Mirror<'gc>>,
//! }
//!
//! let mut heap: Heap<Scene<'static>> = Heap::new(|mc| {
//!     let counter = Gc::new(mc, Counter { ticks: Cell::new(0) });
//!     let mirror = Gc::new(mc, Mirror { source: counter, seen: Cell::new(0) });
//!     Scene {
//!         components: vec![unsize!(counter => dyn Component<'_>), unsize!(mirror => dyn Component<'_>)],
//!         mirror,
//!     }
//! });
//! for _ in 0..3 {
//!     heap.mutate(|mc, scene| scene.components.iter().for_each(|&c| mc[c].update(mc)));
//!     heap.collect();
//! }
//! heap.read(|mc, scene| assert_eq!(mc[scene.mirror].seen.get(), 3));
//! ```
//!
//! # How it is safe
//!
//! - **Handles cannot outlive a collection unvisited.** Every
//!   [`mutate`](Heap::mutate) call brands its token and handles with a
//!   fresh invariant lifetime `'gc` (the closure is `for<'gc>`), so a
//!   handle can leave the closure only by being stored in the root's graph,
//!   which the collector walks. Between mutations no handle can be
//!   dereferenced, so moving objects is never observed.
//! - **Aliased handles, exclusive access.** Reading borrows the token
//!   shared, writing borrows it exclusively: many handles may point at one
//!   object, but the borrow checker sees one `&mut` at a time.
//!   [`get_disjoint_mut`](Mutation::get_disjoint_mut) hands out several at
//!   once, for handles it has checked point at different objects, and
//!   [`split_mut`](Mutation::split_mut) one object with read access to
//!   the rest, through [`Others`], which refuses that one object by
//!   address.
//! - **Held handles are roots with a checked owner.** A [`Held`] is not
//!   branded, so it may live anywhere; each collection treats it as a
//!   root and rewrites the address it keeps, and a mutation redeems it
//!   only if it carries that heap's id (never reused), so a handle of
//!   another heap, or of a heap that is gone, is refused at run time. A
//!   [`HeldWeak`] is visited as a weak handle instead, and its heap, when
//!   dropped, marks it dead.
//! - **Keys are rewritten like any handle.** A map or set walks each key
//!   on a copy first and changes nothing unless the collection moved a key's
//!   object; then it takes its entries out, rewrites their keys and files
//!   them again, before any code can look them up.
//! - **A trait object's vtable is its object's.** `unsize!` converts by
//!   the compiler's unsizing coercion, and a collection that moves the
//!   object rewrites only the address, by the same coercion.
//! - **Weak handles never reach a dropped object.** Every collection
//!   visits each weak handle whose object moves or dies (marking records
//!   the chunks they point into, as for strong handles), rewriting it or
//!   replacing it with a dead marker, also when a destructor's panic cuts
//!   the collection short.
//! - **Destructors cannot see dead objects.** A destructor has no token, so
//!   it cannot dereference the handles its object holds; objects are only
//!   freed by a collection, which runs no mutation.
//!
//! `docs/notes/heap.md` has the full argument and the collector's design.
//!
//! # Writing helper functions
//!
//! - **Name the brand in a `fn`.** A helper takes the token and handles
//!   with one lifetime parameter: `fn link<'gc>(mc: &mut Mutation<'gc>,
//!   from: Gc<'gc, Node<'gc>>, to: Gc<'gc, Node<'gc>>)`. Inside a
//!   `mutate` closure the brand has no name, and `'_` in a closure's
//!   parameter type (`|n: Gc<'_, Node<'_>>|`) is a fresh lifetime, not the
//!   brand: the compiler then reports that a lifetime "may not live long
//!   enough" or that borrowed data "escapes" the closure, about lifetimes
//!   the program never wrote. A closure handed to an iterator adapter
//!   needs no annotation (`nodes.iter().map(|&n| mc[n].value)`: the type
//!   flows in from the items); one stored and called later is a `fn`
//!   with `<'gc>` instead. (A closure whose parameters carry no brand,
//!   the token aside, needs no `fn`: `|mc: &Mutation<'_>, i: usize|
//!   mc[mc.fetch(&held[i])].value` is generic over the token's brand, as a
//!   `fn` is. A handle parameter beside it cannot name that brand.)
//! - **A helper that only reads takes `&impl Reader<'gc>`.** [`Reader`] is
//!   the token (`mc`, in `read` and in `mutate`) or the [`Others`] of a
//!   `split_mut` (`&others`): `fn eval<'gc>(r: &impl Reader<'gc>, e:
//!   Gc<'gc, Expr<'gc>>) -> f64` reads with `r.read(e)` (or `r.get(e)`,
//!   `None` for the object split off) and serves a formula bar inside
//!   `heap.read` and a recalculation writing one cell through `split_mut`
//!   alike.
//! - **A boxed closure kept outside the heap is higher-ranked.** An undo
//!   entry that runs later at whatever brand is `Box<dyn for<'gc>
//!   FnOnce(&mut Mutation<'gc>, &mut Doc<'gc>)>`, and holds `Held`
//!   handles; name that type where the box is made (`let undo: Undo =
//!   Box::new(move |mc, doc| ..)`), or the compiler asks for the closure
//!   parameters' types.
//! - **Keep the heap apart from the state its mutations read.**
//!   `self.heap.mutate(|mc, root| self.selected(mc))` borrows `self`
//!   twice. Borrow the fields one by one (`let Editor { heap, selection,
//!   .. } = self;`), or keep the heap in a struct of its own and pass the
//!   rest to the closure.
//! - **Wrap a constructor in a closure.** `Heap::new(Vm::new)` is refused
//!   ("expected `new` to return `<_ as Rootable>::Root<'_>`", or "FnOnce
//!   is not general enough"): a function item fixes its brand where the
//!   heap needs one generic over every brand. `Heap::new(|mc| Vm::new(mc))`
//!   is.
//! - **Make constants functions.** A value type is invariant in its brand,
//!   so a `const NIL: NanBox<'static, Obj<'static>>` is of no use at
//!   another brand; `fn nil<'gc>() -> NanBox<'gc, Obj<'gc>>` is.
//! - **A closure that returns a handle is a `fn` too.** `let at = |mc:
//!   &Mutation<'_>, p| hit(mc, window, p)` is refused when `hit` returns a
//!   `Gc` ("lifetime may not live long enough", once about `'static`): the
//!   `'_` is a fresh lifetime, unrelated to the brand of the handle the
//!   closure returns. Write `fn at<'gc>(mc: &Mutation<'gc>, ..) ->
//!   Option<Gc<'gc, Widget<'gc>>>`.
//! - **Inside a `fn<'gc>`, a closure names `'gc`.** A closure that reads
//!   handles it captured takes the token as `&Mutation<'gc>`, not
//!   `&Mutation<'_>`: `let sizes = |mc: &Mutation<'gc>| children.iter().map(|&c|
//!   mc[c].size).collect::<Vec<_>>()`. With `'_`, the compiler reports that
//!   "borrowed data escapes outside of closure" or that `'gc` "must
//!   outlive `'static`".
//! - **Recursing over a node's children copies its handle list.** `mc[n]`
//!   borrows the token, and a recursive call needs it: `let children =
//!   mc[n].children.clone(); for c in children { visit(mc, c) }` (handles
//!   are one or two words; a `SmallVec` avoids the allocation). When the
//!   walk only reads other objects while writing one,
//!   [`Mutation::split_mut`] needs no copy.
//! - **Callbacks are `fn` pointers beside the handles they act on.** A
//!   boxed closure (`Box<dyn Fn(&mut Mutation<'gc>)>`) cannot be a field
//!   of an object: what it captured is hidden from the collector, so it
//!   is not `Managed`. Store a higher-ranked function pointer, which is
//!   `'static` and plain, and the handles it needs in fields of their own:
//!   `target: Gc<'gc, List<'gc>>, on_click: for<'a> fn(&mut Mutation<'a>,
//!   Gc<'a, List<'a>>)`, called as `let (f, t) = (mc[b].on_click,
//!   mc[b].target); f(mc, t)`. (A pointer that names the brand itself,
//!   `fn(&mut Mutation<'gc>)`, is not `'static`, and is refused.)
//! - **A `Held` names its type at the placeholder brand.** `mc.hold(gc)`
//!   for a `Gc<'gc, Node<'gc>>` is a `Held<Node<'static>>`, worked out
//!   from the handle for derived types, leaf types, the std containers
//!   but maps and sets, and tuples ([`Branded`]); for a map or a set, name
//!   it: `mc.hold::<HashMap<u32, Gc<'static, Node<'static>>>>(gc)`.
//!
//! ```
//! use managed::prelude::*;
//!
//! #[derive(Managed)]
//! struct Node<'gc> {
//!     value: i64,
//!     inputs: Vec<Gc<'gc, Node<'gc>>>,
//! }
//!
//! /// A helper names the brand once.
//! fn connect<'gc>(mc: &mut Mutation<'gc>, from: Gc<'gc, Node<'gc>>, to: Gc<'gc, Node<'gc>>) {
//!     mc[to].inputs.push(from);
//! }
//!
//! struct Editor {
//!     heap: Heap<Vec<Gc<'static, Node<'static>>>>,
//!     selection: Vec<Held<Node<'static>>>,
//! }
//!
//! impl Editor {
//!     fn total_of_selection(&mut self) -> i64 {
//!         let Editor { heap, selection } = self;
//!         heap.mutate(|mc, _| selection.iter().map(|held| mc[held].value).sum())
//!     }
//! }
//!
//! let mut editor = Editor { heap: Heap::new(|_| Vec::new()), selection: Vec::new() };
//! editor.selection = editor.heap.mutate(|mc, nodes| {
//!     let a = Gc::new(mc, Node { value: 2, inputs: Vec::new() });
//!     let b = Gc::new(mc, Node { value: 3, inputs: Vec::new() });
//!     connect(mc, a, b);
//!     nodes.extend([a, b]);
//!     // The handles' type, brand included, flows in from the array.
//!     assert_eq!([a, b].map(|n| mc[n].inputs.len()), [0, 1]);
//!     vec![mc.hold(a), mc.hold(b)]
//! });
//! assert_eq!(editor.total_of_selection(), 5);
//! ```
//!
//! # Collecting during a long computation
//!
//! A collection runs between mutations only: inside one, handles held in
//! local variables are invisible to the collector, so it could not rewrite
//! them. A program that allocates a lot in one computation (an interpreter
//! running a long loop, a simulation's frame) keeps what it still needs in
//! the root and runs in steps, one `mutate` per step, calling
//! [`collect_if_due`](Heap::collect_if_due) between them (a step ends
//! when [`Mutation::collection_due`] says so): an interpreter
//! keeps its value stack and call frames in the root, a REPL runs one
//! top-level form per step (`examples/interpreter.rs`).

mod arena;
mod gc;
mod held;
mod raw;
mod rootable;

pub use arena::{Heap, HeapStats, Mutation, Pacing};
pub use gc::{Gc, GcDyn, GcDynWeak, GcWeak};
pub use held::{Held, HeldDyn, HeldDynWeak, HeldWeak, Holdable};
/// The weak handles' dead marker, for the maps and sets that drop the
/// entries whose weak keys died (`visit::raw::keyed`).
pub(crate) use raw::dead;
pub use raw::disjoint::{Handle, Handles, Others};
pub use raw::downcast::{Downcast, Reader};
pub(crate) use raw::ephemeron::{Ephemerons, KeyState};
pub use raw::nan_box::NanBox;
pub use raw::{CollectStats, GcKind};
pub use rootable::{Branded, DynRootable, Rootable};
