//! [`TextIndex`]: the inverted index of one file's text column — sorted terms, each with its
//! postings (row and the term's positions in it) in row order, and every row's length in
//! terms — and its compact binary form (varints, rows and positions delta-coded; specified in
//! `docs/format.md`), decoded with every count checked against the bytes present: a corrupt or
//! hostile blob is `FormatError::InvalidLayout`, never a panic. Analysis (text → terms) lives
//! in `ailk-index`; this module only orders and encodes terms.

use std::collections::BTreeMap;

use crate::error::{FormatError, Result};

/// Longest term an index holds, in bytes (analyzers cut longer words at a character boundary).
pub const MAX_TERM_BYTES: usize = 64;

const MAGIC: &[u8; 4] = b"AITX";
const VERSION: u8 = 1;

/// One row holding a term: where, and at which term positions (ascending; their count is the
/// term frequency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    /// Row in the file.
    pub row: u32,
    /// Positions of the term among the row's terms.
    pub positions: Vec<u32>,
}

impl Posting {
    /// Term frequency.
    pub fn tf(&self) -> u32 {
        self.positions.len() as u32
    }
}

/// One file's inverted index over a text column.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextIndex {
    /// Rows of the file (null texts included).
    rows: u32,
    /// Terms, sorted, each once.
    terms: Vec<String>,
    /// `postings[t]`: the rows holding `terms[t]`, ascending.
    postings: Vec<Vec<Posting>>,
    /// Terms per row (0 for a null or empty text).
    doc_len: Vec<u32>,
}

impl TextIndex {
    /// Indexes rows given as their terms in order (repeats kept; a null row has none).
    pub fn from_term_rows(rows: impl IntoIterator<Item = Vec<String>>) -> Self {
        let mut by_term: BTreeMap<String, Vec<Posting>> = BTreeMap::new();
        let mut doc_len = Vec::new();
        for (row, terms) in rows.into_iter().enumerate() {
            let row = row as u32;
            doc_len.push(terms.len() as u32);
            let mut positions: BTreeMap<String, Vec<u32>> = BTreeMap::new();
            for (at, t) in terms.into_iter().enumerate() {
                positions.entry(t).or_default().push(at as u32);
            }
            for (t, positions) in positions {
                by_term.entry(t).or_default().push(Posting { row, positions });
            }
        }
        let (terms, postings) = by_term.into_iter().unzip();
        Self { rows: doc_len.len() as u32, terms, postings, doc_len }
    }

    /// Rows of the file.
    pub fn rows(&self) -> u32 {
        self.rows
    }

    /// Estimated bytes held in memory.
    pub fn memory_bytes(&self) -> u64 {
        let terms: usize = self.terms.iter().map(|t| t.len() + 24).sum();
        let postings: usize =
            self.postings.iter().flatten().map(|p| 32 + p.positions.len() * 4).sum::<usize>()
                + self.postings.len() * 24;
        (terms + postings + self.doc_len.len() * 4) as u64
    }

    /// Distinct terms.
    pub fn term_count(&self) -> usize {
        self.terms.len()
    }

    /// Terms of `row` (0 past the end).
    pub fn doc_len(&self, row: u32) -> u32 {
        self.doc_len.get(row as usize).copied().unwrap_or(0)
    }

    /// The postings of `term` (rows ascending), empty when the file lacks it.
    pub fn postings(&self, term: &str) -> &[Posting] {
        match self.terms.binary_search_by(|t| t.as_str().cmp(term)) {
            Ok(i) => &self.postings[i],
            Err(_) => &[],
        }
    }

    /// The binary form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.doc_len.len() + self.terms.len() * 8);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        put(&mut out, u64::from(self.rows));
        put(&mut out, self.terms.len() as u64);
        self.doc_len.iter().for_each(|&l| put(&mut out, u64::from(l)));
        for (term, postings) in self.terms.iter().zip(&self.postings) {
            put(&mut out, term.len() as u64);
            out.extend_from_slice(term.as_bytes());
            put(&mut out, postings.len() as u64);
            let mut prev = 0u32;
            for (i, p) in postings.iter().enumerate() {
                put(&mut out, u64::from(if i == 0 { p.row } else { p.row - prev }));
                put(&mut out, u64::from(p.tf()));
                let mut last = 0u32;
                for (j, &at) in p.positions.iter().enumerate() {
                    put(&mut out, u64::from(if j == 0 { at } else { at - last }));
                    last = at;
                }
                prev = p.row;
            }
        }
        out
    }

    /// Decodes [`TextIndex::encode`]'s bytes, checking every count, order and sum.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut c = Reader { bytes, at: 0 };
        if c.take(4)? != MAGIC {
            return Err(corrupt("bad magic"));
        }
        let version = c.take(1)?[0];
        if version != VERSION {
            return Err(corrupt(&format!("version {version}, this build reads {VERSION}")));
        }
        let rows = c.count(u32::MAX as u64)? as u32;
        let term_count = c.count(u32::MAX as u64)?;
        // Every row length and every term takes at least one byte: bound the allocations.
        let mut doc_len = Vec::with_capacity((rows as usize).min(c.left()));
        for _ in 0..rows {
            doc_len.push(c.count(u32::MAX as u64)? as u32);
        }
        let mut seen = vec![0u64; rows as usize];
        let mut terms: Vec<String> = Vec::with_capacity(term_count.min(c.left()));
        let mut postings = Vec::with_capacity(term_count.min(c.left()));
        for _ in 0..term_count {
            let len = c.count(MAX_TERM_BYTES as u64 * 4)?;
            let term = std::str::from_utf8(c.take(len)?).map_err(|_| corrupt("a term is not UTF-8"))?;
            if terms.last().is_some_and(|t| t.as_str() >= term) {
                return Err(corrupt("terms out of order"));
            }
            let df = c.count(u64::from(rows))?;
            let mut list = Vec::with_capacity(df.min(c.left()));
            let mut row = 0u64;
            for i in 0..df {
                let delta = c.count(u64::from(rows))?;
                if i > 0 && delta == 0 {
                    return Err(corrupt("a row repeats in a posting list"));
                }
                row += delta as u64;
                if row >= u64::from(rows) {
                    return Err(corrupt("a posting past the rows"));
                }
                let len = u64::from(doc_len[row as usize]);
                let tf = c.count(len)?;
                if tf == 0 {
                    return Err(corrupt("a posting of frequency 0"));
                }
                let mut positions = Vec::with_capacity(tf.min(c.left()));
                let mut at = 0u64;
                for j in 0..tf {
                    let delta = c.count(len)?;
                    if j > 0 && delta == 0 {
                        return Err(corrupt("a position repeats"));
                    }
                    at += delta as u64;
                    if at >= len {
                        return Err(corrupt("a position past the row's terms"));
                    }
                    positions.push(at as u32);
                }
                seen[row as usize] += tf as u64;
                list.push(Posting { row: row as u32, positions });
            }
            terms.push(term.to_string());
            postings.push(list);
        }
        if c.left() != 0 {
            return Err(corrupt("trailing bytes"));
        }
        if seen.iter().zip(&doc_len).any(|(&s, &l)| s != u64::from(l)) {
            return Err(corrupt("row lengths disagree with the postings"));
        }
        Ok(Self { rows, terms, postings, doc_len })
    }
}

fn corrupt(why: &str) -> FormatError {
    FormatError::layout(format!("text index: {why}"))
}

/// LEB128 varint.
fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.left() {
            return Err(corrupt("truncated"));
        }
        let s = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }

    /// A varint no larger than `max`.
    fn count(&mut self, max: u64) -> Result<usize> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.take(1)?[0];
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return if v <= max { Ok(v as usize) } else { Err(corrupt("a count out of range")) };
            }
        }
        Err(corrupt("a varint longer than 64 bits"))
    }
}
