//! Tour section: drop_arena.

pub(crate) fn run() {}
