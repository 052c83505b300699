//! [`Item`]: the owning, direct reference to a value in the region.
//!
//! The type and its pointer machinery live in `raw::item`; here are the
//! formatting impls built on its `Deref`.

use core::fmt;

pub use super::raw::item::Item;

impl<T: ?Sized + fmt::Debug> fmt::Debug for Item<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for Item<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::region::{Arena, Token};
    use generativity::make_guard;

    /// An item is covariant in its arena borrow `'a` (a shorter borrow of
    /// the same arena), and a token in its guard borrow `'c`; both are
    /// invariant in their value types (`tests/ui/region/`).
    #[test]
    fn borrows_are_covariant() {
        fn shorter_item<'long: 'short, 'short>(i: Item<'long, u32>) -> Item<'short, u32> {
            i
        }
        fn shorter_token<'long: 'short, 'short, 'id>(
            t: Token<'long, 'id, Vec<u32>>,
        ) -> Token<'short, 'id, Vec<u32>> {
            t
        }
        make_guard!(guard);
        let (mut arena, state): (Arena<'_, 256>, _) = Arena::new(guard);
        let item = shorter_item(arena.alloc(&state, 5u32).unwrap());
        assert_eq!(*item, 5);
        drop(item);
        make_guard!(compact);
        let token = shorter_token(arena.tokenize_all(&compact, vec![1u32, 2]));
        let state = arena.compact(&compact, state);
        assert_eq!(token.redeem(&arena), [1, 2]);
        let _state = arena.finish(compact, state);
    }
}
