//! R-EXP-2/3, R-IMP-20: contacts holding arbitrary texts (formula starts, quotes, commas,
//! line breaks, any Unicode) export in the editable layout and import back with every
//! contact `updated`, no row failed, and every value as it was; a second export is
//! byte-identical to the first.
#![no_main]
#[path = "../../tests/oracles/mod.rs"]
mod common;
use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use rolodex::{
    ContactBook, ExportOptions, FieldType, IdentifyBy, ImportOptions, ImportSource, NewLead,
};
use serde_json::json;

fn export(book: &ContactBook) -> Vec<u8> {
    let mut out = Vec::new();
    let options = ExportOptions {
        editable_only: true,
        ..ExportOptions::default()
    };
    book.export_csv(&mut out, options).unwrap();
    out
}

fuzz_target!(|data: &[u8]| {
    let book = common::book_with(&[
        ("profile.s", FieldType::String),
        ("profile.l", FieldType::List),
        ("profile.t", FieldType::Tag),
        ("profile.n", FieldType::Number),
    ]);
    // Each 0xFF-separated piece of the input is one contact's texts (lossy UTF-8).
    for (i, piece) in data.split(|b| *b == 0xFF).take(8).enumerate() {
        let text = String::from_utf8_lossy(piece).into_owned();
        let c = book
            .add_lead(NewLead::email(format!("c{i}@x.com")))
            .unwrap();
        // Whatever of these the rules accept is kept; a rejected edit changes nothing.
        for patch in [
            json!({"profile.name": text}),
            json!({"profile.s": text}),
            json!({"profile.l": [text, "b"]}),
            json!({"profile.t": [text]}),
            json!({"profile.n": text}),
            json!({"tags": [text]}),
        ] {
            let _ = book.update(&c.id, &patch);
        }
    }
    let before = common::everyone(&book);
    let first = export(&book);
    book.set_clock(Some("2025-04-01T12:00:00Z".parse().unwrap())).unwrap();
    let mut options = ImportOptions::leads(IdentifyBy::Email);
    options.auto_map = true;
    options.file_name = Some("export.csv".into());
    let report = book
        .import_csv(
            ImportSource::reader(Cursor::new(first.clone())),
            options,
            None,
        )
        .unwrap();
    assert_eq!(
        (report.created, report.updated, report.failed),
        (0, before.len() as u64, 0),
        "{report:?}\n{}",
        String::from_utf8_lossy(&first)
    );
    let after = common::everyone(&book);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(a.profile, b.profile, "{}", String::from_utf8_lossy(&first));
        assert_eq!(a.tags, b.tags);
    }
    assert_eq!(export(&book), first);
});
