//! Contact lifecycle rules (R-CON): hand-added leads, manager edits, verification, blocking,
//! deletion, tags and opt-outs. Each function works inside one transaction.

use std::collections::BTreeMap;

use crate::contact::{Contact, Medium, NewLead};
use crate::error::{Error, Result};
use crate::identity::{check_identifier, email_key_cow, unify_member};
use crate::merge::{purge_pending_of, void_merges_of};
use crate::schema::{check_profile_limits, MAX_LIST_ITEMS};
use crate::tx::Tx;
use crate::value::{append_new, FieldType, Value};

/// Parses a profile value given as JSON for a manager's write of `key` (`profile.x`).
pub(crate) fn manager_value(
    tx: &Tx,
    key: &str,
    json: &serde_json::Value,
) -> Result<(String, Value)> {
    manager_parsed(tx, key, |ft| Value::from_json(ft, json)).map(|(n, v)| (n.to_string(), v))
}

/// [`manager_value`] of a value given as text (what a JSON string would be).
fn manager_text(tx: &Tx, key: &str, text: &str) -> Result<(String, Value)> {
    manager_parsed(tx, key, |ft| crate::value::parse_value(ft, text))
        .map(|(n, v)| (n.to_string(), v))
}

/// A profile value parsed by `parse` for a manager's write of `key`, with the value's name
/// under `profile.` (the schema's own text).
fn manager_parsed<'t>(
    tx: &'t Tx,
    key: &str,
    parse: impl FnOnce(FieldType) -> Result<Value>,
) -> Result<(&'t str, Value)> {
    let def = tx.schema.writable(key)?;
    let name = def
        .profile_name()
        .ok_or_else(|| Error::invalid_key(key, "a `profile.` key", "not a profile key"))?;
    let value = parse(def.field_type).map_err(|e| e.with_key(key))?;
    if let Value::Email(s) | Value::Phone(s) = &value {
        check_identifier(key, s)?;
    }
    Ok((name, value))
}

/// Full key of a profile name given as `city` or `profile.city`, written into `buf`
/// (cleared first), so a loop over a profile's values reuses one buffer.
pub(crate) fn profile_key<'a>(name: &str, buf: &'a mut String) -> &'a str {
    buf.clear();
    if !name.starts_with("profile.") {
        buf.push_str("profile.");
    }
    buf.push_str(name);
    buf
}

/// Validates tags (R-VAL-8) given as text.
pub(crate) fn parse_tags(tags: Vec<String>) -> Result<Vec<String>> {
    crate::value::tag_set(tags).map_err(|e| e.with_key("tags"))
}

/// Fails with `AlreadyExists` when a contact holds this email/number as verified info
/// (R-CON-1, R-MU-4).
fn check_not_held(tx: &Tx, field: &str, holders: Vec<Contact>, value: &str) -> Result<()> {
    let verified = |c: &Contact| match field {
        "profile.email" => c.verified.email,
        _ => c.verified.mobile_number,
    };
    if let Some(c) = holders.into_iter().find(verified) {
        let _ = tx;
        return Err(Error::AlreadyExists {
            id: c.id,
            hidden: c.hidden,
            blocked: c.blocked,
            field: field.to_string(),
            value: value.to_string(),
        });
    }
    Ok(())
}

/// Whether a value given twice says the same both times (emails compare
/// case-insensitively, R-VAL-3).
pub(crate) fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Email(a), Value::Email(b)) => email_key_cow(a) == email_key_cow(b),
        _ => a == b,
    }
}

/// The error of a profile key (`key`, with `profile.`) given twice with different values,
/// once flat or as a field and once under `profile`, by `who` ("the lead", "the patch"):
/// which one is meant would be a guess (R-CON-1). `text` is the text given, if any.
fn given_twice(key: &str, who: &str, text: Option<&str>) -> Error {
    let name = key.strip_prefix("profile.").unwrap_or(key);
    Error::Validation {
        key: Some(key.to_string()),
        text: text.map(crate::error::cut_text),
        expected: format!(
            "one value for {key}: give it once (as \"{name}\" or \"{key}\"), or the same twice"
        ),
        message: format!("{who} gives {key} twice, with different values"),
    }
}

/// Adds a lead by hand (R-CON-1): verified contact info, `createdAt` = `lastSeenAt` = now,
/// never booted; created hidden when the MU limit leaves no room (R-MU-2).
/// Returns the new contact's id.
pub(crate) fn add_lead(tx: &mut Tx, lead: NewLead) -> Result<String> {
    let mut c = Contact::new(String::new(), tx.now);
    // The values in the order given, a later one for a name replacing an earlier (`city`
    // and `profile.city` are one key), then the map built whole from them: one sort of a
    // few entries instead of a search and insert for each.
    let mut values: Vec<(String, Value)> = Vec::with_capacity(lead.profile.len() + 3);
    let mut key = String::new();
    for (k, v) in lead.profile {
        if v.is_null() {
            continue;
        }
        // The value moves in: a string that is already normal is kept, not copied; so
        // does the caller's name for it when given without `profile.`.
        let (name, v) = manager_parsed(tx, profile_key(&k, &mut key), |ft| {
            crate::value::from_json_owned(ft, v)
        })?;
        let name = if name == k { k } else { name.to_string() };
        values.push((name, v));
    }
    let texts = [
        ("profile.email", &lead.email),
        ("profile.mobileNumber", &lead.mobile_number),
        ("profile.name", &lead.name),
    ];
    for (key, text) in texts {
        if let Some(t) = text {
            let (name, v) = manager_text(tx, key, t)?;
            // Given twice (as a field and under `profile`): both must say the same (emails
            // compare case-insensitively, R-VAL-3).
            let given = values.iter().rev().find(|(n, _)| *n == name);
            if given.is_some_and(|(_, given)| !same_value(given, &v)) {
                return Err(given_twice(key, "the lead", Some(t)));
            }
            values.push((name, v));
        }
    }
    // The last value of each name, as inserts in this order would keep. The sort is stable:
    // values of one name stay in the order given. Names are compared by their first byte
    // first (the order of the whole text, as a byte decides it): names mostly differ there,
    // which spares a call to compare the rest.
    values.sort_by(|a, b| {
        let first = |s: &str| s.as_bytes().first().copied();
        first(&a.0).cmp(&first(&b.0)).then_with(|| a.0.cmp(&b.0))
    });
    let mut kept: Vec<(String, Value)> = Vec::with_capacity(values.len());
    for (name, v) in values {
        match kept.last_mut() {
            // One key given twice under `profile` (`city` and `profile.city`): as for the
            // fields above, both must say the same, or which one is meant is a guess.
            Some(last) if last.0 == name && !same_value(&last.1, &v) => {
                return Err(given_twice(&format!("profile.{name}"), "the lead", None));
            }
            Some(last) if last.0 == name => last.1 = v,
            _ => kept.push((name, v)),
        }
    }
    // Already in order: the map's own sort finds one run, and the map is built whole.
    c.profile = BTreeMap::from_iter(kept).into();
    if c.email().is_none() && c.mobile_number().is_none() {
        return Err(Error::Validation {
            key: None,
            text: None,
            expected: "an email or a mobile number".into(),
            message: "a lead needs contact information to be added".into(),
        });
    }
    c.tags = parse_tags(lead.tags)?;
    check_profile_limits(&c.profile)?;
    if let Some(e) = c.email().map(str::to_string) {
        check_not_held(tx, "profile.email", tx.find_by_email(&e)?, &e)?;
        c.verified.email = true;
    }
    if let Some(m) = c.mobile_number().map(str::to_string) {
        check_not_held(tx, "profile.mobileNumber", tx.find_by_mobile(&m)?, &m)?;
        c.verified.mobile_number = true;
    }
    c.id = tx.new_id()?;
    crate::mu::place_manager_write(tx, &mut c, false)?;
    let id = c.id.clone();
    tx.put(c)?;
    Ok(id)
}

/// After a manager's write to `after` (which was `before`): MU placement of a contact that
/// became countable (R-MU-3) and unification of a member that gained verified info (R-UNI-2).
pub(crate) fn finish_manager_write(
    tx: &mut Tx,
    before: &Contact,
    after: Contact,
) -> Result<Contact> {
    finish_manager_write_with(tx, before, after, Contact::clone)
}

/// [`finish_manager_write`], returning only `keep` of the contact as written, so a caller
/// that needs a field or two (an import row) does not copy the whole contact.
pub(crate) fn finish_manager_write_with<T>(
    tx: &mut Tx,
    before: &Contact,
    mut after: Contact,
    keep: impl FnOnce(&Contact) -> T,
) -> Result<T> {
    after.updated_at = tx.now;
    crate::mu::place_manager_write(tx, &mut after, before.counts_for_mu())?;
    let gained = (after.verified.email
        && (!before.verified.email || before.email() != after.email()))
        || (after.verified.mobile_number
            && (!before.verified.mobile_number || before.mobile_number() != after.mobile_number()));
    let (out, counts) = if after.member_id.is_some() && gained {
        tx.put(after.clone())?;
        after = unify_member(tx, after)?;
        (keep(&after), after.counts_for_mu())
    } else {
        let kept = (keep(&after), after.counts_for_mu());
        tx.put(after)?;
        kept
    };
    if before.counts_for_mu() && !counts {
        crate::mu::fill_room(tx)?;
    }
    Ok(out)
}

/// A manager's edit (API.md `update`): `patch` is contact JSON; `null` clears. Only editable
/// keys may be written (R-SCH-3); contact info written by a manager is verified (R-CON-2).
pub(crate) fn update(tx: &mut Tx, id: &str, patch: &serde_json::Value) -> Result<Contact> {
    let before = existing(tx, id)?;
    let mut c = before.clone();
    let obj = patch.as_object().ok_or_else(|| {
        Error::validation(
            None,
            "a JSON object of keys to change",
            "the patch is not an object",
        )
    })?;
    let apply = |tx: &Tx, c: &mut Contact, key: &str, v: &serde_json::Value| -> Result<()> {
        match key {
            "tags" => {
                tx.schema.writable("tags")?;
                c.tags = if v.is_null() {
                    Vec::new()
                } else {
                    let list: Vec<String> =
                        serde_json::from_value(v.clone()).map_err(|_| Error::Validation {
                            key: Some("tags".into()),
                            // R-VAL-9: the offending text, a string as written, any other
                            // JSON value as JSON.
                            text: Some(crate::error::cut_text(&match v {
                                serde_json::Value::String(s) => s.clone(),
                                other => other.to_string(),
                            })),
                            expected: "a list of tags".into(),
                            message: "tags must be a list of strings".into(),
                        })?;
                    parse_tags(list)?
                };
            }
            "unsubscribeEmail" | "unsubscribeTexting" => {
                tx.schema.writable(key)?;
                let b = match v {
                    serde_json::Value::Null => None,
                    other => match Value::from_json(FieldType::Boolean, other)
                        .map_err(|e| e.with_key(key))?
                    {
                        Value::Boolean(b) => Some(b),
                        _ => None,
                    },
                };
                if key == "unsubscribeEmail" {
                    c.unsubscribe_email = b;
                } else {
                    c.unsubscribe_texting = b;
                }
            }
            k if k.starts_with("profile.") => {
                if v.is_null() {
                    let def = tx.schema.writable(k)?;
                    let name = def.profile_name().unwrap_or_default().to_string();
                    c.profile.remove(&name);
                    if name == "email" {
                        c.verified.email = false;
                    }
                    if name == "mobileNumber" {
                        c.verified.mobile_number = false;
                    }
                } else {
                    let (name, value) = manager_value(tx, k, v)?;
                    if name == "email" {
                        c.verified.email = true;
                    }
                    if name == "mobileNumber" {
                        c.verified.mobile_number = true;
                    }
                    c.profile.insert(name, value);
                }
            }
            other => {
                tx.schema.writable(other)?;
                return Err(Error::invalid_key(
                    other,
                    "an editable key",
                    "this key cannot be edited",
                ));
            }
        }
        Ok(())
    };
    // A profile key may be named twice: flat (`profile.city`) and under `profile` as `city`
    // or `profile.city`. As for a new lead (R-CON-1), both must say the same, or which one
    // is meant is a guess: each key's value as written is kept to compare with.
    let mut written: Vec<(String, Option<Value>)> = Vec::new();
    let mut apply_once = |tx: &Tx, c: &mut Contact, key: &str, v: &serde_json::Value| {
        apply(tx, c, key, v)?;
        let Some(name) = key.strip_prefix("profile.") else {
            return Ok(());
        };
        let now = c.profile.get(name).cloned();
        match written.iter().find(|(n, _)| n == name) {
            Some((_, before)) => {
                let same = match (before, &now) {
                    (Some(a), Some(b)) => same_value(a, b),
                    (a, b) => a == b,
                };
                if !same {
                    return Err(given_twice(key, "the patch", None));
                }
            }
            None => written.push((name.to_string(), now)),
        }
        Ok(())
    };
    for (k, v) in obj {
        if k == "profile" {
            let inner = v.as_object().ok_or_else(|| {
                Error::invalid_key(
                    "profile",
                    "an object of profile values",
                    "`profile` must be an object",
                )
            })?;
            let mut key = String::new();
            for (name, v) in inner {
                apply_once(tx, &mut c, profile_key(name, &mut key), v)?;
            }
        } else {
            apply_once(tx, &mut c, k, v)?;
        }
    }
    check_profile_limits(&c.profile)?;
    finish_manager_write(tx, &before, c)
}

/// The contact with this id, or `NotFound`.
///
/// A write does not follow an id merged or unified into another contact, as `get` does: a
/// stale id acting on the survivor could block or delete what a merge made. The error names
/// the survivor instead, so the caller can act on it knowingly.
pub(crate) fn existing(tx: &Tx, id: &str) -> Result<Contact> {
    if let Some(c) = tx.get(id)? {
        return Ok(c);
    }
    let hint = match tx.resolve(id)? {
        Some(survivor) => format!(
            "it was merged or unified into contact {}; act on that id",
            survivor.id
        ),
        None => "it may have been deleted or merged; search for it again".to_string(),
    };
    Err(Error::not_found("contact", id, &hint))
}

/// Marks a contact's email or mobile number as verified (R-CON-2).
pub(crate) fn verify(tx: &mut Tx, id: &str, field: &str) -> Result<Contact> {
    let before = existing(tx, id)?;
    let mut c = before.clone();
    match field.strip_prefix("profile.").unwrap_or(field) {
        "email" if c.email().is_some() => c.verified.email = true,
        "mobileNumber" if c.mobile_number().is_some() => c.verified.mobile_number = true,
        "email" | "mobileNumber" => {
            return Err(Error::invalid_key(
                field,
                "a field that holds a value",
                "there is nothing to verify",
            ))
        }
        _ => {
            return Err(Error::invalid_key(
                field,
                "`profile.email` or `profile.mobileNumber`",
                "only contact info can be verified",
            ))
        }
    }
    finish_manager_write(tx, &before, c)
}

/// Blocks a contact (R-CON-6): out of lists, MU, segments and audiences; room it frees is
/// filled from the hidden contacts.
pub(crate) fn block(tx: &mut Tx, id: &str) -> Result<Contact> {
    let mut c = existing(tx, id)?;
    if c.blocked {
        return Ok(c);
    }
    c.blocked = true;
    c.hidden = false;
    c.updated_at = tx.now;
    tx.put(c.clone())?;
    crate::mu::fill_room(tx)?;
    Ok(c)
}

/// Unblocks a contact (R-CON-6); at the MU limit it comes back hidden.
pub(crate) fn unblock(tx: &mut Tx, id: &str) -> Result<Contact> {
    let mut c = existing(tx, id)?;
    if !c.blocked {
        return Ok(c);
    }
    c.blocked = false;
    c.updated_at = tx.now;
    crate::mu::place_manager_write(tx, &mut c, false)?;
    tx.put(c.clone())?;
    Ok(c)
}

/// Deletes a contact for good (R-CON-5), purging merge snapshots and pending unifications
/// that hold its data; freed room is filled from the hidden contacts.
pub(crate) fn delete(tx: &mut Tx, id: &str) -> Result<()> {
    let c = existing(tx, id)?;
    void_merges_of(tx, &c.id, "was deleted")?;
    purge_pending_of(tx, &c.id)?;
    tx.delete(&c.id)?;
    crate::mu::fill_room(tx)?;
    Ok(())
}

/// Adds tags to a contact (R-CON-7); a contact keeps at most 200 tags.
pub(crate) fn add_tags(tx: &mut Tx, id: &str, tags: &[String]) -> Result<Contact> {
    let before = existing(tx, id)?;
    let mut c = before.clone();
    append_new(&mut c.tags, tags);
    if c.tags.len() > MAX_LIST_ITEMS {
        return Err(Error::invalid_key(
            "tags",
            format!("at most {MAX_LIST_ITEMS} tags"),
            format!("the contact would have {} tags", c.tags.len()),
        ));
    }
    if c.tags == before.tags {
        // Nothing to change: not a write (`updatedAt` stays).
        return Ok(before);
    }
    finish_manager_write(tx, &before, c)
}

/// Removes tags from a contact; removing a parent tag removes its children (R-FLT-9).
pub(crate) fn remove_tags(tx: &mut Tx, id: &str, tags: &[String]) -> Result<Contact> {
    let before = existing(tx, id)?;
    let mut c = before.clone();
    c.tags.retain(|t| {
        !tags.iter().any(|r| {
            t == r
                || t.strip_prefix(r.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    });
    if c.tags == before.tags {
        // Nothing to change: not a write (`updatedAt` stays).
        return Ok(before);
    }
    finish_manager_write(tx, &before, c)
}

/// Sets an opt-out (R-CON-7).
pub(crate) fn set_opt_out(tx: &mut Tx, id: &str, medium: Medium, value: bool) -> Result<Contact> {
    let before = existing(tx, id)?;
    let mut c = before.clone();
    match medium {
        Medium::Email => c.unsubscribe_email = Some(value),
        Medium::Texting => c.unsubscribe_texting = Some(value),
    }
    finish_manager_write(tx, &before, c)
}
