//! A scene graph on the managed heap: an editor's scene, with parent links,
//! a name index, a selection, a cache of world transforms, and materials
//! shared between nodes.
//!
//! Every node is an ordinary struct with `#[derive(Managed)]`; nodes point
//! at each other (children, parent) and at shared materials through `Gc`
//! handles, which can be copied anywhere: into the name index, into other
//! nodes, and into sets and maps keyed by the nodes themselves (the
//! selection is a `HashSet` of nodes, the transform cache a `HashMap` from
//! node to transform). Deleting a subtree only unlinks it; the next
//! collection finds it unreachable, runs each node's destructor once, and
//! slides the survivors together, and the sets and maps keyed by nodes
//! keep finding the survivors at their new addresses.
//!
//! Run with `cargo run --example scene_graph`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use managed::heap::CollectStats;
use managed::prelude::*;

/// Textures released so far (a texture is released when its node dies).
static RELEASED: AtomicUsize = AtomicUsize::new(0);

/// A position and a scale in the plane. A field of this type needs no
/// derive (it holds no handle); the derive is for the transform cache, a
/// map whose keys are handles: the types in a container that holds
/// handles are `Managed`.
#[derive(Managed, Clone, Copy, Debug, PartialEq)]
struct Transform {
    x: f32,
    y: f32,
    scale: f32,
}

impl Transform {
    const IDENTITY: Transform = Transform {
        x: 0.0,
        y: 0.0,
        scale: 1.0,
    };

    fn at(x: f32, y: f32) -> Self {
        Transform { x, y, scale: 1.0 }
    }

    /// `self` placed inside `parent`.
    fn then(self, parent: Transform) -> Transform {
        Transform {
            x: parent.x + self.x * parent.scale,
            y: parent.y + self.y * parent.scale,
            scale: self.scale * parent.scale,
        }
    }
}

/// A texture a sprite draws; released (counted) when dropped.
#[derive(Debug)]
struct Texture {
    path: String,
}

impl Drop for Texture {
    fn drop(&mut self) {
        RELEASED.fetch_add(1, Ordering::Relaxed);
    }
}

/// A material, shared by every node drawn with it.
#[derive(Managed, Debug)]
struct Material {
    name: String,
    tint: [f32; 3],
}

/// A node of the scene.
#[derive(Managed)]
struct Node<'gc> {
    name: String,
    local: Transform,
    texture: Option<Texture>,
    material: Option<Gc<'gc, Material>>,
    parent: Option<Gc<'gc, Node<'gc>>>,
    children: Vec<Gc<'gc, Node<'gc>>>,
}

/// The heap's root: the scene.
#[derive(Managed)]
struct Scene<'gc> {
    root: Gc<'gc, Node<'gc>>,
    by_name: HashMap<String, NodeRef<'gc>>,
    selection: HashSet<NodeRef<'gc>>,
    /// World transforms computed by the last frame, by node; an edit
    /// forgets the entries of the subtree it moves.
    world_cache: HashMap<NodeRef<'gc>, Transform>,
}

type NodeRef<'gc> = Gc<'gc, Node<'gc>>;

fn new_node<'gc>(mc: &Mutation<'gc>, name: &str, local: Transform) -> NodeRef<'gc> {
    Gc::new(
        mc,
        Node {
            name: name.to_owned(),
            local,
            texture: None,
            material: None,
            parent: None,
            children: Vec::new(),
        },
    )
}

/// Adds a named node under `parent` and indexes it.
fn add<'gc>(
    mc: &mut Mutation<'gc>,
    scene: &mut Scene<'gc>,
    parent: NodeRef<'gc>,
    name: &str,
    local: Transform,
) -> NodeRef<'gc> {
    let node = new_node(mc, name, local);
    mc[node].parent = Some(parent);
    mc[parent].children.push(node);
    scene.by_name.insert(name.to_owned(), node);
    node
}

/// Gives `node` a sprite: a texture of its own and a shared material.
fn sprite<'gc>(
    mc: &mut Mutation<'gc>,
    node: NodeRef<'gc>,
    path: &str,
    material: Gc<'gc, Material>,
) {
    let n = &mut mc[node];
    n.texture = Some(Texture {
        path: path.to_owned(),
    });
    n.material = Some(material);
}

/// The node's transform in the scene, following the parent links up.
fn world_transform<'gc>(mc: &Mutation<'gc>, node: NodeRef<'gc>) -> Transform {
    let mut t = mc[node].local;
    let mut at = mc[node].parent;
    while let Some(p) = at {
        t = t.then(mc[p].local);
        at = mc[p].parent;
    }
    t
}

/// The node's world transform, from the cache when the last frame
/// computed it.
fn cached_world<'gc>(mc: &Mutation<'gc>, scene: &mut Scene<'gc>, node: NodeRef<'gc>) -> Transform {
    *scene
        .world_cache
        .entry(node)
        .or_insert_with(|| world_transform(mc, node))
}

/// Forgets the cached transforms of `node` and its subtree.
fn invalidate<'gc>(mc: &Mutation<'gc>, scene: &mut Scene<'gc>, node: NodeRef<'gc>) {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        scene.world_cache.remove(&n);
        stack.extend(mc[n].children.iter().copied());
    }
}

/// Moves `node` (with its subtree) under `new_parent`.
fn reparent<'gc>(
    mc: &mut Mutation<'gc>,
    scene: &mut Scene<'gc>,
    node: NodeRef<'gc>,
    new_parent: NodeRef<'gc>,
) {
    invalidate(mc, scene, node);
    if let Some(old) = mc[node].parent {
        mc[old].children.retain(|&c| c != node);
    }
    mc[node].parent = Some(new_parent);
    mc[new_parent].children.push(node);
}

/// Deletes `node` and its subtree from the scene: unlinks it and forgets
/// its names. The nodes die at the next collection.
fn delete<'gc>(mc: &mut Mutation<'gc>, scene: &mut Scene<'gc>, node: NodeRef<'gc>) -> usize {
    let mut doomed = vec![node];
    let mut count = 0;
    while let Some(n) = doomed.pop() {
        count += 1;
        scene.by_name.remove(&mc[n].name);
        scene.selection.remove(&n);
        scene.world_cache.remove(&n);
        doomed.extend(mc[n].children.iter().copied());
    }
    if let Some(parent) = mc[node].parent {
        mc[parent].children.retain(|&c| c != node);
    }
    count
}

/// The editor's housekeeping, called between frames: one call.
fn housekeeping(heap: &mut Heap<Scene<'static>>) -> CollectStats {
    let before = heap.detailed_stats();
    let stats = heap.collect();
    let after = heap.detailed_stats();
    println!("  before: {before}");
    println!("  after:  {after}");
    println!(
        "  collected: {} live objects ({} bytes), {} bytes reclaimed, {} destructors run",
        stats.live_objects, stats.live_bytes, stats.freed_bytes, stats.dropped
    );
    stats
}

pub(crate) fn main() {
    let mut heap: Heap<Scene<'static>> = Heap::new(|mc| Scene {
        root: new_node(mc, "world", Transform::IDENTITY),
        by_name: HashMap::new(),
        selection: HashSet::new(),
        world_cache: HashMap::new(),
    });

    // Build a level: rooms of crates, each crate a sprite of a shared material.
    heap.mutate(|mc, scene| {
        let wood = Gc::new(
            mc,
            Material {
                name: "wood".into(),
                tint: [0.6, 0.4, 0.2],
            },
        );
        let metal = Gc::new(
            mc,
            Material {
                name: "metal".into(),
                tint: [0.7, 0.7, 0.8],
            },
        );
        let root = scene.root;
        for room in 0..8 {
            let r = add(
                mc,
                scene,
                root,
                &format!("room{room}"),
                Transform::at(room as f32 * 100.0, 0.0),
            );
            for c in 0..25 {
                let name = format!("room{room}/crate{c}");
                let node = add(
                    mc,
                    scene,
                    r,
                    &name,
                    Transform {
                        x: c as f32 * 4.0,
                        y: 10.0,
                        scale: 0.5,
                    },
                );
                sprite(
                    mc,
                    node,
                    &format!("crate{}.png", c % 3),
                    if c % 2 == 0 { wood } else { metal },
                );
            }
        }
        scene.selection = ["room3/crate7", "room5/crate7", "room5/crate8"]
            .map(|name| scene.by_name[name])
            .into();
    });
    println!(
        "built {} named nodes",
        heap.read(|_, scene| scene.by_name.len())
    );

    // A frame: every named node's world transform, computed once and
    // cached by node.
    heap.mutate(|mc, scene| {
        let nodes: Vec<NodeRef<'_>> = scene.by_name.values().copied().collect();
        for node in nodes {
            cached_world(mc, scene, node);
        }
        println!("cached {} world transforms", scene.world_cache.len());
    });

    // Edit through aliased handles: the selection, the index and the tree
    // all point at the same nodes; the material is shared by half the
    // crates.
    heap.mutate(|mc, scene| {
        let selected: Vec<NodeRef<'_>> = scene.selection.iter().copied().collect();
        for node in selected {
            mc[node].local.scale = 2.0;
            invalidate(mc, scene, node);
            let world = cached_world(mc, scene, node);
            println!(
                "selected {} at ({}, {}) x{}",
                mc[node].name, world.x, world.y, world.scale
            );
        }
        let via_index = scene.by_name["room3/crate7"];
        assert_eq!(mc[via_index].local.scale, 2.0);
        assert!(scene.selection.contains(&via_index));

        let wood = mc[scene.by_name["room0/crate0"]]
            .material
            .expect("a sprite");
        mc[wood].tint = [0.9, 0.5, 0.1];
        let other = mc[scene.by_name["room5/crate2"]]
            .material
            .expect("a sprite");
        println!(
            "room5/crate2 is {} with tint {:?}",
            mc[other].name, mc[other].tint
        );

        // Move room 7 into room 6.
        let (room7, room6) = (scene.by_name["room7"], scene.by_name["room6"]);
        reparent(mc, scene, room7, room6);
        let t = cached_world(mc, scene, scene.by_name["room7/crate1"]);
        println!("room7/crate1 now at ({}, {})", t.x, t.y);
    });

    // Delete three rooms (and everything in them); the nodes die at the
    // next collection, from the editor's own housekeeping function.
    let deleted = heap.mutate(|mc, scene| {
        let mut n = 0;
        for room in ["room1", "room3", "room6"] {
            let node = scene.by_name[room];
            n += delete(mc, scene, node);
        }
        n
    });
    println!("deleted {deleted} nodes (room7 went with room6); collecting:");
    let stats = housekeeping(&mut heap);
    let released = RELEASED.load(Ordering::Relaxed);
    println!("{released} textures released");
    assert_eq!(
        stats.dropped, deleted,
        "each deleted node's destructor ran once"
    );
    assert_eq!(
        released,
        4 * 25,
        "and each of their textures was released once"
    );

    // The survivors moved, and every handle followed them (a read: the
    // heap is borrowed shared).
    heap.read(|mc, scene| {
        let selected: Vec<&str> = scene
            .selection
            .iter()
            .map(|&n| mc[n].name.as_str())
            .collect();
        println!("still selected: {selected:?}");
        assert_eq!(selected.len(), 2, "room3's crate went with its room");
        assert!(scene.selection.contains(&scene.by_name["room5/crate8"]));
        // The cache keeps finding its nodes at their new addresses, and
        // what it holds is what the tree says.
        assert_eq!(scene.world_cache.len(), scene.by_name.len());
        for &node in scene.by_name.values() {
            assert_eq!(scene.world_cache[&node], world_transform(mc, node));
        }
        let crate_ = scene.by_name["room5/crate2"];
        let world = world_transform(mc, crate_);
        let tex = mc[crate_].texture.as_ref().map(|t| t.path.as_str());
        println!(
            "room5/crate2 still at ({}, {}), texture {tex:?}",
            world.x, world.y
        );
        let rooms: Vec<&str> = mc[scene.root]
            .children
            .iter()
            .map(|&r| mc[r].name.as_str())
            .collect();
        println!("rooms left: {rooms:?}");
        assert_eq!(rooms, ["room0", "room2", "room4", "room5"]);
    });
    println!("memory: {}", heap.stats());
}
