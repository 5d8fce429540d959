//! The pending unifications of one channel (R-UNI-2), in the order they were recorded,
//! found by pair and by contact without a walk over all of them: a delete, merge, unmerge
//! or login asks for the pairs of one contact, and a book can hold a pair for a tenth of
//! its contacts.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::store::PendingUnification;

/// The pairs, by the order they were (last) recorded in.
#[derive(Debug, Default)]
pub(crate) struct PendingSet {
    by_order: BTreeMap<u64, PendingUnification>,
    /// A contact id (lead or member) → the places of its pairs (a contact has few).
    by_contact: HashMap<String, BTreeSet<u64>>,
    next: u64,
}

impl PendingSet {
    /// Records `p`, replacing the pair of the same lead and member, which moves to the end.
    pub(crate) fn put(&mut self, p: &PendingUnification) {
        self.delete(&p.lead_id, &p.member_id);
        let at = self.next;
        self.next += 1;
        for id in [&p.lead_id, &p.member_id] {
            self.by_contact.entry(id.clone()).or_default().insert(at);
        }
        self.by_order.insert(at, p.clone());
    }

    /// Removes the pair of this lead and member, if recorded.
    pub(crate) fn delete(&mut self, lead: &str, member: &str) {
        let found = self.by_contact.get(lead).and_then(|places| {
            places.iter().copied().find(|at| {
                self.by_order
                    .get(at)
                    .is_some_and(|p| p.lead_id == lead && p.member_id == member)
            })
        });
        let Some(at) = found else {
            return;
        };
        self.by_order.remove(&at);
        for id in [lead, member] {
            if let Some(set) = self.by_contact.get_mut(id) {
                set.remove(&at);
                if set.is_empty() {
                    self.by_contact.remove(id);
                }
            }
        }
    }

    /// Every pair, or those naming `contact_id` as lead or member, in the order recorded.
    pub(crate) fn list(&self, contact_id: Option<&str>) -> Vec<PendingUnification> {
        match contact_id {
            None => self.by_order.values().cloned().collect(),
            Some(id) => self
                .by_contact
                .get(id)
                .into_iter()
                .flatten()
                .filter_map(|at| self.by_order.get(at).cloned())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(lead: &str, member: &str, value: &str) -> PendingUnification {
        PendingUnification {
            lead_id: lead.into(),
            member_id: member.into(),
            field: "profile.email".into(),
            value: value.into(),
            since: chrono::DateTime::UNIX_EPOCH,
        }
    }

    /// The set against a plain list of the pairs, as the store kept them before: a put
    /// replaces the pair of the same lead and member and moves it to the end, a delete
    /// removes it, and a listing (all, or by contact) is in that order.
    #[test]
    fn r_uni_2_pending_pairs_list_as_a_plain_list_does() {
        let ids = ["c1", "c2", "c3", "m1", "m2"];
        let mut set = PendingSet::default();
        let mut model: Vec<PendingUnification> = Vec::new();
        let mut x: u64 = 7;
        for step in 0..2_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let lead = ids[(x % 3) as usize];
            let member = ids[3 + ((x >> 8) % 2) as usize];
            if (x >> 16) % 3 == 0 {
                set.delete(lead, member);
                model.retain(|p| !(p.lead_id == lead && p.member_id == member));
            } else {
                let p = pair(lead, member, &format!("v{step}"));
                set.put(&p);
                model.retain(|q| !(q.lead_id == lead && q.member_id == member));
                model.push(p);
            }
            assert_eq!(set.list(None), model, "step {step}");
            for id in ids {
                let want: Vec<_> = model
                    .iter()
                    .filter(|p| p.lead_id == id || p.member_id == id)
                    .cloned()
                    .collect();
                assert_eq!(set.list(Some(id)), want, "step {step}, {id}");
            }
        }
    }
}
