//! [`Gc`]'s machinery: the object address it holds, the references read
//! through it, and its `Managed` impl (the address visited in place with
//! the object's kind). Invariant: a `Gc<'gc, T>` is only made
//! (`Gc::from_ptr`) for a live `T` of the heap whose mutation `'gc`
//! brands, and the collector rewrites it whenever the object moves.

use core::marker::PhantomData;
use core::ptr::NonNull;

use crate::heap::Mutation;
use crate::visit::{Managed, Visitor};

use super::GcKind;
use crate::heap::arena::Invariant;

/// A copyable handle to an object in a [`Heap`](crate::heap::Heap), branded
/// with the heap's mutation lifetime `'gc`.
///
/// It is one pointer (`Option<Gc<..>>` too): the object's address, which
/// the collector rewrites when it moves the object. Handles can be stored
/// anywhere in the object graph (inside objects, in the root, in `Vec`s
/// and `HashMap` values of either), point at any object, and form cycles.
///
/// Reading and writing go through the [`Mutation`] token of the mutation
/// that the handle belongs to: [`get`](Self::get) borrows it shared (many
/// objects may be read at once, and allocation goes on meanwhile),
/// [`get_mut`](Self::get_mut) borrows it exclusively (one object written at
/// a time), like a `GhostCell`. `mc[gc]` and `&mut mc[gc]` are the same.
///
/// A handle cannot leave the mutation it was made in except through the
/// root (the brand `'gc` is fresh in every [`Heap::mutate`](crate::heap::Heap::mutate)
/// call), so every handle that exists when the heap collects is one the
/// collector visits and rewrites.
///
/// Equality, hashing and `Debug` use the object's identity (its address
/// during the current mutation), as `Rc::ptr_eq` does; values are read
/// through the token.
///
/// `T` is sized: its type is how the collector traces the object. A handle
/// to an object seen as a trait object (`dyn Shape`) or a slice is a
/// [`GcDyn`], made from a `Gc` by [`unsize!`](crate::unsize).
pub struct Gc<'gc, T> {
    /// The object's address. Invariant: the start of a live `T` of the heap
    /// branded `'gc`, valid until the next collection, which cannot happen
    /// while `'gc` lasts (it needs the heap exclusively, and the mutation
    /// that `'gc` brands borrows it); the collector rewrites it when it
    /// moves the object.
    ptr: NonNull<T>,
    /// Branded with the heap's mutation (invariant), refers to a `T` it
    /// hands out `&mut` to (invariant in `T`), neither `Send` nor `Sync`.
    _marker: PhantomData<(Invariant<'gc>, *mut T)>,
}

impl<'gc, T> Gc<'gc, T> {
    /// Wraps an object address.
    ///
    /// # Safety
    ///
    /// `ptr` is the start of a live `T` of the heap whose mutation is
    /// branded `'gc`.
    #[inline(always)]
    pub(crate) unsafe fn from_ptr(ptr: NonNull<T>) -> Self {
        Gc {
            ptr,
            _marker: PhantomData,
        }
    }

    /// The object's address (it changes when a collection moves the object).
    #[inline(always)]
    pub(in crate::heap) fn ptr(self) -> NonNull<T> {
        self.ptr
    }

    /// The object, shared, for as long as the token is borrowed.
    #[inline(always)]
    pub fn get<'b>(self, mc: &'b Mutation<'gc>) -> &'b T {
        let _ = mc;
        // SAFETY: 1. the object is live and stays in place while `'gc`
        // lasts (field invariant); 2. writing needs `&mut Mutation<'gc>`,
        // which the shared borrow of the token excludes for `'b`.
        unsafe { self.ptr.as_ref() }
    }

    /// The object, exclusively, for as long as the token is borrowed.
    #[inline(always)]
    pub fn get_mut<'b>(self, mc: &'b mut Mutation<'gc>) -> &'b mut T {
        let _ = mc;
        let mut ptr = self.ptr;
        // SAFETY: 1. as in `get`; 2. every reference to a heap object of
        // this mutation borrows its token, which is borrowed exclusively
        // for `'b`: no other reference to this object is live.
        unsafe { ptr.as_mut() }
    }
}

// SAFETY: a `Gc` is one direct reference, visited in place with its
// object's kind: the address written back is what the handle reads next.
unsafe impl<T: Managed> Managed for Gc<'_, T> {
    const HAS_REFS: bool = true;

    #[inline(always)]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        // SAFETY: `NonNull<T>` and `NonNull<u8>` have the same layout (`T`
        // is sized), so the visitor reads and writes the handle's own
        // address in place (a marking visitor then does not write at all).
        let place = unsafe { &mut *(&raw mut self.ptr).cast::<NonNull<u8>>() };
        visitor.visit_gc(place, GcKind::of::<T>());
    }
}

/// A weak handle to a heap object: it does not keep the object alive.
/// [`upgrade`](Self::upgrade) gives a [`Gc`] while the object exists, and
/// `None` once a collection found it unreachable and dropped it. Made by
/// [`Gc::downgrade`]; [`GcWeak::new`] (and `Default`) makes one that
/// points at nothing and never upgrades, so a field can start empty
/// without an `Option`.
///
/// Like a `Gc`, it is one pointer, `Copy`, branded with the mutation
/// `'gc`, and lives in the root's graph (objects, the root, containers of
/// either); the collector rewrites it when its object moves, and writes a
/// "dead" marker into it when its object is dropped. An object that is
/// unreachable but not collected yet still upgrades (and becomes
/// reachable again if the upgraded handle is stored).
pub struct GcWeak<'gc, T> {
    /// The object's address, or [`dead`](super::dead)'s (dropped, or made
    /// by `GcWeak::new`). Invariant: unless it is
    /// `dead()`, the start of a live `T` of the heap branded `'gc`; every
    /// collection either rewrites it with the object's new address or, if
    /// the object was not marked, replaces it by `dead()` (the collector
    /// visits every weak handle whose object moves or dies, see
    /// `RawHeap::collect`).
    ptr: NonNull<T>,
    /// As for [`Gc`]: branded (invariant), invariant in `T`, neither `Send`
    /// nor `Sync`.
    _marker: PhantomData<(Invariant<'gc>, *mut T)>,
}

impl<'gc, T> Gc<'gc, T> {
    /// A weak handle to the same object.
    #[inline(always)]
    pub fn downgrade(self) -> GcWeak<'gc, T> {
        GcWeak {
            ptr: self.ptr,
            _marker: PhantomData,
        }
    }
}

impl<'gc, T> GcWeak<'gc, T> {
    /// A weak handle to no object: it never upgrades, as if its object had
    /// been dropped ([`is_dropped`](Self::is_dropped) is `true`), like
    /// `std::rc::Weak::new`. A struct field starts with it and is given a
    /// real one later; collections pass over it.
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// #[derive(Managed, Default)]
    /// struct Panel<'gc> {
    ///     /// The node shown, if it still exists: empty at first.
    ///     shown: GcWeak<'gc, String>,
    /// }
    ///
    /// let mut heap: Heap<Panel<'static>> = Heap::new(|_| Panel::default());
    /// heap.mutate(|mc, panel| {
    ///     assert!(panel.shown.upgrade(mc).is_none());
    ///     let node = Gc::new(mc, String::from("node"));
    ///     panel.shown = node.downgrade(); // nothing else holds it
    ///     assert_eq!(mc[panel.shown.upgrade(mc).unwrap()], "node");
    /// });
    /// heap.collect();
    /// heap.read(|mc, panel| assert!(panel.shown.upgrade(mc).is_none()));
    /// ```
    #[inline(always)]
    #[must_use]
    pub fn new() -> Self {
        GcWeak {
            ptr: super::dead().cast(),
            _marker: PhantomData,
        }
    }

    /// A handle to the object, unless a collection has dropped it.
    #[inline(always)]
    pub fn upgrade(self, mc: &Mutation<'gc>) -> Option<Gc<'gc, T>> {
        let _ = mc;
        if self.is_dropped() {
            return None;
        }
        // SAFETY: not the dead marker, so the start of a live `T` of the
        // heap branded `'gc` (field invariant).
        Some(unsafe { Gc::from_ptr(self.ptr) })
    }

    /// Whether a collection has dropped the object (or the handle was
    /// made by [`GcWeak::new`] and points at none).
    #[inline(always)]
    pub fn is_dropped(self) -> bool {
        self.ptr.cast::<u8>() == super::dead()
    }

    /// The address kept (the dead marker's once the object is dropped).
    #[inline(always)]
    pub(in crate::heap) fn ptr(self) -> NonNull<T> {
        self.ptr
    }
}

// SAFETY: one weak reference, visited in place: the address written back
// (the object's new one, or the dead marker's) is what the handle reads
// next.
unsafe impl<T> Managed for GcWeak<'_, T> {
    const HAS_REFS: bool = true;

    #[inline(always)]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        // SAFETY: as for `Gc`: `NonNull<T>` and `NonNull<u8>` have the same
        // layout.
        let place = unsafe { &mut *(&raw mut self.ptr).cast::<NonNull<u8>>() };
        visitor.visit_weak(place);
    }
}

/// A copyable handle to a heap object seen as an unsized type: a trait
/// object (`GcDyn<'gc, dyn Shape>`) or a slice (`GcDyn<'gc, [u32]>`).
/// Made from a [`Gc`] by [`unsize!`](crate::unsize).
///
/// It reads and writes like a `Gc` (through the [`Mutation`] token: `mc[h]`
/// is `&dyn Shape`, `&mut mc[h]` is `&mut dyn Shape`), is kept in the same
/// places (objects, the root, containers of either, map keys), keeps its
/// object alive and follows it when a collection moves it. A program holds
/// objects of different types in one collection with it: the components of
/// a scene node, the host objects of an interpreter, the widgets of a tree.
///
/// It is three words: the object's address with the unsized type's
/// metadata (a vtable or a length), and the object's [`GcKind`]. Objects
/// carry no header, so the handle is where the collector learns the
/// concrete type behind the trait object; a `Gc` is one word because its
/// type says it.
///
/// Equality and hashing use the object's identity (its address), as for
/// `Gc`: two handles to one object are equal whatever vtable each carries.
///
/// ```
/// use managed::prelude::*;
///
/// trait Shape {
///     fn area(&self) -> f64;
///     fn scale(&mut self, by: f64);
/// }
///
/// #[derive(Managed)]
/// struct Circle {
///     r: f64,
/// }
///
/// #[derive(Managed)]
/// struct Rect {
///     w: f64,
///     h: f64,
/// }
///
/// impl Shape for Circle {
///     fn area(&self) -> f64 { 3.0 * self.r * self.r }
///     fn scale(&mut self, by: f64) { self.r *= by }
/// }
///
/// impl Shape for Rect {
///     fn area(&self) -> f64 { self.w * self.h }
///     fn scale(&mut self, by: f64) { (self.w, self.h) = (self.w * by, self.h * by) }
/// }
///
/// /// The root: a list of trait objects sits in a struct with the brand.
/// #[derive(Managed)]
/// struct Drawing<'gc> {
///     shapes: Vec<GcDyn<'gc, dyn Shape>>,
/// }
///
/// fn add<'gc>(mc: &Mutation<'gc>, drawing: &mut Drawing<'gc>, r: f64) {
///     drawing.shapes.push(unsize!(Gc::new(mc, Circle { r }) => dyn Shape));
/// }
///
/// let mut heap: Heap<Drawing<'static>> = Heap::new(|mc| Drawing {
///     shapes: vec![unsize!(Gc::new(mc, Rect { w: 2.0, h: 3.0 }) => dyn Shape)],
/// });
/// heap.mutate(|mc, drawing| {
///     add(mc, drawing, 1.0);
///     for &shape in drawing.shapes.iter() {
///         mc[shape].scale(2.0);
///     }
///     drawing.shapes.remove(0);
/// });
/// assert_eq!(heap.collect().live_objects, 1); // the circle slides down
/// heap.read(|mc, drawing| assert_eq!(mc[drawing.shapes[0]].area(), 12.0));
/// ```
///
/// Inside a struct with `'gc`, `dyn Shape` means `dyn Shape + 'gc` (the
/// objects may hold handles), as it does in a function's signature that
/// names `GcDyn<'gc, dyn Shape>`; so a list of trait objects is kept in a
/// root struct deriving `Managed`, not as the heap's root type itself.
pub struct GcDyn<'gc, T: ?Sized + 'gc> {
    /// The object's address, with `T`'s metadata for the object's type.
    /// Invariant: as for [`Gc::ptr`], the start of a live object of the
    /// heap branded `'gc`, of the type `dyn_kind` was made for, which `T`
    /// is (or unsizes to, with this metadata: `unsize!` made it by the
    /// compiler's coercion). The collector rewrites it, through
    /// `dyn_kind.rebuild`, when it moves the object; the metadata never
    /// changes.
    ptr: NonNull<T>,
    /// The object type's kind, and how to rebuild `ptr` at a new address.
    dyn_kind: &'static DynKind,
    /// As for [`Gc`]: branded (invariant), invariant in `T`, neither
    /// `Send` nor `Sync`.
    _marker: PhantomData<(Invariant<'gc>, *mut T)>,
}

/// What a [`GcDyn`] knows of its object's type: its [`GcKind`], and how to
/// make the handle's pointer for a new address.
pub(crate) struct DynKind {
    /// The kind of the object's type.
    kind: &'static GcKind,
    /// `rebuild(new, out)` writes into `out` (a `*mut NonNull<T>`) the
    /// pointer to the object at `new` with `T`'s metadata for the object's
    /// type, made by the same coercion as the handle's (so with `new`'s
    /// provenance).
    rebuild: unsafe fn(NonNull<u8>, *mut ()),
}

impl DynKind {
    /// The kind of the object's type.
    #[inline(always)]
    pub(in crate::heap) fn kind(&self) -> &'static GcKind {
        self.kind
    }

    /// After a visitor was handed a copy of `ptr`'s address in `place`:
    /// if it left another address there, makes `ptr` point at it with its
    /// metadata, by the handle's own coercion (so with the provenance the
    /// visitor gave: an object may move to another chunk).
    ///
    /// # Safety
    ///
    /// `self` was made for `ptr`'s `T` and coercion (`GcDyn::__unsize`).
    #[inline(always)]
    unsafe fn write_back<T: ?Sized>(&self, ptr: &mut NonNull<T>, place: NonNull<u8>) {
        if place != ptr.cast::<u8>() {
            // SAFETY: `ptr` is valid for writing a `NonNull<T>`, and
            // `rebuild` was made for this `T` and coercion (caller).
            unsafe { (self.rebuild)(place, core::ptr::from_mut(ptr).cast::<()>()) }
        }
    }
}

/// The [`DynKind`] of an object of type `C` seen as a `T` through the
/// coercion `F` (the closure `|p| p`, a zero-sized type).
struct DynKindOf<C, T: ?Sized, F>(PhantomData<fn(C, F, *mut T)>);

impl<C: Managed, T: ?Sized, F: Fn(NonNull<C>) -> NonNull<T>> DynKindOf<C, T, F> {
    /// The record.
    const DYN_KIND: DynKind = DynKind {
        kind: GcKind::of::<C>(),
        rebuild: rebuild_erased::<C, T, F>,
    };
}

/// Writes `F(new as C)` into `out`.
///
/// # Safety
///
/// `out` is valid for writing a `NonNull<T>`, and `F` is zero-sized (it
/// is made from nothing, as a closure that captures nothing can be).
unsafe fn rebuild_erased<C, T: ?Sized, F: Fn(NonNull<C>) -> NonNull<T>>(
    new: NonNull<u8>,
    out: *mut (),
) {
    const { assert!(size_of::<F>() == 0) };
    // SAFETY: 1. `F` is zero-sized (checked above at compile time), so a
    // read through a dangling, aligned pointer reads no byte; 2. it is
    // the type of a closure that captures nothing (`unsize!` writes
    // `|p| p`), so it has no field whose validity a made-up value could
    // break.
    let coerce: F = unsafe { NonNull::<F>::dangling().read() };
    let ptr = coerce(new.cast::<C>());
    // SAFETY: valid for writing a `NonNull<T>` (caller).
    unsafe { out.cast::<NonNull<T>>().write(ptr) }
}

impl<'gc, T: ?Sized> GcDyn<'gc, T> {
    /// A handle to `gc`'s object as a `T`, with `coerce(gc's address)` as
    /// its address and metadata. Called by [`unsize!`](crate::unsize) only.
    ///
    /// # Safety
    ///
    /// `coerce` is `|p| p`: a closure that captures nothing and applies an
    /// unsizing (or identity) coercion, which the compiler accepts only
    /// when `C` unsizes to `T`, keeps the address and adds the metadata of
    /// `C` (so `T`'s methods, size and alignment are `C`'s).
    #[doc(hidden)]
    #[inline(always)]
    pub unsafe fn __unsize<C: Managed + 'gc, F: Fn(NonNull<C>) -> NonNull<T>>(
        gc: Gc<'gc, C>,
        coerce: F,
    ) -> Self {
        let ptr = coerce(gc.ptr);
        // Redundant with the caller's contract (a coercion keeps the
        // address); checked in debug builds only.
        debug_assert_eq!(ptr.cast::<u8>(), gc.ptr.cast::<u8>());
        GcDyn {
            ptr,
            dyn_kind: &DynKindOf::<C, T, F>::DYN_KIND,
            _marker: PhantomData,
        }
    }

    /// The object, shared, for as long as the token is borrowed.
    #[inline(always)]
    pub fn get<'b>(self, mc: &'b Mutation<'gc>) -> &'b T {
        let _ = mc;
        // SAFETY: as in `Gc::get`: the object is live and stays in place
        // while `'gc` lasts, its metadata describes it (field invariant),
        // and writing needs the token exclusively.
        unsafe { self.ptr.as_ref() }
    }

    /// The object, exclusively, for as long as the token is borrowed.
    #[inline(always)]
    pub fn get_mut<'b>(self, mc: &'b mut Mutation<'gc>) -> &'b mut T {
        let _ = mc;
        let mut ptr = self.ptr;
        // SAFETY: as in `Gc::get_mut`.
        unsafe { ptr.as_mut() }
    }

    /// The object's address (it changes when a collection moves the object).
    #[inline(always)]
    pub(in crate::heap) fn ptr(self) -> NonNull<T> {
        self.ptr
    }
}

/// A weak handle to an object seen as an unsized type: it does not keep
/// the object alive. Made by [`GcDyn::downgrade`]; [`upgrade`](Self::upgrade)
/// gives the [`GcDyn`] back while the object exists, and `None` once a
/// collection dropped it. An observer list (`Vec<GcDynWeak<'gc, dyn
/// Observer<'gc>>>`) that must not keep its observers alive is one.
///
/// As [`GcWeak`] is to [`Gc`]: `Copy`, branded, kept in the root's graph,
/// rewritten when its object moves and made dead when it is dropped.
/// Unlike `GcWeak` it has no `new` (nor `Default`): its metadata (a
/// trait object's vtable) comes from an object's type, and an empty
/// handle has none, so a field that starts empty is an
/// `Option<GcDynWeak<..>>`.
///
/// ```
/// use std::cell::Cell;
/// use managed::prelude::*;
///
/// trait Observer {
///     fn notify(&self, event: u32);
/// }
///
/// #[derive(Managed)]
/// struct Counter {
///     seen: Cell<u32>,
/// }
///
/// impl Observer for Counter {
///     fn notify(&self, event: u32) {
///         self.seen.set(self.seen.get() + event);
///     }
/// }
///
/// #[derive(Managed)]
/// struct Subject<'gc> {
///     observers: Vec<GcDynWeak<'gc, dyn Observer>>,
///     /// What keeps observers alive: the program's own lists.
///     panels: Vec<Gc<'gc, Counter>>,
/// }
///
/// fn publish<'gc>(mc: &Mutation<'gc>, subject: &mut Subject<'gc>, event: u32) {
///     // Notify the live observers; forget the dropped ones.
///     subject.observers.retain(|w| match w.upgrade(mc) {
///         Some(observer) => {
///             mc[observer].notify(event);
///             true
///         }
///         None => false,
///     });
/// }
///
/// let mut heap: Heap<Subject<'static>> = Heap::new(|mc| {
///     let panels = vec![Gc::new(mc, Counter { seen: Cell::new(0) }), Gc::new(mc, Counter { seen: Cell::new(0) })];
///     let observers = panels.iter().map(|&p| unsize!(p => dyn Observer).downgrade()).collect();
///     Subject { observers, panels }
/// });
/// heap.mutate(|mc, subject| publish(mc, subject, 1));
/// heap.mutate(|_, subject| drop(subject.panels.remove(0))); // close the first panel
/// heap.collect();
/// heap.mutate(|mc, subject| {
///     publish(mc, subject, 10);
///     assert_eq!(subject.observers.len(), 1);
///     assert_eq!(mc[subject.panels[0]].seen.get(), 11);
/// });
/// ```
pub struct GcDynWeak<'gc, T: ?Sized + 'gc> {
    /// The object's address with `T`'s metadata for its type, or the
    /// [`dead`](super::dead) marker's address with the same metadata.
    /// Invariant: unless its address is `dead()`'s, as for [`GcDyn::ptr`];
    /// every collection rewrites its address (through `dyn_kind.rebuild`)
    /// with the object's new one, or with `dead()`'s if the object was not
    /// marked.
    ptr: NonNull<T>,
    /// As for [`GcDyn`]: the object type's kind and the rebuild function.
    dyn_kind: &'static DynKind,
    /// As for [`Gc`]: branded (invariant), invariant in `T`, neither
    /// `Send` nor `Sync`.
    _marker: PhantomData<(Invariant<'gc>, *mut T)>,
}

impl<'gc, T: ?Sized> GcDyn<'gc, T> {
    /// The object's address and type record, which
    /// [`from_parts`](Self::from_parts) turns back into the handle (at
    /// another brand: a handle held outside the heap).
    #[inline(always)]
    pub(in crate::heap) fn into_parts(self) -> (NonNull<u8>, &'static DynKind) {
        (self.ptr.cast(), self.dyn_kind)
    }

    /// The handle to the object at `ptr`, with the metadata `dyn_kind`'s
    /// coercion gives it.
    ///
    /// # Safety
    ///
    /// 1. `ptr` is the start of a live object of the heap branded `'gc`, of
    ///    the type `dyn_kind` was made for;
    /// 2. `dyn_kind` was made (by `__unsize`) for a `GcDyn<'_, U>` where
    ///    `U` is `T` up to lifetimes (so `rebuild` writes a pointer with the
    ///    layout of a `NonNull<T>`, whose metadata is the object's: lifetimes
    ///    change neither a layout nor a vtable).
    #[inline(always)]
    pub(in crate::heap) unsafe fn from_parts(ptr: NonNull<u8>, dyn_kind: &'static DynKind) -> Self {
        let mut out = core::mem::MaybeUninit::<NonNull<T>>::uninit();
        // SAFETY: 1. `out` is valid for writing a `NonNull<T>`, which has the
        // layout of the `NonNull<U>` that `rebuild` writes (caller, 2.); 2.
        // `rebuild` was made for the object's type at `ptr` (caller, 1.);
        // 3. it wrote `out` whole, so it is initialized.
        let ptr = unsafe {
            (dyn_kind.rebuild)(ptr, out.as_mut_ptr().cast::<()>());
            out.assume_init()
        };
        GcDyn {
            ptr,
            dyn_kind,
            _marker: PhantomData,
        }
    }

    /// A weak handle to the same object.
    #[inline(always)]
    pub fn downgrade(self) -> GcDynWeak<'gc, T> {
        GcDynWeak {
            ptr: self.ptr,
            dyn_kind: self.dyn_kind,
            _marker: PhantomData,
        }
    }
}

impl<'gc, T: ?Sized> GcDynWeak<'gc, T> {
    /// A handle to the object, unless a collection has dropped it.
    #[inline(always)]
    pub fn upgrade(self, mc: &Mutation<'gc>) -> Option<GcDyn<'gc, T>> {
        let _ = mc;
        if self.is_dropped() {
            return None;
        }
        // Not the dead marker, so a live object of the heap branded `'gc`
        // (field invariant), as a `GcDyn` holds.
        Some(GcDyn {
            ptr: self.ptr,
            dyn_kind: self.dyn_kind,
            _marker: PhantomData,
        })
    }

    /// Whether a collection has dropped the object.
    #[inline(always)]
    pub fn is_dropped(self) -> bool {
        self.ptr.cast::<u8>() == super::dead()
    }

    /// The address kept (the dead marker's once the object is dropped).
    #[inline(always)]
    pub(in crate::heap) fn ptr(self) -> NonNull<T> {
        self.ptr
    }
}

/// Makes a [`GcDyn`] from a [`Gc`]: `unsize!(gc => dyn Trait)` views the
/// handle's object as a `dyn Trait` (or `unsize!(gc => [T])` an array as a
/// slice).
///
/// The compiler checks the conversion: it accepts the types a `&C`
/// coerces to (the traits `C` implements, as trait objects, and slices of
/// arrays), so the trait object's vtable is always the object's own.
///
/// ```
/// use std::fmt::Debug;
/// use managed::prelude::*;
///
/// #[derive(Managed)]
/// struct Items<'gc> {
///     shown: Vec<GcDyn<'gc, dyn Debug>>,
///     bytes: Option<GcDyn<'gc, [u8]>>,
/// }
///
/// let mut heap: Heap<Items<'static>> = Heap::new(|_| Items { shown: Vec::new(), bytes: None });
/// heap.mutate(|mc, items| {
///     items.shown.push(unsize!(Gc::new(mc, 7u32) => dyn Debug));
///     items.shown.push(unsize!(Gc::new(mc, String::from("seven")) => dyn Debug));
///     let array = Gc::new(mc, [1u8, 2, 3]);
///     items.bytes = Some(unsize!(array => [u8]));
/// });
/// heap.read(|mc, items| {
///     assert_eq!(format!("{:?}", &mc[items.shown[1]]), r#""seven""#);
///     assert_eq!(mc[items.bytes.unwrap()].len(), 3);
/// });
/// ```
///
/// A type the object does not coerce to is refused:
///
/// ```compile_fail
/// use std::fmt::Display;
/// use managed::prelude::*;
///
/// #[derive(Managed)]
/// struct Opaque;
///
/// let mut heap: Heap<Vec<Gc<'static, Opaque>>> = Heap::new(|_| Vec::new());
/// heap.mutate(|mc, _| {
///     let _ = unsize!(Gc::new(mc, Opaque) => dyn Display); // `Opaque` is not `Display`
/// });
/// ```
#[macro_export]
macro_rules! unsize {
    ($gc:expr => $ty:ty) => {
        match $gc {
            gc => {
                // SAFETY: the coercion passed is `|p| p`, an unsizing or
                // identity coercion checked by the compiler.
                unsafe { $crate::heap::GcDyn::<'_, $ty>::__unsize(gc, |p| p) }
            }
        }
    };
}

// SAFETY: one direct reference, visited with its object's kind on a copy
// of its address (rule 1's second form): what the visitor leaves is the
// address the handle reads next, rebuilt by the handle's own coercion
// (`DynKind::rebuild`) so that it keeps the provenance the visitor gave it
// (an object may move to another chunk) and the metadata of the object's
// type, which a move does not change.
unsafe impl<T: ?Sized> Managed for GcDyn<'_, T> {
    const HAS_REFS: bool = true;

    #[inline(always)]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        let mut place = self.ptr.cast::<u8>();
        visitor.visit_gc(&mut place, self.dyn_kind.kind);
        // SAFETY: the handle's record was made for its `T` and coercion
        // (`__unsize`).
        unsafe { self.dyn_kind.write_back(&mut self.ptr, place) }
    }
}

// SAFETY: one weak reference, visited on a copy of its address and written
// back as `GcDyn`'s is: the address the visitor left (the object's new
// one, or the dead marker's, which is never dereferenced) with the
// handle's metadata, by the handle's own coercion.
unsafe impl<T: ?Sized> Managed for GcDynWeak<'_, T> {
    const HAS_REFS: bool = true;

    #[inline(always)]
    fn visit_refs<V: Visitor + ?Sized>(&mut self, visitor: &mut V) {
        let mut place = self.ptr.cast::<u8>();
        visitor.visit_weak(&mut place);
        // SAFETY: as in `GcDyn::visit_refs` (the record is the `GcDyn`'s).
        unsafe { self.dyn_kind.write_back(&mut self.ptr, place) }
    }
}
