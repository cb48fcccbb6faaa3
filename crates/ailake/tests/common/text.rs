//! Tables of the real sample's texts for the full-text tests: `id`, `text` (the 4,000 Debian
//! package descriptions of `data/sample`) and the sample's embeddings.
#![allow(dead_code)]

use std::sync::Arc;

use ailake::prelude::*;
use ailake::TextSpec;

use super::{attributes, dataset, ident, lake};

pub fn tsv(name: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/sample").join(name);
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.split_once('\t').map_or("", |(_, t)| t).to_string())
        .collect()
}

/// `docs.<name>`: the sample's rows (id, text, embedding) in files of `per` rows, one commit,
/// `text` indexed with the simple analyzer.
pub async fn sample_table(dir: &std::path::Path, name: &str, per: usize) -> Table {
    sample_table_with(dir, name, per, &[TextSpec::new("text")]).await
}

/// [`sample_table`] with the text columns `texts`.
pub async fn sample_table_with(dir: &std::path::Path, name: &str, per: usize, texts: &[TextSpec]) -> Table {
    let (catalog, wh) = lake(dir).await;
    let catalog = Catalog::new(catalog, wh);
    let spec = VectorSpec::new("embedding", super::DIM as u32, Metric::Cosine);
    let table = catalog.create_table_with_text(&ident(name), &attributes(), &[spec], texts).await.unwrap();
    let texts = tsv("texts.tsv");
    let (base, _) = dataset(texts.len(), 1);
    let writer = table.writer(WritePolicy::default()).unwrap();
    for start in (0..texts.len()).step_by(per) {
        let end = (start + per).min(texts.len());
        let batch = text_batch(start..end, &texts);
        let values: Vec<f32> = base[start..end].iter().flatten().copied().collect();
        writer.write_flat(&batch, &[("embedding", &values)], &WriteOptions::default()).await.unwrap();
    }
    writer.commit().await.unwrap();
    table.refresh().await.unwrap()
}

pub fn text_batch(rows: std::ops::Range<usize>, texts: &[String]) -> arrow_array::RecordBatch {
    use arrow_array::{ArrayRef, Int64Array, StringArray};
    let id: ArrayRef = Arc::new(Int64Array::from_iter_values(rows.clone().map(|i| i as i64)));
    let text: ArrayRef = Arc::new(StringArray::from_iter_values(rows.map(|i| texts[i].clone())));
    arrow_array::RecordBatch::try_new(Arc::new(attributes()), vec![id, text]).unwrap()
}

/// `bm25s`'s top 10 of each query over the rows `live` (as (row, score)).
pub fn reference(texts: &[String], live: &[usize], queries: &[Vec<String>]) -> Vec<Vec<(usize, f64)>> {
    let analyzer = ailake::index::text::Analyzer::default();
    let docs: Vec<Vec<String>> = live.iter().map(|&r| analyzer.terms(&texts[r])).collect();
    let input = serde_json::json!({"docs": docs, "queries": queries, "k": 10});
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/bm25_reference.py");
    let mut child = std::process::Command::new(ailk_testkit::python())
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), input.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "bm25s failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|p| (live[p[0].as_u64().unwrap() as usize], p[1].as_f64().unwrap()))
                .collect()
        })
        .collect()
}
