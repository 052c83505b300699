//! A `Forward` is invariant in its value type: it is `Copy` and `get_mut`
//! writes through any copy, so a copy narrowed to `Forward<&'short str>`
//! could store a short borrow that the original copy, still a
//! `Forward<&'static str>`, reads after it is freed.
use managed::prelude::*;

fn narrow<'id, 'short>(f: Forward<'id, &'static str>) -> Forward<'id, &'short str> {
    f
}

fn widen<'id, 'short>(f: Forward<'id, &'short str>) -> Forward<'id, &'static str> {
    f
}

fn main() {
    make_guard!(guard);
    let (mut arena, state): (Arena<'_, 1024>, _) = Arena::new(guard);
    let shared: Forward<'_, &'static str> = arena.alloc_shared(&state, "static").unwrap();
    {
        let text = String::from("short");
        *narrow(shared).get_mut(&mut arena).unwrap() = &text;
    }
    println!("{}", shared.get(&arena).unwrap());
    let _ = widen(shared);
}
