//! A row's profile values packed into one byte string. Per entry: a head byte with the
//! value's kind in its low 4 bits and the interned key id in its high 4 (15: the key id
//! follows as a LEB128 varint), then the payload — text as a varint length and its bytes;
//! a number that is a whole number, or one with up to four decimals, as a zigzag varint
//! of its digits (the kind says how many decimals), which reads back as the very same
//! `f64`; any other number in 8 bytes; a phone number in E.164 form (`+` and up to 15
//! digits) as its digit count and two digits a byte; a date as a zigzag varint of its days from
//! 2020-01-01 (two bytes for 1998 to 2042); a
//! datetime in 12 bytes. List values stay as [`Value`]s beside the bytes. A member's
//! `memberId` leads the bytes as a text entry of its own kind, outside the profile.

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
/// A number kept as the zigzag varint of `n * 10^d`, where the kind is `T_SCALED + d`.
const T_SCALED: u8 = 8;
/// The most decimals a scaled number keeps.
const MAX_DECIMALS: u8 = 4;
const T_SCALED_LAST: u8 = T_SCALED + MAX_DECIMALS;
/// The row's `memberId` (not a profile value): first, or after `T_OTHER_ID`.
const T_MEMBER_ID: u8 = 13;
/// The row's id when it is not a `c_` + 12-digit id (not a profile value): first.
const T_OTHER_ID: u8 = 14;
/// `num_days_from_ce` of 2020-01-01, the day dates are counted from.
const DATE_EPOCH: i64 = 737_425;
/// A phone number in E.164 form, as its digit count and packed digits.
const T_PACKED_PHONE: u8 = 15;
/// The most digits an E.164 number has.
const MAX_PHONE_DIGITS: usize = 15;
/// The key nibble that says the key id follows as a varint.
const KEY_FOLLOWS: u8 = 15;

const POW10: [f64; MAX_DECIMALS as usize + 1] = [1.0, 10.0, 100.0, 1_000.0, 10_000.0];

/// `n` as (decimals, digits) when `digits / 10^decimals` gives back exactly `n` (not for
/// -0, infinities, NaN or digits beyond 2^53).
fn scaled(n: f64) -> Option<(u8, i64)> {
    if n == 0.0 && n.is_sign_negative() {
        return None;
    }
    for (d, p) in POW10.iter().enumerate() {
        let m = (n * p).round();
        if m.abs() < 9_007_199_254_740_992.0 && unscale(m as i64, d as u8)?.to_bits() == n.to_bits()
        {
            return Some((d as u8, m as i64));
        }
    }
    None
}

fn unscale(m: i64, d: u8) -> Option<f64> {
    let m = m as f64;
    Some(match d {
        0 => m,
        _ => m / POW10.get(usize::from(d))?,
    })
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

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
    Phone(PhoneStr<'a>),
    Num(f64),
    Bool(bool),
    Date(NaiveDate),
    Dt(DateTime<Utc>),
    List(&'a Value),
}

/// A phone number's text: in the profile bytes, or read from packed digits into a small
/// inline buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PhoneStr<'a> {
    Text(&'a str),
    Packed(PhoneText),
}

impl PhoneStr<'_> {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            PhoneStr::Text(s) => s,
            PhoneStr::Packed(p) => p.as_str(),
        }
    }
}

impl PartialEq for PhoneStr<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

/// `+` and up to 15 digits, held inline.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PhoneText {
    buf: [u8; MAX_PHONE_DIGITS + 1],
    len: u8,
}

impl PhoneText {
    pub(crate) fn as_str(&self) -> &str {
        // Only `+` and ASCII digits are ever written.
        std::str::from_utf8(self.buf.get(..usize::from(self.len)).unwrap_or_default())
            .unwrap_or_default()
    }
}

/// The digits of `s` when it is `+` and 1 to 15 ASCII digits.
fn e164_digits(s: &str) -> Option<&[u8]> {
    let d = s.strip_prefix('+')?.as_bytes();
    (!d.is_empty() && d.len() <= MAX_PHONE_DIGITS && d.iter().all(u8::is_ascii_digit)).then_some(d)
}

impl<'a> Pv<'a> {
    /// The filter's view of the value.
    pub(crate) fn field_value(&self) -> FieldValue<'_> {
        match self {
            Pv::Phone(p) => FieldValue::Text(p.as_str()),
            v => match v.into_field() {
                Ok(f) => f,
                Err(_) => FieldValue::Missing,
            },
        }
    }

    /// The filter's view of the value, borrowed from the profile bytes — except for a
    /// phone number, whose text may be held by the value itself (`Err`).
    pub(crate) fn into_field(self) -> Result<FieldValue<'a>, PhoneStr<'a>> {
        Ok(match self {
            Pv::Phone(p) => return Err(p),
            Pv::Str(s) | Pv::Email(s) => FieldValue::Text(s),
            Pv::Num(n) => FieldValue::Number(n),
            Pv::Bool(b) => FieldValue::Boolean(b),
            Pv::Date(d) => FieldValue::Date(d),
            Pv::Dt(t) => FieldValue::Datetime(t),
            Pv::List(v) => match v {
                Value::List(l) | Value::Tag(l) => FieldValue::Strings(l),
                Value::ListOfNumber(n) => FieldValue::Numbers(n),
                _ => FieldValue::Missing,
            },
        })
    }

    /// The owned value.
    pub(crate) fn to_value(self) -> Value {
        match self {
            Pv::Str(s) => Value::String(s.to_string()),
            Pv::Email(s) => Value::Email(s.to_string()),
            Pv::Phone(p) => Value::Phone(p.as_str().to_string()),
            Pv::Num(n) => Value::Number(n),
            Pv::Bool(b) => Value::Boolean(b),
            Pv::Date(d) => Value::Date(d),
            Pv::Dt(t) => Value::Datetime(t),
            Pv::List(v) => v.clone(),
        }
    }
}

impl Profile {
    /// Packs values sorted by key id, using `buf` as scratch space (so that the packed
    /// bytes are allocated once, at their size).
    pub(crate) fn encode(
        entries: Vec<(u32, &Value)>,
        other_id: Option<&str>,
        member_id: Option<&str>,
        buf: &mut Vec<u8>,
    ) -> Profile {
        let blob = buf;
        blob.clear();
        for (t, text) in [(T_OTHER_ID, other_id), (T_MEMBER_ID, member_id)] {
            if let Some(m) = text {
                blob.push(t);
                put_var(blob, m.len() as u64);
                blob.extend_from_slice(m.as_bytes());
            }
        }
        let mut lists = Vec::new();
        for (k, v) in entries {
            let head = |blob: &mut Vec<u8>, t: u8| match u8::try_from(k) {
                Ok(k) if k < KEY_FOLLOWS => blob.push(k << 4 | t),
                _ => {
                    blob.push(KEY_FOLLOWS << 4 | t);
                    put_var(blob, u64::from(k));
                }
            };
            let text = |blob: &mut Vec<u8>, t: u8, s: &str| {
                head(blob, t);
                put_var(blob, s.len() as u64);
                blob.extend_from_slice(s.as_bytes());
            };
            match v {
                Value::String(s) => text(blob, T_STRING, s),
                Value::Email(s) => text(blob, T_EMAIL, s),
                Value::Phone(s) => match e164_digits(s) {
                    Some(d) => {
                        head(blob, T_PACKED_PHONE);
                        blob.push(d.len() as u8);
                        for pair in d.chunks(2) {
                            let hi = pair.first().map_or(0, |c| c - b'0');
                            let lo = pair.get(1).map_or(0, |c| c - b'0');
                            blob.push(hi << 4 | lo);
                        }
                    }
                    None => text(blob, T_PHONE, s),
                },
                Value::Number(n) => match scaled(*n) {
                    Some((d, m)) => {
                        head(blob, T_SCALED + d);
                        put_var(blob, zigzag(m));
                    }
                    None => {
                        head(blob, T_NUMBER);
                        blob.extend_from_slice(&n.to_bits().to_le_bytes());
                    }
                },
                Value::Boolean(b) => {
                    head(blob, T_BOOL);
                    blob.push(u8::from(*b));
                }
                Value::Date(d) => {
                    head(blob, T_DATE);
                    put_var(blob, zigzag(i64::from(d.num_days_from_ce()) - DATE_EPOCH));
                }
                Value::Datetime(t) => {
                    head(blob, T_DATETIME);
                    blob.extend_from_slice(&t.timestamp().to_le_bytes());
                    blob.extend_from_slice(&t.timestamp_subsec_nanos().to_le_bytes());
                }
                v @ (Value::List(_) | Value::Tag(_) | Value::ListOfNumber(_)) => {
                    head(blob, T_LIST);
                    put_var(blob, lists.len() as u64);
                    lists.push(v.clone());
                }
            }
        }
        Profile {
            blob: Box::from(&blob[..]),
            lists: (!lists.is_empty()).then(|| Box::new(lists.into_boxed_slice())),
        }
    }

    /// Where the packed values start (to prefetch them).
    pub(crate) fn data_ptr(&self) -> *const u8 {
        self.blob.as_ptr()
    }

    /// Every (key id, value), in key order.
    pub(crate) fn iter(&self) -> ProfileIter<'_> {
        let (_, at) = self.lead_entry(T_OTHER_ID, 0);
        let (_, at) = self.lead_entry(T_MEMBER_ID, at);
        ProfileIter { p: self, at }
    }

    /// The `memberId` kept with the profile.
    pub(crate) fn member_id(&self) -> Option<&str> {
        let (_, at) = self.lead_entry(T_OTHER_ID, 0);
        self.lead_entry(T_MEMBER_ID, at).0
    }

    /// The row's id kept with the profile (when not a `c_` + 12-digit id).
    pub(crate) fn other_id(&self) -> Option<&str> {
        self.lead_entry(T_OTHER_ID, 0).0
    }

    /// The text entry of kind `t` at `at`, if there is one there, and where the entries
    /// after it start (`at` when there is none).
    #[inline]
    fn lead_entry(&self, t: u8, at: usize) -> (Option<&str>, usize) {
        let b: &[u8] = &self.blob;
        let entry = || {
            if *b.get(at)? != t {
                return None;
            }
            let (n, start) = get_var(b, at + 1)?;
            let end = start + n as usize;
            Some((std::str::from_utf8(b.get(start..end)?).ok()?, end))
        };
        match entry() {
            Some((s, end)) => (Some(s), end),
            None => (None, at),
        }
    }

    /// The value of one key.
    pub(crate) fn get(&self, key: u32) -> Option<Pv<'_>> {
        // The entries before it are stepped over by their lengths, not decoded (a row's
        // mobile number comes after its name and email).
        let b: &[u8] = &self.blob;
        let mut at = self.iter().at;
        loop {
            let head = *b.get(at)?;
            let (t, k) = (head & 0x0f, head >> 4);
            let (k, p) = if k < KEY_FOLLOWS {
                (u32::from(k), at + 1)
            } else {
                get_var(b, at + 1)?
            };
            if k == key {
                return ProfileIter { p: self, at }.next().map(|(_, v)| v);
            }
            if k > key {
                return None;
            }
            at = value_end(b, t, p)?;
        }
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
    let (v, i) = get_var64(b, at)?;
    u32::try_from(v).ok().map(|v| (v, i))
}

/// Reads the varint of up to 64 bits at `at`: its value and the index after it.
#[inline]
fn get_var64(b: &[u8], at: usize) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    let mut shift = 0;
    let mut i = at;
    loop {
        let byte = *b.get(i)?;
        // The tenth byte holds the 64th bit alone.
        if shift == 63 && byte > 1 {
            return None;
        }
        v |= u64::from(byte & 0x7f) << shift;
        i += 1;
        if byte < 0x80 {
            return Some((v, i));
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// Where a value of type `t` that starts at `p` ends, read from its length alone (the
/// lengths [`ProfileIter`] reads, without decoding the value).
fn value_end(b: &[u8], t: u8, p: usize) -> Option<usize> {
    Some(match t {
        T_STRING | T_EMAIL | T_PHONE => {
            let (n, start) = get_var(b, p)?;
            start.checked_add(n as usize)?
        }
        T_NUMBER => p + 8,
        T_BOOL => p + 1,
        T_DATE | T_SCALED..=T_SCALED_LAST => get_var64(b, p)?.1,
        T_PACKED_PHONE => p + 1 + usize::from(*b.get(p)?).div_ceil(2),
        T_DATETIME => p + 12,
        T_LIST => get_var(b, p)?.1,
        _ => return None,
    })
}

impl<'a> Iterator for ProfileIter<'a> {
    type Item = (u32, Pv<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let b: &'a [u8] = &self.p.blob;
        let head = *b.get(self.at)?;
        let (t, key) = (head & 0x0f, head >> 4);
        let (key, p) = if key < KEY_FOLLOWS {
            (u32::from(key), self.at + 1)
        } else {
            get_var(b, self.at + 1)?
        };
        let (v, len) = match t {
            T_STRING | T_EMAIL | T_PHONE => {
                let (n, start) = get_var(b, p)?;
                let n = n as usize;
                let s = std::str::from_utf8(b.get(start..start + n)?).ok()?;
                let v = match t {
                    T_STRING => Pv::Str(s),
                    T_EMAIL => Pv::Email(s),
                    _ => Pv::Phone(PhoneStr::Text(s)),
                };
                (v, start - p + n)
            }
            T_NUMBER => (
                Pv::Num(f64::from_bits(u64::from_le_bytes(take::<8>(b, p)?))),
                8,
            ),
            T_BOOL => (Pv::Bool(*b.get(p)? != 0), 1),
            T_DATE => {
                let (z, end) = get_var64(b, p)?;
                let days = i32::try_from(unzigzag(z).checked_add(DATE_EPOCH)?).ok()?;
                (
                    Pv::Date(NaiveDate::from_num_days_from_ce_opt(days)?),
                    end - p,
                )
            }
            T_PACKED_PHONE => {
                let n = usize::from(*b.get(p)?);
                let packed = b.get(p + 1..p + 1 + n.div_ceil(2))?;
                let mut t = PhoneText {
                    buf: [0; MAX_PHONE_DIGITS + 1],
                    len: u8::try_from(n + 1).ok()?,
                };
                *t.buf.first_mut()? = b'+';
                for i in 0..n {
                    let byte = *packed.get(i / 2)?;
                    let digit = if i % 2 == 0 { byte >> 4 } else { byte & 0x0f };
                    *t.buf.get_mut(i + 1)? = b'0' + digit;
                }
                (Pv::Phone(PhoneStr::Packed(t)), 1 + packed.len())
            }
            T_SCALED..=T_SCALED_LAST => {
                let (z, end) = get_var64(b, p)?;
                (Pv::Num(unscale(unzigzag(z), t - T_SCALED)?), end - p)
            }
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
            // Texts only partly like E.164: too long, empty, other characters.
            "\\+?[0-9]{0,20}".prop_map(Value::Phone),
            "[0-9+ ()٣-]{0,20}".prop_map(Value::Phone),
            any::<f64>().prop_map(Value::Number),
            // Whole numbers and decimals of every width, small and past 2^53.
            (any::<i64>(), 0u32..6)
                .prop_map(|(m, d)| Value::Number(m as f64 / 10f64.powi(d as i32))),
            (-1000i64..1000, 0u32..6)
                .prop_map(|(m, d)| Value::Number(m as f64 / 10f64.powi(d as i32))),
            Just(Value::Number(-0.0)),
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
            ),
            member_id in proptest::option::of(".{0,200}"),
            other_id in proptest::option::of(".{0,200}"),
        ) {
            let entries: Vec<(u32, Value)> = entries.into_iter().collect();
            let p = Profile::encode(entries.iter().map(|(k, v)| (*k, v)).collect(), other_id.as_deref(), member_id.as_deref(), &mut Vec::new());
            prop_assert_eq!(p.member_id(), member_id.as_deref());
            prop_assert_eq!(p.other_id(), other_id.as_deref());
            let back: Vec<(u32, Value)> = p.iter().map(|(k, v)| (k, v.to_value())).collect();
            prop_assert_eq!(back.len(), entries.len());
            for ((k, v), (bk, bv)) in entries.iter().zip(&back) {
                prop_assert_eq!(k, bk);
                match (v, bv) {
                    (Value::Number(a), Value::Number(b)) => prop_assert_eq!(a.to_bits(), b.to_bits()),
                    _ => prop_assert_eq!(v, bv),
                }
            }
            // A lookup by key, which steps over the entries before it, finds what the
            // iteration finds, for every key held and for keys between and past them.
            let mut keys: Vec<u32> = entries.iter().map(|(k, _)| *k).collect();
            keys.extend(entries.iter().map(|(k, _)| k.saturating_add(1)));
            keys.extend([0, u32::MAX]);
            for k in keys {
                let found = p.iter().find(|(x, _)| *x == k).map(|(_, v)| v.to_value());
                match (p.get(k).map(|v| v.to_value()), found) {
                    (Some(Value::Number(a)), Some(Value::Number(b))) => prop_assert_eq!(a.to_bits(), b.to_bits()),
                    (got, want) => prop_assert_eq!(got, want, "key {}", k),
                }
            }
        }
    }

    #[test]
    fn e164_numbers_are_packed_two_digits_a_byte() {
        for (phone, bytes) in [
            ("+821012345678", 8),
            ("+1", 3),
            ("+999999999999999", 10),
            // Not E.164 (16 digits; no plus): kept as text.
            ("+9999999999999999", 19),
            ("821012345678", 14),
        ] {
            let p = Profile::encode(
                vec![(3, &Value::Phone(phone.into()))],
                None,
                None,
                &mut Vec::new(),
            );
            assert_eq!(p.blob.len(), bytes, "{phone}");
            assert_eq!(p.get(3).map(Pv::to_value), Some(Value::Phone(phone.into())));
        }
    }

    #[test]
    fn dates_are_counted_from_2020() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(i64::from(day("2020-01-01").num_days_from_ce()), DATE_EPOCH);
        for (d, bytes) in [("2025-06-30", 3), ("1998-01-01", 3), ("1900-01-01", 4)] {
            let p = Profile::encode(vec![(0, &Value::Date(day(d)))], None, None, &mut Vec::new());
            assert_eq!(p.blob.len(), bytes, "{d}");
            assert_eq!(p.get(0), Some(Pv::Date(day(d))));
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
        // 64 bits read back whole; past 64 bits is nothing.
        for v in [u64::from(u32::MAX) + 1, u64::MAX - 1, u64::MAX] {
            let mut b = Vec::new();
            put_var(&mut b, v);
            assert_eq!(get_var64(&b, 0), Some((v, b.len())), "{v}");
        }
        let mut over = vec![0xff; 9];
        over.push(0x02);
        assert_eq!(get_var64(&over, 0), None);
        // Over 32 bits, or a run that never ends, reads as nothing.
        let mut b = Vec::new();
        put_var(&mut b, u64::from(u32::MAX) + 1);
        assert_eq!(get_var(&b, 0), None);
        assert_eq!(get_var(&[0x80; 9], 0), None);
    }
}
