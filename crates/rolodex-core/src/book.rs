//! [`ContactBook`]: one channel's contacts over a store. An owned, `Send + Sync` handle with
//! no generic parameters or lifetimes, so every language binding wraps it directly.

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use parking_lot::RwLock;

use crate::access::{require, ActivityEntry, ActivityQuery, Manager, Permission};
use crate::contact::{ops, Boot, BulkFailure, BulkResult, Contact, Medium, NewLead};
use crate::error::{Error, Result};
use crate::filter::{
    compile, compile_query, EvalCtx, Filter, Include, Page, Query, SortKey, SortOrder,
};
use crate::merge::{MergeChoices, MergeResult};
use crate::schema::{KeyDef, Schema};
use crate::store::{Batch, MemoryStore, Op, PendingUnification, SegmentRecord, Store};
use crate::tx::Tx;
use crate::value::FieldType;

/// A saved segment (FILTER.md): `{"name", "filter"}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Segment {
    /// Unique per channel.
    pub name: String,
    /// The criteria.
    pub filter: Filter,
}

/// Invisible formatting characters (soft hyphen, zero-width spaces and joiners, direction
/// marks and embeddings, word joiners, the byte-order mark): two names differing only by
/// them look the same. A short list by hand: the standard library has no Unicode
/// categories, and the ones listed are those that appear in pasted text.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
    )
}

/// A segment name: 1 to 200 characters, no control or invisible formatting characters,
/// and no spaces around it
/// (names are unique per channel, R-FLT-8, so `"vip"` and `" vip "` must not be two).
fn check_segment_name(name: &str) -> Result<()> {
    let expected = "a segment name of 1 to 200 characters, without control or invisible formatting characters or spaces around it";
    let problem = if name.trim().is_empty() {
        Some("the segment name is empty")
    } else if name.chars().count() > 200 {
        Some("the segment name is too long")
    } else if name.trim() != name {
        Some("the segment name starts or ends with a space")
    } else if name.chars().any(char::is_control) {
        Some("the segment name holds a control character")
    } else if name.chars().any(is_invisible_format) {
        Some("the segment name holds an invisible formatting character")
    } else {
        None
    };
    match problem {
        Some(message) => Err(Error::validation(Some(name), expected, message)),
        None => Ok(()),
    }
}

/// State shared by every handle derived from one opened book (channels, managers).
struct Shared {
    store: Arc<dyn Store>,
    clock: RwLock<Option<DateTime<Utc>>>,
}

/// The longest interval between two protected exports (R-EXP-4) a book accepts: 100 years.
pub const MAX_EXPORT_INTERVAL_SECS: u64 = 3_155_760_000;

/// One channel's contact book over a store.
///
/// ```
/// use rolodex_core::{ContactBook, NewLead};
/// let book = ContactBook::in_memory();
/// let kim = book.add_lead(NewLead::email("kim@example.com").with_name("Kim")).unwrap();
/// assert_eq!(book.get(&kim.id).unwrap().name(), Some("Kim"));
/// assert_eq!(book.mu_count().unwrap(), 1);
/// ```
#[derive(Clone)]
pub struct ContactBook {
    shared: Arc<Shared>,
    channel: Arc<str>,
    /// The store's write mutex of the channel, looked up once per handle.
    write_mutex: Arc<parking_lot::Mutex<()>>,
    manager: Option<Arc<Manager>>,
}

impl std::fmt::Debug for ContactBook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContactBook")
            .field("store", &self.shared.store.backend())
            .field("channel", &self.channel)
            .field("manager", &self.manager.as_ref().map(|m| &m.id))
            .finish()
    }
}

/// What a bulk action applies to (R-CON-7): a list of ids, or every contact matching a
/// filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// These contacts.
    Ids(Vec<String>),
    /// Every visible contact matching this filter when the action starts; for `unblock`,
    /// every blocked one (the listing it acts on).
    Filter(Filter),
}

impl From<Filter> for Target {
    fn from(f: Filter) -> Self {
        Target::Filter(f)
    }
}

impl From<&Filter> for Target {
    fn from(f: &Filter) -> Self {
        Target::Filter(f.clone())
    }
}

impl<S: AsRef<str>> From<Vec<S>> for Target {
    fn from(ids: Vec<S>) -> Self {
        Target::Ids(owned(&ids))
    }
}

impl<S: AsRef<str>> From<&Vec<S>> for Target {
    fn from(ids: &Vec<S>) -> Self {
        Target::Ids(owned(ids))
    }
}

impl<S: AsRef<str>> From<&[S]> for Target {
    fn from(ids: &[S]) -> Self {
        Target::Ids(owned(ids))
    }
}

impl<S: AsRef<str>, const N: usize> From<[S; N]> for Target {
    fn from(ids: [S; N]) -> Self {
        Target::Ids(owned(&ids))
    }
}

impl<S: AsRef<str>, const N: usize> From<&[S; N]> for Target {
    fn from(ids: &[S; N]) -> Self {
        Target::Ids(owned(ids))
    }
}

/// Owned copies of names given as `&str`s or `String`s.
fn owned(items: &[impl AsRef<str>]) -> Vec<String> {
    items.iter().map(|s| s.as_ref().to_string()).collect()
}

impl From<&str> for Target {
    /// One contact.
    fn from(id: &str) -> Self {
        Target::Ids(vec![id.to_string()])
    }
}

impl From<String> for Target {
    /// One contact.
    fn from(id: String) -> Self {
        Target::Ids(vec![id])
    }
}

impl From<&String> for Target {
    /// One contact.
    fn from(id: &String) -> Self {
        Target::Ids(vec![id.clone()])
    }
}

impl ContactBook {
    /// A book on a new in-memory store, channel `default`.
    pub fn in_memory() -> ContactBook {
        ContactBook::with_store(Arc::new(MemoryStore::new()), "default")
    }

    /// A book on `store` for `channel`.
    pub fn with_store(store: Arc<dyn Store>, channel: &str) -> ContactBook {
        ContactBook {
            write_mutex: store.write_mutex(channel),
            shared: Arc::new(Shared {
                store,
                clock: RwLock::new(None),
            }),
            channel: Arc::from(channel),
            manager: None,
        }
    }

    /// Another channel's book on the same store. Channels never see each other's contacts.
    pub fn channel(&self, name: &str) -> ContactBook {
        ContactBook {
            shared: self.shared.clone(),
            channel: Arc::from(name),
            write_mutex: self.shared.store.write_mutex(name),
            manager: self.manager.clone(),
        }
    }

    /// A handle that acts as `manager`: each action checks its permissions (R-EXP-5) and the
    /// activity log names it.
    pub fn as_manager(&self, manager: Manager) -> ContactBook {
        ContactBook {
            shared: self.shared.clone(),
            channel: self.channel.clone(),
            write_mutex: self.write_mutex.clone(),
            manager: Some(Arc::new(manager)),
        }
    }

    /// The channel's name.
    pub fn channel_name(&self) -> &str {
        &self.channel
    }

    /// The store behind this book.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.shared.store
    }

    /// Pins "now" for everything the book does; `None` goes back to the system clock.
    /// Times are kept to the millisecond, the precision of their one text form (R-VAL-10:
    /// RFC 3339 in UTC with milliseconds, which must read back as the same value), so a
    /// pinned time is cut to its millisecond. An instant outside the years 0000–9999 (UTC)
    /// has no such text and is a `Validation` error; the clock stays as it was.
    ///
    /// ```
    /// use rolodex_core::{ContactBook, ErrorKind};
    /// let book = ContactBook::in_memory();
    /// book.set_clock(Some("2025-03-01T09:30:00Z".parse().unwrap())).unwrap();
    /// let far = "+10000-01-01T00:00:00Z".parse().unwrap();
    /// assert_eq!(book.set_clock(Some(far)).unwrap_err().kind(), ErrorKind::Validation);
    /// assert_eq!(book.now().to_rfc3339(), "2025-03-01T09:30:00+00:00");
    /// ```
    pub fn set_clock(&self, now: Option<DateTime<Utc>>) -> Result<()> {
        if let Some(t) = now.filter(|t| !crate::value::datetime::in_range(*t)) {
            return Err(Error::Validation {
                key: None,
                text: Some(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
                expected: "an instant in the years 0000-9999 (UTC), whose RFC 3339 text reads back (R-VAL-10)".into(),
                message: "the clock cannot be pinned outside the years 0000-9999".into(),
            });
        }
        *self.shared.clock.write() = now.map(to_millis);
        Ok(())
    }

    /// The book's "now", to the millisecond.
    ///
    /// ```
    /// use rolodex_core::ContactBook;
    /// let book = ContactBook::in_memory();
    /// let t = "2025-03-01T09:30:00.123456789Z".parse().unwrap();
    /// book.set_clock(Some(t)).unwrap();
    /// assert_eq!(book.now().to_rfc3339(), "2025-03-01T09:30:00.123+00:00");
    /// ```
    pub fn now(&self) -> DateTime<Utc> {
        self.shared
            .clock
            .read()
            .unwrap_or_else(|| to_millis(Utc::now()))
    }

    pub(crate) fn manager(&self) -> Option<&Manager> {
        self.manager.as_deref()
    }

    pub(crate) fn require(&self, p: Permission, action: &str) -> Result<()> {
        require(self.manager(), p, action)
    }

    /// Runs `f` in one transaction under the channel's write lock and commits its batch.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&mut Tx) -> Result<T>) -> Result<T> {
        self.write_batch(f).map(|(out, _)| out)
    }

    /// [`ContactBook::write`], returning the batch it applied as well.
    fn write_batch<T>(&self, f: impl FnOnce(&mut Tx) -> Result<T>) -> Result<(T, Batch)> {
        let _guard = self.write_mutex.lock();
        let mut tx = Tx::new(&*self.shared.store, &self.channel, self.now())?;
        let out = f(&mut tx)?;
        let batch = tx.commit()?;
        Ok((out, batch))
    }

    /// [`ContactBook::write`] for an operation that writes one contact and returns it: `f`
    /// gives the contact's id, and the contact comes back from the committed batch, so the
    /// operation need not keep a copy of what it wrote.
    pub(crate) fn write_contact(
        &self,
        f: impl FnOnce(&mut Tx) -> Result<String>,
    ) -> Result<Contact> {
        let (id, batch) = self.write_batch(f)?;
        let written = batch.ops.into_iter().rev().find_map(|op| match op {
            Op::PutContact(c) if c.id == id => Some(*c),
            _ => None,
        });
        match written {
            Some(c) => Ok(c),
            None => {
                self.shared.store.get(&self.channel, &id)?.ok_or_else(|| {
                    Error::storage("the written contact vanished while it was written")
                })
            }
        }
    }

    /// An activity-log entry of this book's manager; the transaction that writes it dates
    /// it ([`Tx::op`]).
    pub(crate) fn log_entry(&self, action: &str, count: u64, detail: serde_json::Value) -> Op {
        self.log_entry_with_reason(action, count, None, detail)
    }

    /// [`ContactBook::log_entry`] with the reason the caller gave.
    pub(crate) fn log_entry_with_reason(
        &self,
        action: &str,
        count: u64,
        reason: Option<String>,
        detail: serde_json::Value,
    ) -> Op {
        Op::Log(ActivityEntry {
            at: self.now(),
            manager_id: self.manager().map(|m| m.id.clone()),
            action: action.to_string(),
            count,
            reason,
            detail,
        })
    }

    /// The schema as the book sees it now.
    pub fn schema_ref(&self) -> Result<Arc<Schema>> {
        Ok(self
            .shared
            .store
            .schema(&self.channel)?
            .unwrap_or_else(Schema::shared_default))
    }

    /// Hides archived values from a contact shown to a caller (R-SCH-5).
    pub(crate) fn view(&self, schema: &Schema, mut c: Contact) -> Contact {
        if !schema.has_archived() {
            return c;
        }
        c.profile.retain(|name, _| {
            schema
                .get(&format!("profile.{name}"))
                .is_none_or(|d| !d.archived)
        });
        c
    }

    // ----- schema (R-SCH) -----

    fn schema_write(&self, action: &str, f: impl FnOnce(&mut Schema) -> Result<()>) -> Result<()> {
        self.require(Permission::EditContacts, action)?;
        self.write(|tx| {
            let mut s = (*tx.schema).clone();
            f(&mut s)?;
            tx.op(Op::PutSchema(Arc::new(s)));
            Ok(())
        })
    }

    /// Defines a custom data key `profile.<camelCaseName>` (R-SCH-1). Defining an existing
    /// key with the same type does nothing; with another type it is a `Conflict`. A system
    /// field's name (`profile.memberId`, `profile.tags`, …) is a `Validation` error: system
    /// fields are top-level, and a lookalike under `profile.` would take their values
    /// wherever a name is given without `profile.`.
    pub fn define_key(&self, key: &str, field_type: FieldType) -> Result<()> {
        self.schema_write("define a data key", |s| {
            s.define(key, field_type).map(|_| ())
        })
    }

    /// Every key in display order with type, archived and inbox flags (R-SCH-4).
    pub fn schema(&self) -> Result<Vec<KeyDef>> {
        Ok(self.schema_ref()?.keys().to_vec())
    }

    /// Archives a key: no longer collected, shown or filterable; values kept (R-SCH-5).
    pub fn archive_key(&self, key: &str) -> Result<()> {
        self.schema_write("archive a data key", |s| s.archive(key))
    }

    /// Restores an archived key with its old values (R-SCH-5).
    pub fn restore_key(&self, key: &str) -> Result<()> {
        self.schema_write("restore a data key", |s| s.restore(key))
    }

    /// Shows or hides a key in the inbox (R-SCH-6).
    pub fn set_inbox_visible(&self, key: &str, visible: bool) -> Result<()> {
        self.schema_write("change inbox visibility", |s| {
            s.set_inbox_visible(key, visible)
        })
    }

    /// Puts the named keys first in the display order (R-SCH-4). `keys` may be `&str`s or
    /// `String`s.
    pub fn reorder_keys(&self, keys: &[impl AsRef<str>]) -> Result<()> {
        let keys = owned(keys);
        self.schema_write("reorder data keys", |s| s.reorder(&keys))
    }

    // ----- contacts (R-CON) -----

    /// Adds a lead by hand (R-CON-1).
    pub fn add_lead(&self, lead: NewLead) -> Result<Contact> {
        self.require(Permission::EditContacts, "add a lead")?;
        let c = self.write_contact(|tx| ops::add_lead(tx, lead))?;
        Ok(c)
    }

    /// One contact by id; an id merged or unified into another contact leads to the survivor.
    pub fn get(&self, id: &str) -> Result<Contact> {
        let tx = Tx::new(&*self.shared.store, &self.channel, self.now())?;
        let c = self.resolve_settled(&tx, id)?.ok_or_else(|| {
            Error::not_found(
                "contact",
                id,
                "it may have been deleted; search for it again",
            )
        })?;
        Ok(self.view(&tx.schema, c))
    }

    /// The contact `id` names, following merges and unifications ([`Tx::resolve`]), read
    /// outside the channel's write lock. A merge or unmerge running meanwhile may leave the
    /// id neither in place nor redirected for a moment (the contact and its redirect are
    /// two reads), so "no such contact" is asked again under the lock, where no write is
    /// halfway done.
    pub(crate) fn resolve_settled(&self, tx: &Tx, id: &str) -> Result<Option<Contact>> {
        if let Some(c) = tx.resolve(id)? {
            return Ok(Some(c));
        }
        let _guard = self.write_mutex.lock();
        Tx::new(&*self.shared.store, &self.channel, tx.now)?.resolve(id)
    }

    /// A manager's edit (API.md `update`): `patch` is contact JSON, `null` clears.
    ///
    /// The patch's keys are `profile` (an object of values by name, `{"city": "Seoul"}`),
    /// or a data key written flat (`"profile.city"`), `tags`, `unsubscribeEmail` and
    /// `unsubscribeTexting`; only editable keys may be written (R-SCH-3). A value is native
    /// JSON of the key's type or text parsed by R-VAL (`tags` takes a JSON array of tags,
    /// not text). A value **replaces** the stored one,
    /// lists and `tags` included (an import appends to them instead, R-IMP-8). Contact info
    /// written here is verified (R-CON-2). Keys the patch leaves out are kept. A key named
    /// twice (flat and under `profile`) must be given the same value both times, or the
    /// patch is a `Validation` error, as for [`NewLead`].
    ///
    /// ```
    /// use rolodex_core::{ContactBook, NewLead};
    /// use serde_json::json;
    /// let book = ContactBook::in_memory();
    /// let c = book.add_lead(NewLead::email("a@example.com").with_tags(["a"]))?;
    /// let c = book.update(&c.id, &json!({"profile.name": "Kim", "tags": ["b"]}))?;
    /// assert_eq!((c.name(), c.tags.as_slice()), (Some("Kim"), &["b".to_string()][..]));
    /// let c = book.update(&c.id, &json!({"profile": {"name": null}}))?;
    /// assert_eq!(c.name(), None);
    /// # Ok::<(), rolodex_core::Error>(())
    /// ```
    pub fn update(&self, id: &str, patch: &serde_json::Value) -> Result<Contact> {
        self.require(Permission::EditContacts, "edit contacts")?;
        let schema = self.schema_ref()?;
        let c = self.write(|tx| ops::update(tx, id, patch))?;
        Ok(self.view(&schema, c))
    }

    /// Marks a contact's email or mobile number as verified (R-CON-2). `field` is
    /// `"profile.email"` or `"profile.mobileNumber"` (`"email"` and `"mobileNumber"` are
    /// read the same); a field without a value is a `Validation` error.
    pub fn verify(&self, id: &str, field: &str) -> Result<Contact> {
        self.require(Permission::EditContacts, "verify contact info")?;
        let schema = self.schema_ref()?;
        let c = self.write(|tx| ops::verify(tx, id, field))?;
        Ok(self.view(&schema, c))
    }

    /// A visit of the contact's browser or app (R-CON-3); with a `memberId`, a login
    /// (R-CON-4). Never fails on data.
    ///
    /// ```
    /// use rolodex_core::{Boot, ContactBook};
    /// let book = ContactBook::in_memory();
    /// let visitor = book.boot(Boot::default()).unwrap();
    /// assert_eq!(visitor.session_count, 1);
    /// let member = book
    ///     .boot(Boot { contact_id: Some(visitor.id.clone()), member_id: Some("m-1".into()), ..Boot::default() })
    ///     .unwrap();
    /// assert_eq!(member.id, visitor.id);
    /// assert!(member.member);
    /// ```
    pub fn boot(&self, boot: Boot) -> Result<Contact> {
        let plain = {
            let _guard = self.write_mutex.lock();
            crate::identity::plain_visit(&*self.shared.store, &self.channel, self.now(), &boot)?
        };
        if let Some(c) = plain {
            let schema = self.schema_ref()?;
            return Ok(self.view(&schema, c));
        }
        let (schema, c) = self.write(|tx| {
            let c = crate::identity::boot(tx, &boot)?;
            Ok((Arc::clone(&tx.schema), c))
        })?;
        Ok(self.view(&schema, c))
    }

    fn ids_of(&self, target: &Target, include: Include) -> Result<Vec<String>> {
        match target {
            // Each contact once (R-CON-7 counts contacts), in the order first given.
            Target::Ids(ids) => {
                let mut seen = std::collections::HashSet::with_capacity(ids.len());
                Ok(ids
                    .iter()
                    .filter(|id| seen.insert(id.as_str()))
                    .cloned()
                    .collect())
            }
            Target::Filter(f) => Ok(self
                .matching(f, include)?
                .into_iter()
                .map(|c| c.id)
                .collect()),
        }
    }

    /// Every contact of the `include` listing matching `filter`, in id order, read through
    /// the store's search (so the store's indexes or SQL answer it, never a channel scan
    /// here) as one page: the page size is a caller's limit, not the library's, and read
    /// 1,000 at a time the listing cost each page a walk over every match, M²/1,000 in all
    /// (1.8 s for an audience of 400,000). The channel's write lock is held, so that the
    /// listing is of one moment: a write between two reads (a merge moving a tag from one
    /// contact to another) could otherwise put both in it.
    fn matching(&self, filter: &Filter, include: Include) -> Result<Vec<Contact>> {
        let _guard = self.write_mutex.lock();
        let schema = self.schema_ref()?;
        let ctx = self.eval_ctx()?;
        let query = Query {
            filter: Some(filter.clone()),
            sort: vec![SortKey::new("id", SortOrder::Asc)],
            include,
            ..Query::default()
        };
        let mut compiled = compile_query(&query, &schema)?;
        compiled.limit = usize::MAX;
        Ok(self
            .shared
            .store
            .search(&self.channel, &compiled, &ctx)?
            .contacts)
    }

    /// The evaluation context of filters: the book's clock and time zone (R-FLT-5, R-FLT-12).
    pub(crate) fn eval_ctx(&self) -> Result<EvalCtx> {
        Ok(EvalCtx::new(self.now(), self.time_zone()?))
    }

    // ----- search and segments (R-FLT) -----

    /// Runs a query (FILTER.md): filter, quick search, multi-term search, listing, sort and
    /// cursor paging (R-FLT-1..7).
    ///
    /// ```
    /// use rolodex_core::{ContactBook, NewLead, Query};
    /// let book = ContactBook::in_memory();
    /// book.add_lead(NewLead::email("kim@example.com").with_name("Kim")).unwrap();
    /// book.add_lead(NewLead::mobile("+821020203030").with_name("Lee")).unwrap();
    /// let q = Query::from_json(r#"{"search": "010-2020", "sort": [{"key": "createdAt", "order": "asc"}]}"#).unwrap();
    /// let page = book.search(&q).unwrap();
    /// assert_eq!(page.total, 1);
    /// assert_eq!(page.contacts[0].name(), Some("Lee"));
    /// let q = Query::from_json(r#"{"terms": "KIM@example.com, nobody@example.com"}"#).unwrap();
    /// assert_eq!(book.search(&q).unwrap().unmatched_terms, vec!["nobody@example.com"]);
    /// ```
    pub fn search(&self, query: &Query) -> Result<Page> {
        let schema = self.schema_ref()?;
        let compiled = compile_query(query, &schema)?;
        self.search_compiled(&schema, &compiled)
    }

    /// Runs a compiled query and shows its contacts as a caller sees them.
    fn search_compiled(
        &self,
        schema: &Schema,
        compiled: &crate::filter::CompiledQuery,
    ) -> Result<Page> {
        let mut page = self
            .shared
            .store
            .search(&self.channel, compiled, &self.eval_ctx()?)?;
        page.contacts = page
            .contacts
            .into_iter()
            .map(|c| self.view(schema, c))
            .collect();
        Ok(page)
    }

    /// Every saved segment (R-FLT-8), by name.
    pub fn segments(&self) -> Result<Vec<Segment>> {
        self.shared
            .store
            .segments(&self.channel)?
            .into_iter()
            .map(|r| {
                Ok(Segment {
                    name: r.name,
                    filter: Filter::from_value(&r.filter)?,
                })
            })
            .collect()
    }

    fn segment(&self, name: &str) -> Result<Segment> {
        let name = &*crate::text::nfc_cow(name);
        self.segments()?
            .into_iter()
            .find(|s| s.name == name)
            .ok_or_else(|| no_segment(name))
    }

    /// Saves a segment: a name and filter criteria, never a list of contacts (R-FLT-8). The
    /// filter is checked against the schema now; names are unique (`Conflict`).
    pub fn save_segment(&self, name: &str, filter: &Filter) -> Result<()> {
        self.require(Permission::EditContacts, "save a segment")?;
        check_segment_name(name)?;
        // Names are kept and compared in NFC (R-VAL-1): a name typed on macOS, which
        // arrives decomposed, is the same name.
        let name = &*crate::text::nfc_cow(name);
        // The filter is checked against the schema read under the channel's write lock, so
        // a key archived at the same time is either seen archived here or archived after
        // the segment is saved (running it is then the archived-key error of R-FLT-4).
        self.write(|tx| {
            compile(filter, &tx.schema)?;
            if tx
                .store
                .segments(tx.channel)?
                .iter()
                .any(|s| s.name == name)
            {
                return Err(Error::conflict(format!(
                    "a segment named {name:?} already exists; rename or delete it first"
                )));
            }
            tx.op(Op::PutSegment(SegmentRecord {
                name: name.to_string(),
                filter: filter.to_value(),
            }));
            Ok(())
        })
    }

    /// Renames a segment.
    pub fn rename_segment(&self, name: &str, new_name: &str) -> Result<()> {
        self.require(Permission::EditContacts, "rename a segment")?;
        check_segment_name(new_name)?;
        let (name, new_name) = (
            &*crate::text::nfc_cow(name),
            &*crate::text::nfc_cow(new_name),
        );
        // Both names are checked under the channel's write lock, so two renames at once
        // cannot both take one name.
        self.write(|tx| {
            let segments = tx.store.segments(tx.channel)?;
            let seg = find_segment(&segments, name)?;
            if name == new_name {
                return Ok(());
            }
            if segments.iter().any(|s| s.name == new_name) {
                return Err(Error::conflict(format!(
                    "a segment named {new_name:?} already exists; choose another name, or rename or delete that segment first"
                )));
            }
            tx.op(Op::DeleteSegment(name.to_string()));
            tx.op(Op::PutSegment(SegmentRecord {
                name: new_name.to_string(),
                filter: seg.filter.clone(),
            }));
            Ok(())
        })
    }

    /// Deletes a segment (its contacts are untouched).
    pub fn delete_segment(&self, name: &str) -> Result<()> {
        self.require(Permission::EditContacts, "delete a segment")?;
        let name = &*crate::text::nfc_cow(name);
        // Checked under the channel's write lock, so a rename at the same time either
        // comes first (this is then `NotFound`) or finds the segment gone.
        self.write(|tx| {
            find_segment(&tx.store.segments(tx.channel)?, name)?;
            tx.op(Op::DeleteSegment(name.to_string()));
            Ok(())
        })
    }

    /// Runs a segment's criteria against current data, combined by AND with `query`
    /// (R-FLT-8).
    pub fn run_segment(&self, name: &str, query: &Query) -> Result<Page> {
        let seg = self.segment(name)?;
        let schema = self.schema_ref()?;
        // The segment's filter and the query's are compiled each on its own, so each is
        // held to FILTER.md's limits and an error names a path in the caller's filter;
        // their plans are then joined by AND.
        let segment = crate::filter::compile(&seg.filter, &schema)?;
        let mut compiled = compile_query(query, &schema)?;
        if !segment.is_match_all() {
            compiled.plan.root = if compiled.plan.is_match_all() {
                segment.root
            } else {
                crate::filter::PlanNode::And(vec![segment.root, compiled.plan.root])
            };
        }
        self.search_compiled(&schema, &compiled)
    }

    /// The marketing audience of a segment for a medium (R-FLT-11): its visible, unblocked
    /// contacts that have that field and are not opted out of it, in id order.
    pub fn audience(&self, segment: &str, medium: Medium) -> Result<Vec<Contact>> {
        let seg = self.segment(segment)?;
        let schema = self.schema_ref()?;
        let reachable = |c: &Contact| match medium {
            Medium::Email => c.email().is_some() && c.unsubscribe_email != Some(true),
            Medium::Texting => c.mobile_number().is_some() && c.unsubscribe_texting != Some(true),
        };
        Ok(self
            .matching(&seg.filter, Include::Visible)?
            .into_iter()
            .filter(reachable)
            .map(|c| self.view(&schema, c))
            .collect())
    }

    /// Runs `f` on each contact of `target`, each contact in its own batch (R-CON-7), and
    /// logs the action.
    /// A bulk action on `target`: a filter picks from the `include` listing, the one the
    /// action acts on (the blocked contacts for an unblock, the visible ones for the rest).
    ///
    /// The log entry says what was done (R-EXP-5): the action's own arguments (`args`, a
    /// JSON object: the tags, the medium and value), the filter of a filter target, the
    /// contacts changed (`ids`) and those that failed (`failed`, their count, and
    /// `failedIds`).
    fn bulk(
        &self,
        action: &str,
        target: &Target,
        include: Include,
        args: serde_json::Value,
        f: impl Fn(&mut Tx, &str) -> Result<()>,
    ) -> Result<BulkResult> {
        let ids = self.ids_of(target, include)?;
        let mut result = BulkResult::default();
        let mut done_ids = Vec::new();
        for id in &ids {
            match self.write(|tx| f(tx, id)) {
                Ok(()) => {
                    result.done += 1;
                    done_ids.push(id.clone());
                }
                Err(e) => result.failed.push(BulkFailure {
                    id: id.clone(),
                    reason: e.to_string(),
                }),
            }
        }
        let mut detail = serde_json::json!({
            "ids": done_ids,
            "failed": result.failed.len(),
            "failedIds": result.failed.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
        });
        if let Target::Filter(filter) = target {
            // A filter is JSON-shaped, so it always serialises.
            detail["filter"] = serde_json::to_value(filter).unwrap_or_default();
        }
        if let serde_json::Value::Object(args) = args {
            for (k, v) in args {
                detail[k] = v;
            }
        }
        let entry = self.log_entry(action, result.done, detail);
        self.write(|tx| {
            tx.op(entry);
            Ok(())
        })?;
        Ok(result)
    }

    /// Blocks contacts (R-CON-6).
    pub fn block(&self, target: impl Into<Target>) -> Result<BulkResult> {
        self.require(Permission::EditContacts, "block contacts")?;
        let args = serde_json::json!({});
        self.bulk("block", &target.into(), Include::Visible, args, |tx, id| {
            ops::block(tx, id).map(|_| ())
        })
    }

    /// Unblocks contacts (R-CON-6).
    pub fn unblock(&self, target: impl Into<Target>) -> Result<BulkResult> {
        self.require(Permission::EditContacts, "unblock contacts")?;
        let args = serde_json::json!({});
        self.bulk(
            "unblock",
            &target.into(),
            Include::Blocked,
            args,
            |tx, id| ops::unblock(tx, id).map(|_| ()),
        )
    }

    /// Deletes contacts for good (R-CON-5).
    pub fn delete(&self, target: impl Into<Target>) -> Result<BulkResult> {
        self.require(Permission::DeleteContacts, "delete contacts")?;
        let args = serde_json::json!({});
        self.bulk(
            "delete",
            &target.into(),
            Include::Visible,
            args,
            ops::delete,
        )
    }

    /// Deletes the member with this `memberId` (R-CON-5), when they leave the site.
    pub fn delete_by_member_id(&self, member_id: &str) -> Result<()> {
        self.require(Permission::DeleteContacts, "delete contacts")?;
        let entry = self.log_entry("delete", 1, serde_json::json!({"memberId": member_id}));
        self.write(|tx| {
            let c = tx
                .find_member(member_id)?
                .filter(|c| c.member_id.as_deref() == Some(member_id))
                .ok_or_else(|| {
                    Error::not_found("member", member_id, "no contact has this memberId")
                })?;
            ops::delete(tx, &c.id)?;
            tx.op(entry);
            Ok(())
        })
    }

    /// Every blocked contact (R-CON-6), oldest id first.
    pub fn blocked(&self) -> Result<Vec<Contact>> {
        let schema = self.schema_ref()?;
        Ok(self
            .matching(&Filter::default(), Include::Blocked)?
            .into_iter()
            .map(|c| self.view(&schema, c))
            .collect())
    }

    /// Adds tags to contacts (R-CON-7). `tags` may be `&str`s or `String`s, one tag each.
    ///
    /// ```
    /// use rolodex_core::{ContactBook, NewLead};
    /// let book = ContactBook::in_memory();
    /// let a = book.add_lead(NewLead::email("a@example.com"))?;
    /// let r = book.add_tags([a.id.as_str()], &["vip", "event/2025"])?;
    /// assert_eq!(r.done, 1);
    /// assert_eq!(book.get(&a.id)?.tags, ["vip", "event/2025"]);
    /// # Ok::<(), rolodex_core::Error>(())
    /// ```
    pub fn add_tags(
        &self,
        target: impl Into<Target>,
        tags: &[impl AsRef<str>],
    ) -> Result<BulkResult> {
        self.require(Permission::EditContacts, "tag contacts")?;
        let tags = ops::parse_tags(owned(tags))?;
        let args = serde_json::json!({ "tags": tags });
        self.bulk(
            "addTags",
            &target.into(),
            Include::Visible,
            args,
            |tx, id| ops::add_tags(tx, id, &tags).map(|_| ()),
        )
    }

    /// Removes tags (and their children) from contacts (R-CON-7). `tags` may be `&str`s
    /// or `String`s, one tag each.
    pub fn remove_tags(
        &self,
        target: impl Into<Target>,
        tags: &[impl AsRef<str>],
    ) -> Result<BulkResult> {
        self.require(Permission::EditContacts, "tag contacts")?;
        // Tags to remove are held to R-VAL-8 as tags to add are: a malformed one can name
        // no tag a contact holds, and is the caller's mistake.
        let tags = ops::parse_tags(owned(tags))?;
        let args = serde_json::json!({ "tags": tags });
        self.bulk(
            "removeTags",
            &target.into(),
            Include::Visible,
            args,
            |tx, id| ops::remove_tags(tx, id, &tags).map(|_| ()),
        )
    }

    /// Sets the opt-out of a medium on contacts (R-CON-7).
    pub fn set_opt_out(
        &self,
        target: impl Into<Target>,
        medium: Medium,
        value: bool,
    ) -> Result<BulkResult> {
        self.require(Permission::EditContacts, "edit opt-out status")?;
        let args = serde_json::json!({ "medium": medium, "value": value });
        self.bulk(
            "setOptOut",
            &target.into(),
            Include::Visible,
            args,
            |tx, id| ops::set_opt_out(tx, id, medium, value).map(|_| ()),
        )
    }

    // ----- merge (R-CON-8) -----

    /// Merges `secondary` into `primary` (R-CON-8).
    pub fn merge(
        &self,
        primary: &str,
        secondary: &str,
        choices: &MergeChoices,
    ) -> Result<MergeResult> {
        self.require(Permission::EditContacts, "merge contacts")?;
        let entry = self.log_entry(
            "merge",
            2,
            serde_json::json!({"primary": primary, "secondary": secondary}),
        );
        let schema = self.schema_ref()?;
        let mut r = self.write(|tx| {
            let r = crate::merge::merge(tx, primary, secondary, choices)?;
            tx.op(entry);
            Ok(r)
        })?;
        r.contact = self.view(&schema, r.contact);
        Ok(r)
    }

    /// Undoes a merge exactly (R-CON-8). Returns `(survivor, secondary)`: the survivor
    /// with the pre-merge values of fields unchanged since the merge put back, and the
    /// secondary recreated with its original id (hidden if it does not fit under the MU
    /// limit).
    pub fn unmerge(&self, merge_id: &str) -> Result<(Contact, Contact)> {
        self.require(Permission::EditContacts, "unmerge contacts")?;
        let entry = self.log_entry("unmerge", 2, serde_json::json!({"mergeId": merge_id}));
        let schema = self.schema_ref()?;
        let (survivor, secondary) = self.write(|tx| {
            let r = crate::merge::unmerge(tx, merge_id)?;
            tx.op(entry);
            Ok(r)
        })?;
        Ok((self.view(&schema, survivor), self.view(&schema, secondary)))
    }

    /// Pending unifications of booted leads into members (R-UNI-4): each lead and member
    /// that still share verified info, with what they share now. A recorded pair whose
    /// lead became a member, or whose shared email or mobile number an edit, an import or a
    /// merge has changed since, no longer unifies (R-UNI-1) and is not listed; a login
    /// drops it instead of completing it.
    pub fn pending_unifications(&self) -> Result<Vec<PendingUnification>> {
        // The pairs and the contacts they name are several reads: under the channel's write
        // lock they are of one moment.
        let _guard = self.write_mutex.lock();
        let tx = Tx::new(&*self.shared.store, &self.channel, self.now())?;
        let mut out = Vec::new();
        for p in self.shared.store.pending(&self.channel, None)? {
            out.extend(crate::identity::pending_now(&tx, p)?);
        }
        Ok(out)
    }

    // ----- MU (R-MU) -----

    /// Visible MU (R-MU-1).
    pub fn mu_count(&self) -> Result<u64> {
        self.shared.store.mu_count(&self.channel)
    }

    /// The manual MU limit, if set.
    pub fn mu_limit(&self) -> Result<Option<u64>> {
        Ok(self.shared.store.settings(&self.channel)?.mu_limit)
    }

    /// Sets or removes the manual MU limit (R-MU-2). Owners only.
    ///
    /// ```
    /// use rolodex_core::{ContactBook, NewLead};
    /// let book = ContactBook::in_memory();
    /// book.set_clock(Some("2025-06-01T00:00:00Z".parse().unwrap())).unwrap();
    /// let old = book.add_lead(NewLead::email("old@example.com")).unwrap();
    /// book.set_clock(Some("2025-06-02T00:00:00Z".parse().unwrap())).unwrap();
    /// book.add_lead(NewLead::email("new@example.com")).unwrap();
    /// book.set_mu_limit(Some(1)).unwrap();
    /// assert!(book.get(&old.id).unwrap().hidden, "the least recently seen is hidden");
    /// assert_eq!(book.mu_count().unwrap(), 1);
    /// ```
    pub fn set_mu_limit(&self, limit: Option<u64>) -> Result<()> {
        self.require(Permission::Owner, "change the MU limit")?;
        self.write(|tx| crate::mu::set_limit(tx, limit))
    }

    // ----- settings and log -----

    /// Sets the book's time zone by IANA name (R-FLT-12). Owners only. Names match
    /// without regard to ASCII case, as the tz database advises (`asia/seoul`), and the
    /// book keeps the database's spelling.
    ///
    /// ```
    /// use rolodex_core::ContactBook;
    /// let book = ContactBook::in_memory();
    /// book.set_time_zone("america/new_york").unwrap();
    /// assert_eq!(book.time_zone().unwrap().name(), "America/New_York");
    /// assert!(book.set_time_zone("Mars/Olympus_Mons").is_err());
    /// ```
    pub fn set_time_zone(&self, tz: &str) -> Result<()> {
        self.require(Permission::Owner, "change the time zone")?;
        let zone = tz
            .parse::<chrono_tz::Tz>()
            .ok()
            .or_else(|| {
                chrono_tz::TZ_VARIANTS
                    .iter()
                    .copied()
                    .find(|z| z.name().eq_ignore_ascii_case(tz))
            })
            .ok_or_else(|| {
                Error::validation(
                    Some(tz),
                    "an IANA time zone name such as Asia/Seoul",
                    "unknown time zone",
                )
            })?;
        self.write(|tx| {
            tx.settings.time_zone = zone.name().to_string();
            tx.op(Op::PutSettings(tx.settings.clone()));
            Ok(())
        })
    }

    /// The book's time zone.
    pub fn time_zone(&self) -> Result<chrono_tz::Tz> {
        Ok(self
            .shared
            .store
            .settings(&self.channel)?
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::UTC))
    }

    /// Sets the minimum interval between two protected exports by one manager (R-EXP-4):
    /// whole seconds, rounded up (an interval is never shorter than asked, and a sub-second
    /// one does not turn the limit off), at most [`MAX_EXPORT_INTERVAL_SECS`] (100 years);
    /// longer is a `Validation` error.
    pub fn set_export_interval(&self, interval: std::time::Duration) -> Result<()> {
        self.require(Permission::Owner, "change the export interval")?;
        // Whole seconds, a fraction rounding up; `Duration::MAX` does not wrap to 0.
        let secs = interval
            .as_secs()
            .saturating_add(u64::from(interval.subsec_nanos() > 0));
        if secs > MAX_EXPORT_INTERVAL_SECS {
            return Err(Error::Validation {
                key: Some("exportInterval".into()),
                text: Some(format!("{} seconds", interval.as_secs())),
                expected: "at most 100 years (3,155,760,000 seconds)".into(),
                message: "the export interval is too long".into(),
            });
        }
        self.write(|tx| {
            tx.settings.export_interval_secs = secs;
            tx.op(Op::PutSettings(tx.settings.clone()));
            Ok(())
        })
    }

    /// Activity log entries, newest first (R-EXP-5).
    pub fn activity_log(&self, query: &ActivityQuery) -> Result<Vec<ActivityEntry>> {
        self.shared.store.activity(&self.channel, query)
    }
}

/// The stored segment of this (NFC) name, or `NotFound`.
fn find_segment<'a>(
    segments: &'a [crate::store::SegmentRecord],
    name: &str,
) -> Result<&'a crate::store::SegmentRecord> {
    segments
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| no_segment(name))
}

fn no_segment(name: &str) -> Error {
    Error::not_found("segment", name, "save it first with save_segment")
}

/// `t` cut to its millisecond: the precision of a time's text form, which contacts keep
/// their times in.
fn to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(3)
}
