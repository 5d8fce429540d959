//! An MU ledger (R-MU-2): contacts in (`lastSeenAt`, `createdAt`, id) order, so that the
//! least recently seen visible contact, or the most recently seen hidden one, is found at
//! once. A contact with a sequence id (`c_` + 12 digits, all of a book's own contacts)
//! seen and created between 1970 and 2527 is held as one 16-byte key: both times in 44
//! bits of milliseconds and the id's number, which orders as its text does, in 40 bits, in sorted blocks (`blocks`).
//! Any other contact is held in a set of its own, and reads merge the two in the full
//! (`lastSeenAt`, `createdAt`, id text) order.

use std::collections::BTreeSet;

use super::blocks::BlockSet;
use super::table::{IdKey, IdRef};

/// (`lastSeenAt`, `createdAt`) in milliseconds.
pub(crate) type LedgerAt = (i64, i64);

/// One MU ledger.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    packed: BlockSet,
    other: BTreeSet<(i64, i64, IdKey)>,
}

const TIME_BITS: u32 = 44;
const SEQ_BITS: u32 = 40;

/// The one key of a contact, if its times and id fit: ordered as (`lastSeenAt`,
/// `createdAt`, id number) are.
fn pack(at: LedgerAt, id: IdRef<'_>) -> Option<u128> {
    let time = |t: i64| u64::try_from(t).ok().filter(|t| *t < 1 << TIME_BITS);
    let (seen, created) = (time(at.0)?, time(at.1)?);
    let n = match id {
        IdRef::Seq(n) if n < 1 << SEQ_BITS => n,
        _ => return None,
    };
    Some(
        u128::from(seen) << (TIME_BITS + SEQ_BITS)
            | u128::from(created) << SEQ_BITS
            | u128::from(n),
    )
}

fn unpack(k: u128) -> (i64, i64, IdKey) {
    let mask = |bits: u32| (1u128 << bits) - 1;
    // Each part was a non-negative value below 2^44 (2^40 for the number).
    let part = |shift: u32, bits: u32| ((k >> shift) & mask(bits)) as u64;
    (
        part(TIME_BITS + SEQ_BITS, TIME_BITS) as i64,
        part(SEQ_BITS, TIME_BITS) as i64,
        IdKey::Seq(part(0, SEQ_BITS)),
    )
}

impl Ledger {
    /// How many contacts are held.
    pub(crate) fn len(&self) -> usize {
        self.packed.len() + self.other.len()
    }

    /// Adds a contact at its place.
    pub(crate) fn insert(&mut self, at: LedgerAt, id: IdRef<'_>) {
        match pack(at, id) {
            Some(k) => {
                self.packed.insert(k);
            }
            None => {
                self.other.insert((at.0, at.1, id.to_key()));
            }
        }
    }

    /// Removes a contact held at `at`.
    pub(crate) fn remove(&mut self, at: LedgerAt, id: IdRef<'_>) {
        match pack(at, id) {
            Some(k) => {
                self.packed.remove(k);
            }
            None => {
                self.other.remove(&(at.0, at.1, id.to_key()));
            }
        }
    }

    /// Fetches ahead what removing a contact held at `at` will read.
    pub(crate) fn prefetch(&self, at: LedgerAt, id: IdRef<'_>) {
        if let Some(k) = pack(at, id) {
            self.packed.prefetch(k);
        }
    }

    /// The ids of the first `n` contacts (the oldest), in order.
    pub(crate) fn first(&self, n: usize) -> Vec<IdKey> {
        take_merged(
            self.packed.iter().map(unpack),
            self.other.iter().cloned(),
            n.min(self.len()),
            false,
        )
    }

    /// The ids of the last `n` contacts (the newest), newest first.
    pub(crate) fn last(&self, n: usize) -> Vec<IdKey> {
        take_merged(
            self.packed.iter().rev().map(unpack),
            self.other.iter().rev().cloned(),
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
            // Sequence numbers too large to pack (ids of 13 digits and more cannot be
            // sequence ids, but the ledger does not rely on it).
            ((1u64 << SEQ_BITS) - 2..(1u64 << SEQ_BITS) + 2).prop_map(IdKey::Seq),
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

    /// Times from before 1970 to past what 44 bits of milliseconds hold, few enough that
    /// keys tie.
    fn time() -> impl Strategy<Value = i64> {
        prop_oneof![
            0i64..4,
            -2i64..0,
            (1i64 << TIME_BITS) - 2..(1i64 << TIME_BITS) + 2,
            Just(i64::MIN),
            Just(i64::MAX),
        ]
    }

    proptest! {
        /// The ledger holds and orders exactly as one set of (`lastSeenAt`, `createdAt`,
        /// id) keys ordered by id text would, through any inserts and removes.
        #[test]
        fn ledger_orders_as_one_set_of_full_keys(
            ops in proptest::collection::vec((any::<bool>(), time(), time(), id()), 0..200),
            n in 0usize..60,
        ) {
            let mut l = Ledger::default();
            let mut model: BTreeSet<(i64, i64, IdKey)> = BTreeSet::new();
            for (add, ls, cr, id) in ops {
                if add {
                    l.insert((ls, cr), id.as_ref());
                    model.insert((ls, cr, id));
                } else {
                    l.remove((ls, cr), id.as_ref());
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
