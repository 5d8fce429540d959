//! The storage trait's contract: a second backend written from the `Store` rustdoc alone
//! (`NaiveStore`: plain maps, the reference scan for searches) must give a book the same
//! behaviour as the memory store. Random sequences of public operations (adds, boots and
//! logins, edits, verification, blocks, deletes, merges and unmerges, tags, MU limits,
//! imports and dry runs, searches paged through, segments and audiences, exports, the
//! activity log, pending unifications, the clock moved both ways) run on a book over each
//! store; every result and the final state must agree. A difference is either the book
//! relying on something the trait does not promise, or a store not doing what it promises.
//! Also: two channels on one `NaiveStore` never see each other (the book scopes every call).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use rolodex::filter::{CompiledQuery, EvalCtx, Page};
use rolodex::store::{
    Batch, ImportLock, Ledger, MergeRecord, MergeState, Op, PendingUnification, SegmentRecord,
    Settings,
};
use rolodex::{
    search_scan, ActivityEntry, ActivityQuery, Boot, Contact, ContactBook, ContactState,
    ExportOptions, FieldType, Filter, IdentifyBy, ImportOptions, ImportSource, Medium, MemoryStore,
    NewLead, Query, Result, Schema, Store,
};
use serde_json::{json, Value as J};

mod support;
use support::Rng;

// ----- a store written from the trait's docs -----

#[derive(Default, Clone)]
struct Chan {
    /// By id: a map in id order, which `for_each` must walk in.
    contacts: BTreeMap<String, Contact>,
    redirects: HashMap<String, String>,
    aliases: HashMap<String, String>,
    schema: Option<Arc<Schema>>,
    settings: Option<Settings>,
    segments: BTreeMap<String, SegmentRecord>,
    merges: BTreeMap<String, MergeRecord>,
    /// By the order recorded (a pair recorded again moves to the end).
    pending: BTreeMap<u64, PendingUnification>,
    pending_next: u64,
    log: Vec<ActivityEntry>,
    export_times: HashMap<Option<String>, DateTime<Utc>>,
}

#[derive(Default)]
struct NaiveStore {
    chans: Mutex<HashMap<String, Chan>>,
    seq: Mutex<u64>,
    mutexes: Mutex<HashMap<String, Arc<parking_lot::Mutex<()>>>>,
    locks: Arc<Mutex<HashMap<String, Option<String>>>>,
}

impl NaiveStore {
    fn read<T>(&self, ch: &str, f: impl FnOnce(&Chan) -> T) -> T {
        let g = self.chans.lock().unwrap();
        match g.get(ch) {
            Some(c) => f(c),
            None => f(&Chan::default()),
        }
    }
}

struct Lock {
    locks: Arc<Mutex<HashMap<String, Option<String>>>>,
    channel: String,
}

impl ImportLock for Lock {
    fn set_tag(&mut self, tag: &str) {
        self.locks
            .lock()
            .unwrap()
            .insert(self.channel.clone(), Some(tag.to_string()));
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        self.locks.lock().unwrap().remove(&self.channel);
    }
}

impl Store for NaiveStore {
    fn backend(&self) -> &'static str {
        "naive"
    }
    fn next_seq(&self) -> Result<u64> {
        let mut s = self.seq.lock().unwrap();
        *s += 1;
        Ok(*s)
    }
    fn write_mutex(&self, channel: &str) -> Arc<parking_lot::Mutex<()>> {
        self.mutexes
            .lock()
            .unwrap()
            .entry(channel.to_string())
            .or_default()
            .clone()
    }
    fn get(&self, ch: &str, id: &str) -> Result<Option<Contact>> {
        Ok(self.read(ch, |c| c.contacts.get(id).cloned()))
    }
    fn redirect(&self, ch: &str, id: &str) -> Result<Option<String>> {
        Ok(self.read(ch, |c| c.redirects.get(id).cloned()))
    }
    fn find_member(&self, ch: &str, member_id: &str) -> Result<Option<Contact>> {
        Ok(self.read(ch, |c| {
            let holder = c
                .contacts
                .values()
                .find(|x| x.member_id.as_deref() == Some(member_id));
            if let Some(x) = holder {
                return Some(x.clone());
            }
            let mut id = c.aliases.get(member_id)?.clone();
            for _ in 0..=c.redirects.len() {
                if let Some(x) = c.contacts.get(&id) {
                    return Some(x.clone());
                }
                id = c.redirects.get(&id)?.clone();
            }
            None
        }))
    }
    fn find_by_email(&self, ch: &str, email: &str) -> Result<Vec<Contact>> {
        let k = rolodex::identity::email_key(email);
        Ok(self.read(ch, |c| {
            // Newest first: "in any order".
            c.contacts
                .values()
                .rev()
                .filter(|x| {
                    x.email()
                        .is_some_and(|e| rolodex::identity::email_key(e) == k)
                })
                .cloned()
                .collect()
        }))
    }
    fn find_by_mobile(&self, ch: &str, e164: &str) -> Result<Vec<Contact>> {
        Ok(self.read(ch, |c| {
            c.contacts
                .values()
                .rev()
                .filter(|x| x.mobile_number() == Some(e164))
                .cloned()
                .collect()
        }))
    }
    fn apply(&self, ch: &str, batch: &Batch) -> Result<()> {
        let mut g = self.chans.lock().unwrap();
        // Whole or not at all: the ops go to a copy, which replaces the channel at the end.
        let mut c = g.get(ch).cloned().unwrap_or_default();
        for op in &batch.ops {
            match op {
                Op::PutContact(x) => {
                    c.contacts.insert(x.id.clone(), (**x).clone());
                }
                Op::DeleteContact(id) => {
                    c.contacts.remove(id);
                }
                Op::Touch(s) => {
                    if let Some(x) = c.contacts.get_mut(&s.id) {
                        s.apply_to(x);
                    }
                }
                Op::Redirect(from, to) => match to {
                    Some(t) => {
                        c.redirects.insert(from.clone(), t.clone());
                    }
                    None => {
                        c.redirects.remove(from);
                    }
                },
                Op::MemberAlias(m, to) => match to {
                    Some(t) => {
                        c.aliases.insert(m.clone(), t.clone());
                    }
                    None => {
                        c.aliases.remove(m);
                    }
                },
                Op::PutSchema(s) => c.schema = Some(s.clone()),
                Op::PutSettings(s) => c.settings = Some(s.clone()),
                Op::PutSegment(s) => {
                    c.segments.insert(s.name.clone(), s.clone());
                }
                Op::DeleteSegment(n) => {
                    c.segments.remove(n);
                }
                Op::PutMerge(m) => {
                    c.merges.insert(m.id.clone(), (**m).clone());
                }
                Op::PutPending(p) => {
                    c.pending
                        .retain(|_, q| !(q.lead_id == p.lead_id && q.member_id == p.member_id));
                    c.pending_next += 1;
                    c.pending.insert(c.pending_next, p.clone());
                }
                Op::DeletePending(l, m) => {
                    c.pending
                        .retain(|_, q| !(q.lead_id == *l && q.member_id == *m));
                }
                Op::Log(e) => c.log.push(e.clone()),
                Op::PutExportTime(m, t) => match t {
                    Some(t) => {
                        c.export_times.insert(m.clone(), *t);
                    }
                    None => {
                        c.export_times.remove(m);
                    }
                },
            }
        }
        g.insert(ch.to_string(), c);
        Ok(())
    }
    fn mu_count(&self, ch: &str) -> Result<u64> {
        Ok(self.read(ch, |c| {
            c.contacts.values().filter(|x| x.counts_for_mu()).count() as u64
        }))
    }
    fn ledger(&self, ch: &str, which: Ledger, n: usize) -> Result<Vec<ContactState>> {
        Ok(self.read(ch, |c| {
            let mut v: Vec<ContactState> = c.contacts.values().map(ContactState::of).collect();
            match which {
                Ledger::OldestVisible => {
                    v.retain(|s| !s.hidden && !s.blocked && s.has_contact_info);
                    v.sort_by(|a, b| a.ledger_key().cmp(&b.ledger_key()));
                }
                Ledger::NewestHidden => {
                    v.retain(|s| s.hidden && !s.blocked);
                    v.sort_by(|a, b| b.ledger_key().cmp(&a.ledger_key()));
                }
            }
            v.truncate(n);
            v
        }))
    }
    fn search(&self, ch: &str, q: &CompiledQuery, ctx: &EvalCtx) -> Result<Page> {
        Ok(self.read(ch, |c| search_scan(c.contacts.values(), q, ctx)))
    }
    fn for_each(&self, ch: &str, f: &mut dyn FnMut(&Contact) -> bool) -> Result<()> {
        let all: Vec<Contact> = self.read(ch, |c| c.contacts.values().cloned().collect());
        for x in &all {
            if !f(x) {
                break;
            }
        }
        Ok(())
    }
    fn contact_count(&self, ch: &str) -> Result<u64> {
        Ok(self.read(ch, |c| c.contacts.len() as u64))
    }
    fn schema(&self, ch: &str) -> Result<Option<Arc<Schema>>> {
        Ok(self.read(ch, |c| c.schema.clone()))
    }
    fn settings(&self, ch: &str) -> Result<Settings> {
        Ok(self.read(ch, |c| c.settings.clone().unwrap_or_default()))
    }
    fn segments(&self, ch: &str) -> Result<Vec<SegmentRecord>> {
        Ok(self.read(ch, |c| c.segments.values().cloned().collect()))
    }
    fn merge_record(&self, ch: &str, id: &str) -> Result<Option<MergeRecord>> {
        Ok(self.read(ch, |c| c.merges.get(id).cloned()))
    }
    fn merges_of(&self, ch: &str, id: &str) -> Result<Vec<MergeRecord>> {
        Ok(self.read(ch, |c| {
            c.merges
                .values()
                .filter(|m| m.survivor_id == id || m.secondary_id == id)
                .filter(|m| matches!(m.state, MergeState::Active { .. }))
                .cloned()
                .collect()
        }))
    }
    fn pending(&self, ch: &str, id: Option<&str>) -> Result<Vec<PendingUnification>> {
        Ok(self.read(ch, |c| {
            c.pending
                .values()
                .filter(|p| id.is_none_or(|i| p.lead_id == i || p.member_id == i))
                .cloned()
                .collect()
        }))
    }
    fn activity(&self, ch: &str, q: &ActivityQuery) -> Result<Vec<ActivityEntry>> {
        Ok(self.read(ch, |c| {
            c.log
                .iter()
                .rev()
                .filter(|e| q.matches(e))
                .take(q.limit.unwrap_or(usize::MAX))
                .cloned()
                .collect()
        }))
    }
    fn export_time(&self, ch: &str, m: Option<&str>) -> Result<Option<DateTime<Utc>>> {
        Ok(self.read(ch, |c| c.export_times.get(&m.map(str::to_string)).copied()))
    }
    fn try_lock_import(&self, ch: &str) -> Result<Option<Box<dyn ImportLock>>> {
        let mut l = self.locks.lock().unwrap();
        if l.contains_key(ch) {
            return Ok(None);
        }
        l.insert(ch.to_string(), None);
        Ok(Some(Box::new(Lock {
            locks: self.locks.clone(),
            channel: ch.to_string(),
        })))
    }
    fn running_import(&self, ch: &str) -> Result<Option<String>> {
        Ok(self.locks.lock().unwrap().get(ch).cloned().flatten())
    }
}

// ----- the random sequences -----

const EMAILS: &[&str] = &["a@x.com", "A@X.com", "b@x.com", "c@y.org", "kim@x.com"];
const MOBILES: &[&str] = &[
    "+821020203030",
    "+821011112222",
    "+82 010-2020-3030",
    "+14155550101",
];
const MEMBERS: &[&str] = &["m1", "m2", "m3", "m4"];
const NAMES: &[&str] = &["Kim", "Lee", "kim lee", "Park"];
const TAGS: &[&str] = &["vip", "vip/gold", "basic", "Basic/l1"];

fn filters() -> Vec<J> {
    vec![
        json!({}),
        json!({"key": "member", "op": "eq", "value": true}),
        json!({"key": "tags", "op": "containsAny", "value": ["vip"]}),
        json!({"key": "profile.email", "op": "exists"}),
        json!({"key": "profile.name", "op": "contains", "value": "kim"}),
        json!({"not": {"key": "profile.mobileNumber", "op": "exists"}}),
        json!({"key": "sessionCount", "op": "gte", "value": 1}),
        json!({"key": "lastSeenAt", "op": "withinLast", "value": "PT2H"}),
    ]
}

/// The two books and what the sequence has seen of them.
struct Pair {
    memory: ContactBook,
    naive: ContactBook,
    /// Ids seen in results, for later steps to name.
    seen: Vec<String>,
    /// Merge ids of both books, side by side.
    merges: Vec<(String, String)>,
    /// The steps so far, for the failure message.
    log: Vec<String>,
    now: DateTime<Utc>,
}

impl Pair {
    /// Compares the two results by their debug text (which names every field).
    fn agree<T: std::fmt::Debug>(
        &mut self,
        what: &str,
        m: T,
        n: T,
    ) -> std::result::Result<(), String> {
        let (sm, sn) = (format!("{m:?}"), format!("{n:?}"));
        self.note_ids(&sm);
        self.log.push(format!("{what} -> {}", cut(&sm)));
        if sm != sn {
            return Err(format!(
                "{}\nDIFF at {what}\n  memory: {sm}\n  naive:  {sn}",
                self.log.join("\n")
            ));
        }
        Ok(())
    }

    fn note_ids(&mut self, s: &str) {
        let mut rest = s;
        while let Some(p) = rest.find("\"c_") {
            let tail = &rest[p + 1..];
            let end = tail.find('"').unwrap_or(tail.len());
            let id = &tail[..end];
            if !self.seen.iter().any(|x| x == id) {
                self.seen.push(id.to_string());
            }
            rest = &tail[end..];
        }
    }
}

fn cut(s: &str) -> String {
    s.chars().take(160).collect()
}

fn lead(r: &mut Rng) -> NewLead {
    let mut l = if r.chance(0.6) {
        NewLead::email(*r.pick(EMAILS))
    } else {
        NewLead::mobile(*r.pick(MOBILES))
    };
    if r.chance(0.3) {
        l.mobile_number = Some(r.pick(MOBILES).to_string());
    }
    if r.chance(0.5) {
        l = l.with_name(*r.pick(NAMES));
    }
    l
}

fn csv_import(r: &mut Rng) -> (String, ImportOptions) {
    let members = r.chance(0.5);
    let mut text = String::new();
    let mut o = if members {
        text.push_str("memberId,email,mobile,name,ue,ut\n");
        ImportOptions::members().map("memberId", Some("memberId"))
    } else {
        text.push_str("email,mobile,name,ue,ut\n");
        if r.chance(0.5) {
            ImportOptions::leads(IdentifyBy::Email)
        } else {
            ImportOptions::leads(IdentifyBy::MobileNumber)
        }
    };
    o = o
        .map("email", Some("profile.email"))
        .map("mobile", Some("profile.mobileNumber"))
        .map("name", Some("profile.name"))
        .map("ue", Some("unsubscribeEmail"))
        .map("ut", Some("unsubscribeTexting"));
    for _ in 0..1 + r.below(3) {
        if members {
            let member: &&str = r.pick(MEMBERS);
            text.push_str(member);
            text.push(',');
        }
        let e = if r.chance(0.7) { *r.pick(EMAILS) } else { "" };
        let m = if r.chance(0.4) { *r.pick(MOBILES) } else { "" };
        let ue = if r.chance(0.9) { "false" } else { "" };
        let ut = if r.chance(0.5) { "true" } else { "false" };
        text.push_str(&format!("{e},\"{m}\",{},{ue},{ut}\n", r.pick(NAMES)));
    }
    o.dry_run = r.chance(0.15);
    o.file_name = Some(format!("f{}.csv", r.below(3)));
    (text, o)
}

/// One random step on both books.
fn step(p: &mut Pair, r: &mut Rng) -> std::result::Result<(), String> {
    let mut ids = p.seen.clone();
    ids.push("c_nope".into());
    let id = r.pick(&ids).clone();
    let id2 = r.pick(&ids).clone();
    macro_rules! both {
        ($what:expr, |$b:ident| $e:expr) => {{
            let m = {
                let $b = &p.memory;
                $e
            };
            let n = {
                let $b = &p.naive;
                $e
            };
            let what: String = $what.into();
            p.agree(&what, m, n)?;
        }};
    }
    match r.below(30) {
        0 => {
            // Mostly forward; sometimes back, as a pinned clock may be moved.
            let minutes = *r.pick(&[1, 10, 45, 200, -30]);
            p.now += Duration::minutes(minutes);
            p.memory.set_clock(Some(p.now)).unwrap();
            p.naive.set_clock(Some(p.now)).unwrap();
            p.log.push(format!("clock {}", p.now));
        }
        1 => {
            let (key, ft) = *r.pick(&[
                ("profile.city", FieldType::String),
                ("profile.score", FieldType::Number),
                ("profile.city", FieldType::Number),
            ]);
            both!(format!("define_key {key}"), |b| b.define_key(key, ft));
        }
        2 | 3 => {
            let l = lead(r);
            both!(format!("add_lead {l:?}"), |b| b.add_lead(l.clone()));
        }
        4..=6 => {
            let mut boot = Boot::default();
            if r.chance(0.7) {
                boot.contact_id = Some(id.clone());
            }
            if r.chance(0.4) {
                boot.member_id = Some(r.pick(MEMBERS).to_string());
            }
            if r.chance(0.4) {
                boot.profile.insert("email".into(), json!(r.pick(EMAILS)));
            }
            if r.chance(0.25) {
                boot.profile
                    .insert("mobileNumber".into(), json!(r.pick(MOBILES)));
            }
            both!(format!("boot {boot:?}"), |b| b.boot(boot.clone()));
        }
        7 => {
            let patch = match r.below(5) {
                0 => json!({"profile": {"email": r.pick(EMAILS)}}),
                1 => json!({"profile": {"mobileNumber": r.pick(MOBILES)}}),
                2 => json!({"profile": {"email": null}}),
                3 => json!({"profile": {"city": "Seoul", "name": r.pick(NAMES)}}),
                _ => json!({"memberId": r.pick(MEMBERS)}),
            };
            both!(format!("update {id} {patch}"), |b| b.update(&id, &patch));
        }
        8 => {
            let field = *r.pick(&["profile.email", "profile.mobileNumber"]);
            both!(format!("verify {id} {field}"), |b| b.verify(&id, field));
        }
        9 => {
            if r.chance(0.7) {
                both!(format!("block {id}"), |b| b.block(vec![id.clone()]));
            } else {
                let f = Filter::from_value(r.pick(&filters())).unwrap();
                both!(format!("block {f:?}"), |b| b.block(f.clone()));
            }
        }
        10 => {
            if r.chance(0.7) {
                both!(format!("unblock {id}"), |b| b.unblock(vec![id.clone()]));
            } else {
                both!("unblock all", |b| b.unblock(Filter::default()));
            }
        }
        11 => {
            if r.chance(0.6) {
                both!(format!("delete {id}"), |b| b.delete(vec![id.clone()]));
            } else {
                let m = *r.pick(MEMBERS);
                both!(format!("delete_by_member_id {m}"), |b| b
                    .delete_by_member_id(m));
            }
        }
        12 | 13 => {
            let choices = if r.chance(0.3) {
                serde_json::from_value(json!({"profile.email": "secondary"})).unwrap()
            } else {
                Default::default()
            };
            let m = p.memory.merge(&id, &id2, &choices);
            let n = p.naive.merge(&id, &id2, &choices);
            if let (Ok(x), Ok(y)) = (&m, &n) {
                p.merges.push((x.merge_id.clone(), y.merge_id.clone()));
            }
            p.agree(&format!("merge {id} {id2}"), m, n)?;
        }
        14 => {
            if p.merges.is_empty() {
                return Ok(());
            }
            let (mm, mn) = r.pick(&p.merges).clone();
            let m = p.memory.unmerge(&mm);
            let n = p.naive.unmerge(&mn);
            p.agree(&format!("unmerge {mm}"), m, n)?;
        }
        15 => {
            let tags = vec![r.pick(TAGS).to_string()];
            if r.chance(0.6) {
                both!(format!("add_tags {id} {tags:?}"), |b| b
                    .add_tags(vec![id.clone()], &tags));
            } else {
                let f = Filter::from_value(r.pick(&filters())).unwrap();
                both!(format!("add_tags {f:?} {tags:?}"), |b| b
                    .add_tags(f.clone(), &tags));
            }
        }
        16 => {
            let tags = vec![r.pick(TAGS).to_string()];
            both!(format!("remove_tags {id} {tags:?}"), |b| b
                .remove_tags(vec![id.clone()], &tags));
        }
        17 => {
            let limit = if r.chance(0.25) {
                None
            } else {
                Some(r.below(5) as u64)
            };
            both!(format!("set_mu_limit {limit:?}"), |b| b.set_mu_limit(limit));
        }
        18 | 19 => {
            let (text, o) = csv_import(r);
            both!(format!("import {o:?} {text:?}"), |b| b.import_csv(
                ImportSource::reader(std::io::Cursor::new(text.clone())),
                o.clone(),
                None
            ));
        }
        20 | 21 => {
            let mut q = json!({});
            if r.chance(0.6) {
                q["filter"] = r.pick(&filters()).clone();
            }
            if r.chance(0.5) {
                let key = *r.pick(&[
                    "lastSeenAt",
                    "createdAt",
                    "profile.name",
                    "id",
                    "sessionCount",
                    "profile.email",
                ]);
                let order = *r.pick(&["asc", "desc"]);
                q["sort"] = json!([{"key": key, "order": order}]);
            }
            q["limit"] = json!(1 + r.below(3));
            q["include"] = json!(*r.pick(&["visible", "blocked", "hidden"]));
            if r.chance(0.2) {
                q["search"] = json!(*r.pick(&["kim", "010", "x.com", "2020"]));
            }
            if r.chance(0.15) {
                q["terms"] = json!("a@x.com, +821020203030 nobody@z.com");
            }
            let q = Query::from_value(&q).unwrap();
            // Every page, each book following its own cursor.
            let (mut qm, mut qn) = (q.clone(), q.clone());
            for _ in 0..10 {
                let m = p.memory.search(&qm);
                let n = p.naive.search(&qn);
                let cursors = (
                    m.as_ref().ok().and_then(|x| x.next_cursor.clone()),
                    n.as_ref().ok().and_then(|x| x.next_cursor.clone()),
                );
                p.agree(&format!("search {q:?}"), m, n)?;
                match cursors {
                    (Some(a), Some(b)) => {
                        qm.cursor = Some(a);
                        qn.cursor = Some(b);
                    }
                    _ => break,
                }
            }
        }
        22 => {
            let name = *r.pick(&["s1", "s2"]);
            let f = Filter::from_value(r.pick(&filters())).unwrap();
            match r.below(4) {
                0 => both!(format!("save_segment {name}"), |b| b.save_segment(name, &f)),
                1 => both!(format!("delete_segment {name}"), |b| b.delete_segment(name)),
                2 => both!(format!("run_segment {name}"), |b| b
                    .run_segment(name, &Query::default())),
                _ => {
                    let medium = *r.pick(&[Medium::Email, Medium::Texting]);
                    both!(format!("audience {name}"), |b| b.audience(name, medium));
                }
            }
            both!("segments", |b| b.segments());
        }
        23 => both!("pending", |b| b.pending_unifications()),
        24 => {
            let q = ActivityQuery {
                limit: Some(1 + r.below(6)),
                action: r.chance(0.3).then(|| "merge".to_string()),
                ..Default::default()
            };
            both!("activity", |b| b.activity_log(&q));
        }
        25 => {
            let mut o = ExportOptions::default();
            match r.below(3) {
                0 => {}
                1 => o.filter = Some(rolodex::Filter::from_value(r.pick(&filters())).unwrap()),
                _ => o.ids = Some(vec![id.clone(), id2.clone()]),
            }
            o.editable_only = r.chance(0.3);
            both!(format!("export {o:?}"), |b| {
                let mut out = Vec::new();
                let summary = b.export_csv(&mut out, o.clone());
                (summary, String::from_utf8(out).unwrap())
            });
        }
        26 => both!(format!("get {id}"), |b| b.get(&id)),
        27 => both!("blocked", |b| b.blocked()),
        28 => both!("mu_count", |b| b.mu_count()),
        _ => {
            let medium = *r.pick(&[Medium::Email, Medium::Texting]);
            both!(format!("set_opt_out {id}"), |b| b.set_opt_out(
                vec![id.clone()],
                medium,
                true
            ));
        }
    }
    Ok(())
}

/// Every stored contact, in the store's own `for_each` order (id order, by its docs).
fn stored(b: &ContactBook) -> Vec<Contact> {
    let mut out = Vec::new();
    b.store()
        .for_each(b.channel_name(), &mut |c| {
            out.push(c.clone());
            true
        })
        .unwrap();
    out
}

fn run(seed: u64, steps: usize) -> std::result::Result<(), String> {
    let now: DateTime<Utc> = "2025-06-01T00:00:00Z".parse().unwrap();
    let memory = ContactBook::with_store(Arc::new(MemoryStore::new()), "default");
    let naive = ContactBook::with_store(Arc::new(NaiveStore::default()), "default");
    memory.set_clock(Some(now)).unwrap();
    naive.set_clock(Some(now)).unwrap();
    let mut p = Pair {
        memory,
        naive,
        seen: Vec::new(),
        merges: Vec::new(),
        log: vec![format!("seed {seed}")],
        now,
    };
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    for _ in 0..steps {
        step(&mut p, &mut r)?;
    }
    let (m, n) = (stored(&p.memory), stored(&p.naive));
    assert!(
        m.windows(2).all(|w| w[0].id < w[1].id),
        "for_each walks in id order"
    );
    p.agree("final contacts", m, n)?;
    let (m, n) = (p.memory.mu_count(), p.naive.mu_count());
    p.agree("final mu", m, n)?;
    let q = ActivityQuery::default();
    let (m, n) = (p.memory.activity_log(&q), p.naive.activity_log(&q));
    p.agree("final log", m, n)?;
    let (m, n) = (
        p.memory.pending_unifications(),
        p.naive.pending_unifications(),
    );
    p.agree("final pending", m, n)?;
    let (m, n) = (
        p.memory.store().pending("default", None),
        p.naive.store().pending("default", None),
    );
    p.agree("final stored pending", m, n)
}

#[test]
fn store_contract_a_store_written_from_the_trait_docs_gives_the_same_book() {
    for seed in 1..=300 {
        if let Err(e) = run(seed, 80) {
            panic!("{e}");
        }
    }
}

/// R-EXP-1 with `Store::for_each`: an export of every visible contact is in id order, as
/// one of a filter's matches is, also after a deleted contact's row was reused.
#[test]
fn store_contract_an_export_of_every_contact_is_in_id_order() {
    for book in [
        ContactBook::in_memory(),
        ContactBook::with_store(Arc::new(NaiveStore::default()), "default"),
    ] {
        for e in ["a@x.com", "b@x.com", "c@x.com"] {
            book.add_lead(NewLead::email(e)).unwrap();
        }
        book.delete(vec!["c_000000000002".to_string()]).unwrap();
        book.add_lead(NewLead::email("d@x.com")).unwrap();
        let ids = |o: ExportOptions| -> Vec<String> {
            let mut out = Vec::new();
            book.export_csv(&mut out, o).unwrap();
            String::from_utf8(out)
                .unwrap()
                .lines()
                .skip(1)
                .map(|l| l.split(',').next().unwrap().to_string())
                .collect()
        };
        let want = ["c_000000000001", "c_000000000003", "c_000000000004"];
        assert_eq!(
            ids(ExportOptions::default()),
            want,
            "{}",
            book.store().backend()
        );
        let filtered = ExportOptions {
            filter: Some(rolodex::Filter::from_value(&json!({})).unwrap()),
            ..ExportOptions::default()
        };
        assert_eq!(ids(filtered), want, "{}", book.store().backend());
    }
}

/// R-CON-3 with `Op::Touch`: the last boot time is part of what a touch writes. A merge
/// gives the survivor a later `lastSeenAt` from a lead that never booted; the survivor's
/// next boots count their session window from its own last boot, on either store.
#[test]
fn store_contract_a_touch_writes_the_last_boot_time() {
    for store in [
        Arc::new(MemoryStore::new()) as Arc<dyn Store>,
        Arc::new(NaiveStore::default()),
    ] {
        let book = ContactBook::with_store(store, "default");
        let t0: DateTime<Utc> = "2025-06-01T00:00:00Z".parse().unwrap();
        let at = |m: i64| book.set_clock(Some(t0 + Duration::minutes(m))).unwrap();
        at(0);
        let a = book.boot(Boot::default()).unwrap();
        at(35);
        let lead = book.add_lead(NewLead::email("l@x.com")).unwrap();
        book.merge(&a.id, &lead.id, &Default::default()).unwrap();
        let boot = || {
            book.boot(Boot {
                contact_id: Some(a.id.clone()),
                ..Boot::default()
            })
            .unwrap()
            .session_count
        };
        at(40);
        assert_eq!(boot(), 2, "40 minutes after the last boot: a new session");
        at(50);
        assert_eq!(
            boot(),
            2,
            "10 minutes after the last boot: the same session"
        );
    }
}

/// R-CON-7/R-CON-5: every call is scoped to its channel; two channels on one store never
/// see each other's contacts, segments, MU, log or import lock.
#[test]
fn store_contract_channels_on_one_store_never_see_each_other() {
    let store = Arc::new(NaiveStore::default());
    let one = ContactBook::with_store(store.clone(), "one");
    let two = ContactBook::with_store(store, "two");
    let lead = one.add_lead(NewLead::email("a@x.com")).unwrap();
    one.save_segment("s", &Filter::default()).unwrap();
    one.set_mu_limit(Some(5)).unwrap();
    assert!(matches!(two.get(&lead.id), Err(e) if e.kind() == rolodex::ErrorKind::NotFound));
    assert_eq!(two.mu_count().unwrap(), 0);
    assert!(two.segments().unwrap().is_empty());
    assert!(two
        .activity_log(&ActivityQuery::default())
        .unwrap()
        .is_empty());
    assert_eq!(two.search(&Query::default()).unwrap().total, 0);
    // The same email is a new lead in the other channel, not AlreadyExists.
    let other = two.add_lead(NewLead::email("a@x.com")).unwrap();
    assert_ne!(other.id, lead.id);
    assert_eq!(one.mu_count().unwrap(), 1);
    assert_eq!(stored(&one).len(), 1);
}
