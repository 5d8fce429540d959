//! `number` values (R-VAL-4).

use crate::error::{Error, Result};

/// What a number must look like (R-VAL-4).
pub(crate) const EXPECTED_NUMBER: &str =
    "a decimal number such as 1, -3 or 1.01 (no thousands separators, currency, or exponent; integers within ±2^53)";

/// 2^53: the largest magnitude up to which every integer is exact in an f64.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// The error for an integer part beyond ±2^53.
const BEYOND: &str =
    "the number is beyond ±2^53 (9007199254740992) and would lose digits; store it as text";

fn bad(text: &str, message: &str) -> Error {
    Error::validation(Some(text), EXPECTED_NUMBER, message)
}

/// Parses trimmed text as a number: `-?digits(.digits)?`, integer part within ±2^53.
pub(crate) fn parse_number(t: &str) -> Result<f64> {
    let b = t.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i = 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_len = i - int_start;
    if int_len == 0 {
        return Err(bad(t, "not a number"));
    }
    if i < b.len() {
        if b[i] != b'.' {
            let msg = match b[i] {
                b',' => "thousands separators are not allowed",
                b'e' | b'E' => "exponent forms are not allowed (write the number out in full)",
                _ => "not a number (unexpected trailing text)",
            };
            return Err(bad(t, msg));
        }
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == frac_start {
            return Err(bad(t, "a decimal point must be followed by digits"));
        }
        if i < b.len() {
            let msg = match b[i] {
                b'e' | b'E' => "exponent forms are not allowed (write the number out in full)",
                _ => "not a number (unexpected trailing text)",
            };
            return Err(bad(t, msg));
        }
    }
    // The grammar guarantees `parse` succeeds; stay panic-free anyway.
    let n: f64 = t.parse().map_err(|_| bad(t, "not a number"))?;
    // Compare the integer digits with 2^53 exactly (an f64 would round 2^53 + 1 down).
    let int_digits = t[int_start..int_start + int_len].trim_start_matches('0');
    const MAX_DIGITS: &str = "9007199254740992";
    if int_digits.len() > MAX_DIGITS.len()
        || (int_digits.len() == MAX_DIGITS.len() && int_digits > MAX_DIGITS)
    {
        return Err(bad(t, BEYOND));
    }
    // A value too small for a 64-bit float would silently become 0.
    if n == 0.0 && t.bytes().any(|c| matches!(c, b'1'..=b'9')) {
        return Err(bad(
            t,
            "the number is too close to 0 to be held (it would become 0); store it as text",
        ));
    }
    Ok(if n == 0.0 { 0.0 } else { n })
}

/// Checks a JSON number's value against the limits of R-VAL-4; `text` writes the number out
/// for an error (only then: formatting a float costs more than the checks).
fn check_number(n: f64, text: impl FnOnce() -> String) -> Result<f64> {
    if !n.is_finite() {
        return Err(bad(&text(), "not a finite number"));
    }
    if n.abs().trunc() > MAX_EXACT {
        return Err(bad(&text(), BEYOND));
    }
    Ok(if n == 0.0 { 0.0 } else { n })
}

/// A native JSON number as a value (R-VAL-4 limits).
pub(crate) fn check_json_number(n: &serde_json::Number) -> Result<f64> {
    if let Some(i) = n.as_i64() {
        if i.unsigned_abs() > MAX_EXACT as u64 {
            return Err(bad(&n.to_string(), BEYOND));
        }
        return Ok(i as f64);
    }
    if n.as_u64().is_some() {
        return Err(bad(&n.to_string(), BEYOND));
    }
    match n.as_f64() {
        Some(f) => check_number(f, || n.to_string()),
        None => Err(bad(&n.to_string(), "not a finite number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_val_4_accepts_integers_and_decimals() {
        assert_eq!(parse_number("1").unwrap(), 1.0);
        assert_eq!(parse_number("1.01").unwrap(), 1.01);
        assert_eq!(parse_number("-3").unwrap(), -3.0);
        assert_eq!(parse_number("007").unwrap(), 7.0);
        assert_eq!(parse_number("2.50").unwrap(), 2.5);
        assert!(parse_number("-0").unwrap().is_sign_positive());
        assert_eq!(
            parse_number("9007199254740992").unwrap(),
            9007199254740992.0
        );
        assert_eq!(
            parse_number("-9007199254740992").unwrap(),
            -9007199254740992.0
        );
    }

    #[test]
    fn r_val_4_rejects_lookalikes() {
        for bad in [
            "1,000",
            "$5",
            "5$",
            "₩1000",
            "5kg",
            "1.2.3",
            "NaN",
            "nan",
            "inf",
            "-inf",
            "Infinity",
            "1.23457E+11",
            "1e5",
            "1E5",
            ".5",
            "5.",
            "+5",
            "--1",
            "-",
            "1 000",
            "0x10",
            "9007199254740993",
            "-9007199254740993",
            "12345678901234567890.5",
        ] {
            assert!(parse_number(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn r_val_4_a_decimal_too_small_to_hold_is_an_error_not_zero() {
        let tiny = format!("0.{}1", "0".repeat(400));
        let e = parse_number(&tiny).unwrap_err();
        assert!(e.to_string().contains("too close to 0"), "{e}");
        assert!(parse_number(&format!("-{tiny}")).is_err());
        // Zero written any way is zero, and the smallest held values stay themselves.
        for zero in ["0", "-0", "0.000", "000.0"] {
            assert_eq!(parse_number(zero).unwrap(), 0.0, "{zero}");
        }
        assert!(parse_number(&format!("0.{}1", "0".repeat(300))).unwrap() > 0.0);
    }

    #[test]
    fn r_val_4_native_json_numbers_keep_the_limits_and_name_the_number() {
        let n = |v: serde_json::Value| match v {
            serde_json::Value::Number(n) => n,
            _ => unreachable!(),
        };
        assert_eq!(
            check_json_number(&n(serde_json::json!(123.45))).unwrap(),
            123.45
        );
        assert_eq!(check_json_number(&n(serde_json::json!(-7))).unwrap(), -7.0);
        assert!(check_json_number(&n(serde_json::json!(-0.0)))
            .unwrap()
            .is_sign_positive());
        assert_eq!(
            check_json_number(&n(serde_json::json!(9_007_199_254_740_992i64))).unwrap(),
            MAX_EXACT
        );
        // Beyond ±2^53 as an i64, a u64 and a float: the error quotes the number as given.
        for (v, text) in [
            (
                serde_json::json!(9_007_199_254_740_993i64),
                "9007199254740993",
            ),
            (
                serde_json::json!(-9_007_199_254_740_993i64),
                "-9007199254740993",
            ),
            (serde_json::json!(u64::MAX), "18446744073709551615"),
            (serde_json::json!(1e20), "1e+20"),
        ] {
            let e = check_json_number(&n(v)).unwrap_err();
            assert!(e.to_string().contains(text), "{e}");
            assert!(e.to_string().contains("2^53"), "{e}");
        }
    }
}
