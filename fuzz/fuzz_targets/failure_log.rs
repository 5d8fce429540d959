//! R-IMP-13: the failure log as the rule lays it out, and its fixed re-import. The check
//! lives in `tests/oracles/failure_log.rs`, which the test suite also runs as a property
//! test (`tests/oracle_rules.rs`).
#![no_main]
#[path = "../../tests/oracles/mod.rs"]
mod oracles;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oracles::failure_log::check(data));
