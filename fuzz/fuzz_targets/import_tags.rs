//! R-IMP-9, R-IMP-20: import tags keep the newest 30, a re-used one moves to the newest. The check
//! lives in `tests/oracles/import_tags.rs`, which the test suite also runs as a property test
//! (`tests/oracle_rules.rs`).
#![no_main]
#[path = "../../tests/oracles/mod.rs"]
mod oracles;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oracles::import_tags::check(data));
