//! R-CON-1/2/3, API.md: arbitrary JSON as a manager's `update` patch, as a new lead and as
//! a visitor's boot profile never panics. A rejected update or add changes nothing; a boot
//! drops bad values instead of failing (R-CON-3), and what it keeps reads back.
#![no_main]
#[path = "../../tests/oracles/mod.rs"]
mod common;
use libfuzzer_sys::fuzz_target;
use rolodex::{Boot, FieldType, NewLead};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let book = common::book_with(&common::EVERY_TYPE);
    common::define(
        &book,
        &[
            ("profile.s", FieldType::String),
            ("profile.land", FieldType::LandlineNumber),
        ],
    );
    let a = book
        .add_lead(NewLead::email("a@x.com").with_name("A"))
        .unwrap();
    book.add_lead(NewLead {
        mobile_number: Some("+82 10-2020-3030".into()),
        ..NewLead::default()
    })
    .unwrap();
    let before = common::everyone(&book);

    if book.update(&a.id, &value).is_err() {
        assert_eq!(
            common::everyone(&book),
            before,
            "a failed update changed the book: {value}"
        );
    }

    let before = common::everyone(&book);
    let lead = serde_json::from_value::<NewLead>(value.clone());
    if let Ok(lead) = lead {
        if book.add_lead(lead).is_err() {
            assert_eq!(
                common::everyone(&book),
                before,
                "a failed add changed the book: {value}"
            );
        }
    }

    if let Some(profile) = value.as_object() {
        let boot = Boot {
            contact_id: Some(a.id.clone()),
            profile: profile.clone(),
            ..Boot::default()
        };
        let booted = book
            .boot(boot)
            .expect("a boot drops bad data, it does not fail");
        assert_eq!(book.get(&booted.id).unwrap(), booted, "{value}");
        let anonymous = Boot {
            profile: profile.clone(),
            ..Boot::default()
        };
        let visitor = book
            .boot(anonymous)
            .expect("a visitor's boot does not fail");
        assert_eq!(book.get(&visitor.id).unwrap(), visitor, "{value}");
    }
});
