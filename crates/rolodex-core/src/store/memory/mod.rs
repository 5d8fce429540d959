//! The in-memory store.
//!
//! Layout (per channel, `table`): every contact is a compact 72-byte row addressed by a
//! `u32` row id. A `c_` + 12-digit id is kept as its number: a contact numbered in storing
//! order sits at the row its number gives, any other in a table of row numbers hashed by
//! the id's number (read back from the row); other ids go through a fallback map. A row
//! keeps its times as microseconds, its flags and session count in one word, both tag
//! lists as interned ids in one allocation shared by every row with the same lists
//! (`tags`), and its profile values packed into one byte string (`blob`: compact numbers,
//! dates and phone numbers), which also holds a member's `memberId` and an id that is not
//! a sequence id. `get` materialises a [`Contact`]; `for_each_view` (`view`) hands rows
//! out as read-only views instead, for exports.
//!
//! Indexes, brought from a row's old to its new values by diffing them field by field. A
//! write keeps at once what the book's rules read back inside an operation: the identity
//! lookups (`memberId`, email, mobile number), the listing sets and the MU ledgers; a boot
//! or MU event (`Touch`) moves only the state fields. The search indexes wait in a list of
//! rows, each with the state the indexes last saw, and are brought up to date in batches,
//! one field at a time over the batch and the trigrams gram by gram, which touches each
//! index structure once per batch rather than once per row. Every 4,096 waiting rows, a
//! background thread takes the search indexes with a copy of the waiting rows and brings
//! them up to date while writes go on (the identity lookups, which writes read, stay
//! behind); the table takes them back before anything reads or changes them, so before
//! any search, which therefore never sees them lag. A search that finds rows waiting
//! flushes them itself, the trigrams of a large batch on a second thread beside the other
//! fields, since the two share only the rows they read.
//! Per field: a bitmap of rows with a value, folded-text postings (a row inline, or a
//! roaring bitmap) — or, for the fields multi-term search looks up in bulk (`memberId`,
//! name, email, mobile number), a fingerprint table checked against each row's value —
//! bucketed ordered bitmaps for numbers, dates and datetimes, list/tag item bitmaps (tag
//! children by key range), byte-trigram bitmaps of the folded name and email and of the
//! mobile number's E.164 and national digits, the listing bitmaps (live, blocked, hidden),
//! and the two MU ledgers (`ledger`) as ordered sets of packed keys in sorted blocks
//! (`blocks`).
//!
//! Search (`search`) evaluates the compiled plan as bitmap algebra over candidate rows:
//! `and` narrows the candidates child by child (cheap exact indexes first), `or` evaluates
//! each child on what is still unmatched, `not` and the negative operators are complements
//! within the candidates. Where an index is not exact (edge buckets of a range, trigram
//! candidates, exact-case text) the rows are checked with the filter's own
//! `CompiledCondition::matches_value`, so `filter` stays the one definition of the rules.
//! Sorted pages walk the ordered buckets of the first sort key and build row keys from the
//! layout, materialising only the page.

mod blob;
mod blocks;
mod index;
mod ledger;
mod pending;
mod search;
mod table;
mod tags;
#[cfg(test)]
mod tests;
mod text_order;
mod view;
mod zones;

use pending::PendingSet;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use parking_lot::{Mutex, RwLock, RwLockWriteGuard};

use super::{
    Batch, ImportLock, Ledger, MergeRecord, MergeState, MuStanding, Op, PendingUnification,
    SegmentRecord, Settings, Store, ViewSink, VisitPlan,
};
use crate::access::{ActivityEntry, ActivityQuery};
use crate::contact::{Contact, ContactState};
use crate::error::{Error, Result};
use crate::filter::{CompiledQuery, EvalCtx, Field, Page};
use crate::schema::Schema;
pub(crate) use index::FxMap;
use table::Table;

#[derive(Default)]
struct Channel {
    table: Table,
    member_alias: HashMap<String, String>,
    redirects: HashMap<String, String>,
    schema: Option<Arc<Schema>>,
    settings: Settings,
    segments: BTreeMap<String, SegmentRecord>,
    merges: HashMap<String, MergeRecord>,
    pending: PendingSet,
    activity: Vec<ActivityEntry>,
    /// By manager id; `None` is the book acting without a manager.
    export_times: HashMap<Option<String>, DateTime<Utc>>,
}

impl Channel {
    fn apply(&mut self, op: &Op) {
        match op {
            Op::PutContact(c) => self.table.put(c),
            Op::DeleteContact(id) => self.table.delete(id),
            Op::Touch(st) => self.table.touch(st),
            Op::Redirect(from, to) => match to {
                Some(to) => {
                    self.redirects.insert(from.clone(), to.clone());
                }
                None => {
                    self.redirects.remove(from);
                }
            },
            Op::MemberAlias(m, to) => match to {
                Some(to) => {
                    self.member_alias.insert(m.clone(), to.clone());
                }
                None => {
                    self.member_alias.remove(m);
                }
            },
            Op::PutSchema(keys) => self.schema = Some(Arc::clone(keys)),
            Op::PutSettings(s) => self.settings = s.clone(),
            Op::PutSegment(s) => {
                self.segments.insert(s.name.clone(), s.clone());
            }
            Op::DeleteSegment(name) => {
                self.segments.remove(name);
            }
            Op::PutMerge(m) => {
                self.merges.insert(m.id.clone(), (**m).clone());
            }
            Op::PutPending(p) => self.pending.put(p),
            Op::DeletePending(lead, member) => self.pending.delete(lead, member),
            Op::Log(e) => self.activity.push(e.clone()),
            Op::PutExportTime(m, Some(t)) => {
                self.export_times.insert(m.clone(), *t);
            }
            Op::PutExportTime(m, None) => {
                self.export_times.remove(m);
            }
        }
    }
}

/// An in-memory store of any number of channels. Cheap to share: wrap it in an `Arc`.
///
/// Calls run on the caller's thread, with two exceptions, both on short-lived threads named
/// `rolodex-index` that own what they work on:
/// - every 4,096 writes of a channel, the write that makes it 4,096 hands that channel's
///   search indexes and a copy of the rows written to a background thread, which brings
///   the indexes up to date while later calls go on; the next call that needs them (a
///   search, or the next such batch) waits for it to end;
/// - when a search brings the search indexes of 1,024 or more waiting rows up to date
///   itself, the quick-search half of that work runs on a second thread beside the rest,
///   and the search goes on once both are done.
///
/// Where the system gives no thread, that work runs on the caller's thread. A panic while
/// the search indexes are brought up to date (a bug), on either thread, reaches the call
/// that needs them, and the indexes are built anew from the rows first, so the channel
/// stays whole.
///
/// Pages sorted by a text key (a name, an email, a custom string) in a channel of 2,048 or
/// more contacts holding it keep that key's order from the second such page on, so that
/// later pages start at their cursor instead of sorting every match: 4 bytes a contact
/// for each key, at most four keys a channel, and none until a page is sorted by text.
#[derive(Default)]
pub struct MemoryStore {
    channels: RwLock<FxMap<String, Arc<RwLock<Channel>>>>,
    write_mutexes: Mutex<FxMap<String, Arc<Mutex<()>>>>,
    /// The channels whose import lock is held, with the running import's tag once named.
    import_locks: Arc<Mutex<std::collections::HashMap<String, Option<String>>>>,
    seq: AtomicU64,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Runs `f` on a channel's table with its search indexes up to date: under the read
    /// lock when no row waits for them, else after a flush under the write lock, which is
    /// then downgraded so other readers go on.
    fn read_indexed<T>(&self, channel: &str, f: impl FnOnce(&Table) -> T) -> T {
        let ch = self.channel(channel);
        {
            let r = ch.read();
            if !r.table.has_pending() {
                return f(&r.table);
            }
        }
        let mut w = ch.write();
        w.table.flush();
        let r = RwLockWriteGuard::downgrade(w);
        f(&r.table)
    }

    /// Hands views of the settled rows that still hold their contacts to `sink`, holding
    /// the channel for reading between pauses only.
    fn walk_settled(
        &self,
        channel: &str,
        settled: &view::Settled,
        fields: &[Field],
        sink: &mut dyn ViewSink,
    ) -> Result<()> {
        let ch = self.channel(channel);
        let mut from = 0;
        loop {
            let guard = ch.read();
            let Some(next) = guard
                .table
                .for_each_view_settled(settled, from, fields, sink)
            else {
                return Ok(());
            };
            drop(guard);
            sink.paused()?;
            from = next;
        }
    }

    fn channel(&self, name: &str) -> Arc<RwLock<Channel>> {
        if let Some(c) = self.channels.read().get(name) {
            return c.clone();
        }
        self.channels
            .write()
            .entry(name.to_string())
            .or_default()
            .clone()
    }
}

struct MemoryImportLock {
    locks: Arc<Mutex<std::collections::HashMap<String, Option<String>>>>,
    channel: String,
}

impl ImportLock for MemoryImportLock {
    fn set_tag(&mut self, tag: &str) {
        self.locks
            .lock()
            .insert(self.channel.clone(), Some(tag.to_string()));
    }
}

impl Drop for MemoryImportLock {
    fn drop(&mut self) {
        self.locks.lock().remove(&self.channel);
    }
}

impl Store for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn next_seq(&self) -> Result<u64> {
        Ok(self.seq.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn write_mutex(&self, channel: &str) -> Arc<Mutex<()>> {
        let mut map = self.write_mutexes.lock();
        if let Some(m) = map.get(channel) {
            return m.clone();
        }
        map.entry(channel.to_string()).or_default().clone()
    }

    fn may_hold_members(&self, channel: &str) -> Result<bool> {
        Ok(self.channel(channel).read().table.may_hold_members())
    }

    fn is_counted(&self, channel: &str, id: &str) -> Result<bool> {
        let ch = self.channel(channel);
        let ch = ch.read();
        Ok(ch.table.is_counted(id))
    }

    fn get(&self, channel: &str, id: &str) -> Result<Option<Contact>> {
        Ok(self.channel(channel).read().table.get(id))
    }

    fn redirect(&self, channel: &str, id: &str) -> Result<Option<String>> {
        Ok(self.channel(channel).read().redirects.get(id).cloned())
    }

    fn find_member(&self, channel: &str, member_id: &str) -> Result<Option<Contact>> {
        let ch = self.channel(channel);
        let ch = ch.read();
        if let Some(r) = ch.table.member_rows(member_id).last() {
            return Ok(ch.table.contact_at(*r));
        }
        // A merged secondary's `memberId` names the contact it was merged into; when that
        // contact was merged into another since, the redirects lead on to the survivor
        // (R-CON-8: it keeps reaching the survivor until unmerge).
        let mut id = match ch.member_alias.get(member_id) {
            Some(id) => id,
            None => return Ok(None),
        };
        for _ in 0..=ch.redirects.len() {
            if let Some(c) = ch.table.get(id) {
                return Ok(Some(c));
            }
            match ch.redirects.get(id) {
                Some(next) => id = next,
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    fn find_by_email(&self, channel: &str, email: &str) -> Result<Vec<Contact>> {
        Ok(self.channel(channel).read().table.find_by_email(email))
    }

    fn find_by_mobile(&self, channel: &str, e164: &str) -> Result<Vec<Contact>> {
        Ok(self.channel(channel).read().table.find_by_mobile(e164))
    }

    fn apply(&self, channel: &str, batch: &Batch) -> Result<()> {
        let ch = self.channel(channel);
        let mut ch = ch.write();
        for op in &batch.ops {
            ch.apply(op);
        }
        Ok(())
    }

    fn visit(&self, channel: &str, id: &str, plan: &mut VisitPlan<'_>) -> Result<Option<Contact>> {
        let ch = self.channel(channel);
        let mut ch = ch.write();
        let Some((r, state)) = ch.table.state_with_row(id) else {
            return Ok(None);
        };
        let mu = MuStanding {
            limit: ch.settings.mu_limit,
            count: ch.table.mu_count(),
        };
        let batch = {
            let table = &mut ch.table;
            plan(state, mu, &mut || {
                Ok(table.ledger(false, 1).into_iter().next())
            })?
        };
        let Some(batch) = batch else {
            return Ok(None);
        };
        // The visitor's state is written at the row already found, and the contact read
        // back from it, unless some other kind of op could have moved it.
        let mut moved = false;
        for op in &batch.ops {
            match op {
                Op::Touch(st) if st.id == id => ch.table.touch_at(r, st),
                op => {
                    moved |= !matches!(op, Op::Touch(_));
                    ch.apply(op);
                }
            }
        }
        let read = if moved {
            ch.table.get(id)
        } else {
            ch.table.contact_at(r)
        };
        read.map(Some)
            .ok_or_else(|| Error::storage("the visited contact vanished while it was written"))
    }

    fn mu_count(&self, channel: &str) -> Result<u64> {
        Ok(self.channel(channel).read().table.mu_count())
    }

    fn state(&self, channel: &str, id: &str) -> Result<Option<ContactState>> {
        Ok(self.channel(channel).read().table.state(id))
    }

    fn ledger(&self, channel: &str, which: Ledger, n: usize) -> Result<Vec<ContactState>> {
        let ch = self.channel(channel);
        // A write lock: the read drops the stale keys it meets (see `Ledger`).
        let mut ch = ch.write();
        Ok(ch.table.ledger(which == Ledger::NewestHidden, n))
    }

    fn search(&self, channel: &str, query: &CompiledQuery, ctx: &EvalCtx) -> Result<Page> {
        Ok(self.read_indexed(channel, |t| t.search(query, ctx)))
    }

    fn for_each(&self, channel: &str, f: &mut dyn FnMut(&Contact) -> bool) -> Result<()> {
        let ch = self.channel(channel);
        let ch = ch.read();
        ch.table.for_each(f);
        Ok(())
    }

    fn for_each_view(
        &self,
        channel: &str,
        fields: &[Field],
        sink: &mut dyn ViewSink,
    ) -> Result<()> {
        // The rows are settled once, in id order; a pause lets go of the channel, and the
        // walk goes on with the rows that still hold the contacts settled.
        let settled = self.channel(channel).read().table.settled();
        self.walk_settled(channel, &settled, fields, sink)
    }

    fn for_each_view_matching(
        &self,
        channel: &str,
        query: &CompiledQuery,
        ctx: &EvalCtx,
        fields: &[Field],
        sink: &mut dyn ViewSink,
    ) -> Result<()> {
        // The matches are settled once, from the indexes, in id order.
        let matched = self.read_indexed(channel, |t| t.matched(query, ctx));
        self.walk_settled(channel, &matched, fields, sink)
    }

    fn contact_count(&self, channel: &str) -> Result<u64> {
        Ok(self.channel(channel).read().table.len())
    }

    fn schema(&self, channel: &str) -> Result<Option<Arc<Schema>>> {
        Ok(self.channel(channel).read().schema.clone())
    }

    fn settings(&self, channel: &str) -> Result<Settings> {
        Ok(self.channel(channel).read().settings.clone())
    }

    fn segments(&self, channel: &str) -> Result<Vec<SegmentRecord>> {
        Ok(self
            .channel(channel)
            .read()
            .segments
            .values()
            .cloned()
            .collect())
    }

    fn merge_record(&self, channel: &str, merge_id: &str) -> Result<Option<MergeRecord>> {
        Ok(self.channel(channel).read().merges.get(merge_id).cloned())
    }

    fn merges_of(&self, channel: &str, contact_id: &str) -> Result<Vec<MergeRecord>> {
        let ch = self.channel(channel);
        let ch = ch.read();
        let mut out: Vec<MergeRecord> = ch
            .merges
            .values()
            .filter(|m| {
                matches!(m.state, MergeState::Active { .. })
                    && (m.survivor_id == contact_id || m.secondary_id == contact_id)
            })
            .cloned()
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    fn pending(&self, channel: &str, contact_id: Option<&str>) -> Result<Vec<PendingUnification>> {
        let ch = self.channel(channel);
        let ch = ch.read();
        Ok(ch.pending.list(contact_id))
    }

    fn activity(&self, channel: &str, query: &ActivityQuery) -> Result<Vec<ActivityEntry>> {
        let ch = self.channel(channel);
        let ch = ch.read();
        Ok(ch
            .activity
            .iter()
            .rev()
            .filter(|e| query.matches(e))
            .take(query.limit.unwrap_or(usize::MAX))
            .cloned()
            .collect())
    }

    fn export_time(
        &self,
        channel: &str,
        manager_id: Option<&str>,
    ) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .channel(channel)
            .read()
            .export_times
            .get(&manager_id.map(str::to_string))
            .copied())
    }

    fn try_lock_import(&self, channel: &str) -> Result<Option<Box<dyn ImportLock>>> {
        let mut locks = self.import_locks.lock();
        if locks.contains_key(channel) {
            return Ok(None);
        }
        locks.insert(channel.to_string(), None);
        Ok(Some(Box::new(MemoryImportLock {
            locks: self.import_locks.clone(),
            channel: channel.to_string(),
        })))
    }

    fn running_import(&self, channel: &str) -> Result<Option<String>> {
        Ok(self.import_locks.lock().get(channel).cloned().flatten())
    }
}
