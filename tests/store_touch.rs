//! `Op::Touch` (a boot's or an MU event's in-place state write) must leave the memory store
//! exactly as rewriting the whole contact would (R-CON-3 session fields, R-MU-2 hidden set
//! and ledgers): a differential proptest of two stores, one written with `Touch`, one with
//! `PutContact` of the same contact, compared through every read of the `Store` trait that
//! touches state: `get`, `state`, `is_counted`, `mu_count`, both ledgers, and searches on
//! `lastSeenAt`, `updatedAt`, `sessionCount` in every listing, sorted by those fields.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use rolodex::store::{Batch, Ledger, Op as StoreOp};
use rolodex::{
    compile_query, Contact, ContactState, EvalCtx, Include, MemoryStore, Query, Schema, Store,
    Value,
};
use serde_json::json;

const CH: &str = "touch";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn contact(i: usize, blocked: bool, info: bool) -> Contact {
    let mut c = Contact::new(
        format!("c_{:012}", i + 1),
        t0() + Duration::seconds(i as i64),
    );
    if info {
        c.profile
            .insert("email".into(), Value::Email(format!("u{i}@x.com")));
    }
    c.blocked = blocked;
    c
}

fn apply(store: &MemoryStore, op: StoreOp) {
    store.apply(CH, &Batch { ops: vec![op] }).unwrap();
}

fn same(a: &MemoryStore, b: &MemoryStore, ids: &[String], schema: &Schema) {
    for id in ids {
        assert_eq!(a.get(CH, id).unwrap(), b.get(CH, id).unwrap(), "get {id}");
        assert_eq!(a.state(CH, id).unwrap(), b.state(CH, id).unwrap());
        assert_eq!(a.is_counted(CH, id).unwrap(), b.is_counted(CH, id).unwrap());
    }
    assert_eq!(a.mu_count(CH).unwrap(), b.mu_count(CH).unwrap());
    for which in [Ledger::OldestVisible, Ledger::NewestHidden] {
        assert_eq!(
            a.ledger(CH, which, usize::MAX).unwrap(),
            b.ledger(CH, which, usize::MAX).unwrap()
        );
    }
    let ctx = EvalCtx::new(t0() + Duration::days(2), chrono_tz::UTC);
    let filters = [
        json!({"and": [{"key": "sessionCount", "op": "between", "value": [1, 3]}]}),
        json!({"and": [{"key": "lastSeenAt", "op": "withinLast", "value": "PT10H"}]}),
        json!({"and": [{"key": "updatedAt", "op": "after", "value": "2026-01-01T05:00:00Z"}]}),
        json!({"or": [{"key": "sessionCount", "op": "eq", "value": 0},
                      {"key": "lastSeenAt", "op": "before", "value": "2026-01-01T03:00:00Z"}]}),
    ];
    for include in [Include::Visible, Include::Hidden, Include::Blocked] {
        for f in &filters {
            for sort in ["lastSeenAt", "updatedAt", "sessionCount"] {
                let q: Query = serde_json::from_value(json!({
                    "filter": f,
                    "sort": [{"key": sort, "order": "desc"}],
                    "limit": 7,
                }))
                .unwrap();
                let mut q = q;
                q.include = include;
                let cq = compile_query(&q, schema).unwrap();
                let pa = a.search(CH, &cq, &ctx).unwrap();
                let pb = b.search(CH, &cq, &ctx).unwrap();
                assert_eq!(pa.total, pb.total, "{f} {sort} {include:?}");
                let ia: Vec<&str> = pa.contacts.iter().map(|c| c.id.as_str()).collect();
                let ib: Vec<&str> = pb.contacts.iter().map(|c| c.id.as_str()).collect();
                assert_eq!(ia, ib, "{f} {sort} {include:?}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn r_con_3_r_mu_2_touch_equals_rewriting_the_contact(
        kinds in prop::collection::vec((any::<bool>(), any::<bool>(), any::<bool>()), 1..12),
        touches in prop::collection::vec(
            (any::<prop::sample::Index>(), any::<bool>(), any::<bool>(), 0u64..5, 0i64..40),
            1..40,
        ),
    ) {
        let (a, b) = (MemoryStore::new(), MemoryStore::new());
        let schema = Schema::new();
        let mut ids = Vec::new();
        for (i, (blocked, info, hidden)) in kinds.iter().enumerate() {
            let mut c = contact(i, *blocked && i % 3 == 0, *info);
            c.hidden = *hidden;
            ids.push(c.id.clone());
            apply(&a, StoreOp::PutContact(Box::new(c.clone())));
            apply(&b, StoreOp::PutContact(Box::new(c)));
        }
        for (ix, hidden, booted, sessions, hours) in touches {
            let id = &ids[ix.index(ids.len())];
            let mut s: ContactState = a.state(CH, id).unwrap().unwrap();
            s.hidden = hidden;
            s.booted = booted;
            s.session_count = sessions;
            s.last_seen_at = t0() + Duration::minutes(hours * 30);
            s.updated_at = t0() + Duration::minutes(hours * 45);
            let mut whole = b.get(CH, id).unwrap().unwrap();
            s.apply_to(&mut whole);
            apply(&a, StoreOp::Touch(s));
            apply(&b, StoreOp::PutContact(Box::new(whole)));
        }
        same(&a, &b, &ids, &schema);
    }
}

#[test]
fn touch_of_a_missing_contact_changes_nothing() {
    let store = MemoryStore::new();
    apply(
        &store,
        StoreOp::PutContact(Box::new(contact(0, false, true))),
    );
    let mut s = store.state(CH, "c_000000000001").unwrap().unwrap();
    s.id = "c_000000000099".into();
    s.hidden = true;
    apply(&store, StoreOp::Touch(s));
    assert_eq!(store.mu_count(CH).unwrap(), 1);
    assert!(store.get(CH, "c_000000000099").unwrap().is_none());
}

/// The memory store keeps identity lookups and ledgers current on every write and brings
/// its search indexes up to date in batches (at a threshold of waiting rows, and before any
/// search). Across many such batches — rows written, rewritten, touched, deleted and their
/// row slots reused between flushes — every search still equals the reference evaluator
/// (R-FLT-2 conditions, R-FLT-1 quick search, R-FLT-11 sorting).
#[test]
fn r_flt_searches_equal_the_scan_across_batched_index_updates() {
    use rolodex::search_scan;
    let store = MemoryStore::new();
    let mut schema = Schema::new();
    schema
        .define("profile.city", rolodex::FieldType::String)
        .unwrap();
    let cities = ["Seoul", "Busan", "Daegu"];
    let mut seq = 0usize;
    let mut live: Vec<String> = Vec::new();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for step in 0..21_000usize {
        let roll = rnd() % 10;
        if roll < 6 || live.is_empty() {
            let mut c = contact(seq, false, true);
            c.profile
                .insert("city".into(), Value::String(cities[seq % 3].to_string()));
            c.profile
                .insert("name".into(), Value::String(format!("Kim {seq}")));
            c.tags = vec![["vip", "new"][seq % 2].to_string()];
            seq += 1;
            live.push(c.id.clone());
            apply(&store, StoreOp::PutContact(Box::new(c)));
        } else if roll < 8 {
            let id = live[(rnd() % live.len() as u64) as usize].clone();
            let mut c = store.get(CH, &id).unwrap().unwrap();
            c.profile.insert(
                "city".into(),
                Value::String(cities[(step + 1) % 3].to_string()),
            );
            c.tags.push("moved".into());
            c.tags.dedup();
            apply(&store, StoreOp::PutContact(Box::new(c)));
        } else if roll < 9 {
            let id = live[(rnd() % live.len() as u64) as usize].clone();
            let mut s = store.state(CH, &id).unwrap().unwrap();
            s.session_count += 1;
            s.last_seen_at = t0() + Duration::seconds(step as i64 * 7);
            s.updated_at = s.last_seen_at;
            apply(&store, StoreOp::Touch(s));
        } else {
            let i = (rnd() % live.len() as u64) as usize;
            let id = live.swap_remove(i);
            apply(&store, StoreOp::DeleteContact(id));
        }
        if step % 7_000 == 6_999 {
            let ctx = EvalCtx::new(t0() + Duration::days(1), chrono_tz::UTC);
            let mut all = Vec::new();
            store
                .for_each(CH, &mut |c| {
                    all.push(c.clone());
                    true
                })
                .unwrap();
            for q in [
                json!({"filter": {"key": "profile.city", "op": "eq", "value": "Seoul"}}),
                json!({"filter": {"key": "tags", "op": "containsAny", "value": ["moved"]},
                       "sort": [{"key": "lastSeenAt", "order": "desc"}]}),
                json!({"filter": {"key": "sessionCount", "op": "gte", "value": 1},
                       "sort": [{"key": "sessionCount", "order": "desc"}]}),
                json!({"search": "kim 1"}),
            ] {
                let q: Query = serde_json::from_value(q).unwrap();
                let cq = compile_query(&q, &schema).unwrap();
                let want = search_scan(all.iter(), &cq, &ctx);
                let got = store.search(CH, &cq, &ctx).unwrap();
                assert_eq!(got.total, want.total, "{q:?} at step {step}");
                assert_eq!(got.contacts, want.contacts, "{q:?} at step {step}");
            }
        }
    }
}
