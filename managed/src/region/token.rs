//! Tokens: what an [`Item`] (or a whole value holding items) becomes while
//! the region compacts, and the [`Rebrand`] trait that lets a value change
//! the lifetime of the items it holds.
//!
//! The `Rebrand` impls and the token types' machinery live in
//! `raw::token`.

use core::fmt;

use crate::visit::Managed;

#[cfg(doc)]
use super::{Arena, Item};

pub use super::raw::token::Token;

/// A value whose region references can be given a new lifetime.
///
/// `Self::Branded<'b>` is `Self` with its *region lifetime* (the lifetime
/// of the [`Item`]s it holds) replaced by `'b`, and nothing else changed.
/// [`Arena::tokenize_all`] uses it to turn a value that holds items of
/// lifetime `'a` into a token, and the token back into the same value
/// holding items of the lifetime of the arena borrow it is redeemed with.
///
/// It is implemented for `Item`, `Forward`, the reference-free leaf types,
/// and the std containers of [`Managed`]. Implement it for your own
/// `struct Scene<'a> { .. }` as `type Branded<'b> = Scene<'b>;`.
///
/// # Safety
///
/// 1. `Self::Branded<'b>` is the same type as `Self` except that the region
///    lifetime is `'b` (so the two have the same layout and validity).
/// 2. The region lifetime only bounds how long the region references inside
///    the value may be used: every lifetime substituted is a lifetime of
///    `Item`s, whose references [`Managed::visit_refs`] visits. A type with
///    another lifetime (`&'a str`, a borrow of something outside the
///    region) must keep that lifetime unchanged in `Branded<'b>`, and may
///    not implement `Rebrand` if it cannot.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `Rebrand`, so the region lifetime of the items inside it cannot be changed",
    label = "`{Self}` is not `Rebrand`",
    note = "add `#[derive(Managed, Rebrand)]` to the definition of `{Self}` (its first lifetime parameter is the region lifetime)"
)]
pub unsafe trait Rebrand: Managed + Sized {
    /// `Self` with its region lifetime replaced by `'b`.
    type Branded<'b>: Rebrand;
}

impl<E: Rebrand> fmt::Debug for Token<'_, '_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token").finish_non_exhaustive()
    }
}
