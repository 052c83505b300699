use managed::uniform::secondary_entry::{Entry, OccupiedEntry, VacantEntry};

// An entry hands out `&mut V` for the map's borrow (`into_mut`,
// `or_insert`), so it must be invariant in `V`, as `&mut V` is: were it
// covariant, an entry of a map of `&'static str` seen as one of `&'a str`
// would store a short borrow that the map later hands out as `'static`.
fn entry<'m, 'a>(e: Entry<'m, &'static str>) -> Entry<'m, &'a str> {
    e
}

fn occupied<'m, 'a>(e: OccupiedEntry<'m, &'static str>) -> OccupiedEntry<'m, &'a str> {
    e
}

fn vacant<'m, 'a>(e: VacantEntry<'m, &'static str>) -> VacantEntry<'m, &'a str> {
    e
}

fn main() {}
