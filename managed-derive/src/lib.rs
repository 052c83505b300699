//! `#[derive(Managed)]` for the `managed` crate.
use proc_macro::TokenStream;

/// Implements `managed::Managed`.
#[proc_macro_derive(Managed, attributes(managed))]
pub fn derive_managed(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
