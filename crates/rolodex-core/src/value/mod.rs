//! Field types and typed values, and their parsing from text (R-VAL) and canonical
//! formatting back to text (R-VAL-10).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The type of a data key (R-SCH-2). Serialised by its camelCase name (`"listOfNumber"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FieldType {
    /// Any text, NFC-normalised.
    String,
    /// A 64-bit float; integers exact up to ±2^53.
    Number,
    /// `true` / `false`.
    Boolean,
    /// A calendar date `YYYY-MM-DD`.
    Date,
    /// An instant, held in UTC with millisecond precision.
    Datetime,
    /// A list of strings.
    List,
    /// A list of numbers.
    ListOfNumber,
    /// A list of hierarchical tags (`basic/level1`).
    Tag,
    /// A phone number in E.164.
    MobileNumber,
    /// A phone number in E.164.
    LandlineNumber,
    /// An email address, domain lower-cased.
    Email,
}

impl FieldType {
    /// Every field type, in R-SCH-2 order.
    pub const ALL: [FieldType; 11] = [
        FieldType::String,
        FieldType::Number,
        FieldType::Boolean,
        FieldType::Date,
        FieldType::Datetime,
        FieldType::List,
        FieldType::ListOfNumber,
        FieldType::Tag,
        FieldType::MobileNumber,
        FieldType::LandlineNumber,
        FieldType::Email,
    ];

    /// The type's name as in R-SCH-2 (`"mobileNumber"`).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::List => "list",
            FieldType::ListOfNumber => "listOfNumber",
            FieldType::Tag => "tag",
            FieldType::MobileNumber => "mobileNumber",
            FieldType::LandlineNumber => "landlineNumber",
            FieldType::Email => "email",
        }
    }

    /// Whether values of this type are lists (`list`, `listOfNumber`, `tag`).
    pub fn is_list(self) -> bool {
        matches!(
            self,
            FieldType::List | FieldType::ListOfNumber | FieldType::Tag
        )
    }

    /// Whether values of this type are phone numbers.
    pub fn is_phone(self) -> bool {
        matches!(self, FieldType::MobileNumber | FieldType::LandlineNumber)
    }

    /// Whether values of this type are text (string, email, phones).
    pub fn is_text(self) -> bool {
        matches!(
            self,
            FieldType::String
                | FieldType::Email
                | FieldType::MobileNumber
                | FieldType::LandlineNumber
        )
    }
}

impl std::fmt::Display for FieldType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for FieldType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        FieldType::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                Error::validation(
                    Some(s),
                    "one of string, number, boolean, date, datetime, list, listOfNumber, tag, mobileNumber, landlineNumber, email",
                    "unknown field type",
                )
            })
    }
}

/// A typed value of a data key.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text, NFC-normalised.
    String(String),
    /// A finite number; integers are exact up to ±2^53.
    Number(f64),
    /// A boolean.
    Boolean(bool),
    /// A calendar date.
    Date(NaiveDate),
    /// An instant in UTC, millisecond precision.
    Datetime(DateTime<Utc>),
    /// A list of strings.
    List(Vec<String>),
    /// A list of numbers.
    ListOfNumber(Vec<f64>),
    /// A list of tags of at most two levels.
    Tag(Vec<String>),
    /// A phone number in E.164 (`+821020203030`).
    Phone(String),
    /// An email address with its domain lower-cased.
    Email(String),
}

pub(crate) mod datetime;
mod email;
/// Appends to `to` the items of `items` it does not hold yet, in their order: the list
/// union used by merges (R-CON-8), unification (R-UNI-3) and import appends (R-IMP-8).
pub fn append_new<T: PartialEq + Clone>(to: &mut Vec<T>, items: &[T]) {
    for x in items {
        if !to.contains(x) {
            to.push(x.clone());
        }
    }
}

impl Value {
    /// The text of a string, email or phone value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::Email(s) | Value::Phone(s) => Some(s),
            _ => None,
        }
    }

    /// The number of a number value.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The value of a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }

    /// The items of a list or tag value.
    pub fn as_strings(&self) -> Option<&[String]> {
        match self {
            Value::List(v) | Value::Tag(v) => Some(v),
            _ => None,
        }
    }
}

impl Value {
    /// `self` with the items of `other` it does not hold yet appended (see [`append_new`]),
    /// or `None` when the two are not lists of the same type.
    pub fn union(&self, other: &Value) -> Option<Value> {
        fn joined<T: PartialEq + Clone>(a: &[T], b: &[T]) -> Vec<T> {
            let mut out = a.to_vec();
            append_new(&mut out, b);
            out
        }
        match (self, other) {
            (Value::List(a), Value::List(b)) => Some(Value::List(joined(a, b))),
            (Value::Tag(a), Value::Tag(b)) => Some(Value::Tag(joined(a, b))),
            (Value::ListOfNumber(a), Value::ListOfNumber(b)) => {
                Some(Value::ListOfNumber(joined(a, b)))
            }
            _ => None,
        }
    }
}

mod format;
mod list;
mod number;
mod parse;
mod phone;

pub use format::{format_datetime, format_number, number_json, serde_datetime, serde_datetime_opt};
pub(crate) use format::{null_as_default, serde_count_opt, whole_number};
pub(crate) use list::tag_set;
pub(crate) use number::check_json_number;
pub(crate) use parse::{from_json_owned, parse_value_to_append};
pub use parse::{normalize_email, normalize_phone, parse_date, parse_datetime, parse_value};
pub(crate) use phone::is_punctuation as is_phone_punctuation;
pub(crate) use phone::national_number_parts;
pub use phone::{national_format_digits, national_number_digits};

/// Reference implementations and fast paths, exposed for the differential tests and the
/// benchmark. Not part of the stable API.
#[doc(hidden)]
pub mod internals {
    /// The plain `phonenumber` crate: `parse(None, text)` + `is_valid`, as E.164.
    pub fn phone_crate(text: &str) -> Option<String> {
        super::phone::crate_normalize(text.trim()).ok()
    }

    /// The phone fast path alone: `None` when it does not handle the text, else its verdict.
    pub fn phone_fast(text: &str) -> Option<Option<String>> {
        super::phone::fast_normalize(text.trim()).map(|r| r.ok())
    }

    /// `email_address` strict-mode verdict.
    pub fn email_crate(text: &str) -> bool {
        super::email::crate_verdict(text)
    }

    /// The email byte-level fast path: `None` when it defers to the crate.
    pub fn email_fast(text: &str) -> Option<bool> {
        super::email::fast_verdict(text).map(|r| r.is_ok())
    }
}
