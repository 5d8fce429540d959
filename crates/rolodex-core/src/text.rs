//! Text normalisation shared by values, filters and search: NFC and Unicode full default
//! case folding (R-FLT-12, R-VAL-1).

use std::borrow::Cow;

use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};

/// `text` in Unicode Normalization Form C.
pub fn nfc(text: &str) -> String {
    nfc_cow(text).into_owned()
}

/// `text` in NFC, borrowing when it already is (ASCII always is).
pub fn nfc_cow(text: &str) -> Cow<'_, str> {
    if text.is_ascii() || is_nfc_quick(text.chars()) == IsNormalized::Yes {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.nfc().collect())
    }
}

/// Unicode full default case folding of the NFC form of `text`, with no locale tailoring
/// (R-FLT-12): `"Straße"` and `"STRASSE"` fold alike, and the Turkish dotless `ı` stays
/// distinct from `i`. ASCII text takes a fast path (ASCII lower-casing is its full folding).
pub fn fold(text: &str) -> String {
    fold_cow(text).into_owned()
}

/// [`fold`], borrowing when the text is already folded.
pub fn fold_cow(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(text.to_ascii_lowercase())
        } else {
            Cow::Borrowed(text)
        }
    } else if let Some(folded) = fold_plain(text) {
        folded
    } else {
        folded_in_full(text)
    }
}

/// [`fold_cow`] the general way: NFC, full case folding through `caseless`, and NFC again.
fn folded_in_full(text: &str) -> Cow<'_, str> {
    let folded = caseless::default_case_fold_str(&nfc_cow(text));
    // Folding can leave a non-NFC sequence (e.g. a folded letter before a combining
    // mark); renormalise so equal texts fold to equal strings.
    match nfc_cow(&folded) {
        Cow::Borrowed(_) => Cow::Owned(folded),
        Cow::Owned(s) => Cow::Owned(s),
    }
}

/// [`fold_cow`] of text made only of Latin-1 (ASCII included), precomposed Hangul
/// syllables and CJK unified ideographs, the usual names of a Korean, Japanese, Chinese or
/// Western contact book; `None` for any other text. Written by hand because the general
/// way normalises the text twice and looks each character up in the folding table, about
/// 150-220 ns for a three-syllable Hangul name against 10-20 ns here. It gives the same
/// text (the unit test compares every such character with the general way): in
/// CaseFolding.txt these characters fold to themselves but for `A`-`Z` and `À`-`Þ`
/// (without `×`) to the letter 0x20 above, `µ` to `μ` and `ß` to `ss`; none of them, nor
/// `μ`, is changed by NFC or composes with a neighbour from the set (only a combining
/// mark or a conjoining jamo would, and those take the general way).
fn fold_plain(text: &str) -> Option<Cow<'_, str>> {
    let mut changes = false;
    for c in text.chars() {
        match c {
            'A'..='Z' | '\u{B5}' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{DF}' => changes = true,
            '\0'..='\u{FF}' | '\u{AC00}'..='\u{D7A3}' | '\u{4E00}'..='\u{9FFF}' => {}
            _ => return None,
        }
    }
    if !changes {
        return Some(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        match c {
            'A'..='Z' => out.push(c.to_ascii_lowercase()),
            '\u{B5}' => out.push('\u{3BC}'),
            '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{DE}' => {
                out.push(char::from_u32(u32::from(c) + 0x20).unwrap_or(c))
            }
            '\u{DF}' => out.push_str("ss"),
            c => out.push(c),
        }
    }
    Some(Cow::Owned(out))
}

/// Whether `a` and `b` are equal under [`fold`].
pub fn fold_eq(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    fold_cow(a) == fold_cow(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_flt_12_full_folding_sharp_s() {
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("STRASSE"), "strasse");
        assert!(fold_eq("ß", "SS"));
        assert!(fold_eq("ẞ", "ss"));
    }

    #[test]
    fn r_flt_12_turkish_dotless_i_untailored() {
        // No Turkish tailoring: `I` folds to `i`, dotless `ı` stays itself, and the dotted
        // capital `İ` folds to `i` + combining dot above.
        assert_eq!(fold("I"), "i");
        assert_eq!(fold("ı"), "ı");
        assert!(!fold_eq("ı", "i"));
        assert_eq!(fold("İ"), "i\u{307}");
        assert!(!fold_eq("İ", "i"));
    }

    #[test]
    fn r_flt_12_nfc_before_folding() {
        let decomposed = "e\u{301}"; // é decomposed
        assert_eq!(nfc(decomposed), "é");
        assert!(fold_eq("É", decomposed));
        assert_eq!(fold("한국어"), "한국어");
        let hangul_nfd: String = "한".nfd().collect();
        assert_eq!(fold(&hangul_nfd), "한");
    }

    /// Every character of the Basic Multilingual Plane and some beyond it, alone and
    /// between others (where NFC would compose a neighbour, if any could), folds as the
    /// general way folds it, whether the plain way takes it or not; the plain way takes
    /// exactly its set.
    #[test]
    fn r_flt_12_plain_folding_agrees_with_the_general_way() {
        let mut plain = 0;
        for c in ('\0'..='\u{FFFF}')
            .chain('\u{10400}'..='\u{1044F}')
            .chain('\u{20000}'..='\u{200FF}')
        {
            for text in [
                c.to_string(),
                format!("A{c}"),
                format!("{c}\u{C9}가"),
                format!("가{c}e"),
            ] {
                assert_eq!(fold_cow(&text), folded_in_full(&text), "{text:?}");
            }
            if fold_plain(&c.to_string()).is_some() {
                plain += 1;
            }
        }
        assert_eq!(plain, 256 + 11_172 + 20_992);
        // Borrowed when nothing changes.
        assert!(matches!(fold_plain("김민준 kim"), Some(Cow::Borrowed(_))));
        assert_eq!(fold_cow("김 ÉMILE Straße µ"), "김 émile strasse μ");
        assert_eq!(fold_plain("\u{1100}\u{1161}"), None);
        assert_eq!(fold_plain("가\u{11A8}"), None);
    }

    #[test]
    fn ascii_fast_path() {
        assert_eq!(fold_cow("abc"), Cow::Borrowed("abc"));
        assert_eq!(fold("AbC"), "abc");
        assert!(fold_eq("Kim", "KIM"));
    }
}
