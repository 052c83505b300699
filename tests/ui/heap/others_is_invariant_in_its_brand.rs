//! `Others<'b, 'gc>` is invariant in the brand, as the token is: the
//! other objects of one mutation are never read as another's.
use managed::prelude::*;

fn rebrand<'b, 'long: 'short, 'short>(others: Others<'b, 'long>) -> Others<'b, 'short> {
    others
}

fn main() {}
