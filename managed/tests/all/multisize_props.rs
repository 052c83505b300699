//! Property and drop-accounting tests of the multisize page containers
//! against std models, with mixed types and sizes: zero-sized, small,
//! over-aligned (64 and 8192 bytes), page-sized and larger values.

use managed::prelude::*;
use proptest::prelude::*;
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::common::{Token, live};

trait Item {
    fn tag(&self) -> u64;
    fn kind(&self) -> Kind;
    fn bump(&mut self);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Zst,
    Small,
    Word,
    Mid,
    Al64,
    Page,
    Al8k,
}

const KINDS: [Kind; 7] = [
    Kind::Zst,
    Kind::Small,
    Kind::Word,
    Kind::Mid,
    Kind::Al64,
    Kind::Page,
    Kind::Al8k,
];

struct Zst(Token);
struct Small(u8, Token);
struct Word(u64, Token);
struct Mid([u64; 24], Token);
#[repr(align(64))]
struct Al64(u64, Token);
/// 4 KiB: a page of the deque model's 4 KiB pages, more than a quarter of
/// the default 16 KiB page: the large-value path either way.
struct Page([u64; 512], Token);
/// Aligned beyond a page.
#[repr(C, align(8192))]
struct Al8k(u64, Token);

impl Item for Zst {
    fn tag(&self) -> u64 {
        0
    }
    fn kind(&self) -> Kind {
        Kind::Zst
    }
    fn bump(&mut self) {}
}
impl Item for Small {
    fn tag(&self) -> u64 {
        self.0 as u64
    }
    fn kind(&self) -> Kind {
        Kind::Small
    }
    fn bump(&mut self) {
        self.0 = self.0.wrapping_add(1);
    }
}
impl Item for Word {
    fn tag(&self) -> u64 {
        self.0
    }
    fn kind(&self) -> Kind {
        Kind::Word
    }
    fn bump(&mut self) {
        self.0 = self.0.wrapping_add(1);
    }
}
impl Item for Mid {
    fn tag(&self) -> u64 {
        assert!(self.0.iter().all(|&w| w == self.0[0]), "a Mid was torn");
        self.0[0]
    }
    fn kind(&self) -> Kind {
        Kind::Mid
    }
    fn bump(&mut self) {
        for w in &mut self.0 {
            *w = w.wrapping_add(1);
        }
    }
}
impl Item for Al64 {
    fn tag(&self) -> u64 {
        assert_eq!((self as *const Self).addr() % 64, 0, "misaligned");
        self.0
    }
    fn kind(&self) -> Kind {
        Kind::Al64
    }
    fn bump(&mut self) {
        self.0 = self.0.wrapping_add(1);
    }
}
impl Item for Page {
    fn tag(&self) -> u64 {
        assert_eq!(self.0[0], self.0[511], "a Page was torn");
        self.0[0]
    }
    fn kind(&self) -> Kind {
        Kind::Page
    }
    fn bump(&mut self) {
        self.0[0] = self.0[0].wrapping_add(1);
        self.0[511] = self.0[0];
    }
}
impl Item for Al8k {
    fn tag(&self) -> u64 {
        assert_eq!((self as *const Self).addr() % 8192, 0, "misaligned");
        self.0
    }
    fn kind(&self) -> Kind {
        Kind::Al8k
    }
    fn bump(&mut self) {
        self.0 = self.0.wrapping_add(1);
    }
}

/// The tag a value of `kind` made from `tag` reports.
fn norm(kind: Kind, tag: u64) -> u64 {
    match kind {
        Kind::Zst => 0,
        Kind::Small => tag as u8 as u64,
        _ => tag,
    }
}

/// Calls `$f!(value, coercion)` with a fresh value of `$kind`.
macro_rules! with_value {
    ($kind:expr, $tag:expr, |$v:ident| $body:expr) => {{
        let tag: u64 = $tag;
        match $kind {
            Kind::Zst => {
                let $v = Zst(Token::new());
                $body
            }
            Kind::Small => {
                let $v = Small(tag as u8, Token::new());
                $body
            }
            Kind::Word => {
                let $v = Word(tag, Token::new());
                $body
            }
            Kind::Mid => {
                let $v = Mid([tag; 24], Token::new());
                $body
            }
            Kind::Al64 => {
                let $v = Al64(tag, Token::new());
                $body
            }
            Kind::Page => {
                let $v = Page([tag; 512], Token::new());
                $body
            }
            Kind::Al8k => {
                let $v = Al8k(tag, Token::new());
                $body
            }
        }
    }};
}

/// Typed pop of `$kind` through `$pop::<T>()`, mapped to the value's tag.
macro_rules! pop_as {
    ($kind:expr, |$t:ident| $pop:expr) => {
        match $kind {
            Kind::Zst => {
                type $t = Zst;
                $pop.map(|v| v.tag())
            }
            Kind::Small => {
                type $t = Small;
                $pop.map(|v| v.tag())
            }
            Kind::Word => {
                type $t = Word;
                $pop.map(|v| v.tag())
            }
            Kind::Mid => {
                type $t = Mid;
                $pop.map(|v| v.tag())
            }
            Kind::Al64 => {
                type $t = Al64;
                $pop.map(|v| v.tag())
            }
            Kind::Page => {
                type $t = Page;
                $pop.map(|v| v.tag())
            }
            Kind::Al8k => {
                type $t = Al8k;
                $pop.map(|v| v.tag())
            }
        }
    };
}

#[derive(Debug, Clone)]
enum Op {
    PushBack(Kind, u64),
    PushFront(Kind, u64),
    PopFrontAs(Kind),
    PopBackAs(Kind),
    PopFrontBoxed,
    PopBackBoxed,
    DropFront,
    DropBack,
    /// `pop_front_with` (`pop_with` for a queue or stack); the closure
    /// reads the value, and panics if asked to.
    PopFrontWith(bool),
    /// `pop_back_with` (as `PopFrontWith` for a queue or stack).
    PopBackWith(bool),
    /// `drain_with` (for a deque, `pop_front_with` until empty).
    DrainWith,
    BumpAll,
    Shrink,
    Clear,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        3 => Just(Kind::Small),
        3 => Just(Kind::Word),
        2 => Just(Kind::Mid),
        2 => Just(Kind::Zst),
        2 => Just(Kind::Al64),
        1 => Just(Kind::Page),
        1 => Just(Kind::Al8k),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (kind(), any::<u64>()).prop_map(|(k, t)| Op::PushBack(k, t)),
        8 => (kind(), any::<u64>()).prop_map(|(k, t)| Op::PushFront(k, t)),
        3 => kind().prop_map(Op::PopFrontAs),
        3 => kind().prop_map(Op::PopBackAs),
        2 => Just(Op::PopFrontBoxed),
        2 => Just(Op::PopBackBoxed),
        2 => Just(Op::DropFront),
        2 => Just(Op::DropBack),
        2 => any::<bool>().prop_map(Op::PopFrontWith),
        2 => any::<bool>().prop_map(Op::PopBackWith),
        1 => Just(Op::DrainWith),
        1 => Just(Op::BumpAll),
        1 => Just(Op::Shrink),
        1 => Just(Op::Clear),
    ]
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: if cfg!(miri) { 2 } else { 1000 },
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn ops_len() -> core::ops::Range<usize> {
    if cfg!(miri) { 1..30 } else { 1..160 }
}

/// Pops through `pop`, whose closure reads the value's kind and tag, then
/// panics if `panics`: what it read, or `None` for an empty container (a
/// panic is caught, and what the closure read before it returned).
fn pop_with_probe(
    panics: bool,
    pop: impl FnOnce(&mut dyn FnMut(&mut dyn Item) -> (Kind, u64)) -> Option<(Kind, u64)>,
) -> Option<(Kind, u64)> {
    let mut seen = None;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        pop(&mut |v: &mut dyn Item| {
            seen = Some((v.kind(), v.tag()));
            if panics {
                panic!("the closure panics");
            }
            (v.kind(), v.tag())
        })
    }));
    match outcome {
        Ok(got) => {
            assert_eq!(got, seen);
            got
        }
        Err(_) => {
            assert!(panics && seen.is_some(), "only a closure that ran panics");
            seen
        }
    }
}

fn check_deque(deque: &MultisizePageDeque<dyn Item>, model: &VecDeque<(Kind, u64)>) {
    assert_eq!(deque.len(), model.len());
    let got: Vec<(Kind, u64)> = deque.iter().map(|v| (v.kind(), v.tag())).collect();
    let want: Vec<(Kind, u64)> = model.iter().copied().collect();
    assert_eq!(got, want);
    let back: Vec<(Kind, u64)> = deque.iter().rev().map(|v| (v.kind(), v.tag())).collect();
    assert!(back.iter().eq(want.iter().rev()));
    // `fold` (the page-by-page loop behind `sum`, `for_each`, ...) from
    // iterators already advanced at either end.
    let n = want.len();
    let splits = [(n / 3, n / 4), (0, 0), (1, 0), (0, 1), (n / 2, n - n / 2)];
    // Miri walks one split (its time budget); natively all of them.
    for &(k, j) in &splits[..if cfg!(miri) { 1 } else { splits.len() }] {
        if k + j > n {
            continue;
        }
        let mut it = deque.iter();
        it.by_ref().take(k).for_each(drop);
        for _ in 0..j {
            it.next_back();
        }
        let folded = it.fold(Vec::new(), |mut acc, v| {
            acc.push((v.kind(), v.tag()));
            acc
        });
        assert_eq!(folded, want[k..n - j], "fold after {k} front, {j} back");
    }
    assert_eq!(live() as usize, model.len());
    let stats = deque.stats();
    assert!(stats.live_bytes <= stats.reserved_bytes);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn deque_matches_a_vecdeque(ops in proptest::collection::vec(op(), ops_len())) {
        let base = live();
        assert_eq!(base, 0);
        let mut deque: MultisizePageDeque<dyn Item> =
            MultisizePageDeque::with_page_size(PageSize::DEFAULT);
        let mut model: VecDeque<(Kind, u64)> = VecDeque::new();
        for op in ops {
            match op {
                Op::PushBack(k, t) => {
                    with_value!(k, t, |v| deque.push_back(v, coercion!()));
                    model.push_back((k, norm(k, t)));
                }
                Op::PushFront(k, t) => {
                    with_value!(k, t, |v| deque.push_front(v, coercion!()));
                    model.push_front((k, norm(k, t)));
                }
                Op::PopFrontAs(k) => {
                    let got = pop_as!(k, |T| deque.pop_front::<T>());
                    let want = match model.front() {
                        Some(&(fk, tag)) if fk == k => model.pop_front().map(|_| tag),
                        _ => None,
                    };
                    prop_assert_eq!(got, want);
                }
                Op::PopBackAs(k) => {
                    let got = pop_as!(k, |T| deque.pop_back::<T>());
                    let want = match model.back() {
                        Some(&(fk, tag)) if fk == k => model.pop_back().map(|_| tag),
                        _ => None,
                    };
                    prop_assert_eq!(got, want);
                }
                Op::PopFrontBoxed => {
                    let got = deque.pop_front_boxed().map(|b| (b.kind(), b.tag()));
                    prop_assert_eq!(got, model.pop_front());
                }
                Op::PopBackBoxed => {
                    let got = deque.pop_back_boxed().map(|b| (b.kind(), b.tag()));
                    prop_assert_eq!(got, model.pop_back());
                }
                Op::DropFront => {
                    prop_assert_eq!(deque.drop_front(), model.pop_front().is_some());
                }
                Op::DropBack => {
                    prop_assert_eq!(deque.drop_back(), model.pop_back().is_some());
                }
                Op::PopFrontWith(panics) => {
                    let got = pop_with_probe(panics, |f| deque.pop_front_with(|v| f(v)));
                    prop_assert_eq!(got, model.pop_front());
                }
                Op::PopBackWith(panics) => {
                    let got = pop_with_probe(panics, |f| deque.pop_back_with(|v| f(v)));
                    prop_assert_eq!(got, model.pop_back());
                }
                Op::DrainWith => {
                    let mut got = Vec::new();
                    while deque.pop_front_with(|v| got.push((v.kind(), v.tag()))).is_some() {}
                    prop_assert!(got.iter().eq(model.iter()));
                    model.clear();
                }
                Op::BumpAll => {
                    // `for_each` runs `IterMut::fold`.
                    deque.iter_mut().for_each(|v| v.bump());
                    for (k, t) in model.iter_mut() {
                        *t = norm(*k, match k {
                            Kind::Zst => 0,
                            Kind::Small => (*t as u8).wrapping_add(1) as u64,
                            _ => t.wrapping_add(1),
                        });
                    }
                }
                Op::Shrink => {
                    let before = deque.pages();
                    deque.shrink_to_fit();
                    prop_assert!(deque.pages() <= before);
                }
                Op::Clear => {
                    deque.clear();
                    model.clear();
                }
            }
            check_deque(&deque, &model);
        }
        drop(deque);
        prop_assert_eq!(live(), 0, "every value dropped exactly once");
    }

    #[test]
    fn queue_matches_a_vecdeque(ops in proptest::collection::vec(op(), ops_len())) {
        let mut queue: MultisizePageQueue<dyn Item> = MultisizePageQueue::new();
        let mut model: VecDeque<(Kind, u64)> = VecDeque::new();
        for op in ops {
            match op {
                Op::PushBack(k, t) | Op::PushFront(k, t) => {
                    with_value!(k, t, |v| queue.push(v, coercion!()));
                    model.push_back((k, norm(k, t)));
                }
                Op::PopFrontAs(k) | Op::PopBackAs(k) => {
                    let got = pop_as!(k, |T| queue.pop::<T>());
                    let want = match model.front() {
                        Some(&(fk, tag)) if fk == k => model.pop_front().map(|_| tag),
                        _ => None,
                    };
                    prop_assert_eq!(got, want);
                }
                Op::PopFrontBoxed | Op::PopBackBoxed => {
                    let got = queue.pop_boxed().map(|b| (b.kind(), b.tag()));
                    prop_assert_eq!(got, model.pop_front());
                }
                Op::DropFront | Op::DropBack => {
                    prop_assert_eq!(queue.drop_front(), model.pop_front().is_some());
                }
                Op::PopFrontWith(panics) | Op::PopBackWith(panics) => {
                    let got = pop_with_probe(panics, |f| queue.pop_with(|v| f(v)));
                    prop_assert_eq!(got, model.pop_front());
                }
                Op::DrainWith => {
                    let mut got = Vec::new();
                    queue.drain_with(|v| got.push((v.kind(), v.tag())));
                    prop_assert!(got.iter().eq(model.iter()), "front to back");
                    model.clear();
                }
                Op::BumpAll => {
                    if let Some(v) = queue.peek_mut() {
                        v.bump();
                        let (k, t) = model.front_mut().unwrap();
                        *t = match k {
                            Kind::Zst => 0,
                            Kind::Small => (*t as u8).wrapping_add(1) as u64,
                            _ => t.wrapping_add(1),
                        };
                    }
                }
                Op::Shrink => queue.shrink_to_fit(),
                Op::Clear => {
                    queue.clear();
                    model.clear();
                }
            }
            prop_assert_eq!(queue.len(), model.len());
            prop_assert_eq!(queue.peek().map(|v| (v.kind(), v.tag())), model.front().copied());
            let got: Vec<_> = queue.iter().map(|v| (v.kind(), v.tag())).collect();
            prop_assert!(got.iter().eq(model.iter()));
            prop_assert_eq!(live() as usize, model.len());
        }
        drop(queue);
        prop_assert_eq!(live(), 0);
    }

    #[test]
    fn stack_matches_a_vec(ops in proptest::collection::vec(op(), ops_len())) {
        let mut stack: MultisizePageStack<dyn Item> = MultisizePageStack::new();
        let mut model: Vec<(Kind, u64)> = Vec::new();
        for op in ops {
            match op {
                Op::PushBack(k, t) | Op::PushFront(k, t) => {
                    with_value!(k, t, |v| stack.push(v, coercion!()));
                    model.push((k, norm(k, t)));
                }
                Op::PopFrontAs(k) | Op::PopBackAs(k) => {
                    let got = pop_as!(k, |T| stack.pop::<T>());
                    let want = match model.last() {
                        Some(&(fk, tag)) if fk == k => model.pop().map(|_| tag),
                        _ => None,
                    };
                    prop_assert_eq!(got, want);
                }
                Op::PopFrontBoxed | Op::PopBackBoxed => {
                    let got = stack.pop_boxed().map(|b| (b.kind(), b.tag()));
                    prop_assert_eq!(got, model.pop());
                }
                Op::DropFront | Op::DropBack => {
                    prop_assert_eq!(stack.drop_top(), model.pop().is_some());
                }
                Op::PopFrontWith(panics) | Op::PopBackWith(panics) => {
                    let got = pop_with_probe(panics, |f| stack.pop_with(|v| f(v)));
                    prop_assert_eq!(got, model.pop());
                }
                Op::DrainWith => {
                    let mut got = Vec::new();
                    stack.drain_with(|v| got.push((v.kind(), v.tag())));
                    prop_assert!(got.iter().eq(model.iter().rev()), "top first");
                    model.clear();
                }
                Op::BumpAll => {
                    for v in &mut stack {
                        v.bump();
                    }
                    for (k, t) in model.iter_mut() {
                        *t = match k {
                            Kind::Zst => 0,
                            Kind::Small => (*t as u8).wrapping_add(1) as u64,
                            _ => t.wrapping_add(1),
                        };
                    }
                }
                Op::Shrink => stack.shrink_to_fit(),
                Op::Clear => {
                    stack.clear();
                    model.clear();
                }
            }
            prop_assert_eq!(stack.len(), model.len());
            let got: Vec<_> = stack.iter().map(|v| (v.kind(), v.tag())).collect();
            prop_assert!(got.iter().eq(model.iter().rev()), "top first");
            prop_assert_eq!(live() as usize, model.len());
        }
        drop(stack);
        prop_assert_eq!(live(), 0);
    }
}

#[test]
fn every_kind_round_trips_through_every_pop() {
    for (i, &k) in KINDS.iter().enumerate() {
        let mut deque: MultisizePageDeque<dyn Item> = MultisizePageDeque::new();
        with_value!(k, i as u64 + 1, |v| deque.push_back(v, coercion!()));
        with_value!(k, i as u64 + 2, |v| deque.push_front(v, coercion!()));
        assert_eq!(
            pop_as!(k, |T| deque.pop_back::<T>()),
            Some(norm(k, i as u64 + 1))
        );
        let boxed = deque.pop_front_boxed().unwrap();
        assert_eq!((boxed.kind(), boxed.tag()), (k, norm(k, i as u64 + 2)));
        drop(boxed);
        assert_eq!(live(), 0);
    }
}

/// A value whose destructor panics when asked to.
struct Bomb(bool, Token);
impl Item for Bomb {
    fn tag(&self) -> u64 {
        99
    }
    fn kind(&self) -> Kind {
        Kind::Word
    }
    fn bump(&mut self) {}
}
impl Drop for Bomb {
    fn drop(&mut self) {
        if self.0 {
            panic!("bomb");
        }
    }
}

#[test]
fn panicking_destructors_lose_and_double_drop_nothing() {
    // drop_front / drop_back: the record is removed despite the panic.
    let mut deque: MultisizePageDeque<dyn Item> = MultisizePageDeque::new();
    deque.push_back(Bomb(true, Token::new()), coercion!());
    deque.push_back(Word(1, Token::new()), coercion!());
    deque.push_back(Bomb(true, Token::new()), coercion!());
    assert!(catch_unwind(AssertUnwindSafe(|| deque.drop_front())).is_err());
    assert_eq!(deque.len(), 2);
    assert_eq!(live(), 2, "the bomb's fields were dropped while unwinding");
    assert!(catch_unwind(AssertUnwindSafe(|| deque.drop_back())).is_err());
    assert_eq!(deque.len(), 1);
    assert_eq!(deque.front().map(|v| v.tag()), Some(1));
    drop(deque);
    assert_eq!(live(), 0);

    // clear: every other value is still dropped, then the panic resumes.
    let mut queue: MultisizePageQueue<dyn Item> = MultisizePageQueue::new();
    for i in 0..50 {
        if i == 10 {
            queue.push(Bomb(true, Token::new()), coercion!());
        } else {
            queue.push(Word(i, Token::new()), coercion!());
        }
    }
    assert!(catch_unwind(AssertUnwindSafe(|| queue.clear())).is_err());
    assert!(queue.is_empty());
    assert_eq!(live(), 0);
    queue.push(Word(5, Token::new()), coercion!());
    assert_eq!(queue.pop::<Word>().map(|w| w.0), Some(5));

    // Container drop.
    let mut stack: MultisizePageStack<dyn Item> = MultisizePageStack::new();
    for i in 0..20 {
        stack.push(Mid([i; 24], Token::new()), coercion!());
        if i == 5 {
            stack.push(Bomb(true, Token::new()), coercion!());
        }
    }
    assert!(catch_unwind(AssertUnwindSafe(move || drop(stack))).is_err());
    assert_eq!(live(), 0);

    // A boxed pop hands the bomb over; it goes off in the caller's hands.
    let mut deque: MultisizePageDeque<dyn Item> = MultisizePageDeque::new();
    deque.push_back(Bomb(true, Token::new()), coercion!());
    let boxed = deque.pop_front_boxed().unwrap();
    assert!(deque.is_empty());
    assert!(catch_unwind(AssertUnwindSafe(move || drop(boxed))).is_err());
    assert_eq!(live(), 0);
}

#[test]
fn compaction_repacks_pages_and_keeps_values_usable() {
    let mut deque: MultisizePageDeque<dyn Item> = MultisizePageDeque::new();
    // Every push_front after a push_back run starts a front page; the
    // pattern leaves many thin pages.
    for i in 0..40u64 {
        deque.push_back(Mid([i; 24], Token::new()), coercion!());
        deque.push_front(Word(i, Token::new()), coercion!());
        deque.push_back(Al64(i, Token::new()), coercion!());
        deque.push_back(Page([i; 512], Token::new()), coercion!());
    }
    let before: Vec<(Kind, u64)> = deque.iter().map(|v| (v.kind(), v.tag())).collect();
    // Thin out the middle by popping from both ends, then fragment.
    let pages = deque.pages();
    let reserved = deque.stats().reserved_bytes;
    deque.shrink_to_fit();
    assert!(deque.pages() <= pages);
    assert!(deque.stats().reserved_bytes <= reserved);
    let after: Vec<(Kind, u64)> = deque.iter().map(|v| (v.kind(), v.tag())).collect();
    assert_eq!(before, after);
    // Values moved by compaction are still typed, mutable and droppable.
    for v in deque.iter_mut() {
        v.bump();
    }
    assert_eq!(deque.pop_back::<Page>().map(|p| p.tag()), Some(40));
    assert_eq!(deque.front().map(|v| v.tag()), Some(40));
    drop(deque);
    assert_eq!(live(), 0);
}

#[test]
fn thin_front_pages_are_repacked() {
    let mut deque: MultisizePageDeque<dyn Item> = MultisizePageDeque::new();
    for i in 0..10u64 {
        deque.push_back(Word(i, Token::new()), coercion!());
    }
    // A push at the front opens a fresh page holding one record.
    deque.push_front(Word(100, Token::new()), coercion!());
    assert_eq!(deque.pages(), 2);
    deque.shrink_to_fit();
    assert_eq!(deque.pages(), 1);
    assert_eq!(
        deque.stats().reserved_bytes,
        MultisizePageDeque::<dyn Item>::DEFAULT_PAGE_SIZE.get(),
        "spare page returned too"
    );
    let tags: Vec<u64> = deque.iter().map(|v| v.tag()).collect();
    assert_eq!(tags, [100, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    while deque.drop_back() {}
    deque.shrink_to_fit();
    assert_eq!(deque.stats().reserved_bytes, 0);
    assert_eq!(live(), 0);
}

#[test]
fn the_stack_grows_backwards_in_memory() {
    let mut stack: MultisizePageStack<dyn Item> = MultisizePageStack::new();
    let mut last = usize::MAX;
    for i in 0..20u64 {
        stack.push(Word(i, Token::new()), coercion!());
        let top: *const dyn Item = stack.peek().unwrap();
        assert!(
            top.cast::<u8>().addr() < last,
            "each push sits below the one before"
        );
        last = top.cast::<u8>().addr();
        let info = stack.header_for(top).unwrap();
        assert_eq!(info.records, i as usize + 1);
    }
    let on_stack = 0u8;
    assert!(stack.header_for(&on_stack).is_none());
    drop(stack);
    assert_eq!(live(), 0);
}

#[test]
fn headers_are_found_from_values_and_large_values_live_outside() {
    let mut queue: MultisizePageQueue<dyn Item> = MultisizePageQueue::new();
    queue.push(Word(1, Token::new()), coercion!());
    queue.push(Page([2; 512], Token::new()), coercion!());
    queue.push(Zst(Token::new()), coercion!());
    let values: Vec<*const dyn Item> = queue.iter().map(|v| v as *const dyn Item).collect();
    let info = queue.header_for(values[0]).expect("an in-page value");
    assert_eq!(info.records, 3, "the page holds all three records");
    let page = MultisizePageQueue::<dyn Item>::DEFAULT_PAGE_SIZE.get();
    assert_eq!(info.page_bytes, page);
    assert!(
        queue.header_for(values[1]).is_none(),
        "a page-sized value is heap-placed"
    );
    assert!(
        queue.header_for(values[2]).is_none(),
        "a zero-sized value takes no page"
    );
    let stats = queue.stats();
    assert_eq!(stats.live_bytes, size_of::<Word>() + size_of::<Page>());
    assert_eq!(
        stats.reserved_bytes,
        page + size_of::<Page>(),
        "one page and one heap block"
    );
    assert!(queue.drop_front());
    let info = queue
        .header_for(values[0])
        .expect("the page still holds records");
    assert_eq!(info.records, 2, "counted from the page's chain");
    assert!(queue.drop_front() && queue.drop_front());
    let info = queue
        .header_for(values[0])
        .expect("an emptied page is kept for reuse");
    assert_eq!(info.records, 0);
    queue.shrink_to_fit();
    assert!(
        queue.header_for(values[0]).is_none(),
        "shrink_to_fit released it"
    );
    assert_eq!(queue.stats().reserved_bytes, 0);
    assert_eq!(live(), 0);
}

#[test]
fn slices_and_sized_targets_work_too() {
    let mut bytes: MultisizePageDeque<[u8]> = MultisizePageDeque::new();
    bytes.push_back([1u8, 2, 3], coercion!());
    bytes.push_back([0u8; 0], coercion!());
    bytes.push_front([9u8; 2000], coercion!());
    let lens: Vec<usize> = bytes.iter().map(<[u8]>::len).collect();
    assert_eq!(lens, [2000, 3, 0]);
    assert_eq!(bytes.pop_back::<[u8; 0]>(), Some([]));
    assert_eq!(&*bytes.pop_back_boxed().unwrap(), &[1, 2, 3]);
    assert_eq!(bytes.pop_front::<[u8; 2000]>().map(|a| a[1999]), Some(9));

    let mut words: MultisizePageStack<u64> = MultisizePageStack::new();
    for i in 0..1000 {
        words.push(i, coercion!());
    }
    assert_eq!(words.iter().copied().sum::<u64>(), 999 * 1000 / 2);
    assert_eq!(words.pop::<u64>(), Some(999));
    assert_eq!(words.pop::<u32>(), None, "not a u32");
    assert_eq!(words.len(), 999);
}

#[test]
fn containers_are_send_when_their_values_are() {
    fn send<T: Send>(_: &T) {}
    let mut q: MultisizePageQueue<dyn Item + Send> = MultisizePageQueue::new();
    q.push(Word(3, Token::new()), coercion!());
    send(&q);
    let handle = std::thread::spawn(move || q.pop::<Word>().map(|w| w.0));
    assert_eq!(handle.join().unwrap(), Some(3));
}

/// A value too large for a page (its own heap block) whose destructor
/// panics.
struct BigBomb([u64; 300], Token);
impl Item for BigBomb {
    fn tag(&self) -> u64 {
        self.0[299]
    }
    fn kind(&self) -> Kind {
        Kind::Word
    }
    fn bump(&mut self) {}
}
impl Drop for BigBomb {
    fn drop(&mut self) {
        panic!("big bomb");
    }
}

#[test]
fn a_panicking_large_value_still_frees_its_block() {
    // Miri's leak check fails this test if a block is lost on unwind.
    let mut queue: MultisizePageQueue<dyn Item> = MultisizePageQueue::new();
    queue.push(BigBomb([7; 300], Token::new()), coercion!());
    queue.push(Bomb(false, Token::new()), coercion!());
    assert!(
        queue.stats().reserved_bytes >= 2400,
        "the big value has a block"
    );
    assert_eq!(queue.peek().map(|v| v.tag()), Some(7));
    assert!(catch_unwind(AssertUnwindSafe(|| queue.drop_front())).is_err());
    assert_eq!(queue.len(), 1, "the record went with its value");
    assert_eq!(queue.peek().map(|v| v.tag()), Some(99));
    let mut stack: MultisizePageStack<dyn Item> = MultisizePageStack::new();
    stack.push(Bomb(false, Token::new()), coercion!());
    stack.push(BigBomb([1; 300], Token::new()), coercion!());
    stack.push(Bomb(false, Token::new()), coercion!());
    assert!(catch_unwind(AssertUnwindSafe(|| stack.clear())).is_err());
    assert!(stack.is_empty());
    drop(queue);
    assert_eq!(live(), 0);
}
