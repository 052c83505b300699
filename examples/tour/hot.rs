//! Tour section: hot.

pub(crate) fn run() {}
