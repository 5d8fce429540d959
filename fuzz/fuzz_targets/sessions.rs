//! R-CON-3: sessions follow the 30-minute window from the previous boot. The check
//! lives in `tests/oracles/sessions.rs`, which the test suite also runs as a property test
//! (`tests/oracle_rules.rs`).
#![no_main]
#[path = "../../tests/oracles/mod.rs"]
mod oracles;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oracles::sessions::check(data));
