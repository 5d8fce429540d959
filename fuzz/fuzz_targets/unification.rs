//! R-UNI-1…4: unification at once or at login, against a model of the rule text. The check
//! lives in `tests/oracles/unification.rs`, which the test suite also runs as a property
//! test (`tests/oracle_rules.rs`).
#![no_main]
#[path = "../../tests/oracles/mod.rs"]
mod oracles;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oracles::unification::check(data));
