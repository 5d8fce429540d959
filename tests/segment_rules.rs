//! Saved segments and audiences (R-FLT-6..11), sorting and paging with
//! cursors across writes (R-FLT-7), dates and datetimes in the book's time zone (R-FLT-12).
//! Checks the conformance-vector runner cannot express (audiences, cursors, the time-zone
//! setting, channels), through the public API only. Each expectation quotes the spec.

use rolodex::{ContactBook, Error, ErrorKind, FieldType, Medium, NewLead, Query};
use serde_json::json;

mod support;
use support::{f, q, t};

fn book() -> ContactBook {
    let b = ContactBook::in_memory();
    b.set_clock(Some(t("2025-06-01T00:00:00Z"))).unwrap();
    b.define_key("profile.city", FieldType::String).unwrap();
    b.define_key("profile.score", FieldType::Number).unwrap();
    b.define_key("profile.boughtAt", FieldType::Datetime)
        .unwrap();
    b
}

fn lead(b: &ContactBook, email: &str, name: &str, profile: serde_json::Value) -> String {
    b.add_lead(NewLead {
        email: Some(email.into()),
        name: Some(name.into()),
        profile: profile.as_object().unwrap().clone(),
        ..NewLead::default()
    })
    .unwrap()
    .id
}

fn names(p: &rolodex::Page) -> Vec<String> {
    p.contacts
        .iter()
        .map(|c| c.name().unwrap_or_default().to_string())
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn audience_names(b: &ContactBook, seg: &str, m: Medium) -> Vec<String> {
    sorted(
        b.audience(seg, m)
            .unwrap()
            .iter()
            .map(|c| c.name().unwrap_or_default().to_string())
            .collect(),
    )
}

/// Every page of `query` (JSON) with page size `limit`, following `nextCursor`; `between`
/// runs after each page but the last.
fn all_pages(
    b: &ContactBook,
    mut query: serde_json::Value,
    limit: u64,
    mut between: impl FnMut(usize),
) -> Vec<String> {
    query["limit"] = json!(limit);
    let mut out = Vec::new();
    let mut page_no = 0;
    loop {
        let p = b.search(&q(query.clone())).unwrap();
        out.extend(names(&p));
        match p.next_cursor {
            Some(c) => {
                between(page_no);
                page_no += 1;
                query["cursor"] = json!(c);
            }
            None => return out,
        }
    }
}

/// A filter nested 10 levels deep (a lone condition has depth 1; each `and`/`not` adds
/// one): `and[not⁸(profile.city exists)]`, which means `profile.city exists`.
fn nested10() -> serde_json::Value {
    let mut v = json!({"key": "profile.city", "op": "exists"});
    for _ in 0..8 {
        v = json!({ "not": v });
    }
    json!({ "and": [v] })
}

fn filter_path(e: &Error) -> String {
    match e {
        Error::Filter { path, .. } => path.clone(),
        other => panic!("expected a Filter error, got {other:?}"),
    }
}

// ----- segments (R-FLT-8) -----

/// FILTER.md: "limits: depth ≤ 10, ≤ 1,000 conditions … Over a limit is an error". A
/// segment at depth 10 is within the limit, and so is the one-condition filter of the query
/// it is run with (API.md: `run_segment(name, query)`); R-FLT-8: "Loading a segment runs its
/// filter against current data." Running them together must not fail a limit neither
/// breaks.
#[test]
fn r_flt_8_segment_at_the_depth_limit_runs_with_a_query_filter() {
    let b = book();
    lead(&b, "a@x.com", "A", json!({"city": "Seoul"}));
    lead(&b, "b@x.com", "B", json!({}));
    let deep = nested10();
    b.save_segment("deep", &f(deep)).unwrap();
    assert_eq!(
        names(&b.run_segment("deep", &Query::default()).unwrap()),
        ["A"]
    );
    let with_filter = q(json!({"filter": {"key": "profile.name", "op": "eq", "value": "a"}}));
    let p = b.run_segment("deep", &with_filter);
    assert!(
        p.is_ok(),
        "a depth-10 segment run with a depth-1 query filter: {:?}",
        p.err()
    );
    assert_eq!(names(&p.unwrap()), ["A"]);
}

/// FILTER.md: "≤ 1,000 conditions … Over a limit is an error". A segment of exactly 1,000
/// conditions is valid; running it with a query that has one condition of its own must not
/// report more than 1,000 conditions.
#[test]
fn r_flt_8_segment_at_the_condition_limit_runs_with_a_query_filter() {
    let b = book();
    lead(&b, "a@x.com", "A", json!({"city": "Seoul"}));
    let conds: Vec<_> = (0..1000)
        .map(|_| json!({"key": "profile.city", "op": "exists"}))
        .collect();
    b.save_segment("wide", &f(json!({ "and": conds }))).unwrap();
    assert_eq!(b.run_segment("wide", &Query::default()).unwrap().total, 1);
    let with_filter = q(json!({"filter": {"key": "profile.name", "op": "eq", "value": "a"}}));
    let p = b.run_segment("wide", &with_filter);
    assert!(
        p.is_ok(),
        "a 1,000-condition segment with a 1-condition query filter: {:?}",
        p.err()
    );
}

/// FILTER.md: "The error names the JSON path of the bad condition (e.g. `and[1].or[0]`)."
/// The bad condition of a query run against a segment is at `or[0]` of the filter the
/// caller wrote; the caller never wrote an `and` around it.
#[test]
fn r_flt_4_run_segment_names_the_path_in_the_callers_filter() {
    let b = book();
    b.save_segment("all", &f(json!({}))).unwrap();
    let bad = q(json!({"filter": {"or": [{"key": "profile.city", "op": "gt", "value": 1}]}}));
    let direct = b.search(&bad).unwrap_err();
    assert_eq!(filter_path(&direct), "or[0]");
    let via_segment = b.run_segment("all", &bad).unwrap_err();
    assert_eq!(via_segment.kind(), ErrorKind::Filter);
    assert_eq!(filter_path(&via_segment), "or[0]", "{via_segment}");
}

/// FILTER.md: "names are unique per channel"; API.md: `channel(name)` is "another channel's
/// book on the same store". The same name may be used in two channels, and each channel
/// runs its own segment over its own contacts.
#[test]
fn r_flt_8_segment_names_are_per_channel() {
    let a = book();
    let other = a.channel("shop2");
    other.define_key("profile.city", FieldType::String).unwrap();
    lead(&a, "a@x.com", "A", json!({"city": "Seoul"}));
    lead(&other, "o@x.com", "O", json!({"city": "Busan"}));
    a.save_segment(
        "vip",
        &f(json!({"key": "profile.city", "op": "eq", "value": "seoul"})),
    )
    .unwrap();
    assert!(other.segments().unwrap().is_empty());
    other
        .save_segment(
            "vip",
            &f(json!({"key": "profile.city", "op": "eq", "value": "busan"})),
        )
        .unwrap();
    assert_eq!(
        names(&a.run_segment("vip", &Query::default()).unwrap()),
        ["A"]
    );
    assert_eq!(
        names(&other.run_segment("vip", &Query::default()).unwrap()),
        ["O"]
    );
    other.delete_segment("vip").unwrap();
    assert_eq!(a.segments().unwrap().len(), 1);
}

/// R-FLT-8: "A segment is a named, saved filter"; FILTER.md: "names are unique per channel".
/// Renaming onto a taken name is refused and changes nothing; a rename keeps the criteria;
/// deleting or renaming an unknown segment is `NotFound` (API.md: "unknown segment").
#[test]
fn r_flt_8_rename_and_delete() {
    let b = book();
    lead(&b, "a@x.com", "A", json!({"city": "Seoul"}));
    lead(&b, "b@x.com", "B", json!({"city": "Busan"}));
    b.save_segment(
        "s",
        &f(json!({"key": "profile.city", "op": "eq", "value": "Seoul"})),
    )
    .unwrap();
    b.save_segment(
        "t",
        &f(json!({"key": "profile.city", "op": "eq", "value": "Busan"})),
    )
    .unwrap();
    assert_eq!(
        b.rename_segment("s", "t").unwrap_err().kind(),
        ErrorKind::Conflict
    );
    assert_eq!(
        names(&b.run_segment("t", &Query::default()).unwrap()),
        ["B"]
    );
    assert_eq!(
        names(&b.run_segment("s", &Query::default()).unwrap()),
        ["A"]
    );
    b.rename_segment("s", "u").unwrap();
    assert_eq!(
        names(&b.run_segment("u", &Query::default()).unwrap()),
        ["A"]
    );
    for e in [
        b.rename_segment("s", "v").unwrap_err(),
        b.delete_segment("s").unwrap_err(),
        b.audience("s", Medium::Email).unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::NotFound);
    }
}

// ----- audiences (R-FLT-11) -----

/// R-FLT-11: "A marketing audience of a segment for a medium (email or texting) is the
/// segment's visible, unblocked contacts that have that field and are not opted out of it."
/// A contact never given an opt-out value is not opted out; a landline is not the texting
/// field; hidden contacts are not visible (R-MU-2: "not in search, segments or marketing
/// audiences"), and come back when un-hidden.
#[test]
fn r_flt_11_audience_visible_reachable_not_opted_out() {
    let b = book();
    b.set_clock(Some(t("2025-06-01T00:00:00Z"))).unwrap();
    lead(&b, "old@x.com", "Old", json!({"city": "Seoul"}));
    b.set_clock(Some(t("2025-06-02T00:00:00Z"))).unwrap();
    b.add_lead(NewLead {
        mobile_number: Some("+821020203030".into()),
        name: Some("Both".into()),
        email: Some("both@x.com".into()),
        profile: json!({"city": "Seoul", "landlineNumber": "+8225556666"})
            .as_object()
            .unwrap()
            .clone(),
        ..NewLead::default()
    })
    .unwrap();
    let text_out = lead(&b, "t@x.com", "TextOut", json!({"city": "Seoul"}));
    b.update(
        &text_out,
        &json!({"profile": {"mobileNumber": "+821030304040"}}),
    )
    .unwrap();
    b.set_opt_out(vec![text_out.clone()], Medium::Texting, true)
        .unwrap();
    // Only a landline: no texting field.
    let land = b
        .add_lead(NewLead {
            email: Some("land@x.com".into()),
            name: Some("Land".into()),
            profile: json!({"city": "Seoul", "landlineNumber": "+8225557777"})
                .as_object()
                .unwrap()
                .clone(),
            ..NewLead::default()
        })
        .unwrap()
        .id;
    b.set_opt_out(vec![land], Medium::Email, false).unwrap();
    b.save_segment(
        "seoul",
        &f(json!({"key": "profile.city", "op": "eq", "value": "Seoul"})),
    )
    .unwrap();
    assert_eq!(
        audience_names(&b, "seoul", Medium::Email),
        ["Both", "Land", "Old", "TextOut"]
    );
    assert_eq!(audience_names(&b, "seoul", Medium::Texting), ["Both"]);
    // The MU limit hides the least recently seen (Old).
    b.set_mu_limit(Some(3)).unwrap();
    assert_eq!(
        audience_names(&b, "seoul", Medium::Email),
        ["Both", "Land", "TextOut"]
    );
    b.set_mu_limit(None).unwrap();
    assert!(audience_names(&b, "seoul", Medium::Email).contains(&"Old".to_string()));
}

/// R-CON-6: "Blocking a contact removes it … from every segment and marketing audience
/// result … Unblocking restores all of that."
#[test]
fn r_con_6_block_and_unblock_in_audience_and_segment() {
    let b = book();
    let a = lead(&b, "a@x.com", "A", json!({"city": "Seoul"}));
    lead(&b, "c@x.com", "C", json!({"city": "Seoul"}));
    b.save_segment(
        "seoul",
        &f(json!({"key": "profile.city", "op": "eq", "value": "Seoul"})),
    )
    .unwrap();
    b.block(vec![a.clone()]).unwrap();
    assert_eq!(audience_names(&b, "seoul", Medium::Email), ["C"]);
    assert_eq!(
        sorted(names(&b.run_segment("seoul", &Query::default()).unwrap())),
        ["C"]
    );
    assert_eq!(
        b.blocked()
            .unwrap()
            .iter()
            .map(|c| c.id.clone())
            .collect::<Vec<_>>(),
        vec![a.clone()]
    );
    b.unblock(vec![a]).unwrap();
    assert_eq!(audience_names(&b, "seoul", Medium::Email), ["A", "C"]);
}

// ----- sorting and paging (R-FLT-7) -----

/// R-FLT-7: "Pages … follow a keyset cursor on (sort values, id): a contact whose sort
/// values did not change is never repeated or skipped while others change". Between pages
/// the contact the cursor sits on is deleted, a new contact sorting before the cursor is
/// added, and one already listed moves past the cursor; every unchanged contact is listed
/// exactly once, in order.
#[test]
fn r_flt_7_cursor_survives_delete_add_and_update_between_pages() {
    let b = book();
    let mut ids = std::collections::HashMap::new();
    for (n, city) in [
        ("A", "amsterdam"),
        ("B", "Berlin"),
        ("C", "cairo"),
        ("D", "Dakar"),
        ("E", "Essen"),
        ("F", "faro"),
        ("G", "Genoa"),
    ] {
        ids.insert(
            n,
            lead(&b, &format!("{n}@x.com"), n, json!({ "city": city })),
        );
    }
    let query = json!({"sort": [{"key": "profile.city", "order": "asc"}]});
    let got = all_pages(&b, query, 2, |page| {
        if page == 0 {
            // The cursor is on B.
            b.delete(vec![ids["B"].clone()]).unwrap();
            lead(&b, "aa@x.com", "AA", json!({"city": "Aachen"}));
            b.update(&ids["A"], &json!({"profile": {"city": "Zagreb"}}))
                .unwrap();
        }
    });
    // A changed (listed again at its new place is allowed); every other unchanged contact once.
    let unchanged: Vec<&String> = got.iter().filter(|n| *n != "A").collect();
    assert_eq!(unchanged, ["B", "C", "D", "E", "F", "G"]);
}

/// R-FLT-7: "sorted … descending (missing values last)"; a cursor that stops among the
/// contacts with no value continues there, while contacts are added between pages.
#[test]
fn r_flt_7_cursor_in_the_missing_values_block() {
    let b = book();
    for (n, s) in [("S1", json!(1)), ("S2", json!(2))] {
        lead(&b, &format!("s-{n}@x.com"), n, json!({ "score": s }));
    }
    for n in ["M1", "M2", "M3", "M4"] {
        lead(&b, &format!("old-{n}@x.com"), n, json!({}));
    }
    let query = json!({"sort": [{"key": "profile.score", "order": "desc"}]});
    let mut added = 0;
    let got = all_pages(&b, query, 3, |_| {
        added += 1;
        lead(
            &b,
            &format!("n{added}@x.com"),
            &format!("N{added}"),
            json!({"score": 100 + added}),
        );
        lead(
            &b,
            &format!("m{added}@x.com"),
            &format!("X{added}"),
            json!({}),
        );
    });
    let old: Vec<&String> = got
        .iter()
        .filter(|n| n.starts_with('S') || n.starts_with('M'))
        .collect();
    assert_eq!(old.len(), 6, "{got:?}");
    assert_eq!(&old[..2], ["S2", "S1"]);
    assert_eq!(
        sorted(old[2..].iter().map(|s| s.to_string()).collect()),
        ["M1", "M2", "M3", "M4"]
    );
}

/// R-FLT-7: "`total` counts every match of the query at the time the page is read".
#[test]
fn r_flt_7_total_is_read_with_each_page() {
    let b = book();
    for i in 0..5 {
        lead(
            &b,
            &format!("p{i}@x.com"),
            &format!("P{i}"),
            json!({"city": "Seoul"}),
        );
    }
    let first = b
        .search(&q(
            json!({"limit": 2, "filter": {"key": "profile.city", "op": "eq", "value": "seoul"}}),
        ))
        .unwrap();
    assert_eq!(first.total, 5);
    let p0 = b.search(&q(json!({"search": "p0@"}))).unwrap().contacts[0]
        .id
        .clone();
    b.update(&p0, &json!({"profile": {"city": "Busan"}}))
        .unwrap();
    let second = b
        .search(&q(json!({"limit": 2, "cursor": first.next_cursor, "filter": {"key": "profile.city", "op": "eq", "value": "seoul"}})))
        .unwrap();
    assert_eq!(second.total, 4);
}

// ----- dates and datetimes in the book's time zone (R-FLT-12) -----

fn bought(b: &ContactBook, name: &str, at: &str) {
    lead(
        b,
        &format!("{}@x.com", name.to_lowercase()),
        name,
        json!({ "boughtAt": at }),
    );
}

fn matching(b: &ContactBook, op: &str, value: serde_json::Value) -> Vec<String> {
    sorted(names(
        &b.search(&q(
            json!({"filter": {"key": "profile.boughtAt", "op": op, "value": value}}),
        ))
        .unwrap(),
    ))
}

/// R-FLT-12: "A `date` value compared with a `datetime` key means that whole day in the
/// book's time zone … `after D` is after the day ends, `before D` before it starts". In
/// America/Santiago the clocks jump from 00:00 to 01:00 on 2024-09-08, so that day starts at
/// 01:00 local = 04:00Z; 03:59:59.999Z is still the 7th.
#[test]
fn r_flt_12_day_starting_in_a_dst_gap() {
    let b = book();
    bought(&b, "Late7", "2024-09-08T03:59:59.999Z");
    bought(&b, "Early8", "2024-09-08T04:00:00.000Z");
    bought(&b, "Late8", "2024-09-09T02:59:59.999Z");
    bought(&b, "Early9", "2024-09-09T03:00:00.000Z");
    b.set_time_zone("America/Santiago").unwrap();
    assert_eq!(matching(&b, "eq", json!("2024-09-08")), ["Early8", "Late8"]);
    assert_eq!(matching(&b, "before", json!("2024-09-08")), ["Late7"]);
    assert_eq!(matching(&b, "after", json!("2024-09-08")), ["Early9"]);
    assert_eq!(
        matching(&b, "between", json!(["2024-09-07", "2024-09-08"])),
        ["Early8", "Late7", "Late8"]
    );
}

/// R-FLT-12, the other DST edge: in America/Havana on 2024-11-03 clocks fall back from 01:00
/// to 00:00, so local midnight occurs twice; the day starts at the first (04:00Z) and is 25
/// hours long (it ends at 05:00Z on the 4th).
#[test]
fn r_flt_12_day_starting_at_a_repeated_midnight() {
    let b = book();
    bought(&b, "Late2", "2024-11-03T03:59:59.999Z");
    bought(&b, "Early3", "2024-11-03T04:00:00.000Z");
    bought(&b, "Mid3", "2024-11-03T04:30:00.000Z");
    bought(&b, "Late3", "2024-11-04T04:59:59.999Z");
    bought(&b, "Early4", "2024-11-04T05:00:00.000Z");
    b.set_time_zone("America/Havana").unwrap();
    assert_eq!(
        matching(&b, "eq", json!("2024-11-03")),
        ["Early3", "Late3", "Mid3"]
    );
    assert_eq!(matching(&b, "onOrBefore", json!("2024-11-02")), ["Late2"]);
    assert_eq!(matching(&b, "onOrAfter", json!("2024-11-04")), ["Early4"]);
}

/// R-VAL-5 (filter values accept every input form of R-VAL-5, FILTER.md): a datetime "with
/// no offset (then UTC)" stays UTC whatever the book's time zone; only a `date` value is
/// read in the book's zone (R-FLT-12).
#[test]
fn r_flt_12_datetime_without_offset_is_utc_in_any_zone() {
    let b = book();
    bought(&b, "Nine", "2025-05-04T09:00:00Z");
    bought(&b, "Ten", "2025-05-04T10:00:00Z");
    b.set_time_zone("Asia/Seoul").unwrap();
    assert_eq!(matching(&b, "after", json!("2025-05-04T09:00:00")), ["Ten"]);
    assert_eq!(
        matching(&b, "onOrBefore", json!("2025-05-04 09:00:00")),
        ["Nine"]
    );
    // The date 2025-05-04 in Seoul is 2025-05-03T15:00Z .. 2025-05-04T15:00Z: both.
    assert_eq!(matching(&b, "eq", json!("2025-05-04")), ["Nine", "Ten"]);
    // 2025-05-05 in Seoul starts at 2025-05-04T15:00Z: neither.
    assert!(matching(&b, "eq", json!("2025-05-05")).is_empty());
}

/// R-FLT-12: "`withinLast` never matches future values" and R-FLT-5 ("evaluated against a
/// clock passed in"), in a zone far from UTC; `moreThanAgo` is its complement for past
/// values.
#[test]
fn r_flt_12_within_last_and_more_than_ago_around_now() {
    let b = book();
    b.set_time_zone("Pacific/Kiritimati").unwrap();
    b.set_clock(Some(t("2025-06-10T12:00:00Z"))).unwrap();
    bought(&b, "Future", "2025-06-10T12:00:00.001Z");
    bought(&b, "Now", "2025-06-10T12:00:00Z");
    bought(&b, "Edge", "2025-06-10T00:00:00Z");
    bought(&b, "Older", "2025-06-09T23:59:59.999Z");
    assert_eq!(matching(&b, "withinLast", json!("PT12H")), ["Edge", "Now"]);
    assert_eq!(matching(&b, "moreThanAgo", json!("PT12H")), ["Older"]);
}

/// R-FLT-12: "A `date` value compared with a `datetime` key means that whole day in the
/// book's time zone (default UTC, settable per book): `after D` is after the day ends".
/// Pacific/Apia skipped 2011-12-30: 2011-12-29 ran (at UTC−10) until 2011-12-30T10:00Z,
/// when 2011-12-31 began (at UTC+14). 2011-12-30T05:00Z is 19:00 on the 29th in Apia, so it
/// is on that day and not after it.
#[test]
fn r_flt_12_day_before_a_skipped_day_runs_until_the_next_day_starts() {
    let b = book();
    bought(&b, "Evening29", "2011-12-30T05:00:00Z");
    bought(&b, "Morning31", "2011-12-30T10:00:00Z");
    b.set_time_zone("Pacific/Apia").unwrap();
    assert_eq!(matching(&b, "eq", json!("2011-12-31")), ["Morning31"]);
    assert_eq!(matching(&b, "eq", json!("2011-12-29")), ["Evening29"]);
    assert_eq!(matching(&b, "after", json!("2011-12-29")), ["Morning31"]);
}

/// R-FLT-12, a gap at midnight that is not a multiple of 15 minutes: Africa/Monrovia went
/// from UTC−0:44:30 to UTC at 1972-01-07 00:00 local, so the 7th began at 00:44:30 local
/// (= 00:44:30Z); 00:44:40Z is 00:44:40 on the 7th there.
#[test]
fn r_flt_12_day_starting_after_an_odd_sized_gap() {
    let b = book();
    bought(&b, "Just7", "1972-01-07T00:44:40Z");
    bought(&b, "Late6", "1972-01-07T00:44:29Z");
    b.set_time_zone("Africa/Monrovia").unwrap();
    assert_eq!(matching(&b, "eq", json!("1972-01-06")), ["Late6"]);
    assert_eq!(matching(&b, "eq", json!("1972-01-07")), ["Just7"]);
    assert_eq!(matching(&b, "before", json!("1972-01-07")), ["Late6"]);
}

/// R-FLT-8 with R-VAL-1: segment names are kept and compared in NFC, so a name typed
/// decomposed (as macOS sends Korean) is the same name as the composed one: saving it
/// twice is `Conflict`, and either spelling runs, renames and deletes it.
#[test]
fn r_flt_8_segment_names_compare_in_nfc() {
    let b = rolodex::ContactBook::in_memory();
    let composed = "\u{D55C}\u{AE00} VIP"; // 한글
    let decomposed = "\u{1112}\u{1161}\u{11AB}\u{1100}\u{1173}\u{11AF} VIP";
    let all = rolodex::Filter::from_value(&serde_json::json!({})).unwrap();
    b.save_segment(decomposed, &all).unwrap();
    assert_eq!(b.segments().unwrap()[0].name, composed);
    let e = b.save_segment(composed, &all).unwrap_err();
    assert_eq!(e.kind(), rolodex::ErrorKind::Conflict, "{e}");
    b.run_segment(composed, &rolodex::Query::default()).unwrap();
    b.run_segment(decomposed, &rolodex::Query::default())
        .unwrap();
    b.rename_segment(composed, decomposed).unwrap(); // the same name: nothing to do
    b.delete_segment(decomposed).unwrap();
    assert!(b.segments().unwrap().is_empty());
}
