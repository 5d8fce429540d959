//! R-IMP-5…10, R-IMP-16: one import row updating a lead, against a model of the rule text.
//! The check lives in `tests/oracles/import_row.rs`, which the test suite also runs as a
//! property test (`tests/oracle_rules.rs`).
#![no_main]
#[path = "../../tests/oracles/mod.rs"]
mod oracles;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oracles::import_row::check(data));
