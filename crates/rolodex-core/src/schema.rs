//! The profile schema of a channel (R-SCH): built-in and custom data keys, system fields,
//! display order, archiving, inbox visibility and the per-profile limits.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::store::memory::FxMap;
use crate::value::{FieldType, Value};

/// The most keys one profile may hold (R-SCH-7).
pub const MAX_PROFILE_KEYS: usize = 256;
/// The largest profile, in bytes of its compact JSON (R-SCH-7).
pub const MAX_PROFILE_BYTES: usize = 15_360;
/// The longest string value, in Unicode scalar values after NFC (R-SCH-7).
pub const MAX_STRING_CHARS: usize = 512;
/// The most items in a list value (R-SCH-7).
pub const MAX_LIST_ITEMS: usize = 200;

/// The built-in profile keys (R-SCH-1), in their default display order.
pub const BUILTIN_PROFILE_KEYS: [(&str, FieldType); 4] = [
    ("profile.name", FieldType::String),
    ("profile.email", FieldType::Email),
    ("profile.mobileNumber", FieldType::MobileNumber),
    ("profile.landlineNumber", FieldType::LandlineNumber),
];

/// The system fields (R-SCH-1) with their types and whether a manager may write them
/// (R-SCH-3; `memberId` is written only by a member import or a login).
pub const SYSTEM_FIELDS: [(&str, FieldType, bool); 12] = [
    ("id", FieldType::String, false),
    ("memberId", FieldType::String, false),
    ("member", FieldType::Boolean, false),
    ("tags", FieldType::Tag, true),
    ("userImportTags", FieldType::List, false),
    ("unsubscribeEmail", FieldType::Boolean, true),
    ("unsubscribeTexting", FieldType::Boolean, true),
    ("blocked", FieldType::Boolean, false),
    ("createdAt", FieldType::Datetime, false),
    ("updatedAt", FieldType::Datetime, false),
    ("lastSeenAt", FieldType::Datetime, false),
    ("sessionCount", FieldType::Number, false),
];

/// One data key of the schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyDef {
    /// The full key (`profile.city`, `tags`, `lastSeenAt`).
    pub key: String,
    /// Its type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Archived keys are not collected, shown or filterable; their values are kept (R-SCH-5).
    pub archived: bool,
    /// Shown in the inbox (R-SCH-6).
    pub inbox_visible: bool,
    /// A system field (top level, not under `profile.`).
    pub system: bool,
    /// A built-in profile key.
    pub builtin: bool,
}

impl KeyDef {
    /// Whether a manager's edit or an import may write this key (R-SCH-3): profile keys and
    /// the editable system fields (`tags`, `unsubscribeEmail`, `unsubscribeTexting`).
    pub fn editable(&self) -> bool {
        if !self.system {
            return true;
        }
        SYSTEM_FIELDS
            .iter()
            .any(|(k, _, editable)| *k == self.key && *editable)
    }

    /// The name under `profile.` for profile keys (`city` for `profile.city`).
    pub fn profile_name(&self) -> Option<&str> {
        self.key.strip_prefix("profile.")
    }
}

/// A channel's schema: every key in display order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    keys: Vec<KeyDef>,
    /// Position of each key in `keys` (FxHash: looked up for every value a write sets).
    index: FxMap<String, usize>,
}

impl Default for Schema {
    fn default() -> Self {
        Schema::new()
    }
}

/// Checks a custom key's name: `profile.` then a camelCase name of ASCII letters and digits
/// starting with a lower-case letter, at most 64 characters (R-SCH-1).
pub fn check_custom_key_name(key: &str) -> Result<&str> {
    let expected =
        "`profile.<camelCaseName>`: a lower-case letter, then letters and digits (at most 64)";
    let name = key.strip_prefix("profile.").ok_or_else(|| {
        Error::validation(
            Some(key),
            expected,
            "a custom data key must start with `profile.`",
        )
    })?;
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase());
    if !first_ok || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::validation(
            Some(key),
            expected,
            "not a valid camelCase key name",
        ));
    }
    // A system field's name under `profile.` would be one name for two fields wherever a
    // name is given without `profile.` (a new lead's or a boot's profile): `memberId` there
    // would write a lookalike instead of being refused (R-SCH-1/3).
    if let Some((field, _, _)) = system_field(name) {
        return Err(Error::validation(
            Some(key),
            "a name that is not a system field's: system fields are top-level, not under `profile.`",
            format!("`{field}` is a system field"),
        ));
    }
    Ok(name)
}

/// The system field named `name` (R-SCH-1), if any.
fn system_field(name: &str) -> Option<(&'static str, FieldType, bool)> {
    SYSTEM_FIELDS.into_iter().find(|(k, _, _)| *k == name)
}

/// The error for a key the schema does not hold, with [`unknown_key_hint`].
fn unknown_key(key: &str) -> Error {
    Error::not_found("data key", key, &unknown_key_hint(key))
}

/// What to do about a key the schema does not hold, for every place that names one (a
/// write, a schema command, an import mapping, a filter): a system field's name under
/// `profile.` is that system field, named without `profile.` (R-SCH-1); a name
/// `define_key` would take can be defined; any other name is no data key at all.
pub(crate) fn unknown_key_hint(key: &str) -> String {
    if let Some((field, _, editable)) = key.strip_prefix("profile.").and_then(system_field) {
        return if editable {
            format!("`{field}` is a system field, named without `profile.`: use `{field}`")
        } else if field == "memberId" {
            "`memberId` is a system field, named without `profile.`; it is set only by a member import or a login (R-IMP-19, R-CON-4)".to_string()
        } else {
            format!("`{field}` is a system field, named without `profile.`; it cannot be written")
        };
    }
    if check_custom_key_name(key).is_ok() {
        "define it first with define_key".to_string()
    } else {
        format!(
            "data keys are `profile.<camelCaseName>` or a system field ({})",
            SYSTEM_FIELDS.map(|(k, _, _)| k).join(", ")
        )
    }
}

impl Schema {
    /// A schema with the built-in profile keys and the system fields.
    pub fn new() -> Schema {
        let mut s = Schema {
            keys: Vec::new(),
            index: FxMap::default(),
        };
        for (k, t) in BUILTIN_PROFILE_KEYS {
            s.push(KeyDef {
                key: k.to_string(),
                field_type: t,
                archived: false,
                inbox_visible: true,
                system: false,
                builtin: true,
            });
        }
        for (k, t, _) in SYSTEM_FIELDS {
            s.push(KeyDef {
                key: k.to_string(),
                field_type: t,
                archived: false,
                inbox_visible: true,
                system: true,
                builtin: true,
            });
        }
        s
    }

    /// [`Schema::new`], built once and shared: the schema of every channel that has not
    /// stored one (no key defined yet), which each transaction of such a channel reads.
    pub(crate) fn shared_default() -> Arc<Schema> {
        static DEFAULT: std::sync::OnceLock<Arc<Schema>> = std::sync::OnceLock::new();
        Arc::clone(DEFAULT.get_or_init(|| Arc::new(Schema::new())))
    }

    /// Rebuilds a schema from keys in display order (as a store returns them).
    pub fn from_keys(keys: Vec<KeyDef>) -> Schema {
        let mut s = Schema {
            keys: Vec::new(),
            index: FxMap::default(),
        };
        for k in keys {
            s.push(k);
        }
        s
    }

    fn push(&mut self, def: KeyDef) {
        self.index.insert(def.key.clone(), self.keys.len());
        self.keys.push(def);
    }

    /// Whether any key is archived.
    pub fn has_archived(&self) -> bool {
        self.keys.iter().any(|k| k.archived)
    }

    /// Every key, in display order.
    pub fn keys(&self) -> &[KeyDef] {
        &self.keys
    }

    /// The key's definition, archived or not.
    pub fn get(&self, key: &str) -> Option<&KeyDef> {
        self.index.get(key).map(|&i| &self.keys[i])
    }

    /// The type of a profile value by its name under `profile.`.
    pub fn profile_type(&self, name: &str) -> Option<FieldType> {
        // Avoids allocating in the common case by probing with a formatted key only once.
        self.get(&format!("profile.{name}")).map(|d| d.field_type)
    }

    /// Defines a custom key (R-SCH-1/3). Returns `false` when the key already exists with
    /// the same type (nothing changes); another type is a `Conflict`.
    pub fn define(&mut self, key: &str, field_type: FieldType) -> Result<bool> {
        if let Some(existing) = self.get(key) {
            if existing.field_type == field_type {
                return Ok(false);
            }
            return Err(Error::conflict(format!(
                "data key `{key}` already exists with type {}; it cannot be redefined as {field_type}",
                existing.field_type
            )));
        }
        check_custom_key_name(key)?;
        self.push(KeyDef {
            key: key.to_string(),
            field_type,
            archived: false,
            inbox_visible: true,
            system: false,
            builtin: false,
        });
        Ok(true)
    }

    fn get_mut(&mut self, key: &str) -> Result<&mut KeyDef> {
        match self.index.get(key) {
            Some(&i) => Ok(&mut self.keys[i]),
            None => Err(unknown_key(key)),
        }
    }

    fn profile_key_mut(&mut self, key: &str, action: &str) -> Result<&mut KeyDef> {
        let def = self.get_mut(key)?;
        if def.system || def.builtin {
            return Err(Error::invalid_key(
                key,
                "a custom `profile.` key",
                format!("built-in keys and system fields cannot be {action}"),
            ));
        }
        Ok(def)
    }

    /// Archives a custom key (R-SCH-5): no longer collected, shown or filterable; values kept.
    pub fn archive(&mut self, key: &str) -> Result<()> {
        self.profile_key_mut(key, "archived")?.archived = true;
        Ok(())
    }

    /// Restores an archived key (R-SCH-5); its stored values come back.
    pub fn restore(&mut self, key: &str) -> Result<()> {
        self.profile_key_mut(key, "restored")?.archived = false;
        Ok(())
    }

    /// Shows or hides a key in the inbox (R-SCH-6).
    pub fn set_inbox_visible(&mut self, key: &str, visible: bool) -> Result<()> {
        self.get_mut(key)?.inbox_visible = visible;
        Ok(())
    }

    /// Moves the named keys to the front of the display order, in the order given; the
    /// others keep their relative order after them (R-SCH-4).
    pub fn reorder(&mut self, order: &[String]) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for k in order {
            if self.get(k).is_none() {
                return Err(Error::not_found(
                    "data key",
                    k,
                    "reorder_keys takes keys of the schema",
                ));
            }
            if !seen.insert(k.as_str()) {
                return Err(Error::invalid_key(
                    k.clone(),
                    "each key once",
                    "the key is named twice in the new order",
                ));
            }
        }
        let mut keys: Vec<KeyDef> = order
            .iter()
            .map(|k| self.get(k).cloned().expect("checked above"))
            .collect();
        keys.extend(
            self.keys
                .iter()
                .filter(|d| !seen.contains(d.key.as_str()))
                .cloned(),
        );
        *self = Schema::from_keys(keys);
        Ok(())
    }

    /// The key as a manager or import may write it (R-SCH-3, R-SCH-5): it exists (else
    /// `NotFound`: an unknown key named outside a filter or mapping, API.md), is not
    /// archived and is editable (else `Validation`).
    pub fn writable(&self, key: &str) -> Result<&KeyDef> {
        let def = self.get(key).ok_or_else(|| unknown_key(key))?;
        if def.archived {
            return Err(Error::invalid_key(
                key,
                "a key that is not archived (restore it first)",
                "the key is archived and no longer collected",
            ));
        }
        if !def.editable() {
            return Err(Error::invalid_key(
                key,
                "an editable key",
                "this system field cannot be written by a manager or an import",
            ));
        }
        Ok(def)
    }

    /// The editable columns in the import layout (R-EXP-2): `memberId`, `profile.email`,
    /// `profile.mobileNumber`, the other editable unarchived profile keys in display order,
    /// `tags`, `unsubscribeEmail`, `unsubscribeTexting`.
    pub fn import_layout(&self) -> Vec<String> {
        let mut out = vec![
            "memberId".to_string(),
            "profile.email".to_string(),
            "profile.mobileNumber".to_string(),
        ];
        for d in &self.keys {
            if !d.system
                && !d.archived
                && d.key != "profile.email"
                && d.key != "profile.mobileNumber"
            {
                out.push(d.key.clone());
            }
        }
        out.extend(
            ["tags", "unsubscribeEmail", "unsubscribeTexting"]
                .iter()
                .map(|s| s.to_string()),
        );
        out
    }
}

/// Checks the profile-wide limits of R-SCH-7: at most 256 keys and at most 15,360 bytes of
/// compact JSON (keys sorted, non-ASCII unescaped, archived values included). `profile` is
/// keyed by the name under `profile.`.
pub fn check_profile_limits(profile: &BTreeMap<String, Value>) -> Result<()> {
    if profile.len() > MAX_PROFILE_KEYS {
        return Err(Error::Validation {
            key: Some("profile".into()),
            text: None,
            expected: format!("at most {MAX_PROFILE_KEYS} keys on one profile"),
            message: format!("the profile would hold {} keys", profile.len()),
        });
    }
    if profile_json_size_bound(profile) <= MAX_PROFILE_BYTES {
        return Ok(());
    }
    let size = profile_json_size(profile);
    if size > MAX_PROFILE_BYTES {
        return Err(Error::Validation {
            key: Some("profile".into()),
            text: None,
            expected: format!("a profile of at most {MAX_PROFILE_BYTES} bytes (15 KB)"),
            message: format!("the profile would take {size} bytes"),
        });
    }
    Ok(())
}

/// An upper bound of [`profile_json_size`] computed without building any JSON: a string
/// takes at most 6 bytes per byte (`\u00XX` escapes) plus its quotes, a number at most 32
/// bytes, a date or datetime at most 40. Writes that are far below the limit — nearly all —
/// skip the exact measure.
fn profile_json_size_bound(profile: &BTreeMap<String, Value>) -> usize {
    let text = |s: &str| 6 * s.len() + 2;
    let mut n = 2 + profile.len();
    for (k, v) in profile {
        n += text(k) + 1;
        n += match v {
            Value::String(s) | Value::Phone(s) | Value::Email(s) => text(s),
            Value::Number(_) => 32,
            Value::Boolean(_) => 5,
            Value::Date(_) | Value::Datetime(_) => 40,
            Value::List(items) | Value::Tag(items) => {
                2 + items.iter().map(|s| text(s) + 1).sum::<usize>()
            }
            Value::ListOfNumber(ns) => 2 + 33 * ns.len(),
        };
        if n > MAX_PROFILE_BYTES {
            return n;
        }
    }
    n
}

/// The size in bytes of the compact JSON of a profile (R-SCH-7's measure).
pub fn profile_json_size(profile: &BTreeMap<String, Value>) -> usize {
    let map: serde_json::Map<String, serde_json::Value> = profile
        .iter()
        .map(|(k, v)| (k.clone(), v.to_json()))
        .collect();
    serde_json::to_vec(&serde_json::Value::Object(map))
        .map(|v| v.len())
        .unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema of a channel with no key defined is built once, and is the built-in one.
    #[test]
    fn r_sch_1_the_shared_default_schema_is_the_built_in_one() {
        let (a, b) = (Schema::shared_default(), Schema::shared_default());
        assert!(Arc::ptr_eq(&a, &b));
        let keys = |s: &Schema| {
            s.keys
                .iter()
                .map(|d| (d.key.clone(), d.field_type))
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(&a), keys(&Schema::new()));
        assert!(a.get("profile.email").is_some() && a.get("memberId").is_some());
    }

    #[test]
    fn r_sch_7_size_bound_is_an_upper_bound() {
        let mut p = BTreeMap::new();
        p.insert(
            "name".to_string(),
            Value::String("Kim \"q\" \u{1}é한".into()),
        );
        p.insert("n".to_string(), Value::Number(-1.2345678901234567e-300));
        p.insert(
            "l".to_string(),
            Value::List(vec!["a\\".into(), "\n".into()]),
        );
        p.insert("ln".to_string(), Value::ListOfNumber(vec![1e300, -0.1]));
        p.insert(
            "d".to_string(),
            Value::Datetime(chrono::DateTime::<chrono::Utc>::MIN_UTC),
        );
        p.insert("b".to_string(), Value::Boolean(false));
        assert!(profile_json_size_bound(&p) >= profile_json_size(&p));
    }

    #[test]
    fn r_sch_1_builtins_and_system_fields() {
        let s = Schema::new();
        assert_eq!(s.get("profile.email").unwrap().field_type, FieldType::Email);
        assert_eq!(s.get("sessionCount").unwrap().field_type, FieldType::Number);
        assert_eq!(s.get("tags").unwrap().field_type, FieldType::Tag);
        assert_eq!(s.get("userImportTags").unwrap().field_type, FieldType::List);
        assert!(s.get("profile.city").is_none());
    }

    #[test]
    fn r_sch_1_custom_key_names() {
        let mut s = Schema::new();
        assert!(s
            .define("profile.lastOrderAt", FieldType::Datetime)
            .unwrap());
        for bad in [
            "city",
            "profile.",
            "profile.City",
            "profile.my-key",
            "profile.a b",
            "profile.ä",
        ] {
            let e = s.define(bad, FieldType::String).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Validation, "{bad}");
        }
    }

    #[test]
    fn unknown_keys_get_a_hint_the_caller_can_follow() {
        let mut s = Schema::new();
        let hint = |e: Error| match e {
            Error::NotFound { hint, .. } => hint,
            other => panic!("{other:?}"),
        };
        let h = hint(s.writable("profile.city").unwrap_err());
        assert_eq!(h, "define it first with define_key");
        // `define_key` would refuse these names: the hint names what a data key is.
        for key in ["hidden", "nonsense", "profile.Bad-name"] {
            let h = hint(s.writable(key).unwrap_err());
            assert!(
                h.starts_with("data keys are `profile.<camelCaseName>`"),
                "{key}: {h}"
            );
            assert!(h.contains("unsubscribeEmail"), "{h}");
            let h = hint(s.archive(key).unwrap_err());
            assert!(!h.contains("define_key"), "{key}: {h}");
        }
    }

    #[test]
    fn r_sch_3_redefine_same_type_is_noop_other_type_conflict() {
        let mut s = Schema::new();
        assert!(s.define("profile.city", FieldType::String).unwrap());
        assert!(!s.define("profile.city", FieldType::String).unwrap());
        let e = s.define("profile.city", FieldType::Number).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Conflict);
        let e = s.define("profile.email", FieldType::String).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Conflict);
    }

    #[test]
    fn r_sch_3_non_editable_system_fields() {
        let s = Schema::new();
        for k in [
            "id",
            "createdAt",
            "updatedAt",
            "lastSeenAt",
            "sessionCount",
            "blocked",
            "member",
            "userImportTags",
            "memberId",
        ] {
            let e = s.writable(k).unwrap_err();
            assert_eq!(e.key(), Some(k));
        }
        for k in ["tags", "unsubscribeEmail", "profile.name"] {
            assert!(s.writable(k).is_ok(), "{k}");
        }
    }

    #[test]
    fn r_sch_4_reorder() {
        let mut s = Schema::new();
        s.define("profile.city", FieldType::String).unwrap();
        s.reorder(&["profile.city".into(), "profile.name".into()])
            .unwrap();
        let keys: Vec<_> = s.keys().iter().map(|k| k.key.as_str()).collect();
        assert_eq!(
            &keys[..3],
            &["profile.city", "profile.name", "profile.email"]
        );
        assert!(s.reorder(&["profile.nope".into()]).is_err());
        assert!(s
            .reorder(&["profile.city".into(), "profile.city".into()])
            .is_err());
    }

    #[test]
    fn r_sch_5_archive_restore() {
        let mut s = Schema::new();
        s.define("profile.city", FieldType::String).unwrap();
        s.archive("profile.city").unwrap();
        assert!(s.writable("profile.city").is_err());
        assert!(!s.import_layout().contains(&"profile.city".to_string()));
        s.restore("profile.city").unwrap();
        assert!(s.writable("profile.city").is_ok());
        assert!(s.archive("profile.email").is_err());
        assert_eq!(
            s.archive("profile.nope").unwrap_err().kind(),
            crate::ErrorKind::NotFound
        );
    }

    #[test]
    fn r_sch_6_inbox_visibility_is_not_archiving() {
        let mut s = Schema::new();
        s.define("profile.city", FieldType::String).unwrap();
        s.set_inbox_visible("profile.city", false).unwrap();
        let d = s.get("profile.city").unwrap();
        assert!(!d.inbox_visible && !d.archived);
        assert!(s.writable("profile.city").is_ok());
    }

    #[test]
    fn r_exp_2_import_layout() {
        let mut s = Schema::new();
        s.define("profile.city", FieldType::String).unwrap();
        assert_eq!(
            s.import_layout(),
            vec![
                "memberId",
                "profile.email",
                "profile.mobileNumber",
                "profile.name",
                "profile.landlineNumber",
                "profile.city",
                "tags",
                "unsubscribeEmail",
                "unsubscribeTexting"
            ]
        );
    }

    #[test]
    fn r_sch_7_profile_limits_at_the_boundary() {
        let mut p = BTreeMap::new();
        for i in 0..MAX_PROFILE_KEYS {
            p.insert(format!("k{i}"), Value::Boolean(true));
        }
        assert!(check_profile_limits(&p).is_ok());
        p.insert("one".into(), Value::Boolean(true));
        let e = check_profile_limits(&p).unwrap_err();
        assert!(e.to_string().contains("256"), "{e}");

        // {"a":"xxx..."} = 8 bytes of framing + n
        let mut p = BTreeMap::new();
        p.insert("a".into(), Value::String("x".repeat(MAX_PROFILE_BYTES - 8)));
        assert_eq!(profile_json_size(&p), MAX_PROFILE_BYTES);
        assert!(check_profile_limits(&p).is_ok());
        p.insert("a".into(), Value::String("x".repeat(MAX_PROFILE_BYTES - 7)));
        let e = check_profile_limits(&p).unwrap_err();
        assert!(e.to_string().contains("15360"), "{e}");
    }
}
