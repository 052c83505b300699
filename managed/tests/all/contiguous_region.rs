//! A `ContiguousUniformPool` and the compacting region together, both
//! ways: a pool whose objects hold region items takes part in a region
//! compaction (tokenized whole, or stored inside a region object), its
//! objects visited and rewritten; and region objects hold pool keys,
//! plain data that survives the move.

use managed::contiguous::DefaultKey;
use managed::prelude::*;

/// A pool object holding region items.
#[derive(Managed, Rebrand)]
struct Sprite<'a> {
    name: String,
    image: Item<'a, Vec<u8>>,
    frames: Vec<Item<'a, u32>>,
}

fn sprite<'a, 'id, const N: usize>(
    arena: &'a Arena<'id, N>,
    state: &'a State<'id>,
    i: u8,
) -> Sprite<'a> {
    let image = arena.alloc(state, vec![i; 4]).expect("room");
    let frames = (0..3)
        .map(|f| arena.alloc(state, u32::from(i) * 10 + f).expect("room"))
        .collect();
    Sprite {
        name: format!("s{i}"),
        image,
        frames,
    }
}

fn check_sprite(pool: &ContiguousUniformPool<Sprite<'_>>, key: DefaultKey, i: u8) {
    let sprite = pool.get(key).expect("live");
    assert_eq!(sprite.name, format!("s{i}"));
    assert_eq!(*sprite.image, vec![i; 4]);
    let frames: Vec<u32> = sprite.frames.iter().map(|f| **f).collect();
    let base = u32::from(i) * 10;
    assert_eq!(frames, [base, base + 1, base + 2]);
}

#[test]
fn a_pool_of_region_items_is_tokenized_whole_and_compacted() {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 8192>, _) = Arena::new(guard);
    let pool = ContiguousUniformPool::new();
    let mut garbage = Vec::new();
    let mut keys = Vec::new();
    for i in 0..8u8 {
        garbage.push(arena.allocate::<u64>(&state).expect("room"));
        keys.push(pool.insert(sprite(&arena, &state, i)));
    }
    // A removal before the compaction: the last object moves in the pool.
    drop(pool.remove(keys[2]));
    let before = pool.get(keys[7]).map(|s| s.image.as_ptr().addr()).unwrap();
    let proxy_free = Proxy::key(&pool.alloc(sprite(&arena, &state, 99)));
    assert!(!pool.contains(proxy_free), "the proxy's drop removed it");

    make_guard!(compact);
    let token = arena.tokenize_all(&compact, pool);
    drop(garbage);
    let state = arena.compact(&compact, state);
    let pool = token.redeem(&arena);
    let _state = arena.finish(compact, state);

    let after = pool.get(keys[7]).map(|s| s.image.as_ptr().addr()).unwrap();
    assert!(after < before, "the items moved down and were rewritten");
    for (i, &key) in keys.iter().enumerate() {
        if i == 2 {
            assert!(pool.get(key).is_none());
        } else {
            check_sprite(&pool, key, i as u8);
        }
    }
    assert_eq!(arena.detailed_stats().hole_bytes, 0);
    // The redeemed pool works as before: walks, removals, keys.
    pool.retain(|_, s| s.name != "s5");
    assert!(!pool.contains(keys[5]));
    check_sprite(&pool, keys[6], 6);
    assert_eq!(pool.len(), 6);
}

#[test]
fn a_pool_inside_a_region_object_is_visited_by_the_compactor() {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 8192>, _) = Arena::new(guard);
    let pool = ContiguousUniformPool::new();
    let mut garbage = Vec::new();
    let mut keys = Vec::new();
    for i in 0..6u8 {
        garbage.push(arena.allocate::<[u64; 2]>(&state).expect("room"));
        keys.push(pool.insert(sprite(&arena, &state, i)));
    }
    let holder = arena.alloc(&state, pool).expect("room");
    let before = holder
        .get(keys[5])
        .map(|s| s.frames[2].as_ptr().addr())
        .unwrap();

    make_guard!(compact);
    let token = arena.tokenize_all(&compact, holder);
    drop(garbage);
    let state = arena.compact(&compact, state);
    let holder = token.redeem(&arena);
    let _state = arena.finish(compact, state);

    let after = holder
        .get(keys[5])
        .map(|s| s.frames[2].as_ptr().addr())
        .unwrap();
    assert!(after < before);
    for (i, &key) in keys.iter().enumerate() {
        check_sprite(&holder, key, i as u8);
    }
}

/// A region object holding pool keys: plain data, nothing to visit.
#[derive(Managed, Rebrand)]
struct Emitter<'a> {
    origin: Item<'a, (f32, f32)>,
    particles: Vec<DefaultKey>,
}

#[test]
fn region_objects_hold_pool_keys_across_a_compaction() {
    let particles: ContiguousUniformPool<(f32, f32)> = ContiguousUniformPool::new();
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 4096>, _) = Arena::new(guard);
    let mut garbage = Vec::new();
    let mut emitters = Vec::new();
    for e in 0..4 {
        garbage.push(arena.allocate::<u64>(&state).expect("room"));
        let keys = (0..3)
            .map(|p| particles.insert((e as f32, p as f32)))
            .collect();
        let origin = arena.alloc(&state, (e as f32, 0.0)).expect("room");
        let emitter = Emitter {
            origin,
            particles: keys,
        };
        emitters.push(arena.alloc(&state, emitter).expect("room"));
    }
    const { assert!(!<DefaultKey as Managed>::HAS_REFS) };

    make_guard!(compact);
    let token = arena.tokenize_all(&compact, emitters);
    drop(garbage);
    let state = arena.compact(&compact, state);
    let emitters = token.redeem(&arena);
    let _state = arena.finish(compact, state);

    for (e, emitter) in emitters.iter().enumerate() {
        assert_eq!(*emitter.origin, (e as f32, 0.0));
        for (p, &key) in emitter.particles.iter().enumerate() {
            assert_eq!(particles.get(key).map(|v| *v), Some((e as f32, p as f32)));
        }
    }
    // Removing a particle leaves the region's copy of its key stale.
    let first = emitters[0].particles[0];
    assert!(particles.remove_deferred(first));
    assert!(particles.get(emitters[0].particles[0]).is_none());
}
