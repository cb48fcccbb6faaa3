//! `cargo xtask sample`: rebuilds the committed real sample `data/sample` from the team's
//! dataset (`../shared/data/debian-minilm`): the first 4,000 base rows and 100 queries as
//! float16, their texts, and the exact top-100 by cosine over the float16 values.

use std::path::Path;

use ailk_testkit::sample::{cosine_truth, TRUTH_K};
use ailk_testkit::texmex::{read_fvecs, Matrix};
use ailk_testkit::{npy, sample};
use anyhow::{ensure, Context, Result};

const ROWS: usize = 4_000;
const QUERIES: usize = 100;

/// Keeps the first `rows` lines of a `row<TAB>text` file.
fn head(path: &Path, rows: usize) -> Result<String> {
    let raw = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let lines: Vec<&str> = raw.lines().take(rows).collect();
    ensure!(lines.len() == rows, "{} has fewer than {rows} lines", path.display());
    Ok(lines.join("\n") + "\n")
}

/// The values as stored: float16 and back.
fn through_f16(m: Matrix<f32>) -> Result<Matrix<f32>> {
    Ok(npy::parse_f32(&npy::encode_f16(&m))?)
}

pub(crate) fn sample(root: &Path) -> Result<()> {
    let src = root.join("../shared/data/debian-minilm");
    let out = root.join("data/sample");
    std::fs::create_dir_all(&out)?;
    let base = through_f16(read_fvecs(src.join("base.fvecs"), Some(ROWS))?)?;
    let queries = through_f16(read_fvecs(src.join("query.fvecs"), Some(QUERIES))?)?;
    ensure!(
        base.rows() == ROWS && queries.rows() == QUERIES,
        "the dataset at {} is too small",
        src.display()
    );
    let truth = cosine_truth(&base, &queries, TRUTH_K);
    let gt = Matrix { dim: TRUTH_K, data: truth.iter().flatten().map(|&i| i as i32).collect() };
    std::fs::write(out.join("base.npy"), npy::encode_f16(&base))?;
    std::fs::write(out.join("query.npy"), npy::encode_f16(&queries))?;
    std::fs::write(out.join("gt.npy"), npy::encode_i32(&gt))?;
    std::fs::write(out.join("texts.tsv"), head(&src.join("texts.tsv"), ROWS)?)?;
    std::fs::write(out.join("queries.tsv"), head(&src.join("queries.tsv"), QUERIES)?)?;
    // Read it back the way the tests do.
    let s = sample::Sample::load_from(&out)?;
    ensure!(s.base == base && s.truth == truth, "the written sample does not read back");
    let bytes: u64 =
        sample::FILES.iter().map(|f| std::fs::metadata(out.join(f)).map_or(0, |m| m.len())).sum();
    println!("wrote {} ({ROWS} rows, {QUERIES} queries, {:.2} MB)", out.display(), bytes as f64 / 1e6);
    Ok(())
}
