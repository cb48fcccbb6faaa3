//! Filtered search inside the index on the real sample (384-d MiniLM, cosine): recall@10
//! against the exact filtered answer at selectivities 50%, 10%, 1% and 0.1%, through the
//! filtered HNSW walk, the IVF-PQ scan and the cost-based choice; always `min(k, matching)`
//! rows, every one matching; shards pruned by their column bounds.

mod common;

use std::sync::Arc;

use ailake::prelude::*;
use ailake::{FilterStrategy, Op};
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use common::*;

const ROWS: usize = 4000;
const K: usize = 10;

/// Row `i`'s bucket: a scrambled `0..1000`, so every selectivity spreads over both files.
fn bucket(i: usize) -> i64 {
    ((i * 7919) % 1000) as i64
}

fn schema() -> Schema {
    Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("bucket", DataType::Int64, false),
        Field::new("text", DataType::Utf8, true),
    ])
}

fn attrs(ids: std::ops::Range<usize>) -> RecordBatch {
    let id: ArrayRef = Arc::new(Int64Array::from_iter_values(ids.clone().map(|i| i as i64)));
    let b: ArrayRef = Arc::new(Int64Array::from_iter_values(ids.clone().map(bucket)));
    let text: ArrayRef = Arc::new(StringArray::from_iter_values(ids.map(|i| format!("doc {i}"))));
    RecordBatch::try_new(Arc::new(schema()), vec![id, b, text]).unwrap()
}

/// Exact filtered top-k (cosine) of `q` over the rows `keep` admits.
fn truth(base: &[Vec<f32>], q: &[f32], keep: impl Fn(usize) -> bool) -> Vec<i64> {
    let kept: Vec<usize> = (0..base.len()).filter(|&i| keep(i)).collect();
    let rows: Vec<Vec<f32>> = kept.iter().map(|&i| base[i].clone()).collect();
    exact(&rows, q, K).into_iter().map(|j| kept[j as usize] as i64).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filtered_search_keeps_recall_at_every_selectivity() {
    let (base, queries) = dataset(ROWS, 40);
    let dir = tempfile::tempdir().unwrap();
    let catalog =
        Catalog::local(dir.path().join("catalog.db"), "default", dir.path().join("wh")).await.unwrap();
    let spec = VectorSpec::new("embedding", DIM as u32, Metric::Cosine);
    let ident = TableIdent::new("docs", "f").unwrap();
    let table = catalog.create_table(&ident, &schema(), &[spec]).await.unwrap();
    let writer = table.writer(WritePolicy::default()).unwrap();
    // One HNSW file and one IVF-PQ file, 2,000 rows each.
    let half = ROWS / 2;
    let flat = |r: std::ops::Range<usize>| base[r].iter().flatten().copied().collect::<Vec<f32>>();
    let hnsw = WriteOptions::default();
    let ivf = WriteOptions::default().index(IndexChoice::IvfPq(None));
    writer.write_flat(&attrs(0..half), &[("embedding", &flat(0..half))], &hnsw).await.unwrap();
    writer.write_flat(&attrs(half..ROWS), &[("embedding", &flat(half..ROWS))], &ivf).await.unwrap();
    writer.commit().await.unwrap();
    let session = table.refresh().await.unwrap().search().await.unwrap();

    for below in [500i64, 100, 10, 1] {
        let keep = |i: usize| bucket(i) < below;
        let matching = (0..ROWS).filter(|&i| keep(i)).count();
        let truths: Vec<Vec<i64>> = queries.iter().map(|q| truth(&base, q, keep)).collect();
        for strategy in [FilterStrategy::Auto, FilterStrategy::Index, FilterStrategy::Exact] {
            let params = SearchParams {
                filter: Some(Filter::cmp("bucket", Op::Lt, below)),
                filter_strategy: strategy,
                prune: false,
                ..Default::default()
            };
            let before = session.counters();
            let mut got = Vec::new();
            for q in &queries {
                let res = session.search(q, K, &params).await.unwrap();
                let ids = ids(&res);
                assert_eq!(ids.len(), K.min(matching), "{below}/1000 {strategy:?}");
                assert!(
                    ids.iter().all(|&i| keep(i as usize)),
                    "{below}/1000 {strategy:?}: a row outside the filter"
                );
                got.push(ids);
            }
            let r = recall(&got, &truths);
            let c = session.counters();
            let through_index = c.filtered_index_searches - before.filtered_index_searches;
            eprintln!("selectivity {below}/1000 {strategy:?}: recall@10 {r:.3}, filtered index searches {through_index}");
            assert!(r >= 0.95, "selectivity {below}/1000 {strategy:?}: recall@10 {r:.3}");
            match strategy {
                FilterStrategy::Index => assert_eq!(through_index, 2 * queries.len() as u64),
                FilterStrategy::Exact => assert_eq!(through_index, 0),
                FilterStrategy::Auto => {}
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_whose_bounds_exclude_the_filter_are_never_opened() {
    let (base, queries) = dataset(1200, 1);
    let dir = tempfile::tempdir().unwrap();
    let catalog =
        Catalog::local(dir.path().join("catalog.db"), "default", dir.path().join("wh")).await.unwrap();
    let spec = VectorSpec::new("embedding", DIM as u32, Metric::Cosine);
    let ident = TableIdent::new("docs", "p").unwrap();
    let table = catalog.create_table(&ident, &schema(), &[spec]).await.unwrap();
    let writer = table.writer(WritePolicy::default()).unwrap();
    for f in 0..3 {
        let r = f * 400..(f + 1) * 400;
        let values: Vec<f32> = base[r.clone()].iter().flatten().copied().collect();
        writer.write_flat(&attrs(r), &[("embedding", &values)], &WriteOptions::default()).await.unwrap();
    }
    writer.commit().await.unwrap();
    let session = table.refresh().await.unwrap().search().await.unwrap();
    // ids 450..500 live in the second file only.
    let params = SearchParams {
        filter: Some(Filter::cmp("id", Op::Ge, 450i64).and(Filter::cmp("id", Op::Lt, 500i64))),
        ..Default::default()
    };
    let got = ids(&session.search(&queries[0], K, &params).await.unwrap());
    assert_eq!(got.len(), K);
    assert!(got.iter().all(|i| (450..500).contains(i)));
    let c = session.counters();
    assert_eq!((c.shards_pruned_by_filter, c.shards_visited), (2, 1), "{c:?}");
}
