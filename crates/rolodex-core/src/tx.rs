//! A write transaction over a store: reads see the transaction's own writes, writes collect
//! into one batch that the store applies whole (DESIGN.md), and a dry run simply never
//! commits. Row-level savepoints let an import undo one failed row.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::contact::{Contact, ContactState};
use crate::error::Result;
use crate::identity::{email_key, email_key_cow};
use crate::schema::Schema;
use crate::store::memory::FxMap;
use crate::store::{Batch, Ledger, Op, Settings, Store};

/// A savepoint: the lengths of the op list and the undo journal. Imports take one per row
/// so that a failed row of a dry run leaves nothing behind.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    ops: usize,
    journal: usize,
    mu_delta: i64,
}

/// An open write transaction on one channel.
pub(crate) struct Tx<'s> {
    pub(crate) store: &'s dyn Store,
    pub(crate) channel: &'s str,
    pub(crate) now: DateTime<Utc>,
    pub(crate) schema: Arc<Schema>,
    pub(crate) settings: Settings,
    /// Each written contact by id (`Arc<str>`: the overlay, the journal and the op list
    /// share one copy of the id).
    overlay: FxMap<Arc<str>, Entry>,
    /// The identifiers of the contacts in `overlay`, built once the overlay holds
    /// [`INDEX_AT`] contacts, so that lookups stay cheap in a transaction that writes many
    /// contacts (an import's dry run); small transactions scan the overlay.
    index: Option<OverlayIndex>,
    journal: Vec<(Arc<str>, Option<Entry>)>,
    ops: Vec<TxOp>,
    mu_delta: i64,
    /// This transaction has written a member (kept after a rollback: it only gates a
    /// search, see [`Tx::may_hold_members`]).
    members_written: bool,
    /// The order of the import tags, read once for a whole import (with its own tag as the
    /// newest) rather than for each contact it joins; else read where needed.
    pub(crate) import_order: Option<Arc<crate::merge::ImportOrder>>,
    /// Set for a transaction that is never committed (an import's dry run): the ids of the
    /// contacts it creates are its own (`dry_` and a number, counted here), so that it uses
    /// up none of the store's sequence (R-IMP-18: a dry run applies nothing). They sort
    /// after every `c_` id, as the ids of contacts created now would.
    dry_ids: Option<std::cell::Cell<u64>>,
}

/// The overlay size from which its identifiers are indexed.
const INDEX_AT: usize = 64;

/// Which overlay contacts hold an email (by [`email_key`]), a mobile number or a
/// `memberId`.
#[derive(Default)]
struct OverlayIndex {
    email: HashMap<String, BTreeSet<String>>,
    mobile: HashMap<String, BTreeSet<String>>,
    member: HashMap<String, BTreeSet<String>>,
}

impl OverlayIndex {
    fn keys(c: &Contact) -> [(u8, Option<String>); 3] {
        [
            (0, c.email().map(email_key)),
            (1, c.mobile_number().map(str::to_string)),
            (2, c.member_id.clone()),
        ]
    }

    fn map(&mut self, which: u8) -> &mut HashMap<String, BTreeSet<String>> {
        match which {
            0 => &mut self.email,
            1 => &mut self.mobile,
            _ => &mut self.member,
        }
    }

    fn add(&mut self, c: &Contact) {
        for (which, key) in Self::keys(c) {
            if let Some(k) = key {
                self.map(which).entry(k).or_default().insert(c.id.clone());
            }
        }
    }

    fn remove(&mut self, c: &Contact) {
        for (which, key) in Self::keys(c) {
            if let Some(k) = key {
                let map = self.map(which);
                if let Some(ids) = map.get_mut(&k) {
                    ids.remove(&c.id);
                    if ids.is_empty() {
                        map.remove(&k);
                    }
                }
            }
        }
    }

    fn ids<'a>(
        map: &'a HashMap<String, BTreeSet<String>>,
        key: &str,
    ) -> impl Iterator<Item = &'a String> {
        map.get(key).into_iter().flatten()
    }
}

/// The overlay ids that may hold a key: from the index when there is one, else all.
enum Candidates<'a> {
    Indexed(Box<dyn Iterator<Item = &'a String> + 'a>),
    All,
}

/// What the transaction wrote of one contact: the whole contact (`None`: deleted), or only
/// its state (a boot or an MU event), applied over the stored contact.
#[derive(Clone)]
enum Entry {
    Whole(Option<Box<Contact>>),
    State(ContactState),
}

impl Entry {
    fn whole(&self) -> Option<&Contact> {
        match self {
            Entry::Whole(c) => c.as_deref(),
            Entry::State(_) => None,
        }
    }
}

/// A write of the transaction: contacts are written in their final state at commit.
enum TxOp {
    Contact(Arc<str>),
    Other(Op),
}

fn counts(e: &Entry) -> i64 {
    match e {
        Entry::Whole(c) => c.as_deref().is_some_and(Contact::counts_for_mu) as i64,
        Entry::State(s) => s.counts_for_mu() as i64,
    }
}

impl<'s> Tx<'s> {
    pub(crate) fn new(
        store: &'s dyn Store,
        channel: &'s str,
        now: DateTime<Utc>,
    ) -> Result<Tx<'s>> {
        let schema = store
            .schema(channel)?
            .unwrap_or_else(Schema::shared_default);
        let settings = store.settings(channel)?;
        Ok(Tx {
            store,
            channel,
            now,
            schema,
            settings,
            overlay: FxMap::default(),
            index: None,
            journal: Vec::new(),
            ops: Vec::new(),
            mu_delta: 0,
            members_written: false,
            import_order: None,
            dry_ids: None,
        })
    }

    /// Whether this transaction will never be committed (a dry run).
    pub(crate) fn is_dry(&self) -> bool {
        self.dry_ids.is_some()
    }

    /// A transaction that will never be committed ([`Tx::dry_ids`]).
    pub(crate) fn dry(
        store: &'s dyn Store,
        channel: &'s str,
        now: DateTime<Utc>,
    ) -> Result<Tx<'s>> {
        let mut tx = Tx::new(store, channel, now)?;
        tx.dry_ids = Some(std::cell::Cell::new(0));
        Ok(tx)
    }

    /// A savepoint to roll back to, or to look back from ([`Tx::absorbed_since`]).
    pub(crate) fn mark(&self) -> Mark {
        Mark {
            ops: self.ops.len(),
            journal: self.journal.len(),
            mu_delta: self.mu_delta,
        }
    }

    /// Undoes every write since `mark`.
    #[allow(dead_code)]
    pub(crate) fn rollback(&mut self, mark: Mark) {
        self.ops.truncate(mark.ops);
        while self.journal.len() > mark.journal {
            let Some((id, prev)) = self.journal.pop() else {
                break;
            };
            if let (Some(index), Some(now)) = (
                &mut self.index,
                self.overlay.get(&id).and_then(Entry::whole),
            ) {
                index.remove(now);
            }
            match prev {
                Some(p) => {
                    if let (Some(index), Some(c)) = (&mut self.index, p.whole()) {
                        index.add(c);
                    }
                    self.overlay.insert(id, p);
                }
                None => {
                    self.overlay.remove(&id);
                }
            }
        }
        self.mu_delta = mark.mu_delta;
    }

    /// Applies every write to the store as one batch: each written contact once, in its
    /// final state, at the place of its first write.
    pub(crate) fn commit(mut self) -> Result<Batch> {
        if self.is_dry() {
            return Err(crate::error::Error::storage(
                "a dry run's transaction was about to be committed; nothing was written",
            ));
        }
        if self.ops.is_empty() {
            return Ok(Batch::default());
        }
        let mut ops = Vec::with_capacity(self.ops.len());
        for op in std::mem::take(&mut self.ops) {
            match op {
                TxOp::Other(op) => ops.push(op),
                TxOp::Contact(id) => match self.overlay.remove(&id) {
                    Some(Entry::Whole(Some(c))) => ops.push(Op::PutContact(c)),
                    Some(Entry::Whole(None)) => ops.push(Op::DeleteContact(id.to_string())),
                    Some(Entry::State(s)) => ops.push(Op::Touch(s)),
                    None => {} // already emitted at its first write
                },
            }
        }
        let batch = Batch { ops };
        self.store.apply(self.channel, &batch)?;
        Ok(batch)
    }

    /// The contacts written and not deleted by this transaction.
    fn live(&self) -> impl Iterator<Item = &Contact> {
        self.overlay.values().filter_map(Entry::whole)
    }

    /// A stored contact with this transaction's state write applied, if any.
    fn patched(&self, mut c: Contact) -> Contact {
        if let Some(Entry::State(s)) = self.overlay.get(c.id.as_str()) {
            s.apply_to(&mut c);
        }
        c
    }

    /// One contact as this transaction sees it.
    pub(crate) fn get(&self, id: &str) -> Result<Option<Contact>> {
        match self.overlay.get(id) {
            Some(Entry::Whole(c)) => Ok(c.as_deref().cloned()),
            Some(Entry::State(_)) => Ok(self.store.get(self.channel, id)?.map(|c| self.patched(c))),
            None => self.store.get(self.channel, id),
        }
    }

    /// One contact's state as this transaction sees it (no redirects followed).
    pub(crate) fn state(&self, id: &str) -> Result<Option<ContactState>> {
        match self.overlay.get(id) {
            Some(Entry::Whole(c)) => Ok(c.as_deref().map(ContactState::of)),
            Some(Entry::State(s)) => Ok(Some(s.clone())),
            None => self.store.state(self.channel, id),
        }
    }

    /// Follows merge/unification redirects from an old id to the contact it leads to.
    pub(crate) fn resolve(&self, id: &str) -> Result<Option<Contact>> {
        let mut id = id.to_string();
        for _ in 0..16 {
            if let Some(c) = self.get(&id)? {
                return Ok(Some(c));
            }
            match self.store.redirect(self.channel, &id)? {
                Some(next) => id = next,
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Store results not shadowed by the overlay, plus the overlay contacts `ids` names that
    /// satisfy `pred`, in id order.
    fn merge_found(
        &self,
        found: Vec<Contact>,
        ids: Candidates<'_>,
        pred: impl Fn(&Contact) -> bool,
    ) -> Vec<Contact> {
        let mut out: Vec<Contact> = found
            .into_iter()
            .filter(|c| !matches!(self.overlay.get(c.id.as_str()), Some(Entry::Whole(_))))
            .map(|c| self.patched(c))
            .collect();
        match ids {
            Candidates::Indexed(ids) => out.extend(
                ids.filter_map(|id| self.overlay.get(id.as_str()).and_then(Entry::whole))
                    .filter(|c| pred(c))
                    .cloned(),
            ),
            Candidates::All => out.extend(self.live().filter(|c| pred(c)).cloned()),
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Every contact holding this email (any verification), as this transaction sees it.
    pub(crate) fn find_by_email(&self, email: &str) -> Result<Vec<Contact>> {
        let key = email_key_cow(email);
        let found = self.store.find_by_email(self.channel, email)?;
        let ids = match &self.index {
            Some(index) => Candidates::Indexed(Box::new(OverlayIndex::ids(&index.email, &key))),
            None => Candidates::All,
        };
        Ok(self.merge_found(found, ids, |c| {
            c.email().is_some_and(|e| email_key_cow(e) == key)
        }))
    }

    /// Every contact holding this mobile number, as this transaction sees it.
    pub(crate) fn find_by_mobile(&self, e164: &str) -> Result<Vec<Contact>> {
        let found = self.store.find_by_mobile(self.channel, e164)?;
        let ids = match &self.index {
            Some(index) => Candidates::Indexed(Box::new(OverlayIndex::ids(&index.mobile, e164))),
            None => Candidates::All,
        };
        Ok(self.merge_found(found, ids, |c| c.mobile_number() == Some(e164)))
    }

    /// The member with this `memberId` (or the survivor of a merged secondary member).
    pub(crate) fn find_member(&self, member_id: &str) -> Result<Option<Contact>> {
        let is_member = |c: &&Contact| c.member_id.as_deref() == Some(member_id);
        let in_overlay = match &self.index {
            Some(index) => OverlayIndex::ids(&index.member, member_id)
                .filter_map(|id| self.overlay.get(id.as_str()).and_then(Entry::whole))
                .find(is_member),
            None => self.live().find(is_member),
        };
        if let Some(c) = in_overlay {
            return Ok(Some(c.clone()));
        }
        match self.store.find_member(self.channel, member_id)? {
            Some(c) => match self.overlay.get(c.id.as_str()) {
                Some(Entry::Whole(Some(o))) if o.member_id.as_deref() == Some(member_id) => {
                    Ok(Some((**o).clone()))
                }
                Some(Entry::Whole(Some(o)))
                    if o.member_id.is_none() || o.member_id == c.member_id =>
                {
                    // The store found it by alias (merged secondary) and it still exists.
                    Ok(Some((**o).clone()))
                }
                Some(Entry::Whole(_)) => Ok(None),
                Some(Entry::State(_)) => Ok(Some(self.patched(c))),
                None => Ok(Some(c)),
            },
            None => Ok(None),
        }
    }

    /// Visible MU as this transaction sees it.
    pub(crate) fn mu_count(&self) -> Result<u64> {
        let base = self.store.mu_count(self.channel)? as i64;
        Ok((base + self.mu_delta).max(0) as u64)
    }

    /// The states of the first `n` contacts of an MU ledger as this transaction sees it.
    pub(crate) fn ledger(&self, which: Ledger, n: usize) -> Result<Vec<ContactState>> {
        let from_store =
            self.store
                .ledger(self.channel, which, n.saturating_add(self.overlay.len()))?;
        let in_ledger = |s: &ContactState| match which {
            Ledger::OldestVisible => s.counts_for_mu(),
            Ledger::NewestHidden => s.hidden && !s.blocked,
        };
        let mut all: Vec<ContactState> = from_store
            .into_iter()
            .filter(|s| !self.overlay.contains_key(s.id.as_str()))
            .collect();
        for e in self.overlay.values() {
            let s = match e {
                Entry::Whole(Some(c)) => ContactState::of(c),
                Entry::Whole(None) => continue,
                Entry::State(s) => s.clone(),
            };
            if in_ledger(&s) {
                all.push(s);
            }
        }
        match which {
            Ledger::OldestVisible => all.sort_by(|a, b| a.ledger_key().cmp(&b.ledger_key())),
            Ledger::NewestHidden => all.sort_by(|a, b| b.ledger_key().cmp(&a.ledger_key())),
        }
        all.truncate(n);
        Ok(all)
    }

    fn record(&mut self, id: Arc<str>, new: Entry) -> Result<()> {
        let prev_counts = match self.overlay.get(&id) {
            Some(e) => counts(e),
            None => self.store.is_counted(self.channel, &id)? as i64,
        };
        self.mu_delta += counts(&new) - prev_counts;
        if let Some(index) = &mut self.index {
            if let Some(p) = self.overlay.get(&id).and_then(Entry::whole) {
                index.remove(p);
            }
            if let Some(c) = new.whole() {
                index.add(c);
            }
        }
        if new.whole().is_some_and(|c| c.member_id.is_some()) {
            self.members_written = true;
        }
        let prev_overlay = self.overlay.insert(Arc::clone(&id), new);
        if self.index.is_none() && self.overlay.len() >= INDEX_AT {
            let mut index = OverlayIndex::default();
            for c in self.live() {
                index.add(c);
            }
            self.index = Some(index);
        }
        self.journal.push((Arc::clone(&id), prev_overlay));
        self.ops.push(TxOp::Contact(id));
        Ok(())
    }

    /// Writes a contact's state (a boot, a hide or un-hide): over the whole contact when
    /// this transaction already holds it, else as a state write the store applies in place.
    pub(crate) fn put_state(&mut self, s: ContactState) -> Result<()> {
        match self.overlay.get(s.id.as_str()) {
            Some(Entry::Whole(Some(c))) => {
                let mut c = (**c).clone();
                s.apply_to(&mut c);
                self.put(c)
            }
            Some(Entry::Whole(None)) => Ok(()),
            _ => self.record(Arc::from(s.id.as_str()), Entry::State(s)),
        }
    }

    /// Inserts or replaces a contact.
    pub(crate) fn put(&mut self, c: Contact) -> Result<()> {
        self.record(Arc::from(c.id.as_str()), Entry::Whole(Some(Box::new(c))))
    }

    /// Removes a contact for good.
    pub(crate) fn delete(&mut self, id: &str) -> Result<()> {
        self.record(Arc::from(id), Entry::Whole(None))
    }

    /// Adds a non-contact write.
    pub(crate) fn op(&mut self, mut op: Op) {
        // An activity-log entry is dated by the transaction that writes it, whose time is
        // read under the channel's write lock: entries are then newest first by time as
        // well as by order, however long the action took or waited for the lock (an
        // export is logged when it ends).
        if let Op::Log(entry) = &mut op {
            entry.at = self.now;
        }
        self.ops.push(TxOp::Other(op));
    }

    /// The contacts a unification or merge folded into another since `mark`: the ids its
    /// redirects lead away from.
    pub(crate) fn absorbed_since(&self, mark: Mark) -> Vec<String> {
        self.ops
            .get(mark.ops..)
            .unwrap_or_default()
            .iter()
            .filter_map(|op| match op {
                TxOp::Other(Op::Redirect(from, Some(_))) => Some(from.clone()),
                _ => None,
            })
            .collect()
    }

    /// Whether the channel, as this transaction sees it, may hold a member: `false` only
    /// when it surely holds none.
    pub(crate) fn may_hold_members(&self) -> Result<bool> {
        Ok(self.members_written || self.store.may_hold_members(self.channel)?)
    }

    /// A fresh contact id: `c_` and a zero-padded sequence number, so ids sort in creation
    /// order (R-SCH-1).
    pub(crate) fn new_id(&self) -> Result<String> {
        if let Some(n) = &self.dry_ids {
            n.set(n.get() + 1);
            return Ok(format!("dry_{:012}", n.get()));
        }
        Ok(crate::contact::sequence_id(self.store.next_seq()?))
    }
}
