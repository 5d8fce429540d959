//! R-IMP-5: which contact an import row updates, against a model of the rule text. The check
//! lives in `tests/oracles/import_match.rs`, which the test suite also runs as a property
//! test (`tests/oracle_rules.rs`).
#![no_main]
#[path = "../../tests/oracles/mod.rs"]
mod oracles;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oracles::import_match::check(data));
