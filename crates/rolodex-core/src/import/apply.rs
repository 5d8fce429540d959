//! Applying one import row to the contact book (R-IMP-4..12, R-IMP-17, R-IMP-19/20, R-CON-2,
//! R-CON-6): find the contact the row names, or create one, and write the row into it whole.
//!
//! Everything here works inside one [`Tx`]; the caller commits it (one row, one batch:
//! R-IMP-16) or, on a dry run, rolls it back to the row's savepoint when the row fails. MU
//! placement (R-MU-2/3) and unification (R-UNI-2..4) are not repeated here: a row ends in
//! [`finish_manager_write_with`], the one place a manager's write is finished.

use crate::contact::ops::finish_manager_write_with;
use crate::contact::Contact;
use crate::error::{Error, Result};
use crate::identity::{best_match, is_junk_identifier, junk_identifier_error};
use crate::merge::cap_import_tags;
use crate::schema::{check_profile_limits, Schema, MAX_LIST_ITEMS};
use crate::tx::Tx;
use crate::value::{append_new, Value};

use super::patch::{Identifier, RowPatch};

/// What a row did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Applied {
    /// The contact the row ended on (for a lead row that matched a member: the member).
    pub id: String,
    /// Whether the row created the contact (R-IMP-12).
    pub created: bool,
    /// Whether the contact was hidden when the row ended (a new contact that did not fit
    /// under the MU limit, R-MU-2).
    pub hidden: bool,
    /// The leads a member absorbed in this row (R-UNI-1..3), which no longer exist: the
    /// row's own lead (then `id` is the member), or leads the member the row wrote shared
    /// verified info with, an earlier row's among them.
    pub absorbed: Vec<String>,
}

/// Why a row did not apply.
#[derive(Debug)]
pub(crate) enum RowError {
    /// The row fails (R-IMP-16): the data keys at fault and the reasons.
    Row(Vec<String>, Vec<String>),
    /// The store failed: the import stops (the rows before are applied, each whole).
    Fatal(Error),
}

impl From<Error> for RowError {
    /// A storage error stops the import; any other error fails the row, naming its key.
    fn from(e: Error) -> Self {
        match e {
            Error::Storage { .. } => RowError::Fatal(e),
            other => RowError::Row(
                other.key().map(|k| vec![k.to_string()]).unwrap_or_default(),
                vec![other.to_string()],
            ),
        }
    }
}

/// The contact a row identifies, if any.
///
/// Members by `memberId` (R-IMP-4). Leads by email or mobile number (R-IMP-5): among the
/// contacts holding it as *verified* info — hidden and blocked ones included — the most
/// recently seen, ties by newer `createdAt`, then the larger id. When members are among
/// them, the choice is among the members: a lead row that matches a member updates that
/// member (R-UNI-2), even when a lead waiting to be unified with it was seen more
/// recently. Unverified holders never match (R-CON-2).
pub(crate) fn find_target(tx: &Tx, identifier: &Identifier) -> Result<Option<Contact>> {
    let holders = match identifier {
        Identifier::MemberId(m) => return tx.find_member(m),
        Identifier::Email(e) => tx
            .find_by_email(e)?
            .into_iter()
            .filter(|c| c.verified.email)
            .collect::<Vec<_>>(),
        Identifier::MobileNumber(p) => tx
            .find_by_mobile(p)?
            .into_iter()
            .filter(|c| c.verified.mobile_number)
            .collect(),
    };
    if holders.iter().any(|c| c.member) {
        return Ok(best_match(
            holders.into_iter().filter(|c| c.member).collect(),
        ));
    }
    Ok(best_match(holders))
}

/// Applies one row (R-IMP-4..11): updates the contact it identifies, or creates one.
///
/// The row either applies whole or returns [`RowError::Row`] having written nothing the
/// caller keeps (it drops or rolls back the transaction).
pub(crate) fn apply_row(
    tx: &mut Tx,
    patch: RowPatch,
    import_tag: &str,
) -> std::result::Result<Applied, RowError> {
    let start = tx.mark();
    let mut applied = write_target(tx, patch, import_tag)?;
    // A lead the row wrote that shares verified info with a member is unified with it, as
    // the member's own write would have done (R-UNI-1..4). A member the row wrote has
    // unified its leads already (`finish_manager_write`).
    if let Some(mut member) = crate::identity::unify_lead(tx, &applied.id)? {
        applied.hidden = member.hidden;
        applied.id = member.id.clone();
        applied.created = false;
        // The row touched the member: the import tag is its newest (R-IMP-9/20), as if the
        // row had matched it, whatever order the union of the two left.
        if member.user_import_tags.last().map(String::as_str) != Some(import_tag) {
            add_import_tag(&mut member.user_import_tags, import_tag);
            tx.put(member)?;
        }
    }
    applied.absorbed = tx.absorbed_since(start);
    Ok(applied)
}

/// Checks that `schema` still lets an import write every profile key the row writes: the
/// mapping was checked against the schema as the import began (R-IMP-3), and a key
/// archived since is no longer written (R-SCH-5). The error names the first such key.
pub(crate) fn check_still_writable(schema: &Schema, patch: &RowPatch) -> Result<()> {
    let names = patch
        .profile_set
        .iter()
        .map(|(n, _)| n)
        .chain(patch.profile_append.iter().map(|(n, _)| n))
        .chain(&patch.profile_clear);
    for name in names {
        schema.writable(&format!("profile.{name}"))?;
    }
    Ok(())
}

/// Updates the contact a row identifies, or creates one.
fn write_target(
    tx: &mut Tx,
    patch: RowPatch,
    import_tag: &str,
) -> std::result::Result<Applied, RowError> {
    match find_target(tx, &patch.identifier)? {
        Some(before) => {
            let mut after = before.clone();
            write_row(&mut after, patch, import_tag)?;
            // Only `updatedAt` changes among the timestamps (R-IMP-10); a blocked contact
            // stays blocked (R-CON-6) and a hidden one stays hidden (R-MU-3).
            let (hidden, id) =
                finish_manager_write_with(tx, &before, after, |c| (c.hidden, c.id.clone()))?;
            Ok(Applied {
                hidden,
                id,
                created: false,
                absorbed: Vec::new(),
            })
        }
        None => create(tx, patch, import_tag),
    }
}

/// Creates the contact of a row that matched nothing (R-IMP-4/5/6/10).
fn create(
    tx: &mut Tx,
    patch: RowPatch,
    import_tag: &str,
) -> std::result::Result<Applied, RowError> {
    // R-IMP-6: a new contact needs both opt-out fields filled.
    let missing: Vec<String> = [
        ("unsubscribeEmail", patch.unsubscribe_email),
        ("unsubscribeTexting", patch.unsubscribe_texting),
    ]
    .iter()
    .filter(|(_, v)| v.is_none())
    .map(|(k, _)| k.to_string())
    .collect();
    if !missing.is_empty() {
        let reason = format!(
            "no contact has this {} yet, and creating one needs both unsubscribeEmail and unsubscribeTexting filled (true or false); {} is empty or not imported",
            patch.identifier.key(),
            missing.join(" and ")
        );
        return Err(RowError::Row(missing, vec![reason]));
    }

    // `createdAt` = `lastSeenAt` = the import time (R-IMP-10); never booted.
    let mut c = Contact::new(String::new(), tx.now);
    match &patch.identifier {
        Identifier::MemberId(m) => {
            c.member_id = Some(m.clone());
            c.member = true;
        }
        // Contact info written by an import is verified (R-CON-2, R-IMP-5).
        Identifier::Email(e) => {
            c.profile.insert("email".into(), Value::Email(e.clone()));
            c.verified.email = true;
        }
        Identifier::MobileNumber(p) => {
            c.profile
                .insert("mobileNumber".into(), Value::Phone(p.clone()));
            c.verified.mobile_number = true;
        }
    }
    write_row(&mut c, patch, import_tag)?;
    c.id = tx.new_id()?;
    // From "nothing" to the new contact: MU placement (hidden when there is no room,
    // R-MU-2/5) and, for a member with verified info, unification (R-UNI-2/3/4).
    let nothing = Contact::new(c.id.clone(), tx.now);
    let (hidden, id) = finish_manager_write_with(tx, &nothing, c, |c| (c.hidden, c.id.clone()))?;
    // Room freed later (a unification) may un-hide it: the import re-reads the contacts
    // created hidden when it ends.
    Ok(Applied {
        hidden,
        id,
        created: true,
        absorbed: Vec::new(),
    })
}

/// Writes a row's values into `c` (new or existing): replaced values, appended lists,
/// cleared cells, opt-outs, the import tag; then the profile limits. The identifier is not
/// among the row's values: it only matches (R-IMP-5).
fn write_row(c: &mut Contact, patch: RowPatch, import_tag: &str) -> Result<()> {
    // R-IMP-7: empty cells under `emptyCells: clear` (opt-outs are never cleared).
    for name in &patch.profile_clear {
        c.profile.remove(name);
        match name.as_str() {
            "email" => c.verified.email = false,
            "mobileNumber" => c.verified.mobile_number = false,
            _ => {}
        }
    }
    if patch.clear_tags {
        c.tags.clear();
    }

    // Replaced values. Contact info an import writes is verified (R-CON-2); a member import
    // may change email and mobile number this way (R-IMP-19).
    for (name, value) in patch.profile_set {
        if let Value::Email(s) | Value::Phone(s) = &value {
            if is_junk_identifier(s) {
                return Err(junk_identifier_error(&format!("profile.{name}"), s));
            }
        }
        match name.as_str() {
            "email" => c.verified.email = true,
            "mobileNumber" => c.verified.mobile_number = true,
            _ => {}
        }
        c.profile.insert(name, value);
    }

    // R-IMP-8: lists append, dropping values already present; past 200 items fails.
    for (name, value) in patch.profile_append {
        let merged = match c.profile.get(&name) {
            Some(old) => old.union(&value),
            // Nothing stored: the row's list, read without its repeats
            // (`parse_value_to_append`), as appending it to an empty list would leave it.
            None => matches!(
                value,
                Value::List(_) | Value::Tag(_) | Value::ListOfNumber(_)
            )
            .then_some(value),
        };
        let merged = merged.ok_or_else(|| {
            Error::invalid_key(
                format!("profile.{name}"),
                "a list value of the key's type",
                "the stored value is not a list of the key's type",
            )
        })?;
        check_list_len(&name, &merged)?;
        c.profile.insert(name, merged);
    }
    if !patch.tags_append.is_empty() {
        append_new(&mut c.tags, &patch.tags_append);
        if c.tags.len() > MAX_LIST_ITEMS {
            return Err(too_many("tags", c.tags.len()));
        }
    }

    // R-IMP-6: an opt-out cell that is filled overwrites; empty keeps.
    if let Some(b) = patch.unsubscribe_email {
        c.unsubscribe_email = Some(b);
    }
    if let Some(b) = patch.unsubscribe_texting {
        c.unsubscribe_texting = Some(b);
    }

    // R-IMP-9/20: the import tag, moved to the newest place when already there; 30 kept.
    add_import_tag(&mut c.user_import_tags, import_tag);

    check_profile_limits(&c.profile)
}

/// Adds an import tag as the newest (R-IMP-9): a tag already present moves to the end
/// (R-IMP-20); past 30 the oldest are dropped.
pub(crate) fn add_import_tag(tags: &mut Vec<String>, tag: &str) {
    if tags.last().is_some_and(|t| t == tag) {
        return;
    }
    tags.retain(|t| t != tag);
    tags.push(tag.to_string());
    cap_import_tags(tags);
}

/// Checks a list's length; `key` is the name under `profile.`.
fn check_list_len(key: &str, v: &Value) -> Result<()> {
    let n = match v {
        Value::List(x) | Value::Tag(x) => x.len(),
        Value::ListOfNumber(x) => x.len(),
        _ => 0,
    };
    if n > MAX_LIST_ITEMS {
        return Err(too_many(&format!("profile.{key}"), n));
    }
    Ok(())
}

fn too_many(key: &str, n: usize) -> Error {
    Error::invalid_key(
        key,
        format!("at most {MAX_LIST_ITEMS} items in a list (R-SCH-7)"),
        format!("appending this row's values would make {n} items; nothing was truncated, the row was not imported"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_imp_9_import_tag_moves_to_newest_and_caps_at_30() {
        let mut tags: Vec<String> = (0..30).map(|i| format!("t{i}")).collect();
        add_import_tag(&mut tags, "t0");
        assert_eq!(tags.len(), 30);
        assert_eq!(tags.first().unwrap(), "t1");
        assert_eq!(tags.last().unwrap(), "t0");
        add_import_tag(&mut tags, "new");
        assert_eq!(tags.len(), 30);
        assert_eq!(tags.first().unwrap(), "t2");
        assert_eq!(tags.last().unwrap(), "new");
    }

    #[test]
    fn r_imp_8_append_drops_present_values() {
        let old = Value::List(vec!["a".into(), "b".into()]);
        let new = Value::List(vec!["b".into(), "c".into(), "c".into()]);
        assert_eq!(
            old.union(&new),
            Some(Value::List(vec!["a".into(), "b".into(), "c".into()]))
        );
        let n = Value::ListOfNumber(vec![1.0]).union(&Value::ListOfNumber(vec![1.0, 2.0]));
        assert_eq!(n, Some(Value::ListOfNumber(vec![1.0, 2.0])));
        assert_eq!(Value::Number(1.0).union(&new), None);
    }
}
