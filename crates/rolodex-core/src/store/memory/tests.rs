//! Unit tests of index maintenance.

use chrono::{TimeZone, Utc};
use roaring::RoaringBitmap;
use std::ops::RangeBounds;

use super::index::{grams_of, num_key, Ordered, Posting, Trigrams};
use super::table::{IdKey, Slot, Table, KEY_EMAIL, KEY_MOBILE, S_LAST_SEEN, S_MEMBER_ID, S_TAGS};
use crate::contact::Contact;
use crate::value::Value;

fn c(id: &str, email: &str, tags: &[&str]) -> Contact {
    let mut c = Contact::new(
        id.into(),
        Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap(),
    );
    c.profile.insert("email".into(), Value::Email(email.into()));
    c.tags = tags.iter().map(|t| t.to_string()).collect();
    c
}

#[test]
fn id_keys_order_like_their_text() {
    let a = IdKey::of("c_000000000010");
    let b = IdKey::of("c_000000000009");
    let x = IdKey::of("c_00000000001");
    let y = IdKey::of("b");
    assert!(matches!(a, IdKey::Seq(10)));
    assert!(matches!(x, IdKey::Other(_)));
    assert!(b < a);
    assert!(x < a && x > b || x.as_ref().text() < a.as_ref().text());
    assert_eq!(y.cmp(&a), "b".cmp("c_000000000010"));
    assert_eq!(a.as_ref().text(), "c_000000000010");
}

#[test]
fn postings_grow_and_shrink() {
    let mut p = Posting::One(3);
    p.insert(3);
    assert!(matches!(p, Posting::One(3)));
    p.insert(7);
    assert_eq!(p.rows(), vec![3, 7]);
    assert!(!p.remove(3));
    assert!(matches!(p, Posting::One(7)));
    assert!(p.remove(7));
}

#[test]
fn ordered_ranges_split_exact_and_edge() {
    let mut o = Ordered::new(2);
    for v in 0..16u32 {
        o.insert(u64::from(v), v);
    }
    use std::ops::Bound::{Excluded, Included, Unbounded};
    let (full, edge) = o.range(Included(5), Included(14), false, false, None);
    assert_eq!(full.iter().collect::<Vec<_>>(), vec![8, 9, 10, 11]);
    assert_eq!(
        edge.iter().collect::<Vec<_>>(),
        vec![4, 5, 6, 7, 12, 13, 14, 15]
    );
    // The complement (every row given) answers alike.
    let all: RoaringBitmap = (0..16).collect();
    let (full2, edge2) = o.range(Included(1), Included(14), false, false, Some(&all));
    assert_eq!(
        full2.iter().collect::<Vec<_>>(),
        (4..12).collect::<Vec<_>>()
    );
    assert_eq!(
        edge2.iter().collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 12, 13, 14, 15]
    );
    // Exact bounds on bucket edges need no check: [4, 11] is buckets 1 and 2 whole, and
    // (3, 12) likewise; a bound inside a bucket still is checked.
    let (full, edge) = o.range(Included(4), Included(11), true, true, Some(&all));
    assert_eq!(full.iter().collect::<Vec<_>>(), (4..12).collect::<Vec<_>>());
    assert!(edge.is_empty());
    let (full, edge) = o.range(Excluded(3), Excluded(12), true, true, None);
    assert_eq!(full.iter().collect::<Vec<_>>(), (4..12).collect::<Vec<_>>());
    assert!(edge.is_empty());
    let (full, edge) = o.range(Included(5), Included(5), true, true, None);
    assert!(full.is_empty());
    assert_eq!(edge.iter().collect::<Vec<_>>(), vec![4, 5, 6, 7]);
    let (full, edge) = o.range(Included(10), Included(5), false, false, None);
    assert!(full.is_empty() && edge.is_empty());
    o.remove(9, 9);
    assert!(!o
        .range(Unbounded, Unbounded, false, false, None)
        .0
        .contains(9));
    assert!(num_key(-1.0) < num_key(0.0) && num_key(-0.0) == num_key(0.0));
    assert!(num_key(0.5) < num_key(2.0) && num_key(f64::NEG_INFINITY) < num_key(-1e300));
}

/// A bucket of one value is settled whole by its span: `eq` takes it without a check, a
/// bound past it leaves it out; a bucket emptied and refilled spans only its new keys;
/// `around` (a number `in`) takes one-value buckets whole and skips buckets of none.
#[test]
fn ordered_spans_settle_buckets_of_one_value() {
    use std::ops::Bound::{Excluded, Included, Unbounded};
    let mut o = Ordered::new(4);
    // Bucket 1 (keys 16-31) holds only 20; bucket 2 (32-47) holds 33 and 40.
    for r in 0..50 {
        o.insert(20, r);
    }
    o.insert(33, 50);
    o.insert(40, 51);
    let rows = |b: &RoaringBitmap| b.iter().collect::<Vec<_>>();
    let (full, edge) = o.range(Included(20), Included(20), true, true, None);
    assert_eq!((full.len(), edge.len()), (50, 0));
    let (full, edge) = o.range(Excluded(20), Unbounded, true, true, None);
    assert_eq!((rows(&full), edge.len()), (vec![50, 51], 0));
    // Not exact: a value of the bound's own key may lie either side, so it is checked.
    let (full, edge) = o.range(Included(20), Included(20), false, false, None);
    assert_eq!((full.len(), edge.len()), (0, 50));
    let (full, edge) = o.range(Included(20), Included(25), false, true, None);
    assert_eq!((full.len(), edge.len()), (0, 50));
    let (full, edge) = o.range(Included(10), Included(20), true, false, None);
    assert_eq!((full.len(), edge.len()), (0, 50));
    let (full, edge) = o.range(Excluded(19), Excluded(21), false, false, None);
    assert_eq!((full.len(), edge.len()), (50, 0));
    // A bound inside bucket 2's span still checks it; one beyond it settles it.
    let (full, edge) = o.range(Included(35), Unbounded, true, true, None);
    assert_eq!((full.len(), rows(&edge)), (0, vec![50, 51]));
    let (full, edge) = o.range(Included(41), Included(47), true, true, None);
    assert!(full.is_empty() && edge.is_empty());
    let (full, edge) = o.range(Included(30), Included(41), true, true, None);
    assert_eq!((rows(&full), edge.len()), (vec![50, 51], 0));
    // Emptied, bucket 2 forgets its span; refilled, it spans only what came after.
    o.remove(33, 50);
    o.move_key(40, 20, 51);
    o.insert(45, 52);
    assert_eq!(o.span(1), Some((20, 20)));
    assert_eq!(o.span(2), Some((45, 45)));
    // A move within a bucket widens its span.
    o.move_key(20, 25, 7);
    assert_eq!(o.span(1), Some((20, 25)));
    let (full, edge) = o.range(Included(20), Included(20), true, true, None);
    assert_eq!((full.len(), edge.len()), (0, 51));
    let (exact, check) = o.around([45, 46, 3].into_iter());
    assert_eq!((rows(&exact), check.len()), (vec![52], 0));
    let (exact, check) = o.around([21].into_iter());
    assert_eq!((exact.len(), check.len()), (0, 51));
    let (exact, check) = o.around([30, 44].into_iter());
    assert!(exact.is_empty() && check.is_empty());
}

#[test]
fn trigrams_find_supersets_and_forget_removed_rows() {
    let mut t = Trigrams::default();
    t.insert(&grams_of([b"gmail.com".as_slice()]), 1);
    t.insert(&grams_of([b"naver.com".as_slice()]), 2);
    let got = t.candidates("mail").unwrap_or_default();
    assert_eq!(got.iter().collect::<Vec<_>>(), vec![1]);
    assert_eq!(t.candidates(".com").unwrap_or_default().len(), 2);
    assert!(t.candidates("co").is_none());
    t.remove(&grams_of([b"gmail.com".as_slice()]), 1);
    assert_eq!(t.candidates(".com").unwrap_or_default().len(), 1);
}

/// R-MU-2: a limit hides the oldest visible contacts and room un-hides the newest hidden
/// ones; both leave their ledger at once, so the next boot that asks for the oldest
/// visible contact does not first walk the keys of all those just hidden.
#[test]
fn hides_and_unhides_leave_no_stale_ledger_keys() {
    let mut t = Table::default();
    let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    for i in 0..2_000u64 {
        let mut x = c(&format!("c_{i:012}"), &format!("u{i}@x.com"), &[]);
        x.last_seen_at = start + chrono::TimeDelta::seconds(i as i64);
        t.put(&x);
    }
    // Takes the first `n` of a ledger (the oldest visible, or the newest hidden) and moves
    // them to the other ledger, as a limit or freed room does; returns the first one's id.
    let flip = |t: &mut Table, newest_hidden: bool, n: usize| {
        let states = t.ledger(newest_hidden, n);
        let first = states.first().map(|s| s.id.clone());
        for mut s in states {
            s.hidden = !newest_hidden;
            t.touch(&s);
        }
        first
    };
    assert_eq!(flip(&mut t, false, 600).as_deref(), Some("c_000000000000"));
    assert_eq!(t.mu_count(), 1_400);
    assert_eq!(t.stale_ledger_keys(), (0, 0));
    assert_eq!(flip(&mut t, true, 250).as_deref(), Some("c_000000000599"));
    assert_eq!(t.mu_count(), 1_650);
    assert_eq!(t.stale_ledger_keys(), (0, 0));
    // The ledgers still answer in order: the oldest visible is the first un-hidden.
    let oldest = t.ledger(false, 1);
    assert_eq!(
        oldest.first().map(|s| s.id.as_str()),
        Some("c_000000000350")
    );
    let newest_hidden = t.ledger(true, 1);
    assert_eq!(
        newest_hidden.first().map(|s| s.id.as_str()),
        Some("c_000000000349")
    );
    // A contact moved from the middle is counted stale, as before.
    let mut mid = t.state("c_000000001000").unwrap();
    mid.last_seen_at = start + chrono::TimeDelta::days(1);
    t.touch(&mid);
    assert_eq!(t.stale_ledger_keys(), (1, 0));
}

#[test]
fn updates_move_every_index_and_deletes_free_rows() {
    let mut t = Table::default();
    t.put(&c("c_000000000001", "a@x.com", &["vip", "sale/x"]));
    t.put(&c("c_000000000002", "b@x.com", &["vip"]));
    assert_eq!(t.find_by_email("A@X.com").len(), 1);
    assert_eq!(t.mu_count(), 2);
    // Identity lookups and ledgers are current at once; search indexes after a flush.
    assert!(t.has_pending());
    t.flush();
    assert!(!t.has_pending());
    let tags = t.ix(Slot::Sys(S_TAGS)).map(|x| x.list.len()).unwrap_or(0);
    assert_eq!(tags, 2);
    // Change the email and the tags of the first contact.
    let mut a = c("c_000000000001", "new@x.com", &["beta"]);
    a.last_seen_at = Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap();
    t.put(&a);
    assert!(t.find_by_email("a@x.com").is_empty());
    assert_eq!(t.find_by_email("new@x.com")[0].id, "c_000000000001");
    t.flush();
    let ix = t
        .ix(Slot::Sys(S_TAGS))
        .map(|x| x.list.clone())
        .unwrap_or_default();
    assert_eq!(
        ix.keys().map(|k| k.to_string()).collect::<Vec<_>>(),
        vec!["beta", "vip"]
    );
    let email_keys = t
        .ix(Slot::Profile(KEY_EMAIL))
        .and_then(|x| t.fps_of(Slot::Profile(KEY_EMAIL), x).map(|f| f.len()))
        .unwrap_or(0);
    assert_eq!(email_keys, 2);
    // The identity fields' texts are only in the identity lookups, never copied into a
    // posting map as well.
    for s in [
        Slot::Profile(KEY_EMAIL),
        Slot::Profile(KEY_MOBILE),
        Slot::Sys(S_MEMBER_ID),
    ] {
        assert!(t
            .ix(s)
            .is_some_and(|x| x.text.is_empty() && x.fps.is_none()));
    }
    let ls: RoaringBitmap = t
        .ix(Slot::Sys(S_LAST_SEEN))
        .map(|x| {
            x.dt.range(
                std::ops::Bound::Unbounded,
                std::ops::Bound::Unbounded,
                false,
                false,
                None,
            )
            .0
        })
        .unwrap_or_default();
    assert_eq!(ls.len(), 2);
    assert_eq!(
        t.get("c_000000000001").map(|c| c.tags),
        Some(vec!["beta".to_string()])
    );
    // Delete, then reuse the row for a foreign id.
    t.delete("c_000000000001");
    assert!(t.get("c_000000000001").is_none());
    assert_eq!(t.len(), 1);
    assert_eq!(t.mu_count(), 1);
    assert!(t.find_by_email("new@x.com").is_empty());
    t.put(&c("legacy-7", "z@x.com", &[]));
    assert_eq!(
        t.get("legacy-7").map(|c| c.id),
        Some("legacy-7".to_string())
    );
    assert_eq!(t.len(), 2);
    t.flush();
    let ix = t
        .ix(Slot::Sys(S_TAGS))
        .map(|x| x.list.clone())
        .unwrap_or_default();
    assert_eq!(
        ix.keys().map(|k| k.to_string()).collect::<Vec<_>>(),
        vec!["vip"]
    );
}

#[test]
fn materialised_contacts_round_trip() {
    let mut t = Table::default();
    let mut x = c("c_000000000042", "k@x.com", &["a/b"]);
    x.member_id = Some("m-1".into());
    x.member = true;
    x.unsubscribe_email = Some(false);
    x.hidden = true;
    x.booted = true;
    x.session_count = 9;
    x.user_import_tags = vec!["spring".into()];
    x.profile.insert("n".into(), Value::Number(2.5));
    t.put(&x);
    assert_eq!(t.get("c_000000000042"), Some(x.clone()));
    // An id that is not a sequence id is kept with the profile bytes, before the member id.
    let mut y = x;
    y.id = "legacy/ü-7".into();
    y.member_id = Some("m-2".into());
    t.put(&y);
    assert_eq!(t.get("legacy/ü-7"), Some(y));
    assert_eq!(t.member_rows("m-2").len(), 1);
    assert_eq!(t.len(), 2);
}

#[test]
fn fingerprint_tables_match_a_reference_under_collisions() {
    use super::index::Fingerprints;
    use std::collections::{BTreeMap, BTreeSet};
    let mut t = Fingerprints::default();
    let mut want: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |m: u64| {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (x >> 33) % m
    };
    // Few distinct fingerprints (many rows share one), some at the top of the range so
    // their home is the last slot and runs wrap around.
    let fps = [0u32, 1, 2, 7, u32::MAX, u32::MAX - 1, 0x8000_0000];
    for step in 0..4000 {
        let fp = fps[next(fps.len() as u64) as usize];
        // Rows include the two largest numbers, which the table also uses as markers.
        let r = match next(50) {
            0 => u32::MAX,
            1 => u32::MAX - 1,
            _ => next(300) as u32,
        };
        if next(3) < 2 || step < 200 {
            t.insert(fp, r);
            want.entry(fp).or_default().insert(r);
        } else {
            t.remove(fp, r);
            if let Some(s) = want.get_mut(&fp) {
                s.remove(&r);
            }
        }
        if step % 97 == 0 {
            for fp in fps {
                let mut got = BTreeSet::new();
                t.rows(fp, |r| {
                    got.insert(r);
                });
                assert_eq!(got, want.get(&fp).cloned().unwrap_or_default(), "fp {fp}");
            }
            let n: usize = want.values().map(BTreeSet::len).sum();
            assert_eq!(t.len(), n);
            // One slot per fingerprint, however many rows share it.
            assert_eq!(
                t.distinct(),
                want.values().filter(|s| !s.is_empty()).count()
            );
        }
    }
    // Removing what is not held changes nothing.
    t.remove(12_345, 1);
    t.remove(fps[0], 9_999);
    let n: usize = want.values().map(BTreeSet::len).sum();
    assert_eq!(t.len(), n);
}

/// Ann (member `m-1`, a mobile number, the name "Ann Lee") and Bob (a number under
/// `name`), with `(slot, text, Ann's row?)` entries planted in the fingerprint tables
/// under the fingerprints of other texts, as collisions would put them. Returns the
/// table and both rows.
fn ann_and_bob_with_planted(plant: &[(Slot, &str, bool)]) -> (Table, u32, u32) {
    use super::index::fingerprint;
    let mut t = Table::default();
    let mut a = c("c_000000000001", "Ann@X.com", &[]);
    a.profile
        .insert("mobileNumber".into(), Value::Phone("+821012345678".into()));
    a.member = true;
    a.member_id = Some("m-1".into());
    a.profile
        .insert("name".into(), Value::String("Ann Lee".into()));
    t.put(&a);
    let mut b = c("c_000000000002", "bob@x.com", &[]);
    b.profile.insert("name".into(), Value::Number(7.0));
    t.put(&b);
    t.flush();
    let ra = t.row_of("c_000000000001").unwrap();
    let rb = t.row_of("c_000000000002").unwrap();
    for (slot, text, ann) in plant {
        let r = if *ann { ra } else { rb };
        t.fps_mut(*slot).unwrap().insert(fingerprint(text), r);
    }
    (t, ra, rb)
}

#[test]
fn multi_term_lookups_check_rows_behind_colliding_fingerprints() {
    use super::table::{KEY_MOBILE, S_MEMBER_ID};
    use crate::filter::{compile_query, EvalCtx, Query};
    use crate::schema::Schema;
    let (t, _, _) = ann_and_bob_with_planted(&[
        (Slot::Profile(KEY_EMAIL), "bob@x.com", true),
        (Slot::Profile(KEY_EMAIL), "ann@x.com", false),
        (Slot::Profile(KEY_EMAIL), "nobody@x.com", true),
        (Slot::Profile(KEY_MOBILE), "+821099999999", true),
        (Slot::Sys(S_MEMBER_ID), "m-2", true),
        (Slot::Sys(S_MEMBER_ID), "m-1", false),
    ]);
    let q: Query = serde_json::from_value(serde_json::json!({
        "terms": "ann@x.com, nobody@x.com, +821099999999, m-2, M-1, m-1",
        "limit": 10
    }))
    .unwrap();
    let q = compile_query(&q, &Schema::new()).unwrap();
    let ctx = EvalCtx::utc(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    let page = t.search(&q, &ctx);
    let ids: Vec<String> = page.contacts.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(ids, ["c_000000000001"]);
    assert_eq!(
        page.unmatched_terms,
        ["nobody@x.com", "+821099999999", "m-2", "M-1"]
    );
}

#[test]
fn equality_filters_and_identity_lookups_check_rows_behind_colliding_fingerprints() {
    use super::table::{KEY_MOBILE, S_MEMBER_ID};
    use crate::filter::{compile_query, EvalCtx, Query};
    use crate::schema::Schema;
    let (t, ra, _) = ann_and_bob_with_planted(&[
        (Slot::Profile(KEY_EMAIL), "bob@x.com", true),
        (Slot::Profile(KEY_EMAIL), "nobody@x.com", false),
        (Slot::Profile(KEY_MOBILE), "+821099999999", true),
        (Slot::Sys(S_MEMBER_ID), "m-2", true),
    ]);
    let ctx = EvalCtx::utc(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    let ids = |filter: serde_json::Value| {
        let q: Query =
            serde_json::from_value(serde_json::json!({"filter": filter, "limit": 10})).unwrap();
        let q = compile_query(&q, &Schema::new()).unwrap();
        let page = t.search(&q, &ctx);
        page.contacts
            .iter()
            .map(|c| c.id.to_string())
            .collect::<Vec<_>>()
    };
    // R-FLT-4: `eq` on text folds case; the planted rows must not match.
    assert_eq!(
        ids(serde_json::json!({"key": "profile.email", "op": "eq", "value": "BOB@x.com"})),
        ["c_000000000002"]
    );
    assert!(
        ids(serde_json::json!({"key": "profile.email", "op": "eq", "value": "nobody@x.com"}))
            .is_empty()
    );
    assert_eq!(
        ids(serde_json::json!({"key": "profile.email", "op": "ne", "value": "bob@x.com"})),
        ["c_000000000001"]
    );
    assert_eq!(
        ids(
            serde_json::json!({"key": "profile.email", "op": "in", "value": ["ann@x.com", "nobody@x.com"]})
        ),
        ["c_000000000001"]
    );
    assert!(ids(
        serde_json::json!({"key": "profile.mobileNumber", "op": "eq", "value": "+821099999999"})
    )
    .is_empty());
    // `contains` over an identity field is answered without the text posting map.
    assert_eq!(
        ids(serde_json::json!({"key": "profile.email", "op": "contains", "value": "ann"})),
        ["c_000000000001"]
    );
    // Names: a number stored under `name` is not the text "7".
    assert!(ids(serde_json::json!({"key": "profile.name", "op": "eq", "value": "zed"})).is_empty());
    assert_eq!(
        ids(serde_json::json!({"key": "profile.name", "op": "eq", "value": "ANN lee"})),
        ["c_000000000001"]
    );
    let q: Query =
        serde_json::from_value(serde_json::json!({"terms": "zed, \"ann lee\", 7", "limit": 10}))
            .unwrap();
    let page = t.search(&compile_query(&q, &Schema::new()).unwrap(), &ctx);
    assert_eq!(page.contacts.len(), 1);
    assert_eq!(page.unmatched_terms, ["zed", "7"]);
    // Identity lookups (R-CON-1 duplicate checks, R-CON-4 login).
    assert_eq!(t.find_by_email("bob@x.com").len(), 1);
    assert_eq!(t.find_by_email("bob@x.com")[0].id, "c_000000000002");
    assert!(t.find_by_email("nobody@x.com").is_empty());
    assert!(t.find_by_mobile("+821099999999").is_empty());
    assert_eq!(t.find_by_mobile("+821012345678")[0].id, "c_000000000001");
    assert!(t.member_rows("m-2").is_empty());
    assert_eq!(t.member_rows("m-1"), [ra]);
}

/// Everything one field's indexes hold, in a fixed order (hash maps sorted), to compare two
/// tables' indexes.
fn index_digest(t: &Table, s: Slot) -> String {
    let Some(ix) = t.ix(s) else {
        return "none".into();
    };
    let sorted_postings = |m: &super::index::FxMap<Box<str>, Posting>| {
        let mut v: Vec<(String, Vec<u32>)> =
            m.iter().map(|(k, p)| (k.to_string(), p.rows())).collect();
        v.sort();
        v
    };
    let mut numlist: Vec<(u64, Vec<u32>)> = ix
        .numlist
        .iter()
        .map(|(k, b)| (*k, b.iter().collect()))
        .collect();
    numlist.sort();
    let bm = |b: &RoaringBitmap| b.iter().collect::<Vec<u32>>();
    let ordered = |o: &Ordered| {
        o.buckets
            .iter()
            .map(|(k, b)| (*k, bm(b)))
            .collect::<Vec<_>>()
    };
    format!(
        "exists {:?}\nkinds {:?}\nbools {:?} {:?}\nnum {:?}\ndt {:?}\ndate {:?}\nlist {:?}\nnumlist {:?}\ntext {:?}\nat {:?}\nat_multi {:?}\nno_at {} plus {}\nfps {:?}",
        bm(&ix.exists),
        ix.kinds,
        bm(&ix.bools[0]),
        bm(&ix.bools[1]),
        ordered(&ix.num),
        ordered(&ix.dt),
        ordered(&ix.date),
        ix.list.iter().map(|(k, b)| (k.to_string(), bm(b))).collect::<Vec<_>>(),
        numlist,
        sorted_postings(&ix.text),
        sorted_postings(&ix.at),
        bm(&ix.at_multi),
        ix.no_at,
        ix.plus,
        t.fps_of(s, ix).map(|f| f.len()),
    )
}

/// Each trigram index's grams with their rows, and the rows holding a name, an email, a
/// mobile number.
type QuickDigest = ([Vec<(u32, Vec<u32>)>; 3], [Vec<u32>; 3]);

/// The quick-search indexes of a table: each trigram index's grams with their rows, and
/// the rows holding a name, an email, a mobile number.
fn quick_digest(t: &Table) -> QuickDigest {
    (
        t.search_ix().quick.tri.each_ref().map(Trigrams::digest),
        t.search_ix()
            .quick
            .has
            .each_ref()
            .map(|b| b.iter().collect()),
    )
}

/// The field indexes of a table ([`index_digest`]) for the system fields and every
/// profile key [`varied`] writes, besides the name and email.
fn field_digests(t: &Table) -> Vec<(String, String)> {
    use crate::filter::Field;
    let mut fields = vec![
        Field::MemberId,
        Field::Member,
        Field::Tags,
        Field::UserImportTags,
        Field::UnsubscribeEmail,
        Field::UnsubscribeTexting,
        Field::Blocked,
        Field::CreatedAt,
        Field::UpdatedAt,
        Field::LastSeenAt,
        Field::SessionCount,
    ];
    for k in [
        "score", "day", "seen", "ok", "city", "list", "nums", "email", "name",
    ] {
        fields.push(Field::Profile(k.into()));
    }
    fields
        .iter()
        .map(|f| (format!("{f:?}"), index_digest(t, t.slot(f))))
        .collect()
}

/// A contact with values of every kind, each present or not by `seed`'s bits; `decoy`
/// gives other values under the same keys.
fn varied(n: u64, seed: u64, decoy: bool) -> Contact {
    let at = |d: i64| Utc.timestamp_opt(1_700_000_000 + d * 3_600, 0).unwrap();
    let mut c = Contact::new(format!("c_{n:012}"), at((seed % 97) as i64));
    let v = |k: u64| (seed >> k) % 7 + u64::from(decoy) * 11;
    let has = |bit: u64| (seed >> bit) & 1 == 1 || decoy;
    if has(1) {
        c.profile
            .insert("score".into(), Value::Number(v(2) as f64 * 1.5 - 4.0));
    }
    if has(3) {
        let d = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::Days::new(v(4) * 40);
        c.profile.insert("day".into(), Value::Date(d));
    }
    if has(5) {
        c.profile
            .insert("seen".into(), Value::Datetime(at(v(6) as i64 * 500)));
    }
    if has(7) {
        c.profile.insert("ok".into(), Value::Boolean(v(8) % 2 == 0));
    }
    if has(9) {
        let city = ["Seoul", "seoul", "Busan", "a@b.c", "x@y@z", "+82"][(v(10) % 6) as usize];
        c.profile.insert("city".into(), Value::String(city.into()));
    }
    if has(11) {
        let items = (0..v(12) % 4)
            .map(|i| format!("i{}", (v(13) + i) % 5))
            .collect();
        c.profile.insert("list".into(), Value::List(items));
    }
    if has(14) {
        let items = (0..v(15) % 3).map(|i| (v(16) + i) as f64).collect();
        c.profile.insert("nums".into(), Value::ListOfNumber(items));
    }
    let tags = ["vip", "VIP", "sale/x", "beta", "new"];
    c.tags = (0..v(17) % 4)
        .map(|i| tags[((v(18) + i) % 5) as usize].to_string())
        .collect();
    c.user_import_tags = (0..v(19) % 2)
        .map(|i| format!("file{}", v(20) + i))
        .collect();
    c.blocked = has(21) && v(22) % 3 == 0;
    c.member = has(23);
    c.unsubscribe_email = has(24).then_some(v(25) % 2 == 0);
    c.session_count = v(26);
    c.last_seen_at = at(v(27) as i64 * 1_000);
    c
}

proptest::proptest! {
    /// New rows are indexed in bulk (`FieldIx::add_many`, the tag lists by tag); a
    /// changed row goes value by value (`FieldIx::update`). Both must leave the same
    /// indexes, whatever the values, kinds, tag cases and rows (reused rows below the
    /// bitmaps' maximum included).
    #[test]
    fn bulk_adds_of_new_rows_index_as_one_by_one_updates(
        seeds in proptest::collection::vec(proptest::prelude::any::<u64>(), 1..40),
        reuse in 0usize..8,
    ) {
        let n = seeds.len() as u64;
        // Bulk: every contact new, some written again into freed (lower) rows.
        let mut bulk = Table::default();
        for (i, s) in seeds.iter().enumerate() {
            bulk.put(&varied(i as u64, *s, true));
        }
        bulk.flush();
        let reused = reuse.min(seeds.len());
        for i in 0..reused {
            bulk.delete(&format!("c_{i:012}"));
        }
        bulk.flush();
        for (i, s) in seeds.iter().enumerate().take(reused) {
            bulk.put(&varied(n + i as u64, *s, false));
        }
        for (i, s) in seeds.iter().enumerate().skip(reused) {
            bulk.put(&varied(i as u64, *s, false));
        }
        bulk.flush();
        // One by one: the same rows, each first written with other values, then changed.
        let mut each = Table::default();
        for (i, s) in seeds.iter().enumerate() {
            each.put(&varied(i as u64, *s, true));
        }
        each.flush();
        for i in 0..reused {
            each.delete(&format!("c_{i:012}"));
        }
        each.flush();
        for (i, s) in seeds.iter().enumerate().take(reused) {
            each.put(&varied(n + i as u64, *s, true));
        }
        each.flush();
        for (i, s) in seeds.iter().enumerate() {
            let id = if i < reused { n + i as u64 } else { i as u64 };
            each.put(&varied(id, *s, false));
        }
        each.flush();
        proptest::prop_assert_eq!(field_digests(&bulk), field_digests(&each));
    }

    /// The quick-search indexes (the trigrams of names, emails and mobile numbers, and
    /// the rows holding each) of rows written, then changed (values replaced, added or
    /// removed), hold exactly what a table given only the final rows holds (R-FLT-1).
    #[test]
    fn quick_search_indexes_follow_changes_as_a_fresh_build(
        first in proptest::collection::vec((0usize..5, 0usize..5, 0usize..6), 1..30),
        then in proptest::collection::vec((0usize..5, 0usize..5, 0usize..6), 30),
    ) {
        const NAMES: [&str; 4] = ["Kim", "kim Lee", "\u{dc}nal Ko", "ab"];
        const EMAILS: [&str; 4] = ["a@x.com", "Bo@y.org", "kim@x.com", "\u{e9}l@z.kr"];
        const MOBILES: [&str; 5] = [
            "+821012345678", "+14155550100", "+5491123456789", "+375291234567",
            "+390612345678",
        ];
        let contact = |i: usize, (n, e, m): (usize, usize, usize)| {
            let mut c = Contact::new(
                format!("c_{i:012}"),
                Utc.timestamp_opt(1_700_000_000, 0).unwrap(),
            );
            if let Some(n) = NAMES.get(n) {
                c.profile.insert("name".into(), Value::String((*n).into()));
            }
            if let Some(e) = EMAILS.get(e) {
                c.profile.insert("email".into(), Value::Email((*e).into()));
            }
            if let Some(m) = MOBILES.get(m) {
                c.profile.insert("mobileNumber".into(), Value::Phone((*m).into()));
            }
            c
        };
        let mut changed = Table::default();
        for (i, v) in first.iter().enumerate() {
            changed.put(&contact(i, *v));
        }
        changed.flush();
        for (i, v) in then.iter().enumerate().take(first.len()) {
            changed.put(&contact(i, *v));
        }
        changed.flush();
        let mut fresh = Table::default();
        for (i, v) in then.iter().enumerate().take(first.len()) {
            fresh.put(&contact(i, *v));
        }
        fresh.flush();
        proptest::prop_assert_eq!(quick_digest(&changed), quick_digest(&fresh));
    }

    /// Flushes of many rows at once (behind, on a background thread, every `FLUSH_AT`
    /// rows; then the rest here, the quick-search indexes on a second thread beside the
    /// field indexes from `PARALLEL_AT` rows) leave every search index exactly as flushes
    /// of one row at a time do, through new rows, changed rows and deletes (R-FLT-1 and
    /// the field indexes R-FLT reads).
    #[test]
    fn one_large_flush_indexes_as_flushes_row_by_row(
        seeds in proptest::collection::vec(proptest::prelude::any::<u64>(), 9..60),
        changes in proptest::collection::vec(
            (0usize..60, proptest::prelude::any::<u64>(), 0u8..4), 9..60),
    ) {
        const NAMES: [&str; 3] = ["Kim", "\u{dc}nal Ko", "ab"];
        const EMAILS: [&str; 3] = ["a@x.com", "Bo@y.org", "\u{e9}l@z.kr"];
        const MOBILES: [&str; 3] = ["+821012345678", "+14155550100", "+375291234567"];
        let contact = |i: usize, seed: u64| {
            let mut c = varied(i as u64, seed, false);
            let pick = |bits: u64| ((seed >> bits) % 4) as usize;
            if let Some(n) = NAMES.get(pick(40)) {
                c.profile.insert("name".into(), Value::String((*n).into()));
            }
            if let Some(e) = EMAILS.get(pick(44)) {
                c.profile.insert("email".into(), Value::Email((*e).into()));
            }
            if let Some(m) = MOBILES.get(pick(48)) {
                c.profile.insert("mobileNumber".into(), Value::Phone((*m).into()));
            }
            c
        };
        let n = seeds.len();
        let mut one = Table::default();
        let mut each = Table::default();
        for (i, s) in seeds.iter().enumerate() {
            one.put(&contact(i, *s));
            each.put(&contact(i, *s));
            each.flush();
        }
        one.flush();
        // Changes: a row rewritten, deleted, or (again) written new.
        for (i, s, kind) in &changes {
            let i = i % n;
            match kind {
                0 => {
                    one.delete(&format!("c_{i:012}"));
                    each.delete(&format!("c_{i:012}"));
                }
                _ => {
                    one.put(&contact(i, *s));
                    each.put(&contact(i, *s));
                }
            }
            each.flush();
        }
        one.flush();
        proptest::prop_assert_eq!(quick_digest(&one), quick_digest(&each));
        proptest::prop_assert_eq!(field_digests(&one), field_digests(&each));
    }

    /// Writes go on while a flush runs behind on a background thread (`FLUSH_AT` waiting
    /// rows; 16 in unit tests): new rows, rows written again (values, tags, import tags and
    /// blocks changed), deletes, freed rows written again, and visits that move a row's
    /// times, hidden flag and session count, each landing before, during or after a
    /// flush behind. At the end, every search index holds exactly what flushes after each
    /// write give (R-FLT-1 and the field indexes R-FLT reads), and the identity lookups
    /// answer at once throughout.
    #[test]
    fn writes_during_flushes_behind_index_as_flushes_after_each_write(
        seeds in proptest::collection::vec(proptest::prelude::any::<u64>(), 1..40),
        ops in proptest::collection::vec(
            (0usize..80, proptest::prelude::any::<u64>(), 0u8..6), 20..150),
    ) {
        let mut behind = Table::default();
        let mut each = Table::default();
        let id = |i: usize| format!("c_{i:012}");
        // Emails shared by several contacts, which change as rows are written again.
        let contact = |i: usize, s: u64, decoy: bool| {
            let mut c = varied(i as u64, s, decoy);
            c.profile
                .insert("email".into(), Value::Email(format!("u{}@x.com", s % 3)));
            c
        };
        for (i, s) in seeds.iter().enumerate() {
            behind.put(&contact(i, *s, false));
            each.put(&contact(i, *s, false));
            each.flush();
        }
        for (i, s, kind) in &ops {
            let i = i % (seeds.len() + 20);
            match kind {
                0 => {
                    behind.delete(&id(i));
                    each.delete(&id(i));
                }
                1 | 2 => {
                    // A visit: only the state moves.
                    if let Some(mut st) = behind.state(&id(i)) {
                        st.last_seen_at += chrono::TimeDelta::seconds((*s % 5_000) as i64);
                        st.updated_at = st.last_seen_at;
                        st.session_count += s % 3;
                        st.hidden = s % 4 == 0;
                        behind.touch(&st);
                        each.touch(&st);
                    }
                }
                _ => {
                    let c = contact(i, *s, *kind == 5);
                    behind.put(&c);
                    each.put(&c);
                }
            }
            each.flush();
            // The identity lookups never wait for a flush.
            for e in ["u0@x.com", "U1@x.com", "u2@x.com"] {
                let holders = |t: &Table| -> Vec<String> {
                    t.find_by_email(e).into_iter().map(|c| c.id).collect()
                };
                proptest::prop_assert_eq!(holders(&behind), holders(&each));
            }
        }
        behind.flush();
        proptest::prop_assert_eq!(quick_digest(&behind), quick_digest(&each));
        proptest::prop_assert_eq!(field_digests(&behind), field_digests(&each));
    }

    /// Whatever the inserts, removes, moves one by one and in batches, and bulk adds, every
    /// bucket's span holds the keys of its rows, and a range splits the rows soundly: each
    /// row of `full` lies inside, and each row inside is in `full` or `edge`, with exact or
    /// inexact bounds, given every row or not; `around` likewise for a set of keys.
    #[test]
    fn ordered_spans_hold_their_rows_and_ranges_stay_sound(
        ops in proptest::collection::vec((0u8..5, 0u32..300, 0u64..200, 0u64..200), 1..200),
        shift in 0u32..6,
        lo in 0u64..210,
        hi in 0u64..210,
        kinds in (0u8..3, 0u8..3, proptest::prelude::any::<bool>(), proptest::prelude::any::<bool>()),
        wanted in proptest::collection::vec(0u64..200, 1..6),
    ) {
        use std::collections::BTreeMap;
        use std::ops::Bound::{Excluded, Included, Unbounded};
        let mut o = Ordered::new(shift);
        let mut model: BTreeMap<u32, u64> = BTreeMap::new();
        for (op, r, k, k2) in ops {
            match (op, model.get(&r).copied()) {
                (0, None) => {
                    o.insert(k, r);
                    model.insert(r, k);
                }
                (1, Some(old)) => {
                    o.remove(old, r);
                    model.remove(&r);
                }
                (2, Some(old)) => {
                    o.move_key(old, k, r);
                    model.insert(r, k);
                }
                (3, _) => {
                    // A batch of moves of every row at or above `r`.
                    let moves: Vec<(u64, u64, u32)> = model
                        .range(r..)
                        .map(|(&row, &old)| (old, (old + k2) % 200, row))
                        .collect();
                    o.move_many(&moves);
                    for (_, new, row) in moves {
                        model.insert(row, new);
                    }
                }
                (4, None) => {
                    let pairs: Vec<(u64, u32)> = (r..r + 3)
                        .filter(|x| !model.contains_key(x))
                        .map(|x| ((k + u64::from(x)) % 200, x))
                        .collect();
                    o.add_many(&pairs);
                    for (key, x) in pairs {
                        model.insert(x, key);
                    }
                }
                _ => {}
            }
        }
        for (&r, &k) in &model {
            let b = o.bucket(k);
            let span = o.span(b);
            proptest::prop_assert!(span.is_some_and(|(a, z)| a <= k && k <= z), "row {} key {} span {:?}", r, k, span);
        }
        let bound = |kind: u8, k: u64| match kind {
            0 => Included(k),
            1 => Excluded(k),
            _ => Unbounded,
        };
        let (lo, hi) = (bound(kinds.0, lo), bound(kinds.1, hi));
        let all: RoaringBitmap = model.keys().copied().collect();
        for given in [None, Some(&all)] {
            let (full, edge) = o.range(lo, hi, kinds.2, kinds.3, given);
            for (&r, k) in &model {
                let inside = (lo, hi).contains(k);
                proptest::prop_assert!(!full.contains(r) || inside, "row {} key {} taken whole", r, k);
                proptest::prop_assert!(!inside || full.contains(r) || edge.contains(r), "row {} key {} lost", r, k);
            }
        }
        let (exact, check) = o.around(wanted.iter().copied());
        for (&r, k) in &model {
            let hit = wanted.contains(k);
            proptest::prop_assert!(!exact.contains(r) || hit, "row {} key {} taken by around", r, k);
            proptest::prop_assert!(!hit || exact.contains(r) || check.contains(r), "row {} key {} lost by around", r, k);
        }
    }

    /// A batch of moves (`Ordered::move_many`, the boots' time indexes) leaves the same
    /// buckets as the moves made one by one, whatever the keys: rows staying in their
    /// bucket, leaving one bucket for many or many for one, and buckets left empty.
    #[test]
    fn batched_moves_leave_the_buckets_of_moves_one_by_one(
        start in proptest::collection::btree_map(0u32..5_000, 0u64..64, 0..120),
        to in proptest::collection::vec(0u64..64, 120),
        shift in 0u32..5,
    ) {
        let mut batch = Ordered::new(shift);
        for (&r, &k) in &start {
            batch.insert(k, r);
        }
        let mut each = batch.clone();
        let moves: Vec<(u64, u64, u32)> = start
            .iter()
            .zip(&to)
            .map(|((&r, &old), &new)| (old, new, r))
            .collect();
        batch.move_many(&moves);
        for &(old, new, r) in &moves {
            each.move_key(old, new, r);
        }
        let buckets = |o: &Ordered| -> Vec<(u64, Vec<u32>)> {
            o.buckets.iter().map(|(b, bm)| (*b, bm.iter().collect())).collect()
        };
        proptest::prop_assert_eq!(buckets(&batch), buckets(&each));
        // No bucket is left empty.
        proptest::prop_assert!(batch.buckets.values().all(|bm| !bm.is_empty()));
    }
}

/// A flush behind that panics hands its panic to the next call that needs the search
/// indexes, and leaves the table whole: its indexes are built anew from the rows, as a
/// table given only those rows holds them, and writes and flushes go on.
#[test]
fn a_panic_behind_leaves_indexes_built_from_the_rows() {
    let mut t = Table::default();
    t.fail_flush = true;
    let contact = |i: u64, seed: u64| varied(i, seed.wrapping_mul(0x9E37_79B9_7F4A_7C15), false);
    for i in 0..20 {
        t.put(&contact(i, i));
    }
    t.fail_flush = false;
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| t.flush()));
    assert!(caught.is_err(), "the panic behind reaches the caller");
    let mut fresh = Table::default();
    for i in 0..20 {
        fresh.put(&contact(i, i));
    }
    // And on: more rows, flushed behind and here.
    whole_and_going_on(&mut t, &mut fresh, 20..60, contact);
}

/// After a panic in `t`'s flush: its indexes equal `fresh`'s (the same rows, flushed
/// without one), and stay so with rows `more` written to both and flushed.
fn whole_and_going_on(
    t: &mut Table,
    fresh: &mut Table,
    more: std::ops::Range<u64>,
    contact: impl Fn(u64, u64) -> Contact,
) {
    fresh.flush();
    assert_eq!(quick_digest(t), quick_digest(fresh));
    assert_eq!(field_digests(t), field_digests(fresh));
    for i in more {
        t.put(&contact(i, i));
        fresh.put(&contact(i, i));
    }
    t.flush();
    fresh.flush();
    assert_eq!(quick_digest(t), quick_digest(fresh));
    assert_eq!(field_digests(t), field_digests(fresh));
}

/// A flush on the caller's thread that panics (a search's, or a batch too small to go
/// behind) leaves the table whole too: the panic reaches the caller, the indexes are built
/// anew from the rows (the rows it was updating included), and writes and flushes go on.
#[test]
fn a_panic_in_a_flush_here_leaves_indexes_built_from_the_rows() {
    let contact = |i: u64, seed: u64| varied(i, seed.wrapping_mul(0x9E37_79B9_7F4A_7C15), false);
    let mut t = Table::default();
    let mut fresh = Table::default();
    // Fewer rows than a batch behind: they wait for a flush here.
    let writes: Vec<(u64, u64)> = (0..10).map(|i| (i, i)).collect();
    let rewrites: Vec<(u64, u64)> = vec![(3, 70), (11, 11), (12, 12), (5, 50), (13, 13)];
    for table in [&mut t, &mut fresh] {
        for &(i, seed) in &writes {
            table.put(&contact(i, seed));
        }
        table.flush();
        for &(i, seed) in &rewrites {
            table.put(&contact(i, seed));
        }
    }
    assert!(t.has_pending());
    t.fail_flush = true;
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| t.flush()));
    t.fail_flush = false;
    assert!(caught.is_err(), "the panic reaches the caller");
    assert!(!t.has_pending());
    whole_and_going_on(&mut t, &mut fresh, 14..40, contact);
}

/// Every page of a query sorted by `key` (`order`, `limit` a page), walked with cursors,
/// through the table and through the evaluator over `live`.
fn text_sorted_walks(
    t: &mut Table,
    live: &std::collections::BTreeMap<u64, Contact>,
    schema: &crate::schema::Schema,
    key: &str,
    order: &str,
    limit: usize,
) -> (Vec<String>, Vec<String>) {
    use crate::filter::{compile_query, search_scan, EvalCtx, Query};
    t.flush();
    let ctx = EvalCtx::utc(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    let walk = |search: &dyn Fn(&crate::filter::CompiledQuery) -> crate::filter::Page| {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..200 {
            let q: Query = serde_json::from_value(serde_json::json!({
                "sort": [{"key": key, "order": order}], "limit": limit, "cursor": cursor,
            }))
            .unwrap();
            let page = search(&compile_query(&q, schema).unwrap());
            ids.extend(page.contacts.iter().map(|c| c.id.to_string()));
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        ids
    };
    let got = walk(&|q| t.search(q, &ctx));
    let want = walk(&|q| search_scan(live.values(), q, &ctx));
    (got, want)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(96))]
    /// Pages sorted by a text key read the key's text order once the table holds
    /// `ORDER_FROM` (8 in unit tests) rows with a value of it. Through random puts
    /// (values that fold alike, tie, share long prefixes, or are missing) and deletes
    /// between walks, each write marking its row and the next page putting the marked rows
    /// back in place or sorting the key anew, every walk with cursors, ascending and
    /// descending, gives the evaluator's order.
    #[test]
    fn text_sorted_pages_follow_writes_as_the_evaluator(
        ops in proptest::collection::vec((0u8..5, 0u64..30, 0usize..16, 0usize..16), 1..90),
    ) {
        const TEXTS: [&str; 14] = [
            "Kim", "kim", "KIM", "Émile", "émile", "ß", "SS", "ss", "İstanbul", "istanbul",
            "", "abcdefghijklmnopqX", "abcdefghijklmnopqx", "zed",
        ];
        let mut schema = crate::schema::Schema::new();
        schema.define("profile.city", crate::value::FieldType::String).unwrap();
        let mut t = Table::default();
        let mut live = std::collections::BTreeMap::new();
        let at = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
        let mut bad = Vec::new();
        for (op, n, a, b) in ops {
            match op {
                0..=2 => {
                    let mut c = Contact::new(format!("c_{n:012}"), at);
                    c.profile.insert("email".into(), Value::Email(format!("p{n}@x.com")));
                    if let Some(s) = TEXTS.get(a) {
                        c.profile.insert("name".into(), Value::String((*s).into()));
                    }
                    if let Some(s) = TEXTS.get(b) {
                        c.profile.insert("city".into(), Value::String((*s).into()));
                    }
                    t.put(&c);
                    live.insert(n, c);
                }
                3 => {
                    t.delete(&format!("c_{n:012}"));
                    live.remove(&n);
                }
                _ => {
                    for key in ["profile.name", "profile.city"] {
                        for order in ["asc", "desc"] {
                            let limit = 1 + a % 4;
                            let (got, want) =
                                text_sorted_walks(&mut t, &live, &schema, key, order, limit);
                            if got != want {
                                bad.push(format!("{key} {order} limit {limit}: {got:?} vs {want:?}"));
                            }
                        }
                    }
                }
            }
        }
        proptest::prop_assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}

/// Text orders are built only where they pay: a page whose filter matches a row or two
/// sorts its matches without building (or refreshing) the order, and pages sorted by more
/// text keys in turn than a table keeps orders for build each key's order once at most,
/// not at every page (each order gives way only when idle). Pages stay right either way.
#[test]
fn text_orders_are_not_built_for_sparse_matches_nor_rebuilt_by_keys_in_turn() {
    use crate::filter::{compile_query, search_scan, EvalCtx, Query};
    use std::sync::atomic::Ordering::Relaxed;
    let keys = ["a", "b", "c", "d", "e", "f"];
    let mut schema = crate::schema::Schema::new();
    for k in keys {
        schema
            .define(&format!("profile.{k}"), crate::value::FieldType::String)
            .unwrap();
    }
    let mut t = Table::default();
    let mut live = Vec::new();
    let at = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
    for n in 0..60u64 {
        let mut c = Contact::new(format!("c_{n:012}"), at);
        c.profile
            .insert("email".into(), Value::Email(format!("p{n}@x.com")));
        for (i, k) in keys.iter().enumerate() {
            let v = format!("{k}{}", (n * 7 + i as u64 * 13) % 60);
            c.profile.insert((*k).into(), Value::String(v));
        }
        t.put(&c);
        live.push(c);
    }
    t.flush();
    let ctx = EvalCtx::utc(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    let page = |t: &Table, v: serde_json::Value| {
        let q: Query = serde_json::from_value(v).unwrap();
        let q = compile_query(&q, &schema).unwrap();
        let ids = |p: crate::filter::Page| {
            p.contacts
                .iter()
                .map(|c| c.id.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(t.search(&q, &ctx)), ids(search_scan(&live, &q, &ctx)));
    };
    let sorts = |t: &Table| t.text_orders.sorts.load(Relaxed);
    // One match, sorted by `a`, many times: no order.
    for _ in 0..5 {
        page(
            &t,
            serde_json::json!({"filter": {"key": "profile.email", "op": "eq", "value": "p7@x.com"},
                "sort": [{"key": "profile.a", "order": "asc"}], "limit": 10}),
        );
    }
    assert_eq!(sorts(&t), 0, "an order was built for a page of one match");
    // Six keys in turn, ten rounds: each key's order is built once at most, and the four
    // orders kept are not rebuilt by the two keys left over.
    for _ in 0..10 {
        for k in keys {
            page(
                &t,
                serde_json::json!({"sort": [{"key": format!("profile.{k}"), "order": "asc"}], "limit": 5}),
            );
        }
    }
    assert!(
        (1..=6).contains(&sorts(&t)),
        "{} orders built for six keys in turn",
        sorts(&t)
    );
}
