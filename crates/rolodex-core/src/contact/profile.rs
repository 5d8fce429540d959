//! A contact's profile values, which a store may hand over still encoded: they are decoded
//! on the first read, so an operation whose caller never looks at the profile (a boot that
//! only wants the contact's id and `hidden`, say) does not pay for building the map.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::value::Value;

/// Profile values as a store keeps them, to be decoded into a map when first read. Each
/// store decides its own encoding; the memory store hands over a copy of a row's bytes.
pub(crate) trait EncodedProfile: Send + Sync + fmt::Debug {
    /// The values by name under `profile.`.
    fn decode(&self) -> BTreeMap<String, Value>;
    /// A copy, for [`Profile`]'s `Clone`.
    fn clone_box(&self) -> Box<dyn EncodedProfile>;
}

/// A contact's profile values by name under `profile.` (`"email"`, `"city"`).
///
/// It reads as a `BTreeMap<String, Value>` (it dereferences to one) and converts from
/// one, so `contact.profile.get("city")`, `contact.profile.insert(…)` and iteration work
/// as on a map. A contact read from a store may carry its profile still encoded: the map is
/// built on the first read, once, and a write through `&mut` keeps the built map.
///
/// ```
/// use rolodex_core::{Profile, Value};
/// let mut p = Profile::default();
/// p.insert("city".into(), Value::String("Seoul".into()));
/// assert_eq!(p.get("city"), Some(&Value::String("Seoul".into())));
/// assert_eq!(p.len(), 1);
/// ```
#[derive(Default)]
pub struct Profile {
    map: OnceLock<BTreeMap<String, Value>>,
    /// Present until the map is built from it.
    encoded: Option<Box<dyn EncodedProfile>>,
}

impl Profile {
    /// A profile to be decoded from `encoded` when first read.
    pub(crate) fn encoded(encoded: Box<dyn EncodedProfile>) -> Profile {
        Profile {
            map: OnceLock::new(),
            encoded: Some(encoded),
        }
    }

    /// The values as a map, built now if they were still encoded.
    pub fn as_map(&self) -> &BTreeMap<String, Value> {
        self.map.get_or_init(|| match &self.encoded {
            Some(e) => e.decode(),
            None => BTreeMap::new(),
        })
    }

    /// The values as a map to change in place.
    pub fn as_map_mut(&mut self) -> &mut BTreeMap<String, Value> {
        self.as_map();
        self.encoded = None;
        // Just built above.
        self.map.get_mut().expect("the profile map is built")
    }

    /// The values as an owned map.
    pub fn into_map(mut self) -> BTreeMap<String, Value> {
        self.as_map();
        self.map.take().unwrap_or_default()
    }
}

impl Deref for Profile {
    type Target = BTreeMap<String, Value>;
    fn deref(&self) -> &BTreeMap<String, Value> {
        self.as_map()
    }
}

impl DerefMut for Profile {
    fn deref_mut(&mut self) -> &mut BTreeMap<String, Value> {
        self.as_map_mut()
    }
}

impl Clone for Profile {
    fn clone(&self) -> Profile {
        match (self.map.get(), &self.encoded) {
            (None, Some(e)) => Profile::encoded(e.clone_box()),
            _ => Profile::from(self.as_map().clone()),
        }
    }
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_map().fmt(f)
    }
}

impl PartialEq for Profile {
    fn eq(&self, other: &Profile) -> bool {
        self.as_map() == other.as_map()
    }
}

impl PartialEq<BTreeMap<String, Value>> for Profile {
    fn eq(&self, other: &BTreeMap<String, Value>) -> bool {
        self.as_map() == other
    }
}

impl From<BTreeMap<String, Value>> for Profile {
    fn from(map: BTreeMap<String, Value>) -> Profile {
        Profile {
            map: OnceLock::from(map),
            encoded: None,
        }
    }
}

impl From<Profile> for BTreeMap<String, Value> {
    fn from(p: Profile) -> BTreeMap<String, Value> {
        p.into_map()
    }
}

impl FromIterator<(String, Value)> for Profile {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Profile {
        Profile::from(BTreeMap::from_iter(iter))
    }
}

impl Extend<(String, Value)> for Profile {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, iter: I) {
        self.as_map_mut().extend(iter);
    }
}

impl IntoIterator for Profile {
    type Item = (String, Value);
    type IntoIter = std::collections::btree_map::IntoIter<String, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.into_map().into_iter()
    }
}

impl<'a> IntoIterator for &'a Profile {
    type Item = (&'a String, &'a Value);
    type IntoIter = std::collections::btree_map::Iter<'a, String, Value>;
    fn into_iter(self) -> Self::IntoIter {
        self.as_map().iter()
    }
}

impl Serialize for Profile {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.as_map().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Profile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Profile, D::Error> {
        BTreeMap::<String, Value>::deserialize(d).map(Profile::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Counted(std::sync::Arc<std::sync::atomic::AtomicUsize>);

    impl EncodedProfile for Counted {
        fn decode(&self) -> BTreeMap<String, Value> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            BTreeMap::from([("city".to_string(), Value::String("Seoul".into()))])
        }
        fn clone_box(&self) -> Box<dyn EncodedProfile> {
            Box::new(Counted(self.0.clone()))
        }
    }

    #[test]
    fn an_encoded_profile_is_decoded_once_on_first_read_and_edits_keep_the_map() {
        let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut p = Profile::encoded(Box::new(Counted(n.clone())));
        let copy = p.clone();
        assert_eq!(n.load(std::sync::atomic::Ordering::SeqCst), 0);
        assert_eq!(p.get("city"), Some(&Value::String("Seoul".into())));
        assert_eq!(p.len(), 1);
        assert_eq!(n.load(std::sync::atomic::Ordering::SeqCst), 1);
        p.insert("plan".into(), Value::String("pro".into()));
        assert_eq!(p.len(), 2);
        assert_eq!(n.load(std::sync::atomic::Ordering::SeqCst), 1);
        // The copy made before the read decodes on its own, to the values as they were.
        assert_eq!(copy.len(), 1);
        assert_eq!(n.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert_ne!(p, copy);
        assert_eq!(p.clone(), p);
        assert_eq!(serde_json::to_string(&copy).unwrap(), r#"{"city":"Seoul"}"#);
    }
}
