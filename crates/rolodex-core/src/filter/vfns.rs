//! The value-parsing functions the filter uses, in one place.
//!
//! Outside tests these are the real R-VAL functions of `crate::value`. Until they land on
//! main (they are `todo!()` stubs there), unit tests use the small shims below so the filter
//! can be tested on its own. TODO(filter): drop the shims once `value::parse` lands.

#[cfg(not(test))]
pub(crate) use crate::value::{normalize_email, normalize_phone, parse_date, parse_datetime};

#[cfg(test)]
pub(crate) use shims::{normalize_email, normalize_phone, parse_date, parse_datetime};

/// The national form of an E.164 number with its trunk prefix, digits only
/// (`+821020203030` → `01020203030`). Stands in for `value::national_number_digits`, which
/// the value engineer is adding with this signature.
pub(crate) fn national_number_digits_local(e164: &str) -> Option<String> {
    let n = phonenumber::parse(None, e164).ok()?;
    let national = n.format().mode(phonenumber::Mode::National).to_string();
    let digits: String = national.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        None
    } else {
        Some(digits)
    }
}

#[cfg(test)]
mod shims {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

    use crate::error::{Error, Result};

    fn err(text: &str, expected: &str) -> Error {
        Error::validation(Some(text), expected, "test shim: not accepted")
    }

    pub(crate) fn parse_date(text: &str) -> Result<NaiveDate> {
        let t = text.trim();
        if t.len() != 10 {
            return Err(err(t, "YYYY-MM-DD"));
        }
        NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| err(t, "YYYY-MM-DD"))
    }

    pub(crate) fn parse_datetime(text: &str) -> Result<DateTime<Utc>> {
        let t = text.trim();
        if let Ok(d) = parse_date(t) {
            return Ok(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default()));
        }
        if (t.len() == 12 || t.len() == 13) && t.bytes().all(|b| b.is_ascii_digit()) {
            let ms: i64 = t.parse().map_err(|_| err(t, "epoch ms"))?;
            return Utc
                .timestamp_millis_opt(ms)
                .single()
                .ok_or_else(|| err(t, "epoch ms"));
        }
        let norm = t
            .replacen(' ', "T", 1)
            .replace(['t'], "T")
            .replace('z', "Z");
        if let Ok(x) = DateTime::parse_from_rfc3339(&norm) {
            return Ok(x.with_timezone(&Utc));
        }
        NaiveDateTime::parse_from_str(&norm, "%Y-%m-%dT%H:%M:%S%.f")
            .map(|n| Utc.from_utc_datetime(&n))
            .map_err(|_| err(t, "ISO 8601 datetime"))
    }

    pub(crate) fn normalize_phone(text: &str) -> Result<String> {
        let t = text.trim();
        if !t.starts_with('+') {
            return Err(err(t, "+<country code>..."));
        }
        let n = phonenumber::parse(None, t).map_err(|_| err(t, "a phone number"))?;
        if !phonenumber::is_valid(&n) {
            return Err(err(t, "a valid phone number"));
        }
        Ok(n.format().mode(phonenumber::Mode::E164).to_string())
    }

    pub(crate) fn normalize_email(text: &str) -> Result<String> {
        let t = text.trim();
        match t.split_once('@') {
            Some((l, d))
                if !l.is_empty() && d.contains('.') && !d.contains('@') && !t.contains(' ') =>
            {
                Ok(format!("{l}@{}", d.to_lowercase()))
            }
            _ => Err(err(t, "an email address")),
        }
    }
}
