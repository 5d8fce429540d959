//! R-UNI-1…4 against a model of their text, over mixes from the input: leads holding one
//! email (verified or not, booted or not, each with a tag of its own), then a member that
//! gains that email as verified info by a member import, a login with `verify`, or a
//! manager's edit.
//! - every verified lead that never booted is unified at once: it disappears, its id leads
//!   to the member, and its tag is the member's (R-UNI-3);
//! - every verified lead that booted stays, with a pending unification listed (R-UNI-4);
//! - unverified holders are left alone (R-UNI-1, R-CON-2);
//! - a booted lead's login as the member completes its unification (R-UNI-4);
//! - deleting a lead purges its pending unification (R-CON-5).
use std::collections::BTreeSet;
use std::io::Cursor;

use rolodex::{Boot, ContactBook, ErrorKind, ImportOptions, ImportSource, NewLead};
use serde_json::json;

const EMAIL: &str = "kim@x.com";

struct Lead {
    id: String,
    tag: String,
    verified: bool,
    booted: bool,
}

/// Runs the check on one input; panics where a rule is broken.
pub fn check(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let book = ContactBook::in_memory();
    let start = super::start();
    book.set_clock(Some(start)).unwrap();
    let mut leads: Vec<Lead> = Vec::new();
    for (i, &b) in rest.iter().take(5).enumerate() {
        let tag = format!("t{i}");
        let id = if i == 0 && b & 1 == 0 {
            // A hand-added lead: verified, never booted.
            book.add_lead(NewLead {
                email: Some(EMAIL.into()),
                tags: vec![tag.clone()],
                ..NewLead::default()
            })
            .unwrap()
            .id
        } else {
            // A visitor with the email unverified, tagged by the manager.
            let mut profile = serde_json::Map::new();
            profile.insert("email".into(), json!(EMAIL));
            let id = book
                .boot(Boot {
                    profile,
                    ..Boot::default()
                })
                .unwrap()
                .id;
            book.add_tags(vec![id.clone()], std::slice::from_ref(&tag))
                .unwrap();
            id
        };
        let c = book.get(&id).unwrap();
        let mut verified = c.verified.email;
        if !verified && b & 2 != 0 {
            verified = book.verify(&id, "profile.email").is_ok();
        }
        leads.push(Lead {
            id,
            tag,
            verified,
            booted: c.booted,
        });
    }
    book.set_clock(Some(start + chrono::TimeDelta::hours(1)))
        .unwrap();

    // The member gains the email, verified.
    let member_id = match mode % 3 {
        0 => {
            let csv = format!(
                "memberId,profile.email,unsubscribeEmail,unsubscribeTexting\nm1,{EMAIL},false,false\n"
            );
            let mut o = ImportOptions::members();
            o.auto_map = true;
            let r = book
                .import_csv(ImportSource::reader(Cursor::new(csv.into_bytes())), o, None)
                .unwrap();
            assert_eq!(r.failed, 0, "{r:?}");
            super::login(&book, "m1").id
        }
        1 => {
            let mut profile = serde_json::Map::new();
            profile.insert("email".into(), json!(EMAIL));
            let id = book
                .boot(Boot {
                    member_id: Some("m1".into()),
                    profile,
                    ..Boot::default()
                })
                .unwrap()
                .id;
            book.verify(&id, "profile.email").unwrap();
            id
        }
        _ => {
            let id = super::login(&book, "m1").id;
            book.update(&id, &json!({"profile": {"email": EMAIL}}))
                .unwrap();
            id
        }
    };
    let member = book.get(&member_id).unwrap();
    assert_eq!(member.member_id.as_deref(), Some("m1"));
    let pending: BTreeSet<String> = book
        .pending_unifications()
        .unwrap()
        .into_iter()
        .filter(|p| p.member_id == member_id)
        .map(|p| p.lead_id)
        .collect();
    for l in &leads {
        let now = book.get(&l.id);
        match (l.verified, l.booted) {
            (true, false) => {
                let c = now.unwrap_or_else(|e| panic!("unified lead {}: {e}", l.id));
                assert_eq!(
                    c.id, member_id,
                    "a never-booted verified lead is unified at once"
                );
                assert!(member.tags.contains(&l.tag), "its tag moves to the member");
                assert!(!pending.contains(&l.id));
            }
            (true, true) => {
                let c = now.unwrap();
                assert_eq!(c.id, l.id, "a booted lead stays until its login");
                assert!(pending.contains(&l.id), "its unification is pending");
            }
            (false, _) => {
                let c = now.unwrap();
                assert_eq!(c.id, l.id, "unverified info unifies nothing");
                assert!(!pending.contains(&l.id));
            }
        }
    }
    // R-CON-5: deleting a contact purges the pending unifications that hold it.
    if mode & 4 != 0 {
        if let Some(gone) = leads.iter().position(|l| l.verified && l.booted) {
            let l = leads.remove(gone);
            book.delete(vec![l.id.clone()]).unwrap();
            assert!(book
                .pending_unifications()
                .unwrap()
                .iter()
                .all(|p| p.lead_id != l.id));
        }
    }
    // The booted leads log in as the member, one by one.
    for l in leads.iter().filter(|l| l.verified && l.booted) {
        let c = book
            .boot(Boot {
                contact_id: Some(l.id.clone()),
                member_id: Some("m1".into()),
                ..Boot::default()
            })
            .unwrap();
        assert_eq!(c.id, member_id, "the login completes the unification");
        assert!(c.tags.contains(&l.tag));
        assert!(book
            .pending_unifications()
            .unwrap()
            .iter()
            .all(|p| p.lead_id != l.id));
        match book.get(&l.id) {
            Ok(c) => assert_eq!(c.id, member_id),
            Err(e) => assert_eq!(e.kind(), ErrorKind::NotFound),
        }
    }
}
