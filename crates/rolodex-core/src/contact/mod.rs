//! The contact record and its JSON form (FILTER.md "Contact JSON").

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::value::Value;

mod profile;
pub(crate) use profile::EncodedProfile;
pub use profile::Profile;

/// Per-field verification flags of contact info (R-CON-2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verified {
    /// `profile.email` is verified.
    pub email: bool,
    /// `profile.mobileNumber` is verified.
    pub mobile_number: bool,
}

/// One contact of a channel.
///
/// `profile` is keyed by the name under `profile.` (`"email"`, `"city"`). Values of
/// archived keys stay in `profile` (R-SCH-5); the book leaves them out of what it shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    /// Unique, opaque, sorts in creation order (R-SCH-1). Ids are not dense: a write that
    /// fails after taking one (an import row that breaks a limit when it unifies) leaves
    /// its number unused, as a database sequence does; a dry run takes none.
    pub id: String,
    /// The site account id of a member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    /// Whether this contact is a member (has a `memberId`).
    #[serde(default)]
    pub member: bool,
    /// Profile values by name under `profile.`.
    #[serde(default, deserialize_with = "deserialize_profile")]
    pub profile: Profile,
    /// Hierarchical tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Import tags, oldest first, at most 30 (R-IMP-9).
    #[serde(default)]
    pub user_import_tags: Vec<String>,
    /// Verification of email and mobile number (R-CON-2).
    #[serde(default)]
    pub verified: Verified,
    /// Opted out of email; absent until set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe_email: Option<bool>,
    /// Opted out of texting; absent until set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsubscribe_texting: Option<bool>,
    /// Blocked (R-CON-6).
    #[serde(default)]
    pub blocked: bool,
    /// Hidden by the MU limit (R-MU-2).
    #[serde(default)]
    pub hidden: bool,
    /// Whether the contact has ever booted (R-CON-3).
    #[serde(default)]
    pub booted: bool,
    /// Creation time.
    #[serde(with = "crate::value::serde_datetime")]
    pub created_at: DateTime<Utc>,
    /// Last write time.
    #[serde(with = "crate::value::serde_datetime")]
    pub updated_at: DateTime<Utc>,
    /// Last visit (or creation by a manager) time.
    #[serde(with = "crate::value::serde_datetime")]
    pub last_seen_at: DateTime<Utc>,
    /// Number of sessions (R-CON-3).
    #[serde(default)]
    pub session_count: u64,
    /// The time of the last boot where it is not `lastSeenAt`: a merge gives the survivor
    /// the later `lastSeenAt` (R-CON-8), which may come from a contact that never booted,
    /// and the session window of R-CON-3 counts from the previous boot. Absent otherwise.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::value::serde_datetime_opt"
    )]
    pub last_boot_at: Option<DateTime<Utc>>,
}

/// Reads a contact's profile from its JSON: the built-in keys by their fixed types
/// (`email`, `mobileNumber`, `landlineNumber`, `name`), so a contact read back from its
/// JSON is the same contact (API.md); any other key's type is inferred from the JSON
/// ([`Value`]'s `Deserialize`), as no schema is at hand.
fn deserialize_profile<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Profile, D::Error> {
    use serde::de::Error as _;
    use serde::Deserialize as _;
    let raw = BTreeMap::<String, serde_json::Value>::deserialize(d)?;
    let mut out = BTreeMap::new();
    for (name, j) in raw {
        let builtin = crate::schema::BUILTIN_PROFILE_KEYS
            .iter()
            .find(|(k, _)| k.strip_prefix("profile.") == Some(name.as_str()));
        let bad = |e: &dyn std::fmt::Display| D::Error::custom(format!("profile.{name}: {e}"));
        let v = match builtin {
            Some((_, ft)) => Value::from_json(*ft, &j).map_err(|e| bad(&e))?,
            None => Value::deserialize(j).map_err(|e| bad(&e))?,
        };
        out.insert(name, v);
    }
    Ok(Profile::from(out))
}

impl Contact {
    /// A new, empty contact with the given id, created at `now`.
    pub fn new(id: String, now: DateTime<Utc>) -> Contact {
        Contact {
            id,
            member_id: None,
            member: false,
            profile: Profile::default(),
            tags: Vec::new(),
            user_import_tags: Vec::new(),
            verified: Verified::default(),
            unsubscribe_email: None,
            unsubscribe_texting: None,
            blocked: false,
            hidden: false,
            booted: false,
            created_at: now,
            updated_at: now,
            last_seen_at: now,
            session_count: 0,
            last_boot_at: None,
        }
    }

    /// The stored email, if any.
    pub fn email(&self) -> Option<&str> {
        match self.profile.get("email") {
            Some(Value::Email(e)) => Some(e),
            _ => None,
        }
    }

    /// The stored mobile number (E.164), if any.
    pub fn mobile_number(&self) -> Option<&str> {
        match self.profile.get("mobileNumber") {
            Some(Value::Phone(p)) => Some(p),
            _ => None,
        }
    }

    /// The name, if any.
    pub fn name(&self) -> Option<&str> {
        match self.profile.get("name") {
            Some(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// Display name: name, else mobile number, else email (R-CON-10).
    pub fn display_name(&self) -> Option<&str> {
        self.name()
            .or_else(|| self.mobile_number())
            .or_else(|| self.email())
    }

    /// Whether the contact counts toward MU when visible and unblocked (R-MU-1): it has a
    /// `memberId`, an email or a mobile number.
    pub fn has_contact_info(&self) -> bool {
        self.member_id.is_some() || self.email().is_some() || self.mobile_number().is_some()
    }

    /// Whether the contact counts toward MU now (R-MU-1).
    pub fn counts_for_mu(&self) -> bool {
        self.has_contact_info() && !self.blocked && !self.hidden
    }

    /// The contact's JSON (FILTER.md), as a `serde_json::Value`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// The part of a contact that visits and MU events change, and that the MU ledgers order
/// by: a boot or a hide/un-hide writes only this ([`crate::store::Op::Touch`]), so the
/// store need not rebuild the whole contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactState {
    /// The contact's id.
    pub id: String,
    /// Blocked (R-CON-6); read-only here.
    pub blocked: bool,
    /// Hidden by the MU limit (R-MU-2).
    pub hidden: bool,
    /// Whether the contact has ever booted (R-CON-3).
    pub booted: bool,
    /// Whether it has a `memberId`, an email or a mobile number (R-MU-1); read-only here.
    pub has_contact_info: bool,
    /// Creation time; read-only here.
    pub created_at: DateTime<Utc>,
    /// Last write time.
    pub updated_at: DateTime<Utc>,
    /// Last visit time.
    pub last_seen_at: DateTime<Utc>,
    /// Number of sessions (R-CON-3).
    pub session_count: u64,
    /// [`Contact::last_boot_at`].
    pub last_boot_at: Option<DateTime<Utc>>,
}

impl ContactState {
    /// The state of a contact.
    pub fn of(c: &Contact) -> ContactState {
        ContactState {
            id: c.id.clone(),
            blocked: c.blocked,
            hidden: c.hidden,
            booted: c.booted,
            has_contact_info: c.has_contact_info(),
            created_at: c.created_at,
            updated_at: c.updated_at,
            last_seen_at: c.last_seen_at,
            session_count: c.session_count,
            last_boot_at: c.last_boot_at,
        }
    }

    /// Writes the changeable part (hidden, booted, updatedAt, lastSeenAt, sessionCount, the
    /// last boot) into a contact.
    pub fn apply_to(&self, c: &mut Contact) {
        c.hidden = self.hidden;
        c.booted = self.booted;
        c.updated_at = self.updated_at;
        c.last_seen_at = self.last_seen_at;
        c.session_count = self.session_count;
        c.last_boot_at = self.last_boot_at;
    }

    /// Whether the contact counts toward MU now (R-MU-1).
    pub fn counts_for_mu(&self) -> bool {
        self.has_contact_info && !self.blocked && !self.hidden
    }

    /// The MU ledger order: (`lastSeenAt`, `createdAt`, id).
    pub fn ledger_key(&self) -> (DateTime<Utc>, DateTime<Utc>, &str) {
        (self.last_seen_at, self.created_at, &self.id)
    }
}

/// A lead added by hand (API.md "New lead"): at least one of email and mobile number.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewLead {
    /// The email, parsed by R-VAL-3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The mobile number, parsed by R-VAL-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_number: Option<String>,
    /// The name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Other profile values by name (`"city"` or `"profile.city"`): native JSON of the key's
    /// type, or text parsed by R-VAL.
    #[serde(
        default,
        deserialize_with = "crate::value::null_as_default",
        skip_serializing_if = "serde_json::Map::is_empty"
    )]
    pub profile: serde_json::Map<String, serde_json::Value>,
    /// Tags (R-VAL-8).
    #[serde(
        default,
        deserialize_with = "crate::value::null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tags: Vec<String>,
}

impl NewLead {
    /// A lead with this email.
    pub fn email(email: impl Into<String>) -> NewLead {
        NewLead {
            email: Some(email.into()),
            ..NewLead::default()
        }
    }

    /// A lead with this mobile number.
    pub fn mobile(number: impl Into<String>) -> NewLead {
        NewLead {
            mobile_number: Some(number.into()),
            ..NewLead::default()
        }
    }

    /// Sets the name.
    pub fn with_name(mut self, name: impl Into<String>) -> NewLead {
        self.name = Some(name.into());
        self
    }

    /// Sets the mobile number (a lead may have both an email and a mobile number).
    pub fn with_mobile(mut self, number: impl Into<String>) -> NewLead {
        self.mobile_number = Some(number.into());
        self
    }

    /// Sets a profile value by name (`"city"` or `"profile.city"`): native JSON of the
    /// key's type, or text parsed by R-VAL.
    ///
    /// ```
    /// use rolodex_core::{ContactBook, FieldType, NewLead};
    /// let book = ContactBook::in_memory();
    /// book.define_key("profile.city", FieldType::String)?;
    /// book.define_key("profile.spent", FieldType::Number)?;
    /// let lead = NewLead::email("kim@example.com")
    ///     .with_profile("city", "Seoul")
    ///     .with_profile("spent", 12.5)
    ///     .with_tags(["vip"]);
    /// let c = book.add_lead(lead)?;
    /// assert_eq!(c.profile.get("city").and_then(|v| v.as_str()), Some("Seoul"));
    /// assert_eq!(c.profile.get("spent").and_then(|v| v.as_f64()), Some(12.5));
    /// assert_eq!(c.tags, ["vip"]);
    /// # Ok::<(), rolodex_core::Error>(())
    /// ```
    pub fn with_profile(
        mut self,
        key: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> NewLead {
        self.profile.insert(key.into(), value.into());
        self
    }

    /// Adds tags (R-VAL-8).
    pub fn with_tags<T: Into<String>>(mut self, tags: impl IntoIterator<Item = T>) -> NewLead {
        self.tags.extend(tags.into_iter().map(Into::into));
        self
    }
}

/// A visit of a contact's browser or app (API.md "Boot"). With `member_id` it is a login.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Boot {
    /// The contact the browser knows itself as, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<String>,
    /// The site account id: makes the boot a login (R-CON-4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    /// Profile values from the site; contact info given here is unverified (R-CON-2).
    #[serde(
        default,
        deserialize_with = "crate::value::null_as_default",
        skip_serializing_if = "serde_json::Map::is_empty"
    )]
    pub profile: serde_json::Map<String, serde_json::Value>,
}

impl Boot {
    /// An anonymous visit: creates a visitor (R-CON-3).
    pub fn anonymous() -> Boot {
        Boot::default()
    }

    /// A visit of the contact the browser knows itself as.
    pub fn visit(contact_id: impl Into<String>) -> Boot {
        Boot {
            contact_id: Some(contact_id.into()),
            ..Boot::default()
        }
    }

    /// A login by the site account id `member_id` (R-CON-4); add the browser's contact
    /// with [`Boot::from_contact`].
    ///
    /// ```
    /// use rolodex_core::{Boot, ContactBook};
    /// let book = ContactBook::in_memory();
    /// let visitor = book.boot(Boot::anonymous())?;
    /// let member = book.boot(Boot::login("m-1").from_contact(&visitor.id))?;
    /// assert_eq!(member.id, visitor.id);
    /// assert_eq!(member.member_id.as_deref(), Some("m-1"));
    /// # Ok::<(), rolodex_core::Error>(())
    /// ```
    pub fn login(member_id: impl Into<String>) -> Boot {
        Boot {
            member_id: Some(member_id.into()),
            ..Boot::default()
        }
    }

    /// Names the contact the browser knows itself as.
    pub fn from_contact(mut self, contact_id: impl Into<String>) -> Boot {
        self.contact_id = Some(contact_id.into());
        self
    }

    /// Sets a profile value the site sends (unverified contact info, R-CON-2).
    pub fn with_profile(
        mut self,
        key: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> Boot {
        self.profile.insert(key.into(), value.into());
        self
    }
}

/// A medium of marketing messages, for opt-outs and audiences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Medium {
    /// Email; opt-out field `unsubscribeEmail`.
    Email,
    /// Texting; opt-out field `unsubscribeTexting`.
    Texting,
}

/// The result of a bulk action (R-CON-7): `{"done": N, "failed": [{"id", "reason"}]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BulkResult {
    /// Contacts changed.
    pub done: u64,
    /// Contacts not changed, with reasons.
    pub failed: Vec<BulkFailure>,
}

/// One contact a bulk action could not change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkFailure {
    /// The contact's id.
    pub id: String,
    /// Why.
    pub reason: String,
}
pub(crate) mod ops;

/// Every two-digit number, written out, so that ids are written without the formatting
/// machinery (a boot and an add lead each write one).
const DIGIT_PAIRS: &str = concat!(
    "00010203040506070809",
    "10111213141516171819",
    "20212223242526272829",
    "30313233343536373839",
    "40414243444546474849",
    "50515253545556575859",
    "60616263646566676869",
    "70717273747576777879",
    "80818283848586878889",
    "90919293949596979899",
);

/// The contact id of sequence number `n`: `c_` and the number zero-padded to 12 digits, so
/// that ids sort in creation order (R-SCH-1); a number past 12 digits is written whole.
pub(crate) fn sequence_id(n: u64) -> String {
    if n >= 1_000_000_000_000 {
        return format!("c_{n:012}");
    }
    let mut pairs = [0usize; 6];
    let mut rest = n;
    for p in pairs.iter_mut().rev() {
        *p = (rest % 100) as usize * 2;
        rest /= 100;
    }
    let mut s = String::with_capacity(14);
    s.push_str("c_");
    for p in pairs {
        s.push_str(DIGIT_PAIRS.get(p..p + 2).unwrap_or("00"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::sequence_id;

    #[test]
    fn sequence_ids_are_zero_padded_and_sort_in_creation_order() {
        assert_eq!(sequence_id(0), "c_000000000000");
        assert_eq!(sequence_id(7), "c_000000000007");
        assert_eq!(sequence_id(1_020_304), "c_000001020304");
        assert_eq!(sequence_id(999_999_999_999), "c_999999999999");
        // Past 12 digits the number is written whole, never cut.
        assert_eq!(sequence_id(1_000_000_000_000), "c_1000000000000");
        for n in [0u64, 9, 10, 99, 100, 123_456_789, 999_999_999_998] {
            assert_eq!(sequence_id(n), format!("c_{n:012}"));
            assert!(sequence_id(n) < sequence_id(n + 1));
        }
    }
}
