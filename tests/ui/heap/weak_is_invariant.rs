//! `GcWeak<'gc, T>` upgrades to a `Gc<'gc, T>`, so it is invariant in both
//! parameters, as `Gc` is.
use managed::prelude::*;

fn narrow_type<'gc, 'short>(w: GcWeak<'gc, &'static str>) -> GcWeak<'gc, &'short str> {
    w
}

fn widen_brand<'gc>(w: GcWeak<'gc, u32>) -> GcWeak<'static, u32> {
    w
}

fn main() {}
