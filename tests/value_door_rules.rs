//! Value parsing (R-VAL) through a manager's `update`, the one door the vector format has
//! no op for: the same text gives the same value there as through `parse_value`, and a bad
//! one fails naming the key and the text (from the review of values through every door).

mod support;

use rolodex::{ErrorKind, FieldType, NewLead};
use serde_json::json;
use support::*;

fn lead(book: &rolodex::ContactBook) -> String {
    book.add_lead(NewLead {
        email: Some("a@x.com".into()),
        ..Default::default()
    })
    .unwrap()
    .id
}

/// r18 FAIL: R-VAL-2 — "must carry a country code … (national trunk `0` after the country
/// code is dropped — by the country's own rules from libphonenumber's metadata …). A number
/// … not a valid number for its country, is an error." Korea's rule drops one trunk 0;
/// `+82 (0) 010-2020-3030` carries two, and libphonenumber finds +82 01020203030 invalid.
/// A manager's edit stores it as +821020203030 instead.
#[test]
fn r18_r_val_2_update_with_a_doubled_trunk_prefix_is_validation() {
    let book = book_at("2025-05-04T00:00:00Z");
    let id = lead(&book);
    let before = snapshot(&book);
    for text in ["+82 (0) 010-2020-3030", "+82 00 10 2020 3030"] {
        let r = book.update(&id, &json!({"profile.mobileNumber": text}));
        match r {
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Validation, "{text}: {e}");
                assert_eq!(e.key(), Some("profile.mobileNumber"), "{text}: {e}");
            }
            Ok(c) => panic!(
                "{text}: accepted as {:?}; expected a Validation error",
                c.profile.get("mobileNumber").map(|v| v.canonical())
            ),
        }
        assert_eq!(
            snapshot(&book),
            before,
            "{text}: the failed edit changed something"
        );
    }
}

/// r18 FAIL: R-VAL-9 — "Every parse error names the key, the offending text (cut to 64
/// chars), and the expected format." A manager's edit giving `tags` the text `vip` (not
/// the `["vip"]` form of R-VAL-7/8) fails naming the key but not the text; a profile key
/// given a value of the wrong shape names it (`wrong_json`).
#[test]
fn r18_r_val_9_an_edit_with_malformed_tags_names_the_offending_text() {
    let book = book_at("2025-05-04T00:00:00Z");
    let id = lead(&book);
    let e = book.update(&id, &json!({"tags": "vip"})).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    assert_eq!(e.key(), Some("tags"), "{e}");
    assert!(
        e.to_string().contains("\"vip\""),
        "the error does not name the offending text \"vip\": {e}"
    );
}

/// r18: R-VAL-1..10 — the same text gives the same value through a manager's edit as
/// through `parse_value` (and an error through both when it is bad), for texts at the
/// edges of every type.
#[test]
fn r18_update_parses_text_like_parse_value_for_every_type() {
    let cases: &[(FieldType, &str)] = &[
        (FieldType::String, "\u{3000}e\u{301}\u{a0}"),
        (FieldType::String, "\u{85}x\u{85}"),
        (FieldType::Number, "  00012.50 "),
        (FieldType::Number, "-0.000"),
        (FieldType::Number, "9007199254740992.9"),
        (FieldType::Number, "9007199254740993.0"),
        (FieldType::Number, "+1"),
        (FieldType::Number, "1.5E3"),
        (FieldType::Boolean, " yEs "),
        (FieldType::Boolean, "ｙ"),
        (FieldType::Date, "2024-02-29"),
        (FieldType::Date, "2023-02-29"),
        (FieldType::Datetime, "2025-05-04t09:00:00.1239+09:00"),
        (FieldType::Datetime, "2025-05-04 00:00:00"),
        (FieldType::Datetime, "174631680000"),
        (FieldType::Datetime, "2025-05-04T00:00:60Z"),
        (FieldType::List, "[ \"a\" , \" b \" ]"),
        (FieldType::List, "[\"a\",]"),
        (FieldType::ListOfNumber, "[ 1.50 , -0 ]"),
        (FieldType::ListOfNumber, "[1,000]"),
        (FieldType::Tag, "[\"basic/level1\", \"vip\"]"),
        (FieldType::Tag, "[\"a/b/c\"]"),
        (FieldType::MobileNumber, "+82 0 10 2020 3030"),
        (FieldType::MobileNumber, "+82 10~2020~3030"),
        (FieldType::LandlineNumber, "+39 0 6 1234 5678"),
        (FieldType::Email, " Kim.Lee@Corp.EXAMPLE.com "),
        (FieldType::Email, "kim@x.com."),
    ];
    let book = book_at("2025-05-04T00:00:00Z");
    let id = lead(&book);
    for (i, (ft, text)) in cases.iter().enumerate() {
        let key = format!("profile.k{i}");
        book.define_key(&key, *ft).unwrap();
        let want = rolodex::parse_value(*ft, text).map(|v| v.canonical());
        let got = book
            .update(&id, &json!({ key.clone(): text }))
            .map(|c| c.profile[&format!("k{i}")].canonical());
        match (&want, &got) {
            (Ok(w), Ok(g)) => assert_eq!(w, g, "{ft} {text:?}"),
            (Err(_), Err(e)) => {
                assert_eq!(e.kind(), ErrorKind::Validation, "{ft} {text:?}: {e}");
                assert_eq!(e.key(), Some(key.as_str()), "{ft} {text:?}: {e}");
            }
            _ => panic!("{ft} {text:?}: parse_value gave {want:?}, update gave {got:?}"),
        }
    }
}

/// r18: R-VAL-6 — opt-outs written by a manager's edit as text take every spelling of the
/// rule, in any case and padded; anything else is an error naming the key and the text.
#[test]
fn r18_update_opt_outs_from_text_spellings() {
    let book = book_at("2025-05-04T00:00:00Z");
    let id = lead(&book);
    let c = book
        .update(
            &id,
            &json!({"unsubscribeEmail": " yEs ", "unsubscribeTexting": "0"}),
        )
        .unwrap();
    assert_eq!(c.unsubscribe_email, Some(true));
    assert_eq!(c.unsubscribe_texting, Some(false));
    let c = book
        .update(
            &id,
            &json!({"unsubscribeEmail": "N", "unsubscribeTexting": "Y"}),
        )
        .unwrap();
    assert_eq!(c.unsubscribe_email, Some(false));
    assert_eq!(c.unsubscribe_texting, Some(true));
    let e = book
        .update(&id, &json!({"unsubscribeEmail": "on"}))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(e.key(), Some("unsubscribeEmail"));
    assert!(e.to_string().contains("\"on\""), "{e}");
}
