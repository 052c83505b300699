use managed::prelude::*;

// `SimpleProxy::with_mut(&self)` hands out `&mut T`: invariant in `T`.
fn shorten<'r, 'a>(proxy: &'r SimpleProxy<&'static str>) -> &'r SimpleProxy<&'a str> {
    proxy
}

fn main() {
    let proxy = SimpleProxy::new("x");
    let _ = shorten(&proxy);
}
