//! `date` and `datetime` values (R-VAL-5): a hand-written byte-level shape check, with
//! chrono only building and validating the calendar date.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};

use crate::error::{Error, Result};

/// What a date must look like (R-VAL-5).
pub(crate) const EXPECTED_DATE: &str = "a date YYYY-MM-DD (e.g. 2025-05-04)";
/// What a datetime must look like (R-VAL-5).
pub(crate) const EXPECTED_DATETIME: &str = "an ISO 8601 datetime YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM] (e.g. 2025-05-04T09:00:00+09:00), a date YYYY-MM-DD, or epoch milliseconds (12 or 13 digits)";

#[inline]
fn d2(b: &[u8], i: usize) -> Option<u32> {
    let (x, y) = (
        b.get(i)?.wrapping_sub(b'0'),
        b.get(i + 1)?.wrapping_sub(b'0'),
    );
    if x < 10 && y < 10 {
        Some(x as u32 * 10 + y as u32)
    } else {
        None
    }
}

#[inline]
fn d4(b: &[u8], i: usize) -> Option<i32> {
    Some((d2(b, i)? * 100 + d2(b, i + 2)?) as i32)
}

/// Why a text is not a date, for the error message.
fn date_hint(t: &str) -> &'static str {
    let b = t.as_bytes();
    if b.len() >= 10 && d4(b, 0).is_some() && d2(b, 5).is_some() && d2(b, 8).is_some() {
        match (b[4], b[7]) {
            (b'.', b'.') => return "dots are not date separators; use YYYY-MM-DD",
            (b'/', b'/') => return "slashes are not date separators; use YYYY-MM-DD",
            _ => {}
        }
    }
    if b.len() == 8 && b.iter().all(u8::is_ascii_digit) {
        return "the basic form without separators is not accepted; use YYYY-MM-DD";
    }
    if t.contains('/') {
        return "day/month orders are ambiguous; use YYYY-MM-DD";
    }
    "not a date in the form YYYY-MM-DD"
}

/// The date at the start of `b` if `b[..10]` is `YYYY-MM-DD` shaped. `Err(true)` means
/// shaped but impossible (`2025-02-30`).
#[inline]
fn date_at(b: &[u8]) -> std::result::Result<NaiveDate, bool> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(false);
    }
    let (y, m, d) = match (d4(b, 0), d2(b, 5), d2(b, 8)) {
        (Some(y), Some(m), Some(d)) => (y, m, d),
        _ => return Err(false),
    };
    NaiveDate::from_ymd_opt(y, m, d).ok_or(true)
}

/// Parses trimmed text as `YYYY-MM-DD`.
pub(crate) fn parse_date_trimmed(t: &str) -> Result<NaiveDate> {
    let b = t.as_bytes();
    if b.len() == 10 {
        match date_at(b) {
            Ok(d) => return Ok(d),
            Err(true) => {
                return Err(Error::validation(
                    Some(t),
                    EXPECTED_DATE,
                    "no such calendar date",
                ))
            }
            Err(false) => {}
        }
    }
    Err(Error::validation(Some(t), EXPECTED_DATE, date_hint(t)))
}

fn bad_dt(t: &str, message: &str) -> Error {
    Error::validation(Some(t), EXPECTED_DATETIME, message)
}

/// Whether the instant has a four-digit UTC year, so that its canonical text parses back.
#[inline]
pub(crate) fn in_range(t: DateTime<Utc>) -> bool {
    (0..=9999).contains(&t.year())
}

/// Parses trimmed text as a datetime in any form of R-VAL-5.
pub(crate) fn parse_datetime_trimmed(t: &str) -> Result<DateTime<Utc>> {
    let b = t.as_bytes();
    let n = b.len();
    // Epoch milliseconds: exactly 12 or 13 digits.
    if (n == 12 || n == 13) && b.iter().all(u8::is_ascii_digit) {
        let ms: i64 = b.iter().fold(0i64, |a, &c| a * 10 + (c - b'0') as i64);
        return DateTime::from_timestamp_millis(ms)
            .ok_or_else(|| bad_dt(t, "epoch milliseconds out of range"));
    }
    let date = match date_at(b) {
        Ok(d) => d,
        Err(true) => return Err(bad_dt(t, "no such calendar date")),
        Err(false) => {
            let hint = if b.iter().all(u8::is_ascii_digit) {
                "epoch milliseconds must have 12 or 13 digits, and the basic form without separators is not accepted"
            } else {
                date_hint(t)
            };
            return Err(bad_dt(t, hint));
        }
    };
    if n == 10 {
        return Ok(date.and_time(NaiveTime::MIN).and_utc());
    }
    if n < 19 || !matches!(b[10], b'T' | b't' | b' ') || b[13] != b':' || b[16] != b':' {
        return Err(bad_dt(t, "not a datetime in the ISO 8601 extended form"));
    }
    let (h, mi, s) = match (d2(b, 11), d2(b, 14), d2(b, 17)) {
        (Some(h), Some(mi), Some(s)) => (h, mi, s),
        _ => return Err(bad_dt(t, "not a datetime in the ISO 8601 extended form")),
    };
    if h > 23 || mi > 59 {
        return Err(bad_dt(t, "hour or minute out of range"));
    }
    if s > 59 {
        return Err(bad_dt(
            t,
            "seconds out of range (leap seconds are not accepted)",
        ));
    }
    let mut i = 19;
    let mut ms = 0u32;
    if i < n && b[i] == b'.' {
        i += 1;
        let start = i;
        while i < n && b[i].is_ascii_digit() {
            if i - start < 3 {
                ms = ms * 10 + (b[i] - b'0') as u32;
            }
            i += 1;
        }
        let digits = i - start;
        if digits == 0 {
            return Err(bad_dt(t, "a decimal point must be followed by digits"));
        }
        for _ in digits..3 {
            ms *= 10;
        }
    }
    let offset_secs: i32 = if i == n || (n == i + 1 && (b[i] == b'Z' || b[i] == b'z')) {
        0
    } else if n == i + 6 && (b[i] == b'+' || b[i] == b'-') && b[i + 3] == b':' {
        let (oh, om) = match (d2(b, i + 1), d2(b, i + 4)) {
            (Some(oh), Some(om)) => (oh, om),
            _ => return Err(bad_dt(t, "the offset must be ±HH:MM")),
        };
        if oh > 23 || om > 59 {
            return Err(bad_dt(t, "the offset is out of range"));
        }
        let secs = (oh * 3600 + om * 60) as i32;
        if b[i] == b'-' {
            -secs
        } else {
            secs
        }
    } else {
        return Err(bad_dt(
            t,
            "unexpected text after the time; the offset must be Z or ±HH:MM",
        ));
    };
    let time = NaiveTime::from_hms_milli_opt(h, mi, s, ms)
        .ok_or_else(|| bad_dt(t, "time out of range"))?;
    let local = NaiveDateTime::new(date, time);
    let utc = local
        .checked_sub_signed(TimeDelta::seconds(offset_secs as i64))
        .map(|x| x.and_utc())
        .filter(|x| in_range(*x))
        .ok_or_else(|| bad_dt(t, "the instant is outside the years 0000-9999 in UTC"))?;
    Ok(utc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::format_datetime;

    fn dt(s: &str) -> String {
        format_datetime(&parse_datetime_trimmed(s).unwrap())
    }

    #[test]
    fn r_val_5_datetime_accepted_forms() {
        let z = "2025-05-04T00:00:00.000Z";
        assert_eq!(dt("2025-05-04T00:00:00+00:00"), z);
        assert_eq!(dt("2025-05-04T00:00:00Z"), z);
        assert_eq!(dt("2025-05-04T00:00:00z"), z);
        assert_eq!(dt("2025-05-04t00:00:00Z"), z);
        assert_eq!(dt("2025-05-04 00:00:00"), z);
        assert_eq!(dt("2025-05-04T00:00:00"), z);
        assert_eq!(dt("2025-05-04T09:00:00+09:00"), z);
        assert_eq!(dt("2025-05-03T20:30:00-03:30"), z);
        assert_eq!(dt("1746316800000"), z);
        assert_eq!(dt("2025-05-04"), z);
        assert_eq!(dt("174631680000"), "1975-07-15T04:48:00.000Z");
    }

    #[test]
    fn r_val_5_fraction_is_cut_not_rounded() {
        assert_eq!(dt("2025-05-04T00:00:00.9999Z"), "2025-05-04T00:00:00.999Z");
        assert_eq!(dt("2025-05-04T00:00:00.5"), "2025-05-04T00:00:00.500Z");
        assert_eq!(dt("2025-05-04T00:00:00.12"), "2025-05-04T00:00:00.120Z");
        assert_eq!(
            dt("2025-05-04T00:00:00.123456789+01:00"),
            "2025-05-03T23:00:00.123Z"
        );
    }

    #[test]
    fn r_val_5_datetime_rejected_lookalikes() {
        for bad in [
            "2025/05/04",
            "2025.05.04",
            "04/05/2025",
            "2025-02-30",
            "2025-05-04T23:59:60Z",
            "2025-05-04T24:00:00Z",
            "2025-05-04T00:60:00Z",
            "2025-05-04T00:00Z",
            "2025-05-04T00:00:00.Z",
            "2025-05-04T00:00:00,5Z",
            "2025-05-04T00:00:00+0900",
            "2025-05-04T00:00:00+09",
            "2025-05-04T00:00:00+24:00",
            "2025-05-04T00:00:00+09:60",
            "2025-05-04T00:00:00 +09:00",
            "2025-05-04  00:00:00",
            "2025-05-04x",
            "2025-5-4",
            "2025-W18-7",
            "2025-124",
            "20250504",
            "20250504T000000Z",
            "17463168000",
            "17463168000000",
            "-1746316800000",
            "yesterday",
            "2025-05-04T00:00:00ZZ",
            "0000-01-01T00:00:00+01:00",
            "9999-12-31T23:00:00-05:00",
        ] {
            assert!(
                parse_datetime_trimmed(bad).is_err(),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn r_val_5_error_names_expected_format() {
        let e = parse_datetime_trimmed("2025/05/04").unwrap_err();
        match e {
            Error::Validation {
                expected, message, ..
            } => {
                assert!(expected.contains("YYYY-MM-DD"));
                assert!(message.contains("slashes"), "{message}");
            }
            _ => panic!("wrong kind"),
        }
    }

    #[test]
    fn r_val_5_date_only_yyyy_mm_dd() {
        assert_eq!(
            parse_date_trimmed("2025-05-04").unwrap(),
            NaiveDate::from_ymd_opt(2025, 5, 4).unwrap()
        );
        for bad in [
            "2025.05.04",
            "2025/05/04",
            "2025-02-30",
            "2025-5-4",
            "2025-05-04x",
            "yesterday",
            "2025-05-04T00:00:00Z",
            "20250504",
            "2025-13-01",
        ] {
            assert!(parse_date_trimmed(bad).is_err(), "{bad} should be rejected");
        }
    }
}
