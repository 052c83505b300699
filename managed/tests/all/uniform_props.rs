//! Property tests: the uniform containers against std models, under random
//! operation programs.

use std::collections::{HashMap, VecDeque};

use managed::prelude::*;
use proptest::prelude::*;

/// Length of the generated programs: shorter under Miri, which interprets
/// every step.
const OPS: usize = if cfg!(miri) { 40 } else { 300 };

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: if cfg!(miri) { 3 } else { 2000 },
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

#[derive(Debug, Clone)]
enum DequeOp {
    PushBack(u32),
    PushFront(u32),
    PopBack,
    PopFront,
    Get(usize),
    Mutate(usize, u32),
    Clear,
    Shrink,
    /// `get_disjoint_mut` on three indices (often repeated or out of
    /// bounds), rotating the values when it lends them.
    GetDisjoint([usize; 3]),
}

fn deque_op() -> impl Strategy<Value = DequeOp> {
    prop_oneof![
        4 => any::<u32>().prop_map(DequeOp::PushBack),
        4 => any::<u32>().prop_map(DequeOp::PushFront),
        3 => Just(DequeOp::PopBack),
        3 => Just(DequeOp::PopFront),
        2 => any::<usize>().prop_map(DequeOp::Get),
        1 => (any::<usize>(), any::<u32>()).prop_map(|(i, v)| DequeOp::Mutate(i, v)),
        1 => Just(DequeOp::Clear),
        1 => Just(DequeOp::Shrink),
        2 => any::<[usize; 3]>().prop_map(DequeOp::GetDisjoint),
    ]
}

/// Runs a program on a deque with tiny pages (so page boundaries are
/// crossed constantly) and on a `VecDeque`, comparing after every step.
fn check_deque(ops: &[DequeOp], page: usize) {
    let mut ours: UniformPageDeque<u32> =
        UniformPageDeque::with_page_size(PageSize::new(page).unwrap());
    let mut model = VecDeque::new();
    for op in ops {
        match *op {
            DequeOp::PushBack(v) => {
                ours.push_back(v);
                model.push_back(v);
            }
            DequeOp::PushFront(v) => {
                ours.push_front(v);
                model.push_front(v);
            }
            DequeOp::PopBack => assert_eq!(ours.pop_back(), model.pop_back()),
            DequeOp::PopFront => assert_eq!(ours.pop_front(), model.pop_front()),
            DequeOp::Get(i) => {
                let i = if model.is_empty() {
                    i
                } else {
                    i % (model.len() + 1)
                };
                assert_eq!(ours.get(i), model.get(i));
            }
            DequeOp::Mutate(i, v) => {
                if !model.is_empty() {
                    let i = i % model.len();
                    ours[i] = v;
                    model[i] = v;
                }
            }
            DequeOp::Clear => {
                ours.clear();
                model.clear();
            }
            DequeOp::Shrink => ours.shrink_to_fit(),
            DequeOp::GetDisjoint(picks) => {
                let [i, j, k] = picks.map(|p| p % (model.len() + 2));
                let lendable =
                    i != j && j != k && i != k && [i, j, k].iter().all(|&x| x < model.len());
                match ours.get_disjoint_mut([i, j, k]) {
                    Some([a, b, c]) => {
                        assert!(lendable, "{:?} lent", [i, j, k]);
                        assert_eq!([*a, *b, *c], [model[i], model[j], model[k]]);
                        (*a, *b, *c) = (*b, *c, *a);
                        let (vi, vj, vk) = (model[i], model[j], model[k]);
                        (model[i], model[j], model[k]) = (vj, vk, vi);
                    }
                    None => assert!(!lendable, "{:?} refused", [i, j, k]),
                }
            }
        }
        assert_eq!(ours.len(), model.len());
        assert_eq!(ours.front(), model.front());
        assert_eq!(ours.back(), model.back());
        assert_eq!(ours.stats().live_bytes, model.len() * 4);
    }
    assert!(ours.iter().eq(model.iter()));
    // `fold` (page slices) agrees with `next`.
    let folded = ours.iter().fold(Vec::new(), |mut v, x| {
        v.push(*x);
        v
    });
    assert!(folded.iter().eq(model.iter()));
    assert!(ours.iter().rev().eq(model.iter().rev()));
    assert!(
        ours.iter_mut()
            .rev()
            .map(|v| *v)
            .eq(model.iter().rev().copied())
    );
    assert!(ours.into_iter().eq(model));
}

#[derive(Debug, Clone)]
enum PoolOp {
    Insert(u64),
    Remove(usize),
    Get(usize),
    Mutate(usize, u64),
    Shrink,
    Clear,
    /// Inserts `n % 600` values at once: enough to fill several groups of
    /// 256 key indices, and pages of several groups.
    Fill(u16),
    /// `get_disjoint_mut` on three picked keys (often repeated or stale),
    /// rotating their values when it lends them.
    GetDisjoint([usize; 3]),
    /// `retain`, keeping the values not a multiple of the modulus.
    Retain(u64),
    /// `insert_with_key`, the value made from its key (or the closure
    /// panics, and nothing is inserted).
    InsertWithKey(u64, bool),
    /// `drain`, taking `n % (len + 1)` pairs and dropping the iterator
    /// with the rest.
    Drain(u16),
    /// Keeps a clone of the pool (and of the model) as the snapshot.
    Snapshot,
    /// Goes back to a clone of the snapshot, if there is one: every key
    /// of the pool's must work as the snapshot's model says.
    Restore,
    /// Clones the pool and inserts `n % 300` values into the clone: the
    /// pool refuses their keys (vacant entries, or pages it lacks), then
    /// makes the very same keys for the same inserts.
    Fork(u16),
}

fn pool_op() -> impl Strategy<Value = PoolOp> {
    prop_oneof![
        6 => any::<u64>().prop_map(PoolOp::Insert),
        4 => any::<usize>().prop_map(PoolOp::Remove),
        3 => any::<usize>().prop_map(PoolOp::Get),
        2 => (any::<usize>(), any::<u64>()).prop_map(|(i, v)| PoolOp::Mutate(i, v)),
        1 => Just(PoolOp::Shrink),
        1 => Just(PoolOp::Clear),
        1 => any::<u16>().prop_map(PoolOp::Fill),
        2 => any::<[usize; 3]>().prop_map(PoolOp::GetDisjoint),
        1 => (2u64..6).prop_map(PoolOp::Retain),
        3 => (any::<u64>(), prop::bool::weighted(0.2)).prop_map(|(v, p)| PoolOp::InsertWithKey(v, p)),
        1 => any::<u16>().prop_map(PoolOp::Drain),
        1 => Just(PoolOp::Snapshot),
        1 => Just(PoolOp::Restore),
        1 => any::<u16>().prop_map(PoolOp::Fork),
    ]
}

/// Every key ever handed out is kept; keys removed from the model must be
/// rejected by the pool from then on. Pages of `page` bytes: 128 holds 7
/// values, 8192 holds 511 (two groups of key indices).
/// A key's bits, for values made from their keys (its `Hash` stands in).
trait KeyBits {
    fn to_bits_for_test(self) -> u64;
}

impl KeyBits for PoolKey {
    fn to_bits_for_test(self) -> u64 {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        BuildHasherDefault::<DefaultHasher>::default().hash_one(self)
    }
}

fn check_pool(ops: &[PoolOp], page: usize) {
    let mut ours: UniformPool<u64> = UniformPool::with_page_size(PageSize::new(page).unwrap());
    let mut other: UniformPool<u64> = UniformPool::new();
    let foreign = other.insert(0);
    let mut model: HashMap<PoolKey, u64> = HashMap::new();
    let mut keys: Vec<PoolKey> = Vec::new();
    let mut saved: Option<(UniformPool<u64>, HashMap<PoolKey, u64>)> = None;
    let pick = |keys: &[PoolKey], i: usize| (!keys.is_empty()).then(|| keys[i % keys.len()]);
    for op in ops {
        match *op {
            PoolOp::Snapshot => {
                let clone = ours.clone();
                assert!(clone.iter().eq(ours.iter()), "the same keys and values");
                assert_eq!(clone.capacity(), ours.capacity());
                saved = Some((clone, model.clone()));
            }
            PoolOp::Restore => {
                if let Some((pool, saved_model)) = &saved {
                    ours = pool.clone();
                    model = saved_model.clone();
                    for &k in &keys {
                        assert_eq!(ours.get(k), model.get(&k), "{k:?} after the restore");
                    }
                }
            }
            PoolOp::Fork(n) => {
                let mut twin = ours.clone();
                let theirs: Vec<_> = (0..u64::from(n % 300)).map(|v| twin.insert(v)).collect();
                for &k in &theirs {
                    assert!(
                        ours.issued(k) && ours.get(k).is_none(),
                        "{k:?} is the twin's"
                    );
                    assert_eq!(twin[k], theirs.iter().position(|&t| t == k).unwrap() as u64);
                }
                // The pool's live keys name the same values in the twin;
                // its stale ones (some made in a branch a `Restore` left)
                // name nothing there, or a value the twin inserted.
                for &k in &keys {
                    match model.get(&k) {
                        Some(v) => assert_eq!(twin.get(k), Some(v)),
                        None => assert!(twin.get(k).is_none() || theirs.contains(&k)),
                    }
                }
                // The pool itself, given the same inserts, makes the same keys.
                for (v, &k) in theirs.iter().enumerate() {
                    assert_eq!(ours.insert(v as u64), k, "the twin's key");
                    model.insert(k, v as u64);
                    keys.push(k);
                }
                assert!(twin == ours);
            }
            PoolOp::Insert(v) => {
                let k = ours.insert(v);
                assert!(
                    model.insert(k, v).is_none(),
                    "a fresh key is never a live one"
                );
                keys.push(k);
            }
            PoolOp::Remove(i) => {
                if let Some(k) = pick(&keys, i) {
                    assert_eq!(ours.remove(k), model.remove(&k));
                }
            }
            PoolOp::Get(i) => {
                if let Some(k) = pick(&keys, i) {
                    assert_eq!(ours.get(k), model.get(&k));
                    assert_eq!(ours.contains(k), model.contains_key(&k));
                    assert!(ours.issued(k), "its own keys, stale or not");
                }
                assert!(!ours.issued(foreign) && !ours.contains(foreign));
            }
            PoolOp::InsertWithKey(v, panics) => {
                let before = ours.len();
                let made = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    ours.insert_with_key(|k| {
                        assert!(!panics, "closure panic");
                        assert!(!model.contains_key(&k), "a fresh key is never a live one");
                        v ^ k.to_bits_for_test()
                    })
                }));
                match made {
                    Ok(k) => {
                        assert!(!panics);
                        assert_eq!(ours[k], v ^ k.to_bits_for_test(), "made from its own key");
                        model.insert(k, ours[k]);
                        keys.push(k);
                    }
                    Err(_) => {
                        assert!(panics);
                        assert_eq!(ours.len(), before, "nothing inserted");
                    }
                }
            }
            PoolOp::Mutate(i, v) => {
                if let Some(k) = pick(&keys, i) {
                    if let Some(m) = model.get_mut(&k) {
                        *m = v;
                        *ours.get_mut(k).unwrap() = v;
                    } else {
                        assert!(ours.get_mut(k).is_none());
                    }
                }
            }
            PoolOp::Shrink => ours.shrink_to_fit(),
            PoolOp::Clear => {
                ours.clear();
                model.clear();
            }
            PoolOp::Fill(n) => {
                for v in 0..u64::from(n % 600) {
                    let k = ours.insert(v);
                    assert!(model.insert(k, v).is_none());
                    keys.push(k);
                }
            }
            PoolOp::GetDisjoint(picks) => {
                if keys.is_empty() {
                    continue;
                }
                let picked = picks.map(|i| keys[i % keys.len()]);
                let distinct =
                    picked[0] != picked[1] && picked[1] != picked[2] && picked[0] != picked[2];
                let lendable = distinct && picked.iter().all(|k| model.contains_key(k));
                match ours.get_disjoint_mut(picked) {
                    Some([a, b, c]) => {
                        assert!(lendable, "{picked:?} lent");
                        assert_eq!([*a, *b, *c], picked.map(|k| model[&k]));
                        (*a, *b, *c) = (*b, *c, *a);
                        let [ka, kb, kc] = picked;
                        let (va, vb, vc) = (model[&ka], model[&kb], model[&kc]);
                        model.insert(ka, vb);
                        model.insert(kb, vc);
                        model.insert(kc, va);
                    }
                    None => assert!(!lendable, "{picked:?} refused"),
                }
            }
            PoolOp::Retain(modulus) => {
                let mut visited = 0;
                ours.retain(|k, v| {
                    visited += 1;
                    assert_eq!(model.get(&k), Some(&*v), "retain's key and value");
                    *v % modulus != 0
                });
                assert_eq!(visited, model.len());
                model.retain(|_, v| *v % modulus != 0);
            }
            PoolOp::Drain(n) => {
                let order: Vec<_> = ours.iter().map(|(k, v)| (k, *v)).collect();
                let take = usize::from(n) % (model.len() + 1);
                let mut drain = ours.drain();
                assert_eq!(drain.len(), model.len());
                let taken: Vec<_> = drain.by_ref().take(take).collect();
                assert_eq!(taken, order[..take], "in `iter` order");
                assert_eq!(drain.len(), model.len() - take);
                drop(drain);
                model.clear();
            }
        }
        assert_eq!(ours.len(), model.len());
    }
    let mut seen: HashMap<PoolKey, u64> = HashMap::new();
    for (k, v) in ours.iter() {
        assert!(seen.insert(k, *v).is_none());
    }
    assert_eq!(seen, model);
    let mut folded: HashMap<PoolKey, u64> = HashMap::new();
    ours.iter().for_each(|(k, v)| {
        folded.insert(k, *v);
    });
    assert_eq!(folded, model);
    assert!(
        ours.keys().eq(ours.iter().map(|(k, _)| k)),
        "keys in `iter` order"
    );
    for &k in &keys {
        assert_eq!(ours.get(k), model.get(&k));
    }
    let order: Vec<_> = ours.iter().map(|(k, v)| (k, *v)).collect();
    let owned = ours.into_iter();
    assert_eq!(owned.len(), model.len());
    assert_eq!(
        owned.collect::<Vec<_>>(),
        order,
        "by value, in `iter` order"
    );
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn deque_matches_vecdeque(ops in prop::collection::vec(deque_op(), 0..OPS), page in prop::sample::select(vec![64usize, 128, 4096])) {
        check_deque(&ops, page);
    }

    #[test]
    fn queue_and_stack_match_their_models(values in prop::collection::vec(any::<u16>(), 0..OPS), pops in prop::collection::vec(any::<bool>(), 0..OPS)) {
        let mut queue: UniformPageQueue<u16> = UniformPageQueue::with_page_size(PageSize::new(64).unwrap());
        let mut stack: UniformPageStack<u16> = UniformPageStack::with_page_size(PageSize::new(64).unwrap());
        let mut fifo = VecDeque::new();
        let mut lifo = Vec::new();
        for (v, pop) in values.iter().zip(pops.iter().chain(std::iter::repeat(&false))) {
            if *pop {
                prop_assert_eq!(queue.pop(), fifo.pop_front());
                prop_assert_eq!(stack.pop(), lifo.pop());
            } else {
                queue.push(*v);
                fifo.push_back(*v);
                stack.push(*v);
                lifo.push(*v);
            }
            prop_assert_eq!(queue.peek(), fifo.front());
            prop_assert_eq!(stack.peek(), lifo.last());
        }
        prop_assert!(queue.iter().eq(fifo.iter()));
        prop_assert!(stack.iter().eq(lifo.iter().rev()));
    }

    #[test]
    fn pool_matches_hashmap(ops in prop::collection::vec(pool_op(), 0..OPS), page in prop::sample::select(vec![128usize, 8192])) {
        check_pool(&ops, page);
    }
}

#[derive(Debug, Clone)]
enum SecondaryOp {
    /// Inserts a value in the pool (a new key, often on a reused entry).
    PoolInsert,
    /// Removes a picked key's value from the pool.
    PoolRemove(usize),
    /// Attaches a value to a picked key (live or stale).
    Attach(usize, u64),
    Detach(usize),
    Get(usize),
    Mutate(usize, u64),
    /// Keeps the values not a multiple of the modulus.
    Retain(u64),
    /// Keeps the values whose key the pool still holds.
    RetainLive,
    Clear,
    /// A key of another pool: found nowhere, refused by `insert`.
    Foreign(u64),
    /// Adds to a picked key's value through `entry`, attaching the
    /// amount if none is attached.
    Upsert(usize, u64),
    /// Detaches a picked key's value through its occupied entry.
    EntryRemove(usize),
    /// Drains the map, taking this many pairs before the drain drops.
    Drain(usize),
    /// Swaps the values of two picked keys through `get_disjoint_mut`.
    SwapTwo(usize, usize),
    /// Keeps clones of the pool, the map and the model as the snapshot.
    Snapshot,
    /// Goes back to clones of the snapshot, if there is one.
    Restore,
}

fn secondary_op() -> impl Strategy<Value = SecondaryOp> {
    prop_oneof![
        5 => Just(SecondaryOp::PoolInsert),
        3 => any::<usize>().prop_map(SecondaryOp::PoolRemove),
        5 => (any::<usize>(), any::<u64>()).prop_map(|(i, v)| SecondaryOp::Attach(i, v)),
        2 => any::<usize>().prop_map(SecondaryOp::Detach),
        3 => any::<usize>().prop_map(SecondaryOp::Get),
        2 => (any::<usize>(), any::<u64>()).prop_map(|(i, v)| SecondaryOp::Mutate(i, v)),
        1 => (2u64..5).prop_map(SecondaryOp::Retain),
        1 => Just(SecondaryOp::RetainLive),
        1 => Just(SecondaryOp::Clear),
        1 => any::<u64>().prop_map(SecondaryOp::Foreign),
        3 => (any::<usize>(), any::<u64>()).prop_map(|(i, v)| SecondaryOp::Upsert(i, v)),
        1 => any::<usize>().prop_map(SecondaryOp::EntryRemove),
        1 => (0usize..8).prop_map(SecondaryOp::Drain),
        2 => (any::<usize>(), any::<usize>()).prop_map(|(i, j)| SecondaryOp::SwapTwo(i, j)),
        1 => Just(SecondaryOp::Snapshot),
        1 => Just(SecondaryOp::Restore),
    ]
}

/// A key's entry index and generation, read from its `Debug` form
/// (`PoolKey(index v generation @ pool)`): what the model needs to tell
/// two keys of one entry apart by age.
fn entry_and_generation(key: PoolKey) -> (u32, u32) {
    let text = format!("{key:?}");
    let inner = text
        .strip_prefix("PoolKey(")
        .and_then(|t| t.split('@').next())
        .expect("PoolKey(index v generation @ pool)");
    let (index, generation) = inner.split_once('v').expect("index v generation");
    (index.parse().unwrap(), generation.parse().unwrap())
}

/// A `SecondaryMap` against a model by entry: each entry of the pool holds
/// at most one attached value, that of the newest key attached there.
fn check_secondary(ops: &[SecondaryOp], page: usize) {
    use managed::uniform::SecondaryMap;
    use std::collections::BTreeMap;

    let mut pool: UniformPool<u8> = UniformPool::with_page_size(PageSize::new(page).unwrap());
    let mut other: UniformPool<u8> = UniformPool::new();
    let mut map = SecondaryMap::new(&pool);
    // Entry index -> (generation, key, value).
    let mut model: BTreeMap<u32, (u32, PoolKey, u64)> = BTreeMap::new();
    let mut keys: Vec<PoolKey> = vec![pool.insert(0)];
    let pick = |keys: &[PoolKey], i: usize| keys[i % keys.len()];
    type Saved = (
        UniformPool<u8>,
        SecondaryMap<u64>,
        BTreeMap<u32, (u32, PoolKey, u64)>,
    );
    let mut saved: Option<Saved> = None;
    for op in ops {
        match *op {
            SecondaryOp::Snapshot => {
                let copy = map.clone();
                assert!(copy == map && copy.iter().eq(map.iter()));
                saved = Some((pool.clone(), copy, model.clone()));
            }
            SecondaryOp::Restore => {
                if let Some((p, m, model_then)) = &saved {
                    if model != *model_then {
                        assert!(map != *m, "maps with other contents differ");
                    }
                    (pool, map, model) = (p.clone(), m.clone(), model_then.clone());
                    assert!(map == *m);
                }
            }
            SecondaryOp::PoolInsert => keys.push(pool.insert(0)),
            SecondaryOp::PoolRemove(i) => {
                pool.remove(pick(&keys, i));
            }
            SecondaryOp::Attach(i, v) => {
                let k = pick(&keys, i);
                let (e, g) = entry_and_generation(k);
                let expected = match model.get(&e) {
                    Some(&(g0, _, _)) if g0 > g => None,
                    Some(&(g0, _, v0)) if g0 == g => {
                        model.insert(e, (g, k, v));
                        Some(v0)
                    }
                    _ => {
                        model.insert(e, (g, k, v));
                        None
                    }
                };
                assert_eq!(map.insert(k, v), expected, "{k:?}");
            }
            SecondaryOp::Detach(i) => {
                let k = pick(&keys, i);
                let (e, g) = entry_and_generation(k);
                let expected = match model.get(&e) {
                    Some(&(g0, _, v0)) if g0 == g => {
                        model.remove(&e);
                        Some(v0)
                    }
                    _ => None,
                };
                assert_eq!(map.remove(k), expected);
            }
            SecondaryOp::Get(i) => {
                let k = pick(&keys, i);
                let (e, g) = entry_and_generation(k);
                let expected = model.get(&e).filter(|m| m.0 == g).map(|m| m.2);
                assert_eq!(map.get(k).copied(), expected);
                assert_eq!(map.contains(k), expected.is_some());
            }
            SecondaryOp::Mutate(i, v) => {
                let k = pick(&keys, i);
                let (e, g) = entry_and_generation(k);
                match (map.get_mut(k), model.get_mut(&e).filter(|m| m.0 == g)) {
                    (Some(ours), Some(m)) => {
                        *ours = v;
                        m.2 = v;
                    }
                    (None, None) => {}
                    (ours, m) => panic!("{k:?}: {ours:?} against {m:?}"),
                }
            }
            SecondaryOp::Retain(modulus) => {
                let mut visited = Vec::new();
                map.retain(|k, v| {
                    visited.push(k);
                    *v % modulus != 0
                });
                assert_eq!(visited, model.values().map(|m| m.1).collect::<Vec<_>>());
                model.retain(|_, m| m.2 % modulus != 0);
            }
            SecondaryOp::RetainLive => {
                map.retain(|k, _| pool.contains(k));
                model.retain(|_, m| pool.contains(m.1));
            }
            SecondaryOp::Clear => {
                map.clear();
                model.clear();
            }
            SecondaryOp::Foreign(v) => {
                let k = other.insert(0);
                assert!(map.get(k).is_none() && !map.contains(k) && map.remove(k).is_none());
                let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    map.insert(k, v);
                }));
                assert!(refused.is_err(), "a foreign key is refused");
                let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let _ = map.entry(k);
                }));
                assert!(refused.is_err(), "and has no entry");
            }
            SecondaryOp::Upsert(i, v) => {
                let k = pick(&keys, i);
                let (e, g) = entry_and_generation(k);
                let expected = match model.get_mut(&e) {
                    Some(m) if m.0 > g => None,
                    Some(m) if m.0 == g => {
                        m.2 = m.2.wrapping_add(v);
                        Some(m.2)
                    }
                    _ => {
                        model.insert(e, (g, k, v));
                        Some(v)
                    }
                };
                let ours = map.entry(k).map(|entry| {
                    assert_eq!(entry.key(), k);
                    let value = entry.or_insert(0);
                    *value = value.wrapping_add(v);
                    *value
                });
                assert_eq!(ours, expected, "{k:?}");
            }
            SecondaryOp::EntryRemove(i) => {
                use managed::uniform::secondary_entry::Entry;
                let k = pick(&keys, i);
                let (e, g) = entry_and_generation(k);
                let expected = match model.get(&e) {
                    Some(m) if m.0 == g => model.remove(&e).map(|m| m.2),
                    _ => None,
                };
                let ours = match map.entry(k) {
                    Some(Entry::Occupied(entry)) => Some(entry.remove()),
                    _ => None,
                };
                assert_eq!(ours, expected);
            }
            SecondaryOp::SwapTwo(i, j) => {
                let (a, b) = (pick(&keys, i), pick(&keys, j));
                let (ea, ga) = entry_and_generation(a);
                let (eb, gb) = entry_and_generation(b);
                let attached = |e: u32, g: u32| model.get(&e).is_some_and(|m| m.0 == g);
                let expected = ea != eb && attached(ea, ga) && attached(eb, gb);
                match map.get_disjoint_mut([a, b]) {
                    Some([va, vb]) => {
                        assert!(expected, "{a:?}, {b:?}");
                        core::mem::swap(va, vb);
                        let va = model[&ea].2;
                        let vb = model[&eb].2;
                        model.get_mut(&ea).unwrap().2 = vb;
                        model.get_mut(&eb).unwrap().2 = va;
                    }
                    None => assert!(!expected, "{a:?}, {b:?}"),
                }
            }
            SecondaryOp::Drain(take) => {
                let expected: Vec<(PoolKey, u64)> =
                    model.values().take(take).map(|m| (m.1, m.2)).collect();
                let mut drain = map.drain();
                assert_eq!(drain.len(), model.len());
                assert_eq!(drain.by_ref().take(take).collect::<Vec<_>>(), expected);
                drop(drain);
                model.clear();
            }
        }
        assert_eq!(map.len(), model.len());
        assert_eq!(map.is_empty(), model.is_empty());
    }
    let expected: Vec<(PoolKey, u64)> = model.values().map(|m| (m.1, m.2)).collect();
    assert_eq!(
        map.iter().map(|(k, v)| (k, *v)).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(map.iter().len(), expected.len());
    for (_, v) in map.iter_mut() {
        *v = v.wrapping_add(1);
    }
    let bumped: Vec<u64> = expected.iter().map(|m| m.1.wrapping_add(1)).collect();
    assert_eq!(map.values().copied().collect::<Vec<_>>(), bumped);
    assert!(map.keys().eq(expected.iter().map(|m| m.0)));
    for &(k, v) in &expected {
        assert_eq!(map[k], v.wrapping_add(1));
    }
    let owned: Vec<(PoolKey, u64)> = map.into_iter().collect();
    assert!(owned.iter().map(|p| p.0).eq(expected.iter().map(|m| m.0)));
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn secondary_map_matches_a_model_by_entry(ops in prop::collection::vec(secondary_op(), 0..OPS), page in prop::sample::select(vec![128usize, 4096])) {
        check_secondary(&ops, page);
    }
}
