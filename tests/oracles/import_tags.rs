//! R-IMP-9 and R-IMP-20 against their text: "Every contact touched gets the import's import
//! tag … added to `userImportTags`. A contact keeps at most 30 import tags; adding a 31st
//! drops the oldest", and "re-using a tag a contact already has moves it to the newest
//! position". A contact goes through imports whose tags come from the input (40 names, so
//! that the cap and re-used tags both come up); its import tags always equal a plain model.
use std::io::Cursor;

use rolodex::{IdentifyBy, ImportOptions, ImportSource, NewLead};

/// Runs the check on one input; panics where a rule is broken.
pub fn check(data: &[u8]) {
    let book = super::book_with(&[]);
    let id = book.add_lead(NewLead::email("kim@x.com")).unwrap().id;
    let other = book.add_lead(NewLead::email("lee@x.com")).unwrap().id;
    let mut model: Vec<String> = Vec::new();
    for (n, &b) in data.iter().take(60).enumerate() {
        let tag = format!("list{}", b % 40);
        // Some imports touch only the other contact: they leave this one's tags alone.
        let email = if b & 0x40 != 0 && b & 0x80 != 0 {
            "lee@x.com"
        } else {
            "kim@x.com"
        };
        let mut o = ImportOptions::leads(IdentifyBy::Email);
        o.auto_map = true;
        o.import_tag = Some(tag.clone());
        book.set_clock(Some(super::start() + chrono::TimeDelta::minutes(n as i64)))
            .unwrap();
        let csv = format!("profile.email\n{email}\n");
        let report = book
            .import_csv(ImportSource::reader(Cursor::new(csv.into_bytes())), o, None)
            .unwrap();
        assert_eq!(report.updated, 1, "{report:?}");
        if email == "kim@x.com" {
            model.retain(|t| *t != tag);
            model.push(tag);
            if model.len() > 30 {
                model.remove(0);
            }
        }
        assert_eq!(
            book.get(&id).unwrap().user_import_tags,
            model,
            "after import {n}"
        );
    }
    assert!(book.get(&other).unwrap().user_import_tags.len() <= 30);
}
