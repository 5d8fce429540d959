//! Managed users (R-MU): the count, the manual limit, and the event-driven hiding and
//! un-hiding of contacts. Every event costs O((k+1)·log n) for k contacts hidden or
//! un-hidden: the store keeps ordered ledgers, nothing is rescanned (R-MU-6).

use crate::contact::Contact;
use crate::error::Result;
use crate::store::Ledger;
use crate::tx::Tx;

/// Free room under the limit (`None` = no limit). Negative when over it.
pub(crate) fn room(tx: &Tx) -> Result<Option<i64>> {
    match tx.settings.mu_limit {
        None => Ok(None),
        // A limit past `i64::MAX` leaves room for every contact there can be.
        Some(limit) => Ok(Some(
            i64::try_from(limit)
                .unwrap_or(i64::MAX)
                .saturating_sub(i64::try_from(tx.mu_count()?).unwrap_or(i64::MAX)),
        )),
    }
}

/// A manager's write of a contact that is new or may have just become countable
/// (R-MU-2/3): it never hides another contact; the contact itself is created (or kept)
/// hidden when there is no room. `was_counted` says whether the contact counted before this
/// write. Returns whether the contact ends up hidden.
pub(crate) fn place_manager_write(tx: &Tx, c: &mut Contact, was_counted: bool) -> Result<bool> {
    if c.blocked || c.hidden || was_counted || !c.has_contact_info() {
        return Ok(c.hidden);
    }
    if let Some(r) = room(tx)? {
        if r <= 0 {
            c.hidden = true;
        }
    }
    Ok(c.hidden)
}

/// Fills freed room from the most recently seen hidden contacts (R-MU-2/3). Returns how
/// many were un-hidden.
pub(crate) fn fill_room(tx: &mut Tx) -> Result<usize> {
    let mut done = 0;
    loop {
        let free = room(tx)?.unwrap_or(i64::MAX);
        if free <= 0 {
            return Ok(done);
        }
        // One ledger read for the whole event: reading in small batches would re-read the
        // contacts this transaction already changed, k²/batch work (R-MU-6).
        let want = usize::try_from(free).unwrap_or(usize::MAX);
        let batch = tx.ledger(Ledger::NewestHidden, want)?;
        if batch.is_empty() {
            return Ok(done);
        }
        for mut s in batch {
            s.hidden = false;
            tx.put_state(s)?;
            done += 1;
        }
    }
}

/// Hides the visible contacts with the oldest `lastSeenAt` until MU fits the limit
/// (R-MU-2), never hiding `keep`. Returns how many were hidden.
pub(crate) fn enforce_limit(tx: &mut Tx, keep: Option<&str>) -> Result<usize> {
    let mut done = 0;
    loop {
        let over = match room(tx)? {
            None => return Ok(done),
            Some(r) if r >= 0 => return Ok(done),
            Some(r) => -r,
        };
        let want = usize::try_from(over).unwrap_or(usize::MAX) + keep.is_some() as usize;
        let batch = tx.ledger(Ledger::OldestVisible, want)?;
        let mut progressed = false;
        for mut s in batch {
            if Some(s.id.as_str()) == keep {
                continue;
            }
            if room(tx)?.is_none_or(|r| r >= 0) {
                break;
            }
            s.hidden = true;
            tx.put_state(s)?;
            done += 1;
            progressed = true;
        }
        if !progressed {
            return Ok(done);
        }
    }
}

/// Applies a new limit (R-MU-2): lowering hides the least recently seen, raising or removing
/// un-hides the most recently seen hidden contacts.
pub(crate) fn set_limit(tx: &mut Tx, limit: Option<u64>) -> Result<()> {
    tx.settings.mu_limit = limit;
    tx.op(crate::store::Op::PutSettings(tx.settings.clone()));
    enforce_limit(tx, None)?;
    fill_room(tx)?;
    Ok(())
}
