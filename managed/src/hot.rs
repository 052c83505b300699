//! The hot pool: Pool, Slot with NaN tagging, and the safe PoolBox (seed 003).
