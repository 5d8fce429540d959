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
///
/// A packed key is forgotten lazily: unless it is the first or last key held,
/// [`Ledger::forget`] only counts it stale, and it stays in `packed` until a read meets
/// it ([`Ledger::first`], [`Ledger::last`], which ask the caller whether each key is still
/// a contact's current key and drop the stale ones they pass) or the ledger is rebuilt
/// ([`Ledger::rebuild`]). A boot moves its contact from a random place in the visible
/// ledger to its end; finding that place (a search of the blocks' last keys, then of a
/// block of 64 cache lines) was most of a boot's waits for memory in a large book, and the
/// end is always at hand.
#[derive(Debug, Default)]
pub(crate) struct Ledger {
    packed: BlockSet,
    /// How many keys of `packed` are stale.
    stale: usize,
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
        self.packed.len().saturating_sub(self.stale) + self.other.len()
    }

    /// Adds a contact at its place.
    pub(crate) fn insert(&mut self, at: LedgerAt, id: IdRef<'_>) {
        match pack(at, id) {
            Some(k) => {
                if !self.packed.insert(k) {
                    // Held already, stale: the contact is back at a place it held before.
                    self.stale = self.stale.saturating_sub(1);
                }
            }
            None => {
                self.other.insert((at.0, at.1, id.to_key()));
            }
        }
    }

    /// Forgets a contact held at `at`, which is then no longer its current place (the
    /// caller has moved the contact, or will before the next read).
    pub(crate) fn forget(&mut self, at: LedgerAt, id: IdRef<'_>) {
        match pack(at, id) {
            // At either end the key goes at once, as cheaply as it is counted: a limit
            // hides the oldest visible contacts and room un-hides the newest hidden ones,
            // so those runs of keys do not wait, stale, for the next read to walk them.
            Some(k) if self.packed.remove_if_first(k) || self.packed.remove_if_last(k) => {}
            Some(_) => self.stale += 1,
            None => {
                self.other.remove(&(at.0, at.1, id.to_key()));
            }
        }
    }

    /// How many keys of `packed` are stale.
    #[cfg(test)]
    pub(crate) fn stale(&self) -> usize {
        self.stale
    }

    /// Whether stale keys are as many as the contacts held (and a few thousand), so that
    /// a rebuild ([`Ledger::rebuild`]) is due: the ledger then holds at most twice its
    /// contacts' keys, and a rebuild's cost is spread over as many writes as it drops keys.
    pub(crate) fn compaction_due(&self) -> bool {
        self.stale > 4096 && self.stale > self.len()
    }

    /// Rebuilds the packed keys from every contact's current place in this ledger (all of
    /// them, in any order), dropping the stale ones.
    pub(crate) fn rebuild<'a>(&mut self, current: impl Iterator<Item = (LedgerAt, IdRef<'a>)>) {
        let mut keys: Vec<u128> = current.filter_map(|(at, id)| pack(at, id)).collect();
        // Mostly in order already (contacts are created and seen in time order), which the
        // pattern-defeating sort takes in long runs.
        keys.sort_unstable();
        self.packed = BlockSet::from_sorted(keys);
        self.stale = 0;
    }

    /// The ids of the first `n` contacts (the oldest), in order. Stale keys met on the way
    /// are dropped: `current(seen, created, seq)` says whether that is a contact's current
    /// place in this ledger.
    pub(crate) fn first(
        &mut self,
        n: usize,
        current: impl FnMut(i64, i64, u64) -> bool,
    ) -> Vec<IdKey> {
        self.take(n, false, current)
    }

    /// The ids of the last `n` contacts (the newest), newest first. Stale keys met on the
    /// way are dropped.
    pub(crate) fn last(
        &mut self,
        n: usize,
        current: impl FnMut(i64, i64, u64) -> bool,
    ) -> Vec<IdKey> {
        self.take(n, true, current)
    }

    fn take(
        &mut self,
        n: usize,
        desc: bool,
        mut current: impl FnMut(i64, i64, u64) -> bool,
    ) -> Vec<IdKey> {
        let n = n.min(self.len());
        let mut gone = Vec::new();
        let ids = {
            let mut live = |k: &u128| {
                let ok = self.stale == 0 || with_parts(*k, &mut current);
                if !ok {
                    gone.push(*k);
                }
                ok
            };
            if desc {
                take_merged(
                    self.packed.iter().rev().filter(&mut live).map(unpack),
                    self.other.iter().rev().cloned(),
                    n,
                    true,
                )
            } else {
                take_merged(
                    self.packed.iter().filter(&mut live).map(unpack),
                    self.other.iter().cloned(),
                    n,
                    false,
                )
            }
        };
        // Met in the order of the walk: descending when it ran from the newest.
        if desc {
            gone.reverse();
        }
        let dropped = self.packed.remove_sorted(&gone);
        self.stale = self.stale.saturating_sub(dropped);
        ids
    }
}

/// `f(seen, created, seq)` of a packed key.
fn with_parts(k: u128, f: &mut impl FnMut(i64, i64, u64) -> bool) -> bool {
    match unpack(k) {
        (seen, created, IdKey::Seq(n)) => f(seen, created, n),
        _ => false,
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
        /// id) keys ordered by id text would, through any inserts, forgets, reads (which
        /// drop the stale keys they meet) and rebuilds, as the table makes them: a key is
        /// forgotten only while held, and added only while not held.
        #[test]
        fn ledger_orders_as_one_set_of_full_keys(
            ops in proptest::collection::vec((0u8..10, time(), time(), id()), 0..300),
            n in 0usize..60,
        ) {
            let mut l = Ledger::default();
            let mut model: BTreeSet<(i64, i64, IdKey)> = BTreeSet::new();
            for (op, ls, cr, id) in ops {
                let key = (ls, cr, id.clone());
                match op {
                    0..=3 if !model.contains(&key) => {
                        l.insert((ls, cr), id.as_ref());
                        model.insert(key);
                    }
                    0..=3 => {
                        l.forget((ls, cr), id.as_ref());
                        model.remove(&key);
                    }
                    4 | 5 => {
                        let current = |s, c, q| model.contains(&(s, c, IdKey::Seq(q)));
                        let got = if op == 4 { l.first(n, current) } else { l.last(n, current) };
                        let want: Vec<IdKey> = if op == 4 {
                            model.iter().take(n).map(|k| k.2.clone()).collect()
                        } else {
                            model.iter().rev().take(n).map(|k| k.2.clone()).collect()
                        };
                        prop_assert_eq!(got, want);
                    }
                    6 => l.rebuild(model.iter().rev().map(|(s, c, id)| ((*s, *c), id.as_ref()))),
                    7 | 8 => {
                        // The oldest or the newest contact leaves, as a limit hides the
                        // oldest and room un-hides the newest hidden; with no stale keys
                        // before it, it leaves at once and none becomes stale.
                        let end = if op == 7 { model.first() } else { model.last() };
                        if let Some((s, c, id)) = end.cloned() {
                            let stale = l.stale;
                            l.forget((s, c), id.as_ref());
                            model.remove(&(s, c, id));
                            if stale == 0 {
                                prop_assert_eq!(l.stale, 0);
                            }
                        }
                    }
                    _ => {}
                }
                prop_assert_eq!(l.len(), model.len());
            }
            let current = |s, c, q| model.contains(&(s, c, IdKey::Seq(q)));
            let first: Vec<IdKey> = model.iter().take(n).map(|k| k.2.clone()).collect();
            prop_assert_eq!(l.first(n, current), first);
            let last: Vec<IdKey> = model.iter().rev().take(n).map(|k| k.2.clone()).collect();
            prop_assert_eq!(l.last(n, current), last);
            // After a rebuild only current keys are held.
            l.rebuild(model.iter().map(|(s, c, id)| ((*s, *c), id.as_ref())));
            prop_assert_eq!(l.packed.len(), l.len() - l.other.len());
        }
    }
}
