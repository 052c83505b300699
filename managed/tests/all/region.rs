//! The compacting region: the basic example and compaction cases, drop accounting,
//! whole-value tokenizing, references inside the region, and `Forward`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error;
use std::rc::Rc;
use std::sync::atomic::AtomicPtr;
use std::sync::atomic::Ordering::Relaxed;

use managed::prelude::*;

use crate::common::{Ledger, SplitMix, Tracked};

type Res = Result<(), Box<dyn Error>>;

/// The basic example: items, garbage, tokens and a compaction that reclaims
/// the garbage.
#[test]
fn basic_example() -> Res {
    make_guard!(guard);
    // create an arena and allocate some values
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let garbage = arena.allocate::<u8>(&state)?;
    let mut a = arena.allocate::<u8>(&state)?;
    *a = 0xAA;
    let mut b = arena.allocate::<u8>(&state)?;
    *b = 0xBB;

    make_guard!(compact);
    // convert all outstanding references to tokens
    let tok_a = arena.tokenize(&compact, a);
    let tok_b = arena.tokenize(&compact, b);
    drop(garbage);
    // start compacting, which guarantees all references are tokens or dropped
    let state = arena.compact(&compact, state);
    // redeem tokens, reviving alive objects and overwriting the free `garbage`
    let b = tok_b(&arena);
    let a = tok_a(&arena);
    // finish compacting, guaranteeing all tokens are used or dropped
    let state = arena.finish(compact, state);
    // live references have been forwarded and point to the same objects
    assert_eq!(*a, 0xAA);
    assert_eq!(*b, 0xBB);
    // the garbage's block is gone: `a` moved into it
    assert_eq!(arena.detailed_stats().hole_bytes, 0);
    assert_eq!(arena.detailed_stats().live_objects, 2);
    let c = arena.allocate::<u8>(&state)?;
    assert_eq!(*c, 0);
    Ok(())
}

/// Tokens collected from a drained vector and redeemed with `map`.
#[test]
fn collected_tokens_redeemed_with_map() -> Res {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 4096>, _) = Arena::new(guard);
    let mut v = Vec::new();
    for i in 0..10u32 {
        let mut item = arena.allocate::<u32>(&state)?;
        *item = i;
        v.push(item);
        let _garbage = arena.allocate::<u64>(&state)?;
    }
    make_guard!(compact);
    let tokens = v
        .drain(..)
        .map(|i| arena.tokenize(&compact, i))
        .collect::<Vec<_>>();
    // The drained vector's type still says it may hold items: it must go
    // before compaction (that is the compile-time guarantee at work).
    drop(v);
    let state = arena.compact(&compact, state);
    let v = tokens.into_iter().map(|t| t(&arena)).collect::<Vec<_>>();
    let _state = arena.finish(compact, state);
    assert_eq!(
        v.iter().map(|i| **i).collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>()
    );
    let s = arena.detailed_stats();
    assert_eq!((s.live_objects, s.hole_bytes), (10, 0));
    Ok(())
}

/// Two items survive compaction in either redeem order.
#[test]
fn two_items() -> Res {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 256>, _) = Arena::new(guard);
    let mut a = arena.allocate::<u64>(&state)?;
    let mut b = arena.allocate::<u64>(&state)?;
    *a = 1;
    *b = 2;
    let a_before = a.as_ptr();
    make_guard!(compact);
    let ta = arena.tokenize(&compact, a);
    let tb = arena.tokenize(&compact, b);
    let state = arena.compact(&compact, state);
    let b = tb(&arena);
    let a = ta(&arena);
    let _state = arena.finish(compact, state);
    assert_eq!((*a, *b), (1, 2));
    assert_eq!(a.as_ptr(), a_before, "nothing to reclaim: nothing moves");
    Ok(())
}

/// A vector of ten items, half dropped ("reclaiming half").
#[test]
fn vector_of_ten_reclaiming_half() -> Res {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let mut v = (0..10u64)
        .map(|i| arena.alloc(&state, i * 11))
        .collect::<Result<Vec<_>, _>>()?;
    let before = arena.detailed_stats();
    assert_eq!(before.live_objects, 10);
    make_guard!(compact);
    let mut tokens = Vec::new();
    for (i, item) in v.drain(..).enumerate() {
        if i % 2 == 0 {
            tokens.push(arena.tokenize(&compact, item));
        }
    }
    drop(v);
    let fragmented = arena.detailed_stats();
    assert_eq!(fragmented.live_objects, 5);
    assert!(fragmented.fragmentation() > 0.0);
    let state = arena.compact(&compact, state);
    let v: Vec<_> = tokens.into_iter().map(|t| t(&arena)).collect();
    let state = arena.finish(compact, state);
    assert_eq!(
        v.iter().map(|x| **x).collect::<Vec<_>>(),
        [0, 22, 44, 66, 88]
    );
    let after = arena.detailed_stats();
    assert_eq!(after.hole_bytes, 0);
    assert_eq!(after.fragmentation(), 0.0);
    assert_eq!(
        after.tail_bytes,
        before.tail_bytes + before.live_block_bytes / 2
    );
    // The reclaimed half is allocatable again.
    let more = (0..5)
        .map(|_| arena.allocate::<u64>(&state))
        .collect::<Result<Vec<_>, _>>()?;
    assert_eq!(arena.available(), before.tail_bytes);
    drop(more);
    Ok(())
}

/// Redeeming out of address order still packs optimally.
#[test]
fn out_of_order_redeem() -> Res {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 2048>, _) = Arena::new(guard);
    let g1 = arena.allocate::<[u8; 24]>(&state)?;
    let a = arena.alloc(&state, 1u16)?;
    let g2 = arena.allocate::<u128>(&state)?;
    let b = arena.alloc(&state, [2u64; 3])?;
    let c = arena.alloc(&state, 3u8)?;
    make_guard!(compact);
    let (ta, tb, tc) = (
        arena.tokenize(&compact, a),
        arena.tokenize(&compact, b),
        arena.tokenize(&compact, c),
    );
    drop((g1, g2));
    let state = arena.compact(&compact, state);
    let c = tc(&arena);
    let a = ta(&arena);
    let b = tb(&arena);
    let _state = arena.finish(compact, state);
    assert_eq!((*a, *b, *c), (1, [2; 3], 3));
    assert!(a.as_ptr().addr() < b.as_ptr().addr() && b.as_ptr().addr() < c.as_ptr().addr());
    let s = arena.detailed_stats();
    // 8 + 24 + 8 bytes: no headers, no padding at all.
    assert_eq!(s.live_block_bytes, 8 + 24 + 8);
    assert_eq!(s.hole_bytes, 0);
    Ok(())
}

/// Many small gaps of mixed sizes are all reclaimed.
#[test]
fn small_gaps() -> Res {
    make_guard!(guard);
    let (mut arena, state) = Arena::<'_, 0>::with_capacity(guard, 8192);
    let mut keep = Vec::new();
    let mut drop_later = Vec::new();
    for i in 0..40u8 {
        let item = arena.alloc_slice_fill(&state, 1 + (i as usize % 7), i)?;
        if i % 3 == 0 {
            keep.push(item);
        } else {
            drop_later.push(item);
        }
    }
    drop(drop_later);
    make_guard!(compact);
    let tokens: Vec<_> = keep
        .into_iter()
        .map(|i| arena.tokenize(&compact, i))
        .collect();
    let state = arena.compact(&compact, state);
    let keep: Vec<_> = tokens.into_iter().map(|t| t(&arena)).collect();
    let _state = arena.finish(compact, state);
    for (n, item) in keep.iter().enumerate() {
        let i = (n * 3) as u8;
        assert_eq!(&**item, &vec![i; 1 + (i as usize % 7)][..]);
    }
    assert_eq!(arena.detailed_stats().hole_bytes, 0);
    assert_eq!(arena.detailed_stats().live_block_bytes, keep.len() * 8);
    Ok(())
}

/// A leaked token's object stays live and is never redeemed;
/// the rest of the region compacts around it.
#[test]
fn leaked_token() -> Res {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 512>, _) = Arena::new(guard);
    let drops = Ledger::new();
    let g = arena.alloc(&state, 0u64)?;
    let leaked = arena.alloc(&state, drops.track(5))?;
    let kept = arena.alloc(&state, 9u64)?;
    make_guard!(compact);
    // Leak the token (as `mem::forget` would), but reachably from a static
    // so that Miri's leak check accepts the cell table it keeps alive.
    static SINK: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
    let token = Box::new(arena.tokenize(&compact, leaked));
    SINK.store(Box::into_raw(token).cast(), Relaxed);
    let tk = arena.tokenize(&compact, kept);
    drop(g);
    let state = arena.compact(&compact, state);
    let kept = tk(&arena);
    let _state = arena.finish(compact, state);
    assert_eq!(*kept, 9);
    let s = arena.detailed_stats();
    assert_eq!((s.live_objects, s.hole_bytes), (2, 0));
    drop(kept);
    drop(arena);
    assert_eq!(drops.total(), 0, "a leaked value is never dropped");
    Ok(())
}

#[repr(align(256))]
#[derive(Default, Debug, PartialEq)]
struct Aligned(u8);

// SAFETY: no references.
unsafe impl Managed for Aligned {
    const HAS_REFS: bool = false;
    fn visit_refs<V: Visitor + ?Sized>(&mut self, _: &mut V) {}
}

/// Alignment is respected before and after compaction.
#[test]
fn alignment() -> Res {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 4096>, _) = Arena::new(guard);
    let g = arena.allocate::<u8>(&state)?;
    let mut x = arena.allocate::<Aligned>(&state)?;
    x.0 = 7;
    let y = arena.alloc(&state, 0x1234_5678_9abc_def0_u128)?;
    let z = arena.allocate::<()>(&state)?;
    assert_eq!(x.as_ptr().addr() % 256, 0);
    assert_eq!(y.as_ptr().addr() % align_of::<u128>(), 0);
    make_guard!(compact);
    let (tx, ty, tz) = (
        arena.tokenize(&compact, x),
        arena.tokenize(&compact, y),
        arena.tokenize(&compact, z),
    );
    drop(g);
    let state = arena.compact(&compact, state);
    let (z, y, x) = (tz(&arena), ty(&arena), tx(&arena));
    let _state = arena.finish(compact, state);
    assert_eq!(x.as_ptr().addr() % 256, 0);
    assert_eq!(y.as_ptr().addr() % align_of::<u128>(), 0);
    assert_eq!((x.0, *y, *z), (7, 0x1234_5678_9abc_def0, ()));
    Ok(())
}

/// Garbage is dropped when its item drops, survivors when theirs do,
/// dropped tokens drop their value, shared objects drop with the arena.
#[test]
fn every_value_dropped_once() -> Res {
    let drops = Ledger::new();
    let new = |v| drops.track(v);
    {
        make_guard!(guard);
        let (mut arena, state): (Arena<'_, 4096>, _) = Arena::new(guard);
        let garbage = arena.alloc(&state, new(0))?;
        let survivor = arena.alloc(&state, new(1))?;
        let dropped_token = arena.alloc(&state, new(2))?;
        let in_vec = vec![arena.alloc(&state, new(3))?, arena.alloc(&state, new(4))?];
        let shared = arena.alloc_shared(&state, new(5))?;
        let freed = arena.alloc_shared(&state, new(6))?;
        drop(garbage);
        assert_eq!(drops.total(), 1);
        make_guard!(compact);
        let ts = arena.tokenize(&compact, survivor);
        let td = arena.tokenize(&compact, dropped_token);
        let tv = arena.tokenize_all(&compact, in_vec);
        let state = arena.compact(&compact, state);
        drop(td);
        assert_eq!(drops.total(), 2);
        let survivor = ts(&arena);
        drop(tv);
        assert_eq!(drops.total(), 4);
        let _state = arena.finish(compact, state);
        assert_eq!(survivor.id, 1);
        assert_eq!(shared.get(&arena).map(|c| c.id), Some(5));
        assert_eq!(arena.get(shared).map(|c| c.id), Some(5));
        drop(survivor);
        arena.get_mut(shared).expect("live").id += 10;
        assert_eq!(shared.get(&arena).map(|c| c.id), Some(15));
        assert!(arena.contains(shared) && arena.contains(freed));
        assert_eq!(drops.total(), 5);
        let value = arena.remove(freed).expect("live");
        assert_eq!(value.id, 6);
        assert!(arena.remove(freed).is_none(), "a second free finds nothing");
        assert!(freed.get(&arena).is_none());
        assert!(arena.get(freed).is_none() && !arena.contains(freed));
        drop(value);
        assert_eq!(drops.total(), 6);
    }
    assert_eq!(drops.total(), 7, "the arena drops its shared objects");
    Ok(())
}

/// A panicking destructor still frees the block and drops the rest.
#[test]
fn panicking_destructor() -> Res {
    let drops = Ledger::new();
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let bomb = arena.alloc(&state, drops.track_loud(0))?;
    let keep = arena.alloc(&state, 3u32)?;
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(bomb)));
    assert!(r.is_err());
    assert_eq!(drops.total(), 1);
    make_guard!(compact);
    let t = arena.tokenize(&compact, keep);
    let state = arena.compact(&compact, state);
    let keep = t(&arena);
    let state = arena.finish(compact, state);
    assert_eq!(*keep, 3);
    assert_eq!(arena.detailed_stats().live_objects, 1);
    // A shared bomb panics in the arena's drop: the objects after it are
    // still dropped, once.
    let _b = arena.alloc_shared(&state, drops.track_loud(0))?;
    let _c = arena.alloc_shared(&state, drops.track(0))?;
    drop(keep);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(arena)));
    assert!(r.is_err());
    assert_eq!(drops.total(), 3);
    Ok(())
}

/// A full arena returns `Err(Full)` and writes nothing.
#[test]
fn full_arena_errors() -> Res {
    make_guard!(guard);
    let (arena, state): (Arena<'_, 64>, _) = Arena::new(guard);
    let a = arena.allocate::<[u64; 4]>(&state)?; // 32 bytes
    let b = arena.allocate::<[u64; 3]>(&state)?; // 24 bytes
    let err = arena.allocate::<[u64; 2]>(&state).unwrap_err();
    assert_eq!(
        err,
        AllocError::Full {
            requested: 16,
            available: 8
        }
    );
    let (err, value) = arena.alloc(&state, [7u8; 100]).unwrap_err().into_parts();
    assert!(matches!(err, AllocError::Full { .. }));
    assert_eq!(value, [7u8; 100], "the value is given back");
    assert!(matches!(
        arena.alloc_slice_fill(&state, usize::MAX / 2, 0u32),
        Err(AllocError::CapacityOverflow)
    ));
    let mut built = false;
    assert!(
        arena
            .alloc_with(&state, || {
                built = true;
                [0u64; 2]
            })
            .is_err()
    );
    assert!(!built, "nothing is built when it does not fit");
    assert_eq!((*a, *b), ([0; 4], [0; 3]));
    assert_eq!(arena.available(), 8);
    // The last granule is usable to the end.
    let c = arena.alloc(&state, 5u32)?;
    assert_eq!((*c, arena.available()), (5, 0));
    make_guard!(g2);
    let (empty, st2) = Arena::<'_, 0>::with_capacity(g2, 0);
    assert!(matches!(
        empty.allocate::<u8>(&st2),
        Err(AllocError::Full { .. })
    ));
    // Zero-sized values take no space, so even an empty region holds them.
    assert!(empty.allocate::<()>(&st2).is_ok());
    Ok(())
}

/// Fill, free half, compact redeeming in reverse: the freed half is reusable.
#[test]
fn fill_free_half_compact_reverse_reuse() -> Res {
    const SIZE: usize = if cfg!(miri) { 4096 } else { 1 << 16 };
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, SIZE>, _) = Arena::new(guard);
    let mut items = Vec::new();
    let mut i = 0u64;
    while let Ok(item) = arena.alloc(&state, i) {
        items.push(item);
        i += 1;
    }
    let total = items.len();
    assert_eq!(total, SIZE / 8, "no headers: one granule per u64");
    make_guard!(compact);
    let mut tokens = Vec::new();
    for item in items.drain(..) {
        if *item % 2 == 1 {
            tokens.push(arena.tokenize(&compact, item));
        }
    }
    drop(items);
    let state = arena.compact(&compact, state);
    let mut redeemed: Vec<_> = tokens.into_iter().rev().map(|t| t(&arena)).collect();
    let state = arena.finish(compact, state);
    redeemed.reverse();
    for (n, item) in redeemed.iter().enumerate() {
        assert_eq!(**item, 2 * n as u64 + 1);
    }
    let mut more = 0;
    while arena.allocate::<u64>(&state).map(std::mem::forget).is_ok() {
        more += 1;
    }
    assert_eq!(more + redeemed.len(), total, "every freed byte is reusable");
    Ok(())
}

/// A scene holding items in fields, a Vec, an Option, a nested struct and
/// map values, and a `Forward`; tokenized whole, redeemed as the same struct.
struct Scene<'a, 'id> {
    camera: Item<'a, [f32; 3]>,
    meshes: Vec<Item<'a, u64>>,
    light: Option<Item<'a, u32>>,
    none: Option<Item<'a, u32>>,
    inner: Inner<'a>,
    named: HashMap<&'static str, Item<'a, String>>,
    shared: Forward<'id, String>,
    frame: u32,
}

struct Inner<'a> {
    items: (Item<'a, u16>, Item<'a, u16>),
}

// SAFETY: visits every field that can hold an item.
unsafe impl Managed for Scene<'_, '_> {
    const HAS_REFS: bool = true;
    fn visit_refs<V: Visitor + ?Sized>(&mut self, v: &mut V) {
        self.camera.visit_refs(v);
        self.meshes.visit_refs(v);
        self.light.visit_refs(v);
        self.none.visit_refs(v);
        self.inner.visit_refs(v);
        self.named.visit_refs(v);
        self.shared.visit_refs(v);
        self.frame.visit_refs(v);
    }
}

// SAFETY: `'a` is only the lifetime of the items; the brand `'id` stays.
unsafe impl<'a, 'id> Rebrand for Scene<'a, 'id> {
    type Branded<'b> = Scene<'b, 'id>;
}

// SAFETY: visits both items.
unsafe impl Managed for Inner<'_> {
    const HAS_REFS: bool = true;
    fn visit_refs<V: Visitor + ?Sized>(&mut self, v: &mut V) {
        self.items.visit_refs(v);
    }
}

// SAFETY: `'a` is only the lifetime of the items.
unsafe impl<'a> Rebrand for Inner<'a> {
    type Branded<'b> = Inner<'b>;
}

#[test]
fn whole_struct_tokenize() -> Res {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 8192>, _) = Arena::new(guard);
    let mut garbage = vec![arena.allocate::<[u64; 3]>(&state)?];
    let camera = arena.alloc(&state, [1.0, 2.0, 3.0])?;
    let mut meshes = Vec::with_capacity(16);
    for i in 0..10 {
        meshes.push(arena.alloc(&state, i)?);
        garbage.push(arena.allocate::<[u64; 3]>(&state)?);
    }
    let light = Some(arena.alloc(&state, 77)?);
    let inner = Inner {
        items: (arena.alloc(&state, 5)?, arena.alloc(&state, 6)?),
    };
    let mut named = HashMap::new();
    named.insert("hero", arena.alloc(&state, "Ada".to_string())?);
    let shared = arena.alloc_shared(&state, "shared".to_string())?;
    let scene = Scene {
        camera,
        meshes,
        light,
        none: None,
        inner,
        named,
        shared,
        frame: 42,
    };
    let buffer = scene.meshes.as_ptr().addr();
    let before = scene.meshes[3].as_ptr().addr();
    make_guard!(compact);
    let token = arena.tokenize_all(&compact, scene);
    drop(garbage);
    let state = arena.compact(&compact, state);
    let scene = token.redeem(&arena);
    let state = arena.finish(compact, state);
    assert_eq!(
        scene.meshes.as_ptr().addr(),
        buffer,
        "the Vec kept its buffer"
    );
    assert!(
        scene.meshes[3].as_ptr().addr() < before,
        "objects moved down"
    );
    assert_eq!(*scene.camera, [1.0, 2.0, 3.0]);
    assert_eq!(
        scene.meshes.iter().map(|m| **m).collect::<Vec<_>>(),
        (0..10).collect::<Vec<_>>()
    );
    assert_eq!(scene.light.as_deref(), Some(&77));
    assert!(scene.none.is_none());
    assert_eq!((*scene.inner.items.0, *scene.inner.items.1), (5, 6));
    assert_eq!(scene.named["hero"].as_str(), "Ada");
    assert_eq!(scene.shared.get(&arena).map(String::as_str), Some("shared"));
    assert_eq!(scene.frame, 42);
    assert_eq!(arena.detailed_stats().hole_bytes, 0);
    // The redeemed scene's items work like fresh ones.
    let extra = arena.allocate::<u8>(&state)?;
    drop((scene, extra));
    assert_eq!(
        arena.detailed_stats().live_objects,
        1,
        "only the shared string is left"
    );
    Ok(())
}

/// A `Vec<Item<T>>` round-trips through a token in place.
#[test]
fn vec_tokenizes_in_place() -> Res {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 2048>, _) = Arena::new(guard);
    let g = arena.allocate::<u64>(&state)?;
    let v: Vec<Item<'_, u32>> = (0..8)
        .map(|i| arena.alloc(&state, i))
        .collect::<Result<_, _>>()?;
    let (ptr, cap) = (v.as_ptr().addr(), v.capacity());
    make_guard!(compact);
    let t = arena.tokenize_all(&compact, v);
    drop(g);
    let state = arena.compact(&compact, state);
    let v = t.redeem(&arena);
    let _ = arena.finish(compact, state);
    assert_eq!((v.as_ptr().addr(), v.capacity()), (ptr, cap));
    assert_eq!(
        v.iter().map(|i| **i).collect::<Vec<_>>(),
        (0..8).collect::<Vec<_>>()
    );
    Ok(())
}

/// A tree in the region: nodes own their children through items, which the
/// compactor rewrites through `Managed::visit_refs`.
struct Node<'a> {
    value: u64,
    children: Vec<Item<'a, Node<'a>>>,
}

// SAFETY: visits every child item.
unsafe impl Managed for Node<'_> {
    const HAS_REFS: bool = true;
    fn visit_refs<V: Visitor + ?Sized>(&mut self, v: &mut V) {
        self.children.visit_refs(v);
    }
}

// SAFETY: `'a` is only the lifetime of the items, and each field's own
// `Rebrand` substitutes exactly `'a` (this is the form
// `managed-derive/src/region.rs` generates).
unsafe impl<'a> Rebrand for Node<'a> {
    type Branded<'b> = Node<'b>;
}

// The check `managed-derive/src/region.rs` generates: each field that
// mentions `'a` rebrands to the same field type with `'a` replaced.
const _: () = {
    #[allow(dead_code, clippy::extra_unused_lifetimes)]
    fn check<'a, 'b>() {
        fn same<T: ?Sized>(_: core::marker::PhantomData<fn(T) -> T>) {}
        same::<Vec<Item<'b, Node<'b>>>>(
            core::marker::PhantomData::<
                fn(
                    <Vec<Item<'a, Node<'a>>> as Rebrand>::Branded<'b>,
                ) -> <Vec<Item<'a, Node<'a>>> as Rebrand>::Branded<'b>,
            >,
        );
    }
};

fn sum(node: &Node<'_>) -> u64 {
    node.value + node.children.iter().map(|c| sum(c)).sum::<u64>()
}

#[test]
fn items_inside_the_region_are_rewritten() -> Res {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 8192>, _) = Arena::new(guard);
    let mut garbage = Vec::new();
    let mut leaf = |v: u64| -> Result<Item<'_, Node<'_>>, AllocError> {
        garbage.push(arena.allocate::<[u64; 5]>(&state)?);
        arena
            .alloc(
                &state,
                Node {
                    value: v,
                    children: Vec::new(),
                },
            )
            .map_err(AllocError::from)
    };
    let mut a = leaf(1)?;
    let b = leaf(2)?;
    let mut c = leaf(3)?;
    c.children.push(leaf(4)?);
    a.children.push(b);
    a.children.push(c);
    // The root comes last in address order, its children first: references
    // point both down and up.
    let mut root = leaf(10)?;
    root.children.push(a);
    root.children.push(leaf(5)?);
    assert_eq!(sum(&root), 25);
    make_guard!(compact);
    let t = arena.tokenize_all(&compact, root);
    drop(garbage);
    let state = arena.compact(&compact, state);
    let root = t.redeem(&arena);
    let _state = arena.finish(compact, state);
    assert_eq!(sum(&root), 25);
    assert_eq!(root.children[0].children[1].children[0].value, 4);
    let s = arena.detailed_stats();
    assert_eq!((s.live_objects, s.hole_bytes), (6, 0));
    drop(root);
    assert_eq!(
        arena.detailed_stats().live_objects,
        0,
        "the tree dropped its children"
    );
    Ok(())
}

/// A graph of shared objects linked by `Forward`s survives compaction.
struct GraphNode<'id> {
    label: u32,
    next: Option<Forward<'id, GraphNode<'id>>>,
}

// SAFETY: `Forward`s are indirect: nothing to visit.
unsafe impl Managed for GraphNode<'_> {
    const HAS_REFS: bool = false;
    fn visit_refs<V: Visitor + ?Sized>(&mut self, _: &mut V) {}
}

#[test]
fn forward_graph_survives_compaction() -> Res {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 4096>, _) = Arena::new(guard);
    let mut nodes = Vec::new();
    let mut garbage = Vec::new();
    for label in 0..8 {
        garbage.push(arena.alloc_slice_fill(&state, 1, 0u8)?);
        let next = nodes.last().copied();
        nodes.push(
            arena
                .alloc_shared(&state, GraphNode { label, next })
                .map_err(AllocError::from)?,
        );
    }
    drop(garbage);
    // Close the cycle.
    let last = *nodes.last().unwrap();
    nodes[0].get_mut(&mut arena).unwrap().next = Some(last);
    let addr_before = nodes[7]
        .get(&arena)
        .map(|n| n as *const GraphNode<'_> as usize);
    make_guard!(compact);
    let state = arena.compact(&compact, state);
    let _state = arena.finish(compact, state);
    let addr_after = nodes[7]
        .get(&arena)
        .map(|n| n as *const GraphNode<'_> as usize);
    assert!(addr_after < addr_before, "the node moved");
    // Walk the cycle from the last node.
    let mut at = last;
    let mut labels = Vec::new();
    for _ in 0..9 {
        let node = at.get(&arena).unwrap();
        labels.push(node.label);
        at = node.next.unwrap();
    }
    assert_eq!(labels, [7, 6, 5, 4, 3, 2, 1, 0, 7]);
    assert_eq!(arena.detailed_stats().hole_bytes, 0);
    Ok(())
}

/// Stats report live, free and fragmented bytes before and after compaction.
#[test]
fn stats_before_and_after() -> Res {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    assert_eq!(arena.stats(), SpaceStats::new(0, 1024));
    let a = arena.allocate::<u64>(&state)?;
    let b = arena.allocate::<u32>(&state)?;
    let s = arena.detailed_stats();
    // Granules of 8 bytes, no headers.
    assert_eq!(
        (s.live_objects, s.live_bytes, s.live_block_bytes),
        (2, 16, 16)
    );
    assert_eq!(
        (s.hole_bytes, s.tail_bytes, s.free_bytes()),
        (0, 1008, 1008)
    );
    drop(a);
    let s = arena.detailed_stats();
    assert_eq!((s.live_objects, s.live_bytes, s.hole_bytes), (1, 8, 8));
    assert!((s.fragmentation() - 8.0 / 1016.0).abs() < 1e-9);
    assert_eq!(arena.stats(), SpaceStats::new(8, 1024));
    make_guard!(compact);
    let t = arena.tokenize(&compact, b);
    let state = arena.compact(&compact, state);
    let b = t(&arena);
    let _state = arena.finish(compact, state);
    let s = arena.detailed_stats();
    assert_eq!((s.live_bytes, s.hole_bytes, s.tail_bytes), (8, 0, 1016));
    assert_eq!(s.fragmentation(), 0.0);
    drop(b);
    Ok(())
}

/// A token may be dropped after its arena: the arena leaves its region to
/// the outstanding tokens, which drop their values and free it.
#[test]
fn token_dropped_after_arena() -> Res {
    let drops = Ledger::new();
    make_guard!(guard);
    let (arena, state): (Arena<'_, 256>, _) = Arena::new(guard);
    let item = arena.alloc(&state, drops.track(1))?;
    let v = vec![arena.alloc(&state, drops.track(2))?];
    make_guard!(compact);
    let t = arena.tokenize(&compact, item);
    let tv = arena.tokenize_all(&compact, v);
    let _ = state;
    drop(arena);
    assert_eq!(drops.total(), 0);
    drop(t);
    assert_eq!(drops.total(), 1);
    drop(tv);
    assert_eq!(drops.total(), 2);
    Ok(())
}

#[test]
#[should_panic(expected = "another region")]
fn foreign_item_is_rejected() {
    make_guard!(g1);
    make_guard!(g2);
    let (a1, s1): (Arena<'_, 256>, _) = Arena::new(g1);
    let (a2, _s2): (Arena<'_, 256>, _) = Arena::new(g2);
    let item = a1.allocate::<u8>(&s1).unwrap();
    make_guard!(compact);
    let _t = a2.tokenize(&compact, item);
}

#[test]
#[should_panic(expected = "another region")]
fn foreign_item_in_a_value_is_rejected() {
    make_guard!(g1);
    make_guard!(g2);
    let (a1, s1): (Arena<'_, 256>, _) = Arena::new(g1);
    let (a2, s2): (Arena<'_, 256>, _) = Arena::new(g2);
    let v = vec![
        a2.allocate::<u8>(&s2).unwrap(),
        a1.allocate::<u8>(&s1).unwrap(),
    ];
    make_guard!(compact);
    let _t = a2.tokenize_all(&compact, v);
}

/// Items redeemed before compaction, and several compaction rounds.
#[test]
fn many_rounds() -> Res {
    make_guard!(guard);
    let (mut arena, mut state): (Arena<'_, 4096>, _) = Arena::new(guard);
    let mut values: Vec<u64> = Vec::new();
    let mut tokens_src: Vec<u64> = Vec::new();
    for round in 0..5u64 {
        let mut items = Vec::new();
        for &v in &values {
            items.push(arena.alloc(&state, v)?);
        }
        for i in 0..20 {
            let item = arena.alloc(&state, round * 100 + i)?;
            if i % 4 == 0 {
                items.push(item);
            }
        }
        make_guard!(compact);
        let t = arena.tokenize_all(&compact, items);
        let c = arena.compact(&compact, state);
        let items = t.redeem(&arena);
        state = arena.finish(compact, c);
        tokens_src = items.iter().map(|i| **i).collect();
        values = tokens_src.clone();
    }
    assert_eq!(tokens_src.len(), 25);
    Ok(())
}

/// A 64 MiB region lives on the heap (this would overflow a test thread's
/// stack otherwise) and is usable to its end.
#[test]
#[cfg_attr(miri, ignore = "64 MiB is slow to touch under Miri")]
fn large_region_is_on_the_heap() -> Res {
    make_guard!(guard);
    let (arena, state): (Arena<'_, { 64 << 20 }>, _) = Arena::new(guard);
    let big = arena.alloc_slice_fill(&state, (64 << 20) / 8, 7u64)?;
    assert_eq!(arena.available(), 0);
    assert_eq!((big[0], big[big.len() - 1]), (7, 7));
    Ok(())
}

/// A panicking constructor leaves a free block and nothing half-built.
#[test]
fn panicking_constructor() -> Res {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let a = arena.alloc(&state, 1u64)?;
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = arena.alloc_with(&state, || -> String { panic!("no value") });
    }));
    assert!(r.is_err());
    // Allocating from inside the constructor works too.
    let outer = arena.alloc_with(&state, || {
        let inner = arena.alloc(&state, 5u8).unwrap();
        u64::from(*inner) + 1
    })?;
    assert_eq!(*outer, 6);
    let s = arena.detailed_stats();
    assert_eq!(s.live_objects, 2);
    assert_eq!(
        s.hole_bytes,
        24 + 8,
        "the String's space and the dropped inner u8"
    );
    make_guard!(compact);
    let ta = arena.tokenize(&compact, a);
    let to = arena.tokenize(&compact, outer);
    let state = arena.compact(&compact, state);
    let (a, outer) = (ta(&arena), to(&arena));
    let _state = arena.finish(compact, state);
    assert_eq!((*a, *outer), (1, 6));
    assert_eq!(arena.detailed_stats().hole_bytes, 0);
    Ok(())
}

/// Over-alignment beyond what a block can describe is an error, not UB.
#[test]
fn absurd_alignment_and_sizes_are_errors() {
    #[repr(align(4096))]
    #[derive(Default)]
    struct Page(u8);
    // SAFETY: no references.
    unsafe impl Managed for Page {
        const HAS_REFS: bool = false;
        fn visit_refs<V: Visitor + ?Sized>(&mut self, _: &mut V) {}
    }
    make_guard!(guard);
    let (arena, state) = Arena::<'_, 0>::with_capacity(guard, 3 * 4096);
    let _first = arena.allocate::<u8>(&state).unwrap();
    let p = arena.allocate::<Page>(&state).unwrap();
    assert_eq!((p.as_ptr().addr() % 4096, p.0), (0, 0));
    assert!(matches!(
        arena.alloc_slice_fill(&state, usize::MAX / 4, 0u32),
        Err(AllocError::CapacityOverflow)
    ));
    assert!(matches!(
        arena.alloc_slice_fill(&state, 1 << 32, 0u64),
        Err(AllocError::CapacityOverflow)
    ));
}

/// Forgetting an item forgets its value (like forgetting a `Box`): the
/// arena's drop frees the memory without dropping it; the object stays live
/// through compactions meanwhile.
#[test]
fn forgotten_item_and_arena_drop() -> Res {
    let drops = Ledger::new();
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 512>, _) = Arena::new(guard);
    let g = arena.alloc(&state, 0u64)?;
    std::mem::forget(arena.alloc(&state, drops.track(1))?);
    let kept = arena.alloc(&state, drops.track(2))?;
    drop(g);
    make_guard!(compact);
    let t = arena.tokenize(&compact, kept);
    let state = arena.compact(&compact, state);
    let kept = t(&arena);
    let _state = arena.finish(compact, state);
    assert_eq!(arena.detailed_stats().live_objects, 2);
    assert_eq!(kept.id, 2);
    drop(kept);
    drop(arena);
    assert_eq!(drops.total(), 1, "only the item that was not forgotten");
    Ok(())
}

/// Over-aligned values of a given alignment, with a payload to check.
macro_rules! aligned {
    ($name:ident, $align:literal) => {
        #[repr(align($align))]
        #[derive(Debug, PartialEq)]
        struct $name(u64);

        // SAFETY: no references.
        unsafe impl Managed for $name {
            const HAS_REFS: bool = false;
            fn visit_refs<V: Visitor + ?Sized>(&mut self, _: &mut V) {}
        }

        // SAFETY: no lifetime.
        unsafe impl Rebrand for $name {
            type Branded<'b> = $name;
        }
    };
}

aligned!(A16, 16);
aligned!(A64, 64);
aligned!(A4096, 4096);

/// Objects aligned to 16, 64 and 4096 between garbage of every granule
/// count keep their alignment and values through several compactions, and
/// compaction leaves no hole and less padding than their alignments.
#[test]
fn over_aligned_16_64_4096_survive_compactions() -> Res {
    make_guard!(guard);
    let (mut arena, mut state) = Arena::<'_, 0>::with_capacity(guard, 64 << 10);
    let mut a16 = Vec::new();
    let mut a64 = Vec::new();
    let mut a4096 = Vec::new();
    let mut plain = Vec::new();
    let mut next = 0u64;
    for round in 0..4usize {
        let mut garbage = Vec::new();
        for i in 0..12usize {
            // Garbage of 1..=5 granules shifts what follows by every residue.
            let g = (i + round) % 5 + 1;
            garbage.push(arena.alloc_slice_fill(&state, g, 0u64)?);
            match (i + round) % 4 {
                0 => a16.push(arena.alloc(&state, A16(next))?),
                1 => a64.push(arena.alloc(&state, A64(next))?),
                2 if i % 3 == 0 => a4096.push(arena.alloc(&state, A4096(next))?),
                _ => plain.push(arena.alloc(&state, next)?),
            }
            next += 1;
        }
        // Drop some survivors too, over-aligned ones included.
        if round % 2 == 1 {
            a64.remove(0);
            a16.pop();
        }
        make_guard!(compact);
        let t = arena.tokenize_all(&compact, (a16, a64, a4096, plain));
        drop(garbage);
        let c = arena.compact(&compact, state);
        (a16, a64, a4096, plain) = t.redeem(&arena);
        state = arena.finish(compact, c);
        for x in &a16 {
            assert_eq!(x.as_ptr().addr() % 16, 0);
        }
        for x in &a64 {
            assert_eq!(x.as_ptr().addr() % 64, 0);
        }
        for x in &a4096 {
            assert_eq!(x.as_ptr().addr() % 4096, 0);
        }
        let mut values: Vec<u64> = a16.iter().map(|x| x.0).collect();
        values.extend(a64.iter().map(|x| x.0));
        values.extend(a4096.iter().map(|x| x.0));
        values.extend(plain.iter().map(|x| **x));
        values.sort_unstable();
        values.dedup();
        assert_eq!(
            values.len(),
            a16.len() + a64.len() + a4096.len() + plain.len()
        );
        let s = arena.detailed_stats();
        assert_eq!(s.hole_bytes, 0);
        assert!(s.padding_bytes < 16 * a16.len() + 64 * a64.len() + 4096 * a4096.len() + 1);
        assert_eq!(
            s.live_bytes,
            16 * a16.len() + 64 * a64.len() + 4096 * a4096.len() + 8 * plain.len()
        );
    }
    // Objects still sit in address order of allocation within each list.
    assert!(a16.windows(2).all(|w| w[0].as_ptr() < w[1].as_ptr()));
    assert!(a4096.windows(2).all(|w| w[0].as_ptr() < w[1].as_ptr()));
    Ok(())
}

/// Tokens made with a guard that no compaction consumes live through two
/// compactions (made before the first, redeemed after the second) and still
/// find their objects.
#[test]
fn tokens_survive_two_compactions() -> Res {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 4096>, _) = Arena::new(guard);
    let g1 = arena.allocate::<u64>(&state)?;
    let s1 = arena.alloc_shared(&state, [1u64; 3])?;
    let one = arena.alloc(&state, 11u64)?;
    let s2 = arena.alloc_shared(&state, A64(2))?;
    let many = vec![arena.alloc(&state, 21u32)?, arena.alloc(&state, 22u32)?];
    let big = arena.alloc(&state, A64(31))?;
    make_guard!(outer);
    let t_one = arena.tokenize(&outer, one);
    let t_many = arena.tokenize_all(&outer, many);
    let t_big = arena.tokenize(&outer, big);
    drop(g1);
    make_guard!(first);
    let c = arena.compact(&first, state);
    let state = arena.finish(first, c);
    let before = s2.get(&arena).map(|x| x as *const A64 as usize);
    // Objects below the tokens die between the compactions.
    assert_eq!(arena.remove(s1), Some([1; 3]));
    assert_eq!(arena.remove(s2).map(|x| x.0), Some(2));
    make_guard!(second);
    let c = arena.compact(&second, state);
    let one = t_one(&arena);
    let many = t_many.redeem(&arena);
    let big = t_big(&arena);
    let _state = arena.finish(second, c);
    assert_eq!((*one, *many[0], *many[1], big.0), (11, 21, 22, 31));
    assert_eq!(big.as_ptr().addr() % 64, 0);
    assert!(
        one.as_ptr().addr() < before.unwrap(),
        "moved in the second one too"
    );
    assert_eq!(arena.detailed_stats().hole_bytes, 0);
    assert_eq!(arena.detailed_stats().live_objects, 4);
    Ok(())
}

/// Single-item tokens held across many compaction rounds (made with a
/// guard no compaction consumes) while each round's tokens cycle through
/// the token table around them, which scans for free entries between the
/// held ones and grows: every token finds its object, in any redeem order,
/// and the tokens still held when the arena is dropped drop their values
/// after it. Every value is dropped exactly once.
#[test]
fn held_tokens_survive_rounds_of_cycling_tokens() -> Res {
    let (rounds, live) = if cfg!(miri) { (6, 40) } else { (60, 300) };
    let ledger = Ledger::new();
    let mut rng = SplitMix(7);
    let mut next_id = 0u32;
    make_guard!(outer);
    make_guard!(guard);
    // Declared before the arena (after its guard, whose brand the tokens
    // carry), so the tokens left at the end are dropped after it.
    let mut held = Vec::new();
    let (mut arena, mut state) = Arena::<'_, 0>::with_capacity(guard, 64 << 10);
    let mut items: Vec<Item<'_, Tracked>> = Vec::new();
    for _ in 0..rounds {
        while items.len() < live {
            items.push(arena.alloc(&state, ledger.track(next_id))?);
            next_id += 1;
        }
        for _ in 0..rng.below(4) {
            let item = items.swap_remove(rng.below(items.len()));
            let id = item.id;
            held.push((arena.tokenize(&outer, item), id));
        }
        make_guard!(compact);
        let ids: Vec<u32> = items.iter().map(|item| item.id).collect();
        let tokens: Vec<_> = items
            .into_iter()
            .map(|item| arena.tokenize(&compact, item))
            .collect();
        let c = arena.compact(&compact, state);
        let mut tokens: Vec<_> = tokens.into_iter().map(Some).collect();
        let mut back = Vec::new();
        // A random order (a random start and a stride coprime with the
        // count), one token in five dropped instead of redeemed.
        let n = tokens.len();
        let stride = (1..=n).rev().find(|s| gcd(*s, n) == 1).unwrap_or(1);
        let start = rng.below(n.max(1));
        for k in 0..n {
            let i = (start + k * stride) % n;
            let token = tokens[i].take().expect("each token once");
            if rng.below(5) == 0 {
                drop(token);
            } else {
                let item = token(&arena);
                assert_eq!(item.id, ids[i], "a round's token finds its object");
                back.push(item);
            }
        }
        for _ in 0..rng.below(3) {
            if held.is_empty() {
                break;
            }
            let (token, id) = held.swap_remove(rng.below(held.len()));
            if rng.below(2) == 0 {
                drop(token);
            } else {
                let item = token(&arena);
                assert_eq!(item.id, id, "a held token finds its object");
                back.push(item);
            }
        }
        drop(tokens);
        state = arena.finish(compact, c);
        items = back;
    }
    assert!(!held.is_empty(), "the program ends with tokens held");
    let held_ids: Vec<u32> = held.iter().map(|(_, id)| *id).collect();
    drop(items);
    drop(arena);
    for &id in &held_ids {
        assert_eq!(ledger.drops(id), 0, "a held token keeps value {id}");
    }
    drop(held);
    for id in 0..next_id {
        assert_eq!(ledger.drops(id), 1, "value {id} dropped once");
    }
    Ok(())
}

/// The greatest common divisor.
fn gcd(a: usize, b: usize) -> usize {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// An object in the region holding items of over-aligned objects.
struct Holder<'a> {
    big: Vec<Item<'a, A64>>,
    page: Item<'a, A4096>,
    small: Item<'a, A16>,
}

// SAFETY: visits every item.
unsafe impl Managed for Holder<'_> {
    const HAS_REFS: bool = true;
    fn visit_refs<V: Visitor + ?Sized>(&mut self, v: &mut V) {
        self.big.visit_refs(v);
        self.page.visit_refs(v);
        self.small.visit_refs(v);
    }
}

// SAFETY: `'a` is only the lifetime of the items.
unsafe impl<'a> Rebrand for Holder<'a> {
    type Branded<'b> = Holder<'b>;
}

/// References held inside the region to over-aligned objects (whose words
/// take the formula's slow path) are rewritten to their aligned new places.
#[test]
fn inner_references_to_over_aligned_objects() -> Res {
    make_guard!(guard);
    let (mut arena, state) = Arena::<'_, 0>::with_capacity(guard, 32 << 10);
    let mut garbage = Vec::new();
    let mut big = Vec::new();
    for i in 0..6u64 {
        garbage.push(arena.alloc_slice_fill(&state, 1 + i as usize % 3, 0u8)?);
        big.push(arena.alloc(&state, A64(i))?);
    }
    garbage.push(arena.alloc_slice_fill(&state, 1, 0u8)?);
    let page = arena.alloc(&state, A4096(7))?;
    garbage.push(arena.alloc_slice_fill(&state, 1, 0u8)?);
    let small = arena.alloc(&state, A16(8))?;
    let holder = arena
        .alloc(&state, Holder { big, page, small })
        .map_err(AllocError::from)?;
    make_guard!(compact);
    let t = arena.tokenize_all(&compact, holder);
    drop(garbage);
    let c = arena.compact(&compact, state);
    let holder = t.redeem(&arena);
    let _state = arena.finish(compact, c);
    assert_eq!(
        holder.big.iter().map(|b| b.0).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5]
    );
    assert!(holder.big.iter().all(|b| b.as_ptr().addr() % 64 == 0));
    assert_eq!((holder.page.0, holder.page.as_ptr().addr() % 4096), (7, 0));
    assert_eq!((holder.small.0, holder.small.as_ptr().addr() % 16), (8, 0));
    let s = arena.detailed_stats();
    assert_eq!((s.live_objects, s.hole_bytes), (9, 0));
    Ok(())
}

/// A whole struct tokenized into a closure token, called with the arena.
#[test]
fn whole_struct_boxed_token() -> Res {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 2048>, _) = Arena::new(guard);
    let g = arena.allocate::<[u64; 2]>(&state)?;
    let inner = Inner {
        items: (arena.alloc(&state, 5)?, arena.alloc(&state, 6)?),
    };
    let before = inner.items.0.as_ptr().addr();
    make_guard!(compact);
    let token = arena.tokenize_boxed(&compact, inner);
    drop(g);
    let state = arena.compact(&compact, state);
    let inner = token(&arena);
    let _state = arena.finish(compact, state);
    assert_eq!((*inner.items.0, *inner.items.1), (5, 6));
    assert!(inner.items.0.as_ptr().addr() < before);
    Ok(())
}

/// A zero-sized value that counts its drops.
struct Noted;

thread_local! {
    static NOTED_DROPS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl Drop for Noted {
    fn drop(&mut self) {
        NOTED_DROPS.with(|d| d.set(d.get() + 1));
    }
}

// SAFETY: no references.
unsafe impl Managed for Noted {
    const HAS_REFS: bool = false;
    fn visit_refs<V: Visitor + ?Sized>(&mut self, _: &mut V) {}
}

/// Tokens of zero-sized values (which take no region memory) beside
/// tokens of sized ones: redeemed, dropped, and dropped after the arena;
/// each value dropped once.
#[test]
fn zero_sized_tokens() -> Res {
    let drops = || NOTED_DROPS.with(std::cell::Cell::get);
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let garbage = arena.allocate::<u64>(&state)?;
    let (z1, z2, z3) = (
        arena.alloc(&state, Noted)?,
        arena.alloc(&state, Noted)?,
        arena.alloc(&state, Noted)?,
    );
    let x = arena.alloc(&state, 5u32)?;
    let empty = arena.alloc_slice::<u64>(&state, &[])?;
    let units = arena.alloc_slice_fill(&state, 3, ())?;
    make_guard!(compact);
    let (t1, t2, t3) = (
        arena.tokenize(&compact, z1),
        arena.tokenize(&compact, z2),
        arena.tokenize(&compact, z3),
    );
    let (tx, te, tu) = (
        arena.tokenize(&compact, x),
        arena.tokenize(&compact, empty),
        arena.tokenize(&compact, units),
    );
    drop(garbage);
    let state = arena.compact(&compact, state);
    drop(t2);
    assert_eq!(drops(), 1, "a dropped token drops its zero-sized value");
    let (z1, x, empty, units) = (t1(&arena), tx(&arena), te(&arena), tu(&arena));
    drop(t3);
    assert_eq!(drops(), 2);
    let state = arena.finish(compact, state);
    assert_eq!((*x, empty.len(), units.len()), (5, 0, 3));
    assert_eq!(x.as_ptr().addr() % 4, 0);
    drop(z1);
    assert_eq!(drops(), 3);
    assert_eq!(arena.detailed_stats().live_objects, 1);
    make_guard!(late);
    let tz = arena.tokenize(&late, arena.alloc(&state, Noted)?);
    let tx = arena.tokenize(&late, x);
    drop((empty, units, state));
    drop(arena);
    drop(tz);
    assert_eq!(drops(), 4, "dropped after its arena");
    drop(tx);
    Ok(())
}

/// A single-item token is one word for a sized value (a `Vec` of tokens
/// takes no more room than the items it was made from), two for a slice.
#[test]
fn single_item_tokens_are_one_word() -> Res {
    make_guard!(guard);
    let (arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let x = arena.alloc(&state, 1u64)?;
    let s = arena.alloc_slice(&state, &[1u8, 2, 3])?;
    let z = arena.alloc(&state, ())?;
    make_guard!(compact);
    let (tx, ts, tz) = (
        arena.tokenize(&compact, x),
        arena.tokenize(&compact, s),
        arena.tokenize(&compact, z),
    );
    assert_eq!(size_of_val(&tx), size_of::<usize>());
    assert_eq!(size_of_val(&ts), 2 * size_of::<usize>());
    assert_eq!(size_of_val(&tz), size_of::<usize>());
    let (x, s, z) = (tx(&arena), ts(&arena), tz(&arena));
    assert_eq!((*x, &*s, *z), (1, &[1u8, 2, 3][..], ()));
    Ok(())
}

/// A value that owns its own arena (through an `Rc`), and a value dropped
/// after it.
struct Owner<'id> {
    _arena: Rc<RefCell<Option<Arena<'id, 256>>>>,
    _after: Tracked,
}

// SAFETY: no region references.
unsafe impl Managed for Owner<'_> {
    const HAS_REFS: bool = false;
    fn visit_refs<V: Visitor + ?Sized>(&mut self, _: &mut V) {}
}

/// Single-item tokens dropped before and after their arena, one of them
/// with a value whose destructor drops the arena: the block outlives every
/// token's value, and the last token frees it (Miri checks both the use
/// and the leak).
#[test]
fn tokens_outlive_their_arena_even_when_their_value_drops_it() -> Res {
    for owner_last in [false, true] {
        let drops = Ledger::new();
        make_guard!(guard);
        let (arena, state): (Arena<'_, 256>, _) = Arena::new(guard);
        let cell = Rc::new(RefCell::new(Some(arena)));
        make_guard!(compact);
        let (t_owner, t_one, t_two, t_kept) = {
            let a = cell.borrow();
            let arena = a.as_ref().ok_or("the arena")?;
            let owner = Owner {
                _arena: Rc::clone(&cell),
                _after: drops.track(3),
            };
            let owner = arena.alloc(&state, owner).map_err(|_| "full")?;
            let one = arena.alloc(&state, drops.track(1))?;
            let two = arena.alloc(&state, drops.track(2))?;
            let kept = arena.alloc(&state, 4u64)?;
            (
                arena.tokenize(&compact, owner),
                arena.tokenize(&compact, one),
                arena.tokenize(&compact, two),
                arena.tokenize(&compact, kept),
            )
        };
        let kept = {
            let a = cell.borrow();
            let arena = a.as_ref().ok_or("the arena")?;
            *t_kept(arena)
        };
        assert_eq!(kept, 4);
        drop((state, cell));
        drop(t_one);
        assert_eq!(drops.total(), 1, "dropped while the arena lives");
        if owner_last {
            drop(t_two);
            drop(t_owner);
        } else {
            drop(t_owner);
            assert_eq!(drops.total(), 2, "the owner's value");
            drop(t_two);
        }
        assert_eq!(drops.total(), 3);
    }
    Ok(())
}

/// `compact_in_place` compacts a region whose objects are shared, keeping
/// the state: the objects move down, every `Forward` (in a set, a sorted
/// map and a list) still reaches its object, and the region can allocate
/// right after with the same state.
#[test]
fn compact_in_place_keeps_the_state_and_moves_shared_objects() -> Res {
    use std::collections::{BTreeMap, HashSet};
    make_guard!(guard);
    let (mut arena, mut state) = Arena::<0>::with_capacity(guard, 4096);
    let mut kept = Vec::new();
    for i in 0..40u64 {
        let object = arena.alloc_shared(&state, [i; 3])?;
        if i % 3 == 0 {
            kept.push(object);
        } else {
            assert_eq!(arena.remove(object), Some([i; 3]));
        }
    }
    let set: HashSet<Forward<'_, [u64; 3]>> = kept.iter().copied().collect();
    let sorted: BTreeMap<Forward<'_, [u64; 3]>, u64> =
        kept.iter().map(|&f| (f, arena[f][0])).collect();
    let last = *kept.last().unwrap();
    let before = std::ptr::from_ref(&arena[last]).addr();
    let holes = arena.detailed_stats().hole_bytes;
    assert!(holes > 0);
    arena.compact_in_place(&mut state);
    let stats = arena.detailed_stats();
    assert_eq!((stats.hole_bytes, stats.live_objects), (0, kept.len()));
    assert!(
        std::ptr::from_ref(&arena[last]).addr() < before,
        "moved down"
    );
    for (&forward, &value) in &sorted {
        assert!(set.contains(&forward));
        assert_eq!(arena[forward], [value; 3]);
    }
    // The same state allocates at once, above the compacted objects.
    let next = arena.alloc(&state, 7u64)?;
    assert!(next.as_ptr().addr() > std::ptr::from_ref(&arena[last]).addr());
    drop(next);
    // Writing through `IndexMut` reaches the moved object.
    arena[last][1] = 99;
    assert_eq!(arena.get(last), Some(&[39, 99, 39]));
    Ok(())
}

/// A token made with a guard before `compact_in_place` follows its object
/// through it and through the guarded compaction after it.
#[test]
fn compact_in_place_between_tokenize_and_redeem() -> Res {
    make_guard!(guard);
    let (mut arena, mut state): (Arena<'_, 2048>, _) = Arena::new(guard);
    let garbage = arena.alloc(&state, [0u64; 8])?;
    let item = arena.alloc(&state, 5u64)?;
    let shared = arena.alloc_shared(&state, String::from("kept"))?;
    make_guard!(compact);
    let token = arena.tokenize(&compact, item);
    drop(garbage);
    arena.compact_in_place(&mut state);
    assert_eq!(arena.detailed_stats().hole_bytes, 0);
    let c = arena.compact(&compact, state);
    let item = token(&arena);
    assert_eq!(*item, 5);
    assert_eq!(arena[shared], "kept");
    drop(item);
    let _state = arena.finish(compact, c);
    Ok(())
}

/// Indexing with a `Forward` to a removed object panics, naming the cause;
/// `get` says `None`. A `Forward` to a new object in the reused cell
/// differs from the old one, and orders apart from it.
#[test]
fn index_of_a_removed_object_panics() -> Res {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let gone = arena.alloc_shared(&state, 1u32)?;
    assert_eq!(arena.remove(gone), Some(1));
    let reused = arena.alloc_shared(&state, 2u32)?;
    assert_ne!(gone, reused);
    assert!(gone < reused || reused < gone);
    assert_eq!(arena.get(gone), None);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| arena[gone]));
    let message = *caught.unwrap_err().downcast::<String>().unwrap();
    assert!(message.contains("removed"), "{message}");
    assert!(
        message.contains("Forward<u32>") && message.contains("cell: 0"),
        "{message}"
    );
    assert_eq!(arena[reused], 2);
    Ok(())
}

/// Shared slices grow (in place within their granules, else moved) and
/// shrink (in place) while copies of their `Forward`s, kept in a map and
/// in another shared slice, keep reaching them, through compactions; a
/// slice too large for the region is refused with nothing changed.
#[test]
fn shared_slices_grow_shrink_and_move_under_every_forward() -> Res {
    use std::collections::HashMap;
    make_guard!(guard);
    let (mut arena, mut state) = Arena::<0>::with_capacity(guard, 8192);
    let rounds = if cfg!(miri) { 20 } else { 200 };
    let mut rng = SplitMix(11);
    let mut lines: Vec<Forward<'_, [u32]>> = Vec::new();
    let mut model: HashMap<Forward<'_, [u32]>, Vec<u32>> = HashMap::new();
    for i in 0..8u32 {
        let line = arena.alloc_shared_slice(&state, &[i; 3])?;
        lines.push(line);
        model.insert(line, vec![i; 3]);
    }
    // An index of the lines, itself a shared slice of `Forward`s.
    let index = arena.alloc_shared_slice(&state, &lines)?;
    let mut moved = 0;
    for round in 0..rounds {
        let line = lines[rng.below(lines.len())];
        let len = rng.below(24);
        let before = arena[line].as_ptr().addr();
        arena.resize_shared(&state, line, len, round)?;
        let entry = model.get_mut(&line).unwrap();
        entry.resize(len, round);
        if len > 0 && arena[line].as_ptr().addr() != before {
            moved += 1;
        }
        if let Some(last) = arena[line].last_mut() {
            *last += 1;
            *entry.last_mut().unwrap() += 1;
        }
        if arena.detailed_stats().hole_bytes > 2048 {
            arena.compact_in_place(&mut state);
            assert_eq!(arena.detailed_stats().hole_bytes, 0);
        }
        for (&line, expected) in &model {
            assert_eq!(arena[line], expected[..], "round {round}");
        }
        assert_eq!(arena[index], lines[..]);
    }
    assert!(moved > 0, "some resizes moved their slice");
    // Too large: refused, the slice unchanged.
    let line = lines[0];
    let was = arena[line].to_vec();
    assert!(matches!(
        arena.resize_shared(&state, line, 1 << 20, 0),
        Err(AllocError::Full { .. })
    ));
    assert_eq!(arena[line], was[..]);
    // Removing frees the slice for good, whatever copies remain.
    assert!(arena.remove_slice(line));
    assert_eq!(arena.get(line), None);
    assert!(!arena.remove_slice(line));
    assert_eq!(arena.detailed_stats().live_objects, lines.len());
    // `remove` hands a slice's elements back, and frees it as `remove_slice`.
    let other = lines[1];
    let elements = arena[other].to_vec();
    let live = arena.detailed_stats().live_bytes;
    assert_eq!(arena.remove(other), Some(elements));
    assert_eq!(arena.get(other), None);
    assert_eq!(arena.remove(other), None);
    assert!(!arena.remove_slice(other));
    assert!(arena.detailed_stats().live_bytes < live);
    assert_eq!(arena.detailed_stats().live_objects, lines.len() - 1);
    Ok(())
}

/// `get_disjoint_mut` hands out shared objects of any kind at once,
/// refusing a removed one and the same object twice; `splice_shared`
/// refuses a range outside the slice before changing anything.
#[test]
fn disjoint_shared_objects_and_splice_bounds() -> Res {
    make_guard!(guard);
    let (mut arena, state) = Arena::<0>::with_capacity(guard, 4096);
    let a = arena.alloc_shared(&state, [1u64; 4])?;
    let b = arena.alloc_shared(&state, [2u64; 4])?;
    let gone = arena.alloc_shared(&state, [3u64; 4])?;
    arena.remove(gone);
    let [x, y] = arena.get_disjoint_mut([a, b]).unwrap();
    std::mem::swap(x, y);
    assert_eq!((arena[a][0], arena[b][0]), (2, 1));
    assert!(arena.get_disjoint_mut([a, gone]).is_none());
    assert!(arena.get_disjoint_mut([b, a, b]).is_none());
    assert_eq!(
        arena.get_disjoint_mut::<[u64; 4], 0>([]).map(|r| r.len()),
        Some(0)
    );

    let line = arena.alloc_shared_slice(&state, b"abc")?;
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        arena.splice_shared(&state, line, 2..5, b"x")
    }));
    assert!(crate::common::panic_message(refused).contains("out of bounds"));
    assert_eq!(&arena[line], b"abc");
    Ok(())
}

#[test]
fn pushing_onto_a_shared_slice_takes_amortized_constant_time_and_room() {
    let n: u64 = if cfg!(miri) { 300 } else { 20_000 };
    make_guard!(guard);
    let (mut arena, state) = Arena::<0>::with_capacity(guard, 4 << 20);
    // At the top, the slice grows in place: no hole at all.
    let top = arena.alloc_shared_slice(&state, &[0u64; 0]).unwrap();
    for i in 0..n {
        arena.push_shared(&state, top, i).unwrap();
    }
    assert!(arena[top].iter().copied().eq(0..n));
    assert_eq!(
        arena.detailed_stats().hole_bytes,
        0,
        "grew in place at the top"
    );
    // Below another object, it moves with room to double into: a
    // logarithmic number of moves, whose old places add up to less than
    // what it holds now.
    let below = arena.alloc_shared_slice(&state, &[0u64; 0]).unwrap();
    let mut moves = 0;
    for i in 0..n {
        let before = arena[below].as_ptr();
        arena.push_shared(&state, below, i).unwrap();
        let _after_it = arena.alloc_shared(&state, i).unwrap(); // keeps it off the top
        moves += usize::from(arena[below].as_ptr() != before);
    }
    assert!(arena[below].iter().copied().eq(0..n));
    assert!(
        moves <= 2 + (n as f64).log2() as usize,
        "{moves} moves for {n} pushes"
    );
    // The holes: the old places (a geometric series below what it holds
    // now) and the room still ahead of it (less than what it holds).
    let holes = arena.detailed_stats().hole_bytes;
    assert!(
        holes <= 4 * 8 * n as usize + 64,
        "{holes} bytes of holes for {n} pushes"
    );
    // What a pop gives up, the next push takes back in place.
    let at = arena[below].as_ptr();
    for _ in 0..3 {
        assert_eq!(arena.pop_shared(below), Some(n - 1));
        arena.push_shared(&state, below, n - 1).unwrap();
        assert_eq!(arena[below].as_ptr(), at, "grew back in place");
    }
    // A compaction reclaims every room: the holes are gone, and the
    // slice's next growth moves it (with fresh room).
    let mut state = state;
    arena.compact_in_place(&mut state);
    assert_eq!(arena.detailed_stats().hole_bytes, 0);
    let at = arena[below].as_ptr();
    arena.push_shared(&state, below, n).unwrap();
    assert_ne!(arena[below].as_ptr(), at, "no room after a compaction");
    assert!(arena[below].iter().copied().eq(0..=n));
    arena.truncate_shared(below, 1);
    assert_eq!(&arena[below], &[0]);
}

#[test]
fn split_mut_lends_one_object_and_reaches_the_others_one_at_a_time() {
    #[derive(Managed)]
    struct Block<'id> {
        label: String,
        insts: Forward<'id, [Forward<'id, u64>]>,
    }
    make_guard!(guard);
    let (mut arena, state) = Arena::<0>::with_capacity(guard, 1 << 16);
    let insts: Vec<_> = (0..5u64)
        .map(|i| arena.alloc_shared(&state, i).unwrap())
        .collect();
    let list = arena.alloc_shared_slice(&state, &insts).unwrap();
    let block = arena
        .alloc_shared(
            &state,
            Block {
                label: "entry".into(),
                insts: list,
            },
        )
        .unwrap();
    let gone = arena.alloc_shared(&state, 99u64).unwrap();
    arena.remove(gone);
    {
        // The block is written while the list and the instructions are
        // reached through `Others`, of other types, by a helper that names
        // the view by its prelude name.
        fn scale<'id>(
            others: &mut ArenaOthers<'_, 'id, 0>,
            list: Forward<'id, [Forward<'id, u64>]>,
        ) {
            let count = others[list].len();
            for i in 0..count {
                let inst = others[list][i];
                others[inst] *= 10;
            }
        }
        let (b, mut others) = arena.split_mut(block);
        b.label.push_str(":visited");
        scale(&mut others, b.insts);
        assert!(others.get(block).is_none(), "the lent object");
        assert!(others.get_mut(gone).is_none(), "a removed object");
        let lent =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| others[block].label.len()));
        assert!(lent.is_err());
    }
    assert_eq!(arena[block].label, "entry:visited");
    assert!(insts.iter().map(|&f| arena[f]).eq((0..5).map(|i| i * 10)));
    // A list walked while the objects it names are written, and new
    // objects made beside them.
    let (names, mut others) = arena.split_mut(list);
    let mut made = Vec::new();
    for &inst in names.iter() {
        others[inst] += 1;
        let copy = others.alloc_shared(&state, others[inst] + 100).unwrap();
        others[copy] += 1;
        made.push(copy);
    }
    let copies = others.alloc_shared_slice(&state, &made).unwrap();
    let copied: Vec<u64> = arena[copies].iter().map(|&f| arena[f]).collect();
    assert_eq!(copied, [102, 112, 122, 132, 142]);
    assert!(
        insts
            .iter()
            .map(|&f| arena[f])
            .eq((0..5).map(|i| i * 10 + 1))
    );
    // Several others at once: neighbours written together, refusing the
    // lent object, a removed one and one named twice.
    let (names, mut others) = arena.split_mut(list);
    for pair in names.windows(2) {
        let [left, right] = others.get_disjoint_mut([pair[0], pair[1]]).unwrap();
        *right += *left;
    }
    let first = names[0];
    assert!(others.get_disjoint_mut([first, first]).is_none());
    assert!(others.get_disjoint_mut([first, gone]).is_none());
    assert!(others.get_disjoint_mut([list]).is_none(), "the lent list");
    assert_eq!(others.get_disjoint_mut::<u64, 0>([]), Some([]));
    // Running sums of 1, 11, 21, 31, 41.
    assert_eq!(
        insts.iter().map(|&f| arena[f]).collect::<Vec<_>>(),
        [1, 12, 33, 64, 105]
    );
}
