//! Identity over time: logins, boots, unification and their MU effects (R-CON, R-UNI),
//! MU, import, verify/update and delete/block, through the public API only. Every
//! expectation quotes RULES.md next to it.

use std::io::Cursor;

use rolodex::{
    Boot, ContactBook, ErrorKind, FieldType, IdentifyBy, ImportOptions, ImportReport, ImportSource,
    NewLead, Value,
};
use serde_json::json;

mod support;
use support::{book_at, t};

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

fn import(book: &ContactBook, file: &str, text: &str, mut o: ImportOptions) -> ImportReport {
    o.file_name = Some(file.to_string());
    o.auto_map = true;
    book.import_csv(
        ImportSource::reader(Cursor::new(text.as_bytes().to_vec())),
        o,
        None,
    )
    .unwrap()
}

fn members(book: &ContactBook, text: &str) -> ImportReport {
    import(book, "members.csv", text, ImportOptions::members())
}

fn leads_by_email(book: &ContactBook, text: &str) -> ImportReport {
    import(
        book,
        "leads.csv",
        text,
        ImportOptions::leads(IdentifyBy::Email),
    )
}

fn lead(email: Option<&str>, mobile: Option<&str>, name: &str) -> NewLead {
    NewLead {
        email: email.map(str::to_string),
        mobile_number: mobile.map(str::to_string),
        name: Some(name.into()),
        ..NewLead::default()
    }
}

fn pairs(book: &ContactBook) -> Vec<(String, String)> {
    let mut v: Vec<_> = book
        .pending_unifications()
        .unwrap()
        .into_iter()
        .map(|p| (p.lead_id, p.member_id))
        .collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------
// Suspected deviations
// ---------------------------------------------------------------------------------------

/// R-UNI-2: "When a member is created or gains verified contact info (member import,
/// login, manager edit), verified leads with the same info are unified into it."
/// R-UNI-3: "A lead that has never booted is unified at once".
/// A login that completes a pending unification (R-UNI-4, R-CON-9) gives member D the
/// lead's verified mobile number: D gains verified contact info through a login, so the
/// never-booted lead L2 holding that verified number is unified at once.
#[test]
fn r_uni_2_login_completing_a_pending_unification_unifies_leads_sharing_the_gained_info() {
    let b = book_at("2025-06-01T00:00:00Z");
    let c = b
        .add_lead(lead(Some("c@example.com"), Some("+821011112222"), "C"))
        .unwrap();
    b.boot(boot_id(&c.id)).unwrap(); // C has booted: its unification will be pending
                                     // A leads import gives never-booted lead L2 the same verified mobile number.
    let r = leads_by_email(
        &b,
        "profile.email,profile.mobileNumber,unsubscribeEmail,unsubscribeTexting\n\
         l2@example.com,+821011112222,false,false\n",
    );
    assert_eq!(r.created, 1);
    let l2 = b.add_lead(NewLead::email("l2@example.com")).unwrap_err();
    let l2_id = match l2 {
        rolodex::Error::AlreadyExists { id, .. } => id,
        other => panic!("{other:?}"),
    };
    assert!(b.get(&l2_id).unwrap().verified.mobile_number);
    // Member D is imported with C's email and no mobile number: C's unification is pending.
    let r = members(
        &b,
        "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\nm-d,c@example.com,false,false\n",
    );
    assert_eq!(r.created, 1);
    let d = b.boot(login(None, "m-d")).unwrap();
    assert_eq!(pairs(&b), vec![(c.id.clone(), d.id.clone())]);
    assert_eq!(b.mu_count().unwrap(), 3);
    // C logs in as m-d: the unification completes, D gains C's verified mobile number.
    let got = b.boot(login(Some(&c.id), "m-d")).unwrap();
    assert_eq!(got.id, d.id);
    assert_eq!(got.mobile_number(), Some("+821011112222"));
    assert!(got.verified.mobile_number, "D gained verified contact info");
    // ... and so the never-booted lead holding that verified number is unified at once.
    assert_eq!(
        b.get(&l2_id).unwrap().id,
        d.id,
        "never-booted lead L2 shares D's newly gained verified mobile number and was not unified"
    );
    assert_eq!(b.mu_count().unwrap(), 1);
}

/// Same as above, for a booted lead: R-UNI-4 "A lead that has booted is unified later: a
/// pending unification is recorded". D gains verified info by a login completing a
/// pending unification; booted lead L3 holding it must get a pending unification.
#[test]
fn r_uni_4_login_completing_a_pending_unification_records_pending_for_booted_leads_sharing_the_gained_info(
) {
    let b = book_at("2025-06-01T00:00:00Z");
    let c = b
        .add_lead(lead(Some("c@example.com"), Some("+821011112222"), "C"))
        .unwrap();
    b.boot(boot_id(&c.id)).unwrap();
    leads_by_email(
        &b,
        "profile.email,profile.mobileNumber,unsubscribeEmail,unsubscribeTexting\n\
         l3@example.com,+821011112222,false,false\n",
    );
    let l3 = match b.add_lead(NewLead::email("l3@example.com")).unwrap_err() {
        rolodex::Error::AlreadyExists { id, .. } => id,
        other => panic!("{other:?}"),
    };
    b.boot(boot_id(&l3)).unwrap(); // L3 booted too
    members(
        &b,
        "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\nm-d,c@example.com,false,false\n",
    );
    let d = b.boot(login(None, "m-d")).unwrap();
    assert_eq!(pairs(&b), vec![(c.id.clone(), d.id.clone())]);
    let got = b.boot(login(Some(&c.id), "m-d")).unwrap();
    assert!(got.verified.mobile_number);
    assert_eq!(
        pairs(&b),
        vec![(l3.clone(), d.id.clone())],
        "booted lead L3 shares D's newly gained verified mobile number: a pending unification is recorded"
    );
}

/// R-CON-2: "Unverified input never overwrites verified info." R-UNI-3: "its data is
/// merged into the member (member's values win on conflict ...)". Member D holds mobile
/// number N unverified (from a boot); never-booted lead L holds the same N verified. There
/// is no conflict of values; after the unification N must stay verified, and so a
/// hand-added lead with N is `AlreadyExists` (R-CON-1), as it was before.
#[test]
fn r_con_2_unification_keeps_the_verification_of_a_value_both_sides_hold() {
    let b = book_at("2025-06-01T00:00:00Z");
    let l = b
        .add_lead(lead(Some("u@example.com"), Some("+821011112222"), "L"))
        .unwrap();
    let v = b
        .boot(Boot {
            profile: json!({"mobileNumber": "+821011112222"})
                .as_object()
                .unwrap()
                .clone(),
            ..Boot::default()
        })
        .unwrap();
    let d = b.boot(login(Some(&v.id), "m-d")).unwrap();
    assert_eq!(d.id, v.id);
    assert!(!d.verified.mobile_number);
    // Before: N is held verified (by L).
    assert_eq!(
        b.add_lead(NewLead::mobile("+821011112222"))
            .unwrap_err()
            .kind(),
        ErrorKind::AlreadyExists
    );
    // A manager edit gives D the lead's verified email: L never booted, unified at once.
    let d = b
        .update(&d.id, &json!({"profile.email": "u@example.com"}))
        .unwrap();
    assert_eq!(b.get(&l.id).unwrap().id, d.id, "L unified at once");
    assert_eq!(d.mobile_number(), Some("+821011112222"));
    assert!(
        d.verified.mobile_number,
        "the survivor holds N, which the unified lead held verified, as unverified"
    );
    assert_eq!(
        b.add_lead(NewLead::mobile("+821011112222"))
            .unwrap_err()
            .kind(),
        ErrorKind::AlreadyExists,
        "N was verified info before the unification"
    );
}

// ---------------------------------------------------------------------------------------
// Passing checks of tricky sequences
// ---------------------------------------------------------------------------------------

/// R-CON-3: "a boot more than 30 minutes after the previous activity starts a new session
/// ... the window counts from its previous boot". R-UNI-4: the unification completes when
/// the lead logs in. Lead C booted at 00:00 (session 1); member D was imported at 00:10 and
/// never booted. C's login as D at 00:25 continues C's session: the survivor has one session,
/// `lastSeenAt` and `updatedAt` = now; a boot at 00:56 (31 min later) starts session 2.
#[test]
fn r_con_3_login_completing_a_pending_unification_continues_the_leads_session() {
    let b = book_at("2025-06-01T00:00:00Z");
    let c = b.add_lead(NewLead::email("c@example.com")).unwrap();
    assert_eq!(b.boot(boot_id(&c.id)).unwrap().session_count, 1);
    b.set_clock(Some(t("2025-06-01T00:10:00Z"))).unwrap();
    members(
        &b,
        "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\nm-d,c@example.com,false,false\n",
    );
    assert_eq!(b.pending_unifications().unwrap().len(), 1);
    b.set_clock(Some(t("2025-06-01T00:25:00Z"))).unwrap();
    let got = b.boot(login(Some(&c.id), "m-d")).unwrap();
    assert_eq!(got.member_id.as_deref(), Some("m-d"));
    assert_eq!(got.session_count, 1);
    assert_eq!(got.last_seen_at, t("2025-06-01T00:25:00Z"));
    assert_eq!(got.updated_at, t("2025-06-01T00:25:00Z"));
    assert!(b.pending_unifications().unwrap().is_empty());
    b.set_clock(Some(t("2025-06-01T00:56:00Z"))).unwrap();
    assert_eq!(b.boot(boot_id(&got.id)).unwrap().session_count, 2);
}

/// R-UNI-4: "a pending unification is recorded, both records stay (MU counts both ...),
/// and the unification completes when that lead logs in (R-CON-4). Pending unifications
/// can be listed." Two booted leads share the member's verified email: both pairs are
/// listed; each lead's login completes only its own pair.
#[test]
fn r_uni_4_two_booted_leads_sharing_the_members_email_complete_one_by_one() {
    let b = book_at("2025-06-01T00:00:00Z");
    let l1 = b.add_lead(NewLead::email("e@example.com")).unwrap();
    let l2 = b.add_lead(NewLead::email("other@example.com")).unwrap();
    // A manager's edit gives L2 the same verified email (no AlreadyExists on an edit).
    b.update(&l2.id, &json!({"profile.email": "e@example.com"}))
        .unwrap();
    b.boot(boot_id(&l1.id)).unwrap();
    b.boot(boot_id(&l2.id)).unwrap();
    let d = b.boot(login(None, "m-d")).unwrap();
    b.update(&d.id, &json!({"profile.email": "e@example.com"}))
        .unwrap();
    assert_eq!(
        pairs(&b),
        vec![(l1.id.clone(), d.id.clone()), (l2.id.clone(), d.id.clone())]
    );
    assert_eq!(
        b.mu_count().unwrap(),
        3,
        "MU counts both records of each pair"
    );
    assert_eq!(b.boot(login(Some(&l1.id), "m-d")).unwrap().id, d.id);
    assert_eq!(pairs(&b), vec![(l2.id.clone(), d.id.clone())]);
    assert_eq!(b.mu_count().unwrap(), 2);
    assert_eq!(b.get(&l2.id).unwrap().id, l2.id, "L2 stays until its login");
    assert_eq!(b.boot(login(Some(&l2.id), "m-d")).unwrap().id, d.id);
    assert!(pairs(&b).is_empty());
    assert_eq!(b.mu_count().unwrap(), 1);
}

/// R-UNI-2 (a member "gains verified contact info (... manager edit)"; `verify` gives
/// verified info, R-CON-2): a member gaining a second verified field unifies a never-booted
/// lead holding it at once and records a pending unification for a booted one, next to the
/// pending pair of the first field.
#[test]
fn r_uni_2_member_gaining_a_second_verified_field_by_verify() {
    let b = book_at("2025-06-01T00:00:00Z");
    let l1 = b.add_lead(NewLead::email("e@example.com")).unwrap();
    b.boot(boot_id(&l1.id)).unwrap();
    let l2 = b
        .add_lead(lead(Some("l2@example.com"), Some("+821011112222"), "L2"))
        .unwrap();
    b.boot(boot_id(&l2.id)).unwrap();
    let l3 = b
        .add_lead(lead(Some("l3@example.com"), None, "L3"))
        .unwrap();
    b.update(&l3.id, &json!({"profile.mobileNumber": "+821011112222"}))
        .unwrap();
    let d = b.boot(login(None, "m-d")).unwrap();
    b.update(&d.id, &json!({"profile.email": "e@example.com"}))
        .unwrap();
    assert_eq!(pairs(&b), vec![(l1.id.clone(), d.id.clone())]);
    // D's mobile arrives unverified with a boot: no unification through it (R-CON-2).
    let d = b
        .boot(Boot {
            contact_id: Some(d.id.clone()),
            profile: json!({"mobileNumber": "+82 10-1111-2222"})
                .as_object()
                .unwrap()
                .clone(),
            ..Boot::default()
        })
        .unwrap();
    assert!(!d.verified.mobile_number);
    assert_eq!(pairs(&b), vec![(l1.id.clone(), d.id.clone())]);
    assert_eq!(b.get(&l3.id).unwrap().id, l3.id);
    // verify() gives it: L3 (never booted) at once, L2 (booted) pending.
    let d = b.verify(&d.id, "profile.mobileNumber").unwrap();
    assert_eq!(
        b.get(&l3.id).unwrap().id,
        d.id,
        "never-booted L3 unified at once"
    );
    assert_eq!(
        pairs(&b),
        vec![(l1.id.clone(), d.id.clone()), (l2.id.clone(), d.id.clone())]
    );
    assert_eq!(b.mu_count().unwrap(), 3);
}

/// R-UNI-2: "A lead-import row whose identifier matches a member updates that member — that
/// is the unification, counted as `updated`." The row's other contact field is verified
/// (R-CON-2: an import gives verified info) and the member gains it, so the never-booted
/// lead holding it is unified at once (R-UNI-2/3).
#[test]
fn r_uni_2_lead_import_row_matching_a_member_gives_it_a_field_that_unifies_another_lead() {
    let b = book_at("2025-06-01T00:00:00Z");
    let l = b.add_lead(NewLead::mobile("+821011112222")).unwrap();
    members(
        &b,
        "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\nm-d,d@example.com,false,false\n",
    );
    assert_eq!(b.mu_count().unwrap(), 2);
    let r = leads_by_email(
        &b,
        "profile.email,profile.mobileNumber\nD@example.com,+82 10-1111-2222\n",
    );
    assert_eq!((r.created, r.updated, r.failed), (0, 1, 0));
    let d = b.get(&l.id).unwrap();
    assert_eq!(
        d.member_id.as_deref(),
        Some("m-d"),
        "L unified into the member"
    );
    assert_eq!(
        d.email(),
        Some("d@example.com"),
        "the identifier only matches"
    );
    assert_eq!(b.mu_count().unwrap(), 1);
}

/// R-CON-9: "A boot that names contact C and `memberId` M, where M belongs to another
/// contact D, returns D; ... if a pending unification joins C and D, it completes
/// (R-UNI-4); otherwise C is left as it is." C has a pending unification with D1 and logs
/// in as D2: D2 is returned, C is left as it is and its pair with D1 is still listed.
#[test]
fn r_con_9_login_as_another_member_leaves_the_pending_pair_with_the_first() {
    let b = book_at("2025-06-01T00:00:00Z");
    let c = b.add_lead(NewLead::email("c@example.com")).unwrap();
    b.boot(boot_id(&c.id)).unwrap();
    members(
        &b,
        "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\n\
         m-1,c@example.com,false,false\nm-2,two@example.com,false,false\n",
    );
    let d1 = b.boot(login(None, "m-1")).unwrap();
    let d2 = b.boot(login(None, "m-2")).unwrap();
    assert_eq!(pairs(&b), vec![(c.id.clone(), d1.id.clone())]);
    let got = b.boot(login(Some(&c.id), "m-2")).unwrap();
    assert_eq!(got.id, d2.id);
    let c_after = b.get(&c.id).unwrap();
    assert_eq!(c_after.id, c.id);
    assert_eq!(c_after.member_id, None);
    assert_eq!(pairs(&b), vec![(c.id.clone(), d1.id.clone())]);
    assert_eq!(b.mu_count().unwrap(), 3);
    // Its login as m-1 still completes it.
    assert_eq!(b.boot(login(Some(&c.id), "m-1")).unwrap().id, d1.id);
    assert!(pairs(&b).is_empty());
}

/// R-MU-2: "a boot (a real visit) makes its contact visible, and if that breaks the limit
/// the visible contact with the oldest `lastSeenAt` is hidden instead"; R-UNI-4 / R-CON-9:
/// the lead's login completes its pending unification. Member D is hidden at the limit;
/// lead C's login as D completes the pair: D is visible, MU stays at the limit.
#[test]
fn r_mu_2_login_completing_a_pending_unification_into_a_hidden_member() {
    let b = book_at("2025-06-01T00:00:00Z");
    let old = b.add_lead(NewLead::email("old@example.com")).unwrap();
    b.set_clock(Some(t("2025-06-01T01:00:00Z"))).unwrap();
    let c = b.add_lead(NewLead::email("c@example.com")).unwrap();
    b.boot(boot_id(&c.id)).unwrap();
    b.set_mu_limit(Some(2)).unwrap();
    b.set_clock(Some(t("2025-06-01T02:00:00Z"))).unwrap();
    let r = members(
        &b,
        "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\nm-d,c@example.com,false,false\n",
    );
    assert_eq!((r.created, r.hidden), (1, 1), "created hidden: no room");
    assert_eq!(b.pending_unifications().unwrap().len(), 1);
    b.set_clock(Some(t("2025-06-01T03:00:00Z"))).unwrap();
    let d = b.boot(login(Some(&c.id), "m-d")).unwrap();
    assert!(!d.hidden, "the login makes the member visible");
    assert_eq!(d.email(), Some("c@example.com"));
    assert!(b.pending_unifications().unwrap().is_empty());
    assert_eq!(b.get(&c.id).unwrap().id, d.id);
    assert!(b.mu_count().unwrap() <= 2);
    assert_eq!(
        b.mu_count().unwrap(),
        2,
        "C's place went to D; `old` stays visible"
    );
    assert!(!b.get(&old.id).unwrap().hidden);
}

/// R-CON-5: "Merge snapshots and pending unifications that hold its data are purged with
/// it." Deleting the booted lead of a pending pair removes the pair from the listing;
/// deleting by `memberId` the member of another pair removes that one.
#[test]
fn r_con_5_deletes_purge_pending_pairs_from_the_listing() {
    let b = book_at("2025-06-01T00:00:00Z");
    let c1 = b.add_lead(NewLead::email("c1@example.com")).unwrap();
    let c2 = b.add_lead(NewLead::email("c2@example.com")).unwrap();
    b.boot(boot_id(&c1.id)).unwrap();
    b.boot(boot_id(&c2.id)).unwrap();
    members(
        &b,
        "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\n\
         m-1,c1@example.com,false,false\nm-2,c2@example.com,false,false\n",
    );
    assert_eq!(b.pending_unifications().unwrap().len(), 2);
    b.delete(vec![c1.id.clone()]).unwrap();
    let left = b.pending_unifications().unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].lead_id, c2.id);
    b.delete_by_member_id("m-2").unwrap();
    assert!(b.pending_unifications().unwrap().is_empty());
    // The lead of the purged pair is left as it is; its login now makes it member m-2
    // (R-CON-4: "the contact becomes ... the member with that id").
    let got = b.boot(login(Some(&c2.id), "m-2")).unwrap();
    assert_eq!(got.id, c2.id);
    assert_eq!(got.member_id.as_deref(), Some("m-2"));
}

/// R-CON-6: "Blocking is reversible and loses no data"; R-UNI-4: the pair is listed until
/// the lead's login. Blocking and unblocking the member of a pending pair keeps the pair.
#[test]
fn r_uni_4_blocking_and_unblocking_the_member_keeps_the_pending_pair() {
    let b = book_at("2025-06-01T00:00:00Z");
    let c = b.add_lead(NewLead::email("c@example.com")).unwrap();
    b.boot(boot_id(&c.id)).unwrap();
    members(
        &b,
        "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\nm-d,c@example.com,false,false\n",
    );
    let d = b.boot(login(None, "m-d")).unwrap();
    b.block(vec![d.id.clone()]).unwrap();
    b.unblock(vec![d.id.clone()]).unwrap();
    assert_eq!(pairs(&b), vec![(c.id.clone(), d.id.clone())]);
    assert_eq!(b.boot(login(Some(&c.id), "m-d")).unwrap().id, d.id);
    assert!(pairs(&b).is_empty());
    assert_eq!(b.mu_count().unwrap(), 1);
}

fn member_named(book: &ContactBook, m: &str) -> rolodex::Contact {
    support::all(book)
        .into_iter()
        .find(|c| c.member_id.as_deref() == Some(m))
        .unwrap_or_else(|| panic!("no member {m}"))
}

fn lead_import_setup() -> ContactBook {
    let b = book_at("2025-06-01T00:00:00Z");
    members(
        &b,
        "memberId,profile.mobileNumber,profile.name,unsubscribeEmail,unsubscribeTexting\n\
         m-1,+82 10-2020-3030,Kim,false,false\n",
    );
    b
}

/// R-UNI-1: "Unification joins a lead and a member that share a verified email or mobile
/// number", and the import guide: "When you upload a lead → the system finds the member".
/// A lead-import row (by email) creates a lead whose verified mobile number a member holds
/// verified: the never-booted lead is unified into the member at once (R-UNI-3: the
/// member's values win, its email is gained), and the row counts the member as `updated`
/// (R-IMP-12: the lead is gone). The same in a dry run (R-IMP-18).
#[test]
fn r_uni_1_lead_import_row_sharing_a_members_mobile_unifies_the_new_lead() {
    let text =
        "profile.email,profile.mobileNumber,profile.name,unsubscribeEmail,unsubscribeTexting\n\
                new@example.com,+82 10-2020-3030,Lee,false,false\n";
    let dry = lead_import_setup();
    let mut o = ImportOptions::leads(IdentifyBy::Email);
    o.dry_run = true;
    let planned = import(&dry, "leads.csv", text, o);
    let b = lead_import_setup();
    let r = leads_by_email(&b, text);
    assert_eq!((r.created, r.updated, r.failed), (0, 1, 0), "{r:?}");
    assert_eq!(
        (planned.created, planned.updated, planned.mu_after),
        (0, 1, 1)
    );
    assert_eq!(b.mu_count().unwrap(), 1);
    let m = member_named(&b, "m-1");
    assert_eq!(m.email(), Some("new@example.com"));
    assert!(m.verified.email && m.verified.mobile_number);
    assert_eq!(
        m.profile.get("name").map(|v| v.canonical()),
        Some("Kim".into())
    );
    assert!(m.user_import_tags.iter().any(|t| t == "leads"));
    assert_eq!(support::all(&b).len(), 1);
}

/// R-UNI-1/3/4 for a lead a lead-import row updates: it gains a mobile number a member holds
/// verified. Never booted, it is unified at once (and a lead an earlier row of the same
/// import created counts no more: created 0); booted, a pending unification is recorded and
/// both stay (MU 2) until its login completes it.
#[test]
fn r_uni_4_lead_import_row_giving_a_lead_a_members_mobile() {
    // Created by one row, given the member's number by the next.
    let b = lead_import_setup();
    let r = leads_by_email(
        &b,
        "profile.email,unsubscribeEmail,unsubscribeTexting\nnew@example.com,false,false\n",
    );
    assert_eq!((r.created, r.updated), (1, 0));
    let r = leads_by_email(
        &b,
        "profile.email,profile.mobileNumber,unsubscribeEmail,unsubscribeTexting\n\
         two@example.com,,false,false\n\
         two@example.com,+82 10-2020-3030,false,false\n",
    );
    assert_eq!((r.created, r.updated, r.failed), (0, 1, 0), "{r:?}");
    assert_eq!(member_named(&b, "m-1").email(), Some("two@example.com"));
    assert_eq!(b.mu_count().unwrap(), 2, "new@ stays a lead of its own");

    // A booted lead: pending, both counted, completed by its login.
    let b = lead_import_setup();
    let l = b.add_lead(NewLead::email("old@example.com")).unwrap();
    b.boot(boot_id(&l.id)).unwrap();
    let r = leads_by_email(
        &b,
        "profile.email,profile.mobileNumber\nold@example.com,+821020203030\n",
    );
    assert_eq!((r.created, r.updated, r.failed), (0, 1, 0), "{r:?}");
    let m = member_named(&b, "m-1");
    assert_eq!(pairs(&b), vec![(l.id.clone(), m.id.clone())]);
    assert_eq!(b.mu_count().unwrap(), 2);
    assert_eq!(b.boot(login(Some(&l.id), "m-1")).unwrap().id, m.id);
    assert!(pairs(&b).is_empty());
    assert_eq!(b.mu_count().unwrap(), 1);
}

/// R-UNI-1: "verified on both sides". A member holding the number unverified (given by its
/// own login's boot, R-CON-2) is not joined by a lead-import row giving a lead that number;
/// neither is a lead holding it when the import gives it to a lead (lead–lead unification
/// is not done).
#[test]
fn r_uni_1_lead_import_row_never_joins_unverified_or_lead_holders() {
    let b = book_at("2025-06-01T00:00:00Z");
    let mut boot = login(None, "m-1");
    boot.profile
        .insert("mobileNumber".into(), json!("+821020203030"));
    b.boot(boot).unwrap();
    let m = member_named(&b, "m-1");
    assert_eq!(m.mobile_number(), Some("+821020203030"));
    assert!(!m.verified.mobile_number);
    b.add_lead(NewLead::mobile("+821040405050")).unwrap();
    let r = leads_by_email(
        &b,
        "profile.email,profile.mobileNumber,unsubscribeEmail,unsubscribeTexting\n\
         a@example.com,+821020203030,false,false\n\
         b@example.com,+821040405050,false,false\n",
    );
    assert_eq!((r.created, r.updated, r.failed), (2, 0, 0), "{r:?}");
    assert_eq!(b.mu_count().unwrap(), 4);
    assert!(pairs(&b).is_empty());
}

/// R-IMP-9/20 with R-UNI-3: the member that absorbs a lead-import row's lead was touched by
/// the row, so the import's tag is its newest, as when a row matches the member itself —
/// also when the member already holds 30 import tags (the oldest goes, never the import's).
#[test]
fn r_imp_9_member_absorbing_a_rows_lead_gets_the_import_tag_as_its_newest() {
    let b = lead_import_setup();
    let row = "profile.email,profile.mobileNumber,unsubscribeEmail,unsubscribeTexting\n\
               new@example.com,+82 10-2020-3030,false,false\n";
    leads_by_email(&b, row);
    assert_eq!(
        member_named(&b, "m-1").user_import_tags,
        vec!["members", "leads"]
    );

    let b = lead_import_setup();
    for i in 0..30 {
        let mut o = ImportOptions::members();
        o.import_tag = Some(format!("t{i}"));
        import(&b, "m.csv", "memberId\nm-1\n", o);
    }
    let tags = member_named(&b, "m-1").user_import_tags;
    assert_eq!((tags.len(), tags[0].as_str()), (30, "t0"));
    let r = leads_by_email(&b, row);
    assert_eq!((r.created, r.updated), (0, 1));
    let tags = member_named(&b, "m-1").user_import_tags;
    assert_eq!(tags.len(), 30);
    assert_eq!((tags[0].as_str(), tags[29].as_str()), ("t1", "leads"));
}

/// R-IMP-12: "each contact is counted once … as created if this import created it" — a lead
/// an earlier row created and a later row's member then absorbs (the row matches the member
/// by mobile number and gives it the lead's verified email, R-UNI-2/3) no longer exists, so
/// it is not counted: the import created nothing and updated the member, as when the lead
/// is absorbed from its own side.
#[test]
fn r_imp_12_a_lead_absorbed_by_a_later_rows_member_is_not_counted() {
    for (by, text) in [
        (
            IdentifyBy::MobileNumber,
            "profile.mobileNumber,profile.email,unsubscribeEmail,unsubscribeTexting\n\
             +82 10-9999-0000,a@example.com,false,false\n\
             +82 10-2020-3030,a@example.com,,\n",
        ),
        (
            IdentifyBy::Email,
            "profile.email,profile.mobileNumber,unsubscribeEmail,unsubscribeTexting\n\
             a@example.com,+82 10-9999-0000,false,false\n\
             a@example.com,+82 10-2020-3030,,\n",
        ),
    ] {
        let b = lead_import_setup();
        let r = import(&b, "leads.csv", text, ImportOptions::leads(by));
        assert_eq!((r.created, r.updated, r.failed), (0, 1, 0), "{by:?}: {r:?}");
        assert_eq!(support::all(&b).len(), 1, "{by:?}");
        assert_eq!(member_named(&b, "m-1").email(), Some("a@example.com"));
    }
}

/// A booted lead L with verified `e@example.com` and member `m-d` imported with it: a
/// pending pair (R-UNI-4). Returns the book, L's id and the member's id.
fn pending_pair() -> (ContactBook, String, String) {
    let b = book_at("2025-06-01T00:00:00Z");
    let l = b
        .add_lead(lead(Some("e@example.com"), None, "Lead"))
        .unwrap();
    b.boot(boot_id(&l.id)).unwrap();
    members(
        &b,
        "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\nm-d,e@example.com,false,false\n",
    );
    let d = member_named(&b, "m-d");
    assert_eq!(pairs(&b), vec![(l.id.clone(), d.id.clone())]);
    (b, l.id, d.id)
}

/// R-UNI-1: "Unification joins a lead and a member that share a verified email or mobile
/// number (verified on both sides)"; R-UNI-4: "a pending unification is recorded ... and
/// the unification completes when that lead logs in ... Pending unifications can be
/// listed." A pair whose shared email either side loses since (a manager's edit, a member
/// import, a cleared value) shares nothing: it is not listed, and the lead's login does not
/// fold it into the member, whose values would win and drop the lead's own email.
#[test]
fn r_uni_1_a_pending_pair_that_no_longer_shares_verified_info_is_not_completed() {
    let edits: [(&str, serde_json::Value); 3] = [
        ("lead", json!({"profile.email": "other@example.com"})),
        (
            "lead",
            json!({"profile.email": null, "profile.mobileNumber": "+821020203030"}),
        ),
        ("member", json!({"profile.email": "new@example.com"})),
    ];
    for (side, patch) in edits {
        let (b, l, d) = pending_pair();
        let before = b.get(&l).unwrap();
        b.update(if side == "lead" { &l } else { &d }, &patch)
            .unwrap();
        assert!(pairs(&b).is_empty(), "{side} {patch}");
        b.set_clock(Some(t("2025-06-01T01:00:00Z"))).unwrap();
        let got = b.boot(login(Some(&l), "m-d")).unwrap();
        assert_eq!(got.id, d, "the login reaches the member");
        let lead_now = b.get(&l).unwrap();
        assert_eq!(lead_now.id, l, "{side} {patch}: the lead stays itself");
        assert_eq!(lead_now.member_id, None);
        if side == "member" {
            assert_eq!(lead_now.email(), before.email());
        }
        assert_eq!(b.mu_count().unwrap(), 2, "{side} {patch}");
        assert!(pairs(&b).is_empty());
    }

    // The same by a member import that gives the member another email.
    let (b, l, d) = pending_pair();
    members(
        &b,
        "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\nm-d,new@example.com,false,false\n",
    );
    assert!(pairs(&b).is_empty());
    b.boot(login(Some(&l), "m-d")).unwrap();
    assert_eq!(b.get(&l).unwrap().id, l);
    assert_eq!(b.get(&d).unwrap().email(), Some("new@example.com"));
}

/// R-UNI-1 holds for what the two share now: the recorded email no longer shared, a mobile
/// number both hold verified still unifies them, and the listing names it.
#[test]
fn r_uni_4_a_pending_pair_lists_what_the_two_share_now() {
    let b = book_at("2025-06-01T00:00:00Z");
    let l = b
        .add_lead(lead(Some("e@example.com"), Some("+821020203030"), "Lead"))
        .unwrap();
    b.boot(boot_id(&l.id)).unwrap();
    members(
        &b,
        "memberId,profile.email,profile.mobileNumber,unsubscribeEmail,unsubscribeTexting\n\
         m-d,e@example.com,+821020203030,false,false\n",
    );
    let d = member_named(&b, "m-d");
    let listed = b.pending_unifications().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].field, "profile.email");
    b.update(&d.id, &json!({"profile.email": "new@example.com"}))
        .unwrap();
    let listed = b.pending_unifications().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].field.as_str(), listed[0].value.as_str()),
        ("profile.mobileNumber", "+821020203030")
    );
    b.boot(login(Some(&l.id), "m-d")).unwrap();
    assert_eq!(
        b.get(&l.id).unwrap().id,
        d.id,
        "unified on the mobile number"
    );
}

/// R-CON-8: a merged secondary's id and memberId keep reaching the survivor; R-UNI-4: the
/// lead's login completes its pending unification. A merge of either contact of a pending
/// pair moves the pair to the survivor, so the login still completes it where the two
/// still share verified info, and not where they do not.
#[test]
fn r_uni_4_a_pending_pair_follows_a_merge_to_the_survivor() {
    // The survivor takes the secondary's email.
    let email_from_secondary: rolodex::MergeChoices =
        serde_json::from_value(json!({"profile.email": "secondary"})).unwrap();
    // The member is merged into another member P that takes its email.
    let (b, l, d) = pending_pair();
    members(
        &b,
        "memberId,profile.name,unsubscribeEmail,unsubscribeTexting\nm-p,Pat,false,false\n",
    );
    let p = member_named(&b, "m-p");
    let merged = b.merge(&p.id, &d, &email_from_secondary).unwrap();
    assert_eq!(merged.contact.email(), Some("e@example.com"));
    assert_eq!(pairs(&b), vec![(l.clone(), p.id.clone())]);
    b.set_clock(Some(t("2025-06-01T01:00:00Z"))).unwrap();
    let got = b.boot(login(Some(&l), "m-d")).unwrap();
    assert_eq!(got.id, p.id);
    assert_eq!(
        b.get(&l).unwrap().id,
        p.id,
        "the lead is unified into the survivor"
    );
    assert!(pairs(&b).is_empty());
    assert_eq!(b.mu_count().unwrap(), 1);

    // The lead is merged into another lead X that keeps its own email: X shares nothing
    // with the member, and the login (naming L, which reaches X) joins nothing.
    let (b, l, _) = pending_pair();
    let x = b.add_lead(lead(Some("x@example.com"), None, "X")).unwrap();
    b.merge(&x.id, &l, &rolodex::MergeChoices::new()).unwrap();
    assert!(pairs(&b).is_empty());
    b.boot(login(Some(&l), "m-d")).unwrap();
    assert_eq!(b.get(&x.id).unwrap().id, x.id);
    // ... but where X takes L's email, the pair is X's and the login completes it.
    let (b, l, d) = pending_pair();
    let x = b.add_lead(lead(Some("x@example.com"), None, "X")).unwrap();
    b.merge(&x.id, &l, &email_from_secondary).unwrap();
    assert_eq!(pairs(&b), vec![(x.id.clone(), d.clone())]);
    b.set_clock(Some(t("2025-06-01T01:00:00Z"))).unwrap();
    b.boot(login(Some(&l), "m-d")).unwrap();
    assert_eq!(b.get(&x.id).unwrap().id, d);
}

/// R-CON-8: unmerge is exact: a booted lead merged away with its pending unification gets
/// the pair back when the merge is undone, and its login completes it.
#[test]
fn r_con_8_unmerge_gives_the_secondary_its_pending_pair_back() {
    let (b, l, d) = pending_pair();
    let x = b.add_lead(lead(Some("x@example.com"), None, "X")).unwrap();
    let m = b.merge(&x.id, &l, &rolodex::MergeChoices::new()).unwrap();
    assert!(
        pairs(&b).is_empty(),
        "X keeps its own email: it shares nothing"
    );
    b.unmerge(&m.merge_id).unwrap();
    assert_eq!(pairs(&b), vec![(l.clone(), d.clone())]);
    b.set_clock(Some(t("2025-06-01T01:00:00Z"))).unwrap();
    b.boot(login(Some(&l), "m-d")).unwrap();
    assert_eq!(b.get(&l).unwrap().id, d);
    assert_eq!(b.get(&x.id).unwrap().id, x.id);
}

/// A member-import row creating or updating member `m-1`.
const MEMBER_ROW: &str = "memberId,unsubscribeEmail,unsubscribeTexting\nm-1,false,false\n";

/// A book where member `m-1` gets import tags `M0`.. from `n` member imports, then a lead
/// with email `u@example.com` (booted once, if `booted`) gets `L0`.. from `n` lead
/// imports, each import a minute after the one before; the clock then stands a minute
/// after the last. Returns the book and the lead's id.
fn member_then_lead_tags(n: usize, booted: bool) -> (ContactBook, String) {
    let b = book_at("2025-06-01T00:00:00Z");
    let mut minute = 0;
    let mut tick = |b: &ContactBook| {
        minute += 1;
        b.set_clock(Some(
            t("2025-06-01T00:00:00Z") + chrono::TimeDelta::minutes(minute),
        ))
        .unwrap();
    };
    for i in 0..n {
        tick(&b);
        let mut o = ImportOptions::members();
        o.import_tag = Some(format!("M{i}"));
        import(&b, "m.csv", MEMBER_ROW, o);
    }
    tick(&b);
    let l = b.add_lead(NewLead::email("u@example.com")).unwrap();
    if booted {
        b.boot(boot_id(&l.id)).unwrap();
    }
    for i in 0..n {
        tick(&b);
        let mut o = ImportOptions::leads(IdentifyBy::Email);
        o.import_tag = Some(format!("L{i}"));
        let r = import(&b, "l.csv", "profile.email\nu@example.com\n", o);
        assert_eq!(r.updated, 1);
    }
    tick(&b);
    (b, l.id)
}

/// R-IMP-9: "A contact keeps at most 30 import tags; adding a 31st drops the oldest", and
/// R-UNI-3: a unified lead's "tags and lists are unioned". A member whose 30 import tags are
/// all older than a lead's 30 keeps the lead's when the two are unified, whichever event
/// unifies them: a manager's edit (the lead never booted, joined at once) or a login
/// completing a pending unification (the lead booted). The member's own tags went first
/// before, however new the lead's were.
#[test]
fn r_imp_9_unification_keeps_the_newest_import_tags_of_both_sides() {
    for booted in [false, true] {
        let (b, lead) = member_then_lead_tags(30, booted);
        let m = member_named(&b, "m-1");
        b.update(&m.id, &json!({"profile": {"email": "u@example.com"}}))
            .unwrap();
        if booted {
            assert_eq!(b.pending_unifications().unwrap().len(), 1);
            b.boot(login(Some(&lead), "m-1")).unwrap();
        }
        let all = support::all(&b);
        assert_eq!(all.len(), 1, "booted: {booted}");
        let want: Vec<String> = (0..30).map(|i| format!("L{i}")).collect();
        assert_eq!(all[0].user_import_tags, want, "booted: {booted}");
    }
}

/// R-IMP-9 with R-UNI-3 inside one import: a member-import row that gives a member a lead's
/// verified email joins the lead at once. The import's own tag is the newest of all, and
/// the two contacts' older tags are kept newest first: here the lead's, which came after
/// every one of the member's.
#[test]
fn r_imp_9_a_member_import_joining_a_lead_keeps_the_newest_tags_of_both() {
    let (b, _) = member_then_lead_tags(20, false);
    let mut o = ImportOptions::members();
    o.import_tag = Some("join".into());
    let r = import(
        &b,
        "j.csv",
        "memberId,profile.email\nm-1,u@example.com\n",
        o,
    );
    assert_eq!((r.created, r.updated, r.failed), (0, 1, 0));
    let all = support::all(&b);
    assert_eq!(all.len(), 1);
    let want: Vec<String> = (11..20)
        .map(|i| format!("M{i}"))
        .chain((0..20).map(|i| format!("L{i}")))
        .chain(["join".to_string()])
        .collect();
    assert_eq!(all[0].user_import_tags, want);
}

/// R-CON-3 with R-CON-1: a boot's profile that gives one key under both its names (`city`
/// and `profile.city`) with different values: which one is meant is a guess, which a new
/// lead and an edit refuse; a boot never fails on data, so it drops that key and keeps the
/// rest. The same value twice is one value; `null` is a value left out; a value that does
/// not parse is dropped on its own, and the other name's value is kept.
#[test]
fn r_con_3_a_boot_drops_a_key_given_twice_with_different_values() {
    let b = book_at("2025-06-01T00:00:00Z");
    b.define_key("profile.city", FieldType::String).unwrap();
    b.define_key("profile.plan", FieldType::String).unwrap();
    let c = b
        .add_lead(NewLead::mobile("+821012345678").with_profile("city", "Seoul"))
        .unwrap();
    for (profile, city, email) in [
        // Either order of the two names: dropped, the stored value stays.
        (
            json!({"city": "A", "profile.city": "B", "plan": "pro"}),
            "Seoul",
            None,
        ),
        (
            json!({"profile.city": "B", "city": "A", "plan": "pro"}),
            "Seoul",
            None,
        ),
        // A value that does not parse (nor an empty or over-long one) is dropped on its own:
        // it leaves no guess, and the other name's value is kept.
        (
            json!({"email": "x@example.com", "profile.email": "not an email", "plan": "pro"}),
            "Seoul",
            Some("x@example.com"),
        ),
        (
            json!({"city": "", "profile.city": "E", "plan": "pro"}),
            "E",
            Some("x@example.com"),
        ),
        (
            json!({"city": "x".repeat(600), "profile.city": "F", "plan": "pro"}),
            "F",
            Some("x@example.com"),
        ),
        // Different emails: unverified contact info is not chosen by the keys' order.
        (
            json!({"email": "y@example.com", "profile.email": "w@example.com", "plan": "pro"}),
            "F",
            Some("x@example.com"),
        ),
        // The same value twice (emails compare case-insensitively, R-VAL-3), or once with null.
        (
            json!({"city": "C", "profile.city": "C", "email": "Z@example.com",
                "profile.email": "z@example.com", "plan": "pro"}),
            "C",
            Some("z@example.com"),
        ),
        (
            json!({"city": null, "profile.city": "D", "plan": "pro"}),
            "D",
            Some("z@example.com"),
        ),
    ] {
        let v = b
            .boot(Boot {
                profile: profile.as_object().unwrap().clone(),
                ..Boot::visit(&c.id)
            })
            .unwrap();
        assert_eq!(
            v.profile.get("city"),
            Some(&Value::String(city.into())),
            "{profile}"
        );
        assert_eq!(
            v.email().map(str::to_ascii_lowercase).as_deref(),
            email,
            "{profile}"
        );
        assert_eq!(v.profile.get("plan"), Some(&Value::String("pro".into())));
    }
}
