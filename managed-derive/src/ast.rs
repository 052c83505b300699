//! The input, as a model of containers, variants and fields.

use std::collections::HashSet;

use syn::{DeriveInput, Generics, Ident, Member, Type, Visibility};

use crate::attr;
use crate::bound;
use crate::ctxt::Ctxt;

/// A struct or enum deriving `Managed`.
pub(crate) struct Container<'a> {
    /// The type's name.
    pub(crate) ident: &'a Ident,
    /// The type's visibility (given to its field view).
    pub(crate) vis: &'a Visibility,
    /// The type's generics, with its where clause.
    pub(crate) generics: &'a Generics,
    /// Fields, by shape.
    pub(crate) data: Data<'a>,
    /// The runtime crate's path in the generated code.
    pub(crate) krate: syn::Path,
}

/// The body of a container.
pub(crate) enum Data<'a> {
    /// An enum's variants.
    Enum(Vec<Variant<'a>>),
    /// A struct's fields (named, tuple or none).
    Struct(Vec<Field<'a>>),
}

/// One variant of an enum.
pub(crate) struct Variant<'a> {
    /// The variant's name.
    pub(crate) ident: &'a Ident,
    /// Its fields.
    pub(crate) fields: Vec<Field<'a>>,
}

/// How `visit_refs` treats a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Visited: its type must implement `Managed`.
    Visited,
    /// Plain: its type is syntactically free of lifetimes (but `'static`),
    /// of the container's type parameters, of the container itself and of
    /// macros, so it cannot hold a branded reference; not visited, and the
    /// impl requires it to be `'static`, which the compiler checks after
    /// resolving every alias.
    Plain,
    /// `#[managed(skip)]`: not visited; the impl requires it to be
    /// `'static`.
    Skipped,
}

/// One field of a struct or variant.
pub(crate) struct Field<'a> {
    /// Its name or index.
    pub(crate) member: Member,
    /// Its `#[managed(...)]` attributes.
    pub(crate) attrs: attr::Field,
    /// Visited, plain or skipped.
    pub(crate) kind: Kind,
    /// Its type.
    pub(crate) ty: &'a Type,
    /// Its visibility.
    pub(crate) vis: &'a Visibility,
    /// The field as written, for error spans.
    pub(crate) original: &'a syn::Field,
}

impl<'a> Container<'a> {
    /// Builds the model, reporting unions and misplaced attributes; `None`
    /// for a union.
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let attrs = attr::Container::from_ast(cx, &input.attrs);
        let params = bound::type_params(&input.generics);
        let scope = Scope {
            container: &input.ident,
            params: &params,
        };
        let data = match &input.data {
            syn::Data::Struct(data) => Data::Struct(fields_from_ast(cx, &data.fields, &scope)),
            syn::Data::Enum(data) => Data::Enum(
                data.variants
                    .iter()
                    .map(|variant| {
                        attr::reject(cx, &variant.attrs, "an enum variant");
                        Variant {
                            ident: &variant.ident,
                            fields: fields_from_ast(cx, &variant.fields, &scope),
                        }
                    })
                    .collect(),
            ),
            syn::Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "`#[derive(Managed)]` does not support unions: which field holds a \
                     reference is not known, so its references cannot be visited",
                );
                return None;
            }
        };
        Some(Self {
            ident: &input.ident,
            vis: &input.vis,
            generics: &input.generics,
            data,
            krate: attrs.krate,
        })
    }

    /// Every field, of every variant.
    pub(crate) fn all_fields(&self) -> Box<dyn Iterator<Item = &Field<'a>> + '_> {
        match &self.data {
            Data::Struct(fields) => Box::new(fields.iter()),
            Data::Enum(variants) => Box::new(variants.iter().flat_map(|v| v.fields.iter())),
        }
    }
}

impl Field<'_> {
    /// `true` for the fields `visit_refs` visits.
    pub(crate) fn visited(&self) -> bool {
        self.kind == Kind::Visited
    }
}

/// What a field type is classified against.
struct Scope<'s> {
    /// The container's name (a field naming it is recursive).
    container: &'s Ident,
    /// The container's type parameters.
    params: &'s HashSet<Ident>,
}

/// The fields of a struct or variant, with their attributes read and their
/// kind decided.
fn fields_from_ast<'a>(cx: &Ctxt, fields: &'a syn::Fields, scope: &Scope<'_>) -> Vec<Field<'a>> {
    fields
        .iter()
        .enumerate()
        .map(|(i, field)| {
            let attrs = attr::Field::from_ast(cx, &field.attrs);
            let kind = if attrs.skip.is_some() {
                Kind::Skipped
            } else if bound::is_plain(&field.ty, scope.params, scope.container) {
                Kind::Plain
            } else {
                Kind::Visited
            };
            Field {
                member: field
                    .ident
                    .clone()
                    .map_or_else(|| Member::Unnamed(i.into()), Member::Named),
                attrs,
                kind,
                ty: &field.ty,
                vis: &field.vis,
                original: field,
            }
        })
        .collect()
}
