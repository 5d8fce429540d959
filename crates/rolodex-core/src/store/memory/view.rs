//! The memory store's read-only row view ([`Store::for_each_view`](crate::store::Store)):
//! the values of the asked fields straight from the compact rows, with no [`Contact`]
//! (`BTreeMap` profile, owned strings) built per row.
//!
//! Per call the fields are resolved to row slots once; per row the packed profile is decoded
//! once into the columns that ask for its keys, tags are handed out as their interned ids
//! with the table's names, and a `c_` id's text is built on the stack.
//!
//! [`Contact`]: crate::contact::Contact

use super::blob::Pv;
use super::index::FxMap;
use super::table::{
    seq_id_text, sort_by_id, Fv, IdRef, Row, Slot, Table, OTHER_ID, S_IMPORT_TAGS, S_TAGS,
};
use crate::filter::{CompiledQuery, EvalCtx, Field, FieldValue};
use crate::store::{ContactView, ViewSink, ViewValue, Walk};

/// No column.
const NONE: u32 = u32::MAX;

/// One row seen through the slots of the asked fields.
struct RowView<'a> {
    table: &'a Table,
    row: &'a Row,
    slots: &'a [Slot],
    /// Per field, the column whose decoded profile value it shows (the first field naming
    /// the same key).
    source: &'a [u32],
    /// Per field, the decoded profile value (filled at the first field of each key).
    profile: &'a [Option<Pv<'a>>],
    /// The text of a `c_` id, when the id is asked for.
    seq_id: [u8; 14],
}

impl ContactView for RowView<'_> {
    fn hidden(&self) -> bool {
        self.row.hidden()
    }

    fn blocked(&self) -> bool {
        self.row.blocked()
    }

    fn value(&self, i: usize) -> ViewValue<'_> {
        let Some(slot) = self.slots.get(i) else {
            return ViewValue::MISSING;
        };
        match *slot {
            Slot::Id => ViewValue::Value(FieldValue::Text(match self.row.id() {
                IdRef::Seq(_) => std::str::from_utf8(&self.seq_id).unwrap_or_default(),
                IdRef::Other(s) => s,
            })),
            Slot::Absent => ViewValue::MISSING,
            Slot::Profile(_) => self
                .source
                .get(i)
                .and_then(|c| self.profile.get(*c as usize))
                .and_then(Option::as_ref)
                .map_or(ViewValue::MISSING, |v| ViewValue::Value(v.field_value())),
            Slot::Sys(S_TAGS) => ViewValue::Interned {
                ids: self.row.tag_ids(),
                names: self.table.tag_names(),
            },
            Slot::Sys(S_IMPORT_TAGS) => ViewValue::Interned {
                ids: self.row.import_tag_ids(),
                names: self.table.tag_names(),
            },
            s @ Slot::Sys(_) => match self.table.value(self.row, s) {
                Fv::B(v) => ViewValue::Value(v),
                // Only tags come as texts (handled above) and only profile keys hold
                // phone numbers.
                Fv::Tags(_) | Fv::Phone(_) => ViewValue::MISSING,
            },
        }
    }
}

/// The rows a walk settles on when it starts, in its order, each with the contact it held
/// then: the number of its `c_` id ([`OTHER_ID`] for another id, whose text is kept
/// aside). A walk that resumes after a pause hands out a row only if it still holds that
/// contact: a deleted contact's row may have been taken since by a new contact, or by one
/// an unmerge brought back (which may have been handed out already, from its old row).
/// 16 bytes a row.
#[derive(Debug, Default)]
pub(crate) struct Settled {
    rows: Vec<(u32, u64)>,
    others: FxMap<u32, Box<str>>,
}

impl Settled {
    fn of<'r>(rows: impl Iterator<Item = (u32, &'r Row)>) -> Settled {
        let mut s = Settled::default();
        for (r, row) in rows {
            let seq = row.seq().unwrap_or(OTHER_ID);
            if seq == OTHER_ID {
                s.others.insert(r, row.id().text().into());
            }
            s.rows.push((r, seq));
        }
        s
    }

    /// The `i`-th settled row, if it still holds the contact it held when settled.
    fn still<'t>(&self, table: &'t Table, i: usize) -> Option<&'t Row> {
        let &(r, seq) = self.rows.get(i)?;
        let row = table.row(r)?;
        match row.id() {
            IdRef::Seq(n) => (n == seq).then_some(row),
            // Only a row settled with another id has its text kept.
            IdRef::Other(id) => self
                .others
                .get(&r)
                .is_some_and(|o| **o == *id)
                .then_some(row),
        }
    }
}

impl Table {
    /// Every stored row, in id order (as `for_each` walks), for
    /// [`Table::for_each_view_settled`].
    pub(crate) fn settled(&self) -> Settled {
        Settled::of(self.rows_by_id().into_iter())
    }

    /// The rows a query matches (its listing, terms, quick search and filter), in id
    /// order, for [`Table::for_each_view_settled`]; the query's sort and paging are not
    /// used. The caller has flushed the search indexes.
    pub(crate) fn matched(&self, q: &CompiledQuery, ctx: &EvalCtx) -> Settled {
        let (m, _) = self.matching(q, ctx);
        let mut rows: Vec<(u32, &Row)> = m
            .iter()
            .filter_map(|r| self.row(r).map(|row| (r, row)))
            .collect();
        sort_by_id(&mut rows);
        Settled::of(rows.into_iter())
    }

    /// Hands a view of each settled row from position `from` on that still holds the
    /// contact it held when settled to `sink`, in the settled order, until it answers
    /// [`Walk::Stop`]; the view gives the values of `fields` by position. At
    /// [`Walk::Pause`], returns the position to go on from.
    pub(crate) fn for_each_view_settled(
        &self,
        settled: &Settled,
        from: usize,
        fields: &[Field],
        sink: &mut dyn ViewSink,
    ) -> Option<usize> {
        let rows = (from..settled.rows.len())
            .filter_map(|i| settled.still(self, i).map(|row| (i + 1, row)));
        self.for_each_view_of(rows, fields, sink)
    }

    /// [`Table::for_each_view_settled`] over the given rows, in their order, each with the
    /// position to go on from after it; at [`Walk::Pause`], returns that position.
    fn for_each_view_of<'r>(
        &'r self,
        rows: impl Iterator<Item = (usize, &'r Row)>,
        fields: &[Field],
        sink: &mut dyn ViewSink,
    ) -> Option<usize> {
        let slots: Vec<Slot> = fields.iter().map(|x| self.slot(x)).collect();
        // The column each interned key is decoded into, and where each field reads it.
        let mut column_of_key = vec![NONE; self.key_count()];
        let mut source = vec![NONE; slots.len()];
        for (i, s) in slots.iter().enumerate() {
            if let Slot::Profile(k) = s {
                if let Some(c) = column_of_key.get_mut(*k as usize) {
                    if *c == NONE {
                        *c = i as u32;
                    }
                    source[i] = *c;
                }
            }
        }
        let decode = source.iter().any(|c| *c != NONE);
        let want_id = slots.contains(&Slot::Id);
        let mut profile: Vec<Option<Pv<'_>>> = vec![None; slots.len()];
        for (next, row) in rows {
            if decode {
                profile.fill(None);
                for (k, v) in row.profile_iter() {
                    if let Some(&c) = column_of_key.get(k as usize) {
                        if let Some(p) = profile.get_mut(c as usize) {
                            *p = Some(v);
                        }
                    }
                }
            }
            let seq_id = match row.seq() {
                Some(n) if want_id => seq_id_text(n),
                _ => [0; 14],
            };
            let view = RowView {
                table: self,
                row,
                slots: &slots,
                source: &source,
                profile: &profile,
                seq_id,
            };
            match sink.view(&view) {
                Walk::Next => {}
                Walk::Pause => return Some(next),
                Walk::Stop => return None,
            }
        }
        None
    }
}
