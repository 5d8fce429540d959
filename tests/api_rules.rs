//! Rule sentences the conformance-vector runner has no op for, checked through the
//! public API only. Each test is named after the rule it checks; every expectation comes
//! from the text of RULES.md / API.md / FILTER.md (quoted next to the assertion).

use std::io::{Cursor, Read};
use std::time::Duration;

use rolodex::{
    ActivityQuery, Boot, ContactBook, ErrorKind, ExportOptions, FieldType, IdentifyBy,
    ImportOptions, ImportSource, Manager, Medium, MergeChoices, NewLead, Permission, Progress,
    Query,
};
use serde_json::json;

mod support;
use support::{
    all, book_at, export_text, f, import_named, leads, q, snapshot, t, FailsOnce, Hiccup,
};

fn protected(pw: &str, reason: Option<&str>) -> ExportOptions {
    ExportOptions {
        password: Some(pw.into()),
        reason: reason.map(str::to_string),
        ..ExportOptions::default()
    }
}

fn unzip(bytes: &[u8], pw: &str) -> String {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(archive.len(), 1, "one entry: the CSV");
    let name = archive.file_names().next().unwrap().unwrap().to_string();
    let mut entry = archive.by_name_decrypt(&name, pw.as_bytes()).unwrap();
    let mut s = String::new();
    entry.read_to_string(&mut s).unwrap();
    s
}

// ----- R-EXP-1/2: chosen ids -----

/// R-EXP-1/2 and API.md errors: "`NotFound` | unknown or deleted id". A chosen id of a
/// deleted contact is `NotFound`, and nothing is written.
#[test]
fn r_exp_2_chosen_id_of_a_deleted_contact_is_not_found() {
    let b = book_at("2025-06-01T00:00:00Z");
    let a = b.add_lead(NewLead::email("a@x.com")).unwrap();
    let gone = b.add_lead(NewLead::email("g@x.com")).unwrap();
    b.delete(vec![gone.id.clone()]).unwrap();
    let mut out = Vec::new();
    let e = b
        .export_csv(
            &mut out,
            ExportOptions {
                ids: Some(vec![a.id.clone(), gone.id.clone()]),
                ..ExportOptions::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(out.is_empty());
}

/// R-EXP-2: "An editable-only export contains exactly the editable columns ... Chosen ids
/// are exported even when hidden or blocked; ids together with a filter export their
/// intersection." Editable-only with ids: the hidden and the blocked contact are rows.
#[test]
fn r_exp_2_editable_only_with_chosen_ids_includes_hidden_and_blocked() {
    let b = book_at("2025-06-01T00:00:00Z");
    let old = b.add_lead(NewLead::email("old@x.com")).unwrap();
    b.set_clock(Some(t("2025-06-02T00:00:00Z"))).unwrap();
    let blocked = b.add_lead(NewLead::email("blk@x.com")).unwrap();
    let visible = b.add_lead(NewLead::email("vis@x.com")).unwrap();
    b.block(vec![blocked.id.clone()]).unwrap();
    b.set_mu_limit(Some(1)).unwrap();
    assert!(b.get(&old.id).unwrap().hidden);
    let text = export_text(
        &b,
        ExportOptions {
            ids: Some(vec![old.id.clone(), blocked.id.clone(), visible.id.clone()]),
            editable_only: true,
            ..ExportOptions::default()
        },
    );
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[1].contains("old@x.com") && lines[2].contains("blk@x.com"),
        "{text}"
    );
    // With a filter: the intersection, still hidden / blocked included.
    let text = export_text(
        &b,
        ExportOptions {
            ids: Some(vec![old.id.clone(), blocked.id.clone(), visible.id.clone()]),
            filter: Some(
                rolodex::Filter::from_value(
                    &json!({"key": "profile.email", "op": "startsWith", "value": "b"}),
                )
                .unwrap(),
            ),
            editable_only: true,
            ..ExportOptions::default()
        },
    );
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.contains("blk@x.com"));
}

// ----- R-EXP-4: protected export -----

/// R-EXP-4: "a password of at least 6 characters with at least one letter, one digit and
/// one symbol" — 5 characters fail, exactly 6 pass; and "an AES-256 zip holding the CSV":
/// the entry decrypts to the same CSV as the plain export.
#[test]
fn r_exp_4_password_boundary_and_zip_holds_the_csv() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.add_lead(NewLead::email("a@x.com").with_name("=A"))
        .unwrap();
    let owner = b.as_manager(Manager::owner("o"));
    let before = snapshot(&b);
    for bad in [
        "a1!bc", "abcdef", "123456", "!!!!!!", "abc!de", "abc123", "12!!!!",
    ] {
        let mut out = Vec::new();
        let e = owner
            .export_csv(&mut out, protected(bad, Some("audit")))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{bad}");
        assert!(out.is_empty(), "{bad}");
    }
    assert_eq!(snapshot(&b), before, "a refused export logs nothing");
    let plain = export_text(&owner, ExportOptions::default());
    let mut out = Vec::new();
    let s = owner
        .export_csv(&mut out, protected("a1!bcd", Some("audit")))
        .unwrap();
    assert!(s.protected);
    assert_eq!(unzip(&out, "a1!bcd"), plain);
    let archive = zip::ZipArchive::new(Cursor::new(out.clone())).unwrap();
    let mut archive = archive;
    let raw = archive.by_index_raw(0).unwrap();
    use zip::HasZipMetadata;
    assert!(raw.encrypted());
    assert_eq!(
        raw.get_metadata().aes_settings().map(|(m, _)| m),
        Some(zip::AesMode::Aes256)
    );
}

/// R-EXP-4: "records the manager and the reason (required)". An empty reason is no
/// reason: `Validation`, nothing written. A refused attempt did not "start a protected
/// contacts export", so it does not use up the interval.
#[test]
fn r_exp_4_reason_required_and_refused_attempts_do_not_start_the_interval() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.add_lead(NewLead::email("a@x.com")).unwrap();
    let owner = b.as_manager(Manager::owner("o"));
    let mut out = Vec::new();
    let e = owner
        .export_csv(&mut out, protected("abc12!", Some("")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let e = owner
        .export_csv(&mut out, protected("abc12!", None))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(out.is_empty());
    owner
        .export_csv(&mut out, protected("abc12!", Some("audit")))
        .expect("refused attempts did not start the 30 minutes");
    let log = b
        .activity_log(&ActivityQuery {
            action: Some("export".into()),
            ..ActivityQuery::default()
        })
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].reason.as_deref(), Some("audit"));
    assert_eq!(log[0].manager_id.as_deref(), Some("o"));
}

/// R-EXP-4: "the interval is a setting of the book, and an early attempt fails with
/// `RateLimited`"; API.md: "`RateLimited` ... (says when the next attempt is allowed)".
/// With a 10-minute interval: at 9:59 refused (naming 00:10:00, writing nothing), at 10:00
/// allowed. The rate-limited attempt does not restart the interval.
#[test]
fn r_exp_4_interval_is_a_book_setting() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.add_lead(NewLead::email("a@x.com")).unwrap();
    b.set_export_interval(Duration::from_secs(600)).unwrap();
    let owner = b.as_manager(Manager::owner("o"));
    owner
        .export_csv(Vec::new(), protected("abc12!", Some("one")))
        .unwrap();
    b.set_clock(Some(t("2025-06-01T00:09:59Z"))).unwrap();
    let mut out = Vec::new();
    let e = owner
        .export_csv(&mut out, protected("abc12!", Some("two")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    assert!(e.to_string().contains("00:10:00"), "{e}");
    assert!(out.is_empty());
    b.set_clock(Some(t("2025-06-01T00:10:00Z"))).unwrap();
    owner
        .export_csv(&mut out, protected("abc12!", Some("three")))
        .unwrap();
    assert!(!out.is_empty());
    // The setting is the book's: another handle on it (another owner) sees it too.
    let other = b.as_manager(Manager::owner("p"));
    other
        .export_csv(Vec::new(), protected("abc12!", Some("p1")))
        .unwrap();
    b.set_clock(Some(t("2025-06-01T00:19:00Z"))).unwrap();
    assert_eq!(
        other
            .export_csv(Vec::new(), protected("abc12!", Some("p2")))
            .unwrap_err()
            .kind(),
        ErrorKind::RateLimited
    );
    // Only owners change it (an owner-only setting).
    let member = b.as_manager(Manager::member("m", &[Permission::EditContacts]));
    assert_eq!(
        member
            .set_export_interval(Duration::from_secs(0))
            .unwrap_err()
            .kind(),
        ErrorKind::PermissionDenied
    );
}

// ----- R-EXP-5: permissions and the activity log -----

/// A book with a member `m-1`, a never-booted lead, a second lead, and one merge done.
fn perm_book() -> (ContactBook, String, String, String) {
    let b = book_at("2025-06-01T00:00:00Z");
    let member = b
        .boot(Boot {
            member_id: Some("m-1".into()),
            ..Boot::default()
        })
        .unwrap();
    let a = b
        .add_lead(NewLead::email("a@x.com").with_name("A"))
        .unwrap();
    let c = b
        .add_lead(NewLead::email("c@x.com").with_name("C"))
        .unwrap();
    (b, member.id, a.id, c.id)
}

fn csv_one() -> &'static str {
    "profile.email,unsubscribeEmail,unsubscribeTexting\nnew@x.com,false,false\n"
}

/// R-EXP-5: "`editContacts` is needed to import, edit, verify, merge, block and tag;
/// `deleteContacts` to delete ... only owners export contacts ... A denied action changes
/// nothing and says which permission is missing."
#[test]
fn r_exp_5_each_action_needs_its_permission_and_denial_changes_nothing() {
    let (b, member, a, c) = perm_book();
    let merged = b.merge(&a, &c, &MergeChoices::new()).unwrap();
    let ids = vec![a.clone()];
    let tag = vec!["vip".to_string()];

    // Without editContacts (deleteContacts only): every edit-like action is denied.
    let deleter = b.as_manager(Manager::member("del", &[Permission::DeleteContacts]));
    let before = snapshot(&b);
    let denied: Vec<(&str, rolodex::Result<()>)> = vec![
        (
            "import",
            import_named(&deleter, "x.csv", csv_one(), leads()).map(|_| ()),
        ),
        (
            "edit",
            deleter
                .update(&a, &json!({"profile.name": "Z"}))
                .map(|_| ()),
        ),
        ("verify", deleter.verify(&a, "profile.email").map(|_| ())),
        (
            "merge",
            deleter.merge(&member, &a, &MergeChoices::new()).map(|_| ()),
        ),
        ("unmerge", deleter.unmerge(&merged.merge_id).map(|_| ())),
        ("block", deleter.block(ids.clone()).map(|_| ())),
        ("unblock", deleter.unblock(ids.clone()).map(|_| ())),
        ("addTags", deleter.add_tags(ids.clone(), &tag).map(|_| ())),
        (
            "removeTags",
            deleter.remove_tags(ids.clone(), &tag).map(|_| ()),
        ),
        (
            "optOut",
            deleter
                .set_opt_out(ids.clone(), Medium::Email, true)
                .map(|_| ()),
        ),
        (
            "addLead",
            deleter.add_lead(NewLead::email("z@x.com")).map(|_| ()),
        ),
    ];
    for (what, r) in denied {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{what}: {e}");
        assert!(e.to_string().contains("editContacts"), "{what}: {e}");
    }
    assert_eq!(snapshot(&b), before, "denied actions changed something");

    // Without deleteContacts (editContacts only): deletes are denied.
    let editor = b.as_manager(Manager::member("ed", &[Permission::EditContacts]));
    for (what, r) in [
        ("delete", editor.delete(ids.clone()).map(|_| ())),
        ("deleteByMemberId", editor.delete_by_member_id("m-1")),
    ] {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{what}");
        assert!(e.to_string().contains("deleteContacts"), "{what}: {e}");
    }
    // Export: owners only, whatever the permissions.
    let all_perms = b.as_manager(Manager::member(
        "all",
        &[
            Permission::EditContacts,
            Permission::DeleteContacts,
            Permission::DownloadData,
        ],
    ));
    let mut out = Vec::new();
    let e = all_perms
        .export_csv(&mut out, ExportOptions::default())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert!(out.is_empty());
    assert_eq!(snapshot(&b), before, "denied actions changed something");

    // And the permissions held do allow their actions.
    deleter.delete(ids.clone()).unwrap();
    assert_eq!(b.get(&a).unwrap_err().kind(), ErrorKind::NotFound);
    editor.add_tags(vec![member.clone()], &tag).unwrap();
    assert_eq!(b.get(&member).unwrap().tags, tag);
}

/// R-EXP-5: "an owner may do everything".
#[test]
fn r_exp_5_owner_may_do_everything() {
    let (b, member, a, c) = perm_book();
    let o = b.as_manager(Manager::owner("boss"));
    o.define_key("profile.city", FieldType::String).unwrap();
    o.set_inbox_visible("profile.city", false).unwrap();
    o.reorder_keys(&["profile.city".to_string()]).unwrap();
    o.update(&a, &json!({"profile.city": "Seoul"})).unwrap();
    let v = o
        .boot(Boot {
            profile: json!({"mobileNumber": "+821020203030"})
                .as_object()
                .unwrap()
                .clone(),
            ..Boot::default()
        })
        .unwrap();
    assert!(
        o.verify(&v.id, "profile.mobileNumber")
            .unwrap()
            .verified
            .mobile_number
    );
    let m = o.merge(&a, &c, &MergeChoices::new()).unwrap();
    o.unmerge(&m.merge_id).unwrap();
    o.add_tags(vec![a.clone()], &["vip"]).unwrap();
    o.remove_tags(vec![a.clone()], &["vip"]).unwrap();
    o.set_opt_out(vec![a.clone()], Medium::Texting, true)
        .unwrap();
    o.block(vec![c.clone()]).unwrap();
    o.unblock(vec![c.clone()]).unwrap();
    assert_eq!(
        import_named(&o, "o.csv", csv_one(), leads())
            .unwrap()
            .created,
        1
    );
    o.export_csv(Vec::new(), ExportOptions::default()).unwrap();
    o.export_csv(Vec::new(), protected("abc12!", Some("owner")))
        .unwrap();
    o.set_mu_limit(Some(100)).unwrap();
    o.set_time_zone("Asia/Seoul").unwrap();
    o.set_export_interval(Duration::from_secs(60)).unwrap();
    o.save_segment(
        "seoul",
        &f(json!({"key": "profile.city", "op": "eq", "value": "Seoul"})),
    )
    .unwrap();
    o.archive_key("profile.city").unwrap();
    o.restore_key("profile.city").unwrap();
    o.delete(vec![c.clone()]).unwrap();
    o.delete_by_member_id("m-1").unwrap();
    assert_eq!(b.get(&member).unwrap_err().kind(), ErrorKind::NotFound);
}

/// R-EXP-5: "Imports, exports, deletes and bulk edits are written to an activity log (who,
/// what, when, how many, reason)."
#[test]
fn r_exp_5_activity_log_who_what_when_how_many_reason() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.city", FieldType::String).unwrap();
    let ed = b.as_manager(Manager::member(
        "ed",
        &[Permission::EditContacts, Permission::DeleteContacts],
    ));
    let owner = b.as_manager(Manager::owner("boss"));

    b.set_clock(Some(t("2025-06-01T01:00:00Z"))).unwrap();
    let r = import_named(
        &ed,
        "people.csv",
        "profile.email,profile.city,unsubscribeEmail,unsubscribeTexting\na@x.com,Seoul,false,false\nb@x.com,Seoul,false,false\nc@x.com,Busan,false,false\nbad,Busan,false,false\n",
        leads(),
    )
    .unwrap();
    assert_eq!((r.created, r.failed), (3, 1));

    b.set_clock(Some(t("2025-06-01T02:00:00Z"))).unwrap();
    let seoul = f(json!({"key": "profile.city", "op": "eq", "value": "Seoul"}));
    assert_eq!(ed.add_tags(seoul.clone(), &["capital"]).unwrap().done, 2);

    b.set_clock(Some(t("2025-06-01T03:00:00Z"))).unwrap();
    let everyone = all(&b).into_iter().map(|c| c.id).collect::<Vec<_>>();
    let r = ed
        .set_opt_out(everyone.clone(), Medium::Email, true)
        .unwrap();
    assert_eq!(r.done, 3);

    b.set_clock(Some(t("2025-06-01T04:00:00Z"))).unwrap();
    let s = owner
        .export_csv(Vec::new(), protected("abc12!", Some("quarterly audit")))
        .unwrap();
    assert_eq!(s.rows, 3);

    b.set_clock(Some(t("2025-06-01T05:00:00Z"))).unwrap();
    let r = ed.delete(seoul).unwrap();
    assert_eq!(r.done, 2);

    let log = b.activity_log(&ActivityQuery::default()).unwrap();
    let find = |action: &str| {
        log.iter()
            .find(|e| e.action == action)
            .unwrap_or_else(|| panic!("no {action} entry in {log:?}"))
    };
    let imp = find("import");
    assert_eq!(imp.manager_id.as_deref(), Some("ed"));
    assert_eq!(imp.at, t("2025-06-01T01:00:00Z"));
    assert_eq!(imp.count, 3);
    let tags = find("addTags");
    assert_eq!(
        (tags.manager_id.as_deref(), tags.at, tags.count),
        (Some("ed"), t("2025-06-01T02:00:00Z"), 2)
    );
    let opt = find("setOptOut");
    assert_eq!(
        (opt.manager_id.as_deref(), opt.at, opt.count),
        (Some("ed"), t("2025-06-01T03:00:00Z"), 3)
    );
    let exp = find("export");
    assert_eq!(
        (
            exp.manager_id.as_deref(),
            exp.at,
            exp.count,
            exp.reason.as_deref()
        ),
        (
            Some("boss"),
            t("2025-06-01T04:00:00Z"),
            3,
            Some("quarterly audit")
        )
    );
    let del = find("delete");
    assert_eq!(
        (del.manager_id.as_deref(), del.at, del.count),
        (Some("ed"), t("2025-06-01T05:00:00Z"), 2)
    );
    // "when": the log can be read by time.
    let window = b
        .activity_log(&ActivityQuery {
            since: Some(t("2025-06-01T02:00:00Z")),
            until: Some(t("2025-06-01T04:00:00Z")),
            ..ActivityQuery::default()
        })
        .unwrap();
    let actions: Vec<&str> = window.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["setOptOut", "addTags"], "newest first");
}

// ----- R-SCH-4 / R-SCH-6 -----

/// R-SCH-4: "Keys have one display order ... it can be changed and is reported in order."
/// R-EXP-2: the editable-only export has "the other editable keys in display order".
#[test]
fn r_sch_4_reordered_keys_are_reported_and_exported_in_order() {
    let b = book_at("2025-06-01T00:00:00Z");
    for k in ["profile.city", "profile.spent", "profile.joined"] {
        b.define_key(
            k,
            if k == "profile.spent" {
                FieldType::Number
            } else {
                FieldType::String
            },
        )
        .unwrap();
    }
    let order = |b: &ContactBook| -> Vec<String> {
        b.schema()
            .unwrap()
            .into_iter()
            .map(|d| d.key)
            .filter(|k| k.starts_with("profile."))
            .collect()
    };
    assert_eq!(
        order(&b),
        [
            "profile.name",
            "profile.email",
            "profile.mobileNumber",
            "profile.landlineNumber",
            "profile.city",
            "profile.spent",
            "profile.joined"
        ]
    );
    b.reorder_keys(&["profile.joined", "profile.city"]).unwrap();
    let now = order(&b);
    assert_eq!(&now[..2], ["profile.joined", "profile.city"]);
    // The order is the book's: another handle on it reports the same.
    assert_eq!(order(&b.as_manager(Manager::owner("o"))), now);
    let text = export_text(
        &b,
        ExportOptions {
            editable_only: true,
            ..ExportOptions::default()
        },
    );
    let header = text.lines().next().unwrap();
    let pos = |k: &str| {
        header
            .split(',')
            .position(|c| c == k)
            .unwrap_or_else(|| panic!("{k}: {header}"))
    };
    assert!(pos("profile.joined") < pos("profile.city"), "{header}");
    assert!(pos("profile.city") < pos("profile.spent"), "{header}");
    assert!(pos("profile.city") < pos("profile.name"), "{header}");
    // An unknown key in the order: NotFound (API.md), nothing changes.
    let e = b.reorder_keys(&["profile.nope"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(order(&b), now);
}

/// R-SCH-6: "A key can be hidden from the inbox while still shown and collected in
/// contacts (a per-surface visibility flag, distinct from archiving)." R-SCH-4: the two
/// surfaces "differ only in visibility" — the display order is unchanged.
#[test]
fn r_sch_6_inbox_hidden_key_is_still_shown_collected_and_filterable() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.city", FieldType::String).unwrap();
    let before: Vec<String> = b.schema().unwrap().into_iter().map(|d| d.key).collect();
    b.set_inbox_visible("profile.city", false).unwrap();
    let schema = b.schema().unwrap();
    let def = schema.iter().find(|d| d.key == "profile.city").unwrap();
    assert!(!def.inbox_visible);
    assert!(!def.archived, "distinct from archiving");
    assert_eq!(
        schema.iter().map(|d| d.key.clone()).collect::<Vec<_>>(),
        before,
        "one display order"
    );
    let a = b.add_lead(NewLead::email("a@x.com")).unwrap();
    let got = b.update(&a.id, &json!({"profile.city": "Seoul"})).unwrap();
    assert_eq!(
        got.to_json()["profile"]["city"],
        "Seoul",
        "collected and shown"
    );
    assert_eq!(b.get(&a.id).unwrap().to_json()["profile"]["city"], "Seoul");
    let r = import_named(
        &b,
        "c.csv",
        "profile.email,profile.city\nb@x.com,Busan\na@x.com,Daegu\n",
        leads(),
    )
    .unwrap();
    assert_eq!((r.updated, r.failed), (1, 1), "{r:?}"); // b@x.com lacks opt-outs (R-IMP-6)
    assert_eq!(b.get(&a.id).unwrap().to_json()["profile"]["city"], "Daegu");
    let page = b
        .search(&q(
            json!({"filter": {"key": "profile.city", "op": "eq", "value": "daegu"}}),
        ))
        .unwrap();
    assert_eq!(page.total, 1);
    let text = export_text(&b, ExportOptions::default());
    assert!(
        text.lines().next().unwrap().contains("profile.city"),
        "{text}"
    );
    assert!(text.contains("Daegu"));
    b.set_inbox_visible("profile.city", true).unwrap();
    assert!(
        b.schema()
            .unwrap()
            .iter()
            .find(|d| d.key == "profile.city")
            .unwrap()
            .inbox_visible
    );
    assert_eq!(
        b.set_inbox_visible("profile.nope", false)
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

// ----- R-CON-2 verify -----

/// R-CON-2: "`verify(id, field)` give[s] verified info ... Unverified info never takes part
/// in unification or import matching as an identifier." Once verified, it does: a hand-add
/// of it is `AlreadyExists` (R-CON-1) and a leads import row matches it (R-IMP-5).
#[test]
fn r_con_2_verified_info_becomes_an_identifier() {
    let b = book_at("2025-06-01T00:00:00Z");
    let v = b
        .boot(Boot {
            profile: json!({"email": "v@x.com"}).as_object().unwrap().clone(),
            ..Boot::default()
        })
        .unwrap();
    assert!(!v.verified.email);
    let got = b.verify(&v.id, "profile.email").unwrap();
    assert!(got.verified.email);
    assert!(b.get(&v.id).unwrap().to_json()["verified"]["email"] == true);
    let e = b.add_lead(NewLead::email("v@x.com")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
    assert!(e.to_string().contains(&v.id), "{e}");
    let r = import_named(
        &b,
        "v.csv",
        "profile.email,profile.name\nV@x.com,Vee\n",
        leads(),
    )
    .unwrap();
    assert_eq!((r.created, r.updated), (0, 1), "{r:?}");
    assert_eq!(b.get(&v.id).unwrap().name(), Some("Vee"));
    assert_eq!(
        b.verify("c_999999999999", "profile.email")
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
}

/// R-UNI-2: "When a member is created or gains verified contact info (member import, login,
/// manager edit), verified leads with the same info are unified into it." R-CON-2 lists
/// `verify(id, field)` among what gives verified info. A member whose booted-in email is
/// verified by a manager gains verified info: the never-booted lead holding it is unified
/// (R-UNI-3).
#[test]
fn r_uni_2_member_gaining_verified_info_by_verify_unifies() {
    let b = book_at("2025-06-01T00:00:00Z");
    let lead = b
        .add_lead(NewLead::email("u@x.com").with_name("Lead"))
        .unwrap();
    let m = b
        .boot(Boot {
            member_id: Some("m-1".into()),
            profile: json!({"email": "u@x.com"}).as_object().unwrap().clone(),
            ..Boot::default()
        })
        .unwrap();
    assert_ne!(m.id, lead.id, "unverified info does not unify");
    assert_eq!(b.mu_count().unwrap(), 2);
    let m = b.verify(&m.id, "profile.email").unwrap();
    assert!(m.verified.email);
    assert_eq!(
        b.get(&lead.id).unwrap().id,
        m.id,
        "the lead was unified into the member"
    );
    assert_eq!(b.mu_count().unwrap(), 1);
}

// ----- R-CON-7 bulk -----

/// R-CON-7: "Each contact's change applies whole; the result counts done and failed
/// contacts with reasons." R-SCH-7: "a list ≤ 200 items ... an append past 200 items
/// included — is rejected whole with an error naming key and limit". One contact whose
/// tags would pass 200 fails whole (keeps its tags), the others are done.
#[test]
fn r_con_7_each_contact_applies_whole_failed_ones_have_reasons() {
    let b = book_at("2025-06-01T00:00:00Z");
    let full = b
        .add_lead(NewLead {
            email: Some("full@x.com".into()),
            tags: (0..199).map(|i| format!("t{i}")).collect(),
            ..NewLead::default()
        })
        .unwrap();
    let other = b.add_lead(NewLead::email("o@x.com")).unwrap();
    let r = b
        .add_tags(
            vec![full.id.clone(), other.id.clone(), "c_404404404404".into()],
            &["new1", "new2"],
        )
        .unwrap();
    assert_eq!(r.done, 1, "{r:?}");
    assert_eq!(r.failed.len(), 2, "{r:?}");
    let why = &r.failed.iter().find(|x| x.id == full.id).unwrap().reason;
    assert!(why.contains("tags") && why.contains("200"), "{why}");
    assert!(!r.failed[1].reason.is_empty());
    assert_eq!(
        b.get(&full.id).unwrap().tags.len(),
        199,
        "nothing half-applied"
    );
    assert_eq!(b.get(&other.id).unwrap().tags, ["new1", "new2"]);
}

/// R-CON-7: "Bulk actions: delete, block, add/remove tags, edit opt-out status, on a list
/// of ids or on every contact matching a filter." Remove tags and opt-out on a filter.
#[test]
fn r_con_7_remove_tags_and_opt_out_on_a_filter() {
    let b = book_at("2025-06-01T00:00:00Z");
    let mut ids = Vec::new();
    for (i, tag) in ["a/x", "a/y", "b"].iter().enumerate() {
        ids.push(
            b.add_lead(NewLead {
                email: Some(format!("p{i}@x.com")),
                mobile_number: Some(format!("+82102020303{i}")),
                tags: vec![tag.to_string(), "keep".into()],
                ..NewLead::default()
            })
            .unwrap()
            .id,
        );
    }
    let in_a = f(json!({"key": "tags", "op": "containsAny", "value": ["a"]}));
    let r = b.set_opt_out(in_a.clone(), Medium::Texting, true).unwrap();
    assert_eq!((r.done, r.failed.len()), (2, 0));
    assert_eq!(b.get(&ids[0]).unwrap().unsubscribe_texting, Some(true));
    assert_eq!(b.get(&ids[2]).unwrap().unsubscribe_texting, None);
    let r = b.remove_tags(in_a.clone(), &["a"]).unwrap();
    assert_eq!(r.done, 2);
    assert_eq!(b.get(&ids[0]).unwrap().tags, ["keep"]);
    assert_eq!(b.get(&ids[2]).unwrap().tags, ["b", "keep"]);
    assert_eq!(
        b.search(&Query {
            filter: Some(in_a),
            ..Query::default()
        })
        .unwrap()
        .total,
        0
    );
}

// ----- R-MU-3 -----

/// R-MU-3: "A contact that becomes countable through a manager's write (it gains contact
/// info) ..." — with room it is counted (R-MU-1); a landline alone does not count.
#[test]
fn r_mu_3_gaining_contact_info_by_update_makes_a_contact_count() {
    let b = book_at("2025-06-01T00:00:00Z");
    let v = b.boot(Boot::default()).unwrap();
    assert_eq!(b.mu_count().unwrap(), 0);
    let got = b
        .update(&v.id, &json!({"profile.landlineNumber": "+8225556666"}))
        .unwrap();
    assert!(!got.hidden);
    assert_eq!(b.mu_count().unwrap(), 0, "a landline alone does not count");
    b.set_mu_limit(Some(5)).unwrap();
    let got = b
        .update(&v.id, &json!({"profile.mobileNumber": "+821020203030"}))
        .unwrap();
    assert!(!got.hidden);
    assert_eq!(b.mu_count().unwrap(), 1);
}

// ----- R-UNI-2 / R-UNI-4 through a manager edit -----

/// R-UNI-2/3/4 through a manager edit of a member's mobile number and email: the
/// never-booted lead is unified at once, the booted one is listed as pending with its
/// field and value; deleting that lead purges the pending unification (R-CON-5).
#[test]
fn r_uni_4_manager_edit_lists_pending_unification_and_unifies_never_booted() {
    let b = book_at("2025-06-01T00:00:00Z");
    let never = b
        .add_lead(NewLead::mobile("+821011112222").with_name("N"))
        .unwrap();
    let booted = b
        .add_lead(NewLead::email("bt@x.com").with_name("B"))
        .unwrap();
    b.boot(Boot {
        contact_id: Some(booted.id.clone()),
        ..Boot::default()
    })
    .unwrap();
    let m = b
        .boot(Boot {
            member_id: Some("m-7".into()),
            ..Boot::default()
        })
        .unwrap();
    let m = b
        .update(
            &m.id,
            &json!({"profile.mobileNumber": "+82 10-1111-2222", "profile.email": "BT@x.com"}),
        )
        .unwrap();
    assert_eq!(
        b.get(&never.id).unwrap().id,
        m.id,
        "never-booted lead unified at once"
    );
    assert_eq!(
        b.get(&m.id).unwrap().name(),
        Some("N"),
        "member had no name: lead's kept"
    );
    let pending = b.pending_unifications().unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].lead_id, booted.id);
    assert_eq!(pending[0].member_id, m.id);
    assert_eq!(pending[0].field, "profile.email");
    // R-VAL-3: compared case-insensitively (the local part's case is the writer's).
    assert!(
        pending[0].value.eq_ignore_ascii_case("bt@x.com"),
        "{:?}",
        pending[0]
    );
    assert_eq!(b.mu_count().unwrap(), 2);
    // Pending unifications are per channel.
    assert!(b
        .channel("other")
        .pending_unifications()
        .unwrap()
        .is_empty());
    b.delete(vec![booted.id.clone()]).unwrap();
    assert!(
        b.pending_unifications().unwrap().is_empty(),
        "purged with the lead"
    );
}

// ----- R-FLT-7 paging -----

/// R-FLT-7: "Pages ... follow a keyset cursor on (sort values, id)"; following `nextCursor`
/// page after page gives every match exactly once, in the order of one big page; the last
/// page's cursor is null. Sorted ascending and descending by a key with ties and missing
/// values ("missing values last"), and in the default order.
#[test]
fn r_flt_7_following_next_cursor_gives_every_match_once_in_order() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.city", FieldType::String).unwrap();
    b.define_key("profile.spent", FieldType::Number).unwrap();
    let cities = ["Seoul", "busan", "Daegu", "", "seoul"];
    for i in 0..47 {
        b.set_clock(Some(
            t("2025-06-01T00:00:00Z") + chrono::Duration::minutes((i % 6) as i64),
        ))
        .unwrap();
        let mut p = serde_json::Map::new();
        let city = cities[i % cities.len()];
        if !city.is_empty() {
            p.insert("city".into(), json!(city));
        }
        if i % 3 != 0 {
            p.insert("spent".into(), json!((i % 4) as f64));
        }
        b.add_lead(NewLead {
            email: Some(format!("p{i}@x.com")),
            profile: p,
            ..NewLead::default()
        })
        .unwrap();
    }
    let sorts = [
        json!([]),
        json!([{"key": "profile.city", "order": "asc"}]),
        json!([{"key": "profile.city", "order": "desc"}]),
        json!([{"key": "profile.spent", "order": "desc"}, {"key": "profile.city", "order": "asc"}]),
        json!([{"key": "createdAt", "order": "asc"}]),
    ];
    let filters = [
        json!({}),
        json!({"not": {"key": "profile.city", "op": "eq", "value": "daegu"}}),
    ];
    for sort in &sorts {
        for filter in &filters {
            let big = b
                .search(&q(json!({"filter": filter, "sort": sort, "limit": 1000})))
                .unwrap();
            assert!(big.next_cursor.is_none());
            let want: Vec<String> = big.contacts.iter().map(|c| c.id.clone()).collect();
            assert_eq!(want.len() as u64, big.total);
            for limit in [1u64, 4, 7, 46, 47] {
                let mut got = Vec::new();
                let mut cursor: Option<String> = None;
                let mut pages = 0;
                loop {
                    let page = b
                        .search(&q(json!({"filter": filter, "sort": sort, "limit": limit, "cursor": cursor})))
                        .unwrap();
                    assert_eq!(page.total, big.total);
                    assert!(page.contacts.len() as u64 <= limit);
                    got.extend(page.contacts.iter().map(|c| c.id.clone()));
                    pages += 1;
                    assert!(pages <= 100, "cursor loops");
                    match page.next_cursor {
                        Some(c) => cursor = Some(c),
                        None => break,
                    }
                }
                assert_eq!(got, want, "sort {sort} filter {filter} limit {limit}");
            }
            // Missing values last, ascending or descending.
            if sort
                .as_array()
                .is_some_and(|s| s.len() == 1 && s[0]["key"] == "profile.city")
            {
                let has: Vec<bool> = big
                    .contacts
                    .iter()
                    .map(|c| c.profile.contains_key("city"))
                    .collect();
                let first_missing = has.iter().position(|h| !h).unwrap();
                assert!(
                    has[first_missing..].iter().all(|h| !h),
                    "missing last: {sort}"
                );
            }
        }
    }
}

// ----- R-FLT-12 time zone -----

/// R-FLT-12: "A `date` value compared with a `datetime` key means that whole day in the
/// book's time zone ...: `after D` is after the day ends, `before D` before it starts,
/// `between` includes both days; `withinLast` never matches future values."
/// The value 2025-05-04T20:00Z is the 4th in UTC and the 5th (05:00) in Seoul.
#[test]
fn r_flt_12_date_operators_on_a_datetime_key_follow_the_book_time_zone() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.boughtAt", FieldType::Datetime)
        .unwrap();
    b.add_lead(NewLead {
        email: Some("x@x.com".into()),
        profile: json!({"boughtAt": "2025-05-04T20:00:00Z"})
            .as_object()
            .unwrap()
            .clone(),
        ..NewLead::default()
    })
    .unwrap();
    let count = |op: &str, value: serde_json::Value| -> u64 {
        b.search(&q(
            json!({"filter": {"key": "profile.boughtAt", "op": op, "value": value}}),
        ))
        .unwrap()
        .total
    };
    let cases = [
        // (op, value, UTC, Seoul)
        ("after", json!("2025-05-04"), 0, 1),
        ("after", json!("2025-05-03"), 1, 1),
        ("before", json!("2025-05-05"), 1, 0),
        ("onOrAfter", json!("2025-05-05"), 0, 1),
        ("onOrBefore", json!("2025-05-04"), 1, 0),
        ("between", json!(["2025-05-05", "2025-05-06"]), 0, 1),
        ("between", json!(["2025-05-03", "2025-05-04"]), 1, 0),
        ("between", json!(["2025-05-04", "2025-05-04"]), 1, 0),
        ("eq", json!("2025-05-05"), 0, 1),
    ];
    for (op, v, utc, _) in &cases {
        assert_eq!(count(op, v.clone()), *utc, "UTC {op} {v}");
    }
    b.set_time_zone("Asia/Seoul").unwrap();
    for (op, v, _, seoul) in &cases {
        assert_eq!(count(op, v.clone()), *seoul, "Seoul {op} {v}");
    }
}

/// R-FLT-12: "`withinLast` never matches future values"; R-FLT-5: relative conditions use
/// the book's clock.
#[test]
fn r_flt_12_within_last_never_matches_future_values() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.due", FieldType::Datetime).unwrap();
    for (e, when) in [
        ("past@x.com", "2025-05-30T00:00:00Z"),
        ("future@x.com", "2025-06-02T00:00:00Z"),
        ("old@x.com", "2025-04-01T00:00:00Z"),
    ] {
        b.add_lead(NewLead {
            email: Some(e.into()),
            profile: json!({"due": when}).as_object().unwrap().clone(),
            ..NewLead::default()
        })
        .unwrap();
    }
    let within = q(json!({"filter": {"key": "profile.due", "op": "withinLast", "value": "P7D"}}));
    let page = b.search(&within).unwrap();
    let emails: Vec<&str> = page.contacts.iter().filter_map(|c| c.email()).collect();
    assert_eq!(emails, ["past@x.com"]);
    b.set_time_zone("Pacific/Kiritimati").unwrap();
    assert_eq!(b.search(&within).unwrap().total, 1);
    // The clock moves: the future value is now in the past week.
    b.set_clock(Some(t("2025-06-03T00:00:00Z"))).unwrap();
    assert_eq!(b.search(&within).unwrap().total, 2);
}

// ----- R-IMP-15 / R-IMP-16 / R-IMP-13 -----

/// R-IMP-15: "a second one started meanwhile fails at once with `ImportInProgress` and
/// changes nothing" — started from the first import's progress callback (same thread, so
/// "at once" means it does not wait), from another manager's handle, and as a dry run.
#[test]
fn r_imp_15_import_started_during_another_fails_at_once() {
    let b = book_at("2025-06-01T00:00:00Z");
    let other = b.as_manager(Manager::owner("o2"));
    let mut errors = Vec::new();
    let mut fingerprints = Vec::new();
    let mut cb = |p: Progress| {
        if p.rows_done == 1 && errors.is_empty() {
            let before = snapshot(&b);
            let e1 = import_named(&other, "second.csv", csv_one(), leads()).unwrap_err();
            let mut dry = leads();
            dry.dry_run = true;
            let e2 = import_named(&b, "third.csv", csv_one(), dry).unwrap_err();
            fingerprints.push((before, snapshot(&b)));
            errors.push(e1.kind());
            errors.push(e2.kind());
        }
    };
    let mut o = leads();
    o.file_name = Some("first.csv".into());
    let r = b
        .import_csv(
            ImportSource::reader(Cursor::new(
                b"profile.email,unsubscribeEmail,unsubscribeTexting\na@x.com,false,false\nb@x.com,false,false\n".to_vec(),
            )),
            o,
            Some(&mut cb),
        )
        .unwrap();
    assert_eq!(r.created, 2);
    assert_eq!(
        errors,
        [ErrorKind::ImportInProgress, ErrorKind::ImportInProgress]
    );
    for (before, after) in fingerprints {
        assert_eq!(before, after);
    }
    assert!(all(&b).iter().all(|c| c.email() != Some("new@x.com")));
}

/// R-IMP-16: "The import reports progress (rows done of total, or bytes) to a
/// caller-supplied callback". API.md: `{"rowsDone", "rowsTotal", "bytesDone",
/// "bytesTotal"}`. The total is the file's rows / bytes from the start, rows done go up by
/// one per row, and the end reaches the total — failed rows count as done.
#[test]
fn r_imp_16_progress_counts_every_row_to_the_total() {
    let b = book_at("2025-06-01T00:00:00Z");
    let text = "profile.email,unsubscribeEmail,unsubscribeTexting\na@x.com,false,false\nbad,false,false\n\nc@x.com,false,false\nd@x.com,false,false\n";
    let mut seen: Vec<Progress> = Vec::new();
    let mut cb = |p: Progress| seen.push(p);
    let mut o = leads();
    o.file_name = Some("p.csv".into());
    let r = b
        .import_csv(
            ImportSource::reader(Cursor::new(text.as_bytes().to_vec())),
            o,
            Some(&mut cb),
        )
        .unwrap();
    assert_eq!((r.rows, r.created, r.failed), (4, 3, 1));
    assert!(!seen.is_empty());
    assert!(
        seen.iter()
            .all(|p| p.rows_total == 4 && p.bytes_total == text.len() as u64),
        "{seen:?}"
    );
    assert!(seen
        .windows(2)
        .all(|w| w[0].rows_done <= w[1].rows_done && w[0].bytes_done <= w[1].bytes_done));
    let done: std::collections::BTreeSet<u64> = seen.iter().map(|p| p.rows_done).collect();
    assert!(
        done.is_superset(&[1, 2, 3, 4].into_iter().collect()),
        "{seen:?}"
    );
    let last = seen.last().unwrap();
    assert_eq!((last.rows_done, last.bytes_done), (4, text.len() as u64));
}

/// R-IMP-13: the failure log is "a CSV with only failed rows: column 1 `rowNumber` (the
/// row as a spreadsheet numbers it ...), column 2 `errorColumns` (the data keys at fault),
/// column 3 `errorReasons`, then the row's mapped keys with the original cell text". A
/// record spanning two lines (a quoted newline) is one spreadsheet row.
#[test]
fn r_imp_13_failure_log_cells() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.spent", FieldType::Number).unwrap();
    b.define_key("profile.joined", FieldType::Date).unwrap();
    let text = "E,Note,Spent,Joined,unsubscribeEmail,unsubscribeTexting\n\
a@x.com,\"two\nlines\",1,2025-05-04,false,false\n\
b@x.com,x,\"1,000\",2025/05/04,false,false\n\
c@x.com,y,7,2025-05-04,maybe,false\n";
    let o = ImportOptions::leads(IdentifyBy::Email)
        .map("E", Some("profile.email"))
        .map("Note", None)
        .map("Spent", Some("profile.spent"))
        .map("Joined", Some("profile.joined"))
        .map("unsubscribeEmail", Some("unsubscribeEmail"))
        .map("unsubscribeTexting", Some("unsubscribeTexting"));
    let mut log = Vec::new();
    let mut o = o;
    o.file_name = Some("f.csv".into());
    let r = b
        .import_csv_with_log(
            ImportSource::reader(Cursor::new(text.as_bytes().to_vec())),
            o,
            None,
            Some(&mut log),
        )
        .unwrap();
    assert_eq!((r.created, r.failed), (1, 2), "{r:?}");
    let log = String::from_utf8(log).unwrap();
    let rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(log.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 3, "{log}");
    assert_eq!(
        rows[0],
        [
            "rowNumber",
            "errorColumns",
            "errorReasons",
            "profile.email",
            "profile.spent",
            "profile.joined",
            "unsubscribeEmail",
            "unsubscribeTexting"
        ]
    );
    // Row 3 of the spreadsheet: the two-line record is row 2.
    assert_eq!(rows[1][0], "3", "{log}");
    let cols: Vec<&str> = rows[1][1].split(';').map(str::trim).collect();
    assert_eq!(cols, ["profile.spent", "profile.joined"], "{log}");
    assert!(
        rows[1][2].contains("profile.spent") || rows[1][2].contains("1,000"),
        "{log}"
    );
    assert!(
        rows[1][2].contains("YYYY-MM-DD"),
        "the reason says the expected format: {log}"
    );
    assert_eq!(
        rows[1][3..],
        ["b@x.com", "1,000", "2025/05/04", "false", "false"]
    );
    assert_eq!(rows[2][0], "4");
    assert_eq!(rows[2][1], "unsubscribeEmail");
    assert!(!rows[2][2].is_empty());
    assert_eq!(
        rows[2][3..],
        ["c@x.com", "7", "2025-05-04", "maybe", "false"]
    );
    assert_eq!(r.failures[0].row_number, 3);
    assert_eq!(r.failures[1].row_number, 4);
}

/// R-MU-3: "room freed by any change (a delete, a block, a unification) is filled from the
/// most recently seen hidden contacts." A manager edit that unifies a never-booted lead
/// into a member (R-UNI-2/3) frees a place: the most recently seen hidden contact shows.
#[test]
fn r_mu_3_unification_by_manager_edit_frees_room_for_a_hidden_contact() {
    let b = book_at("2025-06-01T00:00:00Z");
    let h_old = b.add_lead(NewLead::email("h1@x.com")).unwrap();
    b.set_clock(Some(t("2025-06-02T00:00:00Z"))).unwrap();
    let h_new = b.add_lead(NewLead::email("h2@x.com")).unwrap();
    b.set_clock(Some(t("2025-06-03T00:00:00Z"))).unwrap();
    let lead = b.add_lead(NewLead::email("u@x.com")).unwrap();
    let m = b
        .boot(Boot {
            member_id: Some("m-1".into()),
            ..Boot::default()
        })
        .unwrap();
    b.set_mu_limit(Some(2)).unwrap();
    assert!(b.get(&h_old.id).unwrap().hidden && b.get(&h_new.id).unwrap().hidden);
    assert_eq!(b.mu_count().unwrap(), 2);
    b.update(&m.id, &json!({"profile.email": "u@x.com"}))
        .unwrap();
    assert_eq!(b.get(&lead.id).unwrap().id, m.id, "unified");
    assert!(
        !b.get(&h_new.id).unwrap().hidden,
        "the most recently seen hidden one shows"
    );
    assert!(b.get(&h_old.id).unwrap().hidden);
    assert_eq!(b.mu_count().unwrap(), 2);
}

/// R-FLT-7: "a contact whose sort values did not change is never repeated or skipped while
/// others change". While a reader pages through `profile.spent` ascending, other contacts'
/// values change (moving both ahead of and behind the cursor) and one is deleted; every
/// contact never touched appears exactly once, in sort order.
#[test]
fn r_flt_7_unchanged_contacts_never_repeated_or_skipped_while_others_change() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.spent", FieldType::Number).unwrap();
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(
            b.add_lead(NewLead {
                email: Some(format!("p{i}@x.com")),
                profile: json!({"spent": (i % 10) as f64})
                    .as_object()
                    .unwrap()
                    .clone(),
                ..NewLead::default()
            })
            .unwrap()
            .id,
        );
    }
    let touched: std::collections::HashSet<String> = [3usize, 7, 12, 18, 25, 31, 36]
        .iter()
        .map(|&i| ids[i].clone())
        .collect();
    let sort = json!([{"key": "profile.spent", "order": "asc"}]);
    let mut seen: Vec<(String, f64)> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut round = 0;
    loop {
        let page = b
            .search(&q(json!({"sort": sort, "limit": 6, "cursor": cursor})))
            .unwrap();
        for c in &page.contacts {
            // Missing values sort last.
            let spent = c.to_json()["profile"]["spent"]
                .as_f64()
                .unwrap_or(f64::INFINITY);
            seen.push((c.id.clone(), spent));
        }
        // Others change between pages: values jump to either end, one is deleted.
        match round {
            0 => {
                b.update(&ids[3], &json!({"profile.spent": 100})).unwrap();
                b.update(&ids[7], &json!({"profile.spent": -1})).unwrap();
            }
            1 => {
                b.delete(vec![ids[12].clone()]).unwrap();
                b.update(&ids[18], &json!({"profile.spent": 4.5})).unwrap();
            }
            2 => {
                b.update(&ids[25], &json!({"profile.spent": 0})).unwrap();
                b.update(&ids[31], &json!({"profile.spent": 9})).unwrap();
                b.update(&ids[36], &json!({"profile.spent": null})).unwrap();
            }
            _ => {}
        }
        round += 1;
        assert!(round < 100);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    for id in &ids {
        if touched.contains(id) {
            continue;
        }
        let n = seen.iter().filter(|(s, _)| s == id).count();
        assert_eq!(n, 1, "{id} seen {n} times");
    }
    let untouched: Vec<f64> = seen
        .iter()
        .filter(|(id, _)| !touched.contains(id))
        .map(|(_, v)| *v)
        .collect();
    assert!(untouched.windows(2).all(|w| w[0] <= w[1]), "{untouched:?}");
}

/// R-EXP-4: an interval is never shorter than asked. A sub-second interval is kept as one
/// second (intervals are whole seconds), not cut to none, which would turn the limit off.
#[test]
fn r_exp_4_sub_second_interval_still_limits() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.add_lead(NewLead::email("a@x.com")).unwrap();
    b.set_export_interval(Duration::from_millis(500)).unwrap();
    let owner = b.as_manager(Manager::owner("o"));
    owner
        .export_csv(Vec::new(), protected("abc12!", Some("one")))
        .unwrap();
    let e = owner
        .export_csv(Vec::new(), protected("abc12!", Some("two")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
    b.set_clock(Some(t("2025-06-01T00:00:01Z"))).unwrap();
    owner
        .export_csv(Vec::new(), protected("abc12!", Some("three")))
        .unwrap();
}

/// R-EXP-4: "at least one letter, one digit and one symbol". Letters of any script count,
/// and so do digits of any script: `abc١!x` (an Arabic-Indic 1) and `abc１!x` (a full-width
/// 1) hold a digit; neither is taken for a symbol.
#[test]
fn r_exp_4_a_digit_of_any_script_is_a_digit() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.add_lead(NewLead::email("a@x.com")).unwrap();
    b.set_export_interval(Duration::ZERO).unwrap();
    for pw in ["ééé1!x", "abc\u{661}!x", "abc\u{FF11}!x"] {
        let mut out = Vec::new();
        b.export_csv(&mut out, protected(pw, Some("audit")))
            .unwrap_or_else(|e| panic!("{pw}: {e}"));
        assert!(unzip(&out, pw).contains("a@x.com"), "{pw}");
    }
    // Still no symbol: a digit of another script does not stand in for one.
    let e = b
        .export_csv(Vec::new(), protected("abc\u{661}de", Some("audit")))
        .unwrap_err();
    assert!(e.to_string().contains("a symbol"), "{e}");
}

/// R-EXP-4: "one manager may start a protected contacts export at most once per 30
/// minutes". The book acting without a manager is no manager: its exports use no
/// manager's interval, not even one whose id is `system`.
#[test]
fn r_exp_4_the_books_own_exports_use_no_managers_interval() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.add_lead(NewLead::email("a@x.com")).unwrap();
    b.export_csv(Vec::new(), protected("abc12!", Some("audit")))
        .unwrap();
    let system = b.as_manager(Manager::owner("system"));
    system
        .export_csv(Vec::new(), protected("abc12!", Some("audit")))
        .expect("manager `system` has not exported yet");
    let e = system
        .export_csv(Vec::new(), protected("abc12!", Some("audit")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    let e = b
        .export_csv(Vec::new(), protected("abc12!", Some("audit")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
}

/// A writer that takes `room` bytes, then fails (a disk filling up mid-export).
struct FillsUp {
    room: usize,
    got: Vec<u8>,
}

impl std::io::Write for FillsUp {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.room == 0 {
            return Err(std::io::Error::other("disk full"));
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        self.got.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// R-EXP-5: "Imports, exports, deletes and bulk edits are written to an activity log (who,
/// what, when, how many, reason)." An export whose writer fails after contacts reached it
/// has sent contact data out: it is logged, with the rows written so far and why it
/// stopped, and a protected one keeps its start (R-EXP-4). One that failed before any row
/// went out changes nothing, as before.
#[test]
fn r_exp_5_an_export_that_fails_after_sending_rows_is_logged() {
    let b = book_at("2025-06-01T00:00:00Z");
    // Enough contacts that the export's buffer reaches the writer before the last row.
    for i in 0..10_000 {
        b.add_lead(NewLead::email(format!("person{i}@x.com")))
            .unwrap();
    }
    let owner = b.as_manager(Manager::owner("boss"));
    let exports = || {
        b.activity_log(&ActivityQuery {
            action: Some("export".into()),
            ..ActivityQuery::default()
        })
        .unwrap()
    };
    // Nothing goes out: nothing is logged and the interval is not used.
    let e = owner
        .export_csv(
            FillsUp {
                room: 0,
                got: Vec::new(),
            },
            protected("abc12!", Some("audit")),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Storage);
    assert!(exports().is_empty());

    let mut w = FillsUp {
        room: 3000,
        got: Vec::new(),
    };
    let e = owner
        .export_csv(&mut w, ExportOptions::default())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Storage);
    assert!(String::from_utf8_lossy(&w.got).contains("person"));
    let log = exports();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].manager_id.as_deref(), Some("boss"));
    // The rows the export had produced when the writer failed (the last of them may not
    // have reached it): some, not all.
    assert!(
        log[0].count > 0 && log[0].count < 10_000,
        "{}",
        log[0].count
    );
    assert!(log[0].detail["failed"]
        .as_str()
        .is_some_and(|f| f.contains("disk full")));

    // A protected export that failed after sending rows has started: the next is early.
    let mut w = FillsUp {
        room: 3000,
        got: Vec::new(),
    };
    owner
        .export_csv(&mut w, protected("abc12!", Some("audit")))
        .unwrap_err();
    assert_eq!(exports().len(), 2);
    let e = owner
        .export_csv(Vec::new(), protected("abc12!", Some("audit")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
}

/// R-EXP-4: a protected export is an AES-256 zip. An export whose writer fails writes
/// nothing more after the failure, through the book or through `write_export`, protected
/// or not, whether the writer returns an error or takes none of the bytes (`Ok(0)`), at
/// its first write or midway. The zip crate finishes an archive it drops, and its closing
/// records would make a cut-short CSV look like a whole archive; a buffer dropped after a
/// failed write would hand its rows on again.
#[test]
fn r_exp_4_an_export_whose_writer_fails_writes_nothing_more() {
    let b = book_at("2025-06-01T00:00:00Z");
    for i in 0..10_000 {
        b.add_lead(NewLead::email(format!("person{i}@x.com")))
            .unwrap();
    }
    let contacts = b
        .search(&Query {
            limit: Some(1000),
            ..Query::default()
        })
        .unwrap()
        .contacts;
    let schema = rolodex::Schema::from_keys(b.schema().unwrap());
    let mut day = 1;
    for options in [protected("abc12!", Some("audit")), ExportOptions::default()] {
        let zipped = options.password.is_some();
        for how in [Hiccup::Error, Hiccup::Zero] {
            for room in [0, 3000] {
                let mut by_book = FailsOnce::with(room, how);
                // Each protected export through the book starts the interval: one a day.
                day += 1;
                b.set_clock(Some(t(&format!("2025-06-{day:02}T00:00:00Z"))))
                    .unwrap();
                let by_book_e = b.export_csv(&mut by_book, options.clone()).unwrap_err();
                let mut direct = FailsOnce::with(room, how);
                let direct_e =
                    rolodex::write_export(&mut direct, &contacts, &schema, &options).unwrap_err();
                for (path, w, e) in [
                    ("export_csv", by_book, by_book_e),
                    ("write_export", direct, direct_e),
                ] {
                    let how = format!("{path}, protected: {zipped}, {how:?} after {room} bytes");
                    assert_eq!(e.kind(), ErrorKind::Storage, "{how}: {e}");
                    assert!(w.failed && w.before.len() == room, "{how}");
                    assert!(
                        w.after.is_empty(),
                        "{how}: {} bytes written after the writer failed",
                        w.after.len()
                    );
                    if zipped {
                        assert!(
                            zip::ZipArchive::new(Cursor::new(w.before)).is_err(),
                            "{how}: what reached the writer reads as a whole archive"
                        );
                    }
                }
            }
        }
    }
}

/// R-EXP-1/R-EXP-4: a writer interrupted once (`Interrupted`, which `std` tries again) has
/// not failed: the export goes on and writes exactly what it writes to a writer that never
/// stops, through the book and through `write_export`, protected or not.
#[test]
fn r_exp_4_an_export_to_a_writer_interrupted_once_is_whole() {
    let b = book_at("2025-06-01T00:00:00Z");
    for i in 0..3_000 {
        b.add_lead(NewLead::email(format!("person{i}@x.com")))
            .unwrap();
    }
    let contacts = all(&b);
    let schema = rolodex::Schema::from_keys(b.schema().unwrap());
    for options in [ExportOptions::default(), protected("abc12!", Some("audit"))] {
        let zipped = options.password.is_some();
        let read = |bytes: &[u8]| {
            if zipped {
                unzip(bytes, "abc12!")
            } else {
                String::from_utf8(bytes.to_vec()).unwrap()
            }
        };
        let mut whole = Vec::new();
        rolodex::write_export(&mut whole, &contacts, &schema, &options).unwrap();
        for room in [0, 3000] {
            let mut w = FailsOnce::with(room, Hiccup::Interrupted);
            rolodex::write_export(&mut w, &contacts, &schema, &options).unwrap();
            assert_eq!(
                read(&w.all()),
                read(&whole),
                "write_export, {zipped}, {room}"
            );
            let mut w = FailsOnce::with(room, Hiccup::Interrupted);
            b.set_clock(Some(t(&format!(
                "2025-07-{:02}T00:00:00Z",
                1 + room / 1000 + usize::from(zipped) * 10
            ))))
            .unwrap();
            b.export_csv(&mut w, options.clone()).unwrap();
            assert_eq!(read(&w.all()), read(&whole), "export_csv, {zipped}, {room}");
        }
    }
}

/// R-EXP-4: the interval "is a setting of the book". One too long for the setting (the
/// largest `Duration`, whose seconds plus a rounded-up fraction overflowed, to 0 in a
/// release build, turning the rate limit off) is a `Validation` error that keeps the
/// interval it had.
#[test]
fn r_exp_4_an_interval_beyond_the_largest_is_refused_and_keeps_the_old_one() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.add_lead(NewLead::email("a@x.com")).unwrap();
    b.set_export_interval(Duration::from_secs(3600)).unwrap();
    for too_long in [Duration::MAX, Duration::new(u64::MAX, 1)] {
        let e = b.set_export_interval(too_long).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{too_long:?}: {e}");
    }
    b.export_csv(Vec::new(), protected("abc12!", Some("one")))
        .unwrap();
    b.set_clock(Some(t("2025-06-01T00:59:59Z"))).unwrap();
    let e = b
        .export_csv(Vec::new(), protected("abc12!", Some("two")))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited);
    // The hour, and not a longer interval, is the one in force.
    b.set_clock(Some(t("2025-06-01T01:00:00Z"))).unwrap();
    b.export_csv(Vec::new(), protected("abc12!", Some("three")))
        .unwrap();
}

/// R-EXP-5: the activity log says when each action was done, newest first. An export is
/// logged when it ends, dated then: an export that ran while the clock moved on is dated
/// at its end, so no later action's entry can come after it with an earlier time (it was
/// dated at its start, and listed above actions done while it ran).
#[test]
fn r_exp_5_a_long_export_is_logged_at_its_end() {
    struct MovesClock {
        book: ContactBook,
        moved: bool,
    }
    impl std::io::Write for MovesClock {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if !self.moved {
                self.moved = true;
                self.book
                    .set_clock(Some(t("2025-06-01T00:05:00Z")))
                    .unwrap();
            }
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let b = book_at("2025-06-01T00:00:00Z");
    for i in 0..3 {
        b.add_lead(NewLead::email(format!("p{i}@example.com")))
            .unwrap();
    }
    // The caller's writer gets the rows (at the latest when the output is flushed) before
    // the export is logged.
    let sink = MovesClock {
        book: b.clone(),
        moved: false,
    };
    assert_eq!(
        b.export_csv(sink, ExportOptions::default()).unwrap().rows,
        3
    );
    let log = b.activity_log(&ActivityQuery::default()).unwrap();
    assert_eq!(log[0].action, "export");
    assert_eq!(log[0].at, t("2025-06-01T00:05:00Z"));
}
