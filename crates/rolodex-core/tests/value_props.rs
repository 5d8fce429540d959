//! Property tests for R-VAL: no panics, canonical round trips (R-VAL-10), limits at the
//! boundary (R-SCH-7), and the fast paths agreeing with the reference crates.

use chrono::{DateTime, NaiveDate};
use proptest::prelude::*;
use rolodex_core::value::{internals, normalize_phone, parse_value, FieldType, Value};
use rolodex_core::Error;
use unicode_normalization::UnicodeNormalization;

fn roundtrip(ft: FieldType, v: &Value) {
    let text = v.canonical();
    let back = parse_value(ft, &text).unwrap_or_else(|e| panic!("{ft} {text:?}: {e}"));
    assert_eq!(&back, v, "{ft} {text:?}");
    assert_eq!(back.canonical(), text);
}

/// Country codes with one or several regions (+1, +7, +44 are shared).
const CODES: &[&str] = &[
    "1", "7", "20", "27", "30", "31", "33", "34", "39", "44", "49", "52", "54", "55", "61", "62",
    "81", "82", "84", "86", "90", "91", "98", "212", "351", "353", "358", "380", "420", "800",
    "852", "882", "886", "971", "979", "999", "0", "",
];

fn near_phone() -> impl Strategy<Value = String> {
    (
        prop::sample::select(CODES),
        prop::collection::vec(
            (
                "[0-9]{1,5}",
                prop::sample::select(&["", " ", "-", "(", ")", "  "][..]),
            ),
            0..5,
        ),
        prop::bool::weighted(0.9),
        prop::sample::select(&["", " ", "-", "("][..]),
    )
        .prop_map(|(cc, groups, plus, after_cc)| {
            let mut s = String::new();
            if plus {
                s.push('+');
            }
            s.push_str(cc);
            s.push_str(after_cc);
            for (g, sep) in groups {
                s.push_str(&g);
                s.push_str(sep);
            }
            s
        })
}

/// A phone text's reading holds together: an accepted number is `+` and digits, and reads
/// back as itself (R-VAL-10); a number the fast path finds is the whole reading's. (Which numbers are valid is checked against libphonenumber's own verdicts in the
/// workspace's `tests/phone_rules.rs`.)
fn phone_reading_holds(text: &str) -> Result<(), TestCaseError> {
    let whole = normalize_phone(text).ok();
    if let Some(e164) = &whole {
        prop_assert!(
            e164.starts_with('+') && e164[1..].bytes().all(|b| b.is_ascii_digit()),
            "{:?} -> {:?}",
            text,
            e164
        );
        let again = normalize_phone(e164).ok();
        prop_assert_eq!(again.as_ref(), Some(e164), "{:?}", text);
    }
    // A number the fast path finds is the number; where it finds none, the reading of the
    // digits as they stand (or less the main country's prefix) may still find one.
    if let Some(Some(fast)) = internals::phone_fast(text.trim()) {
        prop_assert_eq!(Some(fast), whole, "fast path on {:?}", text);
    }
    Ok(())
}

proptest! {
    // 2000 cases by default; `PROPTEST_CASES` raises it for longer differential runs.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000),
        ..ProptestConfig::default()
    })]

    // R-VAL-9: parsing never panics, and errors are Validation errors without a key.
    #[test]
    fn r_val_9_never_panics(s in ".{0,80}", t in "[-+0-9 :.TZtz/\\[\\]\",a-e@]{0,30}") {
        for ft in FieldType::ALL {
            for text in [&s, &t] {
                match parse_value(ft, text) {
                    Ok(v) => { prop_assert!(v.fits(ft)); roundtrip(ft, &v); }
                    Err(Error::Validation { key, expected, text: Some(cut), .. }) => {
                        prop_assert!(key.is_none());
                        prop_assert!(!expected.is_empty());
                        prop_assert!(cut.chars().count() <= 65);
                    }
                    Err(e) => prop_assert!(false, "unexpected error kind {e:?}"),
                }
            }
        }
    }

    // R-VAL-2, R-VAL-10: a phone text's reading holds together.
    #[test]
    fn r_val_2_phone_reading_holds(s in near_phone()) {
        phone_reading_holds(&s)?;
    }

    #[test]
    fn r_val_2_phone_reading_holds_on_garbage(
        s in "[+0-9 ()\\-]{0,24}",
        u in "(tel:)?[+＋0-9 ()\\-.;=a-zA-Z#*/x]{0,24}(;phone-context=\\+?[0-9]{1,3})?",
    ) {
        for text in [&s, &u] {
            phone_reading_holds(text)?;
        }
    }

    // R-VAL-3: the byte-level email check agrees with `email_address` strict mode.
    #[test]
    fn r_val_3_fast_email_equals_crate(
        s in "[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~@\\- ,;:()\\\\]{0,24}",
        local in "[a-zA-Z0-9._%+\\-]{0,70}",
        labels in prop::collection::vec("[a-zA-Z0-9\\-_]{0,66}", 0..4),
    ) {
        let built = format!("{local}@{}", labels.join("."));
        for text in [s, built] {
            if let Some(fast) = internals::email_fast(&text) {
                prop_assert_eq!(fast, internals::email_crate(&text), "input {:?}", text);
            }
        }
    }

    // R-VAL-10: canonical text parses back to the same value, for every type.
    #[test]
    fn r_val_10_roundtrip_numbers(i in -(1i64 << 53)..=(1i64 << 53), frac in 0u32..1000, k in 0u32..4) {
        roundtrip(FieldType::Number, &Value::Number(i as f64));
        let x = (i % 1_000_000) as f64 + frac as f64 / 10f64.powi(k as i32);
        roundtrip(FieldType::Number, &Value::Number(x));
        roundtrip(FieldType::ListOfNumber, &Value::ListOfNumber(vec![i as f64, x]));
    }

    #[test]
    fn r_val_10_roundtrip_dates(ms in 0i64..=253_402_300_799_999, days in 0i32..3_652_058) {
        let t = DateTime::from_timestamp_millis(ms).unwrap();
        roundtrip(FieldType::Datetime, &Value::Datetime(t));
        let d = NaiveDate::from_ymd_opt(0, 1, 1).unwrap() + chrono::Days::new(days as u64);
        roundtrip(FieldType::Date, &Value::Date(d));
    }

    #[test]
    fn r_val_10_roundtrip_text(s in "\\PC{1,60}", items in prop::collection::vec("\\PC{0,20}", 0..8),
                               tags in prop::collection::vec("[a-z가-힣_0-9]{1,6}(/[a-zA-Z한-]{1,6})?", 0..8),
                               b in any::<bool>()) {
        if let Ok(v) = parse_value(FieldType::String, &s) {
            roundtrip(FieldType::String, &v);
        }
        let items: Vec<String> = items.iter().map(|s| s.nfc().collect()).collect();
        roundtrip(FieldType::List, &Value::List(items));
        // A tag value is a set (every parser drops repeats): each tag once.
        let mut set: Vec<String> = Vec::new();
        for t in tags {
            if !set.contains(&t) {
                set.push(t);
            }
        }
        roundtrip(FieldType::Tag, &Value::Tag(set));
        roundtrip(FieldType::Boolean, &Value::Boolean(b));
    }

    #[test]
    fn r_val_10_roundtrip_phones_and_emails(s in near_phone(), local in "[a-zA-Z0-9._+\\-]{1,20}", dom in "[a-zA-Z0-9]{1,10}\\.[a-zA-Z]{2,5}") {
        for ft in [FieldType::MobileNumber, FieldType::LandlineNumber] {
            if let Ok(v) = parse_value(ft, &s) {
                roundtrip(ft, &v);
            }
        }
        if let Ok(v) = parse_value(FieldType::Email, &format!("{local}@{dom}")) {
            roundtrip(FieldType::Email, &v);
        }
    }

    // R-VAL-3/R-VAL-10: a domain of capitals and combining marks, lower-cased, is stored in
    // NFC, so its canonical text parses back to it (`J` + U+030C has no precomposed
    // capital, but lower-cased it has one, `ǰ`).
    #[test]
    fn r_val_10_roundtrip_emails_with_combining_marks(
        local in "[a-zA-Z0-9é]{1,8}",
        label in "[a-zA-ZJWYHÀ-ÿ\u{300}-\u{36F}\u{331}]{1,8}",
    ) {
        if let Ok(v) = parse_value(FieldType::Email, &format!("{local}@{label}x.com")) {
            roundtrip(FieldType::Email, &v);
        }
    }

    // R-SCH-7: 512 characters (after NFC) and 200 items, exactly at the boundary.
    #[test]
    fn r_sch_7_string_limit(c in "[a-z가-힣é😀]") {
        let ok = c.repeat(512);
        prop_assert!(parse_value(FieldType::String, &ok).is_ok());
        prop_assert!(parse_value(FieldType::String, &c.repeat(513)).is_err());
        let list_ok = serde_json::to_string(&vec![ok.clone()]).unwrap();
        prop_assert!(parse_value(FieldType::List, &list_ok).is_ok());
        let list_bad = serde_json::to_string(&vec![c.repeat(513)]).unwrap();
        prop_assert!(parse_value(FieldType::List, &list_bad).is_err());
    }

    #[test]
    fn r_sch_7_list_limit(item in "[a-z]{1,5}", n in 0usize..=1) {
        let items = vec![item.clone(); 200 + n];
        let text = serde_json::to_string(&items).unwrap();
        prop_assert_eq!(parse_value(FieldType::List, &text).is_ok(), n == 0);
        // A tag list is a set (R-VAL-8): 201 repeats of one tag are one tag; 201 different
        // tags are too many (R-SCH-7).
        prop_assert_eq!(parse_value(FieldType::Tag, &text), Ok(Value::Tag(vec![item.clone()])));
        let distinct: Vec<String> = (0..200 + n).map(|i| format!("{item}{i}")).collect();
        let text = serde_json::to_string(&distinct).unwrap();
        prop_assert_eq!(parse_value(FieldType::Tag, &text).is_ok(), n == 0);
        prop_assert_eq!(Value::from_json(FieldType::Tag, &serde_json::json!(distinct)).is_ok(), n == 0);
        let nums = format!("[{}]", vec!["1"; 200 + n].join(","));
        prop_assert_eq!(parse_value(FieldType::ListOfNumber, &nums).is_ok(), n == 0);
        let json = serde_json::json!(items);
        prop_assert_eq!(Value::from_json(FieldType::List, &json).is_ok(), n == 0);
    }
}

#[test]
fn r_sch_7_string_limit_counts_after_nfc() {
    // 512 × (e + combining acute) = 1024 chars before NFC, 512 after.
    let decomposed = "e\u{301}".repeat(512);
    let v = parse_value(FieldType::String, &decomposed).unwrap();
    assert_eq!(v, Value::String("é".repeat(512)));
    assert!(parse_value(FieldType::String, &"e\u{301}".repeat(513)).is_err());
}

#[test]
fn r_val_1_trim_and_empty() {
    for ft in FieldType::ALL {
        assert!(parse_value(ft, "").is_err(), "{ft}");
        assert!(parse_value(ft, " \t\u{3000} ").is_err(), "{ft}");
    }
    assert_eq!(
        parse_value(FieldType::String, "  hi  ").unwrap(),
        Value::String("hi".into())
    );
    // Korean text saved on macOS arrives decomposed (NFD) and is stored NFC.
    let nfd: String = "한글".nfd().collect();
    assert_eq!(
        parse_value(FieldType::String, &nfd).unwrap(),
        Value::String("한글".into())
    );
    assert_eq!(
        parse_value(FieldType::Number, " 1 ").unwrap(),
        Value::Number(1.0)
    );
}

#[test]
fn r_val_9_error_names_text_and_expected() {
    let long = format!("{}x", "2025/05/04 ".repeat(10));
    let e = parse_value(FieldType::Date, &long)
        .unwrap_err()
        .with_key("profile.joined");
    let m = e.to_string();
    assert!(
        m.contains("profile.joined") && m.contains("YYYY-MM-DD"),
        "{m}"
    );
    match e {
        Error::Validation { text: Some(t), .. } => assert_eq!(t.chars().count(), 65),
        other => panic!("{other:?}"),
    }
}

#[test]
fn from_json_native_and_text() {
    use serde_json::json;
    assert_eq!(
        Value::from_json(FieldType::Number, &json!(2.5)).unwrap(),
        Value::Number(2.5)
    );
    assert_eq!(
        Value::from_json(FieldType::Number, &json!("2.50")).unwrap(),
        Value::Number(2.5)
    );
    assert!(Value::from_json(FieldType::Number, &json!(9007199254740993u64)).is_err());
    assert!(Value::from_json(FieldType::Number, &json!(true)).is_err());
    assert_eq!(
        Value::from_json(FieldType::Boolean, &json!(false)).unwrap(),
        Value::Boolean(false)
    );
    assert_eq!(
        Value::from_json(FieldType::Tag, &json!(["a/b"])).unwrap(),
        Value::Tag(vec!["a/b".into()])
    );
    assert!(Value::from_json(FieldType::Tag, &json!(["a/b/c"])).is_err());
    assert!(Value::from_json(FieldType::List, &json!([1])).is_err());
    assert_eq!(
        Value::from_json(FieldType::ListOfNumber, &json!([1, 2])).unwrap(),
        Value::ListOfNumber(vec![1.0, 2.0])
    );
    assert_eq!(
        Value::from_json(FieldType::MobileNumber, &json!("+82 10-2020-3030")).unwrap(),
        Value::Phone("+821020203030".into())
    );
    assert!(Value::from_json(FieldType::MobileNumber, &json!(821020203030u64)).is_err());
    assert_eq!(
        Value::from_json(FieldType::Datetime, &json!(1746316800000u64))
            .unwrap()
            .canonical(),
        "2025-05-04T00:00:00.000Z"
    );
    assert!(Value::from_json(FieldType::String, &json!(null)).is_err());
    match Value::from_json(FieldType::Boolean, &json!([1])).unwrap_err() {
        Error::Validation { expected, .. } => assert!(expected.contains("boolean"), "{expected}"),
        other => panic!("{other:?}"),
    }
}

/// A larger deterministic run over realistic numbers of many countries, in several
/// spellings: the fast path answers most of them, as the whole reading does; a good share
/// is valid, and each valid one reads back as itself.
#[test]
fn r_val_2_fast_phone_bulk() {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (mut handled, mut valid) = (0, 0);
    for i in 0..4_000 {
        let cc = CODES[(next() % CODES.len() as u64) as usize];
        let len = 6 + (next() % 7) as usize;
        let digits: String = (0..len)
            .map(|_| char::from(b'0' + (next() % 10) as u8))
            .collect();
        let text = match i % 6 {
            5 => format!("\u{FF0B}{cc}-{}-{}", &digits[..3], &digits[3..]),
            0 => format!("+{cc}{digits}"),
            1 => format!("+{cc} {digits}"),
            2 => format!("+{cc} 0{}-{}", &digits[..2], &digits[2..]),
            3 => format!("+{cc}-{}-{}", &digits[..3], &digits[3..]),
            _ => format!("+{cc} ({}) {}", &digits[..3], &digits[3..]),
        };
        if let Some(fast) = internals::phone_fast(&text) {
            handled += 1;
            if fast.is_some() {
                assert_eq!(fast, normalize_phone(&text).ok(), "input {text:?}");
            }
            valid += usize::from(fast.is_some());
            if let Some(e164) = &fast {
                // R-VAL-10: the E.164 form parses back to itself.
                assert_eq!(
                    normalize_phone(e164).as_deref(),
                    Ok(e164.as_str()),
                    "{text:?}"
                );
            }
        }
    }
    eprintln!("handled {handled}, valid {valid}");
    assert!(handled > 3_000, "{handled}");
    assert!(valid > 200, "only {valid} valid numbers");
}

/// R-VAL-3/R-VAL-10: the four letters an audit found (a capital with a combining mark that
/// composes only once lower-cased): each address is stored as its NFC lower-cased domain,
/// which parses back to itself, and the composed and decomposed spellings are one value.
#[test]
fn r_val_10_an_email_domain_lowercased_into_a_composable_pair_is_stored_composed() {
    for (typed, stored) in [
        ("a@J\u{30C}x.com", "a@\u{1F0}x.com"),
        ("a@W\u{30A}x.com", "a@\u{1E98}x.com"),
        ("a@Y\u{30A}x.com", "a@\u{1E99}x.com"),
        ("a@H\u{331}x.com", "a@\u{1E96}x.com"),
    ] {
        let v = parse_value(FieldType::Email, typed).unwrap();
        assert_eq!(v, Value::Email(stored.to_string()), "{typed:?}");
        roundtrip(FieldType::Email, &v);
        assert_eq!(parse_value(FieldType::Email, stored).unwrap(), v);
    }
}

/// R-VAL-7: `list` and `listOfNumber` read the space inside brackets alike: JSON's
/// whitespace makes an empty list, any other space (no-break, ideographic) is malformed in
/// both (`listOfNumber` took `[\u{a0}]` for an empty list that `list` rejected).
#[test]
fn r_val_7_both_list_types_read_the_space_inside_brackets_alike() {
    for space in [
        " ", "\t", " \n ", "\r\n", "\u{a0}", "\u{3000}", "\u{2003}", " \u{a0} ",
    ] {
        let text = format!("[{space}]");
        let list = parse_value(FieldType::List, &text);
        let numbers = parse_value(FieldType::ListOfNumber, &text);
        let json_space = space.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r'));
        assert_eq!(list.is_ok(), json_space, "list {text:?}: {list:?}");
        assert_eq!(
            numbers.is_ok(),
            json_space,
            "listOfNumber {text:?}: {numbers:?}"
        );
        if json_space {
            assert_eq!(list.unwrap(), Value::List(vec![]));
            assert_eq!(numbers.unwrap(), Value::ListOfNumber(vec![]));
        }
    }
}
