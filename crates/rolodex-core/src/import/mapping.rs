//! Column mapping (R-IMP-3, R-SCH-3, R-IMP-19, API.md "Import options"), resolved against
//! the header and the schema before any row is read.

use std::collections::HashMap;

use super::options::{IdentifyBy, ImportKind, ImportOptions};
use crate::error::{Error, Result};
use crate::schema::Schema;
use crate::text::nfc;
use crate::value::FieldType;

/// What a mapped column writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnTarget {
    /// The import's identifier (`memberId` for members, `profile.email` or
    /// `profile.mobileNumber` for leads): it only matches, and is set on a new contact.
    Identifier,
    /// A profile key, by its name under `profile.` (`city` for `profile.city`).
    Profile(String),
    /// `tags`.
    Tags,
    /// `unsubscribeEmail`.
    UnsubscribeEmail,
    /// `unsubscribeTexting`.
    UnsubscribeTexting,
}

/// One column of the file that is imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedColumn {
    /// 0-based position in the file.
    pub index: usize,
    /// The header text (trimmed).
    pub header: String,
    /// The data key it is mapped to.
    pub key: String,
    /// The key's type.
    pub field_type: FieldType,
    /// What it writes.
    pub target: ColumnTarget,
}

/// The resolved mapping of one import: which columns go where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMap {
    /// Members or leads.
    pub kind: ImportKind,
    /// The identifier.
    pub identify_by: IdentifyBy,
    /// The imported columns, in file order.
    pub columns: Vec<MappedColumn>,
    /// Position in `columns` of the identifier column.
    pub identifier: usize,
    /// The header, trimmed, every column.
    pub header: Vec<String>,
    /// Columns left out by `autoMap` (their header names, in file order).
    pub ignored: Vec<String>,
}

impl ColumnMap {
    /// Resolves `options.mapping` (and `autoMap`) against the header and the schema. Every
    /// error here is a `Validation` error raised before any row is read:
    /// - a mapping entry naming a column the file does not have;
    /// - a column that is not mapped, unless `autoMap`;
    /// - a key that is unknown, archived or not editable (R-SCH-3), or `memberId` in a
    ///   leads import;
    /// - a key mapped from two columns;
    /// - no column for the identifier.
    pub fn resolve(
        header: &[String],
        options: &ImportOptions,
        schema: &Schema,
    ) -> Result<ColumnMap> {
        let identify_by = options.identifier()?;
        let kind = options.kind;
        let header: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
        // Column names and keys are matched in NFC (R-VAL-1: a file saved on macOS arrives
        // decomposed, a mapping typed elsewhere composed); the header keeps its own text.
        let names: Vec<String> = header.iter().map(|h| nfc(h)).collect();

        let mut mapping: HashMap<String, Option<&str>> = HashMap::new();
        for (column, key) in &options.mapping {
            let column = column.trim();
            if mapping.insert(nfc(column), key.as_deref()).is_some() {
                return Err(Error::validation(
                    Some(column),
                    "one mapping entry per column",
                    "the mapping names this column twice (after trimming spaces)",
                ));
            }
            if !names.iter().any(|h| *h == nfc(column)) {
                return Err(Error::validation(
                    Some(column),
                    format!("a column of the file: {}", list(&header)),
                    "the mapping names a column the file does not have",
                ));
            }
        }

        let mut columns: Vec<MappedColumn> = Vec::new();
        let mut auto: Vec<usize> = Vec::new();
        for (index, h) in header.iter().enumerate() {
            match names.get(index).and_then(|n| mapping.get(n.as_str())) {
                Some(Some(key)) => {
                    let (field_type, target) = check_key(key, h, kind, identify_by, schema)?;
                    columns.push(MappedColumn {
                        index,
                        header: h.clone(),
                        key: key.to_string(),
                        field_type,
                        target,
                    });
                }
                Some(None) => {}
                None if options.auto_map => auto.push(index),
                None => {
                    // The column is named in the message; its header is not a value.
                    return Err(Error::validation(
                        None,
                        "every column mapped to a data key, or to null (do not import); or set autoMap to map columns named like data keys and ignore the others",
                        format!("column {} ({h:?}) is not mapped", index + 1),
                    ));
                }
            }
        }

        if let Some((a, b)) = first_duplicate(&columns) {
            return Err(Error::Validation {
                key: Some(columns[a].key.clone()),
                text: None,
                expected: "each data key mapped from at most one column".into(),
                message: format!(
                    "columns {:?} and {:?} are both mapped to it",
                    columns[a].header, columns[b].header
                ),
            });
        }

        // autoMap: explicit entries win; a header naming a key this import may write is
        // mapped to it, any other column is ignored and reported. Two columns both named
        // like one key would both be mapped to it: an error, as for explicit entries.
        let explicit = columns.len();
        let mut ignored = Vec::new();
        for index in auto {
            let h = &names[index];
            let taken = columns[..explicit].iter().any(|c| c.key == *h);
            if let Some(first) = columns[explicit..].iter().find(|c| c.key == *h) {
                return Err(Error::Validation {
                    key: Some(h.clone()),
                    text: None,
                    expected: "each data key mapped from at most one column: rename one of the two columns, or map their name to null to import neither".into(),
                    message: format!(
                        "columns {} and {} are both named {:?}, so autoMap maps both to it",
                        first.index + 1,
                        index + 1,
                        header[index]
                    ),
                });
            }
            match check_key(h, h, kind, identify_by, schema) {
                Ok((field_type, target)) if !taken => columns.push(MappedColumn {
                    index,
                    header: header[index].clone(),
                    key: h.clone(),
                    field_type,
                    target,
                }),
                _ => ignored.push(header[index].clone()),
            }
        }
        columns.sort_by_key(|c| c.index);

        let identifier = columns
            .iter()
            .position(|c| c.target == ColumnTarget::Identifier)
            .ok_or_else(|| {
                Error::invalid_key(
                    identify_by.key(),
                    format!(
                        "a column mapped to {} (the identifier of this import)",
                        identify_by.key()
                    ),
                    "no column is mapped to the identifier",
                )
            })?;

        Ok(ColumnMap {
            kind,
            identify_by,
            columns,
            identifier,
            header,
            ignored,
        })
    }

    /// The data keys of the imported columns, in file order (the failure log's columns).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.key.as_str())
    }

    /// The imported column at file position `index`, if that column is imported.
    pub fn column_at(&self, index: usize) -> Option<&MappedColumn> {
        self.columns.iter().find(|c| c.index == index)
    }
}

fn list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn first_duplicate(columns: &[MappedColumn]) -> Option<(usize, usize)> {
    for (b, c) in columns.iter().enumerate() {
        if let Some(a) = columns[..b].iter().position(|o| o.key == c.key) {
            return Some((a, b));
        }
    }
    None
}

/// Whether this import may write `key`, and what it is: R-IMP-3, R-SCH-3 (`memberId` only
/// as a member import's identifier), R-IMP-19 (member imports may write email and mobile).
fn check_key(
    key: &str,
    column: &str,
    kind: ImportKind,
    identify_by: IdentifyBy,
    schema: &Schema,
) -> Result<(FieldType, ColumnTarget)> {
    if key == "memberId" {
        return match kind {
            ImportKind::Members => Ok((FieldType::String, ColumnTarget::Identifier)),
            ImportKind::Leads => Err(Error::Validation {
                key: Some("memberId".into()),
                text: None,
                expected: "a key other than memberId in a leads import (map the column to null, or import members)".into(),
                message: format!("column {column:?} is mapped to it, but memberId is set only by a members import or a login"),
            }),
        };
    }
    let def = schema.writable(key).map_err(|e| match e {
        Error::Validation {
            key,
            text: _,
            expected,
            message,
        } => Error::Validation {
            key,
            // The column is named in the message; the error is about the key.
            text: None,
            expected,
            message: format!("column {column:?} is mapped to it, but {message}"),
        },
        // In a mapping an unknown key is a `Validation` error (API.md).
        Error::NotFound { hint, .. } => Error::Validation {
            key: Some(key.to_string()),
            text: None,
            expected: format!("a data key of the schema ({hint})"),
            message: format!("column {column:?} is mapped to it, but it is an unknown data key"),
        },
        other => other,
    })?;
    let target = if key == identify_by.key() {
        ColumnTarget::Identifier
    } else {
        match key {
            "tags" => ColumnTarget::Tags,
            "unsubscribeEmail" => ColumnTarget::UnsubscribeEmail,
            "unsubscribeTexting" => ColumnTarget::UnsubscribeTexting,
            _ => match def.profile_name() {
                Some(name) => ColumnTarget::Profile(name.to_string()),
                None => {
                    return Err(Error::invalid_key(
                        key,
                        "an editable data key",
                        "this system field cannot be imported",
                    ))
                }
            },
        }
    };
    Ok((def.field_type, target))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn header(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|s| s.to_string()).collect()
    }

    fn schema() -> Schema {
        let mut s = Schema::new();
        s.define("profile.city", FieldType::String).unwrap();
        s.define("profile.old", FieldType::String).unwrap();
        s.archive("profile.old").unwrap();
        s
    }

    /// R-IMP-3 with R-VAL-1: a header saved decomposed (macOS) matches a mapping typed
    /// composed, and the other way round; the header keeps its own text.
    #[test]
    fn r_imp_3_columns_match_in_nfc() {
        let composed = "\u{c774}\u{b984}"; // 이름
        let decomposed = "\u{110b}\u{1175}\u{1105}\u{1173}\u{11b7}";
        assert_ne!(composed, decomposed);
        let o = ImportOptions::members()
            .map("id", Some("memberId"))
            .map(composed, Some("profile.city"));
        let m = ColumnMap::resolve(&header(&["id", decomposed]), &o, &schema()).unwrap();
        assert_eq!(
            m.keys().collect::<Vec<_>>(),
            vec!["memberId", "profile.city"]
        );
        assert_eq!(m.columns[1].header, decomposed);
        let o = ImportOptions::members()
            .map("id", Some("memberId"))
            .map(decomposed, None);
        let m = ColumnMap::resolve(&header(&["id", composed]), &o, &schema()).unwrap();
        assert_eq!(m.keys().collect::<Vec<_>>(), vec!["memberId"]);
    }

    #[test]
    fn r_imp_3_explicit_mapping_and_null() {
        let o = ImportOptions::members()
            .map("id", Some("memberId"))
            .map(" City ", Some("profile.city"))
            .map("note", None);
        let m = ColumnMap::resolve(&header(&["id", "note", "City"]), &o, &schema()).unwrap();
        assert_eq!(
            m.keys().collect::<Vec<_>>(),
            vec!["memberId", "profile.city"]
        );
        assert_eq!(m.columns[1].index, 2);
        assert_eq!(m.columns[1].target, ColumnTarget::Profile("city".into()));
        assert_eq!(m.identifier, 0);
        assert!(m.ignored.is_empty());
    }

    #[test]
    fn r_imp_3_mapping_names_missing_column() {
        let o = ImportOptions::members()
            .map("id", Some("memberId"))
            .map("nope", Some("profile.city"));
        let e = ColumnMap::resolve(&header(&["id"]), &o, &schema()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation);
        assert!(e.to_string().contains("nope"), "{e}");
    }

    #[test]
    fn r_imp_3_unmapped_column_is_an_error_naming_it() {
        let o = ImportOptions::members().map("id", Some("memberId"));
        let e = ColumnMap::resolve(&header(&["id", "extra"]), &o, &schema()).unwrap_err();
        assert!(e.to_string().contains("extra"), "{e}");
        assert!(e.to_string().contains("autoMap"), "{e}");
    }

    #[test]
    fn r_imp_3_bad_keys_are_named() {
        for (key, why) in [
            ("lastSeenAt", "cannot be written"),
            ("profile.old", "archived"),
            ("profile.nope", "unknown"),
            ("userImportTags", "cannot be written"),
        ] {
            let o = ImportOptions::members()
                .map("id", Some("memberId"))
                .map("x", Some(key));
            let e = ColumnMap::resolve(&header(&["id", "x"]), &o, &schema()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Validation);
            assert_eq!(e.key(), Some(key), "{e}");
            assert!(e.to_string().contains(why), "{e}");
        }
    }

    #[test]
    fn r_sch_3_member_id_not_in_leads_import() {
        let o = ImportOptions::leads(IdentifyBy::Email)
            .map("email", Some("profile.email"))
            .map("mid", Some("memberId"));
        let e = ColumnMap::resolve(&header(&["email", "mid"]), &o, &schema()).unwrap_err();
        assert_eq!(e.key(), Some("memberId"));
    }

    #[test]
    fn r_imp_3_key_from_two_columns() {
        let o = ImportOptions::members()
            .map("id", Some("memberId"))
            .map("a", Some("profile.city"))
            .map("b", Some("profile.city"));
        let e = ColumnMap::resolve(&header(&["id", "a", "b"]), &o, &schema()).unwrap_err();
        assert_eq!(e.key(), Some("profile.city"));
        assert!(e.to_string().contains("\"a\" and \"b\""), "{e}");
    }

    #[test]
    fn r_imp_1_identifier_column_required() {
        let o = ImportOptions::leads(IdentifyBy::MobileNumber).map("email", Some("profile.email"));
        let e = ColumnMap::resolve(&header(&["email"]), &o, &schema()).unwrap_err();
        assert_eq!(e.key(), Some("profile.mobileNumber"));
        let o = ImportOptions::members().map("email", Some("profile.email"));
        let e = ColumnMap::resolve(&header(&["email"]), &o, &schema()).unwrap_err();
        assert_eq!(e.key(), Some("memberId"));
    }

    #[test]
    fn r_imp_19_member_import_may_map_email_and_mobile() {
        let o = ImportOptions::members()
            .map("id", Some("memberId"))
            .map("e", Some("profile.email"))
            .map("m", Some("profile.mobileNumber"));
        let m = ColumnMap::resolve(&header(&["id", "e", "m"]), &o, &schema()).unwrap();
        assert_eq!(m.columns[1].target, ColumnTarget::Profile("email".into()));
        assert_eq!(m.columns[2].field_type, FieldType::MobileNumber);
        // In a leads import the other contact field is a plain profile key.
        let o = ImportOptions::leads(IdentifyBy::Email)
            .map("e", Some("profile.email"))
            .map("m", Some("profile.mobileNumber"));
        let m = ColumnMap::resolve(&header(&["e", "m"]), &o, &schema()).unwrap();
        assert_eq!(m.columns[0].target, ColumnTarget::Identifier);
        assert_eq!(
            m.columns[1].target,
            ColumnTarget::Profile("mobileNumber".into())
        );
    }

    #[test]
    fn r_imp_3_auto_map_of_two_columns_named_alike_is_an_error() {
        // R-IMP-3: "A key may be mapped from at most one column" — autoMap would map both.
        let mut o = ImportOptions::leads(IdentifyBy::Email);
        o.auto_map = true;
        let h = header(&["profile.email", "profile.city", "x", "profile.city "]);
        let e = ColumnMap::resolve(&h, &o, &schema()).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Validation);
        assert_eq!(e.key(), Some("profile.city"));
        let text = e.to_string();
        assert!(text.contains("columns 2 and 4"), "{text}");
        // Named alike but not a key this import writes: both ignored, no error.
        let h = header(&["profile.email", "id", "id"]);
        let m = ColumnMap::resolve(&h, &o, &schema()).unwrap();
        assert_eq!(m.ignored, vec!["id", "id"]);
        // Mapped to null by name: neither is imported.
        let mut o = o.map("profile.city", None);
        o.auto_map = true;
        let h = header(&["profile.email", "profile.city", "profile.city"]);
        let m = ColumnMap::resolve(&h, &o, &schema()).unwrap();
        assert_eq!(m.keys().collect::<Vec<_>>(), vec!["profile.email"]);
    }

    #[test]
    fn api_auto_map_and_ignored_columns() {
        let h = header(&[
            "rowNumber",
            "id",
            "memberId",
            "profile.email",
            "profile.city",
            "profile.old",
            "Name",
            "tags",
            "unsubscribeEmail",
            "createdAt",
        ]);
        let mut o = ImportOptions::leads(IdentifyBy::Email).map("Name", Some("profile.name"));
        o.auto_map = true;
        let m = ColumnMap::resolve(&h, &o, &schema()).unwrap();
        assert_eq!(
            m.keys().collect::<Vec<_>>(),
            vec![
                "profile.email",
                "profile.city",
                "profile.name",
                "tags",
                "unsubscribeEmail"
            ]
        );
        assert_eq!(
            m.ignored,
            vec!["rowNumber", "id", "memberId", "profile.old", "createdAt"]
        );
        // Explicit entries win over autoMap, even for a column named like another key.
        let mut o = ImportOptions::members()
            .map("memberId", Some("memberId"))
            .map("other", Some("profile.city"));
        o.auto_map = true;
        let m = ColumnMap::resolve(
            &header(&["memberId", "profile.city", "other"]),
            &o,
            &schema(),
        )
        .unwrap();
        assert_eq!(
            m.keys().collect::<Vec<_>>(),
            vec!["memberId", "profile.city"]
        );
        assert_eq!(m.columns[1].header, "other");
        assert_eq!(m.ignored, vec!["profile.city"]);
        // Members auto-map memberId.
        let mut o = ImportOptions::members();
        o.auto_map = true;
        let m = ColumnMap::resolve(&header(&["memberId", "x"]), &o, &schema()).unwrap();
        assert_eq!(m.keys().collect::<Vec<_>>(), vec!["memberId"]);
    }
}
