//! An ordered set of 16-byte keys in sorted blocks, for the MU ledgers.
//!
//! Hand-written because the ledgers' keys arrive mostly in ascending order (contacts are
//! created and seen "now"), which leaves the standard `BTreeSet`'s nodes about half full
//! (it splits a full node in the middle): 32–35 bytes a key. Here a key past the end
//! fills the last block to the brim, so appended keys cost 16 bytes; a key inserted in
//! the middle splits its block in two, and a block that shrinks below half full merges
//! with a neighbour that has room for its keys, so that blocks stay half full on average
//! however keys come and go. Finding a key's block is a binary search of the blocks' last
//! keys, held in one array.
//!
//! A removed key stays in its block, marked dead, until the block is rewritten (a merge,
//! or an insert into its middle): removing it from the array would move half a block
//! (2 KiB); only the last key held leaves at once. The ledgers remove keys only at the
//! ends or where a read has just walked (see `Ledger::forget`), or rebuild the whole set
//! ([`BlockSet::from_sorted`]).
use std::collections::VecDeque;

/// Keys a block holds at most (dead ones included).
const BLOCK: usize = 256;

/// One sorted block.
#[derive(Debug)]
struct Block {
    /// Strictly ascending; dead keys included.
    keys: Vec<u128>,
    /// Bit `i`: `keys[i]` was removed.
    dead: [u64; BLOCK / 64],
    /// How many keys are not dead.
    live: usize,
}

impl Block {
    fn new() -> Block {
        Block {
            keys: Vec::with_capacity(BLOCK),
            dead: [0; BLOCK / 64],
            live: 0,
        }
    }

    fn is_dead(&self, i: usize) -> bool {
        self.dead
            .get(i / 64)
            .is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    fn set_dead(&mut self, i: usize, dead: bool) {
        if let Some(w) = self.dead.get_mut(i / 64) {
            if dead {
                *w |= 1 << (i % 64);
            } else {
                *w &= !(1 << (i % 64));
            }
        }
    }

    /// The keys that are not dead, in order.
    fn live_keys(&self) -> impl DoubleEndedIterator<Item = u128> + '_ {
        self.keys
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.is_dead(*i))
            .map(|(_, k)| *k)
    }

    /// The index of the first key that is not dead.
    fn first_live(&self) -> Option<usize> {
        let i = self
            .dead
            .iter()
            .enumerate()
            .find(|(_, w)| **w != u64::MAX)
            .map(|(wi, w)| wi * 64 + (!w).trailing_zeros() as usize)?;
        (i < self.keys.len()).then_some(i)
    }

    /// The index of the last key that is not dead.
    fn last_live(&self) -> Option<usize> {
        (0..self.keys.len()).rev().find(|i| !self.is_dead(*i))
    }

    /// Drops the dead keys.
    fn compact(&mut self) {
        if self.live == self.keys.len() {
            return;
        }
        let mut i = 0;
        let dead = self.dead;
        self.keys.retain(|_| {
            i += 1;
            dead.get((i - 1) / 64)
                .is_none_or(|w| w >> ((i - 1) % 64) & 1 == 0)
        });
        self.dead = [0; BLOCK / 64];
    }
}

/// The ordered set.
#[derive(Debug, Default)]
pub(crate) struct BlockSet {
    /// Sorted blocks, in order, each with a key that is not dead. A double-ended queue:
    /// a block emptied or merged away near the front (where the ledgers' reads drop the
    /// stale keys of the oldest contacts) moves only the blocks before it, not the
    /// thousands after it, as removing from a `Vec` would.
    blocks: VecDeque<Block>,
    /// The last key of each block (dead or not): every key of block `i` is at most
    /// `lasts[i]`, and every key of the blocks after it is greater.
    lasts: VecDeque<u128>,
    len: usize,
}

/// Keys a run of a block holds (four cache lines of keys).
const RUN: usize = 16;

/// Where `k` is in the sorted block `b` (`Ok`), or would go (`Err`), as `binary_search`
/// answers. A block spans 64 cache lines, which a binary search visits one after
/// another, each likely a miss in a large book. Here the position is counted instead:
/// first the runs of [`RUN`] keys whose last key lies below `k`, then the keys below `k`
/// in the one run left. Neither count's loads depend on each other, so the processor
/// fetches their lines at once: two waits for memory instead of about six.
fn find(b: &[u128], k: u128) -> Result<usize, usize> {
    let runs = b.len() / RUN;
    let below = b
        .iter()
        .skip(RUN - 1)
        .step_by(RUN)
        .take(runs)
        .fold(0, |n, l| n + usize::from(*l < k));
    let start = below * RUN;
    let end = (start + RUN).min(b.len());
    let at = start
        + b.get(start..end)
            .unwrap_or_default()
            .iter()
            .fold(0, |n, x| n + usize::from(*x < k));
    if b.get(at) == Some(&k) {
        Ok(at)
    } else {
        Err(at)
    }
}

impl BlockSet {
    /// How many keys are held.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The index of the block where `k` is or would go.
    fn block_of(&self, k: u128) -> usize {
        self.lasts.partition_point(|l| *l < k)
    }

    /// Adds `k`; `false` if it was held already.
    pub(crate) fn insert(&mut self, k: u128) -> bool {
        let i = self.block_of(k);
        if i == self.blocks.len() {
            // Past every key: onto the end of the last block while it has room.
            match self.blocks.back_mut() {
                Some(b) if b.keys.len() < BLOCK => {
                    b.keys.push(k);
                    b.live += 1;
                }
                _ => {
                    let mut b = Block::new();
                    b.keys.push(k);
                    b.live = 1;
                    self.blocks.push_back(b);
                    self.lasts.push_back(k);
                }
            }
            if let Some(l) = self.lasts.back_mut() {
                *l = k;
            }
            self.len += 1;
            return true;
        }
        let Some(b) = self.blocks.get_mut(i) else {
            return false;
        };
        let at = match find(&b.keys, k) {
            Ok(at) if b.is_dead(at) => {
                b.set_dead(at, false);
                b.live += 1;
                self.len += 1;
                return true;
            }
            Ok(_) => return false,
            Err(at) if b.live == b.keys.len() => at,
            Err(_) => {
                // Dead keys go before a key moves in among them.
                b.compact();
                match find(&b.keys, k) {
                    Err(at) => at,
                    Ok(_) => return false,
                }
            }
        };
        if b.keys.len() < BLOCK {
            b.keys.insert(at, k);
        } else {
            // Full: the upper half moves to a new block after this one.
            let mut upper = Block::new();
            upper.keys.extend_from_slice(&b.keys[BLOCK / 2..]);
            b.keys.truncate(BLOCK / 2);
            if at <= BLOCK / 2 {
                b.keys.insert(at, k);
            } else {
                upper.keys.insert(at - BLOCK / 2, k);
            }
            b.live = b.keys.len();
            upper.live = upper.keys.len();
            let (lower_last, upper_last) = (b.keys.last().copied(), upper.keys.last().copied());
            self.blocks.insert(i + 1, upper);
            self.lasts.insert(i + 1, upper_last.unwrap_or(k));
            if let (Some(l), Some(last)) = (self.lasts.get_mut(i), lower_last) {
                *l = last;
            }
            self.len += 1;
            return true;
        }
        b.live += 1;
        if let (Some(l), Some(last)) = (self.lasts.get_mut(i), b.keys.last()) {
            *l = *last;
        }
        self.len += 1;
        true
    }

    /// Removes `k` if it is the first key held, without a search: a ledger forgets its
    /// oldest contact this way when a limit hides it. `false` (and nothing changes) if the
    /// first key is another.
    pub(crate) fn remove_if_first(&mut self, k: u128) -> bool {
        let Some(b) = self.blocks.front_mut() else {
            return false;
        };
        let Some(at) = b.first_live().filter(|at| b.keys.get(*at) == Some(&k)) else {
            return false;
        };
        b.set_dead(at, true);
        b.live -= 1;
        self.len -= 1;
        if b.live == 0 {
            self.blocks.pop_front();
            self.lasts.pop_front();
        } else if b.live < BLOCK / 2 {
            self.merge_around(0);
        }
        true
    }

    /// Removes `k` if it is the last key held, without a search: a ledger forgets its
    /// newest hidden contact this way when room un-hides it. The key leaves its block,
    /// with any dead keys after it (nothing moves), so a key past the end is appended as
    /// before. `false` (and nothing changes) if the last key is another.
    pub(crate) fn remove_if_last(&mut self, k: u128) -> bool {
        let i = self.blocks.len().saturating_sub(1);
        let Some(b) = self.blocks.back_mut() else {
            return false;
        };
        let Some(at) = b.last_live().filter(|at| b.keys.get(*at) == Some(&k)) else {
            return false;
        };
        for dead in at..b.keys.len() {
            b.set_dead(dead, false);
        }
        b.keys.truncate(at);
        b.live -= 1;
        self.len -= 1;
        if b.live == 0 {
            self.blocks.pop_back();
            self.lasts.pop_back();
        } else {
            if let (Some(l), Some(last)) = (self.lasts.back_mut(), b.keys.last()) {
                *l = *last;
            }
            if b.live < BLOCK / 2 {
                self.merge_around(i);
            }
        }
        true
    }

    /// Removes `k`; `false` if it was not held.
    #[cfg(test)]
    fn remove(&mut self, k: u128) -> bool {
        self.remove_sorted(&[k]) == 1
    }

    /// Removes every key of `keys`, which ascend; returns how many were held. The keys of
    /// one block are found with one search for the block, and the block is merged with a
    /// neighbour (or dropped) once, after all of them: a ledger read drops the stale keys
    /// it walked past this way, a run of keys that often shares its blocks.
    pub(crate) fn remove_sorted(&mut self, keys: &[u128]) -> usize {
        let mut removed = 0;
        let mut rest = keys;
        while let Some(&first) = rest.first() {
            let i = self.block_of(first);
            let (Some(b), Some(&last)) = (self.blocks.get_mut(i), self.lasts.get(i)) else {
                break; // past every key held
            };
            let here = rest.partition_point(|k| *k <= last);
            for &k in &rest[..here] {
                if let Ok(at) = find(&b.keys, k) {
                    if !b.is_dead(at) {
                        b.set_dead(at, true);
                        b.live -= 1;
                        self.len -= 1;
                        removed += 1;
                    }
                }
            }
            if b.live == 0 {
                self.blocks.remove(i);
                self.lasts.remove(i);
            } else if b.live < BLOCK / 2 {
                self.merge_around(i);
            }
            rest = &rest[here..];
        }
        removed
    }

    /// Merges block `i` into a neighbour when the live keys of both fit in one block.
    fn merge_around(&mut self, i: usize) {
        let n = self.blocks.get(i).map_or(0, |b| b.live);
        let fits = |j: usize| self.blocks.get(j).is_some_and(|b| b.live + n <= BLOCK);
        let (into, from) = if i > 0 && fits(i - 1) {
            (i - 1, i)
        } else if fits(i + 1) {
            (i, i + 1)
        } else {
            return;
        };
        let Some(moved) = self.blocks.remove(from) else {
            return;
        };
        self.lasts.remove(from);
        if let Some(b) = self.blocks.get_mut(into) {
            b.compact();
            b.keys.extend(moved.live_keys());
            b.live = b.keys.len();
            if let (Some(l), Some(last)) = (self.lasts.get_mut(into), b.keys.last()) {
                *l = *last;
            }
        }
    }

    /// The set of `keys`, which are strictly ascending; each block is filled to the brim.
    pub(crate) fn from_sorted(keys: Vec<u128>) -> BlockSet {
        let mut s = BlockSet::default();
        for k in keys {
            s.insert(k);
        }
        s
    }

    /// The keys in ascending order (reversible).
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = u128> + '_ {
        self.blocks.iter().flat_map(Block::live_keys)
    }

    /// How many blocks hold the keys.
    #[cfg(test)]
    fn block_count(&self) -> usize {
        self.blocks.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[test]
    fn ascending_keys_fill_their_blocks() {
        let mut s = BlockSet::default();
        for k in 0..10 * BLOCK as u128 {
            assert!(s.insert(k));
        }
        assert_eq!(s.block_count(), 10);
        assert!(!s.insert(5));
        assert!(s.iter().eq(0..10 * BLOCK as u128));
    }

    #[test]
    fn shrinking_blocks_merge() {
        let mut s = BlockSet::default();
        for k in 0..8 * BLOCK as u128 {
            s.insert(k);
        }
        // Keep one key in eight: the blocks merge down to about a quarter as many.
        for k in 0..8 * BLOCK as u128 {
            if k % 8 != 0 {
                assert!(s.remove(k));
            }
        }
        assert_eq!(s.len(), BLOCK);
        assert!(s.block_count() <= 4, "{}", s.block_count());
        assert!(s.iter().eq((0..8 * BLOCK as u128).step_by(8)));
    }

    #[test]
    fn the_ends_leave_without_a_search() {
        let mut s = BlockSet::default();
        for k in 0..4 * BLOCK as u128 {
            s.insert(k);
        }
        // Oldest first from the front, newest first from the back, meeting in the middle.
        assert!(!s.remove_if_first(1));
        assert!(!s.remove_if_last(0));
        for k in 0..2 * BLOCK as u128 {
            assert!(s.remove_if_first(k));
            assert!(s.remove_if_last(4 * BLOCK as u128 - 1 - k));
        }
        assert_eq!(s.len(), 0);
        assert_eq!(s.block_count(), 0);
        assert!(s.insert(7));
        assert!(s.iter().eq([7]));
    }

    proptest! {
        /// `find` answers as `binary_search` does on any sorted block of up to a block's
        /// size, for keys held, between, below and above.
        #[test]
        fn find_answers_as_binary_search(
            keys in proptest::collection::btree_set(0u128..2000, 0..=BLOCK),
            probe in 0u128..2100,
        ) {
            let b: Vec<u128> = keys.into_iter().collect();
            prop_assert_eq!(find(&b, probe), b.binary_search(&probe));
            for k in b.iter().step_by(7) {
                prop_assert_eq!(find(&b, *k), b.binary_search(k));
            }
        }

        /// Through any inserts and removes the set holds and orders exactly what a
        /// `BTreeSet` does, and every block stays sorted, within size and in order.
        #[test]
        fn holds_what_a_btreeset_holds(
            ops in proptest::collection::vec((0u8..7, prop_oneof![0u128..600, any::<u128>()]), 0..3000),
        ) {
            let mut s = BlockSet::default();
            let mut model = BTreeSet::new();
            for (op, k) in ops {
                match op {
                    0 | 1 => prop_assert_eq!(s.insert(k), model.insert(k)),
                    2 | 3 => prop_assert_eq!(s.remove(k), model.remove(&k)),
                    4 | 5 => {
                        // The end key most of the time, any key otherwise.
                        let end = if op == 4 { model.first() } else { model.last() };
                        let k = end.copied().filter(|_| k % 4 != 0).unwrap_or(k);
                        let is_end = end == Some(&k);
                        let got = if op == 4 { s.remove_if_first(k) } else { s.remove_if_last(k) };
                        prop_assert_eq!(got, is_end);
                        if is_end {
                            model.remove(&k);
                        }
                    }
                    _ => {
                        // A run of keys, some held and some not, over one block or several.
                        let run: Vec<u128> = (0..k % 400)
                            .map(|d| k.saturating_add(d * (1 + k % 3)))
                            .filter(|x| x % 5 != 0)
                            .collect::<BTreeSet<_>>()
                            .into_iter()
                            .collect();
                        let held = run.iter().filter(|x| model.remove(*x)).count();
                        prop_assert_eq!(s.remove_sorted(&run), held);
                    }
                }
            }
            prop_assert_eq!(s.len(), model.len());
            prop_assert!(s.iter().eq(model.iter().copied()));
            prop_assert!(s.iter().rev().eq(model.iter().rev().copied()));
            for (b, l) in s.blocks.iter().zip(&s.lasts) {
                prop_assert!(b.live > 0 && b.keys.len() <= BLOCK);
                prop_assert_eq!(b.live, b.live_keys().count());
                prop_assert!(b.keys.windows(2).all(|w| w[0] < w[1]));
                prop_assert_eq!(b.keys.last(), Some(l));
            }
            prop_assert!(s.lasts.iter().zip(s.lasts.iter().skip(1)).all(|(a, b)| a < b));
            prop_assert_eq!(s.blocks.len(), s.lasts.len());
        }
    }
}
