//! Tour section: uniform.

pub(crate) fn run() {}
