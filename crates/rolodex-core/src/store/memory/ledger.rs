//! An MU ledger (R-MU-2): contacts in (`lastSeenAt`, `createdAt`, id) order, so that the
//! least recently seen visible contact, or the most recently seen hidden one, is found at
//! once. Sequence ids (`c_` + 12 digits, all of a book's own contacts) are held by their
//! number, which orders as their text does, in a set of 24-byte keys; any other id in a
//! set of its own. Reads merge the two in id-text order.

use std::collections::BTreeSet;

use super::table::IdKey;

/// (`lastSeenAt`, `createdAt`) in milliseconds.
pub(crate) type LedgerAt = (i64, i64);

/// One MU ledger.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    seq: BTreeSet<(i64, i64, u64)>,
    other: BTreeSet<(i64, i64, Box<str>)>,
}

impl Ledger {
    /// How many contacts are held.
    pub(crate) fn len(&self) -> usize {
        self.seq.len() + self.other.len()
    }

    /// Adds a contact at its place.
    pub(crate) fn insert(&mut self, at: LedgerAt, id: &IdKey) {
        match id {
            IdKey::Seq(n) => {
                self.seq.insert((at.0, at.1, *n));
            }
            IdKey::Other(s) => {
                self.other.insert((at.0, at.1, s.clone()));
            }
        }
    }

    /// Removes a contact held at `at`.
    pub(crate) fn remove(&mut self, at: LedgerAt, id: &IdKey) {
        match id {
            IdKey::Seq(n) => {
                self.seq.remove(&(at.0, at.1, *n));
            }
            IdKey::Other(s) => {
                self.other.remove(&(at.0, at.1, s.clone()));
            }
        }
    }

    /// The ids of the first `n` contacts (the oldest), in order.
    pub(crate) fn first(&self, n: usize) -> Vec<IdKey> {
        take_merged(
            self.seq.iter().map(|&(a, b, s)| (a, b, IdKey::Seq(s))),
            self.other
                .iter()
                .map(|(a, b, s)| (*a, *b, IdKey::Other(s.clone()))),
            n.min(self.len()),
            false,
        )
    }

    /// The ids of the last `n` contacts (the newest), newest first.
    pub(crate) fn last(&self, n: usize) -> Vec<IdKey> {
        take_merged(
            self.seq
                .iter()
                .rev()
                .map(|&(a, b, s)| (a, b, IdKey::Seq(s))),
            self.other
                .iter()
                .rev()
                .map(|(a, b, s)| (*a, *b, IdKey::Other(s.clone()))),
            n.min(self.len()),
            true,
        )
    }
}

/// The ids of the first `n` entries of two sorted runs (descending runs when `desc`),
/// merged in the full key order.
fn take_merged(
    a: impl Iterator<Item = (i64, i64, IdKey)>,
    b: impl Iterator<Item = (i64, i64, IdKey)>,
    n: usize,
    desc: bool,
) -> Vec<IdKey> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let from_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => {
                if desc {
                    x >= y
                } else {
                    x <= y
                }
            }
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if from_a { a.next() } else { b.next() };
        if let Some((_, _, id)) = next {
            out.push(id);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn id() -> impl Strategy<Value = IdKey> {
        prop_oneof![
            (0u64..40).prop_map(IdKey::Seq),
            // Other ids that sort before, between and after sequence ids.
            prop_oneof![
                Just("a"),
                Just("c_0000000000x"),
                Just("c_1"),
                Just("z"),
                Just("c_")
            ]
            .prop_map(|s| IdKey::Other(s.into())),
        ]
    }

    proptest! {
        /// The ledger holds and orders exactly as one set of (`lastSeenAt`, `createdAt`,
        /// id) keys ordered by id text would, through any inserts and removes.
        #[test]
        fn ledger_orders_as_one_set_of_full_keys(
            ops in proptest::collection::vec((any::<bool>(), 0i64..4, 0i64..3, id()), 0..200),
            n in 0usize..60,
        ) {
            let mut l = Ledger::default();
            let mut model: BTreeSet<(i64, i64, IdKey)> = BTreeSet::new();
            for (add, ls, cr, id) in ops {
                if add {
                    l.insert((ls, cr), &id);
                    model.insert((ls, cr, id));
                } else {
                    l.remove((ls, cr), &id);
                    model.remove(&(ls, cr, id));
                }
            }
            prop_assert_eq!(l.len(), model.len());
            let first: Vec<IdKey> = model.iter().take(n).map(|k| k.2.clone()).collect();
            prop_assert_eq!(l.first(n), first);
            let last: Vec<IdKey> = model.iter().rev().take(n).map(|k| k.2.clone()).collect();
            prop_assert_eq!(l.last(n), last);
        }
    }
}
