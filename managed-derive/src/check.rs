//! Rejects what the derive cannot generate sound, unambiguous code for.

use std::collections::HashMap;

use crate::accessors::{getter_name, setter_name};
use crate::ast::{Container, Data};
use crate::ctxt::Ctxt;

/// Methods every proxy has, which an accessor of the same name would be
/// hidden behind.
const PROXY_METHODS: &[&str] = &["with", "with_mut"];

/// Runs every check, reporting into `cx`.
pub(crate) fn check(cx: &Ctxt, container: &Container<'_>) {
    check_skip_rename(cx, container);
    check_enum_rename(cx, container);
    check_accessor_names(cx, container);
}

/// `rename` names an accessor, and skipped fields have none.
fn check_skip_rename(cx: &Ctxt, container: &Container<'_>) {
    for field in container.all_fields() {
        if let (Some(_), Some(rename)) = (field.attrs.skip, &field.attrs.rename) {
            cx.error_spanned_by(
                rename,
                "`rename` conflicts with `skip`: a skipped field gets no accessors to rename",
            );
        }
    }
}

/// Enums get no accessors (a field exists in one variant only).
fn check_enum_rename(cx: &Ctxt, container: &Container<'_>) {
    if let Data::Enum(_) = container.data {
        for field in container.all_fields() {
            if let Some(rename) = &field.attrs.rename {
                cx.error_spanned_by(
                    rename,
                    "`rename` names a proxy accessor, and enums get no accessors",
                );
            }
        }
    }
}

/// Two accessors with one name, or an accessor hidden by a proxy method.
fn check_accessor_names(cx: &Ctxt, container: &Container<'_>) {
    let Data::Struct(fields) = &container.data else {
        return;
    };
    let mut taken: HashMap<String, String> = HashMap::new();
    for field in fields.iter().filter(|field| field.visited()) {
        let getter = getter_name(field);
        let setter = setter_name(field);
        let label = match &field.member {
            syn::Member::Named(ident) => format!("field `{ident}`"),
            syn::Member::Unnamed(index) => format!("field {}", index.index),
        };
        let span_source = field.attrs.rename.as_ref().map_or_else(
            || quote::ToTokens::to_token_stream(&field.original),
            quote::ToTokens::to_token_stream,
        );
        if PROXY_METHODS.contains(&getter.to_string().as_str()) {
            cx.error_spanned_by(
                &span_source,
                format!(
                    "the accessor `{getter}` of {label} would be hidden by the proxies' own \
                     `{getter}` method: give it another name with `#[managed(rename = \"...\")]`"
                ),
            );
        }
        for name in [getter.to_string(), setter.to_string()] {
            if let Some(other) = taken.get(&name) {
                cx.error_spanned_by(
                    &span_source,
                    format!(
                        "the accessor `{name}` of {label} is also generated for {other}: \
                         give one of them another name with `#[managed(rename = \"...\")]`"
                    ),
                );
            } else {
                taken.insert(name, label.clone());
            }
        }
    }
}
