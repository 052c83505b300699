//! `#[managed::forward]`: an inherent `impl` block's methods, forwarded to
//! every handle of the type.
//!
//! ```text
//! #[managed::forward]
//! impl Particle {
//!     pub fn energy(&self) -> f32 { .. }
//!     pub fn push(&mut self, f: Vec2) { .. }
//! }
//! ```
//!
//! expands to the block itself and, on the field view that
//! `#[derive(Managed)]` generated for `Particle` (the type every handle
//! dereferences to), one method per forwarded method:
//!
//! ```text
//! impl<__ManagedH> __ParticleManagedFields<__ManagedH>
//! where __ManagedH: ::managed::contiguous::Access<Target = Particle>,
//! {
//!     #[inline] #[track_caller]
//!     pub fn energy(&self) -> f32 {
//!         Access::__with_named(Self::__managed_handle(self), "energy", |o| <Particle>::energy(o))
//!     }
//!     #[inline] #[track_caller]
//!     pub fn push(&self, f: Vec2) {
//!         Access::__with_mut_named(Self::__managed_handle(self), "push", |o| <Particle>::push(o, f))
//!     }
//! }
//! ```
//!
//! `&self` methods borrow the object as `with` does, `&mut self` methods as
//! `with_mut` does (through the handle's hidden named entry points, so that
//! a panic names the forwarded method, not `with`); each keeps its
//! visibility, docs and generics. Methods
//! without a `&self`/`&mut self` receiver are left alone. What cannot be
//! forwarded is a spanned error: a method returning a borrow of the object
//! (it would outlive the access), an `async` or `unsafe` method, one named
//! like the handles' own `with`/`with_mut`, and `impl Trait for ..` blocks.
//! `#[forward(skip)]` on a method leaves it out.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{
    Attribute, Expr, ExprPath, FnArg, GenericParam, Ident, ImplItem, ImplItemFn, ItemImpl, Pat,
    PathArguments, QSelf, ReturnType, Token, Type, TypePath, parse_quote,
};

use crate::accessors::view_name;
use crate::attr;
use crate::check::PROXY_METHODS;
use crate::ctxt::Ctxt;

/// The name of the helper attribute on methods.
const FORWARD: &str = "forward";

/// Expands `#[managed::forward]` on `item`, reporting every error found.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let cx = Ctxt::new();
    let krate = crate_argument(&cx, attr);
    let mut block: ItemImpl = syn::parse2(item)?;
    if let Some((_, path, _)) = &block.trait_ {
        cx.error_spanned_by(
            path,
            "`#[managed::forward]` forwards inherent methods: put it on an `impl Type { .. }` \
             block, not on a trait impl",
        );
    }
    let view = view_path(&cx, &block.self_ty);
    let self_ty = (*block.self_ty).clone();
    let mut forwarded = Vec::new();
    for item in &mut block.items {
        let ImplItem::Fn(method) = item else {
            continue;
        };
        if take_skip(&cx, &mut method.attrs) {
            continue;
        }
        if let Some(method) = forward_method(&cx, method, &self_ty, &krate) {
            forwarded.push(method);
        }
    }
    if let Err(errors) = cx.check() {
        // The block itself still compiles (without the helper attributes),
        // so the errors are only the ones reported here.
        let errors = errors.into_compile_error();
        return Ok(quote!(#errors #block));
    }
    let Some(view) = view else {
        return Ok(block.into_token_stream());
    };
    if forwarded.is_empty() {
        return Ok(block.into_token_stream());
    }
    let mut generics = block.generics.clone();
    generics
        .params
        .push(GenericParam::Type(parse_quote!(__ManagedH)));
    generics
        .make_where_clause()
        .predicates
        .push(parse_quote!(__ManagedH: #krate::contiguous::Access<Target = #self_ty>));
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    // Names what is missing when the type does not derive `Managed` (the
    // view would not exist): `Fields` says to add the derive.
    let (check_generics, _, check_where) = block.generics.split_for_impl();
    let krate_at_ty = attr::respanned(&krate, self_ty.span());
    let check = quote_spanned! {self_ty.span()=>
        const _: () = {
            fn __managed_forward_needs_the_derive #check_generics () #check_where {
                fn needs<T: ?::core::marker::Sized + #krate_at_ty::contiguous::Fields>() {}
                needs::<#self_ty>();
            }
        };
    };
    Ok(quote! {
        #block

        #check

        // `dead_code`: a method may be called on the object only, never
        // through a handle.
        #[allow(clippy::needless_lifetimes, non_snake_case, dead_code)]
        impl #impl_generics #view<__ManagedH> #where_clause {
            #(#forwarded)*
        }
    })
}

/// The runtime crate's path from the attribute's arguments: empty, or
/// `crate = "path"` (`#[managed::forward(crate = "mm")]` where the crate is
/// renamed `mm`).
fn crate_argument(cx: &Ctxt, attr: TokenStream) -> syn::Path {
    let mut krate = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            let path = attr::crate_path(&meta)?;
            if krate.is_some() {
                return Err(meta.error("duplicate argument `crate`"));
            }
            krate = Some(path);
            Ok(())
        } else {
            Err(meta.error(
                "`#[managed::forward]` takes one optional argument, `crate = \"path\"`: the \
                 path of the `managed` crate where the dependency is renamed",
            ))
        }
    });
    if let Err(error) = syn::parse::Parser::parse2(parser, attr) {
        cx.syn_error(error);
    }
    krate.unwrap_or_else(attr::default_crate_path)
}

/// The path of the field view of `self_ty`: its path with the last segment
/// renamed as `#[derive(Managed)]` names the view, without arguments.
fn view_path(cx: &Ctxt, self_ty: &Type) -> Option<syn::Path> {
    let Type::Path(TypePath { qself: None, path }) = self_ty else {
        cx.error_spanned_by(
            self_ty,
            "`#[managed::forward]` needs an `impl` block of a named struct or enum that \
             derives `Managed`",
        );
        return None;
    };
    let mut view = path.clone();
    let last = view.segments.last_mut()?;
    last.ident = view_name(&last.ident);
    last.arguments = PathArguments::None;
    Some(view)
}

/// Removes the method's `#[forward(skip)]`; `true` if there was one.
/// Reports malformed `#[forward(..)]` attributes.
fn take_skip(cx: &Ctxt, attrs: &mut Vec<Attribute>) -> bool {
    let mut skip = false;
    attrs.retain(|attr| {
        if !attr.path().is_ident(FORWARD) {
            return true;
        }
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") && (meta.input.is_empty() || meta.input.peek(Token![,])) {
                skip = true;
                Ok(())
            } else {
                Err(meta.error("expected `#[forward(skip)]`"))
            }
        });
        if let Err(error) = result {
            cx.syn_error(error);
        }
        false
    });
    skip
}

/// The forwarding method for `method`, or `None` when it is not forwarded
/// (no `&self`/`&mut self` receiver) or cannot be (an error is reported).
fn forward_method(
    cx: &Ctxt,
    method: &ImplItemFn,
    self_ty: &Type,
    krate: &syn::Path,
) -> Option<TokenStream> {
    let sig = &method.sig;
    let exclusive = match sig.inputs.first() {
        Some(FnArg::Receiver(receiver)) => receiver_kind(receiver)?,
        _ => return None,
    };
    let name = &sig.ident;
    let mut ok = true;
    if PROXY_METHODS.contains(&name.to_string().as_str()) {
        cx.error_spanned_by(
            name,
            format!(
                "`{name}` would be hidden by the handles' own `{name}` method: rename it, or \
                 leave it out with `#[forward(skip)]`"
            ),
        );
        ok = false;
    }
    if let Some(asyncness) = &sig.asyncness {
        cx.error_spanned_by(
            asyncness,
            "an `async` method cannot be forwarded: its future would outlive the borrow of the \
             object; leave it out with `#[forward(skip)]`",
        );
        ok = false;
    }
    if let Some(unsafety) = &sig.unsafety {
        cx.error_spanned_by(
            unsafety,
            "`unsafe` methods are not forwarded: call them inside `with`/`with_mut`, and leave \
             this one out with `#[forward(skip)]`",
        );
        ok = false;
    }
    if let ReturnType::Type(_, ty) = &sig.output
        && let Some(problem) = borrows(ty)
    {
        cx.error_spanned_by(
            ty,
            format!(
                "`{name}` cannot be forwarded: it returns {problem}, which cannot outlive the \
                 forwarded call (the handle borrows the object only while the method runs); \
                 return an owned value, or leave it out with `#[forward(skip)]`"
            ),
        );
        ok = false;
    }
    if !ok {
        return None;
    }

    let mut replace = ReplaceSelf(self_ty);
    let mut generics = sig.generics.clone();
    replace.visit_generics_mut(&mut generics);
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    let turbofish: Vec<&Ident> = sig
        .generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Type(param) => Some(&param.ident),
            GenericParam::Const(param) => Some(&param.ident),
            GenericParam::Lifetime(_) => None,
        })
        .collect();
    let turbofish = (!turbofish.is_empty()).then(|| quote!(::<#(#turbofish),*>));

    let mut params = Vec::new();
    let mut args = Vec::new();
    for (i, input) in sig.inputs.iter().skip(1).enumerate() {
        let FnArg::Typed(typed) = input else {
            continue;
        };
        let ident = match &*typed.pat {
            Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => pat.ident.clone(),
            _ => format_ident!("__managed_arg{}", i),
        };
        let mut ty = (*typed.ty).clone();
        replace.visit_type_mut(&mut ty);
        params.push(quote!(#ident: #ty));
        args.push(ident);
    }
    let mut output = sig.output.clone();
    replace.visit_return_type_mut(&mut output);

    let kept = method.attrs.iter().filter(|attr| {
        ["doc", "cfg", "must_use", "deprecated", "allow", "expect"]
            .iter()
            .any(|name| attr.path().is_ident(name))
    });
    let (access, named) = if exclusive {
        (quote!(with_mut), quote!(__with_mut_named))
    } else {
        (quote!(with), quote!(__with_named))
    };
    let name_str = name.unraw().to_string();
    let self_name = self_ty.to_token_stream().to_string().replace(' ', "");
    let note = format!(
        "\n\n*Forwarded by `#[managed::forward]`: runs `{self_name}::{name}` on the object \
         inside `{access}`, so it panics where `{access}` does (the panic names `{name_str}`).*"
    );
    let vis = &method.vis;
    let fn_token = &sig.fn_token;
    let object = Ident::new("__object", Span::mixed_site());
    // Spanned at the method's name, so that errors about the forwarded
    // method (a name clash with a field accessor) point at it.
    let krate = attr::respanned(krate, name.span());
    Some(quote_spanned! {name.span()=>
        #(#kept)*
        #[doc = #note]
        #[inline]
        #[track_caller]
        #vis #fn_token #name #impl_generics (&self, #(#params),*) #output #where_clause {
            #krate::contiguous::Access::#named(Self::__managed_handle(self), #name_str, |#object| {
                <#self_ty>::#name #turbofish (#object, #(#args),*)
            })
        }
    })
}

/// `Some(true)` for `&mut self`, `Some(false)` for `&self` (shorthand or
/// `self: &Self` / `self: &mut Self`), `None` for any other receiver.
fn receiver_kind(receiver: &syn::Receiver) -> Option<bool> {
    if receiver.colon_token.is_none() {
        return receiver
            .reference
            .as_ref()
            .map(|_| receiver.mutability.is_some());
    }
    match &*receiver.ty {
        Type::Reference(reference) if is_self(&reference.elem) => {
            Some(reference.mutability.is_some())
        }
        _ => None,
    }
}

/// Whether `ty` is the path `Self`.
fn is_self(ty: &Type) -> bool {
    matches!(ty, Type::Path(TypePath { qself: None, path }) if path.is_ident("Self"))
}

/// What makes a return type borrow from the call: a reference (but
/// `&'static`), a lifetime (but `'static`), or `impl Trait` (which captures
/// the borrow of `self`); `None` when it has none of them.
fn borrows(ty: &Type) -> Option<&'static str> {
    fn walk(tokens: TokenStream) -> Option<&'static str> {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, token) in tokens.iter().enumerate() {
            let next_is_static = || {
                matches!(
                    (tokens.get(i + 1), tokens.get(i + 2)),
                    (Some(TokenTree::Punct(p)), Some(TokenTree::Ident(name)))
                        if p.as_char() == '\'' && name == "static"
                )
            };
            let lifetime_is_static =
                || matches!(tokens.get(i + 1), Some(TokenTree::Ident(name)) if name == "static");
            match token {
                TokenTree::Punct(p) if p.as_char() == '&' && !next_is_static() => {
                    return Some("a reference");
                }
                TokenTree::Punct(p) if p.as_char() == '\'' && !lifetime_is_static() => {
                    return Some("a type with a lifetime");
                }
                TokenTree::Ident(ident) if ident == "impl" => return Some("`impl Trait`"),
                TokenTree::Group(group) => {
                    if let Some(problem) = walk(group.stream()) {
                        return Some(problem);
                    }
                }
                _ => {}
            }
        }
        None
    }
    walk(ty.to_token_stream())
}

/// Replaces `Self` (the impl's type) in a signature copied onto the view,
/// where `Self` would mean the view.
struct ReplaceSelf<'a>(&'a Type);

impl VisitMut for ReplaceSelf<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if is_self(ty) {
            *ty = self.0.clone();
            return;
        }
        if let Type::Path(path) = ty {
            self.qualify(path);
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }

    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Path(ExprPath { qself, path, .. }) = expr
            && qself.is_none()
            && path.segments.len() > 1
            && path.segments[0].ident == "Self"
        {
            *qself = Some(self.qself(path.span()));
            path.segments = path
                .segments
                .iter()
                .skip(1)
                .cloned()
                .collect::<Punctuated<_, _>>();
            path.leading_colon = Some(<Token![::]>::default());
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

impl ReplaceSelf<'_> {
    /// `Self::Assoc` as `<Type>::Assoc`.
    fn qualify(&self, path: &mut TypePath) {
        if path.qself.is_none()
            && path.path.segments.len() > 1
            && path.path.segments[0].ident == "Self"
        {
            path.qself = Some(self.qself(path.span()));
            path.path.segments = path.path.segments.iter().skip(1).cloned().collect();
            path.path.leading_colon = Some(<Token![::]>::default());
        }
    }

    /// `<Type>` as a qualified-path prefix.
    fn qself(&self, span: Span) -> QSelf {
        QSelf {
            lt_token: Token![<](span),
            ty: Box::new(self.0.clone()),
            position: 0,
            as_token: None,
            gt_token: Token![>](span),
        }
    }
}
