//! R-VAL-9/10: `parse_value` never panics, and a value's canonical text parses back to the
//! same value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rolodex::{parse_value, FieldType};

fuzz_target!(|data: &[u8]| {
    let Some((&t, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let ty = FieldType::ALL[usize::from(t) % FieldType::ALL.len()];
    if let Ok(v) = parse_value(ty, &text) {
        let canonical = v.canonical();
        match parse_value(ty, &canonical) {
            Ok(again) => assert_eq!(again, v, "{ty:?} {text:?} → {canonical:?}"),
            Err(e) => panic!("{ty:?} {text:?}: canonical {canonical:?} does not parse: {e}"),
        }
    }
});
