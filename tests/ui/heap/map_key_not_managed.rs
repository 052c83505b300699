//! A map that holds handles must have `Managed` keys (a key may hold a handle
//! too, which a collection rewrites): a plain key type needs the derive, or
//! `Static` for a type of another crate. The error names the key type.
use std::collections::HashMap;

use managed::prelude::*;

#[derive(PartialEq, Eq, Hash)]
enum Layer {
    Background,
    Foreground,
}

#[derive(Managed)]
struct Scene<'gc> {
    by_layer: HashMap<Layer, Vec<Gc<'gc, String>>>,
}

fn main() {
    let _ = (Layer::Background, Layer::Foreground);
}
