//! CSV export (R-EXP-1..4): columns, canonical cells (R-VAL-10), formula neutralising
//! (R-EXP-3) and the password-protected AES-256 zip (R-EXP-4).
//!
//! Choosing the contacts (all visible ones, a filter, chosen ids) is the book's part; this
//! module writes whatever contacts it is given, in the order given.
//!
//! Default columns, when neither `columns` nor `editableOnly` is given: `id`, `memberId`,
//! every visible (not archived) profile key in display order, `tags`, `userImportTags`,
//! `unsubscribeEmail`, `unsubscribeTexting`, `blocked`, `createdAt`, `updatedAt`,
//! `lastSeenAt`, `sessionCount`. (`member` is left out: it is `memberId` being present.)
//! Such an export re-imports with `autoMap`: the columns an import may not write are
//! ignored.
//!
//! Cells: a value's canonical text (R-VAL-10); an absent value, and an empty `tags` or
//! `userImportTags`, is an empty cell. Text that a spreadsheet would run as a formula gets
//! one `'` in front (R-EXP-3); `number` cells (and `sessionCount`) are written as plain
//! numbers. Fields holding `,`, `"`, CR or LF are quoted with inner quotes doubled; lines
//! end with LF; no BOM unless `bom` is set.

use std::borrow::Cow;
use std::io::{self, BufWriter, Write};
use std::sync::atomic::{AtomicU8, Ordering};

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use serde::{Deserialize, Serialize};

use crate::contact::Contact;
use crate::error::{Error, Result};
// One column of an export is where its value lives in a contact: the filter's `Field`.
use crate::filter::{Field, Field as Column, FieldValue};
use crate::schema::Schema;
use crate::store::{ContactFields, ContactView, ViewSink, ViewValue, Walk};
use crate::value::format_number;

/// Options of a contacts export, in the JSON shape of API.md:
/// `{"filter"?, "ids"?, "editableOnly"?, "columns"?, "password"?, "reason"?}`, plus
/// `"bom"?` to start the file with a UTF-8 BOM (so Excel shows non-ASCII text right).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportOptions {
    /// Export the contacts matching this filter (FILTER.md), the same [`Filter`](crate::Filter) a
    /// [`crate::Query`] or a segment takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<crate::filter::Filter>,
    /// Export these contacts (hidden and blocked ones included; with a filter, the
    /// intersection).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<String>>,
    /// Export exactly the import layout, [`Schema::import_layout`] (R-EXP-2).
    #[serde(
        default,
        deserialize_with = "crate::value::null_as_default",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub editable_only: bool,
    /// Export these data keys, in this order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// Write an AES-256 zip holding the CSV, encrypted with this password (R-EXP-4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Why the data is exported; required with a password (R-EXP-4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Start the CSV with a UTF-8 BOM.
    #[serde(
        default,
        deserialize_with = "crate::value::null_as_default",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub bom: bool,
}

impl ExportOptions {
    /// Reads export options from JSON text in the shape of API.md. A malformed `filter` is
    /// an `Error::Filter` naming the path of the bad node, as [`crate::Query::from_json`]
    /// reports it; any other bad field is an `Error::Validation` whose key names it, and a
    /// document that is not a JSON object is an `Error::Validation` too.
    ///
    /// ```
    /// let o = rolodex_core::ExportOptions::from_json(
    ///     r#"{"filter": {"key": "profile.city", "op": "eq", "value": "Seoul"}, "editableOnly": true}"#,
    /// )?;
    /// assert!(o.editable_only && o.filter.is_some());
    /// let bad = rolodex_core::ExportOptions::from_json(r#"{"filter": {"and": [{"key": 1}]}}"#);
    /// assert_eq!(bad.unwrap_err().kind(), rolodex_core::ErrorKind::Filter);
    /// # Ok::<(), rolodex_core::Error>(())
    /// ```
    pub fn from_json(text: &str) -> Result<ExportOptions> {
        ExportOptions::from_value(&crate::error::options_json("export options", text)?)
    }

    /// Reads export options from a JSON value; see [`ExportOptions::from_json`].
    pub fn from_value(v: &serde_json::Value) -> Result<ExportOptions> {
        const WHAT: &str = "export options";
        let obj = crate::error::options_object(WHAT, v)?;
        // The filter first, for its own error and path (R-FLT-4).
        let filter = match obj.get("filter") {
            None | Some(serde_json::Value::Null) => None,
            Some(f) => Some(crate::filter::Filter::from_value(f)?),
        };
        let rest: serde_json::Map<String, serde_json::Value> = obj
            .iter()
            .filter(|(k, _)| k.as_str() != "filter")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut options: ExportOptions =
            crate::error::options_from_value(WHAT, &serde_json::Value::Object(rest))?;
        options.filter = filter;
        Ok(options)
    }

    /// Checks the options that do not need the store: the password rule and a reason with
    /// it (R-EXP-4), and `columns` together with `editableOnly`.
    pub fn validate(&self) -> Result<()> {
        if self.editable_only && self.columns.is_some() {
            return Err(Error::invalid_key(
                "columns",
                "either editableOnly or columns",
                "an editable-only export has exactly the import layout; leave columns out",
            ));
        }
        if let Some(pw) = &self.password {
            check_export_password(pw)?;
            if !matches!(self.reason.as_deref(), Some(r) if !r.trim().is_empty()) {
                return Err(Error::invalid_key(
                    "reason",
                    "a reason for a protected export",
                    "a protected export records why it was made; give a reason",
                ));
            }
        }
        Ok(())
    }
}

/// Checks an export password (R-EXP-4): at least 6 characters, with at least one letter,
/// one digit and one symbol, of any script. The password is read as NFC (so Hangul typed
/// as jamo counts as its syllables) and each character is of one class by its Unicode
/// general category: a letter (L), a digit (N, so a Roman numeral `Ⅷ` is a digit and not
/// also the letter), a symbol (punctuation or symbol: P, S), or a space (Z), which counts
/// as a character only. A combining mark (M) belongs to the character before it, and an
/// invisible control or format character (C: a zero-width space, a joiner) is not a
/// character at all.
pub fn check_export_password(password: &str) -> Result<()> {
    use unicode_properties::{GeneralCategoryGroup as G, UnicodeGeneralCategory};
    let (mut count, mut letter, mut digit, mut symbol) = (0, false, false, false);
    for c in crate::text::nfc_cow(password).chars() {
        match c.general_category_group() {
            G::Letter => letter = true,
            G::Number => digit = true,
            G::Punctuation | G::Symbol => symbol = true,
            G::Separator => {}
            G::Mark | G::Other => continue,
        }
        count += 1;
    }
    let long = count >= 6;
    if long && letter && digit && symbol {
        return Ok(());
    }
    let mut missing = Vec::new();
    if !long {
        missing.push("at least 6 characters");
    }
    if !letter {
        missing.push("a letter");
    }
    if !digit {
        missing.push("a digit");
    }
    if !symbol {
        missing.push("a symbol such as ! or #");
    }
    Err(Error::Validation {
        key: Some("password".into()),
        text: None,
        expected:
            "a password of at least 6 characters with at least one letter, one digit and one symbol"
                .into(),
        message: format!("the password lacks {}", missing.join(", ")),
    })
}

/// Whether a cell starting with byte `b` could run as a spreadsheet formula (R-EXP-3):
/// `=`, `+`, `-`, `@`, tab, carriage return, or `'` (so that R-IMP-20 can undo the guard
/// exactly).
pub(crate) fn is_formula_start(b: u8) -> bool {
    matches!(b, b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\'')
}

/// Neutralises a text cell (R-EXP-3): text starting with `=`, `+`, `-`, `@`, tab, carriage
/// return or `'` gets one `'` in front. [`crate::import::unneutralize_formula`] undoes it.
pub fn neutralize_formula(text: &str) -> Cow<'_, str> {
    match text.as_bytes().first() {
        Some(&b) if is_formula_start(b) => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

/// Whether a CSV field must be quoted: it holds `,`, `"`, CR or LF. One pass without early
/// exit (the compiler vectorises it); long cells go to `memchr`.
fn needs_quotes(bytes: &[u8]) -> bool {
    if bytes.len() > 64 {
        return memchr::memchr3(b',', b'"', b'\n', bytes).is_some()
            || memchr::memchr(b'\r', bytes).is_some();
    }
    bytes
        .iter()
        .fold(false, |q, &b| q | matches!(b, b',' | b'"' | b'\n' | b'\r'))
}

/// Writes one CSV field: quoted when it holds `,`, `"`, CR or LF, inner quotes doubled.
/// With `guard`, a `'` is written first, inside the quotes.
pub(crate) fn write_field<W: Write + ?Sized>(
    out: &mut W,
    guard: bool,
    bytes: &[u8],
) -> io::Result<()> {
    let quote = needs_quotes(bytes);
    if !quote {
        if guard {
            out.write_all(b"'")?;
        }
        return out.write_all(bytes);
    }
    out.write_all(if guard { b"\"'" } else { b"\"" })?;
    let mut rest = bytes;
    while let Some(i) = memchr::memchr(b'"', rest) {
        out.write_all(&rest[..=i])?;
        out.write_all(b"\"")?;
        rest = &rest[i + 1..];
    }
    out.write_all(rest)?;
    out.write_all(b"\"")
}

/// Writes a text cell with the formula guard of R-EXP-3.
pub(crate) fn write_text<W: Write + ?Sized>(out: &mut W, text: &str) -> io::Result<()> {
    let guard = text
        .as_bytes()
        .first()
        .is_some_and(|&b| is_formula_start(b));
    write_field(out, guard, text.as_bytes())
}

/// The header of an export with these options: `columns`, or with `editableOnly` the
/// import layout (R-EXP-2), else the default columns (see the module docs). A named
/// column that is not a data key is `NotFound`; an archived one, a duplicate, or an empty
/// list is `Validation`.
pub fn export_columns(schema: &Schema, options: &ExportOptions) -> Result<Vec<String>> {
    options.validate()?;
    if options.editable_only {
        return Ok(schema.import_layout());
    }
    if let Some(cols) = &options.columns {
        if cols.is_empty() {
            return Err(Error::invalid_key(
                "columns",
                "at least one data key",
                "the list of columns is empty; leave it out for the default columns",
            ));
        }
        for (i, key) in cols.iter().enumerate() {
            let def = schema.get(key).ok_or_else(|| {
                Error::not_found(
                    "data key",
                    key,
                    "export columns must be data keys of the schema (see schema())",
                )
            })?;
            if def.archived {
                return Err(Error::invalid_key(
                    key.clone(),
                    "a key that is not archived (restore it first)",
                    "archived keys are not shown and cannot be exported",
                ));
            }
            if cols[..i].contains(key) {
                return Err(Error::invalid_key(
                    key.clone(),
                    "each column once",
                    "the column is named twice",
                ));
            }
        }
        return Ok(cols.clone());
    }
    let mut out = vec!["id".to_string(), "memberId".to_string()];
    out.extend(
        schema
            .keys()
            .iter()
            .filter(|d| !d.system && !d.archived)
            .map(|d| d.key.clone()),
    );
    out.extend(
        [
            "tags",
            "userImportTags",
            "unsubscribeEmail",
            "unsubscribeTexting",
            "blocked",
            "createdAt",
            "updatedAt",
            "lastSeenAt",
            "sessionCount",
        ]
        .map(String::from),
    );
    Ok(out)
}

fn write_error(e: io::Error) -> Error {
    Error::storage(format!("the export could not be written: {e}"))
}

/// Writes contacts as CSV rows under a header; see the module docs for the layout.
///
/// Rows come from [`ContactView`]s (a store's rows, read in place) or from [`Contact`]s (seen
/// through [`ContactFields`]): both go through one cell writer, so they give the same bytes.
/// Cells are written straight into a buffered writer; values are formatted without
/// allocating.
pub struct CsvExporter<W: Write> {
    out: BufWriter<Valve<W>>,
    columns: Vec<Column>,
    scratch: Vec<u8>,
    rows: u64,
}

impl<W: Write> std::fmt::Debug for CsvExporter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvExporter")
            .field("columns", &self.columns)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl<W: Write> CsvExporter<W> {
    /// Resolves the columns ([`export_columns`]) and writes the header (after a BOM when
    /// `bom` is set). The password is not handled here: see [`write_export`].
    pub fn new(out: W, schema: &Schema, options: &ExportOptions) -> Result<CsvExporter<W>> {
        let keys = export_columns(schema, options)?;
        let columns = keys
            .iter()
            .map(|k| {
                Column::from_key(k).ok_or_else(|| {
                    Error::not_found("data key", k, "export columns must be data keys")
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut out = BufWriter::with_capacity(256 * 1024, Valve::new(out));
        let mut header = || -> io::Result<()> {
            if options.bom {
                out.write_all(b"\xEF\xBB\xBF")?;
            }
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                write_field(&mut out, false, k.as_bytes())?;
            }
            out.write_all(b"\n")
        };
        header().map_err(write_error)?;
        Ok(CsvExporter {
            out,
            columns,
            scratch: Vec::new(),
            rows: 0,
        })
    }

    /// The fields of the columns, in order: what a [`ContactView`] given to
    /// [`CsvExporter::write_view`] must be made for.
    pub fn fields(&self) -> &[Field] {
        &self.columns
    }

    /// Writes one contact as a row.
    pub fn write(&mut self, contact: &Contact) -> Result<()> {
        let view = ContactFields::new(contact, &self.columns);
        write_row(&mut self.out, &mut self.scratch, &self.columns, &view).map_err(write_error)?;
        self.rows += 1;
        Ok(())
    }

    /// Writes one contact, seen through a view made for [`CsvExporter::fields`], as a row.
    /// (A view made for other fields writes their values under these columns.)
    pub fn write_view(&mut self, contact: &dyn ContactView) -> Result<()> {
        write_row(&mut self.out, &mut self.scratch, &self.columns, contact).map_err(write_error)?;
        self.rows += 1;
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The writer the rows go to (behind a buffer of its own).
    pub(crate) fn get_mut(&mut self) -> &mut W {
        &mut self.out.get_mut().out
    }

    /// The bytes held in the exporter's own buffer, not yet handed to the writer.
    pub(crate) fn buffered(&self) -> usize {
        self.out.buffer().len()
    }

    /// Hands the buffered bytes to the writer, and flushes it.
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and returns the writer.
    pub fn finish(self) -> Result<W> {
        self.out
            .into_inner()
            .map(|valve| valve.out)
            .map_err(|e| write_error(e.into_error()))
    }
}

/// Writes one row: the cell of each column from the view's value at the same position.
fn write_row<W: Write>(
    out: &mut BufWriter<W>,
    scratch: &mut Vec<u8>,
    columns: &[Column],
    c: &dyn ContactView,
) -> io::Result<()> {
    let single = columns.len() == 1;
    for (i, col) in columns.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        let v = c.value(i);
        let wrote = match col {
            // An empty `tags` / `userImportTags` is an empty cell (a profile list's is `[]`).
            Column::Tags | Column::UserImportTags if v.is_empty() => false,
            _ => write_cell(out, scratch, v)?,
        };
        // A lone empty field would make a blank line, which is not a row on import.
        if single && !wrote {
            out.write_all(b"\"\"")?;
        }
    }
    out.write_all(b"\n")
}

/// Writes a value's cell (R-VAL-10, R-EXP-3); whether it wrote anything (a missing value
/// and empty text write nothing).
fn write_cell<W: Write + ?Sized>(
    out: &mut W,
    scratch: &mut Vec<u8>,
    v: ViewValue<'_>,
) -> io::Result<bool> {
    match v {
        ViewValue::Value(v) => match v {
            FieldValue::Missing => return Ok(false),
            FieldValue::Text(s) => {
                write_text(out, s)?;
                return Ok(!s.is_empty());
            }
            FieldValue::Number(n) => write_number(out, n)?,
            FieldValue::Boolean(b) => write_bool(out, b)?,
            FieldValue::Date(d) => write_date(out, &d)?,
            FieldValue::Datetime(t) => write_datetime(out, &t)?,
            FieldValue::Strings(items) => {
                write_json_list(out, scratch, items.iter().map(String::as_str))?
            }
            FieldValue::Numbers(ns) => {
                scratch.clear();
                scratch.push(b'[');
                for (i, n) in ns.iter().enumerate() {
                    if i > 0 {
                        scratch.push(b',');
                    }
                    write_number(scratch, *n)?;
                }
                scratch.push(b']');
                write_field(out, false, scratch)?
            }
        },
        ViewValue::Interned { ids, names } => write_json_list(
            out,
            scratch,
            ids.iter()
                .map(|i| names.get(*i as usize).map_or("", |s| &**s)),
        )?,
    }
    Ok(true)
}

fn write_bool<W: Write + ?Sized>(out: &mut W, b: bool) -> io::Result<()> {
    out.write_all(if b { b"true" } else { b"false" })
}

/// A number in canonical form (R-VAL-10), never guarded (R-EXP-3).
fn write_number<W: Write + ?Sized>(out: &mut W, n: f64) -> io::Result<()> {
    if n == 0.0 {
        return out.write_all(b"0");
    }
    if !n.is_finite() {
        return out.write_all(format_number(n).as_bytes());
    }
    // Whole numbers (counts, ids, amounts) as integer digits: below 2^53 every integer is a
    // double, so its shortest round-trip text is the integer itself.
    if n.fract() == 0.0 && n.abs() < 1e15 {
        return write_integer(out, n as i64);
    }
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(n);
    if s.contains('e') {
        return out.write_all(format_number(n).as_bytes());
    }
    out.write_all(s.strip_suffix(".0").unwrap_or(s).as_bytes())
}

/// The decimal digits of `n`, with `-` in front when negative.
fn write_integer<W: Write + ?Sized>(out: &mut W, n: i64) -> io::Result<()> {
    let mut b = [0u8; 20];
    let mut at = b.len();
    let mut v = n.unsigned_abs();
    while v >= 100 {
        at -= 2;
        two(&mut b[at..at + 2], (v % 100) as u32);
        v /= 100;
    }
    if v >= 10 {
        at -= 2;
        two(&mut b[at..at + 2], v as u32);
    } else {
        at -= 1;
        b[at] = b'0' + v as u8;
    }
    if n < 0 {
        at -= 1;
        b[at] = b'-';
    }
    out.write_all(&b[at..])
}

/// `00` to `99`.
const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// The two digits of `v % 100` into `out[0..2]`.
fn two(out: &mut [u8], v: u32) {
    let i = (v % 100) as usize * 2;
    out[..2].copy_from_slice(&DIGIT_PAIRS[i..i + 2]);
}

fn write_date<W: Write + ?Sized>(out: &mut W, d: &NaiveDate) -> io::Result<()> {
    let y = d.year();
    if !(0..=9999).contains(&y) {
        return write_text(out, &d.format("%Y-%m-%d").to_string());
    }
    let mut b = *b"0000-00-00";
    two(&mut b[0..2], (y / 100) as u32);
    two(&mut b[2..4], (y % 100) as u32);
    two(&mut b[5..7], d.month());
    two(&mut b[8..10], d.day());
    out.write_all(&b)
}

/// RFC 3339 in UTC with milliseconds (R-VAL-10), without allocating.
fn write_datetime<W: Write + ?Sized>(out: &mut W, t: &DateTime<Utc>) -> io::Result<()> {
    // The UTC calendar fields once (each accessor of `DateTime` converts again).
    let n = t.naive_utc();
    let (date, time) = (n.date(), n.time());
    let y = date.year();
    if !(0..=9999).contains(&y) {
        return write_text(out, &crate::value::format_datetime(t));
    }
    let secs = time.num_seconds_from_midnight();
    let mut b = *b"0000-00-00T00:00:00.000Z";
    two(&mut b[0..2], (y / 100) as u32);
    two(&mut b[2..4], (y % 100) as u32);
    two(&mut b[5..7], date.month());
    two(&mut b[8..10], date.day());
    two(&mut b[11..13], secs / 3600);
    two(&mut b[14..16], secs / 60 % 60);
    two(&mut b[17..19], secs % 60);
    // A leap second shows as nanoseconds ≥ 1e9; the canonical form caps it at .999.
    let ms = (time.nanosecond() / 1_000_000).min(999);
    b[20] = b'0' + (ms / 100) as u8;
    two(&mut b[21..23], ms % 100);
    out.write_all(&b)
}

/// Whether serde_json writes this byte of a string as itself (not as an escape).
fn json_plain(b: u8) -> bool {
    b >= 0x20 && b != b'"' && b != b'\\'
}

/// A list of strings as compact JSON (`["a","b"]`, what serde_json writes for a
/// `Vec<String>`), built in `scratch`; never guarded (it starts with `[`).
fn write_json_list<'s, W: Write + ?Sized>(
    out: &mut W,
    scratch: &mut Vec<u8>,
    items: impl Iterator<Item = &'s str>,
) -> io::Result<()> {
    scratch.clear();
    scratch.push(b'[');
    for (i, s) in items.enumerate() {
        if i > 0 {
            scratch.push(b',');
        }
        if s.bytes().all(json_plain) {
            scratch.push(b'"');
            scratch.extend_from_slice(s.as_bytes());
            scratch.push(b'"');
        } else {
            serde_json::to_writer(&mut *scratch, s).map_err(io::Error::other)?;
        }
    }
    scratch.push(b']');
    write_field(out, false, scratch)
}

/// The name of the CSV inside a protected export's zip.
pub const PROTECTED_ENTRY_NAME: &str = "contacts.csv";

/// A writer that puts everything written to it into one AES-256 encrypted, deflated entry
/// of a zip archive (R-EXP-4), streamed to `out` (no seeking needed).
///
/// Dropped without [`ProtectedZipWriter::finish`] (an export that failed), it writes
/// nothing more to `out`: the archive is left cut short, so no reader takes what reached
/// `out` for a whole export.
pub struct ProtectedZipWriter<W: Write> {
    /// `None` only inside [`ProtectedZipWriter::finish`], which takes the writer.
    zip: Option<Zip<W>>,
}

type Zip<W> = zip::ZipWriter<zip::write::StreamWriter<Valve<W>>>;

/// The way from a writer of ours to the caller's (or to the next one down), which lets
/// nothing more through once the one below has failed, or once the writer above is
/// dropped unfinished.
///
/// The writers above would otherwise write again after an error: a `BufWriter` (the
/// buffer of a [`CsvExporter`] or a failure log) hands its buffer on when dropped, after a
/// failed write too, and the `zip` crate's writer finishes its archive when dropped,
/// writing the closing records that make a cut-short export look whole.
pub(crate) struct Valve<W> {
    pub(crate) out: W,
    /// A [`Flow`]; atomic, so that the writers above stay `Sync` as a plain writer is.
    state: AtomicU8,
}

/// What a [`Valve`] lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Flow {
    Open = 0,
    /// A write or flush below failed: each one after it fails too, untried.
    Failed = 1,
    /// The writer above was dropped unfinished: what it still writes is dropped, without
    /// an error (which the `zip` crate would print to stderr).
    Shut = 2,
}

impl<W: Write> Valve<W> {
    pub(crate) fn new(out: W) -> Valve<W> {
        Valve {
            out,
            state: AtomicU8::new(Flow::Open as u8),
        }
    }

    fn set(&self, flow: Flow) {
        self.state.store(flow as u8, Ordering::Relaxed);
    }

    fn flow(&self) -> Flow {
        match self.state.load(Ordering::Relaxed) {
            0 => Flow::Open,
            1 => Flow::Failed,
            _ => Flow::Shut,
        }
    }

    /// Runs `f` on the writer below while open; `failed` says whether its outcome is a
    /// failure. An `Interrupted` error is not: the writers above try again, as `std` does.
    fn pass<T>(
        &mut self,
        f: impl FnOnce(&mut W) -> io::Result<T>,
        failed: impl FnOnce(&T) -> bool,
        shut: T,
    ) -> io::Result<T> {
        match self.flow() {
            Flow::Open => {
                let r = f(&mut self.out);
                let fails = match &r {
                    Ok(v) => failed(v),
                    Err(e) => e.kind() != io::ErrorKind::Interrupted,
                };
                if fails {
                    self.set(Flow::Failed);
                }
                r
            }
            Flow::Failed => Err(io::Error::other("an earlier write to this writer failed")),
            Flow::Shut => Ok(shut),
        }
    }
}

impl<W: Write> Write for Valve<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // A writer that takes none of a non-empty buffer has failed (the writers above
        // report `WriteZero`).
        self.pass(
            |out| out.write(buf),
            |n| *n == 0 && !buf.is_empty(),
            buf.len(),
        )
    }

    fn flush(&mut self) -> io::Result<()> {
        self.pass(|out| out.flush(), |_| false, ())
    }
}

impl<W: Write> Drop for ProtectedZipWriter<W> {
    fn drop(&mut self) {
        if let Some(valve) = self.zip.as_ref().and_then(|z| z.get_ref()) {
            valve.get_ref().set(Flow::Shut);
        }
    }
}

impl<W: Write> std::fmt::Debug for ProtectedZipWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProtectedZipWriter").finish_non_exhaustive()
    }
}

fn zip_error(e: zip::result::ZipError) -> Error {
    Error::storage(format!("the protected export could not be written: {e}"))
}

impl<W: Write> ProtectedZipWriter<W> {
    /// Starts a zip on `out` with one entry `entry_name`, encrypted with `password`
    /// (checked by [`check_export_password`] first).
    pub fn new(out: W, password: &str, entry_name: &str) -> Result<ProtectedZipWriter<W>> {
        check_export_password(password)?;
        // Wrapped before the entry starts: if that fails, the writer's drop shuts the valve
        // before the `zip` crate's drop can finish the archive.
        let mut w = ProtectedZipWriter {
            zip: Some(zip::ZipWriter::new_stream(Valve::new(out))),
        };
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .with_aes_encryption(zip::AesMode::Aes256, password);
        w.zip()
            .map_err(write_error)?
            .start_file(entry_name, options)
            .map_err(zip_error)?;
        Ok(w)
    }

    /// Ends the entry and the archive; returns `out`.
    pub fn finish(mut self) -> Result<W> {
        let zip = self.zip.take().ok_or_else(|| write_error(finished()))?;
        Ok(zip.finish().map_err(zip_error)?.into_inner().out)
    }

    fn zip(&mut self) -> io::Result<&mut Zip<W>> {
        self.zip.as_mut().ok_or_else(finished)
    }
}

/// The error of a writer already finished, which no caller sees: `finish` takes the writer.
fn finished() -> io::Error {
    io::Error::other("the protected export is already finished")
}

impl<W: Write> Write for ProtectedZipWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.zip()?.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.zip()?.flush()
    }
}

/// Writes an export of `contacts` to `out`: the CSV, or with a password an AES-256 zip
/// holding it as [`PROTECTED_ENTRY_NAME`] (R-EXP-4). Returns the number of rows.
/// The options are checked before anything is written.
pub fn write_export<'c, W: Write>(
    out: W,
    contacts: impl IntoIterator<Item = &'c Contact>,
    schema: &Schema,
    options: &ExportOptions,
) -> Result<u64> {
    options.validate()?;
    fn rows<'c, X: Write>(
        out: X,
        contacts: impl IntoIterator<Item = &'c Contact>,
        schema: &Schema,
        options: &ExportOptions,
    ) -> Result<(u64, X)> {
        let mut csv = CsvExporter::new(out, schema, options)?;
        for c in contacts {
            csv.write(c)?;
        }
        let n = csv.rows();
        Ok((n, csv.finish()?))
    }
    match &options.password {
        None => {
            let (n, mut out) = rows(out, contacts, schema, options)?;
            out.flush().map_err(write_error)?;
            Ok(n)
        }
        Some(pw) => {
            let zip = ProtectedZipWriter::new(out, pw, PROTECTED_ENTRY_NAME)?;
            let (n, zip) = rows(zip, contacts, schema, options)?;
            zip.finish()?.flush().map_err(write_error)?;
            Ok(n)
        }
    }
}

/// What an export wrote: `{"rows", "columns", "protected"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportSummary {
    /// Contacts written (CSV records after the header).
    pub rows: u64,
    /// The header: the data keys of the columns, in order.
    pub columns: Vec<String>,
    /// Whether the output is a password-protected zip (R-EXP-4).
    pub protected: bool,
}

/// Which contacts an export writes (R-EXP-1/2).
enum Selection {
    /// Every visible contact, or those matching the filter.
    Visible,
    /// These contacts (resolved ids, each once), hidden and blocked included.
    Ids(Vec<String>),
}

/// Whether a contact is in the visible listing: neither blocked nor hidden
/// ([`crate::filter::Include::Visible`], R-FLT-6).
fn visible(c: &dyn ContactView) -> bool {
    !c.blocked() && !c.hidden()
}

/// A writer that counts the bytes its inner writer took: whether an export that failed had
/// already sent something out.
struct SentBytes<W> {
    inner: W,
    sent: u64,
}

impl<W: Write> Write for SentBytes<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sent += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The size of the pieces an export gathers before it writes them out.
const PIECE: usize = 256 * 1024;

/// Where an export's CSV gathers between the writes to the caller's writer: rows read with
/// the store's channel held go into memory, and reach `out` only once the store has let go
/// ([`ExportSink::paused`]). So a slow writer (a network peer) holds up no write to the
/// channel, and a writer may call back into the book.
struct Pieces<'o> {
    buf: Vec<u8>,
    out: &'o mut dyn Write,
}

impl<'o> Pieces<'o> {
    fn new(out: &'o mut dyn Write) -> Pieces<'o> {
        Pieces {
            buf: Vec::with_capacity(PIECE * 2),
            out,
        }
    }

    /// Writes what has gathered to the caller's writer.
    fn send(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

impl CsvExporter<Pieces<'_>> {
    /// Whether a piece has gathered (in the exporter's buffer and here), to be sent.
    fn piece_full(&self) -> bool {
        self.buffered() + self.out.get_ref().out.buf.len() >= PIECE
    }

    /// Writes what has gathered, the exporter's buffer included, to the caller's writer
    /// (which is not flushed: a zip would then end a deflate block early).
    fn send_piece(&mut self) -> io::Result<()> {
        self.flush()?;
        self.get_mut().send()
    }
}

impl Write for Pieces<'_> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }

    fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(b);
        Ok(())
    }

    /// Nothing: what has gathered is sent at a pause ([`Pieces::send`]) or at the end.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Takes an export's visible contacts from a store's walk into its CSV, and asks the walk
/// to pause whenever a piece has gathered, to write it out with the channel let go.
struct ExportSink<'c, 'o> {
    csv: &'c mut CsvExporter<Pieces<'o>>,
    failed: Option<Error>,
}

impl ViewSink for ExportSink<'_, '_> {
    fn view(&mut self, c: &dyn ContactView) -> Walk {
        // Hidden or blocked (R-FLT-6): left out, also when that happened after a filter's
        // matches were settled.
        if !visible(c) {
            return Walk::Next;
        }
        if let Err(e) = self.csv.write_view(c) {
            self.failed = Some(e);
            return Walk::Stop;
        }
        if self.csv.piece_full() {
            Walk::Pause
        } else {
            Walk::Next
        }
    }

    fn paused(&mut self) -> Result<()> {
        self.csv.send_piece().map_err(write_error)
    }
}

/// Whose protected-export interval an export uses (R-EXP-4): its manager's, or (`None`)
/// the book's own when it acts without one, which is no manager's.
fn actor_id(book: &crate::book::ContactBook) -> Option<String> {
    book.manager().map(|m| m.id.clone())
}

impl crate::book::ContactBook {
    /// Exports contacts as CSV to `out` (R-EXP-1..5). Owners only.
    ///
    /// - No `filter` and no `ids`: every visible contact (neither hidden nor blocked), in
    ///   the store's order. `filter` (FILTER.md JSON): the visible contacts matching it, in
    ///   id order. `ids`: those
    ///   contacts, hidden and blocked ones included, each once, in the order given; with a
    ///   filter too, those of them that match it. An unknown id is `NotFound`.
    /// - `editableOnly`: exactly the import layout (R-EXP-2); `columns`: these keys;
    ///   otherwise the default columns (module docs). Formula-like cells are neutralised
    ///   (R-EXP-3).
    /// - `password`: an AES-256 zip holding `contacts.csv`; the password needs 6 characters
    ///   with a letter, a digit and a symbol, and a `reason` is required. One manager may
    ///   start a protected export once per the book's export interval (default 30 minutes);
    ///   an earlier attempt fails with `RateLimited`, saying when to retry (R-EXP-4).
    ///
    /// Every check comes before the first byte is written. Contacts are written as they are
    /// read, through a store's read-only views (its rows read in place, no contact built):
    /// all visible contacts by [`Store::for_each_view`](crate::store::Store), a filter's
    /// matches by [`Store::for_each_view_matching`](crate::store::Store) (the store's
    /// indexes find them). Each export is logged with the manager, the count and the reason
    /// (R-EXP-5), when it ends.
    ///
    /// The store holds the channel only while it reads: rows gather in memory, and each
    /// 256 KiB piece is written to `out` with the channel let go (the memory store lets go;
    /// a backend on the `Store` trait's default walk writes each piece in place). So a slow
    /// `out` (a network peer) holds up no other write to the channel, and `out` may call
    /// back into the book.
    /// Which contacts are exported is settled as they are read: each contact at most once,
    /// with its values when its piece was read; one deleted, hidden or blocked before its
    /// piece was read is left out, and one added meanwhile may or may not be in (the memory
    /// store settles the rows it reads, and a filter's matches, when the export starts: a
    /// contact added, or put back by an unmerge, meanwhile is not in, unless it was written
    /// before it was merged away).
    pub fn export_csv<W: Write>(&self, out: W, options: ExportOptions) -> Result<ExportSummary> {
        use crate::access::Permission;
        use crate::filter::{compile_query, Include, Query, SortKey, SortOrder, MAX_LIMIT};
        use crate::store::Op;

        self.require(Permission::Owner, "export contacts")?;
        options.validate()?;
        let schema = self.schema_ref()?;
        let columns = export_columns(&schema, &options)?;
        // A filter is compiled into a query of the visible listing in id order, read page by
        // page through the store's search (its indexes answer it); with `ids` only its plan
        // is used, on each chosen contact.
        let query = match &options.filter {
            Some(filter) => Some(compile_query(
                &Query {
                    filter: Some(filter.clone()),
                    sort: vec![SortKey::new("id", SortOrder::Asc)],
                    limit: Some(MAX_LIMIT as u64),
                    include: Include::Visible,
                    ..Query::default()
                },
                &schema,
            )?),
            None => None,
        };
        let ctx = self.eval_ctx()?;
        let store = &**self.store();
        let channel = self.channel_name();

        let selection = match &options.ids {
            None => Selection::Visible,
            Some(ids) => {
                let tx = crate::tx::Tx::new(store, channel, self.now())?;
                let mut seen = std::collections::HashSet::new();
                let mut out = Vec::with_capacity(ids.len());
                for id in ids {
                    let c = self.resolve_settled(&tx, id)?.ok_or_else(|| {
                        Error::not_found(
                            "contact",
                            id,
                            "it may have been deleted; export the others by leaving it out",
                        )
                    })?;
                    if seen.insert(c.id.clone()) {
                        out.push(c.id);
                    }
                }
                Selection::Ids(out)
            }
        };

        let now = self.now();
        let actor = actor_id(self);
        // R-EXP-4: check and record the start under the channel's write lock, so two
        // attempts at once cannot both pass. The previous start is kept: an export that
        // then fails puts it back, as a failed call changes nothing.
        let started = match options.password {
            None => None,
            Some(_) => Some(self.write(|tx| {
                let interval = tx.settings.export_interval_secs;
                let previous = tx.store.export_time(tx.channel, actor.as_deref())?;
                if interval > 0 {
                    if let Some(last) = previous {
                        // Settings hold at most 100 years; a store's larger figure reads
                        // as the latest time there is, never as an overflow.
                        let next = i64::try_from(interval)
                            .ok()
                            .and_then(chrono::TimeDelta::try_seconds)
                            .and_then(|d| last.checked_add_signed(d))
                            .unwrap_or(DateTime::<Utc>::MAX_UTC);
                        if now < next {
                            return Err(Error::RateLimited {
                                action: "a protected contacts export".into(),
                                retry_at: next,
                            });
                        }
                    }
                }
                tx.op(Op::PutExportTime(actor.clone(), Some(now)));
                Ok(previous)
            })?),
        };

        // Rows written so far, for the log of an export that fails on the way.
        let rows_done = std::cell::Cell::new(0u64);
        let write_rows = |out: &mut dyn Write| -> Result<u64> {
            let mut csv = CsvExporter::new(Pieces::new(out), &schema, &options)?;
            let body = (|| -> Result<()> {
                match (&selection, &query) {
                    // The visible contacts, all or those matching the filter (which the
                    // store's indexes find), read in place from the store's rows, with
                    // the channel let go while each gathered piece is written out.
                    (Selection::Visible, query) => {
                        let fields = csv.fields().to_vec();
                        let mut sink = ExportSink {
                            csv: &mut csv,
                            failed: None,
                        };
                        match query {
                            None => store.for_each_view(channel, &fields, &mut sink)?,
                            Some(q) => store
                                .for_each_view_matching(channel, q, &ctx, &fields, &mut sink)?,
                        }
                        if let Some(e) = sink.failed {
                            return Err(e);
                        }
                    }
                    // Chosen contacts, hidden and blocked included; with a filter, those matching.
                    (Selection::Ids(ids), query) => {
                        for id in ids {
                            if let Some(c) = store.get(channel, id)? {
                                if query.as_ref().is_none_or(|q| q.plan.matches(&c, &ctx)) {
                                    csv.write(&c)?;
                                    if csv.piece_full() {
                                        csv.send_piece().map_err(write_error)?;
                                    }
                                }
                            }
                        }
                    }
                }
                Ok(())
            })();
            rows_done.set(csv.rows());
            body?;
            let n = csv.rows();
            let mut rest = csv.finish()?;
            rest.send().map_err(write_error)?;
            rest.out.flush().map_err(write_error)?;
            Ok(n)
        };

        let mut out = SentBytes {
            inner: out,
            sent: 0,
        };
        let written = (|| -> Result<u64> {
            let rows = match &options.password {
                None => write_rows(&mut out)?,
                Some(pw) => {
                    let mut zip = ProtectedZipWriter::new(&mut out, pw, PROTECTED_ENTRY_NAME)?;
                    let n = write_rows(&mut zip)?;
                    zip.finish()?;
                    n
                }
            };
            out.flush().map_err(write_error)?;
            Ok(rows)
        })();
        let log = |rows: u64, failed: Option<&Error>| {
            let mut detail = serde_json::json!({
                "columns": columns,
                "editableOnly": options.editable_only,
                "protected": options.password.is_some(),
            });
            if let Some(f) = &options.filter {
                detail["filter"] = f.to_value();
            }
            if let Selection::Ids(ids) = &selection {
                detail["ids"] = ids.len().into();
            }
            if let Some(e) = failed {
                detail["failed"] = e.to_string().into();
            }
            let reason = options
                .reason
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_string);
            self.log_entry_with_reason("export", rows, reason, detail)
        };
        let rows = match written {
            Ok(rows) => rows,
            Err(e) => {
                if rows_done.get() > 0 && out.sent > 0 {
                    // Contacts may have reached the caller's writer before it failed: the
                    // export is logged (R-EXP-5) with the rows handed to the output so far,
                    // some of which may still have been in its buffer. That bound errs on
                    // the side an audit of what left the book needs: it never counts fewer
                    // rows than reached the writer. A protected one keeps its start
                    // (R-EXP-4).
                    let entry = log(rows_done.get(), Some(&e));
                    self.write(|tx| {
                        tx.op(entry);
                        Ok(())
                    })?;
                } else if let Some(previous) = started {
                    // Nothing left: the failed call changes nothing.
                    self.write(|tx| {
                        tx.op(Op::PutExportTime(actor.clone(), previous));
                        Ok(())
                    })?;
                }
                return Err(e);
            }
        };

        let entry = log(rows, None);
        self.write(|tx| {
            tx.op(entry);
            Ok(())
        })?;
        Ok(ExportSummary {
            rows,
            columns,
            protected: options.password.is_some(),
        })
    }
}
