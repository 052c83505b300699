//! Tour section: pages.

pub(crate) fn run() {}
