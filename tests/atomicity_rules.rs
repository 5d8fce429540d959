//! Atomicity and "a failed call changes nothing" (API.md), for every public
//! operation of the contact book. Each test names the rule it checks and quotes it; a
//! failed call is compared against a full snapshot of the channel taken before it
//! (contacts with hidden and blocked ones, MU, the limit and the other settings, segments,
//! pending unifications, the whole activity log, the schema, export times).

use std::io::{Cursor, Write};
use std::time::Duration;

use rolodex::{
    ActivityQuery, Boot, Contact, ContactBook, ErrorKind, ExportOptions, FieldType, ImportOptions,
    ImportReport, ImportSource, Manager, MergeChoices, NewLead, Permission, Side, Target,
};
use serde_json::json;

mod support;
use support::{all, book_at, f, leads};

// ----- helpers -----

/// Everything a failed call must leave as it was.
fn snapshot(b: &ContactBook) -> String {
    let contacts: Vec<_> = all(b).iter().map(Contact::to_json).collect();
    let store = b.store();
    let ch = b.channel_name();
    let export_times: Vec<_> = [None, Some("o"), Some("p")]
        .into_iter()
        .map(|m| store.export_time(ch, m).unwrap())
        .collect();
    format!(
        "contacts={}\nmu={}\nsettings={:?}\nsegments={:?}\npending={:?}\nlog={:?}\nschema={:?}\nexportTimes={:?}",
        serde_json::to_string(&contacts).unwrap(),
        b.mu_count().unwrap(),
        store.settings(ch).unwrap(),
        b.segments().unwrap(),
        b.pending_unifications().unwrap(),
        b.activity_log(&ActivityQuery::default()).unwrap(),
        b.schema().unwrap(),
        export_times,
    )
}

fn import_with(
    b: &ContactBook,
    file: &str,
    text: &str,
    mut o: ImportOptions,
    log: Option<&mut dyn Write>,
) -> rolodex::Result<ImportReport> {
    o.file_name = Some(file.to_string());
    b.import_csv_with_log(
        ImportSource::reader(Cursor::new(text.as_bytes().to_vec())),
        o,
        None,
        log,
    )
}

fn import(
    b: &ContactBook,
    file: &str,
    text: &str,
    o: ImportOptions,
) -> rolodex::Result<ImportReport> {
    import_with(b, file, text, o, None)
}

fn members() -> ImportOptions {
    ImportOptions {
        auto_map: true,
        ..ImportOptions::members()
    }
}

fn protected(reason: &str) -> ExportOptions {
    ExportOptions {
        password: Some("abc12!".into()),
        reason: Some(reason.into()),
        ..ExportOptions::default()
    }
}

/// A writer that refuses every byte (a full disk, a closed pipe).
struct Refusing;

impl Write for Refusing {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("disk full"))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Err(std::io::Error::other("disk full"))
    }
}

fn lead(b: &ContactBook, email: &str) -> String {
    b.add_lead(NewLead::email(email).with_name(email))
        .unwrap()
        .id
}

fn tags(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

fn login(b: &ContactBook, member: &str) -> Contact {
    b.boot(Boot {
        member_id: Some(member.into()),
        ..Boot::default()
    })
    .unwrap()
}

// ----- confirmed deviations (these fail) -----

/// R-SCH-7: "≤ 256 keys set on one profile; the whole profile ≤ 15 KB = 15,360 bytes ...
/// A write that would break a limit ... is rejected whole with an error naming key and
/// limit; nothing is truncated." R-CON-8: "Unmerge ... puts back on the survivor the
/// pre-merge values of fields unchanged since the merge (fields changed since keep their
/// new values)". API.md: a failed call changes nothing.
///
/// The primary had a 500-character `k00`; the merge kept the secondary's short `k00`; the
/// survivor was then filled up to just under 15,360 bytes by a manager. Putting the long
/// `k00` back breaks the profile limit: the unmerge must be rejected whole (and change
/// nothing), never store a profile over 15 KB.
#[test]
fn r9_sch_7_unmerge_that_would_put_back_a_profile_over_15kb_is_rejected_whole() {
    let b = book_at("2025-06-01T00:00:00Z");
    for i in 0..=30 {
        b.define_key(&format!("profile.k{i:02}"), FieldType::String)
            .unwrap();
    }
    let mut pl = NewLead::email("p@x.com");
    pl.profile.insert("k00".into(), json!("a".repeat(500)));
    let p = b.add_lead(pl).unwrap().id;
    let mut sl = NewLead::email("s@x.com");
    sl.profile.insert("k00".into(), json!("s"));
    let s = b.add_lead(sl).unwrap().id;
    let mut choices = MergeChoices::new();
    choices.insert("profile.k00".into(), Side::Secondary);
    let m = b.merge(&p, &s, &choices).unwrap();

    let mut patch = serde_json::Map::new();
    for i in 1..=29 {
        patch.insert(format!("profile.k{i:02}"), json!("b".repeat(500)));
    }
    b.update(&p, &serde_json::Value::Object(patch)).unwrap();
    let size = |c: &Contact| rolodex::schema::profile_json_size(&c.profile);
    let s1 = size(&b.get(&p).unwrap());
    let fill = (15_360usize.saturating_sub(s1 + 9)).min(500);
    b.update(&p, &json!({"profile.k30": "c".repeat(fill)}))
        .unwrap();
    let filled = size(&b.get(&p).unwrap());
    assert!(filled <= 15_360 && filled + 499 > 15_360, "setup: {filled}");

    let before = snapshot(&b);
    match b.unmerge(&m.merge_id) {
        Ok(_) => {
            let stored = size(&b.get(&p).unwrap());
            panic!(
                "unmerge succeeded and left the survivor's profile at {stored} bytes \
                 (limit 15,360): R-SCH-7 says such a write is rejected whole"
            );
        }
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
            assert_eq!(snapshot(&b), before, "the failed unmerge changed something");
        }
    }
}

/// API.md: "a failed call changes nothing"; `Storage`: "the backend failed; nothing
/// half-written". R-EXP-4: "one manager may start a protected contacts export at most
/// once per 30 minutes ... an early attempt fails with `RateLimited`".
///
/// A protected export whose output cannot be written fails (`Storage`) — but it has
/// already recorded the manager's export time, so the manager's retry with a working
/// writer is refused with `RateLimited` for 30 minutes, for an export that never
/// happened (and that the activity log does not hold).
#[test]
fn r9_exp_4_failed_protected_export_does_not_use_up_the_interval() {
    let b = book_at("2025-06-01T00:00:00Z");
    lead(&b, "a@x.com");
    let owner = b.as_manager(Manager::owner("o"));
    let before = snapshot(&b);
    let e = owner.export_csv(Refusing, protected("audit")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Storage, "{e}");
    assert_eq!(
        snapshot(&b),
        before,
        "the failed protected export changed the book (its export time)"
    );
    let mut out = Vec::new();
    owner
        .export_csv(&mut out, protected("audit, again"))
        .expect("the failed export did not happen, so a retry is not early");
}

/// R-IMP-16: the import "records its report in the activity log with the requesting
/// manager"; R-EXP-5: "Imports, exports, deletes and bulk edits are written to an activity
/// log"; API.md: "a failed call changes nothing".
///
/// An import whose failure log (asked for by the caller) cannot be written returns
/// `Storage` after its rows were applied, and logs nothing: contacts were created by an
/// import the activity log does not know. Either the failed call changes nothing, or the
/// import that did apply is in the log.
#[test]
fn r9_imp_16_import_failing_on_its_failure_log_leaves_unlogged_changes() {
    let b = book_at("2025-06-01T00:00:00Z");
    let m = b.as_manager(Manager::member("ed", &[Permission::EditContacts]));
    let csv =
        "profile.email,unsubscribeEmail,unsubscribeTexting\nnew@x.com,false,false\nbad@x.com,,\n";
    let contacts_before = all(&b).len();
    let mut sink = Refusing;
    let e = import_with(&m, "f.csv", csv, leads(), Some(&mut sink)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Storage, "{e}");
    let changed = all(&b).len() != contacts_before;
    let logged = b
        .activity_log(&ActivityQuery {
            action: Some("import".into()),
            ..ActivityQuery::default()
        })
        .unwrap()
        .len();
    assert!(
        !changed || logged == 1,
        "the import failed ({e}) yet created {} contact(s), and the activity log holds {logged} import entries",
        all(&b).len() - contacts_before
    );
}

/// R-VAL-8: "`tag`: ... each tag of at most 2 levels separated by `/`; `/` only in the
/// middle; the characters `.` `,` `$` `\` and space are not allowed"; API.md
/// `Validation`: "a value breaks R-VAL"; "a failed call changes nothing".
///
/// `add_tags` rejects a malformed tag with `Validation`; `remove_tags` takes any text,
/// reports every contact as done and touches their `updatedAt`, though no tag can ever
/// match it (a typo like `"vip tag"` silently removes nothing).
#[test]
fn r9_val_8_remove_tags_with_a_malformed_tag_is_validation_and_changes_nothing() {
    let b = book_at("2025-06-01T00:00:00Z");
    let a = lead(&b, "a@x.com");
    b.add_tags(vec![a.clone()], &["vip"]).unwrap();
    b.set_clock(Some(support::t("2025-06-02T00:00:00Z")))
        .unwrap();
    for bad in ["vip tag", "a.b", "/vip", "a/b/c"] {
        let e = b.add_tags(vec![a.clone()], &[bad.to_string()]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "add_tags {bad:?}");
        let before = snapshot(&b);
        let r = b.remove_tags(vec![a.clone()], &[bad.to_string()]);
        match r {
            Ok(r) => panic!(
                "remove_tags({bad:?}) accepted a malformed tag: {r:?}; contact changed: {}",
                snapshot(&b) != before
            ),
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Validation, "{bad:?}: {e}");
                assert_eq!(snapshot(&b), before);
            }
        }
    }
}

/// R-UNI-2: "When a member ... gains verified contact info (... manager edit), verified
/// leads with the same info are unified into it"; R-SCH-7: a write that would break a
/// limit "is rejected whole with an error naming key and limit"; API.md: "Every message
/// says what to do."
///
/// A manager sets a member's email; the never-booted lead holding it would be unified, and
/// the union of tags passes 200. The edit is rightly rejected whole, but the message only
/// says "the merged tags would be too many": it names neither the unification nor the lead
/// whose tags are at fault, so the manager (who edited an email, not tags) cannot tell
/// what to do.
#[test]
fn r9_uni_2_edit_failing_on_its_unification_says_which_lead() {
    let b = book_at("2025-06-01T00:00:00Z");
    let m = login(&b, "m-1").id;
    b.update(&m, &json!({"tags": tags("m", 150)})).unwrap();
    let mut nl = NewLead::email("kim@x.com");
    nl.tags = tags("l", 100);
    let l = b.add_lead(nl).unwrap().id;
    let before = snapshot(&b);
    let e = b
        .update(&m, &json!({"profile.email": "kim@x.com"}))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    assert_eq!(snapshot(&b), before, "the rejected edit changed something");
    let msg = e.to_string();
    assert!(
        msg.contains(&l) || msg.contains("unif"),
        "the message does not say the edit failed because lead {l} would be unified: {msg}"
    );
}

// ----- passing checks of tricky cases -----

/// R-IMP-18: "A **dry run** applies nothing and returns the report the import would
/// produce, with the MU it would reach and how many contacts would be hidden". A members
/// dry run that would create hidden contacts (MU limit), record a pending unification (a
/// booted lead), absorb a never-booted lead and fail two rows: nothing at all changes,
/// the lock is released, and the real import then reports the same.
#[test]
fn r9_imp_18_dry_run_changes_nothing_and_reports_what_the_import_does() {
    let b = book_at("2025-06-01T00:00:00Z");
    let booted = b.boot(Boot::default()).unwrap().id;
    b.update(&booted, &json!({"profile.email": "b@x.com"}))
        .unwrap();
    b.set_clock(Some(support::t("2025-06-01T01:00:00Z")))
        .unwrap();
    lead(&b, "n@x.com");
    lead(&b, "o@x.com");
    b.set_mu_limit(Some(3)).unwrap();
    let csv = "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\n\
               m1,b@x.com,false,false\n\
               m2,n@x.com,true,false\n\
               m3,,false,false\n\
               ,x@x.com,false,false\n\
               m4,not-an-email,false,false\n\
               m5,z@x.com,false,false\n";
    let before = snapshot(&b);
    let dry = import(
        &b,
        "dry.csv",
        csv,
        ImportOptions {
            dry_run: true,
            ..members()
        },
    )
    .unwrap();
    assert!(dry.dry_run);
    assert_eq!(snapshot(&b), before, "the dry run changed something");
    let real = import(&b, "dry.csv", csv, members()).unwrap();
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
        ),
        "dry {dry:?}\nreal {real:?}"
    );
    assert_eq!((real.created, real.failed), (4, 2), "{real:?}");
    assert_eq!(b.pending_unifications().unwrap().len(), 1);
}

/// R-IMP-15: "Only one import runs per channel at a time"; the lock must be released on
/// every path: a denied import, a mapping error, a non-UTF-8 file, a dry run, a storage
/// failure of the failure log. Each failed import changes nothing (R-IMP-2/3: "rejected
/// before any change", "an error before any row is applied").
#[test]
fn r9_imp_15_import_lock_released_on_every_path_and_failures_change_nothing() {
    let b = book_at("2025-06-01T00:00:00Z");
    lead(&b, "a@x.com");
    let ok = "profile.email,unsubscribeEmail,unsubscribeTexting\nnew@x.com,false,false\n";
    let before = snapshot(&b);
    let viewer = b.as_manager(Manager::member("v", &[Permission::DeleteContacts]));
    let e = import(&viewer, "a.csv", ok, leads()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert!(e.to_string().contains("editContacts"), "{e}");
    let mapped = leads().map("Nope", Some("profile.name"));
    let e = import(&b, "a.csv", ok, mapped).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("Nope"), "names the column: {e}");
    let e = b
        .import_csv(
            ImportSource::reader(Cursor::new(
                b"profile.email,unsubscribeEmail,unsubscribeTexting\nk\xe9@x.com,false,false\n"
                    .to_vec(),
            )),
            leads(),
            None,
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("UTF-8"), "{e}");
    let e = import(
        &b,
        "a.csv",
        ok,
        ImportOptions::leads(rolodex::IdentifyBy::Email),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "unmapped columns: {e}");
    import(
        &b,
        "a.csv",
        ok,
        ImportOptions {
            dry_run: true,
            ..leads()
        },
    )
    .unwrap();
    assert_eq!(
        snapshot(&b),
        before,
        "a failed or dry import changed something"
    );
    let _ = import_with(&b, "a.csv", ok, leads(), Some(&mut Refusing));
    let r = import(&b, "b.csv", ok, leads()).expect("the lock was released on every path");
    assert_eq!(r.failed, 0);
}

/// R-IMP-16: "A row either applies whole or fails whole." A member row whose unification
/// with a never-booted lead (R-UNI-3: "tags and lists are unioned") would pass 200 tags
/// fails alone: no member is created, the lead keeps its data, and the next row applies.
#[test]
fn r9_imp_16_member_row_failing_on_its_unification_fails_whole() {
    let b = book_at("2025-06-01T00:00:00Z");
    let mut nl = NewLead::email("kim@x.com");
    nl.tags = tags("l", 150);
    let l = b.add_lead(nl).unwrap().id;
    let lead_before = b.get(&l).unwrap().to_json();
    let member_tags = serde_json::to_string(&tags("m", 60))
        .unwrap()
        .replace('"', "\"\"");
    let csv = format!(
        "memberId,profile.email,tags,unsubscribeEmail,unsubscribeTexting\n\
         m1,kim@x.com,\"{member_tags}\",false,false\n\
         m2,lee@x.com,,false,false\n"
    );
    let r = import(&b, "t.csv", &csv, members()).unwrap();
    assert_eq!((r.created, r.failed), (1, 1), "{r:?}");
    assert_eq!(r.failures[0].row_number, 2);
    assert!(
        r.failures[0].error_columns.iter().any(|c| c == "tags"),
        "{r:?}"
    );
    assert_eq!(
        b.get(&l).unwrap().to_json(),
        lead_before,
        "the lead was touched"
    );
    let page = b
        .search(&support::q(
            json!({"filter": {"key": "memberId", "op": "eq", "value": "m1"}}),
        ))
        .unwrap();
    assert_eq!(page.total, 0, "the failed row created its member");
}

/// R-CON-8 with R-SCH-7: a merge whose union passes 200 tags is rejected whole, naming
/// the key and the limit, and changes nothing (no merge record: the ids still merge
/// after the secondary loses tags, and nothing is logged).
#[test]
fn r9_con_8_merge_failing_on_a_limit_changes_nothing() {
    let b = book_at("2025-06-01T00:00:00Z");
    let mut pl = NewLead::email("p@x.com");
    pl.tags = tags("p", 150);
    let p = b.add_lead(pl).unwrap().id;
    let mut sl = NewLead::email("s@x.com");
    sl.tags = tags("s", 51);
    let s = b.add_lead(sl).unwrap().id;
    let before = snapshot(&b);
    let e = b.merge(&p, &s, &MergeChoices::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    let msg = e.to_string();
    assert!(msg.contains("tags") && msg.contains("200"), "{msg}");
    assert_eq!(snapshot(&b), before);
    // Choosing one side's tags is within the limit.
    let mut c = MergeChoices::new();
    c.insert("tags".into(), Side::Primary);
    let m = b.merge(&p, &s, &c).unwrap();
    assert_eq!(m.contact.tags.len(), 150);
}

/// R-CON-8: "Merging a contact with itself, or with a blocked, hidden or deleted one, and
/// unmerging after either side was deleted or merged again, are `Conflict` errors." Each
/// changes nothing, and its message says what to do.
#[test]
fn r9_con_8_merge_and_unmerge_preconditions_are_conflicts_that_change_nothing() {
    let b = book_at("2025-06-01T00:00:00Z");
    let a = lead(&b, "a@x.com");
    let blocked = lead(&b, "b@x.com");
    let gone = lead(&b, "g@x.com");
    let c = lead(&b, "c@x.com");
    let d = lead(&b, "d@x.com");
    b.block(vec![blocked.clone()]).unwrap();
    b.delete(vec![gone.clone()]).unwrap();
    b.set_clock(Some(support::t("2025-06-02T00:00:00Z")))
        .unwrap();
    let e = lead(&b, "e@x.com");
    let m1 = b.merge(&c, &d, &MergeChoices::new()).unwrap();
    let m2 = b.merge(&a, &c, &MergeChoices::new()).unwrap();
    b.set_mu_limit(Some(b.mu_count().unwrap())).unwrap();
    b.set_clock(Some(support::t("2025-06-03T00:00:00Z")))
        .unwrap();
    let hidden = b.add_lead(NewLead::email("h@x.com")).unwrap();
    assert!(hidden.hidden, "setup: no room, created hidden");
    let hidden = hidden.id;
    let before = snapshot(&b);
    type Case<'a> = (&'a str, Box<dyn Fn() -> rolodex::Result<()> + 'a>);
    let cases: Vec<Case> = vec![
        (
            "self",
            Box::new(|| b.merge(&a, &a, &MergeChoices::new()).map(|_| ())),
        ),
        (
            "blocked",
            Box::new(|| b.merge(&a, &blocked, &MergeChoices::new()).map(|_| ())),
        ),
        (
            "hidden",
            Box::new(|| b.merge(&hidden, &a, &MergeChoices::new()).map(|_| ())),
        ),
        (
            "hidden 2nd",
            Box::new(|| b.merge(&a, &hidden, &MergeChoices::new()).map(|_| ())),
        ),
        (
            "deleted",
            Box::new(|| b.merge(&e, &gone, &MergeChoices::new()).map(|_| ())),
        ),
        (
            "merged again",
            Box::new(|| b.unmerge(&m1.merge_id).map(|_| ())),
        ),
    ];
    for (what, call) in cases {
        let err = call().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Conflict, "{what}: {err}");
        assert!(err.to_string().len() > 20, "{what}: {err}");
        assert_eq!(snapshot(&b), before, "{what} changed something");
    }
    b.set_mu_limit(None).unwrap();
    b.unmerge(&m2.merge_id).unwrap();
    let before = snapshot(&b);
    let err = b.unmerge(&m2.merge_id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "undone twice: {err}");
    let err = b.unmerge("m_nope").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert_eq!(snapshot(&b), before);
    let m3 = b.merge(&a, &c, &MergeChoices::new()).unwrap();
    b.delete(vec![a.clone()]).unwrap();
    let before = snapshot(&b);
    let err = b.unmerge(&m3.merge_id).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "survivor deleted: {err}");
    assert_eq!(snapshot(&b), before);
}

/// R-CON-7: "Each contact's change applies whole; the result counts done and failed
/// contacts with reasons." Unknown, merged-away and already-deleted ids fail with a
/// reason naming them; the others are done; the log counts what was done.
#[test]
fn r9_con_7_bulk_delete_counts_done_and_failed_with_reasons() {
    let b = book_at("2025-06-01T00:00:00Z");
    let a = lead(&b, "a@x.com");
    let p = lead(&b, "p@x.com");
    let s = lead(&b, "s@x.com");
    b.merge(&p, &s, &MergeChoices::new()).unwrap();
    let r = b
        .delete(vec![
            a.clone(),
            "c_999999999999".to_string(),
            s.clone(),
            a.clone(),
        ])
        .unwrap();
    assert_eq!(r.done, 1, "{r:?}");
    let failed: Vec<&str> = r.failed.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(failed, vec!["c_999999999999", s.as_str()], "{r:?}");
    for x in &r.failed {
        assert!(
            x.reason.contains(&x.id) && x.reason.contains("not found"),
            "{x:?}"
        );
    }
    assert!(
        b.get(&p).is_ok(),
        "the survivor is not deleted through its old id"
    );
    let log = b
        .activity_log(&ActivityQuery {
            action: Some("delete".into()),
            ..ActivityQuery::default()
        })
        .unwrap();
    assert_eq!(log[0].count, 1);
}

/// R-CON-7 with API.md: a bulk action whose target filter is invalid (R-FLT-4: "an unknown
/// or archived key is an error naming the condition") or whose tags are malformed
/// (R-VAL-8) fails before touching anyone: nothing changes, nothing is logged.
#[test]
fn r9_con_7_bulk_with_a_bad_filter_or_tags_fails_before_any_change() {
    let b = book_at("2025-06-01T00:00:00Z");
    lead(&b, "a@x.com");
    lead(&b, "b@x.com");
    b.define_key("profile.city", FieldType::String).unwrap();
    b.archive_key("profile.city").unwrap();
    let before = snapshot(&b);
    let bad = Target::Filter(f(json!({"or": [
        {"key": "profile.email", "op": "contains", "value": "x.com"},
        {"key": "profile.city", "op": "eq", "value": "Seoul"}
    ]})));
    let e = b.block(bad.clone()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Filter, "{e}");
    assert!(e.to_string().contains("or[1]"), "names the condition: {e}");
    let e = b.delete(bad.clone()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Filter, "{e}");
    let e = b.add_tags(bad, &["vip"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Filter, "{e}");
    let all_f = Target::Filter(f(json!({})));
    let e = b.add_tags(all_f, &["vip", "bad$tag"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    assert!(e.to_string().contains("bad$tag"), "names the text: {e}");
    assert_eq!(snapshot(&b), before);
}

/// R-CON-1 / R-MU-4: "the add fails with `AlreadyExists` and nothing changes; the error
/// carries the existing contact's id and whether it is hidden or blocked". Checked for a
/// hidden holder of the email and a blocked holder of the number, and for a lead given
/// both where only the second identifier is held (nothing of the first is kept).
#[test]
fn r9_con_1_already_exists_for_hidden_or_blocked_holder_changes_nothing() {
    let b = book_at("2025-06-01T00:00:00Z");
    let old = lead(&b, "old@x.com");
    b.set_clock(Some(support::t("2025-06-02T00:00:00Z")))
        .unwrap();
    lead(&b, "new@x.com");
    b.set_mu_limit(Some(1)).unwrap();
    let blocked = b.add_lead(NewLead::mobile("+821020203030")).unwrap().id;
    b.block(vec![blocked.clone()]).unwrap();
    let before = snapshot(&b);
    let e = b.add_lead(NewLead::email("OLD@x.com")).unwrap_err();
    match &e {
        rolodex::Error::AlreadyExists {
            id,
            hidden,
            blocked: bl,
            ..
        } => assert_eq!((id.as_str(), *hidden, *bl), (old.as_str(), true, false)),
        other => panic!("{other:?}"),
    }
    let mut both = NewLead::email("fresh@x.com");
    both.mobile_number = Some("+82 10-2020-3030".into());
    let e = b.add_lead(both).unwrap_err();
    match &e {
        rolodex::Error::AlreadyExists {
            id,
            hidden,
            blocked: bl,
            ..
        } => assert_eq!((id.as_str(), *hidden, *bl), (blocked.as_str(), false, true)),
        other => panic!("{other:?}"),
    }
    assert_eq!(snapshot(&b), before);
}

/// API.md `update`: "a manager's cell edit; `patch` is contact JSON" and R-SCH-3: "trying
/// is an error naming the key, not a silent skip". A patch whose last key is bad
/// (non-editable, archived, unparsable, over a limit) applies none of its good keys.
#[test]
fn r9_sch_3_update_with_one_bad_key_applies_nothing() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.city", FieldType::String).unwrap();
    b.define_key("profile.old", FieldType::String).unwrap();
    b.archive_key("profile.old").unwrap();
    let a = lead(&b, "a@x.com");
    let before = snapshot(&b);
    for (bad, key) in [
        (
            json!({"profile.name": "Z", "profile.city": "Seoul", "createdAt": "2025-01-01"}),
            "createdAt",
        ),
        (json!({"profile.name": "Z", "memberId": "m-9"}), "memberId"),
        (
            json!({"profile.name": "Z", "profile.old": "x"}),
            "profile.old",
        ),
        (
            json!({"profile.name": "Z", "profile.mobileNumber": "010-2020-3030"}),
            "profile.mobileNumber",
        ),
        (
            json!({"profile.name": "Z", "profile.city": "c".repeat(513)}),
            "profile.city",
        ),
        (
            json!({"profile.name": "Z", "profile.email": "null"}),
            "profile.email",
        ),
        (json!({"profile.name": "Z", "tags": tags("t", 201)}), "tags"),
    ] {
        let e = b.update(&a, &bad).unwrap_err();
        assert!(
            matches!(e.kind(), ErrorKind::Validation),
            "{key}: {:?} {e}",
            e.kind()
        );
        assert!(e.to_string().contains(key), "names {key}: {e}");
        assert_eq!(
            snapshot(&b),
            before,
            "{key}: the rejected patch changed something"
        );
    }
}

/// Settings and segments: a rejected change says what was expected and changes nothing
/// (R-FLT-12 time zone, R-EXP-4 interval, R-EXP-5 owners only, R-FLT-8 segments).
#[test]
fn r9_settings_and_segments_rejected_changes_change_nothing() {
    let b = book_at("2025-06-01T00:00:00Z");
    lead(&b, "a@x.com");
    b.save_segment(
        "vip",
        &f(json!({"key": "tags", "op": "containsAny", "value": ["vip"]})),
    )
    .unwrap();
    let before = snapshot(&b);
    let e = b.set_time_zone("Mars/Olympus").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(
        e.to_string().contains("Asia/Seoul"),
        "says what is expected: {e}"
    );
    let e = b
        .set_export_interval(Duration::from_secs(rolodex::MAX_EXPORT_INTERVAL_SECS + 1))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let ed = b.as_manager(Manager::member("ed", &[Permission::EditContacts]));
    for r in [
        ed.set_mu_limit(Some(0)),
        ed.set_time_zone("Asia/Seoul"),
        ed.set_export_interval(Duration::from_secs(0)),
    ] {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied);
        assert!(e.to_string().contains("owner"), "{e}");
    }
    let e = b
        .save_segment(
            "x",
            &f(json!({"key": "profile.nope", "op": "eq", "value": "a"})),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Filter, "{e}");
    let e = b.save_segment("vip", &f(json!({}))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    b.save_segment("all", &f(json!({}))).unwrap();
    let before2 = snapshot(&b);
    let e = b.rename_segment("all", "vip").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    // API.md: every message says what to do.
    assert!(e.to_string().contains("choose another name"), "{e}");
    let e = b.rename_segment("nope", "other").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = b.rename_segment("all", " all ").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    let e = b.delete_segment("nope").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    let e = b.delete_by_member_id("m-unknown").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(snapshot(&b), before2);
    b.delete_segment("all").unwrap();
    assert_eq!(snapshot(&b), before);
}

/// R-EXP-4: "an early attempt fails with `RateLimited`" and API.md: "a failed call changes
/// nothing": the rate-limited attempt writes no byte, logs nothing and does not restart
/// the interval; a denied export (R-EXP-5) records no export time either.
#[test]
fn r9_exp_4_rate_limited_and_denied_exports_change_nothing() {
    let b = book_at("2025-06-01T00:00:00Z");
    lead(&b, "a@x.com");
    let owner = b.as_manager(Manager::owner("o"));
    owner.export_csv(Vec::new(), protected("one")).unwrap();
    b.set_clock(Some(support::t("2025-06-01T00:20:00Z")))
        .unwrap();
    let before = snapshot(&b);
    let mut out = Vec::new();
    let e = owner.export_csv(&mut out, protected("two")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert!(e.to_string().contains("00:30:00"), "{e}");
    assert!(out.is_empty());
    let p = b.as_manager(Manager::member("p", &[Permission::EditContacts]));
    assert_eq!(
        p.export_csv(&mut out, protected("x")).unwrap_err().kind(),
        ErrorKind::PermissionDenied
    );
    assert_eq!(snapshot(&b), before);
    b.set_clock(Some(support::t("2025-06-01T00:30:00Z")))
        .unwrap();
    owner.export_csv(Vec::new(), protected("three")).unwrap();
}
