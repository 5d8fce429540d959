//! Helpers the integration tests share (`mod support;` in each test file). Each test file is
//! its own crate and uses some of them, so unused ones are allowed.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use rolodex::{Contact, ContactBook, ExportOptions, Filter, IdentifyBy, ImportOptions, Query};

/// An instant from its RFC 3339 text.
pub fn t(s: &str) -> DateTime<Utc> {
    rolodex::value::parse_datetime(s).unwrap()
}

/// A new in-memory book whose clock stands at `s`.
pub fn book_at(s: &str) -> ContactBook {
    let b = ContactBook::in_memory();
    b.set_clock(Some(t(s)));
    b
}

/// A leads import identified by email, with `autoMap`.
pub fn leads() -> ImportOptions {
    ImportOptions {
        auto_map: true,
        ..ImportOptions::leads(IdentifyBy::Email)
    }
}

/// Every stored contact, hidden and blocked included, in id order.
pub fn all(book: &ContactBook) -> Vec<Contact> {
    let mut out = Vec::new();
    book.store()
        .for_each(book.channel_name(), &mut |c| {
            out.push(c.clone());
            true
        })
        .unwrap();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// The text of an export.
pub fn export_text(book: &ContactBook, options: ExportOptions) -> String {
    let mut out = Vec::new();
    book.export_csv(&mut out, options).unwrap();
    String::from_utf8(out).unwrap()
}

/// A query from its JSON.
pub fn q(v: serde_json::Value) -> Query {
    Query::from_value(&v).unwrap()
}

/// A filter from its JSON.
pub fn f(v: serde_json::Value) -> Filter {
    Filter::from_value(&v).unwrap()
}
