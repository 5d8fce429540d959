//! R-EXP-5 (permissions, activity log) and R-SCH writes (define, archive,
//! inbox, order, the limits of R-SCH-7 on every path that writes a profile). Public API
//! only; every expectation quotes RULES.md / API.md.

use rolodex::{
    ActivityQuery, Boot, ContactBook, ErrorKind, ExportOptions, FieldType, ImportOptions, Manager,
    MergeChoices, NewLead, Permission, Side,
};
use serde_json::json;

mod support;
use support::{all, book_at, export_text, f, import_named, leads, q, snapshot, t};

fn obj(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    v.as_object().unwrap().clone()
}

fn log(book: &ContactBook) -> Vec<rolodex::ActivityEntry> {
    book.activity_log(&ActivityQuery::default()).unwrap()
}

fn list_of(n: usize, prefix: &str) -> serde_json::Value {
    json!((0..n).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>())
}

// ----- R-EXP-5 -----

/// R-EXP-5: "A denied action changes nothing and says which permission is missing." A
/// denied action is not an action done: the log stays as it was too (it is part of
/// "nothing").
#[test]
fn r_exp_5_denied_actions_name_the_permission_and_leave_the_log_alone() {
    let b = book_at("2025-06-01T00:00:00Z");
    let a = b.add_lead(NewLead::email("a@x.com")).unwrap();
    let viewer = b.as_manager(Manager::member("v", &[Permission::DownloadData]));
    let before = snapshot(&b);
    let e = viewer.delete(vec![a.id.clone()]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert!(e.to_string().contains("deleteContacts"), "{e}");
    let e = viewer
        .delete(f(json!({"key": "profile.email", "op": "exists"})))
        .unwrap_err();
    assert!(e.to_string().contains("deleteContacts"), "{e}");
    let e = viewer
        .add_tags(f(json!({"key": "profile.email", "op": "exists"})), &["x"])
        .unwrap_err();
    assert!(e.to_string().contains("editContacts"), "{e}");
    let e = import_named(
        &viewer,
        "x.csv",
        "profile.email,unsubscribeEmail,unsubscribeTexting\nn@x.com,false,false\n",
        ImportOptions {
            dry_run: true,
            ..leads()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("editContacts"), "{e}");
    assert_eq!(snapshot(&b), before);
}

/// R-EXP-5: "an owner may do everything" — the role, not a list of permissions; a
/// member-role manager never exports contacts ("only owners export contacts"), whatever it
/// holds, and "a denied action … says which permission is missing": the owner role.
#[test]
fn r_exp_5_role_not_permission_list_decides_owner_actions() {
    let b = book_at("2025-06-01T00:00:00Z");
    let a = b.add_lead(NewLead::email("a@x.com")).unwrap();
    let owner = b.as_manager(Manager::owner("o"));
    let member_with_owner = b.as_manager(Manager::member(
        "m",
        &[
            Permission::Owner,
            Permission::EditContacts,
            Permission::DeleteContacts,
            Permission::DownloadData,
        ],
    ));
    let e = member_with_owner
        .export_csv(Vec::new(), ExportOptions::default())
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    // The message says what is missing: the owner role, which no grant gives (it named an
    // `owner` permission the manager holds, and advised asking for it).
    let text = e.to_string();
    assert!(text.contains("only an owner may"), "{text}");
    assert!(!text.contains("ask an owner to grant"), "{text}");
    assert!(owner
        .export_csv(Vec::new(), ExportOptions::default())
        .is_ok());
    assert_eq!(owner.delete(vec![a.id.clone()]).unwrap().done, 1);
}

/// R-EXP-5: deletes are logged (who, what, when, how many) — also the delete by `memberId`
/// (R-CON-5: "Deleting contacts (one or many, or by `memberId`...)").
#[test]
fn r_exp_5_delete_by_member_id_is_logged() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.boot(Boot {
        member_id: Some("m-9".into()),
        ..Boot::default()
    })
    .unwrap();
    let d = b.as_manager(Manager::member("d", &[Permission::DeleteContacts]));
    b.set_clock(Some(t("2025-06-02T00:00:00Z"))).unwrap();
    d.delete_by_member_id("m-9").unwrap();
    let entries = d
        .activity_log(&ActivityQuery {
            action: Some("delete".into()),
            ..ActivityQuery::default()
        })
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].manager_id.as_deref(), Some("d"));
    assert_eq!(entries[0].count, 1);
    assert_eq!(entries[0].at, t("2025-06-02T00:00:00Z"));
}

/// R-EXP-5: "bulk edits are written to an activity log (who, what, when, how many...)":
/// unblocking and removing tags are bulk actions of R-CON-7 too; "how many" counts the
/// contacts changed.
#[test]
fn r_exp_5_every_bulk_action_is_logged_with_its_count() {
    let b = book_at("2025-06-01T00:00:00Z");
    let a = b.add_lead(NewLead::email("a@x.com")).unwrap().id;
    let c = b.add_lead(NewLead::email("c@x.com")).unwrap().id;
    let ed = b.as_manager(Manager::member("ed", &[Permission::EditContacts]));
    let ids = vec![a.clone(), c.clone(), "c_nope".to_string()];
    ed.add_tags(ids.clone(), &["vip"]).unwrap();
    ed.remove_tags(ids.clone(), &["vip"]).unwrap();
    ed.block(ids.clone()).unwrap();
    ed.unblock(ids.clone()).unwrap();
    ed.set_opt_out(ids.clone(), rolodex::Medium::Email, true)
        .unwrap();
    let entries = log(&b);
    let actions: Vec<(&str, u64)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.count))
        .collect();
    for (what, n) in [
        ("addTags", 2),
        ("removeTags", 2),
        ("block", 2),
        ("unblock", 2),
        ("setOptOut", 2),
    ] {
        assert!(actions.contains(&(what, n)), "{what}: {actions:?}");
    }
    assert!(entries
        .iter()
        .all(|e| e.manager_id.as_deref() == Some("ed")));
}

/// R-EXP-5: a bulk edit's entry says what was done, not only how many: the tags added or
/// removed, the opt-out's medium and value, the filter of a filter target, the contacts
/// changed and those that failed.
#[test]
fn r_exp_5_bulk_entries_say_what_was_done_and_to_whom() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.city", FieldType::String).unwrap();
    let a = b.add_lead(NewLead::email("a@x.com")).unwrap().id;
    let c = b.add_lead(NewLead::email("c@x.com")).unwrap().id;
    b.update(&a, &json!({"profile": {"city": "Seoul"}}))
        .unwrap();
    let ids = vec![a.clone(), c.clone(), "c_nope".to_string()];
    b.add_tags(ids.clone(), &["vip", "sale"]).unwrap();
    b.set_opt_out(ids.clone(), rolodex::Medium::Texting, true)
        .unwrap();
    let seoul = f(json!({"key": "profile.city", "op": "eq", "value": "Seoul"}));
    b.remove_tags(seoul, &["sale"]).unwrap();
    let entries = log(&b);
    let entry = |action: &str| {
        entries
            .iter()
            .find(|e| e.action == action)
            .unwrap_or_else(|| panic!("no {action} entry"))
            .detail
            .clone()
    };
    let add = entry("addTags");
    assert_eq!(add["tags"], json!(["vip", "sale"]), "{add}");
    assert_eq!(add["ids"], json!([a, c]), "{add}");
    assert_eq!(add["failed"], 1, "{add}");
    assert_eq!(add["failedIds"], json!(["c_nope"]), "{add}");
    assert!(add.get("filter").is_none(), "{add}");
    let opt = entry("setOptOut");
    assert_eq!(
        (&opt["medium"], &opt["value"]),
        (&json!("texting"), &json!(true)),
        "{opt}"
    );
    let remove = entry("removeTags");
    assert_eq!(remove["tags"], json!(["sale"]), "{remove}");
    assert_eq!(remove["ids"], json!([a]), "{remove}");
    assert_eq!(
        remove["filter"],
        json!({"key": "profile.city", "op": "eq", "value": "Seoul"}),
        "{remove}"
    );
    assert_eq!(remove["failedIds"], json!([]), "{remove}");
}

/// API.md: `activity_log(query)` with query `{"since"?, "until"?, "action"?, "managerId"?,
/// "limit"?}`; the system (a book without a manager) is logged without a manager.
#[test]
fn r_exp_5_activity_log_query_filters() {
    let b = book_at("2025-06-01T00:00:00Z");
    let a = b.add_lead(NewLead::email("a@x.com")).unwrap().id;
    let x = b.as_manager(Manager::member("x", &[Permission::EditContacts]));
    let y = b.as_manager(Manager::owner("y"));
    b.set_clock(Some(t("2025-06-01T01:00:00Z"))).unwrap();
    x.add_tags(vec![a.clone()], &["t1"]).unwrap();
    b.set_clock(Some(t("2025-06-01T02:00:00Z"))).unwrap();
    y.add_tags(vec![a.clone()], &["t2"]).unwrap();
    b.set_clock(Some(t("2025-06-01T03:00:00Z"))).unwrap();
    b.block(vec![a.clone()]).unwrap();
    assert_eq!(log(&b).len(), 3);
    let only = |q: serde_json::Value| -> Vec<String> {
        let q: ActivityQuery = serde_json::from_value(q).unwrap();
        b.activity_log(&q)
            .unwrap()
            .into_iter()
            .map(|e| format!("{}:{}", e.manager_id.unwrap_or_default(), e.action))
            .collect()
    };
    assert_eq!(only(json!({"managerId": "x"})), vec!["x:addTags"]);
    assert_eq!(only(json!({"action": "block"})), vec![":block"]);
    assert_eq!(
        only(json!({"since": "2025-06-01T02:00:00Z"})).len(),
        2,
        "since"
    );
    assert_eq!(
        only(json!({"until": "2025-06-01T02:00:00Z"})),
        vec!["x:addTags"]
    );
    assert_eq!(only(json!({"limit": 1})).len(), 1);
    assert!(log(&b).iter().any(|e| e.manager_id.is_none()));
}

// ----- R-SCH -----

/// R-SCH-3: "Defining an existing key again with the same type does nothing; with another
/// type it is a `Conflict`" — built-ins and system fields are existing keys (R-SCH-1 gives
/// their types).
#[test]
fn r_sch_3_redefining_builtins_and_system_fields() {
    let b = ContactBook::in_memory();
    let before = b.schema().unwrap();
    for (k, ty) in [
        ("profile.name", FieldType::String),
        ("profile.email", FieldType::Email),
        ("tags", FieldType::Tag),
        ("userImportTags", FieldType::List),
        ("sessionCount", FieldType::Number),
        ("lastSeenAt", FieldType::Datetime),
        ("blocked", FieldType::Boolean),
    ] {
        b.define_key(k, ty).unwrap();
    }
    assert_eq!(b.schema().unwrap(), before, "same type does nothing");
    for (k, ty) in [
        ("profile.email", FieldType::String),
        ("tags", FieldType::List),
        ("userImportTags", FieldType::Tag),
        ("sessionCount", FieldType::String),
        ("createdAt", FieldType::Date),
    ] {
        assert_eq!(
            b.define_key(k, ty).unwrap_err().kind(),
            ErrorKind::Conflict,
            "{k}"
        );
    }
    // An archived key defined again with the same type stays as it is (does nothing).
    b.define_key("profile.old", FieldType::String).unwrap();
    b.archive_key("profile.old").unwrap();
    b.define_key("profile.old", FieldType::String).unwrap();
    let old = b
        .schema()
        .unwrap()
        .into_iter()
        .find(|k| k.key == "profile.old")
        .unwrap();
    assert!(old.archived);
    assert_eq!(
        b.define_key("profile.old", FieldType::Number)
            .unwrap_err()
            .kind(),
        ErrorKind::Conflict
    );
}

/// R-SCH-1: "System fields are top-level and not under `profile.`" — a custom key may not
/// take a system field's name, which would make `memberId` in a profile write a lookalike
/// (R-SCH-3: "trying is an error naming the key, not a silent skip"). A system field named
/// under a profile is refused with a hint naming the system field, and changes nothing.
#[test]
fn r_sch_1_a_custom_key_may_not_take_a_system_fields_name() {
    let b = ContactBook::in_memory();
    let before = b.schema().unwrap();
    for name in [
        "id",
        "memberId",
        "member",
        "tags",
        "userImportTags",
        "unsubscribeEmail",
        "unsubscribeTexting",
        "blocked",
        "createdAt",
        "updatedAt",
        "lastSeenAt",
        "sessionCount",
    ] {
        let key = format!("profile.{name}");
        let e = b.define_key(&key, FieldType::String).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{key}");
        assert!(e.to_string().contains(&key), "{e}");
        assert!(e.to_string().contains("system field"), "{e}");
    }
    assert_eq!(b.schema().unwrap(), before);
    // A name that only looks alike is a custom key as any other.
    b.define_key("profile.memberIdOld", FieldType::String)
        .unwrap();

    // Named under a profile, a system field is refused, and the hint says what it is.
    for (field, hint) in [
        ("memberId", "set only by a member import or a login"),
        ("unsubscribeEmail", "use `unsubscribeEmail`"),
        ("createdAt", "cannot be written"),
    ] {
        let e = b
            .add_lead(NewLead::email("a@example.com").with_profile(field, "1"))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{field}");
        assert!(e.to_string().contains(hint), "{field}: {e}");
        assert!(!e.to_string().contains("define_key"), "{field}: {e}");
    }
    assert_eq!(b.mu_count().unwrap(), 0);
    let c = b.add_lead(NewLead::email("a@example.com")).unwrap();
    let e = b
        .update(&c.id, &json!({"profile": {"memberId": "m-1"}}))
        .unwrap_err();
    assert!(e.to_string().contains("member import or a login"), "{e}");
    assert_eq!(b.get(&c.id).unwrap(), c);
    // Every place that names a key says the same: an import mapping, a filter, a schema
    // command; none offers define_key, which would refuse the name.
    let mapping = b
        .import_csv(
            rolodex::ImportSource::reader(std::io::Cursor::new("uid,x\nm-1,1\n")),
            ImportOptions::members()
                .map("uid", Some("memberId"))
                .map("x", Some("profile.memberId")),
            None,
        )
        .unwrap_err();
    assert_eq!(mapping.kind(), ErrorKind::Validation);
    assert!(
        mapping
            .to_string()
            .contains("set only by a member import or a login"),
        "{mapping}"
    );
    let filter = b
        .search(
            &rolodex::Query::from_json(r#"{"filter": {"key": "profile.tags", "op": "exists"}}"#)
                .unwrap(),
        )
        .unwrap_err();
    assert_eq!(filter.kind(), ErrorKind::Filter);
    assert!(filter.to_string().contains("use `tags`"), "{filter}");
    let command = b.archive_key("profile.unsubscribeEmail").unwrap_err();
    assert!(
        command.to_string().contains("use `unsubscribeEmail`"),
        "{command}"
    );
    for e in [mapping, filter, command] {
        assert!(!e.to_string().contains("define"), "{e}");
    }
    // A boot drops it (R-CON-3) and logs nobody in.
    let v = b
        .boot(Boot::visit(&c.id).with_profile("memberId", "m-2"))
        .unwrap();
    assert_eq!((v.member_id, v.profile), (None, c.profile));
}

/// R-SCH-5: an archived key "is no longer collected (writes to it are rejected with a clear
/// error)" — by hand-add, edit (clearing included) and import; nothing changes.
#[test]
fn r_sch_5_writes_to_an_archived_key_are_rejected_on_every_manager_path() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.city", FieldType::String).unwrap();
    let a = b
        .add_lead(NewLead {
            profile: obj(json!({"city": "Seoul"})),
            ..NewLead::email("a@x.com")
        })
        .unwrap()
        .id;
    b.archive_key("profile.city").unwrap();
    let before = snapshot(&b);
    let e = b
        .add_lead(NewLead {
            profile: obj(json!({"city": "Busan"})),
            ..NewLead::email("n@x.com")
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("profile.city"), "{e}");
    for patch in [
        json!({"profile.city": "Busan"}),
        json!({"profile": {"city": "Busan"}}),
        json!({"profile.city": null}),
    ] {
        let e = b.update(&a, &patch).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{patch}");
        assert!(e.to_string().contains("profile.city"), "{e}");
    }
    let e = import_named(
        &b,
        "c.csv",
        "profile.email,profile.city\na@x.com,Busan\n",
        ImportOptions {
            auto_map: false,
            ..leads()
        }
        .map("profile.email", Some("profile.email"))
        .map("profile.city", Some("profile.city")),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(snapshot(&b), before);
    // A boot drops it (R-CON-3) and restoring brings the old value back.
    b.boot(Boot {
        contact_id: Some(a.clone()),
        profile: obj(json!({"city": "Jeju"})),
        ..Boot::default()
    })
    .unwrap();
    b.restore_key("profile.city").unwrap();
    assert_eq!(
        b.get(&a).unwrap().to_json()["profile"]["city"],
        json!("Seoul")
    );
}

/// R-SCH-5: an archived key "is not shown or filterable" — not in `get`, search, export
/// columns, filters or sorts; `autoMap` does not map it (API.md: "every column whose header
/// equals a data key this import may write").
#[test]
fn r_sch_5_archived_key_not_shown_filtered_sorted_exported_or_auto_mapped() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.city", FieldType::String).unwrap();
    let a = b
        .add_lead(NewLead {
            profile: obj(json!({"city": "Seoul"})),
            ..NewLead::email("a@x.com")
        })
        .unwrap()
        .id;
    b.archive_key("profile.city").unwrap();
    assert!(b.get(&a).unwrap().to_json()["profile"]
        .get("city")
        .is_none());
    let page = b.search(&q(json!({}))).unwrap();
    assert!(page.contacts[0].to_json()["profile"].get("city").is_none());
    let e = rolodex::Query::from_value(
        &json!({"filter": {"key": "profile.city", "op": "eq", "value": "Seoul"}}),
    )
    .map_err(|e| e.kind())
    .and_then(|q| b.search(&q).map_err(|e| e.kind()))
    .unwrap_err();
    assert_eq!(e, ErrorKind::Filter);
    assert!(b
        .search(&q(
            json!({"sort": [{"key": "profile.city", "order": "asc"}]})
        ))
        .is_err());
    let text = export_text(&b, ExportOptions::default());
    assert!(
        !text.contains("profile.city") && !text.contains("Seoul"),
        "{text}"
    );
    let text = export_text(
        &b,
        ExportOptions {
            ids: Some(vec![a.clone()]),
            ..ExportOptions::default()
        },
    );
    assert!(!text.contains("Seoul"), "{text}");
    assert!(b
        .export_csv(
            Vec::new(),
            ExportOptions {
                columns: Some(vec!["profile.city".into()]),
                ..ExportOptions::default()
            }
        )
        .is_err());
    let r = import_named(
        &b,
        "c.csv",
        "profile.email,profile.city\na@x.com,Busan\n",
        leads(),
    )
    .unwrap();
    assert_eq!(r.updated, 1);
    assert_eq!(r.ignored_columns, vec!["profile.city".to_string()]);
    b.restore_key("profile.city").unwrap();
    assert_eq!(
        b.get(&a).unwrap().to_json()["profile"]["city"],
        json!("Seoul")
    );
}

/// R-SCH-6: "A key can be hidden from the inbox while still shown and collected in contacts
/// (a per-surface visibility flag, distinct from archiving)."
#[test]
fn r_sch_6_inbox_hidden_key_is_still_shown_collected_and_filterable() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.city", FieldType::String).unwrap();
    b.set_inbox_visible("profile.city", false).unwrap();
    let k = b
        .schema()
        .unwrap()
        .into_iter()
        .find(|k| k.key == "profile.city")
        .unwrap();
    assert!(!k.inbox_visible && !k.archived);
    let a = b.add_lead(NewLead::email("a@x.com")).unwrap().id;
    b.update(&a, &json!({"profile.city": "Seoul"})).unwrap();
    assert_eq!(
        b.get(&a).unwrap().to_json()["profile"]["city"],
        json!("Seoul")
    );
    let p = b
        .search(&q(
            json!({"filter": {"key": "profile.city", "op": "eq", "value": "Seoul"}}),
        ))
        .unwrap();
    assert_eq!(p.total, 1);
    assert!(export_text(&b, ExportOptions::default()).contains("Seoul"));
}

/// R-SCH-4: the display order "can be changed and is reported in order"; a bad new order
/// (an unknown key, a key named twice) is an error and changes nothing.
#[test]
fn r_sch_4_reorder_keys() {
    let b = ContactBook::in_memory();
    b.define_key("profile.city", FieldType::String).unwrap();
    b.define_key("profile.age", FieldType::Number).unwrap();
    b.reorder_keys(&["profile.age", "profile.name"]).unwrap();
    let keys: Vec<String> = b.schema().unwrap().into_iter().map(|k| k.key).collect();
    assert_eq!(&keys[..2], &["profile.age", "profile.name"]);
    let before = b.schema().unwrap();
    assert_eq!(
        b.reorder_keys(&["profile.nope"]).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert!(b.reorder_keys(&["profile.city", "profile.city"]).is_err());
    assert_eq!(b.schema().unwrap(), before);
    // The editable-only export follows the display order (R-EXP-2).
    let text = export_text(
        &b,
        ExportOptions {
            editable_only: true,
            ..ExportOptions::default()
        },
    );
    assert!(
        text.starts_with("memberId,profile.email,profile.mobileNumber,profile.age,profile.name,"),
        "{text}"
    );
}

// ----- R-SCH-7 -----

/// R-SCH-7: "the whole profile ≤ 15 KB = 15,360 bytes, measured as the compact JSON of the
/// `profile` object (keys sorted, non-ASCII unescaped, archived values included)".
#[test]
fn r_sch_7_archived_values_count_in_the_15kb_measure_exactly() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.old", FieldType::List).unwrap();
    b.define_key("profile.note", FieldType::String).unwrap();
    let a = b.add_lead(NewLead::email("k@x.com")).unwrap().id;
    let items: Vec<String> = (0..30)
        .map(|i| format!("{i:03}{}", "a".repeat(497)))
        .collect();
    b.update(&a, &json!({"profile.old": items})).unwrap();
    b.archive_key("profile.old").unwrap();
    let base = serde_json::to_string(&json!({"email": "k@x.com", "old": items}))
        .unwrap()
        .len();
    // `,"note":""` adds 10 bytes plus the note itself.
    let fit = 15_360 - base - 10;
    assert!((1..=400).contains(&fit), "{fit}");
    // Non-ASCII counts its UTF-8 bytes: 'é' is 2.
    let over = "é".repeat(fit / 2 + 1);
    let before = snapshot(&b);
    let e = b.update(&a, &json!({"profile.note": over})).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    let e = b
        .update(&a, &json!({"profile.note": "x".repeat(fit + 1)}))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    assert_eq!(snapshot(&b), before);
    b.update(&a, &json!({"profile.note": "x".repeat(fit)}))
        .unwrap();
}

/// R-SCH-7: "≤ 256 keys set on one profile" and "a string ≤ 512 characters ... Lengths count
/// Unicode scalar values after NFC normalisation" on a hand-add and an edit.
#[test]
fn r_sch_7_string_length_after_nfc_and_key_count() {
    let b = book_at("2025-06-01T00:00:00Z");
    let decomposed = "e\u{301}".repeat(512); // 1,024 scalars, 512 after NFC
    let a = b
        .add_lead(NewLead::email("a@x.com").with_name(&decomposed))
        .unwrap()
        .id;
    assert_eq!(b.get(&a).unwrap().name().unwrap().chars().count(), 512);
    let e = b
        .add_lead(NewLead::email("b@x.com").with_name("é".repeat(513)))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("profile.name"), "{e}");
    let e = b
        .update(&a, &json!({"profile.name": "e\u{301}".repeat(513)}))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);

    // 256 keys: email + 255 custom ones fit; the 257th does not.
    for i in 0..256 {
        b.define_key(&format!("profile.k{i}"), FieldType::Boolean)
            .unwrap();
    }
    let mut patch = serde_json::Map::new();
    for i in 0..254 {
        patch.insert(format!("profile.k{i}"), json!(true));
    }
    b.update(&a, &serde_json::Value::Object(patch)).unwrap(); // email, name + 254 = 256
    let before = snapshot(&b);
    let e = b.update(&a, &json!({"profile.k254": true})).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(snapshot(&b), before);
}

/// R-SCH-7: "a list ≤ 200 items" on an edit of `tags` (a list-typed field) and of a list
/// key; "an append past 200 items included — is rejected whole" on import.
#[test]
fn r_sch_7_lists_on_edit_and_import_append() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.nums", FieldType::ListOfNumber)
        .unwrap();
    let a = b.add_lead(NewLead::email("a@x.com")).unwrap().id;
    assert_eq!(
        b.update(&a, &json!({"tags": list_of(201, "t")}))
            .unwrap_err()
            .kind(),
        ErrorKind::Validation
    );
    let nums: Vec<u32> = (0..200).collect();
    b.update(&a, &json!({"profile.nums": nums})).unwrap();
    assert_eq!(
        b.update(&a, &json!({"profile.nums": (0..201).collect::<Vec<u32>>()}))
            .unwrap_err()
            .kind(),
        ErrorKind::Validation
    );
    let r = import_named(
        &b,
        "n.csv",
        "profile.email,profile.name,profile.nums\na@x.com,New,[500]\n",
        leads(),
    )
    .unwrap();
    assert_eq!((r.failed, r.updated), (1, 0));
    assert_eq!(
        r.failures[0].error_columns,
        vec!["profile.nums".to_string()]
    );
    // The row failed whole: the name was not written either (the log gains the import).
    assert!(b.get(&a).unwrap().name().is_none());
}

/// R-SCH-7 on a unification started by a member import (R-UNI-2: "When a member is created
/// or gains verified contact info (member import, ...)"; R-UNI-3 unions lists): a row whose
/// unification would break a limit fails whole (R-IMP-16).
#[test]
fn r_sch_7_unification_by_member_import_over_a_limit_fails_the_row() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.l", FieldType::List).unwrap();
    let lead = b.add_lead(NewLead::email("k@x.com")).unwrap().id;
    b.update(&lead, &json!({"profile.l": list_of(150, "a")}))
        .unwrap();
    let m = b
        .boot(Boot {
            member_id: Some("m-1".into()),
            ..Boot::default()
        })
        .unwrap()
        .id;
    b.update(&m, &json!({"profile.l": list_of(60, "b")}))
        .unwrap();
    let r = import_named(
        &b,
        "m.csv",
        "memberId,profile.email,profile.name\nm-1,k@x.com,Kim\n",
        ImportOptions {
            auto_map: true,
            ..ImportOptions::members()
        },
    )
    .unwrap();
    assert_eq!((r.failed, r.updated), (1, 0), "{r:?}");
    let member = b.get(&m).unwrap();
    assert!(member.email().is_none() && member.name().is_none());
    assert!(b.get(&lead).is_ok(), "the lead is not unified");
}

/// R-SCH-7 at a boot: "A boot never fails on data" (R-CON-3), and a write that would break a
/// limit is rejected (the value is dropped), nothing truncated.
#[test]
fn r_sch_7_boot_drops_values_over_a_limit() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.note", FieldType::String).unwrap();
    let c = b
        .boot(Boot {
            profile: obj(json!({"note": "x".repeat(513), "name": "Kim"})),
            ..Boot::default()
        })
        .unwrap();
    let c = b.get(&c.id).unwrap();
    assert!(c.to_json()["profile"].get("note").is_none());
    assert_eq!(c.name(), Some("Kim"));
}

/// R-SCH-7 on a merge (R-CON-8: "tags and lists are unioned"): a union past 200 items is
/// rejected whole and nothing changes.
#[test]
fn r_sch_7_merge_union_past_200_is_rejected_whole() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.l", FieldType::List).unwrap();
    let p = b.add_lead(NewLead::email("p@x.com")).unwrap().id;
    let s = b.add_lead(NewLead::email("s@x.com")).unwrap().id;
    b.update(&p, &json!({"profile.l": list_of(150, "p")}))
        .unwrap();
    b.update(&s, &json!({"profile.l": list_of(60, "s")}))
        .unwrap();
    let before = snapshot(&b);
    let e = b.merge(&p, &s, &MergeChoices::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    // It says how many items and what to do (API.md: every message says what to do).
    let message = e.to_string();
    assert!(
        message.contains("profile.l")
            && message.contains("would have 210 items")
            && message.contains("choose one side's list"),
        "{message}"
    );
    assert_eq!(snapshot(&b), before);
    // Archived, the key cannot be chosen (R-SCH-5): the message says to restore it first.
    b.archive_key("profile.l").unwrap();
    let e = b.merge(&p, &s, &MergeChoices::new()).unwrap_err();
    assert!(
        e.to_string().contains("the key is archived: restore it"),
        "{e}"
    );
    b.restore_key("profile.l").unwrap();
    assert_eq!(snapshot(&b), before);
    // Choosing one side keeps the list under the limit.
    let mut ch = MergeChoices::new();
    ch.insert("profile.l".into(), Side::Secondary);
    let m = b.merge(&p, &s, &ch).unwrap();
    assert_eq!(
        m.contact.to_json()["profile"]["l"]
            .as_array()
            .unwrap()
            .len(),
        60
    );
}

/// R-SCH-7 on a merge's `tags`: over 200, the message counts them and says to choose a
/// side, which then merges.
#[test]
fn r_sch_7_merge_of_tags_past_200_says_how_many_and_what_to_do() {
    let b = book_at("2025-06-01T00:00:00Z");
    let lead = |email: &str, prefix: &str, n: usize| {
        let mut l = NewLead::email(email);
        l.tags = (0..n).map(|i| format!("{prefix}{i}")).collect();
        b.add_lead(l).unwrap().id
    };
    let (p, s) = (lead("p@x.com", "p", 150), lead("s@x.com", "s", 100));
    let e = b.merge(&p, &s, &MergeChoices::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(
        e.to_string()
            .contains("would be 250; choose one side's tags"),
        "{e}"
    );
    let mut ch = MergeChoices::new();
    ch.insert("tags".into(), Side::Primary);
    assert_eq!(b.merge(&p, &s, &ch).unwrap().contact.tags.len(), 150);
}

/// R-SCH-7 on a unification started by a manager's edit (R-UNI-2/3: a never-booted lead is
/// merged at once, "tags and lists are unioned"): over a limit, the write is rejected whole.
#[test]
fn r_sch_7_unification_by_edit_over_a_limit_is_rejected_whole() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.l", FieldType::List).unwrap();
    let lead = b.add_lead(NewLead::email("k@x.com")).unwrap().id;
    b.update(&lead, &json!({"profile.l": list_of(150, "a")}))
        .unwrap();
    let m = b
        .boot(Boot {
            member_id: Some("m-1".into()),
            ..Boot::default()
        })
        .unwrap()
        .id;
    b.update(&m, &json!({"profile.l": list_of(60, "b")}))
        .unwrap();
    let before = snapshot(&b);
    let e = b
        .update(&m, &json!({"profile.email": "k@x.com"}))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    assert_eq!(snapshot(&b), before);
}

/// R-SCH-7 on an unmerge (R-CON-8 puts back pre-merge values on the survivor): a put-back
/// that would break a limit is rejected whole ("nothing is truncated").
#[test]
fn r_sch_7_unmerge_over_a_limit_is_rejected() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.big", FieldType::String).unwrap();
    let p = b.add_lead(NewLead::email("p@x.com")).unwrap().id;
    let s = b.add_lead(NewLead::email("s@x.com")).unwrap().id;
    for i in 0..20 {
        b.define_key(&format!("profile.s{i}"), FieldType::String)
            .unwrap();
    }
    // The primary holds `big`; the merge takes the secondary's short one.
    b.update(&p, &json!({"profile.big": "p".repeat(500)}))
        .unwrap();
    b.update(&s, &json!({"profile.big": "s"})).unwrap();
    let mut ch = MergeChoices::new();
    ch.insert("profile.big".into(), Side::Secondary);
    let m = b.merge(&p, &s, &ch).unwrap();
    // Since the merge the survivor has grown to just under the limit.
    let mut patch = serde_json::Map::new();
    for i in 0..20 {
        patch.insert(format!("profile.s{i}"), json!("x".repeat(500)));
    }
    b.update(&p, &serde_json::Value::Object(patch.clone()))
        .unwrap();
    // Fill up to ~15,100 bytes with more keys.
    let size = |b: &ContactBook| {
        let c = all(b).into_iter().find(|c| c.id == p).unwrap();
        serde_json::to_string(&c.to_json()["profile"])
            .unwrap()
            .len()
    };
    let mut i = 20;
    while size(&b) + 520 < 15_360 {
        b.define_key(&format!("profile.s{i}"), FieldType::String)
            .unwrap();
        b.update(&p, &json!({format!("profile.s{i}"): "x".repeat(500)}))
            .unwrap();
        i += 1;
    }
    assert!(size(&b) + 499 > 15_360 - 10);
    let before = snapshot(&b);
    let e = b.unmerge(&m.merge_id).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    assert_eq!(snapshot(&b), before);
}

/// R-SCH-5: an archived key "is no longer collected (writes to it are rejected with a clear
/// error) ... its stored values are kept. Restoring it brings the old values back." A merge
/// choice writes the key it names: naming an archived key is rejected and changes nothing,
/// and the primary's stored value comes back on restore.
#[test]
fn r_sch_5_a_merge_choice_naming_an_archived_key_is_rejected() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.city", FieldType::String).unwrap();
    let p = b
        .add_lead(NewLead {
            profile: obj(json!({"city": "Seoul"})),
            ..NewLead::email("p@example.com")
        })
        .unwrap();
    let s = b
        .add_lead(NewLead {
            profile: obj(json!({"city": "Busan"})),
            ..NewLead::email("s@example.com")
        })
        .unwrap();
    b.archive_key("profile.city").unwrap();
    let mut choices = MergeChoices::new();
    choices.insert("profile.city".into(), Side::Secondary);
    let before = snapshot(&b);
    let e = b.merge(&p.id, &s.id, &choices).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(e.key(), Some("profile.city"));
    assert!(e.to_string().contains("archived"), "{e}");
    assert_eq!(snapshot(&b), before);
    // Without the choice the merge keeps the primary's stored value, as R-CON-8's default.
    b.merge(&p.id, &s.id, &MergeChoices::new()).unwrap();
    b.restore_key("profile.city").unwrap();
    assert_eq!(
        b.get(&p.id).unwrap().profile.get("city"),
        Some(&rolodex::Value::String("Seoul".into()))
    );
}

/// R-SCH-5: writes to an archived key are rejected, with a clear error. A key archived
/// while an import runs is written by no later row: those rows fail, naming the key (the
/// failure log can be fixed and uploaded again), and the rows before keep what they wrote.
#[test]
fn r_sch_5_a_key_archived_while_an_import_runs_is_written_no_more() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.city", FieldType::String).unwrap();
    let other = b.clone();
    let text = "profile.email,profile.city,unsubscribeEmail,unsubscribeTexting\n\
                a@example.com,Seoul,false,false\n\
                b@example.com,Busan,false,false\n\
                c@example.com,,false,false\n";
    let mut archive_after_first = |p: rolodex::Progress| {
        if p.rows_done == 1 {
            other.archive_key("profile.city").unwrap();
        }
    };
    let r = b
        .import_csv(
            rolodex::ImportSource::reader(std::io::Cursor::new(text.as_bytes().to_vec())),
            ImportOptions {
                file_name: Some("f.csv".into()),
                ..leads()
            },
            Some(&mut archive_after_first),
        )
        .unwrap();
    // Row 3 leaves the key empty (kept): it writes nothing to it and applies.
    assert_eq!((r.created, r.failed), (2, 1), "{r:?}");
    assert_eq!(r.failures[0].row_number, 3);
    assert_eq!(r.failures[0].error_columns, vec!["profile.city"]);
    assert!(r.failures[0].error_reasons[0].contains("archived"));
    b.restore_key("profile.city").unwrap();
    let cities: Vec<Option<rolodex::Value>> = all(&b)
        .iter()
        .map(|c| c.profile.get("city").cloned())
        .collect();
    assert_eq!(
        cities,
        vec![Some(rolodex::Value::String("Seoul".into())), None]
    );
}

/// R-SCH-7: "a list ≤ 200 items"; R-IMP-8: list-typed fields append "dropping values
/// already present". The limit counts the tags a contact holds, on every path alike: 201
/// tags of which 200 differ are 200 tags, from an import cell as from an edit.
#[test]
fn r_sch_7_repeated_tags_count_once_on_every_path() {
    let b = book_at("2025-06-01T00:00:00Z");
    let mut tags: Vec<String> = (0..200).map(|i| format!("t{i}")).collect();
    tags.push("t0".into());
    let a = b.add_lead(NewLead::email("a@example.com")).unwrap();
    b.update(&a.id, &json!({ "tags": tags })).unwrap();
    assert_eq!(b.get(&a.id).unwrap().tags.len(), 200);
    let cell = serde_json::to_string(&tags).unwrap().replace('"', "\"\"");
    let text = format!(
        "profile.email,tags,unsubscribeEmail,unsubscribeTexting\nd@example.com,\"{cell}\",false,false\n"
    );
    let r = import_named(&b, "t.csv", &text, leads()).unwrap();
    assert_eq!((r.created, r.failed), (1, 0), "{:?}", r.failures);
    let d = all(&b)
        .into_iter()
        .find(|c| c.email() == Some("d@example.com"))
        .unwrap();
    assert_eq!(d.tags.len(), 200);
    // 201 different tags are too many on both paths.
    tags.push("t200".into());
    let e = b.update(&a.id, &json!({ "tags": tags })).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let cell = serde_json::to_string(&tags).unwrap().replace('"', "\"\"");
    let text = format!(
        "profile.email,tags,unsubscribeEmail,unsubscribeTexting\ne@example.com,\"{cell}\",false,false\n"
    );
    let r = import_named(&b, "t.csv", &text, leads()).unwrap();
    assert_eq!((r.created, r.failed), (0, 1));
}
