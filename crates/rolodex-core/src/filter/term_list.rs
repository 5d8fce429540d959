//! [`TermList`]: the `unmatchedTerms` of a [`Page`](super::Page).

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The texts of a multi-term search, packed into one buffer and shared between the
/// compiled query and every page it produces.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct TermTexts {
    buf: String,
    /// `buf[ends[i-1]..ends[i]]` is text `i`.
    ends: Vec<u32>,
}

impl TermTexts {
    pub(crate) fn push(&mut self, s: &str) {
        self.buf.push_str(s);
        self.ends.push(self.buf.len() as u32);
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.buf.get(start..end)
    }
}

/// A list of search terms, in input order: a page's `unmatchedTerms`.
///
/// It reads like a `[String]` (`len`, `get`, `iter`, indexing, comparison with slices,
/// arrays and vectors of `&str`) and serialises as a JSON array of strings. It refers to
/// the texts the query holds instead of copying each term, so reporting thousands of
/// unmatched terms costs one index per term.
///
/// ```
/// use rolodex_core::TermList;
/// let t = TermList::from(vec!["a@x.com".to_string(), "ghost".to_string()]);
/// assert_eq!(t, ["a@x.com", "ghost"]);
/// assert_eq!(t.iter().collect::<Vec<_>>(), vec!["a@x.com", "ghost"]);
/// assert_eq!(&t[1], "ghost");
/// assert_eq!(serde_json::to_string(&t).unwrap(), r#"["a@x.com","ghost"]"#);
/// ```
#[derive(Clone, Default)]
pub struct TermList {
    texts: Arc<TermTexts>,
    picked: Vec<u32>,
}

impl TermList {
    /// The texts `picked` (indexes into `texts`, in the order to report).
    pub(crate) fn picked(texts: &Arc<TermTexts>, picked: Vec<u32>) -> TermList {
        TermList {
            texts: Arc::clone(texts),
            picked,
        }
    }

    /// The number of terms.
    pub fn len(&self) -> usize {
        self.picked.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.picked.is_empty()
    }

    /// Term `i`.
    pub fn get(&self, i: usize) -> Option<&str> {
        self.texts.get(*self.picked.get(i)? as usize)
    }

    /// The terms in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + DoubleEndedIterator + '_ {
        self.picked
            .iter()
            .map(|i| self.texts.get(*i as usize).unwrap_or_default())
    }

    /// The terms as owned strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }
}

impl From<Vec<String>> for TermList {
    fn from(v: Vec<String>) -> TermList {
        v.iter().map(String::as_str).collect()
    }
}

impl<'a> FromIterator<&'a str> for TermList {
    fn from_iter<I: IntoIterator<Item = &'a str>>(it: I) -> TermList {
        let mut texts = TermTexts::default();
        for s in it {
            texts.push(s);
        }
        let picked = (0..texts.len() as u32).collect();
        TermList {
            texts: Arc::new(texts),
            picked,
        }
    }
}

impl From<TermList> for Vec<String> {
    fn from(t: TermList) -> Vec<String> {
        t.to_vec()
    }
}

impl std::ops::Index<usize> for TermList {
    type Output = str;
    fn index(&self, i: usize) -> &str {
        match self.get(i) {
            Some(s) => s,
            None => panic!("term index {i} out of range for {} terms", self.len()),
        }
    }
}

impl<'a> IntoIterator for &'a TermList {
    type Item = &'a str;
    type IntoIter = Box<dyn Iterator<Item = &'a str> + 'a>;
    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl fmt::Debug for TermList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for TermList {
    fn eq(&self, o: &TermList) -> bool {
        self.len() == o.len() && self.iter().eq(o.iter())
    }
}
impl Eq for TermList {}

impl<S: AsRef<str>> PartialEq<[S]> for TermList {
    fn eq(&self, o: &[S]) -> bool {
        self.len() == o.len() && self.iter().eq(o.iter().map(AsRef::as_ref))
    }
}
impl<S: AsRef<str>, const N: usize> PartialEq<[S; N]> for TermList {
    fn eq(&self, o: &[S; N]) -> bool {
        *self == o[..]
    }
}
impl<S: AsRef<str>> PartialEq<Vec<S>> for TermList {
    fn eq(&self, o: &Vec<S>) -> bool {
        *self == o[..]
    }
}
impl<S: AsRef<str>> PartialEq<&[S]> for TermList {
    fn eq(&self, o: &&[S]) -> bool {
        *self == **o
    }
}

impl Serialize for TermList {
    fn serialize<Z: Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for TermList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TermList, D::Error> {
        Ok(TermList::from(Vec::<String>::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_share_the_texts_and_read_as_strings() {
        let mut texts = TermTexts::default();
        for s in ["", "é@x.com", "ghost", "+8210"] {
            texts.push(s);
        }
        let texts = Arc::new(texts);
        let t = TermList::picked(&texts, vec![3, 0, 1]);
        assert_eq!(t, ["+8210", "", "é@x.com"]);
        assert_eq!(t.len(), 3);
        assert_eq!(t.get(3), None);
        assert_eq!(t.to_vec(), vec!["+8210", "", "é@x.com"]);
        assert_eq!(format!("{t:?}"), r#"["+8210", "", "é@x.com"]"#);
        let back: TermList = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
        assert_ne!(t, ["+8210", ""]);
        assert!(TermList::default().is_empty());
        // A pick past the texts reads as nothing rather than panicking.
        let bad = TermList::picked(&texts, vec![9]);
        assert_eq!(bad.get(0), None);
        assert_eq!(bad.iter().collect::<Vec<_>>(), vec![""]);
    }
}
