//! The public surface and the JSON shapes of API.md and FILTER.md, checked through the
//! public API only. Every expectation quotes the spec sentence it comes from.

use std::io::Cursor;

use rolodex::{
    Boot, Contact, ContactBook, Error, ErrorKind, ExportOptions, FieldType, Filter, IdentifyBy,
    ImportOptions, Manager, MergeChoices, NewLead, Page, Query, Segment, Side,
};
use serde_json::{json, Value as J};

mod support;
use support::{book_at, f, q};

/// Every object member of `v`, recursively, whose value is JSON `null`, by path.
fn nulls(v: &J, path: &str, out: &mut Vec<String>) {
    match v {
        J::Object(m) => {
            for (k, x) in m {
                let p = format!("{path}.{k}");
                if x.is_null() {
                    out.push(p.clone());
                }
                nulls(x, &p, out);
            }
        }
        J::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                nulls(x, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn kind<T: std::fmt::Debug>(r: rolodex::Result<T>) -> ErrorKind {
    r.expect_err("expected an error").kind()
}

// ----- API.md: names -----

#[test]
fn filter_md_contact_json_leaves_absent_values_out() {
    let book = book_at("2025-05-04T00:00:00Z");
    book.define_key("profile.birthday", FieldType::Date)
        .unwrap();
    book.define_key("profile.last", FieldType::Datetime)
        .unwrap();
    let mut lead = NewLead::email("kim@example.com").with_name("Kim");
    lead.profile.insert("birthday".into(), json!("1990-01-02"));
    lead.profile
        .insert("last".into(), json!("2025-05-04T09:00:00+09:00"));
    let c = book.add_lead(lead).unwrap();
    let j = book.get(&c.id).unwrap().to_json();
    let mut found = Vec::new();
    nulls(&j, "", &mut found);
    assert!(found.is_empty(), "null members: {found:?} in {j}");
    for k in ["memberId", "unsubscribeEmail", "unsubscribeTexting"] {
        assert!(j.get(k).is_none(), "{k} should be left out: {j}");
    }
    assert_eq!(j["createdAt"], "2025-05-04T00:00:00.000Z");
    assert_eq!(j["profile"]["last"], "2025-05-04T00:00:00.000Z");
    assert_eq!(j["profile"]["birthday"], "1990-01-02");
    assert_eq!(j["verified"], json!({"email": true, "mobileNumber": false}));
    assert_eq!(j["hidden"], false);
    // After a manager clears a value with null it is absent again, not null.
    let j = book
        .update(&c.id, &json!({"profile": {"birthday": null}}))
        .unwrap()
        .to_json();
    assert!(j["profile"].get("birthday").is_none(), "{j}");
}

/// FILTER.md Contact JSON numbers: `"sessionCount": 3` is a JSON integer; a number value
/// is written natively (R-VAL-10's "shortest decimal": `2.50` → `2.5`, `3` not `3.0`).
#[test]
fn filter_md_contact_json_numbers_are_native() {
    let book = book_at("2025-05-04T00:00:00Z");
    book.define_key("profile.spent", FieldType::Number).unwrap();
    book.define_key("profile.scores", FieldType::ListOfNumber)
        .unwrap();
    let mut lead = NewLead::email("a@x.com");
    lead.profile.insert("spent".into(), json!("3"));
    lead.profile.insert("scores".into(), json!("[2.50, 1]"));
    let c = book.add_lead(lead).unwrap();
    let text = serde_json::to_string(&book.get(&c.id).unwrap()).unwrap();
    assert!(text.contains(r#""spent":3"#), "{text}");
    assert!(text.contains(r#""scores":[2.5,1]"#), "{text}");
    assert!(text.contains(r#""sessionCount":0"#), "{text}");
}

/// API.md: "In Rust the types `Filter`, `Query`, `Page`, `Contact`, ... implement serde
/// `Serialize` and `Deserialize` in exactly those shapes, so a JSON document from any
/// language means the same thing in all of them." A contact's JSON read back with serde
/// must be the same contact: its `profile.email` / `profile.mobileNumber` (built-in keys of
/// types `email` and `mobileNumber`, R-SCH-1) must still be its email and mobile number.
#[test]
fn api_contact_json_reads_back_as_the_same_contact() {
    let book = book_at("2025-05-04T00:00:00Z");
    let mut lead = NewLead::email("kim@example.com").with_name("Kim");
    lead.mobile_number = Some("+821020203030".into());
    let c = book.add_lead(lead).unwrap();
    let back: Contact = serde_json::from_value(c.to_json()).unwrap();
    assert_eq!(back.to_json(), c.to_json(), "the JSON round-trips");
    assert_eq!(back.email(), Some("kim@example.com"), "email read back");
    assert_eq!(
        back.mobile_number(),
        Some("+821020203030"),
        "mobile read back"
    );
    assert_eq!(back.display_name(), Some("Kim"));
    assert!(back.has_contact_info(), "R-MU-1: it still has contact info");
    assert_eq!(back, c, "the same contact");
}

// ----- FILTER.md: page, filter, query shapes -----

/// FILTER.md: "A result page is `{"contacts": [CONTACT...], "total": N, "nextCursor": "…" |
/// null, "unmatchedTerms": [...]}`". `nextCursor` is a string while more follow and `null`
/// on the last page; the page reads back from its JSON.
#[test]
fn filter_md_page_shape() {
    let book = book_at("2025-05-04T00:00:00Z");
    for i in 0..3 {
        book.add_lead(NewLead::email(format!("p{i}@x.com")))
            .unwrap();
    }
    let p1 = book
        .search(&q(json!({"limit": 2, "terms": "p0@x.com nobody@x.com"})))
        .unwrap();
    let j = serde_json::to_value(&p1).unwrap();
    let mut keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["contacts", "nextCursor", "total", "unmatchedTerms"]);
    assert_eq!(j["total"], 1);
    assert_eq!(j["nextCursor"], J::Null);
    assert_eq!(j["unmatchedTerms"], json!(["nobody@x.com"]));

    let p1 = book.search(&q(json!({"limit": 2}))).unwrap();
    let j = serde_json::to_value(&p1).unwrap();
    assert_eq!(j["total"], 3);
    assert!(j["nextCursor"].is_string(), "{j}");
    assert_eq!(j["unmatchedTerms"], json!([]));
    assert_eq!(j["contacts"].as_array().unwrap().len(), 2);
    let cursor = j["nextCursor"].as_str().unwrap().to_string();
    let p2 = book
        .search(&q(json!({"limit": 2, "cursor": cursor})))
        .unwrap();
    assert_eq!(p2.contacts.len(), 1);
    assert_eq!(serde_json::to_value(&p2).unwrap()["nextCursor"], J::Null);
    let back: Page = serde_json::from_value(j).unwrap();
    assert_eq!(back.total, 3);
    assert_eq!(back.next_cursor.as_deref(), Some(cursor.as_str()));
}

/// FILTER.md: the example filter and query read with serde, and the filter writes back
/// exactly its JSON ("One JSON form for filters, used unchanged by the Rust API (serde)").
#[test]
fn filter_md_examples_read_and_write_back() {
    let filter = json!({"and": [
        {"key": "member", "op": "eq", "value": true},
        {"or": [
            {"key": "lastSeenAt", "op": "withinLast", "value": "P7D"},
            {"key": "profile.lastCheckoutCompletedAt", "op": "after", "value": "2025-05-01"}
        ]},
        {"not": {"key": "tags", "op": "containsAny", "value": ["vip"]}},
        {"key": "sessionCount", "op": "between", "value": [3, 10]},
        {"key": "profile.lastCheckoutCompletedAt", "op": "exists"}
    ]});
    let parsed: Filter = serde_json::from_value(filter.clone()).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), filter);

    let query = json!({
        "filter": filter,
        "search": "kim",
        "terms": "a@x.com, b@y.com +821020203030",
        "sort": [{"key": "lastSeenAt", "order": "desc"}],
        "limit": 50,
        "cursor": null,
        "include": "visible"
    });
    let parsed: Query = serde_json::from_value(query.clone()).unwrap();
    assert_eq!(parsed.limit, Some(50));
    assert_eq!(parsed.sort[0].key, "lastSeenAt");
    let again: Query = serde_json::from_value(serde_json::to_value(&parsed).unwrap()).unwrap();
    assert_eq!(again, parsed);
    // "All fields optional."
    let empty: Query = serde_json::from_value(json!({})).unwrap();
    assert_eq!(empty, Query::default());

    // The example runs once its key is defined.
    let book = book_at("2025-05-10T00:00:00Z");
    book.define_key("profile.lastCheckoutCompletedAt", FieldType::Datetime)
        .unwrap();
    assert_eq!(book.search(&parsed).unwrap().total, 0);
}

/// FILTER.md: "Type checks happen when the filter is compiled against the channel schema
/// (R-FLT-4). The error names the JSON path of the bad condition (e.g. `and[1].or[0]`)."
/// API.md: "`Filter` | a filter that fails R-FLT-4 (with the JSON path)".
#[test]
fn filter_md_errors_name_the_json_path() {
    let book = book_at("2025-05-10T00:00:00Z");
    book.define_key("profile.city", FieldType::String).unwrap();
    let cases = [
        (
            json!({"and": [{"key": "profile.city", "op": "exists"},
                           {"or": [{"key": "profile.city", "op": "gt", "value": 1}]}]}),
            "and[1].or[0]",
        ),
        (
            json!({"and": [{"key": "profile.city", "op": "exists"},
                           {"or": [{"key": "nope", "op": "exists"}]}]}),
            "and[1].or[0]",
        ),
        (json!({"or": [{"not": {"or": []}}]}), "or[0].not"),
        (
            json!({"and": [{"key": "profile.city", "op": "eq", "value": "x"},
                           {"key": "profile.city", "op": "equals", "value": "x"}]}),
            "and[1]",
        ),
    ];
    for (filter, want) in cases {
        let err = Filter::from_value(&filter).and_then(|f| {
            book.search(&Query {
                filter: Some(f),
                ..Query::default()
            })
        });
        match err {
            Err(Error::Filter { path, .. }) => assert_eq!(path, want, "{filter}"),
            other => panic!("{filter}: expected a Filter error at {want}, got {other:?}"),
        }
    }
    // The same through serde inside a query: the error is the filter's.
    let e =
        serde_json::from_value::<Query>(json!({"filter": {"and": [{}, {"key": 1}]}})).unwrap_err();
    assert!(e.to_string().contains("and[1]"), "{e}");
}

/// FILTER.md limits: "depth ≤ 10, ≤ 1,000 conditions, an `in`/`containsAny`-style value list
/// ≤ 10,000 items. Over a limit is an error, not a truncation."
#[test]
fn filter_md_limits_are_errors() {
    let book = book_at("2025-05-10T00:00:00Z");
    book.add_lead(NewLead::email("a@x.com").with_name("A"))
        .unwrap();
    let cond = json!({"key": "profile.name", "op": "ne", "value": "zzz"});
    let run = |filter: J| {
        Filter::from_value(&filter)
            .and_then(|f| {
                book.search(&Query {
                    filter: Some(f),
                    ..Query::default()
                })
            })
            .map(|p| p.total)
    };
    assert_eq!(run(json!({"and": vec![cond.clone(); 1000]})).unwrap(), 1);
    assert_eq!(
        kind(run(json!({"and": vec![cond.clone(); 1001]}))),
        ErrorKind::Filter
    );
    let names: Vec<String> = (0..10_000).map(|i| format!("n{i}")).collect();
    assert_eq!(
        run(json!({"key": "profile.name", "op": "notIn", "value": names})).unwrap(),
        1
    );
    let names: Vec<String> = (0..10_001).map(|i| format!("n{i}")).collect();
    assert_eq!(
        kind(run(
            json!({"key": "profile.name", "op": "notIn", "value": names})
        )),
        ErrorKind::Filter
    );
    let mut deep = cond.clone();
    for _ in 0..40 {
        deep = json!({"not": deep});
    }
    assert_eq!(kind(run(deep)), ErrorKind::Filter);
}

// ----- API.md: small shapes -----

/// API.md: "New lead: `{"email"?, "mobileNumber"?, "name"?, "profile"?: {...}, "tags"?:
/// [...]}`", "Boot: `{"contactId"?, "memberId"?, "profile"?: {...}}`", "Merge choices:
/// `{"profile.name": "secondary", ...}` ... `merge` returns `{"contact": …, "mergeId": …}`",
/// "Segment `{"name": "recent buyers", "filter": FILTER}`".
#[test]
fn api_small_shapes_read_and_write() {
    let book = book_at("2025-05-04T00:00:00Z");
    book.define_key("profile.city", FieldType::String).unwrap();
    let lead: NewLead = serde_json::from_value(json!({
        "email": "a@x.com", "mobileNumber": "+821020203030", "name": "A",
        "profile": {"city": "Seoul"}, "tags": ["vip"]
    }))
    .unwrap();
    let a = book.add_lead(lead).unwrap();
    let boot: Boot =
        serde_json::from_value(json!({"memberId": "m-1", "profile": {"name": "B"}})).unwrap();
    let b = book.boot(boot).unwrap();
    let choices: MergeChoices =
        serde_json::from_value(json!({"profile.name": "secondary"})).unwrap();
    assert_eq!(choices["profile.name"], Side::Secondary);
    let r = book.merge(&a.id, &b.id, &choices).unwrap();
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["contact"]["id"], json!(a.id));
    assert_eq!(j["contact"]["profile"]["name"], "B");
    assert!(j["mergeId"].is_string(), "{j}");

    let seg: Segment = serde_json::from_value(json!({
        "name": "recent buyers", "filter": {"key": "profile.city", "op": "eq", "value": "seoul"}
    }))
    .unwrap();
    book.save_segment(&seg.name, &seg.filter).unwrap();
    let listed = serde_json::to_value(book.segments().unwrap()).unwrap();
    assert_eq!(
        listed,
        json!([{"name": "recent buyers", "filter": {"key": "profile.city", "op": "eq", "value": "seoul"}}])
    );
    assert_eq!(
        book.run_segment("recent buyers", &Query::default())
            .unwrap()
            .total,
        1
    );
}

/// API.md: bulk actions each return `{"done": N, "failed": [{"id", "reason"}]}`; "a target
/// is a list of ids or a filter".
/// API.md: "a JSON document from any language means the same thing in all of them". A
/// caller in Python or Kotlin writes `None`/`null` for a field it does not give: every
/// input shape reads `null` as the field left out, as `Query` does, not as an error.
#[test]
fn api_input_shapes_read_null_as_left_out() {
    let lead: NewLead =
        serde_json::from_value(json!({"email": "a@x.com", "profile": null, "tags": null})).unwrap();
    assert_eq!(lead, NewLead::email("a@x.com"));
    let boot: Boot =
        serde_json::from_value(json!({"contactId": null, "memberId": "m-1", "profile": null}))
            .unwrap();
    assert_eq!(
        boot,
        Boot {
            member_id: Some("m-1".into()),
            ..Boot::default()
        }
    );
    let options: ImportOptions = serde_json::from_value(json!({
        "kind": "members", "identifyBy": null, "mapping": null, "emptyCells": null,
        "importTag": null, "fileName": null, "encoding": null, "dryRun": null, "autoMap": null
    }))
    .unwrap();
    // `identifyBy` left out: a member import identifies by `memberId` when it runs.
    let members = ImportOptions {
        identify_by: None,
        ..ImportOptions::members()
    };
    assert_eq!(options, members);
    let export: ExportOptions = serde_json::from_value(json!({
        "filter": null, "ids": null, "editableOnly": null, "columns": null,
        "password": null, "reason": null, "bom": null
    }))
    .unwrap();
    assert_eq!(export, ExportOptions::default());
    let manager: Manager =
        serde_json::from_value(json!({"id": "m", "role": "member", "permissions": null})).unwrap();
    assert_eq!(manager, Manager::member("m", &[]));
    // A value of the wrong type is still an error.
    assert!(serde_json::from_value::<NewLead>(json!({"email": "a@x.com", "tags": "vip"})).is_err());
    assert!(
        serde_json::from_value::<ImportOptions>(json!({"kind": "members", "dryRun": "yes"}))
            .is_err()
    );
}

#[test]
fn api_bulk_result_shape() {
    let book = book_at("2025-05-04T00:00:00Z");
    let a = book.add_lead(NewLead::email("a@x.com")).unwrap();
    let r = book
        .add_tags(
            vec![a.id.clone(), "c_nope".to_string()],
            &["vip".to_string()],
        )
        .unwrap();
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["done"], 1);
    assert_eq!(j["failed"][0]["id"], "c_nope");
    assert!(j["failed"][0]["reason"].is_string(), "{j}");
    let r = book
        .block(f(
            json!({"key": "tags", "op": "containsAny", "value": ["vip"]}),
        ))
        .unwrap();
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        json!({"done": 1, "failed": []})
    );
    assert_eq!(book.blocked().unwrap().len(), 1);
}

/// API.md "Import options": the shape `{"kind", "identifyBy", "mapping": {"CSV column":
/// "data key" | null}, "emptyCells", "importTag", "fileName", "encoding", "dryRun"}` plus
/// `"autoMap": true`, read with serde; "Preview: `{"header": [...], "rows": [[...]...],
/// "totalRows": N}`"; "Field types are named as in R-SCH-2 (`"string"`, `"mobileNumber"`,
/// `"listOfNumber"`, …)".
#[test]
fn api_import_options_preview_and_field_type_names() {
    let o: ImportOptions = serde_json::from_value(json!({
        "kind": "leads", "identifyBy": "mobileNumber",
        "mapping": {"Phone": "profile.mobileNumber", "Memo": null},
        "emptyCells": "keep", "importTag": "name", "fileName": "spring.csv",
        "encoding": "utf-8", "dryRun": false, "autoMap": true
    }))
    .unwrap();
    assert_eq!(o.identify_by, Some(IdentifyBy::MobileNumber));
    assert_eq!(o.mapping["Memo"], None);

    let book = ContactBook::in_memory();
    let p = book.preview_csv(Cursor::new("a,b\n1,2\n\n3,4\n")).unwrap();
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        json!({"header": ["a", "b"], "rows": [["1", "2"], ["3", "4"]], "totalRows": 2})
    );
    for (ft, name) in [
        (FieldType::String, "string"),
        (FieldType::MobileNumber, "mobileNumber"),
        (FieldType::LandlineNumber, "landlineNumber"),
        (FieldType::ListOfNumber, "listOfNumber"),
        (FieldType::Datetime, "datetime"),
    ] {
        assert_eq!(serde_json::to_value(ft).unwrap(), json!(name));
        assert_eq!(name.parse::<FieldType>().unwrap(), ft);
    }
}

// ----- API.md: error kinds -----

/// API.md Errors: "`NotFound` | unknown or deleted id, unknown segment; an unknown key named
/// outside a filter or mapping"; "`AlreadyExists` | R-CON-1, R-MU-4 (carries the existing
/// contact's id, hidden, blocked)"; "`Conflict` | merge/unmerge/unification preconditions";
/// R-SCH-3: "with another type it is a `Conflict`".
#[test]
fn api_error_kinds_of_the_book() {
    let book = book_at("2025-05-04T00:00:00Z");
    book.define_key("profile.city", FieldType::String).unwrap();
    let a = book.add_lead(NewLead::email("a@x.com")).unwrap();
    assert_eq!(kind(book.get("c_nope")), ErrorKind::NotFound);
    assert_eq!(
        kind(book.update("c_nope", &json!({"profile": {"city": "x"}}))),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(book.verify("c_nope", "profile.email")),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(book.delete_by_member_id("m-nope")),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(book.run_segment("nope", &Query::default())),
        ErrorKind::NotFound
    );
    assert_eq!(kind(book.rename_segment("nope", "x")), ErrorKind::NotFound);
    assert_eq!(kind(book.delete_segment("nope")), ErrorKind::NotFound);
    assert_eq!(
        kind(book.audience("nope", rolodex::Medium::Email)),
        ErrorKind::NotFound
    );
    assert_eq!(kind(book.unmerge("merge-nope")), ErrorKind::NotFound);
    // Unknown keys outside a filter or mapping.
    assert_eq!(kind(book.archive_key("profile.nope")), ErrorKind::NotFound);
    assert_eq!(kind(book.restore_key("profile.nope")), ErrorKind::NotFound);
    assert_eq!(
        kind(book.set_inbox_visible("profile.nope", false)),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(book.reorder_keys(&["profile.nope".to_string()])),
        ErrorKind::NotFound
    );
    assert_eq!(
        kind(book.update(&a.id, &json!({"profile": {"nope": "x"}}))),
        ErrorKind::NotFound
    );
    // Deleted ids.
    book.delete(vec![a.id.clone()]).unwrap();
    assert_eq!(kind(book.get(&a.id)), ErrorKind::NotFound);
    // AlreadyExists carries the existing contact's id, hidden and blocked.
    let b = book.add_lead(NewLead::email("b@x.com")).unwrap();
    book.block(vec![b.id.clone()]).unwrap();
    match book.add_lead(NewLead::email("B@X.com")) {
        Err(Error::AlreadyExists {
            id,
            hidden,
            blocked,
            ..
        }) => {
            assert_eq!((id, hidden, blocked), (b.id.clone(), false, true));
        }
        other => panic!("expected AlreadyExists, got {other:?}"),
    }
    // Validation: a lead without email or mobile number, a value that breaks R-VAL.
    assert_eq!(
        kind(book.add_lead(NewLead::default().with_name("x"))),
        ErrorKind::Validation
    );
    assert_eq!(
        kind(book.add_lead(NewLead::mobile("01020203030"))),
        ErrorKind::Validation
    );
    // Conflict: redefinition with another type, merging with itself.
    assert_eq!(
        kind(book.define_key("profile.city", FieldType::Number)),
        ErrorKind::Conflict
    );
    book.define_key("profile.city", FieldType::String).unwrap();
    let c = book.add_lead(NewLead::email("c@x.com")).unwrap();
    assert_eq!(
        kind(book.merge(&c.id, &c.id, &MergeChoices::new())),
        ErrorKind::Conflict
    );
}

/// API.md Errors: "`NotFound` | ... an unknown key named outside a filter or mapping". The
/// sort of a query is not a filter: sorting by a key the schema does not have names an
/// unknown key outside a filter. (Export `columns`, the same kind of list of keys, already
/// answers `NotFound`.)
#[test]
fn api_sort_by_unknown_key_is_not_found() {
    let book = book_at("2025-05-04T00:00:00Z");
    book.add_lead(NewLead::email("a@x.com")).unwrap();
    let export = book.export_csv(
        Vec::new(),
        rolodex::ExportOptions {
            columns: Some(vec!["profile.nope".into()]),
            ..Default::default()
        },
    );
    assert_eq!(kind(export), ErrorKind::NotFound, "export columns");
    let r = book.search(&q(
        json!({"sort": [{"key": "profile.nope", "order": "asc"}]}),
    ));
    assert_eq!(kind(r), ErrorKind::NotFound, "sort key");
}

/// The book and what it hands out cross threads (bindings hold them from other threads):
/// checked at compile time, including a contact whose profile is still encoded.
#[test]
fn book_and_contacts_are_send_and_sync() {
    fn send_sync<T: Send + Sync + 'static>(_: &T) {}
    let book = rolodex::ContactBook::in_memory();
    let c = book.boot(rolodex::Boot::default()).unwrap();
    send_sync(&book);
    send_sync(&c);
    send_sync(&c.profile);
    let moved = std::thread::spawn(move || c.profile.len()).join().unwrap();
    assert_eq!(moved, 0);
}

/// API.md "Export options": `{"filter"?: FILTER, ...}`. The filter is the one `Filter` type
/// that queries and segments take, so a segment's filter exports as it is; read from JSON,
/// a malformed filter is a `Filter` error with its path (as in a query), any other bad field
/// a `Validation` error.
#[test]
fn api_export_options_take_the_filter_type_queries_and_segments_take() {
    let b = book_at("2025-05-10T00:00:00Z");
    b.define_key("profile.city", FieldType::String).unwrap();
    for (email, city) in [("a@x.com", "Seoul"), ("b@x.com", "Busan")] {
        b.add_lead(NewLead::email(email).with_profile("city", city))
            .unwrap();
    }
    let seoul =
        Filter::from_json(r#"{"key": "profile.city", "op": "eq", "value": "Seoul"}"#).unwrap();
    b.save_segment("seoul", &seoul).unwrap();
    let segment = b
        .segments()
        .unwrap()
        .into_iter()
        .find(|s| s.name == "seoul")
        .unwrap();
    let mut out = Vec::new();
    let options = ExportOptions {
        filter: Some(segment.filter),
        columns: Some(vec!["profile.email".into()]),
        ..ExportOptions::default()
    };
    b.export_csv(&mut out, options.clone()).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "profile.email\na@x.com\n");
    // The JSON form reads back to the same options.
    let text = serde_json::to_string(&options).unwrap();
    assert_eq!(ExportOptions::from_json(&text).unwrap(), options);

    let e = ExportOptions::from_json(r#"{"filter": {"and": [{}, {"key": 1}]}}"#).unwrap_err();
    match e {
        Error::Filter { path, .. } => assert_eq!(path, "and[1]"),
        other => panic!("expected a Filter error at and[1], got {other:?}"),
    }
    let e = ExportOptions::from_json(r#"{"editable": true}"#).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("unknown field `editable`"), "{e}");
    // A field of the wrong type is named as the error's key.
    let e = ExportOptions::from_json(r#"{"editableOnly": "yes"}"#).unwrap_err();
    assert_eq!(
        (e.kind(), e.key()),
        (ErrorKind::Validation, Some("editableOnly"))
    );
    let e = ExportOptions::from_json("{").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    // Anything but an object is an error, never options read some other way (serde also
    // reads a struct from an array of its fields in order, which would drop the filter).
    for text in [
        "[]",
        r#"[{"key": "profile.city", "op": "eq", "value": "x"}, ["c_1"]]"#,
        "null",
        "3",
    ] {
        let e = ExportOptions::from_json(text).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{text}");
        assert!(e.to_string().contains("are a JSON object"), "{text}: {e}");
    }
}

/// API.md "Import options": the builder methods give the same options as the JSON shape,
/// and a misspelt option read from JSON is a `Validation` error naming it.
#[test]
fn api_import_options_builder_matches_the_json_shape() {
    let built = ImportOptions::leads(IdentifyBy::Email)
        .map("E-mail", Some("profile.email"))
        .map("Notes", None)
        .auto_map(true)
        .dry_run(true)
        .empty_cells(rolodex::EmptyCells::Clear)
        .import_tag("spring")
        .file_name("spring.csv")
        .encoding("euc-kr");
    let read = ImportOptions::from_json(
        r#"{"kind": "leads", "identifyBy": "email",
            "mapping": {"E-mail": "profile.email", "Notes": null},
            "autoMap": true, "dryRun": true, "emptyCells": "clear",
            "importTag": "spring", "fileName": "spring.csv", "encoding": "euc-kr"}"#,
    )
    .unwrap();
    assert_eq!(built, read);
    assert_eq!(ImportOptions::from_value(&json!(read)).unwrap(), built);
    let e = ImportOptions::from_json(r#"{"kind": "leads", "automap": true}"#).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("unknown field `automap`"), "{e}");
    let e = ImportOptions::from_json(r#"{"kind": "leads", "dryRun": "yes"}"#).unwrap_err();
    assert_eq!((e.kind(), e.key()), (ErrorKind::Validation, Some("dryRun")));
    let e = ImportOptions::from_json(r#"{"kind": "leads", "mapping": {"E-mail": 1}}"#).unwrap_err();
    assert_eq!(
        (e.kind(), e.key()),
        (ErrorKind::Validation, Some("mapping.E-mail"))
    );
    let e = ImportOptions::from_json(r#"["leads", "email"]"#).unwrap_err();
    assert!(e.to_string().contains("are a JSON object"), "{e}");
}

/// API.md: bulk actions take "a target [that] is a list of ids or a filter"; ids come as a
/// caller has them (one id, an array, a slice or a vector of `String`s, borrowed or not),
/// and a filter may be lent. Tags and keys are `&str`s or `String`s.
#[test]
fn api_targets_and_tags_take_ids_and_names_as_callers_hold_them() {
    let b = book_at("2025-05-10T00:00:00Z");
    let ids: Vec<String> = ["a@x.com", "b@x.com", "c@x.com"]
        .iter()
        .map(|e| b.add_lead(NewLead::email(*e)).unwrap().id)
        .collect();
    assert_eq!(b.add_tags(ids[0].as_str(), &["one"]).unwrap().done, 1);
    assert_eq!(b.add_tags(&ids[1], &["two".to_string()]).unwrap().done, 1);
    assert_eq!(b.add_tags(&ids[..2], &["both"]).unwrap().done, 2);
    assert_eq!(b.add_tags(&ids, &["all"]).unwrap().done, 3);
    assert_eq!(b.add_tags([ids[2].as_str()], &["three"]).unwrap().done, 1);
    let strs: Vec<&str> = ids.iter().map(String::as_str).collect();
    assert_eq!(b.add_tags(&strs, &["all"]).unwrap().done, 3);
    assert_eq!(b.add_tags(strs, &["all"]).unwrap().done, 3);
    assert_eq!(b.add_tags([ids[0].clone()], &["all"]).unwrap().done, 1);
    assert_eq!(b.add_tags(&[ids[0].clone()], &["all"]).unwrap().done, 1);
    let tagged_all = f(json!({"key": "tags", "op": "containsAny", "value": ["all"]}));
    assert_eq!(b.add_tags(&tagged_all, &["again"]).unwrap().done, 3);
    assert_eq!(b.remove_tags(&tagged_all, &["again"]).unwrap().done, 3);
    assert_eq!(b.get(&ids[0]).unwrap().tags, ["one", "both", "all"]);
    assert_eq!(b.get(&ids[2]).unwrap().tags, ["all", "three"]);
    assert_eq!(b.block(ids[2].clone()).unwrap().done, 1);
    assert!(b.get(&ids[2]).unwrap().blocked);
    b.define_key("profile.city", FieldType::String).unwrap();
    b.reorder_keys(&["profile.city"]).unwrap();
    assert_eq!(b.schema().unwrap()[0].key, "profile.city");
    // A bad tag is one tag here, not a cell: the error says what one tag may be
    // (R-VAL-8), naming it, and changes nothing.
    let e = b.add_tags(&ids, &["vip customer"]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let text = e.to_string();
    assert!(text.contains("\"vip customer\""), "{text}");
    assert!(
        text.contains("expected a tag such as basic/level1"),
        "{text}"
    );
    assert!(!text.contains("array"), "{text}");
    assert_eq!(b.get(&ids[0]).unwrap().tags, ["one", "both", "all"]);
}

/// API.md "New lead" and "Boot" shapes built with their builder methods, and profile values
/// read back through `Value`'s accessors.
#[test]
fn api_new_lead_and_boot_builders_give_the_json_shapes() {
    let lead = NewLead::email("kim@example.com")
        .with_mobile("+82 10-2020-3030")
        .with_name("Kim")
        .with_profile("city", "Seoul")
        .with_profile("profile.spent", 12.5)
        .with_tags(["vip", "event/2025"]);
    let read: NewLead = serde_json::from_value(json!({
        "email": "kim@example.com", "mobileNumber": "+82 10-2020-3030", "name": "Kim",
        "profile": {"city": "Seoul", "profile.spent": 12.5}, "tags": ["vip", "event/2025"]
    }))
    .unwrap();
    assert_eq!(lead, read);

    let b = book_at("2025-05-10T00:00:00Z");
    b.define_key("profile.city", FieldType::String).unwrap();
    b.define_key("profile.spent", FieldType::Number).unwrap();
    b.define_key("profile.ok", FieldType::Boolean).unwrap();
    b.define_key("profile.l", FieldType::List).unwrap();
    let c = b
        .add_lead(
            lead.with_profile("ok", true)
                .with_profile("l", json!(["x", "y"])),
        )
        .unwrap();
    let get = |k: &str| c.profile.get(k).cloned().unwrap();
    assert_eq!(get("city").as_str(), Some("Seoul"));
    assert_eq!(get("email").as_str(), Some("kim@example.com"));
    assert_eq!(get("mobileNumber").as_str(), Some("+821020203030"));
    assert_eq!(get("spent").as_f64(), Some(12.5));
    assert_eq!(get("spent").as_str(), None);
    assert_eq!(get("ok").as_bool(), Some(true));
    assert_eq!(
        get("l").as_strings(),
        Some(&["x".to_string(), "y".to_string()][..])
    );
    assert_eq!(get("city").as_f64(), None);

    let anonymous = b.boot(Boot::anonymous()).unwrap();
    assert!(anonymous.member_id.is_none() && anonymous.email().is_none());
    assert_eq!(anonymous.session_count, 1);
    let login = Boot::login("m-1")
        .from_contact("c_1")
        .with_profile("city", "Busan");
    let read: Boot = serde_json::from_value(
        json!({"contactId": "c_1", "memberId": "m-1", "profile": {"city": "Busan"}}),
    )
    .unwrap();
    assert_eq!(login, read);
    assert_eq!(
        Boot::visit("c_1"),
        serde_json::from_value::<Boot>(json!({"contactId": "c_1"})).unwrap()
    );
    let visitor = b.boot(Boot::anonymous()).unwrap();
    let member = b
        .boot(Boot::login("m-9").from_contact(&visitor.id))
        .unwrap();
    assert_eq!(
        (member.id, member.member_id.as_deref()),
        (visitor.id, Some("m-9"))
    );
}
