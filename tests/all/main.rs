//! The root package's integration tests: one test binary (as bumpalo's
//! `tests/all`), one module per suite: `#[derive(Managed)]` and its
//! accessors, derived types in a compacting region, the `serde` feature,
//! the contiguous pool walkthrough, the example programs (run as tests),
//! and the compile-fail cases of
//! `tests/ui/` (driven by trybuild from `ui`, ignored under Miri). Run one
//! suite with `cargo test -p managed-workspace --test all -- derive::`.

mod contiguous_walkthrough;
mod derive;
mod derive_region;
mod examples;
mod serde;
mod ui;
