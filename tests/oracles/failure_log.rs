//! R-IMP-13 against its text, on files of new leads whose rows come from the input, some
//! with a bad cell: the failure log holds only the failed rows, each with `rowNumber` (the
//! header is row 1), `errorColumns` naming the bad keys, `errorReasons`, then the row's
//! mapped keys with the original cell text — under the formula guard of R-EXP-3, so each
//! cell reads back as the first import read the original (R-IMP-20); and "the file can be
//! fixed and uploaded again as is": with the bad cells replaced, importing the log creates
//! exactly those rows, with the values the fixed rows give when imported themselves.
use std::io::Cursor;

use rolodex::{IdentifyBy, ImportOptions, ImportSource};

/// (column, good cells, a bad cell; any text is good for the string key).
const COLUMNS: [(&str, [&str; 3], &str); 5] = [
    ("profile.s", ["=x", "'=x", "''y"], "'x"),
    ("profile.n", ["1", "", "2.5"], "one"),
    ("profile.l", [r#"["a"]"#, "", r#"["a", "b"]"#], "[a"),
    ("unsubscribeEmail", ["true", "no", "false"], "maybe"),
    ("profile.mobileNumber", ["", "+82 10-3000-0001", ""], "12"),
];

/// A cell as the import reads it: trimmed, and without the formula guard (R-IMP-20).
fn read(text: &str) -> &str {
    let t = text.trim();
    match t.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r', '\'']) => rest,
        _ => t,
    }
}

/// Runs the check on one input; panics where a rule is broken.
pub fn check(data: &[u8]) {
    let book = super::book_with(&[
        ("profile.n", rolodex::FieldType::Number),
        ("profile.l", rolodex::FieldType::List),
        ("profile.s", rolodex::FieldType::String),
    ]);
    let mut header = vec!["profile.email", "unsubscribeTexting"];
    header.extend(COLUMNS.iter().map(|c| c.0));
    // Each row: its cells, and which columns hold a bad cell.
    let mut rows: Vec<(Vec<String>, Vec<&str>)> = Vec::new();
    for (i, c) in data.chunks(2).take(10).enumerate() {
        let (a, b) = (c[0], c.get(1).copied().unwrap_or(0));
        // Distinct mobile numbers, so that no two rows meet over one.
        let mobile = format!("+82 10-3000-{:04}", 100 + i);
        let mut cells = vec![format!("new{i}@x.com"), "false".to_string()];
        let mut bad = Vec::new();
        for (k, (column, good, wrong)) in COLUMNS.iter().enumerate() {
            let bits = u32::from(a) | u32::from(b) << 8;
            if bits >> (2 * k) & 3 == 0 && b & 0x80 != 0 && *column != "profile.s" {
                cells.push(wrong.to_string());
                bad.push(*column);
            } else if *column == "profile.mobileNumber" && b & 2 != 0 {
                cells.push(mobile.clone());
            } else {
                cells.push(good[usize::from(b >> 2) % 3].to_string());
            }
        }
        rows.push((cells, bad));
    }
    if rows.is_empty() {
        return;
    }
    let file = |rows: &[Vec<String>]| {
        let mut f = header.join(",") + "\n";
        for r in rows {
            f += &r
                .iter()
                .map(|s| super::csv_cell(s))
                .collect::<Vec<_>>()
                .join(",");
            f += "\n";
        }
        f.into_bytes()
    };
    let options = || {
        let mut o = ImportOptions::leads(IdentifyBy::Email);
        o.auto_map = true;
        o
    };
    let cells: Vec<Vec<String>> = rows.iter().map(|r| r.0.clone()).collect();
    let mut log = Vec::new();
    let report = book
        .import_csv_with_log(
            ImportSource::reader(Cursor::new(file(&cells))),
            options(),
            None,
            Some(&mut log),
        )
        .unwrap();
    let failed: Vec<usize> = (0..rows.len()).filter(|i| !rows[*i].1.is_empty()).collect();
    assert_eq!(report.failed as usize, failed.len(), "{report:?}");
    assert_eq!(
        report.created as usize,
        rows.len() - failed.len(),
        "{report:?}"
    );

    // The log: only the failed rows, in file order, each as the rule lays it out.
    let mut reader = csv::ReaderBuilder::new().from_reader(&log[..]);
    let log_header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        log_header[..3],
        ["rowNumber", "errorColumns", "errorReasons"],
        "{log_header:?}"
    );
    assert_eq!(
        log_header[3..],
        header[..],
        "the mapped keys, in file order"
    );
    let entries: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(entries.len(), failed.len());
    let mut fixed: Vec<Vec<String>> = Vec::new();
    for (e, &i) in entries.iter().zip(&failed) {
        assert_eq!(
            e[0].parse::<usize>().unwrap(),
            i + 2,
            "rowNumber: the header is row 1"
        );
        for column in &rows[i].1 {
            assert!(
                e[1].contains(column),
                "errorColumns {:?} names {column}",
                &e[1]
            );
        }
        assert!(!e[2].is_empty(), "a reason");
        let logged: Vec<&str> = e.iter().skip(3).collect();
        let read_logged: Vec<&str> = logged.iter().map(|t| read(t)).collect();
        let read_original: Vec<&str> = rows[i].0.iter().map(|t| read(t)).collect();
        assert_eq!(
            read_logged, read_original,
            "the cells read as the originals: {logged:?}"
        );
        for t in &logged {
            assert!(
                !t.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a logged cell starts like a formula: {t:?}"
            );
        }
        let original = logged;
        // The fix: each bad cell replaced by a good one.
        fixed.push(
            original
                .iter()
                .zip(&header)
                .map(|(text, key)| match COLUMNS.iter().find(|c| c.0 == *key) {
                    Some((_, good, _)) if rows[i].1.contains(key) => good[0].to_string(),
                    _ => text.to_string(),
                })
                .collect(),
        );
    }
    // "can be fixed and uploaded again as is": the log itself, with the fixes, its first three
    // columns left in.
    let mut again = log_header.join(",") + "\n";
    for (e, f) in entries.iter().zip(&fixed) {
        let mut r: Vec<String> = e.iter().take(3).map(super::csv_cell).collect();
        r.extend(f.iter().map(|s| super::csv_cell(s)));
        again += &r.join(",");
        again += "\n";
    }
    let report = book
        .import_csv(
            ImportSource::reader(Cursor::new(again.into_bytes())),
            options(),
            None,
        )
        .unwrap_or_else(|e| panic!("the fixed log does not import: {e}"));
    assert_eq!(
        (report.created as usize, report.failed),
        (failed.len(), 0),
        "{report:?}"
    );
    // The same fixed rows, imported themselves, give the same contacts.
    let direct = super::book_with(&[
        ("profile.n", rolodex::FieldType::Number),
        ("profile.l", rolodex::FieldType::List),
        ("profile.s", rolodex::FieldType::String),
    ]);
    let fixed_originals: Vec<Vec<String>> = failed
        .iter()
        .zip(&fixed)
        .map(|(&i, f)| {
            f.iter()
                .zip(&rows[i].0)
                .zip(&header)
                .map(|((f, o), key)| {
                    if rows[i].1.contains(key) {
                        f.clone()
                    } else {
                        o.clone()
                    }
                })
                .collect()
        })
        .collect();
    direct
        .import_csv(
            ImportSource::reader(Cursor::new(file(&fixed_originals))),
            options(),
            None,
        )
        .unwrap();
    let profiles = |b: &rolodex::ContactBook| -> Vec<serde_json::Value> {
        let mut v: Vec<serde_json::Value> = super::everyone(b)
            .iter()
            .filter(|c| {
                failed
                    .iter()
                    .any(|&i| c.email() == Some(&format!("new{i}@x.com")))
            })
            .map(|c| serde_json::to_value(&c.profile).unwrap())
            .collect();
        v.sort_by_key(|p| p["email"].to_string());
        v
    };
    assert_eq!(
        profiles(&book),
        profiles(&direct),
        "the fixed log against the fixed rows"
    );
}
