//! A manager's single-contact operations (R-CON-1/2/5/6, R-SCH-3, R-MU-3).

use rolodex::{Boot, ErrorKind, FieldType, MergeChoices, NewLead};
use serde_json::json;

mod support;
use support::{all, book_at, t};

fn boot_profile(p: serde_json::Value) -> Boot {
    Boot {
        profile: p.as_object().unwrap().clone(),
        ..Boot::default()
    }
}

fn login(member: &str) -> Boot {
    Boot {
        member_id: Some(member.into()),
        ..Boot::default()
    }
}

// R-CON-1 / R-MU-4: a hidden holder of a verified *mobile* blocks the add; error says hidden.
#[test]
fn r15_con_1_hidden_mobile_holder_is_already_exists_and_nothing_changes() {
    let b = book_at("2025-06-01T00:00:00Z");
    let a = b.add_lead(NewLead::mobile("+821020203030")).unwrap();
    b.set_clock(Some(t("2025-06-02T00:00:00Z"))).unwrap();
    let _c = b.add_lead(NewLead::email("c@example.com")).unwrap();
    b.set_mu_limit(Some(1)).unwrap();
    assert!(b.get(&a.id).unwrap().hidden);
    let before = all(&b);
    let mut lead = NewLead::email("new@example.com");
    lead.mobile_number = Some("+82 010-2020-3030".into());
    match b.add_lead(lead).unwrap_err() {
        rolodex::Error::AlreadyExists {
            id,
            hidden,
            blocked,
            ..
        } => {
            assert_eq!(id, a.id);
            assert!(hidden);
            assert!(!blocked);
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    assert_eq!(all(&b).len(), before.len());
}

// R-CON-1: email compared case-insensitively (R-VAL-3), local part included.
#[test]
fn r15_con_1_email_local_part_case_is_a_duplicate() {
    let b = book_at("2025-06-01T00:00:00Z");
    let a = b.add_lead(NewLead::email("Kim@Example.com")).unwrap();
    let e = b.add_lead(NewLead::email("kim@example.COM")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
    match e {
        rolodex::Error::AlreadyExists { id, .. } => assert_eq!(id, a.id),
        _ => unreachable!(),
    }
}

// R-CON-1: same, on a store taking the Store trait's default methods.
#[test]
fn r15_con_1_duplicate_on_defaults_store() {
    let b = support::defaults_book();
    b.set_clock(Some(t("2025-06-01T00:00:00Z"))).unwrap();
    let a = b.add_lead(NewLead::email("Kim@Example.com")).unwrap();
    let e = b.add_lead(NewLead::email("kim@example.com")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
    let m = b.add_lead(NewLead::mobile("+821020203030")).unwrap();
    let e = b.add_lead(NewLead::mobile("+82 10-2020-3030")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
    assert_ne!(a.id, m.id);
}

// R-CON-1 / R-VAL-1: a name of only whitespace is never stored as whitespace (the code
// rejects it as empty; the spec does not say whether to reject or to drop it: close call).
#[test]
fn r15_con_1_whitespace_name_never_stored() {
    let b = book_at("2025-06-01T00:00:00Z");
    match b.add_lead(NewLead::email("a@example.com").with_name("   ")) {
        Ok(c) => assert!(!c.profile.contains_key("name")),
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Validation);
            assert!(all(&b).is_empty(), "failed add changes nothing");
        }
    }
}

// R-CON-1: a hand-added lead that does not fit under the MU limit is created hidden (R-MU-2);
// updatedAt/createdAt/lastSeenAt = now.
#[test]
fn r15_con_1_add_at_limit_created_hidden() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.add_lead(NewLead::email("a@example.com")).unwrap();
    b.set_mu_limit(Some(1)).unwrap();
    b.set_clock(Some(t("2025-06-03T00:00:00Z"))).unwrap();
    let c = b.add_lead(NewLead::email("b@example.com")).unwrap();
    assert!(c.hidden);
    assert_eq!(c.last_seen_at, t("2025-06-03T00:00:00Z"));
    assert_eq!(c.created_at, t("2025-06-03T00:00:00Z"));
    assert_eq!(b.mu_count().unwrap(), 1);
}

// update: profile values, null clears, tags, opt-outs; updatedAt moves, lastSeenAt does not
// (R-MU-3 / R-IMP-10); contact info a manager writes is verified (R-CON-2).
#[test]
fn r15_update_patch_forms_and_timestamps() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.city", FieldType::String).unwrap();
    let c = b
        .boot(boot_profile(json!({"profile.email": "x@example.com"})))
        .unwrap();
    assert!(!c.verified.email);
    b.set_clock(Some(t("2025-06-05T00:00:00Z"))).unwrap();
    let u = b
        .update(
            &c.id,
            &json!({"profile": {"city": "Seoul", "mobileNumber": "+82 010-2020-3030"},
                    "profile.email": "x@example.com",
                    "tags": ["vip/gold"], "unsubscribeEmail": true}),
        )
        .unwrap();
    assert!(u.verified.email, "manager's edit of email verifies it");
    assert!(u.verified.mobile_number);
    assert_eq!(u.mobile_number(), Some("+821020203030"));
    assert_eq!(u.tags, vec!["vip/gold".to_string()]);
    assert_eq!(u.unsubscribe_email, Some(true));
    assert_eq!(u.updated_at, t("2025-06-05T00:00:00Z"));
    assert_eq!(u.last_seen_at, c.last_seen_at);
    let u = b
        .update(
            &c.id,
            &json!({"profile.city": null, "tags": null, "unsubscribeEmail": null,
                    "profile": {"mobileNumber": null}}),
        )
        .unwrap();
    assert!(!u.profile.contains_key("city"));
    assert!(u.tags.is_empty());
    assert_eq!(u.unsubscribe_email, None);
    assert_eq!(u.mobile_number(), None);
    assert!(!u.verified.mobile_number);
    assert!(u.verified.email);
}

// R-SCH-3: memberId and every non-editable system field are errors naming the key; nothing
// of the patch is applied.
#[test]
fn r15_update_non_editable_keys_rejected_whole() {
    let b = book_at("2025-06-01T00:00:00Z");
    let c = b.add_lead(NewLead::email("a@example.com")).unwrap();
    for key in [
        "memberId",
        "id",
        "createdAt",
        "updatedAt",
        "lastSeenAt",
        "sessionCount",
        "blocked",
        "member",
        "userImportTags",
    ] {
        let v = match key {
            "blocked" | "member" => json!(true),
            "sessionCount" => json!(3),
            "userImportTags" => json!(["x"]),
            "createdAt" | "updatedAt" | "lastSeenAt" => json!("2025-01-01T00:00:00Z"),
            _ => json!("m-9"),
        };
        let e = b
            .update(&c.id, &json!({"profile.name": "Changed", key: v}))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{key}: {e}");
        assert!(e.to_string().contains(key), "{key}: {e}");
        assert!(!b.get(&c.id).unwrap().profile.contains_key("name"), "{key}");
    }
}

// R-CON-2: a manager's edit writing email *under profile as an object* on a contact whose
// email is verified, then verify() of an unverified number.
#[test]
fn r15_verify_unverified_field_and_missing_field() {
    let b = book_at("2025-06-01T00:00:00Z");
    let c = b
        .boot(boot_profile(
            json!({"profile.mobileNumber": "+821020203030"}),
        ))
        .unwrap();
    assert!(!c.verified.mobile_number);
    let v = b.verify(&c.id, "profile.mobileNumber").unwrap();
    assert!(v.verified.mobile_number);
    assert_eq!(v.last_seen_at, c.last_seen_at);
    let e = b.verify(&c.id, "profile.email").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    // now a hand-add of that number fails
    let e = b.add_lead(NewLead::mobile("+821020203030")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyExists);
}

// get: a merged secondary id leads to the survivor; deleted → NotFound.
#[test]
fn r15_get_redirects_and_not_found() {
    let b = book_at("2025-06-01T00:00:00Z");
    let p = b.add_lead(NewLead::email("p@example.com")).unwrap();
    let s = b.add_lead(NewLead::email("s@example.com")).unwrap();
    b.merge(&p.id, &s.id, &MergeChoices::new()).unwrap();
    assert_eq!(b.get(&s.id).unwrap().id, p.id);
    b.delete(vec![p.id.clone()]).unwrap();
    assert_eq!(b.get(&p.id).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(b.get(&s.id).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(b.get("no-such-id").unwrap_err().kind(), ErrorKind::NotFound);
}

// get: a lead unified into a member leads to the member.
#[test]
fn r15_get_redirects_after_unification() {
    let b = book_at("2025-06-01T00:00:00Z");
    let lead = b.add_lead(NewLead::email("u@example.com")).unwrap();
    let m = b.boot(login("m-1")).unwrap();
    b.update(&m.id, &json!({"profile.email": "u@example.com"}))
        .unwrap();
    let got = b.get(&lead.id).unwrap();
    assert_eq!(got.id, m.id);
    assert_eq!(got.member_id.as_deref(), Some("m-1"));
}

// R-CON-5: deleting a hidden member by memberId; a later visit is a new contact, new id; the
// add of its email is possible again.
#[test]
fn r15_con_5_delete_by_member_id_hidden_and_new_visit() {
    let b = book_at("2025-06-01T00:00:00Z");
    let m = b.boot(login("m-1")).unwrap();
    b.update(&m.id, &json!({"profile.email": "m@example.com"}))
        .unwrap();
    b.set_clock(Some(t("2025-06-02T00:00:00Z"))).unwrap();
    b.add_lead(NewLead::email("x@example.com")).unwrap();
    b.set_mu_limit(Some(1)).unwrap();
    assert!(b.get(&m.id).unwrap().hidden);
    b.delete_by_member_id("m-1").unwrap();
    assert_eq!(b.get(&m.id).unwrap_err().kind(), ErrorKind::NotFound);
    b.add_lead(NewLead::email("m@example.com")).unwrap();
    b.set_mu_limit(None).unwrap();
    let again = b.boot(login("m-1")).unwrap();
    assert_ne!(again.id, m.id);
}

// R-CON-6: a blocked contact keeps its data, is out of search/MU, listed by blocked(); an edit
// of a blocked contact leaves it blocked and uncounted; unblock restores.
#[test]
fn r15_con_6_block_edit_unblock() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.city", FieldType::String).unwrap();
    let c = b
        .add_lead(NewLead::email("a@example.com").with_name("Ann"))
        .unwrap();
    b.block(vec![c.id.clone()]).unwrap();
    assert_eq!(b.mu_count().unwrap(), 0);
    let u = b.update(&c.id, &json!({"profile.city": "Busan"})).unwrap();
    assert!(u.blocked);
    assert_eq!(b.mu_count().unwrap(), 0);
    let page = b.search(&support::q(json!({"search": "Ann"}))).unwrap();
    assert_eq!(page.total, 0);
    assert_eq!(b.blocked().unwrap().len(), 1);
    b.unblock(vec![c.id.clone()]).unwrap();
    let c2 = b.get(&c.id).unwrap();
    assert!(!c2.blocked && !c2.hidden);
    assert_eq!(c2.profile.get("name"), c.profile.get("name"));
    assert_eq!(b.mu_count().unwrap(), 1);
}

// R-CON-6 / R-MU-2: blocking a hidden contact frees no room; unblocking it at the limit hides it.
#[test]
fn r15_con_6_block_hidden_then_unblock_at_limit() {
    let b = book_at("2025-06-01T00:00:00Z");
    let a = b.add_lead(NewLead::email("a@example.com")).unwrap();
    b.set_clock(Some(t("2025-06-02T00:00:00Z"))).unwrap();
    let c = b.add_lead(NewLead::email("c@example.com")).unwrap();
    b.set_mu_limit(Some(1)).unwrap();
    assert!(b.get(&a.id).unwrap().hidden);
    b.block(vec![a.id.clone()]).unwrap();
    assert!(!b.get(&c.id).unwrap().hidden);
    assert_eq!(b.mu_count().unwrap(), 1);
    b.unblock(vec![a.id.clone()]).unwrap();
    let a2 = b.get(&a.id).unwrap();
    assert!(!a2.blocked);
    assert!(a2.hidden);
    assert!(
        !b.get(&c.id).unwrap().hidden,
        "unblock never hides a visible contact"
    );
    assert_eq!(b.mu_count().unwrap(), 1);
}

/// R-SCH-7: the 200-tag limit is per contact, so it counts the tags a contact keeps: 201
/// tags of which two are the same are 200 tags; 201 different ones are too many.
#[test]
fn r_sch_7_tag_limit_counts_distinct_tags() {
    let book = rolodex::ContactBook::in_memory();
    let mut tags: Vec<String> = (0..200).map(|i| format!("t{i}")).collect();
    tags.push("t7".into());
    let c = book
        .add_lead(rolodex::NewLead {
            email: Some("kim@example.com".into()),
            tags: tags.clone(),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(c.tags.len(), 200);
    assert_eq!(c.tags.first().map(String::as_str), Some("t0"));
    tags.push("t200".into());
    let e = book
        .update(&c.id, &serde_json::json!({ "tags": tags }))
        .unwrap_err();
    assert_eq!(e.kind(), rolodex::ErrorKind::Validation, "{e}");
    assert!(e.to_string().contains("201"), "{e}");
    assert_eq!(book.get(&c.id).unwrap().tags.len(), 200);
}

/// R-CON-6/7: a bulk unblock on a filter acts on the blocked contacts matching it (the
/// listing an unblock acts on; a visible contact is not blocked): they come back, the
/// blocked ones not matching stay blocked, and visible contacts are neither touched nor
/// counted.
#[test]
fn r_con_7_unblock_on_a_filter_unblocks_the_blocked_contacts_matching_it() {
    let b = book_at("2025-06-01T00:00:00Z");
    let add = |e: &str| b.add_lead(NewLead::email(e)).unwrap().id;
    let (seoul1, seoul2, busan, open) = (
        add("one@seoul.kr"),
        add("two@seoul.kr"),
        add("three@busan.kr"),
        add("four@seoul.kr"),
    );
    b.block(vec![seoul1.clone(), seoul2.clone(), busan.clone()])
        .unwrap();
    assert_eq!(b.mu_count().unwrap(), 1);
    let seoul = rolodex::Target::Filter(support::f(
        json!({"key": "profile.email", "op": "contains", "value": "seoul"}),
    ));
    let r = b.unblock(seoul).unwrap();
    assert_eq!((r.done, r.failed.len()), (2, 0), "{r:?}");
    let blocked: Vec<String> = b.blocked().unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(blocked, vec![busan]);
    for id in [&seoul1, &seoul2, &open] {
        assert!(!b.get(id).unwrap().blocked);
    }
    assert_eq!(b.mu_count().unwrap(), 3);
}
