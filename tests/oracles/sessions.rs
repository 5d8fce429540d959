//! R-CON-3 against its text: "a boot updates `lastSeenAt`; a boot more than 30 minutes after
//! the previous activity starts a new session and increments `sessionCount`; a contact's
//! first boot starts session 1, and the window counts from its previous boot. A contact
//! records whether it has ever booted (imports and hand-adds set `lastSeenAt` but are not
//! boots)." Contacts (hand-added leads and visitors) boot at times from the input — often
//! exactly 30 minutes apart — between edits and imports that are not boots; their
//! `sessionCount`, `lastSeenAt` and `booted` always equal a plain model.
use std::io::Cursor;

use chrono::{DateTime, TimeDelta, Utc};
use rolodex::{Boot, IdentifyBy, ImportOptions, ImportSource, NewLead};
use serde_json::json;

struct Model {
    id: String,
    sessions: u64,
    last_seen: DateTime<Utc>,
    /// The previous boot, from which the window counts.
    last_boot: Option<DateTime<Utc>>,
}

/// Runs the check on one input; panics where a rule is broken.
pub fn check(data: &[u8]) {
    let book = super::book_with(&[]);
    let mut now = super::start();
    let mut people: Vec<Model> = Vec::new();
    for i in 0..2 {
        let c = book
            .add_lead(NewLead::email(format!("p{i}@x.com")))
            .unwrap();
        people.push(Model {
            id: c.id,
            sessions: 0,
            last_seen: now,
            last_boot: None,
        });
    }
    let visitor = book.boot(Boot::default()).unwrap();
    people.push(Model {
        id: visitor.id,
        sessions: 1,
        last_seen: now,
        last_boot: Some(now),
    });
    for &b in data.iter().take(40) {
        // Steps of 0, 29, 30, 31 or 45 minutes, or 30 minutes and a millisecond.
        now += match b % 6 {
            0 => TimeDelta::zero(),
            1 => TimeDelta::minutes(29),
            2 => TimeDelta::minutes(30),
            3 => TimeDelta::minutes(31),
            4 => TimeDelta::minutes(45),
            _ => TimeDelta::minutes(30) + TimeDelta::milliseconds(1),
        };
        book.set_clock(Some(now)).unwrap();
        let who = usize::from(b >> 3) % people.len();
        let p = &mut people[who];
        match b >> 6 {
            // Not boots: an edit and an import change `updatedAt` only.
            0 => {
                book.update(&p.id, &json!({"profile": {"name": "Edited"}}))
                    .unwrap();
            }
            1 if who < 2 => {
                let mut o = ImportOptions::leads(IdentifyBy::Email);
                o.auto_map = true;
                let csv = format!("profile.email,profile.name\np{who}@x.com,Imported\n");
                book.import_csv(ImportSource::reader(Cursor::new(csv.into_bytes())), o, None)
                    .unwrap();
            }
            _ => {
                let c = book
                    .boot(Boot {
                        contact_id: Some(p.id.clone()),
                        ..Boot::default()
                    })
                    .unwrap();
                let new_session = match p.last_boot {
                    None => true,
                    Some(t) => now - t > TimeDelta::minutes(30),
                };
                if new_session {
                    p.sessions += 1;
                }
                p.last_seen = now;
                p.last_boot = Some(now);
                assert_eq!(c.session_count, p.sessions, "the boot's contact");
            }
        }
        for p in &people {
            let c = book.get(&p.id).unwrap();
            assert_eq!(
                (c.session_count, c.last_seen_at, c.booted),
                (p.sessions, p.last_seen, p.last_boot.is_some()),
                "contact {}",
                p.id
            );
        }
    }
}
