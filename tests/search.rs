//! Search through the book: segments (R-FLT-8), audiences (R-FLT-11), listings (R-FLT-6),
//! paging (R-FLT-7), time zone (R-FLT-12) and bulk actions on a filter (R-CON-7).

use rolodex::{ContactBook, ErrorKind, FieldType, Medium, NewLead, Query};
use serde_json::json;

mod support;
use support::{f, q};

fn book() -> ContactBook {
    let b = ContactBook::in_memory();
    b.set_clock(Some("2025-06-01T00:00:00Z".parse().unwrap()))
        .unwrap();
    b.define_key("profile.city", FieldType::String).unwrap();
    b
}

fn lead(b: &ContactBook, email: &str, name: &str, city: &str) -> String {
    b.add_lead(NewLead {
        email: Some(email.into()),
        name: Some(name.into()),
        profile: json!({ "city": city }).as_object().unwrap().clone(),
        ..NewLead::default()
    })
    .unwrap()
    .id
}

fn names(p: &rolodex::Page) -> Vec<String> {
    let mut v: Vec<String> = p
        .contacts
        .iter()
        .map(|c| c.name().unwrap_or_default().to_string())
        .collect();
    v.sort();
    v
}

/// R-FLT-8: segment names are unique per channel, so a name with spaces around it or a
/// control character is a `Validation` error (not a second "seoul"), saving nothing.
#[test]
fn r_flt_8_segment_names_are_clean_and_unique() {
    let b = book();
    b.save_segment("seoul", &f(json!({}))).unwrap();
    for bad in [
        " seoul",
        "seoul ",
        "",
        "   ",
        "a\u{0}b",
        "tab\there",
        "seoul\u{200B}",
        "\u{FEFF}seoul",
        &"x".repeat(201),
    ] {
        let e = b.save_segment(bad, &f(json!({}))).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{bad:?}");
        let e = b.rename_segment("seoul", bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{bad:?}");
    }
    assert_eq!(b.segments().unwrap().len(), 1);
    b.save_segment("서울 VIP", &f(json!({}))).unwrap();
    b.save_segment(&"x".repeat(200), &f(json!({}))).unwrap();
}

#[test]
fn r_flt_8_segments_are_criteria_evaluated_fresh() {
    let b = book();
    lead(&b, "a@x.com", "A", "Seoul");
    lead(&b, "b@x.com", "B", "Busan");
    b.save_segment(
        "seoul",
        &f(json!({"key": "profile.city", "op": "eq", "value": "seoul"})),
    )
    .unwrap();
    assert_eq!(
        names(&b.run_segment("seoul", &Query::default()).unwrap()),
        ["A"]
    );
    // A contact added later appears: the segment is criteria, not a stored list.
    lead(&b, "c@x.com", "C", "SEOUL");
    assert_eq!(
        names(&b.run_segment("seoul", &Query::default()).unwrap()),
        ["A", "C"]
    );
    // Combined with a query filter by AND.
    let p = b
        .run_segment("seoul", &q(json!({"search": "c@x"})))
        .unwrap();
    assert_eq!(names(&p), ["C"]);
    // Names are unique; rename and delete.
    let e = b.save_segment("seoul", &f(json!({}))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    b.rename_segment("seoul", "capital").unwrap();
    assert_eq!(b.segments().unwrap()[0].name, "capital");
    assert_eq!(
        b.run_segment("seoul", &Query::default())
            .unwrap_err()
            .kind(),
        ErrorKind::NotFound
    );
    b.delete_segment("capital").unwrap();
    assert!(b.segments().unwrap().is_empty());
}

#[test]
fn r_flt_4_segment_filter_checked_against_schema() {
    let b = book();
    let e = b
        .save_segment(
            "bad",
            &f(json!({"and": [{"key": "profile.city", "op": "gt", "value": 1}]})),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Filter);
    assert!(e.to_string().contains("and[0]"), "{e}");
    assert!(b.segments().unwrap().is_empty());
}

#[test]
fn r_flt_11_audience_per_medium() {
    let b = book();
    let a = lead(&b, "a@x.com", "A", "Seoul");
    let c = lead(&b, "c@x.com", "C", "Seoul");
    let m = b
        .add_lead(NewLead {
            mobile_number: Some("+821020203030".into()),
            name: Some("M".into()),
            profile: json!({"city": "Seoul"}).as_object().unwrap().clone(),
            ..NewLead::default()
        })
        .unwrap()
        .id;
    let blocked = lead(&b, "z@x.com", "Z", "Seoul");
    b.block(vec![blocked]).unwrap();
    b.set_opt_out(vec![c.clone()], Medium::Email, true).unwrap();
    b.save_segment(
        "seoul",
        &f(json!({"key": "profile.city", "op": "eq", "value": "Seoul"})),
    )
    .unwrap();
    let email: Vec<String> = b
        .audience("seoul", Medium::Email)
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(email, vec![a.clone()]);
    let text: Vec<String> = b
        .audience("seoul", Medium::Texting)
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(text, vec![m]);
}

#[test]
fn r_flt_6_hidden_and_blocked_only_in_their_listings() {
    let b = book();
    lead(&b, "a@x.com", "A", "Seoul");
    b.set_clock(Some("2025-06-02T00:00:00Z".parse().unwrap()))
        .unwrap();
    lead(&b, "b@x.com", "B", "Seoul");
    let c = lead(&b, "c@x.com", "C", "Seoul");
    b.block(vec![c]).unwrap();
    b.set_mu_limit(Some(1)).unwrap();
    assert_eq!(names(&b.search(&Query::default()).unwrap()), ["B"]);
    assert_eq!(
        names(&b.search(&q(json!({"include": "hidden"}))).unwrap()),
        ["A"]
    );
    assert_eq!(
        names(&b.search(&q(json!({"include": "blocked"}))).unwrap()),
        ["C"]
    );
    assert_eq!(b.search(&q(json!({"terms": "a@x.com"}))).unwrap().total, 0);
}

#[test]
fn r_flt_7_cursor_pages_are_stable_while_contacts_change() {
    let b = book();
    for i in 0..7 {
        lead(&b, &format!("p{i}@x.com"), &format!("P{i}"), "Seoul");
    }
    let first = b.search(&q(json!({"limit": 3}))).unwrap();
    assert_eq!(first.total, 7);
    assert_eq!(first.contacts.len(), 3);
    // Default order: createdAt desc, then id: the newest first.
    assert_eq!(first.contacts[0].name(), Some("P6"));
    // A new contact sorts before the cursor; the next page neither repeats nor skips.
    lead(&b, "new@x.com", "New", "Seoul");
    let second = b
        .search(&q(json!({"limit": 3, "cursor": first.next_cursor})))
        .unwrap();
    assert_eq!(
        second.total, 8,
        "total counts matches at the time of the page"
    );
    let got: Vec<&str> = second.contacts.iter().filter_map(|c| c.name()).collect();
    assert_eq!(got, ["P3", "P2", "P1"]);
    let e = b.search(&q(json!({"limit": 1001}))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
}

#[test]
fn r_flt_12_date_on_datetime_key_uses_the_book_time_zone() {
    let b = book();
    b.define_key("profile.boughtAt", FieldType::Datetime)
        .unwrap();
    b.add_lead(NewLead {
        email: Some("late@x.com".into()),
        name: Some("Late".into()),
        // 2025-05-04 23:30 in Seoul
        profile: json!({"boughtAt": "2025-05-04T14:30:00Z"})
            .as_object()
            .unwrap()
            .clone(),
        ..NewLead::default()
    })
    .unwrap();
    let on_may_4 =
        q(json!({"filter": {"key": "profile.boughtAt", "op": "eq", "value": "2025-05-04"}}));
    assert_eq!(b.search(&on_may_4).unwrap().total, 1, "UTC: the 4th");
    b.set_time_zone("Asia/Seoul").unwrap();
    assert_eq!(
        b.search(&on_may_4).unwrap().total,
        1,
        "Seoul: still the 4th"
    );
    b.set_time_zone("America/Los_Angeles").unwrap();
    assert_eq!(
        b.search(&on_may_4).unwrap().total,
        1,
        "LA: 07:30 on the 4th"
    );
    let on_may_5 =
        q(json!({"filter": {"key": "profile.boughtAt", "op": "eq", "value": "2025-05-05"}}));
    b.set_time_zone("Pacific/Kiritimati").unwrap(); // UTC+14: 04:30 on the 5th
    assert_eq!(b.search(&on_may_5).unwrap().total, 1);
    assert_eq!(
        b.set_time_zone("Mars/Olympus").unwrap_err().kind(),
        ErrorKind::Validation
    );
}

#[test]
fn r_con_7_bulk_on_a_filter() {
    let b = book();
    lead(&b, "a@x.com", "A", "Seoul");
    lead(&b, "b@x.com", "B", "Seoul");
    lead(&b, "c@x.com", "C", "Busan");
    let seoul = f(json!({"key": "profile.city", "op": "eq", "value": "Seoul"}));
    let r = b.add_tags(seoul.clone(), &["capital"]).unwrap();
    assert_eq!(r.done, 2);
    let tagged = b
        .search(&q(
            json!({"filter": {"key": "tags", "op": "containsAny", "value": ["capital"]}}),
        ))
        .unwrap();
    assert_eq!(names(&tagged), ["A", "B"]);
    let r = b.block(seoul.clone()).unwrap();
    assert_eq!(r.done, 2);
    assert_eq!(b.mu_count().unwrap(), 1);
    let r = b.delete(seoul).unwrap();
    assert_eq!(r.done, 0, "blocked contacts are not in a filter's result");
}

#[test]
fn r_con_7_bulk_on_a_filter_spans_many_pages() {
    // More matches than one search page (1,000): the target is read page by page.
    let b = book();
    for i in 0..1_050 {
        lead(&b, &format!("p{i}@x.com"), &format!("P{i}"), "Seoul");
    }
    lead(&b, "other@x.com", "Other", "Busan");
    let seoul = f(json!({"key": "profile.city", "op": "eq", "value": "Seoul"}));
    let r = b.add_tags(seoul, &["capital"]).unwrap();
    assert_eq!(r.done, 1_050);
    assert!(r.failed.is_empty());
    let tagged = b
        .search(&q(json!({"filter": {"key": "tags", "op": "containsAny", "value": ["capital"]}, "limit": 1})))
        .unwrap();
    assert_eq!(tagged.total, 1_050);
}

/// R-FLT-2: "a piece between commas, semicolons or newlines that is a valid phone number
/// stays whole (`+82 10-2020-3030`)" and "A contact matches if any term equals ... its
/// mobile number (after normalisation)". Each text below is a valid mobile number by
/// R-VAL-2 (`parse_value` normalises it to +821020203030), and multi-term search keeps
/// it whole, normalises it and finds the contact.
#[test]
fn r_flt_2_valid_phone_number_term_matches_the_mobile_number() {
    let b = ContactBook::in_memory();
    b.set_clock(Some("2025-06-01T00:00:00Z".parse().unwrap()))
        .unwrap();
    b.add_lead(NewLead {
        mobile_number: Some("+821020203030".into()),
        name: Some("Kr".into()),
        ..NewLead::default()
    })
    .unwrap();
    for term in [
        "+82 10.2020.3030",
        "(+82) 10-2020-3030",
        "+82.10.2020.3030",
        "\u{FF0B}82 10 2020 3030",
    ] {
        assert_eq!(
            rolodex::parse_value(FieldType::MobileNumber, term).unwrap(),
            rolodex::parse_value(FieldType::MobileNumber, "+821020203030").unwrap(),
            "{term:?} is a valid phone number (R-VAL-2)"
        );
        // The same text works as a filter value (FILTER.md: normalised like stored ones).
        let p = b
            .search(&q(
                json!({"filter": {"key": "profile.mobileNumber", "op": "eq", "value": term}}),
            ))
            .unwrap();
        assert_eq!(p.total, 1, "filter eq {term:?}");
        let p = b.search(&q(json!({ "terms": term }))).unwrap();
        assert_eq!(
            p.total, 1,
            "terms {term:?}: unmatched {:?}",
            p.unmatched_terms
        );
        assert!(
            p.unmatched_terms.is_empty(),
            "{term:?}: {:?}",
            p.unmatched_terms
        );
    }
}

/// R-VAL-10: "Every value has one canonical text form, and parsing it gives the same value
/// back: ... datetimes RFC 3339 in UTC with milliseconds"; FILTER.md: "Datetimes are RFC
/// 3339 in UTC with milliseconds". The book keeps its times to the millisecond (a clock
/// with finer time is cut), so filtering on a contact's own `createdAt` text finds it
/// (`eq`, `onOrBefore`) and never says it was created after its own creation time.
#[test]
fn r_val_10_created_at_text_filters_back_to_the_contact() {
    let b = ContactBook::in_memory();
    b.set_clock(Some("2025-06-01T00:00:00.000500Z".parse().unwrap()))
        .unwrap();
    let c = b
        .add_lead(NewLead {
            email: Some("a@x.com".into()),
            name: Some("A".into()),
            ..NewLead::default()
        })
        .unwrap();
    let shown = serde_json::to_value(b.get(&c.id).unwrap()).unwrap()["createdAt"].clone();
    assert_eq!(shown, json!("2025-06-01T00:00:00.000Z"));
    let total = |op: &str| {
        b.search(&q(
            json!({"filter": {"key": "createdAt", "op": op, "value": shown}}),
        ))
        .unwrap()
        .total
    };
    assert_eq!(total("eq"), 1, "createdAt eq its own createdAt");
    assert_eq!(
        total("onOrBefore"),
        1,
        "createdAt onOrBefore its own createdAt"
    );
    assert_eq!(total("after"), 0, "createdAt after its own createdAt");
}
