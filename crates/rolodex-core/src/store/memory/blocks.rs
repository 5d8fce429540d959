//! An ordered set of 16-byte keys in sorted blocks, for the MU ledgers.
//!
//! Hand-written because the ledgers' keys arrive mostly in ascending order (contacts are
//! created and seen "now"), which leaves the standard `BTreeSet`'s nodes about half full
//! (it splits a full node in the middle): 32–35 bytes a key. Here a key past the end
//! fills the last block to the brim, so appended keys cost 16 bytes; a key inserted in
//! the middle splits its block in two, and a block that shrinks below half full merges
//! with a neighbour that has room for its keys, so that blocks stay half full on average
//! however keys come and go. Finding a key's
//! block is a binary search of the blocks' last keys, held in one array.

/// Keys a block holds at most.
const BLOCK: usize = 256;

/// The ordered set.
#[derive(Debug, Default)]
pub(crate) struct BlockSet {
    /// Non-empty sorted blocks, in order.
    blocks: Vec<Vec<u128>>,
    /// The last key of each block.
    lasts: Vec<u128>,
    len: usize,
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
            match self.blocks.last_mut() {
                Some(b) if b.len() < BLOCK => b.push(k),
                _ => {
                    let mut b = Vec::with_capacity(BLOCK);
                    b.push(k);
                    self.blocks.push(b);
                    self.lasts.push(k);
                }
            }
            if let Some(l) = self.lasts.last_mut() {
                *l = k;
            }
            self.len += 1;
            return true;
        }
        let Some(b) = self.blocks.get_mut(i) else {
            return false;
        };
        let Err(at) = b.binary_search(&k) else {
            return false;
        };
        if b.len() < BLOCK {
            b.insert(at, k);
        } else {
            // Full: the upper half moves to a new block after this one.
            let mut upper = Vec::with_capacity(BLOCK);
            upper.extend_from_slice(&b[BLOCK / 2..]);
            b.truncate(BLOCK / 2);
            if at <= BLOCK / 2 {
                b.insert(at, k);
            } else {
                upper.insert(at - BLOCK / 2, k);
            }
            let (lower_last, upper_last) = (b.last().copied(), upper.last().copied());
            self.blocks.insert(i + 1, upper);
            self.lasts.insert(i + 1, upper_last.unwrap_or(k));
            if let (Some(l), Some(last)) = (self.lasts.get_mut(i), lower_last) {
                *l = last;
            }
        }
        self.len += 1;
        true
    }

    /// Removes `k`; `false` if it was not held.
    pub(crate) fn remove(&mut self, k: u128) -> bool {
        let i = self.block_of(k);
        let Some(b) = self.blocks.get_mut(i) else {
            return false;
        };
        let Ok(at) = b.binary_search(&k) else {
            return false;
        };
        b.remove(at);
        self.len -= 1;
        match b.last().copied() {
            None => {
                self.blocks.remove(i);
                self.lasts.remove(i);
            }
            Some(last) => {
                if let Some(l) = self.lasts.get_mut(i) {
                    *l = last;
                }
                if b.len() < BLOCK / 2 {
                    self.merge_around(i);
                }
            }
        }
        true
    }

    /// Merges block `i` into a neighbour when both fit in one block.
    fn merge_around(&mut self, i: usize) {
        let n = self.blocks.get(i).map_or(0, Vec::len);
        let fits = |j: usize| self.blocks.get(j).is_some_and(|b| b.len() + n <= BLOCK);
        let (into, from) = if i > 0 && fits(i - 1) {
            (i - 1, i)
        } else if fits(i + 1) {
            (i, i + 1)
        } else {
            return;
        };
        let moved = self.blocks.remove(from);
        self.lasts.remove(from);
        if let Some(b) = self.blocks.get_mut(into) {
            b.extend_from_slice(&moved);
            if let (Some(l), Some(last)) = (self.lasts.get_mut(into), b.last()) {
                *l = *last;
            }
        }
    }

    /// The keys in ascending order (reversible).
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = u128> + '_ {
        self.blocks.iter().flatten().copied()
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

    proptest! {
        /// Through any inserts and removes the set holds and orders exactly what a
        /// `BTreeSet` does, and every block stays sorted, within size and in order.
        #[test]
        fn holds_what_a_btreeset_holds(
            ops in proptest::collection::vec((any::<bool>(), prop_oneof![0u128..600, any::<u128>()]), 0..3000),
        ) {
            let mut s = BlockSet::default();
            let mut model = BTreeSet::new();
            for (add, k) in ops {
                if add {
                    prop_assert_eq!(s.insert(k), model.insert(k));
                } else {
                    prop_assert_eq!(s.remove(k), model.remove(&k));
                }
            }
            prop_assert_eq!(s.len(), model.len());
            prop_assert!(s.iter().eq(model.iter().copied()));
            prop_assert!(s.iter().rev().eq(model.iter().rev().copied()));
            for (b, l) in s.blocks.iter().zip(&s.lasts) {
                prop_assert!(!b.is_empty() && b.len() <= BLOCK);
                prop_assert_eq!(b.last(), Some(l));
            }
            prop_assert_eq!(s.blocks.len(), s.lasts.len());
        }
    }
}
