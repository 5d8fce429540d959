//! Parsing of text and JSON into typed values (R-VAL-1..9).
//!
//! The per-type parsers live in sibling modules (`number`, `datetime`, `email`, `phone`,
//! `list`); this module trims, dispatches and converts JSON.

use chrono::{DateTime, NaiveDate, Utc};

use super::{datetime, email, list, number, phone, FieldType, Value};
use crate::error::{Error, Result};
use crate::schema::MAX_STRING_CHARS;

/// What a string value must look like (R-SCH-7).
pub(crate) const EXPECTED_STRING: &str = "text of at most 512 characters";
/// What a boolean must look like (R-VAL-6).
pub(crate) const EXPECTED_BOOLEAN: &str = "true/yes/y/1 or false/no/n/0 (any case)";

/// Parses a cell of text as a value of type `ft` (R-VAL). The text is trimmed first; an
/// empty cell is a `Validation` error here (callers decide what empty means).
///
/// To check a CSV cell as an import will read it, undo the export's formula guard first, as
/// the import does (R-IMP-20): `parse_value(ft, unneutralize_formula(cell))`. Without it,
/// an exported `'-3` is not a number, and `'=A1` is a string that keeps its `'`.
///
/// ```
/// use rolodex_core::import::unneutralize_formula;
/// use rolodex_core::{parse_value, FieldType, ErrorKind, Value};
/// assert!(parse_value(FieldType::Number, "'-3").is_err());
/// assert_eq!(parse_value(FieldType::Number, unneutralize_formula("'-3"))?, Value::Number(-3.0));
/// let v = parse_value(FieldType::MobileNumber, "+82 010-2020-3030").unwrap();
/// assert_eq!(v.canonical(), "+821020203030");
/// let v = parse_value(FieldType::Datetime, "2025-05-04 09:00:00+09:00").unwrap();
/// assert_eq!(v.canonical(), "2025-05-04T00:00:00.000Z");
/// let e = parse_value(FieldType::Date, "2025/05/04").unwrap_err();
/// assert_eq!(e.kind(), ErrorKind::Validation);
/// assert!(e.to_string().contains("YYYY-MM-DD"));
/// # Ok::<(), rolodex_core::Error>(())
/// ```
pub fn parse_value(ft: FieldType, text: &str) -> Result<Value> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Error::validation(
            Some(text),
            expected_for(ft),
            "the value is empty (to clear a key in a write, give null)",
        ));
    }
    match ft {
        FieldType::String => parse_string(t).map(Value::String),
        FieldType::Number => number::parse_number(t).map(Value::Number),
        FieldType::Boolean => parse_boolean(t).map(Value::Boolean),
        FieldType::Date => datetime::parse_date_trimmed(t).map(Value::Date),
        FieldType::Datetime => datetime::parse_datetime_trimmed(t).map(Value::Datetime),
        FieldType::List => list::parse_string_list(t).map(Value::List),
        FieldType::ListOfNumber => list::parse_number_list(t).map(Value::ListOfNumber),
        FieldType::Tag => list::parse_tag_list(t).map(Value::Tag),
        FieldType::MobileNumber | FieldType::LandlineNumber => {
            phone::normalize_phone_trimmed(t).map(Value::Phone)
        }
        FieldType::Email => email::normalize_email_trimmed(t).map(Value::Email),
    }
}

/// [`parse_value`] of a cell whose list the write appends, dropping the items already
/// present (an import's list cell, R-IMP-8): a `list` or `listOfNumber` cell's repeated
/// items are dropped here too, so the 200-item limit counts the different items, and the
/// write checks it again on the list it stores (R-SCH-7: a write that would break a limit
/// is rejected; 201 items of which 200 differ store 200). A `tag` list keeps its items once
/// on every path already.
pub(crate) fn parse_value_to_append(ft: FieldType, text: &str) -> Result<Value> {
    let t = text.trim();
    match ft {
        FieldType::List if !t.is_empty() => {
            list::parse_string_list_with(t, list::Repeats::Drop).map(Value::List)
        }
        FieldType::ListOfNumber if !t.is_empty() => {
            list::parse_number_list_with(t, list::Repeats::Drop).map(Value::ListOfNumber)
        }
        _ => parse_value(ft, text),
    }
}

/// [`parse_value`] of text the caller owns: a string value that needs no trimming and is
/// already NFC (nearly every one) is kept as it is instead of copied.
pub(crate) fn parse_value_owned(ft: FieldType, text: String) -> Result<Value> {
    if ft == FieldType::String && !text.is_empty() && text.trim().len() == text.len() {
        return checked_owned(text, EXPECTED_STRING).map(Value::String);
    }
    parse_value(ft, &text)
}

/// The format expected for a field type, as named in error messages (R-VAL-9).
pub(crate) fn expected_for(ft: FieldType) -> &'static str {
    match ft {
        FieldType::String => EXPECTED_STRING,
        FieldType::Number => number::EXPECTED_NUMBER,
        FieldType::Boolean => EXPECTED_BOOLEAN,
        FieldType::Date => datetime::EXPECTED_DATE,
        FieldType::Datetime => datetime::EXPECTED_DATETIME,
        FieldType::List => list::EXPECTED_LIST,
        FieldType::ListOfNumber => list::EXPECTED_NUMBER_LIST,
        FieldType::Tag => list::EXPECTED_TAGS,
        FieldType::MobileNumber | FieldType::LandlineNumber => phone::EXPECTED_PHONE,
        FieldType::Email => email::EXPECTED_EMAIL,
    }
}

/// NFC-normalises a string and checks the 512-character limit (R-SCH-7).
pub(crate) fn checked_string(s: &str, expected: &str) -> Result<String> {
    let n = crate::text::nfc(s);
    check_chars(&n, s, expected)?;
    Ok(n)
}

/// [`checked_string`] of a string the caller owns: kept as it is when it is already NFC
/// (nearly always), instead of copied.
pub(crate) fn checked_owned(s: String, expected: &str) -> Result<String> {
    let normalised = match crate::text::nfc_cow(&s) {
        std::borrow::Cow::Borrowed(_) => None,
        std::borrow::Cow::Owned(n) => Some(n),
    };
    check_chars(normalised.as_deref().unwrap_or(&s), &s, expected)?;
    Ok(normalised.unwrap_or(s))
}

/// The 512-character limit (R-SCH-7) on `n`, the NFC form of the caller's `text`.
fn check_chars(n: &str, text: &str, expected: &str) -> Result<()> {
    // Bytes ≥ characters, so only long texts need counting.
    if n.len() > MAX_STRING_CHARS {
        let chars = n.chars().count();
        if chars > MAX_STRING_CHARS {
            return Err(Error::validation(
                Some(text),
                expected,
                format!(
                    "the text has {chars} characters, more than the limit of {MAX_STRING_CHARS}"
                ),
            ));
        }
    }
    Ok(())
}

fn parse_string(t: &str) -> Result<String> {
    checked_string(t, EXPECTED_STRING)
}

fn parse_boolean(t: &str) -> Result<bool> {
    const TRUE: [&str; 4] = ["true", "yes", "y", "1"];
    const FALSE: [&str; 4] = ["false", "no", "n", "0"];
    if TRUE.iter().any(|w| w.eq_ignore_ascii_case(t)) {
        Ok(true)
    } else if FALSE.iter().any(|w| w.eq_ignore_ascii_case(t)) {
        Ok(false)
    } else {
        Err(Error::validation(
            Some(t),
            EXPECTED_BOOLEAN,
            "not a boolean",
        ))
    }
}

fn wrong_json(ft: FieldType, json: &serde_json::Value, native: &str) -> Error {
    let got = crate::error::json_kind(json);
    let text = json.to_string();
    Error::validation(
        Some(&text),
        format!("{native} or text: {}", expected_for(ft)),
        format!("got {got}, which is not a value of type {ft}"),
    )
}

/// See [`Value::from_json`].
pub(crate) fn from_json(ft: FieldType, json: &serde_json::Value) -> Result<Value> {
    use serde_json::Value as J;
    if let J::String(s) = json {
        return parse_value(ft, s);
    }
    match (ft, json) {
        (FieldType::Number, J::Number(n)) => number::check_json_number(n).map(Value::Number),
        (FieldType::Number, _) => Err(wrong_json(ft, json, "a JSON number")),
        (FieldType::Boolean, J::Bool(b)) => Ok(Value::Boolean(*b)),
        (FieldType::Boolean, _) => Err(wrong_json(ft, json, "a JSON boolean")),
        (FieldType::Datetime, J::Number(n)) => match n.as_u64() {
            Some(ms) => datetime::parse_datetime_trimmed(&ms.to_string()).map(Value::Datetime),
            None => Err(wrong_json(ft, json, "a JSON string or epoch milliseconds")),
        },
        (FieldType::List, J::Array(items)) => list::json_string_list(items).map(Value::List),
        (FieldType::Tag, J::Array(items)) => list::json_tag_list(items).map(Value::Tag),
        (FieldType::ListOfNumber, J::Array(items)) => {
            list::json_number_list(items).map(Value::ListOfNumber)
        }
        (FieldType::List | FieldType::Tag | FieldType::ListOfNumber, _) => {
            Err(wrong_json(ft, json, "a JSON array"))
        }
        _ => Err(wrong_json(ft, json, "a JSON string")),
    }
}

/// [`from_json`] of a value the caller owns (its string kept where [`parse_value_owned`]
/// can).
pub(crate) fn from_json_owned(ft: FieldType, json: serde_json::Value) -> Result<Value> {
    match json {
        serde_json::Value::String(s) => parse_value_owned(ft, s),
        other => from_json(ft, &other),
    }
}

/// Parses a datetime in any form of R-VAL-5 (trimmed first).
pub fn parse_datetime(text: &str) -> Result<DateTime<Utc>> {
    datetime::parse_datetime_trimmed(text.trim())
}

/// Parses a date `YYYY-MM-DD` (R-VAL-5; trimmed first).
pub fn parse_date(text: &str) -> Result<NaiveDate> {
    datetime::parse_date_trimmed(text.trim())
}

/// Normalises a phone number with a country code to E.164 (R-VAL-2; trimmed first).
pub fn normalize_phone(text: &str) -> Result<String> {
    phone::normalize_phone_trimmed(text.trim())
}

/// Validates an email address and lower-cases its domain (R-VAL-3; trimmed first).
pub fn normalize_email(text: &str) -> Result<String> {
    email::normalize_email_trimmed(text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_val_6_booleans() {
        for t in ["true", "TRUE", "Yes", "y", "Y", "1"] {
            assert_eq!(
                parse_value(FieldType::Boolean, t).unwrap(),
                Value::Boolean(true),
                "{t}"
            );
        }
        for t in ["false", "False", "NO", "n", "N", "0"] {
            assert_eq!(
                parse_value(FieldType::Boolean, t).unwrap(),
                Value::Boolean(false),
                "{t}"
            );
        }
        for t in ["maybe", "2", "on", "off", "t", "f", "yess", "-1", "1.0"] {
            assert!(parse_value(FieldType::Boolean, t).is_err(), "{t}");
        }
    }

    #[test]
    fn r_val_1_empty_is_an_error_for_every_type() {
        for ft in FieldType::ALL {
            let e = parse_value(ft, "   ").unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Validation);
            assert!(e.key().is_none());
        }
    }

    #[test]
    fn r_val_10_canonical_forms() {
        let cases = [
            (FieldType::Number, "2.50", "2.5"),
            (FieldType::Number, "-0", "0"),
            (
                FieldType::Datetime,
                "2025-05-04 09:00:00+09:00",
                "2025-05-04T00:00:00.000Z",
            ),
            (FieldType::Date, "2025-05-04", "2025-05-04"),
            (FieldType::Boolean, "Y", "true"),
            (FieldType::List, "[ \"a\" , \"b\" ]", "[\"a\",\"b\"]"),
            (FieldType::ListOfNumber, "[1, 2.50]", "[1,2.5]"),
            (
                FieldType::MobileNumber,
                "+82 010-2020-3030",
                "+821020203030",
            ),
            (FieldType::Email, "Kim@EXAMPLE.com", "Kim@example.com"),
        ];
        for (ft, input, want) in cases {
            let v = parse_value(ft, input).unwrap();
            assert_eq!(v.canonical(), want, "{ft} {input}");
            assert_eq!(parse_value(ft, want).unwrap(), v);
        }
    }

    proptest::proptest! {
        /// A value the caller hands over (`add_lead`'s profile) parses exactly as the same
        /// value lent: the same value or the same error, for text with spaces, decomposed
        /// accents and more than 512 characters.
        #[test]
        fn owned_values_parse_as_lent_ones(
            text in "[ a-e\u{0301}\u{00E9}]{0,6}|a{510,514}",
            number in proptest::num::f64::ANY,
            which in 0usize..3,
        ) {
            let json = match which {
                0 => serde_json::Value::String(text.clone()),
                1 => serde_json::json!(number),
                _ => serde_json::json!([text.clone()]),
            };
            for ft in [FieldType::String, FieldType::Number, FieldType::Tag, FieldType::Date] {
                let lent = from_json(ft, &json).map_err(|e| e.to_string());
                let owned = from_json_owned(ft, json.clone()).map_err(|e| e.to_string());
                proptest::prop_assert_eq!(lent, owned);
            }
            let lent = parse_value(FieldType::String, &text).map_err(|e| e.to_string());
            let owned = parse_value_owned(FieldType::String, text).map_err(|e| e.to_string());
            proptest::prop_assert_eq!(lent, owned);
        }
    }
}
