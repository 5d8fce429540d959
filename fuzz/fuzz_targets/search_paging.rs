//! R-FLT-7: sorted pages walked with `nextCursor` while other contacts change.
//! The check lives in `tests/oracles/search_paging.rs`, which the test suite also runs as a
//! property test (`tests/oracle_rules.rs`).
#![no_main]
#[path = "../../tests/oracles/mod.rs"]
mod oracles;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oracles::search_paging::check(data));
