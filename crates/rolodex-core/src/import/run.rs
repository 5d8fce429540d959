//! The import on the contact book (R-IMP-15..18): the channel's import lock, the
//! permission, one transaction per row (or one never-committed transaction for a dry run),
//! counting, the failure log, progress and the activity log. The rules of a row are in
//! [`super::apply`].

use std::collections::HashSet;
use std::io::{Read, Write};
use std::sync::Arc;

use roaring::RoaringTreemap;

use super::apply::{apply_row, check_still_writable, Applied, RowError};
use super::failure_log::FailureLogWriter;
use super::options::{Failure, IdentifyBy, ImportKind, ImportOptions, ImportReport, Progress};
use super::patch::RowFailure;
use super::preview::Preview;
use super::source::ImportSource;
use super::ImportReader;
use crate::access::Permission;
use crate::book::ContactBook;
use crate::error::{Error, Result};
use crate::tx::Tx;

/// A set of contact ids, small for the ids this crate makes (`c_` and a sequence number).
#[derive(Default)]
struct IdSet {
    seq: RoaringTreemap,
    other: HashSet<Box<str>>,
}

impl IdSet {
    fn seq_of(id: &str) -> Option<u64> {
        let digits = id.strip_prefix("c_")?;
        if digits.len() != 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    fn contains(&self, id: &str) -> bool {
        match Self::seq_of(id) {
            Some(n) => self.seq.contains(n),
            None => self.other.contains(id),
        }
    }

    /// Inserts; returns whether the id was new.
    fn insert(&mut self, id: &str) -> bool {
        match Self::seq_of(id) {
            Some(n) => self.seq.insert(n),
            None => self.other.insert(id.into()),
        }
    }

    fn remove(&mut self, id: &str) {
        match Self::seq_of(id) {
            Some(n) => {
                self.seq.remove(n);
            }
            None => {
                self.other.remove(id);
            }
        }
    }

    fn len(&self) -> u64 {
        self.seq.len() + self.other.len() as u64
    }

    fn ids(&self) -> impl Iterator<Item = String> + '_ {
        self.seq
            .iter()
            .map(|n| format!("c_{n:012}"))
            .chain(self.other.iter().map(|s| s.to_string()))
    }
}

/// The counts of one import (R-IMP-12): each contact once, as created if this import
/// created it.
#[derive(Default)]
struct Counts {
    created: IdSet,
    updated: IdSet,
    /// Created contacts that were hidden when their row ended (R-MU-2/5); re-read at the end.
    created_hidden: IdSet,
}

impl Counts {
    fn add(&mut self, a: &Applied) {
        // A lead unified into a member is gone: the row counts the member (R-IMP-12), and
        // an earlier row's count of the lead goes.
        for lead in &a.absorbed {
            self.created.remove(lead);
            self.updated.remove(lead);
            self.created_hidden.remove(lead);
        }
        if a.created {
            self.created.insert(&a.id);
        } else if !self.created.contains(&a.id) {
            self.updated.insert(&a.id);
        }
        if a.created && a.hidden {
            self.created_hidden.insert(&a.id);
        } else if !a.hidden {
            self.created_hidden.remove(&a.id);
        }
    }
}

/// Where failed rows go: the report and, when the caller asks, the failure log.
struct Failures<'w> {
    log: Option<FailureLogWriter<&'w mut dyn Write>>,
}

impl Failures<'_> {
    fn record(&mut self, report: &mut ImportReport, f: RowFailure) -> Result<()> {
        if let Some(log) = &mut self.log {
            log.write(&f)?;
        }
        report.failed += 1;
        report.failures.push(f.failure);
        Ok(())
    }
}

/// The error of an import stopped midway by `e` (a storage failure, or a failure log that
/// could not be written), saying what the rows before it did: each was applied whole
/// (R-IMP-16) and stays, so the caller, who gets no report, learns it here.
fn stopped(e: Error, report: &ImportReport, logged: bool) -> Error {
    let Error::Storage { message } = e else {
        return e;
    };
    let done = if report.dry_run {
        "nothing changed (a dry run)".to_string()
    } else {
        format!(
            "the rows before it stay as they were handled ({} contacts created, {} updated; {} rows failed){}",
            report.created,
            report.updated,
            report.failed,
            if logged {
                ", and the activity log holds the report"
            } else {
                ""
            }
        )
    };
    Error::storage(format!("{message}; the import stopped there: {done}"))
}

impl ContactBook {
    /// Imports a CSV file (R-IMP): a path (`&str`, `String`, `Path`, `PathBuf`) or any
    /// `Read + Seek` (a `File`, a `Cursor`, a `BufReader`, a reader lent as `&mut`; see
    /// [`ImportSource`]). Needs `editContacts` (R-EXP-5). `progress`, if given, is
    /// called as rows are handled. See [`ContactBook::import_csv_with_log`] for the failure
    /// log.
    ///
    /// ```
    /// use rolodex_core::{ContactBook, IdentifyBy, ImportOptions, ImportSource};
    /// let book = ContactBook::in_memory();
    /// let csv = "E-mail,Name,unsubscribeEmail,unsubscribeTexting\nkim@example.com,Kim,false,false\n";
    /// let mut options = ImportOptions::leads(IdentifyBy::Email)
    ///     .map("E-mail", Some("profile.email"))
    ///     .map("Name", Some("profile.name"));
    /// options.auto_map = true; // the opt-out columns are named like their keys
    /// options.file_name = Some("spring.csv".into());
    /// let report = book
    ///     .import_csv(ImportSource::reader(std::io::Cursor::new(csv)), options, None)
    ///     .unwrap();
    /// assert_eq!((report.created, report.import_tag.as_str()), (1, "spring"));
    /// assert_eq!(book.mu_count().unwrap(), 1);
    /// ```
    pub fn import_csv<'a>(
        &self,
        source: impl Into<ImportSource<'a>>,
        options: ImportOptions,
        progress: Option<&mut dyn FnMut(Progress)>,
    ) -> Result<ImportReport> {
        self.import_csv_with_log(source, options, progress, None)
    }

    /// [`ContactBook::import_csv`], writing the failure log (R-IMP-13) to `failure_log`: a CSV
    /// of the failed rows only (`rowNumber`, `errorColumns`, `errorReasons`, then the
    /// imported columns with the original cells), which imports again as is with `autoMap`.
    /// Its header is written once the file's mapping is checked, even when no row fails.
    ///
    /// In order: the permission, the channel's import lock (a second import meanwhile
    /// fails at once with `ImportInProgress`, R-IMP-15), every check before any change
    /// (size, encoding, header, mapping: R-IMP-2/3), then the rows in file order (R-IMP-11),
    /// each applied whole in its own transaction or failed whole (R-IMP-16). A dry run
    /// (R-IMP-18) applies the rows to one transaction that is never committed and reports
    /// what the import would do, `muAfter` and `hidden` included. It forecasts from the book
    /// as it is while the dry run reads it: writes by other threads meanwhile (the write
    /// lock is held row by row, as in a real import) are not part of the forecast, which
    /// may then describe a state the book never reaches. A real import records its
    /// report in the activity log with the manager. A storage failure stops the import with
    /// that error; the rows before it stay applied.
    pub fn import_csv_with_log<'a>(
        &self,
        source: impl Into<ImportSource<'a>>,
        options: ImportOptions,
        mut progress: Option<&mut dyn FnMut(Progress)>,
        failure_log: Option<&mut dyn Write>,
    ) -> Result<ImportReport> {
        self.require(Permission::EditContacts, "import contacts")?;
        let store = &**self.store();
        let channel = self.channel_name();
        let mut lock = store
            .try_lock_import(channel)?
            .ok_or_else(|| Error::ImportInProgress {
                channel: channel.to_string(),
            })?;
        let now = self.now();
        // The schema the mapping is checked against (R-IMP-3); a row written after it
        // changed is checked again (`check_still_writable`).
        let mapped = self.schema_ref()?;
        let mut reader = ImportReader::open(source.into(), &options, &mapped, now)?;
        let mut failures = Failures {
            log: match failure_log {
                Some(out) => Some(FailureLogWriter::for_import(
                    out,
                    reader.column_map(),
                    &options,
                )?),
                None => None,
            },
        };
        let import_tag = reader.import_tag().to_string();
        // A merge or login between the rows orders import tags with this one as the
        // newest; a dry run applies its tag to no stored contact.
        if !options.dry_run {
            lock.set_tag(&import_tag);
        }
        let mut report = reader.report();
        let mut counts = Counts::default();
        if let Some(p) = progress.as_mut() {
            p(reader.progress());
        }

        let mutex = store.write_mutex(channel);
        // Read once: a row that joins two contacts orders their import tags by it, this
        // import's tag the newest (R-IMP-9).
        let order = Arc::new(crate::merge::ImportOrder::read(
            store,
            channel,
            Some(&import_tag),
        )?);
        let mut dry = if options.dry_run {
            let mut tx = Tx::dry(store, channel, now)?;
            tx.import_order = Some(Arc::clone(&order));
            Some(tx)
        } else {
            None
        };
        let mut fatal = None;
        // A failure log that cannot be written stops the import like a storage error: the
        // rows already applied stay (each row is whole, R-IMP-16), and the error and the
        // activity log (`stoppedBy`) say what they did. A writer that takes nothing has
        // already failed above, before any change.
        while let Some(row) = reader.next() {
            match row {
                Err(failure) => {
                    if let Err(e) = failures.record(&mut report, failure) {
                        fatal = Some(e);
                        break;
                    }
                }
                Ok(mut patch) => {
                    // The cells are kept for the failure log; the values move into the contact.
                    let cells = std::mem::take(&mut patch.cells);
                    let row_number = patch.row_number;
                    // The channel's write lock is held for the row only, not while the
                    // failure log or the progress callback run.
                    let outcome = {
                        let _guard = mutex.lock();
                        match &mut dry {
                            Some(tx) => {
                                let mark = tx.mark();
                                let r = apply_row(tx, patch, &import_tag);
                                if r.is_err() {
                                    tx.rollback(mark);
                                }
                                r
                            }
                            None => match Tx::new(store, channel, now) {
                                Ok(mut tx) => {
                                    tx.import_order = Some(Arc::clone(&order));
                                    // A key archived while the import runs is written no
                                    // more (R-SCH-5): the rows that would write it fail.
                                    let keys = if Arc::ptr_eq(&tx.schema, &mapped) {
                                        Ok(())
                                    } else {
                                        check_still_writable(&tx.schema, &patch)
                                    };
                                    match keys
                                        .map_err(RowError::from)
                                        .and_then(|()| apply_row(&mut tx, patch, &import_tag))
                                    {
                                        Ok(a) => tx.commit().map(|_| a).map_err(RowError::Fatal),
                                        Err(e) => Err(e),
                                    }
                                }
                                Err(e) => Err(RowError::Fatal(e)),
                            },
                        }
                    };
                    match outcome {
                        Ok(applied) => counts.add(&applied),
                        Err(RowError::Row(error_columns, error_reasons)) => {
                            let failure = RowFailure {
                                failure: Failure {
                                    row_number,
                                    error_columns,
                                    error_reasons,
                                },
                                cells,
                            };
                            if let Err(e) = failures.record(&mut report, failure) {
                                fatal = Some(e);
                                break;
                            }
                        }
                        Err(RowError::Fatal(e)) => {
                            fatal = Some(e);
                            break;
                        }
                    }
                }
            }
            if let Some(p) = progress.as_mut() {
                p(reader.progress());
            }
        }
        if let Some(log) = failures.log.take() {
            let finished = log.finish().and_then(|w| {
                w.flush().map_err(|e| {
                    Error::storage(format!("the failure log could not be written: {e}"))
                })
            });
            if let Err(e) = finished {
                fatal.get_or_insert(e);
            }
        }

        report.rows = reader.progress().rows_done;
        report.created = counts.created.len();
        report.updated = counts.updated.len();
        let still_hidden = |id: &str| -> Result<bool> {
            Ok(match &dry {
                Some(tx) => tx.get(id)?,
                None => store.get(channel, id)?,
            }
            .is_some_and(|c| c.hidden))
        };
        let mut hidden = 0;
        for id in counts.created_hidden.ids() {
            hidden += still_hidden(&id)? as u64;
        }
        report.hidden = hidden;
        report.mu_after = match &dry {
            Some(tx) => tx.mu_count()?,
            None => store.mu_count(channel)?,
        };
        drop(dry);

        let mut in_log = false;
        if !options.dry_run {
            let mut detail = serde_json::to_value(&report).unwrap_or_default();
            if let Some(obj) = detail.as_object_mut() {
                // The failed rows are in the failure log; the entry keeps the counts.
                obj.remove("failures");
                obj.insert(
                    "kind".into(),
                    serde_json::to_value(options.kind).unwrap_or_default(),
                );
                if let Some(f) = &options.file_name {
                    obj.insert("fileName".into(), f.clone().into());
                }
                if let Some(e) = &fatal {
                    obj.insert("stoppedBy".into(), e.to_string().into());
                }
            }
            let entry = self.log_entry("import", report.created + report.updated, detail);
            let logged = self.write(|tx| {
                tx.op(entry);
                Ok(())
            });
            if fatal.is_none() {
                logged?;
            } else {
                in_log = logged.is_ok();
            }
        }
        match fatal {
            Some(e) => Err(stopped(e, &report, in_log)),
            None => {
                if let Some(p) = progress.as_mut() {
                    p(reader.progress());
                }
                Ok(report)
            }
        }
    }

    /// Previews a CSV file before importing it (R-IMP-14): the header, the first 30 rows
    /// with every column, and the number of data rows.
    pub fn preview_csv(&self, reader: impl Read) -> Result<Preview> {
        super::preview::preview_csv(reader)
    }

    /// [`ContactBook::preview_csv`] of a file in the named encoding, as the import option
    /// `encoding` names it (`"euc-kr"`, `"cp949"`, `"shift_jis"`, …), so a file the import
    /// will decode can be previewed first. `None` is UTF-8.
    ///
    /// ```
    /// use rolodex_core::ContactBook;
    /// let book = ContactBook::in_memory();
    /// // "이름" (name) in EUC-KR.
    /// let file: &[u8] = b"\xc0\xcc\xb8\xa7,email\n\xb1\xe8,kim@example.com\n";
    /// assert!(book.preview_csv(file).is_err());
    /// let p = book.preview_csv_with_encoding(file, Some("cp949"))?;
    /// assert_eq!(p.header, ["이름", "email"]);
    /// assert_eq!(p.rows, [["김", "kim@example.com"]]);
    /// # Ok::<(), rolodex_core::Error>(())
    /// ```
    pub fn preview_csv_with_encoding(
        &self,
        reader: impl Read,
        encoding: Option<&str>,
    ) -> Result<Preview> {
        super::preview::preview_csv_with_encoding(reader, encoding)
    }

    /// The header row of an import file (API.md `template`): the identifier column first,
    /// then every editable key in display order, the two opt-out fields included.
    pub fn template(&self, kind: ImportKind, identify_by: IdentifyBy) -> Result<Vec<String>> {
        super::template::template(kind, identify_by, &*self.schema_ref()?)
    }
}
