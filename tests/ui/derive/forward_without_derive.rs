struct S {
    a: u32,
}

#[managed::forward]
impl S {
    fn a(&self) -> u32 {
        self.a
    }
}

fn main() {}
