//! Managers, permissions and the activity log (R-EXP-5).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A manager's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    /// May do everything, and is the only role that exports contacts.
    Owner,
    /// May do what its permissions allow.
    Member,
}

/// A permission a member-role manager may hold (R-EXP-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Permission {
    /// Import, edit, verify, merge, block and tag contacts.
    EditContacts,
    /// Delete contacts.
    DeleteContacts,
    /// Export chat data.
    DownloadData,
    /// Owner-only actions: exporting contacts, channel settings (never granted to a member-role manager).
    Owner,
}

impl Permission {
    /// The permission's name as in API.md (`editContacts`).
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::EditContacts => "editContacts",
            Permission::DeleteContacts => "deleteContacts",
            Permission::DownloadData => "downloadData",
            Permission::Owner => "owner",
        }
    }
}

/// A staff member acting on contacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manager {
    /// The manager's id.
    pub id: String,
    /// Owner or member.
    pub role: Role,
    /// Permissions of a member-role manager.
    #[serde(default, deserialize_with = "crate::value::null_as_default")]
    pub permissions: Vec<Permission>,
}

impl Manager {
    /// An owner, who may do everything.
    pub fn owner(id: impl Into<String>) -> Manager {
        Manager {
            id: id.into(),
            role: Role::Owner,
            permissions: Vec::new(),
        }
    }

    /// A member-role manager with the given permissions.
    pub fn member(id: impl Into<String>, permissions: &[Permission]) -> Manager {
        Manager {
            id: id.into(),
            role: Role::Member,
            permissions: permissions.to_vec(),
        }
    }

    /// Whether this manager holds `p`. Owners hold everything; exporting contacts is for
    /// owners only.
    pub fn may(&self, p: Permission) -> bool {
        match self.role {
            Role::Owner => true,
            Role::Member => p != Permission::Owner && self.permissions.contains(&p),
        }
    }
}

/// Checks that `manager` (None = the system, which may do everything) holds `p` for
/// `action`.
pub fn require(manager: Option<&Manager>, p: Permission, action: &str) -> Result<()> {
    match manager {
        None => Ok(()),
        Some(m) if m.may(p) => Ok(()),
        Some(m) => Err(Error::PermissionDenied {
            manager: m.id.clone(),
            action: action.to_string(),
            permission: p.as_str().to_string(),
        }),
    }
}

/// One entry of the activity log: who did what, when, to how many, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityEntry {
    /// When.
    #[serde(with = "crate::value::serde_datetime")]
    pub at: DateTime<Utc>,
    /// The acting manager's id; absent for the system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager_id: Option<String>,
    /// What (`delete`, `block`, `addTags`, `merge`, `import`, `export`, ...).
    pub action: String,
    /// How many contacts it touched.
    pub count: u64,
    /// The reason given, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Details, as a JSON object. A bulk action's: `ids` (the contacts changed), `failed`
    /// (how many failed) and `failedIds`, `filter` when its target was a filter, and its
    /// arguments (`tags`; `medium` and `value`). An import's: its report's counts, its
    /// kind and file name; an export's: its columns, layout, filter or number of chosen
    /// ids; a merge's: both ids.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub detail: serde_json::Value,
}

/// A query of the activity log: `{"since"?, "until"?, "action"?, "managerId"?, "limit"?}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActivityQuery {
    /// Entries at or after this time.
    #[serde(
        default,
        with = "crate::value::serde_datetime_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub since: Option<DateTime<Utc>>,
    /// Entries before this time.
    #[serde(
        default,
        with = "crate::value::serde_datetime_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub until: Option<DateTime<Utc>>,
    /// Only this action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Only this manager's entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager_id: Option<String>,
    /// At most this many entries (newest first).
    #[serde(
        default,
        deserialize_with = "crate::value::serde_count_opt::deserialize",
        skip_serializing_if = "Option::is_none"
    )]
    pub limit: Option<usize>,
}

impl ActivityQuery {
    /// Whether an entry passes the query's conditions (not the limit).
    pub fn matches(&self, e: &ActivityEntry) -> bool {
        self.since.is_none_or(|s| e.at >= s)
            && self.until.is_none_or(|u| e.at < u)
            && self.action.as_deref().is_none_or(|a| a == e.action)
            && self
                .manager_id
                .as_deref()
                .is_none_or(|m| Some(m) == e.manager_id.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_exp_5_owner_may_everything_member_needs_permission() {
        let o = Manager::owner("o");
        assert!(o.may(Permission::Owner) && o.may(Permission::DeleteContacts));
        let m = Manager::member("m", &[Permission::EditContacts, Permission::Owner]);
        assert!(m.may(Permission::EditContacts));
        assert!(!m.may(Permission::DeleteContacts));
        assert!(!m.may(Permission::Owner), "only owners export contacts");
        let e = require(Some(&m), Permission::DeleteContacts, "delete contacts").unwrap_err();
        assert!(e.to_string().contains("deleteContacts"), "{e}");
        assert!(require(None, Permission::DeleteContacts, "x").is_ok());
    }
}
