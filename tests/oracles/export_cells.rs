//! R-EXP-3 against its text, cell by cell, on the editable export of contacts whose values
//! come from the input (texts that start with `=`, `+`, `-`, `@`, tab, carriage return or
//! `'`, quotes, commas, line breaks, and plain ones): "a cell whose text starts with `=`,
//! `+`, `-`, `@`, tab, carriage return or `'` is written with one `'` in front …; cells of
//! `number` type are written as plain numbers". So a text cell is its value, with one `'` in
//! front exactly when the value starts with one of those, and no cell but a number's starts
//! with a formula character.
use rolodex::{ExportOptions, FieldType, NewLead};
use serde_json::{json, Map, Value};

const TEXTS: [&str; 14] = [
    "=SUM(A1)",
    "+82 is a code",
    "-5 apples",
    "@home",
    "\tindented",
    "\rreturn",
    "'=quoted",
    "'plain quote",
    "plain",
    "a, b",
    "say \"hi\"",
    "two\nlines",
    " =space first",
    "한글",
];

fn neutralised(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\'') => format!("'{text}"),
        _ => text.to_string(),
    }
}

/// Runs the check on one input; panics where a rule is broken.
pub fn check(data: &[u8]) {
    let book = super::book_with(&[
        ("profile.s", FieldType::String),
        ("profile.n", FieldType::Number),
    ]);
    let mut stored: Vec<Value> = Vec::new();
    for (i, c) in data.chunks(3).take(8).enumerate() {
        let b = |k: usize| c.get(k).copied().unwrap_or(0);
        let mut profile = Map::new();
        profile.insert("s".into(), json!(TEXTS[usize::from(b(0)) % TEXTS.len()]));
        profile.insert(
            "n".into(),
            json!([-1.5, 2.0, 0.0, -9e15, 0.000001, -7.0][usize::from(b(2)) % 6]),
        );
        let lead = NewLead {
            email: Some(format!("u{i}@x.com")),
            mobile_number: (b(2) & 8 != 0).then(|| format!("+82 10-2000-{:04}", 1000 + i)),
            name: Some(TEXTS[usize::from(b(1)) % TEXTS.len()].to_string()),
            profile,
            ..NewLead::default()
        };
        let c = book.add_lead(lead).unwrap();
        stored.push(serde_json::to_value(&c).unwrap());
    }
    if stored.is_empty() {
        return;
    }
    let mut out = Vec::new();
    book.export_csv(
        &mut out,
        ExportOptions {
            editable_only: true,
            ..ExportOptions::default()
        },
    )
    .unwrap();
    let mut reader = csv::ReaderBuilder::new().from_reader(&out[..]);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), stored.len());
    for (row, c) in rows.iter().zip(&stored) {
        for (i, cell) in row.iter().enumerate() {
            if header[i] != "profile.n" {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{} cell {cell:?} starts with a formula character",
                    header[i]
                );
            }
        }
        for key in ["name", "email", "mobileNumber", "s"] {
            let cell = &row[col(&format!("profile.{key}"))];
            let want = c["profile"][key]
                .as_str()
                .map(neutralised)
                .unwrap_or_default();
            assert_eq!(cell, want, "profile.{key}");
        }
        let n = &row[col("profile.n")];
        assert_eq!(
            n.parse::<f64>().ok(),
            c["profile"]["n"].as_f64(),
            "a number cell is the plain number: {n:?}"
        );
    }
}
