//! The `unsafe impl ::managed::Managed` (`::managed`, or the path of
//! `#[managed(crate = "...")]`).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, WherePredicate, parse_quote};

use crate::ast::{Container, Data, Field};
use crate::attr;
use crate::bound;

/// Generates the `Managed` impl of a container.
pub(crate) fn expand(container: &Container<'_>) -> TokenStream {
    let ident = container.ident;
    let krate = &container.krate;
    let params = bound::type_params(container.generics);

    // Bounds: visited fields that mention a type parameter must be Managed
    // (a self-recursive field bounds the parameters it mentions instead,
    // which avoids an infinitely recursive requirement); plain and skipped
    // fields must be 'static, so that they cannot hide a branded reference
    // (the compiler checks this on the resolved type, whatever alias or
    // spelling the field uses).
    let mut generics = container.generics.clone();
    let mut predicates: Vec<WherePredicate> = Vec::new();
    let lifetimes: std::collections::HashSet<String> = container
        .generics
        .lifetimes()
        .map(|l| {
            l.lifetime
                .ident
                .to_string()
                .trim_start_matches("r#")
                .to_owned()
        })
        .collect();
    // `'static` checks of the plain and skipped fields that name none of
    // the container's generics, in the body: as where-clause predicates,
    // a higher-ranked function pointer's (`for<'a> fn(&mut Vm<'a>)`)
    // confuses the trait solver wherever the impl is used under a binder
    // (a heap root's `Rootable`), although it holds.
    let mut closed_checks: Vec<TokenStream> = Vec::new();
    for field in container.all_fields() {
        let ty = field.ty;
        if !field.visited() {
            if bound::mentions_generics(ty, &lifetimes, &params) {
                predicates.push(parse_quote!(#ty: 'static));
            } else {
                closed_checks.push(quote_spanned!(ty.span()=> __managed_static::<#ty>();));
            }
        } else if bound::is_recursive(ty, ident) {
            for param in bound::mentioned(ty, &params) {
                predicates.push(parse_quote!(#param: #krate::Managed));
            }
        } else if bound::mentions(ty, &params) {
            predicates.push(parse_quote!(#ty: #krate::Managed));
        }
    }
    generics.make_where_clause().predicates.extend(predicates);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();

    let has_refs = container
        .all_fields()
        .filter(|field| field.visited())
        .map(|field| {
            let ty = field.ty;
            if bound::is_recursive(ty, ident) {
                // Conservatively true: evaluating it would be a cycle.
                quote!(true)
            } else {
                let krate = attr::respanned(krate, ty.span());
                quote_spanned!(ty.span()=> <#ty as #krate::Managed>::HAS_REFS)
            }
        });

    let body = match &container.data {
        Data::Struct(fields) => {
            let (pattern, visits) = destructure(fields, krate);
            quote! {
                let Self #pattern = self;
                #visits
            }
        }
        Data::Enum(variants) if variants.is_empty() => quote!(match *self {}),
        Data::Enum(variants) => {
            let arms = variants.iter().map(|variant| {
                let name = variant.ident;
                let (pattern, visits) = destructure(&variant.fields, krate);
                quote!(Self::#name #pattern => { #visits })
            });
            quote!(match self { #(#arms)* })
        }
    };

    let static_checks = (!closed_checks.is_empty()).then(|| {
        quote! {
            /// Compiles only for a `'static` type (nothing runs).
            fn __managed_static<__ManagedT: ?::core::marker::Sized + 'static>() {}
            #(#closed_checks)*
        }
    });

    quote! {
        #[automatically_derived]
        // SAFETY (of the generated code): every visited field is visited
        // exactly once, in place; the others (plain or skipped) are
        // `'static` (by the impl's bounds, or by the body's checks of the
        // closed types), so they hold no branded managed reference;
        // `HAS_REFS` is the OR of the visited fields' own (or `true`).
        unsafe impl #impl_generics #krate::Managed for #ident #ty_generics #where_clause {
            const HAS_REFS: bool = false #(|| #has_refs)*;

            #[inline]
            fn visit_refs<__ManagedV: #krate::Visitor + ?::core::marker::Sized>(
                &mut self,
                __visitor: &mut __ManagedV,
            ) {
                #static_checks
                if !<Self as #krate::Managed>::HAS_REFS {
                    return;
                }
                #body
            }
        }
    }
}

/// A brace pattern binding every visited field (`{ a: __field0, .. }`) and
/// the statements visiting them.
fn destructure(fields: &[Field<'_>], krate: &syn::Path) -> (TokenStream, TokenStream) {
    let visited: Vec<(&Field<'_>, Ident)> = fields
        .iter()
        .filter(|field| field.visited())
        .enumerate()
        .map(|(i, field)| {
            (
                field,
                format_ident!("__field{}", i, span = Span::call_site()),
            )
        })
        .collect();
    let bindings = visited.iter().map(|(field, binding)| {
        let member = &field.member;
        quote!(#member: #binding)
    });
    let visits = visited.iter().map(|(field, binding)| {
        let ty = field.ty;
        let krate = attr::respanned(krate, ty.span());
        quote_spanned! {ty.span()=>
            <#ty as #krate::Managed>::visit_refs(#binding, __visitor);
        }
    });
    (quote!({ #(#bindings,)* .. }), quote!(#(#visits)*))
}
