//! Indexed evaluation of a compiled query over a [`Table`]: bitmaps for the set algebra,
//! hash, ordered, list and trigram indexes for the conditions, candidate rows checked with
//! the filter's own semantics where an index is not exact, and a bucket walk for sorted
//! pages.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::ops::{Bound, RangeBounds};

use chrono::{DateTime, Utc};

use roaring::RoaringBitmap;

use super::blob::PhoneStr;
use super::index::{date_key, dt_key, fingerprint, num_key, prefetch, Ordered};
use super::table::{
    instant_micros, parse_seq, FieldIx, IdKey, IdRef, QuickIx, Slot, Table, KEY_EMAIL, KEY_MOBILE,
    KEY_NAME, K_DATE, K_DT, K_NUM, K_TEXT, S_CREATED, S_LAST_SEEN, S_MEMBER_ID, S_UPDATED,
};
use super::text_order::ORDER_FROM;
use super::zones::{time_key, time_zone_key, total_order, zone_key, zone_start, ZONE_ROWS};
use crate::contact::Contact;
use crate::filter::{
    phone_digits_match, Arg, CompiledCondition, CompiledQuery, EvalCtx, FieldValue, Include,
    InstantRange, Op, Page, PlanNode, QuickSearch, RowKey, SortVal, TermList, Terms, TextMode,
};
use crate::text::fold_cow;
use crate::value::FieldType;

/// A row's position in a sort while a page is picked: its first sort value inline, the
/// others (if any) in a vector, and its id borrowed.
struct PKey<'a> {
    first: Option<SortVal>,
    rest: Vec<Option<SortVal>>,
    id: IdRef<'a>,
}

impl PKey<'_> {
    fn val(&self, i: usize) -> Option<&SortVal> {
        match i {
            0 => self.first.as_ref(),
            _ => self.rest.get(i - 1).and_then(Option::as_ref),
        }
    }
}

/// Each term's rows, flat.
#[derive(Default)]
pub(crate) struct TermRows {
    rows: Vec<u32>,
    ends: Vec<usize>,
}

impl TermRows {
    fn of(&self, i: usize) -> &[u32] {
        let start = if i == 0 {
            0
        } else {
            self.ends.get(i - 1).copied().unwrap_or(0)
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.rows.get(start..end).unwrap_or(&[])
    }
}

fn bound_key<T>(b: Bound<T>, key: impl Fn(&T) -> u64) -> Bound<u64> {
    match b {
        Bound::Included(t) => Bound::Included(key(&t)),
        Bound::Excluded(t) => Bound::Excluded(key(&t)),
        Bound::Unbounded => Bound::Unbounded,
    }
}

impl Table {
    /// Runs a whole query.
    pub(crate) fn search(&self, q: &CompiledQuery, ctx: &EvalCtx) -> Page {
        let (m, terms) = self.matching(q, ctx);
        let unmatched_terms = match (&q.terms, terms) {
            (Some(t), Some((all_terms, term_rows))) => {
                let term_hits = all_terms.len();
                // A term is matched iff one of its rows is in the result, a subset of the
                // term rows. Membership is checked against the smaller of the result and
                // the term rows it lost (hidden, blocked, filtered out) as a sorted list:
                // a binary search in a few KB, not a bitmap lookup per row.
                let kept = m.len() <= term_hits - m.len().min(term_hits);
                let set: Vec<u32> = if kept {
                    m.iter().collect()
                } else {
                    (&all_terms - &m).iter().collect()
                };
                let idx: Vec<u32> = (0..t.len() as u32)
                    .filter(|i| {
                        !term_rows
                            .of(*i as usize)
                            .iter()
                            .any(|r| set.binary_search(r).is_ok() == kept)
                    })
                    .collect();
                t.list(idx)
            }
            _ => TermList::default(),
        };
        let (contacts, next_cursor) = self.page(&m, q, ctx);
        Page {
            contacts,
            total: m.len(),
            next_cursor,
            unmatched_terms,
        }
    }

    /// The rows a query matches (its listing, terms, quick search and filter; not its sort
    /// or paging), with the rows of its terms when it has terms.
    pub(crate) fn matching(
        &self,
        q: &CompiledQuery,
        ctx: &EvalCtx,
    ) -> (RoaringBitmap, Option<(RoaringBitmap, TermRows)>) {
        // The included rows (of the terms' rows, when there are terms: a few rows, where
        // the visible set of a large book is a bitmap of 8 KiB containers to build).
        let included = |within: Option<&RoaringBitmap>| match q.include {
            Include::Visible => {
                let mut b = match within {
                    Some(w) => w & &self.live,
                    None => self.live.clone(),
                };
                b -= &self.blocked;
                b -= &self.hidden;
                b
            }
            Include::Blocked => match within {
                Some(w) => w & &self.blocked,
                None => self.blocked.clone(),
            },
            Include::Hidden => {
                let mut b = match within {
                    Some(w) => w & &self.hidden,
                    None => self.hidden.clone(),
                };
                b -= &self.blocked;
                b
            }
        };
        let mut term_rows = TermRows::default();
        let mut all_terms = RoaringBitmap::new();
        let mut m = match &q.terms {
            Some(t) => {
                let (all, per) = self.terms(t);
                all_terms = all;
                term_rows = per;
                included(Some(&all_terms))
            }
            None => included(None),
        };
        if let Some(s) = &q.quick {
            m = self.quick(s, m);
        }
        let m = self.eval(&q.plan.root, m, ctx);
        (m, q.terms.as_ref().map(|_| (all_terms, term_rows)))
    }

    /// The rows matching any term, and each term's rows (`rows[ends[i-1]..ends[i]]`).
    fn terms(&self, t: &Terms) -> (RoaringBitmap, TermRows) {
        let per = self.term_rows(t);
        let mut sorted = per.rows.clone();
        sorted.sort_unstable();
        sorted.dedup();
        let all = RoaringBitmap::from_sorted_iter(sorted).unwrap_or_default();
        (all, per)
    }

    /// Each term's rows. Terms go in chunks: first every identity lookup of the chunk is
    /// hashed and its slot in the field's [`Fingerprints`](super::index::Fingerprints)
    /// table prefetched, then the tables are probed (each candidate row prefetched), then
    /// every candidate is checked against its row's value (fingerprints can collide).
    /// Email, name and `memberId` are probed by the folded term, the mobile number by the
    /// term's E.164 form.
    fn term_rows(&self, terms: &Terms) -> TermRows {
        const CHUNK: usize = 256;
        const EMAIL: u8 = 0;
        const MOBILE: u8 = 1;
        const MEMBER: u8 = 2;
        const NAME: u8 = 3;
        let mut rows: Vec<u32> = Vec::new();
        let mut ends: Vec<usize> = Vec::with_capacity(terms.len());
        let empty = FieldIx::default();
        let email = self.ix(Slot::Profile(KEY_EMAIL)).unwrap_or(&empty);
        let name = self.ix(Slot::Profile(KEY_NAME)).unwrap_or(&empty);
        let mobile = self.ix(Slot::Profile(KEY_MOBILE)).unwrap_or(&empty);
        let member = self.ix(Slot::Sys(S_MEMBER_ID)).unwrap_or(&empty);
        let fields = [email, mobile, member, name];
        let fps = [
            self.fps_of(Slot::Profile(KEY_EMAIL), email),
            self.fps_of(Slot::Profile(KEY_MOBILE), mobile),
            self.fps_of(Slot::Sys(S_MEMBER_ID), member),
            self.fps_of(Slot::Profile(KEY_NAME), name),
        ];
        // (term in chunk, field, fingerprint) and (term in chunk, field, row).
        let mut probes: Vec<(usize, u8, u32)> = Vec::with_capacity(CHUNK * 2);
        let mut cands: Vec<(usize, u8, u32)> = Vec::with_capacity(CHUNK * 2);
        let mut hits: Vec<(usize, u32)> = Vec::with_capacity(CHUNK * 2);
        for (chunk, keys) in terms.terms().chunks(CHUNK).zip(terms.keys().chunks(CHUNK)) {
            probes.clear();
            cands.clear();
            hits.clear();
            for (i, k) in keys.iter().enumerate() {
                if email.may_hold_shape(k.has_at, k.plus) {
                    probes.push((i, EMAIL, k.fp));
                }
                if k.has_phone {
                    probes.push((i, MOBILE, k.phone_fp));
                }
                // The member id and name indexes are keyed by the folded text too.
                if member.may_hold_shape(k.has_at, k.plus) {
                    probes.push((i, MEMBER, k.fp));
                }
                if name.may_hold_shape(k.has_at, k.plus) {
                    probes.push((i, NAME, k.fp));
                }
            }
            for &(_, field, fp) in &probes {
                if let Some(p) = fps[field as usize].and_then(|t| t.slot_ptr(fp)) {
                    prefetch(p);
                }
            }
            for &(i, field, fp) in &probes {
                let fx = fields[field as usize];
                match fps[field as usize] {
                    Some(t) => t.rows(fp, |r| {
                        if let Some(p) = self.row_ptr(r) {
                            prefetch(p);
                        }
                        cands.push((i, field, r));
                    }),
                    // A field without a fingerprint table: its posting map.
                    None => {
                        if let Some(p) = chunk.get(i).and_then(|t| fx.text.get(t.folded())) {
                            for r in p.rows() {
                                cands.push((i, field, r));
                            }
                        }
                    }
                }
            }
            for &(i, field, r) in &cands {
                if let Some(x) = self.row(r) {
                    prefetch(x.heap_ptr());
                }
                if let Some(t) = chunk.get(i) {
                    prefetch(match field {
                        EMAIL | NAME => t.folded().as_ptr(),
                        MOBILE => t.phone().unwrap_or_default().as_ptr(),
                        _ => t.text.as_ptr(),
                    });
                }
            }
            for &(i, field, r) in &cands {
                let (Some(term), Some(row)) = (chunk.get(i), self.row(r)) else {
                    continue;
                };
                let ok = match field {
                    EMAIL => row.email().is_some_and(|e| fold_cow(e) == term.folded()),
                    MOBILE => {
                        term.phone().is_some()
                            && row.mobile().as_ref().map(PhoneStr::as_str) == term.phone()
                    }
                    NAME => row.name().is_some_and(|e| fold_cow(e) == term.folded()),
                    _ => row.member_id() == Some(term.text.as_str()),
                };
                if ok {
                    hits.push((i, r));
                }
            }
            hits.sort_unstable();
            hits.dedup();
            let mut h = hits.iter().peekable();
            for i in 0..chunk.len() {
                while let Some((_, r)) = h.next_if(|(j, _)| *j == i) {
                    rows.push(*r);
                }
                ends.push(rows.len());
            }
        }
        TermRows { rows, ends }
    }

    /// The rows of `cands` a quick search matches.
    fn quick(&self, s: &QuickSearch, cands: RoaringBitmap) -> RoaringBitmap {
        let f = s.folded();
        let mut out = RoaringBitmap::new();
        let text_part = |tri: &super::index::Trigrams,
                         has: &RoaringBitmap,
                         get: &dyn Fn(u32) -> bool,
                         out: &mut RoaringBitmap| {
            match tri.candidates(f) {
                Some(c) => {
                    let c = c & &cands;
                    if f.len() == 3 {
                        *out |= c;
                    } else {
                        out.extend(c.iter().filter(|r| get(*r)));
                    }
                }
                None => out.extend((has & &cands).iter().filter(|r| get(*r))),
            }
        };
        text_part(
            &self.search_ix().quick.tri[QuickIx::NAME],
            &self.search_ix().quick.has[QuickIx::NAME],
            &|r| {
                self.row(r)
                    .and_then(|x| x.name())
                    .is_some_and(|n| fold_cow(n).contains(f))
            },
            &mut out,
        );
        text_part(
            &self.search_ix().quick.tri[QuickIx::EMAIL],
            &self.search_ix().quick.has[QuickIx::EMAIL],
            &|r| {
                self.row(r)
                    .and_then(|x| x.email())
                    .is_some_and(|n| fold_cow(n).contains(f))
            },
            &mut out,
        );
        if let Some(d) = s.phone_digits() {
            let check = |r: u32| {
                self.row(r)
                    .and_then(|x| x.mobile())
                    .is_some_and(|m| phone_digits_match(m.as_str(), |x| x.contains(d)))
            };
            match self.search_ix().quick.tri[QuickIx::MOBILE].candidates(d) {
                Some(c) => {
                    let c = c & &cands;
                    if d.len() == 3 {
                        out |= c;
                    } else {
                        out.extend(c.iter().filter(|r| check(*r)));
                    }
                }
                None => out.extend(
                    (&self.search_ix().quick.has[QuickIx::MOBILE] & &cands)
                        .iter()
                        .filter(|r| check(*r)),
                ),
            }
        }
        out
    }

    fn cost(node: &PlanNode) -> u8 {
        match node {
            PlanNode::Cond(c) => match c.op {
                Op::Contains | Op::NotContains | Op::StartsWith => 2,
                _ if c.field == crate::filter::Field::Id => 2,
                _ => 0,
            },
            _ => 1,
        }
    }

    /// The rows of `cands` that match `node`.
    fn eval(&self, node: &PlanNode, cands: RoaringBitmap, ctx: &EvalCtx) -> RoaringBitmap {
        if cands.is_empty() {
            return cands;
        }
        match node {
            PlanNode::And(items) => {
                let mut order: Vec<&PlanNode> = items.iter().collect();
                order.sort_by_key(|n| Self::cost(n));
                let mut cur = cands;
                for n in order {
                    cur = self.eval(n, cur, ctx);
                    if cur.is_empty() {
                        break;
                    }
                }
                cur
            }
            PlanNode::Or(items) => {
                let mut order: Vec<&PlanNode> = items.iter().collect();
                order.sort_by_key(|n| Self::cost(n));
                let mut acc = RoaringBitmap::new();
                let mut rest = cands;
                for n in order {
                    let r = self.eval(n, rest.clone(), ctx);
                    rest -= &r;
                    acc |= r;
                    if rest.is_empty() {
                        break;
                    }
                }
                acc
            }
            PlanNode::Not(inner) => {
                let r = self.eval(inner, cands.clone(), ctx);
                cands - r
            }
            PlanNode::Cond(c) => {
                let (op, negated) = match c.op {
                    Op::Ne => (Op::Eq, true),
                    Op::NotIn => (Op::In, true),
                    Op::NotContains => (Op::Contains, true),
                    Op::ContainsNone => (Op::ContainsAny, true),
                    Op::NotExists | Op::IsEmpty => (Op::Exists, true),
                    op => (op, false),
                };
                let pos = self.cond(c, op, negated, &cands, ctx);
                if negated {
                    cands - pos
                } else {
                    pos
                }
            }
        }
    }

    /// The rows of `set` where the condition's positive form holds (checked row by row).
    fn verify(
        &self,
        c: &CompiledCondition,
        slot: Slot,
        negated: bool,
        set: &RoaringBitmap,
        ctx: &EvalCtx,
    ) -> RoaringBitmap {
        self.rows_where(set, slot, |v| c.matches_value(v, ctx) != negated)
    }

    /// The rows of `set` whose value in `slot` passes `test`.
    fn rows_where(
        &self,
        set: &RoaringBitmap,
        slot: Slot,
        test: impl Fn(FieldValue<'_>) -> bool,
    ) -> RoaringBitmap {
        // Rows come out of `set` ascending, so the bitmap is built by appending.
        RoaringBitmap::from_sorted_iter(set.iter().filter(|r| {
            self.row(*r)
                .is_some_and(|row| self.with_value(row, slot, &test))
        }))
        .unwrap_or_default()
    }

    /// The rows of `cands` where the positive operator `op` of `c` holds (`negated`: `c`
    /// is the negative twin, so its verdict is inverted when checking rows).
    fn cond(
        &self,
        c: &CompiledCondition,
        op: Op,
        negated: bool,
        cands: &RoaringBitmap,
        ctx: &EvalCtx,
    ) -> RoaringBitmap {
        let slot = self.slot(&c.field);
        if slot == Slot::Id {
            if let (Op::Eq | Op::In, Arg::TextSet(set)) = (op, &c.arg) {
                let mut b = RoaringBitmap::new();
                for s in set {
                    if let Some(r) = self.row_of(s) {
                        if cands.contains(r) {
                            b.insert(r);
                        }
                    }
                }
                return self.verify(c, slot, negated, &b, ctx);
            }
            return self.verify(c, slot, negated, cands, ctx);
        }
        let Some(fx) = self.ix(slot) else {
            return RoaringBitmap::new();
        };
        let present = || &fx.exists & cands;
        if let Some(bounds) = num_range(op, &c.arg) {
            let all = (fx.kinds[K_NUM] == fx.exists.len()).then_some(&fx.exists);
            return self.ordered(
                &|set: &RoaringBitmap| self.verify(c, slot, negated, set, ctx),
                &fx.num,
                bounds,
                (true, true),
                all,
                cands,
                None,
            );
        }
        match (op, &c.arg) {
            (Op::Exists, _) => present(),
            (Op::Eq | Op::In, Arg::TextSet(set)) => {
                // A posting map answers exactly; a fingerprint table gives candidates.
                let mut b = RoaringBitmap::new();
                let mut rows: Vec<u32> = Vec::new();
                for s in set {
                    let f = fold_cow(s);
                    match self.fps_of(slot, fx) {
                        Some(fps) => fps.rows(fingerprint(&f), |r| rows.push(r)),
                        None => {
                            if let Some(p) = fx.text.get(f.as_ref()) {
                                p.or_into(&mut b);
                            }
                        }
                    }
                }
                rows.sort_unstable();
                rows.dedup();
                b |= RoaringBitmap::from_sorted_iter(rows).unwrap_or_default();
                b &= cands;
                if self.fps_of(slot, fx).is_none() && c.mode == TextMode::Folded {
                    b
                } else {
                    self.verify(c, slot, negated, &b, ctx)
                }
            }
            (Op::Contains | Op::StartsWith, Arg::Text(needle)) => {
                self.text_match(c, slot, fx, op, needle, negated, cands, ctx)
            }
            (Op::In, Arg::NumberSet(xs)) => {
                let (exact, check) = fx.num.around(xs.iter().map(|x| num_key(*x)));
                (exact & cands) | self.verify(c, slot, negated, &(check & cands), ctx)
            }
            (Op::Eq, Arg::Boolean(x)) => &fx.bools[usize::from(*x)] & cands,
            (_, Arg::Time(_) | Arg::TimeRange(..) | Arg::Duration(_)) => {
                let mut out = RoaringBitmap::new();
                match c.instant_range(ctx) {
                    Some((lo, hi)) => {
                        // A millisecond-aligned inclusive low or exclusive high bound
                        // decides by its key alone (keys floor to the millisecond).
                        let aligned =
                            |t: &DateTime<Utc>| t.timestamp_subsec_nanos() % 1_000_000 == 0;
                        let exact = (
                            matches!(&lo, Bound::Included(t) if aligned(t)),
                            matches!(&hi, Bound::Excluded(t) if aligned(t)),
                        );
                        let all = (fx.kinds[K_DT] == fx.exists.len()).then_some(&fx.exists);
                        // Zones wholly inside or outside the range need no row read.
                        let settles = time_zone_key(slot)
                            .map(|which| move |r: u32| self.zones().settles(r, which, (&lo, &hi)));
                        // A time condition has no negative twin, so `negated` is false
                        // here; were it not, each row would be checked the general way.
                        let range = (lo, hi);
                        let check = |set: &RoaringBitmap| match negated {
                            false => self.rows_in_instants(c, slot, set, &range, ctx),
                            true => self.verify(c, slot, negated, set, ctx),
                        };
                        out |= self.ordered(
                            &check,
                            &fx.dt,
                            (bound_key(lo, dt_key), bound_key(hi, dt_key)),
                            exact,
                            all,
                            cands,
                            settles.as_ref().map(|f| f as &dyn Fn(u32) -> Option<bool>),
                        )
                    }
                    None => return self.verify(c, slot, negated, &present(), ctx),
                }
                if let Some((lo, hi)) = c.day_range(ctx) {
                    let all = (fx.kinds[K_DATE] == fx.exists.len()).then_some(&fx.exists);
                    // A day's key is the day itself, so both bounds decide by key alone;
                    // a row checked is judged by the same days (a duration's cutoff day is
                    // not reckoned again for each).
                    let days = (lo, hi);
                    let check = |set: &RoaringBitmap| match negated {
                        false => self.rows_where(set, slot, |v| match v {
                            FieldValue::Date(d) => days.contains(&d),
                            v => c.matches_value(v, ctx),
                        }),
                        true => self.verify(c, slot, negated, set, ctx),
                    };
                    out |= self.ordered(
                        &check,
                        &fx.date,
                        (bound_key(lo, date_key), bound_key(hi, date_key)),
                        (true, true),
                        all,
                        cands,
                        None,
                    );
                }
                out
            }
            (Op::ContainsAny | Op::ContainsAll, Arg::Strings(ws)) => {
                let tag = c.field_type == FieldType::Tag;
                let all = op == Op::ContainsAll;
                let mut acc: Option<RoaringBitmap> = None;
                for w in ws {
                    let mut b = fx.list.get(w.as_str()).cloned().unwrap_or_default();
                    if tag {
                        let lo = format!("{w}/");
                        let hi = format!("{w}0");
                        for (_, bm) in fx.list.range::<str, _>((
                            Bound::Included(lo.as_str()),
                            Bound::Excluded(hi.as_str()),
                        )) {
                            b |= bm;
                        }
                    }
                    acc = Some(match acc {
                        None => b,
                        Some(a) if all => a & b,
                        Some(a) => a | b,
                    });
                }
                acc.unwrap_or_default() & cands
            }
            (Op::ContainsAny | Op::ContainsAll, Arg::Numbers(ws)) => {
                let all = op == Op::ContainsAll;
                let mut acc: Option<RoaringBitmap> = None;
                for w in ws {
                    let b = fx.numlist.get(&num_key(*w)).cloned().unwrap_or_default();
                    acc = Some(match acc {
                        None => b,
                        Some(a) if all => a & b,
                        Some(a) => a | b,
                    });
                }
                acc.unwrap_or_default() & cands
            }
            _ => self.verify(c, slot, negated, &present(), ctx),
        }
    }

    /// Splits `rows` by zone: the rows of zones that `settles` says lie wholly inside, and
    /// those of zones it cannot settle (to be checked); rows of zones wholly outside are
    /// dropped.
    fn settle_by_zones(
        &self,
        rows: &RoaringBitmap,
        settles: &dyn Fn(u32) -> Option<bool>,
    ) -> (RoaringBitmap, RoaringBitmap) {
        // The zones' row ranges, gathered whole: a zone costs one range, not a row each.
        let (mut wholly_in, mut wholly_out) = (RoaringBitmap::new(), RoaringBitmap::new());
        let mut from = 0u32;
        while let Some(r) = rows.range(from..).next() {
            let start = zone_start(r);
            let end = start.checked_add(ZONE_ROWS);
            let zone = start..end.unwrap_or(u32::MAX);
            match settles(r) {
                Some(true) => {
                    wholly_in.insert_range(zone);
                }
                Some(false) => {
                    wholly_out.insert_range(zone);
                }
                None => {}
            }
            match end {
                Some(next) => from = next,
                None => break,
            }
        }
        let inside = rows & &wholly_in;
        let mut check = rows - &wholly_in;
        check -= &wholly_out;
        (inside, check)
    }

    /// The rows of `cands` within `bounds` of an ordered index (see [`Ordered::range`]),
    /// the rows of the edge buckets kept by `check` (which gives those of a set that
    /// match). `settles`, when given, settles whole zones of the edge rows
    /// ([`Table::settle_by_zones`]) before the rest are checked.
    #[allow(clippy::too_many_arguments)]
    fn ordered(
        &self,
        check: &dyn Fn(&RoaringBitmap) -> RoaringBitmap,
        ix: &Ordered,
        bounds: (Bound<u64>, Bound<u64>),
        exact: (bool, bool),
        all: Option<&RoaringBitmap>,
        cands: &RoaringBitmap,
        settles: Option<&dyn Fn(u32) -> Option<bool>>,
    ) -> RoaringBitmap {
        let (full, edge) = ix.range(bounds.0, bounds.1, exact.0, exact.1, all);
        let mut out = full & cands;
        let edge = edge & cands;
        out |= match settles {
            Some(settles) => {
                let (inside, rest) = self.settle_by_zones(&edge, settles);
                inside | check(&rest)
            }
            None => check(&edge),
        };
        out
    }

    /// The rows of `set` where `c`, a time condition, holds, judged by the instants it
    /// takes (`range`, [`CompiledCondition::instant_range`]) instead of one
    /// [`CompiledCondition::matches_value`] per row, which reckons a duration's cutoff or
    /// a day's local date in the book's zone again for each: an edge bucket can hold every
    /// row (`lastSeenAt withinLast PT1M` where each block straddles the cutoff). A
    /// contact's own instant (`createdAt`, `updatedAt`, `lastSeenAt`: [`instant_micros`])
    /// is compared in place as microseconds, with no value built. A value of another kind
    /// (a date under a `datetime` key's index cannot be, but a row holds what it holds) is
    /// judged the general way.
    fn rows_in_instants(
        &self,
        c: &CompiledCondition,
        slot: Slot,
        set: &RoaringBitmap,
        range: &InstantRange,
        ctx: &EvalCtx,
    ) -> RoaringBitmap {
        use Bound::{Excluded, Included, Unbounded};
        // A stored instant is whole microseconds: against an instant with a fraction of
        // one, `t >= x` is `t >= ceil(x)` and `t <= x` is `t <= floor(x)`.
        let floor = |x: &DateTime<Utc>| x.timestamp_micros();
        let ceil = |x: &DateTime<Utc>| floor(x) + i64::from(x.timestamp_subsec_nanos() % 1000 != 0);
        let micros = (
            match &range.0 {
                Included(x) => Included(ceil(x)),
                Excluded(x) => Excluded(floor(x)),
                Unbounded => Unbounded,
            },
            match &range.1 {
                Included(x) => Included(floor(x)),
                Excluded(x) => Excluded(ceil(x)),
                Unbounded => Unbounded,
            },
        );
        // Two loops, so that the one over own instants stays a tight one.
        if matches!(slot, Slot::Sys(S_CREATED | S_UPDATED | S_LAST_SEEN)) {
            RoaringBitmap::from_sorted_iter(set.iter().filter(|r| {
                self.row(*r)
                    .and_then(|row| instant_micros(row, slot))
                    .is_some_and(|us| micros.contains(&us))
            }))
            .unwrap_or_default()
        } else {
            self.rows_where(set, slot, |v| match v {
                FieldValue::Datetime(t) => range.contains(&t),
                v => c.matches_value(v, ctx),
            })
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn text_match(
        &self,
        c: &CompiledCondition,
        slot: Slot,
        fx: &FieldIx,
        op: Op,
        needle: &str,
        negated: bool,
        cands: &RoaringBitmap,
        ctx: &EvalCtx,
    ) -> RoaringBitmap {
        let present = &fx.exists & cands;
        // `contains "@domain…"`: a text with one `@` holds the needle exactly when the text
        // after its `@` starts with the rest of it; texts with several `@` are checked.
        if let (TextMode::Folded, Op::Contains, Some(rest)) = (c.mode, op, needle.strip_prefix('@'))
        {
            if (fx.at.len() as u64) < present.len() {
                let mut b = RoaringBitmap::new();
                for (d, p) in &fx.at {
                    if d.starts_with(rest) {
                        p.or_into(&mut b);
                    }
                }
                b &= &present;
                b |= self.verify(c, slot, negated, &(&fx.at_multi & &present), ctx);
                return b;
            }
        }
        // Trigram candidates for the quick-search fields.
        let tri = match (slot, c.mode) {
            (Slot::Profile(KEY_NAME), TextMode::Folded) => Some(QuickIx::NAME),
            (Slot::Profile(KEY_EMAIL), TextMode::Folded) => Some(QuickIx::EMAIL),
            (Slot::Profile(KEY_MOBILE), TextMode::Phone) => Some(QuickIx::MOBILE),
            _ => None,
        }
        .map(|i| {
            (
                &self.search_ix().quick.tri[i],
                &self.search_ix().quick.has[i],
            )
        });
        if let Some((tri, has)) = tri {
            if let Some(mut cand) = tri.candidates(needle) {
                cand &= &present;
                // Rows holding another kind of value under this key are checked too.
                cand |= &present - has;
                return self.verify(c, slot, negated, &cand, ctx);
            }
        }
        if c.mode == TextMode::Folded
            && self.fps_of(slot, fx).is_none()
            && (fx.text.len() as u64) < present.len()
        {
            let mut b = RoaringBitmap::new();
            for (k, p) in &fx.text {
                let hit = if op == Op::StartsWith {
                    k.starts_with(needle)
                } else {
                    k.contains(needle)
                };
                if hit {
                    p.or_into(&mut b);
                }
            }
            return b & cands;
        }
        self.verify(c, slot, negated, &present, ctx)
    }

    /// A page sorted by id alone when every id is a `c_` sequence id (whose text order is
    /// its number's order, and which case folding leaves alone): rows are compared by
    /// number, with no sort key built per match. Bulk targets, audiences and filtered
    /// exports read whole listings this way, page by page.
    fn id_page(
        &self,
        m: &RoaringBitmap,
        q: &CompiledQuery,
        slots: &[Slot],
    ) -> Option<(Vec<Contact>, Option<String>)> {
        if slots != [Slot::Id] || !self.only_seq_ids() {
            return None;
        }
        let (_, desc) = q.sort.first()?;
        let cur = match &q.cursor {
            None => None,
            Some(c) => Some(parse_seq(&c.id)?),
        };
        let after = |n: u64| cur.is_none_or(|c| if desc { n < c } else { n > c });
        let mut picked: Vec<(u64, u32)> = m
            .iter()
            .filter_map(|r| match self.row(r)?.seq() {
                Some(n) if after(n) => Some((n, r)),
                _ => None,
            })
            .collect();
        let keep = q.limit.saturating_add(1);
        let cmp = |a: &(u64, u32), b: &(u64, u32)| {
            if desc {
                b.0.cmp(&a.0)
            } else {
                a.0.cmp(&b.0)
            }
        };
        first_in_order(&mut picked, keep, cmp);
        Some(self.single_key_page(picked.into_iter().map(|(_, r)| r).collect(), q, Slot::Id))
    }

    /// The page of a sort on one key (`slot`) from `rows`, its best rows in order (at most
    /// one more than the page size): the contacts of the page, and the cursor after its
    /// last row when a row is left beyond it.
    fn single_key_page(
        &self,
        mut rows: Vec<u32>,
        q: &CompiledQuery,
        slot: Slot,
    ) -> (Vec<Contact>, Option<String>) {
        let next = if rows.len() > q.limit {
            rows.truncate(q.limit);
            rows.last().and_then(|r| self.row(*r)).map(|row| {
                q.sort.encode_cursor(&RowKey {
                    values: vec![self.with_value(row, slot, |v| q.sort.sort_val(0, v))],
                    id: row.id().text(),
                })
            })
        } else {
            None
        };
        (
            rows.into_iter()
                .filter_map(|r| self.contact_at(r))
                .collect(),
            next,
        )
    }

    /// [`Table::page`] for a sort on one key that an ordered index holds (a number, a date
    /// or an instant: `createdAt`, the default sort, among them) when every id is a `c_`
    /// number. Each row of the buckets walked is keyed by two integers, its value's exact
    /// order and its id's number, with no sort value built: a bucket can hold every match
    /// (an import stamps all its contacts with one `createdAt`), and building a key of
    /// each made a first page of 200,000 such contacts take 16 ms. A sort on a time
    /// also passes over every block of rows whose zone bounds ([`super::zones`]) say it
    /// cannot better the page, so such a page no longer walks the bucket: 2 ms to 25 µs at
    /// 300,000 contacts of one instant. A filter on the sorted key itself (`spent > 500`
    /// sorted ascending) starts the walk at its bound ([`Table::sort_index`]): 6.6 ms to
    /// 0.9 ms at 1,000,000 contacts, all of it the filter's. Matches that still lie far
    /// along the order (a bound the plan does not show, as `not spent <= 999`) would have
    /// the walk pass through thousands of buckets that hold none: once
    /// [`WALK_BEFORE_DIRECT`] buckets have not filled the page and the matches are few for
    /// the buckets left, each match is keyed instead (a page of 100 such matches among
    /// 1,000,000 contacts: 8.6 ms to 0.26 ms, most of it the filter's). `None` defers to
    /// the general walk: another sort, a cursor among the rows without a value, or too few
    /// rows with one to fill the page.
    fn key_page(
        &self,
        m: &RoaringBitmap,
        q: &CompiledQuery,
        slots: &[Slot],
        ctx: &EvalCtx,
    ) -> Option<(Vec<Contact>, Option<String>)> {
        let [slot] = *slots else {
            return None;
        };
        if !self.only_seq_ids() {
            return None;
        }
        let (ix, present, desc, cursor_bucket) = self.sort_index(q, ctx)?;
        let cur = match &q.cursor {
            None => None,
            Some(c) => Some((sort_key(c.values.first()?.as_ref()?)?, parse_seq(&c.id)?)),
        };
        // Ids break ties in the first key's direction.
        let after = |k: (u64, u64)| {
            cur.is_none_or(|c| {
                k.cmp(&c)
                    == if desc {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
            })
        };
        let keep = q.limit.saturating_add(1);
        // The best `keep` rows so far, the worst on top; a descending sort keys its rows by
        // the complements, so that one order serves both.
        let mut best: BinaryHeap<(u64, u64, u32)> = BinaryHeap::new();
        // Keys row `r` and keeps it if it is among the best `keep` after the cursor.
        let offer = |best: &mut BinaryHeap<(u64, u64, u32)>, r: u32| -> Option<()> {
            let row = self.row(r)?;
            let key = match instant_micros(row, slot) {
                Some(us) => time_key(us),
                None => self.with_value(row, slot, value_key)?,
            };
            let k = (key, row.seq()?);
            if !after(k) {
                return Some(());
            }
            let k = if desc { (!k.0, !k.1, r) } else { (k.0, k.1, r) };
            if best.len() < keep {
                best.push(k);
            } else if let Some(mut worst) = best.peek_mut() {
                if k < *worst {
                    *worst = k;
                }
            }
            Some(())
        };
        let zone = zone_key(slot);
        let (mut walked, mut direct) = (0usize, false);
        for bm in buckets_from(ix, desc, cursor_bucket) {
            walked += 1;
            // Asked once: a page still short here has fewer buckets left at each later one,
            // so the answer could only stay "walk on" (and `m.len()` is not counted again).
            if walked == WALK_BEFORE_DIRECT + 1 && best.len() < keep {
                let left = ix.buckets.len().saturating_sub(walked) as u64;
                if m.len() <= DIRECT_PER_BUCKET.saturating_mul(left) {
                    direct = true;
                    break;
                }
            }
            let rows = bm & m;
            // Rows are mostly in id order: walked from the end for a descending sort, the
            // best come first and the rest are turned away at the top of the heap.
            let mut walk = rows.iter();
            // The zone last checked: once the heap is full, a zone whose best possible row
            // is no better than the heap's worst is passed over whole (a sort on a time).
            let mut checked = u32::MAX;
            while let Some(r) = if desc { walk.next_back() } else { walk.next() } {
                if let Some(which) = zone.filter(|_| best.len() >= keep) {
                    let start = zone_start(r);
                    if start != checked {
                        checked = start;
                        let bound = self.zones().best(r, which, desc);
                        let worst = best.peek().map(|w| (w.0, w.1));
                        let hopeless = match (bound, worst) {
                            (Some((k, n)), Some(w)) if desc => (!k, !n) >= w,
                            (Some(b), Some(w)) => b >= w,
                            _ => false,
                        };
                        if hopeless {
                            if desc {
                                match start.checked_sub(1) {
                                    Some(before) => walk.advance_back_to(before),
                                    None => break,
                                }
                            } else {
                                match start.checked_add(ZONE_ROWS) {
                                    Some(after) => walk.advance_to(after),
                                    None => break,
                                }
                            }
                            continue;
                        }
                    }
                }
                offer(&mut best, r)?;
            }
            if best.len() >= keep {
                break;
            }
        }
        if direct {
            // Every match with a value keyed, in row order; the buckets walked are read
            // again rather than told apart.
            best.clear();
            for r in &(m & present) {
                offer(&mut best, r)?;
            }
        }
        if best.len() < keep && !(m - present).is_empty() {
            return None;
        }
        let rows = best.into_sorted_vec().into_iter().map(|(_, _, r)| r);
        Some(self.single_key_page(rows.collect(), q, slot))
    }

    /// [`Table::page`] for a sort on one text key over a large table: the key's text order
    /// ([`super::text_order`]) walked from the cursor until the page is full, instead of
    /// every match read and compared. `None` defers to the general walk: another sort, a
    /// key that also holds other kinds of value, the first sort by a key (its order is built
    /// at the second), matches too few to be worth the order, a cursor among the rows
    /// without a value, too few rows with one to fill the page, or matches so sparse in the
    /// order that the walk would read more entries than there are matches to sort.
    fn text_page(
        &self,
        m: &RoaringBitmap,
        q: &CompiledQuery,
        slots: &[Slot],
    ) -> Option<(Vec<Contact>, Option<String>)> {
        let [slot] = *slots else {
            return None;
        };
        if matches!(slot, Slot::Id | Slot::Absent) {
            return None;
        }
        let (_, desc) = q.sort.first()?;
        let folded = q.sort.first_mode()? == TextMode::Folded;
        let fx = self.ix(slot)?;
        let total = fx.exists.len();
        if total < ORDER_FROM || fx.kinds[K_TEXT] != total || fx.kinds.iter().sum::<u64>() != total
        {
            return None;
        }
        let keep = q.limit.saturating_add(1);
        // Sorting the matches reads each of them (about ten times what the walk spends on an
        // entry); the walk reads about `keep` entries for each match's share of the order.
        // Few matches are sorted as they are, without the order built or brought up to date.
        let matches = u128::from(m.len());
        if matches * matches * 8 < (keep as u128) * u128::from(total) {
            return None;
        }
        let cur = match &q.cursor {
            None => None,
            Some(c) => match c.values.first()? {
                Some(SortVal::Text(t)) => Some((t.as_str(), IdKey::of(&c.id))),
                _ => return None,
            },
        };
        let order = self.text_order(slot, folded, &fx.exists)?;
        // A walk that reads four entries for each match gives way to sorting the matches.
        let mut budget = (m.len() as usize)
            .saturating_mul(4)
            .max(keep.saturating_mul(16));
        let mut rows = Vec::with_capacity(keep.min(1024));
        let cur = cur.as_ref().map(|(t, id)| (*t, id.as_ref()));
        for r in order.walk(self, slot, folded, cur, desc) {
            budget = budget.checked_sub(1)?;
            if m.contains(r) {
                rows.push(r);
                if rows.len() >= keep {
                    break;
                }
            }
        }
        if rows.len() < keep && !(m - &fx.exists).is_empty() {
            return None;
        }
        Some(self.single_key_page(rows, q, slot))
    }

    /// The page of `m` in the query's order after its cursor, and the next cursor.
    fn page<'s>(
        &'s self,
        m: &RoaringBitmap,
        q: &CompiledQuery,
        ctx: &EvalCtx,
    ) -> (Vec<Contact>, Option<String>) {
        let keep = q.limit.saturating_add(1);
        let mut picked: Vec<(PKey<'s>, u32)> = Vec::new();
        let slots: Vec<Slot> = q.sort.fields().map(|f| self.slot(f)).collect();
        if let Some(page) = self
            .id_page(m, q, &slots)
            .or_else(|| self.key_page(m, q, &slots, ctx))
            .or_else(|| self.text_page(m, q, &slots))
        {
            return page;
        }
        let cursor = q.cursor.as_ref().map(|cur| (cur, IdKey::of(&cur.id)));
        let after = |k: &PKey<'_>| {
            cursor.as_ref().is_none_or(|(cur, id)| {
                q.sort.compare_parts(
                    |i| cur.values.get(i).and_then(Option::as_ref),
                    |i| k.val(i),
                    id.as_ref().cmp(&k.id),
                ) == Ordering::Less
            })
        };
        let cmp = |a: &(PKey<'_>, u32), b: &(PKey<'_>, u32)| {
            q.sort
                .compare_parts(|i| a.0.val(i), |i| b.0.val(i), a.0.id.cmp(&b.0.id))
        };
        let single = q.sort.len() == 1;
        // Once enough rows are gathered, the worst of the best `keep` so far: a row that
        // sorts after it on the first key (or, with one key, on that key and its id) can
        // never be on the page, and is turned away before its sort values are built (a
        // text sort folded a copy of every row's text).
        let mut worst: Option<(Option<SortVal>, IdKey)> = None;
        let trim_at = keep.saturating_mul(2).saturating_add(256);
        // Keys borrow the row's id and allocate nothing for a single-key sort by a
        // non-text field (a `RowKey` is built only for the cursor).
        let mut take = |rows: &mut dyn Iterator<Item = u32>, picked: &mut Vec<(PKey<'s>, u32)>| {
            for r in rows {
                let Some(row) = self.row(r) else {
                    continue;
                };
                if let Some((first, id)) = &worst {
                    let o =
                        self.with_value(row, slots[0], |v| q.sort.compare_first(v, first.as_ref()));
                    let o = match o {
                        Ordering::Equal if single => {
                            let ids = row.id().cmp(&id.as_ref());
                            if q.sort.first().is_some_and(|(_, desc)| desc) {
                                ids.reverse()
                            } else {
                                ids
                            }
                        }
                        o => o,
                    };
                    if o == Ordering::Greater {
                        continue;
                    }
                }
                let mut vals = slots
                    .iter()
                    .enumerate()
                    .map(|(i, s)| self.with_value(row, *s, |v| q.sort.sort_val(i, v)));
                let first = vals.next().flatten();
                let k = PKey {
                    first,
                    rest: vals.collect(),
                    id: row.id(),
                };
                if after(&k) {
                    picked.push((k, r));
                    if picked.len() >= trim_at {
                        first_in_order(picked, keep, cmp);
                        worst = picked.last().map(|(k, _)| (k.first.clone(), k.id.to_key()));
                    }
                }
            }
        };
        match self.sort_index(q, ctx) {
            Some((ix, present, desc, cursor_bucket)) => {
                for bm in buckets_from(ix, desc, cursor_bucket) {
                    let r = bm & m;
                    if r.is_empty() {
                        continue;
                    }
                    take(&mut r.iter(), &mut picked);
                    if picked.len() >= keep {
                        break;
                    }
                }
                if picked.len() < keep {
                    let rest = m - present;
                    take(&mut rest.iter(), &mut picked);
                }
            }
            None => take(&mut m.iter(), &mut picked),
        }
        first_in_order(&mut picked, keep, cmp);
        let next = if picked.len() > q.limit {
            picked.truncate(q.limit);
            picked.last().map(|(k, _)| {
                q.sort.encode_cursor(&RowKey {
                    values: (0..slots.len()).map(|i| k.val(i).cloned()).collect(),
                    id: k.id.text(),
                })
            })
        } else {
            None
        };
        (
            picked
                .into_iter()
                .filter_map(|(_, r)| self.contact_at(r))
                .collect(),
            next,
        )
    }

    /// The ordered index of the first sort key when every present value of it is of that
    /// index's kind: the index, the rows it holds, the direction, and the bucket a walk in
    /// the sort's direction starts from (`Some(None)`: the cursor is past every present
    /// value; `None`: the first bucket). The start is the cursor's bucket or the bucket
    /// of the filter's own bound on the sorted key ([`Table::plan_bound`]), whichever
    /// comes later in the walk: the buckets before it hold no match (`spent > 500` sorted
    /// by `spent` ascending skips every bucket below 500 instead of intersecting each).
    #[allow(clippy::type_complexity)]
    fn sort_index(
        &self,
        q: &CompiledQuery,
        ctx: &EvalCtx,
    ) -> Option<(&Ordered, &RoaringBitmap, bool, Option<Option<u64>>)> {
        let (field, desc) = q.sort.first()?;
        let slot = self.slot(field);
        let fx = self.ix(slot)?;
        let total = fx.exists.len();
        let (ix, kind) = [(&fx.num, K_NUM), (&fx.dt, K_DT), (&fx.date, K_DATE)]
            .into_iter()
            .find(|(_, k)| {
                fx.kinds[*k] > 0 && fx.kinds[*k] == total && fx.kinds.iter().sum::<u64>() == total
            })?;
        let cursor_bucket = match &q.cursor {
            None => None,
            Some(cur) => Some(match cur.values.first()? {
                None => None,
                Some(SortVal::Number(n)) if kind == K_NUM => Some(ix.bucket(num_key(*n))),
                Some(SortVal::Datetime(t)) if kind == K_DT => Some(ix.bucket(dt_key(t))),
                Some(SortVal::Date(d)) if kind == K_DATE => Some(ix.bucket(date_key(d))),
                Some(_) => return None,
            }),
        };
        let bound = self
            .plan_bound(&q.plan.root, slot, kind, desc, ctx)
            .map(|k| ix.bucket(k));
        let later = |a: u64, b: u64| if desc { a.min(b) } else { a.max(b) };
        let start = match (cursor_bucket, bound) {
            (Some(Some(c)), Some(b)) => Some(Some(later(c, b))),
            (None, b) => b.map(Some),
            (c, _) => c,
        };
        Some((ix, &fx.exists, desc, start))
    }

    /// A key of `kind`'s ordered index (number, instant or day) that the value of `slot`
    /// of every row `n` matches lies at or after in the walk's direction (at or above it
    /// ascending, at or below it descending), from the conditions on `slot` that `n`
    /// requires: the same bounds [`Table::cond`] reads the index with, so a match found
    /// there cannot lie before the bound. `None` when `n` bounds nothing that way (no
    /// condition on the slot, a negation, an `or` with a branch unbounded, a bound only on
    /// the far side).
    fn plan_bound(
        &self,
        n: &PlanNode,
        slot: Slot,
        kind: usize,
        desc: bool,
        ctx: &EvalCtx,
    ) -> Option<u64> {
        use Bound::{Excluded, Included, Unbounded};
        // The bound nearer the end of the walk: every branch of an `and` holds.
        let later = |a: u64, b: u64| if desc { a.min(b) } else { a.max(b) };
        let sooner = |a: u64, b: u64| if desc { a.max(b) } else { a.min(b) };
        match n {
            PlanNode::And(items) => items
                .iter()
                .filter_map(|i| self.plan_bound(i, slot, kind, desc, ctx))
                .reduce(later),
            // Some branch holds, so only a bound of every branch bounds them all.
            PlanNode::Or(items) => items
                .iter()
                .map(|i| self.plan_bound(i, slot, kind, desc, ctx))
                .reduce(|a, b| Some(sooner(a?, b?)))
                .flatten(),
            PlanNode::Not(_) => None,
            PlanNode::Cond(c) => {
                if self.slot(&c.field) != slot {
                    return None;
                }
                let (lo, hi) = match (kind, c.op, &c.arg) {
                    (K_NUM, op, arg) => match (num_range(op, arg), arg) {
                        (Some(bounds), _) => bounds,
                        (None, Arg::NumberSet(xs)) if op == Op::In => {
                            let keys = xs.iter().map(|x| num_key(*x));
                            (
                                keys.clone().min().map_or(Unbounded, Included),
                                keys.max().map_or(Unbounded, Included),
                            )
                        }
                        _ => return None,
                    },
                    (K_DT | K_DATE, _, Arg::Time(_) | Arg::TimeRange(..) | Arg::Duration(_)) => {
                        // Without an instant range every value is checked (`cond`).
                        let (lo, hi) = c.instant_range(ctx)?;
                        if kind == K_DT {
                            (bound_key(lo, dt_key), bound_key(hi, dt_key))
                        } else {
                            let (lo, hi) = c.day_range(ctx)?;
                            (bound_key(lo, date_key), bound_key(hi, date_key))
                        }
                    }
                    _ => return None,
                };
                match if desc { hi } else { lo } {
                    Included(k) | Excluded(k) => Some(k),
                    Unbounded => None,
                }
            }
        }
    }
}

/// The keys of the number index a number condition takes (`eq`, `gt`, `gte`, `lt`,
/// `lte`, `between`), or `None` for another condition. Open ends stop at the infinities,
/// so stored NaNs (keyed past them) are never taken as inside.
fn num_range(op: Op, arg: &Arg) -> Option<(Bound<u64>, Bound<u64>)> {
    use Bound::{Excluded, Included};
    let (bottom, top) = (num_key(f64::NEG_INFINITY), num_key(f64::INFINITY));
    Some(match (op, arg) {
        (Op::Between, Arg::NumberRange(a, b)) => (Included(num_key(*a)), Included(num_key(*b))),
        (_, Arg::Number(x)) => {
            let k = num_key(*x);
            match op {
                Op::Eq => (Included(k), Included(k)),
                Op::Gt => (Excluded(k), Included(top)),
                Op::Gte => (Included(k), Included(top)),
                Op::Lt => (Included(bottom), Excluded(k)),
                Op::Lte => (Included(bottom), Included(k)),
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// The exact order of a number, a date or an instant as one integer, as [`SortVal`]
/// compares them: numbers in `f64::total_cmp`'s order, instants to the microsecond, dates
/// by day. `None` for other values.
fn value_key(v: FieldValue<'_>) -> Option<u64> {
    match v {
        FieldValue::Number(n) => Some(total_order(n)),
        FieldValue::Datetime(t) => Some(instant_order(&t)),
        FieldValue::Date(d) => Some(day_order(&d)),
        _ => None,
    }
}

/// [`value_key`] of a sort value (a cursor's).
fn sort_key(v: &SortVal) -> Option<u64> {
    match v {
        SortVal::Number(n) => Some(total_order(*n)),
        SortVal::Datetime(t) => Some(instant_order(t)),
        SortVal::Date(d) => Some(day_order(d)),
        _ => None,
    }
}

fn instant_order(t: &DateTime<Utc>) -> u64 {
    time_key(t.timestamp_micros())
}

fn day_order(d: &chrono::NaiveDate) -> u64 {
    (i64::from(chrono::Datelike::num_days_from_ce(d)) as u64) ^ (1 << 63)
}

/// The buckets [`Table::key_page`] walks before it may key every match instead.
const WALK_BEFORE_DIRECT: usize = if cfg!(test) { 2 } else { 32 };
/// How many matches each bucket left to walk must stand for before [`Table::key_page`]
/// keys every match instead: a bucket walked costs about as much as 16 matches keyed (an
/// intersection of bitmaps against a row read each).
const DIRECT_PER_BUCKET: u64 = 16;

/// The buckets of an ordered index in a sort's direction, from the cursor's bucket on:
/// `cursor_bucket` as [`Table::sort_index`] gives it (`Some(None)`: the cursor is past
/// every value, so no bucket is left).
fn buckets_from(
    ix: &Ordered,
    desc: bool,
    cursor_bucket: Option<Option<u64>>,
) -> Box<dyn Iterator<Item = &RoaringBitmap> + '_> {
    match (cursor_bucket, desc) {
        (Some(None), _) => Box::new(std::iter::empty()),
        (Some(Some(cb)), true) => Box::new(ix.buckets.range(..=cb).rev().map(|(_, bm)| bm)),
        (Some(Some(cb)), false) => Box::new(ix.buckets.range(cb..).map(|(_, bm)| bm)),
        (None, true) => Box::new(ix.buckets.values().rev()),
        (None, false) => Box::new(ix.buckets.values()),
    }
}

/// Keeps the first `keep` (≥ 1) items of `v` in `cmp` order, sorted: a partial selection
/// first, so a page of a large match set sorts only the page.
fn first_in_order<T>(v: &mut Vec<T>, keep: usize, mut cmp: impl FnMut(&T, &T) -> Ordering) {
    if v.len() > keep {
        v.select_nth_unstable_by(keep.saturating_sub(1), &mut cmp);
        v.truncate(keep);
    }
    v.sort_by(cmp);
}
