//! CSV export: columns, canonical cells, formula guard, editable round trip, protected zip
//! (R-EXP-1..4, R-VAL-10, R-IMP-20).

use std::io::{Cursor, Read};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use rolodex_core::export::{
    check_export_password, export_columns, write_export, CsvExporter, ExportOptions,
    ProtectedZipWriter, PROTECTED_ENTRY_NAME,
};
use rolodex_core::import::{IdentifyBy, ImportOptions, ImportReader, ImportSource};
use rolodex_core::value::{format_datetime, format_number};
use rolodex_core::{Contact, ErrorKind, FieldType, Schema, Value};

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn schema() -> Schema {
    let mut s = Schema::new();
    s.define("profile.city", FieldType::String).unwrap();
    s.define("profile.spent", FieldType::Number).unwrap();
    s.define("profile.joined", FieldType::Date).unwrap();
    s.define("profile.hobbies", FieldType::List).unwrap();
    s.define("profile.scores", FieldType::ListOfNumber).unwrap();
    s.define("profile.old", FieldType::String).unwrap();
    s.archive("profile.old").unwrap();
    s
}

fn contacts() -> Vec<Contact> {
    let mut a = Contact::new("c1".into(), t("2025-05-04T09:00:00.123Z"));
    a.profile.insert("name".into(), Value::String("A".into()));
    a.profile
        .insert("email".into(), Value::Email("a@x.com".into()));
    a.profile
        .insert("city".into(), Value::String("Seoul".into()));
    a.profile.insert("spent".into(), Value::Number(12.5));
    a.profile.insert(
        "joined".into(),
        Value::Date(NaiveDate::from_ymd_opt(2025, 1, 2).unwrap()),
    );
    a.profile.insert(
        "hobbies".into(),
        Value::List(vec!["go".into(), "a,\"b\"".into()]),
    );
    a.profile
        .insert("scores".into(), Value::ListOfNumber(vec![1.0, -2.5]));
    a.profile
        .insert("old".into(), Value::String("archived value".into()));
    a.tags = vec!["vip".into()];
    a.user_import_tags = vec!["spring".into()];
    a.unsubscribe_email = Some(false);
    a.unsubscribe_texting = Some(true);
    a.session_count = 3;
    let mut b = Contact::new("c2".into(), t("2025-05-05T00:00:00Z"));
    b.member_id = Some("m-2".into());
    b.member = true;
    b.profile.insert(
        "name".into(),
        Value::String("=HYPERLINK(\"http://evil\")".into()),
    );
    b.profile
        .insert("email".into(), Value::Email("b@x.com".into()));
    b.profile
        .insert("mobileNumber".into(), Value::Phone("+821012345678".into()));
    b.profile
        .insert("city".into(), Value::String("@cmd".into()));
    b.profile.insert("spent".into(), Value::Number(-3.0));
    vec![a, b]
}

fn export(options: &ExportOptions) -> String {
    let mut out = Vec::new();
    let n = write_export(&mut out, &contacts(), &schema(), options).unwrap();
    assert_eq!(n, 2);
    String::from_utf8(out).unwrap()
}

#[test]
fn r_exp_1_default_columns_and_canonical_cells() {
    let text = export(&ExportOptions::default());
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,memberId,profile.name,profile.email,profile.mobileNumber,profile.landlineNumber,profile.city,profile.spent,profile.joined,profile.hobbies,profile.scores,tags,userImportTags,unsubscribeEmail,unsubscribeTexting,blocked,createdAt,updatedAt,lastSeenAt,sessionCount"
    );
    assert_eq!(
        lines.next().unwrap(),
        "c1,,A,a@x.com,,,Seoul,12.5,2025-01-02,\"[\"\"go\"\",\"\"a,\\\"\"b\\\"\"\"\"]\",\"[1,-2.5]\",\"[\"\"vip\"\"]\",\"[\"\"spring\"\"]\",false,true,false,2025-05-04T09:00:00.123Z,2025-05-04T09:00:00.123Z,2025-05-04T09:00:00.123Z,3"
    );
    let b = lines.next().unwrap();
    assert!(
        b.starts_with(
            "c2,m-2,\"'=HYPERLINK(\"\"http://evil\"\")\",b@x.com,'+821012345678,,'@cmd,-3,"
        ),
        "{b}"
    );
    assert!(b.ends_with(",,,,,false,2025-05-05T00:00:00.000Z,2025-05-05T00:00:00.000Z,2025-05-05T00:00:00.000Z,0"), "{b}");
    assert!(!text.contains("archived value"));
}

#[test]
fn r_exp_3_formula_cells_neutralised_numbers_plain() {
    let text = export(&ExportOptions::default());
    for s in ["'=HYPERLINK", "'@cmd", "'+821012345678", ",-3,"] {
        assert!(text.contains(s), "{s} in {text}");
    }
    assert!(!text.contains("'-3"));
}

#[test]
fn r_exp_2_editable_only_is_the_import_layout_and_round_trips() {
    let options = ExportOptions {
        editable_only: true,
        ..Default::default()
    };
    let text = export(&options);
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    assert_eq!(header, schema().import_layout());

    // Re-import as leads with autoMap: memberId is left out, every value comes back.
    let mut o = ImportOptions::leads(IdentifyBy::Email);
    o.auto_map = true;
    let r = ImportReader::open(
        ImportSource::reader(Cursor::new(text.into_bytes())),
        &o,
        &schema(),
        t("2025-06-01T00:00:00Z"),
    )
    .unwrap();
    assert_eq!(r.ignored_columns(), ["memberId"]);
    let rows: Vec<_> = r.map(|r| r.unwrap()).collect();
    for (p, c) in rows.iter().zip(contacts()) {
        assert_eq!(p.identifier.as_str(), c.email().unwrap());
        for (name, v) in p.profile_set.iter().chain(&p.profile_append) {
            assert_eq!(Some(v), c.profile.get(name), "{name}");
        }
        let written = p.profile_set.len() + p.profile_append.len() + 1; // + email
        let visible = c.profile.keys().filter(|k| *k != "old").count();
        assert_eq!(written, visible);
        assert_eq!(p.tags_append, c.tags);
        assert_eq!(p.unsubscribe_email, c.unsubscribe_email);
        assert_eq!(p.unsubscribe_texting, c.unsubscribe_texting);
    }
}

#[test]
fn r_exp_1_chosen_columns() {
    let options = ExportOptions {
        columns: Some(vec!["profile.name".into(), "sessionCount".into()]),
        ..Default::default()
    };
    let text = export(&options);
    assert_eq!(
        text,
        "profile.name,sessionCount\nA,3\n\"'=HYPERLINK(\"\"http://evil\"\")\",0\n"
    );

    let s = schema();
    let e = export_columns(
        &s,
        &ExportOptions {
            columns: Some(vec!["profile.nope".into()]),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = export_columns(
        &s,
        &ExportOptions {
            columns: Some(vec!["profile.old".into()]),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let e = export_columns(
        &s,
        &ExportOptions {
            columns: Some(vec!["id".into(), "id".into()]),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let e = export_columns(
        &s,
        &ExportOptions {
            columns: Some(vec!["id".into()]),
            editable_only: true,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);

    // A single empty column is written as "" so the row is not a blank line.
    let one = ExportOptions {
        columns: Some(vec!["memberId".into()]),
        ..Default::default()
    };
    assert_eq!(export(&one), "memberId\n\"\"\nm-2\n");
}

#[test]
fn api_export_options_json_shape() {
    let j = r#"{"filter":{"key":"tags","op":"containsAny","value":["vip"]},"ids":["c1"],
        "editableOnly":true,"password":"abc12!","reason":"audit"}"#;
    let o: ExportOptions = serde_json::from_str(j).unwrap();
    assert!(o.editable_only && o.filter.is_some());
    let back = serde_json::to_value(&o).unwrap();
    assert_eq!(back["ids"][0], "c1");
    assert!(back.get("columns").is_none() && back.get("bom").is_none());
    assert!(serde_json::from_str::<ExportOptions>(r#"{"editable":true}"#).is_err());
}

#[test]
fn r_exp_4_password_rule() {
    assert!(check_export_password("abc12!").is_ok());
    assert!(check_export_password("한글12!#").is_ok());
    for (bad, lacks) in [
        ("ab1!", "at least 6"),
        ("abcdef!", "a digit"),
        ("123456!", "a letter"),
        ("abc123", "a symbol"),
        ("abc 123", "a symbol"),
    ] {
        let e = check_export_password(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation);
        let m = e.to_string();
        assert!(m.contains(lacks), "{bad}: {m}");
        assert!(m.contains("one letter, one digit and one symbol"), "{m}");
    }
    let no_reason = ExportOptions {
        password: Some("abc12!".into()),
        ..Default::default()
    };
    assert_eq!(no_reason.validate().unwrap_err().key(), Some("reason"));
}

#[test]
fn r_exp_4_protected_export_is_an_aes256_zip() {
    let options = ExportOptions {
        password: Some("s3cret!".into()),
        reason: Some("quarterly audit".into()),
        ..Default::default()
    };
    let mut zipped = Vec::new();
    write_export(&mut zipped, &contacts(), &schema(), &options).unwrap();
    assert!(zipped.starts_with(b"PK"));
    let plain = export(&ExportOptions::default());
    assert!(!zipped.windows(5).any(|w| w == b"Seoul"));

    let mut archive = zip::ZipArchive::new(Cursor::new(&zipped)).unwrap();
    assert_eq!(archive.len(), 1);
    {
        let mut f = archive
            .by_name_decrypt(PROTECTED_ENTRY_NAME, b"s3cret!")
            .unwrap();
        let mut text = String::new();
        f.read_to_string(&mut text).unwrap();
        assert_eq!(text, plain);
    }
    let aes = {
        use zip::HasZipMetadata;
        let raw = archive.by_index_raw(0).unwrap();
        assert!(raw.encrypted());
        raw.get_metadata().aes_settings().map(|(mode, _)| mode)
    };
    assert_eq!(aes, Some(zip::AesMode::Aes256));
    assert!(archive
        .by_name_decrypt(PROTECTED_ENTRY_NAME, b"wrong!1")
        .is_err());
    assert!(archive.by_name(PROTECTED_ENTRY_NAME).is_err());

    // The writer on its own, and a weak password refused before writing.
    let mut w = ProtectedZipWriter::new(Vec::new(), "pa55word!", "x.csv").unwrap();
    std::io::Write::write_all(&mut w, b"a,b\n").unwrap();
    let bytes = w.finish().unwrap();
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut s = String::new();
    archive
        .by_name_decrypt("x.csv", b"pa55word!")
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    assert_eq!(s, "a,b\n");
    assert!(ProtectedZipWriter::new(Vec::new(), "weak", "x.csv").is_err());
}

#[test]
fn r_exp_1_bom_option_and_exporter_directly() {
    let options = ExportOptions {
        bom: true,
        columns: Some(vec!["id".into()]),
        ..Default::default()
    };
    let mut x = CsvExporter::new(Vec::new(), &schema(), &options).unwrap();
    for c in &contacts() {
        x.write(c).unwrap();
    }
    assert_eq!(x.rows(), 2);
    assert_eq!(x.finish().unwrap(), b"\xEF\xBB\xBFid\nc1\nc2\n");
}

fn one_cell(v: Value) -> String {
    let mut s = Schema::new();
    let ft = match &v {
        Value::Number(_) => FieldType::Number,
        Value::Datetime(_) => FieldType::Datetime,
        _ => FieldType::String,
    };
    s.define("profile.v", ft).unwrap();
    let mut c = Contact::new("c".into(), Utc.timestamp_opt(0, 0).unwrap());
    c.profile.insert("v".into(), v);
    let o = ExportOptions {
        columns: Some(vec!["profile.v".into()]),
        ..Default::default()
    };
    let mut out = Vec::new();
    write_export(&mut out, [&c], &s, &o).unwrap();
    let text = String::from_utf8(out).unwrap();
    text.strip_prefix("profile.v\n")
        .unwrap()
        .strip_suffix('\n')
        .unwrap()
        .to_string()
}

proptest! {
    /// The allocation-free number writer gives R-VAL-10's canonical text, unguarded.
    #[test]
    fn r_val_10_numbers_written_canonically(n in any::<f64>().prop_filter("finite", |n| n.is_finite())) {
        prop_assert_eq!(one_cell(Value::Number(n)), format_number(n));
    }

    /// The allocation-free datetime writer gives R-VAL-10's canonical text.
    #[test]
    fn r_val_10_datetimes_written_canonically(ms in -62_000_000_000_000i64..253_402_300_799_999i64) {
        let t = Utc.timestamp_millis_opt(ms).unwrap();
        let cell = one_cell(Value::Datetime(t));
        let expected = format_datetime(&t);
        let expected = if expected.starts_with('-') { format!("'{expected}") } else { expected };
        prop_assert_eq!(cell, expected);
    }
}
