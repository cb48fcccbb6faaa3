//! The in-repo real sample (`data/sample`): 4,000 Debian package descriptions with their
//! all-MiniLM-L6-v2 embeddings (384-d, unit length, stored as float16), 100 held-out queries
//! and their exact top-100 neighbours by cosine over the stored values. Every test that needs
//! real embeddings reads this, so a clone of the repository alone passes `cargo test`;
//! `data/sample/README.md` says where it comes from and how it is rebuilt.

use std::io::{Error, ErrorKind, Result};
use std::path::{Path, PathBuf};

use crate::npy;
use crate::texmex::Matrix;

/// The sample's files, by name.
pub const FILES: [&str; 5] = ["base.npy", "query.npy", "gt.npy", "texts.tsv", "queries.tsv"];

/// Number of true neighbours stored per query.
pub const TRUTH_K: usize = 100;

/// The real sample, decoded to `f32`.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Base vectors (rows × 384).
    pub base: Matrix<f32>,
    /// Held-out query vectors.
    pub queries: Matrix<f32>,
    /// Per query, the base rows nearest by cosine, best first ([`TRUTH_K`] of them).
    pub truth: Vec<Vec<u32>>,
    /// The text of each base row.
    pub texts: Vec<String>,
    /// The text of each query.
    pub query_texts: Vec<String>,
}

/// The committed sample's directory (`<repo>/data/sample`).
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample")
}

/// The text column of a `row<TAB>text` file.
pub fn parse_texts(raw: &str) -> Vec<String> {
    raw.lines().map(|l| l.split_once('\t').map_or(l, |(_, t)| t).to_string()).collect()
}

impl Sample {
    /// Loads the committed sample (see [`dir`]).
    pub fn load() -> Result<Sample> {
        Self::load_from(&dir())
    }

    /// Loads a sample from `dir` (the files of [`FILES`]).
    pub fn load_from(dir: &Path) -> Result<Sample> {
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .map_err(|e| Error::new(e.kind(), format!("{}: {e}", dir.join(name).display())))
        };
        let text = |name: &str| {
            String::from_utf8(read(name)?)
                .map_err(|e| Error::new(ErrorKind::InvalidData, format!("{name}: {e}")))
        };
        Self::parse(&read(FILES[0])?, &read(FILES[1])?, &read(FILES[2])?, &text(FILES[3])?, &text(FILES[4])?)
    }

    /// Decodes a sample from the bytes of its files (in the order of [`FILES`]).
    pub fn parse(
        base: &[u8],
        queries: &[u8],
        truth: &[u8],
        texts: &str,
        query_texts: &str,
    ) -> Result<Sample> {
        let base = npy::parse_f32(base)?;
        let queries = npy::parse_f32(queries)?;
        let gt = npy::parse_i64(truth)?;
        let truth: Vec<Vec<u32>> =
            gt.data.chunks_exact(gt.dim.max(1)).map(|r| r.iter().map(|&i| i as u32).collect()).collect();
        let (texts, query_texts) = (parse_texts(texts), parse_texts(query_texts));
        if texts.len() != base.rows() || query_texts.len() != queries.rows() || truth.len() != queries.rows()
        {
            return Err(Error::new(
                ErrorKind::InvalidData,
                format!(
                    "sample files disagree: {} vectors / {} texts, {} queries / {} texts / {} truth rows",
                    base.rows(),
                    texts.len(),
                    queries.rows(),
                    query_texts.len(),
                    truth.len()
                ),
            ));
        }
        Ok(Sample { base, queries, truth, texts, query_texts })
    }

    /// The first `rows` base vectors as owned rows.
    pub fn base_rows(&self, rows: usize) -> Vec<Vec<f32>> {
        self.base.data.chunks_exact(self.base.dim).take(rows).map(<[f32]>::to_vec).collect()
    }

    /// `rows` base vectors as owned rows: the sample's rows, then (past its size) noisy unit
    /// copies of them (seeded Gaussian noise of σ 0.01 per coordinate, renormalized) for tests
    /// that need more rows than the repository carries. Compute exact truth over the result.
    pub fn base_rows_padded(&self, rows: usize) -> Vec<Vec<f32>> {
        use rand::{Rng, SeedableRng};
        let mut out = self.base_rows(rows);
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x5a3b1e_u64.wrapping_add(rows as u64));
        while out.len() < rows {
            let src = self.base.row(out.len() % self.base.rows());
            let mut v: Vec<f32> = src
                .iter()
                .map(|&x| {
                    // Box–Muller from two uniforms.
                    let (u1, u2): (f32, f32) = (rng.random_range(f32::EPSILON..1.0), rng.random());
                    x + 0.01 * (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
                })
                .collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter_mut().for_each(|x| *x /= norm);
            out.push(v);
        }
        out
    }

    /// The first `rows` queries as owned rows.
    pub fn query_rows(&self, rows: usize) -> Vec<Vec<f32>> {
        self.queries.data.chunks_exact(self.queries.dim).take(rows).map(<[f32]>::to_vec).collect()
    }

    /// The true top-`k` of the first `queries` queries.
    pub fn truth_top(&self, queries: usize, k: usize) -> Vec<Vec<u32>> {
        self.truth.iter().take(queries).map(|t| t[..k.min(t.len())].to_vec()).collect()
    }
}

/// Exact top-`k` rows of each query by cosine, computed in f64; ties go to the lower row.
pub fn cosine_truth(base: &Matrix<f32>, queries: &Matrix<f32>, k: usize) -> Vec<Vec<u32>> {
    let norm = |v: &[f32]| v.iter().map(|&x| x as f64 * x as f64).sum::<f64>().sqrt().max(f64::MIN_POSITIVE);
    let norms: Vec<f64> = (0..base.rows()).map(|i| norm(base.row(i))).collect();
    (0..queries.rows())
        .map(|q| {
            let query = queries.row(q);
            let qn = norm(query);
            let mut scored: Vec<(f64, u32)> = (0..base.rows())
                .map(|i| {
                    let dot: f64 = base.row(i).iter().zip(query).map(|(&a, &b)| a as f64 * b as f64).sum();
                    (1.0 - dot / (norms[i] * qn), i as u32)
                })
                .collect();
            scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            scored.into_iter().take(k).map(|(_, i)| i).collect()
        })
        .collect()
}
