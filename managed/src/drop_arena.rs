//! DropArena and DropBox: a typed free-list arena with lifetime branding (seed 001).
