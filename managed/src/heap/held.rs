//! [`Held`]: a handle to a heap object kept outside the heap.
//!
//! The type, its cell and the table the collector visits live in
//! `raw::held`; here are the token's methods that make and redeem it, and
//! its value-like impls.

use core::fmt;
use core::ops::{Index, IndexMut};

use super::arena::Mutation;
use super::gc::Gc;
use super::raw::held::HeldCell;
use super::rootable::Rootable;

pub use super::raw::held::Held;

impl<'gc> Mutation<'gc> {
    /// A handle to `gc`'s object that can be kept anywhere outside the
    /// heap and redeemed in a later mutation of this heap
    /// ([`fetch`](Self::fetch), `mc[&held]`). While it (or a clone) exists,
    /// the object is a root: it survives every collection, and the handle
    /// follows it when it moves.
    ///
    /// `T` is the object's type at the placeholder brand `'static` (as
    /// for a heap's root type): holding a `Gc<'gc, Node<'gc>>` gives a
    /// `Held<Node<'static>>`.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// #[derive(Managed)]
    /// struct Node<'gc> {
    ///     name: String,
    ///     next: Option<Gc<'gc, Node<'gc>>>,
    /// }
    ///
    /// // The heap's root holds nothing: the program holds its objects.
    /// let mut heap: Heap<()> = Heap::new(|_| ());
    /// let cursor: Held<Node<'static>> = heap.mutate(|mc, _| {
    ///     let tail = Gc::new(mc, Node { name: "tail".into(), next: None });
    ///     let head = Gc::new(mc, Node { name: "head".into(), next: Some(tail) });
    ///     Gc::new(mc, Node { name: "garbage".into(), next: None });
    ///     mc.hold(head)
    /// });
    /// let stats = heap.collect(); // the two held nodes survive, and may move
    /// assert_eq!((stats.live_objects, stats.freed_objects), (2, 1));
    /// heap.mutate(|mc, _| {
    ///     let head = mc.fetch(&cursor);
    ///     let tail = mc[head].next.unwrap();
    ///     assert_eq!(mc[tail].name, "tail");
    ///     mc[&cursor].name.push('!');
    ///     assert_eq!(mc[&cursor].name, "head!");
    /// });
    /// drop(cursor); // nothing holds the nodes any more
    /// assert_eq!(heap.collect().live_objects, 0);
    /// ```
    #[must_use = "a held object is released when its last handle is dropped"]
    pub fn hold<T: Rootable>(&self, gc: Gc<'gc, T::Root<'gc>>) -> Held<T> {
        self.hold_gc(gc)
    }

    /// The object `held` holds, as a handle of this mutation.
    ///
    /// # Panics
    ///
    /// If `held` belongs to another heap (one whose mutation made it);
    /// [`try_fetch`](Self::try_fetch) returns `None` instead.
    #[track_caller]
    pub fn fetch<T: Rootable>(&self, held: &Held<T>) -> Gc<'gc, T::Root<'gc>> {
        match self.fetch_gc(held) {
            Some(gc) => gc,
            None => {
                panic!("a `Held` handle was fetched in a mutation of another heap than its own")
            }
        }
    }

    /// The object `held` holds, as a handle of this mutation; `None` if
    /// `held` belongs to another heap.
    pub fn try_fetch<T: Rootable>(&self, held: &Held<T>) -> Option<Gc<'gc, T::Root<'gc>>> {
        self.fetch_gc(held)
    }
}

/// `mc[&held]`: the object `held` holds, read through the token
/// (`mc.fetch(&held).get(mc)`).
///
/// # Panics
///
/// As [`Mutation::fetch`], if `held` belongs to another heap.
impl<'gc, T: Rootable> Index<&Held<T>> for Mutation<'gc> {
    type Output = T::Root<'gc>;

    #[track_caller]
    fn index(&self, held: &Held<T>) -> &T::Root<'gc> {
        self.fetch(held).get(self)
    }
}

/// `&mut mc[&held]`: the object `held` holds, written through the token
/// (`mc.fetch(&held).get_mut(mc)`).
///
/// # Panics
///
/// As [`Mutation::fetch`], if `held` belongs to another heap.
impl<'gc, T: Rootable> IndexMut<&Held<T>> for Mutation<'gc> {
    #[track_caller]
    fn index_mut(&mut self, held: &Held<T>) -> &mut T::Root<'gc> {
        let gc = self.fetch(held);
        gc.get_mut(self)
    }
}

impl<T: Rootable> Held<T> {
    /// Whether the two handles hold the same object (clones do, and so do
    /// handles made from handles to the same object).
    pub fn ptr_eq(this: &Self, other: &Self) -> bool {
        HeldCell::same_object(this.cell(), other.cell())
    }
}

impl<T: Rootable> fmt::Debug for Held<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Held").finish_non_exhaustive()
    }
}
