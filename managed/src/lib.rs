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
//! # /*
//! let mut deque = UniformPageDeque::new();
//! deque.push_back(1u32);
//! deque.push_front(0u32);
//! assert_eq!(deque.iter().copied().collect::<Vec<_>>(), [0, 1]);
//! assert!(deque.stats().space_ratio() > 0.0);
//! # */
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

// pub mod page;
// pub mod uniform;

pub mod contiguous;
pub mod drop_arena;
pub mod hot;
pub mod multisize;
pub mod region;
pub mod scoped;

pub use error::AllocError;
pub use stats::SpaceStats;
pub use visit::{Managed, Visitor};

// The derive is re-exported here once managed-derive exists.

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

    // page + uniform: PageList, UniformPageDeque/Queue/Stack, UniformPool

    // contiguous: ContiguousUniformPool and its proxies

    pub use crate::region::{Arena, Compacting, Forward, Item, Rebrand, RegionStats, State, Token};

    // multisize: page deques/queues/stacks and MultisizePool

    // drop_arena: DropArena, DropBox

    // hot: Pool, Slot, PoolBox

    // scoped: MemoryArena and its scopes
}
