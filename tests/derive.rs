//! Expansion tests of `#[derive(Managed)]`: every struct shape, enums,
//! generics, lifetimes, const generics, nested managed fields, containers of
//! references, skipped and renamed fields, and the proxy accessors.

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
    Plain(u64),
}

#[derive(Managed)]
enum Never {}

#[derive(Managed)]
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
