//! Hostile input through the Rust API: a huge `k` returns every live row (and allocates
//! nothing by it), zero vectors under cosine are refused, deep or long filters are typed
//! errors or shallow trees, and nothing changes the snapshot.

mod support;

use std::sync::Arc;

use ailake::prelude::*;
use ailake::{Op, DISTANCE_COLUMN};
use support::*;

async fn hnsw_table(dir: &std::path::Path, files: usize, rows: usize) -> Table {
    let t = table(dir, "t").await;
    let w = t.writer(WritePolicy::default()).unwrap();
    for f in 0..files {
        w.write(&batch(f * rows..(f + 1) * rows), &WriteOptions::default().index(IndexChoice::Hnsw))
            .await
            .unwrap();
    }
    w.commit().await.unwrap();
    t.refresh().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_k_above_the_live_rows_returns_every_live_row_nearest_first() {
    let dir = tempfile::tempdir().unwrap();
    let t = hnsw_table(dir.path(), 3, 101).await;
    t.delete(&Filter::cmp("id", Op::Lt, 7)).await.unwrap();
    let t = t.refresh().await.unwrap();
    let s = t.search().await.unwrap();
    let q = vectors(5..6, DIM);
    for k in [296, 303, 1_000_000, usize::MAX] {
        let got = s.search(&q, k, &SearchParams::default()).await.unwrap();
        let mut ids = ids(&got);
        let d = got.column_by_name(DISTANCE_COLUMN).unwrap();
        let d = d.as_any().downcast_ref::<arrow_array::Float32Array>().unwrap();
        assert!(d.values().windows(2).all(|w| w[0] <= w[1]), "nearest first");
        ids.sort_unstable();
        assert_eq!(ids, (7..303).collect::<Vec<_>>(), "k = {k}");
    }
    // Every row is found by its own vector (no unreachable node).
    for i in (7..303).step_by(5) {
        let got = s.search(&vectors(i..i + 1, DIM), 1, &SearchParams::default()).await.unwrap();
        assert_eq!(ids(&got), vec![i as i64], "row {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_vectors_under_cosine_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cat = catalog(dir.path()).await;
    let specs = [VectorSpec::new("embedding", DIM, Metric::Cosine)];
    let t = cat.create_table(&ident("cos"), &attributes(), &specs).await.unwrap();
    let w = t.writer(WritePolicy::default()).unwrap();
    w.write(&batch(0..20), &WriteOptions::default()).await.unwrap();
    w.commit().await.unwrap();
    let before = t.refresh().await.unwrap().snapshot_id();
    let mut values = vectors(20..30, DIM);
    values[3 * DIM as usize..4 * DIM as usize].fill(0.0);
    let mut cols = rows(20..30).columns().to_vec();
    cols.push(vector_array(&values, DIM));
    let mut fields: Vec<arrow_schema::Field> =
        attributes().fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(arrow_schema::Field::new("embedding", cols[2].data_type().clone(), false));
    let bad = arrow_array::RecordBatch::try_new(Arc::new(arrow_schema::Schema::new(fields)), cols).unwrap();
    let err = w.write(&bad, &WriteOptions::default()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.to_string().contains("row 3"), "{err}");
    assert_eq!(w.commit().await.unwrap(), before.unwrap());
    let s = t.search().await.unwrap();
    let err = s.search(&vec![0.0; DIM as usize], 5, &SearchParams::default()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert_eq!(live_ids(&t).await, (0..20).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_and_long_filters_are_typed_errors_or_answered() {
    let dir = tempfile::tempdir().unwrap();
    let t = hnsw_table(dir.path(), 2, 150).await;
    let s = t.search().await.unwrap();
    let q = vectors(0..1, DIM);
    let deep = format!("{}id = 1{}", "(".repeat(100_000), ")".repeat(100_000));
    let err = Filter::parse(&deep).unwrap_err();
    assert_eq!(AilakeError::from(err).kind(), ErrorKind::InvalidInput);
    let list: Vec<String> = (0..200_000).map(|i| (i * 2).to_string()).collect();
    let f = Filter::parse(&format!("id IN ({})", list.join(","))).unwrap();
    let got = s.search(&q, 1_000, &SearchParams { filter: Some(f), ..Default::default() }).await.unwrap();
    let mut got = ids(&got);
    got.sort_unstable();
    assert_eq!(got, (0..300).filter(|i| i % 2 == 0).collect::<Vec<_>>());
    assert_eq!(live_ids(&t).await, (0..300).collect::<Vec<_>>());
}
