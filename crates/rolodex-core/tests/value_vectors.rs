//! The conformance vectors of `spec/vectors/val.json` (R-VAL), embedded, plus the shared
//! file itself when it is present next to the worktree (`ROLODEX_SPEC_DIR` overrides).

use rolodex_core::value::{parse_value, FieldType};
use rolodex_core::ErrorKind;

/// A copy of `spec/vectors/val.json`.
const EMBEDDED: &str = r####"[{"name": "mobile +82 010-2020-3030", "rule": "R-VAL-2", "steps": [{"parse": ["mobileNumber", "+82 010-2020-3030"], "expect": "+821020203030"}]}, {"name": "mobile +82 10-2020-3030", "rule": "R-VAL-2", "steps": [{"parse": ["mobileNumber", "+82 10-2020-3030"], "expect": "+821020203030"}]}, {"name": "mobile bad '01020203030'", "rule": "R-VAL-2", "steps": [{"parse": ["mobileNumber", "01020203030"], "expectError": "Validation"}]}, {"name": "mobile bad '010-2020-3030'", "rule": "R-VAL-2", "steps": [{"parse": ["mobileNumber", "010-2020-3030"], "expectError": "Validation"}]}, {"name": "mobile bad '+82 10'", "rule": "R-VAL-2", "steps": [{"parse": ["mobileNumber", "+82 10"], "expectError": "Validation"}]}, {"name": "mobile bad 'phone'", "rule": "R-VAL-2", "steps": [{"parse": ["mobileNumber", "phone"], "expectError": "Validation"}]}, {"name": "datetime 2025-05-04T00:00:00+00:00", "rule": "R-VAL-5", "steps": [{"parse": ["datetime", "2025-05-04T00:00:00+00:00"], "expect": "2025-05-04T00:00:00.000Z"}]}, {"name": "datetime 2025-05-04T00:00:00Z", "rule": "R-VAL-5", "steps": [{"parse": ["datetime", "2025-05-04T00:00:00Z"], "expect": "2025-05-04T00:00:00.000Z"}]}, {"name": "datetime 2025-05-04T09:00:00+09:00", "rule": "R-VAL-5", "steps": [{"parse": ["datetime", "2025-05-04T09:00:00+09:00"], "expect": "2025-05-04T00:00:00.000Z"}]}, {"name": "datetime 1746316800000", "rule": "R-VAL-5", "steps": [{"parse": ["datetime", "1746316800000"], "expect": "2025-05-04T00:00:00.000Z"}]}, {"name": "date", "rule": "R-VAL-5", "steps": [{"parse": ["date", "2025-05-04"], "expect": "2025-05-04"}]}, {"name": "date bad '2025.05.04'", "rule": "R-VAL-5", "steps": [{"parse": ["date", "2025.05.04"], "expectError": "Validation"}]}, {"name": "date bad '2025/05/04'", "rule": "R-VAL-5", "steps": [{"parse": ["date", "2025/05/04"], "expectError": "Validation"}]}, {"name": "datetime bad '2025/05/04'", "rule": "R-VAL-5", "steps": [{"parse": ["datetime", "2025/05/04"], "expectError": "Validation"}]}, {"name": "datetime bad '2025-02-30'", "rule": "R-VAL-5", "steps": [{"parse": ["datetime", "2025-02-30"], "expectError": "Validation"}]}, {"name": "date bad '2025-5-4'", "rule": "R-VAL-5", "steps": [{"parse": ["date", "2025-5-4"], "expectError": "Validation"}]}, {"name": "date bad ' 2025-05-04x'", "rule": "R-VAL-5", "steps": [{"parse": ["date", " 2025-05-04x"], "expectError": "Validation"}]}, {"name": "datetime bad ' 2025-05-04x'", "rule": "R-VAL-5", "steps": [{"parse": ["datetime", " 2025-05-04x"], "expectError": "Validation"}]}, {"name": "datetime bad '04/05/2025'", "rule": "R-VAL-5", "steps": [{"parse": ["datetime", "04/05/2025"], "expectError": "Validation"}]}, {"name": "date bad 'yesterday'", "rule": "R-VAL-5", "steps": [{"parse": ["date", "yesterday"], "expectError": "Validation"}]}, {"name": "bool true", "rule": "R-VAL-6", "steps": [{"parse": ["boolean", "true"], "expect": "true"}]}, {"name": "bool TRUE", "rule": "R-VAL-6", "steps": [{"parse": ["boolean", "TRUE"], "expect": "true"}]}, {"name": "bool y", "rule": "R-VAL-6", "steps": [{"parse": ["boolean", "y"], "expect": "true"}]}, {"name": "bool 1", "rule": "R-VAL-6", "steps": [{"parse": ["boolean", "1"], "expect": "true"}]}, {"name": "bool No", "rule": "R-VAL-6", "steps": [{"parse": ["boolean", "No"], "expect": "false"}]}, {"name": "bool N", "rule": "R-VAL-6", "steps": [{"parse": ["boolean", "N"], "expect": "false"}]}, {"name": "bool bad maybe", "rule": "R-VAL-6", "steps": [{"parse": ["boolean", "maybe"], "expectError": "Validation"}]}, {"name": "bool bad 2", "rule": "R-VAL-6", "steps": [{"parse": ["boolean", "2"], "expectError": "Validation"}]}, {"name": "bool bad on", "rule": "R-VAL-6", "steps": [{"parse": ["boolean", "on"], "expectError": "Validation"}]}, {"name": "number 1", "rule": "R-VAL-4", "steps": [{"parse": ["number", "1"], "expect": "1"}]}, {"name": "number -3", "rule": "R-VAL-4", "steps": [{"parse": ["number", "-3"], "expect": "-3"}]}, {"name": "number bad '1,000'", "rule": "R-VAL-4", "steps": [{"parse": ["number", "1,000"], "expectError": "Validation"}]}, {"name": "number bad '5kg'", "rule": "R-VAL-4", "steps": [{"parse": ["number", "5kg"], "expectError": "Validation"}]}, {"name": "number bad '1.2.3'", "rule": "R-VAL-4", "steps": [{"parse": ["number", "1.2.3"], "expectError": "Validation"}]}, {"name": "number bad 'NaN'", "rule": "R-VAL-4", "steps": [{"parse": ["number", "NaN"], "expectError": "Validation"}]}, {"name": "number bad 'inf'", "rule": "R-VAL-4", "steps": [{"parse": ["number", "inf"], "expectError": "Validation"}]}, {"name": "list of number", "rule": "R-VAL-7", "steps": [{"parse": ["listOfNumber", "[1,2]"], "expect": "[1,2]"}]}, {"name": "list bad '[\"a\"'", "rule": "R-VAL-7", "steps": [{"parse": ["list", "[\"a\""], "expectError": "Validation"}]}, {"name": "list bad '[a]'", "rule": "R-VAL-7", "steps": [{"parse": ["list", "[a]"], "expectError": "Validation"}]}, {"name": "list bad '[\"a\",]'", "rule": "R-VAL-7", "steps": [{"parse": ["list", "[\"a\",]"], "expectError": "Validation"}]}, {"name": "tag ok", "rule": "R-VAL-8", "steps": [{"parse": ["tag", "[\"basic/level1\", \"advanced/level2\"]"], "expect": "[\"basic/level1\",\"advanced/level2\"]"}]}, {"name": "tag bad [\"a/b/c\"]", "rule": "R-VAL-8", "steps": [{"parse": ["tag", "[\"a/b/c\"]"], "expectError": "Validation"}]}, {"name": "tag bad [\"a/\"]", "rule": "R-VAL-8", "steps": [{"parse": ["tag", "[\"a/\"]"], "expectError": "Validation"}]}, {"name": "tag bad [\"a.b\"]", "rule": "R-VAL-8", "steps": [{"parse": ["tag", "[\"a.b\"]"], "expectError": "Validation"}]}, {"name": "tag bad [\"a$\"]", "rule": "R-VAL-8", "steps": [{"parse": ["tag", "[\"a$\"]"], "expectError": "Validation"}]}, {"name": "tag bad [\"a\\\\b\"]", "rule": "R-VAL-8", "steps": [{"parse": ["tag", "[\"a\\\\b\"]"], "expectError": "Validation"}]}, {"name": "number bad '1.23457E+11'", "rule": "R-VAL-4", "steps": [{"parse": ["number", "1.23457E+11"], "expectError": "Validation"}]}]"####;

fn run(vectors: &str) -> usize {
    let cases: serde_json::Value = serde_json::from_str(vectors).expect("vectors are JSON");
    let mut n = 0;
    for case in cases.as_array().expect("an array of cases") {
        let name = case["name"].as_str().unwrap_or("?");
        let rule = case["rule"].as_str().unwrap_or("?");
        for step in case["steps"].as_array().expect("steps") {
            let args = step["parse"].as_array().expect("parse step");
            let ft: FieldType = args[0].as_str().unwrap().parse().expect("field type");
            let text = args[1].as_str().unwrap();
            let got = parse_value(ft, text);
            if let Some(want) = step.get("expect") {
                let v = got.unwrap_or_else(|e| panic!("{rule} {name}: {e}"));
                assert_eq!(v.canonical(), want.as_str().unwrap(), "{rule} {name}");
            } else {
                let kind = step["expectError"].as_str().unwrap();
                match got {
                    Err(e) => assert_eq!(e.kind().as_str(), kind, "{rule} {name}"),
                    Ok(v) => panic!("{rule} {name}: expected {kind}, got {v:?}"),
                }
                assert_eq!(kind, ErrorKind::Validation.as_str());
            }
            n += 1;
        }
    }
    n
}

#[test]
fn r_val_vectors_embedded() {
    assert!(run(EMBEDDED) >= 40);
}

#[test]
fn r_val_vectors_shared_file() {
    let dir = std::env::var("ROLODEX_SPEC_DIR")
        .unwrap_or_else(|_| format!("{}/../../../../shared/spec", env!("CARGO_MANIFEST_DIR")));
    let path = format!("{dir}/vectors/val.json");
    if let Ok(text) = std::fs::read_to_string(&path) {
        assert!(run(&text) >= 40);
    }
}
