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
//!     fn check<'a, '__managed_b, T>() {
//!         // for each field type F that mentions 'a:
//!         same::<F['a := '__managed_b]>(PhantomData::<fn(<F as Rebrand>::Branded<'__managed_b>) -> ...>);
//!     }
//! };
//! ```
//!
//! The check is what makes the impl sound: it only compiles if every field
//! that mentions the region lifetime implements `Rebrand` by replacing
//! exactly that lifetime (so a field such as `&'a str`, which borrows
//! something outside the region, is a compile error). It is a separate
//! function rather than where-clauses on the impl so that recursive types
//! (`Node<'a>` holding `Vec<Item<'a, Node<'a>>>`) do not overflow the trait
//! solver. Type parameters are kept unchanged: a region lifetime hidden in
//! a type argument is then simply not substituted, so the token keeps it
//! and the borrow checker keeps treating it as the old borrow (sound, and a
//! compile error if used across the compaction).

use proc_macro2::TokenStream;
use quote::quote;
use syn::visit_mut::VisitMut;
use syn::{Data, DeriveInput, GenericParam, Lifetime, LifetimeParam, Type};

/// The `Rebrand` impl and its field check for `input` (nothing for a
/// union, whose fields cannot be visited).
pub(crate) fn expand(input: &DeriveInput) -> TokenStream {
    // Without a lifetime parameter there is nothing to substitute:
    // `Branded<'b>` is `Self` (a region lifetime hidden in a type argument
    // stays, which is sound: see the module docs).
    let region = input
        .generics
        .lifetimes()
        .next()
        .map(|l| l.lifetime.clone());
    let fields: Vec<&Type> = match &input.data {
        Data::Struct(s) => s.fields.iter().map(|f| &f.ty).collect(),
        Data::Enum(e) => e
            .variants
            .iter()
            .flat_map(|v| v.fields.iter().map(|f| &f.ty))
            .collect(),
        Data::Union(_) => return TokenStream::new(),
    };
    let fresh = Lifetime::new("'__managed_b", proc_macro2::Span::call_site());
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();

    let branded_args = input.generics.params.iter().map(|p| match p {
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
    });
    let managed_bounds = input.generics.type_params().map(|t| {
        let id = &t.ident;
        quote!(#id: ::managed::Managed,)
    });
    let predicates = where_clause.map(|w| {
        let p = w.predicates.iter();
        quote!(#(#p,)*)
    });

    let checks = fields.iter().filter_map(|ty| {
        let region = region.as_ref()?;
        if !mentions(ty, region) {
            return None;
        }
        let mut substituted = (*ty).clone();
        Substitute {
            from: region,
            to: &fresh,
        }
        .visit_type_mut(&mut substituted);
        Some(quote! {
            same::<#substituted>(::core::marker::PhantomData::<
                fn(
                    <#ty as ::managed::region::Rebrand>::Branded<#fresh>,
                ) -> <#ty as ::managed::region::Rebrand>::Branded<#fresh>,
            >);
        })
    });
    let mut check_generics = input.generics.clone();
    check_generics
        .params
        .insert(0, GenericParam::Lifetime(LifetimeParam::new(fresh.clone())));
    let (check_impl_generics, _, _) = check_generics.split_for_impl();
    let managed_bounds_check = input.generics.type_params().map(|t| {
        let id = &t.ident;
        quote!(#id: ::managed::Managed,)
    });

    quote! {
        #[automatically_derived]
        // SAFETY: 1. `Branded<'b>` is this type with its first lifetime
        // parameter (its region lifetime) replaced, nothing else changed;
        // 2. the check below only compiles if every field that mentions
        // that lifetime implements `Rebrand` by replacing exactly it, so
        // every substituted lifetime is a lifetime of region items, which
        // the derived `Managed::visit_refs` visits.
        unsafe impl #impl_generics ::managed::region::Rebrand for #name #ty_generics
        where
            #(#managed_bounds)*
            #predicates
        {
            type Branded<#fresh> = #name<#(#branded_args),*>;
        }

        const _: () = {
            #[allow(dead_code, clippy::all, clippy::extra_unused_lifetimes)]
            fn __managed_rebrand_check #check_impl_generics ()
            where
                #(#managed_bounds_check)*
                #predicates
            {
                fn same<T: ?::core::marker::Sized>(_: ::core::marker::PhantomData<fn(T) -> T>) {}
                #(#checks)*
            }
        };
    }
}

/// Whether `ty` mentions `lifetime` (walks a copy with the `visit-mut`
/// visitor, the one syn feature the workspace enables).
fn mentions(ty: &Type, lifetime: &Lifetime) -> bool {
    struct Finder<'l> {
        lifetime: &'l Lifetime,
        found: bool,
    }
    impl VisitMut for Finder<'_> {
        fn visit_lifetime_mut(&mut self, l: &mut Lifetime) {
            self.found |= l == self.lifetime;
        }
    }
    let mut finder = Finder {
        lifetime,
        found: false,
    };
    finder.visit_type_mut(&mut ty.clone());
    finder.found
}

/// Replaces one lifetime by another in a type.
struct Substitute<'l> {
    from: &'l Lifetime,
    to: &'l Lifetime,
}

impl VisitMut for Substitute<'_> {
    fn visit_lifetime_mut(&mut self, l: &mut Lifetime) {
        if l == self.from {
            *l = self.to.clone();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(src: &str) -> String {
        expand(&syn::parse_str(src).unwrap()).to_string()
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
        assert!(expand_str("union U { x: u32 }").is_empty());
    }

    #[test]
    fn first_lifetime_is_substituted_and_checked() {
        let out = expand_str(
            "struct Scene<'a, 'id, T> { items: Vec<Item<'a, T>>, f: Forward<'id, u8>, n: u32 }",
        );
        assert!(
            out.contains("type Branded < '__managed_b > = Scene < '__managed_b , 'id , T >"),
            "{out}"
        );
        assert!(
            out.contains("same :: < Vec < Item < '__managed_b , T > > >"),
            "{out}"
        );
        // Fields without the region lifetime are not checked.
        assert!(!out.contains("same :: < Forward"), "{out}");
        assert!(!out.contains("same :: < u32"), "{out}");
        assert!(out.contains("T : :: managed :: Managed"), "{out}");
    }

    #[test]
    fn enums_check_every_variant() {
        let out = expand_str("enum V<'a> { Num(i64), Pair(Item<'a, V<'a>>, Item<'a, V<'a>>) }");
        assert_eq!(
            out.matches("same :: < Item < '__managed_b , V < '__managed_b > > >")
                .count(),
            2,
            "{out}"
        );
    }
}
