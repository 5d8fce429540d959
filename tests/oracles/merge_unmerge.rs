//! R-CON-8: two contacts built from the input (profile values of every kind, tags,
//! opt-outs, boots, logins), merged with choices from the input, the survivor edited or
//! not, then unmerged.
//!
//! Asserted:
//! - a merge that fails changes nothing;
//! - the survivor holds, key by key, the chosen side's value, or unnamed the primary's
//!   where it has one, else the secondary's, with lists and tags unioned; an opt-out
//!   `true` on either side stays `true` unless chosen; the earlier `createdAt`, the later
//!   `lastSeenAt`, the sum of `sessionCount`; the secondary's id leads to the survivor;
//! - unmerge recreates the secondary exactly as it was (its id, profile, tags,
//!   verification, opt-outs, `memberId`, times and sessions; MU placement aside), and puts
//!   back on the survivor the pre-merge values of the fields not changed since the merge,
//!   while the fields changed since keep their new values;
//! - a second unmerge of the same merge is a `Conflict` that changes nothing.
use std::collections::BTreeSet;

use rolodex::{
    Boot, Contact, ContactBook, ErrorKind, FieldType, ImportSource, MergeChoices, NewLead, Side,
};
use serde_json::{json, Map, Value};

/// A value an edit after the merge writes, from a byte.
type EditValue = fn(u8) -> Value;

/// The choosable keys, with the value an edit after the merge writes.
const KEYS: [(&str, EditValue); 9] = [
    ("profile.name", |b| json!(format!("Edited {}", b % 3))),
    ("profile.email", |b| json!(format!("edited{}@y.com", b % 3))),
    ("profile.mobileNumber", |b| {
        json!(format!("+82 10-3000-{:04}", b % 3))
    }),
    ("profile.city", |b| {
        json!(["Seoul", "Busan"][usize::from(b % 2)])
    }),
    ("profile.score", |b| json!(f64::from(b % 5))),
    ("profile.items", |b| json!(["x", "a"][..usize::from(b % 3)])),
    ("profile.joined", |b| {
        json!(format!("2023-0{}-02", 1 + b % 3))
    }),
    ("tags", |b| json!(["t/x", "vip"][..usize::from(b % 3)])),
    ("unsubscribeEmail", |b| json!(b % 2 == 0)),
];

fn byte(data: &[u8], i: usize) -> u8 {
    data.get(i).copied().unwrap_or(0)
}

/// A contact built from four bytes: which values it holds, and how it was seen.
fn contact(book: &ContactBook, n: u8, b: [u8; 4]) -> Option<Contact> {
    let mut profile = Map::new();
    if b[0] & 1 == 0 {
        profile.insert(
            "city".into(),
            json!(["Seoul", "Incheon", "seoul"][usize::from(b[1] % 3)]),
        );
    }
    if b[0] & 2 == 0 {
        profile.insert("score".into(), json!(f64::from(b[1] % 4) - 1.5));
    }
    if b[0] & 4 == 0 {
        profile.insert(
            "items".into(),
            json!(["a", "b", "c"][..usize::from(b[2] % 4)]),
        );
    }
    if b[0] & 8 == 0 {
        profile.insert("joined".into(), json!(format!("2024-0{}-01", 1 + b[2] % 2)));
    }
    let c = book
        .add_lead(NewLead {
            email: (b[0] & 16 == 0).then(|| format!("c{n}@x.com")),
            mobile_number: (b[0] & 16 != 0 || b[0] & 32 == 0)
                .then(|| format!("+82 10-2000-{:04}", 1000 + u16::from(n))),
            name: (b[0] & 64 == 0).then(|| format!("Name {n}")),
            profile,
            tags: ["vip", "a/b", "c"][..usize::from(b[3] % 4)]
                .iter()
                .map(|t| t.to_string())
                .collect(),
        })
        .ok()?;
    let mut patch = Map::new();
    if b[3] & 4 != 0 {
        patch.insert("unsubscribeEmail".into(), json!(b[3] & 8 != 0));
    }
    if b[3] & 16 != 0 {
        patch.insert("unsubscribeTexting".into(), json!(b[3] & 32 != 0));
    }
    if !patch.is_empty() {
        book.update(&c.id, &Value::Object(patch)).ok()?;
    }
    // Boots (sessions), and a login that makes it a member.
    for _ in 0..b[1] >> 6 {
        book.boot(Boot {
            contact_id: Some(c.id.clone()),
            ..Boot::default()
        })
        .ok()?;
    }
    if b[3] & 64 != 0 {
        book.boot(Boot {
            contact_id: Some(c.id.clone()),
            member_id: Some(format!("m{n}")),
            ..Boot::default()
        })
        .ok()?;
    }
    book.get(&c.id).ok()
}

/// A contact's JSON without what MU placement and writes move (`hidden`, `updatedAt`).
fn kept(c: &Contact) -> Value {
    let mut j = serde_json::to_value(c).unwrap();
    let o = j.as_object_mut().unwrap();
    o.remove("hidden");
    o.remove("updatedAt");
    j
}

/// A field of the contact JSON by key name (`profile.x` or a top-level field).
fn field(c: &Contact, key: &str) -> Value {
    let j = serde_json::to_value(c).unwrap();
    match key.strip_prefix("profile.") {
        Some(k) => j["profile"][k].clone(),
        None => j[key].clone(),
    }
}

fn union(p: &Value, s: &Value) -> Value {
    if p.is_null() || s.is_null() {
        return if p.is_null() { s.clone() } else { p.clone() };
    }
    let mut out: Vec<Value> = p.as_array().cloned().unwrap_or_default();
    for x in s.as_array().into_iter().flatten() {
        if !out.contains(x) {
            out.push(x.clone());
        }
    }
    Value::Array(out)
}

/// Runs the check on one input; panics where a rule is broken.
pub fn check(data: &[u8]) {
    let book = super::book_with(&[
        ("profile.city", FieldType::String),
        ("profile.score", FieldType::Number),
        ("profile.items", FieldType::List),
        ("profile.joined", FieldType::Date),
    ]);
    let start = super::start();
    book.set_clock(Some(
        start + chrono::TimeDelta::hours(i64::from(byte(data, 0) % 4)),
    ))
    .unwrap();
    let Some(p) = contact(
        &book,
        1,
        [byte(data, 1), byte(data, 2), byte(data, 3), byte(data, 4)],
    ) else {
        return;
    };
    book.set_clock(Some(
        start + chrono::TimeDelta::hours(i64::from(byte(data, 5) % 4)),
    ))
    .unwrap();
    let Some(s) = contact(
        &book,
        2,
        [byte(data, 6), byte(data, 7), byte(data, 8), byte(data, 9)],
    ) else {
        return;
    };
    book.set_clock(Some(start + chrono::TimeDelta::days(2)))
        .unwrap();

    // Choices: two bits a key (none, primary, secondary).
    let mut choices = MergeChoices::new();
    for (i, (key, _)) in KEYS.iter().enumerate() {
        let bits = byte(data, 10 + i / 4) >> (2 * (i % 4)) & 3;
        match bits {
            1 => {
                choices.insert(key.to_string(), Side::Primary);
            }
            2 => {
                choices.insert(key.to_string(), Side::Secondary);
            }
            _ => {}
        }
    }
    let before = super::state(&book);
    let merged = match book.merge(&p.id, &s.id, &choices) {
        Ok(m) => m,
        Err(e) => {
            assert_eq!(
                super::state(&book),
                before,
                "a failed merge changed the book: {e}"
            );
            return;
        }
    };
    let m = merged.contact.clone();
    assert_eq!(m.id, p.id);
    assert_eq!(
        book.get(&s.id).unwrap().id,
        p.id,
        "the secondary id leads to the survivor"
    );
    for (key, _) in KEYS {
        let (pv, sv, mv) = (field(&p, key), field(&s, key), field(&m, key));
        let want = match choices.get(key) {
            Some(Side::Primary) => pv,
            Some(Side::Secondary) => sv,
            None if key.starts_with("unsubscribe") => {
                if pv == json!(true) || sv == json!(true) {
                    json!(true)
                } else if pv.is_null() {
                    sv
                } else {
                    pv
                }
            }
            None if key == "tags" || key == "profile.items" => union(&pv, &sv),
            None if pv.is_null() => sv,
            None => pv,
        };
        let want = if key == "tags" && want.is_null() {
            json!([])
        } else {
            want
        };
        assert_eq!(mv, want, "{key} after merge with {choices:?}");
    }
    assert_eq!(m.created_at, p.created_at.min(s.created_at));
    assert_eq!(m.last_seen_at, p.last_seen_at.max(s.last_seen_at));
    assert_eq!(m.session_count, p.session_count + s.session_count);
    assert_eq!(m.member_id, p.member_id.clone().or(s.member_id.clone()));

    // Edits to the survivor between merge and unmerge.
    let mut edited: BTreeSet<&str> = BTreeSet::new();
    let edits = byte(data, 13);
    book.set_clock(Some(start + chrono::TimeDelta::days(3)))
        .unwrap();
    for (i, (key, value)) in KEYS.iter().enumerate() {
        if edits >> (i % 8) & 1 == 0 || i / 8 != usize::from(byte(data, 14) % 2) {
            continue;
        }
        let v = value(byte(data, 15 + i));
        let patch = match key.strip_prefix("profile.") {
            Some(k) => json!({"profile": {k: v}}),
            None => json!({key.to_string(): v}),
        };
        let now = book.get(&p.id).unwrap();
        if book.update(&p.id, &patch).is_ok()
            && field(&book.get(&p.id).unwrap(), key) != field(&now, key)
        {
            edited.insert(key);
        }
    }
    // One more change between merge and unmerge, by another door.
    let field_now = |key: &str| field(&book.get(&p.id).unwrap(), key);
    match byte(data, 24) % 10 {
        4 => {
            let was = field_now("tags");
            if book.add_tags(vec![p.id.clone()], &["added"]).is_ok() && field_now("tags") != was {
                edited.insert("tags");
            }
        }
        5 => {
            // An import row that matches the survivor by its email (R-IMP-5).
            if let Some(email) = book.get(&p.id).unwrap().email() {
                let was = field_now("profile.city");
                let csv = format!("profile.email,profile.city\n{email},Busan\n");
                let report = book
                    .import_csv(
                        ImportSource::reader(std::io::Cursor::new(csv.into_bytes())),
                        super::import_options(0),
                        None,
                    )
                    .unwrap();
                assert_eq!(report.updated, 1, "{report:?}");
                if field_now("profile.city") != was {
                    edited.insert("profile.city");
                }
            }
        }
        6 => {
            book.boot(Boot {
                contact_id: Some(p.id.clone()),
                ..Boot::default()
            })
            .unwrap();
        }
        7 | 8 => {
            // The survivor deleted, or merged again: the merge can no longer be undone.
            if byte(data, 24) % 10 == 7 {
                book.delete(vec![p.id.clone()]).unwrap();
            } else {
                let Some(t) = contact(&book, 3, [byte(data, 25), 0, 0, 0]) else {
                    return;
                };
                if book.merge(&p.id, &t.id, &MergeChoices::new()).is_err() {
                    return;
                }
            }
            let before = super::state(&book);
            let e = book.unmerge(&merged.merge_id).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
            assert_eq!(
                super::state(&book),
                before,
                "a refused unmerge changed the book"
            );
            return;
        }
        9 => {
            // The secondary's memberId reaches the survivor until unmerge (R-CON-8): as an alias
            // when both were members, as the survivor's own when only the secondary was.
            if let Some(sm) = &s.member_id {
                let c = super::login(&book, sm);
                assert_eq!(
                    c.id, p.id,
                    "a login as the secondary's member reaches the survivor"
                );
            }
        }
        _ => {}
    }
    let survivor_then = book.get(&p.id).unwrap();

    let before = super::state(&book);
    let (survivor, back) = book
        .unmerge(&merged.merge_id)
        .unwrap_or_else(|e| panic!("unmerge failed: {e}; choices {choices:?}, edited {edited:?}"));
    assert_eq!(back.id, s.id);
    assert_eq!(kept(&back), kept(&s), "the secondary comes back as it was");
    assert_eq!(kept(&book.get(&s.id).unwrap()), kept(&s));
    assert_eq!(survivor.id, p.id);
    for (key, _) in KEYS {
        let want = if edited.contains(key) {
            field(&survivor_then, key)
        } else {
            field(&p, key)
        };
        assert_eq!(
            field(&survivor, key),
            want,
            "{key} after unmerge; edited {edited:?}"
        );
    }
    assert_ne!(super::state(&book), before);
    if let Some(sm) = &s.member_id {
        // After unmerge, the secondary's memberId reaches the secondary again.
        let c = super::login(&book, sm);
        assert_eq!(
            c.id, s.id,
            "after unmerge, a login as the secondary's member reaches it"
        );
    }
    let again = super::state(&book);
    assert_eq!(
        book.unmerge(&merged.merge_id).unwrap_err().kind(),
        ErrorKind::Conflict
    );
    assert_eq!(super::state(&book), again);
}
