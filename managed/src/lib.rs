//! # managed
//!
//! Memory that programs can *manage*: page lists with per-page headers,
//! uniform and multisize page containers, free-list pools, a hot pool with
//! NaN-taggable slots, a typed drop arena, a scoped bump arena, and a
//! compacting region that moves objects to stay dense, all behind safe APIs
//! through which safe code can never observe a dangling reference.
//!
//! # Choosing a container
//!
//! | you need | use | instead of | measured: ours / theirs (median time) |
//! |---|---|---|---|
//! | a queue, stack or deque of one type whose elements never move | [`UniformPageDeque`](uniform::UniformPageDeque), [`UniformPageQueue`](uniform::UniformPageQueue), [`UniformPageStack`](uniform::UniformPageStack) | `VecDeque` | push + pop 0.85-0.94, fill then drain 0.62-0.75, iteration 0.82-1.08; `par_map` 0.98-1.01 `par_iter_mut` (feature `rayon`) |
//! | insert and remove anywhere by a checked `Copy` key; values never move | [`UniformPool`](uniform::UniformPool) | `slab` | iteration of a half-empty pool 1.21-1.24; insert/remove churn 1.63-1.74 (open) |
//! | dense objects behind stable handles, walked at slice speed | [`ContiguousUniformPool`](contiguous::ContiguousUniformPool), [`Proxy`](contiguous::Proxy) | slotmap's `DenseSlotMap` | `map` 0.77-0.95 (`Vec` 1.00-1.05), `retain` 0.50-0.54, insert/remove by key 0.66-0.74, by proxy 0.72-0.83 (0.77 before proxies recorded positions), key lookup 0.73-1.13 across runs (paired medians 0.96-1.04), `Proxy::with` 0.77-0.94 (1.19-1.44 when an object was removed since the last pass), `PoolRef::by_proxy` 0.57-0.73; `par_map` 0.99 a `Vec`'s `par_iter_mut` (feature `rayon`) |
//! | bump allocation whose holes a compaction reclaims, handles that follow moves | [`region::Arena`], [`region::Forward`] | `bumpalo` | allocation 0.72-1.02; compacting a whole value 7.9-8.4x a memcpy of the survivors |
//! | object graphs with cycles and parent links, collected by reachability, with handles the program keeps anywhere | [`heap::Heap`], [`heap::Gc`], [`heap::Held`] | `gc-arena` | GCBench 0.61-0.66, median 0.64 over five runs (collections alone 0.75-0.80), 0.81x its heap bytes; a collection 4.2-4.4x a memcpy of the live bytes |
//! | values of different types behind one trait object, in order | [`MultisizePageQueue`](multisize::MultisizePageQueue) and its deque and stack | `VecDeque<Box<dyn Trait>>` | push + pop 0.37-0.45 (0.29-0.38 on an aged heap); iteration 0.21-0.26 once the heap has aged (0.72 on the smaller-cached host of `BENCHMARKS.md`'s latest run, at parity on a fresh heap) |
//! | values and raw blocks of any layout, freed anywhere, never moved | [`MultisizePool`](multisize::MultisizePool) | `Box`, `std::alloc` | raw blocks 0.48-0.54, typed values 0.55-0.60 |
//! | a typed arena whose boxes can be given back one at a time | [`DropArena`](drop_arena::DropArena) | the `drop_arena` crate, `typed-arena`, `Box` | churn 1.01-1.07 (`Box` 0.48-0.49), allocation 0.95-1.00 (`typed-arena`) |
//! | many small objects with handles that fit a NaN-tagged `u64` | [`hot::Pool`], [`hot::Slot`], [`hot::PoolBox`] | `Box`, `onsen` | churn 0.19-0.21 (`onsen` 0.54-0.61), boxes 0.23-0.32 |
//! | per-frame scratch memory, reused from one scope to the next | [`MemoryArena`](scoped::MemoryArena) | `bumpalo` | allocation 0.96-1.00 (`Box` 0.08-0.09), a scope cycle 1.11-1.13 |
//! | pages with a header each, found from any address inside them | [`PageList`](page::PageList) | (none) | |
//!
//! Below 1.0, ours is faster. The ranges span the medians of three full
//! runs on a quiet 2-core machine (each container measured in the same run
//! as its peer; the heap's rows from runs after its current collector,
//! GCBench from five); `BENCHMARKS.md` at the repository root has the latest run,
//! with the workloads and the machine, and `cargo run --release -p
//! managed-bench --bin bench_report` writes it again on yours. Ratios
//! differ between machines, most for the rows bound by memory: where the
//! latest run's machine differs from the one of these ranges, its tables
//! are the figures for that machine, and their notes say what moved.
//!
//! The heap and the region both hold long-lived objects that point at each
//! other and both compact. Choose the [heap](heap::Heap) when what is
//! garbage follows from what points where (a document whose deleted
//! sections live on while an undo entry holds them, a scene whose removed
//! nodes may still be selected): a collection finds it, and
//! [`Held`](heap::Held) handles keep objects from outside. Choose the
//! [region](region::Arena) when the program knows when each object dies
//! (it calls `remove`) and wants plain `&T` reads between compactions, or
//! slices that grow in place (a text buffer's lines).
//!
//! # Method names
//!
//! Every container uses the same name for the same operation, and lists
//! its methods in this order in its documentation. A blank cell means the
//! container has no such operation; a name in a cell is that container's
//! own spelling of it (kept where the name is part of its documented call
//! shape, or where it does something slightly different, as said).
//!
//! | operation | [`PageList`](page::PageList) | uniform deque, queue, stack | [`UniformPool`](uniform::UniformPool) | [`ContiguousUniformPool`](contiguous::ContiguousUniformPool) | multisize deque, queue, stack | [`MultisizePool`](multisize::MultisizePool) | [`DropArena`](drop_arena::DropArena) | [`hot::Pool`] | [`MemoryArena`](scoped::MemoryArena) / [`ArenaScope`](scoped::ArenaScope) | [`region::Arena`] | [`heap::Heap`] |
//! |---|---|---|---|---|---|---|---|---|---|---|---|
//! | empty container | `new` | `new` | `new` | `new` | `new` | `new` | `new` | `new` | `new(mib)` | `new(guard)` | `new` |
//! | pre-sized | `with_page_size` | `with_capacity` (elements), `with_page_size` | `with_capacity`, `with_page_size` | `with_capacity` | `with_page_size` | | `with_capacity`, `try_with_capacity` | | `with_block_size` | `with_capacity` (bytes) | `with_chunk_size` |
//! | add, get a `Copy` key | | | `insert` | `insert`; `insert_deferred`, `insert_with_key_deferred` during a walk | | `insert` | | | | | |
//! | add, get an owning handle | | | | `alloc` (a `Proxy`) | | | `alloc` (a `DropBox`) | `alloc` (a `Slot`), `alloc_box`, `alloc_rc` | `alloc`, `alloc_with`, `alloc_slice_*`, `try_alloc*` | `allocate::<T>`, `alloc`, `alloc_with`, `alloc_slice*` (an `Item`); `alloc_shared`, `alloc_shared_slice`, `share` (a `Forward`) | `Mutation::alloc` (a `Gc`); `hold` (a `Held`, kept outside the heap); `hold_weak` (a `HeldWeak`); `Gc::downgrade` (a `GcWeak`); `unsize!` (a `GcDyn`, a trait object) |
//! | add raw memory | | | | | | `alloc_layout` / `dealloc` | | `alloc_uninit` | `alloc_layout` | | |
//! | sequences | `push_back`, `push_front`, `pop_back`, `pop_front` | deque: the same, `front`, `back`; queue, stack: `push`, `pop`, `peek` | | | the same as uniform, `pop_*_boxed` for trait objects, `pop_*_with` / `drain_with` in place | | | | | | |
//! | remove by key, value back | | | `remove` | `remove`; `remove_deferred` during a walk | | `remove` | | | | `remove` (a `Forward`; a slice comes back as a `Vec`), `remove_slice` | |
//! | remove through a handle | | | | drop the `Proxy`; `into_inner` | | | drop the `DropBox`; `drop_box`, `box_to_inner`, `into_inner` | `unsafe free`; drop a `PoolBox` | end the scope | drop the `Item` | unreachable, then `collect` |
//! | membership | `header_for` is `Some` | | `contains` | `contains`, `contains_proxy` | | `contains` | | `contains` (a `Slot`) | | `contains` (a `Forward`) | |
//! | read / write by key | `header`, `payload` (`_mut`) | deque: `get`, `get_mut` (index) | `get`, `get_mut`, `get_disjoint_mut` | `get`, `get_mut`, `get_disjoint_mut` (`&mut self`, or on the `borrow_mut()` guard), `split_mut`, `for_each_with_others` (guard); `Proxy::with`, `with_mut` | | `get`, `get_mut`, `bytes`, `bytes_mut` | | | | `get`, `get_mut`, `arena[forward]`, `get_disjoint_mut`; `resize_shared`, `splice_shared` (a shared slice) | `mc[gc]`, `mc[&held]` inside `read` (shared) or `mutate`; `mc.get_disjoint_mut([a, b])` (one type) or `((a, b))` (any); `mc.split_mut(gc)` (one written, the others read or written); `r.read(gc)`, `r.get(gc)` through any [`Reader`](heap::Reader) (the token or `Others`) |
//! | size | `len`, `is_empty` | `len`, `is_empty` | `len`, `is_empty`, `capacity` | `len`, `is_empty`, `capacity` | `len`, `is_empty` | `len`, `is_empty` | `len`, `is_empty`, `max_len` | `len`, `is_empty`, `capacity` | `block_size`, `block_count` | `capacity`, `available` (bytes) | |
//! | empty it | `clear` | `clear` | `clear` | `clear` | `clear` | `clear` | | | `reset` | | |
//! | filter | | | `retain` | `retain` | | | | | | | |
//! | walk | `iter`, `iter_mut` | `iter`, deque: `iter_mut` | `iter`, `iter_mut`, `keys`, `values`, `values_mut`, `drain` (`(key, value)` pairs) | `map`, `map_with_key`, `map_with_others`, `iter_mut`, `values_mut`, `drain`; `borrow().iter()`, `borrow().as_slice()` | `iter`, `iter_mut` | | | | | | |
//! | copy (a snapshot) | | `clone` | `clone`, `clone_from` (answers to the same keys, makes the same keys next) | `clone` (the same keys and storage order; proxies stay with the original) | | | | | | | |
//! | space | `stats` | `stats` | `stats` | `stats`, `detailed_stats` | `stats` | `stats` | `stats` | `stats` | `stats` | `stats`, `detailed_stats` | `stats`, `detailed_stats` |
//! | give idle memory back | `shrink_to_fit` | `shrink_to_fit` | `shrink_to_fit` | `shrink_to_fit` | `shrink_to_fit` | `shrink_to_fit` | | | `shrink_to_fit` | `compact` (moves objects), `compact_in_place` | `collect`, `compact` (packs every chunk), `shrink_to_fit` |
//! | settings | | | | | | | | `set_min_entries` | | | `pacing`, `set_pacing` |
//! | page headers | `header_for`, `header_for_mut` | `header_for` (deque: `_mut`) | `header_for`, `header_for_mut` | | `header_for` | `header_for` | | | | | |
//! | picture | `memory_map` | `memory_map` | `memory_map` | `memory_map` | `memory_map` | `memory_map` | `memory_map` | `memory_map` | `memory_map` | `memory_map` | `memory_map` |
//!
//! Every container reports [`SpaceStats`] (`live_bytes`, `reserved_bytes`,
//! [`SpaceStats::space_ratio`]), gives memory back where that means
//! something (`shrink_to_fit` / `compact`), and draws its memory
//! ([`memory_map`]: blocks of live, free, padding, header and metadata
//! bytes, as an SVG picture or as text).
//!
//! Start with [`prelude`]: `use managed::prelude::*;` brings in every
//! container, handle and error type, the [`make_guard!`] macro and the
//! [`Managed`] derive and trait.
//!
//! ```
//! use managed::prelude::*;
//!
//! let mut deque = UniformPageDeque::new();
//! deque.push_back(1u32);
//! deque.push_front(0u32);
//! assert_eq!(deque.iter().copied().collect::<Vec<_>>(), [0, 1]);
//! assert!(deque.stats().space_ratio() > 0.0);
//! ```
//!
//! The layering (raw memory, containers, handles) and the invariants each
//! module keeps are described in `ARCHITECTURE.md` at the repository root.

#![cfg_attr(not(test), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(clippy::undocumented_unsafe_blocks)]

// The library is written against `core` and `alloc` alone; `std` adds
// impls for its own types and run-time CPU feature detection. (The unit
// tests link `std` in any case.)
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

// Lets the derive's absolute `::managed::` paths resolve inside this crate's
// own unit tests.
extern crate self as managed;

mod error;
mod platform;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub mod serde;
mod stats;
mod visit;

pub mod page;
pub mod uniform;

pub mod contiguous;
pub mod drop_arena;
pub mod heap;
pub mod hot;
pub mod memory_map;
pub mod multisize;
// The region tags item addresses in their top bits, which only 64-bit
// addresses leave free: on other targets the module does not exist.
#[cfg(target_pointer_width = "64")]
#[cfg_attr(docsrs, doc(cfg(target_pointer_width = "64")))]
pub mod region;
pub mod scoped;

pub use error::{AllocError, AllocValueError};
pub use stats::SpaceStats;
pub use visit::{Managed, Static, Visitor};

/// Derives [`Managed`](trait@Managed) and, for structs, proxy field
/// accessors.
///
/// - `unsafe impl Managed`: `visit_refs` visits, in declaration order
///   (every variant's fields for an enum), each field that may hold a
///   region or heap reference, and `HAS_REFS` is the OR of their
///   `HAS_REFS`. Which fields are visited is decided per field:
///   - a **plain** field, whose type mentions no lifetime but `'static`,
///     none of the type's parameters, not the type itself (or `Self`) and
///     no macro (`u32`, `String`, `Vec2`, `HashSet<u64>`, `Rc<Cell<u8>>`,
///     `Box<dyn Fn()>`, a pool key...), is not visited and needs no trait
///     impl: the impl requires `FieldType: 'static`, which no branded
///     reference is, and the compiler checks that on the resolved type.
///     Lifetimes bound by the field's own `for<..>` do not count: a
///     callback `for<'a> fn(&mut Mutation<'a>, Gc<'a, Node<'a>>)` is plain;
///   - every other field is visited, so its type must implement `Managed`
///     (derive it, or use `#[managed(skip)]` below); fields whose types
///     mention a type parameter get a `FieldType: Managed` bound.
/// - For structs, a field view that every handle ([`contiguous::Proxy`],
///   [`contiguous::SimpleProxy`]) dereferences to, with for each field
///   `a`: `p.a()` (a clone), `p.with_a(|a| ..)` (lends `&A`: reading a
///   `String` field costs nothing), `p.with_a_mut(|a| ..)` (lends
///   `&mut A`) and `p.set_a(v)`, each with the field's visibility (tuple
///   fields: `p._0()`, `p.with_0(..)`, `p.with_0_mut(..)`, `p.set_0(v)`).
///   They borrow the object as `with` / `with_mut` do, and panic where
///   those do, at the caller's line. `#[managed::forward]` adds the type's
///   own methods to the same view ([`forward`](macro@forward)).
///
/// Field attributes:
///
/// - `#[managed(skip)]`: the field is not visited, for a field whose type
///   the plain rule cannot classify (a type parameter, a macro, a lifetime
///   that is always `'static` in practice). Its type must be `'static`
///   (the impl requires it), which no branded managed reference is, so
///   skipping can never hide a reference. A skipped field keeps its
///   accessors.
/// - `#[managed(accessors = false)]`: the field gets no accessors.
/// - `#[managed(rename = "name")]`: the accessors are `name()`,
///   `with_name(..)`, `with_name_mut(..)` and `set_name(v)`.
///
/// Type attribute:
///
/// - `#[managed(crate = "path")]`: the generated code names this crate
///   `::managed`; where the dependency is renamed
///   (`mm = { package = "managed-memory", .. }`), give its path here
///   (`crate = "mm"`). `#[derive(Rebrand)]` reads the same attribute.
///
/// Unions, unknown or repeated attributes, `rename` with `accessors =
/// false`, accessor attributes on enum fields, two accessors with one name
/// and accessors named like a proxy's own `with` / `with_mut` are compile
/// errors.
///
/// ```
/// use std::collections::HashSet;
///
/// use managed::prelude::*;
///
/// /// An ordinary type: no derive, no impl needed as a field.
/// #[derive(Clone, Copy, Debug, PartialEq)]
/// struct Vec2(f32, f32);
///
/// #[derive(Managed)]
/// struct Particle<T> {
///     position: Vec2,
///     #[managed(rename = "mass_kg")]
///     mass: f32,
///     name: Option<String>,
///     tags: HashSet<u32>,
///     #[managed(skip)]
///     payload: T,
///     #[managed(accessors = false)]
///     _scratch: Vec<u8>,
/// }
///
/// let p = SimpleProxy::new(Particle {
///     position: Vec2(0.0, 1.0),
///     mass: 2.0,
///     name: Some("a".into()),
///     tags: HashSet::new(),
///     payload: 7u8,
///     _scratch: Vec::new(),
/// });
/// p.set_mass_kg(3.0);
/// assert_eq!(p.mass_kg(), 3.0);
/// assert_eq!(p.with_name(|n| n.as_deref().map(str::len)), Some(1));
/// p.with_tags_mut(|t| t.insert(4));
/// assert_eq!((p.position(), p.payload()), (Vec2(0.0, 1.0), 7));
/// assert!(!<Particle<u8> as Managed>::HAS_REFS);
/// ```
pub use managed_derive::Managed;

/// Forwards the methods of an inherent `impl` block to every handle of the
/// type.
///
/// On `impl T { .. }` for a `T` that derives [`Managed`](macro@Managed),
/// each method taking `&self` or `&mut self` becomes callable on every
/// handle of a `T` ([`contiguous::Proxy`], [`contiguous::SimpleProxy`]):
/// `p.energy()` runs `T::energy` on the object inside `p.with(..)`, and
/// `p.push(f)` runs `T::push` inside `p.with_mut(..)`, so the borrow rules
/// (and panics) are those of `with` / `with_mut`. The forwarded method has
/// the original's name, visibility, generics, arguments, return type and
/// docs; the block itself is kept as written.
///
/// Where the dependency is renamed, give the crate's path as the one
/// argument: `#[mm::forward(crate = "mm")]` (as `#[managed(crate = "..")]`
/// on the type).
///
/// Left alone: methods without a `&self` / `&mut self` receiver
/// (constructors, `self` by value) and methods marked `#[forward(skip)]`.
/// Compile errors: a method that returns a borrow of the object (a
/// reference or a lifetime other than `'static`, or `impl Trait`), which
/// could not outlive the call; `async` and `unsafe` methods; a method named
/// `with` or `with_mut` (the handles' own); a trait impl.
///
/// ```
/// use managed::prelude::*;
///
/// #[derive(Managed)]
/// struct Particle {
///     velocity: (f32, f32),
///     mass: f32,
/// }
///
/// #[managed::forward]
/// impl Particle {
///     /// Kinetic energy.
///     pub fn energy(&self) -> f32 {
///         let (x, y) = self.velocity;
///         0.5 * self.mass * (x * x + y * y)
///     }
///
///     /// Applies an impulse.
///     pub fn push(&mut self, dx: f32, dy: f32) {
///         self.velocity.0 += dx / self.mass;
///         self.velocity.1 += dy / self.mass;
///     }
/// }
///
/// let pool = ContiguousUniformPool::new();
/// let p = pool.alloc(Particle { velocity: (0.0, 0.0), mass: 2.0 });
/// p.push(4.0, 0.0);
/// assert_eq!(p.energy(), 4.0);
/// let s = SimpleProxy::new(Particle { velocity: (1.0, 0.0), mass: 2.0 });
/// assert_eq!(s.energy(), 1.0);
/// ```
pub use managed_derive::forward;

/// Creates a unique, invariant brand for a [`region::Arena`] (re-exported
/// from [`generativity`]).
pub use generativity::make_guard;

/// The brand that [`make_guard!`] makes, as a value: what
/// [`region::Arena::new`] takes, so a constructor of a type that owns an
/// arena can take one too (`fn new(guard: Guard<'id>) -> Editor<'id>`).
/// Re-exported from [`generativity`].
pub use generativity::Guard;

/// Everything a user of the crate needs, in one import.
///
/// It re-exports every public container, handle and error type (the
/// contiguous pool's borrow guards [`PoolRef`](contiguous::PoolRef),
/// [`PoolRefMut`](contiguous::PoolRefMut), [`ObjectRef`](contiguous::ObjectRef)
/// and [`ObjectMut`](contiguous::ObjectMut) and its key trait
/// [`Key`](contiguous::Key) included), the [`make_guard!`] macro with its
/// [`Guard`] type, and the [`Managed`] derive together with the
/// [`Managed`](trait@Managed) trait. It shadows no std name.
///
/// Three families hand out a view named `Others` beside the one object
/// they lend exclusively (`split_mut`). The prelude's `Others` is the
/// heap's ([`heap::Others`]); the contiguous pool's
/// ([`contiguous::Others`], which [`map_with_others`](contiguous::ContiguousUniformPool::map_with_others)
/// and [`PoolRefMut::split_mut`](contiguous::PoolRefMut::split_mut) hand
/// out) comes in as `PoolOthers`, the same type under a second name, beside
/// the pool's guards; the region's ([`region::Others`], from
/// [`Arena::split_mut`](region::Arena::split_mut)) as `ArenaOthers`. Code
/// that names `managed::contiguous::Others` or `managed::region::Others`
/// compiles as before.
///
/// ```
/// use managed::prelude::*;
///
/// new_key_type! { struct AnimalKey; }
///
/// struct Animal {
///     age: u32,
/// }
///
/// // The guards and the key trait name no module path.
/// fn age_all<K: Key>(animals: &mut PoolRefMut<'_, Animal, K>) {
///     animals.values_mut().for_each(|a| a.age += 1);
/// }
/// fn age_of<K: Key>(animals: &PoolRef<'_, Animal, K>, key: K) -> Option<u32> {
///     animals.get(key).map(|a| a.age)
/// }
///
/// let pool: ContiguousUniformPool<Animal, AnimalKey> = ContiguousUniformPool::with_key();
/// let cat = pool.insert(Animal { age: 3 });
/// age_all(&mut pool.borrow_mut());
/// assert_eq!(age_of(&pool.borrow(), cat), Some(4));
/// let one: Option<ObjectRef<'_, Animal, AnimalKey>> = pool.get(cat);
/// assert_eq!(one.map(|a| a.age), Some(4));
/// let mut one: ObjectMut<'_, Animal, AnimalKey> = pool.get_mut(cat).unwrap();
/// one.age = 9;
/// drop(one);
/// assert_eq!(pool.get(cat).map(|a| a.age), Some(9));
///
/// // The pool's view of the other objects, named in a helper's signature.
/// fn eldest<K: Key>(me: &Animal, others: &PoolOthers<'_, Animal, K>, of: &[K]) -> u32 {
///     of.iter().filter_map(|&k| others.get(k)).map(|a| a.age).fold(me.age, u32::max)
/// }
/// let kitten = pool.insert(Animal { age: 1 });
/// let mut animals = pool.borrow_mut();
/// let (me, others) = animals.split_mut(kitten).unwrap();
/// assert_eq!(eldest(me, &others, &[cat, kitten]), 9);
/// ```
pub mod prelude {
    pub use crate::{
        AllocError, AllocValueError, Guard, Managed, SpaceStats, Static, Visitor, make_guard,
    };

    pub use crate::page::{PageList, PageSize};

    pub use crate::uniform::{
        PoolKey, UniformPageDeque, UniformPageQueue, UniformPageStack, UniformPool,
    };

    // `Key` is slotmap's key trait (every contiguous key type implements
    // it, for bounds such as `K: Key`); no other item of the prelude, and
    // no std prelude item, is named `Key`. The pool's `Others` comes in as
    // `PoolOthers`, beside its guards: the prelude's `Others` is the heap's.
    pub use crate::contiguous::{
        ContiguousUniformPool, DefaultKey, Key, ObjectMut, ObjectRef, Others as PoolOthers,
        PoolLookup, PoolRef, PoolRefMut, Proxy, SimpleProxy, new_key_type,
    };

    #[cfg(target_pointer_width = "64")]
    // The region's `Others` comes in as `ArenaOthers` (see above).
    pub use crate::region::{
        Arena, Compacting, Forward, Item, OrCompact, Others as ArenaOthers, Rebrand, RegionStats,
        State, Token,
    };

    pub use crate::coercion;
    pub use crate::multisize::{
        AnyValues, Coercion, MultisizeBlock, MultisizeKey, MultisizePageDeque, MultisizePageQueue,
        MultisizePageStack, MultisizePool, SendValues,
    };

    pub use crate::drop_arena::{DropArena, DropBox};

    pub use crate::heap::{
        CollectStats, Downcast, DynRootable, Gc, GcDyn, GcDynWeak, GcWeak, Heap, Held, HeldDyn,
        HeldDynWeak, HeldWeak, Mutation, NanBox, Others, Pacing, Reader, Rootable,
    };
    pub use crate::{dyn_rootable, unsize};

    pub use crate::hot::{Pool, PoolBox, PoolRc, Slot, SlotState};

    pub use crate::scoped::{ArenaScope, MemoryArena};
}
