//! R-FLT-1, R-FLT-2: quick search and multi-term search against models written from the rule
//! text. The check lives in `tests/oracles/quick_search.rs`, which the test suite also runs
//! as a property test (`tests/oracle_rules.rs`).
#![no_main]
#[path = "../../tests/oracles/mod.rs"]
mod oracles;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oracles::quick_search::check(data));
