//! Deferred indexing (flat until the build lands, then the index), crashes in the middle of
//! background builds (SIGKILL, then `resume_indexing`), idempotent writes across writers, and
//! bad input that must commit nothing.
//!
//! Child processes are this test binary re-run on `child_entry` with `AILK_CHILD_*` set.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use ailake::prelude::*;
use ailake::writer::WriterError;
use ailake::MultiVectorBatch;
use arrow_array::{ArrayRef, Int64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use common::*;

const K: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_is_exact_at_once_then_served_by_the_index() {
    let (base, queries) = dataset(10_000, 20);
    let dir = tempfile::tempdir().unwrap();
    // A slower build (ef_construction 400) keeps both builds running past the commit.
    let (catalog, wh) = lake(dir.path()).await;
    let policy = WritePolicy {
        hnsw: ailake::index::HnswParams { ef_construction: 400, ..Default::default() },
        ..WritePolicy::default()
    };
    let spec = VectorSpec::new("embedding", DIM as u32, Metric::Cosine);
    let w = TableWriter::create_or_open(catalog, wh, policy, ident("deferred"), &attributes(), &[spec])
        .await
        .unwrap();
    for b in 0..2 {
        let written = w
            .write_batch_deferred(&rows(b * 5000..(b + 1) * 5000), &base[b * 5000..(b + 1) * 5000])
            .await
            .unwrap();
        assert!(!written.indexed);
    }
    w.commit().await.unwrap();
    // Right after commit the builds (5000 × 384 HNSW each) are still running: exact scans.
    let s = session(dir.path(), "deferred").await;
    let p = SearchParams { prune: false, ..SearchParams::default() };
    let mut flat = Vec::new();
    for q in &queries {
        flat.push(ids(&s.search(q, K, &p).await.unwrap()));
    }
    let c = s.counters();
    assert_eq!(c.shards_flat_scanned, 2 * queries.len() as u64, "{c:?}");
    assert_eq!(c.shards_index_searched, 0);
    let truth: Vec<Vec<i64>> = queries.iter().map(|q| exact(&base, q, K)).collect();
    assert!(recall(&flat, &truth) >= 0.999, "flat results are exact");

    w.wait_indexed().await.unwrap();
    let s = s.refresh().await.unwrap();
    assert_eq!(s.shard_count(), 2);
    let mut indexed = Vec::new();
    for q in &queries {
        indexed.push(ids(&s.search(q, K, &p).await.unwrap()));
    }
    let c = s.counters();
    assert_eq!(c.shards_index_searched, 2 * queries.len() as u64, "{c:?}");
    assert_eq!(c.shards_flat_scanned, 0);
    assert!(recall(&indexed, &flat) >= 0.95, "index vs flat: {}", recall(&indexed, &flat));
    // The table went through a replace per shard, rows unchanged.
    assert_eq!(s.row_count(), 10_000);
}

/// The child side, run only by the parent test (`--ignored`): ignored in a normal run, so it
/// never counts as a passing test.
#[test]
#[ignore = "child process entry point, run by the crash test"]
fn child_entry() {
    let Ok(dir) = std::env::var("AILK_CHILD_DIR") else { return };
    let dir = PathBuf::from(dir);
    let round: usize = std::env::var("AILK_CHILD_ROUND").unwrap().parse().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (base, _) = dataset(8000, 1);
        let w = writer(&dir, "crash").await;
        let r = round * 4000..(round + 1) * 4000;
        w.write_batch_deferred(&rows(r.clone()), &base[r.start % 8000..r.start % 8000 + 4000]).await.unwrap();
        w.commit().await.unwrap();
        println!("COMMITTED");
        w.wait_indexed().await.unwrap();
        println!("INDEXED");
        tokio::time::sleep(Duration::from_secs(120)).await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_during_background_build_then_resume() {
    let dir = tempfile::tempdir().unwrap();
    for (round, delay_ms) in [0u64, 150, 600].into_iter().enumerate() {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["child_entry", "--exact", "--ignored", "--nocapture", "--test-threads", "1"])
            .env("AILK_CHILD_DIR", dir.path())
            .env("AILK_CHILD_ROUND", round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut committed = false;
        for line in lines {
            if line.unwrap().contains("COMMITTED") {
                committed = true;
                break;
            }
        }
        assert!(committed, "child committed");
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL mid-build
        child.wait().unwrap();
        // Every committed row is searchable.
        let s = session(dir.path(), "crash").await;
        assert_eq!(s.row_count(), 4000 * (round as u64 + 1), "round {round}");
        let got = s.search(&vec![0.1; DIM], K, &SearchParams::default()).await.unwrap();
        assert_eq!(got.num_rows(), K);
    }
    let w = writer(dir.path(), "crash").await;
    let resumed = w.resume_indexing().await.unwrap();
    assert!(resumed >= 1, "at least the last killed build is resumed");
    assert_eq!(w.resume_indexing().await.unwrap(), 0, "nothing left to index");
    let s = session(dir.path(), "crash").await;
    assert_eq!(s.row_count(), 12_000);
    let p = SearchParams { prune: false, ..SearchParams::default() };
    s.search(&vec![0.1; DIM], K, &p).await.unwrap();
    let c = s.counters();
    assert_eq!((c.shards_index_searched, c.shards_flat_scanned), (3, 0), "{c:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_batch_id_lands_once_across_writers() {
    let (base, _) = dataset(300, 1);
    let dir = tempfile::tempdir().unwrap();
    let writers = [
        writer(dir.path(), "idem").await,
        writer(dir.path(), "idem").await,
        writer(dir.path(), "idem").await,
    ];
    // Two writers stage the same batch before either commits; then everyone retries it.
    let mut written = 0;
    for w in &writers[..2] {
        written += w.write_batch_idempotent("batch-1", &rows(0..100), &base[..100]).await.unwrap().is_some()
            as usize;
    }
    assert_eq!(written, 2, "neither saw a commit yet");
    let (a, b) = tokio::join!(writers[0].commit(), writers[1].commit());
    a.unwrap();
    b.unwrap();
    for i in 0..10 {
        let w = &writers[i % 3];
        let again = w.write_batch_idempotent("batch-1", &rows(0..100), &base[..100]).await.unwrap();
        assert!(again.is_none(), "attempt {i} must be a no-op");
        w.commit().await.unwrap();
    }
    writers[2].write_batch_idempotent("batch-2", &rows(100..300), &base[100..300]).await.unwrap().unwrap();
    writers[2].commit().await.unwrap();
    let s = session(dir.path(), "idem").await;
    assert_eq!(s.row_count(), 300, "one copy of batch-1 and of batch-2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_typed_and_commits_nothing() {
    let (base, _) = dataset(100, 1);
    let dir = tempfile::tempdir().unwrap();
    let w = writer(dir.path(), "bad").await;
    w.write_batch(&rows(0..50), &base[..50]).await.unwrap();
    let first = w.commit().await.unwrap();

    let err = w.write_batch(&rows(50..60), &base[50..59]).await.unwrap_err();
    assert!(matches!(err, WriterError::LengthMismatch { rows: 10, embeddings: 9, .. }), "{err}");
    let mut short = base[50..60].to_vec();
    short[3].pop();
    let err = w.write_batch(&rows(50..60), &short).await.unwrap_err();
    assert!(matches!(err, WriterError::WrongDimension { row: 3, got: 383, .. }), "{err}");
    let mut nan = base[50..60].to_vec();
    nan[4][7] = f32::NAN;
    let err = w.write_batch(&rows(50..60), &nan).await.unwrap_err();
    assert!(matches!(err, WriterError::NonFinite { row: 4, .. }), "{err}");
    let err = w
        .write_batch_multi(&rows(50..60), &[MultiVectorBatch::new("other", base[50..60].to_vec())])
        .await
        .unwrap_err();
    assert!(matches!(err, WriterError::MissingVectorColumn(ref c) if c == "other"), "{err}");
    let err = w.write_batch_multi(&rows(50..60), &[]).await.unwrap_err();
    assert!(matches!(err, WriterError::MissingVectorColumn(ref c) if c == "embedding"), "{err}");
    let other = Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("score", DataType::Int64, true),
    ]);
    let batch = RecordBatch::try_new(
        std::sync::Arc::new(other.clone()),
        vec![
            std::sync::Arc::new(Int64Array::from_iter_values(0..10)) as ArrayRef,
            std::sync::Arc::new(Int64Array::from_iter_values(0..10)) as ArrayRef,
        ],
    )
    .unwrap();
    let err = w.write_batch(&batch, &base[..10]).await.unwrap_err();
    assert!(matches!(err, WriterError::SchemaMismatch(_)), "{err}");
    // Reopening with a different layout is refused too.
    let (catalog, wh) = lake(dir.path()).await;
    let spec = VectorSpec::new("embedding", 128, Metric::L2);
    let err = TableWriter::create_or_open(
        catalog,
        wh,
        WritePolicy::default(),
        ident("bad"),
        &attributes(),
        &[spec],
    )
    .await;
    assert!(matches!(err, Err(WriterError::SchemaMismatch(_))));
    assert_eq!(w.commit().await.unwrap(), first, "nothing staged: commit is a no-op");

    // A writer whose parent snapshot went stale commits nothing.
    let stale = writer(dir.path(), "bad").await.with_parent_snapshot(first);
    w.write_batch(&rows(60..70), &base[60..70]).await.unwrap();
    let second = w.commit().await.unwrap();
    stale.write_batch(&rows(70..80), &base[70..80]).await.unwrap();
    let err = stale.commit().await.unwrap_err();
    assert!(
        matches!(err, WriterError::Catalog(ailake::catalog::CatalogError::StaleParent { expected: Some(e), actual: Some(a) }) if e == first && a == second),
        "{err}"
    );
    let s = session(dir.path(), "bad").await;
    assert_eq!(s.snapshot_id(), Some(second));
    assert_eq!(s.row_count(), 60);
    let empty = writer(dir.path(), "empty").await;
    assert_eq!(empty.commit().await.unwrap(), 0, "empty table, nothing staged");
}
