//! Helpers the integration tests share (`mod support;` in each test file). Each test file is
//! its own crate and uses some of them, so unused ones are allowed.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use rolodex::{Contact, ContactBook, ExportOptions, Filter, IdentifyBy, ImportOptions, Query};

/// A small seeded xorshift generator for the randomised tests: fixed seeds give
/// reproducible runs.
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() % 10_000) as f64 / 10_000.0 < p
    }
    /// One of `xs`.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// An instant from its RFC 3339 text.
pub fn t(s: &str) -> DateTime<Utc> {
    rolodex::value::parse_datetime(s).unwrap()
}

/// A new in-memory book whose clock stands at `s`.
pub fn book_at(s: &str) -> ContactBook {
    let b = ContactBook::in_memory();
    b.set_clock(Some(t(s))).unwrap();
    b
}

/// A leads import identified by email, with `autoMap`.
pub fn leads() -> ImportOptions {
    ImportOptions {
        auto_map: true,
        ..ImportOptions::leads(IdentifyBy::Email)
    }
}

/// Every stored contact, hidden and blocked included, in id order.
pub fn all(book: &ContactBook) -> Vec<Contact> {
    let mut out = Vec::new();
    book.store()
        .for_each(book.channel_name(), &mut |c| {
            out.push(c.clone());
            true
        })
        .unwrap();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// The text of an export.
pub fn export_text(book: &ContactBook, options: ExportOptions) -> String {
    let mut out = Vec::new();
    book.export_csv(&mut out, options).unwrap();
    String::from_utf8(out).unwrap()
}

/// A query from its JSON.
pub fn q(v: serde_json::Value) -> Query {
    Query::from_value(&v).unwrap()
}

/// A filter from its JSON.
pub fn f(v: serde_json::Value) -> Filter {
    Filter::from_value(&v).unwrap()
}

/// A store that keeps its data in a [`MemoryStore`] but takes every default method of the
/// [`Store`] trait (`state`, `is_counted`, `visit`, `for_each_view`,
/// `for_each_view_matching`): the defaults a new backend starts from, checked against the
/// memory store's own versions by running the same tests over both.
pub struct DefaultsStore(pub rolodex::MemoryStore);

/// A new book over a [`DefaultsStore`].
pub fn defaults_book() -> ContactBook {
    ContactBook::with_store(
        std::sync::Arc::new(DefaultsStore(rolodex::MemoryStore::new())),
        "default",
    )
}

mod defaults_store {
    use std::sync::Arc;

    use chrono::{DateTime, Utc};
    use rolodex::filter::{CompiledQuery, EvalCtx, Page};
    use rolodex::store::{
        Batch, ImportLock, Ledger, MergeRecord, PendingUnification, SegmentRecord, Settings,
    };
    use rolodex::{ActivityEntry, ActivityQuery, Contact, ContactState, Result, Schema, Store};

    use super::DefaultsStore;

    impl Store for DefaultsStore {
        fn backend(&self) -> &'static str {
            "memory-defaults"
        }
        fn next_seq(&self) -> Result<u64> {
            self.0.next_seq()
        }
        fn write_mutex(&self, channel: &str) -> Arc<parking_lot::Mutex<()>> {
            self.0.write_mutex(channel)
        }
        fn get(&self, channel: &str, id: &str) -> Result<Option<Contact>> {
            self.0.get(channel, id)
        }
        fn redirect(&self, channel: &str, id: &str) -> Result<Option<String>> {
            self.0.redirect(channel, id)
        }
        fn find_member(&self, channel: &str, member_id: &str) -> Result<Option<Contact>> {
            self.0.find_member(channel, member_id)
        }
        fn find_by_email(&self, channel: &str, email: &str) -> Result<Vec<Contact>> {
            self.0.find_by_email(channel, email)
        }
        fn find_by_mobile(&self, channel: &str, e164: &str) -> Result<Vec<Contact>> {
            self.0.find_by_mobile(channel, e164)
        }
        fn apply(&self, channel: &str, batch: &Batch) -> Result<()> {
            self.0.apply(channel, batch)
        }
        fn mu_count(&self, channel: &str) -> Result<u64> {
            self.0.mu_count(channel)
        }
        fn ledger(&self, channel: &str, which: Ledger, n: usize) -> Result<Vec<ContactState>> {
            self.0.ledger(channel, which, n)
        }
        fn search(&self, channel: &str, query: &CompiledQuery, ctx: &EvalCtx) -> Result<Page> {
            self.0.search(channel, query, ctx)
        }
        fn for_each(&self, channel: &str, f: &mut dyn FnMut(&Contact) -> bool) -> Result<()> {
            self.0.for_each(channel, f)
        }
        fn contact_count(&self, channel: &str) -> Result<u64> {
            self.0.contact_count(channel)
        }
        fn schema(&self, channel: &str) -> Result<Option<Arc<Schema>>> {
            self.0.schema(channel)
        }
        fn settings(&self, channel: &str) -> Result<Settings> {
            self.0.settings(channel)
        }
        fn segments(&self, channel: &str) -> Result<Vec<SegmentRecord>> {
            self.0.segments(channel)
        }
        fn merge_record(&self, channel: &str, merge_id: &str) -> Result<Option<MergeRecord>> {
            self.0.merge_record(channel, merge_id)
        }
        fn merges_of(&self, channel: &str, contact_id: &str) -> Result<Vec<MergeRecord>> {
            self.0.merges_of(channel, contact_id)
        }
        fn pending(
            &self,
            channel: &str,
            contact_id: Option<&str>,
        ) -> Result<Vec<PendingUnification>> {
            self.0.pending(channel, contact_id)
        }
        fn activity(&self, channel: &str, query: &ActivityQuery) -> Result<Vec<ActivityEntry>> {
            self.0.activity(channel, query)
        }
        fn export_time(
            &self,
            channel: &str,
            manager_id: Option<&str>,
        ) -> Result<Option<DateTime<Utc>>> {
            self.0.export_time(channel, manager_id)
        }
        fn try_lock_import(&self, channel: &str) -> Result<Option<Box<dyn ImportLock>>> {
            self.0.try_lock_import(channel)
        }
        fn running_import(&self, channel: &str) -> Result<Option<String>> {
            self.0.running_import(channel)
        }
    }
}

/// Imports `text` as a file named `file` (its import tag) from memory.
pub fn import_named(
    book: &ContactBook,
    file: &str,
    text: &str,
    mut o: ImportOptions,
) -> rolodex::Result<rolodex::ImportReport> {
    o.file_name = Some(file.to_string());
    book.import_csv(
        rolodex::ImportSource::reader(std::io::Cursor::new(text.as_bytes().to_vec())),
        o,
        None,
    )
}

/// Everything a denied or failed call must leave as it was: the contacts, MU, the pending
/// unifications, the activity log and the schema.
pub fn snapshot(book: &ContactBook) -> String {
    let contacts: Vec<_> = all(book).iter().map(Contact::to_json).collect();
    format!(
        "{}|{}|{:?}|{}|{:?}",
        serde_json::to_string(&contacts).unwrap(),
        book.mu_count().unwrap(),
        book.pending_unifications().unwrap(),
        book.activity_log(&rolodex::ActivityQuery::default())
            .unwrap()
            .len(),
        book.schema().unwrap(),
    )
}

/// Imports `text` as a file named `file` and returns the report and the failure log.
pub fn import_with_log(
    book: &ContactBook,
    file: &str,
    text: &str,
    mut options: ImportOptions,
) -> (rolodex::ImportReport, String) {
    options.file_name = Some(file.to_string());
    let mut log = Vec::new();
    let r = book
        .import_csv_with_log(
            rolodex::ImportSource::reader(std::io::Cursor::new(text.as_bytes().to_vec())),
            options,
            None,
            Some(&mut log),
        )
        .unwrap();
    (r, String::from_utf8(log).unwrap())
}

/// How a [`FailsOnce`] writer fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hiccup {
    /// An error (a connection dropped).
    Error,
    /// `Ok(0)`: it takes none of the bytes.
    Zero,
    /// `Interrupted`, which is no failure: the write is tried again.
    Interrupted,
}

/// A writer that takes `room` bytes, fails once as `how` says, then takes everything
/// again, keeping apart what it took after its failure.
pub struct FailsOnce {
    pub room: usize,
    pub how: Hiccup,
    pub failed: bool,
    pub before: Vec<u8>,
    pub after: Vec<u8>,
}

impl std::io::Write for FailsOnce {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.failed {
            self.after.extend_from_slice(buf);
            return Ok(buf.len());
        }
        if self.room == 0 {
            self.failed = true;
            return match self.how {
                Hiccup::Error => Err(std::io::Error::other("connection dropped")),
                Hiccup::Zero => Ok(0),
                Hiccup::Interrupted => Err(std::io::ErrorKind::Interrupted.into()),
            };
        }
        let n = buf.len().min(self.room);
        self.room -= n;
        self.before.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl FailsOnce {
    /// A writer that fails with an error once it has taken `room` bytes.
    pub fn after(room: usize) -> FailsOnce {
        FailsOnce::with(room, Hiccup::Error)
    }

    /// A writer that fails as `how` says once it has taken `room` bytes.
    pub fn with(room: usize, how: Hiccup) -> FailsOnce {
        FailsOnce {
            room,
            how,
            failed: false,
            before: Vec::new(),
            after: Vec::new(),
        }
    }

    /// Everything it took, before and after its failure.
    pub fn all(&self) -> Vec<u8> {
        [self.before.as_slice(), self.after.as_slice()].concat()
    }
}
