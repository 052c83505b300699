use managed::prelude::*;

#[derive(Managed)]
struct S {
    name: String,
}

#[managed::forward]
impl S {
    fn name_ref(&self) -> &str {
        &self.name
    }

    fn chars<'a>(&'a self) -> std::str::Chars<'a> {
        self.name.chars()
    }

    fn bytes(&self) -> impl Iterator<Item = u8> {
        self.name.clone().into_bytes().into_iter()
    }

    // Fine: not a borrow of the object.
    fn kind(&self) -> &'static str {
        "s"
    }
}

fn main() {}
