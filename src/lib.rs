//! The workspace's root package: it owns the integration tests, examples and
//! benchmarks, and runs the README's code as a doctest so the front page
//! cannot go stale.
#![doc = include_str!("../README.md")]
