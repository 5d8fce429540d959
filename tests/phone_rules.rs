//! R-VAL-2: phone numbers are read as libphonenumber reads them. The fixture holds 9,244
//! texts with libphonenumber's own verdict on each (Python `phonenumbers` 9.0.33, the
//! metadata version the `phonenumber` crate bundles; `tests/fixtures/phones/generate.py`
//! makes it): every region's example numbers with a digit changed, one digit short or
//! over, with the national prefix once or twice, spaced and punctuated at random, plus
//! non-geographic numbers, `tel:` URIs and separators right after the country code.

use rolodex::{parse_value, FieldType};

const FIXTURE: &str = include_str!("fixtures/phones/libphonenumber-9.0.33.tsv");

#[test]
fn r_val_2_every_verdict_is_libphonenumbers() {
    let mut wrong = Vec::new();
    let (mut valid, mut invalid) = (0, 0);
    for line in FIXTURE.lines() {
        let (text, want) = line.split_once('\t').expect("text<TAB>verdict");
        let got = match parse_value(FieldType::MobileNumber, text) {
            Ok(v) => v.canonical(),
            Err(_) => "ERR".to_string(),
        };
        if want == "ERR" {
            invalid += 1;
        } else {
            valid += 1;
        }
        if got != want {
            wrong.push(format!("{text:?}: libphonenumber {want}, here {got}"));
        }
    }
    assert!(
        valid > 4_000 && invalid > 4_000,
        "{valid} valid, {invalid} invalid"
    );
    assert!(
        wrong.is_empty(),
        "{} of {} texts read otherwise than libphonenumber reads them:\n{}",
        wrong.len(),
        valid + invalid,
        wrong
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The cases the review found, by name: a national prefix written twice is not stripped
/// twice, a 7-digit US number is no number after `+1 1`, and a Colombian carrier code
/// leaves too few digits to strip.
#[test]
fn r_val_2_prefixes_come_off_once_and_only_where_the_rest_is_a_number() {
    for bad in [
        "+82 (0) 010-2020-3030",
        "+82 00 10 2020 3030",
        "+44 0 07400 123456",
        "+49 0 030 123456",
        "+7 8 8 912 345 67 89",
        "+1 13101234",
        "+57 03211234567",
        "+47 0 212 3456",
        // A tilde opens an extension, as libphonenumber reads it.
        "+82 10~2020~3030",
        "+82 10\u{FF5E}2020\u{FF5E}3030",
    ] {
        assert!(
            parse_value(FieldType::MobileNumber, bad).is_err(),
            "{bad} is no valid number"
        );
    }
    for (good, want) in [
        ("+82 010-2020-3030", "+821020203030"),
        ("+1 1 201-555-0123", "+12015550123"),
        ("+7 8 800 555 35 35", "+78005553535"),
        ("+7 812 123-45-67", "+78121234567"),
        ("+8210-2020-3030", "+821020203030"),
        ("+13101234", "+13101234"),
        // Tilde operators and brackets are only separators.
        ("+82 10\u{223C}2020\u{223C}3030", "+821020203030"),
        ("+82 10[2020]3030", "+821020203030"),
    ] {
        let v = parse_value(FieldType::MobileNumber, good).unwrap();
        assert_eq!(v.canonical(), want, "{good}");
    }
}

/// R-VAL-2/R-VAL-10: texts the fast paths leave to the `phonenumber` crate (leading junk,
/// `tel:` URIs) are held to libphonenumber's validity too, so every stored number reads back
/// as itself. Found by fuzzing `parse_value`: with a NUL in front, `+82 30-200-20-20.30` was
/// accepted as `+8230200202030`, a number libphonenumber rejects and that did not parse back.
#[test]
fn r_val_2_the_crates_fallback_keeps_libphonenumbers_verdict() {
    for bad in ["\0\0\0+82 30-200-20-20.30", "\0+8230200202030"] {
        assert!(
            parse_value(FieldType::MobileNumber, bad).is_err(),
            "{bad:?} is no valid number"
        );
    }
    for (good, want) in [
        ("\0+82 10-2020-3030", "+821020203030"),
        ("tel:+82-10-2020-3030", "+821020203030"),
    ] {
        let v = parse_value(FieldType::MobileNumber, good).unwrap();
        assert_eq!(v.canonical(), want, "{good:?}");
        let again = parse_value(FieldType::MobileNumber, &v.canonical()).unwrap();
        assert_eq!(again, v, "{good:?} reads back");
    }
}
