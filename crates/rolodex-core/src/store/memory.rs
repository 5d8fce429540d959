//! The in-memory store: every channel's contacts in hash maps with identifier indexes and
//! ordered MU ledgers.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use parking_lot::{Mutex, RwLock};

use super::{
    Batch, ImportLock, Ledger, MergeRecord, MergeState, Op, PendingUnification, SegmentRecord,
    Settings, Store,
};
use crate::access::{ActivityEntry, ActivityQuery};
use crate::contact::Contact;
use crate::error::Result;
use crate::filter::{CompiledQuery, EvalCtx, Page};
use crate::identity::email_key;
use crate::schema::Schema;

/// The ordering key of the MU ledgers: (`lastSeenAt`, `createdAt`, id).
type LedgerKey = (i64, i64, Arc<str>);

fn ledger_key(c: &Contact, id: &Arc<str>) -> LedgerKey {
    (
        c.last_seen_at.timestamp_millis(),
        c.created_at.timestamp_millis(),
        id.clone(),
    )
}

#[derive(Default)]
struct Channel {
    contacts: HashMap<Arc<str>, Contact>,
    by_member: HashMap<String, Arc<str>>,
    member_alias: HashMap<String, String>,
    by_email: HashMap<String, Vec<Arc<str>>>,
    by_mobile: HashMap<String, Vec<Arc<str>>>,
    visible: BTreeSet<LedgerKey>,
    hidden: BTreeSet<LedgerKey>,
    redirects: HashMap<String, String>,
    schema: Option<Arc<Schema>>,
    settings: Settings,
    segments: BTreeMap<String, SegmentRecord>,
    merges: HashMap<String, MergeRecord>,
    pending: Vec<PendingUnification>,
    activity: Vec<ActivityEntry>,
    export_times: HashMap<String, DateTime<Utc>>,
}

fn remove_id(map: &mut HashMap<String, Vec<Arc<str>>>, key: &str, id: &str) {
    if let Some(ids) = map.get_mut(key) {
        ids.retain(|x| &**x != id);
        if ids.is_empty() {
            map.remove(key);
        }
    }
}

impl Channel {
    fn unindex(&mut self, id: &Arc<str>) {
        let Some(c) = self.contacts.get(id) else {
            return;
        };
        let key = ledger_key(c, id);
        self.visible.remove(&key);
        self.hidden.remove(&key);
        if let Some(m) = &c.member_id {
            if self.by_member.get(m).is_some_and(|x| x == id) {
                self.by_member.remove(m);
            }
        }
        let email = c.email().map(email_key);
        let mobile = c.mobile_number().map(str::to_string);
        if let Some(e) = email {
            remove_id(&mut self.by_email, &e, id);
        }
        if let Some(m) = mobile {
            remove_id(&mut self.by_mobile, &m, id);
        }
    }

    fn index(&mut self, id: &Arc<str>) {
        let Some(c) = self.contacts.get(id) else {
            return;
        };
        let key = ledger_key(c, id);
        if !c.blocked {
            if c.hidden {
                self.hidden.insert(key);
            } else if c.has_contact_info() {
                self.visible.insert(key);
            }
        }
        if let Some(m) = &c.member_id {
            self.by_member.insert(m.clone(), id.clone());
        }
        let email = c.email().map(email_key);
        let mobile = c.mobile_number().map(str::to_string);
        if let Some(e) = email {
            self.by_email.entry(e).or_default().push(id.clone());
        }
        if let Some(m) = mobile {
            self.by_mobile.entry(m).or_default().push(id.clone());
        }
    }

    fn put(&mut self, c: Contact) {
        let id: Arc<str> = match self.contacts.get_key_value(c.id.as_str()) {
            Some((k, _)) => k.clone(),
            None => Arc::from(c.id.as_str()),
        };
        self.unindex(&id);
        self.contacts.insert(id.clone(), c);
        self.index(&id);
    }

    fn delete(&mut self, id: &str) {
        if let Some((k, _)) = self.contacts.get_key_value(id) {
            let k = k.clone();
            self.unindex(&k);
            self.contacts.remove(&k);
        }
    }

    fn apply(&mut self, op: Op) {
        match op {
            Op::PutContact(c) => self.put(*c),
            Op::DeleteContact(id) => self.delete(&id),
            Op::Redirect(from, to) => match to {
                Some(to) => {
                    self.redirects.insert(from, to);
                }
                None => {
                    self.redirects.remove(&from);
                }
            },
            Op::MemberAlias(m, to) => match to {
                Some(to) => {
                    self.member_alias.insert(m, to);
                }
                None => {
                    self.member_alias.remove(&m);
                }
            },
            Op::PutSchema(keys) => self.schema = Some(keys),
            Op::PutSettings(s) => self.settings = s,
            Op::PutSegment(s) => {
                self.segments.insert(s.name.clone(), s);
            }
            Op::DeleteSegment(name) => {
                self.segments.remove(&name);
            }
            Op::PutMerge(m) => {
                self.merges.insert(m.id.clone(), *m);
            }
            Op::PutPending(p) => {
                self.pending
                    .retain(|x| !(x.lead_id == p.lead_id && x.member_id == p.member_id));
                self.pending.push(p);
            }
            Op::DeletePending(lead, member) => {
                self.pending
                    .retain(|x| !(x.lead_id == lead && x.member_id == member));
            }
            Op::Log(e) => self.activity.push(e),
            Op::PutExportTime(m, t) => {
                self.export_times.insert(m, t);
            }
        }
    }

    fn ids_to_contacts(&self, ids: Option<&Vec<Arc<str>>>) -> Vec<Contact> {
        ids.map(|ids| {
            ids.iter()
                .filter_map(|id| self.contacts.get(id).cloned())
                .collect()
        })
        .unwrap_or_default()
    }
}

/// An in-memory store of any number of channels. Cheap to share: wrap it in an `Arc`.
#[derive(Default)]
pub struct MemoryStore {
    channels: RwLock<HashMap<String, Arc<RwLock<Channel>>>>,
    write_mutexes: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    import_locks: Arc<Mutex<std::collections::HashSet<String>>>,
    seq: AtomicU64,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
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
    locks: Arc<Mutex<std::collections::HashSet<String>>>,
    channel: String,
}

impl ImportLock for MemoryImportLock {}

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
        self.write_mutexes
            .lock()
            .entry(channel.to_string())
            .or_default()
            .clone()
    }

    fn get(&self, channel: &str, id: &str) -> Result<Option<Contact>> {
        Ok(self.channel(channel).read().contacts.get(id).cloned())
    }

    fn redirect(&self, channel: &str, id: &str) -> Result<Option<String>> {
        Ok(self.channel(channel).read().redirects.get(id).cloned())
    }

    fn find_member(&self, channel: &str, member_id: &str) -> Result<Option<Contact>> {
        let ch = self.channel(channel);
        let ch = ch.read();
        if let Some(id) = ch.by_member.get(member_id) {
            return Ok(ch.contacts.get(id).cloned());
        }
        Ok(ch
            .member_alias
            .get(member_id)
            .and_then(|id| ch.contacts.get(id.as_str()).cloned()))
    }

    fn find_by_email(&self, channel: &str, email: &str) -> Result<Vec<Contact>> {
        let ch = self.channel(channel);
        let ch = ch.read();
        Ok(ch.ids_to_contacts(ch.by_email.get(&email_key(email))))
    }

    fn find_by_mobile(&self, channel: &str, e164: &str) -> Result<Vec<Contact>> {
        let ch = self.channel(channel);
        let ch = ch.read();
        Ok(ch.ids_to_contacts(ch.by_mobile.get(e164)))
    }

    fn apply(&self, channel: &str, batch: Batch) -> Result<()> {
        let ch = self.channel(channel);
        let mut ch = ch.write();
        for op in batch.ops {
            ch.apply(op);
        }
        Ok(())
    }

    fn mu_count(&self, channel: &str) -> Result<u64> {
        Ok(self.channel(channel).read().visible.len() as u64)
    }

    fn ledger(&self, channel: &str, which: Ledger, n: usize) -> Result<Vec<Contact>> {
        let ch = self.channel(channel);
        let ch = ch.read();
        let ids: Vec<&Arc<str>> = match which {
            Ledger::OldestVisible => ch.visible.iter().take(n).map(|k| &k.2).collect(),
            Ledger::NewestHidden => ch.hidden.iter().rev().take(n).map(|k| &k.2).collect(),
        };
        Ok(ids
            .into_iter()
            .filter_map(|id| ch.contacts.get(id).cloned())
            .collect())
    }

    fn search(&self, channel: &str, query: &CompiledQuery, ctx: &EvalCtx) -> Result<Page> {
        let ch = self.channel(channel);
        let ch = ch.read();
        Ok(crate::filter::search_scan(ch.contacts.values(), query, ctx))
    }

    fn for_each(&self, channel: &str, f: &mut dyn FnMut(&Contact) -> bool) -> Result<()> {
        let ch = self.channel(channel);
        let ch = ch.read();
        for c in ch.contacts.values() {
            if !f(c) {
                break;
            }
        }
        Ok(())
    }

    fn contact_count(&self, channel: &str) -> Result<u64> {
        Ok(self.channel(channel).read().contacts.len() as u64)
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
        Ok(ch
            .pending
            .iter()
            .filter(|p| contact_id.is_none_or(|id| p.lead_id == id || p.member_id == id))
            .cloned()
            .collect())
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

    fn export_time(&self, channel: &str, manager_id: &str) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .channel(channel)
            .read()
            .export_times
            .get(manager_id)
            .copied())
    }

    fn try_lock_import(&self, channel: &str) -> Result<Option<Box<dyn ImportLock>>> {
        let mut locks = self.import_locks.lock();
        if !locks.insert(channel.to_string()) {
            return Ok(None);
        }
        Ok(Some(Box::new(MemoryImportLock {
            locks: self.import_locks.clone(),
            channel: channel.to_string(),
        })))
    }
}
