//! How derive-generated field accessors reach an object through a handle.
//!
//! `#[derive(Managed)]` on a struct generates a field-view type (one
//! `#[repr(transparent)]` wrapper around a handle) whose inherent methods
//! are the accessors `p.a()` / `p.set_a(v)`. Every handle that implements
//! [`Access`] dereferences to that view when its target implements
//! [`Fields`], so the accessors resolve by auto-deref, from any module,
//! with no trait to import.

/// A handle through which an object can be read and written by closure.
///
/// Implemented by [`Proxy`](super::Proxy) and
/// [`SimpleProxy`](super::SimpleProxy); the derive-generated accessors are
/// written against this trait.
pub trait Access {
    /// The type of the object the handle reaches.
    type Target;

    /// Runs `f` with a shared reference to the object.
    #[track_caller]
    fn with<R>(&self, f: impl FnOnce(&Self::Target) -> R) -> R;

    /// Runs `f` with an exclusive reference to the object.
    #[track_caller]
    fn with_mut<R>(&self, f: impl FnOnce(&mut Self::Target) -> R) -> R;

    /// [`with`](Self::with) for the derive-generated accessors and
    /// forwarded methods: `name` is the method the user called, which a
    /// panic names instead of `with`. Not part of the public API.
    #[doc(hidden)]
    #[inline]
    #[track_caller]
    fn __with_named<R>(&self, name: &'static str, f: impl FnOnce(&Self::Target) -> R) -> R {
        let _ = name;
        self.with(f)
    }

    /// [`with_mut`](Self::with_mut) for the derive-generated accessors and
    /// forwarded methods, as [`__with_named`](Self::__with_named). Not part
    /// of the public API.
    #[doc(hidden)]
    #[inline]
    #[track_caller]
    fn __with_mut_named<R>(&self, name: &'static str, f: impl FnOnce(&mut Self::Target) -> R) -> R {
        let _ = name;
        self.with_mut(f)
    }
}

/// Names the derive-generated field view of a type.
///
/// `#[derive(Managed)]` implements it for structs and enums; implement it
/// by hand only to give a hand-written type proxy accessors.
///
/// # Safety
///
/// For every sized `H`, `View<H>` must be a `#[repr(transparent)]` struct
/// whose one non-zero-sized field is an `H` (other fields zero-sized and
/// with alignment 1), so that a `&H` may be reinterpreted as a
/// `&View<H>`. Handles rely on this when they dereference to the view.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no proxy view: its accessors and forwarded methods are not generated",
    label = "`{Self}` does not derive `Managed`",
    note = "add `#[derive(Managed)]` to the definition of `{Self}`"
)]
pub unsafe trait Fields {
    /// The field view of a handle of type `H`.
    type View<H>;
}
