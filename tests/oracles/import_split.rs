//! R-IMP-11 (file order, last wins) and R-IMP-16 (each row applies whole or not at all): an
//! import of a file leaves the book exactly as importing its rows one file at a time, in
//! order, would. The rows come from the input over a small vocabulary (known and new
//! identifiers, an identifier an unverified visitor holds, empty cells, cells that fail),
//! on a book with leads, a booted visitor, a member and, when the input says so, an MU
//! limit. Both books are compared whole: every contact (visible, hidden, blocked), MU and
//! pending unifications.
use std::io::Cursor;

use rolodex::ImportSource;

const EMAILS: [&str; 7] = [
    "a@x.com",
    "v@x.com",
    "m@x.com",
    "new1@x.com",
    "NEW1@x.com",
    "new2@x.com",
    "",
];
const MOBILES: [&str; 8] = [
    "+82 10-2020-3030",
    "+82 10-5555-6666",
    "+82 10-1111-2222",
    "+821011112222",
    "+82 10-7777-8888",
    "+82 10-2020-3030",
    "010-2020-3030",
    "",
];
const MEMBERS: [&str; 6] = ["m1", "m2", "m3", "m2", "m4", ""];

/// Runs the check on one input; panics where a rule is broken.
pub fn check(data: &[u8]) {
    let Some((&mode, rows)) = data.split_first() else {
        return;
    };
    // The identifier column, and the other contact column a row may change (R-IMP-5,
    // R-IMP-19), which can make a lead share a member's verified info (R-UNI-2).
    let (id_col, ids, other_col, others): (&str, &[&str], &str, &[&str]) = match mode % 3 {
        0 => ("profile.email", &EMAILS, "profile.mobileNumber", &MOBILES),
        1 => ("profile.mobileNumber", &MOBILES, "profile.email", &EMAILS),
        _ => ("memberId", &MEMBERS, "profile.email", &EMAILS),
    };
    let options = || super::import_options(mode);
    let limit = (mode & 8 != 0).then_some(u64::from(mode >> 4) % 6 + 1);
    let header =
        format!("{id_col},profile.name,profile.n,profile.l,profile.s,unsubscribeEmail,unsubscribeTexting,{other_col},tags\n");
    let lines: Vec<String> = rows
        .chunks(4)
        .take(12)
        .map(|r| {
            let (a, b, c, d) = (
                r[0],
                r.get(1).copied().unwrap_or(0),
                r.get(2).copied().unwrap_or(0),
                r.get(3).copied().unwrap_or(0),
            );
            [
                ids[usize::from(a) % ids.len()],
                ["", "Kim", "Lee", "  "][usize::from(a >> 4) % 4],
                ["", "1", "2.5", "7", "1", "", "2.5", "abc"][usize::from(b) % 8],
                ["", r#"["a"]"#, r#"["a", "b"]"#, r#"["b"]"#][usize::from(b >> 3) % 4],
                ["", "x", "=cmd", "y"][usize::from(b >> 5) % 4],
                // Mostly filled: a new contact needs both opt-outs (R-IMP-6).
                [
                    "true", "false", "true", "false", "true", "false", "", "maybe",
                ][usize::from(c) % 8],
                [
                    "true", "false", "true", "false", "true", "false", "true", "",
                ][usize::from(c >> 3) % 8],
                // Mostly empty, so that rows keep their other contact info.
                match d % 4 {
                    0 => others[usize::from(d >> 2) % others.len()],
                    _ => "",
                },
                ["", r#"["vip"]"#, r#"["a/b", "vip"]"#, r#"["x"]"#][usize::from(c >> 6) % 4],
            ]
            .iter()
            .map(|s| super::csv_cell(s))
            .collect::<Vec<_>>()
            .join(",")
        })
        .collect();
    if lines.is_empty() {
        return;
    }

    let whole = super::import_book(limit);
    let file = format!("{header}{}\n", lines.join("\n"));
    // The file is well formed and every column maps: the import runs (rows may fail).
    let report = whole
        .import_csv(
            ImportSource::reader(Cursor::new(file.into_bytes())),
            options(),
            None,
        )
        .unwrap_or_else(|e| panic!("the import of a well-formed file failed: {e}"));
    assert!(report.ignored_columns.is_empty(), "{report:?}");
    let split = super::import_book(limit);
    for line in &lines {
        let file = format!("{header}{line}\n");
        split
            .import_csv(
                ImportSource::reader(Cursor::new(file.into_bytes())),
                options(),
                None,
            )
            .unwrap();
    }
    assert_eq!(
        super::state(&whole),
        super::state(&split),
        "one import of\n{header}{}\nleft the book unlike its rows one by one",
        lines.join("\n")
    );
}
