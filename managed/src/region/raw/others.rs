//! [`Others`]: every shared object of an arena but one, while that one is
//! borrowed exclusively ([`Arena::split_mut`]).

use core::fmt;
use core::ops::{Index, IndexMut};

use super::forward::{Forward, Shared};
use crate::region::Arena;

/// The shared objects of an [`Arena`] other than the one
/// [`Arena::split_mut`] lends: read with [`get`](Self::get) or
/// `others[forward]`, written with [`get_mut`](Self::get_mut) or `&mut
/// others[forward]`, one at a time, while that one stays borrowed.
///
/// A compiler pass that walks a block's instruction list and rewrites the
/// instructions, or a node that updates its neighbours: the list (or node)
/// is the split object, the others come through this. New shared objects
/// can be allocated through it too ([`alloc_shared`](Self::alloc_shared)):
/// allocation moves nothing.
///
/// ```
/// use managed::prelude::*;
///
/// #[derive(Managed)]
/// struct Inst<'id> {
///     uses: u32,
///     operands: Forward<'id, [Forward<'id, Inst<'id>>]>,
/// }
///
/// make_guard!(guard);
/// let (mut arena, state) = Arena::<0>::with_capacity(guard, 4096);
/// let none = arena.alloc_shared_slice(&state, &[])?;
/// let a = arena.alloc_shared(&state, Inst { uses: 0, operands: none }).unwrap();
/// let b = arena.alloc_shared(&state, Inst { uses: 0, operands: none }).unwrap();
/// let operands = arena.alloc_shared_slice(&state, &[a, b, a])?;
/// // Count the uses: walk the list, write the instructions it names.
/// let (list, mut others) = arena.split_mut(operands);
/// for &operand in list.iter() {
///     others[operand].uses += 1;
/// }
/// assert!(others.get(operands).is_none(), "the list itself is lent out");
/// assert_eq!((arena[a].uses, arena[b].uses), (2, 1));
/// # Ok::<(), AllocError>(())
/// ```
pub struct Others<'a, 'id, const N: usize> {
    /// The arena, shared: nothing is allocated, removed or moved while
    /// this lives (the split borrowed the arena exclusively), and objects
    /// are reached through it by raw addresses, never through `&mut`.
    arena: &'a Arena<'id, N>,
    /// The cell of the lent object. Invariant: no reference to that
    /// object is made through this value.
    lent: u32,
}

impl<'a, 'id, const N: usize> Others<'a, 'id, N> {
    /// The view of `arena` without the object of cell `lent`.
    ///
    /// # Safety
    ///
    /// The arena is borrowed exclusively for `'a` by the caller, who lends
    /// out no object but that of cell `lent` (references to which may live
    /// for `'a`).
    pub(in crate::region) unsafe fn new(arena: &'a Arena<'id, N>, lent: u32) -> Self {
        Others { arena, lent }
    }

    /// The shared object of `forward`; `None` if it was removed or is the
    /// lent one.
    #[inline]
    #[must_use]
    pub fn get<T: ?Sized + Shared>(&self, forward: Forward<'id, T>) -> Option<&T> {
        if forward.index() == self.lent {
            return None;
        }
        // SAFETY: 1. a live object of this arena, other than the lent one
        // (different cells track different objects, which do not overlap);
        // 2. nothing moves or is freed while `'a` lasts (the arena is
        // borrowed); 3. references to it made here are shared while `self`
        // is borrowed shared, and `get_mut` needs `&mut self`.
        forward.live_addr(self.arena).map(|p| unsafe { p.as_ref() })
    }

    /// The shared object of `forward`, exclusively; `None` if it was
    /// removed or is the lent one.
    #[inline]
    #[must_use]
    pub fn get_mut<T: ?Sized + Shared>(&mut self, forward: Forward<'id, T>) -> Option<&mut T> {
        if forward.index() == self.lent {
            return None;
        }
        // SAFETY: as in `get`; `&mut self` makes this the only reference
        // made through `self` for its lifetime, and the lent object is not
        // this one.
        forward
            .live_addr(self.arena)
            .map(|mut p| unsafe { p.as_mut() })
    }
}

impl<'id, const N: usize> Others<'_, 'id, N> {
    /// Allocates `value` as a new shared object, as
    /// [`Arena::alloc_shared`] (a block's new instruction made while the
    /// pass walks the block). Nothing moves: the region is never compacted
    /// under a split.
    ///
    /// # Errors
    ///
    /// As [`Arena::alloc_shared`]: when the region is full, with the value.
    pub fn alloc_shared<T: crate::Managed + 'id>(
        &self,
        state: &crate::region::State<'id>,
        value: T,
    ) -> Result<Forward<'id, T>, crate::AllocValueError<T>> {
        self.arena.alloc_shared(state, value)
    }

    /// Copies `src` into a new shared slice, as
    /// [`Arena::alloc_shared_slice`].
    ///
    /// # Errors
    ///
    /// As [`Arena::alloc_shared_slice`].
    pub fn alloc_shared_slice<T: Copy + 'id>(
        &self,
        state: &crate::region::State<'id>,
        src: &[T],
    ) -> Result<Forward<'id, [T]>, crate::AllocError> {
        self.arena.alloc_shared_slice(state, src)
    }
}

/// `others[forward]`: as [`Others::get`].
///
/// # Panics
///
/// If the object was removed or is the lent one (at the caller's line).
impl<'id, T: ?Sized + Shared, const N: usize> Index<Forward<'id, T>> for Others<'_, 'id, N> {
    type Output = T;

    #[inline]
    #[track_caller]
    fn index(&self, forward: Forward<'id, T>) -> &T {
        match self.get(forward) {
            Some(value) => value,
            None => refused(self.lent == forward.index()),
        }
    }
}

/// `&mut others[forward]`: as [`Others::get_mut`].
///
/// # Panics
///
/// As `others[forward]`.
impl<'id, T: ?Sized + Shared, const N: usize> IndexMut<Forward<'id, T>> for Others<'_, 'id, N> {
    #[inline]
    #[track_caller]
    fn index_mut(&mut self, forward: Forward<'id, T>) -> &mut T {
        let lent = self.lent == forward.index();
        match self.get_mut(forward) {
            Some(value) => value,
            None => refused(lent),
        }
    }
}

impl<const N: usize> fmt::Debug for Others<'_, '_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Others")
            .field("lent_cell", &self.lent)
            .finish_non_exhaustive()
    }
}

/// The panic of `others[forward]`.
#[cold]
#[inline(never)]
#[track_caller]
fn refused(lent: bool) -> ! {
    if lent {
        panic!("`Others` reached for the object `split_mut` lent out: use that reference")
    } else {
        panic!("the shared object of this `Forward` was removed from the arena")
    }
}
