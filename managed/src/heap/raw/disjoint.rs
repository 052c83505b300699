//! [`Mutation::get_disjoint_mut`]: several objects written at once, each
//! through its own handle (`Gc` or `GcDyn`, of one type in an array or of
//! different types in a tuple), after a check that the handles point at
//! pairwise different objects; and [`Mutation::split_mut`]: one object
//! written while every other one is read, through [`Others`], which checks
//! each handle it reads against the one written. Invariant: the
//! references they hand out borrow the token exclusively, as `mc[gc]`
//! does.

use core::fmt;
use core::marker::PhantomData;
use core::ops::{Index, IndexMut};
use core::ptr::NonNull;

use crate::heap::{Gc, GcDyn, GcDynWeak, GcWeak, Held, HeldWeak, Holdable, Mutation, Rootable};
use crate::visit::Managed;

mod sealed {
    /// Keeps [`Handle`](super::Handle) and [`Handles`](super::Handles)
    /// implemented by this module only.
    pub trait Sealed {}
}

/// A handle to one object of the heap branded `'gc`: a [`Gc`] or a
/// [`GcDyn`]. Sealed: implemented by the crate's handles only.
///
/// # Safety
///
/// `ptr` returns the address of a live object of the heap branded `'gc`,
/// of type `Target`, which stays in place while `'gc` lasts.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a heap handle",
    label = "not a `Gc` or a `GcDyn`",
    note = "`get_disjoint_mut` hands out the objects of `Gc` and `GcDyn` handles"
)]
pub unsafe trait Handle<'gc>: Copy + sealed::Sealed {
    /// The type of the object, as the handle sees it.
    type Target: ?Sized + 'gc;

    /// The object's address, with the target's metadata.
    #[doc(hidden)]
    fn ptr(self) -> NonNull<Self::Target>;
}

impl<T> sealed::Sealed for Gc<'_, T> {}

// SAFETY: the field invariant of `Gc`.
unsafe impl<'gc, T: 'gc> Handle<'gc> for Gc<'gc, T> {
    type Target = T;

    #[inline(always)]
    fn ptr(self) -> NonNull<T> {
        Gc::ptr(self)
    }
}

impl<T: ?Sized> sealed::Sealed for GcDyn<'_, T> {}

// SAFETY: the field invariant of `GcDyn`.
unsafe impl<'gc, T: ?Sized + 'gc> Handle<'gc> for GcDyn<'gc, T> {
    type Target = T;

    #[inline(always)]
    fn ptr(self) -> NonNull<T> {
        GcDyn::ptr(self)
    }
}

/// Handles that [`Mutation::get_disjoint_mut`] takes: an array of one
/// handle type (`[Gc<'gc, Body>; N]`, `[GcDyn<'gc, dyn Shape>; N]`), or a
/// tuple of up to six handles of any types (`(Gc<'gc, Body>, GcDyn<'gc,
/// dyn Shape>)`). Sealed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a group of heap handles",
    label = "expected an array or a tuple of `Gc` or `GcDyn` handles",
    note = "`get_disjoint_mut` takes `[a, b, ..]` (handles of one type) or `(a, b, ..)` (up to six, of any types)"
)]
pub trait Handles<'gc>: sealed::Sealed {
    /// One `&'b mut` per handle, in the same shape.
    type Refs<'b>
    where
        'gc: 'b;

    /// Whether two of the handles point at the same object.
    #[doc(hidden)]
    fn overlap(&self) -> bool;

    /// Whether one of the handles points at the object at address `addr`.
    #[doc(hidden)]
    fn points_at(&self, addr: usize) -> bool;

    /// The references.
    ///
    /// # Safety
    ///
    /// The handles point at pairwise different objects (`overlap` is
    /// `false`), and no other reference to any of them is live for `'b`.
    #[doc(hidden)]
    unsafe fn get<'b>(self) -> Self::Refs<'b>
    where
        'gc: 'b;
}

/// Whether two of the addresses are equal (`n²/2` compares: `n` is small).
#[inline]
fn any_equal(addrs: &[*const u8]) -> bool {
    addrs
        .iter()
        .enumerate()
        .any(|(i, a)| addrs[..i].contains(a))
}

impl<H, const N: usize> sealed::Sealed for [H; N] {}

impl<'gc, H: Handle<'gc>, const N: usize> Handles<'gc> for [H; N] {
    type Refs<'b>
        = [&'b mut H::Target; N]
    where
        'gc: 'b;

    #[inline]
    fn overlap(&self) -> bool {
        any_equal(&self.map(|h| h.ptr().as_ptr().cast_const().cast::<u8>()))
    }

    #[inline]
    fn points_at(&self, addr: usize) -> bool {
        self.iter()
            .any(|h| h.ptr().as_ptr().cast::<u8>().addr() == addr)
    }

    #[inline]
    unsafe fn get<'b>(self) -> Self::Refs<'b>
    where
        'gc: 'b,
    {
        // SAFETY: 1. each object is live and stays in place while `'gc`
        // lasts (`Handle`'s contract); 2. the handles point at pairwise
        // different addresses, so at different objects, which do not
        // overlap (every object has at least one granule of its own);
        // 3. no other reference to any of them is live for `'b` (caller).
        self.map(|h| unsafe { &mut *h.ptr().as_ptr() })
    }
}

macro_rules! tuple {
    ($($h:ident $i:tt),+) => {
        impl<$($h),+> sealed::Sealed for ($($h,)+) {}

        impl<'gc, $($h: Handle<'gc>),+> Handles<'gc> for ($($h,)+) {
            type Refs<'b>
                = ($(&'b mut $h::Target,)+)
            where
                'gc: 'b;

            #[inline]
            fn overlap(&self) -> bool {
                any_equal(&[$(self.$i.ptr().as_ptr().cast_const().cast::<u8>()),+])
            }

            #[inline]
            fn points_at(&self, addr: usize) -> bool {
                false $(|| self.$i.ptr().as_ptr().cast::<u8>().addr() == addr)+
            }

            #[inline]
            unsafe fn get<'b>(self) -> Self::Refs<'b>
            where
                'gc: 'b,
            {
                // SAFETY: as for arrays: live objects at pairwise
                // different addresses, so disjoint, and unaliased for
                // `'b` (caller).
                unsafe { ($(&mut *self.$i.ptr().as_ptr(),)+) }
            }
        }
    };
}

tuple!(A 0);
tuple!(A 0, B 1);
tuple!(A 0, B 1, C 2);
tuple!(A 0, B 1, C 2, D 3);
tuple!(A 0, B 1, C 2, D 3, E 4);
tuple!(A 0, B 1, C 2, D 3, E 4, F 5);

impl<'gc> Mutation<'gc> {
    /// Several objects at once, each exclusively, for as long as the token
    /// is borrowed; `None` if two of the handles point at the same object.
    ///
    /// `mc[gc]` writes one object at a time; this is for an edit that
    /// needs two or more (swapping two nodes' children, an impulse applied
    /// to both bodies of a contact, a behaviour updating its entity). The
    /// handles come as an array of one handle type, giving an array of
    /// references, or as a tuple of up to six handles of any types
    /// ([`Gc`]s and [`GcDyn`]s), giving a tuple. They are compared
    /// pairwise (`N²/2` compares).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// #[derive(Managed)]
    /// struct Body {
    ///     velocity: f32,
    ///     mass: f32,
    /// }
    ///
    /// trait Force {
    ///     fn apply(&mut self, body: &mut Body);
    /// }
    ///
    /// #[derive(Managed)]
    /// struct Brake {
    ///     uses: u32,
    /// }
    ///
    /// impl Force for Brake {
    ///     fn apply(&mut self, body: &mut Body) {
    ///         body.velocity /= 2.0;
    ///         self.uses += 1;
    ///     }
    /// }
    ///
    /// #[derive(Managed)]
    /// struct World<'gc> {
    ///     bodies: Vec<Gc<'gc, Body>>,
    ///     force: GcDyn<'gc, dyn Force>,
    /// }
    ///
    /// let mut heap: Heap<World<'static>> = Heap::new(|mc| World {
    ///     bodies: vec![
    ///         Gc::new(mc, Body { velocity: 2.0, mass: 1.0 }),
    ///         Gc::new(mc, Body { velocity: -1.0, mass: 2.0 }),
    ///     ],
    ///     force: unsize!(Gc::new(mc, Brake { uses: 0 }) => dyn Force),
    /// });
    /// heap.mutate(|mc, world| {
    ///     // One type: an array. A perfectly inelastic collision.
    ///     let [a, b] = mc.try_get_disjoint_mut([world.bodies[0], world.bodies[1]]).unwrap();
    ///     let v = (a.velocity * a.mass + b.velocity * b.mass) / (a.mass + b.mass);
    ///     (a.velocity, b.velocity) = (v, v);
    ///     assert!(mc.try_get_disjoint_mut([world.bodies[0], world.bodies[0]]).is_none());
    ///     // Different types: a tuple. The force and the body it acts on.
    ///     let (force, body) = mc.get_disjoint_mut((world.force, world.bodies[1]));
    ///     force.apply(body);
    ///     assert_eq!(mc[world.bodies[1]].velocity, 0.0);
    /// });
    /// ```
    #[inline]
    pub fn try_get_disjoint_mut<'b, H: Handles<'gc>>(
        &'b mut self,
        handles: H,
    ) -> Option<H::Refs<'b>> {
        if handles.overlap() {
            return None;
        }
        // SAFETY: no two handles point at the same object (just checked);
        // every reference to a heap object of this mutation borrows its
        // token, which is borrowed exclusively for `'b`.
        Some(unsafe { handles.get() })
    }

    /// Several objects at once, each exclusively, as
    /// [`try_get_disjoint_mut`](Self::try_get_disjoint_mut).
    ///
    /// # Panics
    ///
    /// If two of the handles point at the same object (at the caller's
    /// line).
    #[inline]
    #[track_caller]
    pub fn get_disjoint_mut<'b, H: Handles<'gc>>(&'b mut self, handles: H) -> H::Refs<'b> {
        match self.try_get_disjoint_mut(handles) {
            Some(objects) => objects,
            None => panic!("get_disjoint_mut: two handles point at the same object"),
        }
    }
}

impl<'gc> Mutation<'gc> {
    /// One object written while every other object of the heap is read or
    /// written: the object of `handle`, exclusively, and [`Others`], which
    /// reaches any object but that one (checked at run time, by address,
    /// for each handle it is given) and allocates.
    ///
    /// `mc[gc]` borrows the token exclusively, so a method that updates
    /// one object cannot read another through the same token (a node
    /// whose value comes from its inputs, an entity steering towards
    /// another, a probe reading its target), nor can a loop over one
    /// object's handles write the objects they name (a paragraph restyling
    /// its spans). With `split_mut`, the method takes `(&mut self, others:
    /// &Others<'_, 'gc>)` and reads what it needs, or `&mut Others` and
    /// writes: the object's own handles can be walked meanwhile (`for
    /// &input in &self.inputs { others[input] }`, `for &span in
    /// &self.spans { others[span].style = style }`), with no copy of the
    /// handle list. Reaching the split-off object through `others` panics
    /// ([`get`](Others::get) returns `None`), as a `RefCell` borrowed
    /// mutably would.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// trait Node<'gc> {
    ///     fn value(&self) -> f64;
    ///     fn update(&mut self, others: &Others<'_, 'gc>);
    /// }
    ///
    /// #[derive(Managed)]
    /// struct Constant(f64);
    ///
    /// #[derive(Managed)]
    /// struct Sum<'gc> {
    ///     inputs: Vec<GcDyn<'gc, dyn Node<'gc>>>,
    ///     total: f64,
    ///     updates: u32,
    /// }
    ///
    /// impl<'gc> Node<'gc> for Constant {
    ///     fn value(&self) -> f64 { self.0 }
    ///     fn update(&mut self, _: &Others<'_, 'gc>) {}
    /// }
    ///
    /// impl<'gc> Node<'gc> for Sum<'gc> {
    ///     fn value(&self) -> f64 { self.total }
    ///     fn update(&mut self, others: &Others<'_, 'gc>) {
    ///         // Its own list, walked while the inputs are read.
    ///         self.total = self.inputs.iter().map(|&input| others[input].value()).sum();
    ///         self.updates += 1;
    ///     }
    /// }
    ///
    /// #[derive(Managed)]
    /// struct Graph<'gc> {
    ///     order: Vec<GcDyn<'gc, dyn Node<'gc>>>,
    /// }
    ///
    /// let mut heap: Heap<Graph<'static>> = Heap::new(|mc| {
    ///     let a = unsize!(Gc::new(mc, Constant(2.0)) => dyn Node<'_>);
    ///     let b = unsize!(Gc::new(mc, Constant(3.0)) => dyn Node<'_>);
    ///     let ab = Sum { inputs: vec![a, b], total: 0.0, updates: 0 };
    ///     let ab = unsize!(Gc::new(mc, ab) => dyn Node<'_>);
    ///     let out = Sum { inputs: vec![ab, a], total: 0.0, updates: 0 };
    ///     let out = unsize!(Gc::new(mc, out) => dyn Node<'_>);
    ///     Graph { order: vec![a, b, ab, out] }
    /// });
    /// let value = heap.mutate(|mc, graph| {
    ///     for &node in &graph.order {
    ///         let (node, others) = mc.split_mut(node);
    ///         node.update(&others);
    ///     }
    ///     mc[graph.order[3]].value()
    /// });
    /// assert_eq!(value, 7.0);
    /// ```
    #[inline]
    pub fn split_mut<'b, H: Handle<'gc>>(
        &'b mut self,
        handle: H,
    ) -> (&'b mut H::Target, Others<'b, 'gc>) {
        let ptr = handle.ptr();
        let others = Others {
            mc: NonNull::from(&*self),
            excluded: ptr.as_ptr().cast::<u8>().addr(),
            _borrow: PhantomData,
        };
        // SAFETY: 1. the object is live and stays in place while `'gc`
        // lasts (`Handle`'s contract); 2. every reference to a heap object
        // of this mutation borrows its token, which is borrowed for `'b`
        // here, exclusively but for `others`; 3. `others` reaches no
        // object at the address of this one (the invariant on
        // `Others::excluded`), and objects do not overlap (every object
        // has at least one granule of its own), so nothing it hands out
        // aliases this reference.
        (unsafe { &mut *ptr.as_ptr() }, others)
    }
}

/// Every object of a heap but one, read and written (and the heap
/// allocated in) while that one is written: the second half of
/// [`Mutation::split_mut`].
///
/// It reads objects as the token does (`others[gc]`, [`get`](Self::get),
/// `others[&held]`) and writes them (`others[gc].field = ..`,
/// [`get_mut`](Self::get_mut), [`get_disjoint_mut`](Self::get_disjoint_mut)),
/// after comparing each handle's address with the split-off object's:
/// reaching that one panics, or gives `None` from `get` and `get_mut`. It
/// upgrades weak handles, allocates and holds objects ([`hold`](Self::hold),
/// [`hold_weak`](Self::hold_weak)), as the token does. Pass `&others`
/// to helper functions that read, `&mut others` to ones that write.
///
/// The references it hands out borrow it, as the token's borrow the token:
/// one object written at a time, or any number read.
///
/// ```compile_fail
/// use managed::prelude::*;
///
/// #[derive(Managed)]
/// struct Cell<'gc> {
///     value: u32,
///     next: Option<Gc<'gc, Cell<'gc>>>,
/// }
///
/// let mut heap: Heap<Vec<Gc<'static, Cell<'static>>>> = Heap::new(|_| Vec::new());
/// heap.mutate(|mc, cells| {
///     let b = Gc::new(mc, Cell { value: 2, next: None });
///     let a = Gc::new(mc, Cell { value: 1, next: Some(b) });
///     let (_, mut others) = mc.split_mut(a);
///     let read = &others[b];
///     others[b].value += 1; // `b` is read above: no write meanwhile
///     assert_eq!(read.value, 2);
/// });
/// ```
pub struct Others<'b, 'gc> {
    /// The token, shared for `'b`: what every method reads through. A
    /// pointer rather than a reference only so that the compiler's error
    /// for sending an `Others` to another thread names this field, not
    /// every field of the token.
    ///
    /// Invariant: made from a `&'b Mutation<'gc>` (so it is valid, and
    /// shared, for `'b`). Invariant in `'gc`, as the token is.
    mc: NonNull<Mutation<'gc>>,
    /// The address of the object handed out mutably with this value.
    ///
    /// Invariant: no method hands out a reference to the object at this
    /// address (each compares the handle's address with it first), so the
    /// references it hands out never alias the split-off one.
    excluded: usize,
    /// The borrow of the token.
    _borrow: PhantomData<&'b ()>,
}

impl<'b, 'gc> Others<'b, 'gc> {
    /// The token, shared.
    #[inline(always)]
    fn mc(&self) -> &'b Mutation<'gc> {
        // SAFETY: made from a `&'b Mutation<'gc>` (invariant on `mc`).
        unsafe { self.mc.as_ref() }
    }

    /// The object of `handle` (a `Gc` or a `GcDyn`), or `None` if it is
    /// the object split off.
    #[inline]
    #[must_use]
    pub fn get<H: Handle<'gc>>(&self, handle: H) -> Option<&H::Target> {
        // SAFETY: `Handle`'s contract.
        unsafe { self.get_at(handle.ptr()) }
    }

    /// The object of `handle` (a `Gc` or a `GcDyn`), mutably, or `None` if
    /// it is the object split off.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// #[derive(Managed)]
    /// struct Span {
    ///     text: String,
    ///     bold: bool,
    /// }
    ///
    /// #[derive(Managed)]
    /// struct Paragraph<'gc> {
    ///     spans: Vec<Gc<'gc, Span>>,
    ///     restyled: u32,
    /// }
    ///
    /// let mut heap: Heap<Vec<Gc<'static, Paragraph<'static>>>> = Heap::new(|mc| {
    ///     let spans = vec![
    ///         Gc::new(mc, Span { text: "managed ".into(), bold: false }),
    ///         Gc::new(mc, Span { text: "memory".into(), bold: false }),
    ///     ];
    ///     vec![Gc::new(mc, Paragraph { spans, restyled: 0 })]
    /// });
    /// heap.mutate(|mc, paragraphs| {
    ///     // The paragraph's own list, walked while its spans are written.
    ///     let (paragraph, mut others) = mc.split_mut(paragraphs[0]);
    ///     for &span in &paragraph.spans {
    ///         if let Some(span) = others.get_mut(span) {
    ///             span.bold = true;
    ///         }
    ///     }
    ///     paragraph.restyled += 1;
    /// });
    /// heap.read(|mc, paragraphs| {
    ///     assert!(mc[paragraphs[0]].spans.iter().all(|&s| mc[s].bold));
    /// });
    /// ```
    #[inline]
    #[must_use]
    pub fn get_mut<H: Handle<'gc>>(&mut self, handle: H) -> Option<&mut H::Target> {
        // SAFETY: `Handle`'s contract.
        unsafe { self.get_mut_at(handle.ptr()) }
    }

    /// The objects of `handles` at once, each mutably, as
    /// [`Mutation::try_get_disjoint_mut`]: an array of one handle type
    /// gives an array of references, a tuple of up to six handles of any
    /// types ([`Gc`]s and [`GcDyn`]s) a tuple; `None` if any is the object
    /// split off or two name the same object.
    #[inline]
    #[must_use]
    pub fn get_disjoint_mut<'s, H: Handles<'gc>>(&'s mut self, handles: H) -> Option<H::Refs<'s>> {
        if handles.points_at(self.excluded) || handles.overlap() {
            return None;
        }
        // SAFETY: `Handles::get`'s contract: 1. no two handles point at the
        // same object (checked above); 2. none is the object split off
        // (checked above), whose reference is the only one to an object of
        // this heap not borrowed from this view or the token; `&mut self`
        // keeps every reference this view handed out dead for `'s`, and
        // the token is borrowed by the view.
        Some(unsafe { handles.get() })
    }

    /// The object at `ptr`, or `None` if it is the object split off.
    ///
    /// # Safety
    ///
    /// `ptr` points at a live object of the heap branded `'gc`, which
    /// stays in place while `'gc` lasts.
    #[inline]
    unsafe fn get_at<U: ?Sized>(&self, ptr: NonNull<U>) -> Option<&U> {
        if ptr.as_ptr().cast::<u8>().addr() == self.excluded {
            return None;
        }
        // SAFETY: 1. the object is live and stays in place while `'gc`
        // lasts (caller); 2. it is not the object split off (just checked,
        // the invariant on `excluded`), and objects do not overlap, so the
        // only `&mut` that may point at it is one this view handed out,
        // which `&self` keeps dead while this reference lives (the token
        // itself is borrowed by this view and the split-off reference).
        Some(unsafe { &*ptr.as_ptr() })
    }

    /// The object at `ptr` mutably, or `None` if it is the object split
    /// off.
    ///
    /// # Safety
    ///
    /// As [`get_at`](Self::get_at).
    #[inline]
    unsafe fn get_mut_at<U: ?Sized>(&mut self, ptr: NonNull<U>) -> Option<&mut U> {
        if ptr.as_ptr().cast::<u8>().addr() == self.excluded {
            return None;
        }
        // SAFETY: 1. as in `get_at`; 2. `&mut self` keeps every other
        // reference this view handed out dead while this one lives, and
        // nothing else reaches the heap's objects meanwhile: the token is
        // borrowed for `'b` by this view and the split-off reference, which
        // is to another object.
        Some(unsafe { &mut *ptr.as_ptr() })
    }

    /// The object at `ptr`, or a panic at the caller's line if it is the
    /// object split off.
    ///
    /// # Safety
    ///
    /// As [`get_at`](Self::get_at).
    #[inline]
    #[track_caller]
    unsafe fn read_at<U: ?Sized>(&self, ptr: NonNull<U>) -> &U {
        // SAFETY: forwarded caller contract.
        match unsafe { self.get_at(ptr) } {
            Some(object) => object,
            None => split_off(),
        }
    }

    /// The object at `ptr` mutably, or a panic at the caller's line if it
    /// is the object split off.
    ///
    /// # Safety
    ///
    /// As [`get_at`](Self::get_at).
    #[inline]
    #[track_caller]
    unsafe fn write_at<U: ?Sized>(&mut self, ptr: NonNull<U>) -> &mut U {
        // SAFETY: forwarded caller contract.
        match unsafe { self.get_mut_at(ptr) } {
            Some(object) => object,
            None => split_off(),
        }
    }

    /// The object `weak` points at, if it is alive ([`GcWeak::upgrade`]).
    #[inline]
    #[must_use]
    pub fn upgrade<T>(&self, weak: GcWeak<'gc, T>) -> Option<Gc<'gc, T>> {
        weak.upgrade(self.mc())
    }

    /// The object `weak` points at, if it is alive
    /// ([`GcDynWeak::upgrade`]).
    #[inline]
    #[must_use]
    pub fn upgrade_dyn<T: ?Sized>(&self, weak: GcDynWeak<'gc, T>) -> Option<GcDyn<'gc, T>> {
        weak.upgrade(self.mc())
    }

    /// The object `held` holds, as a handle of this mutation
    /// ([`Mutation::fetch`]).
    ///
    /// # Panics
    ///
    /// If `held` belongs to another heap.
    #[inline]
    #[track_caller]
    pub fn fetch<T: Rootable>(&self, held: &Held<T>) -> Gc<'gc, T::Root<'gc>> {
        self.mc().fetch(held)
    }

    /// Moves `value` into the heap ([`Gc::new`]).
    ///
    /// # Panics
    ///
    /// As [`Mutation::alloc`].
    #[inline]
    #[track_caller]
    pub fn alloc<T: Managed + 'gc>(&self, value: T) -> Gc<'gc, T> {
        self.mc().alloc(value)
    }

    /// A [`Held`] handle to `gc`'s object, kept outside the heap
    /// ([`Mutation::hold`]): an undo entry that a method working through
    /// `Others` returns holds the objects it wrote. Any object may be
    /// held, the split-off one too: holding reads nothing.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// #[derive(Managed)]
    /// struct Cell {
    ///     value: i64,
    /// }
    ///
    /// #[derive(Managed)]
    /// struct Sheet<'gc> {
    ///     cells: Vec<Gc<'gc, Cell>>,
    /// }
    ///
    /// /// Swaps two cells' values; returns what undoes it.
    /// fn swap<'gc>(sheet: &Sheet<'gc>, others: &mut Others<'_, 'gc>, a: usize, b: usize) -> [Held<Cell>; 2] {
    ///     let pair = [sheet.cells[a], sheet.cells[b]];
    ///     let [x, y] = others.get_disjoint_mut(pair).expect("two different cells");
    ///     std::mem::swap(&mut x.value, &mut y.value);
    ///     pair.map(|c| others.hold(c))
    /// }
    ///
    /// let mut heap: Heap<Gc<'static, Sheet<'static>>> = Heap::new(|mc| {
    ///     let cells = (0..3).map(|value| Gc::new(mc, Cell { value })).collect();
    ///     Gc::new(mc, Sheet { cells })
    /// });
    /// let undo = heap.mutate(|mc, sheet| {
    ///     let (sheet, mut others) = mc.split_mut(*sheet);
    ///     swap(sheet, &mut others, 0, 2)
    /// });
    /// heap.collect();
    /// heap.mutate(|mc, _| {
    ///     assert_eq!([mc[&undo[0]].value, mc[&undo[1]].value], [2, 0]);
    ///     let [x, y] = mc.get_disjoint_mut(undo.each_ref().map(|h| mc.fetch(h)));
    ///     std::mem::swap(&mut x.value, &mut y.value);
    /// });
    /// heap.read(|mc, sheet| assert!(mc[*sheet].cells.iter().enumerate().all(|(i, &c)| mc[c].value == i as i64)));
    /// ```
    #[must_use = "a held object is released when its last handle is dropped"]
    pub fn hold<T: Rootable>(&self, gc: impl Holdable<'gc, T>) -> Held<T> {
        self.mc().hold(gc)
    }

    /// A [`HeldWeak`] handle to `gc`'s object ([`Mutation::hold_weak`]),
    /// which does not keep it alive.
    #[must_use = "a weak handle is forgotten by the next collection when dropped"]
    pub fn hold_weak<T: Rootable>(&self, gc: impl Holdable<'gc, T>) -> HeldWeak<T> {
        self.mc().hold_weak(gc)
    }

    /// The handle to `gc`'s object if the program holds one
    /// ([`Mutation::held`]); allocates nothing.
    #[must_use]
    pub fn held<T: Rootable>(&self, gc: impl Holdable<'gc, T>) -> Option<Held<T>> {
        self.mc().held(gc)
    }
}

/// The panic of reading the split-off object through [`Others`].
#[cold]
#[inline(never)]
#[track_caller]
fn split_off() -> ! {
    panic!("the object written through `split_mut` was reached through its `Others`")
}

/// `others[gc]`: the object, read.
///
/// # Panics
///
/// If it is the object split off (at the caller's line).
impl<'gc, T> Index<Gc<'gc, T>> for Others<'_, 'gc> {
    type Output = T;

    #[inline]
    #[track_caller]
    fn index(&self, gc: Gc<'gc, T>) -> &T {
        // SAFETY: the field invariant of `Gc`.
        unsafe { self.read_at(gc.ptr()) }
    }
}

/// `others[gc_dyn]`: the object, read.
///
/// # Panics
///
/// If it is the object split off (at the caller's line).
impl<'gc, T: ?Sized> Index<GcDyn<'gc, T>> for Others<'_, 'gc> {
    type Output = T;

    #[inline]
    #[track_caller]
    fn index(&self, gc: GcDyn<'gc, T>) -> &T {
        // SAFETY: the field invariant of `GcDyn`.
        unsafe { self.read_at(gc.ptr()) }
    }
}

/// `others[gc] = ..`: the object, written.
///
/// # Panics
///
/// If it is the object split off (at the caller's line).
impl<'gc, T> IndexMut<Gc<'gc, T>> for Others<'_, 'gc> {
    #[inline]
    #[track_caller]
    fn index_mut(&mut self, gc: Gc<'gc, T>) -> &mut T {
        // SAFETY: the field invariant of `Gc`.
        unsafe { self.write_at(gc.ptr()) }
    }
}

/// `others[gc_dyn]`, written.
///
/// # Panics
///
/// If it is the object split off (at the caller's line).
impl<'gc, T: ?Sized> IndexMut<GcDyn<'gc, T>> for Others<'_, 'gc> {
    #[inline]
    #[track_caller]
    fn index_mut(&mut self, gc: GcDyn<'gc, T>) -> &mut T {
        // SAFETY: the field invariant of `GcDyn`.
        unsafe { self.write_at(gc.ptr()) }
    }
}

/// `others[&held]`: the object `held` holds, read.
///
/// # Panics
///
/// If it is the object split off, or `held` belongs to another heap (at
/// the caller's line).
impl<'gc, T: Rootable> Index<&Held<T>> for Others<'_, 'gc> {
    type Output = T::Root<'gc>;

    #[inline]
    #[track_caller]
    fn index(&self, held: &Held<T>) -> &T::Root<'gc> {
        let gc = self.fetch(held);
        // SAFETY: the field invariant of `Gc`.
        unsafe { self.read_at(gc.ptr()) }
    }
}

/// `others[&held] = ..`: the object `held` holds, written.
///
/// # Panics
///
/// As `others[&held]`.
impl<'gc, T: Rootable> IndexMut<&Held<T>> for Others<'_, 'gc> {
    #[inline]
    #[track_caller]
    fn index_mut(&mut self, held: &Held<T>) -> &mut T::Root<'gc> {
        let gc = self.fetch(held);
        // SAFETY: the field invariant of `Gc`.
        unsafe { self.write_at(gc.ptr()) }
    }
}

impl fmt::Debug for Others<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Others")
            .field("split_off", &(self.excluded as *const u8))
            .finish_non_exhaustive()
    }
}
