//! Where an import's bytes come from: a path or a `Read + Seek`, the 100 MiB limit
//! (R-IMP-2), and decoding to UTF-8 — a streaming UTF-8 check with the BOM removed, or a
//! streaming `encoding_rs` decoder when the caller names an encoding.

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use encoding_rs::{DecoderResult, Encoding, UTF_8};

use crate::error::{Error, Result};

/// The largest import file: 100 MiB (R-IMP-2).
pub const MAX_IMPORT_BYTES: u64 = 100 * 1024 * 1024;

/// Anything that can be read and rewound: the second form of an import source.
pub trait ReadSeek: Read + Seek {}

impl fmt::Debug for dyn ReadSeek + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReadSeek")
    }
}
impl<T: Read + Seek + ?Sized> ReadSeek for T {}

/// The input of an import: a file path, or any `Read + Seek` (a `File`, a `Cursor`, ...).
///
/// `import_csv` takes anything that converts: a path (`&str`, `String`, `&String`, `&Path`,
/// `PathBuf`), a `File`, a `Cursor`, a `BufReader`, or any other reader lent as `&mut`.
///
/// A reader is read from its current position; the import rewinds to that position for
/// its second pass (the first pass checks the encoding and counts rows before any change).
pub enum ImportSource<'a> {
    /// A file on disk; its name gives the default import tag (R-IMP-9).
    Path(PathBuf),
    /// A seekable reader; `fileName` in the options gives the default import tag.
    Reader(Box<dyn ReadSeek + 'a>),
}

impl fmt::Debug for ImportSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportSource::Path(p) => f.debug_tuple("Path").field(p).finish(),
            ImportSource::Reader(_) => f.write_str("Reader(..)"),
        }
    }
}

impl<'a> ImportSource<'a> {
    /// A source reading the file at `path`.
    pub fn path(path: impl AsRef<Path>) -> ImportSource<'a> {
        ImportSource::Path(path.as_ref().to_path_buf())
    }

    /// A source reading `reader` from its current position.
    pub fn reader(reader: impl Read + Seek + 'a) -> ImportSource<'a> {
        ImportSource::Reader(Box::new(reader))
    }
}

impl From<PathBuf> for ImportSource<'_> {
    fn from(p: PathBuf) -> Self {
        ImportSource::Path(p)
    }
}

impl From<&PathBuf> for ImportSource<'_> {
    fn from(p: &PathBuf) -> Self {
        ImportSource::Path(p.clone())
    }
}

impl From<&Path> for ImportSource<'_> {
    fn from(p: &Path) -> Self {
        ImportSource::Path(p.to_path_buf())
    }
}

impl From<&str> for ImportSource<'_> {
    fn from(p: &str) -> Self {
        ImportSource::Path(PathBuf::from(p))
    }
}

impl From<&String> for ImportSource<'_> {
    fn from(p: &String) -> Self {
        ImportSource::Path(PathBuf::from(p))
    }
}

impl From<String> for ImportSource<'_> {
    fn from(p: String) -> Self {
        ImportSource::Path(PathBuf::from(p))
    }
}

impl From<std::fs::File> for ImportSource<'_> {
    fn from(f: std::fs::File) -> Self {
        ImportSource::reader(f)
    }
}

impl<'a, T: AsRef<[u8]> + 'a> From<std::io::Cursor<T>> for ImportSource<'a> {
    fn from(c: std::io::Cursor<T>) -> Self {
        ImportSource::reader(c)
    }
}

impl<'a, R: Read + Seek + 'a> From<std::io::BufReader<R>> for ImportSource<'a> {
    fn from(r: std::io::BufReader<R>) -> Self {
        ImportSource::reader(r)
    }
}

/// Any other reader, lent: `book.import_csv(&mut reader, ..)`.
impl<'a, R: Read + Seek + ?Sized + 'a> From<&'a mut R> for ImportSource<'a> {
    fn from(r: &'a mut R) -> Self {
        ImportSource::reader(r)
    }
}

/// An opened source: the reader, where the data starts, its size and its path.
#[derive(Debug)]
pub(crate) struct Opened<'a> {
    pub reader: Box<dyn ReadSeek + 'a>,
    pub start: u64,
    pub size: u64,
    pub path: Option<PathBuf>,
}

/// Checks the size limit of R-IMP-2.
pub(crate) fn check_size(size: u64) -> Result<()> {
    if size > MAX_IMPORT_BYTES {
        return Err(Error::validation(
            None,
            "a CSV file of at most 100 MiB (104857600 bytes); split it into smaller files",
            format!("the file is {size} bytes, more than the 100 MiB an import accepts"),
        ));
    }
    Ok(())
}

fn read_error(e: impl fmt::Display) -> Error {
    Error::validation(
        None,
        "a readable CSV file",
        format!("the import file could not be read: {e}"),
    )
}

impl<'a> ImportSource<'a> {
    /// Opens the source and checks its size before reading anything (R-IMP-2).
    pub(crate) fn open(self) -> Result<Opened<'a>> {
        match self {
            ImportSource::Path(path) => {
                let meta = std::fs::metadata(&path).map_err(read_error)?;
                check_size(meta.len())?;
                let file = std::fs::File::open(&path).map_err(read_error)?;
                Ok(Opened {
                    reader: Box::new(file),
                    start: 0,
                    size: meta.len(),
                    path: Some(path),
                })
            }
            ImportSource::Reader(mut reader) => {
                let start = reader.stream_position().map_err(read_error)?;
                let end = reader.seek(SeekFrom::End(0)).map_err(read_error)?;
                let size = end.saturating_sub(start);
                check_size(size)?;
                reader.seek(SeekFrom::Start(start)).map_err(read_error)?;
                Ok(Opened {
                    reader,
                    start,
                    size,
                    path: None,
                })
            }
        }
    }
}

/// How the bytes of a file become UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decoding {
    /// UTF-8, checked as it streams; a leading BOM is dropped.
    Utf8,
    /// Another encoding, decoded with `encoding_rs` (a BOM overrides it).
    Other(&'static Encoding),
}

/// Resolves the `encoding` option: a WHATWG label (`euc-kr`, `shift_jis`, `gbk`,
/// `windows-1252`, `utf-16le`, ...) or a common code-page name (`cp949` and `ms949` for
/// EUC-KR/UHC, `cp932`, `cp936`, `cp950`, `utf-8-sig`); absent means UTF-8.
pub(crate) fn resolve_encoding(label: Option<&str>) -> Result<Decoding> {
    let Some(label) = label else {
        return Ok(Decoding::Utf8);
    };
    let wanted = label.trim().to_ascii_lowercase();
    // Code-page names that tools (Excel, Python) use but WHATWG does not list.
    let alias = match wanted.as_str() {
        "cp949" | "ms949" | "uhc" | "euckr" => "euc-kr",
        "cp932" | "ms932" | "sjis" => "shift_jis",
        "cp936" | "ms936" => "gbk",
        "cp950" | "ms950" => "big5",
        "utf-8-sig" | "utf8-sig" => "utf-8",
        other => other,
    };
    match Encoding::for_label(alias.as_bytes()) {
        Some(enc) if enc == UTF_8 => Ok(Decoding::Utf8),
        // The "replacement" encoding (for labels like iso-2022-kr) decodes nothing usable.
        Some(enc) if enc == encoding_rs::REPLACEMENT => Err(unknown_encoding(label)),
        Some(enc) => Ok(Decoding::Other(enc)),
        None => Err(unknown_encoding(label)),
    }
}

fn unknown_encoding(label: &str) -> Error {
    Error::Validation {
        key: Some("encoding".into()),
        text: Some(crate::error::cut_text(label)),
        expected: "an encoding label such as \"utf-8\", \"euc-kr\" (also \"cp949\"), \"shift_jis\", \"gbk\", \"windows-1252\" or \"utf-16le\"".into(),
        message: "unknown or unsupported encoding".into(),
    }
}

/// A decoding failure, carried inside an `io::Error` through the CSV reader.
#[derive(Debug)]
pub(crate) struct DecodeError {
    /// Offset of the first bad byte, from the start of the data.
    pub offset: u64,
    /// The encoding expected (`None` for UTF-8).
    pub encoding: Option<&'static str>,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.encoding {
            None => write!(
                f,
                "the file is not UTF-8 (invalid bytes at byte {})",
                self.offset
            ),
            Some(e) => write!(
                f,
                "the file is not valid {e} (invalid bytes at byte {})",
                self.offset
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

impl DecodeError {
    fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, self)
    }

    /// The Validation error of R-IMP-2 for this failure.
    pub(crate) fn to_error(&self) -> Error {
        let expected = match self.encoding {
            None => "a UTF-8 file (with or without BOM); save it as UTF-8, or name its encoding with the `encoding` option (e.g. \"euc-kr\" for Korean Excel files)".to_string(),
            Some(e) => format!("a file in {e}; check the `encoding` option, or save the file as UTF-8 and leave `encoding` out"),
        };
        Error::validation(None, expected, self.to_string())
    }
}

/// Turns an I/O error met while reading the file into the error to report: the encoding
/// error of R-IMP-2 when it is one, else a read error.
pub(crate) fn io_to_error(e: &io::Error) -> Error {
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<DecodeError>())
    {
        Some(d) => d.to_error(),
        None => read_error(e),
    }
}

/// Counts the raw bytes read (for progress).
pub(crate) struct Counting<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// A reader yielding UTF-8: either the input checked as it passes (BOM dropped), or the
/// input decoded from another encoding. A bad byte fails the read with a [`DecodeError`].
pub(crate) struct Decoder<R> {
    inner: Counting<R>,
    mode: Mode,
}

enum Mode {
    Utf8 {
        /// Bytes passed on so far (after the BOM).
        offset: u64,
        /// Whether the start (and a possible BOM) has been handled.
        started: bool,
        /// The first bytes, read ahead to look for a BOM, not yet handed out.
        head: [u8; 3],
        head_len: usize,
        /// An incomplete sequence at the end of the last chunk (at most 3 bytes).
        carry: [u8; 4],
        carry_len: usize,
    },
    Other {
        decoder: encoding_rs::Decoder,
        name: &'static str,
        input: Vec<u8>,
        in_pos: usize,
        in_len: usize,
        consumed: u64,
        eof: bool,
        done: bool,
    },
}

const CHUNK: usize = 64 * 1024;

impl<R: Read> Decoder<R> {
    pub(crate) fn new(inner: R, decoding: Decoding) -> Decoder<R> {
        let mode = match decoding {
            Decoding::Utf8 => Mode::Utf8 {
                offset: 0,
                started: false,
                head: [0; 3],
                head_len: 0,
                carry: [0; 4],
                carry_len: 0,
            },
            Decoding::Other(enc) => Mode::Other {
                decoder: enc.new_decoder(),
                name: enc.name(),
                input: vec![0; CHUNK],
                in_pos: 0,
                in_len: 0,
                consumed: 0,
                eof: false,
                done: false,
            },
        };
        Decoder {
            inner: Counting { inner, count: 0 },
            mode,
        }
    }

    /// Raw bytes read from the source so far.
    pub(crate) fn raw_bytes(&self) -> u64 {
        self.inner.count
    }

    /// The source, for a second pass.
    pub(crate) fn into_inner(self) -> R {
        self.inner.inner
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Validates `chunk` (starting at `offset` of the data), which continues after `carry`: an
/// incomplete sequence left by the previous chunk. An incomplete sequence at the end of
/// `chunk` is left in `carry` for the next call.
fn check_utf8(
    carry: &mut [u8; 4],
    carry_len: &mut usize,
    chunk: &[u8],
    offset: u64,
) -> io::Result<()> {
    let mut rest = chunk;
    let mut base = offset;
    if *carry_len > 0 {
        // Complete the pending sequence with the first bytes of this chunk.
        let width = utf8_width(carry[0]);
        let need = width.saturating_sub(*carry_len).min(rest.len());
        let mut seq = [0u8; 4];
        seq[..*carry_len].copy_from_slice(&carry[..*carry_len]);
        seq[*carry_len..*carry_len + need].copy_from_slice(&rest[..need]);
        let total = *carry_len + need;
        let bad_at = base.saturating_sub(*carry_len as u64);
        match std::str::from_utf8(&seq[..total]) {
            Ok(_) => {}
            Err(e) if e.error_len().is_none() && total < width => {
                // Still incomplete (a tiny chunk): keep carrying.
                carry[..total].copy_from_slice(&seq[..total]);
                *carry_len = total;
                return Ok(());
            }
            Err(_) => {
                return Err(DecodeError {
                    offset: bad_at,
                    encoding: None,
                }
                .into_io())
            }
        }
        rest = &rest[need..];
        base += need as u64;
        *carry_len = 0;
    }
    match std::str::from_utf8(rest) {
        Ok(_) => Ok(()),
        Err(e) => {
            let good = e.valid_up_to();
            if e.error_len().is_none() {
                let tail = &rest[good..];
                carry[..tail.len()].copy_from_slice(tail);
                *carry_len = tail.len();
                Ok(())
            } else {
                Err(DecodeError {
                    offset: base + good as u64,
                    encoding: None,
                }
                .into_io())
            }
        }
    }
}

/// The length of the UTF-8 sequence a lead byte starts (1 for an invalid lead, so that it
/// fails at once).
fn utf8_width(b: u8) -> usize {
    match b {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 1,
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        match &mut self.mode {
            Mode::Utf8 {
                offset,
                started,
                head,
                head_len,
                carry,
                carry_len,
            } => {
                if !*started {
                    // Look at the first 3 bytes whole to drop a BOM.
                    *started = true;
                    let h = read_full(&mut self.inner, head)?;
                    *head_len = if h == 3 && *head == [0xEF, 0xBB, 0xBF] {
                        0
                    } else {
                        h
                    };
                }
                let n = if *head_len > 0 {
                    let n = (*head_len).min(buf.len());
                    buf[..n].copy_from_slice(&head[..n]);
                    head.copy_within(n..*head_len, 0);
                    *head_len -= n;
                    n
                } else {
                    self.inner.read(buf)?
                };
                if n == 0 {
                    if *carry_len > 0 {
                        return Err(DecodeError {
                            offset: offset.saturating_sub(*carry_len as u64),
                            encoding: None,
                        }
                        .into_io());
                    }
                    return Ok(0);
                }
                check_utf8(carry, carry_len, &buf[..n], *offset)?;
                *offset += n as u64;
                Ok(n)
            }
            Mode::Other {
                decoder,
                name,
                input,
                in_pos,
                in_len,
                consumed,
                eof,
                done,
            } => loop {
                if *done {
                    return Ok(0);
                }
                if *in_pos == *in_len && !*eof {
                    *in_len = read_full(&mut self.inner, input)?;
                    *in_pos = 0;
                    *eof = *in_len < input.len();
                }
                // encoding_rs needs room for the longest character it may write.
                if buf.len() < 4 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "read buffer too small",
                    ));
                }
                let src = &input[*in_pos..*in_len];
                let last = *eof;
                let (result, read, written) =
                    decoder.decode_to_utf8_without_replacement(src, buf, last);
                *in_pos += read;
                *consumed += read as u64;
                match result {
                    DecoderResult::Malformed(bad, after) => {
                        let back = u64::from(bad) + u64::from(after);
                        return Err(DecodeError {
                            offset: consumed.saturating_sub(back),
                            encoding: Some(name),
                        }
                        .into_io());
                    }
                    DecoderResult::InputEmpty => {
                        if last {
                            *done = true;
                        }
                    }
                    DecoderResult::OutputFull => {}
                }
                if written > 0 {
                    return Ok(written);
                }
            },
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Cursor;

    /// Hands out at most `.1` bytes per read, to exercise sequence and chunk boundaries.
    pub(crate) struct Trickle<'a>(pub &'a [u8], pub usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn decode_all(bytes: &[u8], d: Decoding, chunk: usize) -> io::Result<Vec<u8>> {
        let mut dec = Decoder::new(Trickle(bytes, chunk), d);
        let mut out = Vec::new();
        let mut buf = [0u8; 16];
        loop {
            let n = dec.read(&mut buf)?;
            if n == 0 {
                return Ok(out);
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn r_imp_2_utf8_with_and_without_bom() {
        let text = "이름,email\n김민준,kim@example.com\n";
        for chunk in [1, 2, 3, 5, 64] {
            let plain = decode_all(text.as_bytes(), Decoding::Utf8, chunk).unwrap();
            assert_eq!(plain, text.as_bytes(), "chunk {chunk}");
            let mut bom = vec![0xEF, 0xBB, 0xBF];
            bom.extend_from_slice(text.as_bytes());
            let stripped = decode_all(&bom, Decoding::Utf8, chunk).unwrap();
            assert_eq!(stripped, text.as_bytes(), "chunk {chunk}");
        }
        assert_eq!(decode_all(b"", Decoding::Utf8, 4).unwrap(), b"");
        assert_eq!(decode_all(b"ab", Decoding::Utf8, 4).unwrap(), b"ab");
    }

    #[test]
    fn r_imp_2_non_utf8_rejected_with_offset() {
        let (cow, _, _) = encoding_rs::EUC_KR.encode("name\n김민준\n");
        for chunk in [1, 3, 64] {
            let e = decode_all(&cow, Decoding::Utf8, chunk).unwrap_err();
            let err = io_to_error(&e);
            let msg = err.to_string();
            assert!(msg.contains("not UTF-8"), "{msg}");
            assert!(msg.contains("encoding"), "{msg}");
            assert!(msg.contains("at byte 5"), "{msg}");
        }
        // A sequence cut off by the end of the file.
        let e = decode_all(&[b'a', 0xEC, 0x9D], Decoding::Utf8, 1).unwrap_err();
        assert!(io_to_error(&e).to_string().contains("at byte 1"));
    }

    #[test]
    fn r_imp_2_named_encoding_decodes() {
        let (cow, _, _) = encoding_rs::EUC_KR.encode("이름,email\n김민준,kim@example.com\n");
        let d = resolve_encoding(Some("cp949")).unwrap();
        for chunk in [1, 7, 64] {
            let out = decode_all(&cow, d, chunk).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                "이름,email\n김민준,kim@example.com\n"
            );
        }
        // Bytes that are not EUC-KR.
        let e = decode_all(&[b'a', 0xFF, 0xFF, b'b'], d, 64).unwrap_err();
        assert!(io_to_error(&e).to_string().contains("EUC-KR"), "{e}");
    }

    #[test]
    fn r_imp_2_encoding_labels() {
        assert_eq!(resolve_encoding(None).unwrap(), Decoding::Utf8);
        assert_eq!(resolve_encoding(Some("UTF-8")).unwrap(), Decoding::Utf8);
        for label in ["euc-kr", "EUC-KR", "cp949", "ks_c_5601-1987", "windows-949"] {
            assert_eq!(
                resolve_encoding(Some(label)).unwrap(),
                Decoding::Other(encoding_rs::EUC_KR),
                "{label}"
            );
        }
        assert_eq!(
            resolve_encoding(Some("cp932")).unwrap(),
            Decoding::Other(encoding_rs::SHIFT_JIS)
        );
        assert_eq!(resolve_encoding(Some("utf-8-sig")).unwrap(), Decoding::Utf8);
        for bad in ["klingon", "", "iso-2022-kr"] {
            let e = resolve_encoding(Some(bad)).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Validation);
            assert_eq!(e.key(), Some("encoding"));
        }
    }

    /// A reader that claims a length without holding the bytes.
    struct FakeLength {
        len: u64,
        pos: u64,
    }
    impl Read for FakeLength {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = (self.len - self.pos).min(buf.len() as u64) as usize;
            buf[..n].fill(b'a');
            self.pos += n as u64;
            Ok(n)
        }
    }
    impl Seek for FakeLength {
        fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
            self.pos = match to {
                SeekFrom::Start(p) => p,
                SeekFrom::End(d) => (self.len as i64 + d) as u64,
                SeekFrom::Current(d) => (self.pos as i64 + d) as u64,
            };
            Ok(self.pos)
        }
    }

    #[test]
    fn r_imp_2_size_limit_checked_before_reading() {
        assert!(check_size(MAX_IMPORT_BYTES).is_ok());
        let e = ImportSource::reader(FakeLength {
            len: MAX_IMPORT_BYTES + 1,
            pos: 0,
        })
        .open()
        .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Validation);
        assert!(e.to_string().contains("100 MiB"), "{e}");
        // Measured from the reader's current position.
        let mut r = FakeLength {
            len: MAX_IMPORT_BYTES + 10,
            pos: 0,
        };
        r.seek(SeekFrom::Start(10)).unwrap();
        let o = ImportSource::reader(r).open().unwrap();
        assert_eq!((o.start, o.size), (10, MAX_IMPORT_BYTES));
        let o = ImportSource::reader(Cursor::new(b"abc".to_vec()))
            .open()
            .unwrap();
        assert_eq!(o.size, 3);
    }

    #[test]
    fn r_imp_2_size_limit_for_paths() {
        let f = tempfile::NamedTempFile::new().unwrap();
        f.as_file().set_len(MAX_IMPORT_BYTES + 1).unwrap(); // sparse
        let e = ImportSource::path(f.path()).open().unwrap_err();
        assert!(e.to_string().contains("100 MiB"), "{e}");
        f.as_file().set_len(MAX_IMPORT_BYTES).unwrap();
        assert!(ImportSource::path(f.path()).open().is_ok());
    }
}
