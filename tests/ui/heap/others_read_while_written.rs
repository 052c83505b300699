//! An object read through `Others` cannot be written through it while the
//! read lives, nor can two be written at once through `get_mut`: the
//! references it hands out borrow it, as the token's borrow the token.
use managed::prelude::*;

#[derive(Managed)]
struct Cell<'gc> {
    value: u32,
    next: Option<Gc<'gc, Cell<'gc>>>,
}

fn main() {
    let mut heap: Heap<Vec<Gc<'static, Cell<'static>>>> = Heap::new(|_| Vec::new());
    heap.mutate(|mc, cells| {
        let c = Gc::new(mc, Cell { value: 3, next: None });
        let b = Gc::new(mc, Cell { value: 2, next: Some(c) });
        let a = Gc::new(mc, Cell { value: 1, next: Some(b) });
        cells.push(a);
        let (_, mut others) = mc.split_mut(a);
        let read = &others[b];
        others[b].value += 1;
        assert_eq!(read.value, 2);
        let first = others.get_mut(b).unwrap();
        let second = others.get_mut(c).unwrap();
        first.value += second.value;
    });
}
