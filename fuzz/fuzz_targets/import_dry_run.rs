//! R-IMP-18: a dry run reports exactly what the import would do — the same counts, failures,
//! hidden contacts and MU after — and changes nothing; the real import keeps visible MU
//! within the limit (R-MU-2). Both run on the same small book: leads, a member, a booted
//! visitor with unverified contact info, and an MU limit.
#![no_main]
#[path = "../../tests/oracles/mod.rs"]
mod common;
use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use rolodex::ImportSource;

const LIMIT: u64 = 5;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, csv)) = data.split_first() else {
        return;
    };
    let options = || common::import_options(mode);
    let source = || ImportSource::reader(Cursor::new(csv.to_vec()));
    let (dry_book, real_book) = (
        common::import_book(Some(LIMIT)),
        common::import_book(Some(LIMIT)),
    );
    let before = common::state(&dry_book);
    let mut dry_options = options();
    dry_options.dry_run = true;
    let dry = dry_book.import_csv(source(), dry_options, None);
    assert_eq!(
        common::state(&dry_book),
        before,
        "a dry run changed the book"
    );
    let real = real_book.import_csv(source(), options(), None);
    match (dry, real) {
        (Ok(mut d), Ok(r)) => {
            assert!(d.dry_run && !r.dry_run);
            d.dry_run = false;
            assert_eq!(d, r, "the dry run's report differs from the import's");
            assert!(real_book.mu_count().unwrap() <= LIMIT);
            assert_eq!(r.mu_after, real_book.mu_count().unwrap());
        }
        (Err(d), Err(r)) => assert_eq!(d.kind(), r.kind()),
        (d, r) => panic!("dry run {d:?} against import {r:?}"),
    }
});
