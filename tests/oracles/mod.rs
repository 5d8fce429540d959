//! Rule checks over arbitrary input bytes, and the helpers they share. The fuzz targets
//! (`fuzz/`, included with `#[path]`) and the property tests of `tests/oracle_rules.rs`
//! both drive them; each helper is used by some of them.
#![allow(dead_code)]

pub mod book_ops;
pub mod export_cells;
pub mod failure_log;
pub mod import_match;
pub mod import_row;
pub mod import_split;
pub mod import_tags;
pub mod merge_unmerge;
pub mod mu_room;
pub mod permissions;
pub mod quick_search;
pub mod search_paging;
pub mod sessions;
pub mod unification;
pub mod verified_info;

use rolodex::{
    Boot, Contact, ContactBook, EmptyCells, FieldType, IdentifyBy, ImportOptions, NewLead, Query,
};
use serde_json::json;

/// The instant the checks' books start at: 2025-03-01 12:00 UTC.
pub fn start() -> chrono::DateTime<chrono::Utc> {
    "2025-03-01T12:00:00Z".parse().unwrap()
}

/// A key of each type that the value rules read differently (numbers, dates, datetimes,
/// booleans, and the three kinds of list), for checks that want every kind of value.
pub const EVERY_TYPE: [(&str, FieldType); 7] = [
    ("profile.n", FieldType::Number),
    ("profile.d", FieldType::Date),
    ("profile.dt", FieldType::Datetime),
    ("profile.b", FieldType::Boolean),
    ("profile.l", FieldType::List),
    ("profile.ln", FieldType::ListOfNumber),
    ("profile.t", FieldType::Tag),
];

/// A new in-memory book whose clock stands at [`start`], with `keys` defined.
pub fn book_with(keys: &[(&str, FieldType)]) -> ContactBook {
    let book = ContactBook::in_memory();
    book.set_clock(Some(start())).unwrap();
    define(&book, keys);
    book
}

/// A login (R-CON-4) with nothing but a `memberId`: the contact it reaches.
pub fn login(book: &ContactBook, member_id: &str) -> Contact {
    book.boot(Boot {
        member_id: Some(member_id.to_string()),
        ..Boot::default()
    })
    .unwrap()
}

/// A CSV cell holding `text`: quoted, with its quotes doubled.
pub fn csv_cell(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// Defines each `(key, type)` on `book`.
pub fn define(book: &ContactBook, keys: &[(&str, FieldType)]) {
    for (k, t) in keys {
        book.define_key(k, *t).unwrap();
    }
}

/// Every contact of the book — visible, hidden and blocked — in id order.
pub fn everyone(book: &ContactBook) -> Vec<Contact> {
    let mut cs = Vec::new();
    for include in ["visible", "hidden", "blocked"] {
        let q = Query::from_value(&json!({"limit": 1000, "include": include})).unwrap();
        cs.extend(book.search(&q).unwrap().contacts);
    }
    cs.sort_by(|a, b| a.id.cmp(&b.id));
    cs
}

/// What a call that fails must leave as it was: the contacts, MU and pending unifications.
pub fn state(book: &ContactBook) -> String {
    format!(
        "{}|{}|{:?}",
        serde_json::to_string(&everyone(book)).unwrap(),
        book.mu_count().unwrap(),
        book.pending_unifications().unwrap()
    )
}

/// The small book the import targets start from: a lead by email, a lead by mobile number,
/// a booted visitor holding an unverified email and mobile number, a member with an
/// email, keys `profile.n` (number), `profile.l` (list), `profile.s` (string), the MU
/// `limit`, and the clock a day on.
pub fn import_book(limit: Option<u64>) -> ContactBook {
    let book = book_with(&[
        ("profile.n", FieldType::Number),
        ("profile.l", FieldType::List),
        ("profile.s", FieldType::String),
    ]);
    book.add_lead(NewLead::email("a@x.com").with_name("A"))
        .unwrap();
    book.add_lead(NewLead {
        mobile_number: Some("+82 10-2020-3030".into()),
        ..NewLead::default()
    })
    .unwrap();
    let mut profile = serde_json::Map::new();
    profile.insert("email".into(), json!("v@x.com"));
    profile.insert("mobileNumber".into(), json!("+82 10-5555-6666"));
    book.boot(Boot {
        profile,
        ..Boot::default()
    })
    .unwrap();
    let mut profile = serde_json::Map::new();
    profile.insert("email".into(), json!("m@x.com"));
    book.boot(Boot {
        member_id: Some("m1".into()),
        profile,
        ..Boot::default()
    })
    .unwrap();
    book.set_mu_limit(limit).unwrap();
    book.set_clock(Some("2025-03-02T12:00:00Z".parse().unwrap()))
        .unwrap();
    book
}

/// Import options from a mode byte: leads by email, leads by mobile number or members
/// (`mode % 3`), clearing empty cells when bit 2 is set; `autoMap`, file `f.csv`.
pub fn import_options(mode: u8) -> ImportOptions {
    let mut o = match mode % 3 {
        0 => ImportOptions::leads(IdentifyBy::Email),
        1 => ImportOptions::leads(IdentifyBy::MobileNumber),
        _ => ImportOptions::members(),
    };
    o.auto_map = true;
    if mode & 4 != 0 {
        o.empty_cells = EmptyCells::Clear;
    }
    o.file_name = Some("f.csv".into());
    o
}
