//! Tour section: region — a compacting arena whose moves safe code never
//! observes: items are tokenized before `compact` and redeemed after it,
//! whole values at once, while `Forward`s follow their objects by themselves.

use managed::prelude::*;

/// A scene of the tour: items in a field, a `Vec` and an `Option`, plus a
/// `Forward` to an object the arena owns. The derives visit every item and
/// let the whole scene be tokenized at once (its first lifetime, `'a`, is
/// the items' lifetime; the arena brand `'id` stays).
#[derive(Managed, Rebrand)]
struct Scene<'a, 'id> {
    title: Item<'a, String>,
    sprites: Vec<Item<'a, [f32; 2]>>,
    selected: Option<Item<'a, u32>>,
    palette: Forward<'id, [u8; 3]>,
}

pub(crate) fn run() {
    println!("== region: a compacting arena");
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 4096>, _) = Arena::new(guard);

    // Two items and some garbage.
    let garbage = arena.allocate::<u64>(&state).expect("fits");
    let mut a = arena.allocate::<u8>(&state).expect("fits");
    *a = 0xAA;

    // A scene, interleaved with temporary objects that die before compaction.
    let mut temporaries = Vec::new();
    let title = arena.alloc(&state, "tour".to_string()).expect("fits");
    let mut sprites = Vec::new();
    for i in 0..6 {
        temporaries.push(arena.allocate::<[u64; 4]>(&state).expect("fits"));
        sprites.push(arena.alloc(&state, [i as f32, 0.5]).expect("fits"));
    }
    let selected = Some(arena.alloc(&state, 3).expect("fits"));
    let palette = arena.alloc_shared(&state, [255, 128, 0]).expect("fits");
    let scene = Scene {
        title,
        sprites,
        selected,
        palette,
    };
    drop((garbage, temporaries));
    let before = arena.detailed_stats();
    println!("  before compaction: {before}");

    make_guard!(compact);
    let tok_a = arena.tokenize(&compact, a); // one item: a token called with the arena
    // A whole value, its items left in place: a token called like the
    // single item's (`tokenize_all` + `redeem` is the unboxed form).
    let tok_scene = arena.tokenize_boxed(&compact, scene);
    let state = arena.compact(&compact, state);
    let scene = tok_scene(&arena);
    let a = tok_a(&arena);
    let state = arena.finish(compact, state);

    let after = arena.detailed_stats();
    println!("  after compaction:  {after}");
    println!(
        "  a = {:#x}, title = {:?}, sprites = {:?}, selected = {:?}, palette = {:?}",
        *a,
        scene.title.as_str(),
        scene.sprites.iter().map(|s| s[0]).collect::<Vec<_>>(),
        scene.selected.as_deref(),
        scene.palette.get(&arena),
    );
    println!(
        "  reclaimed {} bytes; stats(): {}",
        after.tail_bytes - before.tail_bytes,
        arena.stats()
    );
    let extra = arena
        .allocate::<u64>(&state)
        .expect("the reclaimed space is reusable");
    drop((extra, a, scene));
}
