//! A scene inspector: a game's entity tree lives on the garbage-collected
//! heap, and the editor's inspector keeps its own state per entity outside
//! it, in ordinary std collections keyed by handles: a panel per entity
//! (expanded or not, the label being edited, how often it was edited)
//! keyed by weak handles, so that the inspector never keeps a deleted
//! entity alive, and the selection as a `HashSet` of strong ones.
//!
//! Every frame the game moves its entities, spawns sparks that die a frame
//! later, and collects: the sparks are dropped and the survivors slide
//! together. The inspector never refiles anything: each frame it draws the
//! tree by holding the entities it visits and looking their panels up with
//! those fresh handles, which equal (and hash like) the handles the maps
//! were filled with, wherever the entities moved. After a collection it
//! forgets the panels of the entities that were dropped.
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

/// An entity, held by the inspector outside the heap: strongly (kept
/// alive) or weakly.
type EntityRef = Held<Entity<'static>>;
type EntityWeak = HeldWeak<Entity<'static>>;

/// The scene: its root entity.
type Scene = Heap<Gc<'static, Entity<'static>>>;

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
    /// Must not keep entities alive: keyed by weak handles.
    panels: HashMap<EntityWeak, Panel>,
    selection: HashSet<EntityRef>,
}

impl Inspector {
    /// Draws the tree: one line per visible entity, descending into the
    /// expanded ones. A panel is made the first time an entity is drawn.
    fn draw(&mut self, scene: &Scene) -> Vec<String> {
        scene.read(|mc, world| {
            let mut lines = Vec::new();
            let mut stack = vec![(*world, 0)];
            while let Some((e, depth)) = stack.pop() {
                // `held`: no handle is made for an entity that has none.
                let selected = mc.held(e).is_some_and(|h| self.selection.contains(&h));
                let panel = self.panels.entry(mc.hold_weak(e)).or_insert_with(|| Panel {
                    expanded: false,
                    label: mc[e].name.clone(),
                    edits: 0,
                });
                let mark = if selected { '*' } else { ' ' };
                let indent = 2 * depth;
                lines.push(format!("{mark}{:indent$}{}", "", mc[e].name));
                if panel.expanded {
                    stack.extend(mc[e].children.iter().rev().map(|&c| (c, depth + 1)));
                }
            }
            lines
        })
    }

    /// The drawn entity named `name`, as a click on its line finds it.
    fn click(&self, scene: &Scene, name: &str) -> EntityRef {
        scene.read(|mc, _| {
            let mut drawn = self.panels.keys().filter_map(|w| mc.upgrade_held(w));
            drawn
                .find(|e| mc[e].name == name)
                .expect("only drawn entities are clicked")
        })
    }

    /// The panel of a drawn entity.
    fn panel(&mut self, e: &EntityRef) -> &mut Panel {
        self.panels.get_mut(&e.downgrade()).expect("drawn")
    }

    /// Types into the label field, then commits it to the entity.
    fn rename(&mut self, scene: &mut Scene, e: &EntityRef, text: &str) {
        let panel = self.panel(e);
        panel.label = text.to_owned();
        panel.edits += 1;
        scene.mutate(|mc, _| mc[e].name = panel.label.clone());
    }

    /// Deletes an entity: it leaves the selection and the scene.
    fn delete(&mut self, scene: &mut Scene, name: &str) {
        let e = self.click(scene, name);
        self.selection.remove(&e);
        scene.mutate(|mc, world| {
            let target = mc.fetch(&e);
            mc[*world].children.retain(|&c| c != target);
        });
    }

    /// After a collection: forgets the panels of the entities it dropped.
    fn forget_dropped(&mut self) {
        self.panels.retain(|e, _| !e.is_dropped());
    }
}

/// One frame of the game: everything moves, last frame's sparks are
/// removed, and each entity with children throws a new spark.
fn step(scene: &mut Scene, frame: usize) {
    scene.mutate(|mc, world| {
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
    let mut scene: Scene = Heap::new(|mc| {
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
    // the second enemy, and notes a weak handle to the third.
    assert_eq!(inspector.draw(&scene), [" world"]);
    for name in ["world", "enemies"] {
        // (A click's handle is dropped once handled: a `Held` kept in a
        // local keeps its entity alive after the scene deletes it.)
        let clicked = inspector.click(&scene, name);
        let panel = inspector.panel(&clicked);
        panel.expanded = !panel.expanded;
        inspector.draw(&scene);
    }
    let player = inspector.click(&scene, "player");
    inspector.selection.insert(player.clone());
    inspector
        .selection
        .insert(inspector.click(&scene, "enemy 1"));
    let third = inspector.click(&scene, "enemy 2").downgrade();
    let lines = inspector.draw(&scene);
    let expected = ["   enemies", "     enemy 0", "*    enemy 1", "     enemy 2"];
    assert_eq!(lines[..2], [" world", "*  player"]);
    assert_eq!(lines[2..], expected);

    let mut dropped = Vec::new();
    for frame in 0..12 {
        step(&mut scene, frame);
        if frame == 3 {
            inspector.rename(&mut scene, &player, "hero");
        }
        if frame == 5 {
            inspector.delete(&mut scene, "enemies");
            // "enemy 1" was selected: the selection kept it (and only it)
            // alive; deselecting it lets it go.
            let enemy = inspector.click(&scene, "enemy 1");
            inspector.selection.remove(&enemy);
        }
        dropped.push(scene.collect().dropped);
        inspector.forget_dropped();
        let lines = inspector.draw(&scene);
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
    // threw that frame: the panels, keyed weakly, kept none of them.
    assert_eq!(dropped, [0, 3, 3, 3, 3, 3 + 5, 2, 2, 2, 2, 2, 2]);

    let lines = inspector.draw(&scene);
    assert_eq!(lines, [" world", "*  hero", "   spark 11"]);
    // A handle made now finds the state filed in the first frame.
    let hero = scene.read(|mc, world| mc.hold(mc[*world].children[0]));
    assert_eq!(hero, player);
    assert!(inspector.selection.contains(&hero));
    let panel = &inspector.panels[&hero.downgrade()];
    assert_eq!((panel.edits, panel.label.as_str()), (1, "hero"));
    // The third enemy was deleted with its group; its weak handle did not
    // keep it, and its panel went with it.
    assert!(third.is_dropped() && !inspector.panels.contains_key(&third));
    assert!(scene.read(|mc, _| mc.upgrade(&third).is_none()));
    // Only the live entities drawn since have panels: the world, the hero
    // and this frame's spark (the sword is under the closed hero and was
    // never drawn).
    assert_eq!(inspector.panels.len(), 3);
    for line in &lines {
        println!("{line}");
    }
    let total: usize = dropped.iter().sum();
    println!("{total} objects dropped over 12 frames");
}
