//! The uniform family: `UniformPageDeque`, `UniformPageQueue` and
//! `UniformPageStack` against `VecDeque`/`Vec`, and `UniformPool` against a
//! `HashMap` of its keys, with tiny pages so that every program crosses page
//! boundaries; a `SecondaryMap` beside the pool against a model by entry.
//! Values record their drops; some destructors panic, inside `clear` and
//! the containers' own drops, which must still drop every other value
//! exactly once.

#![no_main]

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use managed::prelude::*;
use managed::uniform::SecondaryMap;
use managed_fuzz::{Tracked, catch, drops, expect_panic_with, install_panic_hook, pick};

/// Longest program run (longer inputs are cut).
const MAX_OPS: usize = 256;

/// Every container is compared whole with its model every this many steps
/// (and at the end); each step checks lengths and ends.
const CHECK_EVERY: usize = 8;

#[derive(Arbitrary, Debug)]
enum Page {
    B64,
    B128,
    B4096,
    /// 512 pool entries a page: two groups of key indices.
    B16384,
}

#[derive(Arbitrary, Debug)]
enum DequeOp {
    PushBack(u8, bool),
    PushFront(u8, bool),
    PopBack,
    PopFront,
    Get(u16),
    Index(u16),
    Mutate(u16, u8),
    FrontMut(u8),
    BackMut(u8),
    Clear,
    Shrink,
    Check,
}

#[derive(Arbitrary, Debug)]
enum LineOp {
    Push(u8, bool),
    Pop,
    PeekMut(u8),
    Clear,
    Shrink,
}

#[derive(Arbitrary, Debug)]
enum PoolOp {
    Insert(u8, bool),
    Remove(u16),
    Get(u16),
    Index(u16),
    Mutate(u16, u8),
    ForeignKey,
    Shrink,
    Clear,
    /// `drain`: takes `n % (len + 1)` pairs, then drops the iterator with
    /// the rest (a bomb among them panics out of the drop).
    Drain(u16),
    Check,
    /// Clones the pool and inserts `n % 64` values into the clone alone:
    /// the clone holds copies under the same keys, the pool refuses the
    /// clone's new keys, and the clone is dropped (its bombs too).
    Fork(u8),
    /// Goes on with a clone of the pool in its place (the pool is dropped):
    /// every later step runs on the clone, under the same keys.
    Replace,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Deque(DequeOp),
    Queue(LineOp),
    Stack(LineOp),
    Pool(PoolOp),
    Side(SideOp),
}

/// Operations on a `SecondaryMap` of the pool's keys (picked among every
/// key the pool ever made, stale ones too).
#[derive(Arbitrary, Debug)]
enum SideOp {
    Attach(u16, u8),
    Detach(u16),
    Get(u16),
    /// Keeps the values whose key the pool still holds.
    RetainLive,
    Clear,
    /// Looks the key up with `entry`, attaching a new value if none is.
    Upsert(u16, u8),
    /// Drains the map, taking this many pairs before the drain drops.
    Drain(u8),
    /// Swaps two keys' values through `get_disjoint_mut`.
    SwapTwo(u16, u16),
}

#[derive(Arbitrary, Debug)]
struct Program {
    page: Page,
    /// How many values the deque's final `into_iter` yields before the
    /// rest are dropped with the iterator.
    into_iter_take: u8,
    ops: Vec<Op>,
}

type Model = VecDeque<(u32, u64)>;

fn seen(v: &Tracked) -> (u32, u64) {
    (v.id(), v.value())
}

/// Drops a value handed back by a container (its bomb, if any, goes off in
/// our hands and is caught).
fn discard(v: Option<Tracked>) {
    let _ = catch(move || drop(v));
}

fn check_deque(d: &UniformPageDeque<Tracked>, model: &Model) {
    assert_eq!(d.len(), model.len());
    assert_eq!(d.is_empty(), model.is_empty());
    assert_eq!(d.front().map(seen), model.front().copied());
    assert_eq!(d.back().map(seen), model.back().copied());
    assert!(d.iter().map(seen).eq(model.iter().copied()));
    assert!(d.iter().rev().map(seen).eq(model.iter().rev().copied()));
    assert_eq!(d.iter().len(), model.len());
    // `fold` (page by page) from an iterator advanced at both ends.
    let n = model.len();
    let (k, j) = (n / 3, n / 4);
    let mut it = d.iter();
    it.by_ref().take(k).for_each(drop);
    for _ in 0..j {
        it.next_back();
    }
    let folded = it.fold(Vec::new(), |mut acc, v| {
        acc.push(seen(v));
        acc
    });
    assert!(folded.iter().eq(model.range(k..n - j)));
    assert_eq!(
        d.stats().live_bytes,
        model.len() * size_of::<Tracked>(),
        "live bytes"
    );
    assert!(d.stats().live_bytes <= d.stats().reserved_bytes);
}

fn run_deque(d: &mut UniformPageDeque<Tracked>, model: &mut Model, op: &DequeOp) {
    match *op {
        DequeOp::PushBack(v, bomb) => {
            let t = Tracked::with_bomb(v.into(), bomb);
            model.push_back(seen(&t));
            d.push_back(t);
        }
        DequeOp::PushFront(v, bomb) => {
            let t = Tracked::with_bomb(v.into(), bomb);
            model.push_front(seen(&t));
            d.push_front(t);
        }
        DequeOp::PopBack => {
            let got = d.pop_back();
            assert_eq!(got.as_ref().map(seen), model.pop_back());
            discard(got);
        }
        DequeOp::PopFront => {
            let got = d.pop_front();
            assert_eq!(got.as_ref().map(seen), model.pop_front());
            discard(got);
        }
        DequeOp::Get(i) => {
            // Indices up to one past the end.
            let i = usize::from(i) % (model.len() + 2);
            assert_eq!(d.get(i).map(seen), model.get(i).copied());
        }
        DequeOp::Index(i) => {
            let i = usize::from(i) % (model.len() + 2);
            if i < model.len() {
                assert_eq!(seen(&d[i]), model[i]);
            } else {
                expect_panic_with("out of bounds", || seen(&d[i]));
            }
        }
        DequeOp::Mutate(i, v) => {
            if let Some(i) = pick(i, model.len()) {
                d[i].set(v.into());
                model[i].1 = v.into();
                assert_eq!(d.get_mut(i).map(|t| seen(t)), Some(model[i]));
            }
        }
        DequeOp::FrontMut(v) => {
            if let Some(t) = d.front_mut() {
                t.set(v.into());
            }
            if let Some(m) = model.front_mut() {
                m.1 = v.into();
            }
        }
        DequeOp::BackMut(v) => {
            if let Some(t) = d.back_mut() {
                t.set(v.into());
            }
            if let Some(m) = model.back_mut() {
                m.1 = v.into();
            }
        }
        DequeOp::Clear => {
            // A bomb among the values panics out of `clear` after every
            // other value was dropped.
            let had_bomb = d.iter().any(Tracked::is_bomb);
            let result = catch(|| d.clear());
            assert_eq!(result.is_none(), had_bomb);
            assert!(d.is_empty());
            model.clear();
        }
        DequeOp::Shrink => {
            let reserved = d.stats().reserved_bytes;
            d.shrink_to_fit();
            assert!(d.stats().reserved_bytes <= reserved);
            if model.is_empty() {
                assert_eq!(d.stats().reserved_bytes, 0);
            }
        }
        DequeOp::Check => {
            for v in d.iter_mut() {
                let x = v.value();
                v.set(x.wrapping_add(1));
            }
            for m in model.iter_mut() {
                m.1 = m.1.wrapping_add(1);
            }
        }
    }
    assert_eq!(d.len(), model.len());
    assert_eq!(d.front().map(seen), model.front().copied());
    assert_eq!(d.back().map(seen), model.back().copied());
}

/// Runs one FIFO (`queue`) or LIFO op; `model` keeps the values in push
/// order.
fn run_line<C>(c: &mut C, model: &mut Model, op: &LineOp, fifo: bool, ops: LineOps<C>) {
    match *op {
        LineOp::Push(v, bomb) => {
            let t = Tracked::with_bomb(v.into(), bomb);
            model.push_back(seen(&t));
            (ops.push)(c, t);
        }
        LineOp::Pop => {
            let got = (ops.pop)(c);
            let want = if fifo {
                model.pop_front()
            } else {
                model.pop_back()
            };
            assert_eq!(got.as_ref().map(seen), want);
            discard(got);
        }
        LineOp::PeekMut(v) => {
            if let Some(t) = (ops.peek_mut)(c) {
                t.set(v.into());
            }
            let m = if fifo {
                model.front_mut()
            } else {
                model.back_mut()
            };
            if let Some(m) = m {
                m.1 = v.into();
            }
        }
        LineOp::Clear => {
            let had_bomb = (ops.has_bomb)(c);
            let result = catch(|| (ops.clear)(c));
            assert_eq!(result.is_none(), had_bomb);
            model.clear();
        }
        LineOp::Shrink => (ops.shrink)(c),
    }
    assert_eq!((ops.len)(c), model.len());
    let want = if fifo { model.front() } else { model.back() };
    assert_eq!((ops.peek)(c), want.copied());
}

/// The queue's and the stack's methods, so that one function drives both.
struct LineOps<C> {
    push: fn(&mut C, Tracked),
    pop: fn(&mut C) -> Option<Tracked>,
    peek: fn(&C) -> Option<(u32, u64)>,
    peek_mut: fn(&mut C) -> Option<&mut Tracked>,
    len: fn(&C) -> usize,
    clear: fn(&mut C),
    shrink: fn(&mut C),
    has_bomb: fn(&C) -> bool,
}

macro_rules! line_ops {
    ($ty:ty) => {
        LineOps::<$ty> {
            push: |c, v| c.push(v),
            pop: |c| c.pop(),
            peek: |c| c.peek().map(seen),
            peek_mut: |c| c.peek_mut(),
            len: |c| c.len(),
            clear: |c| c.clear(),
            shrink: |c| c.shrink_to_fit(),
            has_bomb: |c| c.iter().any(Tracked::is_bomb),
        }
    };
}

struct PoolModel {
    live: HashMap<PoolKey, (u32, u64)>,
    /// Every key ever handed out, in order (stale ones included).
    keys: Vec<PoolKey>,
    all: HashSet<PoolKey>,
}

fn check_pool(pool: &mut UniformPool<Tracked>, m: &PoolModel) {
    assert_eq!(pool.len(), m.live.len());
    let mut seen_keys: HashMap<PoolKey, (u32, u64)> = HashMap::new();
    for (k, v) in pool.iter() {
        assert!(seen_keys.insert(k, seen(v)).is_none(), "a key twice");
    }
    assert_eq!(seen_keys, m.live);
    // `fold` over the pages agrees with `next`.
    let mut folded = 0;
    pool.iter().for_each(|(k, v)| {
        assert_eq!(m.live.get(&k), Some(&seen(v)));
        folded += 1;
    });
    assert_eq!(folded, m.live.len());
    assert_eq!(pool.values().count(), m.live.len());
    for (k, v) in pool.iter_mut() {
        assert_eq!(m.live.get(&k), Some(&seen(v)));
    }
    assert_eq!(pool.stats().live_bytes, m.live.len() * size_of::<Tracked>());
    assert!(pool.capacity() >= pool.len());
}

/// A key's entry index and generation, from its `Debug` form
/// (`PoolKey(index v generation @ pool)`).
fn entry_and_generation(key: PoolKey) -> (u32, u32) {
    let text = format!("{key:?}");
    let inner = text
        .strip_prefix("PoolKey(")
        .and_then(|t| t.split('@').next())
        .expect("PoolKey(index v generation @ pool)");
    let (index, generation) = inner.split_once('v').expect("index v generation");
    (index.parse().unwrap(), generation.parse().unwrap())
}

/// The secondary map's model: by entry index, the generation and key of
/// the newest key attached there, and its value's identity.
type SideModel = BTreeMap<u32, (u32, PoolKey, (u32, u64))>;

fn run_side(
    map: &mut SecondaryMap<Tracked>,
    pool: &UniformPool<Tracked>,
    keys: &[PoolKey],
    m: &mut SideModel,
    op: &SideOp,
) {
    let key = |i: u16| pick(i, keys.len()).map(|i| keys[i]);
    match *op {
        SideOp::Attach(i, v) => {
            if let Some(k) = key(i) {
                let (e, g) = entry_and_generation(k);
                let t = Tracked::new(v.into());
                let s = seen(&t);
                let expected = match m.get(&e) {
                    Some(&(g0, _, _)) if g0 > g => None,
                    Some(&(g0, _, old)) if g0 == g => {
                        m.insert(e, (g, k, s));
                        Some(old)
                    }
                    _ => {
                        m.insert(e, (g, k, s));
                        None
                    }
                };
                assert_eq!(map.insert(k, t).as_ref().map(seen), expected);
            }
        }
        SideOp::Detach(i) => {
            if let Some(k) = key(i) {
                let (e, g) = entry_and_generation(k);
                let expected = match m.get(&e) {
                    Some(&(g0, _, old)) if g0 == g => m.remove(&e).map(|_| old),
                    _ => None,
                };
                assert_eq!(map.remove(k).as_ref().map(seen), expected);
            }
        }
        SideOp::Get(i) => {
            if let Some(k) = key(i) {
                let (e, g) = entry_and_generation(k);
                let expected = m.get(&e).filter(|x| x.0 == g).map(|x| x.2);
                assert_eq!(map.get(k).map(seen), expected);
                assert_eq!(map.contains(k), expected.is_some());
            }
        }
        SideOp::RetainLive => {
            map.retain(|k, _| pool.contains(k));
            m.retain(|_, x| pool.contains(x.1));
        }
        SideOp::Clear => {
            map.clear();
            m.clear();
        }
        SideOp::Upsert(i, v) => {
            if let Some(k) = key(i) {
                let (e, g) = entry_and_generation(k);
                let t = Tracked::new(v.into());
                let s = seen(&t);
                let expected = match m.get(&e) {
                    Some(x) if x.0 > g => None,
                    Some(x) if x.0 == g => Some(x.2),
                    _ => {
                        m.insert(e, (g, k, s));
                        Some(s)
                    }
                };
                assert_eq!(map.entry(k).map(|entry| seen(entry.or_insert(t))), expected);
            }
        }
        SideOp::SwapTwo(i, j) => {
            if let (Some(a), Some(b)) = (key(i), key(j)) {
                let (ea, ga) = entry_and_generation(a);
                let (eb, gb) = entry_and_generation(b);
                let attached = |e: u32, g: u32| m.get(&e).is_some_and(|x| x.0 == g);
                let expected = ea != eb && attached(ea, ga) && attached(eb, gb);
                match map.get_disjoint_mut([a, b]) {
                    Some([va, vb]) => {
                        assert!(expected);
                        core::mem::swap(va, vb);
                        let (sa, sb) = (m[&ea].2, m[&eb].2);
                        m.get_mut(&ea).unwrap().2 = sb;
                        m.get_mut(&eb).unwrap().2 = sa;
                    }
                    None => assert!(!expected),
                }
            }
        }
        SideOp::Drain(take) => {
            let expected: Vec<_> = m.values().take(take.into()).map(|x| (x.1, x.2)).collect();
            let ours: Vec<_> = map
                .drain()
                .take(take.into())
                .map(|(k, v)| (k, seen(&v)))
                .collect();
            assert_eq!(ours, expected);
            m.clear();
        }
    }
    assert_eq!(map.len(), m.len());
}

fn check_side(map: &SecondaryMap<Tracked>, m: &SideModel) {
    let ours: Vec<_> = map.iter().map(|(k, v)| (k, seen(v))).collect();
    let model: Vec<_> = m.values().map(|x| (x.1, x.2)).collect();
    assert_eq!(ours, model, "in the order of the keys' places");
}

fn run_pool(
    pool: &mut UniformPool<Tracked>,
    other: &mut UniformPool<Tracked>,
    m: &mut PoolModel,
    op: &PoolOp,
) {
    let key = |i: u16| pick(i, m.keys.len()).map(|i| m.keys[i]);
    match *op {
        PoolOp::Insert(v, bomb) => {
            let t = Tracked::with_bomb(v.into(), bomb);
            let s = seen(&t);
            let k = pool.insert(t);
            assert!(m.all.insert(k), "a fresh key equals an earlier one");
            m.live.insert(k, s);
            m.keys.push(k);
        }
        PoolOp::Remove(i) => {
            if let Some(k) = key(i) {
                let got = pool.remove(k);
                assert_eq!(got.as_ref().map(seen), m.live.remove(&k));
                assert!(!pool.contains(k));
                discard(got);
            }
        }
        PoolOp::Get(i) => {
            if let Some(k) = key(i) {
                assert_eq!(pool.get(k).map(seen), m.live.get(&k).copied());
                assert_eq!(pool.contains(k), m.live.contains_key(&k));
                assert!(pool.get_mut(k).is_some() == m.live.contains_key(&k));
            }
        }
        PoolOp::Index(i) => {
            if let Some(k) = key(i) {
                match m.live.get(&k) {
                    Some(&want) => assert_eq!(seen(&pool[k]), want),
                    None => expect_panic_with("is stale or from another pool", || seen(&pool[k])),
                }
            }
        }
        PoolOp::Mutate(i, v) => {
            if let Some(k) = key(i) {
                match m.live.get_mut(&k) {
                    Some(want) => {
                        pool.get_mut(k).unwrap().set(v.into());
                        want.1 = v.into();
                    }
                    None => assert!(pool.get_mut(k).is_none()),
                }
            }
        }
        PoolOp::ForeignKey => {
            // A key of another pool never reads this one's values, even
            // with the same index and generation.
            let k = other.insert(Tracked::new(0));
            assert!(pool.get(k).is_none());
            assert!(!pool.contains(k));
            assert!(pool.remove(k).is_none());
            discard(other.remove(k));
        }
        PoolOp::Shrink => {
            let reserved = pool.stats().reserved_bytes;
            pool.shrink_to_fit();
            assert!(pool.stats().reserved_bytes <= reserved);
            if m.live.is_empty() {
                assert_eq!(pool.stats().reserved_bytes, 0);
            }
        }
        PoolOp::Clear => {
            let had_bomb = pool.values().any(Tracked::is_bomb);
            let result = catch(|| pool.clear());
            assert_eq!(result.is_none(), had_bomb);
            assert!(pool.is_empty());
            m.live.clear();
        }
        PoolOp::Drain(n) => {
            let take = usize::from(n) % (m.live.len() + 1);
            let order: Vec<(PoolKey, bool)> = pool.iter().map(|(k, v)| (k, v.is_bomb())).collect();
            let bomb_left = order[take..].iter().any(|&(_, bomb)| bomb);
            let mut drain = pool.drain();
            assert_eq!(drain.len(), m.live.len());
            for &(k, _) in &order[..take] {
                let (key, v) = drain.next().expect("as many as `len` said");
                assert_eq!(key, k, "in `iter` order");
                assert_eq!(Some(seen(&v)), m.live.get(&k).copied());
                discard(Some(v));
            }
            assert_eq!(drain.len(), m.live.len() - take);
            let result = catch(move || drop(drain));
            assert_eq!(result.is_none(), bomb_left);
            assert!(pool.is_empty());
            m.live.clear();
        }
        PoolOp::Check => {
            for k in &m.keys {
                assert_eq!(pool.get(*k).map(seen), m.live.get(k).copied());
            }
        }
        PoolOp::Fork(n) => {
            let mut twin = pool.clone();
            let same = |(a, x): (PoolKey, &Tracked), (b, y): (PoolKey, &Tracked)| {
                a == b && x.value() == y.value() && x.is_bomb() == y.is_bomb() && x.id() != y.id()
            };
            assert!(twin.iter().zip(pool.iter()).all(|(x, y)| same(x, y)));
            assert_eq!(twin.len(), pool.len());
            for v in 0..n % 64 {
                let k = twin.insert(Tracked::new(v.into()));
                assert!(
                    !m.all.contains(&k) || !m.live.contains_key(&k),
                    "a live key reused"
                );
                assert!(pool.get(k).is_none() && pool.issued(k), "the twin's own");
            }
            let _ = catch(move || drop(twin));
        }
        PoolOp::Replace => {
            let old = std::mem::replace(pool, pool.clone());
            let _ = catch(move || drop(old));
            for (k, v) in pool.iter() {
                let want = m.live.get_mut(&k).expect("the same keys");
                assert_eq!(want.1, v.value());
                *want = seen(v);
            }
        }
    }
    assert_eq!(pool.len(), m.live.len());
}

fuzz_target!(|program: Program| {
    install_panic_hook();
    drops::reset();
    let page = PageSize::new(match program.page {
        Page::B64 => 64,
        Page::B128 => 128,
        Page::B4096 => 4096,
        Page::B16384 => 16384,
    })
    .unwrap();
    let mut deque: UniformPageDeque<Tracked> = UniformPageDeque::with_page_size(page);
    let mut queue: UniformPageQueue<Tracked> = UniformPageQueue::with_page_size(page);
    let mut stack: UniformPageStack<Tracked> = UniformPageStack::with_page_size(page);
    let mut pool: UniformPool<Tracked> = UniformPool::with_page_size(page);
    let mut other: UniformPool<Tracked> = UniformPool::with_page_size(page);
    let (mut dm, mut qm, mut sm) = (Model::new(), Model::new(), Model::new());
    let mut pm = PoolModel {
        live: HashMap::new(),
        keys: Vec::new(),
        all: HashSet::new(),
    };
    let mut side = SecondaryMap::new(&pool);
    let mut side_model = SideModel::new();
    let ops = &program.ops[..program.ops.len().min(MAX_OPS)];
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::Deque(op) => run_deque(&mut deque, &mut dm, op),
            Op::Queue(op) => run_line(
                &mut queue,
                &mut qm,
                op,
                true,
                line_ops!(UniformPageQueue<Tracked>),
            ),
            Op::Stack(op) => run_line(
                &mut stack,
                &mut sm,
                op,
                false,
                line_ops!(UniformPageStack<Tracked>),
            ),
            Op::Pool(op) => run_pool(&mut pool, &mut other, &mut pm, op),
            Op::Side(op) => run_side(&mut side, &pool, &pm.keys, &mut side_model, op),
        }
        if step % CHECK_EVERY == CHECK_EVERY - 1 || step + 1 == ops.len() {
            check_deque(&deque, &dm);
            assert!(queue.iter().map(seen).eq(qm.iter().copied()));
            assert!(
                stack.iter().map(seen).eq(sm.iter().rev().copied()),
                "top first"
            );
            check_pool(&mut pool, &pm);
            check_side(&side, &side_model);
        }
    }
    assert_eq!(
        drops::live(),
        dm.len() + qm.len() + sm.len() + pm.live.len() + side_model.len()
    );
    drop(side);

    // The deque by value: the first values yielded in order, the rest
    // dropped with the iterator (a bomb among them panics out of its drop).
    let take = usize::from(program.into_iter_take);
    let mut it = deque.into_iter();
    for want in dm.iter().take(take) {
        let got = it.next().unwrap();
        assert_eq!(seen(&got), *want);
        discard(Some(got));
    }
    let _ = catch(move || drop(it));
    // Each container's drop, bombs included.
    let _ = catch(move || drop(queue));
    let _ = catch(move || drop(stack));
    let _ = catch(move || drop(pool));
    drop(other);
    drops::assert_each_once();
});
