//! Identity: identifier hygiene (R-UNI-6), identifier keys, and lead/member unification
//! (R-UNI-1..5) with the login rules of R-CON-4 and R-CON-9.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::contact::{Boot, Contact, ContactState};
use crate::error::{Error, ErrorKind, Result};
use crate::merge::{combine, purge_pending_of, void_merges_of};
use crate::store::{Batch, Op, PendingUnification, Store};
use crate::tx::Tx;
use crate::value::Value;

/// The key under which emails are compared: the whole address case-folded as text is
/// compared everywhere (R-VAL-3: emails are compared case-insensitively; R-FLT-12: full
/// default case folding on NFC text). Lower-casing alone would tell `ΑΣ@…` (a final sigma
/// once lower-cased) from `ασ@…`.
pub fn email_key(email: &str) -> String {
    email_key_cow(email).into_owned()
}

/// [`email_key`], borrowing when the address is already its own key (lower-case ASCII, as
/// nearly every stored address is), so lookups and comparisons need not allocate.
pub(crate) fn email_key_cow(email: &str) -> std::borrow::Cow<'_, str> {
    // Case folding ASCII is lower-casing it; `fold_cow` borrows folded ASCII as it is.
    crate::text::fold_cow(email)
}

/// Whether `text` is a junk identifier (R-UNI-6): empty, only zeros or dashes, or one of
/// `null`, `undefined`, `none`, `anonymous`, `unknown`, `-1` (case-insensitive). A dash is
/// any dash (`-`, `‐`, `–`, `—`, the minus sign `−`, the full-width `－`, …) and a zero
/// either form of it (`0`, `０`), as a keyboard, a spreadsheet or an input method writes
/// them: `——` or `−1` identifies nobody either.
pub fn is_junk_identifier(text: &str) -> bool {
    let t = text.trim();
    if t.is_empty() {
        return true;
    }
    const JUNK: [&str; 5] = ["null", "undefined", "none", "anonymous", "unknown"];
    if JUNK.iter().any(|j| t.eq_ignore_ascii_case(j)) {
        return true;
    }
    let mut chars = t.chars();
    if chars.next().is_some_and(is_dash) && chars.as_str() == "1" {
        return true;
    }
    // Only zeros or dashes, to the letter: `0.0` or `(0)` is a real `memberId`. Emails and
    // numbers are checked here as parsed values (an E.164 number holds no separators), so
    // no separator needs ignoring.
    t.chars().all(|c| c == '0' || c == '\u{FF10}' || is_dash(c))
}

/// A dash: Unicode's dash punctuation (general category Pd, Unicode 16) and the minus sign.
/// (Listed here: no dependency of the library carries Unicode's general categories.)
fn is_dash(c: char) -> bool {
    const OTHER_DASHES: [char; 22] = [
        '-',
        '\u{058A}',
        '\u{05BE}',
        '\u{1400}',
        '\u{1806}',
        '\u{2212}',
        '\u{2E17}',
        '\u{2E1A}',
        '\u{2E3A}',
        '\u{2E3B}',
        '\u{2E40}',
        '\u{2E5D}',
        '\u{301C}',
        '\u{3030}',
        '\u{30A0}',
        '\u{FE31}',
        '\u{FE32}',
        '\u{FE58}',
        '\u{FE63}',
        '\u{FF0D}',
        '\u{10D6E}',
        '\u{10EAD}',
    ];
    // U+2010..U+2015: the hyphens, the dashes of typesetting and the horizontal bar.
    ('\u{2010}'..='\u{2015}').contains(&c) || OTHER_DASHES.contains(&c)
}

/// Rejects a junk identifier with a clear error naming the key (R-UNI-6).
pub fn check_identifier(key: &str, text: &str) -> Result<()> {
    if is_junk_identifier(text) {
        return Err(junk_identifier_error(key, text));
    }
    Ok(())
}

/// The error of a junk identifier (R-UNI-6) under `key`.
pub(crate) fn junk_identifier_error(key: &str, text: &str) -> Error {
    Error::Validation {
        key: Some(key.to_string()),
        text: Some(crate::error::cut_text(text)),
        expected: "a real identifier (not empty, zeros, dashes, null, undefined, none, anonymous, unknown or -1)".into(),
        message: "junk identifiers never identify anyone".into(),
    }
}

/// Orders contacts that hold the same verified identifier for an import match (R-IMP-5):
/// the most recent `lastSeenAt` first, ties by newer `createdAt`, then the larger id.
pub fn best_match(mut candidates: Vec<Contact>) -> Option<Contact> {
    candidates.sort_by(|a, b| {
        b.last_seen_at
            .cmp(&a.last_seen_at)
            .then(b.created_at.cmp(&a.created_at))
            .then(b.id.cmp(&a.id))
    });
    candidates.into_iter().next()
}

/// Joins `lead` into `member` at once (R-UNI-3): the member's values win, an opt-out `true`
/// on either side stays `true`, tags and lists are unioned, and the lead disappears (its id
/// leads to the member from now on). The member's `createdAt` and `lastSeenAt` win too:
/// unlike a manager's merge (R-CON-8), a unification is a side effect of an import, an
/// edit or a login, which change `updatedAt` and not `lastSeenAt` (R-IMP-10, R-MU-3), and a
/// member an import creates is created at the import's time. The lead's sessions add up.
/// The room the lead frees is filled (R-MU-3), except in a boot of a blocked member, which
/// un-hides nothing (R-CON-3); a later event fills it.
pub(crate) fn absorb(
    tx: &mut Tx,
    member: &mut Contact,
    lead: &Contact,
    on_boot: bool,
) -> Result<()> {
    let mut combined = combine(tx, member, lead, None)?;
    combined.created_at = member.created_at;
    combined.last_seen_at = member.last_seen_at;
    crate::merge::settle_last_boot(&mut combined, member, lead);
    void_merges_of(tx, &lead.id, "was unified into a member")?;
    void_merges_of(tx, &member.id, "was unified with a lead")?;
    purge_pending_of(tx, &lead.id)?;
    tx.delete(&lead.id)?;
    tx.op(Op::Redirect(lead.id.clone(), Some(member.id.clone())));
    *member = combined;
    tx.put(member.clone())?;
    if !(on_boot && member.blocked) {
        crate::mu::fill_room(tx)?;
        // The room the lead freed may have un-hidden the member itself: the caller's copy
        // follows, so it is neither returned nor written back stale (R-MU-3).
        if let Some(now) = tx.get(&member.id)? {
            *member = now;
        }
    }
    Ok(())
}

/// Whether `c` is a lead that may be unified into `member`: not a member itself, not the
/// member, and not blocked — a blocked lead stays blocked and whole until a manager
/// unblocks it (R-CON-6: blocking loses no data), so it is never folded into another
/// contact. (A blocked member does absorb leads, and stays blocked: see `unify`.)
fn is_unifiable_lead(c: &Contact, member: &Contact) -> bool {
    c.member_id.is_none() && c.id != member.id && !c.blocked
}

/// Unifies the verified leads that share the member's verified email or mobile number
/// (R-UNI-1..5): never-booted leads at once, booted ones by a pending unification that
/// completes on their login. Leads are taken in id order, so the outcome is deterministic.
/// Returns the member as it ends up.
pub(crate) fn unify_member(tx: &mut Tx, member: Contact) -> Result<Contact> {
    unify(tx, member, false)
}

/// Unification from a lead's side (R-UNI-1, and the import guide: "when you upload a lead,
/// the system finds the member"), for a lead a lead-import row wrote: the members that
/// hold its verified email or mobile number as verified info, in id order, unify it as
/// each would on gaining that info (R-UNI-2..4): at once when it never booted, by a
/// pending unification when it has. Returns the member that absorbed the lead, if one did
/// (the lead is then gone).
pub(crate) fn unify_lead(tx: &mut Tx, lead_id: &str) -> Result<Option<Contact>> {
    if !tx.may_hold_members()? {
        return Ok(None);
    }
    let Some(lead) = tx.get(lead_id)? else {
        return Ok(None);
    };
    if lead.member_id.is_some() || lead.blocked {
        return Ok(None);
    }
    let mut members: Vec<Contact> = verified_holders(tx, &lead)?
        .into_iter()
        .map(|(c, _, _)| c)
        .filter(|c| c.member_id.is_some())
        .collect();
    members.sort_by(|a, b| a.id.cmp(&b.id));
    members.dedup_by(|a, b| a.id == b.id);
    for member in members {
        // Re-read: an earlier member's unification may have changed it.
        let Some(member) = tx.get(&member.id)? else {
            continue;
        };
        let member = unify_member(tx, member)?;
        if tx.get(lead_id)?.is_none() {
            return Ok(Some(member));
        }
    }
    Ok(None)
}

/// The lead's value of `field` (`profile.email` or `profile.mobileNumber`) when a lead and
/// a member both hold it verified (R-UNI-1: "verified on both sides"; emails compare
/// case-insensitively, R-VAL-3). `None` when `lead` is no lead or `member` no member.
fn shares(lead: &Contact, member: &Contact, field: &str) -> Option<String> {
    if lead.member_id.is_some() || member.member_id.is_none() || lead.id == member.id {
        return None;
    }
    match field {
        "profile.email" => {
            let (l, m) = (lead.email()?, member.email()?);
            (lead.verified.email && member.verified.email && email_key_cow(l) == email_key_cow(m))
                .then(|| l.to_string())
        }
        "profile.mobileNumber" => {
            let (l, m) = (lead.mobile_number()?, member.mobile_number()?);
            (lead.verified.mobile_number && member.verified.mobile_number && l == m)
                .then(|| l.to_string())
        }
        _ => None,
    }
}

/// What a lead and a member share that unifies them (R-UNI-1), the email first: the field
/// and the lead's value; `None` when nothing.
pub(crate) fn shared_verified(lead: &Contact, member: &Contact) -> Option<(&'static str, String)> {
    ["profile.email", "profile.mobileNumber"]
        .into_iter()
        .find_map(|f| Some((f, shares(lead, member, f)?)))
}

/// A recorded pending unification as it stands now (R-UNI-4): `None` when its lead and
/// member no longer qualify — one of them is gone, the lead became a member, or they no
/// longer share verified info (an edit, an import or a merge changed it since) — else the
/// record with what they share now (the recorded field while it is still shared).
pub(crate) fn pending_now(
    tx: &Tx,
    mut p: PendingUnification,
) -> Result<Option<PendingUnification>> {
    let (Some(lead), Some(member)) = (tx.get(&p.lead_id)?, tx.get(&p.member_id)?) else {
        return Ok(None);
    };
    if let Some(v) = shares(&lead, &member, &p.field) {
        p.value = v;
    } else if let Some((f, v)) = shared_verified(&lead, &member) {
        p.field = f.to_string();
        p.value = v;
    } else {
        return Ok(None);
    }
    Ok(Some(p))
}

/// The contacts that hold `c`'s verified email or mobile number as verified info too, each
/// with the field and value they share (R-UNI-1: "verified on both sides"); `c` itself
/// among them.
fn verified_holders(tx: &Tx, c: &Contact) -> Result<Vec<(Contact, &'static str, String)>> {
    let mut out = Vec::new();
    if let Some(e) = c.email().filter(|_| c.verified.email) {
        for h in tx.find_by_email(e)? {
            if h.verified.email {
                out.push((h, "profile.email", e.to_string()));
            }
        }
    }
    if let Some(m) = c.mobile_number().filter(|_| c.verified.mobile_number) {
        for h in tx.find_by_mobile(m)? {
            if h.verified.mobile_number {
                out.push((h, "profile.mobileNumber", m.to_string()));
            }
        }
    }
    Ok(out)
}

/// [`unify_member`]; `on_boot`: a lead whose data cannot join the member's (the union would
/// break a limit of R-SCH-7) is left as it is instead of failing, since a boot never fails
/// on data (R-CON-3).
fn unify(tx: &mut Tx, mut member: Contact, on_boot: bool) -> Result<Contact> {
    // A blocked member absorbs leads like any member (R-UNI-2 names no exception) and stays
    // blocked, as a blocked contact that an import row matches is updated and stays blocked
    // (R-CON-6).
    if member.member_id.is_none() {
        return Ok(member);
    }
    // Absorbing a lead can give the member more verified info (R-UNI-3 unions the data),
    // and leads holding that info are unified too: rounds until one absorbs nobody.
    let mut done: HashSet<String> = HashSet::new();
    loop {
        let mut leads = verified_holders(tx, &member)?;
        leads.retain(|(c, _, _)| is_unifiable_lead(c, &member) && !done.contains(&c.id));
        leads.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        leads.dedup_by(|a, b| a.0.id == b.0.id);
        let mut absorbed = false;
        for (lead, field, value) in leads {
            done.insert(lead.id.clone());
            // Re-read: an earlier step may have changed it.
            let Some(lead) = tx.get(&lead.id)?.filter(|l| is_unifiable_lead(l, &member)) else {
                continue;
            };
            if lead.booted {
                // Already pending with this member: the record keeps its `since`.
                let recorded = tx
                    .store
                    .pending(tx.channel, Some(&lead.id))?
                    .iter()
                    .any(|p| p.lead_id == lead.id && p.member_id == member.id);
                if recorded {
                    continue;
                }
                tx.op(Op::PutPending(PendingUnification {
                    lead_id: lead.id.clone(),
                    member_id: member.id.clone(),
                    field: field.to_string(),
                    value,
                    since: tx.now,
                }));
            } else {
                match absorb(tx, &mut member, &lead, on_boot) {
                    Ok(()) => absorbed = true,
                    Err(e) if on_boot && e.kind() == ErrorKind::Validation => {}
                    // Say why a write the caller made of one field broke a limit: the
                    // unification it started (R-UNI-2), and with which lead.
                    Err(Error::Validation {
                        key,
                        text,
                        expected,
                        message,
                    }) => {
                        return Err(Error::Validation {
                            key,
                            text,
                            expected,
                            message: format!(
                                "this write unifies {} into {} (R-UNI-2: they share a verified {}), and {message}; change the lead first, or make the write without that info",
                                named(tx, "lead", &lead)?,
                                named(tx, "member", &member)?,
                                if field == "profile.email" { "email" } else { "mobile number" }
                            ),
                        })
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        if !absorbed {
            return Ok(member);
        }
    }
}

/// How an error names `c`, a `what` (lead or member): by id when the store holds it, else
/// as a contact not yet saved (the failing write would have created it, or an earlier row
/// of a dry run did), whose id nobody can find.
fn named(tx: &Tx, what: &str, c: &Contact) -> Result<String> {
    if tx.store.get(tx.channel, &c.id)?.is_some() {
        return Ok(format!("{what} {}", c.id));
    }
    // A dry run, whose contacts the store never holds, names them as the real import
    // names one its failing row creates.
    Ok(match &c.member_id {
        Some(m) => format!("the new {what} with memberId {m:?}"),
        None => format!("the new {what}"),
    })
}

/// Writes `member` and then unifies leads into it (R-UNI-2).
fn unify_member_after_put(tx: &mut Tx, member: Contact) -> Result<Contact> {
    tx.put(member.clone())?;
    unify(tx, member, true)
}

/// Applies the profile values a site sends with a boot (R-CON-2/3): contact info is
/// unverified and never overwrites verified info; archived or unknown keys, junk
/// identifiers and values that do not parse or break a limit are dropped.
fn apply_boot_profile(
    tx: &Tx,
    c: &mut Contact,
    profile: &serde_json::Map<String, serde_json::Value>,
) {
    let mut key = String::new();
    let ambiguous = ambiguous_boot_keys(tx, profile);
    for (k, v) in profile {
        let Some(def) = tx.schema.get(crate::contact::ops::profile_key(k, &mut key)) else {
            continue;
        };
        if ambiguous.contains(&def.key.as_str()) {
            continue;
        }
        if def.archived || def.system {
            continue;
        }
        let Some(name) = def.profile_name() else {
            continue;
        };
        if v.is_null() {
            continue;
        }
        let Ok(value) = Value::from_json(def.field_type, v) else {
            continue;
        };
        let is_email = name == "email";
        let is_mobile = name == "mobileNumber";
        if is_email || is_mobile {
            if let Value::Email(s) | Value::Phone(s) = &value {
                if is_junk_identifier(s) {
                    continue;
                }
            }
            if (is_email && c.verified.email) || (is_mobile && c.verified.mobile_number) {
                continue;
            }
        }
        let before = c.profile.insert(name.to_string(), value);
        if crate::schema::check_profile_limits(&c.profile).is_err() {
            match before {
                Some(b) => c.profile.insert(name.to_string(), b),
                None => c.profile.remove(name),
            };
            continue;
        }
        if is_email {
            c.verified.email = false;
        }
        if is_mobile {
            c.verified.mobile_number = false;
        }
    }
}

/// The keys a boot's profile gives under both their names (`city` and `profile.city`) with
/// two usable values that are not the same value. Which one is meant is a guess, which a
/// new lead and an edit refuse (R-CON-1); a boot never fails on data (R-CON-3), so it drops
/// the key, as it drops a value it cannot use. A value that does not parse is dropped on
/// its own and leaves no guess: the other name's value is kept. `null` is a value left
/// out, as in a new lead.
fn ambiguous_boot_keys<'s>(
    tx: &'s Tx,
    profile: &serde_json::Map<String, serde_json::Value>,
) -> Vec<&'s str> {
    let mut out = Vec::new();
    let mut key = String::new();
    for (k, v) in profile {
        if k.starts_with("profile.") || v.is_null() {
            continue;
        }
        let full = crate::contact::ops::profile_key(k, &mut key);
        let Some(other) = profile.get(full).filter(|o| !o.is_null()) else {
            continue;
        };
        let Some(def) = tx.schema.get(full) else {
            continue;
        };
        let guess = match (
            Value::from_json(def.field_type, v),
            Value::from_json(def.field_type, other),
        ) {
            (Ok(a), Ok(b)) => !crate::contact::ops::same_value(&a, &b),
            _ => false,
        };
        if guess {
            out.push(def.key.as_str());
        }
    }
    out
}

/// The 30-minute session window (R-CON-3).
pub const SESSION_WINDOW: chrono::TimeDelta = chrono::TimeDelta::minutes(30);

/// The `memberId` a boot logs in with, if any. A boot never fails on data (R-CON-3): one
/// that no member import would accept either (junk, R-UNI-6, or longer than a string may
/// be, R-SCH-7) is dropped, and the boot is anonymous.
fn login_id(boot: &Boot) -> Option<&str> {
    boot.member_id
        .as_deref()
        .map(str::trim)
        .filter(|m| crate::import::normalize_member_id(m).is_ok())
}

/// The contact a plain visit names: a boot with a contact id, no login and no profile data,
/// which changes only that contact's state (R-CON-3).
fn plain_visit_id(boot: &Boot) -> Option<&str> {
    match (login_id(boot), &boot.contact_id) {
        (None, Some(id)) if boot.profile.is_empty() => Some(id),
        _ => None,
    }
}

/// A plain visit of a known contact (no login, no profile data, R-CON-3), written as the
/// operation's one batch of `Touch`es without a transaction overlay. Either the visit
/// leaves the MU standing as it was (R-MU-2 has nothing to do when the count and the room
/// do not move), or it un-hides the visitor in a channel exactly at its limit: then the
/// least recently seen visible contact is hidden in its place, as [`after_visit`] would
/// hide it (R-MU-2: the visitor, seen now, is never the least recently seen). Returns the
/// contact as stored after the visit, or `None` — having written nothing — when the boot
/// needs [`boot`]: a login, profile data, an unknown or redirected id, a channel over its
/// limit, or an un-hiding visit with nobody else to hide. The caller holds the channel's
/// write lock.
pub(crate) fn plain_visit(
    store: &dyn Store,
    channel: &str,
    now: DateTime<Utc>,
    boot: &Boot,
) -> Result<Option<Contact>> {
    let Some(id) = plain_visit_id(boot) else {
        return Ok(None);
    };
    store.visit(channel, id, &mut |mut s, mu, oldest_visible| {
        let counted = s.counts_for_mu();
        visit(&mut s, now);
        let unhides = s.counts_for_mu() && !counted;
        if s.counts_for_mu() != counted && !unhides {
            return Ok(None);
        }
        let mut ops = Vec::with_capacity(2);
        if let Some(limit) = mu.limit {
            if mu.count > limit {
                return Ok(None);
            }
            if unhides && mu.count == limit {
                // One over the limit with the visitor counted. The visitor is hidden in the
                // store's ledger, so its first entry is another contact.
                let Some(mut oldest) = oldest_visible()?.filter(|o| o.id != s.id) else {
                    return Ok(None);
                };
                oldest.hidden = true;
                ops.push(Op::Touch(s));
                ops.push(Op::Touch(oldest));
                return Ok(Some(Batch { ops }));
            }
        }
        ops.push(Op::Touch(s));
        Ok(Some(Batch { ops }))
    })
}

/// A boot (R-CON-3), which is a login when it carries a `memberId` (R-CON-4, R-CON-9).
pub(crate) fn boot(tx: &mut Tx, boot: &Boot) -> Result<Contact> {
    let member_id = login_id(boot);
    // A plain visit of a known contact changes only the contact's state: written in place,
    // without rebuilding the contact ([`plain_visit`] takes the visits that move no MU).
    if let Some(id) = plain_visit_id(boot) {
        if let Some(mut s) = tx.state(id)? {
            visit(&mut s, tx.now);
            let id = s.id.clone();
            let blocked = s.blocked;
            tx.put_state(s)?;
            return after_visit(tx, &id, blocked);
        }
    }
    let named = match &boot.contact_id {
        Some(id) => tx.resolve(id)?,
        None => None,
    };
    let mut became_member = false;
    let mut gained_by_join = false;
    let mut target = match member_id {
        Some(m) => match tx.find_member(m)? {
            Some(mut d) => {
                // A blocked contact is left as it is (R-CON-6): never absorbed or removed
                // by someone else's login.
                if let Some(c) = named.filter(|c| c.id != d.id && !c.blocked) {
                    // Only a lead is joined (R-UNI-1): a pending record of a contact that
                    // has become a member since is stale. A member blocked since still
                    // completes it (R-CON-9), and stays blocked (see `unify`).
                    // A record that no longer holds (the two share no verified info since
                    // an edit, an import or a merge, R-UNI-1) is dropped, not completed.
                    let recorded = c.member_id.is_none()
                        && tx
                            .store
                            .pending(tx.channel, Some(&c.id))?
                            .into_iter()
                            .any(|p| p.lead_id == c.id && p.member_id == d.id);
                    let joined = recorded && shared_verified(&c, &d).is_some();
                    if recorded && !joined {
                        tx.op(Op::DeletePending(c.id.clone(), d.id.clone()));
                    }
                    if joined {
                        // A join whose union breaks a limit leaves C as it is: a boot never
                        // fails on data (R-CON-3).
                        match absorb(tx, &mut d, &c, true) {
                            Err(e) if e.kind() != ErrorKind::Validation => return Err(e),
                            Err(_) => {}
                            // The member may have gained the lead's verified info: leads
                            // holding it are unified in turn (R-UNI-2, login).
                            Ok(()) => gained_by_join = true,
                        }
                    } else if !c.has_contact_info() {
                        // Deleted, not redirected: a later boot naming C is a boot naming a
                        // deleted id, and creates a new contact (R-CON-9).
                        purge_pending_of(tx, &c.id)?;
                        void_merges_of(tx, &c.id, "logged in as another member")?;
                        tx.delete(&c.id)?;
                    }
                }
                d
            }
            None => {
                became_member = true;
                let mut c = match named {
                    Some(c) if c.member_id.is_none() => {
                        // No longer a lead: its pending unifications into members are void.
                        purge_pending_of(tx, &c.id)?;
                        c
                    }
                    _ => Contact::new(tx.new_id()?, tx.now),
                };
                c.member_id = Some(m.to_string());
                c.member = true;
                c
            }
        },
        None => match named {
            Some(c) => c,
            None => Contact::new(tx.new_id()?, tx.now),
        },
    };

    apply_boot_profile(tx, &mut target, &boot.profile);
    let mut state = ContactState::of(&target);
    visit(&mut state, tx.now);
    state.apply_to(&mut target);
    let id = target.id.clone();
    let blocked = target.blocked;
    if became_member || gained_by_join {
        target = unify_member_after_put(tx, target)?;
        let _ = target;
    } else {
        tx.put(target)?;
    }
    after_visit(tx, &id, blocked)
}

/// A visit's effect on the visitor's state (R-CON-3): a new session when the contact never
/// booted, has no session yet (its visits so far were while it was blocked, which count
/// none: its first visit that counts starts session 1) or its last visit is over 30
/// minutes ago; an unblocked visitor is un-hidden (R-MU-2, made room for by
/// [`after_visit`]); `lastSeenAt` and `updatedAt` become now.
fn visit(s: &mut ContactState, now: DateTime<Utc>) {
    if !s.blocked {
        let previous = s.last_boot_at.unwrap_or(s.last_seen_at);
        if !s.booted || s.session_count == 0 || now - previous > SESSION_WINDOW {
            s.session_count += 1;
        }
        s.hidden = false;
    }
    s.booted = true;
    s.last_seen_at = now;
    s.last_boot_at = None;
    s.updated_at = now;
}

/// After a visit: hide the least recently seen others to fit the MU limit (R-MU-2), and
/// give back the visitor as the transaction now sees it.
fn after_visit(tx: &mut Tx, id: &str, blocked: bool) -> Result<Contact> {
    if !blocked {
        crate::mu::enforce_limit(tx, Some(id))?;
        // Nobody else left to hide (a limit of 0): the visible MU never exceeds the limit,
        // so the visitor itself stays hidden.
        crate::mu::enforce_limit(tx, None)?;
    }
    tx.get(id)?
        .ok_or_else(|| Error::storage("the booted contact vanished inside its transaction"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_uni_6_junk_identifiers() {
        for j in [
            "",
            " ",
            "null",
            "NULL",
            "undefined",
            "None",
            "anonymous",
            "Unknown",
            "-1",
            "0",
            "0000",
            "---",
            "0-0-0",
            " 000 ",
            // Other dashes and zeros (an en dash, em dashes, hyphens, the minus sign, a
            // full-width zero and hyphen-minus).
            "\u{2013}",
            "\u{2014}\u{2014}",
            "\u{2010}\u{2010}",
            "\u{2212}1",
            "\u{2013}1",
            "\u{FF10}",
            "\u{FF10}\u{FF0D}\u{FF10}",
            "\u{30A0}",
        ] {
            assert!(is_junk_identifier(j), "{j:?} should be junk");
        }
        // Only zeros or dashes, to the letter: other characters make a real identifier.
        for ok in [
            "m-1001",
            "10",
            "-2",
            "a@b.co",
            "+821020203030",
            "nobody",
            "0.0",
            "(0)",
            "+00 000",
            "0 0",
            "\u{2212}2",
            "1\u{2013}",
            "\u{FF11}",
            "~",
            "_",
        ] {
            assert!(!is_junk_identifier(ok), "{ok:?} is fine");
        }
        let e = check_identifier("memberId", "null").unwrap_err();
        assert_eq!(e.key(), Some("memberId"));
    }
}
