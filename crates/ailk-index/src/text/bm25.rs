//! BM25 over the files of a table: [`CollectionStats`] (documents, total length, document
//! frequency of the query's terms) are counted per file over its live rows and summed, and
//! every file is scored with the sum, so a table's scores equal one BM25 over all its live
//! rows however they are split into files. The formula is Lucene's (8 and later, as
//! Elasticsearch and `bm25s`'s `lucene` method compute it):
//! `idf(t) · tf / (tf + k1 · (1 − b + b · len / avg_len))` with
//! `idf(t) = ln(1 + (N − df + 0.5) / (df + 0.5))`, summed over the query's terms (repeats
//! counted). (Older Lucene and tantivy multiply by `k1 + 1`, which changes no ranking.)

use std::collections::HashMap;

use ailk_format::TextIndex;

/// Collection statistics for one query's terms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollectionStats {
    /// Live documents (rows).
    pub docs: u64,
    /// Terms in the live documents.
    pub total_len: u64,
    /// Live documents holding each query term.
    pub df: HashMap<String, u64>,
}

impl CollectionStats {
    /// The statistics of `index`'s rows for which `live` holds, for `terms`.
    pub fn of(index: &TextIndex, terms: &[String], live: &dyn Fn(u32) -> bool) -> Self {
        let mut s = Self::default();
        for row in (0..index.rows()).filter(|&r| live(r)) {
            s.docs += 1;
            s.total_len += u64::from(index.doc_len(row));
        }
        for t in terms {
            let df = index.postings(t).iter().filter(|p| live(p.row)).count() as u64;
            s.df.insert(t.clone(), df);
        }
        s
    }

    /// Adds another file's statistics.
    pub fn add(&mut self, other: &Self) {
        self.docs += other.docs;
        self.total_len += other.total_len;
        for (t, df) in &other.df {
            *self.df.entry(t.clone()).or_default() += df;
        }
    }
}

/// BM25's parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bm25 {
    /// Term-frequency saturation (1.2).
    pub k1: f32,
    /// Length normalization (0.75).
    pub b: f32,
}

impl Default for Bm25 {
    fn default() -> Self {
        Self { k1: 1.2, b: 0.75 }
    }
}

impl Bm25 {
    /// `ln(1 + (N − df + 0.5) / (df + 0.5))`.
    pub fn idf(&self, stats: &CollectionStats, term: &str) -> f32 {
        let n = stats.docs as f64;
        let df = stats.df.get(term).copied().unwrap_or(0) as f64;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln() as f32
    }

    /// The scores of `index`'s live rows holding any of `terms`, with the table's `stats`:
    /// highest first, ties by row.
    pub fn score(
        &self,
        index: &TextIndex,
        terms: &[String],
        stats: &CollectionStats,
        live: &dyn Fn(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        if stats.docs == 0 {
            return Vec::new();
        }
        let avg = stats.total_len as f32 / stats.docs as f32;
        let mut scores: HashMap<u32, f32> = HashMap::new();
        for t in terms {
            let idf = self.idf(stats, t);
            for p in index.postings(t) {
                let row = p.row;
                if !live(row) {
                    continue;
                }
                let tf = p.tf() as f32;
                let norm = 1.0 - self.b + self.b * p.len as f32 / avg.max(f32::MIN_POSITIVE);
                *scores.entry(row).or_default() += idf * tf / (tf + self.k1 * norm);
            }
        }
        let mut out: Vec<(u32, f32)> = scores.into_iter().collect();
        out.sort_by(by_score);
        out
    }

    /// The `k` best of [`Bm25::score`] (the same order), without sorting every scored row.
    pub fn top(
        &self,
        index: &TextIndex,
        terms: &[String],
        stats: &CollectionStats,
        live: &dyn Fn(u32) -> bool,
        k: usize,
    ) -> Vec<(u32, f32)> {
        if k == 0 || stats.docs == 0 {
            return Vec::new();
        }
        let avg = (stats.total_len as f32 / stats.docs as f32).max(f32::MIN_POSITIVE);
        let mut scores: HashMap<u32, f32> = HashMap::new();
        for t in terms {
            let idf = self.idf(stats, t);
            for p in index.postings(t).iter().filter(|p| live(p.row)) {
                let tf = p.tf() as f32;
                let norm = 1.0 - self.b + self.b * p.len as f32 / avg;
                *scores.entry(p.row).or_default() += idf * tf / (tf + self.k1 * norm);
            }
        }
        let mut out: Vec<(u32, f32)> = scores.into_iter().collect();
        if out.len() > k {
            out.select_nth_unstable_by(k - 1, by_score);
            out.truncate(k);
        }
        out.sort_by(by_score);
        out
    }
}

/// Highest score first, ties by row.
fn by_score(a: &(u32, f32), b: &(u32, f32)) -> std::cmp::Ordering {
    b.1.total_cmp(&a.1).then(a.0.cmp(&b.0))
}
