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
    assert_eq!(arena.detailed_stats().hole_bytes, 0);
    Ok(())
}

/// An ordinary user type with no impls at all, next to the items.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Vec2 {
    x: f32,
    y: f32,
}

#[derive(Managed, Rebrand)]
struct Sprite<'a> {
    frames: Vec<Item<'a, u32>>,
    #[managed(skip)]
    pos: Vec2,
}

#[test]
fn plain_user_types_are_kept_as_they_are() -> Result<(), Box<dyn std::error::Error>> {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let garbage = arena.allocate::<[u64; 4]>(&state)?;
    let frames = (0..3)
        .map(|i| arena.alloc(&state, i))
        .collect::<Result<Vec<_>, _>>()?;
    let before = frames[0].as_ptr().addr();
    let sprite = Sprite {
        frames,
        pos: Vec2 { x: 1.5, y: -2.0 },
    };
    make_guard!(compact);
    let token = arena.tokenize_all(&compact, sprite);
    drop(garbage);
    let state = arena.compact(&compact, state);
    let sprite = token.redeem(&arena);
    let _state = arena.finish(compact, state);
    assert_eq!(sprite.frames[0].as_ptr().addr(), before - 32);
    assert_eq!(
        sprite.frames.iter().map(|f| **f).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    assert_eq!(sprite.pos, Vec2 { x: 1.5, y: -2.0 });
    Ok(())
}

/// Recursive types: a tree of items and a list enum, both holding items of
/// themselves (the check stays out of the impl's where clause, so the trait
/// solver does not recurse forever).
#[derive(Managed, Rebrand)]
struct Tree<'a> {
    value: u64,
    children: Vec<Item<'a, Tree<'a>>>,
}

#[derive(Managed, Rebrand)]
enum List<'a> {
    Nil,
    Cons(u64, Item<'a, List<'a>>),
}

fn tree_sum(t: &Tree<'_>) -> u64 {
    t.value + t.children.iter().map(|c| tree_sum(c)).sum::<u64>()
}

fn list_values(l: &List<'_>) -> Vec<u64> {
    match l {
        List::Nil => Vec::new(),
        List::Cons(v, rest) => {
            let mut out = vec![*v];
            out.extend(list_values(rest));
            out
        }
    }
}

#[test]
fn recursive_types_survive_compaction() -> Result<(), Box<dyn std::error::Error>> {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 4096>, _) = Arena::new(guard);
    let mut garbage = Vec::new();
    let mut leaf = |value| {
        garbage.push(arena.allocate::<u64>(&state).map_err(|e| e.to_string())?);
        arena
            .alloc(
                &state,
                Tree {
                    value,
                    children: Vec::new(),
                },
            )
            .map_err(|e| e.to_string())
    };
    let mut a = leaf(1)?;
    a.children.push(leaf(2)?);
    let tree = Tree {
        value: 10,
        children: vec![a, leaf(3)?],
    };
    let mut list = List::Nil;
    for v in [3, 2, 1] {
        list = List::Cons(v, arena.alloc(&state, list).map_err(AllocError::from)?);
    }
    assert_eq!(tree_sum(&tree), 16);
    make_guard!(compact);
    let tree_token = arena.tokenize_all(&compact, tree);
    let list_token = arena.tokenize_all(&compact, list);
    drop(garbage);
    let state = arena.compact(&compact, state);
    let tree = tree_token.redeem(&arena);
    let list = list_token.redeem(&arena);
    let _state = arena.finish(compact, state);
    assert_eq!(tree_sum(&tree), 16);
    assert_eq!(tree.children[0].children[0].value, 2);
    assert_eq!(list_values(&list), [1, 2, 3]);
    assert_eq!(arena.detailed_stats().hole_bytes, 0);
    Ok(())
}

/// Generic types: a type parameter outside the items stays as it is, and
/// one inside them works when the where clause says it has no region
/// lifetime of its own; a second lifetime (here the arena brand of a
/// `Forward`) is kept.
#[derive(Managed, Rebrand)]
struct Tagged<'a, 'id, T>
where
    T: Clone,
{
    item: Item<'a, u32>,
    shared: Forward<'id, u32>,
    tag: T,
}

#[derive(Managed, Rebrand)]
struct Bag<'a, T>
where
    T: for<'x> Rebrand<Branded<'x> = T>,
{
    items: Vec<Item<'a, T>>,
}

#[test]
fn generic_types_survive_compaction() -> Result<(), Box<dyn std::error::Error>> {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let garbage = arena.allocate::<[u64; 2]>(&state)?;
    let shared = arena.alloc_shared(&state, 99u32)?;
    let tagged = Tagged {
        item: arena.alloc(&state, 7)?,
        shared,
        tag: String::from("tag"),
    };
    let bag = Bag {
        items: vec![arena.alloc(&state, 1u16)?, arena.alloc(&state, 2u16)?],
    };
    let before = tagged.item.as_ptr().addr();
    make_guard!(compact);
    let tagged_token = arena.tokenize_all(&compact, tagged);
    let bag_token = arena.tokenize_all(&compact, bag);
    drop(garbage);
    let state = arena.compact(&compact, state);
    let tagged = tagged_token.redeem(&arena);
    let bag = bag_token.redeem(&arena);
    let _state = arena.finish(compact, state);
    assert!(tagged.item.as_ptr().addr() < before);
    assert_eq!(*tagged.item, 7);
    assert_eq!(tagged.shared.get(&arena), Some(&99));
    assert_eq!(tagged.tag, "tag");
    assert_eq!(bag.items.iter().map(|i| **i).collect::<Vec<_>>(), [1, 2]);
    Ok(())
}

/// Spellings the compiler resolves to the region lifetime are accepted
/// when the field really holds region items: a raw lifetime, a type macro
/// given the lifetime, a type alias, and `Self`.
macro_rules! items_of {
    ($l:lifetime, $t:ty) => {
        Vec<Item<$l, $t>>
    };
}

type Numbers<'x> = Vec<Item<'x, u64>>;

#[derive(Managed, Rebrand)]
struct Spelled<'a> {
    raw: Item<'r#a, u64>,
    from_macro: items_of!('a, u64),
    aliased: Numbers<'a>,
    next: Option<Box<Self>>,
}

#[test]
fn lifetime_spellings_survive_compaction() -> Result<(), Box<dyn std::error::Error>> {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let garbage = arena.allocate::<[u64; 3]>(&state)?;
    let one = |v: u64| arena.alloc(&state, v);
    let inner = Spelled {
        raw: one(4)?,
        from_macro: vec![one(5)?],
        aliased: vec![one(6)?],
        next: None,
    };
    let outer = Spelled {
        raw: one(1)?,
        from_macro: vec![one(2)?],
        aliased: vec![one(3)?],
        next: Some(Box::new(inner)),
    };
    make_guard!(compact);
    let token = arena.tokenize_all(&compact, outer);
    drop(garbage);
    let state = arena.compact(&compact, state);
    let outer = token.redeem(&arena);
    let _state = arena.finish(compact, state);
    let values = |s: &Spelled<'_>| [*s.raw, *s.from_macro[0], *s.aliased[0]];
    assert_eq!(values(&outer), [1, 2, 3]);
    assert_eq!(values(outer.next.as_deref().unwrap()), [4, 5, 6]);
    assert_eq!(arena.detailed_stats().hole_bytes, 0);
    Ok(())
}
