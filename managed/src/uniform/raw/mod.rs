//! The raw layer of the uniform containers: every `unsafe` block of the
//! family. [`deque`] owns the deque's pages of `T`s (elements `head..tail`
//! of one page, or `head..cap` / full / `0..tail` over several, are
//! initialized); [`pool`] owns the pool's entries, generations and free
//! list. Their `pub` and `pub(in crate::uniform)` API is safe to call; the
//! safe modules above add trait impls, wrappers and tests.

pub(super) mod deque;
pub(super) mod pool;
