//! The compacting region (`Arena`) against a model of its live values:
//! values of several types and sizes (tracked values, `u16` slices, values
//! aligned to 64 and 1024 bytes), trees of nodes that own their children
//! through items held *inside* the region (rewritten by the compactor), a
//! graph of shared objects linked by `Forward`s (cycles allowed), drops,
//! `into_inner`, `alloc_shared`/`share`, `get`/`get_mut`/`remove` (stale
//! forwards read `None`), and compactions where live values travel as a
//! whole-value token (`tokenize_all` or `tokenize_boxed`) and as
//! single-item tokens, some of which are dropped instead of redeemed.
//! Shared slices too: `alloc_shared_slice`, `push_shared` (growing in
//! place or moving, every `Forward` following), `remove` (the elements back
//! as a `Vec`) and `remove_slice`, and `split_mut`, which lends one shared
//! object beside an `Others` view whose `get`, `get_mut` and
//! `get_disjoint_mut` must refuse the lent object, removed ones and
//! repeated ones, and which allocates new shared slices without moving the
//! lent one.
//! After every step the values, the statistics (no holes right after a
//! compaction, the byte identity) and the drop counts must agree with the
//! model; some destructors panic, which must lose and double-drop nothing.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use managed::prelude::*;
use managed::region::{Others, State};
use managed_fuzz::{Tracked, catch, drops, expect_panic_with, install_panic_hook, pick};

const MAX_OPS: usize = 192;

/// Every value is compared with the model every this many steps (and after
/// every compaction); each step checks the statistics and drop counts.
const CHECK_EVERY: usize = 4;

/// A tracked value aligned to 64 bytes.
#[repr(align(64))]
#[derive(Managed)]
struct Big(Tracked);

// SAFETY: no lifetime: `Branded` is `Self`.
unsafe impl Rebrand for Big {
    type Branded<'b> = Big;
}

/// A plain value aligned to 1024 bytes: fillers inserted by compaction are
/// up to 1016 bytes.
#[repr(align(1024))]
#[derive(Managed)]
struct Wide(u64);

// SAFETY: no lifetime: `Branded` is `Self`.
unsafe impl Rebrand for Wide {
    type Branded<'b> = Wide;
}

/// A tree node in the region owning its children through items: the
/// compactor must rewrite the items inside it.
#[derive(Managed, Rebrand)]
struct Node<'a> {
    t: Tracked,
    kids: Vec<Item<'a, Node<'a>>>,
}

/// A shared object: `Forward`s link them into a graph.
#[derive(Managed)]
struct GNode<'id> {
    t: Tracked,
    next: Option<Forward<'id, GNode<'id>>>,
}

/// Every item the program holds, tokenized as one value around each
/// operation that needs the arena exclusively.
#[derive(Managed, Rebrand)]
struct Live<'a> {
    smalls: Vec<Item<'a, Tracked>>,
    slices: Vec<Item<'a, [u16]>>,
    bigs: Vec<Item<'a, Big>>,
    wides: Vec<Item<'a, Wide>>,
    roots: Vec<Item<'a, Node<'a>>>,
}

/// The model of a tree: `(id, value, children)`.
#[derive(Clone, Debug, PartialEq)]
struct MNode(u32, u64, Vec<MNode>);

impl MNode {
    fn count(&self) -> usize {
        1 + self.2.iter().map(MNode::count).sum::<usize>()
    }
}

fn mirror(n: &Node<'_>) -> MNode {
    MNode(
        n.t.id(),
        n.t.value(),
        n.kids.iter().map(|k| mirror(k)).collect(),
    )
}

#[derive(Default)]
struct Model {
    smalls: Vec<(u32, u64)>,
    /// `(len, fill)`.
    slices: Vec<(usize, u16)>,
    bigs: Vec<(u32, u64)>,
    wides: Vec<u64>,
    roots: Vec<MNode>,
    /// Shared objects by forward index in `shared`: `(id, value, next)`,
    /// `None` once freed.
    shared: Vec<Option<(u32, u64, Option<usize>)>>,
    /// Shared slices by forward index in `lists`, `None` once removed.
    lists: Vec<Option<Vec<u32>>>,
}

impl Model {
    fn objects(&self) -> usize {
        self.smalls.len()
            + self.slices.iter().filter(|s| s.0 != 0).count()
            + self.bigs.len()
            + self.wides.len()
            + self.roots.iter().map(MNode::count).sum::<usize>()
            + self.shared.iter().flatten().count()
            + self.lists.iter().flatten().count()
    }

    fn tracked(&self) -> usize {
        self.smalls.len()
            + self.bigs.len()
            + self.roots.iter().map(MNode::count).sum::<usize>()
            + self.shared.iter().flatten().count()
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    Small(u8, bool),
    Slice(u8, u16),
    SliceCopy(u8),
    Big(u8, bool),
    Wide(u8),
    Node(u8, bool),
    /// Moves root `child` under root `parent`.
    Adopt {
        parent: u8,
        child: u8,
    },
    /// Moves the last child of root `i` back to the roots.
    Orphan(u8),
    SetSmall(u8, u8),
    SetKid(u8, u8),
    DropSmall(u8),
    IntoInner(u8),
    DropSlice(u8),
    DropBig(u8),
    DropWide(u8),
    DropRoot(u8),
    Shared(u8, bool),
    /// Allocates an item and hands it to the arena with `share`.
    Share(u8),
    Link {
        from: u8,
        to: u8,
    },
    SetShared(u8, u8),
    Free(u8),
    List(u8, u8),
    PushList {
        list: u8,
        value: u8,
        times: u8,
    },
    /// `remove` (the elements back as a `Vec`) or `remove_slice`.
    RemoveList {
        list: u8,
        as_vec: bool,
    },
    /// Lends shared object `lent` (a node or a list) beside the others.
    Split {
        lent: u8,
        list: bool,
        reads: [u8; 3],
        pair: [u8; 2],
        write: u8,
        alloc: Option<u8>,
    },
    Compact {
        order: u64,
        drop_mask: u64,
        boxed: bool,
    },
}

#[derive(Arbitrary, Debug)]
struct Program {
    capacity: u8,
    ops: Vec<Op>,
}

/// A permutation of `0..n` from a starting state (xorshift, Fisher-Yates).
fn permutation(n: usize, mut state: u64) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        p.swap(i, (state % (i as u64 + 1)) as usize);
    }
    p
}

fn discard<T>(v: T) {
    let _ = catch(move || drop(v));
}

fn check_live(live: &Live<'_>, m: &Model) {
    assert!(
        live.smalls
            .iter()
            .map(|s| (s.id(), s.value()))
            .eq(m.smalls.iter().copied())
    );
    assert_eq!(live.slices.len(), m.slices.len());
    for (s, &(len, fill)) in live.slices.iter().zip(&m.slices) {
        assert_eq!(s.len(), len);
        assert!(s.iter().all(|&x| x == fill));
    }
    assert!(
        live.bigs
            .iter()
            .map(|b| (b.0.id(), b.0.value()))
            .eq(m.bigs.iter().copied())
    );
    assert!(live.bigs.iter().all(|b| b.as_ptr().addr() % 64 == 0));
    assert!(live.wides.iter().map(|w| w.0).eq(m.wides.iter().copied()));
    assert!(live.wides.iter().all(|w| w.as_ptr().addr() % 1024 == 0));
    assert!(
        live.roots
            .iter()
            .map(|r| mirror(r))
            .eq(m.roots.iter().cloned())
    );
}

fn check_shared<'id, const N: usize>(
    arena: &Arena<'id, N>,
    shared: &[Forward<'id, GNode<'id>>],
    m: &Model,
) {
    for (f, want) in shared.iter().zip(&m.shared) {
        let got = f.get(arena);
        assert_eq!(arena.contains(*f), want.is_some());
        match (got, want) {
            (None, None) => {}
            (Some(g), Some((id, value, next))) => {
                assert_eq!((g.t.id(), g.t.value()), (*id, *value));
                // The link leads to the object the model says.
                let to = g.next.map(|n| n.get(arena).map(|n| n.t.id()));
                let want = next.map(|i| m.shared[i].map(|s| s.0));
                assert_eq!(to, want);
            }
            _ => panic!(
                "a forward reads {:?}, the model says {want:?}",
                got.is_some()
            ),
        }
    }
}

fn check_lists<'id, const N: usize>(
    arena: &Arena<'id, N>,
    lists: &[Forward<'id, [u32]>],
    m: &Model,
) {
    for (f, want) in lists.iter().zip(&m.lists) {
        assert_eq!(arena.contains(*f), want.is_some());
        assert_eq!(arena.get(*f), want.as_deref(), "a shared slice");
    }
}

/// The shared object `Op::Split` lends: node or list `i`.
#[derive(Clone, Copy, Debug)]
enum Lent {
    Node(usize),
    List(usize),
}

/// What `Op::Split` asks of the `Others` view.
struct Asks {
    reads: [u8; 3],
    pair: [u8; 2],
    write: u8,
    alloc: Option<u8>,
}

/// Reads nodes and lists through `others` (the lent one, removed ones and
/// live ones), writes two nodes at once through `get_disjoint_mut`, and
/// allocates a shared slice through the view, which it returns with its
/// elements.
fn drive_others<'id, const N: usize>(
    others: &mut Others<'_, 'id, N>,
    state: &State<'id>,
    shared: &[Forward<'id, GNode<'id>>],
    lists: &[Forward<'id, [u32]>],
    m: &mut Model,
    lent: Lent,
    asks: &Asks,
) -> Option<(Forward<'id, [u32]>, Vec<u32>)> {
    // What `others` must find at node `i`: `None` if removed or lent.
    let node_want = |m: &Model, i: usize| -> Option<(u32, u64)> {
        if matches!(lent, Lent::Node(at) if at == i) {
            return None;
        }
        m.shared[i].map(|(id, value, _)| (id, value))
    };
    match lent {
        Lent::Node(at) => {
            assert!(
                others.get(shared[at]).is_none(),
                "Others lent the lent node"
            );
            assert!(others.get_mut(shared[at]).is_none());
            assert!(others.get_disjoint_mut([shared[at]]).is_none());
        }
        Lent::List(at) => {
            assert!(others.get(lists[at]).is_none(), "Others lent the lent list");
            assert!(others.get_mut(lists[at]).is_none());
        }
    }
    for r in asks.reads {
        if let Some(i) = pick(r, shared.len()) {
            let got = others.get(shared[i]).map(|g| (g.t.id(), g.t.value()));
            assert_eq!(got, node_want(m, i), "Others::get of a node");
        }
        if let Some(i) = pick(r, lists.len()) {
            let lent_here = matches!(lent, Lent::List(at) if at == i);
            let want = if lent_here {
                None
            } else {
                m.lists[i].as_deref()
            };
            assert_eq!(others.get(lists[i]), want, "Others::get of a list");
            if let Some(l) = others.get_mut(lists[i])
                && let Some(last) = l.last_mut()
            {
                *last ^= 1;
                let model = m.lists[i].as_mut().unwrap();
                *model.last_mut().unwrap() ^= 1;
            }
        }
    }
    // Two nodes at once: the lent one, a removed one or a repeated one is
    // refused.
    if let (Some(a), Some(b)) = (
        pick(asks.pair[0], shared.len()),
        pick(asks.pair[1], shared.len()),
    ) {
        let want = match (node_want(m, a), node_want(m, b)) {
            (Some(x), Some(y)) if a != b => Some((x, y)),
            _ => None,
        };
        match others.get_disjoint_mut([shared[a], shared[b]]) {
            Some([x, y]) => {
                let w = want.expect("get_disjoint_mut lent a lent, removed or repeated node");
                assert_eq!(((x.t.id(), x.t.value()), (y.t.id(), y.t.value())), w);
                x.t.set(u64::from(asks.write) + 1);
                y.t.set(u64::from(asks.write) + 2);
                m.shared[a].as_mut().unwrap().1 = u64::from(asks.write) + 1;
                m.shared[b].as_mut().unwrap().1 = u64::from(asks.write) + 2;
            }
            None => assert!(want.is_none(), "get_disjoint_mut refused {want:?}"),
        }
    }
    let len = asks.alloc?;
    let src = vec![u32::from(len); usize::from(len % 24)];
    let f = others.alloc_shared_slice(state, &src).ok()?;
    assert_eq!(
        others.get(f),
        Some(&src[..]),
        "a slice allocated through the view"
    );
    Some((f, src))
}

fn check_stats<const N: usize>(arena: &Arena<'_, N>, m: &Model) {
    let s = arena.detailed_stats();
    assert_eq!(s.live_objects, m.objects());
    assert_eq!(
        s.capacity,
        s.live_block_bytes + s.hole_bytes + s.padding_bytes + s.tail_bytes
    );
    assert_eq!(arena.available(), s.tail_bytes);
    assert_eq!(drops::live(), m.tracked());
}

fn run(program: &Program) {
    let capacity = 1024 * (1 + usize::from(program.capacity % 16));
    make_guard!(guard);
    let (mut arena, mut state) = Arena::<'_, 0>::with_capacity(guard, capacity);
    let mut live = Live {
        smalls: Vec::new(),
        slices: Vec::new(),
        bigs: Vec::new(),
        wides: Vec::new(),
        roots: Vec::new(),
    };
    let mut m = Model::default();
    let mut shared: Vec<Forward<'_, GNode<'_>>> = Vec::new();
    let mut lists: Vec<Forward<'_, [u32]>> = Vec::new();

    let ops = &program.ops[..program.ops.len().min(MAX_OPS)];
    for (step, op) in ops.iter().enumerate() {
        let objects = arena.detailed_stats().live_objects;
        match *op {
            Op::Small(v, bomb) => {
                let before = arena.available();
                match arena
                    .alloc(&state, Tracked::with_bomb(v.into(), bomb))
                    .map_err(AllocValueError::into_parts)
                {
                    Ok(item) => {
                        m.smalls.push((item.id(), item.value()));
                        live.smalls.push(item);
                    }
                    Err((AllocError::Full { available, .. }, value)) => {
                        assert_eq!(available, before);
                        assert_eq!(arena.available(), before, "nothing reserved");
                        discard(value);
                    }
                    Err((e, _)) => panic!("{e}"),
                }
            }
            Op::Slice(len, fill) => {
                let len = usize::from(len % 48);
                if let Ok(item) = arena.alloc_slice_fill(&state, len, fill) {
                    m.slices.push((len, fill));
                    live.slices.push(item);
                }
            }
            Op::SliceCopy(len) => {
                let len = usize::from(len % 48);
                let src = vec![len as u16; len];
                if let Ok(item) = arena.alloc_slice(&state, &src) {
                    m.slices.push((len, len as u16));
                    live.slices.push(item);
                }
            }
            Op::Big(v, bomb) => {
                let ids = drops::ids();
                match arena.alloc_with(&state, || Big(Tracked::with_bomb(v.into(), bomb))) {
                    Ok(item) => {
                        m.bigs.push((item.0.id(), item.0.value()));
                        live.bigs.push(item);
                    }
                    Err(_) => assert_eq!(drops::ids(), ids, "nothing built when full"),
                }
            }
            Op::Wide(v) => {
                if let Ok(item) = arena.alloc(&state, Wide(v.into())) {
                    m.wides.push(v.into());
                    live.wides.push(item);
                }
            }
            Op::Node(v, bomb) => {
                let node = Node {
                    t: Tracked::with_bomb(v.into(), bomb),
                    kids: Vec::new(),
                };
                match arena
                    .alloc(&state, node)
                    .map_err(AllocValueError::into_parts)
                {
                    Ok(item) => {
                        m.roots.push(mirror(&item));
                        live.roots.push(item);
                    }
                    Err((_, node)) => discard(node),
                }
            }
            Op::Adopt { parent, child } => {
                let n = live.roots.len();
                if n >= 2 {
                    let p = usize::from(parent) % n;
                    let mut c = usize::from(child) % n;
                    if c == p {
                        c = (c + 1) % n;
                    }
                    let item = live.roots.remove(c);
                    let model = m.roots.remove(c);
                    let p = if c < p { p - 1 } else { p };
                    live.roots[p].kids.push(item);
                    m.roots[p].2.push(model);
                }
            }
            Op::Orphan(i) => {
                if let Some(i) = pick(i, live.roots.len())
                    && let Some(kid) = live.roots[i].kids.pop()
                {
                    live.roots.push(kid);
                    let model = m.roots[i].2.pop().unwrap();
                    m.roots.push(model);
                }
            }
            Op::SetSmall(i, v) => {
                if let Some(i) = pick(i, live.smalls.len()) {
                    live.smalls[i].set(v.into());
                    m.smalls[i].1 = v.into();
                }
            }
            Op::SetKid(i, v) => {
                // The root's first child, or the root itself.
                if let Some(i) = pick(i, live.roots.len()) {
                    let (node, model) = match live.roots[i].kids.first_mut() {
                        Some(kid) => (&mut **kid, &mut m.roots[i].2[0]),
                        None => (&mut *live.roots[i], &mut m.roots[i]),
                    };
                    node.t.set(v.into());
                    model.1 = v.into();
                }
            }
            Op::DropSmall(i) => {
                if let Some(i) = pick(i, live.smalls.len()) {
                    discard(live.smalls.swap_remove(i));
                    m.smalls.swap_remove(i);
                    assert_eq!(arena.detailed_stats().live_objects, objects - 1);
                }
            }
            Op::IntoInner(i) => {
                if let Some(i) = pick(i, live.smalls.len()) {
                    let value = live.smalls.swap_remove(i).into_inner();
                    assert_eq!((value.id(), value.value()), m.smalls.swap_remove(i));
                    assert_eq!(drops::count(value.id()), 0);
                    discard(value);
                }
            }
            Op::DropSlice(i) => {
                if let Some(i) = pick(i, live.slices.len()) {
                    drop(live.slices.swap_remove(i));
                    m.slices.swap_remove(i);
                }
            }
            Op::DropBig(i) => {
                if let Some(i) = pick(i, live.bigs.len()) {
                    discard(live.bigs.swap_remove(i));
                    m.bigs.swap_remove(i);
                }
            }
            Op::DropWide(i) => {
                if let Some(i) = pick(i, live.wides.len()) {
                    drop(live.wides.swap_remove(i));
                    m.wides.swap_remove(i);
                }
            }
            Op::DropRoot(i) => {
                // The whole subtree goes, bombs or not.
                if let Some(i) = pick(i, live.roots.len()) {
                    discard(live.roots.swap_remove(i));
                    let gone = m.roots.swap_remove(i);
                    assert_eq!(arena.detailed_stats().live_objects, objects - gone.count());
                }
            }
            Op::Shared(v, bomb) => {
                let node = GNode {
                    t: Tracked::with_bomb(v.into(), bomb),
                    next: None,
                };
                match arena
                    .alloc_shared(&state, node)
                    .map_err(AllocValueError::into_parts)
                {
                    Ok(f) => {
                        let g = f.get(&arena).unwrap();
                        m.shared.push(Some((g.t.id(), g.t.value(), None)));
                        shared.push(f);
                    }
                    Err((_, node)) => discard(node),
                }
            }
            Op::Share(v) => {
                let node = GNode {
                    t: Tracked::new(v.into()),
                    next: None,
                };
                if let Ok(item) = arena.alloc(&state, node) {
                    let id = item.t.id();
                    let f = arena.share(item);
                    m.shared.push(Some((id, v.into(), None)));
                    shared.push(f);
                }
            }
            Op::Link { from, to } => {
                if let (Some(a), Some(b)) = (pick(from, shared.len()), pick(to, shared.len())) {
                    // `get_mut` needs the arena exclusively: every item
                    // travels as a token meanwhile.
                    make_guard!(g);
                    let token = arena.tokenize_all(&g, live);
                    let target = shared[b];
                    match shared[a].get_mut(&mut arena) {
                        Some(node) => {
                            node.next = Some(target);
                            m.shared[a].as_mut().unwrap().2 = Some(b);
                        }
                        None => assert!(m.shared[a].is_none()),
                    }
                    live = token.redeem(&arena);
                }
            }
            Op::SetShared(i, v) => {
                if let Some(i) = pick(i, shared.len()) {
                    make_guard!(g);
                    let token = arena.tokenize_all(&g, live);
                    if let Some(node) = shared[i].get_mut(&mut arena) {
                        node.t.set(v.into());
                        m.shared[i].as_mut().unwrap().1 = v.into();
                    }
                    live = token.redeem(&arena);
                }
            }
            Op::Free(i) => {
                if let Some(i) = pick(i, shared.len()) {
                    make_guard!(g);
                    let token = arena.tokenize_all(&g, live);
                    let got = arena.remove(shared[i]);
                    match (&got, m.shared[i].take()) {
                        (None, None) => {}
                        (Some(node), Some((id, value, _))) => {
                            assert_eq!((node.t.id(), node.t.value()), (id, value));
                        }
                        _ => panic!("free disagrees with the model"),
                    }
                    discard(got);
                    assert!(arena.remove(shared[i]).is_none(), "freed twice");
                    assert!(!arena.contains(shared[i]));
                    live = token.redeem(&arena);
                }
            }
            Op::List(len, fill) => {
                let src: Vec<u32> = (0..u32::from(len % 40))
                    .map(|i| i ^ u32::from(fill))
                    .collect();
                let before = arena.available();
                match arena.alloc_shared_slice(&state, &src) {
                    Ok(f) => {
                        assert_eq!(arena.get(f), Some(&src[..]));
                        m.lists.push(Some(src));
                        lists.push(f);
                    }
                    Err(_) => assert_eq!(arena.available(), before, "nothing reserved"),
                }
            }
            Op::PushList { list, value, times } => {
                if let Some(i) = pick(list, lists.len()) {
                    make_guard!(g);
                    let token = arena.tokenize_all(&g, live);
                    let f = lists[i];
                    match &mut m.lists[i] {
                        None => expect_panic_with("was removed", || {
                            arena.push_shared(&state, f, u32::from(value))
                        }),
                        Some(model) => {
                            for n in 0..u32::from(times % 8) + 1 {
                                let before = arena.available();
                                match arena.push_shared(&state, f, u32::from(value) + n) {
                                    Ok(()) => model.push(u32::from(value) + n),
                                    Err(_) => {
                                        assert_eq!(arena.available(), before);
                                        break;
                                    }
                                }
                                // Every copy of the forward follows.
                                assert_eq!(arena.get(lists[i]), Some(&model[..]));
                            }
                        }
                    }
                    live = token.redeem(&arena);
                }
            }
            Op::RemoveList { list, as_vec } => {
                if let Some(i) = pick(list, lists.len()) {
                    make_guard!(g);
                    let token = arena.tokenize_all(&g, live);
                    let f = lists[i];
                    let want = m.lists[i].take();
                    if as_vec {
                        assert_eq!(arena.remove(f), want, "remove gives the elements back");
                    } else {
                        assert_eq!(arena.remove_slice(f), want.is_some());
                    }
                    assert!(arena.remove(f).is_none(), "removed twice");
                    assert!(!arena.remove_slice(f), "removed twice");
                    assert!(!arena.contains(f) && arena.get(f).is_none());
                    live = token.redeem(&arena);
                }
            }
            Op::Split {
                lent,
                list,
                reads,
                pair,
                write,
                alloc,
            } => {
                let lent = if list {
                    pick(lent, lists.len()).map(Lent::List)
                } else {
                    pick(lent, shared.len()).map(Lent::Node)
                };
                if let Some(lent) = lent {
                    make_guard!(g);
                    let token = arena.tokenize_all(&g, live);
                    let asks = Asks {
                        reads,
                        pair,
                        write,
                        alloc,
                    };
                    let made = match lent {
                        Lent::List(at) if m.lists[at].is_none() => {
                            expect_panic_with("was removed", || arena.split_mut(lists[at]).0.len());
                            None
                        }
                        Lent::Node(at) if m.shared[at].is_none() => {
                            expect_panic_with("was removed", || {
                                arena.split_mut(shared[at]).0.t.id()
                            });
                            None
                        }
                        Lent::List(at) => {
                            let (me, mut others) = arena.split_mut(lists[at]);
                            let model = m.lists[at].as_mut().unwrap();
                            assert_eq!(&*me, &model[..], "the lent slice");
                            if let Some(first) = me.first_mut() {
                                *first = u32::from(write);
                                model[0] = u32::from(write);
                            }
                            let addr = me.as_ptr().addr();
                            let made = drive_others(
                                &mut others,
                                &state,
                                &shared,
                                &lists,
                                &mut m,
                                lent,
                                &asks,
                            );
                            // Nothing moved under the split, allocations included.
                            assert_eq!(me.as_ptr().addr(), addr, "the lent slice moved");
                            assert_eq!(&*me, m.lists[at].as_deref().unwrap());
                            made
                        }
                        Lent::Node(at) => {
                            let (me, mut others) = arena.split_mut(shared[at]);
                            let (id, value, _) = m.shared[at].unwrap();
                            assert_eq!((me.t.id(), me.t.value()), (id, value), "the lent node");
                            me.t.set(write.into());
                            m.shared[at].as_mut().unwrap().1 = write.into();
                            let addr = std::ptr::from_mut(me).addr();
                            let made = drive_others(
                                &mut others,
                                &state,
                                &shared,
                                &lists,
                                &mut m,
                                lent,
                                &asks,
                            );
                            assert_eq!(std::ptr::from_mut(me).addr(), addr, "the lent node moved");
                            assert_eq!((me.t.id(), me.t.value()), (id, u64::from(write)));
                            made
                        }
                    };
                    if let Some((f, src)) = made {
                        lists.push(f);
                        m.lists.push(Some(src));
                    }
                    live = token.redeem(&arena);
                }
            }
            Op::Compact {
                order,
                drop_mask,
                boxed,
            } => {
                make_guard!(compact);
                // Smalls as single-item tokens, the rest as one value.
                let smalls = std::mem::take(&mut live.smalls);
                let tokens: Vec<_> = smalls
                    .into_iter()
                    .map(|s| arena.tokenize(&compact, s))
                    .collect();
                let mut whole = None;
                let mut whole_boxed = None;
                if boxed {
                    whole_boxed = Some(arena.tokenize_boxed(&compact, live));
                } else {
                    whole = Some(arena.tokenize_all(&compact, live));
                }
                let c = arena.compact(&compact, state);
                let s = arena.detailed_stats();
                assert_eq!(s.hole_bytes, 0, "all free space is at the end");
                assert_eq!(s.fragmentation(), 0.0);
                assert_eq!(s.live_objects, m.objects());
                let mut redeemed: Vec<Option<Item<'_, Tracked>>> = Vec::new();
                redeemed.resize_with(tokens.len(), || None);
                let mut tokens: Vec<_> = tokens.into_iter().map(Some).collect();
                for i in permutation(tokens.len(), order | 1) {
                    let t = tokens[i].take().unwrap();
                    if drop_mask >> (i % 64) & 1 == 1 {
                        discard(t);
                    } else {
                        redeemed[i] = Some(t(&arena));
                    }
                }
                drop(tokens);
                live = match (whole, whole_boxed) {
                    (Some(t), _) => t.redeem(&arena),
                    (_, Some(t)) => t(&arena),
                    _ => unreachable!(),
                };
                state = arena.finish(compact, c);
                let mut kept = Vec::new();
                for (item, want) in redeemed.into_iter().zip(&m.smalls) {
                    if let Some(item) = item {
                        assert_eq!((item.id(), item.value()), *want);
                        kept.push(*want);
                        live.smalls.push(item);
                    }
                }
                m.smalls = kept;
            }
        }
        if step % CHECK_EVERY == CHECK_EVERY - 1
            || step + 1 == ops.len()
            || matches!(op, Op::Compact { .. })
        {
            check_live(&live, &m);
            check_shared(&arena, &shared, &m);
            check_lists(&arena, &lists, &m);
        }
        check_stats(&arena, &m);
    }
    discard(live);
    // The arena drops the shared objects left.
    let _ = catch(move || drop(arena));
    let _ = state;
}

fuzz_target!(|program: Program| {
    install_panic_hook();
    drops::reset();
    run(&program);
    drops::assert_each_once();
});
