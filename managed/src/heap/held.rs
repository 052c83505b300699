//! [`Held`] and [`HeldWeak`]: handles to a heap object kept outside the
//! heap, strong and weak; [`HeldDyn`] and [`HeldDynWeak`], the same for
//! trait-object handles.
//!
//! The types, their cell and the table the collector visits live in
//! `raw::held`; here are the token's methods that make and redeem them,
//! and their value-like impls.

use core::fmt;
use core::ops::{Index, IndexMut};

use super::arena::Mutation;
use super::gc::{Gc, GcDyn};
use super::raw::held::{Found, HeldCell, WeakRef};
use super::rootable::{Branded, DynRootable, Rootable};

pub use super::raw::held::{Held, HeldDyn, HeldDynWeak, HeldWeak};

mod sealed {
    pub trait Sealed {}
}

/// A handle that [`Mutation::hold`] and [`hold_weak`](Mutation::hold_weak)
/// take for a `Held<T>` / `HeldWeak<T>`: a `Gc<'gc, X>` whose object type
/// `X` is `T` at the brand `'gc` (`Gc<'gc, Node<'gc>>` for
/// `Held<Node<'static>>`).
///
/// Implemented for every `Gc` whose object type is [`Branded`], which
/// names `T` from `X`, so a `let` needs no annotation; sealed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be held as a `Held<{T}>`",
    label = "expected a `Gc` of the object to hold",
    note = "`hold` takes a `Gc<'gc, Node<'gc>>` for a `Held<Node<'static>>`: \
            the held type is the object's type at the placeholder brand `'static`"
)]
pub trait Holdable<'gc, T: Rootable>: sealed::Sealed {
    /// The handle, as the object type at the brand.
    #[doc(hidden)]
    fn __gc(self) -> Gc<'gc, T::Root<'gc>>;
}

impl<X> sealed::Sealed for Gc<'_, X> {}

impl<'gc, X: Branded<'gc>> Holdable<'gc, X::Static> for Gc<'gc, X> {
    #[inline(always)]
    fn __gc(self) -> Gc<'gc, X> {
        self
    }
}

impl<'gc> Mutation<'gc> {
    /// A handle to `gc`'s object that can be kept anywhere outside the
    /// heap and redeemed in a later mutation of this heap
    /// ([`fetch`](Self::fetch), `mc[&held]`). While it (or a clone) exists,
    /// the object is a root: it survives every collection, and the handle
    /// follows it when it moves.
    ///
    /// `T` is the object's type at the placeholder brand `'static` (as
    /// for a heap's root type): holding a `Gc<'gc, Node<'gc>>` gives a
    /// `Held<Node<'static>>`, worked out from the handle
    /// ([`Branded`]) or named (`mc.hold::<Node<'static>>(gc)`).
    ///
    /// A handle kept outside the heap that must not keep its object alive
    /// is a [`HeldWeak`] ([`hold_weak`](Self::hold_weak)).
    ///
    /// Holding an object that a handle already holds gives a handle equal
    /// to that one, with the same hash, and allocates nothing: every
    /// handle to an object (strong or weak, typed or [`HeldDyn`]) shares
    /// one cell with the heap. The first `hold` of an object allocates
    /// the cell; the first after a collection also reindexes the heap's
    /// held objects by their new addresses.
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
    /// assert_eq!((stats.live_objects, stats.dropped), (2, 1));
    /// heap.mutate(|mc, _| {
    ///     let head = mc.fetch(&cursor);
    ///     let tail = mc[head].next.unwrap();
    ///     let held_tail = mc.hold(tail); // a `Held<Node<'static>>`
    ///     assert_eq!(mc[&held_tail].name, "tail");
    ///     mc[&cursor].name.push('!');
    ///     assert_eq!(mc[&cursor].name, "head!");
    /// });
    /// drop(cursor); // nothing holds the nodes any more
    /// assert_eq!(heap.collect().live_objects, 0);
    /// ```
    #[must_use = "a held object is released when its last handle is dropped"]
    pub fn hold<T: Rootable>(&self, gc: impl Holdable<'gc, T>) -> Held<T> {
        self.hold_gc(gc.__gc())
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
        HeldCell::strong_eq(this.cell(), other.cell())
    }

    /// A weak handle to the same object, which does not keep it alive
    /// ([`HeldWeak`]). It shares this handle's cell: it allocates nothing,
    /// and needs no mutation.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut heap: Heap<()> = Heap::new(|_| ());
    /// let held: Held<String> = heap.mutate(|mc, ()| mc.hold(Gc::new(mc, String::from("node"))));
    /// let weak = held.downgrade();
    /// heap.collect(); // `held` keeps it
    /// heap.mutate(|mc, ()| assert_eq!(mc[mc.upgrade(&weak).unwrap()], "node"));
    /// drop(held);
    /// heap.collect(); // nothing keeps it now
    /// heap.mutate(|mc, ()| assert!(mc.upgrade(&weak).is_none()));
    /// ```
    #[must_use]
    pub fn downgrade(&self) -> HeldWeak<T> {
        self.downgrade_cell()
    }
}

/// Equal when they hold the same object: [`Held::ptr_eq`], so a list of
/// handles outside the heap finds one with `contains` or `retain(|h| h !=
/// &other)`.
///
/// ```
/// use managed::prelude::*;
///
/// let mut heap: Heap<Vec<Gc<'static, u64>>> =
///     Heap::new(|mc| vec![Gc::new(mc, 1u64), Gc::new(mc, 2u64)]);
/// let (a, again, b) = heap.mutate(|mc, root| (mc.hold(root[0]), mc.hold(root[0]), mc.hold(root[1])));
/// assert!(a == again && a == a.clone() && a != b);
/// let mut selection = vec![a, b];
/// selection.retain(|h| *h != again);
/// assert_eq!(heap.read(|mc, _| mc[&selection[0]]), 2);
/// ```
impl<T: Rootable> PartialEq for Held<T> {
    fn eq(&self, other: &Self) -> bool {
        Held::ptr_eq(self, other)
    }
}

impl<T: Rootable> Eq for Held<T> {}

/// Hashes the handle's identity, which every handle to its object shares
/// and no collection changes (objects move; the cell their handles share
/// stays): a `HashMap` or `HashSet` keyed by `Held` handles, outside the
/// heap, finds its entries after any number of collections, whichever
/// handle to the object it is asked with.
///
/// ```
/// use std::collections::HashMap;
/// use managed::prelude::*;
///
/// let mut heap: Heap<Vec<Gc<'static, String>>> = Heap::new(|_| Vec::new());
/// let mut widgets: HashMap<Held<String>, &str> = HashMap::new();
/// for (name, widget) in [("a", "text field"), ("b", "slider")] {
///     let held = heap.mutate(|mc, root| {
///         Gc::new(mc, String::from("garbage")); // so that the rest moves
///         root.push(Gc::new(mc, String::from(name)));
///         mc.hold(*root.last().unwrap())
///     });
///     widgets.insert(held, widget);
/// }
/// heap.collect(); // frees the garbage and moves the named strings down
/// let b = heap.mutate(|mc, root| mc.hold(root[1])); // a new handle to "b"
/// assert_eq!(widgets[&b], "slider");
/// ```
impl<T: Rootable> core::hash::Hash for Held<T> {
    fn hash<S: core::hash::Hasher>(&self, state: &mut S) {
        self.cell().hash_identity(state);
    }
}

impl<T: Rootable> fmt::Debug for Held<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Held").finish_non_exhaustive()
    }
}

impl<'gc> Mutation<'gc> {
    /// The handle to `gc`'s object if the program holds one outside the
    /// heap (strongly or weakly): equal to the handles made for it, and
    /// hashing alike, like what [`hold`](Self::hold) returns, but `None`
    /// for an object that no handle was made for, and allocating nothing.
    /// A lookup in a map or set keyed by handles that most objects are
    /// not in (a selection, checked for every object drawn) needs no cell
    /// for the others.
    ///
    /// ```
    /// use std::collections::HashSet;
    /// use managed::prelude::*;
    ///
    /// let mut heap: Heap<Vec<Gc<'static, u64>>> =
    ///     Heap::new(|mc| (0..4u64).map(|i| Gc::new(mc, i)).collect());
    /// let selection: HashSet<Held<u64>> = heap.mutate(|mc, root| HashSet::from([mc.hold(root[2])]));
    /// heap.collect();
    /// let selected: Vec<u64> = heap.read(|mc, root| {
    ///     root.iter()
    ///         .filter(|&&n| mc.held(n).is_some_and(|h| selection.contains(&h)))
    ///         .map(|&n| mc[n])
    ///         .collect()
    /// });
    /// assert_eq!(selected, [2]);
    /// assert_eq!(heap.detailed_stats().held, 1, "no cell for the others");
    /// ```
    #[must_use]
    pub fn held<T: Rootable>(&self, gc: impl Holdable<'gc, T>) -> Option<Held<T>> {
        self.held_gc(gc.__gc())
    }

    /// A weak handle to `gc`'s object that can be kept anywhere outside
    /// the heap ([`HeldWeak`]): it follows the object when a collection
    /// moves it, but does not keep it alive. A later mutation of this heap
    /// redeems it with [`upgrade`](Self::upgrade) or
    /// [`upgrade_held`](Self::upgrade_held).
    ///
    /// `T` is the object's type at the placeholder brand `'static`, as
    /// for [`hold`](Self::hold). As there, every handle to the object
    /// shares one cell: weak handles to one object are equal and hash
    /// alike, also once it is dropped.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut heap: Heap<Vec<Gc<'static, u64>>> = Heap::new(|_| Vec::new());
    /// let (kept, dropped): (HeldWeak<u64>, HeldWeak<u64>) = heap.mutate(|mc, root| {
    ///     let kept = Gc::new(mc, 1u64);
    ///     root.push(kept);
    ///     (mc.hold_weak(kept), mc.hold_weak(Gc::new(mc, 2u64)))
    /// });
    /// assert_eq!(heap.collect().freed_bytes, 8); // the unheld `u64`
    /// heap.mutate(|mc, _| {
    ///     assert_eq!(mc.upgrade(&kept).map(|k| mc[k]), Some(1));
    ///     assert!(mc.upgrade(&dropped).is_none());
    /// });
    /// ```
    #[must_use = "a weak handle is forgotten by the next collection when dropped"]
    pub fn hold_weak<T: Rootable>(&self, gc: impl Holdable<'gc, T>) -> HeldWeak<T> {
        self.hold_weak_gc(gc.__gc())
    }

    /// The object `weak` points at, as a handle of this mutation; `None`
    /// once its object was dropped: a collection of its heap found it
    /// unreachable, or its heap was dropped. Storing the handle in the
    /// root's graph keeps the object alive, as for any `Gc`.
    ///
    /// # Panics
    ///
    /// If `weak`'s object is alive in another heap (its handle was made
    /// by a mutation of that heap), as [`fetch`](Self::fetch) panics for a
    /// `Held` of another heap; [`try_upgrade`](Self::try_upgrade) returns
    /// `None` instead. A handle whose object is gone gives `None` in any
    /// heap.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut heap: Heap<Option<Gc<'static, String>>> = Heap::new(|_| None);
    /// let weak: HeldWeak<String> = heap.mutate(|mc, _| mc.hold_weak(Gc::new(mc, String::from("draft"))));
    /// // Not collected yet: it upgrades, and storing it in the root keeps it.
    /// heap.mutate(|mc, root| *root = mc.upgrade(&weak));
    /// heap.collect();
    /// assert_eq!(heap.mutate(|mc, _| mc[mc.upgrade(&weak).unwrap()].clone()), "draft");
    /// heap.mutate(|_, root| *root = None);
    /// heap.collect();
    /// assert!(heap.mutate(|mc, _| mc.upgrade(&weak).is_none()));
    /// ```
    #[track_caller]
    pub fn upgrade<T: Rootable>(&self, weak: &HeldWeak<T>) -> Option<Gc<'gc, T::Root<'gc>>> {
        match self.upgrade_gc(weak) {
            Found::Object(gc) => Some(gc),
            Found::Dropped => None,
            Found::OtherHeap => other_heap(),
        }
    }

    /// The object `weak` points at, as a handle of this mutation; `None`
    /// if it was dropped or belongs to another heap.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut a: Heap<()> = Heap::new(|_| ());
    /// let mut b: Heap<()> = Heap::new(|_| ());
    /// let weak: HeldWeak<u64> = a.mutate(|mc, ()| mc.hold_weak(Gc::new(mc, 7u64)));
    /// assert!(a.mutate(|mc, ()| mc.try_upgrade(&weak).is_some()));
    /// assert!(b.mutate(|mc, ()| mc.try_upgrade(&weak).is_none()));
    /// ```
    pub fn try_upgrade<T: Rootable>(&self, weak: &HeldWeak<T>) -> Option<Gc<'gc, T::Root<'gc>>> {
        match self.upgrade_gc(weak) {
            Found::Object(gc) => Some(gc),
            Found::Dropped | Found::OtherHeap => None,
        }
    }

    /// A [`Held`] handle to the object `weak` points at, which keeps it
    /// alive from now on; `None` once its object was dropped, as for
    /// [`upgrade`](Self::upgrade). The handle shares `weak`'s cell
    /// (nothing is allocated), so [`Held::downgrade`] and this are each
    /// other's reverse.
    ///
    /// # Panics
    ///
    /// As [`upgrade`](Self::upgrade), if the object is alive in another
    /// heap.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut heap: Heap<()> = Heap::new(|_| ());
    /// let weak: HeldWeak<String> = heap.mutate(|mc, ()| {
    ///     let node = Gc::new(mc, String::from("pinned"));
    ///     mc.hold_weak(node)
    /// });
    /// // Pinned before any collection: it survives them all.
    /// let pinned: Held<String> = heap.mutate(|mc, ()| mc.upgrade_held(&weak)).unwrap();
    /// heap.collect();
    /// assert_eq!(heap.mutate(|mc, ()| mc[&pinned].clone()), "pinned");
    /// assert!(!weak.is_dropped());
    /// ```
    #[track_caller]
    #[must_use = "the object is released again when the handle is dropped"]
    pub fn upgrade_held<T: Rootable>(&self, weak: &HeldWeak<T>) -> Option<Held<T>> {
        match self.upgrade_held_cell(weak) {
            Found::Object(held) => Some(held),
            Found::Dropped => None,
            Found::OtherHeap => other_heap(),
        }
    }
}

/// The panic of a weak handle upgraded in another heap than its own.
#[cold]
#[track_caller]
fn other_heap() -> ! {
    panic!("a `HeldWeak` handle was upgraded in a mutation of another heap than its own")
}

impl<T: Rootable> HeldWeak<T> {
    /// Whether the object was dropped: a collection of its heap found it
    /// unreachable, or its heap was dropped. Once `true`, it stays so, and
    /// every upgrade gives `None`. (An unreachable object that no
    /// collection has found yet is not dropped: it still upgrades.)
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut heap: Heap<()> = Heap::new(|_| ());
    /// let weak: HeldWeak<u64> = heap.mutate(|mc, ()| mc.hold_weak(Gc::new(mc, 1u64)));
    /// assert!(!weak.is_dropped());
    /// heap.collect();
    /// assert!(weak.is_dropped());
    /// ```
    pub fn is_dropped(&self) -> bool {
        HeldCell::weak_is_dropped(self.cell().as_deref())
    }

    /// Whether the two handles point at the same object: whether they
    /// share its cell, as every handle to an object does (clones,
    /// downgrades of its `Held` handles, `hold_weak`s of it). A handle
    /// keeps that identity once its object is dropped: handles to two
    /// objects never become equal (unlike [`GcWeak`](super::GcWeak)s,
    /// which live in the heap and all become the one dead handle).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// let mut heap: Heap<Gc<'static, u64>> = Heap::new(|mc| Gc::new(mc, 1u64));
    /// let (a, b, other) = heap.mutate(|mc, root| {
    ///     let held: Held<u64> = mc.hold(*root);
    ///     (held.downgrade(), mc.hold_weak(*root), mc.hold_weak(Gc::new(mc, 2u64)))
    /// });
    /// assert!(HeldWeak::ptr_eq(&a, &b) && HeldWeak::ptr_eq(&a, &a.clone()));
    /// assert!(!HeldWeak::ptr_eq(&a, &other));
    /// heap.collect(); // drops `other`'s object
    /// assert!(other.is_dropped() && !HeldWeak::ptr_eq(&a, &other));
    /// assert!(HeldWeak::ptr_eq(&other, &other.clone()));
    /// ```
    pub fn ptr_eq(this: &Self, other: &Self) -> bool {
        WeakRef::ptr_eq(this.cell_ref(), other.cell_ref())
    }
}

/// Equal when they point at the same object: [`HeldWeak::ptr_eq`].
impl<T: Rootable> PartialEq for HeldWeak<T> {
    fn eq(&self, other: &Self) -> bool {
        HeldWeak::ptr_eq(self, other)
    }
}

impl<T: Rootable> Eq for HeldWeak<T> {}

/// Hashes the handle's identity, which every handle to its object shares,
/// and which neither a collection nor the object's drop changes: a map
/// kept outside the heap and keyed by weak handles (per-object state that
/// must not keep its objects alive) finds its entries with any handle to
/// the object, one held anew included; once a collection drops an object,
/// its entry stays, reading as dropped, until the map forgets it
/// (`map.retain(|k, _| !k.is_dropped())`).
///
/// ```
/// use std::collections::HashMap;
/// use managed::prelude::*;
///
/// let mut heap: Heap<Vec<Gc<'static, String>>> = Heap::new(|_| Vec::new());
/// let mut notes: HashMap<HeldWeak<String>, &str> = HashMap::new();
/// heap.mutate(|mc, root| {
///     for (name, note) in [("a", "kept"), ("b", "dropped")] {
///         let s = Gc::new(mc, String::from(name));
///         root.push(s);
///         notes.insert(mc.hold_weak(s), note);
///     }
/// });
/// heap.mutate(|_, root| {
///     root.remove(1);
/// });
/// heap.collect(); // drops "b"; the map kept nothing alive
/// notes.retain(|k, _| !k.is_dropped());
/// let a = heap.mutate(|mc, root| mc.hold_weak(root[0])); // a new handle to "a"
/// assert_eq!(notes.len(), 1);
/// assert_eq!(notes[&a], "kept");
/// ```
impl<T: Rootable> core::hash::Hash for HeldWeak<T> {
    fn hash<S: core::hash::Hasher>(&self, state: &mut S) {
        self.cell_ref().hash_identity(state);
    }
}

impl<T: Rootable> fmt::Debug for HeldWeak<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeldWeak")
            .field("dropped", &self.is_dropped())
            .finish_non_exhaustive()
    }
}

impl<'gc> Mutation<'gc> {
    /// A handle to `gc`'s object, a trait object, that can be kept
    /// anywhere outside the heap ([`HeldDyn`]) and redeemed in a later
    /// mutation of this heap ([`fetch_dyn`](Self::fetch_dyn), `mc[&held]`):
    /// [`hold`](Self::hold) for a [`GcDyn`]. While it (or a clone) exists,
    /// the object is a root.
    ///
    /// `R` names the trait-object type at every brand
    /// ([`dyn_rootable!`](crate::dyn_rootable)); the compiler infers it
    /// where the handle is stored in a field of a named type.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// trait Shape<'gc> {
    ///     fn area(&self) -> u64;
    /// }
    ///
    /// #[derive(Managed)]
    /// struct Square(u64);
    ///
    /// impl<'gc> Shape<'gc> for Square {
    ///     fn area(&self) -> u64 {
    ///         self.0 * self.0
    ///     }
    /// }
    ///
    /// type AnyShape = dyn_rootable!(for<'gc> dyn Shape<'gc> + 'gc);
    ///
    /// let mut heap: Heap<()> = Heap::new(|_| ());
    /// let held: HeldDyn<AnyShape> = heap.mutate(|mc, _| {
    ///     Gc::new(mc, Square(1)); // garbage
    ///     mc.hold_dyn(unsize!(Gc::new(mc, Square(3)) => dyn Shape<'_>))
    /// });
    /// assert_eq!(heap.collect().live_objects, 1);
    /// heap.mutate(|mc, _| {
    ///     assert_eq!(mc[&held].area(), 9);
    ///     let shape = mc.fetch_dyn(&held);
    ///     assert_eq!(mc[shape].area(), 9);
    /// });
    /// drop(held);
    /// assert_eq!(heap.collect().live_objects, 0);
    /// ```
    #[must_use = "a held object is released when its last handle is dropped"]
    pub fn hold_dyn<R: ?Sized + for<'a> DynRootable<'a>>(
        &self,
        gc: GcDyn<'gc, <R as DynRootable<'gc>>::Root>,
    ) -> HeldDyn<R> {
        self.hold_dyn_gc(gc)
    }

    /// The object `held` holds, as a handle of this mutation.
    ///
    /// # Panics
    ///
    /// If `held` belongs to another heap;
    /// [`try_fetch_dyn`](Self::try_fetch_dyn) returns `None` instead.
    #[track_caller]
    pub fn fetch_dyn<R: ?Sized + for<'a> DynRootable<'a>>(
        &self,
        held: &HeldDyn<R>,
    ) -> GcDyn<'gc, <R as DynRootable<'gc>>::Root> {
        match self.fetch_dyn_gc(held) {
            Some(gc) => gc,
            None => {
                panic!("a `HeldDyn` handle was fetched in a mutation of another heap than its own")
            }
        }
    }

    /// The object `held` holds, as a handle of this mutation; `None` if
    /// `held` belongs to another heap.
    pub fn try_fetch_dyn<R: ?Sized + for<'a> DynRootable<'a>>(
        &self,
        held: &HeldDyn<R>,
    ) -> Option<GcDyn<'gc, <R as DynRootable<'gc>>::Root>> {
        self.fetch_dyn_gc(held)
    }

    /// A weak handle to `gc`'s object, a trait object, kept outside the
    /// heap ([`HeldDynWeak`]): [`hold_weak`](Self::hold_weak) for a
    /// [`GcDyn`]. It follows the object but does not keep it alive.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// trait Widget<'gc> {
    ///     fn id(&self) -> u32;
    /// }
    ///
    /// #[derive(Managed)]
    /// struct Label(u32);
    ///
    /// impl<'gc> Widget<'gc> for Label {
    ///     fn id(&self) -> u32 {
    ///         self.0
    ///     }
    /// }
    ///
    /// type AnyWidget = dyn_rootable!(for<'gc> dyn Widget<'gc> + 'gc);
    ///
    /// // The window's widgets live in the root; the hovered one is only
    /// // pointed at.
    /// #[derive(Managed)]
    /// struct Window<'gc> {
    ///     widgets: Vec<GcDyn<'gc, dyn Widget<'gc>>>,
    /// }
    ///
    /// let mut heap: Heap<Window<'static>> = Heap::new(|_| Window { widgets: Vec::new() });
    /// let hover: HeldDynWeak<AnyWidget> = heap.mutate(|mc, window| {
    ///     window.widgets.push(unsize!(Gc::new(mc, Label(1)) => dyn Widget<'_>));
    ///     window.widgets.push(unsize!(Gc::new(mc, Label(2)) => dyn Widget<'_>));
    ///     mc.hold_dyn_weak(window.widgets[1])
    /// });
    /// heap.collect();
    /// heap.mutate(|mc, _| assert_eq!(mc.upgrade_dyn(&hover).map(|w| mc[w].id()), Some(2)));
    /// heap.mutate(|_, window| drop(window.widgets.pop())); // the hovered widget is closed
    /// heap.collect();
    /// assert!(hover.is_dropped());
    /// heap.mutate(|mc, _| assert!(mc.upgrade_dyn(&hover).is_none()));
    /// ```
    #[must_use = "a weak handle is forgotten by the next collection when dropped"]
    pub fn hold_dyn_weak<R: ?Sized + for<'a> DynRootable<'a>>(
        &self,
        gc: GcDyn<'gc, <R as DynRootable<'gc>>::Root>,
    ) -> HeldDynWeak<R> {
        self.hold_dyn_weak_gc(gc)
    }

    /// The object `weak` points at, as a handle of this mutation; `None`
    /// once it was dropped, as [`upgrade`](Self::upgrade).
    ///
    /// # Panics
    ///
    /// If the object is alive in another heap;
    /// [`try_upgrade_dyn`](Self::try_upgrade_dyn) returns `None` instead.
    #[track_caller]
    pub fn upgrade_dyn<R: ?Sized + for<'a> DynRootable<'a>>(
        &self,
        weak: &HeldDynWeak<R>,
    ) -> Option<GcDyn<'gc, <R as DynRootable<'gc>>::Root>> {
        match self.upgrade_dyn_gc(weak) {
            Found::Object(gc) => Some(gc),
            Found::Dropped => None,
            Found::OtherHeap => other_heap(),
        }
    }

    /// The object `weak` points at; `None` if it was dropped or belongs
    /// to another heap.
    pub fn try_upgrade_dyn<R: ?Sized + for<'a> DynRootable<'a>>(
        &self,
        weak: &HeldDynWeak<R>,
    ) -> Option<GcDyn<'gc, <R as DynRootable<'gc>>::Root>> {
        match self.upgrade_dyn_gc(weak) {
            Found::Object(gc) => Some(gc),
            Found::Dropped | Found::OtherHeap => None,
        }
    }

    /// A [`HeldDyn`] to the object `weak` points at, which keeps it alive
    /// from now on; `None` once it was dropped. It shares `weak`'s cell,
    /// as [`upgrade_held`](Self::upgrade_held) does.
    ///
    /// # Panics
    ///
    /// As [`upgrade_dyn`](Self::upgrade_dyn).
    #[track_caller]
    #[must_use = "the object is released again when the handle is dropped"]
    pub fn upgrade_held_dyn<R: ?Sized + for<'a> DynRootable<'a>>(
        &self,
        weak: &HeldDynWeak<R>,
    ) -> Option<HeldDyn<R>> {
        match self.upgrade_held_dyn_cell(weak) {
            Found::Object(held) => Some(held),
            Found::Dropped => None,
            Found::OtherHeap => other_heap(),
        }
    }
}

/// `mc[&held]`: the object `held` holds, read through the token
/// (`mc.fetch_dyn(&held).get(mc)`).
///
/// # Panics
///
/// As [`Mutation::fetch_dyn`], if `held` belongs to another heap.
impl<'gc, R: ?Sized + for<'a> DynRootable<'a>> Index<&HeldDyn<R>> for Mutation<'gc> {
    type Output = <R as DynRootable<'gc>>::Root;

    #[track_caller]
    fn index(&self, held: &HeldDyn<R>) -> &Self::Output {
        self.fetch_dyn(held).get(self)
    }
}

/// `&mut mc[&held]`: the object `held` holds, written through the token.
///
/// # Panics
///
/// As [`Mutation::fetch_dyn`], if `held` belongs to another heap.
impl<'gc, R: ?Sized + for<'a> DynRootable<'a>> IndexMut<&HeldDyn<R>> for Mutation<'gc> {
    #[track_caller]
    fn index_mut(&mut self, held: &HeldDyn<R>) -> &mut Self::Output {
        let gc = self.fetch_dyn(held);
        gc.get_mut(self)
    }
}

impl<R: ?Sized + for<'gc> DynRootable<'gc>> HeldDyn<R> {
    /// Whether the two handles hold the same object, as
    /// [`Held::ptr_eq`].
    pub fn ptr_eq(this: &Self, other: &Self) -> bool {
        HeldCell::strong_eq(this.cell(), other.cell())
    }

    /// A weak handle to the same object, sharing this handle's cell
    /// (nothing allocated), as [`Held::downgrade`].
    #[must_use]
    pub fn downgrade(&self) -> HeldDynWeak<R> {
        self.downgrade_cell()
    }
}

impl<R: ?Sized + for<'gc> DynRootable<'gc>> HeldDynWeak<R> {
    /// Whether the object was dropped, as [`HeldWeak::is_dropped`].
    pub fn is_dropped(&self) -> bool {
        HeldCell::weak_is_dropped(self.cell().as_deref())
    }

    /// Whether the two handles point at the same object, as
    /// [`HeldWeak::ptr_eq`]: whether they share its cell, also once it is
    /// dropped.
    pub fn ptr_eq(this: &Self, other: &Self) -> bool {
        WeakRef::ptr_eq(this.cell_ref(), other.cell_ref())
    }
}

/// Equal when they hold the same object: [`HeldDyn::ptr_eq`].
impl<R: ?Sized + for<'gc> DynRootable<'gc>> PartialEq for HeldDyn<R> {
    fn eq(&self, other: &Self) -> bool {
        HeldDyn::ptr_eq(self, other)
    }
}

impl<R: ?Sized + for<'gc> DynRootable<'gc>> Eq for HeldDyn<R> {}

/// Hashes the handle's identity, which every handle to its object shares
/// and no collection changes, as for [`Held`].
impl<R: ?Sized + for<'gc> DynRootable<'gc>> core::hash::Hash for HeldDyn<R> {
    fn hash<S: core::hash::Hasher>(&self, state: &mut S) {
        self.cell().hash_identity(state);
    }
}

/// Equal when they point at the same object: [`HeldDynWeak::ptr_eq`].
impl<R: ?Sized + for<'gc> DynRootable<'gc>> PartialEq for HeldDynWeak<R> {
    fn eq(&self, other: &Self) -> bool {
        HeldDynWeak::ptr_eq(self, other)
    }
}

impl<R: ?Sized + for<'gc> DynRootable<'gc>> Eq for HeldDynWeak<R> {}

/// Hashes the handle's identity, as for [`HeldWeak`].
impl<R: ?Sized + for<'gc> DynRootable<'gc>> core::hash::Hash for HeldDynWeak<R> {
    fn hash<S: core::hash::Hasher>(&self, state: &mut S) {
        self.cell_ref().hash_identity(state);
    }
}

impl<R: ?Sized + for<'gc> DynRootable<'gc>> fmt::Debug for HeldDyn<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeldDyn").finish_non_exhaustive()
    }
}

impl<R: ?Sized + for<'gc> DynRootable<'gc>> fmt::Debug for HeldDynWeak<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeldDynWeak")
            .field("dropped", &self.is_dropped())
            .finish_non_exhaustive()
    }
}
