//! A row's profile values packed into one byte string: per entry the interned key id, a
//! kind byte and the payload (text inline, numbers and times in fixed width); list values
//! stay as [`Value`]s beside it.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::filter::FieldValue;
use crate::value::Value;

const T_STRING: u8 = 0;
const T_EMAIL: u8 = 1;
const T_PHONE: u8 = 2;
const T_NUMBER: u8 = 3;
const T_BOOL: u8 = 4;
const T_DATE: u8 = 5;
const T_DATETIME: u8 = 6;
const T_LIST: u8 = 7;

/// The profile values of a row, by interned key id in ascending order.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Profile {
    blob: Box<[u8]>,
    lists: Box<[Value]>,
}

/// One profile value, borrowed from a [`Profile`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Pv<'a> {
    Str(&'a str),
    Email(&'a str),
    Phone(&'a str),
    Num(f64),
    Bool(bool),
    Date(NaiveDate),
    Dt(DateTime<Utc>),
    List(&'a Value),
}

impl<'a> Pv<'a> {
    /// The filter's view of the value.
    pub(crate) fn field_value(self) -> FieldValue<'a> {
        match self {
            Pv::Str(s) | Pv::Email(s) | Pv::Phone(s) => FieldValue::Text(s),
            Pv::Num(n) => FieldValue::Number(n),
            Pv::Bool(b) => FieldValue::Boolean(b),
            Pv::Date(d) => FieldValue::Date(d),
            Pv::Dt(t) => FieldValue::Datetime(t),
            Pv::List(v) => match v {
                Value::List(l) | Value::Tag(l) => FieldValue::Strings(l),
                Value::ListOfNumber(n) => FieldValue::Numbers(n),
                _ => FieldValue::Missing,
            },
        }
    }

    /// The owned value.
    pub(crate) fn to_value(self) -> Value {
        match self {
            Pv::Str(s) => Value::String(s.to_string()),
            Pv::Email(s) => Value::Email(s.to_string()),
            Pv::Phone(s) => Value::Phone(s.to_string()),
            Pv::Num(n) => Value::Number(n),
            Pv::Bool(b) => Value::Boolean(b),
            Pv::Date(d) => Value::Date(d),
            Pv::Dt(t) => Value::Datetime(t),
            Pv::List(v) => v.clone(),
        }
    }
}

impl Profile {
    /// Packs values sorted by key id.
    pub(crate) fn encode(entries: Vec<(u32, Value)>) -> Profile {
        let mut blob = Vec::with_capacity(entries.len() * 16);
        let mut lists = Vec::new();
        for (k, v) in entries {
            blob.extend_from_slice(&k.to_le_bytes());
            let text = |blob: &mut Vec<u8>, t: u8, s: &str| {
                blob.push(t);
                blob.extend_from_slice(&(s.len() as u32).to_le_bytes());
                blob.extend_from_slice(s.as_bytes());
            };
            match v {
                Value::String(s) => text(&mut blob, T_STRING, &s),
                Value::Email(s) => text(&mut blob, T_EMAIL, &s),
                Value::Phone(s) => text(&mut blob, T_PHONE, &s),
                Value::Number(n) => {
                    blob.push(T_NUMBER);
                    blob.extend_from_slice(&n.to_bits().to_le_bytes());
                }
                Value::Boolean(b) => {
                    blob.push(T_BOOL);
                    blob.push(u8::from(b));
                }
                Value::Date(d) => {
                    blob.push(T_DATE);
                    blob.extend_from_slice(&d.num_days_from_ce().to_le_bytes());
                }
                Value::Datetime(t) => {
                    blob.push(T_DATETIME);
                    blob.extend_from_slice(&t.timestamp().to_le_bytes());
                    blob.extend_from_slice(&t.timestamp_subsec_nanos().to_le_bytes());
                }
                v @ (Value::List(_) | Value::Tag(_) | Value::ListOfNumber(_)) => {
                    blob.push(T_LIST);
                    blob.extend_from_slice(&(lists.len() as u32).to_le_bytes());
                    lists.push(v);
                }
            }
        }
        Profile {
            blob: blob.into_boxed_slice(),
            lists: lists.into_boxed_slice(),
        }
    }

    /// Where the packed values start (to prefetch them).
    pub(crate) fn data_ptr(&self) -> *const u8 {
        self.blob.as_ptr()
    }

    /// Every (key id, value), in key order.
    pub(crate) fn iter(&self) -> ProfileIter<'_> {
        ProfileIter { p: self, at: 0 }
    }

    /// The value of one key.
    pub(crate) fn get(&self, key: u32) -> Option<Pv<'_>> {
        self.iter()
            .take_while(|(k, _)| *k <= key)
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }
}

/// Iterates a [`Profile`].
pub(crate) struct ProfileIter<'a> {
    p: &'a Profile,
    at: usize,
}

fn take<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    b.get(at..at + N)?.try_into().ok()
}

impl<'a> Iterator for ProfileIter<'a> {
    type Item = (u32, Pv<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let b: &'a [u8] = &self.p.blob;
        let at = self.at;
        let key = u32::from_le_bytes(take::<4>(b, at)?);
        let t = *b.get(at + 4)?;
        let p = at + 5;
        let (v, len) = match t {
            T_STRING | T_EMAIL | T_PHONE => {
                let n = u32::from_le_bytes(take::<4>(b, p)?) as usize;
                let s = std::str::from_utf8(b.get(p + 4..p + 4 + n)?).ok()?;
                let v = match t {
                    T_STRING => Pv::Str(s),
                    T_EMAIL => Pv::Email(s),
                    _ => Pv::Phone(s),
                };
                (v, 4 + n)
            }
            T_NUMBER => (
                Pv::Num(f64::from_bits(u64::from_le_bytes(take::<8>(b, p)?))),
                8,
            ),
            T_BOOL => (Pv::Bool(*b.get(p)? != 0), 1),
            T_DATE => (
                Pv::Date(NaiveDate::from_num_days_from_ce_opt(i32::from_le_bytes(
                    take::<4>(b, p)?,
                ))?),
                4,
            ),
            T_DATETIME => {
                let secs = i64::from_le_bytes(take::<8>(b, p)?);
                let nanos = u32::from_le_bytes(take::<4>(b, p + 8)?);
                (Pv::Dt(DateTime::from_timestamp(secs, nanos)?), 12)
            }
            T_LIST => {
                let i = u32::from_le_bytes(take::<4>(b, p)?) as usize;
                (Pv::List(self.p.lists.get(i)?), 4)
            }
            _ => return None,
        };
        self.at = p + len;
        Some((key, v))
    }
}
