//! NaN tagging with the hot pool: a tiny dynamic-language value
//! representation where every value is one `u64`, either an `f64` or a
//! tagged pointer to an object in a [`Pool`].
//!
//! An `f64` whose top 16 bits are `0xfffc` is a NaN that arithmetic never
//! produces once NaNs are canonicalized, so those bit patterns are free to
//! carry a slot address (48 bits, 8-aligned) plus a 3-bit kind tag.
//!
//! Run with `cargo run --example hot_nan_tagging`.

use managed::hot::{ADDRESS_MASK, TAG_MASK};
use managed::prelude::*;

/// The top 16 bits of every boxed value.
const BOXED: u64 = 0xfffc_0000_0000_0000;
/// The canonical NaN every computed NaN is folded into.
const CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;
/// Kind tag (low 3 bits) of strings.
const KIND_STR: u64 = 1;
/// Kind tag (low 3 bits) of pairs.
const KIND_PAIR: u64 = 2;

/// A heap object.
enum Obj {
    /// A string.
    Str(String),
    /// A cons cell.
    Pair(Value, Value),
}

/// One dynamic value in 8 bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Value(u64);

impl Value {
    /// A number; NaNs are canonicalized so they never look boxed.
    fn number(f: f64) -> Self {
        Self(if f.is_nan() {
            CANONICAL_NAN
        } else {
            f.to_bits()
        })
    }

    /// The number, if this is one.
    fn as_number(self) -> Option<f64> {
        (self.0 & !ADDRESS_MASK & !0b111 != BOXED).then(|| f64::from_bits(self.0))
    }

    /// The kind tag of a boxed value.
    fn kind(self) -> Option<u64> {
        self.as_number().is_none().then_some(self.0 & 0b111)
    }
}

/// The object heap: a pool of `Obj` plus the tagging rules.
struct Heap {
    pool: Pool<Obj>,
}

impl Heap {
    fn new() -> Self {
        Self { pool: Pool::new() }
    }

    fn boxed(&self, obj: Obj) -> Value {
        let kind = match obj {
            Obj::Str(_) => KIND_STR,
            Obj::Pair(..) => KIND_PAIR,
        };
        let bits = self.pool.alloc(obj).into_u64();
        debug_assert_eq!(bits & TAG_MASK, 0);
        Value(bits | BOXED | kind)
    }

    fn string(&self, s: &str) -> Value {
        self.boxed(Obj::Str(s.to_string()))
    }

    fn pair(&self, a: Value, b: Value) -> Value {
        self.boxed(Obj::Pair(a, b))
    }

    /// Runs `f` on the object behind a boxed value.
    fn with_obj<R>(&self, v: Value, f: impl FnOnce(&Obj) -> R) -> R {
        // SAFETY: `v` was made by `boxed` from a slot of `self.pool` that is
        // only given back by `free`, which consumes the last use of `v`; this
        // temporary copy is only read and then dropped without freeing.
        let slot: Slot<Obj> = unsafe { Slot::from_u64_masked(v.0) };
        f(slot.get())
    }

    fn show(&self, v: Value) -> String {
        match v.as_number() {
            Some(n) => format!("{n}"),
            None => self.with_obj(v, |o| match o {
                Obj::Str(s) => format!("{s:?}"),
                Obj::Pair(a, b) => format!("({} . {})", self.show(*a), self.show(*b)),
            }),
        }
    }

    /// Frees a value and everything it points to (values are trees here).
    fn free(&self, v: Value) {
        if v.as_number().is_some() {
            return;
        }
        // SAFETY: the caller gives up `v` and every copy of it; no reference
        // into the object is alive.
        let obj = unsafe { self.pool.take(Slot::from_u64_masked(v.0)) };
        if let Obj::Pair(a, b) = obj {
            self.free(a);
            self.free(b);
        }
    }
}

pub(crate) fn main() {
    let heap = Heap::new();
    let pi = Value::number(std::f64::consts::PI);
    let nan = Value::number(f64::NAN * 2.0);
    let hello = heap.string("hello");
    let list = heap.pair(hello, heap.pair(pi, heap.pair(nan, Value::number(-0.0))));

    for v in [pi, nan, hello, list] {
        println!(
            "{:#018x}  kind {:?}  is NaN: {:5}  {}",
            v.0,
            v.kind(),
            f64::from_bits(v.0).is_nan(),
            heap.show(v)
        );
    }
    assert_eq!(
        heap.show(list),
        "(\"hello\" . (3.141592653589793 . (NaN . -0)))"
    );
    assert_eq!(heap.pool.len(), 4);
    println!("heap: {} objects, {}", heap.pool.len(), heap.pool.stats());

    heap.free(list);
    assert!(heap.pool.is_empty());
    println!(
        "after free: {} objects, {}",
        heap.pool.len(),
        heap.pool.stats()
    );
}
