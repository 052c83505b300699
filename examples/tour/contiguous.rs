//! Tour section: contiguous.

pub(crate) fn run() {}
