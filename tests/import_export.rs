//! Bulk CSV import and export on the contact book, each test named after the rule it checks
//! (R-IMP, R-EXP, R-MU-5, R-UNI-2/3/4, R-CON-6), through the public API. Fixtures are in
//! `tests/fixtures/`.

use std::io::Cursor;
use std::path::PathBuf;
use std::sync::mpsc;

use rolodex::{
    ActivityQuery, Boot, Contact, ContactBook, EmptyCells, ErrorKind, ExportOptions, FieldType,
    IdentifyBy, ImportOptions, ImportReport, ImportSource, Manager, NewLead, Permission, Progress,
    Query, Value,
};
use serde_json::json;

mod support;
use support::{all, book_at, export_text, import_with_log, leads, t, FailsOnce, Hiccup};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn members() -> ImportOptions {
    ImportOptions {
        auto_map: true,
        ..ImportOptions::members()
    }
}

/// Imports CSV text (as a reader named `file`).
fn import_text(
    book: &ContactBook,
    file: &str,
    text: &str,
    mut options: ImportOptions,
) -> rolodex::Result<ImportReport> {
    options.file_name = Some(file.to_string());
    book.import_csv(
        ImportSource::reader(Cursor::new(text.as_bytes().to_vec())),
        options,
        None,
    )
}

fn import_ok(book: &ContactBook, file: &str, text: &str, options: ImportOptions) -> ImportReport {
    import_text(book, file, text, options).unwrap()
}

/// Everything a failed call must leave as it was.
fn fingerprint(book: &ContactBook) -> String {
    let contacts: Vec<_> = all(book).iter().map(Contact::to_json).collect();
    format!(
        "{}|{}|{:?}",
        serde_json::to_string(&contacts).unwrap(),
        book.mu_count().unwrap(),
        book.pending_unifications().unwrap()
    )
}

fn by_email(book: &ContactBook, email: &str) -> Contact {
    let found: Vec<Contact> = all(book)
        .into_iter()
        .filter(|c| c.email().is_some_and(|e| e.eq_ignore_ascii_case(email)))
        .collect();
    assert_eq!(found.len(), 1, "{email}: {found:?}");
    found.into_iter().next().unwrap()
}

fn by_member(book: &ContactBook, member_id: &str) -> Contact {
    all(book)
        .into_iter()
        .find(|c| c.member_id.as_deref() == Some(member_id))
        .unwrap_or_else(|| panic!("no member {member_id}"))
}

fn text(c: &Contact, name: &str) -> Option<String> {
    c.profile.get(name).map(Value::canonical)
}

// ----- R-IMP -----

#[test]
fn r_imp_1_identifier_fits_the_kind() {
    let book = ContactBook::in_memory();
    let mut o = leads();
    o.identify_by = Some(IdentifyBy::MemberId);
    let e = import_text(&book, "x.csv", "memberId\nm1\n", o).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(all(&book).is_empty());
}

#[test]
fn r_imp_2_not_utf8_or_too_big_rejected_before_any_change() {
    let book = ContactBook::in_memory();
    book.add_lead(NewLead::email("a@x.com")).unwrap();
    let before = fingerprint(&book);
    // The last row is Latin-1: the whole file is checked before the first row applies.
    let mut bytes =
        b"email,profile.name,unsubscribeEmail,unsubscribeTexting\na@x.com,A,false,false\n".to_vec();
    bytes.extend_from_slice(b"b@x.com,Jos\xe9,false,false\n");
    let mut o = leads();
    o.file_name = Some("latin1.csv".into());
    let e = book
        .import_csv(ImportSource::reader(Cursor::new(bytes)), o, None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("UTF-8"), "{e}");
    assert_eq!(fingerprint(&book), before);

    let big = vec![b'a'; 100 * 1024 * 1024 + 1];
    let e = book
        .import_csv(ImportSource::reader(Cursor::new(big)), leads(), None)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(fingerprint(&book), before);
}

#[test]
fn r_imp_3_bad_mapping_is_an_error_before_any_row() {
    let book = ContactBook::in_memory();
    book.define_key("profile.city", FieldType::String).unwrap();
    book.define_key("profile.old", FieldType::String).unwrap();
    book.archive_key("profile.old").unwrap();
    let rows = "email,x,unsubscribeEmail,unsubscribeTexting\na@x.com,1,false,false\n";
    for key in [
        "lastSeenAt",
        "profile.old",
        "profile.nope",
        "memberId",
        "userImportTags",
    ] {
        let o = ImportOptions::leads(IdentifyBy::Email)
            .map("email", Some("profile.email"))
            .map("x", Some(key))
            .map("unsubscribeEmail", Some("unsubscribeEmail"))
            .map("unsubscribeTexting", Some("unsubscribeTexting"));
        let e = import_text(&book, "m.csv", rows, o).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{key}");
        assert_eq!(e.key(), Some(key), "{key}: {e}");
        // The message is about the mapping, naming the key and the column, not about a
        // value (API.md: "Every message says what to do").
        let text = e.to_string();
        assert!(
            text.starts_with(&format!(
                "invalid `{key}`: column \"x\" is mapped to it, but"
            )),
            "{text}"
        );
    }
    // An unmapped column without autoMap: the message names the column, whose header is
    // not shown as if it were a bad value.
    let o = ImportOptions::leads(IdentifyBy::Email).map("email", Some("profile.email"));
    let e = import_text(&book, "m.csv", rows, o).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(
        e.to_string().starts_with("column 2 (\"x\") is not mapped;"),
        "{e}"
    );
    assert!(all(&book).is_empty());
}

#[test]
fn r_imp_4_members_update_or_create_by_member_id() {
    let book = book_at("2025-06-01T00:00:00Z");
    let (r, log) = {
        let mut o = members()
            .map("name", Some("profile.name"))
            .map("email", Some("profile.email"))
            .map("mobile", Some("profile.mobileNumber"));
        o.file_name = Some("members.csv".into());
        let mut log = Vec::new();
        let r = book
            .import_csv_with_log(fixture("members.csv").as_path(), o, None, Some(&mut log))
            .unwrap();
        (r, String::from_utf8(log).unwrap())
    };
    assert_eq!(
        (r.rows, r.created, r.updated, r.failed),
        (4, 2, 0, 1),
        "{r:?}"
    );
    assert_eq!(r.failures[0].row_number, 4);
    assert_eq!(r.failures[0].error_columns, vec!["memberId"]);
    assert!(log.starts_with("rowNumber,errorColumns,errorReasons,memberId,"));
    let kim = by_member(&book, "m1");
    assert_eq!(kim.name(), Some("Kim Again"));
    assert!(kim.member);
    // Empty cells keep (R-IMP-7): the 4th row's empty email kept the 1st row's.
    assert_eq!(kim.email(), Some("kim@example.com"));
    assert_eq!(kim.mobile_number(), Some("+821011112222"));
    assert!(kim.verified.email && kim.verified.mobile_number);

    // A second import updates by memberId.
    let r = import_ok(
        &book,
        "again.csv",
        "memberId,profile.name\nm2,Lee Updated\nm1,Kim 3\n",
        members(),
    );
    assert_eq!((r.created, r.updated), (0, 2));
    assert_eq!(by_member(&book, "m2").name(), Some("Lee Updated"));
}

/// R-UNI-2 over R-IMP-5: a lead row whose email a member holds verified updates the
/// member, even when a booted lead waiting to be unified with it holds the same email and
/// was seen more recently.
#[test]
fn r_uni_2_a_lead_row_matching_a_member_updates_the_member() {
    let book = book_at("2025-06-01T00:00:00Z");
    let lead = book.add_lead(NewLead::email("k@x.com")).unwrap();
    book.boot(Boot {
        contact_id: Some(lead.id.clone()),
        ..Boot::default()
    })
    .unwrap();
    book.set_clock(Some(t("2025-06-02T00:00:00Z"))).unwrap();
    import_ok(
        &book,
        "m.csv",
        "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\nm1,k@x.com,false,false\n",
        members(),
    );
    assert_eq!(book.pending_unifications().unwrap().len(), 1);
    book.set_clock(Some(t("2025-06-03T00:00:00Z"))).unwrap();
    book.boot(Boot {
        contact_id: Some(lead.id.clone()),
        ..Boot::default()
    })
    .unwrap();
    book.set_clock(Some(t("2025-06-04T00:00:00Z"))).unwrap();
    let r = import_ok(
        &book,
        "l.csv",
        "profile.email,profile.name\nk@x.com,Who\n",
        leads(),
    );
    assert_eq!((r.created, r.updated), (0, 1));
    assert_eq!(by_member(&book, "m1").name(), Some("Who"));
    assert_eq!(book.get(&lead.id).unwrap().name(), None);
}

#[test]
fn r_imp_5_lead_row_updates_most_recent_verified_holder() {
    let book = book_at("2025-06-01T00:00:00Z");
    book.define_key("profile.city", FieldType::String).unwrap();
    let opts = "unsubscribeEmail,unsubscribeTexting";
    import_ok(
        &book,
        "a.csv",
        &format!(
            "memberId,profile.email,profile.name,{opts}\nd1,dup@example.com,Older,false,false\n"
        ),
        members(),
    );
    book.set_clock(Some(t("2025-06-05T00:00:00Z"))).unwrap();
    import_ok(
        &book,
        "b.csv",
        &format!(
            "memberId,profile.email,profile.name,{opts}\nd2,dup@example.com,Newer,false,false\n"
        ),
        members(),
    );
    // Hidden and blocked holders count too: block the newer one, it is still the match.
    let newer = by_member(&book, "d2");
    book.block(vec![newer.id.clone()]).unwrap();
    let r = import_ok(
        &book,
        "d.csv",
        "profile.email,profile.city\nDUP@example.com,Busan\n",
        leads(),
    );
    assert_eq!((r.created, r.updated), (0, 1));
    let newer = book.get(&newer.id).unwrap();
    assert_eq!(text(&newer, "city").as_deref(), Some("Busan"));
    assert!(newer.blocked, "R-CON-6: stays blocked");
    assert_eq!(text(&by_member(&book, "d1"), "city"), None);
    // The identifier cell only matches: the stored email keeps its case.
    assert_eq!(newer.email(), Some("dup@example.com"));
}

#[test]
fn r_imp_5_ties_go_to_newer_created_then_larger_id() {
    let book = book_at("2025-06-01T00:00:00Z");
    // Two verified holders with the same lastSeenAt and createdAt: the larger id wins.
    import_ok(
        &book,
        "m.csv",
        "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\nx1,same@x.com,false,false\nx2,same@x.com,false,false\n",
        members(),
    );
    let r = import_ok(
        &book,
        "l.csv",
        "profile.email,profile.name\nsame@x.com,Won\n",
        leads(),
    );
    assert_eq!(r.updated, 1);
    let (a, b) = (by_member(&book, "x1"), by_member(&book, "x2"));
    assert!(b.id > a.id);
    assert_eq!(b.name(), Some("Won"));
    assert_eq!(a.name(), None);
}

#[test]
fn r_imp_5_only_unverified_holders_means_a_new_verified_lead() {
    let book = ContactBook::in_memory();
    book.boot(Boot {
        profile: json!({"email": "v@x.com"}).as_object().unwrap().clone(),
        ..Boot::default()
    })
    .unwrap();
    assert_eq!(book.mu_count().unwrap(), 1);
    let r = import_ok(
        &book,
        "v.csv",
        "profile.email,unsubscribeEmail,unsubscribeTexting\nv@x.com,false,false\n",
        leads(),
    );
    assert_eq!((r.created, r.updated), (1, 0));
    assert_eq!(book.mu_count().unwrap(), 2, "MU rises");
    let verified: Vec<Contact> = all(&book)
        .into_iter()
        .filter(|c| c.verified.email)
        .collect();
    assert_eq!(verified.len(), 1);
}

#[test]
fn r_imp_5_other_contact_field_is_updated_and_verified() {
    let book = ContactBook::in_memory();
    let kim = book.add_lead(NewLead::email("kim@example.com")).unwrap();
    let mut o = ImportOptions::leads(IdentifyBy::MobileNumber);
    o.auto_map = true;
    // Matched by email this time; the mobile number is the other field.
    let r = import_ok(
        &book,
        "k.csv",
        "profile.email,profile.mobileNumber\nkim@example.com,+82 10-2020-3030\n",
        leads(),
    );
    assert_eq!(r.updated, 1);
    let c = book.get(&kim.id).unwrap();
    assert_eq!(c.mobile_number(), Some("+821020203030"));
    assert!(c.verified.mobile_number);
    // Then by mobile number, written in another form.
    let r = import_ok(
        &book,
        "p.csv",
        "profile.mobileNumber,profile.name\n'+821020203030,Kim\n",
        o,
    );
    assert_eq!((r.created, r.updated), (0, 1));
    assert_eq!(book.get(&kim.id).unwrap().name(), Some("Kim"));
}

#[test]
fn r_imp_6_new_contact_needs_both_opt_outs_update_keeps_empty() {
    let book = ContactBook::in_memory();
    let r = import_ok(
        &book,
        "x.csv",
        "profile.email,unsubscribeEmail\nx@example.com,false\n",
        leads(),
    );
    assert_eq!((r.created, r.failed), (0, 1));
    assert_eq!(r.failures[0].error_columns, vec!["unsubscribeTexting"]);
    assert!(all(&book).is_empty());

    let both = "profile.email,unsubscribeEmail,unsubscribeTexting\n";
    import_ok(
        &book,
        "y1.csv",
        &format!("{both}y@example.com,false,true\n"),
        leads(),
    );
    let mut clear = leads();
    clear.empty_cells = EmptyCells::Clear;
    let r = import_ok(
        &book,
        "y2.csv",
        &format!("{both}y@example.com,true,\n"),
        clear,
    );
    assert_eq!(r.updated, 1);
    let y = by_email(&book, "y@example.com");
    assert_eq!(
        (y.unsubscribe_email, y.unsubscribe_texting),
        (Some(true), Some(true))
    );
}

#[test]
fn r_imp_7_empty_cells_keep_or_clear() {
    let book = ContactBook::in_memory();
    book.define_key("profile.city", FieldType::String).unwrap();
    let c = book
        .add_lead(NewLead {
            email: Some("k@x.com".into()),
            name: Some("K".into()),
            mobile_number: Some("+821011112222".into()),
            profile: json!({"city": "Seoul"}).as_object().unwrap().clone(),
            tags: vec!["vip".into()],
        })
        .unwrap();
    let rows = "profile.email,profile.name,profile.city,profile.mobileNumber,tags\nk@x.com,,,,\n";
    import_ok(&book, "keep.csv", rows, leads());
    let kept = book.get(&c.id).unwrap();
    assert_eq!(kept.name(), Some("K"));
    assert_eq!(text(&kept, "city").as_deref(), Some("Seoul"));
    assert_eq!(kept.tags, vec!["vip"]);

    let mut clear = leads();
    clear.empty_cells = EmptyCells::Clear;
    import_ok(&book, "clear.csv", rows, clear);
    let cleared = book.get(&c.id).unwrap();
    assert_eq!(cleared.name(), None);
    assert_eq!(text(&cleared, "city"), None);
    assert_eq!(cleared.mobile_number(), None);
    assert!(!cleared.verified.mobile_number);
    assert!(cleared.tags.is_empty());
    // The identifier is never cleared.
    assert_eq!(cleared.email(), Some("k@x.com"));
}

#[test]
fn r_imp_8_lists_append_without_duplicates_past_200_fails_the_row() {
    let book = ContactBook::in_memory();
    book.define_key("profile.interests", FieldType::List)
        .unwrap();
    book.define_key("profile.scores", FieldType::ListOfNumber)
        .unwrap();
    let mut o = leads().map("city", None);
    o.auto_map = true;
    let r = import_ok(
        &book,
        "l.csv",
        &std::fs::read_to_string(fixture("leads.csv"))
            .unwrap()
            .replace("interests", "profile.interests")
            .replace("email,name", "profile.email,profile.name"),
        o,
    );
    // lee (new, opt-outs empty) fails; kim is created then updated; park created.
    assert_eq!(
        (r.rows, r.created, r.updated, r.failed),
        (4, 2, 0, 1),
        "{r:?}"
    );
    let kim = by_email(&book, "kim@example.com");
    assert_eq!(kim.name(), Some("Kim 2"), "R-IMP-11: last row wins");
    assert_eq!(text(&kim, "interests").as_deref(), Some(r#"["a","b","c"]"#));

    let r = import_ok(
        &book,
        "s.csv",
        "profile.email,profile.scores,tags\nkim@example.com,\"[1,2,2]\",\"[\"\"t\"\",\"\"t\"\"]\"\nkim@example.com,\"[2,3]\",\"[\"\"u\"\",\"\"t\"\"]\"\n",
        leads(),
    );
    assert_eq!(r.failed, 0, "{r:?}");
    let kim = by_email(&book, "kim@example.com");
    assert_eq!(text(&kim, "scores").as_deref(), Some("[1,2,3]"));
    assert_eq!(kim.tags, vec!["t", "u"]);

    // 200 items fit; one more fails the row whole: the name in the same row is not written.
    let items = |r: std::ops::Range<usize>| {
        let v: Vec<String> = r.map(|i| format!("i{i}")).collect();
        serde_json::to_string(&v).unwrap().replace('"', "\"\"")
    };
    let before = by_email(&book, "kim@example.com");
    let r = import_ok(
        &book,
        "big.csv",
        &format!(
            "profile.email,profile.name,profile.interests\nkim@example.com,Too Many,\"{}\"\n",
            items(0..198)
        ),
        leads(),
    );
    assert_eq!(r.failed, 1);
    assert_eq!(r.failures[0].error_columns, vec!["profile.interests"]);
    let after = by_email(&book, "kim@example.com");
    assert_eq!(after, before, "R-IMP-16: nothing of the row applied");
    let r = import_ok(
        &book,
        "fit.csv",
        &format!(
            "profile.email,profile.interests\nkim@example.com,\"{}\"\n",
            items(0..197)
        ),
        leads(),
    );
    assert_eq!(r.failed, 0);
    assert_eq!(
        match by_email(&book, "kim@example.com").profile.get("interests") {
            Some(Value::List(l)) => l.len(),
            _ => 0,
        },
        200
    );
}

#[test]
fn r_imp_9_import_tag_per_contact_capped_at_30_reuse_moves_to_newest() {
    let book = ContactBook::in_memory();
    let c = book.add_lead(NewLead::email("t@x.com")).unwrap();
    for i in 0..31 {
        import_ok(
            &book,
            &format!("tag{i:02}.csv"),
            "profile.email\nt@x.com\n",
            leads(),
        );
    }
    let got = book.get(&c.id).unwrap().user_import_tags;
    assert_eq!(got.len(), 30);
    assert_eq!(got.first().unwrap(), "tag01");
    assert_eq!(got.last().unwrap(), "tag30");
    // R-IMP-20: re-using a tag moves it to the newest position.
    import_ok(&book, "tag05.csv", "profile.email\nt@x.com\n", leads());
    let got = book.get(&c.id).unwrap().user_import_tags;
    assert_eq!(got.len(), 30);
    assert_eq!(got.last().unwrap(), "tag05");
    assert_eq!(got.iter().filter(|t| *t == "tag05").count(), 1);
    // A caller-chosen tag.
    let mut o = leads();
    o.import_tag = Some("spring list".into());
    let r = import_ok(&book, "x.csv", "profile.email\nt@x.com\n", o);
    assert_eq!(r.import_tag, "spring list");
    assert_eq!(
        book.get(&c.id).unwrap().user_import_tags.last().unwrap(),
        "spring list"
    );
}

#[test]
fn r_imp_10_new_contacts_get_import_time_updates_only_updated_at() {
    let book = book_at("2025-01-01T00:00:00Z");
    let old = book.add_lead(NewLead::email("old@x.com")).unwrap();
    book.set_clock(Some(t("2025-02-01T00:00:00Z"))).unwrap();
    import_ok(
        &book,
        "t.csv",
        "profile.email,profile.name,unsubscribeEmail,unsubscribeTexting\nold@x.com,Old,,\nnew@x.com,New,false,false\n",
        leads(),
    );
    let old = book.get(&old.id).unwrap();
    assert_eq!(old.created_at, t("2025-01-01T00:00:00Z"));
    assert_eq!(old.last_seen_at, t("2025-01-01T00:00:00Z"));
    assert_eq!(old.updated_at, t("2025-02-01T00:00:00Z"));
    let new = by_email(&book, "new@x.com");
    assert_eq!(new.created_at, t("2025-02-01T00:00:00Z"));
    assert_eq!(new.last_seen_at, new.created_at);
    assert!(!new.booted);
    assert_eq!(new.session_count, 0);
}

#[test]
fn r_imp_11_file_order_last_row_wins() {
    let book = ContactBook::in_memory();
    let r = import_ok(
        &book,
        "o.csv",
        "memberId,profile.name,unsubscribeEmail,unsubscribeTexting\nm1,First,false,false\nm1,Second,,\nm1,Third,true,\n",
        members(),
    );
    assert_eq!((r.rows, r.created, r.updated, r.failed), (3, 1, 0, 0));
    let m = by_member(&book, "m1");
    assert_eq!(m.name(), Some("Third"));
    assert_eq!(m.unsubscribe_email, Some(true));
}

#[test]
fn r_imp_12_each_contact_counted_once_blank_lines_not_rows() {
    let book = ContactBook::in_memory();
    book.add_lead(NewLead::email("a@x.com")).unwrap();
    let r = import_ok(
        &book,
        "c.csv",
        "profile.email,unsubscribeEmail,unsubscribeTexting\n\na@x.com,,\n\n  \nb@x.com,false,false\na@x.com,,\nb@x.com,true,\n\n",
        leads(),
    );
    assert_eq!(
        (r.rows, r.created, r.updated, r.failed),
        (4, 1, 1, 0),
        "{r:?}"
    );
}

/// R-IMP-13 with R-IMP-20: a failure log holds each cell so that, fixed and imported
/// again, it means what the first file meant — a cell the first import read through the
/// `'` guard (`'-m1` as `-m1`, `''=G` as `'=G`) is not guarded twice, and a formula cell is
/// guarded once.
#[test]
fn r_imp_13_failure_log_cells_mean_the_same_when_imported_again() {
    let book = book_at("2025-06-01T00:00:00Z");
    let (r, log) = import_with_log(
        &book,
        "x.csv",
        "memberId,profile.name,unsubscribeEmail,unsubscribeTexting\n'-m1,''=G,true,\n'=m2,=cmd,true,\n\t'-m3,x,true,\n",
        members(),
    );
    assert_eq!(r.failed, 3);
    assert!(log.contains(",'-m1,''=G,true,"), "{log}");
    assert!(log.contains(",'=m2,'=cmd,true,"), "{log}");
    // Written trimmed, as the import read it: no cell starts with a tab.
    assert!(
        log.contains(",'-m3,x,true,") && !log.contains('\t'),
        "{log}"
    );
    let fixed = log.replace("true,\n", "true,false\n");
    let r2 = import_text(&book, "fixed.csv", &fixed, members()).unwrap();
    assert_eq!((r2.created, r2.failed), (3, 0));
    assert!(by_member(&book, "-m3").member);
    assert_eq!(by_member(&book, "-m1").name(), Some("'=G"));
    assert_eq!(by_member(&book, "=m2").name(), Some("=cmd"));
}

#[test]
fn r_imp_13_failure_log_fixed_and_imported_again() {
    let book = ContactBook::in_memory();
    book.define_key("profile.spent", FieldType::Number).unwrap();
    let (r, log) = import_with_log(
        &book,
        "bad.csv",
        &std::fs::read_to_string(fixture("bad_cells.csv"))
            .unwrap()
            .replace(
                "email,name,spent",
                "profile.email,profile.name,profile.spent",
            ),
        leads(),
    );
    assert_eq!((r.created, r.failed), (2, 2), "{r:?}");
    let rows: Vec<(u64, Vec<String>)> = r
        .failures
        .iter()
        .map(|f| (f.row_number, f.error_columns.clone()))
        .collect();
    assert_eq!(
        rows,
        vec![
            (2, vec!["profile.spent".to_string()]),
            (4, vec!["unsubscribeEmail".to_string()])
        ]
    );
    let header = log.lines().next().unwrap();
    assert_eq!(
        header,
        "rowNumber,errorColumns,errorReasons,profile.email,profile.name,profile.spent,unsubscribeEmail,unsubscribeTexting"
    );
    assert_eq!(log.lines().count(), 3);
    // The formula-like name came back exactly (R-IMP-20).
    assert_eq!(by_email(&book, "d@x.com").name(), Some("=SUM(A1)"));

    // Fix the log and import it again as is: those rows are created.
    let mut rows = records(&log);
    for row in rows.iter_mut().skip(1) {
        for cell in row.iter_mut().skip(3) {
            match cell.as_str() {
                "1,000" => *cell = "1000".into(),
                "maybe" => *cell = "true".into(),
                _ => {}
            }
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.write_record(row).unwrap();
    }
    let fixed = String::from_utf8(w.into_inner().unwrap()).unwrap();
    let r = import_ok(&book, "fixed.csv", &fixed, leads());
    assert_eq!((r.created, r.updated, r.failed), (2, 0, 0), "{r:?}");
    assert_eq!(
        r.ignored_columns,
        vec!["rowNumber", "errorColumns", "errorReasons"]
    );
    assert_eq!(
        text(&by_email(&book, "a@x.com"), "spent").as_deref(),
        Some("1000")
    );
    assert_eq!(by_email(&book, "c@x.com").unsubscribe_email, Some(true));
}

#[test]
fn r_imp_14_preview_and_template() {
    let book = ContactBook::in_memory();
    book.define_key("profile.city", FieldType::String).unwrap();
    let mut text = String::from("a,b,c\n");
    for i in 0..45 {
        text.push_str(&format!("{i},x,\"y, z\"\n"));
    }
    let p = book.preview_csv(Cursor::new(text)).unwrap();
    assert_eq!(p.header, vec!["a", "b", "c"]);
    assert_eq!(p.rows.len(), 30);
    assert_eq!(p.total_rows, 45);
    assert_eq!(p.rows[0], vec!["0", "x", "y, z"]);

    let tpl = book
        .template(rolodex::ImportKind::Leads, IdentifyBy::MobileNumber)
        .unwrap();
    assert_eq!(tpl[0], "profile.mobileNumber");
    assert!(tpl.contains(&"profile.city".to_string()));
    assert!(tpl.contains(&"unsubscribeEmail".to_string()));
    assert!(tpl.contains(&"unsubscribeTexting".to_string()));
    assert!(!tpl.contains(&"memberId".to_string()));
    assert!(book
        .template(rolodex::ImportKind::Members, IdentifyBy::Email)
        .is_err());
}

#[test]
fn r_imp_15_second_import_meanwhile_fails_at_once() {
    let book = ContactBook::in_memory();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let b = book.clone();
    let first = std::thread::spawn(move || {
        let mut signalled = false;
        let mut slow = |p: Progress| {
            if !signalled && p.rows_done >= 1 {
                signalled = true;
                started_tx.send(()).unwrap();
                go_rx.recv().unwrap();
            }
        };
        import_ok_progress(
            &b,
            "profile.email,unsubscribeEmail,unsubscribeTexting\na@x.com,false,false\nb@x.com,false,false\n",
            &mut slow,
        )
    });
    started_rx.recv().unwrap();
    let before = fingerprint(&book);
    let e = import_text(
        &book,
        "second.csv",
        "profile.email,unsubscribeEmail,unsubscribeTexting\nc@x.com,false,false\n",
        leads(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ImportInProgress);
    assert_eq!(fingerprint(&book), before);
    // Another channel is not blocked.
    let other = book.channel("other");
    assert_eq!(
        import_ok(
            &other,
            "o.csv",
            "profile.email,unsubscribeEmail,unsubscribeTexting\nc@x.com,false,false\n",
            leads()
        )
        .created,
        1
    );
    go_tx.send(()).unwrap();
    let r = first.join().unwrap();
    assert_eq!(r.created, 2);
    // The lock is released: a later import runs.
    assert!(import_text(&book, "third.csv", "profile.email\na@x.com\n", leads()).is_ok());
}

fn import_ok_progress(
    book: &ContactBook,
    text: &str,
    progress: &mut dyn FnMut(Progress),
) -> ImportReport {
    let mut o = leads();
    o.file_name = Some("first.csv".into());
    book.import_csv(
        ImportSource::reader(Cursor::new(text.as_bytes().to_vec())),
        o,
        Some(progress),
    )
    .unwrap()
}

#[test]
fn r_imp_16_rows_apply_whole_progress_and_activity_log() {
    let book = ContactBook::in_memory();
    book.define_key("profile.spent", FieldType::Number).unwrap();
    let text = "profile.email,profile.spent,unsubscribeEmail,unsubscribeTexting\na@x.com,1,false,false\nb@x.com,\"2\",x\",false,false\nc@x.com,\"1,000\",false,false\nd@x.com,3,false\ne@x.com,4,false,false\n";
    let mut seen = Vec::new();
    let mut cb = |p: Progress| seen.push(p);
    let manager = book.as_manager(Manager::member("imp", &[Permission::EditContacts]));
    let mut o = leads();
    o.file_name = Some("p.csv".into());
    let r = manager
        .import_csv(
            ImportSource::reader(Cursor::new(text.as_bytes().to_vec())),
            o,
            Some(&mut cb),
        )
        .unwrap();
    assert_eq!((r.rows, r.created, r.failed), (5, 2, 3), "{r:?}");
    let last = seen.last().unwrap();
    assert_eq!((last.rows_done, last.rows_total), (5, 5));
    assert_eq!(last.bytes_done, last.bytes_total);
    assert!(seen.windows(2).all(|w| w[0].rows_done <= w[1].rows_done));
    let emails: Vec<String> = all(&book)
        .iter()
        .filter_map(|c| c.email().map(str::to_string))
        .collect();
    assert_eq!(emails, vec!["a@x.com", "e@x.com"]);

    let log = book
        .activity_log(&ActivityQuery {
            action: Some("import".into()),
            ..ActivityQuery::default()
        })
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].manager_id.as_deref(), Some("imp"));
    assert_eq!(log[0].count, 2);
    assert_eq!(log[0].detail["failed"], 3);
    assert_eq!(log[0].detail["importTag"], "p");

    // Without editContacts: denied, nothing changed (R-EXP-5).
    let before = fingerprint(&book);
    let reader = book.as_manager(Manager::member("ro", &[Permission::DeleteContacts]));
    let e = import_text(&reader, "n.csv", "profile.email\na@x.com\n", leads()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert_eq!(fingerprint(&book), before);
}

#[test]
fn r_imp_17_identifier_only_import_tags_matched_contacts() {
    let book = ContactBook::in_memory();
    for (e, n) in [("a@x.com", "A"), ("b@x.com", "B"), ("c@x.com", "C")] {
        book.add_lead(NewLead::email(e).with_name(n)).unwrap();
    }
    let mut o = ImportOptions::leads(IdentifyBy::Email).map("email", Some("profile.email"));
    o.file_name = Some("identifiers_only.csv".into());
    let r = book
        .import_csv(fixture("identifiers_only.csv").as_path(), o, None)
        .unwrap();
    assert_eq!((r.updated, r.created, r.failed), (2, 0, 1));
    assert_eq!(r.import_tag, "identifiers_only");
    let tagged: Vec<Option<String>> = all(&book)
        .iter()
        .filter(|c| c.user_import_tags.contains(&"identifiers_only".to_string()))
        .map(|c| c.name().map(str::to_string))
        .collect();
    assert_eq!(tagged, vec![Some("A".into()), Some("B".into())]);
}

#[test]
fn r_imp_18_dry_run_changes_nothing_and_forecasts() {
    let book = ContactBook::in_memory();
    book.add_lead(NewLead::email("a@x.com")).unwrap();
    book.add_lead(NewLead::email("b@x.com")).unwrap();
    book.set_mu_limit(Some(3)).unwrap();
    let before = fingerprint(&book);
    let text = "profile.email,profile.name,unsubscribeEmail,unsubscribeTexting\nc@x.com,C,false,false\nd@x.com,D,false,false\na@x.com,A,,\ne@x.com,E,false\ne@x.com,E,false,false\n";
    let mut o = leads();
    o.dry_run = true;
    let (dry, dry_log) = import_with_log(&book, "dry.csv", text, o);
    assert!(dry.dry_run);
    assert_eq!(fingerprint(&book), before);
    assert!(book
        .activity_log(&ActivityQuery::default())
        .unwrap()
        .iter()
        .all(|e| e.action != "import"));
    let (real, real_log) = import_with_log(&book, "dry.csv", text, leads());
    assert_eq!(
        (
            dry.rows,
            dry.created,
            dry.updated,
            dry.failed,
            dry.hidden,
            dry.mu_after
        ),
        (
            real.rows,
            real.created,
            real.updated,
            real.failed,
            real.hidden,
            real.mu_after
        )
    );
    assert_eq!(
        (dry.created, dry.updated, dry.hidden, dry.mu_after),
        (3, 1, 2, 3)
    );
    assert_eq!(dry.failures, real.failures);
    assert_eq!(dry_log, real_log);
    assert_eq!(book.mu_count().unwrap(), 3);
}

#[test]
fn r_imp_19_member_import_changes_contact_info_only_it_sets_member_id() {
    let book = ContactBook::in_memory();
    import_ok(
        &book,
        "m.csv",
        "memberId,profile.email,profile.mobileNumber,unsubscribeEmail,unsubscribeTexting\nm1,old@x.com,+821011112222,false,false\n",
        members(),
    );
    import_ok(
        &book,
        "m2.csv",
        "memberId,profile.email,profile.mobileNumber\nm1,new@x.com,+82 10-3333-4444\n",
        members(),
    );
    let m = by_member(&book, "m1");
    assert_eq!(m.email(), Some("new@x.com"));
    assert_eq!(m.mobile_number(), Some("+821033334444"));
    // A leads import cannot write memberId, and autoMap leaves it out.
    let e = import_text(
        &book,
        "l.csv",
        "email,memberId\nnew@x.com,m9\n",
        ImportOptions::leads(IdentifyBy::Email)
            .map("email", Some("profile.email"))
            .map("memberId", Some("memberId")),
    )
    .unwrap_err();
    assert_eq!(e.key(), Some("memberId"));
    let r = import_ok(
        &book,
        "l.csv",
        "profile.email,memberId\nnew@x.com,m9\n",
        leads(),
    );
    assert_eq!(r.ignored_columns, vec!["memberId"]);
    assert_eq!(by_member(&book, "m1").email(), Some("new@x.com"));
    assert!(all(&book)
        .iter()
        .all(|c| c.member_id.as_deref() != Some("m9")));
}

#[test]
fn r_imp_20_formula_guard_undone_and_default_tag() {
    let book = book_at("2025-05-04T09:07:00Z");
    let r = book
        .import_csv(
            ImportSource::reader(Cursor::new(
                b"profile.email,profile.name,unsubscribeEmail,unsubscribeTexting\nf@x.com,'=1+2,false,false\ng@x.com,'plain,false,false\n".to_vec(),
            )),
            leads(),
            None,
        )
        .unwrap();
    assert_eq!(r.import_tag, "import-20250504-0907");
    assert_eq!(by_email(&book, "f@x.com").name(), Some("=1+2"));
    assert_eq!(by_email(&book, "g@x.com").name(), Some("'plain"));
}

// ----- R-MU, R-UNI, R-CON-6 through imports -----

#[test]
fn r_mu_5_room_for_3_six_new_rows() {
    let book = book_at("2025-06-01T00:00:00Z");
    book.add_lead(NewLead::email("old1@x.com")).unwrap();
    book.add_lead(NewLead::email("old2@x.com")).unwrap();
    book.set_mu_limit(Some(5)).unwrap();
    let mut o = leads().map("email", Some("profile.email"));
    o.file_name = Some("six_new_leads.csv".into());
    let r = book
        .import_csv(fixture("six_new_leads.csv").as_path(), o, None)
        .unwrap();
    assert_eq!((r.created, r.hidden, r.mu_after), (6, 3, 5), "{r:?}");
    assert_eq!(book.mu_count().unwrap(), 5);
    // The first 3 of the file are visible, the last 3 hidden; no old contact was hidden.
    for (i, e) in ["n1", "n2", "n3", "n4", "n5", "n6"].iter().enumerate() {
        let c = by_email(&book, &format!("{e}@x.com"));
        assert_eq!(c.hidden, i >= 3, "{e}");
    }
    assert!(!by_email(&book, "old1@x.com").hidden);
    // Updating a hidden contact does not un-hide it (R-MU-3).
    let r = import_ok(
        &book,
        "u.csv",
        "profile.email,profile.name\nn6@x.com,Six\n",
        leads(),
    );
    assert_eq!((r.updated, r.hidden), (1, 0));
    assert!(by_email(&book, "n6@x.com").hidden);
    // A row matching a hidden contact's verified email updates it rather than adding one.
    assert_eq!(all(&book).len(), 8);
}

#[test]
fn r_uni_2_lead_row_matching_member_updates_the_member() {
    let book = ContactBook::in_memory();
    import_ok(
        &book,
        "m.csv",
        "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\nm1,u@x.com,false,false\n",
        members(),
    );
    let r = import_ok(
        &book,
        "l.csv",
        "profile.email,profile.name\nu@x.com,Member Name\n",
        leads(),
    );
    assert_eq!((r.created, r.updated), (0, 1));
    assert_eq!(by_member(&book, "m1").name(), Some("Member Name"));
    assert_eq!(all(&book).len(), 1);
}

#[test]
fn r_uni_3_member_import_unifies_never_booted_lead_at_once() {
    let book = ContactBook::in_memory();
    let lead = book
        .add_lead(NewLead {
            email: Some("u@example.com".into()),
            name: Some("Lead U".into()),
            tags: vec!["from-lead".into()],
            ..NewLead::default()
        })
        .unwrap();
    let r = import_ok(
        &book,
        "m.csv",
        "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\nmu1,U@example.com,false,false\n",
        members(),
    );
    assert_eq!((r.created, r.updated, r.mu_after), (1, 0, 1));
    let m = by_member(&book, "mu1");
    assert_eq!(m.name(), Some("Lead U"));
    assert_eq!(m.tags, vec!["from-lead"]);
    assert_eq!(
        book.get(&lead.id).unwrap().id,
        m.id,
        "the lead's id leads to the member"
    );
    assert_eq!(book.mu_count().unwrap(), 1);
}

#[test]
fn r_uni_4_member_gaining_info_by_import_records_pending_for_booted_lead() {
    let book = ContactBook::in_memory();
    let lead = book.add_lead(NewLead::mobile("+821055556666")).unwrap();
    book.boot(Boot {
        contact_id: Some(lead.id.clone()),
        ..Boot::default()
    })
    .unwrap();
    import_ok(
        &book,
        "m.csv",
        "memberId,unsubscribeEmail,unsubscribeTexting\nm7,false,false\n",
        members(),
    );
    assert!(book.pending_unifications().unwrap().is_empty());
    let r = import_ok(
        &book,
        "m2.csv",
        "memberId,profile.mobileNumber\nm7,+82 10-5555-6666\n",
        members(),
    );
    assert_eq!(r.updated, 1);
    let pending = book.pending_unifications().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].lead_id, lead.id);
    assert_eq!(book.mu_count().unwrap(), 2, "both records stay for now");
}

#[test]
fn r_con_6_blocked_contact_updated_and_kept_blocked() {
    let book = ContactBook::in_memory();
    let c = book.add_lead(NewLead::email("b@x.com")).unwrap();
    book.block(vec![c.id.clone()]).unwrap();
    let r = import_ok(
        &book,
        "b.csv",
        "profile.email,profile.name\nb@x.com,Blocked\n",
        leads(),
    );
    assert_eq!((r.created, r.updated), (0, 1));
    let c = book.get(&c.id).unwrap();
    assert!(c.blocked);
    assert_eq!(c.name(), Some("Blocked"));
    assert_eq!(book.mu_count().unwrap(), 0);
}

// ----- R-EXP -----

fn export_book() -> (ContactBook, Vec<String>) {
    let book = book_at("2025-06-01T00:00:00Z");
    book.define_key("profile.city", FieldType::String).unwrap();
    book.define_key("profile.spent", FieldType::Number).unwrap();
    book.define_key("profile.joined", FieldType::Date).unwrap();
    book.define_key("profile.interests", FieldType::List)
        .unwrap();
    let mut ids = Vec::new();
    for (i, (email, name, city, spent)) in [
        ("a@x.com", "A", "Seoul", 12.5),
        ("b@x.com", "B, Jr.", "Busan", -3.0),
        ("c@x.com", "=cmd", "Seoul", 0.1),
        ("d@x.com", "D \"quoted\"\nline", "Daegu", 1e15),
    ]
    .into_iter()
    .enumerate()
    {
        let c = book
            .add_lead(NewLead {
                email: Some(email.into()),
                mobile_number: Some(format!("+8210{:08}", 20203030 + i)),
                name: Some(name.into()),
                profile: json!({"city": city, "spent": spent, "joined": "2024-02-29",
                    "interests": ["x, y", "'z"]})
                .as_object()
                .unwrap()
                .clone(),
                tags: vec!["vip".into(), "a/b".into()],
            })
            .unwrap();
        book.set_opt_out(vec![c.id.clone()], rolodex::Medium::Email, i % 2 == 0)
            .unwrap();
        ids.push(c.id);
    }
    (book, ids)
}

fn records(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn r_exp_1_all_visible_filter_and_chosen_ids() {
    let (book, ids) = export_book();
    book.block(vec![ids[3].clone()]).unwrap();
    let all_rows = records(&export_text(&book, ExportOptions::default()));
    assert_eq!(all_rows.len(), 1 + 3);
    assert_eq!(all_rows[0][0], "id");

    let seoul = ExportOptions {
        filter: Some(
            rolodex::Filter::from_value(
                &json!({"key": "profile.city", "op": "eq", "value": "Seoul"}),
            )
            .unwrap(),
        ),
        columns: Some(vec!["profile.email".into()]),
        ..ExportOptions::default()
    };
    let rows = records(&export_text(&book, seoul.clone()));
    assert_eq!(rows.len(), 3, "{rows:?}");

    // Chosen ids: the blocked one too; with a filter, the intersection.
    let chosen = ExportOptions {
        ids: Some(vec![ids[3].clone(), ids[1].clone(), ids[3].clone()]),
        columns: Some(vec!["id".into()]),
        ..ExportOptions::default()
    };
    let rows = records(&export_text(&book, chosen.clone()));
    assert_eq!(rows[1..], [vec![ids[3].clone()], vec![ids[1].clone()]]);
    let both = ExportOptions {
        ids: Some(vec![ids[0].clone(), ids[1].clone()]),
        ..seoul
    };
    assert_eq!(records(&export_text(&book, both)).len(), 2);

    // A bad filter is a Filter error, an unknown id NotFound; nothing is written.
    let mut out = Vec::new();
    let e = book
        .export_csv(
            &mut out,
            ExportOptions {
                filter: Some(
                    rolodex::Filter::from_value(
                        &json!({"key": "profile.nope", "op": "eq", "value": 1}),
                    )
                    .unwrap(),
                ),
                ..ExportOptions::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Filter);
    let e = book
        .export_csv(
            &mut out,
            ExportOptions {
                ids: Some(vec!["c_nope".into()]),
                ..ExportOptions::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(out.is_empty());
}

#[test]
fn r_exp_1_hidden_contacts_only_when_chosen() {
    let book = ContactBook::in_memory();
    book.add_lead(NewLead::email("a@x.com")).unwrap();
    book.set_mu_limit(Some(1)).unwrap();
    let hidden = book.add_lead(NewLead::email("h@x.com")).unwrap();
    assert!(book.get(&hidden.id).unwrap().hidden);
    let cols = Some(vec!["profile.email".to_string()]);
    let text = export_text(
        &book,
        ExportOptions {
            columns: cols.clone(),
            ..ExportOptions::default()
        },
    );
    assert_eq!(text, "profile.email\na@x.com\n");
    let text = export_text(
        &book,
        ExportOptions {
            columns: cols,
            ids: Some(vec![hidden.id]),
            ..ExportOptions::default()
        },
    );
    assert_eq!(text, "profile.email\nh@x.com\n");
}

/// A book of `n` leads, `profile.city` Seoul for three in four (the rest Busan), some of
/// them blocked and some hidden by an MU limit; returns the book and the ids in order.
fn city_book(n: usize) -> (ContactBook, Vec<String>) {
    let book = book_at("2025-06-01T00:00:00Z");
    book.define_key("profile.city", FieldType::String).unwrap();
    let mut ids = Vec::new();
    for i in 0..n {
        let city = if i % 4 == 3 { "Busan" } else { "Seoul" };
        let c = book
            .add_lead(NewLead {
                email: Some(format!("u{i}@x.com")),
                name: Some(if i % 7 == 0 {
                    format!("=n{i}")
                } else {
                    format!("N, {i}")
                }),
                profile: json!({ "city": city }).as_object().unwrap().clone(),
                ..NewLead::default()
            })
            .unwrap();
        ids.push(c.id);
    }
    book.block(vec![ids[0].clone(), ids[5].clone(), ids[n - 2].clone()])
        .unwrap();
    book.set_mu_limit(Some(n as u64 - 8)).unwrap();
    (book, ids)
}

#[test]
fn r_exp_1_filter_export_reads_search_pages_in_id_order_without_hidden_or_blocked() {
    // More matches than one page of the export's store search (10,000).
    let n = 13_600;
    let (book, ids) = city_book(n);
    let hidden_or_blocked: Vec<&String> = ids
        .iter()
        .filter(|id| {
            let c = book.get(id).unwrap();
            c.hidden || c.blocked
        })
        .collect();
    assert!(hidden_or_blocked.len() >= 8, "{}", hidden_or_blocked.len());
    let columns = Some(vec![
        "id".to_string(),
        "profile.name".into(),
        "profile.city".into(),
    ]);
    // Expected: the visible rows of the whole export (the store's rows read in place) whose
    // city is Seoul, in id order.
    let all = export_text(
        &book,
        ExportOptions {
            columns: columns.clone(),
            ..ExportOptions::default()
        },
    );
    let mut lines = all.lines();
    let header = lines.next().unwrap();
    let mut expected: Vec<&str> = lines.filter(|l| l.ends_with(",Seoul")).collect();
    expected.sort_by_key(|l| l.split(',').next().unwrap().to_string());
    assert!(expected.len() > 10_000, "{}", expected.len());
    let filtered = ExportOptions {
        filter: Some(
            rolodex::Filter::from_value(
                &json!({"key": "profile.city", "op": "eq", "value": "Seoul"}),
            )
            .unwrap(),
        ),
        columns,
        ..ExportOptions::default()
    };
    let mut out = Vec::new();
    let summary = book.export_csv(&mut out, filtered).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(summary.rows, expected.len() as u64);
    assert_eq!(text, format!("{header}\n{}\n", expected.join("\n")));
    for id in hidden_or_blocked {
        assert!(!text.contains(&format!("{id},")), "{id} exported");
    }
    // A filter nothing matches writes the header only.
    let none = ExportOptions {
        filter: Some(
            rolodex::Filter::from_value(
                &json!({"key": "profile.city", "op": "eq", "value": "Daegu"}),
            )
            .unwrap(),
        ),
        columns: Some(vec!["id".into()]),
        ..ExportOptions::default()
    };
    assert_eq!(export_text(&book, none), "id\n");
}

/// A writer that runs `first` once, at its first write, then keeps what it is given.
struct CallingWriter<F: FnMut()> {
    first: Option<F>,
    out: Vec<u8>,
}

impl<F: FnMut()> std::io::Write for CallingWriter<F> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if let Some(mut f) = self.first.take() {
            f();
        }
        self.out.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Exports `options` from `book` on another thread to a writer that, at its first write
/// (the first 256 KiB piece, with the rest of the book not read yet), edits the book from
/// its own thread and from a third one: deletes `gone`, blocks `blocked`, renames
/// `renamed` and adds a lead. Returns the export's text and row count; fails (rather than
/// hang) if the export or an edit waits for the other.
fn export_with_edits_midway(
    book: &ContactBook,
    options: ExportOptions,
    gone: &str,
    blocked: &str,
    renamed: &str,
) -> (String, u64) {
    let (done_tx, done_rx) = mpsc::channel();
    let (b, gone, blocked, renamed) = (
        book.clone(),
        gone.to_string(),
        blocked.to_string(),
        renamed.to_string(),
    );
    std::thread::spawn(move || {
        let edits = || {
            // From the writer's own thread: a call back into the book.
            b.delete(vec![gone.clone()]).unwrap();
            b.update(&renamed, &json!({"profile": {"name": "Renamed midway"}}))
                .unwrap();
            // From another thread, which must not wait for the export either.
            let (other, blocked) = (b.clone(), blocked.clone());
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                other.block(vec![blocked]).unwrap();
                other
                    .add_lead(NewLead {
                        email: Some("midway@x.com".into()),
                        ..NewLead::default()
                    })
                    .unwrap();
                tx.send(()).unwrap();
            });
            rx.recv_timeout(std::time::Duration::from_secs(30))
                .expect("a write from another thread waited for the export's writer");
        };
        let mut w = CallingWriter {
            first: Some(edits),
            out: Vec::new(),
        };
        let summary = b.export_csv(&mut w, options).unwrap();
        assert!(w.first.is_none(), "the writer was never called");
        done_tx
            .send((String::from_utf8(w.out).unwrap(), summary.rows))
            .unwrap();
    });
    done_rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the export never finished: a write it made wait for it, or it for itself")
}

#[test]
fn r_exp_1_export_lets_go_of_the_channel_while_its_writer_writes() {
    // 24,000 contacts make several 256 KiB pieces; the edits are on contacts near the
    // end, whose piece is read after the first one has been written.
    let n = 24_000;
    for filtered in [false, true] {
        let (book, ids) = city_book(n);
        let (gone, blocked, renamed) = (&ids[n - 3], &ids[n - 6], &ids[n - 10]);
        for id in [gone, blocked, renamed] {
            let c = book.get(id).unwrap();
            assert!(!c.hidden && !c.blocked, "{id}");
            assert_eq!(c.profile.get("city"), Some(&Value::String("Seoul".into())));
        }
        let before: Vec<String> = ids
            .iter()
            .filter(|id| {
                let c = book.get(id).unwrap();
                !c.hidden && !c.blocked
            })
            .cloned()
            .collect();
        let options = ExportOptions {
            filter: filtered.then(|| {
                rolodex::Filter::from_value(
                    &json!({"key": "profile.city", "op": "eq", "value": "Seoul"}),
                )
                .unwrap()
            }),
            columns: Some(vec![
                "id".into(),
                "profile.name".into(),
                "profile.city".into(),
            ]),
            ..ExportOptions::default()
        };
        let (text, rows) = export_with_edits_midway(&book, options, gone, blocked, renamed);
        assert!(
            text.len() > 2 * 256 * 1024,
            "{} bytes: too few pieces",
            text.len()
        );
        let lines: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(rows, lines.len() as u64);
        let exported: Vec<&str> = lines.iter().map(|l| l.split(',').next().unwrap()).collect();
        let mut seen = std::collections::HashSet::new();
        for id in &exported {
            assert!(
                seen.insert(*id),
                "{id} exported twice (filtered: {filtered})"
            );
        }
        // Deleted or blocked before their piece was read: left out.
        assert!(!seen.contains(gone.as_str()), "deleted {gone} exported");
        assert!(
            !seen.contains(blocked.as_str()),
            "blocked {blocked} exported"
        );
        // Renamed before its piece was read: exported with the new name.
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("{renamed},")))
            .unwrap();
        assert!(line.contains("Renamed midway"), "{line}");
        // Every other contact visible (and matching) throughout: exported, in order.
        let expected: Vec<&String> = before
            .iter()
            .filter(|id| *id != gone && *id != blocked)
            .filter(|id| {
                !filtered
                    || book.get(id).unwrap().profile.get("city")
                        == Some(&Value::String("Seoul".into()))
            })
            .collect();
        let old: Vec<&str> = exported
            .iter()
            .copied()
            .filter(|id| ids.contains(&id.to_string()))
            .collect();
        assert_eq!(
            old,
            expected.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            "filtered: {filtered}"
        );
        // The edits landed.
        assert!(book.get(gone).is_err());
        assert!(book.get(blocked).unwrap().blocked);
    }
}

/// R-EXP-1: an unmerge between two pieces of an export puts the secondary back into the
/// row freed last, here one the export had not read yet; the secondary, written in the
/// first piece, is not written again. Each piece the writer gets is about 256 KiB (the
/// exporter's own buffer included), and the summary counts the rows written.
#[test]
fn r_exp_1_an_export_writes_a_contact_unmerged_midway_once() {
    // Enough rows for two pieces, also of the three quarters in Seoul.
    let n = 20_000;
    for filtered in [false, true] {
        let (book, ids) = city_book(n);
        // No MU limit: the contact put back stays visible.
        book.set_mu_limit(None).unwrap();
        let (s, p, d) = (ids[20].clone(), ids[24].clone(), ids[n - 3].clone());
        let b = book.clone();
        let mut sizes = Vec::new();
        let mut w = CallingWriter {
            first: Some(|| {
                let m = b.merge(&p, &s, &rolodex::MergeChoices::default()).unwrap();
                b.delete(vec![d.clone()]).unwrap();
                b.unmerge(&m.merge_id).unwrap();
            }),
            out: Vec::new(),
        };
        let options = ExportOptions {
            filter: filtered.then(|| {
                rolodex::Filter::from_value(
                    &json!({"key": "profile.city", "op": "eq", "value": "Seoul"}),
                )
                .unwrap()
            }),
            columns: Some(vec!["id".into(), "profile.name".into()]),
            ..ExportOptions::default()
        };
        let summary = book
            .export_csv(
                SizedWriter {
                    inner: &mut w,
                    sizes: &mut sizes,
                },
                options,
            )
            .unwrap();
        let text = String::from_utf8(w.out).unwrap();
        let lines: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(summary.rows, lines.len() as u64);
        let mut seen = std::collections::HashSet::new();
        for l in &lines {
            let id = l.split(',').next().unwrap();
            assert!(seen.insert(id), "{id} written twice (filtered: {filtered})");
        }
        assert!(
            seen.contains(s.as_str()),
            "{s} not written (filtered: {filtered})"
        );
        assert!(
            !seen.contains(d.as_str()),
            "deleted {d} written (filtered: {filtered})"
        );
        assert!(sizes.len() >= 2, "{sizes:?}");
        for size in &sizes {
            assert!(
                *size <= 256 * 1024 + 1024,
                "a piece of {size} bytes: {sizes:?}"
            );
        }
    }
}

/// A writer that notes the size of each write it passes on.
struct SizedWriter<'a, W: std::io::Write> {
    inner: &'a mut W,
    sizes: &'a mut Vec<usize>,
}

impl<W: std::io::Write> std::io::Write for SizedWriter<'_, W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.sizes.push(b.len());
        self.inner.write_all(b)?;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[test]
fn r_exp_2_chosen_ids_with_a_filter_keep_their_order_hidden_and_blocked_included() {
    let (book, ids) = city_book(40);
    let flags = |id: &String| {
        let c = book.get(id).unwrap();
        (c.hidden, c.blocked)
    };
    let hidden = ids
        .iter()
        .rev()
        .find(|id| flags(id) == (true, false))
        .unwrap();
    // Blocked Seoul, Busan, hidden Seoul, visible Seoul, the blocked one again.
    assert_eq!(flags(&ids[5]), (false, true));
    let chosen = vec![
        ids[5].clone(),
        ids[3].clone(),
        hidden.clone(),
        ids[1].clone(),
        ids[5].clone(),
    ];
    let options = ExportOptions {
        ids: Some(chosen),
        filter: Some(
            rolodex::Filter::from_value(
                &json!({"key": "profile.city", "op": "eq", "value": "Seoul"}),
            )
            .unwrap(),
        ),
        columns: Some(vec!["id".into()]),
        ..ExportOptions::default()
    };
    assert_eq!(
        export_text(&book, options),
        format!("id\n{}\n{hidden}\n{}\n", ids[5], ids[1])
    );
}

#[test]
fn r_exp_2_editable_export_reimports_byte_identical() {
    let (book, ids) = export_book();
    let editable = ExportOptions {
        editable_only: true,
        ..ExportOptions::default()
    };
    let first = export_text(&book, editable.clone());
    let header = first.lines().next().unwrap();
    assert_eq!(
        header,
        "memberId,profile.email,profile.mobileNumber,profile.name,profile.landlineNumber,profile.city,profile.spent,profile.joined,profile.interests,tags,unsubscribeEmail,unsubscribeTexting"
    );
    let before: Vec<Contact> = all(&book);
    book.set_clock(Some(t("2025-07-01T00:00:00Z"))).unwrap();
    let r = import_ok(&book, "export.csv", &first, leads());
    assert_eq!(
        (r.created, r.updated, r.failed),
        (0, ids.len() as u64, 0),
        "{r:?}"
    );
    let after: Vec<Contact> = all(&book);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(a.profile, b.profile);
        assert_eq!(a.tags, b.tags);
        assert_eq!(
            (a.unsubscribe_email, a.unsubscribe_texting),
            (b.unsubscribe_email, b.unsubscribe_texting)
        );
        assert_eq!(a.user_import_tags, vec!["export"]);
    }
    assert_eq!(export_text(&book, editable), first);

    // As members too: members keep their memberId column.
    let m = ContactBook::in_memory();
    import_ok(
        &m,
        "m.csv",
        "memberId,profile.email,profile.name,unsubscribeEmail,unsubscribeTexting\n'-1x,a@x.com,A,false,true\n",
        members(),
    );
    let text = export_text(
        &m,
        ExportOptions {
            editable_only: true,
            ..ExportOptions::default()
        },
    );
    assert!(text.contains("'-1x,a@x.com"), "{text}");
    let r = import_ok(&m, "export.csv", &text, members());
    assert_eq!((r.created, r.updated, r.failed), (0, 1, 0));
}

#[test]
fn r_exp_3_formula_cells_neutralised_numbers_plain() {
    let (book, _) = export_book();
    let text = export_text(&book, ExportOptions::default());
    assert!(text.contains("'=cmd"));
    assert!(text.contains("'+821020203030"));
    assert!(text.contains(",-3,"), "numbers are plain: {text}");
    assert!(!text.contains("'-3"));
}

/// R-EXP-4: the export interval is at most 100 years; a longer one is a `Validation`
/// error that changes nothing, and the longest accepted still rate-limits (no overflow).
#[test]
fn r_exp_4_export_interval_is_bounded_and_never_overflows() {
    let (book, _) = export_book();
    let owner = book.as_manager(Manager::owner("o1"));
    for secs in [
        u64::MAX,
        i64::MAX as u64,
        1_000_000_000_000_000,
        3_155_760_001,
    ] {
        let e = book
            .set_export_interval(std::time::Duration::from_secs(secs))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{secs}");
    }
    book.set_export_interval(std::time::Duration::from_secs(
        rolodex::book::MAX_EXPORT_INTERVAL_SECS,
    ))
    .unwrap();
    let protected = |reason: &str| ExportOptions {
        password: Some("abc!def1".into()),
        reason: Some(reason.into()),
        ..ExportOptions::default()
    };
    owner.export_csv(Vec::new(), protected("first")).unwrap();
    let e = owner
        .export_csv(Vec::new(), protected("second"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
}

/// R-IMP-9: the default import tag comes from the file name and is held to the length of
/// a tag; a name too long for one is a `Validation` error before any row, naming `fileName`.
#[test]
fn r_imp_9_default_tag_from_a_too_long_file_name_is_an_error() {
    let book = book_at("2025-06-01T00:00:00Z");
    let long = format!("{}.csv", "f".repeat(513));
    let e = import_text(
        &book,
        &long,
        "email\na@x.com\n",
        leads().map("email", Some("profile.email")),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(e.key(), Some("fileName"));
    assert!(all(&book).is_empty());
    let ok = format!("{}.csv", "f".repeat(512));
    let r = import_ok(
        &book,
        &ok,
        "email\na@x.com\n",
        leads().map("email", Some("profile.email")),
    );
    assert_eq!(r.import_tag, "f".repeat(512));
}

#[test]
fn r_exp_4_protected_export_password_reason_interval() {
    let (book, _) = export_book();
    let owner = book.as_manager(Manager::owner("o1"));
    let protected = |pw: &str, reason: Option<&str>| ExportOptions {
        password: Some(pw.into()),
        reason: reason.map(str::to_string),
        ..ExportOptions::default()
    };
    let mut out = Vec::new();
    for (pw, reason) in [
        ("ab1!", Some("audit")),
        ("abcdef1", Some("audit")),
        ("abc!def1", None),
    ] {
        let e = owner
            .export_csv(&mut out, protected(pw, reason))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{pw}");
    }
    assert!(out.is_empty());
    let s = owner
        .export_csv(&mut out, protected("abc!def1", Some("quarterly audit")))
        .unwrap();
    assert!(s.protected);
    assert_eq!(s.rows, 4);
    assert!(out.starts_with(b"PK"));
    assert!(!out.windows(7).any(|w| w == b"a@x.com"), "encrypted");
    let mut zip = zip::ZipArchive::new(Cursor::new(out.clone())).unwrap_or_else(|e| panic!("{e}"));
    let mut entry = zip.by_name_decrypt("contacts.csv", b"abc!def1").unwrap();
    let mut csv_text = String::new();
    std::io::Read::read_to_string(&mut entry, &mut csv_text).unwrap();
    assert!(csv_text.contains("a@x.com"));

    // Again within 30 minutes: RateLimited, saying when; another owner may.
    book.set_clock(Some(t("2025-06-01T00:29:00Z"))).unwrap();
    let e = owner
        .export_csv(Vec::new(), protected("abc!def1", Some("again")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert!(e.to_string().contains("2025-06-01 00:30:00"), "{e}");
    let other = book.as_manager(Manager::owner("o2"));
    other
        .export_csv(Vec::new(), protected("abc!def1", Some("other")))
        .unwrap();
    // A plain export is not limited; after the interval the protected one runs again.
    owner
        .export_csv(Vec::new(), ExportOptions::default())
        .unwrap();
    book.set_clock(Some(t("2025-06-01T00:30:00Z"))).unwrap();
    owner
        .export_csv(Vec::new(), protected("abc!def1", Some("later")))
        .unwrap();
    // The interval is a setting.
    book.set_export_interval(std::time::Duration::from_secs(0))
        .unwrap();
    owner
        .export_csv(Vec::new(), protected("abc!def1", Some("now")))
        .unwrap();

    let log = book
        .activity_log(&ActivityQuery {
            action: Some("export".into()),
            manager_id: Some("o1".into()),
            ..ActivityQuery::default()
        })
        .unwrap();
    assert_eq!(log.len(), 4);
    assert!(log
        .iter()
        .any(|e| e.reason.as_deref() == Some("quarterly audit")
            && e.count == 4
            && e.detail["protected"] == true));
}

#[test]
fn r_exp_5_only_owners_export() {
    let (book, _) = export_book();
    let member = book.as_manager(Manager::member(
        "m",
        &[
            Permission::EditContacts,
            Permission::DeleteContacts,
            Permission::DownloadData,
        ],
    ));
    let before = book.activity_log(&ActivityQuery::default()).unwrap().len();
    let mut out = Vec::new();
    let e = member
        .export_csv(&mut out, ExportOptions::default())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert!(e.to_string().contains("owner"));
    assert!(out.is_empty());
    assert_eq!(
        book.activity_log(&ActivityQuery::default()).unwrap().len(),
        before
    );
    // The same member may import (editContacts).
    assert!(import_text(&member, "x.csv", "profile.email\na@x.com\n", leads()).is_ok());
    let owner = book.as_manager(Manager::owner("boss"));
    let s = owner
        .export_csv(&mut out, ExportOptions::default())
        .unwrap();
    assert_eq!(s.rows, 4);
    let log = book
        .activity_log(&ActivityQuery {
            action: Some("export".into()),
            ..ActivityQuery::default()
        })
        .unwrap();
    assert_eq!(log[0].manager_id.as_deref(), Some("boss"));
    assert_eq!(log[0].count, 4);
}

// ----- property tests: never panics, never half a row, counts add up -----

/// 3,000 lead rows by email, every other one failing on an opt-out that is no boolean.
fn half_failing_leads() -> String {
    let mut csv = String::from("profile.email,unsubscribeEmail,unsubscribeTexting\n");
    for i in 0..3000 {
        let opt_out = if i % 2 == 0 { "false" } else { "maybe" };
        csv.push_str(&format!("p{i}@x.com,{opt_out},false\n"));
    }
    csv
}

/// A lead import by email whose columns are named like their keys.
fn email_leads() -> ImportOptions {
    ImportOptions {
        auto_map: true,
        ..ImportOptions::leads(IdentifyBy::Email)
    }
}

/// R-IMP-13 with API.md's `Storage` ("the backend failed; nothing half-written"): a failure
/// log whose writer takes nothing fails the import before any change. One whose writer
/// fails midway stops the import there: the rows before stay, each whole (R-IMP-16), and
/// the error, which replaces the report, says what they did; nothing more is written to
/// the log's writer after its failure.
#[test]
fn r_imp_13_a_failure_log_that_cannot_be_written_stops_the_import_and_says_what_stays() {
    let b = book_at("2025-06-01T00:00:00Z");
    let (csv, opts) = (half_failing_leads(), email_leads);
    let imports = || {
        b.activity_log(&ActivityQuery {
            action: Some("import".into()),
            ..ActivityQuery::default()
        })
        .unwrap()
    };
    let import = |w: &mut FailsOnce| {
        b.import_csv_with_log(Cursor::new(csv.as_bytes()), opts(), None, Some(w))
            .unwrap_err()
    };

    for how in [Hiccup::Error, Hiccup::Zero] {
        let mut w = FailsOnce::with(0, how);
        let e = import(&mut w);
        assert_eq!(e.kind(), ErrorKind::Storage, "{how:?}: {e}");
        assert!(e.to_string().contains("failure log"), "{how:?}: {e}");
        assert!(
            all(&b).is_empty(),
            "{how:?}: a writer that takes nothing changes nothing"
        );
        assert!(imports().is_empty(), "{how:?}");
        assert!(w.after.is_empty(), "{how:?}: {} bytes after", w.after.len());
    }

    let mut w = FailsOnce::with(20_000, Hiccup::Zero);
    let e = import(&mut w);
    assert_eq!(e.kind(), ErrorKind::Storage, "{e}");
    let created = all(&b).len();
    assert!(created > 0 && created < 1500, "{created}");
    let text = e.to_string();
    assert!(
        text.contains("failure log could not be written")
            && text.contains(&format!("{created} contacts created"))
            && text.contains("the activity log holds the report"),
        "{text}"
    );
    assert!(
        w.after.is_empty(),
        "{} bytes written after the writer failed",
        w.after.len()
    );
    let log = imports();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].count, created as u64);
    assert!(log[0].detail["stoppedBy"]
        .as_str()
        .is_some_and(|s| s.contains("failure log")));
}

/// R-IMP-13: a failure log whose writer is interrupted once (`Interrupted`, which `std`
/// tries again) has not failed: the import runs whole and the log holds every failed row,
/// as a log written to a writer that never stops does.
#[test]
fn r_imp_13_a_failure_log_interrupted_once_is_whole() {
    let (csv, opts) = (half_failing_leads(), email_leads);
    let mut whole = Vec::new();
    let clean = book_at("2025-06-01T00:00:00Z")
        .import_csv_with_log(Cursor::new(csv.as_bytes()), opts(), None, Some(&mut whole))
        .unwrap();
    for room in [0, 20_000] {
        let b = book_at("2025-06-01T00:00:00Z");
        let mut w = FailsOnce::with(room, Hiccup::Interrupted);
        let report = b
            .import_csv_with_log(Cursor::new(csv.as_bytes()), opts(), None, Some(&mut w))
            .unwrap();
        assert_eq!((report.created, report.failed), (1500, 1500), "{room}");
        assert_eq!(report.failures, clean.failures, "{room}");
        assert_eq!(w.all(), whole, "{room}");
    }
}

/// API.md: `import_csv(source, ImportOptions, progress)` takes "a path, or `Read + Seek`":
/// a path as text or a `Path`, and a `File`, a `Cursor`, a `BufReader` or any reader lent
/// as `&mut`, with no wrapping. A path's file name gives the import tag (R-IMP-9); a
/// reader's comes from `fileName`, here left out, so the default.
#[test]
fn r_imp_1_import_csv_takes_a_path_or_any_seekable_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spring.csv");
    let text = "profile.email,unsubscribeEmail,unsubscribeTexting\nsource@x.com,false,false\n";
    std::fs::write(&path, text).unwrap();
    let as_text = path.to_str().unwrap();
    let opts = || ImportOptions {
        auto_map: true,
        ..ImportOptions::leads(IdentifyBy::Email)
    };
    let reader_tag = |r: &ImportReport| r.import_tag.starts_with("import-");
    type Run<'a> = Box<dyn Fn(&ContactBook) -> ImportReport + 'a>;
    let runs: Vec<(&str, Run)> = vec![
        (
            "&str",
            Box::new(|b| b.import_csv(as_text, opts(), None).unwrap()),
        ),
        (
            "String",
            Box::new(|b| b.import_csv(as_text.to_string(), opts(), None).unwrap()),
        ),
        (
            "&Path",
            Box::new(|b| b.import_csv(path.as_path(), opts(), None).unwrap()),
        ),
        (
            "File",
            Box::new(|b| {
                let f = std::fs::File::open(&path).unwrap();
                b.import_csv(f, opts(), None).unwrap()
            }),
        ),
        (
            "&mut File",
            Box::new(|b| {
                let mut f = std::fs::File::open(&path).unwrap();
                b.import_csv(&mut f, opts(), None).unwrap()
            }),
        ),
        (
            "BufReader",
            Box::new(|b| {
                let f = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
                b.import_csv(f, opts(), None).unwrap()
            }),
        ),
        (
            "Cursor<&[u8]>",
            Box::new(|b| {
                b.import_csv(Cursor::new(text.as_bytes()), opts(), None)
                    .unwrap()
            }),
        ),
        (
            "Cursor<Vec<u8>>",
            Box::new(|b| {
                b.import_csv(Cursor::new(text.as_bytes().to_vec()), opts(), None)
                    .unwrap()
            }),
        ),
    ];
    for (how, run) in runs {
        let b = ContactBook::in_memory();
        let report = run(&b);
        assert_eq!((report.created, report.failed), (1, 0), "{how}");
        let by_path = matches!(how, "&str" | "String" | "&Path");
        if by_path {
            assert_eq!(report.import_tag, "spring", "{how}");
        } else {
            assert!(reader_tag(&report), "{how}: {}", report.import_tag);
        }
        let got = all(&b);
        assert_eq!(got.len(), 1, "{how}");
        assert_eq!(got[0].email(), Some("source@x.com"), "{how}");
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    fn cell() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("true".to_string()),
            Just("false".to_string()),
            Just("maybe".to_string()),
            Just("12".to_string()),
            Just("1,000".to_string()),
            Just("[\"a\",\"b\"]".to_string()),
            Just("[\"a\"".to_string()),
            Just("'=x".to_string()),
            Just("\"".to_string()),
            "[a-z0-9 @.+\\-]{0,12}",
            (0u8..6).prop_map(|i| format!("p{i}@x.com")),
            (0u8..6).prop_map(|i| format!("+82 10-1000-{:04}", i)),
        ]
    }

    fn quote(c: &str) -> String {
        if c.contains([',', '"', '\n']) && c != "\"" {
            format!("\"{}\"", c.replace('"', "\"\""))
        } else {
            c.to_string()
        }
    }

    const HEADER: [&str; 6] = [
        "profile.email",
        "profile.mobileNumber",
        "profile.name",
        "tags",
        "unsubscribeEmail",
        "unsubscribeTexting",
    ];

    fn csv_shape() -> impl Strategy<Value = (String, bool)> {
        (
            prop::collection::vec(prop::collection::vec(cell(), 0..8), 0..12),
            any::<bool>(),
        )
            .prop_map(|(rows, clear)| {
                let mut text = HEADER.join(",");
                text.push('\n');
                for r in rows {
                    let cells: Vec<String> = r.iter().map(|c| quote(c)).collect();
                    text.push_str(&cells.join(","));
                    text.push('\n');
                }
                (text, clear)
            })
    }

    fn seeded() -> ContactBook {
        let book = ContactBook::in_memory();
        book.add_lead(NewLead::email("p0@x.com").with_name("Zero"))
            .unwrap();
        book.add_lead(NewLead::mobile("+821010000001")).unwrap();
        book.set_mu_limit(Some(4)).unwrap();
        book
    }

    fn check(book: &ContactBook, text: &[u8], options: ImportOptions) -> Result<(), TestCaseError> {
        let before: std::collections::HashMap<String, Contact> =
            all(book).into_iter().map(|c| (c.id.clone(), c)).collect();
        let result = book.import_csv(
            ImportSource::reader(Cursor::new(text.to_vec())),
            options.clone(),
            None,
        );
        let after = all(book);
        let Ok(r) = result else {
            // An import refused up front changes nothing.
            prop_assert_eq!(after.len(), before.len());
            return Ok(());
        };
        prop_assert_eq!(r.failed as usize, r.failures.len());
        prop_assert!(r.created + r.updated + r.failed <= r.rows.max(1) + r.rows);
        // Contacts touched = created + updated: exactly those carrying the import tag now
        // (this test's tag is new to every contact).
        let touched = after
            .iter()
            .filter(|c| c.user_import_tags.contains(&r.import_tag))
            .count() as u64;
        prop_assert_eq!(touched, r.created + r.updated);
        let created = after.iter().filter(|c| !before.contains_key(&c.id)).count() as u64;
        prop_assert_eq!(created, r.created);
        // Never half a row: a contact either got the import tag (a row applied) or is
        // exactly as before.
        for c in &after {
            if let Some(b) = before.get(&c.id) {
                if !c.user_import_tags.contains(&r.import_tag) {
                    prop_assert_eq!(c, b);
                }
            }
        }
        // Every row is accounted for: applied rows ≥ contacts touched, failed rows listed.
        prop_assert!(r.rows >= r.failed);
        prop_assert!(book.mu_count().unwrap() <= 4);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn r_imp_16_arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let book = seeded();
            let mut o = leads();
            o.file_name = Some("fuzz.csv".into());
            check(&book, &bytes, o)?;
            let mut with_header = format!("{}\n", HEADER.join(",")).into_bytes();
            with_header.extend_from_slice(&bytes);
            let mut o = leads();
            o.file_name = Some("fuzz2.csv".into());
            check(&book, &with_header, o)?;
        }

        #[test]
        fn r_imp_12_arbitrary_csv_shapes_counts_add_up((text, clear) in csv_shape(), by_mobile in any::<bool>(), dry in any::<bool>()) {
            let book = seeded();
            let mut o = if by_mobile {
                ImportOptions { auto_map: true, ..ImportOptions::leads(IdentifyBy::MobileNumber) }
            } else {
                leads()
            };
            o.file_name = Some("shape.csv".into());
            if clear {
                o.empty_cells = EmptyCells::Clear;
            }
            if dry {
                o.dry_run = true;
                let before = fingerprint(&book);
                let dry_report = import_text(&book, "shape.csv", &text, o.clone()).unwrap();
                prop_assert_eq!(fingerprint(&book), before);
                o.dry_run = false;
                let real = import_text(&book, "shape.csv", &text, o).unwrap();
                prop_assert_eq!(
                    (dry_report.created, dry_report.updated, dry_report.failed, dry_report.hidden, dry_report.mu_after),
                    (real.created, real.updated, real.failed, real.hidden, real.mu_after)
                );
            } else {
                check(&book, text.as_bytes(), o)?;
            }
        }
    }
}

#[test]
fn api_import_from_path_and_query_after() {
    let book = ContactBook::in_memory();
    book.define_key("profile.city", FieldType::String).unwrap();
    let mut o = leads()
        .map("city", Some("profile.city"))
        .map("interests", None);
    o.identify_by = Some(IdentifyBy::Email);
    let o = o
        .map("email", Some("profile.email"))
        .map("name", Some("profile.name"));
    let r = book
        .import_csv(fixture("leads.csv").as_path(), o, None)
        .unwrap();
    assert_eq!(r.import_tag, "leads");
    assert_eq!((r.created, r.failed), (2, 1));
    let page = book
        .search(&serde_json::from_value::<Query>(json!({"terms": "park@example.com"})).unwrap())
        .unwrap();
    assert_eq!(page.total, 1);
}

#[test]
fn r_imp_18_a_dry_run_uses_up_no_contact_ids() {
    // Twin books: after a dry run that would create contacts, the next contact gets the id
    // it gets in a book that never ran it.
    let (book, twin) = (ContactBook::in_memory(), ContactBook::in_memory());
    for b in [&book, &twin] {
        b.add_lead(NewLead::email("a@x.com")).unwrap();
    }
    let text = "profile.email,unsubscribeEmail,unsubscribeTexting\nn1@x.com,false,false\nn2@x.com,false,false\n";
    let mut o = leads();
    o.dry_run = true;
    assert_eq!(import_ok(&book, "d.csv", text, o).created, 2);
    let mut o = members();
    o.dry_run = true;
    let text = "memberId,unsubscribeEmail,unsubscribeTexting\nm1,false,false\n";
    assert_eq!(import_ok(&book, "m.csv", text, o).created, 1);
    let next = |b: &ContactBook| b.add_lead(NewLead::email("z@x.com")).unwrap().id;
    assert_eq!(next(&book), next(&twin));
}

#[test]
fn r_uni_2_a_failed_unification_names_no_contact_that_never_existed() {
    // A member row whose new member would absorb a lead past the 200-tag limit fails
    // (R-SCH-7, R-IMP-16): its reason names the lead by id and the member that was never
    // created by its memberId, not by an id nobody can find; a dry run says the same.
    let book = ContactBook::in_memory();
    let lead = book
        .add_lead(NewLead {
            email: Some("u@x.com".into()),
            tags: (0..150).map(|i| format!("l{i}")).collect(),
            ..Default::default()
        })
        .unwrap();
    let tags = serde_json::to_string(&(0..100).map(|i| format!("m{i}")).collect::<Vec<_>>())
        .unwrap()
        .replace('"', "\"\"");
    let text = format!(
        "memberId,profile.email,tags,unsubscribeEmail,unsubscribeTexting\nm-1,u@x.com,\"{tags}\",false,false\n"
    );
    for dry_run in [true, false] {
        let r = import_ok(
            &book,
            "m.csv",
            &text,
            ImportOptions {
                dry_run,
                ..members()
            },
        );
        assert_eq!((r.created, r.failed), (0, 1), "dry run {dry_run}");
        let reason = &r.failures[0].error_reasons[0];
        assert!(
            reason.contains(&format!("lead {}", lead.id))
                && reason.contains("the new member with memberId \"m-1\""),
            "{reason}"
        );
        assert_eq!(reason.matches("c_").count(), 1, "{reason}");
    }
    assert_eq!(all(&book).len(), 1);
    // A lead row whose new lead would be unified into a stored member over the limit: the
    // dry run gives the real import's reason word for word.
    let text = format!(
        "profile.email,profile.mobileNumber,tags,unsubscribeEmail,unsubscribeTexting\nnew@x.com,+821020203030,\"{tags}\",false,false\n"
    );
    let member = "memberId,profile.mobileNumber,unsubscribeEmail,unsubscribeTexting\nm-2,+821020203030,false,false\n";
    import_ok(&book, "m2.csv", member, members());
    let m2 = book
        .update(
            &by_member(&book, "m-2").id,
            &json!({"tags": (0..150).map(|i| format!("x{i}")).collect::<Vec<_>>()}),
        )
        .unwrap();
    let reasons: Vec<_> = [true, false]
        .map(|dry_run| {
            let mut o = ImportOptions::leads(IdentifyBy::Email);
            o.auto_map = true;
            o.dry_run = dry_run;
            let r = import_ok(&book, "l.csv", &text, o);
            assert_eq!(r.failed, 1);
            r.failures[0].error_reasons.clone()
        })
        .into();
    assert_eq!(reasons[0], reasons[1]);
    assert!(
        reasons[0][0].contains(&format!("the new lead into member {}", m2.id)),
        "{reasons:?}"
    );
}

#[test]
fn r_imp_18_long_dry_run_matches_the_real_import() {
    // Enough rows that the dry run's one transaction indexes its writes; failed rows are
    // rolled back to their savepoint; repeated identifiers hit contacts created earlier in
    // the same transaction, by email and by mobile number.
    let book = ContactBook::in_memory();
    book.add_lead(NewLead::email("p3@x.com")).unwrap();
    book.set_mu_limit(Some(150)).unwrap();
    let mut text = String::from(
        "profile.email,profile.mobileNumber,tags,unsubscribeEmail,unsubscribeTexting\n",
    );
    for i in 0..400 {
        let opt = if i % 7 == 0 { "" } else { "false" };
        text.push_str(&format!(
            "p{}@x.com,+82 10-2000-{:04},\"[\"\"t{}\"\"]\",{opt},false\n",
            i % 250,
            i % 300,
            i % 5
        ));
    }
    let mut dry = leads();
    dry.dry_run = true;
    let before = fingerprint(&book);
    let (d, d_log) = import_with_log(&book, "big.csv", &text, dry);
    assert_eq!(fingerprint(&book), before);
    let (r, r_log) = import_with_log(&book, "big.csv", &text, leads());
    assert_eq!(
        (d.rows, d.created, d.updated, d.failed, d.hidden, d.mu_after),
        (r.rows, r.created, r.updated, r.failed, r.hidden, r.mu_after)
    );
    assert_eq!(d_log, r_log);
    assert!(r.created > 150 && r.hidden > 0 && r.failed > 0, "{r:?}");
    let mut by_mobile = ImportOptions::leads(IdentifyBy::MobileNumber);
    by_mobile.auto_map = true;
    by_mobile.dry_run = true;
    let (d, _) = import_with_log(&book, "again.csv", &text, by_mobile.clone());
    by_mobile.dry_run = false;
    let (r, _) = import_with_log(&book, "again.csv", &text, by_mobile);
    assert_eq!(
        (d.created, d.updated, d.failed, d.hidden, d.mu_after),
        (r.created, r.updated, r.failed, r.hidden, r.mu_after)
    );
}

// R-IMP-9 / R-IMP-20: a member touched by an import keeps that import's tag (as its newest),
// even when the row's new email unifies a never-booted lead into it (R-UNI-3).
#[test]
fn r_imp_9_member_import_tag_survives_unification_of_lead() {
    let book = ContactBook::in_memory();
    // A verified, never-booted lead whose oldest of 30 import tags is "spring".
    import_ok(
        &book,
        "spring.csv",
        "profile.email,unsubscribeEmail,unsubscribeTexting\ne@x.com,false,false\n",
        leads(),
    );
    for i in 2..=30 {
        import_ok(
            &book,
            &format!("l{i:02}.csv"),
            "profile.email\ne@x.com\n",
            leads(),
        );
    }
    // A member with 29 import tags and no email.
    import_ok(
        &book,
        "m01.csv",
        "memberId,unsubscribeEmail,unsubscribeTexting\nm1,false,false\n",
        members(),
    );
    for i in 2..=29 {
        import_ok(&book, &format!("m{i:02}.csv"), "memberId\nm1\n", members());
    }
    // The member import "spring" touches m1 and gives it the lead's email.
    let r = import_ok(
        &book,
        "spring.csv",
        "memberId,profile.email\nm1,e@x.com\n",
        members(),
    );
    assert_eq!((r.updated, r.failed), (1, 0), "{r:?}");
    let m = all(&book)
        .into_iter()
        .find(|c| c.member_id.as_deref() == Some("m1"))
        .unwrap();
    assert_eq!(m.email(), Some("e@x.com")); // the lead was unified into it
    assert_eq!(all(&book).len(), 1);
    assert!(m.user_import_tags.len() <= 30);
    assert_eq!(
        m.user_import_tags.last().map(String::as_str),
        Some("spring"),
        "{:?}",
        m.user_import_tags
    );
}

// R-IMP-10: an import updates only `updatedAt` of a contact it updates, and gives a contact it
// creates `createdAt` = `lastSeenAt` = the import time — also when the row's email unifies a
// never-booted lead into that member (R-UNI-3: the member's values win).
#[test]
fn r_imp_10_timestamps_when_member_row_unifies_a_lead() {
    let book = book_at("2025-01-01T00:00:00Z");
    import_ok(
        &book,
        "m.csv",
        "memberId,unsubscribeEmail,unsubscribeTexting\nm1,false,false\n",
        members(),
    );
    book.set_clock(Some(t("2025-02-01T00:00:00Z"))).unwrap();
    book.add_lead(NewLead::email("e@x.com")).unwrap();
    book.add_lead(NewLead::email("f@x.com")).unwrap();
    book.set_clock(Some(t("2025-03-01T00:00:00Z"))).unwrap();
    // Update: m1 gains e@x.com; the lead (seen 2025-02-01) is unified into it.
    let r = import_ok(
        &book,
        "u.csv",
        "memberId,profile.email\nm1,e@x.com\n",
        members(),
    );
    assert_eq!(r.updated, 1, "{r:?}");
    // Create: m2 is new with f@x.com; the lead (created 2025-02-01) is unified into it.
    let r = import_ok(
        &book,
        "c.csv",
        "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\nm2,f@x.com,false,false\n",
        members(),
    );
    assert_eq!(r.created, 1, "{r:?}");
    let by = |m: &str| {
        all(&book)
            .into_iter()
            .find(|c| c.member_id.as_deref() == Some(m))
            .unwrap()
    };
    assert_eq!(all(&book).len(), 2, "both leads were unified");
    let m1 = by("m1");
    let m2 = by("m2");
    let mut bad = Vec::new();
    if m1.last_seen_at != t("2025-01-01T00:00:00Z") {
        bad.push(format!("m1 (updated) lastSeenAt {}", m1.last_seen_at));
    }
    if m2.created_at != t("2025-03-01T00:00:00Z") {
        bad.push(format!("m2 (created) createdAt {}", m2.created_at));
    }
    assert!(bad.is_empty(), "{bad:?}");
}
