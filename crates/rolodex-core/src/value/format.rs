//! Canonical text (R-VAL-10) and JSON forms of values.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{FieldType, Value};
use crate::error::Result;

/// The canonical text of a datetime: RFC 3339 in UTC with milliseconds
/// (`2025-05-04T00:00:00.000Z`).
pub fn format_datetime(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The canonical text of a number: the shortest decimal that round-trips, with no exponent
/// and no trailing `.0` (`2.50` → `2.5`, `1e21` → `1000000000000000000000`).
pub fn format_number(n: f64) -> String {
    if n == 0.0 {
        return "0".to_string();
    }
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(n);
    let s = s.strip_suffix(".0").unwrap_or(s);
    if !s.contains(['e', 'E']) {
        return s.to_string();
    }
    expand_exponent(s)
}

/// Rewrites ryu's `1.5e-7` / `1e21` as plain decimal digits.
fn expand_exponent(s: &str) -> String {
    let Some((mantissa, exp)) = s.split_once(['e', 'E']) else {
        return s.to_string();
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = format!("{int_part}{frac_part}");
    let point = int_part.len() as i32 + exp; // position of the decimal point in `digits`
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out.push_str(digits.trim_end_matches('0'));
    } else if point as usize >= digits.len() {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', point as usize - digits.len()));
    } else {
        let (a, b) = digits.split_at(point as usize);
        out.push_str(a);
        let b = b.trim_end_matches('0');
        if !b.is_empty() {
            out.push('.');
            out.push_str(b);
        }
    }
    out
}

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_default()
}

impl Value {
    /// The value's one canonical text form (R-VAL-10); `parse_value` of it gives the value back.
    pub fn canonical(&self) -> String {
        match self {
            Value::String(s) | Value::Phone(s) | Value::Email(s) => s.clone(),
            Value::Number(n) => format_number(*n),
            Value::Boolean(b) => b.to_string(),
            Value::Date(d) => d.format("%Y-%m-%d").to_string(),
            Value::Datetime(t) => format_datetime(t),
            Value::List(items) | Value::Tag(items) => json_list(items),
            Value::ListOfNumber(ns) => {
                let parts: Vec<String> = ns.iter().map(|n| format_number(*n)).collect();
                format!("[{}]", parts.join(","))
            }
        }
    }

    /// The value in contact JSON (FILTER.md): numbers and booleans natively, dates and
    /// datetimes as canonical text, lists as arrays.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::String(s) | Value::Phone(s) | Value::Email(s) => J::String(s.clone()),
            Value::Number(n) => number_json(*n),
            Value::Boolean(b) => J::Bool(*b),
            Value::Date(_) | Value::Datetime(_) => J::String(self.canonical()),
            Value::List(items) | Value::Tag(items) => {
                J::Array(items.iter().map(|s| J::String(s.clone())).collect())
            }
            Value::ListOfNumber(ns) => J::Array(ns.iter().map(|n| number_json(*n)).collect()),
        }
    }

    /// Whether this value can be a value of a key of type `ft`.
    pub fn fits(&self, ft: FieldType) -> bool {
        matches!(
            (self, ft),
            (Value::String(_), FieldType::String)
                | (Value::Number(_), FieldType::Number)
                | (Value::Boolean(_), FieldType::Boolean)
                | (Value::Date(_), FieldType::Date)
                | (Value::Datetime(_), FieldType::Datetime)
                | (Value::List(_), FieldType::List)
                | (Value::ListOfNumber(_), FieldType::ListOfNumber)
                | (Value::Tag(_), FieldType::Tag)
                | (Value::Phone(_), FieldType::MobileNumber)
                | (Value::Phone(_), FieldType::LandlineNumber)
                | (Value::Email(_), FieldType::Email)
        )
    }

    /// Converts a value given as JSON (a native JSON value of the type, or text parsed by
    /// R-VAL) into a value of type `ft`, checking the limits of R-SCH-7.
    pub fn from_json(ft: FieldType, json: &serde_json::Value) -> Result<Value> {
        super::parse::from_json(ft, json)
    }
}

/// A number as JSON: integral values within ±2^53 as integers, others as floats.
pub fn number_json(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_992.0 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Value {
    /// Without a schema the type is inferred from the JSON: strings become `String`,
    /// numbers `Number`, booleans `Boolean`, arrays of strings `List`, arrays of numbers
    /// `ListOfNumber`. Use [`Value::from_json`] with the key's type for an exact reading.
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let j = serde_json::Value::deserialize(d)?;
        let ft = match &j {
            serde_json::Value::String(_) => FieldType::String,
            serde_json::Value::Number(_) => FieldType::Number,
            serde_json::Value::Bool(_) => FieldType::Boolean,
            serde_json::Value::Array(a) if a.iter().all(|x| x.is_number()) && !a.is_empty() => {
                FieldType::ListOfNumber
            }
            serde_json::Value::Array(_) => FieldType::List,
            _ => {
                return Err(D::Error::custom(
                    "expected a string, number, boolean or array",
                ))
            }
        };
        Value::from_json(ft, &j).map_err(D::Error::custom)
    }
}

/// Serde helpers for datetimes in canonical form (`2025-05-04T00:00:00.000Z`).
pub mod serde_datetime {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialises as canonical text.
    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_datetime(t))
    }

    /// Reads any datetime form of R-VAL-5.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        use serde::de::Error as _;
        let s = String::deserialize(d)?;
        crate::value::parse_datetime(&s).map_err(D::Error::custom)
    }
}

/// Serde helpers for an optional datetime in canonical form (absent when `None`).
pub mod serde_datetime_opt {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialises as canonical text (callers skip `None`).
    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::format_datetime(t)),
            None => s.serialize_none(),
        }
    }

    /// Reads any datetime form of R-VAL-5, or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        use serde::de::Error as _;
        match Option::<String>::deserialize(d)? {
            Some(s) => crate::value::parse_datetime(&s)
                .map(Some)
                .map_err(D::Error::custom),
            None => Ok(None),
        }
    }
}

/// A JSON number that is a whole number, as a count: `50`, and also `50.0` and `5e1`, the
/// way Python's `json.dumps` or a Kotlin `Double` writes it (a JSON document means the
/// same in every language, API.md). `None` for a fraction, a negative number or one past
/// `u64`.
pub(crate) fn whole_number(n: &serde_json::Number) -> Option<u64> {
    n.as_u64().or_else(|| {
        let f = n.as_f64()?;
        // 2^64 is exact as an f64; every whole f64 below it fits a u64.
        (f.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&f)).then_some(f as u64)
    })
}

/// Reads a field whose `null` means the same as leaving it out: its default. Input shapes
/// read this way (a new lead, a boot, import and export options, a manager), as `Query`
/// reads all its fields, since callers in Python or Kotlin write `None`/`null` for "not
/// given".
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Serde helpers for an optional count read with [`whole_number`] (absent when `None`).
pub(crate) mod serde_count_opt {
    use serde::{Deserialize, Deserializer};

    /// Reads a whole number (`50`, `50.0`), or `null`.
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
        use serde::de::Error as _;
        match Option::<serde_json::Number>::deserialize(d)? {
            Some(n) => super::whole_number(&n)
                .and_then(|v| usize::try_from(v).ok())
                .map(Some)
                .ok_or_else(|| {
                    D::Error::custom(format!("expected a whole number of entries, found {n}"))
                }),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_val_10_number_format() {
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(1.0), "1");
        assert_eq!(format_number(-3.0), "-3");
        assert_eq!(format_number(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_number(1e21), "1000000000000000000000");
        assert_eq!(format_number(1.5e-7), "0.00000015");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(9007199254740992.0), "9007199254740992");
        assert_eq!(format_number(123456.789), "123456.789");
    }
}
