//! The multisize family: `MultisizePageDeque`, `MultisizePageQueue` and
//! `MultisizePageStack` of trait objects of several sizes and alignments
//! (zero-sized, 24 bytes, about 200 bytes, aligned to 64, 4 KiB, aligned to
//! 8 KiB) against a `VecDeque`, with typed pops (a wrong type gets `None`),
//! boxed pops, in-place drops, mutation through `iter_mut`, `clear` and
//! `shrink_to_fit` (which repacks pages, moving values); and
//! `MultisizePool` with typed keys (stale and foreign keys read `None`) and
//! raw blocks of random layouts filled with patterns, against a model.
//! The in-place pops (`pop_with` and `drain_with` on the queue and the
//! stack, `pop_front_with` / `pop_back_with` on the deque) hand each value
//! to a closure that may change it or panic: the value must be the model's
//! end, handed out once, and dropped right after, panic or not.
//! Values record their drops, and some destructors panic.

#![no_main]

use std::alloc::Layout;
use std::cell::{Cell, RefCell};
use std::collections::{HashSet, VecDeque};
use std::mem::MaybeUninit;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use managed::prelude::*;
use managed_fuzz::{Tracked, catch, drops, install_panic_hook, pick};

const MAX_OPS: usize = 192;

/// Every container is compared whole with its model every this many steps
/// (and at the end); each step checks lengths and counts.
const CHECK_EVERY: usize = 8;

thread_local! {
    /// Zero-sized values alive (they cannot carry an id).
    static ZSTS: Cell<isize> = const { Cell::new(0) };
}

fn zsts() -> isize {
    ZSTS.with(Cell::get)
}

thread_local! {
    /// Ids of the values handed to an in-place pop's closure this run.
    static HANDED: RefCell<HashSet<u32>> = RefCell::new(HashSet::new());
}

/// Records that the value `s` was handed to a pop's closure: never twice.
fn hand_out(s: Seen) {
    if s.0 != Kind::Zst {
        assert!(
            HANDED.with(|h| h.borrow_mut().insert(s.1)),
            "value {} handed out twice",
            s.1
        );
    }
}

/// The value `s` was dropped exactly once (a zero-sized one: the live
/// count went down from `zsts_before`).
fn dropped_once(s: Seen, zsts_before: isize) {
    if s.0 == Kind::Zst {
        assert_eq!(zsts(), zsts_before - 1, "a popped zero-sized value lives");
    } else {
        assert_eq!(drops::count(s.1), 1, "popped value {} drops", s.1);
    }
}

#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Zst,
    Small,
    Mid,
    Al64,
    Page,
    Al8k,
}

/// What the containers hold: `(kind, id, value)` says who a value is.
trait Obj {
    fn seen(&self) -> (Kind, u32, u64);
    fn bump(&mut self);
}

/// How the fuzz target builds each kind.
trait Make: Obj + Sized + 'static {
    fn make(value: u64, bomb: bool) -> Self;
    fn key(key: MultisizeKey<Self>) -> AnyKey;
}

struct Zst;
struct Small(Tracked);
struct Mid(Tracked, [u64; 22]);
#[repr(align(64))]
struct Al64(Tracked);
/// 4 KiB: beyond a quarter of a page, the large-value path.
struct Page(Tracked, [u64; 509]);
/// Aligned beyond a 4 KiB page.
#[repr(C, align(8192))]
struct Al8k(Tracked);

impl Drop for Zst {
    fn drop(&mut self) {
        ZSTS.with(|z| z.set(z.get() - 1));
    }
}

impl Obj for Zst {
    fn seen(&self) -> (Kind, u32, u64) {
        (Kind::Zst, u32::MAX, 0)
    }
    fn bump(&mut self) {}
}

impl Make for Zst {
    fn make(_: u64, _: bool) -> Self {
        ZSTS.with(|z| z.set(z.get() + 1));
        Zst
    }
    fn key(key: MultisizeKey<Self>) -> AnyKey {
        AnyKey::Zst(key)
    }
}

/// `Obj` and `Make` for a kind whose first field is its `Tracked`; `$pad`
/// is a filler array checked against the value, or nothing.
macro_rules! tracked_kind {
    ($ty:ident, $kind:ident, $align:literal $(, $pad:expr)?) => {
        impl Obj for $ty {
            fn seen(&self) -> (Kind, u32, u64) {
                assert_eq!((self as *const Self).addr() % $align, 0, "misaligned");
                $(
                    let _ = $pad;
                    assert!(self.1.iter().all(|&w| w == self.0.value()), "torn");
                )?
                (Kind::$kind, self.0.id(), self.0.value())
            }
            fn bump(&mut self) {
                let v = self.0.value().wrapping_add(1);
                self.0.set(v);
                $(
                    let _ = $pad;
                    self.1.fill(v);
                )?
            }
        }
        impl Make for $ty {
            #[allow(unused_variables)]
            fn make(value: u64, bomb: bool) -> Self {
                $ty(Tracked::with_bomb(value, bomb) $(, $pad(value))?)
            }
            fn key(key: MultisizeKey<Self>) -> AnyKey {
                AnyKey::$kind(key)
            }
        }
    };
}

tracked_kind!(Small, Small, 8);
tracked_kind!(Mid, Mid, 8, |v: u64| [v; 22]);
tracked_kind!(Al64, Al64, 64);
tracked_kind!(Page, Page, 8, |v: u64| [v; 509]);
tracked_kind!(Al8k, Al8k, 8192);

/// Runs `$body` with `$t` the type of `$kind`.
macro_rules! as_type {
    ($kind:expr, |$t:ident| $body:expr) => {
        match $kind {
            Kind::Zst => {
                type $t = Zst;
                $body
            }
            Kind::Small => {
                type $t = Small;
                $body
            }
            Kind::Mid => {
                type $t = Mid;
                $body
            }
            Kind::Al64 => {
                type $t = Al64;
                $body
            }
            Kind::Page => {
                type $t = Page;
                $body
            }
            Kind::Al8k => {
                type $t = Al8k;
                $body
            }
        }
    };
}

type Seen = (Kind, u32, u64);

fn discard<T: ?Sized>(v: Option<Box<T>>) {
    let _ = catch(move || drop(v));
}

/// The three page containers behind one interface; `front` says which end
/// (ignored by the queue and the stack, which have one end per operation).
trait Line {
    fn push<T: 'static>(&mut self, front: bool, v: T, how: Coercion<T, dyn Obj>);
    fn pop<T: 'static>(&mut self, front: bool) -> Option<T>;
    fn pop_boxed(&mut self, front: bool) -> Option<Box<dyn Obj>>;
    fn drop_end(&mut self, front: bool) -> bool;
    fn end_mut(&mut self, front: bool) -> Option<&mut (dyn Obj + 'static)>;
    /// Pops one end into `f`, in place.
    fn pop_with<R>(&mut self, front: bool, f: impl FnOnce(&mut dyn Obj) -> R) -> Option<R>;
    /// Pops every value into `f`, in pop order (the deque, which has no
    /// `drain_with`, pops its front until it is empty).
    fn drain_with(&mut self, f: impl FnMut(&mut dyn Obj));
    /// Values in model order (push order for the queue and the stack).
    fn contents(&self) -> Vec<Seen>;
    fn bump_all(&mut self);
    fn clear(&mut self);
    fn shrink(&mut self);
    fn len(&self) -> usize;
    fn stats(&self) -> SpaceStats;
}

impl Line for MultisizePageDeque<dyn Obj> {
    fn push<T: 'static>(&mut self, front: bool, v: T, how: Coercion<T, dyn Obj>) {
        if front {
            self.push_front(v, how);
        } else {
            self.push_back(v, how);
        }
    }
    fn pop<T: 'static>(&mut self, front: bool) -> Option<T> {
        if front {
            self.pop_front()
        } else {
            self.pop_back()
        }
    }
    fn pop_boxed(&mut self, front: bool) -> Option<Box<dyn Obj>> {
        if front {
            self.pop_front_boxed()
        } else {
            self.pop_back_boxed()
        }
    }
    fn drop_end(&mut self, front: bool) -> bool {
        if front {
            self.drop_front()
        } else {
            self.drop_back()
        }
    }
    fn end_mut(&mut self, front: bool) -> Option<&mut (dyn Obj + 'static)> {
        if front {
            self.front_mut()
        } else {
            self.back_mut()
        }
    }
    fn pop_with<R>(&mut self, front: bool, f: impl FnOnce(&mut dyn Obj) -> R) -> Option<R> {
        if front {
            self.pop_front_with(|v| f(v))
        } else {
            self.pop_back_with(|v| f(v))
        }
    }
    fn drain_with(&mut self, mut f: impl FnMut(&mut dyn Obj)) {
        while self.pop_front_with(|v| f(v)).is_some() {}
    }
    fn contents(&self) -> Vec<Seen> {
        let forward: Vec<Seen> = self.iter().map(|v| v.seen()).collect();
        let backward: Vec<Seen> = self.iter().rev().map(|v| v.seen()).collect();
        assert!(forward.iter().eq(backward.iter().rev()));
        // `fold`, page by page, from an iterator advanced at both ends.
        let n = forward.len();
        let mut it = self.iter();
        it.by_ref().take(n / 3).for_each(drop);
        for _ in 0..n / 4 {
            it.next_back();
        }
        let folded = it.fold(Vec::new(), |mut acc, v| {
            acc.push(v.seen());
            acc
        });
        assert_eq!(folded, forward[n / 3..n - n / 4]);
        forward
    }
    fn bump_all(&mut self) {
        self.iter_mut().for_each(|v| v.bump());
    }
    fn clear(&mut self) {
        MultisizePageDeque::clear(self);
    }
    fn shrink(&mut self) {
        let pages = self.pages();
        self.shrink_to_fit();
        assert!(self.pages() <= pages);
    }
    fn len(&self) -> usize {
        MultisizePageDeque::len(self)
    }
    fn stats(&self) -> SpaceStats {
        MultisizePageDeque::stats(self)
    }
}

impl Line for MultisizePageQueue<dyn Obj> {
    fn push<T: 'static>(&mut self, _: bool, v: T, how: Coercion<T, dyn Obj>) {
        MultisizePageQueue::push(self, v, how);
    }
    fn pop<T: 'static>(&mut self, _: bool) -> Option<T> {
        MultisizePageQueue::pop(self)
    }
    fn pop_boxed(&mut self, _: bool) -> Option<Box<dyn Obj>> {
        MultisizePageQueue::pop_boxed(self)
    }
    fn drop_end(&mut self, _: bool) -> bool {
        self.drop_front()
    }
    fn end_mut(&mut self, _: bool) -> Option<&mut (dyn Obj + 'static)> {
        self.peek_mut()
    }
    fn pop_with<R>(&mut self, _: bool, f: impl FnOnce(&mut dyn Obj) -> R) -> Option<R> {
        MultisizePageQueue::pop_with(self, |v| f(v))
    }
    fn drain_with(&mut self, mut f: impl FnMut(&mut dyn Obj)) {
        MultisizePageQueue::drain_with(self, |v| f(v));
    }
    fn contents(&self) -> Vec<Seen> {
        self.iter().map(|v| v.seen()).collect()
    }
    fn bump_all(&mut self) {
        for v in self.iter_mut() {
            v.bump();
        }
    }
    fn clear(&mut self) {
        MultisizePageQueue::clear(self);
    }
    fn shrink(&mut self) {
        self.shrink_to_fit();
    }
    fn len(&self) -> usize {
        MultisizePageQueue::len(self)
    }
    fn stats(&self) -> SpaceStats {
        MultisizePageQueue::stats(self)
    }
}

impl Line for MultisizePageStack<dyn Obj> {
    fn push<T: 'static>(&mut self, _: bool, v: T, how: Coercion<T, dyn Obj>) {
        MultisizePageStack::push(self, v, how);
    }
    fn pop<T: 'static>(&mut self, _: bool) -> Option<T> {
        MultisizePageStack::pop(self)
    }
    fn pop_boxed(&mut self, _: bool) -> Option<Box<dyn Obj>> {
        MultisizePageStack::pop_boxed(self)
    }
    fn drop_end(&mut self, _: bool) -> bool {
        self.drop_top()
    }
    fn end_mut(&mut self, _: bool) -> Option<&mut (dyn Obj + 'static)> {
        self.peek_mut()
    }
    fn pop_with<R>(&mut self, _: bool, f: impl FnOnce(&mut dyn Obj) -> R) -> Option<R> {
        MultisizePageStack::pop_with(self, |v| f(v))
    }
    fn drain_with(&mut self, mut f: impl FnMut(&mut dyn Obj)) {
        MultisizePageStack::drain_with(self, |v| f(v));
    }
    fn contents(&self) -> Vec<Seen> {
        // Top first.
        let mut v: Vec<Seen> = self.iter().map(|v| v.seen()).collect();
        v.reverse();
        v
    }
    fn bump_all(&mut self) {
        for v in self.iter_mut() {
            v.bump();
        }
    }
    fn clear(&mut self) {
        MultisizePageStack::clear(self);
    }
    fn shrink(&mut self) {
        self.shrink_to_fit();
    }
    fn len(&self) -> usize {
        MultisizePageStack::len(self)
    }
    fn stats(&self) -> SpaceStats {
        MultisizePageStack::stats(self)
    }
}

/// Which end each operation uses: the deque obeys the op, the queue pushes
/// at the back and pops at the front, the stack pushes and pops at the back
/// of the model.
#[derive(Clone, Copy)]
enum Discipline {
    Deque,
    Queue,
    Stack,
}

impl Discipline {
    fn push_front(self, asked: bool) -> bool {
        matches!(self, Discipline::Deque) && asked
    }
    fn pop_front(self, asked: bool) -> bool {
        match self {
            Discipline::Deque => asked,
            Discipline::Queue => true,
            Discipline::Stack => false,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum LineOp {
    Push {
        front: bool,
        kind: Kind,
        value: u8,
        bomb: bool,
    },
    PopAs {
        front: bool,
        kind: Kind,
    },
    PopBoxed {
        front: bool,
    },
    DropEnd {
        front: bool,
    },
    BumpEnd {
        front: bool,
    },
    BumpAll,
    Shrink,
    Clear,
    PopWith {
        front: bool,
        bump: bool,
        panic: bool,
    },
    DrainWith {
        panic_at: Option<u8>,
        bump: bool,
    },
}

fn bumped(s: Seen) -> Seen {
    match s.0 {
        Kind::Zst => s,
        _ => (s.0, s.1, s.2.wrapping_add(1)),
    }
}

fn run_line<L: Line>(l: &mut L, model: &mut VecDeque<Seen>, d: Discipline, op: &LineOp) {
    let end = |model: &mut VecDeque<Seen>, front: bool| -> Option<Seen> {
        if front {
            model.pop_front()
        } else {
            model.pop_back()
        }
    };
    match *op {
        LineOp::Push {
            front,
            kind,
            value,
            bomb,
        } => {
            let front = d.push_front(front);
            as_type!(kind, |T| {
                let v = T::make(value.into(), bomb);
                let s = v.seen();
                l.push(front, v, coercion!());
                if front {
                    model.push_front(s);
                } else {
                    model.push_back(s);
                }
            });
        }
        LineOp::PopAs { front, kind } => {
            let front = d.pop_front(front);
            let got = as_type!(kind, |T| l.pop::<T>(front).map(|v| {
                let s = v.seen();
                discard(Some(Box::new(v)));
                s
            }));
            let at = if front { model.front() } else { model.back() };
            let want = match at {
                Some(s) if s.0 == kind => end(model, front),
                _ => None,
            };
            assert_eq!(got, want, "a typed pop takes only its own type");
        }
        LineOp::PopBoxed { front } => {
            let front = d.pop_front(front);
            let got = l.pop_boxed(front);
            assert_eq!(got.as_ref().map(|v| v.seen()), end(model, front));
            discard(got);
        }
        LineOp::DropEnd { front } => {
            let front = d.pop_front(front);
            // A bomb's panic comes out of the call; the record is gone.
            let had = !model.is_empty();
            let result = catch(|| l.drop_end(front));
            if let Some(dropped) = result {
                assert_eq!(dropped, had);
            }
            end(model, front);
        }
        LineOp::BumpEnd { front } => {
            let front = d.pop_front(front);
            if let Some(v) = l.end_mut(front) {
                v.bump();
            }
            let at = if front {
                model.front_mut()
            } else {
                model.back_mut()
            };
            if let Some(s) = at {
                *s = bumped(*s);
            }
        }
        LineOp::BumpAll => {
            l.bump_all();
            model.iter_mut().for_each(|s| *s = bumped(*s));
        }
        LineOp::Shrink => l.shrink(),
        LineOp::Clear => {
            let _ = catch(|| l.clear());
            model.clear();
        }
        LineOp::PopWith { front, bump, panic } => {
            let front = d.pop_front(front);
            let want = if front { model.front() } else { model.back() }.copied();
            let before = zsts();
            let mut handed = None;
            // `f` or the value's destructor may panic: either way the value
            // is gone and dropped once.
            let result = catch(|| {
                l.pop_with(front, |v| {
                    let s = v.seen();
                    hand_out(s);
                    handed = Some(s);
                    if bump {
                        v.bump();
                        assert_eq!(v.seen(), bumped(s));
                    }
                    if panic {
                        std::panic::panic_any(managed_fuzz::Intended);
                    }
                    s
                })
            });
            assert_eq!(handed, want, "pop_with hands out the end");
            if let Some(got) = result {
                assert_eq!(got, want, "pop_with returns the closure's result");
            }
            if panic && want.is_some() {
                assert!(result.is_none(), "the closure's panic was lost");
            }
            if let Some(s) = want {
                end(model, front);
                dropped_once(s, before);
            }
        }
        LineOp::DrainWith { panic_at, bump } => {
            // Pop order: the queue's and the deque's front, the stack's top
            // (the model's back).
            let front = d.pop_front(true);
            let before = zsts();
            let mut handed = Vec::new();
            let result = catch(|| {
                l.drain_with(|v| {
                    let s = v.seen();
                    hand_out(s);
                    handed.push(s);
                    if bump {
                        v.bump();
                    }
                    if panic_at.is_some_and(|at| usize::from(at) == handed.len() - 1) {
                        std::panic::panic_any(managed_fuzz::Intended);
                    }
                });
            });
            let want: Vec<Seen> = if front {
                model.iter().take(handed.len()).copied().collect()
            } else {
                model.iter().rev().take(handed.len()).copied().collect()
            };
            assert_eq!(handed, want, "drain_with hands out the values in pop order");
            if result.is_some() {
                assert_eq!(handed.len(), model.len(), "drain_with empties");
            } else {
                // Stopped by a panic: the rest stay.
                assert!(!handed.is_empty());
            }
            if panic_at.is_some_and(|at| usize::from(at) < model.len()) {
                assert!(result.is_none(), "the closure's panic was lost");
            }
            let zsts_handed = handed.iter().filter(|s| s.0 == Kind::Zst).count();
            assert_eq!(
                zsts(),
                before - zsts_handed as isize,
                "drained zero-sized values"
            );
            for s in &handed {
                end(model, front);
                if s.0 != Kind::Zst {
                    assert_eq!(drops::count(s.1), 1, "drained value {} drops", s.1);
                }
            }
        }
    }
    assert_eq!(l.len(), model.len());
}

fn check_line<L: Line>(l: &L, model: &VecDeque<Seen>) {
    assert_eq!(l.len(), model.len());
    let contents = l.contents();
    assert!(contents.iter().eq(model.iter()));
    let stats = l.stats();
    assert!(stats.live_bytes <= stats.reserved_bytes);
}

/// A typed key of any kind.
#[derive(Clone, Copy, Debug)]
enum AnyKey {
    Zst(MultisizeKey<Zst>),
    Small(MultisizeKey<Small>),
    Mid(MultisizeKey<Mid>),
    Al64(MultisizeKey<Al64>),
    Page(MultisizeKey<Page>),
    Al8k(MultisizeKey<Al8k>),
}

/// Runs `$body` with `$k` the typed key inside `$key`.
macro_rules! on_key {
    ($key:expr, |$k:ident| $body:expr) => {
        match $key {
            AnyKey::Zst($k) => $body,
            AnyKey::Small($k) => $body,
            AnyKey::Mid($k) => $body,
            AnyKey::Al64($k) => $body,
            AnyKey::Page($k) => $body,
            AnyKey::Al8k($k) => $body,
        }
    };
}

#[derive(Arbitrary, Debug)]
enum PoolOp {
    Insert { kind: Kind, value: u8, bomb: bool },
    Remove(u8),
    RemoveDrop(u8),
    Get(u8),
    Bump(u8),
    Foreign(Kind),
    AllocLayout { size: u16, align_log2: u8, fill: u8 },
    Dealloc(u8),
    Write(u8, u8),
    Shrink,
    Clear,
}

#[derive(Default)]
struct PoolModel {
    /// Every key handed out, with what it should read (`None` once gone).
    keys: Vec<(AnyKey, Option<Seen>)>,
    /// Live raw blocks with their fill byte.
    blocks: Vec<(MultisizeBlock, u8)>,
    /// Blocks of the pool freed by `clear`: their handles are stale.
    stale: Vec<MultisizeBlock>,
}

impl PoolModel {
    fn live(&self) -> usize {
        self.keys.iter().filter(|k| k.1.is_some()).count() + self.blocks.len()
    }
}

fn insert(pool: &mut MultisizePool, kind: Kind, value: u64, bomb: bool) -> (AnyKey, Seen) {
    as_type!(kind, |T| {
        let v = T::make(value, bomb);
        let s = v.seen();
        let key = T::key(pool.insert(v));
        (key, s)
    })
}

fn run_pool(pool: &mut MultisizePool, other: &mut MultisizePool, m: &mut PoolModel, op: &PoolOp) {
    match *op {
        PoolOp::Insert { kind, value, bomb } => {
            let (key, s) = insert(pool, kind, value.into(), bomb);
            m.keys.push((key, Some(s)));
        }
        PoolOp::Remove(i) => {
            if let Some(i) = pick(i, m.keys.len()) {
                let (key, want) = m.keys[i];
                let got = on_key!(key, |k| pool.remove(k).map(|v| {
                    let s = v.seen();
                    discard(Some(Box::new(v)));
                    s
                }));
                assert_eq!(got, want);
                m.keys[i].1 = None;
            }
        }
        PoolOp::RemoveDrop(i) => {
            if let Some(i) = pick(i, m.keys.len()) {
                let (key, want) = m.keys[i];
                // The slot is freed even if the destructor panics.
                if let Some(removed) = catch(|| on_key!(key, |k| pool.remove(k).is_some())) {
                    assert_eq!(removed, want.is_some());
                }
                m.keys[i].1 = None;
                assert!(!on_key!(key, |k| pool.contains(k)));
            }
        }
        PoolOp::Get(i) => {
            if let Some(i) = pick(i, m.keys.len()) {
                let (key, want) = m.keys[i];
                assert_eq!(on_key!(key, |k| pool.get(k).map(|v| v.seen())), want);
                assert_eq!(on_key!(key, |k| pool.contains(k)), want.is_some());
            }
        }
        PoolOp::Bump(i) => {
            if let Some(i) = pick(i, m.keys.len()) {
                let (key, want) = m.keys[i];
                let got = on_key!(key, |k| pool.get_mut(k).map(|v| {
                    v.bump();
                    v.seen()
                }));
                assert_eq!(got, want.map(bumped));
                m.keys[i].1 = got;
            }
        }
        PoolOp::Foreign(kind) => {
            // A key of another pool, whatever its slot and generation.
            let (key, _) = insert(other, kind, 0, false);
            assert!(on_key!(key, |k| pool.get(k).is_none()));
            assert!(on_key!(key, |k| pool.remove(k).is_none()));
            assert!(on_key!(key, |k| other.remove(k).is_some()));
        }
        PoolOp::AllocLayout {
            size,
            align_log2,
            fill,
        } => {
            let layout =
                Layout::from_size_align(usize::from(size % 5000), 1 << (align_log2 % 14)).unwrap();
            let block = pool.alloc_layout(layout);
            assert_eq!(block.layout(), layout);
            assert_eq!(block.as_ptr().as_ptr().addr() % layout.align(), 0);
            pool.bytes_mut(&block).unwrap().fill(MaybeUninit::new(fill));
            m.blocks.push((block, fill));
        }
        PoolOp::Dealloc(i) => {
            if let Some(i) = pick(i, m.blocks.len()) {
                let (block, _) = m.blocks.swap_remove(i);
                assert!(pool.dealloc(block));
            }
        }
        PoolOp::Write(i, fill) => {
            if let Some(i) = pick(i, m.blocks.len()) {
                pool.bytes_mut(&m.blocks[i].0)
                    .unwrap()
                    .fill(MaybeUninit::new(fill));
                m.blocks[i].1 = fill;
            }
        }
        PoolOp::Shrink => pool.shrink_to_fit(),
        PoolOp::Clear => {
            let _ = catch(|| pool.clear());
            assert!(pool.is_empty());
            for k in &mut m.keys {
                k.1 = None;
            }
            m.stale.extend(m.blocks.drain(..).map(|b| b.0));
        }
    }
    assert_eq!(pool.len(), m.live());
}

fn check_pool(pool: &MultisizePool, m: &PoolModel) {
    assert_eq!(pool.len(), m.live());
    for &(key, want) in &m.keys {
        assert_eq!(on_key!(key, |k| pool.get(k).map(|v| v.seen())), want);
    }
    for (block, fill) in &m.blocks {
        let bytes = pool.bytes(block).unwrap();
        assert_eq!(bytes.len(), block.layout().size());
        // SAFETY: every byte of a live block was written with its fill.
        assert!(
            bytes.iter().all(|b| unsafe { b.assume_init() } == *fill),
            "block overwritten"
        );
    }
    for block in &m.stale {
        assert!(pool.bytes(block).is_none(), "a cleared block is stale");
    }
    let stats = pool.stats();
    assert!(stats.live_bytes <= stats.reserved_bytes);
}

#[derive(Arbitrary, Debug)]
enum Op {
    Deque(LineOp),
    Queue(LineOp),
    Stack(LineOp),
    Pool(PoolOp),
}

#[derive(Arbitrary, Debug)]
struct Program {
    small_pages: bool,
    ops: Vec<Op>,
}

fuzz_target!(|program: Program| {
    install_panic_hook();
    drops::reset();
    HANDED.with(|h| h.borrow_mut().clear());
    ZSTS.with(|z| z.set(0));
    let page = if program.small_pages {
        PageSize::new(4096).unwrap()
    } else {
        MultisizePageDeque::<dyn Obj>::DEFAULT_PAGE_SIZE
    };
    let mut deque: MultisizePageDeque<dyn Obj> = MultisizePageDeque::with_page_size(page);
    let mut queue: MultisizePageQueue<dyn Obj> = MultisizePageQueue::with_page_size(page);
    let mut stack: MultisizePageStack<dyn Obj> = MultisizePageStack::with_page_size(page);
    let mut pool = MultisizePool::new();
    let mut other = MultisizePool::new();
    let (mut dm, mut qm, mut sm) = (VecDeque::new(), VecDeque::new(), VecDeque::new());
    let mut pm = PoolModel::default();
    let ops = &program.ops[..program.ops.len().min(MAX_OPS)];
    for (step, op) in ops.iter().enumerate() {
        match op {
            Op::Deque(op) => run_line(&mut deque, &mut dm, Discipline::Deque, op),
            Op::Queue(op) => run_line(&mut queue, &mut qm, Discipline::Queue, op),
            Op::Stack(op) => run_line(&mut stack, &mut sm, Discipline::Stack, op),
            Op::Pool(op) => run_pool(&mut pool, &mut other, &mut pm, op),
        }
        if step % CHECK_EVERY == CHECK_EVERY - 1 || step + 1 == ops.len() {
            check_line(&deque, &dm);
            check_line(&queue, &qm);
            check_line(&stack, &sm);
            check_pool(&pool, &pm);
        }
        let zst = |m: &VecDeque<Seen>| m.iter().filter(|s| s.0 == Kind::Zst).count();
        let in_pool = pm
            .keys
            .iter()
            .filter(|k| matches!(k.1, Some((Kind::Zst, ..))))
            .count();
        assert_eq!(zsts() as usize, zst(&dm) + zst(&qm) + zst(&sm) + in_pool);
        let tracked = |m: &VecDeque<Seen>| m.iter().filter(|s| s.0 != Kind::Zst).count();
        let pool_tracked = pm
            .keys
            .iter()
            .filter(|k| matches!(k.1, Some((kind, ..)) if kind != Kind::Zst))
            .count();
        assert_eq!(
            drops::live(),
            tracked(&dm) + tracked(&qm) + tracked(&sm) + pool_tracked
        );
    }
    let _ = catch(move || drop(deque));
    let _ = catch(move || drop(queue));
    let _ = catch(move || drop(stack));
    let _ = catch(move || drop(pool));
    drop(other);
    assert_eq!(zsts(), 0);
    drops::assert_each_once();
});
