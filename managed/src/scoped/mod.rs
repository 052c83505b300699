//! [`MemoryArena`]: scoped bump allocation with reuse, in-place construction
//! and destructors.
//!
//! A [`MemoryArena`] owns blocks of memory. [`MemoryArena::allocator`] opens
//! an [`ArenaScope`], the only way to allocate: it borrows the arena
//! mutably, so one scope is open at a time, and every reference it hands out
//! borrows the scope, so none can outlive it. When the scope ends, the values
//! in it that need dropping are dropped (most recent first), and the blocks
//! are kept for the next scope: a loop that opens one scope per iteration
//! allocates from the global allocator only until its first iterations have
//! grown the arena to their high-water mark.
//!
//! ```
//! use managed::prelude::*;
//!
//! trait Eval {
//!     fn eval(&self, rhs: i32) -> i32;
//! }
//! struct Add(i32);
//! impl Eval for Add {
//!     fn eval(&self, rhs: i32) -> i32 { self.0 + rhs }
//! }
//!
//! // 2 MiB blocks (Miri interprets every byte written: there, 2 KiB).
//! let mib = if cfg!(miri) { 1 << 10 } else { 1 << 20 };
//! let mut arena = if cfg!(miri) {
//!     MemoryArena::with_block_size(2 * mib)
//! } else {
//!     MemoryArena::new(2)
//! };
//! for _pixel in 0..3 {
//!     let alloc = arena.allocator();
//!     let x: &mut [usize; 16] = alloc.alloc([0usize; 16]);
//!     x[3] = 3;
//!     let e: &dyn Eval = alloc.alloc(Add(4));
//!     assert_eq!(e.eval(x[3] as i32), 7);
//!     let name = alloc.alloc(String::from("dropped when the scope ends"));
//!     name.push('!');
//!     // Built in place: never on the stack.
//!     // Bigger than a block: it gets a block of its own.
//!     let bytes: &mut [u8] = alloc.alloc_slice_fill_copy(4 * mib, 0u8);
//!     assert_eq!(bytes.len(), 4 * mib);
//! }
//! assert_eq!(arena.stats().reserved_bytes, 2 * mib + 4 * mib);
//! ```
//!
//! A reference cannot outlive its scope:
//!
//! ```compile_fail
//! use managed::prelude::*;
//! let mut arena = MemoryArena::new(1);
//! let r = {
//!     let alloc = arena.allocator();
//!     alloc.alloc(1u32)
//! };
//! assert_eq!(*r, 1);
//! ```
//!
//! Collections from `allocator-api2` and `hashbrown` can live in a scope,
//! because `&ArenaScope` implements [`allocator_api2::alloc::Allocator`]
//! of `allocator-api2` **0.2**: a program's `Cargo.toml` names that version
//! (`allocator-api2 = "0.2"`; `cargo add allocator-api2` picks the newest,
//! another major version, and the compiler then reports that `Allocator`
//! is not implemented for `&ArenaScope`, naming two versions of the
//! crate). `hashbrown` takes it through its `allocator-api2` feature. (It
//! is not re-exported: a public path to its `Vec` would make every
//! compiler message of a program that uses this crate spell the standard
//! `Vec` as `std::vec::Vec`.)
//!
//! ```
//! use managed::prelude::*;
//! use allocator_api2::vec::Vec;
//! let mut arena = MemoryArena::new(1);
//! let scope = arena.allocator();
//! let mut v = Vec::new_in(&scope);
//! v.extend([1, 2, 3]);
//! assert_eq!(v.iter().sum::<i32>(), 6);
//! ```
//!
//! # Functions that take a scope
//!
//! A helper that allocates in a scope takes `&'s ArenaScope<'_>` and
//! returns what it allocated for `'s`, the borrow of the scope. A
//! collection in the scope names the scope's own lifetime too, since its
//! allocator type is `&'s ArenaScope<'a>`: give it a name of its own
//! rather than reusing `'s` (`&'s ArenaScope<'s>` asks for a borrow of the
//! scope as long as the scope itself, which the compiler then reports as
//! the scope "does not live long enough" when it is dropped, because
//! `ArenaScope` is invariant in its lifetime).
//!
//! ```
//! use managed::prelude::*;
//! use allocator_api2::vec::Vec as ScopeVec;
//!
//! /// Pairs of close points, as a slice in the scope.
//! fn close_pairs<'s>(scope: &'s ArenaScope<'_>, xs: &[f32]) -> &'s mut [(usize, usize)] {
//!     let pairs = (0..xs.len())
//!         .flat_map(|i| (i + 1..xs.len()).map(move |j| (i, j)))
//!         .filter(|&(i, j)| (xs[i] - xs[j]).abs() < 1.0);
//!     let mut in_scope = ScopeVec::new_in(scope);
//!     in_scope.extend(pairs);
//!     in_scope.leak()
//! }
//!
//! /// The same as a growable vector in the scope: two lifetimes.
//! fn order<'s, 'a>(scope: &'s ArenaScope<'a>, xs: &[f32]) -> ScopeVec<usize, &'s ArenaScope<'a>> {
//!     let mut order = ScopeVec::with_capacity_in(xs.len(), scope);
//!     order.extend(0..xs.len());
//!     order.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
//!     order
//! }
//!
//! let mut arena = MemoryArena::new(1);
//! for frame in 0..3 {
//!     let scope = arena.allocator();
//!     let xs = [0.0, 5.0, 0.5, 9.0 + frame as f32];
//!     assert_eq!(close_pairs(&scope, &xs), [(0, 2)]);
//!     assert_eq!(order(&scope, &xs)[..], [0, 2, 1, 3]);
//! }
//! ```
//!
//! The compiler's own suggestion for a missing lifetime here,
//! `fn f<'a>(scope: &'a ArenaScope<'a>) -> ScopeVec<u8, &'a ArenaScope<'a>>`,
//! is that one-lifetime form: write the two lifetimes instead.
//!
//! A struct whose methods use scratch memory keeps its `MemoryArena`
//! outside itself (a `&mut MemoryArena` argument of the method, or a
//! field of the caller): an open scope borrows its arena exclusively, so
//! with the arena in `self`, the method could not call another `&self`
//! method while the scope is open.
//!
//! # Values that hold references
//!
//! A value that may need dropping is dropped when the scope ends, so every
//! lifetime in it must still be alive then: the methods that can store such
//! values ([`ArenaScope::alloc`], [`ArenaScope::alloc_with`],
//! [`ArenaScope::alloc_slice_clone`], [`ArenaScope::alloc_slice_fill_with`])
//! require `T: 'a`, where `'a` is the borrow of the arena. A node that points
//! at nodes of its own scope (`&'s Node<'s>`, the usual bump-arena tree) does
//! not satisfy that: the compiler reports that `'s` must outlive `'a`, or
//! that the scope "does not live long enough". What to do instead:
//!
//! - **Types without drop glue** go in with [`ArenaScope::alloc_no_drop`]
//!   (as with `bumpalo`'s `alloc`) or, when `Copy`, [`ArenaScope::alloc_copy`]:
//!   they are never dropped, so they may point anywhere in the scope.
//! - **Keep the owned parts in the scope too**, and the node loses its drop
//!   glue: a `&'s str` from [`ArenaScope::alloc_str`] instead of a `String`,
//!   a `&'s [T]` from [`ArenaScope::alloc_slice_copy`] instead of a `Vec`.
//! - **Values with destructors may point into an enclosing scope**: open a
//!   [nested](ArenaScope::nested) scope for them; it ends (dropping them)
//!   before the values they point at.
//! - **A structure of owning nodes with destructors**, where nodes own their
//!   children, belongs in a [`DropArena`](crate::drop_arena::DropArena),
//!   which gives a whole structure back with
//!   [`drop_tree`](crate::drop_arena::DropArena::drop_tree).
//! - [`ArenaScope::alloc_no_drop`] also takes a value with a destructor, and
//!   never runs it (what the value owns is leaked).
//!
//! ```
//! use managed::prelude::*;
//!
//! // No drop glue: the name lives in the scope as well.
//! struct Node<'s> {
//!     name: &'s str,
//!     parent: Option<&'s Node<'s>>,
//! }
//!
//! /// Reads the scope's nodes, and needs dropping.
//! struct Report<'o> {
//!     nodes: Vec<&'o Node<'o>>,
//! }
//!
//! let mut arena = MemoryArena::new(1);
//! let scope = arena.allocator();
//! let root = scope.alloc_no_drop(Node { name: scope.alloc_str("root"), parent: None });
//! let leaf = scope.alloc_no_drop(Node { name: scope.alloc_str("leaf"), parent: Some(root) });
//! {
//!     let nested = scope.nested();
//!     let report = nested.alloc(Report { nodes: vec![root, leaf] });
//!     assert_eq!(report.nodes[1].parent.map(|p| p.name), Some("root"));
//! } // the report is dropped here, its memory given back to `scope`
//! ```
//!
//! # Nested scopes
//!
//! An arena has one scope open at a time (the scope borrows it mutably), but
//! a scope can open [nested](ArenaScope::nested) scopes, one inside the
//! other: each allocates from where the scope around it stands and gives
//! that memory back when it ends, so a long-lived structure (in the outer
//! scope) and a stream of short-lived ones (each in a nested scope) share
//! one arena and its blocks.

mod raw;

use core::fmt;

use self::raw::Blocks;
pub use self::raw::scope::ArenaScope;
use crate::SpaceStats;

/// Owns the memory blocks that [`ArenaScope`]s allocate from, and keeps them
/// from one scope to the next.
///
/// Blocks have a fixed standard size; a request that does not fit a standard
/// block gets a dedicated block of its own, which later scopes reuse too.
/// Nothing is allocated before the first request. Allocation sizes are
/// rounded up to 8 bytes, which keeps the bump cursor aligned for free.
///
/// ```
/// use managed::prelude::*;
/// let mut arena = MemoryArena::new(1);
/// let first = {
///     let scope = arena.allocator();
///     scope.alloc([1u64; 4]).as_ptr()
/// };
/// let second = {
///     let scope = arena.allocator();
///     scope.alloc([2u64; 4]).as_ptr()
/// };
/// assert_eq!(first, second); // the memory was reused
/// assert_eq!(arena.block_count(), 1);
/// ```
pub struct MemoryArena {
    /// The blocks. While a scope is open it reaches them through a raw
    /// pointer derived from the `&mut MemoryArena` it borrows.
    blocks: Blocks,
}

/// An arena of 1 MiB blocks ([`MemoryArena::new(1)`](MemoryArena::new)),
/// which allocates nothing until its first scope asks: so a struct that
/// keeps one can `mem::take` it, and `#[derive(Default)]` works on it.
impl Default for MemoryArena {
    fn default() -> Self {
        MemoryArena::with_block_size(1 << 20)
    }
}

impl MemoryArena {
    /// An arena whose standard blocks hold `block_size_mib` MiB. Nothing is
    /// allocated until the first request.
    ///
    /// # Panics
    /// If `block_size_mib` MiB overflows `usize`.
    #[must_use]
    #[track_caller]
    pub fn new(block_size_mib: usize) -> MemoryArena {
        let bytes = block_size_mib
            .checked_mul(1 << 20)
            .expect("MemoryArena::new: block size in bytes overflows usize");
        MemoryArena::with_block_size(bytes)
    }

    /// An arena whose standard blocks hold `bytes` bytes (with `0`, every
    /// request gets a dedicated block).
    #[must_use]
    pub const fn with_block_size(bytes: usize) -> MemoryArena {
        MemoryArena {
            blocks: Blocks::new(bytes),
        }
    }

    /// Frees every block but the first standard block, so the arena again
    /// holds what a small scope needs.
    pub fn reset(&mut self) {
        self.blocks.reset();
    }

    /// Space statistics. No scope is open (it would borrow the arena), so no
    /// bytes are live; `reserved_bytes` is the size of every block held.
    /// [`ArenaScope::stats`] reports the live bytes of an open scope.
    #[must_use]
    pub fn stats(&self) -> SpaceStats {
        SpaceStats::new(0, self.blocks.reserved())
    }

    /// Frees every block. The next scope allocates afresh.
    pub fn shrink_to_fit(&mut self) {
        self.blocks.clear();
    }

    /// Size of a standard block in bytes.
    #[must_use]
    pub fn block_size(&self) -> usize {
        self.blocks.block_size()
    }

    /// Number of blocks the arena holds.
    #[must_use]
    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }
}

impl fmt::Debug for MemoryArena {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryArena")
            .field("block_size", &self.block_size())
            .field("block_count", &self.block_count())
            .field("reserved_bytes", &self.blocks.reserved())
            .finish()
    }
}

impl fmt::Debug for ArenaScope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArenaScope")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

// Memory maps (`crate::memory_map`).
impl MemoryArena {
    /// A map of the arena's memory between scopes: every block, free (the
    /// last scope's values are gone). [`ArenaScope::memory_map`] maps an
    /// open scope.
    #[must_use]
    pub fn memory_map(&self) -> crate::memory_map::MemoryMap {
        let mut map = crate::memory_map::MemoryMap::new("MemoryArena");
        self.blocks.map_into(None, &mut map);
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem;

    #[test]
    fn steady_state_reuses_blocks_without_allocating() {
        let mut arena = MemoryArena::with_block_size(4096);
        let mut addrs = Vec::new();
        for _ in 0..4 {
            let scope = arena.allocator();
            let a = scope.alloc_slice_fill_copy(1000, 1u8);
            let b = scope.alloc_slice_fill_copy(10_000, 2u8); // dedicated
            let c = scope.alloc_slice_fill_copy(3504, 3u8); // new current block
            addrs.push((a.as_ptr(), b.as_ptr(), c.as_ptr()));
            assert_eq!(scope.stats().live_bytes, 1000 + 10_000 + 3504);
        }
        assert!(addrs.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(arena.block_count(), 3);
        assert_eq!(arena.stats().reserved_bytes, 4096 + 10_000 + 4096);
    }

    #[test]
    fn zero_sized_requests_touch_no_block() {
        let mut arena = MemoryArena::with_block_size(64);
        let scope = arena.allocator();
        let unit: &mut () = scope.alloc(());
        *unit = ();
        let empty = scope.alloc_slice_copy::<u64>(&[]);
        assert!(empty.is_empty());
        assert_eq!(scope.stats().live_bytes, 0);
        drop(scope);
        assert_eq!(arena.block_count(), 0);
    }

    #[test]
    fn forgotten_scope_leaks_values_but_not_the_arena() {
        use core::cell::Cell;
        struct Counted<'c>(&'c Cell<usize>);
        impl Drop for Counted<'_> {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }
        let drops = Cell::new(0);
        let mut arena = MemoryArena::with_block_size(256);
        let scope = arena.allocator();
        scope.alloc(Counted(&drops));
        mem::forget(scope);
        // The leaked value is never dropped, and the next scope starts over
        // in the same memory.
        let scope = arena.allocator();
        assert_eq!(scope.stats().live_bytes, 0);
        scope.alloc(Counted(&drops));
        drop(scope);
        assert_eq!(drops.get(), 1);
        assert_eq!(arena.block_count(), 1);
    }
}
