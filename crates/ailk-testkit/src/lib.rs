//! # ailk-testkit
//!
//! What tests, benchmarks and the CLI's demo need and the library does not: seeded synthetic
//! datasets ([`synthetic`]), the in-repo real sample ([`sample`]), TEXMEX `.fvecs`/`.ivecs`
//! files ([`texmex`]), NumPy `.npy` arrays ([`npy`]) and recall@k ([`recall_at_k`]). It depends on no ailake crate, so any crate's tests can use it.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod npy;
pub mod rustberg;
pub mod sample;
pub mod synthetic;
pub mod texmex;

/// The Python the interop tests drive (pyarrow, DuckDB, pyiceberg): `AILAKE_PYTHON`, else the
/// repository's `.venv` (which `bash .ci/run` creates). Panics, saying so, when neither exists.
pub fn python() -> std::path::PathBuf {
    if let Ok(p) = std::env::var("AILAKE_PYTHON") {
        return std::path::PathBuf::from(p);
    }
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    assert!(
        venv.exists(),
        "no Python for the interop tests: run `bash .ci/run` once (it creates .venv) or set AILAKE_PYTHON"
    );
    venv
}

/// Recall@k: the fraction of the true top-k ids found in the results, averaged over queries.
pub fn recall_at_k(results: &[Vec<u32>], truth: &[Vec<u32>], k: usize) -> f64 {
    let mut hits = 0usize;
    for (r, t) in results.iter().zip(truth) {
        let t = &t[..k.min(t.len())];
        hits += r.iter().take(k).filter(|id| t.contains(id)).count();
    }
    hits as f64 / (truth.len() * k).max(1) as f64
}

#[cfg(test)]
mod tests {
    #[test]
    fn recall_counts_true_neighbours_found() {
        let truth = vec![vec![1, 2, 3], vec![4, 5, 6]];
        assert_eq!(super::recall_at_k(&[vec![1, 2, 3], vec![4, 5, 6]], &truth, 3), 1.0);
        assert_eq!(super::recall_at_k(&[vec![3, 9, 1], vec![7, 8, 9]], &truth, 3), 2.0 / 6.0);
        assert_eq!(super::recall_at_k(&[vec![2], vec![4]], &truth, 1), 0.5);
    }
}
