//! Merge and exact unmerge of two contacts (R-CON-8), and the combining of a lead into a
//! member that unification shares with it (R-UNI-3).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::access::ActivityQuery;
use crate::contact::Contact;
use crate::error::{Error, Result};
use crate::schema::check_profile_limits;
use crate::store::{MergeRecord, MergeState, Op};
use crate::tx::Tx;
use crate::value::{append_new, Value};

/// Which side's value survives a merge for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Side {
    /// The primary's (the survivor's) value.
    Primary,
    /// The secondary's value.
    Secondary,
}

/// Merge choices: for each key (`profile.name`, `tags`, `unsubscribeEmail`, ...), which
/// side's value survives. Unnamed keys keep the primary's value where it has one, else the
/// secondary's; lists and tags are unioned; an opt-out `true` on either side stays `true`.
pub type MergeChoices = BTreeMap<String, Side>;

/// What `merge` returns: the survivor and the merge's id (for `unmerge`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergeResult {
    /// The survivor after the merge.
    pub contact: Contact,
    /// The id to pass to `unmerge`.
    pub merge_id: String,
}

const MAX_IMPORT_TAGS: usize = 30;

fn union_strings(a: &[String], b: &[String]) -> Vec<String> {
    let mut out = a.to_vec();
    append_new(&mut out, b);
    out
}

/// Keeps the newest 30 import tags (R-IMP-9), oldest first.
pub(crate) fn cap_import_tags(tags: &mut Vec<String>) {
    if tags.len() > MAX_IMPORT_TAGS {
        tags.drain(..tags.len() - MAX_IMPORT_TAGS);
    }
}

/// Combines `secondary` into `primary` (R-CON-8, R-UNI-3): a manager's merge gives its
/// `choices`, which may name keys whose value comes from one side; a unification gives
/// `None`. Returns the survivor (with the primary's id) or a
/// `Validation` error when the union breaks a limit of R-SCH-7. The import tags are ordered
/// by the imports that applied them, which `tx` reads (`newest_import_tags`).
pub(crate) fn combine(
    tx: &Tx,
    primary: &Contact,
    secondary: &Contact,
    choices: Option<&MergeChoices>,
) -> Result<Contact> {
    let mut out = primary.clone();
    let chosen = |key: &str| choices.and_then(|c| c.get(key)).copied();

    let names: BTreeSet<&String> = primary
        .profile
        .keys()
        .chain(secondary.profile.keys())
        .collect();
    let mut profile = BTreeMap::new();
    for name in names {
        let key = format!("profile.{name}");
        let p = primary.profile.get(name);
        let s = secondary.profile.get(name);
        let v = match (chosen(&key), p, s) {
            (Some(Side::Primary), p, _) => p.cloned(),
            (Some(Side::Secondary), _, s) => s.cloned(),
            (None, Some(p), Some(s)) => p.union(s).or_else(|| Some(p.clone())),
            (None, Some(p), None) => Some(p.clone()),
            (None, None, s) => s.cloned(),
        };
        if let Some(v) = v {
            let items = match &v {
                Value::List(items) | Value::Tag(items) => Some(items.len()),
                Value::ListOfNumber(items) => Some(items.len()),
                _ => None,
            };
            if let Some(items) = items {
                if items > crate::schema::MAX_LIST_ITEMS {
                    // What a manager's merge can do instead: choose a side for the key, which
                    // an archived key takes only once restored (R-SCH-5). A unification
                    // (no choices) says what to do itself.
                    let todo = if choices.is_none() {
                        ""
                    } else if tx.schema.get(&key).is_some_and(|d| d.archived) {
                        "; the key is archived: restore it, merge choosing one side's list for it (or shorten a list), then archive it again"
                    } else {
                        "; choose one side's list for this key, or shorten a list first"
                    };
                    return Err(Error::Validation {
                        key: Some(key),
                        text: None,
                        expected: format!("at most {} items", crate::schema::MAX_LIST_ITEMS),
                        message: format!("the merged list would have {items} items{todo}"),
                    });
                }
            }
            profile.insert(name.clone(), v);
        }
    }
    check_profile_limits(&profile)?;
    out.profile = profile.into();

    // Verification follows the side the surviving value came from.
    let from = |field: &str, pv: Option<&str>, sv: Option<&str>| -> Side {
        match chosen(field) {
            Some(side) => side,
            None if pv.is_some() => Side::Primary,
            None if sv.is_some() => Side::Secondary,
            None => Side::Primary,
        }
    };
    // A value both sides hold is verified when either side verified it: unverified input
    // never overwrites verified info (R-CON-2), and equal values are no conflict.
    let same_email = matches!((primary.email(), secondary.email()),
        (Some(a), Some(b)) if crate::identity::email_key_cow(a) == crate::identity::email_key_cow(b));
    let same_mobile = matches!((primary.mobile_number(), secondary.mobile_number()),
        (Some(a), Some(b)) if a == b);
    out.verified.email = (match from("profile.email", primary.email(), secondary.email()) {
        Side::Primary => primary.verified.email,
        Side::Secondary => secondary.verified.email,
    } || (same_email
        && (primary.verified.email || secondary.verified.email)))
        && out.email().is_some();
    out.verified.mobile_number = (match from(
        "profile.mobileNumber",
        primary.mobile_number(),
        secondary.mobile_number(),
    ) {
        Side::Primary => primary.verified.mobile_number,
        Side::Secondary => secondary.verified.mobile_number,
    } || (same_mobile
        && (primary.verified.mobile_number || secondary.verified.mobile_number)))
        && out.mobile_number().is_some();

    // Two members: the primary's memberId survives (the secondary's is aliased by the caller).
    out.member_id = primary
        .member_id
        .clone()
        .or_else(|| secondary.member_id.clone());
    out.member = out.member_id.is_some();

    out.tags = match chosen("tags") {
        Some(Side::Primary) => primary.tags.clone(),
        Some(Side::Secondary) => secondary.tags.clone(),
        None => union_strings(&primary.tags, &secondary.tags),
    };
    if out.tags.len() > crate::schema::MAX_LIST_ITEMS {
        let todo = if choices.is_some() {
            "; choose one side's tags, or remove some tags first"
        } else {
            ""
        };
        return Err(Error::invalid_key(
            "tags",
            format!("at most {} tags", crate::schema::MAX_LIST_ITEMS),
            format!("the merged tags would be {}{todo}", out.tags.len()),
        ));
    }
    out.user_import_tags = newest_import_tags(tx, primary, secondary)?;

    let opt = |key: &str, p: Option<bool>, s: Option<bool>| match chosen(key) {
        Some(Side::Primary) => p,
        Some(Side::Secondary) => s,
        None if p == Some(true) || s == Some(true) => Some(true),
        None => p.or(s),
    };
    out.unsubscribe_email = opt(
        "unsubscribeEmail",
        primary.unsubscribe_email,
        secondary.unsubscribe_email,
    );
    out.unsubscribe_texting = opt(
        "unsubscribeTexting",
        primary.unsubscribe_texting,
        secondary.unsubscribe_texting,
    );

    out.created_at = primary.created_at.min(secondary.created_at);
    out.last_seen_at = primary.last_seen_at.max(secondary.last_seen_at);
    out.session_count = primary.session_count + secondary.session_count;
    out.booted = primary.booted || secondary.booted;
    out.updated_at = tx.now;
    settle_last_boot(&mut out, primary, secondary);
    Ok(out)
}

/// The last boot of a contact made of `a` and `b` (R-CON-3 counts a session window from
/// it): the later of their last boots, kept apart only where it is not `lastSeenAt`.
pub(crate) fn settle_last_boot(out: &mut Contact, a: &Contact, b: &Contact) {
    let boot = |c: &Contact| c.booted.then(|| c.last_boot_at.unwrap_or(c.last_seen_at));
    out.last_boot_at = boot(a).max(boot(b)).filter(|t| *t != out.last_seen_at);
}

/// The import tags of two contacts, each once: the secondary's own tags, then the
/// primary's in their order (a tag both hold keeps the primary's place).
fn import_tag_union(primary: &Contact, secondary: &Contact) -> Vec<String> {
    let mut tags: Vec<String> = secondary
        .user_import_tags
        .iter()
        .filter(|t| !primary.user_import_tags.contains(t))
        .cloned()
        .collect();
    append_new(&mut tags, &primary.user_import_tags);
    tags
}

/// The order in which import tags reached contacts: for each tag, the imports that applied
/// it, as positions in the activity log's `import` entries (oldest 0). The import running
/// now, if any, comes last ([`Store::running_import`](crate::store::Store::running_import)):
/// its entry is only written when it ends, and a merge or login may run between its rows.
/// Imports of one channel never overlap (R-IMP-15), so the log's order is the order in
/// which they applied their tags, whatever the clock said (a pinned clock gives many
/// imports one time).
#[derive(Debug, Default)]
pub(crate) struct ImportOrder {
    applied: HashMap<String, Vec<u64>>,
}

impl ImportOrder {
    /// Reads the channel's import entries, and the tag of the import running now: `this`
    /// import's (a dry run's too, which applies its tag inside its own transaction), else
    /// the store's. An import that has just written its entry and not yet released its
    /// lock is counted twice, at the end both times, which orders nothing differently.
    pub(crate) fn read(
        store: &dyn crate::store::Store,
        channel: &str,
        this: Option<&str>,
    ) -> Result<ImportOrder> {
        let running = match this {
            Some(tag) => Some(tag.to_string()),
            None => store.running_import(channel)?,
        };
        let running = running.as_deref();
        let imports = ActivityQuery {
            action: Some("import".into()),
            ..ActivityQuery::default()
        };
        let mut entries = store.activity(channel, &imports)?;
        entries.reverse(); // oldest first
        let mut applied: HashMap<String, Vec<u64>> = HashMap::new();
        let tags = entries
            .iter()
            .map(|e| e.detail.get("importTag").and_then(|v| v.as_str()))
            .chain([running]);
        for (at, tag) in (0u64..).zip(tags) {
            if let Some(tag) = tag {
                applied.entry(tag.to_string()).or_default().push(at);
            }
        }
        Ok(ImportOrder { applied })
    }

    /// The latest import before `bound` that applied `tag`.
    fn latest_before(&self, tag: &str, bound: u64) -> Option<u64> {
        let at = self.applied.get(tag)?;
        at[..at.partition_point(|&a| a < bound)].last().copied()
    }
}

/// The union of two contacts' import tags, newest 30 (R-CON-8 for a merge, R-IMP-9's
/// "drops the oldest" for a unification), oldest first. A contact's import tags carry no
/// times of their own, only their order (oldest first, R-IMP-9), so when each reached a
/// contact is read off the [`ImportOrder`]: walking the contact's list from its newest tag,
/// each tag gets the latest import that applied it before the import of the tag after it;
/// a tag no such import applied counts as the oldest, as does every tag before it. A tag
/// both contacts hold takes its newer place. Ties (tags of no known import) keep the order
/// of the union: the secondary's own tags, then the primary's.
///
/// The log does not say which contacts an import touched. So a tag that a later import
/// applied to other contacts only looks newer here than it is, when nothing newer on this
/// contact bounds it: always for a contact's newest tag, and for an older one when that
/// later import came before the contact's next tag.
fn newest_import_tags(tx: &Tx, primary: &Contact, secondary: &Contact) -> Result<Vec<String>> {
    let mut tags = import_tag_union(primary, secondary);
    let (p, s) = (&primary.user_import_tags, &secondary.user_import_tags);
    // One side's tags only, or the same list on both: its order stands.
    if !(p.is_empty() || s.is_empty() || p == s) {
        let read;
        let order = match &tx.import_order {
            Some(order) => &**order,
            None => {
                read = ImportOrder::read(tx.store, tx.channel, None)?;
                &read
            }
        };
        let mut reached: HashMap<&str, Option<u64>> = HashMap::new();
        for c in [primary, secondary] {
            let mut bound = Some(u64::MAX);
            for tag in c.user_import_tags.iter().rev() {
                let at = bound.and_then(|b| order.latest_before(tag, b));
                bound = at;
                let best = reached.entry(tag.as_str()).or_insert(None);
                *best = (*best).max(at);
            }
        }
        tags.sort_by_key(|t| reached.get(t.as_str()).copied().flatten());
    }
    cap_import_tags(&mut tags);
    Ok(tags)
}

/// Marks every active merge record naming `contact_id` as no longer undoable, because that
/// contact then did what `event` says ("was deleted"); the reason names the contact by its
/// part in each merge (its survivor or its secondary).
pub(crate) fn void_merges_of(tx: &mut Tx, contact_id: &str, event: &str) -> Result<()> {
    for mut m in tx.store.merges_of(tx.channel, contact_id)? {
        // A store returns the active records only; one voided already keeps its reason.
        if !matches!(m.state, MergeState::Active { .. }) {
            continue;
        }
        let part = if m.survivor_id == contact_id {
            "survivor"
        } else {
            "secondary"
        };
        m.state = MergeState::Void {
            reason: format!("its {part} {contact_id} {event}"),
        };
        tx.op(Op::PutMerge(Box::new(m)));
    }
    Ok(())
}

/// Merges `secondary` into `primary` (R-CON-8) inside `tx`.
pub(crate) fn merge(
    tx: &mut Tx,
    primary_id: &str,
    secondary_id: &str,
    choices: &MergeChoices,
) -> Result<MergeResult> {
    if primary_id == secondary_id {
        return Err(Error::conflict(format!(
            "cannot merge contact {primary_id} with itself; pick two different contacts"
        )));
    }
    for key in choices.keys() {
        let editable_system = matches!(
            key.as_str(),
            "tags" | "unsubscribeEmail" | "unsubscribeTexting"
        );
        // A key the schema does not hold is unknown (API.md: `NotFound` outside a filter or
        // mapping); a system field other than those three is known but not a choice.
        let Some(def) = tx.schema.get(key) else {
            return Err(Error::not_found(
                "data key",
                key,
                "name a defined profile key, `tags`, `unsubscribeEmail` or `unsubscribeTexting`",
            ));
        };
        if def.system && !editable_system {
            return Err(Error::invalid_key(
                key.clone(),
                "a profile key, `tags`, `unsubscribeEmail` or `unsubscribeTexting`",
                "merge choices name keys whose value can come from either side",
            ));
        }
        // A choice writes the key: an archived key is not written (R-SCH-5), and the merge
        // keeps the primary's stored value of it, as when no choice names it.
        if def.archived {
            return Err(Error::invalid_key(
                key.clone(),
                "a key that is not archived (restore it first, or leave it out of the choices)",
                "the key is archived: its stored values are kept and no longer written",
            ));
        }
    }
    let load = |tx: &Tx, id: &str| -> Result<Contact> {
        let c = tx.get(id)?.ok_or_else(|| {
            Error::conflict(format!(
                "contact {id} does not exist or was deleted; only existing contacts can be merged"
            ))
        })?;
        // Each case with what ends it (R-CON-6, R-MU-3): a blocked contact is unblocked;
        // a hidden one is shown again when it boots or room under the limit frees up.
        if c.blocked {
            return Err(Error::conflict(format!(
                "contact {id} is blocked; unblock it before merging"
            )));
        }
        if c.hidden {
            return Err(Error::conflict(format!(
                "contact {id} is hidden by the MU limit; make room before merging (raise the limit, or block or delete visible contacts) or wait for it to boot, which shows it again"
            )));
        }
        Ok(c)
    };
    let primary = load(tx, primary_id)?;
    let secondary = load(tx, secondary_id)?;
    let merged = combine(tx, &primary, &secondary, Some(choices))?;

    void_merges_of(tx, primary_id, "was merged again")?;
    void_merges_of(tx, secondary_id, "was merged again")?;
    let merge_id = format!("m_{:012}", tx.store.next_seq()?);
    if let (Some(_), Some(sm)) = (&primary.member_id, &secondary.member_id) {
        tx.op(Op::MemberAlias(sm.clone(), Some(primary.id.clone())));
    }
    tx.delete(&secondary.id)?;
    tx.op(Op::Redirect(secondary.id.clone(), Some(primary.id.clone())));
    // The secondary's pending unifications are the survivor's now: its id and memberId
    // reach the survivor, so the login that completes one still can (R-UNI-4). One that
    // no longer holds for the survivor is left out of the listing and dropped at login.
    copy_pending(tx, &secondary.id, &primary.id, true)?;
    tx.put(merged.clone())?;
    tx.op(Op::PutMerge(Box::new(MergeRecord {
        id: merge_id.clone(),
        survivor_id: primary.id.clone(),
        secondary_id: secondary.id.clone(),
        at: tx.now,
        state: MergeState::Active {
            primary: Box::new(primary),
            secondary: Box::new(secondary),
            merged: Box::new(merged.clone()),
        },
    })));
    crate::mu::fill_room(tx)?;
    Ok(MergeResult {
        contact: merged,
        merge_id,
    })
}

/// Copies the pending unifications naming `from` to name `to` in its place, keeping each
/// one's `since`, and with `moving` removes the originals. A copy that would pair `to`
/// with itself, or that `to` already has, is left out.
fn copy_pending(tx: &mut Tx, from: &str, to: &str, moving: bool) -> Result<()> {
    let held = tx.store.pending(tx.channel, Some(to))?;
    for p in tx.store.pending(tx.channel, Some(from))? {
        if moving {
            tx.op(Op::DeletePending(p.lead_id.clone(), p.member_id.clone()));
        }
        let mut copy = p;
        for id in [&mut copy.lead_id, &mut copy.member_id] {
            if id == from {
                *id = to.to_string();
            }
        }
        let known = held
            .iter()
            .any(|h| h.lead_id == copy.lead_id && h.member_id == copy.member_id);
        if copy.lead_id != copy.member_id && !known {
            tx.op(Op::PutPending(copy));
        }
    }
    Ok(())
}

/// Removes every pending unification naming `id`.
pub(crate) fn purge_pending_of(tx: &mut Tx, id: &str) -> Result<()> {
    for p in tx.store.pending(tx.channel, Some(id))? {
        tx.op(Op::DeletePending(p.lead_id, p.member_id));
    }
    Ok(())
}

/// Undoes a merge exactly (R-CON-8): recreates the secondary with its id and snapshot and
/// puts back on the survivor the pre-merge values of fields unchanged since the merge.
pub(crate) fn unmerge(tx: &mut Tx, merge_id: &str) -> Result<(Contact, Contact)> {
    let record = tx
        .store
        .merge_record(tx.channel, merge_id)?
        .ok_or_else(|| {
            Error::not_found("merge", merge_id, "pass the mergeId that merge returned")
        })?;
    let (primary, secondary, merged) = match &record.state {
        MergeState::Void { reason } => {
            return Err(Error::conflict(format!(
                "merge {merge_id} can no longer be undone: {reason}"
            )))
        }
        MergeState::Active {
            primary,
            secondary,
            merged,
        } => (primary, secondary, merged),
    };
    let current = tx.get(&record.survivor_id)?.ok_or_else(|| {
        Error::conflict(format!(
            "merge {merge_id} can no longer be undone: the survivor was deleted"
        ))
    })?;
    if tx.get(&record.secondary_id)?.is_some() {
        return Err(Error::conflict(format!(
            "merge {merge_id} was already undone"
        )));
    }
    let mut restored = restore_unchanged(&current, primary, merged, tx.now);
    // Values put back are a write like any other: one that would break a limit of R-SCH-7
    // (the survivor may have grown since the merge) is rejected whole.
    check_profile_limits(&restored.profile).map_err(|e| match e {
        Error::Validation {
            key,
            text,
            expected,
            message,
        } => Error::Validation {
            key,
            text,
            expected,
            message: format!("unmerging {merge_id} would put back values over a limit: {message}"),
        },
        other => other,
    })?;
    // The survivor may get back contact info the merge took from it: it then becomes
    // countable through this write, and is hidden when there is no room (R-MU-3), so the
    // visible MU never exceeds the limit (R-MU-2).
    crate::mu::place_manager_write(tx, &mut restored, current.counts_for_mu())?;

    if let (Some(_), Some(sm)) = (&primary.member_id, &secondary.member_id) {
        tx.op(Op::MemberAlias(sm.clone(), None));
    }
    tx.op(Op::Redirect(secondary.id.clone(), None));
    tx.put(restored.clone())?;
    let mut back = (**secondary).clone();
    back.hidden = false;
    back.blocked = false;
    crate::mu::place_manager_write(tx, &mut back, false)?;
    tx.put(back.clone())?;
    // The pending unifications the merge moved to the survivor go back to the secondary
    // too (copies: which of the two they still hold for is decided as they are listed or
    // completed, R-UNI-1).
    copy_pending(tx, &record.survivor_id, &secondary.id, false)?;
    // The survivor may have lost the contact info that made it count.
    crate::mu::fill_room(tx)?;
    tx.op(Op::PutMerge(Box::new(MergeRecord {
        state: MergeState::Void {
            reason: "it was undone".into(),
        },
        ..record.clone()
    })));
    Ok((restored, back))
}

/// The survivor with every field that did not change since the merge set back to the
/// primary's pre-merge value.
fn restore_unchanged(
    current: &Contact,
    primary: &Contact,
    merged: &Contact,
    now: chrono::DateTime<chrono::Utc>,
) -> Contact {
    let mut out = current.clone();
    let names: BTreeSet<&String> = current
        .profile
        .keys()
        .chain(primary.profile.keys())
        .chain(merged.profile.keys())
        .collect();
    // An email or mobile number and its verification are one field: both go back only
    // when neither changed since the merge, so a value edited since keeps the verification
    // its edit gave, and a value verified since is not swapped for an old unverified one
    // under the new flag (R-CON-2).
    let unchanged = |name: &str| {
        current.profile.get(name) == merged.profile.get(name)
            && match name {
                "email" => current.verified.email == merged.verified.email,
                "mobileNumber" => current.verified.mobile_number == merged.verified.mobile_number,
                _ => true,
            }
    };
    for name in names {
        if unchanged(name) {
            match primary.profile.get(name) {
                Some(v) => {
                    out.profile.insert(name.clone(), v.clone());
                }
                None => {
                    out.profile.remove(name);
                }
            }
        }
    }
    macro_rules! restore {
        ($($field:ident).+) => {
            if current.$($field).+ == merged.$($field).+ {
                out.$($field).+ = primary.$($field).+.clone();
            }
        };
    }
    if unchanged("email") {
        out.verified.email = primary.verified.email;
    }
    if unchanged("mobileNumber") {
        out.verified.mobile_number = primary.verified.mobile_number;
    }
    restore!(member_id);
    restore!(tags);
    restore!(user_import_tags);
    restore!(unsubscribe_email);
    restore!(unsubscribe_texting);
    restore!(created_at);
    // `lastSeenAt` and `sessionCount` are fields of their own (R-SCH-1), each put back when
    // it did not change. Whether the contact has booted and when it last did go with
    // `lastSeenAt`: a boot since the merge (one that moved the count, even at the merge's
    // own instant, included) leaves `booted` true as the merge set it, its session window
    // running from that boot (R-CON-3). A boot within the session the merge carried on, or
    // a blocked boot, leaves `sessionCount` as it was: those sessions go back to the
    // secondary, and the survivor gets its own count back exactly, instead of both holding
    // the secondary's sessions. A survivor that booted without a session of its own starts
    // session 1 at its next boot.
    let seen = |c: &Contact| (c.last_seen_at, c.booted, c.last_boot_at);
    let same_count = current.session_count == merged.session_count;
    if same_count && seen(current) == seen(merged) {
        out.last_seen_at = primary.last_seen_at;
        out.booted = primary.booted;
        out.last_boot_at = primary.last_boot_at;
    }
    if same_count {
        out.session_count = primary.session_count;
    }
    out.member = out.member_id.is_some();
    out.verified.email &= out.email().is_some();
    out.verified.mobile_number &= out.mobile_number().is_some();
    out.updated_at = now;
    out
}
