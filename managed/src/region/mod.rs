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
//!    updates its cell, and reading through it borrows the arena. It
//!    refers to a value of any sized type, or to a slice of `Copy`
//!    elements that can grow and shrink (`Forward<'id, [T]>`).
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
//! # Keeping a region in a struct
//!
//! An [`Item`] borrows its arena, so a struct that owns an arena cannot
//! also own items of it (that would borrow itself). Such a struct keeps
//! its objects as shared objects, reached through [`Forward`]s: they are
//! `Copy`, live in any field or collection of the program, hash and order
//! stably (map keys, sets), and follow their objects through every
//! compaction with nothing to tokenize, so compaction is one call in a
//! method, [`Arena::compact_in_place`]. Objects that a shared object
//! points at are shared too (a shared object cannot hold an item). A
//! shared object whose length changes (a line's text, a node's list of
//! neighbours) is a shared slice: [`Arena::alloc_shared_slice`] makes
//! one, [`Arena::resize_shared`] grows or shrinks it in place or moves
//! it, and every `Forward` to it follows. [`Arena::split_mut`] lends one
//! shared object exclusively beside a view of all the others
//! ([`Others`]): a list walked while the objects it names are written, a
//! node updated from its neighbours. Functions that take several of
//! these values name the brand once (`fn check<'id>(editor: &Editor<'id>,
//! marks: &[Forward<'id, Line<'id>>])`): with `'_` in each place, the
//! compiler reports that a lifetime "may not live long enough", because
//! `Forward` is invariant in `'id` and each `'_` is a lifetime of its own. The
//! brand `'id` of a struct's arena comes from a [`Guard`](crate::Guard)
//! that the struct's constructor takes:
//!
//! ```
//! use managed::prelude::*;
//!
//! #[derive(Managed)]
//! struct Line<'id> {
//!     text: String,
//!     next: Option<Forward<'id, Line<'id>>>,
//! }
//!
//! struct Editor<'id> {
//!     arena: Arena<'id, 0>,
//!     state: State<'id>,
//!     first: Option<Forward<'id, Line<'id>>>,
//!     /// Bookmarks held by another part of the program.
//!     marks: Vec<Forward<'id, Line<'id>>>,
//!     compactions: usize,
//! }
//!
//! impl<'id> Editor<'id> {
//!     fn new(guard: Guard<'id>) -> Self {
//!         let (arena, state) = Arena::with_capacity(guard, 32 << 10);
//!         Editor { arena, state, first: None, marks: Vec::new(), compactions: 0 }
//!     }
//!
//!     fn push_front(&mut self, text: &str) -> Forward<'id, Line<'id>> {
//!         let line = Line { text: text.into(), next: self.first };
//!         let line = self.arena.alloc_shared(&self.state, line).expect("room");
//!         self.first = Some(line);
//!         line
//!     }
//!
//!     /// Unlinks and frees the line after `line`.
//!     fn delete_after(&mut self, line: Forward<'id, Line<'id>>) {
//!         if let Some(gone) = self.arena[line].next {
//!             self.arena[line].next = self.arena[gone].next;
//!             self.arena.remove(gone);
//!         }
//!     }
//!
//!     fn compact_if_holey(&mut self) {
//!         let stats = self.arena.detailed_stats();
//!         if stats.hole_bytes > stats.capacity / 4 {
//!             self.arena.compact_in_place(&mut self.state);
//!             self.compactions += 1;
//!         }
//!     }
//!
//!     fn texts(&self) -> Vec<&str> {
//!         let mut texts = Vec::new();
//!         let mut line = self.first;
//!         while let Some(at) = line {
//!             texts.push(self.arena[at].text.as_str());
//!             line = self.arena[at].next;
//!         }
//!         texts
//!     }
//! }
//!
//! make_guard!(guard);
//! let mut editor = Editor::new(guard);
//! let last = editor.push_front("last");
//! for i in 0..1000 {
//!     let line = editor.push_front(&format!("line {i}"));
//!     if i % 2 == 1 {
//!         editor.delete_after(line); // line i - 1
//!     }
//!     if i % 100 <= 1 {
//!         editor.marks.push(line);
//!     }
//!     editor.compact_if_holey();
//! }
//! assert!(editor.compactions >= 2);
//! let texts = editor.texts();
//! assert_eq!((texts.len(), texts[0], texts[1], texts[500]), (501, "line 999", "line 997", "last"));
//! assert_eq!(editor.arena[last].text, "last");
//! // The marks of deleted lines say so; the others still reach their line.
//! let alive: Vec<bool> = editor.marks.iter().map(|&m| editor.arena.contains(m)).collect();
//! assert_eq!(alive.iter().filter(|&&a| a).count(), 10);
//! assert_eq!(editor.arena[editor.marks[1]].text, "line 1");
//! ```
//!
//! # Sizing a region
//!
//! A region's capacity is fixed when it is made: it never grows, because
//! its items and tokens carry addresses inside its one block. A program
//! that runs for a long time sizes it for the most it will ever hold,
//! with headroom for the holes between compactions: the part of the
//! block no object has reached yet costs address space, not memory, on
//! systems that commit memory when it is first written (Linux, macOS).
//! Making a 1 GiB region adds about 16 MB of resident memory, its dead
//! bitmap (1/64 of the capacity), which is cleared when the region is
//! made; the objects' area counts only as it fills; the block is aligned to its size rounded up to a power of
//! two, so it takes up to twice its size in address space. When an
//! allocation returns [`AllocError::Full`](crate::AllocError::Full), compact and
//! retry; if it is still full, the live objects need a larger region
//! (made with another guard: `Forward`s of one region do not carry over
//! to another). [`Arena::try_with_capacity`] reports a capacity that
//! cannot be had as an error rather than aborting. A struct that owns its
//! region lets [`Arena::or_compact`] do the compact-and-retry: its
//! `alloc_shared`, `alloc_shared_slice`, `resize_shared`, `splice_shared`
//! and `push_shared` compact the region in place when it is full and has
//! holes, and fail only when the live objects fill it
//! (`self.arena.or_compact(&mut self.state).alloc_shared(value)?`).
//!
//! # Several regions
//!
//! Each region carries the brand of its own guard, and a guard lives until
//! the end of the block whose `make_guard!` made it. So regions made in a
//! loop cannot be collected into one `Vec` that outlives the loop ("temporary
//! value dropped while borrowed", pointing into the macro): the brands
//! differ, and each guard ends with its iteration. A program with many
//! documents or compilation units either keeps them in one region (one
//! arena, one `Forward` type: the units differ by which objects they
//! reach), or handles each unit in a function that takes its guard
//! (`fn compile(guard: Guard<'_>, unit: &Unit) -> Output`), called once per
//! unit with `make_guard!` in the loop body, returning what outlives it as
//! plain data.
//!
//! # Items across a compaction, in a struct
//!
//! A method of a struct that owns its region can still carry items
//! through a compaction: tokenize them with a guard of its own, compact
//! in place, and redeem them.
//!
//! ```
//! use managed::prelude::*;
//!
//! struct Scratch<'id> {
//!     arena: Arena<'id, 0>,
//!     state: State<'id>,
//! }
//!
//! impl<'id> Scratch<'id> {
//!     /// Allocates two values, frees the first, compacts, and returns
//!     /// the second (moved down into the first one's place).
//!     fn demo(&mut self) -> u64 {
//!         let first = self.arena.alloc(&self.state, [0u64; 16]).expect("room");
//!         let second = self.arena.alloc(&self.state, 7u64).expect("room");
//!         drop(first);
//!         make_guard!(g);
//!         let token = self.arena.tokenize(&g, second);
//!         self.arena.compact_in_place(&mut self.state);
//!         let second = token(&self.arena);
//!         assert_eq!(self.arena.detailed_stats().hole_bytes, 0);
//!         *second
//!     }
//! }
//!
//! make_guard!(guard);
//! let (arena, state) = Arena::with_capacity(guard, 4096);
//! assert_eq!(Scratch { arena, state }.demo(), 7);
//! ```
//!
//! # Threads
//!
//! An [`Arena`], its [`Item`]s and its [`Forward`]s are neither `Send` nor
//! `Sync`: a region and everything that points into it stay on the thread
//! that made them (its brand comes from a guard on that thread's stack).
//! Values copied out of the region cross threads as usual.
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
mod or_compact;
mod raw;
mod token;

pub use arena::{Arena, Compacting, RegionStats, State};
pub use forward::{Forward, Shared};
pub use item::Item;
pub use or_compact::OrCompact;
pub use raw::others::Others;
pub use token::{Rebrand, Token};

/// Derives [`Rebrand`](trait@Rebrand) for a type whose first lifetime
/// parameter is the region lifetime.
///
/// Where the dependency is renamed, `#[managed(crate = "path")]` on the
/// type gives the crate's path, as for [`Managed`](macro@crate::Managed).
pub use managed_derive::Rebrand;
