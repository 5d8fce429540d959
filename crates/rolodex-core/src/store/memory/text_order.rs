//! Rows in the order of a text key, for pages sorted by it (R-FLT-7).
//!
//! A page sorted by a number, a date or an instant walks that key's ordered index
//! ([`super::search`]); text keys have no ordered index (keeping one for every key would cost
//! memory on every write), so a page sorted by a name read and compared every match: about
//! 26 ms a page at 300,000 contacts and 88 ms at 1,000,000. The second page sorted by a
//! text key over a large table builds the order of that key instead (the first is answered
//! as before: a sort asked for once costs less that way): the rows holding a text value,
//! sorted by the value as the sort compares it (folded or exact) and then by id (62 ms at
//! 300,000 contacts, 223 ms at 1,000,000). A later page starts at its cursor by binary
//! search and walks the order until the page is full: 5 µs and 7 µs.
//!
//! Writes do not keep the order sorted (an insert into the middle of a million rows is a
//! move of megabytes); each write marks its row instead. A page reads up to
//! [`FEW_WRITTEN`] marked rows apart: it skips them in the order, sorts them on their own
//! and merges them in as it walks (16 µs at 300,000 contacts, 22 µs at 1,000,000). Past
//! that, the next page takes the marked rows out of the order and puts each back where its
//! value now sorts (a binary search per row), or sorts the whole key anew once a sixteenth
//! of its rows were marked (a copy of the order: 0.4 ms and 1.4 ms). Only the keys
//! pages are actually sorted by hold an order, 4 bytes a row, and at most [`MAX_ORDERS`]
//! of them (the least recently used gives way once idle, so keys taken in turn do not
//! rebuild one another's orders). A page whose matches are few sorts them, as before,
//! without touching the order.

use std::cmp::Ordering;
use std::sync::Arc;

use parking_lot::Mutex;
use roaring::RoaringBitmap;

use super::table::{IdRef, Slot, Table};
use crate::filter::FieldValue;
use crate::text::fold_cow;

/// The most text orders a table keeps.
const MAX_ORDERS: usize = 4;

/// The most rows written since an order's last refresh that a page reads apart (skipped in
/// the order, sorted on their own, and merged in as the page walks) instead of refreshing
/// the order, which copies it whole.
const FEW_WRITTEN: usize = 64;

/// The most keys remembered as asked for once without an order.
const MAX_ASKED: usize = 16;

/// The calls for other keys' orders after which an order unused meanwhile may give way to
/// another key's.
const IDLE: u64 = 64;

/// The least recently used of `list`, if idle for [`IDLE`] calls at `now`.
fn idle(list: &[Order], now: u64) -> Option<usize> {
    list.iter()
        .enumerate()
        .min_by_key(|(_, o)| o.last_used)
        .filter(|(_, o)| now.saturating_sub(o.last_used) >= IDLE)
        .map(|(i, _)| i)
}

/// The fewest rows with a value from which a page sorted by a text key builds and walks an
/// order; below it, sorting the matches is as quick. (Small in unit tests, so that their
/// property tests take both ways.)
pub(crate) const ORDER_FROM: u64 = if cfg!(test) { 8 } else { 2048 };

/// The text orders of a table's keys. Writes mark rows with [`TextOrders::note`] (under
/// the table's write lock, without locking here); pages read and refresh them under the
/// read lock, one at a time.
#[derive(Debug, Default)]
pub(crate) struct TextOrders {
    inner: Mutex<Inner>,
    /// A count of uses, for the least recently used order.
    clock: std::sync::atomic::AtomicU64,
    /// Orders built or sorted anew (for tests of when that happens).
    #[cfg(test)]
    pub(crate) sorts: std::sync::atomic::AtomicU64,
}

/// The orders, and the keys a page was sorted by once without one.
#[derive(Debug, Default)]
struct Inner {
    orders: Vec<Order>,
    asked: Vec<(Slot, bool)>,
}

/// One key's order.
#[derive(Debug)]
struct Order {
    slot: Slot,
    /// Folded (case-insensitive keys) or exact text.
    folded: bool,
    /// The rows in order, as of the last refresh.
    rows: Arc<[u32]>,
    /// Rows written since (each once), and a bit per row for the same set.
    dirty: Vec<u32>,
    marked: Arc<Vec<u64>>,
    last_used: u64,
}

/// An order as a page reads it: the rows as of the order's last refresh, and the rows
/// written since (few), which are skipped there and read apart with their values now.
pub(crate) struct OrderView {
    rows: Arc<[u32]>,
    marked: Arc<Vec<u64>>,
    /// The rows written since that hold a value, with their sort texts, in order.
    fresh: Vec<(Box<str>, u32)>,
}

impl OrderView {
    fn whole(rows: Arc<[u32]>) -> OrderView {
        OrderView {
            rows,
            marked: Arc::default(),
            fresh: Vec::new(),
        }
    }

    fn is_marked(&self, r: u32) -> bool {
        self.marked
            .get((r / 64) as usize)
            .is_some_and(|w| w & (1 << (r % 64)) != 0)
    }

    /// The first place in `rows` from which no row that is not marked satisfies `pred`
    /// (true for a run of unmarked rows from the start, as in `partition_point`).
    fn partition_point(&self, pred: impl Fn(u32) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.rows.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            // The first unmarked row at or after `mid` (marked rows sort anywhere).
            let next = self.rows[mid..hi].iter().position(|r| !self.is_marked(*r));
            match next {
                Some(k) if pred(self.rows[mid + k]) => lo = mid + k + 1,
                _ => hi = mid,
            }
        }
        lo
    }

    /// The rows of the order from the position `cur` (`(text, id)`) on, in the page's
    /// direction: ascending, those after it; descending, those before it, last first. The
    /// rows written since the last refresh come in where their values now sort.
    pub(crate) fn walk<'a>(
        &'a self,
        table: &'a Table,
        slot: Slot,
        folded: bool,
        cur: Option<(&'a str, IdRef<'a>)>,
        desc: bool,
    ) -> impl Iterator<Item = u32> + 'a {
        let cmp = move |r: u32, t: &str, id: IdRef<'_>| table.order_cmp(r, slot, folded, t, id);
        let id_of = move |r: u32| table.row(r).map(|x| x.id());
        // The fresh rows on the page's side of the cursor, in the page's direction.
        let fresh_after = |(t, r): &(Box<str>, u32)| {
            cur.is_none_or(|(ct, cid)| {
                let o = (t.as_ref(), id_of(*r)).cmp(&(ct, Some(cid)));
                if desc {
                    o == Ordering::Less
                } else {
                    o == Ordering::Greater
                }
            })
        };
        let mut fresh: Vec<&(Box<str>, u32)> =
            self.fresh.iter().filter(|f| fresh_after(f)).collect();
        if !desc {
            fresh.reverse();
        }
        // Popped from the end: the next fresh row in the page's direction.
        let base: Box<dyn Iterator<Item = u32> + 'a> = if desc {
            let end = cur.map_or(self.rows.len(), |(t, id)| {
                self.partition_point(|r| cmp(r, t, id) == Ordering::Less)
            });
            Box::new(self.rows[..end].iter().rev().copied())
        } else {
            let start = cur.map_or(0, |(t, id)| {
                self.partition_point(|r| cmp(r, t, id) != Ordering::Greater)
            });
            Box::new(self.rows[start..].iter().copied())
        };
        let mut base = base.filter(move |r| !self.is_marked(*r)).peekable();
        std::iter::from_fn(move || {
            let Some(&&(ref t, f)) = fresh.last() else {
                return base.next();
            };
            let first = match base.peek() {
                None => false,
                Some(&b) => matches!(
                    (cmp(b, t, id_of(f)?), desc),
                    (Ordering::Less, false) | (Ordering::Greater, true)
                ),
            };
            if first {
                base.next()
            } else {
                fresh.pop();
                Some(f)
            }
        })
    }
}

impl Order {
    fn mark(&mut self, r: u32) {
        let i = (r / 64) as usize;
        let bit = 1 << (r % 64);
        if self.marked.get(i).is_some_and(|w| w & bit != 0) {
            return;
        }
        // Pages hold a copy only while they read (under the table's read lock), so the
        // bits are not copied here.
        let marked = Arc::make_mut(&mut self.marked);
        if i >= marked.len() {
            marked.resize(i + 1, 0);
        }
        marked[i] |= bit;
        self.dirty.push(r);
    }
}

impl TextOrders {
    /// Notes that row `r` was written (its value may have changed, or the row may hold
    /// another contact or none). An order whose marked rows outnumber its rows is dropped:
    /// building it anew costs less than its refresh would.
    pub(crate) fn note(&mut self, r: u32) {
        let orders = &mut self.inner.get_mut().orders;
        if orders.is_empty() {
            return;
        }
        for o in orders.iter_mut() {
            o.mark(r);
        }
        orders.retain(|o| o.dirty.len() <= o.rows.len().max(1024));
    }
}

/// Appends the text a row's value sorts by to `out`, as
/// [`crate::filter::SortSpec::sort_val`] makes it; `None` when the value is not text.
fn push_sort_text(out: &mut String, v: FieldValue<'_>, folded: bool) -> Option<()> {
    match v {
        // ASCII folds to lower case.
        FieldValue::Text(s) if folded && s.is_ascii() => {
            out.extend(s.chars().map(|c| c.to_ascii_lowercase()));
        }
        FieldValue::Text(s) if folded => out.push_str(&fold_cow(s)),
        FieldValue::Text(s) => out.push_str(s),
        _ => return None,
    }
    Some(())
}

/// Compares a row's value with a sort text `t`: `None` when the value is not text.
fn cmp_text(v: FieldValue<'_>, folded: bool, t: &str) -> Option<Ordering> {
    match v {
        FieldValue::Text(s) => Some(crate::filter::compare_sort_text(s, folded, t)),
        _ => None,
    }
}

/// The first 16 bytes of a text as a big-endian number, zero-padded: texts in this
/// number's order are in byte order, so most comparisons of a sort end here.
fn prefix(t: &str) -> u128 {
    let mut b = [0u8; 16];
    let n = t.len().min(16);
    b[..n].copy_from_slice(&t.as_bytes()[..n]);
    u128::from_be_bytes(b)
}

impl Table {
    /// The rows holding a text value of `slot` (among `present`, the rows with a value) in
    /// the order of `(value, id)`, the value folded or exact: `None` at the first call for
    /// a key (a sort asked for once is answered by sorting its matches, which costs less
    /// than building the order), built at the second, brought up to date with the rows
    /// written since at a later one. `None` too while [`MAX_ORDERS`] other keys' orders
    /// are all in use: an order gives way only when idle for [`IDLE`] calls, so that pages
    /// sorted by more keys in turn than there are orders do not build one at every page.
    ///
    /// The build or refresh runs outside the lock, so pages sorted by other keys meanwhile
    /// do not wait for it. Writes cannot mark rows meanwhile: they need the table's write
    /// lock, and every caller holds its read lock. Two pages refreshing one order at once
    /// make the same rows, and the later one is kept.
    pub(crate) fn text_order(
        &self,
        slot: Slot,
        folded: bool,
        present: &RoaringBitmap,
    ) -> Option<OrderView> {
        let orders = &self.text_orders;
        let now = orders
            .clock
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let find = |list: &[Order]| {
            list.iter()
                .position(|o| o.slot == slot && o.folded == folded)
        };
        let stale = {
            let mut inner = orders.inner.lock();
            let Inner {
                orders: list,
                asked,
            } = &mut *inner;
            match find(list) {
                Some(i) => {
                    let o = &mut list[i];
                    o.last_used = now;
                    if o.dirty.is_empty() {
                        return Some(OrderView::whole(Arc::clone(&o.rows)));
                    }
                    Some((Arc::clone(&o.rows), o.dirty.clone(), Arc::clone(&o.marked)))
                }
                None => {
                    match asked.iter().position(|a| *a == (slot, folded)) {
                        Some(i) => {
                            asked.remove(i);
                        }
                        None => {
                            if asked.len() >= MAX_ASKED {
                                asked.remove(0);
                            }
                            asked.push((slot, folded));
                            return None;
                        }
                    }
                    if list.len() >= MAX_ORDERS && idle(list, now).is_none() {
                        // Asked again later, it is built once an order is idle.
                        asked.push((slot, folded));
                        return None;
                    }
                    None
                }
            }
        };
        if let Some((rows, dirty, marked)) = &stale {
            if dirty.len() <= FEW_WRITTEN {
                // Read apart, without a refresh.
                let fresh = dirty.iter().copied().filter(|r| present.contains(*r));
                return Some(OrderView {
                    rows: Arc::clone(rows),
                    marked: Arc::clone(marked),
                    fresh: self.sorted_texts(slot, folded, fresh),
                });
            }
        }
        let rows: Arc<[u32]> = match &stale {
            Some((rows, dirty, marked)) if dirty.len() <= rows.len() / 16 => {
                self.merged_rows(slot, folded, rows, dirty, marked, present)
            }
            _ => {
                #[cfg(test)]
                orders
                    .sorts
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.sorted_rows(slot, folded, present.iter())
            }
        }
        .into();
        let mut inner = orders.inner.lock();
        let list = &mut inner.orders;
        match find(list) {
            Some(i) => {
                let o = &mut list[i];
                o.rows = Arc::clone(&rows);
                o.dirty.clear();
                o.marked = Arc::default();
            }
            None => {
                if list.len() >= MAX_ORDERS {
                    match idle(list, now) {
                        Some(i) => {
                            list.swap_remove(i);
                        }
                        None => return Some(OrderView::whole(rows)),
                    }
                }
                list.push(Order {
                    slot,
                    folded,
                    rows: Arc::clone(&rows),
                    dirty: Vec::new(),
                    marked: Arc::default(),
                    last_used: now,
                });
            }
        }
        Some(OrderView::whole(rows))
    }

    /// `rows` that hold a text value of `slot`, sorted by `(value, id)`. The texts go into
    /// one buffer (a fresh string for each row cost more than the sort), each row keyed by
    /// its text's first 16 bytes as a number and its place in the buffer.
    fn sorted_rows(&self, slot: Slot, folded: bool, rows: impl Iterator<Item = u32>) -> Vec<u32> {
        self.sorted_keys(slot, folded, rows)
            .0
            .into_iter()
            .map(|k| k.3)
            .collect()
    }

    /// [`Table::sorted_rows`] with each row's sort text.
    fn sorted_texts(
        &self,
        slot: Slot,
        folded: bool,
        rows: impl Iterator<Item = u32>,
    ) -> Vec<(Box<str>, u32)> {
        let (keyed, texts) = self.sorted_keys(slot, folded, rows);
        keyed
            .into_iter()
            .map(|k| {
                let t = texts
                    .get(k.1 as usize..(k.1 + k.2) as usize)
                    .unwrap_or_default();
                (t.into(), k.3)
            })
            .collect()
    }

    /// The keys of [`Table::sorted_rows`], sorted, and the buffer of their texts.
    #[allow(clippy::type_complexity)]
    fn sorted_keys(
        &self,
        slot: Slot,
        folded: bool,
        rows: impl Iterator<Item = u32>,
    ) -> (Vec<(u128, u32, u32, u32)>, String) {
        let mut texts = String::new();
        let mut keyed: Vec<(u128, u32, u32, u32)> = rows
            .filter_map(|r| {
                let row = self.row(r)?;
                let start = texts.len();
                self.with_value(row, slot, |v| push_sort_text(&mut texts, v, folded))?;
                let t = texts.get(start..)?;
                Some((prefix(t), start as u32, t.len() as u32, r))
            })
            .collect();
        let text = |k: &(u128, u32, u32, u32)| {
            texts
                .as_bytes()
                .get(k.1 as usize..(k.1 + k.2) as usize)
                .unwrap_or_default()
        };
        let id = |r: u32| self.row(r).map(|x| x.id());
        // By the prefixes first (plain integers), then each run of one prefix by the whole
        // text and the id.
        keyed.sort_unstable_by_key(|k| k.0);
        for run in keyed.chunk_by_mut(|a, b| a.0 == b.0) {
            if run.len() > 1 {
                run.sort_unstable_by(|a, b| {
                    text(a).cmp(text(b)).then_with(|| id(a.3).cmp(&id(b.3)))
                });
            }
        }
        (keyed, texts)
    }

    /// `rows` with the `marked` rows (listed in `dirty`) taken out, and those still
    /// holding a text value (among `present`) put back where they now sort.
    fn merged_rows(
        &self,
        slot: Slot,
        folded: bool,
        rows: &[u32],
        dirty: &[u32],
        marked: &[u64],
        present: &RoaringBitmap,
    ) -> Vec<u32> {
        let is_marked = |r: u32| {
            marked
                .get((r / 64) as usize)
                .is_some_and(|w| w & (1 << (r % 64)) != 0)
        };
        let clean: Vec<u32> = rows.iter().copied().filter(|r| !is_marked(*r)).collect();
        let back = dirty.iter().copied().filter(|r| present.contains(*r));
        let back = self.sorted_texts(slot, folded, back);
        let mut out = Vec::with_capacity(clean.len() + back.len());
        let mut from = 0;
        for (t, r) in back {
            let Some(row) = self.row(r) else {
                continue;
            };
            let at = clean.get(from..).map_or(0, |rest| {
                rest.partition_point(|&c| {
                    self.order_cmp(c, slot, folded, &t, row.id()) == Ordering::Less
                })
            });
            out.extend_from_slice(&clean[from..from + at]);
            out.push(r);
            from += at;
        }
        out.extend_from_slice(clean.get(from..).unwrap_or(&[]));
        out
    }

    /// How row `r` sorts against the position `(t, id)` in a text order of `slot` (a row
    /// without a text value sorts after every position).
    pub(crate) fn order_cmp(
        &self,
        r: u32,
        slot: Slot,
        folded: bool,
        t: &str,
        id: IdRef<'_>,
    ) -> Ordering {
        let Some(row) = self.row(r) else {
            return Ordering::Greater;
        };
        match self.with_value(row, slot, |v| cmp_text(v, folded, t)) {
            Some(Ordering::Equal) => row.id().cmp(&id),
            Some(o) => o,
            None => Ordering::Greater,
        }
    }
}
