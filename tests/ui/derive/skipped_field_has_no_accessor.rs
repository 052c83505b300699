use managed::prelude::*;

#[derive(Managed)]
struct S {
    a: u32,
    #[managed(skip)]
    hidden: u32,
}

fn main() {
    let p = SimpleProxy::new(S { a: 1, hidden: 2 });
    let _ = p.a();
    let _ = p.hidden();
}
