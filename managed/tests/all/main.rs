//! The runtime's integration tests: one test binary (as bumpalo's
//! `tests/all`), one module per suite, and the helpers the suites share in
//! `common`.
//!
//! Module names: `<family>` is a family's main suite, `<family>_props` its
//! property tests (random programs checked against a model), and
//! `<family>_<aspect>` a suite about one aspect. Run one suite with
//! `cargo test -p managed-memory --test all -- region::` (the filter is a
//! substring of the test path: `region::` also matches
//! `contiguous_region::`, add `--skip contiguous_region::` to leave it out).

mod common;

mod api;
mod contiguous;
mod contiguous_keys;
mod contiguous_particles;
mod contiguous_props;
// The region needs 64-bit addresses: its suites are left out elsewhere.
#[cfg(target_pointer_width = "64")]
mod contiguous_region;
mod drop_arena;
mod heap;
mod heap_props;
mod hot;
mod memory_map;
mod multisize_pool;
mod multisize_props;
// The parallel walks need the `rayon` feature:
// `cargo test -p managed-memory --features rayon --test all -- par::`.
#[cfg(feature = "rayon")]
mod par;
#[cfg(target_pointer_width = "64")]
mod region;
#[cfg(target_pointer_width = "64")]
mod region_props;
mod scoped;
mod scoped_drops;
mod scoped_props;
mod track_caller;
mod uniform_props;
