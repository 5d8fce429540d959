//! Filters and search (FILTER.md, R-FLT): the indexed memory store against the plain
//! evaluator `search_scan` (the reference the library documents), operator by operator
//! over every field type, in listings, time zones, sorted cursor pages and books changed
//! by edits, deletes, merges and MU hiding (from the second review of filters).

use rolodex::filter::{compile_query, search_scan, EvalCtx};
use rolodex::{Boot, ContactBook, FieldType, Medium, NewLead, Query};
use serde_json::{json, Value as J};

mod support;
use support::{all, q, t};

/// A small deterministic generator (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next() % v.len() as u64) as usize]
    }
    fn chance(&mut self, n: u64) -> bool {
        self.next() % n == 0
    }
}

const KEYS: &[(&str, FieldType)] = &[
    ("profile.city", FieldType::String),
    ("profile.score", FieldType::Number),
    ("profile.ok", FieldType::Boolean),
    ("profile.day", FieldType::Date),
    ("profile.at", FieldType::Datetime),
    ("profile.l", FieldType::List),
    ("profile.ln", FieldType::ListOfNumber),
    ("profile.t", FieldType::Tag),
    ("profile.work", FieldType::Email),
    ("profile.land", FieldType::LandlineNumber),
    ("profile.alt", FieldType::MobileNumber),
    ("profile.never", FieldType::String),
];

fn stored_pool(key: &str) -> Vec<J> {
    match key {
        "city" => vec![
            json!("Seoul"),
            json!("seoul"),
            json!("SEOUL"),
            json!("Straße"),
            json!("STRASSE"),
            json!("İstanbul"),
            json!("a@b.c"),
            json!("x@y@z"),
            json!("@home"),
            json!("Busan Jin"),
            json!("ﬁle"),
            json!("café"),
            json!("Σίσυφος"),
            json!("ab"),
        ],
        "score" => vec![
            json!(0),
            json!(1),
            json!(1.5),
            json!(-3),
            json!(256),
            json!(257),
            json!(255.99),
            json!(1e15),
            json!(-0.5),
            json!(0.1),
            json!(9007199254740992i64),
        ],
        "ok" => vec![json!(true), json!(false)],
        "day" => vec![
            json!("2025-05-04"),
            json!("2025-05-03"),
            json!("2025-05-05"),
            json!("1969-12-31"),
            json!("2024-02-29"),
            json!("2025-06-01"),
            json!("2025-05-31"),
        ],
        "at" => vec![
            json!("2025-05-04T00:00:00.000Z"),
            json!("2025-05-03T23:59:59.999Z"),
            json!("2025-05-04T23:59:59.999Z"),
            json!("2025-05-05T00:00:00Z"),
            json!("2025-05-04T15:00:00Z"),
            json!("2025-05-03T15:00:00Z"),
            json!("1969-12-31T23:59:59.999Z"),
            json!("2025-05-31T12:00:00Z"),
            json!("2025-06-01T00:00:00Z"),
            json!("2025-06-02T00:00:00Z"),
        ],
        "l" => vec![
            json!(["a", "B"]),
            json!(["ß"]),
            json!(["basic/level1"]),
            json!(["ss", "a"]),
            json!(["A"]),
        ],
        "ln" => vec![json!([1, 2]), json!([0]), json!([-1.5]), json!([2, 256])],
        "t" => vec![
            json!(["basic", "basic/level1"]),
            json!(["vip/gold"]),
            json!(["Basic/Level2"]),
            json!(["basics"]),
            json!(["vip"]),
        ],
        "work" => vec![
            json!("a@gmail.com"),
            json!("B@Gmail.com"),
            json!("c@naver.com"),
            json!("d@gmail.co"),
            json!("é@x.com"),
        ],
        "land" => vec![
            json!("+8225556666"),
            json!("+442071234567"),
            json!("+82 2-555-7777"),
        ],
        "alt" => vec![json!("+821020203030"), json!("+821099998888")],
        _ => vec![],
    }
}

fn values_for(ft: FieldType, key: &str, op: &str) -> Vec<J> {
    use FieldType as F;
    match (ft, op) {
        (_, "exists" | "notExists" | "isEmpty") => vec![J::Null],
        (F::String, "eq" | "ne") if key == "memberId" || key == "id" => {
            vec![json!("m-1"), json!("M-1"), json!("c_000000000001")]
        }
        (F::String, "in" | "notIn") if key == "memberId" || key == "id" => {
            vec![json!(["m-1", "M-2"]), json!(["c_000000000003", "x"])]
        }
        (F::String, "contains" | "notContains" | "startsWith")
            if key == "memberId" || key == "id" =>
        {
            vec![json!("m"), json!("M"), json!("-1"), json!("c_0")]
        }
        (F::String, "eq" | "ne") => vec![
            json!("seoul"),
            json!("STRASSE"),
            json!("strasse"),
            json!("i̇stanbul"),
            json!("café"),
            json!("cafe\u{301}"),
            json!("x@y@z"),
            json!("FILE"),
            json!("ΣΊΣΥΦΟΣ"),
            json!("kim"),
            json!("AB"),
        ],
        (F::String, "in" | "notIn") => vec![
            json!(["seoul", "ab"]),
            json!(["STRASSE", "@HOME"]),
            json!(["kim", "lee"]),
        ],
        (F::String, _) => vec![
            json!("se"),
            json!("@"),
            json!("@y"),
            json!("@h"),
            json!("@b.c"),
            json!("ss"),
            json!("ß"),
            json!("e\u{301}"),
            json!("fi"),
            json!("ul"),
            json!(" jin"),
            json!("abc"),
            json!("a"),
            json!("σίσ"),
            json!("kim"),
            json!("+"),
        ],
        (F::Email, "eq" | "ne") => vec![
            json!("a@gmail.com"),
            json!("A@GMAIL.COM"),
            json!("b@gmail.com"),
            json!("É@X.COM"),
            json!("e1@x.com"),
        ],
        (F::Email, "in" | "notIn") => vec![json!(["a@gmail.com", "C@NAVER.COM"])],
        (F::Email, _) => vec![
            json!("@gmail"),
            json!("@GMAIL.com"),
            json!("gm"),
            json!("@"),
            json!("@gmail.co"),
            json!("é@"),
            json!("x.com"),
            json!("@x"),
            json!("e1"),
        ],
        (F::MobileNumber | F::LandlineNumber, "eq" | "ne") => vec![
            json!("+8225556666"),
            json!("+82 2-555-6666"),
            json!("+821020203030"),
            json!("+82 010-2020-3030"),
        ],
        (F::MobileNumber | F::LandlineNumber, "in" | "notIn") => {
            vec![json!(["+8225556666", "+44 20 7123 4567"])]
        }
        (F::MobileNumber | F::LandlineNumber, _) => vec![
            json!("555"),
            json!("+82"),
            json!("02"),
            json!("6666"),
            json!("+44 20"),
            json!("010-2020"),
            json!("2020"),
            json!("82"),
            json!("0"),
        ],
        (F::Number, "between") => vec![
            json!([0, 1]),
            json!([-3, 256]),
            json!([1.5, 1.5]),
            json!([256, 1e15]),
            json!([-1, -0.5]),
        ],
        (F::Number, "in" | "notIn") => vec![json!([0, 257]), json!([1.5, -3, 3])],
        (F::Number, _) => vec![
            json!(0),
            json!(-0.0),
            json!(1),
            json!(1.5),
            json!(-3),
            json!(256),
            json!(257),
            json!(255.99),
            json!(1e15),
            json!(3),
            json!(9007199254740992i64),
        ],
        (F::Boolean, _) => vec![json!(true), json!(false)],
        (F::Date | F::Datetime, "withinLast" | "moreThanAgo") => vec![
            json!("P1D"),
            json!("PT1H"),
            json!("P1M"),
            json!("P1Y"),
            json!("PT0S"),
            json!("P1W"),
            json!("P400D"),
            json!("P20000D"),
        ],
        (F::Date | F::Datetime, "between") => vec![
            json!(["2025-05-04", "2025-05-04"]),
            json!(["2025-05-03T23:59:59.999Z", "2025-05-05"]),
            json!(["1969-12-31", "2025-05-03"]),
            json!(["2025-05-04T00:00:00Z", "2025-05-04T00:00:00Z"]),
        ],
        (F::Date | F::Datetime, _) => vec![
            json!("2025-05-04"),
            json!("2025-05-04T12:00:00Z"),
            json!("2025-05-04T23:59:59.999Z"),
            json!("2025-05-04T00:00:00Z"),
            json!("2025-05-05T00:00:00+09:00"),
            json!("1969-12-31"),
            json!(1746316800000u64),
            json!("2025-06-01"),
        ],
        (F::List, _) => vec![
            json!(["a"]),
            json!(["b"]),
            json!(["basic"]),
            json!(["ss"]),
            json!(["a", "b"]),
            json!(["SS", "x"]),
        ],
        (F::Tag, _) => vec![
            json!(["basic"]),
            json!(["basic/level1"]),
            json!(["vip"]),
            json!(["BASIC"]),
            json!(["basic", "vip"]),
            json!(["bas"]),
        ],
        (F::ListOfNumber, _) => vec![json!([1]), json!([0]), json!([1, 2]), json!([-1.5, 256])],
    }
}

fn ops_for(ft: FieldType) -> Vec<&'static str> {
    let mut v = vec!["exists", "notExists"];
    v.extend(
        rolodex::filter::operators_for(ft)
            .iter()
            .map(|o| o.as_str()),
    );
    v
}

const SYS: &[(&str, FieldType)] = &[
    ("id", FieldType::String),
    ("memberId", FieldType::String),
    ("member", FieldType::Boolean),
    ("tags", FieldType::Tag),
    ("userImportTags", FieldType::List),
    ("unsubscribeEmail", FieldType::Boolean),
    ("unsubscribeTexting", FieldType::Boolean),
    ("blocked", FieldType::Boolean),
    ("createdAt", FieldType::Datetime),
    ("updatedAt", FieldType::Datetime),
    ("lastSeenAt", FieldType::Datetime),
    ("sessionCount", FieldType::Number),
    ("profile.name", FieldType::String),
    ("profile.email", FieldType::Email),
    ("profile.mobileNumber", FieldType::MobileNumber),
    ("profile.landlineNumber", FieldType::LandlineNumber),
];

/// Every condition the pools give, on every key.
fn conditions() -> Vec<J> {
    let mut out = Vec::new();
    for (key, ft) in KEYS.iter().chain(SYS) {
        for op in ops_for(*ft) {
            for v in values_for(*ft, key, op) {
                let c = if v.is_null() {
                    json!({"key": key, "op": op})
                } else {
                    json!({"key": key, "op": op, "value": v})
                };
                out.push(c);
            }
        }
    }
    out
}

/// A book of `n` contacts with random values of every key type, some members, some opted
/// out, some blocked; clocks spread over May 2025.
fn random_book(n: usize, seed: u64, tz: Option<&str>) -> ContactBook {
    let b = ContactBook::in_memory();
    if let Some(z) = tz {
        b.set_time_zone(z).unwrap();
    }
    for (k, ft) in KEYS {
        b.define_key(k, *ft).unwrap();
    }
    let mut rng = Rng(seed);
    let base = t("2025-05-03T10:00:00.000Z");
    let names = [
        "Kim", "kim", "Lee", "Straße", "STRASSE", "İd", "ab", "Kim Min", "Café", "ß",
    ];
    let mut ids = Vec::new();
    for i in 0..n {
        let at = base + chrono::Duration::milliseconds((rng.next() % (3 * 86_400_000)) as i64);
        b.set_clock(Some(at)).unwrap();
        let mut profile = serde_json::Map::new();
        for (k, _) in KEYS {
            let name = k.trim_start_matches("profile.");
            let pool = stored_pool(name);
            if !pool.is_empty() && !rng.chance(3) {
                profile.insert(name.to_string(), rng.pick(&pool).clone());
            }
        }
        if rng.chance(4) {
            profile.insert(
                "landlineNumber".into(),
                rng.pick(&[json!("+8225556666"), json!("+442071234567")])
                    .clone(),
            );
        }
        let tags: Vec<String> = match rng.next() % 5 {
            0 => vec!["basic/level1".into()],
            1 => vec!["Basic".into(), "vip".into()],
            2 => vec!["basics".into()],
            _ => vec![],
        };
        let email = if rng.chance(5) {
            None
        } else {
            Some(format!(
                "e{i}@{}",
                rng.pick(&["x.com", "Gmail.com", "naver.com"])
            ))
        };
        let mobile = if email.is_none() || rng.chance(3) {
            Some(format!("+8210{:08}", 20203030 + i))
        } else {
            None
        };
        let c = b
            .add_lead(NewLead {
                email,
                mobile_number: mobile,
                name: if rng.chance(4) {
                    None
                } else {
                    Some(rng.pick(&names).to_string())
                },
                profile,
                tags,
            })
            .unwrap();
        ids.push(c.id.clone());
        if rng.chance(6) {
            let m = format!("{}-{}", rng.pick(&["m", "M"]), i % 3 + 1);
            let boot: Boot =
                serde_json::from_value(json!({"contactId": c.id, "memberId": format!("{m}{i}")}))
                    .unwrap();
            b.boot(boot).unwrap();
        } else if rng.chance(5) {
            let boot: Boot = serde_json::from_value(json!({"contactId": c.id})).unwrap();
            b.boot(boot).unwrap();
        }
        if rng.chance(5) {
            b.set_opt_out(vec![c.id.clone()], Medium::Email, rng.chance(2))
                .unwrap();
        }
        if rng.chance(7) {
            b.set_opt_out(vec![c.id.clone()], Medium::Texting, rng.chance(2))
                .unwrap();
        }
    }
    // Manager edits that change or clear values (the indexes follow removals too).
    for id in &ids {
        if rng.chance(4) {
            let (k, _) = rng.pick(KEYS);
            let name = k.trim_start_matches("profile.");
            let pool = stored_pool(name);
            let v = if pool.is_empty() || rng.chance(2) {
                J::Null
            } else {
                rng.pick(&pool).clone()
            };
            let mut patch = json!({"profile": {}});
            patch["profile"][name] = v;
            if rng.chance(3) {
                patch["tags"] = json!(["vip/gold", "Basic/level1"]);
            }
            b.update(id, &patch).unwrap();
        }
    }
    for id in &ids {
        if rng.chance(12) {
            b.block(vec![id.clone()]).unwrap();
        }
    }
    // Deletes and merges free rows that later contacts reuse; an MU limit hides some.
    let mut live: Vec<String> = all(&b)
        .iter()
        .filter(|c| !c.blocked && !c.hidden)
        .map(|c| c.id.clone())
        .collect();
    for i in 0..live.len() / 10 {
        let id = live[i * 7 % live.len()].clone();
        if rng.chance(2) {
            let _ = b.delete(vec![id.clone()]);
        } else {
            let other = live[(i * 7 + 3) % live.len()].clone();
            if other != id {
                let _ = b.merge(&id, &other, &Default::default());
            }
        }
        live.retain(|x| b.get(x).is_ok());
    }
    for i in 0..n / 10 {
        let at = base + chrono::Duration::hours(i as i64);
        b.set_clock(Some(at)).unwrap();
        b.add_lead(NewLead {
            email: Some(format!("late{i}@Gmail.com")),
            name: Some(rng.pick(&names).to_string()),
            profile: {
                let mut m = serde_json::Map::new();
                m.insert("city".into(), rng.pick(&stored_pool("city")).clone());
                m.insert("score".into(), rng.pick(&stored_pool("score")).clone());
                m
            },
            ..NewLead::default()
        })
        .unwrap();
    }
    let mu = b.mu_count().unwrap();
    b.set_mu_limit(Some(mu - mu / 8)).unwrap();
    // Members whose ids collide with the pools.
    for m in ["m-1", "M-1", "M-2"] {
        let boot: Boot = serde_json::from_value(json!({"memberId": m})).unwrap();
        b.boot(boot).unwrap();
    }
    b.set_clock(Some(t("2025-06-01T00:00:00.000Z"))).unwrap();
    b
}

fn sorted_ids(cs: &[rolodex::Contact]) -> Vec<String> {
    let mut v: Vec<String> = cs.iter().map(|c| c.id.clone()).collect();
    v.sort();
    v
}

/// Runs `qv` through the book (indexed) and through `search_scan`; returns a mismatch.
fn compare(b: &ContactBook, contacts: &[rolodex::Contact], qv: &J) -> Option<String> {
    let query: Query = match Query::from_value(qv) {
        Ok(q) => q,
        Err(e) => return Some(format!("{qv}: parse error {e}")),
    };
    let schema = b.schema_ref().unwrap();
    let cq = match compile_query(&query, &schema) {
        Ok(c) => c,
        Err(e) => return Some(format!("{qv}: compile error {e}")),
    };
    let page = b.search(&query).unwrap();
    let ctx = EvalCtx::new(b.now(), b.time_zone().unwrap());
    let scan = search_scan(contacts.iter(), &cq, &ctx);
    if page.total != scan.total || sorted_ids(&page.contacts) != sorted_ids(&scan.contacts) {
        return Some(format!(
            "{qv}: indexed total {} vs scan {}",
            page.total, scan.total
        ));
    }
    None
}

fn differential(b: &ContactBook, extra: impl Fn(J) -> J) -> Vec<String> {
    let contacts = all(b);
    let mut bad = Vec::new();
    let conds = conditions();
    for c in &conds {
        for f in [c.clone(), json!({"not": c})] {
            if let Some(m) = compare(b, &contacts, &extra(json!({"filter": f, "limit": 1000}))) {
                bad.push(m);
            }
        }
    }
    // Random groups of conditions.
    let mut rng = Rng(7);
    for _ in 0..400 {
        let a = rng.pick(&conds).clone();
        let c = rng.pick(&conds).clone();
        let d = rng.pick(&conds).clone();
        let f = match rng.next() % 3 {
            0 => json!({"or": [a, {"not": c}, d]}),
            1 => json!({"and": [a, {"or": [c, {"not": d}]}]}),
            _ => json!({"not": {"or": [a, {"and": [c, d]}]}}),
        };
        if let Some(m) = compare(b, &contacts, &extra(json!({"filter": f, "limit": 1000}))) {
            bad.push(m);
        }
    }
    bad
}

/// FILTER.md "Operators by field type" with R-FLT-3/R-FLT-6: every operator of every field
/// type (custom and system keys), plain and negated, and random groups of them, give the
/// same contacts through the book's indexed search as through the plain evaluator, in a
/// small book and in one large enough for the indexes' bulk paths.
#[test]
fn r17_indexed_filters_agree_with_the_evaluator_small_book() {
    let b = random_book(60, 11, None);
    let bad = differential(&b, |q| q);
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// The same in a book in Asia/Seoul, with quick search and the blocked and hidden listings.
#[test]
fn r17_indexed_filters_agree_with_the_evaluator_seoul_quick_and_blocked() {
    let b = random_book(80, 23, Some("Asia/Seoul"));
    let mut bad = differential(&b, |q| q);
    bad.extend(differential(&b, |mut q| {
        q["search"] = json!("kim");
        q
    }));
    bad.extend(differential(&b, |mut q| {
        q["include"] = json!("blocked");
        q
    }));
    bad.extend(differential(&b, |mut q| {
        q["include"] = json!("hidden");
        q
    }));
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// The same in a large book (bulk paths of the indexes: posting maps smaller than the
/// rows, domain postings, whole-index ranges).
#[test]
fn r17_indexed_filters_agree_with_the_evaluator_large_book() {
    let b = random_book(2500, 99, Some("America/New_York"));
    let bad = differential(&b, |q| q);
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// The ids of every page of `qv`, walked with cursors, each page from `search`.
fn walk_ids(qv: &J, mut search: impl FnMut(&J) -> rolodex::filter::Page) -> Vec<String> {
    let mut qv = qv.clone();
    let mut ids = Vec::new();
    let mut cur: Option<String> = None;
    for _ in 0..1000 {
        qv["cursor"] = json!(cur);
        let p = search(&qv);
        ids.extend(p.contacts.iter().map(|c| c.id.clone()));
        cur = p.next_cursor;
        if cur.is_none() {
            break;
        }
    }
    ids
}

/// `walk_ids` of `qv` through the book (indexed) and through `search_scan` over
/// `contacts`, the latter in pages of `scan_limit` when given.
fn book_and_scan(
    b: &ContactBook,
    contacts: &[rolodex::Contact],
    qv: &J,
    scan_limit: Option<u64>,
) -> (Vec<String>, Vec<String>) {
    let schema = b.schema_ref().unwrap();
    let ctx = EvalCtx::new(b.now(), b.time_zone().unwrap());
    let got = walk_ids(qv, |qv| b.search(&q(qv.clone())).unwrap());
    let mut scan_qv = qv.clone();
    if let Some(limit) = scan_limit {
        scan_qv["limit"] = json!(limit);
    }
    let want = walk_ids(&scan_qv, |qv| {
        let cq = compile_query(&q(qv.clone()), &schema).unwrap();
        search_scan(contacts.iter(), &cq, &ctx)
    });
    (got, want)
}

/// The ids of every page of `qv`, walked with cursors, through the book (indexed) and
/// through `search_scan` over `contacts`.
fn walk_pages(
    b: &ContactBook,
    contacts: &[rolodex::Contact],
    qv: &J,
) -> (Vec<String>, Vec<String>) {
    book_and_scan(b, contacts, qv, None)
}

/// R-FLT-7: sorted pages by every sortable key, asc and desc, walked with cursors, give the
/// same order through the book as through the evaluator.
#[test]
fn r17_sorted_cursor_pages_agree_with_the_evaluator() {
    for (n, seed) in [(70usize, 5u64), (1500, 8)] {
        let b = random_book(n, seed, None);
        let contacts = all(&b);
        let mut bad = Vec::new();
        for (key, _) in KEYS.iter().chain(SYS) {
            for order in ["asc", "desc"] {
                for limit in [7u64, 1000] {
                    let qv = json!({"sort": [{"key": key, "order": order}], "limit": limit});
                    let (got, want) = walk_pages(&b, &contacts, &qv);
                    if got != want {
                        bad.push(format!("n={n} sort {key} {order} limit {limit}"));
                    }
                }
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }
}

/// R-FLT-7: pages sorted by a key that many contacts share one value of (an import stamps
/// all its contacts with one `createdAt`; a score or a day takes few values), ties broken
/// by id in the key's direction, walked with cursors that land inside a run of ties, agree
/// with the evaluator; so do pages under a filter and with contacts that have no value.
#[test]
fn r17_sorted_pages_through_long_ties_agree_with_the_evaluator() {
    let b = ContactBook::in_memory();
    b.define_key("profile.score", FieldType::Number).unwrap();
    b.define_key("profile.day", FieldType::Date).unwrap();
    b.define_key("profile.at", FieldType::Datetime).unwrap();
    let mut rng = Rng(11);
    let instants = [
        t("2025-05-03T10:00:00.000Z"),
        t("2025-05-03T10:00:00.001Z"),
        t("2025-05-09T00:00:00.000Z"),
    ];
    for i in 0..600 {
        // Three runs of one creation instant, in no order of the ids.
        b.set_clock(Some(*rng.pick(&instants))).unwrap();
        let mut profile = serde_json::Map::new();
        if !rng.chance(5) {
            profile.insert("score".into(), json!(*rng.pick(&[-0.5, 0.0, 3.0])));
        }
        if !rng.chance(5) {
            profile.insert(
                "day".into(),
                json!(*rng.pick(&["2025-01-01", "2025-01-02"])),
            );
        }
        if !rng.chance(5) {
            profile.insert(
                "at".into(),
                json!(*rng.pick(&["2025-01-01T00:00:00.000Z", "2025-01-01T00:00:00.002Z"])),
            );
        }
        b.add_lead(NewLead {
            profile,
            ..NewLead::email(format!("p{i}@x.com"))
        })
        .unwrap();
    }
    // Boots give a few contacts a later lastSeenAt and a session.
    b.set_clock(Some(t("2025-06-01T00:00:00.000Z"))).unwrap();
    let some: Vec<String> = all(&b).iter().step_by(7).map(|c| c.id.clone()).collect();
    for id in some {
        b.boot(Boot {
            contact_id: Some(id),
            ..Boot::default()
        })
        .unwrap();
    }
    let contacts = all(&b);
    let mut bad = Vec::new();
    let keys = ["createdAt", "updatedAt", "lastSeenAt", "sessionCount"];
    let filters = [
        json!(null),
        json!({"key": "profile.score", "op": "gte", "value": 0}),
    ];
    for key in keys
        .iter()
        .chain(&["profile.score", "profile.day", "profile.at"])
    {
        for order in ["asc", "desc"] {
            for limit in [4u64, 50] {
                for filter in &filters {
                    let mut qv = json!({"sort": [{"key": key, "order": order}], "limit": limit});
                    if !filter.is_null() {
                        qv["filter"] = filter.clone();
                    }
                    let (got, want) = walk_pages(&b, &contacts, &qv);
                    if got != want || want.is_empty() {
                        let at = got.iter().zip(&want).position(|(a, b)| a != b);
                        bad.push(format!("sort {key} {order} limit {limit} filter {filter}: {} vs {} ids, first difference at {at:?}", got.len(), want.len()));
                    }
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// R-FLT-7: pages sorted by `createdAt`, `updatedAt`, `lastSeenAt` or `sessionCount` (few
/// values, long ties) in a book of many blocks
/// of rows, where the walk passes over blocks that cannot better the page (the store's zone
/// bounds), agree with the evaluator, walked with cursors, plain and under a filter. The
/// book is built to break every order the bounds could rely on by accident: an import-like
/// run of one instant; deletes early in the run whose rows are reused by contacts created
/// at the run's instant (a tie with a higher id in a low row) or earlier or later (a clock
/// set back); unmerges that put an old id into a new row; and boots that move `lastSeenAt`,
/// `updatedAt` and `sessionCount` anywhere in the book. Time conditions, which settle whole
/// zones inside or outside their range without reading the rows, agree with the
/// evaluator too.
#[test]
fn r17_time_sorted_pages_over_many_row_blocks_agree_with_the_evaluator() {
    let b = ContactBook::in_memory();
    let mut rng = Rng(29);
    let base = t("2025-05-03T10:00:00Z");
    let at = |rng: &mut Rng| match rng.next() % 2 {
        0 => base,
        _ => base + chrono::Duration::seconds((rng.next() % 7200) as i64 - 3600),
    };
    b.set_clock(Some(base)).unwrap();
    let mut ids: Vec<String> = (0..2400)
        .map(|i| {
            b.add_lead(NewLead::email(format!("a{i}@x.com")))
                .unwrap()
                .id
        })
        .collect();
    for _ in 0..60 {
        let k = (rng.next() % 500) as usize;
        let id = ids.remove(k);
        b.delete([id.as_str()]).unwrap();
    }
    for i in 0..80 {
        b.set_clock(Some(at(&mut rng))).unwrap();
        ids.push(
            b.add_lead(NewLead::email(format!("b{i}@x.com")))
                .unwrap()
                .id,
        );
    }
    for _ in 0..30 {
        let p = ids[(rng.next() % ids.len() as u64) as usize].clone();
        let s = ids[(rng.next() % ids.len() as u64) as usize].clone();
        b.set_clock(Some(at(&mut rng))).unwrap();
        if let Ok(r) = b.merge(&p, &s, &rolodex::MergeChoices::new()) {
            if rng.chance(2) {
                b.unmerge(&r.merge_id).unwrap();
            } else {
                ids.retain(|x| *x != s);
            }
        }
    }
    for _ in 0..300 {
        b.set_clock(Some(at(&mut rng))).unwrap();
        let id = ids[(rng.next() % ids.len() as u64) as usize].clone();
        b.boot(Boot::visit(id)).unwrap();
    }
    let contacts = all(&b);
    let mut bad = Vec::new();
    // Time conditions, plain and negated, settle whole zones without reading their rows:
    // the same contacts as the evaluator, at the run's instant and around it.
    b.set_clock(Some(base + chrono::Duration::minutes(30)))
        .unwrap();
    let mut conditions = 0;
    for key in ["createdAt", "updatedAt", "lastSeenAt"] {
        for (op, value) in [
            ("after", json!("2025-05-03T10:00:00Z")),
            ("after", json!("2025-05-03T09:59:59.999Z")),
            ("before", json!("2025-05-03T10:00:00Z")),
            ("before", json!("2025-05-03T10:00:00.001Z")),
            ("onOrAfter", json!("2025-05-03T10:00:00Z")),
            ("onOrBefore", json!("2025-05-03T10:00:00Z")),
            ("eq", json!("2025-05-03T10:00:00Z")),
            ("eq", json!("2025-05-03")),
            (
                "between",
                json!(["2025-05-03T09:30:00Z", "2025-05-03T10:30:00Z"]),
            ),
            (
                "between",
                json!(["2025-05-03T10:00:00Z", "2025-05-03T10:00:00Z"]),
            ),
            ("withinLast", json!("PT30M")),
            ("withinLast", json!("PT10M")),
            ("moreThanAgo", json!("PT30M")),
            ("moreThanAgo", json!("PT50M")),
        ] {
            let c = json!({"key": key, "op": op, "value": value});
            for f in [c.clone(), json!({"not": c})] {
                conditions += 1;
                if let Some(m) = compare(&b, &contacts, &json!({"filter": f, "limit": 1000})) {
                    bad.push(m);
                }
            }
        }
    }
    assert_eq!(conditions, 84);
    let mut walks = 0;
    for key in ["createdAt", "updatedAt", "lastSeenAt", "sessionCount"] {
        for order in ["asc", "desc"] {
            for (limit, filter) in [
                (5u64, json!({"and": []})),
                (40, json!({"and": []})),
                (
                    40,
                    json!({"key": "profile.email", "op": "contains", "value": "1"}),
                ),
            ] {
                let qv = json!({"filter": filter, "sort": [{"key": key, "order": order}],
                                "limit": limit});
                walks += 1;
                bad.extend(walk_differs(&b, &contacts, &qv, 500));
            }
        }
    }
    assert_eq!(walks, 24);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Walks `qv` with cursors through the book and through the evaluator over `contacts`;
/// the walk must be longer than `min` ids, or it could not tell. `None` when the two
/// agree, else what differs.
fn walk_differs(
    b: &ContactBook,
    contacts: &[rolodex::Contact],
    qv: &J,
    min: usize,
) -> Option<String> {
    let (got, want) = walk_pages(b, contacts, qv);
    assert!(
        want.len() > min,
        "{qv}: the walk is too short to tell ({} ids)",
        want.len()
    );
    (got != want).then(|| {
        let at = got.iter().zip(&want).position(|(a, b)| a != b);
        format!(
            "{qv}: {} vs {} ids, first difference at {at:?}",
            got.len(),
            want.len()
        )
    })
}

/// A book of 3,000 contacts for walks sorted by a number, a date or an instant: scores
/// 0..1500 by halves, each once (about 1,150 buckets), days over eight years (about 180
/// buckets), instants over two years (about 940 buckets); one contact in 25 misses each.
/// Each contact is created a minute after the last; the book's zone is Seoul and its clock
/// stands just after the last instant.
fn far_book() -> ContactBook {
    let b = ContactBook::in_memory();
    b.define_key("profile.score", FieldType::Number).unwrap();
    b.define_key("profile.day", FieldType::Date).unwrap();
    b.define_key("profile.at", FieldType::Datetime).unwrap();
    b.set_time_zone("Asia/Seoul").unwrap();
    let mut rng = Rng(41);
    let base = t("2024-01-01T00:00:00Z");
    let mut scores: Vec<u64> = (0..3000).collect();
    for i in (1..scores.len()).rev() {
        scores.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }
    for (i, score) in scores.into_iter().enumerate() {
        b.set_clock(Some(base + chrono::Duration::minutes(i as i64)))
            .unwrap();
        let mut profile = serde_json::Map::new();
        if !rng.chance(25) {
            profile.insert("score".into(), json!(score as f64 / 2.0));
        }
        if !rng.chance(25) {
            let day =
                t("2018-01-01T00:00:00Z") + chrono::Duration::days((rng.next() % 2920) as i64);
            profile.insert("day".into(), json!(day.format("%Y-%m-%d").to_string()));
        }
        if !rng.chance(25) {
            let at = base + chrono::Duration::seconds((rng.next() % 63_000_000) as i64);
            profile.insert("at".into(), json!(at.to_rfc3339()));
        }
        b.add_lead(NewLead {
            profile,
            ..NewLead::email(format!("f{i}@x.com"))
        })
        .unwrap();
    }
    b.set_clock(Some(t("2026-01-01T00:00:00Z"))).unwrap();
    b
}

/// Walks every query of `cases` (a sort key and its filters) ascending and descending at
/// limits 5 and 40 with cursors, through the book and through the evaluator, and returns
/// the walks that differ and how many walks there were. Each walk must be longer than two
/// pages of 5, or it could not tell.
fn sorted_walks(b: &ContactBook, cases: &[(&str, Vec<J>)]) -> (Vec<String>, usize) {
    let contacts = all(b);
    let mut bad = Vec::new();
    let mut walks = 0;
    for (key, filters) in cases {
        for filter in filters {
            for order in ["asc", "desc"] {
                for limit in [5u64, 40] {
                    let qv = json!({"filter": filter, "sort": [{"key": key, "order": order}],
                                    "limit": limit});
                    walks += 1;
                    bad.extend(walk_differs(b, &contacts, &qv, 10));
                }
            }
        }
    }
    (bad, walks)
}

/// R-FLT-7: pages sorted by a number, a date or an instant whose matches lie far along
/// that key's order, by a filter the store cannot read a bound from (the complement of the
/// rest: the highest scores sorted ascending, the earliest days sorted descending, a narrow
/// range in the middle), so that the store gives up walking the key's buckets, most of
/// which hold no match, and keys every match instead, agree with the evaluator, walked
/// with cursors; so do pages whose matches are spread along the whole order (a filter on
/// another key), which the walk fills from its first buckets. Some contacts have no value,
/// so a page may reach them, and the complements match them too.
#[test]
fn r17_sorted_pages_of_matches_far_along_the_order_agree_with_the_evaluator() {
    let b = far_book();
    let not = |f: J| json!({"not": f});
    let (bad, walks) = sorted_walks(
        &b,
        &[
            (
                "profile.score",
                vec![
                    not(json!({"key": "profile.score", "op": "lte", "value": 1450})),
                    not(json!({"key": "profile.score", "op": "gte", "value": 60})),
                    not(
                        json!({"or": [{"key": "profile.score", "op": "lt", "value": 700},
                                      {"key": "profile.score", "op": "gt", "value": 760}]}),
                    ),
                    json!({"key": "profile.email", "op": "contains", "value": "7"}),
                ],
            ),
            (
                "profile.day",
                vec![
                    not(json!({"key": "profile.day", "op": "before", "value": "2025-10-01"})),
                    not(json!({"key": "profile.day", "op": "onOrAfter", "value": "2018-06-01"})),
                ],
            ),
            (
                "profile.at",
                vec![
                    not(json!({"key": "profile.at", "op": "onOrBefore",
                               "value": "2025-12-01T00:00:00Z"})),
                    not(json!({"key": "profile.at", "op": "onOrAfter",
                               "value": "2024-02-10T00:00:00Z"})),
                ],
            ),
        ],
    );
    assert_eq!(walks, 32);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// R-FLT-7: a walk sorted by a number, a date or an instant starts at the bound the filter
/// puts on that key (the buckets before it hold no match), and its pages, walked with
/// cursors, agree with the evaluator for every way a filter bounds the key: one condition
/// of each operator (`gt`, `lte`, `eq`, `in`, `between`, `before`, `onOrAfter`,
/// `withinLast`, `moreThanAgo`, a day against an instant key in the book's zone), the
/// tightest of an `and`, the loosest of an `or` (and none when a branch is unbounded or on
/// another key), nested groups, a bound on the far side only, a system time key, and a
/// second sort key (the general walk). Some contacts have no value.
#[test]
fn r17_pages_sorted_by_a_key_the_filter_bounds_agree_with_the_evaluator() {
    let b = far_book();
    let c = |key: &str, op: &str, value: J| json!({"key": key, "op": op, "value": value});
    let score = |op: &str, value: J| c("profile.score", op, value);
    let day = |op: &str, value: &str| c("profile.day", op, json!(value));
    let at = |op: &str, value: &str| c("profile.at", op, json!(value));
    let email = c("profile.email", "contains", json!("7"));
    let cases = [
        (
            "profile.score",
            vec![
                score("gt", json!(1400)),
                score("lte", json!(50)),
                score(
                    "in",
                    json!((0..40).map(|i| i as f64 * 37.5).collect::<Vec<_>>()),
                ),
                json!({"or": (0..40).map(|i| score("eq", json!(i * 36))).collect::<Vec<_>>()}),
                json!({"and": [score("gte", json!(700)), score("lt", json!(900)), email.clone()]}),
                json!({"and": [score("gt", json!(100)), score("gt", json!(1300))]}),
                json!({"or": [score("gt", json!(1400)), score("between", json!([100, 120]))]}),
                json!({"or": [score("gt", json!(1400)), email.clone()]}),
                json!({"and": [{"or": [score("gt", json!(1000)), score("lt", json!(100))]},
                               score("gte", json!(50)), {"not": score("eq", json!(1200))}]}),
            ],
        ),
        (
            "profile.day",
            vec![
                day("onOrAfter", "2025-10-01"),
                day("before", "2018-06-01"),
                json!({"or": (1..=20).map(|d| day("eq", &format!("2021-04-{d:02}"))).collect::<Vec<_>>()}),
                json!({"or": [day("after", "2025-06-01"), day("onOrBefore", "2018-03-01")]}),
                c(
                    "profile.day",
                    "between",
                    json!(["2021-04-01", "2021-09-30"]),
                ),
            ],
        ),
        (
            "profile.at",
            vec![
                at("after", "2025-11-01T00:00:00Z"),
                at("before", "2024-02-10T00:00:00Z"),
                at("onOrAfter", "2025-11-15"),
                json!({"or": (1..=6).map(|d| at("eq", &format!("2025-06-{d:02}"))).collect::<Vec<_>>()}),
                at("onOrBefore", "2024-01-20"),
                at("withinLast", "P60D"),
                at("moreThanAgo", "P700D"),
                json!({"and": [at("after", "2024-06-01T00:00:00Z"), score("lt", json!(100))]}),
            ],
        ),
        (
            "createdAt",
            vec![c("createdAt", "after", json!("2024-01-03T00:00:00Z"))],
        ),
    ];
    let (mut bad, mut walks) = sorted_walks(&b, &cases);
    // Two sort keys: the general walk starts at the first key's bound too.
    let contacts = all(&b);
    for (filter, sort) in [
        (
            score("gt", json!(1300)),
            json!([{"key": "profile.score"}, {"key": "profile.at"}]),
        ),
        (
            at("before", "2024-03-01T00:00:00Z"),
            json!([{"key": "profile.at", "order": "desc"}, {"key": "profile.score"}]),
        ),
    ] {
        let qv = json!({"filter": filter, "sort": sort, "limit": 7});
        walks += 1;
        bad.extend(walk_differs(&b, &contacts, &qv, 14));
    }
    assert_eq!(walks, 94);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// R-FLT-12, R-FLT-7: conditions on a contact's own instants (`createdAt`, `updatedAt`,
/// `lastSeenAt`, each compared in place) and on a `datetime` key (its value against the
/// condition's instants) over rows that all share one bucket of the instant index and whose blocks
/// straddle every bound, so each row is checked, agree with the evaluator: durations
/// (`withinLast`, `moreThanAgo`, one under a microsecond) and instants, searched straight
/// through the store at clocks half a microsecond past a stored instant plus the
/// duration, so that a cutoff falls between two whole microseconds right beside a value
/// (a stored value is whole; the cutoff is not).
#[test]
fn r17_conditions_on_own_instants_agree_with_the_evaluator_between_microseconds() {
    let b = ContactBook::in_memory();
    b.define_key("profile.seen", FieldType::Datetime).unwrap();
    let base = t("2025-05-03T10:00:00Z");
    let mut rng = Rng(77);
    let mut ids = Vec::new();
    let mut stamps = Vec::new();
    let mut stamp = |rng: &mut Rng| {
        let at = base + chrono::Duration::milliseconds((rng.next() % 7_200_000) as i64);
        stamps.push(at);
        at
    };
    for i in 0..3000 {
        b.set_clock(Some(stamp(&mut rng))).unwrap();
        let seen = stamp(&mut rng).to_rfc3339();
        let lead = NewLead::email(format!("o{i}@x.com")).with_profile("seen", json!(seen));
        ids.push(b.add_lead(lead).unwrap().id);
    }
    // Boots and edits later in the two hours, again at stamps a later clock hits.
    for (i, id) in ids.iter().enumerate() {
        b.set_clock(Some(stamp(&mut rng))).unwrap();
        if i % 3 == 0 {
            b.boot(Boot {
                contact_id: Some(id.clone()),
                ..Boot::default()
            })
            .unwrap();
        } else if i % 3 == 1 {
            b.update(id, &json!({"profile.name": format!("N{i}")}))
                .unwrap();
        }
    }
    let contacts = all(&b);
    let schema = b.schema_ref().unwrap();
    let tz = b.time_zone().unwrap();
    let half = chrono::Duration::nanoseconds(500);
    let mut bad = Vec::new();
    let mut nonempty = 0;
    let mut runs = 0;
    for key in ["createdAt", "updatedAt", "lastSeenAt", "profile.seen"] {
        for k in 0..14 {
            let stamp = stamps[(rng.next() % stamps.len() as u64) as usize];
            let (op, value, now) = match k % 7 {
                0 => (
                    "withinLast",
                    json!("PT1M"),
                    stamp + chrono::Duration::minutes(1) + half,
                ),
                1 => (
                    "withinLast",
                    json!("PT10M"),
                    stamp + chrono::Duration::minutes(10) + half,
                ),
                2 => (
                    "moreThanAgo",
                    json!("PT30M"),
                    stamp + chrono::Duration::minutes(30) + half,
                ),
                3 => ("moreThanAgo", json!("PT0.0000001S"), stamp + half),
                4 => ("onOrAfter", json!(stamp.to_rfc3339()), stamp + half),
                // The clock half a microsecond before a value: it is not yet seen.
                5 => ("withinLast", json!("PT10M"), stamp - half),
                _ => ("before", json!(stamp.to_rfc3339()), stamp + half),
            };
            let ctx = EvalCtx::new(now, tz);
            let qv = json!({"filter": {"key": key, "op": op, "value": value}, "limit": 1000});
            let compiled = |qv: &J| compile_query(&q(qv.clone()), &schema).unwrap();
            let got = walk_ids(&qv, |qv| {
                b.store()
                    .search(b.channel_name(), &compiled(qv), &ctx)
                    .unwrap()
            });
            let want = walk_ids(&qv, |qv| search_scan(contacts.iter(), &compiled(qv), &ctx));
            runs += 1;
            nonempty += usize::from(!want.is_empty() && want.len() < contacts.len());
            if got != want {
                bad.push(format!(
                    "{key} {op} {value} at {now:?}: {} vs {}",
                    got.len(),
                    want.len()
                ));
            }
        }
    }
    assert_eq!(runs, 56);
    assert!(
        nonempty >= 30,
        "too few runs tell matches from the rest: {nonempty}"
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// The ids of every page of `qv` through the book, walked with cursors, and the ids of the
/// whole listing through `search_scan` over `contacts` in pages of 1,000.
fn pages_and_listing(
    b: &ContactBook,
    contacts: &[rolodex::Contact],
    qv: &J,
) -> (Vec<String>, Vec<String>) {
    book_and_scan(b, contacts, qv, Some(1000))
}

/// R-FLT-7: pages sorted by a text key in a book large enough for the store to keep that
/// key's order (the name, a custom string, an email and a mobile number, folded or exact,
/// and `memberId`, exact), ascending and descending, walked with cursors, plain and under
/// filters (one so sparse that the walk gives way to sorting the matches), agree with the
/// evaluator; and again after each round of writes the order must take in: a few rows
/// (renames, adds, deletes, merges, blocks, logins: each put back in place) and many
/// (hundreds of renames: the key sorted anew). Names fold in every way the sort folds them
/// (case, `ß`, `İ`, accents), tie, and are missing from some contacts.
#[test]
fn r17_text_sorted_pages_agree_with_the_evaluator_through_writes() {
    let b = ContactBook::in_memory();
    b.define_key("profile.city", FieldType::String).unwrap();
    let mut rng = Rng(41);
    const NAMES: &[&str] = &[
        "Kim",
        "kim",
        "KIM",
        "Émile",
        "émile",
        "Straße",
        "STRASSE",
        "İstanbul",
        "istanbul",
        "Ångström",
        "zed",
        "Zed",
        "a",
        "Lee Min",
        "lee min",
        "Lee Minho",
        "O'Brien",
        "0",
        "ß",
        "SS",
        "日本",
        "abcdefghijklmnopq",
        "ABCDEFGHIJKLMNOPR",
        "abcdefghijklmnop",
    ];
    const CITIES: &[&str] = &["Seoul", "seoul", "Busan", "Incheon", "Daegu"];
    let lead = |i: usize, rng: &mut Rng| {
        let mut l = NewLead::email(format!("{}{i}@x.com", if i % 3 == 0 { "U" } else { "u" }));
        if !rng.chance(8) {
            l.name = Some(format!("{} {}", rng.pick(NAMES), rng.next() % 40));
        }
        if rng.chance(4) {
            l.name = Some(rng.pick(NAMES).to_string());
        }
        if !rng.chance(5) {
            l.profile.insert("city".into(), json!(*rng.pick(CITIES)));
        }
        if rng.chance(2) {
            l.mobile_number = Some(format!("+8210{:08}", rng.next() % 100_000_000));
        }
        l
    };
    let mut next = 0;
    for _ in 0..2_600 {
        let _ = b.add_lead(lead(next, &mut rng));
        next += 1;
    }
    // Logins give some contacts a memberId, in either case.
    let ids: Vec<String> = all(&b).iter().map(|c| c.id.clone()).collect();
    for (k, id) in ids.iter().step_by(7).enumerate() {
        b.boot(Boot {
            contact_id: Some(id.clone()),
            member_id: Some(format!(
                "{}-{}",
                if k % 2 == 0 { "m" } else { "M" },
                k % 300
            )),
            ..Boot::default()
        })
        .unwrap();
    }
    let keys = [
        "profile.name",
        "profile.city",
        "profile.email",
        "profile.mobileNumber",
        "memberId",
    ];
    let filters = [
        json!(null),
        json!({"key": "profile.city", "op": "eq", "value": "seoul"}),
        json!({"key": "profile.name", "op": "startsWith", "value": "zed 3"}),
    ];
    let mut bad = Vec::new();
    for round in 0..4 {
        let contacts = all(&b);
        for key in keys {
            for order in ["asc", "desc"] {
                for (filter, limit) in filters.iter().zip([37u64, 150, 3]) {
                    let mut qv = json!({"sort": [{"key": key, "order": order}], "limit": limit});
                    if !filter.is_null() {
                        qv["filter"] = filter.clone();
                    }
                    let (got, want) = pages_and_listing(&b, &contacts, &qv);
                    if got != want || want.len() < 2 {
                        let at = got.iter().zip(&want).position(|(a, b)| a != b);
                        bad.push(format!("round {round} sort {key} {order} filter {filter}: {} vs {} ids, first difference at {at:?}", got.len(), want.len()));
                    }
                }
            }
        }
        // Writes between rounds: a few of each kind, and some or many renames.
        let ids: Vec<String> = all(&b).iter().map(|c| c.id.clone()).collect();
        // A few rows written are read apart by the next pages, a hundred are merged into the
        // order, hundreds make it sorted anew.
        let renames = match round {
            1 => 700,
            2 => 110,
            _ => 12,
        };
        for _ in 0..renames {
            let id = rng.pick(&ids);
            let name = match rng.next() % 4 {
                0 => J::Null,
                _ => json!(format!("{} {}", rng.pick(NAMES), rng.next() % 40)),
            };
            let city = json!(*rng.pick(CITIES));
            let _ = b.update(id, &json!({"profile": {"name": name, "city": city}}));
        }
        for _ in 0..6 {
            let _ = b.add_lead(lead(next, &mut rng));
            next += 1;
        }
        let pick = |rng: &mut Rng| rng.pick(&ids).clone();
        let gone: Vec<String> = (0..5).map(|_| pick(&mut rng)).collect();
        let _ = b.delete(gone);
        let blocked: Vec<String> = (0..3).map(|_| pick(&mut rng)).collect();
        let _ = b.block(blocked);
        for _ in 0..2 {
            let (p, s) = (pick(&mut rng), pick(&mut rng));
            let _ = b.merge(&p, &s, &rolodex::MergeChoices::default());
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
