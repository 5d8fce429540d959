//! CSV records with spreadsheet row numbers and malformed-line detection (R-IMP-12/16).
//!
//! The `csv` crate reads the fields (`ByteRecord`s, `flexible(true)`, so a wrong field count
//! is ours to judge per row). It is lenient by design: a quote inside an unquoted field is
//! kept as a literal, text after a closing quote is appended, and a quote left open at the
//! end of the file silently swallows the rest of the file into one field. It reports none of
//! that, and it skips blank lines without counting them.
//!
//! So the bytes that reach the `csv` reader first pass through a [`Tap`] that runs
//! [`QuoteMachine`]: the same record-splitting automaton as `csv-core` for our settings
//! (delimiter `,`, quote `"` doubled to escape, terminator CR, LF or CRLF, no comments),
//! which therefore cuts the stream into exactly the records the `csv` reader returns, in
//! the same order. For each record it notes the spreadsheet row number (blank lines count
//! as rows of the sheet, a multi-line quoted cell is one row) and the first quoting fault:
//!
//! - a **stray quote**: `"` inside an unquoted field (`ab"c`, ` "x"`), or anything but a
//!   delimiter or line end right after a closing quote (`"ab"c`); that row fails;
//! - an **unterminated quote**: the file ends inside a quoted field; `csv` has then read
//!   everything from the opening quote to the end as one record, so it fails as one entry.
//!
//! The machine holds no record bytes, only a queue of small [`RecordInfo`]s for records
//! read ahead by the `csv` reader's buffer, so nothing of the file is held twice.

use std::collections::VecDeque;
use std::io::{self, Read};

use csv::ByteRecord;

use super::source::{Decoder, Decoding};

/// A quoting fault of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Malformed {
    /// A quote inside an unquoted field, or text after a closing quote; `field` is the
    /// 0-based column where it was met.
    StrayQuote {
        /// 0-based column.
        field: usize,
    },
    /// The file ends inside a quoted field that starts in 0-based column `field`.
    Unterminated {
        /// 0-based column.
        field: usize,
    },
}

impl Malformed {
    /// The 0-based column of the fault.
    pub(crate) fn field(self) -> usize {
        match self {
            Malformed::StrayQuote { field } | Malformed::Unterminated { field } => field,
        }
    }

    /// The failure reason for a row.
    pub(crate) fn reason(self, row: u64, column: &str) -> String {
        match self {
            Malformed::StrayQuote { .. } => format!(
                "malformed CSV line: a stray quote in column {column:?}; a cell containing a quote must be wrapped in quotes with the inner quote doubled (\"5'10\"\"\")"
            ),
            Malformed::Unterminated { .. } => format!(
                "malformed CSV: the quote opened in column {column:?} of row {row} is never closed, so every row from {row} to the end of the file was read as one cell and none of them was imported; close the quote and import those rows again"
            ),
        }
    }
}

/// What the quote machine knows of one record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RecordInfo {
    /// The spreadsheet row number (1 = the first line of the file).
    pub row: u64,
    /// The first quoting fault, if any.
    pub malformed: Option<Malformed>,
    /// Whether every field is empty once trimmed (R-IMP-12), as [`is_blank`] reads the
    /// fields the `csv` reader returns: a blank line, or delimiters and spaces only.
    pub blank: bool,
    /// The cells the `csv` reader reads otherwise than they stand in the file: a quoted
    /// cell with text after its closing quote (`"A"x`, read `Ax`), or a quoted cell never
    /// closed. The failure log shows a malformed row's cells as they were in the file
    /// (R-IMP-13): [`QuotedCell::original`] gives that text back.
    pub raw: Vec<QuotedCell>,
}

/// A cell that opened with a quote and went astray: what it takes to give back its text as
/// it stands in the file from the text the `csv` reader read (which drops the quotes and
/// reads a doubled quote inside them as one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QuotedCell {
    /// 0-based column.
    pub field: usize,
    /// Bytes of the read text that were inside the quotes.
    pub inside: usize,
    /// Whether the quotes were closed (else the cell runs to the end of the file).
    pub closed: bool,
}

impl QuotedCell {
    /// The cell's text as it stands in the file, from `read`, the text the reader read;
    /// `None` if `read` cannot be that cell's.
    pub(crate) fn original(&self, read: &str) -> Option<String> {
        let (inside, after) = (read.get(..self.inside)?, read.get(self.inside..)?);
        let mut text = String::with_capacity(read.len() + 4);
        text.push('"');
        text.push_str(&inside.replace('"', "\"\""));
        if self.closed {
            text.push('"');
        }
        text.push_str(after);
        Some(text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    StartRecord,
    StartField,
    InField,
    InQuoted,
    AfterQuote,
}

/// `csv-core`'s record automaton for our settings, noting row numbers and quoting faults.
#[derive(Debug)]
pub(crate) struct QuoteMachine {
    state: State,
    next_row: u64,
    prev_cr: bool,
    field: usize,
    quote_field: usize,
    current: RecordInfo,
    /// A byte of the current record's content was seen that is not whitespace.
    filled: bool,
    /// The current record's non-ASCII content bytes while it may still be blank (they
    /// may be Unicode spaces); dropped once it is not.
    wide: Vec<u8>,
    /// Whether to note the cells the `csv` reader reads otherwise ([`RecordInfo::raw`]);
    /// the first pass, which only counts, does not.
    pub(crate) keep_raw: bool,
    /// Bytes of the current quoted cell's text inside its quotes, as the reader reads them.
    inside: usize,
    /// The current cell went on after its closing quote (or is never closed): it is noted
    /// in [`RecordInfo::raw`] when it ends.
    astray: bool,
    done: VecDeque<RecordInfo>,
}

impl Default for QuoteMachine {
    fn default() -> Self {
        QuoteMachine {
            state: State::StartRecord,
            next_row: 1,
            prev_cr: false,
            field: 0,
            quote_field: 0,
            current: RecordInfo {
                row: 0,
                malformed: None,
                blank: true,
                raw: Vec::new(),
            },
            filled: false,
            wide: Vec::new(),
            keep_raw: true,
            inside: 0,
            astray: false,
            done: VecDeque::new(),
        }
    }
}

impl QuoteMachine {
    /// Feeds the next bytes of the (UTF-8) stream.
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match self.state {
                State::StartRecord => {
                    if b == b'\r' || b == b'\n' {
                        if !(b == b'\n' && self.prev_cr) {
                            self.next_row += 1; // a blank line is a row of the sheet
                        }
                    } else {
                        self.current = RecordInfo {
                            row: self.next_row,
                            malformed: None,
                            blank: true,
                            raw: Vec::new(),
                        };
                        self.filled = false;
                        self.wide.clear();
                        self.next_row += 1;
                        self.field = 0;
                        self.start_field(b);
                    }
                }
                State::StartField => self.start_field(b),
                State::InField => match b {
                    b',' => self.next_field(),
                    b'\r' | b'\n' => self.end_record(),
                    b'"' => self.fault(Malformed::StrayQuote { field: self.field }),
                    _ => {
                        // Skip the rest of a plain cell at once.
                        let rest = &bytes[i + 1..];
                        let skip = rest
                            .iter()
                            .position(|&c| matches!(c, b',' | b'\r' | b'\n' | b'"'))
                            .unwrap_or(rest.len());
                        self.content(&bytes[i..=i + skip]);
                        i += skip;
                    }
                },
                State::InQuoted => {
                    if b == b'"' {
                        self.state = State::AfterQuote;
                    } else {
                        let rest = &bytes[i + 1..];
                        let skip = memchr::memchr(b'"', rest).unwrap_or(rest.len());
                        self.content(&bytes[i..=i + skip]);
                        self.inside += skip + 1;
                        i += skip;
                    }
                }
                State::AfterQuote => match b {
                    b'"' => {
                        // A doubled quote: a `"` in the cell.
                        self.filled = true;
                        self.state = State::InQuoted;
                        self.inside += 1;
                    }
                    b',' => self.next_field(),
                    b'\r' | b'\n' => self.end_record(),
                    _ => {
                        self.fault(Malformed::StrayQuote { field: self.field });
                        self.state = State::InField;
                        // The reader reads the cell on without its quotes: note it.
                        self.astray = self.keep_raw;
                    }
                },
            }
            // `i` may have skipped ahead; the byte before the next one decides CRLF pairs.
            self.prev_cr = bytes[i] == b'\r';
            i += 1;
        }
    }

    /// Ends the stream: a record still open ends here (unterminated if inside quotes).
    pub(crate) fn finish(&mut self) {
        match self.state {
            State::StartRecord => {}
            State::InQuoted => {
                self.fault(Malformed::Unterminated {
                    field: self.quote_field,
                });
                self.astray = self.keep_raw;
                self.end_record();
            }
            _ => self.end_record(),
        }
    }

    /// The info of the next record, in file order.
    pub(crate) fn pop(&mut self) -> Option<RecordInfo> {
        self.done.pop_front()
    }

    fn start_field(&mut self, b: u8) {
        match b {
            b'"' => {
                self.quote_field = self.field;
                self.state = State::InQuoted;
                self.inside = 0;
            }
            b',' => self.next_field(),
            b'\r' | b'\n' => self.end_record(),
            _ => {
                self.content(&[b]);
                self.state = State::InField;
            }
        }
    }

    /// Notes bytes of a cell's content, for [`RecordInfo::blank`]: ASCII whitespace
    /// (with the vertical tab, as `str::trim` has it) keeps the record blank, any other
    /// ASCII byte fills it, and non-ASCII bytes wait for the record's end, where they
    /// must all be whitespace characters.
    fn content(&mut self, bytes: &[u8]) {
        if self.filled {
            return;
        }
        for &c in bytes {
            if c >= 0x80 {
                self.wide.push(c);
            } else if !(c.is_ascii_whitespace() || c == 0x0B) {
                self.filled = true;
                self.wide.clear();
                return;
            }
        }
    }

    /// Ends the current cell: one gone astray is noted.
    fn end_field(&mut self) {
        if self.astray {
            self.astray = false;
            self.current.raw.push(QuotedCell {
                field: self.field,
                inside: self.inside,
                closed: self.state != State::InQuoted,
            });
        }
    }

    fn next_field(&mut self) {
        self.end_field();
        self.field += 1;
        self.state = State::StartField;
    }

    fn end_record(&mut self) {
        self.end_field();
        // The non-ASCII bytes are whole characters (the stream is UTF-8 and cells are cut
        // at ASCII bytes), so they read as text together as they do cell by cell.
        self.current.blank = self.current.malformed.is_none()
            && !self.filled
            && (self.wide.is_empty()
                || std::str::from_utf8(&self.wide).is_ok_and(|s| s.trim().is_empty()));
        self.wide.clear();
        self.done.push_back(std::mem::take(&mut self.current));
        self.state = State::StartRecord;
    }

    fn fault(&mut self, m: Malformed) {
        if self.current.malformed.is_none() {
            self.current.malformed = Some(m);
        }
    }
}

/// A reader that shows every byte it passes on to a [`QuoteMachine`].
pub(crate) struct Tap<R> {
    inner: R,
    machine: QuoteMachine,
    /// How many bytes of a UTF-8 BOM the stream has started with so far (0 to 3), or
    /// [`BOM_DONE`] once that is settled. The `csv` reader drops a BOM that starts its
    /// first record (a second one, the decoder having dropped the first), so the machine
    /// must not see it either, or it would take a quoted first cell for a stray quote.
    bom: usize,
}

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];
const BOM_DONE: usize = 4;

impl<R: Read> Read for Tap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let Some(read) = buf.get(..n) else {
            return Ok(n);
        };
        if n == 0 {
            // A stream that ends inside what could have been a BOM: those bytes are data.
            if (1..BOM.len()).contains(&self.bom) {
                self.machine.feed(&BOM[..self.bom]);
            }
            self.bom = BOM_DONE;
            self.machine.finish();
            return Ok(n);
        }
        let mut start = 0;
        while self.bom < BOM.len() && start < n {
            if read.get(start) == BOM.get(self.bom) {
                self.bom += 1;
                start += 1;
            } else {
                // Not a BOM after all: the bytes held back are data, in order.
                self.machine.feed(&BOM[..self.bom]);
                self.bom = BOM_DONE;
            }
        }
        if self.bom == BOM.len() {
            self.bom = BOM_DONE;
        }
        if let Some(rest) = read.get(start..) {
            self.machine.feed(rest);
        }
        Ok(n)
    }
}

/// Reads the non-blank records of a CSV stream with their row numbers and faults.
pub(crate) struct RecordReader<R: Read> {
    csv: csv::Reader<Tap<Decoder<R>>>,
    record: ByteRecord,
    last_row: u64,
}

/// Whether every field of a record is empty after trimming: a blank line, or a line of
/// only delimiters and spaces (spreadsheets leave those), which is not a row (R-IMP-12).
fn is_blank(record: &ByteRecord) -> bool {
    record.iter().all(|f| {
        // ASCII whitespace as `str::trim` (R-VAL-1) reads it: `is_ascii_whitespace` leaves
        // out the vertical tab.
        if f.iter().all(|b| b.is_ascii_whitespace() || *b == 0x0B) {
            return true;
        }
        f.iter().any(|b| !b.is_ascii()) && std::str::from_utf8(f).is_ok_and(|s| s.trim().is_empty())
    })
}

impl<R: Read> RecordReader<R> {
    /// Reads `inner`, decoded as `decoding`.
    pub(crate) fn new(inner: R, decoding: Decoding) -> RecordReader<R> {
        let tap = Tap {
            inner: Decoder::new(inner, decoding),
            machine: QuoteMachine::default(),
            bom: 0,
        };
        let csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(64 * 1024)
            .from_reader(tap);
        RecordReader {
            csv,
            record: ByteRecord::new(),
            last_row: 0,
        }
    }

    /// The next non-blank record with its info. Malformed records are never blank. An
    /// error is a decoding or read error of the stream.
    pub(crate) fn next_record(&mut self) -> io::Result<Option<(RecordInfo, &ByteRecord)>> {
        loop {
            let more =
                self.csv
                    .read_byte_record(&mut self.record)
                    .map_err(|e| match e.into_kind() {
                        csv::ErrorKind::Io(io) => io,
                        other => io::Error::other(format!("{other:?}")),
                    })?;
            if !more {
                return Ok(None);
            }
            let info = self.csv.get_mut().machine.pop().unwrap_or(RecordInfo {
                // Unreachable while the machine mirrors csv-core; stay sane regardless.
                row: self.last_row + 1,
                malformed: None,
                blank: is_blank(&self.record),
                raw: Vec::new(),
            });
            self.last_row = info.row;
            if info.blank {
                continue;
            }
            return Ok(Some((info, &self.record)));
        }
    }

    /// Reads the rest of the stream and counts its records that are not blank, with
    /// the quote machine alone: the `csv` reader is not run, and no field is copied out.
    /// Records the `csv` reader has buffered but not returned yet are counted too.
    pub(crate) fn count_rest(self) -> io::Result<(u64, R)> {
        let mut tap = self.csv.into_inner();
        tap.machine.keep_raw = false;
        let mut buf = vec![0u8; 64 * 1024];
        let mut n = 0u64;
        loop {
            while let Some(info) = tap.machine.pop() {
                n += u64::from(!info.blank);
            }
            if tap.read(&mut buf)? == 0 {
                break;
            }
        }
        // The end of the stream ended the last record (`Tap::read` finished the machine).
        while let Some(info) = tap.machine.pop() {
            n += u64::from(!info.blank);
        }
        Ok((n, tap.inner.into_inner()))
    }

    /// The spreadsheet row number of the last record read (0 before any).
    pub(crate) fn last_row(&self) -> u64 {
        self.last_row
    }

    /// Raw bytes of the source read so far (the reader reads ahead of the records).
    pub(crate) fn raw_bytes(&self) -> u64 {
        self.csv.get_ref().inner.raw_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every non-blank record as (row, fault, fields).
    fn read_all(text: &[u8]) -> Vec<(u64, Option<Malformed>, Vec<String>)> {
        let mut r = RecordReader::new(text, Decoding::Utf8);
        let mut out = Vec::new();
        while let Some((info, rec)) = r.next_record().unwrap() {
            let fields = rec
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            out.push((info.row, info.malformed, fields));
        }
        out
    }

    fn rows(text: &str) -> Vec<u64> {
        read_all(text.as_bytes()).iter().map(|r| r.0).collect()
    }

    /// The original texts given back for each non-blank record, read `chunk` bytes a time.
    fn raw_texts(text: &str, chunk: usize) -> Vec<Vec<(usize, String)>> {
        let mut r = RecordReader::new(
            crate::import::source::tests::Trickle(text.as_bytes(), chunk),
            Decoding::Utf8,
        );
        let mut out = Vec::new();
        while let Some((info, rec)) = r.next_record().unwrap() {
            let texts = info
                .raw
                .iter()
                .map(|q| {
                    let read = std::str::from_utf8(&rec[q.field]).unwrap();
                    (q.field, q.original(read).unwrap())
                })
                .collect();
            out.push(texts);
        }
        out
    }

    /// R-IMP-13: a quoted cell with text after its closing quote, which `csv` reads without
    /// its quotes (`"A"x` as `Ax`), and a quoted cell never closed keep their text as it
    /// stands in the file, wherever the reads cut it; well-formed quoted cells and stray
    /// quotes inside plain cells (which `csv` reads as they stand) keep nothing.
    #[test]
    fn r_imp_13_cells_read_otherwise_keep_their_original_text() {
        type Kept = Vec<Vec<(usize, &'static str)>>;
        let cases: [(&str, Kept); 6] = [
            ("m1,\"A\"x,c\n", vec![vec![(1, "\"A\"x")]]),
            (
                "\"a\"\"b\"c\"d\",\"ok\",\"e\" f\r\nn,\"x, y\"\n",
                vec![vec![(0, "\"a\"\"b\"c\"d\""), (2, "\"e\" f")], vec![]],
            ),
            ("a b\"c,\"q\"\n", vec![vec![]]),
            (
                "h\n\"multi\nline\"z,1\n",
                vec![vec![], vec![(0, "\"multi\nline\"z")]],
            ),
            (
                "a,\"never\nclosed, \"\"x\"\"\n",
                vec![vec![(1, "\"never\nclosed, \"\"x\"\"\n")]],
            ),
            ("\"é\"ü,\"ok\"\n", vec![vec![(0, "\"é\"ü")]]),
        ];
        for (text, want) in cases {
            let want: Vec<Vec<(usize, String)>> = want
                .into_iter()
                .map(|r| r.into_iter().map(|(f, t)| (f, t.to_string())).collect())
                .collect();
            for chunk in [1, 2, 3, 64] {
                assert_eq!(
                    raw_texts(text, chunk),
                    want,
                    "{text:?} in chunks of {chunk}"
                );
            }
        }
        // The first pass, which only counts rows, keeps nothing.
        let mut m = QuoteMachine {
            keep_raw: false,
            ..QuoteMachine::default()
        };
        m.feed(b"\"A\"x,\"open");
        m.finish();
        assert!(m
            .pop()
            .is_some_and(|i| i.raw.is_empty() && i.malformed.is_some()));
    }

    #[test]
    fn r_imp_12_blank_lines_are_not_rows_but_keep_sheet_numbering() {
        assert_eq!(rows("h\na\nb\n"), vec![1, 2, 3]);
        assert_eq!(rows("h\n\na\n\n\nb"), vec![1, 3, 6]);
        assert_eq!(rows("\nh\na\n"), vec![2, 3]);
        // Lines of only commas and spaces are blank too.
        assert_eq!(rows("h,i\n,\n  , \na,b\n"), vec![1, 4]);
        // Quoted spaces, tabs, vertical tabs and Unicode spaces are blank; a quote (doubled
        // in a quoted cell) or any other character is not.
        assert_eq!(rows("h\n\" \"\n\t,\u{0B}\n\"\u{3000}\",\u{A0}\n"), vec![1]);
        assert_eq!(rows("h\n\"\"\"\"\n ,\"\"\"\"\n"), vec![1, 2, 3]);
        assert_eq!(rows("h\n\u{A0}é\n,\u{3000}x\n"), vec![1, 2, 3]);
        // A quoted line break is whitespace too (a record over several lines is one row).
        assert_eq!(rows("h\n\"\r\n\",\"\n\"\nz\n"), vec![1, 3]);
    }

    /// The first pass counts rows with the quote machine alone; it must count what the
    /// second pass reads, whatever the bytes.
    #[test]
    fn r_imp_12_counting_pass_counts_the_rows_read() {
        for text in [
            "h\n\n a ,\n,\n\"\"\n\"x\n",
            "\u{FEFF}h\n\u{3000}\n\"\"\"\"\n",
            "h",
            "h\n\"unterminated\n,\n",
        ] {
            let mut r = RecordReader::new(text.as_bytes(), Decoding::Utf8);
            r.next_record().unwrap();
            let mut again = RecordReader::new(text.as_bytes(), Decoding::Utf8);
            again.next_record().unwrap();
            let mut n = 0;
            while again.next_record().unwrap().is_some() {
                n += 1;
            }
            assert_eq!(r.count_rest().unwrap().0, n, "{text:?}");
        }
    }

    #[test]
    fn r_imp_2_crlf_and_lone_cr() {
        assert_eq!(rows("h\r\na\r\n\r\nb\r\n"), vec![1, 2, 4]);
        assert_eq!(rows("h\ra\r\rb"), vec![1, 2, 4]);
        let all = read_all(b"h,i\r\n\"x\r\ny\",z\r\nq,r\r\n");
        assert_eq!(all[1].2, vec!["x\r\ny", "z"]);
        // A multi-line cell is one row of the sheet.
        assert_eq!(all[2].0, 3);
        assert!(all.iter().all(|r| r.1.is_none()));
    }

    #[test]
    fn r_imp_16_stray_quote_fails_only_that_row() {
        let all = read_all(
            b"a,b,c\n1,x\"y,3\n4,\"5\"6,7\n8, \"9\",10\n\"ok \"\"quoted\"\"\",\"\",z\n11,12,13\n",
        );
        let faults: Vec<_> = all.iter().map(|r| (r.0, r.1)).collect();
        assert_eq!(
            faults,
            vec![
                (1, None),
                (2, Some(Malformed::StrayQuote { field: 1 })),
                (3, Some(Malformed::StrayQuote { field: 1 })),
                (4, Some(Malformed::StrayQuote { field: 1 })),
                (5, None),
                (6, None),
            ]
        );
        assert_eq!(all[4].2[0], "ok \"quoted\"");
    }

    #[test]
    fn r_imp_16_unterminated_quote_is_one_record_to_the_end() {
        let all = read_all(b"a,b\n1,2\n3,\"oops\n5,6\n7,8\n");
        assert_eq!(all.len(), 3);
        assert_eq!(all[2].0, 3);
        assert_eq!(all[2].1, Some(Malformed::Unterminated { field: 1 }));
        assert_eq!(all[2].2[1], "oops\n5,6\n7,8\n");
        // An open quote on the last line with nothing after it is still reported.
        let all = read_all(b"a\n\"\n");
        assert_eq!(all[1].1, Some(Malformed::Unterminated { field: 0 }));
    }

    #[test]
    fn r_imp_16_wrong_field_count_is_read_flexibly() {
        let all = read_all(b"a,b,c\n1,2\n1,2,3,4\n");
        assert_eq!(all[1].2.len(), 2);
        assert_eq!(all[2].2.len(), 4);
    }

    /// Bytes rich in CSV syntax.
    fn csv_bytes() -> impl Strategy<Value = Vec<u8>> {
        let piece = |s: &'static str| Just(s.as_bytes().to_vec());
        prop::collection::vec(
            prop_oneof![
                piece(","),
                piece("\""),
                piece("\r"),
                piece("\n"),
                piece(" "),
                piece("a"),
                piece("b"),
                // Whitespace that is not ASCII, and other ASCII and wide characters.
                piece("\t"),
                piece("\u{0B}"),
                piece("\u{A0}"),
                piece("\u{3000}"),
                piece("é"),
                any::<u8>().prop_map(|b| vec![b]),
            ],
            0..200,
        )
        .prop_map(|pieces| pieces.concat())
    }

    proptest! {
        /// The machine cuts the stream into exactly the records `csv` returns.
        #[test]
        fn machine_agrees_with_csv_core(bytes in csv_bytes()) {
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(&bytes[..]);
            let mut rec = ByteRecord::new();
            let mut n = 0usize;
            while rdr.read_byte_record(&mut rec).unwrap() {
                n += 1;
            }
            let mut m = QuoteMachine::default();
            for chunk in bytes.chunks(7) {
                m.feed(chunk);
            }
            m.finish();
            let mut rows = Vec::new();
            let mut infos = Vec::new();
            while let Some(info) = m.pop() {
                rows.push(info.row);
                infos.push(info);
            }
            prop_assert_eq!(rows.len(), n);
            prop_assert!(rows.windows(2).all(|w| w[0] < w[1]));
            // The machine's blank records are those whose fields, as `csv` reads them,
            // are all empty once trimmed, less the malformed ones.
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(&bytes[..]);
            let mut i = 0;
            let utf8 = std::str::from_utf8(&bytes).is_ok();
            while rdr.read_byte_record(&mut rec).unwrap() {
                let info = &infos[i];
                prop_assert_eq!(
                    info.blank,
                    info.malformed.is_none() && is_blank(&rec),
                    "record {} {:?}", i, rec
                );
                // Each original cell text kept (R-IMP-13) is a quoted cell of this faulty
                // record, in the file as it stands: read alone, it reads as `csv` read it
                // in the record.
                prop_assert!(info.raw.is_empty() || info.malformed.is_some());
                for q in &info.raw {
                    let read = rec.get(q.field).map(std::str::from_utf8);
                    let Some(Ok(read)) = read else {
                        prop_assert!(!utf8, "{:?} of {:?}", q, rec);
                        continue;
                    };
                    // In a file that is not UTF-8 a quote may split a character that the
                    // cell read whole (`"\xC2"\x80`): no text of the cell stands in the
                    // file. An import never meets one: it reads UTF-8 only (R-IMP-2).
                    let Some(text) = q.original(read) else {
                        prop_assert!(!utf8, "{:?} of {:?}", q, read);
                        continue;
                    };
                    prop_assert!(text.starts_with('"'), "{:?}", text);
                    if utf8 {
                        prop_assert!(bytes.windows(text.len()).any(|w| w == text.as_bytes()));
                        let mut alone = csv::ReaderBuilder::new()
                            .has_headers(false)
                            .flexible(true)
                            .from_reader(text.as_bytes());
                        let mut cell = ByteRecord::new();
                        prop_assert!(alone.read_byte_record(&mut cell).unwrap());
                        prop_assert_eq!(cell.len(), 1, "{:?}", text);
                        prop_assert_eq!(cell.get(0), rec.get(q.field), "{:?}", text);
                    }
                }
                i += 1;
            }
        }

        /// Arbitrary bytes never panic the reader; errors are only decoding errors.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let mut r = RecordReader::new(&bytes[..], Decoding::Utf8);
            loop {
                match r.next_record() {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => {
                        let err = super::super::source::io_to_error(&e);
                        prop_assert!(err.to_string().contains("UTF-8"));
                        break;
                    }
                }
            }
        }
    }
}
