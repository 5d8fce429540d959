//! Zone maps: for each block of [`ZONE_ROWS`] consecutive rows, bounds on the sort keys its
//! rows have held, so that a page sorted by a time or by `sessionCount` can pass over whole
//! blocks that cannot hold a better row than the page already has.
//!
//! The ordered indexes group rows in buckets 18.6 hours wide, and a page walks every
//! matching row of the buckets it reads. An import stamps all its rows with one
//! `createdAt`, so the default listing of a book built by one import walked the whole book
//! for ten rows (2 ms at 300,000 contacts). Rows of one block were mostly written together,
//! so their keys lie close: the bounds let the walk skip every block but the first few.
//!
//! Bounds only widen: a row written into a block widens the block's bounds to its keys,
//! and nothing narrows them (a deleted row's keys stay inside). So the bounds of a block
//! hold every key of every row in it, which is all a skip needs; a block whose bounds grew
//! wide is merely walked.

use std::ops::Bound;

use chrono::{DateTime, Utc};

use super::table::{instant_micros, Row, Slot, S_CREATED, S_LAST_SEEN, S_SESSIONS, S_UPDATED};

/// Rows a zone covers.
pub(crate) const ZONE_ROWS: u32 = 256;

/// The keys a zone bounds: `createdAt`, `updatedAt`, `lastSeenAt` (as [`time_key`]),
/// `sessionCount` (as [`total_order`]) and the id's sequence number.
const Z_CREATED: usize = 0;
const Z_UPDATED: usize = 1;
const Z_LAST_SEEN: usize = 2;
const Z_SESSIONS: usize = 3;
const Z_SEQ: usize = 4;
const Z_KEYS: usize = 5;

/// The order-preserving key of a time in microseconds, as a page's walk compares them.
pub(crate) fn time_key(us: i64) -> u64 {
    (us as u64) ^ (1 << 63)
}

/// The order-preserving key of a number, as a page's walk compares them (`-0.0` before
/// `0.0`, unlike the index's `num_key`: the walk orders exact values).
pub(crate) fn total_order(n: f64) -> u64 {
    let b = n.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

#[derive(Debug, Clone, Copy)]
struct Zone {
    lo: [u64; Z_KEYS],
    hi: [u64; Z_KEYS],
}

const EMPTY: Zone = Zone {
    lo: [u64::MAX; Z_KEYS],
    hi: [0; Z_KEYS],
};

/// The zones of a table's rows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Zones(Vec<Zone>);

impl Zones {
    /// Widens the bounds of row `r`'s zone to the keys `row` holds. Every write of a row
    /// must come here.
    pub(crate) fn note(&mut self, r: u32, row: &Row) {
        let z = (r / ZONE_ROWS) as usize;
        if self.0.len() <= z {
            self.0.resize(z + 1, EMPTY);
        }
        let time = |s: usize| instant_micros(row, Slot::Sys(s)).map(time_key);
        let keys = [
            time(S_CREATED),
            time(S_UPDATED),
            time(S_LAST_SEEN),
            Some(total_order(row.session_count() as f64)),
            // A row without a sequence number bounds nothing here: a walk that uses the
            // bounds runs only when every row has one.
            row.seq(),
        ];
        if let Some(zone) = self.0.get_mut(z) {
            for (i, k) in keys.into_iter().enumerate() {
                if let Some(k) = k {
                    zone.lo[i] = zone.lo[i].min(k);
                    zone.hi[i] = zone.hi[i].max(k);
                }
            }
        }
    }

    /// Row `r`'s zone, if it ever held a row with a key `which`.
    fn zone(&self, r: u32, which: usize) -> Option<&Zone> {
        self.0
            .get((r / ZONE_ROWS) as usize)
            .filter(|z| z.lo[which] <= z.hi[which])
    }

    /// The best `(key, seq)` any row of row `r`'s zone can have for a sort on the key
    /// `which` (a `Z_` constant): the highest for a descending sort, the lowest for an
    /// ascending one. `None` when the zone never held a row.
    pub(crate) fn best(&self, r: u32, which: usize, desc: bool) -> Option<(u64, u64)> {
        let zone = self.zone(r, which)?;
        Some(if desc {
            (zone.hi[which], zone.hi[Z_SEQ])
        } else {
            (zone.lo[which], zone.lo[Z_SEQ])
        })
    }
}

/// A time in nanoseconds, wide enough for any stored time.
fn nanos(t: &DateTime<Utc>) -> i128 {
    i128::from(t.timestamp()) * 1_000_000_000 + i128::from(t.timestamp_subsec_nanos())
}

impl Zones {
    /// For a condition on the time `which` that holds exactly for the times within
    /// `(lo, hi)`: `Some(true)` when every row of row `r`'s zone holds a time inside,
    /// `Some(false)` when every one holds a time outside, `None` when its rows must be
    /// checked one by one.
    pub(crate) fn settles(
        &self,
        r: u32,
        which: usize,
        (lo, hi): (&Bound<DateTime<Utc>>, &Bound<DateTime<Utc>>),
    ) -> Option<bool> {
        let zone = self.zone(r, which)?;
        let ns = |key: u64| i128::from((key ^ (1 << 63)) as i64) * 1000;
        let (a, z) = (ns(zone.lo[which]), ns(zone.hi[which]));
        let above_lo = |v: i128| match lo {
            Bound::Included(t) => v >= nanos(t),
            Bound::Excluded(t) => v > nanos(t),
            Bound::Unbounded => true,
        };
        let below_hi = |v: i128| match hi {
            Bound::Included(t) => v <= nanos(t),
            Bound::Excluded(t) => v < nanos(t),
            Bound::Unbounded => true,
        };
        if above_lo(a) && below_hi(z) {
            // The range is one stretch: holding both ends, it holds all between.
            Some(true)
        } else if !below_hi(a) || !above_lo(z) {
            Some(false)
        } else {
            None
        }
    }
}

/// The zone key of a time condition or sort on `slot`, if its zone bounds it (one of the
/// three times).
pub(crate) fn time_zone_key(slot: Slot) -> Option<usize> {
    zone_key(slot).filter(|&w| w != Z_SESSIONS)
}

/// The zone key of a sort on `slot`, if its zone bounds it (a `Z_` constant).
pub(crate) fn zone_key(slot: Slot) -> Option<usize> {
    match slot {
        Slot::Sys(S_CREATED) => Some(Z_CREATED),
        Slot::Sys(S_UPDATED) => Some(Z_UPDATED),
        Slot::Sys(S_LAST_SEEN) => Some(Z_LAST_SEEN),
        Slot::Sys(S_SESSIONS) => Some(Z_SESSIONS),
        _ => None,
    }
}

/// The first row of row `r`'s zone.
pub(crate) fn zone_start(r: u32) -> u32 {
    r - r % ZONE_ROWS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_starts_and_time_keys_keep_order() {
        assert_eq!(zone_start(0), 0);
        assert_eq!(zone_start(255), 0);
        assert_eq!(zone_start(256), 256);
        assert!(time_key(-1) < time_key(0) && time_key(0) < time_key(1));
        assert!(time_key(i64::MIN) < time_key(i64::MAX));
        assert!(Zones::default().best(0, Z_CREATED, true).is_none());
    }
}
