//! R-IMP-5…10, R-IMP-16 against a model of their text, for one import row that matches an
//! existing lead by its email (written in another case), with cells from the input under
//! either empty-cell policy:
//! - the identifier cell only matches: the stored email is not rewritten (R-IMP-5);
//! - an empty opt-out cell keeps the value, a filled one overwrites it, under both policies
//!   (R-IMP-6, R-IMP-7);
//! - another empty cell keeps the value, or clears it under `clear` (R-IMP-7);
//! - list-typed fields (`list`, `tags`) append the new items, dropping those present;
//!   other fields are replaced (R-IMP-8);
//! - the contact gets the import tag (R-IMP-9) and a new `updatedAt`, not a new
//!   `lastSeenAt` (R-IMP-10), and is counted `updated` (R-IMP-12);
//! - a row with a bad cell fails whole: the contact is exactly as it was (R-IMP-16);
//! - a blocked lead is updated alike and stays blocked (R-CON-6).
use std::io::Cursor;

use rolodex::{EmptyCells, FieldType, IdentifyBy, ImportOptions, ImportSource, NewLead};
use serde_json::{json, Map, Value};

/// (column, cells a row may hold; the last is not a valid value of the key, except for the
/// two text keys, which take any text).
const COLUMNS: [(&str, [&str; 4]); 8] = [
    ("profile.name", ["", "Lee", "  Park ", "Lee"]),
    ("profile.s", ["", "x", "=cmd", "y"]),
    ("profile.n", ["", "7", "-1.5", "seven"]),
    ("profile.l", ["", r#"["a"]"#, r#"["b", "a", "b"]"#, "a"]),
    (
        "tags",
        ["", r#"["vip"]"#, r#"["new", "vip"]"#, r#"["a b"]"#],
    ),
    ("unsubscribeEmail", ["", "true", "no", "maybe"]),
    ("unsubscribeTexting", ["", "yes", "false", "sometimes"]),
    (
        "profile.mobileNumber",
        ["", "+82 10-3030-4040", "+821030304040", "12"],
    ),
];

/// The value a valid cell gives the key, as contact JSON writes it.
fn parsed(column: &str, text: &str) -> Value {
    let text = text.trim();
    match column {
        // The cells are written as contact JSON writes numbers.
        "profile.n" => serde_json::from_str(text).unwrap(),
        "profile.l" | "tags" => {
            let items: Vec<String> = serde_json::from_str(text).unwrap();
            let mut out: Vec<String> = Vec::new();
            for i in items {
                if !out.contains(&i) {
                    out.push(i);
                }
            }
            json!(out)
        }
        "unsubscribeEmail" | "unsubscribeTexting" => json!(matches!(text, "true" | "yes")),
        "profile.mobileNumber" => json!("+821030304040"),
        _ => json!(text),
    }
}

fn get<'a>(c: &'a Value, column: &str) -> &'a Value {
    match column.strip_prefix("profile.") {
        Some(k) => &c["profile"][k],
        None => &c[column],
    }
}

fn set(c: &mut Value, column: &str, v: Value) {
    let slot = match column.strip_prefix("profile.") {
        Some(k) => &mut c["profile"][k],
        None => &mut c[column],
    };
    *slot = v;
}

/// Runs the check on one input; panics where a rule is broken.
pub fn check(data: &[u8]) {
    let b = |k: usize| data.get(k).copied().unwrap_or(0);
    let book = super::book_with(&[
        ("profile.s", FieldType::String),
        ("profile.n", FieldType::Number),
        ("profile.l", FieldType::List),
    ]);
    // The existing lead: some values set, from the input.
    let mut profile = Map::new();
    if b(0) & 1 != 0 {
        profile.insert("s".into(), json!("old"));
    }
    if b(0) & 2 != 0 {
        profile.insert("n".into(), json!(1));
    }
    if b(0) & 4 != 0 {
        profile.insert("l".into(), json!(["a", "c"]));
    }
    let lead = NewLead {
        email: Some("kim@x.com".into()),
        mobile_number: (b(0) & 8 != 0).then(|| "+82 10-1111-2222".into()),
        name: (b(0) & 16 != 0).then(|| "Kim".into()),
        profile,
        tags: if b(0) & 32 != 0 {
            vec!["vip".into(), "old".into()]
        } else {
            vec![]
        },
    };
    let id = book.add_lead(lead).unwrap().id;
    if b(0) & 64 != 0 {
        book.update(
            &id,
            &json!({"unsubscribeEmail": true, "unsubscribeTexting": false}),
        )
        .unwrap();
    }
    if b(1) & 2 != 0 {
        // R-CON-6: "An import row that matches a blocked contact updates it; it stays
        // blocked."
        book.block(vec![id.clone()]).unwrap();
    }
    let before = serde_json::to_value(book.get(&id).unwrap()).unwrap();
    book.set_clock(Some("2025-03-02T08:00:00Z".parse().unwrap()))
        .unwrap();

    // The row: a cell for each column, mostly valid.
    let clear = b(1) & 1 != 0;
    let mut bad = false;
    let mut header = vec!["profile.email".to_string()];
    let mut cells = vec![super::csv_cell("KIM@X.com")];
    let mut row: Vec<(&str, &str)> = Vec::new();
    for (i, (column, choices)) in COLUMNS.iter().enumerate() {
        let pick = b(2 + i);
        if pick & 0x80 != 0 {
            continue; // the column is not in the file
        }
        let k = match pick % 16 {
            0 => 3, // a bad value, now and then
            x => usize::from(x) % 3,
        };
        bad |= k == 3 && !matches!(*column, "profile.name" | "profile.s");
        header.push(column.to_string());
        cells.push(super::csv_cell(choices[k]));
        row.push((column, choices[k]));
    }
    let csv = format!("{}\n{}\n", header.join(","), cells.join(","));
    let mut options = ImportOptions::leads(IdentifyBy::Email);
    options.auto_map = true;
    options.import_tag = Some("spring".into());
    if clear {
        options.empty_cells = EmptyCells::Clear;
    }
    let report = book
        .import_csv(
            ImportSource::reader(Cursor::new(csv.clone().into_bytes())),
            options,
            None,
        )
        .unwrap();
    let after = serde_json::to_value(book.get(&id).unwrap()).unwrap();
    if bad {
        assert_eq!((report.updated, report.failed), (0, 1), "{csv}{report:?}");
        assert_eq!(after, before, "a failed row changed the contact:\n{csv}");
        return;
    }
    assert_eq!(
        (report.created, report.updated, report.failed),
        (0, 1, 0),
        "{csv}{report:?}"
    );

    // The model.
    let mut want = before.clone();
    for (column, text) in &row {
        let empty = text.trim().is_empty();
        let opt_out = column.starts_with("unsubscribe");
        let list = matches!(*column, "profile.l" | "tags");
        if empty {
            if clear && !opt_out {
                let none = if *column == "tags" {
                    json!([])
                } else {
                    Value::Null
                };
                set(&mut want, column, none);
            }
            continue;
        }
        let v = parsed(column, text);
        if list {
            let mut items: Vec<Value> = get(&want, column).as_array().cloned().unwrap_or_default();
            for x in v.as_array().unwrap() {
                if !items.contains(x) {
                    items.push(x.clone());
                }
            }
            set(&mut want, column, Value::Array(items));
        } else {
            set(&mut want, column, v);
        }
    }
    // A cleared profile key is absent from the JSON.
    if let Some(p) = want["profile"].as_object_mut() {
        p.retain(|_, v| !v.is_null());
    }
    want["userImportTags"] = json!(["spring"]);
    want["updatedAt"] = after["updatedAt"].clone();
    // A mobile number the import writes is verified info (R-CON-2); a cleared one is none.
    if let Some((_, text)) = row.iter().find(|(c, _)| *c == "profile.mobileNumber") {
        if !text.trim().is_empty() || clear {
            want["verified"]["mobileNumber"] = json!(!text.trim().is_empty());
        }
    }
    assert_eq!(
        after["profile"]["email"],
        json!("kim@x.com"),
        "the identifier is not rewritten"
    );
    assert_ne!(after["updatedAt"], before["updatedAt"]);
    assert_eq!(after["lastSeenAt"], before["lastSeenAt"]);
    assert_eq!(after, want, "\n{csv}");
}
