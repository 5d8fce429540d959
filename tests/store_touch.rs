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
    store.apply(CH, Batch { ops: vec![op] }).unwrap();
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
