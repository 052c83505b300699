//! # managed
//!
//! Memory that programs can *manage*: page lists with per-page headers,
//! uniform and multisize page containers, free-list pools, a hot pool with
//! NaN-taggable slots, a typed drop arena, a scoped bump arena, and a
//! compacting region that moves objects to stay dense, all behind safe APIs
//! through which safe code can never observe a dangling reference.
//!
//! Every container reports [`SpaceStats`] (`live_bytes`, `reserved_bytes`,
//! [`SpaceStats::space_ratio`]) and gives memory back where that means
//! something (`shrink_to_fit` / `compact`).
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
//! The layering (raw pages, containers, handles) and the invariants each
//! layer keeps are described in `ARCHITECTURE.md` at the repository root.

#![warn(clippy::undocumented_unsafe_blocks)]

// Lets the derive's absolute `::managed::` paths resolve inside this crate's
// own unit tests.
extern crate self as managed;

mod error;
mod stats;
mod visit;

pub mod page;
pub mod uniform;

pub mod contiguous;
pub mod drop_arena;
pub mod hot;
pub mod multisize;
pub mod region;
pub mod scoped;

pub use error::AllocError;
pub use stats::SpaceStats;
pub use visit::{Managed, Visitor};

/// Derives [`Managed`](trait@Managed) and, for structs, proxy field
/// accessors.
///
/// - `unsafe impl Managed`: `HAS_REFS` is the OR of the fields' `HAS_REFS`
///   and `visit_refs` visits every field, in declaration order (every
///   variant's fields for an enum). Fields whose types mention a type
///   parameter get a `FieldType: Managed` bound.
/// - For structs, a field view that every handle ([`contiguous::Proxy`],
///   [`contiguous::SimpleProxy`]) dereferences to: `p.a()` returns a clone
///   of field `a` and `p.set_a(v)` replaces it (tuple fields: `p._0()`,
///   `p.set_0(v)`), each with the field's visibility.
///
/// Field attributes:
///
/// - `#[managed(skip)]`: the field is neither visited nor given accessors.
///   Its type must be `'static` (the impl requires it), which no branded
///   managed reference is, so skipping can never hide a reference.
/// - `#[managed(rename = "name")]`: the accessors are `name()` and
///   `set_name(v)`.
///
/// Unions, unknown or repeated attributes, and `skip` together with
/// `rename` are compile errors.
///
/// ```
/// use managed::prelude::*;
///
/// #[derive(Managed)]
/// struct Particle {
///     position: (f32, f32),
///     #[managed(rename = "mass_kg")]
///     mass: f32,
///     #[managed(skip)]
///     label: &'static str,
/// }
///
/// let p = SimpleProxy::new(Particle { position: (0.0, 1.0), mass: 2.0, label: "a" });
/// p.set_mass_kg(3.0);
/// assert_eq!(p.mass_kg(), 3.0);
/// assert!(!<Particle as Managed>::HAS_REFS);
/// # let _ = p.with(|p| p.label);
/// ```
pub use managed_derive::Managed;

/// Creates a unique, invariant brand for a [`region::Arena`] (re-exported
/// from [`generativity`]).
pub use generativity::make_guard;

/// Everything a user of the crate needs, in one import.
///
/// It re-exports every public container, handle and error type, the
/// [`make_guard!`] macro and the [`Managed`] derive together with the
/// [`Managed`](trait@Managed) trait. It shadows no std name.
pub mod prelude {
    pub use crate::{AllocError, Managed, SpaceStats, Visitor, make_guard};

    pub use crate::page::{PageList, PageSize};

    pub use crate::uniform::{
        PoolKey, UniformPageDeque, UniformPageQueue, UniformPageStack, UniformPool,
    };

    pub use crate::contiguous::{
        ContiguousUniformPool, DefaultKey, Proxy, SimpleProxy, new_key_type,
    };

    pub use crate::region::{Arena, Compacting, Forward, Item, Rebrand, RegionStats, State, Token};

    pub use crate::coercion;
    pub use crate::multisize::{
        Coercion, MultisizeBlock, MultisizeKey, MultisizePageDeque, MultisizePageQueue,
        MultisizePageStack, MultisizePool,
    };

    pub use crate::drop_arena::{DropArena, DropBox};

    pub use crate::hot::{Pool, PoolBox, PoolRc, Slot, SlotState};

    pub use crate::scoped::{ArenaScope, MemoryArena};
}
