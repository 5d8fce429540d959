//! Preview of a CSV file before import (R-IMP-14).

use std::io::Read;

use serde::{Deserialize, Serialize};

use super::records::RecordReader;
use super::source::{io_to_error, resolve_encoding, MAX_IMPORT_BYTES};
use crate::error::{Error, Result};

/// The most data rows a preview returns (R-IMP-14).
pub const PREVIEW_ROWS: usize = 30;

/// A preview: `{"header": [...], "rows": [[...]...], "totalRows": N}` (API.md).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    /// The header row, every column, as in the file.
    pub header: Vec<String>,
    /// The first data rows (at most 30), every cell as in the file.
    pub rows: Vec<Vec<String>>,
    /// Every data row of the file (blank lines are not rows).
    pub total_rows: u64,
}

/// Previews a UTF-8 CSV (with or without BOM): the header, the first 30 data rows with
/// every column, and the number of data rows (R-IMP-14). The whole file is read to count
/// rows; a file that is not UTF-8, or larger than the 100 MiB an import accepts, is a
/// `Validation` error, so a caller learns it before importing.
pub fn preview_csv(reader: impl Read) -> Result<Preview> {
    preview_csv_with_encoding(reader, None)
}

/// [`preview_csv`] of a file in the named encoding (as the import option `encoding`).
pub fn preview_csv_with_encoding(reader: impl Read, encoding: Option<&str>) -> Result<Preview> {
    let decoding = resolve_encoding(encoding)?;
    let mut records = RecordReader::new(reader.take(MAX_IMPORT_BYTES + 1), decoding);
    let mut preview = Preview::default();
    let mut have_header = false;
    loop {
        let next = match records.next_record() {
            Ok(next) => next,
            // Past the limit, the cut may fall inside a character: report the size.
            Err(e) => {
                super::source::check_size(records.raw_bytes())?;
                return Err(io_to_error(&e));
            }
        };
        let Some((_, record)) = next else { break };
        if !have_header {
            preview.header = strings(record);
            have_header = true;
        } else {
            if preview.rows.len() < PREVIEW_ROWS {
                preview.rows.push(strings(record));
            }
            preview.total_rows += 1;
        }
    }
    super::source::check_size(records.raw_bytes())?;
    if !have_header {
        return Err(empty_file());
    }
    Ok(preview)
}

pub(crate) fn empty_file() -> Error {
    Error::validation(
        None,
        "a CSV file with a header row naming its columns",
        "the file is empty",
    )
}

fn strings(record: &csv::ByteRecord) -> Vec<String> {
    record
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect()
}
