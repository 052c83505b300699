use managed::prelude::*;

#[derive(Managed)]
struct S {
    a: u32,
    #[managed(accessors = false)]
    hidden: String,
}

fn main() {
    let p = SimpleProxy::new(S { a: 1, hidden: String::new() });
    let _ = p.a();
    let _ = p.with_hidden(|h| h.len());
}
