//! [`Rootable`]: how a heap names its root type at each mutation's brand.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;
#[cfg(feature = "std")]
use core::hash::{BuildHasher, Hash};
use core::marker::PhantomData;
#[cfg(feature = "std")]
use std::collections::{HashMap, HashSet};

use crate::visit::Managed;

/// A type that can be a [`Heap`](super::Heap)'s root: `Self::Root<'gc>` is
/// the type at the brand `'gc` of one mutation.
///
/// `#[derive(Managed)]` implements it for every type whose generics have
/// no lifetime bounds: for `struct Scene<'gc> { .. }`, `Root<'gc>` is
/// `Scene<'gc>` (the first lifetime parameter is the brand; other lifetime
/// parameters become `'static`, and type parameters must be `'static`).
/// The crate implements it for `Gc`, the std containers `Managed` covers
/// (`Vec<Gc<'static, Node<'static>>>` is a root), and the reference-free
/// leaf types (`Root<'gc> = Self`). The lifetime written in
/// `Heap<Scene<'static>>` is only a placeholder: the heap hands the root
/// out at a fresh brand in every mutation.
///
/// The trait is safe to implement: the heap only ever shows the root at a
/// brand that the mutation closure cannot relate to any other lifetime
/// (`for<'gc>`), so whatever `Root<'gc>` is, a value of it can only hold
/// `'static` data and handles of this heap, and lifetimes never change a
/// type's layout.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the root of a heap",
    label = "not `Rootable`",
    note = "write `#[derive(Managed)]` on the root type (its generics must have no lifetime bounds), \
            or implement `Rootable` with `type Root<'gc> = YourType<'gc>;`",
    note = "trait-object handles (`GcDyn`, `GcDynWeak`) sit in a root struct that derives `Managed`: \
            there `GcDyn<'gc, dyn Trait>` means `dyn Trait + 'gc`, as in your functions' signatures"
)]
pub trait Rootable {
    /// The root type at the brand `'gc`.
    type Root<'gc>: Managed;
}

/// The way back from a type at a brand to the type that names it at every
/// brand: for `Node<'gc>`, `Static` is `Node<'static>`, whose
/// [`Rootable::Root<'gc>`](Rootable::Root) is `Node<'gc>` again.
///
/// It lets [`Mutation::hold`](super::Mutation::hold) and
/// [`hold_weak`](super::Mutation::hold_weak) work out the handle's type
/// from the object's: `let cursor = mc.hold(node);` is a
/// `Held<Node<'static>>` without an annotation. `#[derive(Managed)]`
/// implements it wherever it implements `Rootable`, and the crate for the
/// same std types, leaf types and handles.
///
/// Safe to implement: `Static` is checked to name `Self` at the brand.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no type naming it at every brand",
    label = "not `Branded`",
    note = "write `#[derive(Managed)]` on the type (its generics must have no lifetime bounds)",
    note = "for a `Rootable` type without it (a map or a set), name the handle's type: \
            `mc.hold::<HashMap<u32, Gc<'static, Node<'static>>>>(gc)`"
)]
pub trait Branded<'gc>: Sized {
    /// The type naming `Self` at every brand (its brand written
    /// `'static`).
    type Static: Rootable<Root<'gc> = Self>;
}

/// Implements `Rootable` for types without a brand.
macro_rules! same {
    ($($t:ty),* $(,)?) => {$(
        impl Rootable for $t {
            type Root<'gc> = $t;
        }
    )*};
}

crate::visit::leaf_types!(same);

/// Implements `Branded` for types without a brand.
macro_rules! same_branded {
    ($($t:ty),* $(,)?) => {$(
        impl<'gc> Branded<'gc> for $t {
            type Static = $t;
        }
    )*};
}

crate::visit::leaf_types!(same_branded);

/// Implements `Branded` for a container of one type parameter whose
/// `Rootable` impl maps that parameter.
macro_rules! branded_container {
    ($($path:ident)::+) => {
        impl<'gc, T: Branded<'gc>> Branded<'gc> for $($path)::+<T> {
            type Static = $($path)::+<T::Static>;
        }
    };
}

branded_container!(Option);
branded_container!(Box);
branded_container!(core::cell::Cell);
branded_container!(core::cell::RefCell);
branded_container!(Vec);
branded_container!(VecDeque);
branded_container!(PhantomData);

impl<'gc, T: Branded<'gc>, const N: usize> Branded<'gc> for [T; N] {
    type Static = [T::Static; N];
}

impl<'gc, T: 'static> Branded<'gc> for crate::Static<T> {
    type Static = crate::Static<T>;
}

impl<T: Rootable> Rootable for Option<T> {
    type Root<'gc> = Option<T::Root<'gc>>;
}

impl<T: Rootable> Rootable for Box<T> {
    type Root<'gc> = Box<T::Root<'gc>>;
}

impl<T: Rootable> Rootable for core::cell::Cell<T> {
    type Root<'gc> = core::cell::Cell<T::Root<'gc>>;
}

impl<T: Rootable> Rootable for core::cell::RefCell<T> {
    type Root<'gc> = core::cell::RefCell<T::Root<'gc>>;
}

impl<T: Rootable> Rootable for Vec<T> {
    type Root<'gc> = Vec<T::Root<'gc>>;
}

impl<T: Rootable> Rootable for VecDeque<T> {
    type Root<'gc> = VecDeque<T::Root<'gc>>;
}

impl<T: Rootable, const N: usize> Rootable for [T; N] {
    type Root<'gc> = [T::Root<'gc>; N];
}

#[cfg(feature = "std")]
impl<K, T, S> Rootable for HashMap<K, T, S>
where
    K: Rootable,
    for<'gc> K::Root<'gc>: Eq + Hash,
    T: Rootable,
    S: BuildHasher + 'static,
{
    type Root<'gc> = HashMap<K::Root<'gc>, T::Root<'gc>, S>;
}

#[cfg(feature = "std")]
impl<K, S> Rootable for HashSet<K, S>
where
    K: Rootable,
    for<'gc> K::Root<'gc>: Eq + Hash,
    S: BuildHasher + 'static,
{
    type Root<'gc> = HashSet<K::Root<'gc>, S>;
}

impl<K, T> Rootable for BTreeMap<K, T>
where
    K: Rootable,
    for<'gc> K::Root<'gc>: Ord,
    T: Rootable,
{
    type Root<'gc> = BTreeMap<K::Root<'gc>, T::Root<'gc>>;
}

impl<K> Rootable for BTreeSet<K>
where
    K: Rootable,
    for<'gc> K::Root<'gc>: Ord,
{
    type Root<'gc> = BTreeSet<K::Root<'gc>>;
}

impl<T: 'static> Rootable for crate::Static<T> {
    type Root<'gc> = crate::Static<T>;
}

impl<T: Rootable, K: 'static> Rootable for crate::contiguous::ContiguousUniformPool<T, K> {
    type Root<'gc> = crate::contiguous::ContiguousUniformPool<T::Root<'gc>, K>;
}

impl<T: Rootable> Rootable for PhantomData<T> {
    type Root<'gc> = PhantomData<T::Root<'gc>>;
}

macro_rules! tuple {
    ($($name:ident)+) => {
        impl<$($name: Rootable),+> Rootable for ($($name,)+) {
            type Root<'gc> = ($($name::Root<'gc>,)+);
        }

        impl<'gc, $($name: Branded<'gc>),+> Branded<'gc> for ($($name,)+) {
            type Static = ($($name::Static,)+);
        }
    };
}

tuple!(A);
tuple!(A B);
tuple!(A B C);
tuple!(A B C D);
tuple!(A B C D E);
tuple!(A B C D E F);
tuple!(A B C D E F G);
tuple!(A B C D E F G H);

/// A type that names a trait-object type at every brand, for handles to
/// trait objects kept outside the heap ([`HeldDyn`](super::HeldDyn),
/// [`HeldDynWeak`](super::HeldDynWeak)): `<R as DynRootable<'gc>>::Root`
/// is the type at the brand `'gc` of one mutation, as
/// [`Rootable::Root`] is for a sized type.
///
/// A trait object's type cannot be named at a placeholder brand the way
/// `Node<'static>` names `Node<'gc>` (`dyn Widget<'static>` is another
/// trait), so it is named by [`dyn_rootable!`](crate::dyn_rootable):
/// `dyn_rootable!(for<'gc> dyn Widget<'gc> + 'gc)` is the type
/// `dyn for<'gc> DynRootable<'gc, Root = dyn Widget<'gc> + 'gc>`, which
/// implements the trait at every brand. Give it a name once with a `type`
/// alias.
///
/// The trait is safe to implement, for the reason given on [`Rootable`]:
/// one impl covers every brand, so `Root` at two brands differs only in
/// lifetimes, which change neither a layout nor a vtable.
pub trait DynRootable<'gc> {
    /// The type at the brand `'gc`.
    type Root: ?Sized + 'gc;
}

/// Names a trait-object type at every brand, for [`HeldDyn`](crate::heap::HeldDyn)
/// and [`HeldDynWeak`](crate::heap::HeldDynWeak): `dyn_rootable!(for<'gc>
/// dyn Widget<'gc> + 'gc)` is a type implementing
/// [`DynRootable<'gc>`](crate::heap::DynRootable) with `Root = dyn
/// Widget<'gc> + 'gc` at every `'gc`.
///
/// ```
/// use managed::prelude::*;
///
/// trait Widget<'gc> {
///     fn width(&self) -> u32;
/// }
///
/// /// Any widget, at any brand.
/// type AnyWidget = dyn_rootable!(for<'gc> dyn Widget<'gc> + 'gc);
///
/// struct App {
///     focus: Option<HeldDyn<AnyWidget>>,
/// }
/// # let _ = App { focus: None };
/// ```
#[macro_export]
macro_rules! dyn_rootable {
    (for<$gc:lifetime> $ty:ty) => {
        dyn for<$gc> $crate::heap::DynRootable<$gc, Root = $ty>
    };
}
