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

struct Case<'a> {
    book: ContactBook,
    aliases: HashMap<String, String>,
    merges: HashMap<String, String>,
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
        let a = alias
            .as_str()
            .ok_or_else(|| StepError::Mismatch(format!("alias {alias} is not a string")))?;
        let id = self
            .aliases
            .get(a)
            .cloned()
            .ok_or_else(|| StepError::Mismatch(format!("unknown alias {a}")))?;
        // An alias follows its contact when a login or unification makes another contact
        // the survivor: `get` leads from the old id to the survivor.
        Ok(match self.book.get(&id) {
            Ok(c) => c.id,
            Err(_) => id,
        })
    }

    fn ids(&self, list: &J) -> Result<Vec<String>, StepError> {
        list.as_array()
            .ok_or_else(|| StepError::Mismatch("expected a list of aliases".into()))?
            .iter()
            .map(|a| self.id(a))
            .collect()
    }

    /// Runs the op of a step; returns Ok(Err(kind)) when the API call failed.
    fn run(&mut self, step: &J) -> Result<Result<Outcome, rolodex::Error>, StepError> {
        let obj = step.as_object().expect("step is an object");
        let op = obj
            .keys()
            .find(|k| !matches!(k.as_str(), "as" | "expect" | "expectError" | "options"))
            .cloned()
            .unwrap_or_default();
        let arg = &obj[&op];
        let book = self.book.clone();
        let out = match op.as_str() {
            "clock" => {
                let t = rolodex::value::parse_datetime(arg.as_str().unwrap_or_default())
                    .map_err(|e| StepError::Mismatch(format!("bad clock: {e}")))?;
                book.set_clock(Some(t));
                Ok(Outcome::None)
            }
            "define" => {
                let key = arg[0].as_str().unwrap_or_default();
                let ft: FieldType = arg[1]
                    .as_str()
                    .unwrap_or_default()
                    .parse()
                    .map_err(|e| StepError::Mismatch(format!("bad type: {e}")))?;
                book.define_key(key, ft).map(|_| Outcome::None)
            }
            "addLead" => {
                let lead: NewLead = serde_json::from_value(arg.clone())
                    .map_err(|e| StepError::Mismatch(format!("bad addLead: {e}")))?;
                book.add_lead(lead).map(|c| {
                    if let Some(a) = obj.get("as").and_then(J::as_str) {
                        self.aliases.insert(a.to_string(), c.id.clone());
                    }
                    Outcome::None
                })
            }
            "boot" => {
                let mut b = arg.clone();
                let mut named = None;
                if let Some(a) = b.get("contact").cloned() {
                    let id = self.id(&a)?;
                    b.as_object_mut().unwrap().remove("contact");
                    b["contactId"] = J::String(id.clone());
                    named = a.as_str().map(|a| (a.to_string(), id));
                }
                let boot: Boot = serde_json::from_value(b)
                    .map_err(|e| StepError::Mismatch(format!("bad boot: {e}")))?;
                book.boot(boot).map(|c| {
                    // A login that deletes the named contact (R-CON-9) makes the contact it
                    // returns the survivor: the alias follows it.
                    if let Some((a, id)) = named {
                        if id != c.id && book.get(&id).is_err() {
                            self.aliases.insert(a, c.id.clone());
                        }
                    }
                    if let Some(a) = obj.get("as").and_then(J::as_str) {
                        self.aliases.insert(a.to_string(), c.id.clone());
                    }
                    Outcome::None
                })
            }
            "muLimit" => book.set_mu_limit(arg.as_u64()).map(|_| Outcome::None),
            "mu" => book.mu_count().map(Outcome::Count),
            "block" => {
                let ids = self.ids(arg)?;
                book.block(ids).map(|_| Outcome::None)
            }
            "unblock" => {
                let ids = self.ids(arg)?;
                book.unblock(ids).map(|_| Outcome::None)
            }
            "delete" => {
                let ids = self.ids(arg)?;
                book.delete(ids).map(|r| {
                    assert!(r.failed.is_empty(), "delete failed: {:?}", r.failed);
                    Outcome::None
                })
            }
            "merge" => {
                let p = self.id(&arg[0])?;
                let s = self.id(&arg[1])?;
                let choices: MergeChoices = serde_json::from_value(arg[2].clone())
                    .map_err(|e| StepError::Mismatch(format!("bad choices: {e}")))?;
                book.merge(&p, &s, &choices).map(|r| {
                    if let Some(m) = obj.get("as").and_then(J::as_str) {
                        self.merges.insert(m.to_string(), r.merge_id.clone());
                    }
                    Outcome::None
                })
            }
            "unmerge" => {
                let m = arg.as_str().unwrap_or_default();
                let id = self.merges.get(m).cloned().unwrap_or_else(|| m.to_string());
                book.unmerge(&id).map(|_| Outcome::None)
            }
            "get" => {
                let id = self.id(arg)?;
                book.get(&id).map(|c| Outcome::Contact(c.to_json()))
            }
            "archive" => book
                .archive_key(arg.as_str().unwrap_or_default())
                .map(|_| Outcome::None),
            "restore" => book
                .restore_key(arg.as_str().unwrap_or_default())
                .map(|_| Outcome::None),
            "parse" => {
                let ft: FieldType = arg[0]
                    .as_str()
                    .unwrap_or_default()
                    .parse()
                    .map_err(|e| StepError::Mismatch(format!("bad type: {e}")))?;
                rolodex::parse_value(ft, arg[1].as_str().unwrap_or_default())
                    .map(|v| Outcome::Value(v.canonical()))
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
                    .save_segment(arg[0].as_str().unwrap_or_default(), &f)
                    .map(|_| Outcome::None),
                Err(e) => Err(e),
            },
            "runSegment" => book
                .run_segment(arg.as_str().unwrap_or_default(), &Query::default())
                .map(Outcome::Page),
            "import" => {
                let text = arg.as_str().unwrap_or_default().to_string();
                let mut opts = obj.get("options").cloned().unwrap_or_else(|| json!({}));
                let file = opts
                    .as_object_mut()
                    .and_then(|o| o.remove("file"))
                    .and_then(|f| f.as_str().map(str::to_string))
                    .unwrap_or_else(|| "import.csv".to_string());
                self.import(&text, &file, opts)?
            }
            "reimport" => {
                let Some(text) = self.last_export.clone() else {
                    return mismatch("reimport without an export before it");
                };
                self.import(&text, "export.csv", arg.clone())?
            }
            "preview" => book
                .preview_csv(std::io::Cursor::new(
                    arg.as_str().unwrap_or_default().as_bytes(),
                ))
                .map(Outcome::Preview),
            "export" => {
                let opts: ExportOptions = serde_json::from_value(arg.clone())
                    .map_err(|e| StepError::Mismatch(format!("bad export options: {e}")))?;
                let path = self.tmp.join("export-out.csv");
                let file = std::fs::File::create(&path)
                    .map_err(|e| StepError::Mismatch(format!("temp file: {e}")))?;
                match book.export_csv(file, opts) {
                    Ok(_) => {
                        let text = std::fs::read_to_string(&path)
                            .map_err(|e| StepError::Mismatch(format!("export text: {e}")))?;
                        self.last_export = Some(text.clone());
                        Ok(Outcome::Export(text))
                    }
                    Err(e) => Err(e),
                }
            }
            other => return Err(StepError::Unknown(other.to_string())),
        };
        Ok(out)
    }

    /// Writes `text` to a temp file named `file` and imports it with `options` (the
    /// `fileName` is `file`), keeping the failure log.
    fn import(
        &self,
        text: &str,
        file: &str,
        mut options: J,
    ) -> Result<Result<Outcome, rolodex::Error>, StepError> {
        let path = self.tmp.join(file);
        std::fs::write(&path, text).map_err(|e| StepError::Mismatch(format!("temp file: {e}")))?;
        if let Some(o) = options.as_object_mut() {
            o.insert("fileName".into(), J::String(file.to_string()));
        }
        let options: ImportOptions = serde_json::from_value(options)
            .map_err(|e| StepError::Mismatch(format!("bad import options: {e}")))?;
        let mut log = Vec::new();
        Ok(self
            .book
            .import_csv_with_log(path.as_path(), options, None, Some(&mut log))
            .map(|r| Outcome::Import(r, String::from_utf8_lossy(&log).into_owned())))
    }

    /// A fingerprint of the whole channel, to check that a failed step changed nothing.
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
            "{}|{:?}|{}",
            serde_json::to_string(&all).unwrap(),
            self.book.schema().unwrap(),
            self.book.mu_count().unwrap()
        )
    }

    fn step(&mut self, step: &J) -> StepResult {
        let expect_error = step.get("expectError").and_then(J::as_str);
        let before = expect_error.map(|_| self.fingerprint());
        let result = self.run(step)?;
        match (expect_error, result) {
            (Some(kind), Err(e)) => {
                if e.kind().as_str() != kind {
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
                let want = step["mu"].as_u64();
                if want != Some(n) {
                    return mismatch(format!("mu: expected {want:?}, got {n}"));
                }
                Ok(())
            }
            Outcome::Value(v) => match expect {
                Some(J::String(want)) if want == &v => Ok(()),
                Some(want) => mismatch(format!("parse: expected {want}, got {v:?}")),
                None => Ok(()),
            },
            Outcome::Page(page) => {
                let Some(exp) = expect.and_then(J::as_object) else {
                    return Ok(());
                };
                if let Some(total) = exp.get("total") {
                    if total.as_u64() != Some(page.total) {
                        return mismatch(format!("total: expected {total}, got {}", page.total));
                    }
                }
                if let Some(names) = exp.get("names") {
                    let mut want: Vec<J> = names.as_array().cloned().unwrap_or_default();
                    let mut got: Vec<J> = page
                        .contacts
                        .iter()
                        .map(|c| c.name().map_or(J::Null, |n| J::String(n.to_string())))
                        .collect();
                    if exp.get("ordered") != Some(&J::Bool(true)) {
                        let key = |v: &J| v.to_string();
                        want.sort_by_key(key);
                        got.sort_by_key(key);
                    }
                    if want != got {
                        return mismatch(format!("names: expected {want:?}, got {got:?}"));
                    }
                }
                if let Some(unmatched) = exp.get("unmatchedTerms") {
                    if unmatched != &json!(page.unmatched_terms) {
                        return mismatch(format!(
                            "unmatchedTerms: expected {unmatched}, got {:?}",
                            page.unmatched_terms
                        ));
                    }
                }
                Ok(())
            }
            Outcome::Import(report, log) => {
                let Some(exp) = expect.and_then(J::as_object) else {
                    return Ok(());
                };
                let got = serde_json::to_value(&report).unwrap();
                for (key, want) in exp {
                    match key.as_str() {
                        "failures" => {
                            let want = want.as_array().cloned().unwrap_or_default();
                            if want.len() as u64 != report.failed {
                                return mismatch(format!(
                                    "failures: {} listed but the report has failed = {}",
                                    want.len(),
                                    report.failed
                                ));
                            }
                            for (i, w) in want.iter().enumerate() {
                                let Some(g) = report.failures.get(i) else {
                                    return mismatch(format!("failures[{i}] missing: {w}"));
                                };
                                if w.get("rowNumber")
                                    .is_some_and(|n| n.as_u64() != Some(g.row_number))
                                    || w.get("errorColumns")
                                        .is_some_and(|c| c != &json!(g.error_columns))
                                {
                                    return mismatch(format!(
                                        "failures[{i}]: expected {w}, got {g:?}"
                                    ));
                                }
                            }
                        }
                        "failureLogHeader" => {
                            let first = log.lines().next().unwrap_or_default();
                            let got: Vec<&str> = first.split(',').collect();
                            if want != &json!(got) {
                                return mismatch(format!(
                                    "failureLogHeader: expected {want}, got {got:?}"
                                ));
                            }
                        }
                        _ => {
                            if got.get(key) != Some(want) {
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
                let Some(exp) = expect.and_then(J::as_object) else {
                    return Ok(());
                };
                if let Some(h) = exp.get("header") {
                    if h != &json!(p.header) {
                        return mismatch(format!(
                            "preview header: expected {h}, got {:?}",
                            p.header
                        ));
                    }
                }
                if let Some(n) = exp.get("rows") {
                    if n.as_u64() != Some(p.rows.len() as u64) {
                        return mismatch(format!(
                            "preview rows: expected {n}, got {}",
                            p.rows.len()
                        ));
                    }
                }
                if let Some(n) = exp.get("totalRows") {
                    if n.as_u64() != Some(p.total_rows) {
                        return mismatch(format!(
                            "preview totalRows: expected {n}, got {}",
                            p.total_rows
                        ));
                    }
                }
                Ok(())
            }
            Outcome::Export(text) => {
                let Some(exp) = expect.and_then(J::as_object) else {
                    return Ok(());
                };
                if let Some(h) = exp.get("header") {
                    let first = text.lines().next().unwrap_or_default();
                    let got: Vec<&str> = first.split(',').collect();
                    if h != &json!(got) {
                        return mismatch(format!("export header: expected {h}, got {got:?}"));
                    }
                }
                if let Some(n) = exp.get("lines") {
                    let mut r = csv::ReaderBuilder::new()
                        .has_headers(true)
                        .flexible(true)
                        .from_reader(text.as_bytes());
                    let got = r.byte_records().count() as u64;
                    if n.as_u64() != Some(got) {
                        return mismatch(format!("export lines: expected {n}, got {got}"));
                    }
                }
                for s in exp
                    .get("contains")
                    .and_then(J::as_array)
                    .into_iter()
                    .flatten()
                {
                    let s = s.as_str().unwrap_or_default();
                    if !text.contains(s) {
                        return mismatch(format!("export does not contain {s:?}:\n{text}"));
                    }
                }
                for s in exp
                    .get("notContains")
                    .and_then(J::as_array)
                    .into_iter()
                    .flatten()
                {
                    let s = s.as_str().unwrap_or_default();
                    if text.contains(s) {
                        return mismatch(format!("export contains {s:?}:\n{text}"));
                    }
                }
                Ok(())
            }
            Outcome::Contact(c) => {
                let Some(exp) = expect.and_then(J::as_object) else {
                    return Ok(());
                };
                for (path, want) in exp {
                    let got = lookup(&c, path);
                    let got = got.unwrap_or(J::Null);
                    if &got != want {
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
    if let Some(v) = c.pointer(&format!("/{}", path.replace('.', "/"))) {
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
        let text = std::fs::read_to_string(file).unwrap();
        let cases: Vec<J> = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not a vector file: {e}", file.display()));
        let fname = file.file_name().unwrap().to_string_lossy().to_string();
        for case in cases {
            let name = case["name"].as_str().unwrap_or("?").to_string();
            let mut ctx = Case {
                book: ContactBook::in_memory(),
                aliases: HashMap::new(),
                merges: HashMap::new(),
                tmp: tmp.path(),
                last_export: None,
            };
            let mut outcome = Ok(());
            for (i, step) in case["steps"].as_array().into_iter().flatten().enumerate() {
                if let Err(e) = ctx.step(step) {
                    outcome = Err((i, e));
                    break;
                }
            }
            match outcome {
                Ok(()) => {
                    passed += 1;
                    if skip_list.contains(&name) {
                        failed += 1;
                        problems.push(format!(
                            "{fname}: {name}: passes but is listed in tests/vectors-skip.txt; remove it"
                        ));
                    }
                }
                Err((_, StepError::Unknown(op))) if skip_list.contains(&name) => {
                    skipped += 1;
                    let _ = op;
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
