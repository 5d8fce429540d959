//! Helpers the fuzz targets share (included with `#[path]`; not a target of its own).
#![allow(dead_code)]

use rolodex::{Contact, ContactBook, FieldType, Query};
use serde_json::json;

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
