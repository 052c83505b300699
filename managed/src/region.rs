//! The compacting region arena with two-phase, compile-time-checked compaction (seed 000).
