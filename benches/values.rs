//! Throughput of value parsing (R-VAL): phones (fast path vs the plain `phonenumber` crate),
//! datetimes and emails, each over ≥ 100,000 distinct inputs.
//!
//! Run: `cargo bench --bench values -- --warm-up-time 1 --measurement-time 3`

#[path = "common/mod.rs"]
mod common;
use common::*;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rolodex::value::{internals, normalize_email, normalize_phone, parse_datetime};

const N: usize = 100_000;

/// A near-canonical international number from one of eight countries.
fn near_canonical(r: &mut Rng) -> String {
    match r.next() % 8 {
        0 => format!("+8210{}", r.digits(8)),
        1 => format!("+82 10-{}-{}", r.digits(4), r.digits(4)),
        2 => format!(
            "+1 {}-{}{}-{}",
            r.pick(&["415", "212", "646", "310", "617", "312"]),
            2 + r.next() % 8,
            r.digits(2),
            r.digits(4)
        ),
        3 => format!("+44 7{}{} {}", 4 + r.next() % 6, r.digits(2), r.digits(6)),
        4 => format!("+81 90-{}-{}", r.digits(4), r.digits(4)),
        5 => format!("+49 15{} {}", r.pick(&["1", "2", "7"]), r.digits(7)),
        6 => format!("+39 06 {} {}", r.digits(4), r.digits(4)),
        _ => format!(
            "+33 6 {} {} {} {}",
            r.digits(2),
            r.digits(2),
            r.digits(2),
            r.digits(2)
        ),
    }
}

/// Distinct near-canonical numbers that are valid.
fn phones(n: usize) -> Vec<String> {
    let mut r = Rng(0x1234_5678_9abc_def1);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let s = near_canonical(&mut r);
        if normalize_phone(&s).is_ok() && seen.insert(s.clone()) {
            out.push(s);
        }
    }
    out
}

/// A mix: 85% near-canonical (valid or not), 5% too short, 10% forms only the crate parses
/// (national numbers, full-width plus, `tel:` URIs, dots).
fn mixed(n: usize) -> Vec<String> {
    let mut r = Rng(0x0fed_cba9_8765_4321);
    (0..n)
        .map(|i| match i % 20 {
            0 => format!("010-{}-{}", r.digits(4), r.digits(4)),
            1 => format!("\u{FF0B}82 10 {} {}", r.digits(4), r.digits(4)),
            2 => format!("+82 10 {}", r.digits(1)),
            3 => format!("tel:+1-415-{}-{}", r.digits(3), r.digits(4)),
            _ => near_canonical(&mut r),
        })
        .collect()
}

fn datetimes(n: usize) -> Vec<String> {
    let mut r = Rng(0x5555_aaaa_1234_9876);
    (0..n)
        .map(|i| {
            let (y, mo, d) = (1990 + r.next() % 40, 1 + r.next() % 12, 1 + r.next() % 28);
            let (h, mi, s) = (r.next() % 24, r.next() % 60, r.next() % 60);
            match i % 6 {
                0 => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z"),
                1 => format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}+09:00"),
                2 => format!(
                    "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:03}Z",
                    r.next() % 1000
                ),
                3 => format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}"),
                4 => format!("{}", 1_000_000_000_000 + r.next() % 800_000_000_000),
                _ => format!(
                    "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:06}-05:30",
                    r.next() % 1_000_000
                ),
            }
        })
        .collect()
}

fn emails(n: usize) -> Vec<String> {
    let mut r = Rng(0x7777_3333_bbbb_1111);
    let domains = [
        "Example.com",
        "gmail.com",
        "naver.com",
        "Corp.Example.CO.KR",
        "mail.de",
    ];
    let firsts = ["kim", "lee", "park", "john.doe", "a_b", "Ji.Hoon", "x+tag"];
    (0..n)
        .map(|i| {
            format!(
                "{}{}{}@{}",
                r.pick(&firsts),
                i,
                r.digits(2),
                r.pick(&domains)
            )
        })
        .collect()
}

fn bench_values(c: &mut Criterion) {
    let valid = phones(N);
    let mix = mixed(N);
    let crate_sample: Vec<String> = mix.iter().take(5_000).cloned().collect();

    let mut g = c.benchmark_group("phone");
    g.sample_size(10);
    g.throughput(Throughput::Elements(valid.len() as u64));
    g.bench_function("normalize_phone/near_canonical_valid_100k", |b| {
        b.iter(|| {
            for s in &valid {
                black_box(normalize_phone(black_box(s)).ok());
            }
        })
    });
    g.throughput(Throughput::Elements(mix.len() as u64));
    g.bench_function("normalize_phone/mixed_100k", |b| {
        b.iter(|| {
            for s in &mix {
                black_box(normalize_phone(black_box(s)).ok());
            }
        })
    });
    g.throughput(Throughput::Elements(crate_sample.len() as u64));
    g.bench_function("phonenumber_crate/mixed_5k", |b| {
        b.iter(|| {
            for s in &crate_sample {
                black_box(internals::phone_crate(black_box(s)));
            }
        })
    });
    g.finish();

    let dts = datetimes(N);
    let mut g = c.benchmark_group("datetime");
    g.sample_size(20);
    g.throughput(Throughput::Elements(dts.len() as u64));
    g.bench_function("parse_datetime_100k", |b| {
        b.iter(|| {
            for s in &dts {
                black_box(parse_datetime(black_box(s)).ok());
            }
        })
    });
    g.finish();

    let ems = emails(N);
    let mut g = c.benchmark_group("email");
    g.sample_size(20);
    g.throughput(Throughput::Elements(ems.len() as u64));
    g.bench_function("normalize_email_100k", |b| {
        b.iter(|| {
            for s in &ems {
                black_box(normalize_email(black_box(s)).ok());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench_values);
criterion_main!(benches);
