//! Filters, search and sorting as pure functions over [`Contact`]s (FILTER.md, R-FLT).
//!
//! - [`Filter`], [`Query`], [`Page`]: the serde types, in exactly the FILTER.md shapes.
//! - [`compile()`]: type-checks a filter against a [`Schema`] into a [`Plan`] (R-FLT-4).
//! - [`Plan::matches`]: the reference semantics over one contact.
//! - [`QuickSearch`] (R-FLT-1), [`Terms`] (R-FLT-2), [`SortSpec`] with its keyset cursor
//!   (R-FLT-7).
//! - [`compile_query`] + [`search_scan`]: a whole query by a plain scan; the reference
//!   evaluator for indexed stores.

mod compile;
mod duration;
mod eval;
mod model;
mod sort;
mod term_list;
mod terms;
mod vfns;

#[cfg(test)]
mod tests;

use std::collections::BinaryHeap;

pub use compile::{
    compile, operators_for, Arg, CompiledCondition, Field, Plan, PlanNode, TextMode, TimeArg,
};
pub use duration::IsoDuration;
pub(crate) use eval::{digits, phone_digits_match};
pub use eval::{EvalCtx, FieldValue, InstantRange};
pub use model::{
    Condition, Filter, Include, Op, Page, Query, SortKey, SortOrder, MAX_CONDITIONS, MAX_DEPTH,
    MAX_LIST_VALUES,
};
pub(crate) use sort::compare_sort_text;
pub use sort::{RowKey, SortSpec, SortVal, MAX_SORT_KEYS};
pub use term_list::TermList;
pub(crate) use terms::text_fingerprint;
pub use terms::{looks_like_phone, split_terms, QuickSearch, Term, TermTracker, Terms, MAX_TERMS};

use crate::contact::Contact;
use crate::error::{Error, Result};
use crate::schema::Schema;

/// The page size when a query gives none.
pub const DEFAULT_LIMIT: usize = 50;
/// The largest page size.
pub const MAX_LIMIT: usize = 1_000;

/// A query compiled against a schema: every part checked, ready to run.
#[derive(Debug, Clone)]
pub struct CompiledQuery {
    /// The compiled filter (match-all when the query has none).
    pub plan: Plan,
    /// Quick search, when the query has non-blank `search` text.
    pub quick: Option<QuickSearch>,
    /// Multi-term search, when `terms` holds at least one term.
    pub terms: Option<Terms>,
    /// The order.
    pub sort: SortSpec,
    /// The page size.
    pub limit: usize,
    /// The position after which this page starts.
    pub cursor: Option<RowKey>,
    /// Which listing.
    pub include: crate::filter::Include,
}

impl CompiledQuery {
    /// Whether `c` belongs to the query's result (listing, filter, quick search and terms;
    /// not the cursor).
    pub fn matches(&self, c: &Contact, ctx: &EvalCtx) -> bool {
        self.include.selects(c)
            && self.plan.matches(c, ctx)
            && self.quick.as_ref().is_none_or(|s| s.matches(c))
            && self.terms.as_ref().is_none_or(|t| t.matches(c))
    }
}

/// A page size out of 1 to [`MAX_LIMIT`], as given (`text`): one `Validation` error
/// whichever way it is out (0, 1001, -1, 1.5).
pub(crate) fn page_size_error(text: &str) -> Error {
    Error::Validation {
        key: Some("limit".into()),
        text: Some(text.to_string()),
        expected: format!("a page size from 1 to {MAX_LIMIT}"),
        message: "the page size is out of range".into(),
    }
}

/// Compiles a whole query: the filter (`Error::Filter` with its path), the sort, the page
/// size (1 to 1,000, default 50), the cursor and the terms (`Validation` errors).
pub fn compile_query(q: &Query, schema: &Schema) -> Result<CompiledQuery> {
    let plan = match &q.filter {
        Some(f) => compile(f, schema)?,
        None => Plan::match_all(),
    };
    let sort = SortSpec::new(&q.sort, schema)?;
    let limit = match q.limit {
        None => DEFAULT_LIMIT,
        Some(n) if n >= 1 && n <= MAX_LIMIT as u64 => n as usize,
        Some(n) => return Err(page_size_error(&n.to_string())),
    };
    let cursor = match q.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(sort.decode_cursor(c)?),
    };
    let terms = match q.terms.as_deref() {
        None => None,
        Some(t) => Some(Terms::parse(t)?).filter(|t| !t.is_empty()),
    };
    Ok(CompiledQuery {
        plan,
        quick: q.search.as_deref().and_then(QuickSearch::new),
        terms,
        sort,
        limit,
        cursor,
        include: q.include,
    })
}

struct Entry<'a> {
    key: RowKey,
    contact: &'a Contact,
    sort: &'a SortSpec,
}

impl PartialEq for Entry<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}
impl Eq for Entry<'_> {}
impl PartialOrd for Entry<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.sort.compare(&self.key, &other.key)
    }
}

/// Runs a whole query by scanning `contacts` (R-FLT-1..7): the listing of `include`
/// (visible = neither blocked nor hidden; blocked; hidden and not blocked), the filter, quick
/// search and terms combined with AND; `total` counts every match; the page holds the first
/// `limit` matches strictly after the cursor in sort order; `nextCursor` is set when more
/// follow; `unmatchedTerms` lists the terms no match of the whole result satisfied.
pub fn search_scan<'a>(
    contacts: impl IntoIterator<Item = &'a Contact>,
    q: &CompiledQuery,
    ctx: &EvalCtx,
) -> Page {
    let mut total = 0u64;
    let mut tracker = q.terms.as_ref().map(Terms::tracker);
    let keep = q.limit.saturating_add(1);
    let mut heap: BinaryHeap<Entry<'_>> = BinaryHeap::with_capacity(keep.min(4096));
    for c in contacts {
        if !q.matches(c, ctx) {
            continue;
        }
        total += 1;
        if let Some(t) = tracker.as_mut() {
            t.record(c);
        }
        let key = q.sort.key_of(c);
        if let Some(cur) = &q.cursor {
            if q.sort.compare(cur, &key) != std::cmp::Ordering::Less {
                continue;
            }
        }
        let entry = Entry {
            key,
            contact: c,
            sort: &q.sort,
        };
        if heap.len() < keep {
            heap.push(entry);
        } else if heap.peek().is_some_and(|top| entry < *top) {
            heap.pop();
            heap.push(entry);
        }
    }
    let mut rows = heap.into_sorted_vec();
    let next_cursor = if rows.len() > q.limit {
        rows.truncate(q.limit);
        rows.last().map(|e| q.sort.encode_cursor(&e.key))
    } else {
        None
    };
    Page {
        contacts: rows.into_iter().map(|e| e.contact.clone()).collect(),
        total,
        next_cursor,
        unmatched_terms: tracker.map(|t| t.unmatched()).unwrap_or_default(),
    }
}
