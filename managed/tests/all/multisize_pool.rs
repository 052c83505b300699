//! Property and drop-accounting tests of `MultisizePool` against a
//! `HashMap` model, with zero-sized, small, over-aligned, page-sized and
//! beyond-page-aligned values, and raw blocks of random layouts.

use core::alloc::Layout;
use core::mem::MaybeUninit;
use managed::prelude::*;
use proptest::prelude::*;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::common::{Token, live};

struct Zst(Token);
struct Small(u8, Token);
struct Mid([u64; 30], Token);
#[repr(align(64))]
struct Al64(u64, Token);
struct Page([u64; 512], Token);
#[repr(align(8192))]
struct Al8k(u64, Token);

/// A key of any of the test types.
#[derive(Debug, Clone, Copy)]
enum AnyKey {
    Zst(MultisizeKey<Zst>),
    Small(MultisizeKey<Small>),
    Mid(MultisizeKey<Mid>),
    Al64(MultisizeKey<Al64>),
    Page(MultisizeKey<Page>),
    Al8k(MultisizeKey<Al8k>),
}

fn insert(pool: &mut MultisizePool, kind: u8, tag: u64) -> (AnyKey, u64) {
    match kind % 6 {
        0 => (AnyKey::Zst(pool.insert(Zst(Token::new()))), 0),
        1 => (
            AnyKey::Small(pool.insert(Small(tag as u8, Token::new()))),
            tag as u8 as u64,
        ),
        2 => (AnyKey::Mid(pool.insert(Mid([tag; 30], Token::new()))), tag),
        3 => (AnyKey::Al64(pool.insert(Al64(tag, Token::new()))), tag),
        4 => (
            AnyKey::Page(pool.insert(Page([tag; 512], Token::new()))),
            tag,
        ),
        _ => (AnyKey::Al8k(pool.insert(Al8k(tag, Token::new()))), tag),
    }
}

fn get(pool: &MultisizePool, key: AnyKey) -> Option<u64> {
    match key {
        AnyKey::Zst(k) => pool.get(k).map(|_| 0),
        AnyKey::Small(k) => pool.get(k).map(|v| v.0 as u64),
        AnyKey::Mid(k) => pool.get(k).map(|v| {
            assert!(v.0.iter().all(|&w| w == v.0[0]), "torn");
            v.0[0]
        }),
        AnyKey::Al64(k) => pool.get(k).map(|v| {
            assert_eq!((v as *const Al64).addr() % 64, 0);
            v.0
        }),
        AnyKey::Page(k) => pool.get(k).map(|v| v.0[511]),
        AnyKey::Al8k(k) => pool.get(k).map(|v| {
            assert_eq!((v as *const Al8k).addr() % 8192, 0);
            v.0
        }),
    }
}

fn address(pool: &MultisizePool, key: AnyKey) -> Option<usize> {
    match key {
        AnyKey::Zst(k) => pool.get(k).map(|v| (v as *const Zst).addr()),
        AnyKey::Small(k) => pool.get(k).map(|v| (v as *const Small).addr()),
        AnyKey::Mid(k) => pool.get(k).map(|v| (v as *const Mid).addr()),
        AnyKey::Al64(k) => pool.get(k).map(|v| (v as *const Al64).addr()),
        AnyKey::Page(k) => pool.get(k).map(|v| (v as *const Page).addr()),
        AnyKey::Al8k(k) => pool.get(k).map(|v| (v as *const Al8k).addr()),
    }
}

fn remove(pool: &mut MultisizePool, key: AnyKey) -> Option<u64> {
    match key {
        AnyKey::Zst(k) => pool.remove(k).map(|_| 0),
        AnyKey::Small(k) => pool.remove(k).map(|v| v.0 as u64),
        AnyKey::Mid(k) => pool.remove(k).map(|v| v.0[29]),
        AnyKey::Al64(k) => pool.remove(k).map(|v| v.0),
        AnyKey::Page(k) => pool.remove(k).map(|v| v.0[0]),
        AnyKey::Al8k(k) => pool.remove(k).map(|v| v.0),
    }
}

/// The bytes a value of `key`'s type takes.
fn size(key: AnyKey) -> usize {
    match key {
        AnyKey::Zst(_) => size_of::<Zst>(),
        AnyKey::Small(_) => size_of::<Small>(),
        AnyKey::Mid(_) => size_of::<Mid>(),
        AnyKey::Al64(_) => size_of::<Al64>(),
        AnyKey::Page(_) => size_of::<Page>(),
        AnyKey::Al8k(_) => size_of::<Al8k>(),
    }
}

fn remove_and_drop(pool: &mut MultisizePool, key: AnyKey) -> bool {
    match key {
        AnyKey::Zst(k) => pool.remove(k).is_some(),
        AnyKey::Small(k) => pool.remove(k).is_some(),
        AnyKey::Mid(k) => pool.remove(k).is_some(),
        AnyKey::Al64(k) => pool.remove(k).is_some(),
        AnyKey::Page(k) => pool.remove(k).is_some(),
        AnyKey::Al8k(k) => pool.remove(k).is_some(),
    }
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u8, u64),
    Remove(usize),
    RemoveDrop(usize),
    Get(usize),
    /// A raw block of this layout, filled with the byte.
    AllocLayout(Layout, u8),
    /// Refill a raw block (by index) through `bytes_mut`.
    Write(usize, u8),
    /// Check a raw block's bytes.
    Read(usize),
    Dealloc(usize),
    Shrink,
    Clear,
}

/// Layouts of every storage: zero-sized, small, class-sized, over-aligned
/// up to 4096, and large up to 8 KiB.
fn layout() -> impl Strategy<Value = Layout> {
    let size = prop_oneof![
        1 => Just(0usize),
        4 => 1usize..=64,
        3 => 65usize..=2048,
        1 => 2049usize..=if cfg!(miri) { 4096 } else { 8192 },
    ];
    (size, 0u32..=12).prop_map(|(size, shift)| Layout::from_size_align(size, 1 << shift).unwrap())
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (any::<u8>(), any::<u64>()).prop_map(|(k, t)| Op::Insert(k, t)),
        3 => any::<usize>().prop_map(Op::Remove),
        2 => any::<usize>().prop_map(Op::RemoveDrop),
        3 => any::<usize>().prop_map(Op::Get),
        5 => (layout(), any::<u8>()).prop_map(|(l, b)| Op::AllocLayout(l, b)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Op::Write(i, b)),
        3 => any::<usize>().prop_map(Op::Read),
        3 => any::<usize>().prop_map(Op::Dealloc),
        1 => Just(Op::Shrink),
        1 => Just(Op::Clear).prop_filter("rare", |_| true),
    ]
}

/// Whether `bytes` are all `fill` (every byte of small blocks; a sample of
/// large ones, ends included).
fn filled_with(bytes: &[MaybeUninit<u8>], fill: u8) -> bool {
    let step = if bytes.len() > 256 { 61 } else { 1 };
    let sample = (0..bytes.len())
        .step_by(step)
        .chain(bytes.len().checked_sub(1));
    // SAFETY: every byte of a block is written when it is allocated.
    sample
        .into_iter()
        .all(|i| unsafe { bytes[i].assume_init() } == fill)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if cfg!(miri) { 2 } else { 1000 },
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn pool_matches_a_hashmap(ops in proptest::collection::vec(op(), if cfg!(miri) { 1..40 } else { 1..200 })) {
        let mut pool = MultisizePool::new();
        // Every key ever handed out, with its value while live.
        let mut keys: Vec<(AnyKey, Option<u64>)> = Vec::new();
        let mut addresses: HashMap<usize, usize> = HashMap::new();
        // Raw blocks not yet handed back, with their fill byte while live
        // (`None` once `clear` freed them).
        let mut blocks: Vec<(MultisizeBlock, Option<u8>)> = Vec::new();
        let mut other = MultisizePool::new();
        let foreign = other.alloc_layout(Layout::new::<u64>());
        for op in ops {
            match op {
                Op::Insert(kind, tag) => {
                    let (key, tag) = insert(&mut pool, kind, tag);
                    addresses.insert(keys.len(), address(&pool, key).unwrap());
                    keys.push((key, Some(tag)));
                }
                Op::Remove(i) if !keys.is_empty() => {
                    let i = i % keys.len();
                    prop_assert_eq!(remove(&mut pool, keys[i].0), keys[i].1.take());
                }
                Op::RemoveDrop(i) if !keys.is_empty() => {
                    let i = i % keys.len();
                    prop_assert_eq!(remove_and_drop(&mut pool, keys[i].0), keys[i].1.take().is_some());
                }
                Op::Get(i) if !keys.is_empty() => {
                    let i = i % keys.len();
                    prop_assert_eq!(get(&pool, keys[i].0), keys[i].1);
                }
                Op::AllocLayout(layout, fill) => {
                    let block = pool.alloc_layout(layout);
                    prop_assert_eq!(block.layout(), layout);
                    prop_assert_eq!(block.as_ptr().as_ptr().addr() % layout.align(), 0);
                    let bytes = pool.bytes_mut(&block).unwrap();
                    prop_assert_eq!(bytes.len(), layout.size());
                    bytes.fill(MaybeUninit::new(fill));
                    blocks.push((block, Some(fill)));
                }
                Op::Write(i, fill) if !blocks.is_empty() => {
                    let i = i % blocks.len();
                    let (block, model) = &mut blocks[i];
                    match pool.bytes_mut(block) {
                        Some(bytes) => {
                            prop_assert!(model.is_some());
                            bytes.fill(MaybeUninit::new(fill));
                            *model = Some(fill);
                        }
                        None => prop_assert!(model.is_none()),
                    }
                }
                Op::Read(i) if !blocks.is_empty() => {
                    let (block, model) = &blocks[i % blocks.len()];
                    match (pool.bytes(block), model) {
                        (Some(bytes), Some(fill)) => {
                            prop_assert!(filled_with(bytes, *fill), "block contents changed");
                            if let Some(last) = block.layout().size().checked_sub(1) {
                                // SAFETY: the block is live, its bytes written.
                                let byte = unsafe { block.as_ptr().add(last).read() };
                                prop_assert_eq!(byte, *fill);
                            }
                        }
                        (None, None) => {}
                        (bytes, model) => prop_assert!(false, "{:?} vs {:?}", bytes.map(<[_]>::len), model),
                    }
                }
                Op::Dealloc(i) if !blocks.is_empty() => {
                    let (block, model) = blocks.swap_remove(i % blocks.len());
                    prop_assert_eq!(pool.dealloc(block), model.is_some());
                }
                Op::Shrink => pool.shrink_to_fit(),
                Op::Clear => {
                    pool.clear();
                    for (_, v) in &mut keys {
                        *v = None;
                    }
                    for (_, fill) in &mut blocks {
                        *fill = None;
                    }
                }
                _ => {}
            }
            let live_keys = keys.iter().filter(|(_, v)| v.is_some()).count();
            let live_blocks = blocks.iter().filter(|(_, v)| v.is_some()).count();
            prop_assert_eq!(pool.len(), live_keys + live_blocks);
            prop_assert_eq!(live() as usize, live_keys);
            let stats = pool.stats();
            let live_bytes = keys.iter().filter(|(_, v)| v.is_some()).map(|(k, _)| size(*k)).sum::<usize>()
                + blocks.iter().filter(|(_, v)| v.is_some()).map(|(b, _)| b.layout().size()).sum::<usize>();
            prop_assert_eq!(stats.live_bytes, live_bytes);
            prop_assert!(stats.live_bytes <= stats.reserved_bytes);
            prop_assert!(pool.bytes(&foreign).is_none());
        }
        // Every live block kept its contents and its address.
        for (block, fill) in &blocks {
            match (pool.bytes(block), fill) {
                (Some(bytes), Some(fill)) => {
                    prop_assert!(filled_with(bytes, *fill));
                    prop_assert_eq!(bytes.as_ptr().cast::<u8>(), block.as_ptr().as_ptr().cast_const());
                }
                (None, None) => {}
                _ => prop_assert!(false, "a block's liveness differs from the model"),
            }
        }
        prop_assert!(!pool.dealloc(foreign));
        // Values never moved; stale keys stay stale.
        for (i, (key, value)) in keys.iter().enumerate() {
            prop_assert_eq!(get(&pool, *key), *value);
            if value.is_some() {
                prop_assert_eq!(address(&pool, *key), Some(addresses[&i]));
            }
        }
        drop(pool);
        prop_assert_eq!(live(), 0);
    }
}

#[test]
fn foreign_and_stale_keys_are_caught() {
    let mut a = MultisizePool::new();
    let mut b = MultisizePool::new();
    let ka = a.insert(Small(1, Token::new()));
    let kb = b.insert(Small(2, Token::new()));
    assert!(b.get(ka).is_none(), "a key of another pool");
    assert!(a.remove(kb).is_none());
    assert_eq!(a.get(ka).map(|s| s.0), Some(1));
    assert_eq!(a.remove(ka).map(|s| s.0), Some(1));
    // The slot is reused by the next insert, but the old key stays stale.
    let again = a.insert(Small(3, Token::new()));
    assert!(a.get(ka).is_none());
    assert!(!a.contains(ka));
    assert_eq!(a.get(again).map(|s| s.0), Some(3));
    assert_ne!(again, ka);
    drop((a, b));
    assert_eq!(live(), 0);
}

#[test]
fn pages_are_headed_and_emptied_pages_return() {
    let mut pool = MultisizePool::new();
    let keys: Vec<_> = (0..300u64)
        .map(|i| pool.insert(Mid([i; 30], Token::new())))
        .collect();
    let first: *const Mid = pool.get(keys[0]).unwrap();
    let info = pool.header_for(first).unwrap();
    assert_eq!(info.page_bytes, 4096);
    assert_eq!(info.records, 16, "sixteen 256-byte slots, no header slot");
    let big = pool.insert(Page([1; 512], Token::new()));
    let big_ptr: *const Page = pool.get(big).unwrap();
    assert!(
        pool.header_for(big_ptr).is_none(),
        "the large path has no page"
    );
    let reserved = pool.stats().reserved_bytes;
    for key in &keys[..280] {
        assert!(pool.remove(*key).is_some());
    }
    assert!(pool.header_for(first).is_some(), "kept until shrink_to_fit");
    pool.shrink_to_fit();
    assert!(
        pool.header_for(first).is_none(),
        "an empty page was released"
    );
    assert!(pool.stats().reserved_bytes < reserved);
    for (i, key) in keys[280..].iter().enumerate() {
        assert_eq!(pool.get(*key).map(|m| m.0[0]), Some(280 + i as u64));
    }
    // Freed slots of kept pages are reused, released ones never are.
    let more: Vec<_> = (0..100u64)
        .map(|i| pool.insert(Mid([i; 30], Token::new())))
        .collect();
    assert_eq!(pool.len(), 20 + 1 + 100);
    drop(more);
    drop(pool);
    assert_eq!(live(), 0);
}

struct Bomb(Token);
impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("bomb");
    }
}

#[test]
fn panicking_destructors_free_their_slots() {
    let mut pool = MultisizePool::new();
    let bomb = pool.insert(Bomb(Token::new()));
    let keep = pool.insert(Small(1, Token::new()));
    assert!(catch_unwind(AssertUnwindSafe(|| pool.remove(bomb).is_some())).is_err());
    assert!(!pool.contains(bomb));
    assert_eq!(pool.len(), 1);
    assert_eq!(live(), 1);
    // clear and drop carry on past the bomb.
    for i in 0..30 {
        pool.insert(Small(i, Token::new()));
        if i == 7 {
            pool.insert(Bomb(Token::new()));
        }
    }
    assert!(catch_unwind(AssertUnwindSafe(|| pool.clear())).is_err());
    assert!(pool.is_empty());
    assert!(pool.get(keep).is_none());
    assert_eq!(live(), 0);
    pool.insert(Bomb(Token::new()));
    pool.insert(Page([0; 512], Token::new()));
    assert!(catch_unwind(AssertUnwindSafe(move || drop(pool))).is_err());
    assert_eq!(live(), 0);
}

#[test]
fn raw_blocks_are_freed_past_panicking_destructors() {
    let mut pool = MultisizePool::new();
    let before = pool.alloc_layout(Layout::from_size_align(40, 8).unwrap());
    pool.insert(Bomb(Token::new()));
    let big = pool.alloc_layout(Layout::from_size_align(3000, 4096).unwrap());
    pool.insert(Small(1, Token::new()));
    pool.bytes_mut(&big).unwrap()[2999] = MaybeUninit::new(1);
    assert_eq!(pool.len(), 4);
    assert!(catch_unwind(AssertUnwindSafe(|| pool.clear())).is_err());
    assert_eq!((pool.len(), pool.stats().live_bytes), (0, 0));
    assert_eq!(live(), 0);
    assert!(pool.bytes(&before).is_none() && pool.bytes(&big).is_none());
    assert!(!pool.dealloc(before));
    assert!(!pool.dealloc(big));
    // The pool is usable afterwards; dropping it frees live blocks too.
    let block = pool.alloc_layout(Layout::new::<[u8; 100]>());
    assert!(pool.bytes(&block).is_some());
    drop(pool);
}
