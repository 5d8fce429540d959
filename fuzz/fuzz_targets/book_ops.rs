//! R-CON, R-UNI, R-MU: any sequence of book operations keeps MU exact and within the limit,
//! a failed step changes nothing, and the same steps give the same book (R-UNI-5). The check
//! lives in `tests/oracles/book_ops.rs`, which the test suite also runs as a property test
//! (`tests/oracle_rules.rs`).
#![no_main]
#[path = "../../tests/oracles/mod.rs"]
mod oracles;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oracles::book_ops::check(data));
