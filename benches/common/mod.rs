//! Helpers shared by the benches: a deterministic generator and the process's resident
//! memory. Each bench uses a subset of them.
#![allow(dead_code)]

/// A small deterministic generator (xorshift), so the data is the same on every run.
pub struct Rng(pub u64);

impl Rng {
    /// The next pseudo-random number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// `n` decimal digits.
    pub fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + (self.next() % 10) as u8))
            .collect()
    }

    /// One of `xs`.
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

/// The resident memory of this process in bytes (Linux `/proc/self/status`), 0 elsewhere.
pub fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// Contact ids kept by a bench in two flat buffers instead of a `String` each, so that the
/// bench's own copies of the ids can be told apart from the memory of the book they came
/// from: [`IdList::heap_bytes`] is what they take.
pub struct IdList {
    text: String,
    ends: Vec<usize>,
}

impl IdList {
    /// Room for `n` ids of up to `len` bytes, reserved up front so that neither buffer
    /// grows (and leaves a freed old buffer behind in the resident memory).
    pub fn with_capacity(n: usize, len: usize) -> IdList {
        IdList {
            text: String::with_capacity(n * len),
            ends: Vec::with_capacity(n),
        }
    }

    /// Appends an id.
    pub fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.ends.push(self.text.len());
    }

    /// The `i`-th id.
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }

    /// How many ids.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The bytes both buffers hold.
    pub fn heap_bytes(&self) -> u64 {
        (self.text.capacity() + self.ends.capacity() * std::mem::size_of::<usize>()) as u64
    }
}
