//! MemoryArena: scoped bump allocation with reuse, in-place construction and destructors (seed 004).
