use managed::contiguous::{ObjectMut, ObjectRef, PoolRef, PoolRefMut};

// The pool guards lend `&T` (and the mutable ones `&mut T`) of a pool that
// stores `T`s through `&self`, so each must be invariant in `T`: a guard
// made covariant could be read as one of a pool of shorter-lived `T`s, and
// the mutable ones could write a short borrow into an object that another
// path reads as `'static`.
fn shorten_ref<'g, 'a>(guard: PoolRef<'g, &'static str>) -> PoolRef<'g, &'a str> {
    guard
}

fn shorten_mut<'g, 'a>(guard: PoolRefMut<'g, &'static str>) -> PoolRefMut<'g, &'a str> {
    guard
}

fn shorten_object<'g, 'a>(guard: ObjectRef<'g, &'static str>) -> ObjectRef<'g, &'a str> {
    guard
}

fn shorten_object_mut<'g, 'a>(guard: ObjectMut<'g, &'static str>) -> ObjectMut<'g, &'a str> {
    guard
}

fn main() {}
