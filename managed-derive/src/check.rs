//! Rejects what the derive cannot generate sound, unambiguous code for.

use std::collections::HashMap;

use crate::accessors::{getter_name, lender_mut_name, lender_name, setter_name};
use crate::ast::{Container, Data};
use crate::ctxt::Ctxt;

/// Methods every proxy has, which an accessor of the same name would be
/// hidden behind.
pub(crate) const PROXY_METHODS: &[&str] = &["with", "with_mut"];

/// Runs every check, reporting into `cx`.
pub(crate) fn check(cx: &Ctxt, container: &Container<'_>) {
    check_rename_without_accessors(cx, container);
    check_enum_accessor_attributes(cx, container);
    check_accessor_names(cx, container);
}

/// `rename` names accessors, so it needs them.
fn check_rename_without_accessors(cx: &Ctxt, container: &Container<'_>) {
    for field in container.all_fields() {
        if let (false, Some(rename)) = (field.attrs.has_accessors(), &field.attrs.rename) {
            cx.error_spanned_by(
                rename,
                "`rename` conflicts with `accessors = false`: the field gets no accessors to \
                 rename",
            );
        }
    }
}

/// Enums get no field accessors (a field exists in one variant only).
fn check_enum_accessor_attributes(cx: &Ctxt, container: &Container<'_>) {
    if let Data::Enum(_) = container.data {
        for field in container.all_fields() {
            if let Some(rename) = &field.attrs.rename {
                cx.error_spanned_by(
                    rename,
                    "`rename` names a proxy accessor, and enums get no accessors",
                );
            }
            if let Some((_, span)) = field.attrs.accessors {
                cx.syn_error(syn::Error::new(
                    span,
                    "`accessors` controls proxy accessors, and enums get no accessors",
                ));
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
    for field in fields.iter().filter(|field| field.attrs.has_accessors()) {
        let label = match &field.member {
            syn::Member::Named(ident) => format!("field `{ident}`"),
            syn::Member::Unnamed(index) => format!("field {}", index.index),
        };
        let span_source = field.attrs.rename.as_ref().map_or_else(
            || quote::ToTokens::to_token_stream(&field.original),
            quote::ToTokens::to_token_stream,
        );
        let names = [
            getter_name(field),
            lender_name(field),
            lender_mut_name(field),
            setter_name(field),
        ];
        // Clashes with earlier fields, grouped by field, in order.
        let mut clashes: Vec<(String, Vec<String>)> = Vec::new();
        for name in names.map(|name| name.to_string()) {
            if PROXY_METHODS.contains(&name.as_str()) {
                cx.error_spanned_by(
                    &span_source,
                    format!(
                        "the accessor `{name}` of {label} would be hidden by the proxies' own \
                         `{name}` method: give the field's accessors another name with \
                         `#[managed(rename = \"...\")]`"
                    ),
                );
            } else if let Some(other) = taken.get(&name) {
                match clashes.iter_mut().find(|(field, _)| field == other) {
                    Some((_, names)) => names.push(name),
                    None => clashes.push((other.clone(), vec![name])),
                }
            } else {
                taken.insert(name, label.clone());
            }
        }
        for (other, names) in clashes {
            let (what, list) = match names.as_slice() {
                [one] => ("accessor", format!("`{one}`")),
                [rest @ .., last] => (
                    "accessors",
                    format!(
                        "{} and `{last}`",
                        rest.iter()
                            .map(|name| format!("`{name}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                [] => continue,
            };
            cx.error_spanned_by(
                &span_source,
                format!(
                    "the {what} {list} of {label} would also be generated for {other}: give \
                     one of the fields another accessor name with \
                     `#[managed(rename = \"...\")]`, or none with `#[managed(accessors = false)]`"
                ),
            );
        }
    }
}
