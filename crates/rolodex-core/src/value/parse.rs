//! Parsing of text and JSON into typed values (R-VAL-1..9). TO BE IMPLEMENTED.

use chrono::{DateTime, NaiveDate, Utc};

use super::{FieldType, Value};
use crate::error::Result;

/// Parses a cell of text as a value of type `ft` (R-VAL). The text is trimmed first; an
/// empty cell is a `Validation` error here (callers decide what empty means).
pub fn parse_value(ft: FieldType, text: &str) -> Result<Value> {
    let _ = (ft, text);
    todo!()
}

/// See [`Value::from_json`].
pub(crate) fn from_json(ft: FieldType, json: &serde_json::Value) -> Result<Value> {
    let _ = (ft, json);
    todo!()
}

/// Parses a datetime in any form of R-VAL-5.
pub fn parse_datetime(text: &str) -> Result<DateTime<Utc>> {
    let _ = text;
    todo!()
}

/// Parses a date `YYYY-MM-DD` (R-VAL-5).
pub fn parse_date(text: &str) -> Result<NaiveDate> {
    let _ = text;
    todo!()
}

/// Normalises a phone number with a country code to E.164 (R-VAL-2).
pub fn normalize_phone(text: &str) -> Result<String> {
    let _ = text;
    todo!()
}

/// Validates an email address and lower-cases its domain (R-VAL-3).
pub fn normalize_email(text: &str) -> Result<String> {
    let _ = text;
    todo!()
}
