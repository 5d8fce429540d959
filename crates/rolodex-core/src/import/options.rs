//! The JSON shapes of import options, progress and report (API.md "Import options").

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which contacts one import brings in (R-IMP-1). Mixing is not supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ImportKind {
    /// Members, identified by `memberId`.
    Members,
    /// Leads, identified by email or by mobile number.
    Leads,
}

/// The identifier one import matches rows on (R-IMP-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum IdentifyBy {
    /// `memberId` (member imports).
    MemberId,
    /// `profile.email` (lead imports).
    Email,
    /// `profile.mobileNumber` (lead imports).
    MobileNumber,
}

impl IdentifyBy {
    /// The data key holding this identifier (`memberId`, `profile.email`,
    /// `profile.mobileNumber`).
    pub fn key(self) -> &'static str {
        match self {
            IdentifyBy::MemberId => "memberId",
            IdentifyBy::Email => "profile.email",
            IdentifyBy::MobileNumber => "profile.mobileNumber",
        }
    }
}

/// What an empty cell means (R-IMP-7).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum EmptyCells {
    /// Keep the existing value (the default).
    #[default]
    Keep,
    /// Clear the existing value. Opt-out fields are kept under both policies.
    Clear,
}

/// Options of one CSV import, in the JSON shape of API.md:
/// `{"kind", "identifyBy", "mapping", "emptyCells", "importTag", "fileName", "encoding",
/// "dryRun", "autoMap"}`. Unknown fields are rejected, so a misspelt option is an error
/// rather than silently ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportOptions {
    /// Members or leads (R-IMP-1).
    pub kind: ImportKind,
    /// The identifier: `memberId` for members (the default for them), `email` or
    /// `mobileNumber` for leads (required for them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identify_by: Option<IdentifyBy>,
    /// CSV column (header text, trimmed) → data key, or `None` (JSON `null`) for *do not
    /// import* (R-IMP-3).
    #[serde(default, deserialize_with = "crate::value::null_as_default")]
    pub mapping: BTreeMap<String, Option<String>>,
    /// Empty-cell policy (R-IMP-7).
    #[serde(default, deserialize_with = "crate::value::null_as_default")]
    pub empty_cells: EmptyCells,
    /// The import tag added to every contact touched (R-IMP-9); defaults to the file name
    /// without its extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_tag: Option<String>,
    /// The file name used for the default import tag when the source is not a path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// The file's encoding as a WHATWG label (`"utf-8"`, `"euc-kr"`, `"cp949"`,
    /// `"shift_jis"`, ...). Absent means UTF-8, with or without BOM (R-IMP-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Apply nothing; report what the import would do (R-IMP-18).
    #[serde(default, deserialize_with = "crate::value::null_as_default")]
    pub dry_run: bool,
    /// Map every unmapped column whose header equals a data key this import may write;
    /// other unmapped columns are ignored and listed in the report's `ignoredColumns`. Two
    /// such columns named like one key are an error, as a key is mapped from at most one
    /// column (R-IMP-3).
    #[serde(default, deserialize_with = "crate::value::null_as_default")]
    pub auto_map: bool,
}

impl ImportOptions {
    /// Options for a member import with no mapping yet.
    pub fn members() -> ImportOptions {
        ImportOptions::new(ImportKind::Members, Some(IdentifyBy::MemberId))
    }

    /// Options for a lead import identified by `identify_by`, with no mapping yet.
    pub fn leads(identify_by: IdentifyBy) -> ImportOptions {
        ImportOptions::new(ImportKind::Leads, Some(identify_by))
    }

    fn new(kind: ImportKind, identify_by: Option<IdentifyBy>) -> ImportOptions {
        ImportOptions {
            kind,
            identify_by,
            mapping: BTreeMap::new(),
            empty_cells: EmptyCells::Keep,
            import_tag: None,
            file_name: None,
            encoding: None,
            dry_run: false,
            auto_map: false,
        }
    }

    /// Reads import options from JSON text in the shape of API.md; a bad field is an
    /// `Error::Validation` whose key names it, and a document that is not a JSON object is
    /// an `Error::Validation` too.
    ///
    /// ```
    /// let o = rolodex_core::ImportOptions::from_json(
    ///     r#"{"kind": "leads", "identifyBy": "email", "autoMap": true, "dryRun": true}"#,
    /// )?;
    /// assert!(o.auto_map && o.dry_run);
    /// let bad = rolodex_core::ImportOptions::from_json(r#"{"kind": "leads", "automap": true}"#);
    /// assert_eq!(bad.unwrap_err().kind(), rolodex_core::ErrorKind::Validation);
    /// # Ok::<(), rolodex_core::Error>(())
    /// ```
    pub fn from_json(text: &str) -> Result<ImportOptions> {
        ImportOptions::from_value(&crate::error::options_json("import options", text)?)
    }

    /// Reads import options from a JSON value; see [`ImportOptions::from_json`].
    pub fn from_value(v: &serde_json::Value) -> Result<ImportOptions> {
        crate::error::options_from_value("import options", v)
    }

    /// Sets `autoMap` (R-IMP-3): unmapped columns named like a data key are mapped to it.
    pub fn auto_map(mut self, on: bool) -> ImportOptions {
        self.auto_map = on;
        self
    }

    /// Sets `dryRun` (R-IMP-18): apply nothing, report what the import would do.
    pub fn dry_run(mut self, on: bool) -> ImportOptions {
        self.dry_run = on;
        self
    }

    /// Sets the empty-cell policy (R-IMP-7).
    pub fn empty_cells(mut self, policy: EmptyCells) -> ImportOptions {
        self.empty_cells = policy;
        self
    }

    /// Sets the import tag (R-IMP-9).
    pub fn import_tag(mut self, tag: impl Into<String>) -> ImportOptions {
        self.import_tag = Some(tag.into());
        self
    }

    /// Sets the file name the default import tag comes from when the source is not a path.
    pub fn file_name(mut self, name: impl Into<String>) -> ImportOptions {
        self.file_name = Some(name.into());
        self
    }

    /// Sets the file's encoding, a WHATWG label such as `"euc-kr"` (R-IMP-2).
    pub fn encoding(mut self, label: impl Into<String>) -> ImportOptions {
        self.encoding = Some(label.into());
        self
    }

    /// Adds a mapping entry: `column` → `key`, or *do not import* when `key` is `None`.
    pub fn map(mut self, column: &str, key: Option<&str>) -> ImportOptions {
        self.mapping
            .insert(column.to_string(), key.map(str::to_string));
        self
    }

    /// The identifier of this import, checked against its kind (R-IMP-1): members are
    /// identified by `memberId` only, leads by `email` or `mobileNumber`.
    pub fn identifier(&self) -> Result<IdentifyBy> {
        match (self.kind, self.identify_by) {
            (ImportKind::Members, None | Some(IdentifyBy::MemberId)) => Ok(IdentifyBy::MemberId),
            (ImportKind::Members, Some(other)) => Err(Error::validation(
                Some(other.key()),
                "identifyBy \"memberId\" for a members import",
                "a members import is identified by memberId; import leads to match on email or mobile number",
            )),
            (ImportKind::Leads, Some(IdentifyBy::MemberId)) => Err(Error::validation(
                Some("memberId"),
                "identifyBy \"email\" or \"mobileNumber\" for a leads import",
                "a leads import cannot be identified by memberId; import members for that",
            )),
            (ImportKind::Leads, Some(id)) => Ok(id),
            (ImportKind::Leads, None) => Err(Error::validation(
                None,
                "identifyBy \"email\" or \"mobileNumber\" for a leads import",
                "a leads import needs identifyBy",
            )),
        }
    }

    /// The import tag of this import (R-IMP-9, R-IMP-20): `importTag` when given (trimmed,
    /// not empty), else the stem of the source path, else the stem of `fileName`, else
    /// `import-YYYYMMDD-HHMM` of `now` in UTC.
    pub fn resolve_import_tag(
        &self,
        source_path: Option<&Path>,
        now: DateTime<Utc>,
    ) -> Result<String> {
        if let Some(tag) = &self.import_tag {
            // A tag is a list item: NFC-normalised text (R-VAL-1), whose length counts
            // after NFC (R-SCH-7).
            let tag = crate::text::nfc(tag.trim());
            let tag = tag.as_str();
            if tag.is_empty() {
                return Err(Error::invalid_key(
                    "importTag",
                    "a non-empty import tag, or no importTag for the default",
                    "the import tag is empty",
                ));
            }
            if tag.chars().count() > crate::schema::MAX_STRING_CHARS {
                return Err(Error::invalid_key(
                    "importTag",
                    format!(
                        "an import tag of at most {} characters",
                        crate::schema::MAX_STRING_CHARS
                    ),
                    "the import tag is too long",
                ));
            }
            return Ok(tag.to_string());
        }
        let stem = |p: &Path| {
            p.file_stem()
                .map(|s| crate::text::nfc(s.to_string_lossy().trim()))
                .filter(|s| !s.is_empty())
        };
        let from_name = source_path
            .and_then(stem)
            .or_else(|| self.file_name.as_deref().map(Path::new).and_then(stem));
        match from_name {
            Some(s) if s.chars().count() > crate::schema::MAX_STRING_CHARS => {
                Err(Error::invalid_key(
                    "fileName",
                    format!(
                        "a file name of at most {} characters before its extension, or an importTag",
                        crate::schema::MAX_STRING_CHARS
                    ),
                    "the import tag taken from the file name would be too long",
                ))
            }
            Some(s) => Ok(s),
            None => Ok(now.format("import-%Y%m%d-%H%M").to_string()),
        }
    }
}

/// Progress of a running import, as given to the caller's callback (R-IMP-16):
/// `{"rowsDone", "rowsTotal", "bytesDone", "bytesTotal"}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// Data rows handled so far (applied or failed).
    pub rows_done: u64,
    /// Data rows in the file (blank lines are not rows).
    pub rows_total: u64,
    /// Bytes of the file read so far.
    pub bytes_done: u64,
    /// Size of the file in bytes.
    pub bytes_total: u64,
}

/// One failed row of a report: `{"rowNumber", "errorColumns", "errorReasons"}` (R-IMP-13).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    /// The row as a spreadsheet numbers it: the header is row 1.
    pub row_number: u64,
    /// The data keys at fault (empty when the row as a whole is malformed).
    pub error_columns: Vec<String>,
    /// One message per problem, each saying what was wrong and what was expected.
    pub error_reasons: Vec<String>,
}

/// The report of an import (API.md): counts, the import tag, MU forecast and failures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// Data rows read (blank lines are not rows).
    pub rows: u64,
    /// Contacts created (R-IMP-12).
    pub created: u64,
    /// Contacts matched and updated, even if nothing changed (R-IMP-12).
    pub updated: u64,
    /// Rows that failed.
    pub failed: u64,
    /// The import tag added to every contact touched (R-IMP-9).
    pub import_tag: String,
    /// Contacts created hidden because of the MU limit (R-MU-2).
    pub hidden: u64,
    /// MU after the import (or the MU it would reach, on a dry run).
    pub mu_after: u64,
    /// Whether this was a dry run (R-IMP-18).
    pub dry_run: bool,
    /// Columns `autoMap` left out: no data key this import may write has their name, or an
    /// explicit mapping entry already takes the key they name.
    pub ignored_columns: Vec<String>,
    /// The failed rows, in file order.
    pub failures: Vec<Failure>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_import_options_json_shape() {
        let j = r#"{"kind":"leads","identifyBy":"email","mapping":{"E-mail":"profile.email","x":null},
            "emptyCells":"clear","importTag":"spring","fileName":"spring.csv","encoding":"euc-kr",
            "dryRun":true,"autoMap":true}"#;
        let o: ImportOptions = serde_json::from_str(j).unwrap();
        assert_eq!(o.kind, ImportKind::Leads);
        assert_eq!(o.identify_by, Some(IdentifyBy::Email));
        assert_eq!(o.mapping["x"], None);
        assert_eq!(o.mapping["E-mail"].as_deref(), Some("profile.email"));
        assert_eq!(o.empty_cells, EmptyCells::Clear);
        assert!(o.dry_run && o.auto_map);
        let back: ImportOptions =
            serde_json::from_value(serde_json::to_value(&o).unwrap()).unwrap();
        assert_eq!(back, o);

        let minimal: ImportOptions = serde_json::from_str(r#"{"kind":"members"}"#).unwrap();
        assert_eq!(minimal.empty_cells, EmptyCells::Keep);
        assert_eq!(minimal.identifier().unwrap(), IdentifyBy::MemberId);
        assert!(serde_json::from_str::<ImportOptions>(
            r#"{"kind":"members","emptycells":"clear"}"#
        )
        .is_err());
    }

    #[test]
    fn api_report_and_progress_json_shape() {
        let r = ImportReport {
            rows: 3,
            failures: vec![Failure {
                row_number: 2,
                error_columns: vec!["profile.spent".into()],
                error_reasons: vec!["bad".into()],
            }],
            ..Default::default()
        };
        let j = serde_json::to_value(&r).unwrap();
        for k in [
            "rows",
            "created",
            "updated",
            "failed",
            "importTag",
            "hidden",
            "muAfter",
            "dryRun",
            "ignoredColumns",
            "failures",
        ] {
            assert!(j.get(k).is_some(), "{k}");
        }
        assert_eq!(j["failures"][0]["rowNumber"], 2);
        assert_eq!(j["failures"][0]["errorColumns"][0], "profile.spent");
        let p = serde_json::to_value(Progress::default()).unwrap();
        for k in ["rowsDone", "rowsTotal", "bytesDone", "bytesTotal"] {
            assert!(p.get(k).is_some(), "{k}");
        }
    }

    #[test]
    fn r_imp_1_identifier_fits_kind() {
        assert!(ImportOptions::members().identifier().is_ok());
        let mut o = ImportOptions::members();
        o.identify_by = Some(IdentifyBy::Email);
        assert!(o.identifier().is_err());
        let o = ImportOptions::leads(IdentifyBy::MemberId);
        assert!(o.identifier().is_err());
        let mut o = ImportOptions::leads(IdentifyBy::Email);
        assert_eq!(o.identifier().unwrap(), IdentifyBy::Email);
        o.identify_by = None;
        assert!(o.identifier().is_err());
    }

    #[test]
    fn r_imp_9_default_import_tag() {
        let now = DateTime::parse_from_rfc3339("2025-05-04T09:07:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut o = ImportOptions::members();
        assert_eq!(
            o.resolve_import_tag(None, now).unwrap(),
            "import-20250504-0907"
        );
        o.file_name = Some("spring.csv".into());
        assert_eq!(o.resolve_import_tag(None, now).unwrap(), "spring");
        assert_eq!(
            o.resolve_import_tag(Some(Path::new("/tmp/dir/tag00.csv")), now)
                .unwrap(),
            "tag00"
        );
        o.import_tag = Some(" vip list ".into());
        assert_eq!(o.resolve_import_tag(None, now).unwrap(), "vip list");
        o.import_tag = Some("  ".into());
        assert!(o.resolve_import_tag(None, now).is_err());
    }
}
