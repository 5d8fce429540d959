//! R-CON-2 against its text: "a boot … gives unverified info. Unverified input never
//! overwrites verified info. Unverified info never takes part in unification or import
//! matching as an identifier." Contacts (hand-added leads with verified info, visitors with
//! unverified info, a member) boot again with emails and numbers from the input, some held
//! by other contacts; a boot never fails on data (R-CON-3).
//! - verified info stays as it was, value and flag;
//! - a field without verified info takes the boot's valid value, unverified;
//! - no other contact changes, and none disappears (no unification through it).
use rolodex::{Boot, Contact, NewLead};
use serde_json::json;

const EMAILS: [&str; 5] = ["a@x.com", "b@x.com", "m@x.com", "NEW@x.com", "not an email"];
const MOBILES: [&str; 4] = [
    "+82 10-1111-0001",
    "+82 10-1111-0002",
    "+82 10-1111-0009",
    "12",
];

fn field(c: &Contact, email: bool) -> (Option<String>, bool) {
    if email {
        (c.email().map(str::to_string), c.verified.email)
    } else {
        (
            c.mobile_number().map(str::to_string),
            c.verified.mobile_number,
        )
    }
}

/// Runs the check on one input; panics where a rule is broken.
pub fn check(data: &[u8]) {
    let book = super::book_with(&[]);
    let mut ids = vec![
        book.add_lead(NewLead::email("a@x.com")).unwrap().id,
        book.add_lead(NewLead::mobile("+82 10-1111-0002"))
            .unwrap()
            .id,
    ];
    let mut profile = serde_json::Map::new();
    profile.insert("email".into(), json!("b@x.com"));
    ids.push(
        book.boot(Boot {
            profile,
            ..Boot::default()
        })
        .unwrap()
        .id,
    );
    let mut profile = serde_json::Map::new();
    profile.insert("email".into(), json!("m@x.com"));
    ids.push(
        book.boot(Boot {
            member_id: Some("m1".into()),
            profile,
            ..Boot::default()
        })
        .unwrap()
        .id,
    );
    book.verify(&ids[3], "profile.email").unwrap();
    for (n, c) in data.chunks(2).take(10).enumerate() {
        let (a, b) = (c[0], c.get(1).copied().unwrap_or(0));
        let id = ids[usize::from(a) % ids.len()].clone();
        let mut profile = serde_json::Map::new();
        if b & 1 != 0 {
            profile.insert(
                "email".into(),
                json!(EMAILS[usize::from(b >> 1) % EMAILS.len()]),
            );
        }
        if b & 16 != 0 {
            profile.insert(
                "mobileNumber".into(),
                json!(MOBILES[usize::from(b >> 5) % MOBILES.len()]),
            );
        }
        let others: Vec<Contact> = super::everyone(&book)
            .into_iter()
            .filter(|c| c.id != id)
            .collect();
        let me = book.get(&id).unwrap();
        book.set_clock(Some(
            super::start() + chrono::TimeDelta::minutes(n as i64 * 40),
        ))
        .unwrap();
        let after = book
            .boot(Boot {
                contact_id: Some(id.clone()),
                profile: profile.clone(),
                ..Boot::default()
            })
            .unwrap();
        assert_eq!(after.id, id, "a boot of a known contact returns it");
        for (key, email) in [("email", true), ("mobileNumber", false)] {
            let (old, verified) = field(&me, email);
            let (new, new_verified) = field(&after, email);
            let given = profile.get(key).and_then(|v| v.as_str());
            let valid = given.and_then(|t| {
                if email {
                    rolodex::parse_value(rolodex::FieldType::Email, t).ok()
                } else {
                    rolodex::parse_value(rolodex::FieldType::MobileNumber, t).ok()
                }
            });
            if verified {
                assert_eq!(
                    (new, new_verified),
                    (old, true),
                    "verified {key} kept: {profile:?}"
                );
            } else if let Some(v) = valid {
                let v = serde_json::to_value(&v).unwrap();
                assert_eq!(
                    new.map(|s| json!(s)),
                    Some(v),
                    "unverified {key} taken: {profile:?}"
                );
                assert!(!new_verified, "a boot's {key} is unverified");
            } else {
                assert_eq!(
                    (new, new_verified),
                    (old, false),
                    "{key} unchanged: {profile:?}"
                );
            }
        }
        let others_after: Vec<Contact> = super::everyone(&book)
            .into_iter()
            .filter(|c| c.id != id)
            .collect();
        assert_eq!(
            others_after, others,
            "a boot changed another contact: {profile:?}"
        );
    }
}
