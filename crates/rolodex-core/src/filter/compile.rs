//! Compiling a [`Filter`] against a channel's [`Schema`] into a typed [`Plan`] (R-FLT-4).
//!
//! Every type check happens here, and values are normalised once: text is folded
//! (R-FLT-12), phones become E.164 (or digits, for `contains`/`startsWith`), emails are
//! validated and folded, dates and datetimes are parsed in every R-VAL-5 form, durations are
//! parsed, tags are validated (R-VAL-8). Evaluation ([`Plan::matches`]) then never fails.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value as J;

use super::duration::IsoDuration;
use super::model::{
    child_path, filter_err, Condition, Filter, Op, MAX_CONDITIONS, MAX_DEPTH, MAX_LIST_VALUES,
};
use super::vfns;
use crate::error::{cut_text, Result};
use crate::schema::{KeyDef, Schema};
use crate::text::fold;
use crate::value::FieldType;

/// Where a data key's value lives in a [`crate::Contact`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// A profile value, by its name under `profile.` (`city` for `profile.city`).
    Profile(String),
    /// `id`.
    Id,
    /// `memberId`.
    MemberId,
    /// `member`.
    Member,
    /// `tags`.
    Tags,
    /// `userImportTags`.
    UserImportTags,
    /// `unsubscribeEmail` (missing until set).
    UnsubscribeEmail,
    /// `unsubscribeTexting` (missing until set).
    UnsubscribeTexting,
    /// `blocked`.
    Blocked,
    /// `createdAt`.
    CreatedAt,
    /// `updatedAt`.
    UpdatedAt,
    /// `lastSeenAt`.
    LastSeenAt,
    /// `sessionCount`.
    SessionCount,
}

impl Field {
    /// The field of a schema key, or `None` for a system key this build does not know.
    pub fn of(def: &KeyDef) -> Option<Field> {
        Field::from_key(&def.key)
    }

    /// The field of a data key (`profile.city`, `lastSeenAt`), or `None` for a key that is
    /// neither a profile key nor a system field this build knows.
    pub fn from_key(key: &str) -> Option<Field> {
        if let Some(name) = key.strip_prefix("profile.") {
            return Some(Field::Profile(name.to_string()));
        }
        Some(match key {
            "id" => Field::Id,
            "memberId" => Field::MemberId,
            "member" => Field::Member,
            "tags" => Field::Tags,
            "userImportTags" => Field::UserImportTags,
            "unsubscribeEmail" => Field::UnsubscribeEmail,
            "unsubscribeTexting" => Field::UnsubscribeTexting,
            "blocked" => Field::Blocked,
            "createdAt" => Field::CreatedAt,
            "updatedAt" => Field::UpdatedAt,
            "lastSeenAt" => Field::LastSeenAt,
            "sessionCount" => Field::SessionCount,
            _ => return None,
        })
    }
}

/// How text values of a key compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextMode {
    /// Case-insensitive by full case folding on NFC text (strings, emails, list items).
    Folded,
    /// Exact (`id`, `memberId`).
    Exact,
    /// Phone numbers: E.164 for equality, digits for `contains` / `startsWith`.
    Phone,
}

/// A date or datetime given in a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeArg {
    /// A calendar date: against a `datetime` key it means the whole day in the book's zone.
    Day(NaiveDate),
    /// An instant.
    Instant(DateTime<Utc>),
}

/// A condition's value after compilation, already normalised.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// No value (`exists`, `notExists`, `isEmpty`).
    None,
    /// One normalised text: folded, exact, E.164, or digits for phone `contains`/`startsWith`.
    Text(String),
    /// Normalised texts for `eq`/`ne` (one item) and `in`/`notIn`.
    TextSet(HashSet<String>),
    /// A number.
    Number(f64),
    /// Numbers for `in`/`notIn`.
    NumberSet(Vec<f64>),
    /// `between` bounds, both included.
    NumberRange(f64, f64),
    /// A boolean.
    Boolean(bool),
    /// A date or datetime.
    Time(TimeArg),
    /// `between` dates or datetimes, both included.
    TimeRange(TimeArg, TimeArg),
    /// `withinLast` / `moreThanAgo`.
    Duration(IsoDuration),
    /// List items to look for (folded; tags validated).
    Strings(Vec<String>),
    /// Numbers to look for in a `listOfNumber`.
    Numbers(Vec<f64>),
}

/// One type-checked condition.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledCondition {
    /// The data key, as given.
    pub key: String,
    /// Where the value lives.
    pub field: Field,
    /// The key's type.
    pub field_type: FieldType,
    /// How text compares.
    pub mode: TextMode,
    /// The operator.
    pub op: Op,
    /// The normalised value.
    pub arg: Arg,
    /// The JSON path of the condition in the filter.
    pub path: String,
}

/// A node of a compiled filter.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanNode {
    /// All match (empty: everything).
    And(Vec<PlanNode>),
    /// At least one matches (never empty).
    Or(Vec<PlanNode>),
    /// The complement.
    Not(Box<PlanNode>),
    /// A condition.
    Cond(CompiledCondition),
}

/// A filter compiled against a schema: typed, normalised, within the limits. Evaluate it
/// with [`Plan::matches`]; stores may translate it instead.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The root node.
    pub root: PlanNode,
}

impl Plan {
    /// The plan that matches every contact.
    pub fn match_all() -> Plan {
        Plan {
            root: PlanNode::And(Vec::new()),
        }
    }

    /// Whether this plan matches every contact without looking at it.
    pub fn is_match_all(&self) -> bool {
        matches!(&self.root, PlanNode::And(v) if v.is_empty())
    }
}

/// The operators a type takes, besides `exists` / `notExists` (FILTER.md's table).
pub fn operators_for(ft: FieldType) -> &'static [Op] {
    match ft {
        FieldType::String
        | FieldType::Email
        | FieldType::MobileNumber
        | FieldType::LandlineNumber => &[
            Op::Eq,
            Op::Ne,
            Op::In,
            Op::NotIn,
            Op::Contains,
            Op::NotContains,
            Op::StartsWith,
        ],
        FieldType::Number => &[
            Op::Eq,
            Op::Ne,
            Op::Gt,
            Op::Gte,
            Op::Lt,
            Op::Lte,
            Op::Between,
            Op::In,
            Op::NotIn,
        ],
        FieldType::Boolean => &[Op::Eq, Op::Ne],
        FieldType::Date | FieldType::Datetime => &[
            Op::Eq,
            Op::Before,
            Op::After,
            Op::OnOrBefore,
            Op::OnOrAfter,
            Op::Between,
            Op::WithinLast,
            Op::MoreThanAgo,
        ],
        FieldType::List | FieldType::ListOfNumber | FieldType::Tag => &[
            Op::ContainsAny,
            Op::ContainsAll,
            Op::ContainsNone,
            Op::IsEmpty,
        ],
    }
}

/// Compiles `filter` against `schema` (R-FLT-4). Every problem is an `Error::Filter` naming
/// the JSON path of the bad node: an unknown or archived key, an operator the key's type
/// does not take, a value of the wrong type or form, an empty `or`, or a limit (depth
/// ≤ 10, ≤ 1,000 conditions, value lists ≤ 10,000 items).
pub fn compile(filter: &Filter, schema: &Schema) -> Result<Plan> {
    let mut count = 0usize;
    let root = compile_node(filter, schema, "", 1, &mut count)?;
    Ok(Plan { root })
}

fn compile_node(
    f: &Filter,
    schema: &Schema,
    path: &str,
    depth: usize,
    count: &mut usize,
) -> Result<PlanNode> {
    if depth > MAX_DEPTH {
        return Err(filter_err(
            path,
            format!("the filter is nested deeper than {MAX_DEPTH} levels; flatten it"),
        ));
    }
    match f {
        Filter::And(items) | Filter::Or(items) => {
            let is_and = matches!(f, Filter::And(_));
            let name = if is_and { "and" } else { "or" };
            if !is_and && items.is_empty() {
                return Err(filter_err(
                    path,
                    "an `or` group needs at least one filter; `{\"or\": []}` would match nothing",
                ));
            }
            let mut out = Vec::with_capacity(items.len().min(MAX_CONDITIONS));
            for (i, item) in items.iter().enumerate() {
                let p = child_path(path, &format!("{name}[{i}]"));
                out.push(compile_node(item, schema, &p, depth + 1, count)?);
            }
            Ok(if is_and {
                PlanNode::And(out)
            } else {
                PlanNode::Or(out)
            })
        }
        Filter::Not(inner) => {
            let p = child_path(path, "not");
            Ok(PlanNode::Not(Box::new(compile_node(
                inner,
                schema,
                &p,
                depth + 1,
                count,
            )?)))
        }
        Filter::Condition(c) => {
            *count += 1;
            if *count > MAX_CONDITIONS {
                return Err(filter_err(
                    path,
                    format!("the filter has more than {MAX_CONDITIONS} conditions; split it or use `in` lists"),
                ));
            }
            compile_condition(c, schema, path).map(PlanNode::Cond)
        }
    }
}

fn compile_condition(c: &Condition, schema: &Schema, path: &str) -> Result<CompiledCondition> {
    let key = c.key.as_str();
    let def = schema.get(key).ok_or_else(|| {
        filter_err(
            path,
            format!(
                "unknown data key `{}`; check the spelling, or: {}",
                cut_text(key),
                crate::schema::unknown_key_hint(key)
            ),
        )
    })?;
    if def.archived {
        return Err(filter_err(
            path,
            format!("data key `{key}` is archived and cannot be filtered; restore it first"),
        ));
    }
    let field = Field::of(def)
        .ok_or_else(|| filter_err(path, format!("data key `{key}` cannot be filtered")))?;
    let ft = def.field_type;
    let op = c.op;
    if !matches!(op, Op::Exists | Op::NotExists) && !operators_for(ft).contains(&op) {
        let allowed: Vec<&str> = [Op::Exists, Op::NotExists]
            .iter()
            .chain(operators_for(ft))
            .map(|o| o.as_str())
            .collect();
        return Err(filter_err(
            path,
            format!(
                "`{key}` is of type {ft}, which does not take `{op}`; use one of {}",
                allowed.join(", ")
            ),
        ));
    }
    let mode = if matches!(field, Field::Id | Field::MemberId) {
        TextMode::Exact
    } else if ft.is_phone() {
        TextMode::Phone
    } else {
        TextMode::Folded
    };
    let cx = Cx {
        key,
        ft,
        op,
        path,
        mode,
    };
    let arg = match (&c.value, op.takes_no_value()) {
        (None, true) => Arg::None,
        (Some(_), true) => return Err(cx.err(format!("`{op}` takes no `value`; leave it out"))),
        (None, false) => return Err(cx.err(format!("`{op}` needs a `value`"))),
        (Some(v), false) => cx.arg(v)?,
    };
    Ok(CompiledCondition {
        key: key.to_string(),
        field,
        field_type: ft,
        mode,
        op,
        arg,
        path: path.to_string(),
    })
}

struct Cx<'a> {
    key: &'a str,
    ft: FieldType,
    op: Op,
    path: &'a str,
    mode: TextMode,
}

fn kind(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "a boolean",
        J::Number(_) => "a number",
        J::String(_) => "a string",
        J::Array(_) => "an array",
        J::Object(_) => "an object",
    }
}

impl Cx<'_> {
    fn err(&self, message: impl Into<String>) -> crate::error::Error {
        let m: String = message.into();
        filter_err(self.path, format!("`{}` {}: {m}", self.key, self.op))
    }

    fn wrong(&self, expected: &str, v: &J) -> crate::error::Error {
        self.err(format!(
            "the value must be {expected} for a {} key, found {}",
            self.ft,
            kind(v)
        ))
    }

    fn list<'v>(&self, v: &'v J, expected_item: &str) -> Result<&'v [J]> {
        let items = match v {
            J::Array(a) => a.as_slice(),
            other => return Err(self.wrong(&format!("a list of {expected_item}"), other)),
        };
        if items.is_empty() {
            return Err(self.err("the value list is empty; give at least one value"));
        }
        if items.len() > MAX_LIST_VALUES {
            return Err(self.err(format!(
                "the value list has {} items; at most {MAX_LIST_VALUES} are allowed",
                items.len()
            )));
        }
        Ok(items)
    }

    fn arg(&self, v: &J) -> Result<Arg> {
        match self.ft {
            FieldType::String
            | FieldType::Email
            | FieldType::MobileNumber
            | FieldType::LandlineNumber => self.text_arg(v),
            FieldType::Number => self.number_arg(v),
            FieldType::Boolean => match v {
                J::Bool(b) => Ok(Arg::Boolean(*b)),
                other => Err(self.wrong("true or false", other)),
            },
            FieldType::Date | FieldType::Datetime => self.time_arg(v),
            FieldType::List | FieldType::Tag => {
                let items = self.list(v, "strings")?;
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let s = item.as_str().ok_or_else(|| {
                        self.err(format!("value[{i}] must be a string, found {}", kind(item)))
                    })?;
                    if self.ft == FieldType::Tag {
                        check_tag(s).map_err(|m| self.err(format!("value[{i}]: {m}")))?;
                    }
                    out.push(fold(s));
                }
                Ok(Arg::Strings(out))
            }
            FieldType::ListOfNumber => {
                let items = self.list(v, "numbers")?;
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.number(item, &format!("value[{i}] "))?);
                }
                Ok(Arg::Numbers(out))
            }
        }
    }

    /// Normalises one text value for equality.
    fn text_eq(&self, s: &str, item: Option<usize>) -> Result<String> {
        let at = item.map(|i| format!("value[{i}] ")).unwrap_or_default();
        // No stored value is empty (R-VAL-1: an empty cell is no value), so an empty text
        // would silently match nothing (R-FLT-4).
        if s.trim().is_empty() {
            return Err(self.err(format!(
                "{at}the text is empty, and no stored value is; use exists or notExists to ask whether the key has a value"
            )));
        }
        match (self.mode, self.ft) {
            (TextMode::Exact, _) => Ok(s.to_string()),
            (TextMode::Phone, _) => vfns::normalize_phone(s).map_err(|e| {
                self.err(format!(
                    "{at}{:?} is not a phone number with a country code (+82…): {e}",
                    cut_text(s)
                ))
            }),
            (_, FieldType::Email) => vfns::normalize_email(s).map(|e| fold(&e)).map_err(|e| {
                self.err(format!(
                    "{at}{:?} is not an email address: {e}",
                    cut_text(s)
                ))
            }),
            _ => Ok(fold(s)),
        }
    }

    fn text_arg(&self, v: &J) -> Result<Arg> {
        match self.op {
            Op::Eq | Op::Ne => {
                let s = v.as_str().ok_or_else(|| self.wrong("a string", v))?;
                Ok(Arg::TextSet(HashSet::from([self.text_eq(s, None)?])))
            }
            Op::In | Op::NotIn => {
                let items = self.list(v, "strings")?;
                let mut set = HashSet::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let s = item.as_str().ok_or_else(|| {
                        self.err(format!("value[{i}] must be a string, found {}", kind(item)))
                    })?;
                    set.insert(self.text_eq(s, Some(i))?);
                }
                Ok(Arg::TextSet(set))
            }
            _ => {
                // contains / notContains / startsWith
                let s = v.as_str().ok_or_else(|| self.wrong("a string", v))?;
                if s.is_empty() {
                    return Err(self.err("the text is empty; give some text to look for"));
                }
                match self.mode {
                    TextMode::Exact => Ok(Arg::Text(s.to_string())),
                    TextMode::Folded => Ok(Arg::Text(fold(s))),
                    TextMode::Phone => {
                        // The characters R-VAL-2 reads in a number: digits, `+` and the
                        // separators (`-`, `.`, `/`, spaces, parentheses).
                        let phone_text = |c: char| is_phone_char(c) || matches!(c, '.' | '/');
                        if !s.chars().all(phone_text) || !s.chars().any(|c| c.is_ascii_digit()) {
                            return Err(self.err(format!(
                                "{:?} is not part of a phone number; give digits (with `+`, `-`, `.`, `/`, spaces or parentheses)",
                                cut_text(s)
                            )));
                        }
                        // A whole number is normalised like a stored one first (FILTER.md,
                        // R-VAL-2): `+82 010-2020-3030` looks for 821020203030, without the
                        // trunk 0. A part of a number is looked for as its digits.
                        let text = vfns::normalize_phone(s).unwrap_or_else(|_| s.to_string());
                        Ok(Arg::Text(
                            text.chars().filter(|c| c.is_ascii_digit()).collect(),
                        ))
                    }
                }
            }
        }
    }

    /// A number value, held to what the `number` type holds (R-VAL-4): a finite float, and
    /// no integer beyond ±2^53, which would be rounded to another number and match that.
    fn number(&self, v: &J, at: &str) -> Result<f64> {
        match v {
            J::Number(n) => vfns::check_json_number(n).map_err(|_| {
                self.err(format!(
                    "{at}{n} is not a number a key can hold: finite, and no integer beyond ±2^53 (9007199254740992), which would lose digits"
                ))
            }),
            other => Err(self.err(format!("{at}must be a number, found {}", kind(other)))),
        }
    }

    fn number_arg(&self, v: &J) -> Result<Arg> {
        match self.op {
            Op::Between => {
                let (lo, hi) = self.pair(v)?;
                let (lo, hi) = (self.number(lo, "value[0] ")?, self.number(hi, "value[1] ")?);
                if lo > hi {
                    return Err(
                        self.err(format!("the range [{lo}, {hi}] is empty; give [low, high]"))
                    );
                }
                Ok(Arg::NumberRange(lo, hi))
            }
            Op::In | Op::NotIn => {
                let items = self.list(v, "numbers")?;
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.number(item, &format!("value[{i}] "))?);
                }
                Ok(Arg::NumberSet(out))
            }
            _ => Ok(Arg::Number(self.number(v, "the value ")?)),
        }
    }

    fn pair<'v>(&self, v: &'v J) -> Result<(&'v J, &'v J)> {
        match v {
            J::Array(a) if a.len() == 2 => Ok((&a[0], &a[1])),
            other => Err(self.err(format!(
                "`between` takes a list of two values [low, high], found {}",
                match other {
                    J::Array(a) => format!("a list of {}", a.len()),
                    o => kind(o).to_string(),
                }
            ))),
        }
    }

    fn time(&self, v: &J, at: &str) -> Result<TimeArg> {
        let text = match v {
            J::String(s) => s.clone(),
            // Epoch milliseconds given as a JSON integer (R-VAL-5's 12/13-digit form).
            J::Number(n) if n.is_u64() => n.to_string(),
            other => {
                return Err(self.err(format!(
                "{at}must be a date (YYYY-MM-DD) or a datetime (ISO 8601 or epoch ms), found {}",
                kind(other)
            )))
            }
        };
        if let Ok(d) = vfns::parse_date(&text) {
            return Ok(TimeArg::Day(d));
        }
        vfns::parse_datetime(&text).map(TimeArg::Instant).map_err(|e| {
            self.err(format!(
                "{at}{:?} is not a date (YYYY-MM-DD) or a datetime (2025-05-04T09:00:00+09:00, epoch ms): {e}",
                cut_text(&text)
            ))
        })
    }

    fn time_arg(&self, v: &J) -> Result<Arg> {
        match self.op {
            Op::WithinLast | Op::MoreThanAgo => {
                let s = v
                    .as_str()
                    .ok_or_else(|| self.wrong("an ISO 8601 duration string (P7D, PT12H)", v))?;
                IsoDuration::parse(s)
                    .map(Arg::Duration)
                    .map_err(|m| self.err(m))
            }
            Op::Between => {
                let (a, b) = self.pair(v)?;
                let (a, b) = (self.time(a, "value[0] ")?, self.time(b, "value[1] ")?);
                // A day against an instant depends on the book's time zone, which a filter
                // is compiled without: a range empty in every zone (none is 18 hours or
                // more from UTC) is inverted like any other (R-FLT-4).
                let slack = chrono::TimeDelta::hours(18);
                let day_start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
                let inverted = match (a, b) {
                    (TimeArg::Day(x), TimeArg::Day(y)) => x > y,
                    (TimeArg::Instant(x), TimeArg::Instant(y)) => x > y,
                    (TimeArg::Day(x), TimeArg::Instant(y)) => day_start(x)
                        .and_then(|t| t.checked_sub_signed(slack))
                        .is_some_and(|earliest| earliest > y),
                    (TimeArg::Instant(x), TimeArg::Day(y)) => y
                        .succ_opt()
                        .and_then(day_start)
                        .and_then(|t| t.checked_add_signed(slack))
                        .is_some_and(|latest| x >= latest),
                };
                if inverted {
                    return Err(self.err("the range is empty; give [earlier, later]"));
                }
                Ok(Arg::TimeRange(a, b))
            }
            _ => Ok(Arg::Time(self.time(v, "the value ")?)),
        }
    }
}

/// Characters a phone-like text may hold (R-FLT-1).
pub(crate) fn is_phone_char(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')')
}

/// Checks one tag (R-VAL-8): at most two levels separated by `/`, `/` only in the middle,
/// none of `.` `,` `$` `\` or space, at most 512 characters.
pub(crate) fn check_tag(tag: &str) -> std::result::Result<(), String> {
    let expected =
        "a tag of at most 2 levels (`basic/level1`) without `.`, `,`, `$`, `\\` or spaces";
    if tag.is_empty() {
        return Err(format!("an empty tag; expected {expected}"));
    }
    if tag.chars().count() > crate::schema::MAX_STRING_CHARS {
        return Err(format!(
            "the tag is longer than {} characters",
            crate::schema::MAX_STRING_CHARS
        ));
    }
    if tag
        .chars()
        .any(|c| matches!(c, '.' | ',' | '$' | '\\') || c.is_whitespace())
    {
        return Err(format!(
            "{:?} is not a valid tag; expected {expected}",
            cut_text(tag)
        ));
    }
    let parts: Vec<&str> = tag.split('/').collect();
    if parts.len() > 2 || parts.iter().any(|p| p.is_empty()) {
        return Err(format!(
            "{:?} is not a valid tag; expected {expected}",
            cut_text(tag)
        ));
    }
    Ok(())
}
