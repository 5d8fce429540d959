//! The failure log (R-IMP-13): a CSV of the failed rows that can be fixed and imported again
//! as is (with `autoMap`, its three diagnostic columns are ignored).

use std::io::{self, BufWriter, Write};

use super::mapping::ColumnMap;
use super::patch::RowFailure;
use crate::error::{Error, Result};
use crate::export::{write_field, write_text, Valve};

/// The three diagnostic columns that start every failure log.
pub const FAILURE_LOG_COLUMNS: [&str; 3] = ["rowNumber", "errorColumns", "errorReasons"];

/// The header of the failure log of an import: `rowNumber`, `errorColumns`,
/// `errorReasons`, then the data keys of the imported columns in file order.
pub fn failure_log_header(map: &ColumnMap) -> Vec<String> {
    FAILURE_LOG_COLUMNS
        .iter()
        .map(|s| s.to_string())
        .chain(map.keys().map(str::to_string))
        .collect()
}

/// Writes a failure log (R-IMP-13).
///
/// Layout: column 1 `rowNumber` (the row as a spreadsheet numbers it, header = row 1),
/// column 2 `errorColumns`, column 3 `errorReasons`, then one column per imported column,
/// headed by its data key, holding the row's original cell text. Since one cell holds
/// several values when a row has several problems, `errorColumns` and `errorReasons` join
/// their values with `"; "` (a reason may itself contain `;`, so read them as text, not as
/// a list to split). Cells are CSV-quoted when needed and carry the formula guard of
/// R-EXP-3, which a re-import undoes (R-IMP-20); a cell already guarded is written as it
/// is. Either way a re-import reads each cell as the first import did.
pub struct FailureLogWriter<W: Write> {
    out: BufWriter<Valve<W>>,
    width: usize,
}

impl<W: Write> std::fmt::Debug for FailureLogWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailureLogWriter")
            .field("width", &self.width)
            .finish_non_exhaustive()
    }
}

fn log_error(e: io::Error) -> Error {
    Error::storage(format!("the failure log could not be written: {e}"))
}

impl<W: Write> FailureLogWriter<W> {
    /// Starts a failure log for an import with this mapping; writes the header and hands
    /// it to `out` at once, so that a writer that takes nothing fails here, before an
    /// import has changed anything.
    pub fn new(out: W, map: &ColumnMap) -> Result<FailureLogWriter<W>> {
        let mut w = FailureLogWriter {
            out: BufWriter::new(Valve::new(out)),
            width: map.columns.len(),
        };
        w.header(&failure_log_header(map))
            .and_then(|()| w.out.flush())
            .map_err(log_error)?;
        Ok(w)
    }

    /// Starts the failure log of an import read with `options`, as [`FailureLogWriter::new`]
    /// does. The log is UTF-8; when the import decoded its file from another encoding
    /// (`options.encoding`, such as `euc-kr` from Korean Excel), the log starts with a UTF-8
    /// BOM, so that it imports again as is with the same options (a BOM decides the
    /// encoding over a named one, as the WHATWG Encoding Standard reads files) and
    /// spreadsheets open it as UTF-8 rather than in the local code page.
    pub fn for_import(
        mut out: W,
        map: &ColumnMap,
        options: &super::ImportOptions,
    ) -> Result<FailureLogWriter<W>> {
        let decoded = super::source::resolve_encoding(options.encoding.as_deref())?;
        if decoded != super::source::Decoding::Utf8 {
            out.write_all("\u{feff}".as_bytes()).map_err(log_error)?;
        }
        FailureLogWriter::new(out, map)
    }

    /// Writes one failed row.
    pub fn write(&mut self, failure: &RowFailure) -> Result<()> {
        self.row(failure).map_err(log_error)
    }

    /// Flushes and returns the writer.
    pub fn finish(self) -> Result<W> {
        self.out
            .into_inner()
            .map(|valve| valve.out)
            .map_err(|e| log_error(e.into_error()))
    }

    fn header(&mut self, names: &[String]) -> io::Result<()> {
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b",")?;
            }
            write_field(&mut self.out, false, name.as_bytes())?;
        }
        self.out.write_all(b"\n")
    }

    fn row(&mut self, failure: &RowFailure) -> io::Result<()> {
        let f = &failure.failure;
        let out = &mut self.out;
        out.write_all(f.row_number.to_string().as_bytes())?;
        for list in [&f.error_columns, &f.error_reasons] {
            out.write_all(b",")?;
            write_field(out, false, list.join("; ").as_bytes())?;
        }
        // Cells carry the formula guard; a short row is padded with empty cells. A cell
        // that already starts with the guard (`'-m1`, which the import read as `-m1`) is
        // written as it is: a re-import strips that one `'` again, as the first import
        // did, and a second guard would leave a `'` in the value.
        for i in 0..self.width {
            out.write_all(b",")?;
            let cell = failure.cells.get(i).unwrap_or_default();
            let trimmed = cell.trim();
            if trimmed.is_empty() {
                // Only whitespace: an empty cell to the import (R-VAL-1) and no formula, so
                // the original text goes unguarded (a `'` before a lone tab would survive
                // the re-import's trim as the value `'`).
                write_field(out, false, cell.as_bytes())?;
            } else if super::patch::unneutralize_formula(trimmed).len() < trimmed.len() {
                // Trimmed, as the import reads it: a leading tab stays out of the file.
                write_field(out, false, trimmed.as_bytes())?;
            } else {
                write_text(out, cell)?;
            }
        }
        out.write_all(b"\n")
    }
}
