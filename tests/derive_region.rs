//! `#[derive(Managed, Rebrand)]` on a user struct of region items: the
//! whole struct is tokenized in one call, compacted, and redeemed with every
//! item forwarded.

use managed::prelude::*;

#[derive(Managed, Rebrand)]
struct Level<'a> {
    tiles: Vec<Item<'a, u32>>,
    hero: Option<Item<'a, String>>,
    #[managed(skip)]
    name: String,
}

#[test]
fn derived_struct_survives_compaction() -> Result<(), Box<dyn std::error::Error>> {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 4096>, _) = Arena::new(guard);
    let mut garbage = Vec::new();
    let mut tiles = Vec::new();
    for i in 0..8u32 {
        garbage.push(arena.allocate::<u64>(&state)?);
        let mut tile = arena.allocate::<u32>(&state)?;
        *tile = i * 10;
        tiles.push(tile);
    }
    let mut hero = arena.allocate::<String>(&state)?;
    hero.push_str("Ada");
    let level = Level {
        tiles,
        hero: Some(hero),
        name: "intro".into(),
    };
    let before = level.tiles[7].as_ptr().addr();

    make_guard!(compact);
    let token = arena.tokenize_all(&compact, level);
    drop(garbage);
    let state = arena.compact(&compact, state);
    let level = token.redeem(&arena);
    let _state = arena.finish(compact, state);

    assert!(
        level.tiles[7].as_ptr().addr() < before,
        "the tiles moved down"
    );
    assert_eq!(
        level.tiles.iter().map(|t| **t).collect::<Vec<_>>(),
        (0..8).map(|i| i * 10).collect::<Vec<_>>()
    );
    assert_eq!(level.hero.as_deref().map(String::as_str), Some("Ada"));
    assert_eq!(level.name, "intro");
    assert_eq!(arena.region_stats().hole_bytes, 0);
    Ok(())
}
