//! Tour section: scoped.

pub(crate) fn run() {}
