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
/// The [prelude](crate::prelude) exports it as `ArenaOthers` (its `Others`
/// is the heap's [`heap::Others`](crate::heap::Others)).
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

    /// Several shared objects at once, exclusively, as
    /// [`Arena::get_disjoint_mut`]; `None` if one was removed, is the lent
    /// one, or two forwards name the same object.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// make_guard!(guard);
    /// let (mut arena, state) = Arena::<0>::with_capacity(guard, 4096);
    /// let (a, b) = (arena.alloc_shared(&state, 1).unwrap(), arena.alloc_shared(&state, 2).unwrap());
    /// let pairs = arena.alloc_shared_slice(&state, &[(a, b)])?;
    /// // Swap the values of every pair the list names.
    /// let (list, mut others) = arena.split_mut(pairs);
    /// for &(x, y) in list.iter() {
    ///     let [x, y] = others.get_disjoint_mut([x, y]).unwrap();
    ///     core::mem::swap(x, y);
    /// }
    /// assert!(others.get_disjoint_mut([a, a]).is_none(), "the same object twice");
    /// assert_eq!((arena[a], arena[b]), (2, 1));
    /// # Ok::<(), AllocError>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn get_disjoint_mut<T: ?Sized + Shared, const M: usize>(
        &mut self,
        forwards: [Forward<'id, T>; M],
    ) -> Option<[&mut T; M]> {
        for (i, f) in forwards.iter().enumerate() {
            // The lent object, or one named twice: refused (one cell per
            // object, so equal cells are the same object).
            if f.index() == self.lent || forwards[..i].iter().any(|g| g.index() == f.index()) {
                return None;
            }
        }
        let places = forwards.map(|f| f.live_addr(self.arena));
        if places.iter().any(Option::is_none) {
            return None;
        }
        // SAFETY: 1. each object is live (its generation matched) and
        // stays put while `'a` lasts (the arena is borrowed); 2. the cells
        // are pairwise different and none is the lent one's, so the
        // objects are different from each other and from the lent one, and
        // do not overlap (a zero-sized one overlaps nothing); 3. `&mut
        // self` makes these the only references made through `self` for
        // their lifetime; 4. every place is `Some` (just checked).
        Some(places.map(|p| unsafe { p.unwrap_unchecked().as_mut() }))
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
