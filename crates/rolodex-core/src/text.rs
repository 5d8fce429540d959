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

/// [`fold`], borrowing when the text is already folded ASCII.
pub fn fold_cow(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(text.to_ascii_lowercase())
        } else {
            Cow::Borrowed(text)
        }
    } else {
        let folded = caseless::default_case_fold_str(&nfc_cow(text));
        // Folding can leave a non-NFC sequence (e.g. a folded letter before a combining
        // mark); renormalise so equal texts fold to equal strings.
        match nfc_cow(&folded) {
            Cow::Borrowed(_) => Cow::Owned(folded),
            Cow::Owned(s) => Cow::Owned(s),
        }
    }
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

    #[test]
    fn ascii_fast_path() {
        assert_eq!(fold_cow("abc"), Cow::Borrowed("abc"));
        assert_eq!(fold("AbC"), "abc");
        assert!(fold_eq("Kim", "KIM"));
    }
}
