//! Contact-book targets at 1,000,000 contacts (issue: contact book):
//! - boot of random existing contacts under an MU limit that keeps 10% hidden (≤ 2 µs);
//! - add lead with duplicate check (≥ 500,000/s) beside a plain `HashMap` insert of the
//!   same records (the peer);
//! - resident memory of 1M contacts with name, email, mobile, 3 tags and 5 custom keys
//!   (printed; target ≤ 300 MB).
//!
//! `ROLODEX_BENCH_N` overrides the number of contacts (default 1,000,000).

#[path = "common/mod.rs"]
mod common;
use common::*;
use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rolodex::{Boot, ContactBook, FieldType, NewLead};
use serde_json::json;

fn n() -> usize {
    std::env::var("ROLODEX_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

const CITIES: [&str; 6] = ["Seoul", "Busan", "Incheon", "Daegu", "Daejeon", "Gwangju"];
const TAGS: [&str; 5] = ["vip", "sale", "new", "churn/risk", "beta"];

fn lead(i: usize, rng: &mut Rng) -> NewLead {
    let tags: Vec<String> = (0..3)
        .map(|k| TAGS[(i + k) % TAGS.len()].to_string())
        .collect();
    NewLead {
        email: Some(format!("user{i}@example{}.com", i % 4)),
        mobile_number: Some(format!("+8210{:08}", i)),
        name: Some(format!("User {i}")),
        profile: json!({
            "city": CITIES[(rng.next() % 6) as usize],
            "spent": (rng.next() % 100_000) as f64 / 100.0,
            "plan": if i % 3 == 0 { "pro" } else { "free" },
            "joined": format!("2024-{:02}-{:02}", 1 + rng.next() % 12, 1 + rng.next() % 28),
            "score": (rng.next() % 1000) as f64,
        })
        .as_object()
        .unwrap()
        .clone(),
        tags,
    }
}

fn define(book: &ContactBook) {
    book.define_key("profile.city", FieldType::String).unwrap();
    book.define_key("profile.spent", FieldType::Number).unwrap();
    book.define_key("profile.plan", FieldType::String).unwrap();
    book.define_key("profile.joined", FieldType::Date).unwrap();
    book.define_key("profile.score", FieldType::Number).unwrap();
}

fn build(n: usize) -> (ContactBook, IdList) {
    let book = ContactBook::in_memory();
    define(&book);
    let start: chrono::DateTime<chrono::Utc> = "2025-01-01T00:00:00Z".parse().unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // Every id the book makes is `c_` and 12 digits.
    let mut ids = IdList::with_capacity(n, 14);
    for i in 0..n {
        if i % 1000 == 0 {
            book.set_clock(Some(start + chrono::TimeDelta::seconds(i as i64)))
                .unwrap();
        }
        ids.push(&book.add_lead(lead(i, &mut rng)).unwrap().id);
    }
    (book, ids)
}

fn benches(c: &mut Criterion) {
    let n = n();
    let rss0 = rss_bytes();
    let t0 = Instant::now();
    let (book, ids) = build(n);
    let built = t0.elapsed();
    // The book's memory: what the process grew by, less the bench's own list of the ids.
    let book_bytes = rss_bytes().saturating_sub(rss0 + ids.heap_bytes());
    eprintln!(
        "contacts: built {n} contacts by add_lead in {:.2?} ({:.0}/s); resident memory of the book {:.1} MB ({:.0} B/contact; the bench's id list, {:.1} MB, not counted)",
        built,
        n as f64 / built.as_secs_f64(),
        book_bytes as f64 / 1e6,
        book_bytes as f64 / n as f64,
        ids.heap_bytes() as f64 / 1e6
    );

    // Boot under a limit that keeps 10% hidden: every boot of a hidden contact swaps it with
    // the least recently seen visible one.
    let t = Instant::now();
    book.set_mu_limit(Some((n - n / 10) as u64)).unwrap();
    eprintln!(
        "contacts: set_mu_limit hiding {} contacts took {:.2?}",
        n / 10,
        t.elapsed()
    );
    let mut clock: chrono::DateTime<chrono::Utc> = "2025-06-01T00:00:00Z".parse().unwrap();
    let mut rng = Rng(42);
    let mut g = c.benchmark_group("contacts");
    g.throughput(Throughput::Elements(1));
    g.bench_function(format!("boot_random_existing_{n}_10pct_hidden"), |b| {
        b.iter(|| {
            clock += chrono::TimeDelta::milliseconds(1);
            book.set_clock(Some(clock)).unwrap();
            let id = ids.get((rng.next() % ids.len() as u64) as usize);
            black_box(
                book.boot(Boot {
                    contact_id: Some(id.to_string()),
                    ..Boot::default()
                })
                .unwrap(),
            );
        })
    });
    assert_eq!(book.mu_count().unwrap(), (n - n / 10) as u64);

    // Add lead with duplicate check against the 1M book, and the peer: a plain HashMap
    // insert of the same records keyed by email.
    let mut next = n;
    let mut rng = Rng(7);
    g.bench_function(format!("add_lead_with_duplicate_check_into_{n}"), |b| {
        b.iter_batched(
            || {
                next += 1;
                lead(next, &mut rng)
            },
            // One lead at a time, built just before the call as a caller builds it, and the
            // returned contact dropped inside the timing as a caller's would be. In batches
            // (`SmallInput`), criterion builds thousands of leads first, so each call reads
            // and frees a lead long gone from the cache, and holds every returned contact
            // until the batch ends, timing the fresh memory they take as page faults
            // (measured outside criterion: 14.7-15.8 µs a lead that way, 9.8 µs this way).
            |l| drop(black_box(book.add_lead(l).unwrap())),
            BatchSize::PerIteration,
        )
    });
    // The peer map is filled to the book's size first, and each untimed setup removes its
    // oldest record, so every timed insert lands in a map of n records that never has to
    // grow (a resize in the middle of a sample would swamp the figure).
    let mut rng = Rng(7);
    let peer: std::cell::RefCell<HashMap<String, NewLead>> =
        std::cell::RefCell::new(HashMap::with_capacity(n + 1));
    for i in 0..n {
        let l = lead(i, &mut rng);
        peer.borrow_mut().insert(l.email.clone().unwrap(), l);
    }
    let mut next = n;
    let mut oldest = 0;
    g.bench_function("peer_hashmap_insert_same_records", |b| {
        b.iter_batched(
            || {
                let gone = lead(oldest, &mut Rng(0)).email.unwrap();
                peer.borrow_mut().remove(&gone);
                oldest += 1;
                next += 1;
                lead(next, &mut rng)
            },
            |l| {
                peer.borrow_mut().insert(l.email.clone().unwrap(), l);
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group! {
    name = contacts;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = benches
}
criterion_main!(contacts);
