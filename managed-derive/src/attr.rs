//! `#[managed(...)]` attributes.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, LitBool, LitStr, Path, Token, parse_quote};

use crate::ctxt::Ctxt;

/// The name of this derive's attribute.
const MANAGED: &str = "managed";

/// What the malformed-attribute errors suggest.
const EXPECTED: &str = "expected `skip`, `rename = \"...\"` or `accessors = false`";

/// Attributes of one field.
#[derive(Default)]
pub(crate) struct Field {
    /// `#[managed(skip)]`, with the span of `skip`.
    pub(crate) skip: Option<Span>,
    /// `#[managed(rename = "name")]`: the accessor name, spanned at the string.
    pub(crate) rename: Option<Ident>,
    /// `#[managed(accessors = ...)]`: the value, spanned at `accessors`.
    pub(crate) accessors: Option<(bool, Span)>,
}

impl Field {
    /// Whether the field gets accessors (`accessors = false` removes them).
    pub(crate) fn has_accessors(&self) -> bool {
        self.accessors.is_none_or(|(value, _)| value)
    }

    /// Reads the `#[managed(...)]` attributes of a field, reporting
    /// malformed, unknown and repeated ones.
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut field = Self::default();
        for attr in attrs.iter().filter(|attr| attr.path().is_ident(MANAGED)) {
            if let Err(error) = attr.meta.require_list() {
                cx.syn_error(syn::Error::new(
                    error.span(),
                    "expected `#[managed(skip)]`, `#[managed(rename = \"...\")]` or \
                     `#[managed(accessors = false)]`",
                ));
                continue;
            }
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("skip") {
                    if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                        return Err(meta.error("`skip` takes no value: write `#[managed(skip)]`"));
                    }
                    if field.skip.is_some() {
                        cx.error_spanned_by(&meta.path, "duplicate managed attribute `skip`");
                    } else {
                        field.skip = Some(meta.path.span());
                    }
                    Ok(())
                } else if meta.path.is_ident("rename") {
                    let lit: LitStr = meta
                        .value()
                        .and_then(|value| value.parse())
                        .map_err(|_| meta.error("expected `rename = \"accessor_name\"`"))?;
                    let name = accessor_ident(&lit)?;
                    if field.rename.is_some() {
                        cx.error_spanned_by(&meta.path, "duplicate managed attribute `rename`");
                    } else {
                        field.rename = Some(name);
                    }
                    Ok(())
                } else if meta.path.is_ident("accessors") {
                    let value: LitBool =
                        meta.value().and_then(|value| value.parse()).map_err(|_| {
                            meta.error("expected `accessors = false` or `accessors = true`")
                        })?;
                    if field.accessors.is_some() {
                        cx.error_spanned_by(&meta.path, "duplicate managed attribute `accessors`");
                    } else {
                        field.accessors = Some((value.value, meta.path.span()));
                    }
                    Ok(())
                } else {
                    let path = &meta.path;
                    let name = quote::ToTokens::to_token_stream(path)
                        .to_string()
                        .replace(' ', "");
                    Err(syn::Error::new_spanned(
                        path,
                        format!("unknown managed attribute `{name}`: {EXPECTED}"),
                    ))
                }
            });
            if let Err(error) = result {
                cx.syn_error(error);
            }
        }
        field
    }
}

/// The identifier a `rename` string names, or an error at the string.
fn accessor_ident(lit: &LitStr) -> syn::Result<Ident> {
    let value = lit.value();
    match syn::parse_str::<Ident>(&value) {
        Ok(_) if !value.starts_with("r#") => Ok(Ident::new(&value, lit.span())),
        _ => Err(syn::Error::new(
            lit.span(),
            format!("`{value}` is not a valid accessor name: expected a non-keyword identifier"),
        )),
    }
}

/// Reports every `#[managed(...)]` on an item that takes none (an enum
/// variant).
pub(crate) fn reject(cx: &Ctxt, attrs: &[Attribute], what: &str) {
    for attr in attrs.iter().filter(|attr| attr.path().is_ident(MANAGED)) {
        cx.error_spanned_by(
            attr,
            format!("`#[managed(...)]` is not supported on {what}: it applies to fields only"),
        );
    }
}

/// Attributes of the type being derived.
pub(crate) struct Container {
    /// `#[managed(crate = "path")]`: the path of the runtime crate in the
    /// generated code (`::managed` by default).
    pub(crate) krate: Path,
}

impl Container {
    /// Reads the `#[managed(...)]` attributes of a type, reporting
    /// malformed, unknown and repeated ones.
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut krate = None;
        for attr in attrs.iter().filter(|attr| attr.path().is_ident(MANAGED)) {
            if let Err(error) = attr.meta.require_list() {
                cx.syn_error(syn::Error::new(
                    error.span(),
                    "expected `#[managed(crate = \"path\")]` on a type",
                ));
                continue;
            }
            let result = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("crate") {
                    let path = crate_path(&meta)?;
                    if krate.is_some() {
                        cx.error_spanned_by(&meta.path, "duplicate managed attribute `crate`");
                    } else {
                        krate = Some(path);
                    }
                    Ok(())
                } else {
                    let name = quote::ToTokens::to_token_stream(&meta.path)
                        .to_string()
                        .replace(' ', "");
                    let hint = if ["skip", "rename", "accessors"].contains(&name.as_str()) {
                        format!("`{name}` applies to fields, not to a type")
                    } else {
                        format!("unknown managed attribute `{name}` on a type")
                    };
                    Err(syn::Error::new_spanned(
                        &meta.path,
                        format!(
                            "{hint}: a type takes only `#[managed(crate = \"path\")]`, the \
                             path of the `managed` crate where the dependency is renamed"
                        ),
                    ))
                }
            });
            if let Err(error) = result {
                cx.syn_error(error);
            }
        }
        Self {
            krate: krate.unwrap_or_else(default_crate_path),
        }
    }
}

/// `::managed`, the runtime crate's path when no `crate = "..."` says
/// otherwise.
pub(crate) fn default_crate_path() -> Path {
    parse_quote!(::managed)
}

/// `path` with every token spanned at `span`, so that an error about what
/// the generated code names points where the rest of it does.
pub(crate) fn respanned(path: &Path, span: Span) -> proc_macro2::TokenStream {
    quote::ToTokens::to_token_stream(path)
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}

/// The value of `crate = "path"` (its tokens spanned at the string), or an
/// error at the value.
pub(crate) fn crate_path(meta: &ParseNestedMeta<'_>) -> syn::Result<Path> {
    let lit: LitStr = meta
        .value()
        .and_then(|value| value.parse())
        .map_err(|_| meta.error("expected `crate = \"path\"`, as in `crate = \"managed\"`"))?;
    lit.parse_with(Path::parse_mod_style).map_err(|_| {
        syn::Error::new(
            lit.span(),
            format!(
                "`{}` is not a path: expected the path of the `managed` crate, as in \
                 `crate = \"managed\"` or `crate = \"::my_renamed_managed\"`",
                lit.value()
            ),
        )
    })
}
