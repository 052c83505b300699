//! Where-clause helpers: which fields mention the type's parameters.

use std::collections::HashSet;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::{GenericParam, Generics, Ident, Type};

/// The names of a container's type parameters.
pub(crate) fn type_params(generics: &Generics) -> HashSet<Ident> {
    generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Type(param) => Some(param.ident.clone()),
            _ => None,
        })
        .collect()
}

/// `true` when the tokens of `ty` contain one of `idents` (a conservative
/// answer: a path segment that merely shares a parameter's name counts).
pub(crate) fn mentions(ty: &Type, idents: &HashSet<Ident>) -> bool {
    fn walk(tokens: TokenStream, idents: &HashSet<Ident>) -> bool {
        tokens.into_iter().any(|token| match token {
            TokenTree::Ident(ident) => idents.contains(&ident),
            TokenTree::Group(group) => walk(group.stream(), idents),
            _ => false,
        })
    }
    !idents.is_empty() && walk(ty.to_token_stream(), idents)
}

/// The type parameters `ty` mentions.
pub(crate) fn mentioned<'p>(ty: &Type, params: &'p HashSet<Ident>) -> Vec<&'p Ident> {
    let mut found: Vec<&Ident> = params
        .iter()
        .filter(|param| mentions(ty, &HashSet::from([(*param).clone()])))
        .collect();
    found.sort();
    found
}

/// `true` when `ty` is *plain*: its tokens hold no lifetime but
/// `'static`, none of `params`, neither `Self` nor the container's name,
/// and no `!` (a macro call, or the never type).
///
/// A plain type cannot mention a lifetime of the container, so it cannot
/// hold a branded reference (those are never `'static` while their
/// objects can move). The test is conservative (any token that may hide
/// something makes the field visited instead) and only chooses the
/// strategy: the derive still requires `FieldType: 'static` of a plain
/// field, which the compiler checks on the resolved type.
///
/// Lifetimes a `for<'a, ..>` binder introduces (a function pointer
/// `for<'a> fn(&mut Mutation<'a>)`, a higher-ranked trait object) count as
/// `'static` from the binder on: they are not the container's, and the
/// `'static` requirement still covers whatever the field type turns out to
/// hold.
pub(crate) fn is_plain(ty: &Type, params: &HashSet<Ident>, container: &Ident) -> bool {
    fn walk(
        tokens: TokenStream,
        params: &HashSet<Ident>,
        container: &Ident,
        bound: &mut HashSet<String>,
    ) -> bool {
        let mut tokens = tokens.into_iter().peekable();
        while let Some(token) = tokens.next() {
            let plain = match token {
                TokenTree::Punct(punct) if punct.as_char() == '\'' => matches!(
                    tokens.next(),
                    Some(TokenTree::Ident(name)) if name == "static" || bound.contains(&name.to_string())
                ),
                TokenTree::Punct(punct) => punct.as_char() != '!',
                TokenTree::Ident(ident) if ident == "for" => {
                    // A binder: `for` `<` (`'` name `,`?)* `>`.
                    if matches!(tokens.peek(), Some(TokenTree::Punct(p)) if p.as_char() == '<') {
                        tokens.next();
                        loop {
                            match tokens.next() {
                                Some(TokenTree::Punct(p)) if p.as_char() == '>' => break true,
                                Some(TokenTree::Punct(p))
                                    if p.as_char() == '\'' || p.as_char() == ',' => {}
                                Some(TokenTree::Ident(name)) => {
                                    bound.insert(name.to_string());
                                }
                                // Anything else in a binder: not plain.
                                _ => break false,
                            }
                        }
                    } else {
                        true
                    }
                }
                TokenTree::Ident(ident) => {
                    !(params.contains(&ident) || ident == "Self" || ident == *container)
                }
                TokenTree::Group(group) => walk(group.stream(), params, container, bound),
                TokenTree::Literal(_) => true,
            };
            if !plain {
                return false;
            }
        }
        true
    }
    walk(ty.to_token_stream(), params, container, &mut HashSet::new())
}

/// `true` when the tokens of `ty` may name one of the container's generic
/// parameters (`lifetimes` by name, without the quote and any `r#`, or
/// `params`; `Self` and macros count, conservatively):
/// such a field's `'static` requirement goes in the impl's where clause
/// (only the impls at `'static` exist then); any other field's is checked
/// on its closed type in the impl's body.
pub(crate) fn mentions_generics(
    ty: &Type,
    lifetimes: &HashSet<String>,
    params: &HashSet<Ident>,
) -> bool {
    fn walk(tokens: TokenStream, lifetimes: &HashSet<String>, params: &HashSet<Ident>) -> bool {
        let mut tokens = tokens.into_iter();
        while let Some(token) = tokens.next() {
            let named = match token {
                TokenTree::Punct(punct) if punct.as_char() == '\'' => matches!(
                    tokens.next(),
                    Some(TokenTree::Ident(name))
                        if lifetimes.contains(name.to_string().trim_start_matches("r#"))
                ),
                // A macro's expansion may name anything; so may `Self`.
                TokenTree::Punct(punct) => punct.as_char() == '!',
                TokenTree::Ident(ident) => ident == "Self" || params.contains(&ident),
                TokenTree::Group(group) => walk(group.stream(), lifetimes, params),
                _ => false,
            };
            if named {
                return true;
            }
        }
        false
    }
    walk(ty.to_token_stream(), lifetimes, params)
}

/// `true` when `ty` names the container itself (`Self` or its name), so
/// that its `HAS_REFS` would be a cycle.
pub(crate) fn is_recursive(ty: &Type, container: &Ident) -> bool {
    let idents = HashSet::from([container.clone(), Ident::new("Self", container.span())]);
    mentions(ty, &idents)
}
