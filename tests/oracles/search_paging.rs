//! R-FLT-7: a sorted query walked page by page with `nextCursor`, while other contacts are
//! added, booted, edited, blocked, deleted or hidden between the pages. The sort keys,
//! directions, listing, filter, page size and the writes come from the input.
//!
//! Asserted:
//! - a contact that matched the query and kept its sort values, its listing and its match
//!   through the whole walk appears exactly once ("never repeated or skipped while others
//!   change"), and those contacts come in the order a fresh search gives them at the end;
//! - with no write between the pages, the pages put together are exactly one big page of
//!   the same query, in order, with the same `total`;
//! - a page never repeats a contact and never holds more than `limit`.
use std::collections::{BTreeMap, BTreeSet};

use rolodex::{Boot, ContactBook, FieldType, NewLead, Query};
use serde_json::{json, Value};

const SORT_KEYS: [&str; 16] = [
    "createdAt",
    "lastSeenAt",
    "updatedAt",
    "sessionCount",
    "memberId",
    "member",
    "tags",
    "profile.name",
    "profile.email",
    "profile.mobileNumber",
    "profile.city",
    "profile.score",
    "profile.joined",
    "profile.seen",
    "profile.flag",
    "profile.items",
];

const CITIES: [&str; 4] = ["Seoul", "busan", "Busan", "Ähm"];

fn filter(b: u8) -> Value {
    match b % 8 {
        0..=2 => Value::Null,
        3 => json!({"key": "profile.city", "op": "eq", "value": "Seoul"}),
        4 => json!({"key": "profile.score", "op": "gt", "value": 0}),
        5 => json!({"key": "tags", "op": "containsAny", "value": ["vip"]}),
        _ => json!({"or": [
            {"key": "profile.flag", "op": "eq", "value": true},
            {"key": "sessionCount", "op": "gte", "value": 2}
        ]}),
    }
}

fn book(seed: &[u8]) -> (ContactBook, Vec<String>) {
    let book = super::book_with(&[
        ("profile.city", FieldType::String),
        ("profile.score", FieldType::Number),
        ("profile.joined", FieldType::Date),
        ("profile.seen", FieldType::Datetime),
        ("profile.flag", FieldType::Boolean),
        ("profile.items", FieldType::List),
    ]);
    let start = super::start();
    let mut ids = Vec::new();
    for i in 0..24u8 {
        // Few distinct values, so that sort values tie and the id decides.
        let s = seed
            .get(usize::from(i))
            .copied()
            .unwrap_or(i.wrapping_mul(37));
        book.set_clock(Some(start + chrono::TimeDelta::seconds(i64::from(s % 5))))
            .unwrap();
        let mut profile = serde_json::Map::new();
        if s & 1 == 0 {
            profile.insert("city".into(), json!(CITIES[usize::from(s >> 1) % 4]));
        }
        if s & 2 == 0 {
            profile.insert("score".into(), json!(f64::from(s % 7) - 3.0));
        }
        if s & 4 == 0 {
            profile.insert("joined".into(), json!(format!("2024-0{}-01", 1 + s % 3)));
        }
        if s & 8 == 0 {
            profile.insert(
                "seen".into(),
                json!(format!("2025-01-01T0{}:00:00Z", s % 3)),
            );
        }
        if s & 16 == 0 {
            profile.insert("flag".into(), json!(s & 32 == 0));
        }
        if s & 64 == 0 {
            profile.insert("items".into(), json!(["b", "a"][..usize::from(s % 3)]));
        }
        let c = book
            .add_lead(NewLead {
                email: (s % 5 != 0).then(|| format!("u{i}@x{}.com", s % 2)),
                mobile_number: (s % 5 == 0 || s % 3 == 0)
                    .then(|| format!("+82 10-2000-{:04}", 1000 + u16::from(i))),
                name: (s % 4 != 1).then(|| ["Kim", "kim", "Lee"][usize::from(s % 3)].to_string()),
                profile,
                tags: if s % 3 == 0 {
                    vec!["vip".into()]
                } else {
                    vec![]
                },
            })
            .unwrap();
        if s % 4 == 0 {
            book.boot(Boot {
                contact_id: Some(c.id.clone()),
                ..Boot::default()
            })
            .unwrap();
        }
        ids.push(c.id);
    }
    book.block(vec![ids[3].clone(), ids[11].clone()]).unwrap();
    book.set_mu_limit(Some(19)).unwrap();
    (book, ids)
}

/// What the walk depends on for each contact: its place in the query (listing and
/// match) and its sort values, by id.
fn snapshot(book: &ContactBook, query: &Value, keys: &[&str]) -> BTreeMap<String, String> {
    let mut all = query.clone();
    all["limit"] = json!(1000);
    all["cursor"] = Value::Null;
    let matched: BTreeSet<String> = book
        .search(&Query::from_value(&all).unwrap())
        .unwrap()
        .contacts
        .into_iter()
        .map(|c| c.id)
        .collect();
    super::everyone(book)
        .into_iter()
        .map(|c| {
            let j = serde_json::to_value(&c).unwrap();
            let values: Vec<Value> = keys
                .iter()
                .map(|k| match k.strip_prefix("profile.") {
                    Some(p) => j["profile"][p].clone(),
                    None => j[*k].clone(),
                })
                .collect();
            let place = format!("{}|{}", matched.contains(&c.id), json!(values));
            (c.id, place)
        })
        .collect()
}

fn ids_of(book: &ContactBook, query: &Value) -> Vec<String> {
    let mut all = query.clone();
    all["limit"] = json!(1000);
    all["cursor"] = Value::Null;
    book.search(&Query::from_value(&all).unwrap())
        .unwrap()
        .contacts
        .into_iter()
        .map(|c| c.id)
        .collect()
}

/// Runs the check on one input; panics where a rule is broken.
pub fn check(data: &[u8]) {
    if data.len() < 4 {
        return;
    }
    let (head, rest) = data.split_at(4);
    let (seed, steps) = rest.split_at(rest.len().min(24));
    let (book, mut ids) = book(seed);

    let nkeys = 1 + usize::from(head[0] % 3);
    let keys: Vec<&str> = (0..nkeys)
        .map(|i| {
            SORT_KEYS[usize::from(head[1].wrapping_add(head[0].wrapping_mul(i as u8 + 7)) >> 1)
                % SORT_KEYS.len()]
        })
        .collect();
    let sort: Vec<Value> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let desc = head[2] >> i & 1 == 1;
            json!({"key": k, "order": if desc { "desc" } else { "asc" }})
        })
        .collect();
    // Small pages, so that a walk has many pages and writes between them.
    let limit = 1 + u64::from(head[3] % 7) / 2;
    let include = ["visible", "visible", "hidden", "blocked"][usize::from(head[3] >> 3) % 4];
    let mut query = json!({"sort": sort, "limit": limit, "include": include});
    let f = filter(head[3] >> 5);
    if !f.is_null() {
        query["filter"] = f;
    }
    let Ok(q) = Query::from_value(&query) else {
        // A sort the schema refuses (a repeated key) is refused as a whole.
        return;
    };
    if book.search(&q).is_err() {
        return;
    }

    let before = snapshot(&book, &query, &keys);
    let first_whole = ids_of(&book, &query);
    let mut changed: BTreeSet<String> = BTreeSet::new();
    let mut seen: Vec<String> = Vec::new();
    let mut wrote = false;
    let mut cursor: Option<String> = None;
    let mut last_total = None;
    let mut clock: chrono::DateTime<chrono::Utc> = "2025-04-01T00:00:00Z".parse().unwrap();
    let mut steps = steps.chunks(2);
    for _page in 0..200 {
        let mut qv = query.clone();
        qv["cursor"] = json!(cursor);
        let page = book.search(&Query::from_value(&qv).unwrap()).unwrap();
        assert!(page.contacts.len() as u64 <= limit, "{qv}");
        let mut in_page = BTreeSet::new();
        for c in &page.contacts {
            assert!(in_page.insert(c.id.clone()), "repeated within a page: {qv}");
        }
        seen.extend(page.contacts.into_iter().map(|c| c.id));
        last_total = Some(page.total);
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
        // Writes between this page and the next, from the input.
        let Some(step) = steps.next() else { continue };
        let (op, a) = (step[0] % 9, step.get(1).copied().unwrap_or(0));
        let target = ids[usize::from(a) % ids.len()].clone();
        clock += chrono::TimeDelta::minutes(i64::from(a % 50));
        book.set_clock(Some(clock)).unwrap();
        let prior = snapshot(&book, &query, &keys);
        let _ = match op {
            0 => book
                .boot(Boot {
                    contact_id: Some(target.clone()),
                    ..Boot::default()
                })
                .map(drop),
            1 => book
                .update(
                    &target,
                    &json!({"profile": {"city": CITIES[usize::from(a) % 4]}}),
                )
                .map(drop),
            2 => book
                .update(
                    &target,
                    &json!({"profile": {"score": f64::from(a % 9) - 4.0}}),
                )
                .map(drop),
            3 => book
                .update(
                    &target,
                    &json!({"profile": {"name": null, "flag": a & 1 == 0}}),
                )
                .map(drop),
            4 => book.block(vec![target.clone()]).map(drop),
            5 => book.unblock(vec![target.clone()]).map(drop),
            6 => book.delete(vec![target.clone()]).map(drop),
            7 => book
                .add_lead(NewLead {
                    email: Some(format!("new{a}@x.com")),
                    name: Some("Kim".into()),
                    ..NewLead::default()
                })
                .map(|c| ids.push(c.id)),
            _ => book.set_mu_limit(Some(10 + u64::from(a % 15))).map(drop),
        };
        let after = snapshot(&book, &query, &keys);
        wrote = true;
        for (id, place) in &prior {
            if after.get(id) != Some(place) {
                changed.insert(id.clone());
            }
        }
        for id in after.keys() {
            if !prior.contains_key(id) {
                changed.insert(id.clone());
            }
        }
    }
    assert!(cursor.is_none(), "a walk of 200 pages did not end: {query}");

    let last_whole = ids_of(&book, &query);
    if !wrote {
        assert_eq!(
            seen, first_whole,
            "pages put together differ from one page: {query}"
        );
        assert_eq!(last_total, Some(first_whole.len() as u64), "{query}");
        return;
    }
    // The contacts that matched throughout and never changed their place.
    let steady: BTreeSet<&String> = first_whole
        .iter()
        .filter(|id| !changed.contains(*id) && before.contains_key(*id))
        .collect();
    for id in &steady {
        let n = seen.iter().filter(|s| s == id).count();
        assert_eq!(n, 1, "{id} unchanged but seen {n} times: {query}");
    }
    let order_seen: Vec<&String> = seen.iter().filter(|id| steady.contains(id)).collect();
    let order_now: Vec<&String> = last_whole.iter().filter(|id| steady.contains(id)).collect();
    assert_eq!(
        order_seen, order_now,
        "unchanged contacts out of order: {query}"
    );
}
