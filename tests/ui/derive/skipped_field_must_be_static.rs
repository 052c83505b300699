use managed::prelude::*;

// A skipped field could hide a branded reference unless it is 'static, so
// the impl only exists for `'a = 'static`.
#[derive(Managed)]
struct Borrowing<'a> {
    #[managed(skip)]
    name: &'a str,
    n: u32,
}

fn needs_managed<T: Managed>(_: &T) {}

fn check<'a>(value: &Borrowing<'a>) {
    needs_managed(value);
}

fn main() {
    let name = String::from("local");
    check(&Borrowing { name: &name, n: 1 });
}
