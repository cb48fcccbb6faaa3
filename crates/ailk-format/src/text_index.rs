//! [`TextIndex`]: the inverted index of one file's text column — sorted terms, each with its
//! postings (row, term frequency, the row's length and the term's positions in it) in row
//! order, and every row's length in terms — and its binary forms: version 2 (written;
//! `text_blob.rs`: a term dictionary in blocks and a small head at the end, so a search
//! reads only its terms' postings) and version 1 (still read; varints, rows and positions
//! delta-coded; both specified in `docs/format.md`). Decoding checks every count against the
//! bytes present: a corrupt or hostile blob is `FormatError::InvalidLayout`, never a panic.
//! Analysis (text → terms) lives in `ailk-index`; this module only orders and encodes terms.
//!
//! A `TextIndex` may also be partial ([`TextIndex::from_parts`]): the postings of a query's
//! terms only, as a search loads them from a version 2 blob.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::error::{FormatError, Result};

/// Longest term an index holds, in bytes (analyzers cut longer words at a character boundary).
pub const MAX_TERM_BYTES: usize = 64;

pub(crate) const MAGIC: &[u8; 4] = b"AITX";
pub(crate) const VERSION_1: u8 = 1;

/// One row holding a term: where, how often, the row's length and (when loaded) the term's
/// positions in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    /// Row in the file.
    pub row: u32,
    /// Term frequency in the row.
    pub tf: u32,
    /// Terms in the row.
    pub len: u32,
    /// Positions of the term among the row's terms, ascending (`tf` of them), or empty when
    /// the postings were loaded without positions.
    pub positions: Vec<u32>,
}

impl Posting {
    /// Term frequency.
    pub fn tf(&self) -> u32 {
        self.tf
    }
}

/// One file's inverted index over a text column (whole, or partial: some terms only).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextIndex {
    /// Rows of the file (null texts included).
    rows: u32,
    /// Terms, sorted, each once.
    terms: Vec<String>,
    /// `postings[t]`: the rows holding `terms[t]`, ascending.
    postings: Vec<Arc<[Posting]>>,
    /// Terms per row (0 for a null or empty text); empty in a partial index.
    doc_len: Vec<u32>,
    /// Terms in all rows.
    total_len: u64,
    /// Whether postings carry their positions.
    positions: bool,
}

impl TextIndex {
    /// Indexes rows given as their terms in order (repeats kept; a null row has none).
    pub fn from_term_rows(rows: impl IntoIterator<Item = Vec<String>>) -> Self {
        let mut by_term: BTreeMap<String, Vec<Posting>> = BTreeMap::new();
        let mut doc_len = Vec::new();
        for (row, terms) in rows.into_iter().enumerate() {
            let row = row as u32;
            let len = terms.len() as u32;
            doc_len.push(len);
            let mut positions: BTreeMap<String, Vec<u32>> = BTreeMap::new();
            for (at, t) in terms.into_iter().enumerate() {
                positions.entry(t).or_default().push(at as u32);
            }
            for (t, positions) in positions {
                let tf = positions.len() as u32;
                by_term.entry(t).or_default().push(Posting { row, tf, len, positions });
            }
        }
        let (terms, postings): (Vec<String>, Vec<Vec<Posting>>) = by_term.into_iter().unzip();
        let total_len = doc_len.iter().map(|&l| u64::from(l)).sum();
        Self {
            rows: doc_len.len() as u32,
            terms,
            postings: postings.into_iter().map(Arc::from).collect(),
            doc_len,
            total_len,
            positions: true,
        }
    }

    /// A partial index: `rows` and `total_len` of the whole file, and the postings of some
    /// terms (sorted by term, each once; `positions`: whether they carry positions). Row
    /// lengths come from the postings ([`Posting::len`]); [`TextIndex::doc_len`] answers 0.
    pub fn from_parts(
        rows: u32,
        total_len: u64,
        terms: Vec<(String, Arc<[Posting]>)>,
        positions: bool,
    ) -> Self {
        let (terms, postings) = terms.into_iter().unzip();
        Self { rows, terms, postings, doc_len: Vec::new(), total_len, positions }
    }

    pub(crate) fn from_decoded(
        rows: u32,
        terms: Vec<String>,
        postings: Vec<Arc<[Posting]>>,
        doc_len: Vec<u32>,
    ) -> Self {
        let total_len = doc_len.iter().map(|&l| u64::from(l)).sum();
        Self { rows, terms, postings, doc_len, total_len, positions: true }
    }

    /// Rows of the file.
    pub fn rows(&self) -> u32 {
        self.rows
    }

    /// Terms in all rows of the file.
    pub fn total_len(&self) -> u64 {
        self.total_len
    }

    /// Whether the postings carry positions (phrase queries need them).
    pub fn has_positions(&self) -> bool {
        self.positions
    }

    /// Estimated bytes held in memory.
    pub fn memory_bytes(&self) -> u64 {
        let terms: usize = self.terms.iter().map(|t| t.len() + 24).sum();
        let postings: usize =
            self.postings.iter().flat_map(|p| p.iter()).map(|p| 40 + p.positions.len() * 4).sum::<usize>()
                + self.postings.len() * 16;
        (terms + postings + self.doc_len.len() * 4) as u64
    }

    /// Distinct terms.
    pub fn term_count(&self) -> usize {
        self.terms.len()
    }

    /// The terms with their postings, in term order.
    pub fn terms(&self) -> impl Iterator<Item = (&str, &[Posting])> {
        self.terms.iter().map(String::as_str).zip(self.postings.iter().map(|p| &p[..]))
    }

    /// Terms of `row` (0 past the end, and in a partial index).
    pub fn doc_len(&self, row: u32) -> u32 {
        self.doc_len.get(row as usize).copied().unwrap_or(0)
    }

    /// Every row's length (empty in a partial index).
    pub fn doc_lens(&self) -> &[u32] {
        &self.doc_len
    }

    /// The postings of `term` (rows ascending), empty when the index lacks it.
    pub fn postings(&self, term: &str) -> &[Posting] {
        match self.terms.binary_search_by(|t| t.as_str().cmp(term)) {
            Ok(i) => &self.postings[i],
            Err(_) => &[],
        }
    }

    /// The version 1 binary form (what 1.2 sections held before version 2; kept so that
    /// readers of it stay tested).
    pub fn encode_v1(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.doc_len.len() + self.terms.len() * 8);
        out.extend_from_slice(MAGIC);
        out.push(VERSION_1);
        put(&mut out, u64::from(self.rows));
        put(&mut out, self.terms.len() as u64);
        self.doc_len.iter().for_each(|&l| put(&mut out, u64::from(l)));
        for (term, postings) in self.terms() {
            put(&mut out, term.len() as u64);
            out.extend_from_slice(term.as_bytes());
            put(&mut out, postings.len() as u64);
            let mut prev = 0u32;
            for (i, p) in postings.iter().enumerate() {
                put(&mut out, u64::from(if i == 0 { p.row } else { p.row - prev }));
                put(&mut out, u64::from(p.tf()));
                put_positions(&mut out, &p.positions);
                prev = p.row;
            }
        }
        out
    }
}

/// Positions: the first absolute, later ones deltas.
pub(crate) fn put_positions(out: &mut Vec<u8>, positions: &[u32]) {
    let mut last = 0u32;
    for (j, &at) in positions.iter().enumerate() {
        put(out, u64::from(if j == 0 { at } else { at - last }));
        last = at;
    }
}

/// Decodes `tf` positions of a row of `len` terms.
pub(crate) fn read_positions(c: &mut Reader<'_>, tf: usize, len: u64) -> Result<Vec<u32>> {
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
    Ok(positions)
}

/// Decodes a version 1 blob (magic and version already checked).
pub(crate) fn decode_v1(bytes: &[u8]) -> Result<TextIndex> {
    let mut c = Reader::new(&bytes[5..]);
    let rows = c.count(u32::MAX as u64)? as u32;
    let term_count = c.count(u32::MAX as u64)?;
    // Every row length and every term takes at least one byte: bound the allocations.
    let mut doc_len = Vec::with_capacity((rows as usize).min(c.left()));
    for _ in 0..rows {
        doc_len.push(c.count(u32::MAX as u64)? as u32);
    }
    let mut seen = vec![0u64; doc_len.len()];
    let mut terms: Vec<String> = Vec::with_capacity(term_count.min(c.left()));
    let mut postings: Vec<Arc<[Posting]>> = Vec::with_capacity(term_count.min(c.left()));
    for _ in 0..term_count {
        let len = c.count(MAX_TERM_BYTES as u64 * 4)?;
        let term = std::str::from_utf8(c.take(len)?).map_err(|_| corrupt("a term is not UTF-8"))?;
        if terms.last().is_some_and(|t| t.as_str() >= term) {
            return Err(corrupt("terms out of order"));
        }
        let df = c.count(u64::from(rows))?;
        if df == 0 {
            return Err(corrupt("a term without postings"));
        }
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
            let len = doc_len[row as usize];
            let tf = c.count(u64::from(len))?;
            if tf == 0 {
                return Err(corrupt("a posting of frequency 0"));
            }
            let positions = read_positions(&mut c, tf, u64::from(len))?;
            seen[row as usize] += tf as u64;
            list.push(Posting { row: row as u32, tf: tf as u32, len, positions });
        }
        terms.push(term.to_string());
        postings.push(list.into());
    }
    if c.left() != 0 {
        return Err(corrupt("trailing bytes"));
    }
    if seen.iter().zip(&doc_len).any(|(&s, &l)| s != u64::from(l)) {
        return Err(corrupt("row lengths disagree with the postings"));
    }
    Ok(TextIndex::from_decoded(rows, terms, postings, doc_len))
}

pub(crate) fn corrupt(why: &str) -> FormatError {
    FormatError::layout(format!("text index: {why}"))
}

/// LEB128 varint.
pub(crate) fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    pub(crate) fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.left() {
            return Err(corrupt("truncated"));
        }
        let s = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }

    /// A little-endian `u32`.
    pub(crate) fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A varint no larger than `max`.
    pub(crate) fn count(&mut self, max: u64) -> Result<usize> {
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
