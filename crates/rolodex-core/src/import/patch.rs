//! One CSV row turned into a typed patch (R-IMP-4..8, R-IMP-16, R-IMP-20, R-VAL, R-UNI-6).

use std::borrow::Cow;

use csv::ByteRecord;

use super::mapping::{ColumnMap, ColumnTarget};
use super::options::{EmptyCells, Failure, IdentifyBy};
use super::records::{QuotedCell, RecordInfo};
use crate::error::{Error, Result};
use crate::export::is_formula_start;
use crate::identity::check_identifier;
use crate::schema::MAX_STRING_CHARS;
use crate::value::{parse_value, FieldType, Value};

/// The identifier of one row, normalised: a `memberId` as given (trimmed), an email with
/// its domain lower-cased (R-VAL-3; matching compares emails case-insensitively), a
/// mobile number in E.164 (R-VAL-2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Identifier {
    /// A member's `memberId`.
    MemberId(String),
    /// A lead's email.
    Email(String),
    /// A lead's mobile number.
    MobileNumber(String),
}

impl Identifier {
    /// The data key of the identifier (`memberId`, `profile.email`, `profile.mobileNumber`).
    pub fn key(&self) -> &'static str {
        match self {
            Identifier::MemberId(_) => "memberId",
            Identifier::Email(_) => "profile.email",
            Identifier::MobileNumber(_) => "profile.mobileNumber",
        }
    }

    /// The normalised value.
    pub fn as_str(&self) -> &str {
        match self {
            Identifier::MemberId(s) | Identifier::Email(s) | Identifier::MobileNumber(s) => s,
        }
    }
}

/// One data row of an import, parsed and typed, ready to be applied to the contact book.
///
/// Profile keys are named as in [`crate::Contact::profile`] (the name under `profile.`).
/// The identifier is not among `profile_set`: it only matches an existing contact and is
/// set on a contact the row creates (R-IMP-5). Each data key appears in at most one of
/// the fields.
#[derive(Debug, Clone, PartialEq)]
pub struct RowPatch {
    /// The row as a spreadsheet numbers it (the header is row 1).
    pub row_number: u64,
    /// The identifier, normalised and checked against junk values (R-UNI-6).
    pub identifier: Identifier,
    /// Profile values that replace the stored ones (non-list types).
    pub profile_set: Vec<(String, Value)>,
    /// Profile list values (`list`, `listOfNumber`, `tag`) whose items are appended to the
    /// stored list, dropping items already present (R-IMP-8).
    pub profile_append: Vec<(String, Value)>,
    /// Profile keys cleared by an empty cell under `emptyCells: clear` (R-IMP-7).
    pub profile_clear: Vec<String>,
    /// Tags to append to `tags`, dropping tags already present (R-IMP-8).
    pub tags_append: Vec<String>,
    /// `tags` cleared by an empty cell under `emptyCells: clear`.
    pub clear_tags: bool,
    /// `unsubscribeEmail`: `None` when absent or empty, which keeps the stored value
    /// (R-IMP-6/7).
    pub unsubscribe_email: Option<bool>,
    /// `unsubscribeTexting`: as `unsubscribe_email`.
    pub unsubscribe_texting: Option<bool>,
    /// The original text of each imported column, in [`ColumnMap::columns`] order, for the
    /// failure log (R-IMP-13). Missing cells of a short row are empty.
    pub cells: Cells,
}

/// The original texts of a row's imported columns, kept in one buffer: a row keeps them for
/// the failure log whether or not it fails, so they cost two allocations, not one a cell.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Cells {
    text: String,
    /// Where each cell ends in `text`.
    ends: Vec<u32>,
}

impl Cells {
    /// Cells of these texts.
    pub fn new<'a>(texts: impl IntoIterator<Item = &'a str>) -> Cells {
        let mut cells = Cells::default();
        for t in texts {
            cells.push(t);
        }
        cells
    }

    fn push(&mut self, t: &str) {
        self.text.push_str(t);
        // A record is far below 4 GiB (the import reads at most 100 MiB).
        self.ends
            .push(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
    }

    /// The text of cell `i`.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = match i.checked_sub(1) {
            Some(j) => self.ends.get(j).map_or(0, |e| *e as usize),
            None => 0,
        };
        self.text.get(start..end)
    }

    /// How many cells there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The cells in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

impl std::fmt::Debug for Cells {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<S: AsRef<str>> PartialEq<Vec<S>> for Cells {
    fn eq(&self, other: &Vec<S>) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl std::ops::Index<usize> for Cells {
    type Output = str;

    /// The text of cell `i`; panics past the last cell, as a slice does.
    fn index(&self, i: usize) -> &str {
        match self.get(i) {
            Some(t) => t,
            None => panic!("cell {i} of a row of {} cells", self.len()),
        }
    }
}

/// A row that failed, with what the failure log needs (R-IMP-13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowFailure {
    /// The report entry: row number, keys at fault, reasons.
    pub failure: Failure,
    /// The original text of each imported column, in [`ColumnMap::columns`] order.
    pub cells: Cells,
}

impl RowPatch {
    /// Fails this row (for a reason found while applying it, e.g. R-IMP-6 or R-SCH-7),
    /// keeping its cells for the failure log.
    pub fn fail(self, error_columns: Vec<String>, error_reasons: Vec<String>) -> RowFailure {
        RowFailure {
            failure: Failure {
                row_number: self.row_number,
                error_columns,
                error_reasons,
            },
            cells: self.cells,
        }
    }

    /// Fails this row with `error`: its key (if any) is the column at fault, its message the
    /// reason.
    pub fn fail_with(self, error: &Error) -> RowFailure {
        let columns = error.key().map(|k| vec![k.to_string()]).unwrap_or_default();
        self.fail(columns, vec![error.to_string()])
    }
}

/// Undoes the formula guard of R-EXP-3 (R-IMP-20): a cell that starts with `'` followed by
/// `=`, `+`, `-`, `@`, tab, carriage return or `'` loses the first `'`. Any other text is
/// returned as is.
pub fn unneutralize_formula(cell: &str) -> &str {
    match cell.as_bytes() {
        [b'\'', next, ..] if is_formula_start(*next) => &cell[1..],
        _ => cell,
    }
}

/// Checks and normalises a `memberId`: trimmed (as a login does), compared exactly
/// (R-SCH-1), not empty (R-IMP-4) nor junk (R-UNI-6), at most 512 characters after NFC
/// (R-SCH-7).
pub fn normalize_member_id(text: &str) -> Result<String> {
    let t = text.trim();
    check_not_junk("memberId", t)?;
    // Counted after NFC (R-SCH-7); the id itself is kept as given, as it is compared exactly.
    if crate::text::nfc_cow(t).chars().count() > MAX_STRING_CHARS {
        return Err(Error::Validation {
            key: Some("memberId".into()),
            text: Some(crate::error::cut_text(t)),
            expected: format!("a memberId of at most {MAX_STRING_CHARS} characters"),
            message: "the memberId is too long".into(),
        });
    }
    Ok(t.to_string())
}

/// An empty identifier fails its row (R-IMP-4); a junk one is rejected (R-UNI-6).
fn check_not_junk(key: &str, t: &str) -> Result<()> {
    if t.is_empty() {
        return Err(Error::invalid_key(
            key,
            format!("a {key} in every row; it identifies the contact"),
            "the identifier is empty",
        ));
    }
    check_identifier(key, t)
}

/// Parses an identifier cell (already trimmed and un-neutralised).
pub(crate) fn parse_identifier(by: IdentifyBy, t: &str) -> Result<Identifier> {
    match by {
        IdentifyBy::MemberId => normalize_member_id(t).map(Identifier::MemberId),
        IdentifyBy::Email => {
            check_not_junk(by.key(), t)?;
            match parse_value(FieldType::Email, t).map_err(|e| e.with_key(by.key()))? {
                Value::Email(e) => Ok(Identifier::Email(e)),
                other => Err(unexpected(by.key(), &other)),
            }
        }
        IdentifyBy::MobileNumber => {
            check_not_junk(by.key(), t)?;
            match parse_value(FieldType::MobileNumber, t).map_err(|e| e.with_key(by.key()))? {
                Value::Phone(p) => Ok(Identifier::MobileNumber(p)),
                other => Err(unexpected(by.key(), &other)),
            }
        }
    }
}

fn unexpected(key: &str, v: &Value) -> Error {
    Error::invalid_key(
        key,
        "a value of the key's type",
        format!("parsing gave an unexpected value {:?}", v.canonical()),
    )
}

/// The imported columns' texts of a record (a missing cell of a short row is empty); a cell
/// the reader read otherwise than it stands in the file (`raw`) has its original text.
fn record_cells(map: &ColumnMap, record: &ByteRecord, raw: &[QuotedCell]) -> Cells {
    let mut cells = Cells {
        text: String::with_capacity(record.as_slice().len()),
        ends: Vec::with_capacity(map.columns.len()),
    };
    // The reader hands over UTF-8 (decoded, or checked before the import began); the
    // lossy reading is only a guard.
    let whole = std::str::from_utf8(record.as_slice()).ok();
    for c in &map.columns {
        let read = match (whole, record.range(c.index)) {
            (Some(w), Some(r)) => Cow::Borrowed(w.get(r).unwrap_or_default()),
            (None, Some(r)) => {
                String::from_utf8_lossy(record.as_slice().get(r).unwrap_or_default())
            }
            (_, None) => Cow::Borrowed(""),
        };
        // A cell the reader read otherwise than it stands in the file is given back as
        // it stands.
        match raw.iter().find(|q| q.field == c.index) {
            Some(q) => cells.push(&q.original(&read).unwrap_or_else(|| read.to_string())),
            None => cells.push(&read),
        }
    }
    cells
}

/// Builds the patch of one record, or its failure. Every bad cell of the row is reported;
/// the row fails whole (R-IMP-16).
pub(crate) fn build_row(
    map: &ColumnMap,
    empty_cells: EmptyCells,
    info: RecordInfo,
    record: &ByteRecord,
) -> std::result::Result<RowPatch, RowFailure> {
    let row = info.row;
    let cells = record_cells(map, record, &info.raw);
    let fail = |columns: Vec<String>, reasons: Vec<String>, cells: Cells| RowFailure {
        failure: Failure {
            row_number: row,
            error_columns: columns,
            error_reasons: reasons,
        },
        cells,
    };

    if let Some(m) = info.malformed {
        let columns = map
            .column_at(m.field())
            .map(|c| vec![c.key.clone()])
            .unwrap_or_default();
        let name = map
            .header
            .get(m.field())
            .cloned()
            .unwrap_or_else(|| format!("#{}", m.field() + 1));
        return Err(fail(columns, vec![m.reason(row, &name)], cells));
    }
    if record.len() != map.header.len() {
        let reason = format!(
            "malformed CSV line: the row has {} cells but the header has {}; check for an unquoted comma or a missing cell",
            record.len(),
            map.header.len()
        );
        return Err(fail(Vec::new(), vec![reason], cells));
    }

    let mut identifier = None;
    let mut patch = RowPatch {
        row_number: row,
        identifier: Identifier::MemberId(String::new()),
        profile_set: Vec::new(),
        profile_append: Vec::new(),
        profile_clear: Vec::new(),
        tags_append: Vec::new(),
        clear_tags: false,
        unsubscribe_email: None,
        unsubscribe_texting: None,
        cells: Cells::default(),
    };
    let mut bad_keys = Vec::new();
    let mut reasons = Vec::new();
    let mut bad = |key: &str, e: Error| {
        bad_keys.push(key.to_string());
        reasons.push(e.to_string());
    };

    for (column, cell) in map.columns.iter().zip(cells.iter()) {
        let text = unneutralize_formula(cell.trim());
        if column.target == ColumnTarget::Identifier {
            match parse_identifier(map.identify_by, text) {
                Ok(id) => identifier = Some(id),
                Err(e) => bad(&column.key, e),
            }
            continue;
        }
        if text.trim().is_empty() {
            // Opt-outs are kept when empty under both policies (R-IMP-6/7).
            if empty_cells == EmptyCells::Clear {
                match &column.target {
                    ColumnTarget::Profile(name) => patch.profile_clear.push(name.clone()),
                    ColumnTarget::Tags => patch.clear_tags = true,
                    _ => {}
                }
            }
            continue;
        }
        // A list cell of a profile key appends (R-IMP-8), its repeats dropped.
        let appends =
            column.field_type.is_list() && matches!(column.target, ColumnTarget::Profile(_));
        let parsed = if appends {
            crate::value::parse_value_to_append(column.field_type, text)
        } else {
            parse_value(column.field_type, text)
        };
        let value = match parsed {
            Ok(v) => v,
            Err(e) => {
                bad(&column.key, e.with_key(&column.key));
                continue;
            }
        };
        match (&column.target, value) {
            (ColumnTarget::Profile(name), v) if column.field_type.is_list() => {
                patch.profile_append.push((name.clone(), v))
            }
            (ColumnTarget::Profile(name), v) => patch.profile_set.push((name.clone(), v)),
            (ColumnTarget::Tags, Value::Tag(tags) | Value::List(tags)) => patch.tags_append = tags,
            (ColumnTarget::UnsubscribeEmail, Value::Boolean(b)) => {
                patch.unsubscribe_email = Some(b)
            }
            (ColumnTarget::UnsubscribeTexting, Value::Boolean(b)) => {
                patch.unsubscribe_texting = Some(b)
            }
            (_, other) => bad(&column.key, unexpected(&column.key, &other)),
        }
    }

    match identifier {
        Some(id) if reasons.is_empty() => {
            patch.identifier = id;
            patch.cells = cells;
            Ok(patch)
        }
        _ => Err(fail(bad_keys, reasons, cells)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::neutralize_formula;
    use proptest::prelude::*;

    #[test]
    fn r_imp_20_unneutralize() {
        assert_eq!(unneutralize_formula("'=SUM(A1)"), "=SUM(A1)");
        assert_eq!(unneutralize_formula("'+821020203030"), "+821020203030");
        assert_eq!(unneutralize_formula("'-3"), "-3");
        assert_eq!(unneutralize_formula("'@cmd"), "@cmd");
        assert_eq!(unneutralize_formula("'\tx"), "\tx");
        assert_eq!(unneutralize_formula("'\rx"), "\rx");
        assert_eq!(unneutralize_formula("''quoted"), "'quoted");
        assert_eq!(unneutralize_formula("'plain"), "'plain");
        assert_eq!(unneutralize_formula("'"), "'");
        assert_eq!(unneutralize_formula("'é"), "'é");
        assert_eq!(unneutralize_formula(""), "");
    }

    proptest! {
        /// R-IMP-20 is the inverse of R-EXP-3 for every string.
        #[test]
        fn r_imp_20_inverse_of_r_exp_3(s in any::<String>()) {
            let guarded = neutralize_formula(&s);
            prop_assert_eq!(unneutralize_formula(&guarded), s.as_str());
        }

        #[test]
        fn r_imp_20_inverse_of_r_exp_3_on_formula_like_text(
            s in "['=+\\-@\t\r]{0,3}[a-z0-9'=]{0,4}"
        ) {
            let guarded = neutralize_formula(&s);
            prop_assert_eq!(unneutralize_formula(&guarded), s.as_str());
        }
    }

    #[test]
    fn r_uni_6_junk_identifiers() {
        for junk in [
            "",
            "  ",
            "0",
            "000",
            "---",
            "0-0",
            "null",
            "NULL",
            "Undefined",
            "none",
            "anonymous",
            "UNKNOWN",
            "-1",
            " null ",
        ] {
            let e = normalize_member_id(junk).unwrap_err();
            assert_eq!(e.key(), Some("memberId"));
        }
        for ok in ["m1", "01", "-2", "nullable", "0x0"] {
            assert_eq!(normalize_member_id(ok).unwrap(), ok);
        }
        assert_eq!(normalize_member_id("  m-1 ").unwrap(), "m-1");
        assert!(normalize_member_id(&"x".repeat(513)).is_err());
        assert!(normalize_member_id(&"x".repeat(512)).is_ok());
    }
}
