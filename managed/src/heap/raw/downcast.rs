//! [`GcDyn::downcast`]: a trait-object handle back to its object's type,
//! for traits that have [`Downcast`] as a supertrait.
//!
//! An object's type carries the brand (`Camera<'gc>`), so `Any` and
//! `TypeId` cannot name it; its placeholder form (`Camera<'static>`, the
//! type a heap's root or a [`Held`](crate::heap::Held) names) can. The
//! sealed trait [`Downcast`] gives every object whose type `T` maps to a
//! placeholder `P = T::Root<'static>` with `P::Root<'gc> == T` a method
//! returning `TypeId::of::<P>()`; a downcast to `R` compares it with
//! `TypeId::of::<R>()`. Equal ids mean `R == P`, so `R::Root<'gc> ==
//! P::Root<'gc> == T`: the handle's object is an `R::Root<'gc>`, by the
//! type checker's own equalities, whatever the `Rootable` impls say.

use core::any::TypeId;

use crate::heap::{Gc, GcDyn, Handle, Mutation, Others, Rootable};

mod sealed {
    /// Keeps [`Downcast`](super::Downcast) implemented by its blanket impl
    /// only: its method is the whole safety argument of a downcast.
    pub trait Sealed<'gc> {}

    /// Keeps [`Reader`](super::Reader) implemented by the token and
    /// `Others` only.
    pub trait ReaderSealed {}
}

/// What objects can be read through during a mutation: the token
/// (`&Mutation<'gc>`), or the other objects of a
/// [`split_mut`](Mutation::split_mut) ([`Others`]), which refuse the
/// object split off. A helper that only reads takes `&impl Reader<'gc>`
/// and serves both: code inside [`Heap::read`](crate::heap::Heap::read) or
/// a mutation passes `mc`, a method working through a split passes
/// `&others`. [`GcDyn::downcast`] and [`GcDyn::is`] take either. Sealed.
///
/// ```
/// use managed::prelude::*;
///
/// #[derive(Managed)]
/// enum Expr<'gc> {
///     Number(f64),
///     Sum(Gc<'gc, Expr<'gc>>, Gc<'gc, Expr<'gc>>),
/// }
///
/// /// Evaluates an expression through the token or through `Others`.
/// fn eval<'gc>(r: &impl Reader<'gc>, e: Gc<'gc, Expr<'gc>>) -> f64 {
///     match *r.read(e) {
///         Expr::Number(n) => n,
///         Expr::Sum(a, b) => eval(r, a) + eval(r, b),
///     }
/// }
///
/// #[derive(Managed)]
/// struct Cell<'gc> {
///     formula: Gc<'gc, Expr<'gc>>,
///     value: f64,
/// }
///
/// let mut heap: Heap<Gc<'static, Cell<'static>>> = Heap::new(|mc| {
///     let one = Gc::new(mc, Expr::Number(1.0));
///     let two = Gc::new(mc, Expr::Number(2.0));
///     let formula = Gc::new(mc, Expr::Sum(one, two));
///     Gc::new(mc, Cell { formula, value: 0.0 })
/// });
/// heap.mutate(|mc, cell| {
///     let (cell, others) = mc.split_mut(*cell);
///     cell.value = eval(&others, cell.formula);
/// });
/// heap.read(|mc, cell| {
///     assert_eq!(mc[*cell].value, eval(mc, mc[*cell].formula));
///     assert_eq!(mc.get(*cell).map(|c| c.value), Some(3.0));
/// });
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot read the heap's objects",
    label = "expected the token or an `Others`",
    note = "pass the mutation's token (`mc`) or the `Others` of a `split_mut` (`&others`)"
)]
pub trait Reader<'gc>: sealed::ReaderSealed {
    /// The object of `handle` (a [`Gc`] or a [`GcDyn`]), or `None` where
    /// this view cannot read it: through [`Others`], the object split off.
    /// The token reads every object.
    #[must_use]
    fn get<H: Handle<'gc>>(&self, handle: H) -> Option<&H::Target>;

    /// The object of `handle`, as [`get`](Self::get).
    ///
    /// # Panics
    ///
    /// Where `get` gives `None` (through [`Others`], the object split
    /// off), at the caller's line.
    #[track_caller]
    #[must_use]
    fn read<H: Handle<'gc>>(&self, handle: H) -> &H::Target {
        match self.get(handle) {
            Some(object) => object,
            None => unreadable::<H::Target>(),
        }
    }
}

/// The panic of [`Reader::read`] on the object split off.
#[cold]
#[inline(never)]
#[track_caller]
fn unreadable<T: ?Sized>() -> ! {
    panic!(
        "Reader::read of the object split off by `split_mut` (a `{}`), through its `Others`",
        core::any::type_name::<T>()
    )
}

impl sealed::ReaderSealed for Mutation<'_> {}

impl<'gc> Reader<'gc> for Mutation<'gc> {
    #[inline(always)]
    fn get<H: Handle<'gc>>(&self, handle: H) -> Option<&H::Target> {
        // SAFETY: 1. `Handle`'s contract: the address of a live object of
        // this heap (the brand is this token's), in place while `'gc`
        // lasts; 2. a shared borrow of the token: no `&mut` to any object
        // is live (they all borrow the token exclusively), as for
        // `mc[gc]`.
        Some(unsafe { handle.ptr().as_ref() })
    }
}

impl sealed::ReaderSealed for Others<'_, '_> {}

impl<'gc> Reader<'gc> for Others<'_, 'gc> {
    #[inline(always)]
    fn get<H: Handle<'gc>>(&self, handle: H) -> Option<&H::Target> {
        Others::get(self, handle)
    }
}

/// The supertrait that lets a trait's objects be downcast:
/// `trait Component<'gc>: Downcast<'gc> { .. }` gives
/// `GcDyn<'gc, dyn Component<'gc>>` its [`downcast`](GcDyn::downcast) and
/// [`is`](GcDyn::is).
///
/// Every type `#[derive(Managed)]` derives for (with generics without
/// lifetime bounds) implements it, as do the std and leaf types the crate
/// makes `Rootable`; it is implemented by one blanket impl, for every `T`
/// whose placeholder form `T::Root<'static>` is `'static` and maps back to
/// `T` at the brand `'gc`. Sealed: no other impl can exist.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be downcast in the heap branded `'gc`",
    label = "not `Downcast`",
    note = "a trait object is `Downcast` when its trait has the supertrait: \
            `trait Component<'gc>: Downcast<'gc> {{ .. }}`",
    note = "the objects of such a trait must be `Rootable` at the brand: \
            write `#[derive(Managed)]` on their type (generics without lifetime bounds)"
)]
pub trait Downcast<'gc>: sealed::Sealed<'gc> {
    /// `TypeId::of::<Self::Root<'static>>()`: the id of the placeholder
    /// form of the object's type.
    #[doc(hidden)]
    fn __placeholder_type_id(&self) -> TypeId;
}

impl<'gc, T> sealed::Sealed<'gc> for T
where
    T: Rootable,
    T::Root<'static>: Rootable<Root<'gc> = T> + 'static,
{
}

impl<'gc, T> Downcast<'gc> for T
where
    T: Rootable,
    T::Root<'static>: Rootable<Root<'gc> = T> + 'static,
{
    #[inline]
    fn __placeholder_type_id(&self) -> TypeId {
        TypeId::of::<T::Root<'static>>()
    }
}

impl<'gc, T: ?Sized> GcDyn<'gc, T> {
    /// The object as its own type, `R` at the brand `'gc` (`R` names it at
    /// the placeholder brand, as a heap's root type or a `Held` does:
    /// `downcast::<Camera<'static>>` gives a `Gc<'gc, Camera<'gc>>`), or
    /// `None` if the object is of another type. It is read through the
    /// token (`downcast::<R>(mc)`), or through the [`Others`] of a
    /// [`split_mut`](Mutation::split_mut) (`downcast::<R>(&others)`,
    /// `None` for the object split off).
    ///
    /// The trait must have the supertrait [`Downcast<'gc>`](Downcast).
    ///
    /// ```
    /// use managed::prelude::*;
    ///
    /// trait Component<'gc>: Downcast<'gc> {
    ///     fn name(&self) -> &str;
    /// }
    ///
    /// #[derive(Managed)]
    /// struct Camera<'gc> {
    ///     zoom: f32,
    ///     target: Option<Gc<'gc, String>>,
    /// }
    ///
    /// #[derive(Managed)]
    /// struct Light {
    ///     lumens: u32,
    /// }
    ///
    /// impl<'gc> Component<'gc> for Camera<'gc> {
    ///     fn name(&self) -> &str { "camera" }
    /// }
    ///
    /// impl<'gc> Component<'gc> for Light {
    ///     fn name(&self) -> &str { "light" }
    /// }
    ///
    /// #[derive(Managed)]
    /// struct Scene<'gc> {
    ///     components: Vec<GcDyn<'gc, dyn Component<'gc>>>,
    /// }
    ///
    /// let mut heap: Heap<Scene<'static>> = Heap::new(|mc| {
    ///     let camera = Gc::new(mc, Camera { zoom: 1.0, target: None });
    ///     let light = Gc::new(mc, Light { lumens: 800 });
    ///     Scene { components: vec![unsize!(camera => dyn Component<'_>), unsize!(light => dyn Component<'_>)] }
    /// });
    /// heap.mutate(|mc, scene| {
    ///     for &c in &scene.components {
    ///         if let Some(camera) = c.downcast::<Camera<'static>>(mc) {
    ///             mc[camera].zoom *= 2.0;
    ///         }
    ///     }
    ///     let [camera, light] = [scene.components[0], scene.components[1]];
    ///     assert!(camera.is::<Camera<'static>>(mc) && !camera.is::<Light>(mc));
    ///     assert_eq!(light.downcast::<Light>(mc).map(|l| mc[l].lumens), Some(800));
    ///     assert_eq!(camera.downcast::<Camera<'static>>(mc).map(|c| mc[c].zoom), Some(2.0));
    /// });
    /// ```
    #[inline]
    #[must_use]
    pub fn downcast<R>(self, reader: &impl Reader<'gc>) -> Option<Gc<'gc, R::Root<'gc>>>
    where
        T: Downcast<'gc>,
        R: Rootable + 'static,
    {
        if !self.is::<R>(reader) {
            return None;
        }
        // SAFETY: the object's `Downcast` impl is the blanket one (sealed),
        // so it returned `TypeId::of::<P>()` for the object's type `O`,
        // where `P = O::Root<'static>` and `P::Root<'gc> == O`. The ids are
        // equal, so `R == P` and `R::Root<'gc> == O`: the address (the
        // start of a live object of this heap, the field invariant of
        // `GcDyn`) is that of a live `R::Root<'gc>`, as `Gc` requires.
        Some(unsafe { Gc::from_ptr(self.ptr().cast()) })
    }

    /// Whether the object is of the type `R` names (at the placeholder
    /// brand, as for [`downcast`](Self::downcast)); `false` for the object
    /// split off, read through its [`Others`].
    #[inline]
    #[must_use]
    pub fn is<R: Rootable + 'static>(self, reader: &impl Reader<'gc>) -> bool
    where
        T: Downcast<'gc>,
    {
        reader
            .get(self)
            .is_some_and(|object| Downcast::__placeholder_type_id(object) == TypeId::of::<R>())
    }
}
