//! `Rootable` (and `Branded`) for derived types, so that any of them can be
//! a heap's root and held from outside it.
//!
//! `managed::heap::Heap<R>` stores its root at a placeholder brand and
//! hands it out at a fresh brand `'gc` in every mutation; `Rootable` names
//! the type at that brand. For a derived type, the first lifetime
//! parameter is the brand:
//!
//! ```text
//! impl<'__managed_x, T: 'static> ::managed::heap::Rootable for Scene<'__managed_x, 'static, T>
//! where for<'__managed_gc> Scene<'__managed_gc, 'static, T>: ::managed::Managed, /* own where clause */
//! {
//!     type Root<'__managed_gc> = Scene<'__managed_gc, 'static, T>;
//! }
//! ```
//!
//! Other lifetime parameters become `'static` and type parameters must be
//! `'static`: a root only ever holds `'static` data besides its handles.
//! Beside it, `Branded` goes the other way, from the type at a brand to
//! the one at the placeholder, so that `mc.hold(gc)` works out the `Held`
//! type:
//!
//! ```text
//! impl<'__managed_gc, T: 'static> ::managed::heap::Branded<'__managed_gc> for Scene<'__managed_gc, 'static, T>
//! where for<'__managed_x> Scene<'__managed_x, 'static, T>: ::managed::Managed, /* own where clause */
//! {
//!     type Static = Scene<'static, 'static, T>;
//! }
//! ```
//!
//! The impls are emitted only when the generics carry no lifetime bounds
//! (`'a: 'b`, `T: 'a`, or a where clause naming a lifetime), which the
//! substitution could break; such a type is simply not `Rootable`. The
//! traits are safe (see their docs), so nothing here is a soundness check.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::{DeriveInput, GenericParam, Lifetime};

/// The `Rootable` impl of `input`, naming the runtime crate `krate`, or
/// nothing when its generics have lifetime bounds.
pub(crate) fn expand(input: &DeriveInput, krate: &syn::Path) -> TokenStream {
    let generics = &input.generics;
    let bounded = generics.params.iter().any(|param| match param {
        GenericParam::Lifetime(l) => !l.bounds.is_empty(),
        GenericParam::Type(t) => t.bounds.iter().any(|b| has_lifetime(b.to_token_stream())),
        GenericParam::Const(_) => false,
    }) || generics
        .where_clause
        .as_ref()
        .is_some_and(|w| has_lifetime(w.to_token_stream()));
    if bounded {
        return TokenStream::new();
    }

    let name = &input.ident;
    let impl_brand = Lifetime::new("'__managed_x", Span::call_site());
    let gc = Lifetime::new("'__managed_gc", Span::call_site());
    let mut first = true;
    // The parameters other than the brand, and the arguments of the type
    // at the impl's brand, at `'gc` and at `'static`.
    let mut other_params = Vec::new();
    let mut self_args = Vec::new();
    let mut root_args = Vec::new();
    let mut static_args = Vec::new();
    for param in &generics.params {
        match param {
            GenericParam::Lifetime(_) if first => {
                first = false;
                self_args.push(quote!(#impl_brand));
                root_args.push(quote!(#gc));
                static_args.push(quote!('static));
            }
            GenericParam::Lifetime(_) => {
                self_args.push(quote!('static));
                root_args.push(quote!('static));
                static_args.push(quote!('static));
            }
            GenericParam::Type(t) => {
                let id = &t.ident;
                let bounds = &t.bounds;
                let colon = (!bounds.is_empty()).then(|| quote!(+));
                other_params.push(quote!(#id: 'static #colon #bounds));
                self_args.push(quote!(#id));
                root_args.push(quote!(#id));
                static_args.push(quote!(#id));
            }
            GenericParam::Const(c) => {
                let id = &c.ident;
                let ty = &c.ty;
                other_params.push(quote!(const #id: #ty));
                self_args.push(quote!(#id));
                root_args.push(quote!(#id));
                static_args.push(quote!(#id));
            }
        }
    }
    // `Rootable` for the type at any brand (`'__managed_x`), `Branded` for
    // it at the brand `'gc`; a type without a lifetime is its own root.
    let impl_params: Vec<TokenStream> = (!first)
        .then(|| quote!(#impl_brand))
        .into_iter()
        .chain(other_params.iter().cloned())
        .collect();
    let predicates = generics.where_clause.as_ref().map(|w| {
        let p = w.predicates.iter();
        quote!(#(#p,)*)
    });
    quote! {
        #[automatically_derived]
        impl<#(#impl_params),*> #krate::heap::Rootable for #name<#(#self_args),*>
        where
            for<#gc> #name<#(#root_args),*>: #krate::Managed,
            #predicates
        {
            type Root<#gc> = #name<#(#root_args),*>;
        }

        #[automatically_derived]
        impl<#gc, #(#other_params),*> #krate::heap::Branded<#gc> for #name<#(#root_args),*>
        where
            for<#impl_brand> #name<#(#self_args),*>: #krate::Managed,
            #predicates
        {
            type Static = #name<#(#static_args),*>;
        }
    }
}

/// Whether a token stream contains a lifetime.
fn has_lifetime(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|token| match token {
        TokenTree::Punct(p) => p.as_char() == '\'',
        TokenTree::Group(g) => has_lifetime(g.stream()),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(src: &str) -> String {
        expand(
            &syn::parse_str(src).unwrap(),
            &crate::attr::default_crate_path(),
        )
        .to_string()
    }

    #[test]
    fn the_first_lifetime_is_the_brand() {
        let out = expand_str("struct Scene<'a, 'b, T: Clone, const N: usize> { x: T }");
        assert!(
            out.contains(
                "impl < '__managed_x , T : 'static + Clone , const N : usize > :: managed :: heap :: Rootable \
                 for Scene < '__managed_x , 'static , T , N >"
            ),
            "{out}"
        );
        assert!(
            out.contains("type Root < '__managed_gc > = Scene < '__managed_gc , 'static , T , N >"),
            "{out}"
        );
        assert!(
            out.contains(
                "impl < '__managed_gc , T : 'static + Clone , const N : usize > :: managed :: heap :: Branded < '__managed_gc > \
                 for Scene < '__managed_gc , 'static , T , N >"
            ),
            "{out}"
        );
        assert!(
            out.contains("type Static = Scene < 'static , 'static , T , N >"),
            "{out}"
        );
    }

    #[test]
    fn no_lifetime_roots_to_itself() {
        let out = expand_str("struct Counter { hits: u64 }");
        assert!(
            out.contains("type Root < '__managed_gc > = Counter < >"),
            "{out}"
        );
    }

    #[test]
    fn lifetime_bounds_emit_nothing() {
        assert!(expand_str("struct A<'a, 'b: 'a> { x: &'a &'b u8 }").is_empty());
        assert!(expand_str("struct B<'a, T: 'a> { x: &'a T }").is_empty());
        assert!(expand_str("struct C<'a, T> where T: 'a { x: &'a T }").is_empty());
    }
}
