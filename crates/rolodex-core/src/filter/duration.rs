//! ISO 8601 durations for `withinLast` / `moreThanAgo` (`P7D`, `PT12H`, `P1Y2M3DT4H5M6.5S`).
//!
//! A small hand-written parser instead of a crate: the ISO 8601 duration crates either turn
//! `P1M` into a fixed number of seconds (a month is not) or pull in parsers for the whole
//! standard; we need only the `PnYnMnWnDTnHnMnS` grammar, with calendar parts applied in
//! the book's time zone, and none of those crates is in the workspace's dependency set.

use chrono::{DateTime, Days, LocalResult, Months, TimeZone, Utc};
use chrono_tz::Tz;

/// A non-negative ISO 8601 duration. Years, months, weeks and days are calendar units
/// (applied to local time in the book's zone); hours, minutes and seconds are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct IsoDuration {
    /// Years.
    pub years: u32,
    /// Months.
    pub months: u32,
    /// Weeks.
    pub weeks: u32,
    /// Days.
    pub days: u32,
    /// Hours.
    pub hours: u32,
    /// Minutes.
    pub minutes: u32,
    /// Seconds in milliseconds (fractions beyond milliseconds are cut).
    pub millis: u64,
}

impl IsoDuration {
    /// Parses `PnYnMnWnDTnHnMnS` (designators in this order, each at most once, at least one;
    /// letters in either case). As ISO 8601 allows, the last component may have a decimal
    /// fraction (`PT1.5H`, `P0.5D`, `P1,5W`), cut to the millisecond and carried into the
    /// smaller units (`PT1.5H` is `PT1H30M`; a fraction of a week or day is calendar days,
    /// then exact hours); years and months have no fixed length, so no fraction. Returns a
    /// message saying what was expected on error.
    pub fn parse(text: &str) -> Result<IsoDuration, String> {
        let expected = "an ISO 8601 duration such as P7D, PT12H or P1M";
        let t = text.trim();
        let bad = |why: &str| {
            format!(
                "{:?} is not {expected}: {why}",
                crate::error::cut_text(text)
            )
        };
        let rest = t
            .strip_prefix('P')
            .or_else(|| t.strip_prefix('p'))
            .ok_or_else(|| bad("it must start with P"))?;
        let mut d = IsoDuration::default();
        let mut in_time = false;
        let mut any = false;
        let mut time_any = false;
        let mut last_rank = 0u8; // enforces designator order
        let bytes = rest.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i].to_ascii_uppercase();
            if c == b'T' {
                if in_time {
                    return Err(bad("T appears twice"));
                }
                in_time = true;
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            let int_part = &rest[start..i];
            // The fraction as `num / den`, from its first nine digits (beyond a nanosecond
            // of a second, less than a millisecond of a week: cut, as the result is).
            let mut frac: Option<(u64, u64)> = None;
            if i < bytes.len() && (bytes[i] == b'.' || bytes[i] == b',') {
                i += 1;
                let fs = i;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                let digits = &rest[fs..i];
                if digits.is_empty() {
                    return Err(bad("a fraction needs digits"));
                }
                let kept = &digits[..digits.len().min(9)];
                let num: u64 = kept.parse().map_err(|_| bad("not a number"))?;
                frac = Some((num, 10u64.pow(kept.len() as u32)));
            }
            if int_part.is_empty() {
                return Err(bad("a number must come before each designator"));
            }
            // Any size is a valid duration. Only digits are here, so a number too large for
            // 64 bits is held as the largest: a duration reaching past the earliest instant
            // there is ([`IsoDuration::before`] then takes every past instant).
            let n: u64 = int_part.parse().unwrap_or(u64::MAX);
            let Some(&des) = bytes.get(i) else {
                return Err(bad(
                    "a number must be followed by a designator (Y, M, W, D, H, M or S)",
                ));
            };
            i += 1;
            let (rank, slot) = match (in_time, des.to_ascii_uppercase()) {
                (false, b'Y') => (1, 0),
                (false, b'M') => (2, 1),
                (false, b'W') => (3, 2),
                (false, b'D') => (4, 3),
                (true, b'H') => (5, 4),
                (true, b'M') => (6, 5),
                (true, b'S') => (7, 6),
                _ => return Err(bad("unexpected designator; date parts (Y, M, W, D) come before T, time parts (H, M, S) after")),
            };
            if rank <= last_rank {
                return Err(bad(
                    "designators must appear once each, in the order Y M W D T H M S",
                ));
            }
            if frac.is_some() && i < bytes.len() {
                return Err(bad("only the last component may have a fraction"));
            }
            if frac.is_some() && slot <= 1 {
                return Err(bad(
                    "a year or a month has no fixed length, so it takes no fraction; give months or days",
                ));
            }
            last_rank = rank;
            any = true;
            if in_time {
                time_any = true;
            }
            // 2^32 hours or more (490,000 years), or as many days, weeks, months or years,
            // reach past the earliest instant chrono holds (262,000 years back): such a part
            // is held as the largest. Minutes that many (8,000 years) may not, so they are
            // kept exactly, as milliseconds.
            let n32 = u32::try_from(n).unwrap_or(u32::MAX);
            match slot {
                0 => d.years = n32,
                1 => d.months = n32,
                2 => d.weeks = n32,
                3 => d.days = n32,
                4 => d.hours = n32,
                5 if n > u64::from(u32::MAX) => d.millis = n.saturating_mul(60_000),
                5 => d.minutes = n32,
                _ => d.millis = d.millis.saturating_add(n.saturating_mul(1000)),
            }
            if let Some((num, den)) = frac {
                // The last component: every smaller unit is still zero.
                const DAY_MS: u64 = 86_400_000;
                let exact_ms = match slot {
                    2 => {
                        let days = num * 7;
                        d.days = d.days.saturating_add((days / den) as u32);
                        (days % den) * DAY_MS / den
                    }
                    3 => num * DAY_MS / den,
                    4 => num * 3_600_000 / den,
                    5 => num * 60_000 / den,
                    _ => num * 1000 / den,
                };
                let (h, rest_ms) = (exact_ms / 3_600_000, exact_ms % 3_600_000);
                d.hours = d.hours.saturating_add(h as u32);
                d.minutes = d.minutes.saturating_add((rest_ms / 60_000) as u32);
                d.millis = d.millis.saturating_add(rest_ms % 60_000);
            }
        }
        if !any {
            return Err(bad("it has no components"));
        }
        if in_time && !time_any {
            return Err(bad("T must be followed by hours, minutes or seconds"));
        }
        Ok(d)
    }

    /// `now` minus this duration: calendar parts on local time in `tz` (so `P1D` across a
    /// DST change is one calendar day), then the exact parts. `None` when the result falls
    /// outside the representable range (then every past instant is within it).
    pub fn before(&self, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let months = self.years.checked_mul(12)?.checked_add(self.months)?;
        let days = u64::from(self.weeks) * 7 + u64::from(self.days);
        let mut t = now;
        if months > 0 || days > 0 {
            let local_now = now.with_timezone(&tz);
            let offset = local_now.naive_local() - now.naive_utc();
            let local = local_now
                .naive_local()
                .checked_sub_months(Months::new(months))?
                .checked_sub_days(Days::new(days))?;
            t = match tz.from_local_datetime(&local) {
                LocalResult::Single(x) => x.with_timezone(&Utc),
                LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
                // In a DST gap: keep the offset that `now` had.
                LocalResult::None => Utc.from_utc_datetime(&local.checked_sub_signed(offset)?),
            };
        }
        let exact_ms = (u64::from(self.hours) * 3_600_000)
            .checked_add(u64::from(self.minutes) * 60_000)?
            .checked_add(self.millis)?;
        let exact = chrono::Duration::try_milliseconds(i64::try_from(exact_ms).ok()?)?;
        t.checked_sub_signed(exact)
    }
}

impl std::fmt::Display for IsoDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("P")?;
        for (n, c) in [
            (self.years, 'Y'),
            (self.months, 'M'),
            (self.weeks, 'W'),
            (self.days, 'D'),
        ] {
            if n > 0 {
                write!(f, "{n}{c}")?;
            }
        }
        let has_time = self.hours > 0 || self.minutes > 0 || self.millis > 0;
        if has_time {
            f.write_str("T")?;
            if self.hours > 0 {
                write!(f, "{}H", self.hours)?;
            }
            if self.minutes > 0 {
                write!(f, "{}M", self.minutes)?;
            }
            if self.millis > 0 {
                if self.millis % 1000 == 0 {
                    write!(f, "{}S", self.millis / 1000)?;
                } else {
                    write!(f, "{}.{:03}S", self.millis / 1000, self.millis % 1000)?;
                }
            }
        } else if self.years == 0 && self.months == 0 && self.weeks == 0 && self.days == 0 {
            f.write_str("0D")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_flt_5_duration_forms() {
        let d = IsoDuration::parse("P7D").unwrap();
        assert_eq!(d.days, 7);
        let d = IsoDuration::parse("PT12H").unwrap();
        assert_eq!(d.hours, 12);
        let d = IsoDuration::parse("P1Y2M3W4DT5H6M7.891234S").unwrap();
        assert_eq!(
            d,
            IsoDuration {
                years: 1,
                months: 2,
                weeks: 3,
                days: 4,
                hours: 5,
                minutes: 6,
                millis: 7891
            }
        );
        assert_eq!(d.to_string(), "P1Y2M3W4DT5H6M7.891S");
        assert_eq!(IsoDuration::parse("pt30m").unwrap().minutes, 30);
        assert_eq!(IsoDuration::parse("P0D").unwrap().to_string(), "P0D");
        for bad in [
            "", "P", "PT", "7D", "P7", "PD", "P1D2Y", "P1H", "PT1D", "P1.5DT1H", "P0.5Y", "P1,5M",
            "P-1D", "P1DT", "P1D1D", "PT1.S", "P1DTT1H", "P 1D",
        ] {
            assert!(IsoDuration::parse(bad).is_err(), "{bad:?}");
        }
    }

    /// ISO 8601 lets the last component carry a decimal fraction; it is carried into the
    /// smaller units, cut to the millisecond.
    #[test]
    fn r_flt_5_duration_fraction_on_the_last_component() {
        let ms = |t: &str| {
            let d = IsoDuration::parse(t).unwrap();
            (d.weeks, d.days, d.hours, d.minutes, d.millis)
        };
        assert_eq!(ms("PT1.5H"), (0, 0, 1, 30, 0));
        assert_eq!(ms("PT1,25M"), (0, 0, 0, 1, 15_000));
        assert_eq!(ms("P0.5D"), (0, 0, 12, 0, 0));
        assert_eq!(ms("P1.5D"), (0, 1, 12, 0, 0));
        assert_eq!(ms("P1.5W"), (1, 3, 12, 0, 0));
        assert_eq!(ms("P2DT0.5H"), (0, 2, 0, 30, 0));
        // A third of an hour is 1,199,999.99… ms: cut, not rounded.
        assert_eq!(ms("PT0.333333333H"), (0, 0, 0, 19, 59_999));
        assert_eq!(IsoDuration::parse("PT1.5H").unwrap().to_string(), "PT1H30M");
        let now = Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap();
        assert_eq!(
            IsoDuration::parse("PT1.5H")
                .unwrap()
                .before(now, chrono_tz::UTC),
            Some(Utc.with_ymd_and_hms(2025, 6, 1, 10, 30, 0).unwrap())
        );
        let e = IsoDuration::parse("P0.5M").unwrap_err();
        assert!(e.contains("no fixed length"), "{e}");
        let e = IsoDuration::parse("PT1.5H30M").unwrap_err();
        assert!(e.contains("only the last component"), "{e}");
    }

    #[test]
    fn r_flt_5_duration_subtracts_calendar_parts_in_tz() {
        let now = Utc.with_ymd_and_hms(2025, 3, 31, 12, 0, 0).unwrap();
        let d = IsoDuration::parse("P1M").unwrap();
        assert_eq!(
            d.before(now, chrono_tz::UTC).unwrap(),
            Utc.with_ymd_and_hms(2025, 2, 28, 12, 0, 0).unwrap()
        );
        // New York springs forward on 2025-03-09: one calendar day back is 23 hours.
        let now = Utc.with_ymd_and_hms(2025, 3, 9, 16, 0, 0).unwrap();
        let d = IsoDuration::parse("P1D").unwrap();
        assert_eq!(
            d.before(now, chrono_tz::America::New_York).unwrap(),
            Utc.with_ymd_and_hms(2025, 3, 8, 17, 0, 0).unwrap()
        );
        let d = IsoDuration::parse("PT24H").unwrap();
        assert_eq!(
            d.before(now, chrono_tz::America::New_York).unwrap(),
            Utc.with_ymd_and_hms(2025, 3, 8, 16, 0, 0).unwrap()
        );
        let huge = IsoDuration::parse("P1000000Y").unwrap();
        assert!(huge.before(now, chrono_tz::UTC).is_none());
    }

    /// A component of any size is a valid duration (R-FLT-4 makes no size a filter error):
    /// exact while chrono can hold the instant it reaches back to, `None` (every past
    /// instant) beyond.
    #[test]
    fn r_flt_5_duration_components_of_any_size() {
        let now = Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap();
        let back = |t: &str| IsoDuration::parse(t).unwrap().before(now, chrono_tz::UTC);
        assert_eq!(
            back("PT2000000S"),
            Some(now - chrono::Duration::seconds(2_000_000))
        );
        assert_eq!(
            back("P1000001D"),
            Some(now - chrono::Duration::days(1_000_001))
        );
        // 5·10^9 minutes (9,500 years) is past 32 bits but within chrono's range.
        assert_eq!(
            back("PT5000000000M"),
            Some(now - chrono::Duration::minutes(5_000_000_000))
        );
        for t in [
            "PT99999999999999999999999S",
            "P4294967296D",
            "P99999999999999999999Y",
            "PT4294967296H",
            "P9999999999W",
            "PT99999999999999999999.5M",
        ] {
            assert_eq!(back(t), None, "{t}");
        }
    }
}
