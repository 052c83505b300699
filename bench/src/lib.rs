//! Benchmarks of the managed workspace, side by side with the crates a
//! user would pick instead: `cargo bench -p managed-bench` (all), or
//! `cargo bench -p managed-bench --bench region` (one family). The
//! library itself is empty; the benchmarks are in `benches/`.
