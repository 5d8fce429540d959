//! Differential test of the indexed memory store against the reference scan
//! (`filter::search_scan`): random schemas, contacts, filters (nested and/or/not, every
//! operator and type, missing values, tag hierarchy, relative dates), quick search, terms,
//! sort and cursor paging, before and after random updates, deletes and blocks.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use rolodex::filter::operators_for;
use rolodex::filter::{Condition, Field, FieldValue};
use rolodex::store::{for_each_view_by_search, Batch, ContactView, Op as StoreOp, ViewValue};
use rolodex::{
    compile_query, search_scan, Contact, EvalCtx, FieldType, Filter, Include, MemoryStore, Op,
    Query, Schema, SortKey, SortOrder, Store, Value,
};
use serde_json::{json, Value as J};

mod support;
use support::Rng;

const STRINGS: &[&str] = &[
    "Kim",
    "kim",
    "KIM Min-jun",
    "Lee",
    "Straße",
    "STRASSE",
    "alpha beta",
    "",
    "ÅB",
    "ab",
    "Seoul",
];
const EMAILS: &[&str] = &[
    "a@x.com",
    "B@x.com",
    "kim@gmail.com",
    "Kim@Gmail.com",
    "lee@naver.com",
    "straße@x.de",
    // Several `@` (checked row by row by the `@` index), and a domain with a capital.
    "\"a@b\"@x.com",
    "kim@GMAIL.COM.kr",
];
const PHONES: &[&str] = &[
    "+821020203030",
    "+821011112222",
    "+14155550123",
    "+821020201111",
    // Stored, yet invalid for R-VAL-2 (no such Korean mobile range).
    "+821059957013",
];
// Bucket edges of the number index (256 buckets an octave: integers up to 256 get one
// each, 256..512 share two to a bucket, 512..1024 four), so ranges start and end on and
// inside buckets.
const NUMS: &[f64] = &[
    -1.0, 0.0, -0.0, 1.0, 2.5, 3.0, 255.0, 256.0, 257.0, 511.0, 512.0, 900.0, 901.0, 902.0, 1000.0,
    1e9,
];
/// Stored only (no JSON form): the infinities.
const STORED_NUMS: &[f64] = &[f64::INFINITY, f64::NEG_INFINITY, 903.5, -256.0];
const LIST: &[&str] = &["a", "B", "c", "Straße"];
const TAGS: &[&str] = &[
    "vip",
    "basic",
    "basic/level1",
    "Basic/Level2",
    "sale",
    "sale/x",
];
const MEMBERS: &[&str] = &["m1", "M1", "m2", "m-1001"];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

fn rand_dt(r: &mut Rng) -> DateTime<Utc> {
    let base = now();
    match r.below(4) {
        0 => base - Duration::days(r.below(10) as i64),
        1 => base - Duration::hours(r.below(300) as i64),
        2 => base + Duration::hours(r.below(30) as i64),
        _ => {
            base - Duration::days(r.below(400) as i64)
                - Duration::milliseconds(r.below(86_400_000) as i64)
        }
    }
}

fn rand_date(r: &mut Rng) -> NaiveDate {
    now().date_naive() - Duration::days(r.below(40) as i64 - 5)
}

fn value_of(r: &mut Rng, t: FieldType) -> Value {
    match t {
        FieldType::String => Value::String(r.pick(STRINGS).to_string()),
        FieldType::Email => Value::Email(r.pick(EMAILS).to_string()),
        FieldType::MobileNumber | FieldType::LandlineNumber => {
            Value::Phone(r.pick(PHONES).to_string())
        }
        FieldType::Number if r.chance(0.1) => Value::Number(*r.pick(STORED_NUMS)),
        FieldType::Number => Value::Number(*r.pick(NUMS)),
        FieldType::Boolean => Value::Boolean(r.chance(0.5)),
        FieldType::Date => Value::Date(rand_date(r)),
        FieldType::Datetime => Value::Datetime(rand_dt(r)),
        FieldType::List => Value::List((0..r.below(3)).map(|_| r.pick(LIST).to_string()).collect()),
        FieldType::Tag => Value::Tag((0..r.below(3)).map(|_| r.pick(TAGS).to_string()).collect()),
        FieldType::ListOfNumber => {
            Value::ListOfNumber((0..r.below(3)).map(|_| *r.pick(NUMS)).collect())
        }
    }
}

fn contact(r: &mut Rng, id: String, keys: &[(String, FieldType)]) -> Contact {
    let mut c = Contact::new(id, rand_dt(r));
    c.last_seen_at = rand_dt(r);
    c.updated_at = rand_dt(r);
    if r.chance(0.4) {
        c.member_id = Some(r.pick(MEMBERS).to_string());
        c.member = true;
    }
    let mut p = BTreeMap::new();
    if r.chance(0.7) {
        p.insert("name".into(), Value::String(r.pick(STRINGS).to_string()));
    }
    if r.chance(0.7) {
        p.insert("email".into(), Value::Email(r.pick(EMAILS).to_string()));
    }
    if r.chance(0.6) {
        p.insert(
            "mobileNumber".into(),
            Value::Phone(r.pick(PHONES).to_string()),
        );
    }
    // Now and then a value of another kind under a built-in key.
    if r.chance(0.04) {
        p.insert("name".into(), Value::Email(r.pick(EMAILS).to_string()));
    }
    if r.chance(0.04) {
        p.insert("email".into(), Value::String(r.pick(STRINGS).to_string()));
    }
    if r.chance(0.04) {
        p.insert(
            "mobileNumber".into(),
            Value::String(r.pick(PHONES).to_string()),
        );
    }
    for (k, t) in keys {
        if r.chance(0.6) {
            // Sometimes a value of another kind (a key redefined after the write).
            let t = if r.chance(0.05) {
                *r.pick(&FieldType::ALL)
            } else {
                *t
            };
            p.insert(k.trim_start_matches("profile.").to_string(), value_of(r, t));
        }
    }
    c.profile = p.into();
    c.tags = (0..r.below(3)).map(|_| r.pick(TAGS).to_string()).collect();
    c.user_import_tags = (0..r.below(2)).map(|_| r.pick(LIST).to_string()).collect();
    c.unsubscribe_email = [None, Some(true), Some(false)][r.below(3)];
    c.unsubscribe_texting = [None, Some(true), Some(false)][r.below(3)];
    c.blocked = r.chance(0.1);
    c.hidden = r.chance(0.15);
    c.booted = r.chance(0.5);
    c.verified.email = r.chance(0.5);
    // Mostly a few buckets; sometimes spread over many (ranges then take the complement).
    c.session_count = if r.chance(0.5) {
        r.below(5) as u64
    } else {
        r.below(1100) as u64
    };
    c
}

fn arg_json(r: &mut Rng, t: FieldType, op: Op) -> Option<J> {
    let one = |r: &mut Rng| -> J {
        match t {
            FieldType::String => json!(r.pick(STRINGS)),
            FieldType::Email => json!(r.pick(EMAILS)),
            FieldType::MobileNumber | FieldType::LandlineNumber => json!(r.pick(PHONES)),
            FieldType::Number => json!(r.pick(NUMS)),
            FieldType::Boolean => json!(r.chance(0.5)),
            FieldType::Date | FieldType::Datetime => {
                if r.chance(0.5) {
                    json!(rand_date(r).format("%Y-%m-%d").to_string())
                } else {
                    json!(rand_dt(r).to_rfc3339())
                }
            }
            FieldType::List => json!(r.pick(LIST)),
            FieldType::Tag => json!(r.pick(&["vip", "basic", "sale", "basic/level2", "Sale"])),
            FieldType::ListOfNumber => json!(r.pick(NUMS)),
        }
    };
    Some(match op {
        Op::Exists | Op::NotExists | Op::IsEmpty => return None,
        Op::In | Op::NotIn | Op::ContainsAny | Op::ContainsAll | Op::ContainsNone => {
            J::Array((0..1 + r.below(3)).map(|_| one(r)).collect())
        }
        Op::Between => {
            let (a, b) = (one(r), one(r));
            json!([a, b])
        }
        Op::WithinLast | Op::MoreThanAgo => json!(r.pick(&["P7D", "PT12H", "P1M", "P1Y", "P0D"])),
        Op::Contains | Op::NotContains | Op::StartsWith => {
            if t.is_phone() {
                json!(r.pick(&["2020", "010", "1020", "415", "3030", "82"]))
            } else {
                json!(r.pick(&[
                    "k",
                    "ki",
                    "kim",
                    "im",
                    "@x.c",
                    "gmail",
                    "ss",
                    "straße",
                    "a",
                    "min-jun",
                    "@gmail.com",
                    "@",
                    "@b\"@x",
                    "@GMAIL.com",
                    "m@"
                ]))
            }
        }
        _ => one(r),
    })
}

fn filter(r: &mut Rng, keys: &[(String, FieldType)], depth: usize) -> Filter {
    if depth < 3 && r.chance(0.35) {
        let n = 1 + r.below(3);
        let items: Vec<Filter> = (0..n).map(|_| filter(r, keys, depth + 1)).collect();
        return match r.below(3) {
            0 => Filter::And(items),
            1 => Filter::Or(items),
            _ => Filter::Not(Box::new(items.into_iter().next().unwrap_or_default())),
        };
    }
    let (k, t) = r.pick(keys).clone();
    let mut ops: Vec<Op> = vec![Op::Exists, Op::NotExists];
    ops.extend_from_slice(operators_for(t));
    let op = *r.pick(&ops);
    serde_json::from_value(match arg_json(r, t, op) {
        Some(v) => json!({"key": k, "op": op.as_str(), "value": v}),
        None => json!({"key": k, "op": op.as_str()}),
    })
    .unwrap_or_default()
}

fn check(store: &MemoryStore, schema: &Schema, q: &Query, ctx: &EvalCtx) {
    let Ok(cq) = compile_query(q, schema) else {
        return;
    };
    let mut all = Vec::new();
    store
        .for_each("ch", &mut |c| {
            all.push(c.clone());
            true
        })
        .unwrap();
    // Every match as a read-only view, in id order (a filtered export): the memory store's
    // rows read in place, and any store's default through its search pages.
    let mut want_ids: Vec<String> = all
        .iter()
        .filter(|c| cq.matches(c, ctx))
        .map(|c| c.id.clone())
        .collect();
    want_ids.sort();
    let fields = [Field::Id, Field::Blocked];
    let view_ids = |by_search: bool| {
        let mut got = Vec::new();
        let mut f = |v: &dyn ContactView| {
            assert_eq!(
                v.value(1),
                ViewValue::Value(FieldValue::Boolean(v.blocked()))
            );
            match v.value(0) {
                ViewValue::Value(FieldValue::Text(id)) => got.push(id.to_string()),
                other => panic!("id as {other:?}"),
            }
            true
        };
        if by_search {
            for_each_view_by_search(store, "ch", &cq, ctx, &fields, &mut f).unwrap();
        } else {
            store
                .for_each_view_matching("ch", &cq, ctx, &fields, &mut f)
                .unwrap();
        }
        got
    };
    assert_eq!(view_ids(false), want_ids, "views of {q:?}");
    assert_eq!(view_ids(true), want_ids, "views by search of {q:?}");
    let mut cq = cq;
    for _ in 0..4 {
        let want = search_scan(all.iter(), &cq, ctx);
        let got = store.search("ch", &cq, ctx).unwrap();
        assert_eq!(got.total, want.total, "total of {q:?}");
        assert_eq!(
            got.unmatched_terms, want.unmatched_terms,
            "unmatched of {q:?}"
        );
        let ids = |p: &rolodex::Page| p.contacts.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&got), ids(&want), "page of {q:?}");
        assert_eq!(got.contacts, want.contacts);
        assert_eq!(got.next_cursor, want.next_cursor);
        match want.next_cursor {
            Some(c) => cq.cursor = Some(cq.sort.decode_cursor(&c).unwrap()),
            None => break,
        }
    }
}

/// The ids the store's search finds for `filter` in the `include` listing, in id order.
fn found(
    store: &MemoryStore,
    schema: &Schema,
    filter: Filter,
    include: Include,
    ctx: &EvalCtx,
) -> Option<Vec<String>> {
    let q = Query {
        filter: Some(filter),
        sort: vec![SortKey::new("id", SortOrder::Asc)],
        limit: Some(1000),
        include,
        ..Query::default()
    };
    let cq = compile_query(&q, schema).ok()?;
    let page = store.search("ch", &cq, ctx).unwrap();
    assert!(page.next_cursor.is_none());
    Some(page.contacts.into_iter().map(|c| c.id).collect())
}

/// FILTER.md: `{"not": F}` is "the exact logical complement" of F: the two split the
/// listing, and no contact is in both.
fn complement(store: &MemoryStore, schema: &Schema, f: &Filter, include: Include, ctx: &EvalCtx) {
    let Some(yes) = found(store, schema, f.clone(), include, ctx) else {
        return;
    };
    // The wrapping may pass the depth limit; then there is nothing to compare.
    let Some(no) = found(
        store,
        schema,
        Filter::Not(Box::new(f.clone())),
        include,
        ctx,
    ) else {
        return;
    };
    let all = found(store, schema, Filter::default(), include, ctx).unwrap();
    assert!(
        yes.iter().all(|id| no.binary_search(id).is_err()),
        "{f:?} and its not overlap"
    );
    let mut both: Vec<String> = yes.into_iter().chain(no).collect();
    both.sort();
    assert_eq!(both, all, "{f:?} and its not miss contacts");
}

/// FILTER.md: "A missing value fails every positive operator; the negative operators `ne`,
/// `notIn`, `notContains`, `containsNone` match it", and `isEmpty` "matches a missing or
/// empty list": so each negative operator finds exactly what `not` of its positive twin
/// finds. Checked for every condition of `f`.
fn negatives_are_complements(
    store: &MemoryStore,
    schema: &Schema,
    f: &Filter,
    include: Include,
    ctx: &EvalCtx,
) {
    match f {
        Filter::And(fs) | Filter::Or(fs) => {
            for f in fs {
                negatives_are_complements(store, schema, f, include, ctx);
            }
        }
        Filter::Not(f) => negatives_are_complements(store, schema, f, include, ctx),
        Filter::Condition(c) => {
            let positive = match c.op {
                Op::Ne => Op::Eq,
                Op::NotIn => Op::In,
                Op::NotContains => Op::Contains,
                Op::ContainsNone => Op::ContainsAny,
                Op::NotExists | Op::IsEmpty => Op::Exists,
                _ => return,
            };
            let twin = Condition {
                op: positive,
                value: if positive == Op::Exists {
                    None
                } else {
                    c.value.clone()
                },
                ..c.clone()
            };
            let Some(neg) = found(store, schema, f.clone(), include, ctx) else {
                return;
            };
            let not_twin = Filter::Not(Box::new(Filter::Condition(twin)));
            let Some(want) = found(store, schema, not_twin, include, ctx) else {
                return;
            };
            assert_eq!(neg, want, "{c:?} against not {positive:?}");
        }
    }
}

fn run(seed: u64) {
    let mut r = Rng(seed | 1);
    let mut schema = Schema::new();
    let mut keys: Vec<(String, FieldType)> = Vec::new();
    for i in 0..4 {
        let t = *r.pick(&FieldType::ALL);
        let k = format!("profile.k{i}");
        schema.define(&k, t).unwrap();
        keys.push((k, t));
    }
    let mut fkeys: Vec<(String, FieldType)> = keys.clone();
    for k in schema.keys() {
        if !k.key.starts_with("profile.k") && k.key != "id" {
            fkeys.push((k.key.clone(), k.field_type));
        }
    }
    fkeys.push(("id".into(), FieldType::String));
    let store = MemoryStore::new();
    let n = 20 + r.below(60);
    let mut ids = Vec::new();
    let mut batch = Batch::default();
    // Half the runs hold only `c_` sequence ids (the store's id-order fast path).
    let mixed_ids = r.chance(0.5);
    for i in 0..n {
        let id = if mixed_ids && r.chance(0.1) {
            format!("x-{i}")
        } else {
            format!("c_{:012}", 1000 - i)
        };
        ids.push(id.clone());
        batch
            .ops
            .push(StoreOp::PutContact(Box::new(contact(&mut r, id, &keys))));
    }
    store.apply("ch", &batch).unwrap();
    let tz = *r.pick(&[
        chrono_tz::UTC,
        chrono_tz::Asia::Seoul,
        chrono_tz::America::New_York,
    ]);
    let ctx = EvalCtx::new(now(), tz);
    let sort_keys = [
        "createdAt",
        "lastSeenAt",
        "sessionCount",
        "profile.name",
        "profile.k0",
        "profile.k1",
        "memberId",
        "tags",
        "id",
    ];
    for round in 0..3 {
        for _ in 0..12 {
            let mut q = Query::new();
            if r.chance(0.8) {
                q.filter = Some(filter(&mut r, &fkeys, 0));
            }
            if r.chance(0.25) {
                q.search = Some(
                    r.pick(&[
                        "kim", "Ki", "010-2020", "2020", "gmail", "a", "straße", "@x.c", "+82 10",
                        "min-jun",
                    ])
                    .to_string(),
                );
            }
            if r.chance(0.2) {
                q.terms = Some(
                    r.pick(&[
                        "kim@gmail.com, Lee",
                        "m1 M1 +821020203030",
                        "\"KIM Min-jun\" a@x.com nobody",
                        "+82 10-1111-2222; m-1001",
                        "+821059957013, nobody@x.com",
                    ])
                    .to_string(),
                );
            }
            if r.chance(0.6) {
                let k = r.pick(&sort_keys).to_string();
                let o = if r.chance(0.5) {
                    SortOrder::Desc
                } else {
                    SortOrder::Asc
                };
                q.sort = vec![SortKey::new(k, o)];
                if r.chance(0.3) {
                    q.sort.push(SortKey::new("lastSeenAt", SortOrder::Asc));
                }
            }
            q.limit = Some(1 + r.below(7) as u64);
            q.include = [Include::Visible, Include::Blocked, Include::Hidden][r.below(3)];
            check(&store, &schema, &q, &ctx);
            if let Some(f) = &q.filter {
                complement(&store, &schema, f, q.include, &ctx);
                negatives_are_complements(&store, &schema, f, q.include, &ctx);
            }
        }
        if round == 2 {
            break;
        }
        // Random updates, deletes and blocks, one batch each.
        for _ in 0..(5 + r.below(20)) {
            let id = r.pick(&ids).clone();
            let op = match r.below(4) {
                0 => StoreOp::DeleteContact(id),
                1 => match store.get("ch", &id).unwrap() {
                    Some(mut c) => {
                        c.blocked = !c.blocked;
                        c.hidden = r.chance(0.2);
                        c.session_count += 1;
                        c.last_seen_at = rand_dt(&mut r);
                        StoreOp::PutContact(Box::new(c))
                    }
                    None => continue,
                },
                _ => StoreOp::PutContact(Box::new(contact(&mut r, id, &keys))),
            };
            store.apply("ch", &Batch { ops: vec![op] }).unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn indexed_search_equals_scan(seed in any::<u64>()) {
        run(seed);
    }
}

#[test]
fn fixed_seeds() {
    for s in 1..40u64 {
        run(s.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    }
}
