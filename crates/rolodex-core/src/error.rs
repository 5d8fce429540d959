//! The one error type of Rolodex, with the kinds listed in API.md.
//!
//! Every variant carries fields a program can act on, and its message says what was wrong
//! and what to do about it.

use chrono::{DateTime, Utc};

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The kind of an [`Error`], as named in every language binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A value breaks R-VAL or a limit of R-SCH-7, or an import mapping/option is invalid.
    Validation,
    /// R-CON-1 / R-MU-4: the contact info is already held by another contact.
    AlreadyExists,
    /// An unknown or deleted id, segment or key.
    NotFound,
    /// A filter that fails R-FLT-4.
    Filter,
    /// R-IMP-15: another import is running on the channel.
    ImportInProgress,
    /// R-EXP-5: the acting manager lacks a permission.
    PermissionDenied,
    /// A merge, unmerge or unification precondition does not hold.
    Conflict,
    /// R-EXP-4: an action was attempted before its interval elapsed.
    RateLimited,
    /// The storage backend failed; nothing was half-written.
    Storage,
}

impl ErrorKind {
    /// The kind's name as used in API.md and the conformance vectors (`"Validation"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Validation => "Validation",
            ErrorKind::AlreadyExists => "AlreadyExists",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::Filter => "Filter",
            ErrorKind::ImportInProgress => "ImportInProgress",
            ErrorKind::PermissionDenied => "PermissionDenied",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::RateLimited => "RateLimited",
            ErrorKind::Storage => "Storage",
        }
    }

    /// The kind's upper-snake code, as Node's `error.code` carries it (`"ALREADY_EXISTS"`).
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Validation => "VALIDATION",
            ErrorKind::AlreadyExists => "ALREADY_EXISTS",
            ErrorKind::NotFound => "NOT_FOUND",
            ErrorKind::Filter => "FILTER",
            ErrorKind::ImportInProgress => "IMPORT_IN_PROGRESS",
            ErrorKind::PermissionDenied => "PERMISSION_DENIED",
            ErrorKind::Conflict => "CONFLICT",
            ErrorKind::RateLimited => "RATE_LIMITED",
            ErrorKind::Storage => "STORAGE",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Cut `text` to at most 64 characters for an error message (R-VAL-9).
pub fn cut_text(text: &str) -> String {
    const MAX: usize = 64;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

/// The start of a validation message: what was invalid, as far as the error knows it. A
/// value is named as a value; a key alone (an option, a mapping) is named as itself; with
/// neither, the message says what was wrong by itself.
fn validation_head(key: &Option<String>, text: &Option<String>) -> String {
    match (key, text) {
        (Some(k), Some(t)) => format!("invalid value for `{k}` {t:?}: "),
        (Some(k), None) => format!("invalid `{k}`: "),
        (None, Some(t)) => format!("invalid value {t:?}: "),
        (None, None) => String::new(),
    }
}

/// Every failure Rolodex reports. Each variant maps one to one onto an [`ErrorKind`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value or option is invalid (R-VAL, R-SCH-7, R-IMP-3).
    #[error("{}{message}; expected {expected}", validation_head(key, text))]
    Validation {
        /// The data key at fault, when there is one.
        key: Option<String>,
        /// The offending text, cut to 64 characters.
        text: Option<String>,
        /// The format or limit that was expected.
        expected: String,
        /// What was wrong.
        message: String,
    },
    /// The contact info is already held (R-CON-1, R-MU-4).
    #[error("{field} {value:?} already belongs to contact {id}{}{}; update that contact instead of adding a new one",
        if *hidden { " (hidden by the MU limit)" } else { "" },
        if *blocked { " (blocked)" } else { "" })]
    AlreadyExists {
        /// The existing contact's id.
        id: String,
        /// Whether that contact is hidden by the MU limit.
        hidden: bool,
        /// Whether that contact is blocked.
        blocked: bool,
        /// The field that collided (`profile.email`, `profile.mobileNumber`, `memberId`).
        field: String,
        /// The colliding value.
        value: String,
    },
    /// Something named does not exist.
    #[error("{what} {name:?} was not found; {hint}")]
    NotFound {
        /// What kind of thing (`contact`, `segment`, `key`, `merge`).
        what: String,
        /// Its name or id.
        name: String,
        /// What to do instead.
        hint: String,
    },
    /// A filter fails R-FLT-4.
    #[error("invalid filter {}: {message}", filter_at(.path))]
    Filter {
        /// The JSON path of the bad condition (`and[1].or[0]`), empty for the root.
        path: String,
        /// What was wrong and what was expected.
        message: String,
    },
    /// Another import is running on this channel (R-IMP-15).
    #[error(
        "an import is already running on channel {channel:?}; wait for it to finish and try again"
    )]
    ImportInProgress {
        /// The channel.
        channel: String,
    },
    /// The acting manager lacks a permission (R-EXP-5).
    #[error("manager {manager:?} may not {action}: {}", denied_because(.permission))]
    PermissionDenied {
        /// The manager's id.
        manager: String,
        /// The action attempted.
        action: String,
        /// The missing permission (`editContacts`, `deleteContacts`, `downloadData`, `owner`).
        permission: String,
    },
    /// A precondition of merge, unmerge or unification does not hold.
    #[error("{message}")]
    Conflict {
        /// What does not hold and what to do.
        message: String,
    },
    /// An action was attempted before its interval elapsed (R-EXP-4).
    #[error("{action} is limited to once per interval; the next attempt is allowed at {retry_at}")]
    RateLimited {
        /// The action.
        action: String,
        /// When the next attempt is allowed.
        retry_at: DateTime<Utc>,
    },
    /// The storage backend failed; nothing was half-written.
    #[error("storage failed: {message}")]
    Storage {
        /// The backend's message.
        message: String,
    },
}

impl Error {
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Validation { .. } => ErrorKind::Validation,
            Error::AlreadyExists { .. } => ErrorKind::AlreadyExists,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Filter { .. } => ErrorKind::Filter,
            Error::ImportInProgress { .. } => ErrorKind::ImportInProgress,
            Error::PermissionDenied { .. } => ErrorKind::PermissionDenied,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::Storage { .. } => ErrorKind::Storage,
        }
    }

    /// A validation error without a key. `text` is cut to 64 characters.
    pub fn validation(
        text: Option<&str>,
        expected: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Validation {
            key: None,
            text: text.map(cut_text),
            expected: expected.into(),
            message: message.into(),
        }
    }

    /// A validation error about `key`.
    pub fn invalid_key(
        key: impl Into<String>,
        expected: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Validation {
            key: Some(key.into()),
            text: None,
            expected: expected.into(),
            message: message.into(),
        }
    }

    /// Sets the key of a validation error that has none; other errors pass through.
    pub fn with_key(self, k: &str) -> Self {
        match self {
            Error::Validation {
                key: None,
                text,
                expected,
                message,
            } => Error::Validation {
                key: Some(k.to_string()),
                text,
                expected,
                message,
            },
            other => other,
        }
    }

    /// A not-found error.
    pub fn not_found(what: &str, name: &str, hint: &str) -> Self {
        Error::NotFound {
            what: what.into(),
            name: name.into(),
            hint: hint.into(),
        }
    }

    /// A conflict error.
    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict {
            message: message.into(),
        }
    }

    /// A storage error.
    pub fn storage(message: impl std::fmt::Display) -> Self {
        Error::Storage {
            message: message.to_string(),
        }
    }

    /// The data key a validation error is about, or the unknown data key of a `NotFound`.
    pub fn key(&self) -> Option<&str> {
        match self {
            Error::Validation { key, .. } => key.as_deref(),
            Error::NotFound { what, name, .. } if what == "data key" => Some(name),
            _ => None,
        }
    }
}

/// Why a manager was denied: a missing permission an owner can grant, or the owner role,
/// which no permission grants (R-EXP-5).
fn denied_because(permission: &str) -> String {
    if permission == "owner" {
        "only an owner may do that, and a manager of the member role cannot be granted it; ask an owner to do it".to_string()
    } else {
        format!("the `{permission}` permission is missing; ask an owner to grant it")
    }
}

/// Where in a filter the fault is: its JSON path, or the top level.
fn filter_at(path: &str) -> String {
    if path.is_empty() {
        "at its top level".to_string()
    } else {
        format!("at `{path}`")
    }
}

/// An options document (`what`: "export options") read as JSON text.
pub(crate) fn options_json(what: &str, text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| Error::Validation {
        key: None,
        text: None,
        expected: format!("{what} in the JSON shape of API.md"),
        message: format!("{what} are not valid JSON: {e}"),
    })
}

/// An options document's object; anything else is a `Validation` error.
pub(crate) fn options_object<'a>(
    what: &str,
    v: &'a serde_json::Value,
) -> Result<&'a serde_json::Map<String, serde_json::Value>> {
    v.as_object().ok_or_else(|| Error::Validation {
        key: None,
        text: None,
        expected: format!("{what} in the JSON shape of API.md: a JSON object"),
        message: format!("{what} are a JSON object, not {}", json_kind(v)),
    })
}

/// Reads an options document in the shape of API.md: a JSON object whose bad field is a
/// `Validation` error with the field's path as its key.
pub(crate) fn options_from_value<T: serde::de::DeserializeOwned>(
    what: &str,
    v: &serde_json::Value,
) -> Result<T> {
    options_object(what, v)?;
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        Error::Validation {
            key: (path != ".").then_some(path),
            text: None,
            expected: format!("{what} in the JSON shape of API.md"),
            message: format!("{what}: {}", e.inner()),
        }
    })
}

/// What kind of JSON value `v` is, for messages ("a string", "an array").
pub(crate) fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_val_9_text_is_cut_to_64_chars() {
        let long = "é".repeat(100);
        let e = Error::validation(Some(&long), "a date", "bad");
        match e {
            Error::Validation { text: Some(t), .. } => {
                assert_eq!(t.chars().count(), 65); // 64 + ellipsis
            }
            _ => panic!("wrong variant"),
        }
    }

    #[test]
    fn messages_name_key_and_expected() {
        let e = Error::validation(Some("2025/05/04"), "YYYY-MM-DD", "not a date")
            .with_key("profile.joined");
        let m = e.to_string();
        assert!(m.contains("profile.joined"), "{m}");
        assert!(m.contains("2025/05/04"), "{m}");
        assert!(m.contains("YYYY-MM-DD"), "{m}");
        assert_eq!(e.kind().as_str(), "Validation");
        assert_eq!(e.kind().code(), "VALIDATION");
    }

    #[test]
    fn a_validation_message_names_what_it_knows_was_invalid() {
        let value = Error::validation(Some("x"), "a number", "not a number").with_key("profile.n");
        assert_eq!(
            value.to_string(),
            "invalid value for `profile.n` \"x\": not a number; expected a number"
        );
        let key = Error::invalid_key("reason", "a reason", "a protected export needs a reason");
        assert_eq!(
            key.to_string(),
            "invalid `reason`: a protected export needs a reason; expected a reason"
        );
        let text = Error::validation(Some("x"), "a number", "not a number");
        assert_eq!(
            text.to_string(),
            "invalid value \"x\": not a number; expected a number"
        );
        let neither = Error::validation(None, "an email or a mobile number", "a lead needs one");
        assert_eq!(
            neither.to_string(),
            "a lead needs one; expected an email or a mobile number"
        );
    }
}
