//! The reference semantics of a compiled [`Plan`] over one [`Contact`] (FILTER.md).

use std::borrow::Cow;
use std::ops::Bound;

use chrono::{DateTime, Duration, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::compile::{Arg, CompiledCondition, Field, Plan, PlanNode, TextMode, TimeArg};
use super::model::Op;
use super::vfns;
use crate::contact::Contact;
use crate::text::fold_cow;
use crate::value::Value;

/// The instants a time condition admits, as `(from, to)` bounds.
pub type InstantRange = (Bound<DateTime<Utc>>, Bound<DateTime<Utc>>);

/// What a query is evaluated against: the clock (R-FLT-5) and the book's time zone
/// (R-FLT-12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalCtx {
    /// "Now" for `withinLast` / `moreThanAgo`.
    pub now: DateTime<Utc>,
    /// The book's time zone: a `date` value against a `datetime` key is that day here.
    pub tz: Tz,
}

impl EvalCtx {
    /// A context at `now` in UTC.
    pub fn utc(now: DateTime<Utc>) -> EvalCtx {
        EvalCtx { now, tz: Tz::UTC }
    }

    /// A context at `now` in `tz`.
    pub fn new(now: DateTime<Utc>, tz: Tz) -> EvalCtx {
        EvalCtx { now, tz }
    }
}

/// A contact's value of one field, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    /// No value.
    Missing,
    /// Text (strings, emails, E.164 phones, ids).
    Text(&'a str),
    /// A number.
    Number(f64),
    /// A boolean.
    Boolean(bool),
    /// A calendar date.
    Date(NaiveDate),
    /// An instant.
    Datetime(DateTime<Utc>),
    /// A list of strings or tags.
    Strings(&'a [String]),
    /// A list of numbers.
    Numbers(&'a [f64]),
}

impl FieldValue<'_> {
    /// Missing, or an empty list.
    pub fn is_empty(&self) -> bool {
        match self {
            FieldValue::Missing => true,
            FieldValue::Strings(s) => s.is_empty(),
            FieldValue::Numbers(n) => n.is_empty(),
            FieldValue::Text(t) => t.is_empty(),
            _ => false,
        }
    }
}

impl Field {
    /// This field's value on `c`. Archived profile values are still returned: archiving is
    /// enforced when a filter is compiled.
    pub fn get<'a>(&self, c: &'a Contact) -> FieldValue<'a> {
        match self {
            Field::Profile(name) => match c.profile.get(name) {
                None => FieldValue::Missing,
                Some(v) => match v {
                    Value::String(s) | Value::Email(s) | Value::Phone(s) => FieldValue::Text(s),
                    Value::Number(n) => FieldValue::Number(*n),
                    Value::Boolean(b) => FieldValue::Boolean(*b),
                    Value::Date(d) => FieldValue::Date(*d),
                    Value::Datetime(t) => FieldValue::Datetime(*t),
                    Value::List(l) | Value::Tag(l) => FieldValue::Strings(l),
                    Value::ListOfNumber(n) => FieldValue::Numbers(n),
                },
            },
            Field::Id => FieldValue::Text(&c.id),
            Field::MemberId => c
                .member_id
                .as_deref()
                .map_or(FieldValue::Missing, FieldValue::Text),
            Field::Member => FieldValue::Boolean(c.member),
            Field::Tags => FieldValue::Strings(&c.tags),
            Field::UserImportTags => FieldValue::Strings(&c.user_import_tags),
            Field::UnsubscribeEmail => c
                .unsubscribe_email
                .map_or(FieldValue::Missing, FieldValue::Boolean),
            Field::UnsubscribeTexting => c
                .unsubscribe_texting
                .map_or(FieldValue::Missing, FieldValue::Boolean),
            Field::Blocked => FieldValue::Boolean(c.blocked),
            Field::CreatedAt => FieldValue::Datetime(c.created_at),
            Field::UpdatedAt => FieldValue::Datetime(c.updated_at),
            Field::LastSeenAt => FieldValue::Datetime(c.last_seen_at),
            Field::SessionCount => FieldValue::Number(c.session_count as f64),
        }
    }
}

impl Plan {
    /// Whether `c` matches this plan: the reference semantics of FILTER.md. Missing values
    /// fail positive operators and match `ne`, `notIn`, `notContains`, `containsNone`,
    /// `notExists` and `isEmpty`; `not` is the exact complement.
    pub fn matches(&self, c: &Contact, ctx: &EvalCtx) -> bool {
        self.root.matches(c, ctx)
    }
}

impl PlanNode {
    /// Whether `c` matches this node.
    pub fn matches(&self, c: &Contact, ctx: &EvalCtx) -> bool {
        match self {
            PlanNode::And(items) => items.iter().all(|n| n.matches(c, ctx)),
            PlanNode::Or(items) => items.iter().any(|n| n.matches(c, ctx)),
            PlanNode::Not(inner) => !inner.matches(c, ctx),
            PlanNode::Cond(cond) => cond.matches(c, ctx),
        }
    }
}

/// The digits of a text.
pub(crate) fn digits(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_digit()).collect()
}

/// Whether a phone's E.164 digits or its national form (with trunk prefix, as the
/// country's national format writes it) satisfy `f`.
pub(crate) fn phone_digits_match(e164: &str, f: impl Fn(&str) -> bool) -> bool {
    if f(&digits(e164)) {
        return true;
    }
    vfns::national_number_digits(e164).is_some_and(|n| f(&n))
        || vfns::national_format_digits(e164).is_some_and(|n| f(&n))
}

impl CompiledCondition {
    /// Whether `c` matches this condition.
    pub fn matches(&self, c: &Contact, ctx: &EvalCtx) -> bool {
        self.matches_value(self.field.get(c), ctx)
    }

    /// Whether a contact whose value of this condition's field is `v` matches: the same
    /// semantics as [`CompiledCondition::matches`], for stores that keep values in their own
    /// layout.
    pub fn matches_value(&self, v: FieldValue<'_>, ctx: &EvalCtx) -> bool {
        match self.op {
            Op::Exists => return !v.is_empty(),
            Op::NotExists | Op::IsEmpty => return v.is_empty(),
            _ => {}
        }
        if v.is_empty() {
            return self.op.matches_missing();
        }
        // A stored value whose kind does not fit the key's type counts as missing.
        self.test(v, ctx)
            .unwrap_or_else(|| self.op.matches_missing())
    }

    fn test(&self, v: FieldValue<'_>, ctx: &EvalCtx) -> Option<bool> {
        let op = self.op;
        Some(match (v, &self.arg) {
            (FieldValue::Text(s), Arg::TextSet(set)) => {
                let hit = match self.mode {
                    TextMode::Folded => set.contains(fold_cow(s).as_ref()),
                    TextMode::Exact | TextMode::Phone => set.contains(s),
                };
                match op {
                    Op::Eq | Op::In => hit,
                    Op::Ne | Op::NotIn => !hit,
                    _ => return None,
                }
            }
            (FieldValue::Text(s), Arg::Text(needle)) => {
                let starts = op == Op::StartsWith;
                let hit = match self.mode {
                    TextMode::Folded => {
                        let f = fold_cow(s);
                        if starts {
                            f.starts_with(needle.as_str())
                        } else {
                            f.contains(needle.as_str())
                        }
                    }
                    TextMode::Exact => {
                        if starts {
                            s.starts_with(needle.as_str())
                        } else {
                            s.contains(needle.as_str())
                        }
                    }
                    TextMode::Phone => phone_digits_match(s, |d| {
                        if starts {
                            d.starts_with(needle.as_str())
                        } else {
                            d.contains(needle.as_str())
                        }
                    }),
                };
                match op {
                    Op::Contains | Op::StartsWith => hit,
                    Op::NotContains => !hit,
                    _ => return None,
                }
            }
            (FieldValue::Number(n), Arg::Number(x)) => match op {
                Op::Eq => n == *x,
                Op::Ne => n != *x,
                Op::Gt => n > *x,
                Op::Gte => n >= *x,
                Op::Lt => n < *x,
                Op::Lte => n <= *x,
                _ => return None,
            },
            (FieldValue::Number(n), Arg::NumberRange(lo, hi)) => *lo <= n && n <= *hi,
            (FieldValue::Number(n), Arg::NumberSet(set)) => {
                let hit = set.contains(&n);
                match op {
                    Op::In => hit,
                    Op::NotIn => !hit,
                    _ => return None,
                }
            }
            (FieldValue::Boolean(b), Arg::Boolean(x)) => match op {
                Op::Eq => b == *x,
                Op::Ne => b != *x,
                _ => return None,
            },
            // A day against a datetime is that calendar day in the book's zone (R-FLT-12):
            // the value's local date is compared, which is the day's stretch of time
            // wherever local dates run forward, and stays right where clocks going back
            // across midnight repeat the end of a day after the next one began.
            (FieldValue::Datetime(t), Arg::Time(TimeArg::Day(d))) => {
                let local = t.with_timezone(&ctx.tz).date_naive();
                match op {
                    Op::Eq => local == *d,
                    Op::Before => local < *d,
                    Op::After => local > *d,
                    Op::OnOrBefore => local <= *d,
                    Op::OnOrAfter => local >= *d,
                    _ => return None,
                }
            }
            (FieldValue::Datetime(t), Arg::Time(TimeArg::Instant(x))) => match op {
                Op::Eq => t == *x,
                Op::Before => t < *x,
                Op::OnOrBefore => t <= *x,
                Op::After => t > *x,
                Op::OnOrAfter => t >= *x,
                _ => return None,
            },
            (FieldValue::Datetime(t), Arg::TimeRange(a, b)) => {
                let local = (matches!(a, TimeArg::Day(_)) || matches!(b, TimeArg::Day(_)))
                    .then(|| t.with_timezone(&ctx.tz).date_naive());
                let from = match (a, local) {
                    (TimeArg::Day(d), Some(l)) => l >= *d,
                    (TimeArg::Instant(x), _) => t >= *x,
                    (TimeArg::Day(_), None) => false,
                };
                let to = match (b, local) {
                    (TimeArg::Day(d), Some(l)) => l <= *d,
                    (TimeArg::Instant(x), _) => t <= *x,
                    (TimeArg::Day(_), None) => false,
                };
                from && to
            }
            (FieldValue::Datetime(t), Arg::Duration(d)) => {
                let cutoff = d.before(ctx.now, ctx.tz);
                match op {
                    Op::WithinLast => t <= ctx.now && cutoff.is_none_or(|c| t >= c),
                    Op::MoreThanAgo => cutoff.is_some_and(|c| t < c),
                    _ => return None,
                }
            }
            (FieldValue::Date(d), Arg::Time(a)) => {
                let x = day_of(*a, ctx.tz);
                match op {
                    Op::Eq => d == x,
                    Op::Before => d < x,
                    Op::After => d > x,
                    Op::OnOrBefore => d <= x,
                    Op::OnOrAfter => d >= x,
                    _ => return None,
                }
            }
            (FieldValue::Date(d), Arg::TimeRange(a, b)) => {
                day_of(*a, ctx.tz) <= d && d <= day_of(*b, ctx.tz)
            }
            (FieldValue::Date(d), Arg::Duration(dur)) => {
                let today = ctx.now.with_timezone(&ctx.tz).date_naive();
                let cutoff = dur
                    .before(ctx.now, ctx.tz)
                    .map(|c| c.with_timezone(&ctx.tz).date_naive());
                match op {
                    Op::WithinLast => d <= today && cutoff.is_none_or(|c| d >= c),
                    Op::MoreThanAgo => cutoff.is_some_and(|c| d < c),
                    _ => return None,
                }
            }
            (FieldValue::Strings(items), Arg::Strings(wanted)) => {
                let tag = self.field_type == crate::value::FieldType::Tag;
                let folded: Vec<Cow<'_, str>> = items.iter().map(|s| fold_cow(s)).collect();
                let has = |w: &String| {
                    folded.iter().any(|f| {
                        f.as_ref() == w.as_str()
                            || (tag
                                && f.len() > w.len()
                                && f.starts_with(w.as_str())
                                && f.as_bytes()[w.len()] == b'/')
                    })
                };
                match op {
                    Op::ContainsAny => wanted.iter().any(has),
                    Op::ContainsAll => wanted.iter().all(has),
                    Op::ContainsNone => !wanted.iter().any(has),
                    _ => return None,
                }
            }
            (FieldValue::Numbers(items), Arg::Numbers(wanted)) => {
                let has = |w: &f64| items.contains(w);
                match op {
                    Op::ContainsAny => wanted.iter().any(has),
                    Op::ContainsAll => wanted.iter().all(has),
                    Op::ContainsNone => !wanted.iter().any(has),
                    _ => return None,
                }
            }
            _ => return None,
        })
    }
}

impl CompiledCondition {
    /// For a time condition, the instants a `datetime` value must lie in to match, as
    /// `(from, to)` bounds; `None` when the condition is not a time condition, or names a
    /// day that is no one stretch of time in the book's zone (then each value is checked
    /// with [`CompiledCondition::matches_value`]). An empty range is
    /// `(Excluded(t), Excluded(t))`.
    pub fn instant_range(&self, ctx: &EvalCtx) -> Option<InstantRange> {
        use Bound::{Excluded, Included, Unbounded};
        // A day whose local dates do not run forward at its edges (clocks going back across
        // midnight) holds no one stretch of time: no range, and each value is checked.
        let broken = |a: &TimeArg| matches!(a, TimeArg::Day(d) if !day_is_one_stretch(*d, ctx.tz));
        if match &self.arg {
            Arg::Time(a) => broken(a),
            Arg::TimeRange(a, b) => broken(a) || broken(b),
            _ => false,
        } {
            return None;
        }
        Some(match &self.arg {
            Arg::Time(a) => {
                let (lo, hi) = bounds(*a, ctx.tz);
                match self.op {
                    Op::Eq => (Included(lo), Excluded(hi)),
                    Op::Before => (Unbounded, Excluded(lo)),
                    Op::After => (Included(hi), Unbounded),
                    Op::OnOrBefore => (Unbounded, Excluded(hi)),
                    Op::OnOrAfter => (Included(lo), Unbounded),
                    _ => return None,
                }
            }
            Arg::TimeRange(a, b) => {
                let (lo, _) = bounds(*a, ctx.tz);
                let (_, hi) = bounds(*b, ctx.tz);
                (Included(lo), Excluded(hi))
            }
            Arg::Duration(d) => {
                let cutoff = d.before(ctx.now, ctx.tz);
                match self.op {
                    Op::WithinLast => (cutoff.map_or(Unbounded, Included), Included(ctx.now)),
                    Op::MoreThanAgo => match cutoff {
                        Some(c) => (Unbounded, Excluded(c)),
                        None => (Excluded(ctx.now), Excluded(ctx.now)),
                    },
                    _ => return None,
                }
            }
            _ => return None,
        })
    }

    /// For a time condition, the calendar days a `date` value must lie in to match;
    /// `None` when the condition is not a time condition.
    pub fn day_range(&self, ctx: &EvalCtx) -> Option<(Bound<NaiveDate>, Bound<NaiveDate>)> {
        use Bound::{Excluded, Included, Unbounded};
        Some(match &self.arg {
            Arg::Time(a) => {
                let x = day_of(*a, ctx.tz);
                match self.op {
                    Op::Eq => (Included(x), Included(x)),
                    Op::Before => (Unbounded, Excluded(x)),
                    Op::After => (Excluded(x), Unbounded),
                    Op::OnOrBefore => (Unbounded, Included(x)),
                    Op::OnOrAfter => (Included(x), Unbounded),
                    _ => return None,
                }
            }
            Arg::TimeRange(a, b) => (Included(day_of(*a, ctx.tz)), Included(day_of(*b, ctx.tz))),
            Arg::Duration(dur) => {
                let today = ctx.now.with_timezone(&ctx.tz).date_naive();
                let cutoff = dur
                    .before(ctx.now, ctx.tz)
                    .map(|c| c.with_timezone(&ctx.tz).date_naive());
                match self.op {
                    Op::WithinLast => (cutoff.map_or(Unbounded, Included), Included(today)),
                    Op::MoreThanAgo => match cutoff {
                        Some(c) => (Unbounded, Excluded(c)),
                        None => (Excluded(today), Excluded(today)),
                    },
                    _ => return None,
                }
            }
            _ => return None,
        })
    }
}

/// Whether day `d` in `tz` is one stretch of time with only earlier dates before it and
/// only later dates after it: no local date runs back across the midnight that starts `d`
/// or the one that starts the next day (as when St John's went back at 00:01 to 23:01 of
/// the day before, until 2011). Offsets change at most once in any 27 hours, so the check
/// looks for a backward change in the 27 hours after each midnight and asks whether it
/// takes the local date back before that day.
fn day_is_one_stretch(d: NaiveDate, tz: Tz) -> bool {
    use chrono::Offset;
    let offset = |t: DateTime<Utc>| {
        tz.offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc()
    };
    let window = Duration::hours(27);
    let goes_back = |x: NaiveDate| -> bool {
        let start = start_of_day(x, tz);
        let Some(end) = start.checked_add_signed(window) else {
            return false;
        };
        let before = offset(start);
        if offset(end) >= before {
            return false;
        }
        // The first millisecond at the new offset.
        let (mut lo, mut hi) = (start.timestamp_millis(), end.timestamp_millis());
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            match DateTime::<Utc>::from_timestamp_millis(mid) {
                Some(t) if offset(t) == before => lo = mid,
                _ => hi = mid,
            }
        }
        DateTime::<Utc>::from_timestamp_millis(hi)
            .is_some_and(|t| t.with_timezone(&tz).date_naive() < x)
    };
    !goes_back(d) && d.succ_opt().is_none_or(|next| !goes_back(next))
}

/// The calendar day of a filter's time value in `tz`.
fn day_of(a: TimeArg, tz: Tz) -> NaiveDate {
    match a {
        TimeArg::Day(d) => d,
        TimeArg::Instant(t) => t.with_timezone(&tz).date_naive(),
    }
}

/// The half-open interval `[lo, hi)` a filter's time value stands for against a `datetime`
/// key: a day is its whole length in `tz`; an instant is itself.
fn bounds(a: TimeArg, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    match a {
        TimeArg::Instant(t) => (
            t,
            t.checked_add_signed(Duration::nanoseconds(1))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        ),
        TimeArg::Day(d) => {
            let lo = start_of_day(d, tz);
            let hi = d
                .succ_opt()
                .map_or(DateTime::<Utc>::MAX_UTC, |n| start_of_day(n, tz));
            (lo, hi)
        }
    }
}

/// The first instant of day `d` in `tz`: local midnight, or, when midnight falls in a gap,
/// the transition out of it (the first instant whose local date is `d`, to the
/// millisecond: Monrovia's day of 1972-01-07 began at 00:44:30Z, after a 44 m 30 s gap).
pub(crate) fn start_of_day(d: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = d.and_time(chrono::NaiveTime::MIN);
    match tz.from_local_datetime(&midnight) {
        LocalResult::Single(t) => return t.with_timezone(&Utc),
        LocalResult::Ambiguous(a, _) => return a.with_timezone(&Utc),
        LocalResult::None => {}
    }
    // Offsets lie within ±27 h of UTC, so 27 h before midnight read as UTC the local date
    // is before `d`, and 27 h after it is `d` or later: the first instant of `d` lies
    // between, found by halving.
    let at = |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms);
    let on_or_after = |ms: i64| at(ms).is_some_and(|t| t.with_timezone(&tz).date_naive() >= d);
    let base = Utc.from_utc_datetime(&midnight);
    const H27: i64 = 27 * 3_600_000;
    let (mut lo, mut hi) = (base.timestamp_millis() - H27, base.timestamp_millis() + H27);
    if on_or_after(lo) || !on_or_after(hi) {
        return base;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if on_or_after(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    at(hi).unwrap_or(base)
}
