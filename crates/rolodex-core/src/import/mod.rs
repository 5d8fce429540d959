//! Bulk CSV import (R-IMP): everything up to the contact book.
//!
//! ```text
//! source (path or Read+Seek, ≤ 100 MiB) ─ decode (UTF-8/BOM or a named encoding)
//!   ─ records (csv crate + quote checks, spreadsheet row numbers) ─ ColumnMap (mapping)
//!   ─ RowPatch per row (R-IMP-20, R-VAL parsing, empty-cell policy) or RowFailure
//! ```
//!
//! [`ImportReader::open`] does every check that comes before any change: the size limit,
//! the options, the encoding of the whole file (first pass, which also counts rows with the
//! quote machine alone, no fields copied), the header and the mapping. Then it yields one
//! [`RowPatch`] or [`RowFailure`] per data row (second pass).
//!
//! On the book ([`crate::ContactBook::import_csv`], in `run.rs`): permission, the channel's
//! import lock (R-IMP-15), one transaction per row committed alone — or, for a dry run,
//! one transaction with a savepoint per row that is never committed (R-IMP-16/18) —,
//! counting (R-IMP-12), the failure log ([`FailureLogWriter`], R-IMP-13), progress and the
//! activity log. The rules of one row — matching (R-IMP-4/5), creating (R-IMP-6/10),
//! writing cells (R-IMP-7/8/19), import tags (R-IMP-9/20) — are in `apply.rs`; each row
//! ends in the book's one finishing step for a manager's write (MU placement R-MU-2/3,
//! unification R-UNI-2..4), and a lead the row wrote that shares verified info with a
//! member is unified with it from the lead's side (R-UNI-1; counted as the member).

mod apply;
mod failure_log;
mod mapping;
mod options;
mod patch;
mod preview;
mod records;
mod run;
mod source;
mod template;

use std::io::SeekFrom;

use chrono::{DateTime, Utc};

pub use failure_log::{failure_log_header, FailureLogWriter, FAILURE_LOG_COLUMNS};
pub use mapping::{ColumnMap, ColumnTarget, MappedColumn};
pub use options::{
    EmptyCells, Failure, IdentifyBy, ImportKind, ImportOptions, ImportReport, Progress,
};
pub use patch::{
    normalize_member_id, unneutralize_formula, Cells, Identifier, RowFailure, RowPatch,
};
pub use preview::{preview_csv, preview_csv_with_encoding, Preview, PREVIEW_ROWS};
pub use source::{ImportSource, ReadSeek, MAX_IMPORT_BYTES};
pub use template::template;

use crate::error::{Error, Result};
use crate::schema::Schema;
use records::RecordReader;
use source::{io_to_error, resolve_encoding, Decoding};

/// The rows of one import, checked and typed, in file order.
///
/// Iterating yields `Ok(RowPatch)` for a row to apply and `Err(RowFailure)` for a row that
/// failed already (malformed line, bad cell, bad identifier). Blank lines are skipped.
pub struct ImportReader<'a> {
    map: ColumnMap,
    options: ImportOptions,
    records: RecordReader<Box<dyn ReadSeek + 'a>>,
    import_tag: String,
    rows_total: u64,
    rows_done: u64,
    bytes_total: u64,
    done: bool,
}

impl std::fmt::Debug for ImportReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportReader")
            .field("map", &self.map)
            .field("import_tag", &self.import_tag)
            .field("progress", &self.progress())
            .finish_non_exhaustive()
    }
}

/// Reads the header: the first record that is not blank.
fn read_header<R: std::io::Read>(records: &mut RecordReader<R>) -> Result<Vec<String>> {
    let (info, record) = records
        .next_record()
        .map_err(|e| io_to_error(&e))?
        .ok_or_else(preview::empty_file)?;
    if let Some(m) = info.malformed {
        let column = format!("#{}", m.field() + 1);
        return Err(Error::validation(
            None,
            "a header row naming the columns, with well-formed quoting",
            format!(
                "the header row (row {}) is malformed: {}",
                info.row,
                m.reason(info.row, &column)
            ),
        ));
    }
    Ok(record
        .iter()
        .map(|f| String::from_utf8_lossy(f).trim().to_string())
        .collect())
}

impl<'a> ImportReader<'a> {
    /// Opens an import and runs every check that comes before any change, in this order:
    /// the 100 MiB limit (R-IMP-2), the options (kind and identifier, encoding label, import
    /// tag), the encoding of the whole file (R-IMP-2/16) while counting its rows, the header
    /// and the mapping (R-IMP-3). `now` gives the default import tag (R-IMP-20).
    pub fn open(
        source: ImportSource<'a>,
        options: &ImportOptions,
        schema: &Schema,
        now: DateTime<Utc>,
    ) -> Result<ImportReader<'a>> {
        let opened = source.open()?;
        options.identifier()?;
        let decoding: Decoding = resolve_encoding(options.encoding.as_deref())?;
        let import_tag = options.resolve_import_tag(opened.path.as_deref(), now)?;

        // First pass: encoding, header, mapping, row count.
        let mut records = RecordReader::new(opened.reader, decoding);
        let header = read_header(&mut records)?;
        let map = ColumnMap::resolve(&header, options, schema)?;
        let (rows_total, mut reader) = records.count_rest().map_err(|e| io_to_error(&e))?;

        // Second pass: from the start again, past the header.
        reader
            .seek(SeekFrom::Start(opened.start))
            .map_err(|e| io_to_error(&e))?;
        let mut records = RecordReader::new(reader, decoding);
        read_header(&mut records)?;

        Ok(ImportReader {
            map,
            options: options.clone(),
            records,
            import_tag,
            rows_total,
            rows_done: 0,
            bytes_total: opened.size,
            done: false,
        })
    }

    /// The resolved mapping.
    pub fn column_map(&self) -> &ColumnMap {
        &self.map
    }

    /// The options the import was opened with.
    pub fn options(&self) -> &ImportOptions {
        &self.options
    }

    /// Columns left out by `autoMap`, for the report's `ignoredColumns`.
    pub fn ignored_columns(&self) -> &[String] {
        &self.map.ignored
    }

    /// The import tag of this import (R-IMP-9).
    pub fn import_tag(&self) -> &str {
        &self.import_tag
    }

    /// The number of data rows in the file.
    pub fn rows_total(&self) -> u64 {
        self.rows_total
    }

    /// Progress so far: rows yielded and bytes read (the reader reads a little ahead).
    pub fn progress(&self) -> Progress {
        Progress {
            rows_done: self.rows_done,
            rows_total: self.rows_total,
            bytes_done: if self.done {
                self.bytes_total
            } else {
                self.records.raw_bytes().min(self.bytes_total)
            },
            bytes_total: self.bytes_total,
        }
    }

    /// The header of this import's failure log (R-IMP-13).
    pub fn failure_log_header(&self) -> Vec<String> {
        failure_log_header(&self.map)
    }

    /// A report with the counts known before applying: `rows` (so far), `importTag`,
    /// `dryRun` and `ignoredColumns`; the book fills in the rest.
    pub fn report(&self) -> ImportReport {
        ImportReport {
            rows: self.rows_done,
            import_tag: self.import_tag.clone(),
            dry_run: self.options.dry_run,
            ignored_columns: self.map.ignored.clone(),
            ..ImportReport::default()
        }
    }
}

impl Iterator for ImportReader<'_> {
    type Item = std::result::Result<RowPatch, RowFailure>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.records.next_record() {
            Ok(Some((info, record))) => {
                self.rows_done += 1;
                Some(patch::build_row(
                    &self.map,
                    self.options.empty_cells,
                    info,
                    record,
                ))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                // The file changed or failed under us after the first pass checked it:
                // fail the rest as one entry and stop.
                self.done = true;
                self.rows_done += 1;
                let row = self.records.last_row() + 1;
                let reason = format!(
                    "the file could not be read from row {row} to its end, so those rows were not imported: {}",
                    io_to_error(&e)
                );
                Some(Err(RowFailure {
                    failure: Failure {
                        row_number: row,
                        error_columns: Vec::new(),
                        error_reasons: vec![reason],
                    },
                    cells: Cells::default(),
                }))
            }
        }
    }
}
