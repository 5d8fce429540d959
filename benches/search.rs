//! Search targets of the memory store at 1,000,000 contacts (issue: filter engine), beside
//! the peer: SQLite (rusqlite, bundled) in memory with the same rows and indexes on the
//! filtered columns, running the same queries as SQL.
//!
//! Data (fixed seed): 40% members, `sessionCount` uniform 0–1000, `lastSeenAt` uniform over
//! the last year, `profile.city` one of 6 cities, emails on 4 domains, 5 tags each with
//! probability 0.2, a name and a mobile number. Contacts are loaded straight through the
//! `Store` trait (`apply` of batches of 1,000 `PutContact`), not the book, so the load
//! measures the store alone. Each query prints its match count beside its time.
//!
//! `ROLODEX_BENCH_N` overrides the number of contacts (default 1,000,000).

#[path = "common/mod.rs"]
mod common;
use common::*;
use std::hint::black_box;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use rolodex::store::{Batch, Op as StoreOp};
use rolodex::{
    compile_query, CompiledQuery, Contact, EvalCtx, FieldType, MemoryStore, Query, Schema, Store,
    Value,
};
use rusqlite::{params, Connection};
use serde_json::json;

fn n() -> usize {
    std::env::var("ROLODEX_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

const CITIES: [&str; 6] = ["Seoul", "Busan", "Incheon", "Daegu", "Daejeon", "Gwangju"];
const DOMAINS: [&str; 4] = ["gmail.com", "naver.com", "daum.net", "kakao.com"];
const TAGS: [&str; 5] = ["vip", "sale", "new", "churn/risk", "beta"];
const FAMILY: [&str; 12] = [
    "Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han", "Oh",
];
const GIVEN: [&str; 16] = [
    "Minjun", "Seojun", "Doyun", "Yejun", "Siwoo", "Hajun", "Jiho", "Jihu", "Seoyeon", "Seoyun",
    "Jiwoo", "Seohyun", "Minseo", "Haeun", "Hayoon", "Jiyoo",
];
const CH: &str = "bench";

fn now() -> DateTime<Utc> {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

fn gen(i: usize, r: &mut Rng) -> Contact {
    let now = now();
    let created = now - TimeDelta::days(400) + TimeDelta::seconds(i as i64);
    let mut c = Contact::new(format!("c_{:012}", i + 1), created);
    let fam = FAMILY[r.below(12) as usize];
    let given = GIVEN[r.below(16) as usize];
    let domain = DOMAINS[r.below(4) as usize];
    c.profile
        .insert("name".into(), Value::String(format!("{fam} {given}")));
    c.profile.insert(
        "email".into(),
        Value::Email(format!(
            "{}.{}{i}@{domain}",
            given.to_lowercase(),
            fam.to_lowercase()
        )),
    );
    c.profile.insert(
        "mobileNumber".into(),
        Value::Phone(format!("+8210{:08}", (i as u64 * 7919) % 100_000_000)),
    );
    c.profile.insert(
        "city".into(),
        Value::String(CITIES[r.below(6) as usize].to_string()),
    );
    if r.below(10) < 4 {
        c.member = true;
        c.member_id = Some(format!("m-{i}"));
    }
    c.session_count = r.below(1001);
    c.last_seen_at = now - TimeDelta::milliseconds(r.below(365 * 86_400_000) as i64);
    c.updated_at = c.last_seen_at;
    c.tags = TAGS
        .iter()
        .filter(|_| r.below(5) == 0)
        .map(|t| t.to_string())
        .collect();
    c
}

const SEGMENT: &str = r#"{"and": [
    {"key": "member", "op": "eq", "value": true},
    {"key": "sessionCount", "op": "between", "value": [3, 900]},
    {"key": "lastSeenAt", "op": "withinLast", "value": "P90D"},
    {"or": [
        {"key": "profile.city", "op": "eq", "value": "Seoul"},
        {"key": "profile.email", "op": "contains", "value": "@gmail.com"}
    ]}
]}"#;

const SEGMENT_SQL: &str = "member = 1 AND session_count BETWEEN 3 AND 900 \
     AND last_seen_at >= ?1 AND last_seen_at <= ?2 \
     AND (city = 'seoul' OR email LIKE '%@gmail.com%')";

fn query(schema: &Schema, v: serde_json::Value) -> CompiledQuery {
    let q: Query = serde_json::from_value(v).unwrap();
    compile_query(&q, schema).unwrap()
}

fn sqlite(contacts: &[Contact]) -> Connection {
    let db = Connection::open_in_memory().unwrap();
    db.execute_batch(
        "CREATE TABLE c (id TEXT PRIMARY KEY, member INTEGER, member_id TEXT,
            session_count INTEGER, last_seen_at INTEGER, city TEXT, email TEXT, name TEXT,
            mobile TEXT, mobile_digits TEXT, national_digits TEXT, blocked INTEGER, hidden INTEGER);
         CREATE TABLE tag (id TEXT, tag TEXT);",
    )
    .unwrap();
    let tx = db.unchecked_transaction().unwrap();
    {
        let mut ins = tx
            .prepare("INSERT INTO c VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, 0)")
            .unwrap();
        let mut tag = tx.prepare("INSERT INTO tag VALUES (?1, ?2)").unwrap();
        for c in contacts {
            let m = c.mobile_number().unwrap_or("");
            ins.execute(params![
                c.id,
                c.member,
                c.member_id,
                c.session_count as i64,
                c.last_seen_at.timestamp_millis(),
                c.profile.get("city").and_then(|v| match v {
                    Value::String(s) => Some(s.to_lowercase()),
                    _ => None,
                }),
                c.email().map(str::to_lowercase),
                c.name().map(str::to_lowercase),
                m,
                m.trim_start_matches('+'),
                format!("0{}", m.get(3..).unwrap_or("")),
            ])
            .unwrap();
            for t in &c.tags {
                tag.execute(params![c.id, t]).unwrap();
            }
        }
    }
    tx.commit().unwrap();
    db.execute_batch(
        "CREATE INDEX c_member ON c(member);
         CREATE INDEX c_sessions ON c(session_count);
         CREATE INDEX c_seen ON c(last_seen_at);
         CREATE INDEX c_city ON c(city);
         CREATE INDEX c_email ON c(email);
         CREATE INDEX c_name ON c(name);
         CREATE INDEX c_mobile ON c(mobile);
         CREATE INDEX c_member_id ON c(member_id);
         CREATE INDEX tag_tag ON tag(tag, id);
         ANALYZE;",
    )
    .unwrap();
    db
}

fn sql_terms(db: &Connection, terms: &[String]) -> i64 {
    let tx = db.unchecked_transaction().unwrap();
    tx.execute_batch("CREATE TEMP TABLE IF NOT EXISTS t (v TEXT PRIMARY KEY); DELETE FROM t;")
        .unwrap();
    {
        let mut ins = tx.prepare("INSERT OR IGNORE INTO t VALUES (?1)").unwrap();
        for t in terms {
            ins.execute([t.to_lowercase()]).unwrap();
        }
    }
    let n: i64 = tx
        .query_row(
            "SELECT count(*) FROM c WHERE blocked = 0 AND hidden = 0 AND (email IN (SELECT v FROM t)
               OR name IN (SELECT v FROM t) OR mobile IN (SELECT v FROM t)
               OR member_id IN (SELECT v FROM t))",
            [],
            |r| r.get(0),
        )
        .unwrap();
    tx.commit().unwrap();
    n
}

fn benches(c: &mut Criterion) {
    let n = n();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let contacts: Vec<Contact> = (0..n).map(|i| gen(i, &mut rng)).collect();

    let mut schema = Schema::new();
    schema.define("profile.city", FieldType::String).unwrap();
    let store = MemoryStore::new();
    let rss0 = rss_bytes();
    let t0 = Instant::now();
    for chunk in contacts.chunks(1000) {
        let batch = Batch {
            ops: chunk
                .iter()
                .map(|c| StoreOp::PutContact(Box::new(c.clone())))
                .collect(),
        };
        store.apply(CH, &batch).unwrap();
    }
    let load = t0.elapsed();
    let rss1 = rss_bytes();
    eprintln!(
        "search: loaded {n} contacts through Store::apply in {load:.2?} ({:.0}/s); store resident +{:.1} MB ({:.0} B/contact)",
        n as f64 / load.as_secs_f64(),
        (rss1.saturating_sub(rss0)) as f64 / 1e6,
        (rss1.saturating_sub(rss0)) as f64 / n as f64
    );
    let t0 = Instant::now();
    let db = sqlite(&contacts);
    eprintln!("search: sqlite loaded and indexed in {:.2?}", t0.elapsed());

    let ctx = EvalCtx::utc(now());
    let seg: serde_json::Value = serde_json::from_str(SEGMENT).unwrap();
    let seg_count = query(&schema, json!({"filter": seg, "limit": 1}));
    let seg_page = query(
        &schema,
        json!({"filter": seg, "limit": 50, "sort": [{"key": "lastSeenAt", "order": "desc"}]}),
    );
    let mut r = Rng(99);
    let emails: Vec<String> = (0..1000)
        .map(|_| {
            contacts[r.below(n as u64) as usize]
                .email()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut terms10k: Vec<String> = Vec::new();
    for k in 0..10_000 {
        let c = &contacts[r.below(n as u64) as usize];
        terms10k.push(match k % 4 {
            0 => c.email().unwrap().to_string(),
            1 => c.mobile_number().unwrap().to_string(),
            2 => c
                .member_id
                .clone()
                .unwrap_or_else(|| format!("nobody{k}@x.com")),
            _ => format!("missing{k}@nowhere.org"),
        });
    }
    let q_terms1k = query(&schema, json!({"terms": emails.join(", "), "limit": 50}));
    let q_terms10k = query(&schema, json!({"terms": terms10k.join(", "), "limit": 50}));
    let q_quick3 = query(&schema, json!({"search": "jiw", "limit": 50}));
    let q_quick8 = query(&schema, json!({"search": "seo.kim1", "limit": 50}));

    let mut g = c.benchmark_group("search");
    let seen_lo = (now() - TimeDelta::days(90)).timestamp_millis();
    let seen_hi = now().timestamp_millis();
    let mut report = |name: &str, q: &CompiledQuery, sql: &str, sqlp: &[i64]| {
        let page = store.search(CH, q, &ctx).unwrap();
        let mut stmt = db.prepare(sql).unwrap();
        let sql_n: i64 = stmt
            .query_row(rusqlite::params_from_iter(sqlp.iter()), |r| r.get(0))
            .unwrap();
        eprintln!(
            "search: {name}: memory total {} (page {}), sqlite {}",
            page.total,
            page.contacts.len(),
            sql_n
        );
        g.bench_function(format!("memory/{name}"), |b| {
            b.iter(|| black_box(store.search(CH, q, &ctx).unwrap()))
        });
        g.bench_function(format!("sqlite/{name}"), |b| {
            b.iter(|| {
                let n: i64 = stmt
                    .query_row(rusqlite::params_from_iter(sqlp.iter()), |r| r.get(0))
                    .unwrap();
                black_box(n)
            })
        });
    };
    report(
        "segment_count",
        &seg_count,
        &format!("SELECT count(*) FROM c WHERE {SEGMENT_SQL}"),
        &[seen_lo, seen_hi],
    );
    report(
        "segment_first_page_50_by_lastSeenAt_desc",
        &seg_page,
        &format!(
            "SELECT count(*) FROM (SELECT id, name, email FROM c WHERE {SEGMENT_SQL} ORDER BY last_seen_at DESC LIMIT 50)"
        ),
        &[seen_lo, seen_hi],
    );
    report(
        "quick_search_3_chars",
        &q_quick3,
        "SELECT count(*) FROM c WHERE name LIKE '%jiw%' OR email LIKE '%jiw%'",
        &[],
    );
    report(
        "quick_search_8_chars",
        &q_quick8,
        "SELECT count(*) FROM c WHERE name LIKE '%seo.kim1%' OR email LIKE '%seo.kim1%'",
        &[],
    );
    // A page sorted by a text key: the first one sorts the matches, the second builds the
    // key's order (each timed here once).
    let q_name = query(
        &schema,
        json!({"limit": 10, "sort": [{"key": "profile.name", "order": "asc"}]}),
    );
    for what in ["sorts the matches", "builds the name order"] {
        let t0 = Instant::now();
        black_box(store.search(CH, &q_name, &ctx).unwrap());
        eprintln!("search: a page by name that {what}: {:.2?}", t0.elapsed());
    }
    report(
        "first_page_10_by_name_asc",
        &q_name,
        "SELECT count(*) FROM (SELECT id FROM c ORDER BY name LIMIT 10)",
        &[],
    );
    for (name, q, terms) in [
        ("terms_1000_emails", &q_terms1k, &emails),
        ("terms_10000_mixed", &q_terms10k, &terms10k),
    ] {
        let page = store.search(CH, q, &ctx).unwrap();
        eprintln!(
            "search: {name}: memory total {} (unmatched {}), sqlite {}",
            page.total,
            page.unmatched_terms.len(),
            sql_terms(&db, terms)
        );
        g.bench_function(format!("memory/{name}"), |b| {
            b.iter(|| black_box(store.search(CH, q, &ctx).unwrap()))
        });
        g.bench_function(format!("sqlite/{name}"), |b| {
            b.iter(|| black_box(sql_terms(&db, terms)))
        });
    }

    // Point operations of the store.
    let mut r = Rng(5);
    g.bench_function("memory/get", |b| {
        b.iter(|| {
            let c = &contacts[r.below(n as u64) as usize];
            black_box(store.get(CH, &c.id).unwrap())
        })
    });
    g.bench_function("memory/find_by_email", |b| {
        b.iter(|| {
            let c = &contacts[r.below(n as u64) as usize];
            black_box(store.find_by_email(CH, c.email().unwrap()).unwrap())
        })
    });
    g.bench_function("memory/find_member", |b| {
        b.iter(|| black_box(store.find_member(CH, "m-123").unwrap()))
    });
    let mut clock = now();
    g.bench_function("memory/apply_put_contact_boot_update", |b| {
        b.iter_batched(
            || {
                let mut c = contacts[r.below(n as u64) as usize].clone();
                clock += TimeDelta::milliseconds(1);
                c.last_seen_at = clock;
                c.updated_at = clock;
                c.session_count += 1;
                Batch {
                    ops: vec![StoreOp::PutContact(Box::new(c))],
                }
            },
            |batch| store.apply(CH, &batch).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("memory/mu_count", |b| {
        b.iter(|| black_box(store.mu_count(CH).unwrap()))
    });
    g.finish();
}

criterion_group! {
    name = search;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = benches
}
criterion_main!(search);
