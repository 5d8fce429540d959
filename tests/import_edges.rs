//! The bulk import's input and output edges (R-IMP-2/12/13/14/15/16/18/20,
//! R-EXP-3, API.md import options, report, preview, template, progress), public API only.

use std::io::Cursor;

use rolodex::{
    Contact, ContactBook, ErrorKind, FieldType, IdentifyBy, ImportKind, ImportOptions,
    ImportReport, ImportSource, NewLead, Progress,
};

mod support;
use support::{all, book_at, import_with_log, leads};

fn members() -> ImportOptions {
    ImportOptions {
        auto_map: true,
        ..ImportOptions::members()
    }
}

fn import_bytes(
    book: &ContactBook,
    bytes: &[u8],
    mut options: ImportOptions,
) -> rolodex::Result<ImportReport> {
    options.file_name = Some("f.csv".into());
    book.import_csv(
        ImportSource::reader(Cursor::new(bytes.to_vec())),
        options,
        None,
    )
}

fn fingerprint(book: &ContactBook) -> String {
    let contacts: Vec<_> = all(book).iter().map(Contact::to_json).collect();
    format!(
        "{}|{}",
        serde_json::to_string(&contacts).unwrap(),
        book.mu_count().unwrap()
    )
}

fn by_member(book: &ContactBook, m: &str) -> Contact {
    all(book)
        .into_iter()
        .find(|c| c.member_id.as_deref() == Some(m))
        .unwrap_or_else(|| panic!("no member {m}"))
}

fn pv(c: &Contact, key: &str) -> Option<String> {
    c.profile.get(key).map(|v| v.canonical())
}

fn records(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

// ---------------------------------------------------------------------------------------
// R-IMP-2 / R-IMP-16: encodings and BOMs

/// R-IMP-2: "UTF-8 with or without BOM".
#[test]
fn r_imp_2_utf8_bom_header_is_mapped() {
    let book = book_at("2025-06-01T00:00:00Z");
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(
        "memberId,profile.name,unsubscribeEmail,unsubscribeTexting\nm1,김민준,false,false\n"
            .as_bytes(),
    );
    let r = import_bytes(&book, &bytes, members()).unwrap();
    assert_eq!((r.created, r.failed), (1, 0));
    assert_eq!(
        pv(&by_member(&book, "m1"), "name"),
        Some("김민준".to_string())
    );
}

/// R-IMP-2/16: "A file that is not UTF-8 is rejected with an error that says so"; "The
/// encoding check (R-IMP-2) scans the file before any change" — a bad byte in the last row.
#[test]
fn r_imp_2_bad_byte_in_last_row_rejects_whole_file_before_any_change() {
    let book = book_at("2025-06-01T00:00:00Z");
    let before = fingerprint(&book);
    let mut bytes = b"memberId,profile.name,unsubscribeEmail,unsubscribeTexting\n".to_vec();
    for i in 0..200 {
        bytes.extend_from_slice(format!("m{i},N{i},false,false\n").as_bytes());
    }
    bytes.extend_from_slice(b"mz,bad\xFFname,false,false\n");
    let e = import_bytes(&book, &bytes, members()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("UTF-8"), "{e}");
    assert_eq!(fingerprint(&book), before);
    // The lock was released on this path (R-IMP-15).
    let ok = b"memberId,unsubscribeEmail,unsubscribeTexting\nm1,false,false\n";
    assert_eq!(import_bytes(&book, ok, members()).unwrap().created, 1);
}

/// R-IMP-2: a UTF-16 file is not UTF-8 and is rejected unless the caller names it.
#[test]
fn r_imp_2_utf16_rejected_unless_named() {
    let book = book_at("2025-06-01T00:00:00Z");
    let text = "memberId,profile.name,unsubscribeEmail,unsubscribeTexting\nm1,김민준,false,false\n";
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let e = import_bytes(&book, &bytes, members()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("UTF-8"), "{e}");
    assert_eq!(book.mu_count().unwrap(), 0);
    let mut o = members();
    o.encoding = Some("utf-16le".into());
    let r = import_bytes(&book, &bytes, o).unwrap();
    assert_eq!((r.created, r.failed), (1, 0));
    assert_eq!(
        pv(&by_member(&book, "m1"), "name"),
        Some("김민준".to_string())
    );
}

/// R-IMP-2 "[ours: or decoded, if the caller names an encoding]": EUC-KR (cp949), and a bad
/// byte for the named encoding rejects the whole file before any change.
#[test]
fn r_imp_2_named_encoding_and_its_bad_bytes() {
    let book = book_at("2025-06-01T00:00:00Z");
    let text = "memberId,profile.name,unsubscribeEmail,unsubscribeTexting\nm1,김민준,false,false\n";
    // 김민준 in EUC-KR.
    let euc: Vec<u8> = text
        .replace("김민준", "\u{1}")
        .into_bytes()
        .into_iter()
        .flat_map(|b| {
            if b == 1 {
                vec![0xB1, 0xE8, 0xB9, 0xCE, 0xC1, 0xD8]
            } else {
                vec![b]
            }
        })
        .collect();
    let e = import_bytes(&book, &euc, members()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let mut o = members();
    o.encoding = Some("cp949".into());
    let mut bad = euc.to_vec();
    bad.extend_from_slice(b"m2,\xFF\xFF,false,false\n");
    assert_eq!(
        import_bytes(&book, &bad, o.clone()).unwrap_err().kind(),
        ErrorKind::Validation
    );
    assert_eq!(book.mu_count().unwrap(), 0);
    let r = import_bytes(&book, &euc, o).unwrap();
    assert_eq!(r.created, 1);
    assert_eq!(
        pv(&by_member(&book, "m1"), "name"),
        Some("김민준".to_string())
    );
}

/// R-IMP-13: the failure log "can be fixed and re-imported as is" — also when the import
/// decoded its file from a named encoding: the log is UTF-8 and starts with a BOM, which
/// decides its encoding over the named one, so the same options read it. A UTF-8 import's
/// log has no BOM.
#[test]
fn r_imp_13_failure_log_of_a_named_encoding_reimports_with_the_same_options() {
    let book = book_at("2025-06-01T00:00:00Z");
    // 김민준 and 이서연 in EUC-KR; m2 lacks its opt-outs, so its row fails (R-IMP-6).
    let euc = [
        &b"memberId,profile.name,unsubscribeEmail,unsubscribeTexting\nm1,"[..],
        &[0xB1, 0xE8, 0xB9, 0xCE, 0xC1, 0xD8],
        b",false,false\nm2,",
        &[0xC0, 0xCC, 0xBC, 0xAD, 0xBF, 0xAC],
        b",,\n",
    ]
    .concat();
    let mut o = members();
    o.encoding = Some("cp949".into());
    let import = |bytes: &[u8], o: ImportOptions| {
        let mut log = Vec::new();
        let r = book
            .import_csv_with_log(
                ImportSource::reader(Cursor::new(bytes.to_vec())),
                o,
                None,
                Some(&mut log),
            )
            .unwrap();
        (r, String::from_utf8(log).unwrap())
    };
    let (r, log) = import(&euc, o.clone());
    assert_eq!((r.created, r.failed), (1, 1));
    assert!(log.starts_with("\u{feff}rowNumber,"), "{log}");
    assert!(log.contains("m2,이서연,,"), "{log}");
    let fixed = log.replace("m2,이서연,,", "m2,이서연,false,false");
    let (again, log) = import(fixed.as_bytes(), o);
    assert_eq!((again.created, again.failed), (1, 0), "{log}");
    assert_eq!(
        pv(&by_member(&book, "m2"), "name"),
        Some("이서연".to_string())
    );
    // A UTF-8 import's log is as before: no BOM.
    let (_, log) = import(
        b"memberId,unsubscribeEmail,unsubscribeTexting\nm3,,\n",
        members(),
    );
    assert!(log.starts_with("rowNumber,"), "{log}");
}

// ---------------------------------------------------------------------------------------
// R-IMP-2: the 100 MiB limit

const MIB100: u64 = 100 * 1024 * 1024;

/// R-IMP-2: "a CSV file of at most 100 MiB (bigger is rejected before any change)".
#[test]
fn r_imp_2_exactly_100_mib_is_accepted_and_one_byte_more_rejected() {
    let book = book_at("2025-06-01T00:00:00Z");
    let head = b"memberId,unsubscribeEmail,unsubscribeTexting\nm1,false,false\n";
    let mut bytes = head.to_vec();
    bytes.resize(MIB100 as usize, b'\n'); // blank lines are not rows
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.csv");
    std::fs::write(&path, &bytes).unwrap();
    let r = book.import_csv(path.as_path(), members(), None).unwrap();
    assert_eq!((r.rows, r.created), (1, 1));
    bytes.push(b'\n');
    let before = fingerprint(&book);
    std::fs::write(&path, &bytes).unwrap();
    let e = book
        .import_csv(path.as_path(), members(), None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("100 MiB"), "{e}");
    let e = import_bytes(&book, &bytes, members()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(fingerprint(&book), before);
}

// ---------------------------------------------------------------------------------------
// R-IMP-14 / API.md: preview

/// R-IMP-14: "the header and at most the first 30 rows, every column"; API.md
/// `totalRows`; R-IMP-12 "Blank lines are not rows"; a quoted newline is inside one row.
#[test]
fn r_imp_14_preview_rows_columns_total() {
    let mut text = String::from("\u{FEFF}a,b,c\n\n");
    text.push_str("\"x\ny\",2,3\n");
    for i in 0..40 {
        text.push_str(&format!("r{i},{i},z\n\n"));
    }
    let p = rolodex::preview_csv(Cursor::new(text.into_bytes())).unwrap();
    assert_eq!(p.header, vec!["a", "b", "c"]);
    assert_eq!(p.rows.len(), 30);
    assert_eq!(p.total_rows, 41);
    assert_eq!(p.rows[0], vec!["x\ny", "2", "3"]);
    assert_eq!(p.rows[29], vec!["r28", "28", "z"]);
}

// ---------------------------------------------------------------------------------------
// API.md: template

/// API.md: "`template(kind, identify_by)` — the header row of an import file: the
/// identifier column first, then every editable key, the two opt-out fields included."
#[test]
fn api_template_identifier_first_then_editable_keys_in_display_order() {
    let book = ContactBook::in_memory();
    book.define_key("profile.city", FieldType::String).unwrap();
    book.define_key("profile.spent", FieldType::Number).unwrap();
    book.define_key("profile.old", FieldType::String).unwrap();
    book.archive_key("profile.old").unwrap();
    let t = book
        .template(ImportKind::Leads, IdentifyBy::MobileNumber)
        .unwrap();
    assert_eq!(t[0], "profile.mobileNumber");
    assert_eq!(t.iter().filter(|k| *k == "profile.mobileNumber").count(), 1);
    for k in [
        "profile.email",
        "profile.name",
        "tags",
        "unsubscribeEmail",
        "unsubscribeTexting",
        "profile.city",
        "profile.spent",
    ] {
        assert!(t.iter().any(|x| x == k), "{k} missing from {t:?}");
    }
    for k in [
        "id",
        "memberId",
        "createdAt",
        "userImportTags",
        "blocked",
        "member",
        "profile.old",
    ] {
        assert!(!t.iter().any(|x| x == k), "{k} in {t:?}");
    }
    // Display order (R-SCH-4) is followed after the identifier.
    let order: Vec<String> = book
        .schema()
        .unwrap()
        .into_iter()
        .map(|d| d.key)
        .filter(|k| t[1..].contains(k))
        .collect();
    assert_eq!(&t[1..], &order[..]);
    let m = book
        .template(ImportKind::Members, IdentifyBy::MemberId)
        .unwrap();
    assert_eq!(m[0], "memberId");
    assert!(m.iter().any(|x| x == "profile.email"));
    assert!(m.iter().any(|x| x == "unsubscribeTexting"));
}

// ---------------------------------------------------------------------------------------
// R-IMP-16 / API.md: progress

/// API.md "Progress is reported as {rowsDone, rowsTotal, bytesDone, bytesTotal}"; R-IMP-16.
#[test]
fn r_imp_16_progress_monotonic_and_final() {
    let book = book_at("2025-06-01T00:00:00Z");
    let mut text =
        String::from("\u{FEFF}memberId,profile.name,unsubscribeEmail,unsubscribeTexting\n");
    for i in 0..3000 {
        text.push_str(&format!("m{i},\"N\n{i}\",false,false\n\n"));
    }
    text.push_str("m-bad,x,maybe,false\n");
    let size = text.len() as u64;
    let mut seen: Vec<Progress> = Vec::new();
    let mut o = members();
    o.file_name = Some("p.csv".into());
    let r = book
        .import_csv(
            ImportSource::reader(Cursor::new(text.into_bytes())),
            o,
            Some(&mut |p| seen.push(p)),
        )
        .unwrap();
    assert_eq!((r.rows, r.created, r.failed), (3001, 3000, 1));
    assert!(seen.len() >= 2);
    for w in seen.windows(2) {
        assert!(w[0].rows_done <= w[1].rows_done && w[0].bytes_done <= w[1].bytes_done);
    }
    for p in &seen {
        assert_eq!((p.rows_total, p.bytes_total), (3001, size));
        assert!(p.rows_done <= p.rows_total && p.bytes_done <= p.bytes_total);
    }
    let last = seen.last().unwrap();
    assert_eq!((last.rows_done, last.bytes_done), (3001, size));
}

// ---------------------------------------------------------------------------------------
// R-IMP-15: the import lock

/// R-IMP-15: "a second one started meanwhile fails at once with ImportInProgress and
/// changes nothing"; the lock is released when the import ends, also after a failure.
#[test]
fn r_imp_15_second_import_meanwhile_and_release() {
    let book = book_at("2025-06-01T00:00:00Z");
    let text = "memberId,unsubscribeEmail,unsubscribeTexting\nm1,false,false\nm2,false,false\n";
    let mut inner: Vec<ErrorKind> = Vec::new();
    let mut o = members();
    o.file_name = Some("a.csv".into());
    let r = book
        .import_csv(
            ImportSource::reader(Cursor::new(text.as_bytes().to_vec())),
            o,
            Some(&mut |_p| {
                let e = import_bytes(
                    &book,
                    b"memberId,unsubscribeEmail,unsubscribeTexting\nzz,false,false\n",
                    members(),
                )
                .unwrap_err();
                inner.push(e.kind());
                // A dry run is an import too.
                let mut d = members();
                d.dry_run = true;
                inner.push(
                    import_bytes(&book, b"memberId\nzz\n", d)
                        .unwrap_err()
                        .kind(),
                );
            }),
        )
        .unwrap();
    assert_eq!(r.created, 2);
    assert!(!inner.is_empty());
    assert!(
        inner.iter().all(|k| *k == ErrorKind::ImportInProgress),
        "{inner:?}"
    );
    assert!(all(&book)
        .iter()
        .all(|c| c.member_id.as_deref() != Some("zz")));
    // Released after a mapping error and after a panic in the progress callback.
    let e = import_bytes(&book, b"nope\nx\n", members()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut o = members();
        o.file_name = Some("b.csv".into());
        let _ = book.import_csv(
            ImportSource::reader(Cursor::new(text.as_bytes().to_vec())),
            o,
            Some(&mut |_p| panic!("callback")),
        );
    }));
    assert!(caught.is_err());
    let r = import_bytes(&book, text.as_bytes(), members()).unwrap();
    assert_eq!(r.updated, 2);
}

// ---------------------------------------------------------------------------------------
// R-IMP-18: dry run

fn dry_vs_real(setup: &dyn Fn(&ContactBook), text: &str, options: ImportOptions) {
    let a = book_at("2025-06-01T00:00:00Z");
    let b = book_at("2025-06-01T00:00:00Z");
    setup(&a);
    setup(&b);
    let before = fingerprint(&a);
    let mut d = options.clone();
    d.dry_run = true;
    let (mut dry, dry_log) = import_with_log(&a, "f.csv", text, d);
    assert_eq!(fingerprint(&a), before, "a dry run applies nothing");
    let (real, real_log) = import_with_log(&b, "f.csv", text, options);
    assert!(dry.dry_run && !real.dry_run);
    dry.dry_run = false;
    assert_eq!(dry, real);
    assert_eq!(dry_log, real_log);
}

/// R-IMP-18: "A dry run applies nothing and returns the report the import would produce,
/// with the MU it would reach and how many contacts would be hidden".
#[test]
fn r_imp_18_dry_run_report_equals_real_one() {
    let setup = |b: &ContactBook| {
        b.add_lead(NewLead {
            email: Some("a@x.com".into()),
            ..Default::default()
        })
        .unwrap();
        b.set_mu_limit(Some(3)).unwrap();
    };
    let text = "email,profile.name,unsubscribeEmail,unsubscribeTexting,extra\n\
                a@x.com,A,,,q\n\
                b@x.com,B,false,false,q\n\
                c@x.com,C,false,\n\
                d@x.com,D,false,false,q\n\
                e@x.com,E,false,false,q\n\
                b@x.com,B2,true,,q\n\
                bad,X,false,false,q\n";
    let mut o = leads();
    o = o.map("email", Some("profile.email"));
    dry_vs_real(&setup, text, o);
}

// ---------------------------------------------------------------------------------------
// R-IMP-13: the failure log

/// R-IMP-13: column 1 `rowNumber` (header = row 1), column 2 `errorColumns`, column 3
/// `errorReasons`, then the row's mapped keys with the original cell text; only failed rows.
#[test]
fn r_imp_13_failure_log_layout_and_quoting() {
    let book = book_at("2025-06-01T00:00:00Z");
    book.define_key("profile.spent", FieldType::Number).unwrap();
    let text = "Member,Spent,Note,unsubscribeEmail,unsubscribeTexting\n\
                m1,10,ok,false,false\n\
                \n\
                m2,1x,\"a, \"\"b\"\"\nc\",false,false\n\
                m3,3,ok,false,false\n\
                m4,zz,plain,false,false\n";
    book.define_key("profile.note", FieldType::String).unwrap();
    let o = ImportOptions::members()
        .map("Member", Some("memberId"))
        .map("Spent", Some("profile.spent"))
        .map("Note", Some("profile.note"))
        .map("unsubscribeEmail", Some("unsubscribeEmail"))
        .map("unsubscribeTexting", Some("unsubscribeTexting"));
    let (r, log) = import_with_log(&book, "f.csv", text, o);
    assert_eq!((r.created, r.failed), (2, 2));
    let recs = records(&log);
    assert_eq!(
        recs[0],
        vec![
            "rowNumber",
            "errorColumns",
            "errorReasons",
            "memberId",
            "profile.spent",
            "profile.note",
            "unsubscribeEmail",
            "unsubscribeTexting"
        ]
    );
    assert_eq!(recs.len(), 3);
    assert_eq!(recs[1][0], "4");
    assert_eq!(recs[1][1], "profile.spent");
    assert!(!recs[1][2].is_empty());
    assert_eq!(
        &recs[1][3..],
        &["m2", "1x", "a, \"b\"\nc", "false", "false"]
    );
    assert_eq!(recs[2][0], "6");
    assert_eq!(&recs[2][3..], &["m4", "zz", "plain", "false", "false"]);
}

/// Imports `original` (one failing row) into a book and re-imports its failure log with
/// `fix` applied (R-IMP-13 "so the file can be fixed and uploaded again as is"); imports
/// `original` with the same `fix` into another book. Returns the two members `m`.
fn log_round_trip(original: &str, fix: (&str, &str), m: &str) -> (Contact, Contact, String) {
    let setup = |b: &ContactBook| {
        b.define_key("profile.spent", FieldType::Number).unwrap();
        b.define_key("profile.note", FieldType::String).unwrap();
    };
    let direct = book_at("2025-06-01T00:00:00Z");
    setup(&direct);
    let r = import_bytes(
        &direct,
        original.replace(fix.0, fix.1).as_bytes(),
        members(),
    )
    .unwrap();
    assert_eq!((r.created, r.failed), (1, 0), "{r:?}");

    let via_log = book_at("2025-06-01T00:00:00Z");
    setup(&via_log);
    let (r, log) = import_with_log(&via_log, "f.csv", original, members());
    assert_eq!((r.created, r.failed), (0, 1), "{r:?}");
    let fixed = log.replace(fix.0, fix.1);
    let r = import_bytes(&via_log, fixed.as_bytes(), members()).unwrap();
    assert_eq!((r.created, r.failed), (1, 0), "{r:?}\n{fixed}");
    assert_eq!(
        r.ignored_columns,
        vec!["rowNumber", "errorColumns", "errorReasons"]
    );
    (by_member(&direct, m), by_member(&via_log, m), log)
}

/// R-IMP-13 with R-IMP-16: "then the row's mapped keys with the original cell text, so the
/// file can be fixed and uploaded again". A cell with text after its closing quote
/// (`"Kim"Lee`, which a CSV reader reads as `KimLee`) and a quote never closed appear in the
/// failure log as they stand in the file, so what is wrong can be seen; fixed there, the
/// row imports.
#[test]
fn r_imp_13_failure_log_shows_malformed_cells_as_they_stand() {
    let book = book_at("2025-06-01T00:00:00Z");
    let text = "memberId,profile.name,unsubscribeEmail,unsubscribeTexting\n\
                m1,\"Kim\"Lee,false,false\n\
                m2,Park,false,false\n\
                m3,\"Choi,false,false\r\n\
                m4,Jung,false,false\n";
    let (r, log) = import_with_log(&book, "f.csv", text, members());
    assert_eq!((r.created, r.failed), (1, 2), "{r:?}");
    let recs = records(&log);
    assert_eq!(recs.len(), 3, "{log}");
    assert_eq!(
        (recs[1][0].as_str(), recs[1][1].as_str()),
        ("2", "profile.name")
    );
    assert_eq!(
        &recs[1][3..],
        &["m1", "\"Kim\"Lee", "false", "false"],
        "{log}"
    );
    assert_eq!(
        (recs[2][0].as_str(), recs[2][1].as_str()),
        ("4", "profile.name")
    );
    assert_eq!(
        &recs[2][3..],
        &["m3", "\"Choi,false,false\r\nm4,Jung,false,false\n", "", ""],
        "{log}"
    );
    // The first entry fixed as its owner meant it, the second left out: m1 imports.
    let mut fixed = csv::Writer::from_writer(Vec::new());
    fixed.write_record(&recs[0]).unwrap();
    let mut row = recs[1].clone();
    row[4] = "Kim Lee".into();
    fixed.write_record(&row).unwrap();
    let fixed = fixed.into_inner().unwrap();
    let r = import_bytes(&book, &fixed, members()).unwrap();
    assert_eq!((r.created, r.failed), (1, 0), "{r:?}");
    assert_eq!(pv(&by_member(&book, "m1"), "name"), Some("Kim Lee".into()));
}

/// R-IMP-13 + R-IMP-20/R-EXP-3: formula-like cells in a failure log (guarded or already
/// guarded in the source) re-import to the values the fixed source file gives.
#[test]
fn r_imp_13_failure_log_round_trip_formula_cells() {
    let original =
        "memberId,profile.name,profile.note,profile.spent,unsubscribeEmail,unsubscribeTexting\n\
                    -m1,'=x,\"@a, \"\"b\"\"\",1x,false,false\n";
    let (d, l, log) = log_round_trip(original, (",1x,", ",1,"), "-m1");
    assert_eq!(pv(&d, "name"), Some("=x".into()));
    assert_eq!(pv(&d, "note"), Some("@a, \"b\"".into()));
    assert_eq!(d.profile, l.profile, "{log}");
    // No cell of the log runs as a formula.
    for rec in records(&log).iter().skip(1) {
        for cell in &rec[3..] {
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell:?} in {log}");
        }
    }
}

/// R-IMP-13: "then the row's mapped keys with the original cell text, so the file can be
/// fixed and uploaded again as is". A cell holding only a tab is empty to the import
/// (R-VAL-1); its failure-log cell must re-import as empty too.
#[test]
fn r_imp_13_failure_log_round_trip_whitespace_only_tab_cell() {
    let original =
        "memberId,profile.name,profile.note,profile.spent,unsubscribeEmail,unsubscribeTexting\n\
                    m1,\t,ok,1x,false,false\n";
    let (d, l, log) = log_round_trip(original, (",1x,", ",1,"), "m1");
    assert_eq!(pv(&d, "name"), None);
    assert_eq!(pv(&l, "name"), None, "re-uploaded failure log:\n{log:?}");
    let recs = records(&log);
    assert_eq!(recs[1][4], "\t", "the original cell text; log:\n{log:?}");
}

/// R-IMP-18 with unification (R-UNI-2/3/4) and an unterminated quote (R-IMP-16): the dry
/// run's report and failure log equal the real run's.
#[test]
fn r_imp_18_dry_run_equals_real_with_unification_and_unterminated_quote() {
    let setup = |b: &ContactBook| {
        b.add_lead(NewLead {
            email: Some("l1@x.com".into()),
            name: Some("L1".into()),
            ..Default::default()
        })
        .unwrap();
        let booted = b
            .add_lead(NewLead {
                email: Some("l2@x.com".into()),
                ..Default::default()
            })
            .unwrap();
        b.boot(serde_json::from_value(serde_json::json!({"contactId": booted.id})).unwrap())
            .unwrap();
        b.set_mu_limit(Some(3)).unwrap();
    };
    let text = "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\n\
                m1,l1@x.com,false,false\n\
                m2,l2@x.com,true,false\n\
                m3,,false,false\n\
                m4,\"open,false,false\n\
                m5,,false,false\n";
    dry_vs_real(&setup, text, members());
}

/// A CSV cell holding `items` as a JSON array, quoted for the file.
fn list_cell(items: &[String]) -> String {
    format!(
        "\"{}\"",
        serde_json::to_string(items).unwrap().replace('"', "\"\"")
    )
}

/// R-SCH-7 with R-IMP-8: "a write that would break a limit — an append past 200 items
/// included — is rejected whole"; an import's list cell appends, "dropping values already
/// present", its own repeats among them. So the limit counts the items the row stores: a
/// cell of 201 items of which 200 differ stores 200 and applies, on a new contact and on
/// one whose list it re-sends; 201 different items fail the row; a cell of many repeats of
/// one item stores it once. `listOfNumber` alike, and a dry run agrees (the cell was held to
/// 200 items as written, repeats counted, unlike `tags`).
#[test]
fn r_sch_7_an_import_list_cell_counts_the_items_it_stores_not_its_repeats() {
    for dry_run in [true, false] {
        let b = book_at("2025-01-01T00:00:00Z");
        b.define_key("profile.l", rolodex::FieldType::List).unwrap();
        b.define_key("profile.n", rolodex::FieldType::ListOfNumber)
            .unwrap();
        let texts =
            |r: std::ops::Range<usize>| -> Vec<String> { r.map(|i| format!("i{i}")).collect() };
        // The numbers of `r`, comma-separated.
        let numbers = |r: std::ops::Range<usize>| -> String {
            r.map(|i| i.to_string()).collect::<Vec<_>>().join(",")
        };
        let mut repeated = texts(0..200);
        repeated.push("i0".into());
        let once = vec!["x".to_string(); 100_000];
        let mut rows =
            String::from("profile.email,profile.l,profile.n,unsubscribeEmail,unsubscribeTexting\n");
        // 201 items, 200 different, in both list types: stored as 200.
        rows += &format!(
            "a@x.com,{},\"[{},0]\",false,false\n",
            list_cell(&repeated),
            numbers(0..200)
        );
        // 201 different items: the row fails.
        rows += &format!("b@x.com,{},,false,false\n", list_cell(&texts(0..201)));
        rows += &format!("c@x.com,,\"[{}]\",false,false\n", numbers(0..201));
        // 100,000 repeats of one item: stored once.
        rows += &format!("d@x.com,{},,false,false\n", list_cell(&once));
        let o = ImportOptions { dry_run, ..leads() };
        let r = support::import_named(&b, "l.csv", &rows, o).unwrap();
        assert_eq!(
            (r.created, r.failed),
            (2, 2),
            "dry run {dry_run}: {:?}",
            r.failures
        );
        let rows_failed: Vec<u64> = r.failures.iter().map(|f| f.row_number).collect();
        assert_eq!(rows_failed, [3, 4]);
        for f in &r.failures {
            assert!(
                f.error_reasons[0].contains("200 different items"),
                "{:?}",
                f.error_reasons
            );
        }
        if dry_run {
            assert!(all(&b).is_empty());
            continue;
        }
        let a = b
            .search(&support::q(serde_json::json!({"terms": "a@x.com"})))
            .unwrap();
        let a = b.get(&a.contacts[0].id).unwrap().to_json();
        assert_eq!(a["profile"]["l"].as_array().unwrap().len(), 200);
        assert_eq!(a["profile"]["n"].as_array().unwrap().len(), 200);
        let d = b
            .search(&support::q(serde_json::json!({"terms": "d@x.com"})))
            .unwrap();
        assert_eq!(
            b.get(&d.contacts[0].id).unwrap().to_json()["profile"]["l"],
            serde_json::json!(["x"])
        );

        // On the contact holding 200: its list re-sent with a repeat and nothing new
        // stores 200; one new item would make 201 and fails the row.
        let again = format!(
            "profile.email,profile.l\na@x.com,{}\n",
            list_cell(&repeated)
        );
        let r = support::import_named(&b, "m.csv", &again, leads()).unwrap();
        assert_eq!((r.updated, r.failed), (1, 0), "{:?}", r.failures);
        let mut more = repeated.clone();
        more.push("new".into());
        let r = support::import_named(
            &b,
            "n.csv",
            &format!("profile.email,profile.l\na@x.com,{}\n", list_cell(&more)),
            leads(),
        )
        .unwrap();
        assert_eq!(r.failed, 1);
    }
}
