//! Tour section: multisize.

pub(crate) fn run() {}
