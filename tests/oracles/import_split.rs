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
const MOBILES: [&str; 6] = [
    "+82 10-2020-3030",
    "010-2020-3030",
    "+82 10-5555-6666",
    "+82 10-1111-2222",
    "junk",
    "",
];
const MEMBERS: [&str; 4] = ["m1", "m2", "m3", ""];

fn cell(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Runs the check on one input; panics where a rule is broken.
pub fn check(data: &[u8]) {
    let Some((&mode, rows)) = data.split_first() else {
        return;
    };
    let (id_col, ids): (&str, &[&str]) = match mode % 3 {
        0 => ("email", &EMAILS),
        1 => ("mobileNumber", &MOBILES),
        _ => ("memberId", &MEMBERS),
    };
    let options = || super::import_options(mode);
    let limit = (mode & 8 != 0).then_some(u64::from(mode >> 4) % 6 + 1);
    let header = format!("{id_col},name,n,l,s,unsubscribeEmail\n");
    let lines: Vec<String> = rows
        .chunks(3)
        .take(12)
        .map(|r| {
            let (a, b, c) = (
                r[0],
                r.get(1).copied().unwrap_or(0),
                r.get(2).copied().unwrap_or(0),
            );
            [
                ids[usize::from(a) % ids.len()],
                ["", "Kim", "Lee", "  "][usize::from(a >> 4) % 4],
                ["", "1", "2.5", "abc"][usize::from(b) % 4],
                ["", "a", "a, b", "b"][usize::from(b >> 2) % 4],
                ["", "x", "=cmd", "y"][usize::from(b >> 4) % 4],
                ["", "true", "false", "maybe"][usize::from(c) % 4],
            ]
            .iter()
            .map(|s| cell(s))
            .collect::<Vec<_>>()
            .join(",")
        })
        .collect();
    if lines.is_empty() {
        return;
    }

    let whole = super::import_book(limit);
    let file = format!("{header}{}\n", lines.join("\n"));
    if whole
        .import_csv(
            ImportSource::reader(Cursor::new(file.into_bytes())),
            options(),
            None,
        )
        .is_err()
    {
        return;
    }
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
