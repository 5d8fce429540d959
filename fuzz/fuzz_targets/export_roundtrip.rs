//! R-EXP-2/3, R-IMP-20: contacts holding arbitrary texts (formula starts, quotes, commas,
//! line breaks, any Unicode) export in the editable layout and import back with every
//! contact `updated`, no row failed, and every value as it was; a second export is
//! byte-identical to the first.
#![no_main]
use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use rolodex::{
    Contact, ContactBook, ExportOptions, FieldType, IdentifyBy, ImportOptions, ImportSource,
    NewLead, Query,
};
use serde_json::json;

fn everyone(book: &ContactBook) -> Vec<Contact> {
    let all = Query::from_value(&json!({"limit": 1000})).unwrap();
    let mut cs = book.search(&all).unwrap().contacts;
    cs.sort_by(|a, b| a.id.cmp(&b.id));
    cs
}

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
    let book = ContactBook::in_memory();
    book.set_clock(Some("2025-03-01T12:00:00Z".parse().unwrap()));
    for (k, t) in [
        ("profile.s", FieldType::String),
        ("profile.l", FieldType::List),
        ("profile.t", FieldType::Tag),
        ("profile.n", FieldType::Number),
    ] {
        book.define_key(k, t).unwrap();
    }
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
    let before = everyone(&book);
    let first = export(&book);
    book.set_clock(Some("2025-04-01T12:00:00Z".parse().unwrap()));
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
    let after = everyone(&book);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(a.profile, b.profile, "{}", String::from_utf8_lossy(&first));
        assert_eq!(a.tags, b.tags);
    }
    assert_eq!(export(&book), first);
});
