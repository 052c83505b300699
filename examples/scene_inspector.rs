//! A scene inspector: a game's entity tree lives on the garbage-collected
//! heap, and the editor's inspector keeps its own state per entity outside
//! it, in ordinary std collections keyed by `Held` handles: a panel per
//! entity (expanded or not, the label being edited, how often it was
//! edited), the selection as a `HashSet`, and the entity in focus as a weak
//! handle that must not keep a deleted entity alive.
//!
//! Every frame the game moves its entities, spawns sparks that die a frame
//! later, and collects: the sparks are dropped and the survivors slide
//! together. The inspector never refiles anything: each frame it draws the
//! tree by holding the entities it visits and looking their panels up with
//! those fresh handles, which equal (and hash like) the handles the maps
//! were filled with, wherever the entities moved.
//!
//! Run with `cargo run --example scene_inspector`.

use std::collections::{HashMap, HashSet};

use managed::prelude::*;

/// An entity of the scene, with its children.
#[derive(Managed)]
struct Entity<'gc> {
    name: String,
    pos: [f32; 2],
    vel: [f32; 2],
    children: Vec<Gc<'gc, Entity<'gc>>>,
}

/// An entity, held by the inspector outside the heap.
type EntityRef = Held<Entity<'static>>;

fn entity<'gc>(mc: &Mutation<'gc>, name: &str, vel: [f32; 2]) -> Gc<'gc, Entity<'gc>> {
    Gc::new(
        mc,
        Entity {
            name: name.to_owned(),
            pos: [0.0; 2],
            vel,
            children: Vec::new(),
        },
    )
}

/// The inspector's state for one entity.
#[derive(Debug)]
struct Panel {
    expanded: bool,
    /// The label being edited; written back to the entity on commit.
    label: String,
    edits: u32,
}

/// The editor's inspector: all of its state is outside the heap.
#[derive(Default)]
struct Inspector {
    panels: HashMap<EntityRef, Panel>,
    selection: HashSet<EntityRef>,
    focus: Option<HeldWeak<Entity<'static>>>,
}

impl Inspector {
    /// Draws the tree: one line per visible entity, descending into the
    /// expanded ones. A panel is made the first time an entity is drawn.
    fn draw(&mut self, heap: &Heap<Gc<'static, Entity<'static>>>) -> Vec<String> {
        heap.read(|mc, world| {
            let mut lines = Vec::new();
            let mut stack = vec![(*world, 0)];
            while let Some((e, depth)) = stack.pop() {
                let held = mc.hold(e);
                let selected = self.selection.contains(&held);
                let panel = self.panels.entry(held).or_insert_with(|| Panel {
                    expanded: false,
                    label: mc[e].name.clone(),
                    edits: 0,
                });
                let mark = if selected { '*' } else { ' ' };
                lines.push(format!(
                    "{mark}{:indent$}{}",
                    "",
                    mc[e].name,
                    indent = 2 * depth
                ));
                if panel.expanded {
                    stack.extend(mc[e].children.iter().rev().map(|&c| (c, depth + 1)));
                }
            }
            lines
        })
    }

    /// Finds a drawn entity by its name, as a click on its line would.
    fn click(&self, heap: &Heap<Gc<'static, Entity<'static>>>, name: &str) -> EntityRef {
        let found = self
            .panels
            .keys()
            .find(|h| heap.read(|mc, _| mc[*h].name == name));
        found.expect("only drawn entities are clicked").clone()
    }

    fn toggle(&mut self, e: &EntityRef) {
        let panel = self.panels.get_mut(e).expect("drawn");
        panel.expanded = !panel.expanded;
    }

    /// Types into the label field, then commits it to the entity.
    fn rename(&mut self, heap: &mut Heap<Gc<'static, Entity<'static>>>, e: &EntityRef, text: &str) {
        let panel = self.panels.get_mut(e).expect("drawn");
        panel.label = text.to_owned();
        panel.edits += 1;
        heap.mutate(|mc, _| mc[e].name = panel.label.clone());
    }

    /// Forgets the state of entities that left the scene, so that its
    /// handles stop keeping them alive.
    fn prune(&mut self, heap: &Heap<Gc<'static, Entity<'static>>>) {
        let live: HashSet<EntityRef> = heap.read(|mc, world| {
            let mut live = HashSet::new();
            let mut stack = vec![*world];
            while let Some(e) = stack.pop() {
                live.insert(mc.hold(e));
                stack.extend(mc[e].children.iter().copied());
            }
            live
        });
        self.panels.retain(|e, _| live.contains(e));
        self.selection.retain(|e| live.contains(e));
    }
}

/// One frame of the game: everything moves, last frame's sparks are
/// removed, and each entity with children throws a new spark.
fn step(heap: &mut Heap<Gc<'static, Entity<'static>>>, frame: usize) {
    heap.mutate(|mc, world| {
        let mut stack = vec![*world];
        while let Some(e) = stack.pop() {
            let [x, y] = mc[e].pos;
            let [dx, dy] = mc[e].vel;
            mc[e].pos = [x + dx, y + dy];
            // Written while its children are read: `split_mut`.
            let (this, others) = mc.split_mut(e);
            this.children
                .retain(|&c| !others[c].name.starts_with("spark"));
            if !mc[e].children.is_empty() {
                let spark = entity(mc, &format!("spark {frame}"), [1.0, 1.0]);
                mc[e].children.push(spark);
            }
            stack.extend(mc[e].children.iter().copied());
        }
    });
}

pub(crate) fn main() {
    let mut heap: Heap<Gc<'static, Entity<'static>>> = Heap::new(|mc| {
        let world = entity(mc, "world", [0.0; 2]);
        let player = entity(mc, "player", [1.0, 0.0]);
        let enemies = entity(mc, "enemies", [0.0; 2]);
        for i in 0..3 {
            let enemy = entity(mc, &format!("enemy {i}"), [0.0, -1.0]);
            mc[enemies].children.push(enemy);
        }
        let sword = entity(mc, "sword", [1.0, 0.0]);
        mc[player].children.push(sword);
        mc[world].children.extend([player, enemies]);
        world
    });
    let mut inspector = Inspector::default();

    // The user opens the world and the enemies, selects the player and
    // focuses on the second enemy.
    assert_eq!(inspector.draw(&heap), [" world"]);
    // (A click's handle is dropped once handled: a `Held` kept in a local
    // would keep its entity alive after the scene deletes it.)
    for name in ["world", "enemies"] {
        let clicked = inspector.click(&heap, name);
        inspector.toggle(&clicked);
        inspector.draw(&heap);
    }
    let player = inspector.click(&heap, "player");
    inspector.selection.insert(player.clone());
    inspector.focus = Some(inspector.click(&heap, "enemy 1").downgrade());

    let mut dropped = Vec::new();
    for frame in 0..12 {
        step(&mut heap, frame);
        if frame == 3 {
            inspector.rename(&mut heap, &player, "hero");
        }
        if frame == 5 {
            // The enemies' group is deleted from the scene.
            heap.mutate(|mc, world| {
                let (world, others) = mc.split_mut(*world);
                world.children.retain(|&c| others[c].name != "enemies");
            });
        }
        // The panels of the entities that left the scene go, so the
        // collection can drop them: last frame's sparks, and at frame 5
        // the enemies.
        inspector.prune(&heap);
        dropped.push(heap.collect().dropped);
        let lines = inspector.draw(&heap);
        // The panels were found again after every collection: the tree
        // stays open, with the selection marked.
        assert!(
            lines.iter().any(|l| l == "*  player" || l == "*  hero"),
            "frame {frame}"
        );
    }
    // Each frame drops the sparks of the frame before (the world, the
    // player and, until frame 5, the enemies' group each throw one), and
    // frame 5 also the enemies' group, its three enemies and the spark it
    // threw that frame.
    assert_eq!(dropped, [0, 3, 3, 3, 3, 3 + 5, 2, 2, 2, 2, 2, 2]);

    let lines = inspector.draw(&heap);
    assert_eq!(lines, [" world", "*  hero", "   spark 11"]);
    // A handle made now finds the state filed in the first frame.
    let hero = heap.read(|mc, world| mc.hold(mc[*world].children[0]));
    assert_eq!(hero, player);
    assert!(inspector.selection.contains(&hero));
    assert_eq!(inspector.panels[&hero].edits, 1);
    assert_eq!(inspector.panels[&hero].label, "hero");
    // The focused enemy was deleted; the weak handle did not keep it.
    let focus = inspector.focus.as_ref().unwrap();
    assert!(focus.is_dropped());
    assert!(heap.read(|mc, _| mc.upgrade(focus).is_none()));
    // Only the entities drawn since the last prune have panels: the
    // world, the hero and this frame's spark (the sword is under the
    // closed hero and was never drawn).
    assert_eq!(inspector.panels.len(), 3);
    for line in &lines {
        println!("{line}");
    }
    println!(
        "{} objects dropped over 12 frames",
        dropped.iter().sum::<usize>()
    );
}
