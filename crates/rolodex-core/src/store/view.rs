//! Read-only views of stored contacts, for readers that only write out what they read
//! (CSV export, R-EXP-1).
//!
//! A view is made for a list of fields ([`Field`]s, the export's columns) and gives the
//! value of each by position, borrowed from wherever the store keeps it, so that a backend
//! with a compact layout (the memory store's rows) need not build a [`Contact`] per
//! contact. [`ContactFields`] is the view of a materialised [`Contact`]: the default of
//! [`Store::for_each_view`](super::Store::for_each_view) for every other backend, and what
//! the exporter writes contacts it is handed through.

use crate::contact::Contact;
use crate::error::Result;
use crate::filter::{Field, FieldValue};

/// What a walk over stored contacts does after handing one to its [`ViewSink`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    /// Go on to the next contact.
    Next,
    /// Let go of the channel, call [`ViewSink::paused`], then go on where the walk was.
    Pause,
    /// End the walk.
    Stop,
}

/// What takes the contacts of a walk ([`Store::for_each_view`](super::Store::for_each_view),
/// [`Store::for_each_view_matching`](super::Store::for_each_view_matching)) one by one.
///
/// A walk reads the store with the channel held, so that no write lands halfway through a
/// contact; [`Walk::Pause`] asks it to let go for a moment, and what the sink does in
/// [`ViewSink::paused`] (write out what it has gathered, call the book) holds up nobody.
/// A closure `FnMut(&dyn ContactView) -> bool` is a sink that never pauses (`false`
/// stops).
pub trait ViewSink {
    /// One contact; the answer says whether the walk goes on, pauses or ends.
    fn view(&mut self, contact: &dyn ContactView) -> Walk;

    /// Called after [`Walk::Pause`], with the channel let go (a backend that cannot let
    /// go in the middle of a walk calls it in place); an error ends the walk with it.
    fn paused(&mut self) -> Result<()>;
}

impl<F: FnMut(&dyn ContactView) -> bool> ViewSink for F {
    fn view(&mut self, contact: &dyn ContactView) -> Walk {
        if self(contact) {
            Walk::Next
        } else {
            Walk::Stop
        }
    }

    fn paused(&mut self) -> Result<()> {
        Ok(())
    }
}

/// One field's value in a [`ContactView`], borrowed from the store.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ViewValue<'a> {
    /// The value as the filter sees it ([`Field::get`]).
    Value(FieldValue<'a>),
    /// A list of strings kept as interned ids into a table of names (the memory store's
    /// tags): the items are `names[id]`, in order; an id outside `names` is an empty item.
    Interned {
        /// The item ids, in the list's order.
        ids: &'a [u32],
        /// The names the ids index.
        names: &'a [Box<str>],
    },
}

impl ViewValue<'_> {
    /// No value.
    pub const MISSING: ViewValue<'static> = ViewValue::Value(FieldValue::Missing);

    /// Whether the value is missing or an empty list.
    pub fn is_empty(&self) -> bool {
        match self {
            ViewValue::Value(v) => v.is_empty(),
            ViewValue::Interned { ids, .. } => ids.is_empty(),
        }
    }
}

/// A borrowed, read-only view of one stored contact: the values of the fields it was made
/// for, by position, and the two flags that decide its listing (R-FLT-6).
pub trait ContactView {
    /// Whether the contact is hidden (R-MU-2).
    fn hidden(&self) -> bool;

    /// Whether the contact is blocked.
    fn blocked(&self) -> bool;

    /// The value of the `i`-th field of those the view was made for; missing for an `i`
    /// past them.
    fn value(&self, i: usize) -> ViewValue<'_>;
}

/// The view of a materialised [`Contact`] for a list of fields.
#[derive(Debug, Clone, Copy)]
pub struct ContactFields<'a> {
    contact: &'a Contact,
    fields: &'a [Field],
}

impl<'a> ContactFields<'a> {
    /// The view of `contact` giving the values of `fields`.
    pub fn new(contact: &'a Contact, fields: &'a [Field]) -> ContactFields<'a> {
        ContactFields { contact, fields }
    }
}

impl ContactView for ContactFields<'_> {
    fn hidden(&self) -> bool {
        self.contact.hidden
    }

    fn blocked(&self) -> bool {
        self.contact.blocked
    }

    fn value(&self, i: usize) -> ViewValue<'_> {
        match self.fields.get(i) {
            Some(f) => ViewValue::Value(f.get(self.contact)),
            None => ViewValue::MISSING,
        }
    }
}
