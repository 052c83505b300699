mod inner {
    use managed::prelude::*;

    #[derive(Managed)]
    pub struct S {
        pub open: u32,
        closed: u32,
    }

    pub fn make() -> SimpleProxy<S> {
        SimpleProxy::new(S { open: 1, closed: 2 })
    }
}

fn main() {
    let p = inner::make();
    let _ = p.open();
    let _ = p.closed();
}
