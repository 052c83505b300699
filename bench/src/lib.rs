//! Benchmarks of the managed workspace, side by side with the crates a
//! user would pick instead: `cargo bench -p managed-bench` (all), or
//! `cargo bench -p managed-bench --bench region` (one family). The
//! benchmarks are in `benches/`.
//!
//! The library holds the report program's code ([`report`]): `cargo run
//! --release -p managed-bench --bin bench_report` runs every bench and
//! writes `BENCHMARKS.md` (`--help` for the options). It also holds the
//! counting program's parser and workload list ([`counters`]): `cargo run
//! --release -p managed-bench --bin bench_counters` runs the workloads
//! still short of their targets under callgrind and writes `COUNTERS.md`.

pub mod counters;
pub mod report;
