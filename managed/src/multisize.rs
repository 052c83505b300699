//! Multisize page containers and MultisizePool (seed 002).
