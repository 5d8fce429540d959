//! R-IMP-11/16: one import of a file leaves the book as its rows imported one by one.
//! The check lives in `tests/oracles/import_split.rs`, which the test suite also runs as a
//! property test (`tests/oracle_rules.rs`).
#![no_main]
#[path = "../../tests/oracles/mod.rs"]
mod oracles;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oracles::import_split::check(data));
