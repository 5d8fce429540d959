//! R-FLT-1, R-FLT-2 against plain models written from the rule text, over books and search
//! texts built from the input (ASCII names and emails from a small alphabet, so that
//! substrings often match, and Korean mobile numbers):
//! - quick search: a case-insensitive substring of the name or the email; a text that looks
//!   like a phone (only digits, `+`, `-`, spaces, parentheses, at least 3 digits) also
//!   matches when its digits occur in the E.164 digits or in the national form with its
//!   trunk prefix (`010…` for `+8210…`);
//! - multi-term search: a term equal to the email (case-insensitive), the mobile number
//!   (normalised), or the name (case-insensitive), with the terms that matched nothing listed.
use std::collections::BTreeSet;

use rolodex::{ContactBook, NewLead, Query};
use serde_json::json;

const ALPHABET: &[u8] = b"abAB k-";

fn text(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

struct Person {
    id: String,
    name: Option<String>,
    email: Option<String>,
    /// E.164 without the `+`, for `+82 10-…` numbers.
    mobile: Option<String>,
}

fn looks_like_phone(q: &str) -> bool {
    q.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')'))
        && q.chars().filter(char::is_ascii_digit).count() >= 3
}

fn quick_matches(p: &Person, q: &str) -> bool {
    let q = q.trim();
    if q.is_empty() {
        // No text: no quick search.
        return true;
    }
    let lower = q.to_lowercase();
    let sub = |s: &Option<String>| {
        s.as_ref()
            .is_some_and(|s| s.to_lowercase().contains(&lower))
    };
    if sub(&p.name) || sub(&p.email) {
        return true;
    }
    if !looks_like_phone(q) {
        return false;
    }
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    p.mobile.as_ref().is_some_and(|m| {
        // `82` + national number; the national form puts the trunk prefix `0` first.
        let national = format!("0{}", &m[2..]);
        m.contains(&digits) || national.contains(&digits)
    })
}

/// Runs the check on one input; panics where a rule is broken.
pub fn check(data: &[u8]) {
    let mut chunks = data.chunks(6);
    let book = ContactBook::in_memory();
    let mut people = Vec::new();
    for (i, c) in chunks.by_ref().take(12).enumerate() {
        let b = |k: usize| c.get(k).copied().unwrap_or(0);
        let name = (b(0) % 4 != 0).then(|| text(&c[..c.len().min(1 + usize::from(b(0) % 5))]));
        let email = (b(1) % 3 != 0).then(|| format!("{}{i}@ex.com", text(&c[1..c.len().min(4)])));
        let mobile = (email.is_none() || b(2) % 2 == 0)
            .then(|| format!("8210{:04}{:04}", 2000 + u16::from(b(3)), 3000 + i));
        let lead = NewLead {
            email: email.clone(),
            mobile_number: mobile.as_ref().map(|m| format!("+{m}")),
            name: name.clone(),
            ..NewLead::default()
        };
        let Ok(contact) = book.add_lead(lead) else {
            // A name the rules refuse (only spaces or dashes) is not this check's business.
            continue;
        };
        people.push(Person {
            name: contact.name().map(str::to_string),
            id: contact.id,
            email,
            mobile,
        });
    }
    // Search texts: the rest of the input, in pieces: letters, or phone-like digits.
    for c in chunks {
        let b = |k: usize| c.get(k).copied().unwrap_or(0);
        let mobiles: Vec<&String> = people.iter().filter_map(|p| p.mobile.as_ref()).collect();
        let q = if c[0] % 2 == 0 || mobiles.is_empty() {
            // One to three letters, so that substrings of names and emails often match.
            text(&c[1..c.len().min(2 + usize::from(c[0] >> 1) % 3)])
        } else {
            // A piece of someone's number, in E.164 or national form, sometimes punctuated.
            let m = mobiles[usize::from(b(1)) % mobiles.len()];
            let national = format!("0{}", &m[2..]);
            let whole = if b(2) % 2 == 0 {
                m.as_str()
            } else {
                national.as_str()
            };
            let start = usize::from(b(3)) % (whole.len() - 2);
            let end = (start + 3 + usize::from(b(4)) % 6).min(whole.len());
            let digits = &whole[start..end];
            match b(5) % 4 {
                0 => digits.to_string(),
                1 => format!("{}-{}", &digits[..2], &digits[2..]),
                2 => format!("({}) {}", &digits[..1], &digits[1..]),
                // Digits nobody has, most likely.
                _ => format!("+9{digits}"),
            }
        };
        let query = Query::from_value(&json!({"search": q, "limit": 1000})).unwrap();
        let got: BTreeSet<String> = match book.search(&query) {
            Ok(page) => page.contacts.into_iter().map(|c| c.id).collect(),
            // An empty or blank text may be refused; then there is no result to compare.
            Err(_) if q.trim().is_empty() => continue,
            Err(e) => panic!("quick search {q:?} refused: {e}"),
        };
        let want: BTreeSet<String> = people
            .iter()
            .filter(|p| quick_matches(p, &q))
            .map(|p| p.id.clone())
            .collect();
        assert_eq!(got, want, "quick search {q:?}");
    }

    // Multi-term search: every name, email and mobile number as terms, some changed.
    let mut terms: Vec<String> = Vec::new();
    for (i, p) in people.iter().enumerate() {
        match i % 4 {
            0 => terms.extend(p.email.as_ref().map(|e| e.to_uppercase())),
            1 => terms.extend(p.mobile.as_ref().map(|m| format!("+{m}"))),
            2 => terms.extend(p.name.as_ref().filter(|n| !n.contains(' ')).cloned()),
            _ => terms.push(format!("nobody{i}@ex.com")),
        }
    }
    if terms.is_empty() {
        return;
    }
    let query = Query::from_value(&json!({"terms": terms.join(", "), "limit": 1000})).unwrap();
    let page = book.search(&query).unwrap();
    let got: BTreeSet<String> = page.contacts.into_iter().map(|c| c.id).collect();
    let hits = |p: &Person, t: &str| {
        p.email.as_ref().is_some_and(|e| e.eq_ignore_ascii_case(t))
            || p.mobile.as_ref().is_some_and(|m| t == format!("+{m}"))
            || p.name.as_ref().is_some_and(|n| n.eq_ignore_ascii_case(t))
    };
    let want: BTreeSet<String> = people
        .iter()
        .filter(|p| terms.iter().any(|t| hits(p, t)))
        .map(|p| p.id.clone())
        .collect();
    assert_eq!(got, want, "terms {terms:?}");
    let unmatched: Vec<String> = terms
        .iter()
        .filter(|t| !people.iter().any(|p| hits(p, t)))
        .cloned()
        .collect();
    assert_eq!(
        page.unmatched_terms
            .iter()
            .map(str::to_string)
            .collect::<Vec<_>>(),
        unmatched,
        "unmatched terms of {terms:?}"
    );
}
