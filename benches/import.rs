//! Import and export targets (issue: importer, phase 2):
//! - a ~100 MB leads CSV (≈700k rows: name, email, `+82 10-…` mobile, a datetime, a number,
//!   a tag list, free text, the two opt-outs), made with a fixed seed in a temp dir;
//! - the peer: the plain `csv` crate reading the same file as `ByteRecord`s;
//! - `import_csv` into the in-memory store end to end (target: within 10× the peer);
//! - transient memory of one import: the heap at its peak (a counting allocator, every
//!   thread) minus the heap the finished store keeps, printed (target ≤ 1× the file size);
//! - `export_csv` of 1,000,000 contacts (target ≥ 200 MB/s).
//!
//! `ROLODEX_BENCH_ROWS` scales both the file (rows) and the export (contacts) down.

#[path = "common/mod.rs"]
mod common;
use common::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use rolodex::{
    ContactBook, ExportOptions, FieldType, IdentifyBy, ImportOptions, ImportReport, NewLead, Query,
};
use serde_json::json;

/// The system allocator, counting live and peak heap bytes, so that transient memory is
/// measured exactly (RSS hides it: freed memory is kept by the allocator).
struct CountingAlloc;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn rows() -> Option<usize> {
    std::env::var("ROLODEX_BENCH_ROWS")
        .ok()
        .and_then(|s| s.parse().ok())
}

const FIRST: [&str; 8] = [
    "Min-jun", "Seo-yeon", "Ji-ho", "Ha-eun", "Do-yun", "Jimin", "Alex", "Sam",
];
const LAST: [&str; 6] = ["Kim", "Lee", "Park", "Choi", "Jung", "Kang"];
const TAGS: [&str; 6] = ["vip", "sale", "new", "churn/risk", "beta", "event/2025"];
const WORDS: [&str; 12] = [
    "called",
    "about",
    "the",
    "spring",
    "order",
    "asked",
    "for",
    "a",
    "refund",
    "likes",
    "newsletter",
    "delivery",
];

const CITIES: [&str; 3] = ["Seoul", "Busan", "Incheon"];

const HEADER: &str =
    "name,email,mobile,lastVisit,spent,interests,note,unsubscribeEmail,unsubscribeTexting\n";

/// Writes the leads file: `n` rows, or rows until ~100 MB (under the 100 MiB import limit).
fn make_csv(path: &Path, n: Option<usize>) -> (u64, usize) {
    let mut out = io::BufWriter::new(std::fs::File::create(path).unwrap());
    out.write_all(HEADER.as_bytes()).unwrap();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut bytes = HEADER.len() as u64;
    let mut line = String::with_capacity(256);
    let mut i = 0;
    loop {
        match n {
            Some(n) if i >= n => break,
            None if bytes >= 100_000_000 => break,
            _ => {}
        }
        use std::fmt::Write as _;
        line.clear();
        let tags: Vec<&str> = (0..1 + rng.below(3))
            .map(|_| TAGS[rng.below(6) as usize])
            .collect();
        let mut note = String::new();
        for k in 0..(2 + rng.below(4)) {
            if k > 0 {
                note.push(' ');
            }
            note.push_str(WORDS[rng.below(12) as usize]);
        }
        let _ = writeln!(
            line,
            "{} {},user{i}@example{}.com,+82 10-{:04}-{:04},2025-{:02}-{:02}T{:02}:{:02}:{:02}+09:00,{}.{:02},\"[{}]\",{},{},{}",
            LAST[rng.below(6) as usize],
            FIRST[rng.below(8) as usize],
            i % 7,
            1000 + i / 10_000,
            i % 10_000,
            1 + rng.below(12),
            1 + rng.below(28),
            rng.below(24),
            rng.below(60),
            rng.below(60),
            rng.below(100_000),
            rng.below(100),
            tags.iter()
                .map(|t| format!("\"\"{t}\"\""))
                .collect::<Vec<_>>()
                .join(","),
            note,
            rng.below(2) == 0,
            rng.below(2) == 0,
        );
        out.write_all(line.as_bytes()).unwrap();
        bytes += line.len() as u64;
        i += 1;
    }
    out.flush().unwrap();
    (bytes, i)
}

fn define(book: &ContactBook) {
    book.define_key("profile.lastVisit", FieldType::Datetime)
        .unwrap();
    book.define_key("profile.spent", FieldType::Number).unwrap();
    book.define_key("profile.interests", FieldType::Tag)
        .unwrap();
    book.define_key("profile.note", FieldType::String).unwrap();
}

fn options() -> ImportOptions {
    ImportOptions::leads(IdentifyBy::Email)
        .map("name", Some("profile.name"))
        .map("email", Some("profile.email"))
        .map("mobile", Some("profile.mobileNumber"))
        .map("lastVisit", Some("profile.lastVisit"))
        .map("spent", Some("profile.spent"))
        .map("interests", Some("profile.interests"))
        .map("note", Some("profile.note"))
        .map("unsubscribeEmail", Some("unsubscribeEmail"))
        .map("unsubscribeTexting", Some("unsubscribeTexting"))
}

fn fresh_book() -> ContactBook {
    let book = ContactBook::in_memory();
    define(&book);
    book
}

fn import(book: &ContactBook, path: &Path) -> ImportReport {
    book.import_csv(path, options(), None).unwrap()
}

/// Counts bytes and drops them.
struct Counting(u64);
impl Write for Counting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn bench_import(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leads.csv");
    let t = Instant::now();
    let (size, n) = make_csv(&path, rows());
    eprintln!(
        "import bench: {n} rows, {:.1} MB file (made in {:.1?})",
        size as f64 / 1e6,
        t.elapsed()
    );

    // Transient memory of one import, outside criterion's loop: heap bytes at the peak of
    // the import minus heap bytes the finished store keeps (both from the counting
    // allocator); RSS growth shown beside it.
    {
        let book = fresh_book();
        let rss0 = rss_bytes();
        let live0 = LIVE.load(Ordering::Relaxed);
        PEAK.store(live0, Ordering::Relaxed);
        let t = Instant::now();
        let report = import(&book, &path);
        let took = t.elapsed();
        // The finished store has every search index up to date: a search first waits for
        // a flush still running behind on the store's background thread and brings the
        // last rows' indexes up to date, so the indexes count as kept and nothing of the
        // flush does. (A quick search that no contact matches: the search's own memory,
        // counted as transient, is then next to nothing.)
        let none = Query {
            search: Some("no such contact".into()),
            ..Query::new()
        };
        assert_eq!(book.search(&none).unwrap().total, 0);
        let kept = LIVE.load(Ordering::Relaxed) - live0;
        let transient = PEAK.load(Ordering::Relaxed) - live0 - kept;
        assert_eq!(report.created as usize, n, "{report:?}");
        assert_eq!(report.failed, 0, "{:?}", report.failures.first());
        eprintln!(
            "import once: {took:.2?} ({:.2} µs/row); store keeps {:.1} MB of heap (RSS +{:.1} MB); transient peak above it {:.1} MB = {:.3}× the file",
            took.as_secs_f64() * 1e6 / n as f64,
            kept as f64 / 1e6,
            rss_bytes().saturating_sub(rss0) as f64 / 1e6,
            transient as f64 / 1e6,
            transient as f64 / size as f64,
        );
        drop(book);
    }

    let mut g = c.benchmark_group("import");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Bytes(size));
    g.bench_function("csv crate ByteRecord (peer)", |b| {
        b.iter(|| {
            let mut r = csv::ReaderBuilder::new()
                .has_headers(true)
                .from_path(&path)
                .unwrap();
            let mut rec = csv::ByteRecord::new();
            let mut fields = 0usize;
            while r.read_byte_record(&mut rec).unwrap() {
                fields += rec.len();
            }
            black_box(fields)
        })
    });
    g.bench_function("import_csv leads, in-memory store", |b| {
        b.iter_batched(
            fresh_book,
            |book| {
                let r = import(&book, &path);
                black_box(r.created);
                book
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn bench_export(c: &mut Criterion) {
    let n = rows().unwrap_or(1_000_000);
    let book = ContactBook::in_memory();
    book.define_key("profile.city", FieldType::String).unwrap();
    book.define_key("profile.spent", FieldType::Number).unwrap();
    book.define_key("profile.joined", FieldType::Date).unwrap();
    let t = Instant::now();
    let mut rng = Rng(0xe4_9047);
    for i in 0..n {
        let lead = NewLead {
            email: Some(format!("user{i}@example{}.com", i % 4)),
            mobile_number: Some(format!("+8210{:08}", i)),
            name: Some(format!("User {i}")),
            profile: json!({
                "city": CITIES[rng.below(3) as usize],
                "spent": rng.below(100_000) as f64 / 100.0,
                "joined": format!("2024-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28)),
            })
            .as_object()
            .unwrap()
            .clone(),
            tags: vec![TAGS[i % 6].to_string()],
        };
        book.add_lead(lead).unwrap();
    }
    let mut probe = Counting(0);
    let t_export = Instant::now();
    let summary = book
        .export_csv(&mut probe, ExportOptions::default())
        .unwrap();
    eprintln!(
        "export bench: {n} contacts added in {:.1?}; one export: {} rows, {:.1} MB in {:.2?} = {:.0} MB/s",
        t.elapsed(),
        summary.rows,
        probe.0 as f64 / 1e6,
        t_export.elapsed(),
        probe.0 as f64 / 1e6 / t_export.elapsed().as_secs_f64()
    );

    // A filtered export (about a third of the contacts) goes through the store's search,
    // page by page in id order.
    let seoul = || ExportOptions {
        filter: Some(
            rolodex::Filter::from_value(
                &json!({"key": "profile.city", "op": "eq", "value": "Seoul"}),
            )
            .unwrap(),
        ),
        ..ExportOptions::default()
    };
    let mut filtered_probe = Counting(0);
    let t_filtered = Instant::now();
    let filtered = book.export_csv(&mut filtered_probe, seoul()).unwrap();
    eprintln!(
        "export bench: filtered export (city = Seoul): {} rows, {:.1} MB in {:.2?} = {:.0} MB/s",
        filtered.rows,
        filtered_probe.0 as f64 / 1e6,
        t_filtered.elapsed(),
        filtered_probe.0 as f64 / 1e6 / t_filtered.elapsed().as_secs_f64()
    );

    let mut g = c.benchmark_group("export");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(probe.0));
    g.bench_function("export_csv all visible, default columns", |b| {
        b.iter(|| {
            let mut out = Counting(0);
            book.export_csv(&mut out, ExportOptions::default()).unwrap();
            black_box(out.0)
        })
    });
    g.finish();
}

criterion_group!(benches, bench_import, bench_export);
criterion_main!(benches);
