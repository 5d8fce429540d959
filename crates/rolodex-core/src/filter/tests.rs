//! Rule-named tests of the filter module (R-FLT, FILTER.md). Contacts are built directly as
//! structs; the clock is fixed.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use proptest::prelude::*;
use serde_json::{json, Value as J};

use super::*;
use crate::error::ErrorKind;
use crate::value::{FieldType, Value};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn now() -> DateTime<Utc> {
    t("2025-06-01T00:00:00Z")
}

fn ctx() -> EvalCtx {
    EvalCtx::utc(now())
}

fn schema() -> Schema {
    let mut s = Schema::new();
    for (k, ft) in [
        ("profile.city", FieldType::String),
        ("profile.spent", FieldType::Number),
        ("profile.vip", FieldType::Boolean),
        ("profile.birthday", FieldType::Date),
        ("profile.lastCheckoutCompletedAt", FieldType::Datetime),
        ("profile.interests", FieldType::List),
        ("profile.scores", FieldType::ListOfNumber),
        ("profile.skills", FieldType::Tag),
        ("profile.altEmail", FieldType::Email),
        ("profile.old", FieldType::String),
    ] {
        s.define(k, ft).unwrap();
    }
    s.archive("profile.old").unwrap();
    s
}

fn c(id: &str) -> Contact {
    Contact::new(id.to_string(), t("2025-01-01T00:00:00Z"))
}

fn with(mut c: Contact, name: &str, v: Value) -> Contact {
    c.profile.insert(name.to_string(), v);
    c
}

fn s(x: &str) -> Value {
    Value::String(x.to_string())
}

fn plan(f: J) -> Plan {
    let filter = Filter::from_value(&f).unwrap_or_else(|e| panic!("{f}: {e}"));
    compile(&filter, &schema()).unwrap_or_else(|e| panic!("{f}: {e}"))
}

fn m(f: J, contact: &Contact) -> bool {
    plan(f).matches(contact, &ctx())
}

fn m_ctx(f: J, contact: &Contact, cx: &EvalCtx) -> bool {
    plan(f).matches(contact, cx)
}

/// The path and message of the error a filter gives, whether at parse or compile time.
fn err(f: J) -> (String, String) {
    let e = Filter::from_value(&f).and_then(|flt| compile(&flt, &schema()).map(|_| ()));
    match e {
        Err(Error::Filter { path, message }) => (path, message),
        other => panic!("{f}: expected a Filter error, got {other:?}"),
    }
}

fn cond(key: &str, op: &str, value: J) -> J {
    json!({"key": key, "op": op, "value": value})
}

// ---------------------------------------------------------------- shapes (FILTER.md)

#[test]
fn r_flt_3_json_shapes_round_trip() {
    let doc = json!({"and": [
        {"key": "member", "op": "eq", "value": true},
        {"or": [
            {"key": "lastSeenAt", "op": "withinLast", "value": "P7D"},
            {"key": "profile.lastCheckoutCompletedAt", "op": "after", "value": "2025-05-01"}
        ]},
        {"not": {"key": "tags", "op": "containsAny", "value": ["vip"]}},
        {"key": "sessionCount", "op": "between", "value": [3, 10]},
        {"key": "profile.city", "op": "exists"}
    ]});
    let f: Filter = serde_json::from_value(doc.clone()).unwrap();
    assert_eq!(serde_json::to_value(&f).unwrap(), doc);
    let again: Filter = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
    assert_eq!(again, f);
    compile(&f, &schema()).unwrap();

    // `{}` is the match-all filter; `{"and": []}` too.
    let all = Filter::from_json_str("{}").unwrap();
    assert!(all.is_match_all());
    assert!(compile(&all, &schema()).unwrap().matches(&c("a"), &ctx()));
    assert!(Filter::from_json_str(r#"{"and": []}"#)
        .unwrap()
        .is_match_all());
    // A `null` value is the same as no value.
    let e = Filter::from_value(&json!({"key": "tags", "op": "isEmpty", "value": null})).unwrap();
    assert_eq!(e, Filter::condition("tags", Op::IsEmpty, None));
}

#[test]
fn r_flt_4_malformed_shapes_name_the_path() {
    let cases = [
        (json!([1]), ""),
        (json!("x"), ""),
        (json!({"and": {}}), ""),
        (json!({"and": [], "or": []}), ""),
        (json!({"and": [{"x": 1}]}), "and[0]"),
        (json!({"and": [{"key": 1, "op": "eq"}]}), "and[0]"),
        (json!({"and": [{"key": "tags", "op": 1}]}), "and[0]"),
        (json!({"or": [{"key": "tags"}]}), "or[0]"),
        (json!({"or": [{"op": "eq"}]}), "or[0]"),
        (
            json!({"and": [{}, {"or": [{"key": "tags", "op": "bogus"}]}]}),
            "and[1].or[0]",
        ),
        (
            json!({"not": {"key": "a", "op": "eq", "value": 1, "extra": 2}}),
            "not",
        ),
        (json!({"not": {"key": "a", "op": "eq"}, "and": []}), ""),
        (json!({"and": [5]}), "and[0]"),
    ];
    for (f, path) in cases {
        let (p, msg) = err(f.clone());
        assert_eq!(p, path, "{f}: {msg}");
        assert!(!msg.is_empty());
    }
    let e = Filter::from_json_str("{not json").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Filter);
    let (_, msg) = err(json!({"key": "tags", "op": "bogus"}));
    assert!(msg.contains("containsAny"), "{msg}");
}

#[test]
fn r_flt_4_query_shape() {
    let q = Query::from_json(
        r#"{"filter": {"key": "member", "op": "eq", "value": true}, "search": "kim",
            "terms": "a@x.com, b@y.com +821020203030", "sort": [{"key": "lastSeenAt", "order": "desc"}],
            "limit": 50, "cursor": null, "include": "visible"}"#,
    )
    .unwrap();
    assert_eq!(q.search.as_deref(), Some("kim"));
    assert_eq!(q.sort, vec![SortKey::new("lastSeenAt", SortOrder::Desc)]);
    assert_eq!(q.limit, Some(50));
    let back: Query = serde_json::from_value(serde_json::to_value(&q).unwrap()).unwrap();
    assert_eq!(back, q);
    assert_eq!(Query::from_json("{}").unwrap(), Query::default());
    for (bad, path) in [
        (r#"{"limit": "5"}"#, "limit"),
        (r#"{"include": "all"}"#, "include"),
        (
            r#"{"sort": [{"key": "x", "order": "up"}]}"#,
            "sort[0].order",
        ),
        (r#"{"sort": [{"order": "asc"}]}"#, "sort[0]"),
        (r#"{"filter": {"and": [{"key": 3}]}}"#, "and[0]"),
        (r#"{"bogus": 1}"#, ""),
        (r#"[]"#, ""),
    ] {
        match Query::from_json(bad) {
            Err(Error::Filter { path: p, .. }) => assert_eq!(p, path, "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn page_json_shape() {
    let p = Page {
        contacts: vec![],
        total: 3,
        next_cursor: None,
        unmatched_terms: TermList::from(vec!["x".to_string()]),
    };
    assert_eq!(
        serde_json::to_value(&p).unwrap(),
        json!({"contacts": [], "total": 3, "nextCursor": null, "unmatchedTerms": ["x"]})
    );
}

// ---------------------------------------------------------------- type checks (R-FLT-4)

#[test]
fn r_flt_4_unknown_or_archived_key_names_path() {
    let f = json!({"and": [
        {"key": "profile.city", "op": "exists"},
        {"or": [{"key": "profile.nope", "op": "eq", "value": "x"}]}
    ]});
    let (p, msg) = err(f);
    assert_eq!(p, "and[1].or[0]");
    assert!(msg.contains("profile.nope"), "{msg}");
    let (p, msg) = err(json!({"not": {"key": "profile.old", "op": "exists"}}));
    assert_eq!(p, "not");
    assert!(msg.contains("archived"), "{msg}");
    // `hidden` and `verified` are not data keys.
    err(json!({"key": "hidden", "op": "eq", "value": true}));
    // An archived key's stored values are kept but the key cannot be filtered.
    let mut s = schema();
    s.restore("profile.old").unwrap();
    let f = Filter::from_value(&json!({"key": "profile.old", "op": "eq", "value": "a"})).unwrap();
    let p = compile(&f, &s).unwrap();
    assert!(p.matches(&with(c("a"), "old", self::s("A")), &ctx()));
}

/// R-FLT-7: results sort by any visible key; a sort that names an unknown, archived or
/// repeated key is a `Filter` error at that sort key's path, like a bad condition (R-FLT-4).
#[test]
fn r_flt_7_sort_by_an_unknown_key_is_not_found_and_by_an_archived_or_repeated_key_a_filter_error() {
    let q = Query::from_value(&json!({"sort": [{"key": "profile.nope", "order": "asc"}]})).unwrap();
    let e = compile_query(&q, &schema()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert!(e.to_string().contains("profile.nope"), "{e}");
    assert!(e.to_string().contains("sort[0]"), "{e}");
    let bad = |sort: J| {
        let q = Query::from_value(&json!({"sort": sort})).unwrap();
        let e = compile_query(&q, &schema()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Filter, "{e}");
        match e {
            crate::Error::Filter { path, message } => (path, message),
            other => panic!("{other}"),
        }
    };
    let (p, msg) =
        bad(json!([{"key": "createdAt", "order": "asc"}, {"key": "profile.old", "order": "desc"}]));
    assert_eq!(p, "sort[1]");
    assert!(msg.contains("archived"), "{msg}");
    let (p, msg) = bad(
        json!([{"key": "profile.city", "order": "asc"}, {"key": "profile.city", "order": "desc"}]),
    );
    assert_eq!(p, "sort[1]");
    assert!(msg.contains("twice"), "{msg}");
    // A visible key sorts.
    let q =
        Query::from_value(&json!({"sort": [{"key": "profile.city", "order": "desc"}]})).unwrap();
    assert!(compile_query(&q, &schema()).is_ok());
}

/// A valid sample value for `op` on a key of type `ft`.
fn sample(ft: FieldType, op: Op) -> Option<J> {
    use FieldType as T;
    if op.takes_no_value() {
        return None;
    }
    Some(match (ft, op) {
        (T::String, Op::In | Op::NotIn) => json!(["a", "b"]),
        (T::String, _) => json!("a"),
        (T::Email, Op::Eq | Op::Ne) => json!("a@x.com"),
        (T::Email, Op::In | Op::NotIn) => json!(["a@x.com"]),
        (T::Email, _) => json!("x.com"),
        (T::MobileNumber | T::LandlineNumber, Op::Eq | Op::Ne) => json!("+821020203030"),
        (T::MobileNumber | T::LandlineNumber, Op::In | Op::NotIn) => json!(["+821020203030"]),
        (T::MobileNumber | T::LandlineNumber, _) => json!("2020"),
        (T::Number, Op::Between) => json!([1, 2]),
        (T::Number, Op::In | Op::NotIn) => json!([1, 2]),
        (T::Number, _) => json!(1),
        (T::Boolean, _) => json!(true),
        (T::Date | T::Datetime, Op::Between) => json!(["2025-01-01", "2025-02-01"]),
        (T::Date | T::Datetime, Op::WithinLast | Op::MoreThanAgo) => json!("P7D"),
        (T::Date | T::Datetime, _) => json!("2025-05-04"),
        (T::ListOfNumber, _) => json!([1, 2]),
        (T::List | T::Tag, _) => json!(["a", "b/c"]),
    })
}

#[test]
fn r_flt_4_operator_table_every_type_and_op() {
    let sch = schema();
    let keys = [
        ("profile.city", FieldType::String),
        ("profile.altEmail", FieldType::Email),
        ("profile.mobileNumber", FieldType::MobileNumber),
        ("profile.landlineNumber", FieldType::LandlineNumber),
        ("profile.spent", FieldType::Number),
        ("profile.vip", FieldType::Boolean),
        ("profile.birthday", FieldType::Date),
        ("profile.lastCheckoutCompletedAt", FieldType::Datetime),
        ("profile.interests", FieldType::List),
        ("profile.scores", FieldType::ListOfNumber),
        ("profile.skills", FieldType::Tag),
        ("sessionCount", FieldType::Number),
        ("lastSeenAt", FieldType::Datetime),
        ("tags", FieldType::Tag),
        ("userImportTags", FieldType::List),
        ("member", FieldType::Boolean),
        ("memberId", FieldType::String),
    ];
    for (key, ft) in keys {
        assert_eq!(sch.get(key).unwrap().field_type, ft);
        for op in Op::ALL {
            let allowed =
                matches!(op, Op::Exists | Op::NotExists) || operators_for(ft).contains(&op);
            let f = Filter::condition(key, op, sample(ft, op));
            let r = compile(&f, &sch);
            if allowed {
                r.unwrap_or_else(|e| panic!("{key} {op}: {e}"));
            } else {
                match r {
                    Err(Error::Filter { path, message }) => {
                        assert_eq!(path, "");
                        assert!(message.contains(op.as_str()), "{message}");
                        assert!(message.contains(ft.as_str()), "{message}");
                    }
                    other => panic!("{key} {op} should fail: {other:?}"),
                }
            }
        }
    }
}

#[test]
fn r_flt_4_wrong_values_are_errors() {
    let bad = [
        cond("profile.city", "gt", json!(3)),
        cond("profile.city", "eq", json!(3)),
        cond("profile.city", "in", json!("a")),
        cond("profile.city", "in", json!([])),
        cond("profile.city", "in", json!(["a", 1])),
        cond("profile.city", "contains", json!("")),
        cond("profile.spent", "eq", json!("3")),
        cond("profile.spent", "between", json!([5, 1])),
        cond("profile.spent", "between", json!([1])),
        cond("profile.spent", "between", json!([1, "2"])),
        cond("profile.spent", "in", json!([1, null])),
        cond("profile.vip", "eq", json!("true")),
        cond("profile.birthday", "eq", json!("2025/05/04")),
        cond("profile.birthday", "eq", json!("2025-02-30")),
        cond("profile.birthday", "eq", json!(20250504)),
        cond("lastSeenAt", "before", json!(true)),
        cond("lastSeenAt", "withinLast", json!("7 days")),
        cond("lastSeenAt", "withinLast", json!(7)),
        cond("lastSeenAt", "between", json!(["2025-05-02", "2025-05-01"])),
        cond("tags", "containsAny", json!("vip")),
        cond("tags", "containsAny", json!(["a.b"])),
        cond("tags", "containsAny", json!(["a/b/c"])),
        cond("tags", "containsAny", json!(["/a"])),
        cond("tags", "containsAny", json!(["a b"])),
        cond("tags", "containsAll", json!([])),
        cond("profile.scores", "containsAny", json!(["1"])),
        cond("profile.mobileNumber", "eq", json!("010-2020-3030")),
        cond(
            "profile.mobileNumber",
            "in",
            json!(["+821020203030", "nope"]),
        ),
        cond("profile.mobileNumber", "contains", json!("abc")),
        cond("profile.email", "eq", json!("not-an-email")),
        json!({"key": "profile.city", "op": "exists", "value": "x"}),
        json!({"key": "profile.city", "op": "eq"}),
        json!({"key": "tags", "op": "isEmpty", "value": []}),
    ];
    for f in bad {
        let (p, msg) = err(f.clone());
        assert_eq!(p, "", "{f}");
        assert!(msg.starts_with('`'), "{f}: {msg}");
    }
    // The value-level errors name the item.
    let (_, msg) = err(cond(
        "profile.mobileNumber",
        "in",
        json!(["+821020203030", "nope"]),
    ));
    assert!(msg.contains("value[1]"), "{msg}");
    // A bad condition deep inside names its path.
    let (p, _) = err(
        json!({"or": [{"key": "tags", "op": "isEmpty"}, {"and": [{"not": cond("profile.spent", "gt", json!("x"))}]}]}),
    );
    assert_eq!(p, "or[1].and[0].not");
}

#[test]
fn r_flt_4_empty_or_is_an_error() {
    let (p, msg) = err(json!({"and": [{"or": []}]}));
    assert_eq!(p, "and[0]");
    assert!(msg.contains("or"), "{msg}");
    assert!(
        Filter::from_value(&json!({"or": []})).is_ok(),
        "the shape reads; compile rejects it"
    );
}

#[test]
fn r_flt_4_limits() {
    // depth: 10 levels are fine, 11 are not.
    let mut f = json!({"key": "member", "op": "eq", "value": true});
    for _ in 0..9 {
        f = json!({"not": f});
    }
    compile(&Filter::from_value(&f).unwrap(), &schema()).unwrap();
    let (p, msg) = err(json!({"and": [f]}));
    assert!(msg.contains("deeper"), "{msg}");
    assert_eq!(p, "and[0].not.not.not.not.not.not.not.not.not");
    // A Rust-built deep filter is caught by compile as well.
    let mut deep = Filter::condition("member", Op::Exists, None);
    for _ in 0..20 {
        deep = Filter::Not(Box::new(deep));
    }
    assert_eq!(
        compile(&deep, &schema()).unwrap_err().kind(),
        ErrorKind::Filter
    );

    // conditions: 1,000 fine, 1,001 not.
    let one = json!({"key": "member", "op": "exists"});
    let ok = json!({"and": vec![one.clone(); 1000]});
    compile(&Filter::from_value(&ok).unwrap(), &schema()).unwrap();
    let (p, msg) = err(json!({"and": vec![one; 1001]}));
    assert_eq!(p, "and[1000]");
    assert!(msg.contains("1000"), "{msg}");

    // value lists: 10,000 fine, 10,001 not.
    let list: Vec<J> = (0..10_000).map(|i| json!(format!("v{i}"))).collect();
    plan(cond("profile.city", "in", J::Array(list.clone())));
    let mut over = list;
    over.push(json!("x"));
    let (_, msg) = err(cond("profile.city", "in", J::Array(over)));
    assert!(msg.contains("10000"), "{msg}");
}

// ---------------------------------------------------------------- semantics

#[test]
fn r_flt_12_text_operators_fold_case() {
    let k = with(c("a"), "city", s("Straße"));
    assert!(m(cond("profile.city", "eq", json!("STRASSE")), &k));
    assert!(m(cond("profile.city", "eq", json!("strasse")), &k));
    assert!(!m(cond("profile.city", "ne", json!("STRASSE")), &k));
    assert!(m(cond("profile.city", "contains", json!("SS")), &k));
    assert!(m(cond("profile.city", "startsWith", json!("STR")), &k));
    assert!(!m(cond("profile.city", "notContains", json!("aSS")), &k));
    assert!(m(cond("profile.city", "in", json!(["x", "STRASSE"])), &k));
    assert!(!m(
        cond("profile.city", "notIn", json!(["x", "strasse"])),
        &k
    ));
    // Turkish, untailored: `I` folds to `i`, dotless `ı` does not.
    let ist = with(c("b"), "city", s("Istanbul"));
    assert!(m(cond("profile.city", "eq", json!("istanbul")), &ist));
    assert!(!m(cond("profile.city", "eq", json!("ıstanbul")), &ist));
    let dotless = with(c("c"), "city", s("ıspart"));
    assert!(m(
        cond("profile.city", "eq", json!("ISPART".replace('I', "ı"))),
        &dotless
    ));
    assert!(!m(cond("profile.city", "eq", json!("ISPART")), &dotless));
    // NFC: a decomposed value matches the composed stored text.
    let cafe = with(c("d"), "city", s("Café"));
    assert!(m(cond("profile.city", "eq", json!("CAFE\u{301}")), &cafe));
}

#[test]
fn r_flt_12_member_id_is_exact() {
    let mut k = c("a");
    k.member_id = Some("M-1001".into());
    k.member = true;
    assert!(m(cond("memberId", "eq", json!("M-1001")), &k));
    assert!(!m(cond("memberId", "eq", json!("m-1001")), &k));
    assert!(m(cond("memberId", "ne", json!("m-1001")), &k));
    assert!(m(cond("memberId", "startsWith", json!("M-")), &k));
    assert!(!m(cond("memberId", "contains", json!("m-")), &k));
    assert!(m(cond("memberId", "in", json!(["M-1001"])), &k));
    assert!(m(cond("member", "eq", json!(true)), &k));
    assert!(m(cond("id", "eq", json!("a")), &k));
    assert!(!m(cond("id", "eq", json!("A")), &k));
    // No memberId: a positive operator fails, `ne` matches.
    assert!(!m(cond("memberId", "eq", json!("M-1001")), &c("b")));
    assert!(m(cond("memberId", "ne", json!("M-1001")), &c("b")));
    assert!(m(cond("memberId", "notExists", json!(null)), &c("b")));
}

#[test]
fn r_val_2_phone_values_are_normalised_in_filters() {
    let k = with(c("a"), "mobileNumber", Value::Phone("+821020203030".into()));
    assert!(m(
        cond("profile.mobileNumber", "eq", json!("+82 010-2020-3030")),
        &k
    ));
    assert!(m(
        cond("profile.mobileNumber", "eq", json!("+821020203030")),
        &k
    ));
    assert!(m(
        cond("profile.mobileNumber", "in", json!(["+82 10 2020 3030"])),
        &k
    ));
    assert!(!m(
        cond("profile.mobileNumber", "ne", json!("+82 10-2020-3030")),
        &k
    ));
    // `contains` matches digits: of E.164 or of the national form with its trunk prefix.
    assert!(m(
        cond("profile.mobileNumber", "contains", json!("2020-30")),
        &k
    ));
    assert!(m(
        cond("profile.mobileNumber", "contains", json!("010-2020")),
        &k
    ));
    assert!(m(
        cond("profile.mobileNumber", "contains", json!("(8210)")),
        &k
    ));
    assert!(!m(
        cond("profile.mobileNumber", "contains", json!("999")),
        &k
    ));
    assert!(m(
        cond("profile.mobileNumber", "notContains", json!("999")),
        &k
    ));
    assert!(m(
        cond("profile.mobileNumber", "startsWith", json!("+8210")),
        &k
    ));
    assert!(m(
        cond("profile.mobileNumber", "startsWith", json!("010")),
        &k
    ));
    assert!(!m(
        cond("profile.mobileNumber", "startsWith", json!("2020")),
        &k
    ));
    let l = with(c("b"), "landlineNumber", Value::Phone("+8225556666".into()));
    assert!(m(
        cond("profile.landlineNumber", "eq", json!("+82 2-555-6666")),
        &l
    ));
    assert!(m(
        cond("profile.landlineNumber", "contains", json!("02-555")),
        &l
    ));
}

#[test]
fn r_val_3_emails_compare_case_insensitively() {
    let k = with(c("a"), "email", Value::Email("Kim@example.com".into()));
    assert!(m(cond("profile.email", "eq", json!("KIM@Example.COM")), &k));
    assert!(m(cond("profile.email", "contains", json!("EXAMPLE")), &k));
    assert!(m(cond("profile.email", "startsWith", json!("kim@")), &k));
    assert!(m(
        cond("profile.email", "in", json!(["x@y.com", "kim@EXAMPLE.com"])),
        &k
    ));
    assert!(m(cond("profile.email", "notIn", json!(["x@y.com"])), &k));
}

#[test]
fn r_flt_missing_values_fail_positive_and_match_negative_operators() {
    let empty = c("a");
    let cases: [(&str, &str, J, bool); 27] = [
        ("profile.city", "eq", json!("x"), false),
        ("profile.city", "ne", json!("x"), true),
        ("profile.city", "in", json!(["x"]), false),
        ("profile.city", "notIn", json!(["x"]), true),
        ("profile.city", "contains", json!("x"), false),
        ("profile.city", "notContains", json!("x"), true),
        ("profile.city", "startsWith", json!("x"), false),
        ("profile.city", "exists", J::Null, false),
        ("profile.city", "notExists", J::Null, true),
        ("profile.spent", "eq", json!(0), false),
        ("profile.spent", "ne", json!(0), true),
        ("profile.spent", "lt", json!(100), false),
        ("profile.spent", "between", json!([-1, 1]), false),
        ("profile.spent", "notIn", json!([1]), true),
        ("profile.vip", "eq", json!(false), false),
        ("profile.vip", "ne", json!(true), true),
        ("unsubscribeEmail", "ne", json!(true), true),
        ("unsubscribeEmail", "eq", json!(false), false),
        ("profile.birthday", "before", json!("2100-01-01"), false),
        (
            "profile.lastCheckoutCompletedAt",
            "moreThanAgo",
            json!("P1D"),
            false,
        ),
        (
            "profile.lastCheckoutCompletedAt",
            "withinLast",
            json!("P100Y"),
            false,
        ),
        ("profile.interests", "containsAny", json!(["x"]), false),
        ("profile.interests", "containsNone", json!(["x"]), true),
        ("profile.interests", "isEmpty", J::Null, true),
        ("tags", "isEmpty", J::Null, true),
        ("tags", "containsNone", json!(["vip"]), true),
        ("tags", "exists", J::Null, false),
    ];
    for (key, op, v, expect) in cases {
        let f = if v.is_null() {
            json!({"key": key, "op": op})
        } else {
            cond(key, op, v)
        };
        assert_eq!(m(f.clone(), &empty), expect, "{f}");
        // `not` is the exact complement.
        assert_eq!(m(json!({"not": f.clone()}), &empty), !expect, "not {f}");
    }
    // An empty list is empty.
    let e = with(c("b"), "interests", Value::List(vec![]));
    assert!(m(json!({"key": "profile.interests", "op": "isEmpty"}), &e));
    assert!(!m(json!({"key": "profile.interests", "op": "exists"}), &e));
}

#[test]
fn r_flt_4_number_operators() {
    let mut k = with(c("a"), "spent", Value::Number(10.5));
    k.session_count = 3;
    for (op, v, expect) in [
        ("eq", json!(10.5), true),
        ("ne", json!(10.5), false),
        ("gt", json!(10), true),
        ("gte", json!(10.5), true),
        ("lt", json!(10.5), false),
        ("lte", json!(10.5), true),
        ("between", json!([10.5, 11]), true),
        ("between", json!([1, 10.5]), true),
        ("between", json!([11, 12]), false),
        ("in", json!([1, 10.5]), true),
        ("notIn", json!([1, 10.5]), false),
    ] {
        assert_eq!(
            m(cond("profile.spent", op, v.clone()), &k),
            expect,
            "{op} {v}"
        );
    }
    assert!(m(cond("sessionCount", "between", json!([3, 10])), &k));
    assert!(!m(cond("sessionCount", "gt", json!(3)), &k));
}

#[test]
fn r_flt_4_boolean_operators() {
    let k = with(c("a"), "vip", Value::Boolean(true));
    assert!(m(cond("profile.vip", "eq", json!(true)), &k));
    assert!(m(cond("profile.vip", "ne", json!(false)), &k));
    let mut b = c("b");
    b.unsubscribe_email = Some(false);
    assert!(m(cond("unsubscribeEmail", "eq", json!(false)), &b));
    assert!(m(cond("blocked", "eq", json!(false)), &b));
}

#[test]
fn r_flt_9_tag_parent_matches_children() {
    let mut k = c("a");
    k.tags = vec!["basic/level1".into(), "Sale".into()];
    assert!(m(cond("tags", "containsAny", json!(["basic"])), &k));
    assert!(m(cond("tags", "containsAny", json!(["BASIC/Level1"])), &k));
    assert!(!m(cond("tags", "containsAny", json!(["basic/level2"])), &k));
    assert!(!m(cond("tags", "containsAny", json!(["bas"])), &k));
    assert!(m(cond("tags", "containsAll", json!(["basic", "sale"])), &k));
    assert!(!m(cond("tags", "containsAll", json!(["basic", "vip"])), &k));
    assert!(m(
        cond("tags", "containsNone", json!(["vip", "basic/level2"])),
        &k
    ));
    assert!(!m(cond("tags", "containsNone", json!(["basic"])), &k));
    assert!(m(json!({"key": "tags", "op": "exists"}), &k));
    // A child does not match its parent tag.
    let mut p = c("b");
    p.tags = vec!["basic".into()];
    assert!(!m(cond("tags", "containsAny", json!(["basic/level1"])), &p));
    // Import tags are file names, not hierarchical.
    let mut i = c("c");
    i.user_import_tags = vec!["spring/promo".into()];
    assert!(!m(
        cond("userImportTags", "containsAny", json!(["spring"])),
        &i
    ));
    assert!(m(
        cond("userImportTags", "containsAny", json!(["SPRING/promo"])),
        &i
    ));
    // Custom tag keys follow the hierarchy too.
    let s = with(c("d"), "skills", Value::Tag(vec!["lang/rust".into()]));
    assert!(m(
        cond("profile.skills", "containsAny", json!(["lang"])),
        &s
    ));
}

#[test]
fn r_flt_10_contains_all_and_lists() {
    let k = with(
        c("a"),
        "interests",
        Value::List(vec!["Golf".into(), "tennis".into()]),
    );
    assert!(m(
        cond(
            "profile.interests",
            "containsAll",
            json!(["golf", "TENNIS"])
        ),
        &k
    ));
    assert!(!m(
        cond("profile.interests", "containsAll", json!(["golf", "chess"])),
        &k
    ));
    assert!(m(
        cond("profile.interests", "containsAny", json!(["chess", "golf"])),
        &k
    ));
    let n = with(c("b"), "scores", Value::ListOfNumber(vec![1.0, 2.5]));
    assert!(m(
        cond("profile.scores", "containsAll", json!([1, 2.5])),
        &n
    ));
    assert!(m(cond("profile.scores", "containsNone", json!([3])), &n));
    assert!(!m(cond("profile.scores", "containsAny", json!([3])), &n));
}

#[test]
fn r_flt_12_date_value_against_datetime_key_is_the_whole_day_in_book_tz() {
    let seoul = EvalCtx::new(now(), chrono_tz::Asia::Seoul);
    let at = |x: &str| with(c(x), "lastCheckoutCompletedAt", Value::Datetime(t(x)));
    let before_day = at("2025-05-03T14:59:59.999Z"); // 05-03 23:59:59.999 KST
    let day_start = at("2025-05-03T15:00:00Z"); // 05-04 00:00 KST
    let day_end = at("2025-05-04T14:59:59.999Z"); // 05-04 23:59:59.999 KST
    let after_day = at("2025-05-04T15:00:00Z"); // 05-05 00:00 KST
    let all = [&before_day, &day_start, &day_end, &after_day];
    let key = "profile.lastCheckoutCompletedAt";
    let run = |op: &str, v: J| -> Vec<bool> {
        all.iter()
            .map(|k| m_ctx(cond(key, op, v.clone()), k, &seoul))
            .collect()
    };
    assert_eq!(run("eq", json!("2025-05-04")), [false, true, true, false]);
    assert_eq!(
        run("before", json!("2025-05-04")),
        [true, false, false, false]
    );
    assert_eq!(
        run("after", json!("2025-05-04")),
        [false, false, false, true]
    );
    assert_eq!(
        run("onOrBefore", json!("2025-05-04")),
        [true, true, true, false]
    );
    assert_eq!(
        run("onOrAfter", json!("2025-05-04")),
        [false, true, true, true]
    );
    assert_eq!(
        run("between", json!(["2025-05-04", "2025-05-04"])),
        [false, true, true, false]
    );
    assert_eq!(
        run("between", json!(["2025-05-03", "2025-05-04"])),
        [true, true, true, false]
    );
    // In UTC the same day is another range.
    assert!(m(cond(key, "eq", json!("2025-05-03")), &day_start));
    // A datetime value is an instant.
    assert_eq!(
        run("eq", json!("2025-05-04T00:00:00+09:00")),
        [false, true, false, false]
    );
    assert_eq!(
        run("after", json!("2025-05-04T00:00:00+09:00")),
        [false, false, true, true]
    );
    assert_eq!(
        run("onOrAfter", json!("2025-05-03T15:00:00Z")),
        [false, true, true, true]
    );
    assert_eq!(
        run("before", json!(1746284400000u64)),
        [true, false, false, false]
    );
    // Every R-VAL-5 form is accepted.
    for v in [
        "2025-05-04 00:00:00+09:00",
        "2025-05-03t15:00:00z",
        "2025-05-03T15:00:00",
        "1746284400000",
    ] {
        assert_eq!(run("eq", json!(v)), [false, true, false, false], "{v}");
    }
}

#[test]
fn r_flt_12_date_keys_compare_calendar_days() {
    let seoul = EvalCtx::new(now(), chrono_tz::Asia::Seoul);
    let d = |x: &str| {
        with(
            c(x),
            "birthday",
            Value::Date(NaiveDate::parse_from_str(x, "%Y-%m-%d").unwrap()),
        )
    };
    let k = d("2025-05-04");
    let key = "profile.birthday";
    assert!(m(cond(key, "eq", json!("2025-05-04")), &k));
    assert!(m(cond(key, "before", json!("2025-05-05")), &k));
    assert!(!m(cond(key, "before", json!("2025-05-04")), &k));
    assert!(m(cond(key, "onOrBefore", json!("2025-05-04")), &k));
    assert!(m(cond(key, "after", json!("2025-05-03")), &k));
    assert!(m(cond(key, "onOrAfter", json!("2025-05-04")), &k));
    assert!(m(
        cond(key, "between", json!(["2025-05-04", "2025-05-10"])),
        &k
    ));
    // An instant is taken as its calendar day in the book's zone.
    assert!(m_ctx(
        cond(key, "eq", json!("2025-05-03T15:00:00Z")),
        &k,
        &seoul
    ));
    assert!(!m(cond(key, "eq", json!("2025-05-03T15:00:00Z")), &k));
    // Relative: within the last 7 days of 2025-06-01.
    assert!(m(cond(key, "withinLast", json!("P7D")), &d("2025-05-25")));
    assert!(!m(cond(key, "withinLast", json!("P7D")), &d("2025-05-24")));
    assert!(!m(cond(key, "withinLast", json!("P7D")), &d("2025-06-02")));
    assert!(m(cond(key, "moreThanAgo", json!("P7D")), &d("2025-05-24")));
}

#[test]
fn r_flt_5_relative_dates_against_fixed_clock() {
    let at = |x: &str| {
        let mut k = c(x);
        k.last_seen_at = t(x);
        k
    };
    let key = "lastSeenAt";
    assert!(m(
        cond(key, "withinLast", json!("P7D")),
        &at("2025-05-25T00:00:00Z")
    ));
    assert!(!m(
        cond(key, "withinLast", json!("P7D")),
        &at("2025-05-24T23:59:59.999Z")
    ));
    assert!(m(
        cond(key, "withinLast", json!("PT12H")),
        &at("2025-05-31T12:00:00Z")
    ));
    assert!(!m(
        cond(key, "withinLast", json!("PT12H")),
        &at("2025-05-31T11:59:59Z")
    ));
    assert!(m(
        cond(key, "withinLast", json!("P7D")),
        &at("2025-06-01T00:00:00Z")
    ));
    // Never the future.
    assert!(!m(
        cond(key, "withinLast", json!("P7D")),
        &at("2025-06-01T00:00:00.001Z")
    ));
    assert!(!m(
        cond(key, "withinLast", json!("P100Y")),
        &at("2030-01-01T00:00:00Z")
    ));
    assert!(m(
        cond(key, "moreThanAgo", json!("P30D")),
        &at("2025-05-01T23:59:59Z")
    ));
    assert!(!m(
        cond(key, "moreThanAgo", json!("P30D")),
        &at("2025-05-02T00:00:00Z")
    ));
    assert!(m(
        cond(key, "moreThanAgo", json!("P1M")),
        &at("2025-04-30T00:00:00Z")
    ));
    // Another clock, another answer (R-FLT-5).
    let later = EvalCtx::utc(t("2025-07-01T00:00:00Z"));
    assert!(!m_ctx(
        cond(key, "withinLast", json!("P7D")),
        &at("2025-05-25T00:00:00Z"),
        &later
    ));
    // The vector "relative date against clock": a date stored in a datetime key.
    let cho = with(
        c("cho"),
        "lastCheckoutCompletedAt",
        Value::Datetime(t("2025-05-30T00:00:00Z")),
    );
    assert!(m(
        cond(
            "profile.lastCheckoutCompletedAt",
            "withinLast",
            json!("P7D")
        ),
        &cho
    ));
}

#[test]
fn r_flt_3_and_or_not_nesting() {
    let ann = with(
        with(c("ann"), "city", s("Seoul")),
        "spent",
        Value::Number(10.0),
    );
    let bob = with(
        with(
            with(c("bob"), "city", s("Busan")),
            "spent",
            Value::Number(300.0),
        ),
        "email",
        Value::Email("b@naver.com".into()),
    );
    let cho = with(c("cho"), "spent", Value::Number(50.0));
    let f = json!({"or": [
        {"key": "profile.city", "op": "eq", "value": "seoul"},
        {"and": [
            {"key": "profile.spent", "op": "gte", "value": 100},
            {"key": "profile.email", "op": "contains", "value": "NAVER"}
        ]}
    ]});
    let p = plan(f.clone());
    let hits: Vec<bool> = [&ann, &bob, &cho]
        .iter()
        .map(|k| p.matches(k, &ctx()))
        .collect();
    assert_eq!(hits, [true, true, false]);
    let n = plan(json!({"not": f}));
    let hits: Vec<bool> = [&ann, &bob, &cho]
        .iter()
        .map(|k| n.matches(k, &ctx()))
        .collect();
    assert_eq!(hits, [false, false, true]);
    assert!(!plan(json!({"not": {}})).matches(&ann, &ctx()));
    // The Rust builders give the same filters as the JSON.
    let built = Filter::or([
        Filter::condition("profile.city", Op::Eq, Some(json!("seoul"))),
        Filter::and([
            Filter::condition("profile.spent", Op::Gte, Some(json!(100))),
            Filter::condition("profile.email", Op::Contains, Some(json!("NAVER"))),
        ]),
    ]);
    assert_eq!(built.to_value(), f);
    assert_eq!((!built.clone()).to_value(), json!({"not": f}));
    assert_eq!(built.compile(&schema()).unwrap(), p);
}

// ---------------------------------------------------------------- quick search (R-FLT-1)

fn person(id: &str, name: &str, email: Option<&str>, mobile: Option<&str>) -> Contact {
    let mut k = with(c(id), "name", s(name));
    if let Some(e) = email {
        k.profile.insert("email".into(), Value::Email(e.into()));
    }
    if let Some(p) = mobile {
        k.profile
            .insert("mobileNumber".into(), Value::Phone(p.into()));
    }
    k
}

#[test]
fn r_flt_1_quick_search() {
    let dan = person(
        "dan",
        "Dan Kim",
        Some("dan@Gmail.com"),
        Some("+821099998888"),
    );
    let q = |x: &str| QuickSearch::new(x).map(|q| q.matches(&dan));
    assert_eq!(q("kim"), Some(true));
    assert_eq!(q("  DAN "), Some(true));
    assert_eq!(q("GMAIL"), Some(true));
    assert_eq!(q("9999"), Some(true));
    assert_eq!(q("010-9999"), Some(true));
    assert_eq!(q("+82 10-9999"), Some(true));
    assert_eq!(q("(010) 9999 8888"), Some(true));
    assert_eq!(q("8210999"), Some(true));
    assert_eq!(q("0109998"), Some(false));
    assert_eq!(q("zzz"), Some(false));
    // Fewer than 3 digits is not a phone search.
    assert_eq!(q("88"), Some(false));
    assert_eq!(q("   "), None);
    assert!(looks_like_phone("010-2020"));
    assert!(!looks_like_phone("01"));
    assert!(!looks_like_phone("010x2020"));
    let ss = person("s", "Strauß", None, None);
    assert!(QuickSearch::new("STRAUSS").unwrap().matches(&ss));
}

// ---------------------------------------------------------------- terms (R-FLT-2)

#[test]
fn r_flt_2_splitting_terms() {
    assert_eq!(
        split_terms("a@x.com, b@y.com +821020203030;c\n\"Kim Min-jun\"  m-1"),
        [
            "a@x.com",
            "b@y.com",
            "+821020203030",
            "c",
            "Kim Min-jun",
            "m-1"
        ]
    );
    // A valid phone number between separators stays whole; an invalid one splits.
    assert_eq!(
        split_terms("+82 10-2020-3030, Kim"),
        ["+82 10-2020-3030", "Kim"]
    );
    assert_eq!(split_terms("+82 10 abc"), ["+82", "10", "abc"]);
    // A phone number among other words is not a piece of its own: its words split (the
    // rule's only exceptions are quotes and a piece that is a phone number).
    assert_eq!(
        split_terms("kim +82 10-2020-3030 lee"),
        ["kim", "+82", "10-2020-3030", "lee"]
    );
    assert_eq!(
        split_terms("kim, +82 10-2020-3030; \"+82 10 1111 2222\""),
        ["kim", "+82 10-2020-3030", "+82 10 1111 2222"]
    );
    assert_eq!(split_terms("+821020203030 5"), ["+821020203030", "5"]);
    assert_eq!(split_terms("\"+82\" 10-2020-3030"), ["+82", "10-2020-3030"]);
    // Quotes group across separators; duplicates are kept once; blanks dropped.
    assert_eq!(split_terms("\"a, b\" a, a ,, ;\n"), ["a, b", "a"]);
    // An unterminated quote runs to the end.
    assert_eq!(split_terms("x \"Kim Lee"), ["x", "Kim Lee"]);
    assert!(split_terms("   ").is_empty());
}

#[test]
fn r_flt_2_terms_match_and_report_unmatched() {
    let mut kim = person(
        "kim",
        "Kim Min-jun",
        Some("kim@example.com"),
        Some("+821020203030"),
    );
    kim.member_id = Some("M-7".into());
    let lee = person("lee", "Lee", Some("lee@x.com"), None);
    let terms = Terms::parse(
        "KIM@EXAMPLE.COM, \"kim min-jun\", +82 10-2020-3030, M-7, m-7, nobody@x.com, lee",
    )
    .unwrap();
    assert_eq!(terms.len(), 7);
    assert!(terms.matches(&kim));
    assert!(terms.matches(&lee));
    assert!(!terms.matches(&person("z", "Z", None, None)));
    let mut tr = terms.tracker();
    tr.record(&kim);
    // memberId is exact: `m-7` matched nothing.
    assert_eq!(tr.unmatched(), ["m-7", "nobody@x.com", "lee"]);
    tr.record(&lee);
    assert_eq!(tr.unmatched(), ["m-7", "nobody@x.com"]);
    // Substrings are not matches.
    assert!(!Terms::parse("Kim").unwrap().matches(&kim));
}

#[test]
fn r_flt_2_term_equal_to_a_stored_mobile_number_matches_even_if_invalid_today() {
    // `+821059957013` fails R-VAL-2 validation (no such Korean mobile range), yet a contact
    // may hold it (stored before a metadata update, or written straight to the store): a
    // term that equals the stored number exactly still matches it.
    assert!(crate::value::normalize_phone("+821059957013").is_err());
    let c = person("p", "P", None, Some("+821059957013"));
    assert!(Terms::parse("+821059957013").unwrap().matches(&c));
    assert!(Terms::parse("x, +821059957013").unwrap().matches(&c));
    // Only the exact `+`-and-digits form: formatting is not normalised for such a number.
    assert!(!Terms::parse("+82 10-5995-7013").unwrap().matches(&c));
    assert!(!Terms::parse("+8210599570130").unwrap().matches(&c));
    assert!(!Terms::parse("821059957013").unwrap().matches(&c));
}

#[test]
fn r_flt_2_ten_thousand_terms() {
    let mut text = String::new();
    for i in 0..10_000 {
        text.push_str(&format!("user{i}@example.com, "));
    }
    text.push_str("+821020203030\nghost");
    let started = std::time::Instant::now();
    let terms = Terms::parse(&text).unwrap();
    assert_eq!(terms.len(), 10_002);
    let contacts: Vec<Contact> = (0..20_000)
        .map(|i| {
            person(
                &format!("c{i:05}"),
                &format!("U{i}"),
                Some(&format!("user{i}@example.com")),
                None,
            )
        })
        .collect();
    let q = Query {
        terms: Some(text),
        limit: Some(1000),
        ..Query::default()
    };
    let cq = compile_query(&q, &schema()).unwrap();
    let page = search_scan(&contacts, &cq, &ctx());
    assert_eq!(page.total, 10_000);
    assert_eq!(page.contacts.len(), 1000);
    assert_eq!(page.unmatched_terms, ["+821020203030", "ghost"]);
    assert!(
        started.elapsed().as_secs() < 20,
        "took {:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------- sort, pages, cursor (R-FLT-7)

fn spender(id: &str, name: &str, spent: Option<f64>) -> Contact {
    let mut k = with(c(id), "name", s(name));
    if let Some(x) = spent {
        k.profile.insert("spent".into(), Value::Number(x));
    }
    k
}

fn names(p: &Page) -> Vec<String> {
    p.contacts
        .iter()
        .map(|k| k.name().unwrap_or("").to_string())
        .collect()
}

fn run(q: Query, contacts: &[Contact]) -> Page {
    let cq = compile_query(&q, &schema()).unwrap();
    search_scan(contacts, &cq, &ctx())
}

#[test]
fn r_flt_7_sort_missing_last_both_directions() {
    let v = vec![
        spender("1", "Ann", Some(10.0)),
        spender("2", "Bob", Some(300.0)),
        spender("3", "Cho", Some(50.0)),
        spender("4", "Dan", None),
    ];
    let desc = run(
        Query {
            sort: vec![SortKey::new("profile.spent", SortOrder::Desc)],
            ..Query::default()
        },
        &v,
    );
    assert_eq!(names(&desc), ["Bob", "Cho", "Ann", "Dan"]);
    let asc = run(
        Query {
            sort: vec![SortKey::new("profile.spent", SortOrder::Asc)],
            ..Query::default()
        },
        &v,
    );
    assert_eq!(names(&asc), ["Ann", "Cho", "Bob", "Dan"]);
    // Text sorts fold case.
    let mut w = v.clone();
    w[0].profile.insert("name".into(), s("bea"));
    let by_name = run(
        Query {
            sort: vec![SortKey::new("profile.name", SortOrder::Asc)],
            ..Query::default()
        },
        &w,
    );
    assert_eq!(names(&by_name), ["bea", "Bob", "Cho", "Dan"]);
}

#[test]
fn r_flt_7_default_order_created_desc_then_id() {
    let mut v = Vec::new();
    for (id, at) in [
        ("a1", "2025-01-01T00:00:00Z"),
        ("a2", "2025-01-03T00:00:00Z"),
        ("a3", "2025-01-03T00:00:00Z"),
        ("a4", "2025-01-02T00:00:00Z"),
    ] {
        let mut k = spender(id, id, None);
        k.created_at = t(at);
        v.push(k);
    }
    let p = run(Query::default(), &v);
    assert_eq!(names(&p), ["a3", "a2", "a4", "a1"]);
    assert_eq!(p.total, 4);
    assert_eq!(p.next_cursor, None);
}

#[test]
fn r_flt_7_limits_and_bad_cursors() {
    let sch = schema();
    let q = |limit: Option<u64>| {
        compile_query(
            &Query {
                limit,
                ..Query::default()
            },
            &sch,
        )
    };
    assert_eq!(q(None).unwrap().limit, DEFAULT_LIMIT);
    assert_eq!(q(Some(1000)).unwrap().limit, 1000);
    assert_eq!(q(Some(1001)).unwrap_err().kind(), ErrorKind::Validation);
    assert_eq!(q(Some(0)).unwrap_err().kind(), ErrorKind::Validation);
    for garbage in ["zz", "abc", "7b7d", "00", "e29c93", &"f".repeat(10)] {
        let r = compile_query(
            &Query {
                cursor: Some(garbage.into()),
                ..Query::default()
            },
            &sch,
        );
        assert_eq!(r.unwrap_err().kind(), ErrorKind::Validation, "{garbage}");
    }
    // A cursor of another sort is refused.
    let v: Vec<Contact> = (0..5)
        .map(|i| spender(&format!("{i}"), "x", Some(i as f64)))
        .collect();
    let p = run(
        Query {
            limit: Some(2),
            ..Query::default()
        },
        &v,
    );
    let cur = p.next_cursor.unwrap();
    let other = Query {
        cursor: Some(cur),
        sort: vec![SortKey::new("profile.spent", SortOrder::Asc)],
        ..Query::default()
    };
    assert_eq!(
        compile_query(&other, &sch).unwrap_err().kind(),
        ErrorKind::Validation
    );
    // Sort keys are checked against the schema: an unknown key named outside a filter is
    // `NotFound` (API.md), an archived one a fault of the query (`Filter`).
    for (bad, kind) in [
        ("profile.nope", ErrorKind::NotFound),
        ("profile.old", ErrorKind::Filter),
    ] {
        let r = compile_query(
            &Query {
                sort: vec![SortKey::new(bad, SortOrder::Asc)],
                ..Query::default()
            },
            &sch,
        );
        let e = r.unwrap_err();
        assert_eq!(e.kind(), kind);
        assert!(e.to_string().contains(bad), "{e}");
    }
    let twice = vec![
        SortKey::new("profile.spent", SortOrder::Asc),
        SortKey::new("profile.spent", SortOrder::Desc),
    ];
    assert!(compile_query(
        &Query {
            sort: twice,
            ..Query::default()
        },
        &sch
    )
    .is_err());
}

#[test]
fn r_flt_7_cursor_stability_while_contacts_change() {
    // 40 contacts sorted by spent desc (some missing), paged by 7. Between pages, contacts
    // already seen and not yet seen change their spent, some are deleted and new ones are
    // added. Every contact whose sort value never changed is listed exactly once, in order.
    let mut v: Vec<Contact> = (0..40)
        .map(|i| {
            spender(
                &format!("c{i:02}"),
                &format!("c{i:02}"),
                if i % 5 == 0 {
                    None
                } else {
                    Some((i % 13) as f64)
                },
            )
        })
        .collect();
    let stable: std::collections::HashSet<String> = v
        .iter()
        .filter(|k| !["c03", "c07", "c21", "c33", "c38", "c10"].contains(&k.id.as_str()))
        .map(|k| k.id.clone())
        .collect();
    let sort = vec![SortKey::new("profile.spent", SortOrder::Desc)];
    let mut cursor: Option<String> = None;
    let mut seen: Vec<String> = Vec::new();
    let mut page_no = 0;
    loop {
        let p = run(
            Query {
                sort: sort.clone(),
                limit: Some(7),
                cursor: cursor.clone(),
                ..Query::default()
            },
            &v,
        );
        seen.extend(p.contacts.iter().map(|k| k.id.clone()));
        page_no += 1;
        match page_no {
            1 => {
                // Move contacts around: up, down, to missing.
                for k in v.iter_mut() {
                    match k.id.as_str() {
                        "c03" => {
                            k.profile.insert("spent".into(), Value::Number(100.0));
                        }
                        "c07" => {
                            k.profile.insert("spent".into(), Value::Number(-5.0));
                        }
                        "c21" => {
                            k.profile.remove("spent");
                        }
                        _ => {}
                    }
                }
                v.push(spender("n1", "n1", Some(50.0)));
                v.push(spender("n2", "n2", Some(0.5)));
            }
            2 => {
                v.retain(|k| k.id != "c33" && k.id != "c38");
                for k in v.iter_mut().filter(|k| k.id == "c10") {
                    k.profile.insert("spent".into(), Value::Number(6.0));
                }
            }
            _ => {}
        }
        match p.next_cursor {
            Some(cur) => cursor = Some(cur),
            None => break,
        }
        assert!(page_no < 50);
    }
    for id in &stable {
        assert_eq!(
            seen.iter().filter(|x| *x == id).count(),
            1,
            "{id} in {seen:?}"
        );
    }
    // What was listed of the stable contacts is in sort order.
    let order = |id: &str| {
        let k = v.iter().find(|k| k.id == id).unwrap();
        SortSpec::new(&sort, &schema()).unwrap().key_of(k)
    };
    let spec = SortSpec::new(&sort, &schema()).unwrap();
    let stable_seen: Vec<&String> = seen.iter().filter(|x| stable.contains(*x)).collect();
    for w in stable_seen.windows(2) {
        assert_eq!(
            spec.compare(&order(w[0]), &order(w[1])),
            std::cmp::Ordering::Less,
            "{w:?}"
        );
    }
    // The cursor round-trips.
    let key = spec.key_of(&v[1]);
    assert_eq!(spec.decode_cursor(&spec.encode_cursor(&key)).unwrap(), key);
}

#[test]
fn r_flt_6_include_listings() {
    let mut v = vec![
        spender("1", "vis", None),
        spender("2", "blk", None),
        spender("3", "hid", None),
        spender("4", "both", None),
    ];
    v[1].blocked = true;
    v[2].hidden = true;
    v[3].blocked = true;
    v[3].hidden = true;
    let list = |inc: Include| {
        let mut n = names(&run(
            Query {
                include: inc,
                ..Query::default()
            },
            &v,
        ));
        n.sort();
        n
    };
    assert_eq!(list(Include::Visible), ["vis"]);
    assert_eq!(list(Include::Blocked), ["blk", "both"]);
    assert_eq!(list(Include::Hidden), ["hid"]);
    // A filter on `blocked` cannot reach blocked contacts in the visible listing.
    let q = Query {
        filter: Some(Filter::condition("blocked", Op::Eq, Some(json!(true)))),
        ..Query::default()
    };
    assert_eq!(run(q, &v).total, 0);
}

#[test]
fn r_flt_3_scan_combines_filter_search_and_terms() {
    let v = vec![
        with(
            person("1", "Ann", Some("a@gmail.com"), None),
            "spent",
            Value::Number(10.0),
        ),
        with(
            person("2", "Bob", Some("b@naver.com"), None),
            "spent",
            Value::Number(300.0),
        ),
        with(
            person("3", "Cho", Some("c@gmail.com"), None),
            "spent",
            Value::Number(50.0),
        ),
        person("4", "Dan", None, Some("+821099998888")),
    ];
    let q = Query {
        search: Some("gmail".into()),
        filter: Some(Filter::condition("profile.spent", Op::Gt, Some(json!(20)))),
        terms: Some("c@gmail.com a@gmail.com zed".into()),
        ..Query::default()
    };
    let p = run(q, &v);
    assert_eq!(names(&p), ["Cho"]);
    assert_eq!(p.total, 1);
    // a@gmail.com is a contact but not in the final result.
    assert_eq!(p.unmatched_terms, ["a@gmail.com", "zed"]);
    let p = run(
        Query {
            search: Some("010-9999".into()),
            ..Query::default()
        },
        &v,
    );
    assert_eq!(names(&p), ["Dan"]);
}

// ---------------------------------------------------------------- never panics

fn arb_json() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(|n| json!(n)),
        prop_oneof![
            Just("profile.city".to_string()),
            Just("tags".to_string()),
            Just("lastSeenAt".to_string()),
            Just("profile.birthday".to_string()),
            Just("profile.mobileNumber".to_string()),
            Just("P7D".to_string()),
            Just("2025-05-04".to_string()),
            Just("eq".to_string()),
            Just("between".to_string()),
            Just("containsAny".to_string()),
            ".{0,12}",
        ]
        .prop_map(J::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        let key = prop_oneof![
            Just("and".to_string()),
            Just("or".to_string()),
            Just("not".to_string()),
            Just("key".to_string()),
            Just("op".to_string()),
            Just("value".to_string()),
            "[a-z]{1,4}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(J::Array),
            prop::collection::btree_map(key, inner, 0..4)
                .prop_map(|m: BTreeMap<String, J>| J::Object(m.into_iter().collect())),
        ]
    })
}

fn arb_condition() -> impl Strategy<Value = J> {
    let key = prop::sample::select(vec![
        "profile.city",
        "profile.spent",
        "profile.vip",
        "profile.birthday",
        "profile.lastCheckoutCompletedAt",
        "profile.interests",
        "profile.scores",
        "profile.skills",
        "profile.email",
        "profile.mobileNumber",
        "tags",
        "memberId",
        "lastSeenAt",
        "sessionCount",
    ]);
    let op = prop::sample::select(Op::ALL.to_vec());
    (key, op, arb_json()).prop_map(|(k, o, v)| json!({"key": k, "op": o.as_str(), "value": v}))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// R-FLT-7: `compare_first`, which turns rows away from a page without building their
    /// sort values, orders a row's value against a sort value exactly as comparing the two
    /// sort values does: texts folded (ASCII by lower-casing, others by full folding),
    /// exact or as phone numbers, numbers, missing values last, in both directions.
    #[test]
    fn r_flt_7_compare_first_orders_as_the_sort_values_do(
        a in "[a-zA-Z ßİıé0-9+]{0,6}",
        b in "[a-zA-Z ßİıé0-9+]{0,6}",
        na in proptest::option::of(-3.0f64..3.0),
        nb in proptest::option::of(-3.0f64..3.0),
        desc in any::<bool>(),
    ) {
        let order = if desc { SortOrder::Desc } else { SortOrder::Asc };
        for key in ["profile.city", "profile.name", "id", "memberId", "profile.mobileNumber", "profile.spent"] {
            let spec = SortSpec::new(&[SortKey::new(key, order)], &schema()).unwrap();
            let (va, vb) = if key == "profile.spent" {
                (na.map_or(FieldValue::Missing, FieldValue::Number), nb.map_or(FieldValue::Missing, FieldValue::Number))
            } else {
                (FieldValue::Text(&a), FieldValue::Text(&b))
            };
            let at = |v: FieldValue<'_>| RowKey { values: vec![spec.sort_val(0, v)], id: "c_1".into() };
            let want = spec.compare(&at(va), &at(vb));
            let sb = spec.sort_val(0, vb);
            prop_assert_eq!(spec.compare_first(va, sb.as_ref()), want, "{} {:?} {:?}", key, va, vb);
        }
    }

    #[test]
    fn r_flt_4_arbitrary_json_never_panics(v in arb_json()) {
        if let Ok(f) = Filter::from_value(&v) {
            if let Ok(p) = compile(&f, &schema()) {
                let _ = p.matches(&c("a"), &ctx());
            }
            let back = Filter::from_value(&f.to_value()).unwrap();
            prop_assert_eq!(back, f);
        }
        let _ = Query::from_value(&v);
    }

    #[test]
    fn r_flt_4_arbitrary_conditions_never_panic(f in arb_condition()) {
        let k = with(with(person("a", "Kim", Some("k@x.com"), Some("+821020203030")), "spent", Value::Number(3.0)), "skills", Value::Tag(vec!["a/b".into()]));
        if let Ok(filter) = Filter::from_value(&f) {
            if let Ok(p) = compile(&filter, &schema()) {
                let yes = p.matches(&k, &ctx());
                let not = compile(&Filter::Not(Box::new(filter)), &schema()).unwrap();
                prop_assert_eq!(not.matches(&k, &ctx()), !yes);
            }
        }
    }

    #[test]
    fn r_flt_4_arbitrary_text_never_panics(text in ".{0,200}", bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = Filter::from_json_str(&text);
        let _ = Query::from_json(&text);
        let lossy = String::from_utf8_lossy(&bytes);
        let _ = Filter::from_json_str(&lossy);
        let _ = Query::from_json(&lossy);
        let _ = serde_json::from_slice::<Filter>(&bytes);
        let _ = serde_json::from_slice::<Query>(&bytes);
        let _ = IsoDuration::parse(&text);
        let _ = split_terms(&text);
        let _ = QuickSearch::new(&text);
        let _ = SortSpec::default_order().decode_cursor(&text);
        let _ = crate::text::fold(&text);
    }
}

// ---------------------------------------------------------------- conformance vectors

/// Runs the `search` steps of `vectors/flt.json` straight against the filter module, with a
/// minimal stand-in for `define`, `clock` and `addLead` (contacts built as structs), so the
/// filter is checked against the vectors before the book is wired to it.
#[test]
fn r_flt_vectors_flt_json_through_search_scan() {
    // ROLODEX_VECTORS, else the nearest `shared/spec/vectors` above this crate (the project
    // root's sibling `shared/`, also from a worktree nested deeper).
    let dir = std::env::var_os("ROLODEX_VECTORS")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .ancestors()
                .map(|a| a.join("shared/spec/vectors"))
                .find(|d| d.is_dir())
        })
        .expect("the vectors folder (set ROLODEX_VECTORS)");
    let path = dir.join("flt.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cases: Vec<J> = serde_json::from_str(&text).unwrap();
    assert!(!cases.is_empty());
    let mut searches = 0;
    for case in &cases {
        let name = case["name"].as_str().unwrap_or("?");
        let mut sch = Schema::new();
        let mut clock = now();
        let mut contacts: Vec<Contact> = Vec::new();
        for step in case["steps"].as_array().unwrap() {
            if let Some(d) = step.get("define") {
                let ft: FieldType = serde_json::from_value(d[1].clone()).unwrap();
                sch.define(d[0].as_str().unwrap(), ft).unwrap();
            } else if let Some(t) = step.get("clock") {
                clock = crate::value::parse_datetime(t.as_str().unwrap()).unwrap();
            } else if let Some(lead) = step.get("addLead") {
                let mut k = Contact::new(format!("c{:04}", contacts.len()), clock);
                if let Some(e) = lead.get("email").and_then(J::as_str) {
                    let e = crate::value::normalize_email(e).unwrap();
                    k.profile.insert("email".into(), Value::Email(e));
                }
                if let Some(p) = lead.get("mobileNumber").and_then(J::as_str) {
                    let p = crate::value::normalize_phone(p).unwrap();
                    k.profile.insert("mobileNumber".into(), Value::Phone(p));
                }
                if let Some(n) = lead.get("name").and_then(J::as_str) {
                    k.profile.insert("name".into(), Value::String(n.into()));
                }
                for (key, v) in lead
                    .get("profile")
                    .and_then(J::as_object)
                    .into_iter()
                    .flatten()
                {
                    let ft = sch.profile_type(key).unwrap();
                    k.profile
                        .insert(key.clone(), Value::from_json(ft, v).unwrap());
                }
                if let Some(tags) = lead.get("tags").and_then(J::as_array) {
                    k.tags = tags
                        .iter()
                        .filter_map(|t| t.as_str().map(String::from))
                        .collect();
                }
                contacts.push(k);
            } else if let Some(q) = step.get("search") {
                searches += 1;
                let result = Query::from_value(q)
                    .and_then(|q| compile_query(&q, &sch))
                    .map(|cq| search_scan(&contacts, &cq, &EvalCtx::utc(clock)));
                if let Some(kind) = step.get("expectError").and_then(J::as_str) {
                    let e = result.expect_err(name);
                    assert_eq!(e.kind().as_str(), kind, "{name}");
                    continue;
                }
                let page = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                let expect = &step["expect"];
                if let Some(total) = expect.get("total") {
                    assert_eq!(json!(page.total), *total, "{name}");
                }
                if let Some(want) = expect.get("names") {
                    let mut got: Vec<J> = page
                        .contacts
                        .iter()
                        .map(|k| k.name().map_or(J::Null, |n| json!(n)))
                        .collect();
                    let mut want: Vec<J> = want.as_array().unwrap().clone();
                    if expect.get("ordered") != Some(&json!(true)) {
                        let key = |v: &J| v.to_string();
                        got.sort_by_key(key);
                        want.sort_by_key(key);
                    }
                    assert_eq!(got, want, "{name}");
                }
                if let Some(u) = expect.get("unmatchedTerms") {
                    assert_eq!(json!(page.unmatched_terms), *u, "{name}");
                }
            }
        }
    }
    assert!(searches >= cases.len(), "every case searches");
}

#[test]
fn page_with_contacts_round_trips() {
    let mut k = person("c1", "Kim", Some("kim@example.com"), Some("+821020203030"));
    k.tags = vec!["basic/level1".into()];
    let p = Page {
        contacts: vec![k],
        total: 1,
        next_cursor: Some("abc".into()),
        unmatched_terms: TermList::default(),
    };
    let j = serde_json::to_value(&p).unwrap();
    assert_eq!(
        j["contacts"][0]["profile"]["mobileNumber"],
        json!("+821020203030")
    );
    assert_eq!(j["nextCursor"], json!("abc"));
    // Without a schema, contact JSON reads profile values by their JSON type; the JSON form
    // round-trips exactly.
    let back: Page = serde_json::from_value(j.clone()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), j);
    assert_eq!(back.total, 1);
}

#[test]
fn r_flt_12_day_boundaries_across_dst_changes() {
    let key = "profile.lastCheckoutCompletedAt";
    let at = |x: &str| with(c(x), "lastCheckoutCompletedAt", Value::Datetime(t(x)));
    // New York springs forward on 2025-03-09: that day lasts 23 hours, 05:00Z to 04:00Z.
    let ny = EvalCtx::new(now(), chrono_tz::America::New_York);
    let day = |x: &str| m_ctx(cond(key, "eq", json!("2025-03-09")), &at(x), &ny);
    assert!(!day("2025-03-09T04:59:59.999Z"));
    assert!(day("2025-03-09T05:00:00Z"));
    assert!(day("2025-03-10T03:59:59.999Z"));
    assert!(!day("2025-03-10T04:00:00Z"));
    assert!(m_ctx(
        cond(key, "after", json!("2025-03-09")),
        &at("2025-03-10T04:00:00Z"),
        &ny
    ));
    // Santiago skips midnight on 2025-09-07 (00:00 -04 becomes 01:00 -03): the day starts
    // at its first valid local time.
    let scl = EvalCtx::new(now(), chrono_tz::America::Santiago);
    let day = |x: &str| m_ctx(cond(key, "eq", json!("2025-09-07")), &at(x), &scl);
    assert!(!day("2025-09-07T03:59:59.999Z"));
    assert!(day("2025-09-07T04:00:00Z"));
    assert!(m_ctx(
        cond(key, "before", json!("2025-09-07")),
        &at("2025-09-07T03:59:59Z"),
        &scl
    ));
}

/// R-VAL-4 holds for filter values too: a number beyond ±2^53 would be rounded to another
/// number and match that, so it is a `Filter` error naming the condition; 2^53 itself and
/// decimals are fine.
#[test]
fn r_flt_4_number_values_beyond_2_pow_53_are_errors() {
    let big: J = serde_json::from_str("9007199254740993").unwrap();
    for f in [
        cond("profile.spent", "eq", big.clone()),
        cond("profile.spent", "in", json!([1, big.clone()])),
        cond("profile.spent", "between", json!([0, big.clone()])),
        cond("profile.scores", "containsAny", json!([big.clone()])),
        cond("profile.spent", "gt", json!(1e300)),
    ] {
        let (_, message) = err(f.clone());
        assert!(message.contains("2^53"), "{f}: {message}");
    }
    let at_limit = with(c("c1"), "spent", Value::Number(9_007_199_254_740_992.0));
    assert!(m(
        cond("profile.spent", "eq", json!(9_007_199_254_740_992u64)),
        &at_limit
    ));
    assert!(m(cond("profile.spent", "gt", json!(-0.5)), &at_limit));
}
