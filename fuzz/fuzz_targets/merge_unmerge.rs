//! R-CON-8: merges with any choices, edits in between, and exact unmerge.
//! The check lives in `tests/oracles/merge_unmerge.rs`, which the test suite also runs as a
//! property test (`tests/oracle_rules.rs`).
#![no_main]
#[path = "../../tests/oracles/mod.rs"]
mod oracles;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oracles::merge_unmerge::check(data));
