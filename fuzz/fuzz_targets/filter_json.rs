//! FILTER.md / R-FLT: arbitrary filter and query JSON never panics; a query the book
//! accepts finds the same contacts through the indexes as the plain evaluator does; and a
//! filter the book accepts and its `not` split every listing between them, with no contact
//! in both ("the exact logical complement").
#![no_main]
#[path = "../../tests/oracles/mod.rs"]
mod common;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rolodex::filter::{compile_query, search_scan, EvalCtx};
use rolodex::{Boot, Contact, ContactBook, FieldType, NewLead, Query};
use serde_json::json;

fn book() -> &'static (ContactBook, Vec<Contact>) {
    static BOOK: OnceLock<(ContactBook, Vec<Contact>)> = OnceLock::new();
    BOOK.get_or_init(|| {
        let start = common::start();
        let book = common::book_with(&common::EVERY_TYPE);
        book.set_time_zone("Asia/Seoul").unwrap();
        common::define(&book, &[("profile.city", FieldType::String)]);
        let cities = ["Seoul", "Busan", "seoul", "Ünïcode", ""];
        let mut ids = Vec::new();
        for i in 0..60u32 {
            book.set_clock(Some(start + chrono::TimeDelta::hours(i64::from(i) * 7))).unwrap();
            let mut profile = serde_json::Map::new();
            if i % 3 != 0 {
                profile.insert("n".into(), json!(f64::from(i) * 1.5 - 20.0));
            }
            if i % 4 != 1 {
                profile.insert(
                    "d".into(),
                    json!(format!("2025-0{}-1{}", 1 + i % 9, i % 10)),
                );
                profile.insert(
                    "dt".into(),
                    json!(format!("2025-02-{:02}T0{}:30:00+09:00", 1 + i % 28, i % 10)),
                );
            }
            if i % 5 != 2 {
                profile.insert("b".into(), json!(i % 2 == 0));
                profile.insert("l".into(), json!(["a", format!("x{}", i % 4)]));
                profile.insert("ln".into(), json!([i % 3, 7]));
                profile.insert("t".into(), json!([format!("g{}/s{}", i % 3, i % 2)]));
            }
            let city = cities[(i % 5) as usize];
            if !city.is_empty() {
                profile.insert("city".into(), json!(city));
            }
            let lead = NewLead {
                email: (i % 7 != 3).then(|| {
                    format!(
                        "user{i}@{}.com",
                        ["gmail", "naver", "Example"][(i % 3) as usize]
                    )
                }),
                mobile_number: (i % 7 == 3 || i % 2 == 0)
                    .then(|| format!("+82 10-{:04}-{:04}", 2000 + i, 3000 + i * 7)),
                name: (i % 6 != 5).then(|| format!("Kim {i}")),
                profile,
                tags: if i % 3 == 0 {
                    vec!["vip".into(), "a/b".into()]
                } else {
                    vec![]
                },
            };
            let c = book.add_lead(lead).unwrap();
            if i % 4 == 0 {
                book.boot(Boot {
                    contact_id: Some(c.id.clone()),
                    ..Boot::default()
                })
                .unwrap();
            }
            ids.push(c.id);
        }
        book.set_clock(Some(start + chrono::TimeDelta::days(30))).unwrap();
        // Some blocked, some hidden by the MU limit: every listing has members.
        book.block(vec![ids[5].clone(), ids[17].clone(), ids[40].clone()])
            .unwrap();
        book.set_mu_limit(Some(45)).unwrap();
        let contacts = ids.iter().map(|id| book.get(id).unwrap()).collect();
        (book, contacts)
    })
}

fn ids(cs: &[Contact]) -> Vec<String> {
    let mut v: Vec<String> = cs.iter().map(|c| c.id.clone()).collect();
    v.sort();
    v
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let (book, contacts) = book();
    // As a query, and as the filter of one.
    for v in [value.clone(), json!({"filter": value, "limit": 1000})] {
        let Ok(query) = Query::from_value(&v) else {
            continue;
        };
        let page = book.search(&query);
        let schema = book.schema_ref().unwrap();
        let compiled = compile_query(&query, &schema);
        assert_eq!(page.is_ok(), compiled.is_ok(), "{v}");
        let (Ok(page), Ok(compiled)) = (page, compiled) else {
            continue;
        };
        let ctx = EvalCtx::new(book.now(), book.time_zone().unwrap());
        let scan = search_scan(contacts.iter(), &compiled, &ctx);
        assert_eq!(page.total, scan.total, "{v}");
        if page.next_cursor.is_none() && scan.next_cursor.is_none() {
            assert_eq!(ids(&page.contacts), ids(&scan.contacts), "{v}");
        }
    }
    // The complement, in every listing.
    for include in ["visible", "hidden", "blocked"] {
        let q = |f: serde_json::Value| {
            Query::from_value(&json!({"filter": f, "limit": 1000, "include": include}))
        };
        let (Ok(yes), Ok(no), Ok(all)) = (q(value.clone()), q(json!({"not": value})), q(json!({})))
        else {
            continue;
        };
        let Ok(yes) = book.search(&yes) else {
            continue;
        };
        // Its `not` may be refused only for the depth the wrapping adds.
        let no = match book.search(&no) {
            Ok(no) => no,
            Err(e) if e.to_string().contains("nested deeper") => continue,
            Err(e) => panic!("{value} is accepted, its not is refused: {e}"),
        };
        let all = book.search(&all).unwrap();
        let (yes, no) = (ids(&yes.contacts), ids(&no.contacts));
        assert!(
            yes.iter().all(|id| no.binary_search(id).is_err()),
            "{value} and its not overlap ({include})"
        );
        let mut both: Vec<String> = yes.into_iter().chain(no).collect();
        both.sort();
        assert_eq!(
            both,
            ids(&all.contacts),
            "{value} and its not miss contacts ({include})"
        );
    }
});
