use managed::prelude::*;

// A field of a type parameter is visited, so the impl requires it to be
// `Managed`; an ordinary type without the impl is refused where the impl
// is needed, with what to write.
#[derive(Managed)]
struct Holder<T> {
    items: Vec<T>,
}

struct Plain;

fn needs_managed<T: Managed>() {}

fn main() {
    needs_managed::<Holder<Plain>>();
}
