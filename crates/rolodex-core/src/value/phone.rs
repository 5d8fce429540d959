//! Phone numbers (R-VAL-2): E.164 normalisation as libphonenumber does it, on the metadata
//! the `phonenumber` crate bundles, by a lock-free reading of our own.
//!
//! The crate alone does not read numbers as libphonenumber does: it tests number-type
//! patterns against a number's start instead of the whole number (so `+47 0 212 3456`
//! is "valid"), strips a national prefix twice (`+82 0 010-…`), and strips one whatever
//! length is left (`+57 03211234567`). It also compiles its patterns through a shared,
//! mutex-guarded cache of 100 regexes, which makes it slow (~90k numbers/s) and serialises
//! threads. So the text — a `+`, then digits and the separators libphonenumber skips — is
//! read here by libphonenumber's steps (country code, the main country's prefix rule with
//! its viability and length tests, region choice, whole-number type patterns) against
//! patterns compiled once per region from the crate's metadata file, read with the crate's
//! loader at build time (its `DATABASE` compiles every pattern up front: [`METADATA`]). Only other
//! text (`tel:` URIs, letters, extensions) goes to the crate's parser.
//! `tests/phone_rules.rs` checks every verdict against libphonenumber's own on 9,244 texts.

use std::borrow::Cow;
use std::sync::OnceLock;

use phonenumber::metadata::loader::{Descriptor, Metadata};
use regex::{Regex, RegexBuilder};
use regex_automata::dfa::{dense, Automaton, StartKind};
use regex_automata::nfa::thompson;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input};

use crate::error::{Error, Result};

/// What a phone number must look like (R-VAL-2).
pub(crate) const EXPECTED_PHONE: &str =
    "a phone number with its country code, such as +821020203030 or +82 10-2020-3030";

/// The crate's `MIN_LENGTH_FOR_NSN` / `MAX_LENGTH_FOR_NSN`.
const MIN_NSN: usize = 2;
const MAX_NSN: usize = 17;
/// Longest digit run the fast path buffers; longer input goes to the crate.
const BUF: usize = 40;

/// A metadata pattern tested from the start of a text: a match that starts at 0 (leading
/// digits, the national prefix rule), or one that spans the whole text ([`Prefix::whole`],
/// for number-type patterns). The fast path only ever feeds ASCII digits, so the pattern is
/// compiled to a dense, start-anchored DFA with ASCII classes (on an ASCII-digit haystack
/// `\d` and friends match exactly as their Unicode forms do); the regex crate is the
/// fallback should a DFA fail to build or to search. Where the DFA builds, the fallback is
/// compiled only if a search ever needs it: compiling it costs more than the DFA (about
/// half of a region's first number), and a dense DFA without quit bytes never fails.
struct Prefix {
    dfa: Option<dense::DFA<Vec<u32>>>,
    /// The pattern as given to the DFA, for the fallback.
    src: String,
    re: OnceLock<Option<Regex>>,
}

impl Prefix {
    fn new(src: &str) -> Option<Prefix> {
        Prefix::build(src, false)
    }

    /// A pattern that must match the whole text, as libphonenumber's
    /// `matchNationalNumber` tests a number against a number-type pattern.
    fn whole(src: &str) -> Option<Prefix> {
        Prefix::build(src, true)
    }

    fn build(src: &str, whole: bool) -> Option<Prefix> {
        let src = if whole {
            format!("(?:\n{src}\n)$")
        } else {
            src.to_string()
        };
        let dfa = dense::Builder::new()
            .syntax(
                syntax::Config::new()
                    .ignore_whitespace(true)
                    .unicode(false)
                    .utf8(false),
            )
            .thompson(thompson::Config::new().utf8(false))
            .configure(dense::Config::new().start_kind(StartKind::Anchored))
            .build(&src)
            .ok();
        let re = OnceLock::new();
        if dfa.is_none() {
            // No DFA: the fallback is the matcher, and the region defers to the crate if
            // it does not compile either.
            let _ = re.set(Some(prefix_regex(&src)?));
        }
        Some(Prefix { dfa, src, re })
    }

    /// The fallback matcher, compiled on first use. (A pattern whose DFA built compiles
    /// as a regex too; `every_region_is_nameable_and_compiles` checks every one. Were one
    /// not to, it would match nothing.)
    fn fallback(&self) -> Option<&Regex> {
        self.re.get_or_init(|| prefix_regex(&self.src)).as_ref()
    }

    #[inline]
    fn is_match(&self, v: &str) -> bool {
        if let Some(dfa) = &self.dfa {
            // A `$` in the pattern makes only a whole match a match, earliest or not.
            let input = Input::new(v).anchored(Anchored::Yes).earliest(true);
            if let Ok(m) = dfa.try_search_fwd(&input) {
                return m.is_some();
            }
        }
        self.fallback().is_some_and(|re| re.is_match(v))
    }
}

/// A number-type pattern with its possible lengths (`Descriptor::is_match`).
struct Desc {
    lengths: Vec<u16>,
    re: Prefix,
}

impl Desc {
    fn new(d: &Descriptor) -> Option<Desc> {
        Some(Desc {
            lengths: d.possible_length.clone(),
            re: Prefix::whole(d.national_number.as_deref()?)?,
        })
    }

    #[inline]
    fn is_match(&self, v: &str) -> bool {
        (self.lengths.is_empty() || self.lengths.contains(&(v.len() as u16))) && self.re.is_match(v)
    }
}

/// Compiles a metadata pattern exactly as the crate does (`ignore_whitespace`).
fn full_regex(src: &str) -> Option<Regex> {
    RegexBuilder::new(src).ignore_whitespace(true).build().ok()
}

/// A metadata pattern that matches when the crate's `find` would start at 0.
fn prefix_regex(src: &str) -> Option<Regex> {
    RegexBuilder::new(&format!("^(?:\n{src}\n)"))
        .ignore_whitespace(true)
        .build()
        .ok()
}

/// One region's compiled metadata.
struct Region {
    /// `source_for` can name this region (its id parses as a `country::Id`, or it is `001`).
    nameable: bool,
    national_prefix: Option<String>,
    /// `national_prefix_for_parsing`, unanchored (for captures/replace) and start-anchored.
    npp: Option<(Regex, Prefix)>,
    transform: Option<String>,
    leading: Option<Prefix>,
    general: Desc,
    general_possible: Vec<u16>,
    general_local: Vec<u16>,
    types: Vec<Desc>,
}

impl Region {
    fn new(m: &Metadata) -> Option<Region> {
        let general_desc = m.general.as_ref()?;
        let general = Desc::new(general_desc)?;
        // The types `number_type` tests; a number is valid when one of them matches.
        let descs: Vec<&Descriptor> = [
            &m.fixed_line,
            &m.mobile,
            &m.premium_rate,
            &m.toll_free,
            &m.shared_cost,
            &m.voip,
            &m.personal_number,
            &m.pager,
            &m.uan,
            &m.voicemail,
        ]
        .into_iter()
        .flatten()
        .collect();
        let types = descs
            .iter()
            .map(|d| Desc::new(d))
            .collect::<Option<Vec<_>>>()?;
        // The region's possible lengths as libphonenumber's metadata build sets them on the
        // general description: every type's, and the types' local-only lengths that are no
        // type's full length. (The crate loads the general description without them.)
        let mut general_possible: Vec<u16> = match general_desc.possible_length.as_slice() {
            [] => descs
                .iter()
                .flat_map(|t| t.possible_length.iter().copied())
                .collect(),
            given => given.to_vec(),
        };
        general_possible.sort_unstable();
        general_possible.dedup();
        let mut general_local: Vec<u16> = match general_desc.possible_local_length.as_slice() {
            [] => descs
                .iter()
                .flat_map(|t| t.possible_local_length.iter().copied())
                .filter(|l| !general_possible.contains(l))
                .collect(),
            given => given.to_vec(),
        };
        general_local.sort_unstable();
        general_local.dedup();
        let npp = match m.national_prefix_for_parsing.as_deref() {
            Some(r) => Some((full_regex(r)?, Prefix::new(r)?)),
            None => None,
        };
        let leading = match m.leading_digits.as_deref() {
            Some(r) => Some(Prefix::new(r)?),
            None => None,
        };
        let id = m.id.as_deref()?;
        let nameable = id == "001"
            || id
                .parse::<phonenumber::country::Id>()
                .map(|c| c.as_ref() == id)
                .unwrap_or(false);
        Some(Region {
            nameable,
            national_prefix: m.national_prefix.clone(),
            npp,
            transform: m.national_prefix_transform_rule.clone(),
            leading,
            general,
            general_possible,
            general_local,
            types,
        })
    }

    /// `number_type(meta, v) != Unknown`.
    #[inline]
    fn is_valid_number(&self, v: &str) -> bool {
        self.general.is_match(v) && self.types.iter().any(|d| d.is_match(v))
    }

    /// Whether a national number stripped of its prefix is kept: libphonenumber keeps it
    /// unless its length test (`testNumberLength`) says too short, possible only locally,
    /// or a length no number of the region has; else the prefix stays part of the number.
    #[inline]
    fn keeps_stripped(&self, v: &str) -> bool {
        let len = v.len() as u16;
        match (self.general_possible.first(), self.general_possible.last()) {
            (Some(_), Some(&max)) => {
                !self.general_local.contains(&len)
                    && (self.general_possible.contains(&len) || len > max)
            }
            _ => false,
        }
    }

    /// `helper::national_number`: strips the national prefix / carrier code. `Err` where
    /// the crate would panic (a transform rule whose first group did not take part).
    fn national_number<'a>(&self, nat: &'a str) -> std::result::Result<Cow<'a, str>, ()> {
        let Some((re, anchored)) = &self.npp else {
            // Without a rule for parsing, the national prefix itself is the rule.
            if let Some(p) = &self.national_prefix {
                if let Some(rest) = nat.strip_prefix(p.as_str()) {
                    return Ok(Cow::Borrowed(self.cut(nat, rest)));
                }
            }
            return Ok(Cow::Borrowed(nat));
        };
        if !anchored.is_match(nat) {
            return Ok(Cow::Borrowed(nat));
        }
        let Some(caps) = re.captures(nat) else {
            return Ok(Cow::Borrowed(nat));
        };
        let (start, end) = match caps.get(0) {
            Some(m) => (m.start(), m.end()),
            None => return Ok(Cow::Borrowed(nat)),
        };
        if start != 0 {
            return Ok(Cow::Borrowed(nat));
        }
        let viable = self.general.is_match(nat);
        let first = caps.get(1).is_some();
        let last = caps.get(caps.len() - 1).is_some();
        match &self.transform {
            Some(rule) if last => {
                let transformed = re.replace(nat, rule.as_str()).into_owned();
                if viable && !self.general.is_match(&transformed) {
                    return Ok(Cow::Borrowed(nat));
                }
                if !first {
                    return Err(());
                }
                Ok(Cow::Owned(transformed))
            }
            _ => Ok(Cow::Borrowed(self.cut(nat, nat.get(end..).unwrap_or("")))),
        }
    }

    /// `rest`, `nat` less its national prefix, unless `nat` is a viable number and `rest`
    /// is not: libphonenumber then keeps the number whole. (The crate tests the text from
    /// the prefix match's start, which is 0, so it always cuts.)
    fn cut<'a>(&self, nat: &'a str, rest: &'a str) -> &'a str {
        if self.general.is_match(nat) && !self.general.is_match(rest) {
            nat
        } else {
            rest
        }
    }
}

/// The regions sharing one country calling code, in the crate's order (main country first).
struct CodeEntry {
    /// The regions' metadata; each has an id (`table` keeps no other).
    metas: Vec<Metadata>,
    compiled: Vec<OnceLock<Option<Region>>>,
    /// Some national format of these regions writes digits of its own or leaves a group
    /// out (Argentina's mobile `011 15-…`, Belarus's `8 0…`), so a national form may be
    /// more than the trunk prefix and the national number ([`national_format_digits`]).
    rewrites: bool,
    /// The national formats of each region, compiled when first needed (only where
    /// `rewrites`).
    formats: Vec<OnceLock<Vec<NationalFormat>>>,
}

/// One metadata number format, for the digits of a national form: the number matches
/// `pattern` whole and its start matches `leading` (the last leading-digits pattern, as
/// libphonenumber picks); the form is `format` with its first group written by `rule`.
struct NationalFormat {
    leading: Option<Regex>,
    pattern: Regex,
    format: String,
    /// The national-prefix formatting rule with `$NP` filled in (`$FG` is the first group).
    rule: Option<String>,
}

impl NationalFormat {
    fn all(m: &Metadata) -> Vec<NationalFormat> {
        let np = m.national_prefix.as_deref().unwrap_or("");
        m.formats
            .iter()
            .filter_map(|f| {
                let leading = match f.leading_digits.last() {
                    Some(ld) => Some(prefix_regex(ld)?),
                    None => None,
                };
                Some(NationalFormat {
                    leading,
                    pattern: full_regex(&format!("^(?:\n{}\n)$", f.pattern.as_deref()?))?,
                    format: f.format.clone()?,
                    rule: f
                        .national_prefix_formatting_rule
                        .as_deref()
                        .filter(|r| !r.is_empty())
                        .map(|r| r.replace("$NP", np)),
                })
            })
            .collect()
    }

    /// The digits of `nsn` in this format, if the format applies to it.
    fn digits(&self, nsn: &str) -> Option<String> {
        if self.leading.as_ref().is_some_and(|l| !l.is_match(nsn)) {
            return None;
        }
        let caps = self.pattern.captures(nsn)?;
        let group = |k: usize| caps.get(k).map_or("", |m| m.as_str());
        let mut out = String::with_capacity(nsn.len() + 4);
        let mut chars = self.format.chars().peekable();
        let mut first = true;
        while let Some(c) = chars.next() {
            match (c, chars.peek().and_then(|d| d.to_digit(10))) {
                ('$', Some(k)) => {
                    chars.next();
                    let g = group(k as usize);
                    match (&self.rule, first) {
                        (Some(rule), true) => out.push_str(&rule.replace("$FG", g)),
                        _ => out.push_str(g),
                    }
                    first = false;
                }
                _ => out.push(c),
            }
        }
        out.retain(|c| c.is_ascii_digit());
        Some(out)
    }
}

/// The capturing groups of a metadata pattern, counted in its text (compiling each of
/// the thousands of patterns just to ask would cost more): an unescaped `(` not followed
/// by `?`.
fn capture_groups(pattern: &str) -> usize {
    let b = pattern.as_bytes();
    let mut n = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'(' if b.get(i + 1) != Some(&b'?') => n += 1,
            _ => {}
        }
        i += 1;
    }
    n
}

/// Whether a metadata number format writes digits other than its groups and the national
/// prefix, or leaves one of its pattern's groups out.
fn format_rewrites(m: &Metadata) -> bool {
    m.formats.iter().any(|f| {
        let fmt = f.format.as_deref().unwrap_or("");
        let mut refs = 0;
        let mut literal = false;
        let mut chars = fmt.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
                refs += 1;
            } else if c.is_ascii_digit() {
                literal = true;
            }
        }
        let rule = f
            .national_prefix_formatting_rule
            .as_deref()
            .unwrap_or("")
            .replace("$NP", "")
            .replace("$FG", "");
        literal
            || refs != capture_groups(f.pattern.as_deref().unwrap_or(""))
            || rule.chars().any(|c| c.is_ascii_digit())
    })
}

impl CodeEntry {
    /// The id of region `i` (`KR`, or `001` for a non-geographic code).
    fn id(&self, i: usize) -> &str {
        self.metas
            .get(i)
            .and_then(|m| m.id.as_deref())
            .unwrap_or("")
    }

    /// The compiled region `i`; `None` if a pattern failed to compile (then the caller
    /// defers to the crate).
    fn region(&self, i: usize) -> Option<&Region> {
        self.compiled
            .get(i)?
            .get_or_init(|| self.metas.get(i).and_then(Region::new))
            .as_ref()
    }
}

/// libphonenumber's metadata, the very file the `phonenumber` crate bundles (its version's
/// `assets/PhoneNumberMetadata.xml`; `data/README.md` says how to refresh it). The crate
/// offers its metadata only as its `DATABASE`, whose loading compiles every one of its
/// ~4,800 patterns up front (about 0.15 s, on the first number a process reads); this
/// module compiles only the patterns of the regions it meets. A test holds this file to the
/// crate's `DATABASE`.
#[cfg(test)]
const METADATA_XML: &str = include_str!("../../data/PhoneNumberMetadata.xml");

/// `data/PhoneNumberMetadata.xml` as the crate's loader reads it, encoded in postcard by `build.rs`
/// (decoding it takes about a quarter of the time reading the XML takes).
const METADATA: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/phone_metadata.postcard"));

/// Country calling code → regions, built once from [`METADATA`] in the crate's order:
/// the main country of a code first, then the others in file order (as `Database::from`).
fn table() -> &'static [Option<CodeEntry>] {
    static TABLE: OnceLock<Vec<Option<CodeEntry>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        // The bundled data always decodes (a test checks); if it did not, every number
        // would go to the crate's parser instead.
        let all: Vec<Metadata> = postcard::from_bytes(METADATA).unwrap_or_default();
        let mut by_code: Vec<Vec<Metadata>> = (0..1000).map(|_| Vec::new()).collect();
        for m in all {
            let Some(list) = m.country_code.and_then(|c| by_code.get_mut(c as usize)) else {
                continue;
            };
            if m.id.is_none() {
                continue;
            }
            if m.main_country_for_code {
                list.insert(0, m);
            } else {
                list.push(m);
            }
        }
        by_code
            .into_iter()
            .map(|metas| {
                if metas.is_empty() {
                    return None;
                }
                let compiled = metas.iter().map(|_| OnceLock::new()).collect();
                let rewrites = metas.iter().any(format_rewrites);
                let formats = metas.iter().map(|_| OnceLock::new()).collect();
                Some(CodeEntry {
                    metas,
                    compiled,
                    rewrites,
                    formats,
                })
            })
            .collect()
    })
}

fn entry(code: u32) -> Option<&'static CodeEntry> {
    table().get(code as usize)?.as_ref()
}

/// Outcome of the fast path: `None` = not handled (ask the crate), `Some(Err)` = invalid.
type Fast = Option<std::result::Result<String, ()>>;

/// `validator::source_for`: which region's metadata applies. `Err(())` where the crate
/// would panic; `Ok(None)` when no region applies; `None` (outer) = defer to the crate.
#[allow(clippy::type_complexity)]
fn source_for(
    e: &'static CodeEntry,
    national: &str,
) -> Option<std::result::Result<Option<&'static Region>, ()>> {
    if e.metas.len() == 1 {
        let r = e.region(0)?;
        return Some(Ok(if r.nameable { Some(r) } else { None }));
    }
    for i in 0..e.metas.len() {
        let r = e.region(i)?;
        let hit = match &r.leading {
            Some(ld) => ld.is_match(national),
            None => r.is_valid_number(national),
        };
        if hit {
            return Some(if r.nameable && e.id(i) != "001" {
                Ok(Some(r))
            } else {
                Err(())
            });
        }
    }
    Some(Ok(None))
}

/// Parses a string of ASCII digits as the crate's `u16` parse would (leading zeros allowed).
fn parse_u16(d: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    for &c in d {
        v = v * 10 + (c - b'0') as u32;
        if v > u16::MAX as u32 {
            return None;
        }
    }
    if d.is_empty() {
        None
    } else {
        Some(v)
    }
}

/// The country calling code that leads ASCII digits, and its length: the first of their
/// 1-, 2- and 3-digit prefixes that is a known code (codes are prefix-free).
fn country_code(digits: &[u8]) -> Option<(u32, usize)> {
    (1..=3).find_map(|len| {
        let c = parse_u16(digits.get(..len)?)?;
        entry(c).map(|_| (c, len))
    })
}

/// The fast path (see the module docs).
pub(crate) fn fast_normalize(t: &str) -> Fast {
    // Without a plus sign (ASCII or full-width) and without RFC 3966 parameters (`;`,
    // which may carry `phone-context=+CC`) the crate has no way to learn a country code
    // (no default region is given), so it always fails.
    if !t.contains(['+', '\u{FF0B}', ';']) {
        return Some(Err(()));
    }
    // A full-width plus is a plus to the crate's natural parser, but its RFC 3966 parser
    // only knows the ASCII one.
    let (rest, fullwidth) = match t.strip_prefix('+') {
        Some(r) => (r.as_bytes(), false),
        None => (t.strip_prefix('\u{FF0B}')?.as_bytes(), true),
    };
    let (mut space, mut other_sep) = (false, false);
    for &c in rest {
        match c {
            b'0'..=b'9' => {}
            b' ' => space = true,
            b'-' | b'(' | b')' => other_sep = true,
            _ => return None,
        }
    }
    let mut buf = [0u8; BUF];
    let mut n = 0;
    let code: u32;
    let nat_start: usize;
    if !fullwidth && !space && other_sep && rest.first().is_some_and(u8::is_ascii_digit) {
        // The crate tries RFC 3966 first: `+<cc>` up to the first separator is the code.
        let plen = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        for &c in &rest[plen..] {
            if c.is_ascii_digit() {
                if n == BUF {
                    return None;
                }
                buf[n] = c;
                n += 1;
            }
        }
        if n <= MIN_NSN {
            return Some(Err(()));
        }
        code = match parse_u16(&rest[..plen]) {
            Some(c) => c,
            None => return Some(Err(())),
        };
        if entry(code).is_none() {
            return Some(Err(()));
        }
        nat_start = 0;
    } else {
        for &c in rest {
            if c.is_ascii_digit() {
                if n == BUF {
                    return None;
                }
                buf[n] = c;
                n += 1;
            }
        }
        if n <= MIN_NSN || buf[0] == b'0' {
            return Some(Err(()));
        }
        let Some((c, len)) = country_code(&buf[..n]) else {
            return Some(Err(()));
        };
        code = c;
        nat_start = len;
    }
    let e = match entry(code) {
        Some(e) => e,
        None => return Some(Err(())),
    };
    let national = std::str::from_utf8(&buf[nat_start..n]).ok()?;
    finish(e, code, national)
}

/// The steps after the country code is known: the national prefix rule of the region the
/// digits point to (as the crate finds it; [`unstripped`] covers the main country's rule
/// where that finds none), kept where libphonenumber keeps it, then the region of the
/// national number and its whole-number type patterns. The outer `None` defers to the
/// crate.
fn finish(e: &'static CodeEntry, code: u32, national: &str) -> Fast {
    let lookup = national.trim_start_matches('0');
    let first = source_for(e, lookup)?;
    let meta = match first {
        Ok(m) => m,
        Err(()) => return Some(Err(())),
    };
    let mut nat: Cow<'_, str> = Cow::Borrowed(national);
    if let Some(r) = meta {
        // One national prefix (and carrier code) comes off, by the region's rule, as
        // libphonenumber strips it. The crate then strips the bare prefix a second time,
        // so it reads `+82 0 010-…` and `+44 0 07400 …` as valid numbers; here the second
        // prefix stays and the number is invalid, as libphonenumber finds it (R-VAL-2).
        let potential = match r.national_number(national) {
            Ok(p) => p,
            Err(()) => return Some(Err(())),
        };
        if r.keeps_stripped(&potential) {
            nat = potential;
        }
    }
    let nat: &str = &nat;
    if nat.len() < MIN_NSN || nat.len() > MAX_NSN {
        return Some(Err(()));
    }
    // `NationalNumber::from_str`: leading zeros, then a u64 below 2^56.
    let digits = nat.trim_start_matches('0');
    match digits.parse::<u64>() {
        Ok(v) if v < (1 << 56) => {}
        _ => return Some(Err(())),
    }
    // `is_valid`: region for the whole national number, then a type pattern must match.
    // `source_for` is a pure function of its input: reuse the first answer when it applies.
    let second = if nat == lookup {
        first
    } else {
        source_for(e, nat)?
    };
    let valid = match second {
        Ok(Some(r)) => r.is_valid_number(nat),
        Ok(None) | Err(()) => false,
    };
    if !valid {
        return Some(Err(()));
    }
    let mut out = String::with_capacity(nat.len() + 5);
    out.push('+');
    out.push_str(itoa3(code, &mut [0u8; 5]));
    out.push_str(nat);
    Some(Ok(out))
}

/// Formats a country code (≤ 65535) without going through `fmt`.
fn itoa3(mut v: u32, buf: &mut [u8; 5]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("")
}

/// Why the crate rejects a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CrateReject {
    /// Not a valid number (or the crate panicked on it).
    Invalid,
    /// Letters where digits go (`+82 10-2020-303O`): the crate reads them as keypad digits
    /// (O as 6), which would store a number the caller never wrote.
    Letters,
    /// A number with an extension (`ext. 55`, `x5`): E.164 has no room for one, and
    /// dropping it would store another number than the one given.
    Extension,
}

/// The plain crate: `phonenumber::parse(None, text)` + `is_valid`, as E.164. A panic inside
/// the crate counts as invalid; a number with an extension is rejected as such.
pub(crate) fn crate_normalize(t: &str) -> std::result::Result<String, CrateReject> {
    std::panic::catch_unwind(|| {
        let n = phonenumber::parse(None, t).map_err(|_| CrateReject::Invalid)?;
        if n.extension().is_some() {
            return Err(CrateReject::Extension);
        }
        if !phonenumber::is_valid(&n) {
            return Err(CrateReject::Invalid);
        }
        Ok(format!("+{}{}", n.code().value(), n.national()))
    })
    .unwrap_or(Err(CrateReject::Invalid))
}

/// The crate's reading of a text the fast paths leave to it (`tel:` URIs, leading junk,
/// letters, extensions), held to libphonenumber's validity: the crate matches number-type
/// patterns against a number's start, so its verdict alone would let through numbers that
/// libphonenumber rejects (`\0+82 30-200-20-20.30`). Its E.164 must read back as itself
/// through [`fast_normalize`], which is also what R-VAL-10 asks of a stored value.
fn crate_checked(t: &str) -> std::result::Result<String, CrateReject> {
    let e164 = crate_normalize(t)?;
    match fast_normalize(&e164) {
        Some(Ok(again)) if again == e164 => Ok(e164),
        _ => Err(CrateReject::Invalid),
    }
}

/// Full-width digits, minus, parentheses and the ideographic space (as East Asian input
/// methods type them) as their ASCII forms, as libphonenumber reads them; `None` when the
/// text has none. A full-width plus stays: the fast path reads it itself, where an ASCII
/// plus before digits without separators would be read by the crate as an RFC 3966 form.
fn ascii_phone_text(t: &str) -> Option<String> {
    let wide = |c: char| {
        matches!(
            c,
            '\u{FF08}' | '\u{FF09}' | '\u{FF0D}' | '\u{FF10}'..='\u{FF19}' | '\u{3000}'
        )
    };
    if t.is_ascii() || !t.chars().any(wide) {
        return None;
    }
    Some(
        t.chars()
            .map(|c| match c {
                '\u{FF10}'..='\u{FF19}' => char::from(b'0' + (c as u32 - 0xFF10) as u8),
                '\u{FF0D}' => '-',
                '\u{FF08}' => '(',
                '\u{FF09}' => ')',
                '\u{3000}' => ' ',
                other => other,
            })
            .collect(),
    )
}

/// The number a rejected text holds when its digits after the country code are read as
/// the national number as they stand: a valid number whose first digit is its country's
/// national (trunk) prefix (Russia's `8` in `+7 812 …` and `+7 800 …`, Lithuania's `8` in
/// `+370 800 …`), or a country code written against dashed digits (`+8210-2020-3030`,
/// which the crate reads as RFC 3966 with the code `8210`). libphonenumber strips a
/// national prefix only where the number stays viable without it; the crate strips it
/// regardless, and rejects these valid numbers. Only text of a plus sign, digits and
/// separators is read this way.
fn unstripped(text: &str) -> Option<String> {
    let rest = text
        .strip_prefix('+')
        .or_else(|| text.strip_prefix('\u{FF0B}'))?;
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '/' | '(' | ')' => {}
            _ => return None,
        }
    }
    if digits.starts_with('0') || digits.len() > BUF {
        return None;
    }
    let (code, len) = country_code(digits.as_bytes())?;
    let e = entry(code)?;
    let national = digits.get(len..)?;
    if national.len() < MIN_NSN || national.len() > MAX_NSN {
        return None;
    }
    let read = |nat: &str| -> Option<String> {
        let region = match source_for(e, nat)? {
            Ok(Some(r)) => r,
            _ => return None,
        };
        region
            .is_valid_number(nat)
            .then(|| format!("+{}{nat}", itoa3(code, &mut [0u8; 5])))
    };
    read(national).or_else(|| {
        // libphonenumber strips the national prefix (and carrier code) by the rules of the
        // code's main country (the US for +1), and keeps what is left when its length is
        // one of the country's: `+1 1 201-555-0123` is +12015550123, `+1 1 310 1234` no
        // number (7 digits are a US number only locally). The crate looks for the region
        // by the digits with the prefix still on, finds none among the regions sharing the
        // code, and strips nothing.
        let main = e.region(0)?;
        let rest = main.national_number(national).ok()?;
        (rest.len() < national.len() && rest.len() >= MIN_NSN && main.keeps_stripped(&rest))
            .then(|| read(&rest))?
    })
}

/// A plus (ASCII or full-width) and digits with libphonenumber's punctuation between them
/// (`VALID_PUNCTUATION`, `x` aside: it marks an extension) written as spaces, which the
/// crate's natural parser reads the same way; `None` for any other text.
fn natural_form(t: &str) -> Option<String> {
    let rest = t.strip_prefix('+').or_else(|| t.strip_prefix('\u{FF0B}'))?;
    let mut out = String::with_capacity(rest.len() + 1);
    out.push('+');
    for c in rest.chars() {
        match c {
            '0'..='9' => out.push(c),
            // A tilde, ASCII or full-width, opens an extension to libphonenumber.
            '~' | '\u{FF5E}' => return None,
            c if c.is_whitespace() || is_punctuation(c) => out.push(' '),
            _ => return None,
        }
    }
    Some(out)
}

/// Whether `c` is in libphonenumber's `VALID_PUNCTUATION` (less its `x`, which marks an
/// extension): dashes of every kind, dots, slashes, brackets, tildes and the invisible
/// separators, in either width.
pub(crate) fn is_punctuation(c: char) -> bool {
    matches!(
        c,
        '-' | '.'
            | '/'
            | '('
            | ')'
            | '['
            | ']'
            | '~'
            | '\u{2010}'..='\u{2015}'
            | '\u{2212}'
            | '\u{30FC}'
            | '\u{FF0D}'..='\u{FF0F}'
            | '\u{FF08}'
            | '\u{FF09}'
            | '\u{FF3B}'
            | '\u{FF3D}'
            | '\u{2053}'
            | '\u{223C}'
            | '\u{FF5E}'
            | '\u{00AD}'
            | '\u{200B}'
            | '\u{2060}'
            | '\u{3000}'
    )
}

/// Normalises trimmed text to E.164.
pub(crate) fn normalize_phone_trimmed(t: &str) -> Result<String> {
    let ascii = ascii_phone_text(t);
    let text = ascii.as_deref().unwrap_or(t);
    let r = match fast_normalize(text) {
        Some(r) => r.map_err(|()| CrateReject::Invalid),
        // A plus, digits and other separators libphonenumber skips: read as the same digits
        // with spaces. The crate reads only what is left (`tel:` URIs, letters, extensions).
        None => match natural_form(text).and_then(|t| fast_normalize(&t)) {
            Some(r) => r.map_err(|()| CrateReject::Invalid),
            None => crate_checked(text),
        },
    };
    let r = match r {
        Err(CrateReject::Invalid) => unstripped(text).ok_or(CrateReject::Invalid),
        // An extension is reported as such; any other letter is not part of a number (a
        // `tel:` URI's scheme aside).
        Ok(_) if has_letters(text) => Err(CrateReject::Letters),
        other => other,
    };
    r.map_err(|why| {
        let message = if why == CrateReject::Extension {
            "phone extensions cannot be stored; give the number without its extension"
        } else if why == CrateReject::Letters {
            "a phone number is digits: letters are not read as keypad digits"
        } else if !t.starts_with('+') && !t.starts_with('\u{FF0B}') {
            "the number has no country code; write it with +, e.g. +82 10-2020-3030"
        } else {
            "not a valid phone number for its country"
        };
        Error::validation(Some(t), EXPECTED_PHONE, message)
    })
}

/// Whether a number's text holds a letter, past any `tel:` scheme in front. (ASCII text,
/// nearly every number, is checked byte by byte; `str::trim_start_matches` with a text
/// pattern sets up a substring search for each number.)
fn has_letters(text: &str) -> bool {
    let mut rest = text;
    while let Some(r) = rest.strip_prefix("tel:") {
        rest = r;
    }
    if rest.is_ascii() {
        rest.bytes().any(|b| b.is_ascii_alphabetic())
    } else {
        rest.chars().any(char::is_alphabetic)
    }
}

/// The national significant number of an E.164 number with the country's national (trunk)
/// prefix in front where the country uses one, as dialled at home: `+821020203030` →
/// `01020203030`, `+14155550100` → `14155550100`, `+390612345678` → `0612345678` (Italy
/// has no trunk prefix; its leading 0 is part of the number). Used for quick search by
/// domestic digits. `None` if `e164` is not `+` and digits with a known country code.
pub fn national_number_digits(e164: &str) -> Option<String> {
    national_number_parts(e164).map(|(prefix, national)| [prefix, national].concat())
}

/// [`national_number_digits`] as its two parts, the trunk prefix (`""` where the country
/// has none) and the national number, without building the text.
pub(crate) fn national_number_parts(e164: &str) -> Option<(&'static str, &str)> {
    let rest = e164.trim().strip_prefix('+')?;
    let b = rest.as_bytes();
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) || b[0] == b'0' {
        return None;
    }
    let (e, len) = (1..=3.min(b.len())).find_map(|len| {
        let c = parse_u16(&b[..len])?;
        entry(c).map(|e| (e, len))
    })?;
    let national = &rest[len..];
    let region = match source_for(e, national) {
        Some(Ok(Some(r))) => Some(r),
        _ => e.region(0),
    };
    let prefix = region
        .and_then(|r| r.national_prefix.as_deref())
        .unwrap_or("");
    Some((prefix, national))
}

/// The digits of an E.164 number's national format where that format is more than the
/// trunk prefix and the national number ([`national_number_digits`]): `+5491123456789`
/// (an Argentine mobile) is dialled `011 15-2345-6789` at home, so `0111523456789`;
/// `+375291234567` is `8 029 123-45-67`. `None` for every other number, which is most:
/// only the countries whose metadata formats write digits of their own are formatted, by
/// libphonenumber's rule (the first format of the number's region whose leading digits
/// and pattern fit the national number).
pub fn national_format_digits(e164: &str) -> Option<String> {
    let rest = e164.trim().strip_prefix('+')?;
    if !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (code, len) = country_code(rest.as_bytes())?;
    let e = entry(code)?;
    if !e.rewrites {
        return None;
    }
    let nsn = rest.get(len..)?;
    let i = match source_for(e, nsn) {
        Some(Ok(Some(r))) => {
            (0..e.metas.len()).find(|&i| e.region(i).is_some_and(|x| std::ptr::eq(x, r)))?
        }
        _ => 0,
    };
    let formats = e
        .formats
        .get(i)?
        .get_or_init(|| e.metas.get(i).map(NationalFormat::all).unwrap_or_default());
    let d = formats.iter().find_map(|f| f.digits(nsn))?;
    (Some(&d) != national_number_digits(e164).as_ref() && !d.is_empty()).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_val_2_accepted_forms() {
        for (input, want) in [
            ("+821020203030", "+821020203030"),
            ("+82 010-2020-3030", "+821020203030"),
            ("+82 10-2020-3030", "+821020203030"),
            ("+8225556666", "+8225556666"),
            ("+1 415-555-0100", "+14155550100"),
            ("+44 20 7946 0958", "+442079460958"),
            ("+81 90-1234-5678", "+819012345678"),
            ("+49 30 123456", "+4930123456"),
            ("+39 06 1234 5678", "+390612345678"),
            ("+1 (415) 555-0100", "+14155550100"),
        ] {
            assert_eq!(normalize_phone_trimmed(input).unwrap(), want, "{input}");
            assert_eq!(crate_normalize(input).unwrap(), want, "crate: {input}");
        }
    }

    #[test]
    fn r_val_2_rejected() {
        for bad in [
            "01020203030",
            "010-2020-3030",
            "+82 10",
            "phone",
            "+",
            "+0 10 2020 3030",
            "+999 1234567",
            "+82 1020203030123456789",
            "1020203030",
        ] {
            assert!(
                normalize_phone_trimmed(bad).is_err(),
                "{bad} should be rejected"
            );
            assert!(crate_normalize(bad).is_err(), "crate: {bad}");
        }
    }

    /// R-VAL-2: full-width digits and signs, as East Asian input methods type them, read
    /// as their ASCII forms.
    #[test]
    fn r_val_2_valid_numbers_whose_first_digit_is_the_trunk_prefix() {
        for (input, want) in [
            ("+78121234567", "+78121234567"),
            ("+7 812 123-45-67", "+78121234567"),
            ("+7 (812) 315-49-29", "+78123154929"),
            ("+7.812.315.49.29", "+78123154929"),
            ("+78002000600", "+78002000600"),
            ("+37080012345", "+37080012345"),
            ("+8210-2020-3030", "+821020203030"),
            ("+1415-555-0100", "+14155550100"),
            // Forms that worked before still give what they gave.
            ("+82 010-2020-3030", "+821020203030"),
            ("+7 912 345-67-89", "+79123456789"),
            ("+7 8 912 345-67-89", "+79123456789"),
            // The trunk prefix of the code's main country, as libphonenumber strips it.
            ("+1 1 201-555-0123", "+12015550123"),
            ("+1 (1) 201 555 0123", "+12015550123"),
            ("+1 1 416-555-0123", "+14165550123"),
        ] {
            assert_eq!(normalize_phone_trimmed(input).unwrap(), want, "{input}");
            // R-VAL-10: the canonical text reads back as itself.
            assert_eq!(normalize_phone_trimmed(want).unwrap(), want, "{want}");
        }
        // Letters are not keypad digits.
        for bad in [
            "+82 10-2020-303O",
            "+1 800 FLOWERS",
            "+82 1O-2020-3030",
            "+1 800 flowers",
            "tel:+1-800-flowers",
        ] {
            let e = normalize_phone_trimmed(bad).unwrap_err();
            assert!(e.to_string().contains("letters"), "{bad}: {e}");
        }
        // A text the crate reads by stripping Russia's trunk `8` twice (`+7 88 8147755159`)
        // is invalid, as libphonenumber finds it: one `8` comes off, and 11 digits are no
        // Russian number.
        assert!(normalize_phone_trimmed("+7888147755159").is_err());
        for bad in ["+7 812 123", "+78", "+7 000 000-00-00", "+82 10-20"] {
            assert!(normalize_phone_trimmed(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn r_val_2_full_width_forms_are_read_as_ascii() {
        for wide in [
            "\u{FF0B}\u{FF18}\u{FF12}\u{FF11}\u{FF10}\u{FF12}\u{FF10}\u{FF12}\u{FF10}\u{FF13}\u{FF10}\u{FF13}\u{FF10}",
            "\u{FF0B}82\u{3000}10\u{FF0D}2020\u{FF0D}3030",
            "+82 \u{FF08}10\u{FF09} 2020 3030",
            "\u{FF0B}8210-2020-3030",
            "\u{FF0B}82 10 2020 3030",
        ] {
            assert_eq!(normalize_phone_trimmed(wide).unwrap(), "+821020203030", "{wide}");
        }
        assert!(normalize_phone_trimmed("\u{FF10}\u{FF11}\u{FF10}").is_err());
    }

    /// R-VAL-2: a number with an extension is rejected, saying why, rather than stored
    /// without it.
    #[test]
    fn r_val_2_extensions_are_rejected_not_dropped() {
        for with_ext in [
            "+82 10 2020 3030 ext. 55",
            "+82 10 2020 3030 x5",
            "+1 415 555 0100 ext 7",
        ] {
            let e = normalize_phone_trimmed(with_ext).unwrap_err();
            assert!(e.to_string().contains("extension"), "{with_ext}: {e}");
        }
        assert!(normalize_phone_trimmed("+82 10-2020-3030;ext=55").is_err());
        assert_eq!(
            normalize_phone_trimmed("+82 10 2020 3030").unwrap(),
            "+821020203030"
        );
    }

    /// The bundled metadata file is the one the crate's `DATABASE` was built from: the same
    /// regions for each code in the same order, and every field this module reads equal.
    /// (After an upgrade of the crate, copy its `assets/PhoneNumberMetadata.xml` to
    /// `data/`.)
    #[test]
    fn build_time_metadata_is_the_bundled_file_as_the_crate_reads_it() {
        let read = phonenumber::metadata::loader::load(std::io::Cursor::new(METADATA_XML))
            .expect("the bundled file loads");
        let decoded: Vec<Metadata> = postcard::from_bytes(METADATA).expect("it decodes");
        assert!(read.len() > 240, "{} regions", read.len());
        assert_eq!(format!("{decoded:?}"), format!("{read:?}"));
    }

    #[test]
    fn bundled_metadata_is_the_crates_database() {
        use phonenumber::metadata::DATABASE;
        let mut regions = 0;
        for code in 0u16..1000 {
            let ours = entry(u32::from(code));
            let (Some(theirs), Some(ids)) = (DATABASE.by_code(&code), DATABASE.region(&code))
            else {
                assert!(ours.is_none(), "+{code} is no code of the crate's");
                continue;
            };
            let ours = ours.unwrap_or_else(|| panic!("+{code} is missing"));
            let our_ids: Vec<&str> = (0..ours.metas.len()).map(|i| ours.id(i)).collect();
            assert_eq!(our_ids, ids, "+{code}");
            for (m, t) in ours.metas.iter().zip(&theirs) {
                regions += 1;
                let id = t.id();
                let pattern = |d: &Option<Descriptor>| {
                    d.as_ref().map(|d| {
                        let p = d.national_number.clone().unwrap_or_default();
                        (
                            p,
                            d.possible_length.clone(),
                            d.possible_local_length.clone(),
                        )
                    })
                };
                let crate_pattern = |d: Option<&phonenumber::metadata::Descriptor>| {
                    d.map(|d| {
                        (
                            d.national_number().as_str().to_string(),
                            d.possible_length().to_vec(),
                            d.possible_local_length().to_vec(),
                        )
                    })
                };
                let d = t.descriptors();
                let pairs = [
                    (&m.general, Some(d.general())),
                    (&m.fixed_line, d.fixed_line()),
                    (&m.mobile, d.mobile()),
                    (&m.premium_rate, d.premium_rate()),
                    (&m.toll_free, d.toll_free()),
                    (&m.shared_cost, d.shared_cost()),
                    (&m.voip, d.voip()),
                    (&m.personal_number, d.personal_number()),
                    (&m.pager, d.pager()),
                    (&m.uan, d.uan()),
                    (&m.voicemail, d.voicemail()),
                ];
                for (k, (a, b)) in pairs.into_iter().enumerate() {
                    assert_eq!(pattern(a), crate_pattern(b), "{id}: descriptor {k}");
                }
                assert_eq!(m.id.as_deref(), Some(id));
                assert_eq!(m.national_prefix.as_deref(), t.national_prefix(), "{id}");
                assert_eq!(
                    m.national_prefix_for_parsing.as_deref(),
                    t.national_prefix_for_parsing().map(|r| r.as_str()),
                    "{id}"
                );
                assert_eq!(
                    m.national_prefix_transform_rule.as_deref(),
                    t.national_prefix_transform_rule(),
                    "{id}"
                );
                assert_eq!(
                    m.leading_digits.as_deref(),
                    t.leading_digits().map(|r| r.as_str()),
                    "{id}"
                );
                let formats: Vec<_> = m
                    .formats
                    .iter()
                    .map(|f| {
                        (
                            f.pattern.clone().unwrap_or_default(),
                            f.format.clone().unwrap_or_default(),
                            f.leading_digits.clone(),
                            f.national_prefix_formatting_rule.clone(),
                        )
                    })
                    .collect();
                let crate_formats: Vec<_> = t
                    .formats()
                    .iter()
                    .map(|f| {
                        (
                            f.pattern().as_str().to_string(),
                            f.format().to_string(),
                            f.leading_digits()
                                .iter()
                                .map(|r| r.as_str().to_string())
                                .collect::<Vec<_>>(),
                            f.national_prefix().map(str::to_string),
                        )
                    })
                    .collect();
                assert_eq!(formats, crate_formats, "{id}");
            }
            assert_eq!(ours.metas.len(), theirs.len(), "+{code}");
        }
        assert!(regions > 240, "{regions} regions");
    }

    #[test]
    fn every_region_is_nameable_and_compiles() {
        for e in table().iter().flatten() {
            for i in 0..e.metas.len() {
                let r = e.region(i).expect("region compiles");
                assert!(r.nameable, "{}", e.id(i));
                let prefixes = [Some(&r.general.re), r.leading.as_ref()]
                    .into_iter()
                    .flatten()
                    .chain(r.npp.as_ref().map(|(_, p)| p))
                    .chain(r.types.iter().map(|d| &d.re));
                for p in prefixes {
                    assert!(p.dfa.is_some(), "{}: no DFA for {}", e.id(i), p.src);
                    assert!(
                        p.fallback().is_some(),
                        "{}: no regex for {}",
                        e.id(i),
                        p.src
                    );
                }
            }
        }
    }

    #[test]
    fn national_digits_with_trunk_prefix() {
        assert_eq!(
            national_number_digits("+821020203030").as_deref(),
            Some("01020203030")
        );
        assert_eq!(
            national_number_digits("+14155550100").as_deref(),
            Some("14155550100")
        );
        assert_eq!(
            national_number_digits("+390612345678").as_deref(),
            Some("0612345678")
        );
        assert_eq!(national_number_digits("821020203030"), None);
        // R-FLT-1: national formats that are more than the prefix and the number.
        assert_eq!(
            national_format_digits("+5491123456789").as_deref(),
            Some("0111523456789")
        );
        assert_eq!(
            national_format_digits("+375291234567").as_deref(),
            Some("80291234567")
        );
        assert_eq!(national_format_digits("+541123456789"), None);
        assert_eq!(national_format_digits("+821020203030"), None);
        // The same digits as the `phonenumber` crate's national format, over many numbers
        // of the countries whose formats rewrite.
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut checked = 0;
        for _ in 0..30_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let cc = ["54", "549", "375", "241"][(x % 4) as usize];
            let digits: String = (0..8 + (x >> 8) % 4)
                .map(|k| char::from(b'0' + ((x >> (12 + 3 * k)) % 10) as u8))
                .collect();
            let Ok(e164) = normalize_phone_trimmed(&format!("+{cc}{digits}")) else {
                continue;
            };
            let n = phonenumber::parse(None, &e164).unwrap();
            // The crate reads some canonical texts as another number (it strips a trunk
            // prefix that is part of the number): those say nothing of the format.
            if format!("+{}{}", n.code().value(), n.national()) != e164 {
                continue;
            }
            let text = phonenumber::format(&n)
                .mode(phonenumber::Mode::National)
                .to_string();
            let d: String = text.chars().filter(char::is_ascii_digit).collect();
            let expect = (Some(&d) != national_number_digits(&e164).as_ref()).then_some(d);
            assert_eq!(national_format_digits(&e164), expect, "{e164}: {text}");
            checked += 1;
        }
        assert!(checked > 300, "{checked}");
        assert_eq!(national_number_digits("+"), None);
    }
}
