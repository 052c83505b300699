//! `#[derive(Managed)]`, `#[derive(Rebrand)]` and `#[managed::forward]` for
//! the `managed-memory` crate (whose library is `managed`).
//!
//! Depend on `managed-memory`, which re-exports all three: their
//! documentation, with the attributes they accept, is on the re-exports
//! `managed::Managed`, `managed::region::Rebrand` and `managed::forward`.

// The crate is laid out like `serde_derive`: `ast` turns the input into a
// model of containers, variants and fields, reading their attributes with
// `attr`; `check` rejects what the model cannot express; the `managed_impl`
// and `accessors` modules generate code from the model, using the
// where-clause helpers of `bound`. Errors are accumulated in a `ctxt::Ctxt`
// and reported together, each with its span. `forward` is the
// `#[managed::forward]` attribute, which adds methods to the field view
// `accessors` generates; `region` derives `Rebrand`, `root` the heap's
// `Rootable` and `Branded`.

mod accessors;
mod ast;
mod attr;
mod bound;
mod check;
mod ctxt;
mod forward;
mod managed_impl;
mod region;
mod root;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Implements `managed::Managed` and generates proxy field accessors; see
/// the documentation of `managed::Managed` (the derive re-export).
#[proc_macro_derive(Managed, attributes(managed))]
pub fn derive_managed(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Implements `managed::region::Rebrand` for a type whose first lifetime
/// parameter is the region lifetime, so a whole struct of arena items can
/// be tokenized and redeemed at the new lifetime; see the documentation of
/// `managed::region::Rebrand`.
#[proc_macro_derive(Rebrand, attributes(managed))]
pub fn derive_rebrand(input: TokenStream) -> TokenStream {
    region::expand(&parse_macro_input!(input as DeriveInput))
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Forwards the `&self` / `&mut self` methods of an inherent `impl` block
/// to every handle of the type (`p.method(..)` on a proxy borrows the
/// object as `with` / `with_mut` do); see the documentation of the
/// re-export `managed::forward`.
#[proc_macro_attribute]
pub fn forward(attr: TokenStream, item: TokenStream) -> TokenStream {
    forward::expand(attr.into(), item.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Parses, checks and generates, reporting every error found.
fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let cx = ctxt::Ctxt::new();
    let container = ast::Container::from_ast(&cx, input);
    if let Some(container) = &container {
        check::check(&cx, container);
    }
    cx.check()?;
    let Some(container) = container else {
        // `from_ast` only fails after reporting an error.
        return Ok(proc_macro2::TokenStream::new());
    };
    let managed = managed_impl::expand(&container);
    let accessors = accessors::expand(&container);
    let root = root::expand(input, &container.krate);
    Ok(quote::quote! {
        #managed
        #accessors
        #root
    })
}
