//! `email` values (R-VAL-3): `email_address` in strict mode (a TLD is required, no domain
//! literal, no display text), with a byte-level fast path for plain ASCII addresses that
//! reaches the same verdict.

use email_address::{EmailAddress, Options};

use crate::error::{Error, Result};

/// What an email address must look like (R-VAL-3).
pub(crate) const EXPECTED_EMAIL: &str = "an email address such as name@example.com";

const LOCAL_PART_MAX: usize = 64;
const DOMAIN_MAX: usize = 254;
const LABEL_MAX: usize = 63;

/// The strict options: a domain with a TLD, no `[literal]`, no `Name <addr>`.
pub(crate) fn strict() -> Options {
    Options::default()
        .with_required_tld()
        .without_domain_literal()
        .without_display_text()
}

/// RFC 5322 `atext` restricted to ASCII (alphanumerics and ``!#$%&'*+-/=?^_`{|}~``).
#[inline]
fn is_atext(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'/'
                | b'='
                | b'?'
                | b'^'
                | b'_'
                | b'`'
                | b'{'
                | b'|'
                | b'}'
                | b'~'
        )
}

/// The byte-level verdict for plain ASCII addresses, or `None` when the text needs the
/// full parser (non-ASCII, quotes, angle or square brackets). Returns the index of the
/// separating `@` when valid.
#[inline]
pub(crate) fn fast_verdict(t: &str) -> Option<std::result::Result<usize, ()>> {
    let b = t.as_bytes();
    let mut at = None;
    for (i, &c) in b.iter().enumerate() {
        if c >= 0x80 || matches!(c, b'"' | b'<' | b'>' | b'[' | b']') {
            return None;
        }
        if c == b'@' {
            at = Some(i);
        }
    }
    let Some(at) = at else { return Some(Err(())) };
    let (local, domain) = (&b[..at], &b[at + 1..]);
    // Local part: a dot-atom of at most 64 bytes.
    if local.is_empty() || local.len() > LOCAL_PART_MAX {
        return Some(Err(()));
    }
    if !local
        .split(|&c| c == b'.')
        .all(|a| !a.is_empty() && a.iter().all(|&c| is_atext(c)))
    {
        return Some(Err(()));
    }
    // Domain: at least two labels, each starting and ending alphanumeric, ≤ 63 bytes.
    if domain.is_empty() || domain.len() > DOMAIN_MAX {
        return Some(Err(()));
    }
    let mut labels = 0;
    for label in domain.split(|&c| c == b'.') {
        let (Some(first), Some(last)) = (label.first(), label.last()) else {
            return Some(Err(()));
        };
        if !first.is_ascii_alphanumeric()
            || !last.is_ascii_alphanumeric()
            || label.len() > LABEL_MAX
            || !label.iter().all(|&c| is_atext(c))
        {
            return Some(Err(()));
        }
        labels += 1;
    }
    Some(if labels >= 2 { Ok(at) } else { Err(()) })
}

/// The crate's verdict in strict mode.
pub(crate) fn crate_verdict(t: &str) -> bool {
    EmailAddress::parse_with_options(t, strict()).is_ok()
}

fn bad(t: &str) -> Error {
    Error::validation(Some(t), EXPECTED_EMAIL, "not a valid email address")
}

/// Validates trimmed text as an email address and lower-cases its domain.
pub(crate) fn normalize_email_trimmed(t: &str) -> Result<String> {
    // Non-ASCII text is read in NFC (R-VAL-1: a file saved on macOS arrives decomposed), so
    // `jose` + U+0301 is the address `josé` is.
    let nfc = crate::text::nfc_cow(t);
    let t = nfc.as_ref();
    match fast_verdict(t) {
        Some(Ok(at)) => {
            let mut s = String::with_capacity(t.len());
            s.push_str(&t[..at + 1]);
            s.push_str(&t[at + 1..].to_ascii_lowercase());
            Ok(s)
        }
        Some(Err(())) => Err(bad(t)),
        None => {
            if !crate_verdict(t) {
                return Err(bad(t));
            }
            // Valid without display text: the address is `local@domain`, split at the last `@`.
            // The lower-cased form must itself be valid (R-VAL-10: its canonical text must
            // parse back); a few letters lower-case into combining sequences that are not.
            // It is put in NFC again: a capital with a combining mark that has no precomposed
            // capital (`J` + U+030C) lower-cases into a pair that has one (`ǰ`), and the
            // stored text must be the one its own canonical text parses to.
            match t.rsplit_once('@') {
                Some((local, domain)) => {
                    let lower = domain.to_lowercase();
                    let out = format!("{local}@{}", crate::text::nfc_cow(&lower));
                    if crate_verdict(&out) {
                        Ok(out)
                    } else {
                        Err(Error::validation(
                            Some(t),
                            EXPECTED_EMAIL,
                            "the domain has no valid lower-case form",
                        ))
                    }
                }
                None => Err(bad(t)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_val_3_accepts_and_lowercases_domain() {
        assert_eq!(
            normalize_email_trimmed("Kim.Ji@Example.COM").unwrap(),
            "Kim.Ji@example.com"
        );
        assert_eq!(
            normalize_email_trimmed("a+tag@sub.example.co.kr").unwrap(),
            "a+tag@sub.example.co.kr"
        );
        assert_eq!(
            normalize_email_trimmed("\"john doe\"@Example.com").unwrap(),
            "\"john doe\"@example.com"
        );
    }

    #[test]
    fn r_val_3_rejects_invalid() {
        for bad in [
            "plainaddress",
            "@example.com",
            "a@",
            "a@localhost",
            "a@[127.0.0.1]",
            "John <john@example.com>",
            "a..b@example.com",
            ".a@example.com",
            "a@-example.com",
            "a@example..com",
            "a b@example.com",
            "a@b@example.com",
        ] {
            assert!(
                normalize_email_trimmed(bad).is_err(),
                "{bad} should be rejected"
            );
            assert!(!crate_verdict(bad), "{bad}: crate disagrees");
        }
    }

    #[test]
    fn r_val_10_a_capital_dotted_i_lower_cases_to_a_valid_domain_that_parses_back() {
        // `İ` lower-cases to `i` + U+0307, which NFC keeps as two characters; the stored
        // domain is a valid address and parses back to itself.
        let stored = normalize_email_trimmed("a@\u{130}x.com").unwrap();
        assert_eq!(stored, "a@i\u{307}x.com");
        assert_eq!(normalize_email_trimmed(&stored).unwrap(), stored);
    }
}
