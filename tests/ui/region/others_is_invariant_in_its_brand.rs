//! `Others<'a, 'id, N>` is invariant in its brand, as the arena is: the view
//! of one region never passes for another's.
use managed::region::Others;

fn rebrand<'a, 'long: 'short, 'short>(o: Others<'a, 'long, 0>) -> Others<'a, 'short, 0> {
    o
}

fn main() {}
