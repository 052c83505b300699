use managed::prelude::*;

#[derive(Managed)]
struct S {
    a: u32,
}

#[managed::forward]
impl S {
    async fn later(&self) -> u32 {
        self.a
    }

    unsafe fn raw(&self) -> u32 {
        self.a
    }

    fn with(&self) -> u32 {
        self.a
    }

    #[forward(skip, inline)]
    fn skipped(&self) -> u32 {
        self.a
    }
}

fn main() {}
