//! The conformance-vector runner of `VECTORS.md`: runs every vector file of the folder named
//! by `ROLODEX_VECTORS` (default `../shared/spec/vectors` from the project root) through the
//! public API. A case using an op this runner does not know is skipped only if it is listed
//! in `tests/vectors-skip.txt`; any other skip fails the run.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rolodex::{
    Boot, ContactBook, ExportOptions, FieldType, Filter, ImportOptions, ImportReport, MergeChoices,
    NewLead, Query,
};
use serde_json::{json, Value as J};

enum StepError {
    /// The op is not implemented by this runner.
    Unknown(String),
    /// The step did not behave as the vector says.
    Mismatch(String),
}

type StepResult = Result<(), StepError>;

fn mismatch<T>(msg: impl Into<String>) -> Result<T, StepError> {
    Err(StepError::Mismatch(msg.into()))
}

/// The ops of the table of VECTORS.md.
const OPS: &[&str] = &[
    "clock",
    "define",
    "addLead",
    "boot",
    "import",
    "search",
    "muLimit",
    "find",
    "block",
    "unblock",
    "delete",
    "merge",
    "unmerge",
    "get",
    "mu",
    "parse",
    "archive",
    "restore",
    "saveSegment",
    "runSegment",
    "preview",
    "export",
    "reimport",
];

/// The ops whose row of the table has an expectation (`mu` carries its own in the op value).
const OPS_WITH_EXPECT: &[&str] = &[
    "import",
    "search",
    "get",
    "parse",
    "runSegment",
    "preview",
    "export",
    "reimport",
];

/// The ops that take `"as"`.
const OPS_WITH_AS: &[&str] = &["addLead", "boot", "find", "merge"];

/// A string argument of a step; anything else is a malformed vector, never `""`.
fn str_arg<'j>(v: &'j J, what: &str) -> Result<&'j str, StepError> {
    v.as_str()
        .ok_or_else(|| StepError::Mismatch(format!("{what}: expected a string, found {v}")))
}

/// A JSON number as a count: `2` and `2.0` are the same number in every language.
fn as_count(v: &J) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f <= u64::MAX as f64)
            .map(|f| f as u64)
    })
}

/// JSON equality in which numbers compare by value (`1` equals `1.0`), as JSON itself and
/// the other languages' runners (JavaScript has one number type) read them.
fn json_eq(a: &J, b: &J) -> bool {
    match (a, b) {
        (J::Number(x), J::Number(y)) => match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
            (Some(x), Some(y), _, _) => x == y,
            (_, _, Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// The text a JSON number or boolean stands for where the format expects text (the
/// canonical text of `parse`): a number as JavaScript's `String(n)` writes it (`1000`,
/// `1.5`; `1.0` is `1`).
fn scalar_text(v: &J) -> Option<String> {
    match v {
        J::String(s) => Some(s.clone()),
        J::Bool(b) => Some(b.to_string()),
        J::Number(n) => Some(match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
            (_, _, Some(f)) => f.to_string(),
            _ => n.to_string(),
        }),
        _ => None,
    }
}

/// The text of a vector file with the text of every `{"parse": [type, text]}` that is a
/// JSON number quoted as written, so that `parse_value` gets the author's spelling (`1e5`,
/// `2.50`), which a JSON reader would turn into a float and spell again (`100000`, `2.5`).
/// Written by hand: the JSON reader keeps no spelling of numbers (`serde_json` keeps it
/// only with a feature that would change how the library under test reads numbers too).
fn quote_parse_numbers(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    // The end of the JSON string starting at `i` (one past its closing quote).
    let string_end = |mut i: usize| {
        i += 1;
        while i < b.len() && b[i] != b'"' {
            i += if b[i] == b'\\' { 2 } else { 1 };
        }
        (i + 1).min(b.len())
    };
    let skip_ws = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    let (mut i, mut copied) = (0, 0);
    while i < b.len() {
        if b[i] != b'"' {
            i += 1;
            continue;
        }
        let end = string_end(i);
        if &text[i..end] == "\"parse\"" {
            // `"parse"`, `:`, `[`, the type string, `,`, then a number to quote.
            let mut j = skip_ws(end);
            let shape = j < b.len()
                && b[j] == b':'
                && {
                    j = skip_ws(j + 1);
                    j < b.len() && b[j] == b'['
                }
                && {
                    j = skip_ws(j + 1);
                    j < b.len() && b[j] == b'"'
                }
                && {
                    j = skip_ws(string_end(j));
                    j < b.len() && b[j] == b','
                }
                && {
                    j = skip_ws(j + 1);
                    j < b.len() && (b[j] == b'-' || b[j].is_ascii_digit())
                };
            if shape {
                let mut k = j;
                while k < b.len() && matches!(b[k], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                {
                    k += 1;
                }
                out.push_str(&text[copied..j]);
                out.push('"');
                out.push_str(&text[j..k]);
                out.push('"');
                copied = k;
                i = k;
                continue;
            }
        }
        i = end;
    }
    out.push_str(&text[copied..]);
    out
}

/// A JSON shape of API.md that does not deserialise (an unknown option, a bad value) is the
/// API's `Validation` answer in every language (Python's `import_csv(**options)` raises it);
/// in Rust the typed API cannot even be called, so the runner gives that answer itself.
fn bad_shape(what: &str, e: serde_json::Error) -> rolodex::Error {
    rolodex::Error::validation(
        None,
        format!("{what} in the JSON shape of API.md"),
        format!("{what}: {e}"),
    )
}

/// Splits the first line of a CSV text on commas (a leading BOM is not part of it).
fn first_line_cells(text: &str) -> Vec<&str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines().next().unwrap_or_default().split(',').collect()
}

/// Checks that `exp` (an `expect` object) names only `allowed` keys, so that a misspelt or
/// misplaced expectation fails loudly instead of passing unchecked.
fn only_keys(exp: &serde_json::Map<String, J>, allowed: &[&str], what: &str) -> StepResult {
    match exp.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => mismatch(format!(
            "{what}: unknown expectation key `{k}` (known: {})",
            allowed.join(", ")
        )),
        None => Ok(()),
    }
}

/// The `expect` object of a step; anything but an object is a malformed vector.
fn expect_obj<'j>(
    expect: Option<&'j J>,
    what: &str,
) -> Result<Option<&'j serde_json::Map<String, J>>, StepError> {
    match expect {
        None => Ok(None),
        Some(J::Object(o)) => Ok(Some(o)),
        Some(other) => mismatch(format!("{what}: `expect` must be an object, found {other}")),
    }
}

struct Case<'a> {
    book: ContactBook,
    aliases: HashMap<String, String>,
    /// Each merge's alias: its id, and the secondary's id.
    merges: HashMap<String, (String, String)>,
    /// The secondaries of the merges not undone: their aliases stay on them.
    merged_away: BTreeSet<String>,
    tmp: &'a Path,
    /// The text of the last `export` step, for `reimport`.
    last_export: Option<String>,
}

/// What a step produced when it succeeded, for `expect` checks.
enum Outcome {
    None,
    Contact(J),
    Value(String),
    Count(u64),
    Page(rolodex::Page),
    /// An import report and the text of its failure log.
    Import(ImportReport, String),
    Preview(rolodex::Preview),
    /// The text of an export.
    Export(String),
}

impl Case<'_> {
    fn id(&self, alias: &J) -> Result<String, StepError> {
        let a = str_arg(alias, "alias")?;
        let id = self
            .aliases
            .get(a)
            .cloned()
            .ok_or_else(|| StepError::Mismatch(format!("unknown alias {a}")))?;
        // An alias follows its contact when a login or unification makes another contact
        // the survivor: `get` leads from the old id to the survivor. Not after a merge: the
        // survivor keeps the primary's alias, and the secondary's alias names the merged-away
        // contact still (so that acting on it never reaches the survivor).
        if self.merged_away.contains(&id) {
            return Ok(id);
        }
        Ok(match self.book.get(&id) {
            Ok(c) => c.id,
            Err(_) => id,
        })
    }

    fn ids(&self, list: &J) -> Result<Vec<String>, StepError> {
        match list {
            // One alias on its own is a list of one.
            J::String(_) => Ok(vec![self.id(list)?]),
            J::Array(items) => items.iter().map(|a| self.id(a)).collect(),
            other => mismatch(format!("expected a list of aliases, found {other}")),
        }
    }

    /// The op of a step: its one key besides `as`, `expect`, `expectError` and `options`.
    fn op(step: &J) -> Result<String, StepError> {
        let obj = step
            .as_object()
            .ok_or_else(|| StepError::Mismatch(format!("a step is an object, found {step}")))?;
        let others: Vec<&String> = obj
            .keys()
            .filter(|k| !matches!(k.as_str(), "as" | "expect" | "expectError" | "options"))
            // Annotations a vector author may leave for readers are not ops.
            .filter(|k| !matches!(k.as_str(), "comment" | "note") && !k.starts_with('_'))
            .collect();
        let known: Vec<&&String> = others
            .iter()
            .filter(|k| OPS.contains(&k.as_str()))
            .collect();
        let op = match (others.as_slice(), known.as_slice()) {
            ([], _) => return mismatch("the step has no op"),
            ([op], _) => (*op).clone(),
            (_, [op]) => {
                return mismatch(format!(
                    "step `{op}` has keys the format does not know: {:?}",
                    others.iter().filter(|k| **k != **op).collect::<Vec<_>>()
                ))
            }
            // Several unknown keys: an op (with parameters) this runner does not know yet.
            (_, []) => {
                let keys: Vec<&str> = others.iter().map(|k| k.as_str()).collect();
                return Err(StepError::Unknown(keys.join("` / `")));
            }
            _ => return mismatch(format!("the step has several ops: {others:?}")),
        };
        if !OPS.contains(&op.as_str()) {
            return Err(StepError::Unknown(op));
        }
        if obj.contains_key("options") && op != "import" {
            return mismatch(format!(
                "`options` belongs to `import`; `{op}` does not take it"
            ));
        }
        if obj.contains_key("as") && !OPS_WITH_AS.contains(&op.as_str()) {
            return mismatch(format!("`{op}` does not take `as`"));
        }
        if obj.contains_key("expect") && !OPS_WITH_EXPECT.contains(&op.as_str()) {
            return mismatch(format!(
                "`{op}` has no expectation in VECTORS.md; its `expect` cannot be checked"
            ));
        }
        Ok(op)
    }

    /// Runs the op of a step; returns Ok(Err(kind)) when the API call failed.
    fn run(&mut self, op: &str, step: &J) -> Result<Result<Outcome, rolodex::Error>, StepError> {
        let obj = step.as_object().expect("checked by op()");
        let arg = &obj[op];
        let book = self.book.clone();
        let out = match op {
            "clock" => {
                let t = if arg.is_null() {
                    None
                } else {
                    Some(
                        rolodex::value::parse_datetime(str_arg(arg, "clock")?)
                            .map_err(|e| StepError::Mismatch(format!("bad clock: {e}")))?,
                    )
                };
                book.set_clock(t).map(|()| Outcome::None)
            }
            "define" => {
                let key = str_arg(&arg[0], "define key")?;
                // An unknown type name is the API's `Validation` answer, as `define_key(key,
                // "colour")` gives in the other languages.
                match str_arg(&arg[1], "define type")?.parse::<FieldType>() {
                    Ok(ft) => book.define_key(key, ft).map(|_| Outcome::None),
                    Err(e) => Err(e),
                }
            }
            "addLead" => match serde_json::from_value::<NewLead>(arg.clone()) {
                Ok(lead) => book.add_lead(lead).map(|c| {
                    if let Some(a) = obj.get("as").and_then(J::as_str) {
                        self.aliases.insert(a.to_string(), c.id.clone());
                    }
                    Outcome::None
                }),
                Err(e) => Err(bad_shape("new lead", e)),
            },
            "boot" => {
                let mut b = arg.clone();
                let mut named = None;
                if let Some(a) = b.get("contact").cloned() {
                    let id = self.id(&a)?;
                    b.as_object_mut().unwrap().remove("contact");
                    b["contactId"] = J::String(id.clone());
                    // Only a contact that exists can be joined into another; a boot naming
                    // a deleted one creates a new contact (R-CON-9), and the alias stays
                    // on the deleted one.
                    if book.get(&id).is_ok() {
                        named = a.as_str().map(|a| (a.to_string(), id));
                    }
                }
                match serde_json::from_value::<Boot>(b) {
                    Ok(boot) => book.boot(boot).map(|c| {
                        // A login that deletes the named contact (R-CON-9) makes the contact
                        // it returns the survivor: the alias follows it.
                        if let Some((a, id)) = named {
                            if id != c.id && book.get(&id).is_err() {
                                self.aliases.insert(a, c.id.clone());
                            }
                        }
                        if let Some(a) = obj.get("as").and_then(J::as_str) {
                            self.aliases.insert(a.to_string(), c.id.clone());
                        }
                        Outcome::None
                    }),
                    Err(e) => Err(bad_shape("boot", e)),
                }
            }
            "muLimit" => {
                let limit = match arg {
                    J::Null => None,
                    n => Some(as_count(n).ok_or_else(|| {
                        StepError::Mismatch(format!("muLimit: expected a count or null, found {n}"))
                    })?),
                };
                book.set_mu_limit(limit).map(|_| Outcome::None)
            }
            "mu" => book.mu_count().map(Outcome::Count),
            "block" | "unblock" | "delete" => {
                let ids = self.ids(arg)?;
                let r = match op {
                    "block" => book.block(ids),
                    "unblock" => book.unblock(ids),
                    _ => book.delete(ids),
                };
                match r {
                    Err(e) => Err(e),
                    Ok(r) if r.failed.is_empty() => Ok(Outcome::None),
                    // The bulk API reports a contact it could not change in its result, not
                    // as an error; for the step that is a failure. Its kind is what `get`
                    // says of that id (`NotFound` for a deleted one), or, for a merged-away
                    // one (which `get` leads to the survivor), `NotFound` where the reason
                    // says the contact operation found no contact under that id.
                    Ok(r)
                        if self.merged_away.contains(&r.failed[0].id)
                            && r.failed[0].reason.contains("not found") =>
                    {
                        Err(rolodex::Error::NotFound {
                            what: "contact".into(),
                            name: r.failed[0].id.clone(),
                            hint: r.failed[0].reason.clone(),
                        })
                    }
                    Ok(r) => match book.get(&r.failed[0].id) {
                        Err(e) => Err(e),
                        Ok(_) => {
                            return mismatch(format!("{op} failed: {:?}", r.failed));
                        }
                    },
                }
            }
            "merge" => {
                let p = self.id(&arg[0])?;
                let s = self.id(&arg[1])?;
                // CHOICES may be left out when there are none.
                let choices = match &arg[2] {
                    J::Null => Ok(MergeChoices::default()),
                    c => serde_json::from_value::<MergeChoices>(c.clone()),
                };
                // The aliases that name the secondary now stay on it.
                let mut on_secondary = Vec::new();
                for alias in self.aliases.keys() {
                    if self.id(&J::String(alias.clone()))? == s {
                        on_secondary.push(alias.clone());
                    }
                }
                match choices {
                    Ok(choices) => book.merge(&p, &s, &choices).map(|r| {
                        if let Some(m) = obj.get("as").and_then(J::as_str) {
                            self.merges
                                .insert(m.to_string(), (r.merge_id.clone(), s.clone()));
                        }
                        for alias in on_secondary {
                            self.aliases.insert(alias, s.clone());
                        }
                        self.merged_away.insert(s.clone());
                        Outcome::None
                    }),
                    Err(e) => Err(bad_shape("merge choices", e)),
                }
            }
            "unmerge" => {
                let m = str_arg(arg, "unmerge")?;
                let (id, secondary) = self
                    .merges
                    .get(m)
                    .cloned()
                    .unwrap_or_else(|| (m.to_string(), String::new()));
                book.unmerge(&id).map(|_| {
                    self.merged_away.remove(&secondary);
                    Outcome::None
                })
            }
            "get" => {
                let id = self.id(arg)?;
                book.get(&id).map(|c| Outcome::Contact(c.to_json()))
            }
            "archive" => book
                .archive_key(str_arg(arg, "archive")?)
                .map(|_| Outcome::None),
            "restore" => book
                .restore_key(str_arg(arg, "restore")?)
                .map(|_| Outcome::None),
            "parse" => {
                let ty = str_arg(&arg[0], "parse type")?;
                // The text to parse; a JSON boolean stands for its text, and a JSON number
                // arrives as written (`quote_parse_numbers`).
                let text = match &arg[1] {
                    J::String(s) => s.clone(),
                    v @ (J::Number(_) | J::Bool(_)) => scalar_text(v).unwrap(),
                    other => return mismatch(format!("parse: text expected, found {other}")),
                };
                match ty.parse::<FieldType>() {
                    Ok(ft) => {
                        rolodex::parse_value(ft, &text).map(|v| Outcome::Value(v.canonical()))
                    }
                    Err(e) => Err(e),
                }
            }
            "search" | "find" => {
                // A query that does not parse is the API's answer (a `Filter` error with
                // its path), which `expectError` may ask for.
                let q = match Query::from_value(arg) {
                    Ok(q) => q,
                    Err(e) => return Ok(Err(e)),
                };
                match book.search(&q) {
                    Ok(page) if op == "find" => {
                        if page.total != 1 || page.contacts.len() != 1 {
                            return mismatch(format!(
                                "find: {} contacts match, not one",
                                page.total
                            ));
                        }
                        if let Some(a) = obj.get("as").and_then(J::as_str) {
                            self.aliases
                                .insert(a.to_string(), page.contacts[0].id.clone());
                        }
                        Ok(Outcome::None)
                    }
                    other => other.map(Outcome::Page),
                }
            }
            "saveSegment" => match Filter::from_value(&arg[1]) {
                Ok(f) => book
                    .save_segment(str_arg(&arg[0], "segment name")?, &f)
                    .map(|_| Outcome::None),
                Err(e) => Err(e),
            },
            "runSegment" => book
                .run_segment(str_arg(arg, "runSegment")?, &Query::default())
                .map(Outcome::Page),
            "import" => {
                let text = str_arg(arg, "import")?.to_string();
                let mut opts = obj.get("options").cloned().unwrap_or_else(|| json!({}));
                // `file` names the temp file and is the `fileName`; it is not an option of
                // the API. Without it the CSV is given as a stream with no file name.
                let file = match opts.as_object_mut().and_then(|o| o.remove("file")) {
                    None => None,
                    Some(J::String(f)) => Some(f),
                    Some(other) => {
                        return mismatch(format!("options.file: expected a string, found {other}"))
                    }
                };
                self.import(&text, file.as_deref(), opts)?
            }
            "reimport" => {
                let Some(text) = self.last_export.clone() else {
                    return mismatch("reimport without an export before it");
                };
                let mut opts = if arg.is_null() {
                    json!({})
                } else {
                    arg.clone()
                };
                // The file name is always export.csv.
                if let Some(o) = opts.as_object_mut() {
                    o.remove("file");
                }
                self.import(&text, Some("export.csv"), opts)?
            }
            "preview" => book
                .preview_csv(std::io::Cursor::new(
                    str_arg(arg, "preview")?.as_bytes().to_vec(),
                ))
                .map(Outcome::Preview),
            "export" => {
                let mut opts = if arg.is_null() {
                    json!({})
                } else {
                    arg.clone()
                };
                // A vector names contacts by alias; a string that is no alias is passed on
                // as an id (an unknown id is the API's NotFound).
                if let Some(ids) = opts.get_mut("ids").and_then(J::as_array_mut) {
                    for v in ids.iter_mut() {
                        if v.as_str().is_some_and(|a| self.aliases.contains_key(a)) {
                            *v = J::String(self.id(v)?);
                        }
                    }
                }
                match ExportOptions::from_value(&opts) {
                    Err(e) => Err(e),
                    Ok(opts) => {
                        let path = self.tmp.join("export-out.csv");
                        let file = std::fs::File::create(&path)
                            .map_err(|e| StepError::Mismatch(format!("temp file: {e}")))?;
                        match book.export_csv(file, opts) {
                            Ok(_) => {
                                // Read as bytes: a protected export is a zip, not UTF-8.
                                let bytes = std::fs::read(&path).map_err(|e| {
                                    StepError::Mismatch(format!("export text: {e}"))
                                })?;
                                let text = String::from_utf8_lossy(&bytes).into_owned();
                                self.last_export = Some(text.clone());
                                Ok(Outcome::Export(text))
                            }
                            Err(e) => Err(e),
                        }
                    }
                }
            }
            other => return Err(StepError::Unknown(other.to_string())),
        };
        Ok(out)
    }

    /// Imports `text` with `options`, keeping the failure log. With a `file` the text is
    /// written to a temp file of that name, which is also the `fileName`; without one it is
    /// read as a stream, so the default import tag is the API's (R-IMP-9).
    fn import(
        &self,
        text: &str,
        file: Option<&str>,
        mut options: J,
    ) -> Result<Result<Outcome, rolodex::Error>, StepError> {
        let Some(o) = options.as_object_mut() else {
            return mismatch(format!("import options must be an object, found {options}"));
        };
        if let Some(file) = file {
            o.insert("fileName".into(), J::String(file.to_string()));
        }
        let options: ImportOptions = match serde_json::from_value(options) {
            Ok(o) => o,
            Err(e) => return Ok(Err(bad_shape("import options", e))),
        };
        // Only a plain file name is written into the temp folder; any other name (with a
        // folder, or empty) is given as `fileName` to a stream.
        let plain = file.filter(|f| {
            let mut c = Path::new(f).components();
            matches!(
                (c.next(), c.next()),
                (Some(std::path::Component::Normal(_)), None)
            )
        });
        let mut log = Vec::new();
        let report = match plain {
            Some(f) => {
                let path = self.tmp.join(f);
                std::fs::write(&path, text)
                    .map_err(|e| StepError::Mismatch(format!("temp file: {e}")))?;
                self.book
                    .import_csv_with_log(path.as_path(), options, None, Some(&mut log))
            }
            None => self.book.import_csv_with_log(
                rolodex::ImportSource::reader(std::io::Cursor::new(text.as_bytes().to_vec())),
                options,
                None,
                Some(&mut log),
            ),
        };
        Ok(report.map(|r| Outcome::Import(r, String::from_utf8_lossy(&log).into_owned())))
    }

    /// A fingerprint of the whole channel, to check that a failed step changed nothing:
    /// every contact, the schema, MU and its limit, the segments and pending unifications.
    fn fingerprint(&self) -> String {
        let mut all = Vec::new();
        self.book
            .store()
            .for_each(self.book.channel_name(), &mut |c| {
                all.push(c.to_json());
                true
            })
            .unwrap();
        all.sort_by_key(|c| c["id"].as_str().unwrap_or_default().to_string());
        format!(
            "{}|{:?}|{}|{:?}|{:?}|{:?}",
            serde_json::to_string(&all).unwrap(),
            self.book.schema().unwrap(),
            self.book.mu_count().unwrap(),
            self.book.mu_limit().unwrap(),
            self.book.segments().unwrap(),
            self.book.pending_unifications().unwrap(),
        )
    }

    fn step(&mut self, step: &J) -> StepResult {
        let op = Self::op(step)?;
        let expect_error = match step.get("expectError") {
            None => None,
            Some(J::String(k)) => Some(k.clone()),
            Some(other) => {
                return mismatch(format!("expectError must be an error kind, found {other}"))
            }
        };
        let before = expect_error.as_ref().map(|_| self.fingerprint());
        let result = self.run(&op, step)?;
        match (expect_error, result) {
            (Some(kind), Err(e)) => {
                // The kind as API.md names it; Node's code (`NOT_FOUND`) names the same kind.
                if e.kind().as_str() != kind && e.kind().code() != kind {
                    return mismatch(format!("expected error {kind}, got {:?}: {e}", e.kind()));
                }
                if before.as_deref() != Some(self.fingerprint().as_str()) {
                    return mismatch(format!("the failed step ({kind}) changed something"));
                }
                Ok(())
            }
            (Some(kind), Ok(_)) => mismatch(format!("expected error {kind}, but it succeeded")),
            (None, Err(e)) => mismatch(format!("unexpected error {:?}: {e}", e.kind())),
            (None, Ok(out)) => self.check(step, out),
        }
    }

    fn check(&self, step: &J, out: Outcome) -> StepResult {
        let expect = step.get("expect");
        match out {
            Outcome::None => Ok(()),
            Outcome::Count(n) => {
                let want = &step["mu"];
                if as_count(want) != Some(n) {
                    return mismatch(format!("mu: expected {want}, got {n}"));
                }
                Ok(())
            }
            Outcome::Value(v) => match expect {
                None => Ok(()),
                // The canonical text; a number or boolean given stands for its text.
                Some(want) => match scalar_text(want) {
                    Some(w) if w == v => Ok(()),
                    _ => mismatch(format!("parse: expected {want}, got {v:?}")),
                },
            },
            Outcome::Page(page) => {
                let Some(exp) = expect_obj(expect, "search")? else {
                    return Ok(());
                };
                only_keys(
                    exp,
                    &["total", "names", "ordered", "unmatchedTerms"],
                    "search",
                )?;
                if let Some(total) = exp.get("total") {
                    if as_count(total) != Some(page.total) {
                        return mismatch(format!("total: expected {total}, got {}", page.total));
                    }
                }
                let ordered = match exp.get("ordered") {
                    None | Some(J::Bool(false)) => false,
                    Some(J::Bool(true)) => true,
                    Some(other) => {
                        return mismatch(format!("ordered: expected a boolean, found {other}"))
                    }
                };
                if let Some(names) = exp.get("names") {
                    let Some(want) = names.as_array() else {
                        return mismatch(format!("names: expected a list, found {names}"));
                    };
                    let mut want: Vec<J> = want.clone();
                    let mut got: Vec<J> = page
                        .contacts
                        .iter()
                        .map(|c| c.name().map_or(J::Null, |n| J::String(n.to_string())))
                        .collect();
                    if !ordered {
                        let key = |v: &J| v.to_string();
                        want.sort_by_key(key);
                        got.sort_by_key(key);
                    }
                    if want != got {
                        return mismatch(format!("names: expected {want:?}, got {got:?}"));
                    }
                }
                if let Some(unmatched) = exp.get("unmatchedTerms") {
                    if !json_eq(unmatched, &json!(page.unmatched_terms)) {
                        return mismatch(format!(
                            "unmatchedTerms: expected {unmatched}, got {:?}",
                            page.unmatched_terms
                        ));
                    }
                }
                Ok(())
            }
            Outcome::Import(report, log) => {
                let Some(exp) = expect_obj(expect, "import")? else {
                    return Ok(());
                };
                let got = serde_json::to_value(&report).unwrap();
                for (key, want) in exp {
                    match key.as_str() {
                        "failures" => {
                            let Some(want) = want.as_array() else {
                                return mismatch(format!(
                                    "failures: expected a list, found {want}"
                                ));
                            };
                            if want.len() as u64 != report.failed
                                || want.len() != report.failures.len()
                            {
                                return mismatch(format!(
                                    "failures: {} listed but the report has failed = {} ({} failures)",
                                    want.len(),
                                    report.failed,
                                    report.failures.len()
                                ));
                            }
                            for (i, w) in want.iter().enumerate() {
                                let g = &report.failures[i];
                                if w.get("rowNumber")
                                    .is_some_and(|n| as_count(n) != Some(g.row_number))
                                    || w.get("errorColumns")
                                        .is_some_and(|c| !json_eq(c, &json!(g.error_columns)))
                                {
                                    return mismatch(format!(
                                        "failures[{i}]: expected {w}, got {g:?}"
                                    ));
                                }
                            }
                        }
                        "failureLogHeader" => {
                            let got = first_line_cells(&log);
                            if !json_eq(want, &json!(got)) {
                                return mismatch(format!(
                                    "failureLogHeader: expected {want}, got {got:?}"
                                ));
                            }
                        }
                        _ => {
                            if !got.get(key).is_some_and(|g| json_eq(g, want)) {
                                return mismatch(format!(
                                    "import {key}: expected {want}, got {} (report {got})",
                                    got.get(key).unwrap_or(&J::Null)
                                ));
                            }
                        }
                    }
                }
                Ok(())
            }
            Outcome::Preview(p) => {
                let Some(exp) = expect_obj(expect, "preview")? else {
                    return Ok(());
                };
                only_keys(exp, &["header", "rows", "totalRows"], "preview")?;
                if let Some(h) = exp.get("header") {
                    if !json_eq(h, &json!(p.header)) {
                        return mismatch(format!(
                            "preview header: expected {h}, got {:?}",
                            p.header
                        ));
                    }
                }
                if let Some(n) = exp.get("rows") {
                    // The number of rows; the rows themselves may be given too.
                    let ok = match n {
                        J::Array(_) => json_eq(n, &json!(p.rows)),
                        n => as_count(n) == Some(p.rows.len() as u64),
                    };
                    if !ok {
                        return mismatch(format!(
                            "preview rows: expected {n}, got {} ({:?})",
                            p.rows.len(),
                            p.rows
                        ));
                    }
                }
                if let Some(n) = exp.get("totalRows") {
                    if as_count(n) != Some(p.total_rows) {
                        return mismatch(format!(
                            "preview totalRows: expected {n}, got {}",
                            p.total_rows
                        ));
                    }
                }
                Ok(())
            }
            Outcome::Export(text) => {
                let Some(exp) = expect_obj(expect, "export")? else {
                    return Ok(());
                };
                only_keys(
                    exp,
                    &["header", "lines", "contains", "notContains"],
                    "export",
                )?;
                if let Some(h) = exp.get("header") {
                    let got = first_line_cells(&text);
                    if !json_eq(h, &json!(got)) {
                        return mismatch(format!("export header: expected {h}, got {got:?}"));
                    }
                }
                if let Some(n) = exp.get("lines") {
                    // CSV records after the header: a quoted newline is inside a record.
                    let mut r = csv::ReaderBuilder::new()
                        .has_headers(true)
                        .flexible(true)
                        .from_reader(text.as_bytes());
                    let got = r.byte_records().count() as u64;
                    if as_count(n) != Some(got) {
                        return mismatch(format!("export lines: expected {n}, got {got}"));
                    }
                }
                let subs = |key: &str| -> Result<Vec<String>, StepError> {
                    match exp.get(key) {
                        None => Ok(vec![]),
                        Some(J::String(s)) => Ok(vec![s.clone()]),
                        Some(J::Array(a)) => a
                            .iter()
                            .map(|s| str_arg(s, key).map(str::to_string))
                            .collect(),
                        Some(other) => {
                            mismatch(format!("{key}: expected text or a list, found {other}"))
                        }
                    }
                };
                for s in subs("contains")? {
                    if !text.contains(&s) {
                        return mismatch(format!("export does not contain {s:?}:\n{text}"));
                    }
                }
                for s in subs("notContains")? {
                    if text.contains(&s) {
                        return mismatch(format!("export contains {s:?}:\n{text}"));
                    }
                }
                Ok(())
            }
            Outcome::Contact(c) => {
                let Some(exp) = expect_obj(expect, "get")? else {
                    return Ok(());
                };
                for (path, want) in exp {
                    let got = lookup(&c, path);
                    let got = match got {
                        // The contact JSON always writes its two system lists (`tags`,
                        // `userImportTags`), as `[]` when there are none; `null` means
                        // absent, and for them an empty list is no value (FILTER.md:
                        // `isEmpty` matches "a missing or empty list"), so a vector may say
                        // either. Any other path must be absent to match `null`.
                        Some(J::Array(items))
                            if items.is_empty()
                                && want.is_null()
                                && matches!(path.as_str(), "tags" | "userImportTags") =>
                        {
                            J::Null
                        }
                        got => got.unwrap_or(J::Null),
                    };
                    if !json_eq(&got, want) {
                        return mismatch(format!("get {path}: expected {want}, got {got}"));
                    }
                }
                Ok(())
            }
        }
    }
}

/// A dotted path into contact JSON; `X.len` and `X.first` of lists.
fn lookup(c: &J, path: &str) -> Option<J> {
    let pointer: String = path
        .split('.')
        .map(|seg| format!("/{}", seg.replace('~', "~0").replace('/', "~1")))
        .collect();
    if let Some(v) = c.pointer(&pointer) {
        return Some(v.clone());
    }
    let (base, last) = path.rsplit_once('.')?;
    let v = lookup(c, base)?;
    let list = v.as_array()?;
    match last {
        "len" => Some(json!(list.len())),
        "first" => list.first().cloned(),
        _ => None,
    }
}

fn vectors_dir() -> PathBuf {
    match std::env::var_os("ROLODEX_VECTORS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/spec/vectors"),
    }
}

#[test]
fn conformance_vectors() {
    run_folder(&vectors_dir());
}

/// The project's own vectors in the same format (`tests/vectors-extra`): edge cases of every
/// rule group written from the rule text, beyond the shared set, run whatever
/// `ROLODEX_VECTORS` names.
#[test]
fn project_vectors() {
    run_folder(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors-extra"));
}

fn run_folder(dir: &Path) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("vector folder {} cannot be read: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no vector files in {}", dir.display());

    let skip_list: BTreeSet<String> = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors-skip.txt"),
    )
    .unwrap_or_default()
    .lines()
    .map(str::trim)
    .filter(|l| !l.is_empty() && !l.starts_with('#'))
    .map(str::to_string)
    .collect();

    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut problems = Vec::new();
    let tmp = tempfile::tempdir().unwrap();
    for file in &files {
        let fname = file.file_name().unwrap().to_string_lossy().to_string();
        // A file that is not a list of cases fails the run, after the other files ran.
        let cases: Vec<J> = match std::fs::read_to_string(file)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str(&quote_parse_numbers(&t)).map_err(|e| e.to_string()))
        {
            Ok(cases) => cases,
            Err(e) => {
                failed += 1;
                problems.push(format!(
                    "{fname}: not a vector file (a JSON list of cases): {e}"
                ));
                continue;
            }
        };
        for case in cases {
            let name = case["name"].as_str().unwrap_or("?").to_string();
            let Some(steps) = case["steps"].as_array() else {
                failed += 1;
                problems.push(format!("{fname}: {name}: the case has no list of steps"));
                continue;
            };
            // A panic (of the library or of the runner) fails this case, not the whole run,
            // so the other cases still run and the closing line still counts them.
            let at = std::cell::Cell::new(0);
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut ctx = Case {
                    book: ContactBook::in_memory(),
                    aliases: HashMap::new(),
                    merges: HashMap::new(),
                    merged_away: BTreeSet::new(),
                    tmp: tmp.path(),
                    last_export: None,
                };
                for (i, step) in steps.iter().enumerate() {
                    at.set(i);
                    ctx.step(step).map_err(|e| (i, e))?;
                }
                Ok(())
            }))
            .unwrap_or_else(|p| {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Err((at.get(), StepError::Mismatch(format!("panicked: {msg}"))))
            });
            match outcome {
                Ok(()) if skip_list.contains(&name) => {
                    failed += 1;
                    problems.push(format!(
                        "{fname}: {name}: passes but is listed in tests/vectors-skip.txt; remove it"
                    ));
                }
                Ok(()) => passed += 1,
                Err((_, StepError::Unknown(_))) if skip_list.contains(&name) => {
                    skipped += 1;
                    eprintln!("SKIP {fname}: {name}");
                }
                Err((i, StepError::Unknown(op))) => {
                    failed += 1;
                    problems.push(format!(
                        "{fname}: {name}: step {i} uses op `{op}`, which is not built and the case is not in the skip list"
                    ));
                }
                Err((i, StepError::Mismatch(m))) => {
                    failed += 1;
                    problems.push(format!("{fname}: {name} ({}): step {i}: {m}", case["rule"]));
                }
            }
        }
    }
    for p in &problems {
        eprintln!("FAIL {p}");
    }
    // Written to stderr directly so that the closing line shows even when the test passes.
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "vectors: {passed} passed, {failed} failed, {skipped} skipped"
    );
    assert!(problems.is_empty(), "{} vector problems", problems.len());
}

/// A `parse` text an outside vector set writes as a bare JSON number reaches `parse_value`
/// as written (R-VAL-4: "exponent forms are errors", so `1e5` must fail, which `100000`
/// would not). The project's own vectors write texts as strings, as every language's JSON
/// reader keeps those; this runs such a set from a folder of its own.
#[test]
fn parse_texts_written_as_json_numbers_keep_their_spelling() {
    let dir = tempfile::tempdir().unwrap();
    let cases = r#"[{"name": "bare numbers", "rule": "R-VAL-4", "steps": [
        {"parse": ["number", 1e5], "expectError": "Validation"},
        {"parse": ["number", 1.5E-7], "expectError": "Validation"},
        {"parse": [ "number" ,
                    2.50 ], "expect": "2.5"},
        {"parse": ["number", -0.0], "expect": "0"},
        {"parse": ["number", 42], "expect": "42"},
        {"parse": ["string", 7], "expect": "7"},
        {"parse": ["boolean", true], "expect": "true"},
        {"parse": ["string", "1e5"], "expect": "1e5"}]}]"#;
    std::fs::write(dir.path().join("bare.json"), cases).unwrap();
    run_folder(dir.path());
    // Only a `parse` step's text is touched: not a string that spells the op, nor any
    // other number.
    let text = r#"[{"name": "x \"parse\": [\"a\", 1e5]", "steps": [{"mu": 1e0},
        {"parse": ["number", 3e2]}]}]"#;
    assert_eq!(
        quote_parse_numbers(text),
        text.replace("3e2", "\"3e2\""),
        "only the parse step's number is quoted"
    );
}
