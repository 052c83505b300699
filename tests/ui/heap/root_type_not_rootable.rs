//! The root type must say how it is named at each mutation's brand.
use std::rc::Rc;

use managed::prelude::*;

fn main() {
    let _heap: Heap<Rc<u32>> = Heap::new(|_| Rc::new(1));
}
