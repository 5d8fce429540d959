//! `list`, `listOfNumber` and `tag` values (R-VAL-7, R-VAL-8, limits of R-SCH-7).

use super::number;
use super::parse::{checked_owned, checked_string};
use crate::error::{Error, Result};
use crate::schema::MAX_LIST_ITEMS;

/// What a list must look like (R-VAL-7).
pub(crate) const EXPECTED_LIST: &str =
    "a JSON-style array of strings such as [\"a\", \"b\"] (at most 200 items of at most 512 characters)";
/// What a list of numbers must look like (R-VAL-7).
pub(crate) const EXPECTED_NUMBER_LIST: &str =
    "a JSON-style array of numbers such as [1, 2.5] (at most 200 items)";
/// What one tag may be (R-VAL-8).
const EXPECTED_TAG: &str =
    "a tag such as basic/level1: at most 2 levels split by /, without . , $ \\ or spaces";
/// What a tag list must look like (R-VAL-8).
pub(crate) const EXPECTED_TAGS: &str = "a JSON-style array of tags such as [\"basic/level1\"]: at most 2 levels split by /, without . , $ \\ or spaces";

fn too_many(text: &str, expected: &str, n: usize) -> Error {
    Error::validation(
        Some(text),
        expected,
        format!("the list has {n} items, more than the limit of {MAX_LIST_ITEMS}"),
    )
}

/// Parses `["a", "b"]` (strict JSON: no trailing comma, quoted items).
fn json_strings(t: &str, expected: &str) -> Result<Vec<String>> {
    if !t.starts_with('[') || !t.ends_with(']') {
        return Err(Error::validation(
            Some(t),
            expected,
            "a list must be written in brackets, like [\"a\", \"b\"]",
        ));
    }
    serde_json::from_str::<Vec<String>>(t)
        .map_err(|e| Error::validation(Some(t), expected, format!("malformed list: {e}")))
}

fn check_items(t: &str, items: Vec<String>, expected: &str) -> Result<Vec<String>> {
    if items.len() > MAX_LIST_ITEMS {
        return Err(too_many(t, expected, items.len()));
    }
    items
        .into_iter()
        .map(|s| checked_owned(s, expected))
        .collect()
}

/// Parses a `list` cell.
pub(crate) fn parse_string_list(t: &str) -> Result<Vec<String>> {
    parse_string_list_with(t, Repeats::Keep)
}

/// [`parse_string_list`], its repeated items kept or dropped as `repeats` says.
pub(crate) fn parse_string_list_with(t: &str, repeats: Repeats) -> Result<Vec<String>> {
    let items = json_strings(t, EXPECTED_LIST)?;
    match repeats {
        Repeats::Keep => check_items(t, items, EXPECTED_LIST),
        Repeats::Drop => distinct(
            t,
            EXPECTED_LIST,
            items.into_iter().map(|s| checked_owned(s, EXPECTED_LIST)),
        ),
    }
}

/// Whether a list cell keeps its repeated items (a value as written) or drops them, where
/// the write it is for appends (R-IMP-8: "dropping values already present"), so that the
/// 200-item limit of R-SCH-7 counts the items the write stores, not the cell's repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repeats {
    /// Keep every item; more than 200 is an error.
    Keep,
    /// Keep each item once, where it first comes; more than 200 different ones is an error.
    Drop,
}

/// The items of a list cell, each kept once, where it first comes; more than 200
/// different ones is an error (a cell of many repeats is read without a quadratic walk:
/// at most 200 items are kept to compare with).
fn distinct<T: PartialEq>(
    t: &str,
    expected: &str,
    items: impl IntoIterator<Item = Result<T>>,
) -> Result<Vec<T>> {
    let mut out: Vec<T> = Vec::new();
    for item in items {
        let item = item?;
        if !out.contains(&item) {
            if out.len() == MAX_LIST_ITEMS {
                return Err(Error::validation(
                    Some(t),
                    expected,
                    format!("the list has more than {MAX_LIST_ITEMS} different items; the limit is {MAX_LIST_ITEMS}"),
                ));
            }
            out.push(item);
        }
    }
    Ok(out)
}

/// Checks one tag (already NFC): non-empty, ≤ 2 levels, `/` only in the middle, no
/// `.` `,` `$` `\` or whitespace.
fn check_tag(tag: &str) -> Result<()> {
    // The error is about one tag, wherever the list came from (a cell, a JSON array, the
    // tags of a bulk action), so it says what one tag may be.
    let bad = |msg: &str| Err(Error::validation(Some(tag), EXPECTED_TAG, msg));
    if tag.is_empty() {
        return bad("a tag may not be empty");
    }
    let refused = |c: char| matches!(c, '.' | ',' | '$' | '\\') || c.is_whitespace();
    // ASCII (nearly every tag) is checked byte by byte, without decoding characters.
    let found = if tag.is_ascii() {
        tag.bytes().map(char::from).find(|&c| refused(c))
    } else {
        tag.chars().find(|&c| refused(c))
    };
    if let Some(c) = found {
        return bad(&format!("the character {c:?} is not allowed in a tag"));
    }
    let mut levels = 0;
    for part in tag.split('/') {
        if part.is_empty() {
            return bad("`/` may only separate two non-empty levels");
        }
        levels += 1;
    }
    if levels > 2 {
        return bad("a tag has at most 2 levels");
    }
    Ok(())
}

/// Parses a `tag` cell.
pub(crate) fn parse_tag_list(t: &str) -> Result<Vec<String>> {
    let items = json_strings(t, EXPECTED_TAGS)?;
    checked_tags(items, |_| t.to_string())
}

/// A tag list as the set a value keeps: each item NFC-checked, kept once (where it first
/// comes) and checked as a tag (R-VAL-8). Repeats are dropped before the 200-item limit,
/// which counts the tags a value holds (R-SCH-7), so one list gives one result on every
/// path: a cell, a JSON array, a new lead's `tags`, an edit. `text` writes the list for the
/// error of one still too long. Tags already normal are kept, not copied.
fn checked_tags(items: Vec<String>, text: impl FnOnce(&[String]) -> String) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(items.len().min(MAX_LIST_ITEMS));
    if items.len() <= MAX_LIST_ITEMS {
        // Few items (nearly always one to three): a scan beats hashing.
        for s in items {
            let s = checked_owned(s, EXPECTED_TAGS)?;
            if !out.contains(&s) {
                out.push(s);
            }
        }
    } else {
        let mut seen = std::collections::HashSet::with_capacity(items.len());
        for s in items {
            let s = checked_owned(s, EXPECTED_TAGS)?;
            if seen.insert(s.clone()) {
                out.push(s);
            }
        }
        if out.len() > MAX_LIST_ITEMS {
            return Err(too_many(&text(&out), EXPECTED_TAGS, out.len()));
        }
    }
    for tag in &out {
        check_tag(tag)?;
    }
    Ok(out)
}

/// Parses a `listOfNumber` cell: `[` number (`,` number)* `]` with optional whitespace,
/// each number in the grammar of R-VAL-4.
pub(crate) fn parse_number_list(t: &str) -> Result<Vec<f64>> {
    parse_number_list_with(t, Repeats::Keep)
}

/// [`parse_number_list`], its repeated items kept or dropped as `repeats` says.
pub(crate) fn parse_number_list_with(t: &str, repeats: Repeats) -> Result<Vec<f64>> {
    let malformed = |msg: &str| Error::validation(Some(t), EXPECTED_NUMBER_LIST, msg);
    let inner = t
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .ok_or_else(|| malformed("a list must be written in brackets, like [1, 2]"))?;
    // JSON's whitespace only, as between items and as a `list` reads it: `[\u{a0}]` is
    // malformed in both list types.
    const JSON_SPACE: [char; 4] = [' ', '\t', '\n', '\r'];
    if inner.trim_matches(JSON_SPACE).is_empty() {
        return Ok(Vec::new());
    }
    let item = |part: &str| {
        let p = part.trim_matches(JSON_SPACE);
        if p.is_empty() {
            return Err(malformed("malformed list: an item is missing"));
        }
        // A JSON number has no leading zero: `[1,000]` is a spreadsheet's one thousand
        // that the comma split, not the list [1, 0], so it is an error (R-VAL-4 rejects
        // thousands separators) rather than two numbers nobody wrote.
        let digits = p.trim_start_matches(['-', '+']).as_bytes();
        if digits.len() > 1 && digits[0] == b'0' && digits[1].is_ascii_digit() {
            return Err(malformed(&format!(
                "malformed list: {p:?} starts with a zero; a comma separates items, so a thousands separator splits a number (write 1000, not 1,000)"
            )));
        }
        number::parse_number(p).map_err(|_| {
            Error::validation(
                Some(t),
                EXPECTED_NUMBER_LIST,
                format!("malformed list: {p:?} is not a number"),
            )
        })
    };
    match repeats {
        Repeats::Drop => distinct(t, EXPECTED_NUMBER_LIST, inner.split(',').map(item)),
        Repeats::Keep => {
            let mut out = Vec::new();
            for part in inner.split(',') {
                if out.len() == MAX_LIST_ITEMS {
                    return Err(too_many(t, EXPECTED_NUMBER_LIST, inner.split(',').count()));
                }
                out.push(item(part)?);
            }
            Ok(out)
        }
    }
}

fn json_strs(items: &[serde_json::Value], expected: &str) -> Result<Vec<String>> {
    if items.len() > MAX_LIST_ITEMS {
        let text = serde_json::Value::Array(items.to_vec()).to_string();
        return Err(too_many(&text, expected, items.len()));
    }
    items
        .iter()
        .map(|v| match v {
            serde_json::Value::String(s) => checked_string(s, expected),
            other => Err(Error::validation(
                Some(&other.to_string()),
                expected,
                "every item must be a string",
            )),
        })
        .collect()
}

/// A native JSON array as a `list`.
pub(crate) fn json_string_list(items: &[serde_json::Value]) -> Result<Vec<String>> {
    json_strs(items, EXPECTED_LIST)
}

/// A native JSON array as a `tag` list ([`checked_tags`]).
pub(crate) fn json_tag_list(items: &[serde_json::Value]) -> Result<Vec<String>> {
    let strings = items
        .iter()
        .map(|v| match v {
            serde_json::Value::String(s) => Ok(s.clone()),
            other => Err(Error::validation(
                Some(&other.to_string()),
                EXPECTED_TAGS,
                "every item must be a string",
            )),
        })
        .collect::<Result<Vec<String>>>()?;
    checked_tags(strings, |_| {
        serde_json::Value::Array(items.to_vec()).to_string()
    })
}

/// A contact's `tags` (R-VAL-8) as the set it keeps ([`checked_tags`]).
pub(crate) fn tag_set(items: Vec<String>) -> Result<Vec<String>> {
    checked_tags(items, |out| {
        serde_json::Value::from(out.to_vec()).to_string()
    })
}

/// A native JSON array as a `listOfNumber`.
pub(crate) fn json_number_list(items: &[serde_json::Value]) -> Result<Vec<f64>> {
    if items.len() > MAX_LIST_ITEMS {
        let text = serde_json::Value::Array(items.to_vec()).to_string();
        return Err(too_many(&text, EXPECTED_NUMBER_LIST, items.len()));
    }
    items
        .iter()
        .map(|v| match v {
            serde_json::Value::Number(n) => number::check_json_number(n),
            other => Err(Error::validation(
                Some(&other.to_string()),
                EXPECTED_NUMBER_LIST,
                "every item must be a number",
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// R-VAL-8: tags given as strings pass and fail exactly as the same strings given as
        /// a JSON array, with the same error (the 200-item limit included).
        #[test]
        fn r_val_8_tag_strings_check_like_a_json_tag_array(
            items in prop::collection::vec(
                prop_oneof![
                    "[a-z]{1,6}(/[a-z]{1,4}){0,2}",
                    "\\PC{0,8}",
                    Just(String::new()),
                    Just("a/".to_string()),
                    Just("x".repeat(600)),
                ],
                0..8,
            ),
            many in 0usize..3,
        ) {
            let mut items = items;
            if many == 2 {
                items = (0..=MAX_LIST_ITEMS).map(|i| format!("t{i}")).collect();
            }
            let json: Vec<serde_json::Value> =
                items.iter().cloned().map(serde_json::Value::String).collect();
            let a = tag_set(items.clone()).map_err(|e| e.to_string());
            let b = json_tag_list(&json).map_err(|e| e.to_string());
            prop_assert_eq!(a, b);
        }
    }

    #[test]
    fn r_val_7_lists() {
        assert_eq!(
            parse_string_list("[\"a\", \"b\"]").unwrap(),
            vec!["a".to_string(), "b".to_string()]
        );
        assert_eq!(parse_string_list("[]").unwrap(), Vec::<String>::new());
        assert_eq!(parse_number_list("[1,2]").unwrap(), vec![1.0, 2.0]);
        assert_eq!(parse_number_list("[ 1 , -2.5 ]").unwrap(), vec![1.0, -2.5]);
        for bad in [
            "[\"a\"",
            "[a]",
            "[\"a\",]",
            "\"a\"",
            "a",
            "[\"a\"]]",
            "[[\"a\"]]",
            "[1]",
            "{}",
        ] {
            assert!(parse_string_list(bad).is_err(), "{bad} should be rejected");
        }
        for bad in [
            "[1,]", "[1", "1,2", "[1e5]", "[\"1\"]", "[1,,2]", "[NaN]", "[1 2]",
        ] {
            assert!(parse_number_list(bad).is_err(), "{bad} should be rejected");
        }
        // A thousands separator inside a list: an error, never [1, 0].
        for bad in ["[1,000]", "[2,050.5]", "[-007]", "[00]"] {
            let e = parse_number_list(bad).unwrap_err();
            assert!(e.to_string().contains("thousands separator"), "{bad}: {e}");
        }
        assert_eq!(
            parse_number_list("[0, 0.5, -0.25, 10]").unwrap(),
            vec![0.0, 0.5, -0.25, 10.0]
        );
    }

    #[test]
    fn r_val_8_tags() {
        assert_eq!(
            parse_tag_list("[\"basic/level1\", \"advanced/level2\"]").unwrap(),
            vec!["basic/level1".to_string(), "advanced/level2".to_string()]
        );
        assert!(parse_tag_list("[\"vip\"]").is_ok());
        for bad in [
            "[\"a/b/c\"]",
            "[\"a/\"]",
            "[\"/a\"]",
            "[\"a//b\"]",
            "[\"a.b\"]",
            "[\"a,b\"]",
            "[\"a$\"]",
            "[\"a\\\\b\"]",
            "[\"a b\"]",
            "[\"\"]",
            "[\"a\"",
            "vip",
        ] {
            assert!(parse_tag_list(bad).is_err(), "{bad} should be rejected");
        }
    }
}
