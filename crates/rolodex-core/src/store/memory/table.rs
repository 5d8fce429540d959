//! The contacts of one channel as compact rows, with every index kept up to date by diffing
//! a row's old and new values.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread::JoinHandle;

use chrono::{DateTime, Utc};
use roaring::RoaringBitmap;

use super::blob::{PhoneStr, Profile, Pv};
use super::index::{
    add_rows, date_key, dt_key, fingerprint, grams_push, grams_push_lower, millis_key, num_key,
    post_insert, post_insert_many, post_remove, prefetch, Fingerprints, FxMap, Ordered, Posting,
    SeqRows, Trigrams, DATE_SHIFT, DT_SHIFT, NUM_SHIFT,
};
use super::ledger::{Ledger, LedgerAt};
use super::tags::{TagInterner, TagLists};
use super::text_order::TextOrders;
use super::zones::Zones;
use crate::contact::{Contact, ContactState, EncodedProfile, Profile as ContactProfile, Verified};
use crate::filter::{digits, Field, FieldValue};
use crate::identity::{email_key, email_key_cow};
use crate::text::fold_cow;
use crate::value::{national_format_digits, national_number_parts, Value};

/// A contact id: the number of a `c_` + 12-digit id, or any other text. Ordered as the id
/// text is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum IdKey {
    Seq(u64),
    Other(Box<str>),
}

fn seq_text(n: u64) -> [u8; 14] {
    let mut b = *b"c_000000000000";
    let mut n = n;
    for i in (2..14).rev() {
        b[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    b
}

/// The sequence number of row `r`'s id, if it is a `c_` + 12-digit id.
#[inline]
fn seq_of(rows: &[Option<Row>], r: u32) -> Option<u64> {
    rows.get(r as usize)?.as_ref()?.seq()
}

impl IdKey {
    pub(crate) fn of(id: &str) -> IdKey {
        match parse_seq(id) {
            Some(n) => IdKey::Seq(n),
            None => IdKey::Other(id.into()),
        }
    }

    pub(crate) fn as_ref(&self) -> IdRef<'_> {
        match self {
            IdKey::Seq(n) => IdRef::Seq(*n),
            IdKey::Other(s) => IdRef::Other(s),
        }
    }
}

/// A contact id borrowed from a row: the number of a `c_` + 12-digit id, or any other
/// text. Ordered as the id text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdRef<'a> {
    Seq(u64),
    Other(&'a str),
}

impl IdRef<'_> {
    pub(crate) fn text(self) -> String {
        match self {
            IdRef::Seq(n) => crate::contact::sequence_id(n),
            IdRef::Other(s) => String::from(s),
        }
    }

    pub(crate) fn to_key(self) -> IdKey {
        match self {
            IdRef::Seq(n) => IdKey::Seq(n),
            IdRef::Other(s) => IdKey::Other(s.into()),
        }
    }
}

impl Ord for IdRef<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (IdRef::Seq(a), IdRef::Seq(b)) => a.cmp(b),
            (IdRef::Other(a), IdRef::Other(b)) => a.cmp(b),
            (IdRef::Seq(a), IdRef::Other(b)) => seq_text(*a)[..].cmp(b.as_bytes()),
            (IdRef::Other(a), IdRef::Seq(b)) => a.as_bytes().cmp(&seq_text(*b)[..]),
        }
    }
}
impl PartialOrd for IdRef<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for IdKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_ref().cmp(&other.as_ref())
    }
}
impl PartialOrd for IdKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The number of a `c_` + 12-digit id.
pub(crate) fn parse_seq(id: &str) -> Option<u64> {
    let d = id.strip_prefix("c_")?;
    if d.len() != 12 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    d.parse().ok()
}

const F_MEMBER: u16 = 1;
const F_V_EMAIL: u16 = 2;
const F_V_MOBILE: u16 = 4;
const F_UE_SET: u16 = 8;
const F_UE: u16 = 16;
const F_UT_SET: u16 = 32;
const F_UT: u16 = 64;
const F_BLOCKED: u16 = 128;
const F_HIDDEN: u16 = 256;
const F_BOOTED: u16 = 512;
/// Has a `memberId`, an email or a mobile number (R-MU-1): set with the row, so that the
/// MU checks of every state write need not decode the profile.
const F_INFO: u16 = 1024;

/// One contact, compactly: interned profile keys and tags, flags in bits.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// The number of a `c_` + 12-digit id, or [`OTHER_ID`]: the id is some other text,
    /// kept at the head of the profile bytes (8 bytes here for every id, where an
    /// `IdKey` takes 16).
    seq: u64,
    /// Profile values by interned key id, sorted by key id, and the `memberId` of a member
    /// (kept in the same bytes: no field or allocation of its own).
    profile: Profile,
    /// Both tag lists, shared with every row that holds the same ones (`None`: no tags).
    tags: Option<Arc<TagLists>>,
    created_at: Micros,
    updated_at: Micros,
    last_seen_at: Micros,
    /// The flags (`F_*`) in the low 16 bits, the session count above them.
    state: u64,
}

/// [`Row::seq`] of a row whose id is not a `c_` + 12-digit id (whose number is below
/// 10^12).
pub(crate) const OTHER_ID: u64 = u64::MAX;

/// A time in whole microseconds since the Unix epoch: the book keeps times to the
/// millisecond (`ContactBook::now`), a store given finer times keeps them to the
/// microsecond (as PostgreSQL does), and 8 bytes hold every time chrono
/// can express where `DateTime<Utc>` takes 12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Micros(i64);

impl Micros {
    fn of(t: &DateTime<Utc>) -> Micros {
        Micros(t.timestamp_micros())
    }
    pub(crate) fn get(self) -> DateTime<Utc> {
        // Every stored value came from a `DateTime`, so it converts back.
        DateTime::from_timestamp_micros(self.0).unwrap_or_default()
    }
    fn millis(self) -> i64 {
        self.0.div_euclid(1000)
    }
}

/// The bits of [`Row::state`] below the session count.
const FLAG_BITS: u32 = 16;
/// The largest session count a row keeps (2^48 - 1: more boots than any contact can
/// make; a larger count is kept as this).
const MAX_SESSIONS: u64 = (1 << (64 - FLAG_BITS)) - 1;

impl Row {
    fn flag(&self, f: u16) -> bool {
        self.flags() & f != 0
    }
    fn flags(&self) -> u16 {
        (self.state & 0xffff) as u16
    }
    fn set_flags(&mut self, f: u16) {
        self.state = (self.state & !0xffff) | u64::from(f);
    }
    pub(crate) fn session_count(&self) -> u64 {
        self.state >> FLAG_BITS
    }
    fn set_session_count(&mut self, n: u64) {
        self.state = (n.min(MAX_SESSIONS) << FLAG_BITS) | u64::from(self.flags());
    }
    pub(crate) fn blocked(&self) -> bool {
        self.flag(F_BLOCKED)
    }
    pub(crate) fn hidden(&self) -> bool {
        self.flag(F_HIDDEN)
    }
    pub(crate) fn member_id(&self) -> Option<&str> {
        self.profile.member_id()
    }
    /// The number of a `c_` + 12-digit id.
    #[inline]
    pub(crate) fn seq(&self) -> Option<u64> {
        (self.seq != OTHER_ID).then_some(self.seq)
    }
    /// The contact's id.
    pub(crate) fn id(&self) -> IdRef<'_> {
        match self.seq() {
            Some(n) => IdRef::Seq(n),
            None => IdRef::Other(self.profile.other_id().unwrap_or_default()),
        }
    }
    /// Where the row's profile values and member id are held, to prefetch.
    pub(crate) fn heap_ptr(&self) -> *const u8 {
        self.profile.data_ptr()
    }
    pub(crate) fn profile(&self, key: u32) -> Option<Pv<'_>> {
        self.profile.get(key)
    }
    /// `Contact::name`.
    pub(crate) fn name(&self) -> Option<&str> {
        as_name(self.profile(KEY_NAME))
    }
    /// `Contact::email`.
    pub(crate) fn email(&self) -> Option<&str> {
        as_email(self.profile(KEY_EMAIL))
    }
    /// `Contact::mobile_number`.
    pub(crate) fn mobile(&self) -> Option<PhoneStr<'_>> {
        as_mobile(self.profile(KEY_MOBILE))
    }
    fn has_contact_info(&self) -> bool {
        self.flag(F_INFO)
    }
    /// Where the row sits in its MU ledger: (`lastSeenAt`, `createdAt`) in milliseconds.
    fn ledger_at(&self) -> LedgerAt {
        (self.last_seen_at.millis(), self.created_at.millis())
    }
}

/// Interned key id of `profile.name`.
pub(crate) const KEY_NAME: u32 = 0;
/// Interned key id of `profile.email`.
pub(crate) const KEY_EMAIL: u32 = 1;
/// Interned key id of `profile.mobileNumber`.
pub(crate) const KEY_MOBILE: u32 = 2;

/// Where a filter field's values live in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Id,
    Sys(usize),
    Profile(u32),
    /// A profile key no contact has ever held.
    Absent,
}

pub(crate) const S_MEMBER_ID: usize = 0;
pub(crate) const S_MEMBER: usize = 1;
pub(crate) const S_TAGS: usize = 2;
pub(crate) const S_IMPORT_TAGS: usize = 3;
pub(crate) const S_UE: usize = 4;
pub(crate) const S_UT: usize = 5;
pub(crate) const S_BLOCKED: usize = 6;
pub(crate) const S_CREATED: usize = 7;
pub(crate) const S_UPDATED: usize = 8;
pub(crate) const S_LAST_SEEN: usize = 9;
pub(crate) const S_SESSIONS: usize = 10;
const N_SYS: usize = 11;

/// A row's value of a field: borrowed, or the tag texts of interned tags.
pub(crate) enum Fv<'a> {
    B(FieldValue<'a>),
    Tags(Vec<String>),
    Phone(PhoneStr<'a>),
}

impl Fv<'_> {
    pub(crate) fn get(&self) -> FieldValue<'_> {
        match self {
            Fv::B(v) => *v,
            Fv::Tags(t) => FieldValue::Strings(t),
            Fv::Phone(p) => FieldValue::Text(p.as_str()),
        }
    }
}

/// The indexes of one field.
#[derive(Debug, Clone)]
pub(crate) struct FieldIx {
    /// Rows with a non-empty value.
    pub(crate) exists: RoaringBitmap,
    /// Text values by folded text (not kept for a field with `fps`, whose table answers
    /// the same lookups without holding a copy of every text).
    pub(crate) text: FxMap<Box<str>, Posting>,
    /// Text values with exactly one `@`, by the folded text after it (an email's domain):
    /// exact answers to `contains "@gmail.com"`.
    pub(crate) at: FxMap<Box<str>, Posting>,
    /// Rows whose folded text holds more than one `@`.
    pub(crate) at_multi: RoaringBitmap,
    /// How many non-empty text values hold no `@`, and how many start with `+`: a lookup
    /// by a term of the other shape (an email, a phone number) can be skipped.
    pub(crate) no_at: u64,
    pub(crate) plus: u64,
    pub(crate) num: Ordered,
    pub(crate) dt: Ordered,
    pub(crate) date: Ordered,
    /// `[false, true]`.
    pub(crate) bools: [RoaringBitmap; 2],
    /// List items by folded text.
    pub(crate) list: BTreeMap<Box<str>, RoaringBitmap>,
    /// Number list items by number key.
    pub(crate) numlist: FxMap<u64, RoaringBitmap>,
    /// How many rows hold a value of each kind (text, number, boolean, date, datetime,
    /// strings, numbers).
    pub(crate) kinds: [u64; 7],
    /// Folded text values by fingerprint, for the fields multi-term search looks up in bulk
    /// (`memberId`, name, email, mobile number): a flat table that a batch of lookups can
    /// prefetch (see [`Fingerprints`]), and that holds no copy of the texts.
    pub(crate) fps: Option<Fingerprints>,
    /// The field's texts are looked up in the table's identity lookups ([`Table::ident`],
    /// kept current by writes), not here: neither `text` nor `fps` holds them.
    pub(crate) texts_elsewhere: bool,
}

impl Default for FieldIx {
    fn default() -> Self {
        FieldIx {
            exists: RoaringBitmap::new(),
            text: FxMap::default(),
            at: FxMap::default(),
            at_multi: RoaringBitmap::new(),
            no_at: 0,
            plus: 0,
            num: Ordered::new(NUM_SHIFT),
            dt: Ordered::new(DT_SHIFT),
            date: Ordered::new(DATE_SHIFT),
            bools: [RoaringBitmap::new(), RoaringBitmap::new()],
            list: BTreeMap::new(),
            numlist: FxMap::default(),
            kinds: [0; 7],
            fps: None,
            texts_elsewhere: false,
        }
    }
}

pub(crate) const K_TEXT: usize = 0;
pub(crate) const K_NUM: usize = 1;
pub(crate) const K_BOOL: usize = 2;
pub(crate) const K_DATE: usize = 3;
pub(crate) const K_DT: usize = 4;
/// The kind count of string and tag lists.
const K_STRINGS: usize = 5;

impl FieldIx {
    /// The index of profile key `k`: the name's keeps fingerprints for multi-term search,
    /// as the identity lookups do; the email's and mobile number's texts are identity
    /// lookups.
    fn for_key(k: u32) -> FieldIx {
        let mut ix = FieldIx::default();
        match k {
            KEY_NAME => ix.fps = Some(Fingerprints::default()),
            KEY_EMAIL | KEY_MOBILE => ix.texts_elsewhere = true,
            _ => {}
        }
        ix
    }

    /// The index of system field `i`: `memberId`'s texts are an identity lookup.
    fn for_sys(i: usize) -> FieldIx {
        FieldIx {
            texts_elsewhere: i == S_MEMBER_ID,
            ..FieldIx::default()
        }
    }

    /// Whether some text value of this field might fold to a text of this shape (holding
    /// an `@` or not, starting with `+` or not); `false`: a lookup of it is sure to miss.
    pub(crate) fn may_hold_shape(&self, has_at: bool, plus: bool) -> bool {
        (if has_at {
            !self.at.is_empty() || !self.at_multi.is_empty()
        } else {
            self.no_at > 0
        }) && (!plus || self.plus > 0)
    }

    fn update(&mut self, r: u32, v: FieldValue<'_>, add: bool) {
        if !v.is_empty() {
            if add {
                self.exists.insert(r);
            } else {
                self.exists.remove(r);
            }
        }
        let kind = match v {
            FieldValue::Missing => return,
            FieldValue::Text("") => K_TEXT,
            FieldValue::Text(s) => {
                let k = fold_cow(s);
                match &mut self.fps {
                    Some(fps) if add => fps.insert(fingerprint(&k), r),
                    Some(fps) => fps.remove(fingerprint(&k), r),
                    None => {}
                }
                self.text_postings(&k, &[r], add);
                K_TEXT
            }
            FieldValue::Number(n) => {
                if add {
                    self.num.insert(num_key(n), r);
                } else {
                    self.num.remove(num_key(n), r);
                }
                K_NUM
            }
            FieldValue::Boolean(b) => {
                if add {
                    self.bools[usize::from(b)].insert(r);
                } else {
                    self.bools[usize::from(b)].remove(r);
                }
                K_BOOL
            }
            FieldValue::Date(d) => {
                if add {
                    self.date.insert(date_key(&d), r);
                } else {
                    self.date.remove(date_key(&d), r);
                }
                K_DATE
            }
            FieldValue::Datetime(t) => {
                if add {
                    self.dt.insert(dt_key(&t), r);
                } else {
                    self.dt.remove(dt_key(&t), r);
                }
                K_DT
            }
            FieldValue::Strings(items) => {
                for it in items {
                    let k = fold_cow(it);
                    if add {
                        if let Some(b) = self.list.get_mut(k.as_ref()) {
                            b.insert(r);
                        } else {
                            let mut b = RoaringBitmap::new();
                            b.insert(r);
                            self.list.insert(k.as_ref().into(), b);
                        }
                    } else if let Some(b) = self.list.get_mut(k.as_ref()) {
                        b.remove(r);
                        if b.is_empty() {
                            self.list.remove(k.as_ref());
                        }
                    }
                }
                5
            }
            FieldValue::Numbers(items) => {
                for n in items {
                    let k = num_key(*n);
                    if add {
                        self.numlist.entry(k).or_default().insert(r);
                    } else if let Some(b) = self.numlist.get_mut(&k) {
                        b.remove(r);
                        if b.is_empty() {
                            self.numlist.remove(&k);
                        }
                    }
                }
                6
            }
        };
        if add {
            self.kinds[kind] += 1;
        } else {
            self.kinds[kind] = self.kinds[kind].saturating_sub(1);
        }
    }

    /// Adds the values of rows that held none before (a batch's new rows), leaving the
    /// index as [`FieldIx::update`] would one row at a time: numbers, dates, instants and
    /// booleans go to their bitmaps a run of rows at a time (runs of one bucket for the
    /// ordered indexes), and so does `exists`; texts are gathered by text, so each distinct
    /// text is folded and its postings looked up once ([`FieldIx::text_postings`]); lists,
    /// and the texts of a field with a fingerprint table, go one by one.
    fn add_many(&mut self, items: &[(u32, FieldValue<'_>)]) {
        let mut texts = TextGroups::default();
        let mut exists: Vec<u32> = Vec::with_capacity(items.len());
        let mut bools: [Vec<u32>; 2] = Default::default();
        let mut nums: Vec<(u64, u32)> = Vec::new();
        let mut dts: Vec<(u64, u32)> = Vec::new();
        let mut dates: Vec<(u64, u32)> = Vec::new();
        for &(r, v) in items {
            let kind = match v {
                FieldValue::Missing => continue,
                FieldValue::Number(n) => {
                    nums.push((num_key(n), r));
                    K_NUM
                }
                FieldValue::Datetime(t) => {
                    dts.push((dt_key(&t), r));
                    K_DT
                }
                FieldValue::Date(d) => {
                    dates.push((date_key(&d), r));
                    K_DATE
                }
                FieldValue::Boolean(b) => {
                    bools[usize::from(b)].push(r);
                    K_BOOL
                }
                FieldValue::Text("") if self.fps.is_none() => {
                    self.kinds[K_TEXT] += 1;
                    continue;
                }
                FieldValue::Text(s) if self.fps.is_none() => {
                    texts.push(s, r);
                    K_TEXT
                }
                _ => {
                    self.update(r, v, true);
                    continue;
                }
            };
            // Never empty: only a missing value or an empty list is.
            exists.push(r);
            self.kinds[kind] += 1;
        }
        add_rows(&mut self.exists, &exists);
        for (b, rows) in self.bools.iter_mut().zip(&bools) {
            add_rows(b, rows);
        }
        self.num.add_many(&nums);
        self.dt.add_many(&dts);
        self.date.add_many(&dates);
        // A batch's new texts, each folded and its postings looked up once for its rows.
        texts.each(|s, rows| self.text_postings(&fold_cow(s), rows, true));
    }

    /// The postings and shape counts of the folded text `k` (not empty) for each of `rows`
    /// (no row twice): added, or removed. The posting map by text is kept only for a field
    /// without a fingerprint table; [`FieldIx::update`] keeps the table.
    fn text_postings(&mut self, k: &str, rows: &[u32], add: bool) {
        let n = rows.len() as u64;
        let count = |c: &mut u64| {
            *c = if add { *c + n } else { c.saturating_sub(n) };
        };
        if self.fps.is_none() && !self.texts_elsewhere {
            if add {
                post_insert_many(&mut self.text, k, rows);
            } else {
                for r in rows {
                    post_remove(&mut self.text, k, *r);
                }
            }
        }
        if k.starts_with('+') {
            count(&mut self.plus);
        }
        let Some(i) = k.find('@') else {
            count(&mut self.no_at);
            return;
        };
        let after = &k[i + 1..];
        match (after.contains('@'), add) {
            (true, true) => {
                for r in rows {
                    self.at_multi.insert(*r);
                }
            }
            (true, false) => {
                for r in rows {
                    self.at_multi.remove(*r);
                }
            }
            (false, true) => post_insert_many(&mut self.at, after, rows),
            (false, false) => {
                for r in rows {
                    post_remove(&mut self.at, after, *r);
                }
            }
        }
    }
}

/// The rows of a batch's new texts gathered by text, each text's rows in the order they
/// came: one list of rows cut by text (a count, then a placement), not a list for each text,
/// since a field of free text has about as many texts as rows.
#[derive(Default)]
struct TextGroups<'a> {
    /// Each text's place in `texts`.
    at: FxMap<&'a str, u32>,
    /// Each text with its number of rows.
    texts: Vec<(&'a str, usize)>,
    /// Each row with its text's place.
    rows: Vec<(u32, u32)>,
}

impl<'a> TextGroups<'a> {
    fn push(&mut self, s: &'a str, r: u32) {
        let texts = &mut self.texts;
        let i = *self.at.entry(s).or_insert_with(|| {
            texts.push((s, 0));
            texts.len() as u32 - 1
        });
        if let Some(t) = self.texts.get_mut(i as usize) {
            t.1 += 1;
        }
        self.rows.push((r, i));
    }

    /// Calls `f` with each text and its rows, texts in the order they first came.
    fn each(self, mut f: impl FnMut(&str, &[u32])) {
        // Where each text's rows start, then each row put at its text's next place.
        let mut next: Vec<usize> = Vec::with_capacity(self.texts.len());
        let mut end = 0;
        for (_, n) in &self.texts {
            next.push(end);
            end += n;
        }
        let mut placed = vec![0u32; self.rows.len()];
        for (r, i) in &self.rows {
            if let Some(at) = next.get_mut(*i as usize) {
                if let Some(slot) = placed.get_mut(*at) {
                    *slot = *r;
                }
                *at += 1;
            }
        }
        let mut start = 0;
        for (s, n) in self.texts {
            f(s, placed.get(start..start + n).unwrap_or_default());
            start += n;
        }
    }
}

/// The profile key names of a table by interned key id, and each id's place among the
/// names in text order.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyNames {
    names: Vec<Box<str>>,
    rank: Vec<u32>,
}

impl KeyNames {
    /// A profile as a map. The entries are put in name order first, so that the map
    /// is built in one pass over them, not by an insert (and its search) for each.
    fn map(&self, profile: &Profile) -> BTreeMap<String, Value> {
        const INLINE: usize = 16;
        let name = |k: u32| {
            self.names
                .get(k as usize)
                .map(|s| String::from(&**s))
                .unwrap_or_default()
        };
        let mut slots: [Option<(u32, u32, Pv<'_>)>; INLINE] = [None; INLINE];
        let mut n = 0;
        for (k, v) in profile.iter() {
            let Some(slot) = slots.get_mut(n) else {
                // More keys than fit here: one insert each.
                return profile
                    .iter()
                    .map(|(k, v)| (name(k), v.to_value()))
                    .collect();
            };
            *slot = Some((self.rank.get(k as usize).copied().unwrap_or(u32::MAX), k, v));
            n += 1;
        }
        let items = slots.get_mut(..n).unwrap_or_default();
        items.sort_unstable_by_key(|s| s.map(|(rank, _, _)| rank));
        let mut entries = Vec::with_capacity(n);
        for (_, k, v) in items.iter().flatten() {
            entries.push((name(*k), v.to_value()));
        }
        // Already in order: the map's own sort finds one run, and the map is built whole.
        BTreeMap::from_iter(entries)
    }
}

/// A row's profile handed out with a contact: a copy of its bytes, decoded when the
/// contact's profile is first read ([`crate::contact::Profile`]).
#[derive(Debug, Clone)]
struct RowProfile {
    profile: Profile,
    keys: Arc<KeyNames>,
}

impl EncodedProfile for RowProfile {
    fn decode(&self) -> BTreeMap<String, Value> {
        self.keys.map(&self.profile)
    }
    fn clone_box(&self) -> Box<dyn EncodedProfile> {
        Box::new(self.clone())
    }
}

/// One channel's contacts and their indexes.
#[derive(Debug)]
pub(crate) struct Table {
    rows: Vec<Option<Row>>,
    free: Vec<u32>,
    by_seq: SeqRows,
    by_other: FxMap<Box<str>, u32>,
    /// The profile key names by interned id, shared with the contacts handed out with
    /// their profiles still encoded ([`RowProfile`]).
    keys: Arc<KeyNames>,
    key_ids: FxMap<Box<str>, u32>,
    tag_names: Vec<Box<str>>,
    tag_ids: FxMap<Box<str>, u32>,
    /// The rows' tag lists.
    tag_lists: TagInterner,
    /// A buffer for a row's tag ids while they are interned.
    tag_buf: Vec<u32>,
    /// A buffer for a row's profile while it is packed.
    blob_buf: Vec<u8>,
    /// Every stored row.
    pub(crate) live: RoaringBitmap,
    pub(crate) blocked: RoaringBitmap,
    pub(crate) hidden: RoaringBitmap,
    /// The identity lookups: the rows of each folded `memberId`, email and mobile number
    /// by fingerprint, which writes keep current ([`Table::reindex_now`]), by
    /// [`ident_of`] their slot. (The rest of those fields' indexes are search indexes.)
    ident: [Fingerprints; 3],
    /// The search indexes, which lag behind writes until a flush ([`Table::flush`]).
    search: SearchIx,
    /// A flush bringing the search indexes up to date on a background thread, which holds
    /// them meanwhile (`search` is then empty): see [`Table::flush_behind`].
    behind: Option<JoinHandle<Option<SearchIx>>>,
    /// Makes every flush panic (behind, or here) while set, to test what that leaves.
    #[cfg(test)]
    pub(crate) fail_flush: bool,
    /// How many rows hold a `memberId` that case folding changes.
    pub(crate) member_unfolded: u64,
    /// Rows with a non-ASCII email, by `email_key`.
    email_nonascii: FxMap<Box<str>, Posting>,
    visible: Ledger,
    hidden_ledger: Ledger,
    /// Rows whose search indexes lag behind the row, each with the row as those indexes
    /// last saw it (`None`: not indexed at all). See [`Table::flush`].
    pending: Vec<(u32, Option<Row>)>,
    /// The rows of `pending`.
    pending_rows: RoaringBitmap,
    /// Rows not in `pending` whose `updatedAt`, `lastSeenAt` and `sessionCount` indexes lag
    /// behind visits ([`Table::touch_at`]), each with the keys those indexes hold for it:
    /// moved in batches ([`Table::flush_touched`]) instead of each visit reading a random
    /// bucket of each.
    touched: FxMap<u32, [u64; 3]>,
    /// Last boots kept apart from `lastSeenAt` ([`Contact::last_boot_at`]), by contact id:
    /// only a merge sets one, and the next boot clears it, so the row holds no room for it.
    last_boot: FxMap<IdKey, Micros>,
    /// Bounds on the rows' time keys by block of rows, which every row write widens.
    zones: Zones,
    /// The orders of the text keys pages were sorted by, which every row write marks.
    pub(super) text_orders: TextOrders,
}

/// The batch size from which a flush brings the quick-search indexes up to date on a
/// second thread (small in unit tests, so that their property tests take both ways).
const PARALLEL_AT: usize = if cfg!(test) { 4 } else { 1024 };

/// The (gram, row) pairs to remove from and to add to one trigram index.
type GramChanges = (Vec<(u32, u32)>, Vec<(u32, u32)>);

/// The quick-search indexes of a table, each by the key id of its field (the name, the
/// email and the mobile number are keys 0 to 2): the trigrams of the folded name, the
/// folded email and the mobile digits, and the rows holding each (of those kinds). A flush
/// takes them out of the table to bring them up to date beside its other indexes
/// ([`Table::flush`]).
#[derive(Debug, Default)]
pub(crate) struct QuickIx {
    pub(crate) tri: [Trigrams; 3],
    pub(crate) has: [RoaringBitmap; 3],
}

/// The field indexes a flush brings up to date, by system field and by profile key id.
/// The texts of `memberId`, email and mobile number are looked up in the identity lookups
/// instead ([`Table::ident`], which writes keep current); the rest of those fields'
/// indexes are here.
#[derive(Debug, Default)]
pub(crate) struct FieldIxs {
    sys: Vec<FieldIx>,
    prof: Vec<FieldIx>,
}

/// The search indexes: the field indexes and the quick-search ones, which lag behind
/// writes until a flush ([`Table::flush`]). The default is empty: what the table holds
/// while a flush runs behind.
#[derive(Debug, Default)]
pub(crate) struct SearchIx {
    fields: FieldIxs,
    pub(crate) quick: QuickIx,
}

impl SearchIx {
    /// The indexes of a table with no rows and `keys` profile keys.
    fn new(keys: usize) -> SearchIx {
        SearchIx {
            fields: FieldIxs {
                sys: (0..N_SYS).map(FieldIx::for_sys).collect(),
                prof: (0..keys as u32).map(FieldIx::for_key).collect(),
            },
            quick: QuickIx::default(),
        }
    }

    /// Brings the indexes of a batch of rows from `old` to `new`. With `beside`, a batch
    /// of [`PARALLEL_AT`] rows or more has its quick-search indexes brought up to date on
    /// a second thread beside the field indexes (when the system gives one; else one after
    /// the other): the two share nothing but the rows, which both only read.
    fn reindex(
        &mut self,
        names: &(impl TagText + ?Sized),
        batch: &[(u32, Option<&Row>, Option<&Row>)],
        beside: bool,
    ) {
        let SearchIx { fields, quick } = self;
        if !beside || batch.len() < PARALLEL_AT {
            fields.reindex(names, batch);
            quick.reindex(batch);
            return;
        }
        let quick = parking_lot::Mutex::new(quick);
        std::thread::scope(|scope| {
            let side = std::thread::Builder::new()
                .name("rolodex-index".into())
                .spawn_scoped(scope, || quick.lock().reindex(batch))
                .ok();
            fields.reindex(names, batch);
            match side {
                Some(h) => {
                    if let Err(panic) = h.join() {
                        std::panic::resume_unwind(panic);
                    }
                }
                None => quick.lock().reindex(batch),
            }
        });
    }
}

/// A flush running behind ([`Table::flush_behind`]): the search indexes, the batch of rows
/// to bring them up to date with (each row's number, the row as the indexes hold it and
/// the row as it was written), and the texts of the batch's tags.
struct Behind {
    ix: SearchIx,
    batch: Vec<(u32, Option<Row>, Option<Row>)>,
    names: FxMap<u32, Box<str>>,
    /// Makes the flush panic, to test what a panic behind leaves.
    #[cfg(test)]
    fail: bool,
}

impl Behind {
    fn run(self) -> SearchIx {
        #[cfg(test)]
        if self.fail {
            panic!("a flush behind failed (as the test asked)");
        }
        let Behind {
            mut ix,
            batch,
            names,
            ..
        } = self;
        let pairs: Vec<(u32, Option<&Row>, Option<&Row>)> = batch
            .iter()
            .map(|(r, old, new)| (*r, old.as_ref(), new.as_ref()))
            .collect();
        ix.reindex(&names, &pairs, false);
        ix
    }
}

impl QuickIx {
    pub(crate) const NAME: usize = KEY_NAME as usize;
    pub(crate) const EMAIL: usize = KEY_EMAIL as usize;
    pub(crate) const MOBILE: usize = KEY_MOBILE as usize;

    /// Brings the quick-search indexes of a batch of rows from `old` to `new`: every gram
    /// change of the batch, applied gram by gram.
    fn reindex(&mut self, batch: &[(u32, Option<&Row>, Option<&Row>)]) {
        // Room for the grams of the batch's new rows (a name, an email and a phone number
        // give about 10, 20 and 15), so the lists do not grow by copying along the way.
        let new_rows = batch
            .iter()
            .filter(|(_, o, n)| o.is_none() && n.is_some())
            .count();
        let mut tri: [GramChanges; 3] =
            [12, 24, 16].map(|per| (Vec::new(), Vec::with_capacity(new_rows * per)));
        let mut buf: Vec<u32> = Vec::with_capacity(64);
        let mut national: Vec<u8> = Vec::new();
        // The name, email and mobile number are keys 0 to 2, listed first.
        fn quick(row: Option<&Row>) -> [Option<Pv<'_>>; 3] {
            let mut v: [Option<Pv<'_>>; 3] = [None; 3];
            for (k, x) in row.into_iter().flat_map(|x| x.profile.iter()) {
                match v.get_mut(k as usize) {
                    Some(slot) => *slot = Some(x),
                    None => break,
                }
            }
            v
        }
        for &(r, old, new) in batch {
            let (o, n) = (quick(old), quick(new));
            let mobiles = (as_mobile(o[2]), as_mobile(n[2]));
            let texts: [(Option<&str>, Option<&str>); 3] = [
                (as_name(o[0]), as_name(n[0])),
                (as_email(o[1]), as_email(n[1])),
                (
                    mobiles.0.as_ref().map(PhoneStr::as_str),
                    mobiles.1.as_ref().map(PhoneStr::as_str),
                ),
            ];
            for (which, (o, n)) in texts.into_iter().enumerate() {
                if o == n {
                    continue;
                }
                // Repeats are kept here; the batch drops them ([`Trigrams::apply_batch`]).
                let mut grams = |s: &str, buf: &mut Vec<u32>| match which {
                    2 => phone_grams(s, buf, &mut national),
                    _ => {
                        buf.clear();
                        if s.is_ascii() {
                            // ASCII folds to its lower case, taken byte by byte here.
                            grams_push_lower(s.as_bytes(), buf);
                        } else {
                            grams_push([fold_cow(s).as_bytes()], buf);
                        }
                    }
                };
                let (Some(changes), Some(has)) = (tri.get_mut(which), self.has.get_mut(which))
                else {
                    continue;
                };
                if let Some(s) = o {
                    grams(s, &mut buf);
                    changes.0.extend(buf.iter().map(|g| (*g, r)));
                    has.remove(r);
                }
                if let Some(s) = n {
                    grams(s, &mut buf);
                    changes.1.extend(buf.iter().map(|g| (*g, r)));
                    has.insert(r);
                }
            }
        }
        for (ix, (removes, adds)) in self.tri.iter_mut().zip(tri) {
            ix.apply_batch(removes, adds);
        }
    }
}

/// Tag texts by interned id: the table's, or those of a batch flushed behind
/// ([`Table::flush_behind`]). An unknown id is an empty text.
pub(crate) trait TagText {
    /// The text of tag `id`.
    fn tag_text(&self, id: u32) -> &str;
}

impl TagText for [Box<str>] {
    fn tag_text(&self, id: u32) -> &str {
        self.get(id as usize).map_or("", |s| s)
    }
}

impl TagText for FxMap<u32, Box<str>> {
    fn tag_text(&self, id: u32) -> &str {
        self.get(&id).map_or("", |s| s)
    }
}

/// The texts of interned tags.
fn tag_texts(names: &(impl TagText + ?Sized), ids: &[u32]) -> Vec<String> {
    ids.iter().map(|i| names.tag_text(*i).to_string()).collect()
}

/// A row's value of a slot, its tags named by `names`.
fn slot_value<'a>(names: &(impl TagText + ?Sized), row: &'a Row, s: Slot) -> Fv<'a> {
    Fv::B(match s {
        Slot::Id => return Fv::Tags(Vec::new()),
        Slot::Absent => FieldValue::Missing,
        Slot::Profile(k) => match row.profile(k).map(Pv::into_field) {
            None => FieldValue::Missing,
            Some(Ok(v)) => v,
            Some(Err(p)) => return Fv::Phone(p),
        },
        Slot::Sys(i) => match i {
            S_MEMBER_ID => row
                .member_id()
                .map_or(FieldValue::Missing, FieldValue::Text),
            S_MEMBER => FieldValue::Boolean(row.flag(F_MEMBER)),
            S_TAGS => return Fv::Tags(tag_texts(names, row.tag_ids())),
            S_IMPORT_TAGS => return Fv::Tags(tag_texts(names, row.import_tag_ids())),
            S_UE => {
                if row.flag(F_UE_SET) {
                    FieldValue::Boolean(row.flag(F_UE))
                } else {
                    FieldValue::Missing
                }
            }
            S_UT => {
                if row.flag(F_UT_SET) {
                    FieldValue::Boolean(row.flag(F_UT))
                } else {
                    FieldValue::Missing
                }
            }
            S_BLOCKED => FieldValue::Boolean(row.flag(F_BLOCKED)),
            S_CREATED => FieldValue::Datetime(row.created_at.get()),
            S_UPDATED => FieldValue::Datetime(row.updated_at.get()),
            S_LAST_SEEN => FieldValue::Datetime(row.last_seen_at.get()),
            S_SESSIONS => FieldValue::Number(row.session_count() as f64),
            _ => FieldValue::Missing,
        },
    })
}

/// A row's own instant in `s` (`createdAt`, `updatedAt`, `lastSeenAt`) in microseconds,
/// read in place; `None` for any other slot. A sorted page reads it for every row of a
/// bucket, where building the `DateTime` and taking it apart again cost most of the walk.
pub(crate) fn instant_micros(row: &Row, s: Slot) -> Option<i64> {
    match s {
        Slot::Sys(S_CREATED) => Some(row.created_at.0),
        Slot::Sys(S_UPDATED) => Some(row.updated_at.0),
        Slot::Sys(S_LAST_SEEN) => Some(row.last_seen_at.0),
        _ => None,
    }
}

/// Which MU ledger holds a row: `Some(true)` the hidden one, `Some(false)` the visible one
/// (R-MU-1: a blocked contact is in neither, a visible one only with contact info).
fn ledger_side(row: &Row) -> Option<bool> {
    if row.blocked() {
        None
    } else if row.hidden() {
        Some(true)
    } else if row.has_contact_info() {
        Some(false)
    } else {
        None
    }
}

/// A name, if the value is one (the value of `KEY_NAME`).
fn as_name(v: Option<Pv<'_>>) -> Option<&str> {
    match v {
        Some(Pv::Str(s)) => Some(s),
        _ => None,
    }
}

/// An email, if the value is one (the value of `KEY_EMAIL`).
fn as_email(v: Option<Pv<'_>>) -> Option<&str> {
    match v {
        Some(Pv::Email(s)) => Some(s),
        _ => None,
    }
}

/// A phone number, if the value is one (the value of `KEY_MOBILE`).
fn as_mobile(v: Option<Pv<'_>>) -> Option<PhoneStr<'_>> {
    match v {
        Some(Pv::Phone(p)) => Some(p),
        _ => None,
    }
}

/// The interned ids of a row's tag field (`S_TAGS` or `S_IMPORT_TAGS`).
fn interned(x: &Row, i: usize) -> Option<&[u32]> {
    match i {
        S_TAGS => Some(x.tag_ids()),
        S_IMPORT_TAGS => Some(x.import_tag_ids()),
        _ => None,
    }
}

/// How many rows may wait for their search indexes before a write brings them up to date.
/// (Small in unit tests, so that their property tests write on while flushes run behind.)
const FLUSH_AT: usize = if cfg!(test) { 16 } else { 4096 };

impl Default for Table {
    fn default() -> Self {
        let mut t = Table {
            rows: Vec::new(),
            free: Vec::new(),
            by_seq: SeqRows::default(),
            by_other: FxMap::default(),
            keys: Arc::default(),
            key_ids: FxMap::default(),
            tag_names: Vec::new(),
            tag_ids: FxMap::default(),
            tag_lists: TagInterner::default(),
            tag_buf: Vec::new(),
            blob_buf: Vec::new(),
            live: RoaringBitmap::new(),
            blocked: RoaringBitmap::new(),
            hidden: RoaringBitmap::new(),
            ident: Default::default(),
            search: SearchIx::new(0),
            behind: None,
            #[cfg(test)]
            fail_flush: false,
            email_nonascii: FxMap::default(),
            member_unfolded: 0,
            visible: Ledger::default(),
            hidden_ledger: Ledger::default(),
            pending: Vec::new(),
            pending_rows: RoaringBitmap::new(),
            touched: FxMap::default(),
            last_boot: FxMap::default(),
            zones: Zones::default(),
            text_orders: TextOrders::default(),
        };
        for k in ["name", "email", "mobileNumber"] {
            t.key_id(k);
        }
        t
    }
}

/// The trigrams of a phone number's digits as searched (E.164, national, national format),
/// repeats kept, into `out` (cleared first); `national` is a buffer for the national digits,
/// kept from number to number.
fn phone_grams(e164: &str, out: &mut Vec<u32>, national: &mut Vec<u8>) {
    // A stored number is `+` and its digits, which are then the text after the `+`.
    let d = match e164.strip_prefix('+') {
        Some(rest) if rest.bytes().all(|b| b.is_ascii_digit()) => Cow::Borrowed(rest),
        _ => Cow::Owned(digits(e164)),
    };
    national.clear();
    if let Some((prefix, number)) = national_number_parts(e164) {
        national.extend_from_slice(prefix.as_bytes());
        national.extend_from_slice(number.as_bytes());
    }
    let f = national_format_digits(e164).unwrap_or_default();
    // The national digits end as the E.164 digits do (the trunk prefix then the national
    // number): the grams inside that common end are the E.164 digits' grams already.
    let (d, n) = (d.as_bytes(), national.as_slice());
    let common = d
        .iter()
        .rev()
        .zip(n.iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let own = n.get(..(n.len() - common + 2).min(n.len())).unwrap_or(n);
    out.clear();
    grams_push([d, own, f.as_bytes()], out);
}

impl Table {
    fn key_id(&mut self, name: &str) -> u32 {
        if let Some(k) = self.key_ids.get(name) {
            return *k;
        }
        let ix = FieldIx::for_key(self.keys.names.len() as u32);
        self.search_ix_mut().fields.prof.push(ix);
        // Copied first if a contact handed out still holds the names (a new key is rare).
        let keys = Arc::make_mut(&mut self.keys);
        let k = keys.names.len() as u32;
        keys.names.push(name.into());
        self.key_ids.insert(name.into(), k);
        let mut order: Vec<u32> = (0..=k).collect();
        order.sort_by(|a, b| {
            keys.names
                .get(*a as usize)
                .cmp(&keys.names.get(*b as usize))
        });
        keys.rank = vec![0; order.len()];
        for (rank, key) in order.into_iter().enumerate() {
            if let Some(r) = keys.rank.get_mut(key as usize) {
                *r = rank as u32;
            }
        }
        k
    }

    fn tag_id(&mut self, tag: &str) -> u32 {
        if let Some(k) = self.tag_ids.get(tag) {
            return *k;
        }
        let k = self.tag_names.len() as u32;
        self.tag_names.push(tag.into());
        self.tag_ids.insert(tag.into(), k);
        k
    }

    fn tag_texts(&self, ids: &[u32]) -> Vec<String> {
        tag_texts(&self.tag_names[..], ids)
    }

    /// The row of a contact id.
    pub(crate) fn row_of(&self, id: &str) -> Option<u32> {
        match parse_seq(id) {
            Some(n) => self.by_seq.get(n, |r| seq_of(&self.rows, r)),
            None => self.by_other.get(id).copied(),
        }
    }

    fn row_of_id(&self, id: IdRef<'_>) -> Option<u32> {
        match id {
            IdRef::Seq(n) => self.by_seq.get(n, |r| seq_of(&self.rows, r)),
            IdRef::Other(s) => self.by_other.get(s).copied(),
        }
    }

    /// Whether every stored id is a `c_` sequence id.
    pub(crate) fn only_seq_ids(&self) -> bool {
        self.by_other.is_empty()
    }

    /// Where row `r` is held (to prefetch it), without reading it.
    pub(crate) fn row_ptr(&self, r: u32) -> Option<*const Option<Row>> {
        self.rows.get(r as usize).map(|x| x as *const Option<Row>)
    }

    /// The row at `r`, if stored.
    pub(crate) fn row(&self, r: u32) -> Option<&Row> {
        self.rows.get(r as usize).and_then(Option::as_ref)
    }

    /// Bounds on the rows' time keys by block of rows.
    pub(crate) fn zones(&self) -> &Zones {
        &self.zones
    }

    /// The number of stored contacts.
    pub(crate) fn len(&self) -> u64 {
        self.live.len()
    }

    /// The slot of a filter field.
    pub(crate) fn slot(&self, f: &Field) -> Slot {
        match f {
            Field::Profile(name) => match self.key_ids.get(name.as_str()) {
                Some(k) => Slot::Profile(*k),
                None => Slot::Absent,
            },
            Field::Id => Slot::Id,
            Field::MemberId => Slot::Sys(S_MEMBER_ID),
            Field::Member => Slot::Sys(S_MEMBER),
            Field::Tags => Slot::Sys(S_TAGS),
            Field::UserImportTags => Slot::Sys(S_IMPORT_TAGS),
            Field::UnsubscribeEmail => Slot::Sys(S_UE),
            Field::UnsubscribeTexting => Slot::Sys(S_UT),
            Field::Blocked => Slot::Sys(S_BLOCKED),
            Field::CreatedAt => Slot::Sys(S_CREATED),
            Field::UpdatedAt => Slot::Sys(S_UPDATED),
            Field::LastSeenAt => Slot::Sys(S_LAST_SEEN),
            Field::SessionCount => Slot::Sys(S_SESSIONS),
        }
    }

    /// The indexes of a slot, to tamper with in tests.
    #[cfg(test)]
    pub(crate) fn ix_mut(&mut self, s: Slot) -> Option<&mut FieldIx> {
        self.search_ix_mut().fields.get_mut(s)
    }

    /// The indexes of a slot (`None` for the id and absent keys).
    pub(crate) fn ix(&self, s: Slot) -> Option<&FieldIx> {
        let fields = &self.search_ix().fields;
        match s {
            Slot::Sys(i) => fields.sys.get(i),
            Slot::Profile(k) => fields.prof.get(k as usize),
            Slot::Id | Slot::Absent => None,
        }
    }

    /// The fingerprint table of the texts of a slot whose index is `fx`: an identity
    /// lookup's, or the field's own (`None`: the field's texts are in `fx.text`).
    pub(crate) fn fps_of<'a>(&'a self, s: Slot, fx: &'a FieldIx) -> Option<&'a Fingerprints> {
        match ident_of(s) {
            Some(i) => self.ident.get(i),
            None => fx.fps.as_ref(),
        }
    }

    /// The fingerprint table of a slot's texts, to tamper with in tests.
    #[cfg(test)]
    pub(crate) fn fps_mut(&mut self, s: Slot) -> Option<&mut Fingerprints> {
        match ident_of(s) {
            Some(i) => self.ident.get_mut(i),
            None => self.ix_mut(s).and_then(|fx| fx.fps.as_mut()),
        }
    }

    /// The search indexes, to read once they are up to date (a read flushes first, which
    /// also takes them back from a flush running behind).
    pub(crate) fn search_ix(&self) -> &SearchIx {
        debug_assert!(self.behind.is_none(), "search indexes read while away");
        &self.search
    }

    /// The search indexes, to write: first taken back from a flush running behind (see
    /// [`Table::flush_behind`]).
    fn search_ix_mut(&mut self) -> &mut SearchIx {
        self.settle();
        &mut self.search
    }

    /// A row's value of a slot.
    pub(crate) fn value<'a>(&self, row: &'a Row, s: Slot) -> Fv<'a> {
        slot_value(&self.tag_names[..], row, s)
    }

    /// The value of a row's slot as the contact would give it (the id's text for `Id`).
    pub(crate) fn with_value<T>(
        &self,
        row: &Row,
        s: Slot,
        f: impl FnOnce(FieldValue<'_>) -> T,
    ) -> T {
        if s == Slot::Id {
            let id = row.id().text();
            return f(FieldValue::Text(&id));
        }
        let v = self.value(row, s);
        f(v.get())
    }

    fn make_row(&mut self, c: &Contact) -> Row {
        let mut profile: Vec<(u32, &Value)> = Vec::with_capacity(c.profile.len());
        for (k, v) in &c.profile {
            let id = self.key_id(k);
            profile.push((id, v));
        }
        profile.sort_by_key(|(k, _)| *k);
        let mut buf = std::mem::take(&mut self.tag_buf);
        buf.clear();
        for t in c.tags.iter().chain(&c.user_import_tags) {
            let id = self.tag_id(t);
            buf.push(id);
        }
        let (tags, import) = buf.split_at(c.tags.len());
        let tags = self.tag_lists.intern(tags, import);
        self.tag_buf = buf;
        let mut flags = 0u16;
        let mut set = |b: bool, f: u16| {
            if b {
                flags |= f
            }
        };
        set(c.member, F_MEMBER);
        set(c.verified.email, F_V_EMAIL);
        set(c.verified.mobile_number, F_V_MOBILE);
        set(c.unsubscribe_email.is_some(), F_UE_SET);
        set(c.unsubscribe_email == Some(true), F_UE);
        set(c.unsubscribe_texting.is_some(), F_UT_SET);
        set(c.unsubscribe_texting == Some(true), F_UT);
        set(c.blocked, F_BLOCKED);
        set(c.hidden, F_HIDDEN);
        set(c.booted, F_BOOTED);
        let seq = parse_seq(&c.id);
        let other_id = if seq.is_none() { Some(&*c.id) } else { None };
        let mut row = Row {
            seq: seq.unwrap_or(OTHER_ID),
            profile: Profile::encode(
                profile,
                other_id,
                c.member_id.as_deref(),
                &mut self.blob_buf,
            ),
            tags,
            created_at: Micros::of(&c.created_at),
            updated_at: Micros::of(&c.updated_at),
            last_seen_at: Micros::of(&c.last_seen_at),
            state: u64::from(flags),
        };
        row.set_session_count(c.session_count);
        if row.member_id().is_some() || row.email().is_some() || row.mobile().is_some() {
            row.set_flags(flags | F_INFO);
        }
        row
    }

    /// The contact of a row.
    pub(crate) fn contact(&self, row: &Row) -> Contact {
        let profile = ContactProfile::encoded(Box::new(RowProfile {
            profile: row.profile.clone(),
            keys: Arc::clone(&self.keys),
        }));
        Contact {
            id: row.id().text(),
            member_id: row.member_id().map(str::to_string),
            member: row.flag(F_MEMBER),
            profile,
            tags: self.tag_texts(row.tag_ids()),
            user_import_tags: self.tag_texts(row.import_tag_ids()),
            verified: Verified {
                email: row.flag(F_V_EMAIL),
                mobile_number: row.flag(F_V_MOBILE),
            },
            unsubscribe_email: row.flag(F_UE_SET).then(|| row.flag(F_UE)),
            unsubscribe_texting: row.flag(F_UT_SET).then(|| row.flag(F_UT)),
            blocked: row.flag(F_BLOCKED),
            hidden: row.flag(F_HIDDEN),
            booted: row.flag(F_BOOTED),
            created_at: row.created_at.get(),
            updated_at: row.updated_at.get(),
            last_seen_at: row.last_seen_at.get(),
            session_count: row.session_count(),
            last_boot_at: self.last_boot_of(row),
        }
    }

    /// A row's [`Contact::last_boot_at`].
    fn last_boot_of(&self, row: &Row) -> Option<DateTime<Utc>> {
        if self.last_boot.is_empty() {
            return None;
        }
        self.last_boot.get(&row.id().to_key()).map(|m| m.get())
    }

    /// Keeps or forgets a contact's [`Contact::last_boot_at`].
    fn set_last_boot(&mut self, id: IdRef<'_>, t: Option<Micros>) {
        match t {
            Some(t) => {
                self.last_boot.insert(id.to_key(), t);
            }
            None if !self.last_boot.is_empty() => {
                self.last_boot.remove(&id.to_key());
            }
            None => {}
        }
    }

    /// The contact at row `r`.
    pub(crate) fn contact_at(&self, r: u32) -> Option<Contact> {
        self.row(r).map(|row| self.contact(row))
    }

    /// One contact by id.
    pub(crate) fn get(&self, id: &str) -> Option<Contact> {
        self.row_of(id).and_then(|r| self.contact_at(r))
    }

    /// Inserts or replaces a contact.
    pub(crate) fn put(&mut self, c: &Contact) {
        let last_boot = c.last_boot_at.as_ref().map(Micros::of);
        let new = self.make_row(c);
        self.set_last_boot(new.id(), last_boot);
        let r = match self.row_of_id(new.id()) {
            Some(r) => r,
            None => {
                let r = match self.free.pop() {
                    Some(r) => r,
                    None => {
                        self.rows.push(None);
                        (self.rows.len() - 1) as u32
                    }
                };
                match new.id() {
                    IdRef::Seq(n) => {
                        let rows = &self.rows;
                        self.by_seq.insert(n, r, |x| seq_of(rows, x));
                    }
                    IdRef::Other(s) => {
                        self.by_other.insert(s.into(), r);
                    }
                }
                r
            }
        };
        let old = self.rows.get_mut(r as usize).and_then(Option::take);
        self.reindex_now(r, old.as_ref(), Some(&new));
        self.zones.note(r, &new);
        self.text_orders.note(r);
        if let Some(slot) = self.rows.get_mut(r as usize) {
            *slot = Some(new);
        }
        self.defer(r, old);
        self.compact_ledgers();
    }

    /// Removes a contact for good.
    pub(crate) fn delete(&mut self, id: &str) {
        let Some(r) = self.row_of(id) else {
            return;
        };
        // Out of the id index while the row is still there to check against.
        let key = self.row(r).map(|o| o.id().to_key());
        if let Some(k) = &key {
            self.set_last_boot(k.as_ref(), None);
        }
        match key {
            Some(IdKey::Seq(n)) => {
                let rows = &self.rows;
                self.by_seq.remove(n, |x| seq_of(rows, x));
            }
            Some(IdKey::Other(s)) => {
                self.by_other.remove(&s);
            }
            None => {}
        }
        let old = self.rows.get_mut(r as usize).and_then(Option::take);
        if let Some(o) = &old {
            self.reindex_now(r, Some(o), None);
            self.text_orders.note(r);
            self.free.push(r);
            self.defer(r, old);
            self.compact_ledgers();
        }
    }

    /// Notes that row `r`'s search indexes still show `indexed` (unless an earlier write
    /// already noted an older state), and brings all waiting rows up to date once
    /// [`FLUSH_AT`] of them wait.
    fn defer(&mut self, r: u32, indexed: Option<Row>) {
        // The row's time indexes first catch up with `indexed`, which the flush diffs from.
        if let Some(old) = self.touched.remove(&r) {
            if let Some(row) = &indexed {
                self.move_times(r, old, row);
            }
        }
        if self.pending_rows.insert(r) {
            self.pending.push((r, indexed));
        }
        if self.pending.len() >= FLUSH_AT {
            self.flush_behind();
        }
    }

    /// Whether some rows wait for their search indexes.
    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.is_empty() || !self.touched.is_empty() || self.behind.is_some()
    }

    /// The keys row `row`'s `updatedAt`, `lastSeenAt` and `sessionCount` indexes hold.
    fn time_keys(row: &Row) -> [u64; 3] {
        [
            millis_key(row.updated_at.millis()),
            millis_key(row.last_seen_at.millis()),
            num_key(row.session_count() as f64),
        ]
    }

    /// Moves row `r` in the `updatedAt`, `lastSeenAt` and `sessionCount` indexes from the
    /// keys `old` to `row`'s. These fields always hold a value of their one kind, so only
    /// the ordered index moves (the presence bitmap and the kind counts stay as they are).
    fn move_times(&mut self, r: u32, old: [u64; 3], row: &Row) {
        let [u, l, n] = Self::time_keys(row);
        if let Some([updated, seen, sessions]) = self.search_ix_mut().fields.times() {
            updated.dt.move_key(old[0], u, r);
            seen.dt.move_key(old[1], l, r);
            sessions.num.move_key(old[2], n, r);
        }
    }

    /// Brings the time indexes of every touched row up to date, in row order (rows near
    /// each other share their bitmaps' containers).
    fn flush_touched(&mut self) {
        if self.touched.is_empty() {
            return;
        }
        // Each index's moves together, in row order (rows near each other share their
        // bitmaps' containers).
        let mut moves: [Vec<(u64, u64, u32)>; 3] =
            std::array::from_fn(|_| Vec::with_capacity(self.touched.len()));
        let mut touched: Vec<(u32, [u64; 3])> = self.touched.drain().collect();
        touched.sort_unstable_by_key(|(r, _)| *r);
        for (r, old) in touched {
            // A touched row is neither pending nor deleted (`defer` takes it out first).
            if let Some(row) = self.rows.get(r as usize).and_then(Option::as_ref) {
                let new = Self::time_keys(row);
                for (m, (o, n)) in moves.iter_mut().zip(old.into_iter().zip(new)) {
                    m.push((o, n, r));
                }
            }
        }
        let [updated, seen, sessions] = &moves;
        if let Some([u, l, n]) = self.search_ix_mut().fields.times() {
            u.dt.move_many(updated);
            l.dt.move_many(seen);
            n.num.move_many(sessions);
        }
    }

    /// Brings the search indexes of every waiting row up to date. Writes keep the identity
    /// lookups, listing sets and MU ledgers current themselves ([`Table::reindex_now`]);
    /// the search indexes (trigrams and every other field's postings, ranges and lists)
    /// are updated here in batches, one field at a time over all waiting rows, which
    /// touches each index structure once per batch instead of once per row. The
    /// quick-search indexes and the field indexes of a batch of [`PARALLEL_AT`] rows or
    /// more are brought up to date side by side, the former on a second thread (when the
    /// system gives one; else one after the other). A search flushes first, so it never
    /// sees a lagging index.
    pub(crate) fn flush(&mut self) {
        self.flush_touched();
        self.settle();
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        self.pending_rows.clear();
        let pairs: Vec<(u32, Option<&Row>, Option<&Row>)> = pending
            .iter()
            .map(|(r, old)| {
                let new = self.rows.get(*r as usize).and_then(Option::as_ref);
                (*r, old.as_ref(), new)
            })
            .collect();
        let (search, names) = (&mut self.search, &self.tag_names[..]);
        #[cfg(test)]
        let fail = self.fail_flush;
        // A panic here (a bug) would leave the indexes half updated, and the rows it was
        // updating no longer waiting: the indexes are built anew from the rows first, as
        // after a panic behind (`settle`), and the panic goes on to the caller.
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            #[cfg(test)]
            if fail {
                panic!("a flush failed (as the test asked)");
            }
            search.reindex(names, &pairs, true);
        }));
        drop(pairs);
        if let Err(panic) = done {
            self.rebuild_search();
            std::panic::resume_unwind(panic);
        }
    }

    /// Brings the search indexes of the waiting rows up to date on a background thread
    /// while writes go on: the thread takes the indexes, a copy of each waiting row as it
    /// is now and the texts of their tags, and the table takes the indexes back before
    /// anything reads or changes them ([`Table::settle`]); a row written meanwhile waits
    /// for the next flush, from the state the thread indexes. Where the system gives no
    /// thread, the flush runs here.
    fn flush_behind(&mut self) {
        self.flush_touched();
        self.settle();
        let pending = std::mem::take(&mut self.pending);
        self.pending_rows.clear();
        let mut names: FxMap<u32, Box<str>> = FxMap::default();
        // Rows share their tag lists: each list's texts are looked up once.
        let mut lists: FxMap<*const TagLists, ()> = FxMap::default();
        let mut batch = Vec::with_capacity(pending.len());
        for (r, old) in pending {
            let new = self.rows.get(r as usize).and_then(Option::clone);
            for tags in [&old, &new]
                .into_iter()
                .flatten()
                .filter_map(|x| x.tags.as_ref())
            {
                if lists.insert(Arc::as_ptr(tags), ()).is_none() {
                    for id in tags.tags().iter().chain(tags.import_tags()) {
                        names
                            .entry(*id)
                            .or_insert_with(|| self.tag_names.tag_text(*id).into());
                    }
                }
            }
            batch.push((r, old, new));
        }
        let job = Behind {
            ix: std::mem::take(&mut self.search),
            batch,
            names,
            #[cfg(test)]
            fail: self.fail_flush,
        };
        let (give, take) = std::sync::mpsc::sync_channel::<Behind>(1);
        let thread = std::thread::Builder::new()
            .name("rolodex-index".into())
            .spawn(move || take.recv().ok().map(Behind::run));
        let job = match thread {
            Ok(h) => match give.send(job) {
                Ok(()) => {
                    self.behind = Some(h);
                    return;
                }
                Err(unsent) => unsent.0,
            },
            Err(_) => job,
        };
        self.search = job.run();
    }

    /// Takes the search indexes back from a flush running behind, waiting for it to end.
    /// Should it have panicked, the indexes it held are built anew from the rows, so that
    /// the table stays whole, and the panic goes on to the caller.
    fn settle(&mut self) {
        let Some(h) = self.behind.take() else {
            return;
        };
        match h.join() {
            Ok(Some(ix)) => self.search = ix,
            // The thread got no batch: it cannot, as it is only kept once given one.
            Ok(None) => self.rebuild_search(),
            Err(panic) => {
                self.rebuild_search();
                std::panic::resume_unwind(panic);
            }
        }
    }

    /// Builds the search indexes anew from the stored rows.
    fn rebuild_search(&mut self) {
        self.pending.clear();
        self.pending_rows.clear();
        self.touched.clear();
        self.search = SearchIx::new(self.keys.names.len());
        let batch: Vec<(u32, Option<&Row>, Option<&Row>)> = self
            .rows
            .iter()
            .enumerate()
            .filter_map(|(r, row)| row.as_ref().map(|x| (r as u32, None, Some(x))))
            .collect();
        self.search.reindex(&self.tag_names[..], &batch, true);
    }

    fn ledger_update(&mut self, row: &Row, add: bool) {
        let at = row.ledger_at();
        let set = match ledger_side(row) {
            Some(true) => &mut self.hidden_ledger,
            Some(false) => &mut self.visible,
            None => return,
        };
        if add {
            set.insert(at, row.id());
        } else {
            set.forget(at, row.id());
        }
    }

    /// Whether (`seen`, `created`, sequence number `seq`) is a contact's current place in
    /// the hidden ledger (`hidden`) or the visible one.
    fn ledger_current<'a>(
        rows: &'a [Option<Row>],
        by_seq: &'a SeqRows,
        hidden: bool,
    ) -> impl Fn(i64, i64, u64) -> bool + 'a {
        move |seen, created, seq| {
            by_seq
                .get(seq, |x| seq_of(rows, x))
                .and_then(|r| rows.get(r as usize)?.as_ref())
                .is_some_and(|row| {
                    ledger_side(row) == Some(hidden) && row.ledger_at() == (seen, created)
                })
        }
    }

    /// Rebuilds a ledger whose stale keys have grown as many as its contacts
    /// ([`Ledger::compaction_due`]) from the rows, read in order (checking each stale key
    /// would read a row at random for each). Called once a write has put its rows back.
    fn compact_ledgers(&mut self) {
        for hidden in [false, true] {
            let ledger = if hidden {
                &mut self.hidden_ledger
            } else {
                &mut self.visible
            };
            if ledger.compaction_due() {
                ledger.rebuild(
                    self.rows
                        .iter()
                        .flatten()
                        .filter(|row| ledger_side(row) == Some(hidden))
                        .map(|row| (row.ledger_at(), row.id())),
                );
            }
        }
    }

    /// Brings the indexes a write needs at once from `old` to `new` for row `r`: the
    /// listing sets, the MU ledgers and the identity lookups (`memberId`, email, mobile
    /// number). The search indexes follow in [`Table::flush`].
    fn reindex_now(&mut self, r: u32, old: Option<&Row>, new: Option<&Row>) {
        // Row sets and ledgers.
        let bits = |row: Option<&Row>| row.map(|x| (x.blocked(), x.hidden()));
        if old.is_none() {
            self.live.insert(r);
        }
        if new.is_none() {
            self.live.remove(r);
        }
        if bits(old) != bits(new) {
            let (ob, oh) = bits(old).unwrap_or((false, false));
            let (nb, nh) = bits(new).unwrap_or((false, false));
            if ob != nb {
                if nb {
                    self.blocked.insert(r);
                } else {
                    self.blocked.remove(r);
                }
            }
            if oh != nh {
                if nh {
                    self.hidden.insert(r);
                } else {
                    self.hidden.remove(r);
                }
            }
        }
        let ledger_same = match (old, new) {
            (Some(o), Some(n)) => {
                o.flags() & (F_BLOCKED | F_HIDDEN) == n.flags() & (F_BLOCKED | F_HIDDEN)
                    && o.last_seen_at.millis() == n.last_seen_at.millis()
                    && o.created_at.millis() == n.created_at.millis()
                    && o.has_contact_info() == n.has_contact_info()
            }
            _ => false,
        };
        if !ledger_same {
            if let Some(o) = old {
                self.ledger_update(o, false);
            }
            if let Some(n) = new {
                self.ledger_update(n, true);
            }
        }
        // Member ids that folding changes (then a folded posting needs an exact check).
        let (om, nm) = (old.and_then(Row::member_id), new.and_then(Row::member_id));
        if om != nm {
            let unfolded = |m: &str| fold_cow(m) != m;
            if om.is_some_and(unfolded) {
                self.member_unfolded = self.member_unfolded.saturating_sub(1);
            }
            if nm.is_some_and(unfolded) {
                self.member_unfolded += 1;
            }
        }
        // Identity lookups: the whole indexes of `memberId`, email and mobile number.
        let (email_o, email_n) = (old.and_then(Row::email), new.and_then(Row::email));
        if email_o != email_n {
            if let Some(s) = email_o.filter(|s| !s.is_ascii()) {
                post_remove(&mut self.email_nonascii, &email_key(s), r);
            }
            if let Some(s) = email_n.filter(|s| !s.is_ascii()) {
                post_insert(&mut self.email_nonascii, &email_key(s), r);
            }
        }
        self.reindex_lookup(r, Slot::Sys(S_MEMBER_ID), old, new);
        self.reindex_lookup(r, Slot::Profile(KEY_EMAIL), old, new);
        self.reindex_lookup(r, Slot::Profile(KEY_MOBILE), old, new);
    }

    /// Moves row `r` in an identity lookup ([`ident_of`] slot `s`) from `old`'s text to
    /// `new`'s.
    fn reindex_lookup(&mut self, r: u32, s: Slot, old: Option<&Row>, new: Option<&Row>) {
        let names: &[Box<str>] = &self.tag_names;
        let Some(fps) = ident_of(s).and_then(|i| self.ident.get_mut(i)) else {
            return;
        };
        let ov = old.map(|x| slot_value(names, x, s));
        let nv = new.map(|x| slot_value(names, x, s));
        let text = |v: &Option<Fv<'_>>| match v.as_ref().map(Fv::get) {
            Some(FieldValue::Text(t)) if !t.is_empty() => Some(fingerprint(&fold_cow(t))),
            _ => None,
        };
        let (o, n) = (text(&ov), text(&nv));
        if o == n {
            return;
        }
        if let Some(f) = o {
            fps.remove(f, r);
        }
        if let Some(f) = n {
            fps.insert(f, r);
        }
    }
}

/// The places in [`Table::ident`] of the `memberId`, email and mobile number lookups.
const IDENT_MEMBER: usize = 0;
const IDENT_EMAIL: usize = 1;
const IDENT_MOBILE: usize = 2;

/// The place in [`Table::ident`] of a slot's index, if it is an identity lookup.
fn ident_of(s: Slot) -> Option<usize> {
    match s {
        Slot::Sys(S_MEMBER_ID) => Some(IDENT_MEMBER),
        Slot::Profile(KEY_EMAIL) => Some(IDENT_EMAIL),
        Slot::Profile(KEY_MOBILE) => Some(IDENT_MOBILE),
        _ => None,
    }
}

impl FieldIxs {
    /// The indexes of `updatedAt`, `lastSeenAt` and `sessionCount`, in that order.
    fn times(&mut self) -> Option<[&mut FieldIx; 3]> {
        const _: () = assert!(S_UPDATED < S_LAST_SEEN && S_LAST_SEEN < S_SESSIONS);
        let mut it = self
            .sys
            .iter_mut()
            .enumerate()
            .filter(|(i, _)| matches!(*i, S_UPDATED | S_LAST_SEEN | S_SESSIONS))
            .map(|(_, ix)| ix);
        Some([it.next()?, it.next()?, it.next()?])
    }

    /// The index of a slot.
    fn get_mut(&mut self, s: Slot) -> Option<&mut FieldIx> {
        match s {
            Slot::Sys(i) => self.sys.get_mut(i),
            Slot::Profile(k) => self.prof.get_mut(k as usize),
            Slot::Id | Slot::Absent => None,
        }
    }

    /// Moves row `r` in the index of slot `s` from `old`'s value to `new`'s.
    fn reindex_slot(
        &mut self,
        names: &(impl TagText + ?Sized),
        r: u32,
        s: Slot,
        old: Option<&Row>,
        new: Option<&Row>,
    ) {
        let ov = old.map(|x| slot_value(names, x, s));
        let nv = new.map(|x| slot_value(names, x, s));
        let (ov, nv) = (ov.as_ref().map(Fv::get), nv.as_ref().map(Fv::get));
        if ov == nv {
            return;
        }
        let Some(ix) = self.get_mut(s) else {
            return;
        };
        if let Some(v) = ov {
            ix.update(r, v, false);
        }
        if let Some(v) = nv {
            ix.update(r, v, true);
        }
    }

    /// Brings the field search indexes of a batch of rows from `old` to `new`: each system
    /// field, then each profile key, over all rows of the batch (the quick-search indexes
    /// are [`QuickIx::reindex`]'s, the identity lookups [`Table::reindex_now`]'s).
    /// (Unconditionally: the identity fields' indexes here lag as any other.)
    fn reindex(
        &mut self,
        names: &(impl TagText + ?Sized),
        batch: &[(u32, Option<&Row>, Option<&Row>)],
    ) {
        // Profile fields, one key at a time over the batch's changed values: each key's
        // changes in batch order (rows ascending for new contacts), gathered by key id.
        type Change<'r> = (u32, Option<Pv<'r>>, Option<Pv<'r>>);
        let mut changes: Vec<Vec<Change<'_>>> = Vec::new();
        // Each row's old and new values, read once for both, in buffers kept from row to
        // row.
        let mut op: Vec<(u32, Pv<'_>)> = Vec::new();
        let mut np: Vec<(u32, Pv<'_>)> = Vec::new();
        for &(r, old, new) in batch {
            op.clear();
            np.clear();
            op.extend(old.into_iter().flat_map(|x| x.profile.iter()));
            np.extend(new.into_iter().flat_map(|x| x.profile.iter()));
            let (mut i, mut j) = (0, 0);
            while i < op.len() || j < np.len() {
                let ok = op.get(i).map(|x| x.0);
                let nk = np.get(j).map(|x| x.0);
                let k = match (ok, nk) {
                    (Some(a), Some(b)) => a.min(b),
                    (Some(a), None) => a,
                    (None, Some(b)) => b,
                    (None, None) => break,
                };
                let ov = if ok == Some(k) {
                    i += 1;
                    op.get(i - 1).map(|x| x.1)
                } else {
                    None
                };
                let nv = if nk == Some(k) {
                    j += 1;
                    np.get(j - 1).map(|x| x.1)
                } else {
                    None
                };
                if ov != nv {
                    let k = k as usize;
                    if changes.len() <= k {
                        changes.resize_with(k + 1, Vec::new);
                    }
                    if let Some(c) = changes.get_mut(k) {
                        c.push((r, ov, nv));
                    }
                }
            }
        }
        // System fields, one field at a time: the values of new rows in bulk
        // ([`FieldIx::add_many`]), a changed row's old and new values one by one.
        let mut adds: Vec<(u32, FieldValue<'_>)> = Vec::with_capacity(batch.len());
        for i in 0..N_SYS {
            let s = Slot::Sys(i);
            if i == S_TAGS || i == S_IMPORT_TAGS {
                self.reindex_tags(names, i, batch);
                continue;
            }
            adds.clear();
            for &(r, old, new) in batch {
                match (old, new) {
                    (None, Some(x)) => match slot_value(names, x, s) {
                        Fv::B(v) => adds.push((r, v)),
                        _ => self.reindex_slot(names, r, s, old, new),
                    },
                    _ => self.reindex_slot(names, r, s, old, new),
                }
            }
            if let Some(ix) = self.sys.get_mut(i) {
                ix.add_many(&adds);
            }
        }
        for (k, key_changes) in changes.iter().enumerate() {
            let Some(ix) = self.prof.get_mut(k) else {
                continue;
            };
            let mut adds: Vec<(u32, FieldValue<'_>)> = Vec::new();
            for (r, ov, nv) in key_changes {
                match (ov, nv) {
                    (None, Some(v)) => adds.push((*r, v.field_value())),
                    _ => {
                        if let Some(v) = ov {
                            ix.update(*r, v.field_value(), false);
                        }
                        if let Some(v) = nv {
                            ix.update(*r, v.field_value(), true);
                        }
                    }
                }
            }
            ix.add_many(&adds);
        }
    }

    /// Brings the index of `tags` or `userImportTags` (system field `i`) of a batch of
    /// rows up to date. Tags are interned: a row whose tag ids did not change is skipped,
    /// with no tag texts built to compare; a changed row goes through
    /// [`FieldIxs::reindex_slot`]; a new row's tags are gathered by tag, and each tag's
    /// bitmap then takes all its new rows at once (what [`FieldIx::update`] does for each
    /// row's list, item by item).
    fn reindex_tags(
        &mut self,
        names: &(impl TagText + ?Sized),
        i: usize,
        batch: &[(u32, Option<&Row>, Option<&Row>)],
    ) {
        let mut by_tag: FxMap<u32, Vec<u32>> = FxMap::default();
        let mut listed: Vec<u32> = Vec::new();
        let mut counted = 0;
        for &(r, old, new) in batch {
            let (o, n) = (old.map(|x| interned(x, i)), new.map(|x| interned(x, i)));
            if o == n {
                continue;
            }
            match (old, n) {
                (None, Some(ids)) => {
                    let ids = ids.unwrap_or_default();
                    counted += 1;
                    if !ids.is_empty() {
                        listed.push(r);
                    }
                    for id in ids {
                        by_tag.entry(*id).or_default().push(r);
                    }
                }
                _ => self.reindex_slot(names, r, Slot::Sys(i), old, new),
            }
        }
        let Some(ix) = self.sys.get_mut(i) else {
            return;
        };
        add_rows(&mut ix.exists, &listed);
        ix.kinds[K_STRINGS] += counted;
        let mut by_tag: Vec<(u32, Vec<u32>)> = by_tag.into_iter().collect();
        by_tag.sort_unstable_by_key(|(id, _)| *id);
        for (id, rows) in by_tag {
            let k = fold_cow(names.tag_text(id));
            match ix.list.get_mut(k.as_ref()) {
                Some(b) => add_rows(b, &rows),
                None => {
                    let mut b = RoaringBitmap::new();
                    add_rows(&mut b, &rows);
                    ix.list.insert(k.as_ref().into(), b);
                }
            }
        }
    }
}

impl Table {
    /// Every contact holding this email (by `email_key`).
    pub(crate) fn find_by_email(&self, email: &str) -> Vec<Contact> {
        let key = email_key_cow(email);
        let mut rows: Vec<u32> = Vec::new();
        self.ident[IDENT_EMAIL].rows(fingerprint(&fold_cow(&key)), |r| rows.push(r));
        if let Some(p) = self.email_nonascii.get(key.as_ref()) {
            rows.extend(p.rows());
        }
        rows.sort_unstable();
        rows.dedup();
        rows.into_iter()
            .filter_map(|r| self.row(r))
            .filter(|row| row.email().is_some_and(|e| email_key_cow(e) == key))
            .map(|row| self.contact(row))
            .collect()
    }

    /// Every contact holding this E.164 mobile number.
    pub(crate) fn find_by_mobile(&self, e164: &str) -> Vec<Contact> {
        let mut rows: Vec<u32> = Vec::new();
        self.ident[IDENT_MOBILE].rows(fingerprint(&fold_cow(e164)), |r| rows.push(r));
        rows.into_iter()
            .filter_map(|r| self.row(r))
            .filter(|row| row.mobile().as_ref().map(PhoneStr::as_str) == Some(e164))
            .map(|row| self.contact(row))
            .collect()
    }

    /// Whether any row holds a `memberId`.
    pub(crate) fn may_hold_members(&self) -> bool {
        !self.ident[IDENT_MEMBER].is_empty()
    }

    /// The rows whose `memberId` is exactly `m`.
    pub(crate) fn member_rows(&self, m: &str) -> Vec<u32> {
        let mut rows: Vec<u32> = Vec::new();
        self.ident[IDENT_MEMBER].rows(fingerprint(&fold_cow(m)), |r| {
            if self.row(r).is_some_and(|row| row.member_id() == Some(m)) {
                rows.push(r);
            }
        });
        rows.sort_unstable();
        rows
    }

    /// Whether the contact counts toward MU now (R-MU-1).
    pub(crate) fn is_counted(&self, id: &str) -> bool {
        self.row_of(id)
            .and_then(|r| self.row(r))
            .is_some_and(|row| !row.blocked() && !row.hidden() && row.has_contact_info())
    }

    /// Visible MU.
    pub(crate) fn mu_count(&self) -> u64 {
        self.visible.len() as u64
    }

    /// The stale keys of the visible and the hidden ledger.
    #[cfg(test)]
    pub(crate) fn stale_ledger_keys(&self) -> (usize, usize) {
        (self.visible.stale(), self.hidden_ledger.stale())
    }

    /// The states of the first `n` contacts of a ledger.
    pub(crate) fn ledger(&mut self, newest_hidden: bool, n: usize) -> Vec<ContactState> {
        let ids = if newest_hidden {
            let current = Self::ledger_current(&self.rows, &self.by_seq, true);
            self.hidden_ledger.last(n, current)
        } else {
            let current = Self::ledger_current(&self.rows, &self.by_seq, false);
            self.visible.first(n, current)
        };
        ids.iter()
            .filter_map(|id| self.row_of_id(id.as_ref()))
            .filter_map(|r| self.row(r))
            .map(|row| self.state_of(row))
            .collect()
    }

    fn state_of(&self, row: &Row) -> ContactState {
        ContactState {
            id: row.id().text(),
            blocked: row.blocked(),
            hidden: row.hidden(),
            booted: row.flag(F_BOOTED),
            has_contact_info: row.has_contact_info(),
            created_at: row.created_at.get(),
            updated_at: row.updated_at.get(),
            last_seen_at: row.last_seen_at.get(),
            session_count: row.session_count(),
            last_boot_at: self.last_boot_of(row),
        }
    }

    /// The state of one contact. A state is read to be written back ([`Table::touch`]) and
    /// the contact then read whole: the lines those will need (the profile bytes, and where
    /// the contact sits in its MU ledger) are fetched from memory now, while the caller
    /// decides, instead of one after another then.
    pub(crate) fn state(&self, id: &str) -> Option<ContactState> {
        self.state_with_row(id).map(|(_, st)| st)
    }

    /// [`Table::state`], with the row it was read from (for [`Table::touch_at`] and
    /// [`Table::contact_at`], which then need not look the id up again).
    pub(crate) fn state_with_row(&self, id: &str) -> Option<(u32, ContactState)> {
        let r = self.row_of(id)?;
        let row = self.row(r)?;
        prefetch(row.heap_ptr());
        Some((r, self.state_of(row)))
    }

    /// Writes the changeable part of a contact's state in place, updating only the indexes
    /// of what changed (the ledgers, the hidden set, `updatedAt`, `lastSeenAt`,
    /// `sessionCount`).
    pub(crate) fn touch(&mut self, st: &ContactState) {
        if let Some(r) = self.row_of(&st.id) {
            self.touch_at(r, st);
        }
    }

    /// [`Table::touch`] of the contact at row `r` (which must hold the contact `st.id`).
    pub(crate) fn touch_at(&mut self, r: u32, st: &ContactState) {
        let Some(mut row) = self.rows.get_mut(r as usize).and_then(Option::take) else {
            return;
        };
        let was_hidden = row.hidden();
        let (st_updated, st_last_seen) = (Micros::of(&st.updated_at), Micros::of(&st.last_seen_at));
        let ledger_moves =
            was_hidden != st.hidden || row.last_seen_at.millis() != st_last_seen.millis();
        if ledger_moves {
            self.ledger_update(&row, false);
        }
        let mut flags = row.flags() & !(F_HIDDEN | F_BOOTED);
        if st.hidden {
            flags |= F_HIDDEN;
        }
        if st.booted {
            flags |= F_BOOTED;
        }
        row.set_flags(flags);
        if was_hidden != st.hidden {
            if st.hidden {
                self.hidden.insert(r);
            } else {
                self.hidden.remove(r);
            }
        }
        // A row waiting for its search indexes gets them from the flush; any other row
        // notes the keys its time indexes hold, and they move in the next batch.
        let sessions = st.session_count.min(MAX_SESSIONS);
        let times_move = row.updated_at != st_updated
            || row.last_seen_at != st_last_seen
            || row.session_count() != sessions;
        if times_move && !self.pending_rows.contains(r) {
            // The first keys noted since the last batch are the ones the indexes hold.
            self.touched
                .entry(r)
                .or_insert_with(|| Self::time_keys(&row));
        }
        row.updated_at = st_updated;
        row.last_seen_at = st_last_seen;
        row.set_session_count(sessions);
        self.zones.note(r, &row);
        self.set_last_boot(row.id(), st.last_boot_at.as_ref().map(Micros::of));
        if ledger_moves {
            self.ledger_update(&row, true);
        }
        if let Some(slot) = self.rows.get_mut(r as usize) {
            *slot = Some(row);
        }
        if ledger_moves {
            self.compact_ledgers();
        }
        if self.touched.len() >= FLUSH_AT {
            self.flush_touched();
        }
    }

    /// Calls `f` on every contact, in id order, until it returns `false`.
    pub(crate) fn for_each(&self, f: &mut dyn FnMut(&Contact) -> bool) {
        for (_, row) in self.rows_by_id() {
            if !f(&self.contact(row)) {
                break;
            }
        }
    }

    /// Every stored row, in id order.
    pub(crate) fn rows_by_id(&self) -> Vec<(u32, &Row)> {
        let mut rows: Vec<(u32, &Row)> = self.stored_rows().collect();
        sort_by_id(&mut rows);
        rows
    }
}

/// Puts rows in id order. Rows are taken in creation order, which is id order unless a
/// deleted contact's row was reused or an id is not one this store made, so the rows are
/// mostly in order already and sorted only when they are not.
pub(crate) fn sort_by_id(rows: &mut [(u32, &Row)]) {
    if !rows.is_sorted_by(|a, b| a.1.id() <= b.1.id()) {
        rows.sort_unstable_by(|a, b| a.1.id().cmp(&b.1.id()));
    }
}

// Read-only access for the export's row view (`view.rs`).

/// The text of a `c_` + 12-digit id.
pub(crate) fn seq_id_text(n: u64) -> [u8; 14] {
    seq_text(n)
}

impl Row {
    /// Every (key id, value) of the profile, in key order.
    pub(crate) fn profile_iter(&self) -> super::blob::ProfileIter<'_> {
        self.profile.iter()
    }
    /// The interned ids of `tags`, in order.
    pub(crate) fn tag_ids(&self) -> &[u32] {
        self.tag_lists().0
    }
    /// The interned ids of `userImportTags`, in order.
    pub(crate) fn import_tag_ids(&self) -> &[u32] {
        self.tag_lists().1
    }
    fn tag_lists(&self) -> (&[u32], &[u32]) {
        match &self.tags {
            Some(l) => (l.tags(), l.import_tags()),
            None => (&[], &[]),
        }
    }
}

impl Table {
    /// Every stored row with its number, in row order (a stored row keeps its number
    /// until it is removed).
    pub(crate) fn stored_rows(&self) -> impl Iterator<Item = (u32, &Row)> {
        self.rows
            .iter()
            .enumerate()
            .filter_map(|(r, row)| Some((r as u32, row.as_ref()?)))
    }
    /// The names of interned tags, by tag id.
    pub(crate) fn tag_names(&self) -> &[Box<str>] {
        &self.tag_names
    }
    /// How many profile keys are interned (key ids are below it).
    pub(crate) fn key_count(&self) -> usize {
        self.keys.names.len()
    }
}

#[cfg(test)]
mod row_tests {
    use super::*;
    use crate::value::national_number_digits;
    use chrono::SubsecRound;
    use proptest::prelude::*;

    /// The row stays compact: 72 bytes (memory at 1M contacts is mostly rows).
    #[test]
    fn a_row_takes_72_bytes() {
        assert!(
            std::mem::size_of::<Option<Row>>() <= 72,
            "{}",
            std::mem::size_of::<Option<Row>>()
        );
    }

    /// A stored profile reads back whole and in name order, whatever order its keys were
    /// first seen in, with few keys (built in one pass) and with more than that fast path
    /// holds (one insert each).
    #[test]
    fn profiles_read_back_whole_in_name_order() {
        let mut t = Table::default();
        let now = chrono::Utc::now().trunc_subsecs(6);
        for (n, count) in [(1u64, 0usize), (2, 3), (3, 16), (4, 17), (5, 40)] {
            let mut c = Contact::new(format!("c_{n:012}"), now);
            // Keys first seen in an order that is not their text order.
            for i in (0..count).rev() {
                c.profile
                    .insert(format!("k{:02}", (i * 7) % 41), Value::Number(i as f64));
            }
            c.profile
                .insert("name".into(), Value::String(format!("N {n}")));
            t.put(&c);
            let back = t.get(&c.id).unwrap();
            assert_eq!(back, c);
            assert!(back.profile.keys().is_sorted());
        }
    }

    /// Flags and the session count share one word without touching each other; a count
    /// past 2^48 - 1 is kept as that.
    #[test]
    fn flags_and_session_count_share_a_word() {
        let mut t = Table::default();
        let mut c = Contact::new("c_000000000001".into(), chrono::Utc::now());
        c.blocked = true;
        c.session_count = 41;
        let mut row = t.make_row(&c);
        assert!(row.blocked() && row.session_count() == 41);
        row.set_session_count(u64::MAX);
        assert_eq!(row.session_count(), MAX_SESSIONS);
        assert!(row.blocked() && !row.hidden());
        row.set_flags(F_HIDDEN);
        assert_eq!(row.session_count(), MAX_SESSIONS);
        assert!(!row.blocked() && row.hidden());
    }

    proptest! {
        /// Every time chrono can hold comes back from a row to the microsecond, and the
        /// ledger's milliseconds are those of the time.
        #[test]
        fn times_come_back_to_the_microsecond(
            secs in DateTime::<Utc>::MIN_UTC.timestamp()..=DateTime::<Utc>::MAX_UTC.timestamp(),
            nanos in 0u32..1_000_000_000,
        ) {
            let t = DateTime::from_timestamp(secs, nanos).unwrap();
            let m = Micros::of(&t);
            prop_assert_eq!(m.get(), t.trunc_subsecs(6));
            prop_assert_eq!(m.millis(), t.timestamp_millis());
        }

        /// The fast id text equals the byte form for every 12-digit sequence number.
        #[test]
        fn sequence_id_writes_the_id_text(n in 0u64..1_000_000_000_000) {
            let bytes = seq_text(n);
            let text = crate::contact::sequence_id(n);
            prop_assert_eq!(text.as_bytes(), &bytes[..]);
            prop_assert_eq!(parse_seq(&text), Some(n));
        }

        /// A phone number's indexed grams are every gram of its E.164, national and
        /// national-format digits, though the national digits' common end with the E.164
        /// digits is cut into grams once.
        #[test]
        fn phone_grams_are_every_gram_of_the_three_digit_forms(
            e164 in prop_oneof![
                "\\+(82|1|44|81|54|375|7|39|86)[0-9]{4,12}",
                "\\+[1-9][0-9]{0,15}",
            ],
        ) {
            let mut got = Vec::new();
            phone_grams(&e164, &mut got, &mut Vec::new());
            got.sort_unstable();
            got.dedup();
            let d = digits(&e164);
            let n = national_number_digits(&e164).unwrap_or_default();
            let f = national_format_digits(&e164).unwrap_or_default();
            let mut want = Vec::new();
            super::super::index::grams_into([d.as_bytes(), n.as_bytes(), f.as_bytes()], &mut want);
            prop_assert_eq!(got, want);
        }
    }
}
