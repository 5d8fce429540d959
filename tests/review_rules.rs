//! Export, merge/unmerge, delete/block and bulk actions: rule sentences the
//! vector runner has no op for, checked through the public API only. Each expectation is
//! quoted from RULES.md next to its assertion.

use rolodex::{
    ActivityQuery, Boot, ContactBook, ErrorKind, ExportOptions, Manager, Medium, MergeChoices,
    NewLead, Permission,
};
use serde_json::json;

mod support;
use support::{all, book_at, f, t};

fn protected(reason: &str) -> ExportOptions {
    ExportOptions {
        password: Some("abc12!".into()),
        reason: Some(reason.into()),
        ..ExportOptions::default()
    }
}

fn login(book: &ContactBook, member: &str) -> rolodex::Contact {
    book.boot(Boot {
        member_id: Some(member.into()),
        ..Boot::default()
    })
    .unwrap()
}

/// R-EXP-4: "By default one manager may start a protected contacts export at most once per
/// 30 minutes ... an early attempt fails with `RateLimited`." Unprotected exports are not
/// limited and do not start the interval; another manager has an interval of its own; at
/// exactly 30 minutes the next protected export is allowed.
#[test]
fn r5_exp_4_default_interval_is_30_minutes_per_manager_and_protected_only() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.add_lead(NewLead::email("a@x.com")).unwrap();
    let o = b.as_manager(Manager::owner("o"));
    let p = b.as_manager(Manager::owner("p"));
    // Plain exports never count.
    o.export_csv(Vec::new(), ExportOptions::default()).unwrap();
    o.export_csv(Vec::new(), protected("first")).unwrap();
    b.set_clock(Some(t("2025-06-01T00:01:00Z"))).unwrap();
    o.export_csv(Vec::new(), ExportOptions::default())
        .expect("an unprotected export is not rate-limited");
    b.set_clock(Some(t("2025-06-01T00:29:59Z"))).unwrap();
    let mut out = Vec::new();
    let e = o.export_csv(&mut out, protected("early")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::RateLimited, "{e}");
    assert!(out.is_empty(), "an early attempt writes nothing");
    p.export_csv(Vec::new(), protected("other manager"))
        .expect("the interval is per manager");
    b.set_clock(Some(t("2025-06-01T00:30:00Z"))).unwrap();
    o.export_csv(Vec::new(), protected("again"))
        .expect("30 minutes later the next protected export may start");
    let log = b
        .activity_log(&ActivityQuery {
            action: Some("export".into()),
            ..ActivityQuery::default()
        })
        .unwrap();
    // Five exports done (two plain, three protected); the refused one is not logged.
    assert_eq!(log.len(), 5, "{log:?}");
    assert_eq!(log[0].reason.as_deref(), Some("again"));
    assert_eq!(log[0].manager_id.as_deref(), Some("o"));
}

/// R-EXP-4: "a password of at least 6 characters with at least one letter, one digit and
/// one symbol" — a non-ASCII letter is a letter; a password without a letter is refused
/// with `Validation` and starts no interval.
#[test]
fn r5_exp_4_password_letter_may_be_non_ascii() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.add_lead(NewLead::email("a@x.com")).unwrap();
    let o = b.as_manager(Manager::owner("o"));
    let e = o
        .export_csv(
            Vec::new(),
            ExportOptions {
                password: Some("123456!".into()),
                reason: Some("r".into()),
                ..ExportOptions::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    o.export_csv(
        Vec::new(),
        ExportOptions {
            password: Some("é12345!".into()),
            reason: Some("r".into()),
            ..ExportOptions::default()
        },
    )
    .expect("é is a letter");
}

/// R-EXP-4: "at least 6 characters with at least one letter, one digit and one symbol" —
/// each character counts once, in one class by its Unicode category: a Roman numeral is a
/// number and not also the letter; a combining mark is part of the character before it;
/// an invisible control or format character is neither a character nor the symbol; text
/// counts as its NFC form, so Hangul typed as jamo counts as its syllables.
#[test]
fn r_exp_4_each_password_character_is_of_one_class() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.add_lead(NewLead::email("a@x.com")).unwrap();
    b.set_export_interval(std::time::Duration::from_secs(0))
        .unwrap();
    let o = b.as_manager(Manager::owner("o"));
    let export = |pw: &str| {
        o.export_csv(
            Vec::new(),
            ExportOptions {
                password: Some(pw.into()),
                reason: Some("r".into()),
                ..ExportOptions::default()
            },
        )
        .map(|_| ())
        .map_err(|e| (e.kind(), e.to_string()))
    };
    for (pw, lacks) in [
        ("Ⅷ!!!!!", "a letter"),
        ("ⅷⅷⅷⅷⅷ!", "a letter"),
        (
            "ab1\u{301}\u{301}\u{301}",
            "at least 6 characters, a symbol",
        ),
        ("abc1\u{0}x", "at least 6 characters, a symbol"),
        ("abcde1\u{200B}", "a symbol"),
        ("abcde1\u{AD}", "a symbol"),
        ("ab 1 cd", "a symbol"),
        (
            "\u{1100}\u{1161}\u{1102}\u{1161}1!",
            "at least 6 characters",
        ),
    ] {
        let (kind, message) = export(pw).unwrap_err();
        assert_eq!(kind, ErrorKind::Validation, "{pw:?}");
        assert!(
            message.contains(&format!("lacks {lacks}")),
            "{pw:?}: {message}"
        );
    }
    for pw in [
        "abc²!!",
        "Ⅷa!!!!",
        "ab1\u{301}!xy",
        "비밀번호1!",
        "a1 !bc",
        "ab1👨\u{200D}👩\u{200D}👧!",
    ] {
        export(pw).unwrap_or_else(|e| panic!("{pw:?}: {e:?}"));
    }
}

/// R-CON-7: bulk actions apply "on every contact matching a filter"; R-FLT-6: "Blocked and
/// hidden contacts never appear in search, filters or segments, unless the caller asks for
/// the blocked (or hidden) listing explicitly." So a filter target leaves them alone.
#[test]
fn r5_con_7_filter_target_leaves_hidden_and_blocked_contacts_alone() {
    let b = book_at("2025-06-01T00:00:00Z");
    let hidden = b.add_lead(NewLead::email("h@x.com")).unwrap();
    b.set_clock(Some(t("2025-06-02T00:00:00Z"))).unwrap();
    let blocked = b.add_lead(NewLead::email("b@x.com")).unwrap();
    let a = b.add_lead(NewLead::email("a@x.com")).unwrap();
    let c = b.add_lead(NewLead::email("c@x.com")).unwrap();
    b.block(vec![blocked.id.clone()]).unwrap();
    b.set_mu_limit(Some(2)).unwrap();
    assert!(b.get(&hidden.id).unwrap().hidden);
    let everyone = f(json!({}));
    let r = b.add_tags(everyone.clone(), &["vip"]).unwrap();
    assert_eq!((r.done, r.failed.len()), (2, 0), "{r:?}");
    let r = b.set_opt_out(everyone, Medium::Email, true).unwrap();
    assert_eq!(r.done, 2);
    for id in [&a.id, &c.id] {
        let x = b.get(id).unwrap();
        assert_eq!(x.tags, ["vip"]);
        assert_eq!(x.unsubscribe_email, Some(true));
    }
    for id in [&hidden.id, &blocked.id] {
        let x = b.get(id).unwrap();
        assert!(x.tags.is_empty(), "{x:?}");
        assert_eq!(x.unsubscribe_email, None);
    }
}

/// R-CON-5: "Deleting contacts (one or many, or by `memberId` when a member leaves the site)
/// erases the profile for good ... Merge snapshots ... that hold its data are purged with
/// it ... A later visit by the same person creates a new contact with a new id." R-EXP-5:
/// "`deleteContacts` to delete ... deletes ... are written to an activity log (who, what,
/// when, how many)". Deleting the survivor of two merged members by its memberId: the
/// merge can no longer be undone, and a login with the secondary's memberId makes a new
/// contact; the entry names the manager and counts one contact.
#[test]
fn r5_con_5_delete_by_member_id_of_a_merge_survivor() {
    let b = book_at("2025-06-01T00:00:00Z");
    let m1 = login(&b, "m1");
    let m2 = login(&b, "m2");
    let merged = b.merge(&m1.id, &m2.id, &MergeChoices::new()).unwrap();
    let editor = b.as_manager(Manager::member("ed", &[Permission::EditContacts]));
    let e = editor.delete_by_member_id("m1").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert!(e.to_string().contains("deleteContacts"), "{e}");
    assert_eq!(all(&b).len(), 1, "a denied delete changes nothing");
    b.set_clock(Some(t("2025-06-01T01:00:00Z"))).unwrap();
    let deleter = b.as_manager(Manager::member("del", &[Permission::DeleteContacts]));
    deleter.delete_by_member_id("m1").unwrap();
    assert!(all(&b).is_empty());
    assert_eq!(
        b.unmerge(&merged.merge_id).unwrap_err().kind(),
        ErrorKind::Conflict
    );
    let again = login(&b, "m2");
    assert!(again.id != m1.id && again.id != m2.id);
    assert_eq!(again.member_id.as_deref(), Some("m2"));
    assert_eq!(again.session_count, 1, "none of the old data");
    let log = b
        .activity_log(&ActivityQuery {
            action: Some("delete".into()),
            ..ActivityQuery::default()
        })
        .unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].manager_id.as_deref(), Some("del"));
    assert_eq!(log[0].count, 1);
    assert_eq!(log[0].at, t("2025-06-01T01:00:00Z"));
}
