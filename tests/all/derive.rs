//! Expansion tests of `#[derive(Managed)]`: every struct shape, enums,
//! generics, lifetimes, const generics, nested managed fields, containers of
//! references, plain (ordinary `'static`) fields, skipped and renamed
//! fields, the proxy accessors (cloning, lending, setting), and methods
//! forwarded by `#[managed::forward]`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::marker::PhantomData;
use std::ptr::NonNull;

use managed::prelude::*;

/// A hand-written direct managed reference (as a region `Item` is), branded
/// with a lifetime like the real ones.
#[derive(Debug, Clone, PartialEq)]
struct Ref<'id>(NonNull<u8>, PhantomData<&'id ()>);

impl Ref<'_> {
    fn at(addr: usize) -> Self {
        Ref(NonNull::new(addr as *mut u8).unwrap(), PhantomData)
    }
    fn addr(&self) -> usize {
        self.0.as_ptr() as usize
    }
}

// SAFETY: the one reference is visited, in place.
unsafe impl Managed for Ref<'_> {
    const HAS_REFS: bool = true;
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        visitor.visit(&mut self.0);
    }
}

/// Counts visits and moves every visited reference up by 1000, as a
/// compactor rewriting addresses would.
#[derive(Default)]
struct Relocate {
    seen: Vec<usize>,
}

// SAFETY: used only on this file's `Ref`s, whose addresses are never
// dereferenced, so rewriting them to made-up addresses is harmless.
unsafe impl Visitor for Relocate {
    fn visit(&mut self, target: &mut NonNull<u8>) {
        self.seen.push(target.as_ptr() as usize);
        *target = NonNull::new((target.as_ptr() as usize + 1000) as *mut u8).unwrap();
    }
}

fn relocate<T: Managed>(value: &mut T) -> Vec<usize> {
    let mut visitor = Relocate::default();
    value.visit_refs(&mut visitor);
    visitor.seen
}

#[derive(Managed)]
struct Named<'id> {
    first: Ref<'id>,
    count: u32,
    second: Ref<'id>,
}

#[derive(Managed)]
struct Tuple<'id>(u8, Ref<'id>, Option<Ref<'id>>);

#[derive(Managed)]
struct Unit;

#[derive(Managed)]
struct Leaf {
    a: i32,
    b: String,
}

#[test]
fn struct_shapes_visit_every_field_in_place() {
    let mut named = Named {
        first: Ref::at(1),
        count: 7,
        second: Ref::at(2),
    };
    assert_eq!(relocate(&mut named), [1, 2]);
    assert_eq!(
        (named.first.addr(), named.second.addr(), named.count),
        (1001, 1002, 7)
    );

    let mut tuple = Tuple(9, Ref::at(3), Some(Ref::at(4)));
    assert_eq!(relocate(&mut tuple), [3, 4]);
    assert_eq!(tuple.2.as_ref().map(Ref::addr), Some(1004));
    tuple.2 = None;
    assert_eq!(relocate(&mut tuple), [1003]);
    assert_eq!(tuple.0, 9);

    assert_eq!(relocate(&mut Unit), Vec::<usize>::new());
    const {
        assert!(<Named<'static> as Managed>::HAS_REFS);
        assert!(<Tuple<'static> as Managed>::HAS_REFS);
        assert!(!<Unit as Managed>::HAS_REFS);
        assert!(!<Leaf as Managed>::HAS_REFS);
    }
    let mut leaf = Leaf {
        a: 1,
        b: "x".into(),
    };
    assert!(relocate(&mut leaf).is_empty());
    assert_eq!((leaf.a, leaf.b.as_str()), (1, "x"));
}

#[derive(Managed)]
enum Shape<'id> {
    Empty,
    One(Ref<'id>),
    Pair { left: Ref<'id>, right: Ref<'id> },
    Plain(#[allow(dead_code)] u64),
}

#[derive(Managed)]
enum Never {}

#[derive(Managed)]
#[allow(dead_code)]
enum NoRefs {
    A(u8),
    B { s: String },
}

#[test]
fn enums_visit_the_fields_of_the_present_variant() {
    let mut shapes = vec![
        Shape::Empty,
        Shape::One(Ref::at(10)),
        Shape::Pair {
            left: Ref::at(11),
            right: Ref::at(12),
        },
        Shape::Plain(5),
    ];
    assert_eq!(relocate(&mut shapes), [10, 11, 12]);
    let Shape::Pair { left, right } = &shapes[2] else {
        panic!("variant changed")
    };
    assert_eq!((left.addr(), right.addr()), (1011, 1012));
    const {
        assert!(<Shape<'static> as Managed>::HAS_REFS);
        assert!(!<Never as Managed>::HAS_REFS);
        assert!(!<NoRefs as Managed>::HAS_REFS);
    }
    let mut plain = NoRefs::B { s: "s".into() };
    assert!(relocate(&mut plain).is_empty());
    let mut a = NoRefs::A(1);
    assert!(relocate(&mut a).is_empty());
}

/// Generic over a type, with a where clause, a lifetime and a default.
#[derive(Managed)]
struct Generic<'id, T, U = u8>
where
    T: Clone,
{
    items: Vec<T>,
    extra: U,
    anchor: Option<Ref<'id>>,
}

#[derive(Managed)]
struct ConstGeneric<'id, const N: usize> {
    refs: [Ref<'id>; N],
}

#[test]
fn generics_lifetimes_and_const_generics() {
    let mut g: Generic<'_, Ref<'_>> = Generic {
        items: vec![Ref::at(1), Ref::at(2)],
        extra: 3,
        anchor: Some(Ref::at(4)),
    };
    assert_eq!(relocate(&mut g), [1, 2, 4]);
    assert_eq!(g.items[1].addr(), 1002);
    assert_eq!(g.extra, 3);

    let mut plain: Generic<'_, u32, String> = Generic {
        items: vec![1],
        extra: String::new(),
        anchor: None,
    };
    assert!(relocate(&mut plain).is_empty());
    const {
        assert!(<Generic<'static, u32> as Managed>::HAS_REFS);
        assert!(<Generic<'static, Ref<'static>> as Managed>::HAS_REFS);
    }

    let mut c = ConstGeneric {
        refs: [Ref::at(5), Ref::at(6), Ref::at(7)],
    };
    assert_eq!(relocate(&mut c), [5, 6, 7]);
    assert_eq!(c.refs[2].addr(), 1007);
    const { assert!(<ConstGeneric<'static, 0> as Managed>::HAS_REFS) };
}

/// Nested managed types and every std container the trait covers.
#[derive(Managed)]
struct Containers<'id> {
    nested: Named<'id>,
    boxed: Box<Shape<'id>>,
    list: Vec<Ref<'id>>,
    deque: VecDeque<Option<Ref<'id>>>,
    array: [Ref<'id>; 2],
    tuple: (u8, Ref<'id>),
    hash: HashMap<u32, Ref<'id>>,
    btree: BTreeMap<String, Vec<Ref<'id>>>,
    result: Result<Ref<'id>, u8>,
}

#[test]
fn nested_managed_fields_and_containers_of_references() {
    let mut value = Containers {
        nested: Named {
            first: Ref::at(1),
            count: 0,
            second: Ref::at(2),
        },
        boxed: Box::new(Shape::One(Ref::at(3))),
        list: vec![Ref::at(4), Ref::at(5)],
        deque: VecDeque::from([None, Some(Ref::at(6))]),
        array: [Ref::at(7), Ref::at(8)],
        tuple: (0, Ref::at(9)),
        hash: HashMap::from([(1, Ref::at(10))]),
        btree: BTreeMap::from([("k".to_owned(), vec![Ref::at(11), Ref::at(12)])]),
        result: Ok(Ref::at(13)),
    };
    let mut seen = relocate(&mut value);
    seen.sort_unstable();
    assert_eq!(seen, (1..=13).collect::<Vec<_>>());
    assert_eq!(value.nested.second.addr(), 1002);
    assert_eq!(value.hash[&1].addr(), 1010);
    assert_eq!(value.btree["k"][1].addr(), 1012);
    assert_eq!(value.deque[1].as_ref().map(Ref::addr), Some(1006));
    // A second walk sees the rewritten addresses, once each.
    assert_eq!(relocate(&mut value).len(), 13);
}

/// A recursive type: its own `HAS_REFS` is conservatively true.
#[derive(Managed)]
struct List<'id> {
    head: Ref<'id>,
    next: Option<Box<List<'id>>>,
}

#[derive(Managed)]
struct Tree<T> {
    value: T,
    children: Vec<Tree<T>>,
}

#[test]
fn recursive_types_visit_the_whole_chain() {
    let mut list = List {
        head: Ref::at(1),
        next: Some(Box::new(List {
            head: Ref::at(2),
            next: Some(Box::new(List {
                head: Ref::at(3),
                next: None,
            })),
        })),
    };
    assert_eq!(relocate(&mut list), [1, 2, 3]);
    let mut tree = Tree {
        value: Ref::at(1),
        children: vec![Tree {
            value: Ref::at(2),
            children: vec![],
        }],
    };
    assert_eq!(relocate(&mut tree), [1, 2]);
    let mut numbers = Tree {
        value: 1u8,
        children: vec![],
    };
    assert!(relocate(&mut numbers).is_empty());
}

/// `skip` leaves a `'static` field out of the walk and of `HAS_REFS`.
#[derive(Managed)]
struct Skipping<'id> {
    kept: Ref<'id>,
    #[managed(skip)]
    cache: Vec<std::rc::Rc<u8>>,
    #[managed(skip)]
    raw: NonNull<u8>,
}

#[derive(Managed)]
struct OnlySkipped {
    #[managed(skip)]
    _handle: std::rc::Rc<str>,
}

#[test]
fn skipped_fields_are_not_visited() {
    let mut s = Skipping {
        kept: Ref::at(1),
        cache: vec![std::rc::Rc::new(1)],
        raw: NonNull::new(2 as *mut u8).unwrap(),
    };
    assert_eq!(relocate(&mut s), [1]);
    assert_eq!(s.raw.as_ptr() as usize, 2);
    assert_eq!(*s.cache[0], 1);
    const { assert!(!<OnlySkipped as Managed>::HAS_REFS) };
    let mut o = OnlySkipped {
        _handle: "x".into(),
    };
    assert!(relocate(&mut o).is_empty());
}

#[derive(Managed, Clone, Debug, PartialEq)]
struct Accessed {
    a: i32,
    #[managed(rename = "label")]
    name: String,
    #[managed(skip)]
    cached: u64,
    r#type: u8,
}

#[derive(Managed)]
struct Pair<T>(T, T);

/// A field type that is not `Clone`: only its setter is usable.
struct Opaque(u8);
// SAFETY: holds no reference.
unsafe impl Managed for Opaque {
    const HAS_REFS: bool = false;
    fn visit_refs<V: Visitor + ?Sized>(&mut self, _visitor: &mut V) {}
}

#[derive(Managed)]
struct HoldsOpaque {
    opaque: Opaque,
    n: u8,
}

#[test]
fn accessors_on_pool_and_simple_proxies() {
    let pool = ContiguousUniformPool::new();
    let p = pool.alloc(Accessed {
        a: 1,
        name: "one".into(),
        cached: 9,
        r#type: 3,
    });
    let q = pool.alloc(Accessed {
        a: 2,
        name: "two".into(),
        cached: 8,
        r#type: 4,
    });
    assert_eq!((p.a(), p.label(), p.r#type()), (1, "one".to_owned(), 3));
    p.set_a(10);
    p.set_label("ten".into());
    q.set_type(40);
    assert_eq!(
        p.with(|s| (s.a, s.name.clone(), s.cached)),
        (10, "ten".into(), 9)
    );
    assert_eq!(q.r#type(), 40);
    drop(p);
    assert_eq!(q.a(), 2);

    let s = SimpleProxy::new(Accessed {
        a: 5,
        name: String::new(),
        cached: 0,
        r#type: 0,
    });
    s.set_a(6);
    assert_eq!(s.a(), 6);

    let pair = SimpleProxy::new(Pair(1u8, 2u8));
    pair.set_1(20);
    assert_eq!((pair._0(), pair._1()), (1, 20));
    let pooled_pairs = ContiguousUniformPool::new();
    let pp = pooled_pairs.alloc(Pair("a".to_owned(), "b".to_owned()));
    pp.set_0("z".into());
    assert_eq!(pp._0(), "z");

    let o = SimpleProxy::new(HoldsOpaque {
        opaque: Opaque(1),
        n: 2,
    });
    o.set_opaque(Opaque(7));
    assert_eq!((o.with(|h| h.opaque.0), o.n()), (7, 2));
}

mod elsewhere {
    use managed::prelude::*;

    #[derive(Managed)]
    pub(crate) struct Public {
        pub(crate) visible: u32,
    }
}

#[test]
fn accessors_work_from_other_modules_without_imports() {
    let p = SimpleProxy::new(elsewhere::Public { visible: 3 });
    p.set_visible(4);
    assert_eq!(p.visible(), 4);
}

#[test]
fn setter_drops_the_old_value_after_the_access() {
    use std::cell::Cell;
    use std::rc::Rc;

    /// Counts its drops.
    struct Probe(Rc<Cell<u32>>);
    impl Drop for Probe {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    // SAFETY: holds no reference.
    unsafe impl Managed for Probe {
        const HAS_REFS: bool = false;
        fn visit_refs<V: Visitor + ?Sized>(&mut self, _visitor: &mut V) {}
    }
    #[derive(Managed)]
    struct Holder {
        probe: Probe,
    }
    let drops = Rc::new(Cell::new(0));
    let pool = ContiguousUniformPool::new();
    let h = pool.alloc(Holder {
        probe: Probe(drops.clone()),
    });
    h.set_probe(Probe(drops.clone()));
    assert_eq!(drops.get(), 1);
    drop(h);
    assert_eq!(drops.get(), 2);
}

#[derive(Managed)]
enum Either<L, R> {
    Left(L),
    Right(R),
    Noted {
        #[managed(skip)]
        note: &'static str,
        inner: L,
    },
}

#[test]
fn generic_enums_and_skipped_variant_fields() {
    let mut values: Vec<Either<Ref<'_>, u8>> = vec![
        Either::Left(Ref::at(1)),
        Either::Right(5),
        Either::Noted {
            note: "n",
            inner: Ref::at(2),
        },
    ];
    assert_eq!(relocate(&mut values), [1, 2]);
    let Either::Noted { note, inner } = &values[2] else {
        panic!("variant changed")
    };
    assert_eq!((*note, inner.addr()), ("n", 1002));
    const {
        assert!(<Either<Ref<'static>, u8> as Managed>::HAS_REFS);
        assert!(!<Either<u8, String> as Managed>::HAS_REFS);
    }
}

/// An ordinary user type: no `Managed` impl, no attribute.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Vec2 {
    x: f32,
    y: f32,
}

slotmap::new_key_type! {
    /// A key type of this test's pools.
    struct ThingKey;
}

/// Plain fields of every kind sit beside visited ones: none needs an impl
/// or an attribute, none is visited, and all keep their accessors.
#[derive(Managed)]
struct Ordinary<'id> {
    position: Vec2,
    tags: std::collections::HashSet<u32>,
    shared: std::rc::Rc<std::cell::Cell<u8>>,
    callback: Box<dyn Fn(u32) -> u32>,
    name: Option<String>,
    key: ThingKey,
    keys: Vec<slotmap::DefaultKey>,
    label: &'static str,
    anchor: Ref<'id>,
}

#[test]
fn plain_fields_need_no_impl_and_are_not_visited() {
    let cell = std::rc::Rc::new(std::cell::Cell::new(3));
    let mut value = Ordinary {
        position: Vec2 { x: 1.0, y: 2.0 },
        tags: [4, 5].into(),
        shared: cell.clone(),
        callback: Box::new(|x| x + 1),
        name: Some("n".into()),
        key: ThingKey::default(),
        keys: vec![],
        label: "l",
        anchor: Ref::at(8),
    };
    assert_eq!(relocate(&mut value), [8], "only the reference is visited");
    assert_eq!(value.anchor.addr(), 1008);
    const { assert!(<Ordinary<'static> as Managed>::HAS_REFS) };

    #[derive(Managed)]
    #[allow(dead_code)]
    struct AllPlain {
        position: Vec2,
        tags: std::collections::HashSet<u32>,
        key: ThingKey,
    }
    const { assert!(!<AllPlain as Managed>::HAS_REFS) };

    let p = SimpleProxy::new(value);
    assert_eq!(p.position(), Vec2 { x: 1.0, y: 2.0 });
    p.set_position(Vec2::default());
    assert_eq!(p.with_position(|v| v.x), 0.0);
    assert_eq!(p.with_tags(std::collections::HashSet::len), 2);
    p.with_shared(|c| c.set(4));
    assert_eq!(cell.get(), 4);
    assert_eq!(p.with_callback(|f| f(1)), 2);
    assert_eq!((p.label(), p.key()), ("l", ThingKey::default()));
    p.with_keys_mut(|keys| keys.push(slotmap::DefaultKey::default()));
    assert_eq!(p.with_keys(Vec::len), 1);
    assert_eq!(p.with(|o| o.anchor.addr()), 1008);
    assert_eq!(p.with_name(|n| n.clone()), Some("n".to_owned()));
}

/// Counts the clones of a `String`-like field, so the tests can tell a
/// lending accessor from a cloning one.
#[derive(Debug, PartialEq)]
struct Counted(String, std::rc::Rc<std::cell::Cell<u32>>);

impl Clone for Counted {
    fn clone(&self) -> Self {
        self.1.set(self.1.get() + 1);
        Counted(self.0.clone(), self.1.clone())
    }
}

#[derive(Managed)]
struct Named2 {
    name: Counted,
    #[managed(rename = "tag")]
    label: String,
    #[managed(skip)]
    hidden: u64,
    #[managed(accessors = false)]
    _private: u8,
    _handle: u8,
}

#[test]
fn lending_accessors_read_and_write_without_cloning() {
    let clones = std::rc::Rc::new(std::cell::Cell::new(0));
    let value = || Named2 {
        name: Counted("particle".into(), clones.clone()),
        label: "x".into(),
        hidden: 5,
        _private: 0,
        _handle: 1,
    };
    let pool = ContiguousUniformPool::new();
    let p = pool.alloc(value());
    assert_eq!(p.with_name(|n| n.0.len()), 8);
    p.with_name_mut(|n| n.0.push('s'));
    assert_eq!(clones.get(), 0, "lending accessors never clone");
    assert_eq!(p.name().0, "particles");
    assert_eq!(clones.get(), 1, "the getter clones");
    // Renamed: every accessor takes the new name.
    assert_eq!(p.with_tag(String::len), 1);
    p.with_tag_mut(|t| t.push('y'));
    p.set_tag(p.tag() + "z");
    assert_eq!(p.tag(), "xyz");
    // A skipped field keeps its accessors.
    p.set_hidden(6);
    assert_eq!((p.hidden(), p.with_hidden(|h| *h)), (6, 6));
    // Leading underscores leave the getter's name but not the others'.
    p.set_handle(2);
    assert_eq!((p._handle(), p.with_handle(|h| *h)), (2, 2));
    let s = SimpleProxy::new(value());
    assert_eq!(s.with_name(|n| n.0.clone()), "particle");
    assert_eq!(s.with(|v| v._private), 0);
    // Tuple fields: `_N`, `with_N`, `with_N_mut`, `set_N`.
    let pair = SimpleProxy::new(Pair(String::from("a"), String::from("b")));
    pair.with_1_mut(|b| b.push('c'));
    assert_eq!((pair.with_0(String::len), pair._1()), (1, "bc".to_owned()));
}

/// A derive-generated accessor or forwarded method that panics (the pool
/// borrowed in a conflicting way, or the proxy's object removed by key)
/// names itself, not the `with` / `with_mut` it runs inside, and points at
/// the caller's line.
#[test]
fn accessors_panic_naming_themselves_at_the_callers_line() {
    let pool = ContiguousUniformPool::new();
    let p = pool.alloc(Accessed {
        a: 1,
        name: String::new(),
        cached: 0,
        r#type: 0,
    });
    // The message and location of the panic `f` raises (the hook records
    // this thread's panics only: other tests may panic meanwhile).
    let panic_of = |f: &dyn Fn()| {
        let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
        let hook_seen = seen.clone();
        let me = std::thread::current().id();
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().id() == me {
                *hook_seen.lock().unwrap() =
                    info.location().map(|l| (l.file().to_owned(), l.line()));
            }
        }));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        std::panic::set_hook(previous);
        let payload = result.expect_err("the call did not panic");
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        let location = seen.lock().unwrap().clone();
        (message, location)
    };
    let borrowed = |name: &str| {
        format!(
            "ContiguousUniformPool: `{name}` called while the pool is already borrowed (inside \
             `map`, `retain`, a `with`/`with_mut` closure, or while a \
             PoolRef/PoolRefMut/ObjectRef/ObjectMut lives)"
        )
    };
    // The file and line a panic must point at.
    let at_line = |line: u32| Some((file!().to_owned(), line));

    // The pool borrowed: each accessor, shared or exclusive, names itself.
    let (msg, at) = panic_of(&|| pool.map(|_| _ = p.a()));
    assert_eq!((msg, at), (borrowed("a"), at_line(line!() - 1)));
    let (msg, at) = panic_of(&|| pool.map(|_| p.with_label(|_| ())));
    assert_eq!((msg, at), (borrowed("with_label"), at_line(line!() - 1)));
    let (msg, at) = panic_of(&|| p.with(|_| p.set_a(2)));
    assert_eq!((msg, at), (borrowed("set_a"), at_line(line!() - 1)));
    let (msg, at) = panic_of(&|| p.with(|_| p.with_label_mut(|_| ())));
    let line = line!() - 1;
    assert_eq!((msg, at), (borrowed("with_label_mut"), at_line(line)));
    let (msg, at) = panic_of(&|| pool.map(|_| _ = p.doubled()));
    assert_eq!((msg, at), (borrowed("doubled"), at_line(line!() - 1)));
    let (msg, at) = panic_of(&|| p.with(|_| _ = p.bump(1)));
    assert_eq!((msg, at), (borrowed("bump"), at_line(line!() - 1)));
    // A raw field name is given unraw, as the user reads it.
    let (msg, at) = panic_of(&|| p.with(|_| p.set_type(1)));
    assert_eq!((msg, at), (borrowed("set_type"), at_line(line!() - 1)));
    let (msg, _) = panic_of(&|| pool.map(|_| _ = p.r#type()));
    assert_eq!(msg, borrowed("type"));
    // `with` and `with_mut` still name themselves.
    let (msg, _) = panic_of(&|| pool.map(|_| p.with(|_| ())));
    assert_eq!(msg, borrowed("with"));
    let (msg, _) = panic_of(&|| p.with(|_| p.with_mut(|_| ())));
    assert_eq!(msg, borrowed("with_mut"));
    // An accessor named like a pool method gets no hint meant for it.
    let clashing = ContiguousUniformPool::new();
    let q = clashing.alloc(Clashing { remove: 3 });
    let (msg, at) = panic_of(&|| q.with(|_| q.set_remove(4)));
    assert_eq!((msg, at), (borrowed("set_remove"), at_line(line!() - 1)));
    let (msg, _) = panic_of(&|| clashing.map(|_| _ = q.remove()));
    assert_eq!(msg, borrowed("remove"), "no hint to use `remove_deferred`");

    // The object removed by key: the accessor names itself too.
    assert!(pool.remove_deferred(Proxy::key(&p)));
    let removed = |name: &str| {
        format!(
            "ContiguousUniformPool: `{name}` called on a proxy whose object was removed by key \
             (`remove`, `remove_deferred` or `retain`); check \
             `pool.contains(Proxy::key(&proxy))` first"
        )
    };
    let (msg, at) = panic_of(&|| _ = p.a());
    assert_eq!((msg, at), (removed("a"), at_line(line!() - 1)));
    let (msg, at) = panic_of(&|| p.set_a(5));
    assert_eq!((msg, at), (removed("set_a"), at_line(line!() - 1)));
    let (msg, at) = panic_of(&|| p.with_label_mut(|_| ()));
    let line = line!() - 1;
    assert_eq!((msg, at), (removed("with_label_mut"), at_line(line)));
    let (msg, at) = panic_of(&|| _ = p.bump(1));
    assert_eq!((msg, at), (removed("bump"), at_line(line!() - 1)));
    let (msg, at) = panic_of(&|| _ = p.doubled());
    assert_eq!((msg, at), (removed("doubled"), at_line(line!() - 1)));
    let (msg, _) = panic_of(&|| p.with(|_| ()));
    assert_eq!(msg, removed("with"));
    // The guards' proxy lookups name themselves as well.
    let (msg, _) = panic_of(&|| _ = pool.borrow().by_proxy(&p).a);
    assert_eq!(msg, removed("by_proxy"));
    let (msg, _) = panic_of(&|| _ = pool.borrow_mut().by_proxy_mut(&p).a);
    assert_eq!(msg, removed("by_proxy_mut"));
}

/// A field named like a pool method (`remove`), whose accessors must not
/// be mistaken for it in panic messages.
#[derive(Managed)]
struct Clashing {
    remove: u8,
}

#[managed::forward]
impl Accessed {
    /// Twice `a`.
    fn doubled(&self) -> i32 {
        2 * self.a
    }

    /// Adds `n` to `a` and returns the new value.
    pub(crate) fn bump(&mut self, n: i32) -> i32 {
        self.a += n;
        self.a
    }

    /// `Self` in a signature means the object's type, not the view.
    fn same_a(&self, other: &Self) -> bool {
        self.a == other.a
    }

    /// Generic, with a where clause and a pattern argument.
    fn sum_into<T>(&self, (x, y): (T, T)) -> T
    where
        T: core::ops::Add<Output = T> + From<i32>,
    {
        x + y + T::from(self.a)
    }

    /// A `'static` borrow is not a borrow of the object.
    fn kind(&self) -> &'static str {
        "accessed"
    }

    /// Left alone: returns a borrow of the object.
    #[forward(skip)]
    fn name_ref(&self) -> &str {
        &self.name
    }

    /// Left alone: no `&self` receiver.
    fn fresh() -> Self {
        Accessed {
            a: 0,
            name: String::new(),
            cached: 0,
            r#type: 0,
        }
    }

    /// Left alone: takes `self` by value.
    fn into_name(self) -> String {
        self.name
    }
}

#[derive(Managed)]
enum Light {
    Off,
    On(u8),
}

#[managed::forward]
impl Light {
    fn level(&self) -> u8 {
        match self {
            Light::Off => 0,
            Light::On(level) => *level,
        }
    }

    fn toggle(&mut self) {
        *self = match self {
            Light::Off => Light::On(100),
            Light::On(_) => Light::Off,
        };
    }
}

#[derive(Managed)]
struct Stack<T> {
    items: Vec<T>,
}

#[managed::forward]
impl<T: Clone + Managed> Stack<T> {
    fn push(&mut self, item: T) {
        self.items.push(item);
    }

    fn top(&self) -> Option<T> {
        self.items.last().cloned()
    }

    #[allow(clippy::needless_arbitrary_self_type)]
    fn depth(self: &Self) -> usize {
        self.items.len()
    }
}

#[test]
fn forwarded_methods_work_on_every_handle() {
    let pool = ContiguousUniformPool::new();
    let p = pool.alloc(Accessed::fresh());
    assert_eq!(p.bump(3), 3);
    assert_eq!(p.doubled(), 6);
    assert!(p.same_a(&Accessed {
        a: 3,
        ..Accessed::fresh()
    }));
    assert_eq!(p.sum_into((1i64, 2i64)), 6);
    assert_eq!(p.kind(), "accessed");
    assert_eq!(p.with(|a| a.name_ref().len()), 0);
    let s = SimpleProxy::new(Accessed::fresh());
    s.bump(-1);
    assert_eq!((s.doubled(), s.a()), (-2, -1));
    assert_eq!(SimpleProxy::into_inner(s).into_name(), "");

    let light = pool_of_lights();
    assert_eq!(light.0.level(), 0);
    light.0.toggle();
    assert_eq!(light.0.level(), 100);
    drop(light);

    let stack = SimpleProxy::new(Stack { items: vec![1u8] });
    stack.push(2);
    assert_eq!((stack.top(), stack.depth()), (Some(2), 2));
    assert_eq!(stack.with_items(Vec::len), 2);
}

/// A pool of lights with one proxy (the pool is leaked for the test's
/// `'static` proxy, reachably from a static, so that Miri's leak check
/// accepts it).
fn pool_of_lights() -> (Proxy<'static, Light>,) {
    static LEAKED: std::sync::atomic::AtomicPtr<ContiguousUniformPool<Light>> =
        std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());
    let pool: &'static ContiguousUniformPool<Light> = Box::leak(Box::default());
    LEAKED.store(
        std::ptr::from_ref(pool).cast_mut(),
        std::sync::atomic::Ordering::Relaxed,
    );
    (pool.alloc(Light::Off),)
}

mod forwarded_elsewhere {
    use managed::prelude::*;

    #[derive(Managed)]
    pub(crate) struct Counter {
        pub(crate) n: u32,
    }

    pub(crate) mod methods {
        #[managed::forward]
        impl super::Counter {
            pub(crate) fn incremented(&mut self) -> u32 {
                self.n += 1;
                self.n
            }
        }
    }
}

#[test]
fn forwarded_methods_resolve_from_other_modules() {
    let c = SimpleProxy::new(forwarded_elsewhere::Counter { n: 1 });
    assert_eq!(c.incremented(), 2);
    assert_eq!(c.n(), 2);
}

/// A native function of a VM: a higher-ranked function pointer, whose
/// lifetimes are its own.
type NativeOf<'x> = Option<Gc<'x, u64>>;

#[test]
fn higher_ranked_function_pointers_are_plain_fields() {
    #[derive(Managed)]
    struct Vm<'gc> {
        stack: Vec<Gc<'gc, u64>>,
    }
    #[derive(Managed)]
    #[allow(dead_code)]
    enum Obj<'gc> {
        // Written out in place: plain (its `'a` is bound by the `for`).
        Native(for<'a> fn(&mut Mutation<'a>, &mut Vm<'a>) -> NativeOf<'a>),
        // Skipped explicitly: the same.
        Skipped(#[managed(skip)] for<'a> fn(&Mutation<'a>) -> u64),
        Number(Gc<'gc, u64>),
    }
    fn top<'a>(_: &mut Mutation<'a>, vm: &mut Vm<'a>) -> NativeOf<'a> {
        vm.stack.last().copied()
    }
    const { assert!(<Obj<'static> as Managed>::HAS_REFS) };
    let mut heap: Heap<(Vm<'static>, Vec<Gc<'static, Obj<'static>>>)> =
        Heap::new(|_| (Vm { stack: Vec::new() }, Vec::new()));
    heap.mutate(|mc, (vm, objects)| {
        vm.stack.push(Gc::new(mc, 7u64));
        objects.push(Gc::new(mc, Obj::Native(top)));
        Gc::new(mc, Obj::Native(top)); // garbage
    });
    assert_eq!(heap.collect().live_objects, 2);
    heap.mutate(|mc, (vm, objects)| {
        let Obj::Native(f) = mc[objects[0]] else {
            panic!("a native")
        };
        let found = f(mc, vm).map(|n| mc[n]);
        assert_eq!(found, Some(7));
    });
}
