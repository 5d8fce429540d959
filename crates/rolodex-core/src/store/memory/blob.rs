//! A row's profile values packed into one byte string: per entry the interned key id (a
//! LEB128 varint, one byte for the first 128 keys), a kind byte and the payload (text as a
//! varint length and its bytes, numbers and times in fixed width); list values stay as
//! [`Value`]s beside it.

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
    /// List values, boxed twice so that a profile without lists (most) costs the row 8
    /// bytes here instead of 16.
    lists: Option<Box<Box<[Value]>>>,
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
            put_var(&mut blob, u64::from(k));
            let text = |blob: &mut Vec<u8>, t: u8, s: &str| {
                blob.push(t);
                put_var(blob, s.len() as u64);
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
                    put_var(&mut blob, lists.len() as u64);
                    lists.push(v);
                }
            }
        }
        Profile {
            blob: blob.into_boxed_slice(),
            lists: (!lists.is_empty()).then(|| Box::new(lists.into_boxed_slice())),
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

/// Appends `v` as an unsigned LEB128 varint (hand-written: a few lines, where a crate
/// would add a dependency for two functions).
fn put_var(blob: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        blob.push((v as u8) | 0x80);
        v >>= 7;
    }
    blob.push(v as u8);
}

/// Reads the varint at `at`: its value and the index after it. `None` past the end or for
/// a value over 32 bits.
#[inline]
fn get_var(b: &[u8], at: usize) -> Option<(u32, usize)> {
    let first = *b.get(at)?;
    if first < 0x80 {
        return Some((u32::from(first), at + 1));
    }
    let mut v: u64 = 0;
    let mut shift = 0;
    let mut i = at;
    loop {
        let byte = *b.get(i)?;
        v |= u64::from(byte & 0x7f) << shift;
        i += 1;
        if byte < 0x80 {
            return u32::try_from(v).ok().map(|v| (v, i));
        }
        shift += 7;
        if shift > 28 {
            return None;
        }
    }
}

impl<'a> Iterator for ProfileIter<'a> {
    type Item = (u32, Pv<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let b: &'a [u8] = &self.p.blob;
        let (key, at) = get_var(b, self.at)?;
        let t = *b.get(at)?;
        let p = at + 1;
        let (v, len) = match t {
            T_STRING | T_EMAIL | T_PHONE => {
                let (n, start) = get_var(b, p)?;
                let n = n as usize;
                let s = std::str::from_utf8(b.get(start..start + n)?).ok()?;
                let v = match t {
                    T_STRING => Pv::Str(s),
                    T_EMAIL => Pv::Email(s),
                    _ => Pv::Phone(s),
                };
                (v, start - p + n)
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
                let (i, end) = get_var(b, p)?;
                (Pv::List(self.p.lists.as_deref()?.get(i as usize)?), end - p)
            }
            _ => return None,
        };
        self.at = p + len;
        Some((key, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            ".{0,300}".prop_map(Value::String),
            "[a-z]{1,20}@[a-z]{1,10}\\.com".prop_map(Value::Email),
            "\\+[0-9]{8,15}".prop_map(Value::Phone),
            any::<f64>().prop_map(Value::Number),
            any::<bool>().prop_map(Value::Boolean),
            (-100_000i32..3_000_000).prop_filter_map("a date", |d| {
                NaiveDate::from_num_days_from_ce_opt(d).map(Value::Date)
            }),
            (-10_000_000_000i64..10_000_000_000, 0u32..1_000_000_000)
                .prop_filter_map("a datetime", |(s, n)| DateTime::from_timestamp(s, n)
                    .map(Value::Datetime)),
            proptest::collection::vec(".{0,20}", 0..4).prop_map(Value::List),
        ]
    }

    proptest! {
        /// Every value reads back as written, under key ids of every varint width and
        /// texts longer than one length byte.
        #[test]
        fn profile_reads_back_what_it_packed(
            entries in proptest::collection::btree_map(
                prop_oneof![0u32..200, 100u32..20_000, any::<u32>()],
                value(),
                0..12,
            )
        ) {
            let entries: Vec<(u32, Value)> = entries.into_iter().collect();
            let p = Profile::encode(entries.clone());
            let back: Vec<(u32, Value)> = p.iter().map(|(k, v)| (k, v.to_value())).collect();
            prop_assert_eq!(back.len(), entries.len());
            for ((k, v), (bk, bv)) in entries.iter().zip(&back) {
                prop_assert_eq!(k, bk);
                match (v, bv) {
                    (Value::Number(a), Value::Number(b)) => prop_assert_eq!(a.to_bits(), b.to_bits()),
                    _ => prop_assert_eq!(v, bv),
                }
            }
            for (k, _) in &entries {
                prop_assert!(p.get(*k).is_some());
            }
        }
    }

    #[test]
    fn varints_round_trip_at_their_width_edges() {
        for v in [
            0u32,
            1,
            127,
            128,
            16_383,
            16_384,
            2_097_151,
            2_097_152,
            u32::MAX,
        ] {
            let mut b = Vec::new();
            put_var(&mut b, u64::from(v));
            assert_eq!(get_var(&b, 0), Some((v, b.len())), "{v}");
            assert_eq!(get_var(&b[..b.len() - 1], 0), None, "{v} cut short");
        }
        // Over 32 bits, or a run that never ends, reads as nothing.
        let mut b = Vec::new();
        put_var(&mut b, u64::from(u32::MAX) + 1);
        assert_eq!(get_var(&b, 0), None);
        assert_eq!(get_var(&[0x80; 9], 0), None);
    }
}
