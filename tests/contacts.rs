//! Contact lifecycle, identity, unification, MU and permissions, each test named after the
//! rule it checks (R-CON, R-UNI, R-MU, R-EXP-5), through the public API.

use rolodex::{
    ActivityQuery, Boot, ContactBook, ErrorKind, FieldType, Manager, Medium, MergeChoices, NewLead,
    Permission, Side,
};
use serde_json::json;

mod support;
use support::{book_at, t};

fn boot_profile(p: serde_json::Value) -> Boot {
    Boot {
        profile: p.as_object().unwrap().clone(),
        ..Boot::default()
    }
}

fn boot_id(id: &str) -> Boot {
    Boot {
        contact_id: Some(id.into()),
        ..Boot::default()
    }
}

fn login(id: Option<&str>, member: &str) -> Boot {
    Boot {
        contact_id: id.map(str::to_string),
        member_id: Some(member.into()),
        ..Boot::default()
    }
}

#[test]
fn r_con_1_add_lead_needs_email_or_mobile_and_sets_fields() {
    let b = book_at("2025-06-01T00:00:00Z");
    let e = b
        .add_lead(NewLead::default().with_name("Nobody"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(b.mu_count().unwrap(), 0);

    let c = b.add_lead(NewLead::mobile("+82 010-2020-3030")).unwrap();
    assert_eq!(c.mobile_number(), Some("+821020203030"));
    assert!(c.verified.mobile_number);
    assert_eq!(c.created_at, t("2025-06-01T00:00:00Z"));
    assert_eq!(c.last_seen_at, c.created_at);
    assert_eq!(c.session_count, 0);
    assert!(!c.booted);
    assert_eq!(c.unsubscribe_email, None);
    assert!(c.tags.is_empty());
}

#[test]
fn r_con_1_duplicate_verified_info_is_already_exists_with_details() {
    let b = book_at("2025-06-01T00:00:00Z");
    let kim = b.add_lead(NewLead::email("kim@example.com")).unwrap();
    b.block(vec![kim.id.clone()]).unwrap();
    match b.add_lead(NewLead::email("KIM@example.com")).unwrap_err() {
        rolodex::Error::AlreadyExists {
            id,
            hidden,
            blocked,
            ..
        } => {
            assert_eq!(id, kim.id);
            assert!(blocked);
            assert!(!hidden);
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
}

#[test]
fn r_con_1_only_unverified_holders_do_not_block_a_new_lead() {
    let b = book_at("2025-06-01T00:00:00Z");
    let visitor = b
        .boot(boot_profile(json!({"email": "v@example.com"})))
        .unwrap();
    assert!(!visitor.verified.email);
    let lead = b.add_lead(NewLead::email("v@example.com")).unwrap();
    assert_ne!(lead.id, visitor.id);
    assert!(lead.verified.email);
    assert_eq!(b.mu_count().unwrap(), 2, "MU rises: both hold the email");
}

#[test]
fn r_con_2_unverified_never_overwrites_verified_and_verify_works() {
    let b = book_at("2025-06-01T00:00:00Z");
    let c = b.add_lead(NewLead::email("a@example.com")).unwrap();
    let after = b
        .boot(Boot {
            contact_id: Some(c.id.clone()),
            profile: json!({"email": "other@example.com", "mobileNumber": "+821011112222"})
                .as_object()
                .unwrap()
                .clone(),
            ..Boot::default()
        })
        .unwrap();
    assert_eq!(after.email(), Some("a@example.com"));
    assert!(after.verified.email);
    assert_eq!(after.mobile_number(), Some("+821011112222"));
    assert!(!after.verified.mobile_number);
    let v = b.verify(&c.id, "profile.mobileNumber").unwrap();
    assert!(v.verified.mobile_number);
    let e = b.verify(&c.id, "profile.name").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
}

#[test]
fn r_con_3_sessions_follow_the_30_minute_window() {
    let b = book_at("2025-06-01T00:00:00Z");
    let c = b.boot(Boot::default()).unwrap();
    assert_eq!(c.session_count, 1, "first boot starts session 1");
    assert!(c.booted);
    b.set_clock(Some(t("2025-06-01T00:30:00Z"))).unwrap();
    let c = b.boot(boot_id(&c.id)).unwrap();
    assert_eq!(c.session_count, 1, "exactly 30 minutes is the same session");
    b.set_clock(Some(t("2025-06-01T01:00:01Z"))).unwrap();
    let c = b.boot(boot_id(&c.id)).unwrap();
    assert_eq!(c.session_count, 2);
    assert_eq!(c.last_seen_at, t("2025-06-01T01:00:01Z"));
}

#[test]
fn r_con_3_hand_added_lead_first_boot_starts_session_one() {
    let b = book_at("2025-06-01T00:00:00Z");
    let c = b.add_lead(NewLead::email("a@example.com")).unwrap();
    let c = b.boot(boot_id(&c.id)).unwrap();
    assert_eq!(c.session_count, 1);
}

#[test]
fn r_con_3_boot_never_fails_on_data() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.city", FieldType::String).unwrap();
    b.define_key("profile.old", FieldType::String).unwrap();
    b.archive_key("profile.old").unwrap();
    let c = b
        .boot(Boot {
            member_id: Some("null".into()),
            profile: json!({"city": "Seoul", "old": "x", "nope": 1, "email": "not an email",
                             "mobileNumber": "000"})
            .as_object()
            .unwrap()
            .clone(),
            ..Boot::default()
        })
        .unwrap();
    assert_eq!(c.member_id, None, "a junk memberId makes an anonymous boot");
    assert_eq!(
        c.profile.get("city").map(|v| v.canonical()),
        Some("Seoul".into())
    );
    assert!(!c.profile.contains_key("old"));
    assert!(c.email().is_none());
    assert_eq!(b.mu_count().unwrap(), 0);
}

#[test]
fn r_con_3_blocked_contact_boot_counts_no_session() {
    let b = book_at("2025-06-01T00:00:00Z");
    let c = b.add_lead(NewLead::email("a@example.com")).unwrap();
    b.block(vec![c.id.clone()]).unwrap();
    let after = b.boot(boot_id(&c.id)).unwrap();
    assert!(after.blocked);
    assert_eq!(after.session_count, 0);
    assert_eq!(b.mu_count().unwrap(), 0);
}

/// R-CON-3: "a contact's first boot starts session 1" — its first boot that counts: a boot
/// while blocked "counts no session", so once unblocked its next visit starts session 1,
/// even within 30 minutes of the blocked one, and the window goes on from there.
#[test]
fn r_con_3_first_boot_after_blocked_visits_starts_session_one() {
    let b = book_at("2025-06-01T00:00:00Z");
    let c = b.add_lead(NewLead::email("a@example.com")).unwrap();
    b.block(vec![c.id.clone()]).unwrap();
    b.set_clock(Some(t("2025-06-01T03:00:00Z"))).unwrap();
    assert_eq!(b.boot(boot_id(&c.id)).unwrap().session_count, 0);
    b.unblock(vec![c.id.clone()]).unwrap();
    b.set_clock(Some(t("2025-06-01T03:05:00Z"))).unwrap();
    let first = b.boot(boot_id(&c.id)).unwrap();
    assert_eq!(
        (first.session_count, first.blocked, first.hidden),
        (1, false, false)
    );
    b.set_clock(Some(t("2025-06-01T03:35:00Z"))).unwrap();
    assert_eq!(b.boot(boot_id(&c.id)).unwrap().session_count, 1);
    b.set_clock(Some(t("2025-06-01T04:05:00.001Z"))).unwrap();
    assert_eq!(b.boot(boot_id(&c.id)).unwrap().session_count, 2);
}

#[test]
fn r_con_4_login_makes_a_member_and_finds_it_again() {
    let b = book_at("2025-06-01T00:00:00Z");
    let anon = b.boot(Boot::default()).unwrap();
    let m = b.boot(login(Some(&anon.id), "m-1001")).unwrap();
    assert_eq!(m.id, anon.id);
    assert!(m.member);
    assert_eq!(m.member_id.as_deref(), Some("m-1001"));
    assert_eq!(b.mu_count().unwrap(), 1);
    let again = b.boot(login(None, "m-1001")).unwrap();
    assert_eq!(again.id, m.id);
}

#[test]
fn r_con_5_delete_is_for_good_and_purges_merges() {
    let b = book_at("2025-06-01T00:00:00Z");
    let a = b.add_lead(NewLead::email("a@example.com")).unwrap();
    let s = b.add_lead(NewLead::email("s@example.com")).unwrap();
    let r = b.merge(&a.id, &s.id, &MergeChoices::new()).unwrap();
    let res = b.delete(vec![a.id.clone()]).unwrap();
    assert_eq!(res.done, 1);
    assert_eq!(b.get(&a.id).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(
        b.unmerge(&r.merge_id).unwrap_err().kind(),
        ErrorKind::Conflict
    );
    // A later visit with the old id creates a new contact.
    let again = b.boot(boot_id(&a.id)).unwrap();
    assert_ne!(again.id, a.id);
    let res = b.delete(vec![a.id.clone()]).unwrap();
    assert_eq!(res.done, 0);
    assert_eq!(res.failed.len(), 1);
}

#[test]
fn r_con_5_delete_by_member_id() {
    let b = book_at("2025-06-01T00:00:00Z");
    let m = b.boot(login(None, "m-1")).unwrap();
    b.delete_by_member_id("m-1").unwrap();
    assert_eq!(b.get(&m.id).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(
        b.delete_by_member_id("m-1").unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

#[test]
fn r_con_6_block_and_unblock_with_mu_limit() {
    let b = book_at("2025-06-01T00:00:00Z");
    let a = b.add_lead(NewLead::email("a@example.com")).unwrap();
    b.set_clock(Some(t("2025-06-02T00:00:00Z"))).unwrap();
    let c = b.add_lead(NewLead::email("c@example.com")).unwrap();
    b.set_mu_limit(Some(1)).unwrap();
    assert!(b.get(&a.id).unwrap().hidden, "oldest hidden");
    b.block(vec![c.id.clone()]).unwrap();
    assert!(!b.get(&a.id).unwrap().hidden, "blocking frees room");
    assert_eq!(b.blocked().unwrap().len(), 1);
    assert_eq!(b.mu_count().unwrap(), 1);
    b.unblock(vec![c.id.clone()]).unwrap();
    let c2 = b.get(&c.id).unwrap();
    assert!(!c2.blocked);
    assert!(c2.hidden, "unblocked contact that does not fit is hidden");
    assert_eq!(b.mu_count().unwrap(), 1);
}

#[test]
fn r_con_7_bulk_actions_count_done_and_failed() {
    let b = book_at("2025-06-01T00:00:00Z");
    let a = b.add_lead(NewLead::email("a@example.com")).unwrap();
    let r = b
        .add_tags(
            vec![a.id.clone(), "c_missing".into()],
            &["vip/gold", "sale"],
        )
        .unwrap();
    assert_eq!(r.done, 1);
    assert_eq!(r.failed[0].id, "c_missing");
    assert_eq!(b.get(&a.id).unwrap().tags, vec!["vip/gold", "sale"]);
    let e = b.add_tags(vec![a.id.clone()], &["bad.tag"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    b.remove_tags(vec![a.id.clone()], &["vip"]).unwrap();
    assert_eq!(b.get(&a.id).unwrap().tags, vec!["sale"]);
    b.set_opt_out(vec![a.id.clone()], Medium::Email, true)
        .unwrap();
    assert_eq!(b.get(&a.id).unwrap().unsubscribe_email, Some(true));
    let log = b.activity_log(&ActivityQuery::default()).unwrap();
    assert_eq!(log[0].action, "setOptOut");
    assert_eq!(log.len(), 3);
}

#[test]
fn r_con_8_merge_choices_union_and_exact_unmerge() {
    let b = book_at("2025-06-01T00:00:00Z");
    let p = b
        .add_lead(NewLead {
            email: Some("p@example.com".into()),
            name: Some("Primary".into()),
            tags: vec!["a".into()],
            ..NewLead::default()
        })
        .unwrap();
    b.set_clock(Some(t("2025-06-03T00:00:00Z"))).unwrap();
    let s = b
        .add_lead(NewLead {
            mobile_number: Some("+821011112222".into()),
            name: Some("Secondary".into()),
            tags: vec!["b".into()],
            ..NewLead::default()
        })
        .unwrap();
    let mut choices = MergeChoices::new();
    choices.insert("profile.name".into(), Side::Secondary);
    let r = b.merge(&p.id, &s.id, &choices).unwrap();
    let m = r.contact;
    assert_eq!(m.id, p.id);
    assert_eq!(m.name(), Some("Secondary"));
    assert_eq!(m.mobile_number(), Some("+821011112222"));
    assert_eq!(m.tags, vec!["a", "b"]);
    assert_eq!(m.created_at, t("2025-06-01T00:00:00Z"));
    assert_eq!(m.last_seen_at, t("2025-06-03T00:00:00Z"));
    assert_eq!(b.mu_count().unwrap(), 1);
    assert_eq!(
        b.get(&s.id).unwrap().id,
        p.id,
        "the secondary id leads to the survivor"
    );

    // A field changed since the merge keeps its new value on unmerge.
    b.update(&p.id, &json!({"tags": ["z"]})).unwrap();
    let (survivor, back) = b.unmerge(&r.merge_id).unwrap();
    assert_eq!(survivor.name(), Some("Primary"));
    assert_eq!(survivor.mobile_number(), None);
    assert_eq!(survivor.tags, vec!["z"]);
    assert_eq!(back.id, s.id);
    assert_eq!(back.name(), Some("Secondary"));
    assert_eq!(b.get(&s.id).unwrap().tags, vec!["b"]);
    assert_eq!(b.mu_count().unwrap(), 2);
    assert_eq!(
        b.unmerge(&r.merge_id).unwrap_err().kind(),
        ErrorKind::Conflict
    );
}

/// R-CON-7 counts contacts: an id named twice in a bulk target is one contact, done once.
#[test]
fn r_con_7_an_id_named_twice_is_one_contact() {
    let b = book_at("2025-06-01T00:00:00Z");
    let a = b.add_lead(NewLead::email("a@example.com")).unwrap();
    let r = b
        .add_tags(vec![a.id.clone(), a.id.clone()], &["x"])
        .unwrap();
    assert_eq!((r.done, r.failed.len()), (1, 0));
    let r = b.delete(vec![a.id.clone(), a.id.clone()]).unwrap();
    assert_eq!((r.done, r.failed.len()), (1, 0));
}

/// API.md errors: merge choices naming a key the schema does not hold are `NotFound` (an
/// unknown key named outside a filter or mapping); naming a system field that is not a
/// choice (`createdAt`) is `Validation`. Neither merges anything.
#[test]
fn r_con_8_merge_choices_name_known_choosable_keys() {
    let b = book_at("2025-06-01T00:00:00Z");
    let a = b.add_lead(NewLead::email("a@example.com")).unwrap();
    let c = b.add_lead(NewLead::email("c@example.com")).unwrap();
    for (key, kind) in [
        ("profile.nosuchKey", ErrorKind::NotFound),
        ("city", ErrorKind::NotFound),
        ("createdAt", ErrorKind::Validation),
    ] {
        let mut choices = MergeChoices::new();
        choices.insert(key.into(), Side::Secondary);
        let e = b.merge(&a.id, &c.id, &choices).unwrap_err();
        assert_eq!(e.kind(), kind, "{key}: {e}");
        assert!(e.to_string().contains(key), "{e}");
        assert_eq!(b.get(&c.id).unwrap().id, c.id, "nothing merged");
    }
    let mut choices = MergeChoices::new();
    choices.insert("unsubscribeEmail".into(), Side::Secondary);
    assert!(b.merge(&a.id, &c.id, &choices).is_ok());
}

/// R-SCH-7 holds for merged values too: a merged list of numbers past 200 items is a
/// `Validation` error, and nothing is merged.
#[test]
fn r_sch_7_merge_keeps_number_lists_within_200_items() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.scores", FieldType::ListOfNumber)
        .unwrap();
    let lead = |email: &str, from: u32| NewLead {
        email: Some(email.into()),
        profile: json!({"scores": (from..from + 200).collect::<Vec<u32>>()})
            .as_object()
            .unwrap()
            .clone(),
        ..NewLead::default()
    };
    let a = b.add_lead(lead("a@example.com", 0)).unwrap();
    let c = b.add_lead(lead("c@example.com", 200)).unwrap();
    let e = b.merge(&a.id, &c.id, &MergeChoices::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(e.key(), Some("profile.scores"));
    assert_eq!(b.get(&c.id).unwrap().id, c.id, "nothing merged");
}

/// R-MU-2: a limit too large to reach hides nobody, and never overflows.
#[test]
fn r_mu_2_a_huge_limit_hides_nobody() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.add_lead(NewLead::email("a@example.com")).unwrap();
    b.add_lead(NewLead::email("c@example.com")).unwrap();
    for limit in [u64::MAX, i64::MAX as u64 + 1, i64::MAX as u64] {
        b.set_mu_limit(Some(limit)).unwrap();
        assert_eq!(b.mu_count().unwrap(), 2, "{limit}");
    }
    let m = b.boot(login(None, "m-1")).unwrap();
    assert!(!m.hidden);
    assert_eq!(b.mu_count().unwrap(), 3);
}

/// R-CON-3: a boot never fails on data; a `memberId` no member import would accept (too
/// long, R-SCH-7) is dropped and the boot is anonymous.
#[test]
fn r_con_3_a_boot_drops_a_member_id_too_long_to_store() {
    let b = book_at("2025-06-01T00:00:00Z");
    let c = b.boot(login(None, &"m".repeat(513))).unwrap();
    assert!(!c.member);
    assert_eq!(c.member_id, None);
    let ok = b.boot(login(None, &"m".repeat(512))).unwrap();
    assert!(ok.member);
}

/// R-CON-1: a field given both as `email` and as `profile.email` (or mobile, name) must
/// say the same; two different values are a `Validation` error, not a silent choice.
#[test]
fn r_con_1_a_field_given_twice_with_different_values_is_an_error() {
    let b = book_at("2025-06-01T00:00:00Z");
    let twice = |profile: serde_json::Value| NewLead {
        email: Some("new@example.com".into()),
        profile: profile.as_object().unwrap().clone(),
        ..NewLead::default()
    };
    let e = b
        .add_lead(twice(json!({"email": "other@example.com"})))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(e.key(), Some("profile.email"));
    assert_eq!(b.mu_count().unwrap(), 0);
    // The same value twice (emails compare case-insensitively, R-VAL-3) is one value; the
    // field's form is kept.
    let c = b
        .add_lead(twice(json!({"email": "NEW@EXAMPLE.com"})))
        .unwrap();
    assert_eq!(c.email(), Some("new@example.com"));
}

/// R-CON-1: a key given under both of its names (`city` and `profile.city`) is one key. As
/// for a field given twice, both must say the same: two different values are a
/// `Validation` error naming the key (which one was meant would be a guess), and nothing
/// is added; the same value twice is one value, and the other keys keep theirs.
#[test]
fn r_con_1_a_key_under_both_its_names_must_say_the_same() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.city", FieldType::String).unwrap();
    b.define_key("profile.plan", FieldType::String).unwrap();
    let lead = NewLead::email("a@example.com")
        .with_profile("city", "Seoul")
        .with_profile("profile.city", "Busan")
        .with_profile("plan", "pro");
    let e = b.add_lead(lead).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(e.key(), Some("profile.city"));
    assert!(
        e.to_string().contains("twice, with different values"),
        "{e}"
    );
    assert_eq!(b.mu_count().unwrap(), 0);
    // An email under both names compares case-insensitively (R-VAL-3).
    let c = b
        .add_lead(
            NewLead::email("a@example.com")
                .with_profile("city", "Seoul")
                .with_profile("profile.city", "Seoul")
                .with_profile("plan", "pro")
                .with_profile("email", "A@example.com"),
        )
        .unwrap();
    assert_eq!(
        c.profile.get("city"),
        Some(&rolodex::Value::String("Seoul".into()))
    );
    assert_eq!(
        c.profile.keys().map(String::as_str).collect::<Vec<_>>(),
        ["city", "email", "plan"]
    );
    assert_eq!(b.get(&c.id).unwrap().profile, c.profile);
}

/// R-CON-1 for a manager's edit: a patch that names one key twice (flat as `profile.city`
/// and under `profile`) must say the same both times, as a new lead must; a conflicting
/// patch changes nothing.
#[test]
fn r_con_1_an_update_naming_a_key_twice_must_say_the_same() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.city", FieldType::String).unwrap();
    let c = b
        .add_lead(NewLead::email("a@example.com").with_profile("city", "Seoul"))
        .unwrap();
    for patch in [
        json!({"profile.city": "Busan", "profile": {"city": "Daegu"}}),
        json!({"profile": {"city": "Busan", "profile.city": "Daegu"}}),
        json!({"profile.city": null, "profile": {"city": "Daegu"}}),
        json!({"profile.email": "b@example.com", "profile": {"email": "c@example.com"}}),
    ] {
        let e = b.update(&c.id, &patch).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{patch}");
        assert!(
            matches!(e.key(), Some("profile.city" | "profile.email")),
            "{patch}: {e}"
        );
        assert!(
            e.to_string().contains("twice, with different values"),
            "{e}"
        );
        assert_eq!(b.get(&c.id).unwrap(), c, "{patch}");
    }
    // The same value twice is one value; emails compare case-insensitively (R-VAL-3).
    let d = b
        .update(
            &c.id,
            &json!({"profile.city": "Busan", "profile": {"city": "Busan", "email": "A@example.com"},
                    "profile.email": "a@example.com"}),
        )
        .unwrap();
    assert_eq!(
        d.profile.get("city"),
        Some(&rolodex::Value::String("Busan".into()))
    );
    assert!(d
        .email()
        .is_some_and(|e| e.eq_ignore_ascii_case("a@example.com")));
}

/// R-CON-8: a merged-away id leads `get` to the survivor, but a write to it does not act on
/// the survivor behind the caller's back (a stale id could block or delete what the merge
/// made): it is `NotFound`, and the message names the survivor to act on instead. After
/// an unmerge the id is back and writable.
#[test]
fn r_con_8_a_write_to_a_merged_away_id_names_the_survivor() {
    let b = book_at("2025-06-01T00:00:00Z");
    let p = b.add_lead(NewLead::email("p@example.com")).unwrap();
    let s = b.add_lead(NewLead::email("s@example.com")).unwrap();
    let r = b.merge(&p.id, &s.id, &MergeChoices::new()).unwrap();
    assert_eq!(b.get(&s.id).unwrap().id, p.id);
    let e = b
        .update(&s.id, &json!({"profile.name": "Kim"}))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(
        e.to_string()
            .contains(&format!("merged or unified into contact {}", p.id)),
        "{e}"
    );
    let blocked = b.block([s.id.as_str()]).unwrap();
    assert_eq!(blocked.done, 0);
    assert!(blocked.failed[0].reason.contains(&p.id), "{blocked:?}");
    let survivor = b.get(&p.id).unwrap();
    assert!(!survivor.blocked && survivor.name().is_none());
    // An id never known still gets the general hint.
    let e = b.verify("c_nope", "email").unwrap_err();
    assert!(e.to_string().contains("search for it again"), "{e}");
    b.unmerge(&r.merge_id).unwrap();
    assert_eq!(
        b.update(&s.id, &json!({"profile.name": "Lee"}))
            .unwrap()
            .name(),
        Some("Lee")
    );
}

/// R-CON-8 with R-CON-2: unmerge keeps a field changed since the merge, and a contact
/// field's verification goes with its value — an email edited by a manager after the merge
/// stays verified.
#[test]
fn r_con_8_unmerge_keeps_an_edited_email_with_its_verification() {
    let b = book_at("2025-06-01T00:00:00Z");
    let p = b.add_lead(NewLead::mobile("+821033334444")).unwrap();
    let s = b.add_lead(NewLead::email("s@example.com")).unwrap();
    let r = b.merge(&p.id, &s.id, &MergeChoices::new()).unwrap();
    b.update(&p.id, &json!({"profile.email": "new@example.com"}))
        .unwrap();
    let (survivor, _) = b.unmerge(&r.merge_id).unwrap();
    assert_eq!(survivor.email(), Some("new@example.com"));
    assert!(survivor.verified.email);
    assert!(survivor.verified.mobile_number);

    // The other way round: a value only verified since the merge is not swapped for the
    // primary's old unverified value under the new flag.
    let p = b
        .boot(boot_profile(json!({"email": "a@example.com"})))
        .unwrap();
    let s = b
        .boot(boot_profile(json!({"email": "b@example.com"})))
        .unwrap();
    let mut choices = MergeChoices::new();
    choices.insert("profile.email".into(), Side::Secondary);
    let r = b.merge(&p.id, &s.id, &choices).unwrap();
    b.verify(&p.id, "profile.email").unwrap();
    let (survivor, _) = b.unmerge(&r.merge_id).unwrap();
    assert_eq!(survivor.email(), Some("b@example.com"));
    assert!(survivor.verified.email);
}

#[test]
fn r_con_8_merge_preconditions_are_conflicts() {
    let b = book_at("2025-06-01T00:00:00Z");
    let a = b.add_lead(NewLead::email("a@example.com")).unwrap();
    let c = b.add_lead(NewLead::email("c@example.com")).unwrap();
    let d = b.add_lead(NewLead::email("d@example.com")).unwrap();
    let m = MergeChoices::new();
    assert_eq!(
        b.merge(&a.id, &a.id, &m).unwrap_err().kind(),
        ErrorKind::Conflict
    );
    b.block(vec![c.id.clone()]).unwrap();
    let e = b.merge(&a.id, &c.id, &m).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(e.to_string().contains("blocked; unblock it"), "{e}");
    // Hidden: the message says what shows it again; unblocking (which would do nothing)
    // is not offered.
    b.set_mu_limit(Some(1)).unwrap();
    let e = b.merge(&d.id, &a.id, &m).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    let text = e.to_string();
    assert!(text.contains("hidden by the MU limit"), "{text}");
    assert!(text.contains("raise the limit"), "{text}");
    assert!(!text.contains("unblock"), "{text}");
    b.set_mu_limit(None).unwrap();
    b.delete(vec![d.id.clone()]).unwrap();
    assert_eq!(
        b.merge(&a.id, &d.id, &m).unwrap_err().kind(),
        ErrorKind::Conflict
    );
    // Merged again: the first merge can no longer be undone.
    let e = b.add_lead(NewLead::email("e@example.com")).unwrap();
    let f = b.add_lead(NewLead::email("f@example.com")).unwrap();
    let first = b.merge(&a.id, &e.id, &m).unwrap();
    b.merge(&a.id, &f.id, &m).unwrap();
    assert_eq!(
        b.unmerge(&first.merge_id).unwrap_err().kind(),
        ErrorKind::Conflict
    );
}

#[test]
fn r_con_8_two_members_secondary_member_id_reaches_survivor_until_unmerge() {
    let b = book_at("2025-06-01T00:00:00Z");
    let p = b.boot(login(None, "m-p")).unwrap();
    let s = b.boot(login(None, "m-s")).unwrap();
    let r = b.merge(&p.id, &s.id, &MergeChoices::new()).unwrap();
    assert_eq!(r.contact.member_id.as_deref(), Some("m-p"));
    assert_eq!(r.contact.session_count, 2);
    let again = b.boot(login(None, "m-s")).unwrap();
    assert_eq!(again.id, p.id);
    b.unmerge(&r.merge_id).unwrap();
    let back = b.boot(login(None, "m-s")).unwrap();
    assert_eq!(back.id, s.id);
}

#[test]
fn r_con_9_login_as_another_member() {
    let b = book_at("2025-06-01T00:00:00Z");
    let d = b.boot(login(None, "m-d")).unwrap();
    // C without contact info: deleted, returns D.
    let c = b.boot(Boot::default()).unwrap();
    let got = b.boot(login(Some(&c.id), "m-d")).unwrap();
    assert_eq!(got.id, d.id);
    assert_eq!(b.get(&c.id).unwrap_err().kind(), ErrorKind::NotFound);
    // A later boot naming the deleted C creates a new contact; D is untouched.
    let again = b
        .boot(Boot {
            contact_id: Some(c.id.clone()),
            ..boot_profile(json!({"name": "Stranger"}))
        })
        .unwrap();
    assert_ne!(again.id, d.id);
    assert_ne!(again.id, c.id);
    assert_eq!(again.name(), Some("Stranger"));
    let d_now = b.get(&d.id).unwrap();
    assert_eq!(d_now.name(), None);
    assert_eq!(d_now.session_count, got.session_count);
    // C with contact info and no pending unification: left as it is.
    let c2 = b
        .boot(boot_profile(json!({"email": "c2@example.com"})))
        .unwrap();
    let got = b.boot(login(Some(&c2.id), "m-d")).unwrap();
    assert_eq!(got.id, d.id);
    assert_eq!(b.get(&c2.id).unwrap().id, c2.id);
}

#[test]
fn r_con_10_display_name() {
    let b = book_at("2025-06-01T00:00:00Z");
    let c = b
        .add_lead(NewLead {
            email: Some("a@example.com".into()),
            mobile_number: Some("+821020203030".into()),
            ..NewLead::default()
        })
        .unwrap();
    assert_eq!(c.display_name(), Some("+821020203030"));
    let c = b
        .update(&c.id, &json!({"profile": {"name": "Kim"}}))
        .unwrap();
    assert_eq!(c.display_name(), Some("Kim"));
    let c = b
        .update(
            &c.id,
            &json!({"profile.name": null, "profile.mobileNumber": null}),
        )
        .unwrap();
    assert_eq!(c.display_name(), Some("a@example.com"));
}

#[test]
fn r_sch_3_update_rejects_non_editable_keys_naming_them() {
    let b = book_at("2025-06-01T00:00:00Z");
    let c = b.add_lead(NewLead::email("a@example.com")).unwrap();
    for key in ["lastSeenAt", "memberId", "sessionCount", "blocked", "id"] {
        let e = b.update(&c.id, &json!({ key: "x" })).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{key}");
        assert_eq!(e.key(), Some(key));
    }
    // An unknown key named outside a filter or mapping is `NotFound` (API.md), naming it;
    // the patch's other values are not half-applied.
    let e = b
        .update(&c.id, &json!({"profile": {"name": "Kim", "nope": 1}}))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.key(), Some("profile.nope"));
    assert_eq!(b.get(&c.id).unwrap().name(), None);
    let e = b
        .add_lead(NewLead {
            email: Some("n@example.com".into()),
            profile: json!({"nope": "x"}).as_object().unwrap().clone(),
            ..NewLead::default()
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert_eq!(e.key(), Some("profile.nope"));
}

#[test]
fn r_sch_5_archived_values_hidden_and_restored() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.city", FieldType::String).unwrap();
    let c = b
        .add_lead(NewLead {
            email: Some("a@example.com".into()),
            profile: json!({"city": "Seoul"}).as_object().unwrap().clone(),
            ..NewLead::default()
        })
        .unwrap();
    b.archive_key("profile.city").unwrap();
    assert!(!b.get(&c.id).unwrap().profile.contains_key("city"));
    let e = b
        .update(&c.id, &json!({"profile": {"city": "Busan"}}))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    b.restore_key("profile.city").unwrap();
    assert_eq!(
        b.get(&c.id)
            .unwrap()
            .profile
            .get("city")
            .map(|v| v.canonical()),
        Some("Seoul".into())
    );
}

#[test]
fn r_sch_7_limits_enforced_on_manager_writes() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.bio", FieldType::String).unwrap();
    let c = b.add_lead(NewLead::email("a@example.com")).unwrap();
    let e = b
        .update(&c.id, &json!({"profile": {"bio": "x".repeat(513)}}))
        .unwrap_err();
    assert_eq!(e.key(), Some("profile.bio"));
    assert!(e.to_string().contains("512"), "{e}");
    b.update(&c.id, &json!({"profile": {"bio": "x".repeat(512)}}))
        .unwrap();
}

#[test]
fn r_uni_2_3_member_login_unifies_never_booted_lead_at_once() {
    let b = book_at("2025-06-01T00:00:00Z");
    let lead = b
        .add_lead(NewLead {
            email: Some("u@example.com".into()),
            name: Some("Lead U".into()),
            tags: vec!["from-lead".into()],
            ..NewLead::default()
        })
        .unwrap();
    b.set_opt_out(vec![lead.id.clone()], Medium::Email, true)
        .unwrap();
    let member = b
        .add_lead(NewLead::mobile("+821033334444").with_name("Member"))
        .unwrap();
    // The member gains the verified email by a manager's edit after login.
    let m = b.boot(login(Some(&member.id), "mu-1")).unwrap();
    let m = b
        .update(&m.id, &json!({"profile": {"email": "u@example.com"}}))
        .unwrap();
    assert_eq!(m.name(), Some("Member"), "member's values win");
    assert!(m.tags.contains(&"from-lead".to_string()));
    assert_eq!(m.unsubscribe_email, Some(true), "opt-out true stays true");
    assert_eq!(
        b.get(&lead.id).unwrap().id,
        m.id,
        "the lead record disappeared"
    );
    assert_eq!(b.mu_count().unwrap(), 1);
}

#[test]
fn r_uni_4_booted_lead_unifies_on_its_login() {
    let b = book_at("2025-06-01T00:00:00Z");
    let lead = b.add_lead(NewLead::email("u@example.com")).unwrap();
    b.boot(boot_id(&lead.id)).unwrap();
    let m = b.boot(login(None, "mu-9")).unwrap();
    let m = b
        .update(&m.id, &json!({"profile.email": "u@example.com"}))
        .unwrap();
    let pending = b.pending_unifications().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].lead_id, lead.id);
    assert_eq!(pending[0].member_id, m.id);
    assert_eq!(b.mu_count().unwrap(), 2, "MU counts both for a while");
    let after = b.boot(login(Some(&lead.id), "mu-9")).unwrap();
    assert_eq!(after.id, m.id);
    assert!(b.pending_unifications().unwrap().is_empty());
    assert_eq!(b.mu_count().unwrap(), 1);
}

/// R-CON-6 over R-UNI-1..4: blocking loses no data and a blocked contact is listed only as
/// blocked, so a blocked lead is never unified into a member — neither at once (never
/// booted) nor by a pending unification (booted), nor by its own login as that member.
/// R-CON-9 with R-CON-3: a login that completes a pending unification into a blocked
/// member joins the lead into it (the member stays blocked), but a boot of a blocked
/// contact un-hides nothing: the room the lead frees is not filled by this boot.
#[test]
fn r_con_3_blocked_member_completing_a_unification_on_login_unhides_nothing() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.set_mu_limit(Some(2)).unwrap();
    let d = b.boot(login(None, "m-1")).unwrap();
    let c = b.add_lead(NewLead::email("c@example.com")).unwrap();
    b.boot(boot_id(&c.id)).unwrap();
    b.block(vec![d.id.clone()]).unwrap();
    let _h = b.add_lead(NewLead::email("h@example.com")).unwrap();
    let h2 = b.add_lead(NewLead::email("h2@example.com")).unwrap();
    assert!(b.get(&h2.id).unwrap().hidden, "no room for the third");
    b.update(&d.id, &json!({"profile": {"email": "c@example.com"}}))
        .unwrap();
    assert_eq!(b.pending_unifications().unwrap().len(), 1);
    let mu = b.mu_count().unwrap();

    let got = b.boot(login(Some(&c.id), "m-1")).unwrap();
    assert_eq!(got.id, d.id);
    assert!(got.blocked);
    assert_eq!(b.get(&c.id).unwrap().id, d.id, "the lead joined the member");
    assert!(b.pending_unifications().unwrap().is_empty());
    assert!(
        b.get(&h2.id).unwrap().hidden,
        "the blocked login un-hid nothing"
    );
    assert_eq!(
        b.mu_count().unwrap(),
        mu - 1,
        "the lead left MU; its place waits"
    );
    // The place is there for the next contact that counts.
    let later = b.add_lead(NewLead::email("later@example.com")).unwrap();
    assert!(!later.hidden);
    assert_eq!(b.mu_count().unwrap(), mu);
}

#[test]
fn r_con_6_r_uni_blocked_leads_are_never_unified_but_blocked_members_absorb() {
    let b = book_at("2025-06-01T00:00:00Z");
    let quiet = b
        .add_lead(NewLead {
            email: Some("q@example.com".into()),
            name: Some("Quiet".into()),
            tags: vec!["blk".into()],
            ..NewLead::default()
        })
        .unwrap();
    let booted = b.add_lead(NewLead::email("b@example.com")).unwrap();
    b.boot(boot_id(&booted.id)).unwrap();
    assert_eq!(
        b.block(vec![quiet.id.clone(), booted.id.clone()])
            .unwrap()
            .done,
        2
    );

    let m = b.boot(login(None, "mu-1")).unwrap();
    let m = b
        .update(&m.id, &json!({"profile": {"email": "q@example.com"}}))
        .unwrap();
    assert!(m.tags.is_empty(), "nothing of the blocked lead moved in");
    let q = b.get(&quiet.id).unwrap();
    assert_eq!(q.id, quiet.id);
    assert!(q.blocked);
    assert_eq!(q.tags, ["blk"]);

    let m2 = b.boot(login(None, "mu-2")).unwrap();
    b.update(&m2.id, &json!({"profile.email": "b@example.com"}))
        .unwrap();
    assert!(b.pending_unifications().unwrap().is_empty());
    // The blocked lead logs in as that member: the login reaches the member, the lead
    // stays as it was.
    let after = b.boot(login(Some(&booted.id), "mu-2")).unwrap();
    assert_eq!(after.id, m2.id);
    assert!(b.get(&booted.id).unwrap().blocked);

    let mut listed: Vec<String> = b.blocked().unwrap().into_iter().map(|c| c.id).collect();
    listed.sort();
    assert_eq!(listed, [quiet.id.clone(), booted.id.clone()]);
    assert_eq!(b.mu_count().unwrap(), 2, "the two members");
    // Unblocking restores the leads whole.
    b.unblock(vec![quiet.id.clone()]).unwrap();
    assert_eq!(b.mu_count().unwrap(), 3);
    assert_eq!(b.get(&quiet.id).unwrap().name(), Some("Quiet"));

    // A blocked member, though, absorbs a lead like any member (R-UNI-2 names no exception)
    // and stays blocked, as a blocked contact an import row matches does (R-CON-6).
    let lead = b
        .add_lead(NewLead {
            email: Some("l@example.com".into()),
            tags: vec!["from-lead".into()],
            ..NewLead::default()
        })
        .unwrap();
    let m3 = b.boot(login(None, "mu-3")).unwrap();
    b.block(vec![m3.id.clone()]).unwrap();
    let mu = b.mu_count().unwrap();
    b.update(&m3.id, &json!({"profile.email": "l@example.com"}))
        .unwrap();
    let l = b.get(&lead.id).unwrap();
    assert_eq!(l.id, m3.id, "the lead's id leads to the member");
    assert!(l.blocked);
    assert_eq!(l.tags, ["from-lead"]);
    assert_eq!(b.mu_count().unwrap(), mu - 1, "the lead left MU");
}

#[test]
fn r_uni_1_no_unification_through_unverified_info_or_lead_lead() {
    let b = book_at("2025-06-01T00:00:00Z");
    let v = b
        .boot(boot_profile(json!({"email": "x@example.com"})))
        .unwrap();
    let l = b.add_lead(NewLead::email("x@example.com")).unwrap();
    assert_ne!(v.id, l.id);
    let m = b.boot(login(None, "m-x")).unwrap();
    b.update(&m.id, &json!({"profile.email": "x@example.com"}))
        .unwrap();
    // the verified lead was unified; the unverified visitor was not.
    assert_eq!(b.get(&l.id).unwrap().id, m.id);
    assert_eq!(b.get(&v.id).unwrap().id, v.id);
}

#[test]
fn r_uni_5_deterministic_outcome() {
    let run = || {
        let b = book_at("2025-06-01T00:00:00Z");
        b.add_lead(NewLead::email("d@example.com").with_name("L1"))
            .unwrap();
        b.add_lead(NewLead::mobile("+821055556666").with_name("L2"))
            .unwrap();
        let m = b.boot(login(None, "m-d")).unwrap();
        let m = b
            .update(
                &m.id,
                &json!({"profile.email": "d@example.com", "profile.mobileNumber": "+821055556666"}),
            )
            .unwrap();
        m.to_json()
    };
    assert_eq!(run(), run());
}

/// R-UNI-6: "Junk identifiers never join people: a `memberId`, email or number that is
/// empty, only zeros or dashes, or one of `null`, `undefined`, `none`, `anonymous`,
/// `unknown`, `-1` (case-insensitive) is rejected as an identifier". A login naming one is
/// an anonymous visit (a boot never fails, R-CON-3), so two such logins are two people; an
/// import row naming one fails on `memberId`. Dashes are any dash, as typed or pasted.
#[test]
fn r_uni_6_junk_identifiers_rejected() {
    let b = book_at("2025-06-01T00:00:00Z");
    let e = b.add_lead(NewLead::mobile("+00 000")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let junk = [
        "null",
        "UNDEFINED",
        "-1",
        "0000",
        "--",
        "\u{2014}\u{2014}",
        "\u{2212}1",
        "\u{FF10}",
    ];
    for m in junk {
        let first = b.boot(login(None, m)).unwrap();
        let second = b.boot(login(None, m)).unwrap();
        assert_eq!(first.member_id, None, "{m:?}");
        assert_ne!(first.id, second.id, "{m:?} joined two visitors");
        let text = format!(
            "memberId,profile.name,unsubscribeEmail,unsubscribeTexting\n{m},Kim,false,false\n"
        );
        let o = rolodex::ImportOptions {
            auto_map: true,
            ..rolodex::ImportOptions::members()
        };
        let r = support::import_named(&b, "m.csv", &text, o).unwrap();
        assert_eq!((r.created, r.failed), (0, 1), "{m:?}");
        assert_eq!(r.failures[0].error_columns, vec!["memberId"], "{m:?}");
    }
    // Real identifiers that merely hold zeros or dashes stay real.
    for m in ["m-0", "0.0", "\u{2212}2"] {
        assert_eq!(
            b.boot(login(None, m)).unwrap().member_id.as_deref(),
            Some(m)
        );
    }
}

#[test]
fn r_mu_1_count_ignores_landline_blocked_hidden_and_anonymous() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.boot(boot_profile(json!({"landlineNumber": "+8225556666"})))
        .unwrap();
    b.boot(Boot::default()).unwrap();
    assert_eq!(b.mu_count().unwrap(), 0);
    b.boot(boot_profile(json!({"mobileNumber": "+821020203030"})))
        .unwrap();
    assert_eq!(b.mu_count().unwrap(), 1, "unverified info counts too");
}

#[test]
fn r_mu_2_5_manager_writes_create_hidden_in_order() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.set_mu_limit(Some(3)).unwrap();
    let mut made = Vec::new();
    for i in 0..6 {
        made.push(
            b.add_lead(NewLead::email(format!("n{i}@example.com")))
                .unwrap(),
        );
    }
    let hidden: Vec<bool> = made.iter().map(|c| c.hidden).collect();
    assert_eq!(hidden, vec![false, false, false, true, true, true]);
    assert_eq!(b.mu_count().unwrap(), 3);
    // R-MU-4: the hidden contact's info is still taken.
    match b.add_lead(NewLead::email("n5@example.com")).unwrap_err() {
        rolodex::Error::AlreadyExists { hidden, .. } => assert!(hidden),
        other => panic!("{other:?}"),
    }
}

#[test]
fn r_mu_2_boot_swaps_hidden_and_visible() {
    let b = book_at("2025-06-01T00:00:00Z");
    let old = b.add_lead(NewLead::email("old@example.com")).unwrap();
    b.set_clock(Some(t("2025-06-02T00:00:00Z"))).unwrap();
    let mid = b.add_lead(NewLead::email("mid@example.com")).unwrap();
    b.set_clock(Some(t("2025-06-03T00:00:00Z"))).unwrap();
    let new = b.add_lead(NewLead::email("new@example.com")).unwrap();
    b.set_mu_limit(Some(2)).unwrap();
    assert!(b.get(&old.id).unwrap().hidden);
    b.set_clock(Some(t("2025-06-04T00:00:00Z"))).unwrap();
    let o = b.boot(boot_id(&old.id)).unwrap();
    assert!(!o.hidden);
    assert!(
        b.get(&mid.id).unwrap().hidden,
        "oldest visible hidden instead"
    );
    assert!(!b.get(&new.id).unwrap().hidden);
    assert_eq!(b.mu_count().unwrap(), 2);
    b.set_mu_limit(None).unwrap();
    assert_eq!(b.mu_count().unwrap(), 3);
}

#[test]
fn r_mu_3_manager_edit_of_hidden_does_not_unhide_and_delete_frees_room() {
    let b = book_at("2025-06-01T00:00:00Z");
    let a = b.add_lead(NewLead::email("a@example.com")).unwrap();
    b.set_clock(Some(t("2025-06-02T00:00:00Z"))).unwrap();
    let c = b.add_lead(NewLead::email("c@example.com")).unwrap();
    b.set_mu_limit(Some(1)).unwrap();
    let edited = b.update(&a.id, &json!({"profile.name": "A"})).unwrap();
    assert!(edited.hidden);
    assert_eq!(edited.last_seen_at, t("2025-06-01T00:00:00Z"));
    assert_eq!(edited.updated_at, t("2025-06-02T00:00:00Z"));
    b.delete(vec![c.id.clone()]).unwrap();
    assert!(!b.get(&a.id).unwrap().hidden);
    // An anonymous visitor gaining info by a manager's write at the limit is hidden.
    let v = b.boot(Boot::default()).unwrap();
    let v = b
        .update(&v.id, &json!({"profile.email": "v@example.com"}))
        .unwrap();
    assert!(v.hidden);
    assert_eq!(b.mu_count().unwrap(), 1);
}

#[test]
fn r_exp_5_permissions_deny_and_change_nothing() {
    let b = book_at("2025-06-01T00:00:00Z");
    let a = b.add_lead(NewLead::email("a@example.com")).unwrap();
    let viewer = b.as_manager(Manager::member("mgr-1", &[Permission::EditContacts]));
    let e = viewer.delete(vec![a.id.clone()]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert!(e.to_string().contains("deleteContacts"));
    assert!(b.get(&a.id).is_ok());
    let e = viewer.set_mu_limit(Some(1)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    viewer.block(vec![a.id.clone()]).unwrap();
    let nobody = b.as_manager(Manager::member("mgr-2", &[]));
    assert_eq!(
        nobody
            .add_lead(NewLead::email("z@example.com"))
            .unwrap_err()
            .kind(),
        ErrorKind::PermissionDenied
    );
    let owner = b.as_manager(Manager::owner("boss"));
    owner.delete(vec![a.id.clone()]).unwrap();
    let log = b
        .activity_log(&ActivityQuery {
            manager_id: Some("boss".into()),
            ..ActivityQuery::default()
        })
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, "delete");
    assert_eq!(log[0].count, 1);
    let blocks = b
        .activity_log(&ActivityQuery {
            action: Some("block".into()),
            ..ActivityQuery::default()
        })
        .unwrap();
    assert_eq!(blocks[0].manager_id.as_deref(), Some("mgr-1"));
}

#[test]
fn channels_never_see_each_other() {
    let b = book_at("2025-06-01T00:00:00Z");
    let other = b.channel("other");
    let a = b.add_lead(NewLead::email("a@example.com")).unwrap();
    assert_eq!(other.get(&a.id).unwrap_err().kind(), ErrorKind::NotFound);
    other.add_lead(NewLead::email("a@example.com")).unwrap();
    assert_eq!(other.mu_count().unwrap(), 1);
    assert_eq!(b.mu_count().unwrap(), 1);
    other.set_mu_limit(Some(0)).unwrap();
    assert_eq!(b.mu_count().unwrap(), 1);
    assert!(other.delete(vec![a.id.clone()]).unwrap().done == 0);
}

fn tags(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// R-CON-3: "A boot never fails on data." A login that would complete a pending
/// unification (R-CON-9/R-UNI-4) whose tag union passes 200 succeeds and leaves the lead as
/// it is.
#[test]
fn r_con_3_login_completing_a_pending_unification_never_fails_on_data() {
    let b = book_at("2025-06-01T00:00:00Z");
    let lead = b
        .add_lead(NewLead {
            email: Some("u@example.com".into()),
            tags: tags("l", 150),
            ..NewLead::default()
        })
        .unwrap();
    b.boot(boot_id(&lead.id)).unwrap(); // booted: unification will be pending
    let m = b.boot(login(None, "m-1")).unwrap();
    b.add_tags(vec![m.id.clone()], &tags("m", 150)).unwrap();
    b.update(&m.id, &json!({"profile.email": "u@example.com"}))
        .unwrap();
    assert_eq!(b.pending_unifications().unwrap().len(), 1);
    let got = b.boot(login(Some(&lead.id), "m-1"));
    assert!(got.is_ok(), "a boot never fails on data: {got:?}");
    assert_eq!(got.unwrap().id, m.id);
    assert_eq!(
        b.get(&lead.id).unwrap().id,
        lead.id,
        "the lead is left as it is"
    );
}

/// R-UNI-1: "Lead–lead and member–member unification are not done automatically." A
/// pending unification recorded while C was a lead is void once C becomes a member itself:
/// a later login of C's browser as D's member never folds member C into member D.
#[test]
fn r_uni_1_a_stale_pending_unification_never_joins_two_members() {
    let b = book_at("2025-06-01T00:00:00Z");
    let c = b.add_lead(NewLead::email("u@example.com")).unwrap();
    b.boot(boot_id(&c.id)).unwrap();
    let d = b.boot(login(None, "m-d")).unwrap();
    b.update(&d.id, &json!({"profile.email": "u@example.com"}))
        .unwrap();
    assert_eq!(b.pending_unifications().unwrap().len(), 1);
    // C logs in with its own new account: C is now a member.
    let c_member = b.boot(login(Some(&c.id), "m-c")).unwrap();
    assert_eq!(c_member.id, c.id);
    assert!(c_member.member);
    // The same browser then logs in as m-d: D is returned, C must stay a separate member.
    let got = b.boot(login(Some(&c.id), "m-d")).unwrap();
    assert_eq!(got.id, d.id);
    assert_eq!(
        b.get(&c.id).unwrap().id,
        c.id,
        "member C was unified into member D"
    );
    assert_eq!(b.boot(login(None, "m-c")).unwrap().id, c.id);
}

/// R-UNI-2: "When a member is created or gains verified contact info (member import, login,
/// manager edit), verified leads with the same info are unified into it." A manager edit
/// makes the member absorb lead L1 and so gain L1's verified mobile number; never-booted
/// lead L2 holding that verified number is unified too.
#[test]
fn r_uni_2_verified_info_gained_through_a_unification_unifies_further_leads() {
    let b = book_at("2025-06-01T00:00:00Z");
    let l1 = b
        .add_lead(NewLead {
            email: Some("e@example.com".into()),
            mobile_number: Some("+821011112222".into()),
            ..NewLead::default()
        })
        .unwrap();
    let l2 = b.add_lead(NewLead::mobile("+821033334444")).unwrap();
    b.update(&l2.id, &json!({"profile.mobileNumber": "+821011112222"}))
        .unwrap();
    assert!(b.get(&l2.id).unwrap().verified.mobile_number);
    let m = b.boot(login(None, "m-1")).unwrap();
    let m = b
        .update(&m.id, &json!({"profile.email": "e@example.com"}))
        .unwrap();
    assert_eq!(b.get(&l1.id).unwrap().id, m.id, "L1 unified at once");
    assert_eq!(m.mobile_number(), Some("+821011112222"));
    assert!(
        m.verified.mobile_number,
        "the member gained the verified number"
    );
    assert_eq!(
        b.get(&l2.id).unwrap().id,
        m.id,
        "L2 shares the member's verified number and never booted"
    );
}

/// A book with a custom key `profile.city` holding values on two leads, then archived.
fn book_with_archived_city() -> (ContactBook, String, String) {
    let b = ContactBook::in_memory();
    b.define_key("profile.city", FieldType::String).unwrap();
    let a = b.add_lead(NewLead::email("a@x.com")).unwrap();
    b.update(&a.id, &json!({"profile": {"city": "Seoul"}}))
        .unwrap();
    let d = b.add_lead(NewLead::email("b@x.com")).unwrap();
    b.update(&d.id, &json!({"profile": {"city": "Busan"}}))
        .unwrap();
    b.archive_key("profile.city").unwrap();
    // `get` hides it, as R-SCH-5 asks.
    assert!(!b.get(&a.id).unwrap().profile.contains_key("city"));
    (b, a.id, d.id)
}

// R-SCH-5: an archived key "is not shown".
#[test]
fn r_sch_5_verify_does_not_show_archived_values() {
    let (b, a, _) = book_with_archived_city();
    let shown = b.verify(&a, "profile.email").unwrap();
    assert!(
        !shown.profile.contains_key("city"),
        "verify() returned the archived value: {:?}",
        shown.profile
    );
}

// R-SCH-5: an archived key "is not shown".
#[test]
fn r_sch_5_merge_does_not_show_archived_values() {
    let (b, a, d) = book_with_archived_city();
    let m = b.merge(&a, &d, &MergeChoices::new()).unwrap();
    assert!(
        !m.contact.profile.contains_key("city"),
        "merge() returned the archived value: {:?}",
        m.contact.profile
    );
}

// R-SCH-5: an archived key "is not shown".
#[test]
fn r_sch_5_unmerge_does_not_show_archived_values() {
    let (b, a, d) = book_with_archived_city();
    let m = b.merge(&a, &d, &MergeChoices::new()).unwrap();
    let (survivor, secondary) = b.unmerge(&m.merge_id).unwrap();
    assert!(
        !survivor.profile.contains_key("city") && !secondary.profile.contains_key("city"),
        "unmerge() returned archived values: {:?} / {:?}",
        survivor.profile,
        secondary.profile
    );
}

/// R-CON-3: "the window counts from its previous boot". A merge gives the survivor the later
/// `lastSeenAt` (R-CON-8), here a hand-added lead's, which is no boot: a boot 45 minutes
/// after the survivor's previous boot still starts a new session, and unmerge puts back
/// what the merge changed.
#[test]
fn r_con_3_session_window_counts_from_the_previous_boot_after_a_merge() {
    let b = book_at("2025-06-01T00:00:00Z");
    let p = b.boot(login(None, "m-p")).unwrap();
    assert_eq!(p.session_count, 1);
    assert_eq!(p.last_boot_at, None);
    b.set_clock(Some(t("2025-06-01T00:20:00Z"))).unwrap();
    let s = b.add_lead(NewLead::email("s@example.com")).unwrap();
    let m = b.merge(&p.id, &s.id, &MergeChoices::new()).unwrap();
    assert_eq!(m.contact.last_seen_at, t("2025-06-01T00:20:00Z"));
    assert_eq!(m.contact.last_boot_at, Some(t("2025-06-01T00:00:00Z")));
    let (back, _) = b.unmerge(&m.merge_id).unwrap();
    assert_eq!(back.last_boot_at, None);
    assert_eq!(back.last_seen_at, t("2025-06-01T00:00:00Z"));
    let s = b.add_lead(NewLead::email("s2@example.com")).unwrap();
    b.merge(&p.id, &s.id, &MergeChoices::new()).unwrap();
    b.set_clock(Some(t("2025-06-01T00:45:00Z"))).unwrap();
    let after = b.boot(boot_id(&p.id)).unwrap();
    assert_eq!(after.session_count, 2, "45 minutes after the previous boot");
    assert_eq!(after.last_boot_at, None);
    // From here the window counts from this boot again.
    b.set_clock(Some(t("2025-06-01T01:10:00Z"))).unwrap();
    assert_eq!(b.boot(boot_id(&p.id)).unwrap().session_count, 2);
}

/// API.md: a returned contact is the contact as it was when returned. The memory store
/// hands the profile over still encoded (`Profile`), to be decoded on the first read; that
/// read must still give the values of that moment, after later edits, new keys and more
/// contacts, and copies made before the read must decode alike.
#[test]
fn a_returned_contact_keeps_its_profile_as_returned_whatever_is_written_later() {
    let book = book_at("2025-03-01T12:00:00Z");
    book.define_key("profile.city", FieldType::String).unwrap();
    let lead = book
        .add_lead(NewLead {
            email: Some("kim@example.com".into()),
            name: Some("Kim".into()),
            profile: json!({"city": "Seoul"}).as_object().unwrap().clone(),
            ..NewLead::default()
        })
        .unwrap();
    let booted = book.boot(boot_id(&lead.id)).unwrap();
    let copy = booted.clone();
    // Later writes: the city changes, a new key is defined and used, another contact comes.
    book.update(
        &lead.id,
        &json!({"profile": {"city": "Busan", "name": null}}),
    )
    .unwrap();
    book.define_key("profile.plan", FieldType::String).unwrap();
    book.update(&lead.id, &json!({"profile": {"plan": "pro"}}))
        .unwrap();
    book.add_lead(NewLead {
        email: Some("lee@example.com".into()),
        ..NewLead::default()
    })
    .unwrap();
    let as_booted = json!({"city": "Seoul", "email": "kim@example.com", "name": "Kim"});
    for c in [&booted, &copy] {
        assert_eq!(serde_json::to_value(&c.profile).unwrap(), as_booted);
        assert_eq!(c.name(), Some("Kim"));
        assert_eq!(c.email(), Some("kim@example.com"));
    }
    assert_eq!(booted, copy);
    assert_eq!(booted.profile, lead.profile);
    // The book itself has moved on.
    let now = book.get(&lead.id).unwrap();
    assert_eq!(
        serde_json::to_value(&now.profile).unwrap(),
        json!({"city": "Busan", "email": "kim@example.com", "plan": "pro"})
    );
    // A returned profile is the caller's to edit.
    let mut mine = now.clone();
    mine.profile.remove("plan");
    assert_eq!(mine.profile.len(), 2);
    assert_eq!(book.get(&lead.id).unwrap().profile, now.profile);
}

/// R-CON-8: unmerge "puts back on the survivor the pre-merge values of fields unchanged
/// since the merge (fields changed since keep their new values)"; R-CON-3: a contact
/// records whether it has ever booted, and a session window counts from its previous
/// boot. A survivor that boots after the merge has changed its visit state: unmerge keeps
/// all of it (it has booted, its sessions, its last boot), not the primary's "never
/// booted" beside the new session count.
#[test]
fn r_con_8_unmerge_keeps_the_visit_state_of_a_survivor_that_booted_since() {
    let b = book_at("2025-01-01T00:00:00Z");
    let a = b.add_lead(NewLead::email("a@example.com")).unwrap();
    let v = b.boot(Boot::default()).unwrap();
    let m = b.merge(&a.id, &v.id, &MergeChoices::new()).unwrap();
    assert!(m.contact.booted);
    b.set_clock(Some(t("2025-01-01T05:00:00Z"))).unwrap();
    assert_eq!(b.boot(boot_id(&a.id)).unwrap().session_count, 2);
    b.set_clock(Some(t("2025-01-01T05:05:00Z"))).unwrap();
    let (back, _) = b.unmerge(&m.merge_id).unwrap();
    assert!(back.booted);
    assert_eq!(back.session_count, 2);
    assert_eq!(back.last_seen_at, t("2025-01-01T05:00:00Z"));
    // Ten minutes after its last boot: the same session.
    b.set_clock(Some(t("2025-01-01T05:10:00Z"))).unwrap();
    assert_eq!(b.boot(boot_id(&a.id)).unwrap().session_count, 2);
    // A member sharing its verified email now leaves a pending unification (R-UNI-4: the
    // lead has booted), not an immediate one.
    support::import_named(
        &b,
        "m.csv",
        "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\nm-1,a@example.com,false,false\n",
        rolodex::ImportOptions {
            auto_map: true,
            ..rolodex::ImportOptions::members()
        },
    )
    .unwrap();
    assert_eq!(b.get(&a.id).unwrap().id, a.id);
    assert_eq!(b.pending_unifications().unwrap().len(), 1);
}

/// R-CON-8: unmerge puts back "the pre-merge values of fields unchanged since the merge";
/// `sessionCount` is a field of its own (R-SCH-1). A boot since the merge within the
/// session the merge carried on moves `lastSeenAt` (kept) and leaves `sessionCount` as the
/// merge summed it: it goes back to the survivor's own count exactly, and the secondary's
/// session is counted once, on the secondary (an audit found it on both).
#[test]
fn r_con_8_unmerge_puts_back_a_session_count_unchanged_since_the_merge() {
    // A hand-added lead (never booted) merged with a visitor of one session, at midnight.
    let lead_merged_with_a_visitor = || {
        let b = book_at("2024-01-01T00:00:00Z");
        let lead = b.add_lead(NewLead::email("l@example.com")).unwrap();
        let v = b.boot(Boot::default()).unwrap();
        let m = b.merge(&lead.id, &v.id, &MergeChoices::new()).unwrap();
        (b, lead, m)
    };
    let b = book_at("2024-01-01T00:00:00Z");
    let p = b.boot(Boot::default()).unwrap();
    b.set_clock(Some(t("2024-01-01T01:00:00Z"))).unwrap();
    let s = b.boot(Boot::default()).unwrap();
    let m = b.merge(&p.id, &s.id, &MergeChoices::new()).unwrap();
    assert_eq!(m.contact.session_count, 2);
    b.set_clock(Some(t("2024-01-01T01:10:00Z"))).unwrap();
    assert_eq!(b.boot(boot_id(&p.id)).unwrap().session_count, 2);
    let (back, secondary) = b.unmerge(&m.merge_id).unwrap();
    assert_eq!(back.session_count, 1);
    assert_eq!(back.last_seen_at, t("2024-01-01T01:10:00Z"));
    assert!(back.booted);
    assert_eq!(secondary.session_count, 1);
    // Its window runs from its last boot: 20 minutes on is the same session, 31 a new one.
    b.set_clock(Some(t("2024-01-01T01:30:00Z"))).unwrap();
    assert_eq!(b.boot(boot_id(&p.id)).unwrap().session_count, 1);
    b.set_clock(Some(t("2024-01-01T02:01:00Z"))).unwrap();
    assert_eq!(b.boot(boot_id(&p.id)).unwrap().session_count, 2);

    // A primary that never booted, which booted since within the secondary's session: it
    // has booted, but that session goes back to the secondary (the count is unchanged, so
    // it is the primary's own again: 0); its next boot starts its session 1 (R-CON-3).
    let (b, lead, m) = lead_merged_with_a_visitor();
    assert_eq!(m.contact.session_count, 1);
    b.set_clock(Some(t("2024-01-01T00:10:00Z"))).unwrap();
    assert_eq!(b.boot(boot_id(&lead.id)).unwrap().session_count, 1);
    let (back, secondary) = b.unmerge(&m.merge_id).unwrap();
    assert!(back.booted);
    assert_eq!(back.session_count, 0);
    assert_eq!(secondary.session_count, 1);
    b.set_clock(Some(t("2024-01-01T00:15:00Z"))).unwrap();
    assert_eq!(b.boot(boot_id(&lead.id)).unwrap().session_count, 1);

    // A boot while blocked counts no session (R-CON-3): the count is unchanged since the
    // merge, so the primary's own 0 comes back, though it has booted.
    let (b, lead, m) = lead_merged_with_a_visitor();
    b.set_clock(Some(t("2024-01-01T02:00:00Z"))).unwrap();
    b.block(vec![lead.id.clone()]).unwrap();
    assert_eq!(b.boot(boot_id(&lead.id)).unwrap().session_count, 1);
    b.unblock(vec![lead.id.clone()]).unwrap();
    let (back, _) = b.unmerge(&m.merge_id).unwrap();
    assert!(back.booted);
    assert_eq!(back.session_count, 0);

    // A boot at the merge's own instant that starts a session moves only the count: the
    // contact has booted since, so it keeps both, and is never left unbooted with a
    // session (the next boot in the window is the same session).
    let b = book_at("2024-01-01T00:00:00Z");
    let s = b.add_lead(NewLead::email("s@example.com")).unwrap();
    b.block(vec![s.id.clone()]).unwrap();
    b.boot(boot_id(&s.id)).unwrap();
    b.unblock(vec![s.id.clone()]).unwrap();
    let p = b.add_lead(NewLead::email("p@example.com")).unwrap();
    let m = b.merge(&p.id, &s.id, &MergeChoices::new()).unwrap();
    assert_eq!((m.contact.booted, m.contact.session_count), (true, 0));
    assert_eq!(b.boot(boot_id(&p.id)).unwrap().session_count, 1);
    let (back, _) = b.unmerge(&m.merge_id).unwrap();
    assert_eq!((back.booted, back.session_count), (true, 1));
    assert_eq!(b.boot(boot_id(&p.id)).unwrap().session_count, 1);

    // No boot since: the whole visit state goes back.
    let (b, _, m) = lead_merged_with_a_visitor();
    let (back, _) = b.unmerge(&m.merge_id).unwrap();
    assert!(!back.booted);
    assert_eq!(back.session_count, 0);
}

/// R-CON-8: the survivor gets "the union of import tags (newest 30)"; R-IMP-9: a contact's
/// 31st import tag drops its oldest. Which tag is oldest is the order in which the tags
/// reached these two contacts: a later import that applied the oldest tag to a third
/// contact only does not make it new here.
#[test]
fn r_con_8_newest_import_tags_by_when_they_reached_the_two_contacts() {
    let b = book_at("2025-01-01T00:00:00Z");
    let a = b.add_lead(NewLead::email("a@example.com")).unwrap();
    let s = b.add_lead(NewLead::email("s@example.com")).unwrap();
    b.add_lead(NewLead::email("z@example.com")).unwrap();
    let mut minute = 0;
    let mut import = |email: &str, tag: &str| {
        minute += 1;
        b.set_clock(Some(
            t("2025-01-01T00:00:00Z") + chrono::TimeDelta::minutes(minute),
        ))
        .unwrap();
        let o = rolodex::ImportOptions {
            import_tag: Some(tag.to_string()),
            ..support::leads()
        };
        let r = support::import_named(&b, "t.csv", &format!("profile.email\n{email}\n"), o);
        assert_eq!(r.unwrap().updated, 1);
    };
    for i in 1..=30 {
        import("a@example.com", &format!("a{i}"));
    }
    import("s@example.com", "s1");
    import("z@example.com", "a1");
    let merged = b.merge(&a.id, &s.id, &MergeChoices::new()).unwrap();
    let want: Vec<String> = (2..=30)
        .map(|i| format!("a{i}"))
        .chain(["s1".to_string()])
        .collect();
    assert_eq!(merged.contact.user_import_tags, want);
}

/// R-CON-8's "newest 30" import tags with a pinned clock (API.md: `set_clock` pins "now"
/// so that results are reproducible): imports that share one instant are still ordered,
/// by the order they ran in (the activity log's). Alternating imports a1, b1, a2, b2, …
/// a20, b20 onto two contacts leave a6..a20 and b6..b20 after a merge, as with a clock
/// that moves (a1..a5 were dropped even though b1..b10 were not, when ties fell to the
/// union's order).
#[test]
fn r_con_8_newest_import_tags_follow_the_import_order_when_times_tie() {
    for moving in [false, true] {
        let b = book_at("2025-05-04T00:00:00Z");
        let a = b.add_lead(NewLead::email("a@example.com")).unwrap();
        let s = b.add_lead(NewLead::email("b@example.com")).unwrap();
        let mut minute = 0;
        for i in 1..=20 {
            for (who, email) in [("a", "a@example.com"), ("b", "b@example.com")] {
                if moving {
                    minute += 1;
                    b.set_clock(Some(
                        t("2025-05-04T00:00:00Z") + chrono::TimeDelta::minutes(minute),
                    ))
                    .unwrap();
                }
                let o = rolodex::ImportOptions {
                    import_tag: Some(format!("{who}{i}")),
                    ..support::leads()
                };
                let text = format!("profile.email\n{email}\n");
                let r = support::import_named(&b, "t.csv", &text, o).unwrap();
                assert_eq!(r.updated, 1);
            }
        }
        let merged = b.merge(&a.id, &s.id, &MergeChoices::new()).unwrap();
        let want: Vec<String> = (6..=20)
            .flat_map(|i| [format!("a{i}"), format!("b{i}")])
            .collect();
        assert_eq!(
            merged.contact.user_import_tags, want,
            "moving clock: {moving}"
        );
    }
}

/// R-CON-8's "newest 30" import tags for a merge made while an import runs (between its
/// rows, here from its progress callback): the running import's tag is the newest of all,
/// although its activity-log entry (which orders the others) is written only when it ends.
/// The tag it gave the primary in its first row survives; it was taken for the oldest.
#[test]
fn r_con_8_a_merge_during_an_import_keeps_that_imports_tag_as_the_newest() {
    let b = book_at("2025-05-04T00:00:00Z");
    let x = b.add_lead(NewLead::email("x@example.com")).unwrap();
    let y = b.add_lead(NewLead::email("y@example.com")).unwrap();
    for (who, email) in [("x", "x@example.com"), ("y", "y@example.com")] {
        for i in 1..=30 {
            let o = rolodex::ImportOptions {
                import_tag: Some(format!("{who}{i}")),
                ..support::leads()
            };
            let text = format!("profile.email\n{email}\n");
            support::import_named(&b, "t.csv", &text, o).unwrap();
        }
    }
    let o = rolodex::ImportOptions {
        import_tag: Some("R".into()),
        ..support::leads()
    };
    let mut merged = None;
    let mut progress = |p: rolodex::Progress| {
        if p.rows_done == 1 && merged.is_none() {
            merged = Some(b.merge(&x.id, &y.id, &MergeChoices::new()).unwrap());
        }
    };
    let text = "profile.email,unsubscribeEmail,unsubscribeTexting\n\
                x@example.com,,\nz@example.com,false,false\n";
    let r = b
        .import_csv(
            rolodex::ImportSource::reader(std::io::Cursor::new(text.as_bytes().to_vec())),
            rolodex::ImportOptions {
                file_name: Some("r.csv".into()),
                ..o
            },
            Some(&mut progress),
        )
        .unwrap();
    assert_eq!((r.created, r.updated, r.failed), (1, 1, 0), "{r:?}");
    let want: Vec<String> = (2..=30)
        .map(|i| format!("y{i}"))
        .chain(["R".to_string()])
        .collect();
    assert_eq!(merged.unwrap().contact.user_import_tags, want);
    assert_eq!(b.get(&x.id).unwrap().user_import_tags, want);
}

/// R-CON-8: unmerging after "either side was … merged again" is a `Conflict`, and the error
/// says which side did what (API.md: every message says what was wrong): here the merge's
/// survivor was later merged into a third contact, and the message named "the secondary".
#[test]
fn r_con_8_a_void_merge_names_the_side_that_was_merged_again() {
    let b = book_at("2025-05-04T00:00:00Z");
    let p = b.add_lead(NewLead::email("p@example.com")).unwrap().id;
    let s = b.add_lead(NewLead::email("s@example.com")).unwrap().id;
    let q = b.add_lead(NewLead::email("q@example.com")).unwrap().id;
    let first = b.merge(&p, &s, &MergeChoices::new()).unwrap().merge_id;
    let second = b.merge(&q, &p, &MergeChoices::new()).unwrap().merge_id;
    b.unmerge(&second).unwrap();
    let e = b.unmerge(&first).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    let text = e.to_string();
    assert!(
        text.contains(&format!("its survivor {p} was merged again")),
        "{text}"
    );
}
