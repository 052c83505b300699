//! `#[managed(crate = "...")]` and `#[mm::forward(crate = "...")]`: the
//! generated code reaches the runtime through the path given, so the
//! derives work where the dependency is renamed. Here it is: this crate
//! depends on the runtime as `mm`, and no crate named `managed` exists, so
//! any `::managed::` path left in the generated code would not compile.

use mm::prelude::*;

#[derive(Managed)]
#[managed(crate = "mm")]
struct Particle {
    mass: f32,
    #[managed(rename = "label")]
    name: String,
}

#[mm::forward(crate = "mm")]
impl Particle {
    fn grow(&mut self, by: f32) {
        self.mass += by;
    }

    fn double_mass(&self) -> f32 {
        self.mass * 2.0
    }
}

#[test]
fn accessors_and_forwarded_methods_through_a_renamed_crate() {
    let pool = ContiguousUniformPool::new();
    let p = pool.alloc(Particle {
        mass: 1.5,
        name: "dust".into(),
    });
    p.set_mass(2.0);
    p.grow(0.5);
    assert_eq!(p.mass(), 2.5);
    assert_eq!(p.double_mass(), 5.0);
    p.with_label_mut(|n| n.push('!'));
    assert_eq!(p.with_label(|n| n.clone()), "dust!");
    const { assert!(!<Particle as Managed>::HAS_REFS) };
}

/// A leading `::` is accepted too.
#[derive(Managed)]
#[managed(crate = "::mm")]
struct Node<'gc> {
    value: u32,
    next: Option<Gc<'gc, Node<'gc>>>,
}

#[test]
fn heap_objects_and_roots_through_a_renamed_crate() {
    const { assert!(<Node<'static> as Managed>::HAS_REFS) };
    let mut heap: Heap<Vec<Gc<'static, Node<'static>>>> = Heap::new(|_| Vec::new());
    heap.mutate(|mc, roots| {
        let first = Gc::new(
            mc,
            Node {
                value: 1,
                next: None,
            },
        );
        let second = Gc::new(
            mc,
            Node {
                value: 2,
                next: Some(first),
            },
        );
        Gc::new(
            mc,
            Node {
                value: 3,
                next: None,
            },
        );
        roots.push(second);
    });
    let stats = heap.collect();
    assert_eq!(
        stats.live_objects, 2,
        "the root's chain survives, the third node does not"
    );
    assert!(stats.freed_bytes > 0);
    heap.mutate(|mc, roots| {
        let next = mc[roots[0]].next.expect("the link survives the collection");
        assert_eq!((mc[roots[0]].value, mc[next].value), (2, 1));
    });
}

#[derive(Managed, Rebrand)]
#[managed(crate = "mm")]
struct Level<'a> {
    tiles: Vec<Item<'a, u32>>,
    name: String,
}

#[test]
fn rebrand_through_a_renamed_crate() -> Result<(), AllocError> {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let garbage = arena.allocate::<[u64; 4]>(&state)?;
    let mut tiles = Vec::new();
    for i in 0..3 {
        let mut tile = arena.allocate::<u32>(&state)?;
        *tile = i;
        tiles.push(tile);
    }
    let level = Level {
        tiles,
        name: "intro".into(),
    };
    let before = level.tiles[0].as_ptr().addr();
    make_guard!(compact);
    let token = arena.tokenize_all(&compact, level);
    drop(garbage);
    let state = arena.compact(&compact, state);
    let level = token.redeem(&arena);
    let _state = arena.finish(compact, state);
    assert!(level.tiles[0].as_ptr().addr() < before, "the tiles moved");
    assert_eq!(
        level.tiles.iter().map(|t| **t).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert_eq!(level.name, "intro");
    Ok(())
}
