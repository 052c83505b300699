//! `HeldDyn<R>` and `HeldDynWeak<R>` hand out handles through which their
//! object is written, so they are invariant in `R`, as `Held` is in its
//! type. (A `Root` type can name no lifetime but `'static` and the brand,
//! since it outlives every brand, so what a subtype of `R` could change
//! is the trait object's own bound, as here; the handles stay as strict
//! as `Held`, whose type can carry lifetimes.)
use managed::prelude::*;

trait Shape<'gc> {
    fn area(&self) -> u64;
}

type AnyShape = dyn_rootable!(for<'gc> dyn Shape<'gc> + 'gc);

fn narrow<'short>(
    h: HeldDyn<AnyShape>,
) -> HeldDyn<dyn for<'gc> DynRootable<'gc, Root = dyn Shape<'gc> + 'gc> + 'short> {
    h
}

fn narrow_weak<'short>(
    h: HeldDynWeak<AnyShape>,
) -> HeldDynWeak<dyn for<'gc> DynRootable<'gc, Root = dyn Shape<'gc> + 'gc> + 'short> {
    h
}

fn main() {}
