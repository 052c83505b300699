//! The scoped arena's bump allocator: [`ArenaScope`] (its cursor, drop list
//! and nesting), how a scope is opened on a [`MemoryArena`]'s blocks, and its
//! `Allocator` impl. Every value is written, and every slice made, here.
//!
//! Invariants: a scope's `blocks` pointer comes from the `&mut MemoryArena`
//! it (or its outermost enclosing scope) borrows for `'a` and is only
//! dereferenced while no other reference to the blocks exists; memory handed
//! out lives until the scope ends (or, nested, until its rewind); a scope
//! whose nested scope is open refuses to allocate.

use core::alloc::Layout;
use core::cell::Cell;
use core::marker::PhantomData;
use core::mem::{self, MaybeUninit};
use core::ptr::{self, NonNull};

use allocator_api2::alloc::{AllocError as ApiAllocError, Allocator};

use super::drop_list::{DropList, SliceEntry, ValueEntry};
use super::{Blocks, Mark, ScopedCursor};
use crate::scoped::MemoryArena;
use crate::{AllocError, SpaceStats};

// SAFETY: between scopes (the only time a `MemoryArena` can be moved or
// shared: an open scope borrows it mutably) the arena holds only raw memory,
// no values, so nothing in it is tied to a thread.
unsafe impl Send for MemoryArena {}
// SAFETY: `&MemoryArena` only reads sizes and counts.
unsafe impl Sync for MemoryArena {}

/// One allocation scope of a [`MemoryArena`]: everything allocated through it
/// lives until it is dropped, then values that need dropping are dropped and
/// the memory is kept for the next scope.
///
/// Allocation methods take `&self` and return references that borrow the
/// scope. `'a` is the borrow of the arena (of the enclosing scope, for a
/// [nested](Self::nested) scope); the scope is invariant in it, so `T: 'a`
/// bounds really mean "alive when the scope ends".
pub struct ArenaScope<'a> {
    /// Bump cursor into the current block. Empty (no current block) while a
    /// nested scope is open, which then owns the position.
    cursor: ScopedCursor,
    /// Values to drop when the scope ends.
    drops: DropList,
    /// The arena's blocks, from the `&mut MemoryArena` that this scope (or
    /// the outermost scope it is nested in) holds. Only the slow path,
    /// `nested`, `stats` and the rewind of a nested scope dereference it,
    /// never while another reference to the blocks exists.
    blocks: NonNull<Blocks>,
    /// `Some(live bytes then)` while a nested scope of this one is open:
    /// this scope's cursor is then empty, so every allocation reaches the
    /// slow path, which refuses it (checked in every build: the nested
    /// scope rewinds over whatever would be allocated here).
    nested: Cell<Option<usize>>,
    /// For a nested scope: the enclosing scope and where it stood.
    parent: Option<Parent<'a>>,
    /// Holds the arena's unique borrow for `'a`, and makes the scope
    /// invariant in `'a` (so it cannot be coerced to a shorter lifetime that
    /// the values in it might not outlive).
    _arena: PhantomData<(&'a mut MemoryArena, Invariant<'a>)>,
}

/// A marker type invariant in `'a`.
type Invariant<'a> = fn(&'a ()) -> &'a ();

/// What a nested scope restores in its enclosing scope when it ends.
struct Parent<'a> {
    /// The enclosing scope's cursor, empty while the nested scope is open.
    cursor: &'a ScopedCursor,
    /// The enclosing scope's `nested` flag, set while the nested scope is
    /// open.
    nested: &'a Cell<Option<usize>>,
    /// The enclosing scope's cursor position when the nested scope opened.
    position: [*mut u8; 3],
    /// The block list's position then.
    mark: Mark,
}

/// Panics for an allocation in a scope whose nested scope is open.
#[cold]
#[inline(never)]
#[track_caller]
fn allocation_while_nested() -> ! {
    panic!(
        "ArenaScope: allocation in a scope while a scope nested in it is open; \
         allocate through the nested scope, or drop it first"
    )
}

/// Aborts or panics for a failed infallible allocation.
#[cold]
#[inline(never)]
#[track_caller]
fn alloc_failed(err: AllocError) -> ! {
    match err {
        AllocError::OutOfMemory { layout } => crate::page::raw::out_of_memory(layout),
        AllocError::CapacityOverflow => {
            panic!("MemoryArena: allocation size overflows isize::MAX bytes")
        }
        err => panic!("MemoryArena: {err}"),
    }
}

/// A well-aligned, non-null pointer for a zero-sized request.
#[inline(always)]
fn dangling(align: usize) -> NonNull<u8> {
    // SAFETY: an alignment is never zero.
    unsafe { NonNull::new_unchecked(ptr::without_provenance_mut(align)) }
}

/// Writes `f()` to `dst`. Kept separate (and forced inline) so that with
/// optimizations LLVM writes the value straight to `dst` instead of building
/// it on the stack first.
///
/// # Safety
/// `dst` is valid for writes and aligned.
#[inline(always)]
unsafe fn write_with<T, F: FnOnce() -> T>(dst: *mut T, f: F) {
    // SAFETY: per the contract.
    unsafe { dst.write(f()) }
}

impl MemoryArena {
    /// Opens a scope. The arena stays borrowed until the scope is dropped, so
    /// only one scope is open at a time (scopes nest inside it:
    /// [`ArenaScope::nested`]); the new scope reuses every block the arena
    /// already has.
    #[inline]
    #[must_use = "allocate through the scope: dropping it at once ends the scope"]
    pub fn allocator(&mut self) -> ArenaScope<'_> {
        let cursor = ScopedCursor::empty();
        self.blocks.open(&cursor);
        ArenaScope {
            cursor,
            drops: DropList::new(),
            blocks: NonNull::from(&mut self.blocks),
            nested: Cell::new(None),
            parent: None,
            _arena: PhantomData,
        }
    }
}

// Returning `&mut` from `&self` is the bump-allocator idiom (as in
// `bumpalo::Bump::alloc`): every call returns fresh memory that no other
// reference can reach, so the `&mut`s never alias.
#[allow(clippy::mut_from_ref)]
impl<'a> ArenaScope<'a> {
    // ----- single values --------------------------------------------------

    /// Moves `value` into the scope. It is dropped when the scope ends if it
    /// needs dropping.
    ///
    /// `T: 'a` (it outlives the scope, which drops it): a value that holds
    /// references into the scope itself (an AST node pointing at others)
    /// goes in with [`alloc_copy`](Self::alloc_copy) (for `Copy` values)
    /// or [`alloc_no_drop`](Self::alloc_no_drop) instead, which need no
    /// drop and so no such bound. The compiler's suggestion for this case,
    /// `&'s ArenaScope<'s>`, compiles but then refuses the scope's own drop
    /// ("does not live long enough"): do not take it.
    ///
    /// ```
    /// use managed::prelude::*;
    /// let mut arena = MemoryArena::new(1);
    /// let scope = arena.allocator();
    /// let v = scope.alloc(vec![1, 2]);
    /// v.push(3);
    /// assert_eq!(v, &[1, 2, 3]);
    /// ```
    ///
    /// # Panics
    /// Aborts via [`alloc::alloc::handle_alloc_error`] if the global allocator
    /// fails.
    #[inline(always)]
    #[track_caller]
    pub fn alloc<T: 'a>(&self, value: T) -> &mut T {
        self.alloc_with(|| value)
    }

    /// Moves `value` into the scope, or returns an error (dropping `value`)
    /// if memory cannot be had.
    ///
    /// # Errors
    /// As [`Self::try_alloc_layout`].
    #[inline(always)]
    #[track_caller]
    pub fn try_alloc<T: 'a>(&self, value: T) -> Result<&mut T, AllocError> {
        self.try_alloc_with(|| value)
    }

    /// Stores the value `f` returns. The memory is reserved before `f` runs
    /// and the value is written straight into it: with optimizations, a large
    /// value is built in place, not on the stack. `f` may allocate in this
    /// scope too; if it panics nothing is stored. (Without optimizations
    /// the value may pass through the stack; a buffer too big for the stack
    /// is built in any build with [`Self::alloc_slice_fill_copy`],
    /// [`Self::alloc_slice_fill_with`] or [`Self::alloc_uninit_slice`].)
    ///
    /// ```
    /// use managed::prelude::*;
    /// let mut arena = MemoryArena::new(1);
    /// let scope = arena.allocator();
    /// let table = scope.alloc_with(|| [7u32; 1024]);
    /// assert_eq!(table[1023], 7);
    /// ```
    ///
    /// # Panics
    /// If `f` panics; aborts via [`alloc::alloc::handle_alloc_error`] if the
    /// global allocator fails.
    #[inline(always)]
    #[track_caller]
    pub fn alloc_with<T: 'a, F: FnOnce() -> T>(&self, f: F) -> &mut T {
        if const { !mem::needs_drop::<T>() } {
            let p = self.alloc_layout(Layout::new::<T>()).cast::<T>();
            // SAFETY: `p` is fresh memory for a `T`, exclusively ours until
            // the scope ends, which the returned borrow of `self` cannot
            // outlive.
            unsafe {
                write_with(p.as_ptr(), f);
                &mut *p.as_ptr()
            }
        } else {
            let entry = self
                .alloc_layout(Layout::new::<ValueEntry<T>>())
                .cast::<ValueEntry<T>>();
            // SAFETY: 1. `entry` is fresh memory for a `ValueEntry<T>`, live
            // until the scope ends. 2. The value is written before the entry
            // is registered, so a panic in `f` registers nothing. 3. `T: 'a`
            // and the scope is invariant in `'a`, which is alive when the
            // scope drops, so the list may drop the value then. 4. The
            // returned borrow of `self` cannot outlive the scope.
            unsafe {
                let value = ValueEntry::value_ptr(entry);
                write_with(value, f);
                self.drops.push_value(entry);
                &mut *value
            }
        }
    }

    /// As [`Self::alloc_with`], but returns an error (without calling `f`)
    /// if memory cannot be had.
    ///
    /// # Errors
    /// As [`Self::try_alloc_layout`].
    #[inline(always)]
    #[track_caller]
    pub fn try_alloc_with<T: 'a, F: FnOnce() -> T>(&self, f: F) -> Result<&mut T, AllocError> {
        if const { !mem::needs_drop::<T>() } {
            let p = self.try_alloc_layout(Layout::new::<T>())?.cast::<T>();
            // SAFETY: as in `alloc_with`.
            unsafe {
                write_with(p.as_ptr(), f);
                Ok(&mut *p.as_ptr())
            }
        } else {
            let entry = self
                .try_alloc_layout(Layout::new::<ValueEntry<T>>())?
                .cast::<ValueEntry<T>>();
            // SAFETY: as in `alloc_with`.
            unsafe {
                let value = ValueEntry::value_ptr(entry);
                write_with(value, f);
                self.drops.push_value(entry);
                Ok(&mut *value)
            }
        }
    }

    /// Moves `value` into the scope and never drops it, as `bumpalo`'s
    /// `alloc` does. Unlike [`Self::alloc`] it takes values of any lifetime:
    /// nodes that point at other nodes of this same scope, the canonical
    /// bump-arena tree, which `alloc` refuses (it would drop them when the
    /// scope ends, after the values they point at).
    ///
    /// For a type without drop glue (no destructor, and none in its fields)
    /// this is all `alloc` would do. For a type with one, the destructor
    /// never runs: whatever the value owns (a `String`'s buffer) is leaked,
    /// as with [`mem::forget`]; see the [module docs](crate::scoped) for what else
    /// is possible.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// struct Tree<'s> {
    ///     left: Option<&'s Tree<'s>>,
    ///     right: Option<&'s Tree<'s>>,
    /// }
    ///
    /// fn build<'s>(scope: &'s ArenaScope<'_>, depth: u32) -> &'s Tree<'s> {
    ///     let (left, right) = if depth == 0 {
    ///         (None, None)
    ///     } else {
    ///         (Some(build(scope, depth - 1)), Some(build(scope, depth - 1)))
    ///     };
    ///     scope.alloc_no_drop(Tree { left, right })
    /// }
    ///
    /// fn count(tree: &Tree<'_>) -> u32 {
    ///     1 + tree.left.map_or(0, count) + tree.right.map_or(0, count)
    /// }
    ///
    /// let mut arena = MemoryArena::new(1);
    /// let scope = arena.allocator();
    /// assert_eq!(count(build(&scope, 6)), 127);
    /// ```
    ///
    /// # Panics
    /// As [`Self::alloc`].
    #[inline(always)]
    #[track_caller]
    pub fn alloc_no_drop<T>(&self, value: T) -> &mut T {
        let p = self.alloc_layout(Layout::new::<T>()).cast::<T>();
        // SAFETY: fresh memory for a `T`, exclusively ours for the scope,
        // which the returned borrow cannot outlive; nothing ever drops the
        // value (leaking is safe), so no lifetime in `T` needs to outlive
        // the scope.
        unsafe {
            p.as_ptr().write(value);
            &mut *p.as_ptr()
        }
    }

    /// As [`Self::alloc_no_drop`], but returns an error (dropping `value`)
    /// if memory cannot be had.
    ///
    /// # Errors
    /// As [`Self::try_alloc_layout`].
    #[inline(always)]
    #[track_caller]
    pub fn try_alloc_no_drop<T>(&self, value: T) -> Result<&mut T, AllocError> {
        let p = self.try_alloc_layout(Layout::new::<T>())?.cast::<T>();
        // SAFETY: as in `alloc_no_drop`.
        unsafe {
            p.as_ptr().write(value);
            Ok(&mut *p.as_ptr())
        }
    }

    /// Moves a `Copy` value into the scope. Unlike [`Self::alloc`] it takes
    /// values of any lifetime, such as a struct of references to other
    /// values in this scope: `Copy` values never need dropping.
    ///
    /// ```
    /// use managed::prelude::*;
    /// #[derive(Clone, Copy)]
    /// struct Pair<'s> { a: &'s u32, b: &'s u32 }
    /// let mut arena = MemoryArena::new(1);
    /// let scope = arena.allocator();
    /// let pair = scope.alloc_copy(Pair { a: scope.alloc(1), b: scope.alloc(2) });
    /// assert_eq!(*pair.a + *pair.b, 3);
    /// ```
    ///
    /// # Panics
    /// Aborts via [`alloc::alloc::handle_alloc_error`] if the global allocator
    /// fails.
    #[inline(always)]
    #[track_caller]
    pub fn alloc_copy<T: Copy>(&self, value: T) -> &mut T {
        let p = self.alloc_layout(Layout::new::<T>()).cast::<T>();
        // SAFETY: fresh memory for a `T`, exclusively ours for the scope.
        unsafe {
            p.as_ptr().write(value);
            &mut *p.as_ptr()
        }
    }

    /// As [`Self::alloc_copy`], but returns an error if memory cannot be had.
    ///
    /// # Errors
    /// As [`Self::try_alloc_layout`].
    #[inline(always)]
    #[track_caller]
    pub fn try_alloc_copy<T: Copy>(&self, value: T) -> Result<&mut T, AllocError> {
        let p = self.try_alloc_layout(Layout::new::<T>())?.cast::<T>();
        // SAFETY: fresh memory for a `T`, exclusively ours for the scope.
        unsafe {
            p.as_ptr().write(value);
            Ok(&mut *p.as_ptr())
        }
    }

    /// Reserves uninitialized memory for a `T`. Nothing is ever dropped
    /// there: a value written to it is leaked when the scope ends unless the
    /// caller drops it.
    ///
    /// ```
    /// use managed::prelude::*;
    /// let mut arena = MemoryArena::new(1);
    /// let scope = arena.allocator();
    /// let slot = scope.alloc_uninit::<u64>();
    /// let v: &mut u64 = slot.write(5);
    /// assert_eq!(*v, 5);
    /// ```
    ///
    /// # Panics
    /// Aborts via [`alloc::alloc::handle_alloc_error`] if the global allocator
    /// fails.
    #[inline(always)]
    #[track_caller]
    pub fn alloc_uninit<T>(&self) -> &mut MaybeUninit<T> {
        let p = self
            .alloc_layout(Layout::new::<T>())
            .cast::<MaybeUninit<T>>();
        // SAFETY: fresh memory for a `T`; `MaybeUninit` needs no
        // initialization.
        unsafe { &mut *p.as_ptr() }
    }

    /// As [`Self::alloc_uninit`], but returns an error if memory cannot be
    /// had.
    ///
    /// # Errors
    /// As [`Self::try_alloc_layout`].
    #[inline(always)]
    #[track_caller]
    pub fn try_alloc_uninit<T>(&self) -> Result<&mut MaybeUninit<T>, AllocError> {
        let p = self
            .try_alloc_layout(Layout::new::<T>())?
            .cast::<MaybeUninit<T>>();
        // SAFETY: as in `alloc_uninit`.
        Ok(unsafe { &mut *p.as_ptr() })
    }

    // ----- slices -----------------------------------------------------------

    /// Reserves uninitialized memory for `len` `T`s. As for
    /// [`Self::alloc_uninit`], nothing is dropped there.
    ///
    /// # Panics
    /// If `len * size_of::<T>()` overflows `isize::MAX`; aborts via
    /// [`alloc::alloc::handle_alloc_error`] if the global allocator fails.
    #[inline]
    #[track_caller]
    pub fn alloc_uninit_slice<T>(&self, len: usize) -> &mut [MaybeUninit<T>] {
        match self.try_alloc_uninit_slice(len) {
            Ok(v) => v,
            Err(e) => alloc_failed(e),
        }
    }

    /// As [`Self::alloc_uninit_slice`], but returns an error if the size
    /// overflows or memory cannot be had.
    ///
    /// # Errors
    /// As [`Self::try_alloc_layout`].
    #[inline]
    #[track_caller]
    pub fn try_alloc_uninit_slice<T>(
        &self,
        len: usize,
    ) -> Result<&mut [MaybeUninit<T>], AllocError> {
        let layout = Layout::array::<T>(len).map_err(|_| AllocError::CapacityOverflow)?;
        let p = self.try_alloc_layout(layout)?.cast::<MaybeUninit<T>>();
        // SAFETY: fresh memory for `len` `T`s, exclusively ours for the scope;
        // `MaybeUninit` needs no initialization.
        Ok(unsafe { core::slice::from_raw_parts_mut(p.as_ptr(), len) })
    }

    /// Copies `src` into the scope.
    ///
    /// # Panics
    /// Aborts via [`alloc::alloc::handle_alloc_error`] if the global allocator
    /// fails.
    #[inline]
    #[track_caller]
    pub fn alloc_slice_copy<T: Copy>(&self, src: &[T]) -> &mut [T] {
        match self.try_alloc_slice_copy(src) {
            Ok(v) => v,
            Err(e) => alloc_failed(e),
        }
    }

    /// As [`Self::alloc_slice_copy`], but returns an error if memory cannot
    /// be had.
    ///
    /// # Errors
    /// As [`Self::try_alloc_layout`].
    #[inline]
    #[track_caller]
    pub fn try_alloc_slice_copy<T: Copy>(&self, src: &[T]) -> Result<&mut [T], AllocError> {
        let dst = self.try_alloc_uninit_slice::<T>(src.len())?;
        let dst = dst.as_mut_ptr().cast::<T>();
        // SAFETY: `dst` is fresh memory for `src.len()` `T`s, disjoint from
        // `src`; after the copy every element is initialized (`T: Copy`
        // needs no drop).
        unsafe {
            ptr::copy_nonoverlapping(src.as_ptr(), dst, src.len());
            Ok(core::slice::from_raw_parts_mut(dst, src.len()))
        }
    }

    /// Copies `s` into the scope.
    ///
    /// ```
    /// use managed::prelude::*;
    /// let mut arena = MemoryArena::new(1);
    /// let scope = arena.allocator();
    /// let s = scope.alloc_str("shade");
    /// s.make_ascii_uppercase();
    /// assert_eq!(s, "SHADE");
    /// ```
    ///
    /// # Panics
    /// Aborts via [`alloc::alloc::handle_alloc_error`] if the global allocator
    /// fails.
    #[inline]
    #[track_caller]
    pub fn alloc_str(&self, s: &str) -> &mut str {
        match self.try_alloc_str(s) {
            Ok(v) => v,
            Err(e) => alloc_failed(e),
        }
    }

    /// As [`Self::alloc_str`], but returns an error if memory cannot be had.
    ///
    /// # Errors
    /// As [`Self::try_alloc_layout`].
    #[inline]
    #[track_caller]
    pub fn try_alloc_str(&self, s: &str) -> Result<&mut str, AllocError> {
        let bytes = self.try_alloc_slice_copy(s.as_bytes())?;
        // SAFETY: the bytes are a copy of a `str`, so valid UTF-8.
        Ok(unsafe { core::str::from_utf8_unchecked_mut(bytes) })
    }

    /// Stores `len` copies of `value`, written in place (never on the stack):
    /// an 8 MiB buffer works on a small stack.
    ///
    /// # Panics
    /// If `len * size_of::<T>()` overflows `isize::MAX`; aborts via
    /// [`alloc::alloc::handle_alloc_error`] if the global allocator fails.
    #[inline]
    #[track_caller]
    pub fn alloc_slice_fill_copy<T: Copy>(&self, len: usize, value: T) -> &mut [T] {
        match self.try_alloc_slice_fill_copy(len, value) {
            Ok(v) => v,
            Err(e) => alloc_failed(e),
        }
    }

    /// As [`Self::alloc_slice_fill_copy`], but returns an error if the size
    /// overflows or memory cannot be had.
    ///
    /// # Errors
    /// As [`Self::try_alloc_layout`].
    #[inline]
    #[track_caller]
    pub fn try_alloc_slice_fill_copy<T: Copy>(
        &self,
        len: usize,
        value: T,
    ) -> Result<&mut [T], AllocError> {
        let dst = self.try_alloc_uninit_slice::<T>(len)?;
        for slot in dst.iter_mut() {
            slot.write(value);
        }
        let dst = dst.as_mut_ptr().cast::<T>();
        // SAFETY: every element was written just above.
        Ok(unsafe { core::slice::from_raw_parts_mut(dst, len) })
    }

    /// Clones every element of `src` into the scope. The clones are dropped
    /// when the scope ends; if a `clone` panics, the clones made so far are
    /// dropped at once.
    ///
    /// # Panics
    /// If a `clone` panics; aborts via [`alloc::alloc::handle_alloc_error`] if
    /// the global allocator fails.
    #[inline]
    #[track_caller]
    pub fn alloc_slice_clone<T: Clone + 'a>(&self, src: &[T]) -> &mut [T] {
        self.alloc_slice_fill_with(src.len(), |i| src[i].clone())
    }

    /// As [`Self::alloc_slice_clone`], but returns an error (without cloning
    /// anything) if memory cannot be had.
    ///
    /// # Errors
    /// As [`Self::try_alloc_layout`].
    #[inline]
    #[track_caller]
    pub fn try_alloc_slice_clone<T: Clone + 'a>(&self, src: &[T]) -> Result<&mut [T], AllocError> {
        self.try_alloc_slice_fill_with(src.len(), |i| src[i].clone())
    }

    /// Stores `f(0), f(1), .., f(len - 1)`, each written in place. The
    /// elements are dropped when the scope ends; if `f` panics, the elements
    /// built so far are dropped at once and nothing is stored. `f` may
    /// allocate in this scope too.
    ///
    /// ```
    /// use managed::prelude::*;
    /// let mut arena = MemoryArena::new(1);
    /// let scope = arena.allocator();
    /// let names = scope.alloc_slice_fill_with(3, |i| format!("lobe {i}"));
    /// assert_eq!(names[2], "lobe 2");
    /// ```
    ///
    /// # Panics
    /// If `len * size_of::<T>()` overflows `isize::MAX` or `f` panics;
    /// aborts via [`alloc::alloc::handle_alloc_error`] if the global allocator
    /// fails.
    #[inline]
    #[track_caller]
    pub fn alloc_slice_fill_with<T: 'a, F: FnMut(usize) -> T>(&self, len: usize, f: F) -> &mut [T] {
        match self.try_alloc_slice_fill_with(len, f) {
            Ok(v) => v,
            Err(e) => alloc_failed(e),
        }
    }

    /// Stores the items of `iter` as one slice, in order: for filling a
    /// scratch slice from a container's walk
    /// (`scope.alloc_slice_fill_iter(pool.values().map(|p| p.position))`).
    /// The iterator's [`len`](ExactSizeIterator::len) is the slice's
    /// length. Dropped as [`alloc_slice_fill_with`](Self::alloc_slice_fill_with)'s
    /// elements are.
    ///
    /// ```
    /// use managed::prelude::*;
    /// let mut arena = MemoryArena::new(1);
    /// let scope = arena.allocator();
    /// let words = ["bump", "scope", "arena"];
    /// let lengths = scope.alloc_slice_fill_iter(words.iter().map(|w| w.len()));
    /// assert_eq!(lengths, [4, 5, 5]);
    /// ```
    ///
    /// # Panics
    /// If the iterator yields fewer items than its `len` said (its extra
    /// items are not taken), or as
    /// [`alloc_slice_fill_with`](Self::alloc_slice_fill_with).
    #[inline]
    #[track_caller]
    pub fn alloc_slice_fill_iter<T: 'a, I>(&self, iter: I) -> &mut [T]
    where
        I: IntoIterator<Item = T>,
        I::IntoIter: ExactSizeIterator,
    {
        let mut iter = iter.into_iter();
        match self.try_fill_slice(iter.len(), |_| iter.next()) {
            Ok(Ok(slice)) => slice,
            Ok(Err(_)) => too_few_items(),
            Err(e) => alloc_failed(e),
        }
    }

    /// As [`Self::alloc_slice_fill_with`], but returns an error (without
    /// calling `f`) if the size overflows or memory cannot be had.
    ///
    /// # Errors
    /// As [`Self::try_alloc_layout`].
    #[track_caller]
    pub fn try_alloc_slice_fill_with<T: 'a, F: FnMut(usize) -> T>(
        &self,
        len: usize,
        mut f: F,
    ) -> Result<&mut [T], AllocError> {
        match self.try_fill_slice(len, |i| Some(f(i)))? {
            Ok(slice) => Ok(slice),
            Err(_) => unreachable!("the closure always yields"),
        }
    }

    /// The slice of `f(0), f(1), .., f(len - 1)`, or the number of
    /// elements built when `f` returned `None` first (they are dropped at
    /// once, as when `f` panics).
    #[inline]
    #[track_caller]
    fn try_fill_slice<T: 'a, F: FnMut(usize) -> Option<T>>(
        &self,
        len: usize,
        mut f: F,
    ) -> Result<Result<&mut [T], usize>, AllocError> {
        let layout = Layout::array::<T>(len).map_err(|_| AllocError::CapacityOverflow)?;
        let record = if mem::needs_drop::<T>() {
            Some(
                self.try_alloc_layout(Layout::new::<SliceEntry>())?
                    .cast::<SliceEntry>(),
            )
        } else {
            None
        };
        let data = self.try_alloc_layout(layout)?.cast::<T>().as_ptr();
        // Drops the prefix built so far if `f` panics; disarmed once every
        // element is written.
        let mut built = scopeguard::guard(0, |built| {
            // SAFETY: `data[..built]` are initialized and not yet owned by
            // anything else (the slice was never registered or returned).
            unsafe { ptr::drop_in_place(ptr::slice_from_raw_parts_mut(data, built)) };
        });
        while *built < len {
            let Some(value) = f(*built) else {
                // The guard drops the elements built so far.
                return Ok(Err(*built));
            };
            // SAFETY: `built < len`, so the slot is in the reserved memory.
            unsafe { data.add(*built).write(value) };
            *built += 1;
        }
        scopeguard::ScopeGuard::into_inner(built);
        if let Some(record) = record {
            // SAFETY: 1. `record` and `data` are fresh memory that lives until
            // the scope ends, and all `len` elements are initialized. 2. `T:
            // 'a`, alive when the scope drops (the scope is invariant in 'a).
            // 3. The record is read after `f` ran, so allocations `f` made
            // are kept in the list.
            unsafe { self.drops.push_slice(record, data, len) };
        }
        // SAFETY: all `len` elements are initialized and exclusively ours;
        // the borrow of `self` cannot outlive the scope.
        Ok(Ok(unsafe { core::slice::from_raw_parts_mut(data, len) }))
    }

    // ----- raw layouts ---------------------------------------------------

    /// Allocates memory for `layout`, or returns why it could not. The
    /// memory is uninitialized and lives until the scope ends; a zero-sized
    /// request returns a dangling, well-aligned pointer.
    ///
    /// # Errors
    /// [`AllocError::CapacityOverflow`] if the block size needed overflows,
    /// [`AllocError::OutOfMemory`] if the global allocator fails.
    #[inline(always)]
    #[track_caller]
    pub fn try_alloc_layout(&self, layout: Layout) -> Result<NonNull<u8>, AllocError> {
        if layout.size() == 0 {
            return Ok(dangling(layout.align()));
        }
        match self.cursor.bump(layout) {
            Some(p) => Ok(p),
            None => self.alloc_slow(layout),
        }
    }

    /// Allocates memory for `layout`, as [`Self::try_alloc_layout`].
    ///
    /// # Panics
    /// If the size overflows; aborts via [`alloc::alloc::handle_alloc_error`]
    /// if the global allocator fails.
    #[inline(always)]
    #[track_caller]
    pub fn alloc_layout(&self, layout: Layout) -> NonNull<u8> {
        if layout.size() == 0 {
            return dangling(layout.align());
        }
        match self.cursor.bump(layout) {
            Some(p) => p,
            None => match self.alloc_slow(layout) {
                Ok(p) => p,
                Err(e) => alloc_failed(e),
            },
        }
    }

    #[cold]
    #[inline(never)]
    #[track_caller]
    fn alloc_slow(&self, layout: Layout) -> Result<NonNull<u8>, AllocError> {
        if self.nested.get().is_some() {
            allocation_while_nested();
        }
        // SAFETY: `blocks` comes from the arena's `&mut` borrow, which this
        // scope (or the outermost scope around it) holds for as long as this
        // scope lives; the only other dereferences are in this method,
        // `nested`, `stats` and `rewind`, none of which is running (this
        // code calls no user code and a scope is not `Sync`).
        let blocks = unsafe { &mut *self.blocks.as_ptr() };
        blocks.alloc_slow(&self.cursor, layout)
    }

    // ----- statistics ------------------------------------------------------

    /// Space statistics: `live_bytes` counts every byte this scope has
    /// handed out (values, padding, drop records), `reserved_bytes` the
    /// arena's blocks.
    ///
    /// The live bytes of a nested scope include those of the scopes around
    /// it; while a nested scope is open, this scope reports the live bytes
    /// it had when the nested scope opened.
    #[must_use]
    pub fn stats(&self) -> SpaceStats {
        // SAFETY: as in `alloc_slow`; this is a shared read.
        let blocks = unsafe { self.blocks.as_ref() };
        let live = match self.nested.get() {
            Some(live) => live,
            None => blocks.used_elsewhere() + self.cursor.used(),
        };
        SpaceStats::new(live, blocks.reserved())
    }

    // ----- nested scopes ----------------------------------------------------

    /// Opens a scope nested in this one: it allocates from where this scope
    /// stands, and when it is dropped its values are dropped and its memory
    /// is given back to this scope, which goes on from where it was. This
    /// scope's values stay readable (and writable through the references
    /// already handed out) meanwhile, but this scope cannot allocate until
    /// the nested one is dropped: it panics if asked to.
    ///
    /// A long-lived structure and many short-lived ones can so share one
    /// arena:
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// struct Node<'s> {
    ///     value: u32,
    ///     next: Option<&'s Node<'s>>,
    /// }
    ///
    /// let mut arena = MemoryArena::new(1);
    /// let outer = arena.allocator();
    /// // The long-lived list, in the outer scope.
    /// let mut list: Option<&Node<'_>> = None;
    /// for value in 0..100 {
    ///     list = Some(outer.alloc_no_drop(Node { value, next: list }));
    /// }
    /// for round in 0..10 {
    ///     let scratch = outer.nested();
    ///     // Short-lived values that may point into the outer scope, and
    ///     // need dropping: dropped, and their memory reused, every round.
    ///     let names = scratch.alloc_slice_fill_with(10, |i| format!("{round}.{i}"));
    ///     let head = scratch.alloc((list.unwrap(), names.len()));
    ///     assert_eq!(head.0.value + head.1 as u32, 109);
    ///     let live = scratch.stats().live_bytes;
    ///     drop(scratch);
    ///     assert!(outer.stats().live_bytes < live);
    /// }
    /// ```
    ///
    /// Nested scopes nest in turn; a scope can have one nested scope open at
    /// a time. If a nested scope is leaked (with `mem::forget`), its values
    /// are never dropped and this scope allocates no more (it panics if
    /// asked to); nothing else goes wrong.
    ///
    /// # Panics
    /// If a scope nested in this one is already open (nest inside that one
    /// instead).
    #[track_caller]
    #[must_use = "allocate through the nested scope: dropping it at once ends it"]
    pub fn nested(&self) -> ArenaScope<'_> {
        assert!(
            self.nested.get().is_none(),
            "ArenaScope::nested: this scope already has a nested scope open; \
             nest inside that one, or drop it first"
        );
        // SAFETY: as in `alloc_slow`; a shared read.
        let mark = unsafe { self.blocks.as_ref() }.mark();
        self.nested.set(Some(self.stats().live_bytes));
        let position = self.cursor.position();
        let cursor = self.cursor.hand_over();
        ArenaScope {
            cursor,
            drops: DropList::new(),
            blocks: self.blocks,
            nested: Cell::new(None),
            parent: Some(Parent {
                cursor: &self.cursor,
                nested: &self.nested,
                position,
                mark,
            }),
            _arena: PhantomData,
        }
    }

    /// For a nested scope: gives its blocks and cursor position back to the
    /// enclosing scope, which may allocate again. Its values must have been
    /// dropped (or their dropping must have unwound).
    fn rewind(&self) {
        let Some(parent) = &self.parent else {
            return;
        };
        // SAFETY: as in `alloc_slow`.
        let blocks = unsafe { &mut *self.blocks.as_ptr() };
        blocks.rewind(parent.mark);
        parent.cursor.restore(parent.position);
        parent.nested.set(None);
    }
}

impl Drop for ArenaScope<'_> {
    /// Drops the values that need it, most recent first. If a destructor
    /// panics the others are still dropped and the panic continues; the arena
    /// is usable afterwards either way.
    fn drop(&mut self) {
        // Rewinds a nested scope after its values are dropped, also when a
        // destructor panics.
        let _rewind = scopeguard::guard(&*self, |scope| scope.rewind());
        // SAFETY: the records live in this scope's blocks, which are not
        // reused before the next scope opens (it needs the arena borrow we
        // hold) or, for a nested scope, before the rewind that follows.
        unsafe { self.drops.drop_all() }
    }
}

// SAFETY: 1. `allocate` returns fresh memory from the scope's blocks (or a
// dangling pointer for zero sizes), valid until the scope ends; the
// allocator is `&ArenaScope`, which cannot outlive the scope, and copies of it
// are the same scope. 2. `deallocate`, `grow` and `shrink` only move the bump
// cursor back over (or forward from) the most recent allocation of the
// current block, which the caller gives up by contract; any other block
// stays allocated until the scope ends. 3. Nothing here calls user code.
unsafe impl Allocator for &ArenaScope<'_> {
    #[inline]
    #[track_caller]
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, ApiAllocError> {
        let p = self.try_alloc_layout(layout).map_err(|_| ApiAllocError)?;
        Ok(NonNull::slice_from_raw_parts(p, layout.size()))
    }

    #[inline]
    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        self.cursor.release(ptr, layout.size());
    }

    #[inline]
    #[track_caller]
    unsafe fn grow(
        &self,
        ptr: NonNull<u8>,
        old_layout: Layout,
        new_layout: Layout,
    ) -> Result<NonNull<[u8]>, ApiAllocError> {
        // The `Allocator::grow` contract, on the caller.
        debug_assert!(new_layout.size() >= old_layout.size());
        if self.cursor.resize_last(
            ptr,
            old_layout.size(),
            new_layout.size(),
            new_layout.align(),
        ) {
            return Ok(NonNull::slice_from_raw_parts(ptr, new_layout.size()));
        }
        let new = self
            .try_alloc_layout(new_layout)
            .map_err(|_| ApiAllocError)?;
        // SAFETY: `ptr` holds `old_layout.size()` bytes (caller contract),
        // `new` at least as many, and they are different allocations.
        unsafe { ptr::copy_nonoverlapping(ptr.as_ptr(), new.as_ptr(), old_layout.size()) };
        Ok(NonNull::slice_from_raw_parts(new, new_layout.size()))
    }

    #[inline]
    #[track_caller]
    unsafe fn grow_zeroed(
        &self,
        ptr: NonNull<u8>,
        old_layout: Layout,
        new_layout: Layout,
    ) -> Result<NonNull<[u8]>, ApiAllocError> {
        // SAFETY: forwarded caller contract.
        let new = unsafe { self.grow(ptr, old_layout, new_layout)? };
        // SAFETY: the new block holds `new_layout.size()` bytes, of which the
        // tail past `old_layout.size()` is ours to zero.
        unsafe {
            new.cast::<u8>()
                .as_ptr()
                .add(old_layout.size())
                .write_bytes(0, new_layout.size() - old_layout.size());
        }
        Ok(new)
    }

    #[inline]
    #[track_caller]
    unsafe fn shrink(
        &self,
        ptr: NonNull<u8>,
        old_layout: Layout,
        new_layout: Layout,
    ) -> Result<NonNull<[u8]>, ApiAllocError> {
        // The `Allocator::shrink` contract, on the caller.
        debug_assert!(new_layout.size() <= old_layout.size());
        if ptr.as_ptr().addr() & (new_layout.align() - 1) == 0 {
            // Gives the tail back if this is the last allocation; otherwise
            // the tail stays unused until the scope ends.
            self.cursor.resize_last(
                ptr,
                old_layout.size(),
                new_layout.size(),
                new_layout.align(),
            );
            return Ok(NonNull::slice_from_raw_parts(ptr, new_layout.size()));
        }
        let new = self
            .try_alloc_layout(new_layout)
            .map_err(|_| ApiAllocError)?;
        // SAFETY: both hold at least `new_layout.size()` bytes and are
        // different allocations.
        unsafe { ptr::copy_nonoverlapping(ptr.as_ptr(), new.as_ptr(), new_layout.size()) };
        Ok(NonNull::slice_from_raw_parts(new, new_layout.size()))
    }
}

impl ArenaScope<'_> {
    /// A map of the arena's memory while this scope is open: the current
    /// block's handed-out bytes (values, padding and drop records) live and
    /// the rest free; the blocks the scope filled before it, and the
    /// dedicated blocks holding its large values, opaque (the scope records
    /// only how much it used in them together, not block by block); the
    /// blocks it has not reached yet free. The blocks add up to
    /// [`stats`](Self::stats)' reserved bytes, and its live bytes are the
    /// map's live and opaque bytes at most.
    ///
    /// ```
    /// use managed::memory_map::SpanKind;
    /// use managed::prelude::*;
    ///
    /// let mut arena = MemoryArena::new(1);
    /// let scope = arena.allocator();
    /// let _a = scope.alloc(1u64);
    /// let map = scope.memory_map();
    /// assert_eq!(map.bytes(SpanKind::Live), scope.stats().live_bytes);
    /// assert_eq!(map.reserved_bytes(), scope.stats().reserved_bytes);
    /// ```
    #[must_use]
    pub fn memory_map(&self) -> crate::memory_map::MemoryMap {
        let mut map = crate::memory_map::MemoryMap::new("ArenaScope");
        // SAFETY: as in `stats`: a shared read of the blocks, while no
        // other reference to them exists.
        let blocks = unsafe { self.blocks.as_ref() };
        blocks.map_into(Some(&self.cursor), &mut map);
        map
    }
}

/// The panic of an `ExactSizeIterator` that ended before its length.
#[cold]
#[inline(never)]
#[track_caller]
fn too_few_items() -> ! {
    panic!("alloc_slice_fill_iter: the iterator yielded fewer items than its `len`")
}
