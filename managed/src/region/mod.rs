//! A compacting region with two-phase, compile-time-checked compaction.
//!
//! Only on 64-bit targets (`target_pointer_width = "64"`): an item's address
//! carries its object's alignment and a cell index in its top bits, which
//! narrower addresses do not leave free. On other targets this module does
//! not exist; everything else in the crate builds there.
//!
//! An [`Arena`] is one heap block in which values of any type are allocated
//! in address order. Dropping an [`Item`] leaves a hole; [`Arena::compact`]
//! slides every live object down in one address-ordered pass so that all
//! free space is one block at the end again. Objects move, so the type
//! system makes sure no reference observes a move:
//!
//! 1. allocating borrows the allocation [`State`], and `compact` consumes
//!    it (and borrows the arena mutably): every `Item` must be dropped or
//!    turned into a token first ([`Arena::tokenize`],
//!    [`Arena::tokenize_all`]);
//! 2. a token is redeemed by calling it with the arena, and borrows the
//!    compaction guard, which [`Arena::finish`] consumes: no token outlives
//!    the compaction (and the arena's `'id` brand keeps it out of any other
//!    arena);
//! 3. a [`Forward`] survives compaction without tokenizing: the compactor
//!    updates its cell, and reading through it borrows the arena.
//!
//! ```
//! use managed::prelude::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! make_guard!(guard);
//! let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
//! let garbage = arena.allocate::<u64>(&state)?;
//! let mut a = arena.allocate::<u64>(&state)?;
//! *a = 7;
//! let list = vec![arena.allocate::<u64>(&state)?, arena.allocate::<u64>(&state)?];
//! let shared = arena.alloc_shared(&state, String::from("stable"))?;
//!
//! make_guard!(compact);
//! let tok_a = arena.tokenize(&compact, a); // one item
//! let tok_list = arena.tokenize_all(&compact, list); // a whole value, in place
//! drop(garbage);
//! let state = arena.compact(&compact, state);
//! let a = tok_a(&arena);
//! let list = tok_list.redeem(&arena);
//! let state = arena.finish(compact, state);
//!
//! assert_eq!(*a, 7);
//! assert_eq!(list.len(), 2);
//! assert_eq!(shared.get(&arena).map(String::as_str), Some("stable"));
//! assert_eq!(arena.detailed_stats().hole_bytes, 0);
//! # drop((a, list, state));
//! # Ok(())
//! # }
//! ```
//!
//! Tokenizing a single item returns a closure (a token is *called* with the
//! arena). A whole value is tokenized into a [`Token`], redeemed with
//! [`Token::redeem`], or with [`Arena::tokenize_boxed`] into a boxed closure
//! called the same way: its type must say how to change the lifetime of the
//! items inside ([`Rebrand`]), which an unboxed closure type cannot (an
//! `impl Trait` return type captures every type parameter, so a closure
//! holding a `Scene<'a>` would keep `'a`, and with it the arena borrow,
//! alive).
//!
//! Objects carry no header: liveness is a side bitmap (one bit per 8-byte
//! granule, set when an `Item` drops), and compaction computes every new
//! address from it with a prefix table (see `docs/notes/region.md`).

mod arena;
mod forward;
mod item;
mod raw;
mod token;

pub use arena::{Arena, Compacting, RegionStats, State};
pub use forward::Forward;
pub use item::Item;
pub use token::{Rebrand, Token};

/// Derives [`Rebrand`](trait@Rebrand) for a type whose first lifetime
/// parameter is the region lifetime.
///
/// Where the dependency is renamed, `#[managed(crate = "path")]` on the
/// type gives the crate's path, as for [`Managed`](macro@crate::Managed).
pub use managed_derive::Rebrand;
