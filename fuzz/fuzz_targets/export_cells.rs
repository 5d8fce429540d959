//! R-EXP-3: the editable export's cells, neutralised as the rule text says. The check lives
//! in `tests/oracles/export_cells.rs`, which the test suite also runs as a property test
//! (`tests/oracle_rules.rs`).
#![no_main]
#[path = "../../tests/oracles/mod.rs"]
mod oracles;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oracles::export_cells::check(data));
