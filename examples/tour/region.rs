//! Tour section: region.

pub(crate) fn run() {}
