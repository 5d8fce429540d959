//! R-IMP-12/16: an import of arbitrary bytes never panics; its counts add up, and the book
//! holds exactly the contacts it reports created.
#![no_main]
#[path = "../../tests/oracles/mod.rs"]
mod common;
use libfuzzer_sys::fuzz_target;
use rolodex::{ContactBook, FieldType, ImportSource, Query};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, csv)) = data.split_first() else {
        return;
    };
    let book = ContactBook::in_memory();
    common::define(
        &book,
        &[
            ("profile.n", FieldType::Number),
            ("profile.d", FieldType::Datetime),
            ("profile.l", FieldType::List),
            ("profile.t", FieldType::Tag),
            ("profile.s", FieldType::String),
        ],
    );
    let mut options = common::import_options(mode);
    options.dry_run = mode & 16 != 0;
    let source = ImportSource::reader(std::io::Cursor::new(csv.to_vec()));
    let Ok(report) = book.import_csv(source, options, None) else {
        // A rejected file changes nothing.
        assert_eq!(book.mu_count().unwrap(), 0);
        return;
    };
    assert_eq!(report.failed as usize, report.failures.len());
    assert!(report.failed <= report.rows, "{report:?}");
    assert!(
        report.created + report.updated <= report.rows - report.failed,
        "{report:?}"
    );
    let all = Query::from_value(&serde_json::json!({"limit": 1000})).unwrap();
    let total = book.search(&all).unwrap().total;
    if report.dry_run {
        assert_eq!(total, 0, "a dry run wrote: {report:?}");
    } else {
        // A fresh book: every contact was created by this import (none hidden: no limit).
        assert_eq!(total, report.created, "{report:?}");
    }
});
