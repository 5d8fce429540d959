//! R-IMP-5 against a model of its text: "if contacts hold that email/number as verified
//! info, the one with the most recent `lastSeenAt` is updated (ties: newer `createdAt`, then
//! the larger id); otherwise a new verified lead is created — also when only unverified
//! contacts hold it". Visitors boot with the same email or mobile number (unverified) at
//! times from the input, some boot again, some are verified, some hand-added leads are
//! mixed in; then one import row names that identifier.
use std::io::Cursor;

use rolodex::{Boot, ContactBook, IdentifyBy, ImportOptions, ImportSource, NewLead};
use serde_json::json;

/// Runs the check on one input; panics where a rule is broken.
pub fn check(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let by_email = mode % 2 == 0;
    let (field, stored, written) = if by_email {
        ("email", "x@y.com", "X@Y.com")
    } else {
        ("mobileNumber", "+821020203030", "+82 10-2020-3030")
    };
    let book = ContactBook::in_memory();
    let start = super::start();
    for (i, c) in rest.chunks(3).take(6).enumerate() {
        let b = |k: usize| c.get(k).copied().unwrap_or(0);
        // Few distinct times, so that `lastSeenAt` and `createdAt` tie.
        book.set_clock(Some(
            start + chrono::TimeDelta::minutes(i64::from(b(0) % 4)),
        ))
        .unwrap();
        let id = if b(1) % 5 == 0 {
            // A hand-added lead (verified) when no verified holder exists yet.
            let lead = if by_email {
                NewLead::email(stored)
            } else {
                NewLead {
                    mobile_number: Some(stored.into()),
                    ..NewLead::default()
                }
            };
            match book.add_lead(lead.with_name(format!("Lead {i}"))) {
                Ok(c) => c.id,
                Err(_) => continue,
            }
        } else {
            let mut profile = serde_json::Map::new();
            profile.insert(field.into(), json!(stored));
            profile.insert("name".into(), json!(format!("Visitor {i}")));
            book.boot(Boot {
                profile,
                ..Boot::default()
            })
            .unwrap()
            .id
        };
        if b(1) & 2 != 0 {
            // A later visit.
            book.set_clock(Some(
                start + chrono::TimeDelta::minutes(i64::from(b(2) % 6)),
            ))
            .unwrap();
            book.boot(Boot {
                contact_id: Some(id.clone()),
                ..Boot::default()
            })
            .unwrap();
        }
        if b(1) & 4 != 0 {
            // Verification may be refused (another contact holds it verified): then not.
            let _ = book.verify(&id, &format!("profile.{field}"));
        }
    }
    book.set_clock(Some(start + chrono::TimeDelta::hours(1)))
        .unwrap();

    let everyone = super::everyone(&book);
    let holders: Vec<_> = everyone
        .iter()
        .filter(|c| {
            let (v, verified) = if by_email {
                (c.email(), c.verified.email)
            } else {
                (c.mobile_number(), c.verified.mobile_number)
            };
            verified && v == Some(stored)
        })
        .collect();
    let chosen = holders
        .iter()
        .max_by(|a, b| {
            (a.last_seen_at, a.created_at, &a.id).cmp(&(b.last_seen_at, b.created_at, &b.id))
        })
        .map(|c| c.id.clone());

    let csv = format!(
        "profile.{field},profile.name,unsubscribeEmail,unsubscribeTexting\n{written},Imported,false,false\n"
    );
    let mut options = ImportOptions::leads(if by_email {
        IdentifyBy::Email
    } else {
        IdentifyBy::MobileNumber
    });
    options.auto_map = true;
    let report = book
        .import_csv(
            ImportSource::reader(Cursor::new(csv.into_bytes())),
            options,
            None,
        )
        .unwrap();
    let after = super::everyone(&book);
    let imported: Vec<_> = after
        .iter()
        .filter(|c| c.name() == Some("Imported"))
        .collect();
    assert_eq!(imported.len(), 1, "{report:?}");
    match chosen {
        Some(id) => {
            assert_eq!((report.created, report.updated), (0, 1), "{report:?}");
            assert_eq!(
                imported[0].id, id,
                "the verified holder seen last (then created last, then the larger id) is updated"
            );
        }
        None => {
            assert_eq!((report.created, report.updated), (1, 0), "{report:?}");
            assert!(
                everyone.iter().all(|c| c.id != imported[0].id),
                "only unverified holders: a new lead"
            );
            let verified = if by_email {
                imported[0].verified.email
            } else {
                imported[0].verified.mobile_number
            };
            assert!(verified, "the new lead's info is verified");
        }
    }
}
