//! `Rebrand` for derived types that hold region items.
//!
//! `managed::region::Arena::tokenize_all` turns a whole value holding
//! `Item<'a, _>`s into a token and redeems it as the same value holding
//! `Item<'b, _>`s; the value's type says how through
//! `managed::region::Rebrand` (`type Branded<'b>`: `Self` with its region
//! lifetime replaced). The *first* lifetime parameter of a type is its
//! region lifetime (a type without one brands to itself), and [`expand`]
//! generates:
//!
//! ```text
//! // SAFETY: ...
//! unsafe impl<'a, T> ::managed::region::Rebrand for Scene<'a, T>
//! where T: ::managed::Managed, /* the type's own where clause */
//! {
//!     type Branded<'__managed_b> = Scene<'__managed_b, T>;
//! }
//! const _: () = {
//!     // Every field's type, as the compiler sees it, named from the type.
//!     trait __Fields { type F0: ?Sized; type F1: ?Sized; /* ... */ }
//!     impl<'a, T> __Fields for Scene<'a, T> where /* as above */ {
//!         type F0 = Vec<Item<'a, T>>; // field 0, as written
//!         type F1 = Vec2;             // field 1, as written
//!     }
//!     fn check<'__managed_b, 'a, T>(_: PhantomData<Scene<'a, T>>)
//!     where T: ::managed::Managed, /* ... */
//!     {
//!         // A field written with the region lifetime: substituting it
//!         // must be what the field type's own `Rebrand` does.
//!         same::<<Scene<'__managed_b, T> as __Fields>::F0>(PhantomData::<fn(
//!             <<Scene<'a, T> as __Fields>::F0 as Rebrand>::Branded<'__managed_b>,
//!         ) -> /* the same */>);
//!         // Any other field: substituting must change nothing.
//!         same::<<Scene<'__managed_b, T> as __Fields>::F1>(PhantomData::<fn(
//!             <Scene<'a, T> as __Fields>::F1,
//!         ) -> /* the same */>);
//!     }
//! };
//! ```
//!
//! **Why the check is type-level.** The check is what makes the impl
//! sound: it only compiles if, for every field, the field's type in
//! `Branded<'b>` is the field's type in `Self` either rebranded by the
//! field type's own `Rebrand` impl (so every substituted lifetime is a
//! lifetime of region items, which the derived `Managed::visit_refs`
//! visits) or left unchanged. Both sides of each comparison name the field
//! through `__Fields`, whose impl is generic over the container's
//! lifetime: the *compiler* substitutes `'__managed_b` for the region
//! lifetime in the field type, after expanding type macros, resolving type
//! aliases and raw lifetimes (`'r#a` is `'a`) and `Self`. A region lifetime
//! that the spelling hides therefore still changes the field type at
//! `'__managed_b`, and the "unchanged" comparison between two independent
//! lifetimes `'a` and `'__managed_b` fails to compile ("lifetime may not
//! live long enough"). The syntactic look at each field (does it mention
//! the region lifetime, `Self`, or a macro whose tokens do) only chooses
//! which of the two comparisons to emit; a wrong choice is a compile error,
//! never an unchecked field. The "unchanged" comparison needs no `Rebrand`
//! impl, so ordinary `'static` user types (a `Vec2` without any impls) keep
//! working in rebranded structs.
//!
//! `'__managed_b` is left unbounded in the check: the container's where
//! clause and implied bounds enter only at the region lifetime `'a` (the
//! `PhantomData<Scene<'a, T>>` argument), so no bound can make `'a` and
//! `'__managed_b` equal and a comparison pass vacuously. A container whose
//! bounds constrain the region lifetime itself (`T: 'a`, `'a: 'x`) is
//! consequently rejected (the bound cannot be proved at `'__managed_b`).
//!
//! **Why a separate function.** The checks are not where-clauses on the
//! `Rebrand` impl, so that recursive types (`Node<'a>` holding
//! `Vec<Item<'a, Node<'a>>>`) do not overflow the trait solver: the check
//! function is type-checked once, with the impl already known. Type
//! parameters are kept unchanged: a region lifetime hidden in a type
//! argument is then simply not substituted, so the token keeps it and the
//! borrow checker keeps treating it as the old borrow (sound, and a compile
//! error if used across the compaction).
//!
//! Unions are rejected: their fields cannot be visited.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Data, DeriveInput, GenericParam, Lifetime, LifetimeParam, Type};

use crate::attr;
use crate::ctxt::Ctxt;

/// The `Rebrand` impl and its field check for `input`, or a spanned error
/// for a union.
pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let krate = attr::Container::from_ast(&cx, &input.attrs).krate;
    let fields: Vec<&Type> = match &input.data {
        Data::Struct(s) => s.fields.iter().map(|f| &f.ty).collect(),
        Data::Enum(e) => e
            .variants
            .iter()
            .flat_map(|v| v.fields.iter().map(|f| &f.ty))
            .collect(),
        Data::Union(u) => {
            cx.error_spanned_by(
                u.union_token,
                "#[derive(Rebrand)] does not support unions: the items in a union's \
                 fields cannot be found and visited; use a struct or an enum",
            );
            Vec::new()
        }
    };
    cx.check()?;
    // Without a lifetime parameter there is nothing to substitute:
    // `Branded<'b>` is `Self` (a region lifetime hidden in a type argument
    // stays, which is sound: see the module docs).
    let region = input
        .generics
        .lifetimes()
        .next()
        .map(|l| l.lifetime.clone());
    let fresh = Lifetime::new("'__managed_b", Span::call_site());
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();

    // The container's generic arguments with the region lifetime replaced.
    let branded_args: Vec<TokenStream> = input
        .generics
        .params
        .iter()
        .map(|p| match p {
            GenericParam::Lifetime(l) if Some(&l.lifetime) == region.as_ref() => quote!(#fresh),
            GenericParam::Lifetime(l) => {
                let lt = &l.lifetime;
                quote!(#lt)
            }
            GenericParam::Type(t) => {
                let id = &t.ident;
                quote!(#id)
            }
            GenericParam::Const(c) => {
                let id = &c.ident;
                quote!(#id)
            }
        })
        .collect();
    let managed_bounds: Vec<TokenStream> = input
        .generics
        .type_params()
        .map(|t| {
            let id = &t.ident;
            quote!(#id: #krate::Managed,)
        })
        .collect();
    let predicates = where_clause.map(|w| {
        let p = w.predicates.iter();
        quote!(#(#p,)*)
    });

    let rebrand_impl = quote! {
        #[automatically_derived]
        // SAFETY: 1. `Branded<'b>` is this type with its first lifetime
        // parameter (its region lifetime) replaced, nothing else changed;
        // 2. the check below only compiles if every field's type, with that
        // lifetime replaced by the compiler, is either unchanged or the
        // field type's own `Rebrand::Branded`, so every substituted lifetime
        // is a lifetime of region items, which the derived
        // `Managed::visit_refs` visits.
        unsafe impl #impl_generics #krate::region::Rebrand for #name #ty_generics
        where
            #(#managed_bounds)*
            #predicates
        {
            type Branded<#fresh> = #name<#(#branded_args),*>;
        }
    };
    let Some(region) = region else {
        return Ok(rebrand_impl);
    };

    let assoc: Vec<_> = (0..fields.len()).map(|i| format_ident!("F{}", i)).collect();
    let this = quote!(#name #ty_generics);
    let branded = quote!(#name<#(#branded_args),*>);
    let checks = fields.iter().zip(&assoc).map(|(ty, f)| {
        let at_fresh = quote!(<#branded as __ManagedRebrandFields>::#f);
        let at_region = quote!(<#this as __ManagedRebrandFields>::#f);
        let expected = if mentions(ty, &region) {
            quote!(<#at_region as #krate::region::Rebrand>::Branded<#fresh>)
        } else {
            at_region
        };
        // Spanned at the field's type, so that an error points at the
        // field that cannot be rebranded.
        quote_spanned! {ty.span()=>
            same::<#at_fresh>(::core::marker::PhantomData::<fn(#expected) -> #expected>);
        }
    });
    let mut check_generics = input.generics.clone();
    check_generics
        .params
        .insert(0, GenericParam::Lifetime(LifetimeParam::new(fresh.clone())));
    let (check_impl_generics, _, _) = check_generics.split_for_impl();

    Ok(quote! {
        #rebrand_impl

        const _: () = {
            /// The type of each field, named from the container's type, so
            /// that the compiler substitutes the region lifetime in it.
            #[allow(non_camel_case_types)]
            trait __ManagedRebrandFields {
                #(type #assoc: ?::core::marker::Sized;)*
            }

            #[automatically_derived]
            impl #impl_generics __ManagedRebrandFields for #name #ty_generics
            where
                #(#managed_bounds)*
                #predicates
            {
                #(type #assoc = #fields;)*
            }

            #[allow(dead_code, clippy::all, clippy::extra_unused_lifetimes)]
            fn __managed_rebrand_check #check_impl_generics (
                _: ::core::marker::PhantomData<#this>,
            )
            where
                #(#managed_bounds)*
                #predicates
            {
                fn same<T: ?::core::marker::Sized>(_: ::core::marker::PhantomData<fn(T) -> T>) {}
                #(#checks)*
            }
        };
    })
}

/// Whether `ty` is written with `lifetime` (raw or not), with `Self`, or
/// with a macro whose tokens contain the lifetime. This only chooses which
/// check a field gets; both are type-checked (see the module docs).
fn mentions(ty: &Type, lifetime: &Lifetime) -> bool {
    struct Finder<'l> {
        lifetime: &'l Lifetime,
        found: bool,
    }
    impl VisitMut for Finder<'_> {
        fn visit_lifetime_mut(&mut self, l: &mut Lifetime) {
            self.found |= same_lifetime(l, self.lifetime);
        }
        fn visit_type_path_mut(&mut self, p: &mut syn::TypePath) {
            self.found |=
                p.qself.is_none() && p.path.segments.first().is_some_and(|s| s.ident == "Self");
            syn::visit_mut::visit_type_path_mut(self, p);
        }
        fn visit_macro_mut(&mut self, m: &mut syn::Macro) {
            self.found |= tokens_mention(m.tokens.clone(), self.lifetime);
        }
    }
    let mut finder = Finder {
        lifetime,
        found: false,
    };
    finder.visit_type_mut(&mut ty.clone());
    finder.found
}

/// Whether two lifetimes are the same name (`'r#a` is `'a`).
fn same_lifetime(a: &Lifetime, b: &Lifetime) -> bool {
    a.ident.unraw() == b.ident.unraw()
}

/// Whether a token stream contains `lifetime` (a `'` joint with its name).
fn tokens_mention(tokens: TokenStream, lifetime: &Lifetime) -> bool {
    let mut after_quote = false;
    for tree in tokens {
        match tree {
            TokenTree::Group(g) => {
                if tokens_mention(g.stream(), lifetime) {
                    return true;
                }
                after_quote = false;
            }
            TokenTree::Punct(p) => after_quote = p.as_char() == '\'',
            TokenTree::Ident(id) => {
                if after_quote && id.unraw() == lifetime.ident.unraw() {
                    return true;
                }
                after_quote = false;
            }
            TokenTree::Literal(_) => after_quote = false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(src: &str) -> String {
        expand(&syn::parse_str(src).unwrap()).unwrap().to_string()
    }

    #[test]
    fn no_lifetime_brands_to_self() {
        let out = expand_str("struct A { x: u32 }");
        assert!(
            out.contains("type Branded < '__managed_b > = A < >"),
            "{out}"
        );
        let out = expand_str("struct B<T> { x: T }");
        assert!(
            out.contains("type Branded < '__managed_b > = B < T >"),
            "{out}"
        );
        assert!(!out.contains("same :: <"), "{out}");
    }

    #[test]
    fn unions_are_an_error() {
        let err = expand(&syn::parse_str("union U { x: u32 }").unwrap()).unwrap_err();
        assert!(err.to_string().contains("does not support unions"), "{err}");
    }

    #[test]
    fn every_field_is_checked_through_the_fields_trait() {
        let out = expand_str(
            "struct Scene<'a, 'id, T> { items: Vec<Item<'a, T>>, f: Forward<'id, u8>, n: u32 }",
        );
        assert!(
            out.contains("type Branded < '__managed_b > = Scene < '__managed_b , 'id , T >"),
            "{out}"
        );
        assert!(out.contains("type F0 = Vec < Item < 'a , T > >"), "{out}");
        // Field 0 mentions the region lifetime: checked against its own
        // `Rebrand`; fields 1 and 2 must be unchanged.
        assert!(
            out.contains(
                "fn (< < Scene < 'a , 'id , T > as __ManagedRebrandFields > :: F0 as :: managed :: region :: Rebrand > :: Branded < '__managed_b >)"
            ),
            "{out}"
        );
        for f in ["F1", "F2"] {
            assert!(
                out.contains(&format!(
                    "same :: < < Scene < '__managed_b , 'id , T > as __ManagedRebrandFields > :: {f} > (:: core :: marker :: PhantomData :: < fn (< Scene < 'a , 'id , T > as __ManagedRebrandFields > :: {f})"
                )),
                "{out}"
            );
        }
        assert!(out.contains("T : :: managed :: Managed"), "{out}");
    }

    #[test]
    fn enums_check_every_variant() {
        let out = expand_str("enum V<'a> { Num(i64), Pair(Item<'a, V<'a>>, Item<'a, V<'a>>) }");
        assert_eq!(out.matches("same :: <").count(), 3, "{out}");
        // Both variant fields, each in the argument and the return type.
        assert_eq!(
            out.matches("as :: managed :: region :: Rebrand > :: Branded < '__managed_b >")
                .count(),
            4,
            "{out}"
        );
    }

    #[test]
    fn spellings_that_hide_the_lifetime_are_still_seen_where_possible() {
        let a: Lifetime = syn::parse_str("'a").unwrap();
        let mentions_str = |src: &str| mentions(&syn::parse_str(src).unwrap(), &a);
        assert!(mentions_str("Item<'r#a, u32>"));
        assert!(mentions_str("Option<Box<Self>>"));
        assert!(mentions_str("items!('a)"));
        assert!(mentions_str("Vec<items!({ 'a })>"));
        assert!(!mentions_str("items!()"));
        assert!(!mentions_str("Item<'b, u32>"));
        assert!(!mentions_str("Vec2"));
    }
}
