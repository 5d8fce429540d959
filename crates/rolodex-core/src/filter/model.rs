//! The serde types of FILTER.md: [`Filter`], [`Query`], [`SortKey`], [`Include`], [`Page`].
//!
//! Filters are read through [`Filter::from_value`], which checks the shape and reports the
//! JSON path of the first bad node (`and[1].or[0]`, the root is `""`); the serde
//! `Deserialize` impl goes through it too, so every way in gives the same errors.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value as J};

use crate::contact::Contact;
use crate::error::{json_kind, Error, Result};

/// The deepest filter accepted: a lone condition has depth 1, each `and`/`or`/`not` around
/// it adds one.
pub const MAX_DEPTH: usize = 10;
/// The most conditions one filter may hold.
pub const MAX_CONDITIONS: usize = 1_000;
/// The most items in one value list (`in`, `containsAny`, ...).
pub const MAX_LIST_VALUES: usize = 10_000;

/// A filter operator (FILTER.md, "Operators by field type").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Op {
    /// The key has a value (a non-empty one for lists).
    Exists,
    /// The key has no value (or an empty list).
    NotExists,
    /// Equal (same calendar day for a `date` value).
    Eq,
    /// Not equal; matches a missing value.
    Ne,
    /// Equal to one of a list.
    In,
    /// Equal to none of a list; matches a missing value.
    NotIn,
    /// Contains the text (digits, for phones).
    Contains,
    /// Does not contain the text; matches a missing value.
    NotContains,
    /// Starts with the text.
    StartsWith,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
    /// Less than.
    Lt,
    /// Less than or equal.
    Lte,
    /// Between `[lo, hi]`, both included.
    Between,
    /// Strictly before.
    Before,
    /// Strictly after.
    After,
    /// Before or on.
    OnOrBefore,
    /// On or after.
    OnOrAfter,
    /// Within the last duration before the clock (never in the future).
    WithinLast,
    /// Longer ago than the duration.
    MoreThanAgo,
    /// The list holds at least one of the values.
    ContainsAny,
    /// The list holds every one of the values.
    ContainsAll,
    /// The list holds none of the values; matches a missing list.
    ContainsNone,
    /// The list is missing or empty.
    IsEmpty,
}

impl Op {
    /// Every operator.
    pub const ALL: [Op; 24] = [
        Op::Exists,
        Op::NotExists,
        Op::Eq,
        Op::Ne,
        Op::In,
        Op::NotIn,
        Op::Contains,
        Op::NotContains,
        Op::StartsWith,
        Op::Gt,
        Op::Gte,
        Op::Lt,
        Op::Lte,
        Op::Between,
        Op::Before,
        Op::After,
        Op::OnOrBefore,
        Op::OnOrAfter,
        Op::WithinLast,
        Op::MoreThanAgo,
        Op::ContainsAny,
        Op::ContainsAll,
        Op::ContainsNone,
        Op::IsEmpty,
    ];

    /// The operator's JSON name (`"containsAny"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Exists => "exists",
            Op::NotExists => "notExists",
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::In => "in",
            Op::NotIn => "notIn",
            Op::Contains => "contains",
            Op::NotContains => "notContains",
            Op::StartsWith => "startsWith",
            Op::Gt => "gt",
            Op::Gte => "gte",
            Op::Lt => "lt",
            Op::Lte => "lte",
            Op::Between => "between",
            Op::Before => "before",
            Op::After => "after",
            Op::OnOrBefore => "onOrBefore",
            Op::OnOrAfter => "onOrAfter",
            Op::WithinLast => "withinLast",
            Op::MoreThanAgo => "moreThanAgo",
            Op::ContainsAny => "containsAny",
            Op::ContainsAll => "containsAll",
            Op::ContainsNone => "containsNone",
            Op::IsEmpty => "isEmpty",
        }
    }

    /// Parses a JSON operator name.
    pub fn parse(name: &str) -> Option<Op> {
        Op::ALL.iter().copied().find(|op| op.as_str() == name)
    }

    /// Whether the operator takes no `value` (`exists`, `notExists`, `isEmpty`).
    pub fn takes_no_value(self) -> bool {
        matches!(self, Op::Exists | Op::NotExists | Op::IsEmpty)
    }

    /// Whether a missing value matches this operator (the negative operators, `notExists`
    /// and `isEmpty`).
    pub fn matches_missing(self) -> bool {
        matches!(
            self,
            Op::NotExists | Op::Ne | Op::NotIn | Op::NotContains | Op::ContainsNone | Op::IsEmpty
        )
    }
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One condition: `{"key": KEY, "op": OP, "value": VALUE}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The data key (`profile.city`, `tags`, `lastSeenAt`).
    pub key: String,
    /// The operator.
    pub op: Op,
    /// The value as given; its type is checked against the key's when compiled. `None` for
    /// `exists`, `notExists`, `isEmpty`.
    pub value: Option<J>,
}

/// A filter: a condition, an `and`/`or` group, or a negation (FILTER.md). The empty filter
/// `{}` reads as `And(vec![])`, which matches every contact.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Every sub-filter matches (`{"and": [...]}`); empty matches everything.
    And(Vec<Filter>),
    /// At least one sub-filter matches (`{"or": [...]}`); must not be empty.
    Or(Vec<Filter>),
    /// The exact complement (`{"not": FILTER}`).
    Not(Box<Filter>),
    /// A condition on one key.
    Condition(Condition),
}

impl Default for Filter {
    /// The match-all filter.
    fn default() -> Self {
        Filter::And(Vec::new())
    }
}

pub(crate) fn filter_err(path: &str, message: impl Into<String>) -> Error {
    Error::Filter {
        path: path.to_string(),
        message: message.into(),
    }
}

pub(crate) fn child_path(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

const FILTER_SHAPES: &str = "expected a condition {\"key\", \"op\", \"value\"}, {\"and\": [...]}, {\"or\": [...]}, {\"not\": FILTER} or {}";

impl Filter {
    /// A condition filter.
    pub fn condition(key: impl Into<String>, op: Op, value: Option<J>) -> Filter {
        Filter::Condition(Condition {
            key: key.into(),
            op,
            value,
        })
    }

    /// An `and` group of `filters` (empty: match everything).
    pub fn and(filters: impl IntoIterator<Item = Filter>) -> Filter {
        Filter::And(filters.into_iter().collect())
    }

    /// An `or` group of `filters` (must not be empty when compiled).
    pub fn or(filters: impl IntoIterator<Item = Filter>) -> Filter {
        Filter::Or(filters.into_iter().collect())
    }

    /// The negation of `filter`.
    pub fn negate(filter: Filter) -> Filter {
        Filter::Not(Box::new(filter))
    }

    /// Compiles this filter against `schema`; see [`crate::filter::compile()`].
    pub fn compile(&self, schema: &crate::schema::Schema) -> Result<crate::filter::Plan> {
        crate::filter::compile(self, schema)
    }

    /// Reads a filter from JSON text; a malformed shape is an `Error::Filter` naming the path
    /// (named as [`Query::from_json`] is).
    pub fn from_json(text: &str) -> Result<Filter> {
        Filter::from_json_str(text)
    }

    /// Reads a filter from JSON text; the same as [`Filter::from_json`].
    pub fn from_json_str(text: &str) -> Result<Filter> {
        let v: J = serde_json::from_str(text)
            .map_err(|e| filter_err("", format!("the filter is not valid JSON: {e}")))?;
        Filter::from_value(&v)
    }

    /// Reads a filter from a JSON value; a malformed shape is an `Error::Filter` naming the
    /// path of the bad node.
    pub fn from_value(v: &J) -> Result<Filter> {
        parse_filter(v, "", 1)
    }

    /// The filter as JSON, in the FILTER.md shape.
    pub fn to_value(&self) -> J {
        match self {
            Filter::And(items) => one_key(
                "and",
                J::Array(items.iter().map(|f| f.to_value()).collect()),
            ),
            Filter::Or(items) => {
                one_key("or", J::Array(items.iter().map(|f| f.to_value()).collect()))
            }
            Filter::Not(inner) => one_key("not", inner.to_value()),
            Filter::Condition(c) => {
                let mut m = Map::new();
                m.insert("key".into(), J::String(c.key.clone()));
                m.insert("op".into(), J::String(c.op.as_str().into()));
                if let Some(v) = &c.value {
                    m.insert("value".into(), v.clone());
                }
                J::Object(m)
            }
        }
    }

    /// Whether this is the match-all filter (`{}` or `{"and": []}`).
    pub fn is_match_all(&self) -> bool {
        matches!(self, Filter::And(items) if items.is_empty())
    }
}

fn one_key(k: &str, v: J) -> J {
    let mut m = Map::new();
    m.insert(k.into(), v);
    J::Object(m)
}

fn parse_filter(v: &J, path: &str, depth: usize) -> Result<Filter> {
    if depth > MAX_DEPTH {
        return Err(filter_err(
            path,
            format!("the filter is nested deeper than {MAX_DEPTH} levels; flatten it"),
        ));
    }
    let obj = match v {
        J::Object(o) => o,
        other => {
            return Err(filter_err(
                path,
                format!("{FILTER_SHAPES}, found {}", json_kind(other)),
            ))
        }
    };
    if obj.is_empty() {
        return Ok(Filter::And(Vec::new()));
    }
    for group in ["and", "or"] {
        if let Some(items) = obj.get(group) {
            if obj.len() != 1 {
                return Err(filter_err(
                    path,
                    format!(
                        "a `{group}` group has no other fields; found {}",
                        field_list(obj)
                    ),
                ));
            }
            let items = items.as_array().ok_or_else(|| {
                filter_err(
                    path,
                    format!(
                        "`{group}` takes an array of filters, found {}",
                        json_kind(items)
                    ),
                )
            })?;
            let mut out = Vec::with_capacity(items.len().min(MAX_CONDITIONS));
            for (i, item) in items.iter().enumerate() {
                let p = child_path(path, &format!("{group}[{i}]"));
                out.push(parse_filter(item, &p, depth + 1)?);
            }
            return Ok(if group == "and" {
                Filter::And(out)
            } else {
                Filter::Or(out)
            });
        }
    }
    if let Some(inner) = obj.get("not") {
        if obj.len() != 1 {
            return Err(filter_err(
                path,
                format!("a `not` has no other fields; found {}", field_list(obj)),
            ));
        }
        let p = child_path(path, "not");
        return Ok(Filter::Not(Box::new(parse_filter(inner, &p, depth + 1)?)));
    }
    if obj.contains_key("key") || obj.contains_key("op") {
        return parse_condition(obj, path).map(Filter::Condition);
    }
    Err(filter_err(
        path,
        format!("{FILTER_SHAPES}, found an object with {}", field_list(obj)),
    ))
}

fn field_list(obj: &Map<String, J>) -> String {
    let names: Vec<String> = obj
        .keys()
        .take(8)
        .map(|k| format!("`{}`", crate::error::cut_text(k)))
        .collect();
    format!("fields {}", names.join(", "))
}

fn parse_condition(obj: &Map<String, J>, path: &str) -> Result<Condition> {
    if let Some(extra) = obj
        .keys()
        .find(|k| !matches!(k.as_str(), "key" | "op" | "value"))
    {
        return Err(filter_err(
            path,
            format!(
                "unexpected field `{}` in a condition; a condition has `key`, `op` and `value`",
                crate::error::cut_text(extra)
            ),
        ));
    }
    let key = match obj.get("key") {
        Some(J::String(k)) => k.clone(),
        Some(other) => {
            return Err(filter_err(
                path,
                format!(
                    "`key` must be a string naming a data key, found {}",
                    json_kind(other)
                ),
            ))
        }
        None => return Err(filter_err(path, "the condition has no `key`")),
    };
    let op = match obj.get("op") {
        Some(J::String(name)) => Op::parse(name).ok_or_else(|| {
            filter_err(
                path,
                format!(
                    "unknown operator {:?}; expected one of {}",
                    crate::error::cut_text(name),
                    Op::ALL
                        .iter()
                        .map(|o| o.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?,
        Some(other) => {
            return Err(filter_err(
                path,
                format!("`op` must be a string, found {}", json_kind(other)),
            ))
        }
        None => {
            return Err(filter_err(
                path,
                format!(
                    "the condition on `{}` has no `op`",
                    crate::error::cut_text(&key)
                ),
            ))
        }
    };
    let value = match obj.get("value") {
        None | Some(J::Null) => None,
        Some(v) => Some(v.clone()),
    };
    Ok(Condition { key, op, value })
}

impl std::ops::Not for Filter {
    type Output = Filter;
    /// `!f` is `{"not": f}`.
    fn not(self) -> Filter {
        Filter::negate(self)
    }
}

impl Serialize for Filter {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Filter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let v = J::deserialize(d)?;
        Filter::from_value(&v).map_err(D::Error::custom)
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SortOrder {
    /// Ascending (the default when `order` is left out).
    #[default]
    Asc,
    /// Descending.
    Desc,
}

/// One sort key: `{"key": "lastSeenAt", "order": "desc"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SortKey {
    /// The data key to sort by.
    pub key: String,
    /// The direction; ascending when left out.
    #[serde(default)]
    pub order: SortOrder,
}

impl SortKey {
    /// A sort key.
    pub fn new(key: impl Into<String>, order: SortOrder) -> SortKey {
        SortKey {
            key: key.into(),
            order,
        }
    }
}

/// Which contacts a query lists (R-FLT-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Include {
    /// Neither blocked nor hidden (the default).
    #[default]
    Visible,
    /// Blocked contacts only (the blocked listing).
    Blocked,
    /// Hidden (and not blocked) contacts only.
    Hidden,
}

impl Include {
    /// Whether a contact belongs to this listing.
    pub fn selects(self, c: &Contact) -> bool {
        match self {
            Include::Visible => !c.blocked && !c.hidden,
            Include::Blocked => c.blocked,
            Include::Hidden => c.hidden && !c.blocked,
        }
    }
}

/// A search query (FILTER.md "Query"); every field is optional.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Query {
    /// The advanced filter (R-FLT-3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// Quick search text (R-FLT-1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    /// Multi-term search text (R-FLT-2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terms: Option<String>,
    /// Sort keys; empty means `createdAt` descending, then id (R-FLT-7).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sort: Vec<SortKey>,
    /// Page size; 50 when left out, at most 1,000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The `nextCursor` of the previous page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// Which listing: visible (default), blocked or hidden.
    pub include: Include,
}

impl Query {
    /// A query that lists every visible contact with the default sort and page size.
    pub fn new() -> Query {
        Query::default()
    }

    /// Compiles this query against `schema`; see [`crate::filter::compile_query`].
    pub fn compile(&self, schema: &crate::schema::Schema) -> Result<crate::filter::CompiledQuery> {
        crate::filter::compile_query(self, schema)
    }

    /// Reads a query from JSON text. A malformed shape is an `Error::Filter`; its path is the
    /// query field (`limit`, `sort[0].order`), or, inside `filter`, the path within the
    /// filter (`and[1].or[0]`, the same path a segment's filter reports).
    pub fn from_json(text: &str) -> Result<Query> {
        let v: J = serde_json::from_str(text)
            .map_err(|e| filter_err("", format!("the query is not valid JSON: {e}")))?;
        Query::from_value(&v)
    }

    /// Reads a query from a JSON value; see [`Query::from_json`].
    pub fn from_value(v: &J) -> Result<Query> {
        let obj = match v {
            J::Object(o) => o,
            J::Null => return Ok(Query::default()),
            other => {
                return Err(filter_err(
                    "",
                    format!("a query is a JSON object, found {}", json_kind(other)),
                ))
            }
        };
        let mut q = Query::default();
        for (k, val) in obj {
            match k.as_str() {
                "filter" => {
                    if !val.is_null() {
                        q.filter = Some(Filter::from_value(val)?);
                    }
                }
                "search" => q.search = opt_string(val, "search")?,
                "terms" => q.terms = opt_string(val, "terms")?,
                "cursor" => q.cursor = opt_string(val, "cursor")?,
                "limit" => {
                    q.limit = match val {
                        J::Null => None,
                        // A number out of the page sizes is the error `compile_query`
                        // gives for 0 and 1001.
                        J::Number(n) => Some(
                            crate::value::whole_number(n)
                                .ok_or_else(|| super::page_size_error(&n.to_string()))?,
                        ),
                        other => {
                            return Err(filter_err(
                                "limit",
                                format!("`limit` must be a number, found {}", json_kind(other)),
                            ))
                        }
                    }
                }
                "include" => {
                    q.include = match val {
                        J::Null => Include::Visible,
                        J::String(s) if s == "visible" => Include::Visible,
                        J::String(s) if s == "blocked" => Include::Blocked,
                        J::String(s) if s == "hidden" => Include::Hidden,
                        _ => {
                            return Err(filter_err(
                                "include",
                                "`include` must be one of \"visible\", \"blocked\", \"hidden\"",
                            ))
                        }
                    }
                }
                "sort" => q.sort = parse_sort(val)?,
                other => {
                    return Err(filter_err(
                        "",
                        format!(
                            "unknown query field `{}`; expected filter, search, terms, sort, limit, cursor, include",
                            crate::error::cut_text(other)
                        ),
                    ))
                }
            }
        }
        Ok(q)
    }
}

fn opt_string(v: &J, name: &str) -> Result<Option<String>> {
    match v {
        J::Null => Ok(None),
        J::String(s) => Ok(Some(s.clone())),
        other => Err(filter_err(
            name,
            format!("`{name}` must be a string, found {}", json_kind(other)),
        )),
    }
}

fn parse_sort(v: &J) -> Result<Vec<SortKey>> {
    let items = match v {
        J::Null => return Ok(Vec::new()),
        J::Array(a) => a,
        // A single sort key object is accepted as a one-element list.
        J::Object(_) => std::slice::from_ref(v),
        other => {
            return Err(filter_err(
                "sort",
                format!(
                    "`sort` must be an array of {{\"key\", \"order\"}}, found {}",
                    json_kind(other)
                ),
            ))
        }
    };
    let mut out = Vec::with_capacity(items.len().min(16));
    for (i, item) in items.iter().enumerate() {
        let path = format!("sort[{i}]");
        let obj = item.as_object().ok_or_else(|| {
            filter_err(
                &path,
                format!(
                    "a sort key is {{\"key\", \"order\"}}, found {}",
                    json_kind(item)
                ),
            )
        })?;
        if let Some(extra) = obj.keys().find(|k| !matches!(k.as_str(), "key" | "order")) {
            return Err(filter_err(
                &path,
                format!(
                    "unexpected field `{}` in a sort key",
                    crate::error::cut_text(extra)
                ),
            ));
        }
        let key = match obj.get("key") {
            Some(J::String(k)) => k.clone(),
            _ => return Err(filter_err(&path, "a sort key needs `key`, a string")),
        };
        let order = match obj.get("order") {
            None | Some(J::Null) => SortOrder::Asc,
            Some(J::String(s)) if s == "asc" => SortOrder::Asc,
            Some(J::String(s)) if s == "desc" => SortOrder::Desc,
            Some(_) => {
                return Err(filter_err(
                    &format!("{path}.order"),
                    "`order` must be \"asc\" or \"desc\"",
                ))
            }
        };
        out.push(SortKey { key, order });
    }
    Ok(out)
}

impl<'de> Deserialize<'de> for Query {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let v = J::deserialize(d)?;
        Query::from_value(&v).map_err(D::Error::custom)
    }
}

/// One page of results: `{"contacts", "total", "nextCursor", "unmatchedTerms"}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    /// The contacts of this page, in sort order.
    pub contacts: Vec<Contact>,
    /// Every match of the query at the time the page was read.
    pub total: u64,
    /// The cursor of the next page; `null` on the last page.
    #[serde(default)]
    pub next_cursor: Option<String>,
    /// The terms of `terms` that matched no contact of the final result, in input order.
    #[serde(default)]
    pub unmatched_terms: super::TermList,
}
