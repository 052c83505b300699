//! A reference read through `Reader` (the token or `Others`) borrows the
//! reader: a helper generic over `Reader` returns references that block
//! writes through `Others`, and through the token, while they live.
use managed::prelude::*;

#[derive(Managed)]
struct Cell<'gc> {
    value: u32,
    next: Option<Gc<'gc, Cell<'gc>>>,
}

/// The cell after `c`, read through any reader.
fn next_of<'r, 'gc>(r: &'r impl Reader<'gc>, c: Gc<'gc, Cell<'gc>>) -> &'r Cell<'gc> {
    r.read(r.read(c).next.unwrap())
}

fn main() {
    let mut heap: Heap<Vec<Gc<'static, Cell<'static>>>> = Heap::new(|_| Vec::new());
    heap.mutate(|mc, cells| {
        let c = Gc::new(mc, Cell { value: 3, next: None });
        let b = Gc::new(mc, Cell { value: 2, next: Some(c) });
        let a = Gc::new(mc, Cell { value: 1, next: Some(b) });
        cells.push(a);
        let through_token = next_of(mc, a);
        mc[b].value += 1;
        assert_eq!(through_token.value, 2);
        let (_, mut others) = mc.split_mut(a);
        let through_others = next_of(&others, b);
        others[c].value += 1;
        assert_eq!(through_others.value, 3);
    });
}
