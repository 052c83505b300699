//! Compile-fail tests: each misuse the design rejects at compile time.
//!
//! One folder per area under `tests/ui/`; each `.rs` file must fail to
//! compile with the error recorded in its `.stderr` file.

#[test]
#[cfg_attr(miri, ignore = "trybuild runs rustc, not the program")]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*/*.rs");
}
