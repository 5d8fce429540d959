//! R-CON-2: a boot's info is unverified and never overwrites verified info. The check lives
//! in `tests/oracles/verified_info.rs`, which the test suite also runs as a property test
//! (`tests/oracle_rules.rs`).
#![no_main]
#[path = "../../tests/oracles/mod.rs"]
mod oracles;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oracles::verified_info::check(data));
