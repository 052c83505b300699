//! A pool's slots, boxes and shared handles are invariant in the value
//! type: each writes (or shares) a `T` of the pool, which is itself
//! invariant, so none can be narrowed to store shorter-lived values.
use managed::prelude::*;

fn slot_narrow<'a>(s: Slot<&'static str>) -> Slot<&'a str> {
    s
}

fn box_narrow<'p, 'a>(b: PoolBox<'p, &'static str>) -> PoolBox<'p, &'a str> {
    b
}

fn rc_narrow<'p, 'a>(r: PoolRc<'p, &'static str>) -> PoolRc<'p, &'a str> {
    r
}

fn main() {}
