//! Index building blocks of the memory store: a fast hasher, postings, bucketed ordered
//! indexes and byte-trigram indexes.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Bound;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use roaring::{MultiOps, RoaringBitmap};

/// A small multiplicative hasher (FxHash) for integer and short-string keys.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            self.add(u64::from_le_bytes(b));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    /// The state rotated so that hashbrown's bucket index (the low bits) comes from the
    /// well-mixed middle of the last product: the low bits of a product depend only on the
    /// low bits of its factors, so unrotated, strings that differ only past the first bytes
    /// of each 8-byte chunk (emails with a shared domain) pile into a few buckets.
    #[inline]
    fn finish(&self) -> u64 {
        self.0.rotate_left(26)
    }
}

/// Hash maps with [`FxHasher`].
pub(crate) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Rows by the sequence number of their `c_` id.
///
/// A book numbers its contacts in the order it stores them, so most contacts sit at the
/// row their number gives: row `n - base`, where `base` is fixed by the first contact
/// added whose number is not below its row. Those need no entry at all — a lookup reads that row (which it goes on to read
/// anyway) and checks its number. Every other row (a reused row, a number from another
/// book) is held in a hash table of row numbers, 4 bytes each: the number is read back
/// from the row itself. `seq_of(r)` gives row `r`'s number. (hashbrown's `HashTable` is
/// the std map's table without the key storage.)
#[derive(Debug, Default, Clone)]
pub(crate) struct SeqRows {
    base: Option<u64>,
    table: hashbrown::HashTable<u32>,
}

/// The hash of a sequence number: multiplied, then rotated so that the table's bucket
/// index (low bits) and tag (top bits) both come from well-mixed bits.
#[inline]
fn seq_hash(n: u64) -> u64 {
    (n ^ (n >> 32)).wrapping_mul(SEED).rotate_left(26)
}

impl SeqRows {
    /// The row number `n` gives, if there is a base and it gives one.
    #[inline]
    fn placed(&self, n: u64) -> Option<u32> {
        u32::try_from(n.checked_sub(self.base?)?).ok()
    }

    /// The row numbered `n`.
    #[inline]
    pub(crate) fn get(&self, n: u64, seq_of: impl Fn(u32) -> Option<u64>) -> Option<u32> {
        if let Some(r) = self.placed(n).filter(|&r| seq_of(r) == Some(n)) {
            return Some(r);
        }
        self.table
            .find(seq_hash(n), |&r| seq_of(r) == Some(n))
            .copied()
    }

    /// Adds row `r`, numbered `n` (not held yet; `r` need not be stored yet).
    pub(crate) fn insert(&mut self, n: u64, r: u32, seq_of: impl Fn(u32) -> Option<u64>) {
        if self.base.is_none() {
            self.base = n.checked_sub(u64::from(r));
        }
        if self.placed(n) == Some(r) {
            return;
        }
        self.table
            .insert_unique(seq_hash(n), r, |&x| seq_hash(seq_of(x).unwrap_or(0)));
    }

    /// Removes the row numbered `n` (while that row is still stored).
    pub(crate) fn remove(&mut self, n: u64, seq_of: impl Fn(u32) -> Option<u64>) {
        if self.placed(n).is_some_and(|r| seq_of(r) == Some(n)) {
            return;
        }
        if let Ok(e) = self
            .table
            .find_entry(seq_hash(n), |&r| seq_of(r) == Some(n))
        {
            e.remove();
        }
    }

    /// How many rows the hash table holds.
    #[cfg(test)]
    pub(crate) fn hashed(&self) -> usize {
        self.table.len()
    }
}

/// The rows holding one indexed value: one row inline, more in a bitmap.
#[derive(Debug, Clone)]
pub(crate) enum Posting {
    One(u32),
    Many(Box<RoaringBitmap>),
}

impl Posting {
    pub(crate) fn insert(&mut self, r: u32) {
        match self {
            Posting::One(x) if *x == r => {}
            Posting::One(x) => {
                let mut b = RoaringBitmap::new();
                b.insert(*x);
                b.insert(r);
                *self = Posting::Many(Box::new(b));
            }
            Posting::Many(b) => {
                b.insert(r);
            }
        }
    }

    /// Inserts each of `rows`, which hold no row twice: in one append or merge when they
    /// ascend ([`add_rows`]).
    pub(crate) fn insert_many(&mut self, rows: &[u32]) {
        match rows {
            [] => return,
            [r] => return self.insert(*r),
            _ => {}
        }
        if let Posting::One(x) = *self {
            let mut b = RoaringBitmap::new();
            b.insert(x);
            *self = Posting::Many(Box::new(b));
        }
        if let Posting::Many(b) = self {
            add_rows(b, rows);
        }
    }

    /// Removes `r`; returns whether the posting is now empty.
    pub(crate) fn remove(&mut self, r: u32) -> bool {
        match self {
            Posting::One(x) => *x == r,
            Posting::Many(b) => {
                b.remove(r);
                if b.len() == 1 {
                    if let Some(x) = b.min() {
                        *self = Posting::One(x);
                    }
                    false
                } else {
                    b.is_empty()
                }
            }
        }
    }

    pub(crate) fn or_into(&self, out: &mut RoaringBitmap) {
        match self {
            Posting::One(x) => {
                out.insert(*x);
            }
            Posting::Many(b) => *out |= &**b,
        }
    }

    pub(crate) fn rows(&self) -> Vec<u32> {
        match self {
            Posting::One(x) => vec![*x],
            Posting::Many(b) => b.iter().collect(),
        }
    }
}

/// Inserts `r` under `key` of a text posting map.
pub(crate) fn post_insert(map: &mut FxMap<Box<str>, Posting>, key: &str, r: u32) {
    if let Some(p) = map.get_mut(key) {
        p.insert(r);
    } else {
        map.insert(key.into(), Posting::One(r));
    }
}

/// Inserts `rows` (no row twice) under `key` of a text posting map.
pub(crate) fn post_insert_many(map: &mut FxMap<Box<str>, Posting>, key: &str, rows: &[u32]) {
    match (map.get_mut(key), rows.split_first()) {
        (_, None) => {}
        (Some(p), _) => p.insert_many(rows),
        (None, Some((first, rest))) => {
            let mut p = Posting::One(*first);
            p.insert_many(rest);
            map.insert(key.into(), p);
        }
    }
}

/// Removes `r` from `key` of a text posting map.
pub(crate) fn post_remove(map: &mut FxMap<Box<str>, Posting>, key: &str, r: u32) {
    if let Some(p) = map.get_mut(key) {
        if p.remove(r) {
            map.remove(key);
        }
    }
}

/// An order-preserving `u64` of a number (`-0.0` and `0.0` alike).
pub(crate) fn num_key(v: f64) -> u64 {
    let v = if v == 0.0 { 0.0 } else { v };
    let b = v.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// An order-preserving `u64` of an instant (millisecond resolution, floor).
pub(crate) fn dt_key(t: &DateTime<Utc>) -> u64 {
    millis_key(t.timestamp_millis())
}

/// [`dt_key`] of an instant given in milliseconds since the epoch.
pub(crate) fn millis_key(ms: i64) -> u64 {
    (ms as u64) ^ (1 << 63)
}

/// An order-preserving `u64` of a calendar day.
pub(crate) fn date_key(d: &NaiveDate) -> u64 {
    (i64::from(d.num_days_from_ce()) as u64) ^ (1 << 63)
}

/// Shift of the number buckets: the sign, exponent and 8 mantissa bits (256 buckets an
/// octave, so integers up to 256 get a bucket each).
pub(crate) const NUM_SHIFT: u32 = 44;
/// Shift of the instant buckets: 2^26 ms ≈ 18.6 hours.
pub(crate) const DT_SHIFT: u32 = 26;
/// Shift of the day buckets: none, a bucket a day. A day's key decides alone, so every date
/// condition is then answered from whole buckets with no row read; with 16-day buckets, a
/// third of 1,000,000 contacts sharing a fortnight made `joined = 2024-03-05` read each of
/// them (58 ms). A day's bucket costs its bitmap's containers: about 0.3 MB more for a
/// year of days over 1,000,000 contacts.
pub(crate) const DATE_SHIFT: u32 = 0;

/// Adds `rows` to a bitmap: appended in place when they ascend past its last row (a
/// batch of new rows), merged in as one bitmap when they ascend (container by container
/// rather than a search and insert per row), else one by one.
pub(crate) fn add_rows(bm: &mut RoaringBitmap, rows: &[u32]) {
    let ascending = rows.windows(2).all(|w| w[0] < w[1]);
    match rows.first() {
        Some(&first) if ascending && bm.max().is_none_or(|m| first > m) => {
            // Cannot fail: sorted, distinct and above the maximum.
            let _ = bm.append(rows.iter().copied());
        }
        Some(_) if ascending => {
            *bm |= RoaringBitmap::from_sorted_iter(rows.iter().copied()).unwrap_or_default();
        }
        _ => {
            for r in rows {
                bm.insert(*r);
            }
        }
    }
}

/// Rows grouped by bucket, each group in the order its rows were pushed, with the least and
/// greatest key pushed to it.
#[derive(Default)]
struct BucketRuns {
    runs: Vec<(u64, Vec<u32>, Span)>,
    at: FxMap<u64, usize>,
}

impl BucketRuns {
    fn push(&mut self, bucket: u64, key: u64, r: u32) {
        let i = match self.runs.last() {
            Some((b, _, _)) if *b == bucket => self.runs.len() - 1,
            _ => *self.at.entry(bucket).or_insert_with(|| {
                self.runs.push((bucket, Vec::new(), (key, key)));
                self.runs.len() - 1
            }),
        };
        if let Some((_, rows, span)) = self.runs.get_mut(i) {
            rows.push(r);
            *span = widen(*span, key);
        }
    }
}

/// The least and greatest key a bucket of an [`Ordered`] index has held.
type Span = (u64, u64);

fn widen((lo, hi): Span, key: u64) -> Span {
    (lo.min(key), hi.max(key))
}

/// An ordered index: rows by bucket of an order-preserving key. Ranges are answered by the
/// union of the buckets strictly inside (exact) and the edge buckets (to be verified).
///
/// Each bucket also keeps the span of keys it has held since it was made (widened by every
/// key that enters, and dropped with the bucket once it is empty; a row leaving does not
/// narrow it, which would need its other rows' keys). An edge bucket whose span lies
/// wholly inside or outside a range is settled without reading a row: a bucket of one value
/// (`plan = 2` among plans 1, 2 and 3, a price shared by a fifth of the book) holds only
/// that key, and checking its rows one by one made `eq` on such a value take 40 ms at
/// 1,000,000 contacts.
#[derive(Debug, Clone)]
pub(crate) struct Ordered {
    shift: u32,
    pub(crate) buckets: BTreeMap<u64, RoaringBitmap>,
    spans: FxMap<u64, Span>,
}

impl Ordered {
    pub(crate) fn new(shift: u32) -> Ordered {
        Ordered {
            shift,
            buckets: BTreeMap::new(),
            spans: FxMap::default(),
        }
    }

    pub(crate) fn bucket(&self, key: u64) -> u64 {
        key >> self.shift
    }

    /// The span of keys bucket `b` has held (see [`Ordered`]).
    pub(crate) fn span(&self, b: u64) -> Option<Span> {
        self.spans.get(&b).copied()
    }

    fn widen_span(&mut self, b: u64, span: Span) {
        self.spans
            .entry(b)
            .and_modify(|s| *s = widen(widen(*s, span.0), span.1))
            .or_insert(span);
    }

    /// Removes `rows` from bucket `b`, and the bucket (with its span) once it is empty.
    fn take_out(&mut self, b: u64, rows: &[u32]) {
        if let Some(bm) = self.buckets.get_mut(&b) {
            for r in rows {
                bm.remove(*r);
            }
            if bm.is_empty() {
                self.buckets.remove(&b);
                self.spans.remove(&b);
            }
        }
    }

    pub(crate) fn insert(&mut self, key: u64, r: u32) {
        let b = key >> self.shift;
        self.buckets.entry(b).or_default().insert(r);
        self.widen_span(b, (key, key));
    }

    pub(crate) fn remove(&mut self, key: u64, r: u32) {
        self.take_out(key >> self.shift, &[r]);
    }

    /// Adds rows with their keys, as [`Ordered::insert`] would one by one: grouped by
    /// bucket, each bucket looked up once and its rows going in at once.
    pub(crate) fn add_many(&mut self, pairs: &[(u64, u32)]) {
        let mut runs = BucketRuns::default();
        for &(k, r) in pairs {
            runs.push(k >> self.shift, k, r);
        }
        self.add_runs(runs);
    }

    /// Adds each run's rows to its bucket, sorted (a batch's new rows mostly come sorted).
    fn add_runs(&mut self, runs: BucketRuns) {
        for (b, mut rows, span) in runs.runs {
            if !rows.is_sorted() {
                rows.sort_unstable();
            }
            add_rows(self.buckets.entry(b).or_default(), &rows);
            self.widen_span(b, span);
        }
    }

    /// Moves rows from their old keys to new ones, as [`Ordered::move_key`] would one by
    /// one. `moves` holds `(old, new, row)`, each row once, in ascending row order: the
    /// rows leaving a bucket come out of it together and those entering one go in as one
    /// ascending run, each bucket looked up once (a batch of boots sends all its rows to
    /// the bucket of about now).
    pub(crate) fn move_many(&mut self, moves: &[(u64, u64, u32)]) {
        let shift = self.shift;
        let mut leaving = BucketRuns::default();
        let mut entering = BucketRuns::default();
        for &(old, new, r) in moves {
            if old >> shift != new >> shift {
                leaving.push(old >> shift, old, r);
                entering.push(new >> shift, new, r);
            } else {
                // Within its bucket, a row's new key may still widen the span.
                self.widen_span(new >> shift, (new, new));
            }
        }
        for (b, rows, _) in leaving.runs {
            self.take_out(b, &rows);
        }
        self.add_runs(entering);
    }

    /// Moves row `r` from key `old` to key `new`: within one bucket, only the span may
    /// widen.
    pub(crate) fn move_key(&mut self, old: u64, new: u64, r: u32) {
        if old >> self.shift != new >> self.shift {
            self.remove(old, r);
            self.insert(new, r);
        } else {
            self.widen_span(new >> self.shift, (new, new));
        }
    }

    /// The rows whose key may lie within `lo..hi`: `(exact, edge)`, where every row of
    /// `exact` lies inside and the rows of `edge` must be checked. `exact_lo`/`exact_hi`
    /// say that a bound's key decides on its own which stored values it admits (a value's
    /// key compares to the bound's key as the value compares to the bound), so an edge
    /// bucket that the bound's key covers whole (or not at all) needs no check. `all`, when
    /// given, is every row of this index: then a range covering most buckets is answered
    /// as `all` less the few buckets outside it.
    pub(crate) fn range(
        &self,
        lo: Bound<u64>,
        hi: Bound<u64>,
        exact_lo: bool,
        exact_hi: bool,
        all: Option<&RoaringBitmap>,
    ) -> (RoaringBitmap, RoaringBitmap) {
        let mask = (1u64 << self.shift) - 1;
        let key = |b: Bound<u64>| match b {
            Bound::Included(k) | Bound::Excluded(k) => Some(k),
            Bound::Unbounded => None,
        };
        let blo = key(lo).map(|k| k >> self.shift);
        let bhi = key(hi).map(|k| k >> self.shift);
        if blo.unwrap_or(0) > bhi.unwrap_or(u64::MAX) {
            return (RoaringBitmap::new(), RoaringBitmap::new());
        }
        // Each edge bucket: wholly inside, wholly outside, or to be checked.
        let lo_edge = match lo {
            Bound::Included(k) if exact_lo && k & mask == 0 => Edge::In,
            Bound::Excluded(k) if exact_lo && k & mask == mask => Edge::Out,
            _ => Edge::Check,
        };
        let hi_edge = match hi {
            Bound::Included(k) if exact_hi && k & mask == mask => Edge::In,
            Bound::Excluded(k) if exact_hi && k & mask == 0 => Edge::Out,
            _ => Edge::Check,
        };
        let mut edges: Vec<(u64, Edge)> = Vec::with_capacity(2);
        match (blo, bhi) {
            (Some(a), Some(z)) if a == z => edges.push((a, lo_edge.and(hi_edge))),
            _ => {
                if let Some(a) = blo {
                    edges.push((a, lo_edge));
                }
                if let Some(z) = bhi {
                    edges.push((z, hi_edge));
                }
            }
        }
        let inner_lo = blo.map_or(Bound::Unbounded, Bound::Excluded);
        let inner_hi = bhi.map_or(Bound::Unbounded, Bound::Excluded);
        let has_inner = !matches!((blo, bhi), (Some(a), Some(z)) if z <= a + 1);
        let inner = || {
            has_inner
                .then(|| self.buckets.range((inner_lo, inner_hi)))
                .into_iter()
                .flatten()
        };
        let mut full: Vec<&RoaringBitmap> = Vec::new();
        let mut out: Vec<&RoaringBitmap> = Vec::new();
        let mut check: Vec<&RoaringBitmap> = Vec::new();
        for (b, e) in &mut edges {
            if *e == Edge::Check {
                if let Some(span) = self.span(*b) {
                    *e = span_edge(span, (lo, hi), (exact_lo, exact_hi));
                }
            }
            if let Some(bm) = self.buckets.get(b) {
                match e {
                    Edge::In => full.push(bm),
                    Edge::Out => out.push(bm),
                    Edge::Check => check.push(bm),
                }
            }
        }
        let n_edges = full.len() + out.len() + check.len();
        let edge = check.union();
        if let Some(all) = all {
            let n_inner = inner().count();
            let n_outer = self.buckets.len().saturating_sub(n_inner + n_edges);
            if n_outer < n_inner {
                if let Some(a) = blo {
                    out.extend(self.buckets.range(..a).map(|(_, bm)| bm));
                }
                if let Some(z) = bhi {
                    out.extend(
                        self.buckets
                            .range((Bound::Excluded(z), Bound::Unbounded))
                            .map(|(_, bm)| bm),
                    );
                }
                let mut exact = all - out.union();
                exact -= &edge;
                return (exact, edge);
            }
        }
        full.extend(inner().map(|(_, bm)| bm));
        (full.union(), edge)
    }

    /// The rows that may hold one of these keys, whose keys decide alone (numbers):
    /// `(exact, check)`, the rows of buckets that have only ever held one of the keys,
    /// and those of the other buckets holding a key, to be checked. A bucket whose span
    /// holds none of the keys is passed over.
    pub(crate) fn around(&self, keys: impl Iterator<Item = u64>) -> (RoaringBitmap, RoaringBitmap) {
        let mut keys: Vec<u64> = keys.collect();
        keys.sort_unstable();
        keys.dedup();
        let (mut exact, mut check) = (RoaringBitmap::new(), RoaringBitmap::new());
        let mut last = None;
        for &k in &keys {
            let b = k >> self.shift;
            if last == Some(b) {
                continue;
            }
            last = Some(b);
            let (Some(bm), Some((lo, hi))) = (self.buckets.get(&b), self.span(b)) else {
                continue;
            };
            if keys.iter().any(|k| (lo..=hi).contains(k)) {
                if lo == hi {
                    exact |= bm;
                } else {
                    check |= bm;
                }
            }
        }
        (exact, check)
    }
}

/// How a bucket whose keys lie within `span` stands against the range `bounds`: wholly
/// inside, wholly outside, or to be checked. A bound whose side is `exact` decides by its
/// key alone; else only keys strictly beyond it are sure (a key floors its value, as an
/// instant's millisecond, so a value of the bound's own key may lie either side).
fn span_edge(
    (min, max): Span,
    (lo, hi): (Bound<u64>, Bound<u64>),
    (exact_lo, exact_hi): (bool, bool),
) -> Edge {
    use Bound::{Excluded, Included, Unbounded};
    // Whether key `k` surely lies above the low bound, or surely below it.
    let above_lo = |k: u64| match lo {
        Unbounded => true,
        Included(b) => k > b || (exact_lo && k == b),
        Excluded(b) => k > b,
    };
    let below_lo = |k: u64| match lo {
        Unbounded => false,
        Included(b) => k < b,
        Excluded(b) => k < b || (exact_lo && k == b),
    };
    let below_hi = |k: u64| match hi {
        Unbounded => true,
        Included(b) => k < b || (exact_hi && k == b),
        Excluded(b) => k < b,
    };
    let above_hi = |k: u64| match hi {
        Unbounded => false,
        Included(b) => k > b,
        Excluded(b) => k > b || (exact_hi && k == b),
    };
    if above_lo(min) && below_hi(max) {
        Edge::In
    } else if below_lo(max) || above_hi(min) {
        Edge::Out
    } else {
        Edge::Check
    }
}

/// How an edge bucket of a range stands against its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edge {
    In,
    Out,
    Check,
}

impl Edge {
    /// Both bounds on one bucket.
    fn and(self, other: Edge) -> Edge {
        match (self, other) {
            (Edge::Out, _) | (_, Edge::Out) => Edge::Out,
            (Edge::In, Edge::In) => Edge::In,
            _ => Edge::Check,
        }
    }
}

/// A byte-trigram index of strings: rows by each 3-byte window of their text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Trigrams {
    grams: FxMap<u32, RoaringBitmap>,
}

/// The distinct trigrams of some texts.
pub(crate) fn grams_of<'a>(texts: impl IntoIterator<Item = &'a [u8]>) -> Vec<u32> {
    let mut out = Vec::new();
    grams_into(texts, &mut out);
    out
}

/// The trigrams of some texts, repeats kept, appended to `out`.
pub(crate) fn grams_push<'a>(texts: impl IntoIterator<Item = &'a [u8]>, out: &mut Vec<u32>) {
    for t in texts {
        out.extend(t.windows(3).map(|w| gram(w[0], w[1], w[2])));
    }
}

/// The trigram of three bytes.
fn gram(a: u8, b: u8, c: u8) -> u32 {
    u32::from(a) << 16 | u32::from(b) << 8 | u32::from(c)
}

/// The trigrams of an ASCII text's lower case, repeats kept, appended to `out`: the grams
/// of its folded text, without building that text.
pub(crate) fn grams_push_lower(t: &[u8], out: &mut Vec<u32>) {
    let lower = u8::to_ascii_lowercase;
    out.extend(
        t.windows(3)
            .map(|w| gram(lower(&w[0]), lower(&w[1]), lower(&w[2]))),
    );
}

/// The distinct trigrams of some texts, into `out` (cleared first; its buffer is reused).
pub(crate) fn grams_into<'a>(texts: impl IntoIterator<Item = &'a [u8]>, out: &mut Vec<u32>) {
    out.clear();
    grams_push(texts, out);
    out.sort_unstable();
    out.dedup();
}

impl Trigrams {
    /// Adds one row's grams (the store adds in batches, [`Trigrams::apply_batch`]).
    #[cfg(test)]
    pub(crate) fn insert(&mut self, grams: &[u32], r: u32) {
        for g in grams {
            self.grams.entry(*g).or_default().insert(r);
        }
    }

    /// Applies many rows' changes at once: `removes` then `adds`, as (gram, row) pairs,
    /// grouped by gram first (in a small map that stays in cache) so each gram's bitmap in
    /// the big index is looked up once per batch. A pair may come more than once (a gram
    /// twice in one text): each gram's rows are sorted and deduplicated here, once, rather
    /// than each text's grams.
    pub(crate) fn apply_batch(&mut self, removes: Vec<(u32, u32)>, adds: Vec<(u32, u32)>) {
        let group = |v: Vec<(u32, u32)>| {
            let mut m: FxMap<u32, Vec<u32>> = FxMap::default();
            for (g, r) in v {
                m.entry(g).or_default().push(r);
            }
            m
        };
        for (g, rows) in group(removes) {
            if let Some(bm) = self.grams.get_mut(&g) {
                for r in rows {
                    bm.remove(r);
                }
                if bm.is_empty() {
                    self.grams.remove(&g);
                }
            }
        }
        // A gram's new rows, sorted and distinct, go in at once ([`add_rows`]).
        for (g, mut rows) in group(adds) {
            rows.sort_unstable();
            rows.dedup();
            add_rows(self.grams.entry(g).or_default(), &rows);
        }
    }

    /// Every gram with its rows, in gram order.
    #[cfg(test)]
    pub(crate) fn digest(&self) -> Vec<(u32, Vec<u32>)> {
        let mut v: Vec<(u32, Vec<u32>)> = self
            .grams
            .iter()
            .map(|(g, b)| (*g, b.iter().collect()))
            .collect();
        v.sort();
        v
    }

    /// Removes one row's grams.
    #[cfg(test)]
    pub(crate) fn remove(&mut self, grams: &[u32], r: u32) {
        for g in grams {
            if let Some(bm) = self.grams.get_mut(g) {
                bm.remove(r);
                if bm.is_empty() {
                    self.grams.remove(g);
                }
            }
        }
    }

    /// The rows whose text holds every trigram of `needle` (a superset of the rows that
    /// contain it; exact for a 3-byte needle); `None` for a needle under 3 bytes.
    pub(crate) fn candidates(&self, needle: &str) -> Option<RoaringBitmap> {
        if needle.len() < 3 {
            return None;
        }
        let grams = grams_of([needle.as_bytes()]);
        let mut lists: Vec<&RoaringBitmap> = Vec::with_capacity(grams.len());
        for g in &grams {
            match self.grams.get(g) {
                Some(b) => lists.push(b),
                None => return Some(RoaringBitmap::new()),
            }
        }
        lists.sort_by_key(|b| b.len());
        let mut it = lists.into_iter();
        let mut acc = it.next().cloned().unwrap_or_default();
        for b in it {
            if acc.is_empty() {
                break;
            }
            acc &= b;
        }
        Some(acc)
    }
}

/// The fingerprint of a folded text in a [`Fingerprints`] table.
pub(crate) use crate::filter::text_fingerprint as fingerprint;

/// An empty slot of a [`Fingerprints`] table.
const FP_EMPTY: u64 = u64::MAX;

/// Marks a slot whose fingerprint is held by several rows, kept in `Fingerprints::shared`.
const FP_SHARED: u32 = u32::MAX - 1;

/// A compact exact-text side index: one `(fingerprint, row)` slot per distinct fingerprint
/// in a flat open-addressing array (linear probing, backward-shift deletion), 8 bytes a
/// slot and no allocation per value. A fingerprint held by several rows (contacts sharing
/// an email, or a collision) has one slot marked shared and its rows in a bitmap beside
/// the table, so probe runs stay as short as the number of distinct fingerprints allows
/// however many rows share one. A lookup yields the rows whose text *may* fold to the term
/// (fingerprints can collide); the caller checks each row's value. A fingerprint's home
/// slot is derived from the fingerprint itself, so entries can be moved without their
/// text.
#[derive(Debug, Clone, Default)]
pub(crate) struct Fingerprints {
    slots: Vec<u64>,
    /// Distinct fingerprints held.
    used: usize,
    /// `(fingerprint, row)` pairs held.
    pairs: usize,
    shared: FxMap<u32, RoaringBitmap>,
}

impl Fingerprints {
    fn home(&self, fp: u32) -> usize {
        ((u64::from(fp) * self.slots.len() as u64) >> 32) as usize
    }

    /// The slot where probing for `fp` starts (for prefetching); `None` when empty.
    pub(crate) fn slot_ptr(&self, fp: u32) -> Option<*const u64> {
        if self.slots.is_empty() {
            return None;
        }
        self.slots.get(self.home(fp)).map(|s| s as *const u64)
    }

    /// The slot holding `fp`, or the empty slot ending its probe run (`Err`).
    fn find(&self, fp: u32) -> std::result::Result<usize, usize> {
        let cap = self.slots.len();
        let mut i = self.home(fp);
        loop {
            let e = self.slots[i];
            if e == FP_EMPTY {
                return Err(i);
            }
            if (e >> 32) as u32 == fp {
                return Ok(i);
            }
            i += 1;
            if i == cap {
                i = 0;
            }
        }
    }

    /// Adds `(fp, r)` (once: an equal pair already held is kept).
    pub(crate) fn insert(&mut self, fp: u32, r: u32) {
        if (self.used + 1) * 5 > self.slots.len() * 4 {
            self.grow();
        }
        match self.find(fp) {
            Err(i) if r < FP_SHARED => {
                self.slots[i] = u64::from(fp) << 32 | u64::from(r);
                self.used += 1;
                self.pairs += 1;
            }
            Err(i) => {
                // A row number that would read as a marker is held in the bitmap.
                self.slots[i] = u64::from(fp) << 32 | u64::from(FP_SHARED);
                self.shared.entry(fp).or_default().insert(r);
                self.used += 1;
                self.pairs += 1;
            }
            Ok(i) => {
                let x = self.slots[i] as u32;
                if x == r && x != FP_SHARED {
                    return;
                }
                let rows = self.shared.entry(fp).or_default();
                if x != FP_SHARED {
                    rows.insert(x);
                    self.slots[i] = u64::from(fp) << 32 | u64::from(FP_SHARED);
                }
                if rows.insert(r) {
                    self.pairs += 1;
                }
            }
        }
    }

    /// Removes `(fp, r)` if held.
    pub(crate) fn remove(&mut self, fp: u32, r: u32) {
        if self.slots.is_empty() {
            return;
        }
        let Ok(mut i) = self.find(fp) else {
            return;
        };
        let x = self.slots[i] as u32;
        if x == FP_SHARED {
            let Some(rows) = self.shared.get_mut(&fp) else {
                return;
            };
            if !rows.remove(r) {
                return;
            }
            self.pairs -= 1;
            match rows.len() {
                0 => {
                    self.shared.remove(&fp);
                }
                1 => {
                    let last = rows.min().unwrap_or(FP_SHARED);
                    if last < FP_SHARED {
                        self.shared.remove(&fp);
                        self.slots[i] = u64::from(fp) << 32 | u64::from(last);
                    }
                    return;
                }
                _ => return,
            }
        } else if x != r {
            return;
        } else {
            self.pairs -= 1;
        }
        // The slot empties. Backward-shift: move later entries of the run into the hole
        // when their home does not lie cyclically in (hole, their slot].
        let cap = self.slots.len();
        let mut j = i;
        loop {
            j += 1;
            if j == cap {
                j = 0;
            }
            let e = self.slots[j];
            if e == FP_EMPTY {
                break;
            }
            let k = self.home((e >> 32) as u32);
            let stays = if i <= j {
                i < k && k <= j
            } else {
                i < k || k <= j
            };
            if !stays {
                self.slots[i] = e;
                i = j;
            }
        }
        self.slots[i] = FP_EMPTY;
        self.used -= 1;
    }

    /// Calls `f` with each row held under `fp`.
    pub(crate) fn rows(&self, fp: u32, mut f: impl FnMut(u32)) {
        if self.slots.is_empty() {
            return;
        }
        if let Ok(i) = self.find(fp) {
            let x = self.slots[i] as u32;
            if x == FP_SHARED {
                if let Some(rows) = self.shared.get(&fp) {
                    rows.iter().for_each(f);
                }
            } else {
                f(x);
            }
        }
    }

    fn grow(&mut self) {
        let cap = (self.slots.len() * 3 / 2).max(16);
        let old = std::mem::replace(&mut self.slots, vec![FP_EMPTY; cap]);
        for e in old {
            if e != FP_EMPTY {
                // Each fingerprint has one slot, so it goes to the first free one.
                if let Err(i) = self.find((e >> 32) as u32) {
                    self.slots[i] = e;
                }
            }
        }
    }

    /// Whether no pair is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.pairs == 0
    }

    /// How many pairs are held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.pairs
    }

    /// How many slots are in use (one per distinct fingerprint).
    #[cfg(test)]
    pub(crate) fn distinct(&self) -> usize {
        self.used
    }
}

/// Hints the CPU to bring the cache line at `p` in (a no-op where unsupported).
#[inline]
pub(crate) fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: prefetching is a hint; it never faults, whatever the address.
    unsafe {
        core::arch::x86_64::_mm_prefetch(p.cast::<i8>(), core::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

#[cfg(test)]
mod seq_rows_tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    /// Contacts numbered in storing order take no hash-table entry.
    #[test]
    fn rows_in_numbering_order_are_not_hashed() {
        let mut rows: Vec<Option<u64>> = Vec::new();
        let mut t = SeqRows::default();
        for n in 10..1_010u64 {
            let r = rows.len() as u32;
            rows.push(None);
            t.insert(n, r, |x| rows.get(x as usize).copied().flatten());
            rows[r as usize] = Some(n);
        }
        assert_eq!(t.hashed(), 0);
        assert_eq!(
            t.get(500, |x| rows.get(x as usize).copied().flatten()),
            Some(490)
        );
        assert_eq!(t.get(5, |x| rows.get(x as usize).copied().flatten()), None);
    }

    proptest! {
        /// `SeqRows` answers as a map of number to row would, through inserts, removes
        /// and the table's growth, reading each entry's number back from its "row".
        #[test]
        fn seq_rows_answer_as_a_map_would(
            first in 0u64..5,
            ops in proptest::collection::vec((0u8..4, 0u64..3_000), 0..2_000),
            probes in proptest::collection::vec(0u64..3_100, 0..200),
        ) {
            // rows[r] is the number row r holds (None: free); freed rows are reused.
            let mut rows: Vec<Option<u64>> = Vec::new();
            let mut free: Vec<u32> = Vec::new();
            let mut t = SeqRows::default();
            let mut model: HashMap<u64, u32> = HashMap::new();
            // Mostly numbers in storing order (placed rows), some from anywhere.
            let mut next = first;
            for (op, n) in ops {
                let n = match op {
                    0 | 1 => {
                        next += 1;
                        next - 1
                    }
                    _ => n,
                };
                if op < 3 && !model.contains_key(&n) {
                    let r = free.pop().unwrap_or_else(|| {
                        rows.push(None);
                        (rows.len() - 1) as u32
                    });
                    t.insert(n, r, |x| rows.get(x as usize).copied().flatten());
                    rows[r as usize] = Some(n);
                    model.insert(n, r);
                } else if op == 3 {
                    if let Some(r) = model.remove(&n) {
                        t.remove(n, |x| rows.get(x as usize).copied().flatten());
                        rows[r as usize] = None;
                        free.push(r);
                    }
                }
            }
            for n in probes.into_iter().chain(model.keys().copied().collect::<Vec<_>>()) {
                let got = t.get(n, |x| rows.get(x as usize).copied().flatten());
                prop_assert_eq!(got, model.get(&n).copied(), "{}", n);
            }
        }
    }
}

#[cfg(test)]
mod gram_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The grams of an ASCII text taken byte by byte in lower case are the grams of
        /// its folded text (R-FLT-1 quick search reads names folded).
        #[test]
        fn lower_case_grams_of_ascii_are_the_grams_of_its_folding(s in "[ -~]{0,40}") {
            let mut got = Vec::new();
            grams_push_lower(s.as_bytes(), &mut got);
            let mut want = Vec::new();
            grams_push([crate::text::fold(&s).as_bytes()], &mut want);
            prop_assert_eq!(got, want);
        }

        /// A posting given rows in bulk holds what it holds given them one by one.
        #[test]
        fn bulk_posting_inserts_hold_the_rows_of_single_inserts(
            first in 0u32..50,
            rows in proptest::collection::btree_set(50u32..200, 0..20),
            shuffle in any::<u64>(),
        ) {
            let mut rows: Vec<u32> = rows.into_iter().collect();
            if shuffle % 2 == 0 {
                rows.reverse();
            }
            let mut bulk: FxMap<Box<str>, Posting> = FxMap::default();
            let mut each: FxMap<Box<str>, Posting> = FxMap::default();
            if shuffle % 3 == 0 {
                post_insert(&mut bulk, "k", first);
                post_insert(&mut each, "k", first);
            }
            post_insert_many(&mut bulk, "k", &rows);
            for r in &rows {
                post_insert(&mut each, "k", *r);
            }
            prop_assert_eq!(bulk.get("k").map(Posting::rows), each.get("k").map(Posting::rows));
            // A posting of one row is `One`, as the single inserts leave it.
            prop_assert_eq!(
                matches!(bulk.get("k"), Some(Posting::One(_))),
                matches!(each.get("k"), Some(Posting::One(_)))
            );
        }
    }
}
