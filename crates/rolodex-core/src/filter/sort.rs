//! Sorting (R-FLT-7): sort spec validation, the comparator, and the keyset cursor.
//!
//! Rows are ordered by the sort values, missing values last in both directions, then by id
//! in the direction of the first sort key (so the default, `createdAt` descending, lists
//! the newest first even within one millisecond). A cursor holds the sort values and id of
//! the last row of a page; the next page is every row strictly after it, so a contact
//! whose sort values did not change is never repeated or skipped while others change.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value as J};

use super::compile::{Field, TextMode};
use super::eval::FieldValue;
use super::model::{SortKey, SortOrder};
use crate::contact::Contact;
use crate::error::{Error, Result};
use crate::schema::Schema;
use crate::text::{fold, fold_cow};

/// How a text `s` sorts against a text sort value `t` (already folded when `folded`): as
/// comparing `t` with `s` folded (or as it stands), without folding a copy where `s` is
/// ASCII, which folds to lower case.
pub(crate) fn compare_sort_text(s: &str, folded: bool, t: &str) -> Ordering {
    match folded {
        true if s.is_ascii() => s.bytes().map(|b| b.to_ascii_lowercase()).cmp(t.bytes()),
        true => fold_cow(s).as_ref().cmp(t),
        false => s.cmp(t),
    }
}

/// The most sort keys one query may name.
pub const MAX_SORT_KEYS: usize = 16;

/// One value a row is sorted by.
#[derive(Debug, Clone, PartialEq)]
pub enum SortVal {
    /// Text: folded for case-insensitive keys, as stored for `id`, `memberId` and phones.
    Text(String),
    /// A number.
    Number(f64),
    /// A boolean (`false` first).
    Boolean(bool),
    /// A date.
    Date(NaiveDate),
    /// An instant.
    Datetime(DateTime<Utc>),
    /// A list of strings (folded), compared item by item.
    Strings(Vec<String>),
    /// A list of numbers, compared item by item.
    Numbers(Vec<f64>),
}

impl SortVal {
    fn rank(&self) -> u8 {
        match self {
            SortVal::Text(_) => 0,
            SortVal::Number(_) => 1,
            SortVal::Boolean(_) => 2,
            SortVal::Date(_) => 3,
            SortVal::Datetime(_) => 4,
            SortVal::Strings(_) => 5,
            SortVal::Numbers(_) => 6,
        }
    }

    fn cmp_val(&self, other: &SortVal) -> Ordering {
        match (self, other) {
            (SortVal::Text(a), SortVal::Text(b)) => a.cmp(b),
            (SortVal::Number(a), SortVal::Number(b)) => a.total_cmp(b),
            (SortVal::Boolean(a), SortVal::Boolean(b)) => a.cmp(b),
            (SortVal::Date(a), SortVal::Date(b)) => a.cmp(b),
            (SortVal::Datetime(a), SortVal::Datetime(b)) => a.cmp(b),
            (SortVal::Strings(a), SortVal::Strings(b)) => a.cmp(b),
            (SortVal::Numbers(a), SortVal::Numbers(b)) => {
                for (x, y) in a.iter().zip(b) {
                    let o = x.total_cmp(y);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                a.len().cmp(&b.len())
            }
            _ => self.rank().cmp(&other.rank()),
        }
    }

    fn to_json(&self) -> J {
        match self {
            SortVal::Text(s) => json!({ "s": s }),
            SortVal::Number(n) => json!({ "n": n.to_bits() }),
            SortVal::Boolean(b) => json!({ "b": b }),
            SortVal::Date(d) => json!({ "d": d.format("%Y-%m-%d").to_string() }),
            SortVal::Datetime(t) => json!({ "t": [t.timestamp(), t.timestamp_subsec_nanos()] }),
            SortVal::Strings(l) => json!({ "l": l }),
            SortVal::Numbers(l) => {
                json!({ "ln": l.iter().map(|n| n.to_bits()).collect::<Vec<_>>() })
            }
        }
    }

    fn from_json(v: &J) -> Option<SortVal> {
        let o = v.as_object()?;
        if o.len() != 1 {
            return None;
        }
        let (k, v) = o.iter().next()?;
        Some(match k.as_str() {
            "s" => SortVal::Text(v.as_str()?.to_string()),
            "n" => SortVal::Number(f64::from_bits(v.as_u64()?)),
            "b" => SortVal::Boolean(v.as_bool()?),
            "d" => SortVal::Date(NaiveDate::parse_from_str(v.as_str()?, "%Y-%m-%d").ok()?),
            "t" => {
                let a = v.as_array()?;
                if a.len() != 2 {
                    return None;
                }
                let secs = a[0].as_i64()?;
                let nanos = u32::try_from(a[1].as_u64()?).ok()?;
                SortVal::Datetime(DateTime::from_timestamp(secs, nanos)?)
            }
            "l" => SortVal::Strings(
                v.as_array()?
                    .iter()
                    .map(|x| x.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()?,
            ),
            "ln" => SortVal::Numbers(
                v.as_array()?
                    .iter()
                    .map(|x| x.as_u64().map(f64::from_bits))
                    .collect::<Option<Vec<_>>>()?,
            ),
            _ => return None,
        })
    }
}

/// The position of a row in a sort: its sort values (`None` = missing) and its id.
#[derive(Debug, Clone, PartialEq)]
pub struct RowKey {
    /// One value per sort key.
    pub values: Vec<Option<SortVal>>,
    /// The contact's id (the final tie-break).
    pub id: String,
}

#[derive(Debug, Clone, PartialEq)]
struct SortField {
    key: String,
    field: Field,
    mode: TextMode,
    desc: bool,
}

/// A validated sort: the keys with their fields and directions.
#[derive(Debug, Clone, PartialEq)]
pub struct SortSpec {
    fields: Vec<SortField>,
}

/// A sort that cannot be used: a `Filter` error, since the sort is part of the query
/// document of `FILTER.md`, at the path of the bad sort key (`sort[1]`, or `sort`).
fn sort_err(at: Option<usize>, expected: &str, message: String) -> Error {
    Error::Filter {
        path: at.map_or_else(|| "sort".to_string(), |i| format!("sort[{i}]")),
        message: format!("{message}; expected {expected}"),
    }
}

impl SortSpec {
    /// The default order: `createdAt` descending, then id (R-FLT-7).
    pub fn default_order() -> SortSpec {
        SortSpec {
            fields: vec![SortField {
                key: "createdAt".into(),
                field: Field::CreatedAt,
                mode: TextMode::Folded,
                desc: true,
            }],
        }
    }

    /// Validates sort keys against the schema: each a known, non-archived key, named once,
    /// at most [`MAX_SORT_KEYS`]. An empty list gives the default order. Problems are
    /// `Filter` errors at the sort key's path (`sort[0]`), naming the key.
    pub fn new(keys: &[SortKey], schema: &Schema) -> Result<SortSpec> {
        if keys.is_empty() {
            return Ok(SortSpec::default_order());
        }
        if keys.len() > MAX_SORT_KEYS {
            return Err(sort_err(
                None,
                &format!("at most {MAX_SORT_KEYS} sort keys"),
                format!("the sort names {} keys", keys.len()),
            ));
        }
        let mut fields = Vec::with_capacity(keys.len());
        for (i, k) in keys.iter().enumerate() {
            let name = k.key.as_str();
            // An unknown key named outside a filter is `NotFound` (API.md); the sort's other
            // faults are faults of the query document, `Filter` errors at their path.
            let def = schema.get(name).ok_or_else(|| {
                Error::not_found(
                    "data key",
                    name,
                    &format!("sort[{i}] names a key the schema does not have; sort by a defined key, a built-in key or a system field"),
                )
            })?;
            if def.archived {
                return Err(sort_err(
                    Some(i),
                    "a key that is not archived (restore it first)",
                    format!("cannot sort by the archived key {name:?}"),
                ));
            }
            if fields.iter().any(|f: &SortField| f.key == name) {
                return Err(sort_err(
                    Some(i),
                    "each sort key once",
                    format!("the key {name:?} is named twice in the sort"),
                ));
            }
            let field = Field::of(def).ok_or_else(|| {
                sort_err(
                    Some(i),
                    "a sortable key",
                    format!("the key {name:?} cannot be sorted by"),
                )
            })?;
            let mode = if matches!(field, Field::Id | Field::MemberId) || def.field_type.is_phone()
            {
                TextMode::Exact
            } else {
                TextMode::Folded
            };
            fields.push(SortField {
                key: name.to_string(),
                field,
                mode,
                desc: k.order == SortOrder::Desc,
            });
        }
        Ok(SortSpec { fields })
    }

    /// The first sort key's field and whether it is descending.
    pub fn first(&self) -> Option<(&Field, bool)> {
        self.fields.first().map(|f| (&f.field, f.desc))
    }

    /// How the first sort key's text values compare (folded or exact).
    pub(crate) fn first_mode(&self) -> Option<TextMode> {
        self.fields.first().map(|f| f.mode)
    }

    /// The sort keys, as given (or the default).
    pub fn keys(&self) -> Vec<SortKey> {
        self.fields
            .iter()
            .map(|f| {
                SortKey::new(
                    f.key.clone(),
                    if f.desc {
                        SortOrder::Desc
                    } else {
                        SortOrder::Asc
                    },
                )
            })
            .collect()
    }

    /// The position of `c` in this sort.
    pub fn key_of(&self, c: &Contact) -> RowKey {
        RowKey {
            values: (0..self.fields.len())
                .map(|i| self.sort_val(i, self.fields[i].field.get(c)))
                .collect(),
            id: c.id.clone(),
        }
    }

    /// The fields of the sort keys, in order (for stores that build [`RowKey`]s from their
    /// own layout with [`SortSpec::sort_val`]).
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().map(|f| &f.field)
    }

    /// The sort value of the `i`-th key for a field value `v` (`None`: missing).
    pub fn sort_val(&self, i: usize, v: FieldValue<'_>) -> Option<SortVal> {
        let f = self.fields.get(i)?;
        match v {
            FieldValue::Missing => None,
            FieldValue::Text(s) => Some(SortVal::Text(match f.mode {
                TextMode::Folded => fold(s),
                _ => s.to_string(),
            })),
            FieldValue::Number(n) => Some(SortVal::Number(n)),
            FieldValue::Boolean(b) => Some(SortVal::Boolean(b)),
            FieldValue::Date(d) => Some(SortVal::Date(d)),
            FieldValue::Datetime(t) => Some(SortVal::Datetime(t)),
            FieldValue::Strings([]) => None,
            FieldValue::Strings(l) => Some(SortVal::Strings(l.iter().map(|s| fold(s)).collect())),
            FieldValue::Numbers([]) => None,
            FieldValue::Numbers(l) => Some(SortVal::Numbers(l.to_vec())),
        }
    }

    /// The first key's part of [`SortSpec::compare_parts`] between a row's value `v` of it
    /// and a position's sort value `other` (`None`: missing), direction applied: as
    /// comparing `self.sort_val(0, v)` with `other`, without building the sort value where
    /// a text compares as it stands or folds as ASCII does (to lower case). A page picked
    /// from many rows turns most of them away with this against the worst row it keeps.
    pub fn compare_first(&self, v: FieldValue<'_>, other: Option<&SortVal>) -> Ordering {
        let Some(f) = self.fields.first() else {
            return Ordering::Equal;
        };
        let o = match (v, other) {
            (FieldValue::Text(s), Some(SortVal::Text(t))) => {
                compare_sort_text(s, f.mode == TextMode::Folded, t)
            }
            (v, other) => match (self.sort_val(0, v), other) {
                (None, None) => return Ordering::Equal,
                (None, Some(_)) => return Ordering::Greater,
                (Some(_), None) => return Ordering::Less,
                (Some(x), Some(y)) => x.cmp_val(y),
            },
        };
        if f.desc {
            o.reverse()
        } else {
            o
        }
    }

    /// The number of sort keys.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there is no sort key (never, once compiled: the default is `createdAt`).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Orders two row positions: sort values (missing last in both directions), then id in
    /// the first key's direction.
    pub fn compare(&self, a: &RowKey, b: &RowKey) -> Ordering {
        self.compare_parts(
            |i| a.values.get(i).and_then(Option::as_ref),
            |i| b.values.get(i).and_then(Option::as_ref),
            a.id.cmp(&b.id),
        )
    }

    /// [`SortSpec::compare`] over borrowed parts: each position's `i`-th sort value, and
    /// how the two ids compare in their natural (ascending) order.
    pub fn compare_parts<'x, 'y>(
        &self,
        a: impl Fn(usize) -> Option<&'x SortVal>,
        b: impl Fn(usize) -> Option<&'y SortVal>,
        ids: Ordering,
    ) -> Ordering {
        for (i, f) in self.fields.iter().enumerate() {
            let o = match (a(i), b(i)) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(x), Some(y)) => {
                    let o = x.cmp_val(y);
                    if f.desc {
                        o.reverse()
                    } else {
                        o
                    }
                }
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        if self.fields.first().is_some_and(|f| f.desc) {
            ids.reverse()
        } else {
            ids
        }
    }

    /// Orders two contacts.
    pub fn compare_contacts(&self, a: &Contact, b: &Contact) -> Ordering {
        self.compare(&self.key_of(a), &self.key_of(b))
    }

    /// The opaque cursor of a row position (hex of a small JSON document that also names
    /// the sort, so a cursor cannot be replayed under another order).
    pub fn encode_cursor(&self, k: &RowKey) -> String {
        let doc = json!({
            "k": self.fields.iter().map(|f| json!([f.key, if f.desc { "desc" } else { "asc" }])).collect::<Vec<_>>(),
            "v": k.values.iter().map(|v| v.as_ref().map_or(J::Null, SortVal::to_json)).collect::<Vec<_>>(),
            "id": k.id,
        });
        hex_encode(doc.to_string().as_bytes())
    }

    /// Reads a cursor made by [`SortSpec::encode_cursor`] for this same sort; anything else
    /// is a `Validation` error.
    pub fn decode_cursor(&self, cursor: &str) -> Result<RowKey> {
        let bad = |why: &str| Error::Validation {
            key: Some("cursor".into()),
            text: Some(crate::error::cut_text(cursor)),
            expected: "the nextCursor of a previous page of the same query".into(),
            message: format!("invalid cursor: {why}; start again without a cursor"),
        };
        if cursor.len() > 1 << 20 {
            return Err(bad("too long"));
        }
        let bytes = hex_decode(cursor.trim()).ok_or_else(|| bad("not a cursor"))?;
        let doc: J = serde_json::from_slice(&bytes).map_err(|_| bad("not a cursor"))?;
        let keys = doc
            .get("k")
            .and_then(J::as_array)
            .ok_or_else(|| bad("not a cursor"))?;
        let same_sort = keys.len() == self.fields.len()
            && keys
                .iter()
                .zip(&self.fields)
                .all(|(k, f)| *k == json!([f.key, if f.desc { "desc" } else { "asc" }]));
        if !same_sort {
            return Err(bad("it belongs to a query with another sort"));
        }
        let vals = doc
            .get("v")
            .and_then(J::as_array)
            .ok_or_else(|| bad("not a cursor"))?;
        if vals.len() != self.fields.len() {
            return Err(bad("not a cursor"));
        }
        let mut values = Vec::with_capacity(vals.len());
        for v in vals {
            values.push(if v.is_null() {
                None
            } else {
                Some(SortVal::from_json(v).ok_or_else(|| bad("not a cursor"))?)
            });
        }
        let id = doc
            .get("id")
            .and_then(J::as_str)
            .ok_or_else(|| bad("not a cursor"))?;
        Ok(RowKey {
            values,
            id: id.to_string(),
        })
    }

    /// Whether `c` comes strictly after the cursor position.
    pub fn is_after(&self, cursor: &RowKey, c: &Contact) -> bool {
        self.compare(cursor, &self.key_of(c)) == Ordering::Less
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    let val = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    s.as_bytes()
        .chunks(2)
        .map(|p| Some(val(p[0])? << 4 | val(p[1])?))
        .collect()
}
