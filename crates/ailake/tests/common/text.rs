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
