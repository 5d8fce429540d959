//! A row's tags and import tags, interned: every row that holds the same two lists shares
//! one allocation. Contacts mostly repeat a few tag combinations, so a row pays 8 bytes for
//! its tags instead of a list of its own (16 bytes in the row and a heap block).

use std::hash::Hasher;
use std::sync::Arc;

use hashbrown::HashTable;

use super::index::FxHasher;

/// The interned ids of a row's tags, then of its import tags.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TagLists {
    ids: Box<[u32]>,
    /// How many of `ids` are tags; the rest are import tags.
    n_tags: usize,
}

impl TagLists {
    /// The interned ids of `tags`, in order.
    pub(crate) fn tags(&self) -> &[u32] {
        self.ids.get(..self.n_tags).unwrap_or_default()
    }

    /// The interned ids of `userImportTags`, in order.
    pub(crate) fn import_tags(&self) -> &[u32] {
        self.ids.get(self.n_tags..).unwrap_or_default()
    }
}

fn hash_of(tags: &[u32], import: &[u32]) -> u64 {
    let mut h = FxHasher::default();
    h.write_usize(tags.len());
    for t in tags.iter().chain(import) {
        h.write_u32(*t);
    }
    h.finish()
}

/// The interned tag lists of one table. A list no row holds any more is dropped by the
/// next sweep, which runs when the number of lists has doubled since the last one (so
/// sweeping costs O(1) per interned list).
#[derive(Debug, Default)]
pub(crate) struct TagInterner {
    lists: HashTable<Arc<TagLists>>,
    swept_at: usize,
}

/// Lists kept before the first sweep.
const FIRST_SWEEP: usize = 1024;

impl TagInterner {
    /// The shared lists holding `tags` then `import` (`None` when both are empty).
    pub(crate) fn intern(&mut self, tags: &[u32], import: &[u32]) -> Option<Arc<TagLists>> {
        if tags.is_empty() && import.is_empty() {
            return None;
        }
        let h = hash_of(tags, import);
        let same = |l: &Arc<TagLists>| l.tags() == tags && l.import_tags() == import;
        if let Some(l) = self.lists.find(h, same) {
            return Some(Arc::clone(l));
        }
        if self.lists.len() >= 2 * self.swept_at.max(FIRST_SWEEP) {
            self.sweep();
        }
        let ids: Box<[u32]> = tags.iter().chain(import).copied().collect();
        let l = Arc::new(TagLists {
            ids,
            n_tags: tags.len(),
        });
        self.lists
            .insert_unique(h, Arc::clone(&l), |l| hash_of(l.tags(), l.import_tags()));
        Some(l)
    }

    /// Drops the lists only the interner holds.
    fn sweep(&mut self) {
        self.lists.retain(|l| Arc::strong_count(l) > 1);
        self.swept_at = self.lists.len();
    }

    /// How many lists are interned (some may be held by no row until the next sweep).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lists.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn equal_lists_share_one_allocation_and_differ_from_others() {
        let mut t = TagInterner::default();
        let a = t.intern(&[1, 2], &[3]).unwrap();
        let b = t.intern(&[1, 2], &[3]).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        // The same ids split differently between tags and import tags are other lists.
        let c = t.intern(&[1], &[2, 3]).unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!((c.tags(), c.import_tags()), (&[1][..], &[2, 3][..]));
        assert!(t.intern(&[], &[]).is_none());
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn lists_no_row_holds_are_swept() {
        let mut t = TagInterner::default();
        let kept = t.intern(&[7], &[]).unwrap();
        for i in 0..10 * FIRST_SWEEP as u32 {
            // Dropped at once, as a row's replaced tags are.
            let _ = t.intern(&[i + 100], &[]);
        }
        assert!(t.len() <= 2 * FIRST_SWEEP, "{}", t.len());
        let again = t.intern(&[7], &[]).unwrap();
        assert!(Arc::ptr_eq(&kept, &again));
    }

    proptest! {
        /// Whatever was interned and dropped before, interning gives back exactly the
        /// lists asked for.
        #[test]
        fn interning_returns_the_lists_asked_for(
            lists in proptest::collection::vec(
                (proptest::collection::vec(0u32..20, 0..5), proptest::collection::vec(0u32..20, 0..3)),
                0..3000,
            )
        ) {
            let mut t = TagInterner::default();
            let mut held = Vec::new();
            for (i, (tags, import)) in lists.iter().enumerate() {
                let l = t.intern(tags, import);
                match &l {
                    None => prop_assert!(tags.is_empty() && import.is_empty()),
                    Some(l) => {
                        prop_assert_eq!(l.tags(), &tags[..]);
                        prop_assert_eq!(l.import_tags(), &import[..]);
                    }
                }
                if i % 3 == 0 {
                    held.push(l);
                }
            }
            for (l, (tags, import)) in held.iter().zip(lists.iter().step_by(3)) {
                if let Some(l) = l {
                    prop_assert_eq!(l.tags(), &tags[..]);
                    prop_assert_eq!(l.import_tags(), &import[..]);
                }
            }
        }
    }
}
