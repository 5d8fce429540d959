//! Quick search (R-FLT-1) and multi-term search (R-FLT-2).

use std::collections::HashMap;
use std::sync::Arc;

use super::compile::is_phone_char;
use super::eval::{digits, phone_digits_match};
use super::term_list::{TermList, TermTexts};
use super::vfns;
use crate::contact::Contact;
use crate::error::{Error, Result};
use crate::text::{fold, fold_cow};

/// The most terms one multi-term search accepts (R-FLT-2 asks for at least 10,000).
pub const MAX_TERMS: usize = 100_000;

/// Whether `text` looks like a phone number (R-FLT-1): only digits, `+`, `-`, spaces and
/// parentheses, with at least 3 digits.
pub fn looks_like_phone(text: &str) -> bool {
    text.chars().all(is_phone_char) && text.chars().filter(|c| c.is_ascii_digit()).count() >= 3
}

/// Whether `text` may be a phone number written with its country code, as R-VAL-2 reads
/// one (`+82 10-2020-3030`, `(+82) 10.2020.3030`, `+82 10–2020–3030`, full-width forms):
/// only digits, plus signs, the separators libphonenumber reads (dashes of every kind, `.`
/// `/` `~`, spaces, parentheses and brackets) in either width, a plus sign
/// somewhere and at least 3 digits. Only such text is handed to the phone parser, which
/// is the judge: it would also read a number out of text with words around it, which is
/// not a phone number term.
fn may_be_phone(text: &str) -> bool {
    let mut digits = 0;
    let mut plus = false;
    for c in text.chars() {
        match c {
            '0'..='9' | '\u{FF10}'..='\u{FF19}' => digits += 1,
            '+' | '\u{FF0B}' => plus = true,
            c if crate::value::is_phone_punctuation(c) => {}
            c if c.is_whitespace() => {}
            _ => return false,
        }
    }
    plus && digits >= 3
}

/// A compiled quick search (R-FLT-1): a case-insensitive substring of the name or the email
/// and, when the text looks like a phone, its digits anywhere in the mobile number's E.164
/// digits or in its national form with the trunk prefix (`010-2020` finds `+821020203030`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuickSearch {
    folded: String,
    phone_digits: Option<String>,
}

impl QuickSearch {
    /// Compiles the search text; `None` when it is blank (no quick search).
    pub fn new(text: &str) -> Option<QuickSearch> {
        let t = text.trim();
        if t.is_empty() {
            return None;
        }
        Some(QuickSearch {
            folded: fold(t),
            phone_digits: looks_like_phone(t).then(|| digits(t)),
        })
    }

    /// The search text, trimmed and folded: a substring of the folded name or email.
    pub fn folded(&self) -> &str {
        &self.folded
    }

    /// The digits of the text when it looks like a phone number.
    pub fn phone_digits(&self) -> Option<&str> {
        self.phone_digits.as_deref()
    }

    /// Whether `c` matches.
    pub fn matches(&self, c: &Contact) -> bool {
        let f = self.folded.as_str();
        if c.name().is_some_and(|n| fold_cow(n).contains(f))
            || c.email().is_some_and(|e| fold_cow(e).contains(f))
        {
            return true;
        }
        match (&self.phone_digits, c.mobile_number()) {
            (Some(d), Some(m)) => phone_digits_match(m, |x| x.contains(d.as_str())),
            _ => false,
        }
    }
}

/// One term of a multi-term search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The term as given (without its grouping quotes), reported in `unmatchedTerms`.
    pub text: String,
    folded: String,
    phone: Option<String>,
    /// Whether the folded term holds an `@`, and whether it starts with `+` (its shape,
    /// which rules out some fields' lookups).
    has_at: bool,
    plus: bool,
    /// Whether folding leaves the term as given.
    fold_same: bool,
}

/// A parsed multi-term search (R-FLT-2) with hash lookups by folded text, exact text
/// (`memberId`) and E.164 phone.
#[derive(Debug, Clone, Default)]
pub struct Terms {
    terms: Vec<Term>,
    keys: Vec<TermKey>,
    by_folded: HashMap<String, Vec<u32>>,
    by_exact: HashMap<String, Vec<u32>>,
    by_phone: HashMap<String, Vec<u32>>,
    /// Every term's text, shared with the pages that report unmatched ones.
    texts: Arc<TermTexts>,
}

/// What an indexed store needs to look a term up, packed small so a search over many
/// terms reads one dense array: the fingerprints of the folded term and of its phone form,
/// and the term's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TermKey {
    /// [`text_fingerprint`] of the folded term.
    pub(crate) fp: u32,
    /// [`text_fingerprint`] of the folded phone form (when `has_phone`).
    pub(crate) phone_fp: u32,
    /// Whether the folded term holds an `@`.
    pub(crate) has_at: bool,
    /// Whether the folded term starts with `+`.
    pub(crate) plus: bool,
    /// Whether the term has a phone form.
    pub(crate) has_phone: bool,
}

/// A 32-bit fingerprint of a text: a multiply-rotate hash of its 8-byte words and length,
/// finished with a full-avalanche mix (every output bit depends on every input bit).
/// Different texts can share one; users check the text itself.
pub(crate) fn text_fingerprint(text: &str) -> u32 {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let add = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(SEED);
    let bytes = text.as_bytes();
    let mut h = 0u64;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        h = add(h, u64::from_le_bytes(b));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut b = [0u8; 8];
        b[..rest.len()].copy_from_slice(rest);
        h = add(h, u64::from_le_bytes(b));
    }
    let mut x = add(h, bytes.len() as u64);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^= x >> 33;
    x as u32
}

/// Splits `text` on `seps` outside double quotes, keeping the quotes.
fn split_outside_quotes(text: &str, is_sep: impl Fn(char) -> bool) -> Vec<&str> {
    let mut out = Vec::new();
    let mut in_quote = false;
    let mut start = 0;
    for (i, ch) in text.char_indices() {
        if ch == '"' {
            in_quote = !in_quote;
        } else if !in_quote && is_sep(ch) {
            out.push(&text[start..i]);
            start = i + ch.len_utf8();
        }
    }
    out.push(&text[start..]);
    out
}

/// Splits a piece into words at whitespace outside quotes, dropping the quotes; each word
/// says whether it was (partly) quoted.
fn split_words(piece: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut in_quote = false;
    for ch in piece.chars() {
        if ch == '"' {
            in_quote = !in_quote;
            quoted = true;
        } else if !in_quote && ch.is_whitespace() {
            if !cur.is_empty() {
                out.push((std::mem::take(&mut cur), quoted));
            }
            quoted = false;
        } else {
            cur.push(ch);
        }
    }
    if !cur.trim().is_empty() {
        out.push((cur, quoted));
    }
    out
}

/// Whether `t` is `+` and ASCII digits only (the shape of a stored E.164 number).
fn is_e164_shaped(t: &str) -> bool {
    t.strip_prefix('+')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// Splits multi-term search text into terms (R-FLT-2): commas, semicolons, newlines and
/// whitespace separate; double quotes group (`"Kim Min-jun"`); a piece between commas,
/// semicolons or newlines that is a valid phone number stays whole (`+82 10-2020-3030`).
/// Those are the only exceptions: words of a piece that holds more than a phone number are
/// terms of their own. Empty terms are dropped, and a repeated term is kept once.
pub fn split_terms(text: &str) -> Vec<String> {
    let mut raw = Vec::new();
    for piece in split_outside_quotes(text, |c| matches!(c, ',' | ';' | '\n' | '\r')) {
        let p = piece.trim();
        if p.is_empty() {
            continue;
        }
        if p.contains(char::is_whitespace) && may_be_phone(p) && vfns::normalize_phone(p).is_ok() {
            raw.push(p.to_string());
            continue;
        }
        raw.extend(split_words(p).into_iter().map(|(w, _)| w));
    }
    let mut seen = std::collections::HashSet::new();
    raw.retain(|t| {
        let t = t.trim();
        !t.is_empty() && seen.insert(t.to_string())
    });
    raw.into_iter().map(|t| t.trim().to_string()).collect()
}

impl Terms {
    /// Parses the terms text (see [`split_terms`]). More than [`MAX_TERMS`] terms is a
    /// `Validation` error.
    pub fn parse(text: &str) -> Result<Terms> {
        let words = split_terms(text);
        if words.len() > MAX_TERMS {
            return Err(Error::Validation {
                key: Some("terms".into()),
                text: None,
                expected: format!("at most {MAX_TERMS} search terms"),
                message: format!("the search has {} terms", words.len()),
            });
        }
        let mut t = Terms::default();
        let mut texts = TermTexts::default();
        for (i, w) in words.into_iter().enumerate() {
            texts.push(&w);
            let i = i as u32;
            let folded = fold(&w);
            // A term equal to a stored mobile number matches it even where the number
            // fails today's validation (stored before a metadata update, or written
            // straight to the store): a `+`-and-digits term is its own normal form.
            let phone = if may_be_phone(&w) {
                vfns::normalize_phone(&w)
                    .ok()
                    .or_else(|| is_e164_shaped(&w).then(|| w.clone()))
            } else {
                None
            };
            t.by_folded.entry(folded.clone()).or_default().push(i);
            t.by_exact.entry(w.clone()).or_default().push(i);
            if let Some(p) = &phone {
                t.by_phone.entry(p.clone()).or_default().push(i);
            }
            let has_at = folded.contains('@');
            let plus = folded.starts_with('+');
            t.keys.push(TermKey {
                fp: text_fingerprint(&folded),
                phone_fp: phone
                    .as_deref()
                    .map_or(0, |p| text_fingerprint(&fold_cow(p))),
                has_at,
                plus,
                has_phone: phone.is_some(),
            });
            t.terms.push(Term {
                has_at,
                plus,
                fold_same: folded == w,
                text: w,
                folded,
                phone,
            });
        }
        t.texts = Arc::new(texts);
        Ok(t)
    }

    /// The terms, in input order.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// Each term's lookup key, in input order.
    pub(crate) fn keys(&self) -> &[TermKey] {
        &self.keys
    }

    /// The terms at `picked` (indexes in input order), sharing this query's texts.
    pub(crate) fn list(&self, picked: Vec<u32>) -> TermList {
        TermList::picked(&self.texts, picked)
    }

    /// The number of terms.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// Whether there are no terms (then the search does not restrict anything).
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    fn each_hit(&self, c: &Contact, mut f: impl FnMut(u32)) {
        let mut look = |map: &HashMap<String, Vec<u32>>, key: &str| {
            if let Some(ids) = map.get(key) {
                ids.iter().for_each(|&i| f(i));
            }
        };
        if let Some(e) = c.email() {
            look(&self.by_folded, &fold_cow(e));
        }
        if let Some(n) = c.name() {
            look(&self.by_folded, &fold_cow(n));
        }
        if let Some(m) = c.mobile_number() {
            look(&self.by_phone, m);
        }
        if let Some(id) = &c.member_id {
            look(&self.by_exact, id);
        }
    }

    /// Whether any term equals the contact's email (case-insensitive), mobile number (after
    /// normalisation), `memberId` (exactly) or name (case-insensitive).
    pub fn matches(&self, c: &Contact) -> bool {
        let mut hit = false;
        self.each_hit(c, |_| hit = true);
        hit
    }

    /// A tracker of which terms the final result matched.
    pub fn tracker(&self) -> TermTracker<'_> {
        TermTracker {
            terms: self,
            matched: vec![false; self.terms.len()],
        }
    }
}

/// Records which terms matched the contacts of the final result.
#[derive(Debug, Clone)]
pub struct TermTracker<'a> {
    terms: &'a Terms,
    matched: Vec<bool>,
}

impl TermTracker<'_> {
    /// Marks the terms that `c` (a contact of the final result) matches.
    pub fn record(&mut self, c: &Contact) {
        let matched = &mut self.matched;
        self.terms.each_hit(c, |i| {
            if let Some(m) = matched.get_mut(i as usize) {
                *m = true;
            }
        });
    }

    /// The terms that matched nothing, in input order, as given.
    pub fn unmatched(&self) -> TermList {
        let picked = (0..self.terms.len() as u32)
            .filter(|i| !self.matched.get(*i as usize).copied().unwrap_or(true))
            .collect();
        self.terms.list(picked)
    }
}

impl Term {
    /// The term's E.164 form when it is a valid phone number (or the term itself when it
    /// is already `+` and digits, valid or not).
    pub fn phone(&self) -> Option<&str> {
        self.phone.as_deref()
    }

    /// The term folded for case-insensitive comparison.
    pub fn folded(&self) -> &str {
        &self.folded
    }

    /// Whether the folded term holds an `@`.
    pub fn has_at(&self) -> bool {
        self.has_at
    }

    /// Whether the folded term starts with `+`.
    pub fn starts_with_plus(&self) -> bool {
        self.plus
    }

    /// Whether folding leaves the term as given.
    pub fn fold_same(&self) -> bool {
        self.fold_same
    }
}
