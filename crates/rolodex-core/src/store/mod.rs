//! The storage trait every backend implements, and the records it keeps.
//!
//! Backends store and find; they decide nothing. Every rule lives above the store, in the
//! module of its noun, so that every backend behaves the same by construction. Every call
//! names the channel, and no call can reach two channels. Writes arrive as one [`Batch`]
//! per logical operation and are applied whole or not at all.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::access::{ActivityEntry, ActivityQuery};
use crate::contact::{Contact, ContactState};
use crate::error::Result;
use crate::filter::{CompiledQuery, EvalCtx, Field, Page};
use crate::schema::Schema;

pub mod memory;
mod view;

pub use memory::MemoryStore;
pub use view::{ContactFields, ContactView, ViewSink, ViewValue, Walk};

/// Per-channel settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// The manual MU limit (R-MU-2), if set.
    pub mu_limit: Option<u64>,
    /// The book's IANA time zone (R-FLT-12).
    pub time_zone: String,
    /// The minimum interval between two protected exports by one manager, in seconds (R-EXP-4).
    pub export_interval_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            mu_limit: None,
            time_zone: "UTC".to_string(),
            export_interval_secs: 30 * 60,
        }
    }
}

/// A saved segment: a name and a filter (R-FLT-8), kept as the filter's JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentRecord {
    /// Unique per channel.
    pub name: String,
    /// The filter JSON (FILTER.md).
    pub filter: serde_json::Value,
}

/// The journal entry of one merge (R-CON-8), enough for an exact unmerge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergeRecord {
    /// The merge's id.
    pub id: String,
    /// The survivor's id (the primary's).
    pub survivor_id: String,
    /// The secondary's id.
    pub secondary_id: String,
    /// When it happened.
    #[serde(with = "crate::value::serde_datetime")]
    pub at: DateTime<Utc>,
    /// Snapshots, or why the merge can no longer be undone.
    pub state: MergeState,
}

/// Whether a merge can still be undone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MergeState {
    /// The snapshots of both sides before the merge and of the survivor right after it.
    Active {
        /// The primary before the merge.
        primary: Box<Contact>,
        /// The secondary before the merge.
        secondary: Box<Contact>,
        /// The survivor right after the merge.
        merged: Box<Contact>,
    },
    /// The snapshots were purged or superseded; the reason says why.
    Void {
        /// Why the merge can no longer be undone.
        reason: String,
    },
}

/// A pending unification of a booted lead into a member (R-UNI-4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingUnification {
    /// The lead's contact id.
    pub lead_id: String,
    /// The member's contact id (`c_…`), not its site `memberId`: both sides are named by
    /// the id `get` takes.
    pub member_id: String,
    /// The shared field (`profile.email` or `profile.mobileNumber`).
    pub field: String,
    /// The shared value.
    pub value: String,
    /// When it was recorded.
    #[serde(with = "crate::value::serde_datetime")]
    pub since: DateTime<Utc>,
}

/// One write of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Insert or replace a contact.
    PutContact(Box<Contact>),
    /// Remove a contact for good.
    DeleteContact(String),
    /// Write the changeable part of a stored contact's state, as
    /// [`ContactState::apply_to`] writes it (hidden, booted, `updatedAt`, `lastSeenAt`,
    /// `sessionCount` and the last boot time, which the session window of R-CON-3 counts
    /// from; the rest of the state is ignored): what a boot or an MU event changes,
    /// without rewriting the contact. A missing contact is skipped.
    Touch(ContactState),
    /// Make an old id lead to another contact (after a merge or unification); `None` removes it.
    Redirect(String, Option<String>),
    /// Make a secondary `memberId` reach a survivor (R-CON-8); `None` removes it.
    MemberAlias(String, Option<String>),
    /// Replace the schema.
    PutSchema(Arc<Schema>),
    /// Replace the settings.
    PutSettings(Settings),
    /// Insert or replace a segment.
    PutSegment(SegmentRecord),
    /// Remove a segment.
    DeleteSegment(String),
    /// Insert or replace a merge record.
    PutMerge(Box<MergeRecord>),
    /// Insert or replace a pending unification (keyed by lead and member); a pair
    /// recorded again moves to the end of [`Store::pending`]'s order.
    PutPending(PendingUnification),
    /// Remove a pending unification by (lead, member).
    DeletePending(String, String),
    /// Append an activity log entry.
    Log(ActivityEntry),
    /// Record when a manager (`None`: the book acting without one) last started a protected
    /// export (`None`: no start recorded, as when an export that failed puts back the state
    /// before it).
    PutExportTime(Option<String>, Option<DateTime<Utc>>),
}

/// The writes of one logical operation, applied whole or not at all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// The writes in order.
    pub ops: Vec<Op>,
}

impl Batch {
    /// Whether the batch has no writes.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// Which contacts an ordered MU-ledger query walks (R-MU-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ledger {
    /// Visible, unblocked contacts with contact info, oldest `lastSeenAt` first (ties: older
    /// `createdAt`, then smaller id).
    OldestVisible,
    /// Hidden, unblocked contacts, with contact info or not (a hidden contact that lost its
    /// info stays hidden until room un-hides it), most recent `lastSeenAt` first (ties:
    /// newer `createdAt`, then larger id).
    NewestHidden,
}

/// A held import lock; the lock is released when this is dropped (R-IMP-15).
pub trait ImportLock: Send {
    /// Records the import tag of the import holding the lock (R-IMP-9), for
    /// [`Store::running_import`].
    fn set_tag(&mut self, tag: &str);
}

/// A channel's MU limit and count, as [`Store::visit`] hands them to its plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MuStanding {
    /// The manual MU limit (R-MU-2), if set.
    pub limit: Option<u64>,
    /// Visible MU (R-MU-1).
    pub count: u64,
}

/// The decision of a plain visit ([`Store::visit`]): given the contact's state, the MU
/// standing and a reader of the least recently seen visible contact, the batch to apply
/// (`None`: write nothing).
pub type VisitPlan<'a> = dyn FnMut(
        ContactState,
        MuStanding,
        &mut dyn FnMut() -> Result<Option<ContactState>>,
    ) -> Result<Option<Batch>>
    + 'a;

/// The storage backend of contact books.
pub trait Store: Send + Sync {
    /// A short name of the backend (`memory`, `sqlite`).
    fn backend(&self) -> &'static str;

    /// Allocates the next contact sequence number: strictly increasing across the store.
    /// The book makes contact ids from it (`c_` and 12 digits), so stores that start at
    /// the same number give the same ids to the same writes; the memory store starts at 1.
    fn next_seq(&self) -> Result<u64>;

    /// The mutex that serialises the read-decide-write operations of one channel in this
    /// process.
    fn write_mutex(&self, channel: &str) -> Arc<parking_lot::Mutex<()>>;

    /// One contact by id.
    fn get(&self, channel: &str, id: &str) -> Result<Option<Contact>>;

    /// Where an old id leads after a merge or unification.
    fn redirect(&self, channel: &str, id: &str) -> Result<Option<String>>;

    /// The contact with this `memberId` (one contact at most holds a `memberId`), or else
    /// the survivor a merged secondary `memberId` reaches:
    /// the contact its alias names, or where that contact's redirects lead when it was
    /// merged away since.
    fn find_member(&self, channel: &str, member_id: &str) -> Result<Option<Contact>>;

    /// Every contact holding this email (compared by [`crate::identity::email_key`]),
    /// verified or not, hidden and blocked included, in any order (the book orders them).
    fn find_by_email(&self, channel: &str, email: &str) -> Result<Vec<Contact>>;

    /// Every contact holding this E.164 mobile number, verified or not, hidden and blocked
    /// included, in any order (the book orders them).
    fn find_by_mobile(&self, channel: &str, e164: &str) -> Result<Vec<Contact>>;

    /// Applies a batch whole or not at all. The batch is lent, not given: the caller keeps
    /// what it wrote (the book hands a written contact back to its caller from it), and a
    /// store copies only what it keeps.
    fn apply(&self, channel: &str, batch: &Batch) -> Result<()>;

    /// The state of one contact by id (no redirects followed).
    fn state(&self, channel: &str, id: &str) -> Result<Option<ContactState>> {
        Ok(self.get(channel, id)?.as_ref().map(ContactState::of))
    }

    /// Whether the channel may hold a member (a contact with a `memberId`): `false` only when
    /// it surely holds none, which spares a lead's write the search for members sharing its
    /// verified info (R-UNI-1). The default answers `true`.
    fn may_hold_members(&self, channel: &str) -> Result<bool> {
        let _ = channel;
        Ok(true)
    }

    /// Whether the contact is counted in MU now (it is in the visible ledger).
    fn is_counted(&self, channel: &str, id: &str) -> Result<bool> {
        Ok(self.get(channel, id)?.is_some_and(|c| c.counts_for_mu()))
    }

    /// A plain visit's reads and write under one hold of the channel: `plan` is given the
    /// contact's state (`id` is looked up as in [`Store::state`]), the channel's MU limit
    /// and count, and a way to read the first entry of the oldest-visible ledger; it
    /// decides (the rules live in the caller) and returns the batch to apply, or `None` to
    /// write nothing. Returns the contact as stored after the batch, or `None` when there
    /// is no such contact or nothing was written. The default composes [`Store::state`],
    /// [`Store::settings`], [`Store::mu_count`], [`Store::ledger`], [`Store::apply`] and
    /// [`Store::get`]; the caller holds the channel's write mutex, so nothing comes between
    /// them.
    fn visit(&self, channel: &str, id: &str, plan: &mut VisitPlan<'_>) -> Result<Option<Contact>> {
        let Some(state) = self.state(channel, id)? else {
            return Ok(None);
        };
        let mu = MuStanding {
            limit: self.settings(channel)?.mu_limit,
            count: self.mu_count(channel)?,
        };
        let mut oldest = || {
            Ok(self
                .ledger(channel, Ledger::OldestVisible, 1)?
                .into_iter()
                .next())
        };
        let Some(batch) = plan(state, mu, &mut oldest)? else {
            return Ok(None);
        };
        self.apply(channel, &batch)?;
        self.get(channel, id)?.map(Some).ok_or_else(|| {
            crate::error::Error::storage("the visited contact vanished while it was written")
        })
    }

    /// Visible MU (R-MU-1): visible, unblocked contacts with contact info.
    fn mu_count(&self, channel: &str) -> Result<u64>;

    /// The states of the first `n` contacts of an MU ledger, in its order.
    fn ledger(&self, channel: &str, which: Ledger, n: usize) -> Result<Vec<ContactState>>;

    /// Runs a whole compiled query (filter, quick search, terms, listing, sort, cursor page)
    /// and counts every match. A SQL store translates the plan into one query; the memory
    /// store answers from its own layout. [`crate::search_scan`] over the channel's
    /// contacts is the reference every answer must agree with, and a correct (if slow)
    /// answer itself. The page size is at most 1,000 for a caller's
    /// query; the book reads a whole listing (an audience, a bulk action's filter) with
    /// `usize::MAX`, which means no limit.
    fn search(&self, channel: &str, query: &CompiledQuery, ctx: &EvalCtx) -> Result<Page>;

    /// Calls `f` on every contact of the channel (hidden and blocked included), in id
    /// order, until it returns `false`. An export of every visible contact is written in
    /// this order, as one of a filter's matches is.
    fn for_each(&self, channel: &str, f: &mut dyn FnMut(&Contact) -> bool) -> Result<()>;

    /// Hands a read-only view of every contact of the channel to `sink`, in the order of
    /// [`Store::for_each`], until it answers [`Walk::Stop`]. The view gives the values of
    /// `fields` by position (hidden and blocked contacts included; the caller decides).
    ///
    /// At [`Walk::Pause`] the walk lets go of the channel, calls [`ViewSink::paused`] and
    /// goes on after the contact it handed out last. Each contact is handed out at most
    /// once, with its values as they are when it is read, also when a contact deleted
    /// meanwhile comes back (an unmerge puts the secondary back under its old id); a
    /// contact deleted meanwhile is not handed out, and whether one created meanwhile is
    /// depends on the backend (the memory store settles its rows when the walk starts, and
    /// hands a contact out only from the row it held then, so it leaves such contacts out).
    /// A backend with a compact layout hands its rows out without building a [`Contact`]
    /// each; the default materialises every contact through `for_each` and calls `paused`
    /// in place.
    fn for_each_view(
        &self,
        channel: &str,
        fields: &[Field],
        sink: &mut dyn ViewSink,
    ) -> Result<()> {
        let mut failed = None;
        self.for_each(
            channel,
            &mut |c| match sink.view(&ContactFields::new(c, fields)) {
                Walk::Next => true,
                Walk::Stop => false,
                Walk::Pause => match sink.paused() {
                    Ok(()) => true,
                    Err(e) => {
                        failed = Some(e);
                        false
                    }
                },
            },
        )?;
        failed.map_or(Ok(()), Err)
    }

    /// Hands a read-only view of every contact a query matches (its listing, terms, quick
    /// search and filter) to `sink`, in id order, until it answers [`Walk::Stop`]; the
    /// query's sort and paging are not used. The view gives the values of `fields` by
    /// position, as in [`Store::for_each_view`], and a pause is as there: each contact at
    /// most once, with its values when read, a deleted one not at all. Whether a contact
    /// written during a pause is matched as it was or as it is depends on the backend (the
    /// memory store settles the matches when the walk starts; the default matches page by
    /// page). A SQL store runs the plan as one query and streams the rows; the default is
    /// [`for_each_view_by_search`].
    fn for_each_view_matching(
        &self,
        channel: &str,
        query: &CompiledQuery,
        ctx: &EvalCtx,
        fields: &[Field],
        sink: &mut dyn ViewSink,
    ) -> Result<()> {
        for_each_view_by_search(self, channel, query, ctx, fields, sink)
    }

    /// The number of contacts stored in the channel (hidden and blocked included).
    fn contact_count(&self, channel: &str) -> Result<u64>;

    /// The channel's schema; `None` for a new channel.
    fn schema(&self, channel: &str) -> Result<Option<Arc<Schema>>>;

    /// The channel's settings; [`Settings::default`] for a channel never written.
    fn settings(&self, channel: &str) -> Result<Settings>;

    /// Every segment, in name order.
    fn segments(&self, channel: &str) -> Result<Vec<SegmentRecord>>;

    /// One merge record.
    fn merge_record(&self, channel: &str, merge_id: &str) -> Result<Option<MergeRecord>>;

    /// The merge records still active (an unmerge could undo them) that name this
    /// contact as survivor or secondary, in merge-id order. Records undone or voided are
    /// left out: the book voids those this returns when the contact is deleted, unified or
    /// merged again, and a voided record keeps the reason it was voided for first.
    fn merges_of(&self, channel: &str, contact_id: &str) -> Result<Vec<MergeRecord>>;

    /// Pending unifications, all or those naming this contact (as lead or member), in the
    /// order they were recorded (a pair recorded again counts from its last recording).
    fn pending(&self, channel: &str, contact_id: Option<&str>) -> Result<Vec<PendingUnification>>;

    /// The activity log entries the query matches, the last written first, at most
    /// `query.limit`. The book writes entries with its clock, so this is newest first by
    /// time as well, unless a pinned clock ([`crate::ContactBook::set_clock`]) was moved back.
    fn activity(&self, channel: &str, query: &ActivityQuery) -> Result<Vec<ActivityEntry>>;

    /// When this manager (`None`: the book acting without one) last started a protected
    /// export.
    fn export_time(&self, channel: &str, manager_id: Option<&str>)
        -> Result<Option<DateTime<Utc>>>;

    /// Takes the channel's import lock, or `None` if another import holds it (R-IMP-15).
    fn try_lock_import(&self, channel: &str) -> Result<Option<Box<dyn ImportLock>>>;

    /// The import tag of the import running on the channel, once it has named it
    /// ([`ImportLock::set_tag`]): its activity-log entry is written only when it ends, and
    /// a merge or login meanwhile orders import tags with its tag as the newest.
    fn running_import(&self, channel: &str) -> Result<Option<String>>;
}

/// [`Store::for_each_view_matching`] for any store: pages of 10,000 through
/// [`Store::search`] in id order, each contact materialised and seen through
/// [`ContactFields`]; no page is held while the sink sees it, so a pause calls
/// [`ViewSink::paused`] in place.
pub fn for_each_view_by_search<S: Store + ?Sized>(
    store: &S,
    channel: &str,
    query: &CompiledQuery,
    ctx: &EvalCtx,
    fields: &[Field],
    sink: &mut dyn ViewSink,
) -> Result<()> {
    use crate::filter::{SortKey, SortOrder, SortSpec};
    let mut q = query.clone();
    // The id needs no schema to sort by.
    q.sort = SortSpec::new(&[SortKey::new("id", SortOrder::Asc)], &Schema::new())?;
    q.cursor = None;
    q.limit = 10_000;
    loop {
        let page = store.search(channel, &q, ctx)?;
        for c in &page.contacts {
            match sink.view(&ContactFields::new(c, fields)) {
                Walk::Next => {}
                Walk::Pause => sink.paused()?,
                Walk::Stop => return Ok(()),
            }
        }
        match page.next_cursor {
            Some(cursor) => q.cursor = Some(q.sort.decode_cursor(&cursor)?),
            None => return Ok(()),
        }
    }
}
